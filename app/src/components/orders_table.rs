//! The table of orders, for Account Information and the administrators' Orders list, and
//! how an order's card is written.

use crate::components::refund_order::RefundOrder;
use crate::domain::packs::money;
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::{Order, SessionInfo};
use leptos::prelude::*;

/// "Visa •••• 4242", or nothing before payment (`None`: an empty text node would not
/// survive hydration).
pub fn card_text(order: &Order) -> Option<String> {
    match (&order.card_brand, &order.card_last4) {
        (Some(brand), Some(last4)) => Some(format!("{brand} •••• {last4}")),
        _ => None,
    }
}

/// A table of orders, for the account page and the administrators' list. With
/// `on_refunded`, administrators get a Refund button on paid orders.
#[component]
pub fn OrdersTable(
    orders: Vec<Order>,
    #[prop(optional)] with_account: bool,
    #[prop(optional)] on_refunded: Option<Callback<()>>,
) -> impl IntoView {
    if orders.is_empty() {
        return view! { <p class="o-list-empty">{t(Msg::NoOrders)}</p> }.into_any();
    }
    let admin = use_context::<SessionInfo>().is_some_and(|s| s.is_admin);
    let refunds = on_refunded.filter(|_| admin);
    let refund = move |o: &Order| {
        let on_refunded = refunds?;
        o.refundable()
            .then(|| view! { <RefundOrder order=o.clone() on_refunded /> })
    };
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
                        <td class="o-nowrap">{crate::locale::date_time(o.created_at)}</td>
                        {with_account.then(|| view! { <td>{o.account_name.clone()}</td> })}
                        <td>
                            {o.pack_name.clone()}
                            {o.auto_recharge.then(|| view! {
                                " "
                                <span class="o-badge o-badge-muted">{t(Msg::AutoRechargeTitle)}</span>
                            })}
                        </td>
                        <td class="o-num">{money(o.amount, &o.currency)}</td>
                        <td>{o.buyer.clone()}</td>
                        <td>
                            <span class=format!("o-badge o-state-{}", o.state.as_str())>{t(o.state.label())}</span>
                            {o.pending_minutes.map(|minutes| view! {
                                <span class="o-muted o-pending-age">{tf(Msg::PendingFor, &[("minutes", minutes.into())])}</span>
                            })}
                            {o.refund.map(|r| view! {
                                <span class=format!("o-badge o-refund-{}", r.as_str()) data-testid="refund-state">{t(r.label())}</span>
                            })}
                            {o.refund_failure.clone().map(|why| view! { <span class="o-muted o-pending-age">{why}</span> })}
                            {refund(&o)}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
