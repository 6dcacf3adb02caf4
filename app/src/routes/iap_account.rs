//! `/iap-accounts/:id`: Account Information, with Buy Credit, the forecast, the consumption
//! chart, the filtered history with its CSV export, and the balance at a past moment.

use crate::components::accounts_table::{balance_text, companies_text, forecast_text};
use crate::components::balance_at::BalanceAtForm;
use crate::components::history_filters::HistoryFilters;
use crate::components::orders_table::OrdersTable;
use crate::components::reverse_capture::{Capture, ReverseCapture};
use crate::components::usage_chart::UsageChart;
use crate::domain::credits::Credits;
use crate::domain::usage::Period;
use crate::functions::iap::{account_usage, get_iap_account};
use crate::functions::store::account_orders;
use crate::i18n::{Arg, Msg};
use crate::locale::{t, tf};
use crate::models::{HistoryCursor, HistoryFilter, IapAccount, LedgerLine, SessionInfo};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The query keys the history's filters use.
const FILTER_KEYS: [&str; 4] = ["kind", "from", "to", "q"];

#[component]
pub fn IapAccountPage() -> impl IntoView {
    let id = crate::routes::id_param();
    let query = use_query_map();
    // The filter as typed in the address, and what it parses to; a refused value keeps its
    // field's text and shows the history unfiltered by nothing: no rows, the reason.
    let typed = Memo::new(move |_| {
        query.with(|q| {
            FILTER_KEYS
                .into_iter()
                .map(|k| (k, q.get(k).unwrap_or_default()))
                .collect::<Vec<_>>()
        })
    });
    let filter = Memo::new(move |_| {
        typed.with(|typed| {
            HistoryFilter::from_query(|k| {
                typed
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| v.clone())
            })
        })
    });
    let period = Memo::new(move |_| query.with(|q| Period::from_query(q.get("days").as_deref())));
    // Keyset pagination: the cursors of the pages above the current one.
    let cursors = RwSignal::new(Vec::<Option<HistoryCursor>>::new());
    let before = RwSignal::new(None::<HistoryCursor>);
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(
        move || (id(), filter.get(), before.get(), refresh.get()),
        |(id, filter, before, _)| async move {
            let (account, page) =
                get_iap_account(id, filter.clone().unwrap_or_default(), before).await?;
            let orders = account_orders(id).await?;
            let warning = crate::functions::warnings::get_account_warning(id).await?;
            let alerts = crate::functions::alerts::get_account_alerts(id).await?;
            let recharge = crate::functions::auto_recharge::get_auto_recharge(id).await?;
            Ok::<_, crate::error::AppError>((account, page, orders, warning, alerts, recharge))
        },
    );
    let usage = Resource::new(
        move || (id(), period.get(), refresh.get()),
        |(id, period, _)| account_usage(id, period),
    );

    // Back from the store in another tab: show the new balance.
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::focus, move |_| refresh.update(|n| *n += 1));
        on_cleanup(move || handle.remove());
    }

    view! {
        <Title text=t(Msg::AccountInformation) />
        <Transition fallback=crate::components::status::Loading>
            {move || Suspend::new(async move {
                match (data.await, usage.await) {
                    (Err(e), _) | (_, Err(e)) => view! { <crate::components::status::ErrorAlert error=e /> }.into_any(),
                    (Ok((account, page, orders, warning, alerts, recharge)), Ok(usage)) => {
                        let older = page.older;
                        let newer = move || !cursors.with(Vec::is_empty);
                        let base = format!("/iap-accounts/{}", account.id);
                        let (shown, error) = match filter.get_untracked() {
                            Ok(f) => (f, None),
                            Err(e) => (HistoryFilter::default(), Some(e)),
                        };
                        let filtered = shown != HistoryFilter::default();
                        let query = shown.to_query();
                        let csv = format!("{base}/history.csv{}", if query.is_empty() { String::new() } else { format!("?{query}") });
                        let link = {
                            let base = base.clone();
                            let query = query.clone();
                            move |p: Period| {
                                let days = format!("days={}", p.days());
                                if query.is_empty() { format!("{base}?{days}") } else { format!("{base}?{query}&{days}") }
                            }
                        };
                        // A refused filter lists nothing rather than something unfiltered.
                        let refused = error.is_some();
                        view! {
                            <div class="o-control-panel">
                                <div class="o-cp-left">
                                    <nav class="o-breadcrumb" aria-label="Breadcrumb">
                                        <a href="/iap-accounts">{t(Msg::IapAccountTitle)}</a>
                                        <span class="o-breadcrumb-sep">"/"</span>
                                        <span class="o-breadcrumb-current">{account.name.clone()}</span>
                                    </nav>
                                </div>
                            </div>
                            <div class="o-form-view o-form-view-single">
                                <div class="o-form-sheet">
                                    <AccountInformation account=account.clone() />
                                    <UsageChart
                                        days=usage.days
                                        period=usage.period
                                        whole_number=account.whole_number
                                        unit_name=account.unit_name.clone()
                                        link=link
                                    />
                                    <crate::components::low_credit_warning::LowCreditWarning account=account.clone() settings=warning />
                                    <crate::components::alert_thresholds::AlertThresholds
                                        account=account.clone()
                                        alerts
                                        on_change=Callback::new(move |()| refresh.update(|n| *n += 1))
                                    />
                                    <crate::components::auto_recharge::AutoRecharge
                                        account=account.clone()
                                        recharge
                                        on_change=Callback::new(move |()| refresh.update(|n| *n += 1))
                                    />
                                    <h2 class="o-section-title">{t(Msg::Orders)}</h2>
                                    <OrdersTable orders=orders on_refunded=Callback::new(move |()| refresh.update(|n| *n += 1)) />
                                    <h2 class="o-section-title" id="history">{t(Msg::History)}</h2>
                                    <HistoryFilters action=base.clone() shown typed=typed.get_untracked() error csv />
                                    {(!refused).then(|| view! {
                                        <History
                                            account=account.clone()
                                            lines=page.lines
                                            filtered
                                            on_reversed=Callback::new(move |()| refresh.update(|n| *n += 1))
                                        />
                                    })}
                                    <div class="o-pager-buttons">
                                        <button
                                            type="button"
                                            class="btn btn-secondary"
                                            disabled=move || !newer()
                                            on:click=move |_| {
                                                let previous = cursors.try_update(|c| c.pop()).flatten().flatten();
                                                before.set(previous);
                                            }
                                        >
                                            {t(Msg::Newer)}
                                        </button>
                                        <button
                                            type="button"
                                            class="btn btn-secondary"
                                            disabled=older.is_none()
                                            on:click=move |_| {
                                                cursors.update(|c| c.push(before.get_untracked()));
                                                before.set(older);
                                            }
                                        >
                                            {t(Msg::Older)}
                                        </button>
                                    </div>
                                    <BalanceAtForm account=account.id whole_number=account.whole_number unit_name=account.unit_name.clone() />
                                </div>
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn AccountInformation(account: IapAccount) -> impl IntoView {
    let store = format!("/iap-accounts/{}/buy", account.id);
    let companies = companies_text(&account);
    view! {
        <div class="o-form-buttons">
            <a class="btn btn-primary" href=store target="_blank" rel="external">{t(Msg::BuyCredit)}</a>
            {account.disabled.then(|| view! { <span class="o-badge o-badge-muted">{t(Msg::Disabled)}</span> })}
        </div>
        <h1 class="o-record-title">{t(Msg::AccountInformation)}</h1>
        <dl class="o-readonly-fields">
            <dt>{t(Msg::ColService)}</dt>
            <dd>{crate::locale::service_name(&account.service, &account.service_label)}</dd>
            <dt>{t(Msg::ColName)}</dt>
            <dd>{account.name.clone()}</dd>
            <dt>{t(Msg::ColCompanies)}</dt>
            <dd>{companies}</dd>
            <dt>{t(Msg::ColBalance)}</dt>
            <dd class="o-balance" data-testid="balance">{balance_text(&account)}</dd>
            <dt>{t(Msg::ColForecast)}</dt>
            <dd data-testid="forecast">{forecast_text(&account)}</dd>
        </dl>
    }
}

#[component]
fn History(
    account: IapAccount,
    lines: Vec<LedgerLine>,
    filtered: bool,
    on_reversed: Callback<()>,
) -> impl IntoView {
    if lines.is_empty() {
        let empty = if filtered {
            Msg::HistoryNoMatch
        } else {
            Msg::HistoryEmpty
        };
        return view! { <p class="o-list-empty">{t(empty)}</p> }.into_any();
    }
    // Administrators reverse captures from here.
    let admin = use_context::<SessionInfo>().is_some_and(|s| s.is_admin);
    let unit_name = account.unit_name.clone();
    let action = move |line: &LedgerLine| {
        if let Some(given) = line.reversed {
            let shown = crate::locale::amount(given, account.whole_number, &unit_name);
            let text = tf(Msg::ReversedBadge, &[("amount", Arg::Text(shown))]);
            Some(view! { <span class="o-muted">{text}</span> }.into_any())
        } else if line.reversible() {
            let capture = Capture {
                account: account.id,
                line: line.clone(),
                whole_number: account.whole_number,
                unit_name: unit_name.clone(),
            };
            Some(view! { <ReverseCapture capture on_reversed /> }.into_any())
        } else {
            None
        }
    };
    // `None`, not "", for no change: an empty text node is not in the server's HTML, so
    // hydrating one would fail.
    let amount = move |change: Credits| {
        (change.minor() != 0).then(|| {
            let shown = crate::locale::credits(change, account.whole_number);
            if change.minor() > 0 {
                format!("+{shown}")
            } else {
                shown
            }
        })
    };
    view! {
        <table class="o-list-table o-history">
            <thead>
                <tr>
                    <th>{t(Msg::ColDate)}</th>
                    <th>{t(Msg::ColType)}</th>
                    <th>{t(Msg::ColDescription)}</th>
                    <th class="o-num">{t(Msg::ColCredits)}</th>
                    <th class="o-num">{t(Msg::Held)}</th>
                    {admin.then(|| view! { <th><span class="o-sr-only">{t(Msg::ColActions)}</span></th> })}
                </tr>
            </thead>
            <tbody>
                {lines.into_iter().map(|line| view! {
                    <tr>
                        <td class="o-nowrap">{crate::locale::date_time(line.created_at)}</td>
                        <td>{t(line.kind.label())}</td>
                        <td>{crate::locale::note(&line.description)}</td>
                        <td class="o-num" class:o-negative=line.amount.minor() < 0>{amount(line.amount)}</td>
                        <td class="o-num o-muted">{amount(line.held_delta)}</td>
                        {admin.then(|| view! { <td class="o-nowrap">{action(&line)}</td> })}
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
