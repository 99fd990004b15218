//! Private NAT gateways, transit subnets and transit IPs. Addresses (a gateway's port in its
//! downlink subnet, transit IPs in their transit subnet's VPC subnet) come from the one subnet
//! allocator, `plumbing::allocate_in_subnet`, and go back through `plumbing::release_claim`.

use super::vpc::subnet_in;
use super::{children, load_in};
use crate::domain::huawei::nat::{DownlinkVpc, Gateway, GatewaySpec, TransitIp, TransitIpSpec, TransitSubnet, TransitSubnetSpec, rule_max};
use crate::domain::huawei::{Status, format_time};
use crate::error::{Error, ResourceKind, Result};
use crate::service::claims::{self, ClaimScope, NAT_GATEWAY, TRANSIT_IP};
use crate::service::{HuaweiArea, plumbing};
use crate::store::{Claim, Tx, TxExt};

pub(super) fn gateway_in(tx: &mut dyn Tx, project_id: &str, id: &str) -> Result<Gateway> {
    load_in::<Gateway>(tx, project_id, id)
}

pub(super) fn transit_ip_in(tx: &mut dyn Tx, project_id: &str, id: &str) -> Result<TransitIp> {
    load_in::<TransitIp>(tx, project_id, id)
}

impl HuaweiArea {
    pub async fn nat_create_gateway(&self, project_id: &str, spec: GatewaySpec) -> Result<Gateway> {
        let (subnet_id, requested) = spec.check_create()?;
        let (project_id, id, now) = (project_id.to_string(), self.ids.uuid(), self.clock.now());
        self.store
            .write(move |tx| {
                let subnet = subnet_in(tx, &project_id, &subnet_id)?;
                let owner = claims::owner(NAT_GATEWAY, &id);
                let field = "gateway.downlink_vpcs[0].ngport_ip_address";
                let address = plumbing::allocate_in_subnet(tx, &subnet.id, &[subnet.cidr], requested, &owner, field)?;
                let downlink = DownlinkVpc { vpc_id: subnet.vpc_id.clone(), virsubnet_id: subnet.id.clone(), ngport_ip_address: address };
                let gateway = Gateway::create(id.clone(), &project_id, &spec, downlink, now);
                tx.create(&gateway)?;
                Ok(gateway)
            })
            .await
    }

    pub async fn nat_update_gateway(&self, project_id: &str, id: &str, spec: GatewaySpec) -> Result<Gateway> {
        let (project_id, id, now) = (project_id.to_string(), id.to_string(), self.clock.now());
        self.store
            .write(move |tx| {
                let mut gateway = gateway_in(tx, &project_id, &id)?;
                gateway.update(&spec, now)?;
                // A smaller spec must still hold the rules the gateway has.
                let (rules, limit) = (super::rule_count(tx, &gateway.id)?, rule_max(&gateway.spec));
                if rules > limit as usize {
                    return Err(Error::RuleLimit { gateway_id: gateway.id.clone(), limit });
                }
                tx.save(&gateway)?;
                Ok(gateway)
            })
            .await
    }

    pub async fn nat_delete_gateway(&self, project_id: &str, id: &str) -> Result<()> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                let gateway = gateway_in(tx, &project_id, &id)?;
                gateway.check_changeable()?;
                if super::rule_count(tx, &gateway.id)? > 0 {
                    return Err(Error::GatewayHasRules(gateway.id.clone()));
                }
                for downlink in &gateway.downlink_vpcs {
                    plumbing::release_claim(
                        tx,
                        &ClaimScope::SubnetIps(&downlink.virsubnet_id).stored(),
                        &downlink.ngport_ip_address.to_string(),
                    )?;
                }
                tx.remove::<Gateway>(&gateway.id)?;
                Ok(())
            })
            .await
    }

    /// Freezes or thaws a gateway (netplane's stand-in for the billing events that freeze one).
    pub async fn nat_set_gateway_status(&self, project_id: &str, id: &str, status: Status) -> Result<Gateway> {
        let (project_id, id, now) = (project_id.to_string(), id.to_string(), self.clock.now());
        self.store
            .write(move |tx| {
                let mut gateway = gateway_in(tx, &project_id, &id)?;
                gateway.status = status;
                gateway.updated_at = now;
                tx.save(&gateway)?;
                tracing::info!(gateway_id = %gateway.id, status = status.as_str(), at = %format_time(now), "gateway status set");
                Ok(gateway)
            })
            .await
    }

    pub async fn nat_create_transit_subnet(&self, project_id: &str, spec: TransitSubnetSpec) -> Result<TransitSubnet> {
        let subnet_id = spec.check_create(project_id)?;
        let (project_id, id, now) = (project_id.to_string(), self.ids.uuid(), self.clock.now());
        self.store
            .write(move |tx| {
                let subnet = subnet_in(tx, &project_id, &subnet_id)?;
                if let Err(holder) = tx.claim(&Claim::new(ClaimScope::TransitSubnets.stored(), &subnet.id, &id))? {
                    return Err(Error::invalid(
                        "transit_subnet.virsubnet_id",
                        format!("subnet {} already carries transit subnet {holder}", subnet.id),
                    ));
                }
                let transit = TransitSubnet {
                    id: id.clone(),
                    project_id: project_id.clone(),
                    name: spec.name.clone().unwrap_or_default(),
                    description: spec.description.clone().unwrap_or_default(),
                    virsubnet_project_id: project_id.clone(),
                    vpc_id: subnet.vpc_id.clone(),
                    virsubnet_id: subnet.id.clone(),
                    cidr: subnet.cidr,
                    status: Status::Active,
                    ip_count: 0,
                    tags: spec.tags.clone(),
                    created_at: now,
                    updated_at: now,
                };
                tx.create(&transit)?;
                Ok(transit)
            })
            .await
    }

    pub async fn nat_update_transit_subnet(&self, project_id: &str, id: &str, spec: TransitSubnetSpec) -> Result<TransitSubnet> {
        let (project_id, id, now) = (project_id.to_string(), id.to_string(), self.clock.now());
        self.store
            .write(move |tx| {
                let mut transit = load_in::<TransitSubnet>(tx, &project_id, &id)?;
                transit.update(&spec, now)?;
                tx.save(&transit)?;
                Ok(transit)
            })
            .await
    }

    pub async fn nat_delete_transit_subnet(&self, project_id: &str, id: &str) -> Result<()> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                let transit = load_in::<TransitSubnet>(tx, &project_id, &id)?;
                if !children::<TransitIp>(tx, &transit.id)?.is_empty() {
                    return Err(Error::TransitSubnetInUse(transit.id.clone()));
                }
                tx.release(&ClaimScope::TransitSubnets.stored(), &transit.virsubnet_id)?;
                tx.remove::<TransitSubnet>(&transit.id)?;
                Ok(())
            })
            .await
    }

    /// A transit IP of a transit subnet, named by its id or by the VPC subnet it is built on.
    pub async fn nat_create_transit_ip(&self, project_id: &str, spec: TransitIpSpec) -> Result<TransitIp> {
        let (subnet_id, requested) = spec.check()?;
        let (project_id, id, port_id, now) = (project_id.to_string(), self.ids.uuid(), self.ids.uuid(), self.clock.now());
        self.store
            .write(move |tx| {
                let transit_id = match tx.holder(&ClaimScope::TransitSubnets.stored(), &subnet_id)? {
                    Some(transit_id) => transit_id,
                    None => subnet_id.clone(),
                };
                let mut transit = load_in::<TransitSubnet>(tx, &project_id, &transit_id)
                    .map_err(|_| Error::not_found(ResourceKind::TransitSubnet, &subnet_id))?;
                let owner = claims::owner(TRANSIT_IP, &id);
                let address =
                    plumbing::allocate_in_subnet(tx, &transit.virsubnet_id, &[transit.cidr], requested, &owner, "transit_ip.ip_address")?;
                let ip = TransitIp {
                    id: id.clone(),
                    project_id: project_id.clone(),
                    transit_subnet_id: transit.id.clone(),
                    virsubnet_id: transit.virsubnet_id.clone(),
                    ip_address: address,
                    network_interface_id: port_id.clone(),
                    gateway_id: String::new(),
                    tags: spec.tags.clone(),
                    enterprise_project_id: spec.enterprise_project_id.clone().unwrap_or_else(|| "0".into()),
                    status: Status::Active,
                    created_at: now,
                    updated_at: now,
                };
                tx.create(&ip)?;
                transit.ip_count += 1;
                tx.save(&transit)?;
                Ok(ip)
            })
            .await
    }

    pub async fn nat_delete_transit_ip(&self, project_id: &str, id: &str) -> Result<()> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                let ip = transit_ip_in(tx, &project_id, &id)?;
                if tx.is_held(&ClaimScope::DnatMode(&ip.id).stored(), "")? {
                    return Err(Error::TransitIpInUse(ip.id.clone()));
                }
                plumbing::release_claim(tx, &ClaimScope::SubnetIps(&ip.virsubnet_id).stored(), &ip.ip_address.to_string())?;
                if let Some(mut transit) = tx.load::<TransitSubnet>(&ip.transit_subnet_id)? {
                    transit.ip_count = transit.ip_count.saturating_sub(1);
                    tx.save(&transit)?;
                }
                tx.remove::<TransitIp>(&ip.id)?;
                Ok(())
            })
            .await
    }
}
