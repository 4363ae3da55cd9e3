//! Records read from and written to the store.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use si_domain::{Audience, EventData, EventType, Format, Moderation, OrganisationKind, PublicStatus, Role, Sector};

/// An organisation.
#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrganisationKind,
    /// Department INSEE code.
    pub department: String,
    /// SIRET or UAI.
    pub identifier: Option<String>,
    /// How the identifier was checked: `directory` (open in the public directory) or `checksum`
    /// (directory unreachable: check digits only); `None` when never checked.
    pub identifier_check: Option<String>,
}

/// An organisation to create.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: OrganisationKind,
    /// Department INSEE code.
    pub department: String,
    /// SIRET or UAI, already validated.
    pub identifier: Option<String>,
}

/// An API token as its owner sees it (its secret is shown once, at creation, and never kept).
#[derive(Debug, Clone)]
pub struct ApiToken {
    /// Id, to revoke it.
    pub id: i64,
    /// The name its owner gave it (« Intégration SIRH »).
    pub name: String,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// End of validity (none for tokens made before expiry existed).
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use, to the hour.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A person with an account.
#[derive(Clone)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Email, lowercased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Region of a regional coordinator.
    pub region: Option<String>,
    /// Organisation of an organiser.
    pub organisation_id: Option<i64>,
    /// Organisation this person asked to join, until a member accepts or declines.
    pub requested_organisation_id: Option<i64>,
    /// Email address confirmed.
    pub email_verified: bool,
    /// Access withdrawn by an administrator.
    pub revoked: bool,
}

impl std::fmt::Debug for User {
    // The password hash stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A person to create.
#[derive(Clone)]
pub struct NewUser {
    /// Email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Region of a regional coordinator.
    pub region: Option<String>,
    /// Organisation of an organiser.
    pub organisation_id: Option<i64>,
}

/// An event as stored.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// Id.
    pub id: i64,
    /// Edition year.
    pub edition: i32,
    /// Organisation id.
    pub organisation_id: i64,
    /// Organisation name.
    pub organisation_name: String,
    /// Organisation kind.
    pub organisation_kind: OrganisationKind,
    /// Content as typed.
    pub data: EventData,
    /// Moderation state.
    pub moderation: Moderation,
    /// Public status.
    pub public_status: PublicStatus,
    /// `SI-<year>-<5 digits>` once labelled.
    pub label_number: Option<String>,
    /// Region INSEE code, derived from the commune.
    pub region: Option<String>,
    /// Department INSEE code, derived from the commune.
    pub department: Option<String>,
    /// Last submission.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Last decision.
    pub decided_at: Option<DateTime<Utc>>,
    /// Reason of the last decision.
    pub decision_reason: Option<String>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// A material change to a labelled event, awaiting review (the public sees `data` meanwhile).
    pub pending: Option<EventData>,
    /// When that change was sent to review.
    pub change_submitted_at: Option<DateTime<Utc>>,
    /// When the label was granted.
    pub labelled_at: Option<DateTime<Utc>>,
    /// Changes at every write: a decision names the version it was taken on (SPEC.md §6).
    pub version: i64,
}

impl EventRecord {
    /// The content the organiser is working on: the pending change when there is one.
    pub fn working_data(&self) -> &EventData {
        self.pending.as_ref().unwrap_or(&self.data)
    }
}

/// One line of the review queue: a submission, or a change to a labelled event. Read from indexed
/// columns only, so that a queue of thousands is cheap.
#[derive(Debug, Clone)]
pub struct QueueItem {
    /// Event id.
    pub id: i64,
    /// Edition year.
    pub edition: i32,
    /// Organisation.
    pub organisation_id: i64,
    /// Organisation name.
    pub organisation_name: String,
    /// Title (of the published version for a change).
    pub title: String,
    /// Region code (none: national queue).
    pub region: Option<String>,
    /// Department code.
    pub department: Option<String>,
    /// Type code.
    pub event_type: Option<String>,
    /// Audience codes.
    pub audiences: Vec<String>,
    /// When it entered the queue.
    pub submitted_at: DateTime<Utc>,
    /// A change to a labelled event rather than a first submission.
    pub change: bool,
    /// The industry-theme signal is weak.
    pub weak_signal: bool,
    /// First day of its sessions.
    pub first_day: Option<NaiveDate>,
    /// Last day of its sessions.
    pub last_day: Option<NaiveDate>,
    /// The event's version, which a decision on it must name.
    pub version: i64,
}

/// One move of the review queue: the counter's value it set, the event that moved and its organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueMove {
    /// The queue counter after this move.
    pub version: i64,
    /// The event that moved.
    pub event_id: i64,
    /// Its organisation (whose possible duplicates may have changed).
    pub organisation_id: i64,
}

/// The few facts duplicate detection compares.
#[derive(Debug, Clone)]
pub struct EventBrief {
    /// Event id.
    pub id: i64,
    /// Organisation.
    pub organisation_id: i64,
    /// Edition year.
    pub edition: i32,
    /// Title.
    pub title: String,
    /// First day of its sessions.
    pub first_day: Option<NaiveDate>,
    /// Last day of its sessions.
    pub last_day: Option<NaiveDate>,
}

/// A reason a reviewer can pick, editable by administrators.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonTemplate {
    /// Id.
    pub id: i64,
    /// Short name shown in the list.
    pub title: String,
    /// The text inserted in the reason.
    pub body: String,
}

/// An email to send (through the outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    /// Recipient address.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
    /// Files sent with it (an `.ics`, a PDF confirmation).
    pub attachments: Vec<Attachment>,
}

/// A file attached to an email.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// File name shown to the recipient.
    pub name: String,
    /// MIME type (`text/calendar`, `application/pdf`).
    pub content_type: String,
    /// The bytes.
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// Attachments are kept in the outbox as JSON, their bytes in base64 (RFC 4648, with padding).
mod base64_bytes {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(s: &str) -> Option<Vec<u8>> {
        let s = s.trim_end_matches('=');
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in s.bytes() {
            let v = ALPHABET.iter().position(|&a| a == c)? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Some(out)
    }

    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        decode(&s).ok_or_else(|| serde::de::Error::custom("base64"))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trips_every_length() {
            assert_eq!(super::encode(b"Man"), "TWFu");
            assert_eq!(super::encode(b"Ma"), "TWE=");
            assert_eq!(super::encode(b"M"), "TQ==");
            for n in 0..300usize {
                let bytes: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
                assert_eq!(super::decode(&super::encode(&bytes)).unwrap(), bytes, "{n}");
            }
            assert!(super::decode("TW#u").is_none());
        }
    }
}

/// A booking of a session (see `si_domain::booking`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Id (orders arrivals).
    pub id: i64,
    /// Event.
    pub event_id: i64,
    /// Session rank in the event, from 1 (`sessions[].id` is `{event}-{rank}`).
    pub rank: u32,
    /// Confirmed, waiting or cancelled.
    pub status: si_domain::BookingStatus,
    /// Seats taken (or asked for, on the waiting list).
    pub seats: u32,
    /// `classe` or `personne`.
    pub kind: String,
    /// Contact's name (empty once erased).
    pub name: String,
    /// Contact's email (empty once erased).
    pub email: String,
    /// Contact's phone (classes).
    pub phone: String,
    /// School's UAI (classes).
    pub uai: Option<String>,
    /// School's name (classes).
    pub school: Option<String>,
    /// Class level (classes).
    pub level: Option<si_domain::ClassLevel>,
    /// Pupils (classes).
    pub pupils: u32,
    /// Accompanying adults (classes).
    pub adults: u32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A new booking, checked by the domain (`BookingRequest`) against the event's rules.
pub struct NewBooking<'a> {
    /// Event.
    pub event_id: i64,
    /// Session rank, from 1.
    pub rank: u32,
    /// SHA-256 of the secret link's token.
    pub token_hash: &'a str,
    /// What was asked.
    pub request: &'a si_domain::booking::BookingRequest,
    /// The event's booking rules as its organiser set them.
    pub rules: si_domain::booking::BookingRules,
    /// When.
    pub at: DateTime<Utc>,
}

/// What happened to a booking, for the letter that tells its contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingNews {
    /// Booked, seats confirmed.
    Confirmed,
    /// Booked on the waiting list.
    Waitlisted,
    /// Moved from the waiting list to confirmed (seats freed).
    Promoted,
    /// The group's size changed.
    Resized,
    /// Cancelled by its contact.
    Cancelled,
    /// Cancelled because the event will not take place.
    EventCancelled,
}

/// Composes the letters of a change of address from the person as they were and the new address;
/// called by the store inside the transaction that applies the change.
pub type ComposeAddress<'a> = &'a (dyn Fn(&User, &str) -> Vec<NewEmail> + Send + Sync);

/// Composes the letters of a booking's news; called by the store inside the transaction that makes
/// the news, so that a booking and its letters are committed together or not at all.
pub type Compose<'a> = &'a (dyn Fn(&Booking, BookingNews) -> Vec<NewEmail> + Send + Sync);

/// The seats of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSeats {
    /// Event.
    pub event_id: i64,
    /// Session rank, from 1.
    pub rank: u32,
    /// Seats (as last applied; the event's current capacity is in its content).
    pub capacity: u32,
    /// Seats confirmed.
    pub confirmed: u32,
    /// Seats asked for on the waiting list.
    pub waiting: u32,
    /// Closed early by the organiser.
    pub closed: bool,
}

/// Reported participation of a region (or the national online-only events: `region` none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionAttendance {
    /// Region code; none for events without a place.
    pub region: Option<String>,
    /// Events of the region booked on the platform or reported.
    pub events: u64,
    /// Of which reported.
    pub reported: u64,
    /// Seats booked (confirmed) on the platform: what was expected.
    pub booked: u64,
    /// Reported people who came.
    pub participants: u64,
    /// Of whom girls and women.
    pub girls: u64,
    /// Classes received.
    pub classes: u64,
    /// Schools received.
    pub schools: u64,
    /// Interviews held.
    pub interviews: u64,
}

/// What participants answered, in aggregate only.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FeedbackSummary {
    /// Answers.
    pub answers: u64,
    /// Mean score before (1 to 5).
    pub before: f64,
    /// Mean score after.
    pub after: f64,
    /// « Oui », « peut-être », « non ».
    pub yes: u64,
    pub maybe: u64,
    pub no: u64,
}

/// An email claimed from the outbox by a worker.
#[derive(Debug, Clone)]
pub struct OutboxEmail {
    /// Outbox id.
    pub id: i64,
    /// The message.
    pub email: NewEmail,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// The state of the outbox, for administrators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Waiting to be sent.
    pub pending: u64,
    /// Among them, having failed at least once.
    pub retrying: u64,
    /// Sent.
    pub sent: u64,
    /// When the oldest email still waiting was queued.
    pub oldest_pending: Option<DateTime<Utc>>,
}

/// A reviewer's decision (the lifecycle's, in the domain).
pub use si_domain::lifecycle::Decision;

/// One line of an event's audit trail.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (email), when a person.
    pub actor: Option<String>,
    /// What (`create`, `update`, `submit`, `label`, …).
    pub action: String,
    /// State before.
    pub from_state: Option<String>,
    /// State after.
    pub to_state: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// Filters of the public catalogue (all combine; lists mean « any of »).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Edition year.
    pub edition: Option<i32>,
    /// French full text (folded and stemmed before matching).
    pub q: Option<String>,
    /// Region codes.
    pub regions: Vec<String>,
    /// Department codes.
    pub departments: Vec<String>,
    /// Audiences.
    pub audiences: Vec<Audience>,
    /// Types.
    pub types: Vec<EventType>,
    /// Sectors.
    pub sectors: Vec<Sector>,
    /// Formats.
    pub formats: Vec<Format>,
    /// Sessions ending on or after this day.
    pub from: Option<NaiveDate>,
    /// Sessions starting on or before this day.
    pub to: Option<NaiveDate>,
    /// Accessible to people with reduced mobility.
    pub accessible: Option<bool>,
    /// Theme tags.
    pub themes: Vec<si_domain::Theme>,
    /// Organisations (ids), for a partner's widget.
    pub organisations: Vec<i64>,
    /// Centre of a `near` search.
    pub near: Option<Near>,
    /// Events booked on the platform with a session that has at least this many seats left, open to
    /// bookings, for a group this large.
    pub places: Option<u32>,
    /// 1-based page.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}

/// Counts per value, per dimension (see [`crate::Store::facets`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets(pub std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>);

impl Facets {
    /// The count of one value of one dimension (0 when absent).
    pub fn count(&self, dimension: &str, value: &str) -> u64 {
        self.0.get(dimension).and_then(|d| d.get(value)).copied().unwrap_or(0)
    }
}

/// What the in-memory catalogue index keeps of a labelled event.
#[derive(Debug, Clone)]
pub struct CatalogueRow {
    /// Id.
    pub id: i64,
    /// Edition year.
    pub edition: i32,
    /// Organisation.
    pub organisation_id: i64,
    /// Region code.
    pub region: Option<String>,
    /// Department code.
    pub department: Option<String>,
    /// Type code.
    pub event_type: Option<String>,
    /// Format code.
    pub format: Option<String>,
    /// Accessible to people with reduced mobility.
    pub accessible: Option<bool>,
    /// First day of its sessions.
    pub first_day: Option<NaiveDate>,
    /// Last day of its sessions.
    pub last_day: Option<NaiveDate>,
    /// Latitude (none for online events).
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Title, as typed (a match in it ranks first).
    pub title: String,
    /// The folded, stemmed search document.
    pub search: String,
    /// (kind, code) pairs: audiences, sectors, themes.
    pub codes: Vec<(String, String)>,
    /// Seats per session (events booked on the platform).
    pub seats_capacity: Option<u32>,
    /// The largest group one booking may bring.
    pub seats_max_group: Option<u32>,
    /// How many sessions the event has.
    pub session_count: u32,
}

/// A `near` search: events within `radius_km` of a point, nearest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    /// Latitude of the centre.
    pub lat: f64,
    /// Longitude of the centre.
    pub lon: f64,
    /// Radius in kilometres.
    pub radius_km: f64,
}

/// A part of the map (degrees): the map's markers once zoomed in, and its clusters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    /// Southern latitude.
    pub south: f64,
    /// Western longitude.
    pub west: f64,
    /// Northern latitude.
    pub north: f64,
    /// Eastern longitude.
    pub east: f64,
}

impl Bbox {
    /// The whole world.
    pub const WORLD: Bbox = Bbox { south: -90.0, west: -180.0, north: 90.0, east: 180.0 };

    /// Whether a point lies inside (edges included).
    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        (self.south..=self.north).contains(&lat) && (self.west..=self.east).contains(&lon)
    }
}

/// The counters of what the public sees (see [`crate::Catalogue::public_versions`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublicVersions {
    /// Labelled events, their content and status, editions.
    pub labels: i64,
    /// Seats of booked sessions.
    pub seats: i64,
    /// The review queue and what its duplicate detection reads (events out of draft).
    pub queue: i64,
}
