//! Settings → Users for administrators (list, create, edit, set a password), and Change
//! password for every signed-in user. The rules and transactions are in `auth::users`.

use crate::domain::user::Role;
use crate::error::AppError;
use crate::i18n::Locale;
use crate::models::{UserForm, UserSummary};
use leptos::prelude::*;

#[server(endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::users::list(&mut conn).await?)
}

/// The user form's data: user `id` (none for a new user) and every company.
#[server(endpoint = "users/form")]
pub async fn get_user_form(id: Option<i64>) -> Result<UserForm, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let user = match id {
        Some(id) => Some(
            crate::db::users::summary(&mut conn, id)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let companies = crate::db::companies::all(&mut conn).await?;
    Ok(UserForm { user, companies })
}

/// Creates an active user with an initial password; returns their id.
#[server(endpoint = "users/create")]
pub async fn create_user(
    login: String,
    name: String,
    role: Role,
    companies: Option<Vec<i64>>,
    password: String,
) -> Result<i64, AppError> {
    use crate::domain::password::NewPassword;
    use crate::domain::user::NewUser;
    let who = super::ssr::admin()?;
    let user = NewUser::parse(&login, &name, role, &companies.unwrap_or_default())?;
    let password = NewPassword::parse("password", &password, &user.login)?;
    let id = crate::auth::users::create(&super::ssr::state()?.pool, &user, &password).await?;
    tracing::info!(user = id, by = who.login, "user created in Settings");
    Ok(id)
}

/// Changes a user's name, role, companies, active state and language (none: their
/// browser's). Deactivating logs them out.
#[server(endpoint = "users/update")]
pub async fn update_user(
    id: i64,
    name: String,
    role: Role,
    companies: Option<Vec<i64>>,
    active: bool,
    locale: Option<Locale>,
) -> Result<(), AppError> {
    use crate::domain::user::UserEdit;
    let who = super::ssr::admin()?;
    let edit = UserEdit::parse(&name, role, &companies.unwrap_or_default(), active, locale)?;
    crate::auth::users::update(&super::ssr::state()?.pool, who.user_id, id, &edit).await
}

/// Gives a user a new password and ends their sessions (but the caller's own, when an
/// administrator sets their own password here).
#[server(endpoint = "users/set_password")]
pub async fn set_user_password(id: i64, password: String) -> Result<(), AppError> {
    use crate::domain::password::NewPassword;
    let who = super::ssr::admin()?;
    let state = super::ssr::state()?;
    let login = {
        let mut conn = state.pool.acquire().await?;
        crate::db::users::by_id(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound)?
            .login
    };
    let password = NewPassword::parse("password", &password, &login)?;
    let keep = (id == who.user_id).then_some(who.token_hash.as_str());
    crate::auth::users::set_password(&state.pool, id, &password, keep).await?;
    tracing::info!(user = id, by = who.login, "password set in Settings");
    Ok(())
}

/// The signed-in user changes their own password, given the current one; their other
/// sessions end.
#[server(endpoint = "users/change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::auth::users::{PasswordChange, change_own_password};
    use crate::state::ClientAddr;
    let who = super::ssr::identity()?;
    let state = super::ssr::state()?;
    let client = use_context::<ClientAddr>().map(|ClientAddr(addr)| addr);
    change_own_password(
        &state.pool,
        crate::auth::login::Guards {
            throttle: &state.throttle,
            slots: &state.login_slots,
        },
        &who,
        PasswordChange {
            current: current_password,
            new: new_password,
            confirmation: confirm_password,
        },
        client.as_deref(),
    )
    .await
}
