//! The runs: a fixture, a source registry, and each tool doing each job.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hoist::{
    CredentialsSource, NoProgress, Platforms, PullOptions, PushOptions, Store, StoreOptions,
};
use hoist_testkit::{Fixture, FixtureSpec, LatencyProxy, Registry, RegistryOptions, find_tool};

use crate::table::{self, Row};

pub(crate) type Result<T> = std::result::Result<T, String>;

/// What to run.
pub struct Settings {
    runs: usize,
    size_mb: usize,
    out: Option<PathBuf>,
    concurrency: usize,
    pull_only: bool,
    no_peers: bool,
    no_far: bool,
}

/// The round-trip times of the far-registry rows.
const FAR_RTTS_MS: [u64; 2] = [20, 80];

impl Settings {
    /// Reads `--runs N`, `--size-mb M`, `--out FILE`, `--concurrency N`,
    /// `--pull-only`, `--no-peers` (hoist and the floors only, pulls only:
    /// for quick iterations) and `--no-far` (no rows through the latency
    /// forwarder).
    pub fn parse(args: &[String]) -> Result<Settings> {
        let mut settings = Settings {
            runs: 3,
            size_mb: 200,
            out: None,
            concurrency: hoist::DEFAULT_CONCURRENCY,
            pull_only: false,
            no_peers: false,
            no_far: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--runs" => settings.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
                "--size-mb" => {
                    settings.size_mb = value()?.parse().map_err(|e| format!("--size-mb: {e}"))?;
                }
                "--out" => settings.out = Some(PathBuf::from(value()?)),
                "--concurrency" => {
                    settings.concurrency = value()?
                        .parse()
                        .map_err(|e| format!("--concurrency: {e}"))?;
                }
                "--pull-only" => settings.pull_only = true,
                "--no-peers" => settings.no_peers = true,
                "--no-far" => settings.no_far = true,
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        settings.runs = settings.runs.max(1);
        Ok(settings)
    }
}

/// The environment variable naming the `certs.d` directory a child
/// reads (see [`plain_http`]).
pub(crate) const CERTS_D_ENV: &str = "HOIST_BENCH_CERTS_D";

/// The environment variable naming the Docker `config.json` a child takes
/// its credentials from (anonymous without it).
pub(crate) const DOCKER_CONFIG_ENV: &str = "HOIST_BENCH_DOCKER_CONFIG";

/// A store at `root` reading per-host settings from `certs_d` and
/// credentials from `docker_config` (anonymous without one).
pub(crate) fn store_at(
    root: &Path,
    certs_d: Option<&Path>,
    docker_config: Option<&Path>,
) -> Result<Store> {
    let credentials = match docker_config {
        Some(path) => CredentialsSource::DockerConfigAt(path.to_owned()),
        None => CredentialsSource::Anonymous,
    };
    let mut options = StoreOptions::default().credentials(credentials);
    if let Some(dir) = certs_d {
        options = options.hosts_dir(dir);
    }
    Store::open(root, options).map_err(|e| format!("opening a store at {}: {e}", root.display()))
}

/// The store of a child process at `root`, set up by the environment the
/// parent gave it ([`CERTS_D_ENV`], [`DOCKER_CONFIG_ENV`]).
pub(crate) fn child_store_at(root: &Path) -> Result<Store> {
    let certs_d = std::env::var_os(CERTS_D_ENV).map(PathBuf::from);
    let docker_config = std::env::var_os(DOCKER_CONFIG_ENV).map(PathBuf::from);
    store_at(root, certs_d.as_deref(), docker_config.as_deref())
}

/// Tells hoist that `host` speaks plain HTTP (`server = "http://HOST"` in
/// `certs_d/HOST/hosts.toml`), as ctr is told with `--plain-http`: without
/// it, hoist asks a loopback host for HTTPS and plain HTTP at once, a round
/// trip that ctr does not pay.
pub(crate) fn plain_http(certs_d: &Path, host: &str) -> Result<()> {
    let dir = certs_d.join(host);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join("hosts.toml");
    std::fs::write(&file, format!("server = \"http://{host}\"\n"))
        .map_err(|e| format!("{}: {e}", file.display()))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().map_err(|e| format!("starting tokio: {e}"))
}

/// The child: pulls `reference` (`all` platforms or one) into `root`, then
/// prints its peak resident memory (VmHWM) in KiB.
pub fn child_pull(args: &[String]) -> Result<()> {
    let [root, reference, platform, concurrency] = args else {
        return Err("--child-pull ROOT REFERENCE all|PLATFORM CONCURRENCY".to_owned());
    };
    let concurrency: usize = concurrency
        .parse()
        .map_err(|e| format!("concurrency: {e}"))?;
    let started = Instant::now();
    let store = child_store_at(Path::new(root))?;
    let opened = started.elapsed();
    let platforms = match platform.as_str() {
        "all" => Platforms::All,
        one => Platforms::Only(vec![
            hoist::platform::parse(one).map_err(|e| e.to_string())?,
        ]),
    };
    runtime()?
        .block_on(store.pull(
            reference,
            &PullOptions::new(platforms).concurrency(concurrency),
            Arc::new(NoProgress),
        ))
        .map_err(|e| format!("pulling {reference}: {e}"))?;
    let pulled = started.elapsed() - opened;
    print_peak()?;
    println!(
        "phases=open {:.1} ms, pull {:.1} ms, cpu {}",
        opened.as_secs_f64() * 1e3,
        pulled.as_secs_f64() * 1e3,
        cpu_of_this_process()
    );
    Ok(())
}

pub(crate) fn tool(name: &str) -> Result<PathBuf> {
    find_tool(name).ok_or_else(|| format!("{name} is not installed (cargo xtask deps)"))
}

/// Runs `command` to completion, timing it; fails with its stderr.
pub(crate) fn timed(command: &mut Command) -> Result<(Duration, String)> {
    let line = format!("{command:?}");
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {line}: {e}"))?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        return Err(format!(
            "{line} failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok((
        elapsed,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

/// A containerd of the bench's own, on sockets in a temporary directory.
pub(crate) struct Containerd {
    child: std::process::Child,
    address: PathBuf,
    ctr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Containerd {
    pub(crate) fn start() -> Result<Containerd> {
        let containerd = tool("containerd")?;
        let ctr = tool("ctr")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
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
        std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
        let child = Command::new(containerd)
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting containerd: {e}"))?;
        let running = Containerd {
            child,
            address,
            ctr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !running
            .command()
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            if Instant::now() > deadline {
                return Err("containerd did not start within 30 s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(running)
    }

    /// The containerd process, whose CPU time is ctr's work.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.ctr);
        command
            .arg("--address")
            .arg(&self.address)
            .args(["--namespace", "bench"]);
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Result<Duration> {
        timed(self.command().args(args)).map(|(d, _)| d)
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn registry() -> Result<Registry> {
    Registry::start(RegistryOptions::plain())
        .map_err(|e| format!("starting docker-registry: {e}"))?
        .ok_or_else(|| "docker-registry is not installed".to_owned())
}

/// curl fetching `digests` of `repository` in parallel straight to files.
fn floor(host: &str, repository: &str, digests: &[String], dir: &Path) -> Result<Duration> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut command = Command::new(tool("curl")?);
    command.args(["--silent", "--fail", "--parallel", "--parallel-max", "16"]);
    for digest in digests {
        command
            .arg("-o")
            .arg(dir.join(digest.trim_start_matches("sha256:")))
            .arg(format!("http://{host}/v2/{repository}/blobs/{digest}"));
    }
    let elapsed = timed(&mut command)?.0;
    let _ = std::fs::remove_dir_all(dir);
    Ok(elapsed)
}

/// The verified floor: curl fetching `digests` in parallel, each piped
/// through `tee` into its file and through `openssl dgst -sha256` (SHA-NI,
/// like hoist's sha2), since a pull that verifies cannot skip hashing. Each
/// hash is checked against its digest after the clock stops.
pub(crate) fn verified_floor(
    host: &str,
    repository: &str,
    digests: &[String],
    dir: &Path,
) -> Result<Duration> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let curl = tool("curl")?;
    let openssl = tool("openssl")?;
    let mut script = String::new();
    for digest in digests {
        let hex = digest.trim_start_matches("sha256:");
        let file = dir.join(hex);
        script.push_str(&format!(
            "( '{}' --silent --fail 'http://{host}/v2/{repository}/blobs/{digest}' | tee '{}' | '{}' dgst -sha256 -r > '{}.sha256' ) &\n",
            curl.display(),
            file.display(),
            openssl.display(),
            file.display()
        ));
    }
    script.push_str("wait\n");
    let elapsed = timed(Command::new("sh").args(["-c", &script]))?.0;
    for digest in digests {
        let hex = digest.trim_start_matches("sha256:");
        let sums = dir.join(format!("{hex}.sha256"));
        let sum = std::fs::read_to_string(&sums).map_err(|e| format!("{}: {e}", sums.display()))?;
        if !sum.starts_with(hex) {
            return Err(format!("the verified floor hashed {digest} as {sum:?}"));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(elapsed)
}

/// Bytes a durable floor writer lets accumulate between two fdatasyncs of a
/// file (hoist-content's writeback window is the same).
const WRITEBACK_WINDOW: u64 = 512 << 10;

/// Writes files of `sizes` from memory, each on its own thread (as a store
/// downloading them in parallel would), and fdatasyncs each.
///
/// - `pace: None` is the disk column: every byte at once, one fdatasync per
///   file at the end; the best pace the disk allows.
/// - `pace: Some(d)` is the durable floor: the bytes arrive no faster than the
///   curl floor `d` of the same run delivered them, and a second thread per
///   file fdatasyncs each window as it fills, then once more at the end. Of
///   the ways tried (one fdatasync at the end, `sync_file_range`,
///   `posix_fadvise`, `O_DIRECT`, other windows), this one finished first on
///   this project's machines. It is what a durable pull costs with no
///   hashing, no metadata and no HTTP: the registry's pace and the disk's
///   together.
fn disk_floor(sizes: &[u64], dir: &Path, pace: Option<Duration>) -> Result<Duration> {
    use std::io::Write as _;
    use std::sync::mpsc::sync_channel;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let chunk: Vec<u8> = (0..1u32 << 18)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let write = |i: usize, size: u64, started: Instant| -> Result<()> {
        let path = dir.join(format!("blob-{i}"));
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut file = std::fs::File::create(&path).map_err(fail)?;
        std::thread::scope(|scope| -> Result<()> {
            let flusher = match pace {
                None => None,
                Some(_) => {
                    let copy = file.try_clone().map_err(fail)?;
                    // Capacity 1: a nudge while a sync is pending is covered by it.
                    let (nudge, nudges) = sync_channel::<()>(1);
                    let worker = scope.spawn(move || -> std::io::Result<()> {
                        while nudges.recv().is_ok() {
                            copy.sync_data()?;
                        }
                        Ok(())
                    });
                    Some((nudge, worker))
                }
            };
            let (mut written, mut nudged) = (0u64, 0u64);
            while written < size {
                if let Some(pace) = pace {
                    let due = pace.mul_f64(written as f64 / size as f64);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                let n = usize::try_from((size - written).min(chunk.len() as u64))
                    .map_err(|e| e.to_string())?;
                file.write_all(&chunk[..n]).map_err(fail)?;
                written += n as u64;
                if let Some((nudge, _)) = &flusher
                    && written - nudged >= WRITEBACK_WINDOW
                {
                    let _ = nudge.try_send(());
                    nudged = written;
                }
            }
            if let Some((nudge, worker)) = flusher {
                drop(nudge);
                worker
                    .join()
                    .map_err(|_| "a flusher panicked".to_owned())?
                    .map_err(fail)?;
            }
            file.sync_data().map_err(fail)
        })
    };
    let started = Instant::now();
    std::thread::scope(|scope| {
        let writers: Vec<_> = sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| scope.spawn(move || write(i, size, started)))
            .collect();
        writers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|_| Err("a writer panicked".into())))
    })?;
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(dir);
    Ok(elapsed)
}

/// CPU time from `/proc/<pid>/stat`, in clock ticks (10 ms): `(user,
/// system, waited-for children's user + system)`.
pub(crate) fn cpu_ticks(pid: &str) -> Option<(u64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may
    // hold spaces: utime, stime, cutime, cstime are fields 14-17 of the
    // line (1-based), indexes 11-14 after the name.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    match fields[..] {
        [user, system, child_user, child_system] => Some((user, system, child_user + child_system)),
        _ => None,
    }
}

/// User and system CPU time of this process so far, as `user U ms + system
/// S ms`.
pub(crate) fn cpu_of_this_process() -> String {
    match cpu_ticks("self") {
        Some((user, system, _)) => format!("user {} ms + system {} ms", user * 10, system * 10),
        None => "unknown".to_owned(),
    }
}

/// CPU seconds spent while `work` ran by the registry (`registry_pid`) and by
/// the child processes `work` waited for.
fn cpu_during<T>(registry_pid: u32, work: impl FnOnce() -> Result<T>) -> Result<(T, Cpu)> {
    let registry = registry_pid.to_string();
    let before = (cpu_ticks(&registry), cpu_ticks("self"));
    let value = work()?;
    let after = (cpu_ticks(&registry), cpu_ticks("self"));
    let seconds = |ticks: u64| ticks as f64 / 100.0;
    let cpu = match (before, after) {
        ((Some(r0), Some(s0)), (Some(r1), Some(s1))) => Cpu {
            registry: seconds((r1.0 + r1.1).saturating_sub(r0.0 + r0.1)),
            tool: seconds(s1.2.saturating_sub(s0.2)),
        },
        _ => Cpu::default(),
    };
    Ok((value, cpu))
}

/// `tool + registry` medians of `samples`, in CPU seconds.
fn median_cpu(samples: &[Cpu]) -> String {
    let median = |pick: fn(&Cpu) -> f64| {
        let mut values: Vec<f64> = samples.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(0.0)
    };
    format!("{:.2} + {:.2}", median(|c| c.tool), median(|c| c.registry))
}

/// CPU seconds of one timed operation: the tool's processes and the registry
/// serving them.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    tool: f64,
    registry: f64,
}

/// The peak memory the child reported, in MiB.
pub(crate) fn peak_mib(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("vmhwm_kib="))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
}

/// Everything: prints the table and writes it to `--out`.
pub fn run(settings: &Settings) -> Result<()> {
    let skopeo = tool("skopeo")?;
    tool("curl")?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let part = settings.size_mb * 1024 * 1024 / 5;
    eprintln!(
        "bench: generating a {} MB, 4-platform fixture",
        settings.size_mb
    );
    let fixture = Fixture::generate(&FixtureSpec::four_platforms(7, part, part))
        .map_err(|e| e.to_string())?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let layout = work.path().join("layout");
    fixture
        .write_oci_layout(&layout, "1")
        .map_err(|e| e.to_string())?;
    let runtime = runtime()?;
    let certs_d = work.path().join("certs.d");

    let source = registry()?;
    let host = source.host();
    plain_http(&certs_d, &host)?;
    let reference = format!("{host}/bench/app:1");
    let seed = store_at(&work.path().join("seed"), Some(&certs_d), None)?;
    seed.load_path(&layout, Some("bench.local/app"))
        .map_err(|e| format!("loading the fixture: {e}"))?;
    let local = "bench.local/app:1";
    let push = |store: &Store, destination: &str, platforms: Platforms| -> Result<Duration> {
        let started = Instant::now();
        runtime
            .block_on(store.push(
                local,
                Some(destination),
                &PushOptions::new(platforms),
                Arc::new(NoProgress),
            ))
            .map_err(|e| format!("hoist push to {destination}: {e}"))?;
        Ok(started.elapsed())
    };
    push(&seed, &reference, Platforms::All)?;

    let is_document =
        |media_type: &str| media_type.contains("manifest") || media_type.contains("index");
    let all_blobs: Vec<(String, u64)> = fixture
        .blobs()
        .into_iter()
        .filter(|b| !is_document(&b.media_type))
        .map(|b| (b.digest.clone(), b.bytes.len() as u64))
        .collect();
    let arm64 = fixture
        .images
        .iter()
        .find(|i| i.platform.architecture == "arm64")
        .ok_or("the fixture has no arm64 image")?;
    let one_blobs: Vec<(String, u64)> = std::iter::once(&arm64.config)
        .chain(arm64.layers.iter())
        .map(|b| (b.digest.clone(), b.bytes.len() as u64))
        .collect();

    let mut peak = 0.0f64;
    let mut hoist_pull = |root: &Path, reference: &str, platform: &str| -> Result<Duration> {
        let (elapsed, stdout) = timed(
            Command::new(&exe)
                .env(CERTS_D_ENV, &certs_d)
                .arg("--child-pull")
                .arg(root)
                .arg(reference)
                .arg(platform)
                .arg(settings.concurrency.to_string()),
        )?;
        peak = peak.max(peak_mib(&stdout).unwrap_or(0.0));
        if let Some(phases) = stdout.lines().find_map(|l| l.strip_prefix("phases=")) {
            eprintln!(
                "bench: hoist {platform}: {phases}, {:.1} ms in all",
                elapsed.as_secs_f64() * 1e3
            );
        }
        let _ = std::fs::remove_dir_all(root);
        Ok(elapsed)
    };

    // The registry where it is, and as if it were far away: a forwarder that
    // adds a fixed round-trip time to every exchange (connections kept).
    let far: Vec<(String, LatencyProxy)> = if settings.no_far {
        Vec::new()
    } else {
        FAR_RTTS_MS
            .iter()
            .map(|ms| {
                let proxy = LatencyProxy::start(&host, Duration::from_millis(*ms))
                    .map_err(|e| format!("starting the latency proxy: {e}"))?;
                plain_http(&certs_d, &proxy.host())?;
                Ok((format!(", {ms} ms RTT"), proxy))
            })
            .collect::<Result<_>>()?
    };
    let mut sites = vec![(String::new(), host.clone())];
    sites.extend(
        far.iter()
            .map(|(label, proxy)| (label.clone(), proxy.host())),
    );

    let mut rows = Vec::new();
    for (site, site_host) in &sites {
        let site_reference = format!("{site_host}/bench/app:1");
        let near = site.is_empty();
        for (operation, platform, skopeo_args, ctr_platform, blobs) in [
            (
                "pull, all 4 platforms",
                "all",
                vec!["--all"],
                vec!["--all-platforms"],
                &all_blobs,
            ),
            (
                "pull, 1 platform (linux/arm64)",
                "linux/arm64",
                vec![
                    "--override-os",
                    "linux",
                    "--override-arch",
                    "arm64",
                    "--override-variant",
                    "v8",
                ],
                vec!["--platform", "linux/arm64/v8"],
                &one_blobs,
            ),
        ] {
            let operation = format!("{operation}{site}");
            eprintln!("bench: {operation}");
            let mut row = Row {
                operation: operation.clone(),
                hoist: Vec::new(),
                skopeo: Some(Vec::new()),
                ctr: Some(Vec::new()),
                floor: Some(Vec::new()),
                verified_floor: Some(Vec::new()),
                // The disk does not move away with the registry.
                durable_floor: near.then(Vec::new),
                disk_floor: near.then(Vec::new),
                note: String::new(),
            };
            let digests: Vec<String> = blobs.iter().map(|(d, _)| d.clone()).collect();
            let sizes: Vec<u64> = blobs.iter().map(|(_, s)| *s).collect();
            let (mut hoist_cpu, mut floor_cpu) = (Vec::new(), Vec::new());
            for i in 0..settings.runs {
                let (pulled, cpu) = cpu_during(source.pid(), || {
                    hoist_pull(
                        &work.path().join(format!("hoist-{i}")),
                        &site_reference,
                        platform,
                    )
                })?;
                row.hoist.push(pulled);
                hoist_cpu.push(cpu);
                let dir = work.path().join(format!("floor-{i}"));
                let (served, cpu) = cpu_during(source.pid(), || {
                    floor(site_host, "bench/app", &digests, &dir)
                })?;
                row.floor.get_or_insert_default().push(served);
                floor_cpu.push(cpu);
                let verified_dir = work.path().join(format!("verified-floor-{i}"));
                row.verified_floor
                    .get_or_insert_default()
                    .push(verified_floor(
                        site_host,
                        "bench/app",
                        &digests,
                        &verified_dir,
                    )?);
                if near {
                    row.durable_floor.get_or_insert_default().push(disk_floor(
                        &sizes,
                        &dir,
                        Some(served),
                    )?);
                    row.disk_floor
                        .get_or_insert_default()
                        .push(disk_floor(&sizes, &dir, None)?);
                }
                if settings.no_peers {
                    row.skopeo = None;
                    row.ctr = None;
                    continue;
                }
                let dir = work.path().join(format!("skopeo-{i}"));
                let mut command = Command::new(&skopeo);
                command
                    .args(["copy", "--quiet", "--src-tls-verify=false"])
                    .args(&skopeo_args)
                    .arg(format!("docker://{site_reference}"))
                    .arg(format!("oci:{}:1", dir.display()));
                row.skopeo
                    .get_or_insert_default()
                    .push(timed(&mut command)?.0);
                let _ = std::fs::remove_dir_all(&dir);
                let containerd = Containerd::start()?;
                let mut args = vec!["content", "fetch", "--plain-http"];
                args.extend(ctr_platform.iter().copied());
                args.push(&site_reference);
                row.ctr.get_or_insert_default().push(containerd.run(&args)?);
                drop(containerd);
            }
            row.note = format!(
                "CPU-s per run, tool + registry: hoist {}, curl floor {}",
                median_cpu(&hoist_cpu),
                median_cpu(&floor_cpu)
            );
            rows.push(row);
        }
    }

    if settings.pull_only || settings.no_peers {
        return finish(settings, &rows, peak);
    }
    eprintln!("bench: pushes");
    let mut empty = Row {
        operation: "push to an empty registry".to_owned(),
        hoist: Vec::new(),
        skopeo: Some(Vec::new()),
        ctr: Some(Vec::new()),
        floor: None,
        verified_floor: None,
        durable_floor: None,
        disk_floor: None,
        note: String::new(),
    };
    let mut again = Row {
        operation: "push again (all present)".to_owned(),
        hoist: Vec::new(),
        skopeo: Some(Vec::new()),
        ctr: Some(Vec::new()),
        floor: None,
        verified_floor: None,
        durable_floor: None,
        disk_floor: None,
        note: String::new(),
    };
    let mut reduced = Row {
        operation: "reduced push, 2 of 4 platforms".to_owned(),
        hoist: Vec::new(),
        skopeo: None,
        ctr: Some(Vec::new()),
        floor: None,
        verified_floor: None,
        durable_floor: None,
        disk_floor: None,
        note: "skopeo 1.9 cannot push a subset of an index; ctr 1.6 pushes the whole index"
            .to_owned(),
    };
    let containerd = Containerd::start()?;
    containerd.run(&[
        "images",
        "pull",
        "--plain-http",
        "--all-platforms",
        &reference,
    ])?;
    let two = Platforms::Only(vec![
        hoist::platform::parse("linux/amd64").map_err(|e| e.to_string())?,
        hoist::platform::parse("linux/arm64").map_err(|e| e.to_string())?,
    ]);
    for _ in 0..settings.runs {
        let target = registry()?;
        plain_http(&certs_d, &target.host())?;
        let destination = format!("{}/bench/app:1", target.host());
        empty.hoist.push(push(&seed, &destination, Platforms::All)?);
        again.hoist.push(push(&seed, &destination, Platforms::All)?);
        drop(target);

        let target = registry()?;
        let destination = format!("{}/bench/app:1", target.host());
        let mut command = Command::new(&skopeo);
        command
            .args(["copy", "--quiet", "--all", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:1", layout.display()))
            .arg(format!("docker://{destination}"));
        empty
            .skopeo
            .get_or_insert_default()
            .push(timed(&mut command)?.0);
        again
            .skopeo
            .get_or_insert_default()
            .push(timed(&mut command)?.0);
        drop(target);

        let target = registry()?;
        let destination = format!("{}/bench/app:1", target.host());
        let args = ["images", "push", "--plain-http", &destination, &reference];
        empty
            .ctr
            .get_or_insert_default()
            .push(containerd.run(&args)?);
        again
            .ctr
            .get_or_insert_default()
            .push(containerd.run(&args)?);
        drop(target);

        let target = registry()?;
        plain_http(&certs_d, &target.host())?;
        let destination = format!("{}/bench/app:1", target.host());
        reduced.hoist.push(push(&seed, &destination, two.clone())?);
        drop(target);
        let target = registry()?;
        let destination = format!("{}/bench/app:1", target.host());
        let args = [
            "images",
            "push",
            "--plain-http",
            "--platform",
            "linux/amd64",
            "--platform",
            "linux/arm64",
            &destination,
            &reference,
        ];
        reduced
            .ctr
            .get_or_insert_default()
            .push(containerd.run(&args)?);
        drop(target);
    }
    drop(containerd);
    rows.push(empty);
    rows.push(again);
    rows.push(reduced);
    finish(settings, &rows, peak)
}

/// Prints the table and writes it to `--out`.
fn finish(settings: &Settings, rows: &[Row], peak: f64) -> Result<()> {
    let header = format!(
        "Medians of {} runs; {} MB, 4-platform fixture with one layer shared by all \
         (9 blobs), served by docker-registry on 127.0.0.1; {} cores. \
         Peak RSS of a hoist pull: {peak:.1} MiB.",
        settings.runs,
        settings.size_mb,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let text = table::render(rows, &header);
    println!("{text}");
    if let Some(out) = &settings.out {
        std::fs::write(out, &text).map_err(|e| format!("writing {}: {e}", out.display()))?;
    }
    Ok(())
}

/// Prints this process's peak resident memory (`VmHWM`) as
/// `vmhwm_kib=N`, for the parent to read (`peak_mib`).
pub(crate) fn print_peak() -> Result<()> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().to_owned())
        .unwrap_or_default();
    println!("vmhwm_kib={peak}");
    Ok(())
}
