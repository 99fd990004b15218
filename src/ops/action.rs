//! The work a pending operation still has to do. Plain data, stored in the operation row, so a
//! restarted process finishes what the previous one accepted.

use std::collections::BTreeMap;

use crate::domain::{
    instance::{InstancePatch, Status},
    network::NetworkPatch,
    subnet::SubnetPatch,
};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Action {
    CreateInstance { instance_id: String },
    UpdateInstance { instance_id: String, from: Status, patch: InstancePatch, released_name: Option<String> },
    UpdateInstanceMetadata { instance_id: String, from: Status, delete: Vec<String>, upsert: BTreeMap<String, String> },
    DeleteInstance { instance_id: String, from: Status },
    Stop { instance_id: String, from: Status },
    Start { instance_id: String, from: Status },
    Restart { instance_id: String, from: Status },
    CreateNetwork { network_id: String },
    UpdateNetwork { network_id: String, patch: NetworkPatch, released_name: Option<String> },
    DeleteNetwork { network_id: String },
    CreateSubnet { subnet_id: String },
    UpdateSubnet { subnet_id: String, patch: SubnetPatch, v4_cidr_blocks: Option<Vec<ipnet::Ipv4Net>>, released_name: Option<String> },
    DeleteSubnet { subnet_id: String },
}
