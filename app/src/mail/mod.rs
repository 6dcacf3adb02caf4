//! Outgoing mail: the SMTP settings, the transport (`lettre` on tokio, TLS by rustls), and
//! the worker that drains the outbox.
//!
//! Mails are never sent where they are caused: the ledger writer inserts them into the
//! `mail_outbox` table in the same transaction as the change that caused them, and
//! [`worker`] delivers them afterwards. A slow or broken SMTP server therefore never holds
//! up or rolls back a ledger change, and a crash loses no mail.
//!
//! # Layout
//! - this file: [`MailSettings`], [`Smtp`] and [`Mailer`], which turns an outbox row into
//!   a multipart (plain text + HTML) message and sends it;
//! - [`render`]: the mails iapd writes, as subject, text and HTML;
//! - [`worker`]: polling, retries with exponential back-off, and marking mails sent or failed.

pub mod render;
pub mod worker;

use crate::db::outbox::DueMail;
use crate::secret::Secret;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Where and how the worker sends mail.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `None`: no SMTP server is configured, so mails stay queued and are only logged.
    pub smtp: Option<Smtp>,
    /// The `From` of every mail.
    pub from: String,
    /// Attempts per mail before it is marked failed.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles after each further one.
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry: Duration,
    /// How often the worker looks for due mails.
    pub poll: Duration,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text, for a relay on the same machine or network.
    None,
    /// Upgrade with STARTTLS, required.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

impl SmtpTls {
    /// The names the configuration accepts.
    pub const NAMES: [&'static str; 3] = ["none", "starttls", "tls"];

    /// The port this mode usually runs on.
    pub const fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

impl std::str::FromStr for SmtpTls {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::Starttls),
            "tls" => Ok(SmtpTls::Tls),
            other => Err(format!(
                "unknown SMTP TLS mode {other:?}: use none, starttls or tls"
            )),
        }
    }
}

/// An SMTP server.
#[derive(Clone, Debug)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    /// `Debug` shows it redacted.
    pub password: Option<Secret>,
    /// The longest a whole SMTP conversation may take; a server that stops answering
    /// otherwise holds the worker forever.
    pub timeout: Duration,
}

/// Why a mail could not be sent; its text is kept as the outbox row's last error.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("invalid address {0:?}")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the SMTP server did not finish within {0:?}")]
    Timeout(Duration),
}

impl SendError {
    /// Whether trying again can help: a malformed message never gets better.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Address(_) | SendError::Build(_))
    }
}

/// Sends outbox mails through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl Mailer {
    /// Checks the sender address and prepares the transport; no connection is made yet.
    pub fn new(smtp: &Smtp, from: &str) -> Result<Self, SendError> {
        let from: Mailbox = from
            .parse()
            .map_err(|_| SendError::Address(from.to_owned()))?;
        let builder = match smtp.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
        };
        let mut builder = builder.port(smtp.port).timeout(Some(smtp.timeout));
        if let Some(username) = &smtp.username {
            let password = smtp.password.as_ref().map_or("", Secret::expose);
            builder = builder.credentials(Credentials::new(username.clone(), password.to_owned()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            timeout: smtp.timeout,
        })
    }

    /// The message for an outbox row: to every recipient, plain text and HTML alternatives.
    pub fn message(&self, mail: &DueMail) -> Result<Message, SendError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.clone());
        for recipient in mail.recipient_list() {
            let to: Mailbox = recipient
                .parse()
                .map_err(|_| SendError::Address(recipient.clone()))?;
            builder = builder.to(to);
        }
        Ok(builder.multipart(MultiPart::alternative_plain_html(
            mail.text_body.clone(),
            mail.html_body.clone(),
        ))?)
    }

    /// Sends one outbox mail, giving up after the configured timeout.
    pub async fn send(&self, mail: &DueMail) -> Result<(), SendError> {
        let message = self.message(mail)?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(result) => result.map(|_| ()).map_err(SendError::from),
            Err(_) => Err(SendError::Timeout(self.timeout)),
        }
    }
}
