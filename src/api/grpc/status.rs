//! Domain errors as gRPC statuses: code from the one error table, the message, and details
//! (`google.rpc.BadRequest` for bad fields, `google.rpc.RequestInfo` with the request id).

use prost::Message;
use tonic::{Code, Response, Status};

use super::pack::pack;
use crate::api::request_id::RequestContext;
use crate::error::Error;
use crate::proto::google::rpc;

pub fn rpc_status(err: &Error, ctx: Option<&RequestContext>) -> rpc::Status {
    let mut details = Vec::new();
    if !err.violations().is_empty() {
        let field_violations = err
            .violations()
            .iter()
            .map(|v| rpc::bad_request::FieldViolation { field: v.field.clone(), description: v.description.clone(), ..Default::default() })
            .collect();
        details.push(pack("google.rpc.BadRequest", &rpc::BadRequest { field_violations }));
    }
    if let Some(ctx) = ctx {
        details.push(pack("google.rpc.RequestInfo", &rpc::RequestInfo { request_id: ctx.request_id.clone(), serving_data: String::new() }));
    }
    rpc::Status { code: err.code() as i32, message: err.to_string(), details }
}

pub fn to_status(err: &Error, ctx: Option<&RequestContext>) -> Status {
    let code = Code::from_i32(err.code() as i32);
    if code == Code::Internal {
        tracing::error!(error = %err, "internal error");
    } else {
        tracing::debug!(error = %err, "refused");
    }
    let details = rpc_status(err, ctx).encode_to_vec();
    Status::with_details(code, err.to_string(), details.into())
}

/// Turns a handler's result into the tonic reply.
pub fn respond<T>(ctx: Option<&RequestContext>, result: Result<T, Error>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(|e| to_status(&e, ctx))
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
