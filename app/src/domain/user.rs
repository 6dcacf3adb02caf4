//! Users: how they sign in (their login), what they are called, what they may do (their
//! [`Role`]) and where they work (their companies), and the rule that always leaves an
//! administrator who can sign in.

use crate::domain::FieldError;
use crate::i18n::Msg;
use serde::{Deserialize, Serialize};

pub const LOGIN_MAX: usize = 64;
pub const NAME_MAX: usize = 128;

/// What a user may do. Administrators also open Settings: users, IAP accounts, orders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    User,
    Administrator,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::User, Role::Administrator];

    /// How the database stores it: the `is_admin` flag.
    pub fn from_admin(is_admin: bool) -> Self {
        if is_admin {
            Role::Administrator
        } else {
            Role::User
        }
    }

    pub fn is_admin(self) -> bool {
        self == Role::Administrator
    }

    /// Its name in forms and in the command line's output.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub fn label(self) -> Msg {
        match self {
            Role::User => Msg::RoleUser,
            Role::Administrator => Msg::RoleAdministrator,
        }
    }
}

/// A new user that passed validation, before its companies are looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub login: String,
    pub name: String,
    pub role: Role,
    /// At least one, without repeats, in the order given: the first is the user's default
    /// company, the one they work in after logging in.
    pub company_ids: Vec<i64>,
}

impl NewUser {
    pub fn parse(
        login: &str,
        name: &str,
        role: Role,
        company_ids: &[i64],
    ) -> Result<Self, FieldError> {
        Ok(NewUser {
            login: parse_login(login)?,
            name: parse_name(name)?,
            role,
            company_ids: parse_companies(company_ids)?,
        })
    }
}

/// What the user form changes on an existing user, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserEdit {
    pub name: String,
    pub role: Role,
    pub company_ids: Vec<i64>,
    pub active: bool,
    /// The language they see iapd in; `None` follows their browser.
    pub locale: Option<crate::i18n::Locale>,
}

impl UserEdit {
    pub fn parse(
        name: &str,
        role: Role,
        company_ids: &[i64],
        active: bool,
        locale: Option<crate::i18n::Locale>,
    ) -> Result<Self, FieldError> {
        Ok(UserEdit {
            name: parse_name(name)?,
            role,
            company_ids: parse_companies(company_ids)?,
            active,
            locale,
        })
    }
}

/// A login: trimmed, 1 to [`LOGIN_MAX`] characters, no spaces or control characters (an
/// email address is a good login). Logins are unique whatever their case.
pub fn parse_login(login: &str) -> Result<String, FieldError> {
    let login = login.trim();
    if login.is_empty() {
        return Err(FieldError::new("login", Msg::ErrRequired));
    }
    if login.chars().count() > LOGIN_MAX
        || login.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(FieldError::new("login", Msg::ErrLogin).arg("max", LOGIN_MAX));
    }
    Ok(login.to_owned())
}

/// A user's full name: trimmed, 1 to [`NAME_MAX`] characters.
pub fn parse_name(name: &str) -> Result<String, FieldError> {
    super::text::line("name", name, NAME_MAX)
}

fn parse_companies(ids: &[i64]) -> Result<Vec<i64>, FieldError> {
    let mut unique: Vec<i64> = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.is_empty() {
        return Err(FieldError::new("companies", Msg::ErrCompanyNeeded));
    }
    Ok(unique)
}

/// The part of a user that decides whether they count as an administrator who can sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
}

impl Standing {
    pub fn is_active_admin(self) -> bool {
        self.active && self.role.is_admin()
    }
}

/// Whether the administrator `actor` may change user `target` from `before` to `after`,
/// when `active_admins` active administrators exist (read in the same transaction as the
/// change, so two administrators demoting each other at once cannot both succeed).
/// Administrators cannot demote or deactivate themselves, so nobody locks themselves out by
/// mistake; and the last active administrator stays one, so someone can always manage
/// iapd. The error names the form field to change back.
pub fn check_change(
    actor: i64,
    target: i64,
    before: Standing,
    after: Standing,
    active_admins: u64,
) -> Result<(), FieldError> {
    let demoted = before.role.is_admin() && !after.role.is_admin();
    let deactivated = before.active && !after.active;
    if actor == target {
        if deactivated {
            return Err(FieldError::new("active", Msg::ErrDeactivateSelf));
        }
        if demoted {
            return Err(FieldError::new("role", Msg::ErrDemoteSelf));
        }
    }
    if before.is_active_admin() && !after.is_active_admin() && active_admins <= 1 {
        let field = if demoted { "role" } else { "active" };
        return Err(FieldError::new(field, Msg::ErrLastAdmin));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: Standing = Standing {
        role: Role::Administrator,
        active: true,
    };
    const USER: Standing = Standing {
        role: Role::User,
        active: true,
    };
    const INACTIVE_ADMIN: Standing = Standing {
        role: Role::Administrator,
        active: false,
    };

    fn refusal(result: Result<(), FieldError>) -> Option<(String, Msg)> {
        result.err().map(|e| (e.field, e.message))
    }

    #[test]
    fn a_new_user_needs_a_login_without_spaces_a_name_and_a_company() {
        let user = NewUser::parse("  jane@example.com ", " Jane Doe ", Role::User, &[2, 1, 2])
            .expect("valid");
        assert_eq!(user.login, "jane@example.com");
        assert_eq!(user.name, "Jane Doe");
        assert_eq!(user.company_ids, vec![2, 1], "order kept, repeats dropped");

        let field = |login: &str, name: &str, companies: &[i64]| {
            NewUser::parse(login, name, Role::User, companies)
                .err()
                .map(|e| (e.field, e.message))
        };
        assert_eq!(
            field(" ", "Jane", &[1]),
            Some(("login".into(), Msg::ErrRequired))
        );
        assert_eq!(
            field("jane doe", "Jane", &[1]),
            Some(("login".into(), Msg::ErrLogin))
        );
        assert_eq!(
            field(&"j".repeat(65), "Jane", &[1]),
            Some(("login".into(), Msg::ErrLogin))
        );
        assert_eq!(field(&"j".repeat(64), "Jane", &[1]), None);
        assert_eq!(
            field("jane", "", &[1]),
            Some(("name".into(), Msg::ErrRequired))
        );
        assert_eq!(
            field("jane", &"n".repeat(129), &[1]),
            Some(("name".into(), Msg::ErrTooLong))
        );
        assert_eq!(
            field("jane", "Jane", &[]),
            Some(("companies".into(), Msg::ErrCompanyNeeded))
        );
    }

    #[test]
    fn an_edit_checks_the_name_and_companies_too() {
        let french = Some(crate::i18n::Locale::Fr);
        let edit =
            UserEdit::parse(" Jane ", Role::Administrator, &[3], false, french).expect("valid");
        assert_eq!((edit.name.as_str(), edit.locale), ("Jane", french));
        assert!(!edit.active);
        assert!(UserEdit::parse("Jane", Role::User, &[], true, None).is_err());
        assert!(UserEdit::parse("\u{7}", Role::User, &[1], true, None).is_err());
    }

    #[test]
    fn roles_have_a_stable_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::from_admin(role.is_admin()), role);
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(
            serde_json::to_string(&Role::Administrator).expect("json"),
            r#""administrator""#
        );
    }

    #[test]
    fn administrators_cannot_demote_or_deactivate_themselves() {
        let demoted = Standing {
            role: Role::User,
            ..ADMIN
        };
        let deactivated = Standing {
            active: false,
            ..ADMIN
        };
        assert_eq!(
            refusal(check_change(1, 1, ADMIN, demoted, 3)),
            Some(("role".into(), Msg::ErrDemoteSelf))
        );
        assert_eq!(
            refusal(check_change(1, 1, ADMIN, deactivated, 3)),
            Some(("active".into(), Msg::ErrDeactivateSelf))
        );
        assert_eq!(check_change(1, 1, ADMIN, ADMIN, 1), Ok(()));
        // Another administrator may do both, while others remain.
        assert_eq!(check_change(1, 2, ADMIN, demoted, 2), Ok(()));
        assert_eq!(check_change(1, 2, ADMIN, deactivated, 2), Ok(()));
    }

    #[test]
    fn the_last_active_administrator_stays_one() {
        let demoted = Standing {
            role: Role::User,
            ..ADMIN
        };
        assert_eq!(
            refusal(check_change(1, 2, ADMIN, demoted, 1)),
            Some(("role".into(), Msg::ErrLastAdmin))
        );
        assert_eq!(
            refusal(check_change(1, 2, ADMIN, INACTIVE_ADMIN, 1)),
            Some(("active".into(), Msg::ErrLastAdmin))
        );
        // Users, and administrators who cannot sign in anyway, are not the last one.
        let inactive_user = Standing {
            active: false,
            ..USER
        };
        assert_eq!(check_change(1, 2, USER, inactive_user, 1), Ok(()));
        assert_eq!(check_change(1, 2, INACTIVE_ADMIN, USER, 1), Ok(()));
        // Promoting and reactivating are always allowed.
        assert_eq!(check_change(1, 2, USER, ADMIN, 1), Ok(()));
        assert_eq!(check_change(1, 2, INACTIVE_ADMIN, ADMIN, 1), Ok(()));
    }
}
