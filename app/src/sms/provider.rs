//! Where accepted messages go. The SMS worker only sees [`SmsProvider`], one message per
//! call (it runs several calls at once); iapd ships the built-in outbox and an HTTP gateway.

use crate::i18n::{Msg, Text};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A message as a provider receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The outbox id: also the idempotency key a gateway can use to drop a retried copy.
    pub id: i64,
    /// E.164.
    pub number: String,
    pub body: String,
    /// `GSM7` or `UNICODE`.
    pub encoding: String,
    pub parts: i64,
    /// The name the SMS should come from, when the account chose one (3 to 11 letters and
    /// digits).
    pub sender: Option<String>,
}

/// Why a provider did not take a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotTaken {
    /// It said no (an HTTP gateway's 4xx): final. The message is recorded as an error and
    /// costs nothing.
    Refused(Text),
    /// No clear answer (a timeout, a 5xx, no connection): the message may have gone out.
    /// It stays queued, and is handed over again later under the same id, until the
    /// provider says yes or no; only then is it charged or freed.
    Unsure(Text),
}

impl NotTaken {
    /// The reason, as the outbox shows it.
    pub fn reason(&self) -> &Text {
        match self {
            NotTaken::Refused(reason) | NotTaken::Unsure(reason) => reason,
        }
    }
}

/// The provider's answer for one message: its reference, or why it did not take it.
pub type Delivery = Result<String, NotTaken>;

pub trait SmsProvider: Send + Sync {
    /// Stored on each message, so the outbox says who took it.
    fn code(&self) -> &'static str;
    /// Hands over one message. Called again for the same message after a crash, so a
    /// provider must recognise a repeat by [`Outgoing::id`].
    fn send<'a>(
        &'a self,
        message: &'a Outgoing,
    ) -> Pin<Box<dyn Future<Output = Delivery> + Send + 'a>>;
}

/// The default: messages are accepted into the SMS outbox (Settings → Technical), where an
/// operator can see them. Delivering to phones needs a gateway this machine cannot reach.
pub struct BuiltinProvider;

impl SmsProvider for BuiltinProvider {
    fn code(&self) -> &'static str {
        "outbox"
    }

    fn send<'a>(
        &'a self,
        message: &'a Outgoing,
    ) -> Pin<Box<dyn Future<Output = Delivery> + Send + 'a>> {
        Box::pin(async move {
            tracing::info!(id = message.id, number = %message.number, parts = message.parts, "SMS accepted into the outbox");
            Ok(format!("outbox-{}", message.id))
        })
    }
}

/// How to reach an HTTP SMS gateway.
#[derive(Clone)]
pub struct GatewayConfig {
    pub url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub token: Option<String>,
    /// For each attempt.
    pub timeout: Duration,
    /// Attempts per message, the first included; a 4xx answer is never retried.
    pub attempts: u32,
    /// The wait before the second attempt, doubled before each further one.
    pub backoff: Duration,
}

/// POSTs each message as JSON to a gateway: `{"id", "to", "body", "encoding", "parts"}`,
/// and `"sender"` when the account has a sender name, with an `Idempotency-Key` header.
/// Any 2xx accepts the message (an optional `{"reference": "…"}` answer is kept); a 4xx
/// refuses it for good, except 408 and 429 (try again later). Anything else (a timeout, no
/// connection, a 5xx) is retried a few times, then reported [`NotTaken::Unsure`]: the
/// gateway may have taken it.
///
/// The gateway must answer a repeated `Idempotency-Key` as it answered the first time,
/// without sending again: that is what makes handing a message over again safe.
pub struct HttpGateway {
    client: reqwest::Client,
    config: GatewayConfig,
}

impl HttpGateway {
    pub fn new(config: GatewayConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()?;
        Ok(HttpGateway { client, config })
    }

    async fn deliver(&self, message: &Outgoing) -> Delivery {
        let mut payload = serde_json::json!({
            "id": message.id,
            "to": message.number,
            "body": message.body,
            "encoding": message.encoding,
            "parts": message.parts,
        });
        if let Some(sender) = &message.sender {
            payload["sender"] = serde_json::Value::String(sender.clone());
        }
        let mut wait = self.config.backoff;
        let mut last_error = Text::new(Msg::SmsGatewayUnreachable);
        for attempt in 1..=self.config.attempts.max(1) {
            if attempt > 1 {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            let mut request = self
                .client
                .post(&self.config.url)
                .header("Idempotency-Key", format!("iapd-sms-{}", message.id))
                .json(&payload);
            if let Some(token) = &self.config.token {
                request = request.bearer_auth(token);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    let reference = response
                        .json::<serde_json::Value>()
                        .await
                        .ok()
                        .and_then(|v| v.get("reference")?.as_str().map(str::to_owned))
                        .unwrap_or_else(|| format!("gateway-{}", message.id));
                    return Ok(reference);
                }
                Ok(response) => {
                    let status = response.status();
                    last_error = Text::new(Msg::SmsGatewayStatus).arg("status", status.to_string());
                    let later = matches!(status.as_u16(), 408 | 429);
                    if status.is_client_error() && !later {
                        return Err(NotTaken::Refused(last_error));
                    }
                }
                Err(error) => {
                    last_error = Text::new(if error.is_timeout() {
                        Msg::SmsGatewayTimeout
                    } else {
                        Msg::SmsGatewayUnreachable
                    });
                }
            }
            tracing::warn!(id = message.id, attempt, error = %last_error, "SMS gateway attempt failed");
        }
        Err(NotTaken::Unsure(last_error))
    }
}

impl SmsProvider for HttpGateway {
    fn code(&self) -> &'static str {
        "http"
    }

    fn send<'a>(
        &'a self,
        message: &'a Outgoing,
    ) -> Pin<Box<dyn Future<Output = Delivery> + Send + 'a>> {
        Box::pin(self.deliver(message))
    }
}
