//! Hostile input, generated: every state-changing server function and JSON-RPC route gets at
//! least 50 malformed calls (wrong types, huge and negative numbers, NaN, 1 MB strings,
//! control characters, ids that do not exist, missing fields, garbage bodies). Each must be
//! answered with a clear 4xx (server functions) or a JSON-RPC error (the Odoo routes), never
//! a 5xx or a panic, and nothing may change: the fingerprint of every table that matters and
//! the ledger check stay as they were.
//!
//! The generator is a seeded xorshift, so a failure prints the seed and the exact call, and
//! replays the same way.

use crate::helpers::{TestApp, spawn_app};
use crate::iap_api::{key_for, post_raw, token_of};
use axum::body::Body;
use http::{Request, StatusCode, header};
use serde_json::{Value, json};

/// Malformed calls per endpoint.
const CALLS: usize = 60;

/// A deterministic xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// What a form field holds, so the generator knows what is malformed for it.
#[derive(Clone, Copy)]
enum Kind {
    /// A required id (`i64`): anything but an existing, visible record is refused.
    Id,
    /// A `bool`.
    Bool,
    /// An `Option<i64>` id: as [`Kind::Id`], but leaving it empty means "none".
    OptId,
    /// A required one-line text with a length limit: control characters and 1 MB are refused.
    Line,
    /// An optional one-line text: as [`Kind::Line`], but empty is valid.
    OptLine,
    /// A text message body: line breaks are fine, other control characters are not.
    Body,
    /// A phone number.
    Phone,
    /// A country code.
    Country,
    /// A password: only the length limit applies (any printable character is allowed).
    Password,
    /// A decimal amount of credits written by a person.
    Amount,
    /// One of a closed set of words.
    Choice,
    /// A comma-separated list of email addresses.
    Emails,
    /// A card detail: digits of a fixed shape.
    CardDigits,
}

fn megabyte() -> String {
    "A".repeat(1024 * 1024)
}

fn bad_values(kind: Kind) -> Vec<String> {
    let mut values: Vec<String> = match kind {
        Kind::Id => [
            "",
            "abc",
            "1.5",
            "NaN",
            "inf",
            "1e400",
            "99999999999999999999999",
            "-",
            "0x1F",
            "１",
            "1; DROP TABLE users",
            "0",
            "-1",
            "9223372036854775807",
            "-9223372036854775808",
            "987654321",
        ]
        .map(String::from)
        .to_vec(),
        Kind::OptId => ["abc", "1.5", "NaN", "1e400", "-1", "0", "987654321", "0x1F"]
            .map(String::from)
            .to_vec(),
        Kind::OptLine => vec![
            "nul\u{0}byte".into(),
            "escape\u{1b}[2Jsequence".into(),
            "line\nbreak".into(),
            megabyte(),
        ],
        Kind::Body => vec![
            String::new(),
            "nul\u{0}byte".into(),
            "escape\u{1b}[2Jsequence".into(),
            "bell\u{7}".into(),
            megabyte(),
        ],
        Kind::Phone => ["abcd", "1", "12", "++32 470", "\u{0}", "+32 470 ☎"]
            .map(String::from)
            .to_vec(),
        Kind::Country => ["ZZ", "bogus", "0", "B\u{0}"].map(String::from).to_vec(),
        Kind::Bool => ["maybe", "2", "", "TRUE ", "null", "[]"]
            .map(String::from)
            .to_vec(),
        Kind::Line => vec![
            String::new(),
            "   ".into(),
            "nul\u{0}byte".into(),
            "escape\u{1b}[2Jsequence".into(),
            "delete\u{7f}char".into(),
            "c1\u{85}control".into(),
            "line\nbreak".into(),
            megabyte(),
        ],
        Kind::Password => vec![String::new(), "short".into(), megabyte()],
        Kind::Amount => [
            "NaN",
            "inf",
            "-inf",
            "1e3",
            "1.00001",
            "abc",
            "99999999999999999999",
            "--1",
            "0x10",
            "1.2.3",
            "1\u{0}",
        ]
        .map(String::from)
        .to_vec(),
        Kind::Choice => ["", "bogus", "0", "null", "mobile ", "ADMIN"]
            .map(String::from)
            .to_vec(),
        Kind::Emails => vec![
            "not-an-email".into(),
            "a@b.c, ,@nope".into(),
            "x\u{0}@example.com".into(),
            (0..25)
                .map(|i| format!("u{i}@example.com"))
                .collect::<Vec<_>>()
                .join(","),
            megabyte(),
        ],
        Kind::CardDigits => ["", "abcd", "4242 4242 4242 4241", "1", "99/99", "\u{0}"]
            .map(String::from)
            .to_vec(),
    };
    if !matches!(
        kind,
        Kind::Line | Kind::OptLine | Kind::Body | Kind::Password | Kind::Emails
    ) {
        values.push(megabyte());
    }
    values
}

/// Bodies that are not a form at all.
fn garbage_bodies() -> Vec<String> {
    vec![
        "%".into(),
        "=&=&=".into(),
        "%FF%FE%00".into(),
        format!("{}=1", "a[b]".repeat(40)),
        "[]".into(),
        "{\"json\": true}".into(),
    ]
}

/// One server function: its endpoint and a valid call, field by field.
struct Endpoint {
    name: &'static str,
    fields: Vec<(String, Kind, String)>,
    /// Fields that may be left out (`Option` arguments): leaving them out is valid.
    optional: &'static [&'static str],
}

fn field(name: &str, kind: Kind, valid: impl ToString) -> (String, Kind, String) {
    (name.to_owned(), kind, valid.to_string())
}

async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Everything a refused call must leave as it was.
async fn fingerprint(app: &TestApp) -> Vec<i64> {
    let mut values = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM ledger_entries",
        "SELECT COUNT(*) FROM holds",
        "SELECT COALESCE(CAST(SUM(balance) AS BIGINT), 0) FROM iap_accounts",
        "SELECT COALESCE(CAST(SUM(held) AS BIGINT), 0) FROM iap_accounts",
        "SELECT COUNT(*) FROM iap_accounts",
        "SELECT COUNT(*) FROM orders",
        "SELECT COUNT(*) FROM users",
        "SELECT COUNT(*) FROM contacts",
        "SELECT COUNT(*) FROM companies",
        "SELECT COUNT(*) FROM mail_outbox",
        "SELECT COUNT(*) FROM sms_messages",
        "SELECT COUNT(*) FROM sms_batches",
        "SELECT COUNT(*) FROM sms_reports",
        "SELECT COUNT(*) FROM iap_account_companies",
        "SELECT COUNT(*) FROM user_companies",
        "SELECT COUNT(*) FROM iap_account_warnings",
    ] {
        values.push(scalar(app, sql).await);
    }
    // Every row of the tables a bad request could touch, as one ordered text per table.
    for (table, row) in [
        ("iap_accounts", "name || '|' || token"),
        (
            "iap_account_warnings",
            "account_id || '|' || enabled || '|' || threshold || '|' || emails",
        ),
        (
            "users",
            "login || '|' || name || '|' || is_admin || '|' || active || '|' || password_hash",
        ),
        ("contacts", "name || '|' || COALESCE(email, '')"),
        ("settings", "key || '=' || value"),
        (
            "services",
            "technical_name || '|' || COALESCE(key_hash, '')",
        ),
        ("sms_senders", "account_id || '|' || sender_name"),
        ("sms_messages", "id || '|' || COALESCE(delivery, '')"),
    ] {
        let sql = format!("SELECT string_agg({row}, ';' ORDER BY {row}) FROM {table}");
        let text: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .fetch_one(&app.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        values.push(hash(&text.unwrap_or_default()));
    }
    values
}

fn hash(text: &str) -> i64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish() as i64
}

async fn ledger_is_consistent(app: &TestApp) {
    let mut conn = app.pool.acquire().await.expect("conn");
    let wrong = app::db::ledger::check(&mut conn).await.expect("check");
    assert!(wrong.is_empty(), "the books disagree: {wrong:?}");
}

/// Sends a raw form body to a server function.
async fn post_form(app: &TestApp, endpoint: &str, body: String, cookie: &str) -> (u16, String) {
    let req = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .expect("request");
    let reply = app.send(req).await;
    (reply.status.as_u16(), reply.body)
}

fn encode(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).expect("form")
}

/// A refusal is a 4xx whose body is an `AppError` a page can show; anything else is noted
/// in `failures`, so one run lists every hole.
fn check_refused(status: u16, body: &str, call: &str, failures: &mut Vec<String>) {
    let shown = &body[..body.len().min(300)];
    if !(400..500).contains(&status) {
        failures.push(format!("expected a 4xx, got {status} for {call}: {shown}"));
    } else if serde_json::from_str::<app::error::AppError>(body).is_err() {
        failures.push(format!("{status} for {call} is not an AppError: {shown}"));
    }
}

fn assert_no_failures(failures: &[String], seed: u64) {
    assert!(
        failures.is_empty(),
        "{} malformed calls were not refused cleanly (seed {seed:#x}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn describe(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let shown: String = v.chars().take(40).collect();
            format!("{k}={shown:?}{}", if v.len() > 40 { "…" } else { "" })
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn hammer(
    app: &TestApp,
    rng: &mut Rng,
    endpoint: &Endpoint,
    cookie: &str,
    before: &[i64],
    failures: &mut Vec<String>,
) -> usize {
    let garbage = garbage_bodies();
    let mut sent = 0;
    for i in 0..CALLS {
        let mut pairs: Vec<(String, String)> = endpoint
            .fields
            .iter()
            .map(|(name, _, valid)| (name.clone(), valid.clone()))
            .collect();
        let body = match i % 10 {
            // A body that is not the form at all.
            9 => rng.pick(&garbage),
            // A required field left out.
            8 => {
                let required: Vec<usize> = (0..pairs.len())
                    .filter(|&f| !endpoint.optional.iter().any(|o| pairs[f].0.starts_with(o)))
                    .collect();
                if required.is_empty() {
                    rng.pick(&garbage)
                } else {
                    pairs.remove(rng.pick(&required));
                    encode(&pairs)
                }
            }
            // One field (now and then two) malformed.
            _ => {
                let times = if rng.below(4) == 0 { 2 } else { 1 };
                for _ in 0..times {
                    let f = rng.below(pairs.len());
                    pairs[f].1 = rng.pick(&bad_values(endpoint.fields[f].1));
                }
                encode(&pairs)
            }
        };
        let call = format!("{} {}", endpoint.name, describe(&pairs));
        let (status, reply) = post_form(app, endpoint.name, body, cookie).await;
        check_refused(status, &reply, &call, failures);
        assert_eq!(fingerprint(app).await, before, "{call} changed something");
        sent += 1;
    }
    sent
}

#[tokio::test]
async fn malformed_server_function_calls_get_a_clear_4xx_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let account = scalar(&app, "SELECT id FROM iap_accounts WHERE service = 'sms'").await;
    let pack = scalar(&app, "SELECT id FROM packs WHERE service = 'sms' LIMIT 1").await;
    let contact = scalar(
        &app,
        "SELECT id FROM contacts WHERE mobile IS NOT NULL ORDER BY id LIMIT 1",
    )
    .await;
    let demo = scalar(&app, "SELECT id FROM users WHERE login = 'demo'").await;
    let company = scalar(&app, "SELECT MIN(id) FROM companies").await;
    let order = {
        let reply = app
            .call(
                "store/order",
                &[
                    ("account_id", &account.to_string()),
                    ("pack_id", &pack.to_string()),
                ],
                Some(&admin),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body.trim().parse::<i64>().expect("an order id")
    };
    ledger_is_consistent(&app).await;
    let before = fingerprint(&app).await;

    let token = "a-valid-looking-account-token-0123456789";
    let endpoints = vec![
        Endpoint {
            name: "switch_company",
            fields: vec![
                field("company_id", Kind::Id, company),
                field("toggle", Kind::Bool, true),
            ],
            optional: &[],
        },
        Endpoint {
            name: "contacts/save",
            fields: vec![
                field("input[name]", Kind::Line, "Hostile Input"),
                field("input[company_name]", Kind::OptLine, "ACME"),
                field("input[email]", Kind::Emails, "h@example.com"),
                field("input[phone]", Kind::Phone, "+32 470 12 34 56"),
                field("input[mobile]", Kind::Phone, "+32 470 12 34 57"),
                field("input[country_code]", Kind::Country, "BE"),
                field("id", Kind::OptId, contact),
            ],
            optional: &["id"],
        },
        Endpoint {
            name: "iap/admin/save",
            fields: vec![
                field("id", Kind::Id, account),
                field("name", Kind::Line, "SMS account"),
                field("token", Kind::Line, token),
                field("companies[0]", Kind::Id, company),
            ],
            optional: &["companies"],
        },
        Endpoint {
            name: "iap/admin/adjust",
            fields: vec![
                field("id", Kind::Id, account),
                field("amount", Kind::Amount, "5"),
                field("reason", Kind::Line, "goodwill"),
            ],
            optional: &[],
        },
        Endpoint {
            name: "services/rotate_key",
            fields: vec![field("service", Kind::Choice, "sms")],
            optional: &[],
        },
        Endpoint {
            name: "services/hosting_type",
            fields: vec![field("hosting", Kind::Choice, "Odoo.sh")],
            optional: &[],
        },
        Endpoint {
            name: "sms/quote",
            fields: vec![
                field("contact_ids[0]", Kind::Id, contact),
                field("field", Kind::Choice, "Mobile"),
            ],
            optional: &[],
        },
        Endpoint {
            name: "sms/send",
            fields: vec![
                field("input[contact_ids][0]", Kind::Id, contact),
                field("input[field]", Kind::Choice, "Mobile"),
                field("input[body]", Kind::Body, "Hello"),
                field("input[request_key]", Kind::Line, "bad-input-key-0001"),
            ],
            optional: &[],
        },
        Endpoint {
            name: "store/order",
            fields: vec![
                field("account_id", Kind::Id, account),
                field("pack_id", Kind::Id, pack),
            ],
            optional: &[],
        },
        Endpoint {
            name: "store/pay",
            fields: vec![
                field("id", Kind::Id, order),
                field("cardholder", Kind::Line, "Mitchell Admin"),
                field("card_number", Kind::CardDigits, "4242424242424242"),
                field("expiry", Kind::CardDigits, "12/39"),
                field("cvc", Kind::CardDigits, "123"),
            ],
            optional: &[],
        },
        Endpoint {
            name: "store/pay_hosted",
            fields: vec![field("id", Kind::Id, order)],
            optional: &[],
        },
        Endpoint {
            name: "users/create",
            fields: vec![
                field("login", Kind::Line, "hostile"),
                field("name", Kind::Line, "Hostile User"),
                field("role", Kind::Choice, "user"),
                field("companies[0]", Kind::Id, company),
                field("password", Kind::Password, "correct horse battery staple"),
            ],
            optional: &["companies"],
        },
        Endpoint {
            name: "users/update",
            fields: vec![
                field("id", Kind::Id, demo),
                field("name", Kind::Line, "Marc Demo"),
                field("role", Kind::Choice, "user"),
                field("companies[0]", Kind::Id, company),
                field("active", Kind::Bool, true),
            ],
            optional: &["companies"],
        },
        Endpoint {
            name: "users/set_password",
            fields: vec![
                field("id", Kind::Id, demo),
                field("password", Kind::Password, "correct horse battery staple"),
            ],
            optional: &[],
        },
        Endpoint {
            name: "users/change_password",
            fields: vec![
                field("current_password", Kind::Password, "admin"),
                field(
                    "new_password",
                    Kind::Password,
                    "correct horse battery staple",
                ),
                field(
                    "confirm_password",
                    Kind::Password,
                    "correct horse battery staple",
                ),
            ],
            optional: &[],
        },
        Endpoint {
            name: "iap/warning/save",
            fields: vec![
                field("id", Kind::Id, account),
                field("enabled", Kind::Bool, true),
                field("threshold", Kind::Amount, "10"),
                field("emails", Kind::Emails, "ops@example.com"),
            ],
            optional: &[],
        },
        Endpoint {
            name: "login",
            fields: vec![
                field("login", Kind::Line, "admin"),
                field("password", Kind::Password, "admin"),
            ],
            optional: &[],
        },
    ];

    let seed = 0x1A9D_5EED_u64;
    let mut rng = Rng(seed);
    let mut sent = 0;
    let mut failures = Vec::new();
    for endpoint in &endpoints {
        sent += hammer(&app, &mut rng, endpoint, &admin, &before, &mut failures).await;
        assert_eq!(
            fingerprint(&app).await,
            before,
            "{} changed something (seed {seed:#x})",
            endpoint.name
        );
    }
    ledger_is_consistent(&app).await;
    assert_eq!(sent, endpoints.len() * CALLS);

    // The one JSON-encoded server function gets malformed JSON of every shape.
    let mut json_bodies: Vec<String> = vec![
        "{".into(),
        "null".into(),
        "[]".into(),
        "{\"service\": null}".into(),
        "{\"service\": 42}".into(),
        format!("{{\"service\": \"{}\"}}", megabyte()),
    ];
    let valid = json!({"service": {"technical_name": "fax", "label": "Fax", "unit_name": "Pages",
        "trial_credits": 0, "packs": [{"name": "Starter", "credits": "10", "price": "9.00"}]}});
    for (path, bad) in [
        ("technical_name", json!("Not A Name!")),
        ("technical_name", json!("\u{0}")),
        ("label", json!("")),
        ("label", json!(megabyte())),
        ("unit_name", json!(7)),
        ("trial_credits", json!(-1)),
        ("trial_credits", json!(1e300)),
        ("trial_credits", json!("NaN")),
        ("packs", json!("none")),
        (
            "packs",
            json!([{"name": "x", "credits": "NaN", "price": "1"}]),
        ),
        (
            "packs",
            json!([{"name": "x", "credits": "10", "price": "-1"}]),
        ),
        (
            "packs",
            json!([{"name": "\u{1b}[2J", "credits": "10", "price": "1"}]),
        ),
    ] {
        let mut body = valid.clone();
        body["service"][path] = bad;
        json_bodies.push(body.to_string());
    }
    while json_bodies.len() < CALLS {
        let mut body = valid.clone();
        let field = rng.pick(&["technical_name", "label", "unit_name", "trial_credits"]);
        body["service"][field] = rng.pick(&[
            json!(null),
            json!([]),
            json!({}),
            json!(-9_223_372_036_854_775_808_i64),
            json!("\u{7f}"),
        ]);
        json_bodies.push(body.to_string());
    }
    for body in json_bodies {
        let req = Request::post("/api/services/register")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, &admin)
            .body(Body::from(body.clone()))
            .expect("request");
        let reply = app.send(req).await;
        check_refused(
            reply.status.as_u16(),
            &reply.body,
            &format!("services/register {}", &body[..body.len().min(120)]),
            &mut failures,
        );
    }
    assert_no_failures(&failures, seed);
    assert_eq!(fingerprint(&app).await, before, "services/register");
    ledger_is_consistent(&app).await;
}

/// One JSON-RPC route and a valid call's parameters.
struct Route {
    path: &'static str,
    params: Value,
    /// Parameters that may be absent: only wrong types are tried on them.
    optional: &'static [&'static str],
    /// Values of the kinds tried that are in fact valid for a parameter.
    valid_also: Vec<(&'static str, Value)>,
}

fn bad_json_values(rng: &mut Rng) -> Value {
    rng.pick(&[
        json!(true),
        json!(1.5),
        json!(-1),
        json!(1e308),
        json!(-1e308),
        json!(9_007_199_254_740_993_i64),
        json!(""),
        json!("NaN"),
        json!("\u{0}\u{1b}"),
        json!("x".repeat(70 * 1024)),
        json!([]),
        json!([1, [2, [3]]]),
        json!({}),
        json!({"$ne": null}),
    ])
}

#[tokio::test]
async fn malformed_json_rpc_calls_get_a_json_rpc_error_and_change_nothing() {
    let app = spawn_app().await;
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    // A live hold, so capture and cancel have a real transaction to aim at.
    let hold = {
        let envelope = json!({"jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"key": key, "account_token": account, "credit": 1}});
        let (status, reply) = post_raw(&app, "/iap/1/authorize", envelope.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        reply["result"].as_str().expect("a transaction").to_owned()
    };
    ledger_is_consistent(&app).await;
    let before = fingerprint(&app).await;

    let routes = vec![
        Route {
            path: "/iap/1/authorize",
            params: json!({"key": key, "account_token": account, "credit": 1,
                "description": "bad input", "dbuuid": "db", "ttl": 1}),
            optional: &["description", "dbuuid", "ttl"],
            valid_also: vec![],
        },
        Route {
            path: "/iap/1/capture",
            params: json!({"key": key, "token": hold, "credit_to_capture": 0.5}),
            optional: &["credit_to_capture"],
            valid_also: vec![],
        },
        Route {
            path: "/iap/1/cancel",
            params: json!({"key": key, "token": hold}),
            optional: &[],
            valid_also: vec![],
        },
        Route {
            path: "/iap/1/update-warning-email-alerts",
            params: json!({"account_token": account, "dbuuid": "db", "warning_threshold": 3,
                "warning_emails": [{"email": "ops@example.com", "lang_code": "fr_FR"}]}),
            optional: &["dbuuid", "warning_threshold", "warning_emails"],
            valid_also: vec![("warning_emails", json!([]))],
        },
        Route {
            path: "/iap/update-warning-odoo",
            params: json!({"account_token": account, "dbuuid": "db", "warn_me": true,
                "warning_threshold": 3, "warning_email": "ops@example.com"}),
            optional: &["dbuuid", "warn_me", "warning_threshold", "warning_email"],
            valid_also: vec![],
        },
        Route {
            path: "/iap/1/balance",
            params: json!({"account_token": account, "service_name": "sms", "dbuuid": "db"}),
            optional: &["dbuuid"],
            valid_also: vec![],
        },
        Route {
            path: "/iap/1/get-accounts-information",
            params: json!({"iap_accounts": [{"token": account, "service": "sms"}],
                "dbuuid": "db"}),
            optional: &["dbuuid"],
            valid_also: vec![("iap_accounts", json!([]))],
        },
        Route {
            path: "/iap/services-token",
            params: json!({"iap_accounts": [account], "dbuuid": "db"}),
            optional: &["dbuuid"],
            valid_also: vec![("iap_accounts", json!([]))],
        },
        // The SMS API answers an unknown token `unregistered`, and an empty batch with an
        // empty list: only wrong types and control characters are malformed there.
        Route {
            path: "/api/sms/3/send",
            params: json!({"account_token": account, "dbuuid": "db",
                "webhook_url": "https://odoo.example/sms/status",
                "messages": [{"content": "Hi", "numbers": [
                    {"uuid": "0123456789abcdef0123456789abcdef", "number": "+32470123456"}]}]}),
            optional: &["account_token", "dbuuid", "webhook_url"],
            valid_also: vec![("messages", json!([]))],
        },
        Route {
            path: "/iap/sms/2/send",
            params: json!({"account_token": account,
                "messages": [{"res_id": 7, "number": "+32470123456", "content": "Hi"}]}),
            optional: &["account_token"],
            valid_also: vec![("messages", json!([]))],
        },
        Route {
            path: "/api/sms/1/account/update_sender",
            params: json!({"account_token": account, "sender_name": "MyShop"}),
            optional: &["account_token", "sender_name"],
            valid_also: vec![],
        },
    ];
    let seed = 0x0D00_BAD0_u64;
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    for route in &routes {
        let names: Vec<String> = route
            .params
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        for i in 0..CALLS {
            let mut params = route.params.clone();
            let object = params.as_object_mut().expect("object");
            let name = rng.pick(&names);
            let required = !route.optional.contains(&name.as_str());
            let envelope = if i % 10 == 9 {
                // The envelope itself is wrong.
                rng.pick(&[
                    json!({"jsonrpc": "2.0", "params": [object.clone()], "id": 1}),
                    json!({"jsonrpc": "2.0", "params": null, "id": 1}),
                    json!({"jsonrpc": "2.0", "params": "x", "id": 1}),
                    json!([{"jsonrpc": "2.0", "params": object.clone(), "id": 1}]),
                    json!("params"),
                ])
            } else {
                if i % 10 == 8 && required {
                    object.remove(&name);
                } else {
                    let mut bad = bad_json_values(&mut rng);
                    // A string where a string belongs is only malformed for a required
                    // secret; optional texts may well be empty.
                    let valid = |bad: &Value| {
                        (!required && bad.is_string() && bad.as_str() != Some("\u{0}\u{1b}"))
                            || route.valid_also.iter().any(|(n, v)| *n == name && v == bad)
                    };
                    while valid(&bad) {
                        bad = bad_json_values(&mut rng);
                    }
                    object.insert(name.clone(), bad);
                }
                json!({"jsonrpc": "2.0", "method": "call", "params": params, "id": i})
            };
            let text = envelope.to_string();
            let (status, reply) = post_raw(&app, route.path, text.clone()).await;
            let call = format!(
                "{} {} (seed {seed:#x})",
                route.path,
                &text[..text.len().min(200)]
            );
            let name = reply["error"]["data"]["name"].as_str().unwrap_or_default();
            if status != StatusCode::OK {
                failures.push(format!("{status} for {call}: {reply}"));
            } else if reply.get("error").is_none() {
                failures.push(format!("{call} was accepted: {reply}"));
            } else if !name.starts_with("odoo.") {
                failures.push(format!("{call}: not an Odoo error: {reply}"));
            }
        }
        assert_eq!(
            fingerprint(&app).await,
            before,
            "{} changed something (seed {seed:#x})",
            route.path
        );
    }
    assert_no_failures(&failures, seed);
    ledger_is_consistent(&app).await;
}

#[tokio::test]
async fn malformed_gateway_reports_get_a_4xx_and_change_nothing() {
    const SECRET: &str = "gateway-webhook-secret";
    let mut config = crate::helpers::test_config().await;
    config.sms_gateway_webhook_secret = Some(SECRET.parse().expect("secret"));
    let app = crate::helpers::spawn_app_from(config, app::clock::system_clock()).await;
    // A real message to aim at, sent through the SMS API.
    let account = token_of(&app, "sms").await;
    let send = json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "account_token": account, "dbuuid": "db",
        "webhook_url": "https://odoo.example/sms/status",
        "messages": [{"content": "Hi", "numbers": [
            {"uuid": "0123456789abcdef0123456789abcdef", "number": "+32470123456"}]}]}});
    let (status, reply) = post_raw(&app, "/api/sms/3/send", send.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply.get("result").is_some(), "{reply}");
    let id = scalar(&app, "SELECT id FROM sms_messages").await;
    ledger_is_consistent(&app).await;
    let before = fingerprint(&app).await;

    let seed = 0x0BAD_5EED_u64;
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    for i in 0..CALLS * 2 {
        let body: String = match i % 6 {
            // Not JSON, or not a report.
            0 => rng.pick(&[
                String::new(),
                "delivered".into(),
                "{".into(),
                "null".into(),
                "42".into(),
                "\"sent\"".into(),
                "x".repeat(300 * 1024),
            ]),
            // A report whose status is not one Odoo knows.
            1 => json!({"id": id, "status": bad_json_values(&mut rng)}).to_string(),
            // A report whose id cannot be a message id (a positive integer iapd does not
            // know is a report about another database's message: taken and ignored).
            2 => {
                let mut bad = bad_json_values(&mut rng);
                while bad.as_i64().is_some_and(|n| n > 0) {
                    bad = bad_json_values(&mut rng);
                }
                json!({"id": bad, "status": "delivered"}).to_string()
            }
            // A field missing.
            3 => rng
                .pick(&[json!({"id": id}), json!({"status": "delivered"}), json!({})])
                .to_string(),
            // One bad report spoils the list: nothing of it is stored.
            4 => json!([{"id": id, "status": "delivered"}, bad_json_values(&mut rng)]).to_string(),
            // A good report without the right secret.
            _ => json!({"id": id, "status": "delivered"}).to_string(),
        };
        let secret = if i % 6 == 5 {
            rng.pick(&["", "Bearer", "Bearer wrong", "gateway-webhook-secret"])
        } else {
            "Bearer gateway-webhook-secret"
        };
        let mut req =
            Request::post("/sms/gateway/status").header(header::CONTENT_TYPE, "application/json");
        if !secret.is_empty() {
            req = req.header(header::AUTHORIZATION, secret);
        }
        let reply = app
            .send(req.body(Body::from(body.clone())).expect("request"))
            .await;
        let call = format!(
            "/sms/gateway/status [{secret}] {} (seed {seed:#x})",
            &body[..body.len().min(200)]
        );
        if !reply.status.is_client_error() {
            failures.push(format!("{} for {call}: {}", reply.status, reply.body));
        }
    }
    assert_no_failures(&failures, seed);
    assert_eq!(
        fingerprint(&app).await,
        before,
        "a refused report changed something"
    );
    ledger_is_consistent(&app).await;
}
