//! `/_netplane/faults`: add a rule (`POST`, answers its id), list them with their counts (`GET`),
//! remove one (`DELETE …/{id}`) or all (`DELETE`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};

use super::{AdminState, answer, body, fail};
use crate::domain::fault::{FaultAction, FaultRule, RuleSpec};

/// A rule as it was given, with its counts.
fn render(rule: &FaultRule) -> Value {
    let mut out = json!({"id": rule.id, "method": rule.method, "match": rule.matches, "after": rule.after, "hits": rule.hits, "applied": rule.applied});
    if let Some(times) = rule.times {
        out["times"] = json!(times);
    }
    match &rule.action {
        FaultAction::Error { code, message, status, error_code } => {
            out["error"] = json!({"code": code.name(), "message": message});
            if let Some(status) = status {
                out["error"]["status"] = json!(status);
            }
            if let Some(error_code) = error_code {
                out["error"]["error_code"] = json!(error_code);
            }
        }
        FaultAction::OperationError { code, message } => out["operation_error"] = json!({"code": code.name(), "message": message}),
        FaultAction::Stall => out["stall"] = json!(true),
        FaultAction::Delay(d) => out["delay"] = json!(humantime::format_duration(*d).to_string()),
    }
    out
}

pub async fn add(State(state): State<AdminState>, bytes: Bytes) -> Response {
    let result = async {
        let spec: RuleSpec = body(&bytes)?;
        let known = state.known_method.clone();
        let rule = state.admin.add_fault(spec, move |m| known(m)).await?;
        Ok(render(&rule))
    };
    answer(StatusCode::CREATED, result.await)
}

pub async fn list(State(state): State<AdminState>) -> Response {
    let result = async { Ok(json!({"rules": state.admin.faults().await?.iter().map(render).collect::<Vec<_>>()})) };
    answer(StatusCode::OK, result.await)
}

pub async fn remove(State(state): State<AdminState>, Path(id): Path<String>) -> Response {
    match state.admin.remove_fault(&id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => fail(&e),
    }
}

pub async fn remove_all(State(state): State<AdminState>) -> Response {
    let result = async { Ok(json!({"removed": state.admin.remove_faults().await?})) };
    answer(StatusCode::OK, result.await)
}
