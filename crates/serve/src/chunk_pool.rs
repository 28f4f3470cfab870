//! The read buffers of blob transfers, reused.
//!
//! Each step of a transfer reads up to [`CHUNK`] bytes on the blocking
//! pool and hands them to hyper, which frees them once written. Allocated
//! and freed per step, on whichever blocking-pool thread read them, those
//! buffers spread over glibc's per-thread arenas, each of which keeps what
//! was freed into it: with 8 clients pulling at once the server's resident
//! memory reached 65 MiB though no more than 12 MiB of chunks were ever
//! live. Reused from this pool instead, they are allocated once, by
//! whoever first needs one, never zeroed again, and the memory they take
//! is what is in flight plus at most [`KEPT`] spare buffers.

use std::sync::Mutex;

use bytes::Bytes;

/// Bytes read per step: large enough that a step's blocking-pool hop is
/// cheap beside it, small enough that memory per connection stays bounded.
pub(crate) const CHUNK: usize = 256 * 1024;

/// Spare buffers kept for reuse (4 MiB); more are freed when returned.
const KEPT: usize = 16;

static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A buffer of [`CHUNK`] bytes, from the pool when it has one.
pub(crate) fn take() -> Vec<u8> {
    SPARE
        .lock()
        .ok()
        .and_then(|mut spare| spare.pop())
        .unwrap_or_else(|| vec![0; CHUNK])
}

/// The first `len` bytes of `buffer` as [`Bytes`]; the buffer goes back
/// to the pool when the last clone of them is dropped.
pub(crate) fn freeze(buffer: Vec<u8>, len: usize) -> Bytes {
    Bytes::from_owner(Filled { buffer, len })
}

struct Filled {
    buffer: Vec<u8>,
    len: usize,
}

impl AsRef<[u8]> for Filled {
    fn as_ref(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

impl Drop for Filled {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        if buffer.len() != CHUNK {
            return;
        }
        if let Ok(mut spare) = SPARE.lock()
            && spare.len() < KEPT
        {
            spare.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_and_bytes_show_only_what_was_read() {
        let mut buffer = take();
        assert_eq!(buffer.len(), CHUNK);
        buffer[..3].copy_from_slice(b"abc");
        let address = buffer.as_ptr();
        let bytes = freeze(buffer, 3);
        assert_eq!(&bytes[..], b"abc");
        let clone = bytes.clone();
        drop(bytes);
        assert_eq!(&clone[..], b"abc");
        drop(clone);
        // Other tests may take from the pool meanwhile; look for ours.
        let mut taken = Vec::new();
        let mut found = false;
        for _ in 0..KEPT {
            let buffer = take();
            found |= buffer.as_ptr() == address;
            taken.push(buffer);
        }
        assert!(found, "the buffer was not returned to the pool");
    }
}
