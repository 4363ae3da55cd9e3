//! Reading rows into the model, and the writes every aggregate shares (derived columns, audit).

use chrono::{DateTime, Utc};
use si_domain::{AuditAction, Edition, EventData, Moderation, OrganisationKind, PublicStatus, Role};
use sqlx::Row;

use super::{DIALECT, Db, DbRow};
use crate::model::*;
use crate::sql::{IndexColumns, index_columns};
use crate::{StoreError, StoreResult};

/// Every dynamic SQL string here is assembled from constants and `$n` placeholders; values are
/// always bound, never formatted in.
pub(super) fn safe(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

pub(super) fn edition_from_row(r: &DbRow) -> StoreResult<Edition> {
    Ok(Edition {
        year: r.try_get::<i64, _>("year")? as i32,
        number: r.try_get::<i64, _>("number")? as i32,
        theme: r.try_get("theme")?,
        demo: r.try_get("demo")?,
        week_start: r.try_get("week_start")?,
        week_end: r.try_get("week_end")?,
        eligible_from: r.try_get("eligible_from")?,
        eligible_to: r.try_get("eligible_to")?,
        opens_at: r.try_get("opens_at")?,
        deadline: r.try_get("deadline")?,
        regions: Vec::new(),
    })
}

pub(super) fn region_dates_from_row(r: &DbRow) -> StoreResult<si_domain::RegionDates> {
    Ok(si_domain::RegionDates {
        region: r.try_get("region")?,
        week_start: r.try_get("week_start")?,
        week_end: r.try_get("week_end")?,
        eligible_from: r.try_get("eligible_from")?,
        eligible_to: r.try_get("eligible_to")?,
    })
}

pub(super) fn queue_item_from_row(r: &DbRow) -> StoreResult<QueueItem> {
    let change: Option<DateTime<Utc>> = r.try_get("change_submitted_at")?;
    let submitted: Option<DateTime<Utc>> = r.try_get("submitted_at")?;
    Ok(QueueItem {
        id: r.try_get("id")?,
        edition: r.try_get::<i64, _>("edition")? as i32,
        organisation_id: r.try_get("organisation_id")?,
        organisation_name: r.try_get("org_name")?,
        title: r.try_get("title")?,
        region: r.try_get("review_region")?,
        department: r.try_get("department")?,
        event_type: r.try_get("event_type")?,
        audiences: Vec::new(),
        submitted_at: change.or(submitted).unwrap_or_else(Utc::now),
        change: change.is_some(),
        weak_signal: r.try_get("weak_signal")?,
        first_day: r.try_get("first_day")?,
        last_day: r.try_get("last_day")?,
        version: r.try_get("version")?,
    })
}

pub(super) fn org_from_row(r: &DbRow) -> StoreResult<Organisation> {
    let kind: String = r.try_get("kind")?;
    Ok(Organisation {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: OrganisationKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("organisation kind {kind}")))?,
        department: r.try_get("department")?,
        identifier: r.try_get("identifier")?,
        identifier_check: r.try_get("identifier_check")?,
    })
}

pub(super) fn user_from_row(r: &DbRow) -> StoreResult<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        password_hash: r.try_get("password_hash")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        region: r.try_get("region")?,
        organisation_id: r.try_get("organisation_id")?,
        requested_organisation_id: r.try_get("requested_organisation_id")?,
        email_verified: r.try_get("email_verified")?,
        revoked: r.try_get::<Option<DateTime<Utc>>, _>("revoked_at")?.is_some(),
    })
}

pub(super) fn event_from_row(r: &DbRow) -> StoreResult<EventRecord> {
    let data: String = r.try_get("data")?;
    let moderation: String = r.try_get("moderation")?;
    let status: String = r.try_get("public_status")?;
    let kind: String = r.try_get("org_kind")?;
    Ok(EventRecord {
        id: r.try_get("id")?,
        edition: r.try_get::<i64, _>("edition")? as i32,
        organisation_id: r.try_get("organisation_id")?,
        organisation_name: r.try_get("org_name")?,
        organisation_kind: OrganisationKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(kind.clone()))?,
        data: serde_json::from_str::<EventData>(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        moderation: Moderation::parse(&moderation).ok_or_else(|| StoreError::Corrupt(moderation.clone()))?,
        public_status: PublicStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(status.clone()))?,
        label_number: r.try_get("label_number")?,
        region: r.try_get("region")?,
        department: r.try_get("department")?,
        submitted_at: r.try_get("submitted_at")?,
        decided_at: r.try_get("decided_at")?,
        decision_reason: r.try_get("decision_reason")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        pending: r
            .try_get::<Option<String>, _>("pending_data")?
            .map(|d| serde_json::from_str::<EventData>(&d).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()?,
        change_submitted_at: r.try_get("change_submitted_at")?,
        labelled_at: r.try_get("labelled_at")?,
        version: r.try_get("version")?,
    })
}

pub(super) fn unique_violation(e: sqlx::Error, message: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(message.to_string()),
        _ => StoreError::Database(e),
    }
}

pub(super) fn json(data: &EventData) -> StoreResult<String> {
    serde_json::to_string(data).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) async fn write_index(tx: &mut Tx, id: i64, data: &EventData) -> StoreResult<()> {
    let org: String = sqlx::query_scalar(
        "SELECT o.name FROM events e JOIN organisations o ON o.id = e.organisation_id WHERE e.id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let mut ix = index_columns(data, &org);
    let set: Vec<String> = IndexColumns::NAMES.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 2)).collect();
    let sql = format!("UPDATE events SET {} WHERE id = $1", set.join(", "));
    let codes = std::mem::take(&mut ix.codes);
    bind_index(sqlx::query(safe(sql)).bind(id), ix).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM event_codes WHERE event_id = $1").bind(id).execute(&mut **tx).await?;
    for (kind, code) in codes {
        sqlx::query("INSERT INTO event_codes (event_id, kind, code) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(kind)
            .bind(code)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The moderation state of an event row, as the lifecycle's type.
pub(super) fn stored_state(r: &DbRow) -> StoreResult<Moderation> {
    let code: String = r.try_get("moderation")?;
    Moderation::parse(&code).ok_or_else(|| StoreError::Corrupt(format!("moderation {code}")))
}

pub(super) async fn audit_entry(
    tx: &mut Tx,
    event_id: i64,
    actor: Option<i64>,
    action: AuditAction,
    states: (Option<Moderation>, Option<Moderation>),
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO audit (event_id, at, actor_id, action, from_state, to_state, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(event_id)
        .bind(at)
        .bind(actor)
        .bind(action.code())
        .bind(states.0.map(Moderation::code))
        .bind(states.1.map(Moderation::code))
        .bind(reason)
        .execute(&mut **tx)
        .await?;
    // A move from or to « labelled » changes what the public sees: the other nodes learn it from
    // the counter, committed with the move or not at all.
    if states.0 == Some(Moderation::Labelled) || states.1 == Some(Moderation::Labelled) {
        catalogue_moved(tx, event_id).await?;
    }
    // Drafts are in neither the review queue nor its duplicate detection: their saves (the most
    // frequent write) leave the nodes' queues as they are.
    let draft = |s: Option<Moderation>| matches!(s, None | Some(Moderation::Draft));
    if !(draft(states.0) && draft(states.1)) {
        queue_moved(tx, event_id).await?;
    }
    Ok(())
}

/// The moves of the queue and of the catalogue kept for the nodes that follow them (see migration
/// 0014): a node more moves behind reads the whole queue, or rebuilds its index.
const MOVES_KEPT: i64 = 10_000;

/// Bumps the `labels` counter and records which event moved, in the transaction of the move.
pub(super) async fn catalogue_moved(tx: &mut Tx, event_id: i64) -> StoreResult<()> {
    let version: i64 =
        sqlx::query_scalar("UPDATE public_changes SET version = version + 1 WHERE kind = 'labels' RETURNING version")
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("INSERT INTO catalogue_moves (version, event_id) VALUES ($1, $2)")
        .bind(version)
        .bind(event_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM catalogue_moves WHERE version <= $1")
        .bind(version - MOVES_KEPT)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Bumps the queue counter and records which event moved, in the transaction of the move.
pub(super) async fn queue_moved(tx: &mut Tx, event_id: i64) -> StoreResult<()> {
    let version: i64 =
        sqlx::query_scalar("UPDATE public_changes SET version = version + 1 WHERE kind = 'queue' RETURNING version")
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query(
        "INSERT INTO queue_moves (version, event_id, organisation_id) SELECT $1, id, organisation_id FROM events WHERE id = $2",
    )
    .bind(version)
    .bind(event_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM queue_moves WHERE version <= $1").bind(version - MOVES_KEPT).execute(&mut **tx).await?;
    Ok(())
}

/// Bumps a counter of [`crate::PublicVersions`] inside the transaction that makes the change.
pub(super) async fn public_changed(tx: &mut Tx, kind: PublicChange) -> StoreResult<()> {
    let kind = match kind {
        PublicChange::Labels => "labels",
        PublicChange::Seats => "seats",
        PublicChange::Queue => "queue",
    };
    sqlx::query("UPDATE public_changes SET version = version + 1 WHERE kind = $1")
        .bind(kind)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What a write changed for the public.
#[derive(Clone, Copy)]
pub(super) enum PublicChange {
    /// Labelled events, their content or status, an edition.
    Labels,
    /// Seats of booked sessions (the `places` filter).
    Seats,
    /// The review queue (not public: the reviewers' view, kept in memory by each node likewise).
    Queue,
}

/// A write transaction of this backend.
pub(super) type Tx = sqlx::Transaction<'static, Db>;

/// Reads `columns` (constants only) of an event locked until the transaction ends, so that a move
/// (edit, submission, decision, status) applies to exactly the row it checked; `NotFound` otherwise.
pub(super) async fn lock_event(tx: &mut Tx, id: i64, columns: &'static str) -> StoreResult<DbRow> {
    let sql = format!("SELECT {columns} FROM events WHERE id = $1{}", DIALECT.for_update());
    sqlx::query(safe(sql)).bind(id).fetch_optional(&mut **tx).await?.ok_or(StoreError::NotFound)
}

/// [`lock_event`] for a decision: refused (`Conflict`, nothing written) unless the event is still at
/// the `version` the decider saw. `columns` must include `version`.
pub(super) async fn lock_event_at(tx: &mut Tx, id: i64, columns: &'static str, version: i64) -> StoreResult<DbRow> {
    let row = lock_event(tx, id, columns).await?;
    crate::sql::same_version(row.try_get("version")?, version)?;
    Ok(row)
}

/// A query of this backend.
pub(super) type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// Binds the derived columns in the order of [`IndexColumns::NAMES`] (its `codes` are not bound).
pub(super) fn bind_index(q: Query<'_>, ix: IndexColumns) -> Query<'_> {
    q.bind(ix.title)
        .bind(ix.region)
        .bind(ix.department)
        .bind(ix.commune_code)
        .bind(ix.event_type)
        .bind(ix.format)
        .bind(ix.accessible)
        .bind(ix.first_day)
        .bind(ix.last_day)
        .bind(ix.search)
        .bind(ix.lat)
        .bind(ix.lon)
        .bind(ix.weak_signal)
        .bind(ix.seats_capacity)
        .bind(ix.seats_max_group)
        .bind(ix.session_count)
}

/// Queues emails in the transaction of the change that causes them: both are committed, or neither.
/// The event as the transaction leaves it, with the letters `announce` composes from it queued in
/// the same transaction.
pub(super) async fn announced(
    tx: &mut Tx,
    id: i64,
    announce: crate::Announce<'_>,
    at: DateTime<Utc>,
) -> StoreResult<EventRecord> {
    let row = sqlx::query(safe(format!("{} WHERE e.id = $1", crate::sql::EVENT_SELECT)))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let record = event_from_row(&row)?;
    insert_emails(tx, &announce(&record), at).await?;
    Ok(record)
}

pub(super) async fn insert_emails(tx: &mut Tx, emails: &[NewEmail], at: DateTime<Utc>) -> StoreResult<()> {
    for m in emails {
        let attachments = if m.attachments.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&m.attachments).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        };
        sqlx::query(
            "INSERT INTO outbox (recipient, subject, text_body, html_body, attachments, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.text)
        .bind(&m.html)
        .bind(attachments)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
