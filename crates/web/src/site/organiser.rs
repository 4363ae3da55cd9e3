//! The organiser's space: their events, the event form with the live conditions panel, submission
//! and withdrawal. The submission rules live in `crate::app::moderation::submit`, shared with the API.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use chrono::Utc;
use si_domain::text::IndustrySignal;
use si_domain::{Audience, Edition, EventData, EventType, Format, Moderation, RegistrationMode, Role, Sector, Theme};
use si_store::{AuditEntry, ChangeOutcome, EventRecord, User};

use crate::AppState;
use crate::app;
use crate::app::moderation::{SubmitRefusal, has_kit, owned_event, save_changes, submit};
use crate::app::open_edition;
use crate::auth::{MaybeUser, OrganiserPage, login_redirect};
use crate::error::AppError;
use crate::forms::Id;
use crate::forms::{Errors, EventForm, Form};
use crate::pages::{Page, PageResult, render, render_status};
use crate::views::{ConditionView, conditions_of};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/espace", get(space))
        .route("/espace/evenements/nouveau", get(new_form).post(create))
        .route("/espace/evenements/{id}", get(edit_form).post(update))
        .route("/espace/evenements/{id}/statut", axum::routing::post(set_status))
        .route("/espace/evenements/{id}/supprimer", axum::routing::post(delete_draft))
        .route("/espace/evenements/{id}/reconduire", axum::routing::post(renew))
}

struct Row {
    id: i64,
    title: String,
    edition: i32,
    moderation: Moderation,
    label_number: Option<String>,
    next: &'static str,
    reason: Option<String>,
    public_status: si_domain::PublicStatus,
    kit: bool,
    renewable: bool,
}

#[derive(Template)]
#[template(path = "space.html")]
struct Space {
    page: Page,
    /// The person's address is not confirmed yet: they may draft, not submit.
    unverified: bool,
    /// What just happened (`verifie`, `lien`).
    flash: String,
    organisation: Option<String>,
    /// The organisation this person asked to join, while a member has not answered.
    requested: Option<String>,
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

async fn space(State(state): State<AppState>, user: MaybeUser, RawQuery(q): RawQuery) -> PageResult {
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
    let open = open_edition(&state.store, state.clock.now()).await?;
    let rows = records
        .into_iter()
        .map(|r| Row {
            public_status: r.public_status,
            kit: has_kit(&r),
            renewable: open.as_ref().is_some_and(|o| r.edition < o.year),
            id: r.id,
            title: if r.data.title.is_empty() { "(sans titre)".into() } else { r.data.title.clone() },
            edition: r.edition,
            moderation: r.moderation,
            label_number: r.label_number.clone(),
            next: match r.moderation {
                Moderation::Draft => "Compléter et soumettre",
                Moderation::Submitted => "En attente de la décision du comité",
                Moderation::ChangesRequested => "Modifier selon la demande du comité, puis soumettre à nouveau",
                Moderation::Labelled if r.pending.is_some() => {
                    "Labellisé ; une modification attend la décision du comité"
                }
                Moderation::Labelled => "Labellisé : l'événement est publié",
                Moderation::Refused => "Refusé",
                Moderation::Withdrawn => "Retiré",
            },
            reason: r.decision_reason.clone(),
        })
        .collect();
    let flash = match q.as_deref() {
        Some("verifie=1") => "verifie",
        Some("lien=1") => "lien",
        Some("supprime=1") => "supprime",
        _ => "",
    };
    let requested = match (u.organisation_id, u.requested_organisation_id) {
        (None, Some(id)) => state.store.organisation(id).await?.map(|o| o.name),
        _ => None,
    };
    Ok(render(&Space {
        requested,
        unverified: !u.email_verified,
        flash: flash.into(),
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
    pending: bool,
    public_status: si_domain::PublicStatus,
    label_number: Option<String>,
    history: Vec<AuditEntry>,
    kit: bool,
    renewable: bool,
}

impl EventFormPage {
    fn editable(&self) -> bool {
        matches!(self.moderation, Moderation::Draft | Moderation::ChangesRequested | Moderation::Labelled)
    }
    fn labelled(&self) -> bool {
        self.moderation == Moderation::Labelled
    }
    fn statuses(&self) -> &'static [si_domain::PublicStatus] {
        si_domain::PublicStatus::ALL
    }
    fn when(&self, at: &chrono::DateTime<Utc>) -> String {
        si_domain::dates::fr_instant(*at)
    }
    fn action_label(&self, action: &str) -> &'static str {
        crate::views::action_label(action)
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
        None => data.eligibility(&edition, chrono::Utc::now()),
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
        pending: record.is_some_and(|r| r.pending.is_some()),
        public_status: record.map(|r| r.public_status).unwrap_or(si_domain::PublicStatus::Scheduled),
        label_number: record.and_then(|r| r.label_number.clone()),
        history: Vec::new(),
        kit: record.is_some_and(has_kit),
        renewable: false,
    }
}

/// The audit entries an organiser sees: submissions and every decision, with their reasons (not
/// the saves of their own drafts).
fn shown_to_organiser(action: &str) -> bool {
    use si_domain::AuditAction::{Create, Update};
    si_domain::AuditAction::parse(action).is_some_and(|a| !matches!(a, Create | Update))
}

/// The form page of an existing event, with its history and what can be done next.
async fn existing_page(
    state: &AppState,
    u: User,
    record: &EventRecord,
    form: EventForm,
    errors: Errors,
    notice: Option<String>,
) -> Result<EventFormPage, AppError> {
    let edition = state.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
    let data = form.to_data().unwrap_or_else(|_| record.working_data().clone());
    let mut page = form_page(u, Some(record.id), form, errors, edition, &data, Some(record), notice);
    page.history = state.store.audit(record.id).await?.into_iter().filter(|a| shown_to_organiser(&a.action)).collect();
    page.renewable = open_edition(&state.store, state.clock.now()).await?.is_some_and(|o| record.edition < o.year);
    Ok(page)
}

async fn new_form(State(state): State<AppState>, OrganiserPage(u): OrganiserPage) -> PageResult {
    let edition = open_edition(&state.store, state.clock.now())
        .await?
        .ok_or_else(|| AppError::Conflict(app::NO_OPEN_EDITION.into()))?;
    let data = EventData::default();
    Ok(render(&form_page(u, None, EventForm::from_data(&data), Errors::default(), edition, &data, None, None)))
}

async fn create(State(state): State<AppState>, OrganiserPage(u): OrganiserPage, Form(p): Form) -> PageResult {
    let edition = open_edition(&state.store, state.clock.now())
        .await?
        .ok_or_else(|| AppError::Conflict(app::NO_OPEN_EDITION.into()))?;
    let form = EventForm::from_pairs(&p);
    let data = match form.to_data() {
        Ok(d) => d,
        Err(errors) => {
            let page = form_page(u, None, form, Errors(errors), edition, &EventData::default(), None, None);
            return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    let record = app::moderation::create(&state.deps(), &u, &edition, &data).await?;
    after_save(&state, u, record, p.get("action") == Some("submit")).await
}

async fn edit_form(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    RawQuery(q): RawQuery,
) -> PageResult {
    let record = owned_event(&state.deps(), &u, id).await?;
    let form = EventForm::from_data(record.working_data());
    let errors = Errors(record.working_data().validate(false));
    let q = crate::forms::Pairs::parse(q.as_deref().unwrap_or(""));
    let notice = if q.get("modification").is_some() {
        Some("Modification envoyée au comité : la version labellisée reste publiée jusqu'à sa décision.".to_string())
    } else if q.get("publie").is_some() {
        Some("Modification enregistrée et publiée.".to_string())
    } else if q.get("statut").is_some() {
        Some("Statut public mis à jour.".to_string())
    } else if q.get("reconduit").is_some() {
        Some(
            "Brouillon créé à partir de votre événement de l'édition précédente : indiquez les nouvelles dates."
                .to_string(),
        )
    } else if q.get("enregistre").is_some() {
        Some("Brouillon enregistré.".to_string())
    } else if q.get("confirmer_suppression").is_some() {
        Some("Pour supprimer ce brouillon, cochez la case de confirmation en bas de page.".to_string())
    } else if q.get("soumis").is_some() {
        record.submitted_at.map(|at| {
            format!(
                "Demande soumise au comité de labellisation : il se prononce au plus tard le {}. Vous recevrez sa décision par courriel.",
                si_domain::dates::fr_date(si_domain::review::due_at(at, record.department.as_deref()).with_timezone(&si_domain::dates::PARIS).date_naive())
            )
        })
    } else {
        None
    };
    Ok(render(&existing_page(&state, u, &record, form, errors, notice).await?))
}

async fn update(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let record = owned_event(&state.deps(), &u, id).await?;
    if p.get("action") == Some("withdraw") {
        app::moderation::withdraw(&state.deps(), &u, &record).await?;
        return Ok(Redirect::to("/espace").into_response());
    }
    let form = EventForm::from_pairs(&p);
    let data = match form.to_data() {
        Ok(d) => d,
        Err(errors) => {
            let page = existing_page(&state, u, &record, form, Errors(errors), None).await?;
            return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
    };
    if record.moderation == Moderation::Labelled {
        // A labelled event must stay complete: an edit that empties a required field is refused here,
        // with everything typed kept, rather than sent to the committee.
        let errors = data.validate(true);
        if !errors.is_empty() {
            let page = existing_page(&state, u, &record, form, Errors(errors), None).await?;
            return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
        }
        let outcome = save_changes(&state.deps(), &u, &record, &data).await?;
        let flag = if outcome == ChangeOutcome::SentToReview { "modification" } else { "publie" };
        return Ok(Redirect::to(&format!("/espace/evenements/{id}?{flag}=1")).into_response());
    }
    if let Err(e) = save_changes(&state.deps(), &u, &record, &data).await {
        let AppError::Conflict(message) = e else { return Err(e.into()) };
        let page = existing_page(&state, u, &record, form, Errors::default(), Some(message)).await?;
        return Ok(render_status(StatusCode::CONFLICT, &page));
    }
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    after_save(&state, u, record, p.get("action") == Some("submit")).await
}

/// After a save: submit when asked, then show the form again with what is left to do.
async fn after_save(state: &AppState, u: User, record: EventRecord, submit_now: bool) -> PageResult {
    let id = record.id;
    if submit_now {
        let (errors, notice) = match submit(&state.deps(), &u, &record).await {
            Ok(_) => return Ok(Redirect::to(&format!("/espace/evenements/{id}?soumis=1")).into_response()),
            Err(SubmitRefusal::Fields(errors)) => {
                (errors, "Brouillon enregistré, mais il reste des champs à compléter avant de soumettre.")
            }
            Err(SubmitRefusal::Conditions(_)) => (
                Vec::new(),
                "Brouillon enregistré, mais l'événement ne remplit pas toutes les conditions : voyez le panneau des conditions.",
            ),
            Err(SubmitRefusal::Other(e)) => return Err(e.into()),
        };
        let form = EventForm::from_data(&record.data);
        let page = existing_page(state, u, &record, form, Errors(errors), Some(notice.into())).await?;
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    Ok(Redirect::to(&format!("/espace/evenements/{id}?enregistre=1")).into_response())
}

/// Deletes a draft, once its deletion is confirmed in the form.
async fn delete_draft(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    if p.get("confirmer") != Some("oui") {
        return Ok(Redirect::to(&format!("/espace/evenements/{id}?confirmer_suppression=1")).into_response());
    }
    app::moderation::delete_draft(&state.deps(), &u, id).await?;
    Ok(Redirect::to("/espace?supprime=1").into_response())
}

/// Sets the public status of a labelled event (postponed, moved online, full, cancelled): no review,
/// public at once.
async fn set_status(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let record = owned_event(&state.deps(), &u, id).await?;
    let Some(status) = p.get("public_status").and_then(si_domain::PublicStatus::parse) else {
        let form = EventForm::from_data(record.working_data());
        let page = existing_page(
            &state,
            u,
            &record,
            form,
            Errors::default(),
            Some("Choisissez un statut dans la liste.".into()),
        )
        .await?;
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    app::moderation::set_public_status(&state.deps(), &u, &record, status).await?;
    Ok(Redirect::to(&format!("/espace/evenements/{id}?statut=1")).into_response())
}

/// « Reconduire » : a draft for the edition open now, from an event of a past edition, dates cleared.
async fn renew(State(state): State<AppState>, OrganiserPage(u): OrganiserPage, Id(id): Id) -> PageResult {
    let record = owned_event(&state.deps(), &u, id).await?;
    let draft = app::moderation::renew(&state.deps(), &u, &record).await?;
    Ok(Redirect::to(&format!("/espace/evenements/{}?reconduit=1", draft.id)).into_response())
}
