"""The call sequence of the yandex Terraform provider for instances with disks, with the official
SDK's generated stubs (each operation's metadata and response type checked as the Go SDK v2 does).

Usage: disk_image_flow.py <host:port>

Zones and disk types listed; image by family and by id; a data disk; an instance with a boot disk
from the image and the data disk as secondary; the refresh (instance, then each disk); a boot
disk below the image's minimum refused; an attached disk's delete refused; detach and attach
again; instance delete removes the auto-delete disk and leaves the other detached; everything
deleted.
"""
import sys

import grpc
from google.protobuf import empty_pb2
from yandex.cloud.compute.v1 import disk_pb2, image_pb2, instance_pb2
from yandex.cloud.compute.v1 import disk_service_pb2 as dsvc
from yandex.cloud.compute.v1 import disk_type_service_pb2 as tsvc
from yandex.cloud.compute.v1 import image_service_pb2 as imsvc
from yandex.cloud.compute.v1 import instance_service_pb2 as isvc
from yandex.cloud.compute.v1 import zone_service_pb2 as zsvc
from yandex.cloud.compute.v1.disk_service_pb2_grpc import DiskServiceStub
from yandex.cloud.compute.v1.disk_type_service_pb2_grpc import DiskTypeServiceStub
from yandex.cloud.compute.v1.image_service_pb2_grpc import ImageServiceStub
from yandex.cloud.compute.v1.instance_service_pb2_grpc import InstanceServiceStub
from yandex.cloud.compute.v1.zone_service_pb2_grpc import ZoneServiceStub
from yandex.cloud.operation.operation_service_pb2_grpc import OperationServiceStub

from yandex.cloud.vpc.v1 import network_pb2, subnet_pb2
from yandex.cloud.vpc.v1 import network_service_pb2 as nsvc
from yandex.cloud.vpc.v1 import subnet_service_pb2 as ssvc
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub
from yandex.cloud.vpc.v1.subnet_service_pb2_grpc import SubnetServiceStub

from operations import check, refused, wait  # a sibling module: what every flow shares

FOLDER = "b1gdiskfolder000000"
GIB = 2**30


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    ops = OperationServiceStub(channel)
    zones, types = ZoneServiceStub(channel), DiskTypeServiceStub(channel)
    images, disks, instances = ImageServiceStub(channel), DiskServiceStub(channel), InstanceServiceStub(channel)

    zone_ids = [z.id for z in zones.List(zsvc.ListZonesRequest()).zones]
    check("ru-central1-a" in zone_ids and "ru-central1-d" in zone_ids, str(zone_ids))
    type_ids = [t.id for t in types.List(tsvc.ListDiskTypesRequest()).disk_types]
    check(type_ids[:2] == ["network-hdd", "network-ssd"], str(type_ids))

    # data "yandex_compute_image" { family = "ubuntu-2204-lts" }, then the instance's ImageService.Get.
    latest = images.GetLatestByFamily(imsvc.GetImageLatestByFamilyRequest(folder_id="standard-images", family="ubuntu-2204-lts"))
    check(latest.family == "ubuntu-2204-lts" and latest.status == image_pb2.Image.READY, str(latest))
    check(latest.os.type == image_pb2.Os.LINUX and latest.HasField("os"), str(latest))
    image = images.Get(imsvc.GetImageRequest(image_id=latest.id))
    check(image == latest, "Get and GetLatestByFamily disagree")
    refused(
        lambda: images.GetLatestByFamily(imsvc.GetImageLatestByFamilyRequest(folder_id="standard-images", family="no-such-family")),
        grpc.StatusCode.NOT_FOUND,
    )

    _, network = wait(ops, NetworkServiceStub(channel).Create(nsvc.CreateNetworkRequest(folder_id=FOLDER, name="tf-net")), nsvc.CreateNetworkMetadata, network_pb2.Network)
    subnet_request = ssvc.CreateSubnetRequest(folder_id=FOLDER, network_id=network.id, zone_id="ru-central1-a", v4_cidr_blocks=["10.20.0.0/24"])
    _, subnet = wait(ops, SubnetServiceStub(channel).Create(subnet_request), ssvc.CreateSubnetMetadata, subnet_pb2.Subnet)

    # yandex_compute_disk "data".
    op = disks.Create(dsvc.CreateDiskRequest(folder_id=FOLDER, name="data", type_id="network-ssd", zone_id="ru-central1-a", size=20 * GIB, block_size=4096))
    meta, data = wait(ops, op, dsvc.CreateDiskMetadata, disk_pb2.Disk)
    check(data.id == meta.disk_id and data.status == disk_pb2.Disk.READY and data.size == 20 * GIB, str(data))
    check(data.HasField("disk_placement_policy") and not data.instance_ids, str(data))

    # A boot disk below the image's minimum is refused, and leaves nothing behind.
    boot_spec = lambda size: isvc.AttachedDiskSpec(
        auto_delete=True, disk_spec=isvc.AttachedDiskSpec.DiskSpec(type_id="network-hdd", size=size, image_id=image.id)
    )
    request = lambda size: isvc.CreateInstanceRequest(
        folder_id=FOLDER,
        name="tf-vm",
        zone_id="ru-central1-a",
        platform_id="standard-v3",
        resources_spec=isvc.ResourcesSpec(memory=2 * GIB, cores=2),
        boot_disk_spec=boot_spec(size),
        secondary_disk_specs=[isvc.AttachedDiskSpec(disk_id=data.id, mode=isvc.AttachedDiskSpec.READ_WRITE, device_name="data")],
        network_interface_specs=[isvc.NetworkInterfaceSpec(subnet_id=subnet.id, primary_v4_address_spec=isvc.PrimaryAddressSpec())],
    )
    refused(lambda: instances.Create(request(image.min_disk_size - 4 * 2**20)), grpc.StatusCode.INVALID_ARGUMENT, "boot_disk_spec.disk_spec.size")
    check(not disks.Get(dsvc.GetDiskRequest(disk_id=data.id)).instance_ids, "a refused create took the data disk")

    # yandex_compute_instance with the boot disk from the image and the data disk.
    meta, vm = wait(ops, instances.Create(request(15 * GIB)), isvc.CreateInstanceMetadata, instance_pb2.Instance)
    check(vm.id == meta.instance_id and vm.status == instance_pb2.Instance.RUNNING, str(vm))
    for field in ("resources", "scheduling_policy", "placement_policy", "metadata_options"):
        check(vm.HasField(field), f"instance lacks {field}")

    # The refresh: instance, then each disk.
    vm = instances.Get(isvc.GetInstanceRequest(instance_id=vm.id, view=isvc.FULL))
    boot = disks.Get(dsvc.GetDiskRequest(disk_id=vm.boot_disk.disk_id))
    check(boot.source_image_id == image.id and boot.size == 15 * GIB and boot.type_id == "network-hdd", str(boot))
    check(list(boot.instance_ids) == [vm.id] and boot.block_size == 4096 and boot.product_ids == image.product_ids, str(boot))
    check(vm.boot_disk.auto_delete and vm.boot_disk.mode == instance_pb2.AttachedDisk.READ_WRITE, str(vm.boot_disk))
    check([(d.disk_id, d.device_name, d.auto_delete) for d in vm.secondary_disks] == [(data.id, "data", False)], str(vm.secondary_disks))
    check(list(disks.Get(dsvc.GetDiskRequest(disk_id=data.id)).instance_ids) == [vm.id], "data disk does not name its instance")

    # An attached disk's delete is refused synchronously; so is the boot disk's detach.
    refused(lambda: disks.Delete(dsvc.DeleteDiskRequest(disk_id=data.id)), grpc.StatusCode.FAILED_PRECONDITION, "attached to instance")
    refused(
        lambda: instances.DetachDisk(isvc.DetachInstanceDiskRequest(instance_id=vm.id, disk_id=boot.id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )

    # secondary_disk changed: detach, then attach again (by device name this time).
    op = instances.DetachDisk(isvc.DetachInstanceDiskRequest(instance_id=vm.id, device_name="data"))
    meta, vm = wait(ops, op, isvc.DetachInstanceDiskMetadata, instance_pb2.Instance)
    check(meta.disk_id == data.id and not vm.secondary_disks, str(vm))
    check(not disks.Get(dsvc.GetDiskRequest(disk_id=data.id)).instance_ids, "detached disk still names the instance")
    spec = isvc.AttachedDiskSpec(disk_id=data.id, mode=isvc.AttachedDiskSpec.READ_WRITE, device_name="data", auto_delete=False)
    meta, vm = wait(ops, instances.AttachDisk(isvc.AttachInstanceDiskRequest(instance_id=vm.id, attached_disk_spec=spec)), isvc.AttachInstanceDiskMetadata, instance_pb2.Instance)
    check(meta.disk_id == data.id and [d.disk_id for d in vm.secondary_disks] == [data.id], str(vm))

    # Disk update: grow and rename; shrinking is refused.
    op = disks.Update(dsvc.UpdateDiskRequest(disk_id=data.id, update_mask={"paths": ["size"]}, size=30 * GIB))
    _, grown = wait(ops, op, dsvc.UpdateDiskMetadata, disk_pb2.Disk)
    check(grown.size == 30 * GIB, str(grown))
    refused(
        lambda: disks.Update(dsvc.UpdateDiskRequest(disk_id=data.id, update_mask={"paths": ["size"]}, size=10 * GIB)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "shrink",
    )

    # Instance delete: the auto-delete boot disk goes, the data disk stays, detached.
    wait(ops, instances.Delete(isvc.DeleteInstanceRequest(instance_id=vm.id)), isvc.DeleteInstanceMetadata, empty_pb2.Empty)
    refused(lambda: disks.Get(dsvc.GetDiskRequest(disk_id=boot.id)), grpc.StatusCode.NOT_FOUND)
    data = disks.Get(dsvc.GetDiskRequest(disk_id=data.id))
    check(not data.instance_ids and data.status == disk_pb2.Disk.READY, str(data))
    listed = disks.List(dsvc.ListDisksRequest(folder_id=FOLDER)).disks
    check([d.id for d in listed] == [data.id], str(listed))

    wait(ops, disks.Delete(dsvc.DeleteDiskRequest(disk_id=data.id)), dsvc.DeleteDiskMetadata, empty_pb2.Empty)
    check(not disks.List(dsvc.ListDisksRequest(folder_id=FOLDER)).disks, "disks left over")
    print("disk image flow: OK")


if __name__ == "__main__":
    main()
