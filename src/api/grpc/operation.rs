//! `yandex.cloud.operation.OperationService`: Get (what clients poll) and Cancel.

use tonic::{Request, Response, Status};

use super::fields;
use super::status::parts;
use super::{convert, respond_operation};
use crate::proto::yandex::cloud::operation as pb;
use crate::proto::yandex::cloud::operation::operation_service_server::OperationService;
use crate::service::OperationArea;

pub struct OperationApi {
    services: OperationArea,
}

impl OperationApi {
    pub fn new(services: OperationArea) -> Self {
        OperationApi { services }
    }
}

#[tonic::async_trait]
impl OperationService for OperationApi {
    async fn get(&self, req: Request<pb::GetOperationRequest>) -> Result<Response<pb::Operation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("operation_id", &r.operation_id)?;
            convert::operation_answer(&self.services.get_operation(&r.operation_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn cancel(&self, req: Request<pb::CancelOperationRequest>) -> Result<Response<pb::Operation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("operation_id", &r.operation_id)?;
            convert::operation_answer(&self.services.cancel_operation(&r.operation_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }
}
