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
    /// Email address confirmed.
    pub email_verified: bool,
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
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Label it.
    Label,
    /// Refuse it (reason required).
    Refuse,
    /// Send it back to the organiser (message required).
    RequestChanges,
}

impl Decision {
    /// The contract code.
    pub fn code(self) -> &'static str {
        match self {
            Decision::Label => "label",
            Decision::Refuse => "refuse",
            Decision::RequestChanges => "request_changes",
        }
    }
}

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
    /// The folded, stemmed search document.
    pub search: String,
    /// (kind, code) pairs: audiences, sectors, themes.
    pub codes: Vec<(String, String)>,
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
