//! The PostgreSQL backend (`--store postgres://…`): the same tables and semantics as SQLite, for
//! several replicas on one database. Writes run SERIALIZABLE and are retried when PostgreSQL
//! reports a serialization failure or deadlock (the store's closures may run more than once);
//! reads run in a read-only REPEATABLE READ snapshot. Uniqueness rests on primary keys, so it holds
//! across replicas. Migrations run under an advisory lock, so replicas may start at once.
//!
//! Operations across replicas: a runner takes a pending operation with `FOR UPDATE SKIP LOCKED`
//! in the transaction that applies it, so one replica alone runs it and the others pass it by.
//! That row lock is the lease: it ends when the transaction does, at once when a replica is killed
//! (PostgreSQL sees its connection close) and after `LEASE` when a replica hangs mid-transaction
//! (`idle_in_transaction_session_timeout`). New pending operations reach every replica's runner
//! through `LISTEN netplane_operations`, which a trigger notifies (migration V2).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{IsolationLevel, NoTls, Row, Transaction};
use r2d2_postgres::PostgresConnectionManager;

use super::list_sql::{Arg, ListSql, list_sql};
use super::{Backend, Body, Claim, Kind, OperationRow, Query, Record, StoreError, StoreResult, Tx, TxFn};
use crate::error::{Error, Result};

/// A body is stored as `bytea`: encoded here when a transaction wrote a value.
impl ToSql for Body {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        (&*self.bytes()?).to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <&[u8] as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Body {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Vec::<u8>::from_sql(ty, raw).map(Body::Encoded)
    }

    fn accepts(ty: &Type) -> bool {
        <Vec<u8> as FromSql>::accepts(ty)
    }
}

mod embedded {
    refinery::embed_migrations!("src/store/migrations/postgres");
}

/// Migrates a database only as far as `version`: how a test builds what an earlier release left.
#[cfg(test)]
pub(super) fn migrate_to(client: &mut postgres::Client, version: i32) {
    embedded::migrations::runner().set_target(refinery::Target::Version(version)).run(client).expect("migrate");
}

/// How long a write is tried again after serialization failures before giving up: as long as
/// SQLite waits for its lock (`busy_timeout`). Twenty attempts, about a second of pauses, were
/// used up once while replicas behind nginx were drained in turn, and the client was told
/// UNAVAILABLE (the drain test in the twenty-sixth session's CI; a failure of the same test in
/// the twenty-first session said only "db error").
const RETRY_FOR: Duration = Duration::from_secs(5);

/// Any fixed number: the advisory lock replicas take while migrating.
const MIGRATION_LOCK: i64 = 0x6e65_7470_6c61_6e65;

/// How long a replica that stops in the middle of a transaction (frozen, cut off from the
/// database) keeps the rows it locked, operations included, before PostgreSQL ends its session.
pub const LEASE: Duration = Duration::from_secs(10);

/// The channel the operations trigger notifies.
const OPERATIONS_CHANNEL: &str = "netplane_operations";

pub struct PostgresBackend {
    url: String,
    config: postgres::Config,
    /// Always `Some` until dropped (see `Drop`).
    pool: Option<r2d2::Pool<PostgresConnectionManager<NoTls>>>,
    /// Tells the listener thread to stop.
    closed: Arc<AtomicBool>,
}

/// The blocking client runs a small runtime per connection, which may not be dropped on an async
/// runtime's thread (a server drops its store there on shutdown): the pool is dropped on a thread
/// of its own.
impl Drop for PostgresBackend {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

fn backend_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A PostgreSQL error as a message: the driver's own says only "db error" for an error the
/// server sent (its cause is left to `source()`), so the server's message and SQLSTATE are added.
/// A store failure a client or a log sees then says what PostgreSQL refused.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{e}: {} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

fn pg_err(e: &postgres::Error) -> StoreError {
    StoreError::Backend(describe(e))
}

fn open_err(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("cannot open the PostgreSQL store: {e}"))
}

/// The URL without its password, for logs.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl PostgresBackend {
    pub fn open(url: &str) -> Result<Self> {
        let mut config: postgres::Config = url.parse().map_err(open_err)?;
        let options = format!("{} -c idle_in_transaction_session_timeout={}", config.get_options().unwrap_or_default(), LEASE.as_millis());
        config.options(options.trim_start());
        let mut admin = config.connect(NoTls).map_err(open_err)?;
        admin.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).map_err(open_err)?;
        let migrated = embedded::migrations::runner().run(&mut admin).map_err(|e| open_err(format!("migration failed: {e}")));
        admin.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).map_err(open_err)?;
        migrated?;
        let pool = r2d2::Pool::builder().max_size(16).build(PostgresConnectionManager::new(config.clone(), NoTls)).map_err(open_err)?;
        Ok(PostgresBackend { url: redacted(url), config, pool: Some(pool), closed: Arc::new(AtomicBool::new(false)) })
    }

    fn run(&self, write: bool, f: &mut TxFn<'_>) -> Result<()> {
        let pool = self.pool.as_ref().ok_or_else(|| Error::Unavailable("PostgreSQL: the store is closed".into()))?;
        let mut conn = pool.get().map_err(|e| Error::Storage(format!("PostgreSQL: {e}")))?;
        let isolation = if write { IsolationLevel::Serializable } else { IsolationLevel::RepeatableRead };
        let started = Instant::now();
        for attempt in 1.. {
            let mut tx = conn.build_transaction().isolation_level(isolation).read_only(!write).start().map_err(|e| {
                tracing::warn!(error = %describe(&e), "PostgreSQL transaction could not begin");
                pg_err(&e)
            })?;
            let mut pg = PgTx { tx: &mut tx, conflict: false, failed: false };
            let outcome = f(&mut pg);
            let (conflict, failed) = (pg.conflict, pg.failed);
            let outcome = match outcome {
                Ok(()) if failed => Err((
                    conflict,
                    Error::Storage("PostgreSQL: a statement of the transaction failed, which ended it; nothing of it was committed".into()),
                )),
                Ok(()) if write => tx.commit().map_err(|e| {
                    if let Some(db) = e.as_db_error().filter(|_| !retryable(&e)) {
                        tracing::warn!(code = %db.code().code(), message = %db.message(), "PostgreSQL commit failed");
                    }
                    (retryable(&e), pg_err(&e).into())
                }),
                Ok(()) => Ok(()),
                Err(e) => Err((conflict, e)),
            };
            match outcome {
                Ok(()) => return Ok(()),
                Err((true, _)) if started.elapsed() < RETRY_FOR => {
                    crate::metrics::metrics().transaction_retried();
                    // Transactions that collided and retry at once collide again (serializable
                    // isolation locks index pages, not rows): wait a random while, doubling its
                    // ceiling with each attempt up to 50 ms, so that they fall out of step.
                    let ceiling = (100u64 << attempt.min(9)).min(50_000);
                    std::thread::sleep(Duration::from_micros(rand::random_range(0..ceiling)));
                    continue;
                }
                Err((conflicted, e)) => {
                    if conflicted {
                        tracing::warn!(attempts = attempt, "PostgreSQL transaction kept conflicting; giving up");
                    }
                    return Err(e);
                }
            }
        }
        Err(Error::Internal("PostgreSQL: no attempt made".into()))
    }
}

fn retryable(e: &postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

impl Backend for PostgresBackend {
    fn read(&self, f: &mut TxFn<'_>) -> Result<()> {
        self.run(false, f)
    }

    fn write(&self, f: &mut TxFn<'_>) -> Result<()> {
        self.run(true, f)
    }

    fn describe(&self) -> String {
        self.url.clone()
    }

    fn shared(&self) -> bool {
        true
    }

    fn watch_operations(&self, wake: Box<dyn Fn() -> bool + Send>) {
        let (config, closed, url) = (self.config.clone(), self.closed.clone(), self.url.clone());
        let spawned = std::thread::Builder::new().name("netplane-pg-listen".into()).spawn(move || listen(&config, &closed, &*wake, &url));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the PostgreSQL listener; operations other replicas accept wait for this replica's own wake-ups");
        }
    }
}

/// The listener thread: one connection of its own that LISTENs, calling `wake` for each batch of
/// notifications, and again after every reconnection (notifications sent while disconnected are
/// lost, so the runner looks for itself). Stops when the backend closes or `wake` says nobody
/// listens any more.
fn listen(config: &postgres::Config, closed: &AtomicBool, wake: &dyn Fn() -> bool, url: &str) {
    /// How often the thread looks at `closed` while no notification comes.
    const TICK: Duration = Duration::from_millis(500);
    let mut backoff = Duration::from_millis(100);
    while !closed.load(Ordering::Relaxed) {
        let connected =
            config.connect(NoTls).and_then(|mut client| client.batch_execute(&format!("LISTEN {OPERATIONS_CHANNEL}")).map(|()| client));
        let mut client = match connected {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(store = %url, error = %e, retry_in = ?backoff, "PostgreSQL listener cannot connect");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        if !wake() {
            return;
        }
        loop {
            if closed.load(Ordering::Relaxed) {
                return;
            }
            let mut notifications = client.notifications();
            let first = notifications.timeout_iter(TICK).next();
            // Whatever else has arrived already is part of the same wake-up.
            let received = first.and_then(|first| Ok(first.is_some() | (notifications.iter().count()? > 0)));
            match received {
                Ok(true) if !wake() => return,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(store = %url, error = %e, "PostgreSQL listener lost its connection; reconnecting");
                    break;
                }
            }
        }
    }
}

struct PgTx<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    /// Whether a statement failed because of a concurrent transaction (retry the whole closure).
    conflict: bool,
    /// Whether any statement failed. PostgreSQL ends a transaction at its first failure and
    /// answers a later COMMIT by rolling it back, without an error: a closure that went on past
    /// a failure must not be reported committed.
    failed: bool,
}

const RECORD_COLUMNS: &str = "kind, id, folder_id, parent_id, name, created_at, status, zone_id, platform_id, body";
const CLAIM_COLUMNS: &str = "scope, key, owner, detail, expires_at";

fn claim(r: &postgres::Row) -> Claim {
    Claim { scope: r.get(0), key: r.get(1), owner: r.get(2), detail: r.get(3), expires_at: r.get(4) }
}
const OPERATION_COLUMNS: &str = "id, resource_id, created_at, done, due_at, body";

fn record(row: &Row) -> StoreResult<Record> {
    let kind: String = row.get(0);
    Ok(Record {
        kind: Kind::parse(&kind).ok_or_else(|| backend_err(format!("unknown kind {kind}")))?,
        id: row.get(1),
        folder_id: row.get(2),
        parent_id: row.get(3),
        name: row.get(4),
        created_at: row.get(5),
        status: row.get(6),
        zone_id: row.get(7),
        platform_id: row.get(8),
        body: row.get(9),
    })
}

fn operation(row: &Row) -> OperationRow {
    OperationRow { id: row.get(0), resource_id: row.get(1), created_at: row.get(2), done: row.get(3), due_at: row.get(4), body: row.get(5) }
}

type Param = Box<dyn ToSql + Sync>;

impl PgTx<'_, '_> {
    fn check<T>(&mut self, result: std::result::Result<T, postgres::Error>) -> StoreResult<T> {
        result.map_err(|e| {
            self.failed = true;
            if retryable(&e) {
                self.conflict = true;
            } else if let Some(db) = e.as_db_error() {
                // The client sees the server's message and SQLSTATE (`describe`); the log adds
                // the detail, which may quote the row's values.
                tracing::warn!(code = %db.code().code(), message = %db.message(), detail = ?db.detail(), "PostgreSQL statement failed");
            }
            if e.code() == Some(&SqlState::UNIQUE_VIOLATION) { StoreError::Duplicate(describe(&e)) } else { pg_err(&e) }
        })
    }

    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        let result = self.tx.query(sql, params);
        self.check(result)
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let result = self.tx.execute(sql, params);
        self.check(result)
    }

    fn write_record(&mut self, upsert: bool, r: &Record) -> StoreResult<()> {
        let conflict = if upsert {
            " ON CONFLICT (kind, id) DO UPDATE SET folder_id = EXCLUDED.folder_id, parent_id = EXCLUDED.parent_id, \
             name = EXCLUDED.name, created_at = EXCLUDED.created_at, status = EXCLUDED.status, zone_id = EXCLUDED.zone_id, \
             platform_id = EXCLUDED.platform_id, body = EXCLUDED.body"
        } else {
            " ON CONFLICT (kind, id) DO NOTHING"
        };
        let sql = format!("INSERT INTO resources ({RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10){conflict}");
        let kind = r.kind.as_str();
        let written = self.execute(
            &sql,
            &[&kind, &r.id, &r.folder_id, &r.parent_id, &r.name, &r.created_at, &r.status, &r.zone_id, &r.platform_id, &r.body],
        )?;
        if written == 0 {
            return Err(StoreError::Duplicate(format!("{} {}", r.kind.as_str(), r.id)));
        }
        Ok(())
    }

    fn claims(&mut self, sql: &str, arg: &str) -> StoreResult<Vec<Claim>> {
        Ok(self.query(sql, &[&arg])?.iter().map(claim).collect())
    }
}

impl Tx for PgTx<'_, '_> {
    fn get(&mut self, kind: Kind, id: &str) -> StoreResult<Option<Record>> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM resources WHERE kind = $1 AND id = $2");
        self.query(&sql, &[&kind.as_str(), &id])?.first().map(record).transpose()
    }

    /// A duplicate is found with `ON CONFLICT DO NOTHING`, not by a failed statement: that would
    /// end the whole transaction, where on the other backends the insert fails alone.
    fn insert(&mut self, r: Record) -> StoreResult<()> {
        self.write_record(false, &r)
    }

    fn update(&mut self, r: Record) -> StoreResult<()> {
        self.write_record(true, &r)
    }

    fn delete(&mut self, kind: Kind, id: &str) -> StoreResult<bool> {
        Ok(self.execute("DELETE FROM resources WHERE kind = $1 AND id = $2", &[&kind.as_str(), &id])? > 0)
    }

    fn list(&mut self, q: &Query) -> StoreResult<Vec<Record>> {
        let ListSql { sql, args } = list_sql(q, RECORD_COLUMNS, "", |n| format!("${n}"));
        let args: Vec<Param> = args
            .into_iter()
            .map(|a| -> Param {
                match a {
                    Arg::Text(t) => Box::new(t),
                    Arg::Int(n) => Box::new(n),
                }
            })
            .collect();
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|p| p.as_ref()).collect();
        self.query(&sql, &params)?.iter().map(record).collect()
    }

    fn claim(&mut self, c: &Claim) -> StoreResult<Result<(), String>> {
        let sql = "INSERT INTO claims (scope, key, owner, detail, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
        if self.execute(sql, &[&c.scope, &c.key, &c.owner, &c.detail, &c.expires_at])? == 1 {
            return Ok(Ok(()));
        }
        let holder = self.holder(&c.scope, &c.key)?.ok_or_else(|| backend_err("a conflicting claim vanished"))?;
        Ok(if holder == c.owner { Ok(()) } else { Err(holder) })
    }

    fn release(&mut self, scope: &str, key: &str) -> StoreResult<()> {
        self.execute("DELETE FROM claims WHERE scope = $1 AND key = $2", &[&scope, &key]).map(|_| ())
    }

    fn holder(&mut self, scope: &str, key: &str) -> StoreResult<Option<String>> {
        Ok(self.query("SELECT owner FROM claims WHERE scope = $1 AND key = $2", &[&scope, &key])?.first().map(|r| r.get(0)))
    }

    fn claim_at(&mut self, scope: &str, key: &str) -> StoreResult<Option<Claim>> {
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE scope = $1 AND key = $2");
        Ok(self.query(&sql, &[&scope, &key])?.first().map(claim))
    }

    fn claims_in(&mut self, scope: &str) -> StoreResult<Vec<Claim>> {
        self.claims(&format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE scope = $1 ORDER BY key"), scope)
    }

    fn claims_of(&mut self, owner: &str) -> StoreResult<Vec<Claim>> {
        self.claims(&format!("SELECT {CLAIM_COLUMNS} FROM claims WHERE owner = $1 ORDER BY scope, key"), owner)
    }

    fn all_claims(&mut self) -> StoreResult<Vec<Claim>> {
        let sql = format!("SELECT {CLAIM_COLUMNS} FROM claims ORDER BY scope, key");
        Ok(self.query(&sql, &[])?.iter().map(claim).collect())
    }

    fn all_operations(&mut self) -> StoreResult<Vec<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations ORDER BY created_at, id");
        Ok(self.query(&sql, &[])?.iter().map(operation).collect())
    }

    fn delete_operation(&mut self, id: &str) -> StoreResult<bool> {
        Ok(self.execute("DELETE FROM operations WHERE id = $1", &[&id])? > 0)
    }

    fn done_operations_before(&mut self, before: i64, limit: usize) -> StoreResult<Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = "SELECT id FROM operations WHERE done AND created_at < $1 ORDER BY created_at, id LIMIT $2";
        Ok(self.query(sql, &[&before, &limit])?.iter().map(|r| r.get(0)).collect())
    }

    fn count_done_operations(&mut self) -> StoreResult<usize> {
        let n: i64 = self.query("SELECT COUNT(*) FROM operations WHERE done", &[])?.first().map(|r| r.get(0)).unwrap_or(0);
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn expired_claims(&mut self, now: i64, limit: usize) -> StoreResult<Vec<(String, String)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = "SELECT scope, key FROM claims WHERE expires_at IS NOT NULL AND expires_at < $1 LIMIT $2";
        Ok(self.query(sql, &[&now, &limit])?.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn put_operation(&mut self, op: OperationRow) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO operations ({OPERATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
             resource_id = EXCLUDED.resource_id, created_at = EXCLUDED.created_at, done = EXCLUDED.done, due_at = EXCLUDED.due_at, body = EXCLUDED.body"
        );
        self.execute(&sql, &[&op.id, &op.resource_id, &op.created_at, &op.done, &op.due_at, &op.body]).map(|_| ())
    }

    fn get_operation(&mut self, id: &str) -> StoreResult<Option<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE id = $1");
        Ok(self.query(&sql, &[&id])?.first().map(operation))
    }

    fn operations_of(&mut self, resource_id: &str, after: Option<(i64, &str)>, limit: usize) -> StoreResult<Vec<OperationRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match after {
            Some((t, id)) => {
                let sql = format!(
                    "SELECT {OPERATION_COLUMNS} FROM operations WHERE resource_id = $1 AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
                     ORDER BY created_at DESC, id DESC LIMIT $4"
                );
                self.query(&sql, &[&resource_id, &t, &id, &limit])?
            }
            None => {
                let sql =
                    format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE resource_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2");
                self.query(&sql, &[&resource_id, &limit])?
            }
        };
        Ok(rows.iter().map(operation).collect())
    }

    fn pending_operations(&mut self) -> StoreResult<Vec<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE NOT done ORDER BY due_at IS NULL, due_at, id");
        Ok(self.query(&sql, &[])?.iter().map(operation).collect())
    }

    fn take_pending_operation(&mut self, id: &str) -> StoreResult<Option<OperationRow>> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE id = $1 AND NOT done FOR UPDATE SKIP LOCKED");
        Ok(self.query(&sql, &[&id])?.first().map(operation))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn logs_never_show_the_password() {
        assert_eq!(super::redacted("postgres://np:secret@db:5432/netplane"), "postgres://np@db:5432/netplane");
        assert_eq!(super::redacted("postgres://db/netplane"), "postgres://db/netplane");
    }
}
