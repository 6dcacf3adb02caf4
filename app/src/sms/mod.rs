//! Sending SMS the way IAP services spend credits, as a durable job that nothing outside
//! can cancel: delivered ⇔ charged.
//!
//! # How a send goes
//! 1. [`Sender::send`] prices every message, holds the batch's whole cost on the company's
//!    SMS account (nothing goes out unless all of it is covered), and commits the batch and
//!    every message as `outgoing`, each message to a contact logged in its chatter. Then it
//!    answers: the messages are queued. This part runs in a task of its own, so a client
//!    that goes away mid-request cannot leave a hold without its batch.
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
//! messages are with the provider, so it never expires under a running job. A server that
//! was down longer than that finds the hold expired (its credits were released): the
//! worker then holds the cost of the messages still waiting again, and fails them, charging
//! nothing, if the account can no longer cover them.
//!
//! # Restarts
//! Every message carries its own id to the provider (the HTTP gateway sends
//! `Idempotency-Key: iapd-sms-<id>`). A message whose answer was lost in a crash is still
//! `outgoing`; the restarted worker hands it over again, and the gateway recognises it.
//! A message already recorded is never handed over again.

pub mod provider;
pub mod worker;

use crate::clock::now_ms;
use crate::db;
use crate::domain::FieldError;
use crate::domain::credits::Credits;
use crate::domain::ledger::{HoldRequest, NewHold};
use crate::domain::phone::{self, Destination};
use crate::domain::sms;
use crate::error::AppError;
use crate::i18n::{Msg, tf};
use crate::ledger::Ledger;
use crate::models::{SmsQueued, SmsRecipient};
pub use provider::{BuiltinProvider, Delivery, GatewayConfig, HttpGateway, Outgoing, SmsProvider};
use sqlx::SqlitePool;
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

/// One send, from the pop-up or a list selection.
#[derive(Clone, Debug)]
pub struct SendRequest {
    pub author_id: i64,
    /// Chooses the SMS account, by the rule of the current company.
    pub company_id: i64,
    pub request_key: String,
    pub body: String,
    pub recipients: Vec<Recipient>,
}

/// Queues sends: where, how the ledger is reached, and whom to wake.
#[derive(Clone)]
pub struct Sender {
    pub pool: SqlitePool,
    pub ledger: Ledger,
    pub queue: SmsQueue,
}

/// Where a recipient's number goes and what a part costs there, or why it cannot be texted.
pub fn price(recipient: &Recipient) -> Result<(Destination, i64), FieldError> {
    let destination =
        phone::destination(&recipient.number, recipient.country.as_deref()).map_err(|_| {
            FieldError::new("number", Msg::ErrSmsNumber)
                .arg("number", &recipient.number)
                .arg("name", &recipient.name)
        })?;
    let price = sms::price_per_part(&destination.country)
        .map_err(|_| FieldError::new("number", Msg::ErrSmsCountry))?;
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
        Ok(r) => (r.number.clone(), price(&r).map(|(_, price)| price)),
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

/// A checked send: its messages, their total cost and what its chatter lines say.
struct Batch {
    request: SendRequest,
    messages: Vec<db::sms::NewMessage>,
    total: i64,
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

    /// Holds the batch's cost, then commits the batch, its messages and their chatter lines
    /// in one transaction, and wakes the worker. A request made before answers its batch.
    async fn commit(&self, batch: Batch) -> Result<SmsQueued, AppError> {
        if let Some(queued) = self.replay(&batch.request.request_key).await? {
            return Ok(queued);
        }
        let Batch {
            request,
            messages,
            total,
        } = batch;
        let account = self
            .ledger
            .resolve_account(SERVICE, request.company_id)
            .await?;
        let hold = NewHold::parse(HoldRequest {
            account,
            amount: Credits::from_minor(total),
            description: tf(Msg::SmsHoldDescription, &[("count", messages.len().into())]),
            ttl_hours: Some(HOLD_TTL_HOURS),
            idempotency_key: Some(format!("sms:{}", request.request_key)),
        })?;
        let token = self.ledger.hold(hold).await?;
        let inserted = self.insert(&request, account, &token, &messages).await;
        let batch = match inserted {
            Ok(Some(batch)) => batch,
            // The same request raced itself: both got the same hold, the first one queued.
            Ok(None) => {
                return self.replay(&request.request_key).await?.ok_or_else(|| {
                    tracing::error!("an SMS batch vanished after its key was taken");
                    AppError::Internal
                });
            }
            Err(error) => {
                if let Err(cancel) = self.ledger.cancel(&token).await {
                    tracing::error!(
                        ?cancel,
                        "cannot release the hold of an SMS batch that was not stored; it expires on its own"
                    );
                }
                return Err(error.into());
            }
        };
        self.queue.wake();
        tracing::info!(batch, messages = messages.len(), "SMS batch queued");
        Ok(SmsQueued {
            batch_id: batch,
            queued: count(messages.len()),
            credits: Credits::from_minor(total),
        })
    }

    async fn insert(
        &self,
        request: &SendRequest,
        account: i64,
        token: &str,
        messages: &[db::sms::NewMessage],
    ) -> Result<Option<i64>, sqlx::Error> {
        let now = now_ms();
        let mut tx = db::begin_write(&self.pool).await?;
        let Some(batch) = db::sms::insert_batch(
            &mut tx,
            &request.request_key,
            request.author_id,
            account,
            token,
            now,
        )
        .await?
        else {
            return Ok(None);
        };
        for message in messages {
            let chatter = match message.contact_id {
                Some(contact) => {
                    let line = tf(
                        Msg::SmsChatterLog,
                        &[
                            ("number", message.number.as_str().into()),
                            ("parts", message.parts.into()),
                            ("credits", Credits::from_minor(message.cost).into()),
                            ("body", message.body.as_str().into()),
                        ],
                    );
                    let id = db::messages::post(
                        &mut tx,
                        CONTACT_MODEL,
                        contact,
                        request.author_id,
                        &line,
                        now,
                    )
                    .await?;
                    Some(id)
                }
                None => None,
            };
            db::sms::insert_message(&mut tx, batch, message, chatter, now).await?;
        }
        tx.commit().await?;
        Ok(Some(batch))
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
        Ok(Some(SmsQueued {
            batch_id: batch,
            queued: status.queued + status.sent + status.failed,
            credits: status.held,
        }))
    }
}

/// Prices every message of `request`; any recipient that cannot be texted refuses the send.
fn check(request: SendRequest) -> Result<Batch, AppError> {
    let segments = sms::check_body(&request.body)?;
    if request.recipients.is_empty() {
        return Err(AppError::validation("contact_ids", Msg::ErrSmsNoRecipient));
    }
    let mut messages = Vec::with_capacity(request.recipients.len());
    for recipient in &request.recipients {
        let (destination, price) = price(recipient)?;
        messages.push(db::sms::NewMessage {
            contact_id: recipient.contact_id,
            number: destination.number,
            country: destination.country,
            body: request.body.clone(),
            encoding: segments.encoding.label(),
            parts: segments.parts,
            cost: sms::cost(segments, price).minor(),
        });
    }
    let total = messages
        .iter()
        .try_fold(0i64, |sum, m| sum.checked_add(m.cost))
        .ok_or_else(|| AppError::validation("contact_ids", Msg::ErrSmsTooMany))?;
    Ok(Batch {
        request,
        messages,
        total,
    })
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
