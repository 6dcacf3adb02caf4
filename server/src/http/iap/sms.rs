//! Odoo's SMS API, which an Odoo database calls with its SMS account's token when its
//! `sms.endpoint` points at iapd:
//! - `POST /api/sms/3/send` (and `/iap/sms/3/send`), Odoo 17 to 19: `account_token`,
//!   `dbuuid`, `webhook_url` (or `false`), `messages: [{content, numbers: [{uuid, number}]}]`,
//!   answered `[{uuid, state, credit}]`, one entry per number;
//! - `POST /iap/sms/2/send`, Odoo 16: `account_token`, `messages: [{res_id, number,
//!   content}]`, answered `[{res_id, state, credit}]`;
//! - `POST /api/sms/1/account/update_sender`, Odoo 18+: `account_token`, `sender_name`,
//!   answered `{"state": "success"}`, `"format_error"` or `"unregistered_account"`.
//!
//! What a send does is `app::sms::api`'s; this file reads the parameters and writes the
//! answers.

use super::ApiState;
use super::rpc::{Params, RpcError};
use app::clock::now_ms;
use app::error::AppError;
use app::i18n::{Msg, tf};
use app::sms::api::{Entry, Request, Version};
use serde_json::{Value, json};

/// The largest send: Odoo posts up to 500 numbers a call, each with its own text when the
/// texts are personalised, and escapes every non-ASCII character as `\uXXXX`.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

fn wrong(what: &str) -> RpcError {
    RpcError::User(tf(
        Msg::RpcWrongType,
        &[("name", "messages".into()), ("expected", what.into())],
    ))
}

fn text<'a>(item: &'a Value, name: &str, what: &str) -> Result<&'a str, RpcError> {
    item.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| wrong(what))
}

/// What a refused send means to the caller: bad input is a user error, anything else
/// changed nothing and may be retried.
fn refused(error: AppError) -> RpcError {
    match error {
        AppError::Validation(field) => RpcError::invalid(&field),
        _ => RpcError::Internal,
    }
}

fn account_token(params: &Params) -> Result<String, RpcError> {
    Ok(params
        .opt_str("account_token")?
        .unwrap_or_default()
        .to_owned())
}

/// `send` of Odoo 17 to 19.
pub async fn send_v3(state: ApiState, params: Params) -> Result<Value, RpcError> {
    const SHAPE: &str = "a list of {content, numbers: [{uuid, number}]}";
    let Some(Value::Array(messages)) = params.value("messages") else {
        return Err(wrong(SHAPE));
    };
    let mut entries = Vec::new();
    for message in messages {
        let content = text(message, "content", SHAPE)?;
        let Some(Value::Array(numbers)) = message.get("numbers") else {
            return Err(wrong(SHAPE));
        };
        for number in numbers {
            entries.push(Entry {
                uuid: Some(text(number, "uuid", SHAPE)?.to_owned()),
                number: text(number, "number", SHAPE)?.to_owned(),
                content: content.to_owned(),
            });
        }
    }
    let request = Request {
        version: Version::V3,
        account_token: account_token(&params)?,
        dbuuid: params.opt_str("dbuuid")?.map(str::to_owned),
        webhook_url: params.opt_str("webhook_url")?.map(str::to_owned),
        entries,
    };
    let uuids: Vec<Option<String>> = request.entries.iter().map(|e| e.uuid.clone()).collect();
    let answers = state.sender.send_api(request).await.map_err(refused)?;
    Ok(Value::Array(
        uuids
            .into_iter()
            .zip(answers)
            .map(|(uuid, answer)| {
                json!({
                    "uuid": uuid,
                    "state": answer.state.as_str(),
                    "credit": answer.credit.to_json_number(),
                })
            })
            .collect(),
    ))
}

/// `send` of Odoo 16.
pub async fn send_v2(state: ApiState, params: Params) -> Result<Value, RpcError> {
    const SHAPE: &str = "a list of {res_id, number, content}";
    let Some(Value::Array(messages)) = params.value("messages") else {
        return Err(wrong(SHAPE));
    };
    let mut res_ids = Vec::with_capacity(messages.len());
    let mut entries = Vec::with_capacity(messages.len());
    for message in messages {
        let res_id = message
            .get("res_id")
            .filter(|v| v.is_number() || v.is_string())
            .ok_or_else(|| wrong(SHAPE))?;
        res_ids.push(res_id.clone());
        entries.push(Entry {
            uuid: None,
            number: text(message, "number", SHAPE)?.to_owned(),
            content: text(message, "content", SHAPE)?.to_owned(),
        });
    }
    let request = Request {
        version: Version::V2,
        account_token: account_token(&params)?,
        dbuuid: params.opt_str("dbuuid")?.map(str::to_owned),
        webhook_url: None,
        entries,
    };
    let answers = state.sender.send_api(request).await.map_err(refused)?;
    Ok(Value::Array(
        res_ids
            .into_iter()
            .zip(answers)
            .map(|(res_id, answer)| {
                json!({
                    "res_id": res_id,
                    "state": answer.state.as_str(),
                    "credit": answer.credit.to_json_number(),
                })
            })
            .collect(),
    ))
}

/// `update_sender(account_token, sender_name)`: the name the account's SMS come from.
pub async fn update_sender(state: ApiState, params: Params) -> Result<Value, RpcError> {
    let token = account_token(&params)?;
    let name = params.opt_str("sender_name")?.unwrap_or_default();
    let mut conn = state.pool.acquire().await?;
    let account = app::db::service_api::account_by_token(&mut conn, &token, now_ms())
        .await?
        .filter(|a| a.service == app::sms::SERVICE && !a.disabled);
    let Some(account) = account else {
        return Ok(json!({ "state": "unregistered_account" }));
    };
    let Ok(name) = app::domain::sms::check_sender_name(name) else {
        return Ok(json!({ "state": "format_error" }));
    };
    app::db::sms::set_sender_name(&mut conn, account.id, name, now_ms()).await?;
    tracing::info!(account = account.id, "SMS sender name updated");
    Ok(json!({ "state": "success" }))
}
