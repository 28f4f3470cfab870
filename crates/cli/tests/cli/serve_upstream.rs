//! `hoist serve --upstream`: a caching mirror of a real docker-registry,
//! whose pulled-through blobs a `hoist gc` in another process leaves alone.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::Stdio;

use crate::support::{Env, plain_registry};

/// A `hoist serve` child and the address it printed; killed on drop.
struct Mirror {
    child: std::process::Child,
    address: String,
}

impl Mirror {
    fn start(env: &Env, upstream: &str) -> Mirror {
        let mut child = env
            .hoist_std(&["serve", "--listen", "127.0.0.1:0", "--upstream", upstream])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut address = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        assert!(address.starts_with("127.0.0.1:"), "{address:?}");
        Mirror { child, address }
    }

    /// Sends a `GET` of `path` and returns the open connection.
    fn get(&self, path: &str) -> std::net::TcpStream {
        let mut stream = std::net::TcpStream::connect(&self.address).unwrap();
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .unwrap();
        stream
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a raw HTTP/1.1 answer, after checking its status line.
fn body(raw: &[u8], status: &str) -> Vec<u8> {
    assert!(
        raw.starts_with(format!("HTTP/1.1 {status}").as_bytes()),
        "{}",
        String::from_utf8_lossy(&raw[..raw.len().min(400)])
    );
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    raw[split..].to_vec()
}

#[test]
fn serve_upstream_pulls_through_and_gc_elsewhere_keeps_what_it_fetched() {
    let Some(registry) = plain_registry() else {
        return;
    };
    let seeder = Env::new();
    let name = format!("{}/team/app:1", registry.host());
    // A layer far larger than loopback's socket buffers: most of it moves
    // after the `hoist gc` below.
    let spec = hoist_testkit::FixtureSpec::four_platforms(76, 16 * 1024 * 1024, 4096);
    let fixture = seeder.seed(&name, &spec, &["--all-platforms"]);
    let layer = &fixture.images[0].layers[0];

    let env = Env::new();
    let mirror = Mirror::start(&env, &registry.host());
    let manifest = mirror.get("/v2/team/app/manifests/1");
    let mut answer = Vec::new();
    let mut manifest = manifest;
    manifest.read_to_end(&mut answer).unwrap();
    let index = body(&answer, "200");
    assert_eq!(
        hoist::content::Digest::sha256_of(&index).as_str(),
        fixture.index.digest
    );

    let mut transfer = mirror.get(&format!("/v2/team/app/blobs/{}", layer.digest));
    let mut raw = vec![0; 64 * 1024];
    transfer.read_exact(&mut raw).unwrap();
    env.ok(&["gc"]);
    transfer.read_to_end(&mut raw).unwrap();
    assert_eq!(
        hoist::content::Digest::sha256_of(&body(&raw, "200")).as_str(),
        layer.digest
    );

    // Stored under the mirror's lease, the tag named: a GC keeps both.
    env.ok(&["gc"]);
    let blob = env
        .root()
        .join("content/blobs/sha256")
        .join(layer.digest.trim_start_matches("sha256:"));
    assert!(blob.exists(), "gc removed {}", blob.display());
    let images = env.ok(&["images", "-q"]);
    assert!(images.lines().any(|line| line.trim() == name), "{images}");
    let leases = env.ok(&["lease", "ls"]);
    assert!(leases.contains("serve-pull-through"), "{leases}");
}

#[test]
fn serve_refuses_a_bad_upstream() {
    let env = Env::new();
    let line = env.fails(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "registry.example/Team",
        ],
        2,
    );
    assert!(line.contains("--upstream"), "{line}");
}

#[test]
fn serve_refuses_a_bad_upstream_tag_ttl() {
    let env = Env::new();
    let line = env.fails(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "registry.example",
            "--upstream-tag-ttl",
            "soon",
        ],
        2,
    );
    assert!(line.contains("--upstream-tag-ttl"), "{line}");
}
