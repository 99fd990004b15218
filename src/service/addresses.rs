//! VPC addresses: reserving external addresses from the public pool, and handing a reserved one to
//! exactly one one-to-one NAT at a time.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::AddressArea;
use super::claims::{self, ADDRESS, ClaimScope};
use super::lifecycle;
use super::listing::{ListInFolder, cursor};
use super::paging::{self, ListScope, Page};
use super::plumbing;
use crate::domain::address::{Address, AddressPatch};
use crate::domain::filter::Order;
use crate::domain::ids::IdKind;
use crate::domain::instance::DnsRecord;
use crate::error::{Error, ResourceKind, Result};
use crate::ops::{Action, AddressAction, Metadata, Operation, Response};
use crate::service::caller::Caller;
use crate::store::{Claim, Cursor, Kind, Query, Resource, Tx, TxExt};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateAddress {
    pub folder_id: String,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    /// External addresses: their zone. Internal ones take their subnet's.
    pub zone_id: String,
    /// `None`: any free address of the pool (external) or of the subnet (internal).
    pub address: Option<Ipv4Addr>,
    /// An internal address's subnet; empty for an external address.
    pub subnet_id: String,
    pub ddos_protection_provider: String,
    pub outgoing_smtp_capability: String,
    pub deletion_protection: bool,
    pub dns_records: Vec<DnsRecord>,
}

fn owner(id: &str) -> String {
    lifecycle::owner::<Address>(id)
}

fn load(tx: &mut dyn Tx, id: &str) -> Result<Address> {
    lifecycle::load(tx, id)
}

/// Whether an instance's one-to-one NAT uses the address.
pub fn is_used(tx: &mut dyn Tx, id: &str) -> Result<bool> {
    Ok(tx.holder(&ClaimScope::AddressUser(id).stored(), claims::ADDRESS_USER_KEY)?.is_some())
}

fn view(tx: &mut dyn Tx, a: Address) -> Result<(Address, bool)> {
    let used = is_used(tx, &a.id)?;
    Ok((a, used))
}

/// Reserves `requested` of the public pool, or any free address of it, for `owner`.
fn reserve_external(tx: &mut dyn Tx, pool: ipnet::Ipv4Net, requested: Option<Ipv4Addr>, owner: &str) -> Result<Ipv4Addr> {
    let Some(ip) = requested else { return plumbing::allocate_public(tx, pool, owner) };
    // One answer for an address outside the pool and one held by anyone, in any folder: telling
    // them apart would show which addresses other folders hold.
    let unavailable = || {
        Error::invalid(
            "external_ipv4_address_spec.address",
            format!("{ip} is not available: it is outside the public address pool {pool} or already reserved"),
        )
    };
    if !pool.contains(&ip) || tx.claim(&Claim::new(ClaimScope::PublicIps.stored(), ip.to_string(), owner))?.is_err() {
        return Err(unavailable());
    }
    Ok(ip)
}

impl AddressArea {
    pub async fn create_address(&self, cmd: CreateAddress) -> Result<Operation> {
        let id = self.ids.id(IdKind::Address, &cmd.zone_id);
        let pool = self.settings.public_pool;
        self.start_operation(IdKind::VpcOperation, "", move |tx, now| {
            let owner = owner(&id);
            lifecycle::claim_own_name::<Address>(tx, &id, &cmd.folder_id, &cmd.name)?;
            let (ip, zone_id) = if cmd.subnet_id.is_empty() {
                (reserve_external(tx, pool, cmd.address, &owner)?, cmd.zone_id.clone())
            } else {
                let subnet = plumbing::visible_subnet(tx, &cmd.subnet_id, &cmd.folder_id)?;
                let ip = plumbing::allocate_internal(tx, &subnet, cmd.address, &owner, "internal_ipv4_address_spec.address")?;
                (ip, subnet.zone_id)
            };
            tx.create(&Address {
                id: id.clone(),
                folder_id: cmd.folder_id.clone(),
                created_at: now,
                name: cmd.name.clone(),
                description: cmd.description.clone(),
                labels: cmd.labels.clone(),
                address: ip.to_string(),
                zone_id,
                ddos_protection_provider: cmd.ddos_protection_provider.clone(),
                outgoing_smtp_capability: cmd.outgoing_smtp_capability.clone(),
                reserved: true,
                deletion_protection: cmd.deletion_protection,
                dns_records: cmd.dns_records.clone(),
                subnet_id: cmd.subnet_id.clone(),
            })?;
            Ok((Metadata::CreateAddress { address_id: id.clone() }, Action::Address(AddressAction::Create { address_id: id.clone() })))
        })
        .await
    }

    pub async fn get_address(&self, id: &str) -> Result<(Address, bool)> {
        let id = id.to_string();
        self.store
            .read(move |tx| {
                let a = load(tx, &id)?;
                view(tx, a)
            })
            .await
    }

    /// The address with this value, among the folders the caller may use (a lookup by value names
    /// no folder the guard could check): external with `subnet_id` `None`, internal in that subnet.
    pub async fn get_address_by_value(&self, ip: Ipv4Addr, subnet_id: Option<String>) -> Result<(Address, bool)> {
        let folders = Caller::current().folders;
        self.store
            .read(move |tx| {
                let not_found = || Error::not_found(ResourceKind::Address, ip.to_string());
                let scope = match &subnet_id {
                    Some(subnet_id) => ClaimScope::SubnetIps(subnet_id).stored(),
                    None => ClaimScope::PublicIps.stored(),
                };
                let holder = tx.holder(&scope, &ip.to_string())?;
                let id = holder.as_deref().map(claims::parse_owner).filter(|(k, _)| *k == ADDRESS).map(|(_, id)| id.to_string());
                let a = load(tx, &id.ok_or_else(not_found)?)?;
                if !folders.allows(&a.folder_id) {
                    return Err(not_found());
                }
                view(tx, a)
            })
            .await
    }

    /// The internal addresses reserved in a subnet.
    pub async fn list_addresses_by_subnet(&self, subnet_id: &str, page_size: usize, page_token: &str) -> Result<Page<(Address, bool)>> {
        let subnet_id = subnet_id.to_string();
        let scope = ListScope::new("addresses-by-subnet", &[&subnet_id]);
        let after = paging::decode::<Cursor>(page_token, &scope)?;
        self.store
            .read(move |tx| {
                lifecycle::load::<crate::domain::subnet::Subnet>(tx, &subnet_id)?;
                let query = Query { parent_id: Some(subnet_id.clone()), ..Query::new(Kind::Address) };
                let page: Page<Address> = super::listing::list_page(tx, query, page_size, after.clone(), &scope)?;
                let items = page.items.into_iter().map(|a| view(tx, a)).collect::<Result<_>>()?;
                Ok(Page { items, next_page_token: page.next_page_token })
            })
            .await
    }

    pub async fn list_addresses(&self, cmd: ListInFolder) -> Result<Page<(Address, bool)>> {
        let scope = ListScope::new("addresses", &[&cmd.folder_id, &format!("{:?}", cmd.conditions)]);
        let after = paging::decode::<Cursor>(&cmd.page_token, &scope)?;
        self.store
            .read(move |tx| {
                let query = Query {
                    folder_id: Some(cmd.folder_id.clone()),
                    conditions: cmd.conditions.clone(),
                    after: after.clone(),
                    limit: cmd.page_size + 1,
                    ..Query::new(Kind::Address)
                };
                let rows = tx.list(&query)?;
                let page = paging::page(rows, cmd.page_size, &scope, cursor(Order::default()), |r| Address::from_record(&r))?;
                let items = page.items.into_iter().map(|a| view(tx, a)).collect::<Result<_>>()?;
                Ok(Page { items, next_page_token: page.next_page_token })
            })
            .await
    }

    pub async fn update_address(&self, id: &str, patch: AddressPatch) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            let address = load(tx, &id)?;
            let released_name = lifecycle::claim_rename(tx, &address, patch.name.as_ref())?;
            Ok((
                Metadata::UpdateAddress { address_id: id.clone() },
                Action::Address(AddressAction::Update { address_id: id.clone(), patch: patch.clone(), released_name }),
            ))
        })
        .await
    }

    pub async fn delete_address(&self, id: &str) -> Result<Operation> {
        let id = id.to_string();
        self.start_operation(IdKind::VpcOperation, "", move |tx, _| {
            let a = load(tx, &id)?;
            ensure_deletable(tx, &a)?;
            Ok((Metadata::DeleteAddress { address_id: id.clone() }, Action::Address(AddressAction::Delete { address_id: id.clone() })))
        })
        .await
    }

    pub async fn list_address_operations(&self, id: &str, page_size: usize, page_token: &str) -> Result<Page<Operation>> {
        self.resource_operations::<Address>(ResourceKind::Address, id, page_size, page_token).await
    }
}

fn ensure_deletable(tx: &mut dyn Tx, a: &Address) -> Result<()> {
    if a.deletion_protection {
        return Err(Error::DeletionProtected { kind: ResourceKind::Address, id: a.id.clone() });
    }
    if is_used(tx, &a.id)? {
        return Err(Error::AddressInUseByInstance(a.id.clone()));
    }
    Ok(())
}

pub(super) fn apply(tx: &mut dyn Tx, action: &AddressAction) -> Result<Response> {
    let address = match action {
        AddressAction::Create { address_id } => load(tx, address_id)?,
        AddressAction::Update { address_id, patch, released_name } => {
            let a = lifecycle::finish_update(tx, address_id, released_name, |a: &mut Address| a.apply(patch))?;
            tx.save(&a)?;
            a
        }
        AddressAction::Delete { address_id } => {
            let a = load(tx, address_id)?;
            ensure_deletable(tx, &a)?;
            lifecycle::remove::<Address>(tx, address_id)?;
            return Ok(Response::Empty);
        }
    };
    let (a, used) = view(tx, address)?;
    Ok(Response::Address(a, used))
}

pub(super) fn undo(tx: &mut dyn Tx, action: &AddressAction) -> Result<()> {
    match action {
        AddressAction::Create { address_id } => lifecycle::remove::<Address>(tx, address_id),
        AddressAction::Update { address_id, patch, released_name } => {
            lifecycle::undo_rename::<Address>(tx, address_id, patch.name.as_ref(), released_name)
        }
        AddressAction::Delete { .. } => Ok(()),
    }
}
