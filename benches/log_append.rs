//! What the resident store's log costs per group commit, against the cheapest log there could be:
//! the same rows (about the size of a mixed call's log row) appended in groups as the log's writer
//! groups them, to a SQLite file set up as `src/store/log_file.rs` sets up its log (WAL,
//! `synchronous = NORMAL`, a 16 MiB page cache, passive checkpoints every 500 ms on a thread of
//! their own, folded rows trimmed a fold interval later) both as the log writes them now (a
//! group's transactions in one row, trimmed 16 rows at a time) and as it did before (a row per
//! transaction, trimmed 256 at a time), to a plain file in one `write` per group, and to nothing
//! (the cost of making the rows, which the others include).
//! Each prints the process's CPU time per group; run it pinned to one core, as the server runs.
//!
//! `taskset -c 0 cargo bench --bench log_append -- [--groups 20000]`

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A mixed call's log row: the changed instance and its operation (which holds the instance
/// again), MessagePack, 2.2–2.7 KB as measured on a soak's log file.
const ROW_BYTES: usize = 2250;
/// Jobs per log commit under mixed gRPC at 16 in flight (the one command's last column).
const GROUP: usize = 12;
/// Groups per fold interval at full load (50 ms at about 500 group commits a second; 125 while
/// the interval was 250 ms, until the twenty-sixth session).
const GROUPS_PER_FOLD: usize = 25;
/// How a group's transactions go into the log file.
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    /// One row per group, the transactions one after another in it (the log as it is).
    PerGroup,
    /// One row per transaction (the log before the twenty-first session).
    PerTransaction,
}

impl Rows {
    /// Rows dropped per turn of the log's writer (`TRIM_ROWS` in `src/store/resident.rs`).
    fn trimmed_per_turn(self) -> i64 {
        match self {
            Rows::PerGroup => 16,
            Rows::PerTransaction => 256,
        }
    }
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks: f64 = fields.get(11..13).map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()).unwrap_or(0.0);
    ticks / 100.0
}

/// Row `seq`'s bytes: varied, so that nothing along the way sees a run of one byte.
fn row(seq: u64) -> Vec<u8> {
    (0..ROW_BYTES).map(|i| ((seq as usize).wrapping_mul(31).wrapping_add(i * 7) % 251) as u8).collect()
}

/// Runs `groups` group commits through `commit` (given the group's first and last seq) and
/// prints the CPU and wall time per group.
fn measure(label: &str, groups: usize, mut commit: impl FnMut(u64, u64)) {
    let (cpu, started) = (cpu_seconds(), Instant::now());
    for g in 0..groups as u64 {
        commit(g * GROUP as u64 + 1, (g + 1) * GROUP as u64);
    }
    let (cpu, wall) = (cpu_seconds() - cpu, started.elapsed().as_secs_f64());
    let per_group = |s: f64| s * 1e6 / groups as f64;
    println!("| {label} | {:.0} | {:.1} | {:.0} |", per_group(cpu), per_group(cpu) / GROUP as f64, per_group(wall));
}

fn sqlite_log(dir: &std::path::Path, groups: usize, rows: Rows) {
    let path = dir.join(match rows {
        Rows::PerGroup => "group-rows.db",
        Rows::PerTransaction => "transaction-rows.db",
    });
    let setup = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY; \
                 PRAGMA journal_size_limit = 67108864;";
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute_batch(setup).expect("pragmas");
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -16384;").expect("pragmas");
    conn.execute_batch("CREATE TABLE change_log (seq INTEGER PRIMARY KEY, changes BLOB NOT NULL)").expect("schema");
    let stop = Arc::new(AtomicBool::new(false));
    let checkpointer = {
        let (stop, checkpoints) = (stop.clone(), rusqlite::Connection::open(&path).expect("open"));
        checkpoints.execute_batch(setup).expect("pragmas");
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(500));
                let frames = |r: &rusqlite::Row<'_>| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?));
                let (wal, copied) = checkpoints.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], frames).expect("checkpoint");
                if (wal > 16_384 && copied >= wal) || wal > 65_536 {
                    checkpoints.query_row("PRAGMA wal_checkpoint(RESTART)", [], frames).expect("restart");
                }
            }
        })
    };
    // Rows up to `trim_to` are folded; trimming lags one fold interval behind the appends.
    let (mut trim_to, mut trimmed_to) = (0i64, 0i64);
    let label = match rows {
        Rows::PerGroup => "SQLite, as the log file is set up: a row per group",
        Rows::PerTransaction => "SQLite, as the log file is set up: a row per transaction (before)",
    };
    let mut group_row = Vec::with_capacity(GROUP * ROW_BYTES);
    measure(label, groups, |first, last| {
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        let mut append = conn.prepare_cached("INSERT INTO change_log (seq, changes) VALUES (?1, ?2)").expect("prepare");
        match rows {
            Rows::PerGroup => {
                group_row.clear();
                for seq in first..=last {
                    group_row.extend_from_slice(&row(seq));
                }
                append.execute(rusqlite::params![last as i64, group_row]).expect("append");
            }
            Rows::PerTransaction => {
                for seq in first..=last {
                    append.execute(rusqlite::params![seq as i64, row(seq)]).expect("append");
                }
            }
        }
        if trim_to > trimmed_to {
            let sql = "DELETE FROM change_log WHERE seq IN (SELECT seq FROM change_log WHERE seq <= ?1 ORDER BY seq LIMIT ?2)";
            let mut trim = conn.prepare_cached(sql).expect("prepare");
            let per_turn = rows.trimmed_per_turn();
            if trim.execute([trim_to, per_turn]).expect("trim") < per_turn as usize {
                trimmed_to = trim_to;
            }
        }
        conn.execute_batch("COMMIT").expect("commit");
        if last % (GROUPS_PER_FOLD * GROUP) as u64 == 0 {
            trim_to = (last - (GROUPS_PER_FOLD * GROUP) as u64) as i64;
        }
    });
    stop.store(true, Ordering::Relaxed);
    checkpointer.join().expect("checkpointer");
}

fn one_write_per_group(dir: &std::path::Path, groups: usize) {
    let mut file = std::fs::File::create(dir.join("plain.log")).expect("create");
    let mut buffer = Vec::with_capacity(GROUP * (ROW_BYTES + 8));
    measure("a plain file, one write per group", groups, |first, last| {
        buffer.clear();
        for seq in first..=last {
            buffer.extend_from_slice(&seq.to_be_bytes());
            buffer.extend_from_slice(&row(seq));
        }
        file.write_all(&buffer).expect("write");
        // Started over now and then, as a log that drops what is folded would be.
        if last % (16 * GROUPS_PER_FOLD * GROUP) as u64 == 0 {
            file.set_len(0).expect("truncate");
        }
    });
}

fn rows_only(groups: usize) {
    measure("making the rows only", groups, |first, last| {
        for seq in first..=last {
            std::hint::black_box(row(seq));
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let groups = args.iter().position(|a| a == "--groups").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    println!("\n{groups} groups of {GROUP} rows of {ROW_BYTES} bytes\n");
    println!("| log | CPU µs per group | CPU µs per row | wall µs per group |");
    println!("|---|---|---|---|");
    rows_only(groups);
    one_write_per_group(dir.path(), groups);
    sqlite_log(dir.path(), groups, Rows::PerGroup);
    sqlite_log(dir.path(), groups, Rows::PerTransaction);
}
