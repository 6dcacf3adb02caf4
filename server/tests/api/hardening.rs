//! Hostile callers over real HTTP: throttled logins answer 429 and never 5xx, a spoofed
//! `X-Forwarded-For` only counts from a trusted proxy, every page carries its security
//! headers, and sessions end after a day idle.

use crate::helpers::{TestApp, spawn_app, spawn_app_from, test_config};
use app::domain::throttle::MAX_FAILURES;
use app::error::AppError;
use axum::body::Body;
use http::{Request, StatusCode, header};

/// A login POST as a browser behind `forwarded_for`'s proxy sends it.
async fn login_via(app: &TestApp, password: &str, forwarded_for: &str) -> crate::helpers::Reply {
    let body =
        serde_urlencoded::to_string([("login", "admin"), ("password", password)]).expect("form");
    let req = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header("x-forwarded-for", forwarded_for)
        .body(Body::from(body))
        .expect("request");
    app.send(req).await
}

#[tokio::test]
async fn a_throttled_login_answers_429_with_a_clear_message() {
    let app = spawn_app().await;
    for _ in 0..MAX_FAILURES {
        let reply = login_via(&app, "wrong", "203.0.113.9").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = login_via(&app, "admin", "203.0.113.9").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.app_error(), AppError::TooManyAttempts);
    assert!(reply.session_cookie().is_none());
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    // Untrusted: the header is ignored, so an attacker cannot rotate it to escape the limit.
    let app = spawn_app().await;
    for i in 0..MAX_FAILURES {
        login_via(&app, "wrong", &format!("198.51.100.{i}")).await;
    }
    let reply = login_via(&app, "admin", "198.51.100.200").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);

    // Trusted: each forwarded client has its own count, so the attacker's failures do not
    // lock the real administrator out.
    let mut config = test_config().await;
    config.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    for _ in 0..MAX_FAILURES {
        login_via(&app, "wrong", "198.51.100.7").await;
    }
    assert_eq!(
        login_via(&app, "admin", "198.51.100.7").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login_via(&app, "admin", "192.0.2.10").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn server_function_errors_carry_their_http_status() {
    let app = spawn_app().await;
    let anonymous = app.call("contacts/list", &[("search", "")], None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let cookie = app.login("demo", "demo").await;
    let missing = app
        .call("contacts/get", &[("id", "999999")], Some(&cookie))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(missing.app_error(), AppError::NotFound);
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_that_their_scripts_match() {
    let app = spawn_app().await;
    let reply = app.get("/login", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let policy = reply
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .expect("a policy");
    for part in [
        "script-src 'self' 'nonce-",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(policy.contains(part), "{part} in {policy}");
    }
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    // Every inline script of the page carries it; no script goes without.
    let scripts = reply.body.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        reply.body.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{}",
        reply.body
    );
    // A second page gets a new nonce.
    let again = app.get("/login", None).await;
    assert!(!again.body.contains(nonce));
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        assert_eq!(
            reply.headers.get(&name).and_then(|v| v.to_str().ok()),
            Some(value)
        );
    }
    assert!(
        reply
            .headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_none()
    );
}

#[tokio::test]
async fn over_https_the_session_cookie_is_a_host_cookie_and_hsts_is_sent() {
    let mut config = test_config().await;
    config.public_url = "https://iapd.test".into();
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let reply = app
        .call("login", &[("login", "admin"), ("password", "admin")], None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let set_cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a cookie");
    assert!(
        set_cookie.starts_with("__Host-iapd_session="),
        "{set_cookie}"
    );
    for part in ["; Secure", "; Path=/", "; HttpOnly"] {
        assert!(set_cookie.contains(part), "{part} in {set_cookie}");
    }
    assert!(!set_cookie.contains("Domain="), "{set_cookie}");
    let cookie = reply.session_cookie().expect("session");
    let page = app.get("/contacts", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_some()
    );
    // The plain-HTTP name is not read over https: it cannot be planted by a plain page.
    let planted = cookie.replacen("__Host-", "", 1);
    assert_eq!(
        app.get("/contacts", Some(&planted)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_session_ends_after_a_day_without_a_request() {
    let app = spawn_app().await;
    let cookie = app.login("admin", "admin").await;
    assert_eq!(
        app.get("/contacts", Some(&cookie)).await.status,
        StatusCode::OK
    );
    // Still well within the week, but idle for a day and a second.
    let idle = app::clock::now_ms() - app::auth::session::IDLE_MS - 1_000;
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(idle)
        .execute(&app.pool)
        .await
        .expect("age the session");
    let reply = app.get("/contacts", Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/login?next=/contacts"));
}

#[tokio::test]
async fn a_session_in_use_is_kept_past_a_day() {
    let app = spawn_app().await;
    let cookie = app.login("admin", "admin").await;
    // Last seen just over the touch interval ago: the request refreshes it.
    let recent = app::clock::now_ms() - app::auth::session::TOUCH_EVERY_MS - 1_000;
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(recent)
        .execute(&app.pool)
        .await
        .expect("age the session");
    assert_eq!(
        app.get("/contacts", Some(&cookie)).await.status,
        StatusCode::OK
    );
    let seen: i64 = sqlx::query_scalar("SELECT last_seen_at FROM sessions")
        .fetch_one(&app.pool)
        .await
        .expect("session");
    assert!(seen > recent + 1_000, "the request refreshed last_seen_at");
}

/// Leptos lists the page routes by rendering the app once with resource loading switched
/// off through a process-wide flag; a resource first polled by a request while any router
/// in the process was being built waited for ever, and its page's body never ended (the
/// test hang of issue 13). Routers built while pages render must not stall them, whether
/// a whole server starts or only its routes are listed.
#[tokio::test]
async fn pages_render_while_another_router_is_built_in_the_same_process() {
    let app = spawn_app().await;
    let cookie = app.login("admin", "admin").await;
    let configs = {
        let mut configs = Vec::new();
        for _ in 0..12 {
            configs.push(test_config().await);
        }
        configs
    };
    let builder = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for config in configs {
            runtime.block_on(async {
                let built = server::startup::Application::build(&config).await;
                // Serving builds the router; the server stops again at once.
                let served = built.expect("iapd starts").run_until_stopped(async {});
                served.await.expect("iapd stops");
                for _ in 0..200 {
                    drop(server::http::page_routes());
                }
            });
        }
    });
    let mut pages = 0;
    while !builder.is_finished() || pages < 20 {
        let page = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.get("/contacts", Some(&cookie)),
        )
        .await
        .unwrap_or_else(|_| panic!("page {pages} never finished while routers were built"));
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("</html>"), "page {pages} is cut short");
        pages += 1;
    }
    builder.join().expect("builder thread");
}
