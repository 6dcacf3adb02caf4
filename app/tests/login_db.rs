//! Signing in against a real SQLite database: the throttle counts an attempt before the
//! password is checked, so parallel guesses cannot slip past it, and only a few Argon2
//! checks run at once.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use app::auth::login::{Guards, login};
use app::domain::throttle::{MAX_CLIENT_FAILURES, MAX_FAILURES, Throttle};
use app::error::AppError;
use sqlx::AnyPool;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

struct Fixture {
    pool: AnyPool,
    throttle: Arc<Mutex<Throttle>>,
    slots: Arc<Semaphore>,
}

impl Fixture {
    async fn new(slots: usize) -> Self {
        let (pool, _) = app::db::scratch("login-test").await.unwrap();
        app::seed::seed_if_empty(&pool).await.unwrap();
        Fixture {
            pool,
            throttle: Arc::new(Mutex::new(Throttle::default())),
            slots: Arc::new(Semaphore::new(slots)),
        }
    }

    async fn try_login(&self, user: &str, password: &str, client: &str) -> Result<(), AppError> {
        let guards = Guards {
            throttle: &self.throttle,
            slots: &self.slots,
        };
        login(
            &self.pool,
            guards,
            user,
            password.into(),
            Some(client),
            None,
        )
        .await
        .map(|_| ())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_are_counted_before_any_is_checked() {
    let f = Arc::new(Fixture::new(64).await);
    let attempts: Vec<_> = (0..30)
        .map(|_| {
            let f = f.clone();
            tokio::spawn(async move { f.try_login("admin", "wrong", "10.0.0.66").await })
        })
        .collect();
    let mut checked = 0;
    let mut throttled = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Err(AppError::BadCredentials) => checked += 1,
            Err(AppError::TooManyAttempts) => throttled += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        checked, MAX_FAILURES,
        "only the allowed attempts reach Argon2"
    );
    assert_eq!(throttled, 30 - MAX_FAILURES);
    // The attacker's client stays blocked, even with the right password ...
    assert_eq!(
        f.try_login("admin", "admin", "10.0.0.66").await,
        Err(AppError::TooManyAttempts)
    );
    // ... but the real admin, elsewhere, is not locked out.
    f.try_login("admin", "admin", "192.0.2.1").await.unwrap();
}

#[tokio::test]
async fn one_client_guessing_many_logins_is_stopped_by_its_own_limit() {
    let f = Fixture::new(8).await;
    let mut refused = 0;
    for i in 0..MAX_CLIENT_FAILURES + 5 {
        match f.try_login(&format!("user{i}"), "wrong", "10.0.0.7").await {
            Err(AppError::BadCredentials) => {}
            Err(AppError::TooManyAttempts) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(refused, 5);
    f.try_login("demo", "demo", "10.0.0.8").await.unwrap();
}

#[tokio::test]
async fn with_every_check_slot_taken_a_login_is_refused_at_once_as_busy() {
    let f = Fixture::new(1).await;
    let held = f.slots.clone().acquire_owned().await.unwrap();
    let busy = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        f.try_login("admin", "admin", "10.0.0.9"),
    )
    .await
    .expect("answered at once, not queued");
    assert_eq!(busy, Err(AppError::Busy));
    drop(held);
    f.try_login("admin", "admin", "10.0.0.9").await.unwrap();
}

#[tokio::test]
async fn a_success_clears_the_count_of_earlier_failures() {
    let f = Fixture::new(8).await;
    for _ in 0..MAX_FAILURES - 1 {
        assert_eq!(
            f.try_login("demo", "wrong", "10.0.0.5").await,
            Err(AppError::BadCredentials)
        );
    }
    f.try_login("demo", "demo", "10.0.0.5").await.unwrap();
    for _ in 0..MAX_FAILURES - 1 {
        assert_eq!(
            f.try_login("demo", "wrong", "10.0.0.5").await,
            Err(AppError::BadCredentials)
        );
    }
    f.try_login("demo", "demo", "10.0.0.5").await.unwrap();
}
