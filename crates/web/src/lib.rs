//! The HTTP surface of the platform: French HTML pages built on the DSFR, the JSON API of SPEC.md §6
//! and its OpenAPI document. [`router`] builds everything from an [`AppState`], apart from serving,
//! so that tests drive it in memory.

pub mod auth;
mod csrf;
pub mod error;
pub mod exports;
mod forms;
mod pages;
mod routes;
mod static_files;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use si_store::DynStore;
use tower_http::set_header::SetResponseHeaderLayer;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public address of the site, used in absolute links (API `url`, feeds).
    pub public_url: String,
    /// Mark cookies `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: DynStore,
    /// Settings.
    pub config: Arc<WebConfig>,
}

impl AppState {
    /// Builds the state.
    pub fn new(store: DynStore, config: WebConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
        }
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = routes::api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(routes::public::router())
        .merge(routes::account::router())
        .merge(routes::organiser::router())
        .merge(routes::review::router())
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route(
            "/donnees/schema.json",
            axum::routing::get(routes::feeds::table_schema),
        )
        .merge(static_files::router())
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(csrf::check))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
