//! Resource ids: 20 characters of lowercase letters and digits, starting with a three-letter prefix
//! that tells the service and zone, as Yandex Cloud ids do. Clients treat them as opaque.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;

/// What an id is for; decides its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    Instance,
    Disk,
    Image,
    Network,
    RouteTable,
    Gateway,
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
        // Images are replicated across zones: their ids carry none.
        (IdKind::Image, _) => "fd8",
        (IdKind::Subnet, "b") => "e2l",
        (IdKind::Subnet, "d") => "fl8",
        (IdKind::Subnet, _) => "e9b",
        (IdKind::Network, _) => "enp",
        (IdKind::SecurityGroup | IdKind::RouteTable | IdKind::Gateway, _) => "enp",
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
        // Concatenated rather than formatted: an id is minted on every write, and `format!`
        // cost several times the copy.
        [prefix(kind, zone_id), &self.suffix()].concat()
    }

    /// A locally administered unicast MAC address ("d0:0d:…" as Yandex Cloud hands out).
    fn mac_address(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // Written digit by digit: `format!` with four `{:02x}` cost about 1,300 instructions.
        let mut mac = String::with_capacity(17);
        mac.push_str("d0:0d");
        for byte in &self.mac_bytes()[2..] {
            mac.push(':');
            mac.push(char::from(HEX[usize::from(byte >> 4)]));
            mac.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        mac
    }
}

/// Ids that begin with the time they were minted and end with characters from the thread-local
/// CSPRNG: stores index ids in B-trees, and ids that arrive in order fill the index's last page
/// instead of rewriting a random one per insert (on SQLite, a 4 KiB page per operation).
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeOrderedIds;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Characters at the start of a suffix that carry the minting time: milliseconds since the Unix
/// epoch in base 36 (36^9 ms is over 3,000 years). The other eight are random: 36^8 per ms.
const TIME_CHARS: usize = 9;

/// Base-36 digits in byte order, so that the time part sorts as the time does.
const SORTED_DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Random ids per millisecond: every value of the random characters.
const RANDOM_SPACE: u64 = 36u64.pow((ID_LEN - 3 - TIME_CHARS) as u32);

/// Appends `value`'s last `digits` base-36 digits, most significant first, spelled with `alphabet`.
fn push_base36(id: &mut String, mut value: u64, digits: usize, alphabet: &[u8]) {
    let mut spelled = [0u8; ID_LEN];
    for digit in spelled[..digits].iter_mut().rev() {
        *digit = alphabet[(value % 36) as usize];
        value /= 36;
    }
    id.extend(spelled[..digits].iter().map(|&c| char::from(c)));
}

/// Appends a suffix minted at `millis` (since the Unix epoch), its random part drawn from `rng`:
/// the time in 64-bit arithmetic (the 128-bit divisions it took cost more than the rest of an id)
/// and the random characters from one draw, uniform over every spelling, where each character
/// was a draw of its own.
fn push_suffix(id: &mut String, millis: u64, rng: &mut impl Rng) {
    push_base36(id, millis, TIME_CHARS, SORTED_DIGITS);
    push_base36(id, rng.random_range(0..RANDOM_SPACE), ID_LEN - 3 - TIME_CHARS, ALPHABET);
}

/// A suffix minted at `millis`.
fn suffix_at(millis: u64, rng: &mut impl Rng) -> String {
    let mut suffix = String::with_capacity(ID_LEN - 3);
    push_suffix(&mut suffix, millis, rng);
    suffix
}

fn now_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl IdGenerator for TimeOrderedIds {
    fn suffix(&self) -> String {
        suffix_at(now_millis(), &mut rand::rng())
    }
    fn id(&self, kind: IdKind, zone_id: &str) -> String {
        // Prefix and suffix written into one string: an id is minted on every write.
        let mut id = String::with_capacity(ID_LEN);
        id.push_str(prefix(kind, zone_id));
        push_suffix(&mut id, now_millis(), &mut rand::rng());
        id
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
        let id = TimeOrderedIds.id(IdKind::Instance, "ru-central1-b");
        assert_eq!(id.len(), ID_LEN);
        assert!(id.starts_with("epd"));
        assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert!(TimeOrderedIds.id(IdKind::Subnet, "ru-central1-a").starts_with("e9b"));
        assert!(TimeOrderedIds.id(IdKind::Network, "").starts_with("enp"));
    }

    #[test]
    fn ids_sort_as_they_were_minted() {
        let mut rng = rand::rng();
        let minted: Vec<String> = [0u64, 35, 36, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000]
            .into_iter()
            .map(|millis| suffix_at(millis, &mut rng))
            .collect();
        assert!(minted.windows(2).all(|w| w[0] < w[1]), "{minted:?}");
        assert!(minted.iter().all(|s| s.len() == ID_LEN - 3));
        assert_eq!(&minted[0][..TIME_CHARS], "000000000");
        assert_eq!(&minted[2][..TIME_CHARS], "000000010");
    }

    /// The random characters are one draw spelled in base 36: its least and greatest values are
    /// the alphabet's first and last character throughout, and an id minted now carries the
    /// time it was minted at.
    #[test]
    fn the_random_part_spans_its_alphabet_and_the_time_part_is_now() {
        let spell = |value| {
            let mut spelled = String::new();
            push_base36(&mut spelled, value, ID_LEN - 3 - TIME_CHARS, ALPHABET);
            spelled
        };
        assert_eq!(spell(0), "aaaaaaaa");
        assert_eq!(spell(RANDOM_SPACE - 1), "99999999");
        assert_eq!(spell(37), "aaaaaabb");
        let before = suffix_at(now_millis(), &mut rand::rng());
        let id = TimeOrderedIds.id(IdKind::Network, "");
        let after = suffix_at(now_millis(), &mut rand::rng());
        assert!(before[..TIME_CHARS] <= id[3..3 + TIME_CHARS] && id[3..3 + TIME_CHARS] <= after[..TIME_CHARS], "{before} {id} {after}");
        assert!(id[3 + TIME_CHARS..].bytes().all(|c| ALPHABET.contains(&c)), "{id}");
    }

    #[test]
    fn the_random_part_differs_within_a_millisecond() {
        let mut rng = rand::rng();
        let (a, b) = (suffix_at(7, &mut rng), suffix_at(7, &mut rng));
        assert_eq!(a[..TIME_CHARS], b[..TIME_CHARS]);
        assert_ne!(a, b);
    }

    #[test]
    fn mac_addresses_are_well_formed() {
        let mac = TimeOrderedIds.mac_address();
        assert_eq!(mac.len(), 17);
        assert!(mac.starts_with("d0:0d:"));
    }

    /// Fixed bytes and suffix, to pin how MAC addresses and ids are spelled.
    struct FixedMac([u8; 6]);

    impl IdGenerator for FixedMac {
        fn suffix(&self) -> String {
            "0".repeat(ID_LEN - 3)
        }
        fn mac_bytes(&self) -> [u8; 6] {
            self.0
        }
        fn uuid(&self) -> String {
            String::new()
        }
    }

    #[test]
    fn macs_spell_each_byte_in_two_lowercase_hex_digits_and_ids_join_prefix_and_suffix() {
        assert_eq!(FixedMac([1, 2, 0x0a, 0xff, 0x00, 0x9c]).mac_address(), "d0:0d:0a:ff:00:9c");
        assert_eq!(FixedMac([0; 6]).mac_address(), "d0:0d:00:00:00:00");
        assert_eq!(FixedMac([0, 0, 0x10, 0x01, 0xab, 0xcd]).id(IdKind::Network, ""), format!("enp{}", "0".repeat(ID_LEN - 3)));
    }
}
