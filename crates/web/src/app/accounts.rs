//! Account use cases shared by several pages: the one-time links of invitations and password resets.

/// A one-time link's secret for a person, valid `lifetime` (only its hash is stored).
pub(crate) async fn one_time_token(
    deps: &super::Deps<'_>,
    user_id: i64,
    lifetime: chrono::Duration,
) -> Result<String, crate::error::AppError> {
    let token = crate::auth::random_secret();
    let expires = deps.clock.now() + lifetime;
    deps.store.create_password_token(&crate::auth::hash_secret(&token), user_id, expires).await?;
    Ok(token)
}
