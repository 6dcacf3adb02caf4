//! JSON-RPC 2.0 as Odoo's `iap` client speaks it: the envelope, typed access to `params`,
//! and errors named after the Python exceptions the client re-raises.
//!
//! Every answer, errors included, has HTTP status 200: Odoo's client calls
//! `raise_for_status()` before reading the body, so any other status would turn an
//! InsufficientCreditError into a generic connection error.

use app::domain::credits::Credits;
use app::i18n::{Msg, t, tf};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

/// JSON-RPC bodies are small; anything larger is refused before it is parsed.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The error names Odoo's client maps back to exceptions (it keeps the last dotted part).
pub const INSUFFICIENT_CREDIT: &str = "odoo.addons.iap.tools.iap_tools.InsufficientCreditError";
pub const ACCESS_ERROR: &str = "odoo.exceptions.AccessError";
pub const USER_ERROR: &str = "odoo.exceptions.UserError";
/// Not one of the names the client knows, so it raises a connection error: the caller
/// retries, which is right for a failure that changed nothing.
pub const SERVER_ERROR: &str = "builtins.Exception";

/// Why a call failed, as the caller must hear it.
#[derive(Clone, Debug, PartialEq)]
pub enum RpcError {
    InsufficientCredit {
        credit: Credits,
        service: String,
        /// The account does not exist yet and its first use would grant trial credits.
        trial: bool,
    },
    Access(String),
    User(String),
    Internal,
}

impl RpcError {
    pub fn access(msg: Msg) -> Self {
        RpcError::Access(t(msg).to_owned())
    }

    /// A refused parameter: `Invalid parameter <name>: <why>`.
    pub fn invalid(error: &app::domain::FieldError) -> Self {
        RpcError::User(tf(
            Msg::RpcInvalid,
            &[
                ("name", error.field.as_str().into()),
                ("reason", error.text().to_string().into()),
            ],
        ))
    }

    /// The `error` member: `{code: 200, message, data: {name, message}}`. For insufficient
    /// credit, `data.message` is itself a JSON string, which Odoo's client `json.loads`.
    fn to_json(&self, credit_url: &str) -> Value {
        let (name, message) = match self {
            RpcError::InsufficientCredit {
                credit,
                service,
                trial,
            } => {
                let mut info = json!({
                    "credit": credit.to_json_number(),
                    "service_name": service,
                    "base_url": credit_url,
                    "message": t(Msg::RpcNotEnoughCredits),
                });
                if *trial {
                    info["trial"] = Value::Bool(true);
                }
                (INSUFFICIENT_CREDIT, info.to_string())
            }
            RpcError::Access(message) => (ACCESS_ERROR, message.clone()),
            RpcError::User(message) => (USER_ERROR, message.clone()),
            RpcError::Internal => (SERVER_ERROR, t(Msg::RpcInternal).to_owned()),
        };
        json!({
            "code": 200,
            "message": "Odoo Server Error",
            "data": { "name": name, "message": message },
        })
    }
}

impl From<sqlx::Error> for RpcError {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "database error in the IAP API");
        RpcError::Internal
    }
}

/// A request's `id` and `params`, once the envelope has been checked.
pub struct Call {
    pub id: Value,
    pub params: Params,
}

/// Reads the body, at most `limit` bytes, and checks the envelope: a JSON object with `"jsonrpc": "2.0"` and a
/// `params` object. The `id` is kept (even on error) so the answer can echo it.
pub async fn read_call(body: Body, limit: usize) -> Result<Call, (Value, RpcError)> {
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| (Value::Null, RpcError::User(t(Msg::RpcTooLarge).to_owned())))?;
    let malformed = || RpcError::User(t(Msg::RpcMalformed).to_owned());
    let envelope: Value = serde_json::from_slice(&bytes).map_err(|_| (Value::Null, malformed()))?;
    let Value::Object(mut envelope) = envelope else {
        return Err((Value::Null, malformed()));
    };
    let id = envelope.remove("id").unwrap_or(Value::Null);
    if envelope.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err((id, malformed()));
    }
    match envelope.remove("params") {
        Some(Value::Object(params)) => Ok(Call {
            id,
            params: Params(params),
        }),
        _ => Err((id, RpcError::User(t(Msg::RpcNoParams).to_owned()))),
    }
}

/// The answer to a call: `result` or `error`, always with HTTP 200.
pub fn respond(id: Value, outcome: Result<Value, RpcError>, credit_url: &str) -> Response {
    let body = match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error.to_json(credit_url) }),
    };
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The `params` object, with typed getters. `null` counts as absent, as Python's `None`
/// is sent for optional arguments left out.
pub struct Params(Map<String, Value>);

impl Params {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn wrong_type(name: &str, what: &str) -> RpcError {
        RpcError::User(tf(
            Msg::RpcWrongType,
            &[("name", name.into()), ("expected", what.into())],
        ))
    }

    /// A secret (key or token): absent or empty is an access error, another type a user
    /// error.
    pub fn secret(&self, name: &str, missing: Msg) -> Result<&str, RpcError> {
        match self.get(name) {
            None => Err(RpcError::access(missing)),
            Some(Value::String(s)) if s.is_empty() => Err(RpcError::access(missing)),
            Some(Value::String(s)) => Self::printable(name, s),
            Some(_) => Err(Self::wrong_type(name, "a string")),
        }
    }

    /// `text`, unless it holds a control character other than a tab or a line break: no
    /// Odoo sends those, and they have no business in logs, mails or the ledger.
    fn printable<'a>(name: &str, text: &'a str) -> Result<&'a str, RpcError> {
        if app::domain::text::has_control(text, true) {
            return Err(RpcError::User(tf(
                Msg::RpcControlChars,
                &[("name", name.into())],
            )));
        }
        Ok(text)
    }

    /// An optional string; Python's `False` for "not given" is accepted too.
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, RpcError> {
        match self.get(name) {
            None | Some(Value::Bool(false)) => Ok(None),
            Some(Value::String(s)) => Self::printable(name, s).map(Some),
            Some(_) => Err(Self::wrong_type(name, "a string")),
        }
    }

    pub fn str(&self, name: &str) -> Result<&str, RpcError> {
        self.opt_str(name)?
            .ok_or_else(|| RpcError::User(tf(Msg::RpcMissing, &[("name", name.into())])))
    }

    /// An optional amount of credits, converted exactly (see [`Credits::from_json_number`]).
    pub fn opt_credits(&self, name: &str) -> Result<Option<Credits>, RpcError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let number = match value {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
        .ok_or_else(|| Self::wrong_type(name, "a number"))?;
        Credits::from_json_number(number)
            .map(Some)
            .map_err(|e| RpcError::invalid(&e.at(name)))
    }

    pub fn credits(&self, name: &str) -> Result<Credits, RpcError> {
        self.opt_credits(name)?
            .ok_or_else(|| RpcError::User(tf(Msg::RpcMissing, &[("name", name.into())])))
    }

    /// An optional whole number (a float with no fraction, as Python may send, is accepted).
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, RpcError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let whole = match value {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            }),
            _ => None,
        };
        whole
            .map(Some)
            .ok_or_else(|| Self::wrong_type(name, "a whole number"))
    }

    /// The raw value, for parameters with a structure of their own.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(value: Value) -> Params {
        match value {
            Value::Object(map) => Params(map),
            _ => Params(Map::new()),
        }
    }

    #[test]
    fn insufficient_credit_carries_a_json_string_odoo_can_load() {
        let error = RpcError::InsufficientCredit {
            credit: Credits::from_minor(25_000),
            service: "sms".into(),
            trial: true,
        };
        let json = error.to_json("https://iap.example/iap/1/credit");
        assert_eq!(json["code"], 200);
        assert_eq!(json["data"]["name"], INSUFFICIENT_CREDIT);
        let inner: Value =
            serde_json::from_str(json["data"]["message"].as_str().expect("a string"))
                .expect("JSON inside");
        assert_eq!(inner["credit"], 2.5);
        assert_eq!(inner["service_name"], "sms");
        assert_eq!(inner["base_url"], "https://iap.example/iap/1/credit");
        assert_eq!(inner["trial"], true);
    }

    #[test]
    fn params_tell_missing_secrets_from_wrong_types() {
        let p = params(json!({"key": "", "token": 5, "credit": "1", "ttl": 2.0, "d": null}));
        assert!(matches!(
            p.secret("key", Msg::RpcBadKey),
            Err(RpcError::Access(_))
        ));
        assert!(matches!(
            p.secret("nope", Msg::RpcBadKey),
            Err(RpcError::Access(_))
        ));
        assert!(matches!(
            p.secret("token", Msg::RpcBadKey),
            Err(RpcError::User(_))
        ));
        assert!(matches!(p.credits("credit"), Err(RpcError::User(_))));
        assert_eq!(p.opt_int("ttl"), Ok(Some(2)));
        assert_eq!(p.opt_str("d"), Ok(None));
    }
}
