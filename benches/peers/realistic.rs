//! `--realistic`: images as people pull them, from registries as far away
//! as theirs. Three images, generated deterministically by the testkit:
//! 40 layers on 2 platforms (~250 MiB, layers from 4 KiB to 60 MiB), an
//! index of 8 platforms with 12 layers each (half shared), and the first
//! again behind token auth (its token service as far away as the registry).
//! Each is served by a docker-registry reached through a latency forwarder
//! at each RTT, and hoist, skopeo and ctr each pull all platforms, pull
//! one, push to an empty registry, push again, push 2 platforms only and
//! copy registry to registry (ctr cannot: "n/a"). Every hoist operation
//! runs in a child process (this binary) so that its CPU time and peak
//! memory are its own.
//!
//! Pull rows have a verified floor (curl fetching every blob in parallel,
//! hashing it). Pushes to an empty registry and reduced pushes have two
//! push floors (`push_floor.rs`): the same blobs, from the fixture's OCI
//! layout, uploaded to a fresh registry through the same forwarder, 16 at
//! a time (hoist's default), by the shortest exchange docker-registry
//! accepts: per blob `POST /v2/<repo>/blobs/uploads/` (keeping the
//! `Location`), then `PUT <location>&digest=` with the bytes; then the
//! platforms' manifests by digest, all at once, then the index by tag.
//! Every answer must be 201 (202 for an upload's start), or the bench
//! fails naming the blob. They are floors of these bytes to this registry
//! through this forwarder on this machine because they do only what the
//! registry requires: no presence checks (they know nothing is there), no
//! read-back of what they wrote, no hashing (the digests are known), no
//! TLS, files streamed as they are read, largest blob first, all in
//! parallel; what is left is the round trips and the registry's own work
//! (hashing, writing, moving each blob into place).
//!
//! - **push floor (curl)**: curl's C code, one curl per phase: one POSTs
//!   every upload start, a second PUTs every blob (`-T`, without
//!   `Expect: 100-continue`), a third the manifests, a fourth the index.
//!   It pays what curl cannot avoid and a client need not: each curl opens
//!   its connections anew (a round trip), and no blob's bytes go out
//!   before every upload has started; the note gives each phase's time.
//! - **push floor (kept connections)**: the same requests as a client that
//!   keeps its connections makes them: 16 threads of this bench, each on
//!   one HTTP/1.1 connection opened once, sending a blob's POST then its
//!   PUT (the file sent by the kernel with `sendfile`) as soon as the last
//!   blob is done, then the manifests on the same connections. This is the
//!   floor proper; its CPU (in the note) is the registry's alone, the
//!   threads being this process's.
//!
//! The reduced rows' floors upload the kept platforms' blobs and manifests
//! but no index (hoist pushes an index of its own making, which the floor
//! has no bytes for): one round trip less than a real reduced push.
//!
//! "cores busy during hoist" is the share of the machine's CPU time (all
//! cores, `/proc/stat`) spent busy while the hoist child ran, median of the
//! runs: hoist, the registry, the forwarder (this process) and anything
//! else. Near 100%, the two cores are the row's limit for any tool.
//!
//! Usage: `cargo xtask bench --realistic [--quick] [--runs N] [--rtt MS]...
//! [--image many-layers|eight-platforms|token]... [--out FILE]`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hoist::{NoProgress, Platforms, PushOptions};
use hoist_testkit::{
    Fixture, FixtureBlob, FixtureImage, FixtureSpec, IssuerOptions, LatencyProxy, Registry,
    RegistryOptions,
};

use crate::peers::{
    CERTS_D_ENV, Containerd, DOCKER_CONFIG_ENV, Result, child_store_at, cpu_ticks, peak_mib,
    plain_http, runtime, store_at, timed, tool, verified_floor,
};
use crate::push_floor::{FloorTimes, PushPlan, Upload, kept_connections_floor, push_floor};
use crate::table::median;

/// The user the token-auth registries know (testkit's default pusher).
const USER: &str = "alice";
const PASSWORD: &str = "wonderland";

/// The repository every image is pushed to.
const REPOSITORY: &str = "bench/app";

/// The platform of the "pull one" rows, and the two of the reduced push
/// (the one, of an image of two).
const ONE: &str = "linux/arm64";
const TWO: [&str; 2] = ["linux/amd64", "linux/arm64"];

/// The images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Image {
    ManyLayers,
    EightPlatforms,
    ManyLayersToken,
}

impl Image {
    fn parse(text: &str) -> Result<Image> {
        match text {
            "many-layers" => Ok(Image::ManyLayers),
            "eight-platforms" => Ok(Image::EightPlatforms),
            "token" => Ok(Image::ManyLayersToken),
            other => Err(format!(
                "unknown image {other:?} (many-layers, eight-platforms, token)"
            )),
        }
    }

    fn spec(self) -> FixtureSpec {
        match self {
            Image::ManyLayers | Image::ManyLayersToken => FixtureSpec::many_layers(11),
            Image::EightPlatforms => FixtureSpec::eight_platforms(12),
        }
    }

    fn token(self) -> bool {
        self == Image::ManyLayersToken
    }

    fn label(self) -> &'static str {
        match self {
            Image::ManyLayers => "40 layers × 2 platforms",
            Image::EightPlatforms => "8 platforms × 12 layers",
            Image::ManyLayersToken => "40 layers × 2 platforms, token auth",
        }
    }
}

/// What to run.
pub struct RealisticSettings {
    runs: usize,
    rtts: Vec<u64>,
    images: Vec<Image>,
    out: Option<PathBuf>,
}

impl RealisticSettings {
    /// Reads the arguments after `--realistic`.
    pub fn parse(args: &[String]) -> Result<RealisticSettings> {
        let mut settings = RealisticSettings {
            runs: 5,
            rtts: Vec::new(),
            images: Vec::new(),
            out: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => settings.runs = 1,
                "--runs" => settings.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
                "--rtt" => settings
                    .rtts
                    .push(value()?.parse().map_err(|e| format!("--rtt: {e}"))?),
                "--image" => settings.images.push(Image::parse(&value()?)?),
                "--out" => settings.out = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        settings.runs = settings.runs.max(1);
        if settings.rtts.is_empty() {
            settings.rtts = vec![20, 80];
        }
        if settings.images.is_empty() {
            settings.images = vec![
                Image::ManyLayers,
                Image::EightPlatforms,
                Image::ManyLayersToken,
            ];
        }
        Ok(settings)
    }
}

/// The hosts the tools are told about: plain HTTP for hoist (as ctr gets
/// `--plain-http`), and for token auth the password in a Docker
/// `config.json` (as skopeo gets `--creds`, ctr `--user`).
struct Hosts {
    certs_d: PathBuf,
    docker_config: PathBuf,
    token: bool,
    known: Vec<String>,
}

impl Hosts {
    fn add(&mut self, host: &str) -> Result<()> {
        plain_http(&self.certs_d, host)?;
        if !self.token {
            return Ok(());
        }
        self.known.push(host.to_owned());
        let auth = base64(format!("{USER}:{PASSWORD}").as_bytes());
        let auths: serde_json::Map<String, serde_json::Value> = self
            .known
            .iter()
            .map(|h| (h.clone(), serde_json::json!({ "auth": auth })))
            .collect();
        let text = serde_json::json!({ "auths": auths }).to_string();
        std::fs::write(&self.docker_config, text)
            .map_err(|e| format!("{}: {e}", self.docker_config.display()))
    }

    fn docker_config(&self) -> Option<&Path> {
        self.token.then_some(self.docker_config.as_path())
    }

    /// A child hoist with these settings.
    fn hoist(&self, exe: &Path) -> Command {
        let mut command = Command::new(exe);
        command.env(CERTS_D_ENV, &self.certs_d);
        if self.token {
            command.env(DOCKER_CONFIG_ENV, &self.docker_config);
        }
        command
    }
}

/// Standard base64 with padding (only for the bench's one `auth` value).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A registry (plain, or token auth with its issuer `rtt` away) and the
/// forwarder that puts it `rtt` away.
struct FarRegistry {
    registry: Registry,
    proxy: LatencyProxy,
}

impl FarRegistry {
    fn start(image: Image, rtt: Duration, hosts: &mut Hosts) -> Result<FarRegistry> {
        let options = if image.token() {
            RegistryOptions::token(IssuerOptions::default()).with_realm_rtt(rtt)
        } else {
            RegistryOptions::plain()
        };
        let registry = Registry::start(options)
            .map_err(|e| format!("starting docker-registry: {e}"))?
            .ok_or("docker-registry is not installed")?;
        let proxy = LatencyProxy::start(&registry.host(), rtt)
            .map_err(|e| format!("starting the latency proxy: {e}"))?;
        hosts.add(&registry.host())?;
        hosts.add(&proxy.host())?;
        Ok(FarRegistry { registry, proxy })
    }

    /// The image's reference through the forwarder.
    fn far(&self) -> String {
        format!("{}/{REPOSITORY}:1", self.proxy.host())
    }
}

/// One run of a tool: its time, CPU seconds (with the servers') and peak
/// memory in MiB when known.
type Sample = (Duration, f64, Option<f64>);

/// The timings and costs of one tool on one row.
#[derive(Default)]
struct Samples {
    times: Vec<Duration>,
    cpu: Vec<f64>,
    peak_mib: f64,
    /// For hoist: how busy the whole machine was while it ran, 0 to 1
    /// (hoist, the registry, the forwarder and anything else).
    busy: Vec<f64>,
}

impl Samples {
    fn add(&mut self, (time, cpu, peak): Sample) {
        self.times.push(time);
        self.cpu.push(cpu);
        self.peak_mib = self.peak_mib.max(peak.unwrap_or(0.0));
    }

    fn add_busy(&mut self, (sample, busy): (Sample, Option<f64>)) {
        self.add(sample);
        if let Some(busy) = busy {
            self.busy.push(busy);
        }
    }
}

/// The machine's busy and total CPU ticks so far, all cores (the first
/// line of `/proc/stat`): busy is user, nice, system, irq, softirq, steal.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .take(8)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = fields[..] else {
        return None;
    };
    let busy = user + nice + system + irq + softirq + steal;
    Some((busy, busy + idle + iowait))
}

/// A tool's cell: measured, or what it cannot do.
enum Cell {
    Measured(Samples),
    Cannot(&'static str),
}

impl Cell {
    fn samples(&mut self) -> Option<&mut Samples> {
        match self {
            Cell::Measured(samples) => Some(samples),
            Cell::Cannot(_) => None,
        }
    }

    fn median(&self) -> Option<Duration> {
        match self {
            Cell::Measured(samples) => median(&samples.times),
            Cell::Cannot(_) => None,
        }
    }
}

struct Row {
    operation: String,
    hoist: Samples,
    skopeo: Cell,
    ctr: Cell,
    verified_floor: Option<Vec<Duration>>,
    /// Each sample's phases and CPU seconds (curl and the registry).
    push_floor: Option<Vec<(FloorTimes, f64)>>,
    /// Each sample's time and the registry's CPU seconds.
    kept_floor: Option<Vec<(Duration, f64)>>,
    /// skopeo stopped after two runs (see [`SLOW_PEER`]).
    slow_peer_capped: bool,
    note: &'static str,
}

/// A peer cell whose every run so far took this many times hoist's slowest
/// is not run again after two runs: its median cannot change a verdict (it
/// is over 10× hoist, so hoist/it stays under 0.1×), and skopeo's pushes
/// through a far registry take 20–70 s a run, a third of a 5-run bench.
const SLOW_PEER: u32 = 10;

impl Row {
    /// Whether the peer `cell` has two runs, each over [`SLOW_PEER`] times
    /// hoist's slowest run of this row.
    fn enough_of_a_slow_peer(&self, cell: &Cell) -> bool {
        let Cell::Measured(samples) = cell else {
            return true;
        };
        let slowest_hoist = self.hoist.times.iter().max().copied();
        samples.times.len() >= 2
            && slowest_hoist
                .is_some_and(|hoist| samples.times.iter().all(|peer| *peer > hoist * SLOW_PEER))
    }

    /// A row where skopeo and ctr are both measured.
    fn measured(operation: String) -> Row {
        Row::new(operation, measured(), measured())
    }

    fn new(operation: String, skopeo: Cell, ctr: Cell) -> Row {
        Row {
            operation,
            hoist: Samples::default(),
            skopeo,
            ctr,
            verified_floor: None,
            push_floor: None,
            kept_floor: None,
            slow_peer_capped: false,
            note: "",
        }
    }
}

fn measured() -> Cell {
    Cell::Measured(Samples::default())
}

/// CPU seconds (user + system) of `pids` and of the children this process
/// waited for while `work` ran, with `work`'s result.
fn with_cpu<T>(pids: &[u32], work: impl FnOnce() -> Result<T>) -> Result<(T, f64)> {
    let ticks = |pids: &[u32]| -> u64 {
        let own = cpu_ticks("self").map_or(0, |(_, _, children)| children);
        own + pids
            .iter()
            .filter_map(|pid| cpu_ticks(&pid.to_string()))
            .map(|(user, system, _)| user + system)
            .sum::<u64>()
    };
    let before = ticks(pids);
    let value = work()?;
    let after = ticks(pids);
    Ok((value, after.saturating_sub(before) as f64 / 100.0))
}

/// Runs a hoist child and returns its time, CPU (with `servers`') and peak,
/// and how busy the machine's cores were meanwhile (0 to 1): near 1, the
/// cores are the limit of that row, whatever the tool.
fn hoist_child(
    hosts: &Hosts,
    exe: &Path,
    args: &[&str],
    servers: &[u32],
) -> Result<(Sample, Option<f64>)> {
    let before = machine_ticks();
    let ((elapsed, stdout), cpu) = with_cpu(servers, || timed(hosts.hoist(exe).args(args)))?;
    let busy = match (before, machine_ticks()) {
        (Some((busy_before, total_before)), Some((busy_after, total_after)))
            if total_after > total_before =>
        {
            Some((busy_after - busy_before) as f64 / (total_after - total_before) as f64)
        }
        _ => None,
    };
    Ok(((elapsed, cpu, peak_mib(&stdout)), busy))
}

/// Runs a peer's command and returns its time and CPU (with `servers`').
fn peer(command: &mut Command, servers: &[u32]) -> Result<Sample> {
    let ((elapsed, _), cpu) = with_cpu(servers, || once_more(|| timed(command)))?;
    Ok((elapsed, cpu, None))
}

/// Runs a peer's `attempt`, and once more if it fails: under load
/// containerd sometimes ends a push with "unexpected EOF", which would
/// throw away the whole run. The time kept is the attempt that succeeded,
/// after whatever the failed one left at the registry, so a retry can only
/// make the peer look faster, never hoist; the CPU of both is counted.
fn once_more<T>(mut attempt: impl FnMut() -> Result<T>) -> Result<T> {
    attempt().or_else(|error| {
        eprintln!("bench: a peer failed, trying once more: {error}");
        attempt()
    })
}

fn platforms_arg(list: &[&str]) -> String {
    list.join(",")
}

/// Everything: prints the table and writes it to `--out`.
pub fn run(settings: &RealisticSettings) -> Result<()> {
    let skopeo = tool("skopeo")?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut tables = Vec::new();
    for image in &settings.images {
        tables.push(run_image(settings, *image, &skopeo, &exe)?);
    }
    let text = format!(
        "Realistic images: medians of {} run(s) per cell, {} cores; RTTs added by a latency \
         forwarder on loopback (token services as far as their registries); the whole run took \
         {:.0} s.\n\n{}",
        settings.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        started.elapsed().as_secs_f64(),
        tables.join("\n")
    );
    println!("{text}");
    if let Some(out) = &settings.out {
        std::fs::write(out, &text).map_err(|e| format!("writing {}: {e}", out.display()))?;
    }
    Ok(())
}

fn run_image(
    settings: &RealisticSettings,
    image: Image,
    skopeo: &Path,
    exe: &Path,
) -> Result<String> {
    eprintln!("bench: generating {}", image.label());
    let fixture = Fixture::generate(&image.spec()).map_err(|e| e.to_string())?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let layout = work.path().join("layout");
    fixture
        .write_oci_layout(&layout, "1")
        .map_err(|e| e.to_string())?;
    let mut hosts = Hosts {
        certs_d: work.path().join("certs.d"),
        docker_config: work.path().join("docker-config.json"),
        token: image.token(),
        known: Vec::new(),
    };
    let seed_root = work.path().join("seed");
    {
        let seed = store_at(&seed_root, Some(&hosts.certs_d), None)?;
        seed.load_path(&layout, Some("bench.local/app"))
            .map_err(|e| format!("loading the fixture: {e}"))?;
    }
    let platform_count = fixture.images.len();
    let total_mib =
        fixture.blobs().iter().map(|b| b.size()).sum::<u64>() as f64 / f64::from(1 << 20);
    let is_document =
        |media_type: &str| media_type.contains("manifest") || media_type.contains("index");
    let all_blobs: Vec<String> = fixture
        .blobs()
        .into_iter()
        .filter(|b| !is_document(&b.media_type))
        .map(|b| b.digest.clone())
        .collect();
    let arm64 = fixture
        .images
        .iter()
        .find(|i| i.platform.architecture == "arm64")
        .ok_or("the fixture has no arm64 image")?;
    let one_blobs: Vec<String> = std::iter::once(&arm64.config)
        .chain(arm64.layers.iter())
        .map(|b| b.digest.clone())
        .collect();
    let kept: &[&str] = if platform_count > 2 { &TWO } else { &[ONE] };
    let push_plan = plan_of(&layout, &fixture, fixture.images.iter().collect(), true);
    let reduced_plan = plan_of(
        &layout,
        &fixture,
        fixture
            .images
            .iter()
            .filter(|i| {
                let platform = format!("{}/{}", i.platform.os, i.platform.architecture);
                kept.contains(&platform.as_str())
            })
            .collect(),
        false,
    );
    if push_plan.blobs.len() != all_blobs.len() || reduced_plan.manifests.len() != kept.len() {
        return Err(format!(
            "the push floor's plans do not match the fixture: {} of {} blobs, {} of {} platforms",
            push_plan.blobs.len(),
            all_blobs.len(),
            reduced_plan.manifests.len(),
            kept.len()
        ));
    }
    let curl = tool("curl")?;
    let creds = format!("{USER}:{PASSWORD}");
    let runtime = runtime()?;
    // ctr pushes from its own store: pulled once, near, from the first
    // source, under that source's name.
    let mut pushing: Option<(Containerd, String)> = None;

    let mut rows = Vec::new();
    for rtt_ms in &settings.rtts {
        let rtt = Duration::from_millis(*rtt_ms);
        let at = format!(", {rtt_ms} ms");
        let source = FarRegistry::start(image, rtt, &mut hosts)?;
        {
            let seed = store_at(&seed_root, Some(&hosts.certs_d), hosts.docker_config())?;
            runtime
                .block_on(seed.push(
                    "bench.local/app:1",
                    Some(&format!("{}/{REPOSITORY}:1", source.registry.host())),
                    &PushOptions::new(Platforms::All),
                    Arc::new(NoProgress),
                ))
                .map_err(|e| format!("pushing the fixture: {e}"))?;
        }
        if pushing.is_none() {
            let containerd = Containerd::start()?;
            let near = format!("{}/{REPOSITORY}:1", source.registry.host());
            let mut args = vec!["images", "pull", "--plain-http", "--all-platforms"];
            if image.token() {
                args.extend(["--user", &creds]);
            }
            args.push(&near);
            once_more(|| containerd.run(&args))?;
            pushing = Some((containerd, near));
        }
        let (containerd, ctr_image) = pushing.as_ref().ok_or("containerd did not start")?;
        let far_source = source.far();
        let source_pid = source.registry.pid();

        let mut pull_all = Row::measured(format!("pull all {platform_count} platforms{at}"));
        let mut pull_one = Row::measured(format!("pull 1 platform ({ONE}){at}"));
        if !image.token() {
            pull_all.verified_floor = Some(Vec::new());
            pull_one.verified_floor = Some(Vec::new());
        }
        let mut push_empty = Row::measured(format!("push to an empty registry{at}"));
        let mut push_again = Row::measured(format!("push again (all present){at}"));
        let mut reduced = Row::new(
            format!(
                "reduced push, {} of {platform_count} platforms{at}",
                kept.len()
            ),
            Cell::Cannot("n/a"),
            measured(),
        );
        reduced.note =
            "skopeo 1.9 cannot push a subset of an index; ctr 1.6 pushes the whole index";
        let mut copy = Row::new(
            format!("copy registry → registry{at}"),
            measured(),
            Cell::Cannot("n/a"),
        );
        copy.note = "ctr has no registry-to-registry copy";
        // Like the verified floor, only where curl needs no token.
        if !image.token() {
            push_empty.push_floor = Some(Vec::new());
            reduced.push_floor = Some(Vec::new());
            push_empty.kept_floor = Some(Vec::new());
            reduced.kept_floor = Some(Vec::new());
        }

        for run in 0..settings.runs {
            eprintln!("bench: {}{at}, run {}", image.label(), run + 1);
            let root = work.path().join("hoist");
            let root_text = root.display().to_string();
            // Pulls.
            for (row, platform, blobs) in [
                (&mut pull_all, "all", &all_blobs),
                (&mut pull_one, ONE, &one_blobs),
            ] {
                row.hoist.add_busy(hoist_child(
                    &hosts,
                    exe,
                    &[
                        "--child-pull",
                        &root_text,
                        &far_source,
                        platform,
                        &hoist::DEFAULT_CONCURRENCY.to_string(),
                    ],
                    &[source_pid],
                )?);
                let _ = std::fs::remove_dir_all(&root);
                if let Some(floor) = &mut row.verified_floor {
                    floor.push(verified_floor(
                        &source.proxy.host(),
                        REPOSITORY,
                        blobs,
                        &work.path().join("floor"),
                    )?);
                }
                let dir = work.path().join("skopeo");
                let mut command = Command::new(skopeo);
                command.args(["copy", "--quiet", "--src-tls-verify=false"]);
                if platform == "all" {
                    command.arg("--all");
                } else {
                    command.args([
                        "--override-os",
                        "linux",
                        "--override-arch",
                        "arm64",
                        "--override-variant",
                        "v8",
                    ]);
                }
                if image.token() {
                    command.args(["--src-creds", &creds]);
                }
                command
                    .arg(format!("docker://{far_source}"))
                    .arg(format!("oci:{}:1", dir.display()));
                if let Some(samples) = row.skopeo.samples() {
                    samples.add(peer(&mut command, &[source_pid])?);
                }
                let _ = std::fs::remove_dir_all(&dir);
                let fetching = Containerd::start()?;
                let mut args = vec!["content", "fetch", "--plain-http"];
                if platform == "all" {
                    args.push("--all-platforms");
                } else {
                    args.extend(["--platform", "linux/arm64/v8"]);
                }
                if image.token() {
                    args.extend(["--user", &creds]);
                }
                args.push(&far_source);
                let pid = fetching.pid();
                let (time, cpu) = with_cpu(&[source_pid, pid], || fetching.run(&args))?;
                if let Some(samples) = row.ctr.samples() {
                    samples.add((time, cpu, None));
                }
            }

            // Pushes: each tool to a registry of its own, twice.
            let target = FarRegistry::start(image, rtt, &mut hosts)?;
            let dest = target.far();
            let servers = [target.registry.pid()];
            for row in [&mut push_empty, &mut push_again] {
                row.hoist.add_busy(hoist_child(
                    &hosts,
                    exe,
                    &[
                        "--child-push",
                        &seed_root.display().to_string(),
                        &dest,
                        "all",
                    ],
                    &servers,
                )?);
            }
            drop(target);
            let target = FarRegistry::start(image, rtt, &mut hosts)?;
            let dest = target.far();
            let servers = [target.registry.pid()];
            let mut command = Command::new(skopeo);
            command.args(["copy", "--quiet", "--all", "--dest-tls-verify=false"]);
            if image.token() {
                command.args(["--dest-creds", &creds]);
            }
            command
                .arg(format!("oci:{}:1", layout.display()))
                .arg(format!("docker://{dest}"));
            // The two rows go together (the second pushes onto the first).
            let skopeo_done = push_empty.enough_of_a_slow_peer(&push_empty.skopeo)
                && push_again.enough_of_a_slow_peer(&push_again.skopeo);
            for row in [&mut push_empty, &mut push_again] {
                if skopeo_done {
                    row.slow_peer_capped = true;
                } else if let Some(samples) = row.skopeo.samples() {
                    samples.add(peer(&mut command, &servers)?);
                }
            }
            drop(target);
            let target = FarRegistry::start(image, rtt, &mut hosts)?;
            let dest = target.far();
            let servers = [target.registry.pid(), containerd.pid()];
            let mut args = vec!["images", "push", "--plain-http"];
            if image.token() {
                args.extend(["--user", &creds]);
            }
            args.extend([dest.as_str(), ctr_image.as_str()]);
            for row in [&mut push_empty, &mut push_again] {
                let (time, cpu) = with_cpu(&servers, || once_more(|| containerd.run(&args)))?;
                if let Some(samples) = row.ctr.samples() {
                    samples.add((time, cpu, None));
                }
            }
            drop(target);

            // The reduced push.
            let target = FarRegistry::start(image, rtt, &mut hosts)?;
            let dest = target.far();
            reduced.hoist.add_busy(hoist_child(
                &hosts,
                exe,
                &[
                    "--child-push",
                    &seed_root.display().to_string(),
                    &dest,
                    &platforms_arg(kept),
                ],
                &[target.registry.pid()],
            )?);
            drop(target);
            let target = FarRegistry::start(image, rtt, &mut hosts)?;
            let dest = target.far();
            let servers = [target.registry.pid(), containerd.pid()];
            let mut args = vec!["images", "push", "--plain-http"];
            if image.token() {
                args.extend(["--user", &creds]);
            }
            for platform in kept {
                args.extend(["--platform", platform]);
            }
            args.extend([dest.as_str(), ctr_image.as_str()]);
            let (time, cpu) = with_cpu(&servers, || once_more(|| containerd.run(&args)))?;
            if let Some(samples) = reduced.ctr.samples() {
                samples.add((time, cpu, None));
            }
            drop(target);

            // The push floors, each to a registry of its own.
            for (row, plan) in [(&mut push_empty, &push_plan), (&mut reduced, &reduced_plan)] {
                if let Some(samples) = &mut row.push_floor {
                    let target = FarRegistry::start(image, rtt, &mut hosts)?;
                    samples.push(with_cpu(&[target.registry.pid()], || {
                        push_floor(&curl, &target.proxy.host(), REPOSITORY, plan)
                    })?);
                    drop(target);
                }
                if let Some(samples) = &mut row.kept_floor {
                    let target = FarRegistry::start(image, rtt, &mut hosts)?;
                    samples.push(with_cpu(&[target.registry.pid()], || {
                        kept_connections_floor(&target.proxy.host(), REPOSITORY, plan)
                    })?);
                    drop(target);
                }
            }

            // Registry to registry, both far.
            let target = FarRegistry::start(image, rtt, &mut hosts)?;
            copy.hoist.add_busy(hoist_child(
                &hosts,
                exe,
                &["--child-copy", &root_text, &far_source, &target.far()],
                &[source_pid, target.registry.pid()],
            )?);
            let _ = std::fs::remove_dir_all(&root);
            drop(target);
            let target = FarRegistry::start(image, rtt, &mut hosts)?;
            let mut command = Command::new(skopeo);
            command.args([
                "copy",
                "--quiet",
                "--all",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
            ]);
            if image.token() {
                command.args(["--src-creds", &creds, "--dest-creds", &creds]);
            }
            command
                .arg(format!("docker://{far_source}"))
                .arg(format!("docker://{}", target.far()));
            if let Some(samples) = copy.skopeo.samples() {
                samples.add(peer(&mut command, &[source_pid, target.registry.pid()])?);
            }
            drop(target);
        }
        rows.extend([pull_all, pull_one, push_empty, push_again, reduced, copy]);
    }
    Ok(render(image, platform_count, total_mib, &rows))
}

/// What the push floor uploads of `images` (each blob once), from the
/// fixture's OCI layout at `layout`; with the index (by tag `1`) or not.
fn plan_of(layout: &Path, fixture: &Fixture, images: Vec<&FixtureImage>, index: bool) -> PushPlan {
    let upload = |blob: &FixtureBlob| Upload {
        digest: blob.digest.clone(),
        media_type: blob.media_type.clone(),
        path: layout
            .join("blobs/sha256")
            .join(blob.digest.trim_start_matches("sha256:")),
        size: blob.size(),
    };
    let mut seen = std::collections::HashSet::new();
    let mut blobs: Vec<Upload> = images
        .iter()
        .flat_map(|image| std::iter::once(&image.config).chain(&image.layers))
        .filter(|blob| seen.insert(blob.digest.clone()))
        .map(upload)
        .collect();
    blobs.sort_by_key(|blob| std::cmp::Reverse(blob.size));
    PushPlan {
        blobs,
        manifests: images.iter().map(|image| upload(&image.manifest)).collect(),
        index: index.then(|| (upload(&fixture.index), "1".to_owned())),
    }
}

/// The push floor's sample of median time, with its CPU seconds.
fn median_floor(samples: &[(FloorTimes, f64)]) -> Option<(FloorTimes, f64)> {
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|(times, _)| times.total());
    sorted.get(sorted.len() / 2).copied()
}

fn seconds(time: Option<Duration>) -> String {
    time.map_or("—".to_owned(), |t| format!("{:.2} s", t.as_secs_f64()))
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Measured(samples) => seconds(median(&samples.times)),
        Cell::Cannot(why) => (*why).to_owned(),
    }
}

fn median_cpu(samples: &Samples) -> String {
    let mut values = samples.cpu.clone();
    values.sort_by(f64::total_cmp);
    values
        .get(values.len() / 2)
        .map_or("—".to_owned(), |v| format!("{v:.2}"))
}

/// The median share of the machine's cores busy while hoist ran.
fn busy_text(busy: &[f64]) -> String {
    let mut values = busy.to_vec();
    values.sort_by(f64::total_cmp);
    values
        .get(values.len() / 2)
        .map_or("—".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

fn cpu_text(cell: &Cell) -> String {
    match cell {
        Cell::Measured(samples) => median_cpu(samples),
        Cell::Cannot(why) => (*why).to_owned(),
    }
}

fn render(image: Image, platforms: usize, total_mib: f64, rows: &[Row]) -> String {
    let mut out = format!(
        "**{}** ({platforms} platforms, {total_mib:.0} MiB of blobs)\n\n\
         | operation | hoist | skopeo | ctr | verified floor | push floor (curl) \
         | push floor (kept connections) | hoist/best peer | hoist/verified floor | hoist/push floor \
         | hoist/kept-connections floor \
         | CPU-s hoist / skopeo / ctr (with the registries) | cores busy during hoist \
         | hoist peak RSS | note |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        image.label()
    );
    for row in rows {
        let hoist = median(&row.hoist.times);
        let best = [row.skopeo.median(), row.ctr.median()]
            .into_iter()
            .flatten()
            .min();
        let ratio = |other: Option<Duration>| match (hoist, other) {
            (Some(h), Some(o)) if o > Duration::ZERO => {
                format!("{:.2}×", h.as_secs_f64() / o.as_secs_f64())
            }
            _ => "—".to_owned(),
        };
        let floor = row.verified_floor.as_ref().and_then(|f| median(f));
        let push = row.push_floor.as_deref().and_then(median_floor);
        let push_time = push.map(|(times, _)| times.total());
        let kept = row.kept_floor.as_deref().and_then(|samples| {
            let mut sorted = samples.to_vec();
            sorted.sort_by_key(|(time, _)| *time);
            sorted.get(sorted.len() / 2).copied()
        });
        let kept_time = kept.map(|(time, _)| time);
        let mut note = row.note.to_owned();
        if row.slow_peer_capped {
            note = [
                note,
                format!("skopeo: median of 2 runs, each over {SLOW_PEER}× hoist's slowest"),
            ]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        }
        if let Some((times, cpu)) = push {
            let index = if row.operation.starts_with("reduced") {
                "kept manifests, no index"
            } else {
                "manifests, index"
            };
            note = [
                note,
                format!(
                    "push floor: POSTs {:.2} s, blob PUTs {:.2} s, {index} {:.2} s; \
                     {cpu:.2} CPU-s with the registry; kept-connections floor: {:.2} CPU-s \
                     of the registry",
                    times.starts.as_secs_f64(),
                    times.blobs.as_secs_f64(),
                    times.manifests.as_secs_f64(),
                    kept.map_or(0.0, |(_, cpu)| cpu),
                ),
            ]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} | {} | {:.1} MiB | {} |\n",
            row.operation,
            seconds(hoist),
            cell_text(&row.skopeo),
            cell_text(&row.ctr),
            seconds(floor),
            seconds(push_time),
            seconds(kept_time),
            ratio(best),
            ratio(floor),
            ratio(push_time),
            ratio(kept_time),
            median_cpu(&row.hoist),
            cpu_text(&row.skopeo),
            cpu_text(&row.ctr),
            busy_text(&row.hoist.busy),
            row.hoist.peak_mib,
            note,
        ));
    }
    out
}

/// The child of a push row: pushes `bench.local/app:1` of the store at
/// `root` to `destination`, `all` platforms or a comma-separated list, and
/// prints its peak memory.
pub fn child_push(args: &[String]) -> Result<()> {
    let [root, destination, platforms] = args else {
        return Err("--child-push ROOT DESTINATION all|P1,P2".to_owned());
    };
    let store = child_store_at(Path::new(root))?;
    let platforms = parse_platforms(platforms)?;
    runtime()?
        .block_on(store.push(
            "bench.local/app:1",
            Some(destination),
            &PushOptions::new(platforms),
            Arc::new(NoProgress),
        ))
        .map_err(|e| format!("pushing to {destination}: {e}"))?;
    crate::peers::print_peak()
}

/// The child of a copy row: copies every platform of `source` to
/// `destination` through a store at `root`, and prints its peak memory.
pub fn child_copy(args: &[String]) -> Result<()> {
    let [root, source, destination] = args else {
        return Err("--child-copy ROOT SOURCE DESTINATION".to_owned());
    };
    let store = child_store_at(Path::new(root))?;
    runtime()?
        .block_on(store.copy(
            source,
            destination,
            &PushOptions::new(Platforms::All),
            Arc::new(NoProgress),
        ))
        .map_err(|e| format!("copying {source} to {destination}: {e}"))?;
    crate::peers::print_peak()
}

fn parse_platforms(text: &str) -> Result<Platforms> {
    if text == "all" {
        return Ok(Platforms::All);
    }
    text.split(',')
        .map(|p| hoist::platform::parse(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>>>()
        .map(Platforms::Only)
}
