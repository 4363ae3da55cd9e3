//! The map data: compact JSON documents built once and served from memory with an ETag and a gzip
//! copy, so that the peak of the week costs a hash lookup per request. At national and regional
//! zoom the map reads clusters (`/api/v1/map/clusters`: events counted by cells of the map, from the
//! catalogue index); zoomed in, or for a search with few results, the markers (`/api/v1/map`: id,
//! coordinates, title of every labelled event with a place, in a `bbox`). Entries expire after a
//! minute and are dropped whenever what the public sees changes (this node's decisions, and other
//! nodes' through `Catalogue::follow`).

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use crate::AppState;
use crate::api::feeds::EXPORT_MAX;
use crate::error::{ApiResult, ErrorBody};
use crate::forms::{ClusterQuery, ExportQuery, MapArea, MapAreaQuery, api_filter, map_area};
use si_store::Bbox;

/// The map document.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MapData {
    /// Events with a place.
    total: usize,
    /// Names of the columns of `rows`: `id`, `lat`, `lon`, `title`.
    fields: [&'static str; 4],
    /// One row per event: `[id, lat, lon, title]`.
    #[schema(value_type = Vec<Vec<Object>>)]
    rows: Vec<(i64, f64, f64, String)>,
}

/// The map at national and regional zoom: events grouped by cells of the map.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MapClusters {
    /// The zoom the cells are cut for.
    zoom: u8,
    /// Matching events with a place, everywhere (not only in `bbox`).
    total: usize,
    /// Names of the columns of `rows`: `lat`, `lon`, `count`, `id`, `title`.
    fields: [&'static str; 5],
    /// One row per cell: `[lat, lon, count, id, title]`, the position being the mean of its events';
    /// `id` and `title` name the event of a cell that holds one, and are `null` otherwise.
    #[schema(value_type = Vec<Vec<Object>>)]
    rows: Vec<ClusterRow>,
}

/// `[lat, lon, count, id, title]`.
type ClusterRow = (f64, f64, u32, Option<i64>, Option<String>);

/// Five decimals: a metre, more than a commune's reference point deserves.
fn round(x: f64) -> f64 {
    (x * 100_000.0).round() / 100_000.0
}

/// A JSON document with its ETag and gzip copy, kept in the map cache.
fn document(value: &impl Serialize) -> ApiResult<crate::cache::Document> {
    let internal = |e: &dyn std::fmt::Display| crate::error::AppError::Internal(anyhow::anyhow!("{e}"));
    let json = serde_json::to_vec(value).map_err(|e| internal(&e))?;
    crate::cache::Document::new("application/json", json).map_err(|e| internal(&e))
}

/// `bbox` widened to whole steps of `step` degrees: nearby views share one cached answer, and a
/// cluster's cell is never cut by the edge of the view.
fn snap(b: Bbox, step_lat: f64, step_lon: f64) -> Bbox {
    Bbox {
        south: ((b.south / step_lat).floor() * step_lat).max(-90.0),
        west: ((b.west / step_lon).floor() * step_lon).max(-180.0),
        north: ((b.north / step_lat).ceil() * step_lat).min(90.0),
        east: ((b.east / step_lon).ceil() * step_lon).min(180.0),
    }
}

/// The cache key of an answer: the filters in a stable order, then the area.
fn key(kind: &str, area: &MapArea) -> String {
    let b = area.bbox.map(|b| format!("{:.5},{:.5},{:.5},{:.5}", b.south, b.west, b.north, b.east));
    format!("{kind}|{}|{:?}|{}", crate::cache::normalised_query(Some(&area.rest)), area.zoom, b.unwrap_or_default())
}

/// Steps of a markers' `bbox` (degrees): about 5 km.
const MARKERS_STEP: f64 = 0.05;

async fn build_markers(state: &AppState, area: &MapArea) -> ApiResult<crate::cache::Document> {
    let filter = api_filter(state, Some(&area.rest)).await?;
    let rows: Vec<(i64, f64, f64, String)> = state
        .catalogue
        .markers(&state.store, &filter, area.bbox, EXPORT_MAX as usize)
        .await?
        .into_iter()
        .map(|(id, lat, lon, title)| (id, round(lat), round(lon), title))
        .collect();
    document(&MapData { total: rows.len(), fields: ["id", "lat", "lon", "title"], rows })
}

async fn build_clusters(state: &AppState, area: &MapArea, zoom: u8) -> ApiResult<crate::cache::Document> {
    let filter = api_filter(state, Some(&area.rest)).await?;
    let (total, cells) =
        state.catalogue.clusters(&state.store, &filter, zoom, area.bbox.unwrap_or(Bbox::WORLD)).await?;
    let rows = cells
        .into_iter()
        .map(|c| {
            let (id, title) = c.alone.map_or((None, None), |(id, t)| (Some(id), Some(t)));
            (round(c.lat), round(c.lon), c.count, id, title)
        })
        .collect();
    document(&MapClusters { zoom, total, fields: ["lat", "lon", "count", "id", "title"], rows })
}

/// Serves a cached map document (built by `build` when missing), with its ETag and gzip copy.
async fn serve_document<F>(state: &AppState, headers: &HeaderMap, key: String, build: F) -> ApiResult<Response>
where
    F: std::future::Future<Output = ApiResult<crate::cache::Document>>,
{
    let entry = crate::cache::cached_document(&state.caches.map, key, build).await?;
    Ok(entry.answer(headers, "public, max-age=60"))
}

/// Labelled events with a place, for the map (in `bbox` when given: the markers of a zoomed-in
/// view): compact, cached, revalidated with `ETag`.
#[utoipa::path(get, path = "/api/v1/map", tag = "public", params(ExportQuery, MapAreaQuery),
    responses((status = 200, description = "Succès", body = MapData), (status = 304, description = "Inchangé depuis l'ETag envoyé"), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub async fn map_data(State(state): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let mut area = map_area(q.as_deref())?;
    if area.zoom.is_some() {
        return Err(crate::error::AppError::invalid(
            "zoom",
            "Le zoom s'applique aux regroupements de la carte : /api/v1/map/clusters.",
        ));
    }
    area.bbox = area.bbox.map(|b| snap(b, MARKERS_STEP, MARKERS_STEP));
    serve_document(&state, &headers, key("markers", &area), build_markers(&state, &area)).await
}

/// Labelled events with a place grouped by cells of the map at a zoom level (national and regional
/// views: a few kilobytes where the markers of every event would weigh megabytes), inside `bbox`.
#[utoipa::path(get, path = "/api/v1/map/clusters", tag = "public", params(ExportQuery, ClusterQuery),
    responses((status = 200, description = "Succès", body = MapClusters), (status = 304, description = "Inchangé depuis l'ETag envoyé"), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub async fn map_clusters(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let mut area = map_area(q.as_deref())?;
    let Some(zoom) = area.zoom else {
        return Err(crate::error::AppError::invalid(
            "zoom",
            "Indiquez le niveau de zoom de la carte (zoom, de 0 à 18).",
        ));
    };
    let w = crate::catalogue::cell_degrees(zoom);
    area.bbox = area.bbox.map(|b| snap(b, w * crate::catalogue::CELL_ASPECT, w));
    serve_document(&state, &headers, key("clusters", &area), build_clusters(&state, &area, zoom)).await
}
