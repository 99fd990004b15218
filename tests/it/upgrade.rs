//! Upgrades: a SQLite store written by the previous release (`tests/upgrade/previous-release.db`,
//! with what it holds named in `previous-release.json`) opens under this one, migrates, finishes
//! the operations it left pending and serves every resource, claim and idempotency key it holds.
//!
//! The fixture is written by `write_this_releases_store` below, run by hand on the release whose
//! store the next one must open:
//! `NETPLANE_WRITE_STORE=tests/upgrade cargo test --test it upgrade::write -- --ignored`.

use std::path::{Path, PathBuf};

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::operation::GetOperationRequest;
use netplane::proto::yandex::cloud::operation::Operation;
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::harness::{Clients, Server, data_dir, sqlite_store};
use crate::hw::{Hw, PROJECT, tcp};

const KEY: &str = "fixture-key";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/upgrade")
}

fn keyed<T>(message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut().insert("idempotency-key", KEY.parse().unwrap());
    req
}

fn keyed_network(name: &str) -> tonic::Request<vpb::CreateNetworkRequest> {
    keyed(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: name.into(), ..Default::default() })
}

async fn reserve_address(c: &Clients) -> vpb::Address {
    let spec = vpb::ExternalIpv4AddressSpec { zone_id: ZONE.into(), ..Default::default() };
    let req = vpb::CreateAddressRequest {
        folder_id: FOLDER.into(),
        name: "static".into(),
        address_spec: Some(vpb::create_address_request::AddressSpec::ExternalIpv4AddressSpec(spec)),
        ..Default::default()
    };
    let op = c.addresses().create(req).await.expect("reserve").into_inner();
    response(&c.wait(&op).await, "yandex.cloud.vpc.v1.Address")
}

fn external(address: &vpb::Address) -> String {
    match &address.address {
        Some(vpb::address::Address::ExternalIpv4Address(a)) => a.address.clone(),
        other => panic!("not an external address: {other:?}"),
    }
}

#[tokio::test]
#[ignore = "writes the upgrade test's fixture; run by hand (see the file's header)"]
async fn write_this_releases_store() {
    let out = PathBuf::from(std::env::var("NETPLANE_WRITE_STORE").expect("NETPLANE_WRITE_STORE: the directory to write to"));
    let dir = data_dir();
    let store = sqlite_store(&dir);

    let first = Server::start_with(dir.clone(), &store, "inline");
    let c = first.clients().await;
    let keyed_op = c.networks.clone().create(keyed_network("upgraded")).await.unwrap().into_inner();
    let net: vpb::Network = response(&keyed_op, "yandex.cloud.vpc.v1.Network");
    let sub = subnet(&c, &net.id, "10.7.0.0/24").await;
    let sg = security_group(&c, &net.id, "ssh").await;
    let address = reserve_address(&c).await;
    let mut kept_nic = nic_with(&sub.id, "10.7.0.10", true);
    kept_nic.security_group_ids = vec![sg.id.clone()];
    let kept = instance(&c, create_instance("kept", vec![kept_nic])).await;
    let mut static_nic = nic_with(&sub.id, "", true);
    static_nic.primary_v4_address_spec.as_mut().unwrap().one_to_one_nat_spec.as_mut().unwrap().address = external(&address);
    let with_static = instance(&c, create_instance("static", vec![static_nic])).await;
    // A deleted instance leaves the subnet's low-water mark below the addresses still in use.
    let gone = instance(&c, create_instance("gone", vec![nic(&sub.id)])).await;
    let deleted = c.instances.clone().delete(cpb::DeleteInstanceRequest { instance_id: gone.id.clone() }).await.unwrap().into_inner();
    c.wait(&deleted).await;

    let hw = Hw::new(&first.rest, PROJECT, None);
    let t = hw.topology(3, 24).await;
    let rule = hw.dnat(&t, &t.transit_ip_id, tcp("10.3.1.10", 80, 8080)).await;
    rule.expect(201, "");
    assert_eq!(first.stop().await.code(), Some(0));

    // Operations the next release must finish: accepted, never completed (polls=1000), then a
    // graceful stop.
    let second = Server::start_with(dir.clone(), &store, "polls=1000");
    let c = second.clients().await;
    let stop = c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: kept.id.clone() }).await.unwrap().into_inner();
    let rename = vpb::UpdateNetworkRequest {
        network_id: net.id.clone(),
        update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["name".into()] }),
        name: "renamed".into(),
        ..Default::default()
    };
    let rename = c.networks.clone().update(rename).await.unwrap().into_inner();
    assert!(!stop.done && !rename.done);
    assert_eq!(second.stop().await.code(), Some(0));

    // What the log file beside the store still holds goes into the store file, the one copied.
    let path = dir.path().join("netplane.db");
    drop(netplane::store::Store::open(&format!("sqlite-direct:{}", path.display())).unwrap());
    // The key's claim is moved a century ahead, so that the test finds it unexpired on any day.
    let db = rusqlite::Connection::open(&path).unwrap();
    let owner: String = db.query_row("SELECT owner FROM claims WHERE scope = 'idempotency'", [], |r| r.get(0)).unwrap();
    let (operation_and_fingerprint, _expiry) = owner.rsplit_once(' ').unwrap();
    let year_2100_micros = 4_102_444_800_000_000_i64;
    let owner = format!("{operation_and_fingerprint} {year_2100_micros}");
    db.execute("UPDATE claims SET owner = ?1 WHERE scope = 'idempotency'", [owner]).unwrap();
    db.execute_batch("VACUUM").unwrap();
    drop(db);

    std::fs::create_dir_all(&out).unwrap();
    std::fs::copy(dir.path().join("netplane.db"), out.join("previous-release.db")).unwrap();
    let manifest = json!({
        "written_by": format!("netplane {}", env!("CARGO_PKG_VERSION")),
        "network_id": net.id, "keyed_operation_id": keyed_op.id, "subnet_id": sub.id, "security_group_id": sg.id,
        "address_id": address.id, "kept_id": kept.id, "static_id": with_static.id, "gone_address": gone.network_interfaces[0].primary_v4_address.as_ref().unwrap().address,
        "pending_stop_id": stop.id, "pending_rename_id": rename.id,
        "dnat_rule_id": rule.id("dnat_rule"), "transit_ip_id": t.transit_ip_id, "gateway_id": t.gateway_id,
    });
    std::fs::write(out.join("previous-release.json"), serde_json::to_string_pretty(&manifest).unwrap() + "\n").unwrap();
}

fn field<'a>(manifest: &'a Value, name: &str) -> &'a str {
    manifest[name].as_str().unwrap_or_else(|| panic!("{name} in previous-release.json"))
}

async fn wait_id(c: &Clients, id: &str) -> Operation {
    let op = c.operations.clone().get(GetOperationRequest { operation_id: id.into() }).await;
    c.wait(&op.expect("the pending operation is still there").into_inner()).await
}

#[tokio::test]
async fn a_store_written_by_the_previous_release_opens_migrates_and_serves() {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("previous-release.json")).unwrap()).unwrap();
    let dir = data_dir();
    std::fs::copy(fixture_dir().join("previous-release.db"), dir.path().join("netplane.db")).unwrap();
    let server = Server::start_with(dir.clone(), &sqlite_store(&dir), "delay=10ms");
    let c = server.clients().await;

    // The operations it left pending are finished.
    let _: () = response(&wait_id(&c, field(&manifest, "pending_stop_id")).await, "google.protobuf.Empty");
    let renamed: vpb::Network = response(&wait_id(&c, field(&manifest, "pending_rename_id")).await, "yandex.cloud.vpc.v1.Network");
    assert_eq!(renamed.name, "renamed");
    // Networks of the previous release got their default security groups on start.
    let upgraded = c.networks.clone().get(vpb::GetNetworkRequest { network_id: renamed.id.clone() }).await.unwrap().into_inner();
    let default_group = c
        .security_groups()
        .get(vpb::GetSecurityGroupRequest { security_group_id: upgraded.default_security_group_id.clone() })
        .await
        .expect("the upgraded network's default security group")
        .into_inner();
    assert!(default_group.default_for_network && default_group.network_id == upgraded.id, "{default_group:?}");
    let kept = c
        .instances
        .clone()
        .get(cpb::GetInstanceRequest { instance_id: field(&manifest, "kept_id").into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept.status, cpb::instance::Status::Stopped as i32);
    // Its boot disk id was minted before netplane had Disk rows: the instance keeps it, and no
    // disk is invented for it.
    let boot_id = kept.boot_disk.as_ref().expect("boot disk").disk_id.clone();
    let mut disks = netplane::proto::yandex::cloud::compute::v1::disk_service_client::DiskServiceClient::new(server.channel().await);
    assert_eq!(disks.get(cpb::GetDiskRequest { disk_id: boot_id }).await.unwrap_err().code(), tonic::Code::NotFound);

    // Names: the old one was given back by the rename, the new one is held.
    let taken = vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "renamed".into(), ..Default::default() };
    assert_eq!(c.networks.clone().create(taken).await.unwrap_err().code(), tonic::Code::AlreadyExists);

    // The idempotency key still answers with its operation, and refuses another request.
    let again = c.networks.clone().create(keyed_network("upgraded")).await.unwrap().into_inner();
    assert_eq!(again.id, field(&manifest, "keyed_operation_id"));
    let other = c.networks.clone().create(keyed_network("another")).await.unwrap_err();
    assert_eq!(other.code(), tonic::Code::InvalidArgument, "{other:?}");
    let reused = network(&c, "upgraded").await;
    assert_ne!(reused.id, field(&manifest, "network_id"), "the old name is free again");

    // Addresses: those in use stay taken; the allocator starts from its low-water mark.
    let subnet_id = field(&manifest, "subnet_id");
    let used = used_addresses(&c, subnet_id).await;
    assert!(used.contains(&"10.7.0.10".to_string()), "{used:?}");
    let taken = c.instances.clone().create(create_instance("clash", vec![nic_with(subnet_id, "10.7.0.10", false)])).await.unwrap_err();
    assert_eq!(taken.code(), tonic::Code::AlreadyExists);
    let next = instance(&c, create_instance("next", vec![nic(subnet_id)])).await;
    assert_eq!(next.network_interfaces[0].primary_v4_address.as_ref().unwrap().address, field(&manifest, "gone_address"));
    let address =
        c.addresses().get(vpb::GetAddressRequest { address_id: field(&manifest, "address_id").into() }).await.unwrap().into_inner();
    assert!(address.used, "the static address is still used by its instance");

    // Deleting what holds claims gives them back.
    for id in [field(&manifest, "static_id"), field(&manifest, "kept_id"), next.id.as_str()] {
        let op = c.instances.clone().delete(cpb::DeleteInstanceRequest { instance_id: id.into() }).await.unwrap().into_inner();
        c.wait(&op).await;
    }
    assert!(used_addresses(&c, subnet_id).await.is_empty());
    let address =
        c.addresses().get(vpb::GetAddressRequest { address_id: field(&manifest, "address_id").into() }).await.unwrap().into_inner();
    assert!(!address.used);
    let sg = vpb::DeleteSecurityGroupRequest { security_group_id: field(&manifest, "security_group_id").into() };
    c.wait(&c.security_groups().delete(sg).await.unwrap().into_inner()).await;

    // Huawei: the DNAT rule and its claims.
    let hw = Hw::new(&server.rest, PROJECT, None);
    hw.get(&hw.nat(&format!("dnat-rules/{}", field(&manifest, "dnat_rule_id")))).await.expect(200, "");
    let t = crate::hw::Topology {
        vpc_id: String::new(),
        downlink_subnet_id: String::new(),
        transit_vpc_subnet_id: String::new(),
        gateway_id: field(&manifest, "gateway_id").into(),
        transit_subnet_id: String::new(),
        transit_ip_id: field(&manifest, "transit_ip_id").into(),
    };
    hw.dnat(&t, &t.transit_ip_id, tcp("10.3.1.11", 81, 8080)).await.expect(409, "NAT.1309");
}
