//! Credit packs: choosing the pack for a wanted amount, and showing prices.

use serde::{Deserialize, Serialize};

/// A pack on sale; amounts in minor units (credits in 1/10,000, prices in cents).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pack {
    pub id: i64,
    pub service: String,
    pub name: String,
    pub credits: i64,
    pub price: i64,
    pub currency: String,
}

/// The smallest pack that covers `wanted`, or the largest when none does; `None` without packs.
pub fn pack_for(packs: &[Pack], wanted: i64) -> Option<&Pack> {
    packs
        .iter()
        .filter(|p| p.credits >= wanted)
        .min_by_key(|p| (p.credits, p.price))
        .or_else(|| packs.iter().max_by_key(|p| p.credits))
}

/// A price such as "€90.00".
pub fn money(cents: i64, currency: &str) -> String {
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        other => other,
    };
    let sign = if cents < 0 { "-" } else { "" };
    format!(
        "{sign}{symbol}{}.{:02}",
        cents.abs() / 100,
        cents.abs() % 100
    )
}

/// The price of one credit in this pack, to three decimals of the currency, e.g. "€0.900".
pub fn price_per_credit(pack: &Pack) -> String {
    if pack.credits <= 0 {
        return String::new();
    }
    // Thousandths of the currency per credit, rounded half up.
    let per = (i128::from(pack.price) * 10 * 10_000 * 2 / i128::from(pack.credits) + 1) / 2;
    let symbol = money(0, &pack.currency).trim_end_matches("0.00").to_owned();
    format!("{symbol}{}.{:03}", per / 1_000, per % 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(id: i64, credits: i64, price: i64) -> Pack {
        Pack {
            id,
            service: "sms".into(),
            name: format!("P{id}"),
            credits: credits * 10_000,
            price,
            currency: "EUR".into(),
        }
    }

    #[test]
    fn the_smallest_pack_covering_the_wanted_amount_is_chosen() {
        let packs = [
            pack(1, 10, 1_000),
            pack(2, 100, 9_000),
            pack(3, 500, 40_000),
            pack(4, 1_000, 75_000),
        ];
        assert_eq!(pack_for(&packs, 0).map(|p| p.id), Some(1));
        assert_eq!(pack_for(&packs, 10 * 10_000).map(|p| p.id), Some(1));
        assert_eq!(pack_for(&packs, 10 * 10_000 + 1).map(|p| p.id), Some(2));
        assert_eq!(pack_for(&packs, 501 * 10_000).map(|p| p.id), Some(4));
        assert_eq!(pack_for(&packs, 5_000 * 10_000).map(|p| p.id), Some(4));
        assert_eq!(pack_for(&[], 1), None);
    }

    #[test]
    fn prices_show_in_their_currency() {
        assert_eq!(money(9_000, "EUR"), "€90.00");
        assert_eq!(money(5, "USD"), "$0.05");
        assert_eq!(money(123_456, "CHF"), "CHF1234.56");
        assert_eq!(price_per_credit(&pack(1, 100, 9_000)), "€0.900");
        assert_eq!(price_per_credit(&pack(1, 3, 1_000)), "€3.333");
    }
}
