//! How an SMS and its batch look wherever they are shown (the chatter, the SMS Outbox):
//! a badge for the message's state and a line for the batch's progress.

use crate::i18n::Msg;
use crate::locale::{t, tf};
use crate::models::SmsState;
use leptos::prelude::*;

/// The message's state as a coloured badge.
#[component]
pub fn SmsStateBadge(state: SmsState) -> impl IntoView {
    let (label, class) = match state {
        SmsState::Sent => (t(Msg::SmsStateSent), "o-state-paid"),
        SmsState::Error => (t(Msg::SmsStateError), "o-state-failed"),
        SmsState::Outgoing => (t(Msg::SmsStateOutgoing), "o-state-queued"),
    };
    view! { <span class=format!("o-badge o-sms-state {class}")>{label}</span> }
}

/// "Batch 12: 3 sent, 0 failed, 2 queued".
pub fn batch_progress(batch: i64, sent: u32, failed: u32, queued: u32) -> String {
    let progress = tf(
        Msg::SmsBatchProgress,
        &[
            ("sent", sent.into()),
            ("failed", failed.into()),
            ("queued", queued.into()),
        ],
    );
    tf(
        Msg::SmsBatchLine,
        &[
            ("batch", batch.to_string().into()),
            ("progress", progress.into()),
        ],
    )
}
