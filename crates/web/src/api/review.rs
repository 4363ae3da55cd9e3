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

// The answer's schema; it is written a slice of rows at a time (see `review_queue`), not built whole.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub(crate) struct QueueView {
    total: usize,
    items: Vec<QueueItem>,
}

/// Rows formatted and sent at a time by [`review_queue`].
const QUEUE_SLICE: usize = 256;

// The whole queue is the answer (8,000 rows weigh 3 MB): it is streamed from the snapshot that every
// reviewer shares, a slice of rows at a time, so that many reviewers asking at once do not each hold a
// copy of the queue and its JSON.
/// What this reviewer may decide (submissions and changes to labelled events), earliest due first.
#[utoipa::path(get, path = "/api/v1/review/queue", tag = "instruction", security(("jeton" = [])),
    responses((status = 200, description = "Succès", body = QueueView), (status = 401, description = "Authentification requise", body = ErrorBody), (status = 403, description = "Accès refusé", body = ErrorBody), (status = 429, description = "Déjà envoyée plusieurs fois à la fois pour ce compte (en-tête Retry-After)", body = ErrorBody)))]
pub(crate) async fn review_queue(
    State(state): State<AppState>,
    ApiReviewer(user): ApiReviewer,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let scope = crate::auth::review_scope(&user)?;
    // Each answer keeps the snapshot it started from until it is read out: a few at once per account.
    let permit = state.queue_streams.try_start(user.id).ok_or_else(|| {
        crate::error::AppError::too_many(
            "La file d'instruction est déjà en cours d'envoi plusieurs fois pour ce compte : attendez la fin d'un envoi.",
            std::time::Duration::from_secs(5),
        )
    })?;
    let now = state.clock.now();
    let filter = crate::app::queue::QueueFilter::default();
    let queue = crate::app::queue::queue_of(&state.store, &state.queue, &scope, &filter, now).await?;
    let total = queue.len();
    let mut next = 0;
    let slices = std::iter::from_fn(move || {
        // Held by the body: freed when the answer is read out or its connection dropped.
        let _held = &permit;
        if next >= total {
            return None;
        }
        let mut out = Vec::with_capacity(QUEUE_SLICE * 400);
        for (k, entry) in queue.entries(next, QUEUE_SLICE).enumerate() {
            if next + k > 0 {
                out.push(b',');
            }
            // Writing to a Vec cannot fail, nor can these plain fields.
            let _ = serde_json::to_writer(&mut out, &queue_item(entry, now));
        }
        next += QUEUE_SLICE;
        Some(Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(out)))
    });
    let head = std::iter::once(Ok(axum::body::Bytes::from(format!("{{\"total\":{total},\"items\":["))));
    let tail = std::iter::once(Ok(axum::body::Bytes::from_static(b"]}")));
    let body = axum::body::Body::from_stream(futures_util::stream::iter(head.chain(slices).chain(tail)));
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// One row of the queue as the API gives it.
fn queue_item(entry: crate::app::queue::QueueEntry<'_>, now: chrono::DateTime<chrono::Utc>) -> QueueItem {
    let crate::app::queue::QueueEntry { item: i, due, duplicates } = entry;
    QueueItem {
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
    }
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
