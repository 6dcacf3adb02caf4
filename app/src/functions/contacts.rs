//! The Contacts app: list, open, create and edit, each logged in the chatter.

use crate::error::AppError;
use crate::models::{ChatterMessage, Contact, ContactDetail, ContactInput};
use leptos::prelude::*;

/// The chatter model name for contacts.
#[cfg(feature = "ssr")]
pub const MODEL: &str = "contact";

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

/// The contact's chatter alone, for refreshing it (an SMS it logs makes progress) without
/// reloading the form.
#[server(endpoint = "contacts/chatter")]
pub async fn contact_chatter(id: i64) -> Result<Vec<ChatterMessage>, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    crate::db::contacts::get(&mut conn, &who.active_company_ids, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(crate::db::messages::of_record(&mut conn, MODEL, id).await?)
}

/// Creates (`id: None`) or updates a contact and returns its id. The change and its chatter
/// lines are one transaction.
#[server(endpoint = "contacts/save")]
pub async fn save_contact(id: Option<i64>, input: ContactInput) -> Result<i64, AppError> {
    use crate::domain::contact::ValidContact;
    let who = super::ssr::identity()?;
    let contact = ValidContact::parse(input)?;
    let mut tx = crate::db::begin_write(&super::ssr::state()?.pool).await?;
    let id = ssr::save(&mut tx, &who, id, &contact).await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::MODEL;
    use crate::auth::Identity;
    use crate::clock::now_ms;
    use crate::db::{contacts, messages};
    use crate::domain::contact::{ValidContact, changes};
    use crate::error::AppError;
    use crate::i18n::{Msg, Note, Text};

    /// Inserts or updates the contact with one chatter line per change, as Odoo's tracking.
    /// A contact of another company is not found; only then is the owner checked, so the
    /// answer about a stranger's record is the same whatever the form says.
    pub async fn save(
        conn: &mut sqlx::AnyConnection,
        who: &Identity,
        id: Option<i64>,
        contact: &ValidContact,
    ) -> Result<i64, AppError> {
        let now = now_ms();
        let before = match id {
            Some(id) => Some(
                contacts::get(conn, &who.active_company_ids, id)
                    .await?
                    .ok_or(AppError::NotFound)?,
            ),
            None => None,
        };
        if let Some(owner) = contact.owner_company_id {
            let mine = crate::db::companies::of_user(conn, who.user_id).await?;
            if !mine.iter().any(|c| c.id == owner) {
                return Err(AppError::validation(
                    "owner_company_id",
                    Msg::ErrUnknownCompany,
                ));
            }
        }
        let (Some(id), Some(before)) = (id, before) else {
            let id = contacts::insert(conn, contact, now).await?;
            let line = Note::from(Msg::ContactCreatedLog);
            messages::post(conn, MODEL, id, who.user_id, &line, now).await?;
            return Ok(id);
        };
        contacts::update(conn, id, contact, now).await?;
        for change in changes(&ValidContact::from(&before), contact) {
            let line = Note::from(
                Text::new(Msg::ContactChangedLog)
                    .arg("field", change.field)
                    .arg("old", change.old)
                    .arg("new", change.new),
            );
            messages::post(conn, MODEL, id, who.user_id, &line, now).await?;
        }
        Ok(id)
    }
}
