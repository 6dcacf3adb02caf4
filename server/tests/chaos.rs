//! `make chaos`: the release server under JSON-RPC load, killed with SIGKILL at random
//! moments and restarted, `CHAOS_CYCLES` times (5 by default). 64 clients each authorize a
//! credit and capture it, over and over. After every restart:
//!
//! - every authorize the server acknowledged has its hold in the database, and every
//!   acknowledged capture has its hold captured: no acknowledged operation is missing;
//! - every capture that was cut off is retried with the same transaction token, answers
//!   like the first, and leaves exactly one capture entry: nothing is applied twice;
//! - `server check` finds every account consistent with its ledger.
//!
//! With `IAPD_TEST_POSTGRES` (a PostgreSQL server's admin URL, as the tests use), the
//! database is a fresh one there and two nodes serve it, the clients spread over both; only
//! the first is killed, and the second must keep serving: its clients go on for a second
//! after the kill and must all succeed.
//!
//! Exits non-zero if anything was violated; prints what each cycle saw. The server binary is
//! `target/release/server` (`make release`); a SQLite database lives in a temporary folder.
//! The harness itself is a debug build: all the speed that matters is the server's.

use rand::Rng;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 64;

fn cycles() -> usize {
    std::env::var("CHAOS_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(5)
}

fn binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.join("target/release/server")
}

/// What the clients learnt, shared across cycles.
#[derive(Default)]
struct Seen {
    /// Holds the server acknowledged.
    held: HashSet<String>,
    /// Captures the server acknowledged.
    captured: HashSet<String>,
    /// Holds acknowledged whose capture got no answer: retried after the restart.
    cut_off: Vec<String>,
}

struct Server {
    child: Child,
    url: String,
}

fn start(database_url: &str) -> Server {
    let mut child = Command::new(binary())
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn,server=info")
        .env("IAPD_DEMO", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary().display()));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server exited before listening")
            .expect("a log line");
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..].trim().to_owned();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

fn cli(database_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(binary())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the command runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn rpc(client: &reqwest::Client, url: &str, path: &str, params: Value) -> Option<Value> {
    let body = json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params});
    let reply = client
        .post(format!("{url}{path}"))
        .json(&body)
        .send()
        .await
        .ok()?;
    let value: Value = reply.json().await.ok()?;
    Some(value)
}

/// Counts what the surviving node served after the other was killed.
#[derive(Default)]
struct Survivor {
    killed: std::sync::atomic::AtomicBool,
    /// The surviving node is about to be killed in turn: its failures no longer count.
    ending: std::sync::atomic::AtomicBool,
    served: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("iapd-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let postgres = std::env::var_os(app::db::TEST_POSTGRES).is_some();
    let database_url = if postgres {
        let (pool, url) = app::db::scratch("chaos").await.expect("a fresh database");
        pool.close().await;
        url
    } else {
        format!("sqlite://{}/chaos.sqlite", dir.display())
    };
    let nodes = if postgres { 2 } else { 1 };

    // A demo database, a service key, and an account with plenty of credits.
    let server = start(&database_url);
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let (ok, key) = cli(&database_url, &["service-key", "sms"]);
    assert!(ok, "cannot create the service key");
    let key = key.trim().to_owned();
    let (_, accounts) = cli(&database_url, &["accounts"]);
    let token = accounts
        .lines()
        .find(|l| l.starts_with("sms\t"))
        .and_then(|l| l.split('\t').nth(2))
        .expect("the sms account")
        .to_owned();
    let (ok, _) = cli(
        &database_url,
        &[
            "adjust",
            "--token",
            &token,
            "--amount",
            "100000000",
            "--reason",
            "chaos funds",
        ],
    );
    assert!(ok, "cannot fund the account");

    let seen = Arc::new(Mutex::new(Seen::default()));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    println!(
        "iapd chaos on {}: {} cycles, {CLIENTS} clients, authorize + capture, SIGKILL at random",
        if postgres {
            "PostgreSQL, two nodes, the first killed"
        } else {
            "SQLite"
        },
        cycles()
    );
    println!(
        "{:>5} {:>9} {:>9} {:>9} {:>8} {:>10} {:>10}",
        "cycle", "held", "captured", "retried", "lost", "restart ms", "after kill"
    );
    let mut failures = 0;
    for cycle in 1..=cycles() {
        let started = Instant::now();
        let server = start(&database_url);
        let restart_ms = started.elapsed().as_millis();
        let other = (nodes > 1).then(|| start(&database_url));
        let survivor = Arc::new(Survivor::default());

        // Captures cut off by the previous kill are retried first, with the same token.
        let retried: Vec<String> = std::mem::take(&mut seen.lock().expect("seen").cut_off);
        for transaction in &retried {
            let answer = rpc(
                &client,
                &server.url,
                "/iap/1/capture",
                json!({"key": key, "token": transaction}),
            )
            .await;
            match answer.as_ref().and_then(|a| a.get("result")) {
                Some(result) if result == &json!(1.0) => {
                    seen.lock()
                        .expect("seen")
                        .captured
                        .insert(transaction.clone());
                }
                _ => {
                    println!("cycle {cycle}: retried capture of {transaction} answered {answer:?}");
                    failures += 1;
                }
            }
        }

        // Load, then SIGKILL at a random moment.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let workers: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let on_other = other.as_ref().filter(|_| i % 2 == 1);
                let url = on_other.map_or(&server.url, |o| &o.url).clone();
                let survivor = on_other.map(|_| survivor.clone());
                let (client, key, token, seen, stop) = (
                    client.clone(),
                    key.clone(),
                    token.clone(),
                    seen.clone(),
                    stop.clone(),
                );
                tokio::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let held = rpc(
                            &client,
                            &url,
                            "/iap/1/authorize",
                            json!({"key": key, "account_token": token, "credit": 1}),
                        )
                        .await;
                        let Some(transaction) = held
                            .as_ref()
                            .and_then(|h| h.get("result"))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                        else {
                            if let Some(survivor) = &survivor
                                && !survivor.ending.load(Ordering::Relaxed)
                            {
                                survivor.failed.fetch_add(1, Ordering::Relaxed);
                            }
                            break;
                        };
                        seen.lock().expect("seen").held.insert(transaction.clone());
                        let captured = rpc(
                            &client,
                            &url,
                            "/iap/1/capture",
                            json!({"key": key, "token": transaction}),
                        )
                        .await;
                        let mut seen = seen.lock().expect("seen");
                        match captured.as_ref().and_then(|c| c.get("result")) {
                            Some(_) => {
                                seen.captured.insert(transaction);
                                if let Some(survivor) = &survivor
                                    && survivor.killed.load(Ordering::Relaxed)
                                {
                                    survivor.served.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            None => {
                                seen.cut_off.push(transaction);
                                if let Some(survivor) = &survivor
                                    && !survivor.ending.load(Ordering::Relaxed)
                                {
                                    survivor.failed.fetch_add(1, Ordering::Relaxed);
                                }
                                break;
                            }
                        }
                    }
                })
            })
            .collect();
        let wait = rand::thread_rng().gen_range(500..3_000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let mut server = server;
        let _ = server.child.kill();
        let _ = server.child.wait();
        survivor.killed.store(true, Ordering::Relaxed);
        if let Some(mut other) = other {
            // The other node goes on serving its clients; then it is killed too.
            tokio::time::sleep(Duration::from_secs(1)).await;
            survivor.ending.store(true, Ordering::Relaxed);
            let _ = other.child.kill();
            let _ = other.child.wait();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for worker in workers {
            let _ = worker.await;
        }

        // The database, with no server running: what was acknowledged must be there.
        let pool = app::db::connect(&database_url).await.expect("db");
        let holds: Vec<(String, String)> = sqlx::query_as("SELECT token, state FROM holds")
            .fetch_all(&pool)
            .await
            .expect("holds");
        let states: std::collections::HashMap<String, String> = holds.into_iter().collect();
        let double: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT hold_id FROM ledger_entries WHERE kind = 'capture'
             GROUP BY hold_id HAVING COUNT(*) > 1) AS twice",
        )
        .fetch_one(&pool)
        .await
        .expect("double captures");
        pool.close().await;
        let (lost, held, captured) = {
            let seen = seen.lock().expect("seen");
            let lost_holds = seen
                .held
                .iter()
                .filter(|t| !states.contains_key(*t))
                .count();
            let lost_captures = seen
                .captured
                .iter()
                .filter(|t| states.get(*t).map(String::as_str) != Some("captured"))
                .count();
            (
                lost_holds + lost_captures,
                seen.held.len(),
                seen.captured.len(),
            )
        };
        let (consistent, report) = cli(&database_url, &["check"]);
        let after_kill = survivor.served.load(Ordering::Relaxed);
        let survivor_failed = survivor.failed.load(Ordering::Relaxed);
        println!(
            "{cycle:>5} {held:>9} {captured:>9} {:>9} {lost:>8} {restart_ms:>10} {:>10}",
            retried.len(),
            if nodes > 1 {
                after_kill.to_string()
            } else {
                "-".into()
            }
        );
        if nodes > 1 && (after_kill == 0 || survivor_failed > 0) {
            println!(
                "cycle {cycle}: the other node served {after_kill} operations after the kill, \
                 and failed {survivor_failed}"
            );
            failures += 1;
        }
        if lost > 0 || double > 0 || !consistent {
            println!(
                "cycle {cycle}: {lost} acknowledged operations missing, {double} holds captured twice, check: {report}"
            );
            failures += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if failures > 0 {
        println!("chaos: {failures} violation(s)");
        std::process::exit(1);
    }
    println!(
        "chaos: every acknowledged operation survived, nothing applied twice, books consistent"
    );
}
