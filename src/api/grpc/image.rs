//! `yandex.cloud.compute.v1.ImageService`: parse and validate, call the service, encode.

use tonic::{Request, Response, Status};

use super::status::{self, parts};
use super::{convert, fields, respond, respond_operation};
use crate::domain::filter::{IMAGE_ORDER_FIELDS, NAME_ONLY};
use crate::domain::image::{ImagePatch, ImageSource, OsType};
use crate::domain::validate::{self, LabelRules, Violations};
use crate::proto::yandex::cloud::access;
use crate::proto::yandex::cloud::compute::v1 as pb;
use crate::proto::yandex::cloud::compute::v1::image_service_server::ImageService;
use crate::proto::yandex::cloud::operation::Operation as PbOperation;
use crate::service::ImageArea;
use crate::service::images::CreateImage;

type Reply<T> = std::result::Result<Response<T>, Status>;

const SERVICE: &str = "yandex.cloud.compute.v1.ImageService";
const MIN_DISK_SIZES: std::ops::RangeInclusive<i64> = 4_194_304..=4_398_046_511_104;

fn family(v: &mut Violations, field: &str, family: &str) {
    if !validate::IMAGE_FAMILY.is_match(family) {
        v.add(field, "must match |[a-z][-a-z0-9]{1,61}[a-z0-9]");
    }
}

fn min_disk_size(v: &mut Violations, size: i64) {
    if size != 0 && !MIN_DISK_SIZES.contains(&size) {
        v.add("min_disk_size", format!("must be between {} and {} bytes", MIN_DISK_SIZES.start(), MIN_DISK_SIZES.end()));
    }
}

pub struct ImageApi {
    services: ImageArea,
}

impl ImageApi {
    pub fn new(services: ImageArea) -> Self {
        ImageApi { services }
    }
}

#[tonic::async_trait]
impl ImageService for ImageApi {
    async fn get(&self, req: Request<pb::GetImageRequest>) -> Reply<pb::Image> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("image_id", &r.image_id)?;
            Ok(convert::image(&self.services.get_image(&r.image_id).await?))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn get_latest_by_family(&self, req: Request<pb::GetImageLatestByFamilyRequest>) -> Reply<pb::Image> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            family(&mut v, "family", &r.family);
            v.required("family", &r.family);
            v.finish()?;
            Ok(convert::image(&self.services.latest_image_of_family(&r.folder_id, &r.family).await?))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list(&self, req: Request<pb::ListImagesRequest>) -> Reply<pb::ListImagesResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let cmd =
                fields::ordered_list(&r.folder_id, r.page_size, &r.page_token, &r.filter, &r.order_by, NAME_ONLY, IMAGE_ORDER_FIELDS)?;
            let page = self.services.list_images(cmd).await?;
            Ok(pb::ListImagesResponse {
                images: page.items.iter().map(|i| convert::image(i)).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create(&self, req: Request<pb::CreateImageRequest>) -> Reply<PbOperation> {
        use pb::create_image_request::Source;
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            v.pattern("name", &r.name, &validate::COMPUTE_NAME);
            v.description("description", &r.description);
            v.labels("labels", &r.labels, LabelRules::Compute);
            family(&mut v, "family", &r.family);
            min_disk_size(&mut v, r.min_disk_size);
            for (i, p) in r.product_ids.iter().enumerate() {
                v.max_len(&format!("product_ids[{i}]"), p, 50);
            }
            let source = match &r.source {
                Some(Source::ImageId(id)) => {
                    v.id("image_id", id);
                    Some(ImageSource::Image(id.clone()))
                }
                Some(Source::DiskId(id)) => {
                    v.id("disk_id", id);
                    Some(ImageSource::Disk(id.clone()))
                }
                Some(Source::SnapshotId(id)) => {
                    v.id("snapshot_id", id);
                    Some(ImageSource::Snapshot(id.clone()))
                }
                Some(Source::Uri(uri)) => {
                    v.required("uri", uri);
                    Some(ImageSource::Uri(uri.clone()))
                }
                None => {
                    v.add("disk_id", "exactly one of image_id, disk_id, snapshot_id and uri must be set");
                    None
                }
            };
            let os = r.os.as_ref().and_then(|os| match pb::os::Type::try_from(os.r#type) {
                Ok(pb::os::Type::Linux) => Some(OsType::Linux),
                Ok(pb::os::Type::Windows) => Some(OsType::Windows),
                _ => None,
            });
            v.finish()?;
            let Some(source) = source else { return Err(crate::error::Error::invalid("disk_id", "no source")) };
            let cmd = CreateImage {
                folder_id: r.folder_id.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                labels: r.labels.clone(),
                family: r.family.clone(),
                min_disk_size: r.min_disk_size,
                product_ids: r.product_ids.clone(),
                source,
                os,
                pooled: r.pooled,
            };
            convert::operation_answer(&self.services.create_image(cmd).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateImageRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("image_id", &r.image_id);
            let implied = [
                ("name", !r.name.is_empty()),
                ("description", !r.description.is_empty()),
                ("labels", !r.labels.is_empty()),
                ("min_disk_size", r.min_disk_size != 0),
            ];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            fields::check_mask(&mut v, &paths, &["name", "description", "labels", "min_disk_size"]);
            let has = |f: &str| paths.iter().any(|p| p == f);
            let mut patch = ImagePatch::default();
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
            if has("min_disk_size") {
                min_disk_size(&mut v, r.min_disk_size);
                patch.min_disk_size = Some(r.min_disk_size);
            }
            v.finish()?;
            convert::operation_answer(&self.services.update_image(&r.image_id, patch).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn delete(&self, req: Request<pb::DeleteImageRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("image_id", &r.image_id)?;
            convert::operation_answer(&self.services.delete_image(&r.image_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_operations(&self, req: Request<pb::ListImageOperationsRequest>) -> Reply<pb::ListImageOperationsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("image_id", &r.image_id, r.page_size, &r.page_token)?;
            let page = self.services.list_image_operations(&r.image_id, size, &r.page_token).await?;
            Ok(pb::ListImageOperationsResponse { operations: convert::operations(&page.items)?, next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
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
