//! The public part of the API: editions, the eligibility check, labelled events, communes.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use si_domain::event::SessionInput;
use si_domain::{Audience, EventData};
use utoipa::ToSchema;

use super::*;
use crate::AppState;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::forms::Id;
use crate::forms::{EventQuery, Pairs, api_filter};
use crate::views::{ConditionView, EventView, event_view, result_views};

/// An edition as published.
#[derive(Serialize, ToSchema)]
pub struct EditionView {
    /// Year.
    pub year: i32,
    /// Ordinal.
    pub number: i32,
    /// Motto.
    pub theme: String,
    /// Demonstration edition.
    pub demo: bool,
    /// `YYYY-MM-DD`.
    pub week_start: String,
    /// `YYYY-MM-DD`.
    pub week_end: String,
    /// `YYYY-MM-DD`.
    pub eligible_from: String,
    /// `YYYY-MM-DD`.
    pub eligible_to: String,
    /// RFC 3339.
    pub opens_at: String,
    /// RFC 3339.
    pub deadline: String,
}

/// Editions, newest first.
#[utoipa::path(get, path = "/api/v1/editions", tag = "public", responses((status = 200, description = "Succès", body = [EditionView])))]
pub(crate) async fn editions(State(state): State<AppState>) -> ApiResult<Json<Vec<EditionView>>> {
    let list = state.store.editions().await?;
    let d = |x: chrono::NaiveDate| x.format("%Y-%m-%d").to_string();
    Ok(Json(
        list.into_iter()
            .map(|e| EditionView {
                year: e.year,
                number: e.number,
                theme: e.theme,
                demo: e.demo,
                week_start: d(e.week_start),
                week_end: d(e.week_end),
                eligible_from: d(e.eligible_from),
                eligible_to: d(e.eligible_to),
                opens_at: si_domain::dates::rfc3339_paris(e.opens_at),
                deadline: si_domain::dates::rfc3339_paris(e.deadline),
            })
            .collect(),
    ))
}

/// Facts to check against the four conditions.
#[derive(Deserialize, ToSchema)]
pub(crate) struct EligibilityRequest {
    /// Edition year.
    edition: i32,
    /// Instant of submission (RFC 3339); now when absent.
    #[schema(format = DateTime)]
    at: Option<String>,
    /// Sessions as local date-times.
    #[serde(default)]
    sessions: Vec<SessionInput>,
    /// Audience codes.
    #[serde(default)]
    audiences: Vec<String>,
    /// Free for everyone.
    free: Option<bool>,
    /// Declared industry objective.
    industry_objective: Option<bool>,
    /// Title (industry-theme signal).
    #[serde(default)]
    title: String,
    /// Description (industry-theme signal).
    #[serde(default)]
    description: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct IndustrySignalView {
    score: usize,
    matched: Vec<String>,
    weak: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EligibilityResponse {
    eligible: bool,
    conditions: Vec<ConditionView>,
    industry_signal: IndustrySignalView,
}

pub(crate) fn parse_audiences(codes: &[String]) -> ApiResult<Vec<Audience>> {
    si_domain::codes::parse_codes(codes, Audience::parse).map_err(|bad| {
        AppError::invalid(
            "audiences",
            format!(
                "Public inconnu : « {bad} ». Valeurs possibles : {}.",
                Audience::ALL.iter().map(|a| a.code()).collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

pub(crate) fn parse_sessions(sessions: &[SessionInput]) -> ApiResult<()> {
    let data = EventData { sessions: sessions.to_vec(), ..Default::default() };
    match data.validate(false).into_iter().next() {
        Some(e) => Err(AppError::invalid(e.field, e.message)),
        None => Ok(()),
    }
}

/// Checks an event's facts against the four conditions and the deadline, as the form does live.
#[utoipa::path(post, path = "/api/v1/eligibility", tag = "public", request_body = EligibilityRequest,
    responses((status = 200, description = "Succès", body = EligibilityResponse), (status = 400, description = "Requête illisible", body = ErrorBody), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub(crate) async fn eligibility(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EligibilityRequest>,
) -> ApiResult<Json<EligibilityResponse>> {
    let edition = state
        .store
        .edition(req.edition)
        .await?
        .ok_or_else(|| AppError::invalid("edition", format!("L'édition {} n'existe pas.", req.edition)))?;
    eligibility_of(req, &edition, state.clock.now()).map(Json)
}

/// The eligibility answer for a request, against an edition (`now` when the request names no instant):
/// pure, so that the request body can be fuzzed without a database.
pub(crate) fn eligibility_of(
    req: EligibilityRequest,
    edition: &si_domain::Edition,
    now: DateTime<Utc>,
) -> ApiResult<EligibilityResponse> {
    let at = match &req.at {
        None => now,
        Some(s) => DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).map_err(|_| {
            AppError::invalid(
                "at",
                format!(
                    "Instant invalide : « {s} ». Écrivez-le au format RFC 3339, par exemple 2024-11-12T23:59:59+01:00."
                ),
            )
        })?,
    };
    parse_sessions(&req.sessions)?;
    let audiences = parse_audiences(&req.audiences)?;
    let data = EventData {
        title: req.title,
        description: req.description,
        sessions: req.sessions,
        audiences,
        free: req.free,
        industry_objective: req.industry_objective,
        ..Default::default()
    };
    let report = data.eligibility(edition, at);
    Ok(EligibilityResponse {
        eligible: report.eligible,
        conditions: report.conditions.iter().map(ConditionView::from).collect(),
        industry_signal: IndustrySignalView {
            score: report.industry_signal.score,
            matched: report.industry_signal.matched,
            weak: report.industry_signal.weak,
        },
    })
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EventPage {
    total: u64,
    page: u32,
    per_page: u32,
    items: Vec<EventView>,
    /// With `facets=true`: per dimension, the number of events per value (each dimension counted
    /// without its own filter).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    facets: Option<si_store::Facets>,
}

/// A JSON response from already serialised bytes.
pub(crate) fn json_bytes(body: bytes::Bytes) -> Response {
    ([(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"))], body)
        .into_response()
}

/// Labelled events, filtered and paginated.
#[utoipa::path(get, path = "/api/v1/events", tag = "public", params(EventQuery),
    responses((status = 200, description = "Succès", body = EventPage), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub(crate) async fn list_events(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    // The same public question in the same minute gets the same answer, from memory: at the peak of
    // the week most searches are the entry points and the regional lists.
    let key = crate::cache::normalised_query(q.as_deref());
    if let Some(body) = state.caches.search.get(&key) {
        return Ok(json_bytes(body.as_ref().clone()));
    }
    let filter = api_filter(&state, q.as_deref()).await?;
    let (total, records) = state.catalogue.search(&state.store, &filter).await?;
    let pairs = Pairs::parse(q.as_deref().unwrap_or(""));
    let facets = match pairs.get("facets") {
        None | Some("false" | "0") => None,
        Some("true" | "1") => {
            // Pagination does not change the counts: one cache entry for every page.
            let key: Vec<(String, String)> = pairs
                .0
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "page" | "per_page" | "facets"))
                .cloned()
                .collect();
            let key = crate::cache::normalised_query(Some(
                &form_urlencoded::Serializer::new(String::new()).extend_pairs(key).finish(),
            ));
            Some(crate::cache::cached_facets(&state.caches, &state.store, &filter, &key).await?.as_ref().clone())
        }
        Some(v) => {
            return Err(AppError::invalid(
                "facets",
                format!("Valeur invalide pour « facets » : « {v} ». Indiquez true ou false."),
            ));
        }
    };
    // Seats per session for the events booked on the platform, in one query for the page (the
    // answer is kept a minute like any search: seats may be that old here, never on the booking).
    let mut items = result_views(&records, filter.near, &state.config.public_url);
    crate::app::bookings::fill_page_offers(&state.deps(), &mut items, &records);
    let page = EventPage { total, page: filter.page, per_page: filter.per_page, items, facets };
    let body = bytes::Bytes::from(serde_json::to_vec(&page).map_err(|e| AppError::Internal(e.into()))?);
    state.caches.search.put(key, std::sync::Arc::new(body.clone()));
    Ok(json_bytes(body))
}

/// One labelled event.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "public", params(("id" = i64, Path)),
    responses((status = 200, description = "Succès", body = EventView), (status = 404, description = "Introuvable", body = ErrorBody)))]
pub(crate) async fn get_event(State(state): State<AppState>, Id(id): Id) -> ApiResult<Json<EventView>> {
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    if record.moderation != si_domain::Moderation::Labelled {
        return Err(AppError::NotFound);
    }
    let mut view = event_view(&record, &state.config.public_url);
    let seats = state.store.session_seats(&[id]).await?;
    crate::app::bookings::fill_offers(&mut view, &record, &seats, state.clock.now());
    Ok(Json(view))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CommuneView {
    /// INSEE code.
    code: String,
    /// Name.
    name: String,
    /// Department's INSEE code.
    department: String,
    /// Region's INSEE code.
    region: String,
    /// Postal codes it is served by.
    postal_codes: Vec<String>,
    /// Latitude of its reference point.
    lat: f64,
    /// Longitude of its reference point.
    lon: f64,
}

/// Communes served by a postal code, most populated first, or whose name starts as typed (for
/// forms and the « Où ? » suggestions).
#[utoipa::path(get, path = "/api/v1/communes", tag = "public",
    params(
        ("postal_code" = Option<String>, Query, description = "Code postal : les communes qu'il dessert", pattern = r"^[0-9]{5}$"),
        ("q" = Option<String>, Query, description = "Début du nom d'une commune (2 à 80 caractères) : au plus 10 suggestions, le nom exact d'abord, puis les plus peuplées", min_length = 2, max_length = 80),
    ),
    responses((status = 200, description = "Succès", body = [CommuneView]), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub(crate) async fn communes(RawQuery(q): RawQuery) -> ApiResult<Json<Vec<CommuneView>>> {
    let p = Pairs::parse(q.as_deref().unwrap_or(""));
    let t = si_domain::territory::territory();
    let found = match (p.get("postal_code"), p.get("q")) {
        (Some(pc), _) => {
            if pc.len() != 5 || !pc.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AppError::invalid(
                    "postal_code",
                    "Indiquez un code postal de 5 chiffres, par exemple 69800.",
                ));
            }
            t.communes_by_postal_code(pc)
        }
        (None, Some(name)) => {
            let n = name.trim().chars().count();
            if !(2..=80).contains(&n) {
                return Err(AppError::invalid(
                    "q",
                    "Indiquez de 2 à 80 caractères du nom de la commune, par exemple Besan.",
                ));
            }
            t.communes_by_name_prefix(name, 10)
        }
        (None, None) => {
            return Err(AppError::invalid(
                "postal_code",
                "Indiquez un code postal de 5 chiffres (postal_code) ou le début du nom d'une commune (q).",
            ));
        }
    };
    Ok(Json(
        found
            .into_iter()
            .map(|c| CommuneView {
                code: c.code.clone(),
                name: c.name.clone(),
                department: c.department.clone(),
                region: c.region.clone(),
                postal_codes: c.postal_codes.clone(),
                lat: c.lat,
                lon: c.lon,
            })
            .collect(),
    ))
}
