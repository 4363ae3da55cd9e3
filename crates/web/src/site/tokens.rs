//! API tokens in the person's own space: named, with an expiry, listed (never their secret) and
//! revoked one by one. A token is shown once, when it is made; a new password ends them all.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use si_domain::dates::fr_instant;
use si_store::{ApiToken, User};

use crate::AppState;
use crate::auth::{MaybeUser, create_api_token, login_redirect};
use crate::error::AppError;
use crate::forms::Id;
use crate::forms::{Errors, Form};
use crate::pages::{Page, PageResult, render_status};

/// Lifetimes offered, in days (the first is the default).
pub const LIFETIMES: &[(i64, &str)] = &[(90, "3 mois"), (30, "1 mois"), (365, "1 an")];
use si_domain::input::{TOKEN_NAME_MAX, TOKENS_MAX};

pub fn router() -> Router<AppState> {
    Router::new().route("/espace/jetons", get(list).post(create)).route("/espace/jetons/{id}/revoquer", post(revoke))
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    page: Page,
    tokens: Vec<ApiToken>,
    /// The secret of the token just made, shown this once.
    created: Option<String>,
    name: String,
    days: i64,
    errors: Errors,
    revoked: bool,
}

impl TokensPage {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        fr_instant(*at)
    }
    fn lifetimes(&self) -> &'static [(i64, &'static str)] {
        LIFETIMES
    }
    fn expired(&self, t: &ApiToken) -> bool {
        t.expires_at.is_some_and(|e| e <= chrono::Utc::now())
    }
}

async fn page(state: &AppState, user: User, form: TokensPage) -> PageResult {
    let status = if form.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let tokens = state.store.api_tokens(user.id).await?;
    let page = Page::new("Jetons d'API", Some(user), "espace").crumb("/", "Accueil").crumb("/espace", "Mon espace");
    Ok(render_status(status, &TokensPage { page, tokens, ..form }))
}

fn blank() -> TokensPage {
    TokensPage {
        page: Page::new("", None, ""),
        tokens: Vec::new(),
        created: None,
        name: String::new(),
        days: LIFETIMES[0].0,
        errors: Errors::default(),
        revoked: false,
    }
}

async fn list(
    State(state): State<AppState>,
    user: MaybeUser,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> PageResult {
    let Some(u) = user.user else { return Ok(login_redirect("/espace/jetons")) };
    let revoked = q.as_deref() == Some("revoque=1");
    page(&state, u, TokensPage { revoked, ..blank() }).await
}

async fn create(State(state): State<AppState>, user: MaybeUser, Form(p): Form) -> PageResult {
    let Some(u) = user.user else { return Ok(login_redirect("/espace/jetons")) };
    let name = p.get("name").unwrap_or("").to_string();
    let days = p.get("days").and_then(|d| d.parse::<i64>().ok()).filter(|d| LIFETIMES.iter().any(|(l, _)| l == d));
    let mut errors = Errors::default();
    if name.is_empty() {
        errors.add("name", "Nommez ce jeton d'après l'outil qui l'utilisera, par exemple « Intégration SIRH ».");
    } else if name.chars().count() > TOKEN_NAME_MAX {
        errors.add("name", format!("Le nom ne doit pas dépasser {TOKEN_NAME_MAX} caractères."));
    } else if let Err(m) = si_domain::input::single_line("Le nom", &name) {
        errors.add("name", m);
    }
    if days.is_none() {
        errors.add("days", "Choisissez la durée de validité du jeton.");
    }
    let live = state
        .store
        .api_tokens(u.id)
        .await?
        .iter()
        .filter(|t| t.expires_at.is_none_or(|e| e > state.clock.now()))
        .count();
    if live >= TOKENS_MAX {
        errors.add("name", format!("Vous avez déjà {TOKENS_MAX} jetons valides : révoquez ceux qui ne servent plus."));
    }
    let days = days.unwrap_or(LIFETIMES[0].0);
    if !errors.is_empty() {
        return page(&state, u, TokensPage { name, days, errors, ..blank() }).await;
    }
    let token = create_api_token(&state, u.id, &name, days).await?;
    page(&state, u, TokensPage { created: Some(token), days, ..blank() }).await
}

async fn revoke(
    State(state): State<AppState>,
    user: MaybeUser,
    Id(id): Id,
) -> Result<Response, crate::pages::PageError> {
    let Some(u) = user.user else { return Ok(login_redirect("/espace/jetons")) };
    if !state.store.revoke_api_token(u.id, id).await? {
        return Err(AppError::NotFound.into());
    }
    Ok(Redirect::to("/espace/jetons?revoque=1").into_response())
}
