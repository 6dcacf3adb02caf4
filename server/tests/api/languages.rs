//! Stored history in each reader's language: iapd's own ledger lines and chatter lines are
//! kept as messages and shown translated, while what people typed stays as typed.

use crate::helpers::{Reply, TestApp, spawn_app};
use axum::body::Body;
use http::{Request, StatusCode, header};

/// A signed-in page as a browser asking for `language` fetches it.
async fn page_in(app: &TestApp, path: &str, cookie: &str, language: &str) -> Reply {
    let req = Request::get(path)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_LANGUAGE, language)
        .body(Body::empty())
        .expect("request");
    let reply = app.send(req).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    reply
}

#[tokio::test]
async fn the_same_ledger_history_reads_in_each_viewers_language() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let account: i64 = sqlx::query_scalar(
        "SELECT a.id FROM iap_accounts a JOIN ledger_entries e ON e.account_id = a.id
         WHERE a.service = 'sms' AND e.kind = 'trial' LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("the demo SMS account and its trial credits");
    let adjusted = app
        .call(
            "iap/admin/adjust",
            &[
                ("id", &account.to_string()),
                ("amount", "1"),
                ("reason", "geste commercial"),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(adjusted.status, StatusCode::OK, "{}", adjusted.body);

    let path = format!("/iap-accounts/{account}");
    let english = page_in(&app, &path, &admin, "en").await;
    let french = page_in(&app, &path, &admin, "fr-FR,fr;q=0.9").await;
    let chinese = page_in(&app, &path, &admin, "zh-CN").await;
    assert!(english.body.contains("Free trial credits"));
    assert!(
        french.body.contains("Crédits d'essai gratuits"),
        "{}",
        french.body
    );
    assert!(chinese.body.contains("免费试用点数"));
    for page in [&english, &french, &chinese] {
        assert!(
            page.body.contains("geste commercial"),
            "typed text stays as typed"
        );
    }
    assert!(!french.body.contains("Free trial credits"));

    // The English text stays in the description column, for API callers, logs and the CLI.
    let stored: (String, Option<String>) = sqlx::query_as(
        "SELECT description, note FROM ledger_entries WHERE account_id = $1 AND kind = 'trial'",
    )
    .bind(account)
    .fetch_one(&app.pool)
    .await
    .expect("trial entry");
    assert_eq!(stored.0, "Free trial credits");
    assert!(stored.1.is_some_and(|note| note.contains("KindTrial")));
}

#[tokio::test]
async fn a_contacts_chatter_reads_in_each_viewers_language() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let form = |id: Option<&str>, name: &'static str| {
        let mut form = vec![
            ("input[name]", name.to_owned()),
            ("input[phone]", String::new()),
            ("input[country_code]", String::new()),
            ("input[company_name]", String::new()),
            ("input[email]", String::new()),
            ("input[mobile]", String::new()),
        ];
        if let Some(id) = id {
            form.push(("id", id.to_owned()));
        }
        form
    };
    let save = |form: Vec<(&'static str, String)>| {
        let app = &app;
        let admin = &admin;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = app.call("contacts/save", &form, Some(admin)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            reply.body
        }
    };
    let id = save(form(None, "Ada Lovelace")).await;
    save(form(Some(&id), "Ada King")).await;

    let path = format!("/contacts/{id}");
    let english = page_in(&app, &path, &admin, "en").await;
    let french = page_in(&app, &path, &admin, "fr").await;
    let chinese = page_in(&app, &path, &admin, "zh-CN").await;
    assert!(english.body.contains("Contact created"));
    assert!(
        english
            .body
            .contains("Name changed from “Ada Lovelace” to “Ada King”")
    );
    assert!(french.body.contains("Contact créé"));
    assert!(
        french
            .body
            .contains("Nom\u{a0}: «\u{a0}Ada Lovelace\u{a0}» devient «\u{a0}Ada King\u{a0}»")
    );
    assert!(chinese.body.contains("联系人已创建"));
    assert!(chinese.body.contains("已从“Ada Lovelace”更改为“Ada King”"));
}

/// An administrator gives a user a language in Settings → Users: their pages follow it
/// whatever their browser asks, and a warning mail to their login's address is written in
/// it. Addresses Odoo 18 sends with a `lang_code` read it in that language, and the others
/// in the account's.
#[tokio::test]
async fn each_warning_recipient_reads_the_mail_in_their_own_language() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let company: i64 = sqlx::query_scalar("SELECT id FROM companies ORDER BY id LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .expect("company");
    let password = "violet ferry 42 pebbles";
    let created = app
        .call(
            "users/create",
            &[
                ("login", "ops@example.com"),
                ("name", "Ops Desk"),
                ("role", "user"),
                ("password", password),
                ("companies[0]", &company.to_string()),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let ops: i64 = created.body.parse().expect("id");
    let edit = |locale: Option<&'static str>| {
        let (app, admin) = (&app, &admin);
        async move {
            let (id, company) = (ops.to_string(), company.to_string());
            let mut form = vec![
                ("id", id.as_str()),
                ("name", "Ops Desk"),
                ("role", "user"),
                ("active", "true"),
                ("companies[0]", company.as_str()),
            ];
            form.extend(locale.map(|code| ("locale", code)));
            let reply = app.call("users/update", &form, Some(admin)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        }
    };
    edit(Some("zh-CN")).await;
    let form = app
        .call("users/form", &[("id", &ops.to_string())], Some(&admin))
        .await;
    let form: app::models::UserForm = serde_json::from_str(&form.body).expect("form");
    assert_eq!(
        form.user.and_then(|u| u.locale),
        Some(app::i18n::Locale::ZhCn)
    );
    let cookie = app.login("ops@example.com", password).await;
    let page = page_in(&app, "/", &cookie, "en-US").await;
    assert!(
        page.body.contains(r#"<html lang="zh-CN""#),
        "the user's language wins"
    );

    // Odoo 18 turns the warning on above the balance, so it is sent at once.
    let token: String = sqlx::query_scalar("SELECT token FROM iap_accounts WHERE service = 'sms'")
        .fetch_one(&app.pool)
        .await
        .expect("token");
    let envelope = serde_json::json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
    "account_token": token, "warning_threshold": 1000,
    "warning_emails": [
        {"email": "Compta@example.fr", "lang_code": "fr_FR"},
        {"email": "ops@example.com"},
        {"email": "it@example.com", "lang_code": "tlh"},
    ]}});
    let (status, body) = crate::iap_api::post_raw(
        &app,
        "/iap/1/update-warning-email-alerts",
        envelope.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"], true, "{body}");
    let reply = app.call("admin/emails", &[], Some(&admin)).await;
    let mut mails: Vec<app::models::OutboxMail> =
        serde_json::from_str(&reply.body).expect("emails");
    mails.sort_by_key(|m| m.id);
    let sent: Vec<(&str, &str)> = mails
        .iter()
        .map(|m| (m.recipients.as_str(), m.subject.as_str()))
        .collect();
    assert_eq!(sent.len(), 2, "one mail per language: {sent:?}");
    assert_eq!(sent[0].0, "Compta@example.fr, it@example.com");
    assert!(sent[0].1.starts_with("Crédits bas"), "{}", sent[0].1);
    assert_eq!(sent[1].0, "ops@example.com");
    assert!(sent[1].1.starts_with("点数偏低"), "{}", sent[1].1);

    // Back to the browser's language: nothing is stored any more.
    edit(None).await;
    let stored: Option<String> = sqlx::query_scalar("SELECT locale FROM users WHERE id = $1")
        .bind(ops)
        .fetch_one(&app.pool)
        .await
        .expect("locale");
    assert_eq!(stored, None);
}
