//! `/settings/webhooks/:id`: one webhook: its URL and signing secret, Send Test Event,
//! Pause / Resume, Delete, and its delivery log, refreshed while deliveries are pending.
//! Administrators only; the server refuses everyone else.

use crate::components::status::{ErrorAlert, FormAlert, Loading};
use crate::functions::webhooks::{DeleteWebhook, SendTestEvent, SetWebhookActive, get_webhook};
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::{DeliveryState, Webhook, WebhookDelivery};
use crate::routes::settings_webhooks::WebhookState;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

#[component]
pub fn SettingsWebhookPage() -> impl IntoView {
    let id = crate::routes::id_param();
    let tick = RwSignal::new(0u32);
    let data = Resource::new(move || (id(), tick.get()), |(id, _)| get_webhook(id));
    #[cfg(feature = "hydrate")]
    {
        let waiting = move || {
            data.get_untracked().is_some_and(|d| {
                matches!(d, Ok((_, ref log)) if log.iter().any(|l| l.state == DeliveryState::Pending))
            })
        };
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if waiting() {
                    tick.try_update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    // The actions live here, not in the form: their outcomes outlast the refetches they cause.
    let actions = Actions {
        test: ServerAction::<SendTestEvent>::new(),
        active: ServerAction::<SetWebhookActive>::new(),
        delete: ServerAction::<DeleteWebhook>::new(),
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.delete.value().get() {
            navigate("/settings/webhooks", Default::default());
        }
    });
    Effect::new(move |_| {
        let tested = matches!(actions.test.value().get(), Some(Ok(_)));
        let toggled = matches!(actions.active.value().get(), Some(Ok(())));
        if tested || toggled {
            tick.update(|n| *n += 1);
        }
    });
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <ErrorAlert error /> }.into_any(),
                    Ok((webhook, log)) => view! { <WebhookForm webhook log actions /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What the page's buttons do.
#[derive(Clone, Copy)]
struct Actions {
    test: ServerAction<SendTestEvent>,
    active: ServerAction<SetWebhookActive>,
    delete: ServerAction<DeleteWebhook>,
}

#[component]
fn WebhookForm(webhook: Webhook, log: Vec<WebhookDelivery>, actions: Actions) -> impl IntoView {
    let id = webhook.id;
    let Actions {
        test,
        active,
        delete,
    } = actions;
    let error = Signal::derive(move || {
        test.value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| active.value().get().and_then(Result::err))
            .or_else(|| delete.value().get().and_then(Result::err))
    });
    let is_active = webhook.active;
    let busy = move || test.pending().get() || active.pending().get() || delete.pending().get();
    view! {
        <Title text=webhook.url.clone() />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <nav class="o-breadcrumb" aria-label="Breadcrumb">
                    <a href="/settings/webhooks">{t(Msg::Webhooks)}</a>
                    <span class="o-breadcrumb-sep">"/"</span>
                    <span class="o-breadcrumb-current">{webhook.url.clone()}</span>
                </nav>
            </div>
        </div>
        <div class="o-form-view o-form-view-single">
            <div class="o-form-sheet">
                <div class="o-form-buttons">
                    <button type="button" class="btn btn-primary" disabled=busy on:click=move |_| { test.dispatch(SendTestEvent { id }); }>
                        {t(Msg::SendTestEvent)}
                    </button>
                    <button type="button" class="btn btn-secondary" disabled=busy on:click=move |_| { active.dispatch(SetWebhookActive { id, active: !is_active }); }>
                        {t(if is_active { Msg::PauseWebhook } else { Msg::ResumeWebhook })}
                    </button>
                    <button type="button" class="btn btn-secondary" disabled=busy on:click=move |_| { delete.dispatch(DeleteWebhook { id }); }>
                        {t(Msg::DeleteWebhook)}
                    </button>
                    <Show when=move || matches!(test.value().get(), Some(Ok(_)))>
                        <span class="o-saved" role="status">{t(Msg::TestEventQueued)}</span>
                    </Show>
                </div>
                <FormAlert error />
                <h1 class="o-record-title o-break">{webhook.url.clone()}</h1>
                <dl class="o-readonly-fields">
                    <dt>{t(Msg::ColState)}</dt>
                    <dd><WebhookState active=is_active /></dd>
                    <dt>{t(Msg::ColSecret)}</dt>
                    <dd><code class="o-secret" data-testid="webhook-secret">{webhook.secret.clone()}</code></dd>
                </dl>
                <h2 class="o-section-title">{t(Msg::Deliveries)}</h2>
                <DeliveriesTable log />
            </div>
        </div>
    }
}

#[component]
fn DeliveriesTable(log: Vec<WebhookDelivery>) -> impl IntoView {
    if log.is_empty() {
        return view! { <p class="o-list-empty">{t(Msg::DeliveriesEmpty)}</p> }.into_any();
    }
    view! {
        <table class="o-list-table o-deliveries" data-testid="deliveries">
            <thead>
                <tr>
                    <th>{t(Msg::ColDate)}</th>
                    <th>{t(Msg::ColEvent)}</th>
                    <th>{t(Msg::ColState)}</th>
                    <th class="o-num">{t(Msg::ColAttempts)}</th>
                    <th class="o-num">{t(Msg::ColHttpStatus)}</th>
                    <th>{t(Msg::ColLastError)}</th>
                </tr>
            </thead>
            <tbody>
                {log.into_iter().map(|d| {
                    let class = match d.state {
                        DeliveryState::Delivered => "o-badge o-state-active",
                        DeliveryState::Pending => "o-badge o-badge-info",
                        DeliveryState::Failed => "o-badge o-state-failed",
                    };
                    view! {
                        <tr>
                            <td class="o-nowrap">{crate::locale::date_time(d.created_at)}</td>
                            <td><code>{d.event_type}</code></td>
                            <td><span class=class>{t(d.state.label())}</span></td>
                            <td class="o-num">{d.attempts}</td>
                            <td class="o-num">{d.last_status}</td>
                            <td class="o-muted">
                                {d.last_error}
                                {(d.state == DeliveryState::Pending && d.attempts > 0).then(|| {
                                    let at = crate::locale::date_time(d.next_attempt_at);
                                    view! { <div class="o-next-attempt">{tf(Msg::NextAttemptAt, &[("time", at.into())])}</div> }
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
