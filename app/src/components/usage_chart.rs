//! The consumption chart of Account Information: credits used per day, stacked by kind, with
//! the days of a purchase marked. It is SVG in the server's HTML, so it shows before the
//! page hydrates and without JavaScript, and its summary and table say the same in words.

use crate::domain::time::Timestamp;
use crate::domain::usage::{Day, Period, USE_KINDS, totals};
use crate::i18n::{Arg, Msg};
use crate::locale::{t, tf};
use leptos::prelude::*;

/// Width of one day in the drawing's units; the drawing scales to the page.
const DAY_WIDTH: i64 = 10;
/// Height of the bars' area.
const HEIGHT: i64 = 100;

/// One day's column: its stacked segments (kind slot, top, height) and whether a purchase
/// happened that day.
#[derive(Debug, PartialEq, Eq)]
struct Column {
    x: i64,
    segments: Vec<(usize, i64, i64)>,
    purchase: bool,
}

/// Columns scaled so the busiest day fills the height; a day with any use shows at least
/// one unit, so a small day is never invisible.
fn columns(days: &[Day]) -> Vec<Column> {
    let max = days
        .iter()
        .map(|d| d.total_used().minor())
        .max()
        .unwrap_or(0)
        .max(1);
    days.iter()
        .enumerate()
        .map(|(i, day)| {
            let mut top = HEIGHT;
            let segments = day
                .used
                .iter()
                .enumerate()
                .filter(|(_, used)| used.minor() > 0)
                .map(|(slot, used)| {
                    let h = (i128::from(used.minor()) * i128::from(HEIGHT) / i128::from(max)).max(1)
                        as i64;
                    let h = h.min(top);
                    top -= h;
                    (slot, top, h)
                })
                .collect();
            Column {
                x: i as i64 * DAY_WIDTH,
                segments,
                purchase: day.bought.minor() > 0,
            }
        })
        .collect()
}

fn date(day: i64) -> String {
    Timestamp::start_of_day(day).to_string()[..10].to_owned()
}

/// The chart with its period links, summary and table. `link` gives a period's address.
#[component]
pub fn UsageChart(
    days: Vec<Day>,
    period: Period,
    whole_number: bool,
    unit_name: String,
    link: impl Fn(Period) -> String + 'static,
) -> impl IntoView {
    let amount = {
        let unit_name = unit_name.clone();
        move |c| crate::locale::amount(c, whole_number, &unit_name)
    };
    let totals = totals(&days);
    let span = Arg::Int(period.days());
    let mut summary = vec![if totals.used.minor() == 0 {
        tf(Msg::ChartNoUse, &[("days", span)])
    } else {
        tf(
            Msg::ChartSummary,
            &[
                ("days", span),
                ("used", amount(totals.used).into()),
                ("average", amount(totals.average).into()),
            ],
        )
    }];
    if let Some((day, used)) = totals.busiest {
        summary.push(tf(
            Msg::ChartBusiest,
            &[("date", date(day).into()), ("used", amount(used).into())],
        ));
    }
    if totals.purchase_days > 0 {
        summary.push(tf(
            Msg::ChartPurchases,
            &[("count", Arg::Int(totals.purchase_days as i64))],
        ));
    }
    let summary = summary.join(" ");
    let width = days.len() as i64 * DAY_WIDTH;
    let (first, last) = (
        days.first().map(|d| date(d.day)).unwrap_or_default(),
        days.last().map(|d| date(d.day)).unwrap_or_default(),
    );
    let max = days.iter().map(Day::total_used).max().unwrap_or_default();
    let rows: Vec<Day> = days
        .iter()
        .filter(|d| d.total_used().minor() > 0 || d.bought.minor() > 0)
        .rev()
        .cloned()
        .collect();
    let bars = columns(&days)
        .into_iter()
        .zip(days)
        .map(|(column, day)| {
            let title = format!("{}: {}", date(day.day), amount(day.total_used()));
            view! {
                <g>
                    <title>{title}</title>
                    {column.segments.into_iter().map(|(slot, y, h)| view! {
                        <rect class=format!("o-chart-{}", USE_KINDS[slot].as_str()) x=column.x + 1 y=y width=DAY_WIDTH - 2 height=h />
                    }).collect_view()}
                    {column.purchase.then(|| view! {
                        <path class="o-chart-purchase" d=format!("M{} {}l4 -7l4 7z", column.x + 1, HEIGHT + 9) />
                    })}
                </g>
            }
        })
        .collect_view();
    view! {
        <section class="o-usage" aria-labelledby="usage-title">
            <div class="o-usage-head">
                <h2 class="o-section-title" id="usage-title">{t(Msg::Consumption)}</h2>
                <nav class="o-segmented" aria-label=t(Msg::ChartPeriods)>
                    {Period::ALL.into_iter().map(|p| view! {
                        <a
                            href=link(p)
                            class="o-segment"
                            aria-current=(p == period).then_some("page")
                        >
                            {tf(Msg::ChartPeriod, &[("count", Arg::Int(p.days()))])}
                        </a>
                    }).collect_view()}
                </nav>
            </div>
            <figure class="o-chart">
                <svg
                    viewBox=format!("0 -4 {width} {}", HEIGHT + 14)
                    preserveAspectRatio="none"
                    role="img"
                    aria-labelledby="usage-summary"
                >
                    <line class="o-chart-axis" x1="0" y1=HEIGHT x2=width y2=HEIGHT />
                    {bars}
                </svg>
                <div class="o-chart-scale" aria-hidden="true">
                    <span>{first}</span>
                    <span>{amount(max)}</span>
                    <span>{last}</span>
                </div>
                <ul class="o-chart-legend" aria-hidden="true">
                    {USE_KINDS.into_iter().map(|kind| view! {
                        <li><span class=format!("o-chart-key o-chart-{}", kind.as_str())></span>{t(kind.label())}</li>
                    }).collect_view()}
                    <li><span class="o-chart-key o-chart-purchase"></span>{t(Msg::ChartPurchaseMark)}</li>
                </ul>
                <figcaption id="usage-summary" data-testid="usage-summary">{summary}</figcaption>
            </figure>
            {(!rows.is_empty()).then(|| view! {
                <details class="o-chart-data">
                    <summary>{t(Msg::ChartTable)}</summary>
                    <table class="o-list-table">
                        <thead>
                            <tr>
                                <th>{t(Msg::ColDate)}</th>
                                {USE_KINDS.into_iter().map(|kind| view! { <th class="o-num">{t(kind.label())}</th> }).collect_view()}
                                <th class="o-num">{t(Msg::ColUsed)}</th>
                                <th class="o-num">{t(Msg::ColBought)}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows.into_iter().map(|day| view! {
                                <tr>
                                    <td class="o-nowrap">{date(day.day)}</td>
                                    {day.used.iter().map(|used| view! { <td class="o-num">{amount(*used)}</td> }).collect_view()}
                                    <td class="o-num">{amount(day.total_used())}</td>
                                    <td class="o-num">{amount(day.bought)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::credits::Credits;

    fn day(day: i64, capture: i64, adjustment: i64, bought: i64) -> Day {
        Day {
            day,
            used: [
                Credits::from_minor(capture),
                Credits::from_minor(adjustment),
            ],
            bought: Credits::from_minor(bought),
        }
    }

    #[test]
    fn the_busiest_day_fills_the_height_and_kinds_stack_upwards() {
        let columns = columns(&[
            day(1, 30, 10, 0),
            day(2, 10, 0, 5),
            day(3, 0, 0, 0),
            day(4, 1, 0, 0),
        ]);
        assert_eq!(
            columns[0],
            Column {
                x: 0,
                segments: vec![(0, 25, 75), (1, 0, 25)],
                purchase: false
            }
        );
        assert_eq!(
            columns[1],
            Column {
                x: 10,
                segments: vec![(0, 75, 25)],
                purchase: true
            }
        );
        assert_eq!(columns[2].segments, vec![]);
        // 1 of 40 rounds to 2.5 units: shown as 2, and never less than 1.
        assert_eq!(columns[3].segments, vec![(0, 98, 2)]);
        let tiny = super::columns(&[day(1, 1_000_000, 0, 0), day(2, 1, 0, 0)]);
        assert_eq!(tiny[1].segments, vec![(0, 99, 1)]);
    }

    #[test]
    fn a_chart_without_use_draws_nothing_and_does_not_divide_by_zero() {
        let columns = columns(&[day(1, 0, 0, 10)]);
        assert_eq!(
            columns,
            vec![Column {
                x: 0,
                segments: vec![],
                purchase: true
            }]
        );
    }
}
