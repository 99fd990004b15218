//! A handler's result as its tonic reply: the message, or for the REST gateway's in-process call
//! the message handed over typed (`api::answer`), or the error as its status (`status`).

use tonic::{Response, Status};

use super::convert::OperationAnswer;
use super::status::to_status;
use crate::api::answer::{Packed, TypedAnswer};
use crate::api::request_id::RequestContext;
use crate::error::Error;
use crate::proto::yandex::cloud::operation::Operation as PbOperation;

/// Turns a handler's result into the tonic reply; for the REST gateway's in-process call
/// (`RequestContext::answer_typed`), the message goes into the response's extensions and the body
/// carries an empty one.
pub fn respond<T: prost::Message + Default + Send + Sync + 'static>(
    ctx: Option<&RequestContext>,
    result: Result<T, Error>,
) -> Result<Response<T>, Status> {
    respond_with_packed(ctx, result.map(|message| (message, None)))
}

/// `respond` for an operation: the REST gateway's answer also keeps the message its `response`
/// packs typed (`convert::OperationAnswer`), so that its JSON is written without decoding it.
pub fn respond_operation(ctx: Option<&RequestContext>, result: Result<OperationAnswer, Error>) -> Result<Response<PbOperation>, Status> {
    respond_with_packed(ctx, result.map(|answer| (answer.message, answer.packed)))
}

fn respond_with_packed<T: prost::Message + Default + Send + Sync + 'static>(
    ctx: Option<&RequestContext>,
    result: Result<(T, Option<Packed>), Error>,
) -> Result<Response<T>, Status> {
    match result {
        Ok((message, packed)) if wants_typed(ctx) => {
            let mut response = Response::new(T::default());
            response.extensions_mut().insert(TypedAnswer::new(message).with_packed(packed));
            Ok(response)
        }
        Ok((message, _)) => Ok(Response::new(message)),
        Err(e) => Err(to_status(&e, ctx)),
    }
}

/// Whether the call is the REST gateway's, which takes its answer typed (`respond`), not encoded.
pub fn wants_typed(ctx: Option<&RequestContext>) -> bool {
    ctx.is_some_and(|c| c.answer_typed)
}
