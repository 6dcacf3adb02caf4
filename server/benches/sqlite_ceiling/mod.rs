//! The reference every ledger figure of `make bench` is printed against (issue 16): the
//! fastest a durable writer can go on this machine's SQLite, measured in the same run.
//!
//! A minimal group-commit writer, with nothing of iapd in its path: the same SQLite build
//! and connection settings (`app::db::connect`: WAL, `synchronous=FULL`), one writer task
//! that takes every request queued so far and applies them in one transaction, so one
//! fsync per batch, then answers them all. Each operation does the writes an iapd ledger
//! operation does at the least: a conditional update of the account's balance and one
//! appended ledger row, batched as a writer that knows its batch would (two statements per
//! transaction). Clients are in-process tasks, so no HTTP either: iapd's figure
//! over HTTP divided by this one is the share of the ceiling iapd reaches.

use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The most operations one transaction takes; the queue rarely holds more than the clients.
const MAX_BATCH: usize = 1024;

pub struct Ceiling {
    pub ops_per_sec: f64,
    pub p99: Duration,
    pub mean_batch: f64,
}

type Request = (i64, oneshot::Sender<bool>);

/// Runs `clients` tasks for `run`, each sending one operation at a time on one of
/// `accounts` accounts, against a fresh database under `dir`.
pub async fn measure(
    dir: &std::path::Path,
    clients: usize,
    run: Duration,
    accounts: i64,
) -> Ceiling {
    let path = dir.join("ceiling.sqlite");
    // Native sqlx (not iapd's `Any` pool), with iapd's SQLite settings.
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
        .pragma("temp_store", "memory");
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .expect("ceiling db");
    for statement in [
        "CREATE TABLE balances (id INTEGER PRIMARY KEY, available INTEGER NOT NULL)",
        "CREATE TABLE entries (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, \
         amount INTEGER NOT NULL, created_at INTEGER NOT NULL)",
        "CREATE INDEX entries_by_account ON entries (account_id, id)",
    ] {
        sqlx::query(statement).execute(&pool).await.expect("schema");
    }
    sqlx::query(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
         INSERT INTO balances (id, available) SELECT i, 1000000000000 FROM seq",
    )
    .bind(accounts)
    .execute(&pool)
    .await
    .expect("accounts");

    let (tx, rx) = mpsc::channel::<Request>(clients * 2);
    let writer = tokio::spawn(write(pool.clone(), rx));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = c as i64;
                while start.elapsed() < run {
                    let (reply, answer) = oneshot::channel();
                    let t0 = Instant::now();
                    tx.send((1 + i % accounts, reply)).await.expect("writer");
                    assert!(
                        answer.await.expect("answer"),
                        "the ceiling's account ran dry"
                    );
                    latencies.push(t0.elapsed());
                    i += clients as i64;
                }
                latencies
            })
        })
        .collect();
    drop(tx);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client"));
    }
    let elapsed = start.elapsed();
    let (batches, ops) = writer.await.expect("writer");
    pool.close().await;
    all.sort_unstable();
    Ceiling {
        ops_per_sec: all.len() as f64 / elapsed.as_secs_f64(),
        p99: all[((all.len() as f64 * 0.99) as usize).min(all.len() - 1)],
        mean_batch: ops as f64 / batches.max(1) as f64,
    }
}

/// The writer: one transaction per batch of whatever is queued, in two statements however
/// large the batch: one update of every account touched (by its count in the batch) and one
/// multi-row insert. Returns (batches, ops).
async fn write(pool: sqlx::SqlitePool, mut rx: mpsc::Receiver<Request>) -> (u64, u64) {
    let mut conn = pool.acquire().await.expect("writer connection");
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let (mut batches, mut ops) = (0, 0);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let now = app::clock::now_ms();
        let mut touched = std::collections::BTreeMap::<i64, i64>::new();
        for (account, _) in &batch {
            *touched.entry(*account).or_default() += 1;
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await.expect("begin");
        let rows = vec!["(?, ?)"; touched.len()].join(", ");
        let update = format!(
            "WITH spent(id, n) AS (VALUES {rows}) \
             UPDATE balances SET available = available - spent.n FROM spent \
             WHERE balances.id = spent.id AND balances.available >= spent.n"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(update));
        for (account, n) in &touched {
            query = query.bind(account).bind(n);
        }
        let updated = query
            .execute(&mut *tx)
            .await
            .expect("update")
            .rows_affected();
        assert_eq!(
            updated as usize,
            touched.len(),
            "the ceiling's accounts ran dry"
        );
        let insert = format!(
            "INSERT INTO entries (account_id, amount, created_at) VALUES {}",
            vec!["(?, -1, ?)"; batch.len()].join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(insert));
        for (account, _) in &batch {
            query = query.bind(account).bind(now);
        }
        query.execute(&mut *tx).await.expect("insert");
        tx.commit().await.expect("commit");
        batches += 1;
        ops += batch.len() as u64;
        for (_, reply) in batch.drain(..) {
            let _ = reply.send(true);
        }
    }
    (batches, ops)
}
