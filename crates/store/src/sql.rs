//! SQL pieces shared by both backends: the catalogue query builder, column lists, the queue's parts,
//! and [`Dialect`], the one place where SQLite and PostgreSQL differ in what they are sent.

use chrono::NaiveDate;
use si_domain::EventData;
use si_domain::text::search_document;

use crate::model::EventFilter;

/// The SQL dialect of a backend. Every difference between what the two backends are sent is a method
/// here (or a branch of [`filter_sql`] for full-text search), never an `if` in a store method.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Events per `INSERT` of the bulk load. PostgreSQL: many, round trips dominate. SQLite: few,
    /// because binding a parameter looks its name up among all the statement's (sqlx calls
    /// `sqlite3_bind_parameter_name`), which grows with the square of the parameters: at 200 rows
    /// of 27 columns that lookup took 40 % of the load.
    pub(crate) fn bulk_rows(self) -> usize {
        match self {
            Dialect::Sqlite => 16,
            Dialect::Postgres => 200,
        }
    }

    /// The statement that writes a consistent copy of the whole database to a file (`$1`) while it
    /// is being written to: SQLite's `VACUUM INTO` reads in one transaction. PostgreSQL has its own
    /// tools (pg_dump, base backups with WAL archiving: docs/OPERATIONS.md).
    pub(crate) fn backup(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => Some("VACUUM INTO $1"),
            Dialect::Postgres => None,
        }
    }

    /// Statements that take and release a lock across processes around the migrations, so that
    /// nodes starting together apply each migration once (the others wait, then find it applied).
    /// PostgreSQL: a session-level advisory lock; SQLite: none (one node per database file).
    pub(crate) fn migration_lock(self) -> Option<(&'static str, &'static str)> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(("SELECT pg_advisory_lock(7211950)", "SELECT pg_advisory_unlock(7211950)")),
        }
    }

    /// The suffix of a `SELECT` that claims one job among many (the outbox): rows another node is
    /// claiming are skipped rather than waited for, so two nodes take two different emails at once.
    pub(crate) fn claim(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// The suffix of a `SELECT` that locks the rows it reads until the transaction ends. PostgreSQL
    /// needs it; SQLite's write transactions (`BEGIN IMMEDIATE`) already hold the database's only
    /// write lock, so nothing else can change the row in between.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// The suffix of a `SELECT` that keeps the rows it reads from changing until the transaction
    /// ends while letting other readers share them (a booking reads its event this way: a
    /// cancellation or a withdrawn label waits for the bookings in flight, and they for it).
    pub(crate) fn for_share(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR SHARE",
        }
    }

    /// Inserts an API token, returning its id. SQLite has no sequence for a column added later (the
    /// `id` of `api_tokens` came with migration 7): the next id is taken inside the serialised write;
    /// PostgreSQL's column default draws from its sequence.
    pub(crate) fn insert_api_token(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "INSERT INTO api_tokens (id, token_hash, user_id, name, expires_at, created_at) \
                 VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM api_tokens), $1, $2, $3, $4, $5) RETURNING id"
            }
            Dialect::Postgres => {
                "INSERT INTO api_tokens (token_hash, user_id, name, expires_at, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
            }
        }
    }
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

/// The columns that filters and the queue read, derived from the content: one typed row, written by
/// every path that stores content (an edit, an accepted change, the bulk load, a reindexing
/// migration) through [`IndexColumns::NAMES`] and the backends' `bind_index`, in that order.
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
    /// Seats per session, for events booked on the platform.
    pub seats_capacity: Option<i64>,
    /// The largest group one booking may bring (same events).
    pub seats_max_group: Option<i64>,
    /// How many sessions the event has.
    pub session_count: i64,
}

impl IndexColumns {
    /// The `events` columns, in the order `bind_index` binds them (`codes` go to `event_codes`).
    pub(crate) const NAMES: [&'static str; 16] = [
        "title",
        "region",
        "department",
        "commune_code",
        "event_type",
        "format",
        "accessible",
        "first_day",
        "last_day",
        "search",
        "lat",
        "lon",
        "weak_signal",
        "seats_capacity",
        "seats_max_group",
        "session_count",
    ];
}

pub(crate) fn index_columns(data: &EventData, organisation: &str) -> IndexColumns {
    let place = data.place();
    let sessions = data.parsed_sessions();
    let rules = si_domain::booking::BookingRules::of(&data.registration);
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
        seats_capacity: rules.map(|r| i64::from(r.capacity)),
        seats_max_group: rules.map(|r| i64::from(r.max_group)),
        session_count: sessions.len() as i64,
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
    if let Some(n) = f.places {
        // Some session with `n` seats left, open to bookings: a session without a seats row has had
        // no booking (all its seats are left); the others are read from `session_seats` (the rule
        // the catalogue index applies too, compared by a test).
        let p = next(&mut params, Param::Int(i64::from(n)));
        sql.push_str(&format!(
            " AND e.seats_capacity >= {p} AND e.seats_max_group >= {p} AND (e.session_count > \
             (SELECT COUNT(*) FROM session_seats s WHERE s.event_id = e.id) OR EXISTS (SELECT 1 FROM session_seats s \
             WHERE s.event_id = e.id AND NOT s.closed AND e.seats_capacity - s.confirmed >= {p}))"
        ));
    }
    // Each typed term, with its synonyms (one rule: `si_domain::text::query_terms`).
    let terms = f.q.as_deref().map(si_domain::text::query_terms).unwrap_or_default();
    if !terms.is_empty() {
        // Every term must match the start of a word of the folded, stemmed document (prefix match, so
        // that a word being typed already finds results); both backends tokenise on the same spaces.
        match dialect {
            Dialect::Sqlite => {
                let query = terms
                    .iter()
                    .map(|alts| {
                        format!("({})", alts.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" OR "))
                    })
                    .collect::<Vec<_>>()
                    .join(" AND ");
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
                let query = terms
                    .iter()
                    .map(|alts| format!("({})", alts.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" | ")))
                    .collect::<Vec<_>>()
                    .join(" & ");
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
                $crate::sql::Param::Text(s) => q.bind(s.clone()),
                $crate::sql::Param::Int(i) => q.bind(*i),
                $crate::sql::Param::Bool(b) => q.bind(*b),
                $crate::sql::Param::Date(d) => q.bind(*d),
                $crate::sql::Param::Float(x) => q.bind(*x),
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
