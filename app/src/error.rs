//! The one error type users may see.
//!
//! Server functions return [`AppError`]; its text is what the browser shows, so nothing in it
//! may come from a database or library error. Those are logged where they happen and become
//! [`AppError::Internal`].

use crate::i18n::{Msg, t, tf};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session: the browser should go to the login page.
    #[error("{}", t(Msg::ErrUnauthenticated))]
    Unauthenticated,
    /// Signed in, but not allowed (e.g. a plain user asking for Settings).
    #[error("{}", t(Msg::ErrForbidden))]
    Forbidden,
    /// The record does not exist or is not visible to the user; the two are not told apart
    /// so ids of other companies' records leak nothing.
    #[error("{}", t(Msg::ErrNotFound))]
    NotFound,
    /// One input is invalid; `field` names the form field the message belongs next to.
    #[error("{message}")]
    Validation { field: String, message: String },
    /// The request contradicts the current state (a duplicate, a stale edit, ...).
    #[error("{0}")]
    Conflict(String),
    /// A hold was refused: the dialog offers to buy the difference.
    #[error("{}", tf(Msg::ErrInsufficientCredits, &[&crate::domain::credits::Credits::from_minor(*required).to_string(), &crate::domain::credits::Credits::from_minor(*available).to_string()]))]
    InsufficientCredits { available: i64, required: i64 },
    #[error("{}", t(Msg::ErrAccountDisabled))]
    AccountDisabled,
    /// The payment provider refused the card; the message is its reason.
    #[error("{0}")]
    PaymentDeclined(String),
    /// The SMS provider took none of the messages; the hold was released.
    #[error("{}", tf(Msg::ErrSmsNotSent, &[.0]))]
    NotSent(String),
    #[error("{}", t(Msg::ErrBadLogin))]
    BadCredentials,
    #[error("{}", t(Msg::ErrTooManyAttempts))]
    TooManyAttempts,
    /// Anything unexpected; the details are only in the server log.
    #[error("{}", t(Msg::ErrInternal))]
    Internal,
    /// The call never reached the server function, or its answer could not be read.
    #[error("{}", tf(Msg::ErrTransport, &[.0]))]
    Transport(String),
}

impl AppError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The message to show next to `field`, when this error is about that field.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        match self {
            AppError::Validation { field: f, message } if f == field => Some(message),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    /// Logs the database error with the current span's context and hides it from the user.
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "database error");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl From<crate::domain::ledger::LedgerError> for AppError {
    fn from(error: crate::domain::ledger::LedgerError) -> Self {
        use crate::domain::ledger::LedgerError as L;
        match error {
            L::UnknownAccount | L::UnknownHold => AppError::NotFound,
            L::AccountDisabled => AppError::AccountDisabled,
            L::InsufficientCredits {
                available,
                required,
            } => AppError::InsufficientCredits {
                available: available.minor(),
                required: required.minor(),
            },
            L::HoldExpired | L::Conflict(_) => AppError::Conflict(error.to_string()),
            L::Invalid { field, message } => AppError::Validation {
                field: field.to_owned(),
                message,
            },
            L::Storage => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_error_belongs_to_its_field_only() {
        let err = AppError::validation("email", "bad");
        assert_eq!(err.for_field("email"), Some("bad"));
        assert_eq!(err.for_field("name"), None);
        assert_eq!(err.to_string(), "bad");
    }

    #[test]
    fn internal_errors_say_nothing_about_their_cause() {
        assert!(
            !AppError::Internal
                .to_string()
                .to_lowercase()
                .contains("sql")
        );
    }
}
