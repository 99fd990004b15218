//! The default store (`--store sqlite:<path>`): the state resident in memory, SQLite as its log.
//!
//! Every transaction runs on the memory backend (`store::memory`), so reads and the work of a
//! write never touch the disk. A write that commits there hands what it changed (`Changes`: each
//! touched row as it now is) to the log file's writer thread (`store::log_file`, a SQLite file of
//! its own beside the store) while it still holds the memory lock, so the log receives changes in
//! the order they were made; the writer group-commits them, appending each group's transactions
//! as one row (`store::change_log`), and the caller is answered only once its changes are
//! committed. Every `FOLD_EVERY` the changes committed meanwhile, merged, are folded into the
//! store file's tables by that file's own writer, in one transaction recording how far the
//! tables reach, and their log rows are then trimmed. Appends never wait for a fold or for the
//! store file's checkpoints.
//! Every open of the store file (this one, `sqlite-direct:`, the state commands) first folds what
//! is left in the log file, and this one reads the whole state back.
//! SQLite stays the file format: a store written by a release before this one opens as it is, and
//! `sqlite-direct:<path>` still serves straight from the file.
//!
//! Nothing is answered from a change that is not yet durable: every transaction, read or write,
//! waits before answering until every change applied before it ended is committed
//! (`Progress::wait`), so no client acts on what a crash could take back. If the log fails, the
//! memory holds changes the file does not: the store stops (every later call fails with a storage
//! error) and a restart reads the file's state again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tokio::sync::Notify;

use super::change_log::{self, Unfolded};
use super::log_file::LogFile;
use super::memory::{Changes, MemoryBackend};
use super::queue::{GroupEnd, WriteJob, WriteQueue};
use super::sql_indexes::Indexes;
use super::sqlite::MAX_GROUP;
use super::sqlite::SqliteBackend;
use super::{Backend, Kind, Query, StoreResult, Synchronous, Tx, TxFn};
use crate::error::{Error, Result};

/// How far the log has committed: changes are numbered in the order they were applied.
#[derive(Debug, PartialEq, Eq)]
enum Committed {
    UpTo(u64),
    Failed(String),
}

/// Which changes are applied in memory, and which of those are committed to the log. The
/// committed state is kept once and published once per group commit (`publish`); threads outside
/// the runtime (`Store::write_now`) wait on `changed`, async waiters on `first` and `rest`.
///
/// The log's writer wakes one async waiter (`first`), and that one wakes the others (`rest`) from
/// the runtime's thread. Woken from the writer's thread, each waiter was a wake-up across threads:
/// a write to the runtime's event fd, and on a busy core a switch to the runtime and back before
/// the writer could wake the next. From the runtime's own thread a wake is a push onto its queue.
pub struct Progress {
    /// The number of the newest change applied in memory (changed under the memory write lock).
    applied: AtomicU64,
    committed: Mutex<Committed>,
    changed: Condvar,
    first: Notify,
    rest: Notify,
}

impl Progress {
    /// Progress when every change up to `seq` is both applied and committed.
    fn starting_at(seq: u64) -> Progress {
        Progress {
            applied: AtomicU64::new(seq),
            committed: Mutex::new(Committed::UpTo(seq)),
            changed: Condvar::new(),
            first: Notify::new(),
            rest: Notify::new(),
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
        loop {
            // Registered before the check, so that a commit between the two is not missed.
            let (first, rest) = (self.first.notified(), self.rest.notified());
            tokio::pin!(first, rest);
            first.as_mut().enable();
            rest.as_mut().enable();
            if let Some(done) = Self::reached(&self.committed.lock(), seq) {
                return done;
            }
            tokio::select! {
                // Woken by the writer: wake every other waiter, whether or not this one is done.
                () = &mut first => self.rest.notify_waiters(),
                () = &mut rest => {}
            }
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

    /// Records how far the log has committed. A failure is published at once; progress is
    /// published by the log's writer once its group has finished (`publish`).
    fn set(&self, next: Committed) {
        let failed = matches!(next, Committed::Failed(_));
        {
            let mut state = self.committed.lock();
            match (&*state, &next) {
                (Committed::Failed(_), _) => return,
                (Committed::UpTo(now), Committed::UpTo(n)) if n <= now => return,
                _ => *state = next,
            }
        }
        if failed {
            self.publish();
        }
    }

    /// Wakes whoever waits for what `set` recorded.
    fn publish(&self) {
        self.changed.notify_all();
        self.first.notify_one();
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

/// How often a fold of the committed changes starts. A fold shares the server's core with the
/// calls, and its burst of SQLite inserts is what their p99 waits behind: at 50 ms instead of 250
/// each burst is a fifth as long. Seven interleaved rounds on `sqlite:` (BENCHMARKS.md "A shorter
/// fold interval"): mixed gRPC p99 1.67-2.16 ms against 1.71-3.02, durable creates 3.96-4.23 ms
/// in six rounds against 4.17-4.88, calls per second the same. The merge folds an instance once
/// per 50 ms instead of once per 250, which cost nothing visible.
const FOLD_EVERY: Duration = Duration::from_millis(50);

/// What the log's jobs share: the two writers' queues, the progress, the group the log's writer
/// is running, and the fold's state.
struct Log {
    /// The log file's writer: appends and trims.
    appends: WriteQueue,
    /// The store file's writer: folds.
    folds: WriteQueue,
    progress: Arc<Progress>,
    /// The transactions of the group the log's writer is running, oldest first: appended as one
    /// row before the group commits, merged for the fold once it has. Only that writer uses it.
    group: Mutex<Vec<(u64, Changes)>>,
    folding: Mutex<Folding>,
}

/// Committed changes not yet folded, and whether a fold is under way.
struct Folding {
    /// Changes committed since the last fold started, merged.
    merging: Unfolded,
    started: Instant,
    in_flight: bool,
}

impl Log {
    fn fail(&self, what: &str, e: &Error) {
        tracing::error!(error = %e, "{what} failed; the store stops");
        self.progress.set(Committed::Failed(e.to_string()));
    }

    /// Appends the running group's transactions as one row, numbered as its newest: a row and a
    /// trim per group instead of per transaction (about a tenth of the statements at full load).
    /// Folds start only between groups (`group_committed`), so how far a fold reaches is always
    /// some row's number, and a trim after it drops whole rows.
    fn append_group(&self, tx: &mut dyn Tx) -> StoreResult<()> {
        let group = self.group.lock();
        match group.last() {
            Some(&(newest, _)) => tx.append_changes(newest, &change_log::encode_row(group.iter().map(|(_, changes)| changes))?),
            None => Ok(()),
        }
    }

    /// Merges a committed group's transactions, oldest first; starts a fold when one is due and
    /// none is under way (a slow fold makes the next one larger, never two at once); records
    /// them committed. A group that did not commit has failed its jobs, and the store with them.
    fn group_committed(self: &Arc<Self>, committed: bool) {
        let mut group = self.group.lock();
        let newest = group.last().map(|&(seq, _)| seq);
        if !committed {
            group.clear();
            return;
        }
        let mut folding = self.folding.lock();
        for (seq, changes) in group.drain(..) {
            folding.merging.merge(seq, changes);
        }
        drop(group);
        if !folding.in_flight && folding.started.elapsed() >= FOLD_EVERY && !folding.merging.is_empty() {
            let next = Unfolded::sized_like(&folding.merging);
            let due = std::mem::replace(&mut folding.merging, next);
            folding.started = Instant::now();
            folding.in_flight = true;
            self.folds.send(Box::new(FoldJob { upto: due.upto, changes: Some(due.into_changes()), log: self.clone() }));
        }
        drop(folding);
        if let Some(seq) = newest {
            self.progress.set(Committed::UpTo(seq));
        }
    }
}

/// The log's writer's work around each group, holding the log weakly: the writer's thread ends
/// when the store drops the log's queue, which a strong hold from that thread would keep.
struct LogGroups(Weak<Log>);

impl GroupEnd for LogGroups {
    fn before_commit(&self, tx: &mut dyn Tx) -> StoreResult<()> {
        self.0.upgrade().map_or(Ok(()), |log| log.append_group(tx))
    }

    fn finished(&self, committed: bool) {
        if let Some(log) = self.0.upgrade() {
            log.group_committed(committed);
            log.progress.publish();
        }
    }
}

/// One transaction's changes, on their way to the log file with the rest of its group.
struct LogJob {
    seq: u64,
    changes: Option<Changes>,
    log: Arc<Log>,
}

impl WriteJob for LogJob {
    fn run(&mut self, _tx: &mut dyn Tx) -> Result<()> {
        let mut changes = self.changes.take().ok_or_else(|| Error::Internal("storage: a log job ran twice".into()))?;
        // Leaves the bodies encoded, so that the fold writes these bytes without encoding again.
        change_log::encode_bodies(&mut changes)?;
        self.log.group.lock().push((self.seq, changes));
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        if let Err(e) = outcome {
            self.log.fail("the store's log", &e);
        }
    }

    fn own_savepoint(&self) -> bool {
        // A failed append stops the store: nothing is to be kept apart from it.
        false
    }
}

/// A fold: the changes committed over one interval, merged, written into the store file's tables
/// in one transaction that also records how far the tables now reach (`upto`). The store file
/// commits it synced (`synchronous = FULL`), so that once it is committed the log rows it holds
/// can go: a `TrimJob` then drops them from the log file. A crash before the trim leaves them
/// there, and the next open skips them (they are at or below the recorded `upto`).
struct FoldJob {
    upto: u64,
    changes: Option<Changes>,
    log: Arc<Log>,
}

impl WriteJob for FoldJob {
    fn run(&mut self, tx: &mut dyn Tx) -> Result<()> {
        if let Some(changes) = self.changes.take() {
            change_log::apply_pausing(changes, tx, &mut std::thread::yield_now)?;
        }
        Ok(tx.record_folded(self.upto)?)
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        match outcome {
            Ok(()) => {
                self.log.appends.send(Box::new(TrimJob { upto: self.upto, trimmed: 0, log: self.log.clone() }));
                self.log.folding.lock().in_flight = false;
            }
            // The merged changes are gone from memory: without this fold, a later one would record
            // them folded. The next open folds the log the log file still holds.
            Err(e) => self.log.fail("folding the change log", &e),
        }
    }
}

/// Rows of the log file one trim drops. A fold's interval at full load is hundreds of groups'
/// rows (thousands of transactions), and dropping them in one go held the log's writer, and every
/// call waiting on it, for milliseconds. 16 rows of groups of 10-15 are about the 256
/// transactions' rows a trim dropped when each had a row of its own.
const TRIM_ROWS: usize = 16;

/// Drops folded rows from the log file, at most `TRIM_ROWS` in a group of the log's writer like
/// any append; queues itself again while more are left.
struct TrimJob {
    upto: u64,
    trimmed: usize,
    log: Arc<Log>,
}

impl WriteJob for TrimJob {
    fn run(&mut self, tx: &mut dyn Tx) -> Result<()> {
        self.trimmed = tx.trim_changes(self.upto, TRIM_ROWS)?;
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<()>) {
        match outcome {
            Ok(()) if self.trimmed == TRIM_ROWS => {
                let next = TrimJob { upto: self.upto, trimmed: 0, log: self.log.clone() };
                self.log.appends.send(Box::new(next));
            }
            Ok(()) => {}
            Err(e) => self.log.fail("trimming the change log", &e),
        }
    }

    fn own_savepoint(&self) -> bool {
        false
    }
}

pub struct ResidentBackend {
    memory: MemoryBackend,
    file: SqliteBackend,
    /// Kept open for its checkpointer; the log's jobs hold its writer's queue.
    _log_file: LogFile,
    log: Arc<Log>,
    progress: Arc<Progress>,
}

impl ResidentBackend {
    /// Opens (or creates) the SQLite file, folds its log file into it, and reads its whole state
    /// into memory. The log file's commits are as durable as `synchronous` says; the store
    /// file's folds are always synced (see `FoldJob`).
    pub fn open(path: &str, synchronous: Synchronous) -> Result<ResidentBackend> {
        let started = std::time::Instant::now();
        // Read whole here and written by key from now on: the file keeps no index for reads.
        let file = SqliteBackend::open_with(path, Synchronous::Full, Indexes::KeysOnly)?;
        let (folded_upto, store_id) = file.folded()?;
        let memory = MemoryBackend::default();
        let mut rows = 0;
        file.read(&mut |from| {
            memory.write(&mut |into| {
                for kind in Kind::ALL {
                    for record in from.list(&Query::new(kind))? {
                        into.insert(record)?;
                        rows += 1;
                    }
                }
                for claim in from.all_claims()? {
                    into.claim(&claim)?
                        .map_err(|holder| Error::Internal(format!("claim {}/{} held twice ({holder})", claim.scope, claim.key)))?;
                    rows += 1;
                }
                for op in from.all_operations()? {
                    into.put_operation(op)?;
                    rows += 1;
                }
                Ok(())
            })
        })?;
        tracing::info!(store = path, rows, took_ms = started.elapsed().as_millis() as u64, "state read into memory");
        let folds = file.write_queue().cloned().ok_or_else(|| Error::Internal("storage: the SQLite file has no writer".into()))?;
        // Changes are numbered on from the newest one folded, so that every change logged from
        // now on is past what the tables record as folded.
        let progress = Arc::new(Progress::starting_at(folded_upto));
        let folding = Folding { merging: Unfolded::default(), started: Instant::now(), in_flight: false };
        let (appends, jobs) = WriteQueue::new();
        let log = Arc::new(Log {
            appends,
            folds,
            progress: progress.clone(),
            group: Mutex::new(Vec::with_capacity(MAX_GROUP)),
            folding: Mutex::new(folding),
        });
        let log_file = LogFile::open(path, &store_id, synchronous, jobs, Arc::new(LogGroups(Arc::downgrade(&log))))?;
        Ok(ResidentBackend { memory, file, _log_file: log_file, log, progress })
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
                log.appends.send(Box::new(LogJob { seq, changes: Some(changes), log: log.clone() }));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A runtime with one thread, as the server runs, and on it one waiter per change of `seqs`,
    /// each spawned once it has registered for the next commit.
    fn waiters(
        progress: &Arc<Progress>,
        seqs: std::ops::RangeInclusive<u64>,
    ) -> (tokio::runtime::Runtime, Vec<tokio::task::JoinHandle<Result<()>>>) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (registered, waiting) = std::sync::mpsc::channel();
        let handles: Vec<_> = seqs
            .map(|seq| {
                let (progress, registered) = (progress.clone(), registered.clone());
                runtime.spawn(async move {
                    let wait = progress.wait(seq);
                    tokio::pin!(wait);
                    // Polled once, so that it waits registered before the commit is published.
                    tokio::select! {
                        biased;
                        done = &mut wait => return done,
                        () = std::future::ready(()) => registered.send(()).unwrap(),
                    }
                    wait.await
                })
            })
            .collect();
        for _ in &handles {
            waiting.recv().unwrap();
        }
        (runtime, handles)
    }

    /// Commits up to `seq` from a thread of its own, as the log's writer does, and publishes them.
    fn commit_from_the_writer(progress: &Arc<Progress>, seq: u64) {
        let progress = progress.clone();
        std::thread::spawn(move || {
            progress.set(Committed::UpTo(seq));
            progress.publish();
        })
        .join()
        .unwrap();
    }

    /// Each published commit wakes one waiter from outside the runtime, and that one the rest:
    /// every waiter returns once its change is committed, and none before.
    #[test]
    fn one_published_commit_wakes_every_waiter_it_reaches_and_no_other() {
        let progress = Arc::new(Progress::starting_at(0));
        let (runtime, mut waiters) = waiters(&progress, 1..=20);
        commit_from_the_writer(&progress, 12);
        let later = waiters.split_off(12);
        runtime.block_on(async {
            for waiter in waiters {
                tokio::time::timeout(Duration::from_secs(10), waiter).await.expect("a committed change's waiter woke").unwrap().unwrap();
            }
        });
        assert!(later.iter().all(|w| !w.is_finished()), "a change answered before its commit");
        commit_from_the_writer(&progress, 20);
        runtime.block_on(async {
            for waiter in later {
                tokio::time::timeout(Duration::from_secs(10), waiter).await.expect("a committed change's waiter woke").unwrap().unwrap();
            }
        });
    }

    /// A failure of the log is published at once, with no group to finish.
    #[test]
    fn a_failed_log_wakes_its_waiters_with_the_failure() {
        let progress = Arc::new(Progress::starting_at(0));
        let (runtime, waiters) = waiters(&progress, 1..=3);
        let failing = progress.clone();
        std::thread::spawn(move || failing.set(Committed::Failed("disk full".into()))).join().unwrap();
        runtime.block_on(async {
            for waiter in waiters {
                let failed = tokio::time::timeout(Duration::from_secs(10), waiter).await.expect("woken").unwrap().unwrap_err();
                assert!(failed.to_string().contains("disk full"), "{failed}");
            }
        });
    }
}
