//! « S'identifier avec ProConnect » for coordinators and administrators (see [`crate::oidc`]).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use si_domain::Role;

use crate::AppState;
use crate::auth::{MaybeUser, Source, open_session};
use crate::error::AppError;
use crate::forms::Pairs;
use crate::forms::safe_next;
use crate::oidc::{LOGIN_MINUTES, OidcError};
use crate::pages::PageResult;

/// The cookie that ties the provider's answer to the browser that asked.
const STATE_COOKIE: &str = "si_oidc";

pub fn router() -> Router<AppState> {
    Router::new().route("/connexion/proconnect", get(start)).route("/connexion/proconnect/retour", get(back))
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}/connexion/proconnect/retour", state.config.public_url.trim_end_matches('/'))
}

fn refused(e: OidcError) -> AppError {
    match e {
        OidcError::Unavailable => AppError::Upstream(e.to_string()),
        OidcError::Refused(_) => AppError::Forbidden(e.to_string()),
    }
}

fn state_cookie(state: &AppState, value: &str, max_age: u64) -> String {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    format!("{STATE_COOKIE}={value}; Path=/connexion/proconnect; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Leaves for ProConnect.
async fn start(State(state): State<AppState>, Source(source): Source, RawQuery(q): RawQuery) -> PageResult {
    let oidc = state.oidc.clone().ok_or(AppError::NotFound)?;
    // Each start keeps a pending login (bounded map): a flood from one place is cut like password guesses.
    if let Err(wait) = state.throttle.login_source.take_everywhere(&state.store, &source).await {
        let message = "Trop de tentatives de connexion depuis votre connexion : réessayez un peu plus tard.";
        return Err(AppError::too_many(message, wait).into());
    }
    let next = safe_next(Pairs::parse(q.as_deref().unwrap_or("")).get("suivant"));
    let started = oidc.start(&redirect_uri(&state), next).await.map_err(refused)?;
    let cookie = state_cookie(&state, &started.state, LOGIN_MINUTES * 60);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&started.location)).into_response())
}

/// The state cookie of the request.
struct StateCookie(Option<String>);

impl axum::extract::FromRequestParts<AppState> for StateCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(StateCookie(crate::auth::cookie_value(parts, STATE_COOKIE).map(str::to_string)))
    }
}

/// Back from ProConnect: the login is checked, the person matched by address.
async fn back(
    State(state): State<AppState>,
    user: MaybeUser,
    Source(source): Source,
    StateCookie(cookie): StateCookie,
    RawQuery(q): RawQuery,
) -> PageResult {
    let oidc = state.oidc.clone().ok_or(AppError::NotFound)?;
    let p = Pairs::parse(q.as_deref().unwrap_or(""));
    if let Err(wait) = state.throttle.login_source.take_everywhere(&state.store, &source).await {
        return Err(crate::error::AppError::too_many(
            "Trop de tentatives de connexion depuis votre connexion : réessayez un peu plus tard.",
            wait,
        )
        .into());
    }
    if p.get("error").is_some() {
        return Err(AppError::Forbidden(
            "La connexion par ProConnect a été annulée ou refusée : recommencez depuis la page de connexion.".into(),
        )
        .into());
    }
    let (Some(st), Some(code)) = (p.get("state"), p.get("code")) else {
        return Err(refused(OidcError::Refused("réponse incomplète")).into());
    };
    // The answer must come back to the browser that left: a login started elsewhere (a forged link)
    // is refused.
    if cookie.as_deref() != Some(st) {
        return Err(refused(OidcError::Refused("navigateur différent")).into());
    }
    let identity = oidc.finish(st, code, &redirect_uri(&state)).await.map_err(refused)?;
    let person = state
        .store
        .user_by_email(&identity.email)
        .await?
        .filter(|u| !u.revoked && matches!(u.role, Role::RegionalCoordinator | Role::NationalAdmin));
    let Some(person) = person else {
        return Err(AppError::Forbidden(format!(
            "Aucun compte de coordination ou d'administration n'est ouvert à l'adresse {} : ProConnect sert aux instructeurs de la Semaine de l'industrie. Les organisateurs se connectent avec leur adresse et leur mot de passe.",
            identity.email
        ))
        .into());
    };
    let session = open_session(&state, person.id, user.session_id.as_deref()).await?;
    let next =
        if identity.next == "/" || identity.next.is_empty() { "/instruction".to_string() } else { identity.next };
    let mut resp = Redirect::to(&next).into_response();
    let headers = resp.headers_mut();
    headers.append(header::SET_COOKIE, session);
    headers.append(
        header::SET_COOKIE,
        state_cookie(&state, "", 0).parse().map_err(|_| AppError::Internal(anyhow::anyhow!("cookie")))?,
    );
    Ok(resp)
}
