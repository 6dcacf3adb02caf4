//! Building and running the application: database, state, router, listener.

use crate::config::Config;
use crate::http::router;
use app::db;
use app::domain::throttle::Throttle;
use app::ledger::{Ledger, system_clock};
use app::state::AppState;
use leptos::config::LeptosOptions;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database {url}: {source}")]
    Database { url: String, source: sqlx::Error },
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot seed demo data: {0}")]
    Seed(#[from] db::demo::SeedError),
    #[error("database error at startup: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot set up the SMS gateway client: {0}")]
    SmsGateway(reqwest::Error),
    #[error("cannot create the folder for the database: {0}")]
    DataDir(std::io::Error),
    #[error("invalid mail settings: {0}")]
    Mail(#[from] crate::mail::SendError),
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
}

impl Application {
    /// Opens and migrates the database, seeds demo data if asked, and binds the listener.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        ensure_parent_dir(&config.database_url).map_err(StartupError::DataDir)?;
        let pool =
            db::connect(&config.database_url)
                .await
                .map_err(|source| StartupError::Database {
                    url: config.database_url.clone(),
                    source,
                })?;
        db::migrate(&pool).await?;
        db::demo::ensure_database_uuid(&pool).await?;
        let seeded = config.demo && db::demo::seed_if_empty(&pool).await?;
        spawn_session_cleanup(pool.clone());
        let mail = config.mail();
        let mailer = match &mail.smtp {
            Some(smtp) => Some(crate::mail::Mailer::new(smtp, &mail.from)?),
            None => {
                tracing::info!("SMTP_HOST is not set: mails stay in the outbox and are logged");
                None
            }
        };
        let ledger = Ledger::start_with(&pool, system_clock(), &config.public_url).await?;
        crate::mail::worker::spawn(pool.clone(), mail, mailer);
        ledger.spawn_sweeper(std::time::Duration::from_secs(60));
        if seeded {
            db::demo::open_accounts(&pool, &ledger).await?;
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
            leptos_options: leptos_options(config, addr),
            pool,
            ledger,
            payments: std::sync::Arc::new(app::payment::DemoProvider),
            sms: config.sms_provider().map_err(StartupError::SmsGateway)?,
            throttle: Arc::new(Mutex::new(Throttle::default())),
            secure_cookies: config.secure_cookies(),
        };
        Ok(Application {
            listener,
            router: router(state, &config.public_url),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let service = self
            .router
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The Leptos settings, built from iapd's own configuration rather than read from
/// `Cargo.toml`, so the release binary runs anywhere the site folder is.
pub fn leptos_options(config: &Config, addr: std::net::SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("iapd")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// Deletes expired sessions every hour, so the table only holds live ones.
fn spawn_session_cleanup(pool: sqlx::SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let result = async {
                let mut conn = pool.acquire().await?;
                db::sessions::delete_expired(&mut conn, app::auth::session::now()).await
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
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !path.contains(":memory:") => {
            std::fs::create_dir_all(dir)
        }
        _ => Ok(()),
    }
}
