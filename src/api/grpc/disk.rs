//! `yandex.cloud.compute.v1.DiskService`: parse and validate, call the service, encode.

use tonic::{Request, Response, Status};

use super::status::{self, parts};
use super::{convert, fields, respond, respond_operation};
use crate::domain::disk::{DiskPatch, DiskSource};
use crate::domain::filter::DISK_FIELDS;
use crate::domain::validate::{self, LabelRules, Violations};
use crate::ops::Movable;
use crate::proto::yandex::cloud::access;
use crate::proto::yandex::cloud::compute::v1 as pb;
use crate::proto::yandex::cloud::compute::v1::disk_service_server::DiskService;
use crate::proto::yandex::cloud::operation::Operation as PbOperation;
use crate::service::DiskArea;
use crate::service::disks::{CreateDisk, NewDisk};

type Reply<T> = std::result::Result<Response<T>, Status>;

const SERVICE: &str = "yandex.cloud.compute.v1.DiskService";
/// `CreateDiskRequest.size` (4 MiB to 26 TiB) and `UpdateDiskRequest.size` (to 4 TiB), as the
/// contract's validation bounds them.
const CREATE_SIZES: std::ops::RangeInclusive<i64> = 4_194_304..=28_587_302_322_176;
const UPDATE_SIZES: std::ops::RangeInclusive<i64> = 4_194_304..=4_398_046_511_104;

pub struct DiskApi {
    services: DiskArea,
}

impl DiskApi {
    pub fn new(services: DiskArea) -> Self {
        DiskApi { services }
    }
}

#[tonic::async_trait]
impl DiskService for DiskApi {
    async fn get(&self, req: Request<pb::GetDiskRequest>) -> Reply<pb::Disk> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("disk_id", &r.disk_id)?;
            Ok(convert::disk_resource(&self.services.get_disk(&r.disk_id).await?))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list(&self, req: Request<pb::ListDisksRequest>) -> Reply<pb::ListDisksResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let cmd = fields::ordered_list(&r.folder_id, r.page_size, &r.page_token, &r.filter, &r.order_by, DISK_FIELDS, DISK_FIELDS)?;
            let page = self.services.list_disks(cmd).await?;
            Ok(pb::ListDisksResponse {
                disks: page.items.iter().map(|d| convert::disk_resource(d)).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create(&self, req: Request<pb::CreateDiskRequest>) -> Reply<PbOperation> {
        use pb::create_disk_request::Source;
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            v.pattern("name", &r.name, &validate::COMPUTE_NAME);
            v.description("description", &r.description);
            v.labels("labels", &r.labels, LabelRules::Compute);
            v.zone("zone_id", &r.zone_id);
            if !CREATE_SIZES.contains(&r.size) {
                v.add("size", format!("must be between {} and {} bytes", CREATE_SIZES.start(), CREATE_SIZES.end()));
            }
            v.max_len("kms_key_id", &r.kms_key_id, 50);
            let source = match &r.source {
                None => DiskSource::Empty,
                Some(Source::ImageId(id)) => {
                    v.id("image_id", id);
                    DiskSource::Image(id.clone())
                }
                Some(Source::SnapshotId(id)) => {
                    v.id("snapshot_id", id);
                    DiskSource::Snapshot(id.clone())
                }
            };
            let disk = fields::new_disk(
                &mut v,
                "",
                NewDisk {
                    name: r.name.clone(),
                    description: r.description.clone(),
                    labels: r.labels.clone(),
                    type_id: r.type_id.clone(),
                    size: Some(r.size),
                    block_size: r.block_size,
                    source,
                    placement_group_id: r.disk_placement_policy.as_ref().map(|p| p.placement_group_id.clone()).unwrap_or_default(),
                    size_field: "size".into(),
                },
            );
            v.finish()?;
            let cmd = CreateDisk { folder_id: r.folder_id.clone(), zone_id: r.zone_id.clone(), disk };
            convert::operation_answer(&self.services.create_disk(cmd).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateDiskRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("disk_id", &r.disk_id);
            let implied = [
                ("name", !r.name.is_empty()),
                ("description", !r.description.is_empty()),
                ("labels", !r.labels.is_empty()),
                ("size", r.size != 0),
                ("disk_placement_policy", r.disk_placement_policy.is_some()),
            ];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            let allowed = ["name", "description", "labels", "size", "disk_placement_policy", "disk_placement_policy.placement_group_id"];
            fields::check_mask(&mut v, &paths, &allowed);
            let has = |f: &str| paths.iter().any(|p| p == f);
            let mut patch = DiskPatch::default();
            if has("name") {
                v.pattern("name", &r.name, &validate::COMPUTE_NAME);
                patch.name = Some(r.name.clone());
            }
            if has("description") {
                v.description("description", &r.description);
                patch.description = Some(r.description.clone());
            }
            if has("labels") {
                v.labels("labels", &r.labels, LabelRules::Compute);
                patch.labels = Some(r.labels.clone());
            }
            if has("size") {
                if !UPDATE_SIZES.contains(&r.size) {
                    v.add("size", format!("must be between {} and {} bytes", UPDATE_SIZES.start(), UPDATE_SIZES.end()));
                }
                patch.size = Some(r.size);
            }
            if has("disk_placement_policy") || has("disk_placement_policy.placement_group_id") {
                patch.placement_group_id = Some(r.disk_placement_policy.as_ref().map(|p| p.placement_group_id.clone()).unwrap_or_default());
            }
            v.finish()?;
            convert::operation_answer(&self.services.update_disk(&r.disk_id, patch).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn delete(&self, req: Request<pb::DeleteDiskRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("disk_id", &r.disk_id)?;
            convert::operation_answer(&self.services.delete_disk(&r.disk_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_operations(&self, req: Request<pb::ListDiskOperationsRequest>) -> Reply<pb::ListDiskOperationsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("disk_id", &r.disk_id, r.page_size, &r.page_token)?;
            let page = self.services.list_disk_operations(&r.disk_id, size, &r.page_token).await?;
            Ok(pb::ListDiskOperationsResponse { operations: convert::operations(&page.items)?, next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn r#move(&self, req: Request<pb::MoveDiskRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::move_target("disk_id", &r.disk_id, &r.destination_folder_id)?;
            convert::operation_answer(&self.services.move_resource(Movable::Disk, &r.disk_id, &r.destination_folder_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn relocate(&self, _: Request<pb::RelocateDiskRequest>) -> Reply<PbOperation> {
        status::unimplemented(SERVICE, "Relocate")
    }

    async fn list_snapshot_schedules(
        &self,
        _: Request<pb::ListDiskSnapshotSchedulesRequest>,
    ) -> Reply<pb::ListDiskSnapshotSchedulesResponse> {
        status::unimplemented(SERVICE, "ListSnapshotSchedules")
    }

    async fn list_access_bindings(&self, _: Request<access::ListAccessBindingsRequest>) -> Reply<access::ListAccessBindingsResponse> {
        status::unimplemented(SERVICE, "ListAccessBindings")
    }

    async fn set_access_bindings(&self, _: Request<access::SetAccessBindingsRequest>) -> Reply<PbOperation> {
        status::unimplemented(SERVICE, "SetAccessBindings")
    }

    async fn update_access_bindings(&self, _: Request<access::UpdateAccessBindingsRequest>) -> Reply<PbOperation> {
        status::unimplemented(SERVICE, "UpdateAccessBindings")
    }
}
