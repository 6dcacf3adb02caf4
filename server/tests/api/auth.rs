use crate::helpers::spawn_app;
use app::error::AppError;
use http::StatusCode;

#[tokio::test]
async fn logging_in_with_the_right_password_sets_an_http_only_session_cookie() {
    let app = spawn_app().await;
    let reply = app
        .call("login", &[("login", "admin"), ("password", "admin")], None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let set_cookie = reply
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("cookie");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = reply.session_cookie().expect("session");
    assert_eq!(
        app.get("/contacts", Some(&cookie)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_login_get_the_same_message() {
    let app = spawn_app().await;
    let wrong = app
        .call("login", &[("login", "admin"), ("password", "nope")], None)
        .await;
    let unknown = app
        .call("login", &[("login", "nobody"), ("password", "nope")], None)
        .await;
    assert_eq!(wrong.app_error(), AppError::BadCredentials);
    assert_eq!(unknown.app_error(), AppError::BadCredentials);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.session_cookie().is_none());
}

#[tokio::test]
async fn repeated_failures_block_even_the_right_password_for_a_while() {
    let app = spawn_app().await;
    for _ in 0..app::domain::throttle::MAX_FAILURES {
        let reply = app
            .call("login", &[("login", "demo"), ("password", "wrong")], None)
            .await;
        assert_eq!(reply.app_error(), AppError::BadCredentials);
    }
    let reply = app
        .call("login", &[("login", "demo"), ("password", "demo")], None)
        .await;
    assert_eq!(reply.app_error(), AppError::TooManyAttempts);
    // Another login is not affected.
    app.login("admin", "admin").await;
}

#[tokio::test]
async fn every_page_but_login_requires_a_session() {
    let app = spawn_app().await;
    for path in ["/", "/contacts", "/contacts/1", "/settings"] {
        let reply = app.get(path, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            reply.location(),
            Some(format!("/login?next={path}").as_str())
        );
    }
    assert_eq!(app.get("/login", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn server_functions_refuse_callers_without_a_session() {
    let app = spawn_app().await;
    let reply = app.call("contacts/list", &[("search", "")], None).await;
    assert_eq!(reply.app_error(), AppError::Unauthenticated);
}

#[tokio::test]
async fn logout_invalidates_the_session_on_the_server() {
    let app = spawn_app().await;
    let cookie = app.login("admin", "admin").await;
    assert_eq!(
        app.call("logout", &[], Some(&cookie)).await.status,
        StatusCode::OK
    );
    // The old cookie, replayed, no longer works.
    assert_eq!(
        app.get("/contacts", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn logging_in_again_rotates_the_session_id() {
    let app = spawn_app().await;
    let first = app.login("admin", "admin").await;
    let reply = app
        .call(
            "login",
            &[("login", "demo"), ("password", "demo")],
            Some(&first),
        )
        .await;
    let second = reply.session_cookie().expect("new session");
    assert_ne!(first, second);
    assert_eq!(
        app.get("/contacts", Some(&first)).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/contacts", Some(&second)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_signed_in_user_is_sent_from_the_login_page_home() {
    let app = spawn_app().await;
    let cookie = app.login("demo", "demo").await;
    let reply = app.get("/login", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/"));
}

#[tokio::test]
async fn the_company_switcher_only_accepts_the_users_companies() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let chicago: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE name LIKE '%Chicago%'")
        .fetch_one(&app.pool)
        .await
        .expect("chicago");
    let reply = app
        .call(
            "switch_company",
            &[("company_id", &chicago.to_string()), ("toggle", "false")],
            Some(&demo),
        )
        .await;
    assert!(matches!(reply.app_error(), AppError::Validation(e) if e.field == "company_id"));

    let admin = app.login("admin", "admin").await;
    let reply = app
        .call(
            "switch_company",
            &[("company_id", &chicago.to_string()), ("toggle", "false")],
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let session = app.call("session", &[], Some(&admin)).await;
    let info: Option<app::models::SessionInfo> =
        serde_json::from_str(&session.body).expect("session info");
    let info = info.expect("signed in");
    assert_eq!(info.current_company_id, chicago);
    assert_eq!(info.active_company_ids, vec![chicago]);
}
