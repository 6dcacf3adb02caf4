//! Operator subcommands of the server binary, run against `DATABASE_URL` instead of
//! serving: create or rotate a service key, list accounts, adjust an account's credits, and
//! manage users and companies. Operators script their setup with them; tests call [`run`]
//! directly. Passwords are read from standard input, never from the command line, which
//! other users of the machine can see.

use crate::http::operator::{AdjustAnswer, AdjustRequest};
use crate::owner::{DatabaseLock, LockError, OperatorFile};
use app::auth::service_key::{key_hash, new_key};
use app::clock::system_clock;
use app::db;
use app::domain::credits::Credits;
use app::domain::ledger::{EntryKind, NewCredit};
use app::domain::password::NewPassword;
use app::domain::user::{NewUser, Role, parse_login, parse_name};
use app::error::{AppError, ledger_text};
use app::i18n::{Msg, t, tf};
use app::ledger::Ledger;
use app::tasks::Tasks;
use clap::Subcommand;
use sqlx::AnyConnection;
use std::io::{BufRead, Write};

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
    /// Add users, set their passwords, list them. Safe while the server runs.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create companies. Safe while the server runs.
    Company {
        #[command(subcommand)]
        command: CompanyCommand,
    },
}

#[derive(Clone, Debug, Subcommand)]
pub enum UserCommand {
    /// Add an active user. The password is read from standard input, one line: at least 10
    /// characters and not a common password.
    Add {
        /// What they log in with, without spaces, e.g. `jane` or `jane@example.com`.
        login: String,
        /// Their full name.
        #[arg(long)]
        name: String,
        /// Make them an administrator (Settings, users, IAP accounts).
        #[arg(long)]
        admin: bool,
        /// A company they work in, by name; repeat for several, the first is where they
        /// start. Needed unless there is exactly one company.
        #[arg(long = "company", value_name = "NAME")]
        companies: Vec<String>,
    },
    /// Set a user's password, read from standard input (one line); their sessions end.
    Passwd {
        /// The user's login.
        login: String,
    },
    /// List users: login, name, role, companies and whether they are active, tab-separated.
    List,
}

#[derive(Clone, Debug, Subcommand)]
pub enum CompanyCommand {
    /// Create a company.
    Add {
        /// Its name, unique whatever its case.
        name: String,
    },
}

impl Command {
    /// Whether the command reads a password from standard input.
    pub fn reads_password(&self) -> bool {
        matches!(
            self,
            Command::User {
                command: UserCommand::Add { .. } | UserCommand::Passwd { .. }
            }
        )
    }
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

/// Runs `command` against the database at `url` (migrated first), reading a password from
/// `input` when it needs one and writing to `out`.
pub async fn run(
    command: &Command,
    url: &str,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<(), CliError> {
    // What the command line alone can tell is checked before the password is asked for.
    let password = match command {
        Command::User {
            command: UserCommand::Add { login, name, .. },
        } => {
            parse_login(login).map_err(|e| refused(e.into()))?;
            parse_name(name).map_err(|e| refused(e.into()))?;
            Some(read_password(input)?)
        }
        Command::User {
            command: UserCommand::Passwd { .. },
        } => Some(read_password(input)?),
        _ => None,
    };
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
            let _lock = match DatabaseLock::acquire(url).await {
                Ok(lock) => lock,
                Err(LockError::Held(_)) => {
                    let access = OperatorFile::read(url);
                    pool.close().await;
                    let access = access.ok_or(CliError::NoOperatorFile)?;
                    let balance = adjust_through_server(&access, token, &amount, reason).await?;
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
            let balance: i64 = sqlx::query_scalar("SELECT balance FROM iap_accounts WHERE id = $1")
                .bind(account.id)
                .fetch_one(&mut *conn)
                .await?;
            writeln!(
                out,
                "{}",
                Credits::from_minor(balance).display(false).replace(',', "")
            )?;
        }
        Command::User { command } => {
            let mut conn = pool.acquire().await?;
            match command {
                UserCommand::Add {
                    login,
                    name,
                    admin,
                    companies,
                } => {
                    let company_ids = company_ids(&mut conn, companies).await?;
                    drop(conn);
                    let role = Role::from_admin(*admin);
                    let user = NewUser::parse(login, name, role, &company_ids)
                        .map_err(|e| refused(e.into()))?;
                    let password = new_password(password, &user.login)?;
                    app::auth::users::create(&pool, &user, &password)
                        .await
                        .map_err(refused)?;
                }
                UserCommand::Passwd { login } => {
                    let user = db::users::by_login(&mut conn, login.trim())
                        .await?
                        .ok_or_else(|| {
                            CliError::Invalid(tf(Msg::ErrUnknownLogin, &[("login", login.into())]))
                        })?;
                    drop(conn);
                    let password = new_password(password, &user.login)?;
                    app::auth::users::set_password(&pool, user.id, &password, None)
                        .await
                        .map_err(refused)?;
                }
                UserCommand::List => {
                    writeln!(out, "login\tname\trole\tcompanies\tactive")?;
                    for user in db::users::list(&mut conn).await? {
                        let companies: Vec<&str> =
                            user.companies.iter().map(|c| c.name.as_str()).collect();
                        writeln!(
                            out,
                            "{}\t{}\t{}\t{}\t{}",
                            user.login,
                            user.name,
                            user.role.as_str(),
                            companies.join(", "),
                            if user.active { "yes" } else { "no" },
                        )?;
                    }
                }
            }
        }
        Command::Company {
            command: CompanyCommand::Add { name },
        } => {
            let name = app::domain::company::parse_name(name)
                .map_err(|e| CliError::Invalid(format!("NAME: {}", AppError::from(e).text())))?;
            let mut tx = db::begin_write(&pool).await?;
            if let Some(existing) = db::companies::by_name(&mut tx, &name).await? {
                return Err(CliError::Invalid(tf(
                    Msg::ErrCompanyTaken,
                    &[("name", existing.name.into())],
                )));
            }
            let id = db::companies::insert(&mut tx, &name).await?;
            tx.commit().await?;
            tracing::info!(company = id, name, "company created");
        }
        Command::Check => {
            let mut conn = pool.acquire().await?;
            let wrong = db::ledger::check(&mut conn).await?;
            let reversals = db::ledger::check_reversals(&mut conn).await?;
            let refunds = db::refunds::check(&mut conn).await?;
            let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM iap_accounts")
                .fetch_one(&mut *conn)
                .await?;
            drop(conn);
            if !reversals.wrong.is_empty() {
                writeln!(out, "reversal entries beyond their capture:")?;
                for entry in &reversals.wrong {
                    writeln!(out, "{entry}")?;
                }
            }
            if !refunds.wrong.is_empty() {
                writeln!(
                    out,
                    "refunded orders whose ledger does not match the refund:"
                )?;
                for order in &refunds.wrong {
                    writeln!(out, "{}", app::domain::order::order_reference(*order))?;
                }
            }
            let links = reversals.wrong.len() + refunds.wrong.len();
            if wrong.is_empty() && links == 0 {
                writeln!(
                    out,
                    "consistent: {accounts} accounts match their ledger; {} reversals within \
                     their captures; {} refunds match their orders",
                    reversals.count, refunds.count
                )?;
            } else if wrong.is_empty() {
                pool.close().await;
                return Err(CliError::Inconsistent(links));
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

/// One line of `input`, without its line ending: the password. Nothing else is trimmed,
/// since spaces may be part of it.
fn read_password(input: &mut impl BufRead) -> Result<String, CliError> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    if password.is_empty() {
        return Err(CliError::Invalid(t(Msg::ErrPasswordInput).into()));
    }
    Ok(password.to_owned())
}

fn new_password(password: Option<String>, login: &str) -> Result<NewPassword, CliError> {
    let password = password.ok_or_else(|| CliError::Invalid(t(Msg::ErrPasswordInput).into()))?;
    NewPassword::parse("password", &password, login).map_err(|e| refused(e.into()))
}

/// The companies named on the command line, in order; with none named, the only company.
async fn company_ids(conn: &mut AnyConnection, names: &[String]) -> Result<Vec<i64>, CliError> {
    if names.is_empty() {
        let all = db::companies::all(conn).await?;
        return match all.as_slice() {
            [only] => Ok(vec![only.id]),
            [] => Err(CliError::Invalid(t(Msg::ErrNoCompany).into())),
            many => Err(CliError::Invalid(tf(
                Msg::ErrCompanyChoice,
                &[("count", many.len().into())],
            ))),
        };
    }
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let company = db::companies::by_name(conn, name.trim())
            .await?
            .ok_or_else(|| {
                CliError::Invalid(tf(Msg::ErrUnknownCompanyName, &[("name", name.into())]))
            })?;
        ids.push(company.id);
    }
    Ok(ids)
}

/// A refusal as the operator reads it: a validation error names the argument at fault.
fn refused(error: AppError) -> CliError {
    let text = error.text().to_string();
    let argument = match &error {
        AppError::Validation(e) => match e.field.as_str() {
            "login" => Some("LOGIN"),
            "name" => Some("--name"),
            "companies" => Some("--company"),
            "password" => Some("password"),
            _ => None,
        },
        _ => None,
    };
    CliError::Invalid(match argument {
        Some(argument) => format!("{argument}: {text}"),
        None => text,
    })
}

/// Sends an adjustment to the server running on the database at `url`; the new balance.
async fn adjust_through_server(
    access: &crate::owner::OperatorAccess,
    token: &str,
    amount: &Credits,
    reason: &str,
) -> Result<String, CliError> {
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
