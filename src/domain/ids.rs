//! Resource ids: 20 characters of lowercase letters and digits, starting with a three-letter prefix
//! that tells the service and zone, as Yandex Cloud ids do. Clients treat them as opaque.

use rand::Rng;

/// What an id is for; decides its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    Instance,
    Disk,
    Network,
    Subnet,
    SecurityGroup,
    Address,
    ComputeOperation,
    VpcOperation,
}

/// The three-letter prefix for `kind` in `zone_id` (zone-less kinds ignore the zone).
pub fn prefix(kind: IdKind, zone_id: &str) -> &'static str {
    let zone = zone_id.rsplit('-').next().unwrap_or("a");
    match (kind, zone) {
        (IdKind::Instance | IdKind::Disk | IdKind::ComputeOperation, "b") => "epd",
        (IdKind::Instance | IdKind::Disk | IdKind::ComputeOperation, "d") => "fv4",
        (IdKind::Instance | IdKind::Disk | IdKind::ComputeOperation, _) => "fhm",
        (IdKind::Subnet, "b") => "e2l",
        (IdKind::Subnet, "d") => "fl8",
        (IdKind::Subnet, _) => "e9b",
        (IdKind::Network, _) => "enp",
        (IdKind::SecurityGroup, _) => "enp",
        (IdKind::Address, "b") => "e2l",
        (IdKind::Address, "d") => "fl8",
        (IdKind::Address, _) => "e9b",
        (IdKind::VpcOperation, _) => "enp",
    }
}

pub const ID_LEN: usize = 20;

/// Mints ids and MAC addresses; injected so tests can be deterministic.
pub trait IdGenerator: Send + Sync + 'static {
    /// `ID_LEN - 3` lowercase alphanumerics.
    fn suffix(&self) -> String;
    /// Six random bytes for a MAC address.
    fn mac_bytes(&self) -> [u8; 6];
    /// A UUID in its hyphenated form: Huawei Cloud's resource ids.
    fn uuid(&self) -> String;

    fn id(&self, kind: IdKind, zone_id: &str) -> String {
        format!("{}{}", prefix(kind, zone_id), self.suffix())
    }

    /// A locally administered unicast MAC address ("d0:0d:…" as Yandex Cloud hands out).
    fn mac_address(&self) -> String {
        let b = self.mac_bytes();
        format!("d0:0d:{:02x}:{:02x}:{:02x}:{:02x}", b[2], b[3], b[4], b[5])
    }
}

/// Random ids from the thread-local CSPRNG.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomIds;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl IdGenerator for RandomIds {
    fn suffix(&self) -> String {
        let mut rng = rand::rng();
        (0..ID_LEN - 3).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
    }
    fn mac_bytes(&self) -> [u8; 6] {
        rand::rng().random()
    }
    fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_zone_prefix_and_twenty_characters() {
        let id = RandomIds.id(IdKind::Instance, "ru-central1-b");
        assert_eq!(id.len(), ID_LEN);
        assert!(id.starts_with("epd"));
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert!(RandomIds.id(IdKind::Subnet, "ru-central1-a").starts_with("e9b"));
        assert!(RandomIds.id(IdKind::Network, "").starts_with("enp"));
    }

    #[test]
    fn mac_addresses_are_well_formed() {
        let mac = RandomIds.mac_address();
        assert_eq!(mac.len(), 17);
        assert!(mac.starts_with("d0:0d:"));
    }
}
