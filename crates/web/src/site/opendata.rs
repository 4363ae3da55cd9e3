//! Open data and re-use: the page that documents exports and the API for data.gouv.fr and partners,
//! the widget partners embed in an iframe, and its configurator.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use si_domain::territory::{Department, Region, territory};
use si_domain::{Audience, Edition, EventType};

use crate::AppState;
use crate::auth::MaybeUser;
use crate::forms::{Pairs, event_filter};
use crate::pages::{Page, PageResult, render};
use crate::views::{EventView, result_views};

pub fn router() -> Router<AppState> {
    Router::new().route("/donnees", get(open_data)).route("/widget", get(widget))
}

/// Keys a widget accepts, passed on to the catalogue filters.
const WIDGET_KEYS: &[&str] = &[
    "edition",
    "region",
    "department",
    "organisation",
    "audience",
    "type",
    "sector",
    "theme",
    "q",
    "near",
    "radius_km",
    "per_page",
];

fn widget_query(p: &Pairs) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p.0.iter().filter(|(k, v)| WIDGET_KEYS.contains(&k.as_str()) && !v.trim().is_empty()))
        .finish()
}

#[derive(Template)]
#[template(path = "open_data.html")]
struct OpenData {
    page: Page,
    editions: Vec<Edition>,
    snippet: Option<String>,
    preview: Option<String>,
    values: Pairs,
    regions: &'static [Region],
    departments: &'static [Department],
}

impl OpenData {
    fn audiences(&self) -> &'static [Audience] {
        Audience::ALL
    }
    fn types(&self) -> &'static [EventType] {
        EventType::ALL
    }
    fn value(&self, key: &str) -> String {
        self.values.raw(key)
    }
}

async fn open_data(State(state): State<AppState>, user: MaybeUser, RawQuery(q): RawQuery) -> PageResult {
    let p = Pairs::parse(q.as_deref().unwrap_or(""));
    let query = widget_query(&p);
    let base = state.config.public_url.trim_end_matches('/').to_string();
    let (snippet, preview) = if p.get("widget").is_some() {
        let src = if query.is_empty() { format!("{base}/widget") } else { format!("{base}/widget?{query}") };
        let local = if query.is_empty() { "/widget".to_string() } else { format!("/widget?{query}") };
        (
            Some(format!(
                "<iframe src=\"{src}\" title=\"Événements de la Semaine de l'industrie\" width=\"100%\" height=\"600\" style=\"border: 0\" loading=\"lazy\"></iframe>"
            )),
            Some(local),
        )
    } else {
        (None, None)
    };
    let t = territory();
    Ok(render(&OpenData {
        page: Page::new("Données ouvertes et réutilisation", user.user, "").crumb("/", "Accueil"),
        editions: state.store.editions().await?,
        snippet,
        preview,
        values: p,
        regions: t.regions(),
        departments: t.departments(),
    }))
}

#[derive(Template)]
#[template(path = "widget.html")]
struct Widget {
    title: String,
    total: u64,
    items: Vec<EventView>,
    more: String,
    error: Option<String>,
}

async fn widget(State(state): State<AppState>, RawQuery(q): RawQuery) -> PageResult {
    let p = Pairs::parse(q.as_deref().unwrap_or(""));
    let query = widget_query(&p);
    let mut filter = match event_filter(&Pairs::parse(&query), false) {
        Ok(f) => f,
        Err(e) => {
            return Ok(render(&Widget {
                title: "Semaine de l'industrie".into(),
                total: 0,
                items: vec![],
                more: "/evenements".into(),
                error: Some(e.message()),
            }));
        }
    };
    if filter.edition.is_none() {
        filter.edition = crate::app::public_edition(&state.store).await?.map(|e| e.year);
    }
    filter.per_page = p.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(10).clamp(1, 50);
    let (total, records) = state.catalogue.search(&state.store, &filter).await?;
    let base = state.config.public_url.trim_end_matches('/');
    let title = match (filter.regions.first(), filter.departments.first()) {
        (_, Some(d)) => format!(
            "Semaine de l'industrie {} – {}",
            filter.edition.unwrap_or_default(),
            territory().department_name(d)
        ),
        (Some(r), None) => {
            format!("Semaine de l'industrie {} – {}", filter.edition.unwrap_or_default(), territory().region_name(r))
        }
        _ => format!("Semaine de l'industrie {}", filter.edition.unwrap_or_default()),
    };
    Ok(render(&Widget {
        title,
        total,
        items: result_views(&records, filter.near, base),
        more: if query.is_empty() { format!("{base}/evenements") } else { format!("{base}/evenements?{query}") },
        error: None,
    }))
}
