use crate::helpers::spawn_app;
use axum::body::Body;
use http::{Request, StatusCode, header};

fn login_post(origin: Option<&str>, fetch_site: Option<&str>) -> Request<Body> {
    let mut req = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:3000");
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    if let Some(s) = fetch_site {
        req = req.header("sec-fetch-site", s);
    }
    req.body(Body::from("login=admin&password=admin"))
        .expect("request")
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_before_it_runs() {
    let app = spawn_app().await;
    let reply = app
        .send(login_post(Some("https://evil.example"), None))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.session_cookie().is_none());
}

#[tokio::test]
async fn a_post_marked_cross_site_by_the_browser_is_refused() {
    let app = spawn_app().await;
    let reply = app.send(login_post(None, Some("cross-site"))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_same_origin_post_is_accepted() {
    let app = spawn_app().await;
    let reply = app
        .send(login_post(
            Some("http://127.0.0.1:3000"),
            Some("same-origin"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn server_functions_cannot_be_called_with_get() {
    let app = spawn_app().await;
    let cookie = app.login("admin", "admin").await;
    for endpoint in ["logout", "contacts/save", "switch_company", "login"] {
        let reply = app.get(&format!("/api/{endpoint}"), Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{endpoint}");
    }
    // The GET to logout changed nothing.
    assert_eq!(
        app.get("/contacts", Some(&cookie)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let app = spawn_app().await;
    let body = format!("login=admin&password={}", "x".repeat(2 * 1024 * 1024));
    let req = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .expect("request");
    assert_eq!(app.send(req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn health_is_reported_without_a_session_and_says_what_serves() {
    let app = crate::helpers::spawn_app().await;
    // On PostgreSQL the node leads the background work once its campaign won, at once when
    // it is alone.
    let body = crate::nodes::health_once_leading(&app).await;
    assert_eq!(
        body,
        serde_json::json!({"status": "ok", "database": true, "ledger": true, "background": true})
    );
}
