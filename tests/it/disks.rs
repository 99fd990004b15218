//! Disks, images, zones and disk types with tonic clients and over REST: sources and sizes, the
//! public catalog and users' images, attach/detach, and two instances racing for one disk.

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::compute::v1::disk_service_client::DiskServiceClient;
use netplane::proto::yandex::cloud::compute::v1::image_service_client::ImageServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::fixtures::{FOLDER, ZONE, create_instance, instance, network, nic, response, subnet, violations};
use crate::harness::{Server, data_dir, sqlite_store};

const GIB: i64 = 1 << 30;
const UBUNTU_2204: &str = "fd85u0rct32prepgjlv0";

fn create_disk(name: &str, size: i64) -> cpb::CreateDiskRequest {
    cpb::CreateDiskRequest {
        folder_id: FOLDER.into(),
        name: name.into(),
        zone_id: ZONE.into(),
        type_id: "network-hdd".into(),
        size,
        ..Default::default()
    }
}

async fn disk(c: &mut DiskServiceClient<Channel>, server: &crate::harness::Clients, req: cpb::CreateDiskRequest) -> cpb::Disk {
    let op = c.create(req).await.expect("create disk").into_inner();
    response(&server.wait(&op).await, "yandex.cloud.compute.v1.Disk")
}

#[tokio::test]
async fn disk_sources_types_and_sizes_are_checked_and_a_refusal_leaves_nothing() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let mut disks = DiskServiceClient::new(server.channel().await);

    let from_image = disk(
        &mut disks,
        &c,
        cpb::CreateDiskRequest {
            source: Some(cpb::create_disk_request::Source::ImageId(UBUNTU_2204.into())),
            ..create_disk("boot", 8 * GIB)
        },
    )
    .await;
    assert_eq!((from_image.source.clone(), from_image.block_size), (Some(cpb::disk::Source::SourceImageId(UBUNTU_2204.into())), 4096));
    assert_eq!(from_image.status, cpb::disk::Status::Ready as i32);

    let refusals = [
        (
            cpb::CreateDiskRequest {
                source: Some(cpb::create_disk_request::Source::ImageId(UBUNTU_2204.into())),
                ..create_disk("small", 4 * GIB)
            },
            Code::InvalidArgument,
        ),
        (
            cpb::CreateDiskRequest {
                source: Some(cpb::create_disk_request::Source::ImageId("fd8nosuchimage00000a".into())),
                ..create_disk("a", 8 * GIB)
            },
            Code::NotFound,
        ),
        (
            cpb::CreateDiskRequest {
                source: Some(cpb::create_disk_request::Source::SnapshotId("fd8snapshot".into())),
                ..create_disk("b", 8 * GIB)
            },
            Code::NotFound,
        ),
        (cpb::CreateDiskRequest { type_id: "network-nvme".into(), ..create_disk("c", 8 * GIB) }, Code::NotFound),
        (cpb::CreateDiskRequest { type_id: "network-ssd-nonreplicated".into(), ..create_disk("d", 100 * GIB) }, Code::InvalidArgument),
        (cpb::CreateDiskRequest { block_size: 3000, ..create_disk("e", 8 * GIB) }, Code::InvalidArgument),
        (create_disk("f", 8 * GIB + 1), Code::InvalidArgument),
        (create_disk("boot", 8 * GIB), Code::AlreadyExists),
        (cpb::CreateDiskRequest { zone_id: "ru-central1-c".into(), ..create_disk("g", 8 * GIB) }, Code::InvalidArgument),
    ];
    for (req, code) in refusals {
        let name = req.name.clone();
        let err = disks.create(req).await.unwrap_err();
        assert_eq!(err.code(), code, "{name}: {}", err.message());
    }
    let err = disks.create(create_disk("h", 8 * GIB + 1)).await.unwrap_err();
    assert_eq!(violations(&err), ["size"]);
    let listed = disks.list(cpb::ListDisksRequest { folder_id: FOLDER.into(), ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(listed.disks.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["boot"], "refusals created nothing");
    let filtered = disks
        .list(cpb::ListDisksRequest { folder_id: FOLDER.into(), filter: "status = \"READY\"".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(filtered.disks.len(), 1);
    let ops = disks
        .list_operations(cpb::ListDiskOperationsRequest { disk_id: from_image.id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ops.operations.len(), 1);
}

#[tokio::test]
async fn the_public_catalog_is_read_only_and_users_images_have_families() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let mut images = ImageServiceClient::new(server.channel().await);
    let mut disks = DiskServiceClient::new(server.channel().await);

    // Paged through, the whole catalog; filtered by name, one image.
    let mut all = vec![];
    let mut token = String::new();
    loop {
        let page = images
            .list(cpb::ListImagesRequest { folder_id: "standard-images".into(), page_size: 5, page_token: token, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        all.extend(page.images);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert!(all.len() > 10 && all.iter().all(|i| i.folder_id == "standard-images" && i.os.is_some()), "{}", all.len());
    let named = images
        .list(cpb::ListImagesRequest {
            folder_id: "standard-images".into(),
            filter: "name = \"ubuntu-22-04-lts-v20240311\"".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(named.images.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [UBUNTU_2204]);

    // Public images cannot change, nor can the public folder take new ones.
    let err = images.delete(cpb::DeleteImageRequest { image_id: UBUNTU_2204.into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = images
        .update(cpb::UpdateImageRequest { image_id: UBUNTU_2204.into(), name: "mine".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let into_public = cpb::CreateImageRequest {
        folder_id: "standard-images".into(),
        name: "mine".into(),
        source: Some(cpb::create_image_request::Source::ImageId(UBUNTU_2204.into())),
        ..Default::default()
    };
    assert_eq!(images.create(into_public).await.unwrap_err().code(), Code::PermissionDenied);

    // A user's image from a disk, found by its family in the user's folder.
    let source = disk(
        &mut disks,
        &c,
        cpb::CreateDiskRequest {
            source: Some(cpb::create_disk_request::Source::ImageId(UBUNTU_2204.into())),
            ..create_disk("golden", 12 * GIB)
        },
    )
    .await;
    let create = cpb::CreateImageRequest {
        folder_id: FOLDER.into(),
        name: "golden-v1".into(),
        family: "golden".into(),
        source: Some(cpb::create_image_request::Source::DiskId(source.id.clone())),
        ..Default::default()
    };
    let op = images.create(create).await.unwrap().into_inner();
    let mine: cpb::Image = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Image");
    assert_eq!((mine.min_disk_size, mine.status, mine.folder_id.as_str()), (12 * GIB, cpb::image::Status::Ready as i32, FOLDER));
    let latest = images
        .get_latest_by_family(cpb::GetImageLatestByFamilyRequest { folder_id: FOLDER.into(), family: "golden".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.id, mine.id);
    let err = images
        .get_latest_by_family(cpb::GetImageLatestByFamilyRequest { folder_id: FOLDER.into(), family: "ubuntu-2204-lts".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "families live in one folder");

    // A disk from the user's image: below its minimum refused.
    let err = disks
        .create(cpb::CreateDiskRequest {
            source: Some(cpb::create_disk_request::Source::ImageId(mine.id.clone())),
            ..create_disk("copy", 8 * GIB)
        })
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["size"]);
    let from_uri = cpb::CreateImageRequest {
        folder_id: FOLDER.into(),
        name: "imported".into(),
        source: Some(cpb::create_image_request::Source::Uri("https://storage.yandexcloud.net/bucket/disk.qcow2".into())),
        ..Default::default()
    };
    let op = images.create(from_uri.clone()).await.unwrap().into_inner();
    let from_snapshot = cpb::CreateImageRequest {
        name: "from-snapshot".into(),
        source: Some(cpb::create_image_request::Source::SnapshotId("fd8snapshot".into())),
        ..from_uri
    };
    assert_eq!(images.create(from_snapshot).await.unwrap_err().code(), Code::NotFound);
    let imported: cpb::Image = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Image");
    assert_eq!(imported.os.map(|o| o.r#type), Some(cpb::os::Type::Linux as i32));
    let op = images.delete(cpb::DeleteImageRequest { image_id: mine.id.clone() }).await.unwrap().into_inner();
    assert!(c.wait(&op).await.done);
    assert_eq!(images.get(cpb::GetImageRequest { image_id: mine.id.clone() }).await.unwrap_err().code(), Code::NotFound);
}

#[tokio::test]
async fn zones_and_disk_types_over_rest() {
    let server = Server::start("inline");
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.rest)).send();
    let zones: serde_json::Value = get("/compute/v1/zones").await.unwrap().json().await.unwrap();
    let ids: Vec<&str> = zones["zones"].as_array().unwrap().iter().map(|z| z["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ru-central1-a", "ru-central1-b", "ru-central1-d"]);
    assert_eq!(zones["zones"][0]["status"], "UP");
    let paged: serde_json::Value = get("/compute/v1/diskTypes?pageSize=2").await.unwrap().json().await.unwrap();
    assert_eq!(paged["diskTypes"].as_array().unwrap().len(), 2);
    assert_eq!(paged["diskTypes"][0]["zoneIds"], serde_json::json!(["ru-central1-a", "ru-central1-b", "ru-central1-d"]));
    assert!(paged["nextPageToken"].as_str().is_some_and(|t| !t.is_empty()));
    let missing = get("/compute/v1/zones/ru-central1-c").await.unwrap();
    assert_eq!(missing.status(), 404);
    let latest: serde_json::Value =
        get("/compute/v1/images:latestByFamily?folderId=standard-images&family=ubuntu-2204-lts").await.unwrap().json().await.unwrap();
    assert_eq!(latest["id"], UBUNTU_2204);
    assert_eq!(latest["os"]["type"], "LINUX");

    // A disk over REST, from the same descriptors: created, then read.
    let body = serde_json::json!({"folderId": FOLDER, "zoneId": ZONE, "typeId": "network-ssd", "size": (8 * GIB).to_string(), "imageId": UBUNTU_2204});
    let op: serde_json::Value =
        http.post(format!("{}/compute/v1/disks", server.rest)).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(op["metadata"]["@type"], "type.googleapis.com/yandex.cloud.compute.v1.CreateDiskMetadata", "{op}");
    let id = op["metadata"]["diskId"].as_str().unwrap().to_string();
    let read: serde_json::Value = get(&format!("/compute/v1/disks/{id}")).await.unwrap().json().await.unwrap();
    assert_eq!((read["sourceImageId"].as_str(), read["status"].as_str()), (Some(UBUNTU_2204), Some("READY")), "{read}");
    assert_eq!(read["diskPlacementPolicy"], serde_json::json!({}), "always present, empty");
}

/// Two instances created at once with the same existing disk: exactly one gets it, on SQLite
/// where the two calls commit one after the other.
#[tokio::test]
async fn two_instances_racing_for_one_disk_exactly_one_wins() {
    let dir = data_dir();
    let store = sqlite_store(&dir);
    let server = Server::start_with(dir, &store, "inline");
    let c = server.clients().await;
    let mut disks = DiskServiceClient::new(server.channel().await);
    let net = network(&c, "race").await;
    let sub = subnet(&c, &net.id, "10.30.0.0/24").await;
    for round in 0..5 {
        let shared = disk(&mut disks, &c, create_disk(&format!("shared-{round}"), 8 * GIB)).await;
        let with_disk = |name: String| {
            let mut req = create_instance(&name, vec![nic(&sub.id)]);
            req.secondary_disk_specs =
                vec![cpb::AttachedDiskSpec { disk: Some(cpb::attached_disk_spec::Disk::DiskId(shared.id.clone())), ..Default::default() }];
            let mut instances = c.instances.clone();
            async move { instances.create(req).await }
        };
        let (a, b) = tokio::join!(with_disk(format!("a-{round}")), with_disk(format!("b-{round}")));
        let (won, lost): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(|r| r.is_ok());
        assert_eq!(won.len(), 1, "round {round}: exactly one create is accepted");
        let lost = lost.into_iter().next().unwrap().unwrap_err();
        assert_eq!(lost.code(), Code::FailedPrecondition, "{}", lost.message());
        let op = won.into_iter().next().unwrap().unwrap().into_inner();
        let winner: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
        let read = disks.get(cpb::GetDiskRequest { disk_id: shared.id.clone() }).await.unwrap().into_inner();
        assert_eq!(read.instance_ids, vec![winner.id]);
    }
}

#[tokio::test]
async fn attach_and_detach_follow_the_instances_rules() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let mut disks = DiskServiceClient::new(server.channel().await);
    let net = network(&c, "attach").await;
    let sub = subnet(&c, &net.id, "10.31.0.0/24").await;
    let vm = instance(&c, create_instance("vm", vec![nic(&sub.id)])).await;
    let boot_id = vm.boot_disk.clone().unwrap().disk_id;
    assert_eq!(vm.boot_disk.as_ref().unwrap().device_name, boot_id, "device name defaults to the disk id");

    let attach = |disk_id: &str, device_name: &str| cpb::AttachInstanceDiskRequest {
        instance_id: vm.id.clone(),
        attached_disk_spec: Some(cpb::AttachedDiskSpec {
            device_name: device_name.into(),
            disk: Some(cpb::attached_disk_spec::Disk::DiskId(disk_id.into())),
            ..Default::default()
        }),
    };
    let other_zone = disk(&mut disks, &c, cpb::CreateDiskRequest { zone_id: "ru-central1-b".into(), ..create_disk("far", 8 * GIB) }).await;
    let err = c.instances.clone().attach_disk(attach(&other_zone.id, "far")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    let near = disk(&mut disks, &c, create_disk("near", 8 * GIB)).await;
    let err = c.instances.clone().attach_disk(attach(&near.id, &boot_id)).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "the boot disk's device name: {}", err.message());
    let err = c.instances.clone().attach_disk(attach(&near.id, "Bad Name")).await.unwrap_err();
    assert_eq!(violations(&err), ["attached_disk_spec.device_name"]);
    let op = c.instances.clone().attach_disk(attach(&near.id, "near")).await.unwrap().into_inner();
    let vm: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!(vm.secondary_disks.iter().map(|d| d.mode).collect::<Vec<_>>(), [cpb::attached_disk::Mode::ReadWrite as i32]);

    let err = c
        .instances
        .clone()
        .detach_disk(cpb::DetachInstanceDiskRequest {
            instance_id: vm.id.clone(),
            disk: Some(cpb::detach_instance_disk_request::Disk::DiskId(other_zone.id.clone())),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // On a stopped instance, a disk_spec makes a new disk (type network-hdd when unset).
    let op = c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    c.wait(&op).await;
    let new_disk = cpb::AttachInstanceDiskRequest {
        instance_id: vm.id.clone(),
        attached_disk_spec: Some(cpb::AttachedDiskSpec {
            auto_delete: true,
            disk: Some(cpb::attached_disk_spec::Disk::DiskSpec(cpb::attached_disk_spec::DiskSpec { size: 4 * GIB, ..Default::default() })),
            ..Default::default()
        }),
    };
    let op = c.instances.clone().attach_disk(new_disk).await.unwrap().into_inner();
    let vm: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!(vm.status, cpb::instance::Status::Stopped as i32);
    let made = vm.secondary_disks.iter().find(|d| d.disk_id != near.id).expect("the new disk").disk_id.clone();
    let made = disks.get(cpb::GetDiskRequest { disk_id: made }).await.unwrap().into_inner();
    assert_eq!((made.type_id.as_str(), made.size, made.status), ("network-hdd", 4 * GIB, cpb::disk::Status::Ready as i32));
    assert_eq!(made.instance_ids, vec![vm.id.clone()]);

    // Moved to another folder, disks and all (MoveInstanceMetadata carries both folders).
    let move_to = cpb::MoveInstanceRequest { instance_id: vm.id.clone(), destination_folder_id: "b1gotherfolder00000".into() };
    let op = c.instances.clone().r#move(move_to).await.unwrap().into_inner();
    let meta: cpb::MoveInstanceMetadata =
        crate::fixtures::unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.compute.v1.MoveInstanceMetadata");
    assert_eq!((meta.source_folder_id.as_str(), meta.destination_folder_id.as_str()), (FOLDER, "b1gotherfolder00000"));
    let moved: cpb::Instance = response(&c.wait(&op).await, "yandex.cloud.compute.v1.Instance");
    assert_eq!((moved.folder_id.as_str(), moved.status), ("b1gotherfolder00000", cpb::instance::Status::Stopped as i32));

    // Deleting the instance keeps the disk that is not auto-delete.
    let op = c.instances.clone().delete(cpb::DeleteInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    assert!(c.wait(&op).await.done);
    let kept = disks.get(cpb::GetDiskRequest { disk_id: near.id.clone() }).await.unwrap().into_inner();
    assert!(kept.instance_ids.is_empty());
    assert_eq!(disks.get(cpb::GetDiskRequest { disk_id: boot_id }).await.unwrap_err().code(), Code::NotFound, "auto-delete boot disk");
    assert_eq!(disks.get(cpb::GetDiskRequest { disk_id: made.id }).await.unwrap_err().code(), Code::NotFound, "auto-delete data disk");
}

/// A change asked for while another operation runs on the instance is refused with the message
/// the Terraform provider parses to wait for that operation and retry.
#[tokio::test]
async fn a_change_during_an_operation_names_the_conflicting_operation() {
    let server = Server::start("polls=100");
    let c = server.clients().await;
    let net = network(&c, "busy").await;
    let sub = subnet(&c, &net.id, "10.32.0.0/24").await;
    let vm = instance(&c, create_instance("busy", vec![nic(&sub.id)])).await;
    let stop = c.instances.clone().stop(cpb::StopInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    assert!(!stop.done);
    let err = c
        .instances
        .clone()
        .detach_disk(cpb::DetachInstanceDiskRequest {
            instance_id: vm.id.clone(),
            disk: Some(cpb::detach_instance_disk_request::Disk::DeviceName("data".into())),
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::FailedPrecondition, format!("conflicting operation \"{}\" detected", stop.id).as_str()));
    let err = c.instances.clone().restart(cpb::RestartInstanceRequest { instance_id: vm.id.clone() }).await.unwrap_err();
    assert!(err.message().contains(&stop.id), "{}", err.message());
}

/// Without `auto_delete` the boot disk outlives its instance: the server defaults nothing.
#[tokio::test]
async fn a_boot_disk_without_auto_delete_stays_detached() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let mut disks = DiskServiceClient::new(server.channel().await);
    let net = network(&c, "keep").await;
    let sub = subnet(&c, &net.id, "10.33.0.0/24").await;
    let mut req = create_instance("keeper", vec![nic(&sub.id)]);
    req.boot_disk_spec.as_mut().unwrap().auto_delete = false;
    let vm = instance(&c, req).await;
    let boot_id = vm.boot_disk.as_ref().unwrap().disk_id.clone();
    assert!(!vm.boot_disk.as_ref().unwrap().auto_delete);
    let op = c.instances.clone().delete(cpb::DeleteInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    c.wait(&op).await;
    let kept = disks.get(cpb::GetDiskRequest { disk_id: boot_id }).await.unwrap().into_inner();
    assert!(kept.instance_ids.is_empty());
    assert_eq!(kept.source, Some(cpb::disk::Source::SourceImageId(UBUNTU_2204.into())));
}
