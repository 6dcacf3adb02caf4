//! `/settings/users`: every user with their role, companies, latest authentication and
//! status, filtered by the Search... bar. Administrators only; the server refuses everyone
//! else before this renders.

use crate::components::status::{ErrorAlert, Loading};
use crate::functions::users::list_users;
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::UserSummary;
use leptos::prelude::*;
use leptos_meta::Title;

/// Whether `user` matches what was typed: their name, login or one of their companies.
pub fn user_matches(user: &UserSummary, query: &str) -> bool {
    let query = query.trim().to_lowercase();
    query.is_empty()
        || user.name.to_lowercase().contains(&query)
        || user.login.to_lowercase().contains(&query)
        || user
            .companies
            .iter()
            .any(|c| c.name.to_lowercase().contains(&query))
}

#[component]
pub fn SettingsUsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    let search = RwSignal::new(String::new());
    view! {
        <Title text=t(Msg::Users) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <a class="btn btn-primary" href="/settings/users/new">{t(Msg::NewButton)}</a>
                <h1 class="o-breadcrumb">{t(Msg::Users)}</h1>
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
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(error) => view! { <ErrorAlert error /> }.into_any(),
                        Ok(rows) => view! { <UsersTable rows search /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn UsersTable(rows: Vec<UserSummary>, search: RwSignal<String>) -> impl IntoView {
    let rows = StoredValue::new(rows);
    let shown = move || {
        let query = search.get();
        rows.with_value(|rows| {
            rows.iter()
                .filter(|u| user_matches(u, &query))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        {move || {
            let shown = shown();
            if shown.is_empty() {
                return view! { <p class="o-list-empty">{t(Msg::NoUsers)}</p> }.into_any();
            }
            let count = tf(Msg::RecordCount, &[("count", shown.len().into())]);
            view! {
                <table class="o-list-table o-users">
                    <thead>
                        <tr>
                            <th>{t(Msg::ColName)}</th>
                            <th>{t(Msg::ColLogin)}</th>
                            <th>{t(Msg::ColRole)}</th>
                            <th>{t(Msg::ColCompanies)}</th>
                            <th>{t(Msg::ColLastLogin)}</th>
                            <th>{t(Msg::ColState)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {shown.into_iter().map(|user| view! { <UserRow user /> }).collect_view()}
                    </tbody>
                </table>
                <p class="o-pager">{count}</p>
            }
                .into_any()
        }}
    }
}

#[component]
fn UserRow(user: UserSummary) -> impl IntoView {
    let href = format!("/settings/users/{}", user.id);
    let companies: Vec<String> = user.companies.iter().map(|c| c.name.clone()).collect();
    let last_login = user.last_login_at.map_or_else(
        || t(Msg::NeverLoggedIn).to_owned(),
        crate::locale::date_time,
    );
    let (state, state_class) = if user.active {
        (t(Msg::UserActive), "o-badge o-state-active")
    } else {
        (t(Msg::UserInactive), "o-badge o-badge-muted")
    };
    view! {
        <tr class="o-data-row" tabindex="0" class:o-inactive=!user.active>
            <td><a class="o-row-link" href=href>{user.name}</a></td>
            <td>{user.login}</td>
            <td>{t(user.role.label())}</td>
            <td>{companies.join(", ")}</td>
            <td class="o-nowrap o-muted">{last_login}</td>
            <td><span class=state_class>{state}</span></td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::user_matches;
    use crate::domain::user::Role;
    use crate::models::{Company, UserSummary};

    #[test]
    fn search_looks_at_name_login_and_companies_whatever_the_case() {
        let user = UserSummary {
            id: 1,
            login: "jdoe".into(),
            name: "Jane Doe".into(),
            role: Role::User,
            active: true,
            companies: vec![Company {
                id: 1,
                name: "Acme Chicago".into(),
            }],
            last_login_at: None,
            locale: None,
        };
        for query in ["", " ", "jane", "JDOE", "chicago"] {
            assert!(user_matches(&user, query), "{query}");
        }
        assert!(!user_matches(&user, "admin"));
    }
}
