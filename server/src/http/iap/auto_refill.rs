//! Odoo's auto-refill (Odoo master, after 19.0): an Odoo database sets an account's
//! auto-recharge threshold and pack, and reads them back with its packs.
//!
//! - `POST /iap/1/update-auto-refill-settings`: `account_token`, `auto_refill_threshold`
//!   (credits; 0 turns it off and forgets the pack, as Odoo does), `auto_refill_pack_id`
//!   (a pack id from `get-accounts-information`; 0 for none). Answers
//!   `{"status": "success"}`, or `{"status": "error", "error": …}` for a pack this account
//!   cannot buy, which Odoo logs. The monthly cap and the card are set on Account
//!   Information: until both are, nothing is charged.
//! - `get-accounts-information` adds `auto_refill_threshold`, `auto_refill_pack_id` and
//!   `service: {description, packs: [{id, name, credit, price}]}` ([`ServiceInformation`]).
//!
//! The change goes through `Ledger::change_recharge`, as the form's does, so a threshold
//! set above the account's available credits makes the recharge due at once.

use super::ApiState;
use super::rpc::{Params, RpcError};
use app::db::service_api::AccountReport;
use app::domain::auto_recharge::from_odoo;
use app::domain::credits::Credits;
use app::domain::packs::Pack;
use app::i18n::{Msg, t, tf};
use app::ledger::RechargeChange;
use serde::Serialize;
use serde_json::{Value, json};

/// A service as `get-accounts-information` describes it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServiceInformation {
    description: String,
    packs: Vec<PackInformation>,
}

#[derive(Clone, Debug, Serialize)]
struct PackInformation {
    id: i64,
    name: String,
    /// Credits, as a JSON number.
    credit: f64,
    /// In the pack's currency, as a JSON number (Odoo's `price` is a float).
    price: f64,
}

impl ServiceInformation {
    pub fn new(report: &AccountReport, packs: &[Pack]) -> Self {
        ServiceInformation {
            description: report.description.clone(),
            packs: packs
                .iter()
                .map(|p| PackInformation {
                    id: p.id,
                    name: app::i18n::pack_text(&p.name)
                        .map_or_else(|| p.name.clone(), |m| t(m).to_owned()),
                    credit: Credits::from_minor(p.credits).to_json_number(),
                    // Cents to units; exact for any price below 2^53 cents.
                    price: p.price as f64 / 100.0,
                })
                .collect(),
        }
    }
}

/// `update-auto-refill-settings(account_token, auto_refill_threshold, auto_refill_pack_id)`.
pub async fn update_settings(state: ApiState, params: Params) -> Result<Value, RpcError> {
    let account = super::warnings::account(&state, &params).await?;
    let threshold = params
        .opt_credits("auto_refill_threshold")?
        .unwrap_or(Credits::ZERO);
    let pack = match params.value("auto_refill_pack_id") {
        None | Some(Value::Null | Value::Bool(false)) => 0,
        Some(value) => value.as_i64().ok_or_else(|| {
            RpcError::User(tf(
                Msg::RpcWrongType,
                &[
                    ("name", "auto_refill_pack_id".into()),
                    ("expected", "a pack id".into()),
                ],
            ))
        })?,
    };
    let (threshold, pack) = from_odoo(threshold, pack);
    if let Some(id) = pack {
        let mut conn = state.pool.acquire().await?;
        let sold = app::db::orders::pack(&mut conn, id)
            .await?
            .is_some_and(|p| p.service == account.service);
        if !sold {
            return Ok(json!({"status": "error", "error": t(Msg::ErrPackNotSold)}));
        }
    }
    state
        .ledger
        .change_recharge(account.id, RechargeChange::Odoo { threshold, pack })
        .await
        .map_err(|e| super::ledger_error(e, ""))?;
    tracing::info!(
        account = account.id,
        threshold,
        pack,
        "auto-refill set by Odoo"
    );
    Ok(json!({"status": "success"}))
}
