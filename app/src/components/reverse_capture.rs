//! Reverse, on a capture of the history: an administrator gives back all or part of what one
//! capture spent, with a reason. The credits return as a `reversal` entry linked to the
//! capture, which can be reversed only once.

use crate::components::action_dialog::{ActionButton, ActionDialog};
use crate::components::field::TextField;
use crate::components::status::FormAlert;
use crate::domain::credits::Credits;
use crate::functions::iap::AdminReverseCapture;
use crate::i18n::{Arg, Msg};
use crate::locale::{t, tf};
use crate::models::LedgerLine;
use leptos::prelude::*;

/// What the dialog needs to know about the capture and its account.
#[derive(Clone, Debug, PartialEq)]
pub struct Capture {
    pub account: i64,
    pub line: LedgerLine,
    pub whole_number: bool,
    pub unit_name: String,
}

impl Capture {
    fn amount(&self, credits: Credits) -> String {
        crate::locale::amount(credits, self.whole_number, &self.unit_name)
    }
}

/// The Reverse button of a capture line; `on_reversed` runs once a reversal was recorded
/// and the dialog closed, to show the history anew.
#[component]
pub fn ReverseCapture(capture: Capture, on_reversed: Callback<()>) -> impl IntoView {
    let label = tf(
        Msg::ReverseLabel,
        &[(
            "date",
            Arg::Text(crate::locale::date_time(capture.line.created_at)),
        )],
    );
    let capture = StoredValue::new(capture);
    view! {
        <ActionButton
            label
            text=t(Msg::Reverse)
            dialog=move |on_close| view! { <ReverseDialog capture=capture.get_value() on_close /> }
            on_done=on_reversed
        />
    }
}

#[component]
fn ReverseDialog(capture: Capture, on_close: Callback<bool>) -> impl IntoView {
    let reverse = ServerAction::<AdminReverseCapture>::new();
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = Signal::derive(move || reverse.value().get().and_then(Result::err));
    let spent = Credits::from_minor(-capture.line.amount.minor());
    let intro = tf(
        Msg::ReverseIntro,
        &[
            ("amount", Arg::Text(capture.amount(spent))),
            (
                "date",
                Arg::Text(crate::locale::date_time(capture.line.created_at)),
            ),
            (
                "description",
                Arg::Text(crate::locale::note(&capture.line.description)),
            ),
        ],
    );
    let (account, entry) = (capture.account, capture.line.id);
    let done = Signal::derive(move || {
        let given = reverse.value().get().and_then(Result::ok)?;
        Some(tf(
            Msg::ReverseDone,
            &[("amount", Arg::Text(capture.amount(given)))],
        ))
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        reverse.dispatch(AdminReverseCapture {
            id: account,
            entry,
            amount: amount.get_untracked(),
            reason: reason.get_untracked(),
        });
    };
    view! {
        <ActionDialog id="reverse-title" title=t(Msg::ReverseTitle) done testid="reverse-done" on_close>
            <form class="o-reverse" on:submit=submit novalidate>
                <p class="o-field-help">{intro.clone()}</p>
                <FormAlert error />
                <TextField name="amount" label=t(Msg::ReverseAmount) value=amount error />
                <p class="o-field-help">{t(Msg::ReverseAmountHelp)}</p>
                <TextField name="reason" label=t(Msg::ReverseReason) value=reason error />
                <div class="o-dialog-buttons">
                    <button type="submit" class="btn btn-primary" disabled=move || reverse.pending().get()>
                        {t(Msg::Reverse)}
                    </button>
                    <button type="button" class="btn btn-secondary" on:click=move |_| on_close.run(false)>
                        {t(Msg::Cancel)}
                    </button>
                </div>
            </form>
        </ActionDialog>
    }
}
