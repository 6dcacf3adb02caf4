//! `/iap-accounts/:id`: Account Information, with Buy Credit and the consumption history.

use crate::components::accounts_table::{balance_text, companies_text};
use crate::components::orders_table::OrdersTable;
use crate::domain::credits::Credits;
use crate::functions::iap::get_iap_account;
use crate::functions::store::account_orders;
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::{IapAccount, LedgerLine};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn IapAccountPage() -> impl IntoView {
    let id = crate::routes::id_param();
    // Keyset pagination: the cursors of the pages above the current one.
    let cursors = RwSignal::new(Vec::<Option<i64>>::new());
    let before = RwSignal::new(None::<i64>);
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(
        move || (id(), before.get(), refresh.get()),
        |(id, before, _)| async move {
            let (account, page) = get_iap_account(id, before).await?;
            let orders = account_orders(id).await?;
            let warning = crate::functions::warnings::get_account_warning(id).await?;
            Ok::<_, crate::error::AppError>((account, page, orders, warning))
        },
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
                match data.await {
                    Err(e) => view! { <crate::components::status::ErrorAlert error=e /> }.into_any(),
                    Ok((account, page, orders, warning)) => {
                        let older = page.older;
                        let newer = move || !cursors.with(Vec::is_empty);
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
                                    <crate::components::low_credit_warning::LowCreditWarning account=account.clone() settings=warning />
                                    <h2 class="o-section-title">{t(Msg::Orders)}</h2>
                                    <OrdersTable orders=orders />
                                    <h2 class="o-section-title">{t(Msg::History)}</h2>
                                    <History account lines=page.lines />
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
        </dl>
    }
}

#[component]
fn History(account: IapAccount, lines: Vec<LedgerLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="o-list-empty">{t(Msg::HistoryEmpty)}</p> }.into_any();
    }
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
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
