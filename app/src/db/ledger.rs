//! The SQL behind the ledger writer, and the consistency check. Only the writer calls the
//! functions that change balances; [`check`] and the reads may run anywhere.

use crate::db::Backend;
use crate::domain::ledger::{
    Account, AccountId, Entry, EntryKind, HoldEnd, HoldId, HoldState, OpenHold, ReversibleEntry,
};
use crate::domain::order::OrderState;
use crate::i18n::Note;
use sqlx::{AnyConnection, AssertSqlSafe};
use tracing::instrument;

/// An account as the writer loads it.
#[derive(Debug, sqlx::FromRow, serde::Deserialize)]
pub struct AccountRow {
    pub id: AccountId,
    pub service: String,
    pub token: String,
    pub balance: i64,
    pub held: i64,
    /// The stamp of the batch that last wrote it.
    pub ledger_version: i64,
    /// JSON array of company ids; empty for a shared account.
    pub companies: String,
}

impl AccountRow {
    pub fn account(&self) -> Account {
        Account {
            balance: self.balance,
            held: self.held,
            disabled: crate::domain::ledger::is_disabled_token(&self.token),
        }
    }

    pub fn company_ids(&self) -> Vec<i64> {
        serde_json::from_str(&self.companies).unwrap_or_default()
    }
}

const ACCOUNT_COLUMNS: &str =
    "SELECT id, service, token, balance, held, ledger_version, companies FROM ledger_account_rows";

/// Every account, for a writer's full load.
#[instrument(level = "debug", skip_all)]
pub async fn load_accounts(conn: &mut AnyConnection) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as(ACCOUNT_COLUMNS).fetch_all(conn).await
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct OpenHoldRow {
    id: i64,
    account_id: i64,
    amount: i64,
    captured: Option<i64>,
    expires_at: i64,
    token: String,
    description: String,
    note: Option<String>,
    created_at: i64,
    idempotency_key: Option<String>,
    request_hash: Option<String>,
}

impl OpenHoldRow {
    fn into_hold(self) -> OpenHold {
        OpenHold {
            id: self.id,
            account: self.account_id,
            amount: self.amount,
            captured: self.captured.unwrap_or(0),
            expires_at: self.expires_at,
            token: self.token,
            description: Note::from_stored(self.description, self.note.as_deref()),
            created_at: self.created_at,
            idempotency: self.idempotency_key.zip(self.request_hash),
        }
    }
}

const HOLD_COLUMNS: &str = "SELECT id, account_id, amount, captured, expires_at, token,
        description, note, created_at, idempotency_key, request_hash FROM ledger_open_holds";

/// Every open hold, for a writer's full load.
#[instrument(level = "debug", skip_all)]
pub async fn load_open_holds(conn: &mut AnyConnection) -> Result<Vec<OpenHold>, sqlx::Error> {
    let rows: Vec<OpenHoldRow> = sqlx::query_as(HOLD_COLUMNS).fetch_all(conn).await?;
    Ok(rows.into_iter().map(OpenHoldRow::into_hold).collect())
}

/// The open holds of `accounts`.
#[instrument(level = "debug", skip_all)]
async fn open_holds_of(
    conn: &mut AnyConnection,
    accounts: &[AccountId],
) -> Result<Vec<OpenHold>, sqlx::Error> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<OpenHoldRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{HOLD_COLUMNS} WHERE account_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))"
    )))
    .bind(crate::db::id_list(accounts))
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(OpenHoldRow::into_hold).collect())
}

/// How many hold ids a writer reserves at a time (migrations: `hold_id_block`, `hold_block`).
pub const HOLD_ID_BLOCK: i64 = 4_096;

/// Reserves a block of hold ids that no other writer will use, now or later.
#[instrument(level = "debug", skip_all)]
pub async fn reserve_hold_ids(
    conn: &mut AnyConnection,
) -> Result<std::ops::Range<HoldId>, sqlx::Error> {
    let block: i64 = match Backend::of(conn) {
        Backend::Postgres => {
            sqlx::query_scalar("SELECT nextval('hold_id_block')")
                .fetch_one(conn)
                .await?
        }
        Backend::Sqlite => {
            sqlx::query_scalar(
                "UPDATE ledger_sync SET hold_block = hold_block + 1 WHERE id = 1
                 RETURNING hold_block - 1",
            )
            .fetch_one(conn)
            .await?
        }
    };
    Ok(block * HOLD_ID_BLOCK..(block + 1) * HOLD_ID_BLOCK)
}

/// A ledger batch as opened: its stamp, the alerts version it saw, and the accounts another
/// writer changed behind this one's book, with their open holds, as they stand now.
#[derive(Debug)]
pub struct Opened {
    pub stamp: i64,
    pub alerts_version: i64,
    pub accounts: Vec<AccountRow>,
    pub holds: Vec<OpenHold>,
}

/// What a batch that touches only some accounts locks (PostgreSQL migration 0004).
pub struct Wanted<'a> {
    /// Its accounts, each with the stamp the writer's book knows (-1: an unknown account).
    pub known: &'a [(AccountId, i64)],
    /// Holds the writer does not know, by id and token: their accounts are locked too.
    pub tokens: &'a [(HoldId, &'a str)],
    /// The idempotency keys it places holds under.
    pub keys: &'a [&'a str],
}

/// Opens a batch that touches only the accounts of `wanted`, beside other writers' batches
/// on other accounts: locks them, takes the batch's stamp, and returns those that another
/// writer changed. On PostgreSQL this is one round trip (`ledger_open_shared`); on SQLite,
/// whose writers take turns, it is the same steps without the locks.
#[instrument(level = "debug", skip_all)]
pub async fn open_shared(
    conn: &mut AnyConnection,
    wanted: Wanted<'_>,
) -> Result<Opened, sqlx::Error> {
    let json = |value: Result<String, serde_json::Error>| {
        value.map_err(|e| sqlx::Error::Encode(Box::new(e)))
    };
    let known = json(serde_json::to_string(wanted.known))?;
    let tokens = json(serde_json::to_string(wanted.tokens))?;
    if Backend::of(conn) == Backend::Postgres {
        let keys = json(serde_json::to_string(wanted.keys))?;
        let (stamp, alerts_version, accounts, holds): (i64, i64, String, String) =
            sqlx::query_as("SELECT * FROM ledger_open_shared($1, $2, $3)")
                .bind(known)
                .bind(tokens)
                .bind(keys)
                .fetch_one(conn)
                .await?;
        let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
        let holds: Vec<OpenHoldRow> = serde_json::from_str(&holds).map_err(decode)?;
        return Ok(Opened {
            stamp,
            alerts_version,
            accounts: serde_json::from_str(&accounts).map_err(decode)?,
            holds: holds.into_iter().map(OpenHoldRow::into_hold).collect(),
        });
    }
    let (stamp, alerts_version) = next_stamp(conn).await?;
    let mut candidates: Vec<(AccountId, i64)> = sqlx::query_as(
        "SELECT id, ledger_version FROM iap_accounts
         WHERE id IN (SELECT json_extract(value, '$[0]') FROM json_each($1))",
    )
    .bind(known)
    .fetch_all(&mut *conn)
    .await?;
    if !wanted.tokens.is_empty() {
        let of_holds: Vec<(AccountId, i64)> = sqlx::query_as(
            "SELECT a.id, a.ledger_version FROM holds h
             JOIN json_each($1) t ON h.id = json_extract(t.value, '$[0]')
                                 AND h.token = json_extract(t.value, '$[1]')
             JOIN iap_accounts a ON a.id = h.account_id",
        )
        .bind(tokens)
        .fetch_all(&mut *conn)
        .await?;
        candidates.extend(of_holds);
    }
    let known: std::collections::HashMap<AccountId, i64> = wanted.known.iter().copied().collect();
    stale_by_stamp(conn, stamp, alerts_version, candidates, |id| {
        known.get(&id).copied()
    })
    .await
}

/// Opens a batch that runs alone (every other writer's batch has then finished), takes its
/// stamp, and returns the accounts stamped after `since` (the writer's last batch that ran
/// alone) whose stamp is not the one `known` gives (`None`: an account the book lacks).
#[instrument(level = "debug", skip(conn, known))]
pub async fn open_exclusive(
    conn: &mut AnyConnection,
    since: i64,
    known: impl Fn(AccountId) -> Option<i64>,
) -> Result<Opened, sqlx::Error> {
    let (stamp, alerts_version, rows) = if Backend::of(conn) == Backend::Postgres {
        let (stamp, alerts_version, accounts): (i64, i64, String) =
            sqlx::query_as("SELECT * FROM ledger_open_exclusive($1)")
                .bind(since)
                .fetch_one(&mut *conn)
                .await?;
        let rows: Vec<AccountRow> =
            serde_json::from_str(&accounts).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        (stamp, alerts_version, rows)
    } else {
        let (stamp, alerts_version) = next_stamp(conn).await?;
        let candidates: Vec<(AccountId, i64)> =
            sqlx::query_as("SELECT id, ledger_version FROM iap_accounts WHERE ledger_version > $1")
                .bind(since)
                .fetch_all(&mut *conn)
                .await?;
        return stale_by_stamp(conn, stamp, alerts_version, candidates, known).await;
    };
    stale(conn, stamp, alerts_version, rows, known).await
}

/// SQLite: of the accounts `candidates` (id, stamp), reads those whose stamp is not the one
/// `known` gives, with their open holds; a writer alone reads nothing more.
async fn stale_by_stamp(
    conn: &mut AnyConnection,
    stamp: i64,
    alerts_version: i64,
    candidates: Vec<(AccountId, i64)>,
    known: impl Fn(AccountId) -> Option<i64>,
) -> Result<Opened, sqlx::Error> {
    let ids: Vec<AccountId> = candidates
        .into_iter()
        .filter(|(id, stamp)| known(*id) != Some(*stamp))
        .map(|(id, _)| id)
        .collect();
    let rows =
        match ids.is_empty() {
            true => Vec::new(),
            false => sqlx::query_as(AssertSqlSafe(format!(
                "{ACCOUNT_COLUMNS} WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))"
            )))
            .bind(crate::db::id_list(&ids))
            .fetch_all(&mut *conn)
            .await?,
        };
    stale(conn, stamp, alerts_version, rows, known).await
}

/// Keeps the `rows` whose stamp is not the one `known` gives, and reads their open holds.
async fn stale(
    conn: &mut AnyConnection,
    stamp: i64,
    alerts_version: i64,
    mut rows: Vec<AccountRow>,
    known: impl Fn(AccountId) -> Option<i64>,
) -> Result<Opened, sqlx::Error> {
    rows.retain(|row| known(row.id) != Some(row.ledger_version));
    let ids: Vec<AccountId> = rows.iter().map(|row| row.id).collect();
    Ok(Opened {
        stamp,
        alerts_version,
        holds: open_holds_of(conn, &ids).await?,
        accounts: rows,
    })
}

/// SQLite: the next stamp, and the alerts version. Its writers take turns, so the counter
/// row serialises nothing that is not already serial.
async fn next_stamp(conn: &mut AnyConnection) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "UPDATE ledger_sync SET version = version + 1 WHERE id = 1
         RETURNING version, alerts_version",
    )
    .fetch_one(conn)
    .await
}

/// Records that a batch changed what decides alerts, and returns the new alerts version:
/// the batch's writer knows it saw every change before its own only if this is one more
/// than the version its batch opened with.
#[instrument(level = "debug", skip(conn))]
pub async fn alerts_changed(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE ledger_sync SET alerts_version = alerts_version + 1 WHERE id = 1
         RETURNING alerts_version",
    )
    .fetch_one(conn)
    .await
}

/// The token and request digest of the hold made with this idempotency key, if any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hold_by_key(
    conn: &mut AnyConnection,
    key: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT token, COALESCE(request_hash, '') FROM holds WHERE idempotency_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// How a hold that is no longer open ended, and its amount.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn closed_hold(
    conn: &mut AnyConnection,
    token: &str,
) -> Result<Option<(i64, HoldEnd)>, sqlx::Error> {
    let Some(id) = crate::domain::ledger::hold_id_of(token) else {
        return Ok(None);
    };
    let row: Option<(i64, HoldState, Option<i64>)> = sqlx::query_as(
        "SELECT amount, state, captured FROM holds WHERE id = $1 AND token = $2 AND state <> 'open'",
    )
    .bind(id)
    .bind(token)
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|(amount, state, captured)| Some((amount, state.end(amount, captured)?))))
}

/// What creating an account needs to know about its service.
#[derive(Debug, sqlx::FromRow)]
pub struct ServiceRow {
    pub label: String,
    pub trial_credits: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn service(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<ServiceRow>, sqlx::Error> {
    sqlx::query_as("SELECT label, trial_credits FROM services WHERE technical_name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}

/// Whether this database's edition grants trial credits (Enterprise, which covers demo,
/// training, educational and one-app-free databases).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn grants_trials(conn: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    let edition = super::settings::get(conn, super::settings::EDITION).await?;
    Ok(edition.as_deref() == Some("Enterprise"))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_account(
    conn: &mut AnyConnection,
    service: &str,
    name: &str,
    token: &str,
    now: i64,
) -> Result<AccountId, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO iap_accounts (service, name, token, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(service)
    .bind(name)
    .bind(token)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Records the trial grant; `false` when this service already had its trial.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim_trial(
    conn: &mut AnyConnection,
    service: &str,
    account: AccountId,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("INSERT INTO trial_grants (service, account_id, granted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(service)
        .bind(account)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How many of `ids` are existing companies.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_companies(conn: &mut AnyConnection, ids: &[i64]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM companies WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))",
    )
    .bind(crate::db::id_list(ids))
    .fetch_one(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn token_taken(
    conn: &mut AnyConnection,
    token: &str,
    other_than: AccountId,
) -> Result<bool, sqlx::Error> {
    let hit: Option<i64> =
        sqlx::query_scalar("SELECT id FROM iap_accounts WHERE token = $1 AND id <> $2")
            .bind(token)
            .bind(other_than)
            .fetch_optional(conn)
            .await?;
    Ok(hit.is_some())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_account(
    conn: &mut AnyConnection,
    id: AccountId,
    name: &str,
    token: &str,
    companies: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE iap_accounts SET name = $1, token = $2 WHERE id = $3")
        .bind(name)
        .bind(token)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM iap_account_companies WHERE account_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO iap_account_companies (account_id, company_id)
         SELECT $1, CAST(value AS BIGINT) FROM json_each($2)",
    )
    .bind(id)
    .bind(crate::db::id_list(companies))
    .execute(conn)
    .await?;
    Ok(())
}

/// What a warning mail says about its account.
#[derive(Debug, sqlx::FromRow)]
pub struct WarningSubject {
    pub name: String,
    /// The service's technical name, which names it in the catalogue.
    pub service: String,
    pub service_label: String,
    pub unit_name: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub whole_number: bool,
    /// The language of the account's warning mails, when one was set.
    pub locale: Option<String>,
    /// Credits captured over the seven days before now, for the forecast.
    pub used_last_week: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn warning_subject(
    conn: &mut AnyConnection,
    account: AccountId,
    now: i64,
) -> Result<Option<WarningSubject>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(concat!(
        "SELECT a.name, a.service, s.label AS service_label, s.unit_name, s.whole_number,
                w.locale,
                ",
        crate::db::used_last_week!("$2"),
        " AS used_last_week
         FROM iap_accounts a JOIN services s ON s.technical_name = a.service
         LEFT JOIN iap_account_warnings w ON w.account_id = a.id
         WHERE a.id = $1"
    )))
    .bind(account)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// What crediting an order needs.
#[derive(Debug, sqlx::FromRow)]
pub struct OrderForPayment {
    pub account_id: AccountId,
    pub pack_name: String,
    pub credits: i64,
    pub state: OrderState,
    pub provider: Option<String>,
    pub provider_reference: Option<String>,
    pub created_by: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn order_for_payment(
    conn: &mut AnyConnection,
    order: i64,
) -> Result<Option<OrderForPayment>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, pack_name, credits, state, provider, provider_reference, created_by
         FROM orders WHERE id = $1",
    )
    .bind(order)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
/// Whether another order than `order` was paid or started paying with this reference.
pub async fn reference_used(
    conn: &mut AnyConnection,
    provider: &str,
    reference: &str,
    order: i64,
) -> Result<bool, sqlx::Error> {
    let hit: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM orders WHERE provider = $1 AND provider_reference = $2 AND id <> $3",
    )
    .bind(provider)
    .bind(reference)
    .bind(order)
    .fetch_optional(conn)
    .await?;
    Ok(hit.is_some())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_paid(
    conn: &mut AnyConnection,
    order: i64,
    provider: &str,
    reference: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE orders SET state = 'paid', provider = $1, provider_reference = $2, paid_at = $3
         WHERE id = $4 AND state IN ('draft', 'pending')",
    )
    .bind(provider)
    .bind(reference)
    .bind(now)
    .bind(order)
    .execute(conn)
    .await?;
    Ok(())
}

/// A hold in the state the batch leaves it in.
#[derive(Clone, Debug)]
pub struct HoldRow {
    pub hold: OpenHold,
    pub state: HoldState,
    pub captured: Option<i64>,
    pub closed_at: Option<i64>,
}

/// Ledger entry `id` as a reversal judges it, with what a reversal already gave back of it.
#[instrument(level = "debug", skip(conn))]
pub async fn reversible_entry(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<(ReversibleEntry, Option<i64>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        account_id: AccountId,
        kind: EntryKind,
        amount: i64,
        hold_id: Option<HoldId>,
        reversed: Option<i64>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT e.id, e.account_id, e.kind, e.amount, e.hold_id, r.amount AS reversed
         FROM ledger_entries e LEFT JOIN ledger_entries r ON r.reverses = e.id
         WHERE e.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| {
        let entry = ReversibleEntry {
            id: r.id,
            account: r.account_id,
            kind: r.kind,
            amount: r.amount,
            hold: r.hold_id,
        };
        (entry, r.reversed)
    }))
}

/// A ledger entry with who caused it and when.
#[derive(Clone, Debug)]
pub struct EntryRow {
    pub entry: Entry,
    pub created_by: Option<i64>,
    pub created_at: i64,
    /// The capture entry a reversal gives back from.
    pub reverses: Option<i64>,
    /// The order a refund (or the credits a refused refund gives back) belongs to.
    pub order: Option<i64>,
}

/// SQLite accepts at most 32,766 bound values per statement.
const MAX_PARAMS: usize = 32_000;

/// Writes a batch in a handful of statements, whatever its size: the holds it created,
/// changed (a partial capture, a later expiry) or closed, its ledger entries, and the new
/// balances of the accounts it touched.
#[instrument(level = "debug", skip_all, fields(holds = rows.holds.len(), entries = rows.entries.len()))]
pub async fn write_batch(conn: &mut AnyConnection, rows: BatchRows<'_>) -> Result<(), sqlx::Error> {
    match Backend::of(conn) {
        Backend::Postgres => write_batch_at_once(conn, rows).await,
        Backend::Sqlite => write_batch_by_table(conn, rows).await,
    }
}

/// What one batch writes, under its stamp.
#[derive(Clone, Copy)]
pub struct BatchRows<'a> {
    pub stamp: i64,
    pub holds: &'a [HoldRow],
    pub entries: &'a [EntryRow],
    pub balances: &'a [(AccountId, Account)],
}

/// A hold as `ledger_write_batch`'s JSON carries it: the columns of `holds`.
#[derive(serde::Serialize)]
struct HoldJson<'a> {
    id: i64,
    token: &'a str,
    account_id: i64,
    amount: i64,
    state: &'static str,
    captured: Option<i64>,
    description: String,
    note: Option<String>,
    expires_at: i64,
    idempotency_key: Option<&'a str>,
    request_hash: Option<&'a str>,
    created_at: i64,
    closed_at: Option<i64>,
}

/// An entry as the batch's JSON carries it: the columns of `ledger_entries`.
#[derive(serde::Serialize)]
struct EntryJson {
    account_id: i64,
    kind: &'static str,
    amount: i64,
    held_delta: i64,
    hold_id: Option<i64>,
    description: String,
    note: Option<String>,
    created_by: Option<i64>,
    created_at: i64,
    reverses: Option<i64>,
    order_id: Option<i64>,
}

/// An account's new figures as the batch's JSON carries them.
#[derive(serde::Serialize)]
struct BalanceJson {
    id: AccountId,
    balance: i64,
    held: i64,
}

/// PostgreSQL: the whole batch in one statement of fixed text, its rows passed as three
/// JSON arrays. A batch holds its locks from its first statement to its commit, so each
/// round trip inside it delays every batch waiting for them: one statement is one round
/// trip, where a statement per table was three, and more when a new row count meant a new
/// statement to prepare. (The `Any` driver binds no arrays, so `unnest` of
/// typed arrays is not available; `json_to_recordset` is its equivalent.) The entries may
/// name holds this statement inserts: foreign keys are checked at the statement's end.
async fn write_batch_at_once(
    conn: &mut AnyConnection,
    rows: BatchRows<'_>,
) -> Result<(), sqlx::Error> {
    let holds: Vec<HoldJson> = rows
        .holds
        .iter()
        .map(|h| {
            let (key, hash) = h
                .hold
                .idempotency
                .as_ref()
                .map(|(key, hash)| (key.as_str(), hash.as_str()))
                .unzip();
            HoldJson {
                id: h.hold.id,
                token: &h.hold.token,
                account_id: h.hold.account,
                amount: h.hold.amount,
                state: h.state.as_str(),
                captured: h.captured,
                description: h.hold.description.plain(),
                note: h.hold.description.stored(),
                expires_at: h.hold.expires_at,
                idempotency_key: key,
                request_hash: hash,
                created_at: h.hold.created_at,
                closed_at: h.closed_at,
            }
        })
        .collect();
    let entries: Vec<EntryJson> = rows
        .entries
        .iter()
        .map(|e| EntryJson {
            account_id: e.entry.account,
            kind: e.entry.kind.as_str(),
            amount: e.entry.amount,
            held_delta: e.entry.held_delta,
            hold_id: e.entry.hold,
            description: e.entry.description.plain(),
            note: e.entry.description.stored(),
            created_by: e.created_by,
            created_at: e.created_at,
            reverses: e.reverses,
            order_id: e.order,
        })
        .collect();
    let balances: Vec<BalanceJson> = rows
        .balances
        .iter()
        .map(|(id, a)| BalanceJson {
            id: *id,
            balance: a.balance,
            held: a.held,
        })
        .collect();
    let json = |value: Result<String, serde_json::Error>| {
        value.map_err(|e| sqlx::Error::Encode(Box::new(e)))
    };
    sqlx::query(
        "WITH h AS (
             INSERT INTO holds (id, token, account_id, amount, state, captured, description,
                                note, expires_at, idempotency_key, request_hash, created_at,
                                closed_at, ledger_version)
             SELECT id, token, account_id, amount, state, captured, description, note,
                    expires_at, idempotency_key, request_hash, created_at, closed_at, $4
             FROM json_to_recordset($1::json) AS x(id BIGINT, token TEXT, account_id BIGINT,
                 amount BIGINT, state TEXT, captured BIGINT, description TEXT, note TEXT,
                 expires_at BIGINT, idempotency_key TEXT, request_hash TEXT,
                 created_at BIGINT, closed_at BIGINT)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state,
                 captured = excluded.captured, expires_at = excluded.expires_at,
                 closed_at = excluded.closed_at, ledger_version = excluded.ledger_version
         ), e AS (
             INSERT INTO ledger_entries (account_id, kind, amount, held_delta, hold_id,
                                         description, note, created_by, created_at, reverses,
                                         order_id)
             SELECT account_id, kind, amount, held_delta, hold_id, description, note,
                    created_by, created_at, reverses, order_id
             FROM ROWS FROM (json_to_recordset($2::json) AS (account_id BIGINT, kind TEXT,
                 amount BIGINT, held_delta BIGINT, hold_id BIGINT, description TEXT,
                 note TEXT, created_by BIGINT, created_at BIGINT, reverses BIGINT,
                 order_id BIGINT)) WITH ORDINALITY AS x
             ORDER BY x.ordinality
         )
         UPDATE iap_accounts SET balance = x.balance, held = x.held, ledger_version = $4
         FROM json_to_recordset($3::json) AS x(id BIGINT, balance BIGINT, held BIGINT)
         WHERE iap_accounts.id = x.id",
    )
    .bind(json(serde_json::to_string(&holds))?)
    .bind(json(serde_json::to_string(&entries))?)
    .bind(json(serde_json::to_string(&balances))?)
    .bind(rows.stamp)
    .execute(conn)
    .await?;
    Ok(())
}

/// SQLite: a statement per table (in-process, so statements cost no round trip).
async fn write_batch_by_table(
    conn: &mut AnyConnection,
    rows: BatchRows<'_>,
) -> Result<(), sqlx::Error> {
    let BatchRows {
        stamp: version,
        holds,
        entries,
        balances,
    } = rows;
    for chunk in holds.chunks(MAX_PARAMS / 14) {
        let sql = format!(
            "INSERT INTO holds (id, token, account_id, amount, state, captured, description,
                                note, expires_at, idempotency_key, request_hash, created_at,
                                closed_at, ledger_version) {}
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, captured = excluded.captured,
                 expires_at = excluded.expires_at, closed_at = excluded.closed_at,
                 ledger_version = excluded.ledger_version",
            crate::db::values_list(chunk.len(), 14)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for h in chunk {
            let (key, hash) = h.hold.idempotency.clone().unzip();
            q = q
                .bind(h.hold.id)
                .bind(h.hold.token.clone())
                .bind(h.hold.account)
                .bind(h.hold.amount)
                .bind(h.state)
                .bind(h.captured)
                .bind(h.hold.description.plain())
                .bind(h.hold.description.stored())
                .bind(h.hold.expires_at)
                .bind(key)
                .bind(hash)
                .bind(h.hold.created_at)
                .bind(h.closed_at)
                .bind(version);
        }
        q.execute(&mut *conn).await?;
    }
    for chunk in entries.chunks(MAX_PARAMS / 11) {
        let sql = format!(
            "INSERT INTO ledger_entries (account_id, kind, amount, held_delta, hold_id, description,
                                         note, created_by, created_at, reverses, order_id) {}",
            crate::db::values_list(chunk.len(), 11)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.entry.account)
                .bind(e.entry.kind)
                .bind(e.entry.amount)
                .bind(e.entry.held_delta)
                .bind(e.entry.hold)
                .bind(e.entry.description.plain())
                .bind(e.entry.description.stored())
                .bind(e.created_by)
                .bind(e.created_at)
                .bind(e.reverses)
                .bind(e.order);
        }
        q.execute(&mut *conn).await?;
    }
    for chunk in balances.chunks(MAX_PARAMS / 4) {
        let sql = format!(
            "UPDATE iap_accounts SET balance = v.column2, held = v.column3,
                 ledger_version = v.column4 FROM ({}) AS v
             WHERE iap_accounts.id = v.column1",
            crate::db::values_list(chunk.len(), 4)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, account) in chunk {
            q = q
                .bind(*id)
                .bind(account.balance)
                .bind(account.held)
                .bind(version);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Appends `n` adjustment entries spread over every account, in pairs that cancel out, so
/// the balances and [`check`] are unchanged: the benchmarks' fast path to a large ledger
/// (one statement, not the writer). Returns how many accounts share them.
#[instrument(level = "debug", skip(conn))]
pub async fn append_cancelling_pairs(conn: &mut AnyConnection, n: i64) -> Result<i64, sqlx::Error> {
    let (first, count): (Option<i64>, i64) =
        sqlx::query_as("SELECT MIN(id), COUNT(*) FROM iap_accounts")
            .fetch_one(&mut *conn)
            .await?;
    let Some(first) = first else {
        return Ok(0);
    };
    sqlx::query(
        "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < $1 - 1)
         INSERT INTO ledger_entries (account_id, kind, amount, held_delta, description, created_at)
         SELECT $2 + (i / 2) % $3, 'adjustment', CASE i % 2 WHEN 0 THEN 1 ELSE -1 END, 0, 'preload', 0
         FROM seq",
    )
    .bind(n)
    .bind(first)
    .bind(count)
    .execute(&mut *conn)
    .await?;
    Ok(count)
}

/// An account whose stored figures disagree with its ledger.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Discrepancy {
    pub account: AccountId,
    pub balance: i64,
    pub held: i64,
    pub ledger_balance: i64,
    pub ledger_held: i64,
    pub open_holds: i64,
}

/// Recomputes every account from its ledger entries and open holds (what each still
/// reserves: its amount less its partial captures), and returns those that disagree with the
/// stored balance or held amount. Empty means the books are consistent.
#[instrument(level = "debug", skip_all)]
pub async fn check(conn: &mut AnyConnection) -> Result<Vec<Discrepancy>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id AS account, a.balance, a.held,
                COALESCE(e.balance, 0) AS ledger_balance, COALESCE(e.held, 0) AS ledger_held,
                COALESCE(h.held, 0) AS open_holds
         FROM iap_accounts a
         LEFT JOIN (SELECT account_id, CAST(SUM(amount) AS BIGINT) AS balance, CAST(SUM(held_delta) AS BIGINT) AS held
                    FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id
         LEFT JOIN (SELECT account_id, CAST(SUM(amount - COALESCE(captured, 0)) AS BIGINT) AS held
                    FROM holds WHERE state = 'open' GROUP BY account_id) h ON h.account_id = a.id
         WHERE a.balance <> COALESCE(e.balance, 0) OR a.held <> COALESCE(e.held, 0)
            OR a.held <> COALESCE(h.held, 0) OR a.balance < a.held",
    )
    .fetch_all(conn)
    .await
}

/// What `server check` counts of the entries that undo others, and those that break the rules:
/// a reversal must give back at most what its capture spent, on the capture's account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reversals {
    pub count: i64,
    /// Reversal entries that do not fit their capture.
    pub wrong: Vec<i64>,
}

#[instrument(level = "debug", skip_all)]
pub async fn check_reversals(conn: &mut AnyConnection) -> Result<Reversals, sqlx::Error> {
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'reversal'")
        .fetch_one(&mut *conn)
        .await?;
    let wrong = sqlx::query_scalar(
        "SELECT r.id FROM ledger_entries r JOIN ledger_entries c ON c.id = r.reverses
         WHERE r.kind = 'reversal'
           AND (c.kind <> 'capture' OR c.account_id <> r.account_id OR r.amount > -c.amount)
         ORDER BY r.id",
    )
    .fetch_all(conn)
    .await?;
    Ok(Reversals { count, wrong })
}
