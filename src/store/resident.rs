//! The default store (`--store sqlite:<path>`): the state resident in memory, SQLite as its log.
//!
//! Every transaction runs on the memory backend (`store::memory`), so reads and the work of a
//! write never touch the disk. A write that commits there hands what it changed (`Changes`: each
//! touched row as it now is) to SQLite's writer thread while it still holds the memory lock, so
//! the log receives changes in the order they were made; the writer appends each as one row of
//! the file's change log (`store::change_log`) and group-commits them (`store::sqlite`), and the
//! caller is answered only once its changes are committed. Every `FOLD_EVERY` the committed
//! changes, merged, are folded into the tables and their log rows dropped, in parts of
//! `FOLD_CHUNK` rows, one part per commit of the same writer. At start the file folds what is left of its log and the whole state is read back.
//! SQLite stays the file format: a store written by a release before this one opens as it is, and
//! `sqlite-direct:<path>` still serves straight from the file.
//!
//! Nothing is answered from a change that is not yet durable: every transaction, read or write,
//! waits before answering until every change applied before it ended is committed
//! (`Progress::wait`), so no client acts on what a crash could take back. If the log fails, the
//! memory holds changes the file does not: the store stops (every later call fails with a storage
//! error) and a restart reads the file's state again.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tokio::sync::Notify;

use super::change_log::{self, Unfolded};
use super::memory::{Changes, MemoryBackend};
use super::queue::{WriteJob, WriteQueue};
use super::sqlite::SqliteBackend;
use super::{Backend, Kind, Query, Synchronous, Tx, TxFn};
use crate::error::{Error, Result};

/// How far the log has committed: changes are numbered in the order they were applied.
#[derive(Debug, PartialEq, Eq)]
enum Committed {
    UpTo(u64),
    Failed(String),
}

/// Which changes are applied in memory, and which of those are committed to the log. The
/// committed state is kept once; async waiters are woken through `notify`, threads outside the
/// runtime (`Store::write_now`) through `changed`.
pub struct Progress {
    /// The number of the newest change applied in memory (changed under the memory write lock).
    applied: AtomicU64,
    committed: Mutex<Committed>,
    changed: Condvar,
    notify: Notify,
}

impl Progress {
    fn new() -> Progress {
        Progress { applied: AtomicU64::new(0), committed: Mutex::new(Committed::UpTo(0)), changed: Condvar::new(), notify: Notify::new() }
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
        loop {
            // Registered before the check, so that a commit between the two is not missed.
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(done) = Self::reached(&self.committed.lock(), seq) {
                return done;
            }
            notified.await;
        }
    }

    /// `wait`, blocking the thread.
    pub fn wait_blocking(&self, seq: u64) -> Result<()> {
        let mut state = self.committed.lock();
        loop {
            if let Some(done) = Self::reached(&state, seq) {
                return done;
            }
            self.changed.wait(&mut state);
        }
    }

    fn set(&self, next: Committed) {
        {
            let mut state = self.committed.lock();
            match (&*state, &next) {
                (Committed::Failed(_), _) => return,
                (Committed::UpTo(now), Committed::UpTo(n)) if n <= now => return,
                _ => *state = next,
            }
        }
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    fn failure(&self) -> Option<String> {
        match &*self.committed.lock() {
            Committed::Failed(e) => Some(e.clone()),
            Committed::UpTo(_) => None,
        }
    }
}

fn failed(cause: &str) -> Error {
    Error::Storage(format!("the store's log failed ({cause}); restart netplane to read the state back from its file"))
}

/// How often a fold of the committed changes starts.
const FOLD_EVERY: Duration = Duration::from_millis(250);

/// Rows a fold writes per commit. A fold of 250 ms of changes at full load is thousands of rows
/// (every write leaves an operation); written in one job it held the writer, and every call
/// waiting on it, for tens of milliseconds. In chunks, one per commit, each group of calls waits
/// for one chunk at most.
const FOLD_CHUNK: usize = 128;

/// What the log's jobs share: the writer's queue (for folds), the progress, and the fold's state.
struct Log {
    queue: WriteQueue,
    progress: Arc<Progress>,
    folding: Mutex<Folding>,
}

/// Committed changes not yet folded, and the fold under way.
struct Folding {
    /// Changes committed since the last fold started, merged.
    merging: Unfolded,
    started: Instant,
    /// The rest of the fold under way: the chunks still to write, oldest first.
    chunks: VecDeque<FoldJob>,
    /// Whether a chunk is in the writer's queue now.
    in_flight: bool,
}

impl Log {
    fn fail(&self, what: &str, e: &Error) {
        tracing::error!(error = %e, "{what} failed; the store stops");
        self.progress.set(Committed::Failed(e.to_string()));
    }

    /// Merges a committed transaction's changes; starts a fold when one is due.
    fn committed(self: &Arc<Self>, seq: u64, changes: Changes) {
        let mut folding = self.folding.lock();
        folding.merging.merge(seq, changes);
        if folding.chunks.is_empty() && !folding.in_flight && folding.started.elapsed() >= FOLD_EVERY {
            let due = std::mem::take(&mut folding.merging);
            folding.started = Instant::now();
            folding.chunks = self.chunks(due);
        }
        self.send_next(&mut folding);
        drop(folding);
        self.progress.set(Committed::UpTo(seq));
    }

    /// The merged changes as fold jobs of at most `FOLD_CHUNK` rows; the last drops their log rows.
    fn chunks(self: &Arc<Self>, due: Unfolded) -> VecDeque<FoldJob> {
        let upto = due.upto;
        let all = due.into_changes();
        let mut chunks: VecDeque<FoldJob> = VecDeque::new();
        let mut chunk = Changes::default();
        let mut close = |chunk: &mut Changes, at: usize| {
            if chunk.len() >= at {
                chunks.push_back(FoldJob { changes: Some(std::mem::take(chunk)), trim: None, log: self.clone() });
            }
        };
        for row in all.resources {
            chunk.resources.push(row);
            close(&mut chunk, FOLD_CHUNK);
        }
        for row in all.claims {
            chunk.claims.push(row);
            close(&mut chunk, FOLD_CHUNK);
        }
        for row in all.operations {
            chunk.operations.push(row);
            close(&mut chunk, FOLD_CHUNK);
        }
        close(&mut chunk, 1);
        match chunks.back_mut() {
            Some(last) => last.trim = Some(upto),
            None => chunks.push_back(FoldJob { changes: None, trim: Some(upto), log: self.clone() }),
        }
        chunks
    }

    /// Queues the fold's next chunk unless one is queued already: one chunk per commit.
    fn send_next(&self, folding: &mut Folding) {
        if !folding.in_flight
            && let Some(job) = folding.chunks.pop_front()
        {
            folding.in_flight = true;
            self.queue.send(Box::new(job));
        }
    }
}

/// One transaction's changes, on their way to the log.
struct LogJob {
    seq: u64,
    changes: Option<Changes>,
    log: Arc<Log>,
}

impl WriteJob for LogJob {
    fn run(&mut self, tx: &mut dyn Tx) -> Result<()> {
        let changes = self.changes.as_ref().ok_or_else(|| Error::Internal("storage: a log job ran twice".into()))?;
        Ok(tx.append_changes(self.seq, &change_log::encode(changes)?)?)
    }

    fn finish(mut self: Box<Self>, outcome: Result<()>) {
        match (outcome, self.changes.take()) {
            (Ok(()), Some(changes)) => self.log.committed(self.seq, changes),
            (Ok(()), None) => {}
            (Err(e), _) => self.log.fail("the store's log", &e),
        }
    }

    fn own_savepoint(&self) -> bool {
        // A failed append stops the store: nothing is to be kept apart from it.
        false
    }
}

/// Part of a fold: merged committed changes written into the tables; the last part also drops
/// their log rows, in the same commit. A crash between parts leaves the log whole, and the next
/// open folds it again in order on top of what the parts wrote.
struct FoldJob {
    changes: Option<Changes>,
    trim: Option<u64>,
    log: Arc<Log>,
}

impl WriteJob for FoldJob {
    fn run(&mut self, tx: &mut dyn Tx) -> Result<()> {
        if let Some(changes) = self.changes.take() {
            change_log::apply(&changes, tx)?;
        }
        match self.trim {
            Some(upto) => Ok(tx.trim_changes(upto)?),
            None => Ok(()),
        }
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        match outcome {
            Ok(()) => {
                let mut folding = self.log.folding.lock();
                folding.in_flight = false;
                self.log.send_next(&mut folding);
            }
            // The merged changes are gone from memory: without this part, a later fold would drop
            // their log rows unfolded. The next open folds the log the file still holds.
            Err(e) => self.log.fail("folding the change log", &e),
        }
    }
}

pub struct ResidentBackend {
    memory: MemoryBackend,
    file: SqliteBackend,
    log: Arc<Log>,
    progress: Arc<Progress>,
}

impl ResidentBackend {
    /// Opens (or creates) the SQLite file and reads its whole state into memory.
    pub fn open(path: &str, synchronous: Synchronous) -> Result<ResidentBackend> {
        let started = std::time::Instant::now();
        let file = SqliteBackend::open(path, synchronous)?;
        let memory = MemoryBackend::default();
        let mut rows = 0;
        file.read(&mut |from| {
            memory.write(&mut |into| {
                for kind in Kind::ALL {
                    for record in from.list(&Query::new(kind))? {
                        into.insert(&record)?;
                        rows += 1;
                    }
                }
                for claim in from.all_claims()? {
                    into.claim(&claim)?
                        .map_err(|holder| Error::Internal(format!("claim {}/{} held twice ({holder})", claim.scope, claim.key)))?;
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
        let queue = file.write_queue().cloned().ok_or_else(|| Error::Internal("storage: the SQLite file has no writer".into()))?;
        let progress = Arc::new(Progress::new());
        let folding = Folding { merging: Unfolded::default(), started: Instant::now(), chunks: VecDeque::new(), in_flight: false };
        let log = Arc::new(Log { queue, progress: progress.clone(), folding: Mutex::new(folding) });
        Ok(ResidentBackend { memory, file, log, progress })
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
        self.memory.write_logged(
            f,
            Some(&mut |changes| {
                let seq = progress.applied.load(Ordering::Relaxed) + 1;
                progress.applied.store(seq, Ordering::Release);
                log.queue.send(Box::new(LogJob { seq, changes: Some(changes), log: log.clone() }));
            }),
        )
    }

    fn describe(&self) -> String {
        self.file.describe()
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
