//! Where a phone number goes: its international (E.164) form and destination country,
//! read with libphonenumber's metadata.
//!
//! Server-only: the metadata is large, and the browser only needs the price the server
//! derives from it.

use phonenumber::{Mode, country};

/// A number that can be dialled from anywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// E.164, e.g. `+32470123456`.
    pub number: String,
    /// ISO 3166-1 alpha-2 code of the country the number belongs to.
    pub country: String,
}

/// The number is not a valid phone number (for its country, when it has none of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// Reads `raw`. International numbers (`+32 …`, `0032 …`) carry their country; national
/// ones (`0470 …`) are read in `default_region`, the contact's country.
pub fn destination(raw: &str, default_region: Option<&str>) -> Result<Destination, Malformed> {
    let region = default_region.and_then(|code| code.parse::<country::Id>().ok());
    let number = phonenumber::parse(region, raw.trim()).map_err(|_| Malformed)?;
    if !phonenumber::is_valid(&number) {
        return Err(Malformed);
    }
    let country = number.country().id().ok_or(Malformed)?;
    Ok(Destination {
        number: number.format().mode(Mode::E164).to_string(),
        country: country.as_ref().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(number: &str, country: &str) -> Result<Destination, Malformed> {
        Ok(Destination {
            number: number.into(),
            country: country.into(),
        })
    }

    #[test]
    fn international_numbers_carry_their_own_country() {
        assert_eq!(
            destination("+32 470 12 34 56", None),
            dest("+32470123456", "BE")
        );
        assert_eq!(
            destination("+33 6 12 34 56 78", Some("BE")),
            dest("+33612345678", "FR")
        );
        assert_eq!(
            destination("+1 415 555 2671", None),
            dest("+14155552671", "US")
        );
    }

    #[test]
    fn national_numbers_are_read_in_the_contacts_country() {
        assert_eq!(
            destination("0470 12 34 56", Some("BE")),
            dest("+32470123456", "BE")
        );
        assert_eq!(
            destination("06 12 34 56 78", Some("FR")),
            dest("+33612345678", "FR")
        );
    }

    #[test]
    fn the_country_comes_from_the_number_not_only_its_calling_code() {
        // +1 is shared by the United States and Canada; 416 is Toronto.
        assert_eq!(
            destination("+1 416 555 0199", None).map(|d| d.country),
            Ok("CA".into())
        );
    }

    #[test]
    fn malformed_or_unplaceable_numbers_are_refused() {
        assert_eq!(destination("12", Some("BE")), Err(Malformed));
        assert_eq!(destination("not a number", Some("BE")), Err(Malformed));
        assert_eq!(destination("0470 12 34 56", None), Err(Malformed));
        assert_eq!(destination("+32 12", None), Err(Malformed));
    }
}
