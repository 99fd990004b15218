//! Several replicas on one PostgreSQL database: what one acknowledges, every other sees,
//! uniqueness holds across them because the database enforces it, and an operation accepted by one
//! is run by exactly one of them, even when the one that accepted it is killed.

use std::sync::Arc;

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::operation::operation::Result as Outcome;
use netplane::proto::yandex::cloud::operation::{CancelOperationRequest, Operation};
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use tonic::Code;

use crate::fixtures::*;
use crate::harness::{Clients, Server, data_dir, postgres_database};
use crate::hw::{Hw, PROJECT, tcp};

/// `n` stopped instances in a /24 subnet (see `stopped_instances`), made through a replica in
/// inline mode that is then stopped: the database the replicas under test start on.
async fn fleet(url: &str, n: usize) -> StoppedInstances {
    let setup = Server::start_with(data_dir(), url, "inline");
    let fleet = stopped_instances(&setup.clients().await, "vm", "10.40.0.0/24", n).await;
    assert!(setup.stop().await.success());
    fleet
}

impl StoppedInstances {
    fn attach(&self, instance_id: &str, index: &str, address: &str) -> cpb::AttachInstanceNetworkInterfaceRequest {
        cpb::AttachInstanceNetworkInterfaceRequest {
            instance_id: instance_id.into(),
            network_interface_index: index.into(),
            subnet_id: self.subnet_id.clone(),
            primary_v4_address_spec: Some(cpb::PrimaryAddressSpec { address: address.into(), ..Default::default() }),
            security_group_ids: vec![self.security_group_id.clone()],
        }
    }
}

/// Sends each request to replica `a` or `b` in turn, all at once; the operations accepted.
async fn split_across(a: &Clients, b: &Clients, requests: Vec<cpb::AttachInstanceNetworkInterfaceRequest>) -> Vec<Operation> {
    let tasks: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(i, request)| {
            let mut api = if i % 2 == 0 { a.instances.clone() } else { b.instances.clone() };
            tokio::spawn(async move { api.attach_network_interface(request).await })
        })
        .collect();
    let mut accepted = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(op) => accepted.push(op.into_inner()),
            Err(e) => assert!(matches!(e.code(), Code::AlreadyExists | Code::FailedPrecondition), "{e:?}"),
        }
    }
    accepted
}

fn succeeded(op: &Operation) -> bool {
    matches!(op.result, Some(Outcome::Response(_)))
}

#[tokio::test]
async fn operations_accepted_by_one_replica_are_polled_and_cancelled_on_another() {
    let url = postgres_database("replica_operations");
    let fleet = fleet(&url, 4).await;
    let (subnet_id, vms) = (&fleet.subnet_id, &fleet.vms);
    let a = Server::start_with(data_dir(), &url, "delay=1s");
    let b = Server::start_with(data_dir(), &url, "delay=1s");
    let (ca, cb) = (a.clients().await, b.clients().await);

    // One instance, one free index, ten attaches split across both replicas: one is accepted.
    let same_index = (0..10).map(|i| fleet.attach(&vms[0], "1", &format!("10.40.0.{}", 100 + i))).collect();
    let accepted = split_across(&ca, &cb, same_index).await;
    assert_eq!(accepted.len(), 1, "exactly one attach of index 1 wins: {accepted:?}");
    // One address, three instances, both replicas: one is accepted.
    let same_address = vms[1..].iter().map(|vm| fleet.attach(vm, "1", "10.40.0.77")).collect();
    let accepted_address = split_across(&ca, &cb, same_address).await;
    assert_eq!(accepted_address.len(), 1, "exactly one attach of 10.40.0.77 wins: {accepted_address:?}");

    // Accepted by whichever replica, polled to completion on both.
    for op in accepted.iter().chain(&accepted_address) {
        assert!(!op.done, "delay mode: pending when accepted");
        let (on_a, on_b) = (ca.wait(op).await, cb.wait(op).await);
        assert!(succeeded(&on_b), "{on_b:?}");
        assert_eq!(on_a, on_b);
    }
    assert_eq!(used_addresses(&cb, subnet_id).await.iter().filter(|a| *a == "10.40.0.77").count(), 1);

    // Accepted on A, cancelled on B (well before it falls due): the reservation is given back,
    // and neither runner applies it afterwards.
    let vm = vms[3].clone();
    let pending = ca.instances.clone().attach_network_interface(fleet.attach(&vm, "2", "10.40.0.200")).await;
    let pending = pending.expect("attach").into_inner();
    let cancelled = cb.operations.clone().cancel(CancelOperationRequest { operation_id: pending.id.clone() }).await;
    let cancelled = cancelled.expect("cancel from the other replica").into_inner();
    assert_eq!(op_error(&cancelled).code, Code::Cancelled as i32);
    assert_eq!(ca.wait(&pending).await, cancelled, "the cancel is what every replica reads");
    assert!(!used_addresses(&ca, subnet_id).await.contains(&"10.40.0.200".to_string()));
    let instance = ca.instances.clone().get(cpb::GetInstanceRequest { instance_id: vm, ..Default::default() }).await.expect("get");
    let indexes: Vec<String> = instance.into_inner().network_interfaces.into_iter().map(|n| n.index).collect();
    assert!(!indexes.contains(&"2".to_string()), "the cancelled attach was never applied: {indexes:?}");
    assert!(a.stop().await.success());
    assert!(b.stop().await.success());
}

#[tokio::test]
async fn a_killed_replica_s_operations_are_finished_by_another() {
    let url = postgres_database("replica_killed");
    let fleet = fleet(&url, 12).await;
    let (subnet_id, vms) = (&fleet.subnet_id, &fleet.vms);
    let a = Server::start_with(data_dir(), &url, "delay=300ms");
    let b = Server::start_with(data_dir(), &url, "delay=300ms");
    let (ca, cb) = (a.clients().await, b.clients().await);

    // Everything goes through A; B learns of it only through the database.
    let mut accepted = Vec::new();
    for vm in vms {
        let op = ca.instances.clone().attach_network_interface(fleet.attach(vm, "1", "")).await.expect("attach");
        accepted.push(op.into_inner());
    }
    for i in 0..6 {
        let request = vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: format!("late-{i}"), ..Default::default() };
        accepted.push(ca.networks.clone().create(request).await.expect("create network").into_inner());
    }
    // A dies as its runner starts on them (or just before), with whatever it holds.
    let first = accepted[0].clone();
    let watcher = cb.clone();
    let first_done = tokio::spawn(async move { watcher.wait(&first).await });
    first_done.await.expect("the first operation finishes");
    a.crash().await;

    let mut addresses = Vec::new();
    for op in &accepted {
        let done = cb.wait(op).await;
        assert!(succeeded(&done), "{done:?}");
    }
    assert!(b.logged("operation done"), "B ran what A left");
    for vm in vms {
        let got = cb.instances.clone().get(cpb::GetInstanceRequest { instance_id: vm.clone(), ..Default::default() }).await;
        let got = got.expect("get").into_inner();
        assert_eq!((got.network_interfaces.len(), got.status), (2, cpb::instance::Status::Stopped as i32), "{got:?}");
        addresses.extend(got.network_interfaces.iter().filter_map(|n| n.primary_v4_address.as_ref()).map(|a| a.address.clone()));
    }
    let mut used = used_addresses(&cb, subnet_id).await;
    used.sort();
    addresses.sort();
    assert_eq!(used, addresses, "every interface's address is marked used, and nothing else");
    addresses.dedup();
    assert_eq!(addresses.len(), 2 * vms.len(), "no address given twice");
    assert!(b.stop().await.success());
}

#[tokio::test]
async fn two_replicas_on_one_postgres_share_state_and_uniqueness() {
    let url = postgres_database("two_replicas");
    let (a, b) = (Server::start_with(data_dir(), &url, "inline"), Server::start_with(data_dir(), &url, "inline"));

    // A network created through one replica is read through the other.
    let created = a
        .clients()
        .await
        .networks
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "shared".into(), ..Default::default() })
        .await
        .expect("create")
        .into_inner();
    let network: vpb::Network = response(&created, "yandex.cloud.vpc.v1.Network");
    let read = b.clients().await.networks.get(vpb::GetNetworkRequest { network_id: network.id.clone() }).await.expect("get").into_inner();
    assert_eq!(read.name, "shared");
    let taken = b
        .clients()
        .await
        .networks
        .create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "shared".into(), ..Default::default() })
        .await
        .expect_err("names are unique per folder across replicas");
    assert_eq!(taken.code(), tonic::Code::AlreadyExists);

    // Conflicting DNAT rules sent to both replicas at once: exactly one wins.
    let (hw_a, hw_b) = (Arc::new(Hw::new(&a.rest, PROJECT, None)), Arc::new(Hw::new(&b.rest, PROJECT, None)));
    let t = hw_a.topology(11, 24).await;
    let attempts: Vec<_> = (0..12u16)
        .map(|i| {
            let hw = if i % 2 == 0 { hw_a.clone() } else { hw_b.clone() };
            let t = t.clone();
            tokio::spawn(async move { hw.dnat(&t, &t.transit_ip_id, tcp(&format!("10.11.1.{}", 10 + i), 80, 443)).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        let answer = attempt.await.expect("task");
        statuses.push((answer.status, answer.code().to_string()));
    }
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|(s, c)| *s == 201 || (*s == 409 && c == "NAT.1309")), "{statuses:?}");
    let listed = hw_b.get(&format!("{}?transit_ip_id={}", hw_b.nat("dnat-rules"), t.transit_ip_id)).await;
    assert_eq!(listed.body["page_info"]["current_count"], 1);

    // Conflicting SNAT rules (one subnet, each through its own transit IP of another VPC) sent to
    // both replicas at once: exactly one wins.
    let far = hw_a.post(&hw_a.vpc("vpcs"), serde_json::json!({"vpc": {"name": "far", "cidr": "10.12.0.0/16"}})).await.id("vpc");
    let far_subnet = hw_a
        .post(
            &hw_a.vpc("subnets"),
            serde_json::json!({"subnet": {"name": "t", "cidr": "10.12.2.0/24", "gateway_ip": "10.12.2.1", "vpc_id": far}}),
        )
        .await
        .id("subnet");
    let far_transit = hw_a
        .post(&hw_a.nat("transit-subnets"), serde_json::json!({"transit_subnet": {"virsubnet_id": far_subnet}}))
        .await
        .id("transit_subnet");
    let mut tips = Vec::new();
    for n in 0..6u16 {
        let body = serde_json::json!({"transit_ip": {"virsubnet_id": far_transit, "ip_address": format!("10.12.2.{}", 10 + n)}});
        tips.push(hw_a.post(&hw_a.nat("transit-ips"), body).await.id("transit_ip"));
    }
    let attempts: Vec<_> = tips
        .into_iter()
        .enumerate()
        .map(|(i, tip)| {
            let hw = if i % 2 == 0 { hw_a.clone() } else { hw_b.clone() };
            let body = serde_json::json!({"snat_rule": {"gateway_id": t.gateway_id, "virsubnet_id": t.downlink_subnet_id, "transit_ip_ids": [tip]}});
            tokio::spawn(async move { hw.post(&hw.nat("snat-rules"), body).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        let answer = attempt.await.expect("task");
        statuses.push((answer.status, answer.code().to_string()));
    }
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|(s, c)| *s == 201 || (*s == 409 && c == "NAT.1503")), "{statuses:?}");
    assert!(a.stop().await.success(), "a replica on PostgreSQL shuts down cleanly");
    assert!(b.stop().await.success());
}
