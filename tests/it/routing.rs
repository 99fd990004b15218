//! Route tables, gateways, internal addresses and subnet blocks with tonic clients: the links
//! between them, and racing reservations of one internal address.

use netplane::proto::yandex::cloud::compute::v1 as cpb;
use netplane::proto::yandex::cloud::vpc::v1 as vpb;
use netplane::proto::yandex::cloud::vpc::v1::route_table_service_client::RouteTableServiceClient;
use tonic::Code;

use crate::fixtures::{FOLDER, create_instance, instance, network, nic_with, response, subnet, violations};
use crate::harness::{Server, data_dir, sqlite_store};

fn internal(name: &str, subnet_id: &str, address: &str) -> vpb::CreateAddressRequest {
    vpb::CreateAddressRequest {
        folder_id: FOLDER.into(),
        name: name.into(),
        address_spec: Some(vpb::create_address_request::AddressSpec::InternalIpv4AddressSpec(vpb::InternalIpv4AddressSpec {
            address: address.into(),
            scope: Some(vpb::internal_ipv4_address_spec::Scope::SubnetId(subnet_id.into())),
        })),
        ..Default::default()
    }
}

/// Many reservations of one internal address at once, on SQLite: exactly one wins.
#[tokio::test]
async fn racing_reservations_of_one_internal_address_exactly_one_wins() {
    let dir = data_dir();
    let store = sqlite_store(&dir);
    let server = Server::start_with(dir, &store, "inline");
    let c = server.clients().await;
    let net = network(&c, "race").await;
    let sub = subnet(&c, &net.id, "10.50.0.0/24").await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let mut addresses = c.addresses();
            let req = internal(&format!("a{n}"), &sub.id, "10.50.0.9");
            tokio::spawn(async move { addresses.create(req).await })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(e.code(), Code::AlreadyExists, "{e:?}"),
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn an_interface_takes_a_reserved_internal_address_and_gives_it_back() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let net = network(&c, "reserved").await;
    let sub = subnet(&c, &net.id, "10.51.0.0/24").await;
    let op = c.addresses().create(internal("db", &sub.id, "10.51.0.20")).await.unwrap().into_inner();
    let reserved: vpb::Address = response(&c.wait(&op).await, "yandex.cloud.vpc.v1.Address");

    let vm = instance(&c, create_instance("db", vec![nic_with(&sub.id, "10.51.0.20", false)])).await;
    let nic = &vm.network_interfaces[0];
    assert_eq!(nic.primary_v4_address.as_ref().unwrap().address, "10.51.0.20");
    let read = c.addresses().get(vpb::GetAddressRequest { address_id: reserved.id.clone() }).await.unwrap().into_inner();
    assert!(read.used, "the interface uses the address");
    let err = c.addresses().delete(vpb::DeleteAddressRequest { address_id: reserved.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = c.instances.clone().create(create_instance("second", vec![nic_with(&sub.id, "10.51.0.20", false)])).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{}", err.message());
    // A block that holds the reserved address cannot be removed.
    let op = c
        .subnets
        .clone()
        .add_cidr_blocks(vpb::AddSubnetCidrBlocksRequest { subnet_id: sub.id.clone(), v4_cidr_blocks: vec!["10.52.0.0/24".into()] })
        .await
        .unwrap()
        .into_inner();
    c.wait(&op).await;
    let err = c
        .subnets
        .clone()
        .remove_cidr_blocks(vpb::RemoveSubnetCidrBlocksRequest { subnet_id: sub.id.clone(), v4_cidr_blocks: vec!["10.51.0.0/24".into()] })
        .await
        .unwrap_err();
    assert_eq!(violations(&err), ["v4_cidr_blocks"]);

    // The instance goes; the address stays reserved, unused.
    let op = c.instances.clone().delete(cpb::DeleteInstanceRequest { instance_id: vm.id.clone() }).await.unwrap().into_inner();
    c.wait(&op).await;
    let read = c.addresses().get(vpb::GetAddressRequest { address_id: reserved.id.clone() }).await.unwrap().into_inner();
    assert!(!read.used);
    let err = c.subnets.clone().delete(vpb::DeleteSubnetRequest { subnet_id: sub.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "a reserved address keeps its subnet");
}

#[tokio::test]
async fn route_tables_serve_only_their_own_network() {
    let server = Server::start("inline");
    let c = server.clients().await;
    let mut tables = RouteTableServiceClient::new(server.channel().await);
    let a = network(&c, "a").await;
    let b = network(&c, "b").await;
    let create = vpb::CreateRouteTableRequest { folder_id: FOLDER.into(), network_id: a.id.clone(), ..Default::default() };
    let op = tables.create(create).await.unwrap().into_inner();
    let table: vpb::RouteTable = response(&c.wait(&op).await, "yandex.cloud.vpc.v1.RouteTable");
    let in_b = vpb::CreateSubnetRequest {
        folder_id: FOLDER.into(),
        network_id: b.id.clone(),
        zone_id: "ru-central1-a".into(),
        v4_cidr_blocks: vec!["10.53.0.0/24".into()],
        route_table_id: table.id.clone(),
        ..Default::default()
    };
    assert_eq!(c.subnets.clone().create(in_b).await.unwrap_err().code(), Code::InvalidArgument);
    let unknown_gateway = vpb::CreateRouteTableRequest {
        folder_id: FOLDER.into(),
        network_id: a.id.clone(),
        static_routes: vec![vpb::StaticRoute {
            destination: Some(vpb::static_route::Destination::DestinationPrefix("0.0.0.0/0".into())),
            next_hop: Some(vpb::static_route::NextHop::GatewayId("enpnosuchgateway0000".into())),
            ..Default::default()
        }],
        ..Default::default()
    };
    assert_eq!(tables.create(unknown_gateway).await.unwrap_err().code(), Code::NotFound);
    let err = c.networks.clone().delete(vpb::DeleteNetworkRequest { network_id: a.id.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "a network keeps its route tables");
}

#[tokio::test]
async fn subnets_switch_tables_gateways_are_lowercase_and_internal_lookups_name_their_subnet() {
    use netplane::proto::yandex::cloud::vpc::v1::gateway_service_client::GatewayServiceClient;
    let server = Server::start("inline");
    let c = server.clients().await;
    let mut tables = RouteTableServiceClient::new(server.channel().await);
    let net = network(&c, "switch").await;
    let table = |name: &str| vpb::CreateRouteTableRequest {
        folder_id: FOLDER.into(),
        name: name.into(),
        network_id: net.id.clone(),
        ..Default::default()
    };
    let first: vpb::RouteTable =
        response(&c.wait(&tables.create(table("first")).await.unwrap().into_inner()).await, "yandex.cloud.vpc.v1.RouteTable");
    let second: vpb::RouteTable =
        response(&c.wait(&tables.create(table("second")).await.unwrap().into_inner()).await, "yandex.cloud.vpc.v1.RouteTable");
    let sub = vpb::CreateSubnetRequest {
        folder_id: FOLDER.into(),
        network_id: net.id.clone(),
        zone_id: "ru-central1-a".into(),
        v4_cidr_blocks: vec!["10.54.0.0/24".into()],
        route_table_id: first.id.clone(),
        ..Default::default()
    };
    let sub: vpb::Subnet =
        response(&c.wait(&c.subnets.clone().create(sub).await.unwrap().into_inner()).await, "yandex.cloud.vpc.v1.Subnet");
    let switch = vpb::UpdateSubnetRequest {
        subnet_id: sub.id.clone(),
        update_mask: Some(netplane::proto::wkt::FieldMask { paths: vec!["route_table_id".into()] }),
        route_table_id: second.id.clone(),
        ..Default::default()
    };
    let switched: vpb::Subnet =
        response(&c.wait(&c.subnets.clone().update(switch).await.unwrap().into_inner()).await, "yandex.cloud.vpc.v1.Subnet");
    assert_eq!(switched.route_table_id, second.id);
    // The first table is free now, the second is not.
    assert!(
        c.wait(&tables.delete(vpb::DeleteRouteTableRequest { route_table_id: first.id.clone() }).await.unwrap().into_inner()).await.done
    );
    assert_eq!(
        tables.delete(vpb::DeleteRouteTableRequest { route_table_id: second.id.clone() }).await.unwrap_err().code(),
        Code::FailedPrecondition
    );

    let upper = vpb::CreateGatewayRequest {
        folder_id: FOLDER.into(),
        name: "Egress".into(),
        gateway: Some(vpb::create_gateway_request::Gateway::SharedEgressGatewaySpec(vpb::SharedEgressGatewaySpec {})),
        ..Default::default()
    };
    assert_eq!(violations(&GatewayServiceClient::new(server.channel().await).create(upper).await.unwrap_err()), ["name"]);

    let by_value = vpb::GetAddressByValueRequest {
        address: Some(vpb::get_address_by_value_request::Address::InternalIpv4Address("10.54.0.9".into())),
        scope: None,
    };
    assert_eq!(violations(&c.addresses().get_by_value(by_value).await.unwrap_err()), ["subnet_id"]);
}
