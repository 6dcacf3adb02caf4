//! The dialog every service shows when a hold is refused for lack of credits: what is
//! needed, what is available, and a way to buy the difference in a new tab.

use crate::domain::credits::Credits;
use crate::i18n::Msg;
use crate::locale::{t, tf};
use leptos::prelude::*;

/// The store link asking for the shortfall, so the store suggests a pack that covers it.
pub fn store_url(account_id: i64, available: Credits, required: Credits) -> String {
    let shortfall = Credits::from_minor((required.minor() - available.minor()).max(0))
        .display(false)
        .replace(',', "");
    format!("/iap-accounts/{account_id}/buy?credit={shortfall}")
}

#[component]
pub fn InsufficientCreditsDialog(
    account_id: i64,
    available: Credits,
    required: Credits,
    whole_number: bool,
    on_close: Callback<()>,
) -> impl IntoView {
    view! {
        <crate::components::modal::Modal labelled_by="insufficient-title" on_close>
                <h2 id="insufficient-title">{t(Msg::InsufficientTitle)}</h2>
                <p>
                    {tf(
                        Msg::InsufficientDetail,
                        &[("required", required.arg(whole_number)), ("available", available.arg(whole_number))],
                    )}
                </p>
                <div class="o-dialog-buttons">
                    <a class="btn btn-primary" href=store_url(account_id, available, required) target="_blank" rel="external">
                        {t(Msg::BuyCredits)}
                    </a>
                    <button type="button" class="btn btn-secondary" on:click=move |_| on_close.run(())>
                        {t(Msg::Cancel)}
                    </button>
                </div>
        </crate::components::modal::Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::store_url;
    use crate::domain::credits::Credits;

    #[test]
    fn the_store_is_asked_for_exactly_the_shortfall() {
        let c = Credits::from_minor;
        assert_eq!(
            store_url(3, c(12_000), c(35_000)),
            "/iap-accounts/3/buy?credit=2.3"
        );
        assert_eq!(
            store_url(3, c(0), c(100_000_000)),
            "/iap-accounts/3/buy?credit=10000"
        );
        assert_eq!(store_url(3, c(50), c(10)), "/iap-accounts/3/buy?credit=0");
    }
}
