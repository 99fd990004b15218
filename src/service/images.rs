//! Image use cases: the public catalog (a read-only memory store built at start, so that lists,
//! filters and paging work on it exactly as on the store), and users' own images made from a disk
//! or another image.

use std::collections::HashMap;
use std::sync::Arc;

use super::ImageArea;
use super::lifecycle;
use super::listing::{self, ListOrdered};
use super::paging::Page;
use crate::domain::disk::Disk;
use crate::domain::filter::{Column, Condition, Op, Order};
use crate::domain::ids::IdKind;
use crate::domain::image::{Image, ImagePatch, ImageSource, ImageStatus, OsType, PUBLIC_FOLDER, public_catalog};
use crate::error::{Error, ResourceKind, Result};
use crate::ops::{Action, ImageAction, Metadata, Operation, Response};
use crate::store::{Kind, Query, Resource, Store, Tx, TxExt};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateImage {
    pub folder_id: String,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub family: String,
    /// 0: the source's.
    pub min_disk_size: i64,
    pub product_ids: Vec<String>,
    pub source: ImageSource,
    /// `None`: the source's (Linux for a URI).
    pub os: Option<OsType>,
    pub pooled: bool,
}

/// The public catalog as a read-only store.
pub fn catalog() -> Result<Store> {
    let store = Store::open("memory")?;
    store.write_now(|tx| {
        for image in public_catalog() {
            tx.create(&image)?;
        }
        Ok(())
    })?;
    Ok(store)
}

/// The image `id`, public or the store's.
pub(super) fn find(tx: &mut dyn Tx, catalog: &Store, id: &str) -> Result<Image> {
    let key = id.to_string();
    if let Some(image) = catalog.read_now(|c| c.load::<Image>(&key))? {
        return Ok(image);
    }
    lifecycle::load(tx, id)
}

/// The store that holds `folder_id`'s images.
fn images_of<'a>(catalog: &'a Store, store: &'a Store, folder_id: &str) -> &'a Store {
    if folder_id == PUBLIC_FOLDER { catalog } else { store }
}

/// A user's image, loaded for a change; public images cannot change.
fn load_own(tx: &mut dyn Tx, catalog: &Store, id: &str) -> Result<Image> {
    let image = find(tx, catalog, id)?;
    if image.is_public() {
        return Err(Error::PublicImage(id.to_string()));
    }
    Ok(image)
}

impl ImageArea {
    pub async fn create_image(&self, cmd: CreateImage) -> Result<Operation> {
        if cmd.folder_id == PUBLIC_FOLDER {
            return Err(Error::PermissionDenied { subject: super::caller::Caller::current().subject, folder_id: cmd.folder_id });
        }
        let id = self.ids.id(IdKind::Image, "");
        let catalog = self.catalog.clone();
        self.start_operation(IdKind::ComputeOperation, "", move |tx, now| {
            // What the image inherits from its source.
            let (storage_size, min_disk_size, product_ids, os) = match &cmd.source {
                ImageSource::Image(image_id) => {
                    let source = find(tx, &catalog, image_id)?;
                    (source.storage_size, source.min_disk_size, source.product_ids, source.os)
                }
                ImageSource::Disk(disk_id) => {
                    let disk = lifecycle::load::<Disk>(tx, disk_id)?;
                    let os = match disk.source_image_id() {
                        "" => OsType::Linux,
                        image_id => find(tx, &catalog, image_id).map(|i| i.os).unwrap_or_default(),
                    };
                    (disk.size, disk.size, disk.product_ids, os)
                }
                ImageSource::Snapshot(snapshot_id) => return Err(Error::not_found(ResourceKind::Snapshot, snapshot_id)),
                ImageSource::Uri(_) => (0, 0, vec![], OsType::Linux),
            };
            let min_disk_size = if cmd.min_disk_size > 0 { cmd.min_disk_size } else { min_disk_size.max(crate::domain::disk_type::GIB) };
            lifecycle::claim_own_name::<Image>(tx, &id, &cmd.folder_id, &cmd.name)?;
            // Inherited product ids, and the request's.
            let mut products = product_ids;
            products.extend(cmd.product_ids.iter().cloned());
            products.sort();
            products.dedup();
            tx.create(&Image {
                id: id.clone(),
                folder_id: cmd.folder_id.clone(),
                created_at: now,
                name: cmd.name.clone(),
                description: cmd.description.clone(),
                labels: cmd.labels.clone(),
                family: cmd.family.clone(),
                storage_size,
                min_disk_size,
                product_ids: products,
                status: ImageStatus::Creating,
                os: cmd.os.unwrap_or(os),
                pooled: cmd.pooled,
                source: Some(cmd.source.clone()),
            })?;
            Ok((Metadata::CreateImage { image_id: id.clone() }, Action::Image(ImageAction::Create { image_id: id.clone() })))
        })
        .await
    }

    pub async fn get_image(&self, id: &str) -> Result<Image> {
        let (id, catalog) = (id.to_string(), self.catalog.clone());
        self.store.lookup(move |tx| find(tx, &catalog, &id)).await
    }

    /// The newest READY image of `family` in the folder.
    pub async fn latest_image_of_family(&self, folder_id: &str, family: &str) -> Result<Image> {
        let store = images_of(&self.catalog, &self.store, folder_id).clone();
        let (folder_id, family) = (folder_id.to_string(), family.to_string());
        store
            .read(move |tx| {
                let query = Query {
                    folder_id: Some(folder_id.clone()),
                    parent_id: Some(family.clone()),
                    conditions: vec![Condition { column: Column::Status, op: Op::Eq, values: vec![ImageStatus::Ready.name().to_string()] }],
                    order: Order { column: Column::CreatedAt, descending: true },
                    limit: 1,
                    ..Query::new(Kind::Image)
                };
                let newest = tx.list(&query)?.first().map(Image::from_record).transpose()?;
                newest.ok_or_else(|| Error::not_found(ResourceKind::Image, format!("of family {family} in folder {folder_id}")))
            })
            .await
    }

    pub async fn list_images(&self, cmd: ListOrdered) -> Result<Page<Arc<Image>>> {
        let store = images_of(&self.catalog, &self.store, &cmd.folder_id).clone();
        listing::ordered_page(&store, "images", cmd).await
    }

    pub async fn update_image(&self, id: &str, patch: ImagePatch) -> Result<Operation> {
        let (id, catalog) = (id.to_string(), self.catalog.clone());
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            let image = load_own(tx, &catalog, &id)?;
            let released_name = lifecycle::claim_rename(tx, &image, patch.name.as_ref())?;
            Ok((
                Metadata::UpdateImage { image_id: id.clone() },
                Action::Image(ImageAction::Update { image_id: id.clone(), patch: patch.clone(), released_name }),
            ))
        })
        .await
    }

    /// Disks made from the image keep it as their `source_image_id`.
    pub async fn delete_image(&self, id: &str) -> Result<Operation> {
        let (id, catalog) = (id.to_string(), self.catalog.clone());
        self.start_operation(IdKind::ComputeOperation, "", move |tx, _| {
            load_own(tx, &catalog, &id)?;
            Ok((Metadata::DeleteImage { image_id: id.clone() }, Action::Image(ImageAction::Delete { image_id: id.clone() })))
        })
        .await
    }

    /// Public images have no operations.
    pub async fn list_image_operations(&self, id: &str, page_size: usize, page_token: &str) -> Result<Page<Operation>> {
        let is_public = self.catalog.read_now(|c| c.load::<Image>(id))?.is_some();
        if is_public {
            return Ok(Page { items: vec![], next_page_token: String::new() });
        }
        self.resource_operations::<Image>(ResourceKind::Image, id, page_size, page_token).await
    }
}

pub(super) fn apply(tx: &mut dyn Tx, action: &ImageAction) -> Result<Response> {
    let image = match action {
        ImageAction::Create { image_id } => {
            let mut i = lifecycle::load::<Image>(tx, image_id)?;
            i.status = ImageStatus::Ready;
            i
        }
        ImageAction::Update { image_id, patch, released_name } => {
            lifecycle::finish_update(tx, image_id, released_name, |i: &mut Image| i.apply(patch))?
        }
        ImageAction::Delete { image_id } => {
            lifecycle::remove::<Image>(tx, image_id)?;
            return Ok(Response::Empty);
        }
    };
    tx.save(&image)?;
    Ok(Response::Image(image))
}

pub(super) fn undo(tx: &mut dyn Tx, action: &ImageAction) -> Result<()> {
    match action {
        ImageAction::Create { image_id } => lifecycle::remove::<Image>(tx, image_id),
        ImageAction::Update { image_id, patch, released_name } => {
            lifecycle::undo_rename::<Image>(tx, image_id, patch.name.as_ref(), released_name)
        }
        ImageAction::Delete { .. } => Ok(()),
    }
}
