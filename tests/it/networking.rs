//! Instance network plumbing over gRPC: the seed flow (stop, attach, add NAT, get), every refusal
//! leaving state as it was, addresses and security groups, and concurrent conflicting requests.

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use tonic::Code;

use crate::fixtures::*;
use crate::harness::{Clients, Server};

async fn reserve(c: &Clients, zone: &str) -> vpb::Address {
    let op = c
        .addresses()
        .create(vpb::CreateAddressRequest {
            folder_id: FOLDER.into(),
            address_spec: Some(vpb::create_address_request::AddressSpec::ExternalIpv4AddressSpec(vpb::ExternalIpv4AddressSpec {
                zone_id: zone.into(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    response(&c.wait(&op).await, "yandex.cloud.vpc.v1.Address")
}

fn external(a: &vpb::Address) -> String {
    match &a.address {
        Some(vpb::address::Address::ExternalIpv4Address(e)) => e.address.clone(),
        other => panic!("not external: {other:?}"),
    }
}

async fn get(c: &Clients, id: &str) -> cpb::Instance {
    c.instances.clone().get(cpb::GetInstanceRequest { instance_id: id.into(), ..Default::default() }).await.unwrap().into_inner()
}

async fn address(c: &Clients, id: &str) -> vpb::Address {
    c.addresses().get(vpb::GetAddressRequest { address_id: id.into() }).await.unwrap().into_inner()
}

struct World {
    net: String,
    sub_a: String,
    sub_b: String,
    sg: String,
    vm: cpb::Instance,
}

async fn world(c: &Clients) -> World {
    let net = network(c, "n").await.id;
    let sub_a = subnet(c, &net, "10.1.0.0/24").await.id;
    let sub_b = subnet(c, &net, "10.2.0.0/24").await.id;
    let sg = security_group(c, &net, "ssh").await.id;
    let vm = instance(c, create_instance("vm", vec![nic(&sub_a)])).await;
    World { net, sub_a, sub_b, sg, vm }
}

fn attach(w: &World, index: &str, subnet: &str, address: &str) -> cpb::AttachInstanceNetworkInterfaceRequest {
    cpb::AttachInstanceNetworkInterfaceRequest {
        instance_id: w.vm.id.clone(),
        network_interface_index: index.into(),
        subnet_id: subnet.into(),
        primary_v4_address_spec: Some(cpb::PrimaryAddressSpec {
            address: address.into(),
            dns_record_specs: vec![cpb::DnsRecordSpec { fqdn: "vm-eth1.internal.".into(), ttl: 600, ..Default::default() }],
            ..Default::default()
        }),
        security_group_ids: vec![w.sg.clone()],
    }
}

#[tokio::test]
async fn seed_flow_stop_attach_add_nat_get() {
    // Long enough that the Get below sees the attach still running on a loaded machine.
    let server = Server::start("delay=200ms");
    let c = server.clients().await;
    let w = world(&c).await;
    let mut api = c.instances.clone();
    c.wait(&api.stop(cpb::StopInstanceRequest { instance_id: w.vm.id.clone() }).await.unwrap().into_inner()).await;

    let op = api.attach_network_interface(attach(&w, "1", &w.sub_b, "10.2.0.50")).await.unwrap().into_inner();
    assert!(!op.done);
    let meta: cpb::AttachInstanceNetworkInterfaceMetadata =
        unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.compute.v1.AttachInstanceNetworkInterfaceMetadata");
    assert_eq!((meta.instance_id.as_str(), meta.network_interface_index.as_str()), (w.vm.id.as_str(), "1"));
    assert_eq!(get(&c, &w.vm.id).await.status, cpb::instance::Status::Updating as i32, "UPDATING while the attach runs");
    let attached: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!(attached.status, cpb::instance::Status::Stopped as i32);
    assert_eq!(attached.network_interfaces.len(), 2);
    let eth1 = &attached.network_interfaces[1];
    assert_eq!((eth1.index.as_str(), eth1.subnet_id.as_str()), ("1", w.sub_b.as_str()));
    assert_eq!(eth1.security_group_ids, std::slice::from_ref(&w.sg));
    assert_ne!(eth1.mac_address, attached.network_interfaces[0].mac_address);
    let v4 = eth1.primary_v4_address.as_ref().unwrap();
    assert_eq!(v4.address, "10.2.0.50");
    assert_eq!((v4.dns_records[0].fqdn.as_str(), v4.dns_records[0].ttl), ("vm-eth1.internal.", 600));

    let reserved = reserve(&c, ZONE).await;
    let public = external(&reserved);
    assert!(reserved.reserved && !reserved.used);
    let op = api
        .add_one_to_one_nat(cpb::AddInstanceOneToOneNatRequest {
            instance_id: w.vm.id.clone(),
            network_interface_index: "1".into(),
            one_to_one_nat_spec: Some(cpb::OneToOneNatSpec {
                ip_version: cpb::IpVersion::Ipv4 as i32,
                address: public.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let _: cpb::AddInstanceOneToOneNatMetadata =
        unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.compute.v1.AddInstanceOneToOneNatMetadata");
    let with_nat: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    let nat = with_nat.network_interfaces[1].primary_v4_address.as_ref().unwrap().one_to_one_nat.clone().unwrap();
    assert_eq!((nat.address.as_str(), nat.ip_version), (public.as_str(), cpb::IpVersion::Ipv4 as i32));
    assert!(address(&c, &reserved.id).await.used);
    assert_eq!(get(&c, &w.vm.id).await, with_nat);

    // A static address survives stop/start; it is released by detaching.
    let started: cpb::Instance = response(
        &c.wait(&api.start(cpb::StartInstanceRequest { instance_id: w.vm.id.clone() }).await.unwrap().into_inner()).await,
        "yandex.cloud.compute.v1.Instance",
    );
    assert_eq!(started.network_interfaces[1].primary_v4_address.as_ref().unwrap().one_to_one_nat.as_ref().unwrap().address, public);
    c.wait(&api.stop(cpb::StopInstanceRequest { instance_id: w.vm.id.clone() }).await.unwrap().into_inner()).await;
    let op = api
        .detach_network_interface(cpb::DetachInstanceNetworkInterfaceRequest {
            instance_id: w.vm.id.clone(),
            network_interface_index: "1".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let detached: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!(detached.network_interfaces.len(), 1);
    assert!(!address(&c, &reserved.id).await.used, "detaching frees the static address");
    assert!(used_addresses(&c, &w.sub_b).await.is_empty(), "and the internal one");
    let op = c.security_groups().delete(vpb::DeleteSecurityGroupRequest { security_group_id: w.sg.clone() }).await.unwrap().into_inner();
    assert!(c.wait(&op).await.done, "and the security group");
    let _ = w.net;
}

#[tokio::test]
async fn attach_refusals_leave_state_untouched() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let w = world(&c).await;
    let mut api = c.instances.clone();
    let err = api.attach_network_interface(attach(&w, "1", &w.sub_b, "")).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "the instance must be STOPPED: {}", err.message());
    api.stop(cpb::StopInstanceRequest { instance_id: w.vm.id.clone() }).await.unwrap();

    let other_net = network(&c, "other").await.id;
    let foreign_sg = security_group(&c, &other_net, "foreign").await.id;
    let mut zone_b = vpb::CreateSubnetRequest {
        folder_id: FOLDER.into(),
        network_id: w.net.clone(),
        zone_id: "ru-central1-b".into(),
        v4_cidr_blocks: vec!["10.3.0.0/24".into()],
        ..Default::default()
    };
    let sub_zone_b: vpb::Subnet =
        response(&c.subnets.clone().create(zone_b.clone()).await.unwrap().into_inner(), "yandex.cloud.vpc.v1.Subnet");
    zone_b.v4_cidr_blocks.clear();

    let mut no_groups = attach(&w, "1", &w.sub_b, "");
    no_groups.security_group_ids.clear();
    let mut foreign = attach(&w, "1", &w.sub_b, "");
    foreign.security_group_ids = vec![foreign_sg];
    let mut missing_sg = attach(&w, "1", &w.sub_b, "");
    missing_sg.security_group_ids = vec!["enpnosuchgroup000000".into()];
    let mut ipv6 = attach(&w, "1", &w.sub_b, "");
    ipv6.primary_v4_address_spec.as_mut().unwrap().one_to_one_nat_spec =
        Some(cpb::OneToOneNatSpec { ip_version: cpb::IpVersion::Ipv6 as i32, ..Default::default() });
    for (req, code, text) in [
        (attach(&w, "0", &w.sub_b, ""), Code::AlreadyExists, "index 0"),
        (attach(&w, "1", "e9bnosuchsubnet00000", ""), Code::NotFound, "e9bnosuchsubnet00000"),
        (attach(&w, "1", &sub_zone_b.id, ""), Code::InvalidArgument, "ru-central1-b"),
        (attach(&w, "1", &w.sub_b, "10.9.0.5"), Code::InvalidArgument, "outside"),
        (attach(&w, "1", &w.sub_a, "10.1.0.3"), Code::AlreadyExists, "10.1.0.3"),
        (no_groups, Code::InvalidArgument, "security_group_ids"),
        (foreign, Code::InvalidArgument, "belongs to network"),
        (missing_sg, Code::NotFound, "enpnosuchgroup000000"),
        (ipv6, Code::InvalidArgument, "IPv6"),
    ] {
        let err = api.attach_network_interface(req).await.unwrap_err();
        assert_eq!(err.code(), code, "{}", err.message());
        assert!(err.message().contains(text), "{text}: {}", err.message());
    }
    let vm = get(&c, &w.vm.id).await;
    assert_eq!((vm.network_interfaces.len(), vm.status), (1, cpb::instance::Status::Stopped as i32));
    assert!(used_addresses(&c, &w.sub_b).await.is_empty());

    let err = api
        .detach_network_interface(cpb::DetachInstanceNetworkInterfaceRequest {
            instance_id: w.vm.id.clone(),
            network_interface_index: "0".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = api
        .detach_network_interface(cpb::DetachInstanceNetworkInterfaceRequest {
            instance_id: w.vm.id.clone(),
            network_interface_index: "4".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn one_to_one_nat_on_running_instances() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let w = world(&c).await;
    let mut api = c.instances.clone();
    let internal = w.vm.network_interfaces[0].primary_v4_address.as_ref().unwrap().address.clone();
    let add = |index: &str, internal: &str, address: &str| cpb::AddInstanceOneToOneNatRequest {
        instance_id: w.vm.id.clone(),
        network_interface_index: index.into(),
        internal_address: internal.into(),
        one_to_one_nat_spec: Some(cpb::OneToOneNatSpec {
            ip_version: cpb::IpVersion::Ipv4 as i32,
            address: address.into(),
            ..Default::default()
        }),
    };
    // By internal address, ephemeral, on a RUNNING instance.
    let with: cpb::Instance =
        response(&api.add_one_to_one_nat(add("", &internal, "")).await.unwrap().into_inner(), "yandex.cloud.compute.v1.Instance");
    let nat = with.network_interfaces[0].primary_v4_address.as_ref().unwrap().one_to_one_nat.clone().unwrap();
    assert!(nat.address.starts_with("198.18."));
    assert_eq!(with.status, cpb::instance::Status::Running as i32);
    let err = api.add_one_to_one_nat(add("0", "", "")).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let err = api.add_one_to_one_nat(add("3", "", "")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = api.add_one_to_one_nat(add("", "", "")).await.unwrap_err();
    assert_eq!(violations(&err), ["network_interface_index"]);

    let remove =
        cpb::RemoveInstanceOneToOneNatRequest { instance_id: w.vm.id.clone(), network_interface_index: "0".into(), ..Default::default() };
    let without: cpb::Instance =
        response(&api.remove_one_to_one_nat(remove.clone()).await.unwrap().into_inner(), "yandex.cloud.compute.v1.Instance");
    assert!(without.network_interfaces[0].primary_v4_address.as_ref().unwrap().one_to_one_nat.is_none());
    assert_eq!(api.remove_one_to_one_nat(remove).await.unwrap_err().code(), Code::FailedPrecondition);

    // Static addresses: not reserved, in use elsewhere, in another zone.
    let err = api.add_one_to_one_nat(add("0", "", "198.18.200.1")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{}", err.message());
    let reserved = reserve(&c, ZONE).await;
    let elsewhere = instance(&c, create_instance("other", vec![nic(&w.sub_a)])).await;
    let mut take = add("0", "", &external(&reserved));
    take.instance_id = elsewhere.id.clone();
    api.add_one_to_one_nat(take).await.unwrap();
    let err = api.add_one_to_one_nat(add("0", "", &external(&reserved))).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    assert!(err.message().contains(&elsewhere.id), "{}", err.message());
    let far = reserve(&c, "ru-central1-d").await;
    let err = api.add_one_to_one_nat(add("0", "", &external(&far))).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    // An address in use cannot be deleted.
    let err = c.addresses().delete(vpb::DeleteAddressRequest { address_id: reserved.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn update_network_interface_live_and_stopped() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let w = world(&c).await;
    let mut api = c.instances.clone();
    let second = security_group(&c, &w.net, "web").await.id;
    let mask = |paths: &[&str]| Some(netplane::proto::wkt::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() });

    let op = api
        .update_network_interface(cpb::UpdateInstanceNetworkInterfaceRequest {
            instance_id: w.vm.id.clone(),
            network_interface_index: "0".into(),
            update_mask: mask(&["security_group_ids"]),
            security_group_ids: vec![w.sg.clone(), second.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let _: cpb::UpdateInstanceNetworkInterfaceMetadata =
        unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.compute.v1.UpdateInstanceNetworkInterfaceMetadata");
    let live: cpb::Instance = response(&op, "yandex.cloud.compute.v1.Instance");
    assert_eq!(live.network_interfaces[0].security_group_ids, [w.sg.clone(), second.clone()]);
    assert_eq!(live.status, cpb::instance::Status::Running as i32, "security groups change live");
    let err = c.security_groups().delete(vpb::DeleteSecurityGroupRequest { security_group_id: second.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "a used group cannot be deleted");

    let move_subnet = cpb::UpdateInstanceNetworkInterfaceRequest {
        instance_id: w.vm.id.clone(),
        network_interface_index: "0".into(),
        update_mask: mask(&["subnet_id"]),
        subnet_id: w.sub_b.clone(),
        ..Default::default()
    };
    assert_eq!(api.update_network_interface(move_subnet.clone()).await.unwrap_err().code(), Code::FailedPrecondition);
    api.stop(cpb::StopInstanceRequest { instance_id: w.vm.id.clone() }).await.unwrap();
    let moved: cpb::Instance =
        response(&api.update_network_interface(move_subnet).await.unwrap().into_inner(), "yandex.cloud.compute.v1.Instance");
    assert_eq!(moved.network_interfaces[0].subnet_id, w.sub_b);
    assert_eq!(moved.network_interfaces[0].primary_v4_address.as_ref().unwrap().address, "10.2.0.3");
    assert!(used_addresses(&c, &w.sub_a).await.is_empty(), "the old address is released");
    assert_eq!(used_addresses(&c, &w.sub_b).await, ["10.2.0.3"]);

    let err = api
        .update_network_interface(cpb::UpdateInstanceNetworkInterfaceRequest {
            instance_id: w.vm.id.clone(),
            network_interface_index: "0".into(),
            update_mask: mask(&["index"]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["update_mask"]);
}

#[tokio::test]
async fn addresses_lifecycle() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let mut api = c.addresses();
    let a = reserve(&c, ZONE).await;
    assert!(a.id.starts_with("e9b") && a.reserved && !a.used);
    let by_value = api
        .get_by_value(vpb::GetAddressByValueRequest {
            address: Some(vpb::get_address_by_value_request::Address::ExternalIpv4Address(external(&a))),
            scope: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_value, a);
    let listed = api.list(vpb::ListAddressesRequest { folder_id: FOLDER.into(), ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(listed.addresses, std::slice::from_ref(&a));
    let protect = api
        .update(vpb::UpdateAddressRequest {
            address_id: a.id.clone(),
            update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["deletion_protection".into()] }),
            deletion_protection: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let protected: vpb::Address = response(&protect, "yandex.cloud.vpc.v1.Address");
    assert!(protected.deletion_protection);
    assert_eq!(api.delete(vpb::DeleteAddressRequest { address_id: a.id.clone() }).await.unwrap_err().code(), Code::FailedPrecondition);
    api.update(vpb::UpdateAddressRequest {
        address_id: a.id.clone(),
        update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["deletion_protection".into()] }),
        ..Default::default()
    })
    .await
    .unwrap();
    api.delete(vpb::DeleteAddressRequest { address_id: a.id.clone() }).await.unwrap();
    assert_eq!(api.get(vpb::GetAddressRequest { address_id: a.id.clone() }).await.unwrap_err().code(), Code::NotFound);
    let err = api
        .create(vpb::CreateAddressRequest {
            folder_id: FOLDER.into(),
            address_spec: Some(vpb::create_address_request::AddressSpec::ExternalIpv4AddressSpec(vpb::ExternalIpv4AddressSpec {
                address: "8.8.8.8".into(),
                zone_id: ZONE.into(),
                ..Default::default()
            })),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

/// Many conflicting requests at once: exactly one winner each, and the store holds exactly the
/// winners' allocations.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conflicts_have_exactly_one_winner() {
    let server = Server::start("delay=1ms");
    let c = server.clients().await;
    let w = world(&c).await;
    c.wait(&c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: w.vm.id.clone() }).await.unwrap().into_inner()).await;
    let mut others = Vec::new();
    for i in 0..8 {
        let vm = instance(&c, create_instance(&format!("peer-{i}"), vec![nic(&w.sub_a)])).await;
        c.wait(&c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner()).await;
        others.push(vm.id);
    }

    // The same explicit address, from nine instances at once.
    let mut tasks = Vec::new();
    for id in std::iter::once(w.vm.id.clone()).chain(others.iter().cloned()) {
        let (mut api, sub, sg) = (c.instances.clone(), w.sub_b.clone(), w.sg.clone());
        tasks.push(tokio::spawn(async move {
            api.attach_network_interface(cpb::AttachInstanceNetworkInterfaceRequest {
                instance_id: id,
                network_interface_index: "1".into(),
                subnet_id: sub,
                primary_v4_address_spec: Some(cpb::PrimaryAddressSpec { address: "10.2.0.77".into(), ..Default::default() }),
                security_group_ids: vec![sg],
            })
            .await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(op) => winners.push(c.wait(&op.into_inner()).await),
            Err(e) => assert!(matches!(e.code(), Code::AlreadyExists | Code::FailedPrecondition), "{e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one attach of 10.2.0.77 wins");
    let first_winner: cpb::AttachInstanceNetworkInterfaceMetadata =
        unpack(winners[0].metadata.as_ref().unwrap(), "yandex.cloud.compute.v1.AttachInstanceNetworkInterfaceMetadata");
    assert_eq!(used_addresses(&c, &w.sub_b).await, ["10.2.0.77"]);

    // The same free index on one instance, many times at once: one wins, the rest are refused
    // (the instance is UPDATING or the index is taken) and leave no address behind.
    let target = others[0].clone();
    let mut tasks = Vec::new();
    for n in 0..10 {
        let (mut api, sub, sg, id) = (c.instances.clone(), w.sub_b.clone(), w.sg.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            api.attach_network_interface(cpb::AttachInstanceNetworkInterfaceRequest {
                instance_id: id,
                network_interface_index: "2".into(),
                subnet_id: sub,
                primary_v4_address_spec: Some(cpb::PrimaryAddressSpec { address: format!("10.2.0.{}", 100 + n), ..Default::default() }),
                security_group_ids: vec![sg],
            })
            .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        if let Ok(op) = t.await.unwrap() {
            let done = c.wait(&op.into_inner()).await;
            assert!(matches!(done.result, Some(netplane::proto::yandex::cloud::operation::operation::Result::Response(_))));
            won += 1;
        }
    }
    assert_eq!(won, 1);
    let used = used_addresses(&c, &w.sub_b).await;
    assert_eq!(used.len(), 2, "the first race's winner and this one's, nothing else: {used:?}");
    let vm = get(&c, &target).await;
    let expected = if first_winner.instance_id == target { 3 } else { 2 };
    assert_eq!(vm.network_interfaces.len(), expected);
    assert!(vm.network_interfaces.iter().any(|n| n.index == "2"));

    // One static address, NAT on eight running instances at once: one wins, it is used once.
    let reserved = reserve(&c, ZONE).await;
    let mut runners = Vec::new();
    for i in 0..8 {
        runners.push(instance(&c, create_instance(&format!("nat-{i}"), vec![nic(&w.sub_a)])).await.id);
    }
    let mut tasks = Vec::new();
    for id in runners {
        let (mut api, public) = (c.instances.clone(), external(&reserved));
        tasks.push(tokio::spawn(async move {
            api.add_one_to_one_nat(cpb::AddInstanceOneToOneNatRequest {
                instance_id: id,
                network_interface_index: "0".into(),
                one_to_one_nat_spec: Some(cpb::OneToOneNatSpec {
                    ip_version: cpb::IpVersion::Ipv4 as i32,
                    address: public,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
        }));
    }
    let mut nat_winners = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(op) => {
                c.wait(&op.into_inner()).await;
                nat_winners += 1;
            }
            Err(e) => assert_eq!(e.code(), Code::AlreadyExists, "{e:?}"),
        }
    }
    assert_eq!(nat_winners, 1);
    assert!(address(&c, &reserved.id).await.used);
    let listed = c
        .instances
        .clone()
        .list(cpb::ListInstancesRequest { folder_id: FOLDER.into(), page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let holders = listed
        .instances
        .iter()
        .filter(|i| {
            i.network_interfaces.iter().any(|n| {
                n.primary_v4_address.as_ref().and_then(|p| p.one_to_one_nat.as_ref()).is_some_and(|nat| nat.address == external(&reserved))
            })
        })
        .count();
    assert_eq!(holders, 1, "exactly one instance shows the static address");
}

#[tokio::test]
async fn a_cancelled_attach_gives_back_everything_it_reserved() {
    let server = Server::start("polls=2");
    let c = server.clients().await;
    let w = world(&c).await;
    c.wait(&c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: w.vm.id.clone() }).await.unwrap().into_inner()).await;
    let reserved = reserve(&c, ZONE).await;
    let mut req = attach(&w, "1", &w.sub_b, "10.2.0.9");
    req.primary_v4_address_spec.as_mut().unwrap().one_to_one_nat_spec =
        Some(cpb::OneToOneNatSpec { ip_version: cpb::IpVersion::Ipv4 as i32, address: external(&reserved), ..Default::default() });
    let op = c.instances.clone().attach_network_interface(req.clone()).await.unwrap().into_inner();
    assert_eq!(used_addresses(&c, &w.sub_b).await, ["10.2.0.9"]);
    assert!(address(&c, &reserved.id).await.used);

    let cancelled = c
        .operations
        .clone()
        .cancel(netplane::proto::yandex::cloud::operation::CancelOperationRequest { operation_id: op.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(op_error(&cancelled).code, Code::Cancelled as i32);
    assert!(used_addresses(&c, &w.sub_b).await.is_empty());
    assert!(!address(&c, &reserved.id).await.used);
    let vm = get(&c, &w.vm.id).await;
    assert_eq!((vm.network_interfaces.len(), vm.status), (1, cpb::instance::Status::Stopped as i32));
    // Everything can be taken again.
    let op = c.instances.clone().attach_network_interface(req).await.unwrap().into_inner();
    let done: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!(done.network_interfaces.len(), 2);
}
