//! The countries a contact can be in, by ISO 3166-1 alpha-2 code.
//!
//! The SMS service uses the contact's country as the default region for national numbers.

/// (code, English name), sorted by name for the form's select.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("AU", "Australia"),
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("BR", "Brazil"),
    ("CA", "Canada"),
    ("CN", "China"),
    ("DK", "Denmark"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("IN", "India"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("LU", "Luxembourg"),
    ("MX", "Mexico"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("ES", "Spain"),
    ("SE", "Sweden"),
    ("CH", "Switzerland"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
];

/// The English name of a country code, if iapd knows it.
pub fn name(code: &str) -> Option<&'static str> {
    COUNTRIES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_names_and_unknown_ones_do_not() {
        assert_eq!(name("BE"), Some("Belgium"));
        assert_eq!(name("be"), None);
        assert_eq!(name("XX"), None);
    }

    #[test]
    fn the_list_is_sorted_by_name_without_duplicates() {
        let names: Vec<_> = COUNTRIES.iter().map(|(_, n)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
