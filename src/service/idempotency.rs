//! Idempotency keys, kept as claims next to the operation they started: the claim
//! `(subject, method, key)` is owned by the operation, with the request's fingerprint as its
//! detail and the key's expiry.

use crate::domain::clock::Timestamp;
use crate::error::{Error, Result};
use crate::ops::{Operation, runner};
use crate::service::caller::IdempotencyKey;
use crate::service::claims::ClaimScope;
use crate::store::{Claim, Tx};

/// How long a key is remembered: a day, like the retry horizon of the SDKs and tools that send them.
pub const KEY_LIFETIME_MILLIS: u64 = 24 * 60 * 60 * 1000;

fn claim_key(subject: &str, key: &IdempotencyKey) -> String {
    format!("{subject}\n{}\n{}", key.method, key.key)
}

/// The operation an unexpired earlier use of `key` started, if any. The same key with another
/// request is refused; an expired key is forgotten.
pub fn earlier(tx: &mut dyn Tx, subject: &str, key: &IdempotencyKey, now: Timestamp) -> Result<Option<Operation>> {
    let (scope, claim_key) = (ClaimScope::Idempotency.stored(), claim_key(subject, key));
    let Some(claim) = tx.claim_at(&scope, &claim_key)? else { return Ok(None) };
    if claim.expires_at.is_some_and(|at| at > now.0) {
        if claim.detail != key.fingerprint {
            return Err(Error::IdempotencyKeyReused { key: key.key.clone(), method: key.method.clone() });
        }
        if tx.get_operation(&claim.owner)?.is_some() {
            return runner::load(tx, &claim.owner).map(Some);
        }
    }
    tx.release(&scope, &claim_key)?;
    Ok(None)
}

/// Remembers that `key` started `operation_id`.
pub fn record(tx: &mut dyn Tx, subject: &str, key: &IdempotencyKey, operation_id: &str, now: Timestamp) -> Result<()> {
    let claim = Claim::new(ClaimScope::Idempotency.stored(), claim_key(subject, key), operation_id)
        .with_detail(&key.fingerprint)
        .expiring_at(now.plus_millis(KEY_LIFETIME_MILLIS).0);
    tx.claim(&claim)?.map_err(|holder| Error::Internal(format!("idempotency key {} taken by {holder} in the same transaction", key.key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Metadata;
    use crate::store::Store;

    fn key(fingerprint: &str) -> IdempotencyKey {
        IdempotencyKey { key: "k".into(), method: "/svc/Create".into(), fingerprint: fingerprint.into() }
    }

    fn operation(tx: &mut dyn Tx, id: &str) -> Result<()> {
        let op = Operation {
            id: id.into(),
            description: "Create network".into(),
            created_at: Timestamp(0),
            created_by: "alice".into(),
            modified_at: Timestamp(0),
            done: true,
            metadata: Metadata::CreateNetwork { network_id: "n1".into() },
            result: None,
            action: None,
            due_at: None,
            polls_left: None,
            fault: None,
        };
        Ok(tx.put_operation(op.to_row()?)?)
    }

    #[test]
    fn a_key_finds_its_operation_until_it_expires() {
        let store = Store::open("memory").unwrap();
        let now = Timestamp(1_000_000);
        store
            .write_now(|tx| {
                assert!(earlier(tx, "alice", &key("fp"), now)?.is_none());
                operation(tx, "op1")?;
                record(tx, "alice", &key("fp"), "op1", now)
            })
            .unwrap();
        store
            .write_now(|tx| {
                assert_eq!(earlier(tx, "alice", &key("fp"), now)?.map(|op| op.id), Some("op1".into()));
                assert!(earlier(tx, "bob", &key("fp"), now)?.is_none(), "keys are per subject");
                let other_method = IdempotencyKey { method: "/svc/Delete".into(), ..key("fp") };
                assert!(earlier(tx, "alice", &other_method, now)?.is_none(), "and per method");
                let e = earlier(tx, "alice", &key("another request"), now).unwrap_err();
                assert!(matches!(e, Error::IdempotencyKeyReused { .. }), "{e}");
                let after_a_day = now.plus_millis(KEY_LIFETIME_MILLIS);
                assert!(earlier(tx, "alice", &key("another request"), after_a_day)?.is_none(), "an expired key is forgotten");
                record(tx, "alice", &key("another request"), "op2", after_a_day)
            })
            .unwrap();
    }
}
