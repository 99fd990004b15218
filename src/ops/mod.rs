//! Long-running operations as stored rows.
//!
//! A mutating call writes its operation (`done = false`) in the same transaction as the change it
//! reserves; the runner later applies the pending `Action` and stores the outcome. How soon is a
//! setting (`Progression`), never a hard-coded choice. Any process reading the row sees the truth.

mod action;
mod flat;
pub mod runner;

use std::time::Duration;

pub use action::{
    Action, AddressAction, ClaimKey, DiskAction, GatewayAction, ImageAction, InstanceAction, InterfaceAction, Movable, MoveAction,
    NetworkAction, RouteTableAction, SecurityGroupAction, SubnetAction,
};
pub use runner::{Executor, Runner};

use crate::domain::{
    address::Address,
    clock::Timestamp,
    disk::Disk,
    gateway::Gateway,
    image::Image,
    instance::Instance,
    network::Network,
    route_table::RouteTable,
    security_group::{Rule, SecurityGroup},
    subnet::Subnet,
};
use crate::error::{Error, Result};
use crate::store::OperationRow;

/// What an operation is about; becomes the contract's `<Verb><Resource>Metadata` message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Metadata {
    CreateInstance { instance_id: String },
    UpdateInstance { instance_id: String },
    DeleteInstance { instance_id: String },
    UpdateInstanceMetadata { instance_id: String },
    StopInstance { instance_id: String },
    StartInstance { instance_id: String },
    RestartInstance { instance_id: String },
    AttachNetworkInterface { instance_id: String, network_interface_index: String },
    DetachNetworkInterface { instance_id: String, network_interface_index: String },
    UpdateNetworkInterface { instance_id: String, network_interface_index: String },
    AddOneToOneNat { instance_id: String },
    RemoveOneToOneNat { instance_id: String },
    AttachDisk { instance_id: String, disk_id: String },
    DetachDisk { instance_id: String, disk_id: String },
    CreateDisk { disk_id: String },
    UpdateDisk { disk_id: String },
    DeleteDisk { disk_id: String },
    CreateImage { image_id: String },
    UpdateImage { image_id: String },
    DeleteImage { image_id: String },
    CreateRouteTable { route_table_id: String },
    UpdateRouteTable { route_table_id: String },
    DeleteRouteTable { route_table_id: String },
    CreateGateway { gateway_id: String },
    UpdateGateway { gateway_id: String },
    DeleteGateway { gateway_id: String },
    CreateNetwork { network_id: String },
    UpdateNetwork { network_id: String },
    DeleteNetwork { network_id: String },
    CreateSubnet { subnet_id: String },
    UpdateSubnet { subnet_id: String },
    DeleteSubnet { subnet_id: String },
    CreateAddress { address_id: String },
    UpdateAddress { address_id: String },
    DeleteAddress { address_id: String },
    CreateSecurityGroup { security_group_id: String },
    UpdateSecurityGroup { security_group_id: String, added_rule_ids: Vec<String> },
    DeleteSecurityGroup { security_group_id: String },
    UpdateSecurityGroupRule { security_group_id: String, rule_id: String },
    Move { kind: Movable, id: String, source_folder_id: String, destination_folder_id: String },
}

impl Metadata {
    /// The resource whose `ListOperations` shows this operation.
    pub fn resource_id(&self) -> &str {
        match self {
            Metadata::CreateInstance { instance_id }
            | Metadata::UpdateInstance { instance_id }
            | Metadata::DeleteInstance { instance_id }
            | Metadata::UpdateInstanceMetadata { instance_id }
            | Metadata::StopInstance { instance_id }
            | Metadata::StartInstance { instance_id }
            | Metadata::RestartInstance { instance_id }
            | Metadata::AttachNetworkInterface { instance_id, .. }
            | Metadata::DetachNetworkInterface { instance_id, .. }
            | Metadata::UpdateNetworkInterface { instance_id, .. }
            | Metadata::AddOneToOneNat { instance_id }
            | Metadata::RemoveOneToOneNat { instance_id }
            | Metadata::AttachDisk { instance_id, .. }
            | Metadata::DetachDisk { instance_id, .. } => instance_id,
            Metadata::CreateDisk { disk_id } | Metadata::UpdateDisk { disk_id } | Metadata::DeleteDisk { disk_id } => disk_id,
            Metadata::CreateImage { image_id } | Metadata::UpdateImage { image_id } | Metadata::DeleteImage { image_id } => image_id,
            Metadata::CreateRouteTable { route_table_id }
            | Metadata::UpdateRouteTable { route_table_id }
            | Metadata::DeleteRouteTable { route_table_id } => route_table_id,
            Metadata::CreateGateway { gateway_id } | Metadata::UpdateGateway { gateway_id } | Metadata::DeleteGateway { gateway_id } => {
                gateway_id
            }
            Metadata::CreateNetwork { network_id } | Metadata::UpdateNetwork { network_id } | Metadata::DeleteNetwork { network_id } => {
                network_id
            }
            Metadata::CreateSubnet { subnet_id } | Metadata::UpdateSubnet { subnet_id } | Metadata::DeleteSubnet { subnet_id } => subnet_id,
            Metadata::CreateAddress { address_id } | Metadata::UpdateAddress { address_id } | Metadata::DeleteAddress { address_id } => {
                address_id
            }
            Metadata::CreateSecurityGroup { security_group_id }
            | Metadata::UpdateSecurityGroup { security_group_id, .. }
            | Metadata::DeleteSecurityGroup { security_group_id }
            | Metadata::UpdateSecurityGroupRule { security_group_id, .. } => security_group_id,
            Metadata::Move { id, .. } => id,
        }
    }

    /// The human description Yandex Cloud puts in `Operation.description`.
    pub fn description(&self) -> &'static str {
        match self {
            Metadata::CreateInstance { .. } => "Create instance",
            Metadata::UpdateInstance { .. } => "Update instance",
            Metadata::DeleteInstance { .. } => "Delete instance",
            Metadata::UpdateInstanceMetadata { .. } => "Update instance metadata",
            Metadata::StopInstance { .. } => "Stop instance",
            Metadata::StartInstance { .. } => "Start instance",
            Metadata::RestartInstance { .. } => "Restart instance",
            Metadata::AttachNetworkInterface { .. } => "Attach network interface",
            Metadata::DetachNetworkInterface { .. } => "Detach network interface",
            Metadata::UpdateNetworkInterface { .. } => "Update network interface",
            Metadata::AddOneToOneNat { .. } => "Add one-to-one NAT",
            Metadata::RemoveOneToOneNat { .. } => "Remove one-to-one NAT",
            Metadata::AttachDisk { .. } => "Attach disk",
            Metadata::DetachDisk { .. } => "Detach disk",
            Metadata::CreateDisk { .. } => "Create disk",
            Metadata::UpdateDisk { .. } => "Update disk",
            Metadata::DeleteDisk { .. } => "Delete disk",
            Metadata::CreateImage { .. } => "Create image",
            Metadata::UpdateImage { .. } => "Update image",
            Metadata::DeleteImage { .. } => "Delete image",
            Metadata::CreateRouteTable { .. } => "Create route table",
            Metadata::UpdateRouteTable { .. } => "Update route table",
            Metadata::DeleteRouteTable { .. } => "Delete route table",
            Metadata::CreateGateway { .. } => "Create gateway",
            Metadata::UpdateGateway { .. } => "Update gateway",
            Metadata::DeleteGateway { .. } => "Delete gateway",
            Metadata::CreateNetwork { .. } => "Create network",
            Metadata::UpdateNetwork { .. } => "Update network",
            Metadata::DeleteNetwork { .. } => "Delete network",
            Metadata::CreateSubnet { .. } => "Create subnet",
            Metadata::UpdateSubnet { .. } => "Update subnet",
            Metadata::DeleteSubnet { .. } => "Delete subnet",
            Metadata::CreateAddress { .. } => "Create address",
            Metadata::UpdateAddress { .. } => "Update address",
            Metadata::DeleteAddress { .. } => "Delete address",
            Metadata::CreateSecurityGroup { .. } => "Create security group",
            Metadata::UpdateSecurityGroup { .. } => "Update security group",
            Metadata::DeleteSecurityGroup { .. } => "Delete security group",
            Metadata::UpdateSecurityGroupRule { .. } => "Update security group rule",
            Metadata::Move { kind, .. } => match kind {
                Movable::Network => "Move network",
                Movable::Subnet => "Move subnet",
                Movable::Address => "Move address",
                Movable::SecurityGroup => "Move security group",
                Movable::RouteTable => "Move route table",
                Movable::Gateway => "Move gateway",
                Movable::Instance => "Move instance",
                Movable::Disk => "Move disk",
            },
        }
    }
}

/// The value a successful operation returns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Response {
    Empty,
    /// The instance as the operation left it: the very value its row holds (`TxExt::save_shared`),
    /// so a done operation keeps that version alive instead of a copy.
    Instance(std::sync::Arc<Instance>),
    Network(Network),
    Subnet(Subnet),
    /// The address and whether it is used.
    Address(Address, bool),
    SecurityGroup(SecurityGroup),
    SecurityGroupRule(Rule),
    Disk(Disk),
    Image(Image),
    RouteTable(RouteTable),
    Gateway(Gateway),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Operation {
    pub id: String,
    pub description: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub modified_at: Timestamp,
    pub done: bool,
    pub metadata: Metadata,
    /// Set exactly when `done`.
    pub result: Option<std::result::Result<Response, Error>>,
    /// The work left to do while pending; cleared when done.
    pub action: Option<Action>,
    /// When the runner completes it (`Progression::Delay`).
    pub due_at: Option<Timestamp>,
    /// How many more `Get` calls complete it (`Progression::Polls`).
    pub polls_left: Option<u32>,
    /// What a fault rule asked of it (`/_netplane/faults`). Always written (fields are stored by
    /// position: `store::layouts`); the default reads rows from before it was added.
    #[serde(default)]
    pub fault: Option<OperationFault>,
}

/// An operation's scripted fate.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OperationFault {
    /// Finish with this error instead of applying the action; what the call reserved is given back.
    Fail(Error),
    /// Stay pending while the fault rule with this id exists (or until completed by hand).
    Hold(String),
}

impl Operation {
    /// The operation as a store row. A done one's body is encoded here, from the operation as it
    /// is: every store holds a done operation encoded (the memory store too: a done operation
    /// seldom changes or is read again, and encoded it takes a fraction of the memory of the
    /// `Operation` and the resource in its response), and encoding it from a clone first copied
    /// both.
    pub fn to_row(&self) -> Result<OperationRow> {
        let body = if self.done {
            crate::store::Body::Encoded(crate::store::codec::encode(self, "operation")?)
        } else {
            crate::store::Body::value(self.clone())
        };
        Ok(OperationRow {
            id: self.id.clone(),
            resource_id: self.metadata.resource_id().to_string(),
            created_at: self.created_at.0,
            done: self.done,
            due_at: self.due_at.map(|t| t.0),
            body,
        })
    }

    pub fn from_row(row: &OperationRow) -> Result<Operation> {
        row.body.decode(|| format!("operation {}", row.id))
    }

    /// Marks the operation finished with `outcome`.
    pub fn finish(&mut self, outcome: std::result::Result<Response, Error>, now: Timestamp) {
        self.done = true;
        self.result = Some(outcome);
        self.action = None;
        self.due_at = None;
        self.polls_left = None;
        self.modified_at = now;
    }
}

/// How pending operations progress to done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progression {
    /// Done before the call that created it returns.
    Inline,
    /// Done by the runner after this delay, so clients see `done = false` first.
    Delay(Duration),
    /// Done on the n-th `OperationService.Get`.
    Polls(u32),
    /// Pending until completed or failed by hand (`/_netplane/operations/{id}:complete`).
    Manual,
}

/// When a pending operation is done: at a time (`due_at`), or after a number of polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub due_at: Option<Timestamp>,
    pub polls_left: Option<u32>,
}

impl Progression {
    /// The schedule of an operation accepted at `now`. An inline one is applied before it is
    /// stored, so it has none.
    pub fn schedule(self, now: Timestamp) -> Schedule {
        match self {
            Progression::Inline => Schedule { due_at: None, polls_left: None },
            Progression::Delay(d) => Schedule { due_at: Some(now.plus_millis(millis(d))), polls_left: None },
            Progression::Polls(n) => Schedule { due_at: None, polls_left: Some(n) },
            Progression::Manual => Schedule { due_at: None, polls_left: None },
        }
    }

    /// The schedule under this progression of an operation a previous process left pending with
    /// `before`: never later, nor more polls away, than a new one's, so none is left stuck.
    pub fn reschedule(self, now: Timestamp, before: Schedule) -> Schedule {
        match self {
            Progression::Inline => Schedule { due_at: Some(now), polls_left: None },
            Progression::Delay(d) => {
                let latest = now.plus_millis(millis(d));
                Schedule { due_at: Some(before.due_at.map_or(latest, |due| due.min(latest))), polls_left: None }
            }
            Progression::Polls(n) => Schedule { due_at: None, polls_left: Some(before.polls_left.unwrap_or(n).min(n)) },
            Progression::Manual => Schedule { due_at: None, polls_left: None },
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Default for Progression {
    fn default() -> Self {
        Progression::Delay(Duration::from_millis(50))
    }
}

impl std::str::FromStr for Progression {
    type Err = String;

    /// `inline`, `delay=<duration>` (e.g. `delay=200ms`), `polls=<n>` or `manual`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "inline" {
            return Ok(Progression::Inline);
        }
        if s == "manual" {
            return Ok(Progression::Manual);
        }
        if let Some(d) = s.strip_prefix("delay=") {
            return humantime::parse_duration(d).map(Progression::Delay).map_err(|e| format!("bad delay \"{d}\": {e}"));
        }
        if let Some(n) = s.strip_prefix("polls=") {
            return match n.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(Progression::Polls(n)),
                _ => Err(format!("polls takes a whole number of at least 1, got \"{n}\"")),
            };
        }
        Err(format!("unknown operations mode \"{s}\"; use inline, delay=<duration>, polls=<n> or manual"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progression_parses() {
        assert_eq!("inline".parse(), Ok(Progression::Inline));
        assert_eq!("delay=250ms".parse(), Ok(Progression::Delay(Duration::from_millis(250))));
        assert_eq!("polls=3".parse(), Ok(Progression::Polls(3)));
        assert_eq!("manual".parse(), Ok(Progression::Manual));
        assert_eq!(Progression::Manual.schedule(Timestamp(5)), Schedule { due_at: None, polls_left: None });
        assert!("polls=0".parse::<Progression>().is_err());
        assert!("delay=soon".parse::<Progression>().is_err());
        assert!("eventually".parse::<Progression>().is_err());
    }

    #[test]
    fn rows_round_trip() {
        let mut op = Operation {
            id: "op1".into(),
            description: "Stop instance".into(),
            created_at: Timestamp(5),
            created_by: "me".into(),
            modified_at: Timestamp(5),
            done: false,
            metadata: Metadata::StopInstance { instance_id: "fhm1".into() },
            result: None,
            action: Some(Action::Instance(InstanceAction::Stop {
                instance_id: "fhm1".into(),
                from: crate::domain::instance::Status::Running,
            })),
            due_at: Some(Timestamp(9)),
            polls_left: None,
            fault: None,
        };
        let mut row = op.to_row().unwrap();
        assert_eq!((row.resource_id.as_str(), row.done, row.due_at), ("fhm1", false, Some(9)));
        assert_eq!(Operation::from_row(&row).unwrap(), op);
        row.body = crate::store::Body::from(row.body.bytes().unwrap().into_owned());
        assert_eq!(Operation::from_row(&row).unwrap(), op, "as a persistent store reads it back");
        op.finish(Ok(Response::Empty), Timestamp(10));
        let row = op.to_row().unwrap();
        assert!(row.done);
        assert!(matches!(row.body, crate::store::Body::Encoded(_)), "a done operation is stored encoded");
        assert_eq!(row.due_at, None);
        assert_eq!(Operation::from_row(&row).unwrap().result, Some(Ok(Response::Empty)));
    }
}
