//! Posting webhook events: the worker that delivers the outbox (`webhook_deliveries`), and
//! the check a webhook's URL passes before it is saved.
//!
//! Each due delivery is POSTed as JSON with its `Iapd-Signature`. A 2xx answer delivers it;
//! anything else (another status, a timeout, no connection, a refused address) is tried
//! again after a wait that doubles from `first_retry`, at most an hour apart, until
//! `max_attempts`; then it is failed. Redirects are not followed: a receiver that moved says
//! so in the delivery log. Unless private targets are allowed, the host is resolved first
//! and the request goes to the address that was checked, so a name cannot point somewhere
//! private between the check and the connection.

use crate::db::webhooks::{self as store, Attempt, DueDelivery};
use crate::domain::FieldError;
use crate::domain::webhook::{self as rules, SIGNATURE_HEADER};
use crate::i18n::Msg;
use crate::tasks::Tasks;
use sqlx::AnyPool;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Deliveries posted per pass; the rest wait for the next one.
const BATCH: i64 = 20;
/// How long a pass keeps the deliveries it took from other passes: far longer than posting
/// [`BATCH`] of them takes, each cut off after its timeout.
const CLAIM_MS: i64 = 10 * 60 * 1000;

/// How the worker delivers.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Post to loopback, private and link-local addresses too (`WEBHOOK_ALLOW_PRIVATE`).
    pub allow_private: bool,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// The first wait before a failed delivery is tried again.
    pub first_retry: Duration,
    /// Attempts before a delivery is failed.
    pub max_attempts: u32,
    /// How often the worker looks for due deliveries.
    pub poll: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(30),
            max_attempts: 12,
            poll: Duration::from_secs(1),
        }
    }
}

/// Starts the worker among `tasks`: a pass every `settings.poll` until shutdown.
pub fn start(tasks: &mut Tasks, pool: AnyPool, settings: WebhookSettings) {
    let settings = Arc::new(settings);
    tasks.every("webhook deliveries", settings.poll, move || {
        let (pool, settings) = (pool.clone(), settings.clone());
        async move {
            if let Err(error) = deliver_due(&pool, &settings).await {
                tracing::warn!(%error, "webhook pass failed; trying again");
            }
        }
    });
}

/// One pass: tries every due delivery once. Returns how many were delivered.
#[tracing::instrument(skip_all)]
pub async fn deliver_due(pool: &AnyPool, settings: &WebhookSettings) -> Result<usize, sqlx::Error> {
    let due = {
        let mut conn = pool.acquire().await?;
        let now = crate::clock::now_ms();
        store::claim_due(&mut conn, now, now.saturating_add(CLAIM_MS), BATCH).await?
    };
    let mut delivered = 0;
    for delivery in due {
        let outcome = post(&delivery, settings).await;
        let now = crate::clock::now_ms();
        let attempts = u32::try_from(delivery.attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let attempt = match outcome {
            Ok(status) if rules::accepted(status) => Attempt {
                delivered: true,
                status: Some(status),
                error: None,
                retry_at: None,
            },
            failed => {
                let (status, error) = match failed {
                    Ok(status) => (Some(status), format!("HTTP {status}")),
                    Err(error) => (None, error),
                };
                let first = i64::try_from(settings.first_retry.as_millis()).unwrap_or(i64::MAX);
                let retry_at = (attempts < settings.max_attempts)
                    .then(|| now.saturating_add(rules::retry_delay_ms(first, attempts)));
                Attempt {
                    delivered: false,
                    status,
                    error: Some(error),
                    retry_at,
                }
            }
        };
        let mut conn = pool.acquire().await?;
        store::record_attempt(&mut conn, delivery.id, &attempt, now).await?;
        if attempt.delivered {
            delivered += 1;
            tracing::info!(
                delivery = delivery.id,
                webhook = delivery.webhook_id,
                "webhook delivered"
            );
        } else if attempt.retry_at.is_some() {
            tracing::warn!(
                delivery = delivery.id,
                webhook = delivery.webhook_id,
                attempts,
                error = attempt.error,
                "webhook not delivered; will retry"
            );
        } else {
            tracing::error!(
                delivery = delivery.id,
                webhook = delivery.webhook_id,
                attempts,
                error = attempt.error,
                "webhook failed for good"
            );
        }
    }
    Ok(delivered)
}

/// Posts one delivery: the receiver's status, or why there was none.
async fn post(delivery: &DueDelivery, settings: &WebhookSettings) -> Result<u16, String> {
    let url = rules::parse_url(&delivery.url).map_err(|_| "not an http(s) URL".to_owned())?;
    let mut client = reqwest::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("iapd-webhooks");
    if !settings.allow_private {
        let (host, addr) = public_address(&url).await.map_err(|e| e.to_string())?;
        client = client.resolve(&host, addr);
    }
    let client = client.build().map_err(|e| e.to_string())?;
    let t = crate::clock::now_ms().div_euclid(1000);
    let signature = rules::signature(delivery.body.as_bytes(), &delivery.secret, t);
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(response.status().as_u16())
}

/// Why a webhook's host cannot be posted to.
#[derive(Debug, thiserror::Error)]
enum Unreachable {
    #[error("{host} resolves to the private address {ip}; WEBHOOK_ALLOW_PRIVATE is off")]
    Private { host: String, ip: std::net::IpAddr },
    #[error("cannot resolve {host}: {reason}")]
    Unresolved { host: String, reason: String },
}

/// The URL's host and one public address of it; else the first address that is not
/// public, or why the host could not be resolved.
async fn public_address(url: &url::Url) -> Result<(String, SocketAddr), Unreachable> {
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let unresolved = |reason: String| Unreachable::Unresolved {
        host: host.clone(),
        reason,
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|e| unresolved(e.to_string()))?
        .collect();
    if let Some(private) = addrs.iter().find(|a| !rules::is_public(a.ip())) {
        return Err(Unreachable::Private {
            host: host.clone(),
            ip: private.ip(),
        });
    }
    let addr = addrs
        .first()
        .copied()
        .ok_or_else(|| unresolved("no address".to_owned()))?;
    Ok((bare, addr))
}

/// A transport error in a few words (reqwest's own chain is long).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        text
    }
}

/// Checks a URL an administrator gives a webhook: `http(s)`, and unless private targets
/// are allowed, a host that does not resolve to a private address. A host that does not
/// resolve at all is accepted; its deliveries say why they fail.
pub async fn check_target(text: &str, allow_private: bool) -> Result<url::Url, FieldError> {
    let url = rules::parse_url(text)?;
    if allow_private {
        return Ok(url);
    }
    match public_address(&url).await {
        Err(Unreachable::Private { host, .. }) => {
            Err(FieldError::new("url", Msg::ErrWebhookPrivate).arg("host", host))
        }
        Ok(_) | Err(Unreachable::Unresolved { .. }) => Ok(url),
    }
}

/// A new webhook's signing secret.
pub fn new_secret() -> String {
    format!("whsec_{}", crate::crypto::random_token(24))
}
