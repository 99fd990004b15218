//! `Move` for every Yandex resource kind that has one: to another folder the caller may use (the
//! guard checks `destination_folder_id`), its name claimed there when the call is accepted. A
//! network takes its subnets and its default security group along.

use super::Core;
use super::addresses;
use super::lifecycle;
use crate::domain::{
    address::Address, disk::Disk, gateway::Gateway, ids::IdKind, instance::Instance, network::Network, route_table::RouteTable,
    security_group::SecurityGroup, subnet::Subnet,
};
use crate::error::Result;
use crate::ops::{Action, Metadata, Movable, MoveAction, Operation, Response};
use crate::store::{Kind, Query, Tx, TxExt};

/// Runs `$body` with `$t` the domain type of `$kind`.
macro_rules! with_type {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            Movable::Network => {
                type $t = Network;
                $body
            }
            Movable::Subnet => {
                type $t = Subnet;
                $body
            }
            Movable::Address => {
                type $t = Address;
                $body
            }
            Movable::SecurityGroup => {
                type $t = SecurityGroup;
                $body
            }
            Movable::RouteTable => {
                type $t = RouteTable;
                $body
            }
            Movable::Gateway => {
                type $t = Gateway;
                $body
            }
            Movable::Instance => {
                type $t = Instance;
                $body
            }
            Movable::Disk => {
                type $t = Disk;
                $body
            }
        }
    };
}

/// The resources that move with `kind` `id`: a network's subnets and default security group.
fn along(tx: &mut dyn Tx, kind: Movable, id: &str) -> Result<Vec<(Movable, String)>> {
    if kind != Movable::Network {
        return Ok(vec![]);
    }
    let mut moved = Vec::new();
    let subnets: Vec<Subnet> = tx.find(&Query { parent_id: Some(id.to_string()), limit: usize::MAX, ..Query::new(Kind::Subnet) })?;
    moved.extend(subnets.into_iter().map(|s| (Movable::Subnet, s.id)));
    let network = lifecycle::load::<Network>(tx, id)?;
    if !network.default_security_group_id.is_empty() {
        moved.push((Movable::SecurityGroup, network.default_security_group_id));
    }
    Ok(moved)
}

impl Core {
    /// Moves `kind` `id` to `destination`.
    pub async fn move_resource(&self, kind: Movable, id: &str, destination: &str) -> Result<Operation> {
        let (id, destination) = (id.to_string(), destination.to_string());
        let operation_kind =
            if matches!(kind, Movable::Instance | Movable::Disk) { IdKind::ComputeOperation } else { IdKind::VpcOperation };
        self.start_operation(operation_kind, "", move |tx, _| {
            let source = with_type!(kind, T => lifecycle::claim_destination::<T>(tx, &id, &destination))?;
            let along = along(tx, kind, &id)?;
            for (kind, id) in &along {
                with_type!(*kind, T => lifecycle::claim_destination::<T>(tx, id, &destination))?;
            }
            Ok((
                Metadata::Move { kind, id: id.clone(), source_folder_id: source.clone(), destination_folder_id: destination.clone() },
                Action::Move(MoveAction::Move {
                    kind,
                    id: id.clone(),
                    source_folder_id: source,
                    destination_folder_id: destination.clone(),
                    along,
                }),
            ))
        })
        .await
    }
}

pub(super) fn apply(tx: &mut dyn Tx, action: &MoveAction) -> Result<Response> {
    let MoveAction::Move { kind, id, destination_folder_id, along, .. } = action;
    for (kind, id) in along {
        with_type!(*kind, T => lifecycle::finish_move::<T>(tx, id, destination_folder_id).map(drop))?;
    }
    Ok(match kind {
        Movable::Network => Response::Network(lifecycle::finish_move(tx, id, destination_folder_id)?),
        Movable::Subnet => Response::Subnet(lifecycle::finish_move(tx, id, destination_folder_id)?),
        Movable::Address => {
            let a: Address = lifecycle::finish_move(tx, id, destination_folder_id)?;
            let used = addresses::is_used(tx, &a.id)?;
            Response::Address(a, used)
        }
        Movable::SecurityGroup => Response::SecurityGroup(lifecycle::finish_move(tx, id, destination_folder_id)?),
        Movable::RouteTable => Response::RouteTable(lifecycle::finish_move(tx, id, destination_folder_id)?),
        Movable::Gateway => Response::Gateway(lifecycle::finish_move(tx, id, destination_folder_id)?),
        Movable::Instance => {
            let i: Instance = lifecycle::finish_move(tx, id, destination_folder_id)?;
            Response::Instance(tx.save_shared(i)?)
        }
        Movable::Disk => Response::Disk(lifecycle::finish_move(tx, id, destination_folder_id)?),
    })
}

pub(super) fn undo(tx: &mut dyn Tx, action: &MoveAction) -> Result<()> {
    let MoveAction::Move { kind, id, destination_folder_id, along, .. } = action;
    for (kind, id) in along.iter().chain(std::iter::once(&(*kind, id.clone()))) {
        with_type!(*kind, T => lifecycle::undo_move::<T>(tx, id, destination_folder_id))?;
    }
    Ok(())
}
