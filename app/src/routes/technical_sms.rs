//! `/settings/technical/sms`: the SMS outbox, every message with its state and cost, in
//! developer mode.

use crate::functions::sms::sms_outbox;
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::{SmsOutboxLine, SmsState};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SmsOutboxPage() -> impl IntoView {
    let outbox = Resource::new(|| (), |_| sms_outbox());
    view! {
        <Title text=t(Msg::SmsOutbox) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::SmsOutbox)}</h1>
            </div>
        </div>
        <div class="o-content o-padded">
            <p class="o-field-help">{t(Msg::SmsOutboxHelp)}</p>
            <Transition fallback=crate::components::status::Loading>
                {move || Suspend::new(async move { outbox.await.map(|lines| view! { <OutboxTable lines /> }) })}
            </Transition>
        </div>
    }
}

#[component]
fn OutboxTable(lines: Vec<SmsOutboxLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="o-list-empty">{t(Msg::SmsOutboxEmpty)}</p> }.into_any();
    }
    view! {
        <table class="o-list-table o-history o-sms-outbox">
            <thead>
                <tr>
                    <th>{t(Msg::ColDate)}</th>
                    <th>{t(Msg::ColNumber)}</th>
                    <th>{t(Msg::ColContact)}</th>
                    <th>{t(Msg::ColMessage)}</th>
                    <th class="o-num">{t(Msg::ColParts)}</th>
                    <th class="o-num">{t(Msg::ColCredits)}</th>
                    <th>{t(Msg::ColStatus)}</th>
                    <th>{t(Msg::ColProvider)}</th>
                    <th>{t(Msg::ColAuthor)}</th>
                </tr>
            </thead>
            <tbody>
                {lines
                    .into_iter()
                    .map(|m| {
                        let (label, class) = state(m.state);
                        view! {
                            <tr class="o-data-row">
                                <td class="o-nowrap">{crate::locale::date_time(m.created_at)}</td>
                                <td class="o-nowrap">{m.number}</td>
                                <td>{m.contact_name}</td>
                                <td class="o-sms-body">
                                    {m.body}
                                    {m.error.map(|e| view! { <div class="o-field-error">{e}</div> })}
                                </td>
                                <td class="o-num">{format!("{} ({})", m.parts, m.encoding)}</td>
                                <td class="o-num">{crate::locale::credits(m.credits, m.whole_number)}</td>
                                <td><span class=format!("o-badge {class}")>{label}</span></td>
                                <td>{m.provider}</td>
                                <td>{m.author_name}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

fn state(state: SmsState) -> (&'static str, &'static str) {
    match state {
        SmsState::Sent => (t(Msg::SmsStateSent), "o-state-paid"),
        SmsState::Error => (t(Msg::SmsStateError), "o-state-failed"),
        SmsState::Outgoing => (t(Msg::SmsStateOutgoing), "o-state-pending"),
    }
}
