//! `/orders/:id/checkout`: the order summary and the way to pay it: the Demo provider's card
//! form, a button to the provider's hosted page (Stripe), or a notice that nothing can be
//! bought yet.

use crate::components::field::TextField;
use crate::components::status::{ErrorAlert, FormAlert};
use crate::domain::order::OrderState;
use crate::domain::packs::money;
use crate::error::AppError;
use crate::functions::store::{PayHosted, PayOrder, get_order, payment_mode};
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::{Order, PaymentMode, SessionInfo};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let id = crate::routes::id_param();
    let data = Resource::new(id, |id| async move {
        let (order, _) = get_order(id).await?;
        Ok::<_, AppError>((order, payment_mode().await?))
    });
    view! {
        <Title text=t(Msg::Checkout) />
        <Transition fallback=crate::components::status::Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <ErrorAlert error /> }.into_any(),
                    Ok((order, mode)) => match (order.state, mode) {
                        (OrderState::Draft, PaymentMode::Card) => view! { <CardCheckout order /> }.into_any(),
                        // A customer back from the hosted page without paying may go again.
                        (OrderState::Draft | OrderState::Pending, PaymentMode::Hosted) => {
                            view! { <HostedCheckout order /> }.into_any()
                        }
                        (OrderState::Draft, PaymentMode::Unavailable) => view! { <Unavailable order /> }.into_any(),
                        (OrderState::Pending | OrderState::Paid | OrderState::Failed, _) => view! {
                            <div class="o-empty-page">
                                <p>{t(order.state.label())}</p>
                                <a class="btn btn-primary" href=format!("/orders/{}", order.id)>{order.reference()}</a>
                            </div>
                        }
                            .into_any(),
                    },
                }
            })}
        </Transition>
    }
}

/// The order being paid: what, how many credits, for how much.
#[component]
fn OrderSummary(order: Order) -> impl IntoView {
    let credits = crate::locale::amount(order.credits, order.whole_number, &order.unit_name);
    view! {
        <section class="o-form-sheet" aria-label=t(Msg::OrderSummary)>
            <h2 class="o-section-title">{t(Msg::OrderSummary)}</h2>
            <dl class="o-readonly-fields">
                <dt>{t(Msg::ColOrder)}</dt>
                <dd>{order.reference()}</dd>
                <dt>{t(Msg::ColService)}</dt>
                <dd>{order.account_name.clone()}</dd>
                <dt>{t(Msg::ColPack)}</dt>
                <dd>{order.pack_name.clone()}</dd>
                <dt>{t(Msg::ColCredits)}</dt>
                <dd>{credits}</dd>
                <dt>{t(Msg::ColAmount)}</dt>
                <dd class="o-balance">{money(order.amount, &order.currency)}</dd>
            </dl>
        </section>
    }
}

#[component]
fn CardCheckout(order: Order) -> impl IntoView {
    let id = order.id;
    let pay = ServerAction::<PayOrder>::new();
    let (holder, number, expiry, cvc) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let error = Signal::derive(move || pay.value().get().and_then(Result::err));
    // One payment attempt at a time: a double click sends one request.
    let in_flight = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| match pay.value().get() {
        Some(Ok(())) => navigate(&format!("/orders/{id}"), Default::default()),
        Some(Err(_)) => in_flight.set(false),
        None => {}
    });
    let amount = money(order.amount, &order.currency);

    view! {
        <div class="o-store o-checkout">
            <h1 class="o-store-title">{t(Msg::Checkout)}</h1>
            <div class="o-checkout-grid">
                <OrderSummary order />
                <form
                    class="o-form-sheet"
                    novalidate
                    aria-label=t(Msg::PaymentDetails)
                    on:submit=move |ev| {
                        ev.prevent_default();
                        if in_flight.get_untracked() {
                            return;
                        }
                        in_flight.set(true);
                        pay.dispatch(PayOrder {
                            id,
                            cardholder: holder.get_untracked(),
                            card_number: number.get_untracked(),
                            expiry: expiry.get_untracked(),
                            cvc: cvc.get_untracked(),
                        });
                    }
                >
                    <h2 class="o-section-title">{t(Msg::PaymentDetails)}</h2>
                    <FormAlert error />
                    <TextField name="cardholder" label=t(Msg::Cardholder) value=holder error autocomplete="cc-name" />
                    <TextField name="card_number" label=t(Msg::CardNumber) value=number error autocomplete="cc-number" />
                    <TextField name="expiry" label=t(Msg::Expiry) value=expiry error autocomplete="cc-exp" />
                    <TextField name="cvc" label=t(Msg::Cvc) value=cvc error autocomplete="cc-csc" />
                    <button type="submit" class="btn btn-primary btn-block o-pay" disabled=move || in_flight.get()>
                        {tf(Msg::Pay, &[("amount", amount.as_str().into())])}
                    </button>
                    <p class="o-field-help">{t(Msg::DemoCards)}</p>
                </form>
            </div>
        </div>
    }
}

/// Pay on the provider's page: one button, which sends the browser there.
#[component]
fn HostedCheckout(order: Order) -> impl IntoView {
    let id = order.id;
    let pay = ServerAction::<PayHosted>::new();
    let error = Signal::derive(move || pay.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(url)) = pay.value().get() {
            crate::nav::reload_to(&url);
        }
    });
    // From the click until the browser has left: a double click sends one request.
    let leaving = move || pay.pending().get() || matches!(pay.value().get(), Some(Ok(_)));
    let amount = money(order.amount, &order.currency);
    view! {
        <div class="o-store o-checkout">
            <h1 class="o-store-title">{t(Msg::Checkout)}</h1>
            <div class="o-checkout-grid">
                <OrderSummary order />
                <form
                    class="o-form-sheet"
                    aria-label=t(Msg::PaymentDetails)
                    on:submit=move |ev| {
                        ev.prevent_default();
                        if !leaving() {
                            pay.dispatch(PayHosted { id });
                        }
                    }
                >
                    <h2 class="o-section-title">{t(Msg::PaymentDetails)}</h2>
                    <FormAlert error />
                    <p class="o-field-help">{t(Msg::HostedPaymentHelp)}</p>
                    <button type="submit" class="btn btn-primary btn-block o-pay" disabled=leaving>
                        {move || if leaving() {
                            t(Msg::RedirectingToPayment).to_owned()
                        } else {
                            tf(Msg::Pay, &[("amount", amount.as_str().into())])
                        }}
                    </button>
                </form>
            </div>
        </div>
    }
}

/// No provider is configured: say so, and tell administrators what to set.
#[component]
fn Unavailable(order: Order) -> impl IntoView {
    let is_admin = use_context::<SessionInfo>().is_some_and(|s| s.is_admin);
    view! {
        <div class="o-store o-checkout">
            <h1 class="o-store-title">{t(Msg::Checkout)}</h1>
            <div class="o-checkout-grid">
                <OrderSummary order />
                <section class="o-form-sheet">
                    <crate::components::status::PaymentsUnavailable is_admin />
                </section>
            </div>
        </div>
    }
}
