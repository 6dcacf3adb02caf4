//! The low-credit warning's server functions: administrators save Warn Me / Threshold /
//! Warning Email, everyone who sees the account reads them, bad fields come back named, and
//! the outbox shows in Technical → Emails for administrators only.

use crate::helpers::{TestApp, spawn_app};
use app::domain::credits::Credits;
use app::error::AppError;
use app::models::MailState;
use app::models::{IapAccount, IapAccountWarning, OutboxMail};
use http::StatusCode;

pub(crate) async fn sms(app: &TestApp, cookie: &str) -> i64 {
    let reply = app.call("iap/accounts", &[], Some(cookie)).await;
    let list: Vec<IapAccount> = serde_json::from_str(&reply.body).expect("accounts");
    list.into_iter()
        .find(|a| a.service == "sms")
        .map(|a| a.id)
        .expect("sms")
}

pub(crate) async fn save(
    app: &TestApp,
    cookie: &str,
    id: i64,
    enabled: bool,
    threshold: &str,
    emails: &str,
) -> crate::helpers::Reply {
    let id = id.to_string();
    let enabled = enabled.to_string();
    app.call(
        "iap/warning/save",
        &[
            ("id", &id),
            ("enabled", &enabled),
            ("threshold", threshold),
            ("emails", emails),
        ],
        Some(cookie),
    )
    .await
}

async fn warning(app: &TestApp, cookie: &str, id: i64) -> IapAccountWarning {
    let reply = app
        .call("iap/warning", &[("id", &id.to_string())], Some(cookie))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("settings")
}

async fn emails(app: &TestApp, cookie: &str) -> Vec<OutboxMail> {
    let reply = app.call("admin/emails", &[], Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("emails")
}

#[tokio::test]
async fn an_administrator_sets_a_threshold_above_the_balance_and_the_warning_is_queued() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let id = sms(&app, &admin).await;
    let reply = save(
        &app,
        &admin,
        id,
        true,
        "20",
        "ops@example.com, cfo@example.com",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let demo = app.login("demo", "demo").await;
    assert_eq!(
        warning(&app, &demo, id).await,
        IapAccountWarning {
            warn_enabled: true,
            threshold: Credits::from_minor(200_000),
            emails: vec!["ops@example.com".into(), "cfo@example.com".into()],
            editable: false,
        }
    );
    assert!(warning(&app, &admin, id).await.editable);
    let outbox = emails(&app, &admin).await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].recipients, "ops@example.com, cfo@example.com");
    assert_eq!(outbox[0].subject, "Low credits: SMS has 10 credits left");
    assert_eq!(outbox[0].state, MailState::Queued);
    assert!(
        outbox[0]
            .text_body
            .contains(&format!("/iap-accounts/{id}/buy"))
    );
}

#[tokio::test]
async fn only_administrators_change_the_warning_or_read_the_outbox() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let id = sms(&app, &demo).await;
    let reply = save(&app, &demo, id, true, "20", "ops@example.com").await;
    assert_eq!(reply.app_error(), AppError::Forbidden);
    assert_eq!(warning(&app, &demo, id).await, IapAccountWarning::default());
    let reply = app.call("admin/emails", &[], Some(&demo)).await;
    assert_eq!(reply.app_error(), AppError::Forbidden);
    let reply = app.get("/settings/technical/emails", Some(&demo)).await;
    assert_ne!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_fields_are_refused_next_to_the_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let id = sms(&app, &admin).await;
    for (threshold, emails, field, says) in [
        ("0", "ops@example.com", "threshold", "positive"),
        ("-3", "ops@example.com", "threshold", "positive"),
        ("lots", "ops@example.com", "threshold", "number"),
        (
            "5",
            "ops@example.com, not-an-address",
            "emails",
            "not-an-address",
        ),
        ("5", "", "emails", "address"),
    ] {
        let reply = save(&app, &admin, id, true, threshold, emails).await;
        match reply.app_error() {
            AppError::Validation(e) => {
                let message = e.text().to_string();
                assert_eq!(e.field, field, "{threshold} / {emails}");
                assert!(message.contains(says), "{message}");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
    assert_eq!(
        warning(&app, &admin, id).await,
        IapAccountWarning {
            editable: true,
            ..IapAccountWarning::default()
        }
    );
    assert!(emails(&app, &admin).await.is_empty());
}

#[tokio::test]
async fn the_warning_of_another_companys_account_is_not_found() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = app.login("demo", "demo").await;
    let id = sms(&app, &demo).await;
    let chicago: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE name LIKE '%Chicago%'")
        .fetch_one(&app.pool)
        .await
        .expect("company");
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("token");
    let reply = app
        .call(
            "iap/admin/save",
            &[
                ("id", &id.to_string()),
                ("name", "SMS"),
                ("token", &token),
                ("companies[0]", &chicago.to_string()),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = app
        .call("iap/warning", &[("id", &id.to_string())], Some(&demo))
        .await;
    assert_eq!(reply.app_error(), AppError::NotFound);
}

#[tokio::test]
async fn the_warning_mail_speaks_the_language_of_whoever_set_it() {
    use axum::body::Body;
    use http::{Request, header};
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let id = sms(&app, &admin).await;

    // From the page, in Chinese: the administrator's language.
    let form = format!("id={id}&enabled=true&threshold=20&emails=ops%40example.com");
    let req = Request::post("/api/iap/warning/save")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, &admin)
        .body(Body::from(form))
        .expect("request");
    let reply = app.send(req).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outbox = emails(&app, &admin).await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].subject, "点数偏低：短信 仅剩 10 点数");

    // From Odoo 18, whose addresses carry their users' language. (The hourly cap keeps this
    // one from mailing again, so the language is read from what is stored.)
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("token");
    let envelope = serde_json::json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "account_token": token, "warning_threshold": 30,
        "warning_emails": [{"email": "compta@example.fr", "lang_code": "fr_FR"}]}});
    let (status, body) = crate::iap_api::post_raw(
        &app,
        "/iap/1/update-warning-email-alerts",
        envelope.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"], true, "{body}");
    let stored: Option<String> =
        sqlx::query_scalar("SELECT locale FROM iap_account_warnings WHERE account_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("locale");
    assert_eq!(stored.as_deref(), Some("fr"));

    // A refused call changes nothing, the language included.
    let bad = serde_json::json!({"jsonrpc": "2.0", "method": "call", "id": 2, "params": {
        "account_token": token, "warning_threshold": 30,
        "warning_emails": [{"email": "not an address", "lang_code": "zh_CN"}]}});
    let (_, body) =
        crate::iap_api::post_raw(&app, "/iap/1/update-warning-email-alerts", bad.to_string()).await;
    assert!(body.get("error").is_some(), "{body}");
    let stored: Option<String> =
        sqlx::query_scalar("SELECT locale FROM iap_account_warnings WHERE account_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("locale");
    assert_eq!(stored.as_deref(), Some("fr"));
}
