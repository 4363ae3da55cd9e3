//! Accounts: sign-up of an organiser with their organisation, login and logout.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use si_domain::identifiers::{Siret, Uai};
use si_domain::territory::{Department, territory};
use si_domain::{IdentifierKind, OrganisationKind, Role};
use si_store::{NewOrganisation, NewUser, StoreError};

use crate::AppState;
use crate::auth::{DUMMY_HASH, MaybeUser, closed_session_cookie, hash_password, open_session, verify_password};
use crate::error::AppError;
use crate::forms::{Errors, Form, Pairs};
use crate::pages::{Page, PageResult, render, render_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inscription", get(signup_form).post(signup))
        .route("/connexion", get(login_form).post(login))
        .route("/deconnexion", axum::routing::post(logout))
        .route("/mot-de-passe-oublie", get(forgot_form).post(forgot))
        .route("/mot-de-passe/{token}", get(choose_form).post(choose))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    page: Page,
    /// `forgot`, `sent`, `choose` or `expired`.
    mode: &'static str,
    email: String,
    token: String,
    errors: Errors,
}

fn password_page(
    user: Option<si_store::User>,
    mode: &'static str,
    email: String,
    token: String,
    errors: Errors,
) -> PasswordPage {
    let title = match mode {
        "choose" => "Choisir un mot de passe",
        "expired" => "Lien expiré",
        _ => "Mot de passe oublié",
    };
    PasswordPage {
        page: Page::new(title, user, "espace").crumb("/", "Accueil").crumb("/connexion", "Se connecter"),
        mode,
        email,
        token,
        errors,
    }
}

async fn forgot_form(user: MaybeUser) -> Response {
    render(&password_page(user.user, "forgot", String::new(), String::new(), Errors::default()))
}

/// How long a reset link lives.
const RESET_MINUTES: i64 = 60;

/// Sends a reset link when the address has an account; answers the same either way, so that the page
/// does not tell who has an account.
async fn forgot(State(state): State<AppState>, user: MaybeUser, Form(p): Form) -> PageResult {
    let email = p.get("email").unwrap_or("").to_lowercase();
    if !email.contains('@') {
        let mut errors = Errors::default();
        errors.add("email", "Indiquez l'adresse électronique de votre compte.");
        let page = password_page(user.user, "forgot", email, String::new(), errors);
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let key = format!("reset:{email}");
    let allowed = state.throttle.count(&key, RESET_WINDOW) < RESET_LINKS;
    state.throttle.record(&key, RESET_WINDOW);
    if let Some(u) = state.store.user_by_email(&email).await?.filter(|u| !u.revoked && allowed) {
        let token = crate::auth::random_secret();
        let expires = chrono::Utc::now() + chrono::Duration::minutes(RESET_MINUTES);
        state.store.create_password_token(&crate::auth::hash_secret(&token), u.id, expires).await?;
        crate::notify::password_link(&state, &u, &token, false).await;
    }
    Ok(render(&password_page(user.user, "sent", email, String::new(), Errors::default())))
}

async fn choose_form(
    State(state): State<AppState>,
    user: MaybeUser,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> PageResult {
    let found = state.store.peek_password_token(&crate::auth::hash_secret(&token), chrono::Utc::now()).await?;
    let (mode, status) = if found.is_some() { ("choose", StatusCode::OK) } else { ("expired", StatusCode::NOT_FOUND) };
    Ok(render_status(status, &password_page(user.user, mode, String::new(), token, Errors::default())))
}

/// Sets the password from a one-time link (invitation or reset), then logs the person in.
async fn choose(
    State(state): State<AppState>,
    user: MaybeUser,
    axum::extract::Path(token): axum::extract::Path<String>,
    Form(p): Form,
) -> PageResult {
    let password = p.raw("password");
    let mut errors = Errors::default();
    if password.chars().count() < PASSWORD_MIN {
        errors.add("password", format!("Choisissez un mot de passe d'au moins {PASSWORD_MIN} caractères (une phrase facile à retenir convient)."));
    } else if password != p.raw("confirmation") {
        errors.add("confirmation", "Les deux mots de passe ne sont pas identiques.");
    }
    let hash = crate::auth::hash_secret(&token);
    if !errors.is_empty() {
        let still = state.store.peek_password_token(&hash, chrono::Utc::now()).await?.is_some();
        let mode = if still { "choose" } else { "expired" };
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &password_page(user.user, mode, String::new(), token, errors),
        ));
    }
    let Some(person) = state.store.use_password_token(&hash, chrono::Utc::now()).await? else {
        return Ok(render_status(
            StatusCode::NOT_FOUND,
            &password_page(user.user, "expired", String::new(), token, errors),
        ));
    };
    state.store.set_password(person.id, &hash_password(password).await?).await?;
    let cookie = open_session(&state, person.id, user.session_id.as_deref()).await?;
    let home = if person.role == Role::Organiser { "/espace" } else { "/instruction" };
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(home)).into_response())
}

/// Minimum password length (ANSSI recommends long passphrases over complexity rules).
const PASSWORD_MIN: usize = 12;

#[derive(Template)]
#[template(path = "signup.html")]
struct Signup {
    page: Page,
    values: Pairs,
    errors: Errors,
    departments: &'static [Department],
}

impl Signup {
    fn kinds(&self) -> &'static [OrganisationKind] {
        OrganisationKind::ALL
    }
    fn value(&self, key: &str) -> String {
        self.values.raw(key)
    }
}

fn signup_page(user: MaybeUser, values: Pairs, errors: Errors) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(
        status,
        &Signup {
            page: Page::new("Créer un compte organisateur", user.user, "espace").crumb("/", "Accueil"),
            values,
            errors,
            departments: territory().departments(),
        },
    )
}

async fn signup_form(user: MaybeUser) -> Response {
    signup_page(user, Pairs::default(), Errors::default())
}

async fn signup(State(state): State<AppState>, user: MaybeUser, Form(p): Form) -> PageResult {
    let mut errors = Errors::default();
    let name = p.get("name").unwrap_or("").to_string();
    let email = p.get("email").unwrap_or("").to_lowercase();
    let password = p.raw("password");
    let org_name = p.get("organisation").unwrap_or("").to_string();
    if name.is_empty() {
        errors.add("name", "Indiquez vos prénom et nom.");
    }
    if !si_domain::event::is_email(&email) {
        errors.add("email", "Saisissez une adresse électronique valide, par exemple prenom.nom@entreprise.fr.");
    }
    if password.chars().count() < PASSWORD_MIN {
        errors.add("password", format!("Choisissez un mot de passe d'au moins {PASSWORD_MIN} caractères (une phrase facile à retenir convient)."));
    } else if password != p.raw("password_confirm") {
        errors.add("password_confirm", "Les deux mots de passe ne sont pas identiques.");
    }
    if org_name.is_empty() {
        errors.add("organisation", "Indiquez le nom de votre organisation.");
    } else if org_name.chars().count() > 200 {
        errors.add("organisation", "Le nom de l'organisation ne doit pas dépasser 200 caractères.");
    }
    let kind = p.get("kind").and_then(OrganisationKind::parse);
    if kind.is_none() {
        errors.add("kind", "Choisissez le type de votre organisation.");
    }
    let department = p.get("department").and_then(|d| territory().department(d)).map(|d| d.code.clone());
    if department.is_none() {
        errors.add("department", "Choisissez le département de votre organisation.");
    }
    let raw_id = p.get("identifier").unwrap_or("");
    let identifier = match kind.and_then(OrganisationKind::identifier_kind) {
        Some(IdentifierKind::Siret) => Siret::parse(raw_id).map(|s| Some(s.to_string())),
        Some(IdentifierKind::Uai) => Uai::parse(raw_id).map(|s| Some(s.to_string())),
        None => Ok(None),
    };
    let identifier = identifier.unwrap_or_else(|m| {
        errors.add("identifier", m);
        None
    });
    if !errors.is_empty() {
        return Ok(signup_page(user, p, errors));
    }
    if let Some(id) = &identifier
        && state.store.organisation_by_identifier(id).await?.is_some()
    {
        // Joining needs the consent of a member: no silent duplicate, no silent join.
        errors.add(
                "identifier",
                "Cette organisation a déjà un compte sur la plateforme. Demandez à l'un de ses membres de vous inviter, ou écrivez à l'équipe de la Semaine de l'industrie.",
            );
        return Ok(signup_page(user, p, errors));
    }
    if state.store.user_by_email(&email).await?.is_some() {
        errors.add("email", "Un compte existe déjà avec cette adresse : connectez-vous.");
        return Ok(signup_page(user, p, errors));
    }
    let org = match state
        .store
        .create_organisation(&NewOrganisation {
            name: org_name,
            kind: kind.unwrap_or(OrganisationKind::Autre),
            department: department.unwrap_or_default(),
            identifier,
        })
        .await
    {
        Ok(o) => o,
        Err(StoreError::Conflict(m)) => {
            errors.add("identifier", m);
            return Ok(signup_page(user, p, errors));
        }
        Err(e) => return Err(e.into()),
    };
    let hash = hash_password(password).await?;
    let created = state
        .store
        .create_user(&NewUser {
            email,
            name,
            password_hash: hash,
            role: Role::Organiser,
            region: None,
            organisation_id: Some(org.id),
        })
        .await;
    let new_user = match created {
        Ok(u) => u,
        Err(StoreError::Conflict(m)) => {
            errors.add("email", m);
            return Ok(signup_page(user, p, errors));
        }
        Err(e) => return Err(e.into()),
    };
    let cookie = open_session(&state, new_user.id, user.session_id.as_deref()).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/espace")).into_response())
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    page: Page,
    email: String,
    next: String,
    error: Option<String>,
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/espace".into(),
    }
}

async fn login_form(user: MaybeUser, RawQuery(q): RawQuery) -> Response {
    let p = Pairs::parse(q.as_deref().unwrap_or(""));
    render(&Login {
        page: Page::new("Se connecter", user.user, "espace").crumb("/", "Accueil"),
        email: String::new(),
        next: safe_next(p.get("suivant")),
        error: None,
    })
}

/// Failed logins allowed per account within [`LOGIN_WINDOW`] before the account's login pauses.
const LOGIN_FAILURES: usize = 10;
const LOGIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// Password links sent per address and hour (the form answers the same beyond, sending nothing).
const RESET_LINKS: usize = 3;
const RESET_WINDOW: std::time::Duration = std::time::Duration::from_secs(3600);

async fn login(State(state): State<AppState>, user: MaybeUser, Form(p): Form) -> PageResult {
    let email = p.get("email").unwrap_or("").to_lowercase();
    let password = p.raw("password");
    let next = safe_next(p.get("suivant"));
    let key = format!("login:{email}");
    if state.throttle.count(&key, LOGIN_WINDOW) >= LOGIN_FAILURES {
        // Guessing passwords stops here, without telling whether the account exists.
        return Ok(render_status(
            StatusCode::TOO_MANY_REQUESTS,
            &Login {
                page: Page::new("Se connecter", None, "espace").crumb("/", "Accueil"),
                email,
                next,
                error: Some(
                    "Trop de tentatives de connexion pour cette adresse : réessayez dans un quart d'heure, ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? ».".into(),
                ),
            },
        ));
    }
    let found = state.store.user_by_email(&email).await?;
    let hash = found.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.clone());
    // A revoked person's password is still verified, so that timing does not tell them apart.
    let ok = verify_password(password, hash).await && found.as_ref().is_some_and(|u| !u.revoked);
    if !ok {
        state.throttle.record(&key, LOGIN_WINDOW);
    }
    match found {
        Some(u) if ok => {
            state.throttle.clear(&key);
            let cookie = open_session(&state, u.id, user.session_id.as_deref()).await?;
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
        }
        _ => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &Login {
                page: Page::new("Se connecter", None, "espace").crumb("/", "Accueil"),
                email,
                next,
                error: Some("Adresse électronique ou mot de passe incorrect.".into()),
            },
        )),
    }
}

async fn logout(State(state): State<AppState>, user: MaybeUser) -> Result<Response, AppError> {
    if let Some(id) = &user.session_id {
        state.store.delete_web_session(&crate::auth::hash_secret(id)).await?;
    }
    Ok(([(header::SET_COOKIE, closed_session_cookie())], Redirect::to("/")).into_response())
}
