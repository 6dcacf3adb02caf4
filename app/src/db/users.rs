//! Users: who can sign in, with what password hash, as what role.

use sqlx::SqliteConnection;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub default_company_id: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_login(
    conn: &mut SqliteConnection,
    login: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, login, name, password_hash, is_admin, default_company_id
         FROM users WHERE login = ?",
    )
    .bind(login)
    .fetch_optional(conn)
    .await
}

pub struct NewUser<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub default_company_id: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut SqliteConnection, user: NewUser<'_>) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO users (login, name, password_hash, is_admin, default_company_id)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(user.login)
    .bind(user.name)
    .bind(user.password_hash)
    .bind(user.is_admin)
    .bind(user.default_company_id)
    .execute(conn)
    .await?;
    Ok(row.last_insert_rowid())
}
