//! The password policy: what iapd accepts as a new password, wherever it is set (the
//! Settings → Users form, Change password, the `server user` commands).
//!
//! Length is what makes a password hard to guess (NIST SP 800-63B), so the rule is at least
//! [`MIN_CHARS`] characters and none of the common passwords that guessing tools try first,
//! compared case-insensitively. No composition rules ("a digit and a symbol"): they make
//! passwords harder to remember, not to guess. The demo users keep `admin` and `demo`: the
//! seed hashes them directly and never goes through this policy.

use crate::domain::FieldError;
use crate::i18n::Msg;
use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 10;
/// The longest, in characters: enough for any passphrase or password manager.
pub const MAX_CHARS: usize = 256;

/// Common passwords of at least [`MIN_CHARS`] characters, lowercase, one a line; the file
/// says where they come from.
const COMMON: &str = include_str!("common-passwords.txt");

static COMMON_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Whether `password` is on the list of common passwords, whatever its case.
pub fn is_common(password: &str) -> bool {
    COMMON_SET.contains(password.to_lowercase().as_str())
}

/// A password that passed the policy, ready to be hashed. It is never printed: `Debug`
/// shows a placeholder, and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    /// Checks `password` for the user `login`; the error names the form field `field`.
    /// Spaces count like any other character and nothing is trimmed: what is typed is the
    /// password.
    pub fn parse(field: &str, password: &str, login: &str) -> Result<Self, FieldError> {
        let chars = password.chars().count();
        if chars == 0 {
            return Err(FieldError::new(field, Msg::ErrRequired));
        }
        if chars < MIN_CHARS {
            return Err(FieldError::new(field, Msg::ErrPasswordShort).arg("min", MIN_CHARS));
        }
        if chars > MAX_CHARS {
            return Err(FieldError::new(field, Msg::ErrTooLong).arg("max", MAX_CHARS));
        }
        if password.to_lowercase() == login.trim().to_lowercase() {
            return Err(FieldError::new(field, Msg::ErrPasswordIsLogin));
        }
        if is_common(password) {
            return Err(FieldError::new(field, Msg::ErrPasswordCommon));
        }
        Ok(NewPassword(password.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Whether the confirmation repeats the new password: it is typed twice so that a typo does
/// not lock its owner out. The error belongs to the field `field`.
pub fn check_confirmation(
    field: &str,
    password: &str,
    confirmation: &str,
) -> Result<(), FieldError> {
    if password == confirmation {
        Ok(())
    } else {
        Err(FieldError::new(field, Msg::ErrPasswordMismatch))
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(password: &str) -> Option<Msg> {
        NewPassword::parse("password", password, "jdoe")
            .err()
            .map(|e| e.message)
    }

    #[test]
    fn ten_characters_are_enough_and_nine_are_not() {
        assert_eq!(refusal("k7#vQ2pLx"), Some(Msg::ErrPasswordShort));
        assert_eq!(refusal("k7#vQ2pLxz"), None);
        let error = NewPassword::parse("new_password", "short", "jdoe").expect_err("short");
        assert_eq!(error.field, "new_password");
        assert_eq!(
            error.text().to_string(),
            "Use at least 10 characters; a few words make a good password."
        );
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        // Nine characters, eighteen bytes in UTF-8.
        assert_eq!(refusal("ééééééééé"), Some(Msg::ErrPasswordShort));
        assert_eq!(refusal("éééééééééé"), None);
    }

    #[test]
    fn an_empty_password_is_missing_and_a_huge_one_too_long() {
        assert_eq!(refusal(""), Some(Msg::ErrRequired));
        assert_eq!(refusal(&"x1".repeat(129)), Some(Msg::ErrTooLong));
        assert_eq!(refusal(&"correct horse ".repeat(19)[..MAX_CHARS]), None);
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in [
            "password123",
            "PASSWORD123",
            "Qwertyuiop",
            "1q2w3e4r5t",
            "tinkerbell",
        ] {
            assert_eq!(refusal(common), Some(Msg::ErrPasswordCommon), "{common}");
        }
        assert!(is_common("CorrectHorseBatteryStaple"));
        assert!(!is_common("violet ferry 42 pebbles"));
    }

    #[test]
    fn the_list_is_thousands_of_lowercase_entries_the_length_rule_would_not_catch() {
        let set = &*COMMON_SET;
        assert!(set.len() > 2_000, "{}", set.len());
        for entry in set {
            assert_eq!(entry.to_lowercase(), *entry);
            assert!(entry.chars().count() >= MIN_CHARS, "{entry}");
        }
        // Comment lines are not passwords.
        assert!(!set.iter().any(|e| e.starts_with('#')));
    }

    #[test]
    fn the_login_is_not_a_password() {
        assert_eq!(
            NewPassword::parse("password", "Jane.Doe.1", "jane.doe.1")
                .err()
                .map(|e| e.message),
            Some(Msg::ErrPasswordIsLogin)
        );
    }

    #[test]
    fn the_confirmation_must_repeat_the_password_exactly() {
        assert_eq!(
            check_confirmation("confirm", "violet ferry", "violet ferry"),
            Ok(())
        );
        let error =
            check_confirmation("confirm", "violet ferry", "Violet ferry").expect_err("differs");
        assert_eq!(
            (error.field.as_str(), error.message),
            ("confirm", Msg::ErrPasswordMismatch)
        );
    }

    #[test]
    fn spaces_are_kept_and_the_password_never_shows_in_debug_output() {
        let password = NewPassword::parse("password", " violet ferry ", "jdoe").expect("valid");
        assert_eq!(password.expose(), " violet ferry ");
        assert!(!format!("{password:?}").contains("violet"));
    }
}
