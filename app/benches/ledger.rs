//! `make bench`: hold + capture through the ledger's public API with full durability
//! (WAL, synchronous=FULL), 64 concurrent tasks. Prints figures; asserts nothing.
//!
//! Scenarios: one hot account; 1,000 accounts; 1,000 accounts after preloading 1,000,000
//! ledger entries. A hold and a capture count as two operations.

use app::clock::system_clock;
use app::db::ledger as store;
use app::domain::credits::Credits;
use app::domain::ledger::{EntryKind, HoldRequest, NewCredit, NewHold};
use app::ledger::Ledger;
use app::tasks::Tasks;
use sqlx::AnyPool;
use std::time::{Duration, Instant};

const TASKS: usize = 64;
/// Seconds per scenario; `BENCH_SECONDS` overrides the default of 5.
fn run_time() -> Duration {
    let secs = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(secs)
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("iapd-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pool = app::db::connect(&format!("sqlite://{}/bench.sqlite", dir.display()))
        .await
        .expect("db");
    app::db::migrate(&pool).await.expect("migrate");
    let accounts = create_accounts(&pool, 1_000).await;
    let mut tasks = Tasks::new();
    let ledger = start(&pool, &mut tasks).await;

    println!(
        "iapd ledger benchmark: {TASKS} tasks, {}s per scenario, synchronous=FULL",
        run_time().as_secs()
    );
    println!(
        "{:<34} {:>10} {:>9} {:>9}",
        "scenario", "ops/s", "p50 ms", "p99 ms"
    );
    let hot = run(&ledger, &accounts[..1]).await;
    report("1 hot account", &hot);
    let spread = run(&ledger, &accounts).await;
    report("1,000 accounts", &spread);

    drop(ledger);
    tasks.shutdown(Duration::from_secs(10)).await;
    preload(&pool, 1_000_000).await;
    let mut tasks = Tasks::new();
    let ledger = start(&pool, &mut tasks).await;
    let preloaded = run(&ledger, &accounts).await;
    report("1,000 accounts, 1M entries preloaded", &preloaded);
    println!(
        "preloaded vs empty ledger: {:+.1}% ops/s",
        (preloaded.ops_per_sec / spread.ops_per_sec - 1.0) * 100.0
    );

    let mut conn = pool.acquire().await.expect("conn");
    let problems = store::check(&mut conn).await.expect("check");
    println!(
        "ledger check: {}",
        if problems.is_empty() {
            "consistent".to_owned()
        } else {
            format!("{problems:?}")
        }
    );
    drop(conn);
    tasks.shutdown(Duration::from_secs(10)).await;
    pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn start(pool: &AnyPool, tasks: &mut Tasks) -> Ledger {
    Ledger::start(pool, system_clock(), "http://127.0.0.1:3000", tasks)
        .await
        .expect("ledger")
}

struct Figures {
    ops_per_sec: f64,
    p50: Duration,
    p99: Duration,
}

fn report(name: &str, f: &Figures) {
    println!(
        "{name:<34} {:>10.0} {:>9.2} {:>9.2}",
        f.ops_per_sec,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3
    );
}

async fn create_accounts(pool: &AnyPool, n: usize) -> Vec<i64> {
    let mut conn = pool.acquire().await.expect("conn");
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = store::insert_account(
            &mut conn,
            "sms",
            &format!("Bench {i}"),
            &app::crypto::random_token(16),
            0,
        )
        .await
        .expect("account");
        ids.push(id);
    }
    drop(conn);
    // Fund them through the ledger so the books stay consistent.
    let mut tasks = Tasks::new();
    let ledger = start(pool, &mut tasks).await;
    for id in &ids {
        let amount = Credits::whole(1_000_000_000).expect("amount");
        let credit =
            NewCredit::parse(*id, EntryKind::Purchase, amount, "bench funds").expect("credit");
        ledger.credit(credit, None).await.expect("fund");
    }
    tasks.shutdown(Duration::from_secs(10)).await;
    ids
}

/// Hold 1 credit then capture it, in a loop, from every task, for `RUN`.
async fn run(ledger: &Ledger, accounts: &[i64]) -> Figures {
    let run = run_time();
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let ledger = ledger.clone();
            let accounts = accounts.to_vec();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = t;
                while start.elapsed() < run {
                    let account = accounts[i % accounts.len()];
                    i += TASKS;
                    let t0 = Instant::now();
                    let token = ledger
                        .hold(
                            NewHold::parse(HoldRequest {
                                account,
                                amount: Credits::whole(1).expect("amount"),
                                description: "bench".into(),
                                ttl_hours: None,
                                idempotency_key: None,
                            })
                            .expect("valid hold"),
                        )
                        .await
                        .expect("hold");
                    let t1 = Instant::now();
                    ledger.capture(&token, None).await.expect("capture");
                    latencies.push(t1 - t0);
                    latencies.push(t1.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures {
        ops_per_sec: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

/// Appends `n` entries spread over the accounts, in pairs that cancel out, so the balances
/// and the ledger check are unchanged.
async fn preload(pool: &AnyPool, n: i64) {
    let started = Instant::now();
    let mut conn = pool.acquire().await.expect("conn");
    store::append_cancelling_pairs(&mut conn, n)
        .await
        .expect("preload");
    println!(
        "(preloaded {n} ledger entries in {:.1}s)",
        started.elapsed().as_secs_f64()
    );
}
