//! Generated protobuf and gRPC code, one module per proto package, and the descriptor set.

// Generated code follows the proto layout (e.g. `operation::operation` for a oneof), not our lints.
#![allow(clippy::all)]

/// The encoded `FileDescriptorSet` of every file in `proto/`: reflection and REST use this.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/netplane.bin"));

pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
    }
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

pub mod yandex {
    pub mod cloud {
        tonic::include_proto!("yandex.cloud");
        pub mod api {
            tonic::include_proto!("yandex.cloud.api");
        }
        pub mod access {
            tonic::include_proto!("yandex.cloud.access");
        }
        pub mod reference {
            tonic::include_proto!("yandex.cloud.reference");
        }
        pub mod operation {
            tonic::include_proto!("yandex.cloud.operation");
        }
        pub mod compute {
            pub mod v1 {
                tonic::include_proto!("yandex.cloud.compute.v1");
            }
        }
        pub mod vpc {
            pub mod v1 {
                tonic::include_proto!("yandex.cloud.vpc.v1");
            }
        }
        pub mod endpoint {
            tonic::include_proto!("yandex.cloud.endpoint");
        }
        pub mod iam {
            pub mod v1 {
                tonic::include_proto!("yandex.cloud.iam.v1");
            }
        }
    }
}
