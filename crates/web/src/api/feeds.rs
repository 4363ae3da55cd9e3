//! Feeds and exports of labelled events: iCalendar and CSV for any search, per-event calendar files,
//! the per-edition JSON export and its Table Schema for data.gouv.fr.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use si_domain::Moderation;
use si_store::EventFilter;

use crate::AppState;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::exports::{CalendarItem, csv, ical};
use crate::forms::EventQuery;
use crate::forms::Id;
use crate::views::{EventView, event_view};

/// The most events one feed or export carries (a whole edition fits).
pub const EXPORT_MAX: u32 = 200_000;

async fn filtered(state: &AppState, query: Option<&str>) -> ApiResult<(EventFilter, Vec<si_store::EventRecord>)> {
    let filter = crate::forms::api_filter(state, query).await?;
    let records = state.store.search_all(&filter, EXPORT_MAX).await?;
    Ok((filter, records))
}

fn with_type(body: impl IntoResponse, mime: &'static str, filename: Option<&str>) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Some(f) = filename.and_then(|f| HeaderValue::from_str(&format!("attachment; filename=\"{f}\"")).ok()) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, f);
    }
    resp
}

fn calendar(state: &AppState, name: &str, records: &[si_store::EventRecord]) -> String {
    let views: Vec<EventView> = records.iter().map(|r| event_view(r, &state.config.public_url)).collect();
    let items: Vec<CalendarItem<'_>> =
        views.iter().zip(records).map(|(event, r)| CalendarItem { event, updated_at: r.updated_at }).collect();
    ical(name, &items)
}

/// Labelled events as an iCalendar feed (RFC 5545), with the filters of `/api/v1/events`.
#[utoipa::path(get, path = "/api/v1/events.ics", tag = "public", params(EventQuery),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub async fn events_ics(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let (_, records) = filtered(&state, q.as_deref()).await?;
    Ok(with_type(calendar(&state, "Semaine de l'industrie", &records), "text/calendar; charset=utf-8", None))
}

/// Labelled events as CSV (UTF-8 with BOM, `;`), one line per session, with the filters of `/api/v1/events`.
#[utoipa::path(get, path = "/api/v1/events.csv", tag = "public", params(EventQuery),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub async fn events_csv(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let (filter, records) = filtered(&state, q.as_deref()).await?;
    let views: Vec<EventView> = records.iter().map(|r| event_view(r, &state.config.public_url)).collect();
    let name = match filter.edition {
        Some(y) => format!("evenements-labellises-{y}.csv"),
        None => "evenements-labellises.csv".into(),
    };
    Ok(with_type(csv(&views), "text/csv; charset=utf-8", Some(&name)))
}

/// Labelled events as one JSON array (the open-data export), with the filters of `/api/v1/events`.
#[utoipa::path(get, path = "/api/v1/events.json", tag = "public", params(EventQuery),
    responses((status = 200, description = "Succès", body = [EventView]), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub async fn events_json(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let (_, records) = filtered(&state, q.as_deref()).await?;
    let views: Vec<EventView> = records.iter().map(|r| event_view(r, &state.config.public_url)).collect();
    Ok(axum::Json(views).into_response())
}

/// One labelled event as an iCalendar file (« Ajouter à mon agenda »).
#[utoipa::path(get, path = "/evenements/{id}/calendrier.ics", tag = "public", params(("id" = i64, Path)),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 404, description = "Introuvable", body = ErrorBody)))]
pub async fn event_ics(State(state): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let record =
        state.store.event(id).await?.filter(|r| r.moderation == Moderation::Labelled).ok_or(AppError::NotFound)?;
    let body = calendar(&state, &record.data.title, std::slice::from_ref(&record));
    Ok(with_type(body, "text/calendar; charset=utf-8", Some(&format!("evenement-{id}.ics"))))
}

/// The Table Schema (frictionlessdata) of the CSV export, for data.gouv.fr.
#[utoipa::path(get, path = "/donnees/schema.json", tag = "public",
    responses((status = 200, description = "Table Schema", content_type = "application/json")))]
pub async fn table_schema() -> Response {
    with_type(include_str!("../../static/schema.json"), "application/json", None)
}
