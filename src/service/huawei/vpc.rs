//! Huawei VPC v1 VPCs and subnets. A subnet's gateway address is claimed in the subnet's address
//! scope when it is created, so no gateway, transit subnet or transit IP is ever handed it.

use super::{children, load_in};
use crate::domain::huawei::listing::{ListRequest, PageInfo};
use crate::domain::huawei::tags::VPC_TAGS;
use crate::domain::huawei::vpc::{Subnet, SubnetSpec, Vpc, VpcSpec};
use crate::error::{Error, ResourceKind, Result};
use crate::service::HuaweiArea;
use crate::service::claims::{self, ClaimScope, HUAWEI_SUBNET_GATEWAY};
use crate::store::{Claim, TxExt};

/// The filters VPC v3 lists take.
pub const V3_FILTERS: &[&str] = &["id", "name", "description", "cidr", "enterprise_project_id"];

fn v3_field(v: &Vpc, name: &str) -> String {
    match name {
        "id" => v.id.clone(),
        "name" => v.name.clone(),
        "description" => v.description.clone(),
        "cidr" => v.cidr.to_string(),
        "enterprise_project_id" => v.enterprise_project_id.clone(),
        _ => String::new(),
    }
}

fn vpc_in(tx: &mut dyn crate::store::Tx, project_id: &str, id: &str) -> Result<Vpc> {
    load_in::<Vpc>(tx, project_id, id)
}

/// A Huawei VPC subnet of the project (NAT resources refer to them too).
pub(super) fn subnet_in(tx: &mut dyn crate::store::Tx, project_id: &str, id: &str) -> Result<Subnet> {
    load_in::<Subnet>(tx, project_id, id)
}

impl HuaweiArea {
    pub async fn huawei_create_vpc(&self, project_id: &str, spec: VpcSpec) -> Result<Vpc> {
        self.huawei_create_vpc_checked(project_id, spec, false).await
    }

    /// A create, or with `dry_run` only its checks (nothing is stored).
    pub async fn huawei_create_vpc_checked(&self, project_id: &str, spec: VpcSpec, dry_run: bool) -> Result<Vpc> {
        VPC_TAGS.check_set(&spec.tags)?;
        let vpc = Vpc::create(self.ids.uuid(), project_id, &spec, self.clock.now())?;
        if !dry_run {
            let stored = vpc.clone();
            self.store.write(move |tx| tx.create(&stored)).await?;
        }
        Ok(vpc)
    }

    /// Adds (`add`) or removes secondary CIDR blocks; with `dry_run` only the checks. The VPC as it
    /// is (or would be) with the number of its subnets.
    pub async fn huawei_change_extend_cidrs(
        &self,
        project_id: &str,
        id: &str,
        cidrs: Vec<String>,
        add: bool,
        dry_run: bool,
    ) -> Result<(Vpc, usize)> {
        let (project_id, id, now) = (project_id.to_string(), id.to_string(), self.clock.now());
        self.store
            .write(move |tx| {
                let mut vpc = vpc_in(tx, &project_id, &id)?;
                let subnets = children::<Subnet>(tx, &id)?;
                if add {
                    vpc.add_extend_cidrs(&cidrs, now)?;
                } else {
                    vpc.remove_extend_cidrs(&cidrs, &subnets, now)?;
                }
                if !dry_run {
                    tx.save(&vpc)?;
                }
                Ok((vpc, subnets.len()))
            })
            .await
    }

    pub async fn huawei_update_vpc(&self, project_id: &str, id: &str, spec: VpcSpec) -> Result<Vpc> {
        Ok(self.huawei_update_vpc_checked(project_id, id, spec, false).await?.0)
    }

    /// An update, or with `dry_run` only its checks (nothing is saved); the VPC as it is (or
    /// would be) with the number of its subnets.
    pub async fn huawei_update_vpc_checked(&self, project_id: &str, id: &str, spec: VpcSpec, dry_run: bool) -> Result<(Vpc, usize)> {
        let (project_id, id, now) = (project_id.to_string(), id.to_string(), self.clock.now());
        self.store
            .write(move |tx| {
                let mut vpc = vpc_in(tx, &project_id, &id)?;
                let subnets = children::<Subnet>(tx, &id)?;
                vpc.update(&spec, &subnets, now)?;
                if !dry_run {
                    tx.save(&vpc)?;
                }
                Ok((vpc, subnets.len()))
            })
            .await
    }

    /// A subnet of `vpc_id`; naming a subnet of another VPC is `SubnetNotInVpc`.
    pub async fn huawei_update_subnet(&self, project_id: &str, vpc_id: &str, id: &str, spec: SubnetSpec) -> Result<Subnet> {
        let (project_id, vpc_id, id, now) = (project_id.to_string(), vpc_id.to_string(), id.to_string(), self.clock.now());
        self.store
            .write(move |tx| {
                vpc_in(tx, &project_id, &vpc_id)?;
                let mut subnet = subnet_in(tx, &project_id, &id)?;
                if subnet.vpc_id != vpc_id {
                    return Err(Error::SubnetNotInVpc { subnet_id: id.clone(), vpc_id: vpc_id.clone() });
                }
                subnet.update(&spec, now)?;
                tx.save(&subnet)?;
                Ok(subnet)
            })
            .await
    }

    /// A VPC with the number of its subnets (VPC v3's `cloud_resources`).
    pub async fn huawei_vpc_with_subnets(&self, project_id: &str, id: &str) -> Result<(Vpc, usize)> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .read(move |tx| {
                let vpc = vpc_in(tx, &project_id, &id)?;
                let subnets = children::<Subnet>(tx, &id)?.len();
                Ok((vpc, subnets))
            })
            .await
    }

    /// VPC v3's list: filters on `id`, `name`, `description`, `cidr` and `enterprise_project_id`,
    /// each VPC with the number of its subnets.
    pub async fn huawei_list_vpcs_v3(&self, project_id: &str, request: ListRequest) -> Result<(Vec<(Vpc, usize)>, PageInfo)> {
        let project_id = project_id.to_string();
        self.store
            .read(move |tx| {
                let all = super::all_in::<Vpc>(tx, &project_id)?;
                let kept: Vec<Vpc> = all.into_iter().filter(|v| request.matches(|name| v3_field(v, name))).collect();
                let (page, info) = request.page(kept, |v| v.id.as_str());
                let mut items = Vec::with_capacity(page.len());
                for vpc in page {
                    let subnets = children::<Subnet>(tx, &vpc.id)?.len();
                    items.push((vpc, subnets));
                }
                Ok((items, info))
            })
            .await
    }

    pub async fn huawei_delete_vpc(&self, project_id: &str, id: &str) -> Result<()> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                vpc_in(tx, &project_id, &id)?;
                if !children::<Subnet>(tx, &id)?.is_empty() {
                    return Err(Error::VpcInUse(id.clone()));
                }
                tx.remove::<Vpc>(&id)?;
                Ok(())
            })
            .await
    }

    pub async fn huawei_create_subnet(&self, project_id: &str, spec: SubnetSpec) -> Result<Subnet> {
        VPC_TAGS.check_set(&spec.tags)?;
        let (project_id, id, neutron_subnet_id, now) = (project_id.to_string(), self.ids.uuid(), self.ids.uuid(), self.clock.now());
        self.store
            .write(move |tx| {
                let vpc_id = crate::domain::huawei::required("subnet.vpc_id", spec.vpc_id.as_deref())?;
                let vpc = vpc_in(tx, &project_id, vpc_id)?;
                let siblings = children::<Subnet>(tx, &vpc.id)?;
                let subnet = Subnet::create(id.clone(), neutron_subnet_id.clone(), &vpc, &spec, &siblings, now)?;
                let owner = claims::owner(HUAWEI_SUBNET_GATEWAY, &subnet.id);
                tx.claim(&Claim::new(ClaimScope::SubnetIps(&subnet.id).stored(), subnet.gateway_ip.to_string(), owner))?
                    .map_err(|holder| Error::Internal(format!("gateway address of a new subnet held by {holder}")))?;
                tx.create(&subnet)?;
                Ok(subnet)
            })
            .await
    }

    /// Deletes a subnet of `vpc_id` that nothing uses any more (its gateway address aside).
    pub async fn huawei_delete_subnet(&self, project_id: &str, vpc_id: &str, id: &str) -> Result<()> {
        let (project_id, vpc_id, id) = (project_id.to_string(), vpc_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                vpc_in(tx, &project_id, &vpc_id)?;
                let subnet = subnet_in(tx, &project_id, &id)
                    .and_then(|s| if s.vpc_id == vpc_id { Ok(s) } else { Err(Error::not_found(ResourceKind::Subnet, &id)) })?;
                let ips = ClaimScope::SubnetIps(&subnet.id);
                let scope = ips.stored();
                let gateway_owner = claims::owner(HUAWEI_SUBNET_GATEWAY, &subnet.id);
                let users: Vec<String> = tx.claims_in(&scope)?.into_iter().filter(|c| c.owner != gateway_owner).map(|c| c.owner).collect();
                if !users.is_empty() {
                    return Err(Error::SubnetInUse { id: subnet.id.clone(), used: users.join(", ") });
                }
                tx.release(&scope, &subnet.gateway_ip.to_string())?;
                tx.release(&ClaimScope::LowWaterMark(&ips).stored(), "")?;
                tx.remove::<Subnet>(&subnet.id)?;
                Ok(())
            })
            .await
    }
}
