//! Registering a third-party service: the checks on what an administrator typed, before
//! anything is stored.

use crate::domain::FieldError;
use crate::domain::credits::Credits;
use crate::i18n::Msg;
use serde::{Deserialize, Serialize};

/// A pack row of the service registration form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackInput {
    pub name: String,
    pub credits: String,
    pub price: String,
}

/// The service registration form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInput {
    pub technical_name: String,
    pub label: String,
    pub unit_name: String,
    pub trial_credits: String,
    pub packs: Vec<PackInput>,
}

/// A pack of a new service: credits in minor units, price in cents (EUR).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPack {
    pub name: String,
    pub credits: i64,
    pub price: i64,
}

/// A service ready to be inserted into the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewService {
    pub technical_name: String,
    pub label: String,
    pub unit_name: String,
    pub trial_credits: i64,
    pub packs: Vec<NewPack>,
}

pub const MAX_PACKS: usize = 6;

impl NewService {
    /// Checks every field; pack rows left entirely empty are ignored, at least one is needed.
    pub fn parse(input: &ServiceInput) -> Result<Self, FieldError> {
        let technical_name = input.technical_name.trim();
        let mut chars = technical_name.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && technical_name.len() <= 64;
        if !well_formed {
            return Err(FieldError::new("technical_name", Msg::ErrTechnicalName));
        }
        let label = text(&input.label, "label", 64)?;
        let unit_name = text(&input.unit_name, "unit_name", 32)?;
        let trial = input.trial_credits.trim();
        let trial_credits = if trial.is_empty() {
            0
        } else {
            Credits::parse_signed(trial)
                .ok()
                .filter(|c| c.minor() >= 0 && *c <= crate::domain::credits::MAX)
                .ok_or_else(|| FieldError::new("trial_credits", Msg::ErrTrialCredits))?
                .minor()
        };
        let mut packs = Vec::new();
        for (i, pack) in input.packs.iter().enumerate().take(MAX_PACKS) {
            if let Some(pack) = parse_pack(i, pack)? {
                packs.push(pack);
            }
        }
        if packs.is_empty() {
            return Err(FieldError::new("packs[0].name", Msg::ErrPackNeeded));
        }
        Ok(NewService {
            technical_name: technical_name.to_owned(),
            label,
            unit_name,
            trial_credits,
            packs,
        })
    }
}

fn text(value: &str, field: &str, max: usize) -> Result<String, FieldError> {
    super::text::line(field, value, max)
}

fn parse_pack(i: usize, pack: &PackInput) -> Result<Option<NewPack>, FieldError> {
    let (name, credits, price) = (pack.name.trim(), pack.credits.trim(), pack.price.trim());
    if name.is_empty() && credits.is_empty() && price.is_empty() {
        return Ok(None);
    }
    let name = text(name, &format!("packs[{i}].name"), 64)?;
    let credits = Credits::parse_positive(credits)
        .map_err(|e| e.at(&format!("packs[{i}].credits")))?
        .minor();
    let price = parse_price(price)
        .ok_or_else(|| FieldError::new(format!("packs[{i}].price"), Msg::ErrPrice))?;
    Ok(Some(NewPack {
        name,
        credits,
        price,
    }))
}

/// A price such as `12` or `12.50`, in cents; above zero and below a billion.
pub fn parse_price(text: &str) -> Option<i64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty()
        || int.len() > 9
        || frac.len() > 2
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents = int.parse::<i64>().ok()? * 100 + format!("{frac:0<2}").parse::<i64>().ok()?;
    (cents > 0).then_some(cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str) -> ServiceInput {
        ServiceInput {
            technical_name: name.into(),
            label: "Fax".into(),
            unit_name: "Pages".into(),
            trial_credits: "5".into(),
            packs: vec![
                PackInput {
                    name: "Starter".into(),
                    credits: "100".into(),
                    price: "12.50".into(),
                },
                PackInput::default(),
            ],
        }
    }

    #[test]
    fn a_well_formed_service_keeps_its_non_empty_packs() {
        let service = NewService::parse(&input("fax_2")).expect("valid");
        assert_eq!(service.technical_name, "fax_2");
        assert_eq!(service.trial_credits, 50_000);
        assert_eq!(
            service.packs,
            vec![NewPack {
                name: "Starter".into(),
                credits: 1_000_000,
                price: 1_250
            }]
        );
    }

    #[test]
    fn technical_names_are_lowercase_identifiers() {
        for bad in ["", "Fax", "2fax", "fax-mail", "fax mail", &"f".repeat(65)] {
            let err = NewService::parse(&input(bad)).expect_err(bad);
            assert_eq!(err.field, "technical_name", "{bad}");
        }
    }

    #[test]
    fn a_service_needs_a_pack_with_a_price() {
        let mut no_packs = input("fax");
        no_packs.packs = vec![PackInput::default()];
        assert_eq!(
            NewService::parse(&no_packs).expect_err("no pack").field,
            "packs[0].name"
        );
        let mut free = input("fax");
        free.packs[0].price = "0".into();
        assert_eq!(
            NewService::parse(&free).expect_err("free").field,
            "packs[0].price"
        );
    }

    #[test]
    fn prices_have_at_most_two_decimals() {
        assert_eq!(parse_price("12"), Some(1_200));
        assert_eq!(parse_price("12.5"), Some(1_250));
        assert_eq!(parse_price("0.01"), Some(1));
        assert_eq!(parse_price("1.005"), None);
        assert_eq!(parse_price("-1"), None);
        assert_eq!(parse_price(""), None);
        assert_eq!(parse_price("0"), None);
    }
}
