//! Reading what people send: urlencoded forms and query strings as ordered key/value pairs (repeated
//! keys kept: `?region=84&region=11`), and the conversions into domain values with French messages
//! naming the field. One parser for the site and the API, so both accept and refuse the same things.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use chrono::NaiveDate;
use si_domain::event::{Contact, Location, Registration, Safety, SessionInput};
use si_domain::territory::territory;
use si_domain::{Audience, EventData, EventType, FieldError, Format, RegistrationMode, Sector, Theme};
use si_store::EventFilter;

use crate::AppState;
use crate::error::AppError;

/// Percent-encodes a query component (the one encoder of links, redirects and outbound queries).
pub(crate) fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Ordered key/value pairs.
#[derive(Debug, Clone, Default)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// Parses `a=1&b=2` (`+` and percent-escapes decoded). NUL characters, which no person types and
    /// PostgreSQL cannot store, are dropped (forms refuse them before: see [`Form`]).
    pub fn parse(s: &str) -> Pairs {
        Pairs(form_urlencoded::parse(s.as_bytes()).map(|(k, v)| (k.replace('\0', ""), v.replace('\0', ""))).collect())
    }

    /// First non-empty value of a key, trimmed.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.trim()).find(|v| !v.is_empty())
    }

    /// First value of a key, untrimmed (text areas), or empty.
    pub fn raw(&self, key: &str) -> String {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Every non-empty value of a key.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, v)| k == key && !v.trim().is_empty()).map(|(_, v)| v.trim().to_string()).collect()
    }

    /// Every value of a key, empty ones included (parallel lists such as session rows).
    pub fn all_raw(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }
}

/// An urlencoded form body.
pub struct Form(pub Pairs);

impl FromRequest<AppState> for Form {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| AppError::BadRequest {
            code: "invalid_body",
            message: "Le formulaire envoyé n'est pas en UTF-8.".into(),
        })?;
        // A NUL character is refused by name rather than dropped, so that what is stored is what was sent.
        if let Some((k, _)) =
            form_urlencoded::parse(text.as_bytes()).find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(AppError::invalid(
                k.replace('\0', ""),
                si_domain::input::forbidden_char_message("Le champ", '\0'),
            ));
        }
        Ok(Form(Pairs::parse(text)))
    }
}

/// A body that could not be read: too large (413, beyond the router's limit) or cut off (400).
pub(crate) fn body_rejection(e: axum::extract::rejection::BytesRejection) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::BadRequest { code: "invalid_body", message: "Le contenu envoyé est illisible ou incomplet.".into() }
    }
}

fn bad(field: &str, message: String) -> AppError {
    AppError::invalid(field, message)
}

fn codes<T>(p: &Pairs, key: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<Vec<T>, AppError> {
    p.all(key)
        .iter()
        .map(|v| parse(v).ok_or_else(|| bad(key, format!("{what} inconnu : « {v} ». Consultez la liste des valeurs possibles dans la documentation de l'API."))))
        .collect()
}

fn date(p: &Pairs, key: &str) -> Result<Option<NaiveDate>, AppError> {
    p.get(key)
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                bad(
                    key,
                    format!("Date invalide : « {v} ». Écrivez-la sous la forme AAAA-MM-JJ, par exemple 2024-11-18."),
                )
            })
        })
        .transpose()
}

fn boolean(v: &str) -> Option<bool> {
    match v {
        "true" | "1" | "oui" | "on" => Some(true),
        "false" | "0" | "non" => Some(false),
        _ => None,
    }
}

/// Keys the catalogue understands.
const FILTER_KEYS: &[&str] = &[
    "edition",
    "q",
    "region",
    "department",
    "audience",
    "type",
    "sector",
    "theme",
    "format",
    "from",
    "to",
    "near",
    "radius_km",
    "accessible",
    "page",
    "per_page",
    "facets",
    "organisation",
    "places",
];

/// Reads the catalogue's filters. With `strict`, an unknown parameter is refused (the API); the site
/// ignores them (tracking parameters and the like).
pub fn event_filter(p: &Pairs, strict: bool) -> Result<EventFilter, AppError> {
    if strict && let Some((k, _)) = p.0.iter().find(|(k, _)| !FILTER_KEYS.contains(&k.as_str())) {
        return Err(bad(k, format!("Paramètre inconnu : « {k} ». Paramètres acceptés : {}.", FILTER_KEYS.join(", "))));
    }
    let t = territory();
    let regions = p.all("region");
    if let Some(r) = regions.iter().find(|r| t.region(r).is_none()) {
        return Err(bad(
            "region",
            format!(
                "Région inconnue : « {r} ». Utilisez le code INSEE de la région, par exemple 84 pour Auvergne-Rhône-Alpes."
            ),
        ));
    }
    let departments: Vec<String> = p.all("department").into_iter().map(|d| d.to_uppercase()).collect();
    if let Some(d) = departments.iter().find(|d| t.department(d).is_none()) {
        return Err(bad(
            "department",
            format!("Département inconnu : « {d} ». Utilisez le code INSEE du département, par exemple 69, 2A ou 974."),
        ));
    }
    let int = |key: &str, min: u32, max: u32, default: u32| -> Result<u32, AppError> {
        match p.get(key) {
            None => Ok(default),
            Some(v) => v.parse::<u32>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
                bad(
                    key,
                    format!(
                        "Valeur invalide pour « {key} » : « {v} ». Indiquez un nombre entier entre {min} et {max}."
                    ),
                )
            }),
        }
    };
    let edition = match p.get("edition") {
        None => None,
        Some(v) => Some(v.parse::<i32>().map_err(|_| {
            bad("edition", format!("Édition invalide : « {v} ». Indiquez une année, par exemple 2024."))
        })?),
    };
    let near = near(p)?;
    let accessible = match p.get("accessible") {
        None => None,
        Some(v) => Some(boolean(v).ok_or_else(|| {
            bad("accessible", format!("Valeur invalide pour « accessible » : « {v} ». Indiquez true ou false."))
        })?),
    };
    let q = p.get("q").map(str::to_string);
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(bad("q", "La recherche ne doit pas dépasser 200 caractères.".into()));
    }
    let from = date(p, "from")?;
    let to = date(p, "to")?;
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(bad("to", "La date de fin de recherche doit suivre la date de début.".into()));
    }
    // Empty in the site's form when not used.
    let places = match p.get("places").map(str::trim) {
        None | Some("") => None,
        Some(_) => Some(int("places", 1, si_domain::booking::CLASS_MAX, 1)?),
    };
    // Seats are offered by sessions yet to come: a search for places starts today unless it says when.
    let from = match (places, from) {
        (Some(_), None) => Some(chrono::Utc::now().with_timezone(&si_domain::dates::PARIS).date_naive()),
        (_, from) => from,
    };
    Ok(EventFilter {
        places,
        edition,
        q,
        regions,
        departments,
        audiences: codes(p, "audience", Audience::parse, "Public")?,
        types: codes(p, "type", EventType::parse, "Type d'événement")?,
        sectors: codes(p, "sector", Sector::parse, "Secteur")?,
        themes: codes(p, "theme", Theme::parse, "Thème")?,
        organisations: p
            .all("organisation")
            .iter()
            .map(|o| {
                o.parse::<i64>().map_err(|_| {
                    bad("organisation", format!("Organisation invalide : « {o} ». Indiquez son identifiant numérique."))
                })
            })
            .collect::<Result<_, _>>()?,
        near,
        formats: codes(p, "format", Format::parse, "Format")?,
        from,
        to,
        accessible,
        page: int("page", 1, 100_000, 1)?,
        per_page: int("per_page", 1, 100, 20)?,
    })
}

/// Parses checkbox values, reporting each unknown one on the field.
fn parse_list<T>(values: &[String], field: &str, parse: fn(&str) -> Option<T>, errors: &mut Vec<FieldError>) -> Vec<T> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        match parse(v) {
            Some(x) => out.push(x),
            None => errors.push(FieldError { field: field.into(), message: format!("Valeur inconnue : « {v} ».") }),
        }
    }
    out
}

/// Default radius of a `near` search, in kilometres.
pub const DEFAULT_RADIUS_KM: f64 = 30.0;
/// Largest radius accepted, in kilometres.
const MAX_RADIUS_KM: f64 = 200.0;

/// Reads `near` (a commune's name, a postal code or an INSEE code: `Territory::find_place`) and
/// `radius_km`.
fn near(p: &Pairs) -> Result<Option<si_store::Near>, AppError> {
    let radius = match p.get("radius_km") {
        None => DEFAULT_RADIUS_KM,
        Some(v) => v
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite() && *r > 0.0 && *r <= MAX_RADIUS_KM)
            .ok_or_else(|| {
                bad(
                    "radius_km",
                    format!("Rayon invalide : « {v} ». Indiquez un nombre de kilomètres entre 1 et {MAX_RADIUS_KM}."),
                )
            })?,
    };
    let Some(place) = p.get("near") else {
        if p.get("radius_km").is_some() {
            return Err(bad(
                "near",
                "Indiquez aussi le lieu autour duquel chercher (near : une commune, un code postal ou un code INSEE)."
                    .into(),
            ));
        }
        return Ok(None);
    };
    if place.chars().count() > 80 {
        return Err(bad(
            "near",
            "Le lieu tient en 80 caractères au plus : le nom d'une commune ou un code postal.".into(),
        ));
    }
    let c = territory().find_place(place).ok_or_else(|| {
        bad("near", format!("Lieu inconnu : « {place} ». Indiquez le nom d'une commune (par exemple Lyon), un code postal (par exemple 69800) ou un code INSEE (par exemple 69123)."))
    })?;
    Ok(Some(si_store::Near { lat: c.lat, lon: c.lon, radius_km: radius }))
}

/// The event form as typed, every field a string so that nothing typed is lost on an error.
#[derive(Debug, Clone, Default)]
pub struct EventForm {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub event_type: String,
    pub sectors: Vec<String>,
    pub audiences: Vec<String>,
    pub themes: Vec<String>,
    pub format: String,
    pub venue: String,
    pub address: String,
    pub postal_code: String,
    pub commune_code: String,
    /// The pin the organiser placed on the map (empty: the commune's reference point).
    pub lat: String,
    pub lon: String,
    pub online_url: String,
    pub sessions: Vec<SessionInput>,
    pub free: String,
    pub industry_objective: bool,
    pub accessible: String,
    pub min_age: String,
    pub protective_equipment: bool,
    pub id_required: bool,
    pub photos_forbidden: bool,
    pub registration_mode: String,
    pub registration_url: String,
    pub registration_email: String,
    pub registration_phone: String,
    pub registration_capacity: String,
    pub registration_max_group: String,
    pub registration_groups: bool,
    pub registration_individuals: bool,
    pub registration_waitlist: bool,
    pub registration_closes_hours: String,
    pub contact_email: String,
    pub contact_phone: String,
}

fn yes_no(v: Option<bool>) -> String {
    match v {
        Some(true) => "oui".into(),
        Some(false) => "non".into(),
        None => String::new(),
    }
}

impl EventForm {
    /// From a submitted form.
    pub fn from_pairs(p: &Pairs) -> EventForm {
        let starts = p.all_raw("session_start");
        let ends = p.all_raw("session_end");
        let sessions = starts
            .iter()
            .zip(ends.iter().chain(std::iter::repeat(&String::new())))
            .map(|(s, e)| SessionInput { start: s.trim().to_string(), end: e.trim().to_string() })
            .collect();
        EventForm {
            title: p.raw("title").trim().to_string(),
            summary: p.raw("summary").trim().to_string(),
            description: p.raw("description"),
            event_type: p.raw("type"),
            sectors: p.all("sectors"),
            audiences: p.all("audiences"),
            themes: p.all("themes"),
            format: p.raw("format"),
            venue: p.raw("venue").trim().to_string(),
            address: p.raw("address").trim().to_string(),
            postal_code: p.raw("postal_code").trim().to_string(),
            commune_code: p.raw("commune_code").trim().to_string(),
            lat: p.raw("lat").trim().to_string(),
            lon: p.raw("lon").trim().to_string(),
            online_url: p.raw("online_url").trim().to_string(),
            sessions,
            free: p.raw("free"),
            industry_objective: p.get("industry_objective").is_some(),
            accessible: p.raw("accessible"),
            min_age: p.raw("min_age").trim().to_string(),
            protective_equipment: p.get("protective_equipment").is_some(),
            id_required: p.get("id_required").is_some(),
            photos_forbidden: p.get("photos_forbidden").is_some(),
            registration_mode: p.raw("registration_mode"),
            registration_url: p.raw("registration_url").trim().to_string(),
            registration_email: p.raw("registration_email").trim().to_string(),
            registration_phone: p.raw("registration_phone").trim().to_string(),
            registration_capacity: p.raw("registration_capacity").trim().to_string(),
            registration_max_group: p.raw("registration_max_group").trim().to_string(),
            registration_groups: p.get("registration_groups").is_some(),
            registration_individuals: p.get("registration_individuals").is_some(),
            registration_waitlist: p.get("registration_waitlist").is_some(),
            registration_closes_hours: p.raw("registration_closes_hours").trim().to_string(),
            contact_email: p.raw("contact_email").trim().to_string(),
            contact_phone: p.raw("contact_phone").trim().to_string(),
        }
    }

    /// From a stored event.
    pub fn from_data(d: &EventData) -> EventForm {
        EventForm {
            title: d.title.clone(),
            summary: d.summary.clone(),
            description: d.description.clone(),
            event_type: d.event_type.map(|t| t.code().to_string()).unwrap_or_default(),
            sectors: d.sectors.iter().map(|s| s.code().to_string()).collect(),
            audiences: d.audiences.iter().map(|s| s.code().to_string()).collect(),
            themes: d.themes.iter().map(|s| s.code().to_string()).collect(),
            format: d.format.map(|t| t.code().to_string()).unwrap_or_default(),
            venue: d.location.venue.clone(),
            address: d.location.address.clone(),
            postal_code: d.location.postal_code.clone(),
            commune_code: d.location.commune_code.clone(),
            lat: d.location.lat.map(|x| format!("{x:.5}")).unwrap_or_default(),
            lon: d.location.lon.map(|x| format!("{x:.5}")).unwrap_or_default(),
            online_url: d.online_url.clone(),
            sessions: d.sessions.clone(),
            free: yes_no(d.free),
            industry_objective: d.industry_objective == Some(true),
            accessible: yes_no(d.accessible),
            min_age: d.safety.min_age.map(|a| a.to_string()).unwrap_or_default(),
            protective_equipment: d.safety.protective_equipment,
            id_required: d.safety.id_required,
            photos_forbidden: d.safety.photos_forbidden,
            registration_mode: d.registration.mode.code().to_string(),
            registration_url: d.registration.url.clone(),
            registration_email: d.registration.email.clone(),
            registration_phone: d.registration.phone.clone(),
            registration_capacity: d.registration.capacity.map(|c| c.to_string()).unwrap_or_default(),
            registration_max_group: d.registration.max_group.map(|c| c.to_string()).unwrap_or_default(),
            registration_groups: d.registration.groups,
            registration_individuals: d.registration.individuals,
            registration_waitlist: d.registration.waitlist,
            registration_closes_hours: match d.registration.closes_hours_before {
                0 => String::new(),
                h => h.to_string(),
            },
            contact_email: d.contact.email.clone(),
            contact_phone: d.contact.phone.clone(),
        }
    }

    /// Into the domain value; errors name the fields that cannot be read at all.
    pub fn to_data(&self) -> Result<EventData, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err =
            |field: &str, message: &str| errors.push(FieldError { field: field.into(), message: message.into() });
        let event_type = match self.event_type.trim() {
            "" => None,
            v => EventType::parse(v).or_else(|| {
                err("type", "Type d'événement inconnu : choisissez-le dans la liste.");
                None
            }),
        };
        let format = match self.format.trim() {
            "" => None,
            v => Format::parse(v).or_else(|| {
                err("format", "Format inconnu : choisissez présentiel, en ligne ou hybride.");
                None
            }),
        };
        let mode = match self.registration_mode.trim() {
            "" => RegistrationMode::None,
            v => RegistrationMode::parse(v).unwrap_or_else(|| {
                err("registration.mode", "Mode d'inscription inconnu.");
                RegistrationMode::None
            }),
        };
        // The pin: both coordinates or neither (a comma as French keyboards type it is read as a point).
        let coordinate = |v: &str| v.replace(',', ".").parse::<f64>().ok().filter(|x| x.is_finite());
        let (lat, lon) = match (self.lat.as_str(), self.lon.as_str()) {
            ("", "") => (None, None),
            (a, b) => match (coordinate(a), coordinate(b)) {
                (Some(a), Some(b)) => (Some(a), Some(b)),
                _ => {
                    err(
                        "location.lat",
                        "Le point sur la carte est invalide : indiquez une latitude et une longitude en degrés décimaux, par exemple 45.76 et 4.83, ou laissez les deux vides.",
                    );
                    (None, None)
                }
            },
        };
        let min_age = match self.min_age.trim() {
            "" => None,
            v => v.parse::<u8>().ok().or_else(|| {
                err("safety.min_age", "L'âge minimum doit être un nombre entier d'années, par exemple 14.");
                None
            }),
        };
        let capacity = match self.registration_capacity.trim() {
            "" => None,
            v => v.parse::<u32>().ok().or_else(|| {
                err("registration.capacity", "La capacité doit être un nombre entier de places, par exemple 30.");
                None
            }),
        };
        let max_group = match self.registration_max_group.trim() {
            "" => None,
            v => v.parse::<u32>().ok().or_else(|| {
                err(
                    "registration.max_group",
                    "La taille maximale d'un groupe doit être un nombre entier, par exemple 35.",
                );
                None
            }),
        };
        let closes_hours_before = match self.registration_closes_hours.trim() {
            "" => 0,
            v => v.parse::<u32>().unwrap_or_else(|_| {
                err(
                    "registration.closes_hours_before",
                    "Indiquez en heures quand les réservations ferment avant la séance, par exemple 48.",
                );
                0
            }),
        };
        let sectors = parse_list(&self.sectors, "sectors", Sector::parse, &mut errors);
        let audiences = parse_list(&self.audiences, "audiences", Audience::parse, &mut errors);
        let themes = parse_list(&self.themes, "themes", Theme::parse, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let yn = |v: &str| boolean(v.trim());
        let mut data = EventData {
            title: self.title.clone(),
            summary: self.summary.clone(),
            description: self.description.clone(),
            event_type,
            sectors,
            audiences,
            themes,
            format,
            location: Location {
                venue: self.venue.clone(),
                address: self.address.clone(),
                postal_code: self.postal_code.clone(),
                commune_code: self.commune_code.clone(),
                lat,
                lon,
            },
            online_url: self.online_url.clone(),
            sessions: self.sessions.clone(),
            free: yn(&self.free),
            industry_objective: self.industry_objective.then_some(true),
            accessible: yn(&self.accessible),
            safety: Safety {
                min_age,
                protective_equipment: self.protective_equipment,
                id_required: self.id_required,
                photos_forbidden: self.photos_forbidden,
            },
            registration: Registration {
                mode,
                url: self.registration_url.clone(),
                email: self.registration_email.clone(),
                phone: self.registration_phone.clone(),
                capacity,
                max_group,
                groups: self.registration_groups,
                individuals: self.registration_individuals,
                waitlist: self.registration_waitlist,
                closes_hours_before,
            },
            contact: Contact { email: self.contact_email.clone(), phone: self.contact_phone.clone() },
        };
        data.normalise();
        // The rules of a draft, as the API applies them (a title, single-line fields, lengths).
        let errors = data.validate_draft();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(data)
    }

    /// Rows shown for sessions: those typed and one empty row to add another.
    pub fn session_rows(&self) -> Vec<SessionInput> {
        let mut rows = self.sessions.clone();
        rows.push(SessionInput::default());
        rows
    }
}

/// Reads the catalogue filters of an API call (strict), checking that the edition exists.
pub(crate) async fn api_filter(
    state: &crate::AppState,
    query: Option<&str>,
) -> Result<si_store::EventFilter, AppError> {
    let filter = event_filter(&Pairs::parse(query.unwrap_or("")), true)?;
    if let Some(year) = filter.edition
        && !state.catalogue.has_edition(&state.store, year).await?
    {
        return Err(AppError::invalid("edition", format!("L'édition {year} n'existe pas.")));
    }
    Ok(filter)
}

/// The filters of an answer that is never paginated (the exports, the calendar feed, the map): those
/// of [`EventQuery`] without `page`, `per_page` and `facets`, so that the document lists only what is
/// honoured.
pub struct ExportQuery;

impl utoipa::IntoParams for ExportQuery {
    fn into_params(
        parameter_in: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        <EventQuery as utoipa::IntoParams>::into_params(parameter_in)
            .into_iter()
            .filter(|p| !["page", "per_page", "facets"].contains(&p.name.as_str()))
            .collect()
    }
}

/// The filters of the catalogue, shared by the list, the feeds and the exports. Repeat a parameter to
/// accept several values (`region=84&region=11`); an unknown parameter or value answers 422.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query string; requests are read by forms::event_filter, which keeps repeated keys"
)]
pub struct EventQuery {
    /// Année de l'édition.
    #[param(minimum = 2000, maximum = 2100)]
    edition: Option<i32>,
    /// Texte libre : sans accents, racinisé, avec les synonymes des métiers de l'industrie, classé par
    /// pertinence (le titre d'abord).
    q: Option<String>,
    /// Code INSEE de région (répétable).
    region: Option<Vec<String>>,
    /// Code INSEE de département (répétable).
    department: Option<Vec<String>>,
    /// Public cible (répétable) : scolaires, jeunes, etudiants, demandeurs_emploi, communaute_educative, professionnels_rh, grand_public.
    audience: Option<Vec<String>>,
    /// Type d'événement (répétable).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<Vec<String>>,
    /// Secteur (répétable).
    sector: Option<Vec<String>>,
    /// Thématique (répétable) : mixite, transition_ecologique.
    theme: Option<Vec<String>>,
    /// Format (répétable) : presentiel, en_ligne, hybride.
    format: Option<Vec<String>>,
    /// Séances se terminant ce jour ou après (AAAA-MM-JJ).
    #[param(format = Date)]
    from: Option<String>,
    /// Séances commençant ce jour ou avant (AAAA-MM-JJ).
    #[param(format = Date)]
    to: Option<String>,
    /// Nom de commune (« Lyon », « Saint-Denis (974) »), code postal ou code INSEE : événements autour,
    /// du plus proche au plus lointain.
    #[param(max_length = 80)]
    near: Option<String>,
    /// Rayon autour de `near`, en km (30 par défaut, 200 au plus).
    #[param(exclusive_minimum = 0, maximum = 200)]
    radius_km: Option<f64>,
    /// Identifiant d'organisation (répétable), par exemple pour un widget.
    organisation: Option<Vec<i64>>,
    /// Accessible aux personnes à mobilité réduite.
    accessible: Option<bool>,
    /// Places pour un groupe : événements à réserver sur la plateforme ayant une séance avec au moins
    /// ce nombre de places restantes, ouverte aux réservations (1 à 80).
    #[param(minimum = 1, maximum = 80)]
    places: Option<u32>,
    /// Page, à partir de 1.
    #[param(minimum = 1, maximum = 100000)]
    page: Option<u32>,
    /// Taille de page, 100 au plus (20 par défaut).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
    /// Avec `true`, la réponse donne aussi le nombre d'événements par valeur de chaque filtre (facettes).
    facets: Option<bool>,
}

/// The part of the map a map request is about: `bbox` (« sud,ouest,nord,est » in degrees) and, for
/// clusters, the `zoom`. Read apart from the catalogue's filters, which follow as `rest`.
pub struct MapArea {
    pub zoom: Option<u8>,
    pub bbox: Option<si_store::Bbox>,
    /// The query string without `zoom` and `bbox`.
    pub rest: String,
}

/// The largest zoom of the map.
pub const MAP_MAX_ZOOM: u8 = 18;

/// Reads [`MapArea`] from a map request's query string.
pub fn map_area(query: Option<&str>) -> Result<MapArea, AppError> {
    let p = Pairs::parse(query.unwrap_or(""));
    let zoom = match p.get("zoom") {
        None => None,
        Some(v) => Some(v.parse::<u8>().ok().filter(|z| *z <= MAP_MAX_ZOOM).ok_or_else(|| {
            bad("zoom", format!("Zoom invalide : « {v} ». Indiquez un nombre entier entre 0 et {MAP_MAX_ZOOM}."))
        })?),
    };
    let bbox = match p.get("bbox") {
        None => None,
        Some(v) => {
            let invalid = || {
                bad(
                    "bbox",
                    format!(
                        "Zone invalide : « {v} ». Indiquez sud,ouest,nord,est en degrés décimaux, par exemple 45.5,4.6,46.0,5.2 (le sud avant le nord, l'ouest avant l'est)."
                    ),
                )
            };
            let n: Vec<f64> =
                v.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| invalid())?;
            let [south, west, north, east] = n[..] else { return Err(invalid()) };
            let lat = -90.0..=90.0;
            let lon = -180.0..=180.0;
            if !(lat.contains(&south) && lat.contains(&north) && lon.contains(&west) && lon.contains(&east))
                || south > north
                || west > east
            {
                return Err(invalid());
            }
            Some(si_store::Bbox { south, west, north, east })
        }
    };
    let rest = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p.0.iter().filter(|(k, _)| k != "zoom" && k != "bbox"))
        .finish();
    Ok(MapArea { zoom, bbox, rest })
}

/// The map's own parameters (documentation of [`map_area`]).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query string; requests are read by forms::map_area")]
pub struct MapAreaQuery {
    /// Zone de la carte : « sud,ouest,nord,est » en degrés décimaux (par exemple 45.5,4.6,46.0,5.2).
    #[param(pattern = r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$", max_length = 120)]
    bbox: Option<String>,
}

/// The clusters' parameters (documentation of [`map_area`]).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents the query string; requests are read by forms::map_area")]
pub struct ClusterQuery {
    /// Niveau de zoom de la carte (0 à 18) : la taille des cellules qui regroupent les événements.
    #[param(minimum = 0, maximum = 18)]
    zoom: u8,
    /// Zone de la carte : « sud,ouest,nord,est » en degrés décimaux (toute la Terre par défaut).
    #[param(pattern = r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$", max_length = 120)]
    bbox: Option<String>,
}

/// A numeric id in the path (`/…/{id}`). Anything else is « not found »: the 404 page, or the API's
/// JSON 404 under `/api/`. One parser for every route that names a record.
pub struct Id(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let raw = axum::extract::Path::<String>::from_request_parts(parts, state).await.ok();
        match raw.and_then(|r| r.0.parse::<i64>().ok()) {
            Some(id) => Ok(Id(id)),
            None if parts.uri.path().starts_with("/api/") => Err(crate::error::AppError::NotFound.into_response()),
            None => Err(crate::pages::PageError(crate::error::AppError::NotFound).into_response()),
        }
    }
}

/// Only paths of this site are followed after login (no open redirect): an absolute path whose
/// second character is not a slash or backslash, made of visible ASCII only. Browsers drop tabs and
/// line breaks from URLs (`/\t/evil.example` is `//evil.example` to them) and treat `\` as `/`, and a
/// control character cannot go in a `Location` header: anything of the kind is ignored.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.len() <= 2_000
                && n.starts_with('/')
                && !n[1..].starts_with(['/', '\\'])
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/espace".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_unknown_values() {
        let p = Pairs::parse("region=84&region=11&audience=scolaires&page=2");
        let f = event_filter(&p, true).unwrap();
        assert_eq!(f.regions, ["84", "11"]);
        assert_eq!(f.page, 2);
        let e = event_filter(&Pairs::parse("region=99"), true).unwrap_err();
        assert!(e.message().contains("« 99 »"));
        assert!(event_filter(&Pairs::parse("page=abc"), true).is_err());
        assert!(event_filter(&Pairs::parse("per_page=101"), true).is_err());
        assert!(event_filter(&Pairs::parse("colour=red"), true).is_err());
        assert!(event_filter(&Pairs::parse("colour=red"), false).is_ok());
        assert!(event_filter(&Pairs::parse("audience=martiens"), true).is_err());
    }

    // Fuzzing by property (cargo-fuzz needs a nightly toolchain this workplace cannot fetch): whatever
    // arrives, the parsers never panic, and what they refuse is a 4xx with a French message.
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        #[test]
        fn any_query_string_is_parsed_or_refused_in_french(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            keys in proptest::collection::vec(proptest::sample::select(FILTER_KEYS), 0..6),
            values in proptest::collection::vec("[\\PC&=%+]{0,30}", 0..6),
        ) {
            let text: String = keys.iter().zip(values.iter()).map(|(k, v)| format!("{k}={v}&")).collect::<String>()
                + &String::from_utf8_lossy(&raw);
            for strict in [true, false] {
                if let Err(e) = event_filter(&Pairs::parse(&text), strict) {
                    proptest::prop_assert!(e.status().is_client_error());
                    proptest::prop_assert!(!e.message().is_empty());
                }
            }
        }

        #[test]
        fn any_event_form_keeps_its_input_and_names_its_errors(
            pairs in proptest::collection::vec((proptest::sample::select(&[
                "title", "summary", "description", "type", "sectors", "audiences", "themes", "format", "venue",
                "address", "postal_code", "commune_code", "online_url", "session_start", "session_end", "free",
                "industry_objective", "accessible", "registration_mode", "capacity", "min_age", "contact_email",
                "contact_phone", "lat", "lon",
            ][..]), "\\PC{0,40}|[0-9T:-]{0,20}|\\u{0}|\\r\\n"), 0..30),
        ) {
            let p = Pairs(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
            let form = EventForm::from_pairs(&p);
            match form.to_data() {
                Ok(mut data) => {
                    data.normalise();
                    for e in data.validate(true) {
                        proptest::prop_assert!(!e.field.is_empty() && !e.message.is_empty());
                    }
                }
                Err(errors) => proptest::prop_assert!(errors.iter().all(|e| !e.message.is_empty())),
            }
        }
    }

    #[test]
    fn the_form_keeps_what_was_typed() {
        let p =
            Pairs::parse("title=Visite&min_age=douze&session_start=2024-11-19T09%3A00&session_end=&audiences=jeunes");
        let form = EventForm::from_pairs(&p);
        assert_eq!(form.min_age, "douze");
        assert_eq!(form.sessions.len(), 1);
        let errors = form.to_data().unwrap_err();
        assert_eq!(errors[0].field, "safety.min_age");
    }
}

/// Field errors of a form, looked up by field name in templates.
#[derive(Debug, Clone, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// The message for a field.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// Whether any error was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds an error.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into() });
    }

    /// `fr-input-group--error` and the like, when a field has an error.
    pub fn class(&self, field: &str, base: &str) -> String {
        if self.get(field).is_some() { format!("{base}--error") } else { String::new() }
    }
}
