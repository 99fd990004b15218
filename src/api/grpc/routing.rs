//! `yandex.cloud.vpc.v1.RouteTableService` and `GatewayService`: parse and validate, call the
//! service, encode.

use ipnet::Ipv4Net;
use tonic::{Request, Response, Status};

use super::status::parts;
use super::vpc::list_in_folder;
use super::{convert, fields, respond, respond_operation};
use crate::domain::gateway::GatewayPatch;
use crate::domain::route_table::{NextHop, RouteTablePatch, StaticRoute, route_violations};
use crate::domain::validate::{self, LabelRules, Violations};
use crate::ops::Movable;
use crate::proto::yandex::cloud::operation::Operation as PbOperation;
use crate::proto::yandex::cloud::vpc::v1 as pb;
use crate::proto::yandex::cloud::vpc::v1::gateway_service_server::GatewayService;
use crate::proto::yandex::cloud::vpc::v1::route_table_service_server::RouteTableService;
use crate::service::RoutingArea;
use crate::service::routing::{CreateGateway, CreateRouteTable};

type Reply<T> = std::result::Result<Response<T>, Status>;

/// The routes of a request, each with a prefix and exactly one next hop, then checked together.
fn static_routes(v: &mut Violations, field: &str, routes: &[pb::StaticRoute]) -> Vec<StaticRoute> {
    use pb::static_route::{Destination, NextHop as Hop};
    let mut out = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let prefix = match &r.destination {
            Some(Destination::DestinationPrefix(p)) => match p.parse::<Ipv4Net>() {
                Ok(net) if net == net.trunc() => Some(net),
                _ => {
                    v.add(
                        format!("{at}.destination_prefix"),
                        format!("\"{}\" is not an IPv4 network in CIDR notation", crate::error::echo(p)),
                    );
                    None
                }
            },
            None => {
                v.add(format!("{at}.destination_prefix"), "required field is not set");
                None
            }
        };
        let hop = match &r.next_hop {
            Some(Hop::NextHopAddress(a)) => fields::ipv4(v, &format!("{at}.next_hop_address"), a).map(NextHop::Address).or_else(|| {
                if a.is_empty() {
                    v.add(format!("{at}.next_hop_address"), "required field is empty");
                }
                None
            }),
            Some(Hop::GatewayId(id)) => {
                v.id(&format!("{at}.gateway_id"), id);
                Some(NextHop::Gateway(id.clone()))
            }
            None => {
                v.add(format!("{at}.next_hop_address"), "exactly one of next_hop_address and gateway_id must be set");
                None
            }
        };
        if let (Some(destination_prefix), Some(next_hop)) = (prefix, hop) {
            out.push(StaticRoute { destination_prefix, next_hop, labels: r.labels.clone() });
        }
    }
    for violation in route_violations(field, &out) {
        v.add(violation.field, violation.description);
    }
    out
}

pub struct RouteTableApi {
    services: RoutingArea,
}

impl RouteTableApi {
    pub fn new(services: RoutingArea) -> Self {
        RouteTableApi { services }
    }
}

#[tonic::async_trait]
impl RouteTableService for RouteTableApi {
    async fn get(&self, req: Request<pb::GetRouteTableRequest>) -> Reply<pb::RouteTable> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("route_table_id", &r.route_table_id)?;
            Ok(convert::route_table(&self.services.get_route_table(&r.route_table_id).await?))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list(&self, req: Request<pb::ListRouteTablesRequest>) -> Reply<pb::ListRouteTablesResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let page = self.services.list_route_tables(list_in_folder(&r.folder_id, r.page_size, &r.page_token, &r.filter)?).await?;
            Ok(pb::ListRouteTablesResponse {
                route_tables: page.items.iter().map(convert::route_table).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create(&self, req: Request<pb::CreateRouteTableRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            v.pattern("name", &r.name, &validate::VPC_NAME);
            v.description("description", &r.description);
            v.labels("labels", &r.labels, LabelRules::Vpc);
            v.id("network_id", &r.network_id);
            let static_routes = static_routes(&mut v, "static_routes", &r.static_routes);
            v.finish()?;
            let cmd = CreateRouteTable {
                folder_id: r.folder_id.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                labels: r.labels.clone(),
                network_id: r.network_id.clone(),
                static_routes,
            };
            convert::operation_answer(&self.services.create_route_table(cmd).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateRouteTableRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("route_table_id", &r.route_table_id);
            let implied = [
                ("name", !r.name.is_empty()),
                ("description", !r.description.is_empty()),
                ("labels", !r.labels.is_empty()),
                ("static_routes", !r.static_routes.is_empty()),
            ];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            fields::check_mask(&mut v, &paths, &["name", "description", "labels", "static_routes"]);
            let has = |f: &str| paths.iter().any(|p| p == f);
            let mut patch = RouteTablePatch::default();
            if has("name") {
                v.pattern("name", &r.name, &validate::VPC_NAME);
                patch.name = Some(r.name.clone());
            }
            if has("description") {
                v.description("description", &r.description);
                patch.description = Some(r.description.clone());
            }
            if has("labels") {
                v.labels("labels", &r.labels, LabelRules::Vpc);
                patch.labels = Some(r.labels.clone());
            }
            if has("static_routes") {
                patch.static_routes = Some(static_routes(&mut v, "static_routes", &r.static_routes));
            }
            v.finish()?;
            convert::operation_answer(&self.services.update_route_table(&r.route_table_id, patch).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn delete(&self, req: Request<pb::DeleteRouteTableRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("route_table_id", &r.route_table_id)?;
            convert::operation_answer(&self.services.delete_route_table(&r.route_table_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_operations(&self, req: Request<pb::ListRouteTableOperationsRequest>) -> Reply<pb::ListRouteTableOperationsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("route_table_id", &r.route_table_id, r.page_size, &r.page_token)?;
            let page = self.services.list_route_table_operations(&r.route_table_id, size, &r.page_token).await?;
            Ok(pb::ListRouteTableOperationsResponse {
                operations: convert::operations(&page.items)?,
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn r#move(&self, req: Request<pb::MoveRouteTableRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::move_target("route_table_id", &r.route_table_id, &r.destination_folder_id)?;
            convert::operation_answer(&self.services.move_resource(Movable::RouteTable, &r.route_table_id, &r.destination_folder_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }
}

pub struct GatewayApi {
    services: RoutingArea,
}

impl GatewayApi {
    pub fn new(services: RoutingArea) -> Self {
        GatewayApi { services }
    }
}

#[tonic::async_trait]
impl GatewayService for GatewayApi {
    async fn get(&self, req: Request<pb::GetGatewayRequest>) -> Reply<pb::Gateway> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("gateway_id", &r.gateway_id)?;
            Ok(convert::gateway(&self.services.get_gateway(&r.gateway_id).await?))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list(&self, req: Request<pb::ListGatewaysRequest>) -> Reply<pb::ListGatewaysResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let page = self.services.list_gateways(list_in_folder(&r.folder_id, r.page_size, &r.page_token, &r.filter)?).await?;
            Ok(pb::ListGatewaysResponse {
                gateways: page.items.iter().map(convert::gateway).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create(&self, req: Request<pb::CreateGatewayRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            v.pattern("name", &r.name, &validate::GATEWAY_NAME);
            v.description("description", &r.description);
            v.labels("labels", &r.labels, LabelRules::Compute);
            if r.gateway.is_none() {
                v.add("shared_egress_gateway_spec", "required field is not set");
            }
            v.finish()?;
            let cmd = CreateGateway {
                folder_id: r.folder_id.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                labels: r.labels.clone(),
            };
            convert::operation_answer(&self.services.create_gateway(cmd).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateGatewayRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("gateway_id", &r.gateway_id);
            let implied = [("name", !r.name.is_empty()), ("description", !r.description.is_empty()), ("labels", !r.labels.is_empty())];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            fields::check_mask(&mut v, &paths, &["name", "description", "labels", "shared_egress_gateway_spec"]);
            let has = |f: &str| paths.iter().any(|p| p == f);
            let mut patch = GatewayPatch::default();
            if has("name") {
                v.pattern("name", &r.name, &validate::GATEWAY_NAME);
                patch.name = Some(r.name.clone());
            }
            if has("description") {
                v.description("description", &r.description);
                patch.description = Some(r.description.clone());
            }
            if has("labels") {
                v.labels("labels", &r.labels, LabelRules::Compute);
                patch.labels = Some(r.labels.clone());
            }
            v.finish()?;
            convert::operation_answer(&self.services.update_gateway(&r.gateway_id, patch).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn delete(&self, req: Request<pb::DeleteGatewayRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("gateway_id", &r.gateway_id)?;
            convert::operation_answer(&self.services.delete_gateway(&r.gateway_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_operations(&self, req: Request<pb::ListGatewayOperationsRequest>) -> Reply<pb::ListGatewayOperationsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("gateway_id", &r.gateway_id, r.page_size, &r.page_token)?;
            let page = self.services.list_gateway_operations(&r.gateway_id, size, &r.page_token).await?;
            Ok(pb::ListGatewayOperationsResponse { operations: convert::operations(&page.items)?, next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn r#move(&self, req: Request<pb::MoveGatewayRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::move_target("gateway_id", &r.gateway_id, &r.destination_folder_id)?;
            convert::operation_answer(&self.services.move_resource(Movable::Gateway, &r.gateway_id, &r.destination_folder_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }
}
