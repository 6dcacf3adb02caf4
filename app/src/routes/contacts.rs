//! `/contacts`: the Contacts list view with search and a New button.

use crate::domain::country;
use crate::functions::contacts::list_contacts;
use crate::i18n::{Msg, t, tf};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ContactsPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let contacts = Resource::new(move || search.get(), list_contacts);

    view! {
        <Title text=t(Msg::ContactsTitle) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <a class="btn btn-primary" href="/contacts/new">{t(Msg::NewButton)}</a>
                <h1 class="o-breadcrumb">{t(Msg::ContactsTitle)}</h1>
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
                        Err(e) => view! { <p class="o-alert o-alert-danger">{e.to_string()}</p> }.into_any(),
                        Ok(rows) if rows.is_empty() => {
                            view! { <p class="o-list-empty">{t(Msg::NoContacts)}</p> }.into_any()
                        }
                        Ok(rows) => {
                            let count = tf(Msg::RecordCount, &[&rows.len().to_string()]);
                            view! {
                                <table class="o-list-table">
                                    <thead>
                                        <tr>
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
                                                let country = c.country_code.as_deref().and_then(country::name).unwrap_or_default();
                                                view! {
                                                    <tr class="o-data-row">
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
    }
}
