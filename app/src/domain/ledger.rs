//! The credit ledger's rules, in memory and free of I/O.
//!
//! A [`Book`] holds every account's `balance` (credits owned) and `held` (credits reserved by
//! open holds), and the open holds themselves. Each operation checks its rules, changes the
//! book, and returns the [`Entry`] rows the append-only ledger must record, so the persisted
//! ledger always sums to the book. `available = balance - held` never goes below zero.
//!
//! Holds follow Odoo's authorize → capture/cancel protocol. Expired holds are released by
//! [`Book::expire_due`], which the writer calls before every batch, so a hold past its TTL
//! never counts towards `held` when a new operation is judged.
//!
//! A hold that pays for many things delivered one by one (a batch of SMS) is spent in parts
//! ([`Book::capture_part`]): each part moves from held to spent and the rest stays held, so
//! what was delivered is charged at once and nothing else is. Such a hold is kept alive while
//! its work runs ([`Book::extend`]) and ended with [`Book::close`], which releases the rest.

use crate::domain::FieldError;
use crate::domain::credits::{self, Credits};
use crate::i18n::{Msg, Note};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};

pub type AccountId = i64;
pub type HoldId = i64;

/// Odoo's default hold lifetime: 4,320 hours (180 days).
pub const DEFAULT_TTL_HOURS: i64 = 4_320;
/// Longer TTLs are refused as mistakes: ten years.
pub const MAX_TTL_HOURS: i64 = 87_600;
/// The longest description or reason a ledger entry keeps, in characters.
pub const DESCRIPTION_MAX: usize = 256;
/// The longest idempotency key a caller may send.
pub const IDEMPOTENCY_KEY_MAX: usize = 128;
/// Appended to an account's token, this disables the account (Odoo's convention).
pub const DISABLED_SUFFIX: &str = "+disabled";

/// The id a hold's token carries (`<id>.<random>`), if it is shaped like one.
pub fn hold_id_of(token: &str) -> Option<HoldId> {
    token.split_once('.').and_then(|(id, _)| id.parse().ok())
}

/// Whether a token marks its account as disabled.
pub fn is_disabled_token(token: &str) -> bool {
    token.ends_with(DISABLED_SUFFIX)
}

/// The kinds of ledger entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    /// Free credits granted once per service when its first account is created.
    Trial,
    Purchase,
    /// Credits reserved for a service call.
    Hold,
    /// A hold turned into spending; any remainder goes back.
    Capture,
    /// A hold cancelled by the service.
    Release,
    /// A hold that outlived its TTL.
    Expiry,
    /// A correction by an administrator, with a reason.
    Adjustment,
    /// Credits of one capture given back by an administrator, with a reason.
    Reversal,
    /// The credits of a refunded order, taken back.
    Refund,
}

impl EntryKind {
    pub const ALL: [EntryKind; 9] = [
        EntryKind::Trial,
        EntryKind::Purchase,
        EntryKind::Hold,
        EntryKind::Capture,
        EntryKind::Release,
        EntryKind::Expiry,
        EntryKind::Adjustment,
        EntryKind::Reversal,
        EntryKind::Refund,
    ];

    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryKind::Trial => "trial",
            EntryKind::Purchase => "purchase",
            EntryKind::Hold => "hold",
            EntryKind::Capture => "capture",
            EntryKind::Release => "release",
            EntryKind::Expiry => "expiry",
            EntryKind::Adjustment => "adjustment",
            EntryKind::Reversal => "reversal",
            EntryKind::Refund => "refund",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// How the history names it.
    pub const fn label(self) -> Msg {
        match self {
            EntryKind::Trial => Msg::KindTrial,
            EntryKind::Purchase => Msg::KindPurchase,
            EntryKind::Hold => Msg::KindHold,
            EntryKind::Capture => Msg::KindCapture,
            EntryKind::Release => Msg::KindRelease,
            EntryKind::Expiry => Msg::KindExpiry,
            EntryKind::Adjustment => Msg::KindAdjustment,
            EntryKind::Reversal => Msg::KindReversal,
            EntryKind::Refund => Msg::KindRefund,
        }
    }
}

/// Where a hold stands. Only an open hold reserves credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HoldState {
    Open,
    Captured,
    Released,
    Expired,
}

impl HoldState {
    pub const ALL: [HoldState; 4] = [
        HoldState::Open,
        HoldState::Captured,
        HoldState::Released,
        HoldState::Expired,
    ];

    /// The name stored in the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            HoldState::Open => "open",
            HoldState::Captured => "captured",
            HoldState::Released => "released",
            HoldState::Expired => "expired",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// How a closed hold ended, for answering a repeated capture or cancel; `None` while open.
    pub fn end(self, hold_amount: i64, captured: Option<i64>) -> Option<HoldEnd> {
        match self {
            HoldState::Open => None,
            HoldState::Captured => Some(HoldEnd::Captured(captured.unwrap_or(hold_amount))),
            HoldState::Released => Some(HoldEnd::Released),
            HoldState::Expired => Some(HoldEnd::Expired),
        }
    }
}

/// One row the ledger appends: what it does to the balance and to the held amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub account: AccountId,
    pub kind: EntryKind,
    /// Change to `balance`, in minor units.
    pub amount: i64,
    /// Change to `held`, in minor units.
    pub held_delta: i64,
    pub hold: Option<HoldId>,
    pub description: Note,
}

/// An account as the book sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    pub balance: i64,
    pub held: i64,
    /// A `+disabled` token: holds are refused, nothing else changes.
    pub disabled: bool,
}

impl Account {
    pub fn available(&self) -> i64 {
        self.balance - self.held
    }

    /// Refuses taking `amount` (minor units) beyond what is available, naming both.
    pub fn ensure_available(&self, amount: i64) -> Result<(), LedgerError> {
        if self.available() < amount {
            return Err(LedgerError::InsufficientCredits {
                available: Credits::from_minor(self.available()),
                required: Credits::from_minor(amount),
            });
        }
        Ok(())
    }
}

/// A hold that has been placed and not yet captured, released or expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenHold {
    pub id: HoldId,
    pub account: AccountId,
    /// What was reserved when the hold was placed.
    pub amount: i64,
    /// What partial captures have spent of it so far; `amount - captured` is still held.
    pub captured: i64,
    /// Unix milliseconds after which the hold no longer reserves anything.
    pub expires_at: i64,
    pub token: String,
    pub description: Note,
    pub created_at: i64,
    /// The caller's idempotency key and a digest of its request, if it sent one.
    pub idempotency: Option<(String, String)>,
}

impl OpenHold {
    /// What the hold still reserves.
    pub fn remaining(&self) -> i64 {
        self.amount - self.captured
    }

    /// How the hold ends when closed now: captured for what its parts spent, or released.
    pub fn closed_state(&self) -> HoldState {
        if self.captured > 0 {
            HoldState::Captured
        } else {
            HoldState::Released
        }
    }
}

/// What a caller asks to hold, as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRequest {
    pub account: AccountId,
    pub amount: Credits,
    /// Typed by the calling service, or written by iapd (an SMS batch's hold).
    pub description: Note,
    /// Hours; `None` is [`DEFAULT_TTL_HOURS`].
    pub ttl_hours: Option<i64>,
    /// A retried request with the same key gets the first answer instead of a second hold.
    pub idempotency_key: Option<String>,
}

/// A hold request that passed its checks: what the book reserves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewHold {
    pub account: AccountId,
    pub amount: Credits,
    pub description: Note,
    pub ttl_hours: i64,
    pub idempotency_key: Option<String>,
}

impl NewHold {
    /// A positive amount up to [`credits::MAX`], a TTL of 1 to [`MAX_TTL_HOURS`] hours, a
    /// description of at most [`DESCRIPTION_MAX`] characters (trimmed) and an idempotency key
    /// of 1 to [`IDEMPOTENCY_KEY_MAX`] bytes.
    pub fn parse(request: HoldRequest) -> Result<Self, FieldError> {
        let amount = request.amount.positive().map_err(|e| e.at("amount"))?;
        let ttl_hours = request.ttl_hours.unwrap_or(DEFAULT_TTL_HOURS);
        if !(1..=MAX_TTL_HOURS).contains(&ttl_hours) {
            return Err(FieldError::new("ttl", Msg::ErrTtl).arg("max", MAX_TTL_HOURS));
        }
        let description = match request.description {
            Note::Typed(text) => Note::Typed(description(&text, "description")?),
            said @ Note::Said(_) => said,
        };
        if let Some(key) = &request.idempotency_key
            && (key.is_empty() || key.len() > IDEMPOTENCY_KEY_MAX)
        {
            return Err(FieldError::new("idempotency_key", Msg::ErrIdempotencyKey));
        }
        Ok(NewHold {
            account: request.account,
            amount,
            description,
            ttl_hours,
            idempotency_key: request.idempotency_key,
        })
    }

    /// When a hold placed at `now` (Unix ms) stops reserving credits.
    pub fn expires_at(&self, now: i64) -> i64 {
        now.saturating_add(self.ttl_hours.saturating_mul(3_600_000))
    }
}

/// Credits added (trial, purchase) or corrected (adjustment), checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCredit {
    pub account: AccountId,
    pub kind: EntryKind,
    pub amount: Credits,
    pub description: Note,
}

impl NewCredit {
    /// An amount no larger than [`credits::MAX`] either way, and a description of at most
    /// [`DESCRIPTION_MAX`] characters, required for adjustments (it is their reason). The
    /// sign rules depend on the balance and are the book's ([`Book::credit`]).
    pub fn parse(
        account: AccountId,
        kind: EntryKind,
        amount: Credits,
        description: &str,
    ) -> Result<Self, FieldError> {
        if amount.minor().unsigned_abs() > credits::MAX.minor().unsigned_abs() {
            return Err(FieldError::new("amount", Msg::ErrAmountTooLarge));
        }
        let description = self::description(description, "reason")?;
        if kind == EntryKind::Adjustment && description.is_empty() {
            return Err(FieldError::new("reason", Msg::ErrReasonRequired));
        }
        Ok(NewCredit {
            account,
            kind,
            amount,
            description: Note::Typed(description),
        })
    }
}

/// An administrator's request to give back the credits of one capture entry: all of them, or
/// `amount` of them, for a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReversal {
    pub account: AccountId,
    /// The capture entry.
    pub entry: i64,
    pub amount: Option<Credits>,
    pub reason: Note,
}

impl NewReversal {
    /// A positive amount if one is given, and a reason of at most [`DESCRIPTION_MAX`]
    /// characters. Whether the amount fits the capture is the book's rule
    /// ([`reversal_amount`]).
    pub fn parse(
        account: AccountId,
        entry: i64,
        amount: Option<Credits>,
        reason: &str,
    ) -> Result<Self, FieldError> {
        if amount.is_some_and(|a| a.minor() <= 0) {
            return Err(FieldError::new("amount", Msg::ErrAmountNotPositive));
        }
        let reason = self::description(reason, "reason")?;
        if reason.is_empty() {
            return Err(FieldError::new("reason", Msg::ErrReversalReason));
        }
        Ok(NewReversal {
            account,
            entry,
            amount,
            reason: Note::Typed(reason),
        })
    }
}

/// A ledger entry as a reversal judges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReversibleEntry {
    pub id: i64,
    pub account: AccountId,
    pub kind: EntryKind,
    /// Its change to the balance; a capture's is what it spent, negated.
    pub amount: i64,
    pub hold: Option<HoldId>,
}

/// What reversing `entry` gives back: all it spent, or `wanted` if that is no more.
pub fn reversal_amount(
    entry: &ReversibleEntry,
    wanted: Option<Credits>,
) -> Result<i64, LedgerError> {
    if entry.kind != EntryKind::Capture || entry.amount >= 0 {
        return Err(FieldError::new("entry", Msg::ErrNotACapture).into());
    }
    let spent = -entry.amount;
    match wanted.map(Credits::minor) {
        None => Ok(spent),
        Some(n) if n <= 0 => Err(FieldError::new("amount", Msg::ErrAmountNotPositive).into()),
        Some(n) if n > spent => Err(FieldError::new("amount", Msg::ErrReversalTooLarge)
            .arg("amount", Credits::from_minor(spent))
            .into()),
        Some(n) => Ok(n),
    }
}

/// The answer to reversing again a capture already reversed for `done`: the same answer for
/// the same request (a retry or a double click), a conflict for a different amount.
pub fn repeat_reversal(
    entry: &ReversibleEntry,
    done: i64,
    wanted: Option<Credits>,
) -> Result<Credits, LedgerError> {
    if reversal_amount(entry, wanted)? == done {
        Ok(Credits::from_minor(done))
    } else {
        Err(LedgerError::Conflict(Conflict::ReversedFor(
            Credits::from_minor(done),
        )))
    }
}

fn description(text: &str, field: &str) -> Result<String, FieldError> {
    Ok(super::text::optional_lines(field, text, DESCRIPTION_MAX)?.unwrap_or_default())
}

/// An administrator's edit of an account, checked: a name, a token (a `+disabled` suffix
/// disables the account) and the companies it is restricted to (none: all), sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountEdit {
    pub account: AccountId,
    pub name: String,
    pub token: String,
    pub companies: Vec<i64>,
}

impl AccountEdit {
    pub fn parse(
        account: AccountId,
        name: &str,
        token: &str,
        mut companies: Vec<i64>,
    ) -> Result<Self, FieldError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 128 {
            return Err(FieldError::new("name", Msg::ErrAccountName));
        }
        if super::text::has_control(name, false) {
            return Err(FieldError::new("name", Msg::ErrControlChars));
        }
        let token = token.trim();
        if token.len() < 22
            || token.len() > 128
            || token.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(FieldError::new("token", Msg::ErrToken));
        }
        companies.sort_unstable();
        companies.dedup();
        Ok(AccountEdit {
            account,
            name: name.to_owned(),
            token: token.to_owned(),
            companies,
        })
    }

    pub fn disabled(&self) -> bool {
        is_disabled_token(&self.token)
    }
}

/// What the ledger decides about a hold besides the request: its token, when it is placed
/// (Unix ms), and the idempotency key with a digest of the request it came with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub token: String,
    pub now: i64,
    pub idempotency: Option<(String, String)>,
}

/// How a hold that is no longer open ended, for answering repeated calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldEnd {
    Captured(i64),
    Released,
    Expired,
}

impl HoldEnd {
    /// The end of a hold closed in `state` after its parts spent `captured`.
    pub fn from_closed(state: HoldState, captured: i64) -> Self {
        state
            .end(captured, Some(captured))
            .unwrap_or(HoldEnd::Released)
    }
}

/// Why a request contradicts what the ledger already recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// The transaction was captured, for this amount.
    CapturedFor(Credits),
    HoldCancelled,
    AlreadyCaptured,
    /// The idempotency key came with a different request.
    IdempotencyKeyReused,
    OrderPaid,
    OrderFailed,
    /// The provider's payment reference was used for another order.
    PaymentReused,
    /// The capture was already reversed, for this amount.
    ReversedFor(Credits),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerError {
    UnknownAccount,
    AccountDisabled,
    InsufficientCredits {
        available: Credits,
        required: Credits,
    },
    UnknownHold,
    UnknownOrder,
    /// A ledger entry that does not exist, or not on the account named.
    UnknownEntry,
    /// An SMS the outbox does not have.
    UnknownMessage,
    HoldExpired,
    Conflict(Conflict),
    Invalid(FieldError),
    /// The change could not be stored; nothing was changed and the call may be retried.
    Storage,
}

impl From<FieldError> for LedgerError {
    fn from(error: FieldError) -> Self {
        LedgerError::Invalid(error)
    }
}

#[derive(Debug, Default)]
pub struct Book {
    accounts: HashMap<AccountId, Account>,
    holds: HashMap<HoldId, OpenHold>,
    by_token: HashMap<String, HoldId>,
    /// (expires_at, hold) for every open hold, so expiry finds due holds without a scan.
    expiry: BTreeSet<(i64, HoldId)>,
    /// The ids this book may still hand out: `next_hold` up to, not including,
    /// `hold_ids_end`.
    next_hold: HoldId,
    hold_ids_end: HoldId,
}

impl Book {
    pub fn new() -> Self {
        Book {
            next_hold: 1,
            hold_ids_end: HoldId::MAX,
            ..Book::default()
        }
    }

    /// Adds an account as loaded or created; its `held` must match the open holds added
    /// with [`Book::load_hold`].
    pub fn load_account(&mut self, id: AccountId, account: Account) {
        self.accounts.insert(id, account);
    }

    /// Adds an open hold as loaded from storage (its amount is already in `held`).
    pub fn load_hold(&mut self, hold: OpenHold) {
        self.index(hold);
    }

    /// Forgets every open hold of `accounts`, whose figures and holds another writer changed:
    /// storage's versions of both are loaded next, so no `held` is moved here.
    pub fn forget_holds_of(&mut self, accounts: &HashSet<AccountId>) {
        let stale: Vec<HoldId> = self
            .holds
            .values()
            .filter(|h| accounts.contains(&h.account))
            .map(|h| h.id)
            .collect();
        for id in stale {
            self.remove(id);
        }
    }

    /// From now on, hands out hold ids from `ids` only: a block that storage reserved for
    /// this book alone, since several books may place holds in one database at once.
    pub fn use_hold_ids(&mut self, ids: std::ops::Range<HoldId>) {
        self.next_hold = ids.start;
        self.hold_ids_end = ids.end;
    }

    /// How many more holds this book can place before it needs another block of ids.
    pub fn hold_ids_left(&self) -> i64 {
        self.hold_ids_end.saturating_sub(self.next_hold).max(0)
    }

    /// The id the next successful hold gets, so its token can carry it.
    pub fn next_hold_id(&self) -> HoldId {
        self.next_hold
    }

    /// The accounts with a hold whose TTL has passed at `now`.
    pub fn due_accounts(&self, now: i64) -> HashSet<AccountId> {
        self.expiry
            .range(..=(now, HoldId::MAX))
            .filter_map(|(_, id)| self.holds.get(id).map(|h| h.account))
            .collect()
    }

    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }

    pub fn open_hold(&self, token: &str) -> Option<&OpenHold> {
        self.by_token.get(token).and_then(|id| self.holds.get(id))
    }

    pub fn set_disabled(&mut self, id: AccountId, disabled: bool) -> Result<(), LedgerError> {
        self.accounts
            .get_mut(&id)
            .ok_or(LedgerError::UnknownAccount)?
            .disabled = disabled;
        Ok(())
    }

    /// Releases every hold whose TTL has passed at `now`.
    pub fn expire_due(&mut self, now: i64) -> Vec<(OpenHold, Entry)> {
        self.expire_due_in(now, |_| true)
    }

    /// Releases every hold of the accounts `within` accepts whose TTL has passed at `now`.
    pub fn expire_due_in(
        &mut self,
        now: i64,
        within: impl Fn(AccountId) -> bool,
    ) -> Vec<(OpenHold, Entry)> {
        let due: Vec<HoldId> = self
            .expiry
            .range(..=(now, HoldId::MAX))
            .map(|(_, id)| *id)
            .filter(|id| self.holds.get(id).is_some_and(|h| within(h.account)))
            .collect();
        let mut entries = Vec::with_capacity(due.len());
        for hold in due
            .into_iter()
            .filter_map(|id| self.remove(id))
            .collect::<Vec<_>>()
        {
            self.release_held(&hold);
            let entry = Entry {
                account: hold.account,
                kind: EntryKind::Expiry,
                amount: 0,
                held_delta: -hold.remaining(),
                hold: Some(hold.id),
                description: hold.description.clone(),
            };
            entries.push((hold, entry));
        }
        entries
    }

    /// Gives back credits one capture spent, as a `reversal` entry tied to the capture's hold.
    /// Whether the capture was reversed before is the caller's to know
    /// ([`repeat_reversal`]); a disabled account takes its credits back too.
    pub fn reverse(
        &mut self,
        entry: &ReversibleEntry,
        reversal: &NewReversal,
    ) -> Result<Entry, LedgerError> {
        if entry.account != reversal.account || entry.id != reversal.entry {
            return Err(LedgerError::UnknownEntry);
        }
        let amount = reversal_amount(entry, reversal.amount)?;
        let acct = self
            .accounts
            .get_mut(&entry.account)
            .ok_or(LedgerError::UnknownAccount)?;
        acct.balance = acct.balance.checked_add(amount).ok_or_else(|| {
            LedgerError::Invalid(FieldError::new("amount", Msg::ErrBalanceTooLarge))
        })?;
        Ok(Entry {
            account: entry.account,
            kind: EntryKind::Reversal,
            amount,
            held_delta: 0,
            hold: entry.hold,
            description: reversal.reason.clone(),
        })
    }

    /// Takes back the credits a refunded order bought, as a `refund` entry. They must all be
    /// available: credits already spent or held cannot be refunded.
    pub fn refund(
        &mut self,
        account: AccountId,
        credits: Credits,
        description: impl Into<Note>,
    ) -> Result<Entry, LedgerError> {
        let acct = self
            .accounts
            .get_mut(&account)
            .ok_or(LedgerError::UnknownAccount)?;
        let amount = credits.minor();
        if amount <= 0 {
            return Err(FieldError::new("amount", Msg::ErrAmountNotPositive).into());
        }
        acct.ensure_available(amount)?;
        acct.balance -= amount;
        Ok(Entry {
            account,
            kind: EntryKind::Refund,
            amount: -amount,
            held_delta: 0,
            hold: None,
            description: description.into(),
        })
    }

    /// Adds credits (trial, purchase) or corrects them (adjustment, which may be negative but
    /// never takes the account below what is held).
    pub fn credit(
        &mut self,
        account: AccountId,
        kind: EntryKind,
        amount: Credits,
        description: impl Into<Note>,
    ) -> Result<Entry, LedgerError> {
        let acct = self
            .accounts
            .get_mut(&account)
            .ok_or(LedgerError::UnknownAccount)?;
        let amount = amount.minor();
        match kind {
            EntryKind::Trial | EntryKind::Purchase if amount <= 0 => {
                return Err(LedgerError::Invalid(FieldError::new(
                    "amount",
                    Msg::ErrAmountNotPositive,
                )));
            }
            EntryKind::Trial | EntryKind::Purchase => {}
            EntryKind::Adjustment if amount == 0 => {
                return Err(LedgerError::Invalid(FieldError::new(
                    "amount",
                    Msg::ErrAdjustmentZero,
                )));
            }
            EntryKind::Adjustment if amount < 0 => acct.ensure_available(-amount)?,
            EntryKind::Adjustment => {}
            EntryKind::Hold
            | EntryKind::Capture
            | EntryKind::Release
            | EntryKind::Expiry
            | EntryKind::Reversal
            | EntryKind::Refund => {
                return Err(LedgerError::Invalid(FieldError::new(
                    "kind",
                    Msg::ErrCreditKind,
                )));
            }
        }
        acct.balance = acct.balance.checked_add(amount).ok_or_else(|| {
            LedgerError::Invalid(FieldError::new("amount", Msg::ErrBalanceTooLarge))
        })?;
        Ok(Entry {
            account,
            kind,
            amount,
            held_delta: 0,
            hold: None,
            description: description.into(),
        })
    }

    /// Reserves credits. Refused on a disabled account or when fewer are available.
    pub fn hold(
        &mut self,
        new: &NewHold,
        placement: Placement,
    ) -> Result<(HoldId, Entry), LedgerError> {
        let amount = new.amount.minor();
        if amount <= 0 {
            return Err(LedgerError::Invalid(FieldError::new(
                "amount",
                Msg::ErrAmountNotPositive,
            )));
        }
        let acct = self
            .accounts
            .get_mut(&new.account)
            .ok_or(LedgerError::UnknownAccount)?;
        if acct.disabled {
            return Err(LedgerError::AccountDisabled);
        }
        if self.next_hold >= self.hold_ids_end {
            // The writer reserves ids before every batch; reaching this is a bug, refused.
            return Err(LedgerError::Storage);
        }
        acct.ensure_available(amount)?;
        acct.held += amount;
        let id = self.next_hold;
        self.next_hold += 1;
        let entry = Entry {
            account: new.account,
            kind: EntryKind::Hold,
            amount: 0,
            held_delta: amount,
            hold: Some(id),
            description: new.description.clone(),
        };
        self.index(OpenHold {
            id,
            account: new.account,
            amount,
            captured: 0,
            expires_at: new.expires_at(placement.now),
            token: placement.token,
            description: new.description.clone(),
            created_at: placement.now,
            idempotency: placement.idempotency,
        });
        Ok((id, entry))
    }

    /// Spends `amount` of what an open hold still reserves (all of it when `None`) and
    /// releases the rest. Returns the hold as it was, the credits taken, and the entry.
    pub fn capture(
        &mut self,
        token: &str,
        amount: Option<Credits>,
    ) -> Result<(OpenHold, i64, Entry), LedgerError> {
        let id = *self.by_token.get(token).ok_or(LedgerError::UnknownHold)?;
        let held = self
            .holds
            .get(&id)
            .map(OpenHold::remaining)
            .ok_or(LedgerError::UnknownHold)?;
        let take = amount.map_or(held, Credits::minor);
        check_take(take, held)?;
        let hold = self.remove(id).ok_or(LedgerError::UnknownHold)?;
        self.release_held(&hold);
        if let Some(acct) = self.accounts.get_mut(&hold.account) {
            acct.balance -= take;
        }
        let entry = Entry {
            account: hold.account,
            kind: EntryKind::Capture,
            amount: -take,
            held_delta: -hold.remaining(),
            hold: Some(hold.id),
            description: hold.description.clone(),
        };
        Ok((hold, take, entry))
    }

    /// Spends `amount` of an open hold and keeps the rest reserved: one delivered part of
    /// the work the hold pays for. The entry carries `description` (what was delivered).
    /// Returns the hold as it now stands.
    pub fn capture_part(
        &mut self,
        token: &str,
        amount: Credits,
        description: impl Into<Note>,
    ) -> Result<(OpenHold, Entry), LedgerError> {
        let id = *self.by_token.get(token).ok_or(LedgerError::UnknownHold)?;
        let hold = self.holds.get_mut(&id).ok_or(LedgerError::UnknownHold)?;
        let take = amount.minor();
        check_take(take, hold.remaining())?;
        if take == 0 {
            return Err(LedgerError::Invalid(FieldError::new(
                "amount",
                Msg::ErrAmountNotPositive,
            )));
        }
        hold.captured += take;
        let hold = hold.clone();
        if let Some(acct) = self.accounts.get_mut(&hold.account) {
            acct.balance -= take;
            acct.held -= take;
        }
        let entry = Entry {
            account: hold.account,
            kind: EntryKind::Capture,
            amount: -take,
            held_delta: -take,
            hold: Some(hold.id),
            description: description.into(),
        };
        Ok((hold, entry))
    }

    /// Moves an open hold's expiry to `until` (Unix ms) if that is later; never earlier, so
    /// repeating it changes nothing. Returns the hold as it now stands.
    pub fn extend(&mut self, token: &str, until: i64) -> Result<OpenHold, LedgerError> {
        let id = *self.by_token.get(token).ok_or(LedgerError::UnknownHold)?;
        let hold = self.holds.get_mut(&id).ok_or(LedgerError::UnknownHold)?;
        if until > hold.expires_at {
            self.expiry.remove(&(hold.expires_at, id));
            hold.expires_at = until;
            self.expiry.insert((until, id));
        }
        Ok(hold.clone())
    }

    /// Ends an open hold, releasing what it still reserves: captured for what its parts
    /// spent (see [`OpenHold::closed_state`]), released when nothing was. The entry is
    /// `None` when nothing was left to release.
    pub fn close(&mut self, token: &str) -> Result<(OpenHold, Option<Entry>), LedgerError> {
        let id = *self.by_token.get(token).ok_or(LedgerError::UnknownHold)?;
        let hold = self.remove(id).ok_or(LedgerError::UnknownHold)?;
        self.release_held(&hold);
        let entry = (hold.remaining() > 0).then(|| Entry {
            account: hold.account,
            kind: EntryKind::Release,
            amount: 0,
            held_delta: -hold.remaining(),
            hold: Some(hold.id),
            description: hold.description.clone(),
        });
        Ok((hold, entry))
    }

    /// Releases an open hold without spending anything more.
    pub fn cancel(&mut self, token: &str) -> Result<(OpenHold, Entry), LedgerError> {
        let id = *self.by_token.get(token).ok_or(LedgerError::UnknownHold)?;
        let hold = self.remove(id).ok_or(LedgerError::UnknownHold)?;
        self.release_held(&hold);
        let entry = Entry {
            account: hold.account,
            kind: EntryKind::Release,
            amount: 0,
            held_delta: -hold.remaining(),
            hold: Some(hold.id),
            description: hold.description.clone(),
        };
        Ok((hold, entry))
    }

    fn index(&mut self, hold: OpenHold) {
        self.by_token.insert(hold.token.clone(), hold.id);
        self.expiry.insert((hold.expires_at, hold.id));
        self.holds.insert(hold.id, hold);
    }

    fn remove(&mut self, id: HoldId) -> Option<OpenHold> {
        let hold = self.holds.remove(&id)?;
        self.by_token.remove(&hold.token);
        self.expiry.remove(&(hold.expires_at, hold.id));
        Some(hold)
    }

    fn release_held(&mut self, hold: &OpenHold) {
        if let Some(acct) = self.accounts.get_mut(&hold.account) {
            acct.held -= hold.remaining();
        }
    }
}

/// A capture takes between nothing and what the hold still reserves.
fn check_take(take: i64, held: i64) -> Result<(), LedgerError> {
    if take < 0 {
        return Err(LedgerError::Invalid(FieldError::new(
            "amount",
            Msg::ErrCaptureNegative,
        )));
    }
    if take > held {
        return Err(LedgerError::Invalid(FieldError::new(
            "amount",
            Msg::ErrCaptureAboveHold,
        )));
    }
    Ok(())
}

/// The answer to a capture repeated on a hold that is no longer open: the same result for
/// the same request, a conflict for a different one.
pub fn repeat_capture(
    end: HoldEnd,
    hold_amount: i64,
    requested: Option<Credits>,
) -> Result<i64, LedgerError> {
    let wanted = requested.map_or(hold_amount, Credits::minor);
    match end {
        HoldEnd::Captured(taken) if taken == wanted => Ok(taken),
        HoldEnd::Captured(taken) => Err(LedgerError::Conflict(Conflict::CapturedFor(
            Credits::from_minor(taken),
        ))),
        HoldEnd::Released => Err(LedgerError::Conflict(Conflict::HoldCancelled)),
        HoldEnd::Expired => Err(LedgerError::HoldExpired),
    }
}

/// The answer to a cancel repeated on a hold that is no longer open.
pub fn repeat_cancel(end: HoldEnd) -> Result<(), LedgerError> {
    match end {
        HoldEnd::Released | HoldEnd::Expired => Ok(()),
        HoldEnd::Captured(_) => Err(LedgerError::Conflict(Conflict::AlreadyCaptured)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book_with(balance: i64) -> Book {
        let mut book = Book::new();
        book.load_account(
            1,
            Account {
                balance,
                ..Account::default()
            },
        );
        book
    }

    /// A one-hour hold of `amount` on account 1, placed so that it expires at `expires_at`.
    fn new_hold(amount: i64, token: &str, expires_at: i64) -> (NewHold, Placement) {
        let new = NewHold {
            account: 1,
            amount: Credits::from_minor(amount),
            description: "test".into(),
            ttl_hours: 1,
            idempotency_key: None,
        };
        let placement = Placement {
            token: token.into(),
            now: expires_at - 3_600_000,
            idempotency: None,
        };
        (new, placement)
    }

    fn place(
        book: &mut Book,
        (new, placement): (NewHold, Placement),
    ) -> Result<(HoldId, Entry), LedgerError> {
        book.hold(&new, placement)
    }

    #[test]
    fn a_hold_reserves_and_a_capture_spends_part_and_releases_the_rest() {
        let mut book = book_with(100);
        let (_, entry) = place(&mut book, new_hold(60, "t", 1_000)).unwrap();
        assert_eq!((entry.amount, entry.held_delta), (0, 60));
        assert_eq!(book.account(1).unwrap().available(), 40);
        let (_, taken, entry) = book.capture("t", Some(Credits::from_minor(25))).unwrap();
        assert_eq!(taken, 25);
        assert_eq!((entry.amount, entry.held_delta), (-25, -60));
        assert_eq!(
            *book.account(1).unwrap(),
            Account {
                balance: 75,
                held: 0,
                disabled: false
            }
        );
    }

    #[test]
    fn a_hold_beyond_what_is_available_is_refused_with_both_amounts() {
        let mut book = book_with(100);
        place(&mut book, new_hold(70, "a", 1_000)).unwrap();
        let err = place(&mut book, new_hold(31, "b", 1_000)).unwrap_err();
        assert_eq!(
            err,
            LedgerError::InsufficientCredits {
                available: Credits::from_minor(30),
                required: Credits::from_minor(31)
            }
        );
        assert!(place(&mut book, new_hold(30, "c", 1_000)).is_ok());
    }

    #[test]
    fn a_disabled_account_refuses_holds_but_keeps_its_balance_and_open_holds() {
        let mut book = book_with(100);
        place(&mut book, new_hold(10, "open", 1_000)).unwrap();
        book.set_disabled(1, true).unwrap();
        assert_eq!(
            place(&mut book, new_hold(1, "x", 1_000)).unwrap_err(),
            LedgerError::AccountDisabled
        );
        assert!(book.capture("open", None).is_ok());
        book.set_disabled(1, false).unwrap();
        assert!(place(&mut book, new_hold(1, "y", 1_000)).is_ok());
        assert_eq!(book.account(1).unwrap().balance, 90);
    }

    #[test]
    fn capturing_more_than_the_hold_changes_nothing() {
        let mut book = book_with(100);
        place(&mut book, new_hold(10, "t", 1_000)).unwrap();
        let err = book
            .capture("t", Some(Credits::from_minor(11)))
            .unwrap_err();
        assert!(matches!(err, LedgerError::Invalid(ref e) if e.field == "amount"));
        assert_eq!(book.account(1).unwrap().held, 10);
        assert!(book.open_hold("t").is_some());
    }

    #[test]
    fn cancel_releases_everything_and_the_token_is_then_unknown_to_the_book() {
        let mut book = book_with(100);
        place(&mut book, new_hold(10, "t", 1_000)).unwrap();
        let (_, entry) = book.cancel("t").unwrap();
        assert_eq!((entry.kind, entry.held_delta), (EntryKind::Release, -10));
        assert_eq!(book.cancel("t").unwrap_err(), LedgerError::UnknownHold);
        assert_eq!(book.account(1).unwrap().available(), 100);
    }

    #[test]
    fn partial_captures_spend_part_by_part_and_closing_releases_the_rest() {
        let mut book = book_with(100);
        place(&mut book, new_hold(60, "batch", 1_000)).unwrap();
        let (hold, entry) = book
            .capture_part("batch", Credits::from_minor(12), "one SMS")
            .unwrap();
        assert_eq!((hold.captured, hold.remaining()), (12, 48));
        assert_eq!(
            (
                entry.kind,
                entry.amount,
                entry.held_delta,
                entry.description.plain()
            ),
            (EntryKind::Capture, -12, -12, "one SMS".to_owned())
        );
        assert_eq!(
            *book.account(1).unwrap(),
            Account {
                balance: 88,
                held: 48,
                disabled: false
            }
        );
        book.capture_part("batch", Credits::from_minor(48), "four more")
            .unwrap();
        let err = book
            .capture_part("batch", Credits::from_minor(1), "one too many")
            .unwrap_err();
        assert!(matches!(err, LedgerError::Invalid(ref e) if e.field == "amount"));
        let (hold, entry) = book.close("batch").unwrap();
        assert_eq!((hold.closed_state(), entry), (HoldState::Captured, None));
        assert_eq!(book.account(1).unwrap().available(), 40);
        assert_eq!(book.close("batch").unwrap_err(), LedgerError::UnknownHold);
    }

    #[test]
    fn closing_a_hold_nothing_was_captured_from_releases_it_whole() {
        let mut book = book_with(100);
        place(&mut book, new_hold(30, "t", 1_000)).unwrap();
        let (hold, entry) = book.close("t").unwrap();
        assert_eq!(hold.closed_state(), HoldState::Released);
        let entry = entry.expect("a release entry");
        assert_eq!(
            (entry.kind, entry.amount, entry.held_delta),
            (EntryKind::Release, 0, -30)
        );
        assert_eq!(book.account(1).unwrap().available(), 100);
    }

    #[test]
    fn an_extended_hold_outlives_its_first_ttl_and_extending_never_shortens() {
        let mut book = book_with(100);
        place(&mut book, new_hold(40, "t", 1_000)).unwrap();
        assert_eq!(book.extend("t", 5_000).unwrap().expires_at, 5_000);
        assert_eq!(book.extend("t", 2_000).unwrap().expires_at, 5_000);
        assert!(book.expire_due(4_999).is_empty());
        book.capture_part("t", Credits::from_minor(10), "part")
            .unwrap();
        let expired = book.expire_due(5_000);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].1.held_delta, -30, "only what was still held");
        assert_eq!(
            *book.account(1).unwrap(),
            Account {
                balance: 90,
                held: 0,
                disabled: false
            }
        );
        assert_eq!(
            book.extend("t", 9_000).unwrap_err(),
            LedgerError::UnknownHold
        );
    }

    #[test]
    fn a_final_capture_after_parts_takes_from_what_is_left() {
        let mut book = book_with(100);
        place(&mut book, new_hold(50, "t", 1_000)).unwrap();
        book.capture_part("t", Credits::from_minor(20), "part")
            .unwrap();
        assert!(book.capture("t", Some(Credits::from_minor(31))).is_err());
        let (hold, taken, entry) = book.capture("t", None).unwrap();
        assert_eq!((hold.captured, taken, entry.held_delta), (20, 30, -30));
        assert_eq!(book.account(1).unwrap().balance, 50);
        assert_eq!(book.account(1).unwrap().held, 0);
    }

    #[test]
    fn holds_past_their_ttl_expire_and_stop_counting() {
        let mut book = book_with(100);
        place(&mut book, new_hold(40, "early", 1_000)).unwrap();
        place(&mut book, new_hold(50, "late", 2_000)).unwrap();
        assert!(book.expire_due(999).is_empty());
        let expired = book.expire_due(1_000);
        assert_eq!(expired.len(), 1);
        assert_eq!(
            (expired[0].1.kind, expired[0].1.held_delta),
            (EntryKind::Expiry, -40)
        );
        assert_eq!(book.account(1).unwrap().held, 50);
        assert_eq!(
            book.capture("early", None).unwrap_err(),
            LedgerError::UnknownHold
        );
    }

    #[test]
    fn an_account_another_writer_changed_loses_its_holds_until_storage_reloads_them() {
        let mut book = book_with(100);
        book.load_account(2, Account::default());
        place(&mut book, new_hold(40, "t", 1_000)).unwrap();
        let mut extended = book.open_hold("t").unwrap().clone();
        extended.expires_at = 5_000;
        book.forget_holds_of(&HashSet::from([1]));
        assert!(book.open_hold("t").is_none());
        assert!(book.expire_due(5_000).is_empty());
        assert_eq!(
            book.account(1).unwrap().held,
            40,
            "figures come from storage"
        );
        book.load_hold(extended);
        assert!(
            book.expire_due(1_000).is_empty(),
            "the old expiry is gone with the old version"
        );
        assert_eq!(book.open_hold("t").unwrap().expires_at, 5_000);
        book.forget_holds_of(&HashSet::from([2]));
        assert!(
            book.open_hold("t").is_some(),
            "another account's holds stay"
        );
    }

    #[test]
    fn holds_take_ids_from_the_reserved_block_only() {
        let mut book = book_with(100);
        book.use_hold_ids(4_096..4_098);
        assert_eq!(book.hold_ids_left(), 2);
        assert_eq!(place(&mut book, new_hold(1, "a", 1_000)).unwrap().0, 4_096);
        assert_eq!(place(&mut book, new_hold(1, "b", 1_000)).unwrap().0, 4_097);
        assert_eq!(book.hold_ids_left(), 0);
        assert_eq!(
            place(&mut book, new_hold(1, "c", 1_000)).unwrap_err(),
            LedgerError::Storage
        );
        assert_eq!(
            book.account(1).unwrap().held,
            2,
            "a refused hold holds nothing"
        );
        book.use_hold_ids(0..0);
        assert_eq!(book.hold_ids_left(), 0);
    }

    #[test]
    fn expiry_can_keep_to_some_accounts() {
        let mut book = book_with(100);
        book.load_account(
            2,
            Account {
                balance: 100,
                ..Account::default()
            },
        );
        place(&mut book, new_hold(40, "one", 1_000)).unwrap();
        let mut other = new_hold(30, "two", 1_000);
        other.0.account = 2;
        place(&mut book, other).unwrap();
        assert_eq!(book.due_accounts(999), HashSet::new());
        assert_eq!(book.due_accounts(1_000), HashSet::from([1, 2]));
        let expired = book.expire_due_in(1_000, |account| account == 2);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].0.token, "two");
        assert!(book.open_hold("one").is_some());
        assert_eq!(book.due_accounts(1_000), HashSet::from([1]));
    }

    #[test]
    fn negative_adjustments_cannot_take_away_held_credits() {
        let mut book = book_with(100);
        place(&mut book, new_hold(80, "t", 1_000)).unwrap();
        let err = book
            .credit(1, EntryKind::Adjustment, Credits::from_minor(-21), "fix")
            .unwrap_err();
        assert!(matches!(err, LedgerError::InsufficientCredits { .. }));
        book.credit(1, EntryKind::Adjustment, Credits::from_minor(-20), "fix")
            .unwrap();
        assert_eq!(book.account(1).unwrap().available(), 0);
    }

    #[test]
    fn credits_must_be_positive_except_adjustments_which_must_be_nonzero() {
        let mut book = book_with(0);
        assert!(
            book.credit(1, EntryKind::Purchase, Credits::ZERO, "")
                .is_err()
        );
        assert!(
            book.credit(1, EntryKind::Trial, Credits::from_minor(-1), "")
                .is_err()
        );
        assert!(
            book.credit(1, EntryKind::Adjustment, Credits::ZERO, "")
                .is_err()
        );
        assert!(
            book.credit(1, EntryKind::Capture, Credits::from_minor(1), "")
                .is_err()
        );
        assert_eq!(
            book.credit(2, EntryKind::Purchase, Credits::from_minor(1), "")
                .unwrap_err(),
            LedgerError::UnknownAccount
        );
    }

    #[test]
    fn repeated_captures_and_cancels_answer_the_same_or_conflict() {
        assert_eq!(
            repeat_capture(HoldEnd::Captured(5), 10, Some(Credits::from_minor(5))),
            Ok(5)
        );
        assert_eq!(repeat_capture(HoldEnd::Captured(10), 10, None), Ok(10));
        assert!(matches!(
            repeat_capture(HoldEnd::Captured(5), 10, None),
            Err(LedgerError::Conflict(_))
        ));
        assert!(matches!(
            repeat_capture(HoldEnd::Released, 10, None),
            Err(LedgerError::Conflict(_))
        ));
        assert_eq!(
            repeat_capture(HoldEnd::Expired, 10, None),
            Err(LedgerError::HoldExpired)
        );
        assert_eq!(repeat_cancel(HoldEnd::Released), Ok(()));
        assert_eq!(repeat_cancel(HoldEnd::Expired), Ok(()));
        assert!(matches!(
            repeat_cancel(HoldEnd::Captured(1)),
            Err(LedgerError::Conflict(_))
        ));
    }

    #[test]
    fn entry_kinds_round_trip_through_their_names() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EntryKind::parse("gift"), None);
    }

    #[test]
    fn hold_states_round_trip_and_only_closed_ones_have_an_end() {
        for state in HoldState::ALL {
            assert_eq!(HoldState::parse(state.as_str()), Some(state));
        }
        assert_eq!(HoldState::parse("pending"), None);
        assert_eq!(HoldState::Open.end(10, None), None);
        assert_eq!(
            HoldState::Captured.end(10, Some(4)),
            Some(HoldEnd::Captured(4))
        );
        assert_eq!(
            HoldState::Captured.end(10, None),
            Some(HoldEnd::Captured(10))
        );
        assert_eq!(HoldState::Expired.end(10, None), Some(HoldEnd::Expired));
    }

    fn request(amount: i64) -> HoldRequest {
        HoldRequest {
            account: 1,
            amount: Credits::from_minor(amount),
            description: "  OCR  ".into(),
            ttl_hours: None,
            idempotency_key: None,
        }
    }

    #[test]
    fn a_hold_request_is_checked_field_by_field() {
        let new = NewHold::parse(request(5)).expect("valid");
        assert_eq!(
            (new.ttl_hours, new.description.clone()),
            (DEFAULT_TTL_HOURS, Note::from("OCR"))
        );
        assert_eq!(new.expires_at(1_000), 1_000 + DEFAULT_TTL_HOURS * 3_600_000);
        let field = |r: HoldRequest| NewHold::parse(r).expect_err("invalid").field;
        assert_eq!(field(request(0)), "amount");
        assert_eq!(field(request(-1)), "amount");
        assert_eq!(
            field(HoldRequest {
                ttl_hours: Some(0),
                ..request(1)
            }),
            "ttl"
        );
        assert_eq!(
            field(HoldRequest {
                ttl_hours: Some(MAX_TTL_HOURS + 1),
                ..request(1)
            }),
            "ttl"
        );
        assert_eq!(
            field(HoldRequest {
                description: "x".repeat(DESCRIPTION_MAX + 1).into(),
                ..request(1)
            }),
            "description"
        );
        assert_eq!(
            field(HoldRequest {
                idempotency_key: Some(String::new()),
                ..request(1)
            }),
            "idempotency_key"
        );
        assert_eq!(
            field(HoldRequest {
                idempotency_key: Some("k".repeat(IDEMPOTENCY_KEY_MAX + 1)),
                ..request(1)
            }),
            "idempotency_key"
        );
    }

    #[test]
    fn adjustments_need_a_reason_and_no_credit_exceeds_the_maximum() {
        let adjust = |amount: i64, reason: &str| {
            NewCredit::parse(
                1,
                EntryKind::Adjustment,
                Credits::from_minor(amount),
                reason,
            )
        };
        assert_eq!(
            adjust(-5, " refund ").map(|c| c.description),
            Ok("refund".into())
        );
        assert_eq!(adjust(5, "  ").expect_err("no reason").field, "reason");
        assert_eq!(
            adjust(-(credits::MAX.minor() + 1), "x")
                .expect_err("too large")
                .field,
            "amount"
        );
        assert!(NewCredit::parse(1, EntryKind::Purchase, Credits::from_minor(5), "").is_ok());
    }

    /// Entry 7: a capture of `spent` on account 1, through hold 3.
    fn capture_entry(spent: i64) -> ReversibleEntry {
        ReversibleEntry {
            id: 7,
            account: 1,
            kind: EntryKind::Capture,
            amount: -spent,
            hold: Some(3),
        }
    }

    fn reversal(amount: Option<i64>) -> NewReversal {
        NewReversal::parse(1, 7, amount.map(Credits::from_minor), "wrong number").unwrap()
    }

    #[test]
    fn a_reversal_gives_back_all_or_part_of_a_capture_as_one_entry() {
        let mut book = book_with(100);
        let entry = book.reverse(&capture_entry(30), &reversal(None)).unwrap();
        assert_eq!(
            (entry.kind, entry.amount, entry.held_delta, entry.hold),
            (EntryKind::Reversal, 30, 0, Some(3))
        );
        assert_eq!(entry.description, "wrong number".into());
        let entry = book
            .reverse(&capture_entry(30), &reversal(Some(12)))
            .unwrap();
        assert_eq!(entry.amount, 12);
        assert_eq!(book.account(1).unwrap().balance, 142);
    }

    #[test]
    fn a_reversal_is_refused_beyond_the_capture_or_off_a_capture_and_changes_nothing() {
        let mut book = book_with(100);
        let err = book
            .reverse(&capture_entry(30), &reversal(Some(31)))
            .unwrap_err();
        let LedgerError::Invalid(field) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (field.field.as_str(), field.message),
            ("amount", Msg::ErrReversalTooLarge)
        );
        let purchase = ReversibleEntry {
            kind: EntryKind::Purchase,
            amount: 500,
            ..capture_entry(0)
        };
        assert!(matches!(
            book.reverse(&purchase, &reversal(None)),
            Err(LedgerError::Invalid(e)) if e.field == "entry"
        ));
        let elsewhere = NewReversal {
            account: 2,
            ..reversal(None)
        };
        assert_eq!(
            book.reverse(&capture_entry(30), &elsewhere),
            Err(LedgerError::UnknownEntry)
        );
        assert_eq!(book.account(1).unwrap().balance, 100);
    }

    #[test]
    fn a_repeated_reversal_answers_the_first_and_a_different_one_conflicts() {
        let capture = capture_entry(30);
        assert_eq!(
            repeat_reversal(&capture, 30, None),
            Ok(Credits::from_minor(30))
        );
        assert_eq!(
            repeat_reversal(&capture, 12, Some(Credits::from_minor(12))),
            Ok(Credits::from_minor(12))
        );
        assert_eq!(
            repeat_reversal(&capture, 12, None),
            Err(LedgerError::Conflict(Conflict::ReversedFor(
                Credits::from_minor(12)
            )))
        );
    }

    #[test]
    fn a_reversal_needs_a_reason_and_a_positive_amount() {
        let parse = |amount: i64, reason: &str| {
            NewReversal::parse(1, 7, Some(Credits::from_minor(amount)), reason)
        };
        assert_eq!(parse(5, "  ").unwrap_err().field, "reason");
        assert_eq!(parse(0, "why").unwrap_err().field, "amount");
        assert_eq!(parse(-5, "why").unwrap_err().field, "amount");
        assert!(parse(5, " why ").is_ok());
    }

    #[test]
    fn a_refund_takes_back_only_available_credits() {
        let mut book = book_with(100);
        place(&mut book, new_hold(30, "t", 1_000)).unwrap();
        assert_eq!(
            book.refund(1, Credits::from_minor(71), "back"),
            Err(LedgerError::InsufficientCredits {
                available: Credits::from_minor(70),
                required: Credits::from_minor(71),
            })
        );
        let entry = book.refund(1, Credits::from_minor(70), "back").unwrap();
        assert_eq!(
            (entry.kind, entry.amount, entry.held_delta),
            (EntryKind::Refund, -70, 0)
        );
        assert_eq!(
            *book.account(1).unwrap(),
            Account {
                balance: 30,
                held: 30,
                disabled: false
            }
        );
        assert_eq!(
            book.refund(2, Credits::from_minor(1), "x"),
            Err(LedgerError::UnknownAccount)
        );
    }

    #[test]
    fn an_account_edit_trims_checks_and_sorts() {
        let token = "t".repeat(22);
        let edit = AccountEdit::parse(1, " SMS ", &format!(" {token}+disabled "), vec![3, 1, 3])
            .expect("valid");
        assert_eq!(
            (edit.name.as_str(), edit.companies.clone()),
            ("SMS", vec![1, 3])
        );
        assert!(edit.disabled());
        let field = |name: &str, token: &str| {
            AccountEdit::parse(1, name, token, vec![])
                .expect_err("invalid")
                .field
        };
        assert_eq!(field("", &token), "name");
        assert_eq!(field(&"n".repeat(129), &token), "name");
        assert_eq!(field("SMS", "short"), "token");
        assert_eq!(field("SMS", &format!("{token} x")), "token");
    }
}
