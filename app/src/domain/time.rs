//! Time as iapd stores it everywhere: Unix milliseconds, UTC. Reading the clock is the
//! caller's business; these are the calendar rules.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A moment, in Unix milliseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Timestamp(i64);

pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

impl Timestamp {
    pub const fn from_ms(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub const fn ms(self) -> i64 {
        self.0
    }

    /// (year, month, day, hour, minute, second) in UTC.
    pub fn utc(self) -> (i32, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = self.0.rem_euclid(DAY) / SECOND;
        (
            year,
            month,
            day,
            (secs / 3_600) as u32,
            (secs % 3_600 / 60) as u32,
            (secs % 60) as u32,
        )
    }

    /// (year, month) in UTC, e.g. to compare with a card's expiry.
    pub fn year_month(self) -> (i32, u32) {
        let (year, month, ..) = self.utc();
        (year, month)
    }
}

impl fmt::Display for Timestamp {
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.utc();
        write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// Howard Hinnant's civil-from-days: (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_map_to_their_month() {
        assert_eq!(Timestamp::from_ms(0).year_month(), (1970, 1));
        assert_eq!(
            Timestamp::from_ms(1_795_000_000_000).year_month(),
            (2026, 11)
        );
        assert_eq!(Timestamp::from_ms(951_782_400_000).year_month(), (2000, 2)); // 2000-02-29
    }

    #[test]
    fn timestamps_show_as_utc_date_and_time() {
        assert_eq!(Timestamp::from_ms(0).to_string(), "1970-01-01 00:00:00");
        assert_eq!(
            Timestamp::from_ms(951_782_400_000 + 13 * HOUR + 5 * MINUTE + 9 * SECOND + 999)
                .to_string(),
            "2000-02-29 13:05:09"
        );
        assert_eq!(Timestamp::from_ms(-1).to_string(), "1969-12-31 23:59:59");
    }
}
