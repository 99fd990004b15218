//! Generated protobuf and gRPC code, one module per proto package, and the descriptor set.

// Generated code follows the proto layout (e.g. `operation::operation` for a oneof), not our lints.
#![allow(clippy::all)]

/// The encoded `FileDescriptorSet` of every file in `proto/`: reflection and REST use this.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/netplane.bin"));

/// One gRPC method of the descriptor set.
#[derive(Debug, Clone, Copy)]
pub struct MethodInfo {
    /// `/package.Service/Method`, as it appears in an HTTP/2 request.
    pub path: &'static str,
    /// Carries the `yandex.cloud.api.operation` option: it starts an operation (`Cancel` answers
    /// with one but starts none).
    pub starts_operation: bool,
}

/// Every method of the descriptor set, read from it at build time (build.rs), so that knowing
/// the methods does not take decoding the descriptors.
pub const METHODS: &[MethodInfo] = include!(concat!(env!("OUT_DIR"), "/methods.rs"));

pub mod json;
pub mod wkt;

/// A package's prost messages and tonic services, and the serde implementations pbjson wrote for
/// its messages (the canonical JSON mapping).
macro_rules! package_with_json {
    ($package:literal) => {
        tonic::include_proto!($package);
        include!(concat!(env!("OUT_DIR"), "/", $package, ".serde.rs"));
    };
}

pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
    }
    pub mod rpc {
        package_with_json!("google.rpc");
    }
}

pub mod yandex {
    pub mod cloud {
        package_with_json!("yandex.cloud");
        pub mod api {
            package_with_json!("yandex.cloud.api");
        }
        pub mod access {
            package_with_json!("yandex.cloud.access");
        }
        pub mod reference {
            package_with_json!("yandex.cloud.reference");
        }
        pub mod operation {
            package_with_json!("yandex.cloud.operation");
        }
        pub mod compute {
            pub mod v1 {
                package_with_json!("yandex.cloud.compute.v1");
            }
        }
        pub mod vpc {
            pub mod v1 {
                package_with_json!("yandex.cloud.vpc.v1");
            }
        }
        pub mod endpoint {
            package_with_json!("yandex.cloud.endpoint");
        }
        pub mod iam {
            pub mod v1 {
                package_with_json!("yandex.cloud.iam.v1");
            }
        }
    }
}
