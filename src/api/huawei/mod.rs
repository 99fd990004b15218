//! Huawei Cloud's own REST APIs: private NAT v3 (`/v3/{project_id}/private-nat/…` and its tag
//! APIs) and the part of VPC it needs (v1 VPCs, subnets and ports, v2.0 tags, v3 VPCs). Unlike Yandex REST these
//! are not transcoded from protos: they have their own shapes, and the handlers call `service`
//! directly. Every call passes `admit` first: the body is read (within the REST limit), the caller
//! authenticated for the project in the path, and the call's `Ctx` attached.

mod auth;
mod dnat;
pub mod names;
mod nat;
mod port;
pub(crate) mod reply;
mod resource;
mod snat;
mod tags;
mod vpc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use tower::ServiceExt;

pub use auth::HuaweiAuth;
use reply::Ctx;
use resource::{list, show};

use crate::api::body::{BodyReader, MAX_MESSAGE_BYTES};
use crate::api::calls::{CallNotes, RawRequest};
use crate::api::front::NETPLANE_HUAWEI_PREFIX;
use crate::api::request_id::RequestContext;
use crate::api::rest::DRAIN_LIMIT_BYTES;
use crate::domain::fault::FaultAction;
use crate::domain::huawei::dnat::DnatRule;
use crate::domain::huawei::nat::{Gateway, TransitIp, TransitSubnet};
use crate::domain::huawei::port::Port;
use crate::domain::huawei::snat::SnatRule;
use crate::domain::huawei::tags::Tagged;
use crate::domain::huawei::vpc::{Subnet, Vpc};
use crate::error::{Error, HuaweiApi, TransportError};
use crate::service::HuaweiArea;

/// The Huawei REST router, cheap to clone.
#[derive(Clone)]
pub struct HuaweiRest {
    router: Router,
}

impl HuaweiRest {
    pub fn new(services: HuaweiArea, auth: HuaweiAuth, bodies: BodyReader) -> HuaweiRest {
        HuaweiRest { router: routes(services, auth, bodies) }
    }

    /// The Huawei JSON answer refusing a request for `path` before it is routed.
    pub fn refuse(&self, path: &str, context: Option<&RequestContext>, e: &Error) -> Response {
        call_context(path, context).fail(e)
    }

    pub async fn serve<B>(&self, request: http::Request<B>) -> Response
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// The tag API of one kind under `base` (`/v3/{project_id}/transit-ips`, `/v2.0/{project_id}/vpcs`, …).
fn tag_routes<R: resource::Wire + Tagged>(router: Router<HuaweiArea>, base: &str) -> Router<HuaweiArea> {
    router
        .route(&format!("{base}/{{id}}/tags"), get(tags::show::<R>).post(tags::add::<R>))
        .route(&format!("{base}/{{id}}/tags/action"), post(tags::batch::<R>).delete(tags::delete_action_key::<R>))
        .route(&format!("{base}/{{id}}/tags/{{key}}"), delete(tags::delete::<R>))
        .route(&format!("{base}/tags"), get(tags::project::<R>))
        .route(&format!("{base}/resource_instances/action"), post(tags::filter::<R>))
}

fn routes(services: HuaweiArea, auth: HuaweiAuth, bodies: BodyReader) -> Router {
    let nat = "/v3/{project_id}/private-nat";
    let router = Router::new();
    let router = tag_routes::<Gateway>(router, "/v3/{project_id}/private-nat-gateways");
    let router = tag_routes::<TransitIp>(router, "/v3/{project_id}/transit-ips");
    let router = tag_routes::<TransitSubnet>(router, "/v3/{project_id}/transit-subnets");
    let router = tag_routes::<Vpc>(router, "/v2.0/{project_id}/vpcs");
    let router = tag_routes::<Subnet>(router, "/v2.0/{project_id}/subnets");
    router
        .route(&format!("{nat}/gateways"), get(list::<Gateway>).post(nat::create_gateway))
        .route(&format!("{nat}/gateways/{{id}}"), get(show::<Gateway>).put(nat::update_gateway).delete(nat::delete_gateway))
        .route(&format!("{nat}/transit-subnets"), get(list::<TransitSubnet>).post(nat::create_transit_subnet))
        .route(
            &format!("{nat}/transit-subnets/{{id}}"),
            get(show::<TransitSubnet>).put(nat::update_transit_subnet).delete(nat::delete_transit_subnet),
        )
        .route(&format!("{nat}/transit-ips"), get(list::<TransitIp>).post(nat::create_transit_ip))
        .route(&format!("{nat}/transit-ips/{{id}}"), get(show::<TransitIp>).delete(nat::delete_transit_ip))
        .route(&format!("{nat}/dnat-rules"), get(list::<DnatRule>).post(dnat::create))
        .route(&format!("{nat}/dnat-rules/{{id}}"), get(show::<DnatRule>).put(dnat::update).delete(dnat::delete))
        .route(&format!("{nat}/snat-rules"), get(list::<SnatRule>).post(snat::create))
        .route(&format!("{nat}/snat-rules/{{id}}"), get(show::<SnatRule>).put(snat::update).delete(snat::delete))
        .route(&format!("{nat}/specs"), get(nat::list_specs))
        .route("/v1/{project_id}/vpcs", get(list::<Vpc>).post(vpc::create_vpc))
        .route("/v3/{project_id}/vpc/vpcs", get(vpc::list_vpcs_v3).post(vpc::create_vpc_v3))
        .route("/v3/{project_id}/vpc/vpcs/{id}", get(vpc::show_vpc_v3).put(vpc::update_vpc_v3).delete(vpc::delete_vpc_v3))
        .route("/v3/{project_id}/vpc/vpcs/{id}/add-extend-cidr", put(vpc::add_extend_cidr))
        .route("/v3/{project_id}/vpc/vpcs/{id}/remove-extend-cidr", put(vpc::remove_extend_cidr))
        .route("/v1/{project_id}/ports", get(list::<Port>).post(port::create))
        .route("/v1/{project_id}/ports/{id}", get(show::<Port>).delete(port::delete))
        .route("/v1/{project_id}/vpcs/{id}", get(show::<Vpc>).put(vpc::update_vpc).delete(vpc::delete_vpc))
        .route("/v1/{project_id}/subnets", get(list::<Subnet>).post(vpc::create_subnet))
        .route("/v1/{project_id}/subnets/{id}", get(show::<Subnet>))
        .route("/v1/{project_id}/vpcs/{vpc_id}/subnets/{id}", put(vpc::update_subnet).delete(vpc::delete_subnet))
        .route(&format!("{NETPLANE_HUAWEI_PREFIX}{{project_id}}/gateways/{{id}}/status"), put(nat::set_gateway_status))
        .fallback(no_route)
        .method_not_allowed_fallback(no_route)
        .layer(middleware::from_fn_with_state((auth, bodies, services.clone()), admit))
        // `admit` has read the body within netplane's own limit; axum's (2 MB, answered as
        // text/plain) would refuse bodies that limit allows.
        .layer(DefaultBodyLimit::disable())
        .with_state(services)
}

/// Which API a path belongs to, and the project in it (as sent: it is checked by `check_path`).
fn api_and_project(path: &str) -> (HuaweiApi, String) {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let api = match (segments.first(), segments.get(2)) {
        (Some(&"v1" | &"v2.0"), _) => HuaweiApi::Vpc,
        (Some(&"v3"), Some(&"vpc")) => HuaweiApi::VpcV3,
        _ => HuaweiApi::PrivateNat,
    };
    let project_index = if path.starts_with(NETPLANE_HUAWEI_PREFIX) { 2 } else { 1 };
    let project = segments.get(project_index).map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned());
    (api, project.unwrap_or_default())
}

/// The context of a call to `path`: its API, its project and its request id (the one the
/// request-id layer gave it, or a new one in Huawei's form).
fn call_context(path: &str, request: Option<&RequestContext>) -> Ctx {
    let (api, project_id) = api_and_project(path);
    let request_id = request.map(|c| c.request_id.to_string()).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    Ctx { api, project_id, request_id }
}

/// Refuses a path that no Huawei API would route: a segment that is not UTF-8 once decoded (it
/// would otherwise be read lossily, so that different raw ids became one), or a project id that
/// is not one Huawei issues (32 lowercase hexadecimal digits).
fn check_path(path: &str, project_id: &str) -> Result<(), Error> {
    for segment in path.split('/') {
        if percent_encoding::percent_decode_str(segment).decode_utf8().is_err() {
            return Err(Error::invalid("path", format!("segment \"{}\" is not UTF-8 once percent-decoded", crate::error::echo(segment))));
        }
    }
    if !is_project_id(project_id) {
        return Err(Error::invalid(
            "project_id",
            format!("\"{}\" is not a project id: 32 lowercase hexadecimal digits", crate::error::echo(project_id)),
        ));
    }
    Ok(())
}

fn is_project_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Reads the body, authenticates the caller for the path's project, attaches the call's `Ctx`, and
/// lets a fault rule for the call act (`/_netplane/faults`).
async fn admit(State((auth, bodies, services)): State<(HuaweiAuth, BodyReader, HuaweiArea)>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let ctx = call_context(parts.uri.path(), parts.extensions.get::<RequestContext>());
    if let Err(e) = check_path(parts.uri.path(), &ctx.project_id) {
        return ctx.fail(&e);
    }
    let body = match bodies.read_draining(&parts.headers, body, MAX_MESSAGE_BYTES, DRAIN_LIMIT_BYTES).await {
        Ok(body) => body,
        Err(e) => return ctx.fail(&e),
    };
    let name = parts.extensions.get::<MatchedPath>().and_then(|t| names::api_name(&parts.method, t.as_str(), &body.bytes).zip(Some(t)));
    let notes = parts.extensions.get::<CallNotes>().cloned();
    if let Some(notes) = &notes {
        notes.note(|n| {
            n.method = name.as_ref().and_then(|(name, _)| names::interned(name));
            n.request = (!body.bytes.is_empty()).then(|| RawRequest::json(body.bytes.clone()));
        });
    }
    let principal = match auth.admit(&parts, &body.bytes, &ctx.project_id) {
        Ok(principal) => principal,
        Err(e) => {
            tracing::info!(error = %e, project_id = %ctx.project_id, request_id = %ctx.request_id, "Huawei call refused");
            return ctx.fail(&e);
        }
    };
    if let Some(notes) = &notes {
        notes.note(|n| n.subject = Some(principal.subject.clone()));
    }
    if let Some((name, template)) = &name {
        match scripted_fault(&services, name, template.as_str(), parts.uri.path(), &body.bytes).await {
            Some(FaultAction::Error { code, message, status, error_code }) => {
                return ctx.fail_as(status.unwrap_or(code.http_status()), error_code.as_deref().unwrap_or("NETPLANE.FAULT"), &message);
            }
            Some(FaultAction::Delay(delay)) => tokio::time::sleep(delay).await,
            // Rules that act on operations are refused for Huawei calls when they are added.
            Some(FaultAction::OperationError { .. } | FaultAction::Stall) | None => {}
        }
    }
    let mut request = Request::from_parts(parts, Body::from(body.bytes.clone()));
    request.extensions_mut().insert(ctx);
    let response = next.run(request).await;
    // The body's share of the memory budget is held until the call is answered.
    drop(body);
    response
}

/// The action of the fault rule, if any, that acts on this call. The request it is matched against
/// is the body's JSON with the path's parameters (`project_id`, `id`, …) added.
async fn scripted_fault(services: &HuaweiArea, name: &str, template: &str, path: &str, body: &[u8]) -> Option<FaultAction> {
    let rules = services.fault_rules_for(name).await;
    if rules.is_empty() {
        return None;
    }
    let mut request = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(object)) => object,
        _ => serde_json::Map::new(),
    };
    for (param, value) in template.split('/').zip(path.split('/')) {
        if let Some(param) = param.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned();
            request.entry(param.to_string()).or_insert(serde_json::Value::String(value));
        }
    }
    let request = serde_json::Value::Object(request);
    for rule in rules.iter().filter(|r| r.matches(name, &request)) {
        match services.fault_hit(&rule.id).await {
            Ok(Some((_, action))) => return Some(action),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, rule_id = %rule.id, "could not count a fault rule's match"),
        }
    }
    None
}

async fn no_route(Extension(ctx): Extension<Ctx>, request: Request) -> Response {
    ctx.fail(&TransportError::NoRoute { method: request.method().to_string(), path: request.uri().path().to_string() }.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huawei_paths_name_their_api_and_project() {
        assert_eq!(api_and_project("/v3/p1/private-nat/dnat-rules/x"), (HuaweiApi::PrivateNat, "p1".into()));
        assert_eq!(api_and_project("/v1/p2/vpcs"), (HuaweiApi::Vpc, "p2".into()));
        assert_eq!(api_and_project("/v2.0/p5/vpcs/v/tags"), (HuaweiApi::Vpc, "p5".into()));
        assert_eq!(api_and_project("/v3/p6/transit-ips/t/tags"), (HuaweiApi::PrivateNat, "p6".into()));
        assert_eq!(api_and_project("/v3/p4/vpc/vpcs/v"), (HuaweiApi::VpcV3, "p4".into()));
        assert_eq!(api_and_project("/netplane/huawei/p3/gateways/g/status"), (HuaweiApi::PrivateNat, "p3".into()));
    }

    #[test]
    fn paths_with_undecodable_segments_or_foreign_project_ids_are_refused() {
        let project = "0123456789abcdef0123456789abcdef";
        assert!(check_path(&format!("/v3/{project}/private-nat/gateways/abc%20d"), project).is_ok());
        assert!(check_path(&format!("/v3/{project}/private-nat/gateways/%ff"), project).is_err());
        assert!(check_path("/v1/%ff/vpcs", "\u{fffd}").is_err());
        for not_a_project in ["p1", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcde", ""] {
            assert!(check_path("/v1/x/vpcs", not_a_project).is_err(), "{not_a_project}");
        }
    }
}
