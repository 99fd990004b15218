//! Availability zones and the region they belong to. ru-central1-c, which Yandex Cloud is
//! retiring, is not among them (DIVERGENCES.md).

pub const REGION: &str = "ru-central1";
pub const ZONES: &[&str] = &["ru-central1-a", "ru-central1-b", "ru-central1-d"];

pub fn is_known(zone_id: &str) -> bool {
    ZONES.contains(&zone_id)
}
