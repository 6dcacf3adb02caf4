//! The low-credit warning on Account Information: Warn Me, and once ticked, Threshold and
//! Warning Email. Administrators edit it; everyone else who sees the account reads it.

use crate::components::field::TextField;
use crate::components::status::FormAlert;
use crate::domain::credits::Credits;
use crate::functions::warnings::SaveAccountWarning;
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::{IapAccount, IapAccountWarning};
use leptos::prelude::*;

/// A threshold as the Threshold field shows it: in the service's unit, without thousands
/// separators (the parser refuses them), empty when never set.
fn threshold_input(threshold: Credits) -> String {
    if threshold.minor() <= 0 {
        String::new()
    } else {
        threshold.display(false).replace(',', "")
    }
}

#[component]
pub fn LowCreditWarning(account: IapAccount, settings: IapAccountWarning) -> impl IntoView {
    let is_admin = settings.editable;
    view! {
        <section class="o-warning" aria-labelledby="o-warning-title">
            <h2 class="o-section-title" id="o-warning-title">{t(Msg::LowCreditWarning)}</h2>
            <p class="o-field-help">{t(Msg::WarningHelp)}</p>
            {if is_admin {
                view! { <WarningForm account settings /> }.into_any()
            } else {
                view! { <WarningReadOnly account settings /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn WarningReadOnly(account: IapAccount, settings: IapAccountWarning) -> impl IntoView {
    let enabled = settings.warn_enabled;
    view! {
        <dl class="o-readonly-fields">
            <dt>{t(Msg::WarnMe)}</dt>
            <dd data-testid="warn-me">{t(if enabled { Msg::WarningOn } else { Msg::WarningOff })}</dd>
            {enabled.then(|| view! {
                <dt>{t(Msg::Threshold)}</dt>
                <dd data-testid="threshold">{crate::locale::amount(settings.threshold, account.whole_number, &account.unit_name)}</dd>
                <dt>{t(Msg::WarningEmail)}</dt>
                <dd data-testid="warning-email">{settings.emails.join(", ")}</dd>
            })}
        </dl>
        <p class="o-field-help">{t(Msg::WarningAdminOnly)}</p>
    }
}

#[component]
fn WarningForm(account: IapAccount, settings: IapAccountWarning) -> impl IntoView {
    let id = account.id;
    let save = ServerAction::<SaveAccountWarning>::new();
    let initially_on = settings.warn_enabled;
    let enabled = RwSignal::new(initially_on);
    let threshold = RwSignal::new(threshold_input(settings.threshold));
    let emails = RwSignal::new(settings.emails.join(", "));
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let unit_help = tf(
        Msg::WarningThresholdUnit,
        &[("unit", crate::locale::unit(&account.unit_name).into())],
    );
    view! {
        <form
            class="o-warning-form"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(SaveAccountWarning {
                    id,
                    enabled: enabled.get_untracked(),
                    threshold: threshold.get_untracked(),
                    emails: emails.get_untracked(),
                });
            }
        >
            <FormAlert error />
            <div class="o-field">
                <label class="o-field-label" for="warn_me">{t(Msg::WarnMe)}</label>
                <div class="o-field-widget o-checkbox">
                    <input
                        id="warn_me"
                        name="warn_me"
                        type="checkbox"
                        checked=initially_on
                        prop:checked=move || enabled.get()
                        on:change=move |ev| {
                            enabled.set(event_target_checked(&ev));
                            save.value().set(None);
                        }
                    />
                </div>
            </div>
            <Show when=move || enabled.get()>
                <TextField name="threshold" label=t(Msg::Threshold) value=threshold error=error />
                <p class="o-field-help o-field-help-indented">{unit_help.clone()}</p>
                <TextField
                    name="emails"
                    label=t(Msg::WarningEmail)
                    value=emails
                    error=error
                    autocomplete="off"
                />
                <p class="o-field-help o-field-help-indented">{t(Msg::WarningEmailHelp)}</p>
            </Show>
            <div class="o-form-buttons o-form-buttons-end">
                <button type="submit" class="btn btn-secondary" disabled=move || save.pending().get()>
                    {t(Msg::SaveButton)}
                </button>
                <Show when=saved>
                    <span class="o-saved" role="status">{t(Msg::WarningSaved)}</span>
                </Show>
            </div>
        </form>
    }
}
