//! `/contacts/new` and `/contacts/:id`: the contact form view with its chatter.

use crate::components::field::{FieldMessage, TextField};
use crate::components::sms_dialog::{SendSmsDialog, sent_notice};
use crate::components::status::{ErrorAlert, FormAlert};
use crate::domain::country::COUNTRIES;
use crate::functions::contacts::{get_contact, save_contact};
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::{ChatterMessage, Contact, ContactInput, NumberField, SessionInfo, SmsSent};
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
    // Also here: a sent SMS refetches the record to show it in the chatter.
    let notice = RwSignal::new(None::<String>);
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
                    Ok(None) => view! { <ContactForm contact=None messages=vec![] saved notice on_saved=move || () /> }.into_any(),
                    Ok(Some(d)) => view! {
                        <ContactForm
                            contact=Some(d.contact)
                            messages=d.messages
                            saved
                            notice
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
    notice: RwSignal<Option<String>>,
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
    let sms_sent = Callback::new(move |sent: SmsSent| {
        sms_field.set(None);
        notice.set(Some(sent_notice(&sent)));
        on_saved();
    });

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
        notice.set(None);
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
                    {move || notice.get().map(|n| view! { <span class="o-saved" role="status">{n}</span> })}
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
            <Chatter messages />
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

/// The record's history, newest first.
#[component]
fn Chatter(messages: Vec<ChatterMessage>) -> impl IntoView {
    let empty = messages.is_empty();
    view! {
        <aside class="o-chatter" aria-label=t(Msg::Chatter)>
            <h2 class="o-chatter-title">{t(Msg::Chatter)}</h2>
            <Show when=move || empty>
                <p class="o-chatter-empty">{t(Msg::ChatterEmpty)}</p>
            </Show>
            <ul class="o-chatter-list">
                {messages
                    .into_iter()
                    .map(|m| {
                        let initial = m.author_name.chars().next().unwrap_or('?').to_string();
                        view! {
                            <li class="o-message">
                                <span class="o-avatar" aria-hidden="true">{initial}</span>
                                <div class="o-message-body">
                                    <div class="o-message-head">
                                        <strong>{m.author_name}</strong>
                                        <time>{crate::locale::date_time(m.created_at)}</time>
                                    </div>
                                    <p>{m.body}</p>
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </aside>
    }
}
