//! What a network interface holds, and the checks on what it names: the claims an interface
//! keeps (its index, MAC, internal address, security group uses, NAT address), the security groups
//! it may use, and a reserved address taken as its static one-to-one NAT.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use super::claims::{self, ADDRESS, ClaimScope};
use crate::domain::address::Address;
use crate::domain::instance::{Instance, NetworkInterface};
use crate::domain::security_group::SecurityGroup;
use crate::domain::subnet::Subnet;
use crate::error::{Error, ResourceKind, Result};
use crate::ops::ClaimKey;
use crate::store::{Claim, Tx, TxExt};

/// What an interface holds in the claims table.
pub fn interface_claims(instance_id: &str, nic: &NetworkInterface) -> BTreeSet<ClaimKey> {
    let mut held = BTreeSet::from([
        (ClaimScope::InstanceNics(instance_id).stored(), nic.index.clone()),
        (ClaimScope::Macs.stored(), nic.mac_address.clone()),
    ]);
    if let Some(p) = &nic.primary_v4_address {
        if p.address_id.is_empty() {
            held.insert((ClaimScope::SubnetIps(&nic.subnet_id).stored(), p.address.clone()));
        } else {
            // The internal Address holds the address; the interface holds the Address.
            held.insert((ClaimScope::AddressUser(&p.address_id).stored(), claims::ADDRESS_USER_KEY.to_string()));
        }
    }
    for group in &nic.security_group_ids {
        held.insert((ClaimScope::SecurityGroupUsers(group).stored(), [instance_id, "/", &nic.index].concat()));
    }
    if let Some(nat) = nic.nat() {
        if !nat.address_id.is_empty() {
            held.insert((ClaimScope::AddressUser(&nat.address_id).stored(), claims::ADDRESS_USER_KEY.to_string()));
        } else if !nat.address.is_empty() {
            held.insert((ClaimScope::PublicIps.stored(), nat.address.clone()));
        }
    }
    held
}

/// Takes every claim of `keys` for `owner` (those it holds already are kept).
pub fn claim_all(tx: &mut dyn Tx, keys: &BTreeSet<ClaimKey>, owner: &str) -> Result<()> {
    for (scope, key) in keys {
        if let Err(holder) = tx.claim(&Claim::new(scope, key, owner))? {
            return Err(Error::Internal(format!("{scope}/{key} is held by {holder}")));
        }
    }
    Ok(())
}

/// Every security group of `nic` exists in the folder and belongs to the network of its subnet.
pub fn check_security_groups(tx: &mut dyn Tx, folder_id: &str, nic: &NetworkInterface) -> Result<()> {
    if nic.security_group_ids.is_empty() {
        return Ok(());
    }
    let subnet = tx.load::<Subnet>(&nic.subnet_id)?.ok_or_else(|| Error::not_found(ResourceKind::Subnet, &nic.subnet_id))?;
    for id in &nic.security_group_ids {
        let group = tx
            .load::<SecurityGroup>(id)?
            .filter(|g| g.folder_id == folder_id)
            .ok_or_else(|| Error::not_found(ResourceKind::SecurityGroup, id))?;
        if group.network_id != subnet.network_id {
            return Err(Error::SecurityGroupNetworkMismatch {
                id: id.clone(),
                group_network: group.network_id,
                network: subnet.network_id.clone(),
            });
        }
    }
    Ok(())
}

/// The internal Address of the instance's folder reserved at `ip` in `subnet_id`, if there is one:
/// an interface asking for that address takes the Address instead.
pub fn reserved_internal(tx: &mut dyn Tx, instance: &Instance, subnet_id: &str, ip: Ipv4Addr) -> Result<Option<Address>> {
    let Some(holder) = tx.holder(&ClaimScope::SubnetIps(subnet_id).stored(), &ip.to_string())? else { return Ok(None) };
    let (kind, address_id) = claims::parse_owner(&holder);
    if kind != ADDRESS {
        return Ok(None);
    }
    Ok(tx.load::<Address>(address_id)?.filter(|a| a.folder_id == instance.folder_id && a.subnet_id == subnet_id))
}

/// Takes reserved address `ip` of the instance's folder and zone as `owner`'s static NAT address;
/// returns the Address id. Refused if it is not such an address or another interface uses it.
pub fn take_static(tx: &mut dyn Tx, instance: &Instance, ip: Ipv4Addr, owner: &str) -> Result<String> {
    let not_reserved = || Error::AddressNotReserved { address: ip.to_string(), folder_id: instance.folder_id.clone() };
    let holder = tx.holder(&ClaimScope::PublicIps.stored(), &ip.to_string())?.ok_or_else(not_reserved)?;
    let (kind, address_id) = claims::parse_owner(&holder);
    if kind != ADDRESS {
        return Err(not_reserved());
    }
    let address = tx.load::<Address>(address_id)?.filter(|a| a.folder_id == instance.folder_id && a.reserved).ok_or_else(not_reserved)?;
    if address.zone_id != instance.zone_id {
        return Err(Error::AddressZoneMismatch {
            address: ip.to_string(),
            address_zone: address.zone_id,
            instance_zone: instance.zone_id.clone(),
        });
    }
    match tx.claim(&Claim::new(ClaimScope::AddressUser(&address.id).stored(), claims::ADDRESS_USER_KEY, owner))? {
        Ok(()) => Ok(address.id),
        Err(user) => Err(Error::AddressTaken { address: ip.to_string(), user: claims::parse_owner(&user).1.to_string() }),
    }
}
