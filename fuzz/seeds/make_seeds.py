"""Writes the seed inputs of every fuzz target into ../corpus/<target>/
(see docs/fuzzing.md). Deterministic: run it again and nothing changes.
The kept corpus has since been minimized with `cargo xtask fuzz --merge`,
which renames inputs by their SHA-1."""
import json, hashlib, io, tarfile, gzip, os, struct
C=os.path.join(os.path.dirname(os.path.abspath(__file__)),'..','corpus')
def w(t, name, data):
    if isinstance(data,str): data=data.encode()
    open(f'{C}/{t}/{name}','wb').write(data)
def sha(b): return 'sha256:'+hashlib.sha256(b).hexdigest()
def j(o): return json.dumps(o, indent=3 if False else None, separators=(',',':')).encode()

layer_tar=io.BytesIO()
with tarfile.open(fileobj=layer_tar, mode='w', format=tarfile.USTAR_FORMAT) as t:
    d=b'hello from hoist\n'; i=tarfile.TarInfo('etc/motd'); i.size=len(d); i.mtime=0; t.addfile(i, io.BytesIO(d))
layer=gzip.compress(layer_tar.getvalue(), mtime=0)
layer_plain=layer_tar.getvalue()
diffid=sha(layer_plain)
def config(arch, variant=None, os_='linux'):
    c={"architecture":arch,"os":os_,"config":{"Env":["PATH=/usr/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[diffid]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"ADD motd"}]}
    if variant: c["variant"]=variant
    return j(c)
OCI_M='application/vnd.oci.image.manifest.v1+json'; OCI_I='application/vnd.oci.image.index.v1+json'
D_M='application/vnd.docker.distribution.manifest.v2+json'; D_L='application/vnd.docker.distribution.manifest.list.v2+json'
def manifest(cfg, docker=False, extra=None):
    m={"schemaVersion":2,"mediaType":D_M if docker else OCI_M,
       "config":{"mediaType":"application/vnd.docker.container.image.v1+json" if docker else "application/vnd.oci.image.config.v1+json","digest":sha(cfg),"size":len(cfg)},
       "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip" if docker else "application/vnd.oci.image.layer.v1.tar+gzip","digest":sha(layer),"size":len(layer)}]}
    if extra: m.update(extra)
    return j(m)
plats=[("amd64",None),("arm64","v8"),("arm","v7"),("386",None)]
cfgs={p:config(*p) for p in plats}
mans={p:manifest(cfgs[p]) for p in plats}
dmans={p:manifest(cfgs[p],docker=True) for p in plats}
def index(ms, docker=False, extra=None, attest=False):
    es=[]
    for p,m in ms.items():
        pl={"architecture":p[0],"os":"linux"}
        if p[1]: pl["variant"]=p[1]
        es.append({"mediaType":D_M if docker else OCI_M,"digest":sha(m),"size":len(m),"platform":pl})
    if attest:
        am=manifest(b'{}', extra={"artifactType":"application/vnd.in-toto+json"})
        es.append({"mediaType":OCI_M,"digest":sha(am),"size":len(am),"platform":{"architecture":"unknown","os":"unknown"},"annotations":{"vnd.docker.reference.digest":es[0]["digest"],"vnd.docker.reference.type":"attestation-manifest"}})
    i={"schemaVersion":2,"mediaType":D_L if docker else OCI_I,"manifests":es}
    if extra: i.update(extra)
    return j(i)
win_index=j({"schemaVersion":2,"mediaType":OCI_I,"manifests":[{"mediaType":OCI_M,"digest":sha(b'x'),"size":1,"platform":{"architecture":"amd64","os":"windows","os.version":"10.0.17763.5329","os.features":["win32k"]}}]})
# document: first byte picks the declared media type (see DECLARED_TYPES)
docs=[(0,mans[plats[0]]),(2,mans[plats[1]]),(4,dmans[plats[0]]),(1,index(mans)),(3,index(dmans,docker=True)),(0,index(mans,attest=True)),(1,win_index),
      (0,manifest(cfgs[plats[0]],extra={"subject":{"mediaType":OCI_M,"digest":sha(b'y'),"size":1},"artifactType":"application/vnd.example+type","annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"}})),
      (1,j({"schemaVersion":2,"mediaType":OCI_I,"manifests":[]})),
      (0,j({"schemaVersion":2,"mediaType":OCI_I,"manifests":[{"mediaType":OCI_I,"digest":sha(b'z'),"size":1}]})),
      (5,j({"schemaVersion":1,"name":"library/alpine","tag":"latest","architecture":"amd64","fsLayers":[],"history":[],"signatures":[]})),
      (0,j({"mediaType":"application/vnd.oci.artifact.manifest.v1+json","artifactType":"x","blobs":[]})),
      (2,b'[1,2]'),(0,b'{"schemaVersion":2,"manifests":null,"layers":[]}')]
for n,(sel,d) in enumerate(docs): w('document',f'seed-{n}',bytes([sel])+d)

# docker config.json
cfgs_json=[{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},"localhost:5000":{"username":"u","password":"p"}}},
 {"auths":{"ghcr.io":{"identitytoken":"tok"}},"credHelpers":{"gcr.io":"gcloud","123456789.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"}},
 {"credsStore":"desktop","auths":{"registry.example.com":{}}},
 {"auths":{"registry.example.com":{"auth":"bm9jb2xvbg=="}},"HttpHeaders":{"User-Agent":"Docker-Client"},"psFormat":"table"},
 {"auths":{"http://localhost:5000":{"auth":"  dTpw "}},"credsStore":""}, {}]
for n,c in enumerate(cfgs_json): w('docker_config',f'seed-{n}',json.dumps(c,indent=2))
w('docker_config','seed-bad','{"auths":[]}')

hosts=['server = "https://registry-1.docker.io"\n\n[host."https://mirror.example.com"]\n  capabilities = ["pull", "resolve"]\n  ca = "/etc/certs/mirror.pem"\n',
 'server = "https://registry.example.com"\n\n[host."https://registry.example.com"]\n  capabilities = ["pull", "resolve", "push"]\n  skip_verify = true\n',
 '[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n  client = [["/etc/c.cert", "/etc/c.key"]]\n  [host."http://127.0.0.1:5000".header]\n    x-custom = ["a", "b"]\n',
 'server = "https://r.example.com:5000"\nca = ["a.pem", "b.pem"]\nclient = "combined.pem"\noverride_path = true\n[host."https://m1/v2"]\noverride_path = true\n',
 '[header]\nauthorization = "Bearer x"\n[host."m2.example.com"]\ncapabilities = ["pull"]\nclient = ["c.cert", "c.key"]\n',
 'server = "not a url"\n', 'capabilities = ["fly"]\n']
for n,h in enumerate(hosts): w('hosts_toml',f'seed-{n}',h)

chs=['Bearer realm="http://127.0.0.1:5000/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope"',
 'Basic realm="Registry Realm"', 'basic realm="x", Bearer realm="https://t/",service=s',
 'Negotiate, Basic realm="r", NTLM', 'Bearer realm="a\\"b",scope=""', 'Bearer service="no-realm"', 'Bearer realm=unquoted,service=x', 'Digest realm="d", qop="auth", nonce="abc"']
for n,c in enumerate(chs): w('challenge',f'seed-{n}',c)

# archives: even first byte = raw tar bytes; odd = entry records (see entries_to_tar)
def tarof(files):
    b=io.BytesIO()
    with tarfile.open(fileobj=b, mode='w', format=tarfile.USTAR_FORMAT) as t:
        for name,data,kind,link in files:
            i=tarfile.TarInfo(name); i.mtime=0
            if kind=='sym': i.type=tarfile.SYMTYPE; i.linkname=link
            elif kind=='hard': i.type=tarfile.LNKTYPE; i.linkname=link
            elif kind=='dir': i.type=tarfile.DIRTYPE
            else: i.size=len(data)
            t.addfile(i, io.BytesIO(data) if kind=='file' else None)
    return b.getvalue()
def records(files):
    out=b''
    for name,data,kind,link in files:
        k={'file':0,'hard':1,'sym':2,'dir':3}[kind]
        nb=name.encode(); lb=(link or '').encode()
        out+=bytes([k,len(nb)])+nb+bytes([len(lb)])+lb+struct.pack('<H',len(data))+data
    return out
small_layer=gzip.compress(b'', mtime=0)
p=("amd64",None)
cfg=cfgs[p]; man=mans[p]
def blob(d): return ('blobs/sha256/'+hashlib.sha256(d).hexdigest(), d, 'file', None)
idx=j({"schemaVersion":2,"mediaType":OCI_I,"manifests":[{"mediaType":OCI_M,"digest":sha(man),"size":len(man),"annotations":{"io.containerd.image.name":"docker.io/library/app:1.0","org.opencontainers.image.ref.name":"1.0"},"platform":{"architecture":"amd64","os":"linux"}}]})
oci=[('oci-layout',b'{"imageLayoutVersion":"1.0.0"}','file',None),('index.json',idx,'file',None),blob(cfg),blob(layer),blob(man)]
multi_idx=index({q:mans[q] for q in plats[:2]})
oci_multi_top=j({"schemaVersion":2,"mediaType":OCI_I,"manifests":[{"mediaType":OCI_I,"digest":sha(multi_idx),"size":len(multi_idx),"annotations":{"org.opencontainers.image.ref.name":"v2"}}]})
oci_multi=[('oci-layout',b'{"imageLayoutVersion":"1.0.0"}','file',None),('index.json',oci_multi_top,'file',None),blob(multi_idx),blob(mans[plats[0]]),blob(cfgs[plats[0]]),blob(mans[plats[1]]),blob(cfgs[plats[1]]),blob(layer)]
# a docker save archive (pre-25): manifest.json, config, layer.tar
dsave=[('manifest.json',j([{"Config":hashlib.sha256(cfg).hexdigest()+'.json',"RepoTags":["app:1.0"],"Layers":["abc/layer.tar"]}]),'file',None),
       (hashlib.sha256(cfg).hexdigest()+'.json',cfg,'file',None),('abc/','','dir',None),('abc/layer.tar',layer_plain,'file',None),('repositories',b'{"app":{"1.0":"abc"}}','file',None)]
dsave=[(a,(b.encode() if isinstance(b,str) else b),c,d) for a,b,c,d in dsave]
links=[('oci-layout',b'{"imageLayoutVersion":"1.0.0"}','file',None),('index.json',idx,'file',None),blob(cfg),blob(layer),('m',man,'file',None),('blobs/sha256/'+hashlib.sha256(man).hexdigest(),b'','sym','../../m')]
evil=[('../escape',b'x','file',None),('/abs',b'y','file',None),('blobs/sha256/00',b'z','hard','../../etc/passwd')]
seeds=[('oci',oci),('oci-multi',oci_multi),('docker-save',dsave),('links',links),('evil',evil)]
for name,files in seeds:
    w('archive',f'raw-{name}',b'\x00'+tarof(files))
    w('archive',f'entries-{name}',b'\x01'+records(files))
w('archive','raw-oci-gzip',b'\x00'+gzip.compress(tarof(oci),mtime=0))
