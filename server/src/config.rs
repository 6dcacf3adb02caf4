//! Every setting iapd reads, from command-line flags or environment variables.

use clap::Parser;
use std::net::SocketAddr;

#[derive(Clone, Debug, Parser)]
#[command(
    name = "server",
    version,
    about = "iapd: a self-hosted In-App Purchase credit platform"
)]
pub struct Config {
    /// SQLite database URL; the file is created if missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/iapd.sqlite"
    )]
    pub database_url: String,

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
    pub sms_gateway_token: Option<SecretString>,

    /// Seconds the SMS gateway has to answer each attempt.
    #[arg(long, env = "SMS_GATEWAY_TIMEOUT", default_value = "10")]
    pub sms_gateway_timeout: u64,

    /// Attempts per message on timeouts, connection errors and 5xx answers (4xx are final).
    #[arg(long, env = "SMS_GATEWAY_ATTEMPTS", default_value = "3")]
    pub sms_gateway_attempts: u32,

    /// Log filter, in `tracing` syntax.
    #[arg(long, env = "RUST_LOG", default_value = "info,sqlx=warn")]
    pub log: String,
}

/// A secret from the environment: usable, but never printed by `Debug`.
#[derive(Clone)]
pub struct SecretString(String);

impl SecretString {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for SecretString {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretString(s.to_owned()))
    }
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

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
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
    fn demo_accepts_the_flag_and_https_means_secure_cookies() {
        let config =
            Config::try_parse_from(["server", "--demo", "--public-url", "https://iap.example"])
                .expect("parse");
        assert!(config.demo);
        assert!(config.secure_cookies());
    }
}
