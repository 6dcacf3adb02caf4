//! `/login`: the only page that needs no session.

use crate::functions::auth::{Login, is_demo_database};
use crate::i18n::{Msg, t};
use crate::nav::reload_to;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where to go after signing in: a path on this site only, so the login page is no open
/// redirect. The check reads the value as a browser's URL parser will: it drops ASCII tabs
/// and newlines anywhere and C0 controls and spaces at either end, and treats `\` as `/`,
/// so `/%09/evil.example` (`/<tab>/evil.example`) is `//evil.example`, another site.
fn safe_next(next: Option<String>) -> String {
    let Some(next) = next else {
        return "/".into();
    };
    let cleaned: String = next
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let as_parsed = cleaned.replace('\\', "/");
    let local = as_parsed.starts_with('/')
        && !as_parsed.starts_with("//")
        && !cleaned.chars().any(char::is_control);
    if local { cleaned } else { "/".into() }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let next = safe_next(use_query_map().with_untracked(|q| q.get("next")));
    Effect::new({
        let next = next.clone();
        move |_| {
            if let Some(Ok(())) = login.value().get() {
                reload_to(&next);
            }
        }
    });
    let error = move || login.value().get().and_then(Result::err);
    let demo = Resource::new(|| (), |_| is_demo_database());

    view! {
        <Title text=t(Msg::LoginTitle) />
        <div class="o-login-page">
            <div class="o-login-card">
                <div class="o-login-logo">
                    <span class="o-logo-mark">"iap"</span>
                    <span class="o-logo-d">"d"</span>
                </div>
                <p class="o-login-subtitle">{t(Msg::LoginSubtitle)}</p>
                <ActionForm action=login attr:class="o-login-form">
                    <div class="o-field-stacked">
                        <label for="login">{t(Msg::LoginField)}</label>
                        <input id="login" name="login" autocomplete="username" required autofocus />
                    </div>
                    <div class="o-field-stacked">
                        <label for="password">{t(Msg::PasswordField)}</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required />
                    </div>
                    {move || error().map(|error| view! { <crate::components::status::ErrorAlert error /> })}
                    <button type="submit" class="btn btn-primary btn-block" disabled=move || login.pending().get()>
                        {t(Msg::LoginButton)}
                    </button>
                </ActionForm>
                // Only a demo database has these logins; a real one never shows them.
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        matches!(demo.await, Ok(true))
                            .then(|| view! { <p class="o-login-hint">{t(Msg::DemoHint)}</p> })
                    })}
                </Suspense>
            </div>
        </div>
    }
}

/// Shown if a page is rendered without a session (the server normally redirects first).
#[component]
pub fn GoToLogin() -> impl IntoView {
    Effect::new(|_| reload_to("/login"));
    view! { <p class="o-loading"><a href="/login" rel="external">{t(Msg::LoginTitle)}</a></p> }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/contacts/3".into())), "/contacts/3");
        assert_eq!(safe_next(Some("//evil.example".into())), "/");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(safe_next(Some("/\\evil.example".into())), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn what_a_browser_strips_from_a_url_cannot_smuggle_another_site() {
        for sneaky in [
            "/\t/evil.example/",
            "/\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/\r\n/evil.example",
            "\\/evil.example",
            "/\u{0}/evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(sneaky.into())), "/", "{sneaky:?}");
        }
        assert_eq!(
            safe_next(Some("/contacts?q=a\\b".into())),
            "/contacts?q=a\\b"
        );
        assert_eq!(safe_next(Some("/\tcontacts".into())), "/contacts");
    }
}
