//! Routes, one module per audience of the platform.

pub mod account;
pub mod admin;
pub mod api;
pub mod feeds;
pub mod kit;
pub mod map;
pub mod members;
pub mod opendata;
pub mod organiser;
pub mod proconnect;
pub mod public;
pub mod review;
pub mod stats;
pub mod tokens;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use si_domain::Edition;
use si_store::StoreResult;

use crate::AppState;

/// Facet counts for a filter, from memory when the same query was counted in the last minute.
pub async fn cached_facets(
    state: &AppState,
    filter: &si_store::EventFilter,
    key: &str,
) -> StoreResult<std::sync::Arc<si_store::Facets>> {
    if let Some(f) = state.caches.facets.get(key) {
        return Ok(f);
    }
    let f = std::sync::Arc::new(state.store.facets(filter).await?);
    state.caches.facets.put(key.to_string(), f.clone());
    Ok(f)
}

/// The edition the public looks at by default: the newest with labelled events, else the newest.
pub async fn public_edition(state: &AppState) -> StoreResult<Option<Edition>> {
    let editions = state.store.editions().await?;
    let newest = state.store.newest_labelled_edition().await?;
    let with_labels = newest.and_then(|y| editions.iter().find(|e| e.year == y).cloned());
    Ok(with_labels.or_else(|| editions.into_iter().next()))
}

/// The edition open for submissions now, if any (the newest one when several are).
pub async fn open_edition(state: &AppState) -> StoreResult<Option<Edition>> {
    let now = chrono::Utc::now();
    Ok(state.store.editions().await?.into_iter().find(|e| e.is_open_at(now)))
}

/// A numeric id in the path (`/…/{id}`). Anything else is « not found »: the 404 page, or the API's
/// JSON 404 under `/api/`. One parser for every route that names a record.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = axum::extract::Path::<String>::from_request_parts(parts, state).await.ok();
        match raw.and_then(|r| r.0.parse::<i64>().ok()) {
            Some(id) => Ok(Id(id)),
            None if parts.uri.path().starts_with("/api/") => Err(crate::error::AppError::NotFound.into_response()),
            None => Err(crate::pages::PageError(crate::error::AppError::NotFound).into_response()),
        }
    }
}
