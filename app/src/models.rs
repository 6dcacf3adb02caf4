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

/// An IAP account as its pages show it. Never carries the token: see [`IapAccountAdmin`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct IapAccount {
    pub id: i64,
    pub service: String,
    pub service_label: String,
    pub unit_name: String,
    pub whole_number: bool,
    pub name: String,
    /// Names of the companies it is restricted to, comma-separated; empty when shared.
    pub company_names: String,
    /// Credits owned, in minor units.
    pub balance: i64,
    /// Credits reserved by open, unexpired holds, in minor units.
    pub held: i64,
    pub disabled: bool,
}

impl IapAccount {
    pub fn available(&self) -> i64 {
        self.balance - self.held
    }

    /// An amount in this service's unit, e.g. "3.5 Credits".
    pub fn show(&self, minor: i64) -> String {
        let amount = crate::domain::credits::Credits::from_minor(minor).display(self.whole_number);
        format!("{amount} {}", self.unit_name)
    }
}

/// What administrators see and edit in Settings → Technical → IAP Accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IapAccountAdmin {
    pub account: IapAccount,
    pub token: String,
    pub company_ids: Vec<i64>,
    pub companies: Vec<Company>,
}

/// One line of an account's consumption history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct LedgerLine {
    pub id: i64,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
    pub kind: String,
    pub description: String,
    /// Change to the balance, in minor units.
    pub amount: i64,
    /// Change to the held amount, in minor units.
    pub held_delta: i64,
}

/// A page of history, newest first; `older` is the cursor for the next page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub lines: Vec<LedgerLine>,
    pub older: Option<i64>,
}

/// An order as the checkout, confirmation and order lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Order {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub service_label: String,
    pub unit_name: String,
    pub whole_number: bool,
    pub pack_name: String,
    pub credits: i64,
    pub amount: i64,
    pub currency: String,
    /// draft, pending, paid or failed.
    pub state: String,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub failure_reason: Option<String>,
    pub buyer: String,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
}

impl Order {
    pub fn reference(&self) -> String {
        order_reference(self.id)
    }
}

/// The pack store for one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    pub account: IapAccount,
    pub packs: Vec<crate::domain::packs::Pack>,
    /// The pack covering the wanted amount, when the store was asked for one.
    pub suggested: Option<i64>,
}

/// An account's low-credit warning as Account Information shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IapAccountWarning {
    /// Warn Me.
    pub warn_enabled: bool,
    /// Minor units; zero when never set.
    pub threshold: i64,
    /// Warning Email.
    pub emails: Vec<String>,
    /// Whether the viewer may change it (administrators). Decided by the server, so the
    /// page renders the same form on the server and in the browser.
    pub editable: bool,
}

/// A mail in the outbox, as Settings → Technical → Emails shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OutboxMail {
    pub id: i64,
    pub account_id: Option<i64>,
    /// Comma-separated.
    pub recipients: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// queued, sent or failed.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// The reference customers see for an order, e.g. `IAP00042`.
pub fn order_reference(id: i64) -> String {
    format!("IAP{id:05}")
}

/// Which of a contact's numbers an SMS goes to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NumberField {
    Phone,
    /// The default: a list selection texts each contact's mobile, or its phone if it has
    /// none.
    #[default]
    Mobile,
}

/// One recipient as the Send SMS Text Message pop-up shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsRecipient {
    pub contact_id: i64,
    pub name: String,
    /// The number as typed on the contact.
    pub number: String,
    /// Minor units per part to the number's country; `None` with `problem` when the number
    /// cannot be texted.
    pub price_per_part: Option<i64>,
    pub problem: Option<String>,
}

/// What the pop-up needs before the user types: who, at what price, from which account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsQuote {
    pub recipients: Vec<SmsRecipient>,
    /// The SMS account of the current company, for the insufficient-credit dialog.
    pub account_id: i64,
    pub whole_number: bool,
    pub unit_name: String,
    /// Sent with each attempt so a retried request cannot send twice.
    pub request_key: String,
}

/// A send from the pop-up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsInput {
    pub contact_ids: Vec<i64>,
    pub field: NumberField,
    pub body: String,
    pub request_key: String,
}

/// What a send did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsSent {
    pub sent: usize,
    pub failed: usize,
    /// Minor units charged.
    pub credits: i64,
}

/// One row of Settings → Technical → SMS Outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SmsOutboxLine {
    pub id: i64,
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
    pub number: String,
    pub contact_name: Option<String>,
    pub body: String,
    pub encoding: String,
    pub parts: i64,
    /// Minor units held, and finally charged.
    pub cost: i64,
    pub credits: i64,
    pub state: String,
    pub provider: Option<String>,
    pub error: Option<String>,
    pub author_name: String,
    pub account_name: String,
    pub whole_number: bool,
}

/// A service of the catalogue as Settings → Technical → IAP Services lists it. Never carries
/// its key: only a hash is stored, and the key is shown once when made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ServiceSummary {
    pub technical_name: String,
    pub label: String,
    pub unit_name: String,
    pub trial_credits: i64,
    pub first_party: bool,
    /// Whether a provider key exists (its hash is stored).
    pub has_key: bool,
    pub packs: i64,
}

/// The IAP Services page: the catalogue and the database's hosting type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesOverview {
    pub services: Vec<ServiceSummary>,
    pub hosting_type: crate::domain::hosting::HostingType,
}

/// A pack row of the service registration form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackInput {
    pub name: String,
    pub credits: String,
    pub price: String,
}

/// The service registration form, as typed; checked by `domain::service::NewService::parse`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInput {
    pub technical_name: String,
    pub label: String,
    pub unit_name: String,
    pub trial_credits: String,
    pub packs: Vec<PackInput>,
}
