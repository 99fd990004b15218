//! The embedded SQLite backend: `--store sqlite-direct:<path>`, and the store file under the
//! default resident store (`sqlite:<path>`, `store::resident`).
//!
//! WAL mode with `synchronous=NORMAL`: a committed transaction survives the process being killed
//! at any moment (a power loss may lose the last few commits). SQLite admits one writer at a time,
//! so writes go through one connection behind a mutex instead of contending on the file lock;
//! reads run in parallel on a pool of connections, each in its own snapshot.
//!
//! Writes are group-committed by one writer thread: it runs every write queued while it works in
//! one transaction, each in its own savepoint (so a failing or panicking one rolls back alone),
//! and commits once for all of them. No call is answered before its commit, and a failed commit
//! fails every call of the group. The WAL is checkpointed by a background thread, never inside a
//! commit, and started over when it passes 64 MiB.
//!
//! Every open first folds what the resident store (`store::resident`) logged and the tables do
//! not hold yet: the `change_log` table earlier releases kept in this file, then the log file
//! beside it (`store::log_file`), past the `folded` row's mark.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use parking_lot::Mutex;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, Statement, params, params_from_iter, types::Value};

use super::list_sql::{Arg, ListSql, list_sql};
use super::queue::{GroupEnd, WriteJob, WriteQueue};
use super::sql_indexes::{self, Indexes};
use super::{Backend, Body, Claim, Kind, OperationRow, Query, Record, StoreError, StoreResult, Synchronous, Tx, TxFn};
use crate::domain::filter::{Column, Op};
use crate::error::{Error, Result};

/// A body is stored as a blob: encoded here, in the writer thread, when a transaction wrote a value.
impl rusqlite::ToSql for Body {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self.bytes() {
            Ok(std::borrow::Cow::Borrowed(bytes)) => Ok(bytes.into()),
            Ok(std::borrow::Cow::Owned(bytes)) => Ok(bytes.into()),
            Err(e) => Err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))),
        }
    }
}

impl rusqlite::types::FromSql for Body {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        Vec::<u8>::column_result(value).map(Body::Encoded)
    }
}

mod embedded {
    refinery::embed_migrations!("src/store/migrations/sqlite");
}

/// Migrates a database only as far as `version`: how a test builds what an earlier release left.
#[cfg(test)]
pub(super) fn migrate_to(conn: &mut Connection, version: i32) {
    embedded::migrations::runner().set_target(refinery::Target::Version(version)).run(conn).expect("migrate");
}

pub struct SqliteBackend {
    path: String,
    /// The one write connection: the writer thread holds it for a group, `write` for one call.
    writer: Arc<Mutex<Connection>>,
    /// Asynchronous writes, for the writer thread; it stops when this is dropped.
    queue: WriteQueue,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Tells the checkpointer thread to stop.
    checkpointer: Arc<AtomicBool>,
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        self.checkpointer.store(true, Ordering::Relaxed);
    }
}

/// How often the WAL is copied back into the database file, off the write path.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The WAL size (in pages) past which the checkpointer starts it over: 64 MiB of 4 KiB pages.
const WAL_RESTART_FRAMES: i64 = 16_384;

/// Past this size the WAL is started over even if passive checkpoints have not caught up with it.
const WAL_FORCE_RESTART_FRAMES: i64 = 4 * WAL_RESTART_FRAMES;

/// Checkpoints the WAL from a connection of its own, so that no write waits for the copy (and its
/// fsync) as it would with SQLite's automatic checkpoint at commit. PASSIVE never blocks writers
/// or readers; a checkpoint it cannot finish is simply tried again.
pub(super) fn checkpoint_in_background(path: &str, stop: Arc<AtomicBool>) -> Result<()> {
    let conn = Connection::open(path).map_err(|e| open_err(path, e))?;
    conn.execute_batch(PRAGMAS).map_err(|e| open_err(path, e))?;
    let spawned = std::thread::Builder::new().name("sqlite-checkpoint".into()).spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(CHECKPOINT_EVERY);
            // (busy, frames in the WAL, frames checkpointed)
            let frames = |r: &Row<'_>| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?));
            match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], frames) {
                // Under steady load some reader always holds an old snapshot, so passive
                // checkpoints never let the WAL start over and it grows without bound (and with
                // it the next start-up, which reads it all). Past the limit, a RESTART checkpoint
                // holds writers back for a moment, waits for the readers and makes the next
                // write start the WAL from its beginning. It syncs the database file under that
                // lock, so it follows a passive checkpoint that has already copied (and synced)
                // every frame. The file keeps its size and its blocks are written over: TRUNCATE
                // gave them back, every write then allocated new ones, and the sync under the
                // lock waited for all of them (writes stalled 40-70 ms; now 12-16 ms).
                // `journal_size_limit` cuts a WAL that grew past the limit back down.
                Ok((_, wal, copied)) if (wal > WAL_RESTART_FRAMES && copied >= wal) || wal > WAL_FORCE_RESTART_FRAMES => {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], frames) {
                        tracing::warn!(error = %e, wal_frames = wal, "WAL restart failed; will retry");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
            }
        }
    });
    spawned.map(|_| ()).map_err(|e| open_err(path, e))
}

/// A group commits at this size even if more writers wait, so none waits without bound.
pub(super) const MAX_GROUP: usize = 64;

fn backend_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(super) fn open_err(path: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("cannot open sqlite store {path}: {e}"))
}

/// `temp_store`: statement journals (a statement inside a savepoint that may have to be undone
/// alone) stay in memory instead of each opening a temporary file. `journal_size_limit`: see
/// `checkpoint_in_background`.
pub(super) const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; \
                       PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 67108864;";

/// How many prepared statements the writer's cache keeps: every fixed statement a write runs, with
/// room for the queries the writes make.
const WRITER_STATEMENTS: usize = 48;

impl SqliteBackend {
    /// A file served from SQLite (`sqlite-direct:`), with every index its reads need.
    pub fn open(path: &str, synchronous: Synchronous) -> Result<Self> {
        Self::open_with(path, synchronous, Indexes::ForReads)
    }

    /// A file with the secondary indexes `indexes` says (`store::sql_indexes`).
    pub fn open_with(path: &str, synchronous: Synchronous, indexes: Indexes) -> Result<Self> {
        if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(path, e))?;
        }
        let mut writer = Connection::open(path).map_err(|e| open_err(path, e))?;
        writer.execute_batch(PRAGMAS).map_err(|e| open_err(path, e))?;
        // The writer of `sqlite-direct:` runs every write statement there is (more than two dozen with
        // the group's BEGIN and COMMIT); rusqlite keeps 16, and an evicted one is parsed again.
        writer.set_prepared_statement_cache_capacity(WRITER_STATEMENTS);
        if synchronous == Synchronous::Full {
            // Only the writer commits; readers and the checkpointer keep NORMAL.
            writer.execute_batch("PRAGMA synchronous = FULL;").map_err(|e| open_err(path, e))?;
        }
        embedded::migrations::runner().run(&mut writer).map_err(|e| open_err(path, format!("migration failed: {e}")))?;
        sql_indexes::keep(&writer, indexes).map_err(|e| open_err(path, format!("setting up its indexes: {e}")))?;
        let manager = SqliteConnectionManager::file(path).with_init(|c| c.execute_batch(PRAGMAS));
        // Reader connections open as concurrent reads need them: opening all eight up front
        // cost about 0.5 MiB of idle RSS. One thread opens them (r2d2 starts three otherwise).
        let opener =
            Arc::new(scheduled_thread_pool::ScheduledThreadPool::builder().num_threads(1).thread_name_pattern("sqlite-readers").build());
        let readers =
            r2d2::Pool::builder().max_size(8).min_idle(Some(1)).thread_pool(opener).build(manager).map_err(|e| open_err(path, e))?;
        fold_change_log(&mut writer).map_err(|e| open_err(path, format!("folding the change log: {e}")))?;
        fold_log_file(&mut writer, path)?;
        // Commits never checkpoint; the background thread does (see `checkpoint_in_background`).
        writer.execute_batch("PRAGMA wal_autocheckpoint = 0;").map_err(|e| open_err(path, e))?;
        let checkpointer = Arc::new(AtomicBool::new(false));
        checkpoint_in_background(path, checkpointer.clone())?;
        let writer = Arc::new(Mutex::new(writer));
        let (queue, jobs) = WriteQueue::new();
        let connection = writer.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_groups("store", &connection, &jobs, &()))
            .map_err(|e| open_err(path, e))?;
        Ok(SqliteBackend { path: path.to_string(), writer, queue, readers, checkpointer })
    }

    /// How far the tables hold the resident store's log file, and the store's id (which its log
    /// file carries).
    pub fn folded(&self) -> Result<(u64, String)> {
        Ok(folded(&self.writer.lock())?)
    }
}

/// Folds what the resident store logged (`store::change_log`) into the tables, in one
/// transaction, before anything reads them: whichever way the file is opened next, it sees every
/// committed change.
fn fold_change_log(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction().map_err(backend_err)?;
    let rows: Vec<Vec<u8>> = {
        let mut st = tx.prepare("SELECT changes FROM change_log ORDER BY seq").map_err(backend_err)?;
        st.query_map([], |r| r.get(0)).map_err(backend_err)?.collect::<rusqlite::Result<_>>().map_err(backend_err)?
    };
    if rows.is_empty() {
        return Ok(());
    }
    for row in &rows {
        super::change_log::apply(super::change_log::decode(row)?, &mut SqlTx::on(&tx))?;
    }
    tx.execute("DELETE FROM change_log", []).map_err(backend_err)?;
    tx.commit().map_err(backend_err)?;
    tracing::info!(transactions = rows.len(), "folded the change log into the tables");
    Ok(())
}

/// How far the tables hold the resident store's log file, and the store's id: `folded`'s row.
fn folded(conn: &Connection) -> StoreResult<(u64, String)> {
    conn.query_row("SELECT upto, store_id FROM folded", [], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))).map_err(backend_err)
}

/// Folds the resident store's log file (`store::log_file`), past what the tables already hold,
/// into the tables in one transaction that records how far they now reach, then trims it: every
/// way of opening the file sees every change the log committed. The commit is synced before the
/// trim, so that no power loss can keep the trim and lose the fold.
fn fold_log_file(conn: &mut Connection, path: &str) -> Result<()> {
    let Some(log) = super::log_file::leftover(path)? else {
        return Ok(());
    };
    let (upto, store_id) = folded(conn)?;
    let rows = log.unfolded(&store_id, upto)?;
    let folded_upto = match rows.last() {
        None => upto,
        Some(&(last, _)) => {
            let level: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).map_err(backend_err)?;
            conn.execute_batch("PRAGMA synchronous = FULL;").map_err(backend_err)?;
            let tx = conn.transaction().map_err(backend_err)?;
            for (_, changes) in &rows {
                super::change_log::apply(super::change_log::decode(changes)?, &mut SqlTx::on(&tx))?;
            }
            SqlTx::on(&tx).record_folded(last)?;
            tx.commit().map_err(backend_err)?;
            conn.execute_batch(&format!("PRAGMA synchronous = {level};")).map_err(backend_err)?;
            tracing::info!(transactions = rows.len(), "folded the log file into the tables");
            last
        }
    };
    log.trim(folded_upto)
}

/// The writer thread: takes the first queued job, then every job queued while the group runs (up
/// to `MAX_GROUP`), and commits them together, counting each group's size under `writer` in the
/// metrics. `group_end` runs in the group's transaction after its jobs and is told once every job
/// has finished (the resident store's log writes the group's row and wakes its waiters there,
/// once a group rather than once a job). Returns when the backend is dropped.
pub(super) fn write_groups(
    writer: &'static str,
    connection: &Mutex<Connection>,
    jobs: &mpsc::Receiver<Box<dyn WriteJob>>,
    group_end: &dyn GroupEnd,
) {
    while let Ok(first) = jobs.recv() {
        // The first job's sender has just woken this thread and, on a busy core, been preempted
        // by it with more requests in hand. Yielding lets it queue them, so they join this group
        // instead of each paying for a commit (groups went from 1.2 to about 14 calls at 16 in
        // flight). With nothing else to run, the yield returns at once.
        std::thread::yield_now();
        let conn = connection.lock();
        let mut group = vec![first];
        let mut outcomes = Vec::with_capacity(MAX_GROUP);
        let mut broken = begin(&conn).err();
        // One transaction view for the jobs that need no savepoint (the log's appends and trims),
        // so that the statements they hold serve the whole group: an append took its statement
        // from the cache by its SQL text and put it back, about a third of appending.
        let mut shared = SqlTx::on(&conn);
        while broken.is_none() && outcomes.len() < group.len() {
            let job = &mut group[outcomes.len()];
            let ran = if job.own_savepoint() { in_savepoint(&conn, &mut |tx| job.run(tx)) } else { Ok(job.run(&mut shared)) };
            match ran {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => broken = Some(e),
            }
            if outcomes.len() == group.len() && group.len() < MAX_GROUP {
                group.extend(jobs.try_recv().ok());
            }
        }
        let keep = outcomes.iter().any(Result::is_ok);
        if broken.is_none() && keep {
            broken = group_end.before_commit(&mut shared).err();
        }
        drop(shared);
        let ended = match broken {
            None => end(&conn, keep),
            Some(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        };
        drop(conn);
        crate::metrics::metrics().commit_group(writer, group.len());
        outcomes.resize_with(group.len(), || Ok(()));
        for (job, outcome) in group.into_iter().zip(outcomes) {
            // A failed group takes every call's changes with it, so no call may report success.
            let outcome = match &ended {
                Ok(()) => outcome,
                Err(e) => outcome.and(Err(Error::Storage(format!("not committed: {e}")))),
            };
            job.finish(outcome);
        }
        group_end.finished(ended.is_ok() && keep);
    }
}

/// Starts a write transaction, first ending one a panicking `write` call may have left open.
fn begin(conn: &Connection) -> StoreResult<()> {
    if !conn.is_autocommit() {
        conn.execute_batch("ROLLBACK").map_err(backend_err)?;
    }
    run_cached(conn, "BEGIN IMMEDIATE")
}

/// Commits when `keep` (some call's changes are to be kept), rolls back otherwise.
fn end(conn: &Connection, keep: bool) -> StoreResult<()> {
    let outcome = run_cached(conn, if keep { "COMMIT" } else { "ROLLBACK" });
    if outcome.is_err() && !conn.is_autocommit() {
        // A failed COMMIT may leave the transaction open; nothing of it may survive.
        let _ = conn.execute_batch("ROLLBACK");
    }
    outcome
}

/// Runs a statement without parameters from the connection's statement cache: the writers begin
/// and commit a group many times a second, and parsing `BEGIN IMMEDIATE` each time was a third of
/// beginning one.
fn run_cached(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql).and_then(|mut st| st.execute([])).map(|_| ()).map_err(backend_err)
}

/// One read transaction on a reader connection; dropping it rolls it back, which is all a reader
/// needs.
fn read_on(conn: &mut Connection, f: &mut TxFn<'_>) -> Result<()> {
    let tx = conn.transaction().map_err(backend_err)?;
    f(&mut SqlTx::on(&tx))
}

/// Runs one call in a savepoint of the open transaction, keeping its changes only when it
/// succeeds. A panic is that call's failure alone. `Err` when the savepoint itself failed, which
/// leaves the transaction unusable.
fn in_savepoint(conn: &Connection, body: &mut TxFn<'_>) -> StoreResult<Result<()>> {
    conn.execute_batch("SAVEPOINT call").map_err(backend_err)?;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| body(&mut SqlTx::on(conn))))
        .unwrap_or_else(|_| Err(Error::Internal("storage: a transaction panicked".into())));
    let close = if outcome.is_ok() { "RELEASE call" } else { "ROLLBACK TO call; RELEASE call" };
    conn.execute_batch(close).map_err(backend_err)?;
    Ok(outcome)
}

impl Backend for SqliteBackend {
    fn read(&self, f: &mut TxFn<'_>) -> Result<()> {
        read_on(&mut *self.readers.get().map_err(backend_err)?, f)
    }

    /// One call in a transaction of its own, on the calling thread (start-up and tests; the
    /// server's writes go through `write_queue`).
    fn write(&self, f: &mut TxFn<'_>) -> Result<()> {
        let conn = self.writer.lock();
        begin(&conn)?;
        let outcome = in_savepoint(&conn, f);
        let ended = end(&conn, matches!(outcome, Ok(Ok(()))));
        let outcome = outcome?;
        ended?;
        outcome
    }

    /// In place when a reader connection is free; never waits for one on the caller's thread.
    fn try_lookup(&self, f: &mut TxFn<'_>) -> Option<Result<()>> {
        Some(read_on(&mut *self.readers.try_get()?, f))
    }

    fn write_queue(&self) -> Option<&WriteQueue> {
        Some(&self.queue)
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path)
    }
}

struct SqlTx<'a> {
    conn: &'a Connection,
    /// The statements a fold writes nearly all its rows with, and the log's append, held from
    /// their first use to the end of the job (for the log's jobs, of the group). Taken from the
    /// statement cache and put back for every row, they cost a fold about a tenth of its time
    /// (hashing the SQL twice, moving the statement in and out of the cache's list).
    held: HeldStatements<'a>,
}

#[derive(Default)]
struct HeldStatements<'a> {
    put_resource: Option<CachedStatement<'a>>,
    put_claim: Option<CachedStatement<'a>>,
    release_claim: Option<CachedStatement<'a>>,
    put_operation: Option<CachedStatement<'a>>,
    append_changes: Option<CachedStatement<'a>>,
}

/// The statement in `slot`, prepared (through the connection's cache) on first use.
fn held<'s, 'a>(slot: &'s mut Option<CachedStatement<'a>>, conn: &'a Connection, sql: &str) -> StoreResult<&'s mut CachedStatement<'a>> {
    let statement = match slot.take() {
        Some(statement) => statement,
        None => conn.prepare_cached(sql).map_err(backend_err)?,
    };
    Ok(slot.insert(statement))
}

fn kind_from(s: &str) -> rusqlite::Result<Kind> {
    Kind::parse(s).ok_or_else(|| rusqlite::Error::InvalidColumnType(0, s.to_string(), rusqlite::types::Type::Text))
}

const RECORD_COLUMNS: &str = "kind, id, folder_id, parent_id, name, created_at, status, zone_id, platform_id, body";
const CLAIM_COLUMNS: &str = "scope, key, owner, detail, expires_at";

fn claim(r: &rusqlite::Row<'_>) -> rusqlite::Result<Claim> {
    Ok(Claim { scope: r.get(0)?, key: r.get(1)?, owner: r.get(2)?, detail: r.get(3)?, expires_at: r.get(4)? })
}

fn record(row: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        kind: kind_from(&row.get::<_, String>(0)?)?,
        id: row.get(1)?,
        folder_id: row.get(2)?,
        parent_id: row.get(3)?,
        name: row.get(4)?,
        created_at: row.get(5)?,
        status: row.get(6)?,
        zone_id: row.get(7)?,
        platform_id: row.get(8)?,
        body: row.get(9)?,
    })
}

fn operation(row: &Row<'_>) -> rusqlite::Result<OperationRow> {
    Ok(OperationRow {
        id: row.get(0)?,
        resource_id: row.get(1)?,
        created_at: row.get(2)?,
        done: row.get(3)?,
        due_at: row.get(4)?,
        body: row.get(5)?,
    })
}

const OPERATION_COLUMNS: &str = "id, resource_id, created_at, done, due_at, body";

/// A resource row as it now is, new or not, in one statement: a fold writes new rows (every
/// create) and changed ones (every other write) alike, and the log does not say which. It tried
/// inserting first and then, for a row that was there, the narrow update of `update`: two
/// statements for every changed row. The resident store's file keeps no secondary indexes
/// (`sql_indexes`), so there setting every column costs no index entry; a `sqlite-direct:` open
/// folding a leftover log updates its indexes as any update of those columns does.
const PUT_RESOURCE: &str = "INSERT INTO resources (kind, id, folder_id, parent_id, name, created_at, status, zone_id, platform_id, body) \
                            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (kind, id) DO UPDATE SET \
                            folder_id = excluded.folder_id, parent_id = excluded.parent_id, name = excluded.name, \
                            created_at = excluded.created_at, status = excluded.status, zone_id = excluded.zone_id, \
                            platform_id = excluded.platform_id, body = excluded.body";

/// An operation row as it now is. An update keeps the row where it is; `OR REPLACE` would
/// delete it and append a copy.
const PUT_OPERATION: &str = "INSERT INTO operations (id, resource_id, created_at, done, due_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                             ON CONFLICT (id) DO UPDATE SET resource_id = excluded.resource_id, created_at = excluded.created_at, \
                             done = excluded.done, due_at = excluded.due_at, body = excluded.body";

/// Runs `st` with the record's columns as ?1..?10; the number of rows it changed.
fn run_record(st: &mut Statement<'_>, r: &Record) -> StoreResult<usize> {
    st.execute(params![r.kind.as_str(), r.id, r.folder_id, r.parent_id, r.name, r.created_at, r.status, r.zone_id, r.platform_id, r.body])
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                StoreError::Duplicate(format!("{} {}", r.kind.as_str(), r.id))
            }
            e => backend_err(e),
        })
}

impl<'a> SqlTx<'a> {
    fn on(conn: &'a Connection) -> SqlTx<'a> {
        SqlTx { conn, held: HeldStatements::default() }
    }

    /// Runs `sql` with the record's columns as ?1..?10; the number of rows it changed.
    fn write_record(&self, sql: &str, r: &Record) -> StoreResult<usize> {
        run_record(&mut *self.conn.prepare_cached(sql).map_err(backend_err)?, r)
    }

    fn claims(&self, sql: &str, arg: &str) -> StoreResult<Vec<Claim>> {
        let mut st = self.conn.prepare_cached(sql).map_err(backend_err)?;
        let rows = st.query_map([arg], claim).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }
}

impl Tx for SqlTx<'_> {
    fn get(&mut self, kind: Kind, id: &str) -> StoreResult<Option<Record>> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM resources WHERE kind = ?1 AND id = ?2");
        let mut st = self.conn.prepare_cached(&sql).map_err(backend_err)?;
        st.query_row(params![kind.as_str(), id], record).optional().map_err(backend_err)
    }

    fn insert(&mut self, r: Record) -> StoreResult<()> {
        self.write_record(&format!("INSERT INTO resources ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"), &r)?;
        Ok(())
    }

    fn update(&mut self, r: Record) -> StoreResult<()> {
        // Most updates change the body and the unindexed columns only. Saying so lets SQLite leave
        // the three indexes alone, where `OR REPLACE` deletes and re-inserts the row and every
        // index entry of it. A row whose indexed columns changed (or that is missing) is matched
        // by nothing here and takes the replacing path.
        let narrow = "UPDATE resources SET status = ?7, zone_id = ?8, platform_id = ?9, body = ?10 \
                      WHERE kind = ?1 AND id = ?2 AND folder_id = ?3 AND parent_id = ?4 AND name = ?5 AND created_at = ?6";
        if self.write_record(narrow, &r)? == 1 {
            return Ok(());
        }
        self.write_record(
            &format!("INSERT OR REPLACE INTO resources ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            &r,
        )?;
        Ok(())
    }

    fn put(&mut self, r: Record) -> StoreResult<()> {
        run_record(held(&mut self.held.put_resource, self.conn, PUT_RESOURCE)?, &r)?;
        Ok(())
    }

    fn delete(&mut self, kind: Kind, id: &str) -> StoreResult<bool> {
        let mut st = self.conn.prepare_cached("DELETE FROM resources WHERE kind = ?1 AND id = ?2").map_err(backend_err)?;
        Ok(st.execute(params![kind.as_str(), id]).map_err(backend_err)? > 0)
    }

    fn list(&mut self, q: &Query) -> StoreResult<Vec<Record>> {
        // Without statistics SQLite walks the primary key to avoid sorting, reading every row of
        // the kind; a folder list filtered by name (a handful of rows) must use the name index.
        let by_name = q.folder_id.is_some() && q.conditions.iter().any(|c| c.column == Column::Name && matches!(c.op, Op::Eq | Op::In));
        let index = if by_name { " INDEXED BY resources_by_name" } else { "" };
        let ListSql { sql, args } = list_sql(q, RECORD_COLUMNS, index, |_| "?".to_string());
        let args = args.into_iter().map(|a| match a {
            Arg::Text(t) => Value::Text(t),
            Arg::Int(n) => Value::Integer(n),
        });
        let mut st = self.conn.prepare_cached(&sql).map_err(backend_err)?;
        let rows = st.query_map(params_from_iter(args), record).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn claim(&mut self, c: &Claim) -> StoreResult<Result<(), String>> {
        let mut st = self
            .conn
            .prepare_cached("INSERT INTO claims (scope, key, owner, detail, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
            .map_err(backend_err)?;
        if st.execute(params![c.scope, c.key, c.owner, c.detail, c.expires_at]).map_err(backend_err)? == 1 {
            return Ok(Ok(()));
        }
        let mut st = self.conn.prepare_cached("SELECT owner FROM claims WHERE scope = ?1 AND key = ?2").map_err(backend_err)?;
        let holder: String = st.query_row(params![c.scope, c.key], |r| r.get(0)).map_err(backend_err)?;
        Ok(if holder == c.owner { Ok(()) } else { Err(holder) })
    }

    fn release(&mut self, scope: &str, key: &str) -> StoreResult<()> {
        let st = held(&mut self.held.release_claim, self.conn, "DELETE FROM claims WHERE scope = ?1 AND key = ?2")?;
        st.execute(params![scope, key]).map_err(backend_err)?;
        Ok(())
    }

    /// One statement that finds the key once: a new claim (most of a fold's) is one insert, where
    /// a delete first sought the key in vain (14% of a fold's time under creates).
    fn put_claim(&mut self, c: &Claim) -> StoreResult<()> {
        let st = held(
            &mut self.held.put_claim,
            self.conn,
            "INSERT INTO claims (scope, key, owner, detail, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (scope, key) DO UPDATE SET owner = excluded.owner, detail = excluded.detail, expires_at = excluded.expires_at",
        )?;
        st.execute(params![c.scope, c.key, c.owner, c.detail, c.expires_at]).map_err(backend_err)?;
        Ok(())
    }

    fn holder(&mut self, scope: &str, key: &str) -> StoreResult<Option<String>> {
        let mut st = self.conn.prepare_cached("SELECT owner FROM claims WHERE scope = ?1 AND key = ?2").map_err(backend_err)?;
        st.query_row(params![scope, key], |r| r.get(0)).optional().map_err(backend_err)
    }

    fn claim_at(&mut self, scope: &str, key: &str) -> StoreResult<Option<Claim>> {
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE scope = ?1 AND key = ?2");
        let mut st = self.conn.prepare_cached(&sql).map_err(backend_err)?;
        st.query_row(params![scope, key], claim).optional().map_err(backend_err)
    }

    fn claims_in(&mut self, scope: &str) -> StoreResult<Vec<Claim>> {
        self.claims(&format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE scope = ?1 ORDER BY key"), scope)
    }

    fn claims_of(&mut self, owner: &str) -> StoreResult<Vec<Claim>> {
        self.claims(&format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE owner = ?1 ORDER BY scope, key"), owner)
    }

    fn all_claims(&mut self) -> StoreResult<Vec<Claim>> {
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims ORDER BY scope, key");
        let mut st = self.conn.prepare_cached(&sql).map_err(backend_err)?;
        let rows = st.query_map([], claim).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn all_operations(&mut self) -> StoreResult<Vec<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations ORDER BY created_at, id");
        let mut st = self.conn.prepare_cached(&sql).map_err(backend_err)?;
        let rows = st.query_map([], operation).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn done_operations_before(&mut self, before: i64, limit: usize) -> StoreResult<Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = "SELECT id FROM operations WHERE done = 1 AND created_at < ?1 ORDER BY created_at, id LIMIT ?2";
        let mut st = self.conn.prepare_cached(sql).map_err(backend_err)?;
        let rows = st.query_map(params![before, limit], |r| r.get(0)).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn count_done_operations(&mut self) -> StoreResult<usize> {
        let mut st = self.conn.prepare_cached("SELECT COUNT(*) FROM operations WHERE done = 1").map_err(backend_err)?;
        let n: i64 = st.query_row([], |r| r.get(0)).map_err(backend_err)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn expired_claims(&mut self, now: i64, limit: usize) -> StoreResult<Vec<(String, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = "SELECT scope, key FROM claims WHERE expires_at IS NOT NULL AND expires_at < ?1 LIMIT ?2";
        let mut st = self.conn.prepare_cached(sql).map_err(backend_err)?;
        let rows = st.query_map(params![now, limit], |r| Ok((r.get(0)?, r.get(1)?))).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn delete_operation(&mut self, id: &str) -> StoreResult<bool> {
        let mut st = self.conn.prepare_cached("DELETE FROM operations WHERE id = ?1").map_err(backend_err)?;
        Ok(st.execute([id]).map_err(backend_err)? > 0)
    }

    fn put_operation(&mut self, op: OperationRow) -> StoreResult<()> {
        let st = held(&mut self.held.put_operation, self.conn, PUT_OPERATION)?;
        st.execute(params![op.id, op.resource_id, op.created_at, op.done, op.due_at, op.body]).map_err(backend_err)?;
        Ok(())
    }

    fn get_operation(&mut self, id: &str) -> StoreResult<Option<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE id = ?1");
        let mut st = self.conn.prepare_cached(&sql).map_err(backend_err)?;
        st.query_row([id], operation).optional().map_err(backend_err)
    }

    fn operations_of(&mut self, resource_id: &str, after: Option<(i64, &str)>, limit: usize) -> StoreResult<Vec<OperationRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (t, id) = after.unwrap_or((i64::MAX, ""));
        // Without a cursor, (MAX, "") sorts after every real row, so the first page is everything.
        let cursor = if after.is_some() { "(created_at < ?2 OR (created_at = ?2 AND id < ?3))" } else { "?2 = ?2 AND ?3 = ?3" };
        let sql = format!(
            "SELECT {OPERATION_COLUMNS} FROM operations WHERE resource_id = ?1 AND {cursor} ORDER BY created_at DESC, id DESC LIMIT ?4"
        );
        let mut st = self.conn.prepare_cached(&sql).map_err(backend_err)?;
        let rows = st.query_map(params![resource_id, t, id, limit], operation).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn pending_operations(&mut self) -> StoreResult<Vec<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE done = 0 ORDER BY due_at IS NULL, due_at, id");
        let mut st = self.conn.prepare_cached(&sql).map_err(backend_err)?;
        let rows = st.query_map([], operation).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn append_changes(&mut self, seq: u64, changes: &[u8]) -> StoreResult<()> {
        let st = held(&mut self.held.append_changes, self.conn, "INSERT INTO change_log (seq, changes) VALUES (?1, ?2)")?;
        st.execute(params![seq as i64, changes]).map_err(backend_err)?;
        Ok(())
    }

    /// Two statements over the rowid: the newest row the trim may drop (the `limit`-th oldest up
    /// to `upto`, if there are that many), then every row up to it. One `DELETE … WHERE seq IN
    /// (SELECT … LIMIT …)` built a temporary table of the keys on every trim, and SQLite prepared
    /// it again each time; without them a trim takes about half the instructions (BENCHMARKS.md,
    /// twenty-third session).
    fn trim_changes(&mut self, upto: u64, limit: usize) -> StoreResult<usize> {
        let Some(skipped) = limit.checked_sub(1) else { return Ok(0) };
        let newest: Option<i64> = self
            .conn
            .prepare_cached("SELECT seq FROM change_log WHERE seq <= ?1 ORDER BY seq LIMIT 1 OFFSET ?2")
            .and_then(|mut st| st.query_row(params![upto as i64, i64::try_from(skipped).unwrap_or(i64::MAX)], |r| r.get(0)).optional())
            .map_err(backend_err)?;
        let mut st = self.conn.prepare_cached("DELETE FROM change_log WHERE seq <= ?1").map_err(backend_err)?;
        st.execute(params![newest.unwrap_or(upto as i64)]).map_err(backend_err)
    }

    fn record_folded(&mut self, upto: u64) -> StoreResult<()> {
        let mut st = self.conn.prepare_cached("UPDATE folded SET upto = ?1").map_err(backend_err)?;
        st.execute(params![upto as i64]).map_err(backend_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod migration_tests {
    use super::*;

    #[test]
    fn full_synchronous_commits_are_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        for (asked, expected) in [(Synchronous::Normal, 1), (Synchronous::Full, 2)] {
            let backend = SqliteBackend::open(&dir.path().join(format!("{asked:?}.db")).display().to_string(), asked).unwrap();
            let level: i64 = backend.writer.lock().query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
            assert_eq!(level, expected, "{asked:?}");
        }
    }

    /// Operations written under the version 2 schema (a table keyed by id) are all there after
    /// the move to the insertion-ordered table, and an update still replaces a row in place.
    #[test]
    fn operations_survive_the_move_to_insertion_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db").display().to_string();
        {
            let mut conn = Connection::open(&path).unwrap();
            embedded::migrations::runner().set_target(refinery::Target::Version(2)).run(&mut conn).unwrap();
            for (id, done) in [("op-b", 1), ("op-a", 0)] {
                conn.execute(
                    "INSERT INTO operations (id, resource_id, created_at, done, due_at, body) VALUES (?1, 'r', 5, ?2, NULL, x'01')",
                    params![id, done],
                )
                .unwrap();
            }
        }
        let backend = SqliteBackend::open(&path, Synchronous::Normal).unwrap();
        let store = super::super::Store::new(backend);
        let (a, pending) = store.read_now(|tx| Ok((tx.get_operation("op-a")?, tx.pending_operations()?))).unwrap();
        assert_eq!(a.map(|o| (o.done, o.body)), Some((false, vec![1].into())));
        assert_eq!(pending.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["op-a"]);
        let done =
            OperationRow { id: "op-a".into(), resource_id: "r".into(), created_at: 5, done: true, due_at: None, body: vec![2].into() };
        store.write_now(|tx| Ok(tx.put_operation(done.clone())?)).unwrap();
        let (ops, count) = store
            .read_now(|tx| {
                let count = tx.operations_of("r", None, 10)?.len();
                Ok((tx.pending_operations()?, count))
            })
            .unwrap();
        assert_eq!((ops.len(), count), (0, 2));
    }
}

#[cfg(test)]
mod lookup_tests {
    use super::*;

    /// A lookup runs in place only on a free reader connection: with every one taken, it says so
    /// (the store then reads on the blocking pool) instead of waiting on the caller's thread.
    #[test]
    fn a_lookup_never_waits_for_a_reader_connection() {
        let dir = tempfile::tempdir().unwrap();
        let backend = SqliteBackend::open(&dir.path().join("n.db").display().to_string(), Synchronous::Normal).unwrap();
        let looked = |backend: &SqliteBackend| backend.try_lookup(&mut |tx| tx.get(Kind::Instance, "i").map(|_| ()).map_err(Error::from));
        assert!(matches!(looked(&backend), Some(Ok(()))));
        let taken: Vec<_> = (0..backend.readers.max_size()).map(|_| backend.readers.get().unwrap()).collect();
        assert!(looked(&backend).is_none(), "every reader connection is taken");
        drop(taken);
        assert!(matches!(looked(&backend), Some(Ok(()))));
    }
}

#[cfg(test)]
mod log_tests {
    use super::*;

    /// The statements held through a job spell their columns out: the same the reads read.
    #[test]
    fn the_held_statements_write_the_columns_the_reads_read() {
        assert!(PUT_RESOURCE.contains(&format!("({RECORD_COLUMNS})")), "{PUT_RESOURCE}");
        assert!(PUT_OPERATION.contains(&format!("({OPERATION_COLUMNS})")), "{PUT_OPERATION}");
    }

    /// A trim drops the oldest folded rows, at most as many as asked, and never one past `upto`:
    /// the resident store trims in turns so that no turn holds the log's writer for long.
    #[test]
    fn a_trim_drops_the_oldest_folded_rows_a_bounded_number_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let backend = SqliteBackend::open(&dir.path().join("t.db").display().to_string(), Synchronous::Normal).unwrap();
        let conn = backend.writer.lock();
        let mut tx = SqlTx::on(&conn);
        for seq in 1..=5 {
            tx.append_changes(seq, b"x").unwrap();
        }
        let left = |tx: &SqlTx<'_>| -> Vec<i64> {
            let mut st = tx.conn.prepare("SELECT seq FROM change_log ORDER BY seq").unwrap();
            st.query_map([], |r| r.get(0)).unwrap().collect::<rusqlite::Result<_>>().unwrap()
        };
        assert_eq!(tx.trim_changes(4, 3).unwrap(), 3);
        assert_eq!(left(&tx), [4, 5]);
        assert_eq!(tx.trim_changes(4, 3).unwrap(), 1);
        assert_eq!(tx.trim_changes(4, 3).unwrap(), 0);
        assert_eq!(left(&tx), [5]);
        assert_eq!(tx.trim_changes(5, 0).unwrap(), 0, "a trim of no rows drops none");
        assert_eq!(tx.trim_changes(5, 1).unwrap(), 1);
        assert!(left(&tx).is_empty());
    }
}
