//! The SQLite file's secondary indexes, which only reads in SQL use, kept as its opener needs.
//!
//! `sqlite-direct:` answers lists, name lookups and operation queries from the file and needs
//! every one. The resident store (`sqlite:`) reads the tables whole once at start-up, serves
//! everything from memory, and its folds write the tables only by key (a row's primary key, an
//! operation's id): there the indexes are only cost. In its folds (a third of a durable create's
//! CPU time) each new resource row updated three of them, each claim one or two, each operation
//! two (BENCHMARKS.md, "A file kept by its keys"). So the resident store drops them when it opens
//! a file and `sqlite-direct:` puts back whichever are missing when it opens one.
//!
//! The definitions are the ones the migrations made. A migration that touches one of these
//! indexes must say `IF EXISTS` / `IF NOT EXISTS`: it may run on a file either opener left.

use rusqlite::Connection;

/// Every secondary index, by name, and what it indexes, as the migrations created it.
pub(super) const READ_INDEXES: [(&str, &str); 8] = [
    ("resources_by_folder", "resources (kind, folder_id, id)"),
    ("resources_by_parent", "resources (kind, parent_id, id)"),
    ("resources_by_name", "resources (kind, folder_id, name, id)"),
    ("claims_by_owner", "claims (owner, scope, key)"),
    ("claims_by_expiry", "claims (expires_at) WHERE expires_at IS NOT NULL"),
    ("operations_by_resource", "operations (resource_id, created_at, id)"),
    ("operations_pending", "operations (due_at) WHERE done = 0"),
    ("operations_done_by_age", "operations (created_at, id) WHERE done = 1"),
];

/// Which of `READ_INDEXES` a file keeps while it is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indexes {
    /// All of them: reads run in SQL (`sqlite-direct:`).
    ForReads,
    /// None: the tables are read whole at start-up and written by key (the resident store).
    KeysOnly,
}

/// Creates or drops the indexes as `indexes` says, in one transaction; a file that already has
/// them as asked is left as it is.
pub(super) fn keep(conn: &Connection, indexes: Indexes) -> rusqlite::Result<()> {
    let mut sql = String::from("BEGIN IMMEDIATE;");
    for (name, on) in READ_INDEXES {
        sql.push_str(&match indexes {
            Indexes::ForReads => format!(" CREATE INDEX IF NOT EXISTS {name} ON {on};"),
            Indexes::KeysOnly => format!(" DROP INDEX IF EXISTS {name};"),
        });
    }
    sql.push_str(" COMMIT;");
    conn.execute_batch(&sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file's indexes, by name, with their SQL as SQLite keeps it (whitespace collapsed).
    fn indexes(conn: &Connection) -> Vec<(String, String)> {
        let mut st = conn.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").unwrap();
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap();
        rows.map(|r| r.unwrap()).map(|(name, sql)| (name, sql.split_whitespace().collect::<Vec<_>>().join(" "))).collect()
    }

    #[test]
    fn the_indexes_put_back_are_the_ones_the_migrations_made_and_keys_only_drops_them_all() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::sqlite::migrate_to(&mut conn, i32::MAX);
        let migrated = indexes(&conn);
        let names: Vec<&str> = migrated.iter().map(|(name, _)| name.as_str()).collect();
        let mut listed: Vec<&str> = READ_INDEXES.iter().map(|(name, _)| *name).collect();
        listed.sort();
        // Every secondary index the migrations leave is listed, and nothing else: a new index
        // must be added here (and be one only SQL reads need) or this fails.
        assert_eq!(names, listed);

        keep(&conn, Indexes::KeysOnly).unwrap();
        assert_eq!(indexes(&conn), []);
        keep(&conn, Indexes::KeysOnly).unwrap();
        keep(&conn, Indexes::ForReads).unwrap();
        assert_eq!(indexes(&conn), migrated, "put back as the migrations wrote them");
        keep(&conn, Indexes::ForReads).unwrap();
        assert_eq!(indexes(&conn), migrated);
    }
}
