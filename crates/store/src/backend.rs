//! The SQL shared by both backends. `impl_store!` expands the same method bodies for SQLite and
//! PostgreSQL: sqlx's `query` API is identical for both, so only a few fragments differ (how a write
//! transaction starts, row locking) and they are passed in by each backend.

use chrono::NaiveDate;
use si_domain::EventData;
use si_domain::text::search_document;

use crate::model::EventFilter;

/// The SQL dialect of a backend, for the few fragments that differ (full-text search).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// Kilometres per degree of latitude.
const KM_PER_DEGREE: f64 = 111.195;

/// A value bound to a `$n` placeholder of a dynamically built query.
pub(crate) enum Param {
    Text(String),
    Int(i64),
    Bool(bool),
    Date(NaiveDate),
    Float(f64),
}

/// The columns that filters and the queue read, derived from the content.
pub(crate) struct IndexColumns {
    pub title: String,
    pub region: Option<String>,
    pub department: Option<String>,
    pub commune_code: Option<String>,
    pub event_type: Option<String>,
    pub format: Option<String>,
    pub accessible: Option<bool>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub search: String,
    pub codes: Vec<(&'static str, &'static str)>,
    pub weak_signal: bool,
}

pub(crate) fn index_columns(data: &EventData, organisation: &str) -> IndexColumns {
    let place = data.place();
    let sessions = data.parsed_sessions();
    let commune = place.as_ref().map(|p| p.commune.clone()).unwrap_or_default();
    let mut codes: Vec<(&'static str, &'static str)> = Vec::new();
    codes.extend(data.audiences.iter().map(|a| ("audience", a.code())));
    codes.extend(data.sectors.iter().map(|s| ("sector", s.code())));
    codes.extend(data.themes.iter().map(|t| ("theme", t.code())));
    IndexColumns {
        title: data.title.clone(),
        region: place.as_ref().map(|p| p.region.clone()),
        department: place.as_ref().map(|p| p.department.clone()),
        commune_code: place.as_ref().map(|p| p.commune_code.clone()),
        event_type: data.event_type.map(|t| t.code().to_string()),
        format: data.format.map(|f| f.code().to_string()),
        accessible: data.accessible,
        first_day: sessions.iter().map(|s| s.start.date()).min(),
        last_day: sessions.iter().map(|s| s.end.date()).max(),
        // Online-only events have no place on a map, whatever address was typed.
        lat: place.as_ref().filter(|_| data.format != Some(si_domain::Format::EnLigne)).map(|p| p.lat),
        lon: place.as_ref().filter(|_| data.format != Some(si_domain::Format::EnLigne)).map(|p| p.lon),
        search: search_document(&[&data.title, &data.summary, &data.description, organisation, &commune]),
        codes,
        weak_signal: si_domain::text::industry_signal(&data.title, &format!("{}\n{}", data.summary, data.description))
            .weak,
    }
}

/// The parts of a catalogue query: `WITH` clause, source, `WHERE` clause, `ORDER BY`, and parameters.
pub(crate) struct FilterSql {
    /// A `WITH` clause to put before the `SELECT` (empty or ending with a space).
    pub with: String,
    /// What the query reads from, `e` being the events.
    pub from: String,
    pub where_sql: String,
    pub order: String,
    pub params: Vec<Param>,
}

/// Builds the catalogue query (labelled events only). Text matches are ranked by relevance, `near`
/// searches by distance; otherwise by date.
pub(crate) fn filter_sql(f: &EventFilter, dialect: Dialect) -> FilterSql {
    let mut sql = String::from(" WHERE e.moderation = 'labelled'");
    let mut with = String::new();
    let mut from = String::from("events e");
    let mut order = String::from("e.first_day, e.id");
    let mut params: Vec<Param> = Vec::new();
    let next = |params: &mut Vec<Param>, p: Param| {
        params.push(p);
        format!("${}", params.len())
    };
    if let Some(year) = f.edition {
        let p = next(&mut params, Param::Int(i64::from(year)));
        sql.push_str(&format!(" AND e.edition = {p}"));
    }
    let any_of = |params: &mut Vec<Param>, column: &str, values: Vec<String>| {
        if values.is_empty() {
            return String::new();
        }
        let ps: Vec<String> = values.into_iter().map(|v| next(params, Param::Text(v))).collect();
        format!(" AND {column} IN ({})", ps.join(", "))
    };
    let clause = any_of(&mut params, "e.region", f.regions.clone());
    sql.push_str(&clause);
    let clause = any_of(&mut params, "e.department", f.departments.clone());
    sql.push_str(&clause);
    let clause = any_of(&mut params, "e.event_type", f.types.iter().map(|t| t.code().to_string()).collect());
    sql.push_str(&clause);
    let clause = any_of(&mut params, "e.format", f.formats.iter().map(|t| t.code().to_string()).collect());
    sql.push_str(&clause);
    for (kind, values) in [
        ("audience", f.audiences.iter().map(|a| a.code().to_string()).collect::<Vec<_>>()),
        ("sector", f.sectors.iter().map(|a| a.code().to_string()).collect()),
        ("theme", f.themes.iter().map(|a| a.code().to_string()).collect()),
    ] {
        let inner = any_of(&mut params, "c.code", values);
        if !inner.is_empty() {
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM event_codes c WHERE c.event_id = e.id AND c.kind = '{kind}'{inner})"
            ));
        }
    }
    if let Some(from) = f.from {
        let p = next(&mut params, Param::Date(from));
        sql.push_str(&format!(" AND e.last_day >= {p}"));
    }
    if let Some(to) = f.to {
        let p = next(&mut params, Param::Date(to));
        sql.push_str(&format!(" AND e.first_day <= {p}"));
    }
    if !f.organisations.is_empty() {
        let ps: Vec<String> = f.organisations.iter().map(|o| next(&mut params, Param::Int(*o))).collect();
        sql.push_str(&format!(" AND e.organisation_id IN ({})", ps.join(", ")));
    }
    if let Some(acc) = f.accessible {
        let p = next(&mut params, Param::Bool(acc));
        sql.push_str(&format!(" AND e.accessible = {p}"));
    }
    let terms: Vec<String> =
        f.q.as_deref()
            .map(si_domain::text::terms)
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.chars().filter(|c| c.is_alphanumeric()).collect::<String>())
            .filter(|t| !t.is_empty())
            .collect();
    if !terms.is_empty() {
        // Every term must match the start of a word of the folded, stemmed document (prefix match, so
        // that a word being typed already finds results); both backends tokenise on the same spaces.
        match dialect {
            Dialect::Sqlite => {
                let query = terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" AND ");
                let p = next(&mut params, Param::Text(query));
                // The match runs once, materialised, and drives the join (CROSS JOIN fixes the order in
                // SQLite): with MATCH in WHERE, the planner walked the events and re-ran the full-text
                // query for every one of them (seconds on 100,000 events).
                with = format!(
                    "WITH fts AS MATERIALIZED (SELECT rowid AS fts_id, bm25(events_fts) AS fts_rank FROM events_fts \
                     WHERE events_fts MATCH {p}) "
                );
                from = "fts CROSS JOIN events e ON e.id = fts.fts_id".into();
                order = "fts.fts_rank, e.first_day, e.id".into();
            }
            Dialect::Postgres => {
                let query = terms.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" & ");
                let p = next(&mut params, Param::Text(query));
                sql.push_str(&format!(" AND to_tsvector('simple', e.search) @@ to_tsquery('simple', {p})"));
                order = format!(
                    "ts_rank(to_tsvector('simple', e.search), to_tsquery('simple', {p})) DESC, e.first_day, e.id"
                );
            }
        }
    }
    if let Some(near) = f.near {
        // A bounding box that the (lat, lon) index can use, then the exact radius on an
        // equirectangular projection around the centre: plain arithmetic, the same on both backends,
        // within a fraction of a percent of the great-circle distance at these ranges.
        let k = near.lat.to_radians().cos().max(0.01);
        let dlat = near.radius_km / KM_PER_DEGREE;
        let dlon = dlat / k;
        let lat = next(&mut params, Param::Float(near.lat));
        let lon = next(&mut params, Param::Float(near.lon));
        let kp = next(&mut params, Param::Float(k));
        let r2 = next(&mut params, Param::Float(dlat * dlat));
        let lat_min = next(&mut params, Param::Float(near.lat - dlat));
        let lat_max = next(&mut params, Param::Float(near.lat + dlat));
        let lon_min = next(&mut params, Param::Float(near.lon - dlon));
        let lon_max = next(&mut params, Param::Float(near.lon + dlon));
        let d2 = format!("((e.lat - {lat}) * (e.lat - {lat}) + (e.lon - {lon}) * {kp} * (e.lon - {lon}) * {kp})");
        sql.push_str(&format!(
            " AND e.lat BETWEEN {lat_min} AND {lat_max} AND e.lon BETWEEN {lon_min} AND {lon_max} AND {d2} <= {r2}"
        ));
        order = format!("{d2}, e.first_day, e.id");
    }
    FilterSql { with, from, where_sql: sql, order, params }
}

/// Great-circle distance in kilometres (haversine), for display.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

/// Binds a list of [`Param`]s to a query, in order.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                $crate::backend::Param::Text(s) => q.bind(s.clone()),
                $crate::backend::Param::Int(i) => q.bind(*i),
                $crate::backend::Param::Bool(b) => q.bind(*b),
                $crate::backend::Param::Date(d) => q.bind(*d),
                $crate::backend::Param::Float(x) => q.bind(*x),
            };
        }
        q
    }};
}
pub(crate) use bind_params;

/// The columns of an [`crate::EventRecord`], `e` being the events and `o` their organisations.
macro_rules! event_columns {
    () => {
        "SELECT e.id, e.edition, e.organisation_id, o.name AS org_name, o.kind AS org_kind, \
         e.data, e.moderation, e.public_status, e.label_number, e.region, e.department, e.submitted_at, e.decided_at, \
         e.decision_reason, e.created_at, e.updated_at, e.pending_data, e.change_submitted_at, e.labelled_at, e.version"
    };
}

pub(crate) const EVENT_COLUMNS: &str = event_columns!();
pub(crate) const EVENT_SELECT: &str =
    concat!(event_columns!(), " FROM events e JOIN organisations o ON o.id = e.organisation_id");

pub(crate) const USER_SELECT: &str = "SELECT id, email, name, password_hash, role, region, organisation_id, requested_organisation_id, email_verified, revoked_at FROM users";

/// Where an event is reviewed: its region, except online-only events, which go to the national queue.
pub(crate) const REVIEW_REGION: &str = "CASE WHEN e.format = 'en_ligne' THEN NULL ELSE e.region END";

/// The two parts of the queue, first submissions and material changes to labelled events, each a
/// range of `events_queue_cover` (an `OR` of the two would scan the table).
pub(crate) const QUEUE_PARTS: [&str; 2] =
    ["e.moderation = 'submitted'", "e.moderation = 'labelled' AND e.change_submitted_at IS NOT NULL"];

/// `SELECT {columns} FROM {from} WHERE <part>{scope}` for both parts of the queue, joined by `UNION ALL`
/// (or `UNION` when `distinct`).
pub(crate) fn queue_union(columns: &str, from: &str, scope: &str, distinct: bool) -> String {
    let glue = if distinct { " UNION " } else { " UNION ALL " };
    QUEUE_PARTS.iter().map(|w| format!("SELECT {columns} FROM {from} WHERE {w}{scope}")).collect::<Vec<_>>().join(glue)
}

/// A `region IN (…)` clause over [`REVIEW_REGION`] with its parameters, numbered from `$first`.
pub(crate) fn region_scope(regions: &[String], first: usize) -> (String, Vec<Param>) {
    let ps: Vec<String> = (0..regions.len()).map(|i| format!("${}", first + i)).collect();
    (format!(" AND {REVIEW_REGION} IN ({})", ps.join(", ")), regions.iter().map(|r| Param::Text(r.clone())).collect())
}

/// The message of a decision taken on a version of an event that is no longer the current one.
pub const STALE_VERSION: &str = "Cet événement a été modifié depuis que vous l'avez ouvert : relisez-le dans sa version actuelle, puis décidez à nouveau. Rien n'a été enregistré.";

/// Refuses a decision whose version is not the event's current one (read under the row lock).
pub(crate) fn same_version(current: i64, seen: i64) -> crate::StoreResult<()> {
    if current == seen { Ok(()) } else { Err(crate::StoreError::Conflict(STALE_VERSION.into())) }
}

/// Expands the [`crate::Store`] implementation for one backend.
///
/// `$store`: the type (with a `pool` field and an inherent `write_tx`), `$row`: its row type,
/// `$migrations`: its migration list, `$for_update`: the row-locking suffix of a `SELECT`.
macro_rules! impl_store {
    ($store:ty, $row:ty, $migrations:expr, $for_update:literal, $dialect:expr) => {
        mod shared_impl {
            use super::*;
            use crate::backend::{EVENT_COLUMNS, EVENT_SELECT, USER_SELECT, bind_params, filter_sql, index_columns};
            use crate::model::*;
            use crate::{ChangeOutcome, Store, StoreError, StoreResult, Transition};
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use si_domain::lifecycle::{self, Action};
            use si_domain::{AuditAction, Edition, EventData, Moderation, OrganisationKind, PublicStatus, Role};
            use sqlx::Row;

            /// Every dynamic SQL string here is assembled from constants and `$n` placeholders; values
            /// are always bound, never formatted in.
            fn safe(sql: String) -> sqlx::AssertSqlSafe<String> {
                sqlx::AssertSqlSafe(sql)
            }

            fn edition_from_row(r: &$row) -> StoreResult<Edition> {
                Ok(Edition {
                    year: r.try_get::<i64, _>("year")? as i32,
                    number: r.try_get::<i64, _>("number")? as i32,
                    theme: r.try_get("theme")?,
                    demo: r.try_get("demo")?,
                    week_start: r.try_get("week_start")?,
                    week_end: r.try_get("week_end")?,
                    eligible_from: r.try_get("eligible_from")?,
                    eligible_to: r.try_get("eligible_to")?,
                    opens_at: r.try_get("opens_at")?,
                    deadline: r.try_get("deadline")?,
                    regions: Vec::new(),
                })
            }

            fn region_dates_from_row(r: &$row) -> StoreResult<si_domain::RegionDates> {
                Ok(si_domain::RegionDates {
                    region: r.try_get("region")?,
                    week_start: r.try_get("week_start")?,
                    week_end: r.try_get("week_end")?,
                    eligible_from: r.try_get("eligible_from")?,
                    eligible_to: r.try_get("eligible_to")?,
                })
            }

            fn queue_item_from_row(r: &$row) -> StoreResult<QueueItem> {
                let change: Option<DateTime<Utc>> = r.try_get("change_submitted_at")?;
                let submitted: Option<DateTime<Utc>> = r.try_get("submitted_at")?;
                Ok(QueueItem {
                    id: r.try_get("id")?,
                    edition: r.try_get::<i64, _>("edition")? as i32,
                    organisation_id: r.try_get("organisation_id")?,
                    organisation_name: r.try_get("org_name")?,
                    title: r.try_get("title")?,
                    region: r.try_get("review_region")?,
                    department: r.try_get("department")?,
                    event_type: r.try_get("event_type")?,
                    audiences: Vec::new(),
                    submitted_at: change.or(submitted).unwrap_or_else(Utc::now),
                    change: change.is_some(),
                    weak_signal: r.try_get("weak_signal")?,
                    first_day: r.try_get("first_day")?,
                    last_day: r.try_get("last_day")?,
                    version: r.try_get("version")?,
                })
            }

            fn org_from_row(r: &$row) -> StoreResult<Organisation> {
                let kind: String = r.try_get("kind")?;
                Ok(Organisation {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    kind: OrganisationKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("organisation kind {kind}")))?,
                    department: r.try_get("department")?,
                    identifier: r.try_get("identifier")?,
                    identifier_check: r.try_get("identifier_check")?,
                })
            }

            fn user_from_row(r: &$row) -> StoreResult<User> {
                let role: String = r.try_get("role")?;
                Ok(User {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    name: r.try_get("name")?,
                    password_hash: r.try_get("password_hash")?,
                    role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
                    region: r.try_get("region")?,
                    organisation_id: r.try_get("organisation_id")?,
                    requested_organisation_id: r.try_get("requested_organisation_id")?,
                    email_verified: r.try_get("email_verified")?,
                    revoked: r.try_get::<Option<DateTime<Utc>>, _>("revoked_at")?.is_some(),
                })
            }

            fn event_from_row(r: &$row) -> StoreResult<EventRecord> {
                let data: String = r.try_get("data")?;
                let moderation: String = r.try_get("moderation")?;
                let status: String = r.try_get("public_status")?;
                let kind: String = r.try_get("org_kind")?;
                Ok(EventRecord {
                    id: r.try_get("id")?,
                    edition: r.try_get::<i64, _>("edition")? as i32,
                    organisation_id: r.try_get("organisation_id")?,
                    organisation_name: r.try_get("org_name")?,
                    organisation_kind: OrganisationKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(kind.clone()))?,
                    data: serde_json::from_str::<EventData>(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    moderation: Moderation::parse(&moderation).ok_or_else(|| StoreError::Corrupt(moderation.clone()))?,
                    public_status: PublicStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(status.clone()))?,
                    label_number: r.try_get("label_number")?,
                    region: r.try_get("region")?,
                    department: r.try_get("department")?,
                    submitted_at: r.try_get("submitted_at")?,
                    decided_at: r.try_get("decided_at")?,
                    decision_reason: r.try_get("decision_reason")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                    pending: r
                        .try_get::<Option<String>, _>("pending_data")?
                        .map(|d| serde_json::from_str::<EventData>(&d).map_err(|e| StoreError::Corrupt(e.to_string())))
                        .transpose()?,
                    change_submitted_at: r.try_get("change_submitted_at")?,
                    labelled_at: r.try_get("labelled_at")?,
                    version: r.try_get("version")?,
                })
            }

            fn unique_violation(e: sqlx::Error, message: &str) -> StoreError {
                match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(message.to_string()),
                    _ => StoreError::Database(e),
                }
            }

            fn json(data: &EventData) -> StoreResult<String> {
                serde_json::to_string(data).map_err(|e| StoreError::Corrupt(e.to_string()))
            }

            async fn write_index(
                tx: &mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>,
                id: i64,
                data: &EventData,
            ) -> StoreResult<()> {
                let org: String = sqlx::query_scalar("SELECT o.name FROM events e JOIN organisations o ON o.id = e.organisation_id WHERE e.id = $1")
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?;
                let ix = index_columns(data, &org);
                sqlx::query(
                    "UPDATE events SET title = $1, region = $2, department = $3, commune_code = $4, event_type = $5, format = $6, \
                     accessible = $7, first_day = $8, last_day = $9, search = $10, lat = $11, lon = $12, weak_signal = $14 WHERE id = $13",
                )
                .bind(&ix.title)
                .bind(&ix.region)
                .bind(&ix.department)
                .bind(&ix.commune_code)
                .bind(&ix.event_type)
                .bind(&ix.format)
                .bind(ix.accessible)
                .bind(ix.first_day)
                .bind(ix.last_day)
                .bind(&ix.search)
                .bind(ix.lat)
                .bind(ix.lon)
                .bind(id)
                .bind(ix.weak_signal)
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM event_codes WHERE event_id = $1").bind(id).execute(&mut **tx).await?;
                for (kind, code) in ix.codes {
                    sqlx::query("INSERT INTO event_codes (event_id, kind, code) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(kind)
                        .bind(code)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// The moderation state of an event row, as the lifecycle's type.
            fn stored_state(r: &$row) -> StoreResult<Moderation> {
                let code: String = r.try_get("moderation")?;
                Moderation::parse(&code).ok_or_else(|| StoreError::Corrupt(format!("moderation {code}")))
            }

            async fn audit_entry(
                tx: &mut sqlx::Transaction<'static, <$row as sqlx::Row>::Database>,
                event_id: i64,
                actor: Option<i64>,
                action: AuditAction,
                states: (Option<Moderation>, Option<Moderation>),
                reason: Option<&str>,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query("INSERT INTO audit (event_id, at, actor_id, action, from_state, to_state, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(event_id)
                    .bind(at)
                    .bind(actor)
                    .bind(action.code())
                    .bind(states.0.map(Moderation::code))
                    .bind(states.1.map(Moderation::code))
                    .bind(reason)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            #[async_trait]
            impl Store for $store {
                async fn migrate(&self) -> StoreResult<()> {
                    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT)")
                        .execute(&self.pool)
                        .await?;
                    // Databases migrated before checksums were kept: the column is added, and each
                    // applied migration's checksum recorded as this binary has it (trusted once).
                    if sqlx::query("SELECT checksum FROM schema_migrations LIMIT 1").fetch_optional(&self.pool).await.is_err() {
                        sqlx::raw_sql("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT").execute(&self.pool).await?;
                    }
                    let rows = sqlx::query("SELECT version, name, checksum FROM schema_migrations").fetch_all(&self.pool).await?;
                    let mut done: Vec<i64> = Vec::new();
                    for r in &rows {
                        let version: i64 = r.try_get("version")?;
                        let recorded: Option<String> = r.try_get("checksum")?;
                        done.push(version);
                        let Some(m) = $migrations.iter().find(|m| m.version == version) else { continue };
                        match recorded {
                            None => {
                                sqlx::query("UPDATE schema_migrations SET checksum = $1 WHERE version = $2")
                                    .bind(m.checksum())
                                    .bind(version)
                                    .execute(&self.pool)
                                    .await?;
                            }
                            Some(recorded) if recorded != m.checksum() => {
                                return Err(StoreError::EditedMigration { name: m.name.to_string(), recorded, current: m.checksum() });
                            }
                            Some(_) => {}
                        }
                    }
                    for m in $migrations {
                        if done.contains(&m.version) {
                            continue;
                        }
                        let mut tx = self.write_tx().await?;
                        sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
                        sqlx::query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
                            .bind(m.version)
                            .bind(m.name)
                            .bind(m.checksum())
                            .execute(&mut *tx)
                            .await?;
                        if crate::migrate::REINDEX_AFTER.contains(&m.version) {
                            let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM events").fetch_all(&mut *tx).await?;
                            for id in ids {
                                let data: String = sqlx::query_scalar("SELECT data FROM events WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
                                let data: EventData = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                                write_index(&mut tx, id, &data).await?;
                            }
                        }
                        tx.commit().await?;
                        tracing::info!(version = m.version, name = m.name, "migration applied");
                    }
                    Ok(())
                }

                async fn editions(&self) -> StoreResult<Vec<Edition>> {
                    let rows = sqlx::query("SELECT * FROM editions ORDER BY year DESC").fetch_all(&self.pool).await?;
                    let mut editions = rows.iter().map(edition_from_row).collect::<StoreResult<Vec<_>>>()?;
                    let overrides = sqlx::query("SELECT * FROM edition_regions ORDER BY year, region").fetch_all(&self.pool).await?;
                    for r in &overrides {
                        let year = r.try_get::<i64, _>("year")? as i32;
                        if let Some(e) = editions.iter_mut().find(|e| e.year == year) {
                            e.regions.push(region_dates_from_row(r)?);
                        }
                    }
                    Ok(editions)
                }

                async fn edition(&self, year: i32) -> StoreResult<Option<Edition>> {
                    let row = sqlx::query("SELECT * FROM editions WHERE year = $1").bind(i64::from(year)).fetch_optional(&self.pool).await?;
                    let Some(mut edition) = row.as_ref().map(edition_from_row).transpose()? else {
                        return Ok(None);
                    };
                    let overrides = sqlx::query("SELECT * FROM edition_regions WHERE year = $1 ORDER BY region")
                        .bind(i64::from(year))
                        .fetch_all(&self.pool)
                        .await?;
                    edition.regions = overrides.iter().map(region_dates_from_row).collect::<StoreResult<_>>()?;
                    Ok(Some(edition))
                }

                async fn upsert_edition(&self, e: &Edition) -> StoreResult<()> {
                    let mut tx = self.write_tx().await?;
                    sqlx::query(
                        "INSERT INTO editions (year, number, theme, demo, week_start, week_end, eligible_from, eligible_to, opens_at, deadline) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (year) DO UPDATE SET number = excluded.number, \
                         theme = excluded.theme, demo = excluded.demo, week_start = excluded.week_start, week_end = excluded.week_end, \
                         eligible_from = excluded.eligible_from, eligible_to = excluded.eligible_to, opens_at = excluded.opens_at, \
                         deadline = excluded.deadline",
                    )
                    .bind(i64::from(e.year))
                    .bind(i64::from(e.number))
                    .bind(&e.theme)
                    .bind(e.demo)
                    .bind(e.week_start)
                    .bind(e.week_end)
                    .bind(e.eligible_from)
                    .bind(e.eligible_to)
                    .bind(e.opens_at)
                    .bind(e.deadline)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM edition_regions WHERE year = $1").bind(i64::from(e.year)).execute(&mut *tx).await?;
                    for o in &e.regions {
                        sqlx::query(
                            "INSERT INTO edition_regions (year, region, week_start, week_end, eligible_from, eligible_to) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(i64::from(e.year))
                        .bind(&o.region)
                        .bind(o.week_start)
                        .bind(o.week_end)
                        .bind(o.eligible_from)
                        .bind(o.eligible_to)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn organisation_by_identifier(&self, identifier: &str) -> StoreResult<Option<Organisation>> {
                    let row = sqlx::query("SELECT id, name, kind, department, identifier, identifier_check FROM organisations WHERE identifier = $1").bind(identifier).fetch_optional(&self.pool).await?;
                    row.as_ref().map(org_from_row).transpose()
                }

                async fn organisation_by_name(&self, name: &str) -> StoreResult<Option<Organisation>> {
                    let row = sqlx::query("SELECT id, name, kind, department, identifier, identifier_check FROM organisations WHERE name = $1 ORDER BY id LIMIT 1").bind(name).fetch_optional(&self.pool).await?;
                    row.as_ref().map(org_from_row).transpose()
                }

                async fn organisation(&self, id: i64) -> StoreResult<Option<Organisation>> {
                    let row = sqlx::query("SELECT id, name, kind, department, identifier, identifier_check FROM organisations WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                    row.as_ref().map(org_from_row).transpose()
                }

                async fn create_organisation(&self, o: &NewOrganisation) -> StoreResult<Organisation> {
                    let row = sqlx::query(
                        "INSERT INTO organisations (name, kind, department, identifier, created_at) VALUES ($1, $2, $3, $4, $5) \
                         RETURNING id, name, kind, department, identifier, identifier_check",
                    )
                    .bind(&o.name)
                    .bind(o.kind.code())
                    .bind(&o.department)
                    .bind(&o.identifier)
                    .bind(Utc::now())
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| unique_violation(e, "Une organisation porte déjà cet identifiant."))?;
                    org_from_row(&row)
                }

                async fn set_identifier_check(&self, organisation_id: i64, check: &str, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE organisations SET identifier_check = $1, identifier_checked_at = $2 WHERE id = $3")
                        .bind(check)
                        .bind(at)
                        .bind(organisation_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn create_user(&self, u: &NewUser) -> StoreResult<User> {
                    let row = sqlx::query(
                        "INSERT INTO users (email, name, password_hash, role, region, organisation_id, email_verified, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         RETURNING id, email, name, password_hash, role, region, organisation_id, requested_organisation_id, email_verified, revoked_at",
                    )
                    .bind(u.email.trim().to_lowercase())
                    .bind(&u.name)
                    .bind(&u.password_hash)
                    .bind(u.role.code())
                    .bind(&u.region)
                    .bind(u.organisation_id)
                    .bind(false)
                    .bind(Utc::now())
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| unique_violation(e, "Un compte existe déjà avec cette adresse électronique."))?;
                    user_from_row(&row)
                }

                async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
                    let row = sqlx::query(safe(format!("{USER_SELECT} WHERE email = $1")))
                        .bind(email.trim().to_lowercase())
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(user_from_row).transpose()
                }

                async fn user(&self, id: i64) -> StoreResult<Option<User>> {
                    let row = sqlx::query(safe(format!("{USER_SELECT} WHERE id = $1"))).bind(id).fetch_optional(&self.pool).await?;
                    row.as_ref().map(user_from_row).transpose()
                }

                async fn create_web_session(&self, id_hash: &str, user_id: i64, expires_at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("INSERT INTO web_sessions (id_hash, user_id, expires_at) VALUES ($1, $2, $3)")
                        .bind(id_hash)
                        .bind(user_id)
                        .bind(expires_at)
                        .execute(&self.pool)
                        .await?;
                    // Expired sessions are pruned as new ones arrive, so the table stays small.
                    sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1").bind(Utc::now()).execute(&self.pool).await?;
                    Ok(())
                }

                async fn web_session_user(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>> {
                    let row = sqlx::query(
                        "SELECT u.id, u.email, u.name, u.password_hash, u.role, u.region, u.organisation_id, u.requested_organisation_id, u.email_verified, u.revoked_at \
                         FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.revoked_at IS NULL",
                    )
                    .bind(id_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.as_ref().map(user_from_row).transpose()
                }

                async fn delete_web_session(&self, id_hash: &str) -> StoreResult<()> {
                    sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
                    Ok(())
                }

                async fn create_api_token(&self, token_hash: &str, user_id: i64, name: &str, expires_at: DateTime<Utc>) -> StoreResult<i64> {
                    // SQLite has no sequence for a column added later: the next id is taken inside the
                    // (serialised) write; PostgreSQL's column default draws from its sequence.
                    let sql = if $dialect == crate::backend::Dialect::Sqlite {
                        "INSERT INTO api_tokens (id, token_hash, user_id, name, expires_at, created_at) \
                         VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM api_tokens), $1, $2, $3, $4, $5) RETURNING id"
                    } else {
                        "INSERT INTO api_tokens (token_hash, user_id, name, expires_at, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
                    };
                    let id: i64 = sqlx::query_scalar(sql)
                        .bind(token_hash)
                        .bind(user_id)
                        .bind(name)
                        .bind(expires_at)
                        .bind(Utc::now())
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(id)
                }

                async fn api_token_user(&self, token_hash: &str) -> StoreResult<Option<User>> {
                    let now = Utc::now();
                    let row = sqlx::query(
                        "SELECT u.id, u.email, u.name, u.password_hash, u.role, u.region, u.organisation_id, u.requested_organisation_id, u.email_verified, u.revoked_at \
                         FROM api_tokens t JOIN users u ON u.id = t.user_id \
                         WHERE t.token_hash = $1 AND u.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                    if row.is_some() {
                        // When it was last used, for its owner's list: written at most once an hour.
                        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
                            .bind(now)
                            .bind(token_hash)
                            .bind(now - chrono::Duration::hours(1))
                            .execute(&self.pool)
                            .await?;
                    }
                    row.as_ref().map(user_from_row).transpose()
                }

                async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>> {
                    let rows = sqlx::query("SELECT id, name, created_at, expires_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC")
                        .bind(user_id)
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(ApiToken {
                                id: r.try_get("id")?,
                                name: r.try_get("name")?,
                                created_at: r.try_get("created_at")?,
                                expires_at: r.try_get("expires_at")?,
                                last_used_at: r.try_get("last_used_at")?,
                            })
                        })
                        .collect()
                }

                async fn revoke_api_token(&self, user_id: i64, id: i64) -> StoreResult<bool> {
                    let n = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2").bind(id).bind(user_id).execute(&self.pool).await?.rows_affected();
                    Ok(n > 0)
                }

                async fn create_event(&self, edition: i32, organisation_id: i64, actor: i64, data: &EventData) -> StoreResult<i64> {
                    let now = Utc::now();
                    let mut tx = self.write_tx().await?;
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO events (edition, organisation_id, created_by, data, moderation, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, 'draft', $5, $5) RETURNING id",
                    )
                    .bind(i64::from(edition))
                    .bind(organisation_id)
                    .bind(actor)
                    .bind(json(data)?)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    write_index(&mut tx, id, data).await?;
                    audit_entry(&mut tx, id, Some(actor), AuditAction::Create, (None, Some(Moderation::Draft)), None, now).await?;
                    tx.commit().await?;
                    Ok(id)
                }

                async fn update_event(&self, id: i64, actor: i64, data: &EventData) -> StoreResult<ChangeOutcome> {
                    let now = Utc::now();
                    let mut tx = self.write_tx().await?;
                    let row = sqlx::query(concat!("SELECT moderation, data FROM events WHERE id = $1", $for_update))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let state = stored_state(&row)?;
                    let state = lifecycle::next(state, Action::Edit, false).map_err(StoreError::Conflict)?;
                    if state == Moderation::Labelled {
                        let published: String = row.try_get("data")?;
                        let published: EventData = serde_json::from_str(&published).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        let changed = published.material_changes(data);
                        if !changed.is_empty() {
                            // The public keeps the labelled version; the change waits for review.
                            sqlx::query(
                                "UPDATE events SET version = version + 1, pending_data = $1, change_submitted_at = COALESCE(change_submitted_at, $2), updated_at = $2 WHERE id = $3",
                            )
                            .bind(json(data)?)
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            let what = format!("modification à instruire : {}", changed.join(", "));
                            audit_entry(&mut tx, id, Some(actor), Action::Edit.audit(true), (Some(state), Some(state)), Some(&what), now).await?;
                            tx.commit().await?;
                            return Ok(ChangeOutcome::SentToReview);
                        }
                        // Not material: applies at once, and replaces any pending change (the organiser undid it).
                        sqlx::query("UPDATE events SET version = version + 1, data = $1, pending_data = NULL, change_submitted_at = NULL, updated_at = $2 WHERE id = $3")
                            .bind(json(data)?)
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        write_index(&mut tx, id, data).await?;
                        audit_entry(&mut tx, id, Some(actor), Action::Edit.audit(false), (Some(state), Some(state)), None, now).await?;
                        tx.commit().await?;
                        return Ok(ChangeOutcome::Applied);
                    }
                    sqlx::query("UPDATE events SET version = version + 1, data = $1, updated_at = $2 WHERE id = $3")
                        .bind(json(data)?)
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    write_index(&mut tx, id, data).await?;
                    audit_entry(&mut tx, id, Some(actor), Action::Edit.audit(false), (Some(state), Some(state)), None, now).await?;
                    tx.commit().await?;
                    Ok(ChangeOutcome::Applied)
                }

                async fn event(&self, id: i64) -> StoreResult<Option<EventRecord>> {
                    let row = sqlx::query(safe(format!("{EVENT_SELECT} WHERE e.id = $1"))).bind(id).fetch_optional(&self.pool).await?;
                    row.as_ref().map(event_from_row).transpose()
                }

                async fn organisation_events(&self, organisation_id: i64) -> StoreResult<Vec<EventRecord>> {
                    let rows = sqlx::query(safe(format!("{EVENT_SELECT} WHERE e.organisation_id = $1 ORDER BY e.edition DESC, e.updated_at DESC, e.id DESC")))
                        .bind(organisation_id)
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(event_from_row).collect()
                }

                async fn transition(&self, t: &Transition<'_>) -> StoreResult<EventRecord> {
                    let mut tx = self.write_tx().await?;
                    let state: Option<String> = sqlx::query_scalar(concat!("SELECT moderation FROM events WHERE id = $1", $for_update))
                        .bind(t.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let state = state.ok_or(StoreError::NotFound)?;
                    let state = Moderation::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("moderation {state}")))?;
                    if !matches!(t.action, Action::Submit | Action::Withdraw) {
                        return Err(StoreError::Conflict("Cette action passe par sa propre opération.".into()));
                    }
                    let to = lifecycle::next(state, t.action, false).map_err(StoreError::Conflict)?;
                    let submitted = if to == Moderation::Submitted { Some(t.at) } else { None };
                    sqlx::query("UPDATE events SET version = version + 1, moderation = $1, updated_at = $2, submitted_at = COALESCE($3, submitted_at) WHERE id = $4")
                        .bind(to.code())
                        .bind(t.at)
                        .bind(submitted)
                        .bind(t.id)
                        .execute(&mut *tx)
                        .await?;
                    audit_entry(&mut tx, t.id, Some(t.actor), t.action.audit(false), (Some(state), Some(to)), t.reason, t.at).await?;
                    tx.commit().await?;
                    self.event(t.id).await?.ok_or(StoreError::NotFound)
                }

                async fn decide(&self, id: i64, actor: i64, decision: Decision, reason: Option<&str>, at: DateTime<Utc>, version: i64) -> StoreResult<EventRecord> {
                    let mut tx = self.write_tx().await?;
                    let row = sqlx::query(concat!("SELECT moderation, edition, label_number, version FROM events WHERE id = $1", $for_update))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    crate::backend::same_version(row.try_get("version")?, version)?;
                    let state = stored_state(&row)?;
                    let edition: i64 = row.try_get("edition")?;
                    let existing_label: Option<String> = row.try_get("label_number")?;
                    let to = lifecycle::next(state, Action::Decide(decision), false).map_err(StoreError::Conflict)?;
                    let label = if decision == Decision::Label && existing_label.is_none() {
                        // The counter row is locked by this update until commit: numbers are sequential without gaps.
                        let n: i64 = sqlx::query_scalar("UPDATE editions SET last_label = last_label + 1 WHERE year = $1 RETURNING last_label")
                            .bind(edition)
                            .fetch_one(&mut *tx)
                            .await?;
                        Some(format!("SI-{edition}-{n:05}"))
                    } else {
                        existing_label
                    };
                    sqlx::query(
                        "UPDATE events SET version = version + 1, moderation = $1, label_number = $2, decided_at = $3, decision_reason = $4, updated_at = $3, \
                         labelled_at = CASE WHEN $1 = 'labelled' THEN $3 ELSE labelled_at END WHERE id = $5",
                    )
                    .bind(to.code())
                    .bind(&label)
                    .bind(at)
                    .bind(reason)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    audit_entry(&mut tx, id, Some(actor), Action::Decide(decision).audit(false), (Some(state), Some(to)), reason, at).await?;
                    tx.commit().await?;
                    self.event(id).await?.ok_or(StoreError::NotFound)
                }

                async fn queue_items(&self, regions: Option<&[String]>) -> StoreResult<Vec<QueueItem>> {
                    let (scope, params) = match regions {
                        Some([]) => return Ok(Vec::new()),
                        Some(r) => crate::backend::region_scope(r, 1),
                        None => (String::new(), Vec::new()),
                    };
                    let review_region = crate::backend::REVIEW_REGION;
                    let columns = format!(
                        "e.id, e.edition, e.organisation_id, o.name AS org_name, e.title, {review_region} AS review_region, \
                         e.department, e.event_type, e.weak_signal, e.first_day, e.last_day, e.submitted_at, e.change_submitted_at, e.version"
                    );
                    let sql = crate::backend::queue_union(&columns, "events e JOIN organisations o ON o.id = e.organisation_id", &scope, false);
                    let rows = bind_params!(sqlx::query(safe(sql)), &params).fetch_all(&self.pool).await?;
                    let mut items = rows.iter().map(queue_item_from_row).collect::<StoreResult<Vec<_>>>()?;
                    let codes_sql = format!(
                        "SELECT c.event_id, c.code FROM event_codes c WHERE c.kind = 'audience' AND c.event_id IN ({})",
                        crate::backend::queue_union("e.id", "events e", &scope, false)
                    );
                    let codes = bind_params!(sqlx::query(safe(codes_sql)), &params).fetch_all(&self.pool).await?;
                    let mut by_event: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
                    for r in &codes {
                        by_event.entry(r.try_get("event_id")?).or_default().push(r.try_get("code")?);
                    }
                    for item in &mut items {
                        item.audiences = by_event.remove(&item.id).unwrap_or_default();
                    }
                    items.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then(a.id.cmp(&b.id)));
                    Ok(items)
                }

                async fn moderation_counts(&self, edition: i32, regions: Option<&[String]>) -> StoreResult<Vec<(String, u64)>> {
                    let (scope, mut params) = match regions {
                        Some([]) => return Ok(Vec::new()),
                        Some(r) => crate::backend::region_scope(r, 2),
                        None => (String::new(), Vec::new()),
                    };
                    params.insert(0, crate::backend::Param::Int(i64::from(edition)));
                    let sql = format!(
                        "SELECT e.moderation AS state, COUNT(*) AS n FROM events e WHERE e.edition = $1{scope} GROUP BY e.moderation \
                         UNION ALL SELECT 'change_pending' AS state, COUNT(*) AS n FROM events e \
                         WHERE e.edition = $1 AND e.moderation = 'labelled' AND e.change_submitted_at IS NOT NULL{scope}"
                    );
                    let rows = bind_params!(sqlx::query(safe(sql)), &params).fetch_all(&self.pool).await?;
                    rows.iter().map(|r| Ok((r.try_get::<String, _>("state")?, r.try_get::<i64, _>("n")? as u64))).collect()
                }

                async fn duplicate_pool(&self, regions: Option<&[String]>) -> StoreResult<Vec<EventBrief>> {
                    let (scope, params) = match regions {
                        Some([]) => return Ok(Vec::new()),
                        Some(r) => crate::backend::region_scope(r, 1),
                        None => (String::new(), Vec::new()),
                    };
                    let sql = format!(
                        "SELECT id, organisation_id, edition, title, first_day, last_day FROM events \
                         WHERE organisation_id IN ({}) AND moderation IN ('submitted', 'labelled', 'changes_requested')",
                        crate::backend::queue_union("e.organisation_id", "events e", &scope, true)
                    );
                    let rows = bind_params!(sqlx::query(safe(sql)), &params).fetch_all(&self.pool).await?;
                    rows.iter()
                        .map(|r| {
                            Ok(EventBrief {
                                id: r.try_get("id")?,
                                organisation_id: r.try_get("organisation_id")?,
                                edition: r.try_get::<i64, _>("edition")? as i32,
                                title: r.try_get("title")?,
                                first_day: r.try_get("first_day")?,
                                last_day: r.try_get("last_day")?,
                            })
                        })
                        .collect()
                }

                async fn decide_change(&self, id: i64, actor: i64, accept: bool, reason: Option<&str>, at: DateTime<Utc>, version: i64) -> StoreResult<EventRecord> {
                    let mut tx = self.write_tx().await?;
                    let row = sqlx::query(concat!("SELECT moderation, pending_data, version FROM events WHERE id = $1", $for_update))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    // The change accepted is the one the reviewer read, never one that replaced it since.
                    crate::backend::same_version(row.try_get("version")?, version)?;
                    let state = stored_state(&row)?;
                    let pending: Option<String> = row.try_get("pending_data")?;
                    let action = Action::DecideChange { accept };
                    lifecycle::next(state, action, pending.is_some()).map_err(StoreError::Conflict)?;
                    let pending = pending.unwrap_or_default();
                    if accept {
                        let data: EventData = serde_json::from_str(&pending).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        sqlx::query(
                            "UPDATE events SET version = version + 1, data = pending_data, pending_data = NULL, change_submitted_at = NULL, decided_at = $1, \
                             decision_reason = $2, updated_at = $1 WHERE id = $3",
                        )
                        .bind(at)
                        .bind(reason)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        write_index(&mut tx, id, &data).await?;
                    } else {
                        sqlx::query(
                            "UPDATE events SET version = version + 1, pending_data = NULL, change_submitted_at = NULL, decided_at = $1, decision_reason = $2, \
                             updated_at = $1 WHERE id = $3",
                        )
                        .bind(at)
                        .bind(reason)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    audit_entry(&mut tx, id, Some(actor), action.audit(false), (Some(state), Some(state)), reason, at).await?;
                    tx.commit().await?;
                    self.event(id).await?.ok_or(StoreError::NotFound)
                }

                async fn revoke_label(&self, id: i64, actor: i64, reason: &str, at: DateTime<Utc>, version: i64) -> StoreResult<EventRecord> {
                    let mut tx = self.write_tx().await?;
                    let row = sqlx::query(concat!("SELECT moderation, version FROM events WHERE id = $1", $for_update))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    crate::backend::same_version(row.try_get("version")?, version)?;
                    let state = stored_state(&row)?;
                    let to = lifecycle::next(state, Action::Revoke, false).map_err(StoreError::Conflict)?;
                    sqlx::query(
                        "UPDATE events SET version = version + 1, moderation = $4, pending_data = NULL, change_submitted_at = NULL, decided_at = $1, \
                         decision_reason = $2, updated_at = $1 WHERE id = $3",
                    )
                    .bind(at)
                    .bind(reason)
                    .bind(id)
                    .bind(to.code())
                    .execute(&mut *tx)
                    .await?;
                    audit_entry(&mut tx, id, Some(actor), Action::Revoke.audit(false), (Some(state), Some(to)), Some(reason), at).await?;
                    tx.commit().await?;
                    self.event(id).await?.ok_or(StoreError::NotFound)
                }

                async fn set_public_status(&self, id: i64, actor: i64, status: PublicStatus, at: DateTime<Utc>) -> StoreResult<EventRecord> {
                    let mut tx = self.write_tx().await?;
                    let row = sqlx::query(concat!("SELECT moderation, public_status FROM events WHERE id = $1", $for_update))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let state = stored_state(&row)?;
                    lifecycle::next(state, Action::SetPublicStatus, false).map_err(StoreError::Conflict)?;
                    sqlx::query("UPDATE events SET version = version + 1, public_status = $1, updated_at = $2 WHERE id = $3")
                        .bind(status.code())
                        .bind(at)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    audit_entry(&mut tx, id, Some(actor), Action::SetPublicStatus.audit(false), (Some(state), Some(state)), Some(status.label()), at).await?;
                    tx.commit().await?;
                    self.event(id).await?.ok_or(StoreError::NotFound)
                }

                async fn reviewers(&self) -> StoreResult<Vec<User>> {
                    let rows = sqlx::query(safe(format!(
                        "{USER_SELECT} WHERE role IN ('regional_coordinator', 'national_admin') ORDER BY role DESC, region, email"
                    )))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(user_from_row).collect()
                }

                async fn set_user_role(&self, id: i64, role: Role, region: Option<&str>) -> StoreResult<()> {
                    let n = sqlx::query("UPDATE users SET role = $1, region = $2 WHERE id = $3")
                        .bind(role.code())
                        .bind(region)
                        .bind(id)
                        .execute(&self.pool)
                        .await?
                        .rows_affected();
                    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
                }

                async fn revoke_user(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
                    let mut tx = self.write_tx().await?;
                    let n = sqlx::query("UPDATE users SET revoked_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await?.rows_affected();
                    if n == 0 {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM password_tokens WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn organisation_members(&self, organisation_id: i64) -> StoreResult<Vec<User>> {
                    let rows = sqlx::query(safe(format!("{USER_SELECT} WHERE organisation_id = $1 AND revoked_at IS NULL ORDER BY id")))
                        .bind(organisation_id)
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(user_from_row).collect()
                }

                async fn request_membership(&self, user_id: i64, organisation_id: i64) -> StoreResult<()> {
                    sqlx::query("UPDATE users SET requested_organisation_id = $1 WHERE id = $2 AND organisation_id IS NULL")
                        .bind(organisation_id)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn membership_requests(&self, organisation_id: i64) -> StoreResult<Vec<User>> {
                    let rows = sqlx::query(safe(format!(
                        "{USER_SELECT} WHERE requested_organisation_id = $1 AND organisation_id IS NULL AND email_verified = $2 \
                         AND revoked_at IS NULL ORDER BY id"
                    )))
                    .bind(organisation_id)
                    .bind(true)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(user_from_row).collect()
                }

                async fn settle_membership(&self, organisation_id: i64, user_id: i64, accept: bool) -> StoreResult<bool> {
                    // Only a request still waiting for this organisation is settled: a second click, or a
                    // request withdrawn meanwhile, changes nothing.
                    let sql = if accept {
                        "UPDATE users SET organisation_id = requested_organisation_id, requested_organisation_id = NULL \
                         WHERE id = $1 AND requested_organisation_id = $2 AND organisation_id IS NULL AND revoked_at IS NULL \
                         AND email_verified = $3"
                    } else {
                        "UPDATE users SET requested_organisation_id = NULL \
                         WHERE id = $1 AND requested_organisation_id = $2 AND organisation_id IS NULL"
                    };
                    // A request counts once its author has confirmed the address (as the members' list shows).
                    let mut q = sqlx::query(sql).bind(user_id).bind(organisation_id);
                    if accept {
                        q = q.bind(true);
                    }
                    let n = q.execute(&self.pool).await?.rows_affected();
                    Ok(n == 1)
                }

                async fn remove_member(&self, organisation_id: i64, user_id: i64) -> StoreResult<bool> {
                    let mut tx = self.write_tx().await?;
                    let n = sqlx::query("UPDATE users SET organisation_id = NULL WHERE id = $1 AND organisation_id = $2")
                        .bind(user_id)
                        .bind(organisation_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 1 {
                        // A removed member keeps no way in to the organisation's events: every session and
                        // token of theirs ends with the membership.
                        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(n == 1)
                }

                async fn end_sessions(&self, user_id: i64) -> StoreResult<u64> {
                    Ok(sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(user_id).execute(&self.pool).await?.rows_affected())
                }

                async fn create_email_change(&self, token_hash: &str, user_id: i64, new_email: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("INSERT INTO email_changes (token_hash, user_id, new_email, expires_at) VALUES ($1, $2, $3, $4)")
                        .bind(token_hash)
                        .bind(user_id)
                        .bind(new_email.trim().to_lowercase())
                        .bind(expires_at)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn peek_email_change(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<String>> {
                    Ok(sqlx::query_scalar("SELECT new_email FROM email_changes WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
                        .bind(token_hash)
                        .bind(now)
                        .fetch_optional(&self.pool)
                        .await?)
                }

                async fn use_email_change(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(User, String)>> {
                    let mut tx = self.write_tx().await?;
                    let row = sqlx::query(
                        "UPDATE email_changes SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                         RETURNING user_id, new_email",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    let (user_id, new_email): (i64, String) = (row.try_get("user_id")?, row.try_get("new_email")?);
                    let old = sqlx::query(safe(format!("{USER_SELECT} WHERE id = $1 AND revoked_at IS NULL")))
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(old) = old.as_ref().map(user_from_row).transpose()? else { return Ok(None) };
                    sqlx::query("UPDATE users SET email = $1, email_verified = $2 WHERE id = $3")
                        .bind(&new_email)
                        .bind(true)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| unique_violation(e, "Un compte existe déjà avec cette adresse électronique."))?;
                    tx.commit().await?;
                    Ok(Some((old, new_email)))
                }

                async fn mark_email_verified(&self, user_id: i64) -> StoreResult<()> {
                    sqlx::query("UPDATE users SET email_verified = $1 WHERE id = $2").bind(true).bind(user_id).execute(&self.pool).await?;
                    Ok(())
                }

                async fn set_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()> {
                    sqlx::query("UPDATE users SET password_hash = $1, email_verified = $2 WHERE id = $3")
                        .bind(password_hash)
                        .bind(true)
                        .bind(user_id)
                        .execute(&self.pool)
                        .await?;
                    // Every session and API token of the person ends: whoever knew the old password, or
                    // took a token with it, is out.
                    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(user_id).execute(&self.pool).await?;
                    sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind(user_id).execute(&self.pool).await?;
                    Ok(())
                }

                async fn create_password_token(&self, token_hash: &str, user_id: i64, expires_at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("INSERT INTO password_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
                        .bind(token_hash)
                        .bind(user_id)
                        .bind(expires_at)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn use_password_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>> {
                    let user_id: Option<i64> = sqlx::query_scalar(
                        "UPDATE password_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                    match user_id {
                        Some(id) => Ok(self.user(id).await?.filter(|u| !u.revoked)),
                        None => Ok(None),
                    }
                }

                async fn peek_password_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<User>> {
                    let user_id: Option<i64> = sqlx::query_scalar(
                        "SELECT user_id FROM password_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                    match user_id {
                        Some(id) => Ok(self.user(id).await?.filter(|u| !u.revoked)),
                        None => Ok(None),
                    }
                }

                async fn reason_templates(&self) -> StoreResult<Vec<ReasonTemplate>> {
                    let rows = sqlx::query("SELECT id, title, body FROM reason_templates ORDER BY title, id").fetch_all(&self.pool).await?;
                    rows.iter()
                        .map(|r| Ok(ReasonTemplate { id: r.try_get("id")?, title: r.try_get("title")?, body: r.try_get("body")? }))
                        .collect()
                }

                async fn save_reason_template(&self, id: Option<i64>, title: &str, body: &str) -> StoreResult<()> {
                    match id {
                        Some(id) => {
                            let n = sqlx::query("UPDATE reason_templates SET title = $1, body = $2 WHERE id = $3")
                                .bind(title)
                                .bind(body)
                                .bind(id)
                                .execute(&self.pool)
                                .await?
                                .rows_affected();
                            if n == 0 {
                                return Err(StoreError::NotFound);
                            }
                        }
                        None => {
                            sqlx::query("INSERT INTO reason_templates (title, body) VALUES ($1, $2)").bind(title).bind(body).execute(&self.pool).await?;
                        }
                    }
                    Ok(())
                }

                async fn delete_reason_template(&self, id: i64) -> StoreResult<()> {
                    sqlx::query("DELETE FROM reason_templates WHERE id = $1").bind(id).execute(&self.pool).await?;
                    Ok(())
                }

                async fn enqueue_emails(&self, emails: &[NewEmail], at: DateTime<Utc>) -> StoreResult<()> {
                    let mut tx = self.write_tx().await?;
                    for m in emails {
                        sqlx::query(
                            "INSERT INTO outbox (recipient, subject, text_body, html_body, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)",
                        )
                        .bind(&m.recipient)
                        .bind(&m.subject)
                        .bind(&m.text)
                        .bind(&m.html)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn claim_email(&self, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<Option<OutboxEmail>> {
                    let mut tx = self.write_tx().await?;
                    let row = sqlx::query(concat!(
                        "SELECT id, recipient, subject, text_body, html_body, attempts FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                         AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_attempt_at, id LIMIT 1",
                        $for_update
                    ))
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else {
                        return Ok(None);
                    };
                    let id: i64 = row.try_get("id")?;
                    sqlx::query("UPDATE outbox SET locked_until = $1 WHERE id = $2").bind(lease_until).bind(id).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(Some(OutboxEmail {
                        id,
                        email: NewEmail {
                            recipient: row.try_get("recipient")?,
                            subject: row.try_get("subject")?,
                            text: row.try_get("text_body")?,
                            html: row.try_get("html_body")?,
                        },
                        attempts: row.try_get("attempts")?,
                    }))
                }

                async fn email_sent(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE outbox SET sent_at = $1, locked_until = NULL WHERE id = $2").bind(at).bind(id).execute(&self.pool).await?;
                    Ok(())
                }

                async fn email_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()> {
                    sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, locked_until = NULL WHERE id = $3")
                        .bind(error)
                        .bind(retry_at)
                        .bind(id)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn outbox_stats(&self) -> StoreResult<OutboxStats> {
                    let row = sqlx::query(
                        "SELECT COALESCE(SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END), 0) AS pending, \
                         COALESCE(SUM(CASE WHEN sent_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END), 0) AS retrying, \
                         COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS sent FROM outbox",
                    )
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(OutboxStats {
                        pending: row.try_get::<i64, _>("pending")? as u64,
                        retrying: row.try_get::<i64, _>("retrying")? as u64,
                        sent: row.try_get::<i64, _>("sent")? as u64,
                    })
                }

                async fn claim_digest_day(&self, day: chrono::NaiveDate, at: DateTime<Utc>) -> StoreResult<bool> {
                    let n = sqlx::query("INSERT INTO digest_runs (day, at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
                        .bind(day)
                        .bind(at)
                        .execute(&self.pool)
                        .await?
                        .rows_affected();
                    Ok(n == 1)
                }

                async fn search_events(&self, f: &EventFilter) -> StoreResult<(u64, Vec<EventRecord>)> {
                    let q = filter_sql(f, $dialect);
                    let (with, from, where_sql, order, params) = (q.with, q.from, q.where_sql, q.order, q.params);
                    let count_sql = format!("{with}SELECT COUNT(*) FROM {from}{where_sql}");
                    let total: i64 = bind_params!(sqlx::query_scalar(safe(count_sql)), &params).fetch_one(&self.pool).await?;
                    let per_page = i64::from(f.per_page.clamp(1, 100));
                    let offset = i64::from(f.page.max(1) - 1) * per_page;
                    let sql = format!(
                        "{with}{EVENT_COLUMNS} FROM {from} JOIN organisations o ON o.id = e.organisation_id{where_sql} \
                         ORDER BY {order} LIMIT {per_page} OFFSET {offset}"
                    );
                    let rows = bind_params!(sqlx::query(safe(sql.clone())), &params).fetch_all(&self.pool).await?;
                    let items = rows.iter().map(event_from_row).collect::<StoreResult<Vec<_>>>()?;
                    Ok((total as u64, items))
                }

                async fn facets(&self, f: &EventFilter) -> StoreResult<Facets> {
                    let mut out = Facets::default();
                    // (dimension, grouped expression, join for multi-valued codes, the filter without this dimension)
                    let dims: [(&str, &str, Option<&str>, EventFilter); 7] = [
                        ("region", "e.region", None, EventFilter { regions: vec![], ..f.clone() }),
                        ("department", "e.department", None, EventFilter { departments: vec![], ..f.clone() }),
                        ("type", "e.event_type", None, EventFilter { types: vec![], ..f.clone() }),
                        ("format", "e.format", None, EventFilter { formats: vec![], ..f.clone() }),
                        ("audience", "fc.code", Some("audience"), EventFilter { audiences: vec![], ..f.clone() }),
                        ("sector", "fc.code", Some("sector"), EventFilter { sectors: vec![], ..f.clone() }),
                        ("theme", "fc.code", Some("theme"), EventFilter { themes: vec![], ..f.clone() }),
                    ];
                    for (name, expr, kind, filter) in dims {
                        let q = filter_sql(&filter, $dialect);
                        let codes_join = kind
                            .map(|k| format!(" JOIN event_codes fc ON fc.event_id = e.id AND fc.kind = '{k}'"))
                            .unwrap_or_default();
                        let sql = format!(
                            "{}SELECT {expr} AS value, COUNT(*) AS n FROM {}{codes_join}{} AND {expr} IS NOT NULL GROUP BY {expr}",
                            q.with, q.from, q.where_sql
                        );
                        let rows = bind_params!(sqlx::query(safe(sql)), &q.params).fetch_all(&self.pool).await?;
                        let mut counts = std::collections::BTreeMap::new();
                        for r in rows {
                            let value: String = r.try_get("value")?;
                            let n: i64 = r.try_get("n")?;
                            counts.insert(value, n as u64);
                        }
                        out.0.insert(name.to_string(), counts);
                    }
                    Ok(out)
                }

                async fn catalogue_rows(&self) -> StoreResult<Vec<CatalogueRow>> {
                    use futures_util::TryStreamExt;
                    // Streamed row by row: holding every row of a national catalogue (and its ~400,000
                    // codes) at once cost hundreds of megabytes.
                    let mut rows = sqlx::query(
                        "SELECT id, edition, organisation_id, region, department, event_type, format, accessible, first_day, last_day, \
                         lat, lon, search FROM events WHERE moderation = 'labelled' ORDER BY id",
                    )
                    .fetch(&self.pool);
                    let mut out: Vec<CatalogueRow> = Vec::new();
                    while let Some(r) = rows.try_next().await? {
                        out.push(CatalogueRow {
                            id: r.try_get("id")?,
                            edition: r.try_get::<i64, _>("edition")? as i32,
                            organisation_id: r.try_get("organisation_id")?,
                            region: r.try_get("region")?,
                            department: r.try_get("department")?,
                            event_type: r.try_get("event_type")?,
                            format: r.try_get("format")?,
                            accessible: r.try_get("accessible")?,
                            first_day: r.try_get("first_day")?,
                            last_day: r.try_get("last_day")?,
                            lat: r.try_get("lat")?,
                            lon: r.try_get("lon")?,
                            search: r.try_get("search")?,
                            codes: Vec::new(),
                        });
                    }
                    drop(rows);
                    let mut codes = sqlx::query(
                        "SELECT c.event_id, c.kind, c.code FROM event_codes c JOIN events e ON e.id = c.event_id \
                         WHERE e.moderation = 'labelled' ORDER BY c.event_id",
                    )
                    .fetch(&self.pool);
                    let mut k = 0;
                    while let Some(c) = codes.try_next().await? {
                        let id: i64 = c.try_get("event_id")?;
                        while k < out.len() && out[k].id < id {
                            k += 1;
                        }
                        if k < out.len() && out[k].id == id {
                            out[k].codes.push((c.try_get("kind")?, c.try_get("code")?));
                        }
                    }
                    Ok(out)
                }

                async fn events_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<EventRecord>> {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let ps: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
                    let sql = format!("{EVENT_SELECT} WHERE e.id IN ({})", ps.join(", "));
                    let mut q = sqlx::query(safe(sql));
                    for id in ids {
                        q = q.bind(*id);
                    }
                    let mut found: std::collections::HashMap<i64, EventRecord> = std::collections::HashMap::new();
                    for row in q.fetch_all(&self.pool).await? {
                        let r = event_from_row(&row)?;
                        found.insert(r.id, r);
                    }
                    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
                }

                async fn map_points(&self, f: &EventFilter, max: u32) -> StoreResult<Vec<(i64, f64, f64, String)>> {
                    let q = filter_sql(f, $dialect);
                    let sql = format!(
                        "{}SELECT e.id, e.lat, e.lon, e.title FROM {}{} AND e.lat IS NOT NULL AND e.lon IS NOT NULL ORDER BY e.id LIMIT {max}",
                        q.with, q.from, q.where_sql
                    );
                    use futures_util::TryStreamExt;
                    let mut rows = bind_params!(sqlx::query(safe(sql)), &q.params).fetch(&self.pool);
                    let mut out = Vec::new();
                    while let Some(r) = rows.try_next().await? {
                        out.push((r.try_get("id")?, r.try_get("lat")?, r.try_get("lon")?, r.try_get("title")?));
                    }
                    Ok(out)
                }

                async fn search_all(&self, f: &EventFilter, max: u32) -> StoreResult<Vec<EventRecord>> {
                    let q = filter_sql(f, $dialect);
                    let sql = format!(
                        "{}{EVENT_COLUMNS} FROM {} JOIN organisations o ON o.id = e.organisation_id{} ORDER BY {} LIMIT {max}",
                        q.with, q.from, q.where_sql, q.order
                    );
                    let rows = bind_params!(sqlx::query(safe(sql)), &q.params).fetch_all(&self.pool).await?;
                    rows.iter().map(event_from_row).collect()
                }

                async fn submission_times(&self, edition: i32) -> StoreResult<Vec<DateTime<Utc>>> {
                    Ok(sqlx::query_scalar("SELECT submitted_at FROM events WHERE edition = $1 AND submitted_at IS NOT NULL")
                        .bind(i64::from(edition))
                        .fetch_all(&self.pool)
                        .await?)
                }

                async fn newest_labelled_edition(&self) -> StoreResult<Option<i32>> {
                    let year: Option<i64> = sqlx::query_scalar("SELECT MAX(edition) FROM events WHERE moderation = 'labelled'")
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(year.map(|y| y as i32))
                }

                async fn count_labelled(&self, edition: i32) -> StoreResult<u64> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE edition = $1 AND moderation = 'labelled'")
                        .bind(i64::from(edition))
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(n as u64)
                }

                async fn audit(&self, event_id: i64) -> StoreResult<Vec<AuditEntry>> {
                    let rows = sqlx::query(
                        "SELECT a.at, u.email, a.action, a.from_state, a.to_state, a.reason FROM audit a \
                         LEFT JOIN users u ON u.id = a.actor_id WHERE a.event_id = $1 ORDER BY a.id",
                    )
                    .bind(event_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok(AuditEntry {
                                at: r.try_get("at")?,
                                actor: r.try_get("email")?,
                                action: r.try_get("action")?,
                                from_state: r.try_get("from_state")?,
                                to_state: r.try_get("to_state")?,
                                reason: r.try_get("reason")?,
                            })
                        })
                        .collect()
                }

                async fn insert_labelled(&self, edition: i32, events: &[(i64, EventData, DateTime<Utc>)]) -> StoreResult<u64> {
                    let mut tx = self.write_tx().await?;
                    let mut last: i64 = sqlx::query_scalar(concat!("SELECT last_label FROM editions WHERE year = $1", $for_update))
                        .bind(i64::from(edition))
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    // Bulk path (demo data, benchmarks): every derived column in the INSERT itself, rows by
                    // hundreds per statement (round trips dominate on PostgreSQL), codes likewise, audit
                    // entries in one statement per batch.
                    let mut org_names: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
                    for (org, _, _) in events {
                        if !org_names.contains_key(org) {
                            let name: String = sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
                                .bind(*org)
                                .fetch_one(&mut *tx)
                                .await?;
                            org_names.insert(*org, name);
                        }
                    }
                    const ROWS: usize = 200;
                    const COLUMNS: usize = 19;
                    let mut ids = Vec::with_capacity(events.len());
                    for chunk in events.chunks(ROWS) {
                        let values: Vec<String> = (0..chunk.len())
                            .map(|r| {
                                let b = r * COLUMNS;
                                let p: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", b + c)).collect();
                                format!(
                                    "({}, {}, {}, 'labelled', {}, {}, {}, {5}, {5}, {5}, {5}, {})",
                                    p[0], p[1], p[2], p[3], p[4], p[5], p[6..].join(", ")
                                )
                            })
                            .collect();
                        let sql = format!(
                            "INSERT INTO events (edition, organisation_id, data, moderation, public_status, label_number, submitted_at, \
                             decided_at, created_at, updated_at, labelled_at, title, region, department, commune_code, event_type, format, \
                             accessible, first_day, last_day, search, lat, lon, weak_signal) VALUES {} RETURNING id, label_number",
                            values.join(", ")
                        );
                        let mut q = sqlx::query(safe(sql));
                        let mut codes: Vec<(String, Vec<(&'static str, &'static str)>)> = Vec::with_capacity(chunk.len());
                        for (org, data, at) in chunk {
                            let ix = index_columns(data, &org_names[org]);
                            last += 1;
                            let label = format!("SI-{edition}-{last:05}");
                            q = q
                                .bind(i64::from(edition))
                                .bind(*org)
                                .bind(json(data)?)
                                .bind(PublicStatus::Scheduled.code())
                                .bind(label.clone())
                                .bind(*at)
                                .bind(ix.title)
                                .bind(ix.region)
                                .bind(ix.department)
                                .bind(ix.commune_code)
                                .bind(ix.event_type)
                                .bind(ix.format)
                                .bind(ix.accessible)
                                .bind(ix.first_day)
                                .bind(ix.last_day)
                                .bind(ix.search)
                                .bind(ix.lat)
                                .bind(ix.lon)
                                .bind(ix.weak_signal);
                            codes.push((label, ix.codes));
                        }
                        // RETURNING order is not promised: match rows back by their unique label number.
                        let mut by_label = std::collections::HashMap::with_capacity(chunk.len());
                        for row in q.fetch_all(&mut *tx).await? {
                            let id: i64 = row.try_get("id")?;
                            let label: String = row.try_get("label_number")?;
                            by_label.insert(label, id);
                        }
                        let mut code_rows: Vec<(i64, &'static str, &'static str)> = Vec::new();
                        for (label, list) in &codes {
                            let id = *by_label.get(label).ok_or_else(|| StoreError::Corrupt(format!("{label} not inserted")))?;
                            ids.push(id);
                            code_rows.extend(list.iter().map(|(k, c)| (id, *k, *c)));
                        }
                        for part in code_rows.chunks(1_000) {
                            let values: Vec<String> =
                                (0..part.len()).map(|r| format!("(${}, ${}, ${})", 3 * r + 1, 3 * r + 2, 3 * r + 3)).collect();
                            let sql = format!("INSERT INTO event_codes (event_id, kind, code) VALUES {}", values.join(", "));
                            let mut q = sqlx::query(safe(sql));
                            for (id, kind, code) in part {
                                q = q.bind(*id).bind(*kind).bind(*code);
                            }
                            q.execute(&mut *tx).await?;
                        }
                    }
                    ids.sort_unstable();
                    if let (Some(first), Some(last_id)) = (ids.first(), ids.last()) {
                        sqlx::query(
                            "INSERT INTO audit (event_id, at, actor_id, action, from_state, to_state, reason) \
                             SELECT id, decided_at, NULL, 'label', 'submitted', 'labelled', 'données de démonstration' \
                             FROM events WHERE id >= $1 AND id <= $2 AND edition = $3",
                        )
                        .bind(*first)
                        .bind(*last_id)
                        .bind(i64::from(edition))
                        .execute(&mut *tx)
                        .await?;
                    }
                    sqlx::query("UPDATE editions SET last_label = $1 WHERE year = $2").bind(last).bind(i64::from(edition)).execute(&mut *tx).await?;
                    tx.commit().await?;
                    // Fresh statistics after a bulk load, so that the planner picks the catalogue indexes.
                    sqlx::query("ANALYZE").execute(&self.pool).await?;
                    Ok(events.len() as u64)
                }
            }
        }
    };
}
pub(crate) use impl_store;
