//! Domain values as contract messages, and the instance settings netplane stores as fragments.

use std::collections::BTreeMap;

use crate::proto::wkt::Any;
use prost::Message;

use super::pack::{pack, timestamp};
use super::status::rpc_status;
use crate::api::answer::Packed;
use crate::domain::address::Address;
use crate::domain::disk::{Disk, DiskSource, DiskStatus};
use crate::domain::gateway::Gateway;
use crate::domain::image::{Image, ImageStatus, OsType};
use crate::domain::instance::{self as di, DiskMode, Instance, Status};
use crate::domain::network::Network;
use crate::domain::route_table::{NextHop, RouteTable, StaticRoute};
use crate::domain::security_group::{Direction, Rule, SecurityGroup, Target};
use crate::domain::subnet::{DhcpOptions, Subnet};
use crate::error::{Error, Result};
use crate::ops::{Metadata, Movable, Operation, Response};
use crate::proto::yandex::cloud::compute::v1 as cpb;
use crate::proto::yandex::cloud::operation as opb;
use crate::proto::yandex::cloud::vpc::v1 as vpb;

fn status(s: Status) -> cpb::instance::Status {
    use cpb::instance::Status as P;
    match s {
        Status::Provisioning => P::Provisioning,
        Status::Running => P::Running,
        Status::Stopping => P::Stopping,
        Status::Stopped => P::Stopped,
        Status::Starting => P::Starting,
        Status::Restarting => P::Restarting,
        Status::Updating => P::Updating,
        Status::Error => P::Error,
        Status::Crashed => P::Crashed,
        Status::Deleting => P::Deleting,
    }
}

fn disk(d: &di::AttachedDisk) -> cpb::AttachedDisk {
    let mode = match d.mode {
        DiskMode::ReadOnly => cpb::attached_disk::Mode::ReadOnly,
        DiskMode::ReadWrite => cpb::attached_disk::Mode::ReadWrite,
    };
    cpb::AttachedDisk { mode: mode as i32, device_name: d.device_name.clone(), auto_delete: d.auto_delete, disk_id: d.disk_id.clone() }
}

fn dns(records: &[di::DnsRecord]) -> Vec<cpb::DnsRecord> {
    records.iter().map(|r| cpb::DnsRecord { fqdn: r.fqdn.clone(), dns_zone_id: r.dns_zone_id.clone(), ttl: r.ttl, ptr: r.ptr }).collect()
}

fn interface(n: &di::NetworkInterface) -> cpb::NetworkInterface {
    cpb::NetworkInterface {
        index: n.index.clone(),
        mac_address: n.mac_address.clone(),
        subnet_id: n.subnet_id.clone(),
        primary_v4_address: n.primary_v4_address.as_ref().map(|p| cpb::PrimaryAddress {
            address: p.address.clone(),
            one_to_one_nat: p.one_to_one_nat.as_ref().map(|nat| cpb::OneToOneNat {
                address: nat.address.clone(),
                ip_version: cpb::IpVersion::Ipv4 as i32,
                dns_records: dns(&nat.dns_records),
            }),
            dns_records: dns(&p.dns_records),
        }),
        primary_v6_address: None,
        security_group_ids: n.security_group_ids.clone(),
    }
}

/// The settings fragments merged back into one message (protobuf decoding of concatenated
/// encodings merges them), then the modelled fields laid over it.
pub fn instance(i: &Instance) -> Result<cpb::Instance> {
    let mut merged = Vec::new();
    for fragment in i.settings.values() {
        merged.extend_from_slice(fragment);
    }
    let mut p = cpb::Instance::decode(merged.as_slice()).map_err(|e| Error::Internal(format!("instance {} settings: {e}", i.id)))?;
    p.id = i.id.clone();
    p.folder_id = i.folder_id.clone();
    p.created_at = timestamp(i.created_at);
    p.name = i.name.clone();
    p.description = i.description.clone();
    p.labels = i.labels.clone();
    p.zone_id = i.zone_id.clone();
    p.platform_id = i.platform_id.clone();
    p.resources = Some(cpb::Resources {
        memory: i.resources.memory,
        cores: i.resources.cores,
        core_fraction: i.resources.core_fraction,
        gpus: i.resources.gpus,
    });
    p.status = status(i.status) as i32;
    p.metadata = i.metadata.clone();
    p.boot_disk = i.boot_disk.as_ref().map(disk);
    p.secondary_disks = i.secondary_disks.iter().map(disk).collect();
    p.network_interfaces = i.network_interfaces.iter().map(interface).collect();
    p.fqdn = i.fqdn();
    p.service_account_id = i.service_account_id.clone();
    // Terraform dereferences these without a nil check: always sent, empty or not.
    p.scheduling_policy.get_or_insert_default();
    p.placement_policy.get_or_insert_default();
    p.metadata_options.get_or_insert_default();
    Ok(p)
}

pub fn disk_resource(d: &Disk) -> cpb::Disk {
    let source = match &d.source {
        DiskSource::Empty => None,
        DiskSource::Image(id) => Some(cpb::disk::Source::SourceImageId(id.clone())),
        DiskSource::Snapshot(id) => Some(cpb::disk::Source::SourceSnapshotId(id.clone())),
    };
    let status = match d.status {
        DiskStatus::Creating => cpb::disk::Status::Creating,
        DiskStatus::Ready => cpb::disk::Status::Ready,
        DiskStatus::Error => cpb::disk::Status::Error,
        DiskStatus::Deleting => cpb::disk::Status::Deleting,
    };
    cpb::Disk {
        id: d.id.clone(),
        folder_id: d.folder_id.clone(),
        created_at: timestamp(d.created_at),
        name: d.name.clone(),
        description: d.description.clone(),
        labels: d.labels.clone(),
        type_id: d.type_id.clone(),
        zone_id: d.zone_id.clone(),
        size: d.size,
        block_size: d.block_size,
        product_ids: d.product_ids.clone(),
        status: status as i32,
        source,
        instance_ids: d.instance_id.iter().cloned().collect(),
        // Terraform reads `placement_group_id` from it without a nil check.
        disk_placement_policy: Some(cpb::DiskPlacementPolicy {
            placement_group_id: d.placement_group_id.clone(),
            placement_group_partition: d.placement_group_partition,
        }),
        hardware_generation: None,
        kms_key: None,
    }
}

pub fn route_table(t: &RouteTable) -> vpb::RouteTable {
    let route = |r: &StaticRoute| vpb::StaticRoute {
        destination: Some(vpb::static_route::Destination::DestinationPrefix(r.destination_prefix.to_string())),
        next_hop: Some(match &r.next_hop {
            NextHop::Address(ip) => vpb::static_route::NextHop::NextHopAddress(ip.to_string()),
            NextHop::Gateway(id) => vpb::static_route::NextHop::GatewayId(id.clone()),
        }),
        labels: r.labels.clone(),
    };
    vpb::RouteTable {
        id: t.id.clone(),
        folder_id: t.folder_id.clone(),
        created_at: timestamp(t.created_at),
        name: t.name.clone(),
        description: t.description.clone(),
        labels: t.labels.clone(),
        network_id: t.network_id.clone(),
        static_routes: t.static_routes.iter().map(route).collect(),
    }
}

/// Always with `shared_egress_gateway` set (empty): Terraform reads its absence as a change.
pub fn gateway(g: &Gateway) -> vpb::Gateway {
    vpb::Gateway {
        id: g.id.clone(),
        folder_id: g.folder_id.clone(),
        created_at: timestamp(g.created_at),
        name: g.name.clone(),
        description: g.description.clone(),
        labels: g.labels.clone(),
        gateway: Some(vpb::gateway::Gateway::SharedEgressGateway(vpb::SharedEgressGateway {})),
    }
}

pub fn image(i: &Image) -> cpb::Image {
    let status = match i.status {
        ImageStatus::Creating => cpb::image::Status::Creating,
        ImageStatus::Ready => cpb::image::Status::Ready,
        ImageStatus::Error => cpb::image::Status::Error,
        ImageStatus::Deleting => cpb::image::Status::Deleting,
    };
    let os = match i.os {
        OsType::Linux => cpb::os::Type::Linux,
        OsType::Windows => cpb::os::Type::Windows,
    };
    cpb::Image {
        id: i.id.clone(),
        folder_id: i.folder_id.clone(),
        created_at: timestamp(i.created_at),
        name: i.name.clone(),
        description: i.description.clone(),
        labels: i.labels.clone(),
        family: i.family.clone(),
        size: i.storage_size,
        storage_size: i.storage_size,
        min_disk_size: i.min_disk_size,
        product_ids: i.product_ids.clone(),
        status: status as i32,
        // Terraform reads `os.type` without a nil check.
        os: Some(cpb::Os { r#type: os as i32, nvidia: None }),
        pooled: i.pooled,
        hardware_generation: None,
        kms_key: None,
    }
}

fn fragment(build: impl FnOnce(&mut cpb::Instance)) -> Vec<u8> {
    let mut p = cpb::Instance::default();
    build(&mut p);
    p.encode_to_vec()
}

/// The settings that Create and Update both carry, by name, each as a fragment of `Instance`:
/// the one list of them (the request types differ, the field names do not).
macro_rules! shared_settings {
    ($r:expr) => {
        [
            ("metadata_options", fragment(|p| p.metadata_options = $r.metadata_options)),
            ("scheduling_policy", fragment(|p| p.scheduling_policy = $r.scheduling_policy)),
            ("network_settings", fragment(|p| p.network_settings = $r.network_settings)),
            ("placement_policy", fragment(|p| p.placement_policy = $r.placement_policy.clone())),
            ("maintenance_policy", fragment(|p| p.maintenance_policy = $r.maintenance_policy)),
            ("maintenance_grace_period", fragment(|p| p.maintenance_grace_period = $r.maintenance_grace_period)),
            ("serial_port_settings", fragment(|p| p.serial_port_settings = $r.serial_port_settings)),
            ("application", fragment(|p| p.application = $r.application.clone())),
            ("reserved_instance_pool_id", fragment(|p| p.reserved_instance_pool_id = $r.reserved_instance_pool_id.clone())),
        ]
    };
}

/// The unmodelled Instance fields a Create request sets, one fragment per field.
pub fn create_settings(r: &cpb::CreateInstanceRequest) -> BTreeMap<String, Vec<u8>> {
    let local_disks = fragment(|p| {
        p.local_disks = r
            .local_disk_specs
            .iter()
            .enumerate()
            .map(|(i, d)| cpb::AttachedLocalDisk { size: d.size, device_name: format!("local-disk-{i}"), r#type: None })
            .collect()
    });
    let filesystems = fragment(|p| {
        p.filesystems = r
            .filesystem_specs
            .iter()
            .map(|f| cpb::AttachedFilesystem { mode: f.mode, device_name: f.device_name.clone(), filesystem_id: f.filesystem_id.clone() })
            .collect()
    });
    let create_only = [
        ("gpu_settings", fragment(|p| p.gpu_settings = r.gpu_settings.clone())),
        ("local_disks", local_disks),
        ("filesystems", filesystems),
    ];
    shared_settings!(r)
        .into_iter()
        .chain(create_only)
        .filter(|(_, bytes)| !bytes.is_empty())
        .map(|(name, bytes)| (name.to_string(), bytes))
        .collect()
}

/// Settings fields an Update may replace: `Some(fragment)` to set, `None` to clear.
pub fn update_settings(r: &cpb::UpdateInstanceRequest, paths: &[String]) -> BTreeMap<String, Option<Vec<u8>>> {
    shared_settings!(r)
        .into_iter()
        .filter(|(name, _)| paths.iter().any(|p| p == name))
        .map(|(name, bytes)| (name.to_string(), (!bytes.is_empty()).then_some(bytes)))
        .collect()
}

pub fn network(n: &Network) -> vpb::Network {
    vpb::Network {
        id: n.id.clone(),
        folder_id: n.folder_id.clone(),
        created_at: timestamp(n.created_at),
        name: n.name.clone(),
        description: n.description.clone(),
        labels: n.labels.clone(),
        default_security_group_id: n.default_security_group_id.clone(),
    }
}

pub fn dhcp_options(d: &DhcpOptions) -> vpb::DhcpOptions {
    vpb::DhcpOptions {
        domain_name_servers: d.domain_name_servers.clone(),
        domain_name: d.domain_name.clone(),
        ntp_servers: d.ntp_servers.clone(),
    }
}

pub fn subnet(s: &Subnet) -> vpb::Subnet {
    vpb::Subnet {
        id: s.id.clone(),
        folder_id: s.folder_id.clone(),
        created_at: timestamp(s.created_at),
        name: s.name.clone(),
        description: s.description.clone(),
        labels: s.labels.clone(),
        network_id: s.network_id.clone(),
        zone_id: s.zone_id.clone(),
        v4_cidr_blocks: s.v4_cidr_blocks.iter().map(|b| b.to_string()).collect(),
        v6_cidr_blocks: vec![],
        route_table_id: s.route_table_id.clone(),
        dhcp_options: s.dhcp_options.as_ref().map(dhcp_options),
    }
}

pub fn address(a: &Address, used: bool) -> vpb::Address {
    vpb::Address {
        id: a.id.clone(),
        folder_id: a.folder_id.clone(),
        created_at: timestamp(a.created_at),
        name: a.name.clone(),
        description: a.description.clone(),
        labels: a.labels.clone(),
        address: Some(if a.is_internal() {
            vpb::address::Address::InternalIpv4Address(vpb::InternalIpv4Address {
                address: a.address.clone(),
                scope: Some(vpb::internal_ipv4_address::Scope::SubnetId(a.subnet_id.clone())),
            })
        } else {
            vpb::address::Address::ExternalIpv4Address(vpb::ExternalIpv4Address {
                address: a.address.clone(),
                zone_id: a.zone_id.clone(),
                requirements: Some(vpb::AddressRequirements {
                    ddos_protection_provider: a.ddos_protection_provider.clone(),
                    outgoing_smtp_capability: a.outgoing_smtp_capability.clone(),
                }),
            })
        }),
        reserved: a.reserved,
        used,
        r#type: if a.is_internal() { vpb::address::Type::Internal } else { vpb::address::Type::External } as i32,
        ip_version: vpb::address::IpVersion::Ipv4 as i32,
        deletion_protection: a.deletion_protection,
        dns_records: a
            .dns_records
            .iter()
            .map(|r| vpb::DnsRecord { fqdn: r.fqdn.clone(), dns_zone_id: r.dns_zone_id.clone(), ttl: r.ttl, ptr: r.ptr })
            .collect(),
    }
}

fn rule(r: &Rule) -> vpb::SecurityGroupRule {
    use vpb::security_group_rule::{Direction as D, Target as T};
    vpb::SecurityGroupRule {
        id: r.id.clone(),
        description: r.description.clone(),
        labels: r.labels.clone(),
        direction: match r.direction {
            Direction::Ingress => D::Ingress as i32,
            Direction::Egress => D::Egress as i32,
        },
        ports: r.ports.map(|(from_port, to_port)| vpb::PortRange { from_port, to_port }),
        protocol_name: r.protocol_name.clone(),
        protocol_number: r.protocol_number,
        target: Some(match &r.target {
            Target::Cidr { v4, v6 } => T::CidrBlocks(vpb::CidrBlocks { v4_cidr_blocks: v4.clone(), v6_cidr_blocks: v6.clone() }),
            Target::SecurityGroup(id) => T::SecurityGroupId(id.clone()),
            Target::Predefined(t) => T::PredefinedTarget(t.clone()),
        }),
    }
}

pub fn security_group(g: &SecurityGroup) -> vpb::SecurityGroup {
    vpb::SecurityGroup {
        id: g.id.clone(),
        folder_id: g.folder_id.clone(),
        created_at: timestamp(g.created_at),
        name: g.name.clone(),
        description: g.description.clone(),
        labels: g.labels.clone(),
        network_id: g.network_id.clone(),
        status: vpb::security_group::Status::Active as i32,
        rules: g.rules.iter().map(rule).collect(),
        default_for_network: g.default_for_network,
    }
}

/// Each kind's `Move<Kind>Metadata` (compute's carry both folders, VPC's only the id).
fn move_metadata(kind: Movable, id: &str, source: &str, destination: &str) -> Any {
    let id = id.to_string();
    match kind {
        Movable::Network => pack("yandex.cloud.vpc.v1.MoveNetworkMetadata", &vpb::MoveNetworkMetadata { network_id: id }),
        Movable::Subnet => pack("yandex.cloud.vpc.v1.MoveSubnetMetadata", &vpb::MoveSubnetMetadata { subnet_id: id }),
        Movable::Address => pack("yandex.cloud.vpc.v1.MoveAddressMetadata", &vpb::MoveAddressMetadata { address_id: id }),
        Movable::SecurityGroup => {
            pack("yandex.cloud.vpc.v1.MoveSecurityGroupMetadata", &vpb::MoveSecurityGroupMetadata { security_group_id: id })
        }
        Movable::RouteTable => pack("yandex.cloud.vpc.v1.MoveRouteTableMetadata", &vpb::MoveRouteTableMetadata { route_table_id: id }),
        Movable::Gateway => pack("yandex.cloud.vpc.v1.MoveGatewayMetadata", &vpb::MoveGatewayMetadata { gateway_id: id }),
        Movable::Instance => pack(
            "yandex.cloud.compute.v1.MoveInstanceMetadata",
            &cpb::MoveInstanceMetadata { instance_id: id, source_folder_id: source.into(), destination_folder_id: destination.into() },
        ),
        Movable::Disk => pack(
            "yandex.cloud.compute.v1.MoveDiskMetadata",
            &cpb::MoveDiskMetadata { disk_id: id, source_folder_id: source.into(), destination_folder_id: destination.into() },
        ),
    }
}

fn metadata(m: &Metadata) -> Any {
    let instance_id = |id: &String| id.clone();
    match m {
        Metadata::CreateInstance { instance_id: id } => {
            pack("yandex.cloud.compute.v1.CreateInstanceMetadata", &cpb::CreateInstanceMetadata { instance_id: instance_id(id) })
        }
        Metadata::UpdateInstance { instance_id: id } => {
            pack("yandex.cloud.compute.v1.UpdateInstanceMetadata", &cpb::UpdateInstanceMetadata { instance_id: instance_id(id) })
        }
        Metadata::DeleteInstance { instance_id: id } => {
            pack("yandex.cloud.compute.v1.DeleteInstanceMetadata", &cpb::DeleteInstanceMetadata { instance_id: instance_id(id) })
        }
        Metadata::UpdateInstanceMetadata { instance_id: id } => pack(
            "yandex.cloud.compute.v1.UpdateInstanceMetadataMetadata",
            &cpb::UpdateInstanceMetadataMetadata { instance_id: instance_id(id) },
        ),
        Metadata::StopInstance { instance_id: id } => {
            pack("yandex.cloud.compute.v1.StopInstanceMetadata", &cpb::StopInstanceMetadata { instance_id: instance_id(id) })
        }
        Metadata::StartInstance { instance_id: id } => {
            pack("yandex.cloud.compute.v1.StartInstanceMetadata", &cpb::StartInstanceMetadata { instance_id: instance_id(id) })
        }
        Metadata::RestartInstance { instance_id: id } => {
            pack("yandex.cloud.compute.v1.RestartInstanceMetadata", &cpb::RestartInstanceMetadata { instance_id: instance_id(id) })
        }
        Metadata::AttachNetworkInterface { instance_id, network_interface_index } => pack(
            "yandex.cloud.compute.v1.AttachInstanceNetworkInterfaceMetadata",
            &cpb::AttachInstanceNetworkInterfaceMetadata {
                instance_id: instance_id.clone(),
                network_interface_index: network_interface_index.clone(),
            },
        ),
        Metadata::DetachNetworkInterface { instance_id, network_interface_index } => pack(
            "yandex.cloud.compute.v1.DetachInstanceNetworkInterfaceMetadata",
            &cpb::DetachInstanceNetworkInterfaceMetadata {
                instance_id: instance_id.clone(),
                network_interface_index: network_interface_index.clone(),
            },
        ),
        Metadata::UpdateNetworkInterface { instance_id, network_interface_index } => pack(
            "yandex.cloud.compute.v1.UpdateInstanceNetworkInterfaceMetadata",
            &cpb::UpdateInstanceNetworkInterfaceMetadata {
                instance_id: instance_id.clone(),
                network_interface_index: network_interface_index.clone(),
            },
        ),
        Metadata::AddOneToOneNat { instance_id } => pack(
            "yandex.cloud.compute.v1.AddInstanceOneToOneNatMetadata",
            &cpb::AddInstanceOneToOneNatMetadata { instance_id: instance_id.clone() },
        ),
        Metadata::RemoveOneToOneNat { instance_id } => pack(
            "yandex.cloud.compute.v1.RemoveInstanceOneToOneNatMetadata",
            &cpb::RemoveInstanceOneToOneNatMetadata { instance_id: instance_id.clone() },
        ),
        Metadata::AttachDisk { instance_id, disk_id } => pack(
            "yandex.cloud.compute.v1.AttachInstanceDiskMetadata",
            &cpb::AttachInstanceDiskMetadata { instance_id: instance_id.clone(), disk_id: disk_id.clone() },
        ),
        Metadata::DetachDisk { instance_id, disk_id } => pack(
            "yandex.cloud.compute.v1.DetachInstanceDiskMetadata",
            &cpb::DetachInstanceDiskMetadata { instance_id: instance_id.clone(), disk_id: disk_id.clone() },
        ),
        Metadata::CreateDisk { disk_id } => {
            pack("yandex.cloud.compute.v1.CreateDiskMetadata", &cpb::CreateDiskMetadata { disk_id: disk_id.clone() })
        }
        Metadata::UpdateDisk { disk_id } => {
            pack("yandex.cloud.compute.v1.UpdateDiskMetadata", &cpb::UpdateDiskMetadata { disk_id: disk_id.clone() })
        }
        Metadata::DeleteDisk { disk_id } => {
            pack("yandex.cloud.compute.v1.DeleteDiskMetadata", &cpb::DeleteDiskMetadata { disk_id: disk_id.clone() })
        }
        Metadata::CreateImage { image_id } => {
            pack("yandex.cloud.compute.v1.CreateImageMetadata", &cpb::CreateImageMetadata { image_id: image_id.clone() })
        }
        Metadata::UpdateImage { image_id } => {
            pack("yandex.cloud.compute.v1.UpdateImageMetadata", &cpb::UpdateImageMetadata { image_id: image_id.clone() })
        }
        Metadata::DeleteImage { image_id } => {
            pack("yandex.cloud.compute.v1.DeleteImageMetadata", &cpb::DeleteImageMetadata { image_id: image_id.clone() })
        }
        Metadata::Move { kind, id, source_folder_id, destination_folder_id } => {
            move_metadata(*kind, id, source_folder_id, destination_folder_id)
        }
        Metadata::UpdateSecurityGroupRule { security_group_id, rule_id } => pack(
            "yandex.cloud.vpc.v1.UpdateSecurityGroupRuleMetadata",
            &vpb::UpdateSecurityGroupRuleMetadata { security_group_id: security_group_id.clone(), rule_id: rule_id.clone() },
        ),
        Metadata::CreateRouteTable { route_table_id } => {
            pack("yandex.cloud.vpc.v1.CreateRouteTableMetadata", &vpb::CreateRouteTableMetadata { route_table_id: route_table_id.clone() })
        }
        Metadata::UpdateRouteTable { route_table_id } => {
            pack("yandex.cloud.vpc.v1.UpdateRouteTableMetadata", &vpb::UpdateRouteTableMetadata { route_table_id: route_table_id.clone() })
        }
        Metadata::DeleteRouteTable { route_table_id } => {
            pack("yandex.cloud.vpc.v1.DeleteRouteTableMetadata", &vpb::DeleteRouteTableMetadata { route_table_id: route_table_id.clone() })
        }
        Metadata::CreateGateway { gateway_id } => {
            pack("yandex.cloud.vpc.v1.CreateGatewayMetadata", &vpb::CreateGatewayMetadata { gateway_id: gateway_id.clone() })
        }
        Metadata::UpdateGateway { gateway_id } => {
            pack("yandex.cloud.vpc.v1.UpdateGatewayMetadata", &vpb::UpdateGatewayMetadata { gateway_id: gateway_id.clone() })
        }
        Metadata::DeleteGateway { gateway_id } => {
            pack("yandex.cloud.vpc.v1.DeleteGatewayMetadata", &vpb::DeleteGatewayMetadata { gateway_id: gateway_id.clone() })
        }
        Metadata::CreateAddress { address_id } => {
            pack("yandex.cloud.vpc.v1.CreateAddressMetadata", &vpb::CreateAddressMetadata { address_id: address_id.clone() })
        }
        Metadata::UpdateAddress { address_id } => {
            pack("yandex.cloud.vpc.v1.UpdateAddressMetadata", &vpb::UpdateAddressMetadata { address_id: address_id.clone() })
        }
        Metadata::DeleteAddress { address_id } => {
            pack("yandex.cloud.vpc.v1.DeleteAddressMetadata", &vpb::DeleteAddressMetadata { address_id: address_id.clone() })
        }
        Metadata::CreateSecurityGroup { security_group_id } => pack(
            "yandex.cloud.vpc.v1.CreateSecurityGroupMetadata",
            &vpb::CreateSecurityGroupMetadata { security_group_id: security_group_id.clone() },
        ),
        Metadata::UpdateSecurityGroup { security_group_id, added_rule_ids } => pack(
            "yandex.cloud.vpc.v1.UpdateSecurityGroupMetadata",
            &vpb::UpdateSecurityGroupMetadata { security_group_id: security_group_id.clone(), added_rule_ids: added_rule_ids.clone() },
        ),
        Metadata::DeleteSecurityGroup { security_group_id } => pack(
            "yandex.cloud.vpc.v1.DeleteSecurityGroupMetadata",
            &vpb::DeleteSecurityGroupMetadata { security_group_id: security_group_id.clone() },
        ),
        Metadata::CreateNetwork { network_id } => {
            pack("yandex.cloud.vpc.v1.CreateNetworkMetadata", &vpb::CreateNetworkMetadata { network_id: network_id.clone() })
        }
        Metadata::UpdateNetwork { network_id } => {
            pack("yandex.cloud.vpc.v1.UpdateNetworkMetadata", &vpb::UpdateNetworkMetadata { network_id: network_id.clone() })
        }
        Metadata::DeleteNetwork { network_id } => {
            pack("yandex.cloud.vpc.v1.DeleteNetworkMetadata", &vpb::DeleteNetworkMetadata { network_id: network_id.clone() })
        }
        Metadata::CreateSubnet { subnet_id } => {
            pack("yandex.cloud.vpc.v1.CreateSubnetMetadata", &vpb::CreateSubnetMetadata { subnet_id: subnet_id.clone() })
        }
        Metadata::UpdateSubnet { subnet_id } => {
            pack("yandex.cloud.vpc.v1.UpdateSubnetMetadata", &vpb::UpdateSubnetMetadata { subnet_id: subnet_id.clone() })
        }
        Metadata::DeleteSubnet { subnet_id } => {
            pack("yandex.cloud.vpc.v1.DeleteSubnetMetadata", &vpb::DeleteSubnetMetadata { subnet_id: subnet_id.clone() })
        }
    }
}

/// An operation's response packed, and (but for `Empty`) kept typed for the REST gateway.
fn response(r: &Response) -> Result<(Any, Option<Packed>)> {
    fn kept<M: Message + Send + Sync + 'static>(full_name: &'static str, message: M) -> (Any, Option<Packed>) {
        (pack(full_name, &message), Some(Packed::new(full_name, message)))
    }
    Ok(match r {
        Response::Empty => (pack("google.protobuf.Empty", &()), None),
        Response::Instance(i) => kept("yandex.cloud.compute.v1.Instance", instance(i)?),
        Response::Network(n) => kept("yandex.cloud.vpc.v1.Network", network(n)),
        Response::Subnet(s) => kept("yandex.cloud.vpc.v1.Subnet", subnet(s)),
        Response::Address(a, used) => kept("yandex.cloud.vpc.v1.Address", address(a, *used)),
        Response::SecurityGroup(g) => kept("yandex.cloud.vpc.v1.SecurityGroup", security_group(g)),
        Response::SecurityGroupRule(r) => kept("yandex.cloud.vpc.v1.SecurityGroupRule", rule(r)),
        Response::Disk(d) => kept("yandex.cloud.compute.v1.Disk", disk_resource(d)),
        Response::Image(i) => kept("yandex.cloud.compute.v1.Image", image(i)),
        Response::RouteTable(t) => kept("yandex.cloud.vpc.v1.RouteTable", route_table(t)),
        Response::Gateway(g) => kept("yandex.cloud.vpc.v1.Gateway", gateway(g)),
    })
}

/// An operation as the contract's message, with the message its `response` packs kept typed
/// (`reply::respond_operation` hands it to the REST gateway; gRPC drops it).
pub struct OperationAnswer {
    pub message: opb::Operation,
    pub packed: Option<Packed>,
}

pub fn operation(op: &Operation) -> Result<opb::Operation> {
    operation_answer(op).map(|answer| answer.message)
}

pub fn operation_answer(op: &Operation) -> Result<OperationAnswer> {
    let (result, packed) = match &op.result {
        None => (None, None),
        Some(Ok(r)) => {
            let (any, packed) = response(r)?;
            (Some(opb::operation::Result::Response(any)), packed)
        }
        Some(Err(e)) => (Some(opb::operation::Result::Error(rpc_status(e, None))), None),
    };
    let message = opb::Operation {
        id: op.id.clone(),
        description: op.description.clone(),
        created_at: timestamp(op.created_at),
        created_by: op.created_by.clone(),
        modified_at: timestamp(op.modified_at),
        done: op.done,
        metadata: Some(metadata(&op.metadata)),
        result,
    };
    Ok(OperationAnswer { message, packed })
}

pub fn operations(ops: &[Operation]) -> Result<Vec<opb::Operation>> {
    ops.iter().map(operation).collect()
}
