//! Network plumbing shared by every use case that gives an instance an interface: subnet
//! visibility, internal and public address allocation through claims, and giving them back.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::claims::{self, ClaimScope, INSTANCE};
use super::interface_claims;
use crate::domain::ids::IdGenerator;
use crate::domain::instance::{DnsRecord, Instance, NetworkInterface, OneToOneNat, PrimaryAddress};
use crate::domain::ipam;
use crate::domain::subnet::Subnet;
use crate::error::{Error, FieldViolation, ResourceKind, Result};
use crate::ops::Response;
use crate::store::{Claim, Tx, TxExt};

/// A requested network interface, already checked field by field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceSpec {
    /// Empty: the lowest free index.
    pub index: String,
    pub subnet_id: String,
    /// `None`: the subnet allocates one.
    pub address: Option<Ipv4Addr>,
    pub nat: Option<NatSpec>,
    pub dns_records: Vec<DnsRecord>,
    pub security_group_ids: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatSpec {
    /// `None`: an ephemeral address from the public pool.
    pub address: Option<Ipv4Addr>,
    pub dns_records: Vec<DnsRecord>,
}

/// The subnet, if it exists and the caller's folder may use it.
pub fn visible_subnet(tx: &mut dyn Tx, subnet_id: &str, folder_id: &str) -> Result<Subnet> {
    tx.load::<Subnet>(subnet_id)?.filter(|s| s.folder_id == folder_id).ok_or_else(|| Error::not_found(ResourceKind::Subnet, subnet_id))
}

fn take(tx: &mut dyn Tx, scope: &str, address: &str, owner: &str) -> Result<bool> {
    Ok(tx.claim(&Claim::new(scope, address, owner))?.is_ok())
}

/// Every address below an address scope's low-water mark is taken, so the search for the lowest
/// free one starts there instead of reading every address in use. Allocations raise the mark;
/// releases below it (through `release_claim`) lower it.
fn lowest_free(tx: &mut dyn Tx, scope: &str, blocks: &[Ipv4Net]) -> Result<Option<Ipv4Addr>> {
    let mark_scope = claims::low_water_mark(scope);
    let mark = low_water_mark(tx, &mark_scope)?;
    let mut key = String::with_capacity(15);
    let found = ipam::first_free(blocks, mark, |a| {
        key.clear();
        ipam::push_text(&mut key, a);
        Ok::<_, Error>(tx.is_held(scope, &key)?)
    })?;
    if let Some(address) = found {
        set_mark(tx, &mark_scope, address)?;
    }
    Ok(found)
}

fn low_water_mark(tx: &mut dyn Tx, mark_scope: &str) -> Result<Option<Ipv4Addr>> {
    Ok(tx.claim_at(mark_scope, "")?.and_then(|mark| mark.detail.parse::<Ipv4Addr>().ok()))
}

fn set_mark(tx: &mut dyn Tx, mark_scope: &str, address: Ipv4Addr) -> Result<()> {
    Ok(tx.put_claim(&Claim::new(mark_scope, "", claims::ALLOCATOR).with_detail(ipam::text(address)))?)
}

/// Releases one claim; an address given back below its scope's low-water mark lowers the mark,
/// so it is handed out again first.
pub fn release_claim(tx: &mut dyn Tx, scope: &str, key: &str) -> Result<()> {
    tx.release(scope, key)?;
    if claims::is_address_scope(scope)
        && let Ok(address) = key.parse::<Ipv4Addr>()
    {
        let mark_scope = claims::low_water_mark(scope);
        let mark = low_water_mark(tx, &mark_scope)?;
        if mark.is_some_and(|m| address < m) {
            set_mark(tx, &mark_scope, address)?;
        }
    }
    Ok(())
}

/// Takes `requested` in the subnet, or the lowest free address. `field` names the request field
/// for errors about an explicit address.
pub fn allocate_internal(tx: &mut dyn Tx, subnet: &Subnet, requested: Option<Ipv4Addr>, owner: &str, field: &str) -> Result<Ipv4Addr> {
    allocate_in_subnet(tx, &subnet.id, &subnet.v4_cidr_blocks, requested, owner, field)
}

/// Takes `requested` among a subnet's `blocks`, or the lowest free address, for `owner`. Every
/// subnet (Yandex VPC or Huawei VPC) hands out addresses through this one function and the claims
/// of `claims::subnet_ips`, so an address is never given twice.
pub fn allocate_in_subnet(
    tx: &mut dyn Tx,
    subnet_id: &str,
    blocks: &[Ipv4Net],
    requested: Option<Ipv4Addr>,
    owner: &str,
    field: &str,
) -> Result<Ipv4Addr> {
    let scope = ClaimScope::SubnetIps(subnet_id).stored();
    let address = match requested {
        Some(address) => {
            ipam::check_requested(blocks, address)
                .map_err(|refusal| Error::UnusableAddress(vec![FieldViolation::new(field, refusal.describe(address, blocks))]))?;
            address
        }
        None => lowest_free(tx, &scope, blocks)?.ok_or_else(|| Error::SubnetExhausted(subnet_id.to_string()))?,
    };
    // Any holder, the caller included, means the address is taken: one address, one interface.
    let text = ipam::text(address);
    if tx.is_held(&scope, &text)? || !take(tx, &scope, &text, owner)? {
        return Err(Error::AddressInUse { address: text, subnet_id: subnet_id.to_string() });
    }
    Ok(address)
}

/// Takes the lowest free address of the public pool for one-to-one NAT.
pub fn allocate_public(tx: &mut dyn Tx, pool: Ipv4Net, owner: &str) -> Result<Ipv4Addr> {
    let address = lowest_free(tx, &ClaimScope::PublicIps.stored(), &[pool])?
        .ok_or_else(|| Error::Unavailable("the public address pool is exhausted".into()))?;
    if !take(tx, &ClaimScope::PublicIps.stored(), &ipam::text(address), owner)? {
        return Err(Error::Internal(format!("public address {address} was taken concurrently")));
    }
    Ok(address)
}

/// Adds interface `spec` to `instance`, allocating everything it needs. `field` is the request
/// path of the spec, for errors.
pub fn add_interface(
    tx: &mut dyn Tx,
    ids: &dyn IdGenerator,
    public_pool: Ipv4Net,
    instance: &mut Instance,
    spec: &InterfaceSpec,
    field: &str,
) -> Result<()> {
    let nic = new_interface(tx, ids, public_pool, instance, spec, field)?;
    instance.attach_interface(nic)
}

/// The interface `spec` describes for `instance`, with everything it needs allocated and claimed
/// (the instance itself is left as it is). `field` is the request path of the spec, for errors.
pub fn new_interface(
    tx: &mut dyn Tx,
    ids: &dyn IdGenerator,
    public_pool: Ipv4Net,
    instance: &Instance,
    spec: &InterfaceSpec,
    field: &str,
) -> Result<NetworkInterface> {
    let owner = claims::owner(INSTANCE, &instance.id);
    let index = if spec.index.is_empty() { instance.next_interface_index() } else { spec.index.clone() };
    instance.check_index_free(&index)?;
    if tx.claim(&Claim::new(ClaimScope::InstanceNics(&instance.id).stored(), &index, &owner))?.is_err() {
        return Err(Error::InterfaceIndexInUse { index, instance_id: instance.id.clone() });
    }
    let subnet = visible_subnet(tx, &spec.subnet_id, &instance.folder_id)?;
    instance.check_subnet_zone(&subnet)?;
    // An address reserved as an internal Address of the folder is taken through that Address.
    let reserved = match spec.address {
        Some(ip) => interface_claims::reserved_internal(tx, instance, &subnet.id, ip)?,
        None => None,
    };
    let (address, address_id) = match reserved {
        Some(a) => {
            if let Some(user) = tx.holder(&ClaimScope::AddressUser(&a.id).stored(), claims::ADDRESS_USER_KEY)? {
                return Err(Error::AddressTaken { address: a.address.clone(), user });
            }
            (a.address.parse::<Ipv4Addr>().map_err(|e| Error::Internal(format!("address {}: {e}", a.id)))?, a.id)
        }
        None => (allocate_internal(tx, &subnet, spec.address, &owner, &path(field, "primary_v4_address_spec.address"))?, String::new()),
    };
    // A new instance (PROVISIONING) gets its ephemeral address now; a stopped one when it starts.
    let running = instance.status != crate::domain::instance::Status::Stopped;
    let one_to_one_nat = match &spec.nat {
        None => None,
        Some(nat) => Some(new_nat(tx, public_pool, instance, running, nat)?),
    };
    let nic = NetworkInterface {
        index,
        mac_address: unique_mac(tx, ids, &owner)?,
        subnet_id: subnet.id,
        primary_v4_address: Some(PrimaryAddress {
            address: ipam::text(address),
            address_id,
            one_to_one_nat,
            dns_records: spec.dns_records.clone(),
        }),
        security_group_ids: spec.security_group_ids.clone(),
    };
    interface_claims::check_security_groups(tx, &instance.folder_id, &nic)?;
    interface_claims::claim_all(tx, &interface_claims::interface_claims(&instance.id, &nic), &owner)?;
    Ok(nic)
}

/// A MAC address no other interface has; random, so a clash is rare and simply retried.
fn unique_mac(tx: &mut dyn Tx, ids: &dyn IdGenerator, owner: &str) -> Result<String> {
    for _ in 0..16 {
        let mac = ids.mac_address();
        if tx.holder(&ClaimScope::Macs.stored(), &mac)?.is_none() && tx.claim(&Claim::new(ClaimScope::Macs.stored(), &mac, owner))?.is_ok()
        {
            return Ok(mac);
        }
    }
    Err(Error::Unavailable("could not find a free MAC address".into()))
}

/// `field.rest`, or `rest` at the top level.
fn path(field: &str, rest: &str) -> String {
    if field.is_empty() { rest.to_string() } else { format!("{field}.{rest}") }
}

/// A one-to-one NAT for `spec`, claiming its address: a reserved static VPC address, or an
/// ephemeral one from the pool (left empty on a stopped instance, which gets one when it starts).
pub fn new_nat(tx: &mut dyn Tx, pool: Ipv4Net, instance: &Instance, running: bool, spec: &NatSpec) -> Result<OneToOneNat> {
    let owner = claims::owner(INSTANCE, &instance.id);
    if let Some(address) = spec.address {
        let address_id = interface_claims::take_static(tx, instance, address, &owner)?;
        return Ok(OneToOneNat { address: ipam::text(address), ephemeral: false, address_id, dns_records: spec.dns_records.clone() });
    }
    let address = if running { ipam::text(allocate_public(tx, pool, &owner)?) } else { String::new() };
    Ok(OneToOneNat { address, ephemeral: true, address_id: String::new(), dns_records: spec.dns_records.clone() })
}

/// Gives back every claim an owner holds (its addresses, interface indexes and name).
pub fn release_all(tx: &mut dyn Tx, owner: &str) -> Result<()> {
    for c in tx.claims_of(owner)? {
        release_claim(tx, &c.scope, &c.key)?;
    }
    Ok(())
}

/// Stop: ephemeral public addresses go back to the pool; the NAT stays configured, addressless.
pub fn release_ephemeral_nat(tx: &mut dyn Tx, instance: &mut Instance) -> Result<()> {
    for nic in &mut instance.network_interfaces {
        if let Some(nat) = nic.primary_v4_address.as_mut().and_then(|p| p.one_to_one_nat.as_mut()).filter(|n| n.ephemeral) {
            if !nat.address.is_empty() {
                release_claim(tx, &ClaimScope::PublicIps.stored(), &nat.address)?;
                nat.address.clear();
            }
        }
    }
    Ok(())
}

/// Start: every configured ephemeral NAT without an address gets a new one.
pub fn assign_ephemeral_nat(tx: &mut dyn Tx, public_pool: Ipv4Net, instance: &mut Instance) -> Result<()> {
    let owner = claims::owner(INSTANCE, &instance.id);
    for nic in &mut instance.network_interfaces {
        if let Some(nat) = nic.primary_v4_address.as_mut().and_then(|p| p.one_to_one_nat.as_mut()).filter(|n| n.ephemeral) {
            if nat.address.is_empty() {
                nat.address = ipam::text(allocate_public(tx, public_pool, &owner)?);
            }
        }
    }
    Ok(())
}

/// Saves the instance an action finished and answers it (the same value, not a copy).
pub fn saved(tx: &mut dyn Tx, instance: Instance) -> Result<Response> {
    Ok(Response::Instance(tx.save_shared(instance)?))
}
