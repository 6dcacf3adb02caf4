//! The operator subcommands, against a temporary database: called directly, and once
//! through the built binary to check what a script sees on stdout.

use app::auth::service_key::key_hash;
use server::cli::{Command, run};

async fn temp_db() -> String {
    let (pool, url) = app::db::scratch("cli-test").await.expect("fresh database");
    app::seed::seed_if_empty(&pool).await.expect("seed");
    let mut tasks = app::tasks::Tasks::new();
    let ledger = app::ledger::Ledger::start(&pool, app::clock::system_clock(), "", &mut tasks)
        .await
        .expect("ledger");
    app::seed::open_accounts(&pool, &ledger)
        .await
        .expect("accounts");
    tasks.shutdown(std::time::Duration::from_secs(5)).await;
    pool.close().await;
    url
}

async fn output(command: Command, url: &str) -> String {
    let mut out = Vec::new();
    run(&command, url, &mut std::io::empty(), &mut out)
        .await
        .expect("command");
    String::from_utf8(out).expect("utf-8")
}

async fn stored_hash(url: &str, service: &str) -> Option<String> {
    let pool = app::db::connect(url).await.expect("db");
    let hash = sqlx::query_scalar("SELECT key_hash FROM services WHERE technical_name = $1")
        .bind(service)
        .fetch_one(&pool)
        .await
        .expect("service");
    pool.close().await;
    hash
}

#[tokio::test]
async fn service_key_prints_a_key_once_stores_only_its_hash_and_rotates() {
    let url = temp_db().await;
    let service = || Command::ServiceKey {
        service: "sms".into(),
    };
    let first = output(service(), &url).await;
    let first = first.trim();
    assert_eq!(first.len(), 43);
    assert_eq!(stored_hash(&url, "sms").await, Some(key_hash(first)));
    let second = output(service(), &url).await;
    assert_ne!(second.trim(), first);
    assert_eq!(
        stored_hash(&url, "sms").await,
        Some(key_hash(second.trim()))
    );

    let mut out = Vec::new();
    let unknown = Command::ServiceKey {
        service: "nope".into(),
    };
    assert!(
        run(&unknown, &url, &mut std::io::empty(), &mut out)
            .await
            .is_err()
    );
    assert!(out.is_empty());
}

#[tokio::test]
async fn accounts_lists_service_companies_token_and_balance() {
    let url = temp_db().await;
    let listing = output(Command::Accounts, &url).await;
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines[0], "service\tcompanies\ttoken\tbalance");
    assert_eq!(lines.len(), 7, "{listing}");
    let sms: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with("sms\t"))
        .expect("sms")
        .split('\t')
        .collect();
    assert_eq!(sms[1], "*");
    assert!(sms[2].len() >= 22);
    assert_eq!(sms[3], "10");
}

#[tokio::test]
async fn adjust_changes_the_balance_with_a_reason_and_refuses_without_one() {
    let url = temp_db().await;
    let listing = output(Command::Accounts, &url).await;
    let token = listing
        .lines()
        .find(|l| l.starts_with("sms\t"))
        .and_then(|l| l.split('\t').nth(2))
        .expect("token")
        .to_owned();
    let adjust = |amount: &str, reason: &str| Command::Adjust {
        token: token.clone(),
        amount: amount.into(),
        reason: reason.into(),
    };
    assert_eq!(
        output(adjust("-2.5", "refund a test"), &url).await.trim(),
        "7.5"
    );
    let mut out = Vec::new();
    assert!(
        run(&adjust("1", "  "), &url, &mut std::io::empty(), &mut out)
            .await
            .is_err()
    );
    assert!(
        run(
            &adjust("1.00001", "why"),
            &url,
            &mut std::io::empty(),
            &mut out
        )
        .await
        .is_err()
    );
    assert!(
        run(
            &adjust("-100", "too much"),
            &url,
            &mut std::io::empty(),
            &mut out
        )
        .await
        .is_err()
    );
    let pool = app::db::connect(&url).await.expect("db");
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT description FROM ledger_entries WHERE kind = 'adjustment' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("entries");
    assert_eq!(reasons, vec!["refund a test".to_owned()]);
    let mut conn = pool.acquire().await.expect("conn");
    assert!(
        app::db::ledger::check(&mut conn)
            .await
            .expect("check")
            .is_empty()
    );
}

#[test]
fn the_binary_prints_only_the_key_on_stdout() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = runtime.block_on(temp_db());
    let done = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["service-key", "snailmail"])
        .env("DATABASE_URL", &url)
        .output()
        .expect("run the server binary");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let stdout = String::from_utf8(done.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let key = stdout.trim();
    assert_eq!(
        runtime.block_on(stored_hash(&url, "snailmail")),
        Some(key_hash(key))
    );
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["adjust", "--token", "x", "--amount", "1"])
        .env("DATABASE_URL", &url)
        .output()
        .expect("run");
    assert!(!refused.status.success(), "a reason is mandatory");
}
