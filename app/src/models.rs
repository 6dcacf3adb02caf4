//! Data that crosses the wire between server functions and the browser.
//!
//! Row types derive `sqlx::FromRow` only on the server, so the browser build carries no
//! database code. Amounts are [`Credits`], times [`Timestamp`]s and states enums: the page
//! decides how to show them, in its reader's language.

use crate::domain::credits::Credits;
use crate::domain::ledger::EntryKind;
use crate::domain::order::OrderState;
use crate::domain::time::Timestamp;
use crate::domain::user::Role;
use crate::i18n::Text;
use serde::{Deserialize, Serialize};

pub use crate::domain::contact::ContactInput;
pub use crate::domain::order::order_reference;
pub use crate::domain::service::{PackInput, ServiceInput};

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

impl From<&Contact> for crate::domain::contact::ValidContact {
    fn from(c: &Contact) -> Self {
        crate::domain::contact::ValidContact {
            name: c.name.clone(),
            company_name: c.company_name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            mobile: c.mobile.clone(),
            country_code: c.country_code.clone(),
            owner_company_id: c.owner_company_id,
        }
    }
}

/// One message in a record's chatter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatterMessage {
    pub id: i64,
    pub author_name: String,
    /// As typed, or iapd's own line (a creation, a change), shown in the reader's language.
    pub body: crate::i18n::Note,
    pub created_at: Timestamp,
    /// The SMS this line logs, as it stands now.
    pub sms: Option<ChatterSms>,
}

/// Where the SMS a chatter line logs stands, and how its batch is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatterSms {
    pub state: SmsState,
    pub error: Option<String>,
    pub batch: SmsBatchStatus,
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

/// A user as Settings → Users lists and edits them. Never carries the password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: Role,
    /// Inactive users cannot log in; they stay for the history they are part of.
    pub active: bool,
    /// The companies they work in, by name.
    pub companies: Vec<Company>,
    /// `None` if they never logged in.
    pub last_login_at: Option<Timestamp>,
    /// The language they chose; `None` follows their browser.
    pub locale: Option<crate::i18n::Locale>,
}

/// What the user form needs: the user (none for a new one) and every company to tick.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserForm {
    pub user: Option<UserSummary>,
    pub companies: Vec<Company>,
}

/// The figures the Settings page shows under Users & Companies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsOverview {
    pub companies: u32,
    pub users: u32,
}

/// An IAP account as its pages show it. Never carries the token: see [`IapAccountAdmin`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct IapAccount {
    pub id: i64,
    pub service: String,
    pub service_label: String,
    pub unit_name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::db::Flag"))]
    pub whole_number: bool,
    pub name: String,
    /// Names of the companies it is restricted to, comma-separated; empty when shared.
    pub company_names: String,
    /// Credits owned.
    pub balance: Credits,
    /// Credits reserved by open, unexpired holds.
    pub held: Credits,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::db::Flag"))]
    pub disabled: bool,
    /// Credits captured over the last seven days, the forecast's rate.
    pub used_last_week: Credits,
}

impl IapAccount {
    pub fn available(&self) -> Credits {
        Credits::from_minor(self.balance.minor() - self.held.minor())
    }

    /// How long the available credits last at the last seven days' rate.
    pub fn forecast(&self) -> crate::domain::usage::Forecast {
        crate::domain::usage::Forecast::new(self.available(), self.used_last_week)
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
pub struct LedgerLine {
    pub id: i64,
    pub created_at: Timestamp,
    pub kind: EntryKind,
    /// As the service typed it, or iapd's own line, shown in the reader's language.
    pub description: crate::i18n::Note,
    /// Change to the balance.
    pub amount: Credits,
    /// Change to the held amount.
    pub held_delta: Credits,
    /// A reversal's capture entry.
    pub reverses: Option<i64>,
    /// What a reversal gave back of this capture, once reversed.
    pub reversed: Option<Credits>,
}

impl LedgerLine {
    /// Whether an administrator may still reverse this line.
    pub fn reversible(&self) -> bool {
        self.kind == EntryKind::Capture && self.amount.minor() < 0 && self.reversed.is_none()
    }
}

/// Where a page of history starts: the entries strictly older than this one, in the order
/// the history lists them (newest first, by time, then by entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistoryCursor {
    pub at: Timestamp,
    pub id: i64,
}

impl HistoryCursor {
    pub fn of(line: &LedgerLine) -> Self {
        HistoryCursor {
            at: line.created_at,
            id: line.id,
        }
    }
}

/// Which entries the history shows: every bound is optional, and the dates are whole UTC
/// days, both included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryFilter {
    pub kind: Option<EntryKind>,
    /// From the start of this day.
    pub from: Option<Timestamp>,
    /// To the end of this day.
    pub to: Option<Timestamp>,
    /// Words the description contains, ignoring case; empty for any.
    pub text: String,
}

/// The longest description search accepted.
pub const HISTORY_TEXT_MAX: usize = 100;

impl HistoryFilter {
    /// From a page's address or a CSV link: `kind` by its stored name, `from` and `to` as
    /// `YYYY-MM-DD`, `q` the words. A value that is not valid is refused with its field.
    pub fn from_query(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, crate::domain::FieldError> {
        use crate::domain::FieldError;
        use crate::i18n::Msg;
        let present = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let kind = match present("kind") {
            None => None,
            Some(name) => Some(
                EntryKind::parse(name.trim())
                    .ok_or_else(|| FieldError::new("kind", Msg::ErrHistoryKind))?,
            ),
        };
        let date = |name: &str| match present(name) {
            None => Ok(None),
            Some(text) => Timestamp::parse_date(&text)
                .map(Some)
                .ok_or_else(|| FieldError::new(name, Msg::ErrDate)),
        };
        let (from, to) = (date("from")?, date("to")?);
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(FieldError::new("to", Msg::ErrDateOrder));
        }
        let text = present("q").unwrap_or_default().trim().to_owned();
        if text.chars().count() > HISTORY_TEXT_MAX {
            return Err(FieldError::new("q", Msg::ErrHistoryText));
        }
        Ok(HistoryFilter {
            kind,
            from,
            to,
            text,
        })
    }

    /// The filter as a query string (`kind=capture&from=2026-12-01`), empty with no bound.
    pub fn to_query(&self) -> String {
        let day = |t: Timestamp| t.to_string()[..10].to_owned();
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(kind) = self.kind {
            pairs.push(("kind", kind.as_str().to_owned()));
        }
        if let Some(from) = self.from {
            pairs.push(("from", day(from)));
        }
        if let Some(to) = self.to {
            pairs.push(("to", day(to)));
        }
        if !self.text.is_empty() {
            pairs.push(("q", self.text.clone()));
        }
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", crate::domain::text::query_escape(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The first moment after the `to` day, the bound the database compares with.
    pub fn before(&self) -> Option<Timestamp> {
        self.to.map(|to| Timestamp::start_of_day(to.day() + 1))
    }
}

/// A page of history, newest first; `older` is the cursor for the next page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub lines: Vec<LedgerLine>,
    pub older: Option<HistoryCursor>,
}

/// The balance an account had at a past moment, from the ledger up to and including it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceAt {
    pub at: Timestamp,
    pub balance: Credits,
    pub held: Credits,
}

/// The consumption chart's data and the forecast for one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub period: crate::domain::usage::Period,
    pub days: Vec<crate::domain::usage::Day>,
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
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::db::Flag"))]
    pub whole_number: bool,
    pub pack_name: String,
    pub credits: Credits,
    /// The price, in cents of `currency`.
    pub amount: i64,
    pub currency: String,
    pub state: OrderState,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub failure_reason: Option<String>,
    pub buyer: String,
    pub created_at: Timestamp,
    /// Placed by auto-recharge; `buyer` saved the card it was charged to.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::db::Flag"))]
    pub auto_recharge: bool,
    /// How long a pending order has waited for its payment's outcome.
    pub pending_minutes: Option<i64>,
    /// Its refund, once an administrator asked for one.
    pub refund: Option<crate::domain::refund::RefundState>,
    /// Why the refund's money has not gone back yet, or why the provider refused it.
    pub refund_failure: Option<String>,
}

impl Order {
    pub fn reference(&self) -> String {
        order_reference(self.id)
    }

    /// Whether an administrator may refund it now.
    pub fn refundable(&self) -> bool {
        self.state == OrderState::Paid && self.refund.is_none()
    }
}

/// The pack store for one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    pub account: IapAccount,
    pub packs: Vec<crate::domain::packs::Pack>,
    /// The pack covering the wanted amount, when the store was asked for one.
    pub suggested: Option<i64>,
    /// Whether, and how, packs can be paid for.
    pub payments: PaymentMode,
}

/// How the checkout page takes a payment, by the configured provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentMode {
    /// A card form on iapd's own page (the Demo provider).
    Card,
    /// The provider's hosted page (Stripe Checkout).
    Hosted,
    /// No provider is configured: nothing can be bought.
    Unavailable,
}

/// An account's low-credit warning as Account Information shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IapAccountWarning {
    /// Warn Me.
    pub warn_enabled: bool,
    /// Zero when never set.
    pub threshold: Credits,
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
    pub state: MailState,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// Where a mail of the outbox stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MailState {
    /// Waiting for its (next) attempt.
    Queued,
    Sent,
    /// Given up after the last attempt.
    Failed,
}

/// Where an SMS stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsState {
    /// Queued: paid for by its batch's hold, and waiting for (or with) the provider.
    Outgoing,
    /// Taken by the provider, and charged.
    Sent,
    /// Not sent, and not charged.
    Error,
}

/// Where a batch of SMS comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsSource {
    /// A page of iapd, by a user.
    App,
    /// An Odoo database, through the SMS API and its account token.
    Api,
}

/// Why an SMS was not sent (it cost nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsFailure {
    /// The contact has no number.
    NoNumber,
    WrongNumberFormat,
    CountryNotSupported,
    /// The provider refused it or could not be reached.
    Provider,
    /// Its hold ended while iapd was stopped and the account could not pay for it again.
    NotPaid,
}

/// A delivery status an SMS gateway reports, named as Odoo's `/sms/status` expects them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsDelivery {
    /// Handed to the network.
    Sent,
    Delivered,
    NotDelivered,
    InvalidDestination,
    NotAllowed,
    Rejected,
    Expired,
}

/// Where a delivery report forwarded to Odoo stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsReportState {
    /// Waiting for its (next) attempt.
    Queued,
    Sent,
    /// Given up after days of failed attempts.
    Failed,
    /// A newer status of the same message took its place before it was delivered.
    Superseded,
}

/// Where a batch of SMS stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsBatchState {
    /// Held, and being handed to the provider.
    Pending,
    /// Every message sent or failed; the rest of the hold released.
    Done,
}

macro_rules! stored_names {
    ($($ty:ident { $($variant:ident => $name:literal),* $(,)? })*) => {$(
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The name stored in the database.
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }

            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|s| s.as_str() == name)
            }
        }
    )*};
}

stored_names! {
    MailState { Queued => "queued", Sent => "sent", Failed => "failed" }
    SmsState { Outgoing => "outgoing", Sent => "sent", Error => "error" }
    SmsBatchState { Pending => "pending", Done => "done" }
    SmsSource { App => "app", Api => "api" }
    SmsFailure {
        NoNumber => "no_number",
        WrongNumberFormat => "wrong_number_format",
        CountryNotSupported => "country_not_supported",
        Provider => "provider",
        NotPaid => "not_paid",
    }
    SmsDelivery {
        Sent => "sent",
        Delivered => "delivered",
        NotDelivered => "not_delivered",
        InvalidDestination => "invalid_destination",
        NotAllowed => "not_allowed",
        Rejected => "rejected",
        Expired => "expired",
    }
    DeliveryState { Pending => "pending", Delivered => "delivered", Failed => "failed" }
    SmsReportState {
        Queued => "queued",
        Sent => "sent",
        Failed => "failed",
        Superseded => "superseded",
    }
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
    /// Per part to the number's country; `None` with `problem` when the number cannot be
    /// texted.
    pub price_per_part: Option<Credits>,
    pub problem: Option<Text>,
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

/// What a send did: the batch it queued. Its messages go out after the answer, each
/// charged as the provider takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsQueued {
    pub batch_id: i64,
    pub queued: u32,
    /// Reserved for them: what they cost if all go out.
    pub credits: Credits,
    /// The recipients that cannot be texted: recorded as errors, not sent, not charged.
    pub refused: Vec<SmsRefused>,
}

/// A recipient a send left out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsRefused {
    pub name: String,
    /// As typed on the contact; empty when it has none.
    pub number: String,
    pub reason: Text,
}

/// How far a batch of SMS has got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SmsBatchStatus {
    pub batch_id: i64,
    pub state: SmsBatchState,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub queued: u32,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub sent: u32,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub failed: u32,
    /// Reserved when the batch was queued.
    pub held: Credits,
    /// Charged so far: the cost of the messages sent.
    pub credits: Credits,
}

/// One row of Settings → Technical → SMS Outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SmsOutboxLine {
    pub id: i64,
    pub created_at: Timestamp,
    pub number: String,
    pub contact_name: Option<String>,
    pub body: String,
    pub encoding: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub parts: u32,
    /// Held, and finally charged.
    pub cost: Credits,
    pub credits: Credits,
    pub state: SmsState,
    /// The last delivery status its gateway reported.
    pub delivery: Option<SmsDelivery>,
    pub provider: Option<String>,
    pub error: Option<String>,
    /// Who sent it from a page; `None` for one an Odoo database sent (see `dbuuid`).
    pub author_name: Option<String>,
    /// The Odoo database that sent it through the SMS API.
    pub dbuuid: Option<String>,
    pub account_name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::db::Flag"))]
    pub whole_number: bool,
    /// The batch it was sent in, and how far that batch has got.
    pub batch_id: i64,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub batch_queued: u32,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub batch_sent: u32,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub batch_failed: u32,
}

/// A delivery report on its way to an Odoo database, as the SMS Outbox lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct SmsReportLine {
    pub id: i64,
    pub created_at: Timestamp,
    pub webhook_url: String,
    pub uuid: String,
    pub status: SmsDelivery,
    pub state: SmsReportState,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
}

/// A service of the catalogue as Settings → Technical → IAP Services lists it. Never carries
/// its key: only a hash is stored, and the key is shown once when made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ServiceSummary {
    pub technical_name: String,
    pub label: String,
    pub unit_name: String,
    pub trial_credits: Credits,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::db::Flag"))]
    pub first_party: bool,
    /// Whether a provider key exists (its hash is stored).
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::db::Flag"))]
    pub has_key: bool,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub packs: u32,
}

/// The IAP Services page: the catalogue and the database's hosting type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesOverview {
    pub services: Vec<ServiceSummary>,
    pub hosting_type: crate::domain::hosting::HostingType,
}

/// An account's auto-recharge, as Account Information shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoRechargeView {
    /// `None` when it is off.
    pub threshold: Option<Credits>,
    pub pack: Option<i64>,
    /// Cents of the pack's currency.
    pub monthly_cap: Option<i64>,
    /// The saved card's brand and last four digits.
    pub card: Option<(String, String)>,
    pub state: crate::domain::auto_recharge::RechargeState,
    pub declines: i64,
    pub next_attempt: Option<Timestamp>,
    /// Why the last attempt bought nothing.
    pub last_error: Option<String>,
    /// What auto-recharge spent this month, in cents of the pack's currency.
    pub spent: i64,
    /// The account's packs, to choose from.
    pub packs: Vec<crate::domain::packs::Pack>,
    /// Administrators change it; everyone else who sees the account reads it.
    pub editable: bool,
    /// How a card is saved: typed here (Demo), or at the provider (Stripe).
    pub payments: PaymentMode,
}

/// An account's further alert thresholds, besides Warn Me, as Account Information shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAlerts {
    pub thresholds: Vec<AlertThreshold>,
    /// Administrators add and remove them; everyone else who sees the account reads them.
    pub editable: bool,
}

/// One further threshold of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertThreshold {
    pub id: i64,
    pub threshold: Credits,
    pub emails: Vec<String>,
    pub in_app: bool,
    pub webhook: bool,
}

/// The bell: the newest alerts about the accounts a user may see, and how many are unread.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    pub items: Vec<Notification>,
    pub unread: u32,
}

/// One alert as the bell lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub kind: crate::domain::alert::AlertKind,
    pub account_id: i64,
    pub account_name: String,
    pub unit_name: String,
    pub whole_number: bool,
    pub threshold: Option<Credits>,
    pub available: Credits,
    pub created_at: Timestamp,
    pub unread: bool,
}

/// A webhook as Settings → Webhooks lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub secret: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "crate::db::Flag"))]
    pub active: bool,
    pub created_at: Timestamp,
    /// Deliveries still waiting for their (next) attempt, and given up.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub pending: u32,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub failed: u32,
}

/// One event posted (or to post) to a webhook: its delivery log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct WebhookDelivery {
    pub id: i64,
    pub event_type: String,
    pub state: DeliveryState,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub attempts: u32,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
}

/// Where a webhook delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up after the last attempt.
    Failed,
}

impl DeliveryState {
    pub const fn label(self) -> crate::i18n::Msg {
        match self {
            DeliveryState::Pending => crate::i18n::Msg::WebhookPending,
            DeliveryState::Delivered => crate::i18n::Msg::WebhookDelivered,
            DeliveryState::Failed => crate::i18n::Msg::WebhookFailed,
        }
    }
}
