//! `/settings/technical/emails`: the mail outbox in developer mode, newest first, with each
//! mail's recipients, subject, state, attempts, last error and body. Without an SMTP server
//! this is where low-credit warnings can be read.

use crate::functions::warnings::admin_list_emails;
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::{MailState, OutboxMail};
use leptos::prelude::*;
use leptos_meta::Title;

fn state_label(state: MailState) -> &'static str {
    t(match state {
        MailState::Sent => Msg::MailSent,
        MailState::Failed => Msg::MailFailed,
        MailState::Queued => Msg::MailQueued,
    })
}

#[component]
pub fn EmailsPage() -> impl IntoView {
    let mails = Resource::new(|| (), |_| admin_list_emails());
    view! {
        <Title text=t(Msg::Emails) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::Emails)}</h1>
            </div>
        </div>
        <div class="o-content">
            <p class="o-field-help o-padded">{t(Msg::EmailsHelp)}</p>
            <Transition fallback=crate::components::status::Loading>
                {move || Suspend::new(async move {
                    match mails.await {
                        Err(e) => view! { <crate::components::status::ErrorAlert error=e /> }.into_any(),
                        Ok(rows) if rows.is_empty() => {
                            view! { <p class="o-list-empty">{t(Msg::NoEmails)}</p> }.into_any()
                        }
                        Ok(rows) => view! { <EmailsTable rows /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn EmailsTable(rows: Vec<OutboxMail>) -> impl IntoView {
    view! {
        <table class="o-list-table">
            <thead>
                <tr>
                    <th>{t(Msg::ColCreated)}</th>
                    <th>{t(Msg::ColRecipients)}</th>
                    <th>{t(Msg::ColSubject)}</th>
                    <th>{t(Msg::ColStatus)}</th>
                    <th class="o-num">{t(Msg::ColAttempts)}</th>
                    <th>{t(Msg::ColLastError)}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|m| view! {
                    <tr class="o-data-row o-mail-row" data-testid="mail">
                        <td class="o-nowrap">{crate::locale::date_time(m.created_at)}</td>
                        <td>{m.recipients}</td>
                        <td>
                            <div>{m.subject}</div>
                            <details class="o-mail-body">
                                <summary>{t(Msg::ShowBody)}</summary>
                                <pre>{m.text_body}</pre>
                            </details>
                        </td>
                        <td>
                            <span class=format!("o-badge o-state-{}", m.state.as_str())>{state_label(m.state)}</span>
                        </td>
                        <td class="o-num">{m.attempts}</td>
                        <td class="o-mail-error">{m.last_error}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
