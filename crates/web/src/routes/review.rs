//! Review (« instruction »): the queue of submitted events a reviewer may decide, an event's checks,
//! and the decision. The decision rules live in [`decide`], shared with the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::Utc;
use si_domain::Moderation;
use si_domain::dates::fr_instant;
use si_domain::text::IndustrySignal;
use si_store::{AuditEntry, Decision, EventRecord, User};

use crate::AppState;
use crate::auth::{ReviewerPage, may_review, review_scope};
use crate::error::AppError;
use crate::forms::Form;
use crate::pages::{Page, PageResult, render, render_status};
use crate::views::{ConditionView, EventView, conditions_of, event_view, place_names};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/instruction", get(queue))
        .route("/instruction/evenements/{id}", get(detail))
        .route("/instruction/evenements/{id}/decision", post(decision_form))
}

/// Parses a decision code of the contract.
pub(crate) fn parse_decision(code: &str) -> Option<Decision> {
    match code {
        "label" => Some(Decision::Label),
        "refuse" => Some(Decision::Refuse),
        "request_changes" => Some(Decision::RequestChanges),
        _ => None,
    }
}

/// Decides an event: only a reviewer of its region (or national), with a reason unless labelling,
/// and labelling only when every condition still holds for the submission.
pub(crate) async fn decide(
    state: &AppState,
    user: &User,
    id: i64,
    decision: Decision,
    reason: &str,
) -> Result<EventRecord, AppError> {
    review_scope(user)?;
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    if !may_review(user, record.region.as_deref()) {
        return Err(AppError::NotFound);
    }
    let reason = reason.trim();
    if decision != Decision::Label && reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "Indiquez le motif : l'organisateur le recevra pour comprendre la décision.",
        ));
    }
    if reason.chars().count() > 2000 {
        return Err(AppError::invalid("reason", "Le motif ne doit pas dépasser 2 000 caractères."));
    }
    if record.moderation != Moderation::Submitted {
        return Err(AppError::Conflict(format!(
            "Cet événement n'attend pas de décision (état : {}).",
            record.moderation.label()
        )));
    }
    if decision == Decision::Label {
        let edition = state.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
        let report = conditions_of(&record, &edition);
        if !report.eligible {
            return Err(AppError::ConditionsNotMet(report.conditions.into_iter().filter(|c| !c.met).collect()));
        }
    }
    let reason = (!reason.is_empty()).then_some(reason);
    let decided = state.store.decide(id, user.id, decision, reason, Utc::now()).await?;
    if decision == Decision::Label {
        // What the map shows has changed.
        state.caches.clear();
        state.catalogue.invalidate();
    }
    Ok(decided)
}

struct QueueRow {
    id: i64,
    title: String,
    organisation: String,
    region: String,
    department: String,
    submitted: String,
    weak_signal: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct Queue {
    page: Page,
    scope: String,
    rows: Vec<QueueRow>,
}

async fn queue(State(state): State<AppState>, ReviewerPage(u): ReviewerPage) -> PageResult {
    let scope = review_scope(&u)?;
    let records = state.store.review_queue(scope.as_deref()).await?;
    let rows = records
        .iter()
        .map(|r| {
            let (region, department) = place_names(r);
            QueueRow {
                id: r.id,
                title: r.data.title.clone(),
                organisation: r.organisation_name.clone(),
                region,
                department,
                submitted: r.submitted_at.map(fr_instant).unwrap_or_default(),
                weak_signal: si_domain::text::industry_signal(
                    &r.data.title,
                    &format!("{}\n{}", r.data.summary, r.data.description),
                )
                .weak,
            }
        })
        .collect();
    let scope = match &scope {
        None => "toutes les régions".to_string(),
        Some(r) => r.iter().map(|c| si_domain::territory::territory().region_name(c)).collect::<Vec<_>>().join(", "),
    };
    Ok(render(&Queue { page: Page::new("Instruction", Some(u), "instruction").crumb("/", "Accueil"), scope, rows }))
}

#[derive(Template)]
#[template(path = "review_event.html")]
struct Detail {
    page: Page,
    e: EventView,
    moderation: Moderation,
    conditions: Vec<ConditionView>,
    signal: IndustrySignal,
    audit: Vec<AuditEntry>,
    region: String,
    department: String,
    error: Option<String>,
    reason: String,
    decision: String,
}

impl Detail {
    fn when(&self, at: &chrono::DateTime<Utc>) -> String {
        fr_instant(*at)
    }
    fn action_label(&self, action: &str) -> &'static str {
        match action {
            "create" => "Création",
            "update" => "Modification",
            "submit" => "Soumission",
            "withdraw" => "Retrait",
            "label" => "Labellisation",
            "refuse" => "Refus",
            "request_changes" => "Demande de modifications",
            _ => "Action",
        }
    }
}

async fn detail_page(
    state: &AppState,
    u: User,
    id: i64,
    error: Option<String>,
    reason: String,
    decision: String,
) -> PageResult {
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    if !may_review(&u, record.region.as_deref()) {
        return Err(AppError::NotFound.into());
    }
    let edition = state.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
    let report = conditions_of(&record, &edition);
    let audit = state.store.audit(id).await?;
    let (region, department) = place_names(&record);
    let status =
        if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    Ok(render_status(
        status,
        &Detail {
            page: Page::new(record.data.title.clone(), Some(u), "instruction")
                .crumb("/", "Accueil")
                .crumb("/instruction", "Instruction"),
            e: event_view(&record, &state.config.public_url),
            moderation: record.moderation,
            conditions: report.conditions.iter().map(ConditionView::from).collect(),
            signal: report.industry_signal,
            audit,
            region,
            department,
            error,
            reason,
            decision,
        },
    ))
}

async fn detail(State(state): State<AppState>, ReviewerPage(u): ReviewerPage, Path(id): Path<String>) -> PageResult {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    detail_page(&state, u, id, None, String::new(), String::new()).await
}

async fn decision_form(
    State(state): State<AppState>,
    ReviewerPage(u): ReviewerPage,
    Path(id): Path<String>,
    Form(p): Form,
) -> PageResult {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let reason = p.raw("reason");
    let code = p.get("decision").unwrap_or("").to_string();
    let Some(decision) = parse_decision(&code) else {
        return detail_page(
            &state,
            u,
            id,
            Some("Choisissez une décision : labelliser, demander des modifications ou refuser.".into()),
            reason,
            code,
        )
        .await;
    };
    match decide(&state, &u, id, decision, &reason).await {
        Ok(_) => Ok(Redirect::to("/instruction").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::ConditionsNotMet(_) | AppError::Conflict(_))) => {
            detail_page(&state, u, id, Some(e.message()), reason, code).await
        }
        Err(e) => Err(e.into()),
    }
}
