//! One owner of a SQLite database's ledger: a second server on the same database is refused, an operator
//! adjustment while the server runs goes through it, and books that disagree with their
//! ledger are reported by `server check` and refused at start.

use crate::helpers::{spawn_app_from, test_config};
use http::StatusCode;
use serde_json::{Value, json};
use server::cli::{CliError, Command, run};
use server::startup::{Application, StartupError};

async fn sms_token(pool: &sqlx::AnyPool) -> String {
    sqlx::query_scalar("SELECT token FROM iap_accounts WHERE service = 'sms'")
        .fetch_one(pool)
        .await
        .expect("token")
}

async fn output(command: Command, url: &str) -> Result<String, CliError> {
    let mut out = Vec::new();
    run(&command, url, &mut std::io::empty(), &mut out).await?;
    Ok(String::from_utf8(out).expect("utf-8"))
}

async fn rpc(address: &str, path: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params});
    let reply = reqwest::Client::new()
        .post(format!("{address}{path}"))
        .json(&body)
        .send()
        .await
        .expect("answer");
    assert_eq!(reply.status(), StatusCode::OK);
    reply.json::<Value>().await.expect("JSON")
}

/// On SQLite, that is; PostgreSQL takes any number of nodes (`nodes`).
#[tokio::test]
async fn a_second_server_on_the_same_sqlite_database_refuses_to_start() {
    let config = test_config().await;
    let app = spawn_app_from(config.clone(), app::clock::system_clock()).await;
    let second = Application::build(&config).await;
    if config.database_url.starts_with("postgres") {
        assert!(second.is_ok(), "a second node starts on PostgreSQL");
        return;
    }
    match second {
        Err(StartupError::Lock(error)) => {
            assert!(error.to_string().contains("holds"), "{error}");
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a second server started on the same database"),
    }
    // The first one still serves.
    assert_eq!(app.get("/login", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_database_url_of_another_scheme_is_refused_before_anything_is_created() {
    let mut config = test_config().await;
    for url in [
        "mysql://iapd:hunter2secret@db.example/iapd",
        "data/iapd.sqlite",
        "postgres",
    ] {
        config.database_url = url.into();
        match Application::build(&config).await {
            Err(StartupError::DatabaseUrl(message)) => {
                assert!(
                    message.contains("sqlite://") && message.contains("postgres://"),
                    "{message}"
                );
                assert!(
                    !message.contains("hunter2secret"),
                    "the password shows: {message}"
                );
            }
            Err(other) => panic!("{url} refused for another reason: {other}"),
            Ok(_) => panic!("{url} served"),
        }
    }
    // The old behaviour took the URL for a file path and made folders of it.
    for folder in ["mysql:", "data/iapd.sqlite", "postgres"] {
        assert!(
            !std::path::Path::new(folder).exists(),
            "{folder} was created"
        );
    }
}

#[tokio::test]
async fn an_unreachable_postgresql_server_is_a_clear_error_without_its_password() {
    let mut config = test_config().await;
    // Port 1 on loopback: nothing listens there.
    config.database_url = "postgres://iapd:hunter2secret@127.0.0.1:1/iapd".into();
    let started = std::time::Instant::now();
    let error = match Application::build(&config).await {
        Err(error) => error.to_string(),
        Ok(_) => panic!("served without a database"),
    };
    // Refused at once: not retried until the pool's 30 s acquire timeout.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.contains("PostgreSQL") || error.contains("database"),
        "{error}"
    );
    assert!(
        !error.contains("hunter2secret"),
        "the password shows: {error}"
    );
    assert!(
        !std::path::Path::new("postgres:").exists(),
        "a folder was created"
    );
}

#[tokio::test]
async fn an_adjustment_while_the_server_runs_goes_through_it_and_the_books_stay_consistent() {
    let config = test_config().await;
    let url = config.database_url.clone();
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let token = sms_token(&app.pool).await;
    let printed = output(
        Command::Adjust {
            token: token.clone(),
            amount: "2.5".into(),
            reason: "goodwill, ticket 42".into(),
        },
        &url,
    )
    .await
    .expect("adjusted");
    assert_eq!(printed.trim(), "12.5");
    let balance = rpc(
        &app.address,
        "/iap/1/balance",
        json!({"dbuuid": "x", "account_token": token, "service_name": "sms"}),
    )
    .await;
    assert_eq!(balance["result"], json!(12.5));

    // The server's own writer goes on from the adjusted balance.
    let key = output(
        Command::ServiceKey {
            service: "sms".into(),
        },
        &url,
    )
    .await
    .expect("key");
    let hold = rpc(
        &app.address,
        "/iap/1/authorize",
        json!({"key": key.trim(), "account_token": token, "credit": 12.5}),
    )
    .await;
    let transaction = hold["result"].as_str().expect("a transaction").to_owned();
    rpc(
        &app.address,
        "/iap/1/capture",
        json!({"key": key.trim(), "token": transaction}),
    )
    .await;
    assert!(
        output(Command::Check, &url)
            .await
            .expect("consistent")
            .starts_with("consistent")
    );

    // A refused adjustment changes nothing and says why.
    let refused = output(
        Command::Adjust {
            token: token.clone(),
            amount: "-1".into(),
            reason: "more than there is".into(),
        },
        &url,
    )
    .await;
    assert!(matches!(refused, Err(CliError::Invalid(_))), "{refused:?}");
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT description FROM ledger_entries WHERE kind = 'adjustment' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("entries");
    assert_eq!(reasons, vec!["goodwill, ticket 42".to_owned()]);
}

#[tokio::test]
async fn books_that_disagree_with_their_ledger_are_reported_and_not_served() {
    let config = test_config().await;
    let url = config.database_url.clone();
    {
        // Seed the demo database, then stop the server.
        let app = spawn_app_from(config.clone(), app::clock::system_clock()).await;
        sms_token(&app.pool).await;
    }
    // Wait for the stopped server to release the database.
    let pool = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match server::owner::DatabaseLock::acquire(&url).await {
                Ok(lock) => break lock,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .expect("the server stops");
    drop(pool);
    let db = app::db::connect(&url).await.expect("db");
    sqlx::query("UPDATE iap_accounts SET balance = balance + 1 WHERE service = 'sms'")
        .execute(&db)
        .await
        .expect("tamper");
    db.close().await;

    let mut out = Vec::new();
    let checked = run(&Command::Check, &url, &mut std::io::empty(), &mut out).await;
    assert!(
        matches!(checked, Err(CliError::Inconsistent(1))),
        "{checked:?}"
    );
    let report = String::from_utf8(out).expect("utf-8");
    assert!(report.contains("10.0001\t10"), "{report}");

    match Application::build(&config).await {
        Err(StartupError::Inconsistent(accounts)) => assert!(accounts.contains("account")),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("served inconsistent books"),
    }
}
