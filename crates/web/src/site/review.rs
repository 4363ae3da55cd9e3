//! Review (« instruction »): the queue of what a reviewer may decide (counts per state, filters,
//! due dates, overdue, backlog per region, duplicates), an event's checks and history, decisions one
//! by one or many clean ones at once, changes to labelled events, and label withdrawal. The decision
//! rules and the queue live in `crate::app` (`moderation::decide`, `queue::queue_of`), shared with the API.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::Utc;
use si_domain::dates::fr_instant;
use si_domain::review::due_at;
use si_domain::text::IndustrySignal;
use si_domain::{Audience, EventData, EventType, Moderation};
use si_store::{AuditEntry, Decision, EventBrief, EventRecord, QueueItem, ReasonTemplate, User};

use crate::AppState;
use crate::app::moderation::{decide, parse_decision, reviewable};
use crate::app::queue::{Backlog, QueueEntry, QueueFilter, possible_duplicates, queue_of};
use crate::auth::{ReviewerPage, review_scope};
use crate::error::AppError;
use crate::forms::Id;
use crate::forms::{Form, Pairs};
use crate::pages::{Page, PageResult, render, render_status};
use crate::views::{ConditionView, EventView, conditions_of, event_view, place_names};
use si_domain::lifecycle::ReviewScope;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/instruction", get(queue))
        .route("/instruction/export.csv", get(queue_csv))
        .route("/instruction/labelliser", post(bulk_label))
        .route("/instruction/evenements/{id}", get(detail))
        .route("/instruction/evenements/{id}/decision", post(decision_form))
        .route("/instruction/evenements/{id}/retrait-label", post(revoke_form))
}

struct QueueRow {
    id: i64,
    title: String,
    organisation: String,
    region: String,
    department: String,
    submitted: String,
    due: String,
    overdue: bool,
    weak_signal: bool,
    duplicates: usize,
    change: bool,
    /// The version listed, sent back with a bulk selection.
    version: i64,
}

impl QueueRow {
    fn clean(&self) -> bool {
        !self.weak_signal && self.duplicates == 0 && !self.change
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct Queue {
    page: Page,
    scope: String,
    national: bool,
    filter: QueueFilter,
    total_waiting: usize,
    total_overdue: usize,
    matching: usize,
    rows: Vec<QueueRow>,
    counts: Vec<(String, u64)>,
    edition: Option<i32>,
    backlog: Vec<Backlog>,
    regions: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    pages: usize,
    outcome: Option<BulkOutcome>,
    /// What the reviewer's last single decision did (« labellisé sous le numéro … »).
    decided: Option<String>,
}

impl Queue {
    fn types(&self) -> &'static [EventType] {
        EventType::ALL
    }
    fn audiences(&self) -> &'static [Audience] {
        Audience::ALL
    }
    fn link(&self, page: &usize) -> String {
        format!("/instruction?{}", self.filter.query(*page))
    }
    fn region_link(&self, code: &str) -> String {
        let f = QueueFilter { region: code.to_string(), page: 1, ..QueueFilter::default() };
        format!("/instruction?{}", f.query(1))
    }
    fn page_numbers(&self) -> Vec<usize> {
        (1..=self.pages).collect()
    }
}

/// The labelling edition: the one open now, else the latest.
async fn current_edition(state: &AppState) -> Result<Option<i32>, AppError> {
    let now = state.clock.now();
    let editions = state.store.editions().await?;
    Ok(editions.iter().find(|e| e.is_open_at(now)).or(editions.first()).map(|e| e.year))
}

const PER_PAGE: usize = 50;

/// The queue as a reviewer sees it on the page: [`queue_of`] in French words.
struct Computed {
    waiting: usize,
    overdue: usize,
    backlog: Vec<Backlog>,
    /// Rows matching the filter, on every page.
    matching: usize,
    /// The page shown (the last one when asked beyond it), 1 for the whole queue.
    page: usize,
    rows: Vec<QueueRow>,
}

/// The queue in French words: one page of [`PER_PAGE`] rows when `paged` (only those are formatted),
/// else every row (the CSV).
async fn compute(state: &AppState, scope: &ReviewScope, f: &QueueFilter, paged: bool) -> Result<Computed, AppError> {
    let now = state.clock.now();
    let queue = queue_of(&state.store, &state.queue, scope, f, now).await?;
    let territory = si_domain::territory::territory();
    let matching = queue.len();
    let (page, skip, take) = if paged {
        let page = f.page.min(matching.div_ceil(PER_PAGE).max(1));
        (page, (page - 1) * PER_PAGE, PER_PAGE)
    } else {
        (1, 0, matching)
    };
    let rows = queue
        .entries(skip, take)
        .map(|QueueEntry { item: i, due, duplicates }| QueueRow {
            id: i.id,
            title: if i.title.is_empty() { "(sans titre)".into() } else { i.title.clone() },
            organisation: i.organisation_name.clone(),
            region: match &i.region {
                Some(r) => territory.region_name(r),
                None => "National (en ligne)".into(),
            },
            department: i.department.as_deref().map(|d| territory.department_name(d)).unwrap_or_default(),
            submitted: fr_instant(i.submitted_at),
            due: fr_instant(due),
            overdue: due < now,
            weak_signal: i.weak_signal,
            duplicates: duplicates.len(),
            change: i.change,
            version: i.version,
        })
        .collect();
    Ok(Computed { waiting: queue.waiting, overdue: queue.overdue, backlog: queue.backlog, matching, page, rows })
}

async fn queue_page(
    state: &AppState,
    u: User,
    filter: QueueFilter,
    outcome: Option<BulkOutcome>,
    decided: Option<String>,
) -> PageResult {
    let scope = review_scope(&u)?;
    let national = scope.is_national();
    let territory = si_domain::territory::territory();
    let computed = compute(state, &scope, &filter, true).await?;
    let (matching, page) = (computed.matching, computed.page);
    let pages = matching.div_ceil(PER_PAGE).max(1);
    let rows = computed.rows;
    let edition = match filter.edition {
        Some(e) => Some(e),
        None => current_edition(state).await?,
    };
    let counts = match edition {
        Some(e) => {
            let mut c = state.store.moderation_counts(e, scope.regions()).await?;
            let order =
                ["submitted", "change_pending", "changes_requested", "labelled", "refused", "draft", "withdrawn"];
            c.sort_by_key(|(s, _)| order.iter().position(|o| o == s).unwrap_or(order.len()));
            c.into_iter()
                .map(|(s, n)| {
                    let label = match s.as_str() {
                        "change_pending" => "Modifications d'événements labellisés".to_string(),
                        other => {
                            Moderation::parse(other).map(|m| m.label().to_string()).unwrap_or_else(|| other.to_string())
                        }
                    };
                    (label, n)
                })
                .collect()
        }
        None => Vec::new(),
    };
    let scope_label = match scope.regions() {
        None => "toutes les régions et la file nationale (événements en ligne)".to_string(),
        Some(r) => r.iter().map(|c| territory.region_name(c)).collect::<Vec<_>>().join(", "),
    };
    let regions: Vec<(String, String)> = match scope.regions() {
        None => territory.regions().iter().map(|r| (r.code.clone(), r.name.clone())).collect(),
        Some(_) => Vec::new(),
    };
    let departments: Vec<(String, String)> = territory
        .departments()
        .iter()
        .filter(|d| scope.covers(Some(&d.region)))
        .map(|d| (d.code.clone(), format!("{} ({})", d.name, d.code)))
        .collect();
    Ok(render(&Queue {
        page: Page::new("Instruction", Some(u), "instruction").crumb("/", "Accueil"),
        scope: scope_label,
        national,
        filter: QueueFilter { page, ..filter },
        total_waiting: computed.waiting,
        total_overdue: computed.overdue,
        matching,
        rows,
        counts,
        edition,
        backlog: computed.backlog,
        regions,
        departments,
        pages,
        outcome,
        decided,
    }))
}

/// The queue with the same filters, every matching row, as CSV for a spreadsheet (scoped like the page).
async fn queue_csv(State(state): State<AppState>, ReviewerPage(u): ReviewerPage, RawQuery(q): RawQuery) -> PageResult {
    let filter = QueueFilter::parse(&Pairs::parse(q.as_deref().unwrap_or("")));
    let scope = review_scope(&u)?;
    let computed = compute(&state, &scope, &filter, false).await?;
    let mut w = crate::exports::csv_writer();
    let cell = crate::exports::cell;
    let csv_error = |e: csv::Error| AppError::Internal(e.into());
    w.write_record([
        "id",
        "titre",
        "organisation",
        "région",
        "département",
        "reçue le",
        "échéance",
        "en retard",
        "alertes",
        "lien",
    ])
    .map_err(csv_error)?;
    for r in &computed.rows {
        let mut alerts = Vec::new();
        if r.weak_signal {
            alerts.push("thème industrie à vérifier");
        }
        if r.duplicates > 0 {
            alerts.push("doublon possible");
        }
        if r.change {
            alerts.push("modification d'un événement labellisé");
        }
        let link = format!("{}/instruction/evenements/{}", state.config.public_url, r.id);
        w.write_record([
            r.id.to_string(),
            cell(&r.title),
            cell(&r.organisation),
            cell(&r.region),
            cell(&r.department),
            r.submitted.clone(),
            r.due.clone(),
            if r.overdue { "oui".into() } else { "non".into() },
            alerts.join(", "),
            link,
        ])
        .map_err(csv_error)?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"instruction.csv\""),
        ],
        bytes,
    )
        .into_response())
}

async fn queue(State(state): State<AppState>, ReviewerPage(u): ReviewerPage, RawQuery(q): RawQuery) -> PageResult {
    let pairs = Pairs::parse(q.as_deref().unwrap_or(""));
    let filter = QueueFilter::parse(&pairs);
    // After a single decision: what it did, said once on the page the reviewer lands on.
    let mut decided = None;
    if let Some(id) = pairs.get("decide").and_then(|v| v.parse::<i64>().ok())
        && let Some(r) = state.store.event(id).await?
        && crate::app::moderation::reviewable(&u, &r)
    {
        decided = Some(match (r.moderation, &r.label_number) {
            (Moderation::Labelled, Some(n)) => format!("« {} » est labellisé sous le numéro {n}.", r.data.title),
            (m, _) => format!(
                "« {} » : {}. L'organisateur en est informé par courriel.",
                r.data.title,
                m.label().to_lowercase()
            ),
        });
    }
    queue_page(&state, u, filter, None, decided).await
}

/// What a bulk labelling did.
struct BulkOutcome {
    labelled: Vec<(i64, String)>,
    refused: Vec<(i64, String)>,
}

/// Labels every selected submission, each checked like a single decision (scope, state, the four
/// conditions at its submission); those that fail are listed with the reason and stay in the queue.
async fn bulk_label(State(state): State<AppState>, ReviewerPage(u): ReviewerPage, Form(p): Form) -> PageResult {
    // Each box carries `id:version`: what is labelled is what the list showed.
    let ids: Vec<(i64, i64)> = p
        .all("id")
        .iter()
        .filter_map(|v| v.split_once(':').and_then(|(id, version)| Some((id.parse().ok()?, version.parse().ok()?))))
        .collect();
    let filter = QueueFilter::parse(&Pairs::parse(&p.raw("filtres")));
    let mut outcome = BulkOutcome { labelled: Vec::new(), refused: Vec::new() };
    if ids.is_empty() {
        outcome.refused.push((0, "Aucune demande sélectionnée : cochez les demandes à labelliser.".into()));
    }
    // One request stays short: beyond this, the rest is said to be untouched rather than dropped silently.
    const AT_ONCE: usize = 500;
    if ids.len() > AT_ONCE {
        let rest = ids.len() - AT_ONCE;
        outcome.refused.push((
            0,
            format!(
                "Au plus {AT_ONCE} demandes à la fois : {rest} n'ont pas été traitées, sélectionnez-les à nouveau."
            ),
        ));
    }
    for (id, version) in ids.into_iter().take(AT_ONCE) {
        match decide(&state.deps(), &u, id, Decision::Label, "", version).await {
            Ok(r) => outcome.labelled.push((id, format!("{} ({})", r.data.title, r.label_number.unwrap_or_default()))),
            Err(AppError::Internal(e)) => return Err(AppError::Internal(e).into()),
            Err(e) => {
                let title = match state.store.event(id).await? {
                    Some(r) if reviewable(&u, &r) => r.data.title,
                    _ => format!("n° {id}"),
                };
                let why = match &e {
                    AppError::ConditionsNotMet(failed) => format!(
                        "conditions non remplies – {}",
                        failed
                            .iter()
                            .map(|c| format!("{} : {}", c.code.title(), c.message))
                            .collect::<Vec<_>>()
                            .join(" ; ")
                    ),
                    other => other.message(),
                };
                outcome.refused.push((id, format!("{title} : {why}")));
            }
        }
    }
    queue_page(&state, u, filter, Some(outcome), None).await
}

/// A material field before and after a change.
struct DiffRow {
    field: &'static str,
    before: String,
    after: String,
    changed: bool,
}

fn sessions_text(d: &EventData) -> String {
    d.sessions
        .iter()
        .map(|s| format!("{} → {}", s.start.replace('T', " "), s.end.replace('T', " ")))
        .collect::<Vec<_>>()
        .join(" ; ")
}

fn place_text(d: &EventData) -> String {
    let mut parts = vec![d.format.map(|f| f.label().to_string()).unwrap_or_default()];
    if let Some(p) = d.place() {
        parts.push(format!("{}, {} {} {}", d.location.venue, d.location.address, d.location.postal_code, p.commune));
    }
    if !d.online_url.is_empty() {
        parts.push(d.online_url.clone());
    }
    parts.retain(|p| !p.trim().is_empty());
    parts.join(" – ")
}

fn diff(before: &EventData, after: &EventData) -> Vec<DiffRow> {
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "oui".to_string(),
        Some(false) => "non".to_string(),
        None => "non renseigné".to_string(),
    };
    let audiences = |d: &EventData| d.audiences.iter().map(|a| a.label()).collect::<Vec<_>>().join(", ");
    let rows = [
        ("Titre", before.title.clone(), after.title.clone()),
        ("Dates", sessions_text(before), sessions_text(after)),
        ("Lieu et format", place_text(before), place_text(after)),
        ("Publics", audiences(before), audiences(after)),
        ("Gratuit", yes_no(before.free), yes_no(after.free)),
        ("Résumé", before.summary.clone(), after.summary.clone()),
        ("Description", before.description.clone(), after.description.clone()),
    ];
    rows.into_iter().map(|(field, b, a)| DiffRow { field, changed: a != b, before: b, after: a }).collect()
}

#[derive(Template)]
#[template(path = "review_event.html")]
struct Detail {
    page: Page,
    e: EventView,
    moderation: Moderation,
    conditions: Vec<ConditionView>,
    signal: IndustrySignal,
    audit: Vec<AuditEntry>,
    region: String,
    department: String,
    error: Option<String>,
    reason: String,
    decision: String,
    due: Option<String>,
    overdue: bool,
    change: Vec<DiffRow>,
    duplicates: Vec<(i64, String, String)>,
    templates: Vec<ReasonTemplate>,
    template: String,
    revoke_reason: String,
    /// The version shown, which the decision forms send back.
    version: i64,
    /// The organisation's SIRET or UAI and how it was checked, for the reviewer.
    identifier: Option<(String, &'static str)>,
}

/// How an organisation's number was checked, in the reviewer's words.
fn identifier_note(o: &si_store::Organisation) -> Option<(String, &'static str)> {
    let id = o.identifier.clone()?;
    let note = match o.identifier_check.as_deref() {
        Some("directory") => "vérifié dans l'annuaire officiel à l'inscription",
        Some("checksum") => {
            "NON VÉRIFIÉ dans l'annuaire officiel (service indisponible à l'inscription) : seule la clé de contrôle a été vérifiée"
        }
        _ => "clé de contrôle vérifiée (compte antérieur à la vérification par l'annuaire)",
    };
    Some((id, note))
}

impl Detail {
    fn when(&self, at: &chrono::DateTime<Utc>) -> String {
        fr_instant(*at)
    }
    fn action_label(&self, action: &str) -> &'static str {
        crate::views::action_label(action)
    }
    fn awaiting(&self) -> bool {
        self.moderation == Moderation::Submitted || !self.change.is_empty()
    }
    fn audiences_text(&self) -> String {
        let labels: Vec<&str> =
            self.e.audiences.iter().filter_map(|a| si_domain::Audience::parse(a)).map(|a| a.label()).collect();
        if labels.is_empty() { "non indiqués".into() } else { labels.join(", ") }
    }
    fn type_text(&self) -> &'static str {
        self.e.event_type.as_deref().and_then(si_domain::EventType::parse).map(|t| t.label()).unwrap_or("non indiqué")
    }
    fn format_text(&self) -> &'static str {
        self.e.format.as_deref().and_then(si_domain::Format::parse).map(|t| t.label()).unwrap_or("non indiqué")
    }
    fn organisation_kind(&self) -> &'static str {
        si_domain::OrganisationKind::parse(&self.e.organisation.kind).map(|k| k.label()).unwrap_or("")
    }
    fn registration_text(&self) -> String {
        let r = &self.e.registration;
        let mut text = r.mode.label().to_string();
        if let Some(c) = r.capacity {
            text.push_str(&format!(" : {c} places par séance"));
        }
        let reach: Vec<&str> =
            [r.url.as_str(), r.email.as_str(), r.phone.as_str()].into_iter().filter(|x| !x.is_empty()).collect();
        if !reach.is_empty() {
            text.push_str(&format!(" ({})", reach.join(", ")));
        }
        text
    }
    fn yes_no(&self, v: &Option<bool>) -> &'static str {
        match *v {
            Some(true) => "oui",
            Some(false) => "non",
            None => "non indiqué",
        }
    }
}

/// What the reviewer sent, shown again with the error when a decision or a withdrawal is refused.
#[derive(Default)]
struct Typed {
    error: Option<String>,
    reason: String,
    decision: String,
    template: String,
    revoke_reason: String,
}

async fn detail_page(state: &AppState, u: User, id: i64, typed: Typed) -> PageResult {
    let Typed { error, reason, decision, template, revoke_reason } = typed;
    let status =
        if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
    if !reviewable(&u, &record) {
        return Err(AppError::NotFound.into());
    }
    let edition = state.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
    let working = EventRecord { data: record.working_data().clone(), ..record.clone() };
    let report = match &record.pending {
        Some(p) => crate::views::conditions_of_data(&record, p, &edition),
        None => conditions_of(&record, &edition),
    };
    let audit = state.store.audit(id).await?;
    let (region, department) = place_names(&working);
    let entered =
        record.change_submitted_at.or(record.submitted_at.filter(|_| record.moderation == Moderation::Submitted));
    let due = entered.map(|at| due_at(at, record.department.as_deref()));
    let change = match &record.pending {
        Some(p) if record.moderation == Moderation::Labelled => diff(&record.data, p),
        _ => Vec::new(),
    };
    // Duplicates are within the organisation: its own events are the pool.
    let pool: Vec<EventBrief> = state
        .store
        .organisation_events(record.organisation_id)
        .await?
        .iter()
        .filter(|e| matches!(e.moderation, Moderation::Submitted | Moderation::Labelled | Moderation::ChangesRequested))
        .map(|e| EventBrief {
            id: e.id,
            organisation_id: e.organisation_id,
            edition: e.edition,
            title: e.data.title.clone(),
            first_day: e.data.parsed_sessions().iter().map(|s| s.start.date()).min(),
            last_day: e.data.parsed_sessions().iter().map(|s| s.end.date()).max(),
        })
        .collect();
    let item = QueueItem {
        id: record.id,
        edition: record.edition,
        organisation_id: record.organisation_id,
        organisation_name: String::new(),
        title: record.data.title.clone(),
        region: None,
        department: None,
        event_type: None,
        audiences: Vec::new(),
        submitted_at: state.clock.now(),
        change: false,
        weak_signal: false,
        first_day: record.data.parsed_sessions().iter().map(|s| s.start.date()).min(),
        last_day: record.data.parsed_sessions().iter().map(|s| s.end.date()).max(),
        version: record.version,
    };
    let mut pool_with_me = pool;
    if !pool_with_me.iter().any(|b| b.id == record.id) {
        pool_with_me.push(EventBrief {
            id: record.id,
            organisation_id: record.organisation_id,
            edition: record.edition,
            title: record.data.title.clone(),
            first_day: item.first_day,
            last_day: item.last_day,
        });
    }
    let dup_ids =
        possible_duplicates(std::slice::from_ref(&item), &pool_with_me).remove(&record.id).unwrap_or_default();
    let duplicates = state
        .store
        .events_by_ids(&dup_ids)
        .await?
        .into_iter()
        .map(|d| (d.id, d.data.title.clone(), d.moderation.label().to_string()))
        .collect();
    Ok(render_status(
        status,
        &Detail {
            page: Page::new(record.data.title.clone(), Some(u), "instruction")
                .crumb("/", "Accueil")
                .crumb("/instruction", "Instruction"),
            e: event_view(&working, &state.config.public_url),
            moderation: record.moderation,
            conditions: report.conditions.iter().map(ConditionView::from).collect(),
            signal: report.industry_signal,
            audit,
            region,
            department,
            error,
            reason,
            decision,
            due: due.map(fr_instant),
            overdue: due.is_some_and(|d| d < state.clock.now()),
            change,
            duplicates,
            templates: state.store.reason_templates().await?,
            template,
            revoke_reason,
            version: record.version,
            identifier: state.store.organisation(record.organisation_id).await?.as_ref().and_then(identifier_note),
        },
    ))
}

async fn detail(State(state): State<AppState>, ReviewerPage(u): ReviewerPage, Id(id): Id) -> PageResult {
    detail_page(&state, u, id, Typed::default()).await
}

/// The reason as sent: the chosen template's text, then what the reviewer added.
async fn reason_with_template(state: &AppState, template: &str, typed: &str) -> Result<String, AppError> {
    let Ok(id) = template.parse::<i64>() else {
        return Ok(typed.trim().to_string());
    };
    let t = state.store.reason_templates().await?.into_iter().find(|t| t.id == id);
    Ok(match t {
        Some(t) if typed.trim().is_empty() => t.body,
        Some(t) => format!("{}\n{}", t.body, typed.trim()),
        None => typed.trim().to_string(),
    })
}

async fn decision_form(
    State(state): State<AppState>,
    ReviewerPage(u): ReviewerPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let typed = p.raw("reason");
    let template = p.get("template").unwrap_or("").to_string();
    let code = p.get("decision").unwrap_or("").to_string();
    let again = |error: String| Typed {
        error: Some(error),
        reason: typed.clone(),
        decision: code.clone(),
        template: template.clone(),
        ..Typed::default()
    };
    let Some(decision) = parse_decision(&code) else {
        let message = "Choisissez une décision : labelliser, demander des modifications ou refuser.";
        return detail_page(&state, u, id, again(message.into())).await;
    };
    let reason = reason_with_template(&state, &template, &typed).await?;
    let Some(version) = p.get("version").and_then(|v| v.parse().ok()) else {
        return detail_page(&state, u, id, again(si_store::STALE_VERSION.into())).await;
    };
    match decide(&state.deps(), &u, id, decision, &reason, version).await {
        Ok(_) => Ok(Redirect::to(&format!("/instruction?decide={id}")).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::ConditionsNotMet(_) | AppError::Conflict(_))) => {
            detail_page(&state, u, id, again(e.message())).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Withdraws a label (a reason is required; the organiser is told; the kit stops).
async fn revoke_form(
    State(state): State<AppState>,
    ReviewerPage(u): ReviewerPage,
    Id(id): Id,
    Form(p): Form,
) -> PageResult {
    let typed = p.raw("revoke_reason");
    let again = |error: String| Typed { error: Some(error), revoke_reason: typed.clone(), ..Typed::default() };
    let Some(version) = p.get("version").and_then(|v| v.parse().ok()) else {
        let record = state.store.event(id).await?.ok_or(AppError::NotFound)?;
        if !reviewable(&u, &record) {
            return Err(AppError::NotFound.into());
        }
        return detail_page(&state, u, id, again(si_store::STALE_VERSION.into())).await;
    };
    match crate::app::moderation::revoke(&state.deps(), &u, id, &typed, version).await {
        Ok(_) => Ok(Redirect::to(&format!("/instruction/evenements/{id}")).into_response()),
        Err(AppError::Conflict(m) | AppError::Invalid { message: m, .. }) => detail_page(&state, u, id, again(m)).await,
        Err(e) => Err(e.into()),
    }
}
