//! `/settings/technical/sms`: the SMS outbox, every message with its state, delivery
//! status, cost and batch, then the delivery reports on their way to Odoo databases, in
//! developer mode. While any message or report is queued it reads itself again every
//! second, so a batch can be watched going out.

use crate::components::sms_state::{SmsStateBadge, batch_progress};
use crate::functions::sms::{sms_outbox, sms_reports};
use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::{SmsDelivery, SmsOutboxLine, SmsReportLine, SmsReportState};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SmsOutboxPage() -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let outbox = Resource::new(move || tick.get(), |_| sms_outbox());
    let reports = Resource::new(move || tick.get(), |_| sms_reports());
    #[cfg(feature = "hydrate")]
    {
        use crate::models::SmsState;
        let waiting = move || {
            let messages = outbox.get_untracked().is_some_and(|lines| {
                matches!(lines, Ok(ref l) if l.iter().any(|m| m.state == SmsState::Outgoing))
            });
            let reports = reports.get_untracked().is_some_and(|lines| {
                matches!(lines, Ok(ref l) if l.iter().any(|r| r.state == SmsReportState::Queued))
            });
            messages || reports
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
            <section class="o-sms-reports" aria-labelledby="sms-reports-title">
                <h2 id="sms-reports-title" class="o-section-title">{t(Msg::SmsReports)}</h2>
                <p class="o-field-help">{t(Msg::SmsReportsHelp)}</p>
                <Transition fallback=crate::components::status::Loading>
                    {move || Suspend::new(async move { reports.await.map(|lines| view! { <ReportsTable lines /> }) })}
                </Transition>
            </section>
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
                    <th>{t(Msg::ColDelivery)}</th>
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
                        let author = m.author_name.or_else(|| {
                            m.dbuuid.map(|d| tf(Msg::SmsSentByDatabase, &[("dbuuid", d.into())]))
                        });
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
                                <td><SmsStateBadge state=m.state /></td>
                                <td>{m.delivery.map(delivery_label)}</td>
                                <td class="o-sms-batch">{batch}</td>
                                <td>{m.provider}</td>
                                <td>{author}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// How a delivery status reads.
pub fn delivery_label(status: SmsDelivery) -> &'static str {
    t(match status {
        SmsDelivery::Sent => Msg::DeliverySent,
        SmsDelivery::Delivered => Msg::DeliveryDelivered,
        SmsDelivery::NotDelivered => Msg::DeliveryNotDelivered,
        SmsDelivery::InvalidDestination => Msg::DeliveryInvalidDestination,
        SmsDelivery::NotAllowed => Msg::DeliveryNotAllowed,
        SmsDelivery::Rejected => Msg::DeliveryRejected,
        SmsDelivery::Expired => Msg::DeliveryExpired,
    })
}

#[component]
fn ReportsTable(lines: Vec<SmsReportLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p class="o-list-empty">{t(Msg::SmsReportsEmpty)}</p> }.into_any();
    }
    view! {
        <table class="o-list-table o-history o-sms-reports-table">
            <thead>
                <tr>
                    <th>{t(Msg::ColDate)}</th>
                    <th>{t(Msg::ColWebhook)}</th>
                    <th>"uuid"</th>
                    <th>{t(Msg::ColDelivery)}</th>
                    <th>{t(Msg::ColStatus)}</th>
                    <th class="o-num">{t(Msg::ColAttempts)}</th>
                    <th>{t(Msg::ColNextAttempt)}</th>
                    <th>{t(Msg::ColLastError)}</th>
                </tr>
            </thead>
            <tbody>
                {lines
                    .into_iter()
                    .map(|r| {
                        let (label, class) = match r.state {
                            SmsReportState::Queued => (t(Msg::MailQueued), "o-state-queued"),
                            SmsReportState::Sent => (t(Msg::MailSent), "o-state-paid"),
                            SmsReportState::Failed => (t(Msg::MailFailed), "o-state-failed"),
                            SmsReportState::Superseded => (t(Msg::SmsReportSuperseded), "o-state-draft"),
                        };
                        let next = (r.state == SmsReportState::Queued).then(|| crate::locale::date_time(r.next_attempt_at));
                        view! {
                            <tr class="o-data-row">
                                <td class="o-nowrap">{crate::locale::date_time(r.created_at)}</td>
                                <td class="o-sms-webhook">{r.webhook_url}</td>
                                <td class="o-nowrap">{r.uuid}</td>
                                <td>{delivery_label(r.status)}</td>
                                <td><span class=format!("o-badge {class}")>{label}</span></td>
                                <td class="o-num">{r.attempts}</td>
                                <td class="o-nowrap">{next}</td>
                                <td>{r.last_error}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
