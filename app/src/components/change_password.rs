//! The Change password dialog of the user menu: the current password, then the new one
//! twice. Changing it ends the user's other sessions; this one stays.

use crate::components::field::TextField;
use crate::components::status::FormAlert;
use crate::functions::users::ChangePassword;
use crate::i18n::{Msg, t};
use leptos::prelude::*;

#[component]
pub fn ChangePasswordDialog(on_close: Callback<()>) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = Signal::derive(move || change.value().get().and_then(Result::err));
    let changed = move || matches!(change.value().get(), Some(Ok(())));
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            for field in [current, new, confirm] {
                field.set(String::new());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change.dispatch(ChangePassword {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
            confirm_password: confirm.get_untracked(),
        });
    };
    view! {
        <div class="o-dialog-backdrop">
            <div class="o-dialog o-dialog-md" role="dialog" aria-modal="true" aria-labelledby="change-password-title">
                <header class="o-dialog-header">
                    <h2 id="change-password-title">{t(Msg::ChangePassword)}</h2>
                    <button type="button" class="o-dialog-close" aria-label=t(Msg::Close) on:click=move |_| on_close.run(())>
                        "×"
                    </button>
                </header>
                <Show
                    when=changed
                    fallback=move || view! {
                        <form class="o-change-password" on:submit=submit novalidate>
                            <p class="o-field-help">{t(Msg::ChangePasswordHelp)}</p>
                            <FormAlert error />
                            <TextField
                                name="current_password"
                                label=t(Msg::CurrentPassword)
                                value=current
                                error
                                kind="password"
                                autocomplete="current-password"
                            />
                            <TextField
                                name="new_password"
                                label=t(Msg::NewPasswordField)
                                value=new
                                error
                                kind="password"
                                autocomplete="new-password"
                            />
                            <TextField
                                name="confirm_password"
                                label=t(Msg::ConfirmPassword)
                                value=confirm
                                error
                                kind="password"
                                autocomplete="new-password"
                            />
                            <p class="o-field-help">{t(Msg::PasswordPolicy)}</p>
                            <div class="o-dialog-buttons">
                                <button type="submit" class="btn btn-primary" disabled=move || change.pending().get()>
                                    {t(Msg::ChangePassword)}
                                </button>
                                <button type="button" class="btn btn-secondary" on:click=move |_| on_close.run(())>
                                    {t(Msg::Cancel)}
                                </button>
                            </div>
                        </form>
                    }
                >
                    <p class="o-alert o-alert-success" role="status">{t(Msg::PasswordChanged)}</p>
                    <div class="o-dialog-buttons">
                        <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(())>
                            {t(Msg::Close)}
                        </button>
                    </div>
                </Show>
            </div>
        </div>
    }
}
