//! The embedded SQLite backend, the default (`--store sqlite:<path>`).
//!
//! WAL mode with `synchronous=NORMAL`: a committed transaction survives the process being killed
//! at any moment (a power loss may lose the last few commits). SQLite admits one writer at a time,
//! so writes go through one connection behind a mutex instead of contending on the file lock;
//! reads run in parallel on a pool of connections, each in its own snapshot.
//!
//! Writes are group-committed: while other writers wait for the connection, a finished write
//! leaves the transaction open for them (each runs in its own savepoint, so a failing one rolls
//! back alone) and waits; the last of the group commits for all. No call returns before its
//! commit, and a failed commit fails every call of the group. The WAL is checkpointed by a
//! background thread, never inside a commit, and truncated when it passes 64 MiB.

use std::path::Path;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use parking_lot::{Condvar, Mutex};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter, types::Value};

use super::{Backend, Claim, Kind, OperationRow, Query, Record, SortValue, StoreError, StoreResult, Tx, TxFn};
use crate::domain::filter::{Column, Op};
use crate::error::{Error, Result};

mod embedded {
    refinery::embed_migrations!("src/store/migrations/sqlite");
}

pub struct SqliteBackend {
    path: String,
    writer: Mutex<Writer>,
    /// Writers waiting for the connection: while there are any, a group stays open.
    waiting: AtomicUsize,
    commits: Mutex<Commits>,
    committed: Condvar,
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

/// Checkpoints the WAL from a connection of its own, so that no write waits for the copy (and its
/// fsync) as it would with SQLite's automatic checkpoint at commit. PASSIVE never blocks writers
/// or readers; a checkpoint it cannot finish is simply tried again.
/// The WAL size (in pages) past which the checkpointer truncates it: 64 MiB of 4 KiB pages.
const WAL_RESTART_FRAMES: i64 = 16_384;

fn checkpoint_in_background(path: &str, stop: Arc<AtomicBool>) -> Result<()> {
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
                // it the next start-up, which reads it all). Past the limit, wait for readers
                // and writers for a moment, start the WAL over and truncate it.
                Ok((_, wal, _)) if wal > WAL_RESTART_FRAMES => {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], frames) {
                        tracing::warn!(error = %e, wal_frames = wal, "WAL truncation failed; will retry");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
            }
        }
    });
    spawned.map(|_| ()).map_err(|e| open_err(path, e))
}

/// The write connection and the group transaction open on it.
struct Writer {
    conn: Connection,
    open: bool,
    /// The number of the open (or last) group.
    group: u64,
    /// Calls whose changes the open group holds.
    members: usize,
    /// A call is running in the open group; still set at the next lock, that call panicked.
    in_call: bool,
}

/// How groups ended, for the calls waiting on them.
#[derive(Default)]
struct Commits {
    /// Every group up to this one has ended.
    ended: u64,
    /// Recent groups whose commit failed, with the reason.
    failed: HashMap<u64, String>,
}

/// A group commits at this size even if more writers wait, so none waits without bound.
const MAX_GROUP: usize = 64;

fn backend_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn open_err(path: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("cannot open sqlite store {path}: {e}"))
}

const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";

impl SqliteBackend {
    pub fn open(path: &str) -> Result<Self> {
        if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(path, e))?;
        }
        let mut writer = Connection::open(path).map_err(|e| open_err(path, e))?;
        writer.execute_batch(PRAGMAS).map_err(|e| open_err(path, e))?;
        embedded::migrations::runner().run(&mut writer).map_err(|e| open_err(path, format!("migration failed: {e}")))?;
        let manager = SqliteConnectionManager::file(path).with_init(|c| c.execute_batch(PRAGMAS));
        let readers = r2d2::Pool::builder().max_size(8).build(manager).map_err(|e| open_err(path, e))?;
        // Commits never checkpoint; the background thread does (see `checkpoint_in_background`).
        writer.execute_batch("PRAGMA wal_autocheckpoint = 0;").map_err(|e| open_err(path, e))?;
        let checkpointer = Arc::new(AtomicBool::new(false));
        checkpoint_in_background(path, checkpointer.clone())?;
        let writer = Writer { conn: writer, open: false, group: 0, members: 0, in_call: false };
        Ok(SqliteBackend {
            path: path.to_string(),
            writer: Mutex::new(writer),
            waiting: AtomicUsize::new(0),
            commits: Mutex::new(Commits::default()),
            committed: Condvar::new(),
            readers,
            checkpointer,
        })
    }

    /// Ends the open group (commit if it holds changes) and tells its waiting members.
    fn end_group(&self, w: &mut Writer) -> Result<()> {
        let outcome = w.conn.execute_batch(if w.members > 0 { "COMMIT" } else { "ROLLBACK" }).map_err(backend_err);
        if outcome.is_err() {
            // A failed COMMIT may leave the transaction open; nothing of it may survive.
            let _ = w.conn.execute_batch("ROLLBACK");
        }
        w.open = false;
        self.announce(w.group, outcome.as_ref().err().map(ToString::to_string));
        Ok(outcome?)
    }

    /// Records that `group` ended (failed, with the reason) and wakes its waiting members.
    fn announce(&self, group: u64, failure: Option<String>) {
        let mut commits = self.commits.lock();
        commits.ended = group;
        if let Some(reason) = failure {
            commits.failed.insert(group, reason);
        }
        commits.failed.retain(|g, _| *g + 1024 > group);
        self.committed.notify_all();
    }

    /// Waits until `group` has ended; its commit's outcome.
    fn wait_for(&self, group: u64) -> Result<()> {
        let mut commits = self.commits.lock();
        while commits.ended < group {
            self.committed.wait(&mut commits);
        }
        match commits.failed.get(&group) {
            Some(e) => Err(Error::Storage(format!("commit failed: {e}"))),
            None => Ok(()),
        }
    }
}

impl Backend for SqliteBackend {
    fn read(&self, f: &mut TxFn<'_>) -> Result<()> {
        let mut conn = self.readers.get().map_err(backend_err)?;
        let tx = conn.transaction().map_err(backend_err)?;
        f(&mut SqlTx(&tx))
        // Dropping the read transaction rolls it back, which is all a reader needs.
    }

    fn write(&self, f: &mut TxFn<'_>) -> Result<()> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut w = self.writer.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if w.in_call {
            // A call panicked inside the group: its half-done changes must not be committed with
            // the others, so the whole group fails.
            let _ = w.conn.execute_batch("ROLLBACK");
            w.in_call = false;
            w.open = false;
            self.announce(w.group, Some("a call in the same group panicked".into()));
        }
        if !w.open {
            w.conn.execute_batch("BEGIN IMMEDIATE").map_err(backend_err)?;
            w.open = true;
            w.group += 1;
            w.members = 0;
        }
        let group = w.group;
        w.in_call = true;
        let result = match w.conn.execute_batch("SAVEPOINT call") {
            Ok(()) => f(&mut SqlTx(&w.conn)),
            Err(e) => Err(backend_err(e).into()),
        };
        w.in_call = false;
        let closed = match &result {
            Ok(()) => w.conn.execute_batch("RELEASE call"),
            Err(_) => w.conn.execute_batch("ROLLBACK TO call; RELEASE call"),
        };
        if let Err(e) = closed {
            // The savepoint could not be closed: end the group without this call's changes.
            w.members = 0;
            let _ = self.end_group(&mut w);
            return Err(backend_err(e).into());
        }
        if result.is_ok() {
            w.members += 1;
        }
        if self.waiting.load(Ordering::SeqCst) > 0 && w.members < MAX_GROUP {
            drop(w);
            result?;
            return self.wait_for(group);
        }
        let ended = self.end_group(&mut w);
        result.and(ended)
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path)
    }
}

struct SqlTx<'a>(&'a Connection);

fn kind_from(s: &str) -> rusqlite::Result<Kind> {
    Kind::parse(s).ok_or_else(|| rusqlite::Error::InvalidColumnType(0, s.to_string(), rusqlite::types::Type::Text))
}

const RECORD_COLUMNS: &str = "kind, id, folder_id, parent_id, name, created_at, status, zone_id, platform_id, body";

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

fn column_name(c: Column) -> &'static str {
    match c {
        Column::Id => "id",
        Column::Name => "name",
        Column::CreatedAt => "created_at",
        Column::Status => "status",
        Column::ZoneId => "zone_id",
        Column::PlatformId => "platform_id",
    }
}

fn sql_value(column: Column, v: &str) -> Value {
    match (column, v.parse::<i64>()) {
        (Column::CreatedAt, Ok(n)) => Value::Integer(n),
        _ => Value::Text(v.to_string()),
    }
}

fn sort_sql_value(v: &SortValue) -> Value {
    match v {
        SortValue::Int(n) => Value::Integer(*n),
        SortValue::Text(s) => Value::Text(s.clone()),
    }
}

impl SqlTx<'_> {
    fn write_record(&self, sql: &str, r: &Record) -> StoreResult<()> {
        self.0
            .prepare_cached(sql)
            .and_then(|mut st| {
                st.execute(params![
                    r.kind.as_str(),
                    r.id,
                    r.folder_id,
                    r.parent_id,
                    r.name,
                    r.created_at,
                    r.status,
                    r.zone_id,
                    r.platform_id,
                    r.body
                ])
            })
            .map(|_| ())
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Duplicate(format!("{} {}", r.kind.as_str(), r.id))
                }
                e => backend_err(e),
            })
    }

    fn claims(&self, sql: &str, arg: &str) -> StoreResult<Vec<Claim>> {
        let mut st = self.0.prepare_cached(sql).map_err(backend_err)?;
        let rows = st.query_map([arg], |r| Ok(Claim { scope: r.get(0)?, key: r.get(1)?, owner: r.get(2)? })).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }
}

impl Tx for SqlTx<'_> {
    fn get(&mut self, kind: Kind, id: &str) -> StoreResult<Option<Record>> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM resources WHERE kind = ?1 AND id = ?2");
        let mut st = self.0.prepare_cached(&sql).map_err(backend_err)?;
        st.query_row(params![kind.as_str(), id], record).optional().map_err(backend_err)
    }

    fn insert(&mut self, r: &Record) -> StoreResult<()> {
        self.write_record(&format!("INSERT INTO resources ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"), r)
    }

    fn update(&mut self, r: &Record) -> StoreResult<()> {
        self.write_record(
            &format!("INSERT OR REPLACE INTO resources ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            r,
        )
    }

    fn delete(&mut self, kind: Kind, id: &str) -> StoreResult<bool> {
        let mut st = self.0.prepare_cached("DELETE FROM resources WHERE kind = ?1 AND id = ?2").map_err(backend_err)?;
        Ok(st.execute(params![kind.as_str(), id]).map_err(backend_err)? > 0)
    }

    fn list(&mut self, q: &Query) -> StoreResult<Vec<Record>> {
        // Without statistics SQLite walks the primary key to avoid sorting, reading every row of
        // the kind; a folder list filtered by name (a handful of rows) must use the name index.
        let by_name = q.folder_id.is_some() && q.conditions.iter().any(|c| c.column == Column::Name && matches!(c.op, Op::Eq | Op::In));
        let index = if by_name { " INDEXED BY resources_by_name" } else { "" };
        let mut sql = format!("SELECT {RECORD_COLUMNS} FROM resources{index} WHERE kind = ?");
        let mut args: Vec<Value> = vec![Value::Text(q.kind.as_str().into())];
        if let Some(f) = &q.folder_id {
            sql.push_str(" AND folder_id = ?");
            args.push(Value::Text(f.clone()));
        }
        if let Some(p) = &q.parent_id {
            sql.push_str(" AND parent_id = ?");
            args.push(Value::Text(p.clone()));
        }
        for c in &q.conditions {
            let col = column_name(c.column);
            let marks = vec!["?"; c.values.len()].join(", ");
            let clause = match c.op {
                Op::Eq | Op::In => format!(" AND {col} IN ({marks})"),
                Op::Ne | Op::NotIn => format!(" AND {col} NOT IN ({marks})"),
            };
            sql.push_str(&clause);
            args.extend(c.values.iter().map(|v| sql_value(c.column, v)));
        }
        let col = column_name(q.order.column);
        let (cmp, dir) = if q.order.descending { ("<", "DESC") } else { (">", "ASC") };
        if let Some(after) = &q.after {
            sql.push_str(&format!(" AND ({col} {cmp} ? OR ({col} = ? AND id {cmp} ?))"));
            let v = sort_sql_value(&after.value);
            args.extend([v.clone(), v, Value::Text(after.id.clone())]);
        }
        sql.push_str(&format!(" ORDER BY {col} {dir}, id {dir} LIMIT ?"));
        args.push(Value::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        let mut st = self.0.prepare_cached(&sql).map_err(backend_err)?;
        let rows = st.query_map(params_from_iter(args), record).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn claim(&mut self, c: &Claim) -> StoreResult<Result<(), String>> {
        let mut st = self
            .0
            .prepare_cached("INSERT INTO claims (scope, key, owner) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
            .map_err(backend_err)?;
        if st.execute(params![c.scope, c.key, c.owner]).map_err(backend_err)? == 1 {
            return Ok(Ok(()));
        }
        let mut st = self.0.prepare_cached("SELECT owner FROM claims WHERE scope = ?1 AND key = ?2").map_err(backend_err)?;
        let holder: String = st.query_row(params![c.scope, c.key], |r| r.get(0)).map_err(backend_err)?;
        Ok(if holder == c.owner { Ok(()) } else { Err(holder) })
    }

    fn release(&mut self, scope: &str, key: &str) -> StoreResult<()> {
        let mut st = self.0.prepare_cached("DELETE FROM claims WHERE scope = ?1 AND key = ?2").map_err(backend_err)?;
        st.execute(params![scope, key]).map_err(backend_err)?;
        Ok(())
    }

    fn holder(&mut self, scope: &str, key: &str) -> StoreResult<Option<String>> {
        let mut st = self.0.prepare_cached("SELECT owner FROM claims WHERE scope = ?1 AND key = ?2").map_err(backend_err)?;
        st.query_row(params![scope, key], |r| r.get(0)).optional().map_err(backend_err)
    }

    fn claims_in(&mut self, scope: &str) -> StoreResult<Vec<Claim>> {
        self.claims("SELECT scope, key, owner FROM claims WHERE scope = ?1 ORDER BY key", scope)
    }

    fn claims_of(&mut self, owner: &str) -> StoreResult<Vec<Claim>> {
        self.claims("SELECT scope, key, owner FROM claims WHERE owner = ?1 ORDER BY scope, key", owner)
    }

    fn put_operation(&mut self, op: &OperationRow) -> StoreResult<()> {
        let sql = format!("INSERT OR REPLACE INTO operations ({OPERATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        let mut st = self.0.prepare_cached(&sql).map_err(backend_err)?;
        st.execute(params![op.id, op.resource_id, op.created_at, op.done, op.due_at, op.body]).map_err(backend_err)?;
        Ok(())
    }

    fn get_operation(&mut self, id: &str) -> StoreResult<Option<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE id = ?1");
        let mut st = self.0.prepare_cached(&sql).map_err(backend_err)?;
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
        let mut st = self.0.prepare_cached(&sql).map_err(backend_err)?;
        let rows = st.query_map(params![resource_id, t, id, limit], operation).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }

    fn pending_operations(&mut self) -> StoreResult<Vec<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE done = 0 ORDER BY due_at IS NULL, due_at, id");
        let mut st = self.0.prepare_cached(&sql).map_err(backend_err)?;
        let rows = st.query_map([], operation).map_err(backend_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend_err)
    }
}
