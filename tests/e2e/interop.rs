//! Interop both ways, digests preserved: what hoist pushes, skopeo and
//! containerd's `ctr` pull; what skopeo pushes, hoist pulls.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hoist::{Platforms, PullOptions, PushOptions};

use crate::support::{fixture, load_fixture, quiet, registry, run, store};

fn tool(name: &str) -> Option<PathBuf> {
    hoist_testkit::require_tool(name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_pushes_and_hoist_pulls_with_the_digest_kept() {
    let Some(registry) = registry() else { return };
    let Some(skopeo) = tool("skopeo") else { return };
    let fixture = fixture(51);
    let layout = tempfile::tempdir().unwrap();
    fixture.write_oci_layout(layout.path(), "1").unwrap();
    let reference = format!("{}/skopeo/app:1", registry.host());
    run(
        skopeo.to_str().unwrap(),
        &[
            "copy",
            "--all",
            "--dest-tls-verify=false",
            &format!("oci:{}:1", layout.path().display()),
            &format!("docker://{reference}"),
        ],
    );
    let (_dir, store) = store();
    let report = store
        .pull(&reference, &PullOptions::default(), quiet())
        .await
        .unwrap();
    assert_eq!(report.target.digest.to_string(), fixture.index.digest);
    assert!(
        store
            .check(&report.name, &Platforms::All)
            .unwrap()
            .is_complete()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoist_pushes_and_skopeo_reads_every_platform() {
    let Some(registry) = registry() else { return };
    let Some(skopeo) = tool("skopeo") else { return };
    let fixture = fixture(52);
    let (_dir, store) = store();
    load_fixture(&store, &fixture, "local/app:1");
    let reference = format!("{}/hoist/app:1", registry.host());
    let report = store
        .push(
            "local/app:1",
            Some(&reference),
            &PushOptions::default(),
            quiet(),
        )
        .await
        .unwrap();
    let raw = run(
        skopeo.to_str().unwrap(),
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ],
    );
    assert_eq!(
        hoist::content::Digest::sha256_of(raw.as_bytes()),
        report.digest
    );
    let out = tempfile::tempdir().unwrap();
    run(
        skopeo.to_str().unwrap(),
        &[
            "copy",
            "--all",
            "--src-tls-verify=false",
            &format!("docker://{reference}"),
            &format!("oci:{}:copied", out.path().display()),
        ],
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        fixture.index.digest.as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoist_pushes_and_ctr_pulls_with_the_digest_kept() {
    let Some(registry) = registry() else { return };
    let Some(containerd) = Containerd::start() else {
        return;
    };
    let fixture = fixture(53);
    let (_dir, store) = store();
    load_fixture(&store, &fixture, "local/app:1");
    let reference = format!("{}/hoist/ctr:1", registry.host());
    store
        .push(
            "local/app:1",
            Some(&reference),
            &PushOptions::default(),
            quiet(),
        )
        .await
        .unwrap();
    containerd.ctr(&[
        "images",
        "pull",
        "--plain-http",
        "--all-platforms",
        &reference,
    ]);
    let listing = containerd.ctr(&["images", "ls"]);
    let line = listing
        .lines()
        .find(|line| line.starts_with(&reference))
        .unwrap_or_else(|| panic!("{reference} not in ctr's images:\n{listing}"));
    assert!(line.contains(&fixture.index.digest), "{line}");
}

/// A containerd of our own, on sockets in a temporary directory.
struct Containerd {
    child: Child,
    address: PathBuf,
    ctr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Containerd {
    fn start() -> Option<Containerd> {
        let containerd = tool("containerd")?;
        let ctr = tool("ctr")?;
        let dir = tempfile::tempdir().unwrap();
        let address = dir.path().join("c.sock");
        let config = format!(
            "version = 2\nroot = \"{root}/root\"\nstate = \"{root}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{address}\"\n[ttrpc]\n  address = \"{address}.ttrpc\"\n\
             [debug]\n  address = \"{root}/debug.sock\"\n",
            root = dir.path().display(),
            address = address.display()
        );
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("containerd.log")).unwrap();
        let child = Command::new(containerd)
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let running = Containerd {
            child,
            address,
            ctr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = running
                .command()
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Some(running);
            }
            assert!(
                Instant::now() < deadline,
                "containerd did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.ctr);
        command
            .arg("--address")
            .arg(&self.address)
            .args(["--namespace", "hoist-e2e"]);
        command
    }

    fn ctr(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "ctr {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
