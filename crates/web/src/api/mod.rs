//! The JSON API of SPEC.md §6. Every handler is annotated for OpenAPI, so `/api/openapi.json` is
//! generated from this code. Bad input answers 4xx with `{"error": {"code", "message", "field"}}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::AppError;
use axum::response::{IntoResponse, Response};

pub mod bookings;
pub mod catalogue;
pub mod feeds;
pub mod map;
pub mod organiser;
pub mod review;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Semaine de l'industrie – API publique",
        description = "Événements labellisés, éditions, contrôle des quatre conditions, espace organisateur et instruction. \
                       Les erreurs sont de la forme {\"error\": {\"code\", \"message\", \"field\"}} avec un statut 4xx.",
        license(name = "Licence Ouverte 2.0 (données)")
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jeton",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(catalogue::editions))
        .routes(routes!(catalogue::eligibility))
        .routes(routes!(catalogue::list_events))
        .routes(routes!(catalogue::get_event))
        .routes(routes!(feeds::events_ics))
        .routes(routes!(feeds::events_csv))
        .routes(routes!(feeds::events_json))
        .routes(routes!(feeds::event_ics))
        .routes(routes!(map::map_data))
        .routes(routes!(map::map_clusters))
        .routes(routes!(feeds::table_schema))
        .routes(routes!(crate::site::stats::csv))
        .routes(routes!(catalogue::communes))
        .routes(routes!(organiser::my_events, organiser::create_my_event))
        .routes(routes!(organiser::get_my_event, organiser::update_my_event, organiser::delete_my_event))
        .routes(routes!(organiser::submit_my_event))
        .routes(routes!(review::review_queue))
        .routes(routes!(review::review_decision))
        .routes(routes!(bookings::register))
        .routes(routes!(bookings::school))
        .routes(routes!(bookings::get_registration, bookings::change_registration, bookings::cancel_registration))
}

/// A JSON body whose rejections follow the error contract: 400 when unparsable, 422 when its shape
/// is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(crate::forms::body_rejection)?;
        // NUL, which no person types and PostgreSQL cannot store, is refused wherever it hides.
        if bytes.contains(&0) || bytes.windows(6).any(|w| w == b"\\u0000") {
            return Err(AppError::Invalid {
                code: "invalid_body",
                message: si_domain::input::forbidden_char_message("Le corps de la requête", '\0'),
                field: None,
            });
        }
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => AppError::Invalid {
                code: "invalid_body",
                message: format!("Le corps de la requête ne correspond pas au format attendu ({e})."),
                field: None,
            },
            _ => AppError::BadRequest {
                code: "invalid_json",
                message: format!("Le corps de la requête n'est pas un JSON valide ({e})."),
            },
        })
    }
}

#[derive(Serialize, ToSchema)]
struct Health {
    status: &'static str,
}

/// Liveness: the process answers. It does not read the database, so that an orchestrator does not
/// restart every node while the database is down (readiness says that: `/readyz`).
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "Succès", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// The database answers (`ok`, or `unreachable`).
    database: &'static str,
    /// This binary's migrations not applied to the database.
    pending_migrations: Option<usize>,
    /// The catalogue index is built (public searches answer from memory).
    index_built: bool,
}

/// Readiness: the database answers, every migration of this binary is applied and the catalogue
/// index is built; 503 otherwise, so that a load balancer sends this node nothing yet.
#[utoipa::path(get, path = "/readyz", tag = "service", responses(
    (status = 200, description = "Prêt", body = Readiness),
    (status = 503, description = "Pas encore prêt (le détail dit quoi)", body = Readiness)))]
async fn readyz(State(state): State<AppState>) -> Response {
    let pending = state.store.pending_migrations().await.ok();
    let index_built = state.catalogue.is_built();
    let ready = pending == Some(0) && index_built;
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database: if pending.is_some() { "ok" } else { "unreachable" },
        pending_migrations: pending,
        index_built,
    };
    let code = if ready { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    let mut resp = (code, Json(body)).into_response();
    resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    resp
}
