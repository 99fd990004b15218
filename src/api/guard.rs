//! The guard in front of every API method, gRPC and REST alike (REST reaches it as an in-process
//! gRPC call): it authenticates the bearer token, keeps a principal inside its folders (another
//! folder is PERMISSION_DENIED for folder-addressed calls and NOT_FOUND for resources addressed by
//! id, so their existence does not leak), and runs the call as its `Caller`, with the idempotency
//! key of operation-starting methods. It knows the methods from the table build.rs reads from the
//! descriptors. Every guarded method is unary, so it reads each request body whole, through the
//! bounded reader (`api::body`: within the message limit, the shared memory budget and the body
//! timeout), before tonic sees it; it decodes a request generically, through the descriptors, only
//! when a principal's folders must be checked (so a server whose callers see every folder never
//! decodes them).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderName, Request, Response};
use http_body_util::Full;
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, Value};
use sha2::{Digest, Sha256};
use tonic::body::Body;
use tower::ServiceExt;
use tower_layer::Layer;
use tower_service::Service;

use super::body::{BodyReader, Buffered, MAX_MESSAGE_BYTES};
use super::calls::{CallNotes, RawRequest, served_method};
use super::framing;
use super::grpc::to_status;
use super::header_names::{AUTHORIZATION, IDEMPOTENCY_KEY};
use super::request_id::RequestContext;
use super::rest::descriptor_pool;
use crate::domain::fault::FaultAction;
use crate::domain::image::PUBLIC_FOLDER;
use crate::domain::principals::{Principal, Scope};
use crate::error::{Error, ResourceKind, Result};
use crate::ops::OperationFault;
use crate::proto::METHODS;
use crate::service::Core;
use crate::service::caller::{Caller, IdempotencyKey};
use crate::service::iam::Iam;

/// Services clients call before they have a token (the SDKs send none to these).
const UNAUTHENTICATED_SERVICES: [&str; 2] = ["yandex.cloud.endpoint.ApiEndpointService", "yandex.cloud.iam.v1.IamTokenService"];

/// The requests that may name the public image folder (`standard-images`) whatever the caller's
/// folders.
const PUBLIC_FOLDER_READS: [&str; 2] =
    ["yandex.cloud.compute.v1.ListImagesRequest", "yandex.cloud.compute.v1.GetImageLatestByFamilyRequest"];

/// Request fields that address a resource by id, and its kind.
const ID_FIELDS: [(&str, ResourceKind); 9] = [
    ("instance_id", ResourceKind::Instance),
    ("network_id", ResourceKind::Network),
    ("subnet_id", ResourceKind::Subnet),
    ("address_id", ResourceKind::Address),
    ("security_group_id", ResourceKind::SecurityGroup),
    ("disk_id", ResourceKind::Disk),
    ("route_table_id", ResourceKind::RouteTable),
    ("gateway_id", ResourceKind::EgressGateway),
    // Public images are in no stored folder: anyone may read them.
    ("image_id", ResourceKind::Image),
];

/// What the guard knows: the methods it protects, and how to check callers and targets.
pub struct Guard {
    /// Path → whether the method starts an operation. Hashed with foldhash, not SipHash: every
    /// call looks its path up two or three times, and callers can only look paths up, never add.
    methods: foldhash::HashMap<&'static str, bool>,
    iam: Iam,
    services: Core,
    bodies: BodyReader,
}

impl Guard {
    pub fn new(services_served: &[&str], iam: Iam, services: Core, bodies: BodyReader) -> std::result::Result<Guard, String> {
        let mut methods = foldhash::HashMap::default();
        for name in services_served.iter().filter(|s| !UNAUTHENTICATED_SERVICES.contains(s)) {
            let prefix = format!("/{name}/");
            let before = methods.len();
            methods.extend(METHODS.iter().filter(|m| m.path.starts_with(&prefix)).map(|m| (m.path, m.starts_operation)));
            if methods.len() == before {
                return Err(format!("service {name} is not in the descriptor set"));
            }
        }
        Ok(Guard { methods, iam, services, bodies })
    }

    /// Checks that `principal` may address what `request` names.
    async fn check_targets(&self, principal: &Principal, request: &DynamicMessage) -> Result<()> {
        let text = |name: &str| match request.descriptor().get_field_by_name(name).map(|f| request.get_field(&f).into_owned()) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        // The public image catalog's folder is readable by every caller, writable by none.
        let public_read = |folder_id: &str| folder_id == PUBLIC_FOLDER && PUBLIC_FOLDER_READS.contains(&request.descriptor().full_name());
        if let Some(folder_id) = text("folder_id")
            && !public_read(&folder_id)
            && !principal.folders.allows(&folder_id)
        {
            return Err(Error::PermissionDenied { subject: principal.subject.clone(), folder_id });
        }
        // A move needs both folders: the resource's (checked by its id below) and this one.
        if let Some(folder_id) = text("destination_folder_id")
            && !principal.folders.allows(&folder_id)
        {
            return Err(Error::PermissionDenied { subject: principal.subject.clone(), folder_id });
        }
        for (field, resource) in ID_FIELDS {
            if let Some(id) = text(field)
                && let Some(folder_id) = self.services.folder_of(resource, &id).await?
                && !principal.folders.allows(&folder_id)
            {
                return Err(Error::not_found(resource, id));
            }
        }
        if let Some(id) = text("operation_id")
            && let Some(owner) = self.services.operation_owner(&id).await?
        {
            let visible = match &owner.folder_id {
                Some(folder_id) => principal.folders.allows(folder_id),
                None => owner.created_by == principal.subject,
            };
            if !visible {
                return Err(Error::not_found(ResourceKind::Operation, id));
            }
        }
        Ok(())
    }
}

/// The request message of the method at `path` (`/package.Service/Method`).
fn request_type(path: &str) -> Option<MessageDescriptor> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    descriptor_pool().get_service_by_name(service)?.methods().find(|m| m.name() == method).map(|m| m.input())
}

fn header<'a>(req: &'a Request<Body>, name: &HeaderName) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
}

#[derive(Clone)]
pub struct GuardLayer {
    guard: Arc<Guard>,
}

impl GuardLayer {
    pub fn new(guard: Guard) -> Self {
        GuardLayer { guard: Arc::new(guard) }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GuardService { inner, guard: self.guard.clone() }
    }
}

#[derive(Clone)]
pub struct GuardService<S> {
    inner: S,
    guard: Arc<Guard>,
}

impl<S> Service<Request<Body>> for GuardService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        Box::pin(async move {
            if !guard.methods.contains_key(req.uri().path()) {
                // Unguarded (token exchange, endpoint discovery): recorded by method only, since
                // their requests are credentials.
                if let (Some(notes), Some(method)) = (CallNotes::of(&req), served_method(req.uri().path())) {
                    notes.note(|n| n.method = Some(method));
                }
                return inner.oneshot(req).await;
            }
            let ctx = req.extensions().get::<RequestContext>().cloned();
            let notes = CallNotes::of(&req);
            match admit(&guard, req).await {
                Ok((mut caller, req, body)) => {
                    if let Some(notes) = &notes {
                        let started = Arc::new(std::sync::OnceLock::new());
                        caller.started = Some(started.clone());
                        let path = req.uri().path().to_string();
                        // A copy, not a slice: a slice would keep the whole received buffer alive.
                        let message = framing::unary(&body.bytes).map(Bytes::copy_from_slice);
                        // The guard's own table gives the method's static name: no search per call.
                        let method = guard.methods.get_key_value(path.as_str()).map(|(known, _)| known.trim_start_matches('/'));
                        notes.note(|n| {
                            n.method = method;
                            n.subject = Some(caller.subject.clone());
                            n.request = message.map(|message| RawRequest::grpc(path, message));
                            n.operation = Some(started);
                        });
                    }
                    match scripted_fault(&guard, req.uri().path(), &body.bytes).await {
                        Some((_, FaultAction::Error { code, message, .. })) => {
                            return Ok(to_status(&FaultAction::error(code, &message), ctx.as_ref()).into_http());
                        }
                        Some((_, FaultAction::Delay(delay))) => tokio::time::sleep(delay).await,
                        Some((_, FaultAction::OperationError { code, message })) => {
                            caller.fault = Some(OperationFault::Fail(FaultAction::error(code, &message)));
                        }
                        Some((rule_id, FaultAction::Stall)) => caller.fault = Some(OperationFault::Hold(rule_id)),
                        None => {}
                    }
                    let answer = caller.scope(inner.oneshot(req)).await;
                    // The body's share of the memory budget is held until the call is answered.
                    drop(body);
                    answer
                }
                Err(e) => Ok(to_status(&e, ctx.as_ref()).into_http()),
            }
        })
    }
}

/// The fault rule, if any, that acts on this call (`/_netplane/faults`): the rules for the method
/// are matched against the request as canonical JSON, and a matching call is counted in the store.
/// A server without rules for the method decodes nothing.
async fn scripted_fault(guard: &Guard, path: &str, body: &[u8]) -> Option<(String, FaultAction)> {
    let method = path.strip_prefix('/')?;
    let rules = guard.services.fault_rules_for(method).await;
    if rules.is_empty() {
        return None;
    }
    let request = framing::unary(body)
        .zip(request_type(path))
        .and_then(|(message, input)| DynamicMessage::decode(input, message).ok())
        .and_then(|m| m.serialize_with_options(serde_json::value::Serializer, &prost_reflect::SerializeOptions::new()).ok())
        .unwrap_or_default();
    for rule in rules.iter().filter(|r| r.matches(method, &request)) {
        match guard.services.fault_hit(&rule.id).await {
            Ok(Some(acted)) => return Some(acted),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, rule_id = %rule.id, "could not count a fault rule's match"),
        }
    }
    None
}

/// The largest gRPC request body: one message at the limit in its 5-byte frame.
const MAX_GRPC_BODY_BYTES: usize = MAX_MESSAGE_BYTES + 5;

/// Authenticates and checks one call; gives back the caller, the request to run and its body,
/// read within the limits (every guarded method is unary, so the whole body is one request).
async fn admit(guard: &Guard, req: Request<Body>) -> Result<(Caller, Request<Body>, Buffered)> {
    let principal = guard.iam.authenticate(header(&req, &AUTHORIZATION)).await?;
    let Some(starts_operation) = guard.methods.get(req.uri().path()) else {
        return Err(Error::Internal(format!("no method {}", req.uri().path())));
    };
    let idempotency_key = header(&req, &IDEMPOTENCY_KEY).filter(|_| *starts_operation).map(str::to_string);
    let restricted = principal.folders != Scope::All;
    let (parts, body) = req.into_parts();
    let body = guard.bodies.read(&parts.headers, body, MAX_GRPC_BODY_BYTES).await?;
    let bytes: Bytes = body.bytes.clone();
    let mut idempotency = None;
    // A body that is not one plain frame is left for tonic to refuse with its own error.
    if let Some(message) = framing::unary(&bytes).filter(|_| restricted || idempotency_key.is_some()) {
        if restricted {
            // Every guarded method has a request type; without one the call is refused, not let
            // through unchecked.
            let input =
                request_type(parts.uri.path()).ok_or_else(|| Error::Internal(format!("no request type for {}", parts.uri.path())))?;
            if let Ok(request) = DynamicMessage::decode(input, message) {
                guard.check_targets(&principal, &request).await?;
            }
        }
        if let Some(key) = idempotency_key {
            let fingerprint = format!("{:x}", Sha256::digest(message));
            idempotency = Some(IdempotencyKey { key, method: parts.uri.path().to_string(), fingerprint });
        }
    }
    let caller = Caller { subject: principal.subject, folders: principal.folders, idempotency, fault: None, started: None };
    Ok((caller, Request::from_parts(parts, Body::new(Full::new(bytes))), body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::SystemClock;
    use crate::server::SERVICES;
    use crate::service::{Services, Settings};
    use crate::store::Store;

    #[test]
    fn methods_are_read_from_the_descriptors() {
        let store = Store::open("memory").unwrap();
        let iam = Iam::new(None, store.clone(), Arc::new(SystemClock), std::time::Duration::from_secs(60));
        let guard = Guard::new(SERVICES, iam, Services::new(store, Settings::default()).core, BodyReader::default()).unwrap();
        let starts = |path: &str| guard.methods.get(path).copied();
        assert_eq!(starts("/yandex.cloud.compute.v1.InstanceService/AttachNetworkInterface"), Some(true));
        assert_eq!(starts("/yandex.cloud.vpc.v1.NetworkService/Create"), Some(true));
        assert_eq!(starts("/yandex.cloud.vpc.v1.NetworkService/Get"), Some(false));
        assert_eq!(starts("/yandex.cloud.operation.OperationService/Cancel"), Some(false), "returns an Operation, starts none");
        assert_eq!(starts("/yandex.cloud.iam.v1.IamTokenService/Create"), None, "callable without a token");
        assert_eq!(starts("/yandex.cloud.endpoint.ApiEndpointService/List"), None);
    }

    #[test]
    fn the_build_time_method_table_matches_the_descriptors() {
        let pool = descriptor_pool();
        let operation = pool.get_extension_by_name("yandex.cloud.api.operation").unwrap();
        let from_descriptors: Vec<(String, bool)> = pool
            .services()
            .flat_map(|s| {
                s.methods().map(|m| (format!("/{}/{}", s.full_name(), m.name()), m.options().has_extension(&operation))).collect::<Vec<_>>()
            })
            .collect();
        let from_table: Vec<(String, bool)> = METHODS.iter().map(|m| (m.path.to_string(), m.starts_operation)).collect();
        assert_eq!(from_table, from_descriptors);
    }

    #[test]
    fn a_request_type_is_found_by_path() {
        let input = request_type("/yandex.cloud.compute.v1.InstanceService/AttachNetworkInterface").unwrap();
        assert_eq!(input.full_name(), "yandex.cloud.compute.v1.AttachInstanceNetworkInterfaceRequest");
        assert!(request_type("/yandex.cloud.compute.v1.InstanceService/Nope").is_none());
        assert!(request_type("/nope.Service/Get").is_none());
        assert!(request_type("no-slash").is_none());
    }
}
