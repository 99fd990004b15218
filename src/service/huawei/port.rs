//! Huawei VPC v1 ports. A port's address comes from the one subnet allocator
//! (`plumbing::allocate_in_subnet`), so it is never also a gateway's, a transit IP's or another
//! port's; a port a DNAT rule forwards to (a `PortUsers` claim) cannot be deleted.

use super::load_in;
use super::vpc::subnet_in;
use crate::domain::huawei::port::{Port, PortSpec};
use crate::error::{Error, Result};
use crate::service::claims::{self, ClaimScope, HUAWEI_PORT};
use crate::service::{HuaweiArea, plumbing};
use crate::store::{Tx, TxExt};

pub(super) fn port_in(tx: &mut dyn Tx, project_id: &str, id: &str) -> Result<Port> {
    load_in::<Port>(tx, project_id, id)
}

impl HuaweiArea {
    pub async fn huawei_create_port(&self, project_id: &str, spec: PortSpec) -> Result<Port> {
        let placement = spec.check()?;
        let (project_id, id, now) = (project_id.to_string(), self.ids.uuid(), self.clock.now());
        self.store
            .write(move |tx| {
                let subnet = subnet_in(tx, &project_id, &placement.network_id)?;
                if let Some(named) = placement.neutron_subnet_id.as_deref().filter(|n| *n != subnet.neutron_subnet_id()) {
                    return Err(Error::invalid(
                        "port.fixed_ips[0].subnet_id",
                        format!("{named:?} is not the IPv4 subnet of network {} (it is {})", subnet.id, subnet.neutron_subnet_id()),
                    ));
                }
                let owner = claims::owner(HUAWEI_PORT, &id);
                let field = "port.fixed_ips[0].ip_address";
                let address = plumbing::allocate_in_subnet(tx, &subnet.id, &[subnet.cidr], placement.ip_address, &owner, field)?;
                let port = Port::create(id.clone(), &project_id, &spec, &subnet.id, subnet.neutron_subnet_id(), address, now);
                tx.create(&port)?;
                Ok(port)
            })
            .await
    }

    pub async fn huawei_delete_port(&self, project_id: &str, id: &str) -> Result<()> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                let port = port_in(tx, &project_id, &id)?;
                if let Some(rule) = tx.claims_in(&ClaimScope::PortUsers(&port.id).stored())?.into_iter().next() {
                    return Err(Error::PortInUse { port_id: port.id.clone(), rule_id: rule.owner });
                }
                plumbing::release_claim(tx, &ClaimScope::SubnetIps(&port.network_id).stored(), &port.ip_address.to_string())?;
                tx.remove::<Port>(&port.id)?;
                Ok(())
            })
            .await
    }
}
