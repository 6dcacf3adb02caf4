//! `/settings/technical/sms`: the SMS outbox, every message with its state, cost and
//! batch, in developer mode. While any message is queued it reads itself again every
//! second, so a batch can be watched going out.

use crate::components::sms_state::{SmsStateBadge, batch_progress};
use crate::functions::sms::sms_outbox;
use crate::i18n::{Msg, t};
use crate::models::SmsOutboxLine;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SmsOutboxPage() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let outbox = Resource::new(move || tick.get(), |_| sms_outbox());
    #[cfg(feature = "hydrate")]
    {
        use crate::models::SmsState;
        let waiting = move || {
            outbox.get_untracked().is_some_and(|lines| {
                matches!(lines, Ok(ref l) if l.iter().any(|m| m.state == SmsState::Outgoing))
            })
        };
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if waiting() {
                    tick.try_update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
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
                    <th>{t(Msg::ColBatch)}</th>
                    <th>{t(Msg::ColProvider)}</th>
                    <th>{t(Msg::ColAuthor)}</th>
                </tr>
            </thead>
            <tbody>
                {lines
                    .into_iter()
                    .map(|m| {
                        let batch = batch_progress(m.batch_id, m.batch_sent, m.batch_failed, m.batch_queued);
                        view! {
                            <tr class="o-data-row">
                                <td class="o-nowrap">{m.created_at.to_string()}</td>
                                <td class="o-nowrap">{m.number}</td>
                                <td>{m.contact_name}</td>
                                <td class="o-sms-body">
                                    {m.body}
                                    {m.error.map(|e| view! { <div class="o-field-error">{e}</div> })}
                                </td>
                                <td class="o-num">{format!("{} ({})", m.parts, m.encoding)}</td>
                                <td class="o-num">{m.credits.display(m.whole_number)}</td>
                                <td><SmsStateBadge state=m.state /></td>
                                <td class="o-sms-batch">{batch}</td>
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
