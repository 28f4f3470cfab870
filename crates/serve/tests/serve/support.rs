//! Stores with fixtures, a server on a free loopback port, and a raw
//! HTTP/1.1 exchange that sends the request line exactly as written (no
//! client library normalizes `..` or percent-encoding away).

use hoist::{CredentialsSource, Store, StoreOptions};
use hoist_serve::{ServeOptions, ServerHandle};
use hoist_testkit::{Fixture, FixtureSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A store in a fresh temporary directory, anonymous to registries.
pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path().join("root"),
        StoreOptions::default().credentials(CredentialsSource::Anonymous),
    )
    .unwrap();
    (dir, store)
}

/// A small four-platform fixture sharing one layer of `shared` bytes.
pub fn fixture(seed: u64, shared: usize) -> Fixture {
    Fixture::generate(&FixtureSpec::four_platforms(seed, shared, 4096)).unwrap()
}

/// Loads `fixture` into `store` as `name`.
pub fn load(store: &Store, fixture: &Fixture, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (repo, tag) = name.rsplit_once(':').unwrap();
    fixture.write_oci_layout(dir.path(), tag).unwrap();
    let report = store.load_path(dir.path(), Some(repo)).unwrap();
    assert_eq!(report.names, vec![name.to_owned()]);
}

/// Serves `store` on a free loopback port.
pub async fn serve(store: &Store) -> ServerHandle {
    hoist_serve::serve(
        store.clone(),
        ServeOptions::default().listen("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap()
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first error code of a distribution error body.
    pub fn error_code(&self) -> String {
        let json: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body))
        });
        json["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Sends `method target` with `headers` on a fresh connection and reads
/// the whole answer (the connection closes after it).
pub async fn request(
    server: &ServerHandle,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    stream
        .write_all(head(method, target, headers).as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse(&raw)
}

pub fn head(method: &str, target: &str, headers: &[(&str, &str)]) -> String {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Splits a raw response into status, headers and body.
pub fn parse(raw: &[u8]) -> Answer {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// Runs a tool, failing the test with its output if it fails.
pub fn run(program: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}\n{}",
        program.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `skopeo copy --all` of `{server}/team/app:1` (plain HTTP) into `dir:`
/// at `destination`, on a blocking thread so the server keeps serving.
pub async fn skopeo_copy_all_to_dir(
    skopeo: std::path::PathBuf,
    server: std::net::SocketAddr,
    destination: &std::path::Path,
) {
    let source = format!("docker://{server}/team/app:1");
    let destination = format!("dir:{}", destination.display());
    tokio::task::spawn_blocking(move || {
        run(
            &skopeo,
            &[
                "copy",
                "--all",
                "--src-tls-verify=false",
                &source,
                &destination,
            ],
        )
    })
    .await
    .unwrap();
}
