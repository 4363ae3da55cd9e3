//! Pages for the public: home, the catalogue of labelled events, an event's page, and the pages every
//! State site carries (accessibility, legal notice, personal data, site map).

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use si_domain::dates::{fr_date, fr_instant};
use si_domain::territory::{Department, Region, territory};
use si_domain::{Audience, Edition, EventType, Format, Moderation, Sector};
use si_store::EventFilter;

use crate::AppState;
use crate::auth::MaybeUser;
use crate::error::AppError;
use crate::forms::Id;
use crate::forms::{Pairs, event_filter};
use crate::pages::{Page, PageResult, render, render_status};
use crate::views::{EventView, event_view};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/evenements", get(catalogue))
        .route("/evenements/{id}", get(event_page))
        .route("/evenements/{id}/apercu", get(event_preview))
        .route("/carte", get(map_page))
        .route("/accessibilite", get(|u: MaybeUser| info(u, Info::Accessibility)))
        .route("/mentions-legales", get(|u: MaybeUser| info(u, Info::Legal)))
        .route("/donnees-personnelles", get(|u: MaybeUser| info(u, Info::Privacy)))
        .route("/plan-du-site", get(|u: MaybeUser| info(u, Info::SiteMap)))
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    page: Page,
    edition: Option<Edition>,
    open: Option<Edition>,
    labelled: u64,
}

impl Home {
    fn week(&self, e: &Edition) -> String {
        e.week_label()
    }
    fn deadline(&self, e: &Edition) -> String {
        fr_instant(e.deadline)
    }
}

async fn home(State(state): State<AppState>, user: MaybeUser) -> PageResult {
    let edition = crate::app::public_edition(&state.store).await?;
    let labelled = match &edition {
        Some(e) => state.store.count_labelled(e.year).await?,
        None => 0,
    };
    let open = crate::app::open_edition(&state.store, state.clock.now()).await?;
    let page = Page::new("Accueil", user.user, "accueil").canonical(&state.config.public_url, "/");
    Ok(render(&Home { page, edition, open, labelled }))
}

impl FilterForm {
    fn has(list: &[String], code: &str) -> bool {
        list.iter().any(|c| c == code)
    }
    fn region(&self, code: &str) -> bool {
        Self::has(&self.regions, code)
    }
    fn department(&self, code: &str) -> bool {
        Self::has(&self.departments, code)
    }
    fn audience(&self, code: &str) -> bool {
        Self::has(&self.audiences, code)
    }
    fn event_type(&self, code: &str) -> bool {
        Self::has(&self.types, code)
    }
    fn sector(&self, code: &str) -> bool {
        Self::has(&self.sectors, code)
    }
    fn format(&self, code: &str) -> bool {
        Self::has(&self.formats, code)
    }
}

/// The catalogue's filter form and its options.
pub(crate) struct FilterForm {
    pub editions: Vec<Edition>,
    pub edition: i32,
    pub q: String,
    pub regions: Vec<String>,
    pub departments: Vec<String>,
    pub audiences: Vec<String>,
    pub types: Vec<String>,
    pub sectors: Vec<String>,
    pub formats: Vec<String>,
    pub near: String,
    pub radius: String,
    pub places: String,
}

#[derive(Template)]
#[template(path = "events.html")]
struct Catalogue {
    page: Page,
    form: FilterForm,
    error: Option<String>,
    total: u64,
    items: Vec<EventView>,
    page_no: u32,
    pages: u32,
    query_without_page: String,
    all_regions: &'static [Region],
    all_departments: &'static [Department],
    /// The map view (`/carte`) rather than the list (`/evenements`).
    map: bool,
    tile_url: String,
    facets: std::sync::Arc<si_store::Facets>,
    removals: Vec<(String, String)>,
    /// The same search in the last edition that answers it, when the one shown has few results.
    fallback: Option<Fallback>,
}

/// The first results of the same search in an earlier edition, and the link to all of them.
struct Fallback {
    edition: i32,
    total: u64,
    items: Vec<EventView>,
    href: String,
}

/// Fewer results than this in the edition shown by default, and the last edition's are offered too:
/// between the opening of labelling and the week, the current edition has few labelled events.
const FEW_RESULTS: u64 = 5;

/// « Région : Bretagne », as a person reads an active filter.
fn filter_label(key: &str, value: &str) -> String {
    let t = territory();
    match key {
        "q" => format!("Recherche : {value}"),
        "region" => format!("Région : {}", t.region_name(value)),
        "department" => format!("Département : {}", t.department_name(value)),
        "audience" => format!("Public : {}", Audience::parse(value).map(|a| a.label()).unwrap_or(value)),
        "type" => format!("Type : {}", EventType::parse(value).map(|a| a.label()).unwrap_or(value)),
        "sector" => format!("Secteur : {}", Sector::parse(value).map(|a| a.label()).unwrap_or(value)),
        "format" => format!("Format : {}", Format::parse(value).map(|a| a.label()).unwrap_or(value)),
        "near" => format!("Autour de {value}"),
        other => format!("{other} : {value}"),
    }
}

impl Catalogue {
    fn count(&self, dimension: &str, value: &str) -> u64 {
        self.facets.count(dimension, value)
    }
    fn removal_href(&self, query: &str) -> String {
        if query.is_empty() { self.base().to_string() } else { format!("{}?{query}", self.base()) }
    }
    fn base(&self) -> &'static str {
        if self.map { "/carte" } else { "/evenements" }
    }
    /// The map data of the same search, for the edition shown (the default one when none is chosen).
    fn map_data_url(&self) -> String {
        format!("/api/v1/map?{}", self.map_query())
    }
    fn map_clusters_url(&self) -> String {
        format!("/api/v1/map/clusters?{}", self.map_query())
    }
    fn map_query(&self) -> String {
        let pairs = Pairs::parse(&self.query_without_page);
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.extend_pairs(pairs.0.iter().filter(|(k, _)| !matches!(k.as_str(), "edition" | "per_page")));
        q.append_pair("edition", &self.form.edition.to_string());
        q.finish()
    }
    fn other_view(&self) -> String {
        let target = if self.map { "/evenements" } else { "/carte" };
        if self.query_without_page.is_empty() { target.into() } else { format!("{target}?{}", self.query_without_page) }
    }
    fn audiences(&self) -> &'static [Audience] {
        Audience::ALL
    }
    fn types(&self) -> &'static [EventType] {
        EventType::ALL
    }
    fn sectors(&self) -> &'static [Sector] {
        Sector::ALL
    }
    fn formats(&self) -> &'static [Format] {
        Format::ALL
    }
    fn type_label(&self, code: &Option<String>) -> &'static str {
        code.as_deref().and_then(EventType::parse).map(|t| t.label()).unwrap_or("Événement")
    }
    fn audience_label(&self, code: &str) -> &'static str {
        Audience::parse(code).map(|a| a.label()).unwrap_or("")
    }
    fn place(&self, e: &EventView) -> String {
        match (&e.location.commune, &e.location.department) {
            (Some(c), Some(d)) => format!("{c} ({d})"),
            _ => "En ligne".into(),
        }
    }
    /// « 12,6 km ».
    fn km(&self, d: &f64) -> String {
        crate::views::km(*d)
    }
    /// The badge of a labelled event that does not take place as planned.
    fn status_badge(&self, e: &EventView) -> Option<(&'static str, &'static str)> {
        crate::views::status_badge(&e.public_status)
    }
    fn when(&self, e: &EventView) -> String {
        e.sessions.first().map(|s| s.label.clone()).unwrap_or_default()
    }
    /// What booking a session offers, for events booked on the platform: the best session for a
    /// group searched with `places`, else the first with seats, else the first.
    fn booking(&self, e: &EventView) -> String {
        let want: u32 = self.form.places.parse().unwrap_or(1);
        let open = e.sessions.iter().filter(|s| s.booking.as_deref() == Some("open"));
        let best = open.clone().find(|s| s.seats_left.unwrap_or(0) >= want).or_else(|| open.clone().next());
        best.or_else(|| e.sessions.first())
            .filter(|s| s.booking.is_some())
            .map(|s| {
                if e.sessions.len() > 1 && s.booking.as_deref() == Some("open") {
                    format!("Réservation : {} ({})", s.booking_label, s.label)
                } else {
                    format!("Réservation : {}", s.booking_label)
                }
            })
            .unwrap_or_default()
    }
    fn page_href(&self, n: impl std::borrow::Borrow<u32>) -> String {
        let n = *n.borrow();
        if self.query_without_page.is_empty() {
            format!("{}?page={n}", self.base())
        } else {
            format!("{}?{}&page={n}", self.base(), self.query_without_page)
        }
    }
}

async fn catalogue(State(state): State<AppState>, user: MaybeUser, RawQuery(query): RawQuery) -> PageResult {
    catalogue_page(state, user, query, false).await
}

async fn map_page(State(state): State<AppState>, user: MaybeUser, RawQuery(query): RawQuery) -> PageResult {
    catalogue_page(state, user, query, true).await
}

/// The catalogue as a list or as a map with the same list beside it: same filters, same events.
async fn catalogue_page(state: AppState, user: MaybeUser, query: Option<String>, map: bool) -> PageResult {
    let pairs = Pairs::parse(query.as_deref().unwrap_or(""));
    let editions = state.store.editions().await?;
    let default_edition = crate::app::public_edition(&state.store).await?.map(|e| e.year).unwrap_or(2024);
    let (filter, error) = match event_filter(&pairs, false) {
        Ok(f) => (f, None),
        Err(e) => (EventFilter { page: 1, per_page: 20, ..Default::default() }, Some(e.message())),
    };
    let mut filter = filter;
    let edition = filter.edition.unwrap_or(default_edition);
    let error = if error.is_none() && !editions.iter().any(|e| e.year == edition) {
        Some(format!("L'édition {edition} n'existe pas."))
    } else {
        error
    };
    filter.edition = Some(edition);
    let (total, records) =
        if error.is_none() { state.catalogue.search(&state.store, &filter).await? } else { (0, Vec::new()) };
    let mut items = crate::views::result_views(&records, filter.near, &state.config.public_url);
    crate::app::bookings::fill_page_offers(&state.deps(), &mut items, &records);
    let facet_key = crate::cache::normalised_query(Some(
        &form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.0.iter().filter(|(k, v)| k != "page" && !v.is_empty()))
            .append_pair("edition", &edition.to_string())
            .finish(),
    ));
    let facets = if error.is_none() {
        crate::cache::cached_facets(&state.caches, &state.store, &filter, &facet_key).await?
    } else {
        std::sync::Arc::default()
    };
    // Each active filter, and the same search without it: what to remove when nothing matches.
    let removals: Vec<(String, String)> = pairs
        .0
        .iter()
        .enumerate()
        .filter(|(_, (k, v))| !v.is_empty() && !matches!(k.as_str(), "page" | "edition" | "radius_km"))
        .map(|(i, (k, v))| {
            let rest: Vec<(String, String)> = pairs
                .0
                .iter()
                .enumerate()
                .filter(|(j, (k2, v2))| {
                    *j != i && !v2.is_empty() && k2 != "page" && !(k == "near" && k2 == "radius_km")
                })
                .map(|(_, p)| p.clone())
                .collect();
            let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
            (filter_label(k, v), q)
        })
        .collect();
    // A search never dead-ends on an edition still being labelled: when the edition shown by
    // default has few results, the same search in the last edition that answers it is offered.
    let mut fallback = None;
    if error.is_none() && total < FEW_RESULTS && pairs.get("edition").is_none() {
        for other in editions.iter().filter(|e| e.year < edition) {
            let f = EventFilter { edition: Some(other.year), page: 1, per_page: 5, ..filter.clone() };
            let (n, records) = state.catalogue.search(&state.store, &f).await?;
            if n > 0 {
                let mut items = crate::views::result_views(&records, f.near, &state.config.public_url);
                crate::app::bookings::fill_page_offers(&state.deps(), &mut items, &records);
                let base = if map { "/carte?" } else { "/evenements?" };
                let href = form_urlencoded::Serializer::for_suffix(String::from(base), base.len())
                    .extend_pairs(pairs.0.iter().filter(|(k, v)| k != "page" && !v.is_empty()))
                    .append_pair("edition", &other.year.to_string())
                    .finish();
                fallback = Some(Fallback { edition: other.year, total: n, items, href });
                break;
            }
        }
    }
    let pages = (total.div_ceil(u64::from(filter.per_page)) as u32).max(1);
    let query_without_page = pairs
        .0
        .iter()
        .filter(|(k, v)| k != "page" && !v.is_empty())
        .map(|(k, v)| format!("{}={}", crate::forms::urlencode(k), crate::forms::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let form = FilterForm {
        editions,
        edition,
        q: filter.q.clone().unwrap_or_default(),
        regions: pairs.all("region"),
        departments: pairs.all("department"),
        audiences: pairs.all("audience"),
        types: pairs.all("type"),
        sectors: pairs.all("sector"),
        formats: pairs.all("format"),
        near: pairs.get("near").unwrap_or("").to_string(),
        radius: pairs.get("radius_km").unwrap_or("").to_string(),
        places: pairs.get("places").unwrap_or("").to_string(),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let t = territory();
    Ok(render_status(
        status,
        &Catalogue {
            page: {
                let (title, nav, path) = if map {
                    ("Carte des événements", "carte", "/carte")
                } else {
                    ("Trouver un événement", "evenements", "/evenements")
                };
                let page = Page::new(title, user.user, nav)
                    .crumb("/", "Accueil")
                    .describe("Visites d'entreprises, ateliers, forums des métiers, job datings : tous les événements labellisés de la Semaine de l'industrie, près de chez vous.");
                // A filtered list is a view of the one catalogue, not a page of its own.
                if pairs.0.is_empty() { page.canonical(&state.config.public_url, path) } else { page }
            },
            form,
            error,
            total,
            items,
            page_no: filter.page,
            pages,
            query_without_page,
            all_regions: t.regions(),
            all_departments: t.departments(),
            map,
            tile_url: state.config.tile_url.clone(),
            facets,
            removals,
            fallback,
        },
    ))
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    page: Page,
    /// For the link previews' absolute addresses.
    public_url: String,
    e: EventView,
    published: bool,
    region_name: String,
    department_name: String,
    edition: Option<Edition>,
    json_ld: String,
    safety: Vec<String>,
}

impl EventPage {
    fn type_label(&self) -> &'static str {
        self.e.event_type.as_deref().and_then(EventType::parse).map(|t| t.label()).unwrap_or("Événement")
    }
    fn audience_label(&self, code: &str) -> &'static str {
        Audience::parse(code).map(|a| a.label()).unwrap_or("")
    }
    fn sector_label(&self, code: &str) -> &'static str {
        Sector::parse(code).map(|a| a.label()).unwrap_or("")
    }
    fn format_label(&self) -> &'static str {
        self.e.format.as_deref().and_then(Format::parse).map(|t| t.label()).unwrap_or("")
    }
    fn status_label(&self) -> &'static str {
        si_domain::PublicStatus::parse(&self.e.public_status).map(|s| s.label()).unwrap_or("")
    }
    fn edition_label(&self) -> String {
        self.edition
            .as_ref()
            .map(|e| format!("Semaine de l'industrie {} ({})", e.year, e.week_label()))
            .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "event_preview.html")]
struct EventPreview {
    e: EventView,
    audiences: String,
}

/// A labelled event's map popup: status, date, place and audiences (the map data carries only id,
/// place and title, to stay small). Public events only.
async fn event_preview(State(state): State<AppState>, Id(id): Id) -> PageResult {
    let record =
        state.store.event(id).await?.filter(|r| r.moderation == Moderation::Labelled).ok_or(AppError::NotFound)?;
    let e = event_view(&record, &state.config.public_url);
    let audiences =
        e.audiences.iter().filter_map(|a| Audience::parse(a)).map(|a| a.label()).collect::<Vec<_>>().join(", ");
    let mut resp = render(&EventPreview { e, audiences });
    resp.headers_mut()
        .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("public, max-age=60"));
    Ok(resp)
}

async fn event_page(State(state): State<AppState>, user: MaybeUser, Id(id): Id) -> PageResult {
    // Visitors who are not logged in all see the same page: served from memory for a minute.
    let anonymous = user.user.is_none();
    let cache_key = id.to_string();
    if anonymous && let Some(html) = state.caches.event_pages.get(&cache_key) {
        return Ok(axum::response::Html(html.as_ref().clone()).into_response());
    }
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    let published = record.moderation == Moderation::Labelled;
    if !published {
        // Only the organisation and its reviewers may preview an event that is not labelled.
        let allowed = user.user.as_ref().is_some_and(|u| {
            u.organisation_id == Some(record.organisation_id) || crate::app::moderation::reviewable(u, &record)
        });
        if !allowed {
            return Err(AppError::NotFound.into());
        }
    }
    let (region_name, department_name) = crate::views::place_names(&record);
    let edition = state.store.edition(record.edition).await?;
    let mut e = event_view(&record, &state.config.public_url);
    let seats = state.store.session_seats(&[id]).await?;
    crate::app::bookings::fill_offers(&mut e, &record, &seats, state.clock.now());
    let safety = crate::views::safety_lines(&record.data.safety);
    let json_ld =
        if published { crate::exports::json_ld(&e, edition.as_ref(), &state.config.public_url) } else { String::new() };
    let page = EventPage {
        page: Page::new(e.title.clone(), user.user, "evenements")
            .crumb("/", "Accueil")
            .crumb("/evenements", "Trouver un événement")
            .describe(&e.summary)
            .canonical(&state.config.public_url, &format!("/evenements/{id}")),
        public_url: state.config.public_url.trim_end_matches('/').to_string(),
        e,
        published,
        region_name,
        department_name,
        edition,
        json_ld,
        safety,
    };
    if anonymous && published {
        let html = bytes::Bytes::from(page.render().map_err(|e| AppError::Internal(e.into()))?);
        state.caches.event_pages.put(cache_key, std::sync::Arc::new(html.clone()));
        return Ok(axum::response::Html(html).into_response());
    }
    Ok(render(&page))
}

#[derive(Clone, Copy, PartialEq)]
enum Info {
    Accessibility,
    Legal,
    Privacy,
    SiteMap,
}

#[derive(Template)]
#[template(path = "info.html")]
struct InfoPage {
    page: Page,
    which: Info,
    statement_date: String,
    contact: &'static str,
}

/// The day the accessibility statement was established (RGAA: the date of the assessment it rests
/// on, not the day it is read). To change with each audit.
const ACCESSIBILITY_STATEMENT_DATE: (i32, u32, u32) = (2026, 12, 6);

async fn info(user: MaybeUser, which: Info) -> PageResult {
    let title = match which {
        Info::Accessibility => "Déclaration d'accessibilité",
        Info::Legal => "Mentions légales",
        Info::Privacy => "Données personnelles",
        Info::SiteMap => "Plan du site",
    };
    let (y, m, d) = ACCESSIBILITY_STATEMENT_DATE;
    let statement_date = chrono::NaiveDate::from_ymd_opt(y, m, d).map(fr_date).unwrap_or_default();
    Ok(render(&InfoPage {
        page: Page::new(title, user.user, "").crumb("/", "Accueil"),
        which,
        statement_date,
        contact: crate::contact_email(),
    }))
}
