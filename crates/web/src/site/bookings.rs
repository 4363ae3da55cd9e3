//! Booking pages: a teacher (or a person) books a session without an account, then changes the
//! group's size or cancels through the secret link; the organiser lists each session's bookings,
//! exports them, prints the attendance sheet and closes bookings early. The rules are in
//! `app::bookings`; these handlers parse and render.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use si_domain::booking::BookingInput;
use si_domain::{BookingStatus, ClassLevel, FieldError};
use si_store::Booking;

use crate::AppState;
use crate::app::bookings::{self, Bookable, BookingRefusal, Offer, offer};
use crate::auth::{MaybeUser, OrganiserPage, Source};
use crate::error::AppError;
use crate::forms::{Errors, Form, Id};
use crate::pages::{Page, PageResult, render, render_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/evenements/{id}/reserver/{rank}", get(form).post(book))
        .route("/reservations/{token}", get(manage).post(change))
        .route("/espace/evenements/{id}/reservations", get(organiser_list))
        .route("/espace/evenements/{id}/reservations.csv", get(organiser_csv))
        .route("/espace/evenements/{id}/reservations/{rank}/cloture", post(organiser_close))
        .route("/espace/evenements/{id}/reservations/message", post(organiser_message))
        .route("/espace/evenements/{id}/feuille", get(organiser_sheet))
        .route("/espace/evenements/{id}/bilan", get(organiser_report).post(organiser_report_save))
        .route("/avis/{id}", get(feedback_form).post(feedback_save))
        .route("/instruction/bilans", get(reviewer_reports))
}

#[derive(Template)]
#[template(path = "booking_form.html")]
struct BookingForm {
    page: Page,
    event_id: i64,
    rank: u32,
    title: String,
    session: String,
    place: String,
    offer: String,
    waitlist: bool,
    groups: bool,
    individuals: bool,
    max_group: u32,
    safety: Vec<String>,
    input: BookingInput,
    errors: Errors,
}

impl BookingForm {
    fn levels(&self) -> &'static [ClassLevel] {
        ClassLevel::ALL
    }
    fn kind_is(&self, k: &str) -> bool {
        self.input.kind == k || (self.input.kind.is_empty() && k == if self.groups { "classe" } else { "personne" })
    }
}

fn place_of(b: &Bookable) -> String {
    let l = &b.record.data.location;
    let commune = b.record.data.place().map(|p| p.commune).unwrap_or_default();
    [l.venue.clone(), l.address.clone(), format!("{} {commune}", l.postal_code).trim().to_string()]
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn form_page(
    state: &AppState,
    user: MaybeUser,
    b: &Bookable,
    input: BookingInput,
    errors: Vec<FieldError>,
) -> Result<BookingForm, AppError> {
    let seats = state.store.session_seats(&[b.record.id]).await?;
    let (o, left) = offer(
        &b.rules,
        b.record.public_status,
        b.start,
        b.tz,
        seats.iter().find(|s| s.rank == b.rank),
        state.clock.now(),
    );
    Ok(BookingForm {
        page: Page::new(format!("Réserver : {}", b.record.data.title), user.user, "evenements")
            .crumb("/", "Accueil")
            .crumb("/evenements", "Trouver un événement")
            .crumb(&format!("/evenements/{}", b.record.id), &b.record.data.title),
        event_id: b.record.id,
        rank: b.rank,
        title: b.record.data.title.clone(),
        session: si_domain::dates::fr_session(b.start, b.end),
        place: place_of(b),
        offer: o.label(left),
        waitlist: o == Offer::Waitlist,
        groups: b.rules.groups,
        individuals: b.rules.individuals,
        max_group: b.rules.max_group,
        safety: crate::views::safety_lines(&b.record.data.safety),
        input,
        errors: Errors(errors),
    })
}

fn rank_of(raw: &str) -> Result<u32, AppError> {
    raw.parse::<u32>().ok().filter(|r| *r >= 1).ok_or(AppError::NotFound)
}

async fn form(State(state): State<AppState>, user: MaybeUser, Path((id, rank)): Path<(String, String)>) -> PageResult {
    let (id, rank) = (id.parse::<i64>().map_err(|_| AppError::NotFound)?, rank_of(&rank)?);
    let b = bookings::bookable(&state.deps(), id, rank).await?;
    Ok(render(&form_page(&state, user, &b, BookingInput::default(), Vec::new()).await?))
}

fn input_of(p: &crate::forms::Pairs) -> BookingInput {
    BookingInput {
        kind: p.raw("kind"),
        uai: p.raw("uai").trim().to_string(),
        school: p.raw("school"),
        level: p.raw("level"),
        pupils: p.raw("pupils").trim().to_string(),
        adults: p.raw("adults").trim().to_string(),
        phone: p.raw("phone"),
        name: p.raw("name"),
        email: p.raw("email").trim().to_string(),
        acknowledged: p.get("acknowledged").is_some(),
    }
}

async fn book(
    State(state): State<AppState>,
    user: MaybeUser,
    Source(source): Source,
    Path((id, rank)): Path<(String, String)>,
    Form(p): Form,
) -> PageResult {
    let (id, rank) = (id.parse::<i64>().map_err(|_| AppError::NotFound)?, rank_of(&rank)?);
    let b = bookings::bookable(&state.deps(), id, rank).await?;
    let input = input_of(&p);
    let limited = state
        .throttle
        .booking_source
        .take(&source)
        .and_then(|_| state.throttle.booking_address.take(&input.email.to_lowercase()));
    if let Err(wait) = limited {
        return Err(AppError::too_many("Trop de réservations en peu de temps : réessayez plus tard.", wait).into());
    }
    match bookings::book(&state.deps(), id, rank, &input).await {
        Ok(booked) => Ok(Redirect::to(&format!("/reservations/{}?nouvelle=1", booked.token)).into_response()),
        Err(BookingRefusal::Fields(errors)) => {
            let page = form_page(&state, user, &b, input, errors).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(BookingRefusal::Other(AppError::Conflict(message))) => {
            // Full, closed: said above the form, everything typed kept.
            let page = form_page(&state, user, &b, input, vec![FieldError { field: "form".into(), message }]).await?;
            Ok(render_status(StatusCode::CONFLICT, &page))
        }
        Err(BookingRefusal::Other(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "booking.html")]
struct Manage {
    page: Page,
    token: String,
    b: Booking,
    title: String,
    event_id: i64,
    session: String,
    place: String,
    safety: Vec<String>,
    notice: Option<String>,
    pupils: String,
    adults: String,
    errors: Errors,
}

impl Manage {
    fn status_label(&self) -> &'static str {
        self.b.status.label()
    }
    fn live(&self) -> bool {
        self.b.status != BookingStatus::Cancelled
    }
    fn level_label(&self) -> &'static str {
        self.b.level.map(|l| l.label()).unwrap_or("")
    }
}

async fn manage_page(
    state: &AppState,
    user: MaybeUser,
    token: &str,
    notice: Option<String>,
    typed: Option<(String, String)>,
    errors: Vec<FieldError>,
) -> Result<Manage, AppError> {
    let (b, s) = bookings::by_token(&state.deps(), token).await?;
    let (pupils, adults) = typed.unwrap_or_else(|| (b.pupils.to_string(), b.adults.to_string()));
    Ok(Manage {
        page: Page::new("Ma réservation", user.user, "evenements").crumb("/", "Accueil"),
        token: token.to_string(),
        title: s.record.data.title.clone(),
        event_id: s.record.id,
        session: si_domain::dates::fr_session(s.start, s.end),
        place: place_of(&s),
        safety: crate::views::safety_lines(&s.record.data.safety),
        b,
        notice,
        pupils,
        adults,
        errors: Errors(errors),
    })
}

async fn manage(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(token): Path<String>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> PageResult {
    let q = crate::forms::Pairs::parse(q.as_deref().unwrap_or(""));
    let notice = q.get("nouvelle").map(|_| {
        "Réservation enregistrée. Un courriel de confirmation vient de partir, avec la séance pour votre agenda et une confirmation à joindre au dossier de sortie. Gardez-le : son lien ramène à cette page.".to_string()
    });
    let page = manage_page(&state, user, &token, notice, None, Vec::new()).await?;
    Ok(render(&page))
}

async fn change(
    State(state): State<AppState>,
    user: MaybeUser,
    Source(source): Source,
    Path(token): Path<String>,
    Form(p): Form,
) -> PageResult {
    if let Err(wait) = state.throttle.booking_source.take(&source) {
        return Err(AppError::too_many("Trop de demandes en peu de temps : réessayez plus tard.", wait).into());
    }
    let deps = state.deps();
    match p.get("action") {
        Some("resize") => {
            let (pupils, adults) = (p.raw("pupils").trim().to_string(), p.raw("adults").trim().to_string());
            match bookings::resize(&deps, &token, &pupils, &adults).await {
                Ok(b) => {
                    let notice = format!(
                        "Réservation modifiée : {} places{}. Un courriel le confirme.",
                        b.seats,
                        if b.status == BookingStatus::Waitlisted { ", toujours sur liste d'attente" } else { "" }
                    );
                    Ok(render(&manage_page(&state, user, &token, Some(notice), None, Vec::new()).await?))
                }
                Err(BookingRefusal::Fields(errors)) => {
                    let page = manage_page(&state, user, &token, None, Some((pupils, adults)), errors).await?;
                    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
                }
                Err(BookingRefusal::Other(AppError::Conflict(m))) => {
                    let errors = vec![FieldError { field: "pupils".into(), message: m }];
                    let page = manage_page(&state, user, &token, None, Some((pupils, adults)), errors).await?;
                    Ok(render_status(StatusCode::CONFLICT, &page))
                }
                Err(BookingRefusal::Other(e)) => Err(e.into()),
            }
        }
        Some(action @ ("cancel" | "erase")) => match bookings::cancel(&deps, &token, action == "erase").await {
            Ok(_) => {
                let notice = if action == "erase" {
                    "Réservation annulée et vos coordonnées effacées. Merci d'avoir libéré ces places."
                } else {
                    "Réservation annulée. Merci d'avoir libéré ces places."
                };
                Ok(render(&manage_page(&state, user, &token, Some(notice.into()), None, Vec::new()).await?))
            }
            Err(AppError::Conflict(m)) => {
                let page = manage_page(&state, user, &token, Some(m), None, Vec::new()).await?;
                Ok(render_status(StatusCode::CONFLICT, &page))
            }
            Err(e) => Err(e.into()),
        },
        _ => {
            let errors = vec![FieldError { field: "form".into(), message: "Choisissez une action.".into() }];
            let page = manage_page(&state, user, &token, None, None, errors).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// One session of the organiser's list.
struct SessionBookings {
    rank: u32,
    label: String,
    offer: String,
    closed: bool,
    confirmed: u32,
    waiting: u32,
    capacity: u32,
    rows: Vec<Booking>,
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct OrganiserList {
    page: Page,
    event_id: i64,
    title: String,
    sessions: Vec<SessionBookings>,
    platform: bool,
    notice: Option<String>,
    message: String,
    errors: Errors,
}

impl OrganiserList {
    fn status_label(&self, b: &Booking) -> &'static str {
        b.status.label()
    }
    fn level_label(&self, b: &Booking) -> &'static str {
        b.level.map(|l| l.label()).unwrap_or("")
    }
}

/// The header of an organiser's page about one of their events: « What : title », under the event.
fn organiser_page(what: &str, record: &si_store::EventRecord, u: si_store::User) -> Page {
    Page::new(format!("{what} : {}", record.data.title), Some(u), "espace")
        .crumb("/", "Accueil")
        .crumb("/espace", "Mon espace")
        .crumb(&format!("/espace/evenements/{}", record.id), &record.data.title)
}

/// The organiser's event with its sessions' bookings.
async fn sessions_of(
    state: &AppState,
    user: &si_store::User,
    id: i64,
) -> Result<(si_store::EventRecord, Vec<SessionBookings>), AppError> {
    let record = crate::app::moderation::owned_event(&state.deps(), user, id).await?;
    let all = state.store.event_bookings(id).await?;
    let seats = state.store.session_seats(&[id]).await?;
    let rules = si_domain::booking::BookingRules::of(&record.data.registration);
    let tz = bookings::timezone_of(&record);
    let now = state.clock.now();
    let sessions = record
        .data
        .parsed_sessions()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let rank = i as u32 + 1;
            let mine = seats.iter().find(|x| x.rank == rank);
            let (offer_label, capacity) = match &rules {
                Some(r) => {
                    let (o, left) = offer(r, record.public_status, s.start, tz, mine, now);
                    (o.label(left), r.capacity)
                }
                None => (String::new(), 0),
            };
            SessionBookings {
                rank,
                label: si_domain::dates::fr_session(s.start, s.end),
                offer: offer_label,
                closed: mine.is_some_and(|m| m.closed),
                confirmed: mine.map_or(0, |m| m.confirmed),
                waiting: mine.map_or(0, |m| m.waiting),
                capacity,
                rows: all.iter().filter(|b| b.rank == rank && b.status != BookingStatus::Cancelled).cloned().collect(),
            }
        })
        .collect();
    Ok((record, sessions))
}

async fn organiser_list(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> PageResult {
    let q = crate::forms::Pairs::parse(q.as_deref().unwrap_or(""));
    let notice = q.get("envoye").and_then(|n| n.parse::<usize>().ok()).map(|n| match n {
        0 => "Aucune personne à prévenir : aucune réservation en cours.".to_string(),
        1 => "Message envoyé à 1 personne.".to_string(),
        n => format!("Message envoyé à {n} personnes."),
    });
    Ok(render(&list_page(&state, u, id, notice, String::new(), Vec::new()).await?))
}

async fn list_page(
    state: &AppState,
    u: si_store::User,
    id: i64,
    notice: Option<String>,
    message: String,
    errors: Vec<FieldError>,
) -> Result<OrganiserList, AppError> {
    let (record, sessions) = sessions_of(state, &u, id).await?;
    Ok(OrganiserList {
        page: organiser_page("Réservations", &record, u),
        event_id: id,
        title: record.data.title.clone(),
        platform: si_domain::booking::BookingRules::of(&record.data.registration).is_some(),
        sessions,
        notice,
        message,
        errors: Errors(errors),
    })
}

/// The most characters of an organiser's message to the people booked.
const MESSAGE_MAX: usize = 2_000;

/// A message from the organiser to every person with a live booking (of one session, or all), sent
/// through the outbox; a few an hour per event.
async fn organiser_message(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let record = crate::app::moderation::owned_event(&state.deps(), &u, id).await?;
    let message = p.raw("message");
    let text = message.trim();
    let problem = if text.is_empty() {
        Some("Écrivez le message à envoyer.".to_string())
    } else if text.chars().count() > MESSAGE_MAX {
        Some(format!("Le message ne doit pas dépasser {MESSAGE_MAX} caractères."))
    } else {
        si_domain::input::multi_line("Le message", text).err()
    };
    if let Some(m) = problem {
        let errors = vec![FieldError { field: "message".into(), message: m }];
        let page = list_page(&state, u, id, None, message, errors).await?;
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let rank: Option<u32> = p.get("session").and_then(|s| s.parse().ok()).filter(|r| *r >= 1);
    if let Err(wait) = state.throttle.organiser_messages.take(&id.to_string()) {
        return Err(AppError::too_many("Quelques messages par heure au plus : réessayez plus tard.", wait).into());
    }
    let people: Vec<Booking> = state
        .store
        .event_bookings(id)
        .await?
        .into_iter()
        .filter(|b| b.status != BookingStatus::Cancelled && !b.email.is_empty() && rank.is_none_or(|r| b.rank == r))
        .collect();
    let sent = crate::notify::organiser_message(&state.letters, &record, &people, text).await;
    Ok(Redirect::to(&format!("/espace/evenements/{id}/reservations?envoye={sent}")).into_response())
}

/// The bookings as CSV for a French spreadsheet (`;`, UTF-8 with BOM, CRLF; text neutralised
/// against formulas by `exports::cell`).
async fn organiser_csv(State(state): State<AppState>, OrganiserPage(u): OrganiserPage, Id(id): Id) -> PageResult {
    let (_, sessions) = sessions_of(&state, &u, id).await?;
    let mut out = String::from("\u{feff}");
    let header = [
        "reference",
        "seance",
        "statut",
        "places",
        "type",
        "nom",
        "courriel",
        "telephone",
        "uai",
        "etablissement",
        "niveau",
        "eleves",
        "accompagnateurs",
        "reservee_le",
    ];
    out.push_str(&header.join(";"));
    out.push_str("\r\n");
    for s in &sessions {
        for b in &s.rows {
            let row = [
                format!("R-{}", b.id),
                crate::exports::cell(&s.label),
                b.status.code().to_string(),
                b.seats.to_string(),
                b.kind.clone(),
                crate::exports::cell(&b.name),
                crate::exports::cell(&b.email),
                crate::exports::cell(&b.phone),
                crate::exports::cell(b.uai.as_deref().unwrap_or("")),
                crate::exports::cell(b.school.as_deref().unwrap_or("")),
                b.level.map(|l| l.code().to_string()).unwrap_or_default(),
                b.pupils.to_string(),
                b.adults.to_string(),
                b.created_at.to_rfc3339(),
            ];
            out.push_str(&row.join(";"));
            out.push_str("\r\n");
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"reservations-{id}.csv\"")),
        ],
        out,
    )
        .into_response())
}

async fn organiser_close(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Path((id, rank)): Path<(String, String)>,
    Form(p): Form,
) -> PageResult {
    let (id, rank) = (id.parse::<i64>().map_err(|_| AppError::NotFound)?, rank_of(&rank)?);
    let record = crate::app::moderation::owned_event(&state.deps(), &u, id).await?;
    let rules = si_domain::booking::BookingRules::of(&record.data.registration)
        .ok_or_else(|| AppError::Conflict("Cet événement ne prend pas de réservation sur la plateforme.".into()))?;
    if rank as usize > record.data.parsed_sessions().len() {
        return Err(AppError::NotFound.into());
    }
    let close = p.get("close") == Some("1");
    state.store.close_session(id, rank, rules.capacity, close).await?;
    state.caches.event_pages.take(&id.to_string());
    Ok(Redirect::to(&format!("/espace/evenements/{id}/reservations")).into_response())
}

/// The printable attendance sheet of each session: who is expected, a column to tick and sign, and
/// the QR code of the participants' questionnaire.
#[derive(Template)]
#[template(path = "attendance_sheet.html")]
struct Sheet {
    page: Page,
    event_id: i64,
    title: String,
    sessions: Vec<SessionBookings>,
    feedback_url: String,
    qr: String,
}

impl Sheet {
    fn level_label(&self, b: &Booking) -> &'static str {
        b.level.map(|l| l.label()).unwrap_or("")
    }
}

async fn organiser_sheet(State(state): State<AppState>, OrganiserPage(u): OrganiserPage, Id(id): Id) -> PageResult {
    let (record, mut sessions) = sessions_of(&state, &u, id).await?;
    for s in &mut sessions {
        s.rows.retain(|b| b.status == BookingStatus::Confirmed);
    }
    let feedback_url = format!("{}/avis/{id}", state.config.public_url);
    let qr = crate::kit::qr_svg(&feedback_url, 140, "Code QR du questionnaire des participants");
    Ok(render(&Sheet {
        page: Page::new(format!("Feuille d'émargement : {}", record.data.title), Some(u), "espace")
            .crumb("/", "Accueil")
            .crumb("/espace", "Mon espace")
            .crumb(&format!("/espace/evenements/{id}/reservations"), "Réservations"),
        event_id: id,
        title: record.data.title.clone(),
        sessions,
        feedback_url,
        qr,
    }))
}

/// The organiser's attendance report, with the questionnaire's answers once there are enough.
#[derive(Template)]
#[template(path = "attendance_report.html")]
struct Report {
    page: Page,
    event_id: i64,
    title: String,
    input: si_domain::booking::AttendanceInput,
    errors: Errors,
    saved: bool,
    booked: u32,
    feedback: si_store::FeedbackSummary,
    enough: bool,
}

impl Report {
    fn audiences(&self) -> Vec<(&'static str, &'static str, String)> {
        si_domain::Audience::ALL
            .iter()
            .map(|a| {
                let typed = self.input.by_audience.iter().find(|(c, _)| c == a.code()).map(|(_, v)| v.clone());
                (a.code(), a.label(), typed.unwrap_or_default())
            })
            .collect()
    }
    fn mean(&self, x: &f64) -> String {
        format!("{x:.1}").replace('.', ",")
    }
}

fn report_input(p: &crate::forms::Pairs) -> si_domain::booking::AttendanceInput {
    si_domain::booking::AttendanceInput {
        participants: p.raw("participants"),
        girls: p.raw("girls"),
        classes: p.raw("classes"),
        schools: p.raw("schools"),
        interviews: p.raw("interviews"),
        by_audience: si_domain::Audience::ALL
            .iter()
            .map(|a| (a.code().to_string(), p.raw(&format!("audience_{}", a.code()))))
            .collect(),
    }
}

async fn report_page(
    state: &AppState,
    u: si_store::User,
    id: i64,
    input: Option<si_domain::booking::AttendanceInput>,
    errors: Vec<FieldError>,
    saved: bool,
) -> Result<Report, AppError> {
    let record = crate::app::moderation::owned_event(&state.deps(), &u, id).await?;
    if record.moderation != si_domain::Moderation::Labelled {
        return Err(AppError::Conflict("Le bilan concerne les événements labellisés.".into()));
    }
    let input = match input {
        Some(i) => i,
        None => match state.store.attendance(id).await? {
            Some(a) => si_domain::booking::AttendanceInput {
                participants: a.participants.to_string(),
                girls: a.girls.to_string(),
                classes: a.classes.to_string(),
                schools: a.schools.to_string(),
                interviews: a.interviews.to_string(),
                by_audience: a.by_audience.iter().map(|(x, n)| (x.code().to_string(), n.to_string())).collect(),
            },
            None => si_domain::booking::AttendanceInput::default(),
        },
    };
    let booked = state.store.session_seats(&[id]).await?.iter().map(|s| s.confirmed).sum();
    let feedback = state.store.feedback_of(id).await?;
    Ok(Report {
        page: organiser_page("Bilan", &record, u),
        event_id: id,
        title: record.data.title.clone(),
        input,
        errors: Errors(errors),
        saved,
        booked,
        enough: feedback.answers >= si_domain::booking::FEEDBACK_MIN,
        feedback,
    })
}

async fn organiser_report(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> PageResult {
    let saved = crate::forms::Pairs::parse(q.as_deref().unwrap_or("")).get("enregistre").is_some();
    Ok(render(&report_page(&state, u, id, None, Vec::new(), saved).await?))
}

async fn organiser_report_save(
    State(state): State<AppState>,
    OrganiserPage(u): OrganiserPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let record = crate::app::moderation::owned_event(&state.deps(), &u, id).await?;
    let input = report_input(&p);
    match input.parse() {
        Ok(a) => {
            if record.moderation != si_domain::Moderation::Labelled {
                return Err(AppError::Conflict("Le bilan concerne les événements labellisés.".into()).into());
            }
            state.store.save_attendance(id, u.id, &a, state.clock.now()).await?;
            Ok(Redirect::to(&format!("/espace/evenements/{id}/bilan?enregistre=1")).into_response())
        }
        Err(errors) => {
            let page = report_page(&state, u, id, Some(input), errors, false).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// How long after its last day an event's questionnaire stays open.
const FEEDBACK_DAYS: i64 = 60;

#[derive(Template)]
#[template(path = "feedback.html")]
struct FeedbackPage {
    page: Page,
    event_id: i64,
    title: String,
    before: String,
    after: String,
    career: String,
    errors: Errors,
    thanks: bool,
    closed: Option<String>,
}

impl FeedbackPage {
    fn scale(&self) -> [(&'static str, &'static str); 5] {
        [
            ("1", "Très négative"),
            ("2", "Plutôt négative"),
            ("3", "Ni l'un ni l'autre"),
            ("4", "Plutôt positive"),
            ("5", "Très positive"),
        ]
    }
    fn careers(&self) -> [(&'static str, &'static str); 3] {
        [("oui", "Oui"), ("peut_etre", "Peut-être"), ("non", "Non")]
    }
}

/// The event of a questionnaire, and why it is not open now (before the first day, too long after).
async fn feedback_event(state: &AppState, id: i64) -> Result<(si_store::EventRecord, Option<String>), AppError> {
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    if record.moderation != si_domain::Moderation::Labelled {
        return Err(AppError::NotFound);
    }
    let today = state.clock.now().with_timezone(&bookings::timezone_of(&record)).date_naive();
    let sessions = record.data.parsed_sessions();
    let first = sessions.iter().map(|s| s.start.date()).min();
    let last = sessions.iter().map(|s| s.end.date()).max();
    let closed = match (first, last) {
        (Some(f), _) if today < f => Some("Le questionnaire s'ouvre le jour de l'événement.".to_string()),
        (_, Some(l)) if today > l + chrono::Duration::days(FEEDBACK_DAYS) => {
            Some("Le questionnaire de cet événement est clos.".to_string())
        }
        _ => None,
    };
    Ok((record, closed))
}

async fn feedback_form(State(state): State<AppState>, user: MaybeUser, Id(id): Id) -> PageResult {
    let (record, closed) = feedback_event(&state, id).await?;
    Ok(render(&FeedbackPage {
        page: Page::new("Votre avis sur la visite", user.user, "").crumb("/", "Accueil"),
        event_id: id,
        title: record.data.title.clone(),
        before: String::new(),
        after: String::new(),
        career: String::new(),
        errors: Errors::default(),
        thanks: false,
        closed,
    }))
}

async fn feedback_save(
    State(state): State<AppState>,
    user: MaybeUser,
    Source(source): Source,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let (record, closed) = feedback_event(&state, id).await?;
    let (before, after, career) = (p.raw("before"), p.raw("after"), p.raw("career"));
    let mut page = FeedbackPage {
        page: Page::new("Votre avis sur la visite", user.user, "").crumb("/", "Accueil"),
        event_id: id,
        title: record.data.title.clone(),
        before: before.clone(),
        after: after.clone(),
        career: career.clone(),
        errors: Errors::default(),
        thanks: false,
        closed,
    };
    if page.closed.is_some() {
        return Ok(render_status(StatusCode::CONFLICT, &page));
    }
    match si_domain::booking::Feedback::parse(&before, &after, &career) {
        Ok(f) => {
            // Anonymous, so bounded per source and per event rather than per person.
            let limited = state
                .throttle
                .feedback_source
                .take(&source)
                .and_then(|_| state.throttle.feedback_event.take(&id.to_string()));
            if let Err(wait) = limited {
                return Err(AppError::too_many("Trop de réponses en peu de temps : réessayez plus tard.", wait).into());
            }
            state.store.add_feedback(id, &f, state.clock.now().date_naive()).await?;
            page.thanks = true;
            Ok(render(&page))
        }
        Err(errors) => {
            page.errors = Errors(errors);
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

/// The coordinators' view of their region's reports (counts only, no person), every region for
/// the national view.
#[derive(Template)]
#[template(path = "reports.html")]
struct Reports {
    page: Page,
    edition: i32,
    scope: String,
    rows: Vec<(i64, String, String, si_domain::booking::Attendance)>,
}

impl Reports {
    fn share(&self, a: &si_domain::booking::Attendance) -> String {
        a.girls_share().map(|s| format!("{s:.1} %").replace('.', ",")).unwrap_or_else(|| "–".into())
    }
}

async fn reviewer_reports(
    State(state): State<AppState>,
    crate::auth::ReviewerPage(u): crate::auth::ReviewerPage,
) -> PageResult {
    let scope = crate::auth::review_scope(&u)?;
    let edition = crate::app::public_edition(&state.store).await?.ok_or(AppError::NotFound)?;
    let t = si_domain::territory::territory();
    let rows = state
        .store
        .attendance_reports(edition.year, scope.regions())
        .await?
        .into_iter()
        .map(|(id, title, region, a)| {
            (id, title, region.map(|r| t.region_name(&r)).unwrap_or_else(|| "En ligne".into()), a)
        })
        .collect();
    let scope_label = match scope.regions() {
        None => "toutes les régions".to_string(),
        Some(r) => r.iter().map(|c| t.region_name(c)).collect::<Vec<_>>().join(", "),
    };
    Ok(render(&Reports {
        page: Page::new("Bilans des événements", Some(u), "instruction")
            .crumb("/", "Accueil")
            .crumb("/instruction", "Instruction"),
        edition: edition.year,
        scope: scope_label,
        rows,
    }))
}
