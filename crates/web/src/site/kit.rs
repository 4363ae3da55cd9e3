//! The label kit of a labelled event, at public addresses (a label number is public, and a partner
//! may check an attestation against the event's page): the PDF attestation and the SVG badge. A
//! revoked label, an event not (or no longer) labelled, or a cancelled event has no kit.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use si_domain::dates::{PARIS, fr_date};

use crate::AppState;
use crate::app::moderation::has_kit;
use crate::error::AppError;
use crate::forms::Id;
use crate::kit::{KitFacts, attestation_pdf, badge_svg};
use crate::pages::PageResult;
use crate::views::{event_view, place_names};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/evenements/{id}/label/attestation.pdf", get(attestation))
        .route("/evenements/{id}/label/badge.svg", get(badge))
}

async fn facts(state: &AppState, id: i64) -> Result<KitFacts, AppError> {
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    if !has_kit(&record) {
        return Err(AppError::NotFound);
    }
    let edition = state.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
    let view = event_view(&record, &state.config.public_url);
    let (region, department) = place_names(&record);
    let mut details = Vec::new();
    if let Some(commune) = &view.location.commune {
        details.push(format!(
            "{}{commune} ({department}, {region})",
            if view.location.venue.is_empty() { String::new() } else { format!("{}, ", view.location.venue) }
        ));
    } else {
        details.push("En ligne".to_string());
    }
    details.extend(view.sessions.iter().take(4).map(|s| s.label.clone()));
    if view.sessions.len() > 4 {
        details.push(format!("et {} autres séances", view.sessions.len() - 4));
    }
    let decided = record.labelled_at.or(record.decided_at).unwrap_or(record.updated_at);
    Ok(KitFacts {
        year: edition.year,
        edition_number: edition.number,
        title: record.data.title.clone(),
        organisation: record.organisation_name.clone(),
        details,
        label_number: record.label_number.clone().unwrap_or_default(),
        decided_on: fr_date(decided.with_timezone(&PARIS).date_naive()),
        url: format!("{}/evenements/{}", state.config.public_url, record.id),
        demo: edition.demo,
    })
}

async fn attestation(State(state): State<AppState>, Id(id): Id) -> PageResult {
    let f = facts(&state, id).await?;
    let disposition = format!("inline; filename=\"attestation-{}.pdf\"", f.label_number);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        attestation_pdf(&f),
    )
        .into_response())
}

async fn badge(State(state): State<AppState>, Id(id): Id) -> PageResult {
    let f = facts(&state, id).await?;
    let disposition = format!("inline; filename=\"badge-{}.svg\"", f.label_number);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        badge_svg(&f),
    )
        .into_response())
}
