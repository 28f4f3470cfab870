//! `hoist serve`: the bound address on stdout, answers over HTTP, an
//! access-log line per request on stderr, a clean stop on SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::Stdio;

use crate::support::{Env, fixture_archive, four_platforms};

/// A `hoist serve` child, killed if a test fails before it stops it.
pub(crate) struct Serving {
    pub(crate) child: std::process::Child,
    pub(crate) address: String,
}

impl Serving {
    fn start(env: &Env, stderr: Stdio) -> Serving {
        Serving::start_with(env, &[], stderr)
    }

    /// `hoist serve --listen 127.0.0.1:0 <extra>`, once it printed its address.
    pub(crate) fn start_with(env: &Env, extra: &[&str], stderr: Stdio) -> Serving {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend(extra);
        let mut child = env
            .hoist_std(&args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut address = String::new();
        stdout.read_line(&mut address).unwrap();
        let address = address.trim().to_owned();
        assert!(address.starts_with("127.0.0.1:"), "{address:?}");
        Serving { child, address }
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        // Already reaped after `terminate`: both calls then fail harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Loads a four-platform fixture (`seed`) into `env` as
/// `registry.example/team/app:1`, the name the serve tests ask for.
pub(crate) fn load_served_fixture(env: &Env, seed: u64) -> hoist_testkit::Fixture {
    let (archive, fixture) = fixture_archive(
        env,
        "app.tar",
        "registry.example/team/app:1",
        &four_platforms(seed),
    );
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    fixture
}

#[test]
fn serve_prints_its_address_answers_and_stops_on_sigterm() {
    let env = Env::new();
    let fixture = load_served_fixture(&env, 71);
    let mut serving = Serving::start(&env, Stdio::piped());
    let address = serving.address.clone();

    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(
            b"GET /v2/team/app/manifests/1?ns=registry.example HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains(&format!("docker-content-digest: {}", fixture.index.digest)),
        "{answer}"
    );

    let status = serving.terminate();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    serving
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let line = stderr
        .lines()
        .find(|line| line.contains("/v2/team/app/manifests/1"))
        .unwrap_or_else(|| panic!("no access-log line in:\n{stderr}"));
    assert!(
        line.contains("method=GET") && line.contains("status=200"),
        "{line}"
    );
}

#[test]
fn serve_refuses_a_bad_listen_address() {
    let env = Env::new();
    let line = env.fails(&["serve", "--listen", "localhost"], 2);
    assert!(line.contains("--listen"), "{line}");
}

#[test]
fn a_blob_collected_by_another_process_mid_transfer_arrives_whole() {
    let env = Env::new();
    // Far more than loopback's socket buffers hold, so most of the layer
    // is read from the file after `hoist gc` unlinked it.
    let big = hoist_testkit::FixtureSpec::four_platforms(73, 32 * 1024 * 1024, 4096);
    let (archive, fixture) = fixture_archive(&env, "big.tar", "registry.example/team/app:1", &big);
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    // Another tag keeps the repository known once tag 1 is gone.
    let (other, _) = fixture_archive(
        &env,
        "other.tar",
        "registry.example/team/app:2",
        &four_platforms(74),
    );
    env.ok(&["load", "-i", other.to_str().unwrap()]);
    let layer = &fixture.images[0].layers[0];
    let blob_path = format!("/v2/team/app/blobs/{}", layer.digest);

    let mut serving = Serving::start(&env, Stdio::null());
    let address = serving.address.clone();

    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .write_all(
            format!("GET {blob_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut raw = vec![0; 64 * 1024];
    stream.read_exact(&mut raw).unwrap();

    env.ok(&["rmi", "registry.example/team/app:1"]);
    env.ok(&["gc"]);
    let file = env
        .root()
        .join("content/blobs/sha256")
        .join(layer.digest.trim_start_matches("sha256:"));
    assert!(!file.exists(), "gc left {}", file.display());

    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(raw.starts_with(b"HTTP/1.1 200"));
    assert_eq!(
        hoist::content::Digest::sha256_of(&raw[split..]).as_str(),
        layer.digest
    );

    let mut again = std::net::TcpStream::connect(&address).unwrap();
    again
        .write_all(
            format!("GET {blob_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut answer = String::new();
    again.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("\"BLOB_UNKNOWN\""), "{answer}");

    assert!(serving.terminate().success());
}
