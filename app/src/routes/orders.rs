//! `/settings/orders`: every order, for administrators.

use crate::components::orders_table::OrdersTable;
use crate::functions::store::all_orders;
use crate::i18n::Msg;
use crate::locale::t;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OrdersPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let orders = Resource::new(move || refresh.get(), |_| all_orders());
    let on_refunded = Callback::new(move |()| refresh.update(|n| *n += 1));
    view! {
        <Title text=t(Msg::Orders) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::Orders)}</h1>
            </div>
        </div>
        <div class="o-content o-padded">
            <Transition fallback=crate::components::status::Loading>
                {move || Suspend::new(async move { orders.await.map(|orders| view! { <OrdersTable orders with_account=true on_refunded /> }) })}
            </Transition>
        </div>
    }
}
