//! The work a pending operation still has to do. Plain data, stored in the operation row, so a
//! restarted process finishes what the previous one accepted.

use std::collections::BTreeMap;

use super::flat;

use crate::domain::{
    address::AddressPatch,
    disk::DiskPatch,
    gateway::GatewayPatch,
    image::ImagePatch,
    instance::{AttachedDisk, InstancePatch, NetworkInterface, Status},
    network::NetworkPatch,
    route_table::RouteTablePatch,
    security_group::SecurityGroupPatch,
    subnet::SubnetPatch,
};

/// A claim to give back: `(scope, key)`.
pub type ClaimKey = (String, String);

/// A pending operation's work, grouped by the service module that applies and undoes it, so each
/// module matches its own group exhaustively. Stored flat, as the single enum of earlier releases
/// (`{"CreateNetwork": {..}}`: the inner variants keep those names), so stored rows still decode.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Action {
    Interface(InterfaceAction),
    Instance(InstanceAction),
    Network(NetworkAction),
    Subnet(SubnetAction),
    Address(AddressAction),
    SecurityGroup(SecurityGroupAction),
    Disk(DiskAction),
    Image(ImageAction),
    RouteTable(RouteTableAction),
    Gateway(GatewayAction),
    Move(MoveAction),
}

impl<'de> serde::Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        flat::deserialize(deserializer, "Action")
    }
}

impl<'de> flat::Grouped<'de> for Action {
    fn from_offer<V: serde::de::VariantAccess<'de>>(offer: &mut flat::Offer<'_, V>) -> Result<Option<Self>, V::Error> {
        Ok(if let Some(a) = offer.take()? {
            Some(Action::Interface(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::Instance(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::Network(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::Subnet(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::Address(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::SecurityGroup(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::Disk(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::Image(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::RouteTable(a))
        } else if let Some(a) = offer.take()? {
            Some(Action::Gateway(a))
        } else {
            offer.take()?.map(Action::Move)
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InterfaceAction {
    /// Attach, detach, one-to-one NAT and interface updates: interface `index` becomes `after`
    /// (`None`: removed). Whatever the new interface needed was claimed when the call was
    /// accepted; `release_on_apply` is what the old one held and the new one does not,
    /// `release_on_undo` the reverse.
    #[serde(rename = "ChangeInterface")]
    Change {
        instance_id: String,
        from: Status,
        index: String,
        after: Option<NetworkInterface>,
        release_on_apply: Vec<ClaimKey>,
        release_on_undo: Vec<ClaimKey>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InstanceAction {
    #[serde(rename = "CreateInstance")]
    Create {
        instance_id: String,
    },
    /// `released_name`: the name a rename gives back when it completes.
    #[serde(rename = "UpdateInstance")]
    Update {
        instance_id: String,
        from: Status,
        patch: Box<InstancePatch>,
        released_name: Option<String>,
    },
    #[serde(rename = "UpdateInstanceMetadata")]
    UpdateMetadata {
        instance_id: String,
        from: Status,
        delete: Vec<String>,
        upsert: BTreeMap<String, String>,
    },
    #[serde(rename = "DeleteInstance")]
    Delete {
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
    /// The disk was claimed for the instance, and its row names the instance, when accepted.
    #[serde(rename = "AttachInstanceDisk")]
    AttachDisk {
        instance_id: String,
        from: Status,
        disk: AttachedDisk,
    },
    #[serde(rename = "DetachInstanceDisk")]
    DetachDisk {
        instance_id: String,
        from: Status,
        disk_id: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DiskAction {
    #[serde(rename = "CreateDisk")]
    Create { disk_id: String },
    #[serde(rename = "UpdateDisk")]
    Update { disk_id: String, patch: DiskPatch, released_name: Option<String> },
    #[serde(rename = "DeleteDisk")]
    Delete { disk_id: String },
}

/// `added_gateways`: the gateways the new routes use that the old ones did not (claimed when
/// accepted); the ones no longer used are given back when the update completes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RouteTableAction {
    #[serde(rename = "CreateRouteTable")]
    Create { route_table_id: String },
    #[serde(rename = "UpdateRouteTable")]
    Update { route_table_id: String, patch: RouteTablePatch, released_name: Option<String>, added_gateways: Vec<String> },
    #[serde(rename = "DeleteRouteTable")]
    Delete { route_table_id: String },
}

/// The kinds of resource a `Move` method moves to another folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Movable {
    Network,
    Subnet,
    Address,
    SecurityGroup,
    RouteTable,
    Gateway,
    Instance,
    Disk,
}

/// A move: the resource's name was claimed in the destination folder when accepted (and those
/// of the resources that go `along`, a network's subnets and default security group); completing
/// gives back the names in the source folder and changes the folder.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MoveAction {
    #[serde(rename = "MoveResource")]
    Move { kind: Movable, id: String, source_folder_id: String, destination_folder_id: String, along: Vec<(Movable, String)> },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum GatewayAction {
    #[serde(rename = "CreateGateway")]
    Create { gateway_id: String },
    #[serde(rename = "UpdateGateway")]
    Update { gateway_id: String, patch: GatewayPatch, released_name: Option<String> },
    #[serde(rename = "DeleteGateway")]
    Delete { gateway_id: String },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ImageAction {
    #[serde(rename = "CreateImage")]
    Create { image_id: String },
    #[serde(rename = "UpdateImage")]
    Update { image_id: String, patch: ImagePatch, released_name: Option<String> },
    #[serde(rename = "DeleteImage")]
    Delete { image_id: String },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NetworkAction {
    #[serde(rename = "CreateNetwork")]
    Create { network_id: String },
    #[serde(rename = "UpdateNetwork")]
    Update { network_id: String, patch: NetworkPatch, released_name: Option<String> },
    #[serde(rename = "DeleteNetwork")]
    Delete { network_id: String },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SubnetAction {
    #[serde(rename = "CreateSubnet")]
    Create { subnet_id: String },
    #[serde(rename = "UpdateSubnet")]
    Update { subnet_id: String, patch: Box<SubnetPatch>, v4_cidr_blocks: Option<Vec<ipnet::Ipv4Net>>, released_name: Option<String> },
    #[serde(rename = "DeleteSubnet")]
    Delete { subnet_id: String },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AddressAction {
    #[serde(rename = "CreateAddress")]
    Create { address_id: String },
    #[serde(rename = "UpdateAddress")]
    Update { address_id: String, patch: AddressPatch, released_name: Option<String> },
    #[serde(rename = "DeleteAddress")]
    Delete { address_id: String },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SecurityGroupAction {
    #[serde(rename = "CreateSecurityGroup")]
    Create { security_group_id: String },
    #[serde(rename = "UpdateSecurityGroup")]
    Update { security_group_id: String, patch: SecurityGroupPatch, released_name: Option<String> },
    #[serde(rename = "DeleteSecurityGroup")]
    Delete { security_group_id: String },
    /// `None` leaves a field as it is.
    #[serde(rename = "UpdateSecurityGroupRule")]
    UpdateRule {
        security_group_id: String,
        rule_id: String,
        description: Option<String>,
        labels: Option<std::collections::HashMap<String, String>>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Body;

    fn through_store(action: &Action) -> Action {
        let bytes = Body::value(action.clone()).bytes().unwrap().into_owned();
        Body::from(bytes).decode(|| "action".into()).unwrap()
    }

    #[test]
    fn actions_are_stored_flat_as_earlier_releases_wrote_them() {
        let create = Action::Network(NetworkAction::Create { network_id: "enp1".into() });
        assert_eq!(serde_json::to_value(&create).unwrap(), serde_json::json!({"CreateNetwork": {"network_id": "enp1"}}));
        let stop = Action::Instance(InstanceAction::Stop { instance_id: "fhm1".into(), from: Status::Running });
        assert_eq!(serde_json::to_value(&stop).unwrap(), serde_json::json!({"Stop": {"instance_id": "fhm1", "from": "Running"}}));
        let flat_json = r#"{"DeleteSecurityGroup": {"security_group_id": "enpg"}}"#;
        let read: Action = serde_json::from_str(flat_json).unwrap();
        assert_eq!(read, Action::SecurityGroup(SecurityGroupAction::Delete { security_group_id: "enpg".into() }));
    }

    #[test]
    fn every_group_round_trips_through_the_store_encoding() {
        let actions = [
            Action::Interface(InterfaceAction::Change {
                instance_id: "fhm1".into(),
                from: Status::Running,
                index: "1".into(),
                after: None,
                release_on_apply: vec![("mac".into(), "d0:0d:00:00:00:01".into())],
                release_on_undo: vec![],
            }),
            Action::Instance(InstanceAction::Restart { instance_id: "fhm1".into(), from: Status::Running }),
            Action::Network(NetworkAction::Delete { network_id: "enp1".into() }),
            // An `Ipv4Net` is a string in JSON and a tuple in MessagePack: the case serde's
            // untagged decoding gets wrong.
            Action::Subnet(SubnetAction::Update {
                subnet_id: "e9b1".into(),
                patch: Box::default(),
                v4_cidr_blocks: Some(vec!["10.1.0.0/24".parse().unwrap()]),
                released_name: Some("old".into()),
            }),
            Action::Address(AddressAction::Create { address_id: "e9ba".into() }),
            Action::SecurityGroup(SecurityGroupAction::Update {
                security_group_id: "enpg".into(),
                patch: SecurityGroupPatch::default(),
                released_name: None,
            }),
            Action::Instance(InstanceAction::DetachDisk { instance_id: "fhm1".into(), from: Status::Running, disk_id: "fhmd".into() }),
            Action::Disk(DiskAction::Update {
                disk_id: "fhmd".into(),
                patch: DiskPatch { size: Some(1 << 30), ..Default::default() },
                released_name: None,
            }),
            Action::Image(ImageAction::Delete { image_id: "fd8i".into() }),
        ];
        for action in actions {
            assert_eq!(through_store(&action), action);
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action, "{json}");
        }
    }

    #[test]
    fn an_unknown_action_is_an_error_naming_it() {
        let err = serde_json::from_str::<Action>(r#"{"PaintNetwork": {"network_id": "enp1"}}"#).unwrap_err();
        assert!(err.to_string().contains("PaintNetwork"), "{err}");
        let err = serde_json::from_str::<Action>(r#"{"CreateNetwork": {"subnet_id": 5}}"#).unwrap_err();
        assert!(err.to_string().contains("network_id"), "a known name with a bad body reports the body: {err}");
    }
}
