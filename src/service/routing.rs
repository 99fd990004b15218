//! Route tables and gateways: what each method checks when called and what its operation does.
//! Links are claims, so they hold under concurrency and across replicas: a subnet holds its route
//! table (`RouteTableUsers`), a route table the gateways its routes use (`GatewayUsers`); a table
//! or gateway still held cannot be deleted.

use std::collections::HashMap;

use super::RoutingArea;
use super::claims::ClaimScope;
use super::lifecycle;
use super::listing::{self, ListInFolder, list_page};
use super::paging::{ListScope, Page};
use crate::domain::gateway::{Gateway, GatewayPatch};
use crate::domain::ids::IdKind;
use crate::domain::network::Network;
use crate::domain::route_table::{RouteTable, RouteTablePatch, StaticRoute, gateway_ids};
use crate::domain::subnet::Subnet;
use crate::error::{Error, ResourceKind, Result};
use crate::ops::{Action, GatewayAction, Metadata, Operation, Response, RouteTableAction};
use crate::store::{Claim, Cursor, Kind, Query, Tx, TxExt};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRouteTable {
    pub folder_id: String,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub network_id: String,
    pub static_routes: Vec<StaticRoute>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateGateway {
    pub folder_id: String,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
}

/// Claims `gateway_id` for the route table `table` in `folder_id`: the gateway must be one of the
/// folder's.
fn use_gateway(tx: &mut dyn Tx, table: &str, folder_id: &str, gateway_id: &str) -> Result<()> {
    let gateway = lifecycle::load::<Gateway>(tx, gateway_id)?;
    if gateway.folder_id != folder_id {
        return Err(Error::not_found(ResourceKind::EgressGateway, gateway_id));
    }
    let owner = lifecycle::owner::<RouteTable>(table);
    tx.claim(&Claim::new(ClaimScope::GatewayUsers(gateway_id).stored(), table, &owner))?
        .map_err(|_| Error::Internal("gateway link held twice".into()))
}

fn release_gateway(tx: &mut dyn Tx, table: &str, gateway_id: &str) -> Result<()> {
    Ok(tx.release(&ClaimScope::GatewayUsers(gateway_id).stored(), table)?)
}

fn held(tx: &mut dyn Tx, scope: ClaimScope) -> Result<bool> {
    Ok(!tx.claims_in(&scope.stored())?.is_empty())
}

/// Links `subnet` to the route table `route_table_id` (which must be in the subnet's network).
pub(super) fn link_subnet(tx: &mut dyn Tx, subnet: &Subnet, route_table_id: &str) -> Result<()> {
    let table = lifecycle::load::<RouteTable>(tx, route_table_id)?;
    if table.network_id != subnet.network_id {
        return Err(Error::RouteTableNetworkMismatch {
            route_table_id: table.id,
            table_network: table.network_id,
            network: subnet.network_id.clone(),
        });
    }
    let owner = lifecycle::owner::<Subnet>(&subnet.id);
    tx.claim(&Claim::new(ClaimScope::RouteTableUsers(route_table_id).stored(), &subnet.id, &owner))?
        .map_err(|_| Error::Internal("route table link held twice".into()))
}

/// Undoes `link_subnet`.
pub(super) fn unlink_subnet(tx: &mut dyn Tx, subnet_id: &str, route_table_id: &str) -> Result<()> {
    if route_table_id.is_empty() {
        return Ok(());
    }
    Ok(tx.release(&ClaimScope::RouteTableUsers(route_table_id).stored(), subnet_id)?)
}

impl RoutingArea {
    pub async fn create_route_table(&self, cmd: CreateRouteTable) -> Result<Operation> {
        let id = self.ids.id(IdKind::RouteTable, "");
        self.start_operation(IdKind::VpcOperation, "", move |tx, now| {
            let network = lifecycle::load::<Network>(tx, &cmd.network_id)?;
            lifecycle::claim_own_name::<RouteTable>(tx, &id, &cmd.folder_id, &cmd.name)?;
            for gateway_id in gateway_ids(&cmd.static_routes) {
                use_gateway(tx, &id, &cmd.folder_id, gateway_id)?;
            }
            tx.create(&RouteTable {
                id: id.clone(),
                folder_id: cmd.folder_id.clone(),
                created_at: now,
                name: cmd.name.clone(),
                description: cmd.description.clone(),
                labels: cmd.labels.clone(),
                network_id: network.id,
                static_routes: cmd.static_routes.clone(),
            })?;
            Ok((
                Metadata::CreateRouteTable { route_table_id: id.clone() },
                Action::RouteTable(RouteTableAction::Create { route_table_id: id.clone() }),
            ))
        })
        .await
    }

    pub async fn get_route_table(&self, id: &str) -> Result<RouteTable> {
        let id = id.to_string();
        self.store.lookup(move |tx| lifecycle::load(tx, &id)).await
    }

    pub async fn list_route_tables(&self, cmd: ListInFolder) -> Result<Page<RouteTable>> {
        listing::folder_page(&self.store, Kind::RouteTable, cmd).await
    }

    /// NetworkService.ListRouteTables.
    pub async fn list_network_route_tables(&self, network_id: &str, page_size: usize, page_token: &str) -> Result<Page<RouteTable>> {
        let id = network_id.to_string();
        let scope = ListScope::new("network-route-tables", &[&id]);
        let after = super::paging::decode::<Cursor>(page_token, &scope)?;
        self.store
            .read(move |tx| {
                lifecycle::load::<Network>(tx, &id)?;
                list_page(tx, Query { parent_id: Some(id.clone()), ..Query::new(Kind::RouteTable) }, page_size, after.clone(), &scope)
            })
            .await
    }

    pub async fn update_route_table(&self, id: &str, patch: RouteTablePatch) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            let table = lifecycle::load::<RouteTable>(tx, &id)?;
            let mut added_gateways = Vec::new();
            if let Some(routes) = &patch.static_routes {
                let before: Vec<&str> = table.gateway_ids().collect();
                for gateway_id in gateway_ids(routes).filter(|g| !before.contains(g)) {
                    use_gateway(tx, &id, &table.folder_id, gateway_id)?;
                    added_gateways.push(gateway_id.to_string());
                }
            }
            let released_name = lifecycle::claim_rename(tx, &table, patch.name.as_ref())?;
            Ok((
                Metadata::UpdateRouteTable { route_table_id: id.clone() },
                Action::RouteTable(RouteTableAction::Update {
                    route_table_id: id.clone(),
                    patch: patch.clone(),
                    released_name,
                    added_gateways,
                }),
            ))
        })
        .await
    }

    pub async fn delete_route_table(&self, id: &str) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            lifecycle::load::<RouteTable>(tx, &id)?;
            ensure_route_table_unused(tx, &id)?;
            Ok((
                Metadata::DeleteRouteTable { route_table_id: id.clone() },
                Action::RouteTable(RouteTableAction::Delete { route_table_id: id.clone() }),
            ))
        })
        .await
    }

    pub async fn list_route_table_operations(&self, id: &str, page_size: usize, page_token: &str) -> Result<Page<Operation>> {
        self.resource_operations::<RouteTable>(ResourceKind::RouteTable, id, page_size, page_token).await
    }

    pub async fn create_gateway(&self, cmd: CreateGateway) -> Result<Operation> {
        let id = self.ids.id(IdKind::Gateway, "");
        self.start_operation(IdKind::VpcOperation, "", move |tx, now| {
            lifecycle::claim_own_name::<Gateway>(tx, &id, &cmd.folder_id, &cmd.name)?;
            tx.create(&Gateway {
                id: id.clone(),
                folder_id: cmd.folder_id.clone(),
                created_at: now,
                name: cmd.name.clone(),
                description: cmd.description.clone(),
                labels: cmd.labels.clone(),
            })?;
            Ok((Metadata::CreateGateway { gateway_id: id.clone() }, Action::Gateway(GatewayAction::Create { gateway_id: id.clone() })))
        })
        .await
    }

    pub async fn get_gateway(&self, id: &str) -> Result<Gateway> {
        let id = id.to_string();
        self.store.lookup(move |tx| lifecycle::load(tx, &id)).await
    }

    pub async fn list_gateways(&self, cmd: ListInFolder) -> Result<Page<Gateway>> {
        listing::folder_page(&self.store, Kind::Gateway, cmd).await
    }

    pub async fn update_gateway(&self, id: &str, patch: GatewayPatch) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            let gateway = lifecycle::load::<Gateway>(tx, &id)?;
            let released_name = lifecycle::claim_rename(tx, &gateway, patch.name.as_ref())?;
            Ok((
                Metadata::UpdateGateway { gateway_id: id.clone() },
                Action::Gateway(GatewayAction::Update { gateway_id: id.clone(), patch: patch.clone(), released_name }),
            ))
        })
        .await
    }

    pub async fn delete_gateway(&self, id: &str) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            lifecycle::load::<Gateway>(tx, &id)?;
            ensure_gateway_unused(tx, &id)?;
            Ok((Metadata::DeleteGateway { gateway_id: id.clone() }, Action::Gateway(GatewayAction::Delete { gateway_id: id.clone() })))
        })
        .await
    }

    pub async fn list_gateway_operations(&self, id: &str, page_size: usize, page_token: &str) -> Result<Page<Operation>> {
        self.resource_operations::<Gateway>(ResourceKind::EgressGateway, id, page_size, page_token).await
    }
}

fn ensure_route_table_unused(tx: &mut dyn Tx, id: &str) -> Result<()> {
    if held(tx, ClaimScope::RouteTableUsers(id))? {
        return Err(Error::RouteTableInUse(id.to_string()));
    }
    Ok(())
}

fn ensure_gateway_unused(tx: &mut dyn Tx, id: &str) -> Result<()> {
    if held(tx, ClaimScope::GatewayUsers(id))? {
        return Err(Error::GatewayInUse(id.to_string()));
    }
    Ok(())
}

pub(super) fn apply_route_table(tx: &mut dyn Tx, action: &RouteTableAction) -> Result<Response> {
    let table = match action {
        RouteTableAction::Create { route_table_id } => lifecycle::load::<RouteTable>(tx, route_table_id)?,
        RouteTableAction::Update { route_table_id, patch, released_name, .. } => {
            let before: Vec<String> = lifecycle::load::<RouteTable>(tx, route_table_id)?.gateway_ids().map(String::from).collect();
            let table = lifecycle::finish_update(tx, route_table_id, released_name, |t: &mut RouteTable| t.apply(patch))?;
            let after: Vec<&str> = table.gateway_ids().collect();
            for gone in before.iter().filter(|g| !after.contains(&g.as_str())) {
                release_gateway(tx, route_table_id, gone)?;
            }
            tx.save(&table)?;
            table
        }
        RouteTableAction::Delete { route_table_id } => {
            ensure_route_table_unused(tx, route_table_id)?;
            lifecycle::remove::<RouteTable>(tx, route_table_id)?;
            return Ok(Response::Empty);
        }
    };
    Ok(Response::RouteTable(table))
}

pub(super) fn undo_route_table(tx: &mut dyn Tx, action: &RouteTableAction) -> Result<()> {
    match action {
        RouteTableAction::Create { route_table_id } => lifecycle::remove::<RouteTable>(tx, route_table_id),
        RouteTableAction::Update { route_table_id, patch, released_name, added_gateways } => {
            for gateway_id in added_gateways {
                release_gateway(tx, route_table_id, gateway_id)?;
            }
            lifecycle::undo_rename::<RouteTable>(tx, route_table_id, patch.name.as_ref(), released_name)
        }
        RouteTableAction::Delete { .. } => Ok(()),
    }
}

pub(super) fn apply_gateway(tx: &mut dyn Tx, action: &GatewayAction) -> Result<Response> {
    let gateway = match action {
        GatewayAction::Create { gateway_id } => lifecycle::load::<Gateway>(tx, gateway_id)?,
        GatewayAction::Update { gateway_id, patch, released_name } => {
            let g = lifecycle::finish_update(tx, gateway_id, released_name, |g: &mut Gateway| g.apply(patch))?;
            tx.save(&g)?;
            g
        }
        GatewayAction::Delete { gateway_id } => {
            ensure_gateway_unused(tx, gateway_id)?;
            lifecycle::remove::<Gateway>(tx, gateway_id)?;
            return Ok(Response::Empty);
        }
    };
    Ok(Response::Gateway(gateway))
}

pub(super) fn undo_gateway(tx: &mut dyn Tx, action: &GatewayAction) -> Result<()> {
    match action {
        GatewayAction::Create { gateway_id } => lifecycle::remove::<Gateway>(tx, gateway_id),
        GatewayAction::Update { gateway_id, patch, released_name } => {
            lifecycle::undo_rename::<Gateway>(tx, gateway_id, patch.name.as_ref(), released_name)
        }
        GatewayAction::Delete { .. } => Ok(()),
    }
}
