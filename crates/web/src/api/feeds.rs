//! Feeds and exports of labelled events: iCalendar and CSV for any search, per-event calendar files,
//! the per-edition JSON export and its Table Schema for data.gouv.fr.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use si_domain::Moderation;
use si_store::EventFilter;

use crate::AppState;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::exports::{CalendarItem, ICAL_TAIL, csv_head, csv_rows, ical, ical_events, ical_head, ical_stamp};
use crate::forms::ExportQuery;
use crate::forms::Id;
use crate::views::{EventView, event_view};
use futures_util::StreamExt;
use tokio::sync::OwnedSemaphorePermit;

/// The most events one feed or export carries (a whole edition fits).
pub const EXPORT_MAX: u32 = 200_000;

/// Events read from the store and written out at a time: an export holds one slice in memory, not
/// the whole edition (an anonymous request for 100,000 events once took 850 MB before its first byte).
const SLICE: usize = 500;

/// The formats an export is streamed in.
#[derive(Clone, Copy)]
enum Format {
    Csv,
    Json,
    Ics,
}

/// A streamed export: the matching ids from the catalogue index (8 bytes each), then the events a
/// slice at a time, each slice formatted and sent before the next is read. The stream is pulled by
/// the connection, so a slow reader slows the reading of the database, never fills memory.
async fn export(state: AppState, query: Option<&str>, format: Format) -> ApiResult<(EventFilter, Body)> {
    // Beyond `AppState::exports`, anonymous requests wait for none: 503 with `Retry-After`.
    let permit = state.exports.clone().try_acquire_owned().map_err(|_| AppError::Unavailable)?;
    let filter = crate::forms::api_filter(&state, query).await?;
    let ids = state.catalogue.all_ids(&state.store, &filter, EXPORT_MAX as usize).await?;
    // Demonstration data says so in every export (a CSV column, the calendar's summaries).
    let demo: Vec<i32> = state.store.editions().await?.into_iter().filter(|e| e.demo).map(|e| e.year).collect();
    let head: Vec<u8> = match format {
        Format::Csv => csv_head(),
        Format::Json => b"[".to_vec(),
        Format::Ics => ical_head("Semaine de l'industrie").into_bytes(),
    };
    let stamp = ical_stamp();
    struct Cursor {
        state: AppState,
        ids: Vec<i64>,
        next: usize,
        done: bool,
        _permit: OwnedSemaphorePermit,
    }
    let cursor = Cursor { state, ids, next: 0, done: false, _permit: permit };
    let slices = futures_util::stream::unfold(cursor, move |mut c| {
        let (stamp, demo) = (stamp.clone(), demo.clone());
        async move {
            if c.done {
                return None;
            }
            if c.next >= c.ids.len() {
                c.done = true;
                let tail: &[u8] = match format {
                    Format::Csv => b"",
                    Format::Json => b"]",
                    Format::Ics => ICAL_TAIL.as_bytes(),
                };
                return Some((Ok::<_, si_store::StoreError>(Bytes::from_static(tail)), c));
            }
            let slice = &c.ids[c.next..(c.next + SLICE).min(c.ids.len())];
            let first = c.next == 0;
            c.next += slice.len();
            let records = match c.state.store.events_by_ids(slice).await {
                Ok(r) => r,
                Err(e) => {
                    // The answer has begun: the only honest end is a broken transfer, never a
                    // truncated file that looks whole.
                    tracing::error!(error = %e, "export interrupted");
                    c.done = true;
                    return Some((Err(e), c));
                }
            };
            let views: Vec<EventView> = records.iter().map(|r| event_view(r, &c.state.config.public_url)).collect();
            let bytes = match format {
                Format::Csv => csv_rows(&views, &demo),
                Format::Json => {
                    let mut out = Vec::with_capacity(views.len() * 2048);
                    for (k, (event, r)) in views.iter().zip(&records).enumerate() {
                        if !(first && k == 0) {
                            out.push(b',');
                        }
                        let _ = serde_json::to_writer(
                            &mut out,
                            &ExportedEvent { event, demonstration: demo.contains(&r.edition) },
                        );
                    }
                    out
                }
                Format::Ics => {
                    let items: Vec<CalendarItem<'_>> = views
                        .iter()
                        .zip(&records)
                        .map(|(event, r)| CalendarItem {
                            event,
                            updated_at: r.updated_at,
                            demo: demo.contains(&r.edition),
                        })
                        .collect();
                    let mut out = String::new();
                    ical_events(&items, &stamp, &mut out);
                    out.into_bytes()
                }
            };
            Some((Ok(Bytes::from(bytes)), c))
        }
    });
    // Fused: a reader (the compression layer) may poll again after the end.
    let body = futures_util::stream::once(async move { Ok(Bytes::from(head)) }).chain(slices).fuse();
    Ok((filter, Body::from_stream(body)))
}

fn with_type(body: impl IntoResponse, mime: &'static str, filename: Option<&str>) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Some(f) = filename.and_then(|f| HeaderValue::from_str(&format!("attachment; filename=\"{f}\"")).ok()) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, f);
    }
    resp
}

async fn calendar(state: &AppState, name: &str, records: &[si_store::EventRecord]) -> ApiResult<String> {
    let demo: Vec<i32> = state.store.editions().await?.into_iter().filter(|e| e.demo).map(|e| e.year).collect();
    let views: Vec<EventView> = records.iter().map(|r| event_view(r, &state.config.public_url)).collect();
    let items: Vec<CalendarItem<'_>> = views
        .iter()
        .zip(records)
        .map(|(event, r)| CalendarItem { event, updated_at: r.updated_at, demo: demo.contains(&r.edition) })
        .collect();
    Ok(ical(name, &items))
}

/// Labelled events as an iCalendar feed (RFC 5545), with the filters of `/api/v1/events`.
#[utoipa::path(get, path = "/api/v1/events.ics", tag = "public", params(ExportQuery),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody),
        (status = 503, description = "Trop d'exports en cours : réessayer après `Retry-After` secondes", body = ErrorBody)))]
pub async fn events_ics(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let (_, body) = export(state, q.as_deref(), Format::Ics).await?;
    Ok(with_type(body, "text/calendar; charset=utf-8", None))
}

/// Labelled events as CSV (UTF-8 with BOM, `;`), one line per session, with the filters of `/api/v1/events`.
#[utoipa::path(get, path = "/api/v1/events.csv", tag = "public", params(ExportQuery),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody),
        (status = 503, description = "Trop d'exports en cours : réessayer après `Retry-After` secondes", body = ErrorBody)))]
pub async fn events_csv(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let (filter, body) = export(state, q.as_deref(), Format::Csv).await?;
    let name = match filter.edition {
        Some(y) => format!("evenements-labellises-{y}.csv"),
        None => "evenements-labellises.csv".into(),
    };
    Ok(with_type(body, "text/csv; charset=utf-8", Some(&name)))
}

/// An event of the JSON export: the public event, and whether its edition is a demonstration.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ExportedEvent<'a> {
    #[serde(flatten)]
    event: &'a EventView,
    /// `true` for an event of a demonstration edition: made-up data, whose label is worth nothing.
    demonstration: bool,
}

/// Labelled events as one JSON array (the open-data export), with the filters of `/api/v1/events`.
#[utoipa::path(get, path = "/api/v1/events.json", tag = "public", params(ExportQuery),
    responses((status = 200, description = "Succès", body = [ExportedEvent]), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody),
        (status = 503, description = "Trop d'exports en cours : réessayer après `Retry-After` secondes", body = ErrorBody)))]
pub async fn events_json(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let (_, body) = export(state, q.as_deref(), Format::Json).await?;
    Ok(with_type(body, "application/json", None))
}

/// One labelled event as an iCalendar file (« Ajouter à mon agenda »).
#[utoipa::path(get, path = "/evenements/{id}/calendrier.ics", tag = "public", params(("id" = i64, Path)),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 404, description = "Introuvable", body = ErrorBody)))]
pub async fn event_ics(State(state): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let record =
        state.store.event(id).await?.filter(|r| r.moderation == Moderation::Labelled).ok_or(AppError::NotFound)?;
    let body = calendar(&state, &record.data.title, std::slice::from_ref(&record)).await?;
    Ok(with_type(body, "text/calendar; charset=utf-8", Some(&format!("evenement-{id}.ics"))))
}

/// The Table Schema (frictionlessdata) of the CSV export, for data.gouv.fr.
#[utoipa::path(get, path = "/donnees/schema.json", tag = "public",
    responses((status = 200, description = "Table Schema", content_type = "application/json")))]
pub async fn table_schema() -> Response {
    with_type(include_str!("../../static/schema.json"), "application/json", None)
}
