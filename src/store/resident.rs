//! The default store (`--store sqlite:<path>`): the state resident in memory, SQLite as its log.
//!
//! Every transaction runs on the memory backend (`store::memory`), so reads and the work of a
//! write never touch the disk. A write that commits there hands what it changed (`Changes`: each
//! touched row as it now is) to SQLite's writer thread while it still holds the memory lock, so
//! the log receives changes in the order they were made; the writer group-commits them
//! (`store::sqlite`), and the caller is answered only once its changes are committed. At start
//! the whole state is read back from the file. SQLite stays the file format: a store written by a
//! release before this one opens as it is, and `sqlite-direct:<path>` still serves straight from
//! the file.
//!
//! Nothing is answered from a change that is not yet durable: every transaction, read or write,
//! waits before answering until every change applied before it ended is committed
//! (`Progress::wait`), so no client acts on what a crash could take back. If the log fails, the
//! memory holds changes the file does not: the store stops (every later call fails with a storage
//! error) and a restart reads the file's state again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

use super::memory::{Changes, MemoryBackend};
use super::queue::WriteJob;
use super::sqlite::SqliteBackend;
use super::{Backend, Kind, Query, Tx, TxFn};
use crate::error::{Error, Result};

/// How far the log has committed: changes are numbered in the order they were applied.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Committed {
    UpTo(u64),
    Failed(String),
}

/// Which changes are applied in memory, and which of those are committed to the log.
pub struct Progress {
    /// The number of the newest change applied in memory (changed under the memory write lock).
    applied: AtomicU64,
    committed: watch::Sender<Committed>,
    /// For callers outside the runtime (`Store::write_now`): the same state, with a condvar.
    blocking: (Mutex<Committed>, Condvar),
}

impl Progress {
    fn new() -> Progress {
        Progress {
            applied: AtomicU64::new(0),
            committed: watch::Sender::new(Committed::UpTo(0)),
            blocking: (Mutex::new(Committed::UpTo(0)), Condvar::new()),
        }
    }

    /// The newest change applied in memory.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    fn reached(state: &Committed, seq: u64) -> Option<Result<()>> {
        match state {
            Committed::UpTo(n) if *n >= seq => Some(Ok(())),
            Committed::UpTo(_) => None,
            Committed::Failed(e) => Some(Err(failed(e))),
        }
    }

    /// Waits until every change up to `seq` is committed.
    pub async fn wait(&self, seq: u64) -> Result<()> {
        if let Some(done) = Self::reached(&self.committed.borrow(), seq) {
            return done;
        }
        let mut updates = self.committed.subscribe();
        let reached = updates.wait_for(|state| Self::reached(state, seq).is_some()).await;
        match reached {
            Ok(state) => Self::reached(&state, seq).unwrap_or(Ok(())),
            Err(_) => Err(Error::Storage("the store's log has stopped".into())),
        }
    }

    /// `wait`, blocking the thread.
    pub fn wait_blocking(&self, seq: u64) -> Result<()> {
        let (state, changed) = &self.blocking;
        let mut state = state.lock();
        loop {
            if let Some(done) = Self::reached(&state, seq) {
                return done;
            }
            changed.wait(&mut state);
        }
    }

    fn set(&self, next: Committed) {
        let advance = |state: &mut Committed| match (&*state, &next) {
            (Committed::Failed(_), _) => false,
            (Committed::UpTo(now), Committed::UpTo(n)) if n <= now => false,
            _ => {
                *state = next.clone();
                true
            }
        };
        self.committed.send_if_modified(advance);
        let (state, changed) = &self.blocking;
        advance(&mut state.lock());
        changed.notify_all();
    }

    fn failure(&self) -> Option<String> {
        match &*self.committed.borrow() {
            Committed::Failed(e) => Some(e.clone()),
            Committed::UpTo(_) => None,
        }
    }
}

fn failed(cause: &str) -> Error {
    Error::Storage(format!("the store's log failed ({cause}); restart netplane to read the state back from its file"))
}

/// One transaction's changes, on their way to the log.
struct LogJob {
    seq: u64,
    changes: Changes,
    progress: Arc<Progress>,
}

impl WriteJob for LogJob {
    fn run(&mut self, tx: &mut dyn Tx) -> Result<()> {
        replay(&self.changes, tx)
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        match outcome {
            Ok(()) => self.progress.set(Committed::UpTo(self.seq)),
            Err(e) => {
                tracing::error!(error = %e, seq = self.seq, "the store's log failed; the store stops");
                self.progress.set(Committed::Failed(e.to_string()));
            }
        }
    }
}

/// Writes each changed row as it now is.
fn replay(changes: &Changes, tx: &mut dyn Tx) -> Result<()> {
    for (existed, kind, id, now) in &changes.resources {
        match (existed, now) {
            (false, Some(record)) => tx.insert(record)?,
            (true, Some(record)) => tx.update(record)?,
            (true, None) => {
                tx.delete(*kind, id)?;
            }
            (false, None) => {}
        }
    }
    for (existed, scope, key, now) in &changes.claims {
        if *existed {
            tx.release(scope, key)?;
        }
        if let Some(claim) = now
            && let Err(holder) = tx.claim(claim)?
        {
            return Err(Error::Internal(format!("storage: the log holds ({scope}, {key}) for {holder}, the memory for {}", claim.owner)));
        }
    }
    for (id, now) in &changes.operations {
        match now {
            Some(op) => tx.put_operation(op)?,
            None => {
                tx.delete_operation(id)?;
            }
        }
    }
    Ok(())
}

pub struct ResidentBackend {
    memory: MemoryBackend,
    log: SqliteBackend,
    progress: Arc<Progress>,
}

impl ResidentBackend {
    /// Opens (or creates) the SQLite file and reads its whole state into memory.
    pub fn open(path: &str) -> Result<ResidentBackend> {
        let started = std::time::Instant::now();
        let log = SqliteBackend::open(path)?;
        let memory = MemoryBackend::default();
        let mut rows = 0;
        log.read(&mut |from| {
            memory.write(&mut |into| {
                for kind in Kind::ALL {
                    for record in from.list(&Query::new(kind))? {
                        into.insert(&record)?;
                        rows += 1;
                    }
                }
                for claim in from.all_claims()? {
                    into.claim(&claim)?.map_err(|holder| Error::Internal(format!("claim {}/{} held twice ({holder})", claim.scope, claim.key)))?;
                    rows += 1;
                }
                for op in from.all_operations()? {
                    into.put_operation(&op)?;
                    rows += 1;
                }
                Ok(())
            })
        })?;
        tracing::info!(store = path, rows, took_ms = started.elapsed().as_millis() as u64, "state read into memory");
        Ok(ResidentBackend { memory, log, progress: Arc::new(Progress::new()) })
    }
}

impl Backend for ResidentBackend {
    fn read(&self, f: &mut TxFn<'_>) -> Result<()> {
        if let Some(cause) = self.progress.failure() {
            return Err(failed(&cause));
        }
        self.memory.read(f)
    }

    fn write(&self, f: &mut TxFn<'_>) -> Result<()> {
        if let Some(cause) = self.progress.failure() {
            return Err(failed(&cause));
        }
        let (log, progress) = (&self.log, &self.progress);
        self.memory.write_logged(f, &mut |changes| {
            let seq = progress.applied.load(Ordering::Relaxed) + 1;
            progress.applied.store(seq, Ordering::Release);
            let job = LogJob { seq, changes, progress: progress.clone() };
            match log.write_queue() {
                Some(queue) => queue.send(Box::new(job)),
                None => Box::new(job).finish(Err(Error::Storage("the SQLite log has no writer".into()))),
            }
        })
    }

    fn describe(&self) -> String {
        self.log.describe()
    }

    fn blocks(&self) -> bool {
        false
    }

    fn progress(&self) -> Option<&Progress> {
        Some(&self.progress)
    }

    fn keeps_state_in_memory(&self) -> bool {
        true
    }
}
