//! SMS from the Contacts app over HTTP: quoting, queueing, the worker sending and charging
//! each message, and what survives a client that hangs up or a server that crashes.

use crate::fake_sms_gateway::FakeGateway;
use crate::helpers::{TestApp, spawn_app, spawn_app_from, test_config};
use app::domain::credits::Credits;
use app::error::AppError;
use app::models::{
    ContactDetail, SmsBatchState, SmsBatchStatus, SmsOutboxLine, SmsQueued, SmsQuote, SmsState,
};
use http::StatusCode;
use std::time::Duration;

/// Long enough for any batch here; a test that waits longer has failed.
const PATIENCE: Duration = Duration::from_secs(30);

/// Checked every 20 ms while waiting for something to happen.
const POLL: Duration = Duration::from_millis(20);

/// The batch once every message went out or failed, as its sender sees it.
async fn done(app: &TestApp, cookie: &str, batch: i64) -> SmsBatchStatus {
    let batch = batch.to_string();
    tokio::time::timeout(PATIENCE, async {
        loop {
            let reply = app
                .call("sms/batch", &[("batch_id", &batch)], Some(cookie))
                .await;
            let status: SmsBatchStatus = serde_json::from_str(&reply.body).expect("status");
            if status.state == SmsBatchState::Done {
                return status;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the batch is done in time")
}

async fn check(app: &TestApp) {
    let mut conn = app.pool.acquire().await.expect("conn");
    assert_eq!(
        app::db::ledger::check(&mut conn).await.expect("check"),
        vec![]
    );
}

async fn contact_id(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM contacts WHERE name = $1")
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .expect("contact")
}

async fn sms_balance(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT balance - held FROM iap_accounts WHERE service = 'sms'")
        .fetch_one(&app.pool)
        .await
        .expect("sms account")
}

async fn quote(app: &TestApp, cookie: &str, contact: i64) -> crate::helpers::Reply {
    app.call(
        "sms/quote",
        &[
            ("contact_ids[0]", &contact.to_string()),
            ("field", "Mobile"),
        ],
        Some(cookie),
    )
    .await
}

async fn send(
    app: &TestApp,
    cookie: &str,
    contact: i64,
    body: &str,
    key: &str,
) -> crate::helpers::Reply {
    app.call(
        "sms/send",
        &[
            ("input[contact_ids][0]", &contact.to_string()),
            ("input[field]", "Mobile"),
            ("input[body]", body),
            ("input[request_key]", key),
        ],
        Some(cookie),
    )
    .await
}

#[tokio::test]
async fn texting_a_belgian_contact_charges_the_quoted_price_and_logs_it_in_the_chatter() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let marc = contact_id(&app, "Marc Demo").await;
    let reply = quote(&app, &demo, marc).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let quoted: SmsQuote = serde_json::from_str(&reply.body).expect("quote");
    assert_eq!(quoted.recipients.len(), 1);
    assert_eq!(quoted.recipients[0].number, "+32 470 12 34 56");
    assert_eq!(
        quoted.recipients[0].price_per_part,
        Some(Credits::from_minor(1_200))
    );
    assert_eq!(quoted.recipients[0].problem, None);
    let before = sms_balance(&app).await;

    let reply = send(
        &app,
        &demo,
        marc,
        "Your order has shipped.",
        "first-attempt",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let queued: SmsQueued = serde_json::from_str(&reply.body).expect("queued");
    assert_eq!((queued.queued, queued.credits.minor()), (1, 1_200));
    let sent = done(&app, &demo, queued.batch_id).await;
    assert_eq!(
        (sent.sent, sent.failed, sent.credits.minor()),
        (1, 0, 1_200)
    );
    assert_eq!(sms_balance(&app).await, before - 1_200);

    let detail = app
        .call("contacts/get", &[("id", &marc.to_string())], Some(&demo))
        .await;
    let detail: ContactDetail = serde_json::from_str(&detail.body).expect("detail");
    assert_eq!(
        detail.messages[0].body.plain(),
        "SMS to +32470123456 (1 SMS, 0.12 credits): Your order has shipped."
    );
    assert_eq!(detail.messages[0].author_name, "Marc Demo");
    let sms = detail.messages[0]
        .sms
        .clone()
        .expect("the line follows its SMS");
    assert_eq!((sms.state, sms.batch.sent), (SmsState::Sent, 1));

    // The same attempt again is answered from the outbox, not sent twice.
    let again = send(
        &app,
        &demo,
        marc,
        "Your order has shipped.",
        "first-attempt",
    )
    .await;
    assert_eq!(again.body, reply.body);
    assert_eq!(sms_balance(&app).await, before - 1_200);
    check(&app).await;
}

#[tokio::test]
async fn the_outbox_lists_every_message_for_administrators_only() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let admin = app.login("admin", "admin").await;
    let marc = contact_id(&app, "Marc Demo").await;
    let reply = send(&app, &demo, marc, "Hello 👋", "outbox-attempt").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let queued: SmsQueued = serde_json::from_str(&reply.body).expect("queued");
    done(&app, &demo, queued.batch_id).await;
    assert_eq!(
        app.call(
            "sms/batch",
            &[("batch_id", &queued.batch_id.to_string())],
            Some(&admin)
        )
        .await
        .status,
        StatusCode::OK,
        "administrators may follow any batch"
    );

    assert_eq!(
        app.call("sms/outbox", &[], Some(&demo)).await.app_error(),
        AppError::Forbidden
    );
    let reply = app.call("sms/outbox", &[], Some(&admin)).await;
    let lines: Vec<SmsOutboxLine> = serde_json::from_str(&reply.body).expect("outbox");
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(
        (
            line.number.as_str(),
            line.body.as_str(),
            line.encoding.as_str(),
            line.state
        ),
        ("+32470123456", "Hello 👋", "UNICODE", SmsState::Sent)
    );
    assert_eq!(
        (line.credits.minor(), line.provider.as_deref()),
        (1_200, Some("outbox"))
    );
    assert_eq!(line.contact_name.as_deref(), Some("Marc Demo"));
    assert_eq!(
        (
            line.batch_id,
            line.batch_sent,
            line.batch_queued,
            line.batch_failed
        ),
        (queued.batch_id, 1, 0, 0)
    );
}

#[tokio::test]
async fn a_contact_the_user_cannot_see_cannot_be_texted() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = app.login("demo", "demo").await;
    let chicago: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE name LIKE '%Chicago%'")
        .fetch_one(&app.pool)
        .await
        .expect("company");
    let demo_companies: Vec<i64> = sqlx::query_scalar(
        "SELECT company_id FROM user_companies uc JOIN users u ON u.id = uc.user_id WHERE u.login = 'demo'",
    )
    .fetch_all(&app.pool)
    .await
    .expect("companies");
    assert!(
        !demo_companies.contains(&chicago),
        "demo must not work in Chicago"
    );
    let hidden = app
        .call(
            "contacts/save",
            &[
                ("input[name]", "Chicago Only"),
                ("input[mobile]", "+32 470 11 22 33"),
                ("input[country_code]", "BE"),
                ("input[company_name]", ""),
                ("input[email]", ""),
                ("input[phone]", ""),
                ("input[owner_company_id]", &chicago.to_string()),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(hidden.status, StatusCode::OK, "{}", hidden.body);
    let hidden: i64 = hidden.body.parse().expect("id");
    let before = sms_balance(&app).await;
    assert_eq!(
        quote(&app, &demo, hidden).await.app_error(),
        AppError::NotFound
    );
    assert_eq!(
        send(&app, &demo, hidden, "Hi", "hidden-attempt")
            .await
            .app_error(),
        AppError::NotFound
    );
    assert_eq!(sms_balance(&app).await, before);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_costs_nothing() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let marc = contact_id(&app, "Marc Demo").await;
    let before = sms_balance(&app).await;

    let empty = send(&app, &demo, marc, "", "empty-attempt")
        .await
        .app_error();
    assert_eq!(
        empty.for_field("body").as_deref(),
        Some("Type a message to send.")
    );

    let created = app
        .call(
            "contacts/save",
            &[
                ("input[name]", "No Number"),
                ("input[company_name]", ""),
                ("input[email]", ""),
                ("input[phone]", ""),
                ("input[mobile]", ""),
                ("input[country_code]", "BE"),
            ],
            Some(&demo),
        )
        .await;
    let nobody: i64 = created.body.parse().expect("id");
    let none = send(&app, &demo, nobody, "Hi", "nobody-attempt")
        .await
        .app_error();
    assert_eq!(
        none.for_field("number").as_deref(),
        Some("No Number has no phone or mobile number.")
    );

    // Brandon's mobile has an area code no US number uses: malformed, and said so.
    let brandon = contact_id(&app, "Brandon Freeman").await;
    let quoted: SmsQuote =
        serde_json::from_str(&quote(&app, &demo, brandon).await.body).expect("quote");
    let problem = quoted.recipients[0]
        .problem
        .clone()
        .expect("a problem")
        .to_string();
    assert!(problem.contains("+1 (355)-687-3262"), "{problem}");
    let malformed = send(&app, &demo, brandon, "Hi", "brandon-attempt")
        .await
        .app_error();
    assert_eq!(malformed.for_field("number"), Some(problem));

    let short_key = send(&app, &demo, marc, "Hi", "k").await.app_error();
    assert!(short_key.for_field("request_key").is_some());
    assert_eq!(sms_balance(&app).await, before);
}

#[tokio::test]
async fn too_few_credits_answer_with_the_amounts_the_dialog_needs() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let marc = contact_id(&app, "Marc Demo").await;
    let available = sms_balance(&app).await;
    // 1,530 UNICODE characters are 23 parts, 2.76 credits to Belgium: the 10 trial
    // credits pay for three such messages, not four.
    let long = "ж".repeat(1_530);
    for i in 0..3 {
        let reply = send(&app, &demo, marc, &long, &format!("long-attempt-{i}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let left = sms_balance(&app).await;
    assert_eq!(left, available - 3 * 23 * 1_200);
    let refused = send(&app, &demo, marc, &long, "long-attempt-3")
        .await
        .app_error();
    assert_eq!(
        refused,
        AppError::InsufficientCredits {
            available: Credits::from_minor(left),
            required: Credits::from_minor(23 * 1_200)
        }
    );
    assert_eq!(sms_balance(&app).await, left);
}

/// `(contact id, E.164 number, price per part)` of the demo contacts a batch goes to.
const BATCH: [(&str, &str, i64); 4] = [
    ("Marc Demo", "+32470123456", 1_200),
    ("Deco Addict", "+3222903490", 1_200),
    ("Gemini Furniture", "+33184884100", 900),
    ("Lumber Inc", "+919876543210", 300),
];

fn batch_form(ids: &[i64], body: &str, key: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("input[contact_ids][{i}]"), id.to_string()))
        .collect();
    form.push(("input[field]".into(), "Mobile".into()));
    form.push(("input[body]".into(), body.into()));
    form.push(("input[request_key]".into(), key.into()));
    form
}

fn as_refs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The batch the request with `key` queued, once it exists.
async fn batch_with_key(app: &TestApp, key: &str) -> i64 {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM sms_batches WHERE request_key LIKE $1")
                    .bind(format!("%:{key}"))
                    .fetch_optional(&app.pool)
                    .await
                    .expect("query");
            if let Some(batch) = found {
                return batch;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("the batch is committed in time")
}

#[tokio::test]
async fn a_client_that_hangs_up_right_after_send_is_charged_for_every_delivered_message_and_nothing_else()
 {
    let gateway = FakeGateway::start().await;
    gateway.answer_in(Duration::from_millis(1_500));
    gateway.refuse("+919876543210");
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    config.sms_gateway_attempts = 1;
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let demo = app.login("demo", "demo").await;
    let mut ids = Vec::new();
    for (name, _, _) in BATCH {
        ids.push(contact_id(&app, name).await);
    }
    let before = sms_balance(&app).await;

    // Gives up a second after Send: the gateway has not answered the first message yet.
    let form = batch_form(&ids, "Your order has shipped.", "hang-up-attempt");
    let body = serde_urlencoded::to_string(as_refs(&form)).expect("form");
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let _ = impatient
        .post(format!("{}/api/sms/send", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", app.address.as_str())
        .header("sec-fetch-site", "same-origin")
        .header("cookie", demo.as_str())
        .body(body)
        .send()
        .await;
    drop(impatient);

    let batch = batch_with_key(&app, "hang-up-attempt").await;
    let status = done(&app, &demo, batch).await;
    let delivered: i64 = BATCH[..3].iter().map(|(_, _, price)| price).sum();
    assert_eq!(
        (status.sent, status.failed, status.credits.minor()),
        (3, 1, delivered)
    );
    assert_eq!(
        sms_balance(&app).await,
        before - delivered,
        "the rest is released"
    );
    let (hold, captured): (String, Option<i64>) = sqlx::query_as(
        "SELECT h.state, h.captured FROM holds h JOIN sms_batches b ON b.hold_token = h.token
         WHERE b.id = $1",
    )
    .bind(batch)
    .fetch_one(&app.pool)
    .await
    .expect("hold");
    assert_eq!((hold.as_str(), captured), ("captured", Some(delivered)));
    assert_eq!(gateway.delivered().len(), 3);
    let received = gateway.received();
    assert_eq!(received.len(), 4, "each message handed over once");
    assert!(
        received
            .iter()
            .all(|r| r.body["body"] == "Your order has shipped.")
    );
    check(&app).await;
}

#[tokio::test]
async fn a_server_killed_mid_batch_resumes_it_without_sending_a_recorded_message_again() {
    let gateway = FakeGateway::start().await;
    // Two answers, then the gateway takes messages but the server dies before hearing back.
    gateway.answer_only_first(2);
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    config.sms_gateway_attempts = 1;
    config.sms_gateway_timeout = 30;
    config.sms_concurrency = 2;
    let app = spawn_app_from(config.clone(), app::clock::system_clock()).await;
    let demo = app.login("demo", "demo").await;
    let mut ids = Vec::new();
    for (name, _, _) in BATCH {
        ids.push(contact_id(&app, name).await);
    }
    ids.push(contact_id(&app, "Ready Mat").await);
    let before = sms_balance(&app).await;
    let form = batch_form(&ids, "Restocked!", "crash-attempt");
    let reply = app.call("sms/send", &as_refs(&form), Some(&demo)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let queued: SmsQueued = serde_json::from_str(&reply.body).expect("queued");

    let recorded_before = tokio::time::timeout(PATIENCE, async {
        loop {
            let sent: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM sms_messages WHERE batch_id = $1 AND state = 'sent' ORDER BY id",
            )
            .bind(queued.batch_id)
            .fetch_all(&app.pool)
            .await
            .expect("query");
            if sent.len() == 2 && gateway.held() == 2 {
                return sent;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("two recorded and two with the gateway in time");
    app.crash().await;

    gateway.go_on();
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let demo = app.login("demo", "demo").await;
    let status = done(&app, &demo, queued.batch_id).await;
    let all: i64 = BATCH.iter().map(|(_, _, price)| price).sum::<i64>() + 600;
    assert_eq!(
        (status.sent, status.failed, status.credits.minor()),
        (5, 0, all)
    );
    assert_eq!(sms_balance(&app).await, before - all);
    let delivered = gateway.delivered();
    assert_eq!(delivered.len(), 5, "each number got its message once");
    for id in &recorded_before {
        assert_eq!(
            gateway.times_asked(&format!("iapd-sms-{id}")),
            1,
            "a message recorded before the crash is never handed over again"
        );
    }
    let repeats: usize = delivered.keys().map(|k| gateway.times_asked(k) - 1).sum();
    assert_eq!(
        repeats, 2,
        "the two unanswered ones were asked again, by the same key"
    );
    check(&app).await;
}

#[tokio::test]
async fn a_server_stopped_mid_batch_records_what_the_gateway_took_and_the_next_one_sends_the_rest()
{
    let gateway = FakeGateway::start().await;
    gateway.answer_in(Duration::from_millis(1_000));
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    config.sms_concurrency = 2;
    let app = spawn_app_from(config.clone(), app::clock::system_clock()).await;
    let demo = app.login("demo", "demo").await;
    let mut ids = Vec::new();
    for (name, _, _) in BATCH {
        ids.push(contact_id(&app, name).await);
    }
    let form = batch_form(&ids, "Closing early today", "stop-attempt");
    let reply = app.call("sms/send", &as_refs(&form), Some(&demo)).await;
    let queued: SmsQueued = serde_json::from_str(&reply.body).expect("queued");
    tokio::time::timeout(PATIENCE, async {
        while gateway.received().len() < 2 {
            tokio::time::sleep(POLL).await;
        }
    })
    .await
    .expect("two messages with the gateway in time");
    app.stop().await;

    // The two with the gateway were answered and recorded before the writer stopped; the
    // other two were never handed over.
    let pool = app::db::connect(&config.database_url).await.expect("db");
    let states: Vec<String> =
        sqlx::query_scalar("SELECT state FROM sms_messages WHERE batch_id = $1 ORDER BY id")
            .bind(queued.batch_id)
            .fetch_all(&pool)
            .await
            .expect("states");
    assert_eq!(states, ["sent", "sent", "outgoing", "outgoing"]);
    let mut conn = pool.acquire().await.expect("conn");
    assert_eq!(
        app::db::ledger::check(&mut conn).await.expect("check"),
        vec![]
    );
    drop(conn);
    pool.close().await;

    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let demo = app.login("demo", "demo").await;
    let status = done(&app, &demo, queued.batch_id).await;
    assert_eq!((status.sent, status.failed), (4, 0));
    assert!(
        gateway
            .delivered()
            .keys()
            .all(|key| gateway.times_asked(key) == 1),
        "nothing was handed over twice"
    );
    check(&app).await;
}

#[tokio::test]
async fn a_selection_with_an_invalid_number_sends_the_others_and_names_who_was_left_out() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let admin = app.login("admin", "admin").await;
    let ids = [
        contact_id(&app, "Marc Demo").await,
        contact_id(&app, "Brandon Freeman").await,
        contact_id(&app, "The Jackson Group").await,
        contact_id(&app, "Joel Willis").await,
    ];
    let before = sms_balance(&app).await;
    let form = batch_form(&ids, "Spring sale", "mixed-attempt");
    let reply = app.call("sms/send", &as_refs(&form), Some(&demo)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let queued: SmsQueued = serde_json::from_str(&reply.body).expect("queued");
    assert_eq!((queued.queued, queued.credits.minor()), (2, 1_200 + 900));
    let left_out: Vec<(String, String)> = queued
        .refused
        .iter()
        .map(|r| (r.name.clone(), r.reason.to_string()))
        .collect();
    assert_eq!(
        left_out,
        [
            (
                "Brandon Freeman".into(),
                "The number +1 (355)-687-3262 of Brandon Freeman is not in a valid format.".into()
            ),
            (
                "The Jackson Group".into(),
                "The Jackson Group has no phone or mobile number.".into()
            ),
        ]
    );
    let status = done(&app, &demo, queued.batch_id).await;
    assert_eq!(
        (status.sent, status.failed, status.credits.minor()),
        (2, 2, 2_100)
    );
    assert_eq!(sms_balance(&app).await, before - 2_100);
    let outbox: Vec<SmsOutboxLine> =
        serde_json::from_str(&app.call("sms/outbox", &[], Some(&admin)).await.body)
            .expect("outbox");
    let brandon = outbox
        .iter()
        .find(|l| l.contact_name.as_deref() == Some("Brandon Freeman"))
        .expect("Brandon's message is in the outbox");
    assert_eq!(
        (brandon.state, brandon.number.as_str(), brandon.credits),
        (SmsState::Error, "+1 (355)-687-3262", Credits::ZERO)
    );
    assert_eq!(
        brandon.error.as_deref(),
        Some("The number +1 (355)-687-3262 of Brandon Freeman is not in a valid format.")
    );
    check(&app).await;
}

#[tokio::test]
async fn only_its_sender_and_administrators_can_follow_a_batch() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let admin = app.login("admin", "admin").await;
    let marc = contact_id(&app, "Marc Demo").await;
    let reply = send(&app, &admin, marc, "From the admin", "admin-attempt").await;
    let queued: SmsQueued = serde_json::from_str(&reply.body).expect("queued");
    let batch = queued.batch_id.to_string();
    assert_eq!(
        app.call("sms/batch", &[("batch_id", &batch)], Some(&demo))
            .await
            .app_error(),
        AppError::NotFound
    );
    assert_eq!(
        app.call("sms/batch", &[("batch_id", "999999")], Some(&admin))
            .await
            .app_error(),
        AppError::NotFound
    );
}

/// Two nodes may both run a batch for a moment: a leader whose lock connection was cut keeps
/// its round going while the next leader takes the batch up. Each message then goes to the
/// gateway under the same `Idempotency-Key` from both, so the gateway sends it once, and the
/// ledger records and charges it once, whichever answer reaches it first.
#[tokio::test]
async fn two_workers_running_one_batch_at_once_send_and_charge_each_message_once() {
    let gateway = FakeGateway::start().await;
    gateway.answer_in(Duration::from_millis(600));
    gateway.refuse("+919876543210");
    let mut config = test_config().await;
    config.sms_gateway_url = Some(gateway.url.clone());
    config.sms_gateway_attempts = 1;
    // The app's worker hands messages over one by one, the other all at once: both record
    // answers while the batch's hold is still open.
    config.sms_concurrency = 1;
    let app = spawn_app_from(config.clone(), app::clock::system_clock()).await;
    // A second worker with a writer of its own, over the same database, as another node
    // would run it; it looks for batches every 20 ms, so it takes this one up while the
    // app's worker still waits for the gateway.
    let mut tasks = app::tasks::Tasks::new();
    let ledger = app::ledger::Ledger::start(
        &app.pool,
        app::clock::system_clock(),
        &app.address,
        &mut tasks,
    )
    .await
    .expect("second writer");
    let provider = config.sms_provider().expect("gateway");
    let settings = app::sms::WorkerSettings {
        poll: POLL,
        concurrency: BATCH.len(),
        ..config.sms_worker()
    };
    let _queue = app::sms::worker::start(&mut tasks, app.pool.clone(), ledger, provider, settings);

    let demo = app.login("demo", "demo").await;
    let mut ids = Vec::new();
    for (name, _, _) in BATCH {
        ids.push(contact_id(&app, name).await);
    }
    let before = sms_balance(&app).await;
    let form = batch_form(&ids, "Two nodes, one batch", "two-workers");
    let reply = app.call("sms/send", &as_refs(&form), Some(&demo)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let queued: SmsQueued = serde_json::from_str(&reply.body).expect("queued");
    let status = done(&app, &demo, queued.batch_id).await;

    let delivered: i64 = BATCH[..3].iter().map(|(_, _, price)| price).sum();
    assert_eq!(
        (status.sent, status.failed, status.credits.minor()),
        (3, 1, delivered)
    );
    assert!(
        gateway.received().len() > BATCH.len(),
        "both workers handed the batch over: {} calls",
        gateway.received().len()
    );
    assert_eq!(gateway.delivered().len(), 3, "each message sent once");
    // Let the slower worker's answers and its end of round reach the ledger too.
    tasks.shutdown(Duration::from_secs(10)).await;
    // One capture per message that went out, from the hold of the batch.
    let captures: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT e.amount, h.state, h.captured FROM ledger_entries e
         JOIN holds h ON h.id = e.hold_id JOIN sms_batches b ON b.hold_token = h.token
         WHERE b.id = $1 AND e.kind = 'capture' ORDER BY e.amount",
    )
    .bind(queued.batch_id)
    .fetch_all(&app.pool)
    .await
    .expect("captures");
    let captured = |amount: i64| (-amount, "captured".to_owned(), Some(delivered));
    assert_eq!(captures, [captured(1_200), captured(1_200), captured(900)]);
    assert_eq!(sms_balance(&app).await, before - delivered);
    check(&app).await;
}
