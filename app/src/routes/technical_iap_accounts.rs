//! `/settings/technical/iap-accounts` and `/settings/technical/iap-accounts/:id`: every
//! account with its token, and the form administrators use to rename, restrict, disable or
//! adjust one.

use crate::components::accounts_table::{AccountsTable, balance_text};
use crate::components::field::{FieldMessage, TextField};
use crate::components::status::FormAlert;
use crate::error::AppError;
use crate::functions::iap::{
    AdminAdjustIapAccount, AdminSaveIapAccount, admin_get_iap_account, admin_list_iap_accounts,
};
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::IapAccountAdmin;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TechnicalIapAccountsPage() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| admin_list_iap_accounts());
    view! {
        <Title text=t(Msg::IapAccounts) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::IapAccounts)}</h1>
            </div>
        </div>
        <div class="o-content">
            <Transition fallback=crate::components::status::Loading>
                {move || Suspend::new(async move {
                    match accounts.await {
                        Err(e) => view! { <crate::components::status::ErrorAlert error=e /> }.into_any(),
                        Ok(rows) => view! {
                            <AccountsTable
                                rows=rows.into_iter().map(|(a, token)| (a, Some(token))).collect()
                                link_to="/settings/technical/iap-accounts"
                            />
                        }
                            .into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
pub fn TechnicalIapAccountPage() -> impl IntoView {
    let id = crate::routes::id_param();
    let save = ServerAction::<AdminSaveIapAccount>::new();
    let adjust = ServerAction::<AdminAdjustIapAccount>::new();
    // Refetch after a success only: a refused save or adjustment keeps what was typed.
    let saved = RwSignal::new(0u32);
    Effect::new(move |_| {
        let ok = |v: Option<Result<(), AppError>>| matches!(v, Some(Ok(())));
        if ok(save.value().get()) || ok(adjust.value().get()) {
            saved.update(|n| *n += 1);
        }
    });
    let account = Resource::new(
        move || (id(), saved.get()),
        |(id, _)| admin_get_iap_account(id),
    );
    view! {
        <Title text=t(Msg::IapAccounts) />
        <Transition fallback=crate::components::status::Loading>
            {move || Suspend::new(async move {
                match account.await {
                    Err(e) => view! { <crate::components::status::ErrorAlert error=e /> }.into_any(),
                    Ok(data) => view! { <AccountForm data save adjust /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AccountForm(
    data: IapAccountAdmin,
    save: ServerAction<AdminSaveIapAccount>,
    adjust: ServerAction<AdminAdjustIapAccount>,
) -> impl IntoView {
    let id = data.account.id;
    let name = RwSignal::new(data.account.name.clone());
    let token = RwSignal::new(data.token.clone());
    let ticked = RwSignal::new(data.company_ids.clone());
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let save_error = Signal::derive(move || save.value().get().and_then(Result::err));
    let adjust_error = Signal::derive(move || adjust.value().get().and_then(Result::err));
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let adjusted = move || matches!(adjust.value().get(), Some(Ok(())));

    view! {
        <div class="o-control-panel">
            <div class="o-cp-left">
                <nav class="o-breadcrumb" aria-label="Breadcrumb">
                    <a href="/settings/technical/iap-accounts">{t(Msg::IapAccounts)}</a>
                    <span class="o-breadcrumb-sep">"/"</span>
                    <span class="o-breadcrumb-current">{data.account.name.clone()}</span>
                </nav>
            </div>
        </div>
        <div class="o-form-view o-form-view-single">
            <form
                class="o-form-sheet"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch(AdminSaveIapAccount {
                        id,
                        name: name.get_untracked(),
                        token: token.get_untracked(),
                        companies: Some(ticked.get_untracked()),
                    });
                }
            >
                <div class="o-form-buttons">
                    <button type="submit" class="btn btn-primary" disabled=move || save.pending().get()>
                        {t(Msg::SaveButton)}
                    </button>
                    <Show when=saved>
                        <span class="o-saved" role="status">{t(Msg::AccountSaved)}</span>
                    </Show>
                </div>
                <FormAlert error=save_error />
                <dl class="o-readonly-fields o-compact">
                    <dt>{t(Msg::ColService)}</dt>
                    <dd>{crate::locale::service_name(&data.account.service, &data.account.service_label)}</dd>
                    <dt>{t(Msg::ColBalance)}</dt>
                    <dd data-testid="balance">{balance_text(&data.account)}</dd>
                </dl>
                <TextField name="name" label=t(Msg::ColName) value=name error=save_error />
                <TextField name="token" label=t(Msg::ColToken) value=token error=save_error />
                <p class="o-field-help">{t(Msg::TokenHelp)}</p>
                <fieldset class="o-field o-fieldset">
                    <legend class="o-field-label">{t(Msg::ColCompanies)}</legend>
                    <div class="o-field-widget o-checkboxes">
                        {data.companies.iter().map(|c| {
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
                                                if on { t.push(cid) }
                                            });
                                        }
                                    />
                                    {c.name.clone()}
                                </label>
                            }
                        }).collect_view()}
                        <p class="o-field-help">{t(Msg::CompaniesHelp)}</p>
                        <FieldMessage name="companies" error=save_error />
                    </div>
                </fieldset>
            </form>
            <form
                class="o-form-sheet"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    adjust.dispatch(AdminAdjustIapAccount { id, amount: amount.get_untracked(), reason: reason.get_untracked() });
                }
            >
                <h2 class="o-section-title">{t(Msg::AdjustCredits)}</h2>
                <p class="o-field-help">{t(Msg::AdjustHelp)}</p>
                <FormAlert error=adjust_error />
                <TextField name="amount" label=t(Msg::Amount) value=amount error=adjust_error />
                <TextField name="reason" label=t(Msg::Reason) value=reason error=adjust_error />
                <div class="o-form-buttons">
                    <button type="submit" class="btn btn-secondary" disabled=move || adjust.pending().get()>
                        {t(Msg::ApplyAdjustment)}
                    </button>
                    <Show when=adjusted>
                        <span class="o-saved" role="status">{t(Msg::AdjustmentApplied)}</span>
                    </Show>
                </div>
            </form>
        </div>
    }
}
