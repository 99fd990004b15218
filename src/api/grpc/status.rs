//! Domain errors as gRPC statuses: code from the one error table, the message, and details
//! (`google.rpc.BadRequest` for bad fields, `google.rpc.RequestInfo` with the request id).

use prost::Message;
use tonic::{Code, Response, Status};

use super::pack::pack;
use crate::api::request_id::RequestContext;
use crate::error::{Error, MAX_DESCRIPTION_CHARS, MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, MAX_VIOLATIONS, cut};
use crate::proto::google::rpc;

/// The status of `err` as every Yandex front end sends it. Its texts are capped (`error::echo`),
/// so that the whole status stays well under the 8 KiB of metadata gRPC clients accept.
pub fn rpc_status(err: &Error, ctx: Option<&RequestContext>) -> rpc::Status {
    let mut details = Vec::new();
    if !err.violations().is_empty() {
        let field_violations = err
            .violations()
            .iter()
            .take(MAX_VIOLATIONS)
            .map(|v| rpc::bad_request::FieldViolation {
                field: cut(&v.field, MAX_FIELD_CHARS).into_owned(),
                description: cut(&v.description, MAX_DESCRIPTION_CHARS).into_owned(),
                ..Default::default()
            })
            .collect();
        details.push(pack("google.rpc.BadRequest", &rpc::BadRequest { field_violations }));
    }
    if let Some(ctx) = ctx {
        details.push(pack(
            "google.rpc.RequestInfo",
            &rpc::RequestInfo { request_id: ctx.request_id.to_string(), serving_data: String::new() },
        ));
    }
    rpc::Status { code: err.code() as i32, message: wire_message(err), details }
}

/// The message of `err` as sent: capped, and saying how many field violations there were when
/// not all are sent.
pub fn wire_message(err: &Error) -> String {
    let message = err.to_string();
    let mut message = cut(&message, MAX_MESSAGE_CHARS).into_owned();
    let violations = err.violations().len();
    if violations > MAX_VIOLATIONS {
        message.push_str(&format!(" ({violations} field violations in all; the first {MAX_VIOLATIONS} are detailed)"));
    }
    message
}

pub fn to_status(err: &Error, ctx: Option<&RequestContext>) -> Status {
    let code = Code::from_i32(err.code() as i32);
    if code == Code::Internal {
        // Named by the request id: at the default level no span carries it (`api::request_id`).
        tracing::error!(error = %err, request_id = ctx.map_or("", |c| &*c.request_id), "internal error");
    } else {
        tracing::debug!(error = %err, "refused");
    }
    let status = rpc_status(err, ctx);
    let details = status.encode_to_vec();
    Status::with_details(code, status.message, details.into())
}

/// The request context the request-id layer attached, and the message.
pub fn parts<T>(req: tonic::Request<T>) -> (Option<RequestContext>, T) {
    let ctx = req.extensions().get::<RequestContext>().cloned();
    (ctx, req.into_inner())
}

/// The answer of a method netplane does not implement: UNIMPLEMENTED, naming the method.
pub fn unimplemented<T>(service: &str, method: &str) -> Result<Response<T>, Status> {
    let e = Error::Unimplemented(format!("{service}/{method}"));
    Err(to_status(&e, None))
}
