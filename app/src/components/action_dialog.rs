//! An administrator's action on one line of a table (Reverse a capture, Refund an order): a
//! link-style button that opens a modal form, which turns into its outcome once done.

use crate::i18n::Msg;
use crate::locale::t;
use leptos::prelude::*;

/// The button; `dialog` builds the dialog with the callback that closes it (`true` once its
/// action succeeded), and `on_done` runs when a successful dialog closes.
#[component]
pub fn ActionButton<F, V>(
    /// The button's accessible name, naming its line.
    label: String,
    text: &'static str,
    dialog: F,
    on_done: Callback<()>,
) -> impl IntoView
where
    F: Fn(Callback<bool>) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let open = RwSignal::new(false);
    let close = Callback::new(move |done: bool| {
        open.set(false);
        if done {
            on_done.run(());
        }
    });
    view! {
        <button type="button" class="btn btn-link o-history-action" aria-label=label on:click=move |_| open.set(true)>
            {text}
        </button>
        <Show when=move || open.get()>{dialog(close)}</Show>
    }
}

/// The dialog: its title, the form (`children`) until `done` has the outcome to say, then the
/// outcome and Close. Closing reports whether it was done.
#[component]
pub fn ActionDialog(
    /// The title's element id.
    id: &'static str,
    title: &'static str,
    /// The outcome once the action succeeded.
    #[prop(into)]
    done: Signal<Option<String>>,
    /// The outcome's test id.
    testid: &'static str,
    on_close: Callback<bool>,
    children: ChildrenFn,
) -> impl IntoView {
    let close = move || on_close.run(done.get_untracked().is_some());
    view! {
        <crate::components::modal::Modal labelled_by=id class="o-dialog-md" on_close=Callback::new(move |()| close())>
            <header class="o-dialog-header">
                <h2 id=id>{title}</h2>
                <button type="button" class="o-dialog-close" aria-label=t(Msg::Close) on:click=move |_| close()>
                    "×"
                </button>
            </header>
            <Show when=move || done.get().is_some() fallback=move || children()>
                <p class="o-alert o-alert-success" role="status" data-testid=testid>{move || done.get()}</p>
                <div class="o-dialog-buttons">
                    <button type="button" class="btn btn-primary" on:click=move |_| close()>
                        {t(Msg::Close)}
                    </button>
                </div>
            </Show>
        </crate::components::modal::Modal>
    }
}
