//! Alerts on Account Information: the account's further thresholds besides Warn Me, each
//! with its recipients and channels. Administrators add and remove them; everyone else who
//! sees the account reads them.

use crate::components::field::TextField;
use crate::components::status::FormAlert;
use crate::domain::alert::{EMAILS_FIELD, LEVEL_FIELD};
use crate::functions::alerts::{AddAlertThreshold, RemoveAlertThreshold};
use crate::i18n::{Arg, Msg};
use crate::locale::{t, tf};
use crate::models::{AccountAlerts, AlertThreshold, IapAccount};
use leptos::prelude::*;

#[component]
pub fn AlertThresholds(
    account: IapAccount,
    alerts: AccountAlerts,
    on_change: Callback<()>,
) -> impl IntoView {
    let editable = alerts.editable;
    view! {
        <section class="o-alerts" aria-labelledby="o-alerts-title">
            <h2 class="o-section-title" id="o-alerts-title">{t(Msg::AlertsTitle)}</h2>
            <p class="o-field-help">{t(Msg::AlertsHelp)}</p>
            <ThresholdsTable account=account.clone() thresholds=alerts.thresholds editable on_change />
            {editable.then(|| view! { <AddThresholdForm account on_change /> })}
        </section>
    }
}

#[component]
fn ThresholdsTable(
    account: IapAccount,
    thresholds: Vec<AlertThreshold>,
    editable: bool,
    on_change: Callback<()>,
) -> impl IntoView {
    if thresholds.is_empty() {
        return view! { <p class="o-list-empty">{t(Msg::AlertsEmpty)}</p> }.into_any();
    }
    let remove = ServerAction::<RemoveAlertThreshold>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            on_change.run(());
        }
    });
    let id = account.id;
    let rows = thresholds
        .into_iter()
        .map(|threshold| {
            let level = crate::locale::amount(
                threshold.threshold,
                account.whole_number,
                &account.unit_name,
            );
            let channels: Vec<&str> = [
                (!threshold.emails.is_empty(), Msg::ChannelEmail),
                (threshold.in_app, Msg::ChannelInApp),
                (threshold.webhook, Msg::ChannelWebhook),
            ]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, msg)| t(msg))
            .collect();
            let label = tf(Msg::RemoveThreshold, &[("threshold", Arg::Text(level.clone()))]);
            let threshold_id = threshold.id;
            view! {
                <tr>
                    <td class="o-num">{level}</td>
                    <td>{threshold.emails.join(", ")}</td>
                    <td>{channels.join(", ")}</td>
                    {editable.then(|| view! {
                        <td>
                            <button
                                type="button"
                                class="btn btn-link"
                                aria-label=label
                                disabled=move || remove.pending().get()
                                on:click=move |_| {
                                    remove.dispatch(RemoveAlertThreshold { id, threshold: threshold_id });
                                }
                            >
                                {t(Msg::Remove)}
                            </button>
                        </td>
                    })}
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="o-list-table o-alert-thresholds" data-testid="alert-thresholds">
            <thead>
                <tr>
                    <th class="o-num">{t(Msg::Threshold)}</th>
                    <th>{t(Msg::AlertEmails)}</th>
                    <th>{t(Msg::ColChannels)}</th>
                    {editable.then(|| view! { <th><span class="o-sr-only">{t(Msg::ColActions)}</span></th> })}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <FormAlert error=Signal::derive(move || remove.value().get().and_then(Result::err)) />
    }
    .into_any()
}

#[component]
fn AddThresholdForm(account: IapAccount, on_change: Callback<()>) -> impl IntoView {
    let id = account.id;
    let add = ServerAction::<AddAlertThreshold>::new();
    let level = RwSignal::new(String::new());
    let emails = RwSignal::new(String::new());
    let in_app = RwSignal::new(true);
    let webhook = RwSignal::new(false);
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            level.set(String::new());
            emails.set(String::new());
            on_change.run(());
        }
    });
    let unit_help = tf(
        Msg::WarningThresholdUnit,
        &[("unit", crate::locale::unit(&account.unit_name).into())],
    );
    let checkbox = move |name: &'static str, label: Msg, value: RwSignal<bool>| {
        view! {
            <label class="o-checkbox-label" for=name>
                <input
                    id=name
                    name=name
                    type="checkbox"
                    prop:checked=move || value.get()
                    on:change=move |ev| value.set(event_target_checked(&ev))
                />
                " "
                {t(label)}
            </label>
        }
    };
    view! {
        <form
            class="o-alert-form"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch(AddAlertThreshold {
                    id,
                    threshold: level.get_untracked(),
                    emails: emails.get_untracked(),
                    in_app: in_app.get_untracked(),
                    webhook: webhook.get_untracked(),
                });
            }
        >
            <FormAlert error />
            <TextField name=LEVEL_FIELD label=t(Msg::AlertBelow) value=level error=error />
            <p class="o-field-help o-field-help-indented">{unit_help}</p>
            <TextField name=EMAILS_FIELD label=t(Msg::AlertEmails) value=emails error=error autocomplete="off" />
            <p class="o-field-help o-field-help-indented">{t(Msg::AlertEmailsHelp)}</p>
            <div class="o-field">
                <span class="o-field-label">{t(Msg::ColChannels)}</span>
                <div class="o-field-widget o-checkbox-group">
                    {checkbox("alert_in_app", Msg::ChannelInApp, in_app)}
                    {checkbox("alert_webhook", Msg::ChannelWebhook, webhook)}
                </div>
            </div>
            <div class="o-form-buttons o-form-buttons-end">
                <button type="submit" class="btn btn-secondary" disabled=move || add.pending().get()>
                    {t(Msg::AddThreshold)}
                </button>
            </div>
        </form>
    }
}
