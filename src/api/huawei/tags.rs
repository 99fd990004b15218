//! The tag APIs, written once for every tagged kind: private NAT's
//! (`/v3/{project_id}/{private-nat-gateways|transit-ips|transit-subnets}/…`) and VPC v2.0's
//! (`/v2.0/{project_id}/{vpcs|subnets}/…`). Changes answer 204; a resource's tags and the
//! project's answer 200; `resource_instances/action` filters or counts. The two APIs differ in
//! their bounds (the kind's `TagRules`) and in how the filter's `offset` and `limit` are written
//! (strings on NAT, integers on VPC).

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::reply::{Ctx, parse_body};
use super::resource::Wire;
use crate::domain::huawei::tags::{Tag, TagFilter, TagMatch, Tagged};
use crate::error::{Error, HuaweiApi};
use crate::service::HuaweiArea;
use crate::service::huawei::tags::TagChange;

/// Largest `limit` of a filter, and its default.
const MAX_FILTER_LIMIT: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagOption {
    key: String,
    /// Terraform's tag helper leaves `value` out when it is empty.
    #[serde(default)]
    value: String,
}

impl From<TagOption> for Tag {
    fn from(t: TagOption) -> Tag {
        Tag::new(t.key, t.value)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OneTagBody {
    tag: TagOption,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    action: String,
    tags: Vec<TagOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchOption {
    key: String,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameMatch {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterBody {
    action: String,
    offset: Option<Value>,
    limit: Option<Value>,
    #[serde(default)]
    tags: Vec<MatchOption>,
    #[serde(default)]
    tags_any: Vec<MatchOption>,
    #[serde(default)]
    not_tags: Vec<MatchOption>,
    #[serde(default)]
    not_tags_any: Vec<MatchOption>,
    #[serde(default)]
    matches: Vec<NameMatch>,
}

/// A tag body's field errors are the tag API's own code (NAT.1015, VPC.1801).
fn tag_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Error> {
    parse_body::<T>(body).map_err(|e| match e {
        Error::InvalidArgument(violations) => {
            Error::TagInvalid(violations.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; "))
        }
        other => other,
    })
}

fn render_tags(tags: &[Tag]) -> Value {
    tags.iter().map(|t| json!({"key": t.key, "value": t.value})).collect()
}

/// `GET …/{resource_id}/tags`.
pub async fn show<R: Wire + Tagged>(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let result = s.huawei_get::<R>(&ctx.project_id, &id).await;
    ctx.reply(StatusCode::OK, result.map(|r| json!({"tags": render_tags(r.tags())})))
}

/// `POST …/{resource_id}/tags` `{"tag": {...}}`.
pub async fn add<R: Wire + Tagged>(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let result = async {
        let tag = tag_body::<OneTagBody>(&body)?.tag.into();
        s.huawei_change_tags::<R>(&ctx.project_id, &id, TagChange::Add(tag)).await
    };
    changed(&ctx, result.await)
}

/// `POST …/{resource_id}/tags/action` `{"action": "create" | "delete", "tags": [...]}`.
pub async fn batch<R: Wire + Tagged>(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let result = async {
        let body = tag_body::<BatchBody>(&body)?;
        let tags: Vec<Tag> = body.tags.into_iter().map(Tag::from).collect();
        let change = match body.action.as_str() {
            "create" => TagChange::Create(tags),
            "delete" => TagChange::Delete(tags),
            other => return Err(Error::TagInvalid(format!("action must be create or delete, not {:?}", crate::error::echo(other)))),
        };
        s.huawei_change_tags::<R>(&ctx.project_id, &id, change).await
    };
    changed(&ctx, result.await)
}

/// `DELETE …/{resource_id}/tags/{key}`, the key percent-decoded (`a%20b%2F%C3%A7` is `a b/ç`).
pub async fn delete<R: Wire + Tagged>(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id, key)): Path<(String, String, String)>,
) -> Response {
    changed(&ctx, s.huawei_change_tags::<R>(&ctx.project_id, &id, TagChange::DeleteKey(key)).await)
}

/// `DELETE …/{resource_id}/tags/action`: the tag whose key is `action` (that path's POST is the batch).
pub async fn delete_action_key<R: Wire + Tagged>(
    State(s): State<HuaweiArea>,
    Extension(ctx): Extension<Ctx>,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    changed(&ctx, s.huawei_change_tags::<R>(&ctx.project_id, &id, TagChange::DeleteKey("action".into())).await)
}

fn changed<R>(ctx: &Ctx, result: Result<R, Error>) -> Response {
    match result {
        Ok(_) => ctx.no_content(),
        Err(e) => ctx.fail(&e),
    }
}

/// `GET …/tags`: every key the project's resources of the kind use, with their values.
pub async fn project<R: Wire + Tagged>(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>) -> Response {
    let result = s.huawei_project_tags::<R>(&ctx.project_id).await;
    ctx.reply(
        StatusCode::OK,
        result.map(|keys| json!({"tags": keys.into_iter().map(|(key, values)| json!({"key": key, "values": values})).collect::<Vec<_>>()})),
    )
}

/// `POST …/resource_instances/action`: `filter` answers a page of the matching resources with
/// their tags, `count` how many match.
pub async fn filter<R: Wire + Tagged>(State(s): State<HuaweiArea>, Extension(ctx): Extension<Ctx>, body: Bytes) -> Response {
    let result = async {
        let body = tag_body::<FilterBody>(&body)?;
        let count_only = match body.action.as_str() {
            "filter" => false,
            "count" => true,
            other => return Err(Error::TagInvalid(format!("action must be filter or count, not {:?}", crate::error::echo(other)))),
        };
        let offset = number(ctx.api, "offset", body.offset.as_ref(), 0, 0..=usize::MAX)?;
        let limit = number(ctx.api, "limit", body.limit.as_ref(), MAX_FILTER_LIMIT, 1..=MAX_FILTER_LIMIT)?;
        let name_contains = match body.matches.as_slice() {
            [] => None,
            [m] if m.key == "resource_name" => Some(m.value.clone()),
            _ => return Err(Error::TagInvalid("matches takes one entry, with key resource_name".into())),
        };
        let list = |options: Vec<MatchOption>| options.into_iter().map(|m| TagMatch { key: m.key, values: m.values }).collect();
        let filter = TagFilter {
            tags: list(body.tags),
            tags_any: list(body.tags_any),
            not_tags: list(body.not_tags),
            not_tags_any: list(body.not_tags_any),
            name_contains,
        };
        let page = (!count_only).then_some((offset, limit));
        let (found, total) = s.huawei_find_by_tags::<R>(&ctx.project_id, filter, page).await?;
        if count_only {
            return Ok(json!({"total_count": total}));
        }
        let resources: Vec<Value> = found
            .iter()
            .map(|(id, r)| {
                json!({
                    "resource_id": id,
                    "resource_name": r.tag_name(),
                    "resource_detail": null,
                    "tags": render_tags(r.tags()),
                })
            })
            .collect();
        Ok(json!({"resources": resources, "total_count": total}))
    };
    ctx.reply(StatusCode::OK, result.await)
}

/// A filter's `offset` or `limit`: a string of digits on private NAT, an integer on VPC.
fn number(
    api: HuaweiApi,
    field: &str,
    value: Option<&Value>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, Error> {
    let Some(value) = value else { return Ok(default) };
    let parsed = match (api, value) {
        (HuaweiApi::PrivateNat, Value::String(text)) => text.parse::<usize>().ok(),
        (HuaweiApi::Vpc | HuaweiApi::VpcV3, Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        _ => None,
    };
    let written = if api == HuaweiApi::PrivateNat { "a string of digits" } else { "an integer" };
    parsed
        .filter(|n| range.contains(n))
        .ok_or_else(|| Error::TagInvalid(format!("{field} must be {written} from {} to {}, not {value}", range.start(), range.end())))
}
