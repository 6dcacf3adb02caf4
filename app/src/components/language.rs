//! The language switcher: each language named in itself, the current one marked. Choosing
//! one stores it (on the user when signed in, in a cookie either way) and reloads the page,
//! which the server then renders in that language.

use crate::functions::auth::SetLanguage;
use crate::i18n::{Locale, Msg};
use crate::locale::t;
use leptos::prelude::*;

#[component]
pub fn LanguageChoice(#[prop(optional)] class: &'static str) -> impl IntoView {
    let current = crate::locale::current();
    let choose = ServerAction::<SetLanguage>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = choose.value().get() {
            let _ = window().location().reload();
        }
    });
    view! {
        <div class=format!("o-language {class}") role="group" aria-label=t(Msg::Language)>
            {Locale::ALL
                .into_iter()
                .map(|locale| {
                    let chosen = locale == current;
                    view! {
                        <button
                            type="button"
                            class="o-language-option"
                            lang=locale.code()
                            aria-pressed=chosen.to_string()
                            on:click=move |_| {
                                choose.dispatch(SetLanguage { locale: Some(locale) });
                            }
                        >
                            {locale.name()}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}
