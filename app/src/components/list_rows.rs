//! Lists behave like Odoo's: a click anywhere on a row opens its record, and so does Enter
//! on a focused row. One listener on the window serves every list: it finds the row's own
//! link (`a.o-row-link`) and follows it, so the record's address stays a real link that
//! works without JavaScript, in a new tab, and for assistive technology. Clicks on the
//! row's own controls (its checkbox, a button, a link) keep their meaning.

/// Installs the listeners; called once, by the app's root.
pub fn activate_rows() {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::*;
        use wasm_bindgen::JsCast;

        fn follow(target: Option<web_sys::EventTarget>) -> bool {
            let Some(element) = target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
                return false;
            };
            let interactive = element
                .closest("a, button, input, select, textarea, label")
                .ok()
                .flatten()
                .is_some();
            let link = element
                .closest("tr.o-data-row")
                .ok()
                .flatten()
                .and_then(|row| row.query_selector("a.o-row-link").ok().flatten())
                .and_then(|link| link.dyn_into::<web_sys::HtmlElement>().ok());
            match link {
                Some(link) if !interactive => {
                    link.click();
                    true
                }
                _ => false,
            }
        }

        let _ = window_event_listener(leptos::ev::click, |ev| {
            follow(ev.target());
        });
        let _ = window_event_listener(leptos::ev::keydown, |ev| {
            let on_row = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| el.matches("tr.o-data-row").unwrap_or(false));
            if ev.key() == "Enter" && on_row && follow(ev.target()) {
                ev.prevent_default();
            }
        });
    }
}
