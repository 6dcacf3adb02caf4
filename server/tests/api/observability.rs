//! What operators see and what browsers fetch: `/metrics` behind its token, and the build's
//! static files sent precompressed, never stale, and revalidated on each visit.

use crate::helpers::{Reply, TestApp, spawn_app, spawn_app_from, test_config};
use crate::iap_api::{key_for, rpc, token_of};
use app::secret::Secret;
use axum::body::Body;
use http::{Request, StatusCode, header};
use serde_json::json;
use std::time::{Duration, SystemTime};

const TOKEN: &str = "scrape-me-please-0123456789";

async fn scrape(app: &TestApp, token: Option<&str>) -> Reply {
    let mut req = Request::get("/metrics");
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(req.body(Body::empty()).expect("request")).await
}

/// The value of the sample whose line starts with `series ` (name and labels).
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_answer_only_their_token_and_count_requests_batches_and_queues() {
    // Without METRICS_TOKEN there is no such route.
    let closed = spawn_app().await;
    assert_eq!(
        scrape(&closed, Some(TOKEN)).await.status,
        StatusCode::NOT_FOUND
    );

    let mut config = test_config().await;
    config.metrics_token = Some(Secret::new(TOKEN));
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    assert_eq!(scrape(&app, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(&app, Some("scrape-me-please-0123456788"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let admin = app.login("admin", "admin").await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/contacts", Some(&admin)).await.status,
            StatusCode::OK
        );
    }
    let key = key_for(&app, "sms").await;
    let account = token_of(&app, "sms").await;
    let hold = rpc(
        &app,
        "/iap/1/authorize",
        json!({"key": key, "account_token": account, "credit": 1, "description": "metrics"}),
    )
    .await;
    assert!(hold.get("result").is_some(), "{hold}");

    let reply = scrape(&app, Some(TOKEN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = &reply.body;
    let contacts = r#"iapd_http_requests_total{method="GET",route="/contacts",status="2xx"}"#;
    assert_eq!(sample(body, contacts), Some(3.0), "{body}");
    let authorize =
        r#"iapd_http_request_duration_seconds_count{method="POST",route="/iap/1/authorize"}"#;
    assert_eq!(sample(body, authorize), Some(1.0), "{body}");
    // The three failed scrapes were counted too, under their own route.
    let refused = r#"iapd_http_requests_total{method="GET",route="/metrics",status="4xx"}"#;
    assert_eq!(sample(body, refused), Some(2.0), "{body}");
    // Opening the demo accounts and the hold each went through the ledger writer.
    let batches = sample(body, "iapd_ledger_batch_operations_count").expect("batches");
    assert!(batches >= 1.0, "{body}");
    assert_eq!(sample(body, "iapd_ledger_failed_batches_total"), Some(0.0));
    assert_eq!(sample(body, "iapd_ledger_up"), Some(1.0));
    assert_eq!(
        sample(body, r#"iapd_queue_depth{queue="hold_open"}"#),
        Some(1.0)
    );
    assert_eq!(sample(body, r#"iapd_queue_depth{queue="mail"}"#), Some(0.0));
    assert!(body.contains("# TYPE iapd_ledger_commit_seconds histogram"));
}

fn write_at(path: &std::path::Path, bytes: &[u8], at: SystemTime) {
    std::fs::write(path, bytes).expect("write");
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    file.set_times(std::fs::FileTimes::new().set_modified(at))
        .expect("mtime");
}

async fn fetch(app: &TestApp, path: &str) -> Reply {
    let req = Request::get(path)
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .body(Body::empty())
        .expect("request");
    app.send(req).await
}

#[tokio::test]
async fn the_builds_precompressed_files_are_sent_and_a_stale_one_never() {
    let site = std::env::temp_dir().join(format!(
        "iapd-site-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site");
    let then = SystemTime::now() - Duration::from_secs(3_600);
    let now = SystemTime::now();
    write_at(&pkg.join("fresh.js"), b"console.log('fresh')", then);
    write_at(&pkg.join("fresh.js.br"), b"BROTLI OF FRESH", now);
    // A later build without the compression step: the copy is older than its file.
    write_at(
        &pkg.join("stale.js.br"),
        b"BROTLI OF THE LAST RELEASE",
        then,
    );
    write_at(&pkg.join("stale.js"), b"console.log('this build')", now);
    // A release build names its files after their content.
    let hashed = "chunk_3.aW8DQfKTK8yL0qP6TZtX2g.wasm";
    write_at(&pkg.join(hashed), b"\0asm this chunk", then);
    write_at(
        &pkg.join(format!("{hashed}.br")),
        b"BROTLI OF THE CHUNK",
        now,
    );

    let mut config = test_config().await;
    config.site_root = site.display().to_string();
    let app = spawn_app_from(config, app::clock::system_clock()).await;

    let fresh = fetch(&app, "/pkg/fresh.js").await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_eq!(fresh.headers[header::CONTENT_ENCODING], "br");
    assert_eq!(fresh.body, "BROTLI OF FRESH");
    assert_eq!(fresh.headers[header::CACHE_CONTROL], "no-cache");

    let stale = fetch(&app, "/pkg/stale.js").await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_ne!(stale.body, "BROTLI OF THE LAST RELEASE");
    assert!(!pkg.join("stale.js.br").exists(), "the stale copy is gone");

    // Named after its content, a file is kept for a year, compressed or not.
    let chunk = fetch(&app, &format!("/pkg/{hashed}")).await;
    assert_eq!(chunk.body, "BROTLI OF THE CHUNK");
    assert_eq!(
        chunk.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let plain_chunk = app.get(&format!("/pkg/{hashed}"), None).await;
    assert_eq!(plain_chunk.body, "\0asm this chunk");
    assert_eq!(
        plain_chunk.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // A file missing under a hashed name is not cached at all.
    let gone = app
        .get("/pkg/chunk_4.aW8DQfKTK8yL0qP6TZtX2g.wasm", None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.headers.get(header::CACHE_CONTROL).is_none());

    // A browser that accepts neither gets the file itself.
    let plain = app.get("/pkg/fresh.js", None).await;
    assert_eq!(plain.body, "console.log('fresh')");
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    app.stop().await;
    std::fs::remove_dir_all(&site).expect("clean");
}
