//! The JSON API of SPEC.md §6. Every handler is annotated for OpenAPI, so `/api/openapi.json` is
//! generated from this code. Bad input answers 4xx with `{"error": {"code", "message", "field"}}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use si_domain::event::{Contact, Location, Registration, Safety, SessionInput};
use si_domain::{Audience, EventData, EventType, Format, RegistrationMode, Role, Sector, Theme};
use si_store::{EventRecord, User};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::app::moderation::{decide, owned_event, parse_decision, submit};
use crate::auth::ApiUser;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::forms::{EventQuery, Pairs, api_filter};
use crate::routes::Id;
use crate::views::{ConditionView, EventView, MyEventView, event_view, my_event_view, result_views};

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
        .routes(routes!(editions))
        .routes(routes!(eligibility))
        .routes(routes!(list_events))
        .routes(routes!(get_event))
        .routes(routes!(crate::routes::feeds::events_ics))
        .routes(routes!(crate::routes::feeds::events_csv))
        .routes(routes!(crate::routes::feeds::events_json))
        .routes(routes!(crate::routes::feeds::event_ics))
        .routes(routes!(crate::routes::map::map_data))
        .routes(routes!(crate::routes::feeds::table_schema))
        .routes(routes!(crate::routes::stats::csv))
        .routes(routes!(communes))
        .routes(routes!(my_events, create_my_event))
        .routes(routes!(get_my_event, update_my_event))
        .routes(routes!(submit_my_event))
        .routes(routes!(review_queue))
        .routes(routes!(review_decision))
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

/// Liveness and database check.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "Succès", body = Health)))]
async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.store.editions().await?;
    Ok(Json(Health { status: "ok" }))
}

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
async fn editions(State(state): State<AppState>) -> ApiResult<Json<Vec<EditionView>>> {
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
struct IndustrySignalView {
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

fn parse_audiences(codes: &[String]) -> ApiResult<Vec<Audience>> {
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

fn parse_sessions(sessions: &[SessionInput]) -> ApiResult<()> {
    let data = EventData { sessions: sessions.to_vec(), ..Default::default() };
    match data.validate(false).into_iter().next() {
        Some(e) => Err(AppError::invalid(e.field, e.message)),
        None => Ok(()),
    }
}

/// Checks an event's facts against the four conditions and the deadline, as the form does live.
#[utoipa::path(post, path = "/api/v1/eligibility", tag = "public", request_body = EligibilityRequest,
    responses((status = 200, description = "Succès", body = EligibilityResponse), (status = 400, description = "Requête illisible", body = ErrorBody), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
async fn eligibility(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EligibilityRequest>,
) -> ApiResult<Json<EligibilityResponse>> {
    let edition = state
        .store
        .edition(req.edition)
        .await?
        .ok_or_else(|| AppError::invalid("edition", format!("L'édition {} n'existe pas.", req.edition)))?;
    eligibility_of(req, &edition, Utc::now()).map(Json)
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
struct EventPage {
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
fn json_bytes(body: bytes::Bytes) -> Response {
    ([(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"))], body)
        .into_response()
}

/// Labelled events, filtered and paginated.
#[utoipa::path(get, path = "/api/v1/events", tag = "public", params(EventQuery),
    responses((status = 200, description = "Succès", body = EventPage), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
async fn list_events(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
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
            Some(crate::routes::cached_facets(&state, &filter, &key).await?.as_ref().clone())
        }
        Some(v) => {
            return Err(AppError::invalid(
                "facets",
                format!("Valeur invalide pour « facets » : « {v} ». Indiquez true ou false."),
            ));
        }
    };
    let page = EventPage {
        total,
        page: filter.page,
        per_page: filter.per_page,
        items: result_views(&records, filter.near, &state.config.public_url),
        facets,
    };
    let body = bytes::Bytes::from(serde_json::to_vec(&page).map_err(|e| AppError::Internal(e.into()))?);
    state.caches.search.put(key, std::sync::Arc::new(body.clone()));
    Ok(json_bytes(body))
}

/// One labelled event.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "public", params(("id" = i64, Path)),
    responses((status = 200, description = "Succès", body = EventView), (status = 404, description = "Introuvable", body = ErrorBody)))]
async fn get_event(State(state): State<AppState>, Id(id): Id) -> ApiResult<Json<EventView>> {
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    if record.moderation != si_domain::Moderation::Labelled {
        return Err(AppError::NotFound);
    }
    Ok(Json(event_view(&record, &state.config.public_url)))
}

#[derive(Serialize, ToSchema)]
struct CommuneView {
    code: String,
    name: String,
    department: String,
    region: String,
}

/// Communes served by a postal code, most populated first (for forms).
#[utoipa::path(get, path = "/api/v1/communes", tag = "public", params(("postal_code" = String, Query)),
    responses((status = 200, description = "Succès", body = [CommuneView]), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
async fn communes(RawQuery(q): RawQuery) -> ApiResult<Json<Vec<CommuneView>>> {
    let p = Pairs::parse(q.as_deref().unwrap_or(""));
    let pc = p.get("postal_code").unwrap_or("");
    if pc.len() != 5 || !pc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid("postal_code", "Indiquez un code postal de 5 chiffres, par exemple 69800."));
    }
    Ok(Json(
        si_domain::territory::territory()
            .communes_by_postal_code(pc)
            .into_iter()
            .map(|c| CommuneView {
                code: c.code.clone(),
                name: c.name.clone(),
                department: c.department.clone(),
                region: c.region.clone(),
            })
            .collect(),
    ))
}

/// An event as an organiser writes it through the API.
#[derive(Deserialize, ToSchema)]
struct EventWrite {
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
struct RegistrationWrite {
    /// `none`, `external` or `platform`.
    mode: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    capacity: Option<u32>,
}

fn code_list<T: Ord>(codes: &[String], field: &str, parse: fn(&str) -> Option<T>, all: &[&str]) -> ApiResult<Vec<T>> {
    si_domain::codes::parse_codes(codes, parse).map_err(|bad| {
        AppError::invalid(field, format!("Valeur inconnue : « {bad} ». Valeurs possibles : {}.", all.join(", ")))
    })
}

fn one_code<T: Copy>(
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
        if let Some(e) = data.validate(false).into_iter().next() {
            return Err(AppError::invalid(e.field, e.message));
        }
        Ok(data)
    }
}

/// A token holder who organises events, with their organisation: checked before the body is read,
/// so that a person without the role gets 403 whatever they send.
struct ApiOrganiser(User);

impl axum::extract::FromRequestParts<AppState> for ApiOrganiser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, AppError> {
        let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
        organiser(&user)?;
        Ok(ApiOrganiser(user))
    }
}

/// A token holder who reviews (coordinator or administrator), checked before the body is read.
struct ApiReviewer(User);

impl axum::extract::FromRequestParts<AppState> for ApiReviewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, AppError> {
        let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
        crate::auth::review_scope(&user)?;
        Ok(ApiReviewer(user))
    }
}

fn organiser(user: &User) -> ApiResult<i64> {
    match (user.role, user.organisation_id) {
        (Role::Organiser, Some(org)) => Ok(org),
        _ => Err(AppError::Forbidden("Ces opérations sont réservées aux organisateurs d'événements.".into())),
    }
}

async fn my_view(state: &AppState, r: &EventRecord) -> ApiResult<MyEventView> {
    let edition = state.store.edition(r.edition).await?.ok_or(AppError::NotFound)?;
    Ok(my_event_view(r, &edition))
}

#[derive(Serialize, ToSchema)]
struct MyEvents {
    total: usize,
    items: Vec<MyEventView>,
}

/// The events of my organisation.
#[utoipa::path(get, path = "/api/v1/me/events", tag = "organisateur", security(("jeton" = [])),
    responses((status = 200, description = "Succès", body = MyEvents), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 403, description = "Accès refusé", body = ErrorBody)))]
async fn my_events(State(state): State<AppState>, ApiOrganiser(user): ApiOrganiser) -> ApiResult<Json<MyEvents>> {
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
async fn create_my_event(
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
        None => crate::routes::open_edition(&state).await?.ok_or_else(|| {
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
async fn get_my_event(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
    Id(id): Id,
) -> ApiResult<Json<MyEventView>> {
    organiser(&user)?;
    let record = owned_event(&state, &user, id).await?;
    Ok(Json(my_view(&state, &record).await?))
}

/// Replaces the content of a draft (or of an event awaiting changes).
#[utoipa::path(put, path = "/api/v1/me/events/{id}", tag = "organisateur", security(("jeton" = [])), params(("id" = i64, Path)), request_body = EventWrite,
    responses((status = 200, description = "Succès", body = MyEventView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 404, description = "Introuvable", body = ErrorBody), (status = 409, description = "Conflit avec l'état actuel", body = ErrorBody), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
async fn update_my_event(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
    Id(id): Id,
    ApiJson(body): ApiJson<EventWrite>,
) -> ApiResult<Json<MyEventView>> {
    organiser(&user)?;
    let record = owned_event(&state, &user, id).await?;
    if body.edition.is_some_and(|y| y != record.edition) {
        return Err(AppError::invalid("edition", "L'édition d'un événement ne peut pas être changée."));
    }
    let data = body.into_data()?;
    crate::app::moderation::save_changes(&state, &user, &record, &data).await?;
    let record = state.store.event(record.id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(my_view(&state, &record).await?))
}

/// Submits for labelling: 422 with the failed conditions when one is not met.
#[utoipa::path(post, path = "/api/v1/me/events/{id}/submit", tag = "organisateur", security(("jeton" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "Succès", body = MyEventView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 404, description = "Introuvable", body = ErrorBody), (status = 409, description = "Conflit avec l'état actuel", body = ErrorBody), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
async fn submit_my_event(
    State(state): State<AppState>,
    ApiOrganiser(user): ApiOrganiser,
    Id(id): Id,
) -> ApiResult<Json<MyEventView>> {
    organiser(&user)?;
    let record = owned_event(&state, &user, id).await?;
    let submitted = submit(&state, &user, &record).await?;
    Ok(Json(my_view(&state, &submitted).await?))
}

#[derive(Serialize, ToSchema)]
struct QueueItem {
    id: i64,
    title: String,
    organisation: String,
    /// Region of review (none: the national queue, for online-only events).
    region: Option<String>,
    department: Option<String>,
    /// `submitted`, or `labelled` for a change to a labelled event awaiting review.
    moderation: String,
    /// When it entered the queue (the change, for a labelled event).
    submitted_at: String,
    /// Entry day + 4 working days (weekends and public holidays skipped), end of day, Paris time.
    due_at: String,
    /// The due date has passed.
    overdue: bool,
    /// A change to a labelled event rather than a first submission.
    change: bool,
    industry_signal_weak: bool,
    /// Other events of the same organisation and edition with a similar title and close dates.
    possible_duplicates: Vec<i64>,
    /// The version of the event as listed: a decision names it, and answers 409 if the event changed since.
    version: i64,
}

#[derive(Serialize, ToSchema)]
struct QueueView {
    total: usize,
    items: Vec<QueueItem>,
}

/// What this reviewer may decide (submissions and changes to labelled events), earliest due first.
#[utoipa::path(get, path = "/api/v1/review/queue", tag = "instruction", security(("jeton" = [])),
    responses((status = 200, description = "Succès", body = QueueView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 403, description = "Accès refusé", body = ErrorBody)))]
async fn review_queue(State(state): State<AppState>, ApiReviewer(user): ApiReviewer) -> ApiResult<Json<QueueView>> {
    let scope = crate::auth::review_scope(&user)?;
    let now = chrono::Utc::now();
    let filter = crate::app::queue::QueueFilter::default();
    let queue = crate::app::queue::queue_of(&state.store, scope.as_deref(), &filter, now).await?;
    let items: Vec<QueueItem> = queue
        .entries
        .into_iter()
        .map(|crate::app::queue::QueueEntry { item: i, due, duplicates }| QueueItem {
            id: i.id,
            title: i.title,
            organisation: i.organisation_name,
            region: i.region,
            department: i.department,
            moderation: if i.change { "labelled".into() } else { "submitted".into() },
            submitted_at: si_domain::dates::rfc3339_paris(i.submitted_at),
            due_at: si_domain::dates::rfc3339_paris(due),
            overdue: due < now,
            change: i.change,
            industry_signal_weak: i.weak_signal,
            possible_duplicates: duplicates,
            version: i.version,
        })
        .collect();
    Ok(Json(QueueView { total: items.len(), items }))
}

#[derive(Deserialize, ToSchema)]
struct DecisionRequest {
    /// `label`, `refuse` or `request_changes`.
    decision: String,
    /// Required except to label.
    #[serde(default)]
    reason: String,
    /// The `version` of the event the decision was taken on (as in the queue): required; 409 when the
    /// event has changed since, and nothing is applied.
    version: Option<i64>,
}

/// Decides a submitted event.
#[utoipa::path(post, path = "/api/v1/review/events/{id}/decision", tag = "instruction", security(("jeton" = [])), params(("id" = i64, Path)),
    request_body = DecisionRequest,
    responses((status = 200, description = "Succès", body = MyEventView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 403, description = "Accès refusé", body = ErrorBody), (status = 404, description = "Introuvable", body = ErrorBody),
              (status = 409, description = "Conflit avec l'état actuel", body = ErrorBody), (status = 422, description = "Donnée invalide (le champ est nommé)", body = ErrorBody)))]
async fn review_decision(
    State(state): State<AppState>,
    ApiReviewer(user): ApiReviewer,
    Id(id): Id,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> ApiResult<Json<MyEventView>> {
    let decision = parse_decision(body.decision.trim()).ok_or_else(|| {
        AppError::invalid(
            "decision",
            format!("Décision inconnue : « {} ». Valeurs possibles : label, refuse, request_changes.", body.decision),
        )
    })?;
    let version = body.version.ok_or_else(|| {
        AppError::invalid(
            "version",
            "Indiquez la version de l'événement sur laquelle porte la décision (champ « version » de la file d'instruction).",
        )
    })?;
    let record = decide(&state, &user, id, decision, &body.reason, version).await?;
    Ok(Json(my_view(&state, &record).await?))
}
