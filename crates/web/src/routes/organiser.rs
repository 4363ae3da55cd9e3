//! The organiser's space: their events, the event form with the live conditions panel, submission
//! and withdrawal. The submission rules live in [`submit`], shared with the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use chrono::Utc;
use si_domain::text::IndustrySignal;
use si_domain::{
    Audience, Edition, EventData, EventType, FieldError, Format, Moderation, RegistrationMode, Role, Sector, Theme,
};
use si_store::{EventRecord, Transition, User};

use crate::AppState;
use crate::auth::{MaybeUser, OrganiserPage, login_redirect};
use crate::error::AppError;
use crate::forms::{Errors, EventForm, Form};
use crate::pages::{Page, PageResult, render, render_status};
use crate::routes::open_edition;
use crate::views::{ConditionView, conditions_of};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/espace", get(space))
        .route("/espace/evenements/nouveau", get(new_form).post(create))
        .route("/espace/evenements/{id}", get(edit_form).post(update))
}

/// Why a submission was refused.
pub(crate) enum SubmitRefusal {
    /// Fields to fill in or correct.
    Fields(Vec<FieldError>),
    /// Conditions not met.
    Conditions(Vec<si_domain::Condition>),
    /// Anything else (state, store).
    Other(AppError),
}

impl From<AppError> for SubmitRefusal {
    fn from(e: AppError) -> Self {
        SubmitRefusal::Other(e)
    }
}

impl From<SubmitRefusal> for AppError {
    fn from(r: SubmitRefusal) -> Self {
        match r {
            SubmitRefusal::Fields(f) => {
                let first = &f[0];
                AppError::Invalid {
                    code: "incomplete",
                    message: first.message.clone(),
                    field: Some(first.field.clone()),
                }
            }
            SubmitRefusal::Conditions(c) => AppError::ConditionsNotMet(c),
            SubmitRefusal::Other(e) => e,
        }
    }
}

/// Submits an event for labelling: complete, every condition met, now.
pub(crate) async fn submit(state: &AppState, user: &User, record: &EventRecord) -> Result<EventRecord, SubmitRefusal> {
    let errors = record.data.validate(true);
    if !errors.is_empty() {
        return Err(SubmitRefusal::Fields(errors));
    }
    let edition = state.store.edition(record.edition).await.map_err(AppError::from)?.ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let report = record.data.eligibility(&edition, now);
    if !report.eligible {
        return Err(SubmitRefusal::Conditions(report.conditions.into_iter().filter(|c| !c.met).collect()));
    }
    let t = Transition {
        id: record.id,
        actor: user.id,
        from: &[Moderation::Draft, Moderation::ChangesRequested],
        to: Moderation::Submitted,
        action: "submit",
        reason: None,
        at: now,
    };
    Ok(state.store.transition(&t).await.map_err(AppError::from)?)
}

/// The event if this person's organisation owns it; 404 otherwise (its existence is not revealed).
pub(crate) async fn owned_event(state: &AppState, user: &User, id: i64) -> Result<EventRecord, AppError> {
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    if user.organisation_id != Some(record.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(record)
}

struct Row {
    id: i64,
    title: String,
    edition: i32,
    moderation: Moderation,
    label_number: Option<String>,
    next: &'static str,
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "space.html")]
struct Space {
    page: Page,
    organisation: Option<String>,
    open: Option<Edition>,
    rows: Vec<Row>,
}

impl Space {
    fn badge(&self, m: &Moderation) -> &'static str {
        match m {
            Moderation::Labelled => "fr-badge--success",
            Moderation::Refused => "fr-badge--error",
            Moderation::ChangesRequested => "fr-badge--warning",
            Moderation::Submitted => "fr-badge--info",
            _ => "fr-badge--new",
        }
    }
    fn deadline(&self, e: &Edition) -> String {
        si_domain::dates::fr_instant(e.deadline)
    }
}

async fn space(State(state): State<AppState>, user: MaybeUser) -> PageResult {
    let Some(u) = user.user else {
        return Ok(login_redirect("/espace"));
    };
    if u.role != Role::Organiser {
        return Ok(Redirect::to("/instruction").into_response());
    }
    let org = match u.organisation_id {
        Some(id) => state.store.organisation(id).await?,
        None => None,
    };
    let records = match &org {
        Some(o) => state.store.organisation_events(o.id).await?,
        None => Vec::new(),
    };
    let rows = records
        .into_iter()
        .map(|r| Row {
            id: r.id,
            title: if r.data.title.is_empty() { "(sans titre)".into() } else { r.data.title.clone() },
            edition: r.edition,
            moderation: r.moderation,
            label_number: r.label_number.clone(),
            next: match r.moderation {
                Moderation::Draft => "Compléter et soumettre",
                Moderation::Submitted => "En attente de la décision du comité",
                Moderation::ChangesRequested => "Modifier selon la demande du comité, puis soumettre à nouveau",
                Moderation::Labelled => "Labellisé : l'événement est publié",
                Moderation::Refused => "Refusé",
                Moderation::Withdrawn => "Retiré",
            },
            reason: r.decision_reason.clone(),
        })
        .collect();
    let open = open_edition(&state).await?;
    Ok(render(&Space {
        page: Page::new("Mon espace", Some(u), "espace").crumb("/", "Accueil"),
        organisation: org.map(|o| o.name),
        open,
        rows,
    }))
}

#[derive(Template)]
#[template(path = "event_form.html")]
struct EventFormPage {
    page: Page,
    id: Option<i64>,
    form: EventForm,
    errors: Errors,
    conditions: Vec<ConditionView>,
    signal: IndustrySignal,
    edition: Edition,
    moderation: Moderation,
    decision_reason: Option<String>,
    communes: Vec<(String, String)>,
    notice: Option<String>,
}

impl EventFormPage {
    fn editable(&self) -> bool {
        matches!(self.moderation, Moderation::Draft | Moderation::ChangesRequested)
    }
    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/espace/evenements/{id}"),
            None => "/espace/evenements/nouveau".into(),
        }
    }
    fn types(&self) -> &'static [EventType] {
        EventType::ALL
    }
    fn sectors(&self) -> &'static [Sector] {
        Sector::ALL
    }
    fn audiences(&self) -> &'static [Audience] {
        Audience::ALL
    }
    fn themes(&self) -> &'static [Theme] {
        Theme::ALL
    }
    fn formats(&self) -> &'static [Format] {
        Format::ALL
    }
    fn modes(&self) -> &'static [RegistrationMode] {
        RegistrationMode::ALL
    }
    fn has(&self, list: &[String], code: &str) -> bool {
        list.iter().any(|c| c == code)
    }
    fn deadline(&self) -> String {
        si_domain::dates::fr_instant(self.edition.deadline)
    }
    fn all_met(&self) -> bool {
        self.conditions.iter().all(|c| c.met)
    }
    fn matched_words(&self) -> String {
        self.signal.matched.join(", ")
    }
    fn session_error(&self, i: &usize, part: &str) -> Option<&str> {
        self.errors.0.iter().find(|e| e.field == format!("sessions[{i}].{part}")).map(|e| e.message.as_str())
    }
    fn moderation_label(&self) -> &'static str {
        self.moderation.label()
    }
}

fn communes_for(postal_code: &str) -> Vec<(String, String)> {
    si_domain::territory::territory()
        .communes_by_postal_code(postal_code)
        .into_iter()
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect()
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site per form state; a builder would only rename the arguments"
)]
fn form_page(
    user: User,
    id: Option<i64>,
    form: EventForm,
    errors: Errors,
    edition: Edition,
    data: &EventData,
    record: Option<&EventRecord>,
    notice: Option<String>,
) -> EventFormPage {
    let report = match record {
        Some(r) => conditions_of(&EventRecord { data: data.clone(), ..r.clone() }, &edition),
        None => data.eligibility(&edition, Utc::now()),
    };
    let title = if id.is_some() { "Mon événement" } else { "Nouvel événement" };
    EventFormPage {
        page: Page::new(title, Some(user), "espace").crumb("/", "Accueil").crumb("/espace", "Mon espace"),
        id,
        communes: communes_for(&form.postal_code),
        form,
        errors,
        conditions: report.conditions.iter().map(ConditionView::from).collect(),
        signal: report.industry_signal,
        moderation: record.map(|r| r.moderation).unwrap_or(Moderation::Draft),
        decision_reason: record.and_then(|r| r.decision_reason.clone()),
        edition,
        notice,
    }
}

async fn new_form(State(state): State<AppState>, OrganiserPage(u): OrganiserPage) -> PageResult {
    let edition = open_edition(&state).await?.ok_or_else(|| {
        AppError::Conflict(
            "La labellisation n'est pas ouverte en ce moment : aucune édition n'accepte de dépôt.".into(),
        )
    })?;
    let data = EventData::default();
    Ok(render(&form_page(u, None, EventForm::default(), Errors::default(), edition, &data, None, None)))
}

async fn create(State(state): State<AppState>, OrganiserPage(u): OrganiserPage, Form(p): Form) -> PageResult {
    let edition = open_edition(&state).await?.ok_or_else(|| {
        AppError::Conflict(
            "La labellisation n'est pas ouverte en ce moment : aucune édition n'accepte de dépôt.".into(),
        )
    })?;
    let form = EventForm::from_pairs(&p);
    let data = match form.to_data() {
        Ok(d) => d,
        Err(errors) => {
            let page = form_page(u, None, form, Errors(errors), edition, &EventData::default(), None, None);
            return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let org = u.organisation_id.ok_or(AppError::Forbidden("Aucune organisation.".into()))?;
    let id = state.store.create_event(edition.year, org, u.id, &data).await?;
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    after_save(&state, u, record, form, p.get("action") == Some("submit")).await
}

async fn edit_form(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let record = owned_event(&state, &u, id).await?;
    let edition = state.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
    let form = EventForm::from_data(&record.data);
    let errors = Errors(record.data.validate(false));
    let saved = crate::forms::Pairs::parse(q.as_deref().unwrap_or("")).get("enregistre").is_some();
    let notice = saved.then(|| "Brouillon enregistré.".to_string());
    Ok(render(&form_page(u, Some(id), form, errors, edition, &record.data.clone(), Some(&record), notice)))
}

async fn update(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Path(id): Path<String>,
    Form(p): Form,
) -> PageResult {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let record = owned_event(&state, &u, id).await?;
    let edition = state.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
    if p.get("action") == Some("withdraw") {
        let t = Transition {
            id,
            actor: u.id,
            from: &[Moderation::Submitted],
            to: Moderation::Withdrawn,
            action: "withdraw",
            reason: None,
            at: Utc::now(),
        };
        state.store.transition(&t).await?;
        return Ok(Redirect::to("/espace").into_response());
    }
    let form = EventForm::from_pairs(&p);
    let data = match form.to_data() {
        Ok(d) => d,
        Err(errors) => {
            let page = form_page(u, Some(id), form, Errors(errors), edition, &record.data.clone(), Some(&record), None);
            return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    state.store.update_event(id, u.id, &data).await?;
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    after_save(&state, u, record, form, p.get("action") == Some("submit")).await
}

/// After a save: submit when asked, then show the form again with what is left to do.
async fn after_save(state: &AppState, u: User, record: EventRecord, form: EventForm, submit_now: bool) -> PageResult {
    let edition = state.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
    let id = record.id;
    if submit_now {
        match submit(state, &u, &record).await {
            Ok(_) => return Ok(Redirect::to(&format!("/espace/evenements/{id}")).into_response()),
            Err(SubmitRefusal::Fields(errors)) => {
                let page = form_page(
                    u,
                    Some(id),
                    EventForm::from_data(&record.data),
                    Errors(errors),
                    edition,
                    &record.data.clone(),
                    Some(&record),
                    Some("Brouillon enregistré, mais il reste des champs à compléter avant de soumettre.".into()),
                );
                return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
            }
            Err(SubmitRefusal::Conditions(_)) => {
                let page = form_page(
                    u,
                    Some(id),
                    EventForm::from_data(&record.data),
                    Errors::default(),
                    edition,
                    &record.data.clone(),
                    Some(&record),
                    Some("Brouillon enregistré, mais l'événement ne remplit pas toutes les conditions : voyez le panneau des conditions.".into()),
                );
                return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
            }
            Err(SubmitRefusal::Other(e)) => return Err(e.into()),
        }
    }
    let _ = form;
    Ok(Redirect::to(&format!("/espace/evenements/{id}?enregistre=1")).into_response())
}
