use crate::helpers::{TestApp, spawn_app};
use app::domain::credits::Credits;
use app::error::AppError;
use app::models::SmsState;
use app::models::{ContactDetail, SmsOutboxLine, SmsQuote, SmsSent};
use http::StatusCode;

async fn contact_id(app: &TestApp, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM contacts WHERE name = ?")
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
    let sent: SmsSent = serde_json::from_str(&reply.body).expect("sent");
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
        detail.messages[0].body,
        "SMS to +32470123456 (1 SMS, 0.12 credits): Your order has shipped."
    );
    assert_eq!(detail.messages[0].author_name, "Marc Demo");

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
}

#[tokio::test]
async fn the_outbox_lists_every_message_for_administrators_only() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let admin = app.login("admin", "admin").await;
    let marc = contact_id(&app, "Marc Demo").await;
    let reply = send(&app, &demo, marc, "Hello 👋", "outbox-attempt").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

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
