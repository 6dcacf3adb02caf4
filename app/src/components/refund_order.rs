//! Refund, on a paid order: an administrator gives the payment back, with a reason. The
//! order's credits leave the account at once; the money goes back through the order's
//! payment provider.

use crate::components::action_dialog::{ActionButton, ActionDialog};
use crate::components::field::TextField;
use crate::components::status::FormAlert;
use crate::domain::packs::money;
use crate::functions::iap::AdminRefundOrder;
use crate::i18n::{Arg, Msg};
use crate::locale::{t, tf};
use crate::models::Order;
use leptos::prelude::*;

/// The Refund button of a paid order; `on_refunded` runs once the refund was recorded and
/// the dialog closed, to show the order and the balance anew.
#[component]
pub fn RefundOrder(order: Order, on_refunded: Callback<()>) -> impl IntoView {
    let label = tf(Msg::RefundLabel, &[("order", Arg::Text(order.reference()))]);
    let order = StoredValue::new(order);
    view! {
        <ActionButton
            label
            text=t(Msg::Refund)
            dialog=move |on_close| view! { <RefundDialog order=order.get_value() on_close /> }
            on_done=on_refunded
        />
    }
}

#[component]
fn RefundDialog(order: Order, on_close: Callback<bool>) -> impl IntoView {
    let refund = ServerAction::<AdminRefundOrder>::new();
    let reason = RwSignal::new(String::new());
    let error = Signal::derive(move || refund.value().get().and_then(Result::err));
    let reference = order.reference();
    let credits = crate::locale::amount(order.credits, order.whole_number, &order.unit_name);
    let intro = tf(
        Msg::RefundIntro,
        &[
            ("order", Arg::Text(reference.clone())),
            ("credits", Arg::Text(credits)),
            ("price", Arg::Text(money(order.amount, &order.currency))),
        ],
    );
    let done = Signal::derive(move || {
        let state = refund.value().get().and_then(Result::ok)?;
        Some(tf(
            Msg::RefundDone,
            &[
                ("order", Arg::Text(reference.clone())),
                ("state", Arg::Text(t(state.label()).to_owned())),
            ],
        ))
    });
    let id = order.id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        refund.dispatch(AdminRefundOrder {
            order: id,
            reason: reason.get_untracked(),
        });
    };
    view! {
        <ActionDialog id="refund-title" title=t(Msg::RefundTitle) done testid="refund-done" on_close>
            <form class="o-refund" on:submit=submit novalidate>
                <p class="o-field-help">{intro.clone()}</p>
                <FormAlert error />
                <TextField name="reason" label=t(Msg::ReverseReason) value=reason error />
                <div class="o-dialog-buttons">
                    <button type="submit" class="btn btn-primary" disabled=move || refund.pending().get()>
                        {t(Msg::Refund)}
                    </button>
                    <button type="button" class="btn btn-secondary" on:click=move |_| on_close.run(false)>
                        {t(Msg::Cancel)}
                    </button>
                </div>
            </form>
        </ActionDialog>
    }
}
