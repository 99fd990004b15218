//! The resident store's log file: a SQLite file of its own beside the store (`<path>-changes`),
//! holding one row per group commit of write transactions (`store::change_log`) until the tables
//! have folded it.
//!
//! The log has a writer thread, a WAL and a checkpointer of its own, apart from the store file's:
//! appending a change (what every call waits for) never queues behind a fold of the tables, nor
//! behind the store file's WAL being checkpointed and started over, which held its writer for
//! about 90 ms at a time under load. The file stays small: folded rows are trimmed, so its WAL is
//! copied back in a moment and starts over by itself (nothing else reads it).
//!
//! A log file names the store it belongs to (the store file's `folded.store_id`), so that a log
//! left beside a store file that was replaced is refused, while it holds changes, instead of
//! folded into the wrong state.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};

use super::Synchronous;
use super::queue::{GroupEnd, WriteJob};
use super::sqlite::{checkpoint_in_background, open_err, write_groups};
use crate::error::{Error, Result};

/// The log file of the store file at `store_path`.
pub fn path_of(store_path: &str) -> String {
    format!("{store_path}-changes")
}

/// The log writer's page cache, in KiB: room for every row between its append and its trim.
const LOG_CACHE_KIB: u32 = 16 * 1024;

/// The log file's tables: the log, and the one row naming the store it belongs to.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS change_log (seq INTEGER PRIMARY KEY, changes BLOB NOT NULL); \
                      CREATE TABLE IF NOT EXISTS store (one INTEGER PRIMARY KEY CHECK (one = 1), store_id TEXT NOT NULL);";

/// A log file found beside the store file at open, whose changes the store file folds.
pub struct Leftover {
    path: String,
    store_path: String,
    conn: Connection,
}

/// The log file beside the store file at `store_path`, if there is one with anything in it (one
/// created and never committed to has no tables).
pub fn leftover(store_path: &str) -> Result<Option<Leftover>> {
    let path = path_of(store_path);
    if !Path::new(&path).exists() {
        return Ok(None);
    }
    let conn = connect(&path)?;
    let created: bool = conn
        .query_row("SELECT count(*) = 2 FROM sqlite_master WHERE type = 'table' AND name IN ('change_log', 'store')", [], |r| r.get(0))
        .map_err(|e| open_err(&path, e))?;
    Ok(created.then(|| Leftover { path, store_path: store_path.to_string(), conn }))
}

impl Leftover {
    /// The changes past `upto`, oldest first, as `(seq, changes)`. Fails when the log file
    /// belongs to another store than `store_id` and holds changes.
    pub fn unfolded(&self, store_id: &str, upto: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let path = &self.path;
        let owner: Option<String> =
            self.conn.query_row("SELECT store_id FROM store", [], |r| r.get(0)).optional().map_err(|e| open_err(path, e))?;
        let ours = owner.as_deref() == Some(store_id);
        let after = if ours { upto } else { 0 };
        let mut st = self.conn.prepare("SELECT seq, changes FROM change_log WHERE seq > ?1 ORDER BY seq").map_err(|e| open_err(path, e))?;
        let rows: Vec<(u64, Vec<u8>)> = st
            .query_map(params![after as i64], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .map_err(|e| open_err(path, e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| open_err(path, e))?;
        if !ours && !rows.is_empty() {
            return Err(Error::Unavailable(format!(
                "the log file {path} holds {} changes of another store than {} (was the store file replaced?); \
                 move it away to open the store as it is",
                rows.len(),
                self.store_path
            )));
        }
        Ok(if ours { rows } else { Vec::new() })
    }

    /// Drops the rows up to `upto`, once the store file holds them.
    pub fn trim(&self, upto: u64) -> Result<()> {
        self.conn.execute("DELETE FROM change_log WHERE seq <= ?1", params![upto as i64]).map_err(|e| open_err(&self.path, e))?;
        Ok(())
    }
}

fn connect(path: &str) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|e| open_err(path, e))?;
    conn.execute_batch(super::sqlite::PRAGMAS).map_err(|e| open_err(path, e))?;
    Ok(conn)
}

/// The open log file: its checkpointer's stop flag (its writer stops when the log's queue is
/// dropped).
pub struct LogFile {
    checkpointer: Arc<AtomicBool>,
}

impl Drop for LogFile {
    fn drop(&mut self) {
        self.checkpointer.store(true, Ordering::Relaxed);
    }
}

impl LogFile {
    /// Opens (or creates) the log file of the store file at `store_path`, whose id is `store_id`,
    /// for appending, and starts its writer on `jobs` (the receiving end of the log's queue),
    /// with `group_end` around each group. Its commits are as durable as `synchronous` says.
    pub fn open(
        store_path: &str,
        store_id: &str,
        synchronous: Synchronous,
        jobs: mpsc::Receiver<Box<dyn WriteJob>>,
        group_end: Arc<dyn GroupEnd>,
    ) -> Result<LogFile> {
        let path = path_of(store_path);
        let conn = appender(&path, store_id, synchronous)?;
        // Commits never checkpoint; the background thread does.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0;").map_err(|e| open_err(&path, e))?;
        // Rows are trimmed once a fold has taken them, a fold interval and the fold's own run
        // after they were appended, megabytes later at full load: in the default 2 MB page cache
        // they were gone by then, and each trim read its pages back from the WAL. (With folds
        // every 50 ms, 4 MiB made durable creates about 4% slower and RSS no lower.)
        conn.execute_batch(&format!("PRAGMA cache_size = -{};", LOG_CACHE_KIB)).map_err(|e| open_err(&path, e))?;
        let checkpointer = Arc::new(AtomicBool::new(false));
        checkpoint_in_background(&path, checkpointer.clone())?;
        let conn = Mutex::new(conn);
        std::thread::Builder::new()
            .name("sqlite-log-writer".into())
            .spawn(move || write_groups("log", &conn, &jobs, &*group_end))
            .map_err(|e| open_err(&path, e))?;
        Ok(LogFile { checkpointer })
    }
}

/// The log writer's connection to the log file at `path`: its tables created, owned by
/// `store_id`, its commits as durable as `synchronous` says.
fn appender(path: &str, store_id: &str, synchronous: Synchronous) -> Result<Connection> {
    let mut conn = connect(path)?;
    if synchronous == Synchronous::Full {
        conn.execute_batch("PRAGMA synchronous = FULL;").map_err(|e| open_err(path, e))?;
    }
    {
        let tx = conn.transaction().map_err(|e| open_err(path, e))?;
        tx.execute_batch(SCHEMA).map_err(|e| open_err(path, e))?;
        // The store file's open has folded this log (`unfolded`): an empty log left by another
        // store is taken over, one holding changes has already been refused.
        tx.execute(
            "INSERT INTO store (one, store_id) VALUES (1, ?1) ON CONFLICT (one) DO UPDATE SET store_id = excluded.store_id",
            [store_id],
        )
        .map_err(|e| open_err(path, e))?;
        tx.commit().map_err(|e| open_err(path, e))?;
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_writer_commits_as_synchronous_asks() {
        let dir = tempfile::tempdir().unwrap();
        for (asked, expected) in [(Synchronous::Normal, 1), (Synchronous::Full, 2)] {
            let store = dir.path().join(format!("{asked:?}.db")).display().to_string();
            let conn = appender(&path_of(&store), "id", asked).unwrap();
            let level: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
            assert_eq!(level, expected, "{asked:?}");
        }
    }
}
