//! A pseudo-terminal to run `hoist` on, for the prompts that only appear
//! when stdin is a terminal: the test waits for each prompt, then types.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

/// How long any one step may take before the test fails instead of hanging.
const STEP: Duration = Duration::from_secs(30);

/// A child process whose stdin, stdout and stderr are one terminal.
pub struct Terminal {
    child: Child,
    master: File,
    chunks: Receiver<Vec<u8>>,
    /// Everything the terminal showed so far (echoed input included).
    shown: Vec<u8>,
    /// How much of `shown` the last [`Terminal::expect`] consumed.
    seen: usize,
}

impl Terminal {
    /// Starts `command` on a new pseudo-terminal.
    pub fn spawn(mut command: Command) -> Terminal {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .expect("opening a pseudo-terminal");
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = || -> File {
            OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
                .open(name.to_str().unwrap())
                .unwrap()
        };
        let child = command
            .stdin(Stdio::from(slave()))
            .stdout(Stdio::from(slave()))
            .stderr(Stdio::from(slave()))
            .spawn()
            .expect("starting hoist on the terminal");
        // The command held the only slave handles; they are closed in this
        // process now, so reading the master ends once the child is gone.
        drop(command);
        let master = File::from(master);
        let mut reader = master.try_clone().unwrap();
        let (send, chunks) = channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // Linux answers EIO once no slave handle is left: the end.
            while let Ok(n @ 1..) = reader.read(&mut buffer) {
                if send.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Terminal {
            child,
            master,
            chunks,
            shown: Vec::new(),
            seen: 0,
        }
    }

    /// Waits until the terminal shows `text` after what was already
    /// expected; fails the test with everything shown if it does not.
    pub fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(at) = find(&self.shown[self.seen..], text.as_bytes()) {
                self.seen += at + text.len();
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.shown.extend(chunk),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let _ = self.child.kill();
                    panic!(
                        "the terminal never showed {text:?}; it showed:\n{}",
                        self.text()
                    );
                }
            }
        }
    }

    /// Types `keys` (as if on a keyboard: the terminal may echo them).
    pub fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    /// Waits for the child to exit and for the terminal's last output;
    /// returns the exit status and everything the terminal showed.
    pub fn finish(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("hoist did not exit; the terminal showed:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(chunk) = self.chunks.recv_timeout(STEP) {
            self.shown.extend(chunk);
        }
        (status, self.text())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.shown).into_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
