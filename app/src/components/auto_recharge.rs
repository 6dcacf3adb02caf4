//! Auto-Recharge on Account Information: where it stands (on, buying, declined and when it
//! tries again, capped), what it spent this month, the saved card; and for administrators
//! its settings (Threshold, Pack, Monthly Cap), the card and Turn Off.

use crate::components::field::{FieldMessage, TextField};
use crate::components::status::FormAlert;
use crate::domain::auto_recharge::{CAP_FIELD, PACK_FIELD, RechargeState, THRESHOLD_FIELD};
use crate::domain::packs::money;
use crate::functions::auto_recharge::{
    FinishStripeCard, SaveAutoRecharge, SaveAutoRechargeCard, StartStripeCard, TurnOffAutoRecharge,
};
use crate::i18n::{Arg, Msg};
use crate::locale::{t, tf};
use crate::models::{AutoRechargeView, IapAccount, PaymentMode};
use leptos::prelude::*;

#[component]
pub fn AutoRecharge(
    account: IapAccount,
    recharge: AutoRechargeView,
    on_change: Callback<()>,
) -> impl IntoView {
    let editable = recharge.editable;
    let currency = recharge
        .pack
        .and_then(|id| recharge.packs.iter().find(|p| p.id == id))
        .map(|p| p.currency.clone());
    let spent = recharge
        .monthly_cap
        .zip(currency)
        .filter(|_| recharge.threshold.is_some())
        .map(|(cap, currency)| {
            tf(
                Msg::AutoSpent,
                &[
                    ("spent", Arg::Text(money(recharge.spent, &currency))),
                    ("cap", Arg::Text(money(cap, &currency))),
                ],
            )
        });
    let card = match &recharge.card {
        Some((brand, last4)) => format!("{brand} •••• {last4}"),
        None => t(Msg::NoSavedCard).to_owned(),
    };
    view! {
        <section class="o-auto-recharge" id="auto-recharge" aria-labelledby="o-auto-title">
            <h2 class="o-section-title" id="o-auto-title">{t(Msg::AutoRechargeTitle)}</h2>
            <p class="o-field-help">{t(Msg::AutoRechargeHelp)}</p>
            <p class="o-auto-status" data-testid="auto-recharge-status">{status(&account, &recharge)}</p>
            {spent.map(|s| view! { <p class="o-muted" data-testid="auto-recharge-spent">{s}</p> })}
            <p>
                <span class="o-field-label">{t(Msg::SavedCard)}</span>
                " "
                <span data-testid="auto-recharge-card">{card}</span>
            </p>
            {editable.then(|| view! {
                <SettingsForm account=account.clone() recharge=recharge.clone() on_change />
                {match recharge.payments {
                    PaymentMode::Card => Some(view! { <DemoCardForm account=account.id on_change /> }.into_any()),
                    PaymentMode::Hosted => Some(view! { <StripeCard account=account.id on_change /> }.into_any()),
                    PaymentMode::Unavailable => None,
                }}
            })}
        </section>
    }
}

/// Where auto-recharge stands, in one sentence.
fn status(account: &IapAccount, recharge: &AutoRechargeView) -> String {
    let pack = recharge
        .pack
        .and_then(|id| recharge.packs.iter().find(|p| p.id == id))
        .map(|p| crate::locale::pack(&p.name))
        .unwrap_or_default();
    let reason = recharge.last_error.clone().unwrap_or_default();
    match (recharge.threshold, recharge.state) {
        (_, RechargeState::Due) => tf(Msg::AutoCharging, &[("pack", Arg::Text(pack))]),
        (None, _) => t(Msg::AutoOff).to_owned(),
        (_, RechargeState::Retrying) => tf(
            Msg::AutoRetrying,
            &[
                ("reason", Arg::Text(reason)),
                (
                    "date",
                    Arg::Text(
                        recharge
                            .next_attempt
                            .map(crate::locale::date_time)
                            .unwrap_or_default(),
                    ),
                ),
            ],
        ),
        (Some(_), RechargeState::GaveUp) => tf(
            Msg::AutoGaveUp,
            &[
                ("count", Arg::from(recharge.declines)),
                ("reason", Arg::Text(reason)),
            ],
        ),
        (Some(_), RechargeState::Capped) => t(Msg::AutoCapped).to_owned(),
        (Some(threshold), RechargeState::Idle) => tf(
            Msg::AutoOn,
            &[
                (
                    "threshold",
                    Arg::Text(crate::locale::amount(
                        threshold,
                        account.whole_number,
                        &account.unit_name,
                    )),
                ),
                ("pack", Arg::Text(pack)),
            ],
        ),
    }
}

#[component]
fn SettingsForm(
    account: IapAccount,
    recharge: AutoRechargeView,
    on_change: Callback<()>,
) -> impl IntoView {
    let id = account.id;
    let save = ServerAction::<SaveAutoRecharge>::new();
    let off = ServerAction::<TurnOffAutoRecharge>::new();
    let threshold = RwSignal::new(recharge.threshold.map(|c| c.decimal()).unwrap_or_default());
    let pack = RwSignal::new(recharge.pack);
    let cap = RwSignal::new(
        recharge
            .monthly_cap
            .map(|c| format!("{}.{:02}", c / 100, c % 100))
            .unwrap_or_default(),
    );
    let error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(Result::err)
            .or_else(|| off.value().get().and_then(Result::err))
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            on_change.run(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = off.value().get() {
            on_change.run(());
        }
    });
    let busy = move || save.pending().get() || off.pending().get();
    let is_on = recharge.threshold.is_some();
    let unit_help = tf(
        Msg::WarningThresholdUnit,
        &[("unit", crate::locale::unit(&account.unit_name).into())],
    );
    let packs = recharge.packs.clone();
    view! {
        <form
            class="o-auto-recharge-form"
            novalidate
            aria-label=t(Msg::AutoRechargeTitle)
            on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(SaveAutoRecharge {
                    id,
                    threshold: threshold.get_untracked(),
                    pack: pack.get_untracked(),
                    monthly_cap: cap.get_untracked(),
                });
            }
        >
            <FormAlert error />
            <TextField name=THRESHOLD_FIELD label=t(Msg::RechargeBelow) value=threshold error />
            <p class="o-field-help o-field-help-indented">{unit_help}</p>
            <div class="o-field">
                <label class="o-field-label" for=PACK_FIELD>{t(Msg::ColPack)}</label>
                <div class="o-field-widget">
                    <select
                        id=PACK_FIELD
                        name=PACK_FIELD
                        on:change=move |ev| pack.set(event_target_value(&ev).parse().ok())
                    >
                        <option value="" selected=move || pack.get().is_none()></option>
                        {packs
                            .into_iter()
                            .map(|p| {
                                let pid = p.id;
                                let label = format!("{} ({})", crate::locale::pack(&p.name), money(p.price, &p.currency));
                                view! { <option value=pid.to_string() selected=move || pack.get() == Some(pid)>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                    <FieldMessage name=PACK_FIELD error />
                </div>
            </div>
            <TextField name=CAP_FIELD label=t(Msg::MonthlyCap) value=cap error />
            <div class="o-form-buttons o-form-buttons-end">
                {is_on.then(|| view! {
                    <button
                        type="button"
                        class="btn btn-secondary"
                        disabled=busy
                        on:click=move |_| {
                            off.dispatch(TurnOffAutoRecharge { id });
                        }
                    >
                        {t(Msg::TurnOff)}
                    </button>
                })}
                <button type="submit" class="btn btn-primary" disabled=busy>{t(Msg::SaveButton)}</button>
            </div>
        </form>
    }
}

/// The Demo provider's test card, typed here; only its brand and last digits are kept.
#[component]
fn DemoCardForm(account: i64, on_change: Callback<()>) -> impl IntoView {
    let save = ServerAction::<SaveAutoRechargeCard>::new();
    let holder = RwSignal::new(String::new());
    let number = RwSignal::new(String::new());
    let expiry = RwSignal::new(String::new());
    let cvc = RwSignal::new(String::new());
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            number.set(String::new());
            cvc.set(String::new());
            on_change.run(());
        }
    });
    view! {
        <form
            class="o-auto-recharge-card"
            novalidate
            aria-label=t(Msg::SavedCard)
            on:submit=move |ev| {
                ev.prevent_default();
                save.dispatch(SaveAutoRechargeCard {
                    id: account,
                    cardholder: holder.get_untracked(),
                    card_number: number.get_untracked(),
                    expiry: expiry.get_untracked(),
                    cvc: cvc.get_untracked(),
                });
            }
        >
            <FormAlert error />
            <TextField name="cardholder" label=t(Msg::Cardholder) value=holder error autocomplete="cc-name" />
            <TextField name="card_number" label=t(Msg::CardNumber) value=number error autocomplete="cc-number" />
            <TextField name="expiry" label=t(Msg::Expiry) value=expiry error autocomplete="cc-exp" />
            <TextField name="cvc" label=t(Msg::Cvc) value=cvc error autocomplete="cc-csc" />
            <p class="o-field-help o-field-help-indented">{t(Msg::DemoCards)}</p>
            <div class="o-form-buttons o-form-buttons-end">
                <button type="submit" class="btn btn-secondary" disabled=move || save.pending().get()>
                    {t(Msg::SaveCard)}
                </button>
            </div>
        </form>
    }
}

/// Saving the card at Stripe: a button to Stripe's page and, back from it with
/// `card_session` in the address, reading that session to keep its card.
#[component]
fn StripeCard(account: i64, on_change: Callback<()>) -> impl IntoView {
    let start = ServerAction::<StartStripeCard>::new();
    let finish = ServerAction::<FinishStripeCard>::new();
    let query = leptos_router::hooks::use_query_map();
    let error = Signal::derive(move || {
        start
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| finish.value().get().and_then(Result::err))
    });
    Effect::new(move |_| {
        if let Some(Ok(url)) = start.value().get() {
            crate::nav::reload_to(&url);
        }
    });
    // Once, after hydration: the session Stripe sent the browser back with.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        if let Some(session) = query.with_untracked(|q| q.get("card_session")) {
            finish.dispatch(FinishStripeCard {
                id: account,
                session,
            });
        }
        true
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = finish.value().get() {
            on_change.run(());
        }
    });
    let leaving = move || start.pending().get() || matches!(start.value().get(), Some(Ok(_)));
    view! {
        <form
            class="o-auto-recharge-card"
            aria-label=t(Msg::SavedCard)
            on:submit=move |ev| {
                ev.prevent_default();
                if !leaving() {
                    start.dispatch(StartStripeCard { id: account });
                }
            }
        >
            <FormAlert error />
            <div class="o-form-buttons o-form-buttons-end">
                <button type="submit" class="btn btn-secondary" disabled=move || leaving() || finish.pending().get()>
                    {t(Msg::SaveCardStripe)}
                </button>
            </div>
        </form>
    }
}
