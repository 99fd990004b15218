//! Request builders and small helpers shared by the tests.

use netplane::proto::google::rpc;
use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::operation::Operation;
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use prost::Message;

use crate::harness::Clients;

pub const FOLDER: &str = "b1gfolder0000000000";
pub const ZONE: &str = "ru-central1-a";

pub fn unpack<M: Message + Default>(any: &netplane::proto::wkt::Any, full_name: &str) -> M {
    assert_eq!(any.type_url, format!("type.googleapis.com/{full_name}"));
    M::decode(any.value.as_slice()).expect("decode Any")
}

pub fn response<M: Message + Default>(op: &Operation, full_name: &str) -> M {
    use netplane::proto::yandex::cloud::operation::operation::Result as R;
    match &op.result {
        Some(R::Response(any)) => unpack(any, full_name),
        other => panic!("operation {} has no response: {other:?}", op.id),
    }
}

pub fn op_error(op: &Operation) -> rpc::Status {
    use netplane::proto::yandex::cloud::operation::operation::Result as R;
    match &op.result {
        Some(R::Error(e)) => e.clone(),
        other => panic!("operation {} has no error: {other:?}", op.id),
    }
}

/// The BadRequest field names of an INVALID_ARGUMENT status.
pub fn violations(status: &tonic::Status) -> Vec<String> {
    let details = rpc::Status::decode(status.details()).expect("status details");
    details
        .details
        .iter()
        .filter(|d| d.type_url.ends_with("google.rpc.BadRequest"))
        .flat_map(|d| rpc::BadRequest::decode(d.value.as_slice()).expect("BadRequest").field_violations)
        .map(|v| v.field)
        .collect()
}

pub async fn network(c: &Clients, name: &str) -> vpb::Network {
    let op = c
        .networks
        .clone()
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: name.into(), ..Default::default() })
        .await
        .expect("create network")
        .into_inner();
    response(&c.wait(&op).await, "yandex.cloud.vpc.v1.Network")
}

pub async fn subnet(c: &Clients, network_id: &str, cidr: &str) -> vpb::Subnet {
    let op = c
        .subnets
        .clone()
        .create(vpb::CreateSubnetRequest {
            folder_id: FOLDER.into(),
            network_id: network_id.into(),
            zone_id: ZONE.into(),
            v4_cidr_blocks: vec![cidr.into()],
            ..Default::default()
        })
        .await
        .expect("create subnet")
        .into_inner();
    response(&c.wait(&op).await, "yandex.cloud.vpc.v1.Subnet")
}

/// A security group allowing SSH in.
pub async fn security_group(c: &Clients, network_id: &str, name: &str) -> vpb::SecurityGroup {
    let rule = vpb::SecurityGroupRuleSpec {
        direction: vpb::security_group_rule::Direction::Ingress as i32,
        ports: Some(vpb::PortRange { from_port: 22, to_port: 22 }),
        protocol: Some(vpb::security_group_rule_spec::Protocol::ProtocolName("TCP".into())),
        target: Some(vpb::security_group_rule_spec::Target::CidrBlocks(vpb::CidrBlocks {
            v4_cidr_blocks: vec!["0.0.0.0/0".into()],
            v6_cidr_blocks: vec![],
        })),
        ..Default::default()
    };
    let op = c
        .security_groups()
        .create(vpb::CreateSecurityGroupRequest {
            folder_id: FOLDER.into(),
            name: name.into(),
            network_id: network_id.into(),
            rule_specs: vec![rule],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    response(&c.wait(&op).await, "yandex.cloud.vpc.v1.SecurityGroup")
}

pub fn nic(subnet_id: &str) -> cpb::NetworkInterfaceSpec {
    cpb::NetworkInterfaceSpec { subnet_id: subnet_id.into(), ..Default::default() }
}

pub fn nic_with(subnet_id: &str, address: &str, nat: bool) -> cpb::NetworkInterfaceSpec {
    cpb::NetworkInterfaceSpec {
        subnet_id: subnet_id.into(),
        primary_v4_address_spec: Some(cpb::PrimaryAddressSpec {
            address: address.into(),
            one_to_one_nat_spec: nat.then(|| cpb::OneToOneNatSpec { ip_version: cpb::IpVersion::Ipv4 as i32, ..Default::default() }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn create_instance(name: &str, nics: Vec<cpb::NetworkInterfaceSpec>) -> cpb::CreateInstanceRequest {
    cpb::CreateInstanceRequest {
        folder_id: FOLDER.into(),
        name: name.into(),
        zone_id: ZONE.into(),
        platform_id: "standard-v3".into(),
        resources_spec: Some(cpb::ResourcesSpec { memory: 2 << 30, cores: 2, core_fraction: 100, gpus: 0 }),
        boot_disk_spec: Some(cpb::AttachedDiskSpec {
            auto_delete: true,
            disk: Some(cpb::attached_disk_spec::Disk::DiskSpec(cpb::attached_disk_spec::DiskSpec {
                size: 10 << 30,
                source: Some(cpb::attached_disk_spec::disk_spec::Source::ImageId("fd85u0rct32prepgjlv0".into())),
                ..Default::default()
            })),
            ..Default::default()
        }),
        network_interface_specs: nics,
        ..Default::default()
    }
}

/// Creates an instance and waits for it to run.
pub async fn instance(c: &Clients, req: cpb::CreateInstanceRequest) -> cpb::Instance {
    let op = c.instances.clone().create(req).await.expect("create instance").into_inner();
    response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance")
}

pub async fn used_addresses(c: &Clients, subnet_id: &str) -> Vec<String> {
    c.subnets
        .clone()
        .list_used_addresses(vpb::ListUsedAddressesRequest { subnet_id: subnet_id.into(), ..Default::default() })
        .await
        .expect("list used addresses")
        .into_inner()
        .addresses
        .into_iter()
        .map(|a| a.address)
        .collect()
}

/// A network, a subnet of `cidr`, a security group and `n` stopped instances (`{name}-{i}`), each
/// with one interface in that subnet: what the replica and crash tests work on.
pub struct StoppedInstances {
    pub subnet_id: String,
    pub security_group_id: String,
    pub vms: Vec<String>,
}

pub async fn stopped_instances(c: &Clients, name: &str, cidr: &str, n: usize) -> StoppedInstances {
    let net = network(c, name).await;
    let sub = subnet(c, &net.id, cidr).await;
    let sg = security_group(c, &net.id, "ssh").await;
    let mut vms = Vec::new();
    for i in 0..n {
        let vm = instance(c, create_instance(&format!("{name}-{i}"), vec![nic(&sub.id)])).await;
        let stop = c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.expect("stop");
        c.wait(&stop.into_inner()).await;
        vms.push(vm.id);
    }
    StoppedInstances { subnet_id: sub.id, security_group_id: sg.id, vms }
}
