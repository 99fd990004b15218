//! Compiles `proto/` with protox (no system `protoc`) into ONE file descriptor set, which then feeds
//! tonic/prost code generation, server reflection and REST transcoding alike.

use std::fmt::Write;
use std::{env, fs, path::PathBuf};

/// The service files; protox pulls in everything they import.
const ROOTS: &[&str] = &[
    "yandex/cloud/compute/v1/instance_service.proto",
    "yandex/cloud/compute/v1/disk_service.proto",
    "yandex/cloud/compute/v1/image_service.proto",
    "yandex/cloud/compute/v1/zone_service.proto",
    "yandex/cloud/compute/v1/disk_type_service.proto",
    "yandex/cloud/operation/operation_service.proto",
    "yandex/cloud/vpc/v1/network_service.proto",
    "yandex/cloud/vpc/v1/subnet_service.proto",
    "yandex/cloud/vpc/v1/address_service.proto",
    "yandex/cloud/vpc/v1/security_group_service.proto",
    "yandex/cloud/vpc/v1/route_table_service.proto",
    "yandex/cloud/vpc/v1/gateway_service.proto",
    "yandex/cloud/endpoint/api_endpoint_service.proto",
    "yandex/cloud/iam/v1/iam_token_service.proto",
    "google/rpc/error_details.proto",
    // Stop, Restart and Delete answer `Empty` inside `Operation.response`: reflection and the REST
    // JSON mapping must be able to resolve that `Any`.
    "google/protobuf/empty.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    // Migrations are embedded at compile time; a new one must rebuild the crate.
    println!("cargo:rerun-if-changed=src/store/migrations");
    let out = PathBuf::from(env::var("OUT_DIR")?);

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_imports(true).include_source_info(false).open_files(ROOTS)?;
    // The encoded set keeps custom options (google.api.http, yandex.cloud.api.operation,
    // validation); decoding into prost_types would drop them, so reflection and REST get these bytes.
    fs::write(out.join("netplane.bin"), compiler.encode_file_descriptor_set())?;
    fs::write(out.join("methods.rs"), method_table(&compiler.descriptor_pool())?)?;
    fs::write(out.join("json_messages.rs"), json_message_table(&compiler.descriptor_pool())?)?;
    let fds = compiler.file_descriptor_set();

    let mut codegen = tonic_prost_build::configure().build_client(true).build_server(true).compile_well_known_types(false);
    // The well-known types our messages hold are our own (src/proto/wkt.rs): the same wire form as
    // prost_types', plus the canonical JSON form, which the generated serde code needs of them.
    for wkt in JSON_WELL_KNOWN_TYPES {
        codegen = codegen.extern_path(format!(".google.protobuf.{wkt}"), format!("crate::proto::wkt::{wkt}"));
    }
    codegen.compile_fds(fds)?;
    // Serialize/Deserialize in the canonical proto3 JSON mapping for every message, beside the
    // prost code of its package: REST reads requests and writes answers through the typed messages.
    pbjson_build::Builder::new().register_descriptors(&compiler.encode_file_descriptor_set())?.build(&[".yandex", ".google.rpc"])?;
    Ok(())
}

/// The well-known types our messages use, given a JSON form in src/proto/wkt.rs. (`Empty` stays
/// prost's `()`: no message has a field of it; inside an `Any` it is rendered by name.)
const JSON_WELL_KNOWN_TYPES: &[&str] = &["Timestamp", "Duration", "Any", "FieldMask"];

/// Every message of the packages with generated JSON, as Rust: its full name and its type (a
/// nested message lives in its parent's snake_case module, as prost lays it out), so that a REST
/// request, a REST answer or an `Any`, each named only at run time, goes through its typed message.
fn json_message_table(pool: &prost_reflect::DescriptorPool) -> Result<String, Box<dyn std::error::Error>> {
    use heck::{ToSnakeCase, ToUpperCamelCase};
    let mut table = String::from("&[\n");
    for message in pool.all_messages() {
        let package = message.package_name();
        if message.is_map_entry() || !(package.starts_with("yandex.") || package == "google.rpc") {
            continue;
        }
        let mut path = message.name().to_upper_camel_case();
        let mut parent = message.parent_message();
        while let Some(outer) = parent {
            path = format!("{}::{path}", outer.name().to_snake_case());
            parent = outer.parent_message();
        }
        let module = package.replace('.', "::");
        let rust = format!("crate::proto::{module}::{path}");
        writeln!(
            table,
            "    ({:?}, Typed {{ decode: decoded::<{rust}>, from_json: encoded_from_json::<{rust}>, write: written::<{rust}>, write_value: written_value::<{rust}>, write_in_any: written_in_any::<{rust}>, write_value_in_any: written_value_in_any::<{rust}> }}),",
            message.full_name()
        )?;
    }
    table.push(']');
    Ok(table)
}

/// Every method of the compiled services, as Rust: its gRPC path and whether it starts an
/// operation (carries the `yandex.cloud.api.operation` option). The guard needs this for every
/// call from the start; read here, the server does not decode the descriptors until a REST call
/// or a folder check needs them.
fn method_table(pool: &prost_reflect::DescriptorPool) -> Result<String, Box<dyn std::error::Error>> {
    let operation = pool.get_extension_by_name("yandex.cloud.api.operation").ok_or("the protos lack yandex.cloud.api.operation")?;
    let mut table = String::from("&[\n");
    for service in pool.services() {
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            let starts_operation = method.options().has_extension(&operation);
            writeln!(table, "    MethodInfo {{ path: {path:?}, starts_operation: {starts_operation} }},")?;
        }
    }
    table.push(']');
    Ok(table)
}
