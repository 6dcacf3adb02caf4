//! Contacts, filtered to what the active companies may see.

use crate::db::id_list;
use crate::domain::contact::ValidContact;
use crate::models::Contact;
use sqlx::AnyConnection;

const SELECT: &str = "SELECT c.id, c.name, c.company_name, c.email, c.phone, c.mobile,
        c.country_code, c.owner_company_id, o.name AS owner_company_name
    FROM contacts c LEFT JOIN companies o ON o.id = c.owner_company_id";

/// Contacts visible to `companies` whose name, company, email or numbers contain `search`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    conn: &mut AnyConnection,
    companies: &[i64],
    search: &str,
) -> Result<Vec<Contact>, sqlx::Error> {
    let pattern = format!(
        "%{}%",
        search
            .trim()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT}
         WHERE (c.owner_company_id IS NULL
                OR c.owner_company_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1)))
           AND (lower(c.name) LIKE lower($2) ESCAPE '\\'
                OR lower(c.company_name) LIKE lower($2) ESCAPE '\\'
                OR lower(c.email) LIKE lower($2) ESCAPE '\\' OR c.phone LIKE $2 ESCAPE '\\'
                OR c.mobile LIKE $2 ESCAPE '\\')
         ORDER BY lower(c.name), c.id
         LIMIT 500"
    )))
    .bind(id_list(companies))
    .bind(pattern)
    .fetch_all(conn)
    .await
}

/// One contact, if `companies` may see it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(
    conn: &mut AnyConnection,
    companies: &[i64],
    id: i64,
) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT}
         WHERE c.id = $1
           AND (c.owner_company_id IS NULL
                OR c.owner_company_id IN (SELECT CAST(value AS BIGINT) FROM json_each($2)))"
    )))
    .bind(id)
    .bind(id_list(companies))
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    conn: &mut AnyConnection,
    c: &ValidContact,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO contacts (name, company_name, email, phone, mobile, country_code,
                               owner_company_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&c.name)
    .bind(&c.company_name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(&c.mobile)
    .bind(&c.country_code)
    .bind(c.owner_company_id)
    .bind(now)
    .bind(now)
    .fetch_one(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    c: &ValidContact,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE contacts SET name = $1, company_name = $2, email = $3, phone = $4, mobile = $5,
                country_code = $6, owner_company_id = $7, updated_at = $8
         WHERE id = $9",
    )
    .bind(&c.name)
    .bind(&c.company_name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(&c.mobile)
    .bind(&c.country_code)
    .bind(c.owner_company_id)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::companies;
    use crate::domain::contact::ContactInput;

    fn contact(name: &str, owner: Option<i64>) -> ValidContact {
        ValidContact::parse(ContactInput {
            name: name.into(),
            owner_company_id: owner,
            ..Default::default()
        })
        .expect("valid")
    }

    #[tokio::test]
    async fn a_restricted_contact_is_only_seen_by_its_company() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        let sf = companies::insert(&mut conn, "SF").await.expect("sf");
        let chicago = companies::insert(&mut conn, "Chicago").await.expect("chi");
        let shared = insert(&mut conn, &contact("Shared", None), 0)
            .await
            .expect("insert");
        let private = insert(&mut conn, &contact("Only SF", Some(sf)), 0)
            .await
            .expect("insert");

        let seen_by_chicago: Vec<_> = list(&mut conn, &[chicago], "")
            .await
            .expect("list")
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(seen_by_chicago, vec![shared]);
        assert!(
            get(&mut conn, &[chicago], private)
                .await
                .expect("get")
                .is_none()
        );
        let got = get(&mut conn, &[sf], private)
            .await
            .expect("get")
            .expect("visible");
        assert_eq!(got.owner_company_name.as_deref(), Some("SF"));
    }

    #[tokio::test]
    async fn search_matches_any_listed_field_and_treats_wildcards_literally() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        let mut with_phone = contact("Marc Demo", None);
        with_phone.phone = Some("+32 470 12 34 56".into());
        insert(&mut conn, &with_phone, 0).await.expect("insert");
        insert(&mut conn, &contact("Azure Interior", None), 0)
            .await
            .expect("insert");

        let names = |v: Vec<Contact>| v.into_iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(
            names(list(&mut conn, &[], "470").await.expect("list")),
            ["Marc Demo"]
        );
        assert_eq!(
            names(list(&mut conn, &[], "azure").await.expect("list")),
            ["Azure Interior"]
        );
        assert!(list(&mut conn, &[], "%").await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn an_update_replaces_every_field() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        let id = insert(&mut conn, &contact("Before", None), 0)
            .await
            .expect("insert");
        let mut after = contact("After", None);
        after.mobile = Some("+1 415 555 0100".into());
        update(&mut conn, id, &after, 1).await.expect("update");
        let got = get(&mut conn, &[], id).await.expect("get").expect("exists");
        assert_eq!(got.name, "After");
        assert_eq!(got.mobile.as_deref(), Some("+1 415 555 0100"));
    }
}
