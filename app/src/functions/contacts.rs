//! The Contacts app: list, open, create and edit, each logged in the chatter.

use crate::error::AppError;
use crate::models::{Contact, ContactDetail, ContactInput};
use leptos::prelude::*;

/// The chatter model name for contacts.
#[cfg(feature = "ssr")]
const MODEL: &str = "contact";

#[server(endpoint = "contacts/list")]
pub async fn list_contacts(search: String) -> Result<Vec<Contact>, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::contacts::list(&mut conn, &who.active_company_ids, &search).await?)
}

#[server(endpoint = "contacts/get")]
pub async fn get_contact(id: i64) -> Result<ContactDetail, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let contact = crate::db::contacts::get(&mut conn, &who.active_company_ids, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let messages = crate::db::messages::of_record(&mut conn, MODEL, id).await?;
    Ok(ContactDetail { contact, messages })
}

/// Creates (`id: None`) or updates a contact and returns its id. The change and its chatter
/// line are one transaction.
#[server(endpoint = "contacts/save")]
pub async fn save_contact(id: Option<i64>, input: ContactInput) -> Result<i64, AppError> {
    use crate::db::{companies, contacts, messages};
    use crate::domain::contact::ValidContact;
    use crate::i18n::{Msg, t};

    let who = super::ssr::identity()?;
    let contact = ValidContact::parse(input)?;
    let state = super::ssr::state()?;
    let mut tx = crate::db::begin_write(&state.pool).await?;
    if let Some(owner) = contact.owner_company_id {
        let mine = companies::of_user(&mut tx, who.user_id).await?;
        if !mine.iter().any(|c| c.id == owner) {
            return Err(AppError::validation(
                "owner_company_id",
                t(Msg::ErrUnknownCompany),
            ));
        }
    }
    let id = match id {
        None => {
            let id = contacts::insert(&mut tx, &contact).await?;
            messages::post(&mut tx, MODEL, id, who.user_id, t(Msg::ContactCreatedLog)).await?;
            id
        }
        Some(id) => {
            let before = contacts::get(&mut tx, &who.active_company_ids, id)
                .await?
                .ok_or(AppError::NotFound)?;
            contacts::update(&mut tx, id, &contact).await?;
            for line in changes(&before, &contact) {
                messages::post(&mut tx, MODEL, id, who.user_id, &line).await?;
            }
            id
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// One chatter line per changed field, as Odoo's tracking shows them.
#[cfg(feature = "ssr")]
fn changes(before: &Contact, after: &crate::domain::contact::ValidContact) -> Vec<String> {
    use crate::i18n::{Msg, t, tf};
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        (Msg::ColName, before.name.clone(), after.name.clone()),
        (
            Msg::ColCompany,
            text(&before.company_name),
            text(&after.company_name),
        ),
        (Msg::ColEmail, text(&before.email), text(&after.email)),
        (Msg::ColPhone, text(&before.phone), text(&after.phone)),
        (Msg::ColMobile, text(&before.mobile), text(&after.mobile)),
        (
            Msg::ColCountry,
            text(&before.country_code),
            text(&after.country_code),
        ),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(field, old, new)| tf(Msg::ContactChangedLog, &[t(field), &old, &new]))
    .collect()
}
