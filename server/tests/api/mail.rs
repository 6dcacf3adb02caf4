//! Delivering the mail outbox to a real SMTP server over TCP, started inside each test: a
//! small tokio responder that speaks just enough SMTP (EHLO, MAIL, RCPT, DATA, RSET, QUIT)
//! and records what it received. It can accept, refuse the first attempts with a temporary
//! error, or never answer.

use app::db::outbox;
use app::domain::warning::WarningFacts;
use app::mail::SmtpTls;
use app::mail::worker::{self, deliver_due};
use app::mail::{MailSettings, Mailer, Smtp};
use app::tasks::Tasks;
use sqlx::AnyPool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy)]
pub(crate) enum Behaviour {
    Accept,
    /// Answers `451` to `MAIL FROM` on the first `n` connections.
    RefuseFirst(usize),
    /// Accepts the connection and never says a word.
    Silent,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Received {
    pub(crate) recipients: Vec<String>,
    pub(crate) data: String,
}

pub(crate) struct SmtpServer {
    pub(crate) port: u16,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpServer {
    pub(crate) async fn start(behaviour: Behaviour) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (count, store) = (connections.clone(), received.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let nth = count.fetch_add(1, Ordering::SeqCst);
                let store = store.clone();
                tokio::spawn(async move {
                    let refuse = matches!(behaviour, Behaviour::RefuseFirst(n) if nth < n);
                    if matches!(behaviour, Behaviour::Silent) {
                        // Keep the socket open without answering.
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        drop(socket);
                        return;
                    }
                    let _ = converse(socket, refuse, store).await;
                });
            }
        });
        SmtpServer {
            port,
            connections,
            received,
        }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    fn settings(&self, max_attempts: u32) -> MailSettings {
        MailSettings {
            smtp: Some(Smtp {
                host: "127.0.0.1".into(),
                port: self.port,
                tls: SmtpTls::None,
                username: None,
                password: None,
                timeout: Duration::from_millis(300),
            }),
            from: "iapd <iapd@example.com>".into(),
            max_attempts,
            first_retry: Duration::from_millis(40),
            max_retry: Duration::from_millis(200),
            poll: Duration::from_millis(20),
        }
    }
}

async fn converse(
    socket: TcpStream,
    refuse: bool,
    store: Arc<Mutex<Vec<Received>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 test.local ESMTP ready\r\n").await?;
    let mut current = Received::default();
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-test.local\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM") && refuse {
            b"451 4.3.0 Try again later\r\n"
        } else if upper.starts_with("MAIL FROM") {
            current = Received::default();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            current.recipients.push(line[8..].trim().to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            while let Some(data) = lines.next_line().await? {
                if data == "." {
                    break;
                }
                current
                    .data
                    .push_str(data.strip_prefix('.').unwrap_or(&data));
                current.data.push_str("\r\n");
            }
            store
                .lock()
                .expect("lock")
                .push(std::mem::take(&mut current));
            b"250 OK queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

/// Queues the warning the ledger writer would queue for an SMS account left with 3.5
/// credits under a threshold of 20.
async fn queue_warning(pool: &AnyPool) -> i64 {
    let facts = WarningFacts {
        account_id: 7,
        account_name: "SMS".into(),
        service: "sms".into(),
        service_label: "SMS".into(),
        unit_name: "Credits".into(),
        whole_number: false,
        available: 35_000,
        threshold: 200_000,
        used_last_week: 7_000,
        locale: app::i18n::Locale::En,
    };
    let recipients = vec!["ops@example.com".into(), "cfo@example.com".into()];
    let mail = app::mail::render::low_credit_warning(&facts, "https://iap.example", recipients);
    let mut conn = pool.acquire().await.expect("conn");
    outbox::insert(&mut conn, None, &mail, app::clock::now_ms())
        .await
        .expect("queue")
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    state: String,
    attempts: i64,
    last_error: Option<String>,
    sent_at: Option<i64>,
}

async fn row(pool: &AnyPool, id: i64) -> Row {
    sqlx::query_as("SELECT state, attempts, last_error, sent_at FROM mail_outbox WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("row")
}

/// Waits until mail `id` leaves the queue, or fails the test after a few seconds.
async fn settled(pool: &AnyPool, id: i64) -> Row {
    for _ in 0..300 {
        let row = row(pool, id).await;
        if row.state != "queued" {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("mail {id} is still queued: {:?}", row(pool, id).await);
}

#[tokio::test]
async fn the_warning_arrives_with_its_recipients_subject_and_both_parts() {
    let smtp = SmtpServer::start(Behaviour::Accept).await;
    let pool = app::db::scratch("mail-test")
        .await
        .expect("fresh database")
        .0;
    let id = queue_warning(&pool).await;
    let settings = smtp.settings(3);
    let mailer =
        Mailer::new(settings.smtp.as_ref().expect("smtp"), &settings.from).expect("mailer");

    assert_eq!(
        deliver_due(&pool, &mailer, &settings).await.expect("pass"),
        1
    );

    let received = smtp.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].recipients,
        ["<ops@example.com>", "<cfo@example.com>"]
    );
    // Undo quoted-printable soft line breaks before looking for text.
    let data = received[0].data.replace("=\r\n", "");
    assert!(
        data.contains("Subject: Low credits: SMS has 3.5 credits left"),
        "{data}"
    );
    assert!(data.contains("From: iapd <iapd@example.com>"), "{data}");
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(
        data.contains("Content-Type: text/plain; charset=utf-8"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/html; charset=utf-8"),
        "{data}"
    );
    assert!(
        data.contains("https://iap.example/iap-accounts/7/buy"),
        "{data}"
    );
    assert!(data.contains("20 credits"), "{data}");
    let row = row(&pool, id).await;
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 1));
    assert!(row.sent_at.is_some() && row.last_error.is_none());
    // A sent mail is never sent again.
    assert_eq!(
        deliver_due(&pool, &mailer, &settings).await.expect("pass"),
        0
    );
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn a_server_refusing_the_first_attempts_gets_the_mail_on_a_retry() {
    let smtp = SmtpServer::start(Behaviour::RefuseFirst(2)).await;
    let pool = app::db::scratch("mail-test")
        .await
        .expect("fresh database")
        .0;
    let id = queue_warning(&pool).await;
    let settings = smtp.settings(5);
    let mailer =
        Mailer::new(settings.smtp.as_ref().expect("smtp"), &settings.from).expect("mailer");

    // The first attempt is refused: the mail stays queued with the error and a later time.
    deliver_due(&pool, &mailer, &settings).await.expect("pass");
    let after_first = row(&pool, id).await;
    assert_eq!(
        (after_first.state.as_str(), after_first.attempts),
        ("queued", 1)
    );
    let error = after_first.last_error.expect("the error is kept");
    assert!(
        error.contains("451") || error.contains("Try again"),
        "{error}"
    );

    // The background worker retries with back-off until the server accepts.
    let mut tasks = Tasks::new();
    worker::start(&mut tasks, pool.clone(), settings, Some(mailer));
    let row = settled(&pool, id).await;
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 3));
    assert_eq!(smtp.connections.load(Ordering::SeqCst), 3);
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_leaves_the_mail_failed_after_the_last_attempt() {
    let smtp = SmtpServer::start(Behaviour::Silent).await;
    let pool = app::db::scratch("mail-test")
        .await
        .expect("fresh database")
        .0;
    let id = queue_warning(&pool).await;
    let settings = smtp.settings(3);
    let mailer =
        Mailer::new(settings.smtp.as_ref().expect("smtp"), &settings.from).expect("mailer");

    let mut tasks = Tasks::new();
    worker::start(&mut tasks, pool.clone(), settings, Some(mailer));
    let row = settled(&pool, id).await;
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 3));
    assert!(row.sent_at.is_none());
    let error = row.last_error.expect("the error is kept");
    assert!(!error.is_empty());
    assert_eq!(smtp.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn without_an_smtp_server_mails_stay_queued() {
    let pool = app::db::scratch("mail-test")
        .await
        .expect("fresh database")
        .0;
    let id = queue_warning(&pool).await;
    let settings = MailSettings {
        smtp: None,
        from: "iapd <iapd@example.com>".into(),
        max_attempts: 3,
        first_retry: Duration::from_millis(10),
        max_retry: Duration::from_millis(10),
        poll: Duration::from_millis(10),
    };
    let mut tasks = Tasks::new();
    let worker = worker::start(&mut tasks, pool.clone(), settings, None);
    // The worker runs: it logs the mail, and only logs it.
    tokio::time::timeout(Duration::from_secs(10), async {
        while worker.logged_up_to() < id {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the worker logs the queued mail");
    let row = row(&pool, id).await;
    assert_eq!((row.state.as_str(), row.attempts), ("queued", 0));
}
