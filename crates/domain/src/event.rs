//! An event as organisers write it: what is kept as typed, how it is checked field by field, and the
//! facts derived from it (place from the commune, parsed sessions).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::{Audience, EventType, Format, RegistrationMode, Sector, Theme};
pub use crate::dates::Session;
use crate::dates::parse_local_datetime;
use crate::edition::Edition;
use crate::eligibility::{EligibilityInput, EligibilityReport, check};
use crate::territory::{Commune, territory};

/// Maximum lengths of SPEC.md §5.
pub const TITLE_MAX: usize = 140;
/// Maximum length of the summary.
pub const SUMMARY_MAX: usize = 300;
/// Maximum length of the description.
pub const DESCRIPTION_MAX: usize = 5_000;

/// A field that cannot be accepted as typed, with the French sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's path (`title`, `sessions[0].end`, `location.postal_code`).
    pub field: String,
    /// What to change.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

/// A session as typed: local date-times as text, kept even when unreadable so nothing is lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionInput {
    /// « 2024-11-19T09:00 ».
    #[serde(default)]
    pub start: String,
    /// « 2024-11-19T12:00 ».
    #[serde(default)]
    pub end: String,
}

/// The place of an event as typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Location {
    /// Venue name (« Usine de Saint-Priest »).
    #[serde(default)]
    pub venue: String,
    /// Street address.
    #[serde(default)]
    pub address: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// INSEE code of the commune; department and region are derived from it.
    #[serde(default)]
    pub commune_code: String,
    /// Latitude when the organiser placed the pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude when the organiser placed the pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// Safety prerequisites for site visits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Safety {
    /// Minimum age of participants.
    #[serde(default)]
    pub min_age: Option<u8>,
    /// Protective equipment is required (provided or to bring, see the description).
    #[serde(default)]
    pub protective_equipment: bool,
    /// An identity document is required at the entrance.
    #[serde(default)]
    pub id_required: bool,
    /// Photos and videos are forbidden on the site.
    #[serde(default)]
    pub photos_forbidden: bool,
}

/// How people register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    /// The mode.
    pub mode: RegistrationMode,
    /// Registration link (external mode).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Registration email (external mode).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// Registration phone (external mode).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
    /// Places per session (platform mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// The most people one booking may bring (platform mode); none: up to the capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_group: Option<u32>,
    /// Classes and other groups may book (platform mode).
    #[serde(default = "yes")]
    pub groups: bool,
    /// Individuals may book (platform mode).
    #[serde(default = "yes")]
    pub individuals: bool,
    /// A full session takes bookings on a waiting list, promoted in arrival order (platform mode).
    #[serde(default)]
    pub waitlist: bool,
    /// Booking closes this many hours before a session starts (platform mode).
    #[serde(default)]
    pub closes_hours_before: u32,
}

fn yes() -> bool {
    true
}

impl Default for Registration {
    fn default() -> Self {
        Registration {
            mode: RegistrationMode::None,
            url: String::new(),
            email: String::new(),
            phone: String::new(),
            capacity: None,
            max_group: None,
            groups: true,
            individuals: true,
            waitlist: false,
            closes_hours_before: 0,
        }
    }
}

/// Public contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    /// Email.
    #[serde(default)]
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
}

/// Everything an organiser writes about an event (SPEC.md §5), kept as typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    /// Title (≤ 140 characters).
    #[serde(default)]
    pub title: String,
    /// Short summary (≤ 300).
    #[serde(default)]
    pub summary: String,
    /// Description (≤ 5,000, plain text with line breaks).
    #[serde(default)]
    pub description: String,
    /// Kind of event.
    #[serde(default, rename = "type")]
    pub event_type: Option<EventType>,
    /// Sectors.
    #[serde(default)]
    pub sectors: Vec<Sector>,
    /// Target publics.
    #[serde(default)]
    pub audiences: Vec<Audience>,
    /// Theme tags.
    #[serde(default)]
    pub themes: Vec<Theme>,
    /// Attendance format.
    #[serde(default)]
    pub format: Option<Format>,
    /// Place.
    #[serde(default)]
    pub location: Location,
    /// Link for online attendance.
    #[serde(default)]
    pub online_url: String,
    /// Sessions.
    #[serde(default)]
    pub sessions: Vec<SessionInput>,
    /// Free for every participant.
    #[serde(default)]
    pub free: Option<bool>,
    /// Declared objective of informing about industry.
    #[serde(default)]
    pub industry_objective: Option<bool>,
    /// Accessible to people with reduced mobility.
    #[serde(default)]
    pub accessible: Option<bool>,
    /// Safety prerequisites.
    #[serde(default)]
    pub safety: Safety,
    /// Registration.
    #[serde(default)]
    pub registration: Registration,
    /// Public contact.
    #[serde(default)]
    pub contact: Contact,
}

/// Where an event takes place, derived from its commune.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Commune INSEE code.
    pub commune_code: String,
    /// Commune name.
    pub commune: String,
    /// Department INSEE code.
    pub department: String,
    /// Region INSEE code.
    pub region: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

impl EventData {
    /// Sessions that parse and end after they start, in the order typed.
    pub fn parsed_sessions(&self) -> Vec<Session> {
        self.sessions
            .iter()
            .filter_map(|s| {
                let start = parse_local_datetime(&s.start)?;
                let end = parse_local_datetime(&s.end)?;
                Session::new(start, end).ok()
            })
            .collect()
    }

    /// The commune, when its code is known.
    pub fn commune(&self) -> Option<&'static Commune> {
        territory().commune(self.location.commune_code.trim())
    }

    /// The place derived from the commune (coordinates from the pin when placed).
    pub fn place(&self) -> Option<Place> {
        let c = self.commune()?;
        Some(Place {
            commune_code: c.code.clone(),
            commune: c.name.clone(),
            department: c.department.clone(),
            region: c.region.clone(),
            lat: self.location.lat.unwrap_or(c.lat),
            lon: self.location.lon.unwrap_or(c.lon),
        })
    }

    /// Fills the commune from the postal code when it serves exactly one commune; trims text.
    pub fn normalise(&mut self) {
        for s in
            [&mut self.title, &mut self.summary, &mut self.online_url, &mut self.contact.email, &mut self.contact.phone]
        {
            *s = s.trim().to_string();
        }
        self.description = self.description.trim_end().replace("\r\n", "\n");
        let pc = self.location.postal_code.trim().to_string();
        self.location.postal_code = pc.clone();
        if self.location.commune_code.trim().is_empty() && !pc.is_empty() {
            let list = territory().communes_by_postal_code(&pc);
            if list.len() == 1 {
                self.location.commune_code = list[0].code.clone();
            }
        }
        self.sectors.sort();
        self.sectors.dedup();
        self.audiences.sort();
        self.audiences.dedup();
        self.themes.sort();
        self.themes.dedup();
        self.sessions.retain(|s| !(s.start.trim().is_empty() && s.end.trim().is_empty()));
    }

    /// What keeps a draft from being saved: [`EventData::validate`]`(false)`, and a title — an empty
    /// form saved by mistake would leave an untitled draft in the organiser's list.
    pub fn validate_draft(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.title.trim().is_empty() {
            errors.push(err("title", "Donnez au moins un titre pour enregistrer le brouillon.".to_string()));
        }
        errors.extend(self.validate(false));
        errors
    }

    /// Errors in what was typed. With `complete`, also what is missing to submit.
    pub fn validate(&self, complete: bool) -> Vec<FieldError> {
        let mut errors = Vec::new();
        // Nothing invisible: single-line fields end up in iCalendar parameters, CSV cells and emails.
        let r = &self.registration;
        for (field, what, value) in [
            ("title", "Le titre", &self.title),
            ("location.venue", "Le nom du lieu", &self.location.venue),
            ("location.address", "L'adresse", &self.location.address),
            ("online_url", "Le lien", &self.online_url),
            ("contact.email", "L'adresse de contact", &self.contact.email),
            ("contact.phone", "Le téléphone de contact", &self.contact.phone),
            ("registration.url", "Le lien d'inscription", &r.url),
            ("registration.email", "L'adresse d'inscription", &r.email),
            ("registration.phone", "Le téléphone d'inscription", &r.phone),
        ] {
            if let Err(m) = crate::input::single_line(what, value) {
                errors.push(err(field, m));
            }
        }
        for (field, what, value) in
            [("summary", "Le résumé", &self.summary), ("description", "La description", &self.description)]
        {
            if let Err(m) = crate::input::multi_line(what, value) {
                errors.push(err(field, m));
            }
        }
        let len = |s: &str| s.chars().count();
        if len(&self.title) > TITLE_MAX {
            errors.push(err(
                "title",
                format!("Le titre ne doit pas dépasser {TITLE_MAX} caractères (il en compte {}).", len(&self.title)),
            ));
        }
        if len(&self.summary) > SUMMARY_MAX {
            errors.push(err(
                "summary",
                format!(
                    "Le résumé ne doit pas dépasser {SUMMARY_MAX} caractères (il en compte {}).",
                    len(&self.summary)
                ),
            ));
        }
        if len(&self.description) > DESCRIPTION_MAX {
            errors.push(err(
                "description",
                format!(
                    "La description ne doit pas dépasser {DESCRIPTION_MAX} caractères (elle en compte {}).",
                    len(&self.description)
                ),
            ));
        }
        for (i, s) in self.sessions.iter().enumerate() {
            let start = parse_local_datetime(&s.start);
            let end = parse_local_datetime(&s.end);
            if start.is_none() {
                errors.push(err(
                    format!("sessions[{i}].start"),
                    "Indiquez la date et l'heure de début, par exemple 2024-11-19T09:00.",
                ));
            }
            if end.is_none() {
                errors.push(err(
                    format!("sessions[{i}].end"),
                    "Indiquez la date et l'heure de fin, par exemple 2024-11-19T12:00.",
                ));
            }
            if let (Some(a), Some(b)) = (start, end)
                && let Err(m) = Session::new(a, b)
            {
                errors.push(err(format!("sessions[{i}].end"), m));
            }
        }
        let pc = self.location.postal_code.trim();
        if !pc.is_empty() && (pc.len() != 5 || !pc.bytes().all(|b| b.is_ascii_digit())) {
            errors.push(err("location.postal_code", "Le code postal s'écrit avec 5 chiffres, par exemple 69800."));
        } else if !self.location.commune_code.trim().is_empty() {
            match self.commune() {
                None => errors.push(err(
                    "location.commune_code",
                    "Cette commune est inconnue : choisissez-la dans la liste proposée pour le code postal.",
                )),
                Some(c) if !pc.is_empty() && !c.postal_codes.iter().any(|p| p == pc) => errors.push(err(
                    "location.commune_code",
                    format!(
                        "La commune {} ne correspond pas au code postal {pc} : choisissez-la dans la liste.",
                        c.name
                    ),
                )),
                Some(_) => {}
            }
        } else if !pc.is_empty() && territory().communes_by_postal_code(pc).is_empty() {
            errors.push(err("location.postal_code", format!("Aucune commune ne correspond au code postal {pc}.")));
        }
        if let (Some(lat), Some(lon)) = (self.location.lat, self.location.lon)
            && (!(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon))
        {
            errors.push(err("location.lat", "Les coordonnées du point sur la carte sont invalides."));
        }
        if !self.online_url.is_empty() && !is_http_url(&self.online_url) {
            errors.push(err("online_url", "Le lien doit être une adresse web complète, commençant par https://."));
        }
        if !self.contact.email.is_empty() && !is_email(&self.contact.email) {
            errors.push(err("contact.email", "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."));
        }
        if !self.contact.phone.is_empty() && !is_phone(&self.contact.phone) {
            errors.push(err("contact.phone", "Saisissez un numéro de téléphone valide, par exemple 01 23 45 67 89."));
        }
        if !r.url.is_empty() && !is_http_url(&r.url) {
            errors.push(err("registration.url", "Le lien d'inscription doit commencer par https://."));
        }
        if !r.email.is_empty() && !is_email(&r.email) {
            errors.push(err("registration.email", "Saisissez une adresse électronique d'inscription valide."));
        }
        if !r.phone.is_empty() && !is_phone(&r.phone) {
            errors.push(err("registration.phone", "Saisissez un numéro de téléphone d'inscription valide."));
        }
        if let Some(cap) = r.capacity
            && (cap == 0 || cap > 100_000)
        {
            errors.push(err(
                "registration.capacity",
                "La capacité doit être comprise entre 1 et 100 000 places par séance.",
            ));
        }
        if let Some(max) = r.max_group
            && (max == 0 || r.capacity.is_some_and(|cap| max > cap))
        {
            errors.push(err(
                "registration.max_group",
                "La taille maximale d'un groupe doit être d'au moins 1 personne et ne pas dépasser la capacité.",
            ));
        }
        if r.mode == RegistrationMode::Platform && !r.groups && !r.individuals {
            errors.push(err(
                "registration.groups",
                "Acceptez au moins les groupes ou les personnes seules, sinon personne ne peut réserver.",
            ));
        }
        if r.closes_hours_before > 24 * 30 {
            errors.push(err(
                "registration.closes_hours_before",
                "Les réservations ne peuvent pas fermer plus de 30 jours (720 heures) avant la séance.",
            ));
        }
        if let Some(age) = self.safety.min_age
            && age > 99
        {
            errors.push(err("safety.min_age", "L'âge minimum doit être compris entre 0 et 99 ans."));
        }
        if complete {
            errors.extend(self.missing());
        }
        errors
    }

    /// What must be filled in before submitting (the conditions aside).
    fn missing(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.title.trim().is_empty() {
            errors.push(err("title", "Indiquez le titre de l'événement."));
        }
        if self.summary.trim().is_empty() {
            errors.push(err("summary", "Rédigez un résumé en une ou deux phrases."));
        }
        if self.description.trim().is_empty() {
            errors.push(err(
                "description",
                "Décrivez le déroulé de l'événement et ce que les participants découvriront.",
            ));
        }
        if self.event_type.is_none() {
            errors.push(err("type", "Choisissez le type d'événement."));
        }
        match self.format {
            None => errors.push(err("format", "Indiquez si l'événement a lieu en présentiel, en ligne ou les deux.")),
            Some(f) => {
                if matches!(f, Format::Presentiel | Format::Hybride) && self.commune().is_none() {
                    errors.push(err(
                        "location.postal_code",
                        "Indiquez le code postal et la commune du lieu de l'événement.",
                    ));
                }
                if matches!(f, Format::EnLigne | Format::Hybride) && self.online_url.is_empty() {
                    errors.push(err("online_url", "Indiquez le lien de connexion ou la page où le trouver."));
                }
            }
        }
        if self.accessible.is_none() {
            errors.push(err("accessible", "Indiquez si le lieu est accessible aux personnes à mobilité réduite."));
        }
        let r = &self.registration;
        match r.mode {
            RegistrationMode::External if r.url.is_empty() && r.email.is_empty() && r.phone.is_empty() => {
                errors.push(err(
                    "registration.url",
                    "Indiquez comment s'inscrire : un lien, une adresse électronique ou un numéro de téléphone.",
                ))
            }
            RegistrationMode::Platform if r.capacity.is_none() => {
                errors.push(err("registration.capacity", "Indiquez le nombre de places par séance."))
            }
            _ => {}
        }
        if self.contact.email.is_empty() && self.contact.phone.is_empty() {
            errors.push(err(
                "contact.email",
                "Indiquez une adresse électronique ou un téléphone de contact pour le public.",
            ));
        }
        errors
    }

    /// The four conditions and the deadline for this event at `at`.
    /// The dates are those of the event's region when the edition overrides them there.
    pub fn eligibility(&self, edition: &Edition, at: DateTime<Utc>) -> EligibilityReport {
        let sessions = self.parsed_sessions();
        let region = self.place().map(|p| p.region);
        check(
            &edition.for_region(region.as_deref()),
            &EligibilityInput {
                sessions: &sessions,
                audiences: &self.audiences,
                free: self.free,
                industry_objective: self.industry_objective,
                title: &self.title,
                description: &format!("{}\n{}", self.summary, self.description),
                at,
            },
        )
    }

    /// Whether a change from `self` (the labelled version) to `other` is material (SPEC.md §5).
    pub fn is_material_change(&self, other: &EventData) -> bool {
        !self.material_changes(other).is_empty()
    }

    /// The material parts that differ between `self` (the labelled version) and `other`, in French,
    /// for the audit trail and the reviewer's before/after view.
    pub fn material_changes(&self, other: &EventData) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.title != other.title {
            changed.push("titre");
        }
        if self.sessions != other.sessions {
            changed.push("dates");
        }
        if self.location != other.location || self.online_url != other.online_url {
            changed.push("lieu");
        }
        if self.format != other.format {
            changed.push("format");
        }
        if self.audiences != other.audiences {
            changed.push("publics");
        }
        if self.free != other.free {
            changed.push("gratuité");
        }
        changed
    }
}

/// An absolute http(s) URL with a host.
pub fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if r.split('/').next().is_some_and(|h| h.contains('.') && !h.contains(' ')))
}

/// A plausible email address (the reply to a confirmation is the real check).
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && s.len() <= crate::input::EMAIL_MAX
}

/// A French or international phone number.
pub fn is_phone(s: &str) -> bool {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    s.chars().all(|c| c.is_ascii_digit() || " .-+()".contains(c)) && (10..=15).contains(&digits.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> EventData {
        EventData {
            title: "Visite de l'usine".into(),
            summary: "Découvrez nos métiers.".into(),
            description: "Visite des ateliers de production.".into(),
            event_type: Some(EventType::VisiteEntreprise),
            audiences: vec![Audience::Scolaires],
            format: Some(Format::Presentiel),
            location: Location { postal_code: "69800".into(), ..Default::default() },
            sessions: vec![SessionInput { start: "2024-11-19T09:00".into(), end: "2024-11-19T12:00".into() }],
            free: Some(true),
            industry_objective: Some(true),
            accessible: Some(true),
            contact: Contact { email: "contact@usine.fr".into(), phone: String::new() },
            ..Default::default()
        }
    }

    #[test]
    fn commune_and_region_are_derived_from_the_postal_code() {
        let mut e = complete();
        e.normalise();
        assert_eq!(e.location.commune_code, "69290");
        let place = e.place().unwrap();
        assert_eq!((place.department.as_str(), place.region.as_str()), ("69", "84"));
        assert!(e.validate(true).is_empty(), "{:?}", e.validate(true));
    }

    #[test]
    fn field_errors_name_the_field() {
        let mut e = complete();
        e.title = "x".repeat(141);
        e.sessions[0].end = "2024-11-19T08:00".into();
        e.contact.email = "pas-une-adresse".into();
        e.location.postal_code = "6980".into();
        let fields: Vec<String> = e.validate(false).into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["title", "sessions[0].end", "location.postal_code", "contact.email"]);
    }

    #[test]
    fn missing_fields_only_matter_for_submission() {
        // Checking facts needs nothing; a draft needs only its title; a submission everything.
        assert!(EventData::default().validate(false).is_empty());
        let e = EventData { title: "Essai".into(), ..EventData::default() };
        assert!(e.validate_draft().is_empty());
        assert!(e.validate(true).len() > 3);
        let fields: Vec<String> = EventData::default().validate_draft().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["title"]);
        assert_eq!(EventData::default().validate(true).iter().filter(|f| f.field == "title").count(), 1);
    }

    #[test]
    fn material_changes() {
        let a = complete();
        let mut b = a.clone();
        b.description.push_str(" Plus de détails.");
        assert!(!a.is_material_change(&b));
        b.title = "Autre titre".into();
        assert!(a.is_material_change(&b));
    }
}
