//! `/settings/users/new` and `/settings/users/:id`: the user form. A new user gets a login,
//! a name, a role, companies and an initial password; an existing one can be renamed,
//! promoted or demoted, moved between companies, deactivated (which logs them out at once),
//! given a new password, or shown iapd in another language. Administrators only; the server
//! refuses everyone else.

use crate::components::field::{FieldMessage, TextField};
use crate::components::status::{ErrorAlert, FormAlert, Loading};
use crate::domain::user::Role;
use crate::error::AppError;
use crate::functions::users::{CreateUser, SetUserPassword, UpdateUser, get_user_form};
use crate::i18n::{Locale, Msg};
use crate::locale::t;
use crate::models::{Company, UserForm, UserSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn SettingsUserPage() -> impl IntoView {
    let params = use_params_map();
    // `None` on /settings/users/new; a number otherwise (anything else is a missing user).
    let id = move || {
        params
            .with(|p| p.get("id"))
            .map(|raw| raw.parse::<i64>().unwrap_or(-1))
    };
    let reload = RwSignal::new(0u32);
    // Lives here, not in the form: saving refetches the user, which rebuilds the form.
    let created = use_query_map().with_untracked(|q| q.get("created").is_some());
    let saved = RwSignal::new(created.then_some(Msg::UserCreated));
    let form = Resource::new(move || (id(), reload.get()), |(id, _)| get_user_form(id));
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match form.await {
                    Err(error) => view! { <ErrorAlert error /> }.into_any(),
                    Ok(UserForm { user: None, companies }) => view! { <NewUserForm companies /> }.into_any(),
                    Ok(UserForm { user: Some(user), companies }) => view! {
                        <EditUserForm user companies saved on_saved=move || reload.update(|n| *n += 1) />
                    }
                        .into_any(),
                }
            })}
        </Transition>
    }
}

/// The breadcrumb over the form: Users / the user.
#[component]
fn Breadcrumb(title: String) -> impl IntoView {
    view! {
        <Title text=title.clone() />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <nav class="o-breadcrumb" aria-label="Breadcrumb">
                    <a href="/settings/users">{t(Msg::Users)}</a>
                    <span class="o-breadcrumb-sep">"/"</span>
                    <span class="o-breadcrumb-current">{title}</span>
                </nav>
            </div>
        </div>
    }
}

#[component]
fn NewUserForm(companies: Vec<Company>) -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let login = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::User);
    // A single company is ticked already: there is nothing to choose.
    let ticked = RwSignal::new(match companies.as_slice() {
        [only] => vec![only.id],
        _ => Vec::new(),
    });
    let password = RwSignal::new(String::new());
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(
                &format!("/settings/users/{id}?created=1"),
                Default::default(),
            );
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateUser {
            login: login.get_untracked(),
            name: name.get_untracked(),
            role: role.get_untracked(),
            companies: Some(ticked.get_untracked()),
            password: password.get_untracked(),
        });
    };
    view! {
        <Breadcrumb title=t(Msg::NewUser).to_owned() />
        <div class="o-form-view o-form-view-single">
            <form class="o-form-sheet o-user-form" on:submit=submit novalidate>
                <div class="o-form-buttons">
                    <button type="submit" class="btn btn-primary" disabled=move || create.pending().get()>
                        {t(Msg::CreateUser)}
                    </button>
                    <a class="btn btn-secondary" href="/settings/users">{t(Msg::DiscardButton)}</a>
                </div>
                <FormAlert error />
                <div class="o-title-field">
                    <TextField name="name" label=t(Msg::ColName) value=name error autocomplete="off" />
                </div>
                <div class="o-group">
                    <div class="o-group-col">
                        <TextField name="login" label=t(Msg::ColLogin) value=login error autocomplete="off" />
                        <TextField
                            name="password"
                            label=t(Msg::InitialPassword)
                            value=password
                            error
                            kind="password"
                            autocomplete="new-password"
                        />
                        <p class="o-field-help o-field-help-indented">{t(Msg::PasswordPolicy)}</p>
                        <RoleField role error />
                    </div>
                    <div class="o-group-col">
                        <CompaniesField companies ticked error />
                    </div>
                </div>
            </form>
        </div>
    }
}

#[component]
fn EditUserForm(
    user: UserSummary,
    companies: Vec<Company>,
    /// The notice of the last save.
    saved: RwSignal<Option<Msg>>,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = user.id;
    let update = ServerAction::<UpdateUser>::new();
    let set_password = ServerAction::<SetUserPassword>::new();
    let name = RwSignal::new(user.name.clone());
    let role = RwSignal::new(user.role);
    let ticked = RwSignal::new(user.companies.iter().map(|c| c.id).collect::<Vec<_>>());
    let active = RwSignal::new(user.active);
    let language = RwSignal::new(user.locale);
    let password = RwSignal::new(String::new());
    let error = Signal::derive(move || update.value().get().and_then(Result::err));
    let password_error = Signal::derive(move || set_password.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            saved.set(Some(Msg::UserSaved));
            on_saved();
        }
    });
    let password_set = move || matches!(set_password.value().get(), Some(Ok(())));
    Effect::new(move |_| {
        if let Some(Ok(())) = set_password.value().get() {
            password.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(None);
        update.dispatch(UpdateUser {
            id,
            name: name.get_untracked(),
            role: role.get_untracked(),
            companies: Some(ticked.get_untracked()),
            active: active.get_untracked(),
            locale: language.get_untracked(),
        });
    };
    let submit_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_password.dispatch(SetUserPassword {
            id,
            password: password.get_untracked(),
        });
    };
    let badge = if user.active {
        None
    } else {
        Some(view! { <span class="o-badge o-badge-muted">{t(Msg::UserInactive)}</span> })
    };

    view! {
        <Breadcrumb title=user.name.clone() />
        <div class="o-form-view o-form-view-single">
            <form class="o-form-sheet o-user-form" on:submit=submit novalidate>
                <div class="o-form-buttons">
                    <button type="submit" class="btn btn-primary" disabled=move || update.pending().get()>
                        {t(Msg::SaveButton)}
                    </button>
                    <a class="btn btn-secondary" href="/settings/users">{t(Msg::DiscardButton)}</a>
                    {move || saved.get().map(|m| view! { <span class="o-saved" role="status">{t(m)}</span> })}
                    {badge}
                </div>
                <FormAlert error />
                <div class="o-title-field">
                    <TextField name="name" label=t(Msg::ColName) value=name error autocomplete="off" />
                </div>
                <div class="o-group">
                    <div class="o-group-col">
                        <div class="o-field">
                            <span class="o-field-label">{t(Msg::ColLogin)}</span>
                            <div class="o-field-widget o-field-readonly" data-testid="login">{user.login.clone()}</div>
                        </div>
                        <RoleField role error />
                        <div class="o-field">
                            <label class="o-field-label" for="active">{t(Msg::UserActive)}</label>
                            <div class="o-field-widget">
                                <input
                                    id="active"
                                    type="checkbox"
                                    class="o-toggle"
                                    prop:checked=move || active.get()
                                    on:change=move |ev| active.set(event_target_checked(&ev))
                                />
                                <p class="o-field-help">{t(Msg::ActiveHelp)}</p>
                                <FieldMessage name="active" error />
                            </div>
                        </div>
                        <LanguageField language />
                    </div>
                    <div class="o-group-col">
                        <CompaniesField companies ticked error />
                    </div>
                </div>
            </form>
            <form class="o-form-sheet o-user-form" on:submit=submit_password novalidate>
                <h2 class="o-section-title">{t(Msg::SetNewPassword)}</h2>
                <p class="o-field-help">{t(Msg::SetPasswordHelp)}</p>
                <FormAlert error=password_error />
                <div class="o-group">
                    <div class="o-group-col">
                        <TextField
                            name="password"
                            label=t(Msg::NewPasswordField)
                            value=password
                            error=password_error
                            kind="password"
                            autocomplete="new-password"
                        />
                        <p class="o-field-help o-field-help-indented">{t(Msg::PasswordPolicy)}</p>
                    </div>
                </div>
                <div class="o-form-buttons o-form-buttons-end">
                    <button type="submit" class="btn btn-secondary" disabled=move || set_password.pending().get()>
                        {t(Msg::SetPasswordButton)}
                    </button>
                    <Show when=password_set>
                        <span class="o-saved" role="status">{t(Msg::PasswordSet)}</span>
                    </Show>
                </div>
            </form>
        </div>
    }
}

/// The user's language: one of iapd's, or their browser's (no choice stored).
#[component]
fn LanguageField(language: RwSignal<Option<Locale>>) -> impl IntoView {
    view! {
        <div class="o-field">
            <label class="o-field-label" for="locale">{t(Msg::Language)}</label>
            <div class="o-field-widget">
                <select
                    id="locale"
                    name="locale"
                    aria-describedby="locale-help"
                    on:change=move |ev| language.set(Locale::parse(&event_target_value(&ev)))
                >
                    <option value="" selected=move || language.get().is_none()>
                        {t(Msg::LanguageOfBrowser)}
                    </option>
                    {Locale::ALL
                        .into_iter()
                        .map(|locale| view! {
                            <option
                                value=locale.code()
                                lang=locale.code()
                                selected=move || language.get() == Some(locale)
                            >
                                {locale.name()}
                            </option>
                        })
                        .collect_view()}
                </select>
                <p class="o-field-help" id="locale-help">{t(Msg::LanguageHelp)}</p>
            </div>
        </div>
    }
}

/// User or Administrator, as radio buttons.
#[component]
fn RoleField(role: RwSignal<Role>, #[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <fieldset class="o-field o-fieldset">
            <legend class="o-field-label">{t(Msg::ColRole)}</legend>
            <div class="o-field-widget o-checkboxes">
                {Role::ALL
                    .into_iter()
                    .map(|r| view! {
                        <label class="o-checkbox">
                            <input
                                type="radio"
                                name="role"
                                value=r.as_str()
                                prop:checked=move || role.get() == r
                                on:change=move |_| role.set(r)
                            />
                            {t(r.label())}
                        </label>
                    })
                    .collect_view()}
                <p class="o-field-help">{t(Msg::RoleHelp)}</p>
                <FieldMessage name="role" error />
            </div>
        </fieldset>
    }
}

/// Every company as a checkbox; the ticked ones in the order they were ticked.
#[component]
fn CompaniesField(
    companies: Vec<Company>,
    ticked: RwSignal<Vec<i64>>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <fieldset class="o-field o-fieldset">
            <legend class="o-field-label">{t(Msg::ColCompanies)}</legend>
            <div class="o-field-widget o-checkboxes">
                {companies
                    .into_iter()
                    .map(|c| {
                        let cid = c.id;
                        view! {
                            <label class="o-checkbox">
                                <input
                                    type="checkbox"
                                    prop:checked=move || ticked.with(|t| t.contains(&cid))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        ticked.update(|t| {
                                            t.retain(|x| *x != cid);
                                            if on {
                                                t.push(cid)
                                            }
                                        });
                                    }
                                />
                                {c.name}
                            </label>
                        }
                    })
                    .collect_view()}
                <p class="o-field-help">{t(Msg::UserCompaniesHelp)}</p>
                <FieldMessage name="companies" error />
            </div>
        </fieldset>
    }
}
