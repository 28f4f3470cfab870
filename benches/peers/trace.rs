//! `--trace-requests RTT_MS`: where the round trips of one pull go. Pulls
//! the bench's image (all platforms, then one) through a latency forwarder
//! adding `RTT_MS` to every round trip, in this process, with the registry
//! client's request log (tracing, debug level) on standard error, each line
//! stamped with the time since start; then prints how many connections the
//! pull opened and how long it took, in round trips. Then the same for a
//! push of all platforms to an empty registry as far away, and again.
//! With `--tls` the registries serve HTTPS from a test CA that hoist is
//! told to trust (`ca.crt` in its certs.d), so HTTP/2 is offered by ALPN;
//! each response's log line names the HTTP version it came in.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hoist::{NoProgress, Platforms, PullOptions, PushOptions};
use hoist_testkit::{Fixture, FixtureSpec, LatencyProxy, Registry, RegistryOptions};

use crate::peers::{Result, plain_http, runtime, store_at};

/// Runs the traced pulls; `args` is `RTT_MS [SIZE_MB] [--probe] [--tls]`;
/// with `--probe` hoist is not told the far registry speaks plain HTTP and
/// finds out itself; with `--tls` the registries serve HTTPS.
pub fn trace_requests(args: &[String]) -> Result<()> {
    let probe = args.iter().any(|a| a == "--probe");
    let tls = args.iter().any(|a| a == "--tls");
    let plain = !probe && !tls;
    let args: Vec<&String> = args
        .iter()
        .filter(|a| *a != "--probe" && *a != "--tls")
        .collect();
    let rtt_ms: u64 = args
        .first()
        .ok_or("--trace-requests RTT_MS [SIZE_MB] [--probe] [--tls]")?
        .parse()
        .map_err(|e| format!("RTT_MS: {e}"))?;
    let size_mb: usize = match args.get(1) {
        Some(size) => size.parse().map_err(|e| format!("SIZE_MB: {e}"))?,
        None => 20,
    };
    let part = size_mb * 1024 * 1024 / 5;
    let fixture = Fixture::generate(&FixtureSpec::four_platforms(7, part, part))
        .map_err(|e| e.to_string())?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let layout = work.path().join("layout");
    fixture
        .write_oci_layout(&layout, "1")
        .map_err(|e| e.to_string())?;
    let runtime = runtime()?;
    let source = registry(tls)?;
    let certs_d = work.path().join("certs.d");
    reach(&certs_d, &source, &source.host(), !tls)?;
    let seed = store_at(&work.path().join("seed"), Some(&certs_d), None)?;
    seed.load_path(&layout, Some("bench.local/app"))
        .map_err(|e| format!("loading the fixture: {e}"))?;
    runtime
        .block_on(seed.push(
            "bench.local/app:1",
            Some(&format!("{}/bench/app:1", source.host())),
            &PushOptions::new(Platforms::All),
            Arc::new(NoProgress),
        ))
        .map_err(|e| format!("pushing the fixture: {e}"))?;

    let target = registry(tls)?;
    reach(&certs_d, &target, &target.host(), !tls)?;
    let rtt = Duration::from_millis(rtt_ms);
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_writer(std::io::stderr)
        .init();
    for (label, platforms) in [
        ("all platforms", Platforms::All),
        (
            "linux/arm64",
            Platforms::Only(vec![
                hoist::platform::parse("linux/arm64").map_err(|e| e.to_string())?,
            ]),
        ),
    ] {
        // A new forwarder each time: no connection survives from the last pull.
        let proxy = LatencyProxy::start(&source.host(), rtt).map_err(|e| e.to_string())?;
        reach(&certs_d, &source, &proxy.host(), plain)?;
        let root = work
            .path()
            .join(format!("pull-{}", label.replace('/', "-")));
        let store = store_at(Path::new(&root), Some(&certs_d), None)?;
        let reference = format!("{}/bench/app:1", proxy.host());
        eprintln!("trace: pull {label} of {reference}, {rtt_ms} ms RTT");
        let started = Instant::now();
        runtime
            .block_on(store.pull(
                &reference,
                &PullOptions::new(platforms),
                Arc::new(NoProgress),
            ))
            .map_err(|e| format!("pulling {reference}: {e}"))?;
        let elapsed = started.elapsed();
        println!(
            "pull {label}, {rtt_ms} ms RTT: {:.0} ms ({:.1} RTT), {} connections",
            elapsed.as_secs_f64() * 1e3,
            elapsed.as_secs_f64() / rtt.as_secs_f64().max(1e-9),
            proxy.connections()
        );
    }
    for round in ["to an empty registry", "again"] {
        let proxy = LatencyProxy::start(&target.host(), rtt).map_err(|e| e.to_string())?;
        reach(&certs_d, &target, &proxy.host(), plain)?;
        let destination = format!("{}/bench/app:1", proxy.host());
        eprintln!("trace: push {round}, {destination}, {rtt_ms} ms RTT");
        let started = Instant::now();
        runtime
            .block_on(seed.push(
                "bench.local/app:1",
                Some(&destination),
                &PushOptions::new(Platforms::All),
                Arc::new(NoProgress),
            ))
            .map_err(|e| format!("pushing to {destination}: {e}"))?;
        let elapsed = started.elapsed();
        println!(
            "push {round}, {rtt_ms} ms RTT: {:.0} ms ({:.1} RTT), {} connections",
            elapsed.as_secs_f64() * 1e3,
            elapsed.as_secs_f64() / rtt.as_secs_f64().max(1e-9),
            proxy.connections()
        );
    }
    Ok(())
}

/// A docker-registry on loopback, serving HTTPS with `tls`.
fn registry(tls: bool) -> Result<Registry> {
    let options = if tls {
        RegistryOptions::plain().with_tls()
    } else {
        RegistryOptions::plain()
    };
    Registry::start(options)
        .map_err(|e| format!("starting docker-registry: {e}"))?
        .ok_or_else(|| "docker-registry is not installed".to_owned())
}

/// Tells hoist how to reach `registry` at `host` (itself or a forwarder to
/// it): over plain HTTP with `plain`, trusting its test CA when it serves
/// HTTPS, and otherwise left to find out.
fn reach(certs_d: &Path, registry: &Registry, host: &str, plain: bool) -> Result<()> {
    if plain {
        return plain_http(certs_d, host);
    }
    let Some(ca) = registry.ca_cert() else {
        return Ok(());
    };
    let dir = certs_d.join(host);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join("ca.crt");
    std::fs::copy(ca, &file).map_err(|e| format!("{} to {}: {e}", ca.display(), file.display()))?;
    Ok(())
}
