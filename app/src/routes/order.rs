//! `/orders/:id`: the confirmation with its receipt, or why the payment failed. Reloading it
//! only reads. While a hosted payment is still pending (the customer came back before the
//! provider's webhook), it says so and reads the order again every two seconds.

use crate::components::accounts_table::balance_text;
use crate::components::orders_table::card_text;
use crate::components::status::ErrorAlert;
use crate::domain::order::OrderState;
use crate::domain::packs::money;
use crate::functions::store::get_order;
use crate::i18n::Msg;
use crate::locale::{t, tf};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OrderPage() -> impl IntoView {
    let id = crate::routes::id_param();
    let tick = RwSignal::new(0u32);
    let order = Resource::new(move || (id(), tick.get()), |(id, _)| get_order(id));
    #[cfg(feature = "hydrate")]
    {
        let still_pending = move || {
            order
                .get_untracked()
                .is_some_and(|o| matches!(o, Ok((ref o, _)) if o.state == OrderState::Pending))
        };
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if still_pending() {
                    tick.update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(2),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <Transition fallback=crate::components::status::Loading>
            {move || Suspend::new(async move {
                match order.await {
                    Err(error) => view! { <ErrorAlert error /> }.into_any(),
                    Ok((order, account)) => {
                        let back = format!("/iap-accounts/{}", order.account_id);
                        let credits = crate::locale::amount(order.credits, order.whole_number, &order.unit_name);
                        let paid = order.state == OrderState::Paid;
                        let heading = t(match order.state {
                            OrderState::Paid => Msg::PaymentSuccessful,
                            OrderState::Failed => Msg::PaymentFailed,
                            OrderState::Pending => Msg::PaymentProcessing,
                            OrderState::Draft => order.state.label(),
                        });
                        let pending = order.state == OrderState::Pending;
                        view! {
                            <Title text=heading />
                            <div class="o-store">
                                <div class="o-form-sheet o-confirmation" class:o-confirmation-ok=paid>
                                    <h1 class="o-store-title">{heading}</h1>
                                    {pending.then(|| view! {
                                        <p class="o-muted" role="status">{t(Msg::PaymentProcessingHelp)}</p>
                                    })}
                                    {paid.then(|| view! {
                                        <p>{tf(Msg::CreditsAdded, &[("credits", credits.as_str().into()), ("account", order.account_name.as_str().into())])}</p>
                                        <p>{t(Msg::NewBalance)}": "<strong data-testid="balance">{balance_text(&account)}</strong></p>
                                    })}
                                    {order.failure_reason.clone().map(|reason| view! {
                                        <p class="o-alert o-alert-danger" role="alert">{reason}</p>
                                        <a class="btn btn-primary" href=format!("/iap-accounts/{}/buy", order.account_id)>{t(Msg::NewOrder)}</a>
                                    })}
                                    {(order.state == OrderState::Draft).then(|| view! {
                                        <a class="btn btn-primary" href=format!("/orders/{}/checkout", order.id)>{t(Msg::ContinueToPayment)}</a>
                                    })}
                                    <h2 class="o-section-title">{t(Msg::Receipt)}</h2>
                                    <dl class="o-readonly-fields">
                                        <dt>{t(Msg::ColOrder)}</dt>
                                        <dd>{order.reference()}</dd>
                                        <dt>{t(Msg::ColDate)}</dt>
                                        <dd>{crate::locale::date_time(order.created_at)}</dd>
                                        <dt>{t(Msg::ColPack)}</dt>
                                        <dd>{order.pack_name.clone()}</dd>
                                        <dt>{t(Msg::ColCredits)}</dt>
                                        <dd>{credits.clone()}</dd>
                                        <dt>{t(Msg::ColAmount)}</dt>
                                        <dd>{money(order.amount, &order.currency)}</dd>
                                        <dt>{t(Msg::ColCard)}</dt>
                                        <dd>{card_text(&order)}</dd>
                                        <dt>{t(Msg::ColStatus)}</dt>
                                        <dd>{t(order.state.label())}</dd>
                                    </dl>
                                    <p><a href=back>{t(Msg::BackToAccount)}</a></p>
                                </div>
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}
