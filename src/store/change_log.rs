//! The resident store's log: what one write transaction changed, as one appended row of the
//! SQLite file's `change_log` table, and folding logged changes into the tables.
//!
//! A write is durable once its row is committed: one appended statement of a few hundred bytes,
//! where writing the rows themselves took several statements, each dirtying a page of a table or
//! an index somewhere in the file. The tables catch up in the background (`Unfolded`: the
//! changes of many transactions merged, so that a row changed a hundred times is written once)
//! and at every open, before anything reads them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::memory::Changes;
use super::{Body, Claim, Kind, OperationRow, Record, StoreError, StoreResult, Tx};
use crate::error::Result;

/// A row as logged: every column, the body as its bytes.
#[derive(Serialize, Deserialize)]
struct LoggedRecord {
    kind: String,
    id: String,
    folder_id: String,
    parent_id: String,
    name: String,
    created_at: i64,
    status: String,
    zone_id: String,
    platform_id: String,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct LoggedClaim {
    owner: String,
    detail: String,
    expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct LoggedOperation {
    resource_id: String,
    created_at: i64,
    done: bool,
    due_at: Option<i64>,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}

/// One transaction's changes as logged: each touched row as it now is, `None` when deleted.
#[derive(Serialize, Deserialize, Default)]
struct Logged {
    resources: Vec<(String, String, Option<LoggedRecord>)>,
    claims: Vec<(String, String, Option<LoggedClaim>)>,
    operations: Vec<(String, Option<LoggedOperation>)>,
}

fn bytes(body: &Body) -> StoreResult<Vec<u8>> {
    body.bytes().map(|b| b.into_owned()).map_err(|e| StoreError::Backend(e.to_string()))
}

/// The bytes of a log row.
pub fn encode(changes: &Changes) -> StoreResult<Vec<u8>> {
    let mut logged = Logged::default();
    for (kind, id, now) in &changes.resources {
        let row = match now {
            Some(r) => Some(LoggedRecord {
                kind: r.kind.as_str().to_string(),
                id: r.id.clone(),
                folder_id: r.folder_id.clone(),
                parent_id: r.parent_id.clone(),
                name: r.name.clone(),
                created_at: r.created_at,
                status: r.status.clone(),
                zone_id: r.zone_id.clone(),
                platform_id: r.platform_id.clone(),
                body: bytes(&r.body)?,
            }),
            None => None,
        };
        logged.resources.push((kind.as_str().to_string(), id.clone(), row));
    }
    for (scope, key, now) in &changes.claims {
        let held = now.as_ref().map(|c| LoggedClaim { owner: c.owner.clone(), detail: c.detail.clone(), expires_at: c.expires_at });
        logged.claims.push((scope.clone(), key.clone(), held));
    }
    for (id, now) in &changes.operations {
        let row = match now {
            Some(op) => Some(LoggedOperation {
                resource_id: op.resource_id.clone(),
                created_at: op.created_at,
                done: op.done,
                due_at: op.due_at,
                body: bytes(&op.body)?,
            }),
            None => None,
        };
        logged.operations.push((id.clone(), row));
    }
    rmp_serde::to_vec_named(&logged).map_err(|e| StoreError::Backend(format!("encoding a change log row: {e}")))
}

/// A log row's changes.
pub fn decode(bytes: &[u8]) -> StoreResult<Changes> {
    let logged: Logged = rmp_serde::from_slice(bytes).map_err(|e| StoreError::Backend(format!("a change log row does not decode: {e}")))?;
    let kind = |text: &str| Kind::parse(text).ok_or_else(|| StoreError::Backend(format!("a change log row names kind {text:?}")));
    let mut changes = Changes::default();
    for (k, id, row) in logged.resources {
        let now = match row {
            Some(r) => Some(Record {
                kind: kind(&r.kind)?,
                id: r.id,
                folder_id: r.folder_id,
                parent_id: r.parent_id,
                name: r.name,
                created_at: r.created_at,
                status: r.status,
                zone_id: r.zone_id,
                platform_id: r.platform_id,
                body: Body::Encoded(r.body),
            }),
            None => None,
        };
        changes.resources.push((kind(&k)?, id, now));
    }
    for (scope, key, held) in logged.claims {
        let now =
            held.map(|h| Claim { scope: scope.clone(), key: key.clone(), owner: h.owner, detail: h.detail, expires_at: h.expires_at });
        changes.claims.push((scope, key, now));
    }
    for (id, row) in logged.operations {
        let now = row.map(|o| OperationRow {
            id: id.clone(),
            resource_id: o.resource_id,
            created_at: o.created_at,
            done: o.done,
            due_at: o.due_at,
            body: Body::Encoded(o.body),
        });
        changes.operations.push((id, now));
    }
    Ok(changes)
}

/// Writes each row as the changes say it now is, whatever the tables held before.
pub fn apply(changes: &Changes, tx: &mut dyn Tx) -> Result<()> {
    apply_pausing(changes, tx, &mut || {})
}

/// Rows `apply_pausing` writes between two pauses.
const ROWS_BETWEEN_PAUSES: usize = 64;

/// `apply`, calling `pause` every `ROWS_BETWEEN_PAUSES` rows: a fold in the background gives up
/// the CPU there, so that on a busy core it runs in short turns between the calls instead of for
/// a whole time slice of the scheduler (milliseconds) while calls wait.
pub fn apply_pausing(changes: &Changes, tx: &mut dyn Tx, pause: &mut dyn FnMut()) -> Result<()> {
    let mut written = 0;
    let mut wrote_one = || {
        written += 1;
        if written % ROWS_BETWEEN_PAUSES == 0 {
            pause();
        }
    };
    for (kind, id, now) in &changes.resources {
        match now {
            Some(record) => tx.put(record)?,
            None => {
                tx.delete(*kind, id)?;
            }
        }
        wrote_one();
    }
    for (scope, key, now) in &changes.claims {
        tx.release(scope, key)?;
        if let Some(claim) = now
            && let Err(holder) = tx.claim(claim)?
        {
            return Err(crate::error::Error::Internal(format!("storage: ({scope}, {key}) is still held by {holder}")));
        }
        wrote_one();
    }
    for (id, now) in &changes.operations {
        match now {
            Some(op) => tx.put_operation(op)?,
            None => {
                tx.delete_operation(id)?;
            }
        }
        wrote_one();
    }
    Ok(())
}

/// Committed changes not yet folded into the tables, merged: each row as the newest of them
/// left it.
#[derive(Default, Debug)]
pub struct Unfolded {
    /// The newest change merged in.
    pub upto: u64,
    resources: HashMap<(Kind, String), Option<Record>>,
    claims: HashMap<(String, String), Option<Claim>>,
    operations: HashMap<String, Option<OperationRow>>,
}

impl Unfolded {
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
        let first = Changes {
            resources: vec![(Kind::Network, "n1".into(), Some(record("a"))), (Kind::Subnet, "gone".into(), None)],
            claims: vec![("names".into(), "a".into(), Some(Claim::new("names", "a", "n1").with_detail("d").expiring_at(5)))],
            operations: vec![("o1".into(), Some(op.clone())), ("o0".into(), None)],
        };
        let decoded = decode(&encode(&first).unwrap()).unwrap();
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
}
