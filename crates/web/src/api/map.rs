//! The map data: one compact JSON document per query (id, coordinates, title of every labelled event
//! with a place), built once and served from memory with an ETag and a gzip copy, so that the peak of
//! the week costs a hash lookup per request. Entries expire after a minute and are dropped at every
//! decision of this process; an edition filled by another process shows within that minute.

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::api::feeds::EXPORT_MAX;
use crate::error::{ApiResult, ErrorBody};
use crate::forms::{ExportQuery, api_filter};

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

async fn build(state: &AppState, query: Option<&str>) -> ApiResult<crate::cache::Document> {
    let filter = api_filter(state, query).await?;
    // Five decimals: a metre, more than a commune's reference point deserves.
    let round = |x: f64| (x * 100_000.0).round() / 100_000.0;
    let rows: Vec<(i64, f64, f64, String)> = state
        .store
        .map_points(&filter, EXPORT_MAX)
        .await?
        .into_iter()
        .map(|(id, lat, lon, title)| (id, round(lat), round(lon), title))
        .collect();
    let json = serde_json::to_vec(&MapData { total: rows.len(), fields: ["id", "lat", "lon", "title"], rows })
        .map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let gzip = gz.finish().map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let digest = Sha256::digest(&json);
    let etag = format!("\"{}\"", digest[..12].iter().map(|b| format!("{b:02x}")).collect::<String>());
    Ok(crate::cache::Document {
        etag: HeaderValue::from_str(&etag).map_err(|e| crate::error::AppError::Internal(e.into()))?,
        json: json.into(),
        gzip: gzip.into(),
    })
}

/// Labelled events with a place, for the map: compact, cached, revalidated with `ETag`.
#[utoipa::path(get, path = "/api/v1/map", tag = "public", params(ExportQuery),
    responses((status = 200, description = "Succès", body = MapData), (status = 304, description = "Inchangé depuis l'ETag envoyé"), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
pub async fn map_data(State(state): State<AppState>, headers: HeaderMap, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let key = crate::cache::normalised_query(q.as_deref());
    let entry = match state.caches.map.get(&key) {
        Some(e) => e,
        None => {
            let e = Arc::new(build(&state, Some(&key)).await?);
            state.caches.map.put(key, e.clone());
            e
        }
    };
    let mut resp_headers = HeaderMap::new();
    resp_headers.insert(header::ETAG, entry.etag.clone());
    resp_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    resp_headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == entry.etag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, resp_headers).into_response());
    }
    resp_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let body = if gzip_ok {
        resp_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        entry.gzip.clone()
    } else {
        entry.json.clone()
    };
    Ok((resp_headers, Body::from(body)).into_response())
}
