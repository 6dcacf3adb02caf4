//! Operator subcommands of the server binary, run against `DATABASE_URL` instead of
//! serving: create or rotate a service key, list accounts, adjust an account's credits.
//! Operators script their setup with them; tests call [`run`] directly.

use crate::http::operator::{AdjustAnswer, AdjustRequest};
use crate::owner::{DatabaseLock, LockError, OperatorFile};
use app::auth::service_key::{key_hash, new_key};
use app::clock::system_clock;
use app::db;
use app::domain::credits::Credits;
use app::domain::ledger::{EntryKind, NewCredit};
use app::error::ledger_text;
use app::ledger::Ledger;
use app::tasks::Tasks;
use clap::Subcommand;
use std::io::Write;

#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Create or rotate a service's provider key and print it, once: only its hash is kept,
    /// and the previous key stops working.
    ServiceKey {
        /// The service's technical name, e.g. `sms`.
        service: String,
    },
    /// List every IAP account: service, companies, token and balance (tab-separated).
    Accounts,
    /// Add credits to an account (or remove them, with a negative amount), recorded as an
    /// adjustment with its reason. While a server runs on the database, the adjustment goes
    /// through it (its operator endpoint); otherwise this command takes the database's lock
    /// and applies it itself.
    Adjust {
        /// The account's token.
        #[arg(long)]
        token: String,
        /// Credits, up to 4 decimals, e.g. `100` or `-2.5`.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// Why; recorded in the account's history.
        #[arg(long)]
        reason: String,
    },
    /// Recompute every account's balance and held credits from its ledger and report any
    /// that disagree (exit code 1). Read-only: safe while a server runs.
    Check,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Lock(#[from] crate::owner::LockError),
    #[error(
        "a server runs on this database but its operator file is missing or unreadable; \
         restart it, or stop it and run the command again"
    )]
    NoOperatorFile,
    #[error("the running server could not be reached: {0}")]
    Server(String),
    #[error("{0} account(s) disagree with their ledger")]
    Inconsistent(usize),
}

/// Runs `command` against the database at `url` (migrated first), writing to `out`.
pub async fn run(command: &Command, url: &str, out: &mut impl Write) -> Result<(), CliError> {
    let pool = db::connect(url).await?;
    db::migrate(&pool).await?;
    app::seed::ensure_database_uuid(&pool).await?;
    match command {
        Command::ServiceKey { service } => {
            let key = new_key();
            let mut conn = pool.acquire().await?;
            if !db::services::set_key_hash(&mut conn, service, &key_hash(&key)).await? {
                return Err(CliError::Invalid(app::i18n::tf(
                    app::i18n::Msg::ErrUnknownService,
                    &[("service", service.as_str().into())],
                )));
            }
            tracing::info!(service, "service key created");
            writeln!(out, "{key}")?;
        }
        Command::Accounts => {
            let mut conn = pool.acquire().await?;
            writeln!(out, "service\tcompanies\ttoken\tbalance")?;
            for (account, token) in db::accounts::all(&mut conn, app::clock::now_ms()).await? {
                let companies = if account.company_names.is_empty() {
                    "*".to_owned()
                } else {
                    account.company_names.clone()
                };
                let balance = account.balance.display(false).replace(',', "");
                writeln!(out, "{}\t{companies}\t{token}\t{balance}", account.service)?;
            }
        }
        Command::Adjust {
            token,
            amount,
            reason,
        } => {
            let amount = Credits::parse_signed(amount)
                .map_err(|e| CliError::Invalid(e.at("amount").text().to_string()))?;
            let _lock = match DatabaseLock::acquire(url) {
                Ok(lock) => lock,
                Err(LockError::Held(_)) => {
                    pool.close().await;
                    let balance = adjust_through_server(url, token, &amount, reason).await?;
                    writeln!(out, "{balance}")?;
                    return Ok(());
                }
                Err(error) => return Err(error.into()),
            };
            let mut conn = pool.acquire().await?;
            let account = db::service_api::account_by_token(&mut conn, token, 0)
                .await?
                .ok_or_else(|| {
                    CliError::Invalid(app::i18n::t(app::i18n::Msg::RpcUnknownAccount).into())
                })?;
            drop(conn);
            let credit = NewCredit::parse(account.id, EntryKind::Adjustment, amount, reason)
                .map_err(|e| CliError::Invalid(e.text().to_string()))?;
            let mut tasks = Tasks::new();
            let ledger = Ledger::start(&pool, system_clock(), "", &mut tasks).await?;
            let applied = ledger.credit(credit, None).await;
            tasks.shutdown(std::time::Duration::from_secs(5)).await;
            applied.map_err(|e| CliError::Invalid(ledger_text(&e).to_string()))?;
            tracing::info!(account = account.id, %amount, "account adjusted");
            let mut conn = pool.acquire().await?;
            let balance: i64 = sqlx::query_scalar("SELECT balance FROM iap_accounts WHERE id = ?")
                .bind(account.id)
                .fetch_one(&mut *conn)
                .await?;
            writeln!(
                out,
                "{}",
                Credits::from_minor(balance).display(false).replace(',', "")
            )?;
        }
        Command::Check => {
            let mut conn = pool.acquire().await?;
            let wrong = db::ledger::check(&mut conn).await?;
            let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM iap_accounts")
                .fetch_one(&mut *conn)
                .await?;
            drop(conn);
            if wrong.is_empty() {
                writeln!(out, "consistent: {accounts} accounts match their ledger")?;
            } else {
                writeln!(
                    out,
                    "account\tbalance\tledger balance\theld\tledger held\topen holds"
                )?;
                for d in &wrong {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        d.account,
                        Credits::from_minor(d.balance),
                        Credits::from_minor(d.ledger_balance),
                        Credits::from_minor(d.held),
                        Credits::from_minor(d.ledger_held),
                        Credits::from_minor(d.open_holds)
                    )?;
                }
                pool.close().await;
                return Err(CliError::Inconsistent(wrong.len()));
            }
        }
    }
    pool.close().await;
    Ok(())
}

/// Sends an adjustment to the server running on the database at `url`; the new balance.
async fn adjust_through_server(
    url: &str,
    token: &str,
    amount: &Credits,
    reason: &str,
) -> Result<String, CliError> {
    let access = OperatorFile::read(url).ok_or(CliError::NoOperatorFile)?;
    let unreachable = |e: reqwest::Error| CliError::Server(e.to_string());
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(unreachable)?
        .post(format!("{}/operator/adjust", access.url))
        .bearer_auth(&access.secret)
        .json(&AdjustRequest {
            token: token.to_owned(),
            amount: amount.to_string().replace(',', ""),
            reason: reason.to_owned(),
        })
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let answer: AdjustAnswer = response.json().await.map_err(unreachable)?;
    match (answer.balance, answer.error) {
        (Some(balance), _) if status.is_success() => {
            tracing::info!("adjusted through the running server");
            Ok(balance)
        }
        (_, Some(error)) => Err(CliError::Invalid(error)),
        _ => Err(CliError::Server(format!("answered {status}"))),
    }
}
