//! The key-value layer: the only file that names RocksDB.
//!
//! Everything above works on [`Kv`]: point reads, ordered prefix scans and
//! atomic write batches. Keeping RocksDB behind it means the route to RocksDB
//! (Debian's 7.8 through the 0.20 crate today) can change without touching
//! the schema or the GC.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// What [`Kv::scan`] calls for each key and value: `Ok(false)` stops.
pub(crate) type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'a;

/// Point reads, prefix scans and atomic batches over ordered byte keys.
pub(crate) trait Kv: Send + Sync {
    /// The value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Visits every key starting with `prefix`, in byte order, until `visit`
    /// returns `Ok(false)` or an error.
    fn scan(&self, prefix: &[u8], visit: &mut Visit<'_>) -> Result<()>;

    /// Compacts the whole key range.
    fn compact(&self);

    /// Applies every put and delete of `batch` atomically: after a crash
    /// either all of them are visible or none is.
    fn write(&self, batch: Batch) -> Result<()>;

    /// Makes every batch written so far durable (those written
    /// [`unsynced`](Batch::unsynced) included).
    fn sync_wal(&self) -> Result<()>;
}

/// An ordered list of puts and deletes applied atomically by [`Kv::write`].
#[derive(Debug, Default)]
pub(crate) struct Batch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Whether the write may skip the WAL's fsync (see [`Batch::unsynced`]).
    unsynced: bool,
}

impl Batch {
    /// An empty batch whose write reaches the OS but does not wait for the
    /// disk, whatever the store's [`Durability`].
    ///
    /// Only for records whose loss in a power cut is harmless. The WAL is
    /// written in order, so the next synced batch makes this one durable
    /// too; if no synced batch follows, the operation that wrote it never
    /// finished, and the record must be one nothing relies on then. Other
    /// processes see it at once either way: it is in the WAL's page cache.
    pub(crate) fn unsynced() -> Batch {
        Batch {
            ops: Vec::new(),
            unsynced: true,
        }
    }

    /// Sets `key` to `value`.
    pub(crate) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((key, Some(value)));
    }

    /// Removes `key` (a no-op if it is absent).
    pub(crate) fn delete(&mut self, key: Vec<u8>) {
        self.ops.push((key, None));
    }

    /// True when the batch holds no operation.
    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// How hard writes are pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Every batch fsyncs the write-ahead log before it returns, so a
    /// committed batch survives a power loss, not only a killed process.
    Sync,
    /// Batches reach the OS (they survive a killed process) but are not
    /// fsynced: for bulk loads in benchmarks.
    Buffered,
}

/// RocksDB opened read-write by this process.
pub(crate) struct RocksKv {
    db: rocksdb::DB,
    path: PathBuf,
    durability: Durability,
}

impl RocksKv {
    /// Opens (creating if needed) the database in `path`.
    ///
    /// The caller must own the root's cross-process lock: RocksDB allows one
    /// read-write opener at a time and fails the others with a LOCK error,
    /// which hoist never lets reach a user (see `owner.rs`).
    pub(crate) fn open(path: &Path, durability: Durability) -> Result<RocksKv> {
        let mut options = rocksdb::Options::default();
        options.create_if_missing(true);
        // The database is small (names and records, not blobs) and is opened
        // once per hand-over between processes; keep what an open reads and
        // writes besides the data to a minimum.
        options.set_log_level(rocksdb::LogLevel::Warn);
        options.set_keep_log_file_num(2);
        options.set_max_log_file_size(1 << 20);
        options.set_skip_stats_update_on_db_open(true);
        options.set_write_buffer_size(8 << 20);
        options.set_max_manifest_file_size(4 << 20);
        // RocksDB opens table files on 16 threads by default, and starts
        // them on every open even with no file to open; the few files of
        // this database open faster on the caller's thread.
        options.set_max_file_opening_threads(1);
        // A torn last WAL record (a process killed mid-append) is dropped
        // rather than failing the open; every earlier batch is intact.
        // Records are small JSON documents and the database stays small;
        // a GC reads all of it, and decompressing blocks would be a good part
        // of that read.
        options.set_compression_type(rocksdb::DBCompressionType::None);
        // Larger blocks make the full scans of a GC cheaper (fewer blocks to
        // find, check and decode); point reads barely notice.
        let mut table = rocksdb::BlockBasedOptions::default();
        table.set_block_size(64 << 10);
        options.set_block_based_table_factory(&table);
        options.set_wal_recovery_mode(rocksdb::DBRecoveryMode::PointInTime);
        let db =
            rocksdb::DB::open(&options, path).map_err(|error| database("open", path, error))?;
        Ok(RocksKv {
            db,
            path: path.to_path_buf(),
            durability,
        })
    }

    /// Compacts the whole key range: each hand-over leaves a small level-0
    /// file behind (the previous owner's write-ahead log, flushed on open),
    /// and a process that owns the database only briefly may never give
    /// the background compaction a chance.
    pub(crate) fn compact_if_fragmented(&self, max_level0_files: u64) {
        let level0 = self
            .db
            .property_int_value("rocksdb.num-files-at-level0")
            .ok()
            .flatten()
            .unwrap_or(0);
        if level0 > max_level0_files {
            self.compact();
        }
    }

    fn error(&self, action: &str, error: rocksdb::Error) -> Error {
        database(action, &self.path, error)
    }
}

fn database(action: &str, path: &Path, error: rocksdb::Error) -> Error {
    Error::new(
        ErrorKind::Database,
        format!("{action} metadata database {}: {error}", path.display()),
    )
    .with_source(error)
}

impl Kv for RocksKv {
    fn compact(&self) {
        self.db.compact_range::<&[u8], &[u8]>(None, None);
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.db.get(key).map_err(|error| self.error("read", error))
    }

    fn scan(&self, prefix: &[u8], visit: &mut Visit<'_>) -> Result<()> {
        // The raw iterator lends key and value without copying them: a GC
        // scans every record, and copies would be most of its cost.
        let mut read = rocksdb::ReadOptions::default();
        read.set_readahead_size(2 << 20);
        let mut iterator = self.db.raw_iterator_opt(read);
        iterator.seek(prefix);
        while let (Some(key), Some(value)) = (iterator.key(), iterator.value()) {
            if !key.starts_with(prefix) || !visit(key, value)? {
                return Ok(());
            }
            iterator.next();
        }
        iterator.status().map_err(|error| self.error("scan", error))
    }

    fn write(&self, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let sync = self.durability == Durability::Sync && !batch.unsynced;
        let mut write_batch = rocksdb::WriteBatch::default();
        for (key, value) in batch.ops {
            match value {
                Some(value) => write_batch.put(key, value),
                None => write_batch.delete(key),
            }
        }
        let mut options = rocksdb::WriteOptions::default();
        // One batch is one WAL record: RocksDB replays it whole or not at all,
        // which is what makes every multi-key change below atomic.
        options.set_sync(sync);
        self.db
            .write_opt(write_batch, &options)
            .map_err(|error| self.error("write", error))
    }

    fn sync_wal(&self) -> Result<()> {
        if self.durability != Durability::Sync {
            return Ok(());
        }
        self.db
            .flush_wal(true)
            .map_err(|error| self.error("sync the write-ahead log", error))
    }
}
