//! Huawei Cloud's resources as netplane models them: VPC VPCs, subnets and ports, and the private
//! NAT v3 gateways, transit subnets, transit IPs, DNAT and SNAT rules that live in them, with the
//! tags both APIs put on them. Pure: ids and times
//! are passed in. The field rules every resource shares (names, descriptions, UUIDs, times, list
//! filters and marker paging) are here.

pub mod dnat;
pub mod listing;
pub mod nat;
pub mod port;
pub mod snat;
pub mod tags;
pub mod vpc;

use crate::domain::clock::Timestamp;
use crate::error::Error;

/// Statuses of private NAT resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Status {
    Active,
    Frozen,
    Inactive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::Frozen => "FROZEN",
            Status::Inactive => "INACTIVE",
        }
    }
}

/// UTC `yyyy-mm-ddThh:mm:ss`, as the seed's example shows it (no zone suffix).
pub fn format_time(at: Timestamp) -> String {
    let seconds = u64::try_from(at.seconds()).unwrap_or(0);
    let text = humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds)).to_string();
    text.trim_end_matches('Z').to_string()
}

/// Up to 255 characters, without `<` or `>`.
pub fn check_description(field: &str, description: &str) -> Result<(), Error> {
    if description.chars().count() > 255 {
        return Err(Error::invalid(field, "must be at most 255 characters"));
    }
    if description.contains(['<', '>']) {
        return Err(Error::invalid(field, "must not contain angle brackets (< or >)"));
    }
    Ok(())
}

/// 1 to 64 letters, digits, `_`, `-` and `.` (Chinese characters are also allowed by Huawei Cloud;
/// netplane accepts any alphabetic character).
pub fn check_name(field: &str, name: &str) -> Result<(), Error> {
    let length = name.chars().count();
    if !(1..=64).contains(&length) {
        return Err(Error::invalid(field, "must be 1 to 64 characters"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(Error::invalid(field, format!("must contain only letters, digits, _, - and . (found {c:?})")));
    }
    Ok(())
}

/// A resource id: a UUID in its 36-character hyphenated form.
pub fn check_uuid(field: &str, id: &str) -> Result<(), Error> {
    if id.len() == 36 && uuid::Uuid::try_parse(id).is_ok() {
        Ok(())
    } else {
        Err(Error::invalid(field, format!("{id:?} is not a UUID (36 characters)")))
    }
}

/// A required string field: present and not empty.
pub fn required<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, Error> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| Error::invalid(field, "is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_seconds_without_a_zone() {
        assert_eq!(format_time(Timestamp(1_556_521_801_999_999)), "2019-04-29T07:10:01");
    }

    #[test]
    fn descriptions_are_bounded_and_free_of_angle_brackets() {
        assert!(check_description("d", &"a".repeat(255)).is_ok());
        assert!(check_description("d", &"a".repeat(256)).is_err());
        assert!(check_description("d", "a<b").is_err());
        assert!(check_description("d", "a>b").is_err());
        assert!(check_description("d", "").is_ok());
    }

    #[test]
    fn names_and_ids() {
        assert!(check_name("name", "nat-1_a.b").is_ok());
        assert!(check_name("name", "").is_err());
        assert!(check_name("name", &"a".repeat(65)).is_err());
        assert!(check_name("name", "a b").is_err());
        assert!(check_uuid("id", "24dd6bf5-48f2-4915-ad0b-5bb111d39c83").is_ok());
        assert!(check_uuid("id", "24dd6bf548f24915ad0b5bb111d39c83").is_err());
        assert!(check_uuid("id", "nope").is_err());
        assert_eq!(required("x", Some("")).unwrap_err().violations()[0].field, "x");
    }
}
