//! The dialog every service shows when a hold is refused for lack of credits: what is
//! needed, what is available, and a way to buy the difference in a new tab.

use crate::domain::credits::Credits;
use crate::i18n::{Msg, t, tf};
use leptos::prelude::*;

/// The store link asking for the shortfall, so the store suggests a pack that covers it.
pub fn store_url(account_id: i64, available: i64, required: i64) -> String {
    let shortfall = Credits::from_minor((required - available).max(0))
        .display(false)
        .replace(',', "");
    format!("/iap-accounts/{account_id}/buy?credit={shortfall}")
}

#[component]
pub fn InsufficientCreditsDialog(
    account_id: i64,
    /// Minor units.
    available: i64,
    /// Minor units.
    required: i64,
    whole_number: bool,
    on_close: Callback<()>,
) -> impl IntoView {
    let show = |minor: i64| Credits::from_minor(minor).display(whole_number);
    view! {
        <div class="o-dialog-backdrop">
            <div class="o-dialog" role="dialog" aria-modal="true" aria-labelledby="insufficient-title">
                <h2 id="insufficient-title">{t(Msg::InsufficientTitle)}</h2>
                <p>{tf(Msg::InsufficientDetail, &[&show(required), &show(available)])}</p>
                <div class="o-dialog-buttons">
                    <a class="btn btn-primary" href=store_url(account_id, available, required) target="_blank" rel="external">
                        {t(Msg::BuyCredits)}
                    </a>
                    <button type="button" class="btn btn-secondary" on:click=move |_| on_close.run(())>
                        {t(Msg::Cancel)}
                    </button>
                </div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::store_url;

    #[test]
    fn the_store_is_asked_for_exactly_the_shortfall() {
        assert_eq!(
            store_url(3, 12_000, 35_000),
            "/iap-accounts/3/buy?credit=2.3"
        );
        assert_eq!(
            store_url(3, 0, 100_000_000),
            "/iap-accounts/3/buy?credit=10000"
        );
        assert_eq!(store_url(3, 50, 10), "/iap-accounts/3/buy?credit=0");
    }
}
