//! National statistics: labelled events per region, department, type, audience, sector and theme tag,
//! and submissions per day compared with the previous edition; as accessible charts with their data
//! tables, and as CSV.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use si_domain::territory::territory;
use si_domain::{Audience, Edition, EventType, Sector, Theme};
use si_store::EventFilter;

use crate::AppState;
use crate::auth::MaybeUser;
use crate::charts;
use crate::error::AppError;
use crate::forms::Pairs;
use crate::pages::{Page, PageResult, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/statistiques", get(page))
}

/// Days before the deadline shown on the submissions chart.
const DAYS: i64 = 60;

/// One breakdown: a title, its rows (label, code, count), and its chart.
pub struct Breakdown {
    id: &'static str,
    title: &'static str,
    rows: Vec<(String, String, u64)>,
    chart: String,
}

/// Participation of one region (or the nation): seats booked, reported attendance, answers.
pub struct Participation {
    label: String,
    code: String,
    events: u64,
    reported: u64,
    booked: u64,
    participants: u64,
    girls: u64,
    classes: u64,
    /// Answers to the questionnaire, shown only from `FEEDBACK_MIN`.
    answers: u64,
    before: f64,
    after: f64,
    yes: u64,
}

impl Participation {
    /// « 46,8 % », or a dash without participants.
    pub fn girls_share(&self) -> String {
        if self.participants == 0 {
            "–".into()
        } else {
            format!("{:.1} %", 100.0 * self.girls as f64 / self.participants as f64).replace('.', ",")
        }
    }
    /// The answers' means before → after, or why they are not shown.
    pub fn opinion(&self) -> String {
        if self.answers < si_domain::booking::FEEDBACK_MIN {
            "moins de 5 réponses".into()
        } else {
            format!("{:.1} → {:.1} sur 5 ({} réponses)", self.before, self.after, self.answers).replace('.', ",")
        }
    }
    /// The share answering « oui » to a job in industry.
    pub fn career(&self) -> String {
        if self.answers < si_domain::booking::FEEDBACK_MIN {
            "–".into()
        } else {
            format!("{:.0} %", 100.0 * self.yes as f64 / self.answers as f64)
        }
    }
}

/// Seats booked, reported participation (girls' share) and answers per region, and the nation.
async fn participation(state: &AppState, year: i32) -> Result<Vec<Participation>, AppError> {
    let t = territory();
    let reports = state.store.attendance_by_region(year).await?;
    let answers = state.store.feedback_by_region(year).await?;
    let mut regions: Vec<Option<String>> = reports.iter().map(|r| r.region.clone()).collect();
    regions.extend(answers.iter().map(|(r, _)| r.clone()));
    regions.sort();
    regions.dedup();
    let mut out: Vec<Participation> = regions
        .iter()
        .map(|region| {
            let r = reports.iter().find(|r| &r.region == region).cloned().unwrap_or_default();
            let f = answers.iter().find(|(x, _)| x == region).map(|(_, f)| *f).unwrap_or_default();
            Participation {
                label: region.as_deref().map(|c| t.region_name(c)).unwrap_or_else(|| "En ligne".into()),
                code: region.clone().unwrap_or_default(),
                events: r.events,
                reported: r.reported,
                booked: r.booked,
                participants: r.participants,
                girls: r.girls,
                classes: r.classes,
                answers: f.answers,
                before: f.before,
                after: f.after,
                yes: f.yes,
            }
        })
        .collect();
    let n = |f: fn(&Participation) -> u64| out.iter().map(f).sum::<u64>();
    let answers_total = n(|p| p.answers);
    let weighted = |f: fn(&Participation) -> f64| {
        if answers_total == 0 {
            0.0
        } else {
            out.iter().map(|p| f(p) * p.answers as f64).sum::<f64>() / answers_total as f64
        }
    };
    let nation = Participation {
        label: "France entière".into(),
        code: "national".into(),
        events: n(|p| p.events),
        reported: n(|p| p.reported),
        booked: n(|p| p.booked),
        participants: n(|p| p.participants),
        girls: n(|p| p.girls),
        classes: n(|p| p.classes),
        answers: answers_total,
        before: weighted(|p| p.before),
        after: weighted(|p| p.after),
        yes: n(|p| p.yes),
    };
    out.push(nation);
    Ok(out)
}

struct Stats {
    edition: Edition,
    participation: Vec<Participation>,
    previous: Option<Edition>,
    total: u64,
    breakdowns: Vec<Breakdown>,
    /// (days before the deadline, this edition — none for a day still to come —, previous edition)
    per_day: Vec<(i64, Option<u64>, Option<u64>)>,
}

fn label_of(dimension: &str, code: &str) -> String {
    let t = territory();
    match dimension {
        "region" => t.region_name(code),
        "department" => format!("{} ({code})", t.department_name(code)),
        "type" => EventType::parse(code).map(|x| x.label().to_string()).unwrap_or_else(|| code.into()),
        "audience" => Audience::parse(code).map(|x| x.label().to_string()).unwrap_or_else(|| code.into()),
        "sector" => Sector::parse(code).map(|x| x.label().to_string()).unwrap_or_else(|| code.into()),
        "theme" => Theme::parse(code).map(|x| x.label().to_string()).unwrap_or_else(|| code.into()),
        _ => code.into(),
    }
}

/// Submissions per day over the last `DAYS` days before the deadline; a day after today has none yet
/// (`None`), which is not the same as a day without any (`Some(0)`).
async fn per_day(state: &AppState, e: &Edition) -> Result<Vec<Option<u64>>, AppError> {
    let deadline_day = e.deadline.with_timezone(&si_domain::dates::PARIS).date_naive();
    let today = state.clock.now().with_timezone(&si_domain::dates::PARIS).date_naive();
    let mut counts: Vec<Option<u64>> =
        (0..=DAYS).map(|i| (deadline_day - chrono::Duration::days(DAYS - i) <= today).then_some(0)).collect();
    for t in state.store.submission_times(e.year).await? {
        let day = t.with_timezone(&si_domain::dates::PARIS).date_naive();
        let before = (deadline_day - day).num_days();
        if (0..=DAYS).contains(&before)
            && let Some(n) = counts[(DAYS - before) as usize].as_mut()
        {
            *n += 1;
        }
    }
    Ok(counts)
}

async fn compute(state: &AppState, q: Option<&str>) -> Result<Stats, AppError> {
    let p = Pairs::parse(q.unwrap_or(""));
    let editions = state.store.editions().await?;
    let edition = match p.get("edition") {
        Some(y) => {
            let year: i32 =
                y.parse().map_err(|_| AppError::invalid("edition", format!("Édition invalide : « {y} ».")))?;
            editions
                .iter()
                .find(|e| e.year == year)
                .cloned()
                .ok_or_else(|| AppError::invalid("edition", format!("L'édition {year} n'existe pas.")))?
        }
        None => crate::app::public_edition(&state.store).await?.ok_or(AppError::NotFound)?,
    };
    let previous = editions.iter().filter(|e| e.year < edition.year).max_by_key(|e| e.year).cloned();
    let filter = EventFilter { edition: Some(edition.year), page: 1, per_page: 1, ..Default::default() };
    let facets =
        crate::cache::cached_facets(&state.caches, &state.store, &filter, &format!("stats:{}", edition.year)).await?;
    let total = state.store.count_labelled(edition.year).await?;
    let specs: [(&str, &str, &str); 6] = [
        ("region", "region", "Par région"),
        ("type", "type", "Par type d'événement"),
        ("audience", "audience", "Par public cible"),
        ("sector", "sector", "Par secteur"),
        ("theme", "theme", "Par thématique"),
        ("department", "department", "Par département"),
    ];
    let breakdowns = specs
        .iter()
        .map(|(id, dim, title)| {
            let mut rows: Vec<(String, String, u64)> = facets
                .0
                .get(*dim)
                .map(|m| m.iter().map(|(code, n)| (label_of(dim, code), code.clone(), *n)).collect())
                .unwrap_or_default();
            rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
            let chart_rows: Vec<(String, u64)> = rows.iter().take(20).map(|(l, _, n)| (l.clone(), *n)).collect();
            let chart = charts::bars(
                &format!("Événements labellisés {} : {}", title.to_lowercase(), edition.year),
                &chart_rows,
            );
            Breakdown { id, title, rows, chart }
        })
        .collect();
    let this = per_day(state, &edition).await?;
    let prev = match &previous {
        Some(e) => Some(per_day(state, e).await?),
        None => None,
    };
    let per_day = (0..=DAYS as usize).map(|i| (DAYS - i as i64, this[i], prev.as_ref().and_then(|p| p[i]))).collect();
    let participation = participation(state, edition.year).await?;
    Ok(Stats { edition, participation, previous, total, breakdowns, per_day })
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    page: Page,
    s: Stats,
    editions: Vec<Edition>,
    per_day_chart: String,
}

async fn page(State(state): State<AppState>, user: MaybeUser, RawQuery(q): RawQuery) -> PageResult {
    let s = compute(&state, q.as_deref()).await?;
    let mut series = vec![(format!("Édition {}", s.edition.year), s.per_day.iter().map(|d| d.1).collect::<Vec<_>>())];
    if let Some(prev) = &s.previous {
        series.push((format!("Édition {}", prev.year), s.per_day.iter().map(|d| d.2).collect()));
    }
    let per_day_chart =
        charts::lines("Dépôts par jour avant la date limite, comparés à l'édition précédente", DAYS, &series);
    Ok(render(&StatsPage {
        page: Page::new(format!("Statistiques {}", s.edition.year), user.user, "").crumb("/", "Accueil"),
        editions: state.store.editions().await?,
        s,
        per_day_chart,
    }))
}

/// National statistics of an edition as CSV: breakdowns and submissions per day (with the previous edition).
#[utoipa::path(get, path = "/statistiques.csv", tag = "public",
    params(("edition" = Option<i32>, Query, description = "Année de l'édition (la plus récente ayant des événements labellisés par défaut)", minimum = 2000, maximum = 2100)),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 422, description = "Donnée invalide (le champ est nommé)", body = crate::error::ErrorBody)))]
pub async fn csv(State(state): State<AppState>, RawQuery(q): RawQuery) -> Result<Response, AppError> {
    let s = compute(&state, q.as_deref()).await?;
    let mut w = crate::exports::csv_writer();
    let _ = w.write_record(["edition", "indicateur", "code", "libelle", "valeur"]);
    let year = s.edition.year.to_string();
    let _ = w.write_record([year.as_str(), "total", "", "Événements labellisés", &s.total.to_string()]);
    for b in &s.breakdowns {
        for (label, code, n) in &b.rows {
            let _ = w.write_record([year.as_str(), b.id, code.as_str(), label.as_str(), &n.to_string()]);
        }
    }
    for (before, this, prev) in &s.per_day {
        // A day still to come has no figure yet: no line, rather than a zero.
        if let Some(this) = this {
            let _ = w.write_record([
                year.as_str(),
                "depots_par_jour",
                &format!("J-{before}"),
                "Dépôts ce jour-là",
                &this.to_string(),
            ]);
        }
        if let (Some(p), Some(prev_edition)) = (prev, &s.previous) {
            let _ = w.write_record([
                prev_edition.year.to_string().as_str(),
                "depots_par_jour",
                &format!("J-{before}"),
                "Dépôts ce jour-là",
                &p.to_string(),
            ]);
        }
    }
    for p in &s.participation {
        for (what, label, value) in [
            ("places_reservees", "Places réservées sur la plateforme", p.booked),
            ("participants_declares", "Participants déclarés", p.participants),
            ("dont_filles_femmes", "Dont filles et femmes", p.girls),
            ("classes_accueillies", "Classes accueillies", p.classes),
            ("bilans_recus", "Bilans reçus", p.reported),
        ] {
            let _ = w.write_record([
                year.as_str(),
                what,
                p.code.as_str(),
                &format!("{} – {label}", p.label),
                &value.to_string(),
            ]);
        }
    }
    let body = w.into_inner().unwrap_or_default();
    let mut resp = body.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"statistiques-{year}.csv\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
