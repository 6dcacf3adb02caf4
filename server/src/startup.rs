//! Building and running the application: database, state, background tasks, router and
//! listener. `main` and the HTTP tests both start iapd through [`Application::build`].

use crate::config::{Config, ProviderKind};
use crate::http::{RouterConfig, router};
use crate::owner::{DatabaseLock, OperatorAccess, OperatorFile};
use app::api_cache::ApiCache;
use app::clock::{Clock, system_clock};
use app::db;
use app::domain::throttle::Throttle;
use app::ledger::Ledger;
use app::payment::reconcile::Reconciler;
use app::payment::refund::Refunder;
use app::payment::stripe::{StripeClient, StripeConfig};
use app::payment::{DemoProvider, Payments, StripeGateway};
use app::state::AppState;
use app::tasks::Tasks;
use leptos::config::LeptosOptions;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How long background tasks get to finish (a ledger batch, a mail, the SMS with the
/// provider) once serving stopped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// `url` without its password.
    #[error("cannot open the database {url}: {source}")]
    Database { url: String, source: sqlx::Error },
    #[error("{0}")]
    DatabaseUrl(String),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot seed demo data: {0}")]
    Seed(#[from] app::seed::SeedError),
    #[error("database error at startup: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up an HTTP client for SMS: {0}")]
    SmsGateway(reqwest::Error),
    #[error("cannot create the folder for the database: {0}")]
    DataDir(std::io::Error),
    #[error("invalid mail settings: {0}")]
    Mail(#[from] app::mail::SendError),
    #[error("{0}")]
    Payments(String),
    #[error(transparent)]
    Lock(#[from] crate::owner::LockError),
    #[error(
        "the ledger disagrees with the stored balances of {0}; nothing was started. Run \
         `server check` for the figures"
    )]
    Inconsistent(String),
    #[error("cannot write the operator file beside the database: {0}")]
    OperatorFile(std::io::Error),
}

/// A built iapd: its listener, its router over the shared state, and the background tasks
/// it owns (ledger writer, checkpointer, expiry sweeper, mail worker, SMS worker, session
/// cleanup).
pub struct Application {
    listener: TcpListener,
    state: AppState,
    tasks: Tasks,
    operator_secret: Arc<str>,
    /// What the SMS gateway's delivery reports must carry.
    sms_gateway_secret: Option<app::secret::Secret>,
    /// What a `/metrics` scrape must carry; unset, there is no `/metrics`.
    metrics_token: Option<app::secret::Secret>,
    trusted_proxies: Arc<[crate::http::client::Cidr]>,
    /// Written once listening; removed when the application ends.
    operator_file: Option<OperatorFile>,
    /// Held for the application's whole life: one server per database.
    _lock: Option<DatabaseLock>,
}

impl Application {
    /// Opens and migrates the database, seeds demo data if asked, starts the background
    /// tasks and binds the listener.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        Self::build_with(config, system_clock()).await
    }

    /// [`Application::build`] with another clock, for tests that expire holds.
    pub async fn build_with(config: &Config, clock: Clock) -> Result<Self, StartupError> {
        // Before anything touches the disk: an unknown scheme is never taken as a file name.
        db::Backend::of_url(&config.database_url).map_err(|error| match error {
            sqlx::Error::Configuration(message) => StartupError::DatabaseUrl(message.to_string()),
            other => StartupError::Sqlx(other),
        })?;
        ensure_parent_dir(&config.database_url).map_err(StartupError::DataDir)?;
        let lock = DatabaseLock::acquire(&config.database_url).await?;
        let pool = db::connect_sized(&config.database_url, config.database_pool_size)
            .await
            .map_err(|source| StartupError::Database {
                url: db::redact(&config.database_url),
                source,
            })?;
        db::migrate(&pool).await?;
        check_books(&pool).await?;
        app::seed::ensure_database_uuid(&pool).await?;
        let seeded = config.demo && app::seed::seed_if_empty(&pool).await?;
        log_first_steps(&pool).await?;
        let mut tasks = Tasks::new();
        let leader = app::leader::campaign(&mut tasks, &config.database_url);
        let mail = config.mail();
        let mailer = match &mail.smtp {
            Some(smtp) => Some(app::mail::Mailer::new(smtp, &mail.from)?),
            None => {
                tracing::info!("SMTP_HOST is not set: mails stay in the outbox and are logged");
                None
            }
        };
        match crate::http::assets::drop_stale_precompressed(std::path::Path::new(&config.site_root))
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                removed = n,
                "precompressed files older than the build removed"
            ),
            Err(error) => tracing::warn!(%error, "cannot check the precompressed files"),
        }
        let public_url = config.public_url.trim_end_matches('/');
        let payments = payments(config, &pool, public_url).await?;
        let ledger = Ledger::start(&pool, clock.clone(), public_url, &mut tasks).await?;
        let _ = app::mail::worker::start(&mut tasks, pool.clone(), mail, mailer);
        let sms = app::sms::worker::start(
            &mut tasks,
            pool.clone(),
            ledger.clone(),
            config.sms_provider().map_err(StartupError::SmsGateway)?,
            config.sms_worker(),
        );
        app::webhook::start(&mut tasks, pool.clone(), config.webhooks());
        let recharger = app::payment::auto_recharge::Recharger {
            pool: pool.clone(),
            ledger: ledger.clone(),
            payments: payments.clone(),
            public_url: public_url.to_owned(),
            clock,
        };
        app::payment::auto_recharge::start(&mut tasks, recharger, Duration::from_secs(1));
        app::sms::reports::start(&mut tasks, pool.clone(), config.sms_reports())
            .map_err(StartupError::SmsGateway)?;
        if config.sms_gateway_webhook_secret.is_none() {
            tracing::info!(
                "SMS_GATEWAY_WEBHOOK_SECRET is not set: delivery reports to /sms/gateway/status are refused"
            );
        }
        start_session_cleanup(&mut tasks, pool.clone());
        start_reconciler(
            &mut tasks,
            pool.clone(),
            ledger.clone(),
            payments.clone(),
            config,
        );
        if seeded {
            app::seed::open_accounts(&pool, &ledger).await?;
            tracing::info!("seeded demo data: log in as admin / admin or demo / demo");
        }
        let listener = TcpListener::bind(config.site_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.site_addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.site_addr,
            source,
        })?;
        let state = AppState {
            leptos_options: Arc::new(leptos_options(config, addr)),
            pool,
            ledger,
            payments,
            sms,
            throttle: Arc::new(Mutex::new(Throttle::default())),
            login_slots: Arc::new(app::auth::login::verification_slots()),
            api_cache: Arc::new(ApiCache::default()),
            public_url: public_url.into(),
            secure_cookies: config.secure_cookies(),
            webhook_allow_private: config.webhook_allow_private,
            leader,
        };
        let operator_secret: Arc<str> = app::crypto::random_token(32).into();
        let operator_ip = if addr.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            addr.ip()
        };
        let access = OperatorAccess {
            url: format!("http://{}", SocketAddr::new(operator_ip, addr.port())),
            secret: operator_secret.to_string(),
        };
        let operator_file = OperatorFile::write(&config.database_url, &access)
            .map_err(StartupError::OperatorFile)?;
        Ok(Application {
            listener,
            state,
            tasks,
            operator_secret,
            sms_gateway_secret: config.sms_gateway_webhook_secret.clone(),
            metrics_token: config.metrics_token.clone(),
            trusted_proxies: config.trusted_proxies.clone().into(),
            operator_file,
            _lock: lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The shared state, e.g. for tests that look into the database.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes and lets in-flight requests finish, then stops the
    /// background tasks, which finish what they were doing first.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let local_ip = self
            .listener
            .local_addr()
            .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |a| a.ip());
        let config = RouterConfig {
            operator_secret: self.operator_secret.clone(),
            local_ip,
            trusted_proxies: self.trusted_proxies.clone(),
            sms_gateway_secret: self.sms_gateway_secret.clone(),
            metrics_token: self.metrics_token.clone(),
        };
        let service =
            router(self.state.clone(), config).into_make_service_with_connect_info::<SocketAddr>();
        // A response may go out in several writes: with Nagle's algorithm on, each later
        // write waited for the browser's delayed ACK, 40 ms per page (issue 16).
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "could not turn Nagle's algorithm off on a connection");
            }
        });
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        // No more operator commands: they would find no server to go through.
        drop(self.operator_file);
        self.tasks.shutdown(SHUTDOWN_GRACE).await;
        self.state.pool.close().await;
        served
    }
}

/// Refuses to serve books that disagree with their ledger: every balance and held amount is
/// recomputed from the entries and open holds first.
async fn check_books(pool: &sqlx::AnyPool) -> Result<(), StartupError> {
    let mut conn = pool.acquire().await?;
    let wrong = db::ledger::check(&mut conn).await?;
    if wrong.is_empty() {
        return Ok(());
    }
    for d in &wrong {
        tracing::error!(
            account = d.account,
            balance = d.balance,
            ledger_balance = d.ledger_balance,
            held = d.held,
            ledger_held = d.ledger_held,
            open_holds = d.open_holds,
            "the stored figures of an account disagree with its ledger"
        );
    }
    let accounts: Vec<String> = wrong
        .iter()
        .map(|d| format!("account {}", d.account))
        .collect();
    Err(StartupError::Inconsistent(accounts.join(", ")))
}

/// The Leptos settings, built from iapd's own configuration rather than read from
/// `Cargo.toml`, so the release binary runs anywhere the site folder is. Names are hashed
/// when the build wrote `hash.txt` beside the binary (`app::assets`).
pub fn leptos_options(config: &Config, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("iapd")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .hash_files(app::assets::hash_file().is_some())
        .build()
}

/// On a database where no administrator can log in (a new one without demo data), says
/// how to create the first one, in one line.
async fn log_first_steps(pool: &sqlx::AnyPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    if db::users::count_active_admins(&mut conn).await? > 0 {
        return Ok(());
    }
    let add_admin = r#"server user add LOGIN --name "Full Name" --admin"#;
    if db::companies::all(&mut conn).await?.is_empty() {
        tracing::warn!(
            r#"no administrator can log in yet: create the company with `server company add "Company name"`, then the first administrator with `{add_admin}`, the password on standard input"#
        );
    } else {
        tracing::warn!(
            "no administrator can log in yet: create the first one with `{add_admin}`, the password on standard input"
        );
    }
    Ok(())
}

/// The configured payment provider, refusing a configuration that cannot be right: Stripe
/// without its secrets, or the Demo provider (which approves any valid card number) on a
/// database that is not a demo one.
async fn payments(
    config: &Config,
    pool: &sqlx::AnyPool,
    public_url: &str,
) -> Result<Payments, StartupError> {
    match config.payment_provider {
        None => {
            tracing::warn!(
                "PAYMENT_PROVIDER is not set: the store shows its packs but nothing can be bought"
            );
            Ok(Payments::Unconfigured)
        }
        Some(ProviderKind::Demo) => {
            let mut conn = pool.acquire().await?;
            if !db::settings::is_demo(&mut conn).await? {
                return Err(StartupError::Payments(
                    "PAYMENT_PROVIDER=demo approves any valid card number, so it only runs on a \
                     demo database (created with --demo); set PAYMENT_PROVIDER=stripe"
                        .into(),
                ));
            }
            Ok(Payments::Demo(Arc::new(DemoProvider)))
        }
        Some(ProviderKind::Stripe) => {
            let missing = |name: &str| {
                StartupError::Payments(format!("PAYMENT_PROVIDER=stripe needs {name}"))
            };
            let key = config
                .stripe_secret_key
                .as_ref()
                .ok_or_else(|| missing("STRIPE_SECRET_KEY"))?;
            let webhook_secret = config
                .stripe_webhook_secret
                .clone()
                .ok_or_else(|| missing("STRIPE_WEBHOOK_SECRET"))?;
            let client = StripeClient::new(StripeConfig {
                secret_key: key.expose().to_owned(),
                api_base: config.stripe_api_base.trim_end_matches('/').to_owned(),
                timeout: Duration::from_secs(10),
            })
            .map_err(|e| StartupError::Payments(format!("cannot set up the Stripe client: {e}")))?;
            tracing::info!(
                webhook = format!("{public_url}/payment/stripe/webhook"),
                "payments through Stripe Checkout"
            );
            Ok(Payments::Stripe(Arc::new(StripeGateway {
                client,
                webhook_secret,
                public_url: public_url.to_owned(),
            })))
        }
    }
}

/// Settles, at start and then every round, the orders pending longer than a round: a lost
/// webhook or an interrupted crediting still settles its order, once. The same round returns
/// the money of refunds still pending (a provider that did not answer, a crash).
fn start_reconciler(
    tasks: &mut Tasks,
    pool: sqlx::AnyPool,
    ledger: Ledger,
    payments: Payments,
    config: &Config,
) {
    let every = Duration::from_secs(config.payment_reconcile_seconds);
    let age = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    tasks.every("payment reconciler", every, move || {
        let (pool, ledger, payments) = (pool.clone(), ledger.clone(), payments.clone());
        async move {
            let reconciler = Reconciler {
                pool: &pool,
                ledger: &ledger,
                payments: &payments,
            };
            let before = app::clock::now_ms().saturating_sub(age);
            if let Err(error) = reconciler.run(before).await {
                tracing::warn!(?error, "payment reconciliation failed; next round");
            }
            let refunder = Refunder {
                pool: &pool,
                ledger: &ledger,
                payments: &payments,
            };
            if let Err(error) = refunder.run(app::clock::now_ms()).await {
                tracing::warn!(?error, "refund round failed; next round");
            }
        }
    });
}

/// Deletes expired sessions every hour, so the table only holds live ones.
fn start_session_cleanup(tasks: &mut Tasks, pool: sqlx::AnyPool) {
    tasks.every("session cleanup", Duration::from_secs(3600), move || {
        let pool = pool.clone();
        async move {
            let result = async {
                let mut conn = pool.acquire().await?;
                let now = app::clock::now_ms();
                let idle = now - app::auth::session::IDLE_MS;
                db::sessions::delete_expired(&mut conn, now, idle).await
            };
            match result.await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "expired sessions deleted"),
                Err(error) => tracing::warn!(%error, "cannot delete expired sessions"),
            }
        }
    });
}

fn ensure_parent_dir(url: &str) -> std::io::Result<()> {
    match crate::owner::database_path(url)
        .as_deref()
        .and_then(std::path::Path::parent)
    {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}
