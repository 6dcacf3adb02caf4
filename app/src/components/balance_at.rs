//! "Balance at a past date" on Account Information: the ledger summed up to a moment.

use crate::error::AppError;
use crate::functions::iap::AccountBalanceAt;
use crate::i18n::{Arg, Msg};
use crate::locale::{t, tf};
use leptos::prelude::*;

#[component]
pub fn BalanceAtForm(account: i64, whole_number: bool, unit_name: String) -> impl IntoView {
    let at = RwSignal::new(String::new());
    let ask = ServerAction::<AccountBalanceAt>::new();
    let error = Signal::derive(move || ask.value().get().and_then(Result::err));
    let answer = move || {
        let amount = |c| crate::locale::amount(c, whole_number, &unit_name);
        ask.value().get().and_then(Result::ok).map(|b| {
            tf(
                Msg::BalanceAtResult,
                &[
                    ("date", Arg::Text(crate::locale::date_time(b.at))),
                    ("balance", amount(b.balance).into()),
                    ("held", amount(b.held).into()),
                ],
            )
        })
    };
    view! {
        <form
            class="o-balance-at"
            aria-labelledby="balance-at-title"
            on:submit=move |ev| {
                ev.prevent_default();
                ask.dispatch(AccountBalanceAt { id: account, at: at.get_untracked() });
            }
        >
            <h2 class="o-section-title" id="balance-at-title">{t(Msg::BalanceAtTitle)}</h2>
            <div class="o-balance-at-row">
                <crate::components::field::TextField
                    name="at"
                    label=t(Msg::BalanceAtField)
                    value=at
                    error=error
                    kind="datetime-local"
                />
                <button type="submit" class="btn btn-secondary" disabled=move || ask.pending().get()>
                    {t(Msg::BalanceAtShow)}
                </button>
            </div>
            <p class="o-balance-at-answer" role="status" data-testid="balance-at">{answer}</p>
            {move || error.get().filter(|e| !matches!(e, AppError::Validation(_))).map(|e| view! {
                <crate::components::status::ErrorAlert error=e />
            })}
        </form>
    }
}
