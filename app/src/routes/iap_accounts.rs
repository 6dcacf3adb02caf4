//! `/iap-accounts`: the IAP Account list ("View My Services"), the accounts usable by the
//! companies the user works in.

use crate::functions::iap::list_iap_accounts;
use crate::i18n::{Msg, t, tf};
use crate::models::IapAccount;
use leptos::prelude::*;
use leptos_meta::Title;

/// "10 Credits", or "8 Credits available · 2 Credits held" while something is held.
pub fn balance_text(account: &IapAccount) -> String {
    if account.held == 0 {
        account.show(account.balance)
    } else {
        tf(
            Msg::AvailableHeld,
            &[
                &account.show(account.available()),
                &account.show(account.held),
            ],
        )
    }
}

#[component]
pub fn IapAccountsPage() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| list_iap_accounts());
    view! {
        <Title text=t(Msg::IapAccountTitle) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::IapAccountTitle)}</h1>
            </div>
        </div>
        <div class="o-content">
            <Transition fallback=crate::components::status::Loading>
                {move || Suspend::new(async move {
                    match accounts.await {
                        Err(e) => view! { <p class="o-alert o-alert-danger">{e.to_string()}</p> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p class="o-list-empty">{t(Msg::NoIapAccounts)}</p> }.into_any(),
                        Ok(rows) => view! {
                            <table class="o-list-table">
                                <thead>
                                    <tr>
                                        <th>{t(Msg::ColService)}</th>
                                        <th>{t(Msg::ColName)}</th>
                                        <th>{t(Msg::ColCompanies)}</th>
                                        <th class="o-num">{t(Msg::ColBalance)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|a| {
                                        let href = format!("/iap-accounts/{}", a.id);
                                        let balance = balance_text(&a);
                                        let companies = if a.company_names.is_empty() { t(Msg::AllCompanies).to_owned() } else { a.company_names.clone() };
                                        view! {
                                            <tr class="o-data-row">
                                                <td><a class="o-row-link" href=href>{a.service_label.clone()}</a></td>
                                                <td>
                                                    {a.name.clone()}
                                                    {a.disabled.then(|| view! { <span class="o-badge o-badge-muted">{t(Msg::Disabled)}</span> })}
                                                </td>
                                                <td>{companies}</td>
                                                <td class="o-num">{balance}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
