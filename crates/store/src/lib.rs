//! Storage of the platform behind one trait, [`Store`], made of one sub-trait per aggregate
//! ([`Accounts`], [`Editions`], [`Events`], [`Outbox`], [`Catalogue`], [`Bookings`]), with an embedded SQLite
//! backend (the default) and a PostgreSQL backend, chosen from the scheme of `DATABASE_URL`. Both run
//! the same code (`src/shared/`, compiled once per backend) with `$1` placeholders; what differs is
//! connection set-up, how a write transaction starts, and [`sql::Dialect`].

mod migrate;
pub mod model;
mod postgres;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use si_domain::{Edition, EventData};

pub use model::*;
pub use postgres::PgStore;
pub use sql::{STALE_VERSION, distance_km};
pub use sqlite::{SqliteStore, restore_sqlite};

/// What can go wrong in the store, in terms callers act upon.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row.
    #[error("introuvable")]
    NotFound,
    /// A uniqueness rule or a state rule forbids the write; the message is French, for people.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Stored data could not be read back.
    #[error("stored data: {0}")]
    Corrupt(String),
    /// A migration already applied to this database differs from the one in this binary: the schema
    /// may not be what the code expects, so nothing starts.
    #[error(
        "migration {name} was edited after it was applied to this database (recorded checksum {recorded}, this binary's {current}): restore it as it was and put the change in a new migration"
    )]
    EditedMigration { name: String, recorded: String, current: String },
}

impl StoreError {
    /// The database could not be reached in time (down, unreachable, every connection busy): the
    /// request may succeed later, unlike a failed query.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_)
            )
        )
    }
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// A shared handle to whichever backend runs.
pub type DynStore = Arc<dyn Store>;

/// How long a request waits for a database connection before the store answers "unavailable".
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the store named by a URL: `sqlite://PATH` (created if missing) or `postgres://…`.
pub async fn connect(url: &str) -> anyhow::Result<DynStore> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else {
        anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres:// (got {url:?})")
    }
}

/// Everything the platform keeps, one sub-trait per aggregate. Every method is one transaction.
#[async_trait]
pub trait Store: Accounts + Editions + Events + Outbox + Catalogue + Bookings + Send + Sync + 'static {
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// How many of this binary's migrations the database has not applied (readiness: a node
    /// started before `migrate` ran, or an older database).
    async fn pending_migrations(&self) -> StoreResult<usize>;
    /// Writes a consistent copy of the database to a new file `path` while it goes on being written
    /// to (SQLite); `Conflict` with the procedure to follow on PostgreSQL.
    async fn backup(&self, path: &str) -> StoreResult<()>;
    /// Refreshes the planner's statistics (after a bulk load, so that it picks the catalogue's
    /// indexes; once at the end, not after every slice: it reads every table).
    async fn analyze(&self) -> StoreResult<()>;
    /// Takes one attempt from the token bucket `key` shared by every node (`capacity` attempts,
    /// refilled at `per_second`), at `now` (seconds since 1970), in one atomic statement: `None` when
    /// taken, else the seconds to wait. A refused attempt lowers the bucket to -1 at most.
    async fn take_attempt(&self, key: &str, capacity: f64, per_second: f64, now: f64) -> StoreResult<Option<f64>>;
    /// Gives one attempt back to a bucket (it turned out legitimate), never above `capacity`.
    async fn give_attempt(&self, key: &str, capacity: f64) -> StoreResult<()>;
    /// Forgets a bucket (its allowance is whole again).
    async fn forget_attempts(&self, key: &str) -> StoreResult<()>;
    /// Drops the buckets whole again at `now` (seconds since 1970): they say nothing. A bucket given
    /// back attempts may be kept a little longer than needed, never dropped early.
    async fn sweep_attempts(&self, now: f64) -> StoreResult<u64>;
    /// The connections of this process's pool (monitoring).
    fn pool_use(&self) -> PoolUse;
    /// Audit entries since `since`, per action code (`submit`, `label`, …): what the platform did
    /// in the last hour, for monitoring.
    async fn activity_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<(String, u64)>>;
}

/// The connections of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Open connections.
    pub open: u32,
    /// Among them, idle.
    pub idle: u32,
}

/// Editions, their per-region dates, and the reviewers' reason templates (administrators' settings).
#[async_trait]
pub trait Editions: Send + Sync {
    /// All editions, newest first.
    async fn editions(&self) -> StoreResult<Vec<Edition>>;
    /// One edition.
    async fn edition(&self, year: i32) -> StoreResult<Option<Edition>>;
    /// Creates or replaces an edition's configuration (its label counter is kept).
    async fn upsert_edition(&self, edition: &Edition) -> StoreResult<()>;
    /// The newest edition with a labelled event (one query, whatever the number of editions).
    async fn newest_labelled_edition(&self) -> StoreResult<Option<i32>>;
    /// Reason templates, by title.
    async fn reason_templates(&self) -> StoreResult<Vec<ReasonTemplate>>;
    /// Creates (`id` none) or replaces a reason template.
    async fn save_reason_template(&self, id: Option<i64>, title: &str, body: &str) -> StoreResult<()>;
    /// Deletes a reason template.
    async fn delete_reason_template(&self, id: i64) -> StoreResult<()>;
}

/// Organisations, people, their sessions, API tokens, one-time links and memberships.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// The organisation with this SIRET or UAI.
    async fn organisation_by_identifier(&self, identifier: &str) -> StoreResult<Option<Organisation>>;
    /// The organisation with this exact name (command line).
    async fn organisation_by_name(&self, name: &str) -> StoreResult<Option<Organisation>>;
    /// One organisation.
    async fn organisation(&self, id: i64) -> StoreResult<Option<Organisation>>;
    /// Creates an organisation; `Conflict` when its identifier is taken.
    async fn create_organisation(&self, org: &NewOrganisation) -> StoreResult<Organisation>;
    /// Creates organisations in one transaction (the bulk load: one commit instead of thousands); one
    /// whose identifier is taken is created without it. Returned in the order given.
    async fn create_organisations(&self, orgs: &[NewOrganisation]) -> StoreResult<Vec<Organisation>>;
    /// Records how an organisation's SIRET or UAI was checked (`directory` or `checksum`).
    async fn set_identifier_check(&self, organisation_id: i64, check: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Creates a person; `Conflict` when the email is taken.
    async fn create_user(&self, user: &NewUser) -> StoreResult<User>;
    /// A person by email (case-insensitive).
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// A person by id.
    async fn user(&self, id: i64) -> StoreResult<Option<User>>;
    /// Records a browser session (only the hash of its id is kept).
    async fn create_web_session(&self, id_hash: &str, user_id: i64, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// The person of a live browser session.
    async fn web_session_user(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>>;
    /// Ends a browser session.
    async fn delete_web_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Records an API token (only its hash is kept), named by its owner, valid until `expires_at`:
    /// returns its id.
    async fn create_api_token(
        &self,
        token_hash: &str,
        user_id: i64,
        name: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// The person holding a live (unexpired) API token, noting when it was used.
    async fn api_token_user(&self, token_hash: &str) -> StoreResult<Option<User>>;
    /// A person's API tokens, newest first (never their secret).
    async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>>;
    /// Deletes one of a person's API tokens; false when it is not theirs or does not exist.
    async fn revoke_api_token(&self, user_id: i64, id: i64) -> StoreResult<bool>;
    /// Reviewers (coordinators and administrators), revoked ones included.
    async fn reviewers(&self) -> StoreResult<Vec<User>>;
    /// Changes a person's role and region.
    async fn set_user_role(&self, id: i64, role: si_domain::Role, region: Option<&str>) -> StoreResult<()>;
    /// Withdraws a person's access: sessions and tokens deleted, login refused.
    async fn revoke_user(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()>;
    /// The accounts of an organisation (not revoked).
    async fn organisation_members(&self, organisation_id: i64) -> StoreResult<Vec<User>>;
    /// Records that the person proved they read their email (a verification link, an operator's word).
    /// Records that a person without an organisation asks to join this one.
    async fn request_membership(&self, user_id: i64, organisation_id: i64) -> StoreResult<()>;
    /// The people (address confirmed) waiting for a member of this organisation to accept them.
    async fn membership_requests(&self, organisation_id: i64) -> StoreResult<Vec<User>>;
    /// Accepts or declines a waiting request, queuing `letters` (the person told) at `at` in the same
    /// transaction; false, and nothing queued, when there was none (already settled).
    async fn settle_membership(
        &self,
        organisation_id: i64,
        user_id: i64,
        accept: bool,
        letters: &[NewEmail],
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Removes a member from the organisation and ends their sessions and tokens; false if not a member.
    async fn remove_member(&self, organisation_id: i64, user_id: i64) -> StoreResult<bool>;
    /// Ends every web session of a person (« se déconnecter partout »); the number ended.
    async fn end_sessions(&self, user_id: i64) -> StoreResult<u64>;
    /// Records a change of address, applied when the link sent to the new address is followed, and
    /// queues the letters that carry the link (queued at `at`) in the same transaction: no link
    /// without its letter, no letter without its link.
    async fn create_email_change(
        &self,
        token_hash: &str,
        user_id: i64,
        new_email: &str,
        expires_at: DateTime<Utc>,
        letters: &[NewEmail],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The new address of a live change-of-address link, without using it.
    async fn peek_email_change(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<String>>;
    /// Applies a live change of address once; the person as they were and the new address.
    /// `Conflict` when the new address has meanwhile got an account. The letters `compose` writes
    /// from them (the old address told) are queued in the same transaction.
    async fn use_email_change(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        compose: ComposeAddress<'_>,
    ) -> StoreResult<Option<(User, String)>>;
    /// Marks a person's address confirmed, queuing `letters` (their membership request to the
    /// organisation's members) at `at` in the same transaction.
    async fn mark_email_verified(&self, user_id: i64, letters: &[NewEmail], at: DateTime<Utc>) -> StoreResult<()>;
    /// Replaces a password hash (and marks the email verified: the person proved they read it); every
    /// session and API token of the person ends; `letters` (the owner told) are queued at `at` in the
    /// same transaction.
    async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        letters: &[NewEmail],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Records a one-time token (only its hash: password, invitation or address confirmation) and
    /// queues the letters that carry it (queued at `at`) in the same transaction.
    async fn create_password_token(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: DateTime<Utc>,
        letters: &[NewEmail],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The person of a live, unused password token, marking it used.
    async fn use_password_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>>;
    /// The person of a live, unused password token, without using it.
    async fn peek_password_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>>;
}

/// Events and their moderation: every move goes through [`si_domain::lifecycle::next`] under the event's row lock, with an audit entry.
#[async_trait]
pub trait Events: Send + Sync {
    /// Creates a draft.
    async fn create_event(&self, edition: i32, organisation_id: i64, actor: i64, data: &EventData) -> StoreResult<i64>;
    /// Replaces an event's content. Drafts and events awaiting changes take it at once; a labelled event
    /// takes it at once unless the change is material (SPEC.md §5), which is then kept aside as a
    /// pending change for review while the public keeps the labelled version. `Conflict` otherwise.
    /// `announce` composes the letters of a change that enters review (not of a change replacing one
    /// already waiting), queued in the same transaction.
    async fn update_event_announced(
        &self,
        id: i64,
        actor: i64,
        data: &EventData,
        announce: Announce<'_>,
    ) -> StoreResult<ChangeOutcome>;
    /// [`Events::update_event_announced`] with no letter.
    async fn update_event(&self, id: i64, actor: i64, data: &EventData) -> StoreResult<ChangeOutcome> {
        self.update_event_announced(id, actor, data, &no_letters).await
    }
    /// One event, whatever its state.
    async fn event(&self, id: i64) -> StoreResult<Option<EventRecord>>;
    /// An organisation's events, newest first.
    async fn organisation_events(&self, organisation_id: i64) -> StoreResult<Vec<EventRecord>>;
    /// Moves an event from one of `from` to `to` (submit, withdraw), with an audit entry, and the
    /// letters `announce` composes from the moved event, all in one transaction.
    async fn transition_announced(&self, t: &Transition<'_>, announce: Announce<'_>) -> StoreResult<EventRecord>;
    /// [`Events::transition_announced`] with no letter.
    async fn transition(&self, t: &Transition<'_>) -> StoreResult<EventRecord> {
        self.transition_announced(t, &no_letters).await
    }
    /// Decides a submitted event; labelling assigns the next label number of its edition. `version` is
    /// the version the decider saw: any other answers `Conflict` and changes nothing. The letters
    /// `announce` composes from the decided event are queued in the decision's transaction.
    #[allow(clippy::too_many_arguments)]
    async fn decide_announced(
        &self,
        id: i64,
        actor: i64,
        decision: Decision,
        reason: Option<&str>,
        at: DateTime<Utc>,
        version: i64,
        announce: Announce<'_>,
    ) -> StoreResult<EventRecord>;
    /// [`Events::decide_announced`] with no letter.
    async fn decide(
        &self,
        id: i64,
        actor: i64,
        decision: Decision,
        reason: Option<&str>,
        at: DateTime<Utc>,
        version: i64,
    ) -> StoreResult<EventRecord> {
        self.decide_announced(id, actor, decision, reason, at, version, &no_letters).await
    }
    /// The review queue as light rows (submissions and pending changes), oldest first; `regions` as above,
    /// where an empty region (online-only, no place) belongs to the national queue only.
    async fn queue_items(&self, regions: Option<&[String]>) -> StoreResult<Vec<QueueItem>>;
    /// Events per moderation state in an edition (pending changes counted apart as `change_pending`).
    async fn moderation_counts(&self, edition: i32, regions: Option<&[String]>) -> StoreResult<Vec<(String, u64)>>;
    /// Submitted, labelled or awaiting-changes events of the organisations that have something in the
    /// queue (of `regions` when given), for duplicate detection.
    async fn duplicate_pool(&self, regions: Option<&[String]>) -> StoreResult<Vec<EventBrief>>;
    /// The queue rows of these events, for those in the queue (oldest first).
    async fn queue_items_of(&self, ids: &[i64]) -> StoreResult<Vec<QueueItem>>;
    /// Submitted, labelled or awaiting-changes events of these organisations (duplicate detection).
    async fn duplicate_pool_of(&self, organisations: &[i64]) -> StoreResult<Vec<EventBrief>>;
    /// The queue's moves after the counter's value `version`, in order (the last 10,000 are kept; the
    /// bulk load bumps the counter without a move).
    async fn queue_moves_after(&self, version: i64) -> StoreResult<Vec<QueueMove>>;
    /// Decides a pending change of a labelled event: accepted, it becomes the published content. `version`
    /// as for [`Events::decide`]: a change replaced since the reviewer read it is never accepted.
    #[allow(clippy::too_many_arguments)]
    async fn decide_change_announced(
        &self,
        id: i64,
        actor: i64,
        accept: bool,
        reason: Option<&str>,
        at: DateTime<Utc>,
        version: i64,
        announce: Announce<'_>,
    ) -> StoreResult<EventRecord>;
    /// [`Events::decide_change_announced`] with no letter.
    async fn decide_change(
        &self,
        id: i64,
        actor: i64,
        accept: bool,
        reason: Option<&str>,
        at: DateTime<Utc>,
        version: i64,
    ) -> StoreResult<EventRecord> {
        self.decide_change_announced(id, actor, accept, reason, at, version, &no_letters).await
    }
    /// Withdraws the label of a labelled event (state `refused`, the label number kept for the record),
    /// if it is still at `version`, with the letters `announce` composes, in one transaction.
    async fn revoke_label_announced(
        &self,
        id: i64,
        actor: i64,
        reason: &str,
        at: DateTime<Utc>,
        version: i64,
        announce: Announce<'_>,
    ) -> StoreResult<EventRecord>;
    /// [`Events::revoke_label_announced`] with no letter.
    async fn revoke_label(
        &self,
        id: i64,
        actor: i64,
        reason: &str,
        at: DateTime<Utc>,
        version: i64,
    ) -> StoreResult<EventRecord> {
        self.revoke_label_announced(id, actor, reason, at, version, &no_letters).await
    }
    /// Deletes a draft that was never submitted, with its history (`lifecycle::deletable`); a
    /// conflict otherwise.
    async fn delete_draft(&self, id: i64) -> StoreResult<()>;
    /// Sets the public status of a labelled event.
    async fn set_public_status(
        &self,
        id: i64,
        actor: i64,
        status: si_domain::PublicStatus,
        at: DateTime<Utc>,
    ) -> StoreResult<EventRecord>;
    /// The audit trail of an event, oldest first.
    async fn audit(&self, event_id: i64) -> StoreResult<Vec<AuditEntry>>;
    /// Inserts already-labelled events in one transaction (demo data and benchmarks).
    /// Each tuple is (organisation, content, instant of submission and decision). Call
    /// [`Store::analyze`] once the whole load is in.
    async fn insert_labelled(&self, edition: i32, events: &[(i64, EventData, DateTime<Utc>)]) -> StoreResult<u64>;
}

/// The outbox of emails, and the once-a-day claims of background work.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues emails.
    async fn enqueue_emails(&self, emails: &[NewEmail], at: DateTime<Utc>) -> StoreResult<()>;
    /// Takes the oldest due email for sending, leased until `lease_until` (another worker skips it).
    async fn claim_email(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<Option<OutboxEmail>>;
    /// Records that an email was accepted by the transport.
    async fn email_sent(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()>;
    /// Records a failed attempt and when to try again.
    async fn email_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()>;
    /// Counts of the outbox.
    async fn outbox_stats(&self) -> StoreResult<OutboxStats>;
    /// Whether the coordinators' digest of a day was claimed (a process composes it only when not).
    async fn digest_day_claimed(&self, day: chrono::NaiveDate) -> StoreResult<bool>;
    /// Claims the coordinators' digest of a day and queues its `letters` in the same transaction:
    /// true once per day, whichever process asks; nothing queued otherwise.
    async fn claim_digest_day(
        &self,
        day: chrono::NaiveDate,
        at: DateTime<Utc>,
        letters: &[NewEmail],
    ) -> StoreResult<bool>;
}

/// What the public reads (labelled events only), and statistics.
#[async_trait]
pub trait Catalogue: Send + Sync {
    /// Labelled events matching a filter, and their total.
    async fn search_events(&self, filter: &EventFilter) -> StoreResult<(u64, Vec<EventRecord>)>;
    /// Counts of labelled events per value of each filter dimension (`region`, `department`, `audience`,
    /// `type`, `sector`, `format`, `theme`), each counted with the other filters applied but not its own,
    /// so that choosing a second value of a dimension shows how many it would add.
    async fn facets(&self, filter: &EventFilter) -> StoreResult<Facets>;
    /// The counters of what the public sees, bumped by every write that changes it in the same
    /// transaction: each node polls them to know when its index and caches are stale.
    async fn public_versions(&self) -> StoreResult<PublicVersions>;
    /// The facts that the in-memory catalogue index needs (no content) of at most `limit` labelled
    /// events with an id above `after`, by id.
    async fn catalogue_rows_after(&self, after: i64, limit: u32) -> StoreResult<Vec<CatalogueRow>>;
    /// The same, of these events (those labelled).
    async fn catalogue_rows_of(&self, ids: &[i64]) -> StoreResult<Vec<CatalogueRow>>;
    /// The catalogue's moves after the `labels` counter's value `version`, in order, as (counter
    /// after the move, event): the last 10,000 are kept; editions and the bulk load bump the counter
    /// without a move.
    async fn catalogue_moves_after(&self, version: i64) -> StoreResult<Vec<(i64, i64)>>;
    /// The same, of every labelled event.
    async fn catalogue_rows(&self) -> StoreResult<Vec<CatalogueRow>> {
        let mut all = Vec::new();
        loop {
            let slice = self.catalogue_rows_after(all.last().map_or(0, |r: &CatalogueRow| r.id), 10_000).await?;
            if slice.is_empty() {
                return Ok(all);
            }
            all.extend(slice);
        }
    }
    /// Events by id, in the order given (ids that do not exist are skipped).
    async fn events_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<EventRecord>>;
    /// Every labelled event matching a filter (pagination ignored), up to `max`, in the filter's order.
    async fn search_all(&self, filter: &EventFilter, max: u32) -> StoreResult<Vec<EventRecord>>;
    /// Labelled events per edition.
    async fn count_labelled(&self, edition: i32) -> StoreResult<u64>;
    /// When each event of an edition was (last) submitted, for statistics.
    async fn submission_times(&self, edition: i32) -> StoreResult<Vec<DateTime<Utc>>>;
}

/// Bookings of sessions on the platform. No session is ever overbooked: seats are confirmed by one
/// guarded statement (`confirmed + n <= capacity`) backed by a CHECK constraint, and every letter a
/// change causes is queued in the change's own transaction (see [`Compose`]).
#[async_trait]
pub trait Bookings: Send + Sync {
    /// Books a session of a labelled, not cancelled event (checked in the booking's transaction):
    /// confirmed when the seats are free, else on the waiting list when the event has one, else
    /// `Conflict` with a French message (full, closed, not open to bookings).
    async fn book(&self, b: &NewBooking<'_>, compose: Compose<'_>) -> StoreResult<Booking>;
    /// The booking of a secret link.
    async fn booking_by_token(&self, token_hash: &str) -> StoreResult<Option<Booking>>;
    /// Changes a live booking's group (pupils and adults; `seats` their sum). A larger confirmed group
    /// needs the extra seats (`Conflict` otherwise, nothing changed); a smaller one frees seats, which
    /// go to the waiting list in arrival order.
    async fn resize_booking(
        &self,
        token_hash: &str,
        pupils: u32,
        adults: u32,
        seats: u32,
        at: DateTime<Utc>,
        compose: Compose<'_>,
    ) -> StoreResult<Booking>;
    /// Cancels a live booking (its seats go to the waiting list in arrival order); `erase` also
    /// removes the contact's personal data at once (the counts stay).
    async fn cancel_booking(
        &self,
        token_hash: &str,
        erase: bool,
        at: DateTime<Utc>,
        compose: Compose<'_>,
    ) -> StoreResult<Booking>;
    /// Cancels every live booking of an event that will not take place, frees its seats and queues
    /// each contact's letter; the bookings cancelled.
    async fn cancel_event_bookings(
        &self,
        event_id: i64,
        at: DateTime<Utc>,
        compose: Compose<'_>,
    ) -> StoreResult<Vec<Booking>>;
    /// The seats of the sessions of these events that have had a booking.
    async fn session_seats(&self, event_ids: &[i64]) -> StoreResult<Vec<SessionSeats>>;
    /// The seats of every session of a labelled event that has had a booking (the catalogue index's
    /// `places` filter; waiting seats not counted).
    async fn all_session_seats(&self) -> StoreResult<Vec<SessionSeats>>;
    /// The live bookings (confirmed or waiting) of one address for an event (case-insensitive).
    async fn live_bookings_of(&self, event_id: i64, email: &str) -> StoreResult<Vec<Booking>>;
    /// Every booking of an event (cancelled ones included), in arrival order.
    async fn event_bookings(&self, event_id: i64) -> StoreResult<Vec<Booking>>;
    /// Closes (or reopens) a session's bookings before its time; the seats row is created if need be.
    async fn close_session(&self, event_id: i64, rank: u32, capacity: u32, closed: bool) -> StoreResult<()>;
    /// Records (or corrects) an event's attendance report.
    async fn save_attendance(
        &self,
        event_id: i64,
        actor: i64,
        report: &si_domain::booking::Attendance,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// An event's attendance report.
    async fn attendance(&self, event_id: i64) -> StoreResult<Option<si_domain::booking::Attendance>>;
    /// Booked seats and reported participation of an edition, per region.
    async fn attendance_by_region(&self, edition: i32) -> StoreResult<Vec<RegionAttendance>>;
    /// Reports of an edition's events in these regions (all with `None`), with each event's id,
    /// title and region, newest first.
    async fn attendance_reports(
        &self,
        edition: i32,
        regions: Option<&[String]>,
    ) -> StoreResult<Vec<(i64, String, Option<String>, si_domain::booking::Attendance)>>;
    /// Records one anonymous answer of the questionnaire.
    async fn add_feedback(
        &self,
        event_id: i64,
        f: &si_domain::booking::Feedback,
        on: chrono::NaiveDate,
    ) -> StoreResult<()>;
    /// The answers about one event, in aggregate.
    async fn feedback_of(&self, event_id: i64) -> StoreResult<FeedbackSummary>;
    /// The answers about an edition's events, in aggregate per region.
    async fn feedback_by_region(&self, edition: i32) -> StoreResult<Vec<(Option<String>, FeedbackSummary)>>;
    /// Whether a piece of background work was claimed (a process composes its letters only when not).
    async fn claimed(&self, job: &str) -> StoreResult<bool>;
    /// Claims a piece of background work and queues its `letters` in the same transaction: true for
    /// the first caller only, whatever the process; nothing queued otherwise.
    async fn claim_once(&self, job: &str, at: DateTime<Utc>, letters: &[NewEmail]) -> StoreResult<bool>;
    /// Erases the contacts of every booking of an edition (names, addresses, phones, schools),
    /// keeping the counts; the number erased.
    async fn erase_booking_contacts(&self, edition: i32, at: DateTime<Utc>) -> StoreResult<u64>;
}

/// What an update did to the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// The content was replaced.
    Applied,
    /// A labelled event's material change now waits for review.
    SentToReview,
}

/// The letters a moderation move causes, composed from the event as the move leaves it and queued
/// in the move's own transaction: a crash can lose neither without the other.
pub type Announce<'a> = &'a (dyn Fn(&EventRecord) -> Vec<NewEmail> + Send + Sync);

/// An [`Announce`] that sends nothing (demo data, the store's own tests).
pub fn no_letters(_: &EventRecord) -> Vec<NewEmail> {
    Vec::new()
}

/// A moderation move requested by a person.
pub struct Transition<'a> {
    /// Event.
    pub id: i64,
    /// Who asks.
    pub actor: i64,
    /// What they do: `Submit` or `Withdraw` (the other actions have their own methods, which take
    /// what they need: a decision its version, a status its value).
    pub action: si_domain::lifecycle::Action,
    /// Why, when given.
    pub reason: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Transition<'static> {
    /// A submission for labelling (from a draft or after requested changes) at `at`.
    pub fn submit(id: i64, actor: i64, at: DateTime<Utc>) -> Transition<'static> {
        Transition { id, actor, action: si_domain::lifecycle::Action::Submit, reason: None, at }
    }

    /// The organiser withdraws a submission at `at`.
    pub fn withdraw(id: i64, actor: i64, at: DateTime<Utc>) -> Transition<'static> {
        Transition { id, actor, action: si_domain::lifecycle::Action::Withdraw, reason: None, at }
    }
}

/// Helpers for tests of this crate and of the crates above it.
pub mod testing {
    use std::future::Future;
    use std::pin::Pin;

    use sqlx::Connection;

    /// The server PostgreSQL tests run on; a test that was asked to run without one fails, it never
    /// passes silently.
    pub fn postgres_url() -> String {
        std::env::var("TEST_DATABASE_URL").expect(
            "TEST_DATABASE_URL must name a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/postgres)",
        )
    }

    /// Creates an empty database on the server of `base_url`; returns its URL and a future that drops it.
    pub async fn fresh_postgres_database(
        base_url: &str,
    ) -> anyhow::Result<(String, Pin<Box<dyn Future<Output = ()> + Send>>)> {
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
        let name = format!("si_test_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let mut conn = sqlx::PgConnection::connect(base_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
        let (prefix, _) = base_url.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("bad database URL"))?;
        let url = format!("{prefix}/{name}");
        let base = base_url.to_string();
        let drop = Box::pin(async move {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await;
            }
        });
        Ok((url, drop))
    }
}
