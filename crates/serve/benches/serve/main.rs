//! `cargo xtask bench` (the `hoist serve` row): the generated 200 MB,
//! 4-platform image pulled by `skopeo copy --all docker://… dir:…` from
//! `hoist serve` and from a `docker-registry` serving the same image, with
//! 1 client and with 8 clients at once, in one run; and the same with
//! `curl` fetching every blob to /dev/null (no hashing, no files), where
//! the server's own cost shows.
//!
//! Each server runs in its own process: the registry from hoist-testkit,
//! hoist's as this binary re-run with `--child-serve ROOT` (the library's
//! `serve` on a tokio runtime, as `hoist serve` runs it), so the peak
//! resident memory of each (`VmHWM` in `/proc/PID/status`) and its CPU
//! time are its own. Each cell is the median of `--runs` runs; the
//! servers alternate within a run so that both see the same machine.
//! Output: a markdown table on standard output (and in `--out`).
//!
//! Usage: `cargo bench -p hoist-serve --bench serve -- [--runs N]
//! [--size-mb M] [--clients LIST] [--out FILE]`; the store and the copies
//! are written under `HOIST_BENCH_DIR` (default: the system's temp dir;
//! `cargo xtask bench` passes `<target>/bench-serve`).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use hoist::{CredentialsSource, NoProgress, Platforms, PushOptions, Store, StoreOptions};
use hoist_serve::ServeOptions;
use hoist_testkit::{Fixture, FixtureSpec, Registry, RegistryOptions, find_tool};

type Result<T> = std::result::Result<T, String>;

/// The stored name: served by `hoist serve` as `bench/app:1`, the path it
/// has on the registry.
const STORED: &str = "bench.local/bench/app:1";
const PATH: &str = "bench/app:1";

struct Settings {
    runs: usize,
    size_mb: usize,
    clients: Vec<usize>,
    out: Option<PathBuf>,
}

impl Settings {
    fn parse(args: &[String]) -> Result<Settings> {
        let mut settings = Settings {
            runs: 3,
            size_mb: 200,
            clients: vec![1, 8],
            out: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--runs" => settings.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
                "--size-mb" => {
                    settings.size_mb = value()?.parse().map_err(|e| format!("--size-mb: {e}"))?;
                }
                "--clients" => {
                    settings.clients = value()?
                        .split(',')
                        .map(|c| c.parse().map_err(|e| format!("--clients: {e}")))
                        .collect::<Result<_>>()?;
                }
                "--out" => settings.out = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        settings.runs = settings.runs.max(1);
        Ok(settings)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let result = if args.first().map(String::as_str) == Some("--child-serve") {
        child_serve(&args[1..])
    } else {
        Settings::parse(&args).and_then(|settings| run(&settings))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn store_at(root: &Path) -> Result<Store> {
    Store::open(
        root,
        StoreOptions::default().credentials(CredentialsSource::Anonymous),
    )
    .map_err(|e| format!("opening a store at {}: {e}", root.display()))
}

/// The child: serves the store at `root` on a free loopback port, prints
/// the address, and serves until its standard input closes.
fn child_serve(args: &[String]) -> Result<()> {
    let [root] = args else {
        return Err("--child-serve ROOT".to_owned());
    };
    let store = store_at(Path::new(root))?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("starting tokio: {e}"))?;
    runtime.block_on(async {
        let server = hoist_serve::serve(
            store,
            ServeOptions::default().listen(([127, 0, 0, 1], 0).into()),
        )
        .await
        .map_err(|e| e.to_string())?;
        println!("{}", server.local_addr());
        std::io::stdout().flush().map_err(|e| e.to_string())?;
        // Wait for the parent to close our stdin, off the reactor.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .map_err(|e| e.to_string())?;
        server.shutdown().await;
        Ok(())
    })
}

/// `hoist serve` in a child process; stopped on drop.
struct HoistServer {
    child: Child,
    address: String,
}

impl HoistServer {
    fn start(root: &Path) -> Result<HoistServer> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg("--child-serve")
            .arg(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting the serve child: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut address = String::new();
        BufReader::new(stdout)
            .read_line(&mut address)
            .map_err(|e| e.to_string())?;
        let address = address.trim().to_owned();
        if address.is_empty() {
            let _ = child.kill();
            return Err("the serve child printed no address".to_owned());
        }
        Ok(HoistServer { child, address })
    }
}

impl Drop for HoistServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A server under test: where it listens and its process.
struct Server {
    label: &'static str,
    host: String,
    pid: u32,
}

/// `VmHWM` of `pid`, in MiB.
fn peak_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
}

/// CPU seconds from `/proc/<pid>/stat`: `(user + system, waited-for
/// children's user + system)`.
fn cpu_of(pid: &str) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (in parentheses, may hold spaces), utime,
    // stime, cutime and cstime are at indexes 11-14.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let ticks = |t: u64| t as f64 / 100.0;
    match fields[..] {
        [user, system, child_user, child_system] => {
            Some((ticks(user + system), ticks(child_user + child_system)))
        }
        _ => None,
    }
}

fn cpu_seconds(pid: u32) -> Option<f64> {
    cpu_of(&pid.to_string()).map(|(own, _)| own)
}

fn clients_cpu_seconds() -> f64 {
    cpu_of("self").map_or(0.0, |(_, children)| children)
}

/// One timed pull: wall seconds, and the CPU seconds the server and the
/// clients spent.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: f64,
    server_cpu: f64,
    clients_cpu: f64,
}

/// A kind of client.
enum Client {
    /// `skopeo copy --all docker://… dir:…`: what the targets are about.
    Skopeo(PathBuf),
    /// `curl -Z` fetching every blob (these paths) to /dev/null, six at a
    /// time as skopeo does: no hashing, no files, so the server's share
    /// of the machine shows.
    Curl(PathBuf, Vec<String>),
}

impl Client {
    fn label(&self) -> &'static str {
        match self {
            Client::Skopeo(_) => "skopeo copy --all to dir:",
            Client::Curl(..) => "curl, every blob to /dev/null",
        }
    }

    fn command(&self, host: &str, destination: &Path) -> Command {
        match self {
            Client::Skopeo(skopeo) => {
                let mut command = Command::new(skopeo);
                command
                    .args(["copy", "--all", "--src-tls-verify=false", "--quiet"])
                    .arg(format!("docker://{host}/{PATH}"))
                    .arg(format!("dir:{}", destination.display()));
                command
            }
            Client::Curl(curl, blobs) => {
                let mut command = Command::new(curl);
                command.args(["-sSf", "-Z", "--parallel-max", "6"]);
                for blob in blobs {
                    command
                        .arg("-o")
                        .arg("/dev/null")
                        .arg(format!("http://{host}{blob}"));
                }
                command
            }
        }
    }
}

/// `clients` clients at once against `server`, each (skopeo) to its own
/// directory: the wall time until the last ends, and the CPU time of the
/// server and of the clients meanwhile.
fn pull(client: &Client, server: &Server, clients: usize, scratch: &Path) -> Result<Sample> {
    let cpu_before = cpu_seconds(server.pid).unwrap_or(0.0);
    let clients_before = clients_cpu_seconds();
    let started = Instant::now();
    let children: Vec<(String, Child)> = (0..clients)
        .map(|i| {
            let mut command = client.command(&server.host, &scratch.join(format!("copy-{i}")));
            let line = format!("{command:?}");
            command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map(|child| (line.clone(), child))
                .map_err(|e| format!("{line}: {e}"))
        })
        .collect::<Result<_>>()?;
    let mut failure = None;
    for (line, child) in children {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            failure = Some(format!(
                "{line} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    let sample = Sample {
        wall: started.elapsed().as_secs_f64(),
        server_cpu: cpu_seconds(server.pid).unwrap_or(0.0) - cpu_before,
        clients_cpu: clients_cpu_seconds() - clients_before,
    };
    for i in 0..clients {
        let _ = std::fs::remove_dir_all(scratch.join(format!("copy-{i}")));
    }
    match failure {
        Some(message) => Err(message),
        None => Ok(sample),
    }
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

fn run(settings: &Settings) -> Result<()> {
    let skopeo = find_tool("skopeo").ok_or("skopeo is not installed (cargo xtask deps)")?;
    let part = settings.size_mb * 1024 * 1024 / 5;
    eprintln!(
        "bench: generating a {} MB, 4-platform fixture",
        settings.size_mb
    );
    let fixture = Fixture::generate(&FixtureSpec::four_platforms(7, part, part))
        .map_err(|e| e.to_string())?;
    let image_bytes: u64 = fixture.blobs().iter().map(|b| b.bytes.len() as u64).sum();
    let base = std::env::var_os("HOIST_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    std::fs::create_dir_all(&base).map_err(|e| format!("creating {}: {e}", base.display()))?;
    let work = tempfile::Builder::new()
        .prefix("hoist-bench-serve-")
        .tempdir_in(&base)
        .map_err(|e| e.to_string())?;
    let layout = work.path().join("layout");
    fixture
        .write_oci_layout(&layout, "1")
        .map_err(|e| e.to_string())?;
    let (repository, _) = STORED.rsplit_once(':').ok_or("bad name")?;

    // One store holds the image; it seeds the registry, then is served.
    let root = work.path().join("store");
    let registry = Registry::start(RegistryOptions::plain())
        .map_err(|e| e.to_string())?
        .ok_or("docker-registry is not installed (cargo xtask deps)")?;
    {
        let store = store_at(&root)?;
        store
            .load_path(&layout, Some(repository))
            .map_err(|e| format!("loading the fixture: {e}"))?;
        let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("starting tokio: {e}"))?;
        runtime
            .block_on(store.push(
                STORED,
                Some(&format!("{}/{PATH}", registry.host())),
                &PushOptions::new(Platforms::All),
                Arc::new(NoProgress),
            ))
            .map_err(|e| format!("seeding the registry: {e}"))?;
    }
    let hoist = HoistServer::start(&root)?;
    let servers = [
        Server {
            label: "docker-registry",
            host: registry.host(),
            pid: registry.pid(),
        },
        Server {
            label: "hoist serve",
            host: hoist.address.clone(),
            pid: hoist.child.id(),
        },
    ];
    let scratch = work.path().join("copies");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let is_document =
        |media_type: &str| media_type.contains("manifest") || media_type.contains("index");
    let blob_paths: Vec<String> = fixture
        .blobs()
        .into_iter()
        .filter(|b| !is_document(&b.media_type))
        .map(|b| format!("/v2/bench/app/blobs/{}", b.digest))
        .collect();
    let client_kinds = [
        Client::Skopeo(skopeo),
        Client::Curl(
            find_tool("curl").ok_or("curl is not installed (cargo xtask deps)")?,
            blob_paths,
        ),
    ];
    // A first pull from each warms the page cache and the servers.
    for server in &servers {
        pull(&client_kinds[0], server, 1, &scratch)?;
    }

    // (client kind, clients) -> [registry samples, hoist samples]
    let cases: Vec<(usize, usize)> = (0..client_kinds.len())
        .flat_map(|k| settings.clients.iter().map(move |c| (k, *c)))
        .collect();
    let mut samples: Vec<[Vec<Sample>; 2]> = vec![[Vec::new(), Vec::new()]; cases.len()];
    for run in 0..settings.runs {
        for (case, (kind, clients)) in cases.iter().enumerate() {
            for (s, server) in servers.iter().enumerate() {
                let client = &client_kinds[*kind];
                let sample = pull(client, server, *clients, &scratch)?;
                eprintln!(
                    "bench: run {}: {clients} × {} from {}: {:.2} s, CPU server {:.2} s + clients {:.2} s",
                    run + 1,
                    client.label(),
                    server.label,
                    sample.wall,
                    sample.server_cpu,
                    sample.clients_cpu,
                );
                samples[case][s].push(sample);
            }
        }
    }
    let peaks = [peak_mib(servers[0].pid), peak_mib(servers[1].pid)];
    drop(hoist);

    let mib = image_bytes as f64 / (1024.0 * 1024.0);
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut table = format!(
        "The {mib:.0} MiB, 4-platform image pulled by N clients at once, {cores} cores; median \
         of {} runs; throughput = N × image / wall time; CPU = user + system seconds of the \
         server and of all clients during the pull; bound = the ratio hoist would reach if its \
         server cost no CPU at all, (registry + clients CPU) / clients CPU.\n\n\
         | client | N | docker-registry | hoist serve | docker-registry MiB/s | hoist serve MiB/s \
         | throughput hoist/registry | CPU registry + clients | CPU hoist + clients | bound |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        settings.runs
    );
    for (case, (kind, clients)) in cases.iter().enumerate() {
        let pick = |s: usize, f: fn(&Sample) -> f64| {
            median(&samples[case][s].iter().map(f).collect::<Vec<_>>())
        };
        let (registry_wall, hoist_wall) = (pick(0, |x| x.wall), pick(1, |x| x.wall));
        let throughput = |w: f64| *clients as f64 * mib / w;
        let (registry_cpu, registry_clients) =
            (pick(0, |x| x.server_cpu), pick(0, |x| x.clients_cpu));
        let (hoist_cpu, hoist_clients) = (pick(1, |x| x.server_cpu), pick(1, |x| x.clients_cpu));
        table.push_str(&format!(
            "| {} | {clients} | {registry_wall:.2} s | {hoist_wall:.2} s | {:.0} | {:.0} | {:.2}× \
             | {registry_cpu:.2} + {registry_clients:.2} s | {hoist_cpu:.2} + {hoist_clients:.2} s | {:.2}× |\n",
            client_kinds[*kind].label(),
            throughput(registry_wall),
            throughput(hoist_wall),
            registry_wall / hoist_wall,
            (registry_cpu + registry_clients) / hoist_clients.max(0.01),
        ));
    }
    let peak = |p: Option<f64>| p.map_or("—".to_owned(), |m| format!("{m:.1} MiB"));
    table.push_str(&format!(
        "\nPeak resident memory (VmHWM) over the whole run: docker-registry {}, hoist serve {}.\n",
        peak(peaks[0]),
        peak(peaks[1])
    ));
    print!("{table}");
    if let Some(out) = &settings.out {
        std::fs::write(out, &table).map_err(|e| format!("writing {}: {e}", out.display()))?;
    }
    Ok(())
}
