"""Compares netplane's descriptor set with the official Yandex Cloud descriptors.

Usage: contract_parity.py <netplane FileDescriptorSet file>

Every file netplane serves must equal the official file of the same name: package, imports,
file options, messages (fields with numbers, labels, types, oneofs and options, reserved ranges,
nested types), enums, services and methods with their options (google.api.http and
yandex.cloud.api.operation). Any difference is printed and fails the run.
"""
import importlib
import pkgutil
import sys

from google.protobuf import descriptor_pb2, descriptor_pool

import yandex.cloud  # the official SDK's generated package
import google.api.annotations_pb2  # noqa: F401
import google.rpc.error_details_pb2  # noqa: F401
import google.rpc.status_pb2  # noqa: F401

for mod in pkgutil.walk_packages(yandex.cloud.__path__, "yandex.cloud."):
    if mod.name.endswith("_pb2"):
        try:
            importlib.import_module(mod.name)
        except Exception:
            pass

POOL = descriptor_pool.Default()
problems = []


def opts(o):
    return o.SerializeToString(deterministic=True)


def compare_enum(path, ours, theirs):
    if {v.name: v.number for v in ours.value} != {v.name: v.number for v in theirs.value}:
        problems.append(f"{path}: enum values differ: ours {[(v.name, v.number) for v in ours.value]}, official {[(v.name, v.number) for v in theirs.value]}")
    if opts(ours.options) != opts(theirs.options):
        problems.append(f"{path}: enum options differ")


def field_key(m, f):
    oneof = m.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None
    return (f.name, f.label, f.type, f.type_name, oneof, f.proto3_optional, opts(f.options))


def compare_message(path, ours, theirs):
    of = {f.number: field_key(ours, f) for f in ours.field}
    tf = {f.number: field_key(theirs, f) for f in theirs.field}
    for n in sorted(set(of) | set(tf)):
        if of.get(n) != tf.get(n):
            problems.append(f"{path} field {n}: ours {of.get(n)}, official {tf.get(n)}")
    if sorted(o.name for o in ours.oneof_decl) != sorted(o.name for o in theirs.oneof_decl):
        problems.append(f"{path}: oneofs differ")
    for o, t in zip(sorted(ours.oneof_decl, key=lambda x: x.name), sorted(theirs.oneof_decl, key=lambda x: x.name)):
        if opts(o.options) != opts(t.options):
            problems.append(f"{path}.{o.name}: oneof options differ")
    ranges = lambda m: sorted((r.start, r.end) for r in m.reserved_range)
    if ranges(ours) != ranges(theirs) or sorted(ours.reserved_name) != sorted(theirs.reserved_name):
        problems.append(f"{path}: reserved differ: ours {ranges(ours)}, official {ranges(theirs)}")
    if opts(ours.options) != opts(theirs.options):
        problems.append(f"{path}: message options differ")
    compare_named(path, ours.nested_type, theirs.nested_type, compare_message, "message")
    compare_named(path, ours.enum_type, theirs.enum_type, compare_enum, "enum")


def compare_service(path, ours, theirs):
    om = {m.name: m for m in ours.method}
    tm = {m.name: m for m in theirs.method}
    for name in sorted(set(om) | set(tm)):
        o, t = om.get(name), tm.get(name)
        if o is None or t is None:
            problems.append(f"{path}.{name}: {'missing in ours' if o is None else 'not official'}")
            continue
        if (o.input_type, o.output_type, o.client_streaming, o.server_streaming) != (t.input_type, t.output_type, t.client_streaming, t.server_streaming):
            problems.append(f"{path}.{name}: signature differs")
        if opts(o.options) != opts(t.options):
            problems.append(f"{path}.{name}: method options differ: ours {o.options}, official {t.options}")


def compare_named(path, ours, theirs, compare, what):
    o = {x.name: x for x in ours}
    t = {x.name: x for x in theirs}
    for name in sorted(set(o) | set(t)):
        if name not in o:
            problems.append(f"{path}.{name}: official {what} missing in ours")
        elif name not in t:
            problems.append(f"{path}.{name}: {what} is not in the official contract")
        else:
            compare(f"{path}.{name}", o[name], t[name])


def main():
    ours = descriptor_pb2.FileDescriptorSet.FromString(open(sys.argv[1], "rb").read())
    checked = 0
    for f in ours.file:
        if f.name.startswith("google/protobuf/"):
            continue  # well-known types come with the protobuf runtime on both sides
        try:
            official = POOL.FindFileByName(f.name)
        except KeyError:
            problems.append(f"{f.name}: no official file of that name")
            continue
        t = descriptor_pb2.FileDescriptorProto()
        official.CopyToProto(t)
        if f.package != t.package:
            problems.append(f"{f.name}: package {f.package} != {t.package}")
        if sorted(f.dependency) != sorted(t.dependency):
            problems.append(f"{f.name}: imports differ: ours {sorted(f.dependency)}, official {sorted(t.dependency)}")
        if opts(f.options) != opts(t.options):
            problems.append(f"{f.name}: file options differ: ours {f.options}, official {t.options}")
        compare_named(f.package, f.message_type, t.message_type, compare_message, "message")
        compare_named(f.package, f.enum_type, t.enum_type, compare_enum, "enum")
        compare_named(f.package, f.service, t.service, compare_service, "service")
        ext = lambda fd: sorted((x.extendee, x.name, x.number, x.type, x.type_name) for x in fd.extension)
        if ext(f) != ext(t):
            problems.append(f"{f.name}: extensions differ: ours {ext(f)}, official {ext(t)}")
        checked += 1
    for p in problems:
        print(p)
    if problems:
        print(f"contract parity: {len(problems)} differences in {checked} files")
        return 1
    print(f"contract parity: OK ({checked} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
