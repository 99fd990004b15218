//! `yandex.cloud.vpc.v1.NetworkService` and `SubnetService`: parse and validate, call, encode.

use std::net::Ipv4Addr;

use tonic::{Request, Response, Status};

use super::status::{self, parts};
use super::{convert, fields, respond, respond_operation};
use crate::domain::filter::{self, NAME_ONLY};
use crate::domain::network::NetworkPatch;
use crate::domain::subnet::{self, DhcpOptions, SubnetPatch};
use crate::domain::validate::{self, LabelRules, Violations};
use crate::error::Result;
use crate::ops::Movable;
use crate::proto::yandex::cloud::operation::Operation as PbOperation;
use crate::proto::yandex::cloud::reference;
use crate::proto::yandex::cloud::vpc::v1 as pb;
use crate::proto::yandex::cloud::vpc::v1::network_service_server::NetworkService;
use crate::proto::yandex::cloud::vpc::v1::subnet_service_server::SubnetService;
use crate::service::listing::ListInFolder;
use crate::service::vpc::{CreateNetwork, CreateSubnet};
use crate::service::{RoutingArea, SecurityGroupArea, VpcArea};

type Reply<T> = std::result::Result<Response<T>, Status>;

pub struct NetworkApi {
    services: VpcArea,
    /// `NetworkService.ListSecurityGroups` lists the security group area's resources.
    security_groups: SecurityGroupArea,
    /// `NetworkService.ListRouteTables` lists the routing area's.
    routing: RoutingArea,
}

pub struct SubnetApi {
    services: VpcArea,
}

impl NetworkApi {
    pub fn new(services: VpcArea, security_groups: SecurityGroupArea, routing: RoutingArea) -> Self {
        NetworkApi { services, security_groups, routing }
    }
}

impl SubnetApi {
    pub fn new(services: VpcArea) -> Self {
        SubnetApi { services }
    }
}

pub(super) fn list_in_folder(folder_id: &str, page_size: i64, page_token: &str, filter_text: &str) -> Result<ListInFolder> {
    let mut v = Violations::new();
    v.id("folder_id", folder_id);
    v.page(page_size, page_token);
    v.max_len("filter", filter_text, 1000);
    let conditions = filter::parse_filter(filter_text, NAME_ONLY).unwrap_or_else(|e| {
        v.add("filter", e);
        vec![]
    });
    v.finish()?;
    Ok(ListInFolder {
        folder_id: folder_id.to_string(),
        page_size: validate::page_size(page_size),
        page_token: page_token.to_string(),
        conditions,
    })
}

fn dhcp(v: &mut Violations, d: Option<&pb::DhcpOptions>) -> Option<DhcpOptions> {
    let d = d?;
    for (name, list) in [("dhcp_options.domain_name_servers", &d.domain_name_servers), ("dhcp_options.ntp_servers", &d.ntp_servers)] {
        for (i, a) in list.iter().enumerate() {
            if a.parse::<Ipv4Addr>().is_err() {
                v.add(format!("{name}[{i}]"), format!("\"{a}\" is not an IPv4 address"));
            }
        }
    }
    Some(DhcpOptions {
        domain_name_servers: d.domain_name_servers.clone(),
        domain_name: d.domain_name.clone(),
        ntp_servers: d.ntp_servers.clone(),
    })
}

#[tonic::async_trait]
impl NetworkService for NetworkApi {
    async fn get(&self, req: Request<pb::GetNetworkRequest>) -> Reply<pb::Network> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("network_id", &r.network_id)?;
            Ok(convert::network(&self.services.get_network(&r.network_id).await?))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list(&self, req: Request<pb::ListNetworksRequest>) -> Reply<pb::ListNetworksResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let page = self.services.list_networks(list_in_folder(&r.folder_id, r.page_size, &r.page_token, &r.filter)?).await?;
            Ok(pb::ListNetworksResponse {
                networks: page.items.iter().map(convert::network).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create(&self, req: Request<pb::CreateNetworkRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            v.pattern("name", &r.name, &validate::VPC_NAME);
            v.description("description", &r.description);
            v.labels("labels", &r.labels, LabelRules::Vpc);
            v.finish()?;
            let cmd = CreateNetwork {
                folder_id: r.folder_id.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                labels: r.labels.clone(),
            };
            convert::operation_answer(&self.services.create_network(cmd).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateNetworkRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("network_id", &r.network_id);
            let implied = [("name", !r.name.is_empty()), ("description", !r.description.is_empty()), ("labels", !r.labels.is_empty())];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            fields::check_mask(&mut v, &paths, &["name", "description", "labels"]);
            let common = fields::common(&mut v, &paths, (&r.name, &r.description, &r.labels), &validate::VPC_NAME, LabelRules::Vpc);
            let patch = NetworkPatch { name: common.name, description: common.description, labels: common.labels };
            v.finish()?;
            convert::operation_answer(&self.services.update_network(&r.network_id, patch).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn delete(&self, req: Request<pb::DeleteNetworkRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("network_id", &r.network_id)?;
            convert::operation_answer(&self.services.delete_network(&r.network_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_subnets(&self, req: Request<pb::ListNetworkSubnetsRequest>) -> Reply<pb::ListNetworkSubnetsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("network_id", &r.network_id, r.page_size, &r.page_token)?;
            let page = self.services.list_network_subnets(&r.network_id, size, &r.page_token).await?;
            Ok(pb::ListNetworkSubnetsResponse {
                subnets: page.items.iter().map(convert::subnet).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list_security_groups(
        &self,
        req: Request<pb::ListNetworkSecurityGroupsRequest>,
    ) -> Reply<pb::ListNetworkSecurityGroupsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let page_size = fields::child_page("network_id", &r.network_id, r.page_size, &r.page_token)?;
            let cmd = ListInFolder { folder_id: String::new(), page_size, page_token: r.page_token.clone(), conditions: vec![] };
            let page = self.security_groups.list_security_groups(cmd, Some(r.network_id.clone())).await?;
            Ok(pb::ListNetworkSecurityGroupsResponse {
                security_groups: page.items.iter().map(convert::security_group).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list_route_tables(&self, req: Request<pb::ListNetworkRouteTablesRequest>) -> Reply<pb::ListNetworkRouteTablesResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("network_id", &r.network_id, r.page_size, &r.page_token)?;
            let page = self.routing.list_network_route_tables(&r.network_id, size, &r.page_token).await?;
            Ok(pb::ListNetworkRouteTablesResponse {
                route_tables: page.items.iter().map(convert::route_table).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list_operations(&self, req: Request<pb::ListNetworkOperationsRequest>) -> Reply<pb::ListNetworkOperationsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("network_id", &r.network_id, r.page_size, &r.page_token)?;
            let page = self.services.list_network_operations(&r.network_id, size, &r.page_token).await?;
            Ok(pb::ListNetworkOperationsResponse { operations: convert::operations(&page.items)?, next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn r#move(&self, req: Request<pb::MoveNetworkRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::move_target("network_id", &r.network_id, &r.destination_folder_id)?;
            convert::operation_answer(&self.services.move_resource(Movable::Network, &r.network_id, &r.destination_folder_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }
}

#[tonic::async_trait]
impl SubnetService for SubnetApi {
    async fn get(&self, req: Request<pb::GetSubnetRequest>) -> Reply<pb::Subnet> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("subnet_id", &r.subnet_id)?;
            Ok(convert::subnet(&self.services.get_subnet(&r.subnet_id).await?))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list(&self, req: Request<pb::ListSubnetsRequest>) -> Reply<pb::ListSubnetsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let page = self.services.list_subnets(list_in_folder(&r.folder_id, r.page_size, &r.page_token, &r.filter)?).await?;
            Ok(pb::ListSubnetsResponse { subnets: page.items.iter().map(convert::subnet).collect(), next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create(&self, req: Request<pb::CreateSubnetRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            v.pattern("name", &r.name, &validate::VPC_NAME);
            v.description("description", &r.description);
            v.labels("labels", &r.labels, LabelRules::Vpc);
            v.id("network_id", &r.network_id);
            v.zone("zone_id", &r.zone_id);
            v.max_len("route_table_id", &r.route_table_id, 50);
            let dhcp_options = dhcp(&mut v, r.dhcp_options.as_ref());
            let blocks = subnet::parse_cidr_blocks("v4_cidr_blocks", &r.v4_cidr_blocks);
            if let Err(e) = &blocks {
                for f in e.violations() {
                    v.add(f.field.clone(), f.description.clone());
                }
            }
            v.finish()?;
            let cmd = CreateSubnet {
                folder_id: r.folder_id.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                labels: r.labels.clone(),
                network_id: r.network_id.clone(),
                zone_id: r.zone_id.clone(),
                v4_cidr_blocks: blocks?,
                route_table_id: r.route_table_id.clone(),
                dhcp_options,
            };
            convert::operation_answer(&self.services.create_subnet(cmd).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateSubnetRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("subnet_id", &r.subnet_id);
            let implied = [
                ("name", !r.name.is_empty()),
                ("description", !r.description.is_empty()),
                ("labels", !r.labels.is_empty()),
                ("route_table_id", !r.route_table_id.is_empty()),
                ("dhcp_options", r.dhcp_options.is_some()),
                ("v4_cidr_blocks", !r.v4_cidr_blocks.is_empty()),
            ];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            fields::check_mask(&mut v, &paths, &["name", "description", "labels", "route_table_id", "dhcp_options", "v4_cidr_blocks"]);
            let has = |f: &str| paths.iter().any(|p| p == f);
            let common = fields::common(&mut v, &paths, (&r.name, &r.description, &r.labels), &validate::VPC_NAME, LabelRules::Vpc);
            let mut patch = SubnetPatch { name: common.name, description: common.description, labels: common.labels, ..Default::default() };
            if has("route_table_id") {
                v.max_len("route_table_id", &r.route_table_id, 50);
                patch.route_table_id = Some(r.route_table_id.clone());
            }
            if has("dhcp_options") {
                patch.dhcp_options = Some(dhcp(&mut v, r.dhcp_options.as_ref()));
            }
            let mut blocks = None;
            if has("v4_cidr_blocks") {
                match subnet::parse_cidr_blocks("v4_cidr_blocks", &r.v4_cidr_blocks) {
                    Ok(b) => blocks = Some(b),
                    Err(e) => e.violations().iter().for_each(|f| v.add(f.field.clone(), f.description.clone())),
                }
            }
            v.finish()?;
            convert::operation_answer(&self.services.update_subnet(&r.subnet_id, patch, blocks).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn add_cidr_blocks(&self, req: Request<pb::AddSubnetCidrBlocksRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("subnet_id", &r.subnet_id)?;
            let blocks = subnet::parse_cidr_blocks("v4_cidr_blocks", &r.v4_cidr_blocks)?;
            convert::operation_answer(&self.services.change_subnet_blocks(&r.subnet_id, blocks, vec![]).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn remove_cidr_blocks(&self, req: Request<pb::RemoveSubnetCidrBlocksRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("subnet_id", &r.subnet_id)?;
            let blocks = subnet::parse_cidr_blocks("v4_cidr_blocks", &r.v4_cidr_blocks)?;
            convert::operation_answer(&self.services.change_subnet_blocks(&r.subnet_id, vec![], blocks).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn relocate(&self, _: Request<pb::RelocateSubnetRequest>) -> Reply<PbOperation> {
        status::unimplemented("yandex.cloud.vpc.v1.SubnetService", "Relocate")
    }

    async fn delete(&self, req: Request<pb::DeleteSubnetRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("subnet_id", &r.subnet_id)?;
            convert::operation_answer(&self.services.delete_subnet(&r.subnet_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_operations(&self, req: Request<pb::ListSubnetOperationsRequest>) -> Reply<pb::ListSubnetOperationsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("subnet_id", &r.subnet_id, r.page_size, &r.page_token)?;
            let page = self.services.list_subnet_operations(&r.subnet_id, size, &r.page_token).await?;
            Ok(pb::ListSubnetOperationsResponse { operations: convert::operations(&page.items)?, next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn r#move(&self, req: Request<pb::MoveSubnetRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::move_target("subnet_id", &r.subnet_id, &r.destination_folder_id)?;
            convert::operation_answer(&self.services.move_resource(Movable::Subnet, &r.subnet_id, &r.destination_folder_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_used_addresses(&self, req: Request<pb::ListUsedAddressesRequest>) -> Reply<pb::ListUsedAddressesResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("subnet_id", &r.subnet_id, r.page_size, &r.page_token)?;
            let page = self.services.list_used_addresses(&r.subnet_id, size, &r.page_token).await?;
            let addresses = page
                .items
                .into_iter()
                .map(|u| pb::UsedAddress {
                    address: u.address,
                    ip_version: pb::IpVersion::Ipv4 as i32,
                    references: vec![reference::Reference {
                        referrer: Some(reference::Referrer { r#type: u.referrer_type, id: u.referrer_id }),
                        r#type: reference::reference::Type::UsedBy as i32,
                    }],
                })
                .collect();
            Ok(pb::ListUsedAddressesResponse { addresses, next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
    }
}
