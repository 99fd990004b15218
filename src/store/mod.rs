//! Durable state behind one small transactional interface, with one implementation per backend.
//!
//! Everything is a row: resources (with the few columns lists filter and order on, and the domain
//! value as a body: `codec::Body`, encoded by the backends that persist it), claims (a unique `(scope, key)` taken by an owner: an IP in a subnet, an
//! interface index in an instance, a name in a folder) and operations. Uniqueness that matters rests
//! on the claims table's primary key, so it holds in the database, not only in memory.
//!
//! Transactions are synchronous closures run off the async runtime (on a blocking thread, or on
//! the backend's own writer thread) unless the backend says they cannot wait (the memory store,
//! and SQLite's point lookups): domain rules are synchronous anyway, and a closure may be re-run by
//! a backend that retries serialization failures.

pub mod change_log;
pub mod codec;
#[cfg(test)]
mod layouts;
mod list_sql;
pub mod log_file;
pub mod memory;
pub mod postgres;
pub mod queue;
pub mod resident;
mod resource;
pub mod sql_indexes;
pub mod sqlite;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use codec::{Body, Stored};
pub use resource::{Resource, TxExt};

use crate::domain::filter::{Column, Condition, Order};
use crate::error::{Error, Result};

/// The `--store` prefix of SQLite served straight from the file, as before the resident store
/// (`sqlite:`): for comparison and as a fallback.
pub const SQLITE_DIRECT: &str = "sqlite-direct:";

/// SQLite's `synchronous` for the writer's commits (`--sqlite-synchronous`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    /// A commit survives the process being killed; a power loss may take the last ones.
    #[default]
    Normal,
    /// Every commit is synced: it survives a power loss too.
    Full,
}

/// The kinds of resource rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Instance,
    Network,
    Subnet,
    Address,
    SecurityGroup,
    Disk,
    Image,
    RouteTable,
    Gateway,
    HuaweiVpc,
    HuaweiSubnet,
    NatGateway,
    TransitSubnet,
    TransitIp,
    DnatRule,
    SnatRule,
    Port,
}

impl Kind {
    /// The kinds Yandex Cloud operations can be about.
    pub const YANDEX: [Kind; 7] =
        [Kind::Instance, Kind::Network, Kind::Subnet, Kind::Address, Kind::SecurityGroup, Kind::Disk, Kind::Image];

    /// The stored kind of a Yandex resource kind that lives in a folder.
    pub fn of_yandex(kind: crate::error::ResourceKind) -> Option<Kind> {
        use crate::error::ResourceKind as R;
        match kind {
            R::Instance => Some(Kind::Instance),
            R::Network => Some(Kind::Network),
            R::Subnet => Some(Kind::Subnet),
            R::Address => Some(Kind::Address),
            R::SecurityGroup => Some(Kind::SecurityGroup),
            R::Disk => Some(Kind::Disk),
            R::Image => Some(Kind::Image),
            R::RouteTable => Some(Kind::RouteTable),
            R::EgressGateway => Some(Kind::Gateway),
            R::Operation
            | R::Snapshot
            | R::Zone
            | R::DiskType
            | R::ApiEndpoint
            | R::Vpc
            | R::NatGateway
            | R::TransitSubnet
            | R::TransitIp
            | R::DnatRule
            | R::SnatRule
            | R::Port
            | R::FaultRule => None,
        }
    }

    pub const ALL: [Kind; 17] = [
        Kind::Instance,
        Kind::Network,
        Kind::Subnet,
        Kind::Address,
        Kind::SecurityGroup,
        Kind::Disk,
        Kind::Image,
        Kind::RouteTable,
        Kind::Gateway,
        Kind::HuaweiVpc,
        Kind::HuaweiSubnet,
        Kind::NatGateway,
        Kind::TransitSubnet,
        Kind::TransitIp,
        Kind::DnatRule,
        Kind::SnatRule,
        Kind::Port,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Instance => "instance",
            Kind::Network => "network",
            Kind::Subnet => "subnet",
            Kind::Address => "address",
            Kind::SecurityGroup => "security_group",
            Kind::Disk => "disk",
            Kind::Image => "image",
            Kind::RouteTable => "route_table",
            Kind::Gateway => "gateway",
            Kind::HuaweiVpc => "huawei_vpc",
            Kind::HuaweiSubnet => "huawei_subnet",
            Kind::NatGateway => "nat_gateway",
            Kind::TransitSubnet => "transit_subnet",
            Kind::TransitIp => "transit_ip",
            Kind::DnatRule => "dnat_rule",
            Kind::SnatRule => "snat_rule",
            Kind::Port => "port",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether the kind is a Huawei Cloud resource (its rows' `folder_id` is a project id).
    pub fn is_huawei(self) -> bool {
        matches!(
            self,
            Kind::HuaweiVpc
                | Kind::HuaweiSubnet
                | Kind::NatGateway
                | Kind::TransitSubnet
                | Kind::TransitIp
                | Kind::DnatRule
                | Kind::SnatRule
                | Kind::Port
        )
    }
}

/// One resource row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    pub id: String,
    pub folder_id: String,
    /// The containing resource, for lists by parent (a subnet's network).
    pub parent_id: String,
    pub name: String,
    pub created_at: i64,
    pub status: String,
    pub zone_id: String,
    pub platform_id: String,
    pub body: Body,
}

impl Record {
    /// The value of `column`, as lists compare and order it.
    pub fn sort_value(&self, column: Column) -> SortValue {
        self.sort_key(column).to_value()
    }

    /// The value of `column` borrowed from the row: what the memory store sorts by, without a
    /// copy per row.
    pub fn sort_key(&self, column: Column) -> SortKey<'_> {
        match column {
            Column::Id => SortKey::Text(&self.id),
            Column::Name => SortKey::Text(&self.name),
            Column::CreatedAt => SortKey::Int(self.created_at),
            Column::Status => SortKey::Text(&self.status),
            Column::ZoneId => SortKey::Text(&self.zone_id),
            Column::PlatformId => SortKey::Text(&self.platform_id),
        }
    }

    pub fn matches(&self, condition: &Condition) -> bool {
        match self.sort_key(condition.column) {
            SortKey::Text(v) => condition.matches(v),
            SortKey::Int(v) => condition.matches(&v.to_string()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// A `SortValue` borrowed; ordered as `SortValue` is (its variants in the same order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey<'a> {
    Int(i64),
    Text(&'a str),
}

impl SortKey<'_> {
    pub fn to_value(self) -> SortValue {
        match self {
            SortKey::Int(n) => SortValue::Int(n),
            SortKey::Text(s) => SortValue::Text(s.to_string()),
        }
    }
}

impl SortValue {
    pub fn key(&self) -> SortKey<'_> {
        match self {
            SortValue::Int(n) => SortKey::Int(*n),
            SortValue::Text(s) => SortKey::Text(s),
        }
    }
}

/// Where the previous page ended: keyset pagination stays stable while rows come and go.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub value: SortValue,
    pub id: String,
}

#[derive(Clone, Debug)]
pub struct Query {
    pub kind: Kind,
    pub folder_id: Option<String>,
    pub parent_id: Option<String>,
    pub conditions: Vec<Condition>,
    pub order: Order,
    pub after: Option<Cursor>,
    pub limit: usize,
}

impl Query {
    pub fn new(kind: Kind) -> Self {
        Query { kind, folder_id: None, parent_id: None, conditions: vec![], order: Order::default(), after: None, limit: usize::MAX }
    }
}

/// A unique `(scope, key)` held by `owner`, with what the claim records beyond its holder: a
/// `detail` (an idempotency key's request fingerprint, a low-water mark's address) and when it
/// `expires_at` (microseconds; idempotency keys, IAM tokens). Those are columns of their own, so
/// an owner is always just an owner.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Claim {
    pub scope: String,
    pub key: String,
    pub owner: String,
    pub detail: String,
    pub expires_at: Option<i64>,
}

impl Claim {
    pub fn new(scope: impl Into<String>, key: impl Into<String>, owner: impl Into<String>) -> Self {
        Claim { scope: scope.into(), key: key.into(), owner: owner.into(), detail: String::new(), expires_at: None }
    }

    pub fn with_detail(self, detail: impl Into<String>) -> Self {
        Claim { detail: detail.into(), ..self }
    }

    pub fn expiring_at(self, at: i64) -> Self {
        Claim { expires_at: Some(at), ..self }
    }
}

/// One operation row; `body` holds the ops module's `Operation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationRow {
    pub id: String,
    pub resource_id: String,
    pub created_at: i64,
    pub done: bool,
    /// When the runner should complete it (pending operations only).
    pub due_at: Option<i64>,
    pub body: Body,
}

/// A failure of the storage itself; never a domain outcome.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("row {0} already exists")]
    Duplicate(String),
    #[error("{0}")]
    Backend(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            // Two writers creating one row is a bug of ours, not a passing failure.
            StoreError::Duplicate(_) => Error::Internal(format!("storage: {e}")),
            StoreError::Backend(_) => Error::Storage(e.to_string()),
        }
    }
}

pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// What one transaction can do. Implementations see every call of one closure in one transaction.
pub trait Tx {
    fn get(&mut self, kind: Kind, id: &str) -> StoreResult<Option<Record>>;
    /// The body of a row alone (what a typed load needs).
    fn body(&mut self, kind: Kind, id: &str) -> StoreResult<Option<Body>> {
        Ok(self.get(kind, id)?.map(|r| r.body))
    }
    /// Fails with `Duplicate` if the row exists.
    fn insert(&mut self, record: Record) -> StoreResult<()>;
    /// Replaces an existing row.
    fn update(&mut self, record: Record) -> StoreResult<()>;
    /// Inserts the row, or replaces it when it exists: folding a log, which does not say which.
    fn put(&mut self, record: Record) -> StoreResult<()> {
        self.update(record)
    }
    fn delete(&mut self, kind: Kind, id: &str) -> StoreResult<bool>;
    /// Changes in place the value of a row this transaction already wrote, when the backend
    /// holds it as a value nothing else shares (the memory backend, after a `save_owned`, or a
    /// `save_shared` whose answer was dropped): `change` changes the value and answers the row's
    /// new columns (their body is ignored), or `None` to leave it as it is. `false` when there is
    /// no such value; nothing changed then, and the caller loads and saves instead
    /// (`TxExt::change`).
    fn change_written(&mut self, _kind: Kind, _id: &str, _change: &mut dyn FnMut(&mut dyn Stored) -> Option<Record>) -> StoreResult<bool> {
        Ok(false)
    }
    fn list(&mut self, query: &Query) -> StoreResult<Vec<Record>>;
    /// The rows `list` answers, in its order, each lent to `each` until it says stop (`false`): a
    /// backend that holds its rows (the memory store) lends them without copying any.
    fn list_each(&mut self, query: &Query, each: &mut dyn FnMut(&Record) -> bool) -> StoreResult<()> {
        for row in self.list(query)? {
            if !each(&row) {
                break;
            }
        }
        Ok(())
    }

    /// Takes `(scope, key)` for `owner`. `Ok(Err(holder))` when another owner holds it; taking it
    /// again for the same owner succeeds.
    fn claim(&mut self, claim: &Claim) -> StoreResult<Result<(), String>>;
    fn release(&mut self, scope: &str, key: &str) -> StoreResult<()>;
    /// Sets `(scope, key)` to `claim` whoever held it: folding a log, which says what a claim is
    /// now, not whether it was new.
    fn put_claim(&mut self, claim: &Claim) -> StoreResult<()> {
        self.release(&claim.scope, &claim.key)?;
        match self.claim(claim)? {
            Ok(()) => Ok(()),
            Err(holder) => Err(StoreError::Backend(format!("({}, {}) is still held by {holder}", claim.scope, claim.key))),
        }
    }
    /// Who holds `(scope, key)`, if anyone.
    fn holder(&mut self, scope: &str, key: &str) -> StoreResult<Option<String>>;
    /// Whether anyone holds `(scope, key)` (`holder`, without a copy of the holder's name: the
    /// search for a free address asks it of every address it passes).
    fn is_held(&mut self, scope: &str, key: &str) -> StoreResult<bool> {
        Ok(self.holder(scope, key)?.is_some())
    }
    /// The claim on `(scope, key)`, whole, if anyone holds it.
    fn claim_at(&mut self, scope: &str, key: &str) -> StoreResult<Option<Claim>>;
    /// Claims in a scope, ordered by key.
    fn claims_in(&mut self, scope: &str) -> StoreResult<Vec<Claim>>;
    /// Claims held by an owner, ordered by scope and key.
    fn claims_of(&mut self, owner: &str) -> StoreResult<Vec<Claim>>;

    /// Every claim, ordered by scope and key (state export and reset).
    fn all_claims(&mut self) -> StoreResult<Vec<Claim>>;

    /// Inserts or replaces.
    fn put_operation(&mut self, op: OperationRow) -> StoreResult<()>;
    /// Every operation, oldest first (state export and reset).
    fn all_operations(&mut self) -> StoreResult<Vec<OperationRow>>;
    /// Ids of done operations created before `before`, oldest first, at most `limit` (pruning).
    fn done_operations_before(&mut self, before: i64, limit: usize) -> StoreResult<Vec<String>>;
    /// How many operations are done (the memory store's cap).
    fn count_done_operations(&mut self) -> StoreResult<usize>;
    /// Claims whose `expires_at` is before `now`, at most `limit`, as `(scope, key)` (pruning).
    fn expired_claims(&mut self, now: i64, limit: usize) -> StoreResult<Vec<(String, String)>>;
    fn delete_operation(&mut self, id: &str) -> StoreResult<bool>;
    fn get_operation(&mut self, id: &str) -> StoreResult<Option<OperationRow>>;
    /// A resource's operations, newest first, after `(created_at, id)` of the previous page.
    fn operations_of(&mut self, resource_id: &str, after: Option<(i64, &str)>, limit: usize) -> StoreResult<Vec<OperationRow>>;
    /// Every operation not done yet, earliest due first.
    fn pending_operations(&mut self) -> StoreResult<Vec<OperationRow>>;
    /// The pending operation `id`, held by this transaction until it ends, so that one runner
    /// alone applies it; `None` when it is done or unknown, or when another transaction holds it
    /// (which then finishes it). Backends whose write transactions exclude each other (memory,
    /// SQLite) hold it by being in a write transaction at all.
    fn take_pending_operation(&mut self, id: &str) -> StoreResult<Option<OperationRow>> {
        Ok(self.get_operation(id)?.filter(|op| !op.done))
    }
    /// Appends one transaction's logged changes (`change_log`), numbered `seq`: only the SQLite
    /// file under the resident store keeps a change log.
    fn append_changes(&mut self, seq: u64, changes: &[u8]) -> StoreResult<()> {
        let _ = (seq, changes);
        Err(StoreError::Backend("this store keeps no change log".into()))
    }
    /// Drops the oldest logged changes up to `upto`, at most `limit` of them, once they are folded
    /// into the tables; how many it dropped.
    fn trim_changes(&mut self, upto: u64, limit: usize) -> StoreResult<usize> {
        let _ = (upto, limit);
        Err(StoreError::Backend("this store keeps no change log".into()))
    }
    /// Records that the tables hold every logged change up to `upto` (`store::log_file`).
    fn record_folded(&mut self, upto: u64) -> StoreResult<()> {
        let _ = upto;
        Err(StoreError::Backend("this store keeps no change log".into()))
    }
}

/// A closure run inside one transaction.
pub type TxFn<'a> = dyn FnMut(&mut dyn Tx) -> Result<()> + 'a;

/// A storage backend. `write` commits when the closure returns `Ok` and rolls back otherwise.
pub trait Backend: Send + Sync + 'static {
    fn read(&self, f: &mut TxFn<'_>) -> Result<()>;
    fn write(&self, f: &mut TxFn<'_>) -> Result<()>;
    /// A short description for logs ("sqlite:/path", "memory").
    fn describe(&self) -> String;
    /// Whether other processes write this store too (replicas on one PostgreSQL), so that what
    /// this process caches of it must be read again now and then.
    fn shared(&self) -> bool {
        false
    }
    /// Whether a transaction may wait on I/O, and so must run on the blocking pool. A backend
    /// whose transactions only take an in-process lock briefly says no and runs on the caller.
    fn blocks(&self) -> bool {
        true
    }
    /// Runs a lookup of a few rows by key on the calling thread if it can do so without waiting,
    /// and says `None` if it cannot (the caller then reads on the blocking pool). SQLite answers
    /// one from its page cache in microseconds, less than the hand-off to a blocking thread and
    /// back costs, when a reader connection is free; a list, which may walk a whole table, always
    /// goes to the blocking pool.
    fn try_lookup(&self, f: &mut TxFn<'_>) -> Option<Result<()>> {
        (!self.blocks()).then(|| self.read(f))
    }
    /// Calls `wake` whenever another process may have added or rescheduled pending operations,
    /// until `wake` returns false. Only a backend shared by several processes (PostgreSQL) has
    /// anything to report: within one process the runner is woken directly.
    fn watch_operations(&self, wake: Box<dyn Fn() -> bool + Send>) {
        drop(wake);
    }
    /// The queue of the backend's own writer thread, if it has one: asynchronous writes go there
    /// instead of each taking a thread of the blocking pool.
    fn write_queue(&self) -> Option<&queue::WriteQueue> {
        None
    }
    /// For a backend that applies changes in memory ahead of their commit (`resident`): how far
    /// it has applied and committed them. `Store` answers no transaction before every change
    /// applied by the time it ended is committed.
    fn progress(&self) -> Option<&resident::Progress> {
        None
    }
    /// Whether the state lives in this process's memory (so done operations are also capped by
    /// count, `--operation-cap`).
    fn keeps_state_in_memory(&self) -> bool {
        false
    }
}

/// The handle services use: the async runtime never waits on storage I/O. Writes go to the
/// backend's writer thread where it has one (SQLite), other transactions to the blocking pool; the
/// memory backend, which does no I/O, runs them in place, and so does SQLite a point lookup
/// (`lookup`), which its page cache answers.
#[derive(Clone)]
pub struct Store(Arc<dyn Backend>);

impl Store {
    pub fn new(backend: impl Backend) -> Self {
        Store(Arc::new(backend))
    }

    /// Opens a store from its `--store` text: `memory`, `sqlite:<path>` or `postgres://…`.
    pub fn open(spec: &str) -> Result<Store> {
        Store::open_with(spec, Synchronous::Normal)
    }

    /// `open`, with SQLite's commits as `synchronous` says.
    pub fn open_with(spec: &str, synchronous: Synchronous) -> Result<Store> {
        if spec == "memory" {
            return Ok(Store::new(memory::MemoryBackend::default()));
        }
        if let Some(path) = spec.strip_prefix("sqlite:") {
            return Ok(Store::new(resident::ResidentBackend::open(path, synchronous)?));
        }
        if let Some(path) = spec.strip_prefix(SQLITE_DIRECT) {
            return Ok(Store::new(sqlite::SqliteBackend::open(path, synchronous)?));
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            return Ok(Store::new(postgres::PostgresBackend::open(spec)?));
        }
        Err(Error::Unavailable(format!("unknown store \"{spec}\"; use memory, sqlite:<path>, {SQLITE_DIRECT}<path> or postgres://…")))
    }

    /// See `Backend::keeps_state_in_memory`.
    pub fn keeps_state_in_memory(&self) -> bool {
        self.0.keeps_state_in_memory()
    }

    /// Waits until whatever the transaction that just ran may have seen is committed.
    async fn durable(&self) -> Result<()> {
        match self.0.progress() {
            Some(progress) => progress.wait(progress.applied()).await,
            None => Ok(()),
        }
    }

    fn durable_now(&self) -> Result<()> {
        match self.0.progress() {
            Some(progress) => progress.wait_blocking(progress.applied()),
            None => Ok(()),
        }
    }

    /// See `Backend::shared`.
    pub fn shared(&self) -> bool {
        self.0.shared()
    }

    pub fn describe(&self) -> String {
        self.0.describe()
    }

    /// See `Backend::watch_operations`.
    pub fn watch_operations(&self, wake: Box<dyn Fn() -> bool + Send>) {
        self.0.watch_operations(wake)
    }

    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let backend = self.0.clone();
        if !backend.blocks() {
            let out = run(&*backend, true, f);
            self.durable().await?;
            return out;
        }
        if let Some(queue) = backend.write_queue() {
            return queue.write(f).await;
        }
        run_blocking(move || run(&*backend, true, f)).await
    }

    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let backend = self.0.clone();
        if !backend.blocks() {
            let out = run(&*backend, false, f);
            self.durable().await?;
            return out;
        }
        run_blocking(move || run(&*backend, false, f)).await
    }

    /// A read of a few rows by key (a Get): on the calling thread where the backend can run it
    /// without waiting (`Backend::try_lookup`), else as `read`.
    pub async fn lookup<T, F>(&self, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let mut out = None;
        let ran = self.0.try_lookup(&mut |tx| {
            out = Some(f(tx)?);
            Ok(())
        });
        match ran {
            Some(outcome) => {
                self.durable().await?;
                outcome.and_then(|()| out.ok_or_else(|| Error::Internal("storage: lookup produced no result".into())))
            }
            None => self.read(f).await,
        }
    }

    /// The same as `write`, on the calling thread (for start-up and tests).
    pub fn write_now<T>(&self, f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let out = run(&*self.0, true, f);
        self.durable_now()?;
        out
    }

    pub fn read_now<T>(&self, f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let out = run(&*self.0, false, f);
        self.durable_now()?;
        out
    }
}

async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Internal(format!("storage task failed: {e}")))?
}

fn run<T>(backend: &dyn Backend, write: bool, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let started = std::time::Instant::now();
    let result = run_once(backend, write, &mut f);
    crate::metrics::metrics().transaction(write, started.elapsed());
    result
}

fn run_once<T>(backend: &dyn Backend, write: bool, f: &mut impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let mut out = None;
    let mut body = |tx: &mut dyn Tx| {
        out = Some(f(tx)?);
        Ok(())
    };
    if write {
        backend.write(&mut body)?
    } else {
        backend.read(&mut body)?
    }
    out.ok_or_else(|| Error::Internal("storage: transaction produced no result".into()))
}
