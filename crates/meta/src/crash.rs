//! Named points in the write paths where the crash tests stop a process.
//!
//! With the `crash-points` feature (enabled only by this crate's own tests),
//! a process whose `HOIST_META_PAUSE_AT` names a point prints
//! `hoist-meta: paused at <point>` on stderr when it gets there and then
//! sleeps until it is killed. Without the feature every point compiles to
//! nothing.

/// The environment variable naming the point to pause at.
#[cfg(feature = "crash-points")]
pub const PAUSE_AT: &str = "HOIST_META_PAUSE_AT";

/// Pauses here forever if this point is the one named by `HOIST_META_PAUSE_AT`.
#[cfg(feature = "crash-points")]
pub(crate) fn point(name: &str) {
    use std::io::Write;
    use std::sync::OnceLock;
    static TARGET: OnceLock<Option<String>> = OnceLock::new();
    let target = TARGET.get_or_init(|| std::env::var(PAUSE_AT).ok());
    if target.as_deref() == Some(name) {
        let mut stderr = std::io::stderr().lock();
        // The test waits for this line before it kills us.
        let _ = writeln!(stderr, "hoist-meta: paused at {name}");
        let _ = stderr.flush();
        drop(stderr);
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// Without the `crash-points` feature: nothing.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub(crate) fn point(_name: &str) {}
