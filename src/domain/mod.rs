//! Pure domain rules: plain types and functions with no protocol, storage, async or clock reads.
//! Time and ids are passed in, so every rule here is unit-tested deterministically.

pub mod address;
pub mod aksk;
pub mod clock;
pub mod disk;
pub mod disk_type;
pub mod fault;
pub mod filter;
pub mod gateway;
pub mod huawei;
pub mod ids;
pub mod image;
pub mod instance;
pub mod ipam;
pub mod network;
pub mod principals;
pub mod route_table;
pub mod security_group;
pub mod subnet;
pub mod validate;
pub mod zone;
