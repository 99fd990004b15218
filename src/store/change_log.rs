//! The resident store's log: what the write transactions of one group commit changed, as one
//! appended row of the log file's `change_log` table, and folding logged changes into the tables.
//!
//! A write is durable once its group's row is committed: one appended statement of about a kilobyte
//! per transaction, where writing the rows themselves took several statements, each dirtying a page
//! of a table or an index somewhere in the file. A row written by a release that logged one row per
//! transaction reads the same way: it is a group of one. The tables catch up in the background
//! (`Unfolded`: the changes of many transactions merged, so that a row changed a hundred times is
//! written once) and at every open, before anything reads them.

use foldhash::{HashMap, HashMapExt};
use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::memory::Changes;
use super::{Body, Claim, Kind, OperationRow, Record, StoreError, StoreResult, Tx};
use crate::error::Result;

/// A row as logged: every column, the body as its bytes. Encoding borrows every field from the
/// changes; decoding copies them out of the log row (which is decoded once, when a store opens).
#[derive(Serialize, Deserialize)]
struct LoggedRecord<'a> {
    kind: Cow<'a, str>,
    id: Cow<'a, str>,
    folder_id: Cow<'a, str>,
    parent_id: Cow<'a, str>,
    name: Cow<'a, str>,
    created_at: i64,
    status: Cow<'a, str>,
    zone_id: Cow<'a, str>,
    platform_id: Cow<'a, str>,
    #[serde(borrow, with = "serde_bytes")]
    body: Cow<'a, [u8]>,
}

#[derive(Serialize, Deserialize)]
struct LoggedClaim<'a> {
    owner: Cow<'a, str>,
    detail: Cow<'a, str>,
    expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct LoggedOperation<'a> {
    resource_id: Cow<'a, str>,
    created_at: i64,
    done: bool,
    due_at: Option<i64>,
    #[serde(borrow, with = "serde_bytes")]
    body: Cow<'a, [u8]>,
}

/// One transaction's changes as logged: each touched row as it now is, `None` when deleted.
#[derive(Serialize, Deserialize, Default)]
struct Logged<'a> {
    #[serde(borrow)]
    resources: Vec<(Cow<'a, str>, Cow<'a, str>, Option<LoggedRecord<'a>>)>,
    claims: Vec<(Cow<'a, str>, Cow<'a, str>, Option<LoggedClaim<'a>>)>,
    #[serde(borrow)]
    operations: Vec<(Cow<'a, str>, Option<LoggedOperation<'a>>)>,
}

/// Encodes a body still held as a value, in place.
fn encode_in_place(body: &mut Body) -> StoreResult<()> {
    if let Body::Value(_) = body {
        *body = Body::Encoded(encoded(body)?.into_owned());
    }
    Ok(())
}

/// The bytes of a body (borrowed once `encode_in_place` has run).
fn encoded(body: &Body) -> StoreResult<Cow<'_, [u8]>> {
    body.bytes().map_err(|e| StoreError::Backend(e.to_string()))
}

/// Encodes every body of `changes` still held as a value, in place: the log row and then the fold
/// into the tables write the same bytes, encoded once.
pub fn encode_bodies(changes: &mut Changes) -> StoreResult<()> {
    for (_, _, now) in &mut changes.resources {
        if let Some(record) = now {
            encode_in_place(&mut record.body)?;
        }
    }
    for (_, now) in &mut changes.operations {
        if let Some(op) = now {
            encode_in_place(&mut op.body)?;
        }
    }
    Ok(())
}

/// The bytes of a one-transaction log row, as tests write log rows by hand. Every body is left
/// encoded.
#[cfg(test)]
pub fn encode(changes: &mut Changes) -> StoreResult<Vec<u8>> {
    encode_bodies(changes)?;
    encode_row([&*changes])
}

/// The bytes of one log row holding the changes of several transactions, oldest first (bodies
/// encoded by `encode_bodies`). The row is the same as one transaction's: each list holds every
/// transaction's rows in order, so a row changed twice is there twice and the newer comes later,
/// which is what both applying it and merging it keep.
pub fn encode_row<'a>(transactions: impl IntoIterator<Item = &'a Changes>) -> StoreResult<Vec<u8>> {
    let mut logged = Logged::default();
    for changes in transactions {
        for (kind, id, now) in &changes.resources {
            let row = match now {
                Some(r) => Some(LoggedRecord {
                    kind: r.kind.as_str().into(),
                    id: r.id.as_str().into(),
                    folder_id: r.folder_id.as_str().into(),
                    parent_id: r.parent_id.as_str().into(),
                    name: r.name.as_str().into(),
                    created_at: r.created_at,
                    status: r.status.as_str().into(),
                    zone_id: r.zone_id.as_str().into(),
                    platform_id: r.platform_id.as_str().into(),
                    body: encoded(&r.body)?,
                }),
                None => None,
            };
            logged.resources.push((kind.as_str().into(), id.as_str().into(), row));
        }
        for (scope, key, now) in &changes.claims {
            let held = now.as_ref().map(|c| LoggedClaim {
                owner: c.owner.as_str().into(),
                detail: c.detail.as_str().into(),
                expires_at: c.expires_at,
            });
            logged.claims.push((scope.as_str().into(), key.as_str().into(), held));
        }
        for (id, now) in &changes.operations {
            let row = match now {
                Some(op) => Some(LoggedOperation {
                    resource_id: op.resource_id.as_str().into(),
                    created_at: op.created_at,
                    done: op.done,
                    due_at: op.due_at,
                    body: encoded(&op.body)?,
                }),
                None => None,
            };
            logged.operations.push((id.as_str().into(), row));
        }
    }
    // Room for the whole row at once: grown from nothing, a group's row of several kilobytes was
    // reallocated and copied a dozen times.
    let bodies: usize = logged.resources.iter().filter_map(|(_, _, r)| r.as_ref().map(|r| r.body.len())).sum::<usize>()
        + logged.operations.iter().filter_map(|(_, o)| o.as_ref().map(|o| o.body.len())).sum::<usize>();
    let rows = logged.resources.len() + logged.claims.len() + logged.operations.len();
    let mut row = Vec::with_capacity(bodies + rows * ROW_OVERHEAD);
    // Positional, as the bodies are (`codec`): the rules and the guard on their layouts apply here too.
    rmp_serde::encode::write(&mut row, &logged).map_err(|e| StoreError::Backend(format!("encoding a change log row: {e}")))?;
    Ok(row)
}

/// About what a logged row takes besides its body: its ids, names and columns.
const ROW_OVERHEAD: usize = 128;

/// A log row's changes.
pub fn decode(bytes: &[u8]) -> StoreResult<Changes> {
    let logged: Logged = rmp_serde::from_slice(bytes).map_err(|e| StoreError::Backend(format!("a change log row does not decode: {e}")))?;
    let kind = |text: &str| Kind::parse(text).ok_or_else(|| StoreError::Backend(format!("a change log row names kind {text:?}")));
    let mut changes = Changes::default();
    for (k, id, row) in logged.resources {
        let now = match row {
            Some(r) => Some(Record {
                kind: kind(&r.kind)?,
                id: r.id.into_owned(),
                folder_id: r.folder_id.into_owned(),
                parent_id: r.parent_id.into_owned(),
                name: r.name.into_owned(),
                created_at: r.created_at,
                status: r.status.into_owned(),
                zone_id: r.zone_id.into_owned(),
                platform_id: r.platform_id.into_owned(),
                body: Body::Encoded(r.body.into_owned()),
            }),
            None => None,
        };
        changes.resources.push((kind(&k)?, id.into_owned(), now));
    }
    for (scope, key, held) in logged.claims {
        let (scope, key) = (scope.into_owned(), key.into_owned());
        let now = held.map(|h| Claim {
            scope: scope.clone(),
            key: key.clone(),
            owner: h.owner.into_owned(),
            detail: h.detail.into_owned(),
            expires_at: h.expires_at,
        });
        changes.claims.push((scope, key, now));
    }
    for (id, row) in logged.operations {
        let id = id.into_owned();
        let now = row.map(|o| OperationRow {
            id: id.clone(),
            resource_id: o.resource_id.into_owned(),
            created_at: o.created_at,
            done: o.done,
            due_at: o.due_at,
            body: Body::Encoded(o.body.into_owned()),
        });
        changes.operations.push((id, now));
    }
    Ok(changes)
}

/// Writes each row as the changes say it now is, whatever the tables held before.
pub fn apply(changes: Changes, tx: &mut dyn Tx) -> Result<()> {
    apply_pausing(changes, tx, &mut || {})
}

/// Rows `apply_pausing` writes between two pauses.
const ROWS_BETWEEN_PAUSES: usize = 64;

/// `apply`, calling `pause` every `ROWS_BETWEEN_PAUSES` rows: a fold in the background gives up
/// the CPU there, so that on a busy core it runs in short turns between the calls instead of for
/// a whole time slice of the scheduler (milliseconds) while calls wait.
pub fn apply_pausing(changes: Changes, tx: &mut dyn Tx, pause: &mut dyn FnMut()) -> Result<()> {
    let mut written = 0;
    let mut wrote_one = || {
        written += 1;
        if written % ROWS_BETWEEN_PAUSES == 0 {
            pause();
        }
    };
    for (kind, id, now) in changes.resources {
        match now {
            Some(record) => tx.put(record)?,
            None => {
                tx.delete(kind, &id)?;
            }
        }
        wrote_one();
    }
    for (scope, key, now) in &changes.claims {
        match now {
            Some(claim) => tx.put_claim(claim)?,
            None => tx.release(scope, key)?,
        }
        wrote_one();
    }
    for (id, now) in changes.operations {
        match now {
            Some(op) => tx.put_operation(op)?,
            None => {
                tx.delete_operation(&id)?;
            }
        }
        wrote_one();
    }
    Ok(())
}

/// Committed changes not yet folded into the tables, merged: each row as the newest of them
/// left it. Merging runs on the log's writer, which every call waits for, so the maps are cheap to
/// fill: they hash with foldhash instead of SipHash (the keys are ids the server made and names
/// callers chose; foldhash seeds each map at random and a map lives one fold interval, so keys
/// cannot be aimed at one bucket of it), and each starts with room for as many rows as the last
/// interval's held (grown from nothing, it rehashed, moving every row again, about a dozen times).
#[derive(Default, Debug)]
pub struct Unfolded {
    /// The newest change merged in.
    pub upto: u64,
    resources: HashMap<(Kind, String), Option<Record>>,
    claims: HashMap<(String, String), Option<Claim>>,
    operations: HashMap<String, Option<OperationRow>>,
}

impl Unfolded {
    /// An empty one with room for as many rows as `previous` holds.
    pub fn sized_like(previous: &Unfolded) -> Unfolded {
        Unfolded {
            upto: 0,
            resources: HashMap::with_capacity(previous.resources.len()),
            claims: HashMap::with_capacity(previous.claims.len()),
            operations: HashMap::with_capacity(previous.operations.len()),
        }
    }

    pub fn merge(&mut self, seq: u64, changes: Changes) {
        self.upto = self.upto.max(seq);
        for (kind, id, now) in changes.resources {
            self.resources.insert((kind, id), now);
        }
        for (scope, key, now) in changes.claims {
            self.claims.insert((scope, key), now);
        }
        for (id, now) in changes.operations {
            self.operations.insert(id, now);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.claims.is_empty() && self.operations.is_empty()
    }

    /// The merged changes, ready to fold.
    pub fn into_changes(self) -> Changes {
        Changes {
            resources: self.resources.into_iter().map(|((kind, id), now)| (kind, id, now)).collect(),
            claims: self.claims.into_iter().map(|((scope, key), now)| (scope, key, now)).collect(),
            operations: self.operations.into_iter().collect(),
        }
    }
}

/// The layout of a log row, for the guard on stored layouts (`store::layouts`): log rows are
/// positional too, and a store opens by reading the rows it has not yet folded.
#[cfg(test)]
pub(super) fn layout() -> serde_reflection::Registry {
    let mut tracer = serde_reflection::Tracer::new(serde_reflection::TracerConfig::default());
    let samples = serde_reflection::Samples::new();
    tracer.trace_type::<Logged>(&samples).expect("tracing a log row");
    tracer.registry().expect("the layout of a log row")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_through_a_log_row_and_merge_to_the_newest() {
        let record = |name: &str| Record {
            kind: Kind::Network,
            id: "n1".into(),
            folder_id: "f".into(),
            parent_id: String::new(),
            name: name.into(),
            created_at: 7,
            status: String::new(),
            zone_id: String::new(),
            platform_id: String::new(),
            body: Body::Encoded(vec![1, 200, 3]),
        };
        let op = OperationRow {
            id: "o1".into(),
            resource_id: "n1".into(),
            created_at: 7,
            done: false,
            due_at: Some(9),
            body: Body::Encoded(vec![4]),
        };
        let mut first = Changes {
            resources: vec![(Kind::Network, "n1".into(), Some(record("a"))), (Kind::Subnet, "gone".into(), None)],
            claims: vec![("names".into(), "a".into(), Some(Claim::new("names", "a", "n1").with_detail("d").expiring_at(5)))],
            operations: vec![("o1".into(), Some(op.clone())), ("o0".into(), None)],
        };
        let decoded = decode(&encode(&mut first).unwrap()).unwrap();
        assert_eq!(decoded.resources[0].2.as_ref().unwrap().name, "a");
        assert!(matches!(&decoded.resources[0].2.as_ref().unwrap().body, Body::Encoded(b) if b == &[1, 200, 3]));
        assert_eq!(decoded.resources[1], (Kind::Subnet, "gone".to_string(), None));
        assert_eq!(decoded.claims, first.claims);
        assert_eq!(decoded.operations, first.operations);

        let mut unfolded = Unfolded::default();
        unfolded.merge(1, decoded);
        let second = Changes {
            resources: vec![(Kind::Network, "n1".into(), Some(record("b")))],
            claims: vec![("names".into(), "a".into(), None)],
            operations: vec![],
        };
        unfolded.merge(2, second);
        assert_eq!(unfolded.upto, 2);
        let merged = unfolded.into_changes();
        let n1 = merged.resources.iter().find(|(_, id, _)| id == "n1").unwrap();
        assert_eq!(n1.2.as_ref().unwrap().name, "b", "the newest version wins");
        assert_eq!(merged.claims, vec![("names".to_string(), "a".to_string(), None)]);
        assert_eq!(merged.operations.len(), 2);
    }

    /// One row holds a group's transactions in order: it decodes to their rows one after another,
    /// so that merging it or applying it leaves each row as the newest transaction left it.
    #[test]
    fn a_row_of_several_transactions_keeps_them_in_order() {
        let network = |name: &str| Record {
            kind: Kind::Network,
            id: "n1".into(),
            folder_id: "f".into(),
            parent_id: String::new(),
            name: name.into(),
            created_at: 1,
            status: String::new(),
            zone_id: String::new(),
            platform_id: String::new(),
            body: Body::Encoded(vec![9]),
        };
        let named = |name: &str| Changes {
            resources: vec![(Kind::Network, "n1".into(), Some(network(name)))],
            claims: vec![("names".into(), name.into(), Some(Claim::new("names", name, "n1")))],
            ..Default::default()
        };
        let (first, second) = (named("a"), named("b"));
        let deleted =
            Changes { claims: vec![("names".into(), "a".into(), None)], operations: vec![("o1".into(), None)], ..Default::default() };
        let row = decode(&encode_row([&first, &second, &deleted]).unwrap()).unwrap();
        let names: Vec<_> = row.resources.iter().map(|(_, _, now)| now.as_ref().unwrap().name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(row.claims, [first.claims.clone(), second.claims.clone(), deleted.claims.clone()].concat());
        assert_eq!(row.operations, deleted.operations);

        let mut merged = Unfolded::default();
        merged.merge(3, row);
        let merged = merged.into_changes();
        assert_eq!(merged.resources[0].2.as_ref().unwrap().name, "b", "the newer transaction wins");
        let mut claims = merged.claims;
        claims.sort_by(|x, y| x.1.cmp(&y.1));
        assert_eq!(claims, [deleted.claims[0].clone(), second.claims[0].clone()]);
    }

    /// Encoding a log row leaves every body encoded, as the row holds it: the fold into the
    /// tables then writes those bytes instead of encoding the value again.
    #[test]
    fn a_logged_body_is_left_encoded_as_the_log_row_holds_it() {
        let value = Body::Value(std::sync::Arc::new(vec!["a value".to_string()]));
        let expected = value.bytes().unwrap().into_owned();
        let record = Record {
            kind: Kind::Network,
            id: "n1".into(),
            folder_id: "f".into(),
            parent_id: String::new(),
            name: "n".into(),
            created_at: 1,
            status: String::new(),
            zone_id: String::new(),
            platform_id: String::new(),
            body: value,
        };
        let op = OperationRow {
            id: "o1".into(),
            resource_id: "n1".into(),
            created_at: 1,
            done: true,
            due_at: None,
            body: Body::Value(std::sync::Arc::new(vec!["an operation".to_string()])),
        };
        let mut changes = Changes {
            resources: vec![(Kind::Network, "n1".into(), Some(record))],
            operations: vec![("o1".into(), Some(op))],
            ..Default::default()
        };
        let logged = decode(&encode(&mut changes).unwrap()).unwrap();
        let body = |c: &Changes| match &c.resources[0].2.as_ref().unwrap().body {
            Body::Encoded(bytes) => bytes.clone(),
            Body::Value(_) => panic!("a body still held as a value"),
        };
        assert_eq!(body(&changes), expected);
        assert_eq!(body(&logged), expected);
        assert!(matches!(&changes.operations[0].1.as_ref().unwrap().body, Body::Encoded(_)));
        assert_eq!(logged.operations, changes.operations);
    }
}
