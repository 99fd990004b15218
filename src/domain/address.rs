//! VPC addresses: reserved external IPv4 addresses that one-to-one NAT can use as static
//! addresses, and internal ones reserved in a subnet that an interface can take as its own.
//! Whether an address is used is not stored here: it is whether an instance holds its user claim.

use std::collections::HashMap;

use super::clock::Timestamp;
use super::instance::DnsRecord;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub address: String,
    pub zone_id: String,
    pub ddos_protection_provider: String,
    pub outgoing_smtp_capability: String,
    pub reserved: bool,
    pub deletion_protection: bool,
    pub dns_records: Vec<DnsRecord>,
    /// The subnet of an internal address; empty for an external one (and in rows of releases
    /// before internal addresses).
    #[serde(default)]
    pub subnet_id: String,
}

impl Address {
    pub fn is_internal(&self) -> bool {
        !self.subnet_id.is_empty()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddressPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
    pub reserved: Option<bool>,
    pub deletion_protection: Option<bool>,
    pub dns_records: Option<Vec<DnsRecord>>,
}

impl Address {
    pub fn apply(&mut self, p: &AddressPatch) {
        if let Some(v) = &p.name {
            self.name = v.clone();
        }
        if let Some(v) = &p.description {
            self.description = v.clone();
        }
        if let Some(v) = &p.labels {
            self.labels = v.clone();
        }
        if let Some(v) = p.reserved {
            self.reserved = v;
        }
        if let Some(v) = p.deletion_protection {
            self.deletion_protection = v;
        }
        if let Some(v) = &p.dns_records {
            self.dns_records = v.clone();
        }
    }
}
