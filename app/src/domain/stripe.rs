//! What Stripe Checkout sends iapd, checked and read in plain Rust: the `Stripe-Signature`
//! header of a webhook, the Checkout Session object and the events about it. Nothing here
//! talks to the network or the database, so the rules that decide whether money arrived are
//! unit-tested in place.
//!
//! A webhook is trusted only after [`verify_signature`] accepted its raw body; only then is
//! it read with [`WebhookEvent::parse`]. The same body parsed first and verified later could
//! differ from what was signed.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

/// The age Stripe's own libraries accept for a signed timestamp: five minutes.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a webhook's `Stripe-Signature` header was refused. The handler answers 400 to all of
/// them; the variants exist for the log, so an operator can tell a wrong secret (`NoMatch`)
/// from a replay or a skewed clock (`OutsideTolerance`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    /// No `t=<unix seconds>`, several of them, or no `v1=` signature at all.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// Signed with another secret, or the body changed on the way.
    #[error("no v1 signature matches the body")]
    NoMatch,
    /// `age_secs` is negative when the timestamp lies in the future.
    #[error("signature timestamp is {age_secs} s old, outside the tolerance")]
    OutsideTolerance { age_secs: i64 },
}

/// Checks a webhook the way Stripe documents it: HMAC-SHA256 of `"{t}.{raw body}"` keyed
/// with the endpoint secret (`whsec_…`, used as is), hex-encoded, against every `v1=` entry
/// (there are several while a secret is being rolled); `v0=` and unknown entries are
/// ignored. The comparison is constant-time. The timestamp must lie within
/// `tolerance_secs` of `now_unix` on either side: Stripe's libraries only refuse old ones,
/// but a timestamp from the future is no more plausible and would stretch the replay window.
pub fn verify_signature(
    header: &str,
    payload: &[u8],
    secret: &str,
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let header = header.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if timestamp.is_some() => return Err(SignatureError::Malformed),
            "t" => {
                let t = value
                    .parse::<i64>()
                    .map_err(|_| SignatureError::Malformed)?;
                timestamp = Some(t);
            }
            "v1" => candidates.push(value),
            _ => {}
        }
    }
    let (Some(t), false) = (timestamp, candidates.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    let expected = signed_mac(payload, secret, t);
    let matches = candidates
        .iter()
        .filter_map(|candidate| decode_hex(candidate))
        .any(|bytes| expected.clone().verify_slice(&bytes).is_ok());
    if !matches {
        return Err(SignatureError::NoMatch);
    }
    let age_secs = now_unix.saturating_sub(t);
    if age_secs.saturating_abs() > tolerance_secs {
        return Err(SignatureError::OutsideTolerance { age_secs });
    }
    Ok(())
}

/// The header Stripe would send for `payload` at `t`: what the fake Stripe servers sign
/// with, and what tests build their webhooks with.
pub fn signature_header(payload: &[u8], secret: &str, t: i64) -> String {
    let digest = signed_mac(payload, secret, t).finalize().into_bytes();
    format!("t={t},v1={}", encode_hex(&digest))
}

/// The MAC over `"{t}.{payload}"`, ready to finalise or to verify against.
fn signed_mac(payload: &[u8], secret: &str, t: i64) -> Hmac<Sha256> {
    // HMAC hashes a key longer than a block and pads a shorter one: no key length fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

fn encode_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `None` for anything that is not an even run of hex digits: such a `v1` cannot match.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Why a Stripe object or event could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    Json(String),
    /// A field iapd relies on is absent, null or of the wrong type.
    #[error("missing or invalid field `{0}`")]
    Field(&'static str),
}

/// A Refund object (`POST /v1/refunds`), as far as iapd reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeRefund {
    pub id: String,
    pub status: RefundStatus,
}

/// A Refund's `status`: `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
/// A value iapd does not know is `Other`, and waits like `requires_action`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    Pending,
    RequiresAction,
    Succeeded,
    Failed,
    Canceled,
    Other(String),
}

/// What a refund's status means for the order: the money goes back, it never will, or iapd
/// must ask again later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    Returned,
    Refused,
    Waiting,
}

impl RefundStatus {
    pub fn parse(text: &str) -> RefundStatus {
        match text {
            "pending" => RefundStatus::Pending,
            "requires_action" => RefundStatus::RequiresAction,
            "succeeded" => RefundStatus::Succeeded,
            "failed" => RefundStatus::Failed,
            "canceled" => RefundStatus::Canceled,
            other => RefundStatus::Other(other.to_owned()),
        }
    }

    /// A card refund is `pending` until the card network settles it, which Stripe expects
    /// to succeed: the payment counts as returned.
    pub fn outcome(&self) -> RefundOutcome {
        match self {
            RefundStatus::Succeeded | RefundStatus::Pending => RefundOutcome::Returned,
            RefundStatus::Failed | RefundStatus::Canceled => RefundOutcome::Refused,
            RefundStatus::RequiresAction | RefundStatus::Other(_) => RefundOutcome::Waiting,
        }
    }
}

impl StripeRefund {
    pub fn from_json(value: serde_json::Value) -> Result<StripeRefund, ParseError> {
        #[derive(serde::Deserialize)]
        struct Raw {
            id: String,
            object: Option<String>,
            status: Option<String>,
        }
        let raw: Raw =
            serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?;
        if raw.object.as_deref().is_some_and(|o| o != "refund") {
            return Err(ParseError::Field("object"));
        }
        let status = raw.status.ok_or(ParseError::Field("status"))?;
        Ok(StripeRefund {
            id: raw.id,
            status: RefundStatus::parse(&status),
        })
    }
}

/// A PaymentIntent (`POST /v1/payment_intents`), as far as auto-recharge reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentIntent {
    pub id: String,
    pub status: IntentStatus,
    /// Why the last attempt failed (`last_payment_error.message`), when it did.
    pub error: Option<String>,
}

/// What a PaymentIntent's `status` means for an off-session charge: paid, refused (the card
/// needs its owner: `requires_payment_method`, `requires_action`, `canceled`), or not
/// settled yet (`processing`, and any status iapd does not know), to be read back later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentStatus {
    Succeeded,
    Refused(String),
    Waiting(String),
}

impl PaymentIntent {
    pub fn from_json(value: serde_json::Value) -> Result<PaymentIntent, ParseError> {
        #[derive(serde::Deserialize)]
        struct Raw {
            id: String,
            object: Option<String>,
            status: Option<String>,
            last_payment_error: Option<RawError>,
        }
        #[derive(serde::Deserialize)]
        struct RawError {
            message: Option<String>,
        }
        let raw: Raw =
            serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?;
        if raw.object.as_deref().is_some_and(|o| o != "payment_intent") {
            return Err(ParseError::Field("object"));
        }
        let status = raw.status.ok_or(ParseError::Field("status"))?;
        let status = match status.as_str() {
            "succeeded" => IntentStatus::Succeeded,
            "requires_payment_method"
            | "requires_action"
            | "requires_confirmation"
            | "canceled" => IntentStatus::Refused(status),
            _ => IntentStatus::Waiting(status),
        };
        Ok(PaymentIntent {
            id: raw.id,
            status,
            error: raw.last_payment_error.and_then(|e| e.message),
        })
    }
}

/// A Checkout Session in `setup` mode, read back with its SetupIntent's payment method
/// expanded: how a card is saved for auto-recharge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupSession {
    pub id: String,
    pub complete: bool,
    /// `metadata.account_id`: the account whose auto-recharge the card pays.
    pub account_id: Option<i64>,
    /// `metadata.user_id`: who saved it.
    pub user_id: Option<i64>,
    pub customer: Option<String>,
    /// The saved card, once the session is complete.
    pub card: Option<SavedStripeCard>,
}

/// A card payment method as Stripe describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedStripeCard {
    /// `pm_…`.
    pub payment_method: String,
    /// As customers read it: "Visa", "Mastercard".
    pub brand: String,
    pub last4: String,
}

impl SetupSession {
    pub fn from_json(value: serde_json::Value) -> Result<SetupSession, ParseError> {
        let field = |name: &'static str| value.get(name).ok_or(ParseError::Field(name));
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let id = text(field("id")?).ok_or(ParseError::Field("id"))?;
        if value
            .get("object")
            .and_then(|o| o.as_str())
            .is_some_and(|o| o != "checkout.session")
        {
            return Err(ParseError::Field("object"));
        }
        if value.get("mode").and_then(|m| m.as_str()) != Some("setup") {
            return Err(ParseError::Field("mode"));
        }
        let metadata = |key: &str| {
            value
                .get("metadata")
                .and_then(|m| m.get(key))
                .and_then(|v| v.as_str())
                .and_then(|v| v.parse::<i64>().ok())
        };
        // `customer` and `setup_intent` are ids, or objects when expanded.
        let id_of = |v: Option<&serde_json::Value>| match v {
            Some(serde_json::Value::String(id)) => Some(id.clone()),
            Some(object) => object.get("id").and_then(|i| i.as_str()).map(str::to_owned),
            None => None,
        };
        let method = value
            .get("setup_intent")
            .and_then(|intent| intent.get("payment_method"))
            .filter(|m| m.is_object());
        let card = match method {
            Some(method) => {
                let pm = id_of(Some(method)).ok_or(ParseError::Field("payment_method.id"))?;
                let card = method
                    .get("card")
                    .ok_or(ParseError::Field("payment_method.card"))?;
                let brand = card
                    .get("brand")
                    .and_then(|b| b.as_str())
                    .ok_or(ParseError::Field("card.brand"))?;
                let last4 = card
                    .get("last4")
                    .and_then(|l| l.as_str())
                    .filter(|l| l.len() == 4 && l.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or(ParseError::Field("card.last4"))?;
                Some(SavedStripeCard {
                    payment_method: pm,
                    brand: brand_name(brand),
                    last4: last4.to_owned(),
                })
            }
            None => None,
        };
        Ok(SetupSession {
            id,
            complete: value.get("status").and_then(|s| s.as_str()) == Some("complete"),
            account_id: metadata("account_id"),
            user_id: metadata("user_id"),
            customer: id_of(value.get("customer")),
            card,
        })
    }
}

/// A card brand as Stripe names it (`visa`, `amex`…), as customers read it.
pub fn brand_name(brand: &str) -> String {
    match brand {
        "visa" => "Visa".into(),
        "mastercard" => "Mastercard".into(),
        "amex" => "American Express".into(),
        "discover" => "Discover".into(),
        "diners" => "Diners Club".into(),
        "jcb" => "JCB".into(),
        "unionpay" => "UnionPay".into(),
        "cartes_bancaires" => "Cartes Bancaires".into(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

/// A Checkout Session's `status`.
///
/// Stripe's own typings leave `payment_status` open to new values, and `status` has grown
/// before; a value iapd does not know is kept as `Other` rather than refused, so a session
/// can still be read back and logged. Callers must match `Other` explicitly, and it never
/// counts as paid or final.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    /// The customer has not finished; the session can still be paid.
    Open,
    Complete,
    /// Abandoned or expired (24 hours by default): it can never be paid.
    Expired,
    Other(String),
}

impl SessionStatus {
    pub fn parse(text: &str) -> SessionStatus {
        match text {
            "open" => SessionStatus::Open,
            "complete" => SessionStatus::Complete,
            "expired" => SessionStatus::Expired,
            other => SessionStatus::Other(other.to_owned()),
        }
    }
}

/// A Checkout Session's `payment_status`: the one field that says whether money arrived.
/// Unknown values are kept as `Other`, for the reason given on [`SessionStatus`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    Paid,
    /// Not yet, or a delayed method (SEPA debit…) still settling.
    Unpaid,
    /// A zero total. iapd never sells for nothing, so this does not credit an order either.
    NoPaymentRequired,
    Other(String),
}

impl PaymentStatus {
    pub fn parse(text: &str) -> PaymentStatus {
        match text {
            "paid" => PaymentStatus::Paid,
            "unpaid" => PaymentStatus::Unpaid,
            "no_payment_required" => PaymentStatus::NoPaymentRequired,
            other => PaymentStatus::Other(other.to_owned()),
        }
    }
}

/// The facts of a Checkout Session iapd acts on, read from the API or from an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutSession {
    /// `cs_…`: the provider reference an order is credited under.
    pub id: String,
    /// The hosted payment page; null once the session is complete or expired.
    pub url: Option<String>,
    pub status: SessionStatus,
    pub payment_status: PaymentStatus,
    /// From `metadata.order_id`, else from `client_reference_id`; see [`order_id_of`].
    pub order_id: Option<i64>,
    /// In the currency's minor unit, to check against the order before crediting it.
    pub amount_total: Option<i64>,
    /// Lowercase ISO code, as Stripe returns it.
    pub currency: Option<String>,
    /// `pi_…` once a payment was attempted: what a refund would name.
    pub payment_intent: Option<String>,
}

/// The subset of Stripe's session object iapd reads; every other field is ignored.
#[derive(serde::Deserialize)]
struct RawSession {
    id: String,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    status: Option<String>,
    payment_status: String,
    #[serde(default)]
    client_reference_id: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    amount_total: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    /// An id, or the whole object when the caller asked Stripe to expand it.
    #[serde(default)]
    payment_intent: Option<serde_json::Value>,
}

impl CheckoutSession {
    /// Reads a `checkout.session` object. A null `status` (only sessions older than the
    /// field have one) is refused: iapd cannot tell what such a session means.
    pub fn from_json(value: serde_json::Value) -> Result<CheckoutSession, ParseError> {
        let raw: RawSession =
            serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?;
        if raw
            .object
            .as_deref()
            .is_some_and(|o| o != "checkout.session")
        {
            return Err(ParseError::Field("object"));
        }
        let status = raw.status.ok_or(ParseError::Field("status"))?;
        let order_id = order_id_of(
            raw.metadata
                .as_ref()
                .and_then(|m| m.get("order_id"))
                .map(String::as_str),
            raw.client_reference_id.as_deref(),
        );
        let payment_intent = match raw.payment_intent {
            Some(serde_json::Value::String(id)) => Some(id),
            Some(serde_json::Value::Object(object)) => object
                .get("id")
                .and_then(|id| id.as_str())
                .map(str::to_owned),
            _ => None,
        };
        Ok(CheckoutSession {
            id: raw.id,
            url: raw.url,
            status: SessionStatus::parse(&status),
            payment_status: PaymentStatus::parse(&raw.payment_status),
            order_id,
            amount_total: raw.amount_total,
            currency: raw.currency,
            payment_intent,
        })
    }

    /// Money arrived: the only state in which an order may be credited.
    pub fn is_paid(&self) -> bool {
        self.payment_status == PaymentStatus::Paid
    }
}

/// The iapd order a session pays for. `metadata.order_id` is the order id iapd put there;
/// `client_reference_id` (the order reference, `IAP00042`, or a bare id) is the fallback for
/// a session whose metadata was lost or never set. Anything else is `None`: the webhook
/// handler then has an event it cannot attach to an order, and says so in the log.
pub fn order_id_of(
    metadata_order_id: Option<&str>,
    client_reference_id: Option<&str>,
) -> Option<i64> {
    let parse = |text: &str| {
        let text = text.trim();
        let digits = text.strip_prefix("IAP").unwrap_or(text);
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse::<i64>().ok())
            .flatten()
            .filter(|id| *id > 0)
    };
    metadata_order_id
        .and_then(parse)
        .or_else(|| client_reference_id.and_then(parse))
}

/// A webhook event, reduced to what the order flow acts on. The event id makes redelivery
/// detectable; the session id is the provider reference the order is credited under, so a
/// second `completed` for the same session credits nothing more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookEvent {
    /// `checkout.session.completed`. `paid` is false when a delayed payment method is still
    /// settling: then an `AsyncPaymentSucceeded` or `AsyncPaymentFailed` follows.
    CheckoutCompleted {
        event_id: String,
        session_id: String,
        order_id: Option<i64>,
        paid: bool,
        amount_total: Option<i64>,
        currency: Option<String>,
    },
    /// `checkout.session.expired`: the customer never paid; the order can be failed.
    CheckoutExpired {
        event_id: String,
        session_id: String,
        order_id: Option<i64>,
    },
    /// `checkout.session.async_payment_succeeded`: a delayed payment (SEPA debit, bank
    /// transfer…) settled after the session completed unpaid. Checkout offers such methods
    /// whenever the Dashboard enables them, so iapd must credit on this event too.
    AsyncPaymentSucceeded {
        event_id: String,
        session_id: String,
        order_id: Option<i64>,
        amount_total: Option<i64>,
        currency: Option<String>,
    },
    /// `checkout.session.async_payment_failed`: that delayed payment bounced.
    AsyncPaymentFailed {
        event_id: String,
        session_id: String,
        order_id: Option<i64>,
    },
    /// Any other type the endpoint was subscribed to: acknowledged and ignored.
    Other { event_id: String, kind: String },
}

/// The envelope of every Stripe event; `data.object` is read according to `type`.
#[derive(serde::Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: RawEventData,
}

#[derive(serde::Deserialize)]
struct RawEventData {
    object: serde_json::Value,
}

impl WebhookEvent {
    /// Reads a verified webhook body.
    pub fn parse(body: &[u8]) -> Result<WebhookEvent, ParseError> {
        let raw: RawEvent =
            serde_json::from_slice(body).map_err(|e| ParseError::Json(e.to_string()))?;
        let event_id = raw.id;
        let session = || CheckoutSession::from_json(raw.data.object.clone());
        Ok(match raw.kind.as_str() {
            "checkout.session.completed" => {
                let s = session()?;
                WebhookEvent::CheckoutCompleted {
                    event_id,
                    paid: s.is_paid(),
                    session_id: s.id,
                    order_id: s.order_id,
                    amount_total: s.amount_total,
                    currency: s.currency,
                }
            }
            "checkout.session.expired" => {
                let s = session()?;
                WebhookEvent::CheckoutExpired {
                    event_id,
                    session_id: s.id,
                    order_id: s.order_id,
                }
            }
            "checkout.session.async_payment_succeeded" => {
                let s = session()?;
                WebhookEvent::AsyncPaymentSucceeded {
                    event_id,
                    session_id: s.id,
                    order_id: s.order_id,
                    amount_total: s.amount_total,
                    currency: s.currency,
                }
            }
            "checkout.session.async_payment_failed" => {
                let s = session()?;
                WebhookEvent::AsyncPaymentFailed {
                    event_id,
                    session_id: s.id,
                    order_id: s.order_id,
                }
            }
            _ => WebhookEvent::Other {
                event_id,
                kind: raw.kind,
            },
        })
    }

    /// The event's `type`, as Stripe names it.
    pub fn kind(&self) -> &str {
        match self {
            WebhookEvent::CheckoutCompleted { .. } => "checkout.session.completed",
            WebhookEvent::CheckoutExpired { .. } => "checkout.session.expired",
            WebhookEvent::AsyncPaymentSucceeded { .. } => {
                "checkout.session.async_payment_succeeded"
            }
            WebhookEvent::AsyncPaymentFailed { .. } => "checkout.session.async_payment_failed",
            WebhookEvent::Other { kind, .. } => kind,
        }
    }

    pub fn event_id(&self) -> &str {
        match self {
            WebhookEvent::CheckoutCompleted { event_id, .. }
            | WebhookEvent::CheckoutExpired { event_id, .. }
            | WebhookEvent::AsyncPaymentSucceeded { event_id, .. }
            | WebhookEvent::AsyncPaymentFailed { event_id, .. }
            | WebhookEvent::Other { event_id, .. } => event_id,
        }
    }
}

/// What a Checkout Session means for its order, whether read from an event or from the API:
/// the one decision both the webhook and the reconciler act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Money arrived: credit the order, once, under the session id, if the amount and
    /// currency are the order's.
    Paid {
        session_id: String,
        amount_total: Option<i64>,
        currency: Option<String>,
    },
    /// The session can never be paid (expired, or its delayed payment failed): a pending
    /// order fails.
    Failed { session_id: String },
    /// Still open, or a delayed payment still settling: nothing to do yet.
    Waiting,
}

impl CheckoutSession {
    pub fn settlement(&self) -> Settlement {
        match (&self.status, self.is_paid()) {
            (_, true) => Settlement::Paid {
                session_id: self.id.clone(),
                amount_total: self.amount_total,
                currency: self.currency.clone(),
            },
            (SessionStatus::Expired, false) => Settlement::Failed {
                session_id: self.id.clone(),
            },
            (SessionStatus::Open | SessionStatus::Complete | SessionStatus::Other(_), false) => {
                Settlement::Waiting
            }
        }
    }
}

impl WebhookEvent {
    /// The order an event is about and what it means for it; `None` for event types iapd
    /// does not act on.
    pub fn settlement(&self) -> Option<(Option<i64>, Settlement)> {
        match self {
            WebhookEvent::CheckoutCompleted {
                session_id,
                order_id,
                paid: true,
                amount_total,
                currency,
                ..
            }
            | WebhookEvent::AsyncPaymentSucceeded {
                session_id,
                order_id,
                amount_total,
                currency,
                ..
            } => Some((
                *order_id,
                Settlement::Paid {
                    session_id: session_id.clone(),
                    amount_total: *amount_total,
                    currency: currency.clone(),
                },
            )),
            WebhookEvent::CheckoutCompleted {
                order_id,
                paid: false,
                ..
            } => Some((*order_id, Settlement::Waiting)),
            WebhookEvent::CheckoutExpired {
                session_id,
                order_id,
                ..
            }
            | WebhookEvent::AsyncPaymentFailed {
                session_id,
                order_id,
                ..
            } => Some((
                *order_id,
                Settlement::Failed {
                    session_id: session_id.clone(),
                },
            )),
            WebhookEvent::Other { .. } => None,
        }
    }
}

/// Whether what Stripe collected is what the order costs: the same amount in cents and the
/// same currency (Stripe writes codes in lowercase). A session without figures does not match.
pub fn collected_matches(
    amount_total: Option<i64>,
    currency: Option<&str>,
    order_amount: i64,
    order_currency: &str,
) -> bool {
    amount_total == Some(order_amount)
        && currency.is_some_and(|c| c.eq_ignore_ascii_case(order_currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed_session(status: &str, payment_status: &str) -> CheckoutSession {
        CheckoutSession {
            id: "cs_test_1".into(),
            url: None,
            status: SessionStatus::parse(status),
            payment_status: PaymentStatus::parse(payment_status),
            order_id: Some(42),
            amount_total: Some(9_000),
            currency: Some("eur".into()),
            payment_intent: None,
        }
    }

    #[test]
    fn a_session_is_settled_only_when_paid_or_dead() {
        assert!(matches!(
            parsed_session("complete", "paid").settlement(),
            Settlement::Paid {
                amount_total: Some(9_000),
                ..
            }
        ));
        assert_eq!(
            parsed_session("expired", "unpaid").settlement(),
            Settlement::Failed {
                session_id: "cs_test_1".into()
            }
        );
        assert_eq!(
            parsed_session("open", "unpaid").settlement(),
            Settlement::Waiting
        );
        assert_eq!(
            parsed_session("complete", "unpaid").settlement(),
            Settlement::Waiting
        );
        assert_eq!(
            parsed_session("complete", "no_payment_required").settlement(),
            Settlement::Waiting
        );
    }

    #[test]
    fn only_the_orders_amount_in_its_currency_matches() {
        assert!(collected_matches(Some(9_000), Some("eur"), 9_000, "EUR"));
        assert!(!collected_matches(Some(8_999), Some("eur"), 9_000, "EUR"));
        assert!(!collected_matches(Some(9_000), Some("usd"), 9_000, "EUR"));
        assert!(!collected_matches(None, Some("eur"), 9_000, "EUR"));
        assert!(!collected_matches(Some(9_000), None, 9_000, "EUR"));
    }

    const SECRET: &str = "whsec_test_secret";
    const NOW: i64 = 1_765_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;

    fn verify(header: &str, body: &[u8]) -> Result<(), SignatureError> {
        verify_signature(header, body, SECRET, NOW, DEFAULT_TOLERANCE_SECS)
    }

    #[test]
    fn a_body_signed_with_the_endpoint_secret_is_accepted() {
        let header = signature_header(BODY, SECRET, NOW - 10);
        assert!(header.starts_with(&format!("t={},v1=", NOW - 10)));
        assert_eq!(verify(&header, BODY), Ok(()));
    }

    #[test]
    fn the_header_matches_an_independent_hmac_of_timestamp_dot_body() {
        // Computed with Node's crypto: createHmac('sha256', SECRET).update(`${t}.${body}`).
        assert_eq!(
            signature_header(BODY, SECRET, NOW),
            "t=1765000000,v1=4134d928b63e791737f63ef48b99d925c628e38cacb5ecd5fb0dd6e91b5ced10"
        );
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let header = signature_header(BODY, SECRET, NOW);
        assert_eq!(
            verify(&header, br#"{"id":"evt_2","object":"event"}"#),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn a_body_signed_with_another_secret_is_refused() {
        let header = signature_header(BODY, "whsec_other", NOW);
        assert_eq!(verify(&header, BODY), Err(SignatureError::NoMatch));
    }

    #[test]
    fn a_signature_older_than_the_tolerance_is_refused() {
        let header = signature_header(BODY, SECRET, NOW - 301);
        assert_eq!(
            verify(&header, BODY),
            Err(SignatureError::OutsideTolerance { age_secs: 301 })
        );
        let edge = signature_header(BODY, SECRET, NOW - 300);
        assert_eq!(verify(&edge, BODY), Ok(()));
    }

    #[test]
    fn a_signature_from_the_future_beyond_the_tolerance_is_refused() {
        let header = signature_header(BODY, SECRET, NOW + 301);
        assert_eq!(
            verify(&header, BODY),
            Err(SignatureError::OutsideTolerance { age_secs: -301 })
        );
        let skewed = signature_header(BODY, SECRET, NOW + 60);
        assert_eq!(verify(&skewed, BODY), Ok(()));
    }

    #[test]
    fn a_missing_or_empty_header_is_refused_as_missing() {
        assert_eq!(verify("", BODY), Err(SignatureError::Missing));
        assert_eq!(verify("   ", BODY), Err(SignatureError::Missing));
    }

    #[test]
    fn a_header_without_a_timestamp_or_a_v1_signature_is_malformed() {
        let good = signature_header(BODY, SECRET, NOW);
        let v1 = good.split_once(',').unwrap().1;
        assert_eq!(verify(v1, BODY), Err(SignatureError::Malformed));
        assert_eq!(
            verify(&format!("t=soon,{v1}"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&format!("t={NOW}"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&format!("t={NOW},t={NOW},{v1}"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(verify("garbage", BODY), Err(SignatureError::Malformed));
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_and_v0_is_ignored() {
        let good = signature_header(BODY, SECRET, NOW);
        let (t, v1) = good.split_once(',').unwrap();
        let old_secret = signature_header(BODY, "whsec_old", NOW);
        let old_v1 = old_secret.split_once(',').unwrap().1;
        let v0 = "v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";
        let header = format!("{t},{old_v1},v1=zz,{v1},{v0}");
        assert_eq!(verify(&header, BODY), Ok(()));
        let spaced = format!("{t}, {v1}");
        assert_eq!(verify(&spaced, BODY), Ok(()));
        let only_v0 = format!("{t},v0={}", v1.trim_start_matches("v1="));
        assert_eq!(verify(&only_v0, BODY), Err(SignatureError::Malformed));
    }

    #[test]
    fn a_truncated_or_non_hex_signature_never_matches() {
        let good = signature_header(BODY, SECRET, NOW);
        assert_eq!(
            verify(&good[..good.len() - 2], BODY),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&format!("t={NOW},v1={}", "g".repeat(64)), BODY),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(decode_hex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("é1"), None);
    }

    /// A session as Stripe sends it (trimmed of fields iapd ignores, a few kept to show they
    /// are ignored).
    fn session(status: &str, payment_status: &str) -> serde_json::Value {
        json!({
            "id": "cs_test_a1b2c3",
            "object": "checkout.session",
            "amount_subtotal": 1000,
            "amount_total": 1000,
            "cancel_url": "http://iapd.test/orders/42/cancel",
            "client_reference_id": "IAP00042",
            "created": 1765000000,
            "currency": "eur",
            "customer_details": {"email": "ada@example.com", "name": "Ada"},
            "expires_at": 1765086400,
            "livemode": false,
            "metadata": {"order_id": "42"},
            "mode": "payment",
            "payment_intent": null,
            "payment_status": payment_status,
            "status": status,
            "success_url": "http://iapd.test/orders/42",
            "url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3"
        })
    }

    fn event(kind: &str, object: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
            "object": "event",
            "api_version": "2025-06-30.basil",
            "created": 1765000100,
            "data": {"object": object},
            "livemode": false,
            "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
            "type": kind
        }))
        .unwrap()
    }

    #[test]
    fn an_open_session_reads_with_its_order_and_amount() {
        let s = CheckoutSession::from_json(session("open", "unpaid")).unwrap();
        assert_eq!(
            s,
            CheckoutSession {
                id: "cs_test_a1b2c3".into(),
                url: Some("https://checkout.stripe.com/c/pay/cs_test_a1b2c3".into()),
                status: SessionStatus::Open,
                payment_status: PaymentStatus::Unpaid,
                order_id: Some(42),
                amount_total: Some(1000),
                currency: Some("eur".into()),
                payment_intent: None,
            }
        );
        assert!(!s.is_paid());
    }

    #[test]
    fn a_payment_intent_is_read_whether_expanded_or_not() {
        let mut value = session("complete", "paid");
        value["payment_intent"] = json!("pi_3abc");
        let s = CheckoutSession::from_json(value.clone()).unwrap();
        assert_eq!(s.payment_intent.as_deref(), Some("pi_3abc"));
        assert!(s.is_paid());
        value["payment_intent"] = json!({"id": "pi_3abc", "object": "payment_intent"});
        let s = CheckoutSession::from_json(value).unwrap();
        assert_eq!(s.payment_intent.as_deref(), Some("pi_3abc"));
    }

    #[test]
    fn unknown_statuses_are_kept_as_other_and_never_count_as_paid() {
        let s = CheckoutSession::from_json(session("reopened", "pending_review")).unwrap();
        assert_eq!(s.status, SessionStatus::Other("reopened".into()));
        assert_eq!(
            s.payment_status,
            PaymentStatus::Other("pending_review".into())
        );
        assert!(!s.is_paid());
        let free = CheckoutSession::from_json(session("complete", "no_payment_required")).unwrap();
        assert_eq!(free.payment_status, PaymentStatus::NoPaymentRequired);
        assert!(!free.is_paid());
    }

    #[test]
    fn a_session_without_status_or_of_another_object_type_is_refused() {
        let mut value = session("open", "unpaid");
        value["status"] = serde_json::Value::Null;
        assert_eq!(
            CheckoutSession::from_json(value),
            Err(ParseError::Field("status"))
        );
        let mut value = session("open", "unpaid");
        value["object"] = json!("payment_intent");
        assert_eq!(
            CheckoutSession::from_json(value),
            Err(ParseError::Field("object"))
        );
        let mut value = session("open", "unpaid");
        value.as_object_mut().unwrap().remove("payment_status");
        assert!(matches!(
            CheckoutSession::from_json(value),
            Err(ParseError::Json(_))
        ));
    }

    #[test]
    fn the_order_comes_from_metadata_then_from_the_client_reference() {
        let id = order_id_of;
        assert_eq!(id(Some("42"), Some("IAP00007")), Some(42));
        assert_eq!(id(None, Some("IAP00007")), Some(7));
        assert_eq!(id(None, Some("7")), Some(7));
        assert_eq!(
            id(None, Some(&crate::models::order_reference(123_456))),
            Some(123_456)
        );
        assert_eq!(id(Some("forty-two"), Some("IAP00007")), Some(7));
        assert_eq!(id(Some("-3"), None), None);
        assert_eq!(id(Some("0"), None), None);
        assert_eq!(id(None, Some("cart_9")), None);
        assert_eq!(id(None, Some("+7")), None);
        assert_eq!(id(None, None), None);
    }

    #[test]
    fn a_completed_and_paid_checkout_is_read_as_paid() {
        let body = event("checkout.session.completed", session("complete", "paid"));
        assert_eq!(
            WebhookEvent::parse(&body),
            Ok(WebhookEvent::CheckoutCompleted {
                event_id: "evt_1NG8Du2eZvKYlo2CUI79vXWy".into(),
                session_id: "cs_test_a1b2c3".into(),
                order_id: Some(42),
                paid: true,
                amount_total: Some(1000),
                currency: Some("eur".into()),
            })
        );
    }

    #[test]
    fn a_completed_checkout_awaiting_a_delayed_payment_is_not_paid() {
        let mut object = session("complete", "unpaid");
        object["metadata"] = json!({});
        let body = event("checkout.session.completed", object);
        match WebhookEvent::parse(&body).unwrap() {
            WebhookEvent::CheckoutCompleted { paid, order_id, .. } => {
                assert!(!paid);
                assert_eq!(order_id, Some(42), "falls back to client_reference_id");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_expired_checkout_is_read_with_its_order() {
        let body = event("checkout.session.expired", session("expired", "unpaid"));
        assert_eq!(
            WebhookEvent::parse(&body),
            Ok(WebhookEvent::CheckoutExpired {
                event_id: "evt_1NG8Du2eZvKYlo2CUI79vXWy".into(),
                session_id: "cs_test_a1b2c3".into(),
                order_id: Some(42),
            })
        );
    }

    #[test]
    fn delayed_payments_settling_or_bouncing_are_read() {
        let body = event(
            "checkout.session.async_payment_succeeded",
            session("complete", "paid"),
        );
        assert_eq!(
            WebhookEvent::parse(&body),
            Ok(WebhookEvent::AsyncPaymentSucceeded {
                event_id: "evt_1NG8Du2eZvKYlo2CUI79vXWy".into(),
                session_id: "cs_test_a1b2c3".into(),
                order_id: Some(42),
                amount_total: Some(1000),
                currency: Some("eur".into()),
            })
        );
        let body = event(
            "checkout.session.async_payment_failed",
            session("complete", "unpaid"),
        );
        assert_eq!(
            WebhookEvent::parse(&body),
            Ok(WebhookEvent::AsyncPaymentFailed {
                event_id: "evt_1NG8Du2eZvKYlo2CUI79vXWy".into(),
                session_id: "cs_test_a1b2c3".into(),
                order_id: Some(42),
            })
        );
    }

    #[test]
    fn other_event_types_are_kept_by_name_whatever_their_object() {
        let body = event(
            "payment_intent.succeeded",
            json!({"id": "pi_3abc", "object": "payment_intent", "amount": 1000}),
        );
        let parsed = WebhookEvent::parse(&body).unwrap();
        assert_eq!(parsed.event_id(), "evt_1NG8Du2eZvKYlo2CUI79vXWy");
        assert_eq!(
            parsed,
            WebhookEvent::Other {
                event_id: "evt_1NG8Du2eZvKYlo2CUI79vXWy".into(),
                kind: "payment_intent.succeeded".into(),
            }
        );
    }

    #[test]
    fn malformed_bodies_are_typed_errors() {
        assert!(matches!(
            WebhookEvent::parse(b"not json"),
            Err(ParseError::Json(_))
        ));
        assert!(matches!(
            WebhookEvent::parse(br#"{"id":"evt_1","type":"checkout.session.completed"}"#),
            Err(ParseError::Json(_))
        ));
        let body = event(
            "checkout.session.completed",
            json!({"id": "pi_3abc", "object": "payment_intent",
                "payment_status": "paid", "status": "complete"}),
        );
        assert_eq!(WebhookEvent::parse(&body), Err(ParseError::Field("object")));
    }

    #[test]
    fn a_refund_is_read_and_its_status_decides_the_order() {
        let refund = StripeRefund::from_json(json!({
            "id": "re_1", "object": "refund", "amount": 1000, "status": "pending"
        }))
        .unwrap();
        assert_eq!(refund.id, "re_1");
        assert_eq!(refund.status.outcome(), RefundOutcome::Returned);
        assert_eq!(
            RefundStatus::parse("canceled").outcome(),
            RefundOutcome::Refused
        );
        assert_eq!(
            RefundStatus::parse("requires_action").outcome(),
            RefundOutcome::Waiting
        );
        assert_eq!(
            RefundStatus::parse("later").outcome(),
            RefundOutcome::Waiting
        );
        assert!(
            StripeRefund::from_json(
                json!({"id": "cs_1", "object": "checkout.session", "status": "open"})
            )
            .is_err()
        );
        assert!(StripeRefund::from_json(json!({"id": "re_2", "object": "refund"})).is_err());
    }

    #[test]
    fn payment_intents_are_paid_refused_or_waiting() {
        let read = |status: &str| {
            PaymentIntent::from_json(serde_json::json!({
                "id": "pi_1", "object": "payment_intent", "status": status,
                "last_payment_error": {"message": "Your card was declined."}
            }))
            .unwrap()
        };
        assert_eq!(read("succeeded").status, IntentStatus::Succeeded);
        assert_eq!(
            read("requires_payment_method").status,
            IntentStatus::Refused("requires_payment_method".into())
        );
        assert_eq!(
            read("processing").status,
            IntentStatus::Waiting("processing".into())
        );
        assert_eq!(
            read("new_one").status,
            IntentStatus::Waiting("new_one".into())
        );
        assert_eq!(
            read("canceled").error.as_deref(),
            Some("Your card was declined.")
        );
        let session =
            serde_json::json!({"id": "cs_1", "object": "checkout.session", "status": "open"});
        assert_eq!(
            PaymentIntent::from_json(session),
            Err(ParseError::Field("object"))
        );
    }

    #[test]
    fn a_completed_setup_session_gives_the_saved_card() {
        let session = serde_json::json!({
            "id": "cs_test_1", "object": "checkout.session", "mode": "setup",
            "status": "complete", "customer": "cus_1",
            "metadata": {"account_id": "7", "user_id": "2", "purpose": "auto_recharge_card"},
            "setup_intent": {"id": "seti_1", "payment_method": {
                "id": "pm_1", "object": "payment_method",
                "card": {"brand": "visa", "last4": "4242"}}}
        });
        let read = SetupSession::from_json(session.clone()).unwrap();
        assert!(read.complete);
        assert_eq!((read.account_id, read.user_id), (Some(7), Some(2)));
        assert_eq!(read.customer.as_deref(), Some("cus_1"));
        assert_eq!(
            read.card,
            Some(SavedStripeCard {
                payment_method: "pm_1".into(),
                brand: "Visa".into(),
                last4: "4242".into()
            })
        );
        let mut open = session.clone();
        open["status"] = "open".into();
        open["setup_intent"] = "seti_1".into();
        let open = SetupSession::from_json(open).unwrap();
        assert!(!open.complete && open.card.is_none());
        let mut payment = session.clone();
        payment["mode"] = "payment".into();
        assert_eq!(
            SetupSession::from_json(payment),
            Err(ParseError::Field("mode"))
        );
        let mut bad = session;
        bad["setup_intent"]["payment_method"]["card"]["last4"] = "42".into();
        assert_eq!(
            SetupSession::from_json(bad),
            Err(ParseError::Field("card.last4"))
        );
        assert_eq!(brand_name("amex"), "American Express");
        assert_eq!(brand_name("eftpos_au"), "Eftpos_au");
    }
}
