use crate::helpers::{TestApp, spawn_app};
use app::domain::credits::Credits;
use app::domain::ledger::EntryKind;
use app::error::AppError;
use app::i18n::{Msg, Note};
use app::models::{HistoryPage, IapAccount};
use http::StatusCode;

async fn accounts(app: &TestApp, cookie: &str) -> Vec<IapAccount> {
    let reply = app.call("iap/accounts", &[], Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).expect("accounts")
}

async fn sms(app: &TestApp, cookie: &str) -> Option<IapAccount> {
    accounts(app, cookie)
        .await
        .into_iter()
        .find(|a| a.service == "sms")
}

async fn company(app: &TestApp, like: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM companies WHERE name LIKE $1")
        .bind(format!("%{like}%"))
        .fetch_one(&app.pool)
        .await
        .expect("company")
}

async fn token_of(app: &TestApp, account: i64) -> String {
    sqlx::query_scalar("SELECT token FROM iap_accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&app.pool)
        .await
        .expect("token")
}

#[tokio::test]
async fn a_user_sees_the_services_with_their_trial_credits_but_never_a_token() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let reply = app.call("iap/accounts", &[], Some(&demo)).await;
    let list: Vec<IapAccount> = serde_json::from_str(&reply.body).expect("list");
    let services: Vec<&str> = list.iter().map(|a| a.service_label.as_str()).collect();
    assert_eq!(services.len(), 6, "{services:?}");
    let sms = list.iter().find(|a| a.service == "sms").expect("sms");
    assert_eq!((sms.balance.minor(), sms.held.minor()), (100_000, 0));
    assert_eq!(
        app::locale::amount(sms.balance, sms.whole_number, &sms.unit_name),
        "10 Credits"
    );
    let token = token_of(&app, sms.id).await;
    assert!(!reply.body.contains(&token));
    let info = app
        .call("iap/account", &[("id", &sms.id.to_string())], Some(&demo))
        .await;
    assert!(!info.body.contains(&token));
}

#[tokio::test]
async fn an_account_restricted_to_chicago_is_hidden_from_san_francisco_even_by_id() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = app.login("demo", "demo").await;
    let account = sms(&app, &demo).await.expect("visible at first");
    let chicago = company(&app, "Chicago").await;
    let saved = app
        .call(
            "iap/admin/save",
            &[
                ("id", &account.id.to_string()),
                ("name", "SMS Chicago"),
                ("token", &token_of(&app, account.id).await),
                ("companies[0]", &chicago.to_string()),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    assert!(sms(&app, &demo).await.is_none());
    let by_id = app
        .call(
            "iap/account",
            &[("id", &account.id.to_string())],
            Some(&demo),
        )
        .await;
    assert_eq!(by_id.app_error(), AppError::NotFound);
    // The administrator still sees it, now restricted.
    let seen: IapAccount = serde_json::from_str::<(IapAccount, HistoryPage)>(
        &app.call(
            "iap/account",
            &[("id", &account.id.to_string())],
            Some(&admin),
        )
        .await
        .body,
    )
    .expect("info")
    .0;
    assert_eq!(seen.company_names, "My Company (Chicago)");
}

#[tokio::test]
async fn plain_users_cannot_use_the_technical_views() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let id = sms(&app, &demo).await.expect("sms").id.to_string();
    assert_eq!(
        app.call("iap/admin/accounts", &[], Some(&demo))
            .await
            .app_error(),
        AppError::Forbidden
    );
    assert_eq!(
        app.call("iap/admin/account", &[("id", &id)], Some(&demo))
            .await
            .app_error(),
        AppError::Forbidden
    );
    let adjust = app
        .call(
            "iap/admin/adjust",
            &[("id", &id), ("amount", "1000"), ("reason", "free money")],
            Some(&demo),
        )
        .await;
    assert_eq!(adjust.app_error(), AppError::Forbidden);
    assert_eq!(
        app.get("/settings/technical/iap-accounts", Some(&demo))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sms(&app, &demo).await.expect("sms").balance.minor(),
        100_000
    );
}

#[tokio::test]
async fn adjustments_need_a_valid_amount_and_a_reason_and_are_recorded() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let id = sms(&app, &admin).await.expect("sms").id.to_string();
    let adjust = |amount: &'static str, reason: &'static str| {
        let (app, admin, id) = (&app, admin.clone(), id.clone());
        async move {
            app.call(
                "iap/admin/adjust",
                &[("id", &id), ("amount", amount), ("reason", reason)],
                Some(&admin),
            )
            .await
        }
    };
    for (amount, reason, field) in [
        ("abc", "typo", "amount"),
        ("0", "nothing", "amount"),
        ("1.00001", "too precise", "amount"),
        ("99999999999999999", "too much", "amount"),
        ("5", "", "reason"),
    ] {
        let error = adjust(amount, reason).await.app_error();
        assert!(
            matches!(&error, AppError::Validation(e) if e.field == field),
            "{amount} / {reason}: {error:?}"
        );
    }
    // Removing more than the 10 trial credits would overdraw the account.
    let overdraw = adjust("-11", "more than the balance").await.app_error();
    assert_eq!(
        overdraw,
        AppError::InsufficientCredits {
            available: Credits::from_minor(100_000),
            required: Credits::from_minor(110_000)
        }
    );
    assert_eq!(
        adjust("2.5", "goodwill gesture").await.status,
        StatusCode::OK
    );
    let account = sms(&app, &admin).await.expect("sms");
    assert_eq!(account.balance.minor(), 125_000);
    let info = app.call("iap/account", &[("id", &id)], Some(&admin)).await;
    let (_, history): (IapAccount, HistoryPage) = serde_json::from_str(&info.body).expect("info");
    assert_eq!(history.lines[0].kind, EntryKind::Adjustment);
    // Typed text stays as typed; iapd's own line is its message, for each reader's language.
    assert_eq!(
        history.lines[0].description,
        Note::Typed("goodwill gesture".into())
    );
    assert_eq!(history.lines[1].kind, EntryKind::Trial);
    assert_eq!(history.lines[1].description, Note::from(Msg::KindTrial));
}

#[tokio::test]
async fn account_edits_refuse_unknown_companies_and_malformed_tokens() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let account = sms(&app, &admin).await.expect("sms");
    let id = account.id.to_string();
    let token = token_of(&app, account.id).await;
    let save = |name: &str, token: &str, company: Option<&str>| {
        let mut form = vec![("id", id.as_str()), ("name", name), ("token", token)];
        if let Some(c) = company {
            form.push(("companies[0]", c));
        }
        let (app, admin) = (&app, admin.clone());
        let form: Vec<(String, String)> = form
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        async move {
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.call("iap/admin/save", &form, Some(&admin)).await
        }
    };
    let field = |e: AppError| match e {
        AppError::Validation(e) => e.field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(save("SMS", &token, Some("4242")).await.app_error()),
        "companies"
    );
    assert_eq!(field(save("SMS", "short", None).await.app_error()), "token");
    assert_eq!(field(save("", &token, None).await.app_error()), "name");
    assert_eq!(token_of(&app, account.id).await, token);

    let disabled = format!("{token}+disabled");
    assert_eq!(save("SMS", &disabled, None).await.status, StatusCode::OK);
    assert!(sms(&app, &admin).await.expect("sms").disabled);
    assert_eq!(save("SMS", &token, None).await.status, StatusCode::OK);
    let back = sms(&app, &admin).await.expect("sms");
    assert!(!back.disabled);
    assert_eq!(back.balance.minor(), 100_000);
}
