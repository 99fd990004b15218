//! Checks request fields as the contract's validation rules say, turning proto specs into the typed
//! pieces of service commands. Every bad field is collected, so one reply names them all.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::LazyLock;

use crate::proto::wkt::FieldMask;
use regex::Regex;

use crate::domain::disk::DiskSource;
use crate::domain::disk_type::{DEFAULT_BLOCK_SIZE, DEFAULT_TYPE, block_size_problem};
use crate::domain::filter::{self, Allowed};
use crate::domain::instance::{DiskMode, DnsRecord, Resources};
use crate::domain::validate::{LabelRules, Violations};
use crate::proto::yandex::cloud::compute::v1 as pb;
use crate::service::compute::{DiskSpec, InstanceDisk};
use crate::service::disks::NewDisk;
use crate::service::listing::ListOrdered;
use crate::service::plumbing::{InterfaceSpec, NatSpec};

const MAX_MEMORY: i64 = 274_877_906_944;
const CORES: &[i64] = &[2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80];
const CORE_FRACTIONS: &[i64] = &[0, 5, 20, 50, 100];
const GPUS: &[i64] = &[0, 1, 2, 4];
const MIN_DISK: i64 = 4_194_304;
const MAX_DISK: i64 = 4_398_046_511_104;

static DEVICE_NAME: LazyLock<Regex> = LazyLock::new(|| Regex::new("^[a-z][a-z0-9-_]{0,19}$").unwrap_or_else(|e| panic!("{e}")));

fn one_of(v: &mut Violations, field: &str, value: i64, allowed: &[i64]) {
    if !allowed.contains(&value) {
        let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
        v.add(field, format!("value {value} is not one of {}", list.join(", ")));
    }
}

/// The request path of `field`'s member `name`: concatenated, as the validators of every
/// interface spec build several on the way through a valid request (`format!` cost several times
/// as much).
fn path(field: &str, name: &str) -> String {
    [field, ".", name].concat()
}

/// `ResourcesSpec`: memory and cores required, each value from the contract's set.
pub fn resources(v: &mut Violations, field: &str, spec: Option<&pb::ResourcesSpec>) -> Resources {
    let Some(spec) = spec else {
        v.add(field, "required field is not set");
        return Resources::default();
    };
    if spec.memory <= 0 {
        v.add(format!("{field}.memory"), "required field must be a positive number of bytes");
    } else if spec.memory > MAX_MEMORY {
        v.add(format!("{field}.memory"), format!("must be at most {MAX_MEMORY}"));
    }
    if spec.cores == 0 {
        v.add(format!("{field}.cores"), "required field is not set");
    } else {
        one_of(v, &path(field, "cores"), spec.cores, CORES);
    }
    one_of(v, &path(field, "core_fraction"), spec.core_fraction, CORE_FRACTIONS);
    one_of(v, &path(field, "gpus"), spec.gpus, GPUS);
    Resources {
        memory: spec.memory,
        cores: spec.cores,
        core_fraction: if spec.core_fraction == 0 { 100 } else { spec.core_fraction },
        gpus: spec.gpus,
    }
}

pub fn dns_records(v: &mut Violations, field: &str, specs: &[pb::DnsRecordSpec]) -> Vec<DnsRecord> {
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            v.required(&format!("{field}[{i}].fqdn"), &s.fqdn);
            if !(0..=86_400).contains(&s.ttl) {
                v.add(format!("{field}[{i}].ttl"), "must be between 0 and 86400");
            }
            DnsRecord { fqdn: s.fqdn.clone(), dns_zone_id: s.dns_zone_id.clone(), ttl: s.ttl, ptr: s.ptr }
        })
        .collect()
}

pub fn ipv4(v: &mut Violations, field: &str, text: &str) -> Option<Ipv4Addr> {
    if text.is_empty() {
        return None;
    }
    match text.parse::<Ipv4Addr>() {
        Ok(a) => Some(a),
        Err(_) => {
            v.add(field, format!("\"{}\" is not an IPv4 address", crate::error::echo(text)));
            None
        }
    }
}

pub fn nat_spec(v: &mut Violations, field: &str, spec: &pb::OneToOneNatSpec) -> NatSpec {
    if spec.ip_version == pb::IpVersion::Ipv6 as i32 {
        v.add(format!("{field}.ip_version"), "IPv6 one-to-one NAT is not available yet");
    }
    NatSpec {
        address: ipv4(v, &path(field, "address"), &spec.address),
        dns_records: dns_records(v, &path(field, "dns_record_specs"), &spec.dns_record_specs),
    }
}

/// The IPv4 part of an interface spec: explicit address, NAT and DNS records.
pub fn primary_v4(
    v: &mut Violations,
    field: &str,
    spec: Option<&pb::PrimaryAddressSpec>,
) -> (Option<Ipv4Addr>, Option<NatSpec>, Vec<DnsRecord>) {
    let Some(spec) = spec else {
        return (None, None, vec![]);
    };
    let address = ipv4(v, &path(field, "address"), &spec.address);
    let nat = spec.one_to_one_nat_spec.as_ref().map(|n| nat_spec(v, &path(field, "one_to_one_nat_spec"), n));
    let dns = dns_records(v, &path(field, "dns_record_specs"), &spec.dns_record_specs);
    (address, nat, dns)
}

pub fn no_ipv6(v: &mut Violations, field: &str, spec: Option<&pb::PrimaryAddressSpec>) {
    if spec.is_some() {
        v.add(field, "IPv6 addresses are not available yet");
    }
}

pub fn interface_spec(v: &mut Violations, field: &str, spec: &pb::NetworkInterfaceSpec) -> InterfaceSpec {
    v.id(&path(field, "subnet_id"), &spec.subnet_id);
    no_ipv6(v, &path(field, "primary_v6_address_spec"), spec.primary_v6_address_spec.as_ref());
    let (address, nat, dns_records) = primary_v4(v, &path(field, "primary_v4_address_spec"), spec.primary_v4_address_spec.as_ref());
    if !spec.index.is_empty() && spec.index.parse::<u8>().is_err() {
        v.add(format!("{field}.index"), "must be a small non-negative integer such as \"0\" or \"1\"");
    }
    InterfaceSpec {
        index: spec.index.clone(),
        subnet_id: spec.subnet_id.clone(),
        address,
        nat,
        dns_records,
        security_group_ids: spec.security_group_ids.clone(),
    }
}

fn disk_mode(mode: i32) -> DiskMode {
    if mode == pb::attached_disk_spec::Mode::ReadOnly as i32 { DiskMode::ReadOnly } else { DiskMode::ReadWrite }
}

/// `AttachedDiskSpec`: exactly one of `disk_spec` and `disk_id`.
/// A folder-scoped list request whose `filter` may name `filters` and `order_by` may name
/// `orders`, checked as the contract bounds them.
pub fn ordered_list(
    folder_id: &str,
    page_size: i64,
    page_token: &str,
    filter_text: &str,
    order_by: &str,
    filters: Allowed,
    orders: Allowed,
) -> crate::error::Result<ListOrdered> {
    let mut v = Violations::new();
    v.id("folder_id", folder_id);
    v.page(page_size, page_token);
    v.max_len("filter", filter_text, 1000);
    v.max_len("order_by", order_by, 100);
    let conditions = filter::parse_filter(filter_text, filters).unwrap_or_else(|e| {
        v.add("filter", e);
        vec![]
    });
    let order = filter::parse_order_by(order_by, orders).unwrap_or_else(|e| {
        v.add("order_by", e);
        Default::default()
    });
    v.finish()?;
    Ok(ListOrdered {
        folder_id: folder_id.to_string(),
        page_size: crate::domain::validate::page_size(page_size),
        page_token: page_token.to_string(),
        conditions,
        order,
    })
}

/// A page of something under one resource (its operations, a network's subnets): the resource's
/// id and the page checked; the page size to use.
pub fn child_page(field: &str, id: &str, page_size: i64, page_token: &str) -> crate::error::Result<usize> {
    let mut v = Violations::new();
    v.id(field, id);
    v.page(page_size, page_token);
    v.finish()?;
    Ok(crate::domain::validate::page_size(page_size))
}

/// A Move request: the resource's id and the destination folder's.
pub fn move_target(id_field: &str, id: &str, destination_folder_id: &str) -> crate::error::Result<()> {
    let mut v = Violations::new();
    v.id(id_field, id);
    v.id("destination_folder_id", destination_folder_id);
    v.finish()
}

/// Whether `name` is a device name the contract allows.
pub fn is_device_name(name: &str) -> bool {
    DEVICE_NAME.is_match(name)
}

pub fn disk_spec(v: &mut Violations, field: &str, spec: &pb::AttachedDiskSpec) -> DiskSpec {
    use pb::attached_disk_spec::Disk;
    if !spec.device_name.is_empty() && !DEVICE_NAME.is_match(&spec.device_name) {
        v.add(format!("{field}.device_name"), "must match [a-z][a-z0-9-_]{,19}");
    }
    let disk = match &spec.disk {
        None => {
            v.add(field, "exactly one of disk_spec and disk_id must be set");
            InstanceDisk::Existing(String::new())
        }
        Some(Disk::DiskId(id)) => {
            v.id(&path(field, "disk_id"), id);
            InstanceDisk::Existing(id.clone())
        }
        Some(Disk::DiskSpec(d)) => {
            let field = path(field, "disk_spec");
            if !(MIN_DISK..=MAX_DISK).contains(&d.size) {
                v.add(format!("{field}.size"), format!("must be between {MIN_DISK} and {MAX_DISK} bytes"));
            }
            v.pattern(&path(&field, "name"), &d.name, &crate::domain::validate::COMPUTE_NAME);
            v.description(&path(&field, "description"), &d.description);
            use pb::attached_disk_spec::disk_spec::Source;
            let source = match &d.source {
                None => DiskSource::Empty,
                Some(Source::ImageId(id)) => {
                    v.id(&path(&field, "image_id"), id);
                    DiskSource::Image(id.clone())
                }
                Some(Source::SnapshotId(id)) => {
                    v.id(&path(&field, "snapshot_id"), id);
                    DiskSource::Snapshot(id.clone())
                }
            };
            InstanceDisk::New(new_disk(
                v,
                &field,
                NewDisk {
                    name: d.name.clone(),
                    description: d.description.clone(),
                    labels: HashMap::new(),
                    type_id: d.type_id.clone(),
                    size: Some(d.size),
                    block_size: d.block_size,
                    source,
                    placement_group_id: d.disk_placement_policy.as_ref().map(|p| p.placement_group_id.clone()).unwrap_or_default(),
                    size_field: format!("{field}.size"),
                },
            ))
        }
    };
    DiskSpec { mode: disk_mode(spec.mode), device_name: spec.device_name.clone(), auto_delete: spec.auto_delete, disk }
}

/// A new disk's type and block size, defaulted (`network-hdd`, 4096) and checked.
pub fn new_disk(v: &mut Violations, field: &str, mut disk: NewDisk) -> NewDisk {
    if disk.type_id.is_empty() {
        disk.type_id = DEFAULT_TYPE.to_string();
    }
    v.max_len(&path(field, "type_id"), &disk.type_id, 50);
    if disk.block_size == 0 {
        disk.block_size = DEFAULT_BLOCK_SIZE;
    }
    if let Some(problem) = block_size_problem(disk.block_size) {
        v.add(format!("{field}.block_size"), problem);
    }
    disk
}

/// Paths of an update mask; `None` when the request has no mask.
pub fn mask(mask: Option<&FieldMask>) -> Option<Vec<String>> {
    // Masks may name fields in lowerCamelCase (the JSON form); the contract's names are snake_case.
    mask.filter(|m| !m.paths.is_empty()).map(|m| m.paths.iter().map(|p| crate::domain::validate::to_snake_case(p)).collect())
}

/// The update mask's paths, or without a mask, the fields the request sets (`implied`).
pub fn paths(update_mask: Option<&FieldMask>, implied: &[(&str, bool)]) -> Vec<String> {
    mask(update_mask).unwrap_or_else(|| implied.iter().filter(|(_, set)| *set).map(|(name, _)| name.to_string()).collect())
}

/// The name, description and labels part of an Update, each checked when the mask names it.
#[derive(Debug, Default)]
pub struct Common {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
}

pub fn common(
    v: &mut Violations,
    paths: &[String],
    (name, description, labels): (&str, &str, &HashMap<String, String>),
    name_pattern: &Regex,
    label_rules: LabelRules,
) -> Common {
    let has = |f: &str| paths.iter().any(|p| p == f);
    let mut out = Common::default();
    if has("name") {
        v.pattern("name", name, name_pattern);
        out.name = Some(name.to_string());
    }
    if has("description") {
        v.description("description", description);
        out.description = Some(description.to_string());
    }
    if has("labels") {
        v.labels("labels", labels, label_rules);
        out.labels = Some(labels.clone());
    }
    out
}

/// Refuses mask paths that are not updatable fields.
pub fn check_mask(v: &mut Violations, paths: &[String], allowed: &[&str]) {
    for p in paths {
        if !allowed.contains(&p.as_str()) {
            v.add(
                "update_mask",
                format!("field \"{}\" cannot be updated; updatable fields: {}", crate::error::echo(p), allowed.join(", ")),
            );
        }
    }
}

/// Duration bounds of `maintenance_grace_period` (1s–24h).
pub fn grace_period(v: &mut Violations, field: &str, d: Option<&crate::proto::wkt::Duration>) {
    if let Some(d) = d {
        if !(1..=86_400).contains(&d.seconds) || (d.seconds == 86_400 && d.nanos > 0) {
            v.add(field, "must be between 1s and 24h");
        }
    }
}

/// A required id field: refused (INVALID_ARGUMENT naming `field`) when empty or too long.
pub fn require_id(field: &str, value: &str) -> crate::error::Result<()> {
    let mut v = Violations::new();
    v.id(field, value);
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_rules() {
        let mut v = Violations::new();
        let r = resources(&mut v, "resources_spec", Some(&pb::ResourcesSpec { memory: 2 << 30, cores: 2, core_fraction: 0, gpus: 0 }));
        assert!(v.is_empty());
        assert_eq!(r.core_fraction, 100);
        resources(&mut v, "resources_spec", Some(&pb::ResourcesSpec { memory: 0, cores: 3, core_fraction: 7, gpus: 3 }));
        let fields: Vec<_> = v.finish().unwrap_err().violations().iter().map(|f| f.field.clone()).collect();
        assert_eq!(fields, ["resources_spec.memory", "resources_spec.cores", "resources_spec.core_fraction", "resources_spec.gpus"]);
    }

    #[test]
    fn masks_accept_camel_case() {
        let m = FieldMask { paths: vec!["resourcesSpec".into(), "name".into()] };
        assert_eq!(mask(Some(&m)), Some(vec!["resources_spec".to_string(), "name".to_string()]));
        assert_eq!(mask(Some(&FieldMask { paths: vec![] })), None);
    }

    #[test]
    fn dns_and_nat_rules() {
        let mut v = Violations::new();
        dns_records(&mut v, "d", &[pb::DnsRecordSpec { fqdn: String::new(), ttl: 90_000, ..Default::default() }]);
        nat_spec(
            &mut v,
            "n",
            &pb::OneToOneNatSpec { ip_version: pb::IpVersion::Ipv6 as i32, address: "nope".into(), ..Default::default() },
        );
        let fields: Vec<_> = v.finish().unwrap_err().violations().iter().map(|f| f.field.clone()).collect();
        assert_eq!(fields, ["d[0].fqdn", "d[0].ttl", "n.ip_version", "n.address"]);
    }

    #[test]
    fn disk_specs_need_exactly_one_source() {
        let mut v = Violations::new();
        disk_spec(&mut v, "boot_disk_spec", &pb::AttachedDiskSpec::default());
        assert!(!v.is_empty());
        let mut v = Violations::new();
        let spec = pb::AttachedDiskSpec { disk: Some(pb::attached_disk_spec::Disk::DiskId("fhmdisk".into())), ..Default::default() };
        assert_eq!(disk_spec(&mut v, "b", &spec).disk, InstanceDisk::Existing("fhmdisk".into()));
        assert!(v.is_empty());
    }
}
