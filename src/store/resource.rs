//! Typed access on top of rows: which columns each domain type indexes, and their bodies (`codec`).

use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};

use super::{Body, Kind, Query, Record, Tx};
use crate::domain::{
    address::Address, disk::Disk, gateway::Gateway, huawei, image::Image, instance::Instance, network::Network, route_table::RouteTable,
    security_group::SecurityGroup, subnet::Subnet,
};
use crate::error::Result;

/// A domain type stored as a resource row.
pub trait Resource: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    const KIND: Kind;
    fn id(&self) -> &str;
    /// The row's index columns; `body` is filled in by `to_record`.
    fn columns(&self) -> Record;

    /// The row: its columns, and a body holding a copy of the value (encoded only by a backend
    /// that persists it).
    fn to_record(&self) -> Record {
        let mut r = self.columns();
        r.body = Body::value(self.clone());
        r
    }

    fn from_record(r: &Record) -> Result<Self> {
        r.body.decode(|| format!("{} {}", Self::KIND.as_str(), r.id))
    }

    /// `from_record`, sharing the value the row holds (for reads that only render it).
    fn shared_from_record(r: &Record) -> Result<Arc<Self>> {
        r.body.shared(|| format!("{} {}", Self::KIND.as_str(), r.id))
    }
}

fn row(kind: Kind, id: &str, folder_id: &str, parent_id: &str, name: &str, created_at: i64) -> Record {
    Record {
        kind,
        id: id.to_string(),
        folder_id: folder_id.to_string(),
        parent_id: parent_id.to_string(),
        name: name.to_string(),
        created_at,
        status: String::new(),
        zone_id: String::new(),
        platform_id: String::new(),
        body: Body::Encoded(vec![]),
    }
}

impl Resource for Instance {
    const KIND: Kind = Kind::Instance;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        let mut r = row(Kind::Instance, &self.id, &self.folder_id, "", &self.name, self.created_at.0);
        r.status = self.status.name().to_string();
        r.zone_id = self.zone_id.clone();
        r.platform_id = self.platform_id.clone();
        r
    }
}

impl Resource for Network {
    const KIND: Kind = Kind::Network;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::Network, &self.id, &self.folder_id, "", &self.name, self.created_at.0)
    }
}

impl Resource for Subnet {
    const KIND: Kind = Kind::Subnet;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        let mut r = row(Kind::Subnet, &self.id, &self.folder_id, &self.network_id, &self.name, self.created_at.0);
        r.zone_id = self.zone_id.clone();
        r
    }
}

impl Resource for Address {
    const KIND: Kind = Kind::Address;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        // An internal address's subnet is its parent: ListBySubnet lists by it.
        let mut r = row(Kind::Address, &self.id, &self.folder_id, &self.subnet_id, &self.name, self.created_at.0);
        r.zone_id = self.zone_id.clone();
        r
    }
}

impl Resource for SecurityGroup {
    const KIND: Kind = Kind::SecurityGroup;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::SecurityGroup, &self.id, &self.folder_id, &self.network_id, &self.name, self.created_at.0)
    }
}

impl Resource for Disk {
    const KIND: Kind = Kind::Disk;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        let mut r = row(Kind::Disk, &self.id, &self.folder_id, "", &self.name, self.created_at.0);
        r.status = self.status.name().to_string();
        r.zone_id = self.zone_id.clone();
        r
    }
}

/// An image's family is its parent: `GetLatestByFamily` lists by it.
impl Resource for Image {
    const KIND: Kind = Kind::Image;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        let mut r = row(Kind::Image, &self.id, &self.folder_id, &self.family, &self.name, self.created_at.0);
        r.status = self.status.name().to_string();
        r
    }
}

impl Resource for RouteTable {
    const KIND: Kind = Kind::RouteTable;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::RouteTable, &self.id, &self.folder_id, &self.network_id, &self.name, self.created_at.0)
    }
}

impl Resource for Gateway {
    const KIND: Kind = Kind::Gateway;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::Gateway, &self.id, &self.folder_id, "", &self.name, self.created_at.0)
    }
}

impl Resource for huawei::vpc::Vpc {
    const KIND: Kind = Kind::HuaweiVpc;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::HuaweiVpc, &self.id, &self.project_id, "", &self.name, self.created_at.0)
    }
}

impl Resource for huawei::vpc::Subnet {
    const KIND: Kind = Kind::HuaweiSubnet;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::HuaweiSubnet, &self.id, &self.project_id, &self.vpc_id, &self.name, self.created_at.0)
    }
}

impl Resource for huawei::nat::Gateway {
    const KIND: Kind = Kind::NatGateway;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        let mut r = row(Kind::NatGateway, &self.id, &self.project_id, "", &self.name, self.created_at.0);
        r.status = self.status.as_str().to_string();
        r
    }
}

impl Resource for huawei::nat::TransitSubnet {
    const KIND: Kind = Kind::TransitSubnet;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::TransitSubnet, &self.id, &self.project_id, &self.virsubnet_id, &self.name, self.created_at.0)
    }
}

impl Resource for huawei::nat::TransitIp {
    const KIND: Kind = Kind::TransitIp;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::TransitIp, &self.id, &self.project_id, &self.transit_subnet_id, "", self.created_at.0)
    }
}

impl Resource for huawei::dnat::DnatRule {
    const KIND: Kind = Kind::DnatRule;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::DnatRule, &self.id, &self.project_id, &self.gateway_id, "", self.created_at.0)
    }
}

impl Resource for huawei::snat::SnatRule {
    const KIND: Kind = Kind::SnatRule;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::SnatRule, &self.id, &self.project_id, &self.gateway_id, "", self.created_at.0)
    }
}

impl Resource for huawei::port::Port {
    const KIND: Kind = Kind::Port;
    fn id(&self) -> &str {
        &self.id
    }
    fn columns(&self) -> Record {
        row(Kind::Port, &self.id, &self.project_id, &self.network_id, &self.name, self.created_at.0)
    }
}

/// Typed helpers for any transaction.
pub trait TxExt {
    fn load<R: Resource>(&mut self, id: &str) -> Result<Option<R>>;
    /// `load`, sharing the value the row holds instead of copying it, for a read that only
    /// renders it.
    fn load_shared<R: Resource>(&mut self, id: &str) -> Result<Option<Arc<R>>>;
    fn create<R: Resource>(&mut self, value: &R) -> Result<()>;
    fn save<R: Resource>(&mut self, value: &R) -> Result<()>;
    /// `save`, handing the row the value itself instead of a copy: for a value the caller is done
    /// with.
    fn save_owned<R: Resource>(&mut self, value: R) -> Result<()>;
    /// Saves `value` and hands back the very value the row now holds, for an operation's
    /// response to share instead of copying.
    fn save_shared<R: Resource>(&mut self, value: R) -> Result<Arc<R>>;
    /// Loads, changes and saves a row, answering its value shared (`None`: no such row). A row
    /// this transaction already wrote is changed in place where the backend can
    /// (`Tx::change_written`): an inline operation applying what its own acceptance saved
    /// copies nothing.
    fn change<R: Resource>(&mut self, id: &str, f: impl FnOnce(&mut R)) -> Result<Option<Arc<R>>>;
    fn remove<R: Resource>(&mut self, id: &str) -> Result<bool>;
    fn find<R: Resource>(&mut self, query: &Query) -> Result<Vec<R>>;
}

impl TxExt for dyn Tx + '_ {
    fn load<R: Resource>(&mut self, id: &str) -> Result<Option<R>> {
        self.body(R::KIND, id)?.map(|body| body.decode(|| format!("{} {id}", R::KIND.as_str()))).transpose()
    }
    fn load_shared<R: Resource>(&mut self, id: &str) -> Result<Option<Arc<R>>> {
        self.body(R::KIND, id)?.map(|body| body.shared(|| format!("{} {id}", R::KIND.as_str()))).transpose()
    }
    fn create<R: Resource>(&mut self, value: &R) -> Result<()> {
        Ok(self.insert(value.to_record())?)
    }
    fn save<R: Resource>(&mut self, value: &R) -> Result<()> {
        Ok(self.update(value.to_record())?)
    }
    fn save_owned<R: Resource>(&mut self, value: R) -> Result<()> {
        // The handle `save_shared` answers is dropped at once, so the row's value is left
        // unshared, as `Tx::change_written` needs it.
        self.save_shared(value).map(drop)
    }
    fn save_shared<R: Resource>(&mut self, value: R) -> Result<Arc<R>> {
        let mut record = value.columns();
        let value = Arc::new(value);
        record.body = Body::Value(value.clone());
        self.update(record)?;
        Ok(value)
    }
    fn change<R: Resource>(&mut self, id: &str, f: impl FnOnce(&mut R)) -> Result<Option<Arc<R>>> {
        let mut f = Some(f);
        let in_place = self.change_written(R::KIND, id, &mut |value| {
            let value = value.as_any_mut().downcast_mut::<R>()?;
            (f.take()?)(value);
            Some(value.columns())
        })?;
        if in_place {
            return self.load_shared(id);
        }
        let (Some(f), Some(mut value)) = (f, self.load::<R>(id)?) else { return Ok(None) };
        f(&mut value);
        Ok(Some(self.save_shared(value)?))
    }
    fn remove<R: Resource>(&mut self, id: &str) -> Result<bool> {
        Ok(self.delete(R::KIND, id)?)
    }
    fn find<R: Resource>(&mut self, query: &Query) -> Result<Vec<R>> {
        self.list(query)?.iter().map(R::from_record).collect()
    }
}
