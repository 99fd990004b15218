//! InstanceService over gRPC against the real server: lifecycle, statuses, addresses, refusals.

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::compute::v1::instance::Status;
use netplane::proto::yandex::cloud::operation::GetOperationRequest;
use tonic::Code;

use crate::fixtures::*;
use crate::harness::{Clients, Server};

async fn get(c: &Clients, id: &str) -> cpb::Instance {
    c.instances.clone().get(cpb::GetInstanceRequest { instance_id: id.into(), ..Default::default() }).await.unwrap().into_inner()
}

fn status(i: &cpb::Instance) -> Status {
    Status::try_from(i.status).unwrap()
}

#[tokio::test]
async fn create_shows_provisioning_until_the_operation_completes() {
    // polls=2: the operation completes on the second OperationService.Get, deterministically.
    let server = Server::start("polls=2");
    let c = server.clients().await;
    let net = network_polled(&c, "n").await;
    let sub = subnet_polled(&c, &net, "10.0.0.0/24").await;

    let mut req = create_instance("web-1", vec![nic_with(&sub, "", true)]);
    req.labels = [("env".to_string(), "test".to_string())].into();
    req.hostname = "web".into();
    req.metadata = [("user-data".to_string(), "#cloud-config".to_string())].into();
    req.scheduling_policy = Some(cpb::SchedulingPolicy { preemptible: true });
    let op = c.instances.clone().create(req).await.unwrap().into_inner();
    assert!(!op.done && op.result.is_none());
    assert_eq!(op.description, "Create instance");
    let meta: cpb::CreateInstanceMetadata = unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.compute.v1.CreateInstanceMetadata");

    let provisioning = get(&c, &meta.instance_id).await;
    assert_eq!(status(&provisioning), Status::Provisioning);

    let mut ops = c.operations.clone();
    let first = ops.get(GetOperationRequest { operation_id: op.id.clone() }).await.unwrap().into_inner();
    assert!(!first.done);
    let second = ops.get(GetOperationRequest { operation_id: op.id.clone() }).await.unwrap().into_inner();
    assert!(second.done);
    let vm: cpb::Instance = response(&second, "yandex.cloud.compute.v1.Instance");

    assert_eq!(status(&vm), Status::Running);
    assert_eq!(vm.id, meta.instance_id);
    assert!(vm.id.starts_with("fhm") && vm.id.len() == 20);
    assert_eq!(
        (vm.folder_id.as_str(), vm.zone_id.as_str(), vm.platform_id.as_str(), vm.name.as_str()),
        (FOLDER, ZONE, "standard-v3", "web-1")
    );
    assert_eq!(vm.fqdn, "web.ru-central1.internal");
    assert_eq!(vm.labels["env"], "test");
    assert_eq!(vm.metadata["user-data"], "#cloud-config");
    assert_eq!(vm.resources, Some(cpb::Resources { memory: 2 << 30, cores: 2, core_fraction: 100, gpus: 0 }));
    assert_eq!(vm.scheduling_policy, Some(cpb::SchedulingPolicy { preemptible: true }), "unmodelled settings are kept");
    let boot = vm.boot_disk.as_ref().unwrap();
    assert!(boot.auto_delete && boot.disk_id.starts_with("fhm"));
    let nic = &vm.network_interfaces[0];
    assert_eq!((nic.index.as_str(), nic.subnet_id.as_str()), ("0", sub.as_str()));
    assert!(nic.mac_address.starts_with("d0:0d:") && nic.mac_address.len() == 17, "{}", nic.mac_address);
    let v4 = nic.primary_v4_address.as_ref().unwrap();
    assert_eq!(v4.address, "10.0.0.3");
    let nat = v4.one_to_one_nat.as_ref().unwrap();
    assert!(nat.address.starts_with("198.18."), "{}", nat.address);
    assert_eq!(nat.ip_version, cpb::IpVersion::Ipv4 as i32);
    assert_eq!(get(&c, &vm.id).await, vm);
}

async fn poll_done(
    c: &Clients,
    op: &netplane::proto::yandex::cloud::operation::Operation,
) -> netplane::proto::yandex::cloud::operation::Operation {
    c.wait(op).await
}

async fn network_polled(c: &Clients, name: &str) -> String {
    let op = c
        .networks
        .clone()
        .create(netplane::proto::yandex::cloud::vpc::v1::CreateNetworkRequest {
            folder_id: FOLDER.into(),
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let n: netplane::proto::yandex::cloud::vpc::v1::Network = response(&poll_done(c, &op).await, "yandex.cloud.vpc.v1.Network");
    n.id
}

async fn subnet_polled(c: &Clients, network_id: &str, cidr: &str) -> String {
    subnet(c, network_id, cidr).await.id
}

#[tokio::test]
async fn stop_start_restart_show_intermediate_statuses_and_move_ephemeral_nat() {
    let server = Server::start("polls=1");
    let c = server.clients().await;
    let net = network_polled(&c, "n").await;
    let sub = subnet_polled(&c, &net, "10.0.0.0/24").await;
    let vm = instance(&c, create_instance("vm", vec![nic_with(&sub, "", true)])).await;
    let first_nat = vm.network_interfaces[0].primary_v4_address.as_ref().unwrap().one_to_one_nat.as_ref().unwrap().address.clone();

    let mut api = c.instances.clone();
    let op = api.stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    assert_eq!(status(&get(&c, &vm.id).await), Status::Stopping);
    let again = api.stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "one operation at a time");
    let done = c.wait(&op).await;
    let _: () = response(&done, "google.protobuf.Empty");
    let stopped = get(&c, &vm.id).await;
    assert_eq!(status(&stopped), Status::Stopped);
    let nat = stopped.network_interfaces[0].primary_v4_address.as_ref().unwrap().one_to_one_nat.as_ref().unwrap();
    assert!(nat.address.is_empty(), "a stopped instance gives its ephemeral address back");

    // Someone else takes the freed public address meanwhile.
    let other = instance(&c, create_instance("other", vec![nic_with(&sub, "", true)])).await;
    assert_eq!(other.network_interfaces[0].primary_v4_address.as_ref().unwrap().one_to_one_nat.as_ref().unwrap().address, first_nat);

    let op = api.start(cpb::StartInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    assert_eq!(status(&get(&c, &vm.id).await), Status::Starting);
    let started: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!(status(&started), Status::Running);
    let new_nat = &started.network_interfaces[0].primary_v4_address.as_ref().unwrap().one_to_one_nat.as_ref().unwrap().address;
    assert!(!new_nat.is_empty() && *new_nat != first_nat, "a new ephemeral address on start");

    let op = api.restart(cpb::RestartInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    assert_eq!(status(&get(&c, &vm.id).await), Status::Restarting);
    c.wait(&op).await;
    assert_eq!(status(&get(&c, &vm.id).await), Status::Running);

    let err = api.start(cpb::StartInstanceRequest { instance_id: vm.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("RUNNING") && err.message().contains("STOPPED"), "{}", err.message());

    let op = api
        .update_metadata(cpb::UpdateInstanceMetadataRequest {
            instance_id: vm.id.clone(),
            upsert: [("k".to_string(), "v".to_string())].into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status(&get(&c, &vm.id).await), Status::Updating);
    let updated: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!((status(&updated), updated.metadata["k"].as_str()), (Status::Running, "v"));
}

#[tokio::test]
async fn update_and_metadata() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let net = network(&c, "n").await;
    let sub = subnet(&c, &net.id, "10.0.0.0/24").await;
    let vm = instance(&c, create_instance("vm", vec![nic(&sub.id)])).await;
    let mut api = c.instances.clone();

    let op = api
        .update(cpb::UpdateInstanceRequest {
            instance_id: vm.id.clone(),
            update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["name".into(), "labels".into(), "schedulingPolicy".into()] }),
            name: "renamed".into(),
            labels: [("a".to_string(), "b".to_string())].into(),
            scheduling_policy: Some(cpb::SchedulingPolicy { preemptible: true }),
            description: "not in the mask".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let updated: cpb::Instance = response(&op, "yandex.cloud.compute.v1.Instance");
    assert_eq!((updated.name.as_str(), updated.description.as_str()), ("renamed", ""));
    assert_eq!(updated.labels["a"], "b");
    assert_eq!(updated.scheduling_policy, Some(cpb::SchedulingPolicy { preemptible: true }));

    let resize = cpb::UpdateInstanceRequest {
        instance_id: vm.id.clone(),
        update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["resources_spec".into()] }),
        resources_spec: Some(cpb::ResourcesSpec { memory: 4 << 30, cores: 4, core_fraction: 100, gpus: 0 }),
        ..Default::default()
    };
    let err = api.update(resize.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "resources change needs a stopped instance");
    api.stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.unwrap();
    let resized: cpb::Instance = response(&api.update(resize).await.unwrap().into_inner(), "yandex.cloud.compute.v1.Instance");
    assert_eq!(resized.resources.unwrap().cores, 4);

    let bad = api
        .update(cpb::UpdateInstanceRequest {
            instance_id: vm.id.clone(),
            update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["zone_id".into()] }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violations(&bad), ["update_mask"]);

    let op = api
        .update_metadata(cpb::UpdateInstanceMetadataRequest {
            instance_id: vm.id.clone(),
            delete: vec!["missing".into()],
            upsert: [("ssh-keys".to_string(), "k".to_string())].into(),
        })
        .await
        .unwrap()
        .into_inner();
    let with_meta: cpb::Instance = response(&op, "yandex.cloud.compute.v1.Instance");
    assert_eq!(with_meta.metadata["ssh-keys"], "k");

    let ops = api
        .list_operations(cpb::ListInstanceOperationsRequest { instance_id: vm.id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let descriptions: Vec<_> = ops.operations.iter().map(|o| o.description.as_str()).collect();
    assert_eq!(descriptions, ["Update instance metadata", "Update instance", "Stop instance", "Update instance", "Create instance"]);
    let page = api
        .list_operations(cpb::ListInstanceOperationsRequest { instance_id: vm.id.clone(), page_size: 2, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.operations.len(), 2);
    let rest = api
        .list_operations(cpb::ListInstanceOperationsRequest { instance_id: vm.id.clone(), page_size: 10, page_token: page.next_page_token })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.operations.len(), 3);
}

#[tokio::test]
async fn refusals_are_clear_and_leave_state_untouched() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let net = network(&c, "n").await;
    let sub = subnet(&c, &net.id, "10.0.0.0/28").await;
    let mut api = c.instances.clone();

    let mut bad = create_instance("Bad_Name", vec![nic_with(&sub.id, "not-an-ip", false)]);
    bad.resources_spec = Some(cpb::ResourcesSpec { memory: 1 << 30, cores: 3, core_fraction: 100, gpus: 0 });
    bad.zone_id = "ru-central1-c".into();
    let err = api.create(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violations(&err), ["name", "zone_id", "resources_spec.cores", "network_interface_specs[0].primary_v4_address_spec.address"]);

    let first = instance(&c, create_instance("first", vec![nic_with(&sub.id, "10.0.0.5", false)])).await;
    let before = used_addresses(&c, &sub.id).await;
    assert_eq!(before, ["10.0.0.5"]);

    for (req, code, text) in [
        (create_instance("dup-ip", vec![nic_with(&sub.id, "10.0.0.5", false)]), Code::AlreadyExists, "10.0.0.5"),
        (create_instance("outside", vec![nic_with(&sub.id, "10.0.1.5", false)]), Code::InvalidArgument, "outside"),
        (create_instance("gateway", vec![nic_with(&sub.id, "10.0.0.1", false)]), Code::InvalidArgument, "reserved"),
        (create_instance("first", vec![nic(&sub.id)]), Code::AlreadyExists, "first"),
        (create_instance("ghost", vec![nic("e9bnosuchsubnet00000")]), Code::NotFound, "e9bnosuchsubnet00000"),
        (create_instance("two-nics", vec![nic(&sub.id), nic_with(&sub.id, "10.0.0.5", false)]), Code::AlreadyExists, "10.0.0.5"),
    ] {
        let err = api.create(req).await.unwrap_err();
        assert_eq!(err.code(), code, "{}", err.message());
        assert!(err.message().contains(text), "{}", err.message());
    }
    assert_eq!(used_addresses(&c, &sub.id).await, before, "refused creates keep no address");

    let mut other_zone = create_instance("zone-b", vec![nic(&sub.id)]);
    other_zone.zone_id = "ru-central1-b".into();
    let err = api.create(other_zone).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("ru-central1-a"), "{}", err.message());

    // A /28 has 12 usable addresses; one is taken.
    for i in 0..11 {
        instance(&c, create_instance(&format!("fill-{i}"), vec![nic(&sub.id)])).await;
    }
    let full = api.create(create_instance("one-too-many", vec![nic(&sub.id)])).await.unwrap_err();
    assert_eq!(full.code(), Code::ResourceExhausted);
    let listed =
        api.list(cpb::ListInstancesRequest { folder_id: FOLDER.into(), page_size: 1000, ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(listed.instances.len(), 12);
    assert!(listed.instances.iter().any(|i| i.id == first.id));

    let missing = api.get(cpb::GetInstanceRequest { instance_id: "fhmnosuchinstance000".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let empty = api.get(cpb::GetInstanceRequest::default()).await.unwrap_err();
    assert_eq!(violations(&empty), ["instance_id"]);
}

#[tokio::test]
async fn list_filters_orders_and_pages() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let net = network(&c, "n").await;
    let sub = subnet(&c, &net.id, "10.0.0.0/24").await;
    let mut ids = Vec::new();
    for name in ["alpha", "bravo", "charlie", "delta"] {
        ids.push(instance(&c, create_instance(name, vec![nic(&sub.id)])).await.id);
    }
    let mut api = c.instances.clone();
    api.stop(cpb::StopInstanceRequest { instance_id: ids[1].clone() }).await.unwrap();

    let list = |filter: &str, order_by: &str, page_size: i64, page_token: String| cpb::ListInstancesRequest {
        folder_id: FOLDER.into(),
        filter: filter.into(),
        order_by: order_by.into(),
        page_size,
        page_token,
    };
    let names = |r: cpb::ListInstancesResponse| r.instances.into_iter().map(|i| i.name).collect::<Vec<_>>();

    let stopped = api.list(list(r#"status = "STOPPED""#, "", 0, String::new())).await.unwrap().into_inner();
    assert_eq!(names(stopped), ["bravo"]);
    let some = api
        .list(list(r#"name IN ("alpha", "delta") AND zoneId = "ru-central1-a""#, "name desc", 0, String::new()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(some), ["delta", "alpha"]);
    let newest = api.list(list("", "createdAt desc", 3, String::new())).await.unwrap().into_inner();
    let token = newest.next_page_token.clone();
    assert_eq!(names(newest), ["delta", "charlie", "bravo"]);
    let rest = api.list(list("", "createdAt desc", 3, token)).await.unwrap().into_inner();
    assert!(rest.next_page_token.is_empty());
    assert_eq!(names(rest), ["alpha"]);
    // A page that takes every row has no next page.
    let all = api.list(list("", "createdAt desc", 4, String::new())).await.unwrap().into_inner();
    assert!(all.next_page_token.is_empty());
    assert_eq!(names(all), ["delta", "charlie", "bravo", "alpha"]);
    let err = api.list(list("name = alpha", "", 0, String::new())).await.unwrap_err();
    assert_eq!(violations(&err), ["filter"]);
    let err = api.list(list("", "", 1001, String::new())).await.unwrap_err();
    assert_eq!(violations(&err), ["page_size"]);
    let other_folder =
        api.list(cpb::ListInstancesRequest { folder_id: "another".into(), ..Default::default() }).await.unwrap().into_inner();
    assert!(other_folder.instances.is_empty());
}

#[tokio::test]
async fn methods_not_built_answer_unimplemented_naming_the_method() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let err = c.instances.clone().attach_filesystem(cpb::AttachInstanceFilesystemRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
    assert!(err.message().contains("yandex.cloud.compute.v1.InstanceService/AttachFilesystem"), "{}", err.message());
    let err = c.instances.clone().relocate(cpb::RelocateInstanceRequest::default()).await.unwrap_err();
    assert!(err.message().contains("InstanceService/Relocate"), "{}", err.message());
}

#[tokio::test]
async fn delete_releases_everything() {
    let server = Server::start("delay=5ms");
    let c = server.clients().await;
    let net = network(&c, "n").await;
    let sub = subnet(&c, &net.id, "10.0.0.0/24").await;
    let vm = instance(&c, create_instance("vm", vec![nic_with(&sub.id, "10.0.0.9", true)])).await;
    let op = c.instances.clone().delete(cpb::DeleteInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    let meta: cpb::DeleteInstanceMetadata = unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.compute.v1.DeleteInstanceMetadata");
    assert_eq!(meta.instance_id, vm.id);
    let _: () = response(&c.wait(&op).await, "google.protobuf.Empty");
    assert_eq!(
        c.instances.clone().get(cpb::GetInstanceRequest { instance_id: vm.id.clone(), ..Default::default() }).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(used_addresses(&c, &sub.id).await.is_empty());
    // Name, address and public address can all be used again.
    let again = instance(&c, create_instance("vm", vec![nic_with(&sub.id, "10.0.0.9", true)])).await;
    assert_eq!(again.network_interfaces[0].primary_v4_address.as_ref().unwrap().address, "10.0.0.9");
}

fn addresses(i: &cpb::Instance) -> (String, String) {
    let primary = i.network_interfaces[0].primary_v4_address.clone().unwrap_or_default();
    (primary.address, primary.one_to_one_nat.map(|n| n.address).unwrap_or_default())
}

/// Internal and public addresses are handed out lowest first, and a freed one is the next given,
/// also once many are in use (the allocator starts from a low-water mark, not from the bottom).
#[tokio::test]
async fn freed_addresses_are_handed_out_again_lowest_first() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let net = network(&c, "lowest").await;
    let sub = subnet(&c, &net.id, "10.7.0.0/24").await;
    let mut vms = Vec::new();
    for i in 0..4 {
        vms.push(instance(&c, create_instance(&format!("vm-{i}"), vec![nic_with(&sub.id, "", true)])).await);
    }
    let got: Vec<(String, String)> = vms.iter().map(addresses).collect();
    assert_eq!(
        got.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        ["10.7.0.3", "10.7.0.4", "10.7.0.5", "10.7.0.6"],
        "internal addresses from the bottom of the block"
    );
    let delete = c.instances.clone().delete(cpb::DeleteInstanceRequest { instance_id: vms[1].id.clone() }).await.unwrap().into_inner();
    c.wait(&delete).await;
    let again = instance(&c, create_instance("vm-again", vec![nic_with(&sub.id, "", true)])).await;
    assert_eq!(addresses(&again), got[1].clone(), "the freed internal and public addresses come back first");
    let next = instance(&c, create_instance("vm-next", vec![nic_with(&sub.id, "", true)])).await;
    assert_eq!(addresses(&next).0, "10.7.0.7");
    assert_ne!(addresses(&next).1, got[1].1);
}

/// Get and List answer from an encoding made once per stored value (`api::grpc::encoded`): each
/// change must show at once, on a store that shares its rows' values (memory) and on one that
/// decodes a new value for every read (`sqlite-direct:`), where nothing is answered from before.
#[tokio::test]
async fn reads_show_each_change_at_once_on_every_store() {
    let dir = crate::harness::data_dir();
    let direct = crate::harness::sqlite_store(&dir).replacen("sqlite:", "sqlite-direct:", 1);
    for store in ["memory", direct.as_str()] {
        let server = Server::start_with(dir.clone(), store, "inline");
        let c = server.clients().await;
        let net = network(&c, "n").await;
        let sub = subnet(&c, &net.id, "10.0.0.0/24").await;
        let vm = instance(&c, create_instance("vm", vec![nic(&sub.id)])).await;
        let list = |c: &Clients| {
            let mut api = c.instances.clone();
            let folder_id = vm.folder_id.clone();
            async move { api.list(cpb::ListInstancesRequest { folder_id, ..Default::default() }).await.unwrap().into_inner().instances }
        };
        // Read twice before each change, so that the second read is answered from the first's.
        for _ in 0..2 {
            assert_eq!(get(&c, &vm.id).await, vm, "{store}");
            assert_eq!(list(&c).await, std::slice::from_ref(&vm), "{store}");
        }
        let mut api = c.instances.clone();
        let renamed: cpb::Instance = response(
            &api.update(cpb::UpdateInstanceRequest {
                instance_id: vm.id.clone(),
                update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["name".into()] }),
                name: "renamed".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner(),
            "yandex.cloud.compute.v1.Instance",
        );
        assert_eq!(renamed.name, "renamed");
        assert_eq!((get(&c, &vm.id).await, list(&c).await), (renamed.clone(), vec![renamed.clone()]), "{store}");
        let nat = api
            .add_one_to_one_nat(cpb::AddInstanceOneToOneNatRequest {
                instance_id: vm.id.clone(),
                network_interface_index: "0".into(),
                one_to_one_nat_spec: Some(cpb::OneToOneNatSpec { ip_version: cpb::IpVersion::Ipv4 as i32, ..Default::default() }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let with_nat: cpb::Instance = response(&nat, "yandex.cloud.compute.v1.Instance");
        let nat_address = addresses(&with_nat).1;
        assert!(!nat_address.is_empty(), "{store}: {with_nat:?}");
        assert_eq!((get(&c, &vm.id).await, list(&c).await), (with_nat.clone(), vec![with_nat]), "{store}");
        api.delete(cpb::DeleteInstanceRequest { instance_id: vm.id.clone() }).await.unwrap();
        assert_eq!(
            api.get(cpb::GetInstanceRequest { instance_id: vm.id.clone(), ..Default::default() }).await.unwrap_err().code(),
            Code::NotFound
        );
        assert_eq!(list(&c).await, [], "{store}");
        server.stop().await;
    }
}
