//! `yandex.cloud.compute.v1.InstanceService`: parse and validate, call the service, encode.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use prost::Message;

use tonic::{Request, Response, Status};

use super::encoded::{self, EncodingMemo};
use super::status::{self, parts};
use super::{convert, fields, reply, respond, respond_operation};
use crate::api::request_id::RequestContext;
use crate::domain::filter::INSTANCE_FIELDS;
use crate::domain::instance::{Instance, InstancePatch, Transition};
use crate::domain::validate::{self, LabelRules, Violations};
use crate::error::Result;
use crate::ops::Movable;
use crate::proto::yandex::cloud::access;
use crate::proto::yandex::cloud::compute::v1 as pb;
use crate::proto::yandex::cloud::compute::v1::instance_service_server::InstanceService;
use crate::proto::yandex::cloud::operation::Operation as PbOperation;
use crate::service::ComputeArea;
use crate::service::compute::CreateInstance;
use crate::service::interfaces::InterfaceUpdate;

pub struct InstanceApi {
    services: ComputeArea,
    /// Get and List answer from these (`encoded`); the REST gateway's typed calls convert.
    encodings: EncodingMemo<Instance>,
}

impl InstanceApi {
    pub fn new(services: ComputeArea) -> Self {
        InstanceApi { services, encodings: EncodingMemo::default() }
    }

    /// The instance's contract encoding, made once per value its row holds.
    fn encoded(&self, instance: &Arc<Instance>) -> Result<Bytes> {
        self.encodings.get_or_encode(instance, |i| Ok(convert::instance(i)?.encode_to_vec()))
    }

    /// Stop, Start, Restart and Delete: the same request shape, one status transition each.
    async fn transition(
        &self,
        ctx: Option<RequestContext>,
        id: &str,
        transition: Transition,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        let result = async {
            fields::require_id("instance_id", id)?;
            convert::operation_answer(&self.services.transition_instance(id, transition).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }
}

fn unimplemented<T>(method: &str) -> std::result::Result<Response<T>, Status> {
    status::unimplemented("yandex.cloud.compute.v1.InstanceService", method)
}

fn create_command(r: &pb::CreateInstanceRequest) -> Result<CreateInstance> {
    let mut v = Violations::new();
    v.id("folder_id", &r.folder_id);
    v.pattern("name", &r.name, &validate::COMPUTE_NAME);
    v.description("description", &r.description);
    v.labels("labels", &r.labels, LabelRules::Compute);
    v.zone("zone_id", &r.zone_id);
    v.required("platform_id", &r.platform_id);
    let resources = fields::resources(&mut v, "resources_spec", r.resources_spec.as_ref());
    let boot_disk = match &r.boot_disk_spec {
        Some(spec) => fields::disk_spec(&mut v, "boot_disk_spec", spec),
        None => {
            v.add("boot_disk_spec", "required field is not set");
            fields::disk_spec(&mut Violations::new(), "", &pb::AttachedDiskSpec::default())
        }
    };
    if r.secondary_disk_specs.len() > 3 {
        v.add("secondary_disk_specs", "at most 3 secondary disks are allowed");
    }
    let secondary_disks = r
        .secondary_disk_specs
        .iter()
        .enumerate()
        .map(|(i, d)| fields::disk_spec(&mut v, &format!("secondary_disk_specs[{i}]"), d))
        .collect();
    if r.network_interface_specs.is_empty() {
        v.add("network_interface_specs", "at least one network interface is required");
    }
    let interfaces = r
        .network_interface_specs
        .iter()
        .enumerate()
        .map(|(i, s)| fields::interface_spec(&mut v, &format!("network_interface_specs[{i}]"), s))
        .collect();
    v.pattern("hostname", &r.hostname, &validate::COMPUTE_NAME);
    fields::grace_period(&mut v, "maintenance_grace_period", r.maintenance_grace_period.as_ref());
    v.max_len("reserved_instance_pool_id", &r.reserved_instance_pool_id, 50);
    v.finish()?;
    Ok(CreateInstance {
        folder_id: r.folder_id.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        labels: r.labels.clone(),
        zone_id: r.zone_id.clone(),
        platform_id: r.platform_id.clone(),
        resources,
        metadata: r.metadata.clone(),
        boot_disk,
        secondary_disks,
        interfaces,
        hostname: r.hostname.clone(),
        service_account_id: r.service_account_id.clone(),
        settings: convert::create_settings(r),
    })
}

/// AddOneToOneNat and RemoveOneToOneNat pick the interface by index or by internal address.
fn nic_selector(v: &mut Violations, index: &str, internal_address: &str) {
    if index.is_empty() && internal_address.is_empty() {
        v.add("network_interface_index", "set network_interface_index or internal_address");
    }
    if !internal_address.is_empty() {
        fields::ipv4(v, "internal_address", internal_address);
    }
}

const INTERFACE_UPDATABLE: &[&str] = &[
    "subnet_id",
    "security_group_ids",
    "primary_v4_address_spec",
    "primary_v4_address_spec.address",
    "primary_v4_address_spec.dns_record_specs",
];

fn interface_update(r: &pb::UpdateInstanceNetworkInterfaceRequest) -> Result<InterfaceUpdate> {
    let mut v = Violations::new();
    v.id("instance_id", &r.instance_id);
    v.required("network_interface_index", &r.network_interface_index);
    let implied = [
        ("subnet_id", !r.subnet_id.is_empty()),
        ("security_group_ids", !r.security_group_ids.is_empty()),
        ("primary_v4_address_spec", r.primary_v4_address_spec.is_some()),
    ];
    let paths = fields::paths(r.update_mask.as_ref(), &implied);
    fields::check_mask(&mut v, &paths, INTERFACE_UPDATABLE);
    fields::no_ipv6(&mut v, "primary_v6_address_spec", r.primary_v6_address_spec.as_ref());
    let has = |f: &str| paths.iter().any(|p| p == f);
    let mut update = InterfaceUpdate::default();
    if has("subnet_id") {
        v.id("subnet_id", &r.subnet_id);
        update.subnet_id = Some(r.subnet_id.clone());
    }
    if has("security_group_ids") {
        update.security_group_ids = Some(r.security_group_ids.clone());
    }
    let spec = r.primary_v4_address_spec.clone().unwrap_or_default();
    if spec.one_to_one_nat_spec.is_some() {
        v.add("primary_v4_address_spec.one_to_one_nat_spec", "use AddOneToOneNat and RemoveOneToOneNat to change one-to-one NAT");
    }
    if has("primary_v4_address_spec") || has("primary_v4_address_spec.address") {
        update.address = fields::ipv4(&mut v, "primary_v4_address_spec.address", &spec.address);
    }
    if has("primary_v4_address_spec") || has("primary_v4_address_spec.dns_record_specs") {
        update.dns_records = Some(fields::dns_records(&mut v, "primary_v4_address_spec.dns_record_specs", &spec.dns_record_specs));
    }
    v.finish()?;
    Ok(update)
}

const UPDATABLE: &[&str] = &[
    "name",
    "description",
    "labels",
    "platform_id",
    "resources_spec",
    "metadata",
    "service_account_id",
    "scheduling_policy",
    "network_settings",
    "placement_policy",
    "maintenance_policy",
    "maintenance_grace_period",
    "metadata_options",
    "serial_port_settings",
    "application",
    "reserved_instance_pool_id",
];

/// Without a mask, every field the request sets is updated.
fn implied_mask(r: &pb::UpdateInstanceRequest) -> [(&'static str, bool); 16] {
    [
        ("name", !r.name.is_empty()),
        ("description", !r.description.is_empty()),
        ("labels", !r.labels.is_empty()),
        ("platform_id", !r.platform_id.is_empty()),
        ("resources_spec", r.resources_spec.is_some()),
        ("metadata", !r.metadata.is_empty()),
        ("service_account_id", !r.service_account_id.is_empty()),
        ("scheduling_policy", r.scheduling_policy.is_some()),
        ("network_settings", r.network_settings.is_some()),
        ("placement_policy", r.placement_policy.is_some()),
        ("maintenance_policy", r.maintenance_policy != 0),
        ("maintenance_grace_period", r.maintenance_grace_period.is_some()),
        ("metadata_options", r.metadata_options.is_some()),
        ("serial_port_settings", r.serial_port_settings.is_some()),
        ("application", r.application.is_some()),
        ("reserved_instance_pool_id", !r.reserved_instance_pool_id.is_empty()),
    ]
}

fn update_patch(r: &pb::UpdateInstanceRequest) -> Result<InstancePatch> {
    let mut v = Violations::new();
    v.id("instance_id", &r.instance_id);
    let paths = fields::paths(r.update_mask.as_ref(), &implied_mask(r));
    fields::check_mask(&mut v, &paths, UPDATABLE);
    let has = |f: &str| paths.iter().any(|p| p == f);
    let common = fields::common(&mut v, &paths, (&r.name, &r.description, &r.labels), &validate::COMPUTE_NAME, LabelRules::Compute);
    let mut patch = InstancePatch { name: common.name, description: common.description, labels: common.labels, ..Default::default() };
    if has("platform_id") {
        v.required("platform_id", &r.platform_id);
        patch.platform_id = Some(r.platform_id.clone());
    }
    if has("resources_spec") {
        patch.resources = Some(fields::resources(&mut v, "resources_spec", r.resources_spec.as_ref()));
    }
    if has("metadata") {
        patch.metadata = Some(r.metadata.clone());
    }
    if has("service_account_id") {
        patch.service_account_id = Some(r.service_account_id.clone());
    }
    fields::grace_period(&mut v, "maintenance_grace_period", r.maintenance_grace_period.as_ref());
    patch.settings = convert::update_settings(r, &paths);
    v.finish()?;
    Ok(patch)
}

#[tonic::async_trait]
impl InstanceService for InstanceApi {
    async fn get(&self, req: Request<pb::GetInstanceRequest>) -> std::result::Result<Response<pb::Instance>, Status> {
        let (ctx, r) = parts(req);
        let found = async {
            fields::require_id("instance_id", &r.instance_id)?;
            self.services.get_instance(&r.instance_id).await
        };
        let found = found.await;
        if reply::wants_typed(ctx.as_ref()) {
            return respond(ctx.as_ref(), found.and_then(|i| convert::instance(&i)));
        }
        encoded::respond_encoded(ctx.as_ref(), found.and_then(|i| self.encoded(&i)))
    }

    async fn list(&self, req: Request<pb::ListInstancesRequest>) -> std::result::Result<Response<pb::ListInstancesResponse>, Status> {
        let (ctx, r) = parts(req);
        let page = async {
            let cmd =
                fields::ordered_list(&r.folder_id, r.page_size, &r.page_token, &r.filter, &r.order_by, INSTANCE_FIELDS, INSTANCE_FIELDS)?;
            self.services.list_instances(cmd).await
        };
        let page = page.await;
        if reply::wants_typed(ctx.as_ref()) {
            let typed = page.and_then(|page| {
                Ok(pb::ListInstancesResponse {
                    instances: page.items.iter().map(|i| convert::instance(i)).collect::<Result<_>>()?,
                    next_page_token: page.next_page_token,
                })
            });
            return respond(ctx.as_ref(), typed);
        }
        let encoded = page.and_then(|page| {
            let items = page.items.iter().map(|i| self.encoded(i)).collect::<Result<Vec<_>>>()?;
            Ok(encoded::list_response(&items, &page.next_page_token))
        });
        encoded::respond_encoded(ctx.as_ref(), encoded)
    }

    async fn create(&self, req: Request<pb::CreateInstanceRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async { convert::operation_answer(&self.services.create_instance(create_command(&r)?).await?) };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateInstanceRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async { convert::operation_answer(&self.services.update_instance(&r.instance_id, update_patch(&r)?).await?) };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn delete(&self, req: Request<pb::DeleteInstanceRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        self.transition(ctx, &r.instance_id, Transition::Delete).await
    }

    async fn update_metadata(&self, req: Request<pb::UpdateInstanceMetadataRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("instance_id", &r.instance_id)?;
            let upsert: BTreeMap<String, String> = r.upsert.clone().into_iter().collect();
            convert::operation_answer(&self.services.update_instance_metadata(&r.instance_id, r.delete.clone(), upsert).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn get_serial_port_output(
        &self,
        _: Request<pb::GetInstanceSerialPortOutputRequest>,
    ) -> std::result::Result<Response<pb::GetInstanceSerialPortOutputResponse>, Status> {
        unimplemented("GetSerialPortOutput")
    }

    async fn stop(&self, req: Request<pb::StopInstanceRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        self.transition(ctx, &r.instance_id, Transition::Stop).await
    }

    async fn start(&self, req: Request<pb::StartInstanceRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        self.transition(ctx, &r.instance_id, Transition::Start).await
    }

    async fn restart(&self, req: Request<pb::RestartInstanceRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        self.transition(ctx, &r.instance_id, Transition::Restart).await
    }

    async fn attach_disk(&self, req: Request<pb::AttachInstanceDiskRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("instance_id", &r.instance_id);
            let spec = match &r.attached_disk_spec {
                Some(spec) => fields::disk_spec(&mut v, "attached_disk_spec", spec),
                None => {
                    v.add("attached_disk_spec", "required field is not set");
                    fields::disk_spec(&mut Violations::new(), "", &pb::AttachedDiskSpec::default())
                }
            };
            v.finish()?;
            convert::operation_answer(&self.services.attach_disk(&r.instance_id, spec).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn detach_disk(&self, req: Request<pb::DetachInstanceDiskRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        use pb::detach_instance_disk_request::Disk;
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("instance_id", &r.instance_id);
            let (disk_id, device_name) = match &r.disk {
                Some(Disk::DiskId(id)) => {
                    v.id("disk_id", id);
                    (id.clone(), String::new())
                }
                Some(Disk::DeviceName(name)) => {
                    if !fields::is_device_name(name) {
                        v.add("device_name", "must match [a-z][a-z0-9-_]{,19}");
                    }
                    (String::new(), name.clone())
                }
                None => {
                    v.add("disk_id", "exactly one of disk_id and device_name must be set");
                    (String::new(), String::new())
                }
            };
            v.finish()?;
            convert::operation_answer(&self.services.detach_disk(&r.instance_id, &disk_id, &device_name).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn attach_filesystem(
        &self,
        _: Request<pb::AttachInstanceFilesystemRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        unimplemented("AttachFilesystem")
    }

    async fn detach_filesystem(
        &self,
        _: Request<pb::DetachInstanceFilesystemRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        unimplemented("DetachFilesystem")
    }

    async fn add_one_to_one_nat(
        &self,
        req: Request<pb::AddInstanceOneToOneNatRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("instance_id", &r.instance_id);
            nic_selector(&mut v, &r.network_interface_index, &r.internal_address);
            let spec = fields::nat_spec(&mut v, "one_to_one_nat_spec", &r.one_to_one_nat_spec.clone().unwrap_or_default());
            v.finish()?;
            convert::operation_answer(
                &self.services.add_one_to_one_nat(&r.instance_id, &r.network_interface_index, &r.internal_address, spec).await?,
            )
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn remove_one_to_one_nat(
        &self,
        req: Request<pb::RemoveInstanceOneToOneNatRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("instance_id", &r.instance_id);
            nic_selector(&mut v, &r.network_interface_index, &r.internal_address);
            v.finish()?;
            convert::operation_answer(
                &self.services.remove_one_to_one_nat(&r.instance_id, &r.network_interface_index, &r.internal_address).await?,
            )
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update_network_interface(
        &self,
        req: Request<pb::UpdateInstanceNetworkInterfaceRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let update = interface_update(&r)?;
            convert::operation_answer(&self.services.update_network_interface(&r.instance_id, &r.network_interface_index, update).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn attach_network_interface(
        &self,
        req: Request<pb::AttachInstanceNetworkInterfaceRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("instance_id", &r.instance_id);
            v.required("network_interface_index", &r.network_interface_index);
            v.id("subnet_id", &r.subnet_id);
            if r.security_group_ids.is_empty() {
                v.add("security_group_ids", "at least one security group is required");
            }
            let spec = fields::interface_spec(
                &mut v,
                "",
                &pb::NetworkInterfaceSpec {
                    index: r.network_interface_index.clone(),
                    subnet_id: r.subnet_id.clone(),
                    primary_v4_address_spec: r.primary_v4_address_spec.clone(),
                    primary_v6_address_spec: None,
                    security_group_ids: r.security_group_ids.clone(),
                },
            );
            v.finish()?;
            convert::operation_answer(&self.services.attach_network_interface(&r.instance_id, spec).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn detach_network_interface(
        &self,
        req: Request<pb::DetachInstanceNetworkInterfaceRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("instance_id", &r.instance_id);
            v.required("network_interface_index", &r.network_interface_index);
            v.finish()?;
            convert::operation_answer(&self.services.detach_network_interface(&r.instance_id, &r.network_interface_index).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_operations(
        &self,
        req: Request<pb::ListInstanceOperationsRequest>,
    ) -> std::result::Result<Response<pb::ListInstanceOperationsResponse>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("instance_id", &r.instance_id);
            v.page(r.page_size, &r.page_token);
            v.finish()?;
            let page = self.services.list_instance_operations(&r.instance_id, validate::page_size(r.page_size), &r.page_token).await?;
            Ok(pb::ListInstanceOperationsResponse { operations: convert::operations(&page.items)?, next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn simulate_maintenance_event(
        &self,
        _: Request<pb::SimulateInstanceMaintenanceEventRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        unimplemented("SimulateMaintenanceEvent")
    }

    async fn r#move(&self, req: Request<pb::MoveInstanceRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::move_target("instance_id", &r.instance_id, &r.destination_folder_id)?;
            convert::operation_answer(&self.services.move_resource(Movable::Instance, &r.instance_id, &r.destination_folder_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn relocate(&self, _: Request<pb::RelocateInstanceRequest>) -> std::result::Result<Response<PbOperation>, Status> {
        unimplemented("Relocate")
    }

    async fn list_access_bindings(
        &self,
        _: Request<access::ListAccessBindingsRequest>,
    ) -> std::result::Result<Response<access::ListAccessBindingsResponse>, Status> {
        unimplemented("ListAccessBindings")
    }

    async fn set_access_bindings(
        &self,
        _: Request<access::SetAccessBindingsRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        unimplemented("SetAccessBindings")
    }

    async fn update_access_bindings(
        &self,
        _: Request<access::UpdateAccessBindingsRequest>,
    ) -> std::result::Result<Response<PbOperation>, Status> {
        unimplemented("UpdateAccessBindings")
    }
}
