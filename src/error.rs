//! The one error table: every error netplane can answer, its exact text, its gRPC code and its
//! HTTP status. gRPC, Yandex REST and Huawei REST all render errors from here, so they can never
//! disagree. Storage failures become `Internal` and never leak their details into domain errors.

mod echo;
mod huawei;

use std::fmt;

pub use echo::{MAX_DESCRIPTION_CHARS, MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, MAX_VIOLATIONS, cut, echo};
pub use huawei::{HuaweiApi, HuaweiError};

/// gRPC status codes (numbers as in `google.rpc.Code`); kept here so the domain stays free of tonic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl Code {
    /// The HTTP status Yandex Cloud's REST gateway answers for this code.
    pub fn http_status(self) -> u16 {
        match self {
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
            Code::Unauthenticated => 401,
            Code::PermissionDenied => 403,
            Code::NotFound => 404,
            Code::AlreadyExists | Code::Aborted => 409,
            Code::ResourceExhausted => 429,
            Code::Cancelled => 499,
            Code::Unimplemented => 501,
            Code::Unavailable => 503,
            Code::Internal | Code::Unknown | Code::DataLoss => 500,
            Code::DeadlineExceeded => 504,
        }
    }

    /// The code of a `google.rpc.Status`; numbers outside the table (and 0, which is not an
    /// error) read as `Unknown`.
    pub fn from_number(code: i32) -> Code {
        const ALL: [Code; 16] = [
            Code::Cancelled,
            Code::Unknown,
            Code::InvalidArgument,
            Code::DeadlineExceeded,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::FailedPrecondition,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unimplemented,
            Code::Internal,
            Code::Unavailable,
            Code::DataLoss,
            Code::Unauthenticated,
        ];
        ALL.into_iter().find(|c| *c as i32 == code).unwrap_or(Code::Unknown)
    }
}

/// One invalid request field, reported in `google.rpc.BadRequest`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// The kind of resource an error names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ResourceKind {
    Instance,
    Network,
    Subnet,
    Operation,
    Address,
    SecurityGroup,
    ApiEndpoint,
    Vpc,
    NatGateway,
    TransitSubnet,
    TransitIp,
    DnatRule,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Instance => "Instance",
            ResourceKind::ApiEndpoint => "API endpoint",
            ResourceKind::Network => "Network",
            ResourceKind::Subnet => "Subnet",
            ResourceKind::Operation => "Operation",
            ResourceKind::Address => "Address",
            ResourceKind::SecurityGroup => "Security group",
            ResourceKind::Vpc => "Vpc",
            ResourceKind::NatGateway => "Gateway",
            ResourceKind::TransitSubnet => "TransitSubnet",
            ResourceKind::TransitIp => "TransitIp",
            ResourceKind::DnatRule => "DnatRule",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum Error {
    #[error("Request validation error: {}", join_violations(.0))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{} {} not found", .0, echo(.1))]
    NotFound(ResourceKind, String),
    #[error("{kind} with name \"{}\" already exists in folder {}", echo(.name), echo(.folder_id))]
    NameTaken { kind: ResourceKind, name: String, folder_id: String },
    #[error("Instance {id} is {status}; {action} needs it to be {needed}")]
    WrongInstanceStatus { id: String, status: String, action: String, needed: String },
    #[error("Network {0} still has subnets or security groups; delete them first")]
    NetworkHasSubnets(String),
    #[error("Subnet {id} has addresses in use ({used}); release them first")]
    SubnetInUse { id: String, used: String },
    #[error("Subnet {subnet_id} is in zone {subnet_zone}, but the instance is in zone {instance_zone}")]
    SubnetZoneMismatch { subnet_id: String, subnet_zone: String, instance_zone: String },
    #[error("Subnet {subnet_id} belongs to network {subnet_network}, but the instance's other interfaces use network {network}")]
    SubnetNetworkMismatch { subnet_id: String, subnet_network: String, network: String },
    #[error("Address {address} is already in use in subnet {subnet_id}")]
    AddressInUse { address: String, subnet_id: String },
    #[error("Subnet {0} has no free addresses left")]
    SubnetExhausted(String),
    #[error("CIDR block {cidr} overlaps {other} of subnet {subnet_id} in network {network_id}")]
    CidrOverlap { cidr: String, other: String, subnet_id: String, network_id: String },
    #[error("Network interface index {index} is already in use on instance {instance_id}")]
    InterfaceIndexInUse { index: String, instance_id: String },
    #[error("Network interface {index} not found on instance {instance_id}")]
    InterfaceNotFound { instance_id: String, index: String },
    #[error("No network interface of instance {instance_id} has the internal address {address}")]
    InterfaceAddressNotFound { instance_id: String, address: String },
    #[error("The primary network interface (index 0) of instance {0} cannot be detached")]
    PrimaryInterface(String),
    #[error("Network interface {index} of instance {instance_id} already has a one-to-one NAT address")]
    NatAlreadyConfigured { instance_id: String, index: String },
    #[error("Network interface {index} of instance {instance_id} has no one-to-one NAT address")]
    NoNat { instance_id: String, index: String },
    #[error("{address} is not a reserved external address of folder {folder_id}")]
    AddressNotReserved { address: String, folder_id: String },
    #[error("External address {address} is in zone {address_zone}, but the instance is in zone {instance_zone}")]
    AddressZoneMismatch { address: String, address_zone: String, instance_zone: String },
    #[error("External address {address} is already used by {user}")]
    AddressTaken { address: String, user: String },
    #[error("Address {0} is in use; remove it from its instance first")]
    AddressInUseByInstance(String),
    #[error("{kind} {id} has deletion protection")]
    DeletionProtected { kind: ResourceKind, id: String },
    #[error("Security group {id} belongs to network {group_network}, but the interface's subnet is in network {network}")]
    SecurityGroupNetworkMismatch { id: String, group_network: String, network: String },
    #[error("Security group {0} is in use by network interfaces; detach it first")]
    SecurityGroupInUse(String),
    #[error("Operation {0} is already done and cannot be cancelled")]
    OperationAlreadyDone(String),
    #[error("Operation {0} was cancelled")]
    Cancelled(String),
    #[error("Method {0} is not implemented by netplane")]
    Unimplemented(String),
    #[error("Internal error: {0}")]
    Internal(String),
    #[error("No REST method at {} {}", echo(.method), echo(.path))]
    NoRoute { method: String, path: String },
    #[error("{} does not accept {method}; it accepts {allowed}", echo(.path))]
    MethodNotAllowed { method: String, path: String, allowed: String },
    #[error("Request body exceeds the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("Request URL is longer than {limit} bytes")]
    UriTooLong { limit: usize },
    #[error("Request headers exceed the limit of {fields} fields or {bytes} bytes")]
    HeadersTooLarge { fields: usize, bytes: usize },
    #[error("Request body was not received within {}", humantime::format_duration(*.timeout))]
    BodyTimeout { timeout: std::time::Duration },
    #[error("Unauthenticated: {}", cut(.0, MAX_DESCRIPTION_CHARS))]
    Unauthenticated(String),
    #[error("Permission denied: {subject} may not use folder {}", echo(.folder_id))]
    PermissionDenied { subject: String, folder_id: String },
    #[error("Idempotency key {} was already used for a different {method} request", echo(.key))]
    IdempotencyKeyReused { key: String, method: String },
    #[error("Service unavailable: {0}")]
    Unavailable(String),
    /// The store could not be reached or did not commit: nothing was changed, and trying again
    /// later may succeed (unlike every domain outcome).
    #[error("Storage unavailable: {0}")]
    Storage(String),
    #[error("Request validation error: {}", join_violations(.0))]
    UnusableAddress(Vec<FieldViolation>),
    #[error("Request body is not valid JSON: {}", cut(.0, MAX_DESCRIPTION_CHARS))]
    MalformedJson(String),
    #[error("Project {} is not one this credential may use", echo(.project_id))]
    ProjectDenied { project_id: String },
    #[error("Vpc {0} still has subnets; delete them first")]
    VpcInUse(String),
    #[error("Gateway {0} is frozen; its resources cannot be created, changed or deleted")]
    GatewayFrozen(String),
    #[error("Gateway {0} still has DNAT rules; delete them first")]
    GatewayHasRules(String),
    #[error("TransitSubnet {0} still has transit IPs; delete them first")]
    TransitSubnetInUse(String),
    #[error("TransitIp {0} is used by DNAT rules; delete them first")]
    TransitIpInUse(String),
    #[error("Protocol any forwards every port: internal_service_port and transit_service_port must both be \"0\"")]
    DnatAnyNeedsZeroPorts,
    #[error("Exactly one of network_interface_id and private_ip_address must be given")]
    DnatBackendNotOne,
    #[error("TransitIp {transit_ip_id} is already used by DNAT rule {rule_id}")]
    TransitIpTaken { transit_ip_id: String, rule_id: String },
    #[error("DNAT rule {rule_id} already forwards {protocol} port {port} of TransitIp {transit_ip_id}")]
    DnatPortInUse { transit_ip_id: String, protocol: String, port: String, rule_id: String },
    #[error("DNAT rule {rule_id} forwards every port of TransitIp {transit_ip_id} (protocol any)")]
    DnatWholeIpTaken { transit_ip_id: String, rule_id: String },
    #[error("DNAT rule {rule_id} already forwards to the same backend, protocol and internal port")]
    DnatBackendInUse { rule_id: String },
}

fn join_violations(v: &[FieldViolation]) -> String {
    v.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
}

impl Error {
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) | Error::SubnetZoneMismatch { .. } => Code::InvalidArgument,
            Error::SubnetNetworkMismatch { .. } | Error::CidrOverlap { .. } => Code::InvalidArgument,
            Error::NotFound(..) => Code::NotFound,
            Error::NameTaken { .. } | Error::AddressInUse { .. } => Code::AlreadyExists,
            Error::InterfaceIndexInUse { .. } | Error::NatAlreadyConfigured { .. } => Code::AlreadyExists,
            Error::InterfaceNotFound { .. } | Error::InterfaceAddressNotFound { .. } => Code::NotFound,
            Error::PrimaryInterface(_) | Error::NoNat { .. } => Code::FailedPrecondition,
            Error::WrongInstanceStatus { .. } | Error::NetworkHasSubnets(_) => Code::FailedPrecondition,
            Error::SubnetInUse { .. } | Error::OperationAlreadyDone(_) => Code::FailedPrecondition,
            Error::SubnetExhausted(_) => Code::ResourceExhausted,
            Error::AddressNotReserved { .. } => Code::NotFound,
            Error::AddressZoneMismatch { .. } | Error::SecurityGroupNetworkMismatch { .. } => Code::InvalidArgument,
            Error::AddressTaken { .. } => Code::AlreadyExists,
            Error::AddressInUseByInstance(_) | Error::DeletionProtected { .. } | Error::SecurityGroupInUse(_) => Code::FailedPrecondition,
            Error::Cancelled(_) => Code::Cancelled,
            Error::Unimplemented(_) => Code::Unimplemented,
            Error::Internal(_) => Code::Internal,
            Error::Unavailable(_) | Error::Storage(_) => Code::Unavailable,
            Error::NoRoute { .. } => Code::NotFound,
            Error::MethodNotAllowed { .. } => Code::Unimplemented,
            Error::BodyTooLarge { .. } => Code::ResourceExhausted,
            Error::BodyTimeout { .. } => Code::DeadlineExceeded,
            Error::UriTooLong { .. } | Error::HeadersTooLarge { .. } => Code::InvalidArgument,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::PermissionDenied { .. } => Code::PermissionDenied,
            Error::IdempotencyKeyReused { .. } => Code::InvalidArgument,
            Error::UnusableAddress(_) | Error::MalformedJson(_) => Code::InvalidArgument,
            Error::DnatAnyNeedsZeroPorts | Error::DnatBackendNotOne => Code::InvalidArgument,
            Error::ProjectDenied { .. } => Code::PermissionDenied,
            Error::VpcInUse(_) | Error::GatewayFrozen(_) | Error::GatewayHasRules(_) => Code::FailedPrecondition,
            Error::TransitSubnetInUse(_) | Error::TransitIpInUse(_) => Code::FailedPrecondition,
            Error::TransitIpTaken { .. } | Error::DnatPortInUse { .. } => Code::AlreadyExists,
            Error::DnatWholeIpTaken { .. } | Error::DnatBackendInUse { .. } => Code::AlreadyExists,
        }
    }

    /// The HTTP status of this error on REST: the code's, except where HTTP has a closer one.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::MethodNotAllowed { .. } => 405,
            Error::BodyTooLarge { .. } => 413,
            Error::BodyTimeout { .. } => 408,
            Error::UriTooLong { .. } => 414,
            Error::HeadersTooLarge { .. } => 431,
            _ => self.code().http_status(),
        }
    }

    pub fn not_found(kind: ResourceKind, id: impl Into<String>) -> Self {
        Error::NotFound(kind, id.into())
    }

    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    /// The field violations to send as `google.rpc.BadRequest`, if any.
    pub fn violations(&self) -> &[FieldViolation] {
        match self {
            Error::InvalidArgument(v) | Error::UnusableAddress(v) => v,
            _ => &[],
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_the_documented_http_status() {
        let table = [
            (Code::InvalidArgument, 400),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::PermissionDenied, 403),
            (Code::ResourceExhausted, 429),
            (Code::FailedPrecondition, 400),
            (Code::Aborted, 409),
            (Code::Unimplemented, 501),
            (Code::Unavailable, 503),
            (Code::Unauthenticated, 401),
        ];
        for (code, status) in table {
            assert_eq!(code.http_status(), status, "{code:?}");
        }
    }

    #[test]
    fn codes_read_back_from_their_numbers() {
        for n in 1..=16 {
            assert_eq!(Code::from_number(n) as i32, n);
        }
        assert_eq!(Code::from_number(0), Code::Unknown);
        assert_eq!(Code::from_number(99), Code::Unknown);
    }

    #[test]
    fn rest_only_errors_have_their_http_status() {
        let e = Error::MethodNotAllowed { method: "PUT".into(), path: "/x".into(), allowed: "GET".into() };
        assert_eq!((e.http_status(), e.code()), (405, Code::Unimplemented));
        assert_eq!(Error::BodyTooLarge { limit: 1 }.http_status(), 413);
        assert_eq!(Error::NoRoute { method: "GET".into(), path: "/x".into() }.http_status(), 404);
        assert_eq!(Error::not_found(ResourceKind::Instance, "x").http_status(), 404);
    }

    #[test]
    fn invalid_argument_names_every_field() {
        let e = Error::InvalidArgument(vec![FieldViolation::new("name", "bad"), FieldViolation::new("zone_id", "unknown zone")]);
        assert_eq!(e.to_string(), "Request validation error: name: bad; zone_id: unknown zone");
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(e.violations().len(), 2);
    }

    #[test]
    fn not_found_names_the_resource() {
        let e = Error::not_found(ResourceKind::Instance, "fhm123");
        assert_eq!(e.to_string(), "Instance fhm123 not found");
        assert_eq!(e.code(), Code::NotFound);
    }
}
