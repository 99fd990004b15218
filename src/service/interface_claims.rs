//! What a network interface holds, and the checks on what it names: the claims an interface
//! keeps (its index, MAC, internal address, security group uses, NAT address), the security groups
//! it may use, and a reserved address taken as its static one-to-one NAT.

use std::borrow::Cow;
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

/// A claim an interface holds, borrowed from it: only a security group's key (`<instance>/<index>`)
/// is put together.
type HeldClaim<'a> = (ClaimScope<'a>, Cow<'a, str>);

/// What an interface holds in the claims table, borrowed from it and `instance_id`.
fn held_claims<'a>(instance_id: &'a str, nic: &'a NetworkInterface) -> Vec<HeldClaim<'a>> {
    let mut held: Vec<HeldClaim<'a>> =
        vec![(ClaimScope::InstanceNics(instance_id), Cow::Borrowed(&nic.index)), (ClaimScope::Macs, Cow::Borrowed(&nic.mac_address))];
    if let Some(p) = &nic.primary_v4_address {
        if p.address_id.is_empty() {
            held.push((ClaimScope::SubnetIps(&nic.subnet_id), Cow::Borrowed(&p.address)));
        } else {
            // The internal Address holds the address; the interface holds the Address.
            held.push((ClaimScope::AddressUser(&p.address_id), Cow::Borrowed(claims::ADDRESS_USER_KEY)));
        }
    }
    for group in &nic.security_group_ids {
        held.push((ClaimScope::SecurityGroupUsers(group), Cow::Owned([instance_id, "/", &nic.index].concat())));
    }
    if let Some(nat) = nic.nat() {
        if !nat.address_id.is_empty() {
            held.push((ClaimScope::AddressUser(&nat.address_id), Cow::Borrowed(claims::ADDRESS_USER_KEY)));
        } else if !nat.address.is_empty() {
            held.push((ClaimScope::PublicIps, Cow::Borrowed(&nat.address)));
        }
    }
    held
}

fn stored<'a>(claims: impl Iterator<Item = HeldClaim<'a>>) -> BTreeSet<ClaimKey> {
    claims.map(|(scope, key)| (scope.stored(), key.into_owned())).collect()
}

/// What an interface holds in the claims table.
pub fn interface_claims(instance_id: &str, nic: &NetworkInterface) -> BTreeSet<ClaimKey> {
    stored(held_claims(instance_id, nic).into_iter())
}

/// What changing interface `before` into `after` (either may be no interface) gives back: the
/// claims only `before` holds, once the change is applied, and those only `after` holds, if it is
/// undone. Compared borrowed, so only what is given back is put together as stored names (a change
/// of one interface keeps all its claims but one or two).
pub fn claims_given_up(
    instance_id: &str,
    before: Option<&NetworkInterface>,
    after: Option<&NetworkInterface>,
) -> (Vec<ClaimKey>, Vec<ClaimKey>) {
    let old = before.map(|nic| held_claims(instance_id, nic)).unwrap_or_default();
    let new = after.map(|nic| held_claims(instance_id, nic)).unwrap_or_default();
    let only = |these: &[HeldClaim<'_>], those: &[HeldClaim<'_>]| -> Vec<ClaimKey> {
        stored(these.iter().filter(|claim| !those.contains(claim)).cloned()).into_iter().collect()
    };
    (only(&old, &new), only(&new, &old))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::instance::{OneToOneNat, PrimaryAddress};

    fn nic(subnet: &str, address: &str, groups: &[&str], nat: Option<(&str, &str)>) -> NetworkInterface {
        NetworkInterface {
            index: "1".into(),
            mac_address: "d0:0d:00:00:00:01".into(),
            subnet_id: subnet.into(),
            primary_v4_address: Some(PrimaryAddress {
                address: address.into(),
                address_id: String::new(),
                one_to_one_nat: nat.map(|(address, address_id)| OneToOneNat {
                    address: address.into(),
                    ephemeral: address_id.is_empty(),
                    address_id: address_id.into(),
                    dns_records: vec![],
                }),
                dns_records: vec![],
            }),
            security_group_ids: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    /// `claims_given_up` is the difference of the two interfaces' stored claims, both ways, in
    /// their order.
    #[test]
    fn claims_given_up_are_the_difference_of_the_stored_claims() {
        let plain = nic("s1", "10.0.0.3", &["g1", "g2"], None);
        let nats = [nic("s1", "10.0.0.3", &["g1", "g2"], Some(("203.0.113.7", ""))), nic("s1", "10.0.0.3", &["g1"], Some(("", "addr1")))];
        let moved = nic("s2", "10.1.0.3", &["g2", "g3", "g3"], None);
        let interfaces = [Some(&plain), Some(&nats[0]), Some(&nats[1]), Some(&moved), None];
        let all = |n: Option<&NetworkInterface>| n.map(|n| interface_claims("i1", n)).unwrap_or_default();
        for before in interfaces {
            for after in interfaces {
                let expected = |a, b| -> Vec<ClaimKey> { all(a).difference(&all(b)).cloned().collect() };
                let given_up = claims_given_up("i1", before, after);
                assert_eq!(given_up, (expected(before, after), expected(after, before)), "{before:?} -> {after:?}");
            }
        }
        let nat = vec![(ClaimScope::PublicIps.stored(), "203.0.113.7".to_string())];
        assert_eq!(claims_given_up("i1", Some(&plain), Some(&nats[0])), (vec![], nat), "adding NAT gives nothing back once applied");
    }
}
