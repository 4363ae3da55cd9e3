//! National administration (`/admin`): editions (dates, window, opening, deadline, theme, per-region
//! dates) with validation, coordinators (invite, assign a region, revoke), the reviewers' reason
//! templates, and the state of the email outbox. National administrators only.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use si_domain::dates::{PARIS, paris_instant};
use si_domain::input::links::INVITATION_DAYS;
use si_domain::{Edition, RegionDates, Role};
use si_store::{NewUser, OutboxStats, ReasonTemplate, StoreError, User};

use crate::AppState;
use crate::auth::{AdminPage, hash_password, random_secret};
use crate::error::AppError;
use crate::forms::Id;
use crate::forms::{Errors, Form, Pairs};
use crate::pages::{Page, PageResult, render, render_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/editions/nouvelle", get(new_edition).post(create_edition))
        .route("/admin/editions/{year}", get(edit_edition).post(save_edition))
        .route("/admin/coordinateurs", get(coordinators).post(invite))
        .route("/admin/coordinateurs/{id}", post(change_coordinator))
        .route("/admin/motifs", get(reasons).post(save_reason))
}

fn admin_page(title: &str, u: User) -> Page {
    Page::new(title, Some(u), "admin").crumb("/", "Accueil").crumb("/admin", "Administration")
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Overview {
    page: Page,
    editions: Vec<Edition>,
    outbox: OutboxStats,
    reviewers: usize,
    now: chrono::DateTime<Utc>,
}

impl Overview {
    fn state(&self, e: &Edition) -> &'static str {
        if e.is_open_at(self.now) {
            "Labellisation ouverte"
        } else if self.now < e.opens_at {
            "À venir"
        } else {
            "Labellisation close"
        }
    }
}

async fn overview(State(state): State<AppState>, AdminPage(u): AdminPage) -> PageResult {
    Ok(render(&Overview {
        page: Page::new("Administration", Some(u), "admin").crumb("/", "Accueil"),
        editions: state.store.editions().await?,
        outbox: state.store.outbox_stats().await?,
        reviewers: state.store.reviewers().await?.iter().filter(|r| !r.revoked).count(),
        now: state.clock.now(),
    }))
}

/// An edition's form, every field as typed.
#[derive(Default, Clone)]
struct EditionForm {
    year: String,
    number: String,
    theme: String,
    demo: bool,
    week_start: String,
    week_end: String,
    eligible_from: String,
    eligible_to: String,
    opens_at: String,
    deadline: String,
    /// (region, week_start, week_end, eligible_from, eligible_to), blank rows included.
    regions: Vec<[String; 5]>,
}

const LOCAL_MINUTES: &str = "%Y-%m-%dT%H:%M";

impl EditionForm {
    fn from_edition(e: &Edition) -> EditionForm {
        let local = |at: chrono::DateTime<Utc>| at.with_timezone(&PARIS).format(LOCAL_MINUTES).to_string();
        let mut regions: Vec<[String; 5]> = e
            .regions
            .iter()
            .map(|o| {
                [
                    o.region.clone(),
                    o.week_start.to_string(),
                    o.week_end.to_string(),
                    o.eligible_from.to_string(),
                    o.eligible_to.to_string(),
                ]
            })
            .collect();
        regions.push(Default::default());
        EditionForm {
            year: e.year.to_string(),
            number: e.number.to_string(),
            theme: e.theme.clone(),
            demo: e.demo,
            week_start: e.week_start.to_string(),
            week_end: e.week_end.to_string(),
            eligible_from: e.eligible_from.to_string(),
            eligible_to: e.eligible_to.to_string(),
            opens_at: local(e.opens_at),
            deadline: local(e.deadline),
            regions,
        }
    }

    fn from_pairs(p: &Pairs) -> EditionForm {
        let cols: Vec<Vec<String>> = ["o_region", "o_week_start", "o_week_end", "o_eligible_from", "o_eligible_to"]
            .iter()
            .map(|k| p.all_raw(k))
            .collect();
        let rows = cols.iter().map(Vec::len).max().unwrap_or(0);
        let regions = (0..rows)
            .map(|i| std::array::from_fn(|c| cols[c].get(i).map(|v| v.trim().to_string()).unwrap_or_default()))
            .collect();
        let text = |k: &str| p.get(k).unwrap_or("").to_string();
        EditionForm {
            year: text("year"),
            number: text("number"),
            theme: text("theme"),
            demo: p.get("demo").is_some(),
            week_start: text("week_start"),
            week_end: text("week_end"),
            eligible_from: text("eligible_from"),
            eligible_to: text("eligible_to"),
            opens_at: text("opens_at"),
            deadline: text("deadline"),
            regions,
        }
    }

    /// The edition, or every error found (each field named).
    fn to_edition(&self) -> Result<Edition, Errors> {
        let mut errors = Errors::default();
        let date = |errors: &mut Errors, field: &str, v: &str, what: &str| -> Option<NaiveDate> {
            match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.add(field, format!("Indiquez {what} au format AAAA-MM-JJ."));
                    None
                }
            }
        };
        let instant = |errors: &mut Errors, field: &str, v: &str, what: &str| match NaiveDateTime::parse_from_str(
            v,
            LOCAL_MINUTES,
        )
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S"))
        {
            Ok(d) => Some(paris_instant(d)),
            Err(_) => {
                errors.add(field, format!("Indiquez {what} au format AAAA-MM-JJTHH:MM (heure de Paris)."));
                None
            }
        };
        let year = self.year.parse::<i32>().ok().filter(|y| (2011..=2100).contains(y));
        if year.is_none() {
            errors.add("year", "L'année doit être un nombre entre 2011 et 2100.");
        }
        let number = self.number.parse::<i32>().ok();
        if number.is_none() {
            errors.add("number", "Le numéro de l'édition doit être un nombre entier.");
        }
        if self.theme.chars().count() > 200 {
            errors.add("theme", "Le thème ne doit pas dépasser 200 caractères.");
        }
        let week_start = date(&mut errors, "week_start", &self.week_start, "le premier jour de la semaine");
        let week_end = date(&mut errors, "week_end", &self.week_end, "le dernier jour de la semaine");
        let eligible_from = date(&mut errors, "eligible_from", &self.eligible_from, "le premier jour éligible");
        let eligible_to = date(&mut errors, "eligible_to", &self.eligible_to, "le dernier jour éligible");
        let opens_at = instant(&mut errors, "opens_at", &self.opens_at, "l'ouverture de la labellisation");
        let deadline = instant(&mut errors, "deadline", &self.deadline, "la date limite de dépôt");
        let mut regions = Vec::new();
        for (i, r) in self.regions.iter().enumerate() {
            if r.iter().all(|v| v.is_empty()) {
                continue;
            }
            let field = format!("regions[{i}]");
            let d: Vec<Option<NaiveDate>> =
                r[1..].iter().map(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()).collect();
            match (r[0].is_empty(), d[0], d[1], d[2], d[3]) {
                (false, Some(ws), Some(we), Some(ef), Some(et)) => regions.push(RegionDates {
                    region: r[0].clone(),
                    week_start: ws,
                    week_end: we,
                    eligible_from: ef,
                    eligible_to: et,
                }),
                (true, ..) => errors.add(&field, format!("Ligne {} : choisissez la région.", i + 1)),
                _ => errors.add(&field, format!("Ligne {} : indiquez les quatre dates au format AAAA-MM-JJ.", i + 1)),
            }
        }
        let (Some(year), Some(number), Some(ws), Some(we), Some(ef), Some(et), Some(o), Some(d)) =
            (year, number, week_start, week_end, eligible_from, eligible_to, opens_at, deadline)
        else {
            return Err(errors);
        };
        let edition = Edition {
            year,
            number,
            theme: self.theme.trim().to_string(),
            demo: self.demo,
            week_start: ws,
            week_end: we,
            eligible_from: ef,
            eligible_to: et,
            opens_at: o,
            deadline: d,
            regions,
        };
        for (field, message) in edition.validate() {
            errors.add(field, message);
        }
        if errors.is_empty() { Ok(edition) } else { Err(errors) }
    }
}

#[derive(Template)]
#[template(path = "admin_edition.html")]
struct EditionPage {
    page: Page,
    creating: bool,
    form: EditionForm,
    errors: Errors,
    regions: Vec<(String, String)>,
}

impl EditionPage {
    fn new(u: User, creating: bool, form: EditionForm, errors: Errors) -> EditionPage {
        let title = if creating { "Nouvelle édition".to_string() } else { format!("Édition {}", form.year) };
        EditionPage {
            page: admin_page(&title, u),
            creating,
            form,
            errors,
            regions: si_domain::territory::territory()
                .regions()
                .iter()
                .map(|r| (r.code.clone(), r.name.clone()))
                .collect(),
        }
    }
    fn row_error(&self, i: &usize) -> Option<&str> {
        self.errors.get(&format!("regions[{i}]"))
    }
    fn is(&self, a: &str, b: &str) -> bool {
        a == b
    }
    fn region_errors(&self) -> Option<&str> {
        self.errors.get("regions")
    }
}

async fn new_edition(State(state): State<AppState>, AdminPage(u): AdminPage) -> PageResult {
    // Start from the latest edition a year later: most fields only move by a year.
    let form = match state.store.editions().await?.into_iter().find(|e| !e.demo) {
        Some(last) => {
            let shift = |d: NaiveDate| d.checked_add_signed(Duration::weeks(52)).unwrap_or(d);
            let next = Edition {
                year: last.year + 1,
                number: last.number + 1,
                theme: String::new(),
                demo: false,
                week_start: shift(last.week_start),
                week_end: shift(last.week_end),
                eligible_from: shift(last.eligible_from),
                eligible_to: shift(last.eligible_to),
                opens_at: last.opens_at + Duration::weeks(52),
                deadline: last.deadline + Duration::weeks(52),
                regions: Vec::new(),
            };
            EditionForm::from_edition(&next)
        }
        None => EditionForm { regions: vec![Default::default()], ..EditionForm::default() },
    };
    Ok(render(&EditionPage::new(u, true, form, Errors::default())))
}

async fn create_edition(State(state): State<AppState>, AdminPage(u): AdminPage, Form(p): Form) -> PageResult {
    let form = EditionForm::from_pairs(&p);
    match form.to_edition() {
        Ok(e) if state.store.edition(e.year).await?.is_some() => {
            let mut errors = Errors::default();
            errors.add("year", format!("L'édition {} existe déjà : modifiez-la depuis la liste.", e.year));
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &EditionPage::new(u, true, form, errors)))
        }
        Ok(e) => {
            state.store.upsert_edition(&e).await?;
            // The public lists and filters know the editions from the catalogue index.
            state.public_changed();
            Ok(Redirect::to(&format!("/admin/editions/{}?enregistre=1", e.year)).into_response())
        }
        Err(errors) => Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &EditionPage::new(u, true, form, errors))),
    }
}

async fn edit_edition(State(state): State<AppState>, AdminPage(u): AdminPage, Path(year): Path<String>) -> PageResult {
    let year: i32 = year.parse().map_err(|_| AppError::NotFound)?;
    let e = state.store.edition(year).await?.ok_or(AppError::NotFound)?;
    Ok(render(&EditionPage::new(u, false, EditionForm::from_edition(&e), Errors::default())))
}

async fn save_edition(
    State(state): State<AppState>,
    AdminPage(u): AdminPage,
    Path(year): Path<String>,
    Form(p): Form,
) -> PageResult {
    let year: i32 = year.parse().map_err(|_| AppError::NotFound)?;
    state.store.edition(year).await?.ok_or(AppError::NotFound)?;
    let mut form = EditionForm::from_pairs(&p);
    // The year identifies the edition (label numbers carry it): it is not edited here.
    form.year = year.to_string();
    match form.to_edition() {
        Ok(e) => {
            state.store.upsert_edition(&e).await?;
            // Dates and themes show on public pages.
            state.public_changed();
            Ok(Redirect::to(&format!("/admin/editions/{year}?enregistre=1")).into_response())
        }
        Err(errors) => Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &EditionPage::new(u, false, form, errors))),
    }
}

struct ReviewerRow {
    user: User,
    region: String,
}

#[derive(Template)]
#[template(path = "admin_coordinators.html")]
struct Coordinators {
    page: Page,
    rows: Vec<ReviewerRow>,
    regions: Vec<(String, String)>,
    errors: Errors,
    name: String,
    email: String,
    role: String,
    region: String,
    notice: Option<String>,
}

async fn coordinators_page(
    state: &AppState,
    u: User,
    errors: Errors,
    typed: [String; 4],
    notice: Option<String>,
) -> Result<Coordinators, AppError> {
    let territory = si_domain::territory::territory();
    let rows = state
        .store
        .reviewers()
        .await?
        .into_iter()
        .map(|r| ReviewerRow {
            region: r.region.as_deref().map(|c| territory.region_name(c)).unwrap_or_else(|| "Toutes".into()),
            user: r,
        })
        .collect();
    let [name, email, role, region] = typed;
    Ok(Coordinators {
        page: admin_page("Coordinateurs et administrateurs", u),
        rows,
        regions: territory.regions().iter().map(|r| (r.code.clone(), r.name.clone())).collect(),
        errors,
        name,
        email,
        role,
        region,
        notice,
    })
}

async fn coordinators(State(state): State<AppState>, AdminPage(u): AdminPage) -> PageResult {
    Ok(render(&coordinators_page(&state, u, Errors::default(), Default::default(), None).await?))
}

/// Invites a coordinator (or an administrator): an account with an unusable password, and an email
/// with a one-time link to choose one.
async fn invite(State(state): State<AppState>, AdminPage(u): AdminPage, Form(p): Form) -> PageResult {
    let name = p.get("name").unwrap_or("").to_string();
    let email = p.get("email").unwrap_or("").to_lowercase();
    let role_code = p.get("role").unwrap_or("regional_coordinator").to_string();
    let region = p.get("region").unwrap_or("").to_string();
    let mut errors = Errors::default();
    if let Some(m) = si_domain::input::name_problem(&name, "Indiquez le nom de la personne.") {
        errors.add("name", m);
    }
    if !si_domain::event::is_email(&email) {
        errors.add("email", "Indiquez une adresse électronique valide, par exemple prenom.nom@example.gouv.fr.");
    }
    let role = match role_code.as_str() {
        "regional_coordinator" => Role::RegionalCoordinator,
        "national_admin" => Role::NationalAdmin,
        _ => {
            errors.add("role", "Choisissez le rôle : coordination régionale ou administration nationale.");
            Role::RegionalCoordinator
        }
    };
    if role == Role::RegionalCoordinator && si_domain::territory::territory().region(&region).is_none() {
        errors.add("region", "Choisissez la région de la coordination.");
    }
    let typed = [name.clone(), email.clone(), role_code, region.clone()];
    if !errors.is_empty() {
        let page = coordinators_page(&state, u, errors, typed, None).await?;
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let created = state
        .store
        .create_user(&NewUser {
            email: email.clone(),
            name,
            password_hash: hash_password(random_secret()).await?,
            role,
            region: (role == Role::RegionalCoordinator).then_some(region),
            organisation_id: None,
        })
        .await;
    let invited = match created {
        Ok(user) => user,
        Err(StoreError::Conflict(m)) => {
            errors.add("email", m);
            let page = coordinators_page(&state, u, errors, typed, None).await?;
            return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
        Err(e) => return Err(AppError::from(e).into()),
    };
    crate::app::accounts::send_one_time_link(&state.deps(), invited.id, Duration::days(INVITATION_DAYS), |token| {
        crate::notify::password_link(&state.letters, &invited, token, true)
    })
    .await?;
    let notice = format!("Invitation envoyée à {email}.");
    Ok(render(&coordinators_page(&state, u, Errors::default(), Default::default(), Some(notice)).await?))
}

/// Assigns another region, or revokes access.
async fn change_coordinator(
    State(state): State<AppState>,
    AdminPage(u): AdminPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let target = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    if !matches!(target.role, Role::RegionalCoordinator | Role::NationalAdmin) {
        return Err(AppError::NotFound.into());
    }
    let mut errors = Errors::default();
    let notice = match p.get("action") {
        Some("revoke") if target.id == u.id => {
            errors.add("revoke", "Vous ne pouvez pas retirer votre propre accès.");
            None
        }
        Some("revoke") => {
            state.store.revoke_user(id, state.clock.now()).await?;
            Some(format!("Accès de {} retiré : ses sessions et jetons sont fermés.", target.email))
        }
        Some("region") => {
            let region = p.get("region").unwrap_or("");
            if si_domain::territory::territory().region(region).is_none() || target.role != Role::RegionalCoordinator {
                errors.add("region", "Choisissez une région pour cette coordination.");
                None
            } else {
                state.store.set_user_role(id, Role::RegionalCoordinator, Some(region)).await?;
                Some(format!(
                    "{} coordonne désormais {}.",
                    target.email,
                    si_domain::territory::territory().region_name(region)
                ))
            }
        }
        _ => {
            errors.add("action", "Action inconnue.");
            None
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render_status(status, &coordinators_page(&state, u, errors, Default::default(), notice).await?))
}

#[derive(Template)]
#[template(path = "admin_reasons.html")]
struct Reasons {
    page: Page,
    templates: Vec<ReasonTemplate>,
    errors: Errors,
    new_title: String,
    new_body: String,
    notice: Option<String>,
}

async fn reasons(State(state): State<AppState>, AdminPage(u): AdminPage) -> PageResult {
    Ok(render(&Reasons {
        page: admin_page("Motifs types", u),
        templates: state.store.reason_templates().await?,
        errors: Errors::default(),
        new_title: String::new(),
        new_body: String::new(),
        notice: None,
    }))
}

/// Creates, edits or deletes a reason template.
async fn save_reason(State(state): State<AppState>, AdminPage(u): AdminPage, Form(p): Form) -> PageResult {
    let id = p.get("id").and_then(|v| v.parse::<i64>().ok());
    let title = p.get("title").unwrap_or("").to_string();
    let body = p.raw("body").trim().to_string();
    let mut errors = Errors::default();
    let notice = if p.get("action") == Some("delete") {
        if let Some(id) = id {
            state.store.delete_reason_template(id).await?;
        }
        Some("Motif type supprimé.".to_string())
    } else {
        if title.is_empty() || title.chars().count() > 80 {
            errors.add("title", "Indiquez un intitulé court (80 caractères au plus).");
        }
        if body.is_empty() || body.chars().count() > si_domain::input::REASON_MAX {
            errors.add("body", "Indiquez le texte du motif (2 000 caractères au plus).");
        }
        if errors.is_empty() {
            match state.store.save_reason_template(id, &title, &body).await {
                Ok(()) => Some("Motif type enregistré.".to_string()),
                Err(StoreError::NotFound) => return Err(AppError::NotFound.into()),
                Err(e) => return Err(AppError::from(e).into()),
            }
        } else {
            None
        }
    };
    let failed = !errors.is_empty();
    let mut templates = state.store.reason_templates().await?;
    // An edit with errors comes back as typed, in its own form (the stored text is unchanged).
    if let (true, Some(id)) = (failed, id)
        && let Some(t) = templates.iter_mut().find(|t| t.id == id)
    {
        t.title = title.clone();
        t.body = body.clone();
    }
    let page = Reasons {
        page: admin_page("Motifs types", u),
        templates,
        errors,
        // A new template with errors is shown again as typed in the « new » form.
        new_title: if failed && id.is_none() { title } else { String::new() },
        new_body: if failed && id.is_none() { body } else { String::new() },
        notice,
    };
    Ok(render_status(if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, &page))
}
