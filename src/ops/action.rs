//! The work a pending operation still has to do. Plain data, stored in the operation row, so a
//! restarted process finishes what the previous one accepted.

use std::collections::BTreeMap;

use crate::domain::{
    address::AddressPatch,
    instance::{InstancePatch, NetworkInterface, Status},
    network::NetworkPatch,
    security_group::SecurityGroupPatch,
    subnet::SubnetPatch,
};

/// A claim to give back: `(scope, key)`.
pub type ClaimKey = (String, String);

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Action {
    /// Attach, detach, one-to-one NAT and interface updates: interface `index` becomes `after`
    /// (`None`: removed). Whatever the new interface needed was claimed when the call was
    /// accepted; `release_on_apply` is what the old one held and the new one does not,
    /// `release_on_undo` the reverse.
    ChangeInterface {
        instance_id: String,
        from: Status,
        index: String,
        after: Option<NetworkInterface>,
        release_on_apply: Vec<ClaimKey>,
        release_on_undo: Vec<ClaimKey>,
    },
    CreateInstance {
        instance_id: String,
    },
    UpdateInstance {
        instance_id: String,
        from: Status,
        patch: InstancePatch,
        released_name: Option<String>,
    },
    UpdateInstanceMetadata {
        instance_id: String,
        from: Status,
        delete: Vec<String>,
        upsert: BTreeMap<String, String>,
    },
    DeleteInstance {
        instance_id: String,
        from: Status,
    },
    Stop {
        instance_id: String,
        from: Status,
    },
    Start {
        instance_id: String,
        from: Status,
    },
    Restart {
        instance_id: String,
        from: Status,
    },
    CreateNetwork {
        network_id: String,
    },
    UpdateNetwork {
        network_id: String,
        patch: NetworkPatch,
        released_name: Option<String>,
    },
    DeleteNetwork {
        network_id: String,
    },
    CreateSubnet {
        subnet_id: String,
    },
    UpdateSubnet {
        subnet_id: String,
        patch: SubnetPatch,
        v4_cidr_blocks: Option<Vec<ipnet::Ipv4Net>>,
        released_name: Option<String>,
    },
    DeleteSubnet {
        subnet_id: String,
    },
    CreateAddress {
        address_id: String,
    },
    UpdateAddress {
        address_id: String,
        patch: AddressPatch,
        released_name: Option<String>,
    },
    DeleteAddress {
        address_id: String,
    },
    CreateSecurityGroup {
        security_group_id: String,
    },
    UpdateSecurityGroup {
        security_group_id: String,
        patch: SecurityGroupPatch,
        released_name: Option<String>,
    },
    DeleteSecurityGroup {
        security_group_id: String,
    },
}
