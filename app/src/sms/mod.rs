//! Sending SMS the way IAP services spend credits, as a durable job that nothing outside
//! can cancel: delivered ⇔ charged.
//!
//! # How a send goes
//! 1. [`Sender::send`] prices every message, then the ledger writer holds the batch's whole
//!    cost on the company's SMS account (nothing goes out unless all of it is covered) and
//!    stores the batch and every message as `outgoing`, each message to a contact logged in
//!    its chatter, in the same transaction. Then it answers: the messages are queued. This
//!    part runs in a task of its own, so a client that goes away mid-request changes
//!    nothing.
//! 2. The [`worker`] hands the queued messages to the provider, at most `SMS_CONCURRENCY`
//!    at once, and records each answer through the ledger writer
//!    ([`Ledger::record_sms`](crate::ledger::Ledger::record_sms)).
//! 3. When no message of the batch waits any more, the rest of the hold is released and
//!    the batch is done.
//!
//! # One hold per batch, captured in parts
//! Each sent message is charged its own cost out of its batch's hold, in the transaction
//! that marks it sent (a partial capture: the rest stays held); a refused one is marked
//! error and costs nothing. So a message is charged exactly when it is recorded as sent,
//! whatever happens after. One hold per message would charge the same way, but a batch
//! must be covered as a whole before anything goes out, which is one hold; holds per
//! message would need a new all-or-nothing "hold many" operation, and an extension of each
//! of them while the job runs. With one hold, the account's history shows one reservation,
//! one consumption line per delivered message, and one release of what was not used.
//!
//! # A hold that outlives its job
//! The hold is placed for an hour. Every recorded message pushes its expiry to an hour from
//! then, and the worker extends it before it starts a batch and on a heartbeat while
//! messages are with the provider, so it never expires under a running job. Nothing can
//! extend it while the server is stopped, so the ledger writer, when it starts, gives the
//! hold of every unfinished batch a full hour again before anything could expire it. Should
//! a hold have ended all the same, the worker holds the cost of the messages still waiting
//! again, and fails them, charging nothing, if the account can no longer cover them.
//!
//! # Numbers that cannot be texted
//! A recipient without a number, with one that cannot be read, or in a country iapd does
//! not deliver to, does not stop the others: it is stored at once as an error (with its
//! [`SmsFailure`]), costs nothing, and is named in the answer. Only a send where no
//! recipient can be texted is refused outright.
//!
//! # Unclear answers and restarts
//! A provider that refuses a message makes it an error, free. One that gives no clear
//! answer (a timeout, a 5xx) may have sent it: the message stays queued and held, and is
//! handed over again later until the provider says yes or no (see [`worker`]). Every
//! message carries its own id to the provider (the HTTP gateway sends
//! `Idempotency-Key: iapd-sms-<id>`), so one handed over again (after an unclear answer, or
//! a crash that lost the answer) is recognised. A message already recorded is never handed
//! over again.
//!
//! # Odoo's SMS API
//! [`api`] answers an Odoo database's sends through the same job, and [`reports`] carries
//! the gateway's delivery reports on to that database.

pub mod api;
pub mod provider;
pub mod reports;
pub mod worker;

use crate::db;
use crate::domain::FieldError;
use crate::domain::credits::Credits;
use crate::domain::ledger::{HoldRequest, NewHold};
use crate::domain::phone::{self, Destination};
use crate::domain::sms;
use crate::error::AppError;
use crate::i18n::{Msg, Note, Text};
use crate::ledger::{ChatterLine, Ledger, QueuedSms, SmsBatch};
use crate::models::{SmsFailure, SmsQueued, SmsRecipient, SmsRefused, SmsSource};
pub use provider::{
    BuiltinProvider, Delivery, GatewayConfig, HttpGateway, NotTaken, Outgoing, SmsProvider,
};
use sqlx::AnyPool;
pub use worker::{SmsQueue, WorkerSettings};

/// The service whose account pays.
pub const SERVICE: &str = "sms";
/// How long a batch's hold lives when placed, and after each sign of progress: far longer
/// than one message can take, short enough that a batch abandoned by a crash frees its
/// credits soon.
pub const HOLD_TTL_HOURS: i64 = 1;
/// The chatter model name for contacts.
const CONTACT_MODEL: &str = "contact";

/// Someone to text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub contact_id: Option<i64>,
    pub name: String,
    /// As typed on the contact.
    pub number: String,
    /// The contact's country: the region national numbers are read in.
    pub country: Option<String>,
}

/// A contact selected for a send that has no number to text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoNumber {
    pub contact_id: Option<i64>,
    pub name: String,
}

/// One send, from the pop-up or a list selection.
#[derive(Clone, Debug)]
pub struct SendRequest {
    pub author_id: i64,
    /// Chooses the SMS account, by the rule of the current company.
    pub company_id: i64,
    pub request_key: String,
    pub body: String,
    /// Everyone selected: a number to text, or a contact without one.
    pub recipients: Vec<Result<Recipient, NoNumber>>,
}

/// Why a recipient cannot be texted: what is stored, and what users read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub failure: SmsFailure,
    pub error: FieldError,
}

/// What users read about a recipient that cannot be texted. Rebuilt from what is stored,
/// so a retried send answers the same.
pub fn refusal_text(failure: SmsFailure, name: &str, number: &str) -> FieldError {
    match failure {
        SmsFailure::NoNumber => FieldError::new("number", Msg::ErrSmsNoNumber).arg("name", name),
        SmsFailure::CountryNotSupported => FieldError::new("number", Msg::ErrSmsCountry),
        SmsFailure::WrongNumberFormat | SmsFailure::Provider | SmsFailure::NotPaid => {
            FieldError::new("number", Msg::ErrSmsNumber)
                .arg("number", number)
                .arg("name", name)
        }
    }
}

/// Queues sends: where, how the ledger is reached, and whom to wake.
#[derive(Clone)]
pub struct Sender {
    pub pool: AnyPool,
    pub ledger: Ledger,
    pub queue: SmsQueue,
}

/// Where a recipient's number goes and what a part costs there, or why it cannot be texted.
pub fn price(recipient: &Recipient) -> Result<(Destination, i64), Refusal> {
    let refused = |failure| Refusal {
        failure,
        error: refusal_text(failure, &recipient.name, &recipient.number),
    };
    let destination = phone::destination(&recipient.number, recipient.country.as_deref())
        .map_err(|_| refused(SmsFailure::WrongNumberFormat))?;
    let price = sms::price_per_part(&destination.country)
        .map_err(|_| refused(SmsFailure::CountryNotSupported))?;
    Ok((destination, price))
}

/// One line of the pop-up's quote: the number and its price per part, or why the contact
/// cannot be texted.
pub fn quote_line(
    contact_id: i64,
    name: String,
    recipient: Result<Recipient, FieldError>,
) -> SmsRecipient {
    let (number, price) = match recipient {
        Ok(r) => (
            r.number.clone(),
            price(&r).map(|(_, price)| price).map_err(|r| r.error),
        ),
        Err(e) => (String::new(), Err(e)),
    };
    SmsRecipient {
        contact_id,
        name,
        number,
        price_per_part: price.as_ref().ok().copied().map(Credits::from_minor),
        problem: price.err().map(|e| e.text()),
    }
}

/// A checked send: its messages (queued and refused), their total cost, and who was left
/// out.
struct Batch {
    request: SendRequest,
    messages: Vec<db::sms::NewMessage>,
    total: i64,
    refused: Vec<SmsRefused>,
}

impl Sender {
    /// Queues `request`'s message to every recipient, or to none: a bad input or a refused
    /// hold queues nothing and charges nothing. Answers once the batch is committed; the
    /// worker sends it. A retried request (same key) answers its batch again.
    #[tracing::instrument(skip_all, fields(recipients = request.recipients.len()))]
    pub async fn send(&self, request: SendRequest) -> Result<SmsQueued, AppError> {
        let batch = check(request)?;
        // Once asked, finish whatever happens to the caller: a client that hangs up must
        // not leave a hold without its batch.
        let this = self.clone();
        tokio::spawn(async move { this.commit(batch).await })
            .await
            .map_err(|error| {
                tracing::error!(%error, "the SMS send task failed");
                AppError::Internal
            })?
    }

    /// Holds the batch's cost and commits it with its messages and their chatter lines, in
    /// one transaction, then wakes the worker. A request made before answers its batch.
    async fn commit(&self, batch: Batch) -> Result<SmsQueued, AppError> {
        if let Some(queued) = self.replay(&batch.request.request_key).await? {
            return Ok(queued);
        }
        let Batch {
            request,
            messages,
            total,
            refused,
        } = batch;
        let queued = messages.iter().filter(|m| m.refused.is_none()).count();
        let account = self
            .ledger
            .resolve_account(SERVICE, request.company_id)
            .await?;
        let hold = NewHold::parse(HoldRequest {
            account,
            amount: Credits::from_minor(total),
            description: hold_description(queued, None),
            ttl_hours: Some(HOLD_TTL_HOURS),
            idempotency_key: None,
        })?;
        let messages = messages
            .into_iter()
            .map(|message| {
                let chatter = message.contact_id.map(|contact| ChatterLine {
                    model: CONTACT_MODEL,
                    res_id: contact,
                    author_id: request.author_id,
                    body: chatter_line(&message),
                });
                (message, chatter)
            })
            .collect();
        let stored = self
            .ledger
            .queue_sms(SmsBatch {
                hold: Some(hold),
                request_key: request.request_key.clone(),
                source: SmsSource::App,
                author_id: Some(request.author_id),
                account_id: account,
                dbuuid: None,
                webhook_url: None,
                sender_name: None,
                messages,
            })
            .await?;
        let batch = match stored {
            QueuedSms::Queued { batch, .. } => batch,
            // The same request raced itself: the first one queued.
            QueuedSms::AlreadyQueued(_) | QueuedSms::UuidTaken => {
                return self.replay(&request.request_key).await?.ok_or_else(|| {
                    tracing::error!("an SMS batch vanished after its key was taken");
                    AppError::Internal
                });
            }
        };
        self.queue.wake();
        tracing::info!(batch, queued, refused = refused.len(), "SMS batch queued");
        Ok(SmsQueued {
            batch_id: batch,
            queued: count(queued),
            credits: Credits::from_minor(total),
            refused,
        })
    }

    /// The batch an earlier attempt with this key queued, if there was one.
    async fn replay(&self, request_key: &str) -> Result<Option<SmsQueued>, AppError> {
        let mut conn = self.pool.acquire().await?;
        let Some(batch) = db::sms::batch_by_key(&mut conn, request_key).await? else {
            return Ok(None);
        };
        let Some(status) = db::sms::batch_status(&mut conn, batch).await? else {
            return Ok(None);
        };
        let refused: Vec<SmsRefused> = db::sms::refused_in(&mut conn, batch)
            .await?
            .into_iter()
            .map(|r| SmsRefused {
                reason: refusal_text(r.failure, &r.name, &r.number).text(),
                name: r.name,
                number: r.number,
            })
            .collect();
        let total = status.queued + status.sent + status.failed;
        Ok(Some(SmsQueued {
            batch_id: batch,
            queued: total.saturating_sub(count(refused.len())),
            credits: status.held,
            refused,
        }))
    }
}

/// Prices every message of `request`. A recipient that cannot be texted is kept as a
/// refused message; a send where none can be texted is refused.
fn check(request: SendRequest) -> Result<Batch, AppError> {
    let segments = sms::check_body(&request.body)?;
    if request.recipients.is_empty() {
        return Err(AppError::validation("contact_ids", Msg::ErrSmsNoRecipient));
    }
    let mut messages = Vec::with_capacity(request.recipients.len());
    let mut refused = Vec::new();
    let mut first_refusal = None;
    for recipient in &request.recipients {
        let message = db::sms::NewMessage {
            contact_id: None,
            uuid: None,
            number: String::new(),
            country: None,
            body: request.body.clone(),
            encoding: segments.encoding.label(),
            parts: segments.parts,
            cost: 0,
            refused: None,
        };
        let (message, refusal, name) = match recipient {
            Err(none) => {
                let failure = SmsFailure::NoNumber;
                let error = refusal_text(failure, &none.name, "");
                let message = db::sms::NewMessage {
                    contact_id: none.contact_id,
                    refused: Some((failure, error.text().to_string())),
                    ..message
                };
                (message, Some(error), &none.name)
            }
            Ok(r) => match price(r) {
                Ok((destination, price)) => {
                    let message = db::sms::NewMessage {
                        contact_id: r.contact_id,
                        number: destination.number,
                        country: Some(destination.country),
                        cost: sms::cost(segments, price).minor(),
                        ..message
                    };
                    (message, None, &r.name)
                }
                Err(refusal) => {
                    let message = db::sms::NewMessage {
                        contact_id: r.contact_id,
                        number: r.number.clone(),
                        refused: Some((refusal.failure, refusal.error.text().to_string())),
                        ..message
                    };
                    (message, Some(refusal.error), &r.name)
                }
            },
        };
        if let Some(error) = refusal {
            refused.push(SmsRefused {
                name: name.clone(),
                number: message.number.clone(),
                reason: error.text(),
            });
            first_refusal.get_or_insert(error);
        }
        messages.push(message);
    }
    if messages.iter().all(|m| m.refused.is_some()) {
        return Err(first_refusal
            .map(AppError::Validation)
            .unwrap_or_else(|| AppError::validation("contact_ids", Msg::ErrSmsNoRecipient)));
    }
    let total = messages
        .iter()
        .try_fold(0i64, |sum, m| sum.checked_add(m.cost))
        .ok_or_else(|| AppError::validation("contact_ids", Msg::ErrSmsTooMany))?;
    Ok(Batch {
        request,
        messages,
        total,
        refused,
    })
}

/// The ledger entry of a batch's hold: how many messages, and for which Odoo database.
fn hold_description(messages: usize, dbuuid: Option<&str>) -> Note {
    match dbuuid {
        Some(dbuuid) => Text::new(Msg::SmsHoldDescriptionApi)
            .arg("count", messages)
            .arg("dbuuid", dbuuid),
        None => Text::new(Msg::SmsHoldDescription).arg("count", messages),
    }
    .into()
}

/// What a contact's chatter says about a message to it.
fn chatter_line(message: &db::sms::NewMessage) -> Note {
    match message.refused {
        None => Text::new(Msg::SmsChatterLog)
            .arg("number", &message.number)
            .arg("credits", Credits::from_minor(message.cost)),
        Some(_) => Text::new(Msg::SmsChatterNotSent),
    }
    .arg("parts", message.parts)
    .arg("body", &message.body)
    .into()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
