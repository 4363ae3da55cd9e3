//! The people of an organisation and each person's own account: members listed, invited, removed;
//! requests to join answered; address and password changed; every session ended at once.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::Duration;
use si_domain::Role;
use si_domain::input::{EMAIL_MAX, name_problem, password_problem};
use si_store::{NewUser, StoreError, User};

use crate::AppState;
use crate::app::accounts::send_one_time_link;
use crate::auth::{
    MaybeUser, OrganiserPage, PersonPage, closed_session_cookie, hash_password, hash_secret, open_session,
    random_secret, verify_password,
};
use crate::error::AppError;
use crate::forms::Id;
use crate::forms::{Errors, Form};
use crate::pages::{Page, PageResult, render, render_status};

use si_domain::input::links::{EMAIL_CHANGE_HOURS, INVITATION_DAYS};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/espace/membres", get(members).post(invite))
        .route("/espace/membres/{id}", post(member_action))
        .route("/espace/compte", get(account))
        .route("/espace/compte/adresse", post(change_email))
        .route("/espace/compte/mot-de-passe", post(change_password))
        .route("/espace/compte/sessions", post(end_sessions))
        .route("/adresse/{token}", get(email_link).post(confirm_email))
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    page: Page,
    organisation: String,
    me: i64,
    members: Vec<User>,
    requests: Vec<User>,
    name: String,
    email: String,
    errors: Errors,
    notice: Option<String>,
}

async fn members_page(
    state: &AppState,
    u: User,
    typed: (String, String),
    errors: Errors,
    notice: Option<String>,
) -> PageResult {
    let org_id = u.organisation_id.ok_or(AppError::Forbidden("Aucune organisation.".into()))?;
    let organisation = state.store.organisation(org_id).await?.map(|o| o.name).unwrap_or_default();
    let members = state.store.organisation_members(org_id).await?;
    let requests = state.store.membership_requests(org_id).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let me = u.id;
    let page =
        Page::new("Membres de l'organisation", Some(u), "espace").crumb("/", "Accueil").crumb("/espace", "Mon espace");
    Ok(render_status(
        status,
        &MembersPage { page, organisation, me, members, requests, name: typed.0, email: typed.1, errors, notice },
    ))
}

async fn members(State(state): State<AppState>, OrganiserPage(u): OrganiserPage, RawQuery(q): RawQuery) -> PageResult {
    let notice = match q.as_deref() {
        Some("accepte=1") => Some("La demande est acceptée : la personne est désormais membre.".to_string()),
        Some("refuse=1") => Some("La demande est refusée.".to_string()),
        Some("retire=1") => {
            Some("La personne ne fait plus partie de l'organisation ; ses sessions sont fermées.".to_string())
        }
        _ => None,
    };
    members_page(&state, u, Default::default(), Errors::default(), notice).await
}

/// A member invites a colleague by address: an account is opened in the organisation and a 7-day
/// link lets the colleague choose a password (which also confirms the address).
async fn invite(State(state): State<AppState>, OrganiserPage(u): OrganiserPage, Form(p): Form) -> PageResult {
    let org_id = u.organisation_id.ok_or(AppError::Forbidden("Aucune organisation.".into()))?;
    let name = p.get("name").unwrap_or("").to_string();
    let email = p.get("email").unwrap_or("").to_lowercase();
    let mut errors = Errors::default();
    if let Some(m) = name_problem(&name, "Indiquez les prénom et nom de la personne.") {
        errors.add("name", m);
    }
    if !si_domain::event::is_email(&email) {
        errors.add("email", "Saisissez une adresse électronique valide, par exemple prenom.nom@entreprise.fr.");
    }
    let typed = (name.clone(), email.chars().take(EMAIL_MAX).collect::<String>());
    if !errors.is_empty() {
        return members_page(&state, u, typed, errors, None).await;
    }
    // A member cannot flood mailboxes from the platform: ten invitations an hour.
    if let Err(wait) = state.throttle.signup_source.take(&format!("invite:{}", u.id)) {
        return Err(crate::error::AppError::too_many(
            "Vous avez envoyé beaucoup d'invitations cette heure-ci : réessayez plus tard.",
            wait,
        )
        .into());
    }
    let created = state
        .store
        .create_user(&NewUser {
            email: email.clone(),
            name,
            password_hash: hash_password(random_secret()).await?,
            role: Role::Organiser,
            region: None,
            organisation_id: Some(org_id),
        })
        .await;
    let invitee = match created {
        Ok(person) => person,
        Err(StoreError::Conflict(_)) => {
            errors.add(
                "email",
                "Cette adresse a déjà un compte sur la plateforme : un compte ne peut pas être rattaché sans l'accord de son titulaire. Écrivez à l'équipe de la Semaine de l'industrie pour le rattacher à votre organisation.",
            );
            return members_page(&state, u, typed, errors, None).await;
        }
        Err(e) => return Err(AppError::from(e).into()),
    };
    let org = crate::notify::organisation_name(&state.letters, org_id).await;
    send_one_time_link(&state.deps(), invitee.id, Duration::days(INVITATION_DAYS), |token| {
        crate::notify::member_invitation(&state.letters, &invitee, &u, &org, token)
    })
    .await?;
    let notice = Some(format!("Invitation envoyée à {email} : le lien est valable {INVITATION_DAYS} jours."));
    members_page(&state, u, Default::default(), Errors::default(), notice).await
}

/// Accepts or declines a request to join, or removes a member (never oneself).
async fn member_action(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let org_id = u.organisation_id.ok_or(AppError::Forbidden("Aucune organisation.".into()))?;
    let person = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    let done = match p.get("action") {
        Some(a @ ("accept" | "decline")) => {
            let accept = a == "accept";
            let told = crate::notify::membership_settled(&state.letters, &person, org_id, accept).await;
            if !state.store.settle_membership(org_id, id, accept, &[told], chrono::Utc::now()).await? {
                return Err(AppError::NotFound.into());
            }
            state.letters.mail.wake();
            if accept { "accepte" } else { "refuse" }
        }
        Some("remove") if id == u.id => {
            let mut errors = Errors::default();
            errors
                .add("members", "Vous ne pouvez pas vous retirer vous-même : demandez à un autre membre de le faire.");
            return members_page(&state, u, Default::default(), errors, None).await;
        }
        Some("remove") => {
            if !state.store.remove_member(org_id, id).await? {
                return Err(AppError::NotFound.into());
            }
            "retire"
        }
        _ => return Err(AppError::invalid("action", "Choisissez une action : accepter, refuser ou retirer.").into()),
    };
    Ok(Redirect::to(&format!("/espace/membres?{done}=1")).into_response())
}

#[derive(Template)]
#[template(path = "account_settings.html")]
struct AccountPage {
    page: Page,
    email: String,
    new_email: String,
    errors: Errors,
    notice: Option<String>,
}

fn account_page(u: User, new_email: String, errors: Errors, notice: Option<String>) -> axum::response::Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let email = u.email.clone();
    let page = Page::new("Mon compte", Some(u), "espace").crumb("/", "Accueil").crumb("/espace", "Mon espace");
    render_status(status, &AccountPage { page, email, new_email, errors, notice })
}

async fn account(PersonPage(u): PersonPage, RawQuery(q): RawQuery) -> axum::response::Response {
    let notice = match q.as_deref() {
        Some("adresse=1") => {
            Some("Votre nouvelle adresse électronique est confirmée : c'est désormais celle de votre compte.")
        }
        Some("lien=1") => Some(
            "Un lien de confirmation a été envoyé à la nouvelle adresse : votre adresse change quand vous le suivez.",
        ),
        Some("mot-de-passe=1") => {
            Some("Votre mot de passe est changé. Vos autres sessions et vos jetons d'API sont fermés.")
        }
        _ => None,
    };
    account_page(u, String::new(), Errors::default(), notice.map(str::to_string))
}

/// Checks the current password typed to confirm a change, within the account's login allowance
/// (a stolen session cannot be used to guess the password).
async fn current_password_ok(state: &AppState, u: &User, typed: String) -> Result<bool, crate::pages::PageError> {
    if let Err(wait) = state.throttle.login_account.take_everywhere(&state.store, &u.email).await {
        return Err(crate::error::AppError::too_many(
            "Trop d'essais de mot de passe pour ce compte : réessayez plus tard.",
            wait,
        )
        .into());
    }
    Ok(verify_password(typed, Some(u.password_hash.clone())).await?)
}

/// Sends a confirmation link to the new address; the address changes when it is followed.
async fn change_email(State(state): State<AppState>, PersonPage(u): PersonPage, Form(p): Form) -> PageResult {
    let new_email = p.get("new_email").unwrap_or("").to_lowercase();
    let kept: String = new_email.chars().take(EMAIL_MAX).collect();
    let mut errors = Errors::default();
    if !si_domain::event::is_email(&new_email) {
        errors.add("new_email", "Saisissez une adresse électronique valide, par exemple prenom.nom@entreprise.fr.");
    } else if new_email == u.email {
        errors.add("new_email", "C'est déjà l'adresse de votre compte.");
    }
    if errors.is_empty() && !current_password_ok(&state, &u, p.raw("password")).await? {
        errors.add("password", "Ce mot de passe n'est pas celui de votre compte.");
    }
    if !errors.is_empty() {
        return Ok(account_page(u, kept, errors, None));
    }
    if let Err(wait) = state.throttle.reset_address.take(&format!("email-change:{}", u.id)) {
        let message = "Trois liens ont déjà été envoyés cette heure-ci : consultez la nouvelle messagerie, ou réessayez plus tard.";
        return Err(crate::error::AppError::too_many(message, wait).into());
    }
    let token = random_secret();
    let expires = state.clock.now() + Duration::hours(EMAIL_CHANGE_HOURS);
    // The link and its letter in one transaction (the letter goes to the new address).
    let letter = crate::notify::email_change_link(&state.letters, &u, &new_email, &token);
    state
        .store
        .create_email_change(&hash_secret(&token), u.id, &new_email, expires, &[letter], chrono::Utc::now())
        .await?;
    state.letters.mail.wake();
    Ok(Redirect::to("/espace/compte?lien=1").into_response())
}

#[derive(Template)]
#[template(path = "email_change.html")]
struct EmailLinkPage {
    page: Page,
    token: String,
    /// The address the link makes the account's (shown before it is confirmed).
    new_email: String,
    /// `confirm`, `expired` or `taken`.
    mode: &'static str,
}

/// The page a confirmation link opens: a button, so that mail scanners do not use the link up.
async fn email_link(State(state): State<AppState>, user: MaybeUser, Path(token): Path<String>) -> PageResult {
    let page = Page::new("Confirmer votre nouvelle adresse", user.user, "espace").crumb("/", "Accueil");
    Ok(match state.store.peek_email_change(&hash_secret(&token), state.clock.now()).await? {
        Some(new_email) => render(&EmailLinkPage { page, token, new_email, mode: "confirm" }),
        None => render_status(
            StatusCode::NOT_FOUND,
            &EmailLinkPage { page, token, new_email: String::new(), mode: "expired" },
        ),
    })
}

async fn confirm_email(State(state): State<AppState>, user: MaybeUser, Path(token): Path<String>) -> PageResult {
    let page = Page::new("Confirmer votre nouvelle adresse", user.user.clone(), "espace").crumb("/", "Accueil");
    // The old address is told in the change's own transaction.
    let letters = state.letters.clone();
    let tell = move |old: &si_store::User, new_email: &str| {
        let what = format!(
            "L'adresse électronique de votre compte sur la plateforme de la Semaine de l'industrie a été remplacée par {new_email}."
        );
        vec![crate::notify::sign_in_changed(&letters, &old.email, &what)]
    };
    match state.store.use_email_change(&hash_secret(&token), state.clock.now(), &tell).await {
        Ok(Some(_)) => {
            state.letters.mail.wake();
            let to = if user.user.is_some() { "/espace/compte?adresse=1" } else { "/connexion" };
            Ok(Redirect::to(to).into_response())
        }
        Ok(None) => Ok(render_status(
            StatusCode::NOT_FOUND,
            &EmailLinkPage { page, token, new_email: String::new(), mode: "expired" },
        )),
        Err(StoreError::Conflict(_)) => Ok(render_status(
            StatusCode::CONFLICT,
            &EmailLinkPage { page, token, new_email: String::new(), mode: "taken" },
        )),
        Err(e) => Err(AppError::from(e).into()),
    }
}

/// A new password, given the current one: every other session and every API token ends.
async fn change_password(
    State(state): State<AppState>,
    PersonPage(u): PersonPage,
    user: MaybeUser,
    Form(p): Form,
) -> PageResult {
    let password = p.raw("new_password");
    let mut errors = Errors::default();
    if let Some(problem) = password_problem(&password) {
        errors.add("new_password", problem);
    } else if password != p.raw("confirmation") {
        errors.add("confirmation", "Les deux mots de passe ne sont pas identiques.");
    }
    if errors.is_empty() && !current_password_ok(&state, &u, p.raw("current_password")).await? {
        errors.add("current_password", "Ce mot de passe n'est pas celui de votre compte.");
    }
    if !errors.is_empty() {
        return Ok(account_page(u, String::new(), errors, None));
    }
    let what = "Le mot de passe de votre compte sur la plateforme de la Semaine de l'industrie a été changé.";
    let told = crate::notify::sign_in_changed(&state.letters, &u.email, what);
    state.store.set_password(u.id, &hash_password(password).await?, &[told], chrono::Utc::now()).await?;
    state.letters.mail.wake();
    // This browser stays in, under a new session id; every other one is out.
    let cookie = open_session(&state, u.id, user.session_id.as_deref()).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/espace/compte?mot-de-passe=1")).into_response())
}

/// « Se déconnecter partout »: every session of the person ends, this one included.
async fn end_sessions(State(state): State<AppState>, PersonPage(u): PersonPage) -> PageResult {
    state.store.end_sessions(u.id).await?;
    Ok(([(header::SET_COOKIE, closed_session_cookie())], Redirect::to("/connexion?deconnecte=1")).into_response())
}
