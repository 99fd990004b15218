//! REST/JSON, transcoded from the `google.api.http` rules of the contract onto the gRPC services:
//! path templates, the route table, the JSON mapping, and the gateway layer that serves them.

mod gateway;
pub(crate) mod json;
mod render;
pub(crate) mod routes;
pub(crate) mod template;

#[cfg(test)]
mod roundtrip;

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

pub use gateway::{DRAIN_LIMIT_BYTES, Gateway, RestLayer};

use crate::proto::FILE_DESCRIPTOR_SET;

/// Our one descriptor set, decoded once: the source of routes and of the JSON mapping.
pub fn descriptor_pool() -> &'static DescriptorPool {
    static POOL: LazyLock<DescriptorPool> =
        LazyLock::new(|| DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("the descriptor set built by build.rs decodes"));
    &POOL
}
