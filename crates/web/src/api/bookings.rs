//! Bookings through the API (SPEC.md §6): a session booked without an account, then read, resized
//! or cancelled through the booking's secret link. The same use cases as the site's forms.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use si_domain::booking::BookingInput;
use si_store::Booking;
use utoipa::ToSchema;

use super::ApiJson;
use crate::AppState;
use crate::app::bookings;
use crate::auth::Source;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::forms::Pairs;

/// A booking request.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RegistrationRequest {
    /// `classe` (a class or another group, by its teacher) or `personne`.
    #[schema(example = "classe")]
    kind: String,
    /// The school's UAI (classes).
    #[serde(default)]
    #[schema(example = "0750655E")]
    uai: String,
    /// The school's name (classes).
    #[serde(default)]
    school: String,
    /// The class level (classes): `college`, `seconde`, `premiere`, `terminale`, `cap`, `bac_pro`,
    /// `bts`, `superieur`, `apprentissage`, `autre`.
    #[serde(default)]
    level: String,
    /// Pupils (classes).
    // The bounds here are `si_domain::booking::CLASS_MAX` (a test compares them).
    #[serde(default)]
    #[schema(maximum = 80)]
    pupils: u32,
    /// Accompanying adults (classes).
    #[serde(default)]
    #[schema(maximum = 80)]
    adults: u32,
    /// A phone reachable on the day (classes).
    #[serde(default)]
    phone: String,
    /// The contact's name.
    name: String,
    /// The contact's email: the confirmation, with its secret link, goes there.
    email: String,
    /// The site's safety rules were read and are accepted (required).
    #[serde(default)]
    acknowledged: bool,
}

/// A booking as its contact reads it.
#[derive(Serialize, ToSchema)]
pub(crate) struct RegistrationView {
    /// Reference (`R-…`).
    reference: String,
    /// `confirmed`, `waitlisted` or `cancelled`.
    status: String,
    /// The event.
    event_id: i64,
    /// The session (`sessions[].id` of the event).
    session: String,
    /// Seats taken (or asked for, while waiting).
    seats: u32,
    /// `classe` or `personne`.
    kind: String,
    /// Pupils (classes).
    pupils: u32,
    /// Adults (classes).
    adults: u32,
    /// The secret link to read, change or cancel the booking (given once, when booking; keep it).
    #[serde(skip_serializing_if = "Option::is_none")]
    manage_url: Option<String>,
}

fn view(b: &Booking, manage_url: Option<String>) -> RegistrationView {
    RegistrationView {
        reference: format!("R-{}", b.id),
        status: b.status.code().to_string(),
        event_id: b.event_id,
        session: format!("{}-{}", b.event_id, b.rank),
        seats: b.seats,
        kind: b.kind.clone(),
        pupils: b.pupils,
        adults: b.adults,
        manage_url,
    }
}

/// The session's rank from its id in the path: `{event}-{rank}` as in `sessions[].id`, or the rank.
fn session_rank(event_id: i64, session: &str) -> Result<u32, AppError> {
    let rank = match session.split_once('-') {
        Some((event, rank)) if event == event_id.to_string() => rank,
        Some(_) => return Err(AppError::NotFound),
        None => session,
    };
    rank.parse::<u32>().ok().filter(|r| *r >= 1).ok_or(AppError::NotFound)
}

/// Each source and each address books a bounded number of times an hour (every booking sends an
/// email).
fn allowance(state: &AppState, source: &str, email: Option<&str>) -> Result<(), AppError> {
    let message = "Trop de réservations en peu de temps : réessayez plus tard.";
    state.throttle.booking_source.take(source).map_err(|w| AppError::too_many(message, w))?;
    if let Some(e) = email {
        state.throttle.booking_address.take(&e.trim().to_lowercase()).map_err(|w| AppError::too_many(message, w))?;
    }
    Ok(())
}

/// Books a session of an event that takes bookings on the platform, without an account. Confirmed
/// when the seats are free, on the waiting list when the session is full and has one; 409 when it
/// is full without one, or closed.
#[utoipa::path(post, path = "/api/v1/events/{id}/sessions/{session}/registrations", tag = "reservations",
    params(("id" = i64, Path), ("session" = String, Path, description = "`sessions[].id` of the event (`{id}-{rang}`), or the session's rank from 1")),
    request_body = RegistrationRequest,
    responses((status = 201, description = "Réservation enregistrée (confirmée ou sur liste d'attente)", body = RegistrationView),
        (status = 400, description = "Corps illisible", body = ErrorBody),
        (status = 404, description = "Événement ou séance introuvable", body = ErrorBody),
        (status = 409, description = "Séance complète sans liste d'attente, réservations closes, ou événement sans réservation sur la plateforme", body = ErrorBody),
        (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody),
        (status = 429, description = "Trop de réservations en peu de temps", body = ErrorBody)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    Source(source): Source,
    axum::extract::Path((id, session)): axum::extract::Path<(String, String)>,
    ApiJson(body): ApiJson<RegistrationRequest>,
) -> ApiResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let rank = session_rank(id, &session)?;
    allowance(&state, &source, Some(&body.email))?;
    let input = BookingInput {
        kind: body.kind,
        uai: body.uai,
        school: body.school,
        level: body.level,
        pupils: body.pupils.to_string(),
        adults: body.adults.to_string(),
        phone: body.phone,
        name: body.name,
        email: body.email,
        acknowledged: body.acknowledged,
    };
    let booked = bookings::book(&state.deps(), id, rank, &input).await?;
    let url = format!("{}/reservations/{}", state.config.public_url, booked.token);
    Ok((StatusCode::CREATED, Json(view(&booked.booking, Some(url)))).into_response())
}

/// A booking, through its secret link.
#[utoipa::path(get, path = "/api/v1/registrations/{token}", tag = "reservations",
    params(("token" = String, Path, description = "The secret of the booking's link")),
    responses((status = 200, description = "Succès", body = RegistrationView), (status = 404, description = "Lien inconnu", body = ErrorBody)))]
pub(crate) async fn get_registration(
    State(state): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> ApiResult<Json<RegistrationView>> {
    let (b, _) = bookings::by_token(&state.deps(), &token).await?;
    Ok(Json(view(&b, None)))
}

/// A class's new numbers.
#[derive(Deserialize, ToSchema)]
pub(crate) struct RegistrationChange {
    /// Pupils: a class comes with one at least.
    #[schema(minimum = 1, maximum = 80)]
    pupils: u32,
    /// Accompanying adults: one at least.
    #[schema(minimum = 1, maximum = 80)]
    adults: u32,
}

/// Changes a class's numbers: a larger group needs the seats (409, unchanged, otherwise); a smaller
/// one frees seats for the waiting list.
#[utoipa::path(patch, path = "/api/v1/registrations/{token}", tag = "reservations",
    params(("token" = String, Path, description = "The secret of the booking's link")),
    request_body = RegistrationChange,
    responses((status = 200, description = "Succès", body = RegistrationView),
        (status = 400, description = "Corps illisible", body = ErrorBody),
        (status = 404, description = "Lien inconnu", body = ErrorBody),
        (status = 409, description = "Places insuffisantes, réservation annulée ou réservations closes", body = ErrorBody),
        (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody),
        (status = 429, description = "Trop de demandes en peu de temps", body = ErrorBody)))]
pub(crate) async fn change_registration(
    State(state): State<AppState>,
    Source(source): Source,
    axum::extract::Path(token): axum::extract::Path<String>,
    ApiJson(body): ApiJson<RegistrationChange>,
) -> ApiResult<Json<RegistrationView>> {
    allowance(&state, &source, None)?;
    let b = bookings::resize(&state.deps(), &token, &body.pupils.to_string(), &body.adults.to_string()).await?;
    Ok(Json(view(&b, None)))
}

/// Cancels a booking (`?erase=true`: its contact's personal data is erased at once, the counts kept).
#[utoipa::path(delete, path = "/api/v1/registrations/{token}", tag = "reservations",
    params(("token" = String, Path, description = "The secret of the booking's link"), ("erase" = Option<bool>, Query, description = "Also erase the contact's personal data")),
    responses((status = 200, description = "Annulée", body = RegistrationView),
        (status = 404, description = "Lien inconnu", body = ErrorBody),
        (status = 409, description = "Déjà annulée", body = ErrorBody),
        (status = 422, description = "Paramètre invalide", body = ErrorBody),
        (status = 429, description = "Trop de demandes en peu de temps", body = ErrorBody)))]
pub(crate) async fn cancel_registration(
    State(state): State<AppState>,
    Source(source): Source,
    axum::extract::Path(token): axum::extract::Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<RegistrationView>> {
    let q = Pairs::parse(q.as_deref().unwrap_or(""));
    let erase = match q.get("erase") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::invalid("erase", "« erase » vaut true ou false.")),
    };
    allowance(&state, &source, None)?;
    let b = bookings::cancel(&state.deps(), &token, erase).await?;
    Ok(Json(view(&b, None)))
}

/// What the Annuaire de l'éducation says of a school.
#[derive(Serialize, ToSchema)]
pub(crate) struct SchoolView {
    /// The UAI, normalised.
    uai: String,
    /// `open`, `closed`, `unknown` (not in the directory) or `unavailable` (the directory did not
    /// answer: the number's check letter is right).
    status: String,
    /// The school's name, when listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Its address, when open.
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

/// A school by its UAI, from the Annuaire de l'éducation, so that a booking form shows the school's
/// name as soon as the number is typed. 422 when the number is malformed.
#[utoipa::path(get, path = "/api/v1/schools/{uai}", tag = "reservations",
    params(("uai" = String, Path, description = "Numéro UAI (8 caractères : 7 chiffres et une lettre de contrôle)", pattern = "^[0-9]{7}[A-Za-z]$")),
    responses((status = 200, description = "Succès", body = SchoolView),
        (status = 422, description = "Numéro mal formé", body = ErrorBody),
        (status = 429, description = "Trop de demandes en peu de temps", body = ErrorBody)))]
pub(crate) async fn school(
    State(state): State<AppState>,
    Source(source): Source,
    axum::extract::Path(uai): axum::extract::Path<String>,
) -> ApiResult<Json<SchoolView>> {
    let uai = si_domain::identifiers::Uai::parse(&uai).map_err(|m| AppError::invalid("uai", m))?;
    // Each unknown number costs a request to the directory: bounded per source.
    state
        .throttle
        .school_lookups
        .take(&source)
        .map_err(|w| AppError::too_many("Trop de recherches en peu de temps : réessayez plus tard.", w))?;
    let view = match state.directories.uai(uai.as_str()).await {
        crate::directory::Lookup::Open { name, address } => {
            SchoolView { uai: uai.as_str().into(), status: "open".into(), name: Some(name), address: Some(address) }
        }
        crate::directory::Lookup::Closed { name } => {
            SchoolView { uai: uai.as_str().into(), status: "closed".into(), name: Some(name), address: None }
        }
        crate::directory::Lookup::Unknown => {
            SchoolView { uai: uai.as_str().into(), status: "unknown".into(), name: None, address: None }
        }
        crate::directory::Lookup::Unavailable => {
            SchoolView { uai: uai.as_str().into(), status: "unavailable".into(), name: None, address: None }
        }
    };
    Ok(Json(view))
}
