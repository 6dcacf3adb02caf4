//! Settings → Users, Change password and the login page's demo hint, over HTTP: every
//! server function for anonymous callers, plain users and administrators, bad inputs, and
//! the sessions that deactivation and password changes end.

use crate::helpers::{Reply, TestApp, spawn_app, spawn_app_from, test_config};
use app::error::AppError;
use app::i18n::Msg;
use app::models::{SessionInfo, UserForm, UserSummary};
use http::StatusCode;

/// A form as the browser sends it.
type Form = Vec<(&'static str, String)>;

/// A strong password for tests.
const GOOD: &str = "violet ferry 42 pebbles";

async fn call(app: &TestApp, endpoint: &str, form: &[(&str, String)], cookie: &str) -> Reply {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.call(endpoint, &form, Some(cookie)).await
}

async fn company(app: &TestApp, like: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM companies WHERE name LIKE $1")
        .bind(format!("%{like}%"))
        .fetch_one(&app.pool)
        .await
        .expect("company")
}

async fn user_id(app: &TestApp, login: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
        .bind(login)
        .fetch_one(&app.pool)
        .await
        .expect("user")
}

async fn sessions_of(app: &TestApp, login: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login = $1",
    )
    .bind(login)
    .fetch_one(&app.pool)
    .await
    .expect("count")
}

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

fn new_user(login: &str, name: &str, role: &str, companies: &[i64], password: &str) -> Form {
    let mut form = vec![
        ("login", login.to_owned()),
        ("name", name.to_owned()),
        ("role", role.to_owned()),
        ("password", password.to_owned()),
    ];
    let keys = ["companies[0]", "companies[1]", "companies[2]"];
    for (key, id) in keys.iter().zip(companies) {
        form.push((key, id.to_string()));
    }
    form
}

fn edit(id: i64, name: &str, role: &str, companies: &[i64], active: bool) -> Form {
    let mut form = vec![
        ("id", id.to_string()),
        ("name", name.to_owned()),
        ("role", role.to_owned()),
        ("active", active.to_string()),
    ];
    let keys = ["companies[0]", "companies[1]", "companies[2]"];
    for (key, id) in keys.iter().zip(companies) {
        form.push((key, id.to_string()));
    }
    form
}

/// The field and message of a validation error.
fn refusal(reply: &Reply) -> (String, Msg) {
    match reply.app_error() {
        AppError::Validation(e) => (e.field, e.message),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn ok(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn session(app: &TestApp, cookie: &str) -> Option<SessionInfo> {
    let reply = app.call("session", &[], Some(cookie)).await;
    serde_json::from_str(&reply.body).expect("session info")
}

/// Whether `cookie` still opens a page (a dead session is sent to the login page).
async fn signed_in(app: &TestApp, cookie: &str) -> bool {
    app.get("/contacts", Some(cookie)).await.status == StatusCode::OK
}

#[tokio::test]
async fn user_administration_is_refused_to_anonymous_callers_and_plain_users() {
    let app = spawn_app().await;
    let demo_id = user_id(&app, "demo").await.to_string();
    let sf = company(&app, "San Francisco").await;
    let calls: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("users/list", vec![]),
        ("users/form", vec![]),
        ("users/form", vec![("id", demo_id.clone())]),
        (
            "users/create",
            new_user("eve", "Eve", "administrator", &[sf], GOOD),
        ),
        (
            "users/update",
            edit(1, "Mitchell Admin", "user", &[sf], false),
        ),
        (
            "users/set_password",
            vec![("id", "1".into()), ("password", GOOD.into())],
        ),
    ];
    let demo = app.login("demo", "demo").await;
    for (endpoint, form) in &calls {
        let form_ref: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let anonymous = app.call(endpoint, &form_ref, None).await;
        assert_eq!(
            anonymous.app_error(),
            AppError::Unauthenticated,
            "{endpoint}"
        );
        let user = app.call(endpoint, &form_ref, Some(&demo)).await;
        assert_eq!(user.app_error(), AppError::Forbidden, "{endpoint}");
    }
    let change = [
        ("current_password", "demo"),
        ("new_password", GOOD),
        ("confirm_password", GOOD),
    ];
    assert_eq!(
        app.call("users/change_password", &change, None)
            .await
            .app_error(),
        AppError::Unauthenticated
    );
    // Nothing changed: eve does not exist, admin is still an active administrator.
    assert_eq!(user_count(&app).await, 2);
    let admin = app.login("admin", "admin").await;
    for path in [
        "/settings/users",
        "/settings/users/new",
        &format!("/settings/users/{demo_id}"),
    ] {
        assert_eq!(
            app.get(path, None).await.status,
            StatusCode::SEE_OTHER,
            "{path}"
        );
        assert_eq!(
            app.get(path, Some(&demo)).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            app.get(path, Some(&admin)).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_administrator_lists_users_with_their_role_companies_and_state() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let reply = app.call("users/list", &[], Some(&admin)).await;
    ok(&reply);
    let users: Vec<UserSummary> = serde_json::from_str(&reply.body).expect("users");
    let logins: Vec<&str> = users.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(
        logins,
        ["demo", "admin"],
        "by name: Marc Demo, Mitchell Admin"
    );
    let admin_row = &users[1];
    assert_eq!(admin_row.role, app::domain::user::Role::Administrator);
    assert!(admin_row.active);
    assert_eq!(admin_row.companies.len(), 2);
    assert!(admin_row.last_login_at.is_some(), "admin just logged in");
    assert!(
        !reply.body.contains("argon2"),
        "no password hash on the wire"
    );

    let form = app.call("users/form", &[], Some(&admin)).await;
    let form: UserForm = serde_json::from_str(&form.body).expect("form");
    assert!(form.user.is_none());
    assert_eq!(form.companies.len(), 2);
    let missing = app.call("users/form", &[("id", "999")], Some(&admin)).await;
    assert_eq!(missing.app_error(), AppError::NotFound);
}

#[tokio::test]
async fn a_created_user_logs_in_and_works_in_their_companies_only() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let chicago = company(&app, "Chicago").await;
    let reply = call(
        &app,
        "users/create",
        &new_user(" jdoe ", " Jane Doe ", "user", &[chicago], GOOD),
        &admin,
    )
    .await;
    ok(&reply);
    let id: i64 = serde_json::from_str(&reply.body).expect("id");
    assert_eq!(id, user_id(&app, "jdoe").await, "login trimmed");

    let jane = app.login("jdoe", GOOD).await;
    let info = session(&app, &jane).await.expect("signed in");
    assert_eq!(info.user_name, "Jane Doe");
    assert!(!info.is_admin);
    assert_eq!(info.current_company_id, chicago);
    assert_eq!(info.companies.len(), 1);
    assert_eq!(
        app.get("/settings", Some(&jane)).await.status,
        StatusCode::FORBIDDEN
    );

    let reply = call(
        &app,
        "users/create",
        &new_user("boss", "Big Boss", "administrator", &[chicago], GOOD),
        &admin,
    )
    .await;
    ok(&reply);
    let boss = app.login("boss", GOOD).await;
    assert_eq!(
        app.get("/settings/users", Some(&boss)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn creating_a_user_refuses_each_bad_input_and_creates_nothing() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let sf = company(&app, "San Francisco").await;
    let cases: Vec<(Form, &str, Msg)> = vec![
        (
            new_user("", "Jane", "user", &[sf], GOOD),
            "login",
            Msg::ErrRequired,
        ),
        (
            new_user("jane doe", "Jane", "user", &[sf], GOOD),
            "login",
            Msg::ErrLogin,
        ),
        (
            new_user(&"j".repeat(65), "Jane", "user", &[sf], GOOD),
            "login",
            Msg::ErrLogin,
        ),
        (
            new_user("ADMIN", "Jane", "user", &[sf], GOOD),
            "login",
            Msg::ErrLoginTaken,
        ),
        (
            new_user("jane", " ", "user", &[sf], GOOD),
            "name",
            Msg::ErrRequired,
        ),
        (
            new_user("jane", "Jane", "user", &[], GOOD),
            "companies",
            Msg::ErrCompanyNeeded,
        ),
        (
            new_user("jane", "Jane", "user", &[sf, 999], GOOD),
            "companies",
            Msg::ErrCompanyMissing,
        ),
        (
            new_user("jane", "Jane", "user", &[sf], ""),
            "password",
            Msg::ErrRequired,
        ),
        (
            new_user("jane", "Jane", "user", &[sf], "short pw"),
            "password",
            Msg::ErrPasswordShort,
        ),
        (
            new_user("jane", "Jane", "user", &[sf], "Password123"),
            "password",
            Msg::ErrPasswordCommon,
        ),
        (
            new_user("jane.doe.1", "Jane", "user", &[sf], "JANE.DOE.1"),
            "password",
            Msg::ErrPasswordIsLogin,
        ),
    ];
    for (form, field, message) in cases {
        let reply = call(&app, "users/create", &form, &admin).await;
        assert_eq!(refusal(&reply), (field.to_owned(), message), "{form:?}");
    }
    let unknown_role = call(
        &app,
        "users/create",
        &new_user("jane", "Jane", "root", &[sf], GOOD),
        &admin,
    )
    .await;
    assert!(
        matches!(unknown_role.app_error(), AppError::BadRequest(_)),
        "{}",
        unknown_role.body
    );
    assert_eq!(user_count(&app).await, 2);
    let taken = call(
        &app,
        "users/create",
        &new_user("Demo", "Jane", "user", &[sf], GOOD),
        &admin,
    )
    .await;
    assert_eq!(
        taken.app_error().to_string(),
        "The login “Demo” is already taken."
    );
}

#[tokio::test]
async fn deactivating_a_user_ends_all_their_sessions_at_once_and_stops_their_logins() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let (first, second) = (
        app.login("demo", "demo").await,
        app.login("demo", "demo").await,
    );
    assert_eq!(sessions_of(&app, "demo").await, 2);
    let demo = user_id(&app, "demo").await;
    let sf = company(&app, "San Francisco").await;
    ok(&call(
        &app,
        "users/update",
        &edit(demo, "Marc Demo", "user", &[sf], false),
        &admin,
    )
    .await);

    assert_eq!(sessions_of(&app, "demo").await, 0);
    for cookie in [&first, &second] {
        assert!(!signed_in(&app, cookie).await);
        let reply = app
            .call("contacts/list", &[("search", "")], Some(cookie))
            .await;
        assert_eq!(reply.app_error(), AppError::Unauthenticated);
    }
    let login = app
        .call("login", &[("login", "demo"), ("password", "demo")], None)
        .await;
    assert_eq!(
        login.app_error(),
        AppError::BadCredentials,
        "same answer as a wrong password"
    );
    assert!(
        signed_in(&app, &admin).await,
        "the administrator's session is untouched"
    );

    let overview = app.call("settings/overview", &[], Some(&admin)).await;
    assert_eq!(
        overview.body, r#"{"companies":2,"users":1}"#,
        "active users only"
    );

    // Reactivated, they log in again.
    ok(&call(
        &app,
        "users/update",
        &edit(demo, "Marc Demo", "user", &[sf], true),
        &admin,
    )
    .await);
    app.login("demo", "demo").await;
}

#[tokio::test]
async fn an_edit_changes_name_role_and_companies_and_the_open_sessions_follow() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo_cookie = app.login("demo", "demo").await;
    let demo = user_id(&app, "demo").await;
    let (sf, chicago) = (
        company(&app, "San Francisco").await,
        company(&app, "Chicago").await,
    );
    assert_eq!(
        session(&app, &demo_cookie)
            .await
            .map(|s| s.current_company_id),
        Some(sf)
    );

    ok(&call(
        &app,
        "users/update",
        &edit(demo, " Marc Demo Jr ", "administrator", &[chicago], true),
        &admin,
    )
    .await);
    let info = session(&app, &demo_cookie).await.expect("still signed in");
    assert_eq!(info.user_name, "Marc Demo Jr");
    assert!(info.is_admin);
    assert_eq!(
        info.current_company_id, chicago,
        "San Francisco was taken away"
    );
    assert_eq!(info.active_company_ids, vec![chicago]);
    assert_eq!(
        app.get("/settings", Some(&demo_cookie)).await.status,
        StatusCode::OK
    );

    let form = app
        .call("users/form", &[("id", &demo.to_string())], Some(&admin))
        .await;
    let form: UserForm = serde_json::from_str(&form.body).expect("form");
    let user = form.user.expect("user");
    assert_eq!(
        user.companies.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![chicago]
    );

    // Demoted again: Settings is refused at once.
    ok(&call(
        &app,
        "users/update",
        &edit(demo, "Marc Demo", "user", &[chicago], true),
        &admin,
    )
    .await);
    assert_eq!(
        app.get("/settings", Some(&demo_cookie)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_edit_refuses_bad_inputs_and_unknown_users_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let demo = user_id(&app, "demo").await;
    let sf = company(&app, "San Francisco").await;
    let cases: Vec<(Form, &str, Msg)> = vec![
        (
            edit(demo, "", "user", &[sf], true),
            "name",
            Msg::ErrRequired,
        ),
        (
            edit(demo, &"n".repeat(129), "user", &[sf], true),
            "name",
            Msg::ErrTooLong,
        ),
        (
            edit(demo, "Marc", "user", &[], true),
            "companies",
            Msg::ErrCompanyNeeded,
        ),
        (
            edit(demo, "Marc", "user", &[999], true),
            "companies",
            Msg::ErrCompanyMissing,
        ),
    ];
    for (form, field, message) in cases {
        let reply = call(&app, "users/update", &form, &admin).await;
        assert_eq!(refusal(&reply), (field.to_owned(), message), "{form:?}");
    }
    let missing = call(
        &app,
        "users/update",
        &edit(999, "Ghost", "user", &[sf], true),
        &admin,
    )
    .await;
    assert_eq!(missing.app_error(), AppError::NotFound);
    let name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
        .bind(demo)
        .fetch_one(&app.pool)
        .await
        .expect("name");
    assert_eq!(name, "Marc Demo");
}

#[tokio::test]
async fn administrators_cannot_demote_or_deactivate_themselves() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let me = user_id(&app, "admin").await;
    let sf = company(&app, "San Francisco").await;
    let demote = call(
        &app,
        "users/update",
        &edit(me, "Mitchell Admin", "user", &[sf], true),
        &admin,
    )
    .await;
    assert_eq!(refusal(&demote), ("role".into(), Msg::ErrDemoteSelf));
    assert_eq!(
        demote.app_error().to_string(),
        "You cannot remove your own administrator role; ask another administrator."
    );
    let deactivate = call(
        &app,
        "users/update",
        &edit(me, "Mitchell Admin", "administrator", &[sf], false),
        &admin,
    )
    .await;
    assert_eq!(
        refusal(&deactivate),
        ("active".into(), Msg::ErrDeactivateSelf)
    );
    assert!(signed_in(&app, &admin).await);
    // Renaming themselves is fine.
    ok(&call(
        &app,
        "users/update",
        &edit(me, "Mitchell", "administrator", &[sf], true),
        &admin,
    )
    .await);

    // With a second administrator, each may demote the other, which leaves one.
    ok(&call(
        &app,
        "users/create",
        &new_user("boss", "Boss", "administrator", &[sf], GOOD),
        &admin,
    )
    .await);
    let boss = app.login("boss", GOOD).await;
    ok(&call(
        &app,
        "users/update",
        &edit(me, "Mitchell", "user", &[sf], true),
        &boss,
    )
    .await);
    let demoted = call(&app, "users/list", &[], &admin).await;
    assert_eq!(
        demoted.app_error(),
        AppError::Forbidden,
        "admin is a user now"
    );
}

#[tokio::test]
async fn setting_a_password_applies_the_policy_and_ends_the_users_sessions() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let other_admin_session = app.login("admin", "admin").await;
    let demo_cookie = app.login("demo", "demo").await;
    let demo = user_id(&app, "demo").await.to_string();
    let set =
        |id: &str, password: &str| vec![("id", id.to_owned()), ("password", password.to_owned())];
    for (password, message) in [
        ("", Msg::ErrRequired),
        ("123456789", Msg::ErrPasswordShort),
        ("qwertyuiop", Msg::ErrPasswordCommon),
        ("DEMO", Msg::ErrPasswordShort),
    ] {
        let reply = call(&app, "users/set_password", &set(&demo, password), &admin).await;
        assert_eq!(refusal(&reply), ("password".into(), message), "{password}");
    }
    assert!(
        signed_in(&app, &demo_cookie).await,
        "refusals change nothing"
    );
    let missing = call(&app, "users/set_password", &set("999", GOOD), &admin).await;
    assert_eq!(missing.app_error(), AppError::NotFound);

    ok(&call(&app, "users/set_password", &set(&demo, GOOD), &admin).await);
    assert!(!signed_in(&app, &demo_cookie).await);
    let old = app
        .call("login", &[("login", "demo"), ("password", "demo")], None)
        .await;
    assert_eq!(old.app_error(), AppError::BadCredentials);
    app.login("demo", GOOD).await;

    // An administrator setting their own password here keeps the session they used.
    let me = user_id(&app, "admin").await.to_string();
    ok(&call(
        &app,
        "users/set_password",
        &set(&me, "another strong one"),
        &admin,
    )
    .await);
    assert!(signed_in(&app, &admin).await);
    assert!(!signed_in(&app, &other_admin_session).await);
}

#[tokio::test]
async fn changing_ones_password_keeps_this_session_and_ends_the_others() {
    let app = spawn_app().await;
    let here = app.login("demo", "demo").await;
    let elsewhere = app.login("demo", "demo").await;
    let admin = app.login("admin", "admin").await;
    let change = |current: &str, new: &str, confirm: &str| {
        vec![
            ("current_password", current.to_owned()),
            ("new_password", new.to_owned()),
            ("confirm_password", confirm.to_owned()),
        ]
    };
    for (form, field, message) in [
        (
            change("demo", "short", "short"),
            "new_password",
            Msg::ErrPasswordShort,
        ),
        (
            change("demo", "1q2w3e4r5t", "1q2w3e4r5t"),
            "new_password",
            Msg::ErrPasswordCommon,
        ),
        (
            change("demo", GOOD, "violet ferry"),
            "confirm_password",
            Msg::ErrPasswordMismatch,
        ),
        (
            change("wrong", GOOD, GOOD),
            "current_password",
            Msg::ErrCurrentPassword,
        ),
    ] {
        let reply = call(&app, "users/change_password", &form, &here).await;
        assert_eq!(refusal(&reply), (field.to_owned(), message));
    }
    assert!(signed_in(&app, &elsewhere).await, "refusals change nothing");

    ok(&call(
        &app,
        "users/change_password",
        &change("demo", GOOD, GOOD),
        &here,
    )
    .await);
    assert!(signed_in(&app, &here).await, "this session stays");
    assert!(!signed_in(&app, &elsewhere).await, "the others end");
    assert!(signed_in(&app, &admin).await, "other users are untouched");
    assert_eq!(sessions_of(&app, "demo").await, 1);
    let old = app
        .call("login", &[("login", "demo"), ("password", "demo")], None)
        .await;
    assert_eq!(old.app_error(), AppError::BadCredentials);
    app.login("demo", GOOD).await;
    // An administrator changes theirs the same way.
    ok(&call(
        &app,
        "users/change_password",
        &change("admin", GOOD, GOOD),
        &admin,
    )
    .await);
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_like_logins() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let form = [
        ("current_password", "guess".to_owned()),
        ("new_password", GOOD.to_owned()),
        ("confirm_password", GOOD.to_owned()),
    ];
    for _ in 0..app::domain::throttle::MAX_FAILURES {
        let reply = call(&app, "users/change_password", &form, &demo).await;
        assert_eq!(
            refusal(&reply),
            ("current_password".into(), Msg::ErrCurrentPassword)
        );
    }
    let right = [
        ("current_password", "demo".to_owned()),
        ("new_password", GOOD.to_owned()),
        ("confirm_password", GOOD.to_owned()),
    ];
    let reply = call(&app, "users/change_password", &right, &demo).await;
    assert_eq!(reply.app_error(), AppError::TooManyAttempts);
}

#[tokio::test]
async fn the_login_page_shows_the_demo_logins_only_on_a_demo_database() {
    let demo = spawn_app().await;
    assert_eq!(demo.call("login/demo", &[], None).await.body, "true");
    let page = demo.get("/login", None).await;
    assert!(
        page.body.contains("Demo logins: admin / admin"),
        "{}",
        page.body
    );

    let mut config = test_config().await;
    config.demo = false;
    // The Demo provider refuses to run on a database without demo data.
    config.payment_provider = None;
    let real = spawn_app_from(config, app::clock::system_clock()).await;
    assert_eq!(real.call("login/demo", &[], None).await.body, "false");
    let page = real.get("/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Demo logins"), "{}", page.body);
    assert_eq!(user_count(&real).await, 0);
}

#[tokio::test]
async fn a_database_without_demo_data_gets_its_administrator_from_the_command_line() {
    use server::cli::{Command, CompanyCommand, UserCommand, run};
    let mut config = test_config().await;
    config.demo = false;
    // The Demo provider refuses to run on a database without demo data.
    config.payment_provider = None;
    let url = config.database_url.clone();
    let app = spawn_app_from(config, app::clock::system_clock()).await;
    let nobody = app
        .call("login", &[("login", "admin"), ("password", "admin")], None)
        .await;
    assert_eq!(nobody.app_error(), AppError::BadCredentials);

    // While the server runs.
    let company = Command::Company {
        command: CompanyCommand::Add {
            name: "Acme Ltd".into(),
        },
    };
    run(&company, &url, &mut std::io::empty(), &mut Vec::new())
        .await
        .expect("company");
    let add = Command::User {
        command: UserCommand::Add {
            login: "owner".into(),
            name: "Olivia Owner".into(),
            admin: true,
            companies: vec![],
        },
    };
    let stdin = format!("{GOOD}\n");
    run(&add, &url, &mut stdin.as_bytes(), &mut Vec::new())
        .await
        .expect("administrator");
    let owner = app.login("owner", GOOD).await;
    assert_eq!(
        app.get("/settings/users", Some(&owner)).await.status,
        StatusCode::OK
    );
    let info = session(&app, &owner).await.expect("signed in");
    assert_eq!(info.companies.len(), 1);
    assert_eq!(info.companies[0].name, "Acme Ltd");
}
