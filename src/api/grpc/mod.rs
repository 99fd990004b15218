//! gRPC front end: thin tonic services over `service::Services`, plus reflection and health.

mod address;
mod complete;
mod compute;
mod convert;
mod disk;
mod endpoint;
mod fields;
mod iam;
mod image;
mod lazy;
mod operation;
mod pack;
mod reflection;
mod routing;
mod security_group;
mod status;
mod vpc;
mod zone;

pub use address::AddressApi;
pub use complete::CompleteStatusLayer;
pub use compute::InstanceApi;
pub use disk::DiskApi;
pub use endpoint::EndpointApi;
pub use iam::IamApi;
pub use image::ImageApi;
pub use lazy::Lazy;
pub use operation::OperationApi;
pub use reflection::Reflection;
pub use routing::{GatewayApi, RouteTableApi};
pub use security_group::SecurityGroupApi;
pub use status::{respond, rpc_status, to_status};
pub use vpc::{NetworkApi, SubnetApi};
pub use zone::{DiskTypeApi, ZoneApi};
