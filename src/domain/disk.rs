//! Network disks: their sizes and sources, and the one instance a disk may be attached to.

use std::collections::HashMap;

use super::clock::Timestamp;
use super::disk_type::DiskType;
use crate::error::{Error, FieldViolation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DiskStatus {
    Creating,
    Ready,
    Error,
    Deleting,
}

impl DiskStatus {
    pub fn name(self) -> &'static str {
        match self {
            DiskStatus::Creating => "CREATING",
            DiskStatus::Ready => "READY",
            DiskStatus::Error => "ERROR",
            DiskStatus::Deleting => "DELETING",
        }
    }
}

/// What a disk was created from.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DiskSource {
    #[default]
    Empty,
    Image(String),
    Snapshot(String),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Disk {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub type_id: String,
    pub zone_id: String,
    pub size: i64,
    pub block_size: i64,
    pub product_ids: Vec<String>,
    pub status: DiskStatus,
    pub source: DiskSource,
    /// The instance using the disk: at most one.
    pub instance_id: Option<String>,
    pub placement_group_id: String,
    pub placement_group_partition: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiskPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
    pub size: Option<i64>,
    pub placement_group_id: Option<String>,
}

/// Why a new disk of `disk_type` cannot have `size`, given the smallest size its source allows:
/// the violation to report on `field`.
pub fn size_violation(field: &str, disk_type: &DiskType, size: i64, block_size: i64, min_size: i64) -> Option<FieldViolation> {
    if size < min_size {
        return Some(FieldViolation::new(field, format!("must be at least {min_size} bytes, the minimum disk size of its source")));
    }
    disk_type.size_problem(size, block_size).map(|p| FieldViolation::new(field, p))
}

impl Disk {
    /// Checks a resize: disks only grow, in the steps of their type.
    pub fn check_resize(&self, size: i64) -> Result<(), Error> {
        if size < self.size {
            return Err(Error::invalid("size", format!("a disk cannot shrink: it has {} bytes, {size} were asked for", self.size)));
        }
        let disk_type =
            DiskType::find(&self.type_id).ok_or_else(|| Error::Internal(format!("disk {} has unknown type {}", self.id, self.type_id)))?;
        match size_violation("size", disk_type, size, self.block_size, 0) {
            Some(v) => Err(Error::InvalidArgument(vec![v])),
            None => Ok(()),
        }
    }

    pub fn apply(&mut self, p: &DiskPatch) {
        if let Some(v) = &p.name {
            self.name = v.clone();
        }
        if let Some(v) = &p.description {
            self.description = v.clone();
        }
        if let Some(v) = &p.labels {
            self.labels = v.clone();
        }
        if let Some(v) = p.size {
            self.size = v;
        }
        if let Some(v) = &p.placement_group_id {
            self.placement_group_id = v.clone();
        }
    }

    /// Checks that `instance_id` in `zone_id` may attach this disk: same zone, ready, unused.
    pub fn check_attachable(&self, instance_id: &str, zone_id: &str) -> Result<(), Error> {
        if self.zone_id != zone_id {
            return Err(Error::DiskZoneMismatch {
                disk_id: self.id.clone(),
                disk_zone: self.zone_id.clone(),
                instance_zone: zone_id.to_string(),
            });
        }
        if let Some(user) = &self.instance_id
            && user != instance_id
        {
            return Err(Error::DiskAttached { disk_id: self.id.clone(), instance_id: user.clone() });
        }
        if self.status != DiskStatus::Ready {
            return Err(Error::DiskNotReady { disk_id: self.id.clone(), status: self.status.name().to_string() });
        }
        Ok(())
    }

    /// A disk in use cannot be deleted.
    pub fn check_deletable(&self) -> Result<(), Error> {
        match &self.instance_id {
            Some(instance_id) => Err(Error::DiskAttached { disk_id: self.id.clone(), instance_id: instance_id.clone() }),
            None => Ok(()),
        }
    }

    pub fn source_image_id(&self) -> &str {
        match &self.source {
            DiskSource::Image(id) => id,
            _ => "",
        }
    }

    pub fn source_snapshot_id(&self) -> &str {
        match &self.source {
            DiskSource::Snapshot(id) => id,
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::disk_type::GIB;

    fn disk() -> Disk {
        Disk {
            id: "fhmdisk".into(),
            folder_id: "b1g".into(),
            created_at: Timestamp(0),
            name: "data".into(),
            description: String::new(),
            labels: HashMap::new(),
            type_id: "network-hdd".into(),
            zone_id: "ru-central1-a".into(),
            size: 10 * GIB,
            block_size: 4096,
            product_ids: vec![],
            status: DiskStatus::Ready,
            source: DiskSource::Empty,
            instance_id: None,
            placement_group_id: String::new(),
            placement_group_partition: 0,
        }
    }

    #[test]
    fn disks_only_grow() {
        let d = disk();
        assert!(d.check_resize(20 * GIB).is_ok());
        assert!(d.check_resize(10 * GIB).is_ok());
        assert!(matches!(d.check_resize(5 * GIB), Err(Error::InvalidArgument(_))));
        assert!(matches!(d.check_resize(20 * GIB + 1), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn a_disk_serves_one_instance_in_its_zone() {
        let mut d = disk();
        assert!(d.check_attachable("fhm1", "ru-central1-a").is_ok());
        assert!(matches!(d.check_attachable("fhm1", "ru-central1-b"), Err(Error::DiskZoneMismatch { .. })));
        d.instance_id = Some("fhm1".into());
        assert!(d.check_attachable("fhm1", "ru-central1-a").is_ok(), "its own instance again");
        assert!(matches!(d.check_attachable("fhm2", "ru-central1-a"), Err(Error::DiskAttached { .. })));
        assert!(matches!(d.check_deletable(), Err(Error::DiskAttached { .. })));
        d.instance_id = None;
        d.status = DiskStatus::Creating;
        assert!(matches!(d.check_attachable("fhm1", "ru-central1-a"), Err(Error::DiskNotReady { .. })));
    }

    #[test]
    fn new_disks_respect_their_sources_minimum() {
        let hdd = DiskType::find("network-hdd").unwrap();
        assert!(size_violation("size", hdd, 8 * GIB, 4096, 10 * GIB).is_some());
        assert!(size_violation("size", hdd, 10 * GIB, 4096, 10 * GIB).is_none());
    }
}
