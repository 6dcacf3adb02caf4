//! Server-side sessions, looked up by the SHA-256 of the cookie value.

use crate::db::id_list;
use sqlx::AnyConnection;

/// A live session joined with its user: everything a request needs to know about who asks.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    pub login: String,
    pub user_name: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_admin: bool,
    pub current_company_id: i64,
    pub active_company_ids: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub debug: bool,
    pub last_seen_at: i64,
    /// The user's language code, when they chose one.
    pub locale: Option<String>,
    /// The user's companies as a JSON array of `{id, name}`, by name: read with the session
    /// so a page needs no second query for its company switcher.
    pub companies: String,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub company_id: i64,
    pub now: i64,
    pub expires_at: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(conn: &mut AnyConnection, s: NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, current_company_id, active_company_ids,
                               created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.token_hash)
    .bind(s.user_id)
    .bind(s.company_id)
    .bind(id_list(&[s.company_id]))
    .bind(s.now)
    .bind(s.expires_at)
    .bind(s.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The session with this token hash, if it has neither expired nor been idle since before
/// `idle_since`, unless its user was deactivated (deactivating deletes the sessions too;
/// this makes sure of it).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
    idle_since: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    // The user's companies as a JSON array of {id, name}, in each dialect.
    let companies = match crate::db::Backend::of(conn) {
        crate::db::Backend::Sqlite => {
            "json_group_array(json_object('id', c.id, 'name', c.name) ORDER BY c.name)"
        }
        crate::db::Backend::Postgres => {
            "CAST(COALESCE(json_agg(json_build_object('id', c.id, 'name', c.name) ORDER BY c.name),
                           '[]') AS TEXT)"
        }
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.token_hash, s.user_id, u.login, u.name AS user_name, u.is_admin,
                s.current_company_id, s.active_company_ids, s.debug, s.last_seen_at, u.locale,
                (SELECT {companies}
                 FROM user_companies uc JOIN companies c ON c.id = uc.company_id
                 WHERE uc.user_id = s.user_id) AS companies
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.active = 1"
    )))
    .bind(token_hash)
    .bind(now)
    .bind(idle_since)
    .fetch_optional(conn)
    .await
}

/// Records activity on a session.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn touch(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(conn: &mut AnyConnection, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of `user_id` but `keep` (the hash of the session to keep open), e.g.
/// when the user is deactivated (`keep: None`) or changes their password. Returns how many
/// ended.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_of_user(
    conn: &mut AnyConnection,
    user_id: i64,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// The company switcher's state of each of the user's sessions: token hash, current
/// company and active companies.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn working_companies_of_user(
    conn: &mut AnyConnection,
    user_id: i64,
) -> Result<Vec<(String, i64, Vec<i64>)>, sqlx::Error> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT token_hash, current_company_id, active_company_ids FROM sessions
         WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(hash, current, active)| {
            (
                hash,
                current,
                serde_json::from_str(&active).unwrap_or_default(),
            )
        })
        .collect())
}

#[tracing::instrument(level = "debug", skip_all)]
/// Deletes sessions past their lifetime or idle since before `idle_since`.
pub async fn delete_expired(
    conn: &mut AnyConnection,
    now: i64,
    idle_since: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(idle_since)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_companies(
    conn: &mut AnyConnection,
    token_hash: &str,
    current: i64,
    active: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET current_company_id = $1, active_company_ids = $2 WHERE token_hash = $3",
    )
    .bind(current)
    .bind(id_list(active))
    .bind(token_hash)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_debug(
    conn: &mut AnyConnection,
    token_hash: &str,
    on: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET debug = $1 WHERE token_hash = $2")
        .bind(crate::db::Flag(on))
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}
