//! The reviewers' part of the API (`/api/v1/review/…`): the queue and decisions, through the same
//! use cases as the review pages.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use si_store::User;
use utoipa::ToSchema;

use super::organiser::my_view;
use super::*;
use crate::AppState;
use crate::app::moderation::{decide, parse_decision};
use crate::auth::ApiUser;
use crate::error::{ApiResult, AppError, ErrorBody};
use crate::forms::Id;
use crate::views::MyEventView;

/// A token holder who reviews (coordinator or administrator), checked before the body is read.
pub(crate) struct ApiReviewer(User);

impl axum::extract::FromRequestParts<AppState> for ApiReviewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, AppError> {
        let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
        crate::auth::review_scope(&user)?;
        Ok(ApiReviewer(user))
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct QueueItem {
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
pub(crate) struct QueueView {
    total: usize,
    items: Vec<QueueItem>,
}

/// What this reviewer may decide (submissions and changes to labelled events), earliest due first.
#[utoipa::path(get, path = "/api/v1/review/queue", tag = "instruction", security(("jeton" = [])),
    responses((status = 200, description = "Succès", body = QueueView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 403, description = "Accès refusé", body = ErrorBody)))]
pub(crate) async fn review_queue(
    State(state): State<AppState>,
    ApiReviewer(user): ApiReviewer,
) -> ApiResult<Json<QueueView>> {
    let scope = crate::auth::review_scope(&user)?;
    let now = state.clock.now();
    let filter = crate::app::queue::QueueFilter::default();
    let queue = crate::app::queue::queue_of(&state.store, &state.queue, &scope, &filter, now).await?;
    let items: Vec<QueueItem> = queue
        .entries(0, queue.len())
        .map(|crate::app::queue::QueueEntry { item: i, due, duplicates }| QueueItem {
            id: i.id,
            title: i.title.clone(),
            organisation: i.organisation_name.clone(),
            region: i.region.clone(),
            department: i.department.clone(),
            moderation: if i.change { "labelled".into() } else { "submitted".into() },
            submitted_at: si_domain::dates::rfc3339_paris(i.submitted_at),
            due_at: si_domain::dates::rfc3339_paris(due),
            overdue: due < now,
            change: i.change,
            industry_signal_weak: i.weak_signal,
            possible_duplicates: duplicates.to_vec(),
            version: i.version,
        })
        .collect();
    Ok(Json(QueueView { total: items.len(), items }))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct DecisionRequest {
    /// `label`, `refuse` or `request_changes`.
    #[schema(value_type = String, pattern = "^(label|refuse|request_changes)$")]
    decision: String,
    /// Required except to label.
    #[serde(default)]
    #[schema(max_length = 2000)]
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
pub(crate) async fn review_decision(
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
    let record = decide(&state.deps(), &user, id, decision, &body.reason, version).await?;
    Ok(Json(my_view(&state, &record).await?))
}
