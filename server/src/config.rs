//! Every setting iapd reads, from command-line flags or environment variables.

use app::mail::SmtpTls;
pub use app::secret::Secret;
use clap::Parser;
use clap::builder::TypedValueParser;
use std::net::SocketAddr;

#[derive(Clone, Debug, Parser)]
#[command(
    name = "server",
    version,
    about = "iapd: a self-hosted In-App Purchase credit platform"
)]
pub struct Config {
    /// The database: `sqlite://PATH` (the file is created if missing) or
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (the database must exist).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/iapd.sqlite"
    )]
    pub database_url: String,

    /// Connections this process keeps to PostgreSQL (SQLite always uses 8).
    #[arg(
        long,
        env = "DATABASE_POOL_SIZE",
        default_value_t = app::db::DEFAULT_POOL_SIZE,
        value_parser = clap::value_parser!(u32).range(2..=512)
    )]
    pub database_pool_size: u32,

    /// Address to listen on. Port 0 picks a free port (the log says which).
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// Where the built site (the `pkg/` wasm, JS and CSS, and public files) lives.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Seed demo data (companies, users admin/admin and demo/demo, contacts) into an empty
    /// database.
    #[arg(long, env = "IAPD_DEMO", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    pub demo: bool,

    /// The URL users reach iapd at, used in links; `https://` also marks cookies Secure.
    #[arg(long, env = "IAPD_PUBLIC_URL", default_value = "http://127.0.0.1:3000")]
    pub public_url: String,

    /// An HTTP SMS gateway: each message is POSTed to it as JSON. Unset, SMS are accepted
    /// into the built-in outbox (Settings → Technical → SMS Outbox) and not delivered.
    #[arg(long, env = "SMS_GATEWAY_URL")]
    pub sms_gateway_url: Option<String>,

    /// Sent to the SMS gateway as `Authorization: Bearer <token>`.
    #[arg(long, env = "SMS_GATEWAY_TOKEN", hide_env_values = true)]
    pub sms_gateway_token: Option<Secret>,

    /// Seconds the SMS gateway has to answer each attempt.
    #[arg(long, env = "SMS_GATEWAY_TIMEOUT", default_value = "10")]
    pub sms_gateway_timeout: u64,

    /// Attempts per message on timeouts, connection errors and 5xx answers (4xx are final).
    #[arg(long, env = "SMS_GATEWAY_ATTEMPTS", default_value = "3")]
    pub sms_gateway_attempts: u32,

    /// The secret the SMS gateway sends its delivery reports to /sms/gateway/status with,
    /// as `Authorization: Bearer <secret>`. Unset, every report is refused.
    #[arg(long, env = "SMS_GATEWAY_WEBHOOK_SECRET", hide_env_values = true)]
    pub sms_gateway_webhook_secret: Option<Secret>,

    /// Seconds before a delivery report that did not reach its Odoo database is sent again;
    /// each further retry waits twice as long (at most an hour), for three days.
    #[arg(
        long,
        env = "SMS_REPORT_RETRY_SECONDS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=3_600)
    )]
    pub sms_report_retry_seconds: u64,

    /// Milliseconds an SMS API call waits for its messages to go out before it answers;
    /// those still queued then are answered `processing`, and their outcome is reported to
    /// the database's webhook.
    #[arg(
        long,
        env = "SMS_API_WAIT_MS",
        default_value_t = 5_000,
        value_parser = clap::value_parser!(u64).range(0..=30_000)
    )]
    pub sms_api_wait_ms: u64,

    /// Messages handed to the SMS provider at once, over all batches.
    #[arg(
        long,
        env = "SMS_CONCURRENCY",
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=256)
    )]
    pub sms_concurrency: u32,

    /// The token a Prometheus scrape of `/metrics` sends, as `Authorization: Bearer <token>`.
    /// Unset, there is no `/metrics` (404).
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<app::secret::Secret>,

    /// Reverse proxies (addresses or ranges, comma-separated) whose `X-Forwarded-For` names
    /// the client; from anyone else the header is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::http::client::Cidr>,

    /// The payment provider: `stripe`, or `demo` (test cards; demo databases only). Unset,
    /// the store shows its packs but nothing can be bought.
    #[arg(long, env = "PAYMENT_PROVIDER", value_enum, help_heading = "Payments")]
    pub payment_provider: Option<ProviderKind>,

    /// Stripe's secret API key (`sk_live_…` or `sk_test_…`); never logged or shown.
    #[arg(
        long,
        env = "STRIPE_SECRET_KEY",
        hide_env_values = true,
        help_heading = "Payments"
    )]
    pub stripe_secret_key: Option<Secret>,

    /// The signing secret of iapd's Stripe webhook endpoint (`whsec_…`).
    #[arg(
        long,
        env = "STRIPE_WEBHOOK_SECRET",
        hide_env_values = true,
        help_heading = "Payments"
    )]
    pub stripe_webhook_secret: Option<Secret>,

    /// Stripe's API; tests point it at a local fake.
    #[arg(
        long,
        env = "STRIPE_API_BASE",
        default_value = app::payment::stripe::DEFAULT_API_BASE,
        help_heading = "Payments"
    )]
    pub stripe_api_base: String,

    /// Payments pending longer than this many seconds are read back from the provider, this
    /// often, in case their webhook was lost.
    #[arg(
        long,
        env = "PAYMENT_RECONCILE_SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        help_heading = "Payments"
    )]
    pub payment_reconcile_seconds: u64,

    /// Log filter, in `tracing` syntax.
    #[arg(long, env = "RUST_LOG", default_value = "info,sqlx=warn")]
    pub log: String,

    /// SMTP server for low-credit warnings. Unset: mails stay queued in the outbox (see
    /// Settings → Technical → Emails) and are logged.
    #[arg(long, env = "SMTP_HOST", help_heading = "Mail")]
    pub smtp_host: Option<String>,

    /// SMTP port; by default 25 without TLS, 587 with STARTTLS, 465 with TLS.
    #[arg(long, env = "SMTP_PORT", help_heading = "Mail")]
    pub smtp_port: Option<u16>,

    /// SMTP user name; no authentication when unset.
    #[arg(long, env = "SMTP_USERNAME", help_heading = "Mail")]
    pub smtp_username: Option<String>,

    /// SMTP password (never logged or shown).
    #[arg(
        long,
        env = "SMTP_PASSWORD",
        hide_env_values = true,
        help_heading = "Mail"
    )]
    pub smtp_password: Option<Secret>,

    /// How to secure the SMTP connection: none, starttls or tls (implicit TLS).
    #[arg(
        long,
        env = "SMTP_TLS",
        default_value = "starttls",
        value_parser = clap::builder::PossibleValuesParser::new(SmtpTls::NAMES)
            .try_map(|name| name.parse::<SmtpTls>()),
        help_heading = "Mail"
    )]
    pub smtp_tls: SmtpTls,

    /// The sender of iapd's mails, e.g. `iapd <iapd@example.com>`.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "iapd <iapd@localhost>",
        help_heading = "Mail"
    )]
    pub mail_from: String,

    /// Attempts per mail before it is marked failed.
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100), help_heading = "Mail")]
    pub mail_max_attempts: u32,

    /// Seconds before the first retry; each further retry waits twice as long (at most an hour).
    #[arg(
        long,
        env = "MAIL_RETRY_SECONDS",
        default_value_t = 30,
        help_heading = "Mail"
    )]
    pub mail_retry_seconds: u64,

    /// Seconds an SMTP conversation may take before the attempt counts as failed.
    #[arg(
        long,
        env = "SMTP_TIMEOUT_SECONDS",
        default_value_t = 30,
        help_heading = "Mail"
    )]
    pub smtp_timeout_seconds: u64,

    /// Let webhooks post to loopback, private and link-local addresses. Off, a webhook whose
    /// host resolves to one is refused, and so is each delivery to it.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false", help_heading = "Webhooks")]
    pub webhook_allow_private: bool,

    /// Seconds a webhook receiver has to answer.
    #[arg(long, env = "WEBHOOK_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60), help_heading = "Webhooks")]
    pub webhook_timeout: u64,

    /// Seconds before a delivery that failed is tried again; each further retry waits twice
    /// as long (at most an hour).
    #[arg(long, env = "WEBHOOK_RETRY_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3_600), help_heading = "Webhooks")]
    pub webhook_retry_seconds: u64,

    /// Attempts per delivery before it is marked failed.
    #[arg(long, env = "WEBHOOK_MAX_ATTEMPTS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=100), help_heading = "Webhooks")]
    pub webhook_max_attempts: u32,

    /// An operator command to run instead of serving (see the README).
    #[command(subcommand)]
    pub command: Option<crate::cli::Command>,
}

/// The payment providers iapd can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderKind {
    /// The built-in Demo provider: approves test cards. Only on a demo database.
    Demo,
    /// Stripe Checkout.
    Stripe,
}

impl Config {
    /// The configured SMS provider: the HTTP gateway when `SMS_GATEWAY_URL` is set, the
    /// built-in outbox otherwise.
    pub fn sms_provider(
        &self,
    ) -> Result<std::sync::Arc<dyn app::sms::SmsProvider>, reqwest::Error> {
        let Some(url) = &self.sms_gateway_url else {
            return Ok(std::sync::Arc::new(app::sms::BuiltinProvider));
        };
        let gateway = app::sms::HttpGateway::new(app::sms::GatewayConfig {
            url: url.clone(),
            token: self
                .sms_gateway_token
                .as_ref()
                .map(|t| t.expose().to_owned()),
            timeout: std::time::Duration::from_secs(self.sms_gateway_timeout.max(1)),
            attempts: self.sms_gateway_attempts.max(1),
            backoff: std::time::Duration::from_millis(500),
        })?;
        Ok(std::sync::Arc::new(gateway))
    }

    /// How the SMS worker runs: `SMS_CONCURRENCY` provider calls at once.
    pub fn sms_worker(&self) -> app::sms::WorkerSettings {
        app::sms::WorkerSettings {
            concurrency: usize::try_from(self.sms_concurrency).unwrap_or(8),
            answer_within: std::time::Duration::from_millis(self.sms_api_wait_ms),
            ..app::sms::WorkerSettings::default()
        }
    }

    /// How delivery reports are forwarded to Odoo databases.
    pub fn sms_reports(&self) -> app::sms::reports::ForwarderSettings {
        app::sms::reports::ForwarderSettings {
            first_retry: std::time::Duration::from_secs(self.sms_report_retry_seconds),
            ..app::sms::reports::ForwarderSettings::default()
        }
    }

    /// How webhook deliveries are posted.
    pub fn webhooks(&self) -> app::webhook::WebhookSettings {
        use std::time::Duration;
        app::webhook::WebhookSettings {
            allow_private: self.webhook_allow_private,
            timeout: Duration::from_secs(self.webhook_timeout),
            first_retry: Duration::from_secs(self.webhook_retry_seconds),
            max_attempts: self.webhook_max_attempts,
            ..app::webhook::WebhookSettings::default()
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The mail worker's settings; `None` for the SMTP server when `SMTP_HOST` is unset.
    pub fn mail(&self) -> app::mail::MailSettings {
        use std::time::Duration;
        let smtp = self.smtp_host.clone().map(|host| app::mail::Smtp {
            port: self.smtp_port.unwrap_or(self.smtp_tls.default_port()),
            host,
            tls: self.smtp_tls,
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            timeout: Duration::from_secs(self.smtp_timeout_seconds.max(1)),
        });
        app::mail::MailSettings {
            smtp,
            from: self.mail_from.clone(),
            max_attempts: self.mail_max_attempts,
            first_retry: Duration::from_secs(self.mail_retry_seconds.max(1)),
            max_retry: Duration::from_secs(3600),
            poll: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_readme() {
        let config = Config::try_parse_from(["server"]).expect("defaults parse");
        assert_eq!(config.database_url, "sqlite://data/iapd.sqlite");
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:3000");
        assert!(!config.demo);
        assert!(!config.secure_cookies());
        assert!(config.sms_gateway_url.is_none());
        assert_eq!(config.sms_worker().concurrency, 8);
        let mail = config.mail();
        assert!(mail.smtp.is_none());
        assert_eq!(mail.max_attempts, 8);
        let webhooks = config.webhooks();
        assert!(!webhooks.allow_private);
        assert_eq!(webhooks.timeout.as_secs(), 10);
        assert_eq!(webhooks.first_retry.as_secs(), 30);
        assert_eq!(webhooks.max_attempts, 12);
        assert!(config.command.is_none());
    }

    #[test]
    fn the_smtp_port_follows_the_tls_mode_unless_given() {
        let port = |args: &[&str]| {
            let mut all = vec!["server", "--smtp-host", "mail.example"];
            all.extend_from_slice(args);
            let config = Config::try_parse_from(all).expect("parse");
            config.mail().smtp.map(|s| s.port)
        };
        assert_eq!(port(&[]), Some(587));
        assert_eq!(port(&["--smtp-tls", "none"]), Some(25));
        assert_eq!(port(&["--smtp-tls", "tls"]), Some(465));
        assert_eq!(
            port(&["--smtp-tls", "tls", "--smtp-port", "2465"]),
            Some(2465)
        );
    }

    #[test]
    fn the_smtp_password_never_appears_in_debug_output() {
        let config = Config::try_parse_from([
            "server",
            "--smtp-host",
            "mail.example",
            "--smtp-password",
            "hunter2-very-secret",
        ])
        .expect("parse");
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(!format!("{:?}", config.mail()).contains("hunter2"));
        assert_eq!(
            config.smtp_password.as_ref().map(Secret::expose),
            Some("hunter2-very-secret")
        );
    }

    #[test]
    fn the_sms_gateway_token_is_never_printed() {
        let config = Config::try_parse_from([
            "server",
            "--sms-gateway-url",
            "http://127.0.0.1:9/sms",
            "--sms-gateway-token",
            "s3cr3t-token",
        ])
        .expect("flags parse");
        assert!(!format!("{config:?}").contains("s3cr3t-token"));
        assert_eq!(config.sms_provider().map(|p| p.code()).ok(), Some("http"));
    }

    #[test]
    fn operator_commands_parse_with_negative_amounts() {
        let config = Config::try_parse_from([
            "server", "adjust", "--token", "t", "--amount", "-2.5", "--reason", "refund",
        ])
        .expect("parse");
        assert!(matches!(
            config.command,
            Some(crate::cli::Command::Adjust { ref amount, .. }) if amount == "-2.5"
        ));
    }

    #[test]
    fn demo_accepts_the_flag_and_https_means_secure_cookies() {
        let config =
            Config::try_parse_from(["server", "--demo", "--public-url", "https://iap.example"])
                .expect("parse");
        assert!(config.demo);
        assert!(config.secure_cookies());
    }
}
