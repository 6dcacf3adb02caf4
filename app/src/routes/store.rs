//! `/iap-accounts/:id/buy`: "Buy Credits for <account>", the account's packs as cards.

use crate::components::status::{ErrorAlert, PaymentsUnavailable};
use crate::domain::credits::Credits;
use crate::domain::packs::{money, price_per_credit};
use crate::functions::store::{create_order, get_store};
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::{PaymentMode, SessionInfo};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn StorePage() -> impl IntoView {
    let query = use_query_map();
    let id = crate::routes::id_param();
    let store = Resource::new(
        move || (id(), query.with(|q| q.get("credit"))),
        |(id, credit)| get_store(id, credit),
    );
    let navigate = use_navigate();
    let buy = Action::new(move |(account, pack): &(i64, i64)| create_order(*account, *pack));
    Effect::new(move |_| {
        if let Some(Ok(order)) = buy.value().get() {
            navigate(&format!("/orders/{order}/checkout"), Default::default());
        }
    });

    view! {
        <Transition fallback=crate::components::status::Loading>
            {move || Suspend::new(async move {
                match store.await {
                    Err(error) => view! { <ErrorAlert error /> }.into_any(),
                    Ok(store) => {
                        let title = tf(Msg::BuyCreditsFor, &[("account", store.account.name.as_str().into())]);
                        let account = store.account.clone();
                        let can_buy = store.payments != PaymentMode::Unavailable;
                        let is_admin = use_context::<SessionInfo>().is_some_and(|s| s.is_admin);
                        view! {
                            <Title text=title.clone() />
                            <div class="o-store">
                                <h1 class="o-store-title">{title}</h1>
                                <p class="o-muted">{t(Msg::StoreIntro)}</p>
                                {(!can_buy).then(|| view! { <PaymentsUnavailable is_admin /> })}
                                {move || buy.value().get().and_then(Result::err).map(|error| view! { <ErrorAlert error /> })}
                                <div class="o-packs">
                                    {store.packs.into_iter().map(|pack| {
                                        let suggested = store.suggested == Some(pack.id);
                                        let credits = crate::locale::credits(Credits::from_minor(pack.credits), account.whole_number);
                                        let (account_id, pack_id) = (account.id, pack.id);
                                        view! {
                                            <article class="o-pack" class:o-pack-suggested=suggested aria-label=crate::locale::pack(&pack.name)>
                                                {suggested.then(|| view! { <span class="o-pack-flag">{t(Msg::SuggestedPack)}</span> })}
                                                <h2>{crate::locale::pack(&pack.name)}</h2>
                                                <p class="o-pack-credits"><strong>{credits}</strong>" "{crate::locale::unit(&account.unit_name)}</p>
                                                <p class="o-pack-price">{money(pack.price, &pack.currency)}</p>
                                                <p class="o-muted">{tf(Msg::PerCredit, &[("price", price_per_credit(&pack).into())])}</p>
                                                <button
                                                    type="button"
                                                    class="btn btn-primary btn-block"
                                                    disabled=move || !can_buy || buy.pending().get()
                                                    on:click=move |_| { buy.dispatch((account_id, pack_id)); }
                                                >
                                                    {t(Msg::Buy)}
                                                </button>
                                            </article>
                                        }
                                    }).collect_view()}
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
