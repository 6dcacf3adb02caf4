use crate::helpers::spawn_app;
use app::error::AppError;
use http::StatusCode;

#[tokio::test]
async fn the_server_refuses_settings_to_a_plain_user() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let page = app.get("/settings", Some(&demo)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Only administrators can open Settings."));
    assert_eq!(
        app.get("/settings/technical/database", Some(&demo))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let data = app.call("settings/overview", &[], Some(&demo)).await;
    assert_eq!(data.app_error(), AppError::Forbidden);
}

#[tokio::test]
async fn an_administrator_opens_settings() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let page = app.get("/settings", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    let data = app.call("settings/overview", &[], Some(&admin)).await;
    assert_eq!(data.body, r#"{"companies":2,"users":2}"#);
}

#[tokio::test]
async fn developer_mode_is_for_administrators_only() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    assert_eq!(
        app.call("settings/database", &[], Some(&admin))
            .await
            .app_error(),
        AppError::Forbidden
    );
    app.get("/?debug=1", Some(&admin)).await;
    let info = app.call("settings/database", &[], Some(&admin)).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    assert!(
        info.body.contains(r#""edition":"Enterprise""#),
        "{}",
        info.body
    );
    app.get("/?debug=0", Some(&admin)).await;
    assert_eq!(
        app.call("settings/database", &[], Some(&admin))
            .await
            .app_error(),
        AppError::Forbidden
    );

    let demo = app.login("demo", "demo").await;
    app.get("/?debug=1", Some(&demo)).await;
    let session = app.call("session", &[], Some(&demo)).await;
    assert!(
        session.body.contains(r#""debug":false"#),
        "{}",
        session.body
    );
}

/// Rendered on the server, a page's data comes from server functions running inside
/// Leptos's renderer; one that reads its context after yielding fails only there, when its
/// future resumes on another worker thread, as in production's multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_its_data_on_the_server_without_an_error() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    app.get("/?debug=1", Some(&admin)).await;
    let sms: i64 = sqlx::query_scalar("SELECT id FROM iap_accounts WHERE service = 'sms'")
        .fetch_one(&app.pool)
        .await
        .expect("account");
    let pages = [
        ("/", "In-App Purchases"),
        ("/contacts", "Azure Interior"),
        ("/contacts/1", "Azure Interior"),
        ("/iap-accounts", "Documents Digitization"),
        (
            &format!("/iap-accounts/{sms}") as &str,
            "Account Information",
        ),
        (&format!("/iap-accounts/{sms}/buy"), "Standard Pack"),
        ("/settings", "View My Services"),
        ("/settings/orders", "No orders yet."),
        ("/settings/technical/iap-accounts", "Partner Autocomplete"),
        ("/settings/technical/iap-services", "partner_autocomplete"),
        ("/settings/technical/database", "Enterprise"),
        ("/settings/technical/sms", "No SMS has been sent yet."),
        (
            "/settings/technical/emails",
            "No emails have been queued yet.",
        ),
    ];
    for (path, shows) in pages {
        let page = app.get(path, Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains(shows), "{path} does not show {shows:?}");
        assert!(
            !page.body.contains("Something went wrong on our side"),
            "{path} rendered an internal error"
        );
    }
}
