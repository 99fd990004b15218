//! The web console (`/_netplane/ui/`): its assets, embedded in the binary (`ui/`), and the one
//! endpoint made for it, `GET /_netplane/scopes` (which folders and Huawei projects hold
//! resources, with counts by kind). Everything else the console shows it reads from the public
//! APIs (resources as their canonical answers) and the other `/_netplane/` endpoints.
//!
//! The assets hold no state and are served to anyone; every call they make for data goes through
//! the same admission as the other endpoints (the page asks for a token when one is needed).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{StatusCode, header};
use serde_json::{Map, Value, json};

use super::{AdminState, answer};

/// Where the console lives.
pub const UI_PREFIX: &str = "/_netplane/ui/";

/// The embedded assets: name, content type, bytes.
const ASSETS: [(&str, &str, &str); 9] = [
    ("index.html", HTML, include_str!("ui/index.html")),
    ("style.css", "text/css; charset=utf-8", include_str!("ui/style.css")),
    ("app.js", SCRIPT, include_str!("ui/app.js")),
    ("lib.js", SCRIPT, include_str!("ui/lib.js")),
    ("topology.js", SCRIPT, include_str!("ui/topology.js")),
    ("resources.js", SCRIPT, include_str!("ui/resources.js")),
    ("operations.js", SCRIPT, include_str!("ui/operations.js")),
    ("calls.js", SCRIPT, include_str!("ui/calls.js")),
    ("faults.js", SCRIPT, include_str!("ui/faults.js")),
];
const HTML: &str = "text/html; charset=utf-8";
const SCRIPT: &str = "text/javascript; charset=utf-8";

/// `GET /_netplane/ui` (without the slash): to the console.
pub async fn to_console() -> Response {
    Redirect::permanent(UI_PREFIX).into_response()
}

/// `GET /_netplane/ui/`: the page.
pub async fn page() -> Response {
    asset_named("index.html")
}

/// `GET /_netplane/ui/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    asset_named(&name)
}

fn asset_named(name: &str) -> Response {
    match ASSETS.iter().find(|(asset, _, _)| *asset == name) {
        Some((_, content_type, body)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, *content_type),
                // Assets change with the binary; a restarted server must not show an old page.
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"),
            ],
            *body,
        )
            .into_response(),
        None => super::fail(&crate::error::TransportError::NoRoute { method: "GET".into(), path: format!("{UI_PREFIX}{name}") }.into()),
    }
}

/// `GET /_netplane/scopes`: `{"folders": [{"id", "counts": {kind: n}}], "projects": [...]}`.
pub async fn scopes(State(state): State<AdminState>) -> Response {
    let result = async {
        let (mut folders, mut projects) = (Vec::new(), Vec::new());
        for scope in state.admin.scopes().await? {
            let counts: Map<String, Value> = scope.counts.into_iter().map(|(kind, n)| (kind.to_string(), json!(n))).collect();
            let entry = json!({"id": scope.id, "counts": counts});
            if scope.huawei { projects.push(entry) } else { folders.push(entry) }
        }
        Ok(json!({"folders": folders, "projects": projects}))
    };
    answer(StatusCode::OK, result.await)
}
