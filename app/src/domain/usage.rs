//! What an account's ledger says about its use: credits used per day for the consumption
//! chart, and how long the credits last at the current rate.

use crate::domain::credits::Credits;
use crate::domain::ledger::EntryKind;
use crate::domain::time::{DAY, Timestamp};
use crate::i18n::{Arg, Msg, Text};
use serde::{Deserialize, Serialize};

/// The spans the consumption chart offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Period {
    #[default]
    Days30,
    Days90,
    Days365,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Days30, Period::Days90, Period::Days365];

    pub const fn days(self) -> i64 {
        match self {
            Period::Days30 => 30,
            Period::Days90 => 90,
            Period::Days365 => 365,
        }
    }

    /// The span a page's address names (`?days=90`); anything else is the default.
    pub fn from_query(value: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|p| value == Some(p.days().to_string().as_str()))
            .unwrap_or_default()
    }

    /// The first day of the span that ends with the day `now` falls in.
    pub const fn first_day(self, now: Timestamp) -> i64 {
        now.day() - self.days() + 1
    }
}

/// The kinds that take credits away from a balance, in the order the chart stacks them;
/// captures come first, as reversals give back from them.
pub const USE_KINDS: [EntryKind; 2] = [EntryKind::Capture, EntryKind::Adjustment];

/// One day of the chart: credits used by kind (as positive amounts), and credits bought.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    /// Days since 1970-01-01, UTC.
    pub day: i64,
    /// Per [`USE_KINDS`], in that order.
    pub used: [Credits; USE_KINDS.len()],
    /// Credits bought that day (purchases, and the free trial).
    pub bought: Credits,
}

impl Day {
    pub fn total_used(&self) -> Credits {
        Credits::from_minor(self.used.iter().map(|c| c.minor()).sum())
    }
}

/// One ledger sum as the database groups it: a day, a kind, and the signed total of that
/// kind's amounts that day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySum {
    pub day: i64,
    pub kind: EntryKind,
    pub amount: Credits,
}

/// Every day of `period` up to the day of `now`, in order, with the sums that fall in it;
/// days without entries are there, at zero, so the chart's bars keep their places.
pub fn series(period: Period, now: Timestamp, sums: &[DaySum]) -> Vec<Day> {
    let first = period.first_day(now);
    let mut days: Vec<Day> = (first..=now.day())
        .map(|day| Day {
            day,
            ..Day::default()
        })
        .collect();
    let mut given_back = vec![0i64; days.len()];
    for sum in sums {
        let Some((i, day)) = usize::try_from(sum.day - first)
            .ok()
            .and_then(|i| Some((i, days.get_mut(i)?)))
        else {
            continue;
        };
        let amount = sum.amount.minor();
        if let Some(slot) = USE_KINDS.iter().position(|k| *k == sum.kind) {
            if amount < 0 {
                day.used[slot] = Credits::from_minor(day.used[slot].minor().saturating_sub(amount));
            }
        } else if sum.kind == EntryKind::Reversal && amount > 0 {
            given_back[i] = given_back[i].saturating_add(amount);
        } else if matches!(sum.kind, EntryKind::Purchase | EntryKind::Trial) && amount > 0 {
            day.bought = Credits::from_minor(day.bought.minor().saturating_add(amount));
        }
    }
    // Credits given back lessen the captures of the day they were given back, never below
    // nothing (the capture may have been on an earlier day).
    for (day, back) in days.iter_mut().zip(given_back) {
        let captured = &mut day.used[0];
        *captured = Credits::from_minor(captured.minor().saturating_sub(back).max(0));
    }
    days
}

/// What a series adds up to, for the chart's text alternative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub used: Credits,
    /// Average use per day over the whole span, rounded down to a minor unit.
    pub average: Credits,
    /// Days with at least one purchase.
    pub purchase_days: usize,
    /// The day with the most use, if any credit was used.
    pub busiest: Option<(i64, Credits)>,
}

pub fn totals(days: &[Day]) -> Totals {
    let used: i64 = days.iter().map(|d| d.total_used().minor()).sum();
    let busiest = days
        .iter()
        .map(|d| (d.day, d.total_used()))
        .filter(|(_, used)| used.minor() > 0)
        .max_by_key(|&(day, used)| (used, std::cmp::Reverse(day)));
    Totals {
        used: Credits::from_minor(used),
        average: Credits::from_minor(used / (days.len().max(1) as i64)),
        purchase_days: days.iter().filter(|d| d.bought.minor() > 0).count(),
        busiest,
    }
}

/// The trailing span the forecast averages over.
pub const FORECAST_WINDOW: i64 = 7 * DAY;

/// How long the available credits last at the rate of the last seven days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Forecast {
    /// Nothing available: the next operation is refused.
    Depleted,
    /// Nothing used in the last seven days, so no rate to go by.
    NoRecentUse,
    /// About this many whole days.
    Days(u32),
}

impl Forecast {
    /// From the credits available now and those captured over [`FORECAST_WINDOW`].
    pub fn new(available: Credits, used_last_week: Credits) -> Self {
        if available.minor() <= 0 {
            return Forecast::Depleted;
        }
        if used_last_week.minor() <= 0 {
            return Forecast::NoRecentUse;
        }
        let per_week = FORECAST_WINDOW / DAY;
        let days = i128::from(available.minor()) * i128::from(per_week)
            / i128::from(used_last_week.minor());
        Forecast::Days(u32::try_from(days).unwrap_or(u32::MAX))
    }

    /// What it says: a sentence ("At the current rate, credits last about 12 days."), or
    /// `short`, a list cell ("about 12 days").
    pub fn text(self, short: bool) -> Text {
        let pick = |long, brief| if short { brief } else { long };
        let msg = match self {
            Forecast::Depleted => pick(Msg::ForecastDepleted, Msg::ForecastShortDepleted),
            Forecast::NoRecentUse => pick(Msg::ForecastNoUse, Msg::ForecastShortNoUse),
            Forecast::Days(0) => pick(Msg::ForecastWithinDay, Msg::ForecastShortWithinDay),
            Forecast::Days(_) => pick(Msg::ForecastDays, Msg::ForecastShortDays),
        };
        let args = match self {
            Forecast::Days(days) if days > 0 => vec![("days".to_owned(), Arg::Int(days.into()))],
            _ => Vec::new(),
        };
        Text { msg, args }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credits(whole: i64) -> Credits {
        Credits::whole(whole).unwrap()
    }

    #[test]
    fn the_forecast_divides_what_is_available_by_the_weekly_rate() {
        assert_eq!(Forecast::new(credits(70), credits(7)), Forecast::Days(70));
        // 10 credits at 3 a week: 23.3 days, about 23.
        assert_eq!(Forecast::new(credits(10), credits(3)), Forecast::Days(23));
        // Less than a day's use left.
        assert_eq!(Forecast::new(credits(1), credits(70)), Forecast::Days(0));
        assert_eq!(
            Forecast::new(credits(5), Credits::ZERO),
            Forecast::NoRecentUse
        );
        assert_eq!(Forecast::new(Credits::ZERO, credits(7)), Forecast::Depleted);
        assert_eq!(
            Forecast::new(credits(-3), Credits::ZERO),
            Forecast::Depleted
        );
        // The largest balance over the smallest use does not overflow.
        assert_eq!(
            Forecast::new(Credits::from_minor(i64::MAX), Credits::from_minor(1)),
            Forecast::Days(u32::MAX)
        );
    }

    #[test]
    fn the_forecast_says_itself_long_and_short() {
        let say = |f: Forecast, short| f.text(short).to_string();
        assert_eq!(
            say(Forecast::Days(12), false),
            "At the current rate, credits last about 12 days."
        );
        assert_eq!(say(Forecast::Days(1), true), "about 1 day");
        assert_eq!(say(Forecast::Days(0), true), "less than a day");
        assert_eq!(
            say(Forecast::NoRecentUse, false),
            "No credits used in the last 7 days."
        );
        assert_eq!(say(Forecast::Depleted, true), "depleted");
    }

    #[test]
    fn periods_come_from_the_address_and_default_to_thirty_days() {
        assert_eq!(Period::from_query(Some("90")), Period::Days90);
        assert_eq!(Period::from_query(Some("365")), Period::Days365);
        assert_eq!(Period::from_query(Some("7")), Period::Days30);
        assert_eq!(Period::from_query(None), Period::Days30);
        let now = Timestamp::from_ms(100 * DAY + 5);
        assert_eq!(Period::Days30.first_day(now), 71);
    }

    #[test]
    fn the_series_has_every_day_and_stacks_use_by_kind() {
        let now = Timestamp::from_ms(100 * DAY + 1_000);
        let sum = |day, kind, amount| DaySum {
            day,
            kind,
            amount: credits(amount),
        };
        let days = series(
            Period::Days30,
            now,
            &[
                sum(60, EntryKind::Capture, -9), // before the span
                sum(71, EntryKind::Capture, -2),
                sum(71, EntryKind::Adjustment, -1),
                sum(71, EntryKind::Purchase, 100),
                sum(80, EntryKind::Adjustment, 4), // a credit, not use
                sum(80, EntryKind::Hold, 0),
                sum(100, EntryKind::Trial, 10),
                sum(100, EntryKind::Reversal, 1), // before or after its captures
                sum(100, EntryKind::Capture, -5),
                sum(101, EntryKind::Capture, -7), // after now
                sum(80, EntryKind::Reversal, 3),  // more than that day's captures
            ],
        );
        assert_eq!(days.len(), 30);
        assert_eq!(days.first().map(|d| d.day), Some(71));
        assert_eq!(days.last().map(|d| d.day), Some(100));
        assert_eq!(days[0].used, [credits(2), credits(1)]);
        assert_eq!(days[0].bought, credits(100));
        assert_eq!(
            days[9],
            Day {
                day: 80,
                ..Day::default()
            }
        );
        assert_eq!(days[29].used, [credits(4), Credits::ZERO]);
        assert_eq!(days[29].bought, credits(10));

        let totals = totals(&days);
        assert_eq!(totals.used, credits(7));
        assert_eq!(totals.average, Credits::from_minor(credits(7).minor() / 30));
        assert_eq!(totals.purchase_days, 2);
        assert_eq!(totals.busiest, Some((100, credits(4))));
    }

    #[test]
    fn an_empty_series_has_no_busiest_day() {
        let days = series(Period::Days30, Timestamp::from_ms(0), &[]);
        let totals = totals(&days);
        assert_eq!(
            (totals.used, totals.busiest, totals.purchase_days),
            (Credits::ZERO, None, 0)
        );
    }
}
