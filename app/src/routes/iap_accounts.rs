//! `/iap-accounts`: the IAP Account list ("View My Services"), the accounts usable by the
//! companies the user works in.

use crate::components::accounts_table::AccountsTable;
use crate::functions::iap::list_iap_accounts;
use crate::i18n::Msg;
use crate::locale::t;
use leptos::prelude::*;
use leptos_meta::Title;

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
                        Err(e) => view! { <crate::components::status::ErrorAlert error=e /> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p class="o-list-empty">{t(Msg::NoIapAccounts)}</p> }.into_any(),
                        Ok(rows) => view! {
                            <AccountsTable rows=rows.into_iter().map(|a| (a, None)).collect() link_to="/iap-accounts" />
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
