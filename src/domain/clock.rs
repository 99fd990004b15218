//! Timestamps and the injected clock. Domain code never reads the system time itself.

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch: ordered, compact and exact in every backend's integer column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }
    pub fn subsec_nanos(self) -> i32 {
        (self.0.rem_euclid(1_000_000) * 1000) as i32
    }
    pub fn plus_millis(self, millis: u64) -> Timestamp {
        Timestamp(self.0.saturating_add((millis as i64).saturating_mul(1000)))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(at: SystemTime) -> Timestamp {
        let micros = match at.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
        };
        Timestamp(micros)
    }
}

/// Where "now" comes from; tests inject a fixed or stepping clock.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from(SystemTime::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_into_seconds_and_nanos() {
        let t = Timestamp(1_700_000_000_123_456);
        assert_eq!(t.seconds(), 1_700_000_000);
        assert_eq!(t.subsec_nanos(), 123_456_000);
        assert_eq!(t.plus_millis(2).0, 1_700_000_000_125_456);
    }
}
