//! IPv4 address management for a subnet's CIDR blocks: which addresses may be handed out, and which
//! one to hand out next. Uniqueness itself is enforced by the store (a claim per address); this
//! module only decides candidates, so it stays pure.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// Why an explicitly requested address cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressRefusal {
    NotInSubnet,
    Reserved,
}

impl AddressRefusal {
    pub fn describe(&self, address: Ipv4Addr, blocks: &[Ipv4Net]) -> String {
        let cidrs = blocks.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(", ");
        match self {
            AddressRefusal::NotInSubnet => format!("address {address} is outside the subnet's CIDR blocks ({cidrs})"),
            AddressRefusal::Reserved => format!("address {address} is reserved (network, gateway, DNS or broadcast address)"),
        }
    }
}

/// An address in dotted-decimal text, as `Ipv4Addr`'s `Display` writes it, without the formatting
/// machinery: allocation writes several per call, and `to_string` cost about 1,100 instructions
/// each (callgrind), most of it padding support an address never uses.
pub fn text(address: Ipv4Addr) -> String {
    let mut text = String::with_capacity(15);
    push_text(&mut text, address);
    text
}

/// `text`, appended to `text`: a search over many addresses reuses one buffer.
pub fn push_text(text: &mut String, address: Ipv4Addr) {
    for (i, octet) in address.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
}

/// The network address, the gateway (first host), the DNS server (second host) and the broadcast
/// address of each block are never handed out.
pub fn is_reserved(block: &Ipv4Net, address: Ipv4Addr) -> bool {
    let a = u32::from(address);
    let net = u32::from(block.network());
    let bcast = u32::from(block.broadcast());
    a == net || a == net.wrapping_add(1) || a == net.wrapping_add(2) || a == bcast
}

/// Checks an address a client asked for.
pub fn check_requested(blocks: &[Ipv4Net], address: Ipv4Addr) -> Result<(), AddressRefusal> {
    let block = blocks.iter().find(|b| b.contains(&address)).ok_or(AddressRefusal::NotInSubnet)?;
    if is_reserved(block, address) { Err(AddressRefusal::Reserved) } else { Ok(()) }
}

/// Every address that may be handed out, block by block, lowest first.
pub fn usable(blocks: &[Ipv4Net]) -> impl Iterator<Item = Ipv4Addr> + '_ {
    blocks.iter().flat_map(|block| {
        let start = u32::from(block.network()).saturating_add(3);
        let end = u32::from(block.broadcast());
        (start..end).map(Ipv4Addr::from)
    })
}

/// The lowest usable address (in numeric order, whatever the order of the blocks) at or above
/// `from` that `taken` says is free. `from` lets a caller that knows every usable address below
/// it is taken skip them; `taken` may fail (it asks the store).
pub fn first_free<E>(
    blocks: &[Ipv4Net],
    from: Option<Ipv4Addr>,
    mut taken: impl FnMut(Ipv4Addr) -> Result<bool, E>,
) -> Result<Option<Ipv4Addr>, E> {
    let mut sorted: Vec<&Ipv4Net> = blocks.iter().collect();
    sorted.sort_by_key(|b| b.network());
    let floor = from.map_or(0, u32::from);
    for block in sorted {
        let start = u32::from(block.network()).saturating_add(3).max(floor);
        let end = u32::from(block.broadcast());
        for a in (start..end).map(Ipv4Addr::from) {
            if !taken(a)? {
                return Ok(Some(a));
            }
        }
    }
    Ok(None)
}

/// How many addresses a block can hand out.
pub fn capacity(block: &Ipv4Net) -> u64 {
    (1u64 << (32 - block.prefix_len())).saturating_sub(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn text_is_what_display_writes() {
        // Every octet value in every position, and the edges of each digit count.
        for value in 0..=255u8 {
            for address in [
                Ipv4Addr::new(value, 0, 0, 0),
                Ipv4Addr::new(0, value, 0, 0),
                Ipv4Addr::new(0, 0, value, 0),
                Ipv4Addr::new(255, 9, 10, value),
            ] {
                assert_eq!(text(address), address.to_string());
            }
        }
        assert_eq!(text(Ipv4Addr::new(100, 64, 0, 99)), "100.64.0.99");
    }

    #[test]
    fn reserved_addresses_are_skipped() {
        let blocks = [net("10.0.0.0/24")];
        assert_eq!(free(&blocks, None, |_| false), Some(ip("10.0.0.3")));
        for r in ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.255"] {
            assert_eq!(check_requested(&blocks, ip(r)), Err(AddressRefusal::Reserved), "{r}");
        }
        assert_eq!(check_requested(&blocks, ip("10.0.0.254")), Ok(()));
    }

    #[test]
    fn explicit_address_outside_the_cidr_is_refused() {
        let blocks = [net("10.0.0.0/24"), net("10.0.5.0/28")];
        assert_eq!(check_requested(&blocks, ip("10.0.1.5")), Err(AddressRefusal::NotInSubnet));
        assert_eq!(check_requested(&blocks, ip("10.0.5.7")), Ok(()));
        let text = AddressRefusal::NotInSubnet.describe(ip("10.0.1.5"), &blocks);
        assert!(text.contains("10.0.0.0/24, 10.0.5.0/28"), "{text}");
    }

    #[test]
    fn allocation_exhausts_then_fails() {
        let blocks = [net("192.168.0.0/29")];
        assert_eq!(capacity(&blocks[0]), 4);
        let mut taken = HashSet::new();
        while let Some(a) = free(&blocks, None, |a| taken.contains(&a)) {
            assert!(!is_reserved(&blocks[0], a));
            taken.insert(a);
        }
        let mut got: Vec<_> = taken.into_iter().collect();
        got.sort();
        assert_eq!(got, [ip("192.168.0.3"), ip("192.168.0.4"), ip("192.168.0.5"), ip("192.168.0.6")]);
    }

    #[test]
    fn allocation_moves_on_to_the_next_block() {
        let blocks = [net("10.1.0.0/30"), net("10.2.0.0/29")];
        // A /30 has no usable address at all: network, gateway, DNS and broadcast fill it.
        assert_eq!(free(&blocks, None, |_| false), Some(ip("10.2.0.3")));
        let unsorted = [net("10.2.0.0/29"), net("10.1.0.0/29")];
        assert_eq!(free(&unsorted, None, |_| false), Some(ip("10.1.0.3")), "lowest means numerically lowest");
    }

    #[test]
    fn a_floor_skips_what_is_known_to_be_taken() {
        let blocks = [net("10.0.0.0/24"), net("10.0.1.0/24")];
        let mut asked = Vec::new();
        let found = free(&blocks, Some(ip("10.0.0.200")), |a| {
            asked.push(a);
            false
        });
        assert_eq!((found, asked.len()), (Some(ip("10.0.0.200")), 1), "no address below the floor is looked at");
        assert_eq!(free(&blocks, Some(ip("10.0.0.255")), |_| false), Some(ip("10.0.1.3")), "a floor past a block moves on");
        let failing: Result<Option<Ipv4Addr>, &str> = first_free(&blocks, None, |_| Err("store down"));
        assert_eq!(failing, Err("store down"));
    }

    #[test]
    fn freed_addresses_are_reused_lowest_first() {
        let blocks = [net("10.0.0.0/24")];
        let taken: HashSet<_> = [ip("10.0.0.3"), ip("10.0.0.5")].into();
        assert_eq!(free(&blocks, None, |a| taken.contains(&a)), Some(ip("10.0.0.4")));
    }

    fn free(blocks: &[Ipv4Net], from: Option<Ipv4Addr>, mut taken: impl FnMut(Ipv4Addr) -> bool) -> Option<Ipv4Addr> {
        first_free::<()>(blocks, from, |a| Ok(taken(a))).unwrap()
    }
}
