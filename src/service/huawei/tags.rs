//! Tags on Huawei resources (private NAT's tag API and VPC v2.0's): changes are one transaction on
//! the resource's row, so a batch applies whole or not at all; the project's tag list and the
//! search by tags read every resource of the kind in the project.

use super::{ProjectResource, all_in, load_in};
use crate::domain::huawei::tags::{Tag, TagFilter, Tagged, project_tags};
use crate::error::Result;
use crate::service::HuaweiArea;
use crate::store::TxExt;

/// A change to a resource's tags.
#[derive(Clone, Debug)]
pub enum TagChange {
    /// `POST …/tags`: one tag, replacing the key's value.
    Add(Tag),
    /// `POST …/tags/action` with `create`.
    Create(Vec<Tag>),
    /// `POST …/tags/action` with `delete`: missing keys are ignored.
    Delete(Vec<Tag>),
    /// `DELETE …/tags/{key}`: a missing key is an error.
    DeleteKey(String),
}

/// A page of a search by tags: the resources with their ids, and how many matched in all.
pub type TaggedPage<R> = (Vec<(String, R)>, usize);

impl HuaweiArea {
    pub async fn huawei_change_tags<R: ProjectResource + Tagged>(&self, project_id: &str, id: &str, change: TagChange) -> Result<R> {
        let (project_id, id) = (project_id.to_string(), id.to_string());
        self.store
            .write(move |tx| {
                let mut resource = load_in::<R>(tx, &project_id, &id)?;
                let rules = R::TAG_RULES;
                let tags = resource.tags_mut();
                // The closure may run again (a retried transaction): it changes a copy.
                match change.clone() {
                    TagChange::Add(tag) => rules.add(tags, tag)?,
                    TagChange::Create(new) => rules.batch_create(tags, new)?,
                    TagChange::Delete(gone) => rules.batch_delete(tags, &gone)?,
                    TagChange::DeleteKey(key) => rules.delete(tags, &key)?,
                }
                tx.save(&resource)?;
                Ok(resource)
            })
            .await
    }

    /// Every key the project's resources of a kind use, with their values.
    pub async fn huawei_project_tags<R: ProjectResource + Tagged>(&self, project_id: &str) -> Result<Vec<(String, Vec<String>)>> {
        let project_id = project_id.to_string();
        let all = self.store.read(move |tx| all_in::<R>(tx, &project_id)).await?;
        Ok(project_tags(all.iter().map(|r| r.tags())))
    }

    /// The project's resources of a kind that `filter` admits, in id order, `offset` and `limit`
    /// cutting the page (none: the count alone is wanted, and no resources are returned).
    pub async fn huawei_find_by_tags<R: ProjectResource + Tagged>(
        &self,
        project_id: &str,
        filter: TagFilter,
        page: Option<(usize, usize)>,
    ) -> Result<TaggedPage<R>> {
        filter.check(&R::TAG_RULES)?;
        let project_id = project_id.to_string();
        let all = self.store.read(move |tx| all_in::<R>(tx, &project_id)).await?;
        let mut found: Vec<R> = all.into_iter().filter(|r| filter.matches(r.tags(), &r.tag_name())).collect();
        found.sort_by(|a, b| a.id().cmp(b.id()));
        let total = found.len();
        let page = match page {
            Some((offset, limit)) => found.into_iter().skip(offset).take(limit).map(|r| (r.id().to_string(), r)).collect(),
            None => Vec::new(),
        };
        Ok((page, total))
    }
}
