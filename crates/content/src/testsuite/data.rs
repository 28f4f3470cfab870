//! Deterministic test content, addressable by offset, cheap to generate even
//! in an unoptimized build: a 64 KiB base block per seed, each block stamped
//! with its index so no two blocks are equal.

use std::io::{self, Read, Seek, SeekFrom};

use crate::digest::{Algorithm, Digest, Digester};

const BLOCK: usize = 64 * 1024;

/// The bytes of one seed, as an endless sequence.
#[derive(Clone, Debug)]
pub struct Pattern {
    seed: u64,
    base: Vec<u8>,
}

impl Pattern {
    /// The pattern of `seed`.
    pub fn new(seed: u64) -> Pattern {
        let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
        let mut base = Vec::with_capacity(BLOCK);
        while base.len() < BLOCK {
            base.extend_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        Pattern { seed, base }
    }

    /// Fills `buf` with the bytes starting at `offset`.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let position = offset + done as u64;
            let block = position / BLOCK as u64;
            let within = (position % BLOCK as u64) as usize;
            let n = (BLOCK - within).min(buf.len() - done);
            let out = &mut buf[done..done + n];
            out.copy_from_slice(&self.base[within..within + n]);
            // Stamp the block index over the first 8 bytes of each block.
            let stamp = (block ^ self.seed).to_le_bytes();
            for (i, byte) in out
                .iter_mut()
                .enumerate()
                .take(8usize.saturating_sub(within))
            {
                *byte = stamp[within + i];
            }
            done += n;
        }
    }

    /// The first `len` bytes, in memory (for small blobs).
    pub fn bytes(&self, len: usize) -> Vec<u8> {
        let mut buf = vec![0; len];
        self.fill(0, &mut buf);
        buf
    }

    /// A reader over the first `len` bytes.
    pub fn reader(&self, len: u64) -> PatternReader {
        PatternReader {
            pattern: self.clone(),
            len,
            position: 0,
            bytes_read: 0,
        }
    }

    /// The SHA-256 digest of the first `len` bytes, streamed.
    pub fn digest(&self, len: u64) -> Digest {
        self.digest_with(Algorithm::Sha256, len)
    }

    /// The digest of the first `len` bytes under `algorithm`, streamed.
    pub fn digest_with(&self, algorithm: Algorithm, len: u64) -> Digest {
        let mut digester = Digester::new(algorithm);
        let mut buf = vec![0; 1 << 20];
        let mut offset = 0;
        while offset < len {
            let n = buf
                .len()
                .min(usize::try_from(len - offset).unwrap_or(usize::MAX));
            self.fill(offset, &mut buf[..n]);
            digester.update(&buf[..n]);
            offset += n as u64;
        }
        digester.finish()
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A `Read + Seek` over a prefix of a [`Pattern`], counting what it hands out.
#[derive(Clone, Debug)]
pub struct PatternReader {
    pattern: Pattern,
    len: u64,
    position: u64,
    bytes_read: u64,
}

impl PatternReader {
    /// How many bytes `read` has returned so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }
}

impl Read for PatternReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.position);
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.pattern.fill(self.position, &mut buf[..n]);
        self.position += n as u64;
        self.bytes_read += n as u64;
        Ok(n)
    }
}

impl Seek for PatternReader {
    fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        let to = match target {
            SeekFrom::Start(to) => Some(to),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = to.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_at_any_offset_agrees_with_the_whole() {
        let pattern = Pattern::new(3);
        let whole = pattern.bytes(3 * BLOCK + 100);
        for offset in [0, 1, 7, 8, BLOCK - 3, BLOCK, 2 * BLOCK + 5] {
            let mut part = vec![0; 2 * BLOCK / 3 + 11];
            let end = (offset + part.len()).min(whole.len());
            pattern.fill(offset as u64, &mut part[..end - offset]);
            assert_eq!(
                &part[..end - offset],
                &whole[offset..end],
                "offset {offset}"
            );
        }
        assert_ne!(&whole[..BLOCK], &whole[BLOCK..2 * BLOCK]);
        assert_ne!(Pattern::new(4).bytes(64), pattern.bytes(64));
        assert_eq!(pattern.digest(1000), Digest::sha256_of(&whole[..1000]));
    }
}
