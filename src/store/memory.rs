//! The in-memory backend (`--store memory`): throwaway state with the same semantics as SQLite.
//! Readers share a read lock; a write transaction holds the write lock and keeps an undo log, so a
//! closure that fails leaves the state exactly as it was.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use parking_lot::RwLock;

use super::{Backend, Body, Claim, Kind, OperationRow, Query, Record, StoreError, StoreResult, Stored, Tx, TxFn};
use crate::error::{Error, Result};

#[derive(Default)]
struct State {
    /// By kind, then id: lookups by `&str`, and lists walk one kind.
    resources: BTreeMap<Kind, BTreeMap<String, Record>>,
    claims: ClaimTable,
    /// By id, in a B-tree: ids begin with their prefix and the time they were minted
    /// (`TimeOrderedIds`), so a new operation lands at the right end of its prefix's range and
    /// pruning takes the oldest from the left of it, paths that stay in the cache. Hashed, each
    /// insert was three cache misses in a table of a hundred thousand rows (a probe, a key
    /// compared, a slot written: 3% of a memory-store mixed call's cycles, BENCHMARKS.md "Cycles,
    /// not instructions"), and pruning's removals leave tombstones that make a hashed table
    /// rehash in place from time to time.
    operations: BTreeMap<String, OperationRow>,
    /// Done operations by `(created_at, id)`: what pruning takes, oldest first, without walking
    /// every operation (it runs every few seconds over a store holding up to the cap).
    done: BTreeSet<(i64, String)>,
}

/// The claims, by scope then key, and by owner: nested maps, so that a lookup, a change or a
/// release by `&str` copies no string (a `(String, String)` key needed two copies per lookup).
/// Claims iterate in `(scope, key)` order, as the tuples did, and so do one owner's.
#[derive(Default)]
struct ClaimTable {
    by_scope: BTreeMap<String, BTreeMap<String, Held>>,
    /// The index behind `claims_of`. A B-tree, though only ever looked up by owner: hashed, a
    /// store growing one create at a time spent longer rehashing it than the B-tree's searches
    /// cost, and the rehash of a large table holds the write lock for milliseconds.
    by_owner: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
}

impl ClaimTable {
    fn get(&self, scope: &str, key: &str) -> Option<&Held> {
        self.by_scope.get(scope)?.get(key)
    }

    fn in_scope(&self, scope: &str) -> impl Iterator<Item = (&String, &Held)> {
        self.by_scope.get(scope).into_iter().flatten()
    }

    /// Every claim as `(scope, key, held)`, in that order.
    fn iter(&self) -> impl Iterator<Item = (&String, &String, &Held)> {
        self.by_scope.iter().flat_map(|(scope, keys)| keys.iter().map(move |(key, held)| (scope, key, held)))
    }

    /// Every `(scope, key)` `owner` holds, in that order.
    fn of_owner(&self, owner: &str) -> impl Iterator<Item = (&String, &String)> {
        self.by_owner.get(owner).into_iter().flatten().flat_map(|(scope, keys)| keys.iter().map(move |key| (scope, key)))
    }

    /// Gives `(scope, key)` to `held`'s owner unless someone holds it, in one search of the
    /// scope's keys: a folder's names or a subnet's addresses can be tens of thousands of keys,
    /// and each step of a search there reads another string from the heap (looking up, then
    /// setting, searched them three times).
    fn claim(&mut self, scope: &str, key: &str, held: Held) -> Claimed {
        let keys = match self.by_scope.get_mut(scope) {
            Some(keys) => keys,
            None => self.by_scope.entry(scope.to_string()).or_default(),
        };
        match keys.entry(key.to_string()) {
            Entry::Occupied(taken) if taken.get().owner == held.owner => Claimed::Already,
            Entry::Occupied(taken) => Claimed::By(taken.get().owner.clone()),
            Entry::Vacant(free) => {
                let owner = held.owner.clone();
                free.insert(held);
                self.by_owner.entry(owner).or_default().entry(scope.to_string()).or_default().insert(key.to_string());
                Claimed::Now
            }
        }
    }

    /// Puts or removes the claim on `(scope, key)`, returning what it replaced.
    fn set(&mut self, scope: &str, key: &str, held: Option<Held>) -> Option<Held> {
        let new_owner = held.as_ref().map(|h| h.owner.clone());
        let old = match held {
            Some(held) => match self.by_scope.get_mut(scope).and_then(|keys| keys.get_mut(key)) {
                Some(slot) => Some(std::mem::replace(slot, held)),
                None => self.by_scope.entry(scope.to_string()).or_default().insert(key.to_string(), held),
            },
            None => {
                let keys = self.by_scope.get_mut(scope)?;
                let old = keys.remove(key);
                if keys.is_empty() {
                    self.by_scope.remove(scope);
                }
                old
            }
        };
        if old.as_ref().map(|o| &o.owner) == new_owner.as_ref() {
            // The same owner (or none before and after): the owner index stays as it is.
            return old;
        }
        if let Some(old) = &old {
            if let Some(scopes) = self.by_owner.get_mut(&old.owner)
                && let Some(keys) = scopes.get_mut(scope)
            {
                keys.remove(key);
                if keys.is_empty() {
                    scopes.remove(scope);
                }
                if scopes.is_empty() {
                    self.by_owner.remove(&old.owner);
                }
            }
        }
        if let Some(owner) = new_owner {
            self.by_owner.entry(owner).or_default().entry(scope.to_string()).or_default().insert(key.to_string());
        }
        old
    }
}

fn read_only() -> StoreError {
    StoreError::Backend("write in a read-only transaction".into())
}

/// What `ClaimTable::claim` found.
enum Claimed {
    /// The claim is new: nobody held the key.
    Now,
    /// The same owner already held it; nothing changed.
    Already,
    /// Another owner holds it.
    By(String),
}

/// A claim's columns beyond its `(scope, key)`.
#[derive(Clone)]
struct Held {
    owner: String,
    detail: String,
    expires_at: Option<i64>,
}

impl Held {
    fn claim(&self, scope: &str, key: &str) -> Claim {
        Claim {
            scope: scope.to_string(),
            key: key.to_string(),
            owner: self.owner.clone(),
            detail: self.detail.clone(),
            expires_at: self.expires_at,
        }
    }
}

impl State {
    fn resources(&self, kind: Kind) -> Option<&BTreeMap<String, Record>> {
        self.resources.get(&kind)
    }

    fn put_resource(&mut self, kind: Kind, id: String, record: Option<Record>) -> Option<Record> {
        let rows = self.resources.entry(kind).or_default();
        match record {
            Some(r) => rows.insert(id, r),
            None => rows.remove(&id),
        }
    }

    /// Puts or removes an operation, keeping the index of done ones.
    fn set_operation(&mut self, id: String, row: Option<OperationRow>) -> Option<OperationRow> {
        if let Some(row) = row.as_ref().filter(|r| r.done) {
            self.done.insert((row.created_at, id.clone()));
        }
        let old = match row {
            Some(row) => self.operations.insert(id, row),
            None => self.operations.remove(&id),
        };
        if let Some(old) = old.as_ref().filter(|o| o.done)
            && self.operations.get(&old.id).is_none_or(|now| !now.done || now.created_at != old.created_at)
        {
            self.done.remove(&(old.created_at, old.id.clone()));
        }
        old
    }
}

enum Undo {
    Resource(Kind, String, Option<Record>),
    Claim(String, String, Option<Held>),
    Operation(String, Option<OperationRow>),
}

#[derive(Default)]
pub struct MemoryBackend {
    state: RwLock<State>,
}

enum Access<'a> {
    Read(&'a State),
    Write(&'a mut State, Vec<Undo>),
}

struct MemTx<'a>(Access<'a>);

impl MemTx<'_> {
    fn state(&self) -> &State {
        match &self.0 {
            Access::Read(s) => s,
            Access::Write(s, _) => s,
        }
    }

    fn write(&mut self) -> StoreResult<(&mut State, &mut Vec<Undo>)> {
        match &mut self.0 {
            Access::Read(_) => Err(read_only()),
            Access::Write(s, undo) => Ok((s, undo)),
        }
    }

    fn rollback(self) {
        if let Access::Write(state, undo) = self.0 {
            for step in undo.into_iter().rev() {
                match step {
                    Undo::Resource(kind, id, old) => {
                        state.put_resource(kind, id, old);
                    }
                    Undo::Claim(scope, key, owner) => {
                        state.claims.set(&scope, &key, owner);
                    }
                    Undo::Operation(id, op) => {
                        state.set_operation(id, op);
                    }
                }
            }
        }
    }

    fn put_resource(&mut self, record: Record) -> StoreResult<()> {
        let (state, undo) = self.write()?;
        let (kind, id) = (record.kind, record.id.clone());
        let old = state.put_resource(kind, id.clone(), Some(record));
        undo.push(Undo::Resource(kind, id, old));
        Ok(())
    }
}

impl Tx for MemTx<'_> {
    fn get(&mut self, kind: Kind, id: &str) -> StoreResult<Option<Record>> {
        Ok(self.state().resources(kind).and_then(|rows| rows.get(id)).cloned())
    }

    /// Only the body: a load needs no copy of the row's columns.
    fn body(&mut self, kind: Kind, id: &str) -> StoreResult<Option<Body>> {
        Ok(self.state().resources(kind).and_then(|rows| rows.get(id)).map(|r| r.body.clone()))
    }

    /// One search of the kind's rows (`contains_key`, then `insert`, searched them twice).
    fn insert(&mut self, record: Record) -> StoreResult<()> {
        let (state, undo) = self.write()?;
        let (kind, id) = (record.kind, record.id.clone());
        match state.resources.entry(kind).or_default().entry(id.clone()) {
            Entry::Occupied(_) => return Err(StoreError::Duplicate(format!("{} {id}", kind.as_str()))),
            Entry::Vacant(row) => row.insert(record),
        };
        undo.push(Undo::Resource(kind, id, None));
        Ok(())
    }

    fn update(&mut self, record: Record) -> StoreResult<()> {
        self.put_resource(record)
    }

    fn change_written(&mut self, kind: Kind, id: &str, change: &mut dyn FnMut(&mut dyn Stored) -> Option<Record>) -> StoreResult<bool> {
        let Access::Write(state, undo) = &mut self.0 else { return Ok(false) };
        // Only a row this transaction wrote: its undo entry gives back the row as it was before
        // the transaction, whatever is changed in place after it.
        if !undo.iter().rev().any(|step| matches!(step, Undo::Resource(k, i, _) if *k == kind && i == id)) {
            return Ok(false);
        }
        let Some(row) = state.resources.get_mut(&kind).and_then(|rows| rows.get_mut(id)) else { return Ok(false) };
        // Shared (an earlier read's answer, a memo's `Weak`), the value is not this
        // transaction's alone to change.
        let Body::Value(value) = &mut row.body else { return Ok(false) };
        let Some(value) = Arc::get_mut(value) else { return Ok(false) };
        let Some(columns) = change(value) else { return Ok(false) };
        let body = std::mem::replace(&mut row.body, Body::Encoded(Vec::new()));
        *row = Record { body, ..columns };
        Ok(true)
    }

    fn delete(&mut self, kind: Kind, id: &str) -> StoreResult<bool> {
        let (state, undo) = self.write()?;
        let old = state.put_resource(kind, id.to_string(), None);
        let existed = old.is_some();
        undo.push(Undo::Resource(kind, id.to_string(), old));
        Ok(existed)
    }

    fn list(&mut self, query: &Query) -> StoreResult<Vec<Record>> {
        let mut rows = Vec::new();
        self.list_each(query, &mut |row| {
            rows.push(row.clone());
            true
        })?;
        Ok(rows)
    }

    fn list_each(&mut self, query: &Query, each: &mut dyn FnMut(&Record) -> bool) -> StoreResult<()> {
        let state = self.state();
        let mut rows: Vec<&Record> = state
            .resources(query.kind)
            .into_iter()
            .flat_map(|rows| rows.values())
            .filter(|r| query.folder_id.as_ref().is_none_or(|f| &r.folder_id == f))
            .filter(|r| query.parent_id.as_ref().is_none_or(|p| &r.parent_id == p))
            .filter(|r| query.conditions.iter().all(|c| r.matches(c)))
            .collect();
        let column = query.order.column;
        // Keys borrowed from the rows: sorting copies nothing.
        fn keyed(r: &Record, column: super::Column) -> (super::SortKey<'_>, &str) {
            (r.sort_key(column), r.id.as_str())
        }
        // Ids are unique, so no two keys are equal and an unstable sort gives the one order.
        rows.sort_unstable_by(|a, b| keyed(a, column).cmp(&keyed(b, column)));
        if query.order.descending {
            rows.reverse();
        }
        let after = query.after.as_ref().map(|c| (c.value.key(), c.id.as_str()));
        let page = rows
            .into_iter()
            .filter(|r| match after {
                None => true,
                Some(a) if query.order.descending => keyed(r, column) < a,
                Some(a) => keyed(r, column) > a,
            })
            .take(query.limit);
        for row in page {
            if !each(row) {
                break;
            }
        }
        Ok(())
    }

    fn claim(&mut self, claim: &Claim) -> StoreResult<Result<(), String>> {
        let Access::Write(state, undo) = &mut self.0 else {
            // A read-only transaction may still ask for a claim its owner already holds.
            return match self.state().claims.get(&claim.scope, &claim.key) {
                Some(held) if held.owner == claim.owner => Ok(Ok(())),
                Some(held) => Ok(Err(held.owner.clone())),
                None => Err(read_only()),
            };
        };
        let held = Held { owner: claim.owner.clone(), detail: claim.detail.clone(), expires_at: claim.expires_at };
        Ok(match state.claims.claim(&claim.scope, &claim.key, held) {
            Claimed::Now => {
                undo.push(Undo::Claim(claim.scope.clone(), claim.key.clone(), None));
                Ok(())
            }
            Claimed::Already => Ok(()),
            Claimed::By(owner) => Err(owner),
        })
    }

    fn release(&mut self, scope: &str, key: &str) -> StoreResult<()> {
        let (state, undo) = self.write()?;
        let old = state.claims.set(scope, key, None);
        undo.push(Undo::Claim(scope.to_string(), key.to_string(), old));
        Ok(())
    }

    fn holder(&mut self, scope: &str, key: &str) -> StoreResult<Option<String>> {
        Ok(self.state().claims.get(scope, key).map(|h| h.owner.clone()))
    }

    fn is_held(&mut self, scope: &str, key: &str) -> StoreResult<bool> {
        Ok(self.state().claims.get(scope, key).is_some())
    }

    /// One change of the claim in place (the default releases and claims again, which for the
    /// same owner took its key out of the owner index and put it back).
    fn put_claim(&mut self, claim: &Claim) -> StoreResult<()> {
        let (state, undo) = self.write()?;
        let held = Held { owner: claim.owner.clone(), detail: claim.detail.clone(), expires_at: claim.expires_at };
        let old = state.claims.set(&claim.scope, &claim.key, Some(held));
        undo.push(Undo::Claim(claim.scope.clone(), claim.key.clone(), old));
        Ok(())
    }

    fn claim_at(&mut self, scope: &str, key: &str) -> StoreResult<Option<Claim>> {
        Ok(self.state().claims.get(scope, key).map(|h| h.claim(scope, key)))
    }

    fn claims_in(&mut self, scope: &str) -> StoreResult<Vec<Claim>> {
        Ok(self.state().claims.in_scope(scope).map(|(key, held)| held.claim(scope, key)).collect())
    }

    fn claims_of(&mut self, owner: &str) -> StoreResult<Vec<Claim>> {
        let claims = &self.state().claims;
        Ok(claims.of_owner(owner).filter_map(|(s, k)| claims.get(s, k).map(|held| held.claim(s, k))).collect())
    }

    fn all_claims(&mut self) -> StoreResult<Vec<Claim>> {
        Ok(self.state().claims.iter().map(|(s, k, held)| held.claim(s, k)).collect())
    }

    fn all_operations(&mut self) -> StoreResult<Vec<OperationRow>> {
        let mut ops: Vec<OperationRow> = self.state().operations.values().cloned().collect();
        ops.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(ops)
    }

    fn done_operations_before(&mut self, before: i64, limit: usize) -> StoreResult<Vec<String>> {
        Ok(self.state().done.iter().take_while(|(at, _)| *at < before).take(limit).map(|(_, id)| id.clone()).collect())
    }

    fn count_done_operations(&mut self) -> StoreResult<usize> {
        Ok(self.state().done.len())
    }

    fn expired_claims(&mut self, now: i64, limit: usize) -> StoreResult<Vec<(String, String)>> {
        Ok(self
            .state()
            .claims
            .iter()
            .filter(|(_, _, held)| held.expires_at.is_some_and(|at| at < now))
            .take(limit)
            .map(|(scope, key, _)| (scope.clone(), key.clone()))
            .collect())
    }

    fn delete_operation(&mut self, id: &str) -> StoreResult<bool> {
        let (state, undo) = self.write()?;
        let old = state.set_operation(id.to_string(), None);
        let existed = old.is_some();
        undo.push(Undo::Operation(id.to_string(), old));
        Ok(existed)
    }

    fn put_operation(&mut self, row: OperationRow) -> StoreResult<()> {
        let (state, undo) = self.write()?;
        let id = row.id.clone();
        // A done operation arrives encoded (`Operation::to_row`), and is held so.
        let old = state.set_operation(id.clone(), Some(row));
        undo.push(Undo::Operation(id, old));
        Ok(())
    }

    fn get_operation(&mut self, id: &str) -> StoreResult<Option<OperationRow>> {
        Ok(self.state().operations.get(id).cloned())
    }

    fn operations_of(&mut self, resource_id: &str, after: Option<(i64, &str)>, limit: usize) -> StoreResult<Vec<OperationRow>> {
        let mut ops: Vec<&OperationRow> = self.state().operations.values().filter(|o| o.resource_id == resource_id).collect();
        ops.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(ops.into_iter().filter(|o| after.is_none_or(|(t, id)| (o.created_at, o.id.as_str()) < (t, id))).take(limit).cloned().collect())
    }

    fn pending_operations(&mut self) -> StoreResult<Vec<OperationRow>> {
        let mut ops: Vec<OperationRow> = self.state().operations.values().filter(|o| !o.done).cloned().collect();
        ops.sort_by_key(|o| (o.due_at.unwrap_or(i64::MAX), o.id.clone()));
        Ok(ops)
    }
}

/// What one committed write transaction changed: each touched row as it is now (`None`:
/// deleted), in the order first touched. What the resident store (`store::resident`) logs.
#[derive(Default, Debug)]
pub struct Changes {
    pub resources: Vec<(Kind, String, Option<Record>)>,
    pub claims: Vec<(String, String, Option<Claim>)>,
    pub operations: Vec<(String, Option<OperationRow>)>,
}

impl Changes {
    /// How many rows changed.
    pub fn len(&self) -> usize {
        self.resources.len() + self.claims.len() + self.operations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn of(state: &State, undo: Vec<Undo>) -> Changes {
        let mut changes = Changes::default();
        let (mut resources, mut claims, mut operations) = (None, None, None);
        for step in undo {
            match step {
                Undo::Resource(kind, id, _) => {
                    let listed = &changes.resources;
                    if first_listing(
                        listed,
                        &mut resources,
                        |(k, i, _)| *k == kind && *i == id,
                        |(k, i, _)| (*k, i.clone()),
                        || (kind, id.clone()),
                    ) {
                        let now = state.resources(kind).and_then(|rows| rows.get(&id)).cloned();
                        changes.resources.push((kind, id, now));
                    }
                }
                Undo::Claim(scope, key, _) => {
                    let listed = &changes.claims;
                    let same = |(s, k, _): &(String, String, Option<Claim>)| *s == scope && *k == key;
                    if first_listing(listed, &mut claims, same, |(s, k, _)| (s.clone(), k.clone()), || (scope.clone(), key.clone())) {
                        let now = state.claims.get(&scope, &key).map(|held| held.claim(&scope, &key));
                        changes.claims.push((scope, key, now));
                    }
                }
                Undo::Operation(id, _) => {
                    if first_listing(&changes.operations, &mut operations, |(i, _)| *i == id, |(i, _)| i.clone(), || id.clone()) {
                        let now = state.operations.get(&id).cloned();
                        changes.operations.push((id, now));
                    }
                }
            }
        }
        changes
    }
}

/// How many rows of one kind a transaction's changes list before `Changes::of` keeps a set of
/// their keys. A write touches a handful (an instance, its operation, a few claims), and for so
/// few, scanning the list cost less than copying every key into a set (two strings and a tree
/// node for a claim); an import touches thousands.
const SCANNED_ROWS: usize = 16;

/// Whether a row is not yet in `listed` (`is_it` tells it among them): scanned while the list is
/// short, then looked up in `set`, the listed rows' keys (`key_of`), made when the list grows past
/// `SCANNED_ROWS`; `key` is the row's own.
fn first_listing<T, K: Eq + std::hash::Hash>(
    listed: &[T],
    set: &mut Option<foldhash::HashSet<K>>,
    is_it: impl Fn(&T) -> bool,
    key_of: impl Fn(&T) -> K,
    key: impl FnOnce() -> K,
) -> bool {
    if let Some(set) = set {
        return set.insert(key());
    }
    if listed.iter().any(is_it) {
        return false;
    }
    if listed.len() >= SCANNED_ROWS {
        let mut keys: foldhash::HashSet<K> = listed.iter().map(key_of).collect();
        keys.insert(key());
        *set = Some(keys);
    }
    true
}

impl MemoryBackend {
    /// A write transaction that, when it commits with changes and `committed` is given, hands
    /// them to it while it still holds the write lock: so the changes of successive transactions
    /// reach it in the order they were made.
    pub fn write_logged(&self, f: &mut TxFn<'_>, committed: Option<&mut dyn FnMut(Changes)>) -> Result<()> {
        let mut guard = self.state.write();
        let mut tx = MemTx(Access::Write(&mut guard, Vec::new()));
        // A panicking closure must not leave half its changes behind for the next writer.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut tx)))
            .unwrap_or_else(|_| Err(Error::Internal("storage: a transaction panicked".into())));
        if result.is_err() {
            tx.rollback();
            return result;
        }
        if let (Some(committed), MemTx(Access::Write(state, undo))) = (committed, tx)
            && !undo.is_empty()
        {
            committed(Changes::of(state, undo));
        }
        result
    }
}

impl Backend for MemoryBackend {
    fn read(&self, f: &mut TxFn<'_>) -> Result<()> {
        let guard = self.state.read();
        f(&mut MemTx(Access::Read(&guard)))
    }

    fn write(&self, f: &mut TxFn<'_>) -> Result<()> {
        self.write_logged(f, None)
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    /// Transactions hold the state's lock for microseconds and do no I/O.
    fn blocks(&self) -> bool {
        false
    }

    fn keeps_state_in_memory(&self) -> bool {
        true
    }
}
