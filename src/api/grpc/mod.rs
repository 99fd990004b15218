//! gRPC front end: thin tonic services over `service::Services`, plus reflection and health.

mod compute;
mod convert;
mod fields;
mod operation;
mod pack;
mod status;
mod vpc;

pub use compute::InstanceApi;
pub use operation::OperationApi;
pub use status::{respond, to_status};
pub use vpc::{NetworkApi, SubnetApi};
