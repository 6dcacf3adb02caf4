//! A modal dialog as the WAI-ARIA practice describes it: focus moves into it when it opens,
//! Tab and Shift+Tab stay inside it, Escape closes it, and focus returns to what opened it.

use leptos::prelude::*;

/// What can take focus inside the dialog, in document order.
#[cfg(feature = "hydrate")]
const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), \
    select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

#[component]
pub fn Modal(
    /// The id of the dialog's title.
    labelled_by: &'static str,
    /// Extra classes on the dialog (its size).
    #[prop(optional)]
    class: &'static str,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let opener = StoredValue::new_local(
            document()
                .active_element()
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok()),
        );
        Effect::new(move |_| {
            if let Some(dialog) = dialog.get() {
                let first = dialog
                    .query_selector("input:not([disabled]), textarea:not([disabled])")
                    .ok()
                    .flatten()
                    .or_else(|| dialog.query_selector(FOCUSABLE).ok().flatten())
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
                let _ = match first {
                    Some(el) => el.focus(),
                    None => dialog.focus(),
                };
            }
        });
        on_cleanup(move || {
            if let Some(opener) = opener.get_value() {
                let _ = opener.focus();
            }
        });
    }
    let keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            on_close.run(());
        }
        "Tab" =>
        {
            #[cfg(feature = "hydrate")]
            if let Some(dialog) = dialog.get_untracked() {
                trap(&dialog, &ev);
            }
        }
        _ => {}
    };
    view! {
        <div class="o-dialog-backdrop">
            <div
                node_ref=dialog
                class=format!("o-dialog {class}")
                role="dialog"
                aria-modal="true"
                aria-labelledby=labelled_by
                tabindex="-1"
                on:keydown=keydown
            >
                {children()}
            </div>
        </div>
    }
}

/// Keeps Tab inside the dialog: past the last element it wraps to the first, and back.
#[cfg(feature = "hydrate")]
fn trap(dialog: &web_sys::HtmlDivElement, ev: &leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    let Ok(list) = dialog.query_selector_all(FOCUSABLE) else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        ev.prevent_default();
        return;
    };
    let active = document().active_element();
    let at = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>())
    };
    let outside = active.as_ref().is_none_or(|a| !dialog.contains(Some(a)));
    if ev.shift_key() && (at(first) || outside) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && (at(last) || outside) {
        ev.prevent_default();
        let _ = first.focus();
    }
}
