//! Child processes for the cases that cross a process boundary.
//!
//! A case re-runs the current test binary (`std::env::current_exe()`) with
//! libtest arguments that select only the suite's hidden child test
//! (`conformance_child_process`, `#[ignore]`d so normal runs skip it) and a job
//! in an environment variable. This works the same under `cargo test` and
//! `cargo nextest run`: both run plain libtest binaries, and the child is
//! started directly, not through either runner. The child writes its bytes,
//! then prints a ready line on stdout; the parent blocks reading that line, so
//! it knows exactly how far the child got without sleeping.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

use crate::digest::Digest;
use crate::records::WriterOptions;
use crate::store::{ContentWriter, Store};
use crate::testsuite::data::Pattern;

/// The environment variable carrying the child's job (JSON).
pub const JOB_ENV: &str = "HOIST_CONTENT_CONFORMANCE_JOB";

/// What the child prints once its bytes are written.
const READY: &str = "hoist-content-conformance-child-ready";

/// What a child does: open the store at `root`, open a writer, write the first
/// `bytes` bytes of the pattern of `seed`, report ready; then either close the
/// writer and exit, or hang (holding the writer) until killed.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Job {
    pub(crate) root: PathBuf,
    pub(crate) reference: String,
    pub(crate) expected: Option<Digest>,
    pub(crate) total: Option<u64>,
    pub(crate) seed: u64,
    pub(crate) bytes: u64,
    pub(crate) hang: bool,
}

/// The child side: called by the hidden test the macro generates. Without a
/// job in the environment (a run with `--ignored`), it does nothing.
///
/// # Panics
/// When the job cannot be done; the parent reports the child's output.
pub fn run_child<S: Store>(open: fn(&Path) -> S) {
    let Ok(job) = std::env::var(JOB_ENV) else {
        eprintln!("{JOB_ENV} is not set: this test is only a child-process entry point");
        return;
    };
    let job: Job = serde_json::from_str(&job).expect("the job is valid JSON");
    let store = open(&job.root);
    let mut options = WriterOptions::new(job.reference.clone());
    options.expected = job.expected.clone();
    options.total = job.total;
    let mut writer = store.writer(options).expect("the child opens its writer");
    let pattern = Pattern::new(job.seed);
    let mut buf = vec![0; 64 * 1024];
    while writer.offset() < job.bytes {
        let n = buf
            .len()
            .min(usize::try_from(job.bytes - writer.offset()).unwrap_or(usize::MAX));
        pattern.fill(writer.offset(), &mut buf[..n]);
        writer.write_all(&buf[..n]).expect("the child writes");
    }
    writer.flush().expect("the child flushes");
    if job.hang {
        report_ready();
        // Hold the writer until killed. If the parent goes away instead, stdin
        // reaches end of file and the child exits rather than linger.
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(2);
    }
    writer.close().expect("the child closes its writer");
    report_ready();
}

/// Tells the parent the bytes are written. Flushed explicitly: stdout is a
/// pipe here, and nothing may sit in a buffer while the child waits to be killed.
fn report_ready() {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{READY} {}", std::process::id()).expect("the child reports ready");
    stdout.flush().expect("the child flushes stdout");
}

/// A running child.
pub(crate) struct Child {
    process: std::process::Child,
    stdout: BufReader<ChildStdout>,
    // Kept open so the child's stdin does not reach end of file.
    _stdin: ChildStdin,
    stderr_path: PathBuf,
}

/// Starts a child running `job` through the hidden test `child_test`.
pub(crate) fn spawn(child_test: &str, job: &Job, scratch: &Path) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    let stderr_path = scratch.join(format!("child-{}.stderr", job.reference));
    let stderr = File::create(&stderr_path).expect("a file for the child's stderr");
    let mut process = Command::new(&exe)
        .args([
            child_test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            JOB_ENV,
            serde_json::to_string(job).expect("the job encodes"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", exe.display()));
    let stdout = BufReader::new(process.stdout.take().expect("piped stdout"));
    let stdin = process.stdin.take().expect("piped stdin");
    Child {
        process,
        stdout,
        _stdin: stdin,
        stderr_path,
    }
}

impl Child {
    /// Blocks until the child reports that its bytes are written; returns its pid.
    pub(crate) fn wait_ready(&mut self) -> u32 {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = self
                .stdout
                .read_line(&mut line)
                .expect("read the child's stdout");
            if n == 0 {
                let status = self.process.wait().expect("wait for the child");
                panic!(
                    "the child exited ({status}) before it was ready; stdout:\n{seen}\nstderr:\n{}",
                    self.stderr()
                );
            }
            // libtest may have printed "test <name> ... " on the same line.
            if let Some((_, pid)) = line.split_once(READY) {
                let pid: u32 = pid.trim().parse().expect("the child's pid");
                assert_eq!(
                    pid,
                    self.process.id(),
                    "the ready line comes from our child"
                );
                return pid;
            }
            seen.push_str(&line);
        }
    }

    /// The child's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.process.id()
    }

    /// SIGKILLs the child (what `std::process::Child::kill` sends on Unix) and reaps it.
    pub(crate) fn kill(mut self) {
        self.process.kill().expect("kill the child");
        let status = self.process.wait().expect("reap the child");
        assert!(
            !status.success(),
            "a killed child does not succeed: {status}"
        );
    }

    /// Waits for a child that exits by itself and checks that it succeeded.
    pub(crate) fn wait_success(mut self) {
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest);
        let status = self.process.wait().expect("wait for the child");
        assert!(
            status.success(),
            "the child failed ({status}); stdout:\n{rest}\nstderr:\n{}",
            self.stderr()
        );
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // A case that panicked must not leave its child running.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
