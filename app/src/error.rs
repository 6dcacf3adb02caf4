//! The one error type users may see, and the one place the layers below are turned into it.
//!
//! Server functions return [`AppError`]. It carries message keys with their arguments, never
//! text from a database or a library: those are logged where they happen and become
//! [`AppError::Internal`]. The page that shows an error renders it in its reader's locale
//! ([`AppError::text`]).

use crate::domain::FieldError;
use crate::domain::credits::Credits;
use crate::domain::ledger::{Conflict, LedgerError};
use crate::i18n::{Msg, Text};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// No valid session: the browser should go to the login page.
    Unauthenticated,
    /// Signed in, but not allowed (e.g. a plain user asking for Settings).
    Forbidden,
    /// The record does not exist or is not visible to the user; the two are not told apart
    /// so ids of other companies' records leak nothing.
    NotFound,
    /// One input is invalid; the error names the form field its message belongs next to.
    Validation(FieldError),
    /// The request contradicts the current state (a duplicate, a stale edit, ...).
    Conflict(Text),
    /// A hold was refused: the dialog offers to buy the difference.
    InsufficientCredits {
        available: Credits,
        required: Credits,
    },
    AccountDisabled,
    /// The payment provider refused the card; the message is its reason.
    PaymentDeclined(Text),
    /// The SMS provider took none of the messages; the hold was released.
    NotSent(Text),
    BadCredentials,
    TooManyAttempts,
    /// Too much is under way (password checks); try again in a moment.
    Busy,
    /// The request could not be read as the call's arguments (a missing field, a word where
    /// a number belongs). Only a hand-made request gets this: the pages send typed values.
    BadRequest(String),
    /// Anything unexpected; the details are only in the server log.
    Internal,
    /// The call never reached the server function, or its answer could not be read. The
    /// text comes from the browser's transport, so it stays as it is.
    Transport(String),
}

impl AppError {
    /// A validation error of `field`.
    pub fn validation(field: &str, message: Msg) -> Self {
        AppError::Validation(FieldError::new(field, message))
    }

    /// What to tell the user.
    pub fn text(&self) -> Text {
        match self {
            AppError::Unauthenticated => Msg::ErrUnauthenticated.into(),
            AppError::Forbidden => Msg::ErrForbidden.into(),
            AppError::NotFound => Msg::ErrNotFound.into(),
            AppError::Validation(error) => error.text(),
            AppError::Conflict(text) | AppError::PaymentDeclined(text) => text.clone(),
            AppError::InsufficientCredits {
                available,
                required,
            } => Text::new(Msg::ErrInsufficientCredits)
                .arg("required", *required)
                .arg("available", *available),
            AppError::AccountDisabled => Msg::ErrAccountDisabled.into(),
            AppError::NotSent(reason) => {
                Text::new(Msg::ErrSmsNotSent).arg("error", reason.to_string())
            }
            AppError::BadCredentials => Msg::ErrBadLogin.into(),
            AppError::TooManyAttempts => Msg::ErrTooManyAttempts.into(),
            AppError::Busy => Msg::ErrBusy.into(),
            AppError::BadRequest(detail) => Text::new(Msg::ErrBadRequest).arg("error", detail),
            AppError::Internal => Msg::ErrInternal.into(),
            AppError::Transport(detail) => Text::new(Msg::ErrTransport).arg("error", detail),
        }
    }

    /// The validation error of `field`, when this error is about that field.
    pub fn field(&self, field: &str) -> Option<&FieldError> {
        match self {
            AppError::Validation(error) if error.field == field => Some(error),
            _ => None,
        }
    }

    /// The message to show next to `field`, when this error is about that field.
    pub fn for_field(&self, field: &str) -> Option<String> {
        self.field(field).map(|e| e.text().to_string())
    }

    /// The HTTP status that says the same: server functions answer with it, and a page
    /// whose data failed to load is served with it.
    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => S::UNAUTHORIZED,
            AppError::Forbidden | AppError::AccountDisabled => S::FORBIDDEN,
            AppError::NotFound => S::NOT_FOUND,
            AppError::BadRequest(_) => S::BAD_REQUEST,
            AppError::Validation(_) => S::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => S::CONFLICT,
            AppError::InsufficientCredits { .. } | AppError::PaymentDeclined(_) => {
                S::PAYMENT_REQUIRED
            }
            AppError::TooManyAttempts | AppError::Busy => S::TOO_MANY_REQUESTS,
            AppError::NotSent(_) => S::BAD_GATEWAY,
            AppError::Internal | AppError::Transport(_) => S::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether the form shows this error next to a field rather than above the form.
    pub fn is_validation(&self) -> bool {
        matches!(self, AppError::Validation(_))
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.text(), f)
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Arguments the server could not decode are the caller's fault (400); everything else
    /// here happened on the way, in the browser or the network.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => {
                AppError::BadRequest(detail)
            }
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(detail) => AppError::BadRequest(detail),
            other => AppError::Transport(other.to_string()),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Validation(error)
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

impl From<LedgerError> for AppError {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::UnknownAccount
            | LedgerError::UnknownHold
            | LedgerError::UnknownOrder
            | LedgerError::UnknownEntry
            | LedgerError::UnknownMessage => AppError::NotFound,
            LedgerError::AccountDisabled => AppError::AccountDisabled,
            LedgerError::InsufficientCredits {
                available,
                required,
            } => AppError::InsufficientCredits {
                available,
                required,
            },
            LedgerError::HoldExpired => AppError::Conflict(Msg::ErrHoldExpired.into()),
            LedgerError::Conflict(conflict) => AppError::Conflict(conflict_text(conflict)),
            LedgerError::Invalid(error) => AppError::Validation(error),
            LedgerError::Storage => AppError::Internal,
        }
    }
}

/// What a ledger refusal says, for pages, the API and the command line alike.
pub fn ledger_text(error: &LedgerError) -> Text {
    match error {
        LedgerError::UnknownAccount => Msg::ErrUnknownAccount.into(),
        LedgerError::UnknownHold => Msg::ErrUnknownHold.into(),
        LedgerError::UnknownOrder | LedgerError::UnknownMessage | LedgerError::UnknownEntry => {
            Msg::ErrNotFound.into()
        }
        LedgerError::Storage => Msg::ErrLedgerStorage.into(),
        other => AppError::from(other.clone()).text(),
    }
}

fn conflict_text(conflict: Conflict) -> Text {
    match conflict {
        Conflict::CapturedFor(amount) => {
            Text::new(Msg::ErrAlreadyCapturedFor).arg("amount", amount)
        }
        Conflict::HoldCancelled => Msg::ErrHoldCancelled.into(),
        Conflict::AlreadyCaptured => Msg::ErrAlreadyCaptured.into(),
        Conflict::IdempotencyKeyReused => Msg::ErrIdempotencyConflict.into(),
        Conflict::OrderPaid => Msg::ErrOrderPaid.into(),
        Conflict::OrderFailed => Msg::ErrOrderFailed.into(),
        Conflict::PaymentReused => Msg::ErrPaymentReused.into(),
        Conflict::ReversedFor(amount) => Text::new(Msg::ErrReversedFor).arg("amount", amount),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_error_belongs_to_its_field_only() {
        let err = AppError::validation("email", Msg::ErrEmail);
        assert_eq!(
            err.for_field("email"),
            Some(Msg::ErrEmail.text(Default::default()).into())
        );
        assert_eq!(err.for_field("name"), None);
        assert_eq!(
            err.to_string(),
            "Enter an email address such as name@example.com."
        );
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

    #[test]
    fn ledger_refusals_become_what_users_see() {
        assert_eq!(AppError::from(LedgerError::UnknownHold), AppError::NotFound);
        assert_eq!(
            AppError::from(LedgerError::Conflict(Conflict::CapturedFor(
                Credits::from_minor(25_000)
            )))
            .to_string(),
            "The transaction was already captured for 2.5."
        );
        assert_eq!(
            ledger_text(&LedgerError::UnknownAccount).to_string(),
            "The IAP account does not exist."
        );
    }
}
