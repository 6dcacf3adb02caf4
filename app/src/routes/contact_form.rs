//! `/contacts/new` and `/contacts/:id`: the contact form view with its chatter.

use crate::components::field::{FieldMessage, TextField};
use crate::components::sms_dialog::SendSmsDialog;
use crate::components::sms_state::{SmsStateBadge, batch_progress};
use crate::components::status::{ErrorAlert, FormAlert};
use crate::domain::country::COUNTRIES;
use crate::functions::contacts::{get_contact, save_contact};
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::{ChatterMessage, Contact, ContactInput, NumberField, SessionInfo};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn ContactFormPage() -> impl IntoView {
    let params = use_params_map();
    // `None` on /contacts/new; a number otherwise (anything else is a missing record).
    let id = move || {
        params
            .with(|p| p.get("id"))
            .map(|raw| raw.parse::<i64>().unwrap_or(-1))
    };
    let reload = RwSignal::new(0u32);
    // Lives here, not in the form: saving refetches the record, which rebuilds the form.
    let saved = RwSignal::new(false);
    let detail = Resource::new(
        move || (id(), reload.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_contact(id).await.map(Some),
                None => Ok(None),
            }
        },
    );

    view! {
        <Transition fallback=crate::components::status::Loading>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(error) => view! { <ErrorAlert error /> }.into_any(),
                    Ok(None) => view! { <ContactForm contact=None messages=vec![] saved on_saved=move || () /> }.into_any(),
                    Ok(Some(d)) => view! {
                        <ContactForm
                            contact=Some(d.contact)
                            messages=d.messages
                            saved
                            on_saved=move || reload.update(|n| *n += 1)
                        />
                    }
                        .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ContactForm(
    contact: Option<Contact>,
    messages: Vec<ChatterMessage>,
    saved: RwSignal<bool>,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = expect_context::<SessionInfo>();
    let id = contact.as_ref().map(|c| c.id);
    let text = |f: fn(&Contact) -> Option<&String>| {
        RwSignal::new(contact.as_ref().and_then(f).cloned().unwrap_or_default())
    };
    let name = RwSignal::new(contact.as_ref().map(|c| c.name.clone()).unwrap_or_default());
    let company_name = text(|c| c.company_name.as_ref());
    let email = text(|c| c.email.as_ref());
    let phone = text(|c| c.phone.as_ref());
    let mobile = text(|c| c.mobile.as_ref());
    let country_code = text(|c| c.country_code.as_ref());
    let owner = RwSignal::new(contact.as_ref().and_then(|c| c.owner_company_id));
    let title = contact
        .as_ref()
        .map_or_else(|| t(Msg::NewContact).to_owned(), |c| c.name.clone());

    // The numbers as saved: the 📱 SMS buttons text what is stored, not what is being typed.
    let saved_phone = contact.as_ref().and_then(|c| c.phone.clone()).is_some();
    let saved_mobile = contact.as_ref().and_then(|c| c.mobile.clone()).is_some();
    let sms_field = RwSignal::new(None::<NumberField>);
    // A queued SMS shows in the chatter at once, and follows its progress there; the form
    // itself (and anything typed in it) is left alone.
    let chatter = RwSignal::new(0u32);
    let sms_sent = Callback::new(move |_| chatter.update(|n| *n += 1));

    let navigate = use_navigate();
    let save = Action::new(move |input: &ContactInput| save_contact(id, input.clone()));
    let error = Signal::derive(move || save.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(new_id)) = save.value().get() {
            if id.is_none() {
                navigate(&format!("/contacts/{new_id}"), Default::default());
            } else {
                saved.set(true);
                on_saved();
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        save.dispatch(ContactInput {
            name: name.get_untracked(),
            company_name: company_name.get_untracked(),
            email: email.get_untracked(),
            phone: phone.get_untracked(),
            mobile: mobile.get_untracked(),
            country_code: country_code.get_untracked(),
            owner_company_id: owner.get_untracked(),
        });
    };

    view! {
        <Title text=title.clone() />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <nav class="o-breadcrumb" aria-label="Breadcrumb">
                    <a href="/contacts">{t(Msg::ContactsTitle)}</a>
                    <span class="o-breadcrumb-sep">"/"</span>
                    <span class="o-breadcrumb-current">{title}</span>
                </nav>
            </div>
        </div>
        <div class="o-form-view">
            <form class="o-form-sheet" on:submit=submit novalidate>
                <div class="o-form-buttons">
                    <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                        {t(Msg::SaveButton)}
                    </button>
                    <a class="btn btn-secondary" href="/contacts">{t(Msg::DiscardButton)}</a>
                    <Show when=move || saved.get()>
                        <span class="o-saved" role="status">{t(Msg::ContactSaved)}</span>
                    </Show>
                </div>
                <FormAlert error />
                <div class="o-title-field">
                    <TextField name="name" label=t(Msg::ColName) value=name error />
                </div>
                <div class="o-group">
                    <div class="o-group-col">
                        <TextField name="company_name" label=t(Msg::ColCompany) value=company_name error />
                        <TextField name="email" label=t(Msg::ColEmail) value=email error kind="email" />
                        <div class="o-field">
                            <label class="o-field-label" for="country_code">{t(Msg::ColCountry)}</label>
                            <div class="o-field-widget">
                                <select
                                    id="country_code"
                                    name="country_code"
                                    on:change=move |ev| country_code.set(event_target_value(&ev))
                                >
                                    <option value="" selected=move || country_code.get().is_empty()></option>
                                    {COUNTRIES
                                        .iter()
                                        .map(|(code, label)| view! {
                                            <option value=*code selected=move || country_code.get() == *code>{crate::locale::country(code, label)}</option>
                                        })
                                        .collect_view()}
                                </select>
                                <FieldMessage name="country_code" error />
                            </div>
                        </div>
                    </div>
                    <div class="o-group-col">
                        <TextField name="phone" label=t(Msg::ColPhone) value=phone error kind="tel">
                            <SmsButton show=saved_phone field=NumberField::Phone open=sms_field />
                        </TextField>
                        <TextField name="mobile" label=t(Msg::ColMobile) value=mobile error kind="tel">
                            <SmsButton show=saved_mobile field=NumberField::Mobile open=sms_field />
                        </TextField>
                        <div class="o-field">
                            <label class="o-field-label" for="owner_company_id">{t(Msg::ColVisibleTo)}</label>
                            <div class="o-field-widget">
                                <select
                                    id="owner_company_id"
                                    name="owner_company_id"
                                    on:change=move |ev| owner.set(event_target_value(&ev).parse().ok())
                                >
                                    <option value="" selected=move || owner.get().is_none()>{t(Msg::AllCompanies)}</option>
                                    {session
                                        .companies
                                        .iter()
                                        .map(|c| {
                                            let cid = c.id;
                                            view! { <option value=cid.to_string() selected=move || owner.get() == Some(cid)>{c.name.clone()}</option> }
                                        })
                                        .collect_view()}
                                </select>
                                <FieldMessage name="owner_company_id" error />
                            </div>
                        </div>
                    </div>
                </div>
            </form>
            <Chatter id messages refresh=chatter />
        </div>
        {move || sms_field.get().zip(id).map(|(field, id)| view! {
            <SendSmsDialog
                contact_ids=vec![id]
                field
                on_close=Callback::new(move |_| sms_field.set(None))
                on_sent=sms_sent
            />
        })}
    }
}

/// The 📱 SMS button right of a saved Phone or Mobile number.
#[component]
fn SmsButton(show: bool, field: NumberField, open: RwSignal<Option<NumberField>>) -> impl IntoView {
    show.then(|| {
        view! {
            <button type="button" class="btn btn-link o-sms-button" on:click=move |_| open.set(Some(field))>
                {t(Msg::SmsIcon)}
            </button>
        }
    })
}

/// The record's history, newest first. It reads itself again when `refresh` moves, and
/// every second while an SMS it logs is still queued.
#[component]
fn Chatter(
    id: Option<i64>,
    messages: Vec<ChatterMessage>,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    let lines = RwSignal::new(messages);
    #[cfg(feature = "hydrate")]
    {
        use crate::functions::contacts::contact_chatter;
        use crate::models::SmsState;
        Effect::new(move |first: Option<()>| {
            refresh.track();
            if let (Some(()), Some(id)) = (first, id) {
                leptos::task::spawn_local(async move {
                    if let Ok(fresh) = contact_chatter(id).await {
                        lines.try_set(fresh);
                    }
                });
            }
        });
        let waiting = move || {
            lines.with_untracked(|l| {
                l.iter().any(|m| {
                    m.sms
                        .as_ref()
                        .is_some_and(|s| s.state == SmsState::Outgoing)
                })
            })
        };
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if waiting() {
                    refresh.try_update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, refresh);
    view! {
        <aside class="o-chatter" aria-label=t(Msg::Chatter)>
            <h2 class="o-chatter-title">{t(Msg::Chatter)}</h2>
            <Show when=move || lines.with(Vec::is_empty)>
                <p class="o-chatter-empty">{t(Msg::ChatterEmpty)}</p>
            </Show>
            <ul class="o-chatter-list">
                {move || lines.get().into_iter().map(|m| view! { <ChatterLine m /> }).collect_view()}
            </ul>
        </aside>
    }
}

#[component]
fn ChatterLine(m: ChatterMessage) -> impl IntoView {
    let initial = m.author_name.chars().next().unwrap_or('?').to_string();
    let sms = m.sms.map(|s| {
        let batch = s.batch;
        let total = batch.queued + batch.sent + batch.failed;
        view! {
            <div class="o-message-sms">
                <SmsStateBadge state=s.state />
                {s.error.map(|e| view! { <span class="o-field-error">{e}</span> })}
                {(total > 1).then(|| view! {
                    <span class="o-muted">{batch_progress(batch.batch_id, batch.sent, batch.failed, batch.queued)}</span>
                })}
            </div>
        }
    });
    view! {
        <li class="o-message">
            <span class="o-avatar" aria-hidden="true">{initial}</span>
            <div class="o-message-body">
                <div class="o-message-head">
                    <strong>{m.author_name}</strong>
                    <time>{crate::locale::date_time(m.created_at)}</time>
                </div>
                <p>{crate::locale::note(&m.body)}</p>
                {sms}
            </div>
        </li>
    }
}
