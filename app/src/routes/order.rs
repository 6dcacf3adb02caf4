//! `/orders/:id`: the confirmation with its receipt, or why the payment failed. Reloading it
//! only reads.

use crate::domain::credits::Credits;
use crate::domain::packs::money;
use crate::functions::store::get_order;
use crate::i18n::{Msg, t, tf};
use crate::models::Order;
use crate::routes::iap_accounts::balance_text;
use leptos::prelude::*;
use leptos_meta::Title;

pub fn state_label(state: &str) -> &'static str {
    t(match state {
        "paid" => Msg::StatePaid,
        "failed" => Msg::StateFailed,
        "pending" => Msg::StatePending,
        _ => Msg::StateDraft,
    })
}

/// "Visa •••• 4242", or nothing before payment (`None`: an empty text node would not
/// survive hydration).
pub fn card_text(order: &Order) -> Option<String> {
    match (&order.card_brand, &order.card_last4) {
        (Some(brand), Some(last4)) => Some(format!("{brand} •••• {last4}")),
        _ => None,
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let id = crate::routes::id_param();
    let order = Resource::new(id, get_order);
    view! {
        <Transition fallback=crate::components::status::Loading>
            {move || Suspend::new(async move {
                match order.await {
                    Err(e) => view! { <crate::components::status::ErrorAlert error=e /> }.into_any(),
                    Ok((order, account)) => {
                        let back = format!("/iap-accounts/{}", order.account_id);
                        let credits = format!("{} {}", Credits::from_minor(order.credits).display(order.whole_number), order.unit_name);
                        let heading = match order.state.as_str() {
                            "paid" => t(Msg::PaymentSuccessful),
                            "failed" => t(Msg::PaymentFailed),
                            other => state_label(other),
                        };
                        view! {
                            <Title text=heading />
                            <div class="o-store">
                                <div class="o-form-sheet o-confirmation" class:o-confirmation-ok=order.state == "paid">
                                    <h1 class="o-store-title">{heading}</h1>
                                    {(order.state == "paid").then(|| view! {
                                        <p>{tf(Msg::CreditsAdded, &[&credits, &order.account_name])}</p>
                                        <p>{t(Msg::NewBalance)}": "<strong data-testid="balance">{balance_text(&account)}</strong></p>
                                    })}
                                    {order.failure_reason.clone().map(|reason| view! {
                                        <p class="o-alert o-alert-danger" role="alert">{reason}</p>
                                        <a class="btn btn-primary" href=format!("/iap-accounts/{}/buy", order.account_id)>{t(Msg::NewOrder)}</a>
                                    })}
                                    {(order.state == "draft").then(|| view! {
                                        <a class="btn btn-primary" href=format!("/orders/{}/checkout", order.id)>{t(Msg::ContinueToPayment)}</a>
                                    })}
                                    <h2 class="o-section-title">{t(Msg::Receipt)}</h2>
                                    <dl class="o-readonly-fields">
                                        <dt>{t(Msg::ColOrder)}</dt>
                                        <dd>{order.reference()}</dd>
                                        <dt>{t(Msg::ColDate)}</dt>
                                        <dd>{order.created_at.clone()}</dd>
                                        <dt>{t(Msg::ColPack)}</dt>
                                        <dd>{order.pack_name.clone()}</dd>
                                        <dt>{t(Msg::ColCredits)}</dt>
                                        <dd>{credits.clone()}</dd>
                                        <dt>{t(Msg::ColAmount)}</dt>
                                        <dd>{money(order.amount, &order.currency)}</dd>
                                        <dt>{t(Msg::ColCard)}</dt>
                                        <dd>{card_text(&order)}</dd>
                                        <dt>{t(Msg::ColStatus)}</dt>
                                        <dd>{state_label(&order.state)}</dd>
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

/// A table of orders, for the account page and the administrators' list.
#[component]
pub fn OrdersTable(orders: Vec<Order>, #[prop(optional)] with_account: bool) -> impl IntoView {
    if orders.is_empty() {
        return view! { <p class="o-list-empty">{t(Msg::NoOrders)}</p> }.into_any();
    }
    view! {
        <table class="o-list-table o-history">
            <thead>
                <tr>
                    <th>{t(Msg::ColOrder)}</th>
                    <th>{t(Msg::ColDate)}</th>
                    {with_account.then(|| view! { <th>{t(Msg::ColService)}</th> })}
                    <th>{t(Msg::ColPack)}</th>
                    <th class="o-num">{t(Msg::ColAmount)}</th>
                    <th>{t(Msg::ColBuyer)}</th>
                    <th>{t(Msg::ColStatus)}</th>
                </tr>
            </thead>
            <tbody>
                {orders.into_iter().map(|o| view! {
                    <tr>
                        <td><a href=format!("/orders/{}", o.id)>{o.reference()}</a></td>
                        <td class="o-nowrap">{o.created_at.clone()}</td>
                        {with_account.then(|| view! { <td>{o.account_name.clone()}</td> })}
                        <td>{o.pack_name.clone()}</td>
                        <td class="o-num">{money(o.amount, &o.currency)}</td>
                        <td>{o.buyer.clone()}</td>
                        <td><span class=format!("o-badge o-state-{}", o.state)>{state_label(&o.state)}</span></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
