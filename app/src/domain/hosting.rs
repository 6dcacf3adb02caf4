//! Where the database is hosted, as Odoo tells its editions apart. It decides which services
//! the catalogue, the store and the service API offer: an Online database only gets the
//! first-party ones.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostingType {
    Online,
    OdooSh,
    #[default]
    OnPremise,
}

impl HostingType {
    pub const ALL: [HostingType; 3] = [
        HostingType::Online,
        HostingType::OdooSh,
        HostingType::OnPremise,
    ];

    /// The value stored in the settings table, which is also the label shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            HostingType::Online => "Online",
            HostingType::OdooSh => "Odoo.sh",
            HostingType::OnPremise => "On-premise",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == value)
    }

    /// Whether services of other providers than the platform's own are offered.
    pub const fn offers_third_party(self) -> bool {
        !matches!(self, HostingType::Online)
    }

    /// Whether a service is offered to this database.
    pub const fn offers(self, first_party: bool) -> bool {
        first_party || self.offers_third_party()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hosting_type_reads_back_from_its_stored_value() {
        for hosting in HostingType::ALL {
            assert_eq!(HostingType::parse(hosting.as_str()), Some(hosting));
        }
        assert_eq!(HostingType::parse("online"), None);
    }

    #[test]
    fn only_online_databases_are_limited_to_first_party_services() {
        assert!(HostingType::Online.offers(true));
        assert!(!HostingType::Online.offers(false));
        assert!(HostingType::OdooSh.offers(false));
        assert!(HostingType::OnPremise.offers(false));
    }
}
