//! The runner's view of the services: dispatches an action to the module that owns it. The match
//! names every variant, so an action added without a home does not compile.

use ipnet::Ipv4Net;

use super::{addresses, compute, interfaces, security_groups, vpc};
use crate::domain::clock::Timestamp;
use crate::error::Result;
use crate::ops::{Action, Executor, Response};
use crate::store::Tx;

pub struct ServiceExecutor {
    pub public_pool: Ipv4Net,
}

impl Executor for ServiceExecutor {
    fn apply(&self, tx: &mut dyn Tx, action: &Action, _now: Timestamp) -> Result<Response> {
        match Owner::of(action) {
            Owner::Interfaces => interfaces::apply(tx, action),
            Owner::Compute => compute::apply(tx, self.public_pool, action),
            Owner::Addresses => addresses::apply(tx, action),
            Owner::SecurityGroups => security_groups::apply(tx, action),
            Owner::Vpc => vpc::apply(tx, action),
        }
    }

    fn undo(&self, tx: &mut dyn Tx, action: &Action, _now: Timestamp) -> Result<()> {
        match Owner::of(action) {
            Owner::Interfaces => interfaces::undo(tx, action),
            Owner::Compute => compute::undo(tx, action),
            Owner::Addresses => addresses::undo(tx, action),
            Owner::SecurityGroups => security_groups::undo(tx, action),
            Owner::Vpc => vpc::undo(tx, action),
        }
    }
}

/// The service module that applies and undoes an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Interfaces,
    Compute,
    Addresses,
    SecurityGroups,
    Vpc,
}

impl Owner {
    fn of(action: &Action) -> Owner {
        match action {
            Action::ChangeInterface { .. } => Owner::Interfaces,
            Action::CreateInstance { .. }
            | Action::UpdateInstance { .. }
            | Action::UpdateInstanceMetadata { .. }
            | Action::DeleteInstance { .. }
            | Action::Stop { .. }
            | Action::Start { .. }
            | Action::Restart { .. } => Owner::Compute,
            Action::CreateNetwork { .. }
            | Action::UpdateNetwork { .. }
            | Action::DeleteNetwork { .. }
            | Action::CreateSubnet { .. }
            | Action::UpdateSubnet { .. }
            | Action::DeleteSubnet { .. } => Owner::Vpc,
            Action::CreateAddress { .. } | Action::UpdateAddress { .. } | Action::DeleteAddress { .. } => Owner::Addresses,
            Action::CreateSecurityGroup { .. } | Action::UpdateSecurityGroup { .. } | Action::DeleteSecurityGroup { .. } => {
                Owner::SecurityGroups
            }
        }
    }
}
