//! The whole state as one JSON document, and back: every resource of both clouds (each kind's
//! domain value, as serde writes it), every operation and every claim, with ids and timestamps
//! kept. Export walks `Kind::ALL`; import checks the whole document first (format and version,
//! every body decodes as its kind's type and names its own id, no row twice) and only then
//! replaces the state, in one transaction. A `version` older than `VERSION` is read as written:
//! stored types only gain defaulted fields, so an older document's bodies still decode.
//!
//! Claims in scopes under `netplane/` (netplane's own settings, such as fault rules) are neither
//! exported nor replaced nor reset: they configure the emulator, they are not cloud state.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{
    address::Address, disk::Disk, gateway::Gateway, huawei, image::Image, instance::Instance, network::Network, route_table::RouteTable,
    security_group::SecurityGroup, subnet::Subnet,
};
use crate::error::{Error, Result};
use crate::ops::Operation;
use crate::store::{Claim, Kind, OperationRow, Query, Record, Resource, Tx};

pub const FORMAT: &str = "netplane-state";
/// The document version this release writes (and the newest it reads).
pub const VERSION: u32 = 1;
/// Claim scopes that are netplane's own configuration, not state.
pub const OWN_SCOPE_PREFIX: &str = "netplane/";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    pub resources: Vec<ResourceEntry>,
    pub operations: Vec<OperationEntry>,
    pub claims: Vec<ClaimEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceEntry {
    pub kind: String,
    pub id: String,
    pub body: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationEntry {
    pub id: String,
    pub body: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimEntry {
    pub scope: String,
    pub key: String,
    pub owner: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// How many rows a reset or an import removed or wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub resources: usize,
    pub operations: usize,
    pub claims: usize,
}

/// A checked document, ready to be written.
pub struct Checked {
    records: Vec<Record>,
    operations: Vec<OperationRow>,
    claims: Vec<Claim>,
}

impl Checked {
    pub fn counts(&self) -> Counts {
        Counts { resources: self.records.len(), operations: self.operations.len(), claims: self.claims.len() }
    }
}

fn export_typed<R: Resource>(record: &Record) -> Result<Value> {
    let value = R::from_record(record)?;
    serde_json::to_value(&value).map_err(|e| Error::Internal(format!("exporting {} {}: {e}", R::KIND.as_str(), record.id)))
}

fn import_typed<R: Resource>(id: &str, body: &Value) -> std::result::Result<Record, String> {
    let value: R = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
    if value.id() != id {
        return Err(format!("the body is of {} {:?}", R::KIND.as_str(), value.id()));
    }
    Ok(value.to_record())
}

/// The registry of stored kinds and their domain types: the matches are exhaustive, so a kind
/// added without its type here does not compile.
macro_rules! kinds {
    ($($kind:ident => $type:ty),* $(,)?) => {
        fn export_body(record: &Record) -> Result<Value> {
            match record.kind {
                $(Kind::$kind => export_typed::<$type>(record),)*
            }
        }

        fn import_body(kind: Kind, id: &str, body: &Value) -> std::result::Result<Record, String> {
            match kind {
                $(Kind::$kind => import_typed::<$type>(id, body),)*
            }
        }
    };
}

kinds!(
    Instance => Instance,
    Network => Network,
    Subnet => Subnet,
    Address => Address,
    SecurityGroup => SecurityGroup,
    Disk => Disk,
    Image => Image,
    RouteTable => RouteTable,
    Gateway => Gateway,
    HuaweiVpc => huawei::vpc::Vpc,
    HuaweiSubnet => huawei::vpc::Subnet,
    NatGateway => huawei::nat::Gateway,
    TransitSubnet => huawei::nat::TransitSubnet,
    TransitIp => huawei::nat::TransitIp,
    DnatRule => huawei::dnat::DnatRule,
    SnatRule => huawei::snat::SnatRule,
    Port => huawei::port::Port,
);

fn is_state(claim: &Claim) -> bool {
    !claim.scope.starts_with(OWN_SCOPE_PREFIX)
}

/// The whole state.
pub fn export(tx: &mut dyn Tx) -> Result<Snapshot> {
    let mut resources = Vec::new();
    for kind in Kind::ALL {
        for record in tx.list(&Query::new(kind))? {
            resources.push(ResourceEntry { kind: kind.as_str().to_string(), id: record.id.clone(), body: export_body(&record)? });
        }
    }
    let mut operations = Vec::new();
    for row in tx.all_operations()? {
        let op = Operation::from_row(&row)?;
        let body = serde_json::to_value(&op).map_err(|e| Error::Internal(format!("exporting operation {}: {e}", row.id)))?;
        operations.push(OperationEntry { id: row.id, body });
    }
    let claims = tx
        .all_claims()?
        .into_iter()
        .filter(is_state)
        .map(|c| ClaimEntry { scope: c.scope, key: c.key, owner: c.owner, detail: c.detail, expires_at: c.expires_at })
        .collect();
    Ok(Snapshot { format: FORMAT.to_string(), version: VERSION, resources, operations, claims })
}

/// Checks a whole document; the first problem is named with where it is.
pub fn check(snapshot: &Snapshot) -> Result<Checked> {
    let bad = |place: String, what: String| Error::invalid(place, what);
    if snapshot.format != FORMAT {
        return Err(bad("format".into(), format!("must be {FORMAT:?}, not {:?}", snapshot.format)));
    }
    if snapshot.version == 0 || snapshot.version > VERSION {
        return Err(bad("version".into(), format!("this netplane reads versions 1 to {VERSION}, not {}", snapshot.version)));
    }
    let mut seen = BTreeSet::new();
    let mut records = Vec::with_capacity(snapshot.resources.len());
    for (i, entry) in snapshot.resources.iter().enumerate() {
        let place = format!("resources[{i}]");
        let kind =
            Kind::parse(&entry.kind).ok_or_else(|| bad(format!("{place}.kind"), format!("{:?} is not a resource kind", entry.kind)))?;
        if !seen.insert((kind, entry.id.clone())) {
            return Err(bad(format!("{place}.id"), format!("{} {:?} is given twice", entry.kind, entry.id)));
        }
        records.push(import_body(kind, &entry.id, &entry.body).map_err(|e| bad(format!("{place}.body"), e))?);
    }
    let mut ids = BTreeSet::new();
    let mut operations = Vec::with_capacity(snapshot.operations.len());
    for (i, entry) in snapshot.operations.iter().enumerate() {
        let place = format!("operations[{i}]");
        let op: Operation = serde_json::from_value(entry.body.clone()).map_err(|e| bad(format!("{place}.body"), e.to_string()))?;
        if op.id != entry.id {
            return Err(bad(format!("{place}.body"), format!("the body is of operation {:?}", op.id)));
        }
        if !ids.insert(op.id.clone()) {
            return Err(bad(format!("{place}.id"), format!("operation {:?} is given twice", op.id)));
        }
        operations.push(op.to_row()?);
    }
    let mut keys = BTreeSet::new();
    let mut claims = Vec::with_capacity(snapshot.claims.len());
    for (i, c) in snapshot.claims.iter().enumerate() {
        let place = format!("claims[{i}]");
        if c.scope.starts_with(OWN_SCOPE_PREFIX) {
            return Err(bad(format!("{place}.scope"), format!("{OWN_SCOPE_PREFIX}… scopes are netplane's settings, not state")));
        }
        if !keys.insert((c.scope.clone(), c.key.clone())) {
            return Err(bad(format!("{place}.key"), format!("({:?}, {:?}) is claimed twice", c.scope, c.key)));
        }
        claims.push(Claim {
            scope: c.scope.clone(),
            key: c.key.clone(),
            owner: c.owner.clone(),
            detail: c.detail.clone(),
            expires_at: c.expires_at,
        });
    }
    Ok(Checked { records, operations, claims })
}

/// Replaces the state with a checked document; answers what was removed.
pub fn replace(tx: &mut dyn Tx, checked: &Checked) -> Result<Counts> {
    let removed = clear(tx, None)?;
    for record in &checked.records {
        tx.insert(record.clone())?;
    }
    for op in &checked.operations {
        tx.put_operation(op.clone())?;
    }
    for claim in &checked.claims {
        tx.claim(claim)?
            .map_err(|holder| Error::Internal(format!("claim {}/{} held by {holder} after a reset", claim.scope, claim.key)))?;
    }
    Ok(removed)
}

/// Removes the state: all of it, or one folder's (or Huawei project's) when `scope` names one:
/// its resources, the operations on them, and the claims that name the folder, one of those
/// resources or operations in their scope, key or owner.
pub fn clear(tx: &mut dyn Tx, scope: Option<&str>) -> Result<Counts> {
    let mut counts = Counts::default();
    let mut named: BTreeSet<String> = scope.map(|s| s.to_string()).into_iter().collect();
    for kind in Kind::ALL {
        let mut query = Query::new(kind);
        query.folder_id = scope.map(str::to_string);
        for record in tx.list(&query)? {
            tx.delete(kind, &record.id)?;
            counts.resources += 1;
            named.insert(record.id);
        }
    }
    for op in tx.all_operations()? {
        if scope.is_none() || named.contains(&op.resource_id) {
            tx.delete_operation(&op.id)?;
            counts.operations += 1;
            named.insert(op.id);
        }
    }
    let mentions = |text: &str, separators: &[char]| text.split(separators).any(|part| named.contains(part));
    for claim in tx.all_claims()?.into_iter().filter(is_state) {
        let gone = scope.is_none()
            || mentions(&claim.scope, &['/', '#'])
            || mentions(&claim.key, &['/', ':'])
            || mentions(&claim.owner, &[':', '/']);
        if gone {
            tx.release(&claim.scope, &claim.key)?;
            counts.claims += 1;
        }
    }
    Ok(counts)
}
