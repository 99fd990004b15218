//! gRPC front end: thin tonic services over `service::Services`, plus reflection and health.

mod address;
mod complete;
mod compute;
mod convert;
mod disk;
mod dispatch;
mod encoded;
mod endpoint;
mod fields;
mod iam;
mod image;
mod lazy;
mod operation;
mod pack;
mod reflection;
mod reply;
mod routing;
mod security_group;
mod status;
mod vpc;
mod zone;

pub use address::AddressApi;
pub use complete::CompleteStatusLayer;
pub use compute::InstanceApi;
pub use disk::DiskApi;
pub use dispatch::GrpcServices;
pub use endpoint::EndpointApi;
pub use iam::IamApi;
pub use image::ImageApi;
pub use lazy::Lazy;
pub use operation::OperationApi;
pub use reflection::Reflection;
pub use reply::{respond, respond_operation};
pub use routing::{GatewayApi, RouteTableApi};
pub use security_group::SecurityGroupApi;
pub use status::{rpc_status, to_status};
pub use vpc::{NetworkApi, SubnetApi};
pub use zone::{DiskTypeApi, ZoneApi};

/// An operation as the REST API renders it (its canonical JSON), for netplane's own endpoints.
pub fn operation_json(op: &crate::ops::Operation) -> crate::error::Result<serde_json::Value> {
    let proto = convert::operation(op)?;
    let descriptor = crate::api::rest::descriptor_pool()
        .get_message_by_name("yandex.cloud.operation.Operation")
        .ok_or_else(|| crate::error::Error::Internal("no Operation descriptor".into()))?;
    let rendered = crate::api::rest::json::render_encoded(&descriptor, &prost::Message::encode_to_vec(&proto))?;
    serde_json::from_slice(&rendered).map_err(|e| crate::error::Error::Internal(e.to_string()))
}
