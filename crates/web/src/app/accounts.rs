//! Account use cases shared by several pages: the one-time links of invitations, address
//! confirmations and password resets.

use si_store::NewEmail;

/// Makes a one-time link's secret for a person, valid `lifetime`, and queues the letter that
/// carries it (`compose` writes it from the secret) in the transaction that records the secret's
/// hash: a crash loses both or neither, and the worker sends the letter once, whichever node it runs on.
pub(crate) async fn send_one_time_link(
    deps: &super::Deps<'_>,
    user_id: i64,
    lifetime: chrono::Duration,
    compose: impl FnOnce(&str) -> NewEmail,
) -> Result<(), crate::error::AppError> {
    let token = crate::auth::random_secret();
    let expires = deps.clock.now() + lifetime;
    let letter = compose(&token);
    deps.store
        .create_password_token(&crate::auth::hash_secret(&token), user_id, expires, &[letter], chrono::Utc::now())
        .await?;
    deps.letters.mail.wake();
    Ok(())
}
