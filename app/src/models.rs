//! Data that crosses the wire between server functions and the browser.
//!
//! Row types derive `sqlx::FromRow` only on the server, so the browser build carries no
//! database code.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Company {
    pub id: i64,
    pub name: String,
}

/// Who is signed in and in which companies they are working, for the top bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user_id: i64,
    pub user_name: String,
    pub login: String,
    pub is_admin: bool,
    /// Every company the user belongs to, for the switcher.
    pub companies: Vec<Company>,
    /// The company new records belong to; always one of `active_company_ids`.
    pub current_company_id: i64,
    /// The companies whose records are shown (Odoo's multi-company checkboxes).
    pub active_company_ids: Vec<i64>,
    /// Developer mode: reveals the Technical menu. Only ever true for administrators.
    pub debug: bool,
}

impl SessionInfo {
    pub fn current_company_name(&self) -> &str {
        self.companies
            .iter()
            .find(|c| c.id == self.current_company_id)
            .map_or("", |c| c.name.as_str())
    }
}

/// A contact as the list view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Contact {
    pub id: i64,
    pub name: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub country_code: Option<String>,
    /// The company this contact is restricted to; `None` means every company sees it.
    pub owner_company_id: Option<i64>,
    pub owner_company_name: Option<String>,
}

/// What the contact form sends; validated by `domain::contact::ValidContact::parse`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInput {
    pub name: String,
    pub company_name: String,
    pub email: String,
    pub phone: String,
    pub mobile: String,
    pub country_code: String,
    pub owner_company_id: Option<i64>,
}

/// One message in a record's chatter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ChatterMessage {
    pub id: i64,
    pub author_name: String,
    pub body: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
}

/// The contact form's data: the record, its chatter and the companies it may be restricted to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactDetail {
    pub contact: Contact,
    pub messages: Vec<ChatterMessage>,
}

/// Facts about this database, shown in developer mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    pub edition: String,
    pub uuid: String,
}

/// The figures the Settings page shows under Users & Companies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsOverview {
    pub companies: i64,
    pub users: i64,
}
