//! What makes a contact valid: the rules behind the Contacts form.

use crate::domain::{FieldError, country, text};
use crate::i18n::Msg;
use serde::{Deserialize, Serialize};

pub const NAME_MAX: usize = 128;
pub const TEXT_MAX: usize = 254;

/// What the contact form sends, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInput {
    pub name: String,
    pub company_name: String,
    pub email: String,
    pub phone: String,
    pub mobile: String,
    pub country_code: String,
    pub owner_company_id: Option<i64>,
}

/// A contact that passed validation: trimmed, with empty optional fields as `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidContact {
    pub name: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub country_code: Option<String>,
    pub owner_company_id: Option<i64>,
}

impl ValidContact {
    /// Checks every field and returns the first problem, named by its form field.
    pub fn parse(input: ContactInput) -> Result<Self, FieldError> {
        let name = text::line("name", &input.name, NAME_MAX)?;
        let company_name = text::optional_line("company_name", &input.company_name, NAME_MAX)?;
        let email = text::optional_line("email", &input.email, TEXT_MAX)?;
        if let Some(e) = &email
            && !is_email(e)
        {
            return Err(FieldError::new("email", Msg::ErrEmail));
        }
        let phone = parse_phone("phone", &input.phone)?;
        let mobile = parse_phone("mobile", &input.mobile)?;
        let country_code = optional(&input.country_code).map(|c| c.to_ascii_uppercase());
        if let Some(code) = &country_code
            && country::name(code).is_none()
        {
            return Err(FieldError::new("country_code", Msg::ErrCountry));
        }
        Ok(ValidContact {
            name,
            company_name,
            email,
            phone,
            mobile,
            country_code,
            owner_company_id: input.owner_company_id,
        })
    }
}

fn optional(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// A deliberately plain check: one `@`, a non-empty local part, a dotted domain, no spaces
/// or control characters.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
}

/// Phone numbers as people type them: digits with spaces, dots, dashes or brackets, and an
/// optional leading `+`. Between 4 and 17 digits (E.164 allows 15, plus trunk prefixes).
fn parse_phone(field: &str, value: &str) -> Result<Option<String>, FieldError> {
    let Some(phone) = optional(value) else {
        return Ok(None);
    };
    let body = phone.strip_prefix('+').unwrap_or(&phone);
    let allowed = body
        .chars()
        .all(|c| c.is_ascii_digit() || " .-()/".contains(c));
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if !allowed || !(4..=17).contains(&digits) {
        return Err(FieldError::new(field, Msg::ErrPhone));
    }
    Ok(Some(phone))
}

/// One field whose value an edit changed, for the chatter: Odoo's tracking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The field's label.
    pub field: Msg,
    pub old: String,
    pub new: String,
}

/// The fields `after` changes compared with `before`, in form order.
pub fn changes(before: &ValidContact, after: &ValidContact) -> Vec<Change> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        (Msg::ColName, before.name.clone(), after.name.clone()),
        (
            Msg::ColCompany,
            text(&before.company_name),
            text(&after.company_name),
        ),
        (Msg::ColEmail, text(&before.email), text(&after.email)),
        (Msg::ColPhone, text(&before.phone), text(&after.phone)),
        (Msg::ColMobile, text(&before.mobile), text(&after.mobile)),
        (
            Msg::ColCountry,
            text(&before.country_code),
            text(&after.country_code),
        ),
    ]
    .into_iter()
    .filter(|(_, old, new)| old != new)
    .map(|(field, old, new)| Change { field, old, new })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> ContactInput {
        ContactInput {
            name: name.into(),
            ..ContactInput::default()
        }
    }

    fn field_of(err: FieldError) -> String {
        err.field
    }

    #[test]
    fn a_name_alone_is_a_valid_contact_and_blanks_become_none() {
        let c = ValidContact::parse(ContactInput {
            email: "  ".into(),
            ..input("  Azure Interior ")
        })
        .expect("valid");
        assert_eq!(c.name, "Azure Interior");
        assert_eq!(c.email, None);
        assert_eq!(c.phone, None);
    }

    #[test]
    fn a_missing_or_overlong_name_is_refused_on_the_name_field() {
        assert_eq!(
            field_of(ValidContact::parse(input("   ")).unwrap_err()),
            "name"
        );
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(
            field_of(ValidContact::parse(input(&long)).unwrap_err()),
            "name"
        );
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        for good in ["a@b.co", "first.last+tag@example.com"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@b.co",
            "a@b",
            "a@b.",
            "a b@c.de",
            "a@b@c.de",
            "a\u{0}@b.co",
            "a@b.c\u{7f}o",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones_accept_common_formats_and_refuse_letters() {
        let ok = |p: &str| {
            ValidContact::parse(ContactInput {
                phone: p.into(),
                ..input("A")
            })
        };
        assert!(ok("+32 470 12 34 56").is_ok());
        assert!(ok("(415) 555-0100").is_ok());
        assert!(ok("+86 10 6552 9988").is_ok());
        assert_eq!(field_of(ok("call me").unwrap_err()), "phone");
        assert_eq!(field_of(ok("12").unwrap_err()), "phone");
        assert_eq!(field_of(ok("+32+470").unwrap_err()), "phone");
    }

    #[test]
    fn the_mobile_field_is_checked_on_its_own() {
        let err = ValidContact::parse(ContactInput {
            mobile: "abc".into(),
            ..input("A")
        });
        assert_eq!(field_of(err.unwrap_err()), "mobile");
    }

    #[test]
    fn countries_must_be_known_codes_in_any_case() {
        let with = |c: &str| {
            ValidContact::parse(ContactInput {
                country_code: c.into(),
                ..input("A")
            })
        };
        assert_eq!(
            with("be").expect("valid").country_code.as_deref(),
            Some("BE")
        );
        assert_eq!(field_of(with("ZZ").unwrap_err()), "country_code");
    }

    #[test]
    fn an_edit_lists_each_changed_field_once_with_its_old_and_new_value() {
        let before = ValidContact::parse(ContactInput {
            phone: "+32 2 290 34 90".into(),
            ..input("Deco Addict")
        })
        .expect("valid");
        let after = ValidContact::parse(ContactInput {
            email: "deco@example.com".into(),
            ..input("Deco Addict")
        })
        .expect("valid");
        assert_eq!(
            changes(&before, &after),
            vec![
                Change {
                    field: Msg::ColEmail,
                    old: String::new(),
                    new: "deco@example.com".into()
                },
                Change {
                    field: Msg::ColPhone,
                    old: "+32 2 290 34 90".into(),
                    new: String::new()
                },
            ]
        );
        assert!(changes(&after, &after).is_empty());
    }
}
