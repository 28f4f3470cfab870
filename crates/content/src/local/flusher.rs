//! Background writeback of an ingest's data while it is still being written.
//!
//! Without it, a machine with plenty of memory keeps a whole blob dirty in the
//! page cache until commit, and the commit's fsync then writes all of it while
//! nothing else happens: hashing and disk time add up. A flusher thread calls
//! `fdatasync` on the data file each time the writer has added a window of
//! bytes, so the disk works while bytes still arrive and are hashed, and the
//! final fsync waits only for the tail. On this project's 2-core machines it
//! raised a 1 GiB ingest from the serial limit to well above it (see
//! docs/crates/content.md).
//!
//! Durability argument: the flusher shares the writer's open file description
//! (`try_clone` = `dup`). Linux reports a writeback error to each open file
//! description once, so an error the flusher consumed would not be seen by the
//! commit's own fsync. The flusher therefore keeps its first error and
//! [`Flusher::finish`] returns it; commit calls it before its own fsync and
//! fails on it.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::{self, JoinHandle};

use crate::error::{Error, ErrorKind, Result};

/// A thread that fdatasyncs one file whenever it is nudged.
#[derive(Debug)]
pub(crate) struct Flusher {
    wake: Option<SyncSender<()>>,
    worker: Option<JoinHandle<io::Result<()>>>,
    path: PathBuf,
}

impl Flusher {
    /// Starts a flusher for `file` (opened at `path`, named in errors).
    pub(crate) fn start(file: &File, path: &Path) -> io::Result<Flusher> {
        let file = file.try_clone()?;
        // Capacity 1: a nudge while a sync is pending is already covered by it.
        let (wake, nudges) = sync_channel::<()>(1);
        let worker = thread::Builder::new()
            .name("hoist-content-flush".into())
            .spawn(move || {
                let mut first_error = None;
                while nudges.recv().is_ok() {
                    if let Err(e) = file.sync_data() {
                        first_error.get_or_insert(e);
                    }
                }
                first_error.map_or(Ok(()), Err)
            })?;
        Ok(Flusher {
            wake: Some(wake),
            worker: Some(worker),
            path: path.to_owned(),
        })
    }

    /// Asks for a sync of everything written so far; never blocks.
    pub(crate) fn nudge(&self) {
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                // The worker is gone (it cannot panic short of a bug); the
                // commit's own fsync still covers everything.
                Err(TrySendError::Disconnected(())) => {}
            }
        }
    }

    /// Stops the thread after its pending sync and reports its first error.
    pub(crate) fn finish(mut self) -> Result<()> {
        drop(self.wake.take());
        match self.worker.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(Error::io("fsync (background writeback)", &self.path, e)),
            Some(Err(_)) => Err(Error::new(
                ErrorKind::Internal,
                format!("the writeback thread of {} panicked", self.path.display()),
            )),
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        // Let the thread finish its pending sync on its own; a dropped writer
        // (close, abort, error paths) does not wait for it.
        drop(self.wake.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_on_nudges_and_finishes_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let mut file = File::create(&path).unwrap();
        let flusher = Flusher::start(&file, &path).unwrap();
        for _ in 0..10 {
            io::Write::write_all(&mut file, &[7; 4096]).unwrap();
            flusher.nudge();
        }
        flusher.finish().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 40_960);
    }
}
