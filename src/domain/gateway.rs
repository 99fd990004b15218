//! Gateways: shared egress (NAT) gateways, the only kind there is. A gateway serves a folder's
//! route tables as the next hop of their default routes.

use std::collections::HashMap;

use super::clock::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gateway {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GatewayPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
}

impl Gateway {
    pub fn apply(&mut self, p: &GatewayPatch) {
        if let Some(v) = &p.name {
            self.name = v.clone();
        }
        if let Some(v) = &p.description {
            self.description = v.clone();
        }
        if let Some(v) = &p.labels {
            self.labels = v.clone();
        }
    }
}
