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

    /// Whole days since 1970-01-01 (UTC), the day this moment falls in.
    pub const fn day(self) -> i64 {
        self.0.div_euclid(DAY)
    }

    /// The first moment of a day counted as in [`day`](Self::day).
    pub const fn start_of_day(day: i64) -> Self {
        Timestamp(day * DAY)
    }

    /// A date as a form's date field sends it (`YYYY-MM-DD`), at 00:00 UTC. `None` for
    /// anything else, including days that do not exist (`2026-02-30`).
    pub fn parse_date(text: &str) -> Option<Self> {
        let (date, rest) = parse_ymd(text.trim())?;
        rest.is_empty().then_some(date)
    }

    /// A date and time as a form's `datetime-local` field sends it (`YYYY-MM-DDTHH:MM`,
    /// optionally `:SS`), read as UTC, the time zone every page shows.
    pub fn parse_date_time(text: &str) -> Option<Self> {
        let (date, rest) = parse_ymd(text.trim())?;
        let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
        let parts: Vec<&str> = rest.split(':').collect();
        let field = |i: usize, max: i64| -> Option<i64> {
            let part = parts.get(i)?;
            let value: i64 = (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse().ok())??;
            (value <= max).then_some(value)
        };
        let (hour, minute) = (field(0, 23)?, field(1, 59)?);
        let second = match parts.len() {
            2 => 0,
            3 => field(2, 59)?,
            _ => return None,
        };
        Some(Timestamp(
            date.0 + hour * HOUR + minute * MINUTE + second * SECOND,
        ))
    }

    /// The first moment (00:00 UTC on the 1st) of the month this moment falls in.
    pub fn start_of_month(self) -> Self {
        let (year, month, ..) = self.utc();
        Timestamp::start_of_day(days_from_civil(i64::from(year), month, 1))
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

/// `YYYY-MM-DD` at the start of `text`, and what follows it.
fn parse_ymd(text: &str) -> Option<(Timestamp, &str)> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (year, month, day) = (text.get(0..4)?, text.get(5..7)?, text.get(8..10)?);
    if !(digits(year) && digits(month) && digits(day))
        || text.as_bytes()[4] != b'-'
        || text.as_bytes()[7] != b'-'
    {
        return None;
    }
    let (year, month, day): (i64, u32, u32) =
        (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    if !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Reject days past the month's end: they come back as another date.
    let (y, m, d) = civil_from_days(days);
    (i64::from(y) == year && m == month && d == day)
        .then(|| (Timestamp::start_of_day(days), &text[10..]))
}

/// Howard Hinnant's days-from-civil: the day count since 1970-01-01 of a date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn months_start_on_the_first_at_midnight_utc() {
        let mid_march = Timestamp::parse_date_time("2024-03-15T13:45").unwrap();
        let first = Timestamp::parse_date("2024-03-01").unwrap();
        assert_eq!(mid_march.start_of_month(), first);
        assert_eq!(first.start_of_month(), first);
        let leap_day = Timestamp::parse_date_time("2024-02-29T23:59:59").unwrap();
        assert_eq!(
            leap_day.start_of_month(),
            Timestamp::parse_date("2024-02-01").unwrap()
        );
        assert_eq!(Timestamp::from_ms(-1).start_of_month().ms(), -31 * DAY);
    }

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

    #[test]
    fn form_dates_read_as_utc_days_and_impossible_ones_are_refused() {
        assert_eq!(
            Timestamp::parse_date("1970-01-01"),
            Some(Timestamp::from_ms(0))
        );
        assert_eq!(
            Timestamp::parse_date("2000-02-29"),
            Some(Timestamp::from_ms(951_782_400_000))
        );
        assert_eq!(
            Timestamp::parse_date(" 2026-12-02 ").map(Timestamp::day),
            Some(20_789)
        );
        for bad in [
            "",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-01-01",
            "2026/01/01",
            "2026-01-01x",
        ] {
            assert_eq!(Timestamp::parse_date(bad), None, "{bad}");
        }
        for day in [-1_000, -1, 0, 1, 10_956, 20_789, 100_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(i64::from(y), m, d), day);
        }
    }

    #[test]
    fn form_date_times_read_as_utc_to_the_second() {
        let day = Timestamp::parse_date("2026-12-02").unwrap().ms();
        assert_eq!(
            Timestamp::parse_date_time("2026-12-02T13:05"),
            Some(Timestamp::from_ms(day + 13 * HOUR + 5 * MINUTE))
        );
        assert_eq!(
            Timestamp::parse_date_time("2026-12-02 23:59:59"),
            Some(Timestamp::from_ms(day + DAY - SECOND))
        );
        for bad in [
            "2026-12-02",
            "2026-12-02T24:00",
            "2026-12-02T12:60",
            "2026-12-02T1:05",
            "2026-12-02T12:05:07:01",
            "2026-12-02T12",
        ] {
            assert_eq!(Timestamp::parse_date_time(bad), None, "{bad}");
        }
    }
}
