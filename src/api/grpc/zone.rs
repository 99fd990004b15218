//! `ZoneService` and `DiskTypeService`: the fixed lists of zones and disk types netplane accepts,
//! paged like every List (page tokens are offsets bound to the list).

use tonic::{Request, Response, Status};

use super::status::parts;
use super::{fields, respond};
use crate::domain::disk_type::{DISK_TYPES, DiskType};
use crate::domain::validate::{self, Violations};
use crate::domain::zone::{REGION, ZONES};
use crate::error::{Error, ResourceKind, Result};
use crate::proto::yandex::cloud::compute::v1 as pb;
use crate::proto::yandex::cloud::compute::v1::disk_type_service_server::DiskTypeService;
use crate::proto::yandex::cloud::compute::v1::zone_service_server::ZoneService;
use crate::service::paging::{self, ListScope};

type Reply<T> = std::result::Result<Response<T>, Status>;

fn zone(id: &str) -> pb::Zone {
    pb::Zone { id: id.to_string(), region_id: REGION.to_string(), status: pb::zone::Status::Up as i32 }
}

fn disk_type(t: &DiskType) -> pb::DiskType {
    pb::DiskType { id: t.id.to_string(), description: t.description.to_string(), zone_ids: t.zone_ids() }
}

/// One page of a fixed list: the items after the token's offset, and the next token.
fn page<T: Clone>(what: &str, all: &[T], page_size: i64, page_token: &str) -> Result<(Vec<T>, String)> {
    let mut v = Violations::new();
    v.page(page_size, page_token);
    v.finish()?;
    let scope = ListScope::new(what, &[]);
    let start = paging::decode::<usize>(page_token, &scope)?.unwrap_or(0).min(all.len());
    let end = start.saturating_add(validate::page_size(page_size)).min(all.len());
    let next = if end < all.len() { paging::encode(&end, &scope) } else { String::new() };
    Ok((all[start..end].to_vec(), next))
}

pub struct ZoneApi;

#[tonic::async_trait]
impl ZoneService for ZoneApi {
    async fn get(&self, req: Request<pb::GetZoneRequest>) -> Reply<pb::Zone> {
        let (ctx, r) = parts(req);
        let result = (|| {
            fields::require_id("zone_id", &r.zone_id)?;
            ZONES.iter().find(|z| **z == r.zone_id).map(|z| zone(z)).ok_or_else(|| Error::not_found(ResourceKind::Zone, &r.zone_id))
        })();
        respond(ctx.as_ref(), result)
    }

    async fn list(&self, req: Request<pb::ListZonesRequest>) -> Reply<pb::ListZonesResponse> {
        let (ctx, r) = parts(req);
        let result = page("zones", ZONES, r.page_size, &r.page_token)
            .map(|(zones, next_page_token)| pb::ListZonesResponse { zones: zones.iter().map(|z| zone(z)).collect(), next_page_token });
        respond(ctx.as_ref(), result)
    }
}

pub struct DiskTypeApi;

#[tonic::async_trait]
impl DiskTypeService for DiskTypeApi {
    async fn get(&self, req: Request<pb::GetDiskTypeRequest>) -> Reply<pb::DiskType> {
        let (ctx, r) = parts(req);
        let result = (|| {
            fields::require_id("disk_type_id", &r.disk_type_id)?;
            DiskType::find(&r.disk_type_id).map(disk_type).ok_or_else(|| Error::not_found(ResourceKind::DiskType, &r.disk_type_id))
        })();
        respond(ctx.as_ref(), result)
    }

    async fn list(&self, req: Request<pb::ListDiskTypesRequest>) -> Reply<pb::ListDiskTypesResponse> {
        let (ctx, r) = parts(req);
        let result = page("disk types", DISK_TYPES, r.page_size, &r.page_token).map(|(types, next_page_token)| pb::ListDiskTypesResponse {
            disk_types: types.iter().map(disk_type).collect(),
            next_page_token,
        });
        respond(ctx.as_ref(), result)
    }
}
