//! netplane's own endpoints, under `/_netplane/` (and `/metrics`) on every listener that serves
//! REST: health, reset, state export and import, fault rules, operation stepping and the web
//! console (`console`). JSON in and
//! out; errors are `{"code": "<gRPC code name>", "message"}` with the code's HTTP status. Open in
//! development mode; with principals, for principals marked `"admin": true` only (an IAM token as
//! `Authorization: Bearer …`, or an `X-Auth-Token`).

mod console;
mod faults;
mod operations;
mod requests;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use tower::ServiceExt;

use crate::api::front::METRICS_PATH;
use crate::domain::principals::Principals;
use crate::error::{Error, Result};
use crate::service::AdminArea;
use crate::service::iam::Iam;
use crate::service::state::Snapshot;

/// The largest body these endpoints read (a state document). Bodies are read only after the
/// caller is admitted.
pub const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;

/// Whether a method exists, and whether it starts an operation.
pub type KnownMethod = Arc<dyn Fn(&str) -> Option<bool> + Send + Sync>;

/// What the handlers share.
#[derive(Clone)]
pub struct AdminState {
    pub admin: AdminArea,
    pub iam: Iam,
    pub principals: Option<Principals>,
    pub started: Instant,
    /// Turns true when a shutdown begins: health then answers 503.
    pub stopping: watch::Receiver<bool>,
    pub store: String,
    /// Whether a method (gRPC full method or Huawei API name) exists, and starts an operation.
    pub known_method: KnownMethod,
    pub journal: Arc<crate::api::calls::Journal>,
}

/// The router, cheap to clone.
#[derive(Clone)]
pub struct AdminRest {
    router: Router,
}

impl AdminRest {
    pub fn new(state: AdminState) -> AdminRest {
        let console = Router::new()
            .route("/_netplane/ui", get(console::to_console))
            .route(console::UI_PREFIX, get(console::page))
            .route("/_netplane/ui/{name}", get(console::asset));
        let admitted = Router::new()
            .route("/_netplane/health", get(health))
            .route("/_netplane/scopes", get(console::scopes))
            .route("/_netplane/reset", post(reset))
            .route("/_netplane/state", get(export_state).put(import_state))
            .route("/_netplane/faults", get(faults::list).post(faults::add).delete(faults::remove_all))
            .route("/_netplane/faults/{id}", axum::routing::delete(faults::remove))
            .route("/_netplane/operations", get(operations::list))
            .route("/_netplane/operations/{action}", post(operations::step))
            .route("/_netplane/requests", get(requests::list))
            .route(METRICS_PATH, get(requests::metrics))
            .fallback(no_route)
            .layer(middleware::from_fn_with_state(state.clone(), require_admin));
        // The console's assets hold no state: a browser must be able to load the page before it
        // has a token to send.
        let router = console.merge(admitted).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)).with_state(state);
        AdminRest { router }
    }

    pub async fn serve<B>(&self, request: http::Request<B>) -> Response
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        match self.router.clone().oneshot(request.map(axum::body::Body::new)).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// The answer when the endpoints are turned off (`--admin off`).
    pub fn off() -> Response {
        fail(&Error::Unimplemented("netplane's own endpoints (they are turned off: --admin off)".into()))
    }
}

/// A JSON answer.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut bytes = serde_json::to_vec_pretty(body).unwrap_or_default();
    bytes.push(b'\n');
    (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// An error as these endpoints answer it.
pub fn fail(e: &Error) -> Response {
    let body = json!({"code": e.code().name(), "message": e.to_string()});
    json_response(StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &body)
}

/// A JSON answer, or the error.
pub fn answer(status: StatusCode, result: Result<Value>) -> Response {
    match result {
        Ok(body) => json_response(status, &body),
        Err(e) => fail(&e),
    }
}

/// Reads a JSON body (an empty one reads as `{}`).
pub fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T> {
    let text: &[u8] = if bytes.trim_ascii().is_empty() { b"{}" } else { bytes };
    serde_json::from_slice(text).map_err(|e| Error::invalid("body", e.to_string()))
}

async fn require_admin(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    match admitted(&state, request.headers()).await {
        Ok(()) => next.run(request).await,
        Err(e) => fail(&e),
    }
}

async fn admitted(state: &AdminState, headers: &HeaderMap) -> Result<()> {
    let Some(principals) = &state.principals else { return Ok(()) };
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
    let principal = match (text("authorization"), text("x-auth-token")) {
        (Some(authorization), _) => state.iam.authenticate(Some(authorization)).await?,
        (None, Some(token)) => principals.by_auth_token(token).ok_or_else(|| Error::Unauthenticated("unknown X-Auth-Token".into()))?,
        (None, None) => {
            return Err(Error::Unauthenticated(
                "netplane's own endpoints need an admin's `Authorization: Bearer` or `X-Auth-Token`".into(),
            ));
        }
    };
    if principal.admin { Ok(()) } else { Err(Error::NotAdmin(principal.subject)) }
}

async fn no_route(request: Request) -> Response {
    fail(&crate::error::TransportError::NoRoute { method: request.method().to_string(), path: request.uri().path().to_string() }.into())
}

/// `GET /_netplane/health`: 200 while serving, 503 once a shutdown has begun.
async fn health(State(state): State<AdminState>) -> Response {
    let stopping = *state.stopping.borrow();
    let body = json!({
        "status": if stopping { "draining" } else { "ok" },
        "version": env!("CARGO_PKG_VERSION"),
        "store": state.store,
        "uptime_s": state.started.elapsed().as_secs(),
    });
    let status = if stopping { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    json_response(status, &body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    folder_id: Option<String>,
    project_id: Option<String>,
}

/// `POST /_netplane/reset` (`{}`, `{"folder_id"}` or `{"project_id"}`): the counts removed.
async fn reset(State(state): State<AdminState>, bytes: Bytes) -> Response {
    let result = async {
        let scope = match body::<ResetBody>(&bytes)? {
            ResetBody { folder_id: Some(_), project_id: Some(_) } => {
                return Err(Error::invalid("body", "give folder_id or project_id, not both"));
            }
            ResetBody { folder_id: Some(id), .. } | ResetBody { project_id: Some(id), .. } if id.is_empty() => {
                return Err(Error::invalid("body", "an empty id would name nothing"));
            }
            ResetBody { folder_id, project_id } => folder_id.or(project_id),
        };
        let removed = state.admin.reset(scope).await?;
        Ok(json!({"removed": removed}))
    };
    answer(StatusCode::OK, result.await)
}

/// `GET /_netplane/state`: the whole state as one document.
async fn export_state(State(state): State<AdminState>) -> Response {
    let result = async { serde_json::to_value(state.admin.export_state().await?).map_err(|e| Error::Internal(e.to_string())) };
    answer(StatusCode::OK, result.await)
}

/// `PUT /_netplane/state`: replaces the state with a document, checked whole first.
async fn import_state(State(state): State<AdminState>, bytes: Bytes) -> Response {
    let result = async {
        let snapshot: Snapshot =
            serde_json::from_slice(&bytes).map_err(|e| Error::invalid("state", format!("not a state document: {e}")))?;
        let written = state.admin.import_state(snapshot).await?;
        Ok(json!({"imported": written}))
    };
    answer(StatusCode::OK, result.await)
}
