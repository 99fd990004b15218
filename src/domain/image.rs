//! Images: users' own, and the public catalog in the folder `standard-images` (fixed records with
//! stable ids, some of them the real cloud's). Families group images; the newest ready image of a
//! family is what `GetLatestByFamily` answers.

use std::collections::HashMap;

use super::clock::Timestamp;
use super::disk_type::GIB;

/// The folder of the public catalog, as on Yandex Cloud.
pub const PUBLIC_FOLDER: &str = "standard-images";

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ImageStatus {
    Creating,
    Ready,
    Error,
    Deleting,
}

impl ImageStatus {
    pub fn name(self) -> &'static str {
        match self {
            ImageStatus::Creating => "CREATING",
            ImageStatus::Ready => "READY",
            ImageStatus::Error => "ERROR",
            ImageStatus::Deleting => "DELETING",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OsType {
    #[default]
    Linux,
    Windows,
}

/// What a user's image was made from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ImageSource {
    Image(String),
    Disk(String),
    Snapshot(String),
    Uri(String),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Image {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub family: String,
    pub storage_size: i64,
    pub min_disk_size: i64,
    pub product_ids: Vec<String>,
    pub status: ImageStatus,
    pub os: OsType,
    pub pooled: bool,
    /// `None` for the public catalog.
    pub source: Option<ImageSource>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImagePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
    pub min_disk_size: Option<i64>,
}

impl Image {
    pub fn apply(&mut self, p: &ImagePatch) {
        if let Some(v) = &p.name {
            self.name = v.clone();
        }
        if let Some(v) = &p.description {
            self.description = v.clone();
        }
        if let Some(v) = &p.labels {
            self.labels = v.clone();
        }
        if let Some(v) = p.min_disk_size {
            self.min_disk_size = v;
        }
    }

    pub fn is_public(&self) -> bool {
        self.folder_id == PUBLIC_FOLDER
    }
}

/// One record of the public catalog: id, name, family, description, creation (Unix seconds),
/// minimum disk size in GiB, storage size in bytes, OS.
type Entry = (&'static str, &'static str, &'static str, &'static str, i64, i64, i64, OsType);

use OsType::{Linux, Windows};

/// The public catalog. Ids starting `fd85u0`, `fd89ls`, `fd8tek`, `fd8iv7` and the `fdv` ones are
/// the real cloud's; the others are netplane's own (the family strings of Debian, CentOS Stream,
/// AlmaLinux and the NAT instance are unconfirmed: DIVERGENCES.md).
const CATALOG: &[Entry] = &[
    ("fdv4f5kv5cvf3ohu4flt", "ubuntu-1604-lts-1560178453", "ubuntu-1604-lts", "ubuntu 16.04 lts", 1_560_178_453, 3, 2_894_069_760, Linux),
    ("fd8ubuntu1804lts2405", "ubuntu-18-04-lts-v20240527", "ubuntu-1804-lts", "ubuntu 18.04 lts", 1_716_768_000, 8, 4_114_612_224, Linux),
    ("fd8ubuntu2004lts2405", "ubuntu-20-04-lts-v20240527", "ubuntu-2004-lts", "ubuntu 20.04 lts", 1_716_768_000, 8, 4_995_416_064, Linux),
    ("fd8ubuntu2204lts2311", "ubuntu-22-04-lts-v20231120", "ubuntu-2204-lts", "ubuntu 22.04 lts", 1_700_438_400, 8, 7_377_780_736, Linux),
    ("fd85u0rct32prepgjlv0", "ubuntu-22-04-lts-v20240311", "ubuntu-2204-lts", "ubuntu 22.04 lts", 1_710_115_200, 8, 7_633_633_280, Linux),
    (
        "fd89ls0nj4oqmlhhi568",
        "ubuntu-2204-lts-oslogin-v20240429",
        "ubuntu-2204-lts-oslogin",
        "ubuntu 22.04 lts with OS Login",
        1_714_348_800,
        10,
        7_818_182_656,
        Linux,
    ),
    ("fd8tekibj7eld4eqtaed", "ubuntu-24-04-lts-v20250825", "ubuntu-2404-lts", "ubuntu 24.04 lts", 1_756_080_000, 10, 3_535_798_272, Linux),
    (
        "fd8ubuntu2404oslogin",
        "ubuntu-2404-lts-oslogin-v20250825",
        "ubuntu-2404-lts-oslogin",
        "ubuntu 24.04 lts with OS Login",
        1_756_080_000,
        10,
        3_699_376_128,
        Linux,
    ),
    (
        "fd8ubuntu2004gpu2405",
        "ubuntu-20-04-lts-gpu-v20240527",
        "ubuntu-2004-lts-gpu",
        "ubuntu 20.04 lts with GPU drivers",
        1_716_768_000,
        25,
        19_327_352_832,
        Linux,
    ),
    (
        "fd8iv792kirahcnqnt0q",
        "container-optimized-image-1611926453",
        "container-optimized-image",
        "container optimized image",
        1_611_926_453,
        10,
        3_779_067_904,
        Linux,
    ),
    ("fdvk34al8k5nltb58shr", "centos-7-1560178453", "centos-7", "centos 7", 1_560_178_453, 3, 2_214_592_512, Linux),
    ("fd8centosstream9v241", "centos-stream-9-v20241014", "centos-stream-9", "centos stream 9", 1_728_864_000, 10, 2_860_515_328, Linux),
    ("fd8almalinux9v202405", "almalinux-9-v20240527", "almalinux-9", "almalinux 9", 1_716_768_000, 10, 2_541_748_224, Linux),
    ("fd8debian11v20240610", "debian-11-v20240610", "debian-11", "debian 11", 1_717_977_600, 8, 2_210_398_208, Linux),
    ("fd8debian12v20250601", "debian-12-v20250601", "debian-12", "debian 12", 1_748_736_000, 8, 2_399_141_888, Linux),
    (
        "fd8natinstance2204v1",
        "nat-instance-ubuntu-22-04-v20240610",
        "nat-instance-ubuntu-2204",
        "NAT instance on ubuntu 22.04 lts",
        1_717_977_600,
        8,
        4_357_881_856,
        Linux,
    ),
    (
        "fdv7ooobjfl3ts9gqp0q",
        "windows-2016-gvlk-1560178453",
        "windows-2016-gvlk",
        "windows server 2016 datacenter",
        1_560_178_453,
        50,
        11_811_160_064,
        Windows,
    ),
];

/// Every image of the public catalog, ready.
pub fn public_catalog() -> Vec<Image> {
    CATALOG
        .iter()
        .map(|&(id, name, family, description, created, min_gib, storage_size, os)| Image {
            id: id.to_string(),
            folder_id: PUBLIC_FOLDER.to_string(),
            created_at: Timestamp(created * 1_000_000),
            name: name.to_string(),
            description: description.to_string(),
            labels: HashMap::new(),
            family: family.to_string(),
            storage_size,
            min_disk_size: min_gib * GIB,
            product_ids: vec![format!("f2e{}", &id[3..])],
            status: ImageStatus::Ready,
            os,
            pooled: true,
            source: None,
        })
        .collect()
}

/// The newest ready image of `family` among `images`.
pub fn latest_of_family<'a>(images: impl IntoIterator<Item = &'a Image>, family: &str) -> Option<&'a Image> {
    images.into_iter().filter(|i| i.family == family && i.status == ImageStatus::Ready).max_by_key(|i| (i.created_at, i.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::ID_LEN;

    #[test]
    fn catalog_ids_are_unique_ids_and_names_unique() {
        let catalog = public_catalog();
        let mut ids: Vec<&str> = catalog.iter().map(|i| i.id.as_str()).collect();
        let mut names: Vec<&str> = catalog.iter().map(|i| i.name.as_str()).collect();
        for id in &ids {
            assert_eq!(id.len(), ID_LEN, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{id}");
        }
        ids.sort();
        ids.dedup();
        names.sort();
        names.dedup();
        assert_eq!(ids.len(), catalog.len());
        assert_eq!(names.len(), catalog.len());
    }

    #[test]
    fn the_latest_of_a_family_is_its_newest_ready_image() {
        let mut catalog = public_catalog();
        assert_eq!(latest_of_family(&catalog, "ubuntu-2204-lts").map(|i| i.id.as_str()), Some("fd85u0rct32prepgjlv0"));
        catalog.iter_mut().filter(|i| i.id == "fd85u0rct32prepgjlv0").for_each(|i| i.status = ImageStatus::Creating);
        assert_eq!(latest_of_family(&catalog, "ubuntu-2204-lts").map(|i| i.id.as_str()), Some("fd8ubuntu2204lts2311"));
        assert!(latest_of_family(&catalog, "no-such-family").is_none());
    }
}
