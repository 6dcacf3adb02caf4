//! Reverse, on a capture of the history: an administrator gives back all or part of what one
//! capture spent, with a reason. The credits return as a `reversal` entry linked to the
//! capture, which can be reversed only once.

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
    let open = RwSignal::new(false);
    let label = tf(
        Msg::ReverseLabel,
        &[(
            "date",
            Arg::Text(crate::locale::date_time(capture.line.created_at)),
        )],
    );
    let capture = StoredValue::new(capture);
    view! {
        <button type="button" class="btn btn-link o-history-action" aria-label=label on:click=move |_| open.set(true)>
            {t(Msg::Reverse)}
        </button>
        <Show when=move || open.get()>
            <ReverseDialog
                capture=capture.get_value()
                on_close=Callback::new(move |reversed: bool| {
                    open.set(false);
                    if reversed {
                        on_reversed.run(());
                    }
                })
            />
        </Show>
    }
}

#[component]
fn ReverseDialog(capture: Capture, on_close: Callback<bool>) -> impl IntoView {
    let reverse = ServerAction::<AdminReverseCapture>::new();
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = Signal::derive(move || reverse.value().get().and_then(Result::err));
    let given = move || reverse.value().get().and_then(Result::ok);
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
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        reverse.dispatch(AdminReverseCapture {
            id: account,
            entry,
            amount: amount.get_untracked(),
            reason: reason.get_untracked(),
        });
    };
    let close = move || on_close.run(given().is_some());
    let done = move || {
        given().map(|credits| {
            tf(
                Msg::ReverseDone,
                &[("amount", Arg::Text(capture.amount(credits)))],
            )
        })
    };
    view! {
        <crate::components::modal::Modal labelled_by="reverse-title" class="o-dialog-md" on_close=Callback::new(move |()| close())>
            <header class="o-dialog-header">
                <h2 id="reverse-title">{t(Msg::ReverseTitle)}</h2>
                <button type="button" class="o-dialog-close" aria-label=t(Msg::Close) on:click=move |_| close()>
                    "×"
                </button>
            </header>
            <Show
                when=move || given().is_some()
                fallback=move || view! {
                    <form class="o-reverse" on:submit=submit novalidate>
                        <p class="o-field-help">{intro.clone()}</p>
                        <FormAlert error />
                        <TextField name="amount" label=t(Msg::ReverseAmount) value=amount error kind="text" />
                        <p class="o-field-help">{t(Msg::ReverseAmountHelp)}</p>
                        <TextField name="reason" label=t(Msg::ReverseReason) value=reason error />
                        <div class="o-dialog-buttons">
                            <button type="submit" class="btn btn-primary" disabled=move || reverse.pending().get()>
                                {t(Msg::Reverse)}
                            </button>
                            <button type="button" class="btn btn-secondary" on:click=move |_| close()>
                                {t(Msg::Cancel)}
                            </button>
                        </div>
                    </form>
                }
            >
                <p class="o-alert o-alert-success" role="status" data-testid="reverse-done">{done.clone()}</p>
                <div class="o-dialog-buttons">
                    <button type="button" class="btn btn-primary" on:click=move |_| close()>
                        {t(Msg::Close)}
                    </button>
                </div>
            </Show>
        </crate::components::modal::Modal>
    }
}
