//! `/_netplane/operations`: the pending operations (`?pending=true`) or the latest ones, and
//! stepping one by hand: `POST …/{id}:complete`, `POST …/{id}:fail` with `{"code", "message"}`.
//! Operations are rendered as the REST API renders them.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{AdminState, answer, body};
use crate::api::grpc::operation_json;
use crate::error::{Code, Error, Result};

/// How many operations a list without `pending=true` answers, newest first.
const LATEST: usize = 100;

pub async fn list(State(state): State<AdminState>, RawQuery(query): RawQuery) -> Response {
    let result = async {
        let pending = match query.as_deref().unwrap_or("") {
            "pending=true" => true,
            "" | "pending=false" => false,
            other => return Err(Error::invalid("query", format!("{other:?}: the only parameter is pending=true"))),
        };
        let ops = if pending { state.admin.pending_operations().await? } else { state.admin.latest_operations(LATEST).await? };
        let rendered: Result<Vec<_>> = ops.iter().map(operation_json).collect();
        Ok(json!({"operations": rendered?}))
    };
    answer(StatusCode::OK, result.await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailBody {
    code: Option<String>,
    message: Option<String>,
}

/// `{id}:complete` or `{id}:fail`.
pub async fn step(State(state): State<AdminState>, Path(action): Path<String>, bytes: Bytes) -> Response {
    let result = async {
        let op = match action.rsplit_once(':') {
            Some((id, "complete")) => state.admin.complete_operation(id).await?,
            Some((id, "fail")) => {
                let given: FailBody = body(&bytes)?;
                let name = given.code.unwrap_or_else(|| "INTERNAL".into());
                let code = Code::from_name(&name)
                    .filter(|c| *c != Code::Cancelled || name == "CANCELLED")
                    .ok_or_else(|| Error::invalid("code", format!("{name:?} is not a gRPC code name")))?;
                state.admin.fail_operation(id, code, given.message.unwrap_or_else(|| "failed by netplane's operator".into())).await?
            }
            _ => return Err(Error::invalid("path", format!("{action:?}: use {{id}}:complete or {{id}}:fail"))),
        };
        operation_json(&op)
    };
    answer(StatusCode::OK, result.await)
}
