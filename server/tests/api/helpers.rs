//! `spawn_app()`: iapd built by `Application::build` over a fresh, demo-seeded database,
//! serving on a free port, driven over real HTTP.

use app::clock::Clock;
use app::error::AppError;
use axum::body::Body;
use clap::Parser;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use server::config::Config;
use server::startup::Application;
use sqlx::AnyPool;

/// The public URL the test server believes it is reached at.
pub const PUBLIC_URL: &str = "http://iapd.test";

pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub pool: AnyPool,
    client: reqwest::Client,
    /// Stops the server (and its background tasks) when the test ends.
    _stop: tokio::sync::oneshot::Sender<()>,
    /// The task serving, for [`TestApp::crash`].
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with_clock(app::clock::system_clock()).await
}

/// The configuration every test server starts from: a fresh database file, port 0, demo
/// data, and no SMTP server or SMS gateway.
pub async fn test_config() -> Config {
    let (pool, url) = app::db::scratch("api-test").await.expect("fresh database");
    pool.close().await;
    let mut config = Config::try_parse_from(["server"]).expect("defaults");
    config.database_url = url;
    config.site_addr = "127.0.0.1:0".parse().expect("address");
    config.site_root = "target/site".into();
    config.demo = true;
    config.public_url = PUBLIC_URL.into();
    config.payment_provider = Some(server::config::ProviderKind::Demo);
    config
}

/// The same, with the ledger reading `clock` (a `ManualClock` lets a test expire holds).
pub async fn spawn_app_with_clock(clock: Clock) -> TestApp {
    spawn_app_from(test_config().await, clock).await
}

/// Starts iapd as `main` does, from `config`, on its own port.
pub async fn spawn_app_from(config: Config, clock: Clock) -> TestApp {
    let application = Application::build_with(&config, clock)
        .await
        .expect("iapd starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let pool = application.state().pool.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    // A request the server never answers fails the test within seconds, naming its URL.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client");
    TestApp {
        address,
        pool,
        client,
        _stop: stop,
        server,
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
            .filter_map(|v| v.split(';').next())
            .find(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                matches!(name, "iapd_session" | "__Host-iapd_session") && !value.is_empty()
            })
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
    /// Stops the server as Ctrl-C does, and returns once it has finished (its background
    /// tasks drained).
    pub async fn stop(self) {
        drop(self._stop);
        let _ = self.server.await;
    }

    /// Stops the server the way a crash would: no graceful shutdown, background tasks
    /// dropped wherever they were. Returns once it is gone (its database lock released).
    pub async fn crash(self) {
        self.server.abort();
        let _ = self.server.await;
        self.pool.close().await;
    }

    /// Sends `req` to the running server; its URI is a path.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.expect("request body").to_bytes();
        let url = format!("{}{}", self.address, parts.uri);
        let what = format!("{} {}", parts.method, parts.uri);
        let mut request = self.client.request(parts.method, url).body(body);
        for (name, value) in &parts.headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("the server does not answer {what}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("the body of {what} never ends: {e}"));
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
