//! The table of orders, for Account Information and the administrators' Orders list, and
//! how an order's card is written.

use crate::domain::packs::money;
use crate::i18n::{Msg, t, tf};
use crate::models::Order;
use leptos::prelude::*;

/// "Visa •••• 4242", or nothing before payment (`None`: an empty text node would not
/// survive hydration).
pub fn card_text(order: &Order) -> Option<String> {
    match (&order.card_brand, &order.card_last4) {
        (Some(brand), Some(last4)) => Some(format!("{brand} •••• {last4}")),
        _ => None,
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
                        <td class="o-nowrap">{o.created_at.to_string()}</td>
                        {with_account.then(|| view! { <td>{o.account_name.clone()}</td> })}
                        <td>{o.pack_name.clone()}</td>
                        <td class="o-num">{money(o.amount, &o.currency)}</td>
                        <td>{o.buyer.clone()}</td>
                        <td>
                            <span class=format!("o-badge o-state-{}", o.state.as_str())>{t(o.state.label())}</span>
                            {o.pending_minutes.map(|minutes| view! {
                                <span class="o-muted o-pending-age">{tf(Msg::PendingFor, &[("minutes", minutes.into())])}</span>
                            })}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
