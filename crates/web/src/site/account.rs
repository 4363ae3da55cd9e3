//! Accounts: sign-up of an organiser with their organisation, login and logout.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use si_domain::identifiers::{Siret, Uai};
use si_domain::input::links::RESET_MINUTES;
use si_domain::input::links::VERIFY_HOURS;
use si_domain::input::{EMAIL_MAX, NAME_MAX, PASSWORD_MAX, name_problem, password_problem};
use si_domain::territory::{Department, territory};
use si_domain::{IdentifierKind, OrganisationKind, Role};
use si_store::{NewOrganisation, NewUser, StoreError};

use crate::AppState;
use crate::auth::{MaybeUser, Source, closed_session_cookie, hash_password, open_session, verify_password};
use crate::directory::Lookup;
use crate::error::AppError;
use crate::forms::{Errors, Form, Pairs, safe_next};
use crate::pages::{Page, PageResult, render, render_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inscription", get(signup_form).post(signup))
        .route("/connexion", get(login_form).post(login))
        .route("/deconnexion", axum::routing::post(logout))
        .route("/mot-de-passe-oublie", get(forgot_form).post(forgot))
        .route("/mot-de-passe/{token}", get(choose_form).post(choose))
        .route("/verification/{token}", get(verify_form).post(verify))
        .route("/espace/verification", axum::routing::post(resend_verification))
}

/// Makes a confirmation link for a person's address and queues its letter with it.
async fn send_verification(state: &AppState, person: si_store::User) -> Result<(), crate::error::AppError> {
    crate::app::accounts::send_one_time_link(&state.deps(), person.id, chrono::Duration::hours(VERIFY_HOURS), |token| {
        crate::notify::verification_link(&state.letters, &person, token)
    })
    .await
}

/// The page a confirmation link opens: a button, so that mail scanners fetching the link do not
/// use it up.
async fn verify_form(
    State(state): State<AppState>,
    user: MaybeUser,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> PageResult {
    link_page(&state, user, token, "confirm").await
}

/// The page of a one-time link: `mode` while the link is live, « expired » (404) otherwise.
async fn link_page(state: &AppState, user: MaybeUser, token: String, mode: &'static str) -> PageResult {
    let found = state.store.peek_password_token(&crate::auth::hash_secret(&token), state.clock.now()).await?;
    let (mode, status) = if found.is_some() { (mode, StatusCode::OK) } else { ("expired", StatusCode::NOT_FOUND) };
    Ok(render_status(status, &password_page(user.user, mode, String::new(), token, Errors::default())))
}

/// Confirms the address of the link's person and opens their space.
async fn verify(
    State(state): State<AppState>,
    user: MaybeUser,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> PageResult {
    let Some(person) = state.store.use_password_token(&crate::auth::hash_secret(&token), state.clock.now()).await?
    else {
        return Ok(render_status(
            StatusCode::NOT_FOUND,
            &password_page(user.user, "expired", String::new(), token, Errors::default()),
        ));
    };
    // The request reaches the members once the person is known to own the address: the letters are
    // queued with the confirmation.
    let letters = match (person.organisation_id, person.requested_organisation_id) {
        (None, Some(org)) => crate::notify::membership_requested(&state.letters, org, &person).await?,
        _ => Vec::new(),
    };
    state.store.mark_email_verified(person.id, &letters, chrono::Utc::now()).await?;
    state.letters.mail.wake();
    let cookie = open_session(&state, person.id, user.session_id.as_deref()).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/espace?verifie=1")).into_response())
}

/// A new confirmation link for the logged-in person (at most three an hour).
async fn resend_verification(State(state): State<AppState>, user: MaybeUser) -> PageResult {
    let Some(u) = user.user else { return Ok(crate::auth::login_redirect("/espace")) };
    if u.email_verified {
        return Ok(Redirect::to("/espace").into_response());
    }
    if let Err(wait) = state.throttle.reset_address.take(&format!("verify:{}", u.email)) {
        let message = "Trois liens ont déjà été envoyés cette heure-ci : consultez votre messagerie (et ses indésirables), ou réessayez plus tard.";
        return Err(crate::error::AppError::too_many(message, wait).into());
    }
    send_verification(&state, u).await?;
    Ok(Redirect::to("/espace?lien=1").into_response())
}

/// The answer to every accepted sign-up, whether or not the address already had an account.
fn check_mailbox(user: MaybeUser, email: String) -> Response {
    render(&password_page(user.user, "check", email, String::new(), Errors::default()))
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
        "check" => "Vérifiez votre messagerie",
        "confirm" => "Confirmer votre adresse électronique",
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

/// Sends a reset link when the address has an account; answers the same either way, so that the page
/// does not tell who has an account.
async fn forgot(State(state): State<AppState>, user: MaybeUser, Source(source): Source, Form(p): Form) -> PageResult {
    let email = p.get("email").unwrap_or("").to_lowercase();
    if !si_domain::event::is_email(&email) {
        let mut errors = Errors::default();
        errors.add("email", "Indiquez l'adresse électronique de votre compte, par exemple prenom.nom@entreprise.fr.");
        // What was typed is shown again, within the bound of an address (it may be anything).
        let kept: String = email.chars().take(EMAIL_MAX).collect();
        let page = password_page(user.user, "forgot", kept, String::new(), errors);
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    // Too many requests from this place or from everyone: said plainly (it reveals nothing of the
    // address). Beyond the allowance of one address the page answers as usual and sends nothing.
    let t = &state.throttle;
    let allowed = match t.reset_source.take_everywhere(&state.store, &source).await {
        Ok(()) => t.reset_global.take(""),
        Err(w) => Err(w),
    };
    if let Err(wait) = allowed {
        return Err(crate::error::AppError::too_many(
            "Trop de demandes de lien depuis votre connexion : réessayez un peu plus tard.",
            wait,
        )
        .into());
    }
    if t.reset_address.take_everywhere(&state.store, &email).await.is_ok() {
        // The link is made after the answer, so that its time does not tell who has an account.
        let (bg, email) = (state.clone(), email.clone());
        state.after_answer(async move {
            if let Err(e) = send_password_link(&bg, &email).await {
                tracing::error!(error = %e.message(), "password link not sent");
            }
        });
    }
    Ok(render(&password_page(user.user, "sent", email, String::new(), Errors::default())))
}

/// Makes and sends a password link when the address has a live account.
async fn send_password_link(state: &AppState, email: &str) -> Result<(), crate::error::AppError> {
    if let Some(u) = state.store.user_by_email(email).await?.filter(|u| !u.revoked) {
        crate::app::accounts::send_one_time_link(
            &state.deps(),
            u.id,
            chrono::Duration::minutes(RESET_MINUTES),
            |token| crate::notify::password_link(&state.letters, &u, token, false),
        )
        .await?;
    }
    Ok(())
}

async fn choose_form(
    State(state): State<AppState>,
    user: MaybeUser,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> PageResult {
    link_page(&state, user, token, "choose").await
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
    if let Some(problem) = password_problem(&password) {
        errors.add("password", problem);
    } else if password != p.raw("confirmation") {
        errors.add("confirmation", "Les deux mots de passe ne sont pas identiques.");
    }
    let hash = crate::auth::hash_secret(&token);
    if !errors.is_empty() {
        let still = state.store.peek_password_token(&hash, state.clock.now()).await?.is_some();
        let mode = if still { "choose" } else { "expired" };
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &password_page(user.user, mode, String::new(), token, errors),
        ));
    }
    let Some(person) = state.store.use_password_token(&hash, state.clock.now()).await? else {
        return Ok(render_status(
            StatusCode::NOT_FOUND,
            &password_page(user.user, "expired", String::new(), token, errors),
        ));
    };
    state.store.set_password(person.id, &hash_password(password).await?, &[], chrono::Utc::now()).await?;
    // The owner is back in: whatever an attacker spent of this account's login allowance is restored.
    state.throttle.login_account.reset_everywhere(&state.store, &person.email).await;
    let cookie = open_session(&state, person.id, user.session_id.as_deref()).await?;
    let home = if person.role == Role::Organiser { "/espace" } else { "/instruction" };
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(home)).into_response())
}

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

async fn signup(State(state): State<AppState>, user: MaybeUser, Source(source): Source, Form(p): Form) -> PageResult {
    let mut errors = Errors::default();
    let name = p.get("name").unwrap_or("").to_string();
    let email = p.get("email").unwrap_or("").to_lowercase();
    let password = p.raw("password");
    let mut org_name = p.get("organisation").unwrap_or("").to_string();
    if let Some(m) = name_problem(&name, "Indiquez vos prénom et nom.") {
        errors.add("name", m);
    }
    if !si_domain::event::is_email(&email) {
        errors.add("email", "Saisissez une adresse électronique valide, par exemple prenom.nom@entreprise.fr.");
    }
    if let Some(problem) = password_problem(&password) {
        errors.add("password", problem);
    } else if password != p.raw("password_confirm") {
        errors.add("password_confirm", "Les deux mots de passe ne sont pas identiques.");
    }
    let kind = p.get("kind").and_then(OrganisationKind::parse);
    if kind.is_none() {
        errors.add("kind", "Choisissez le type de votre organisation.");
    }
    // With a SIRET or UAI the name may be left empty: the directory's is taken (checked below).
    let numbered = kind.and_then(OrganisationKind::identifier_kind).is_some();
    if (!org_name.is_empty() || !numbered)
        && let Some(m) = name_problem(&org_name, "Indiquez le nom de votre organisation.")
    {
        errors.add("organisation", m);
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
    if let Err(wait) = state.throttle.signup_source.take_everywhere(&state.store, &source).await {
        return Err(crate::error::AppError::too_many(
            "Trop de comptes créés depuis votre connexion : réessayez dans une heure.",
            wait,
        )
        .into());
    }
    // The number is checked against its public directory: an establishment that is not listed, or is
    // closed, cannot open an account; when the directory does not answer, only the check digits were
    // verified, and the organisation is flagged so to the reviewer.
    let check = match (&identifier, kind.and_then(OrganisationKind::identifier_kind)) {
        (Some(id), Some(k)) => {
            let (lookup, register) = match k {
                IdentifierKind::Siret => (state.directories.siret(id).await, "le répertoire des entreprises (Sirene)"),
                IdentifierKind::Uai => (state.directories.uai(id).await, "l'annuaire de l'éducation"),
            };
            match lookup {
                Lookup::Open { name, .. } => {
                    if org_name.is_empty() {
                        org_name = name.chars().take(NAME_MAX).collect();
                    }
                    Some("directory")
                }
                Lookup::Closed { name } => {
                    errors.add(
                        "identifier",
                        format!("Selon {register}, l'établissement {id} ({name}) est fermé. Indiquez le numéro d'un établissement en activité."),
                    );
                    None
                }
                Lookup::Unknown => {
                    errors.add(
                        "identifier",
                        format!(
                            "Le numéro {id} ne figure pas dans {register}. Vérifiez-le sur vos documents officiels."
                        ),
                    );
                    None
                }
                Lookup::Unavailable => Some("checksum"),
            }
        }
        _ => None,
    };
    if org_name.is_empty() && errors.get("identifier").is_none() {
        errors.add("organisation", "Indiquez le nom de votre organisation.");
    }
    if !errors.is_empty() {
        return Ok(signup_page(user, p, errors));
    }
    // The password is hashed whatever happens, so that the answer takes as long whether or not the
    // address already has an account; and the answer is the same (its owner is told by email).
    let hash = hash_password(password).await?;
    if let Some(existing) = state.store.user_by_email(&email).await? {
        // At most three such letters an hour per address: nobody can flood an owner's mailbox.
        if state.throttle.reset_address.take(&format!("signup:{email}")).is_ok() {
            let bg = state.clone();
            state.after_answer(async move { crate::notify::signup_on_existing_account(&bg.letters, &existing).await });
        }
        return Ok(check_mailbox(user, email));
    }
    // An organisation that already has an account is joined, not duplicated: the new person asks, a
    // member accepts (after the person has confirmed their address). The answer is the same page.
    let existing_org = match &identifier {
        Some(id) => state.store.organisation_by_identifier(id).await?,
        None => None,
    };
    let (org_id, join) = match existing_org {
        Some(o) => (None, Some(o.id)),
        None => match state
            .store
            .create_organisation(&NewOrganisation {
                name: org_name,
                kind: kind.unwrap_or(OrganisationKind::Autre),
                department: department.unwrap_or_default(),
                identifier: identifier.clone(),
            })
            .await
        {
            Ok(o) => {
                if let Some(c) = check {
                    state.store.set_identifier_check(o.id, c, state.clock.now()).await?;
                }
                (Some(o.id), None)
            }
            // The same organisation signed up at the same moment: this person asks to join it.
            Err(StoreError::Conflict(_)) => {
                let id = identifier.as_deref().unwrap_or_default();
                (None, state.store.organisation_by_identifier(id).await?.map(|o| o.id))
            }
            Err(e) => return Err(e.into()),
        },
    };
    let created = state
        .store
        .create_user(&NewUser {
            email: email.clone(),
            name,
            password_hash: hash,
            role: Role::Organiser,
            region: None,
            organisation_id: org_id,
        })
        .await;
    if let (Ok(new_user), Some(org)) = (&created, join) {
        state.store.request_membership(new_user.id, org).await?;
    }
    match created {
        Ok(new_user) => send_verification(&state, new_user).await?,
        // The same address signed up at the same moment: the answer stays the same.
        Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(check_mailbox(user, email))
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    page: Page,
    email: String,
    next: String,
    error: Option<String>,
    /// Every session was just ended (« se déconnecter partout »).
    ended: bool,
    /// ProConnect is offered (coordinators and administrators).
    proconnect: bool,
}

async fn login_form(State(state): State<AppState>, user: MaybeUser, RawQuery(q): RawQuery) -> Response {
    let p = Pairs::parse(q.as_deref().unwrap_or(""));
    render(&Login {
        page: Page::new("Se connecter", user.user, "espace").crumb("/", "Accueil"),
        email: String::new(),
        next: safe_next(p.get("suivant")),
        error: None,
        ended: p.get("deconnecte").is_some(),
        proconnect: state.oidc.is_some(),
    })
}

impl Login {
    /// The way back after login, as a query value.
    fn next_encoded(&self) -> String {
        crate::forms::urlencode(&self.next)
    }
}

fn login_page(state: &AppState, email: String, next: String, error: &str) -> Login {
    let proconnect = state.oidc.is_some();
    Login {
        page: Page::new("Se connecter", None, "espace").crumb("/", "Accueil"),
        email: email.chars().take(EMAIL_MAX).collect(),
        next,
        error: Some(error.into()),
        ended: false,
        proconnect,
    }
}

/// Logs a person in. Each attempt is counted before the password is checked (atomically, so parallel
/// guesses cannot outrun the count): per source, per account from this source, per account from
/// anywhere, and for everyone (the hashing capacity). A success gives the attempt back.
async fn login(State(state): State<AppState>, user: MaybeUser, Source(source): Source, Form(p): Form) -> PageResult {
    let email = p.get("email").unwrap_or("").to_lowercase();
    let password = p.raw("password");
    let next = safe_next(p.get("suivant"));
    let wrong = "Adresse électronique ou mot de passe incorrect.";
    if !si_domain::event::is_email(&email) || password.is_empty() || password.chars().count() > PASSWORD_MAX {
        // Not an address or not a password of ours: no account to look up, no hash to compute.
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &login_page(&state, email, next, wrong)));
    }
    let t = &state.throttle;
    let pair = format!("{email}|{source}");
    // The global allowance is taken last: one place flooding stops at its own limit without spending
    // what everyone else shares.
    // Each limit held across nodes (the database) after this node's own; the first refusal stops.
    let limited = async {
        t.login_source
            .take_everywhere(&state.store, &source)
            .await
            .map_err(|w| (w, "Trop de tentatives de connexion depuis votre connexion : réessayez dans un quart d'heure."))?;
        t.login_account_source.take_everywhere(&state.store, &pair).await.map_err(|w| (w, "Trop de tentatives de connexion pour cette adresse : réessayez dans un quart d'heure, ou choisissez un nouveau mot de passe avec « Mot de passe oublié ? »."))?;
        t.login_account.take_everywhere(&state.store, &email).await.map_err(|w| (w, "Trop de tentatives de connexion pour cette adresse : choisissez un nouveau mot de passe avec « Mot de passe oublié ? » pour vous connecter."))?;
        t.login_global.take("").map_err(|w| {
            (w, "La plateforme reçoit en ce moment trop de tentatives de connexion : réessayez dans une minute.")
        })
    }
    .await;
    if let Err((wait, message)) = limited {
        // Guessing stops here, without telling whether the account exists.
        let mut resp = render_status(StatusCode::TOO_MANY_REQUESTS, &login_page(&state, email, next, message));
        resp.headers_mut().insert(header::RETRY_AFTER, wait.as_secs().max(1).into());
        return Ok(resp);
    }
    let found = state.store.user_by_email(&email).await?;
    let hash = found.as_ref().map(|u| u.password_hash.clone());
    // A revoked person's password is still verified, so that timing does not tell them apart.
    let ok = verify_password(password, hash).await? && found.as_ref().is_some_and(|u| !u.revoked);
    match found {
        Some(u) if ok => {
            t.login_account_source.reset_everywhere(&state.store, &pair).await;
            t.login_source.give_back_everywhere(&state.store, &source).await;
            t.login_account.give_back_everywhere(&state.store, &email).await;
            let cookie = open_session(&state, u.id, user.session_id.as_deref()).await?;
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
        }
        _ => Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &login_page(&state, email, next, wrong))),
    }
}

async fn logout(State(state): State<AppState>, user: MaybeUser) -> Result<Response, AppError> {
    if let Some(id) = &user.session_id {
        state.store.delete_web_session(&crate::auth::hash_secret(id)).await?;
    }
    Ok(([(header::SET_COOKIE, closed_session_cookie())], Redirect::to("/")).into_response())
}
