//! Message keys for catalogue data that the database stores as English text: the services
//! and packs of the migrations, their units, the hosting types and the countries.
//!
//! Each lookup takes the stored value and answers `None` for a value it does not know, such
//! as a third-party service registered at run time: the page then shows the stored text.

use super::Msg;

/// The label and description of a first-party service, by technical name.
pub fn service_text(technical_name: &str) -> Option<(Msg, Msg)> {
    Some(match technical_name {
        "sms" => (Msg::ServiceSmsLabel, Msg::ServiceSmsDescription),
        "invoice_ocr" => (
            Msg::ServiceInvoiceOcrLabel,
            Msg::ServiceInvoiceOcrDescription,
        ),
        "partner_autocomplete" => (
            Msg::ServicePartnerAutocompleteLabel,
            Msg::ServicePartnerAutocompleteDescription,
        ),
        "reveal" => (Msg::ServiceRevealLabel, Msg::ServiceRevealDescription),
        "snailmail" => (Msg::ServiceSnailmailLabel, Msg::ServiceSnailmailDescription),
        "itsme" => (Msg::ServiceItsmeLabel, Msg::ServiceItsmeDescription),
        _ => return None,
    })
}

/// The name of a service's unit, as a label ("Credits", "Crédits", "点数").
pub fn unit_text(unit_name: &str) -> Option<Msg> {
    Some(match unit_name {
        "Credits" => Msg::UnitCredits,
        "Documents" => Msg::UnitDocuments,
        "Stamps" => Msg::UnitStamps,
        "Verifications" => Msg::UnitVerifications,
        _ => return None,
    })
}

/// An amount in a service's unit, with the placeholder `{amount}` for an `Arg::Credits`:
/// "1 credit", "2,5 crédits", "3 份文件".
pub fn unit_amount_text(unit_name: &str) -> Option<Msg> {
    Some(match unit_name {
        "Credits" => Msg::AmountCredits,
        "Documents" => Msg::AmountDocuments,
        "Stamps" => Msg::AmountStamps,
        "Verifications" => Msg::AmountVerifications,
        _ => return None,
    })
}

/// The name of one of the packs the migrations create.
pub fn pack_text(pack_name: &str) -> Option<Msg> {
    Some(match pack_name {
        "Starter Pack" => Msg::PackStarter,
        "Standard Pack" => Msg::PackStandard,
        "Advanced Pack" => Msg::PackAdvanced,
        "Expert Pack" => Msg::PackExpert,
        _ => return None,
    })
}

/// A hosting type, by the value `domain::hosting::HostingType::as_str` stores.
pub fn hosting_text(stored: &str) -> Option<Msg> {
    Some(match stored {
        "Online" => Msg::HostingOnline,
        "Odoo.sh" => Msg::HostingOdooSh,
        "On-premise" => Msg::HostingOnPremise,
        _ => return None,
    })
}

/// A country, by the ISO 3166-1 alpha-2 code of `domain::country::COUNTRIES`.
pub fn country_text(code: &str) -> Option<Msg> {
    Some(match code {
        "AU" => Msg::CountryAu,
        "AT" => Msg::CountryAt,
        "BE" => Msg::CountryBe,
        "BR" => Msg::CountryBr,
        "CA" => Msg::CountryCa,
        "CN" => Msg::CountryCn,
        "DK" => Msg::CountryDk,
        "FR" => Msg::CountryFr,
        "DE" => Msg::CountryDe,
        "IN" => Msg::CountryIn,
        "IE" => Msg::CountryIe,
        "IT" => Msg::CountryIt,
        "JP" => Msg::CountryJp,
        "LU" => Msg::CountryLu,
        "MX" => Msg::CountryMx,
        "NL" => Msg::CountryNl,
        "NO" => Msg::CountryNo,
        "PL" => Msg::CountryPl,
        "PT" => Msg::CountryPt,
        "ES" => Msg::CountryEs,
        "SE" => Msg::CountrySe,
        "CH" => Msg::CountryCh,
        "GB" => Msg::CountryGb,
        "US" => Msg::CountryUs,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::country::COUNTRIES;
    use crate::domain::hosting::HostingType;
    use crate::i18n::t;

    /// The quoted fields of the rows a migration inserts into `table`.
    fn inserted_rows(sql: &str, table: &str) -> Vec<Vec<String>> {
        let start = sql
            .find(&format!("INSERT INTO {table} "))
            .expect("the migration fills the table");
        sql[start..]
            .lines()
            .skip(1)
            .take_while(|line| line.trim_start().starts_with('('))
            .map(|line| {
                line.split('\'')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_seeded_service_has_its_english_text_as_stored() {
        let rows = inserted_rows(
            include_str!("../../../migrations/sqlite/0002_iap_ledger.sql"),
            "services",
        );
        assert_eq!(rows.len(), 6);
        for row in rows {
            let [name, label, description, unit] = &row[..] else {
                panic!("unexpected row {row:?}");
            };
            let (label_msg, description_msg) = service_text(name).expect("a known service");
            assert_eq!(t(label_msg), label);
            assert_eq!(t(description_msg), description);
            assert_eq!(t(unit_text(unit).expect("a known unit")), unit);
            assert!(unit_amount_text(unit).is_some());
        }
        assert_eq!(service_text("acme_fax"), None);
        assert_eq!(unit_text("Pages"), None);
    }

    #[test]
    fn every_seeded_pack_has_its_english_name_as_stored() {
        let rows = inserted_rows(
            include_str!("../../../migrations/sqlite/0003_packs_orders.sql"),
            "packs",
        );
        assert!(!rows.is_empty());
        for row in rows {
            let name = &row[1];
            assert_eq!(t(pack_text(name).expect("a known pack")), name);
        }
        assert_eq!(pack_text("starter pack"), None);
    }

    #[test]
    fn every_hosting_type_and_country_has_its_english_name() {
        for hosting in HostingType::ALL {
            let msg = hosting_text(hosting.as_str()).expect("a known hosting type");
            assert_eq!(t(msg), hosting.as_str());
        }
        for (code, name) in COUNTRIES {
            assert_eq!(t(country_text(code).expect("a known country")), *name);
        }
        assert_eq!(country_text("be"), None);
        assert_eq!(country_text("XX"), None);
    }
}
