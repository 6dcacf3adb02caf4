//! Managing users: creating them, changing their role, companies and active state, and
//! setting or changing passwords, for Settings → Users, the user menu and the `server user`
//! commands alike. Each change is one transaction, and the sessions it must end end in it:
//! all of a deactivated user's, and the other sessions after a password change.

use crate::auth::Identity;
use crate::auth::login::Guards;
use crate::auth::password;
use crate::clock::now_ms;
use crate::db::{self, companies, sessions, users};
use crate::domain::FieldError;
use crate::domain::company::WorkingCompanies;
use crate::domain::password::{NewPassword, check_confirmation};
use crate::domain::throttle::login_keys;
use crate::domain::user::{NewUser, Standing, UserEdit, check_change};
use crate::error::AppError;
use crate::i18n::Msg;
use sqlx::{AnyConnection, AnyPool};
use std::time::Instant;

/// Creates an active user in their companies and returns their id. Unknown companies and
/// a taken login are refused, naming the field.
#[tracing::instrument(skip_all, fields(login = %user.login))]
pub async fn create(
    pool: &AnyPool,
    user: &NewUser,
    password: &NewPassword,
) -> Result<i64, AppError> {
    // Hashed before the write lock is taken: it is the slow part.
    let hash = hash(password).await?;
    let mut tx = db::begin_write(pool).await?;
    check_companies(&mut tx, &user.company_ids).await?;
    let id = users::insert(
        &mut tx,
        users::NewUser {
            login: &user.login,
            name: &user.name,
            password_hash: &hash,
            is_admin: user.role.is_admin(),
            default_company_id: user.company_ids[0],
            now: now_ms(),
        },
    )
    .await?
    .ok_or_else(|| {
        FieldError::new("login", Msg::ErrLoginTaken).arg("login", user.login.as_str())
    })?;
    users::set_companies(&mut tx, id, &user.company_ids).await?;
    tx.commit().await?;
    tracing::info!(user = id, role = user.role.as_str(), "user created");
    Ok(id)
}

/// Applies the user form of administrator `actor` to user `id`. Deactivating the user ends
/// all their sessions; taking companies away from them removes those companies from their
/// sessions' company switcher.
#[tracing::instrument(skip_all, fields(user = id))]
pub async fn update(pool: &AnyPool, actor: i64, id: i64, edit: &UserEdit) -> Result<(), AppError> {
    let mut tx = db::begin_write(pool).await?;
    let before = users::by_id(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    check_companies(&mut tx, &edit.company_ids).await?;
    let after = Standing {
        role: edit.role,
        active: edit.active,
    };
    let active_admins = users::count_active_admins(&mut tx).await?;
    check_change(actor, id, before.standing(), after, active_admins)?;
    let default_company = if edit.company_ids.contains(&before.default_company_id) {
        before.default_company_id
    } else {
        edit.company_ids[0]
    };
    users::update(
        &mut tx,
        id,
        users::UserUpdate {
            name: &edit.name,
            is_admin: edit.role.is_admin(),
            active: edit.active,
            default_company_id: default_company,
            locale: edit.locale,
            now: now_ms(),
        },
    )
    .await?;
    users::set_companies(&mut tx, id, &edit.company_ids).await?;
    if edit.active {
        for (token_hash, current, active) in
            sessions::working_companies_of_user(&mut tx, id).await?
        {
            let working = WorkingCompanies { current, active };
            let within = working.within(&edit.company_ids, default_company);
            if within != working {
                sessions::set_companies(&mut tx, &token_hash, within.current, &within.active)
                    .await?;
            }
        }
    } else {
        let ended = sessions::delete_of_user(&mut tx, id, None).await?;
        tracing::info!(sessions = ended, "user deactivated: sessions ended");
    }
    tx.commit().await?;
    tracing::info!(
        by = actor,
        role = edit.role.as_str(),
        active = edit.active,
        "user saved"
    );
    Ok(())
}

/// Sets the password of user `id` and ends their sessions, all of them but `keep` (the
/// token hash of the session that asked, when it is theirs).
#[tracing::instrument(skip_all, fields(user = id))]
pub async fn set_password(
    pool: &AnyPool,
    id: i64,
    password: &NewPassword,
    keep: Option<&str>,
) -> Result<(), AppError> {
    let hash = hash(password).await?;
    let mut tx = db::begin_write(pool).await?;
    users::by_id(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    users::set_password_hash(&mut tx, id, &hash, now_ms()).await?;
    let ended = sessions::delete_of_user(&mut tx, id, keep).await?;
    tx.commit().await?;
    tracing::info!(sessions_ended = ended, "password set");
    Ok(())
}

/// What the Change password form sends.
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    pub confirmation: String,
}

/// Changes the signed-in user's own password, given their current one, and ends their
/// other sessions (this one stays). Wrong current passwords count against the same throttle
/// as failed logins, so a borrowed session cannot be used to guess the password.
#[tracing::instrument(skip_all, fields(user = who.user_id))]
pub async fn change_own_password(
    pool: &AnyPool,
    guards: Guards<'_>,
    who: &Identity,
    change: PasswordChange,
    client: Option<&str>,
) -> Result<(), AppError> {
    let new = NewPassword::parse("new_password", &change.new, &who.login)?;
    check_confirmation("confirm_password", &change.new, &change.confirmation)?;
    let keys = login_keys(&who.login, client);
    let counted = {
        let mut throttle = guards.throttle.lock().map_err(|_| AppError::Internal)?;
        throttle.attempt(&keys, Instant::now())
    };
    if !counted {
        tracing::warn!("password change refused: too many failed attempts");
        return Err(AppError::TooManyAttempts);
    }
    let Ok(slot) = guards.slots.try_acquire() else {
        tracing::warn!("password change refused: too many password checks under way");
        return Err(AppError::Busy);
    };
    let mut conn = pool.acquire().await?;
    let user = users::by_id(&mut conn, who.user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    drop(conn);
    let current = change.current;
    let verified =
        tokio::task::spawn_blocking(move || password::verify(&user.password_hash, &current))
            .await
            .map_err(|_| AppError::Internal)?;
    drop(slot);
    if !verified {
        tracing::info!("password change refused: wrong current password");
        return Err(AppError::validation(
            "current_password",
            Msg::ErrCurrentPassword,
        ));
    }
    if let Ok(mut throttle) = guards.throttle.lock() {
        throttle.succeeded(&keys);
    }
    set_password(pool, who.user_id, &new, Some(&who.token_hash)).await
}

/// Every id in `ids` must be a company.
async fn check_companies(conn: &mut AnyConnection, ids: &[i64]) -> Result<(), AppError> {
    if companies::existing(conn, ids).await?.len() != ids.len() {
        return Err(AppError::validation("companies", Msg::ErrCompanyMissing));
    }
    Ok(())
}

/// Argon2id takes tens of milliseconds of CPU: off the async threads.
async fn hash(password: &NewPassword) -> Result<String, AppError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || password::hash(password.expose()))
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(|error| {
            tracing::error!(%error, "cannot hash a password");
            AppError::Internal
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;

    async fn setup() -> (AnyPool, i64, i64) {
        let (pool, _) = db::scratch("auth-users").await.expect("db");
        let mut conn = pool.acquire().await.expect("conn");
        let acme = companies::insert(&mut conn, "Acme").await.expect("company");
        let globex = companies::insert(&mut conn, "Globex")
            .await
            .expect("company");
        drop(conn);
        (pool, acme, globex)
    }

    fn password(text: &str) -> NewPassword {
        NewPassword::parse("password", text, "-").expect("valid password")
    }

    #[tokio::test]
    async fn a_user_is_created_in_their_companies_with_a_verifiable_password() {
        let (pool, acme, globex) = setup().await;
        let user = NewUser::parse("jane", "Jane Doe", Role::User, &[globex, acme]).expect("user");
        let id = create(&pool, &user, &password("violet ferry 42"))
            .await
            .expect("created");
        let mut conn = pool.acquire().await.expect("conn");
        let row = users::by_id(&mut conn, id)
            .await
            .expect("query")
            .expect("jane");
        assert_eq!(row.default_company_id, globex);
        assert!(password::verify(&row.password_hash, "violet ferry 42"));
        let summary = users::summary(&mut conn, id)
            .await
            .expect("query")
            .expect("jane");
        assert_eq!(summary.companies.len(), 2);
    }

    #[tokio::test]
    async fn a_taken_login_or_an_unknown_company_changes_nothing() {
        let (pool, acme, _) = setup().await;
        let user = NewUser::parse("jane", "Jane", Role::User, &[acme]).expect("user");
        create(&pool, &user, &password("violet ferry 42"))
            .await
            .expect("created");
        let again = NewUser::parse("JANE", "Jane", Role::User, &[acme]).expect("user");
        let error = create(&pool, &again, &password("violet ferry 42"))
            .await
            .expect_err("taken");
        assert_eq!(
            error.for_field("login").as_deref(),
            Some("The login “JANE” is already taken.")
        );
        let ghost = NewUser::parse("john", "John", Role::User, &[acme, 999]).expect("user");
        let error = create(&pool, &ghost, &password("violet ferry 42"))
            .await
            .expect_err("unknown company");
        assert!(error.field("companies").is_some());
        let mut conn = pool.acquire().await.expect("conn");
        assert!(
            users::by_login(&mut conn, "john")
                .await
                .expect("query")
                .is_none()
        );
        assert_eq!(users::list(&mut conn).await.expect("list").len(), 1);
    }

    #[tokio::test]
    async fn a_stale_request_cannot_demote_the_last_active_administrator() {
        let (pool, acme, _) = setup().await;
        let admin = |login: &str| NewUser::parse(login, login, Role::Administrator, &[acme]);
        let alice = create(
            &pool,
            &admin("alice").expect("user"),
            &password("violet ferry 42"),
        )
        .await
        .expect("alice");
        let bob = create(
            &pool,
            &admin("bob").expect("user"),
            &password("violet ferry 42"),
        )
        .await
        .expect("bob");
        let demote =
            |name: &str| UserEdit::parse(name, Role::User, &[acme], true, None).expect("edit");
        update(&pool, alice, bob, &demote("bob"))
            .await
            .expect("alice demotes bob");
        // Bob's request passed the administrator check before Alice's change committed.
        let error = update(&pool, bob, alice, &demote("alice"))
            .await
            .expect_err("alice is the last one");
        assert_eq!(
            error.field("role").map(|e| e.message),
            Some(Msg::ErrLastAdmin)
        );
        let deactivate =
            UserEdit::parse("alice", Role::Administrator, &[acme], false, None).expect("edit");
        let error = update(&pool, bob, alice, &deactivate)
            .await
            .expect_err("still the last one");
        assert_eq!(
            error.field("active").map(|e| e.message),
            Some(Msg::ErrLastAdmin)
        );
        let mut conn = pool.acquire().await.expect("conn");
        assert_eq!(
            users::count_active_admins(&mut conn).await.expect("count"),
            1
        );
    }
}
