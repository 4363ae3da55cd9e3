//! What the API returns and the pages show about events: one mapping from stored records, so that the
//! JSON and the HTML cannot drift apart.

use serde::Serialize;
use si_domain::dates::{fr_session, region_timezone};
use si_domain::event::{Contact, Registration};
use si_domain::territory::territory;
use si_domain::{Condition, ConditionCode, Edition, EventData, Format};
use si_store::EventRecord;
use utoipa::ToSchema;

/// One condition's verdict.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConditionView {
    /// `dates`, `audiences`, `industry`, `free` or `deadline`.
    #[schema(example = "dates")]
    pub code: String,
    /// Whether it holds.
    pub met: bool,
    /// French sentence: what holds, or what to change.
    pub message: String,
    /// French title of the condition.
    #[serde(skip)]
    pub title: &'static str,
}

impl From<&Condition> for ConditionView {
    fn from(c: &Condition) -> Self {
        let code = match c.code {
            ConditionCode::Dates => "dates",
            ConditionCode::Audiences => "audiences",
            ConditionCode::Industry => "industry",
            ConditionCode::Free => "free",
            ConditionCode::Deadline => "deadline",
        };
        ConditionView { code: code.into(), met: c.met, message: c.message.clone(), title: c.code.title() }
    }
}

/// The safety rules of a site visit, one French sentence each (event page, booking form, letters).
pub fn safety_lines(s: &si_domain::event::Safety) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(age) = s.min_age {
        lines.push(format!("Âge minimum : {age} ans."));
    }
    if s.protective_equipment {
        lines.push("Équipements de protection individuelle obligatoires (chaussures de sécurité, lunettes…).".into());
    }
    if s.id_required {
        lines.push("Pièce d'identité demandée à l'entrée.".into());
    }
    if s.photos_forbidden {
        lines.push("Photos et vidéos interdites sur le site.".into());
    }
    lines
}

/// A session as published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// Stable id: `<event id>-<rank>`.
    pub id: String,
    /// Local start (`2024-11-19T09:00`).
    pub start: String,
    /// Local end.
    pub end: String,
    /// IANA zone of the place (`Europe/Paris`, `Indian/Reunion`, …).
    pub timezone: String,
    /// French reading (« mardi 19 novembre 2024, de 9 h 00 à 12 h 00 »).
    #[serde(skip)]
    pub label: String,
    /// Seats left (events booked on the platform only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seats_left: Option<u32>,
    /// `open`, `waitlist` (full, waiting list open), `full` or `closed` (events booked on the
    /// platform only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking: Option<String>,
    /// What the pages say of `booking` (« 4 places restantes », « Complet »…).
    #[serde(skip)]
    pub booking_label: String,
}

/// Where an event takes place.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocationView {
    /// Venue.
    pub venue: String,
    /// Street address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// Commune name.
    pub commune: Option<String>,
    /// Commune INSEE code.
    pub commune_code: Option<String>,
    /// Department INSEE code.
    pub department: Option<String>,
    /// Region INSEE code.
    pub region: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
}

/// The organiser.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganisationView {
    /// Id (the `organisation` filter of the catalogue and the widget).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Kind code.
    pub kind: String,
}

/// A labelled event as the public and re-users see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// Id.
    pub id: i64,
    /// Edition year.
    pub edition: i32,
    /// `SI-<year>-<5 digits>`.
    pub label_number: Option<String>,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Description (plain text).
    pub description: String,
    /// Type code.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Audience codes.
    pub audiences: Vec<String>,
    /// Sector codes.
    pub sectors: Vec<String>,
    /// Theme codes.
    pub themes: Vec<String>,
    /// Format code.
    pub format: Option<String>,
    /// Sessions.
    pub sessions: Vec<SessionView>,
    /// Place.
    pub location: LocationView,
    /// Online link.
    pub online_url: Option<String>,
    /// Organiser.
    pub organisation: OrganisationView,
    /// Registration.
    #[schema(value_type = Object)]
    pub registration: Registration,
    /// Public contact.
    #[schema(value_type = Object)]
    pub contact: Contact,
    /// Free for everyone.
    pub free: Option<bool>,
    /// Accessible to people with reduced mobility.
    pub accessible: Option<bool>,
    /// `scheduled`, `postponed`, `moved_online`, `full`, `cancelled`.
    pub public_status: String,
    /// The public status in the words the site shows (« Annulé », « Reporté »…): the codes above are
    /// the contract's, the words are what an application shows its users.
    pub public_status_label: String,
    /// Public page.
    pub url: String,
    /// Distance from the centre of a `near` search, in kilometres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// Builds the public view of an event.
pub fn event_view(r: &EventRecord, public_url: &str) -> EventView {
    let d = &r.data;
    let place = d.place();
    let tz = place.as_ref().map(|p| region_timezone(&p.region)).unwrap_or(si_domain::dates::PARIS);
    let sessions = d
        .parsed_sessions()
        .iter()
        .enumerate()
        .map(|(i, s)| SessionView {
            id: format!("{}-{}", r.id, i + 1),
            start: s.start.format("%Y-%m-%dT%H:%M").to_string(),
            end: s.end.format("%Y-%m-%dT%H:%M").to_string(),
            timezone: tz.name().to_string(),
            label: fr_session(s.start, s.end),
            seats_left: None,
            booking: None,
            booking_label: String::new(),
        })
        .collect();
    let located = d.format != Some(Format::EnLigne);
    EventView {
        id: r.id,
        edition: r.edition,
        label_number: r.label_number.clone(),
        title: d.title.clone(),
        summary: d.summary.clone(),
        description: d.description.clone(),
        event_type: d.event_type.map(|t| t.code().to_string()),
        audiences: d.audiences.iter().map(|a| a.code().to_string()).collect(),
        sectors: d.sectors.iter().map(|a| a.code().to_string()).collect(),
        themes: d.themes.iter().map(|a| a.code().to_string()).collect(),
        format: d.format.map(|f| f.code().to_string()),
        sessions,
        location: LocationView {
            venue: d.location.venue.clone(),
            address: d.location.address.clone(),
            postal_code: d.location.postal_code.clone(),
            commune: place.as_ref().filter(|_| located).map(|p| p.commune.clone()),
            commune_code: place.as_ref().filter(|_| located).map(|p| p.commune_code.clone()),
            department: place.as_ref().filter(|_| located).map(|p| p.department.clone()),
            region: place.as_ref().filter(|_| located).map(|p| p.region.clone()),
            lat: place.as_ref().filter(|_| located).map(|p| p.lat),
            lon: place.as_ref().filter(|_| located).map(|p| p.lon),
        },
        online_url: (!d.online_url.is_empty()).then(|| d.online_url.clone()),
        organisation: OrganisationView {
            id: r.organisation_id,
            name: r.organisation_name.clone(),
            kind: r.organisation_kind.code().to_string(),
        },
        registration: d.registration.clone(),
        contact: d.contact.clone(),
        free: d.free,
        accessible: d.accessible,
        public_status: r.public_status.code().to_string(),
        public_status_label: r.public_status.label().to_string(),
        url: format!("{}/evenements/{}", public_url.trim_end_matches('/'), r.id),
        distance_km: None,
    }
}

/// Public views of search results, with their distance to the centre of a `near` search.
pub fn result_views(
    records: &[std::sync::Arc<EventRecord>],
    near: Option<si_store::Near>,
    public_url: &str,
) -> Vec<EventView> {
    records
        .iter()
        .map(|r| {
            let mut v = event_view(r, public_url);
            if let (Some(n), Some(lat), Some(lon)) = (near, v.location.lat, v.location.lon) {
                v.distance_km = Some((si_store::distance_km(n.lat, n.lon, lat, lon) * 10.0).round() / 10.0);
            }
            v
        })
        .collect()
}

/// An organiser's own event: what they wrote, its states and its conditions now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyEventView {
    /// Id.
    pub id: i64,
    /// Edition year.
    pub edition: i32,
    /// What was written.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub data: EventData,
    /// `draft`, `submitted`, `changes_requested`, `labelled`, `refused`, `withdrawn`.
    pub moderation: String,
    /// Label number once labelled.
    pub label_number: Option<String>,
    /// Public status.
    pub public_status: String,
    /// The conditions, checked now (or at submission once submitted).
    pub conditions: Vec<ConditionView>,
    /// Reason of the last decision (refusal, requested changes).
    pub decision_reason: Option<String>,
    /// Department derived from the commune.
    pub department: Option<String>,
    /// Region derived from the commune.
    pub region: Option<String>,
    /// A change to the labelled event awaits review: `data` shows the change, the public the labelled version.
    pub change_pending: bool,
    /// Changes at every write; a reviewer's decision names the version it was taken on.
    pub version: i64,
}

/// The conditions of a stored event's content (`data`), judged at the lifecycle's instant.
pub fn conditions_of(r: &EventRecord, edition: &Edition) -> si_domain::EligibilityReport {
    conditions_of_data(r, &r.data, edition)
}

/// The conditions of some content of a stored event (its pending change, say), judged at the
/// lifecycle's instant for that event (`si_domain::lifecycle::judged_at`).
pub fn conditions_of_data(
    r: &EventRecord,
    data: &si_domain::EventData,
    edition: &Edition,
) -> si_domain::EligibilityReport {
    data.eligibility(edition, si_domain::lifecycle::judged_at(r.moderation, r.submitted_at, chrono::Utc::now()))
}

/// Builds an organiser's view.
pub fn my_event_view(r: &EventRecord, edition: &Edition) -> MyEventView {
    let working = EventRecord { data: r.working_data().clone(), ..r.clone() };
    let report = conditions_of(&working, edition);
    MyEventView {
        id: r.id,
        edition: r.edition,
        change_pending: r.pending.is_some(),
        data: working.data,
        moderation: r.moderation.code().to_string(),
        label_number: r.label_number.clone(),
        public_status: r.public_status.code().to_string(),
        conditions: report.conditions.iter().map(ConditionView::from).collect(),
        decision_reason: r.decision_reason.clone(),
        department: r.department.clone(),
        region: r.region.clone(),
        version: r.version,
    }
}

/// Region and department names of a record (« Auvergne-Rhône-Alpes », « Rhône (69) »).
pub fn place_names(r: &EventRecord) -> (String, String) {
    let t = territory();
    let region = r.region.as_deref().map(|c| t.region_name(c)).unwrap_or_else(|| "Sans région (en ligne)".into());
    let dep = r.department.as_deref().map(|c| format!("{} ({c})", t.department_name(c))).unwrap_or_default();
    (region, dep)
}

/// The French name of an audit action stored by code (the lifecycle's list).
pub fn action_label(action: &str) -> &'static str {
    si_domain::AuditAction::parse(action).map_or("Action", si_domain::AuditAction::label)
}

/// A distance as French readers write it: « 12,6 km ».
pub fn km(d: f64) -> String {
    format!("{d:.1} km").replace('.', ",")
}

/// The DSFR badge (class, label) of a labelled event that does not take place as planned, on
/// every card that shows it (list, map popup, widget); none for a scheduled one.
pub fn status_badge(code: &str) -> Option<(&'static str, &'static str)> {
    use si_domain::PublicStatus;
    let status = PublicStatus::parse(code)?;
    let class = match status {
        PublicStatus::Scheduled => return None,
        PublicStatus::Cancelled => "fr-badge--error",
        PublicStatus::Postponed => "fr-badge--warning",
        PublicStatus::MovedOnline | PublicStatus::Full => "fr-badge--info",
    };
    Some((class, status.label()))
}

/// The French label of a public status code (« Annulé »), or the code when unknown.
pub fn status_label(code: &str) -> &str {
    si_domain::PublicStatus::parse(code).map(|s| s.label()).unwrap_or(code)
}
