//! Odoo's SMS API, as an Odoo database calls it with its SMS account's token: a batch of
//! numbers, each with Odoo's own id, answered with one state per number.
//!
//! The batch is priced as a whole: when the account cannot cover it, nothing is sent,
//! charged or stored and every new number is `insufficient_credit`. A number that cannot be
//! read (or goes to a country iapd does not deliver to) is stored as an error and answered
//! so; the others go out through the same durable job as sends from the pages. An id iapd
//! has already accepted is neither sent nor charged again: its entry says what became of
//! it, as it stands now.
//!
//! The answer waits a little for the worker (`SMS_API_WAIT_MS`), so a fast provider
//! answers `success` with the credits charged. A message still queued then is
//! `processing` when its batch has a webhook (Odoo 17+): it is flagged, in the transaction
//! that reads it, so that the ledger writer queues a report of its outcome when it records
//! it. Without a webhook (Odoo 16, or `webhook_url: false`) nothing could tell the
//! database later, so a queued message is answered `success`: iapd has taken it, and will
//! charge it when it goes out or free it if the provider refuses it.

use super::{Sender, count};
use crate::clock::now_ms;
use crate::db;
use crate::db::sms::{ApiMessage, NewMessage};
use crate::domain::FieldError;
use crate::domain::credits::Credits;
use crate::domain::ledger::{HoldRequest, LedgerError, NewHold};
use crate::domain::text::has_control;
use crate::domain::{phone, sms};
use crate::error::AppError;
use crate::i18n::Msg;
use crate::ledger::{QueuedSms, SmsBatch};
use crate::models::{SmsFailure, SmsSource, SmsState};
use std::collections::HashMap;

/// The most numbers one call may carry: Odoo sends at most 500 per batch.
pub const MAX_NUMBERS: usize = 1_000;
/// The longest text a number may be, however it is written.
const MAX_NUMBER_CHARS: usize = 64;
/// How often a send tries again when a concurrent call took one of its ids first.
const ATTEMPTS: usize = 3;

/// Which of Odoo's protocols a call speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// Odoo 16, `/iap/sms/2/send`: `res_id` per message, no ids to deduplicate, no webhook.
    V2,
    /// Odoo 17 to 19, `/api/sms/3/send`: a `uuid` per number and an optional webhook.
    V3,
}

/// One number to text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Odoo's id for the message (v3): 32 lowercase hexadecimal digits.
    pub uuid: Option<String>,
    pub number: String,
    pub content: String,
}

/// A call, as the HTTP layer read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub version: Version,
    pub account_token: String,
    pub dbuuid: Option<String>,
    pub webhook_url: Option<String>,
    pub entries: Vec<Entry>,
}

/// What became of a number, in Odoo's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Success,
    Processing,
    InsufficientCredit,
    WrongNumberFormat,
    CountryNotSupported,
    Unregistered,
    ServerError,
}

impl State {
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Success => "success",
            State::Processing => "processing",
            State::InsufficientCredit => "insufficient_credit",
            State::WrongNumberFormat => "wrong_number_format",
            State::CountryNotSupported => "country_not_supported",
            State::Unregistered => "unregistered",
            State::ServerError => "server_error",
        }
    }
}

/// The answer for one number: its state, and the credits it was charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub state: State,
    pub credit: Credits,
}

impl Answer {
    const fn free(state: State) -> Self {
        Answer {
            state,
            credit: Credits::ZERO,
        }
    }

    /// What a stored message means to Odoo.
    fn of(message: &ApiMessage, version: Version) -> Self {
        match (message.state, message.failure) {
            (SmsState::Sent, _) => Answer {
                state: State::Success,
                credit: Credits::from_minor(message.credits),
            },
            (SmsState::Outgoing, _) if version == Version::V3 && message.has_webhook => {
                Answer::free(State::Processing)
            }
            (SmsState::Outgoing, _) => Answer::free(State::Success),
            (SmsState::Error, Some(SmsFailure::NoNumber | SmsFailure::WrongNumberFormat)) => {
                Answer::free(State::WrongNumberFormat)
            }
            (SmsState::Error, Some(SmsFailure::CountryNotSupported)) => {
                Answer::free(State::CountryNotSupported)
            }
            (SmsState::Error, Some(SmsFailure::NotPaid)) => Answer::free(State::InsufficientCredit),
            (SmsState::Error, Some(SmsFailure::Provider) | None) => {
                Answer::free(State::ServerError)
            }
        }
    }
}

/// How each entry of a call is answered.
enum Plan {
    /// Already accepted earlier (this message id): answer what became of it.
    Repeat(i64),
    /// The same id again in this call: answer as its first occurrence.
    SameAs(usize),
    /// The id belongs to another account's message.
    Foreign,
    /// Stored by this call (queued or refused), at this index of its new messages.
    New(usize),
}

/// Checks what does not depend on the database: the ids, the texts and the size.
pub fn check(request: &Request) -> Result<(), FieldError> {
    let messages = || FieldError::new("messages", Msg::ErrSmsApiMessages);
    if request.entries.len() > MAX_NUMBERS {
        return Err(FieldError::new("messages", Msg::ErrSmsTooMany));
    }
    for entry in &request.entries {
        match (&entry.uuid, request.version) {
            (Some(uuid), Version::V3) if sms::is_odoo_uuid(uuid) => {}
            (None, Version::V2) => {}
            _ => return Err(messages()),
        }
        // A number that cannot be read is answered for its entry; one that is not a phone
        // number at all (huge, or with control characters) is not a send.
        if entry.number.chars().count() > MAX_NUMBER_CHARS || has_control(&entry.number, false) {
            return Err(messages());
        }
        sms::check_body(&entry.content).map_err(|e| FieldError {
            field: "messages".into(),
            message: e.message,
            args: e.args,
        })?;
    }
    if let Some(url) = &request.webhook_url
        && !is_webhook_url(url)
    {
        return Err(FieldError::new("webhook_url", Msg::ErrSmsWebhookUrl));
    }
    if let Some(dbuuid) = &request.dbuuid {
        if dbuuid.chars().count() > 64 {
            return Err(FieldError::new("dbuuid", Msg::ErrTooLong).arg("max", 64));
        }
        if has_control(dbuuid, false) {
            return Err(FieldError::new("dbuuid", Msg::ErrControlChars));
        }
    }
    Ok(())
}

/// Where delivery reports can go: an http or https URL of at most 2,048 characters, as a
/// client will read it.
fn is_webhook_url(url: &str) -> bool {
    url.len() <= 2_048
        && !has_control(url, false)
        && reqwest::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

impl Sender {
    /// Answers an Odoo database's send, one answer per entry, in order. Runs to completion
    /// whatever happens to the caller.
    #[tracing::instrument(skip_all, fields(numbers = request.entries.len()))]
    pub async fn send_api(&self, request: Request) -> Result<Vec<Answer>, AppError> {
        check(&request)?;
        let this = self.clone();
        tokio::spawn(async move { this.send_api_now(request).await })
            .await
            .map_err(|error| {
                tracing::error!(%error, "the SMS API send task failed");
                AppError::Internal
            })?
    }

    async fn send_api_now(&self, request: Request) -> Result<Vec<Answer>, AppError> {
        let unregistered = || vec![Answer::free(State::Unregistered); request.entries.len()];
        let account = {
            let mut conn = self.pool.acquire().await?;
            let found =
                db::service_api::account_by_token(&mut conn, &request.account_token, now_ms())
                    .await?;
            match found {
                Some(a) if a.service == super::SERVICE && !a.disabled => a.id,
                _ => return Ok(unregistered()),
            }
        };
        for _ in 0..ATTEMPTS {
            if let Some(answers) = self.try_send(&request, account).await? {
                return Ok(answers);
            }
        }
        tracing::error!("concurrent SMS API calls kept taking the same ids");
        Err(AppError::Internal)
    }

    /// One attempt; `None` when a concurrent call stored one of the ids first (nothing was
    /// stored or held by this one).
    async fn try_send(
        &self,
        request: &Request,
        account: i64,
    ) -> Result<Option<Vec<Answer>>, AppError> {
        let uuids: Vec<&str> = request
            .entries
            .iter()
            .filter_map(|e| e.uuid.as_deref())
            .collect();
        let (known, sender_name) = {
            let mut conn = self.pool.acquire().await?;
            let known = db::sms::by_uuids(&mut conn, &uuids).await?;
            let sender = db::sms::sender_name(&mut conn, account).await?;
            (known, sender)
        };
        let known: HashMap<String, ApiMessage> = known
            .into_iter()
            .filter_map(|m| Some((m.uuid.clone()?, m)))
            .collect();
        let mut plans = Vec::with_capacity(request.entries.len());
        let mut new: Vec<NewMessage> = Vec::new();
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, entry) in request.entries.iter().enumerate() {
            if let Some(uuid) = entry.uuid.as_deref() {
                if let Some(earlier) = first.get(uuid) {
                    plans.push(Plan::SameAs(*earlier));
                    continue;
                }
                first.insert(uuid, i);
                if let Some(message) = known.get(uuid) {
                    plans.push(if message.account_id == account {
                        Plan::Repeat(message.id)
                    } else {
                        Plan::Foreign
                    });
                    continue;
                }
            }
            plans.push(Plan::New(new.len()));
            new.push(message_for(entry));
        }
        let repeated: Vec<i64> = plans
            .iter()
            .filter_map(|p| match p {
                Plan::Repeat(id) => Some(*id),
                _ => None,
            })
            .collect();
        if new.is_empty() {
            let messages = self.settle(request, None, &repeated).await?;
            return Ok(Some(answers(
                &plans,
                &messages,
                &[],
                State::ServerError,
                request,
            )));
        }
        let cost: i64 = new.iter().map(|m| m.cost).sum();
        let hold = if cost > 0 {
            Some(NewHold::parse(HoldRequest {
                account,
                amount: Credits::from_minor(cost),
                description: super::hold_description(
                    new.iter().filter(|m| m.refused.is_none()).count(),
                    request.dbuuid.as_deref(),
                ),
                ttl_hours: Some(super::HOLD_TTL_HOURS),
                idempotency_key: None,
            })?)
        } else {
            None
        };
        let stored = self
            .ledger
            .queue_sms(SmsBatch {
                hold,
                request_key: format!("api:{}", crate::crypto::random_token(16)),
                source: SmsSource::Api,
                author_id: None,
                account_id: account,
                dbuuid: request.dbuuid.clone(),
                webhook_url: request.webhook_url.clone(),
                sender_name,
                messages: new.into_iter().map(|m| (m, None)).collect(),
            })
            .await;
        let refused_whole = |state| -> Result<Option<Vec<Answer>>, AppError> {
            Ok(Some(answers(&plans, &HashMap::new(), &[], state, request)))
        };
        let batch = match stored {
            Ok(QueuedSms::Queued { batch, hold }) => (batch, hold.is_some()),
            // A concurrent call stored one of the ids first: plan again.
            Ok(QueuedSms::UuidTaken | QueuedSms::AlreadyQueued(_)) => return Ok(None),
            Err(LedgerError::InsufficientCredits { .. }) => {
                let messages = self.settle(request, None, &repeated).await?;
                return Ok(Some(answers(
                    &plans,
                    &messages,
                    &[],
                    State::InsufficientCredit,
                    request,
                )));
            }
            Err(LedgerError::AccountDisabled | LedgerError::UnknownAccount) => {
                return refused_whole(State::Unregistered);
            }
            Err(error) => return Err(error.into()),
        };
        let stored = {
            let mut conn = self.pool.acquire().await?;
            db::sms::of_batch(&mut conn, batch.0).await?
        };
        let stored_ids: Vec<i64> = stored.iter().map(|m| m.id).collect();
        let mut ids = stored_ids.clone();
        ids.extend(&repeated);
        let messages = self.settle(request, Some(batch), &ids).await?;
        tracing::info!(
            batch = batch.0,
            numbers = request.entries.len(),
            new = count(stored_ids.len()),
            "SMS API batch stored"
        );
        Ok(Some(answers(
            &plans,
            &messages,
            &stored_ids,
            State::ServerError,
            request,
        )))
    }

    /// The messages `ids` as the answer gives them: after waiting a little for `batch`
    /// (when it holds anything to send), and with those still queued in a batch with a
    /// webhook flagged, in the transaction that reads them, so that their outcome is
    /// reported there later.
    async fn settle(
        &self,
        request: &Request,
        batch: Option<(i64, bool)>,
        ids: &[i64],
    ) -> Result<HashMap<i64, ApiMessage>, AppError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        if let Some((batch, true)) = batch {
            self.queue.wake();
            self.queue
                .wait_for(&self.pool, batch, self.queue.answer_within())
                .await?;
        }
        let read = {
            let mut conn = self.pool.acquire().await?;
            db::sms::by_ids(&mut conn, ids).await?
        };
        let reported_later = request.version == Version::V3
            && read
                .iter()
                .any(|m| m.state == SmsState::Outgoing && m.has_webhook && m.uuid.is_some());
        let read = if reported_later {
            // The writer records outcomes in its own transactions: flagging and reading
            // again in one write transaction leaves no gap for one to fall through.
            let mut tx = db::begin_write(&self.pool).await?;
            db::sms::report_outcomes(&mut tx, ids).await?;
            let read = db::sms::by_ids(&mut tx, ids).await?;
            tx.commit().await?;
            read
        } else {
            read
        };
        Ok(read.into_iter().map(|m| (m.id, m)).collect())
    }
}

/// The message an entry becomes: priced and queued, or refused with the reason.
fn message_for(entry: &Entry) -> NewMessage {
    let segments = sms::count(&entry.content);
    let refused = |failure, number: &str| {
        let error = match failure {
            SmsFailure::CountryNotSupported => FieldError::new("number", Msg::ErrSmsCountry),
            _ => FieldError::new("number", Msg::ErrSmsNumberOnly).arg("number", number),
        };
        Some((failure, error.text().to_string()))
    };
    let base = NewMessage {
        contact_id: None,
        uuid: entry.uuid.clone(),
        number: entry.number.clone(),
        country: None,
        body: entry.content.clone(),
        encoding: segments.encoding.label(),
        parts: segments.parts,
        cost: 0,
        refused: None,
    };
    let Ok(destination) = phone::destination(&entry.number, None) else {
        return NewMessage {
            refused: refused(SmsFailure::WrongNumberFormat, &entry.number),
            ..base
        };
    };
    match sms::price_per_part(&destination.country) {
        Ok(price) => NewMessage {
            number: destination.number,
            country: Some(destination.country),
            cost: sms::cost(segments, price).minor(),
            ..base
        },
        Err(_) => NewMessage {
            number: destination.number,
            country: Some(destination.country),
            refused: refused(SmsFailure::CountryNotSupported, &entry.number),
            ..base
        },
    }
}

/// One answer per entry: repeats say what became of the earlier message, new entries what
/// became of theirs (`stored`, their ids in order) or, when nothing was stored, `instead`.
fn answers(
    plans: &[Plan],
    messages: &HashMap<i64, ApiMessage>,
    stored: &[i64],
    instead: State,
    request: &Request,
) -> Vec<Answer> {
    let answer = |id: Option<&i64>, otherwise: State| {
        id.and_then(|id| messages.get(id))
            .map_or(Answer::free(otherwise), |m| Answer::of(m, request.version))
    };
    let mut out: Vec<Answer> = Vec::with_capacity(plans.len());
    for plan in plans {
        let next = match plan {
            Plan::Repeat(id) => answer(Some(id), State::ServerError),
            Plan::SameAs(i) => out
                .get(*i)
                .copied()
                .unwrap_or(Answer::free(State::ServerError)),
            Plan::Foreign => Answer::free(State::ServerError),
            Plan::New(i) => answer(stored.get(*i), instead),
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(version: Version, entries: Vec<Entry>) -> Request {
        Request {
            version,
            account_token: "token".into(),
            dbuuid: Some("6f8d1c2e-4b5a-4e3f-9a7b-0c1d2e3f4a5b".into()),
            webhook_url: Some("https://odoo.example/sms/status".into()),
            entries,
        }
    }

    fn entry(uuid: Option<&str>, number: &str, content: &str) -> Entry {
        Entry {
            uuid: uuid.map(str::to_owned),
            number: number.into(),
            content: content.into(),
        }
    }

    const UUID: &str = "0123456789abcdef0123456789abcdef";

    fn field(request: &Request) -> Option<String> {
        check(request).err().map(|e| e.field)
    }

    #[test]
    fn odoo_17_entries_carry_a_uuid_and_odoo_16_entries_none() {
        let v3 = request(Version::V3, vec![entry(Some(UUID), "+32470123456", "Hi")]);
        assert_eq!(field(&v3), None);
        let v2 = request(Version::V2, vec![entry(None, "+32470123456", "Hi")]);
        assert_eq!(field(&v2), None);
        for (version, uuid) in [
            (Version::V3, None),
            (Version::V3, Some("0123456789ABCDEF0123456789abcdef")),
            (Version::V2, Some(UUID)),
        ] {
            let bad = request(version, vec![entry(uuid, "+32470123456", "Hi")]);
            assert_eq!(
                field(&bad).as_deref(),
                Some("messages"),
                "{version:?} {uuid:?}"
            );
        }
    }

    #[test]
    fn an_unreadable_number_is_for_its_entry_but_a_huge_or_control_one_refuses_the_call() {
        let odd = request(Version::V3, vec![entry(Some(UUID), "call me maybe", "Hi")]);
        assert_eq!(field(&odd), None);
        for number in ["1".repeat(65), "+32\u{0}470".into(), "+32\n470".into()] {
            let bad = request(Version::V3, vec![entry(Some(UUID), &number, "Hi")]);
            assert_eq!(field(&bad).as_deref(), Some("messages"), "{number:?}");
        }
    }

    #[test]
    fn texts_follow_the_pages_rules() {
        for content in ["", "   ", "a\u{1b}b"] {
            let bad = request(
                Version::V3,
                vec![entry(Some(UUID), "+32470123456", content)],
            );
            assert_eq!(field(&bad).as_deref(), Some("messages"), "{content:?}");
        }
        let long = request(
            Version::V3,
            vec![entry(Some(UUID), "+32470123456", &"a".repeat(1_531))],
        );
        assert_eq!(field(&long).as_deref(), Some("messages"));
    }

    #[test]
    fn a_webhook_is_an_http_or_https_url_and_the_dbuuid_a_short_line() {
        let ok = |url: &str| {
            let mut r = request(Version::V3, vec![]);
            r.webhook_url = Some(url.into());
            field(&r)
        };
        assert_eq!(ok("http://10.0.0.7:8069/sms/status"), None);
        for url in [
            "ftp://odoo.example/sms/status",
            "https://",
            "odoo.example/sms/status",
            "https://odoo.example/\u{0}",
            &format!("https://odoo.example/{}", "a".repeat(2_048)),
        ] {
            assert_eq!(ok(url).as_deref(), Some("webhook_url"), "{url:?}");
        }
        for dbuuid in ["d".repeat(65), "db\u{1b}".into()] {
            let mut r = request(Version::V3, vec![]);
            r.dbuuid = Some(dbuuid.clone());
            assert_eq!(field(&r).as_deref(), Some("dbuuid"), "{dbuuid:?}");
        }
        let many = request(
            Version::V3,
            (0..=MAX_NUMBERS)
                .map(|_| entry(Some(UUID), "+32470123456", "Hi"))
                .collect(),
        );
        assert_eq!(field(&many).as_deref(), Some("messages"));
    }
}
