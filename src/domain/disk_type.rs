//! Disk types and the size rules each one sets: sizes in 4 MiB steps for network HDD and SSD, in
//! 93 GiB steps for the non-replicated and io-m3 types; the largest size grows with the block size.

use super::zone::ZONES;

pub const MIB: i64 = 1 << 20;
pub const GIB: i64 = 1 << 30;
pub const TIB: i64 = 1 << 40;

/// The block size of a disk created without one.
pub const DEFAULT_BLOCK_SIZE: i64 = 4096;
/// The type of a disk created without one (what Terraform and yc send when unset).
pub const DEFAULT_TYPE: &str = "network-hdd";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskType {
    pub id: &'static str,
    pub description: &'static str,
    /// Sizes are whole multiples of this.
    pub size_step: i64,
}

pub const DISK_TYPES: &[DiskType] = &[
    DiskType { id: "network-hdd", description: "Network storage with HDD backend", size_step: 4 * MIB },
    DiskType { id: "network-ssd", description: "Network storage with SSD backend", size_step: 4 * MIB },
    DiskType { id: "network-ssd-io-m3", description: "Fast network storage with three replicas", size_step: 93 * GIB },
    DiskType { id: "network-ssd-nonreplicated", description: "Non-replicated network storage with SSD backend", size_step: 93 * GIB },
];

impl DiskType {
    pub fn find(id: &str) -> Option<&'static DiskType> {
        DISK_TYPES.iter().find(|t| t.id == id)
    }

    /// Every zone offers every type.
    pub fn zone_ids(&self) -> Vec<String> {
        ZONES.iter().map(|z| z.to_string()).collect()
    }

    /// Why `size` is not a size of this type with `block_size`, if it is not.
    pub fn size_problem(&self, size: i64, block_size: i64) -> Option<String> {
        let max = max_size(block_size);
        if size < self.size_step {
            return Some(format!("must be at least {} bytes for disk type {}", self.size_step, self.id));
        }
        if size > max {
            return Some(format!("must be at most {max} bytes with block size {block_size}"));
        }
        if size % self.size_step != 0 {
            return Some(format!("must be a multiple of {} bytes for disk type {}", self.size_step, self.id));
        }
        None
    }
}

/// Why `block_size` is not a block size, if it is not: a power of two from 4 KiB to 128 KiB.
pub fn block_size_problem(block_size: i64) -> Option<String> {
    let ok = (4096..=128 * 1024).contains(&block_size) && (block_size as u64).is_power_of_two();
    (!ok).then(|| "must be a power of two from 4096 to 131072".to_string())
}

/// The largest disk for a block size: 8 TiB at 4 KiB, doubling with it up to 256 TiB at 128 KiB.
pub fn max_size(block_size: i64) -> i64 {
    8 * TIB * (block_size / DEFAULT_BLOCK_SIZE).clamp(1, 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_each_types_step_and_the_block_sizes_ceiling() {
        let hdd = DiskType::find("network-hdd").unwrap();
        assert_eq!(hdd.size_problem(10 * GIB, 4096), None);
        assert!(hdd.size_problem(10 * GIB + 1, 4096).is_some());
        assert!(hdd.size_problem(0, 4096).is_some());
        assert!(hdd.size_problem(9 * TIB, 4096).is_some());
        assert_eq!(hdd.size_problem(9 * TIB, 8192), None);
        let nrd = DiskType::find("network-ssd-nonreplicated").unwrap();
        assert_eq!(nrd.size_problem(93 * GIB, 4096), None);
        assert!(nrd.size_problem(100 * GIB, 4096).is_some());
        assert!(DiskType::find("network-nvme").is_none());
    }

    #[test]
    fn block_sizes_are_powers_of_two_in_range() {
        assert_eq!(block_size_problem(4096), None);
        assert_eq!(block_size_problem(131072), None);
        assert!(block_size_problem(2048).is_some());
        assert!(block_size_problem(12288).is_some());
        assert_eq!(max_size(131072), 256 * TIB);
    }
}
