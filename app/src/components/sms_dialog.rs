//! The Send SMS Text Message pop-up: recipients, the Message field with a live segment
//! counter and cost, and Send SMS. The count comes from `domain::sms`, the same code the
//! server prices the message with. Once the batch is queued, the pop-up follows it until
//! every message went out or failed.

use crate::components::insufficient_credits::InsufficientCreditsDialog;
use crate::components::status::ErrorAlert;
use crate::domain::credits::Credits;
use crate::domain::sms::{self, MESSAGE_MAX_CHARS};
use crate::error::AppError;
use crate::functions::sms::{quote_sms, send_sms, sms_batch};
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::{NumberField, SmsBatchState, SmsBatchStatus, SmsInput, SmsQueued, SmsQuote};
use leptos::prelude::*;

#[component]
pub fn SendSmsDialog(
    contact_ids: Vec<i64>,
    field: NumberField,
    on_close: Callback<()>,
    on_sent: Callback<SmsQueued>,
) -> impl IntoView {
    let quote = Resource::new(|| (), move |_| quote_sms(contact_ids.clone(), field));
    view! {
        <crate::components::modal::Modal labelled_by="sms-title" class="o-dialog-lg" on_close>
                <header class="o-dialog-header">
                    <h2 id="sms-title">{t(Msg::SendSmsTitle)}</h2>
                    <button type="button" class="o-dialog-close" aria-label=t(Msg::Close) on:click=move |_| on_close.run(())>
                        "×"
                    </button>
                </header>
                <Suspense fallback=crate::components::status::Loading>
                    {move || Suspend::new(async move {
                        match quote.await {
                            Err(e) => view! {
                                <crate::components::status::ErrorAlert error=e />
                                <div class="o-dialog-buttons">
                                    <button type="button" class="btn btn-secondary" on:click=move |_| on_close.run(())>
                                        {t(Msg::Cancel)}
                                    </button>
                                </div>
                            }
                                .into_any(),
                            Ok(quote) => view! {
                                <SmsForm field quote on_close on_sent />
                            }
                                .into_any(),
                        }
                    })}
                </Suspense>
        </crate::components::modal::Modal>
    }
}

#[component]
fn SmsForm(
    field: NumberField,
    quote: SmsQuote,
    on_close: Callback<()>,
    on_sent: Callback<SmsQueued>,
) -> impl IntoView {
    let queued = RwSignal::new(None::<SmsQueued>);
    view! {
        {move || match queued.get() {
            Some(queued) => view! { <SmsProgress queued on_close /> }.into_any(),
            None => {
                let sent = Callback::new(move |q: SmsQueued| {
                    queued.set(Some(q.clone()));
                    on_sent.run(q);
                });
                view! { <SmsCompose field quote=quote.clone() on_close on_sent=sent /> }.into_any()
            }
        }}
    }
}

#[component]
fn SmsCompose(
    field: NumberField,
    quote: SmsQuote,
    on_close: Callback<()>,
    on_sent: Callback<SmsQueued>,
) -> impl IntoView {
    let body = RwSignal::new(String::new());
    // The Message field takes the focus once the recipients are known and it appears.
    let body_field = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(field) = body_field.get() {
            let _ = field.focus();
        }
    });
    // Each attempt gets its own key; a retried request of the same attempt sends once.
    let attempt = RwSignal::new(0u32);
    let shortfall = RwSignal::new(None::<(Credits, Credits)>);
    let segments = Memo::new(move |_| body.with(|b| sms::count(b)));
    let price_total: i64 = quote
        .recipients
        .iter()
        .filter_map(|r| r.price_per_part.map(Credits::minor))
        .sum();
    let whole = quote.whole_number;
    let unit = quote.unit_name.clone();
    let cost = move || {
        let minor = Credits::from_minor(segments.get().parts.saturating_mul(price_total));
        crate::locale::amount(minor, whole, &unit)
    };
    let counter = move || {
        let s = segments.get();
        tf(
            Msg::SmsCounter,
            &[
                ("characters", s.characters.into()),
                ("parts", s.parts.into()),
                ("encoding", s.encoding.label().into()),
            ],
        )
    };
    let problems: Vec<String> = quote
        .recipients
        .iter()
        .filter_map(|r| r.problem.as_ref().map(ToString::to_string))
        .collect();
    // Those who cannot be texted are left out; only a send to nobody is pointless.
    let blocked = problems.len() == quote.recipients.len();
    let some_left_out = !problems.is_empty() && !blocked;

    let send = Action::new(move |input: &SmsInput| send_sms(input.clone()));
    let error = Signal::derive(move || send.value().get().and_then(Result::err));
    Effect::new(move |_| match send.value().get() {
        Some(Ok(sent)) => on_sent.run(sent),
        Some(Err(AppError::InsufficientCredits {
            available,
            required,
        })) => {
            attempt.update(|n| *n += 1);
            shortfall.set(Some((available, required)));
        }
        Some(Err(AppError::Transport(_))) | None => {}
        Some(Err(_)) => attempt.update(|n| *n += 1),
    });
    let key = quote.request_key.clone();
    let contact_ids: Vec<i64> = quote.recipients.iter().map(|r| r.contact_id).collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send.dispatch(SmsInput {
            contact_ids: contact_ids.clone(),
            field,
            body: body.get_untracked(),
            request_key: format!("{key}-{}", attempt.get_untracked()),
        });
    };
    let body_error = move || {
        error
            .get()
            .and_then(|e| crate::locale::field_error(&e, "body"))
    };
    let general_error = move || {
        error.get().filter(|e| {
            e.field("body").is_none() && !matches!(e, AppError::InsufficientCredits { .. })
        })
    };
    let single = quote.recipients.len() == 1;
    let account_id = quote.account_id;

    view! {
        <form class="o-sms-form" on:submit=submit novalidate>
            <div class="o-field">
                <span class="o-field-label">{t(Msg::SmsRecipient)}</span>
                <div class="o-field-widget">
                    <Show
                        when=move || single
                        fallback={
                            let count = tf(Msg::SmsRecipientCount, &[("count", quote.recipients.len().into())]);
                            let names = quote.recipients.iter().map(|r| r.name.clone()).collect::<Vec<_>>().join(", ");
                            move || view! { <span class="o-sms-recipients" title=names.clone()>{count.clone()}</span> }
                        }
                    >
                        {quote.recipients.first().map(|r| view! {
                            <span class="o-sms-recipient">{r.name.clone()}" "<span class="o-muted">{format!("({})", r.number)}</span></span>
                        })}
                    </Show>
                </div>
            </div>
            {(!problems.is_empty()).then(|| view! {
                <div class="o-alert o-alert-warning o-sms-skipped" role="alert">
                    {some_left_out.then(|| view! { <p>{t(Msg::SmsSkippedHeading)}</p> })}
                    <ul>{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                </div>
            })}
            <div class="o-field" class:o-field-invalid=move || body_error().is_some()>
                <label class="o-field-label" for="sms-body">{t(Msg::SmsMessage)}</label>
                <div class="o-field-widget">
                    <textarea
                        node_ref=body_field
                        id="sms-body"
                        name="body"
                        rows="5"
                        maxlength=MESSAGE_MAX_CHARS.to_string()
                        aria-invalid=move || body_error().is_some().to_string()
                        aria-describedby="sms-counter sms-hint"
                        prop:value=move || body.get()
                        on:input=move |ev| body.set(event_target_value(&ev))
                    ></textarea>
                    <div class="o-sms-meta">
                        <span id="sms-counter" class="o-sms-counter" aria-live="polite">{counter}</span>
                        <span class="o-sms-cost">{t(Msg::SmsCost)}": "<strong data-testid="sms-cost">{cost}</strong></span>
                    </div>
                    <p id="sms-hint" class="o-field-help">{tf(Msg::SmsMaxHint, &[("max", MESSAGE_MAX_CHARS.into())])}</p>
                    {move || body_error().map(|m| view! { <div class="o-field-error" role="alert">{m}</div> })}
                </div>
            </div>
            {move || general_error().map(|error| view! { <ErrorAlert error /> })}
            <div class="o-dialog-buttons">
                <button type="submit" class="btn btn-primary" disabled=move || blocked || send.pending().get()>
                    {t(Msg::SendSms)}
                </button>
                <button type="button" class="btn btn-secondary" on:click=move |_| on_close.run(())>
                    {t(Msg::Cancel)}
                </button>
            </div>
        </form>
        {move || shortfall.get().map(|(available, required)| view! {
            <InsufficientCreditsDialog
                account_id
                available
                required
                whole_number=whole
                on_close=Callback::new(move |_| shortfall.set(None))
            />
        })}
    }
}

/// A queued batch as it makes progress: what was reserved, then how many went out, failed
/// or wait, until it is done.
#[component]
fn SmsProgress(queued: SmsQueued, on_close: Callback<()>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let batch = queued.batch_id;
    let status = Resource::new(move || tick.get(), move |_| sms_batch(batch));
    #[cfg(feature = "hydrate")]
    {
        let pending = move || {
            status
                .get_untracked()
                .is_none_or(|s| matches!(s, Ok(ref s) if s.state == SmsBatchState::Pending))
        };
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if pending() {
                    tick.try_update(|n| *n += 1);
                }
            },
            std::time::Duration::from_millis(500),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <div class="o-sms-progress" role="status">
            <p data-testid="sms-queued">{queued_notice(&queued)}</p>
            {(!queued.refused.is_empty()).then(|| view! {
                <div class="o-sms-refused" data-testid="sms-refused">
                    <p>{t(Msg::SmsNotSentHeading)}</p>
                    <ul>
                        {queued.refused.iter().map(|r| view! { <li>{r.reason.to_string()}</li> }).collect_view()}
                    </ul>
                </div>
            })}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    status.await.map(|s| {
                        let done = s.state == SmsBatchState::Done;
                        view! {
                            <p data-testid="sms-progress" class:o-sms-done=done>
                                {if done { sent_notice(&s) } else { progress_text(&s) }}
                            </p>
                        }
                    })
                })}
            </Transition>
        </div>
        <div class="o-dialog-buttons">
            <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(())>
                {t(Msg::Close)}
            </button>
        </div>
    }
}

/// What a send queued: how many messages, and the credits reserved for them.
pub fn queued_notice(queued: &SmsQueued) -> String {
    tf(
        Msg::SmsQueuedNotice,
        &[
            ("count", queued.queued.into()),
            ("credits", queued.credits.into()),
        ],
    )
}

/// A batch on its way: how many went out, failed and wait.
pub fn progress_text(status: &SmsBatchStatus) -> String {
    tf(
        Msg::SmsBatchProgress,
        &[
            ("sent", status.sent.into()),
            ("failed", status.failed.into()),
            ("queued", status.queued.into()),
        ],
    )
}

/// What a finished batch did.
pub fn sent_notice(sent: &SmsBatchStatus) -> String {
    if sent.failed == 0 {
        tf(
            Msg::SmsSentNotice,
            &[("sent", sent.sent.into()), ("credits", sent.credits.into())],
        )
    } else {
        tf(
            Msg::SmsSentWithErrors,
            &[
                ("sent", sent.sent.into()),
                ("failed", sent.failed.into()),
                ("credits", sent.credits.into()),
            ],
        )
    }
}
