use crate::helpers::spawn_app;
use app::error::AppError;
use app::models::{Contact, ContactDetail};
use http::StatusCode;

#[tokio::test]
async fn creating_then_editing_a_contact_persists_it_and_logs_the_change() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let created = app
        .call(
            "contacts/save",
            &[
                ("input[name]", "Ada Lovelace"),
                ("input[phone]", "+44 20 7946 0000"),
                ("input[country_code]", "GB"),
                ("input[company_name]", ""),
                ("input[email]", ""),
                ("input[mobile]", ""),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id: i64 = created.body.parse().expect("id");

    let edited = app
        .call(
            "contacts/save",
            &[
                ("id", &id.to_string()),
                ("input[name]", "Ada King"),
                ("input[phone]", "+44 20 7946 0000"),
                ("input[country_code]", "GB"),
                ("input[company_name]", ""),
                ("input[email]", "ada@example.com"),
                ("input[mobile]", ""),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);

    let detail = app
        .call("contacts/get", &[("id", &id.to_string())], Some(&admin))
        .await;
    let detail: ContactDetail = serde_json::from_str(&detail.body).expect("detail");
    assert_eq!(detail.contact.name, "Ada King");
    assert_eq!(detail.contact.email.as_deref(), Some("ada@example.com"));
    let log: Vec<String> = detail.messages.iter().map(|m| m.body.plain()).collect();
    assert_eq!(
        log,
        [
            "Email changed from “” to “ada@example.com”",
            "Name changed from “Ada Lovelace” to “Ada King”",
            "Contact created"
        ]
    );
}

#[tokio::test]
async fn an_invalid_contact_is_refused_on_its_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contacts")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    let reply = app
        .call(
            "contacts/save",
            &[
                ("input[name]", "Bad"),
                ("input[email]", "not-an-email"),
                ("input[company_name]", ""),
                ("input[phone]", ""),
                ("input[mobile]", ""),
                ("input[country_code]", ""),
            ],
            Some(&admin),
        )
        .await;
    assert!(matches!(reply.app_error(), AppError::Validation(e) if e.field == "email"));
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contacts")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_contact_restricted_to_chicago_is_invisible_to_the_san_francisco_user() {
    let app = spawn_app().await;
    let admin = app.login("admin", "admin").await;
    let chicago: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE name LIKE '%Chicago%'")
        .fetch_one(&app.pool)
        .await
        .expect("chicago");
    let created = app
        .call(
            "contacts/save",
            &[
                ("input[name]", "Chicago Only"),
                ("input[owner_company_id]", &chicago.to_string()),
                ("input[company_name]", ""),
                ("input[email]", ""),
                ("input[phone]", ""),
                ("input[mobile]", ""),
                ("input[country_code]", ""),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.body;

    let demo = app.login("demo", "demo").await;
    assert_eq!(
        app.call("contacts/get", &[("id", &id)], Some(&demo))
            .await
            .app_error(),
        AppError::NotFound
    );
    let list: Vec<Contact> = serde_json::from_str(
        &app.call("contacts/list", &[("search", "")], Some(&demo))
            .await
            .body,
    )
    .expect("list");
    assert!(list.iter().all(|c| c.name != "Chicago Only"));
    // Nor can demo edit it by id.
    let edit = app
        .call(
            "contacts/save",
            &[
                ("id", &id),
                ("input[name]", "Hijacked"),
                ("input[company_name]", ""),
                ("input[email]", ""),
                ("input[phone]", ""),
                ("input[mobile]", ""),
                ("input[country_code]", ""),
            ],
            Some(&demo),
        )
        .await;
    assert_eq!(edit.app_error(), AppError::NotFound);
}

#[tokio::test]
async fn a_user_cannot_restrict_a_contact_to_a_company_they_are_not_in() {
    let app = spawn_app().await;
    let demo = app.login("demo", "demo").await;
    let reply = app
        .call(
            "contacts/save",
            &[
                ("input[name]", "X"),
                ("input[owner_company_id]", "9999"),
                ("input[company_name]", ""),
                ("input[email]", ""),
                ("input[phone]", ""),
                ("input[mobile]", ""),
                ("input[country_code]", ""),
            ],
            Some(&demo),
        )
        .await;
    assert!(matches!(reply.app_error(), AppError::Validation(e) if e.field == "owner_company_id"));
}
