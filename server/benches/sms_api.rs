//! `make bench`, SMS part: Odoo's SMS API (`/api/sms/3/send`) against the real server with
//! the built-in outbox, release build, full durability (WAL, synchronous=FULL): concurrent
//! keep-alive clients sending batches of 1 and of 100 numbers, each answered once its
//! messages are sent and charged. Printed beside a reference measured in the same run on
//! the same server: authorize + capture pairs over HTTP on one account, what a message
//! costs the ledger at least. Prints figures; asserts nothing. `BENCH_SECONDS` and
//! `BENCH_CLIENTS` override the defaults (5 s, 64 clients).

use app::clock::system_clock;
use app::db::ledger as store;
use app::domain::credits::Credits;
use app::domain::ledger::{EntryKind, NewCredit};
use app::ledger::Ledger;
use app::tasks::Tasks;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

mod http_client;
use http_client::{Client, Served};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("iapd-sms-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/bench.sqlite", dir.display());
    let (token, key) = prepare(&url).await;
    let served = Served::start(&url).await;
    let port = served.port;
    let clients = usize::try_from(env_number("BENCH_CLIENTS", 64)).unwrap_or(64);
    let seconds = Duration::from_secs(env_number("BENCH_SECONDS", 5));

    println!(
        "iapd SMS API benchmark: {clients} keep-alive clients, built-in outbox, SMS_CONCURRENCY 8, {}s per scenario, synchronous=FULL",
        seconds.as_secs()
    );
    println!(
        "{:<40} {:>12} {:>10} {:>9} {:>9}",
        "scenario", "messages/s", "calls/s", "p50 ms", "p99 ms"
    );
    let reference = run(
        port,
        clients,
        seconds,
        Scenario::Pairs {
            key,
            token: token.clone(),
        },
    )
    .await;
    report("reference: authorize + capture pairs", &reference, None);
    for size in [1usize, 100] {
        let scenario = Scenario::Sms {
            token: token.clone(),
            size,
        };
        let figures = run(port, clients, seconds, scenario).await;
        let name = format!("SMS API, batches of {size}");
        report(&name, &figures, Some(reference.units_per_sec));
    }

    served.stop().await;
    let pool = app::db::connect(&url).await.expect("db");
    let mut conn = pool.acquire().await.expect("conn");
    let problems = store::check(&mut conn).await.expect("check");
    let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_messages WHERE state = 'sent'")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    println!(
        "{sent} SMS sent and charged; ledger check: {}",
        if problems.is_empty() {
            "consistent".to_owned()
        } else {
            format!("{problems:?}")
        }
    );
    drop(conn);
    pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// An SMS account with plenty of credits, and a key for the reference's service calls.
async fn prepare(url: &str) -> (String, String) {
    let pool = app::db::connect(url).await.expect("db");
    app::db::migrate(&pool).await.expect("migrate");
    let mut conn = pool.acquire().await.expect("conn");
    let token = app::crypto::random_token(16);
    let id = store::insert_account(&mut conn, "sms", "SMS", &token, 0)
        .await
        .expect("account");
    let key = app::auth::service_key::new_key();
    app::db::services::set_key_hash(&mut conn, "sms", &app::auth::service_key::key_hash(&key))
        .await
        .expect("key");
    drop(conn);
    let mut tasks = Tasks::new();
    let ledger = Ledger::start(&pool, system_clock(), "", &mut tasks)
        .await
        .expect("ledger");
    let amount = Credits::whole(1_000_000_000).expect("amount");
    let credit = NewCredit::parse(id, EntryKind::Purchase, amount, "bench funds").expect("credit");
    ledger.credit(credit, None).await.expect("fund");
    drop(ledger);
    tasks.shutdown(Duration::from_secs(10)).await;
    pool.close().await;
    (token, key)
}

/// One reference unit: authorize then capture half of it. Returns (units, calls, ok).
async fn pair(
    conn: &mut Client,
    key: &str,
    token: &str,
    c: usize,
    i: usize,
) -> (usize, usize, bool) {
    let reply = conn
        .call(
            "/iap/1/authorize",
            &json!({"jsonrpc": "2.0", "method": "call", "id": i,
                    "params": {"key": key, "account_token": token, "credit": 1,
                               "description": format!("bench {c}")}}),
        )
        .await;
    let Some(hold) = reply["result"].as_str() else {
        return (0, 1, false);
    };
    let reply = conn
        .call(
            "/iap/1/capture",
            &json!({"jsonrpc": "2.0", "method": "call", "id": i,
                    "params": {"key": key, "token": hold, "credit_to_capture": 0.5}}),
        )
        .await;
    (1, 2, reply.get("result").is_some())
}

/// One SMS API call with `size` numbers, each with its own uuid. Returns (messages sent,
/// calls, every number answered success).
async fn send(
    conn: &mut Client,
    token: &str,
    size: usize,
    c: usize,
    i: usize,
) -> (usize, usize, bool) {
    let numbers: Vec<Value> = (0..size)
        .map(|n| {
            json!({
                "uuid": format!("{c:08x}{i:016x}{n:08x}"),
                "number": format!("+32470{:06}", (i * size + n) % 1_000_000),
            })
        })
        .collect();
    let reply = conn
        .call(
            "/api/sms/3/send",
            &json!({"jsonrpc": "2.0", "method": "call", "id": i,
                    "params": {"account_token": token, "dbuuid": "bench", "webhook_url": false,
                               "messages": [{"content": "Your order has shipped.",
                                             "numbers": numbers}]}}),
        )
        .await;
    let answers = reply["result"].as_array().cloned().unwrap_or_default();
    let sent = answers.iter().filter(|a| a["state"] == "success").count();
    (sent, 1, sent == size)
}

struct Figures {
    units_per_sec: f64,
    calls_per_sec: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

fn report(name: &str, f: &Figures, reference: Option<f64>) {
    let beside = reference
        .filter(|r| *r > 0.0)
        .map(|r| format!("  ({:.2}x the reference pairs/s)", f.units_per_sec / r))
        .unwrap_or_default();
    let errors = if f.errors > 0 {
        format!("  ({} calls not fully successful)", f.errors)
    } else {
        String::new()
    };
    println!(
        "{name:<40} {:>12.0} {:>10.0} {:>9.2} {:>9.2}{beside}{errors}",
        f.units_per_sec,
        f.calls_per_sec,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
    );
}

/// What each client does, over and over.
#[derive(Clone)]
enum Scenario {
    /// The reference: authorize + capture on one account.
    Pairs { key: String, token: String },
    /// SMS API calls of `size` numbers.
    Sms { token: String, size: usize },
}

/// Runs `scenario` from `clients` connections for `seconds`; each step's latency is measured.
async fn run(port: u16, clients: usize, seconds: Duration, scenario: Scenario) -> Figures {
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let scenario = scenario.clone();
            tokio::spawn(async move {
                let mut conn = Client::connect(port).await;
                let (mut units, mut calls, mut errors) = (0, 0, 0);
                let mut latencies = Vec::new();
                let mut i = 0;
                while start.elapsed() < seconds {
                    i += 1;
                    let t0 = Instant::now();
                    let (u, n, ok) = match &scenario {
                        Scenario::Pairs { key, token } => pair(&mut conn, key, token, c, i).await,
                        Scenario::Sms { token, size } => send(&mut conn, token, *size, c, i).await,
                    };
                    latencies.push(t0.elapsed());
                    units += u;
                    calls += n;
                    errors += usize::from(!ok);
                }
                (units, calls, errors, latencies)
            })
        })
        .collect();
    let (mut units, mut calls, mut errors, mut all) = (0, 0, 0, Vec::new());
    for task in tasks {
        let (u, n, e, l) = task.await.expect("client");
        units += u;
        calls += n;
        errors += e;
        all.extend(l);
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures {
        units_per_sec: units as f64 / elapsed,
        calls_per_sec: calls as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
    }
}
