//! `hoist serve`: the bound address on stdout, answers over HTTP, an
//! access-log line per request on stderr, a clean stop on SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::Stdio;

use crate::support::{Env, fixture_archive, four_platforms};

#[test]
fn serve_prints_its_address_answers_and_stops_on_sigterm() {
    let env = Env::new();
    let (archive, fixture) = fixture_archive(
        &env,
        "app.tar",
        "registry.example/team/app:1",
        &four_platforms(71),
    );
    env.ok(&["load", "-i", archive.to_str().unwrap()]);
    let mut child = env
        .hoist_std(&["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut address = String::new();
    stdout.read_line(&mut address).unwrap();
    let address = address.trim();
    assert!(address.starts_with("127.0.0.1:"), "{address:?}");

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

    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    child
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
