//! Users: who can sign in, with what password hash, as what role, in which companies.

use crate::domain::time::Timestamp;
use crate::domain::user::{Role, Standing};
use crate::models::{Company, UserSummary};
use sqlx::AnyConnection;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub password_hash: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub is_admin: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    pub active: bool,
    pub default_company_id: i64,
}

impl UserRow {
    pub fn standing(&self) -> Standing {
        Standing {
            role: Role::from_admin(self.is_admin),
            active: self.active,
        }
    }
}

/// The user with this login, whatever its case.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_login(
    conn: &mut AnyConnection,
    login: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, login, name, password_hash, is_admin, active, default_company_id
         FROM users WHERE lower(login) = lower($1)",
    )
    .bind(login)
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, login, name, password_hash, is_admin, active, default_company_id
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub struct NewUser<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
    pub default_company_id: i64,
    pub now: i64,
}

/// Inserts an active user; `None` when the login is taken (logins are unique whatever
/// their case).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    user: NewUser<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (login, name, password_hash, is_admin, default_company_id,
                            active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(user.login)
    .bind(user.name)
    .bind(user.password_hash)
    .bind(crate::db::Flag(user.is_admin))
    .bind(user.default_company_id)
    .bind(user.now)
    .bind(user.now)
    .fetch_optional(conn)
    .await
}

pub struct UserUpdate<'a> {
    pub name: &'a str,
    pub is_admin: bool,
    pub active: bool,
    pub default_company_id: i64,
    /// `None` follows their browser.
    pub locale: Option<crate::i18n::Locale>,
    pub now: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    user: UserUpdate<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET name = $1, is_admin = $2, active = $3, default_company_id = $4,
                          locale = $5, updated_at = $6
         WHERE id = $7",
    )
    .bind(user.name)
    .bind(crate::db::Flag(user.is_admin))
    .bind(crate::db::Flag(user.active))
    .bind(user.default_company_id)
    .bind(user.locale.map(crate::i18n::Locale::code))
    .bind(user.now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the user's language; `None` follows their browser.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_locale(
    conn: &mut AnyConnection,
    id: i64,
    locale: Option<crate::i18n::Locale>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
        .bind(locale.map(crate::i18n::Locale::code))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_password_hash(
    conn: &mut AnyConnection,
    id: i64,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_login(conn: &mut AnyConnection, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes `company_ids` the user's companies, and only those.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_companies(
    conn: &mut AnyConnection,
    id: i64,
    company_ids: &[i64],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM user_companies
         WHERE user_id = $1 AND company_id NOT IN (SELECT CAST(value AS BIGINT) FROM json_each($2))",
    )
    .bind(id)
    .bind(crate::db::id_list(company_ids))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO user_companies (user_id, company_id)
         SELECT $1, CAST(value AS BIGINT) FROM json_each($2) WHERE true ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(crate::db::id_list(company_ids))
    .execute(conn)
    .await?;
    Ok(())
}

/// How many users can sign in as administrators.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn count_active_admins(conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND active = 1")
        .fetch_one(conn)
        .await?;
    Ok(u64::try_from(n).unwrap_or_default())
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    login: String,
    name: String,
    #[sqlx(try_from = "crate::db::Flag")]
    is_admin: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    active: bool,
    last_login_at: Option<Timestamp>,
    locale: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Membership {
    user_id: i64,
    company_id: i64,
    company_name: String,
}

/// Every user with their companies, active users first, then by name.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<UserSummary>, sqlx::Error> {
    summaries(conn, None).await
}

/// One user with their companies.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn summary(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<UserSummary>, sqlx::Error> {
    Ok(summaries(conn, Some(id)).await?.into_iter().next())
}

async fn summaries(
    conn: &mut AnyConnection,
    id: Option<i64>,
) -> Result<Vec<UserSummary>, sqlx::Error> {
    let rows: Vec<SummaryRow> = sqlx::query_as(
        "SELECT id, login, name, is_admin, active, last_login_at, locale FROM users
         WHERE $1 IS NULL OR id = $1
         ORDER BY active DESC, lower(name), lower(login)",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let memberships: Vec<Membership> = sqlx::query_as(
        "SELECT uc.user_id, c.id AS company_id, c.name AS company_name
         FROM user_companies uc JOIN companies c ON c.id = uc.company_id
         WHERE $1 IS NULL OR uc.user_id = $1
         ORDER BY c.name",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| UserSummary {
            companies: memberships
                .iter()
                .filter(|m| m.user_id == row.id)
                .map(|m| Company {
                    id: m.company_id,
                    name: m.company_name.clone(),
                })
                .collect(),
            id: row.id,
            login: row.login,
            name: row.name,
            role: Role::from_admin(row.is_admin),
            active: row.active,
            last_login_at: row.last_login_at,
            locale: row.locale.as_deref().and_then(crate::i18n::Locale::parse),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{companies, scratch};

    async fn user(conn: &mut AnyConnection, login: &str, admin: bool, company: i64) -> i64 {
        insert(
            conn,
            NewUser {
                login,
                name: login,
                password_hash: "x",
                is_admin: admin,
                default_company_id: company,
                now: 1,
            },
        )
        .await
        .expect("insert")
        .expect("new login")
    }

    #[tokio::test]
    async fn logins_are_unique_whatever_their_case() {
        let (pool, _) = scratch("users").await.expect("db");
        let mut conn = pool.acquire().await.expect("conn");
        let acme = companies::insert(&mut conn, "Acme").await.expect("company");
        user(&mut conn, "Jane", false, acme).await;
        let again = insert(
            &mut conn,
            NewUser {
                login: "jane",
                name: "Another Jane",
                password_hash: "x",
                is_admin: false,
                default_company_id: acme,
                now: 1,
            },
        )
        .await
        .expect("insert");
        assert_eq!(again, None);
        let found = by_login(&mut conn, "JANE")
            .await
            .expect("query")
            .expect("jane");
        assert_eq!(found.login, "Jane");
        assert!(found.active);
    }

    #[tokio::test]
    async fn companies_are_replaced_and_listed_by_name() {
        let (pool, _) = scratch("users").await.expect("db");
        let mut conn = pool.acquire().await.expect("conn");
        let b = companies::insert(&mut conn, "Beta").await.expect("company");
        let a = companies::insert(&mut conn, "Alpha")
            .await
            .expect("company");
        let c = companies::insert(&mut conn, "Gamma")
            .await
            .expect("company");
        let id = user(&mut conn, "jane", false, b).await;
        set_companies(&mut conn, id, &[b, a]).await.expect("set");
        let names = |s: &UserSummary| {
            s.companies
                .iter()
                .map(|c| c.name.clone())
                .collect::<Vec<_>>()
        };
        let listed = summary(&mut conn, id).await.expect("query").expect("jane");
        assert_eq!(names(&listed), ["Alpha", "Beta"]);
        set_companies(&mut conn, id, &[c, b]).await.expect("set");
        let listed = summary(&mut conn, id).await.expect("query").expect("jane");
        assert_eq!(names(&listed), ["Beta", "Gamma"]);
        assert_eq!(listed.last_login_at, None);
        record_login(&mut conn, id, 42).await.expect("login");
        let listed = summary(&mut conn, id).await.expect("query").expect("jane");
        assert_eq!(listed.last_login_at, Some(Timestamp::from_ms(42)));
    }

    #[tokio::test]
    async fn only_active_administrators_count() {
        let (pool, _) = scratch("users").await.expect("db");
        let mut conn = pool.acquire().await.expect("conn");
        let acme = companies::insert(&mut conn, "Acme").await.expect("company");
        assert_eq!(count_active_admins(&mut conn).await.expect("count"), 0);
        let first = user(&mut conn, "first", true, acme).await;
        user(&mut conn, "second", true, acme).await;
        user(&mut conn, "plain", false, acme).await;
        assert_eq!(count_active_admins(&mut conn).await.expect("count"), 2);
        update(
            &mut conn,
            first,
            UserUpdate {
                name: "First",
                is_admin: true,
                active: false,
                default_company_id: acme,
                locale: Some(crate::i18n::Locale::ZhCn),
                now: 2,
            },
        )
        .await
        .expect("update");
        assert_eq!(count_active_admins(&mut conn).await.expect("count"), 1);
        let listed = list(&mut conn).await.expect("list");
        assert_eq!(listed.last().map(|u| u.login.as_str()), Some("first"));
        assert!(listed.last().is_some_and(|u| !u.active));
        assert_eq!(
            listed.last().and_then(|u| u.locale),
            Some(crate::i18n::Locale::ZhCn)
        );
    }
}
