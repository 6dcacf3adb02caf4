//! `/contacts`: the Contacts list view with search, a New button, and a selection that can
//! be sent one SMS.

use crate::components::sms_dialog::SendSmsDialog;
use crate::domain::country;
use crate::functions::contacts::list_contacts;
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::NumberField;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ContactsPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let contacts = Resource::new(move || search.get(), list_contacts);
    let selected = RwSignal::new(Vec::<i64>::new());
    let sms_open = RwSignal::new(false);
    // The pop-up stays open to follow the batch; the selection it was made from is done.
    let sms_sent = Callback::new(move |_| selected.set(Vec::new()));
    let toggle = move |id: i64| {
        selected.update(|s| match s.iter().position(|x| *x == id) {
            Some(i) => {
                s.remove(i);
            }
            None => s.push(id),
        })
    };

    view! {
        <Title text=t(Msg::ContactsTitle) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <a class="btn btn-primary" href="/contacts/new">{t(Msg::NewButton)}</a>
                <h1 class="o-breadcrumb">{t(Msg::ContactsTitle)}</h1>
                <Show when=move || !selected.with(Vec::is_empty)>
                    <span class="o-selection">{move || tf(Msg::SelectedCount, &[("count", selected.with(Vec::len).into())])}</span>
                    <button type="button" class="btn btn-secondary" on:click=move |_| sms_open.set(true)>
                        {t(Msg::SmsIcon)}
                    </button>
                </Show>
            </div>
            <div class="o-cp-search">
                <input
                    type="search"
                    class="o-searchview"
                    aria-label=t(Msg::SearchPlaceholder)
                    placeholder=t(Msg::SearchPlaceholder)
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev))
                />
            </div>
        </div>
        <div class="o-content">
            <Transition fallback=crate::components::status::Loading>
                {move || Suspend::new(async move {
                    match contacts.await {
                        Err(error) => view! { <crate::components::status::ErrorAlert error /> }.into_any(),
                        Ok(rows) if rows.is_empty() => {
                            view! { <p class="o-list-empty">{t(Msg::NoContacts)}</p> }.into_any()
                        }
                        Ok(rows) => {
                            let count = tf(Msg::RecordCount, &[("count", rows.len().into())]);
                            let all: Vec<i64> = rows.iter().map(|c| c.id).collect();
                            let every = all.clone();
                            let all_selected = move || selected.with(|s| every.iter().all(|id| s.contains(id)));
                            view! {
                                <table class="o-list-table">
                                    <thead>
                                        <tr>
                                            <th class="o-list-select">
                                                <input
                                                    type="checkbox"
                                                    aria-label=t(Msg::SelectAll)
                                                    prop:checked=all_selected.clone()
                                                    on:change=move |ev| selected.set(if event_target_checked(&ev) { all.clone() } else { Vec::new() })
                                                />
                                            </th>
                                            <th>{t(Msg::ColName)}</th>
                                            <th>{t(Msg::ColCompany)}</th>
                                            <th>{t(Msg::ColEmail)}</th>
                                            <th>{t(Msg::ColPhone)}</th>
                                            <th>{t(Msg::ColMobile)}</th>
                                            <th>{t(Msg::ColCountry)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {rows
                                            .into_iter()
                                            .map(|c| {
                                                let href = format!("/contacts/{}", c.id);
                                                let id = c.id;
                                                let label = format!("{} {}", t(Msg::SelectRow), c.name);
                                                let country = c.country_code.as_deref().and_then(|code| country::name(code).map(|name| crate::locale::country(code, name)));
                                                view! {
                                                    <tr class="o-data-row" tabindex="0" class:o-selected=move || selected.with(|s| s.contains(&id))>
                                                        <td class="o-list-select">
                                                            <input
                                                                type="checkbox"
                                                                aria-label=label
                                                                prop:checked=move || selected.with(|s| s.contains(&id))
                                                                on:change=move |_| toggle(id)
                                                            />
                                                        </td>
                                                        <td><a class="o-row-link" href=href>{c.name}</a></td>
                                                        <td>{c.company_name}</td>
                                                        <td>{c.email}</td>
                                                        <td>{c.phone}</td>
                                                        <td>{c.mobile}</td>
                                                        <td>{country}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                                <p class="o-pager">{count}</p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </div>
        <Show when=move || sms_open.get()>
            <SendSmsDialog
                contact_ids=selected.get_untracked()
                field=NumberField::Mobile
                on_close=Callback::new(move |_| sms_open.set(false))
                on_sent=sms_sent
            />
        </Show>
    }
}
