//! Huawei Cloud use cases: VPCs, subnets and ports, private NAT gateways, transit subnets,
//! transit IPs, DNAT and SNAT rules, and the tags on them. They are synchronous on the real cloud (no operations), so each is
//! one transaction. Every resource belongs to a project: a resource of another project is
//! answered exactly like a missing one.

pub mod dnat;
pub mod nat;
pub mod port;
pub mod snat;
pub mod tags;
pub mod vpc;

use crate::domain::huawei::dnat::DnatRule;
use crate::domain::huawei::listing::{ListRequest, Listable};
use crate::domain::huawei::nat::{Gateway, TransitIp, TransitSubnet};
use crate::domain::huawei::port::Port;
use crate::domain::huawei::snat::SnatRule;
use crate::domain::huawei::vpc::{Subnet, Vpc};
use crate::error::{Error, ResourceKind, Result};
use crate::service::HuaweiArea;
use crate::store::{Query, Resource, Tx, TxExt};

/// Rules of both kinds a gateway holds, which its spec's `rule_max` bounds together.
pub(super) fn rule_count(tx: &mut dyn Tx, gateway_id: &str) -> Result<usize> {
    Ok(children::<DnatRule>(tx, gateway_id)?.len() + children::<SnatRule>(tx, gateway_id)?.len())
}

/// A Huawei resource: it belongs to a project, and errors name it by its kind.
pub trait ProjectResource: Resource + Listable + Send + 'static {
    const ERROR_KIND: ResourceKind;
    fn project_id(&self) -> &str;
}

macro_rules! project_resource {
    ($($type:ty => $kind:ident),* $(,)?) => {
        $(impl ProjectResource for $type {
            const ERROR_KIND: ResourceKind = ResourceKind::$kind;
            fn project_id(&self) -> &str {
                &self.project_id
            }
        })*
    };
}

project_resource!(
    Vpc => Vpc,
    Subnet => Subnet,
    Gateway => NatGateway,
    TransitSubnet => TransitSubnet,
    TransitIp => TransitIp,
    SnatRule => SnatRule,
    DnatRule => DnatRule,
    Port => Port,
);

/// The resource, if it exists in `project_id`; another project's is answered as missing.
fn load_in<R: ProjectResource>(tx: &mut dyn Tx, project_id: &str, id: &str) -> Result<R> {
    tx.load::<R>(id)?.filter(|r| r.project_id() == project_id).ok_or_else(|| Error::not_found(R::ERROR_KIND, id))
}

/// Every resource of a kind in a project.
pub(super) fn all_in<R: Resource>(tx: &mut dyn Tx, project_id: &str) -> Result<Vec<R>> {
    let mut query = Query::new(R::KIND);
    query.folder_id = Some(project_id.to_string());
    tx.find::<R>(&query)
}

/// Resources whose parent column is `parent_id`.
fn children<R: Resource>(tx: &mut dyn Tx, parent_id: &str) -> Result<Vec<R>> {
    let mut query = Query::new(R::KIND);
    query.parent_id = Some(parent_id.to_string());
    tx.find::<R>(&query)
}

/// One page of a list, with where its neighbours start.
pub type Listed<T> = (Vec<T>, crate::domain::huawei::listing::PageInfo);

impl HuaweiArea {
    /// A resource of the project.
    pub async fn huawei_get<R: ProjectResource>(&self, project_id: &str, id: &str) -> Result<R> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store.lookup(move |tx| load_in::<R>(tx, &project_id, &id)).await
    }

    /// One page of the project's resources of a kind, filtered as `request` asks.
    pub async fn huawei_list<R: ProjectResource>(&self, project_id: &str, request: ListRequest) -> Result<Listed<R>> {
        let project_id = project_id.to_string();
        let all = self.store.read(move |tx| all_in::<R>(tx, &project_id)).await?;
        let kept: Vec<R> = all.into_iter().filter(|item| request.admits(item)).collect();
        Ok(request.page(kept, |item| Resource::id(item)))
    }
}
