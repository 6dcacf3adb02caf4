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

    /// Log filter, in `tracing` syntax.
    #[arg(long, env = "RUST_LOG", default_value = "info,sqlx=warn")]
    pub log: String,

    /// An operator command to run instead of serving (see the README).
    #[command(subcommand)]
    pub command: Option<crate::cli::Command>,
}

impl Config {
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
        assert!(config.command.is_none());
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
