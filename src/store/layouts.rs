//! The guard on stored layouts. Row bodies and log rows are positional MessagePack (`codec`): a
//! struct's fields are read back by their place, so a field moved, removed or inserted before
//! another silently misreads every stored row. This test traces the serde layout of every stored
//! type (serde-reflection: each struct's fields in order, each enum's variants) and compares it
//! with `src/store/layouts.json`, the layouts of the stores already written:
//! - a struct keeps its stored fields, in order; new fields go after them (with `#[serde(default)]`,
//!   so that rows written before decode);
//! - an enum keeps its stored variants (variants are stored by name, so their order is free).
//!
//! Two rules serde-reflection cannot see (it traces what a type reads, not what it writes, nor
//! its defaults) are read from the source under `src/` (syn):
//! - a field appended to a stored struct has `#[serde(default)]` (or its struct has), else every
//!   row written before it fails to decode;
//! - no field of a stored type is ever left out when written (`skip_serializing`,
//!   `skip_serializing_if`): a row without it would be read with every later field one place off.
//!
//! The source's fields and types are matched to the traced ones by the names serde reads them by
//! (their `rename`); a stored type with `rename_all` is refused, since this guard does not apply
//! case rules.
//!
//! A change that keeps those rules fails too, until the file is written again with
//! `NETPLANE_WRITE_LAYOUTS=1 cargo test --lib store::layouts` and committed with it: the file
//! must hold what this release writes, so that the next change is checked against it. (A change
//! that breaks them is not written.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde_reflection::{ContainerFormat, Named, Registry, Samples, Tracer, TracerConfig};

use crate::domain::{
    address::Address, disk::Disk, gateway::Gateway, huawei, image::Image, instance::Instance, network::Network, route_table::RouteTable,
    security_group::SecurityGroup, subnet::Subnet,
};
use crate::ops;

const GOLDEN: &str = "src/store/layouts.json";

/// One registry per stored type: the Yandex and Huawei subnets (and gateways) share a name, which
/// one registry could not hold twice.
type Layouts = BTreeMap<String, Registry>;

/// Traces one type into a tracer (`trace::<T>` as a function pointer).
type Trace = fn(&mut Tracer, &Samples, &str);

fn trace<T: serde::de::DeserializeOwned>(tracer: &mut Tracer, samples: &Samples, what: &str) {
    if let Err(e) = tracer.trace_type::<T>(samples) {
        panic!("tracing {} (for {what}): {e}", std::any::type_name::<T>());
    }
}

/// The layouts of the types `traces` trace, together in one registry. An enum inside is read one
/// variant per pass, and only while it is not marked incomplete: each round resets, pass by
/// pass, the marks of the enums the round before left incomplete. An enum reached only through
/// one variant of another (`ResourceKind` through `Error::NotFound`) needs a trace of its own.
fn traced(what: &str, traces: &[Trace]) -> Registry {
    let mut incomplete: Vec<String> = Vec::new();
    for _ in 0..ROUNDS {
        let mut tracer = Tracer::new(TracerConfig::default());
        let samples = Samples::new();
        for _ in 0..PASSES {
            for enum_name in &incomplete {
                tracer.check_incomplete_enum(enum_name);
            }
            for trace in traces {
                trace(&mut tracer, &samples, what);
            }
        }
        match tracer.registry() {
            Ok(registry) => return registry,
            Err(serde_reflection::Error::MissingVariants(names)) => incomplete.extend(names),
            Err(e) => panic!("the layout of {what}: {e}"),
        }
    }
    panic!("the layout of {what}: enums still incomplete after {ROUNDS} rounds: {incomplete:?}")
}

/// More than the variants of any stored enum.
const PASSES: usize = 100;
/// More than the depth of enums within enums.
const ROUNDS: usize = 10;

/// A struct's field names, in order, as its `Deserialize` declares them to a format. For
/// `Operation`, whose `Action` serde-reflection cannot trace (it is stored flat, decoded by hand:
/// `ops::flat`); its field types are traced one by one instead.
fn field_names<T: serde::de::DeserializeOwned>() -> Vec<String> {
    struct Fields(Vec<String>);
    #[derive(Debug)]
    struct Captured;
    impl std::fmt::Display for Captured {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("captured")
        }
    }
    impl std::error::Error for Captured {}
    impl de::Error for Captured {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Captured
        }
    }
    impl<'de> Deserializer<'de> for &mut Fields {
        type Error = Captured;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Captured> {
            Err(Captured)
        }
        fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], _: V) -> Result<V::Value, Captured> {
            self.0 = fields.iter().map(|f| f.to_string()).collect();
            Err(Captured)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Fields(Vec::new());
    let _ = T::deserialize(&mut fields);
    assert!(!fields.0.is_empty(), "{} is not a struct", std::any::type_name::<T>());
    fields.0
}

fn layouts() -> Layouts {
    let mut all = Layouts::new();
    // Every kind of resource row, each traced once: a kind added without its type here fails.
    let mut kinds = Vec::new();
    macro_rules! stored {
        ($($t:ty),* $(,)?) => { $(
            kinds.push(<$t as super::Resource>::KIND);
            all.insert(stringify!($t).replace(' ', ""), traced(stringify!($t), &[trace::<$t>]));
        )* };
    }
    stored!(
        Instance,
        Network,
        Subnet,
        Address,
        SecurityGroup,
        Disk,
        Image,
        RouteTable,
        Gateway,
        huawei::vpc::Vpc,
        huawei::vpc::Subnet,
        huawei::nat::Gateway,
        huawei::nat::TransitSubnet,
        huawei::nat::TransitIp,
        huawei::dnat::DnatRule,
        huawei::snat::SnatRule,
        huawei::port::Port,
    );
    kinds.sort();
    assert_eq!(kinds, super::Kind::ALL.to_vec(), "every kind of resource row, once, in store::Kind's order");
    // An operation: its own fields, then the types of those, and of `Action`, stored flat (the
    // variants of every group under one name each), which serde-reflection cannot trace whole.
    let fields = field_names::<ops::Operation>().into_iter().map(|name| Named { name, value: serde_reflection::Format::Unit }).collect();
    let mut operation = traced(
        "ops::Operation",
        &[
            trace::<ops::Metadata>,
            trace::<std::result::Result<ops::Response, crate::error::Error>>,
            trace::<ops::OperationFault>,
            trace::<crate::error::Error>,
            trace::<crate::error::TransportError>,
            trace::<crate::error::ResourceKind>,
            trace::<crate::error::Code>,
            trace::<ops::InterfaceAction>,
            trace::<ops::InstanceAction>,
            trace::<ops::NetworkAction>,
            trace::<ops::SubnetAction>,
            trace::<ops::AddressAction>,
            trace::<ops::SecurityGroupAction>,
            trace::<ops::DiskAction>,
            trace::<ops::ImageAction>,
            trace::<ops::RouteTableAction>,
            trace::<ops::GatewayAction>,
            trace::<ops::MoveAction>,
        ],
    );
    operation.insert("Operation".into(), ContainerFormat::Struct(fields));
    all.insert("ops::Operation".into(), operation);
    all.insert("change_log".into(), super::change_log::layout());
    all
}

/// What `now` breaks of the stored layouts `then`: one line per broken rule.
fn broken(then: &Layouts, now: &Layouts) -> Vec<String> {
    let mut out = Vec::new();
    for (stored, containers) in then {
        let Some(current) = now.get(stored) else {
            out.push(format!("{stored}: no longer traced (rows of it are stored)"));
            continue;
        };
        for (name, was) in containers {
            let at = format!("{stored} > {name}");
            match (was, current.get(name)) {
                (_, None) => out.push(format!("{at}: gone (renamed or removed)")),
                (ContainerFormat::Struct(old), Some(ContainerFormat::Struct(new))) if !new.starts_with(old) => {
                    let names = |f: &[Named<_>]| f.iter().map(|n| n.name.clone()).collect::<Vec<_>>().join(", ");
                    out.push(format!("{at}: stored fields were [{}], now [{}]", names(old), names(new)));
                }
                // Fields appended after the stored ones.
                (ContainerFormat::Struct(_), Some(ContainerFormat::Struct(_))) => {}
                (ContainerFormat::Enum(old), Some(ContainerFormat::Enum(new))) => {
                    for variant in old.values() {
                        if !new.values().any(|v| v == variant) {
                            out.push(format!("{at}: variant {} removed or changed", variant.name));
                        }
                    }
                }
                (old, Some(new)) if old != new => out.push(format!("{at}: was {old:?}, now {new:?}")),
                _ => {}
            }
        }
    }
    out
}

/// The layouts as the file holds them: a line per container, so that a change reads as one.
fn written(layouts: &Layouts) -> String {
    let line = |value: &dyn erased_serde::Serialize| serde_json::to_string(value).unwrap();
    let stored: Vec<String> = layouts
        .iter()
        .map(|(stored, registry)| {
            let containers: Vec<String> = registry.iter().map(|(name, format)| format!("    {}: {}", line(name), line(format))).collect();
            format!("  {}: {{\n{}\n  }}", line(stored), containers.join(",\n"))
        })
        .collect();
    format!("{{\n{}\n}}\n", stored.join(",\n"))
}

/// A field as the source declares it, with what its serde attributes say.
#[derive(Debug)]
struct Declared {
    /// The struct's name, or the enum's for a field of a struct variant (as serde-reflection
    /// names the container that holds it: by its `#[serde(rename)]`, if it has one).
    container: String,
    field: String,
    /// The name serde reads the field by, which serde-reflection reports: the field's name, or
    /// what `#[serde(rename = "…")]` (or `rename(deserialize = "…")`) gives it.
    read_as: String,
    /// Its struct has `#[serde(rename_all = "…")]`, whose case rules this guard does not apply.
    renamed_by_container: bool,
    /// `#[serde(default)]` on the field or on its struct.
    defaulted: bool,
    /// `skip_serializing` or `skip_serializing_if`: left out of some rows.
    skipped_when_written: bool,
    file: PathBuf,
}

/// Reads past one `#[serde(...)]` item's value (`= expr` or a nested list).
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}

/// What a list of `#[serde(...)]` attributes says, read in one pass.
#[derive(Default)]
struct SerdeAttrs {
    /// Its words (`default`, `skip_serializing_if`, `rename_all`, …).
    words: BTreeSet<String>,
    /// The name `rename = "…"` or `rename(deserialize = "…")` gives the item to be read by.
    read_as: Option<String>,
}

fn serde_attrs(attrs: &[syn::Attribute]) -> SerdeAttrs {
    let mut out = SerdeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if let Some(word) = meta.path.get_ident() {
                out.words.insert(word.to_string());
            }
            if !meta.path.is_ident("rename") {
                return skip_value(&meta);
            }
            if meta.input.peek(syn::Token![=]) {
                out.read_as = Some(meta.value()?.parse::<syn::LitStr>()?.value());
                return Ok(());
            }
            meta.parse_nested_meta(|direction| {
                let value = direction.value()?.parse::<syn::LitStr>()?.value();
                if direction.path.is_ident("deserialize") {
                    out.read_as = Some(value);
                }
                Ok(())
            })
        })
        .unwrap_or_else(|e| panic!("a #[serde] attribute this guard cannot read: {e}"));
    }
    out
}

/// Every named field of every struct and struct variant in one parsed file.
fn declared_in(file: &syn::File, path: &Path) -> Vec<Declared> {
    struct Collect<'p> {
        path: &'p Path,
        out: Vec<Declared>,
    }
    impl Collect<'_> {
        fn fields(&mut self, container: &str, container_attrs: &BTreeSet<String>, fields: &syn::Fields) {
            for field in fields.iter() {
                let Some(name) = &field.ident else { continue };
                let SerdeAttrs { words, read_as } = serde_attrs(&field.attrs);
                self.out.push(Declared {
                    container: container.to_string(),
                    field: name.to_string(),
                    read_as: read_as.unwrap_or_else(|| name.to_string()),
                    renamed_by_container: container_attrs.contains("rename_all"),
                    defaulted: words.contains("default") || container_attrs.contains("default"),
                    skipped_when_written: words.contains("skip_serializing") || words.contains("skip_serializing_if"),
                    file: self.path.to_path_buf(),
                });
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Collect<'_> {
        fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
            let SerdeAttrs { words, read_as } = serde_attrs(&item.attrs);
            self.fields(&read_as.unwrap_or_else(|| item.ident.to_string()), &words, &item.fields);
        }
        fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
            // A variant's fields are renamed by the variant's `rename_all` or the enum's
            // `rename_all_fields` (the enum's own `rename_all` renames its variants).
            let SerdeAttrs { words, read_as } = serde_attrs(&item.attrs);
            let renames_fields = words.contains("rename_all_fields");
            // The enum's name as serde-reflection registers it: its own, or its `rename`.
            let container = read_as.unwrap_or_else(|| item.ident.to_string());
            for variant in &item.variants {
                let mut words = serde_attrs(&variant.attrs).words;
                if renames_fields {
                    words.insert("rename_all".to_string());
                }
                self.fields(&container, &words, &variant.fields);
            }
        }
    }
    let mut collect = Collect { path, out: Vec::new() };
    syn::visit::Visit::visit_file(&mut collect, file);
    collect.out
}

/// Every named field declared under `src/`.
fn declared() -> Vec<Declared> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<Declared>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.extend(declared_in(&file, path.strip_prefix(root).unwrap_or(&path)));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    walk(root, &root.join("src"), &mut out);
    out
}

/// The rules the source holds of `now`'s types, against the stored layouts `then`: one line per
/// broken rule. Names are not unique (two `Subnet`s): a rule holds for every declaration of a name.
fn broken_in_source(then: &Layouts, now: &Layouts, declared: &[Declared]) -> Vec<String> {
    let stored_names: BTreeSet<&String> = now.values().flat_map(|registry| registry.keys()).collect();
    let mut out: Vec<String> = declared
        .iter()
        .filter(|d| d.skipped_when_written && stored_names.contains(&d.container))
        .map(|d| {
            format!(
                "{} > {}.{}: left out of some rows (skip_serializing): every later field would be read one place off",
                d.file.display(),
                d.container,
                d.field
            )
        })
        .collect();
    let renamed: BTreeSet<(&PathBuf, &String)> = declared
        .iter()
        .filter(|d| d.renamed_by_container && stored_names.contains(&d.container))
        .map(|d| (&d.file, &d.container))
        .collect();
    out.extend(renamed.into_iter().map(|(file, container)| {
        format!(
            "{} > {container}: #[serde(rename_all)] on a stored type: this guard matches fields by the names serde reads and does not apply rename_all",
            file.display()
        )
    }));
    for (stored, containers) in then {
        for (name, was) in containers {
            let (ContainerFormat::Struct(old), Some(ContainerFormat::Struct(new))) = (was, now.get(stored).and_then(|r| r.get(name)))
            else {
                continue;
            };
            for appended in new.iter().skip(old.len()) {
                let undefaulted = declared.iter().filter(|d| &d.container == name && d.read_as == appended.name && !d.defaulted);
                out.extend(undefaulted.map(|d| {
                    format!(
                        "{} > {name}.{}: appended without #[serde(default)]: the rows stored before it would not decode",
                        d.file.display(),
                        d.field
                    )
                }));
            }
        }
    }
    out
}

#[test]
fn stored_layouts_only_grow() {
    let now = layouts();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    let then: Layouts = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut broken = broken(&then, &now);
    broken.extend(broken_in_source(&then, &now, &declared()));
    assert!(
        broken.is_empty(),
        "stored rows would misread (fields are positional: append new ones last, with #[serde(default)], always written):\n{}",
        broken.join("\n")
    );
    if std::env::var_os("NETPLANE_WRITE_LAYOUTS").is_some() {
        std::fs::write(&path, written(&now)).unwrap();
        return;
    }
    assert!(
        then == now,
        "the stored layouts grew as the rules allow: write {GOLDEN} again (NETPLANE_WRITE_LAYOUTS=1 cargo test --lib store::layouts) and commit it"
    );
}

#[test]
fn the_source_check_refuses_an_undefaulted_appended_field_and_a_field_left_out_when_written() {
    let source: syn::File = syn::parse_quote! {
        #[derive(serde::Deserialize)]
        struct Row {
            id: String,
            #[serde(default, rename = "renamed")]
            grown: u32,
            bare: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            note: Option<String>,
            #[serde(rename = "wire")]
            spelled: u32,
            #[serde(rename(serialize = "out", deserialize = "in"))]
            both: u32,
        }
        #[serde(default)]
        struct Defaults { id: String, later: u32 }
        enum State { Up { #[serde(skip_serializing)] since: u32 } }
        struct Unstored { #[serde(skip_serializing_if = "Vec::is_empty")] list: Vec<u8> }
        #[serde(rename_all = "camelCase")]
        struct Cased { some_field: u32 }
        #[serde(rename_all = "camelCase")]
        struct UnstoredCased { some_field: u32 }
        #[serde(rename = "Stored")]
        struct Spelled { id: String, later: u32 }
    };
    let declared = declared_in(&source, Path::new("x.rs"));
    let structs = |fields: &[(&str, &[&str])]| -> Layouts {
        let registry = fields
            .iter()
            .map(|(name, fields)| {
                let fields = fields.iter().map(|f| Named { name: f.to_string(), value: serde_reflection::Format::Str }).collect();
                (name.to_string(), ContainerFormat::Struct(fields))
            })
            .chain([("State".to_string(), ContainerFormat::Enum(BTreeMap::new()))])
            .collect();
        Layouts::from([("Row".to_string(), registry)])
    };
    let then = structs(&[("Row", &["id"]), ("Defaults", &["id"]), ("Stored", &["id"])]);
    // Fields as serde reads them (and serde-reflection reports them): renamed ones by their new name.
    let now = structs(&[
        ("Row", &["id", "renamed", "bare", "note", "wire", "in"]),
        ("Defaults", &["id", "later"]),
        ("Cased", &["someField"]),
        ("Stored", &["id", "later"]),
    ]);
    let broken = broken_in_source(&then, &now, &declared);
    assert_eq!(broken.len(), 8, "{broken:#?}");
    assert!(broken.iter().any(|b| b.contains("Stored.later: appended without")), "a renamed struct: {broken:#?}");
    assert!(broken.iter().any(|b| b.contains("Row.spelled: appended without")), "renamed: {broken:#?}");
    assert!(broken.iter().any(|b| b.contains("Row.both: appended without")), "renamed for reading: {broken:#?}");
    assert!(broken.iter().any(|b| b.contains("Cased: #[serde(rename_all)] on a stored type")), "{broken:#?}");
    assert!(!broken.iter().any(|b| b.contains("UnstoredCased")), "{broken:#?}");
    assert!(broken.iter().any(|b| b.contains("Row.note: left out")), "{broken:#?}");
    assert!(broken.iter().any(|b| b.contains("State.since: left out")), "a struct variant's field: {broken:#?}");
    assert!(broken.iter().any(|b| b.contains("Row.bare: appended without")), "{broken:#?}");
    assert!(broken.iter().any(|b| b.contains("Row.note: appended without")), "{broken:#?}");
    assert!(!broken.iter().any(|b| b.contains(".grown:") || b.contains("Defaults.later:") || b.contains("Unstored.")), "{broken:#?}");
}

#[test]
fn the_guard_refuses_a_moved_or_removed_field_and_a_removed_variant() {
    let field = |name: &str| Named { name: name.to_string(), value: serde_reflection::Format::Str };
    let layout = |fields: Vec<Named<serde_reflection::Format>>, variants: &[&str]| -> Layouts {
        let variants = variants
            .iter()
            .enumerate()
            .map(|(i, v)| (i as u32, Named { name: v.to_string(), value: serde_reflection::VariantFormat::Unit }))
            .collect();
        let registry =
            Registry::from([("Row".to_string(), ContainerFormat::Struct(fields)), ("State".to_string(), ContainerFormat::Enum(variants))]);
        Layouts::from([("Row".to_string(), registry)])
    };
    let then = layout(vec![field("id"), field("name")], &["Up", "Down"]);
    assert!(
        broken(&then, &layout(vec![field("id"), field("name"), field("added")], &["Down", "Up", "New"])).is_empty(),
        "appends and reorders of variants"
    );
    let moved = broken(&then, &layout(vec![field("name"), field("id")], &["Up", "Down"]));
    assert!(moved.len() == 1 && moved[0].contains("stored fields were [id, name], now [name, id]"), "{moved:?}");
    assert_eq!(broken(&then, &layout(vec![field("id")], &["Up", "Down"])).len(), 1, "a removed field");
    assert_eq!(
        broken(&then, &layout(vec![field("id"), field("added"), field("name")], &["Up", "Down"])).len(),
        1,
        "a field inserted before another"
    );
    let gone = broken(&then, &layout(vec![field("id"), field("name")], &["Up"]));
    assert!(gone.len() == 1 && gone[0].contains("variant Down"), "{gone:?}");
}
