//! NetworkService and SubnetService over gRPC against the real server.

use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use tonic::Code;

use crate::fixtures::*;
use crate::harness::Server;

#[tokio::test]
async fn network_lifecycle() {
    let server = Server::start("delay=10ms");
    let c = server.clients().await;
    let mut networks = c.networks.clone();

    let op = networks
        .create(vpb::CreateNetworkRequest {
            folder_id: FOLDER.into(),
            name: "prod-net".into(),
            description: "production".into(),
            labels: [("env".to_string(), "prod".to_string())].into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!op.done, "delay mode shows the operation pending first");
    let meta: vpb::CreateNetworkMetadata = unpack(op.metadata.as_ref().unwrap(), "yandex.cloud.vpc.v1.CreateNetworkMetadata");
    let net: vpb::Network = response(&c.wait(&op).await, "yandex.cloud.vpc.v1.Network");
    assert_eq!(meta.network_id, net.id);
    assert!(net.id.starts_with("enp") && net.id.len() == 20, "{}", net.id);
    assert_eq!((net.name.as_str(), net.description.as_str(), net.folder_id.as_str()), ("prod-net", "production", FOLDER));

    let got = networks.get(vpb::GetNetworkRequest { network_id: net.id.clone() }).await.unwrap().into_inner();
    assert_eq!(got, net);

    network(&c, "other-net").await;
    let listed = networks
        .list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), filter: r#"name = "prod-net""#.into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.networks, std::slice::from_ref(&net));

    let dup = networks.create(vpb::CreateNetworkRequest { folder_id: FOLDER.into(), name: "prod-net".into(), ..Default::default() }).await;
    assert_eq!(dup.unwrap_err().code(), Code::AlreadyExists);

    let op = networks
        .update(vpb::UpdateNetworkRequest {
            network_id: net.id.clone(),
            update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["description".into()] }),
            name: "ignored-because-not-in-mask".into(),
            description: "changed".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let updated: vpb::Network = response(&c.wait(&op).await, "yandex.cloud.vpc.v1.Network");
    assert_eq!((updated.name.as_str(), updated.description.as_str()), ("prod-net", "changed"));

    let op = networks.delete(vpb::DeleteNetworkRequest { network_id: net.id.clone() }).await.unwrap().into_inner();
    let done = c.wait(&op).await;
    let _: () = response(&done, "google.protobuf.Empty");
    let gone = networks.get(vpb::GetNetworkRequest { network_id: net.id.clone() }).await.unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    assert!(gone.message().contains(&net.id), "{}", gone.message());
    // The name is free again.
    network(&c, "prod-net").await;
}

#[tokio::test]
async fn bad_requests_name_every_bad_field() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let err = c
        .networks
        .clone()
        .create(vpb::CreateNetworkRequest {
            folder_id: String::new(),
            name: "-bad".into(),
            description: "x".repeat(257),
            labels: [("Bad".to_string(), "v".to_string())].into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violations(&err), ["folder_id", "name", "description", "labels[Bad]"]);

    let net = network(&c, "n").await;
    let err = c
        .subnets
        .clone()
        .create(vpb::CreateSubnetRequest {
            folder_id: FOLDER.into(),
            network_id: net.id.clone(),
            zone_id: "ru-central1-z".into(),
            v4_cidr_blocks: vec!["10.0.0.1/24".into(), "8.8.8.0/24".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["zone_id", "v4_cidr_blocks[0]", "v4_cidr_blocks[1]"]);
    let listed =
        c.subnets.clone().list(vpb::ListSubnetsRequest { folder_id: FOLDER.into(), ..Default::default() }).await.unwrap().into_inner();
    assert!(listed.subnets.is_empty(), "a refused create leaves nothing behind");

    let err = c
        .networks
        .clone()
        .list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), filter: r#"status = "x""#.into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["filter"]);
}

#[tokio::test]
async fn subnets_overlap_usage_and_deletion_order() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let net = network(&c, "n").await;
    let s1 = subnet(&c, &net.id, "10.10.0.0/24").await;
    assert!(s1.id.starts_with("e9b"));
    assert_eq!(s1.v4_cidr_blocks, ["10.10.0.0/24"]);

    let overlap = c
        .subnets
        .clone()
        .create(vpb::CreateSubnetRequest {
            folder_id: FOLDER.into(),
            network_id: net.id.clone(),
            zone_id: ZONE.into(),
            v4_cidr_blocks: vec!["10.10.0.128/25".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(overlap.code(), Code::InvalidArgument);
    assert!(overlap.message().contains(&s1.id), "{}", overlap.message());

    let s2 = subnet(&c, &net.id, "10.20.0.0/24").await;
    let listed = c
        .networks
        .clone()
        .list_subnets(vpb::ListNetworkSubnetsRequest { network_id: net.id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = listed.subnets.iter().map(|s| s.id.clone()).collect();
    let mut want = vec![s1.id.clone(), s2.id.clone()];
    want.sort();
    assert_eq!(ids, want);

    let vm = instance(&c, create_instance("vm", vec![nic(&s1.id)])).await;
    let address = vm.network_interfaces[0].primary_v4_address.as_ref().unwrap().address.clone();
    assert_eq!(address, "10.10.0.3", "network, gateway and DNS addresses are skipped");
    let used = c
        .subnets
        .clone()
        .list_used_addresses(vpb::ListUsedAddressesRequest { subnet_id: s1.id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(used.addresses.len(), 1);
    let reference = &used.addresses[0].references[0];
    let referrer = reference.referrer.as_ref().unwrap();
    assert_eq!((referrer.r#type.as_str(), referrer.id.as_str()), ("compute.instance", vm.id.as_str()));

    let err = c.networks.clone().delete(vpb::DeleteNetworkRequest { network_id: net.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c.subnets.clone().delete(vpb::DeleteSubnetRequest { subnet_id: s1.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("10.10.0.3"), "{}", err.message());

    let op = c
        .instances
        .clone()
        .delete(netplane::proto::yandex::cloud::compute::v1::DeleteInstanceRequest { instance_id: vm.id.clone() })
        .await
        .unwrap()
        .into_inner();
    c.wait(&op).await;
    assert!(used_addresses(&c, &s1.id).await.is_empty(), "deleting the instance releases its address");
    for s in [&s1, &s2] {
        let op = c.subnets.clone().delete(vpb::DeleteSubnetRequest { subnet_id: s.id.clone() }).await.unwrap().into_inner();
        c.wait(&op).await;
    }
    let op = c.networks.clone().delete(vpb::DeleteNetworkRequest { network_id: net.id.clone() }).await.unwrap().into_inner();
    assert!(c.wait(&op).await.done);
}

#[tokio::test]
async fn lists_page_through_everything() {
    let server = Server::start("inline");
    let c = server.clients().await;
    for i in 0..7 {
        network(&c, &format!("net-{i}")).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .networks
            .clone()
            .list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), page_size: 3, page_token: token.clone(), ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        assert!(page.networks.len() <= 3);
        seen.extend(page.networks.into_iter().map(|n| n.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    seen.sort();
    assert_eq!(seen, (0..7).map(|i| format!("net-{i}")).collect::<Vec<_>>());
    let bad = c
        .networks
        .clone()
        .list(vpb::ListNetworksRequest { folder_id: FOLDER.into(), page_token: "garbage!".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
}
