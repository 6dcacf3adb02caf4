//! `spawn_app()`: the real router over a fresh, demo-seeded database, driven in-process.

use app::domain::throttle::Throttle;
use app::error::AppError;
use app::state::AppState;
use axum::Router;
use axum::body::Body;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use sqlx::SqlitePool;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// The public URL the test router believes it is reached at.
pub const PUBLIC_URL: &str = "http://iapd.test";

pub struct TestApp {
    pub router: Router,
    pub pool: SqlitePool,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with_clock(app::ledger::system_clock()).await
}

/// The same, with the ledger reading `clock` (a `ManualClock` lets a test expire holds).
pub async fn spawn_app_with_clock(clock: app::ledger::Clock) -> TestApp {
    let (pool, _) = app::db::scratch("api-test").await.expect("fresh database");
    app::db::demo::ensure_database_uuid(&pool)
        .await
        .expect("uuid");
    app::db::demo::seed_if_empty(&pool).await.expect("seed");
    let ledger = app::ledger::Ledger::start(&pool, clock)
        .await
        .expect("ledger");
    app::db::demo::open_accounts(&pool, &ledger)
        .await
        .expect("demo accounts");
    let state = AppState {
        leptos_options: LeptosOptions::builder()
            .output_name("iapd")
            .site_root("target/site")
            .build(),
        pool: pool.clone(),
        ledger,
        payments: Arc::new(app::payment::DemoProvider),
        sms: Arc::new(app::sms::BuiltinProvider),
        throttle: Arc::new(Mutex::new(Throttle::default())),
        secure_cookies: false,
    };
    TestApp {
        router: server::http::router(state, PUBLIC_URL),
        pool,
    }
}

/// A response with its body read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The session cookie this response sets, as `name=value` for the next request.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("iapd_session=") && !v.starts_with("iapd_session=;"))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    }

    /// The server function's error, when it returned one.
    pub fn app_error(&self) -> AppError {
        assert_ne!(
            self.status,
            StatusCode::OK,
            "expected an error, got {}",
            self.body
        );
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not an AppError ({e}): {}", self.body))
    }
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res: Response<Body> = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    /// Calls a server function the way the browser does: a same-origin form POST.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Reply {
        let mut req = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header("sec-fetch-site", "same-origin");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let body = serde_urlencoded::to_string(form).expect("form");
        self.send(req.body(Body::from(body)).expect("request"))
            .await
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let reply = self
            .call("login", &[("login", login), ("password", password)], None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "login failed: {}", reply.body);
        reply.session_cookie().expect("a session cookie")
    }
}
