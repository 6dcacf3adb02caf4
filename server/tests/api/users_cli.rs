//! `server user add|passwd|list` and `server company add`: called directly with a password
//! on a fake standard input, and through the built binary to check what an operator sees:
//! the exit status, stdout and the message on stderr.

use app::auth::password;
use server::cli::{CliError, Command, CompanyCommand, UserCommand, run};
use std::io::Write;
use std::process::Stdio;

const GOOD: &str = "violet ferry 42 pebbles";

/// A migrated database with no company and no user, as a real business starts.
async fn empty_db() -> String {
    let (pool, url) = app::db::scratch("cli-users").await.expect("fresh database");
    pool.close().await;
    url
}

/// The demo database: two companies, admin and demo.
async fn demo_db() -> String {
    let (pool, url) = app::db::scratch("cli-users").await.expect("fresh database");
    app::seed::seed_if_empty(&pool).await.expect("seed");
    pool.close().await;
    url
}

fn add(login: &str, name: &str, admin: bool, companies: &[&str]) -> Command {
    Command::User {
        command: UserCommand::Add {
            login: login.into(),
            name: name.into(),
            admin,
            companies: companies.iter().map(|c| (*c).to_owned()).collect(),
        },
    }
}

fn passwd(login: &str) -> Command {
    Command::User {
        command: UserCommand::Passwd {
            login: login.into(),
        },
    }
}

fn company(name: &str) -> Command {
    Command::Company {
        command: CompanyCommand::Add { name: name.into() },
    }
}

/// Runs `command` with `stdin` as standard input; stdout, or the error's message.
async fn exec(command: &Command, url: &str, stdin: &str) -> Result<String, String> {
    let mut out = Vec::new();
    match run(command, url, &mut stdin.as_bytes(), &mut out).await {
        Ok(()) => Ok(String::from_utf8(out).expect("utf-8")),
        Err(CliError::Invalid(message)) => Err(message),
        Err(other) => panic!("not a refusal: {other}"),
    }
}

async fn list(url: &str) -> Vec<Vec<String>> {
    let listing = exec(
        &Command::User {
            command: UserCommand::List,
        },
        url,
        "",
    )
    .await
    .expect("list");
    listing
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

async fn stored_hash(url: &str, login: &str) -> Option<String> {
    let pool = app::db::connect(url).await.expect("db");
    let hash = sqlx::query_scalar("SELECT password_hash FROM users WHERE login = $1")
        .bind(login)
        .fetch_optional(&pool)
        .await
        .expect("query");
    pool.close().await;
    hash
}

#[tokio::test]
async fn user_add_reads_one_line_of_stdin_and_the_user_can_log_in_with_it() {
    let url = demo_db().await;
    let out = exec(
        &add("jdoe", "Jane Doe", false, &["My Company (Chicago)"]),
        &url,
        &format!("{GOOD}\r\nignored second line\n"),
    )
    .await
    .expect("added");
    assert_eq!(out, "", "nothing on stdout");
    let hash = stored_hash(&url, "jdoe").await.expect("jdoe");
    assert!(
        password::verify(&hash, GOOD),
        "the line ending is not part of it"
    );
    let rows = list(&url).await;
    assert_eq!(rows[0], ["login", "name", "role", "companies", "active"]);
    let jane = rows.iter().find(|r| r[0] == "jdoe").expect("listed");
    assert_eq!(
        jane[1..],
        ["Jane Doe", "user", "My Company (Chicago)", "yes"]
    );
    let admin = rows.iter().find(|r| r[0] == "admin").expect("listed");
    assert_eq!(
        admin[1..],
        [
            "Mitchell Admin",
            "administrator",
            "My Company (Chicago), My Company (San Francisco)",
            "yes"
        ]
    );

    // Several companies, by name whatever the case; the first is where they start.
    exec(
        &add(
            "boss",
            "Big Boss",
            true,
            &["my company (san francisco)", "My Company (Chicago)"],
        ),
        &url,
        GOOD,
    )
    .await
    .expect("added without a final newline");
    let rows = list(&url).await;
    let boss = rows.iter().find(|r| r[0] == "boss").expect("listed");
    assert_eq!(boss[2], "administrator");
    let pool = app::db::connect(&url).await.expect("db");
    let default: String = sqlx::query_scalar(
        "SELECT c.name FROM users u JOIN companies c ON c.id = u.default_company_id
         WHERE u.login = 'boss'",
    )
    .fetch_one(&pool)
    .await
    .expect("default company");
    assert_eq!(default, "My Company (San Francisco)");
}

#[tokio::test]
async fn user_add_refuses_bad_input_with_a_clear_message_and_adds_nobody() {
    let url = demo_db().await;
    let cases: Vec<(Command, &str, &str)> = vec![
        (
            add("jdoe", "Jane", false, &["Umbrella Corp"]),
            GOOD,
            "There is no company named “Umbrella Corp”.",
        ),
        (
            add("jdoe", "Jane", false, &[]),
            GOOD,
            "There are 2 companies: choose the user's companies with --company.",
        ),
        (
            add("jdoe", "Jane", false, &["My Company (Chicago)"]),
            "",
            "Give the password on standard input, on one line.",
        ),
        (
            add("jdoe", "Jane", false, &["My Company (Chicago)"]),
            "\n",
            "Give the password on standard input, on one line.",
        ),
        (
            add("jdoe", "Jane", false, &["My Company (Chicago)"]),
            "short\n",
            "password: Use at least 10 characters; a few words make a good password.",
        ),
        (
            add("jdoe", "Jane", false, &["My Company (Chicago)"]),
            "Password123\n",
            "password: This password is among the most common ones, which attackers try first. Choose another.",
        ),
        (
            add("jane doe", "Jane", false, &["My Company (Chicago)"]),
            GOOD,
            "LOGIN: A login has 1 to 64 characters and no spaces, such as jane or jane@example.com.",
        ),
        (
            add("jdoe", " ", false, &["My Company (Chicago)"]),
            GOOD,
            "--name: This field is required.",
        ),
        (
            add("DEMO", "Jane", false, &["My Company (Chicago)"]),
            GOOD,
            "LOGIN: The login “DEMO” is already taken.",
        ),
    ];
    for (command, stdin, message) in cases {
        assert_eq!(
            exec(&command, &url, stdin).await,
            Err(message.to_owned()),
            "{command:?}"
        );
    }
    assert_eq!(list(&url).await.len(), 3, "header, admin and demo only");
}

#[tokio::test]
async fn without_company_the_only_one_is_used_and_with_none_the_operator_is_told_to_create_one() {
    let url = empty_db().await;
    assert_eq!(
        exec(&add("owner", "Olivia Owner", true, &[]), &url, GOOD).await,
        Err("There is no company yet: create one with server company add NAME.".to_owned())
    );
    exec(&company("  Acme Ltd "), &url, "")
        .await
        .expect("company");
    exec(&add("owner", "Olivia Owner", true, &[]), &url, GOOD)
        .await
        .expect("the only company");
    let rows = list(&url).await;
    assert_eq!(
        rows[1],
        ["owner", "Olivia Owner", "administrator", "Acme Ltd", "yes"]
    );
}

#[tokio::test]
async fn company_add_refuses_duplicates_whatever_their_case_and_empty_names() {
    let url = empty_db().await;
    exec(&company("Acme Ltd"), &url, "").await.expect("company");
    assert_eq!(
        exec(&company("ACME LTD"), &url, "").await,
        Err("A company named “Acme Ltd” already exists.".to_owned())
    );
    assert_eq!(
        exec(&company("  "), &url, "").await,
        Err("NAME: This field is required.".to_owned())
    );
    assert!(exec(&company(&"a".repeat(129)), &url, "").await.is_err());
    let pool = app::db::connect(&url).await.expect("db");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM companies")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn user_passwd_sets_the_password_from_stdin_and_ends_the_users_sessions() {
    let url = demo_db().await;
    let pool = app::db::connect(&url).await.expect("db");
    let demo: i64 = sqlx::query_scalar("SELECT id FROM users WHERE login = 'demo'")
        .fetch_one(&pool)
        .await
        .expect("demo");
    let mut conn = pool.acquire().await.expect("conn");
    app::db::sessions::insert(
        &mut conn,
        app::db::sessions::NewSession {
            token_hash: "a-session-of-demo",
            user_id: demo,
            company_id: 1,
            now: 0,
            expires_at: i64::MAX,
        },
    )
    .await
    .expect("session");
    drop(conn);

    exec(&passwd("Demo"), &url, &format!("{GOOD}\n"))
        .await
        .expect("set");
    let hash = stored_hash(&url, "demo").await.expect("demo");
    assert!(password::verify(&hash, GOOD));
    assert!(!password::verify(&hash, "demo"));
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
        .bind(demo)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(sessions, 0);

    assert_eq!(
        exec(&passwd("nobody"), &url, GOOD).await,
        Err("There is no user with the login “nobody”.".to_owned())
    );
    assert_eq!(
        exec(&passwd("demo"), &url, "demo\n").await,
        Err("password: Use at least 10 characters; a few words make a good password.".to_owned())
    );
    assert_eq!(
        exec(&passwd("demo"), &url, "").await,
        Err("Give the password on standard input, on one line.".to_owned())
    );
    assert_eq!(
        stored_hash(&url, "demo").await,
        Some(hash),
        "refusals change nothing"
    );
}

/// Runs the built binary with `args` against `url`, writing `stdin` to it.
fn binary(url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the server binary");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("output")
}

#[test]
fn the_binary_exits_non_zero_with_a_message_on_every_refusal() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = runtime.block_on(empty_db());
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let no_company = binary(
        &url,
        &["user", "add", "owner", "--name", "Olivia", "--admin"],
        GOOD,
    );
    assert!(!no_company.status.success());
    assert!(
        stderr(&no_company).contains("There is no company yet"),
        "{}",
        stderr(&no_company)
    );

    let done = binary(&url, &["company", "add", "Acme Ltd"], "");
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(done.stdout.is_empty());
    let taken = binary(&url, &["company", "add", "acme ltd"], "");
    assert!(!taken.status.success());
    assert!(stderr(&taken).contains("already exists"));

    let weak = binary(
        &url,
        &["user", "add", "owner", "--name", "Olivia", "--admin"],
        "admin\n",
    );
    assert!(!weak.status.success());
    assert!(
        stderr(&weak).contains("password: Use at least 10 characters"),
        "{}",
        stderr(&weak)
    );
    let added = binary(
        &url,
        &["user", "add", "owner", "--name", "Olivia Owner", "--admin"],
        &format!("{GOOD}\n"),
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(
        !stderr(&added).contains(GOOD),
        "the password is never logged"
    );

    let unknown = binary(&url, &["user", "passwd", "nobody"], &format!("{GOOD}\n"));
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("There is no user with the login “nobody”."));
    let changed = binary(&url, &["user", "passwd", "owner"], "another strong one\n");
    assert!(changed.status.success(), "{}", stderr(&changed));
    assert!(
        runtime
            .block_on(stored_hash(&url, "owner"))
            .is_some_and(|h| password::verify(&h, "another strong one"))
    );

    let listed = binary(&url, &["user", "list"], "");
    assert!(listed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        "login\tname\trole\tcompanies\tactive\nowner\tOlivia Owner\tadministrator\tAcme Ltd\tyes\n"
    );
    // A password is never an argument.
    let argv = binary(
        &url,
        &["user", "add", "eve", "--name", "Eve", "--password", GOOD],
        "",
    );
    assert!(!argv.status.success());
}

#[test]
fn a_server_without_an_administrator_logs_how_to_create_one() {
    use std::io::BufRead;
    use std::time::{Duration, Instant};
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = runtime.block_on(empty_db());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATABASE_URL", &url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env_remove("PAYMENT_PROVIDER")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut log = Vec::new();
    while Instant::now() < deadline {
        match received.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let listening = line.contains("listening on");
                log.push(line);
                if listening {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let hints: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("no administrator can log in"))
        .collect();
    assert_eq!(hints.len(), 1, "{log:#?}");
    assert!(hints[0].contains("server company add"), "{}", hints[0]);
    assert!(
        hints[0].contains(r#"server user add LOGIN --name "Full Name" --admin"#),
        "{}",
        hints[0]
    );
}
