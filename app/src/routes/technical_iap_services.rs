//! `/settings/technical/iap-services`: the service catalogue in developer mode. An
//! administrator sets the hosting type, registers a third-party service with its packs, and
//! creates or rotates service keys; a new key is shown once, here, and never again.

use crate::components::field::TextField;
use crate::domain::hosting::HostingType;
use crate::error::AppError;
use crate::functions::services::{
    RegisterService, RotateServiceKey, SetHostingType, get_services_overview,
};
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::{PackInput, ServiceInput, ServiceSummary};
use leptos::prelude::*;
use leptos_meta::Title;

/// Pack rows on the registration form; empty rows are ignored.
const PACK_ROWS: usize = 3;

#[component]
pub fn TechnicalIapServicesPage() -> impl IntoView {
    let register = ServerAction::<RegisterService>::new();
    let rotate = ServerAction::<RotateServiceKey>::new();
    let hosting = ServerAction::<SetHostingType>::new();
    // The key just made, with its service's label: shown until the next one. The label is
    // noted when the action is dispatched (an action forgets its input once it answers).
    let shown = RwSignal::new(None::<(String, String)>);
    let naming = RwSignal::new(String::new());
    let changed = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(key)) = register.value().get() {
            shown.set(Some((naming.get_untracked(), key)));
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(key)) = rotate.value().get() {
            shown.set(Some((naming.get_untracked(), key)));
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = hosting.value().get() {
            changed.update(|n| *n += 1);
        }
    });
    let overview = Resource::new(move || changed.get(), |_| get_services_overview());

    view! {
        <Title text=t(Msg::IapServices) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::IapServices)}</h1>
            </div>
        </div>
        <div class="o-content o-services">
            <p class="o-field-help">{t(Msg::IapServicesHelp)}</p>
            {move || shown.get().map(|(name, key)| view! { <NewKey name key /> })}
            {move || rotate.value().get().and_then(Result::err).map(|e| view! {
                <crate::components::status::ErrorAlert error=e />
            })}
            <Transition fallback=crate::components::status::Loading>
                {move || Suspend::new(async move {
                    match overview.await {
                        Err(e) => view! { <crate::components::status::ErrorAlert error=e /> }.into_any(),
                        Ok(data) => view! {
                            <HostingChoice current=data.hosting_type hosting />
                            <ServicesTable services=data.services rotate naming />
                        }
                            .into_any(),
                    }
                })}
            </Transition>
            <RegisterForm register naming />
        </div>
    }
}

/// The key just created or rotated, shown once.
#[component]
fn NewKey(name: String, key: String) -> impl IntoView {
    view! {
        <div class="o-alert o-alert-success o-new-key" role="status">
            <strong>{tf(Msg::NewKeyFor, &[("service", name.as_str().into())])}</strong>
            <code class="o-key" data-testid="service-key">{key}</code>
            <span>{t(Msg::KeyShownOnce)}</span>
        </div>
    }
}

#[component]
fn HostingChoice(current: HostingType, hosting: ServerAction<SetHostingType>) -> impl IntoView {
    view! {
        <div class="o-field o-hosting">
            <label class="o-field-label" for="hosting">{t(Msg::HostingTypeLabel)}</label>
            <div class="o-field-widget">
                <select
                    id="hosting"
                    on:change=move |ev| {
                        hosting.dispatch(SetHostingType { hosting: event_target_value(&ev) });
                    }
                >
                    {HostingType::ALL
                        .into_iter()
                        .map(|h| view! { <option value=h.as_str() selected=h == current>{h.as_str()}</option> })
                        .collect_view()}
                </select>
                <p class="o-field-help">{t(Msg::HostingTypeHelp)}</p>
                <Show when=move || matches!(hosting.value().get(), Some(Ok(())))>
                    <span class="o-saved" role="status">{t(Msg::HostingSaved)}</span>
                </Show>
            </div>
        </div>
    }
}

#[component]
fn ServicesTable(
    services: Vec<ServiceSummary>,
    rotate: ServerAction<RotateServiceKey>,
    naming: RwSignal<String>,
) -> impl IntoView {
    view! {
        <table class="o-list-table">
            <thead>
                <tr>
                    <th>{t(Msg::ColLabel)}</th>
                    <th>{t(Msg::ColTechnicalName)}</th>
                    <th>{t(Msg::ColProvider)}</th>
                    <th>{t(Msg::ColUnit)}</th>
                    <th class="o-num">{t(Msg::ColTrialCredits)}</th>
                    <th class="o-num">{t(Msg::ColPacks)}</th>
                    <th>{t(Msg::ColKey)}</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {services.into_iter().map(|s| {
                    let name = s.technical_name.clone();
                    let label = s.label.clone();
                    let (provider, badge) = if s.first_party {
                        (t(Msg::FirstParty), "o-badge o-badge-muted")
                    } else {
                        (t(Msg::ThirdParty), "o-badge o-badge-info")
                    };
                    let button = if s.has_key { t(Msg::RotateKey) } else { t(Msg::CreateKey) };
                    view! {
                        <tr class="o-data-row">
                            <td>{crate::locale::service_name(&s.technical_name, &s.label)}</td>
                            <td><code>{s.technical_name.clone()}</code></td>
                            <td><span class=badge>{provider}</span></td>
                            <td>{crate::locale::unit(&s.unit_name)}</td>
                            <td class="o-num">{s.trial_credits.to_string()}</td>
                            <td class="o-num">{s.packs}</td>
                            <td>{if s.has_key { t(Msg::KeySet) } else { t(Msg::NoKey) }}</td>
                            <td class="o-num">
                                <button
                                    type="button"
                                    class="btn btn-secondary btn-sm"
                                    aria-label=format!("{button} {}", s.label)
                                    disabled=move || rotate.pending().get()
                                    on:click=move |_| { naming.set(label.clone()); rotate.dispatch(RotateServiceKey { service: name.clone() }); }
                                >
                                    {button}
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn RegisterForm(
    register: ServerAction<RegisterService>,
    naming: RwSignal<String>,
) -> impl IntoView {
    let technical_name = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let unit_name = RwSignal::new(String::from("Credits"));
    let trial_credits = RwSignal::new(String::from("0"));
    let packs: Vec<(RwSignal<String>, RwSignal<String>, RwSignal<String>)> = (0..PACK_ROWS)
        .map(|_| {
            (
                RwSignal::new(String::new()),
                RwSignal::new(String::new()),
                RwSignal::new(String::new()),
            )
        })
        .collect();
    let error = Signal::derive(move || register.value().get().and_then(Result::err));
    let pack_error = move || match error.get() {
        Some(AppError::Validation(e)) if e.field.starts_with("packs[") => {
            Some(crate::locale::text(&e.text()))
        }
        _ => None,
    };
    let rows = packs.clone();
    // A registered service leaves an empty form for the next one.
    let cleared = packs.clone();
    Effect::new(move |_| {
        if let Some(Ok(_)) = register.value().get() {
            technical_name.set(String::new());
            label.set(String::new());
            for (name, credits, price) in &cleared {
                name.set(String::new());
                credits.set(String::new());
                price.set(String::new());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let service = ServiceInput {
            technical_name: technical_name.get_untracked(),
            label: label.get_untracked(),
            unit_name: unit_name.get_untracked(),
            trial_credits: trial_credits.get_untracked(),
            packs: rows
                .iter()
                .map(|(name, credits, price)| PackInput {
                    name: name.get_untracked(),
                    credits: credits.get_untracked(),
                    price: price.get_untracked(),
                })
                .collect(),
        };
        naming.set(service.label.trim().to_owned());
        register.dispatch(RegisterService { service });
    };

    view! {
        <form class="o-form-sheet o-register-service" novalidate on:submit=submit>
            <h2 class="o-section-title">{t(Msg::RegisterService)}</h2>
            <crate::components::status::FormAlert error />
            <div class="o-form-columns">
                <div>
                    <TextField name="technical_name" label=t(Msg::ColTechnicalName) value=technical_name error />
                    <TextField name="label" label=t(Msg::ColLabel) value=label error />
                </div>
                <div>
                    <TextField name="unit_name" label=t(Msg::ColUnit) value=unit_name error />
                    <TextField name="trial_credits" label=t(Msg::ColTrialCredits) value=trial_credits error />
                </div>
            </div>
            <table class="o-list-table o-pack-rows">
                <thead>
                    <tr>
                        <th>{t(Msg::PackName)}</th>
                        <th class="o-num">{t(Msg::PackCredits)}</th>
                        <th class="o-num">{t(Msg::PackPrice)}</th>
                    </tr>
                </thead>
                <tbody>
                    {packs.into_iter().enumerate().map(|(i, (name, credits, price))| {
                        let row = tf(Msg::PackRow, &[("number", (i + 1).into())]);
                        let cell = move |value: RwSignal<String>, what: Msg| {
                            view! {
                                <input
                                    type="text"
                                    aria-label=format!("{row} {}", t(what))
                                    prop:value=move || value.get()
                                    on:input=move |ev| value.set(event_target_value(&ev))
                                />
                            }
                        };
                        view! {
                            <tr>
                                <td>{cell(name, Msg::PackName)}</td>
                                <td class="o-num">{cell.clone()(credits, Msg::PackCredits)}</td>
                                <td class="o-num">{cell.clone()(price, Msg::PackPrice)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || pack_error().map(|m| view! { <div class="o-field-error" role="alert">{m}</div> })}
            <div class="o-form-buttons">
                <button type="submit" class="btn btn-primary" disabled=move || register.pending().get()>
                    {t(Msg::RegisterButton)}
                </button>
            </div>
        </form>
    }
}
