//! `/settings/webhooks`: the URLs alerts are posted to, and a form to add one.
//! Administrators only; the server refuses everyone else.

use crate::components::field::TextField;
use crate::components::status::{ErrorAlert, FormAlert, Loading};
use crate::functions::webhooks::{AddWebhook, list_webhooks};
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::Webhook;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

#[component]
pub fn SettingsWebhooksPage() -> impl IntoView {
    let webhooks = Resource::new(|| (), |_| list_webhooks());
    view! {
        <Title text=t(Msg::Webhooks) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::Webhooks)}</h1>
            </div>
        </div>
        <div class="o-content o-padded">
            <p class="o-field-help">{t(Msg::WebhooksHelp)}</p>
            <AddWebhookForm />
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match webhooks.await {
                        Err(error) => view! { <ErrorAlert error /> }.into_any(),
                        Ok(rows) => view! { <WebhooksTable rows /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn AddWebhookForm() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let url = RwSignal::new(String::new());
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = add.value().get() {
            navigate(&format!("/settings/webhooks/{id}"), Default::default());
        }
    });
    view! {
        <form
            class="o-webhook-form"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch(AddWebhook { url: url.get_untracked() });
            }
        >
            <FormAlert error />
            <TextField name="url" label=t(Msg::ColUrl) value=url error=error kind="url" autocomplete="off" />
            <div class="o-form-buttons o-form-buttons-end">
                <button type="submit" class="btn btn-primary" disabled=move || add.pending().get()>
                    {t(Msg::AddWebhook)}
                </button>
            </div>
        </form>
    }
}

#[component]
fn WebhooksTable(rows: Vec<Webhook>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="o-list-empty">{t(Msg::WebhooksEmpty)}</p> }.into_any();
    }
    view! {
        <table class="o-list-table o-webhooks">
            <thead>
                <tr>
                    <th>{t(Msg::ColUrl)}</th>
                    <th>{t(Msg::ColState)}</th>
                    <th class="o-num">{t(Msg::WebhookPending)}</th>
                    <th class="o-num">{t(Msg::WebhookFailed)}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|webhook| {
                    let href = format!("/settings/webhooks/{}", webhook.id);
                    view! {
                        <tr class="o-data-row" tabindex="0" class:o-inactive=!webhook.active>
                            <td><a class="o-row-link" href=href>{webhook.url}</a></td>
                            <td><WebhookState active=webhook.active /></td>
                            <td class="o-num">{webhook.pending}</td>
                            <td class="o-num">{webhook.failed}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Active or Paused, as a badge.
#[component]
pub fn WebhookState(active: bool) -> impl IntoView {
    let (text, class) = if active {
        (t(Msg::WebhookActive), "o-badge o-state-active")
    } else {
        (t(Msg::WebhookPaused), "o-badge o-badge-muted")
    };
    view! { <span class=class>{text}</span> }
}
