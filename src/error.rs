//! The one error table: every error netplane can answer, in one row each with its exact text, its
//! gRPC code, its HTTP status and its two Huawei columns (private NAT and VPC; `error/huawei.rs`
//! renders them). gRPC, Yandex REST and Huawei REST all render errors from here, so they can never
//! disagree. Storage failures become `Internal` and never leak their details into domain errors.

mod echo;
mod huawei;

use std::fmt;

pub use echo::{MAX_DESCRIPTION_CHARS, MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, MAX_VIOLATIONS, cut, echo};
pub use huawei::{HuaweiApi, HuaweiError};
use huawei::{vpc_invalid, vpc_not_found};

/// gRPC status codes (numbers as in `google.rpc.Code`); kept here so the domain stays free of tonic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// The code named as gRPC spells it (`NOT_FOUND`, `UNAVAILABLE`, …).
    pub fn from_name(name: &str) -> Option<Code> {
        (1..=16).map(Code::from_number).find(|c| c.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
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
    Disk,
    Image,
    Snapshot,
    Zone,
    DiskType,
    RouteTable,
    EgressGateway,
    ApiEndpoint,
    Vpc,
    NatGateway,
    TransitSubnet,
    TransitIp,
    DnatRule,
    SnatRule,
    Port,
    FaultRule,
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
            ResourceKind::Disk => "Disk",
            ResourceKind::Image => "Image",
            ResourceKind::Snapshot => "Snapshot",
            ResourceKind::Zone => "Zone",
            ResourceKind::DiskType => "Disk type",
            ResourceKind::RouteTable => "Route table",
            ResourceKind::EgressGateway => "Gateway",
            ResourceKind::Vpc => "Vpc",
            ResourceKind::NatGateway => "Gateway",
            ResourceKind::TransitSubnet => "TransitSubnet",
            ResourceKind::TransitIp => "TransitIp",
            ResourceKind::DnatRule => "DnatRule",
            ResourceKind::SnatRule => "SnatRule",
            ResourceKind::Port => "Port",
            ResourceKind::FaultRule => "Fault rule",
        })
    }
}

/// How an error's HTTP status is decided: its code's (`Code::http_status`), or its own.
#[derive(Clone, Copy, Debug)]
enum Http {
    OfCode,
    Is(u16),
}

/// A Huawei column: a fixed status and vendor code, the API's generic "invalid parameters" code
/// with the status of the gRPC code (kept between 400 and 499), or one decided by the error's value.
#[derive(Clone, Copy)]
enum Vendor {
    Is(u16, &'static str),
    Invalid,
    By(fn(&Error) -> (u16, &'static str)),
}

use Vendor::{By, Invalid, Is};

/// One row of the table.
#[derive(Clone, Copy)]
struct Row {
    code: Code,
    http: Http,
    nat: Vendor,
    vpc: Vendor,
}

/// Builds an error enum and its table from rows of `Variant(fields) => [text], gRPC code, HTTP
/// status, Huawei NAT column, Huawei VPC column;`. Each column is a match over every variant, so
/// an error added without all its columns does not compile, and no column has a catch-all arm. An
/// enum may name one `wraps #[error(transparent)] Variant(Inner)` after its name: another table's
/// errors, answered as they are (the attribute is the caller's for the same hygiene reason as the
/// derive).
macro_rules! error_table {
    ($(#[$meta:meta])* pub enum $name:ident $(wraps #[$wrap_meta:meta] $wrap:ident($inner:ty))?; $(
        $(#[doc = $doc:literal])*
        $variant:ident $(( $($tuple:ty),+ ))? $({ $($field:ident : $fty:ty),+ $(,)? })?
            => [$($text:tt)+], $code:ident, $http:expr, $nat:expr, $vpc:expr;
    )+) => {
        $(#[$meta])*
        pub enum $name {
            $(
                #[$wrap_meta]
                $wrap($inner),
            )?
            $(
                $(#[doc = $doc])*
                #[error($($text)+)]
                $variant $(( $($tuple),+ ))? $({ $($field: $fty),+ })?,
            )+
        }

        impl $name {
            /// Every variant's name, for the test that renders one of each.
            #[cfg(test)]
            pub(in crate::error) const NAMES: &[&str] = &[$(stringify!($variant)),+];

            /// This error's row of the table.
            pub(in crate::error) fn row(&self) -> Row {
                match self {
                    $( $name::$wrap(inner) => inner.row(), )?
                    $( $name::$variant { .. } => Row { code: Code::$code, http: $http, nat: $nat, vpc: $vpc }, )+
                }
            }
        }
    };
}

mod transport;
pub use transport::TransportError;

// Gateway codes (APIGW, and netplane's own NETPLANE for what Huawei publishes none for) are the
// same in both Huawei columns. Codes netplane chose are listed in DIVERGENCES.md.
error_table! {
    // The derive is written here, not in the macro, so that thiserror's bindings of the fields the
    // texts name (`.0`, `.name`) share the texts' hygiene.
    #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
    pub enum Error wraps #[error(transparent)] Transport(TransportError);
    InvalidArgument(Vec<FieldViolation>)
        => ["Request validation error: {}", join_violations(.0)], InvalidArgument, Http::OfCode, Invalid, By(vpc_invalid);
    NotFound(ResourceKind, String)
        => ["{} {} not found", .0, echo(.1)], NotFound, Http::OfCode, Is(404, "NAT.1002"), By(vpc_not_found);
    NameTaken { kind: ResourceKind, name: String, folder_id: String }
        => ["{kind} with name \"{}\" already exists in folder {}", echo(.name), echo(.folder_id)], AlreadyExists, Http::OfCode, Invalid, Invalid;
    WrongInstanceStatus { id: String, status: String, action: String, needed: String }
        => ["Instance {id} is {status}; {action} needs it to be {needed}"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    NetworkHasSubnets(String)
        => ["Network {0} still has subnets, security groups or route tables; delete them first"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    SubnetInUse { id: String, used: String }
        => ["Subnet {id} has addresses in use ({used}); release them first"], FailedPrecondition, Http::OfCode, Invalid, Is(409, "VPC.0206");
    SubnetZoneMismatch { subnet_id: String, subnet_zone: String, instance_zone: String }
        => ["Subnet {subnet_id} is in zone {subnet_zone}, but the instance is in zone {instance_zone}"], InvalidArgument, Http::OfCode, Invalid, Invalid;
    SubnetNetworkMismatch { subnet_id: String, subnet_network: String, network: String }
        => ["Subnet {subnet_id} belongs to network {subnet_network}, but the instance's other interfaces use network {network}"], InvalidArgument, Http::OfCode, Invalid, Invalid;
    AddressInUse { address: String, subnet_id: String }
        => ["Address {address} is already in use in subnet {subnet_id}"], AlreadyExists, Http::OfCode, Is(400, "NAT.1405"), Invalid;
    SubnetExhausted(String)
        => ["Subnet {0} has no free addresses left"], ResourceExhausted, Http::OfCode, Is(400, "NAT.1404"), Invalid;
    CidrOverlap { cidr: String, other: String, subnet_id: String, network_id: String }
        => ["CIDR block {cidr} overlaps {other} of subnet {subnet_id} in network {network_id}"], InvalidArgument, Http::OfCode, Invalid, Invalid;
    InterfaceIndexInUse { index: String, instance_id: String }
        => ["Network interface index {index} is already in use on instance {instance_id}"], AlreadyExists, Http::OfCode, Invalid, Invalid;
    InterfaceNotFound { instance_id: String, index: String }
        => ["Network interface {index} not found on instance {instance_id}"], NotFound, Http::OfCode, Invalid, Is(404, "VPC.0202");
    InterfaceAddressNotFound { instance_id: String, address: String }
        => ["No network interface of instance {instance_id} has the internal address {address}"], NotFound, Http::OfCode, Invalid, Is(404, "VPC.0202");
    PrimaryInterface(String)
        => ["The primary network interface (index 0) of instance {0} cannot be detached"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    NatAlreadyConfigured { instance_id: String, index: String }
        => ["Network interface {index} of instance {instance_id} already has a one-to-one NAT address"], AlreadyExists, Http::OfCode, Invalid, Invalid;
    NoNat { instance_id: String, index: String }
        => ["Network interface {index} of instance {instance_id} has no one-to-one NAT address"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    AddressNotReserved { address: String, folder_id: String }
        => ["{address} is not a reserved external address of folder {folder_id}"], NotFound, Http::OfCode, Invalid, Is(404, "VPC.0202");
    AddressZoneMismatch { address: String, address_zone: String, instance_zone: String }
        => ["External address {address} is in zone {address_zone}, but the instance is in zone {instance_zone}"], InvalidArgument, Http::OfCode, Invalid, Invalid;
    AddressTaken { address: String, user: String }
        => ["External address {address} is already used by {user}"], AlreadyExists, Http::OfCode, Invalid, Invalid;
    AddressInUseByInstance(String)
        => ["Address {0} is in use; remove it from its instance first"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    DeletionProtected { kind: ResourceKind, id: String }
        => ["{kind} {id} has deletion protection"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    SecurityGroupNetworkMismatch { id: String, group_network: String, network: String }
        => ["Security group {id} belongs to network {group_network}, but the interface's subnet is in network {network}"], InvalidArgument, Http::OfCode, Invalid, Invalid;
    SecurityGroupInUse(String)
        => ["Security group {0} is in use by network interfaces; detach it first"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    OperationAlreadyDone(String)
        => ["Operation {0} is already done and cannot be cancelled"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    NotAdmin(String)
        => ["{0} may not call netplane's own endpoints; mark the principal \"admin\": true"], PermissionDenied, Http::OfCode, Invalid, Invalid;
    OperationNotPending(String)
        => ["Operation {0} is already done"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    Cancelled(String)
        => ["Operation {0} was cancelled"], Cancelled, Http::OfCode, Invalid, Invalid;
    Unimplemented(String)
        => ["Method {0} is not implemented by netplane"], Unimplemented, Http::OfCode, Is(501, "NETPLANE.0501"), Is(501, "NETPLANE.0501");
    Internal(String)
        => ["Internal error: {0}"], Internal, Http::OfCode, Is(500, "NAT.1001"), Is(500, "VPC.0001");
    Unauthenticated(String)
        => ["Unauthenticated: {}", cut(.0, MAX_DESCRIPTION_CHARS)], Unauthenticated, Http::OfCode, Is(401, "APIGW.0301"), Is(401, "APIGW.0301");
    DiskZoneMismatch { disk_id: String, disk_zone: String, instance_zone: String }
        => ["Disk {disk_id} is in zone {disk_zone}, but the instance is in zone {instance_zone}"], InvalidArgument, Http::OfCode, Invalid, Invalid;
    DiskAttached { disk_id: String, instance_id: String }
        => ["Disk \"{disk_id}\" has an invalid state for this operation: attached to instance {instance_id}"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    DiskNotReady { disk_id: String, status: String }
        => ["Disk {disk_id} is {status}; it can be attached once it is READY"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    DiskNotAttached { instance_id: String, disk: String }
        => ["Disk {} is not attached to instance {instance_id}", echo(.disk)], NotFound, Http::OfCode, Invalid, Invalid;
    BootDiskDetach(String)
        => ["The boot disk of instance {0} cannot be detached"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    DeviceNameTaken { instance_id: String, device_name: String }
        => ["Device name {device_name} is already used by a disk of instance {instance_id}"], AlreadyExists, Http::OfCode, Invalid, Invalid;
    TooManyDisks { instance_id: String, limit: usize }
        => ["Instance {instance_id} already has {limit} disks, the most one instance may have"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    /// The shape the Terraform provider parses to wait for the operation and retry.
    ConflictingOperation(String)
        => ["conflicting operation \"{0}\" detected"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    PublicImage(String)
        => ["Image {0} belongs to the public catalog (folder standard-images) and cannot be changed"], PermissionDenied, Http::OfCode, Invalid, Invalid;
    DefaultSecurityGroup(String)
        => ["Security group {0} is its network's default group; it goes away with the network"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    RouteTableInUse(String)
        => ["Route table {0} is used by subnets; unlink it from them first"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    GatewayInUse(String)
        => ["Gateway {0} is the next hop of routes; remove them from their route tables first"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    RouteTableNetworkMismatch { route_table_id: String, table_network: String, network: String }
        => ["Route table {route_table_id} belongs to network {table_network}, but the subnet is in network {network}"], InvalidArgument, Http::OfCode, Invalid, Invalid;
    PermissionDenied { subject: String, folder_id: String }
        => ["Permission denied: {subject} may not use folder {}", echo(.folder_id)], PermissionDenied, Http::OfCode, Invalid, Invalid;
    IdempotencyKeyReused { key: String, method: String }
        => ["Idempotency key {} was already used for a different {method} request", echo(.key)], InvalidArgument, Http::OfCode, Invalid, Invalid;
    Unavailable(String)
        => ["Service unavailable: {0}"], Unavailable, Http::OfCode, Is(500, "NAT.1001"), Is(500, "VPC.0001");
    /// The store could not be reached or did not commit: nothing was changed, and trying again
    /// later may succeed (unlike every domain outcome).
    Storage(String)
        => ["Storage unavailable: {0}"], Unavailable, Http::OfCode, Is(500, "NAT.1001"), Is(500, "VPC.0001");
    UnusableAddress(Vec<FieldViolation>)
        => ["Request validation error: {}", join_violations(.0)], InvalidArgument, Http::OfCode, Is(400, "NAT.1405"), Invalid;
    ProjectDenied { project_id: String }
        => ["Project {} is not one this credential may use", echo(.project_id)], PermissionDenied, Http::OfCode, Is(403, "APIGW.0302"), Is(403, "APIGW.0302");
    VpcInUse(String)
        => ["Vpc {0} still has subnets; delete them first"], FailedPrecondition, Http::OfCode, Invalid, Is(409, "VPC.0104");
    VpcCidrExcludesSubnet { vpc_id: String, cidr: String, subnet_cidr: String }
        => ["Vpc {vpc_id} cannot take CIDR {cidr}: its subnet {subnet_cidr} would lie outside"], InvalidArgument, Http::OfCode, Invalid, Is(400, "VPC.0117");
    SubnetNotInVpc { subnet_id: String, vpc_id: String }
        => ["Subnet {} is not in Vpc {}", echo(.subnet_id), echo(.vpc_id)], InvalidArgument, Http::OfCode, Invalid, Is(400, "VPC.0207");
    GatewayFrozen(String)
        => ["Gateway {0} is frozen; its resources cannot be created, changed or deleted"], FailedPrecondition, Http::OfCode, Is(400, "NAT.1208"), Invalid;
    GatewayHasRules(String)
        => ["Gateway {0} still has DNAT or SNAT rules; delete them first"], FailedPrecondition, Http::OfCode, Is(400, "NAT.1202"), Invalid;
    RuleLimit { gateway_id: String, limit: u32 }
        => ["Gateway {gateway_id} may hold at most {limit} rules (SNAT and DNAT together) with its spec"], FailedPrecondition, Http::OfCode, Is(400, "NAT.1207"), Invalid;
    SnatSourceNotOne
        => ["Exactly one of cidr and virsubnet_id must be given"], InvalidArgument, Http::OfCode, Is(400, "NAT.1501"), Invalid;
    SnatCidrMalformed(String)
        => ["{} is not an IPv4 CIDR block in canonical form", echo(.0)], InvalidArgument, Http::OfCode, Is(400, "NAT.1502"), Invalid;
    SnatTooManyTransitIps(usize)
        => ["An SNAT rule uses exactly one transit IP, not {0}"], InvalidArgument, Http::OfCode, Is(400, "NAT.1506"), Invalid;
    SnatTransitIpNotUuid(String)
        => ["Transit IP id {} is not a UUID", echo(.0)], InvalidArgument, Http::OfCode, Is(400, "NAT.1507"), Invalid;
    SnatSubnetOutsideGatewayVpc { subnet_id: String, gateway_id: String }
        => ["Subnet {subnet_id} is not in the VPC of gateway {gateway_id}"], NotFound, Http::OfCode, Is(404, "NAT.1003"), Invalid;
    TransitIpInGatewayVpc { transit_ip_id: String, gateway_id: String }
        => ["TransitIp {transit_ip_id} lies in the VPC of gateway {gateway_id}; use one of another VPC"], FailedPrecondition, Http::OfCode, Is(409, "NAT.1303"), Invalid;
    TransitIpUsedBySnat { transit_ip_id: String, rule_id: String }
        => ["TransitIp {transit_ip_id} is already used by SNAT rule {rule_id}"], AlreadyExists, Http::OfCode, Is(409, "NAT.1308"), Invalid;
    TransitIpOfAnotherGateway { transit_ip_id: String, gateway_id: String }
        => ["TransitIp {transit_ip_id} already serves gateway {gateway_id}"], AlreadyExists, Http::OfCode, Is(409, "NAT.1406"), Invalid;
    SnatSubnetTaken { subnet_id: String, rule_id: String }
        => ["Subnet {subnet_id} already has SNAT rule {rule_id} on this gateway"], AlreadyExists, Http::OfCode, Is(409, "NAT.1503"), Invalid;
    SnatCidrTaken { cidr: String, rule_id: String }
        => ["CIDR {cidr} already has SNAT rule {rule_id} on this gateway"], AlreadyExists, Http::OfCode, Is(409, "NAT.1505"), Invalid;
    GatewaySpecUnchanged { id: String, spec: String }
        => ["Gateway {id} already has spec {spec}"], InvalidArgument, Http::OfCode, Is(400, "NAT.1206"), Invalid;
    TransitSubnetInUse(String)
        => ["TransitSubnet {0} still has transit IPs; delete them first"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
    TransitIpInUse(String)
        => ["TransitIp {0} is used by DNAT rules; delete them first"], FailedPrecondition, Http::OfCode, Is(409, "NAT.1409"), Invalid;
    DnatAnyNeedsZeroPorts
        => ["Protocol any forwards every port: internal_service_port and transit_service_port must both be \"0\""], InvalidArgument, Http::OfCode, Is(400, "NAT.1306"), Invalid;
    DnatBackendNotOne
        => ["Exactly one of network_interface_id and private_ip_address must be given"], InvalidArgument, Http::OfCode, Is(400, "NAT.1311"), Invalid;
    TransitIpTaken { transit_ip_id: String, rule_id: String }
        => ["TransitIp {transit_ip_id} is already used by DNAT rule {rule_id}"], AlreadyExists, Http::OfCode, Is(409, "NAT.1305"), Invalid;
    DnatPortInUse { transit_ip_id: String, protocol: String, port: String, rule_id: String }
        => ["DNAT rule {rule_id} already forwards {protocol} port {port} of TransitIp {transit_ip_id}"], AlreadyExists, Http::OfCode, Is(409, "NAT.1309"), Invalid;
    DnatWholeIpTaken { transit_ip_id: String, rule_id: String }
        => ["DNAT rule {rule_id} forwards every port of TransitIp {transit_ip_id} (protocol any)"], AlreadyExists, Http::OfCode, Is(409, "NAT.1310"), Invalid;
    DnatBackendInUse { rule_id: String }
        => ["DNAT rule {rule_id} already forwards to the same backend, protocol and internal port"], AlreadyExists, Http::OfCode, Is(409, "NAT.1307"), Invalid;
    TagInvalid(String)
        => ["Invalid tags: {0}"], InvalidArgument, Http::OfCode, Is(400, "NAT.1015"), Is(400, "VPC.1801");
    TooManyTags { limit: usize }
        => ["A resource may carry at most {limit} tags"], InvalidArgument, Http::OfCode, Is(400, "NAT.1016"), Is(400, "VPC.1801");
    TagNotFound(String)
        => ["Tag with key \"{}\" not found", echo(.0)], NotFound, Http::OfCode, Is(404, "NAT.1002"), Is(404, "VPC.0202");
    ExtendCidrInvalid(String)
        => ["{} is not an IPv4 CIDR block in canonical form", echo(.0)], InvalidArgument, Http::OfCode, Invalid, Is(400, "VPC.9911");
    TooManyExtendCidrs { vpc_id: String, limit: usize }
        => ["Vpc {vpc_id} may have at most {limit} secondary CIDR blocks"], InvalidArgument, Http::OfCode, Invalid, Is(400, "VPC.9912");
    ExtendCidrOverlaps { cidr: String, other: String }
        => ["CIDR {cidr} overlaps {other}, already a CIDR block of the Vpc"], AlreadyExists, Http::OfCode, Invalid, Is(409, "VPC.9914");
    ExtendCidrReserved { cidr: String, reserved: String }
        => ["CIDR {cidr} lies in the reserved block {reserved}"], InvalidArgument, Http::OfCode, Invalid, Is(400, "VPC.9916");
    ExtendCidrNotFound { vpc_id: String, cidr: String }
        => ["{cidr} is not a secondary CIDR block of Vpc {vpc_id}"], NotFound, Http::OfCode, Invalid, Is(404, "VPC.9915");
    ExtendCidrHasSubnets { cidr: String, subnet_id: String }
        => ["Secondary CIDR block {cidr} still holds subnet {subnet_id}; delete it first"], FailedPrecondition, Http::OfCode, Invalid, Is(400, "VPC.0117");
    PortNotInGatewayVpc { port_id: String, gateway_id: String }
        => ["Port {port_id} is not in the VPC of gateway {gateway_id}"], FailedPrecondition, Http::OfCode, Is(409, "NAT.1304"), Invalid;
    /// A failure a fault rule (`/_netplane/faults`) or `/_netplane/operations/{id}:fail` asked for,
    /// with the gRPC code it gave (`code()` answers it; `Unknown` is only the table's placeholder).
    Injected { code: Code, message: String }
        => ["{message}"], Unknown, Http::OfCode, Invalid, Invalid;
    PortInUse { port_id: String, rule_id: String }
        => ["Port {port_id} is the backend of DNAT rule {rule_id}; delete the rule first"], FailedPrecondition, Http::OfCode, Invalid, Invalid;
}

fn join_violations(v: &[FieldViolation]) -> String {
    v.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; ")
}

impl Error {
    pub fn code(&self) -> Code {
        match self {
            // The one error whose code is chosen per value: a fault rule's.
            Error::Injected { code, .. } => *code,
            _ => self.row().code,
        }
    }

    /// The HTTP status of this error on REST: the code's, except where HTTP has a closer one.
    pub fn http_status(&self) -> u16 {
        match self.row().http {
            Http::OfCode => self.code().http_status(),
            Http::Is(status) => status,
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

    /// One error of every variant (two where a column depends on the value).
    fn one_of_each() -> Vec<Error> {
        let s = || "x".to_string();
        vec![
            Error::invalid("name", "bad"),
            Error::invalid("subnet.cidr", "bad"),
            Error::not_found(ResourceKind::Instance, "i"),
            Error::not_found(ResourceKind::Vpc, "v"),
            Error::NameTaken { kind: ResourceKind::Network, name: s(), folder_id: s() },
            Error::WrongInstanceStatus { id: s(), status: s(), action: s(), needed: s() },
            Error::NetworkHasSubnets(s()),
            Error::SubnetInUse { id: s(), used: s() },
            Error::SubnetZoneMismatch { subnet_id: s(), subnet_zone: s(), instance_zone: s() },
            Error::SubnetNetworkMismatch { subnet_id: s(), subnet_network: s(), network: s() },
            Error::AddressInUse { address: s(), subnet_id: s() },
            Error::SubnetExhausted(s()),
            Error::CidrOverlap { cidr: s(), other: s(), subnet_id: s(), network_id: s() },
            Error::InterfaceIndexInUse { index: s(), instance_id: s() },
            Error::InterfaceNotFound { instance_id: s(), index: s() },
            Error::InterfaceAddressNotFound { instance_id: s(), address: s() },
            Error::PrimaryInterface(s()),
            Error::NatAlreadyConfigured { instance_id: s(), index: s() },
            Error::NoNat { instance_id: s(), index: s() },
            Error::AddressNotReserved { address: s(), folder_id: s() },
            Error::AddressZoneMismatch { address: s(), address_zone: s(), instance_zone: s() },
            Error::AddressTaken { address: s(), user: s() },
            Error::AddressInUseByInstance(s()),
            Error::DeletionProtected { kind: ResourceKind::Address, id: s() },
            Error::SecurityGroupNetworkMismatch { id: s(), group_network: s(), network: s() },
            Error::SecurityGroupInUse(s()),
            Error::OperationAlreadyDone(s()),
            Error::OperationNotPending(s()),
            Error::NotAdmin(s()),
            Error::Cancelled(s()),
            Error::Unimplemented(s()),
            Error::Internal(s()),
            Error::Transport(TransportError::NoRoute { method: s(), path: s() }),
            Error::Transport(TransportError::MethodNotAllowed { method: s(), path: s(), allowed: s() }),
            Error::Transport(TransportError::BodyTooLarge { limit: 1 }),
            Error::Transport(TransportError::UriTooLong { limit: 1 }),
            Error::Transport(TransportError::HeadersTooLarge { fields: 1, bytes: 1 }),
            Error::Transport(TransportError::BodyTimeout { timeout: std::time::Duration::from_secs(1) }),
            Error::DiskZoneMismatch { disk_id: s(), disk_zone: s(), instance_zone: s() },
            Error::DiskAttached { disk_id: s(), instance_id: s() },
            Error::DiskNotReady { disk_id: s(), status: s() },
            Error::DiskNotAttached { instance_id: s(), disk: s() },
            Error::BootDiskDetach(s()),
            Error::DeviceNameTaken { instance_id: s(), device_name: s() },
            Error::TooManyDisks { instance_id: s(), limit: 8 },
            Error::PublicImage(s()),
            Error::ConflictingOperation(s()),
            Error::DefaultSecurityGroup(s()),
            Error::RouteTableInUse(s()),
            Error::GatewayInUse(s()),
            Error::RouteTableNetworkMismatch { route_table_id: s(), table_network: s(), network: s() },
            Error::Unauthenticated(s()),
            Error::PermissionDenied { subject: s(), folder_id: s() },
            Error::IdempotencyKeyReused { key: s(), method: s() },
            Error::Unavailable(s()),
            Error::Storage(s()),
            Error::UnusableAddress(vec![FieldViolation::new("a", "b")]),
            Error::Transport(TransportError::MalformedJson(s())),
            Error::ProjectDenied { project_id: s() },
            Error::VpcInUse(s()),
            Error::VpcCidrExcludesSubnet { vpc_id: s(), cidr: s(), subnet_cidr: s() },
            Error::SubnetNotInVpc { subnet_id: s(), vpc_id: s() },
            Error::GatewayFrozen(s()),
            Error::GatewayHasRules(s()),
            Error::GatewaySpecUnchanged { id: s(), spec: s() },
            Error::RuleLimit { gateway_id: s(), limit: 20 },
            Error::SnatSourceNotOne,
            Error::SnatCidrMalformed(s()),
            Error::SnatTooManyTransitIps(2),
            Error::SnatTransitIpNotUuid(s()),
            Error::SnatSubnetOutsideGatewayVpc { subnet_id: s(), gateway_id: s() },
            Error::TransitIpInGatewayVpc { transit_ip_id: s(), gateway_id: s() },
            Error::TransitIpUsedBySnat { transit_ip_id: s(), rule_id: s() },
            Error::TransitIpOfAnotherGateway { transit_ip_id: s(), gateway_id: s() },
            Error::SnatSubnetTaken { subnet_id: s(), rule_id: s() },
            Error::SnatCidrTaken { cidr: s(), rule_id: s() },
            Error::TransitSubnetInUse(s()),
            Error::TransitIpInUse(s()),
            Error::DnatAnyNeedsZeroPorts,
            Error::DnatBackendNotOne,
            Error::TransitIpTaken { transit_ip_id: s(), rule_id: s() },
            Error::DnatPortInUse { transit_ip_id: s(), protocol: s(), port: s(), rule_id: s() },
            Error::DnatWholeIpTaken { transit_ip_id: s(), rule_id: s() },
            Error::DnatBackendInUse { rule_id: s() },
            Error::TagInvalid(s()),
            Error::TooManyTags { limit: 20 },
            Error::TagNotFound(s()),
            Error::ExtendCidrInvalid(s()),
            Error::TooManyExtendCidrs { vpc_id: s(), limit: 5 },
            Error::ExtendCidrOverlaps { cidr: s(), other: s() },
            Error::ExtendCidrReserved { cidr: s(), reserved: s() },
            Error::ExtendCidrNotFound { vpc_id: s(), cidr: s() },
            Error::ExtendCidrHasSubnets { cidr: s(), subnet_id: s() },
            Error::PortNotInGatewayVpc { port_id: s(), gateway_id: s() },
            Error::PortInUse { port_id: s(), rule_id: s() },
            Error::Injected { code: Code::Unavailable, message: s() },
        ]
    }

    /// Each error's columns, one line each: the table as clients see it.
    fn rendered() -> String {
        one_of_each()
            .iter()
            .map(|e| {
                let nat = e.huawei(HuaweiApi::PrivateNat);
                let vpc = e.huawei(HuaweiApi::Vpc);
                format!("{:?} {} {} {} {} {} {}\n", e.code(), e.http_status(), nat.status, nat.code, vpc.status, vpc.code, e)
            })
            .collect()
    }

    /// The table as clients see it (gRPC code, HTTP status, NAT status and code, VPC status and
    /// code, text), one error of every variant, against `src/error/table.txt`: a change to any
    /// column shows up here.
    #[test]
    fn the_table_is_as_clients_see_it() {
        let rendered = rendered();
        if rendered != include_str!("error/table.txt") {
            panic!("the error table changed; if on purpose, update src/error/table.txt to:\n{rendered}");
        }
    }

    #[test]
    fn the_rendered_table_has_every_variant() {
        // The variant's name, or the wrapped transport error's.
        let shown: std::collections::HashSet<String> = one_of_each()
            .iter()
            .map(|e| {
                let debug = format!("{e:?}");
                let inner = debug.strip_prefix("Transport(").unwrap_or(&debug);
                inner.split(['(', ' ', '{']).next().unwrap_or_default().to_string()
            })
            .collect();
        for name in Error::NAMES.iter().chain(TransportError::NAMES) {
            assert!(shown.contains(*name), "one_of_each lacks {name}");
        }
    }

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
        let e = Error::from(TransportError::MethodNotAllowed { method: "PUT".into(), path: "/x".into(), allowed: "GET".into() });
        assert_eq!((e.http_status(), e.code()), (405, Code::Unimplemented));
        assert_eq!(Error::from(TransportError::BodyTooLarge { limit: 1 }).http_status(), 413);
        assert_eq!(Error::from(TransportError::NoRoute { method: "GET".into(), path: "/x".into() }).http_status(), 404);
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
