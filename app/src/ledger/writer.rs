//! The single ledger writer: batches queued operations into one durable transaction.

use super::store::{self, EntryRow, HoldRow};
use super::{AccountEdit, Clock, Command, HoldRequest, Job, Reply};
use super::{DEFAULT_TTL_HOURS, DESCRIPTION_MAX, MAX_TTL_HOURS, is_disabled_token, new_token};
use crate::domain::credits::Credits;
use crate::domain::ledger::{
    AccountId, Book, Entry, EntryKind, LedgerError, NewHold, OpenHold, repeat_cancel,
    repeat_capture,
};
use crate::domain::warning::{WarningFacts, WarningSettings};
use crate::i18n::{Msg, t, tf};
use crate::models::order_reference;
use sha2::{Digest, Sha256};
use sqlx::{Connection, SqliteConnection};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio::sync::mpsc;

/// The most operations one transaction carries.
pub const MAX_BATCH: usize = 512;

/// What the writer remembers about an account besides its figures, to choose accounts.
struct Meta {
    service: String,
    companies: Vec<i64>,
}

pub struct Writer {
    conn: SqliteConnection,
    clock: Clock,
    book: Book,
    meta: HashMap<AccountId, Meta>,
    /// Low-credit warning settings by account, checked after every operation.
    warnings: HashMap<AccountId, WarningSettings>,
    /// Where iapd is reached, for the pack store link in warning mails.
    public_url: String,
}

/// Everything a batch will write, accumulated while its operations are applied.
#[derive(Default)]
struct Pending {
    holds: BTreeMap<i64, HoldRow>,
    closed_by_token: HashMap<String, i64>,
    entries: Vec<EntryRow>,
    /// Idempotency keys used in this batch: key → (request digest, token).
    keys: HashMap<String, (String, String)>,
}

impl Pending {
    fn entry(&mut self, entry: Entry, by: Option<i64>, now: i64) {
        self.entries.push(EntryRow {
            entry,
            created_by: by,
            created_at: now,
        });
    }

    fn hold(&mut self, hold: OpenHold, state: &'static str, captured: Option<i64>, now: i64) {
        let closed_at = (state != "open").then_some(now);
        if closed_at.is_some() {
            self.closed_by_token.insert(hold.token.clone(), hold.id);
        }
        self.holds.insert(
            hold.id,
            HoldRow {
                hold,
                state,
                captured,
                closed_at,
            },
        );
    }

    /// A hold this batch already closed, as a repeat would need to see it.
    fn closed(&self, token: &str) -> Option<(i64, crate::domain::ledger::HoldEnd)> {
        use crate::domain::ledger::HoldEnd;
        let row = self.holds.get(self.closed_by_token.get(token)?)?;
        let end = match row.state {
            "captured" => HoldEnd::Captured(row.captured.unwrap_or(row.hold.amount)),
            "released" => HoldEnd::Released,
            _ => HoldEnd::Expired,
        };
        Some((row.hold.amount, end))
    }
}

impl Writer {
    pub async fn load(
        conn: SqliteConnection,
        clock: Clock,
        public_url: &str,
    ) -> Result<Self, sqlx::Error> {
        let mut writer = Writer {
            conn,
            clock,
            book: Book::new(),
            meta: HashMap::new(),
            warnings: HashMap::new(),
            public_url: public_url.trim_end_matches('/').to_owned(),
        };
        writer.reload().await?;
        Ok(writer)
    }

    /// Rebuilds the book from the database, the authority after any failed batch.
    async fn reload(&mut self) -> Result<(), sqlx::Error> {
        let mut book = Book::new();
        let mut meta = HashMap::new();
        for row in store::load_accounts(&mut self.conn).await? {
            book.load_account(row.id, row.account());
            meta.insert(
                row.id,
                Meta {
                    companies: row.company_ids(),
                    service: row.service,
                },
            );
        }
        for hold in store::load_open_holds(&mut self.conn).await? {
            book.load_hold(hold);
        }
        book.reserve_hold_ids_from(store::next_hold_id(&mut self.conn).await?);
        let warnings = crate::db::warnings::all(&mut self.conn).await?;
        self.book = book;
        self.meta = meta;
        self.warnings = warnings.into_iter().collect();
        Ok(())
    }

    pub async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = queue.recv().await {
            jobs.push(first);
            while jobs.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            self.batch(&mut jobs).await;
        }
        tracing::info!("ledger writer stopped");
    }

    #[tracing::instrument(skip_all, fields(size = jobs.len()))]
    async fn batch(&mut self, jobs: &mut Vec<Job>) {
        let now = (self.clock)();
        let results = match self.apply(jobs, now).await {
            Ok(results) => results,
            Err(error) => {
                tracing::error!(%error, "ledger batch failed; rolled back and reloading");
                if let Err(error) = self.reload().await {
                    tracing::error!(%error, "cannot reload the ledger");
                }
                jobs.iter().map(|_| Err(LedgerError::Storage)).collect()
            }
        };
        for (job, result) in jobs.drain(..).zip(results) {
            // A caller that gave up waiting is not an error.
            let _ = job.reply.send(result);
        }
    }

    /// Applies the jobs to the book and writes them in one transaction. Any database error
    /// aborts the transaction; the caller then reloads the book.
    async fn apply(
        &mut self,
        jobs: &[Job],
        now: i64,
    ) -> Result<Vec<Result<Reply, LedgerError>>, sqlx::Error> {
        let Writer {
            conn,
            book,
            meta,
            warnings,
            public_url,
            ..
        } = self;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let mut pending = Pending::default();
        for (hold, entry) in book.expire_due(now) {
            pending.hold(hold, "expired", None, now);
            pending.entry(entry, None, now);
        }
        let mut results = Vec::with_capacity(jobs.len());
        for job in jobs {
            // Each operation is judged on its own, so a batch that crosses, recovers and
            // crosses again warns twice, as separate transactions would.
            let first_entry = pending.entries.len();
            let mut op = Op {
                conn: &mut tx,
                book,
                meta,
                warnings,
                public_url,
                pending: &mut pending,
                now,
            };
            results.push(op.run(&job.command).await?);
            let crossed = crossings(book, warnings, &pending.entries[first_entry..]);
            for (account, available) in crossed {
                if let Some(settings) = warnings.get(&account) {
                    queue_warning(&mut tx, account, settings, available, public_url, now).await?;
                }
            }
        }
        let touched: BTreeSet<AccountId> =
            pending.entries.iter().map(|e| e.entry.account).collect();
        let balances: Vec<_> = touched
            .into_iter()
            .filter_map(|id| book.account(id).map(|a| (id, *a)))
            .collect();
        let holds: Vec<HoldRow> = pending.holds.into_values().collect();
        store::write_batch(&mut tx, &holds, &pending.entries, &balances).await?;
        tx.commit().await?;
        Ok(results)
    }
}

/// The accounts whose available credits `entries` (one operation's) took from at or above
/// their warning threshold to below it, with the available credits they were left with.
fn crossings(
    book: &Book,
    warnings: &HashMap<AccountId, WarningSettings>,
    entries: &[EntryRow],
) -> Vec<(AccountId, i64)> {
    let mut change: BTreeMap<AccountId, i64> = BTreeMap::new();
    for row in entries {
        if warnings.get(&row.entry.account).is_some_and(|w| w.enabled) {
            *change.entry(row.entry.account).or_default() +=
                row.entry.amount - row.entry.held_delta;
        }
    }
    change
        .into_iter()
        .filter_map(|(account, delta)| {
            let after = book.account(account)?.available();
            let settings = warnings.get(&account)?;
            settings
                .crossed(after - delta, after)
                .then_some((account, after))
        })
        .collect()
}

/// Writes the warning mail for `account` into the outbox, inside the batch's transaction.
async fn queue_warning(
    conn: &mut SqliteConnection,
    account: AccountId,
    settings: &WarningSettings,
    available: i64,
    public_url: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let Some(about) = store::warning_subject(conn, account).await? else {
        return Ok(());
    };
    let facts = WarningFacts {
        account_id: account,
        account_name: about.name,
        service_label: about.service_label,
        unit_name: about.unit_name,
        whole_number: about.whole_number,
        available,
        threshold: settings.threshold,
        public_url: public_url.to_owned(),
    };
    let mail = facts.mail(settings.emails.clone());
    let id = crate::db::outbox::insert(conn, Some(account), &mail, now).await?;
    tracing::info!(
        account,
        mail = id,
        available,
        threshold = settings.threshold,
        "low-credit warning queued"
    );
    Ok(())
}

/// One operation of a batch, with what it may touch.
struct Op<'a> {
    conn: &'a mut SqliteConnection,
    book: &'a mut Book,
    meta: &'a mut HashMap<AccountId, Meta>,
    warnings: &'a mut HashMap<AccountId, WarningSettings>,
    public_url: &'a str,
    pending: &'a mut Pending,
    now: i64,
}

impl Op<'_> {
    /// The outer `Result` is a database failure (the batch aborts); the inner one is this
    /// operation's answer.
    async fn run(&mut self, command: &Command) -> Result<Result<Reply, LedgerError>, sqlx::Error> {
        Ok(match command {
            Command::Hold(request) => self.hold(request).await?.map(Reply::Token),
            Command::Capture { token, amount } => {
                self.capture(token, *amount).await?.map(Reply::Captured)
            }
            Command::Cancel { token } => self.cancel(token).await?.map(|()| Reply::Done),
            Command::Credit {
                account,
                kind,
                amount,
                description,
                by,
            } => self
                .credit(*account, *kind, *amount, description, *by)
                .map(|()| Reply::Done),
            Command::Resolve { service, company } => {
                self.resolve(service, *company).await?.map(Reply::Account)
            }
            Command::Edit(edit) => self.edit(edit).await?.map(|()| Reply::Done),
            Command::PaymentSucceeded {
                order,
                provider,
                reference,
            } => self
                .payment_succeeded(*order, provider, reference)
                .await?
                .map(|()| Reply::Done),
            Command::ConfigureWarning { account, settings } => self
                .configure_warning(*account, settings)
                .await?
                .map(|()| Reply::Done),
            Command::Sweep => Ok(Reply::Done),
        })
    }

    async fn hold(
        &mut self,
        request: &HoldRequest,
    ) -> Result<Result<String, LedgerError>, sqlx::Error> {
        let amount = match request.amount.positive() {
            Ok(amount) => amount,
            Err(e) => return Ok(Err(invalid("amount", &e.to_string()))),
        };
        let ttl = request.ttl_hours.unwrap_or(DEFAULT_TTL_HOURS);
        if !(1..=MAX_TTL_HOURS).contains(&ttl) {
            return Ok(Err(invalid(
                "ttl",
                &tf(Msg::ErrTtl, &[&MAX_TTL_HOURS.to_string()]),
            )));
        }
        let description = request.description.trim();
        if description.chars().count() > DESCRIPTION_MAX {
            return Ok(Err(invalid(
                "description",
                &tf(Msg::ErrTooLong, &[&DESCRIPTION_MAX.to_string()]),
            )));
        }
        let idempotency = match &request.idempotency_key {
            None => None,
            Some(key) if key.is_empty() || key.len() > 128 => {
                return Ok(Err(invalid("idempotency_key", t(Msg::ErrIdempotencyKey))));
            }
            Some(key) => {
                let digest = request_digest(request.account, amount, description, ttl);
                let earlier = match self.pending.keys.get(key) {
                    Some((hash, token)) => Some((token.clone(), hash.clone())),
                    None => store::hold_by_key(self.conn, key).await?,
                };
                if let Some((token, hash)) = earlier {
                    return Ok(if hash == digest {
                        Ok(token)
                    } else {
                        Err(LedgerError::Conflict(t(Msg::ErrIdempotencyConflict).into()))
                    });
                }
                Some((key.clone(), digest))
            }
        };
        let token = format!("{}.{}", self.book.next_hold_id(), new_token());
        let new = NewHold {
            account: request.account,
            amount,
            expires_at: self.now.saturating_add(ttl * 3_600_000),
            token: token.clone(),
            description: description.to_owned(),
            created_at: self.now,
            idempotency: idempotency.clone(),
        };
        Ok(self.book.hold(new).map(|(id, entry)| {
            if let Some((key, digest)) = idempotency {
                self.pending.keys.insert(key, (digest, token.clone()));
            }
            if let Some(hold) = self.book.open_hold(&token).cloned() {
                debug_assert_eq!(hold.id, id);
                self.pending.hold(hold, "open", None, self.now);
            }
            self.pending.entry(entry, None, self.now);
            token
        }))
    }

    async fn capture(
        &mut self,
        token: &str,
        amount: Option<Credits>,
    ) -> Result<Result<Credits, LedgerError>, sqlx::Error> {
        if self.book.open_hold(token).is_some() {
            return Ok(self
                .book
                .capture(token, amount)
                .map(|(hold, taken, entry)| {
                    self.pending.hold(hold, "captured", Some(taken), self.now);
                    self.pending.entry(entry, None, self.now);
                    Credits::from_minor(taken)
                }));
        }
        Ok(match self.closed(token).await? {
            Some((held, end)) => repeat_capture(end, held, amount).map(Credits::from_minor),
            None => Err(LedgerError::UnknownHold),
        })
    }

    async fn cancel(&mut self, token: &str) -> Result<Result<(), LedgerError>, sqlx::Error> {
        if self.book.open_hold(token).is_some() {
            return Ok(self.book.cancel(token).map(|(hold, entry)| {
                self.pending.hold(hold, "released", None, self.now);
                self.pending.entry(entry, None, self.now);
            }));
        }
        Ok(match self.closed(token).await? {
            Some((_, end)) => repeat_cancel(end),
            None => Err(LedgerError::UnknownHold),
        })
    }

    async fn closed(
        &mut self,
        token: &str,
    ) -> Result<Option<(i64, crate::domain::ledger::HoldEnd)>, sqlx::Error> {
        match self.pending.closed(token) {
            Some(found) => Ok(Some(found)),
            None => store::closed_hold(self.conn, token).await,
        }
    }

    fn credit(
        &mut self,
        account: AccountId,
        kind: EntryKind,
        amount: Credits,
        description: &str,
        by: Option<i64>,
    ) -> Result<(), LedgerError> {
        if amount.minor().unsigned_abs() > crate::domain::credits::MAX.minor().unsigned_abs() {
            return Err(invalid("amount", t(Msg::ErrAmountTooLarge)));
        }
        let description = description.trim();
        if kind == EntryKind::Adjustment && description.is_empty() {
            return Err(invalid("reason", t(Msg::ErrReasonRequired)));
        }
        if description.chars().count() > DESCRIPTION_MAX {
            return Err(invalid(
                "reason",
                &tf(Msg::ErrTooLong, &[&DESCRIPTION_MAX.to_string()]),
            ));
        }
        let entry = self.book.credit(account, kind, amount, description)?;
        self.pending.entry(entry, by, self.now);
        Ok(())
    }

    /// Odoo's rule: among the service's accounts usable by `company`, one restricted to it
    /// beats a shared one, and the newest wins among equals; none means a new shared account.
    async fn resolve(
        &mut self,
        service: &str,
        company: i64,
    ) -> Result<Result<AccountId, LedgerError>, sqlx::Error> {
        let best = self
            .meta
            .iter()
            .filter(|(_, m)| {
                m.service == service && (m.companies.is_empty() || m.companies.contains(&company))
            })
            .max_by_key(|(id, m)| (m.companies.contains(&company), **id))
            .map(|(id, _)| *id);
        if let Some(id) = best {
            return Ok(Ok(id));
        }
        let Some(svc) = store::service(self.conn, service).await? else {
            return Ok(Err(invalid(
                "service",
                &tf(Msg::ErrUnknownService, &[service]),
            )));
        };
        let id =
            store::insert_account(self.conn, service, &svc.label, &new_token(), self.now).await?;
        self.book.load_account(id, Default::default());
        self.meta.insert(
            id,
            Meta {
                service: service.to_owned(),
                companies: Vec::new(),
            },
        );
        if svc.trial_credits > 0
            && store::grants_trials(self.conn).await?
            && store::claim_trial(self.conn, service, id, self.now).await?
        {
            let trial = self.book.credit(
                id,
                EntryKind::Trial,
                Credits::from_minor(svc.trial_credits),
                t(Msg::KindTrial),
            );
            match trial {
                Ok(entry) => self.pending.entry(entry, None, self.now),
                Err(error) => tracing::error!(%error, service, "cannot grant trial credits"),
            }
        }
        tracing::info!(service, account = id, "created IAP account on first use");
        Ok(Ok(id))
    }

    async fn edit(&mut self, edit: &AccountEdit) -> Result<Result<(), LedgerError>, sqlx::Error> {
        if !self.meta.contains_key(&edit.account) {
            return Ok(Err(LedgerError::UnknownAccount));
        }
        let name = edit.name.trim();
        if name.is_empty() || name.chars().count() > 128 {
            return Ok(Err(invalid("name", t(Msg::ErrAccountName))));
        }
        let token = edit.token.trim();
        if token.len() < 22
            || token.len() > 128
            || token.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Ok(Err(invalid("token", t(Msg::ErrToken))));
        }
        let mut companies = edit.companies.clone();
        companies.sort_unstable();
        companies.dedup();
        if store::count_companies(self.conn, &companies).await? != companies.len() as i64 {
            return Ok(Err(invalid("companies", t(Msg::ErrCompanyMissing))));
        }
        if store::token_taken(self.conn, token, edit.account).await? {
            return Ok(Err(invalid("token", t(Msg::ErrTokenTaken))));
        }
        store::update_account(self.conn, edit.account, name, token, &companies).await?;
        if let Err(error) = self
            .book
            .set_disabled(edit.account, is_disabled_token(token))
        {
            return Ok(Err(error));
        }
        if let Some(meta) = self.meta.get_mut(&edit.account) {
            meta.companies = companies;
        }
        Ok(Ok(()))
    }
}

impl Op<'_> {
    async fn payment_succeeded(
        &mut self,
        order: i64,
        provider: &str,
        reference: &str,
    ) -> Result<Result<(), LedgerError>, sqlx::Error> {
        let Some(row) = store::order_for_payment(self.conn, order).await? else {
            return Ok(Err(LedgerError::UnknownHold));
        };
        match row.state.as_str() {
            "paid"
                if row.provider.as_deref() == Some(provider)
                    && row.provider_reference.as_deref() == Some(reference) =>
            {
                return Ok(Ok(()));
            }
            "paid" => {
                return Ok(Err(LedgerError::Conflict(t(Msg::ErrOrderPaid).into())));
            }
            "failed" => {
                return Ok(Err(LedgerError::Conflict(t(Msg::ErrOrderFailed).into())));
            }
            _ => {}
        }
        if store::reference_used(self.conn, provider, reference).await? {
            return Ok(Err(LedgerError::Conflict(t(Msg::ErrPaymentReused).into())));
        }
        let description = tf(Msg::OrderEntry, &[&order_reference(order), &row.pack_name]);
        let entry = match self.book.credit(
            row.account_id,
            EntryKind::Purchase,
            Credits::from_minor(row.credits),
            &description,
        ) {
            Ok(entry) => entry,
            Err(error) => return Ok(Err(error)),
        };
        store::mark_paid(self.conn, order, provider, reference, self.now).await?;
        self.pending.entry(entry, Some(row.created_by), self.now);
        Ok(Ok(()))
    }
}

impl Op<'_> {
    /// Saves the settings and, when Warn Me now covers an account already below the line
    /// that had not been warned about it, queues that warning at once.
    async fn configure_warning(
        &mut self,
        account: AccountId,
        settings: &WarningSettings,
    ) -> Result<Result<(), LedgerError>, sqlx::Error> {
        let Some(available) = self.book.account(account).map(|a| a.available()) else {
            return Ok(Err(LedgerError::UnknownAccount));
        };
        let settings = match settings.clone().validate() {
            Ok(settings) => settings,
            Err(error) => return Ok(Err(invalid(error.field, &error.message))),
        };
        let old = self.warnings.get(&account).cloned().unwrap_or_default();
        crate::db::warnings::save(self.conn, account, &settings, self.now).await?;
        if settings.warns_on_save(&old, available) {
            queue_warning(
                self.conn,
                account,
                &settings,
                available,
                self.public_url,
                self.now,
            )
            .await?;
        }
        self.warnings.insert(account, settings);
        Ok(Ok(()))
    }
}

fn invalid(field: &'static str, message: &str) -> LedgerError {
    LedgerError::Invalid {
        field,
        message: message.to_owned(),
    }
}

/// Identifies a hold request, so a reused idempotency key with other content is caught.
fn request_digest(account: AccountId, amount: Credits, description: &str, ttl: i64) -> String {
    let digest = Sha256::digest(format!(
        "{account}\n{}\n{ttl}\n{description}",
        amount.minor()
    ));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
