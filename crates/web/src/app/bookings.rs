//! Booking use cases, shared by the site's forms and the API: what a session offers (seats left,
//! waiting list, closed), booking it, changing a group's size, cancelling. The rules of a request are
//! in `si_domain::booking`; the one rule against overbooking is the store's guarded statement.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use si_domain::booking::{BookingInput, BookingRequest, BookingRules, Party};
use si_domain::dates::region_timezone;
use si_domain::{BookingStatus, FieldError, Moderation, PublicStatus};
use si_store::{Booking, EventRecord, NewBooking, SessionSeats};

use super::Deps;
use crate::directory::Lookup;
use crate::error::AppError;

/// The most live bookings one address may hold for one event (a teacher books a few classes, not the
/// whole visit).
pub const LIVE_PER_ADDRESS: usize = 5;

/// What a session offers now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Seats left (`seats_left` of them).
    Open,
    /// Full; bookings go on the waiting list.
    Waitlist,
    /// Full, no waiting list.
    Full,
    /// Bookings closed (the closing time passed, the organiser closed them, the event is cancelled).
    Closed,
}

impl Offer {
    /// The code of the API (`sessions[].booking`).
    pub fn code(self) -> &'static str {
        match self {
            Offer::Open => "open",
            Offer::Waitlist => "waitlist",
            Offer::Full => "full",
            Offer::Closed => "closed",
        }
    }

    /// What the pages say.
    pub fn label(self, seats_left: u32) -> String {
        match self {
            Offer::Open if seats_left == 1 => "1 place restante".into(),
            Offer::Open => format!("{seats_left} places restantes"),
            Offer::Waitlist => "Complet – liste d'attente ouverte".into(),
            Offer::Full => "Complet".into(),
            Offer::Closed => "Réservations closes".into(),
        }
    }
}

/// A session's place in an event that takes bookings on the platform.
pub struct Bookable {
    /// The event.
    pub record: EventRecord,
    /// Its booking rules.
    pub rules: BookingRules,
    /// The session's rank, from 1.
    pub rank: u32,
    /// Local start and end.
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    /// The place's time zone.
    pub tz: Tz,
}

/// The time zone of an event's place.
pub fn timezone_of(r: &EventRecord) -> Tz {
    r.data.place().map(|p| region_timezone(&p.region)).unwrap_or(si_domain::dates::PARIS)
}

/// A session of a labelled event that takes bookings on the platform; 404 for anything else the
/// public cannot see, 409 (French) for an event that does not take bookings here.
pub async fn bookable(deps: &Deps<'_>, event_id: i64, rank: u32) -> Result<Bookable, AppError> {
    let record = deps.store.event(event_id).await?.ok_or(AppError::NotFound)?;
    if record.moderation != Moderation::Labelled {
        return Err(AppError::NotFound);
    }
    let rules = BookingRules::of(&record.data.registration).ok_or_else(|| {
        AppError::Conflict(
            "Cet événement ne prend pas de réservation sur la plateforme : voyez sa page pour vous inscrire.".into(),
        )
    })?;
    let sessions = record.data.parsed_sessions();
    let session = rank.checked_sub(1).and_then(|i| sessions.get(i as usize)).copied().ok_or(AppError::NotFound)?;
    let tz = timezone_of(&record);
    Ok(Bookable { record, rules, rank, start: session.start, end: session.end, tz })
}

/// What a session offers at `now`, and its seats left.
pub fn offer(
    rules: &BookingRules,
    status: PublicStatus,
    start: NaiveDateTime,
    tz: Tz,
    seats: Option<&SessionSeats>,
    now: DateTime<Utc>,
) -> (Offer, u32) {
    let confirmed = seats.map_or(0, |s| s.confirmed);
    let left = rules.capacity.saturating_sub(confirmed);
    let closed =
        status == PublicStatus::Cancelled || now >= rules.closes_at(start, tz) || seats.is_some_and(|s| s.closed);
    let offer = if closed {
        Offer::Closed
    } else if left > 0 {
        Offer::Open
    } else if rules.waitlist {
        Offer::Waitlist
    } else {
        Offer::Full
    };
    (offer, left)
}

/// Fills each session of an event's view with what it offers now (events booked on the platform).
pub fn fill_offers(
    view: &mut crate::views::EventView,
    record: &EventRecord,
    seats: &[SessionSeats],
    now: DateTime<Utc>,
) {
    let Some(rules) = BookingRules::of(&record.data.registration) else { return };
    if record.moderation != Moderation::Labelled {
        return;
    }
    let tz = timezone_of(record);
    let sessions = record.data.parsed_sessions();
    for (i, s) in view.sessions.iter_mut().enumerate() {
        let rank = i as u32 + 1;
        let Some(session) = sessions.get(i) else { continue };
        let mine = seats.iter().find(|x| x.event_id == record.id && x.rank == rank);
        let (o, left) = offer(&rules, record.public_status, session.start, tz, mine, now);
        s.seats_left = Some(left);
        s.booking = Some(o.code().to_string());
        s.booking_label = o.label(left);
    }
}

/// Fills the views of a page of results with what their sessions offer, from the seats the
/// catalogue index keeps (no database round trip).
pub fn fill_page_offers(
    deps: &Deps<'_>,
    views: &mut [crate::views::EventView],
    records: &[std::sync::Arc<EventRecord>],
) {
    let ids: Vec<i64> = records
        .iter()
        .filter(|r| r.data.registration.mode == si_domain::RegistrationMode::Platform)
        .map(|r| r.id)
        .collect();
    let seats = deps.catalogue.seats_of(&ids);
    let now = deps.clock.now();
    for (view, record) in views.iter_mut().zip(records) {
        fill_offers(view, record, &seats, now);
    }
}

/// Drops what the public is shown of an event from memory after its seats changed, and gives the
/// catalogue index's `places` filter the new seats.
async fn seats_changed(deps: &Deps<'_>, event_id: i64) {
    deps.caches.event_pages.take(&event_id.to_string());
    match deps.store.session_seats(&[event_id]).await {
        Ok(rows) => deps.catalogue.set_seats(event_id, rows),
        // The index's next rebuild (a minute at most) reads them.
        Err(e) => tracing::warn!(error = %e, event = event_id, "seats after a booking"),
    }
}

/// Why a booking was refused.
pub enum BookingRefusal {
    /// Fields to correct (422), named.
    Fields(Vec<FieldError>),
    /// Anything else: not found, closed, full (409), store.
    Other(AppError),
}

impl From<AppError> for BookingRefusal {
    fn from(e: AppError) -> Self {
        BookingRefusal::Other(e)
    }
}

impl From<BookingRefusal> for AppError {
    fn from(r: BookingRefusal) -> Self {
        match r {
            BookingRefusal::Fields(f) => {
                let first = &f[0];
                AppError::Invalid {
                    code: "invalid_value",
                    message: first.message.clone(),
                    field: Some(first.field.clone()),
                }
            }
            BookingRefusal::Other(e) => e,
        }
    }
}

/// A booking just made, with the secret of its link (shown once, sent by email, never stored).
pub struct Booked {
    pub booking: Booking,
    pub token: String,
}

fn field(f: &str, m: impl Into<String>) -> BookingRefusal {
    BookingRefusal::Fields(vec![FieldError { field: f.into(), message: m.into() }])
}

/// Books a session for a class or a person: the request checked (fields, the organiser's rules, the
/// school in the Annuaire de l'éducation, the address's allowance), then the store confirms the seats
/// or puts the booking on the waiting list, with its letter, in one transaction.
pub async fn book(deps: &Deps<'_>, event_id: i64, rank: u32, input: &BookingInput) -> Result<Booked, BookingRefusal> {
    let b = bookable(deps, event_id, rank).await?;
    let now = deps.clock.now();
    let seats = deps.store.session_seats(&[event_id]).await.map_err(AppError::from)?;
    let (offer, _) = offer(&b.rules, b.record.public_status, b.start, b.tz, seats.iter().find(|s| s.rank == rank), now);
    if offer == Offer::Closed {
        return Err(AppError::Conflict("Les réservations de cette séance sont closes.".into()).into());
    }
    let request = input.parse().map_err(BookingRefusal::Fields)?;
    request.fits(&b.rules).map_err(|e| BookingRefusal::Fields(vec![e]))?;
    if let Party::Class { uai, .. } = &request.party {
        match deps.directories.uai(uai.as_str()).await {
            Lookup::Unknown => {
                return Err(field("uai", "Ce numéro UAI ne figure pas dans l'annuaire de l'éducation : vérifiez-le."));
            }
            Lookup::Closed { .. } => {
                return Err(field("uai", "Cet établissement est fermé selon l'annuaire de l'éducation."));
            }
            // Open, or the directory did not answer: the number's check letter was verified.
            Lookup::Open { .. } | Lookup::Unavailable => {}
        }
    }
    // One address holds a few bookings per event, and never more seats per session than one group.
    let live = deps.store.live_bookings_of(event_id, &request.email).await.map_err(AppError::from)?;
    if live.len() >= LIVE_PER_ADDRESS {
        return Err(AppError::Conflict(format!(
            "Cette adresse a déjà {LIVE_PER_ADDRESS} réservations pour cet événement : modifiez-en une avec son lien plutôt que d'en ajouter."
        ))
        .into());
    }
    let held: u32 = live.iter().filter(|x| x.rank == rank).map(|x| x.seats).sum();
    if held + request.seats() > b.rules.max_group {
        return Err(field(
            "pupils",
            format!(
                "Cette adresse a déjà réservé {held} place{} pour cette séance ; un groupe ne dépasse pas {} personnes.",
                if held > 1 { "s" } else { "" },
                b.rules.max_group
            ),
        ));
    }
    let token = crate::auth::random_secret();
    let hash = crate::auth::hash_secret(&token);
    let compose = crate::notify::booking_letters(deps.letters, &b.record, Some(&token)).await;
    let nb = NewBooking { event_id, rank, token_hash: &hash, request: &request, rules: b.rules, at: now };
    let booking = deps.store.book(&nb, &compose).await.map_err(AppError::from)?;
    seats_changed(deps, event_id).await;
    deps.letters.mail.wake();
    Ok(Booked { booking, token })
}

/// The booking of a secret link, with its session; 404 when the link opens nothing.
pub async fn by_token(deps: &Deps<'_>, token: &str) -> Result<(Booking, Bookable), AppError> {
    let booking = deps.store.booking_by_token(&crate::auth::hash_secret(token)).await?.ok_or(AppError::NotFound)?;
    let b = bookable_any(deps, &booking).await?;
    Ok((booking, b))
}

/// The session of an existing booking, whatever became of the event since (its contact may still
/// read, cancel or erase it).
async fn bookable_any(deps: &Deps<'_>, booking: &Booking) -> Result<Bookable, AppError> {
    let record = deps.store.event(booking.event_id).await?.ok_or(AppError::NotFound)?;
    let rules = BookingRules::of(&record.data.registration).unwrap_or(BookingRules {
        capacity: 0,
        max_group: 0,
        groups: false,
        individuals: false,
        waitlist: false,
        closes_before: chrono::Duration::zero(),
    });
    let sessions = record.data.parsed_sessions();
    let session = booking.rank.checked_sub(1).and_then(|i| sessions.get(i as usize)).copied();
    let tz = timezone_of(&record);
    let (start, end) =
        session.map_or_else(|| (record.created_at.naive_utc(), record.created_at.naive_utc()), |s| (s.start, s.end));
    Ok(Bookable { record, rules, rank: booking.rank, start, end, tz })
}

/// Changes the size of a class's group through its secret link (a person's booking is one seat).
pub async fn resize(deps: &Deps<'_>, token: &str, pupils: &str, adults: &str) -> Result<Booking, BookingRefusal> {
    let (booking, b) = by_token(deps, token).await?;
    if booking.kind != "classe" {
        return Err(field(
            "pupils",
            "Une réservation individuelle compte une place : annulez-la si vous ne venez pas.",
        ));
    }
    if booking.status == BookingStatus::Cancelled {
        return Err(AppError::Conflict("Cette réservation est annulée.".into()).into());
    }
    let now = deps.clock.now();
    if now >= b.rules.closes_at(b.start, b.tz) {
        return Err(AppError::Conflict(
            "Les réservations de cette séance sont closes : contactez l'organisateur.".into(),
        )
        .into());
    }
    // The same checks as a new booking, on the new numbers.
    let input = BookingInput {
        kind: "classe".into(),
        uai: booking.uai.clone().unwrap_or_default(),
        school: booking.school.clone().unwrap_or_default(),
        level: booking.level.map(|l| l.code().to_string()).unwrap_or_default(),
        pupils: pupils.into(),
        adults: adults.into(),
        phone: booking.phone.clone(),
        name: booking.name.clone(),
        email: booking.email.clone(),
        acknowledged: true,
    };
    let request: BookingRequest = input.parse().map_err(BookingRefusal::Fields)?;
    request.fits(&b.rules).map_err(|e| BookingRefusal::Fields(vec![e]))?;
    let Party::Class { pupils, adults, .. } = request.party else { unreachable!("parsed as a class") };
    let compose = crate::notify::booking_letters(deps.letters, &b.record, None).await;
    let r = deps
        .store
        .resize_booking(&crate::auth::hash_secret(token), pupils, adults, pupils + adults, now, &compose)
        .await
        .map_err(AppError::from)?;
    seats_changed(deps, r.event_id).await;
    deps.letters.mail.wake();
    Ok(r)
}

/// Cancels a booking through its secret link (`erase`: its personal data too, at once).
pub async fn cancel(deps: &Deps<'_>, token: &str, erase: bool) -> Result<Booking, AppError> {
    let (_, b) = by_token(deps, token).await?;
    let compose = crate::notify::booking_letters(deps.letters, &b.record, None).await;
    let r = deps.store.cancel_booking(&crate::auth::hash_secret(token), erase, deps.clock.now(), &compose).await?;
    seats_changed(deps, r.event_id).await;
    deps.letters.mail.wake();
    Ok(r)
}

/// The event will not take place (cancelled by its organiser, or its label withdrawn): every live
/// booking is cancelled, its seats freed, and its contact told, in one transaction.
pub async fn event_gone(deps: &Deps<'_>, record: &EventRecord) -> Result<usize, AppError> {
    if BookingRules::of(&record.data.registration).is_none() {
        return Ok(0);
    }
    let compose = crate::notify::booking_letters(deps.letters, record, None).await;
    let cancelled = deps.store.cancel_event_bookings(record.id, deps.clock.now(), &compose).await?;
    seats_changed(deps, record.id).await;
    deps.letters.mail.wake();
    Ok(cancelled.len())
}

/// The background work of bookings, run by each process's worker; each piece is claimed once across
/// processes (`Bookings::claim_once`), so several nodes never send a letter twice.
///
/// - Two days before a session: a reminder to each booked contact, and to the organisation with the
///   list of who is expected.
/// - The day after an event's last session: the organisation is asked for its attendance report.
/// - Booking contacts are erased `retention_months` after their edition's week (counts kept).
pub async fn due_work(deps: &Deps<'_>, retention_months: u32) -> si_store::StoreResult<DueWork> {
    let now = deps.clock.now();
    let today = now.with_timezone(&si_domain::dates::PARIS).date_naive();
    let mut done = DueWork::default();
    // Events with a session in the next two days (a day's margin for the zones of overseas France).
    let soon = si_store::EventFilter {
        from: Some(today - chrono::Duration::days(1)),
        to: Some(today + chrono::Duration::days(3)),
        ..Default::default()
    };
    for record in deps.store.search_all(&soon, 100_000).await? {
        let Some(_) = BookingRules::of(&record.data.registration) else { continue };
        let tz = timezone_of(&record);
        for (i, s) in record.data.parsed_sessions().iter().enumerate() {
            let rank = i as u32 + 1;
            let Some(start) = tz.from_local_datetime(&s.start).earliest().map(|d| d.with_timezone(&Utc)) else {
                continue;
            };
            if start <= now || start > now + chrono::Duration::hours(48) {
                continue;
            }
            // Composed when not yet claimed, then queued with the claim (see `claim_once`).
            let job = format!("rappel:{}:{rank}", record.id);
            if deps.store.claimed(&job).await? {
                continue;
            }
            let booked: Vec<Booking> = deps
                .store
                .event_bookings(record.id)
                .await?
                .into_iter()
                .filter(|b| b.rank == rank && b.status == BookingStatus::Confirmed && !b.email.is_empty())
                .collect();
            let emails = crate::notify::session_reminders(deps.letters, &record, (s.start, s.end), &booked).await?;
            if deps.store.claim_once(&job, now, &emails).await? {
                deps.letters.mail.wake();
                done.reminders += booked.len();
            }
        }
    }
    // Events whose last session ended yesterday.
    let yesterday = today - chrono::Duration::days(1);
    let ended = si_store::EventFilter { from: Some(yesterday), to: Some(yesterday), ..Default::default() };
    for record in deps.store.search_all(&ended, 100_000).await? {
        let last = record.data.parsed_sessions().iter().map(|s| s.end.date()).max();
        if last != Some(yesterday) || record.public_status == PublicStatus::Cancelled {
            continue;
        }
        let job = format!("bilan:{}", record.id);
        if deps.store.claimed(&job).await? {
            continue;
        }
        let emails = crate::notify::report_request(deps.letters, &record).await?;
        if deps.store.claim_once(&job, now, &emails).await? {
            deps.letters.mail.wake();
            done.report_requests += 1;
        }
    }
    // Retention.
    for edition in deps.store.editions().await? {
        let until = edition.week_end.checked_add_months(chrono::Months::new(retention_months));
        if until.is_some_and(|u| today > u) {
            done.erased += deps.store.erase_booking_contacts(edition.year, now).await?;
        }
    }
    if done.reminders + done.report_requests > 0 {
        deps.letters.mail.wake();
    }
    Ok(done)
}

/// What one pass of [`due_work`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DueWork {
    /// Reminders to booked contacts.
    pub reminders: usize,
    /// Attendance reports asked for.
    pub report_requests: usize,
    /// Booking contacts erased.
    pub erased: u64,
}
