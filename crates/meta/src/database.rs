//! One root's database inside this process: opened on first use, shared by
//! every thread, handed over to another process when it asks, and closed
//! when idle.
//!
//! Work on the database happens in [`Session`]s. A *shared* session is an
//! ordinary operation; any number run at once in one process. An *exclusive*
//! session (garbage collection, fsck) runs alone: no other session of this
//! process runs beside it, and no other process can, because only the owner
//! of `meta/lock` has the database open at all (see `owner.rs`).
//!
//! Read-modify-write operations additionally take the in-process mutation
//! lock ([`Session::mutation`]), so two threads cannot both see a name free
//! and both create it. Across processes that is implied by ownership.

use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::kv::{Durability, Kv, RocksKv};
use crate::owner::{self, Ownership, WaitSignal};

/// Tuning of how a process holds a root's database.
#[derive(Debug, Clone)]
pub(crate) struct DatabaseConfig {
    pub(crate) durability: Durability,
    /// How long an idle, unrequested database stays open.
    pub(crate) linger: Duration,
    /// How often the owner looks for a waiting process.
    pub(crate) poll: Duration,
    /// After how long a wait for another process is logged.
    pub(crate) log_after: Duration,
    /// How long a RocksDB LOCK error (a process outside hoist's protocol
    /// holds the database) is retried before it becomes `Unavailable`.
    pub(crate) foreign_lock_patience: Duration,
}

/// A handle on one root's database, cheap to clone. All handles on the same
/// directory in one process share one state (see [`Database::open`]).
#[derive(Clone)]
pub(crate) struct Database {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    config: DatabaseConfig,
    signal: WaitSignal,
    state: Mutex<State>,
    changed: Condvar,
    mutation: Mutex<()>,
}

#[derive(Default)]
struct State {
    open: Option<OpenDatabase>,
    /// A thread of this process is acquiring ownership and opening.
    opening: bool,
    /// Sessions in flight, shared and exclusive.
    sessions: usize,
    exclusive: bool,
    exclusive_waiting: usize,
    /// Another process asked for the database: finish what runs, then close.
    handover: bool,
    idle_since: Option<Instant>,
    generation: u64,
    /// Set when this process closed the database for another one: until
    /// then, it lets the other take it first (see `owner::acquire`).
    courtesy_until: Option<Instant>,
    /// When this process took the database; it keeps it at least
    /// [`QUANTUM`] when others wait, so a hand-over's cost buys some work.
    opened_at: Option<Instant>,
}

struct OpenDatabase {
    // Field order is drop order: the database closes before the lock goes.
    kv: Arc<RocksKv>,
    _ownership: Ownership,
}

/// Handles already open in this process, by directory: RocksDB refuses a
/// second read-write open of one directory even within a process.
static REGISTRY: LazyLock<Mutex<HashMap<PathBuf, Weak<Shared>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

thread_local! {
    /// The databases this thread holds a session on, to make nested sessions
    /// re-entrant instead of deadlocking behind a waiting GC or hand-over.
    static HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// True while this thread holds a session on any database (for the commit's
/// ordering test: a blob's data is synced before the database is taken).
#[cfg(test)]
pub(crate) fn this_thread_holds_a_session() -> bool {
    HELD.with(|held| !held.borrow().is_empty())
}

fn lock_state(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic while holding the state lock leaves counters that are still
    // consistent (every change is a single assignment), so poison is ignored.
    shared
        .state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Database {
    /// The handle for `dir` (already created), shared with every other handle
    /// on the same directory in this process. The first handle's `config`
    /// wins.
    pub(crate) fn open(dir: &Path, config: DatabaseConfig) -> Result<Database> {
        let key = dir
            .canonicalize()
            .map_err(|error| Error::io("resolve", dir, error))?;
        let mut registry = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
        registry.retain(|_, weak| weak.strong_count() > 0);
        if let Some(shared) = registry.get(&key).and_then(Weak::upgrade) {
            return Ok(Database { shared });
        }
        let shared = Arc::new(Shared {
            signal: WaitSignal::open(&key)?,
            dir: key.clone(),
            config,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            mutation: Mutex::new(()),
        });
        registry.insert(key, Arc::downgrade(&shared));
        Ok(Database { shared })
    }

    /// The directory holding the database.
    pub(crate) fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// A shared session: runs beside the other shared sessions of this
    /// process, never beside an exclusive one or another process.
    pub(crate) fn session(&self) -> Result<Session> {
        self.enter(false)
    }

    /// An exclusive session: nothing else touches the database meanwhile.
    pub(crate) fn exclusive(&self) -> Result<Session> {
        self.enter(true)
    }

    fn enter(&self, exclusive: bool) -> Result<Session> {
        let shared = &self.shared;
        let id = Arc::as_ptr(shared) as usize;
        let nested = HELD.with(|held| held.borrow().contains(&id));
        let mut state = lock_state(shared);
        if nested {
            if exclusive {
                return Err(Error::precondition(format!(
                    "metadata database {}: an exclusive operation (gc, fsck) was started \
                     while this thread holds the database",
                    shared.dir.display()
                )));
            }
            // Re-entrant: this thread already keeps the database open.
            if let Some(open) = &state.open {
                let kv = open.kv.clone();
                state.sessions += 1;
                drop(state);
                return Ok(Session::new(shared.clone(), kv, false));
            }
        }
        if exclusive {
            state.exclusive_waiting += 1;
        }
        let result = loop {
            let free = !state.handover
                && !state.exclusive
                && if exclusive {
                    state.sessions == 0
                } else {
                    state.exclusive_waiting == 0
                };
            if let (true, Some(open)) = (free, &state.open) {
                let kv = open.kv.clone();
                state.sessions += 1;
                state.exclusive = exclusive;
                state.idle_since = None;
                break Ok(kv);
            }
            if state.open.is_some() && state.handover && state.sessions == 0 {
                close(&mut state, &shared.dir);
                shared.changed.notify_all();
                continue;
            }
            if state.open.is_none() && !state.opening {
                state.opening = true;
                let courtesy = state.courtesy_until.take();
                drop(state);
                let opened = open_database(shared, courtesy);
                state = lock_state(shared);
                state.opening = false;
                shared.changed.notify_all();
                match opened {
                    Ok(open) => {
                        state.generation += 1;
                        state.open = Some(open);
                        state.opened_at = Some(Instant::now());
                        state.idle_since = Some(Instant::now());
                        spawn_watcher(Arc::downgrade(shared), state.generation);
                        continue;
                    }
                    Err(error) => break Err(error),
                }
            }
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        };
        if exclusive {
            state.exclusive_waiting -= 1;
            shared.changed.notify_all();
        }
        drop(state);
        result.map(|kv| Session::new(shared.clone(), kv, exclusive))
    }
}

impl Drop for Database {
    /// Closes RocksDB here, on the dropping thread, when no session is in
    /// flight. Without this the last reference could be the owner thread's
    /// (it upgrades its weak reference on every poll), and RocksDB would
    /// then close on that thread while `main` returns and the process runs
    /// RocksDB's static destructors: seen as SIGSEGV or "terminate called
    /// without an active exception" at exit. Another handle on the same root
    /// in this process simply reopens the database on its next use.
    fn drop(&mut self) {
        let mut state = lock_state(&self.shared);
        if state.sessions == 0 && !state.opening {
            close(&mut state, &self.shared.dir);
            self.shared.changed.notify_all();
        }
    }
}

/// Acquires ownership, then opens RocksDB. A RocksDB LOCK error can only come
/// from a program outside hoist's protocol (or an owner that dies between
/// releasing its lock and closing): it is retried, and never shown raw.
fn open_database(shared: &Shared, courtesy: Option<Instant>) -> Result<OpenDatabase> {
    let (dir, config) = (&shared.dir, &shared.config);
    let ownership = owner::acquire(dir, config.log_after, &shared.signal, courtesy)?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match RocksKv::open(&dir.join("db"), config.durability) {
            Ok(kv) => {
                kv.compact_if_fragmented(8);
                tracing::debug!(
                    "opened metadata database {} in {:.1} ms",
                    dir.display(),
                    started.elapsed().as_secs_f64() * 1e3
                );
                return Ok(OpenDatabase {
                    kv: Arc::new(kv),
                    _ownership: ownership,
                });
            }
            Err(error) if is_rocksdb_lock_error(&error) => {
                if started.elapsed() >= config.foreign_lock_patience {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!(
                            "metadata database {} is held by a program that does not use \
                             hoist's lock ({}); stop it and retry",
                            dir.display(),
                            dir.join(owner::LOCK_FILE).display()
                        ),
                    )
                    .with_source(error));
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(error) => return Err(error),
        }
    }
}

fn is_rocksdb_lock_error(error: &Error) -> bool {
    error.kind() == ErrorKind::Database && {
        let text = error.to_string();
        text.contains("LOCK") || text.contains("lock hold by current process")
    }
}

fn close(state: &mut State, dir: &Path) {
    if let Some(open) = state.open.take() {
        if Arc::strong_count(&open.kv) != 1 {
            // Cannot happen with `sessions == 0`; if it did, the next owner
            // sees RocksDB's own LOCK and retries until this copy is gone.
            tracing::warn!("closing {} while still referenced", dir.display());
        }
        drop(open);
        tracing::debug!("closed metadata database {}", dir.display());
    }
    if state.handover {
        state.courtesy_until = Some(Instant::now() + COURTESY);
    }
    state.handover = false;
    state.idle_since = None;
    state.opened_at = None;
}

/// How long a process keeps the database, when another waits, before it
/// hands it over: opening costs ~10-20 ms, so switching after every call
/// would spend most of the time opening.
const QUANTUM: Duration = Duration::from_millis(25);

impl State {
    fn quantum_used(&self) -> bool {
        self.opened_at.is_none_or(|at| at.elapsed() >= QUANTUM)
    }
}

/// How long a process that handed the database over waits for the waiter to
/// take it before it competes again (the waiter polls every 2 ms at most).
const COURTESY: Duration = Duration::from_millis(100);

/// Polls for another process waiting and closes the database when it is
/// idle and either requested or unused for the linger time.
fn spawn_watcher(weak: Weak<Shared>, generation: u64) {
    let spawned = std::thread::Builder::new()
        .name("hoist-meta-owner".into())
        .spawn(move || {
            loop {
                let poll = match weak.upgrade() {
                    Some(shared) => shared.config.poll,
                    None => return,
                };
                std::thread::sleep(poll);
                let Some(shared) = weak.upgrade() else { return };
                let mut state = lock_state(&shared);
                if state.generation != generation || state.open.is_none() {
                    return;
                }
                if !state.handover && state.quantum_used() && shared.signal.someone_waits() {
                    tracing::debug!(
                        "another process waits for {}: handing over",
                        shared.dir.display()
                    );
                    state.handover = true;
                }
                let idle_too_long = state
                    .idle_since
                    .is_some_and(|since| since.elapsed() >= shared.config.linger);
                if state.sessions == 0 && (state.handover || idle_too_long) {
                    close(&mut state, &shared.dir);
                    shared.changed.notify_all();
                    return;
                }
            }
        });
    if let Err(error) = spawned {
        // Without a watcher the database closes when the store is dropped,
        // and other processes wait until then.
        tracing::warn!("could not start the metadata owner thread: {error}");
    }
}

/// Work in progress on the database; see the module docs.
pub(crate) struct Session {
    shared: Arc<Shared>,
    kv: Option<Arc<RocksKv>>,
    exclusive: bool,
    // A session belongs to the thread that opened it (re-entrancy is per
    // thread), so it is neither Send nor Sync.
    _thread_bound: PhantomData<*const ()>,
}

impl Session {
    fn new(shared: Arc<Shared>, kv: Arc<RocksKv>, exclusive: bool) -> Session {
        let id = Arc::as_ptr(&shared) as usize;
        HELD.with(|held| held.borrow_mut().push(id));
        Session {
            shared,
            kv: Some(kv),
            exclusive,
            _thread_bound: PhantomData,
        }
    }

    /// The open database.
    pub(crate) fn kv(&self) -> &dyn Kv {
        match &self.kv {
            Some(kv) => kv.as_ref(),
            None => unreachable_kv(),
        }
    }

    /// The in-process mutation lock, for read-check-write sequences.
    pub(crate) fn mutation(&self) -> MutexGuard<'_, ()> {
        self.shared
            .mutation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[allow(clippy::panic)]
fn unreachable_kv() -> ! {
    // `kv` is only taken in `drop`.
    panic!("session used after drop")
}

impl Drop for Session {
    fn drop(&mut self) {
        // Release our reference before the count, so whoever closes the
        // database holds the last one.
        self.kv = None;
        let id = Arc::as_ptr(&self.shared) as usize;
        HELD.with(|held| {
            let mut held = held.borrow_mut();
            if let Some(position) = held.iter().rposition(|&h| h == id) {
                held.swap_remove(position);
            }
        });
        let mut state = lock_state(&self.shared);
        state.sessions -= 1;
        if self.exclusive {
            state.exclusive = false;
        }
        if state.sessions == 0 {
            state.idle_since = Some(Instant::now());
            // Look for a waiting process now rather than at the watcher's
            // next poll: with back-to-back calls here, the other process
            // gets the database after every call, not only now and then.
            if !state.handover && state.quantum_used() && self.shared.signal.someone_waits() {
                state.handover = true;
            }
            if state.handover {
                close(&mut state, &self.shared.dir);
            }
        }
        self.shared.changed.notify_all();
    }
}
