//! The organisers' part of the API (`/api/v1/me/…`): their events, created, edited and submitted
//! through the same use cases as the site's form.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use si_domain::event::{Contact, Location, Registration, Safety, SessionInput};
use si_domain::{Audience, EventData, EventType, Format, RegistrationMode, Role, Sector, Theme};
use si_store::{EventRecord, User};
use utoipa::ToSchema;

use super::*;
use crate::AppState;
use crate::app::moderation::{owned_event, submit};
use crate::auth::ApiUser;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::forms::Id;
use crate::views::{MyEventView, my_event_view};

/// An event as an organiser writes it through the API.
#[derive(Deserialize, ToSchema)]
pub(crate) struct EventWrite {
    /// Edition year; the edition open now when absent (creation only).
    edition: Option<i32>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    description: String,
    #[serde(rename = "type")]
    event_type: Option<String>,
    #[serde(default)]
    sectors: Vec<String>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    themes: Vec<String>,
    format: Option<String>,
    #[serde(default)]
    location: Location,
    #[serde(default)]
    online_url: String,
    #[serde(default)]
    sessions: Vec<SessionInput>,
    free: Option<bool>,
    industry_objective: Option<bool>,
    accessible: Option<bool>,
    #[serde(default)]
    safety: Safety,
    registration: Option<RegistrationWrite>,
    #[serde(default)]
    contact: Contact,
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct RegistrationWrite {
    /// `none`, `external` or `platform`.
    mode: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    /// Seats per session (platform mode).
    capacity: Option<u32>,
    /// The most people one booking may bring (platform mode).
    #[serde(default)]
    max_group: Option<u32>,
    /// Classes and other groups may book (platform mode; default true).
    #[serde(default)]
    groups: Option<bool>,
    /// Individuals may book (platform mode; default true).
    #[serde(default)]
    individuals: Option<bool>,
    /// A full session takes a waiting list (platform mode).
    #[serde(default)]
    waitlist: bool,
    /// Booking closes this many hours before a session (platform mode).
    #[serde(default)]
    closes_hours_before: u32,
}

pub(crate) fn code_list<T: Ord>(
    codes: &[String],
    field: &str,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> ApiResult<Vec<T>> {
    si_domain::codes::parse_codes(codes, parse).map_err(|bad| {
        AppError::invalid(field, format!("Valeur inconnue : « {bad} ». Valeurs possibles : {}.", all.join(", ")))
    })
}

pub(crate) fn one_code<T: Copy>(
    code: &Option<String>,
    field: &str,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> ApiResult<Option<T>> {
    match code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => parse(c).map(Some).ok_or_else(|| {
            AppError::invalid(field, format!("Valeur inconnue : « {c} ». Valeurs possibles : {}.", all.join(", ")))
        }),
    }
}

impl EventWrite {
    fn into_data(self) -> ApiResult<EventData> {
        let codes = |all: &[&'static str]| all.to_vec();
        let types: Vec<&str> = EventType::ALL.iter().map(|t| t.code()).collect();
        let formats: Vec<&str> = Format::ALL.iter().map(|t| t.code()).collect();
        let sectors: Vec<&str> = Sector::ALL.iter().map(|t| t.code()).collect();
        let audiences: Vec<&str> = Audience::ALL.iter().map(|t| t.code()).collect();
        let themes: Vec<&str> = Theme::ALL.iter().map(|t| t.code()).collect();
        let modes: Vec<&str> = RegistrationMode::ALL.iter().map(|t| t.code()).collect();
        let registration = match self.registration {
            None => Registration::default(),
            Some(r) => Registration {
                mode: one_code(&Some(r.mode), "registration.mode", RegistrationMode::parse, &codes(&modes))?
                    .unwrap_or(RegistrationMode::None),
                url: r.url.trim().into(),
                email: r.email.trim().into(),
                phone: r.phone.trim().into(),
                capacity: r.capacity,
                max_group: r.max_group,
                groups: r.groups.unwrap_or(true),
                individuals: r.individuals.unwrap_or(true),
                waitlist: r.waitlist,
                closes_hours_before: r.closes_hours_before,
            },
        };
        let mut data = EventData {
            title: self.title,
            summary: self.summary,
            description: self.description,
            event_type: one_code(&self.event_type, "type", EventType::parse, &types)?,
            sectors: code_list(&self.sectors, "sectors", Sector::parse, &sectors)?,
            audiences: code_list(&self.audiences, "audiences", Audience::parse, &audiences)?,
            themes: code_list(&self.themes, "themes", Theme::parse, &themes)?,
            format: one_code(&self.format, "format", Format::parse, &formats)?,
            location: self.location,
            online_url: self.online_url,
            sessions: self.sessions,
            free: self.free,
            industry_objective: self.industry_objective,
            accessible: self.accessible,
            safety: self.safety,
            registration,
            contact: self.contact,
        };
        data.normalise();
        if let Some(e) = data.validate_draft().into_iter().next() {
            return Err(AppError::invalid(e.field, e.message));
        }
        Ok(data)
    }
}

/// A token holder who organises events, with their organisation: checked before the body is read,
/// so that a person without the role gets 403 whatever they send.
pub(crate) struct ApiOrganiser(User);

impl axum::extract::FromRequestParts<AppState> for ApiOrganiser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, AppError> {
        let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
        organiser(&user)?;
        Ok(ApiOrganiser(user))
    }
}

pub(crate) fn organiser(user: &User) -> ApiResult<i64> {
    match (user.role, user.organisation_id) {
        (Role::Organiser, Some(org)) => Ok(org),
        _ => Err(AppError::Forbidden("Ces opérations sont réservées aux organisateurs d'événements.".into())),
    }
}

pub(crate) async fn my_view(state: &AppState, r: &EventRecord) -> ApiResult<MyEventView> {
    let edition = state.store.edition(r.edition).await?.ok_or(AppError::NotFound)?;
    Ok(my_event_view(r, &edition))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct MyEvents {
    total: usize,
    items: Vec<MyEventView>,
}

/// The events of my organisation.
#[utoipa::path(get, path = "/api/v1/me/events", tag = "organisateur", security(("jeton" = [])),
    responses((status = 200, description = "Succès", body = MyEvents), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 403, description = "Accès refusé", body = ErrorBody)))]
pub(crate) async fn my_events(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
) -> ApiResult<Json<MyEvents>> {
    let org = organiser(&user)?;
    let mut items = Vec::new();
    for r in state.store.organisation_events(org).await? {
        items.push(my_view(&state, &r).await?);
    }
    Ok(Json(MyEvents { total: items.len(), items }))
}

/// Creates a draft.
#[utoipa::path(post, path = "/api/v1/me/events", tag = "organisateur", security(("jeton" = [])), request_body = EventWrite,
    responses((status = 201, description = "Créé", body = MyEventView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 403, description = "Accès refusé", body = ErrorBody), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub(crate) async fn create_my_event(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
    ApiJson(body): ApiJson<EventWrite>,
) -> ApiResult<Response> {
    let org = organiser(&user)?;
    let edition = match body.edition {
        Some(year) => state
            .store
            .edition(year)
            .await?
            .ok_or_else(|| AppError::invalid("edition", format!("L'édition {year} n'existe pas.")))?,
        None => crate::app::open_edition(&state.store, state.clock.now()).await?.ok_or_else(|| {
            AppError::invalid("edition", "Aucune édition n'est ouverte : indiquez l'année de l'édition.")
        })?,
    };
    let data = body.into_data()?;
    let id = state.store.create_event(edition.year, org, user.id, &data).await?;
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(my_event_view(&record, &edition))).into_response())
}

/// One of my organisation's events.
#[utoipa::path(get, path = "/api/v1/me/events/{id}", tag = "organisateur", security(("jeton" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "Succès", body = MyEventView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 404, description = "Introuvable", body = ErrorBody)))]
pub(crate) async fn get_my_event(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
    Id(id): Id,
) -> ApiResult<Json<MyEventView>> {
    organiser(&user)?;
    let record = owned_event(&state.deps(), &user, id).await?;
    Ok(Json(my_view(&state, &record).await?))
}

/// Deletes a draft that was never submitted (409 for any other event: withdraw a submission instead).
#[utoipa::path(delete, path = "/api/v1/me/events/{id}", tag = "organisateur", security(("jeton" = [])), params(("id" = i64, Path)),
    responses((status = 204, description = "Brouillon supprimé"), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 404, description = "Introuvable", body = ErrorBody), (status = 409, description = "Conflit avec l'état actuel", body = ErrorBody)))]
pub(crate) async fn delete_my_event(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
    Id(id): Id,
) -> ApiResult<axum::http::StatusCode> {
    organiser(&user)?;
    crate::app::moderation::delete_draft(&state.deps(), &user, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Replaces the content of a draft (or of an event awaiting changes).
#[utoipa::path(put, path = "/api/v1/me/events/{id}", tag = "organisateur", security(("jeton" = [])), params(("id" = i64, Path)), request_body = EventWrite,
    responses((status = 200, description = "Succès", body = MyEventView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 404, description = "Introuvable", body = ErrorBody), (status = 409, description = "Conflit avec l'état actuel", body = ErrorBody), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub(crate) async fn update_my_event(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
    Id(id): Id,
    ApiJson(body): ApiJson<EventWrite>,
) -> ApiResult<Json<MyEventView>> {
    organiser(&user)?;
    let record = owned_event(&state.deps(), &user, id).await?;
    if body.edition.is_some_and(|y| y != record.edition) {
        return Err(AppError::invalid("edition", "L'édition d'un événement ne peut pas être changée."));
    }
    let data = body.into_data()?;
    crate::app::moderation::save_changes(&state.deps(), &user, &record, &data).await?;
    let record = state.store.event(record.id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(my_view(&state, &record).await?))
}

/// Submits for labelling: 422 with the failed conditions when one is not met.
#[utoipa::path(post, path = "/api/v1/me/events/{id}/submit", tag = "organisateur", security(("jeton" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "Succès", body = MyEventView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 404, description = "Introuvable", body = ErrorBody), (status = 409, description = "Conflit avec l'état actuel", body = ErrorBody), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub(crate) async fn submit_my_event(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
    Id(id): Id,
) -> ApiResult<Json<MyEventView>> {
    organiser(&user)?;
    let record = owned_event(&state.deps(), &user, id).await?;
    let submitted = submit(&state.deps(), &user, &record).await?;
    Ok(Json(my_view(&state, &submitted).await?))
}
