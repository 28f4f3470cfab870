//! `hoist serve [--listen ADDR] [--upstream REGISTRY[/PREFIX]]...
//! [--upstream-tag-ttl DURATION] [--tls-cert FILE --tls-key FILE]
//! [--htpasswd FILE] [--format text|json]`: the namespace's images as a
//! read-only registry (pulling through from the upstreams what it lacks,
//! keeping the tags it holds from them fresh) until SIGINT or SIGTERM; one
//! access-log line per request on stderr.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use hoist_serve::{ServeOptions, TlsFiles, Upstream};
use tokio::signal::unix::{SignalKind, signal};

use crate::args::{LogFormat, ServeArgs};
use crate::context::Context;
use crate::exit::UsageError;
use crate::inputs::parse_duration;

/// Serves until a signal, then stops accepting and lets open responses end.
///
/// # Errors
/// A bad `--listen` (exit 2), a store that cannot be opened, an address
/// that cannot be bound.
pub fn run(context: &Context, args: &ServeArgs) -> anyhow::Result<()> {
    let listen: SocketAddr = args.listen.parse().map_err(|e| {
        UsageError(format!(
            "invalid --listen {:?}: {e} (expected IP:PORT, e.g. 127.0.0.1:5000)",
            args.listen
        ))
    })?;
    let mut options = ServeOptions::default().listen(listen);
    for upstream in &args.upstream {
        let parsed = upstream
            .parse::<Upstream>()
            .map_err(|e| UsageError(format!("invalid --upstream: {e}")))?;
        options = options.upstream(parsed);
    }
    let tag_ttl = parse_duration(&args.upstream_tag_ttl)
        .map_err(|e| UsageError(format!("invalid --upstream-tag-ttl: {}", e.0)))?;
    options = options.upstream_tag_ttl(tag_ttl);
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        options = options.tls(TlsFiles::new(cert, key));
    }
    if let Some(htpasswd) = &args.htpasswd {
        options = options.htpasswd(htpasswd);
    }
    let store = context.open_remote_store()?;
    // The access log on stderr, INFO and up: plain lines, or JSON objects
    // with the event's fields at the top level.
    let log = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO);
    let _ = match args.format {
        LogFormat::Text => log.try_init(),
        LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    let runtime = context.runtime()?;
    runtime.block_on(async {
        let mut terminate = signal(SignalKind::terminate()).context("watching for SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("watching for SIGINT")?;
        let server = match hoist_serve::serve(store, options).await {
            Ok(server) => server,
            // A bad certificate, key or htpasswd file is bad input.
            Err(error) if error.kind() == hoist_serve::ErrorKind::InvalidArgument => {
                return Err(UsageError(error.to_string()).into());
            }
            Err(error) => {
                return Err(anyhow::Error::new(error))
                    .with_context(|| format!("starting the registry on {listen}"));
            }
        };
        // The bound address, alone on stdout, for scripts that asked for port 0.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", server.local_addr()).context("writing to stdout")?;
        stdout.flush().context("writing to stdout")?;
        drop(stdout);
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        server.shutdown().await;
        Ok(())
    })
}
