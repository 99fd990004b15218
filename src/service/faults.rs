//! Fault rules, stored as claims in `netplane/faults` (key: the rule id; detail: the rule as
//! JSON), so that they survive restarts and every replica on one PostgreSQL applies them. Calls
//! consult an in-process copy, so a server without rules pays one read lock per call; a store
//! other processes write (PostgreSQL) is read again at most every `REFRESH`. A matching call is
//! counted in the store, in one transaction, so `after` and `times` hold across replicas.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use super::{AdminArea, Core};
use crate::domain::fault::{FaultAction, FaultRule, RuleSpec};
use crate::error::{Error, ResourceKind, Result};
use crate::store::{Claim, Store, Tx};

/// The claim scope holding the rules (under `netplane/`, so state export and reset leave it).
pub const FAULTS_SCOPE: &str = "netplane/faults";
const OWNER: &str = "netplane";
/// How stale the copy of a shared store's rules may get.
const REFRESH: Duration = Duration::from_millis(250);

/// The in-process copy of the rules.
pub struct FaultBook {
    rules: RwLock<(Instant, Arc<Vec<FaultRule>>)>,
    shared: bool,
}

impl FaultBook {
    pub fn new(store: &Store) -> FaultBook {
        FaultBook { rules: RwLock::new((Instant::now(), Arc::new(Vec::new()))), shared: store.shared() }
    }

    fn set(&self, rules: Vec<FaultRule>) {
        *self.rules.write() = (Instant::now(), Arc::new(rules));
    }
}

fn stored_rules(tx: &mut dyn Tx) -> Result<Vec<FaultRule>> {
    tx.claims_in(FAULTS_SCOPE)?.iter().map(decode).collect()
}

fn decode(claim: &Claim) -> Result<FaultRule> {
    serde_json::from_str(&claim.detail).map_err(|e| Error::Internal(format!("fault rule {}: {e}", claim.key)))
}

fn save(tx: &mut dyn Tx, rule: &FaultRule) -> Result<()> {
    let detail = serde_json::to_string(rule).map_err(|e| Error::Internal(format!("fault rule {}: {e}", rule.id)))?;
    tx.release(FAULTS_SCOPE, &rule.id)?;
    tx.claim(&Claim::new(FAULTS_SCOPE, &rule.id, OWNER).with_detail(detail))?
        .map_err(|holder| Error::Internal(format!("fault rule {} held by {holder}", rule.id)))
}

impl Core {
    /// Reads the stored rules into the in-process copy (at start, and after each change).
    pub async fn load_faults(&self) -> Result<usize> {
        let rules = self.store.read(stored_rules).await?;
        let count = rules.len();
        self.faults.set(rules);
        Ok(count)
    }

    /// The rules for `method`; none, cheaply, when there are none at all.
    pub async fn fault_rules_for(&self, method: &str) -> Vec<FaultRule> {
        let stale = {
            let (at, rules) = &*self.faults.rules.read();
            if !self.faults.shared || at.elapsed() < REFRESH {
                return rules.iter().filter(|r| r.method == method).cloned().collect();
            }
            true
        };
        // One caller reads the store again; the others use the copy they have meanwhile.
        let reload = stale && {
            let mut guard = self.faults.rules.write();
            let due = guard.0.elapsed() >= REFRESH;
            if due {
                guard.0 = Instant::now();
            }
            due
        };
        if reload && let Err(e) = self.load_faults().await {
            tracing::warn!(error = %e, "could not read fault rules; using the last ones read");
        }
        self.faults.rules.read().1.iter().filter(|r| r.method == method).cloned().collect()
    }

    /// Counts a matching call against rule `id`; the action when this call is the one to act on.
    pub async fn fault_hit(&self, id: &str) -> Result<Option<(String, FaultAction)>> {
        let id = id.to_string();
        self.store
            .write(move |tx| {
                let Some(claim) = tx.claim_at(FAULTS_SCOPE, &id)? else { return Ok(None) };
                let mut rule = decode(&claim)?;
                let action = rule.hit();
                save(tx, &rule)?;
                Ok(action.map(|a| (rule.id.clone(), a)))
            })
            .await
    }
}

impl AdminArea {
    /// Adds a rule; `known` says whether a method exists and whether it starts an operation.
    pub async fn add_fault(&self, spec: RuleSpec, known: impl Fn(&str) -> Option<bool>) -> Result<FaultRule> {
        let rule = spec.into_rule(uuid::Uuid::new_v4().to_string(), known)?;
        let stored = rule.clone();
        self.store.write(move |tx| save(tx, &stored)).await?;
        self.load_faults().await?;
        tracing::info!(rule_id = %rule.id, method = %rule.method, action = ?rule.action, "fault rule added");
        Ok(rule)
    }

    /// Every rule with its counts.
    pub async fn faults(&self) -> Result<Vec<FaultRule>> {
        self.store.read(stored_rules).await
    }

    /// Removes one rule; operations it held go on.
    pub async fn remove_fault(&self, id: &str) -> Result<()> {
        let rule_id = id.to_string();
        self.store
            .write(move |tx| {
                tx.claim_at(FAULTS_SCOPE, &rule_id)?.ok_or_else(|| Error::not_found(ResourceKind::FaultRule, &rule_id))?;
                Ok(tx.release(FAULTS_SCOPE, &rule_id)?)
            })
            .await?;
        self.load_faults().await?;
        self.runner.release_held(id).await?;
        Ok(())
    }

    /// Removes every rule; answers how many there were.
    pub async fn remove_faults(&self) -> Result<usize> {
        let removed = self
            .store
            .write(|tx| {
                let rules = stored_rules(tx)?;
                for rule in &rules {
                    tx.release(FAULTS_SCOPE, &rule.id)?;
                }
                Ok(rules)
            })
            .await?;
        self.load_faults().await?;
        for rule in &removed {
            self.runner.release_held(&rule.id).await?;
        }
        Ok(removed.len())
    }
}
