//! Bookings: see the trait in `lib.rs` for what each method promises. The one rule that guards
//! against overbooking is [`take_seats`]: a single `UPDATE … WHERE confirmed + n <= capacity`, atomic
//! on both backends (PostgreSQL re-checks the condition on the row it waited for; SQLite's writes
//! are serialised), and the table's CHECK constraint refuses anything else.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use si_domain::booking::Party;
use si_domain::{BookingStatus, ClassLevel, Moderation, PublicStatus};
use sqlx::Row;

use super::rows::*;
use super::{Backend, DIALECT, DbRow};
use crate::model::*;
use crate::{StoreError, StoreResult};

const BOOKING_COLUMNS: &str = "id, event_id, rank, status, seats, kind, name, email, phone, uai, school, level, \
                               pupils, adults, created_at";

fn booking_from_row(r: &DbRow) -> StoreResult<Booking> {
    let status: String = r.try_get("status")?;
    let level: Option<String> = r.try_get("level")?;
    Ok(Booking {
        id: r.try_get("id")?,
        event_id: r.try_get("event_id")?,
        rank: u32::try_from(r.try_get::<i64, _>("rank")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        status: BookingStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("booking status {status}")))?,
        seats: count(r, "seats")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        uai: r.try_get("uai")?,
        school: r.try_get("school")?,
        level: level.as_deref().and_then(ClassLevel::parse),
        pupils: count(r, "pupils")?,
        adults: count(r, "adults")?,
        created_at: r.try_get("created_at")?,
    })
}

fn count(r: &DbRow, column: &str) -> StoreResult<u32> {
    u32::try_from(r.try_get::<i64, _>(column)?).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// The sums of a group of answers (means as floating point, the same on both backends).
const FEEDBACK_SUMS: &str = "CAST(COUNT(*) AS BIGINT) AS answers, CAST(COALESCE(SUM(f.before_score), 0) AS BIGINT) AS before_sum, \
     CAST(COALESCE(SUM(f.after_score), 0) AS BIGINT) AS after_sum, \
     CAST(COALESCE(SUM(CASE WHEN f.career = 'oui' THEN 1 ELSE 0 END), 0) AS BIGINT) AS yes, \
     CAST(COALESCE(SUM(CASE WHEN f.career = 'peut_etre' THEN 1 ELSE 0 END), 0) AS BIGINT) AS maybe, \
     CAST(COALESCE(SUM(CASE WHEN f.career = 'non' THEN 1 ELSE 0 END), 0) AS BIGINT) AS no";

fn feedback_from_row(r: &DbRow) -> StoreResult<FeedbackSummary> {
    let n = |c: &str| -> StoreResult<u64> { Ok(r.try_get::<i64, _>(c)?.max(0) as u64) };
    let answers = n("answers")?;
    let mean = |sum: u64| if answers == 0 { 0.0 } else { sum as f64 / answers as f64 };
    Ok(FeedbackSummary {
        answers,
        before: mean(n("before_sum")?),
        after: mean(n("after_sum")?),
        yes: n("yes")?,
        maybe: n("maybe")?,
        no: n("no")?,
    })
}

fn attendance_from_row(r: &DbRow) -> StoreResult<si_domain::booking::Attendance> {
    let by: String = r.try_get("by_audience")?;
    let by: Vec<(String, u32)> = serde_json::from_str(&by).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(si_domain::booking::Attendance {
        participants: count(r, "participants")?,
        girls: count(r, "girls")?,
        classes: count(r, "classes")?,
        schools: count(r, "schools")?,
        interviews: count(r, "interviews")?,
        by_audience: by.into_iter().filter_map(|(c, n)| si_domain::Audience::parse(&c).map(|a| (a, n))).collect(),
    })
}

fn seats_from_row(r: &DbRow) -> StoreResult<SessionSeats> {
    Ok(SessionSeats {
        event_id: r.try_get("event_id")?,
        rank: count(r, "rank")?,
        capacity: count(r, "capacity")?,
        confirmed: count(r, "confirmed")?,
        waiting: count(r, "waiting")?,
        closed: r.try_get("closed")?,
    })
}

/// Creates the seats row of a session if it has none, and applies the capacity the organiser set now
/// (never below the seats already confirmed: those people keep their places).
async fn ensure_seats(tx: &mut Tx, event_id: i64, rank: u32, capacity: u32) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO session_seats (event_id, rank, capacity, confirmed) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (event_id, rank) DO UPDATE SET capacity = CASE WHEN excluded.capacity >= session_seats.confirmed \
         THEN excluded.capacity ELSE session_seats.confirmed END",
    )
    .bind(event_id)
    .bind(i64::from(rank))
    .bind(i64::from(capacity))
    .execute(&mut **tx)
    .await?;
    public_changed(tx, PublicChange::Seats).await
}

/// Takes `seats` seats of a session if they are free and bookings are open: the whole rule against
/// overbooking, in one statement. True when taken.
async fn take_seats(tx: &mut Tx, event_id: i64, rank: u32, seats: u32) -> StoreResult<bool> {
    let n = sqlx::query(
        "UPDATE session_seats SET confirmed = confirmed + $3 \
         WHERE event_id = $1 AND rank = $2 AND NOT closed AND confirmed + $3 <= capacity",
    )
    .bind(event_id)
    .bind(i64::from(rank))
    .bind(i64::from(seats))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 1 {
        public_changed(tx, PublicChange::Seats).await?;
    }
    Ok(n == 1)
}

/// Gives seats back to a session.
async fn free_seats(tx: &mut Tx, event_id: i64, rank: u32, seats: u32) -> StoreResult<()> {
    sqlx::query("UPDATE session_seats SET confirmed = confirmed - $3 WHERE event_id = $1 AND rank = $2")
        .bind(event_id)
        .bind(i64::from(rank))
        .bind(i64::from(seats))
        .execute(&mut **tx)
        .await?;
    public_changed(tx, PublicChange::Seats).await
}

async fn set_status(tx: &mut Tx, id: i64, status: BookingStatus, at: DateTime<Utc>) -> StoreResult<()> {
    sqlx::query("UPDATE bookings SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.code())
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Promotes the waiting bookings of a session, in arrival order, each whose group fits the seats
/// freed (a large group does not hold back a smaller one behind it); their letters are queued.
async fn promote(
    tx: &mut Tx,
    event_id: i64,
    rank: u32,
    at: DateTime<Utc>,
    compose: Compose<'_>,
) -> StoreResult<Vec<Booking>> {
    let sql = format!(
        "SELECT {BOOKING_COLUMNS} FROM bookings WHERE event_id = $1 AND rank = $2 AND status = 'waitlisted' ORDER BY id"
    );
    let rows = sqlx::query(safe(sql)).bind(event_id).bind(i64::from(rank)).fetch_all(&mut **tx).await?;
    let mut promoted = Vec::new();
    for row in &rows {
        let mut b = booking_from_row(row)?;
        if take_seats(tx, event_id, rank, b.seats).await? {
            set_status(tx, b.id, BookingStatus::Confirmed, at).await?;
            b.status = BookingStatus::Confirmed;
            insert_emails(tx, &compose(&b, BookingNews::Promoted), at).await?;
            promoted.push(b);
        }
    }
    Ok(promoted)
}

/// The live booking of a secret link, locked for a change.
async fn lock_booking(tx: &mut Tx, token_hash: &str) -> StoreResult<Booking> {
    let sql = format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE token_hash = $1{}", DIALECT.for_update());
    let row = sqlx::query(safe(sql)).bind(token_hash).fetch_optional(&mut **tx).await?.ok_or(StoreError::NotFound)?;
    let b = booking_from_row(&row)?;
    if b.status == BookingStatus::Cancelled {
        return Err(StoreError::Conflict(
            "Cette réservation est annulée : réservez à nouveau si des places restent.".into(),
        ));
    }
    Ok(b)
}

/// The capacity now set for a session, read under the booking's lock on the event.
async fn current_capacity(tx: &mut Tx, event_id: i64) -> StoreResult<Option<u32>> {
    let sql = format!("SELECT data FROM events WHERE id = $1{}", DIALECT.for_share());
    let data: String = sqlx::query_scalar(safe(sql)).bind(event_id).fetch_one(&mut **tx).await?;
    let data: si_domain::EventData = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(si_domain::booking::BookingRules::of(&data.registration).map(|r| r.capacity))
}

#[async_trait]
impl crate::Bookings for Backend {
    async fn book(&self, b: &NewBooking<'_>, compose: Compose<'_>) -> StoreResult<Booking> {
        let mut tx = self.write_tx().await?;
        // The event is read in the booking's own transaction (shared lock on PostgreSQL): a
        // cancellation or a withdrawn label committed meanwhile is seen, and one in flight waits.
        let sql = format!("SELECT moderation, public_status FROM events WHERE id = $1{}", DIALECT.for_share());
        let row =
            sqlx::query(safe(sql)).bind(b.event_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        let state = stored_state(&row)?;
        let status: String = row.try_get("public_status")?;
        if state != Moderation::Labelled || status == PublicStatus::Cancelled.code() {
            return Err(StoreError::Conflict("Cet événement n'accepte pas de réservation.".into()));
        }
        ensure_seats(&mut tx, b.event_id, b.rank, b.rules.capacity).await?;
        let seats = b.request.seats();
        // One address never holds more seats of a session than one group may bring. Checked here,
        // after `ensure_seats` locked the session's row (PostgreSQL; SQLite's write is serialised), so
        // that two bookings of the same address racing each other cannot both pass.
        let held: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(seats), 0) AS BIGINT) FROM bookings WHERE event_id = $1 AND rank = $2 \
             AND status <> 'cancelled' AND LOWER(email) = LOWER($3)",
        )
        .bind(b.event_id)
        .bind(i64::from(b.rank))
        .bind(&b.request.email)
        .fetch_one(&mut *tx)
        .await?;
        if held.max(0) as u64 + u64::from(seats) > u64::from(b.rules.max_group) {
            return Err(StoreError::Conflict(format!(
                "Cette adresse a déjà réservé {held} place(s) pour cette séance ; un groupe ne dépasse pas {} personnes.",
                b.rules.max_group
            )));
        }
        let status = if take_seats(&mut tx, b.event_id, b.rank, seats).await? {
            BookingStatus::Confirmed
        } else {
            let closed: bool = sqlx::query_scalar("SELECT closed FROM session_seats WHERE event_id = $1 AND rank = $2")
                .bind(b.event_id)
                .bind(i64::from(b.rank))
                .fetch_one(&mut *tx)
                .await?;
            if closed {
                return Err(StoreError::Conflict("Les réservations de cette séance sont closes.".into()));
            }
            if !b.rules.waitlist {
                return Err(StoreError::Conflict(format!(
                    "Cette séance est complète : il ne reste pas {seats} place{} et l'organisateur n'a pas ouvert de liste d'attente.",
                    if seats > 1 { "s" } else { "" }
                )));
            }
            BookingStatus::Waitlisted
        };
        let (kind, phone, uai, school, level, pupils, adults) = match &b.request.party {
            Party::Class { uai, school, level, pupils, adults, phone } => (
                "classe",
                phone.as_str(),
                Some(uai.as_str().to_string()),
                Some(school.as_str()),
                Some(level.code()),
                *pupils,
                *adults,
            ),
            Party::Person => ("personne", "", None, None, None, 0, 0),
        };
        let sql = format!(
            "INSERT INTO bookings (event_id, rank, token_hash, status, seats, kind, name, email, phone, uai, school, level, \
             pupils, adults, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
             RETURNING {BOOKING_COLUMNS}"
        );
        let row = sqlx::query(safe(sql))
            .bind(b.event_id)
            .bind(i64::from(b.rank))
            .bind(b.token_hash)
            .bind(status.code())
            .bind(i64::from(seats))
            .bind(kind)
            .bind(&b.request.name)
            .bind(&b.request.email)
            .bind(phone)
            .bind(uai)
            .bind(school)
            .bind(level)
            .bind(i64::from(pupils))
            .bind(i64::from(adults))
            .bind(b.at)
            .fetch_one(&mut *tx)
            .await?;
        let booking = booking_from_row(&row)?;
        let news = if status == BookingStatus::Confirmed { BookingNews::Confirmed } else { BookingNews::Waitlisted };
        insert_emails(&mut tx, &compose(&booking, news), b.at).await?;
        tx.commit().await?;
        Ok(booking)
    }

    async fn booking_by_token(&self, token_hash: &str) -> StoreResult<Option<Booking>> {
        let sql = format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE token_hash = $1");
        let row = sqlx::query(safe(sql)).bind(token_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(booking_from_row).transpose()
    }

    async fn resize_booking(
        &self,
        token_hash: &str,
        pupils: u32,
        adults: u32,
        seats: u32,
        at: DateTime<Utc>,
        compose: Compose<'_>,
    ) -> StoreResult<Booking> {
        let mut tx = self.write_tx().await?;
        let mut b = lock_booking(&mut tx, token_hash).await?;
        if b.status == BookingStatus::Confirmed {
            if seats > b.seats {
                // The extra seats, by the same guarded statement as a booking (the capacity may have
                // changed since: applied first).
                if let Some(capacity) = current_capacity(&mut tx, b.event_id).await? {
                    ensure_seats(&mut tx, b.event_id, b.rank, capacity).await?;
                }
                if !take_seats(&mut tx, b.event_id, b.rank, seats - b.seats).await? {
                    return Err(StoreError::Conflict(format!(
                        "Il ne reste pas {} place{} de plus pour cette séance : votre réservation de {} places est inchangée.",
                        seats - b.seats,
                        if seats - b.seats > 1 { "s" } else { "" },
                        b.seats
                    )));
                }
            } else if seats < b.seats {
                free_seats(&mut tx, b.event_id, b.rank, b.seats - seats).await?;
            }
        }
        sqlx::query("UPDATE bookings SET seats = $1, pupils = $2, adults = $3, updated_at = $4 WHERE id = $5")
            .bind(i64::from(seats))
            .bind(i64::from(pupils))
            .bind(i64::from(adults))
            .bind(at)
            .bind(b.id)
            .execute(&mut *tx)
            .await?;
        let shrank = seats < b.seats;
        (b.seats, b.pupils, b.adults) = (seats, pupils, adults);
        insert_emails(&mut tx, &compose(&b, BookingNews::Resized), at).await?;
        if shrank || b.status == BookingStatus::Waitlisted {
            // Seats freed go to the waiting list; a smaller waiting group may now fit itself.
            let promoted = promote(&mut tx, b.event_id, b.rank, at, compose).await?;
            if let Some(p) = promoted.iter().find(|p| p.id == b.id) {
                b.status = p.status;
            }
        }
        tx.commit().await?;
        Ok(b)
    }

    async fn cancel_booking(
        &self,
        token_hash: &str,
        erase: bool,
        at: DateTime<Utc>,
        compose: Compose<'_>,
    ) -> StoreResult<Booking> {
        let mut tx = self.write_tx().await?;
        let mut b = lock_booking(&mut tx, token_hash).await?;
        let was = b.status;
        set_status(&mut tx, b.id, BookingStatus::Cancelled, at).await?;
        b.status = BookingStatus::Cancelled;
        // The letter goes before the erasure: it is the contact's receipt.
        insert_emails(&mut tx, &compose(&b, BookingNews::Cancelled), at).await?;
        if erase {
            sqlx::query(
                "UPDATE bookings SET name = '', email = '', phone = '', uai = NULL, school = NULL, erased_at = $1 WHERE id = $2",
            )
            .bind(at)
            .bind(b.id)
            .execute(&mut *tx)
            .await?;
            (b.name, b.email, b.phone, b.uai, b.school) = (String::new(), String::new(), String::new(), None, None);
        }
        if was == BookingStatus::Confirmed {
            free_seats(&mut tx, b.event_id, b.rank, b.seats).await?;
            promote(&mut tx, b.event_id, b.rank, at, compose).await?;
        }
        tx.commit().await?;
        Ok(b)
    }

    async fn cancel_event_bookings(
        &self,
        event_id: i64,
        at: DateTime<Utc>,
        compose: Compose<'_>,
    ) -> StoreResult<Vec<Booking>> {
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE event_id = $1 AND status <> 'cancelled' ORDER BY id{}",
            DIALECT.for_update()
        );
        let rows = sqlx::query(safe(sql)).bind(event_id).fetch_all(&mut *tx).await?;
        let mut cancelled = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut b = booking_from_row(row)?;
            set_status(&mut tx, b.id, BookingStatus::Cancelled, at).await?;
            b.status = BookingStatus::Cancelled;
            insert_emails(&mut tx, &compose(&b, BookingNews::EventCancelled), at).await?;
            cancelled.push(b);
        }
        sqlx::query("UPDATE session_seats SET confirmed = 0 WHERE event_id = $1")
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        public_changed(&mut tx, PublicChange::Seats).await?;
        tx.commit().await?;
        Ok(cancelled)
    }

    async fn session_seats(&self, event_ids: &[i64]) -> StoreResult<Vec<SessionSeats>> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ps: Vec<String> = (1..=event_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT s.event_id, s.rank, s.capacity, s.confirmed, s.closed, \
             (SELECT CAST(COALESCE(SUM(b.seats), 0) AS BIGINT) FROM bookings b WHERE b.event_id = s.event_id AND b.rank = s.rank \
              AND b.status = 'waitlisted') AS waiting \
             FROM session_seats s WHERE s.event_id IN ({}) ORDER BY s.event_id, s.rank",
            ps.join(", ")
        );
        let mut q = sqlx::query(safe(sql));
        for id in event_ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(seats_from_row).collect()
    }

    async fn all_session_seats(&self) -> StoreResult<Vec<SessionSeats>> {
        let rows = sqlx::query(
            "SELECT s.event_id, s.rank, s.capacity, s.confirmed, s.closed, CAST(0 AS BIGINT) AS waiting \
             FROM session_seats s JOIN events e ON e.id = s.event_id WHERE e.moderation = 'labelled' \
             ORDER BY s.event_id, s.rank",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(seats_from_row).collect()
    }

    async fn live_bookings_of(&self, event_id: i64, email: &str) -> StoreResult<Vec<Booking>> {
        // Addresses are stored as typed; the index on (email, event_id) finds the exact spelling,
        // and a person who changes the case of theirs is matched by the lower-case comparison.
        let sql = format!(
            "SELECT {BOOKING_COLUMNS} FROM bookings WHERE event_id = $1 AND status <> 'cancelled' \
             AND (email = $2 OR LOWER(email) = LOWER($2)) ORDER BY id"
        );
        let rows = sqlx::query(safe(sql)).bind(event_id).bind(email).fetch_all(&self.pool).await?;
        rows.iter().map(booking_from_row).collect()
    }

    async fn event_bookings(&self, event_id: i64) -> StoreResult<Vec<Booking>> {
        let sql = format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE event_id = $1 ORDER BY rank, id");
        let rows = sqlx::query(safe(sql)).bind(event_id).fetch_all(&self.pool).await?;
        rows.iter().map(booking_from_row).collect()
    }

    async fn close_session(&self, event_id: i64, rank: u32, capacity: u32, closed: bool) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        ensure_seats(&mut tx, event_id, rank, capacity).await?;
        sqlx::query("UPDATE session_seats SET closed = $1 WHERE event_id = $2 AND rank = $3")
            .bind(closed)
            .bind(event_id)
            .bind(i64::from(rank))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_attendance(
        &self,
        event_id: i64,
        actor: i64,
        r: &si_domain::booking::Attendance,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let by_audience: Vec<(String, u32)> = r.by_audience.iter().map(|(a, n)| (a.code().to_string(), *n)).collect();
        let json = serde_json::to_string(&by_audience).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO attendance_reports (event_id, reported_by, reported_at, participants, girls, classes, schools, \
             interviews, by_audience) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO UPDATE SET \
             reported_by = excluded.reported_by, reported_at = excluded.reported_at, participants = excluded.participants, \
             girls = excluded.girls, classes = excluded.classes, schools = excluded.schools, interviews = excluded.interviews, \
             by_audience = excluded.by_audience",
        )
        .bind(event_id)
        .bind(actor)
        .bind(at)
        .bind(i64::from(r.participants))
        .bind(i64::from(r.girls))
        .bind(i64::from(r.classes))
        .bind(i64::from(r.schools))
        .bind(i64::from(r.interviews))
        .bind(json)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn attendance(&self, event_id: i64) -> StoreResult<Option<si_domain::booking::Attendance>> {
        let row = sqlx::query("SELECT * FROM attendance_reports WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(attendance_from_row).transpose()
    }

    async fn attendance_by_region(&self, edition: i32) -> StoreResult<Vec<RegionAttendance>> {
        let rows = sqlx::query(
            "SELECT e.region, COUNT(*) AS events, COUNT(a.event_id) AS reported, \
             CAST(COALESCE(SUM((SELECT SUM(s.confirmed) FROM session_seats s WHERE s.event_id = e.id)), 0) AS BIGINT) AS booked, \
             CAST(COALESCE(SUM(a.participants), 0) AS BIGINT) AS participants, CAST(COALESCE(SUM(a.girls), 0) AS BIGINT) AS girls, \
             CAST(COALESCE(SUM(a.classes), 0) AS BIGINT) AS classes, CAST(COALESCE(SUM(a.schools), 0) AS BIGINT) AS schools, \
             CAST(COALESCE(SUM(a.interviews), 0) AS BIGINT) AS interviews \
             FROM events e LEFT JOIN attendance_reports a ON a.event_id = e.id \
             WHERE e.moderation = 'labelled' AND e.edition = $1 AND (e.seats_capacity IS NOT NULL OR a.event_id IS NOT NULL) \
             GROUP BY e.region ORDER BY e.region",
        )
        .bind(i64::from(edition))
        .fetch_all(&self.pool)
        .await?;
        let n = |r: &DbRow, c: &str| -> StoreResult<u64> { Ok(r.try_get::<i64, _>(c)?.max(0) as u64) };
        rows.iter()
            .map(|r| {
                Ok(RegionAttendance {
                    region: r.try_get("region")?,
                    events: n(r, "events")?,
                    reported: n(r, "reported")?,
                    booked: n(r, "booked")?,
                    participants: n(r, "participants")?,
                    girls: n(r, "girls")?,
                    classes: n(r, "classes")?,
                    schools: n(r, "schools")?,
                    interviews: n(r, "interviews")?,
                })
            })
            .collect()
    }

    async fn attendance_reports(
        &self,
        edition: i32,
        regions: Option<&[String]>,
    ) -> StoreResult<Vec<(i64, String, Option<String>, si_domain::booking::Attendance)>> {
        if regions.is_some_and(|r| r.is_empty()) {
            return Ok(Vec::new());
        }
        let mut sql = String::from(
            "SELECT a.*, e.title, e.region FROM attendance_reports a JOIN events e ON e.id = a.event_id WHERE e.edition = $1",
        );
        if let Some(r) = regions {
            let ps: Vec<String> = (0..r.len()).map(|i| format!("${}", i + 2)).collect();
            sql.push_str(&format!(" AND e.region IN ({})", ps.join(", ")));
        }
        sql.push_str(" ORDER BY a.reported_at DESC, e.id");
        let mut q = sqlx::query(safe(sql)).bind(i64::from(edition));
        for r in regions.unwrap_or_default() {
            q = q.bind(r);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("event_id")?, r.try_get("title")?, r.try_get("region")?, attendance_from_row(r)?)))
            .collect()
    }

    async fn add_feedback(
        &self,
        event_id: i64,
        f: &si_domain::booking::Feedback,
        on: chrono::NaiveDate,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO feedback (event_id, before_score, after_score, career, answered_on) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(event_id)
        .bind(i64::from(f.before))
        .bind(i64::from(f.after))
        .bind(f.career.code())
        .bind(on)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn feedback_of(&self, event_id: i64) -> StoreResult<FeedbackSummary> {
        let sql = format!("SELECT {FEEDBACK_SUMS} FROM feedback f WHERE f.event_id = $1");
        let row = sqlx::query(safe(sql)).bind(event_id).fetch_one(&self.pool).await?;
        feedback_from_row(&row)
    }

    async fn feedback_by_region(&self, edition: i32) -> StoreResult<Vec<(Option<String>, FeedbackSummary)>> {
        let sql = format!(
            "SELECT e.region, {FEEDBACK_SUMS} FROM feedback f JOIN events e ON e.id = f.event_id WHERE e.edition = $1 \
             GROUP BY e.region ORDER BY e.region"
        );
        let rows = sqlx::query(safe(sql)).bind(i64::from(edition)).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("region")?, feedback_from_row(r)?))).collect()
    }

    async fn claimed(&self, job: &str) -> StoreResult<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM once_jobs WHERE job = $1").bind(job).fetch_one(&self.pool).await?;
        Ok(n > 0)
    }

    async fn claim_once(&self, job: &str, at: DateTime<Utc>, letters: &[NewEmail]) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("INSERT INTO once_jobs (job, done_at) VALUES ($1, $2) ON CONFLICT (job) DO NOTHING")
            .bind(job)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 1 {
            // Due at once: the outbox reads the real clock, whatever instant the work is claimed for.
            insert_emails(&mut tx, letters, Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn erase_booking_contacts(&self, edition: i32, at: DateTime<Utc>) -> StoreResult<u64> {
        let n = sqlx::query(
            "UPDATE bookings SET name = '', email = '', phone = '', uai = NULL, school = NULL, erased_at = $1 \
             WHERE erased_at IS NULL AND event_id IN (SELECT id FROM events WHERE edition = $2)",
        )
        .bind(at)
        .bind(i64::from(edition))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n)
    }
}
