//! The list of IAP accounts, as the IAP Account list and the Technical view show it, and the
//! way both write an account's balance and companies.

use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::IapAccount;
use leptos::prelude::*;

/// "10 Credits", or "8 Credits available · 2 Credits held" while something is held.
pub fn balance_text(account: &IapAccount) -> String {
    let show = |amount| crate::locale::amount(amount, account.whole_number, &account.unit_name);
    if account.held.minor() == 0 {
        show(account.balance)
    } else {
        tf(
            Msg::AvailableHeld,
            &[
                ("available", show(account.available()).into()),
                ("held", show(account.held).into()),
            ],
        )
    }
}

/// "At the current rate, credits last about 12 days.", or why there is no such figure.
pub fn forecast_text(account: &IapAccount) -> String {
    crate::locale::text(&account.forecast().text(false))
}

/// The forecast as a list cell: "about 12 days".
pub fn forecast_short(account: &IapAccount) -> String {
    crate::locale::text(&account.forecast().text(true))
}

/// "All companies" for a shared account, else the companies it is restricted to.
pub fn companies_text(account: &IapAccount) -> String {
    if account.company_names.is_empty() {
        t(Msg::AllCompanies).to_owned()
    } else {
        account.company_names.clone()
    }
}

/// The list view of IAP accounts; a Token column appears when the rows carry tokens
/// (administrators' Technical view). Each row links to `<link_to>/<id>`.
#[component]
pub fn AccountsTable(
    rows: Vec<(IapAccount, Option<String>)>,
    link_to: &'static str,
) -> impl IntoView {
    let tokens = rows.iter().any(|(_, token)| token.is_some());
    view! {
        <table class="o-list-table">
            <thead>
                <tr>
                    <th>{t(Msg::ColService)}</th>
                    <th>{t(Msg::ColName)}</th>
                    <th>{t(Msg::ColCompanies)}</th>
                    {tokens.then(|| view! { <th>{t(Msg::ColToken)}</th> })}
                    <th class="o-num">{t(Msg::ColBalance)}</th>
                    <th>{t(Msg::ColForecast)}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|(a, token)| view! {
                    <tr class="o-data-row" tabindex="0">
                        <td><a class="o-row-link" href=format!("{link_to}/{}", a.id)>{crate::locale::service_name(&a.service, &a.service_label)}</a></td>
                        <td>
                            {a.name.clone()}
                            {a.disabled.then(|| view! { <span class="o-badge o-badge-muted">{t(Msg::Disabled)}</span> })}
                        </td>
                        <td>{companies_text(&a)}</td>
                        {token.map(|token| view! { <td><code>{token}</code></td> })}
                        <td class="o-num">{balance_text(&a)}</td>
                        <td class="o-muted" data-testid="forecast">{forecast_short(&a)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
