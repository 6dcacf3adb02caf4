//! SMS from the Contacts app: the Send SMS Text Message pop-up's quote, the send itself and
//! its progress, and the Technical → SMS Outbox view.

use crate::error::AppError;
use crate::models::{
    NumberField, SmsBatchStatus, SmsInput, SmsOutboxLine, SmsQueued, SmsQuote, SmsReportLine,
};
use leptos::prelude::*;

/// The most contacts one send may text: one list page's selection.
pub const MAX_RECIPIENTS: usize = 500;

/// Who the pop-up will text, at what price per part, from which account. Resolving the
/// account is the service's first use, so it may create the account with its trial credits.
#[server(endpoint = "sms/quote")]
pub async fn quote_sms(contact_ids: Vec<i64>, field: NumberField) -> Result<SmsQuote, AppError> {
    let who = super::ssr::identity()?;
    if contact_ids.len() > MAX_RECIPIENTS {
        return Err(AppError::validation(
            "contact_ids",
            crate::i18n::Msg::ErrSmsTooMany,
        ));
    }
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
    let contacts = ssr::recipients(&mut conn, &who, &contact_ids, field).await?;
    let recipients = contacts
        .into_iter()
        .map(|(contact, recipient)| {
            let recipient = recipient.map_err(|none| {
                crate::sms::refusal_text(crate::models::SmsFailure::NoNumber, &none.name, "")
            });
            crate::sms::quote_line(contact.id, contact.name, recipient)
        })
        .collect();
    let account_id = state
        .ledger
        .resolve_account(crate::sms::SERVICE, who.current_company_id)
        .await?;
    let (account, _) = crate::db::accounts::one(&mut conn, account_id, crate::clock::now_ms())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(SmsQuote {
        recipients,
        account_id,
        whole_number: account.whole_number,
        unit_name: account.unit_name,
        request_key: crate::crypto::random_token(16),
    })
}

/// Queues one message to every selected contact that can be texted, paid by a hold on the
/// current company's SMS account: all of them or none. Each is charged as it goes out (see
/// `sms_batch`); the others are recorded as errors, named in the answer, and cost nothing.
#[server(endpoint = "sms/send")]
pub async fn send_sms(input: SmsInput) -> Result<SmsQueued, AppError> {
    use crate::i18n::Msg;
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    if !(8..=96).contains(&input.request_key.len()) {
        return Err(AppError::validation("request_key", Msg::ErrIdempotencyKey));
    }
    if input.contact_ids.len() > MAX_RECIPIENTS {
        return Err(AppError::validation("contact_ids", Msg::ErrSmsTooMany));
    }
    let mut conn = state.pool.acquire().await?;
    let recipients = ssr::recipients(&mut conn, &who, &input.contact_ids, input.field)
        .await?
        .into_iter()
        .map(|(_, recipient)| recipient)
        .collect();
    drop(conn);
    let sender = crate::sms::Sender {
        pool: state.pool.clone(),
        ledger: state.ledger.clone(),
        queue: state.sms.clone(),
    };
    sender
        .send(crate::sms::SendRequest {
            author_id: who.user_id,
            company_id: who.current_company_id,
            // Keys are per user, so nobody can read another user's outcome by guessing one.
            request_key: format!("{}:{}", who.user_id, input.request_key),
            body: input.body,
            recipients,
        })
        .await
}

/// How far a batch has got: for the user who sent it, and administrators.
#[server(endpoint = "sms/batch")]
pub async fn sms_batch(batch_id: i64) -> Result<SmsBatchStatus, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let author = crate::db::sms::batch_author(&mut conn, batch_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if author != Some(who.user_id) && !who.is_admin {
        return Err(AppError::NotFound);
    }
    crate::db::sms::batch_status(&mut conn, batch_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The SMS outbox, newest first: administrators only (the page sits in the Technical menu).
#[server(endpoint = "sms/outbox")]
pub async fn sms_outbox() -> Result<Vec<SmsOutboxLine>, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::sms::outbox(&mut conn, 500).await?)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::auth::Identity;
    use crate::error::AppError;
    use crate::models::{Contact, NumberField};
    use crate::sms::{NoNumber, Recipient};

    /// Each contact, if the user may see it (any other id is `NotFound`), with the number
    /// to text, if it has one.
    pub async fn recipients(
        conn: &mut sqlx::AnyConnection,
        who: &Identity,
        ids: &[i64],
        field: NumberField,
    ) -> Result<Vec<(Contact, Result<Recipient, NoNumber>)>, AppError> {
        let mut out = Vec::with_capacity(ids.len());
        let mut seen = std::collections::HashSet::new();
        for id in ids.iter().filter(|id| seen.insert(**id)) {
            let contact = crate::db::contacts::get(conn, &who.active_company_ids, *id)
                .await?
                .ok_or(AppError::NotFound)?;
            let number = match field {
                NumberField::Phone => contact.phone.clone(),
                NumberField::Mobile => contact.mobile.clone().or_else(|| contact.phone.clone()),
            };
            let recipient = number
                .map(|number| Recipient {
                    contact_id: Some(contact.id),
                    name: contact.name.clone(),
                    number,
                    country: contact.country_code.clone(),
                })
                .ok_or_else(|| NoNumber {
                    contact_id: Some(contact.id),
                    name: contact.name.clone(),
                });
            out.push((contact, recipient));
        }
        Ok(out)
    }
}

/// The delivery reports forwarded (or still to forward) to Odoo databases, newest first:
/// administrators only.
#[server(endpoint = "sms/reports")]
pub async fn sms_reports() -> Result<Vec<SmsReportLine>, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::sms_reports::newest(&mut conn, 200).await?)
}
