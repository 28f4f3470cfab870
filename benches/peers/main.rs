//! `cargo xtask bench`: hoist beside skopeo, containerd's `ctr` and the
//! floor (curl fetching every blob in parallel straight to files) on a
//! generated multi-platform image served by a local `docker-registry`.
//!
//! Rows: pull all platforms, pull one, push to an empty registry, push again
//! (everything present), and a reduced push of 2 of the 4 platforms. Each
//! cell is the median of `--runs` runs; a hoist pull runs in a child process
//! (this binary, `--child-pull`) so its peak memory can be read. The result
//! is a markdown table on standard output (and in `--out`, if given).
//!
//! Usage: `cargo bench -p hoist --bench peers -- [--runs N] [--size-mb M] [--out FILE]`;
//! `-- --trace-requests RTT_MS [SIZE_MB]` logs the requests of one pull
//! through a far registry instead (see `trace.rs`); `-- --realistic ...`
//! runs the realistic images at 20 and 80 ms RTT (see `realistic.rs`).

mod peers;
mod push_floor;
mod realistic;
mod table;
mod trace;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let result = if args.first().map(String::as_str) == Some("--child-pull") {
        peers::child_pull(&args[1..])
    } else if args.first().map(String::as_str) == Some("--child-push") {
        realistic::child_push(&args[1..])
    } else if args.first().map(String::as_str) == Some("--child-copy") {
        realistic::child_copy(&args[1..])
    } else if args.first().map(String::as_str) == Some("--trace-requests") {
        trace::trace_requests(&args[1..])
    } else if args.first().map(String::as_str) == Some("--realistic") {
        realistic::RealisticSettings::parse(&args[1..])
            .and_then(|settings| realistic::run(&settings))
    } else {
        peers::Settings::parse(&args).and_then(|settings| peers::run(&settings))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: error: {message}");
            ExitCode::FAILURE
        }
    }
}
