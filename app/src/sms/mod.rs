//! Sending SMS the way IAP services spend credits: price every message, hold the total on
//! the company's SMS account, hand the messages to the provider, then capture what it
//! accepted and release the rest.
//!
//! A batch is one hold, so nothing goes out unless every message of it is paid for. Each
//! attempt carries a request key: a retried request finds its batch and sends nothing
//! again.

pub mod provider;

use crate::clock::now_ms;
use crate::db;
use crate::domain::FieldError;
use crate::domain::credits::Credits;
use crate::domain::ledger::{HoldRequest, NewHold};
use crate::domain::phone::{self, Destination};
use crate::domain::sms;
use crate::error::AppError;
use crate::i18n::{Msg, Text, tf};
use crate::ledger::Ledger;
use crate::models::{SmsBatchState, SmsRecipient, SmsSent, SmsState};
pub use provider::{BuiltinProvider, Delivery, GatewayConfig, HttpGateway, Outgoing, SmsProvider};
use sqlx::SqlitePool;

/// The service whose account pays.
pub const SERVICE: &str = "sms";
/// A send finishes in seconds; an hour covers any provider timeout, and a crash mid-send
/// frees the credits soon after.
const HOLD_TTL_HOURS: i64 = 1;
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

/// Everything a send needs: where, how the ledger is reached, and who delivers.
pub struct Sender<'a> {
    pub pool: &'a SqlitePool,
    pub ledger: &'a Ledger,
    pub provider: &'a dyn SmsProvider,
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

impl Sender<'_> {
    /// Sends `request`'s message to every recipient, or to none: a bad input, a refused
    /// hold or a provider that takes nothing charges nothing.
    #[tracing::instrument(skip_all, fields(recipients = request.recipients.len()))]
    pub async fn send(&self, request: SendRequest) -> Result<SmsSent, AppError> {
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
        if let Some(done) = self.replay(&request.request_key).await? {
            return Ok(done);
        }
        let total = messages
            .iter()
            .try_fold(0i64, |sum, m| sum.checked_add(m.cost))
            .ok_or_else(|| AppError::validation("contact_ids", Msg::ErrSmsTooMany))?;

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

        let now = now_ms();
        let mut tx = db::begin_write(self.pool).await?;
        let inserted = db::sms::insert_batch(
            &mut tx,
            &request.request_key,
            request.author_id,
            account,
            &token,
            &messages,
            now,
        )
        .await?;
        tx.commit().await?;
        let Some((batch, ids)) = inserted else {
            // The same request raced itself; the first one sends.
            return match self.replay(&request.request_key).await? {
                Some(done) => Ok(done),
                None => Err(AppError::Conflict(Msg::ErrSmsInProgress.into())),
            };
        };

        let outgoing: Vec<Outgoing> = messages
            .iter()
            .zip(&ids)
            .map(|(m, id)| Outgoing {
                id: *id,
                number: m.number.clone(),
                body: m.body.clone(),
                encoding: m.encoding,
                parts: m.parts,
            })
            .collect();
        let deliveries = self.provider.send(&outgoing).await;
        let accepted: i64 = messages
            .iter()
            .zip(&deliveries)
            .filter(|(_, d)| d.is_ok())
            .map(|(m, _)| m.cost)
            .sum();
        if accepted > 0 {
            self.ledger
                .capture(&token, Some(Credits::from_minor(accepted)))
                .await?;
        } else {
            self.ledger.cancel(&token).await?;
        }
        self.record(&request, batch, &messages, &ids, &deliveries)
            .await
    }

    /// Stores each message's fate and logs the sent ones in their contact's chatter.
    async fn record(
        &self,
        request: &SendRequest,
        batch: i64,
        messages: &[db::sms::NewMessage],
        ids: &[i64],
        deliveries: &[Delivery],
    ) -> Result<SmsSent, AppError> {
        let provider = self.provider.code();
        let now = now_ms();
        let mut outcome = SmsSent {
            sent: 0,
            failed: 0,
            credits: Credits::ZERO,
        };
        let mut first_error = None;
        let mut tx = db::begin_write(self.pool).await?;
        for ((message, id), delivery) in messages.iter().zip(ids).zip(deliveries) {
            match delivery {
                Ok(reference) => {
                    db::sms::mark_sent(&mut tx, *id, provider, reference, now).await?;
                    outcome.sent += 1;
                    outcome.credits = Credits::from_minor(outcome.credits.minor() + message.cost);
                    if let Some(contact) = message.contact_id {
                        let line = tf(
                            Msg::SmsChatterLog,
                            &[
                                ("number", message.number.as_str().into()),
                                ("parts", message.parts.into()),
                                ("credits", Credits::from_minor(message.cost).into()),
                                ("body", message.body.as_str().into()),
                            ],
                        );
                        db::messages::post(
                            &mut tx,
                            CONTACT_MODEL,
                            contact,
                            request.author_id,
                            &line,
                            now,
                        )
                        .await?;
                    }
                }
                Err(error) => {
                    db::sms::mark_error(&mut tx, *id, provider, &error.to_string()).await?;
                    outcome.failed += 1;
                    first_error.get_or_insert_with(|| error.clone());
                }
            }
        }
        db::sms::finish_batch(&mut tx, batch).await?;
        tx.commit().await?;
        match first_error {
            Some(error) if outcome.sent == 0 => Err(AppError::NotSent(error)),
            _ => Ok(outcome),
        }
    }

    /// The outcome of an earlier attempt with this key, if there was one.
    async fn replay(&self, request_key: &str) -> Result<Option<SmsSent>, AppError> {
        let mut conn = self.pool.acquire().await?;
        let Some((state, messages)) = db::sms::batch_by_key(&mut conn, request_key).await? else {
            return Ok(None);
        };
        match state {
            SmsBatchState::Pending => return Err(AppError::Conflict(Msg::ErrSmsInProgress.into())),
            SmsBatchState::Done => {}
        }
        let sent = messages
            .iter()
            .filter(|m| m.state == SmsState::Sent)
            .count();
        if sent == 0 {
            let error = messages
                .iter()
                .find_map(|m| m.error.clone())
                .unwrap_or_default();
            return Err(AppError::NotSent(
                Text::new(Msg::SmsProviderError).arg("error", error),
            ));
        }
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(Some(SmsSent {
            sent: count(sent),
            failed: count(messages.len() - sent),
            credits: Credits::from_minor(messages.iter().map(|m| m.credits).sum()),
        }))
    }
}
