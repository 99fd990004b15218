//! What every Huawei resource shares on the wire: the key one is wrapped in (`"dnat_rule"`), the
//! key of its list (`"dnat_rules"`), and its JSON; and the show and list handlers, written once.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};

use super::reply::{Ctx, query_pairs};
use crate::domain::huawei::listing::{ListRequest, Listable};
use crate::error::HuaweiApi;
use crate::service::HuaweiArea;
use crate::service::huawei::ProjectResource;

pub trait Wire: ProjectResource {
    const KEY: &'static str;
    const LIST_KEY: &'static str;
    fn render(&self) -> Value;
}

/// `GET …/{id}`.
pub async fn show<R: Wire>(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, Path((_, id)): Path<(String, String)>) -> Response {
    ctx.answer(StatusCode::OK, R::KEY, s.huawei_get::<R>(&ctx.project_id, &id).await, R::render)
}

/// `GET …` with `limit`, `marker`, `page_reverse` and filters. NAT lists answer `page_info`; VPC
/// v1 lists do not.
pub async fn list<R: Wire>(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, RawQuery(query): RawQuery) -> Response {
    let result =
        async { s.huawei_list::<R>(&ctx.project_id, ListRequest::parse(&query_pairs(query.as_deref()), <R as Listable>::FILTERS)?).await };
    match ctx.api {
        HuaweiApi::PrivateNat | HuaweiApi::VpcV3 => ctx.answer_list(R::LIST_KEY, result.await, R::render),
        HuaweiApi::Vpc => ctx
            .reply(StatusCode::OK, result.await.map(|(items, _)| json!({ R::LIST_KEY: items.iter().map(R::render).collect::<Vec<_>>() }))),
    }
}
