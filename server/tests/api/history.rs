//! Account Information beyond Odoo (issue 17): the history's filters, its CSV export, the
//! consumption chart's data and the balance at a past moment, over the real router.

use crate::helpers::{TestApp, spawn_app, spawn_app_with_clock};
use app::clock::ManualClock;
use app::domain::credits::Credits;
use app::domain::time::{DAY, HOUR, Timestamp};
use app::domain::usage::Period;
use app::error::AppError;
use app::models::{BalanceAt, HistoryPage, IapAccount, Usage};
use axum::body::Body;
use http::{Request, StatusCode, header};

async fn sms_account(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT id FROM iap_accounts WHERE service = 'sms' ORDER BY id LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .expect("the demo's SMS account")
}

async fn adjust(app: &TestApp, admin: &str, account: i64, amount: &str, reason: &str) {
    let reply = app
        .call(
            "iap/admin/adjust",
            &[
                ("id", &account.to_string()),
                ("amount", amount),
                ("reason", reason),
            ],
            Some(admin),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

fn day(text: &str) -> i64 {
    Timestamp::parse_date(text).expect("a date").ms()
}

/// An account with three adjustments on three days of March 2026, besides its trial credits.
async fn three_days() -> (TestApp, String, i64) {
    let clock = ManualClock::at(day("2026-03-01") + 10 * HOUR);
    let app = spawn_app_with_clock(clock.clock()).await;
    let admin = app.login("admin", "admin").await;
    let account = sms_account(&app).await;
    adjust(&app, &admin, account, "5", "Top-up, by hand").await;
    clock.advance(DAY);
    adjust(&app, &admin, account, "-2", "=cmd|' /C calc'!A0").await;
    clock.advance(DAY);
    adjust(
        &app,
        &admin,
        account,
        "1.5",
        "Goodwill for the \"late\" batch",
    )
    .await;
    (app, admin, account)
}

async fn history(
    app: &TestApp,
    cookie: &str,
    account: i64,
    filter: &[(&str, &str)],
) -> Vec<String> {
    let mut form = vec![("id".to_owned(), account.to_string())];
    form.extend(
        filter
            .iter()
            .map(|(k, v)| (format!("filter[{k}]"), (*v).to_owned())),
    );
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = app.call("iap/account", &form, Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let (_, page): (IapAccount, HistoryPage) = serde_json::from_str(&reply.body).expect("page");
    page.lines
        .into_iter()
        .map(|l| l.description.plain())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_filters_by_type_dates_and_words() {
    let (app, admin, account) = three_days().await;
    let all = history(&app, &admin, account, &[]).await;
    assert_eq!(all.len(), 4, "three adjustments and the trial: {all:?}");
    assert_eq!(all[0], "Goodwill for the \"late\" batch", "newest first");

    let adjustments = history(&app, &admin, account, &[("kind", "Adjustment")]).await;
    assert_eq!(adjustments.len(), 3);
    let march_2 = day("2026-03-02").to_string();
    let one_day = history(
        &app,
        &admin,
        account,
        &[("from", &march_2), ("to", &march_2)],
    )
    .await;
    assert_eq!(one_day, ["=cmd|' /C calc'!A0"]);
    let later = history(&app, &admin, account, &[("from", &march_2)]).await;
    assert_eq!(later.len(), 2);
    // Words ignore case, and `%` or `_` are matched as themselves.
    assert_eq!(
        history(&app, &admin, account, &[("text", "LATE")])
            .await
            .len(),
        1
    );
    assert!(
        history(&app, &admin, account, &[("text", "%")])
            .await
            .is_empty()
    );
    assert!(
        history(&app, &admin, account, &[("text", "by_hand")])
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_is_the_filtered_history_as_exact_and_safe_csv() {
    let (app, admin, account) = three_days().await;
    let path = format!(
        "/iap-accounts/{account}/history.csv?kind=adjustment&from=2026-03-02&to=2026-03-03"
    );
    let reply = app.get(&path, Some(&admin)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        reply.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("iap-account-{account}-history.csv"))
    );
    let rows: Vec<&str> = reply.body.split("\r\n").collect();
    assert_eq!(rows[0], "entry,date,type,description,credits,held,reverses");
    assert_eq!(
        rows.len(),
        4,
        "header, two rows, and the final line break: {rows:?}"
    );
    let cells = |row: &str| row.splitn(3, ',').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(cells(rows[1])[1], "2026-03-03T10:00:00Z");
    assert!(
        rows[1].ends_with(",adjustment,\"Goodwill for the \"\"late\"\" batch\",1.5,0,"),
        "{}",
        rows[1]
    );
    // A description that a spreadsheet would run as a formula is written as text.
    assert!(
        rows[2].ends_with(",adjustment,\"'=cmd|' /C calc'!A0\",-2,0,"),
        "{}",
        rows[2]
    );
    assert_eq!(rows[3], "");

    // The whole history, unfiltered, has the trial too.
    let all = app
        .get(
            &format!("/iap-accounts/{account}/history.csv"),
            Some(&admin),
        )
        .await;
    assert_eq!(all.body.matches("\r\n").count(), 5);
    assert!(all.body.contains(",trial,"));
}

/// Browsers ask for compression; the body must still end properly (a stream polled past its
/// end once cut every download in Chromium).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_export_ends_properly() {
    let (app, admin, account) = three_days().await;
    for encoding in ["br", "gzip"] {
        let req = Request::get(format!("/iap-accounts/{account}/history.csv"))
            .header(header::COOKIE, &admin)
            .header(header::ACCEPT_ENCODING, encoding)
            .body(Body::empty())
            .expect("request");
        let reply = app.send(req).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.headers["content-encoding"], encoding);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_refuses_bad_filters_strangers_and_other_companies() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = app.login("demo", "demo").await;
    let account = sms_account(&app).await;
    let path = format!("/iap-accounts/{account}/history.csv");

    let bad = app
        .get(&format!("{path}?from=2026-02-30"), Some(&demo))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body, "from: Enter a date as YYYY-MM-DD.\n");
    let reversed = app
        .get(
            &format!("{path}?from=2026-03-02&to=2026-03-01"),
            Some(&demo),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let kind = app.get(&format!("{path}?kind=gift"), Some(&demo)).await;
    assert_eq!(kind.status, StatusCode::UNPROCESSABLE_ENTITY);

    let stranger = app.get(&path, None).await;
    assert!(stranger.status.is_redirection(), "{}", stranger.status);
    assert!(stranger.location().unwrap().starts_with("/login?next="));

    // Restricted to Chicago, the account is no longer demo's, and its export says so.
    let chicago: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE name LIKE '%Chicago%'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO iap_account_companies (account_id, company_id) VALUES ($1, $2)")
        .bind(account)
        .bind(chicago)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.get(&path, Some(&demo)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&path, Some(&admin)).await.status, StatusCode::OK);
    assert_eq!(
        app.get(
            &format!("/iap-accounts/{}/history.csv", account + 10_000),
            Some(&admin)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

fn resident_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_row_export_streams_in_constant_memory() {
    const ROWS: i64 = 1_000_000;
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let account = sms_account(&app).await;
    // History only: a fast path around the ledger, which the export never consults.
    let started = std::time::Instant::now();
    sqlx::query(
        "INSERT INTO ledger_entries (account_id, kind, amount, held_delta, description, created_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $3)
         SELECT $1, 'capture', -536, -536, 'SMS to +32 470 12 34 56, batch ' || i, $2 + i FROM n",
    )
    .bind(account)
    .bind(day("2026-01-01"))
    .bind(ROWS)
    .execute(&app.pool)
    .await
    .expect("a million entries");
    let inserted = started.elapsed();

    let mut reply = reqwest::Client::new()
        .get(format!(
            "{}/iap-accounts/{account}/history.csv",
            app.address
        ))
        .header("cookie", &admin)
        .send()
        .await
        .expect("export");
    assert_eq!(reply.status(), StatusCode::OK);
    let (mut bytes, mut lines, mut chunks) = (0usize, 0usize, 0usize);
    let mut warm = None;
    let mut peak = 0;
    while let Some(chunk) = reply.chunk().await.expect("a chunk") {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        chunks += 1;
        // Once a tenth is through, caches and buffers are as large as they get.
        if warm.is_none() && lines as i64 > ROWS / 10 {
            warm = Some((resident_kb(), bytes));
        } else if chunks % 64 == 0 {
            peak = peak.max(resident_kb());
        }
    }
    peak = peak.max(resident_kb());
    let (warm_kb, warm_bytes) = warm.expect("past a tenth");
    let after_warm_mb = (bytes - warm_bytes) / 1_000_000;
    let growth_mb = peak.saturating_sub(warm_kb) / 1_000;
    println!(
        "inserted in {inserted:?}, streamed in {:?}: {lines} lines, {} MB of CSV; resident {} MB once warm, {} MB at peak",
        started.elapsed() - inserted,
        bytes / 1_000_000,
        warm_kb / 1_000,
        peak / 1_000
    );
    assert_eq!(
        lines as i64,
        ROWS + 2,
        "the header, the trial and every entry"
    );
    assert!(after_warm_mb > 50, "{after_warm_mb} MB after warming up");
    assert!(
        growth_mb < 16,
        "memory grew by {growth_mb} MB while {after_warm_mb} MB of CSV streamed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_and_the_balance_at_a_moment_come_from_the_ledger() {
    let (app, admin, account) = three_days().await;
    let demo = app.login("demo", "demo").await;
    let at = |cookie: &str, text: &str| {
        let (app, cookie, text) = (&app, cookie.to_owned(), text.to_owned());
        async move {
            app.call(
                "iap/balance-at",
                &[("id", &account.to_string()), ("at", &text)],
                Some(&cookie),
            )
            .await
        }
    };
    let balance = |reply: crate::helpers::Reply| -> i64 {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        serde_json::from_str::<BalanceAt>(&reply.body)
            .expect("balance")
            .balance
            .minor()
    };
    // The demo's trial (10) and the first +5 at 10:00 on the 1st, -2 on the 2nd, +1.5 on the 3rd.
    assert_eq!(balance(at(&admin, "2026-03-01T09:59").await), 0);
    assert_eq!(balance(at(&admin, "2026-03-01T10:00").await), 150_000);
    assert_eq!(balance(at(&demo, "2026-03-02T23:59").await), 130_000);
    assert_eq!(balance(at(&demo, "2026-03-03T10:00:00").await), 145_000);
    assert_eq!(
        at(&demo, "2026-03-32T10:00").await.app_error(),
        AppError::Validation(app::domain::FieldError::new(
            "at",
            app::i18n::Msg::ErrDateTime
        ))
    );

    // The chart covers the days up to today by the wall clock: March 2026 is long gone, so
    // every day is there and at zero.
    let reply = app
        .call(
            "iap/usage",
            &[("id", &account.to_string()), ("period", "Days90")],
            Some(&demo),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let usage: Usage = serde_json::from_str(&reply.body).expect("usage");
    assert_eq!((usage.period, usage.days.len()), (Period::Days90, 90));
    assert_eq!(
        usage.days.last().map(|d| d.day),
        Some(Timestamp::from_ms(app::clock::now_ms()).day())
    );
}

/// A capture of 1.25 credits on the demo's SMS account through the IAP API; its entry.
async fn a_capture(app: &TestApp, account: i64) -> i64 {
    use crate::iap_api::{key_for, rpc, token_of};
    let key = key_for(app, "sms").await;
    let token = token_of(app, "sms").await;
    let hold = rpc(
        app,
        "/iap/1/authorize",
        serde_json::json!({"key": key, "account_token": token, "credit": 1.25}),
    )
    .await;
    let transaction = hold["result"].as_str().expect("a transaction").to_owned();
    rpc(
        app,
        "/iap/1/capture",
        serde_json::json!({"key": key, "token": transaction}),
    )
    .await;
    sqlx::query_scalar(
        "SELECT id FROM ledger_entries WHERE account_id = $1 AND kind = 'capture' ORDER BY id DESC",
    )
    .bind(account)
    .fetch_one(&app.pool)
    .await
    .expect("the capture")
}

async fn reverse(
    app: &TestApp,
    cookie: &str,
    account: i64,
    entry: i64,
    amount: &str,
) -> crate::helpers::Reply {
    app.call(
        "iap/admin/reverse",
        &[
            ("id", &account.to_string()),
            ("entry", &entry.to_string()),
            ("amount", amount),
            ("reason", "Delivered twice by the gateway"),
        ],
        Some(cookie),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_reverses_a_capture_once_and_it_shows_in_the_history_and_the_csv() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = app.login("demo", "demo").await;
    let account = sms_account(&app).await;
    let entry = a_capture(&app, account).await;

    let refused = reverse(&app, &demo, account, entry, "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let too_much = reverse(&app, &admin, account, entry, "2").await;
    assert_eq!(
        too_much.app_error().for_field("amount"),
        Some("A reversal returns at most what was captured: 1.25.".into()),
    );

    let given = |reply: crate::helpers::Reply| {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        serde_json::from_str::<Credits>(&reply.body).expect("credits")
    };
    let one = Credits::whole(1).expect("one");
    assert_eq!(given(reverse(&app, &admin, account, entry, "1").await), one);
    // A double click answers the same; another amount is refused with what was done.
    assert_eq!(given(reverse(&app, &admin, account, entry, "1").await), one);
    let other = reverse(&app, &admin, account, entry, "").await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.body);

    let form = [("id", account.to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = app.call("iap/account", &form, Some(&admin)).await;
    let (shown, page): (IapAccount, HistoryPage) = serde_json::from_str(&reply.body).expect("page");
    // 10 trial credits, 1.25 captured, 1 given back.
    assert_eq!(shown.balance.minor(), 97_500);
    let reversal = &page.lines[0];
    assert_eq!(
        (
            reversal.kind.as_str(),
            reversal.amount.minor(),
            reversal.reverses
        ),
        ("reversal", 10_000, Some(entry))
    );
    let capture = page.lines.iter().find(|l| l.id == entry).expect("capture");
    assert_eq!(capture.reversed.map(|c| c.minor()), Some(10_000));
    assert!(!capture.reversible());

    let csv = app
        .get(
            &format!("/iap-accounts/{account}/history.csv?kind=reversal"),
            Some(&admin),
        )
        .await;
    let rows: Vec<&str> = csv.body.split("\r\n").collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[1].ends_with(&format!(
            ",reversal,Delivered twice by the gateway,1,0,{entry}"
        )),
        "{}",
        rows[1]
    );
}
