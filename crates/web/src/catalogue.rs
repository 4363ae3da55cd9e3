//! The in-memory catalogue index: every labelled event reduced to a few integers and its folded,
//! stemmed terms, with per-term posting lists. A public search intersects sorted lists and filters
//! compact records (microseconds), then takes the 20 events of the page from those searches showed
//! lately ([`Records`], exact: forgotten as their events move) or reads them from the store by id. It
//! answers exactly what `Store::search_events` answers (a test compares them), on either backend.
//!
//! Read whole from the store at the first search. Every write that changes what the public sees
//! bumps a counter in its own transaction (`Store::public_versions`), and a move of one event (a
//! label, a public status, an accepted change, a withdrawn label) also records which event
//! (`Store::catalogue_moves_after`): the index is brought up to date by applying those events alone
//! ([`Index::apply`]: the catalogue read whole stays shared, the moved events form a small second
//! index), before the next search after a decision of this process, and within [`FOLLOW_EVERY`] of
//! another process's (another node, the `demo` command) through [`Catalogue::follow`]. A bump without
//! a recorded move (an edition, the bulk load) makes it read the catalogue whole, as does a read
//! every ten minutes: the safety net for writes made outside the platform (SQL by hand).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use si_domain::territory::territory;
use si_domain::{Audience, EventType, Format, Sector, Theme};
use si_store::{CatalogueRow, DynStore, EventFilter, EventRecord, StoreResult};

/// Rows read from the store at a time while the index is built.
const REBUILD_SLICE: u32 = 5_000;

/// How long an index is trusted before it is rebuilt from the store whatever the counters say.
const MAX_AGE: Duration = Duration::from_secs(600);
/// No value: the code is absent.
const NONE8: u8 = u8::MAX;
const NONE16: u16 = u16::MAX;

/// One labelled event, compactly.
struct Doc {
    id: i64,
    edition: i32,
    organisation: i64,
    region: u8,
    department: u16,
    event_type: u8,
    format: u8,
    accessible: Option<bool>,
    first_day: i32,
    last_day: i32,
    lat: f64,
    lon: f64,
    has_place: bool,
    audiences: u8,
    sectors: u32,
    themes: u8,
    /// Seats per session (0: not booked on the platform).
    capacity: u32,
    /// The largest group one booking may bring.
    max_group: u32,
    sessions: u32,
}

/// Each session's confirmed seats and closing, by event: what bookings change between rebuilds.
pub type Seats = std::collections::HashMap<i64, Vec<si_store::SessionSeats>>;

fn seats_map(rows: Vec<si_store::SessionSeats>) -> Seats {
    let mut m = Seats::new();
    for s in rows {
        m.entry(s.event_id).or_default().push(s);
    }
    m
}

/// Whether an event has a session with `n` seats left and open, for a group of `n` (the store's
/// `places` SQL says the same: a test compares them).
fn has_places(d: &Doc, seats: &Seats, n: u32) -> bool {
    if d.capacity < n || d.max_group < n {
        return false;
    }
    let rows = seats.get(&d.id);
    d.sessions as usize > rows.map_or(0, Vec::len)
        || rows.is_some_and(|r| r.iter().any(|s| !s.closed && d.capacity.saturating_sub(s.confirmed) >= n))
}

/// One build of the index: every event read at once, reduced to compact records, posting lists and
/// titles. Immutable, shared by the [`Index`] values made from it.
struct Core {
    docs: Vec<Doc>,
    /// Distinct terms, sorted, so that a prefix is a contiguous range.
    terms: Vec<String>,
    /// For each term, the positions of the docs that contain it, ascending.
    postings: Vec<Vec<u32>>,
    /// The same for the words of the titles only: a match there ranks first.
    title_terms: Vec<String>,
    title_postings: Vec<Vec<u32>>,
    /// The docs with a place (latitude, longitude, position), by latitude: a `near` search reads a
    /// band only, and keeps the box of its radius without touching the docs outside it.
    by_lat: Vec<(f64, f64, u32)>,
    /// Every title one after the other, and where each doc's ends: the map's lone markers are named
    /// without reading the store (one allocation, ~5 MB at 100,000 events).
    titles: String,
    title_ends: Vec<u32>,
    /// Positions of the docs of each department (by its position in the territory), ascending: a
    /// search in a department reads its docs only, not every doc matching its words.
    by_department: Vec<Vec<u32>>,
}

/// The index of one moment of the catalogue: the catalogue as read whole (`base`), less the events
/// that moved since (`hidden`), plus those events as they are now (`delta`, a small index of their
/// own). A label, a withdrawal or a change makes a new `Index` that shares the base and rebuilds the
/// delta alone (milliseconds, where reading the catalogue again takes seconds at 100,000 events);
/// past [`DELTA_MAX`] events the whole index is read again. Every answer is the one an index read
/// whole would give (a test compares them): the inverse frequencies count both parts.
pub struct Index {
    base: Arc<Core>,
    hidden: std::collections::HashSet<u32>,
    delta: Arc<Core>,
    delta_rows: Vec<CatalogueRow>,
    built: Instant,
}

/// Events kept in an index's delta at most before the index is read whole again.
pub const DELTA_MAX: usize = 2_000;

/// A match: its sort key (distance² for `near`, relevance for text, else 0), the part it lives in
/// (0: base, 1: delta) and its position there.
type Hit = (f64, u8, u32);

/// Events of one cell of the map at a zoom level: where they are on average, how many, and the
/// event itself (id, title) when it is alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub lat: f64,
    pub lon: f64,
    pub count: u32,
    pub alone: Option<(i64, String)>,
}

/// The side of a cluster cell at `zoom`, in degrees of longitude: about 60 pixels of the map
/// (a 256-pixel tile spans 360° / 2^zoom).
pub fn cell_degrees(zoom: u8) -> f64 {
    60.0 * 360.0 / (256.0 * 2f64.powi(i32::from(zoom)))
}

/// The height of a cell relative to its width: a degree of latitude is longer than one of
/// longitude (by 1/cos 46° in metropolitan France), so cells look square on the map.
pub const CELL_ASPECT: f64 = 0.7;

fn position<T: PartialEq>(all: &[T], value: Option<T>) -> Option<usize> {
    value.and_then(|v| all.iter().position(|x| *x == v))
}

fn day(d: Option<NaiveDate>) -> i32 {
    d.map(|d| d.num_days_from_ce()).unwrap_or(0)
}

fn bit<T: PartialEq + Copy>(all: &[T], codes: &[T]) -> u32 {
    codes.iter().filter_map(|c| all.iter().position(|x| x == c)).fold(0, |m, i| m | (1 << i))
}

/// A filter turned into the index's codes once, for both parts.
struct Criteria<'f> {
    f: &'f EventFilter,
    regions: Vec<u8>,
    departments: Vec<u16>,
    types: Vec<u8>,
    formats: Vec<u8>,
    audiences: u8,
    sectors: u32,
    themes: u8,
    from: Option<i32>,
    to: Option<i32>,
    /// Centre, cos(latitude), and the half-sides of the box in degrees.
    near: Option<(si_store::Near, f64, f64, f64)>,
}

impl<'f> Criteria<'f> {
    fn of(f: &'f EventFilter) -> Criteria<'f> {
        let t = territory();
        Criteria {
            f,
            regions: f
                .regions
                .iter()
                .filter_map(|r| t.regions().iter().position(|x| x.code == *r))
                .map(|p| p as u8)
                .collect(),
            departments: f
                .departments
                .iter()
                .filter_map(|d| t.departments().iter().position(|x| x.code.eq_ignore_ascii_case(d)))
                .map(|p| p as u16)
                .collect(),
            types: f.types.iter().filter_map(|x| position(EventType::ALL, Some(*x))).map(|p| p as u8).collect(),
            formats: f.formats.iter().filter_map(|x| position(Format::ALL, Some(*x))).map(|p| p as u8).collect(),
            audiences: bit(Audience::ALL, &f.audiences) as u8,
            sectors: bit(Sector::ALL, &f.sectors),
            themes: bit(Theme::ALL, &f.themes) as u8,
            from: f.from.map(|d| d.num_days_from_ce()),
            to: f.to.map(|d| d.num_days_from_ce()),
            // Same geometry as the SQL: a box, then an equirectangular radius around the centre.
            near: f.near.map(|c| {
                let k = c.lat.to_radians().cos().max(0.01);
                let dlat = c.radius_km / 111.195;
                (c, k, dlat, dlat / k)
            }),
        }
    }

    /// Whether a doc matches the filter (text apart): `Some(distance²)` for a `near` search, else
    /// `Some(0)`.
    fn keep(&self, d: &Doc, seats: &Seats) -> Option<f64> {
        let f = self.f;
        if f.edition.is_some_and(|e| d.edition != e)
            || (!self.regions.is_empty() && !self.regions.contains(&d.region))
            || (!self.departments.is_empty() && !self.departments.contains(&d.department))
            || (!self.types.is_empty() && !self.types.contains(&d.event_type))
            || (!self.formats.is_empty() && !self.formats.contains(&d.format))
            || (self.audiences != 0 && d.audiences & self.audiences == 0)
            || (self.sectors != 0 && d.sectors & self.sectors == 0)
            || (self.themes != 0 && d.themes & self.themes == 0)
            || (!f.organisations.is_empty() && !f.organisations.contains(&d.organisation))
            || self.from.is_some_and(|x| d.last_day < x)
            || self.to.is_some_and(|x| d.first_day > x)
            || f.accessible.is_some_and(|a| d.accessible != Some(a))
            || f.places.is_some_and(|n| !has_places(d, seats, n))
        {
            return None;
        }
        match self.near {
            None => Some(0.0),
            Some((c, k, dlat, dlon)) => {
                if !d.has_place || (d.lat - c.lat).abs() > dlat || (d.lon - c.lon).abs() > dlon {
                    return None;
                }
                let d2 = (d.lat - c.lat).powi(2) + ((d.lon - c.lon) * k).powi(2);
                (d2 <= dlat * dlat).then_some(d2)
            }
        }
    }
}

/// For each group of a text query's alternatives: the docs of a part that contain one (anywhere,
/// in the title).
type TermDocs = Vec<(Vec<u32>, Vec<u32>)>;

impl Core {
    /// Positions of the docs containing a word starting with any of `prefixes`, ascending, in the
    /// whole document or (`title`) in the title only.
    fn prefix_docs(&self, prefixes: &[String], title: bool) -> Vec<u32> {
        let (terms, postings) =
            if title { (&self.title_terms, &self.title_postings) } else { (&self.terms, &self.postings) };
        let mut lists: Vec<&[u32]> = Vec::new();
        for prefix in prefixes {
            let start = terms.partition_point(|t| t.as_str() < prefix.as_str());
            for i in start..terms.len() {
                if !terms[i].starts_with(prefix.as_str()) {
                    break;
                }
                lists.push(&postings[i]);
            }
        }
        // Posting lists are sorted: a few are merged (sorting their concatenation was a quarter of
        // a search's time); many (a short prefix) are concatenated and sorted.
        match lists.len() {
            0 => Vec::new(),
            1 => lists[0].to_vec(),
            n if n <= 8 => lists[1..].iter().fold(lists[0].to_vec(), |acc, l| union(&acc, l)),
            _ => {
                let mut out: Vec<u32> = lists.concat();
                out.sort_unstable();
                out.dedup();
                out
            }
        }
    }

    fn title(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.title_ends[i - 1] as usize };
        &self.titles[start..self.title_ends[i] as usize]
    }

    /// The docs of this part that match (`hidden` ones left out), keyed: distance² for `near`, else
    /// relevance for text (each group's weight `idfs[g]`, three times more in the title), else 0.
    fn matches(
        &self,
        c: &Criteria<'_>,
        seats: &Seats,
        text: &TermDocs,
        idfs: &[f64],
        hidden: Option<&std::collections::HashSet<u32>>,
        part: u8,
    ) -> Vec<Hit> {
        // Text: each term (or one of its synonyms) must prefix-match a word.
        let mut candidates: Option<Vec<u32>> = None;
        for (docs, _) in text {
            candidates = Some(match candidates {
                None => docs.clone(),
                Some(x) => intersect(&x, docs),
            });
        }
        // A search in departments reads their docs only.
        if !c.departments.is_empty() {
            let mut in_departments: Vec<u32> = c
                .departments
                .iter()
                .filter_map(|d| self.by_department.get(usize::from(*d)))
                .flat_map(|l| l.iter().copied())
                .collect();
            in_departments.sort_unstable();
            candidates = Some(match candidates {
                None => in_departments,
                Some(x) => intersect(&x, &in_departments),
            });
        }
        // Without text, a `near` search starts from the band of latitudes it covers.
        let band: Option<Vec<u32>> = match (&candidates, c.near) {
            (None, Some((n, _, dlat, dlon))) => {
                let lo = self.by_lat.partition_point(|(lat, _, _)| *lat < n.lat - dlat);
                let hi = self.by_lat.partition_point(|(lat, _, _)| *lat <= n.lat + dlat);
                Some(
                    self.by_lat[lo..hi]
                        .iter()
                        .filter(|(_, lon, _)| (lon - n.lon).abs() <= dlon)
                        .map(|(_, _, i)| *i)
                        .collect(),
                )
            }
            _ => None,
        };
        let visible = |i: &u32| hidden.is_none_or(|h| !h.contains(i));
        let keyed = |i: u32| -> Option<Hit> {
            let d2 = c.keep(&self.docs[i as usize], seats)?;
            let key = if c.near.is_some() || text.is_empty() {
                d2
            } else {
                text.iter()
                    .zip(idfs)
                    .filter(|((docs, _), _)| docs.binary_search(&i).is_ok())
                    .map(|((_, title), w)| if title.binary_search(&i).is_ok() { 3.0 * w } else { *w })
                    .sum()
            };
            Some((key, part, i))
        };
        match candidates.as_ref().or(band.as_ref()) {
            Some(list) => list.iter().copied().filter(visible).filter_map(keyed).collect(),
            None => (0..self.docs.len() as u32).filter(visible).filter_map(keyed).collect(),
        }
    }
}

impl Index {
    /// Builds the index from the store's rows.
    pub fn build(rows: Vec<CatalogueRow>) -> Index {
        let mut b = IndexBuilder::default();
        b.add(rows);
        b.finish()
    }

    fn doc(&self, part: u8, i: u32) -> &Doc {
        if part == 0 { &self.base.docs[i as usize] } else { &self.delta.docs[i as usize] }
    }

    fn title(&self, part: u8, i: u32) -> &str {
        if part == 0 { self.base.title(i) } else { self.delta.title(i) }
    }

    /// The ids of every labelled event, ascending (the sitemap).
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        let mut base = self
            .base
            .docs
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.hidden.contains(&(*i as u32)))
            .map(|(_, d)| d.id)
            .peekable();
        let mut delta = self.delta.docs.iter().map(|d| d.id).peekable();
        std::iter::from_fn(move || match (base.peek(), delta.peek()) {
            (Some(a), Some(b)) if a > b => delta.next(),
            (Some(_), _) => base.next(),
            (None, _) => delta.next(),
        })
    }

    /// How many labelled events the index holds.
    pub fn len(&self) -> usize {
        self.base.docs.len() - self.hidden.len() + self.delta.docs.len()
    }

    /// Whether the index holds no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many events differ from the base read whole: changed or gone, and new.
    pub fn moved(&self) -> usize {
        let new = self.delta_rows.iter().filter(|r| self.base.docs.binary_search_by_key(&r.id, |d| d.id).is_err());
        self.hidden.len() + new.count()
    }

    /// This index with the events `ids` as they are now: `rows`, the rows of those still labelled
    /// (the others left the catalogue). The base is shared; the delta is rebuilt.
    pub fn apply(&self, ids: &[i64], rows: Vec<CatalogueRow>) -> Index {
        let mut hidden = self.hidden.clone();
        for id in ids {
            if let Ok(p) = self.base.docs.binary_search_by_key(id, |d| d.id) {
                hidden.insert(p as u32);
            }
        }
        let mut delta_rows: Vec<CatalogueRow> =
            self.delta_rows.iter().filter(|r| !ids.contains(&r.id)).cloned().collect();
        delta_rows.extend(rows);
        delta_rows.sort_by_key(|r| r.id);
        let mut b = IndexBuilder::default();
        b.add(delta_rows.clone());
        Index { base: self.base.clone(), hidden, delta: Arc::new(b.core()), delta_rows, built: self.built }
    }

    /// The ids of one page of matches, and how many match, in the order of `Store::search_events`:
    /// relevance for a text search, distance for a `near` search, else date.
    pub fn search(&self, f: &EventFilter, seats: &Seats) -> (u64, Vec<i64>) {
        let per_page = f.per_page.clamp(1, 100) as usize;
        let start = (f.page.max(1) as usize - 1).saturating_mul(per_page);
        let mut matches = self.select(f, seats, false);
        let total = matches.len() as u64;
        // Only the matches up to the end of the page need their order: the others are set apart
        // first (linear), then those few sorted.
        let end = start.saturating_add(per_page);
        let order = self.order(f);
        if matches.len() > end {
            matches.select_nth_unstable_by(end, &order);
            matches.truncate(end);
        }
        matches.sort_by(&order);
        let ids = matches.iter().skip(start).take(per_page).map(|h| self.doc(h.1, h.2).id).collect();
        (total, ids)
    }

    /// The ids of every match (at most `max`), in the same order as [`Index::search`]: what an
    /// export streams, a slice at a time.
    pub fn all(&self, f: &EventFilter, seats: &Seats, max: usize) -> Vec<i64> {
        self.select(f, seats, true).iter().take(max).map(|h| self.doc(h.1, h.2).id).collect()
    }

    /// Matching events with a place inside `within`, grouped by the cells of the map at `zoom`
    /// (cells in a fixed grid, so that panning keeps them), and how many matching events have a
    /// place anywhere. Cells in grid order.
    pub fn clusters(&self, f: &EventFilter, seats: &Seats, zoom: u8, within: si_store::Bbox) -> (usize, Vec<Cluster>) {
        let w = cell_degrees(zoom);
        let h = w * CELL_ASPECT;
        // By cell: sums of latitudes and longitudes, count, the first event (part, position).
        type Cell = (f64, f64, u32, (u8, u32));
        let mut cells: std::collections::BTreeMap<(i64, i64), Cell> = Default::default();
        let mut total = 0;
        for (_, part, i) in self.select(f, seats, false) {
            let d = self.doc(part, i);
            if !d.has_place {
                continue;
            }
            total += 1;
            if !within.contains(d.lat, d.lon) {
                continue;
            }
            let key = ((d.lat / h).floor() as i64, (d.lon / w).floor() as i64);
            let c = cells.entry(key).or_insert((0.0, 0.0, 0, (part, i)));
            c.0 += d.lat;
            c.1 += d.lon;
            c.2 += 1;
        }
        let clusters = cells
            .into_values()
            .map(|(lat, lon, count, (part, i))| Cluster {
                lat: lat / f64::from(count),
                lon: lon / f64::from(count),
                count,
                alone: (count == 1).then(|| (self.doc(part, i).id, self.title(part, i).to_string())),
            })
            .collect();
        (total, clusters)
    }

    /// Matching events with a place (inside `within` when given), by id, at most `max`: the map's
    /// markers as (id, lat, lon, title), without reading the store.
    pub fn markers(
        &self,
        f: &EventFilter,
        seats: &Seats,
        within: Option<si_store::Bbox>,
        max: usize,
    ) -> Vec<(i64, f64, f64, String)> {
        let mut found: Vec<(i64, u8, u32)> = self
            .select(f, seats, false)
            .into_iter()
            .filter(|&(_, part, i)| {
                let d = self.doc(part, i);
                d.has_place && within.is_none_or(|b| b.contains(d.lat, d.lon))
            })
            .map(|(_, part, i)| (self.doc(part, i).id, part, i))
            .collect();
        found.sort_unstable_by_key(|m| m.0);
        found
            .into_iter()
            .take(max)
            .map(|(id, part, i)| {
                let d = self.doc(part, i);
                (id, d.lat, d.lon, self.title(part, i).to_string())
            })
            .collect()
    }

    /// Every match, in the order of `Store::search_events` when `order` (what needs no order need
    /// not pay for the sort).
    fn select(&self, f: &EventFilter, seats: &Seats, order: bool) -> Vec<Hit> {
        let c = Criteria::of(f);
        let groups = f.q.as_deref().map(si_domain::text::query_terms).unwrap_or_default();
        let parts: [(&Core, Option<&std::collections::HashSet<u32>>); 2] =
            [(&self.base, Some(&self.hidden)), (&self.delta, None)];
        let text: Vec<TermDocs> = parts
            .iter()
            .map(|(core, hidden)| {
                groups
                    .iter()
                    .map(|g| {
                        let mut docs = core.prefix_docs(g, false);
                        if let Some(h) = hidden.filter(|h| !h.is_empty()) {
                            docs.retain(|i| !h.contains(i));
                        }
                        (docs, core.prefix_docs(g, true))
                    })
                    .collect()
            })
            .collect();
        // A rarer term weighs more (inverse frequency over the whole catalogue, both parts).
        let n = self.len() as f64;
        let idfs: Vec<f64> = (0..groups.len())
            .map(|g| {
                let df: usize = text.iter().map(|t| t[g].0.len()).sum();
                (n / (df as f64 + 1.0)).ln().max(0.0) + 1.0
            })
            .collect();
        let mut hits: Vec<Hit> = Vec::new();
        for (k, (core, hidden)) in parts.iter().enumerate() {
            hits.extend(core.matches(&c, seats, &text[k], &idfs, *hidden, k as u8));
        }
        if order {
            hits.sort_by(self.order(f));
        }
        hits
    }

    /// The order of `Store::search_events`: nearest first for a `near` search, else most relevant
    /// first for a text search, then by date and id.
    fn order(&self, f: &EventFilter) -> impl Fn(&Hit, &Hit) -> std::cmp::Ordering + '_ {
        let near = f.near.is_some();
        let text = f.q.as_deref().is_some_and(|q| !si_domain::text::query_terms(q).is_empty());
        move |a: &Hit, b: &Hit| {
            let (x, y) = (self.doc(a.1, a.2), self.doc(b.1, b.2));
            let by_date = || x.first_day.cmp(&y.first_day).then(x.id.cmp(&y.id));
            if near {
                a.0.total_cmp(&b.0).then_with(by_date)
            } else if text {
                b.0.total_cmp(&a.0).then_with(by_date)
            } else {
                by_date()
            }
        }
    }
}

/// The sorted union of two sorted lists, without repeats.
fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len() + b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len().min(b.len())));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// An index being built from slices of rows (in id order), so that the rows of a national catalogue
/// are never all in memory at once: each slice is reduced to integers and posting lists, then dropped.
#[derive(Default)]
pub struct IndexBuilder {
    by_term: std::collections::BTreeMap<String, Vec<u32>>,
    by_title_term: std::collections::BTreeMap<String, Vec<u32>>,
    docs: Vec<Doc>,
    titles: String,
    title_ends: Vec<u32>,
}

impl IndexBuilder {
    /// Adds a slice of rows (ids above those of the previous slices).
    pub fn add(&mut self, rows: Vec<CatalogueRow>) {
        let t = territory();
        let regions: Vec<&str> = t.regions().iter().map(|r| r.code.as_str()).collect();
        let departments: Vec<&str> = t.departments().iter().map(|d| d.code.as_str()).collect();
        let (by_term, by_title_term, docs) = (&mut self.by_term, &mut self.by_title_term, &mut self.docs);
        for r in rows {
            self.titles.push_str(&r.title);
            self.title_ends.push(u32::try_from(self.titles.len()).unwrap_or(u32::MAX));
            let i = docs.len();
            let codes = |kind: &str| -> Vec<String> {
                r.codes.iter().filter(|(k, _)| k == kind).map(|(_, c)| c.clone()).collect()
            };
            let audiences: Vec<Audience> = codes("audience").iter().filter_map(|c| Audience::parse(c)).collect();
            let sectors: Vec<Sector> = codes("sector").iter().filter_map(|c| Sector::parse(c)).collect();
            let themes: Vec<Theme> = codes("theme").iter().filter_map(|c| Theme::parse(c)).collect();
            for term in r.search.split(' ').filter(|t| !t.is_empty()) {
                // Most terms are already there: look up before allocating a key.
                let list = match by_term.get_mut(term) {
                    Some(l) => l,
                    None => by_term.entry(term.to_string()).or_default(),
                };
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
            for term in si_domain::text::terms(&r.title) {
                let list = by_title_term.entry(term).or_default();
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
            docs.push(Doc {
                id: r.id,
                edition: r.edition,
                organisation: r.organisation_id,
                region: position(&regions, r.region.as_deref()).map(|p| p as u8).unwrap_or(NONE8),
                department: position(&departments, r.department.as_deref()).map(|p| p as u16).unwrap_or(NONE16),
                event_type: position(EventType::ALL, r.event_type.as_deref().and_then(EventType::parse))
                    .map(|p| p as u8)
                    .unwrap_or(NONE8),
                format: position(Format::ALL, r.format.as_deref().and_then(Format::parse))
                    .map(|p| p as u8)
                    .unwrap_or(NONE8),
                accessible: r.accessible,
                first_day: day(r.first_day),
                last_day: day(r.last_day),
                has_place: r.lat.is_some() && r.lon.is_some(),
                lat: r.lat.unwrap_or(0.0),
                lon: r.lon.unwrap_or(0.0),
                audiences: bit(Audience::ALL, &audiences) as u8,
                sectors: bit(Sector::ALL, &sectors),
                themes: bit(Theme::ALL, &themes) as u8,
                capacity: r.seats_capacity.unwrap_or(0),
                max_group: r.seats_max_group.unwrap_or(0),
                sessions: r.session_count,
            });
        }
    }

    /// The index.
    pub fn finish(self) -> Index {
        Index {
            base: Arc::new(self.core()),
            hidden: Default::default(),
            delta: Arc::new(IndexBuilder::default().core()),
            delta_rows: Vec::new(),
            built: Instant::now(),
        }
    }

    fn core(self) -> Core {
        let IndexBuilder { by_term, by_title_term, mut docs, mut titles, mut title_ends } = self;
        docs.shrink_to_fit();
        titles.shrink_to_fit();
        title_ends.shrink_to_fit();
        let (terms, mut postings): (Vec<String>, Vec<Vec<u32>>) = by_term.into_iter().unzip();
        let (title_terms, mut title_postings): (Vec<String>, Vec<Vec<u32>>) = by_title_term.into_iter().unzip();
        postings.iter_mut().chain(title_postings.iter_mut()).for_each(|p| p.shrink_to_fit());
        let mut by_lat: Vec<(f64, f64, u32)> =
            docs.iter().enumerate().filter(|(_, d)| d.has_place).map(|(i, d)| (d.lat, d.lon, i as u32)).collect();
        by_lat.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        let mut by_department: Vec<Vec<u32>> = vec![Vec::new(); territory().departments().len()];
        for (i, d) in docs.iter().enumerate() {
            if let Some(list) = by_department.get_mut(usize::from(d.department)) {
                list.push(i as u32);
            }
        }
        Core { docs, terms, postings, title_terms, title_postings, by_lat, titles, title_ends, by_department }
    }
}

/// What [`Catalogue::follow`] found stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// Nothing changed.
    Nothing,
    /// Labelled events changed: the index was brought up to date.
    Labels,
    /// Seats changed: they were reloaded.
    Seats,
}

/// Public records kept for searches at most, in number and in (estimated) bytes.
const RECORDS_MAX: usize = 20_000;
const RECORDS_MAX_BYTES: usize = 20 * 1024 * 1024;

/// What a record costs in memory, roughly: the struct, and its content's size as JSON (every text
/// and list it holds, the field names standing for the allocations' overhead). On the demonstration
/// data this counts ~2.3 KB per event, while the node's peak memory grows by ~3.5 KB per event kept
/// (allocator overhead): the 20 MB bound costs up to ~30 MB of memory.
fn record_weight(r: &EventRecord) -> usize {
    let data = |d: &si_domain::EventData| serde_json::to_vec(d).map_or(4096, |j| j.len());
    std::mem::size_of::<EventRecord>() + r.organisation_name.len() + data(&r.data) + r.pending.as_ref().map_or(0, data)
}

/// The events that searches showed lately, as the store gave them, by id: a page of results whose
/// events were shown before needs no database round trip. An entry is exact until its event moves in
/// the catalogue: the index's moves ([`Catalogue::catch_up`]) forget the events they apply, a whole
/// read forgets everything, and a record read from the store while moves were being applied is not
/// kept (the generation tells). Bounded in entries and bytes; the oldest kept makes room.
struct Records {
    inner: std::sync::Mutex<RecordsInner>,
    max: usize,
    max_bytes: usize,
}

impl Default for Records {
    fn default() -> Self {
        Records::new(RECORDS_MAX, RECORDS_MAX_BYTES)
    }
}

#[derive(Default)]
struct RecordsInner {
    /// By id: the order of keeping, the record, its weight.
    map: std::collections::HashMap<i64, (u64, Arc<EventRecord>, usize)>,
    /// (order of keeping, id), oldest first; an entry whose order no longer matches the map's is stale.
    order: std::collections::VecDeque<(u64, i64)>,
    bytes: usize,
    kept: u64,
    /// Bumped by every forgetting.
    generation: u64,
}

impl Records {
    fn new(max: usize, max_bytes: usize) -> Self {
        Records { inner: Default::default(), max, max_bytes }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RecordsInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The records held for `ids` (`None` where not held), and the generation to give [`Records::keep`].
    fn get(&self, ids: &[i64]) -> (u64, Vec<Option<Arc<EventRecord>>>) {
        let inner = self.lock();
        (inner.generation, ids.iter().map(|id| inner.map.get(id).map(|e| e.1.clone())).collect())
    }

    /// Keeps records read from the store after [`Records::get`] gave `generation`, unless events were
    /// forgotten since: the read may predate their move.
    fn keep(&self, generation: u64, records: &[Arc<EventRecord>]) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        for r in records {
            let weight = record_weight(r);
            inner.kept += 1;
            let kept = inner.kept;
            if let Some(old) = inner.map.insert(r.id, (kept, r.clone(), weight)) {
                inner.bytes -= old.2;
            }
            inner.bytes += weight;
            inner.order.push_back((kept, r.id));
        }
        while inner.map.len() > self.max || inner.bytes > self.max_bytes {
            let Some((kept, id)) = inner.order.pop_front() else { break };
            if inner.map.get(&id).is_some_and(|e| e.0 == kept)
                && let Some(e) = inner.map.remove(&id)
            {
                inner.bytes -= e.2;
            }
        }
        // Entries left stale by forgetting or keeping again, dropped before they outnumber the live ones.
        if inner.order.len() > 2 * inner.map.len().max(self.max / 2) {
            let RecordsInner { map, order, .. } = &mut *inner;
            order.retain(|(kept, id)| map.get(id).is_some_and(|e| e.0 == *kept));
        }
    }

    /// Forgets these events (they moved in the catalogue).
    fn forget(&self, ids: &[i64]) {
        let mut inner = self.lock();
        inner.generation += 1;
        for id in ids {
            if let Some(e) = inner.map.remove(id) {
                inner.bytes -= e.2;
            }
        }
    }

    /// Forgets everything (the catalogue was read whole).
    fn clear(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.map.clear();
        inner.order.clear();
        inner.bytes = 0;
    }

    /// Records held and their estimated bytes.
    fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.map.len(), inner.bytes)
    }
}

/// The current index, brought up to date on demand.
#[derive(Default)]
pub struct Catalogue {
    current: RwLock<Option<Arc<Index>>>,
    /// The events searches showed lately (see [`Records`]).
    records: Records,
    /// Events of search pages served from memory, and read from the store (monitoring).
    records_served: std::sync::atomic::AtomicU64,
    records_read: std::sync::atomic::AtomicU64,
    /// The editions' years, read with the catalogue (an edition's creation or change reads it whole).
    editions: RwLock<Arc<Vec<i32>>>,
    /// The seats of the sessions booked so far, read with the index and updated by this process's
    /// bookings at once (other processes' within a rebuild).
    seats: RwLock<Arc<Seats>>,
    /// Serialises rebuilds and updates so that a burst of searches does the work once.
    rebuilding: tokio::sync::Mutex<()>,
    /// A background refresh is running.
    refreshing: std::sync::atomic::AtomicBool,
    /// The store's change counters as they were when the index and the seats were last read.
    seen: std::sync::Mutex<si_store::PublicVersions>,
    /// Moves of this process ([`Catalogue::invalidate`]) and how many of them the index has caught
    /// up with: the next search brings the index up to date first.
    moved: std::sync::atomic::AtomicU64,
    caught_up: std::sync::atomic::AtomicU64,
    /// Whole reads of the catalogue, and moves applied to the index (tests, monitoring).
    reads: std::sync::atomic::AtomicU64,
    updates: std::sync::atomic::AtomicU64,
}

/// How often a node polls the store's change counters ([`Catalogue::follow`]): a change made through
/// another node is public here within this, plus the time to rebuild the index.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

impl Catalogue {
    /// A decision of this process changed what is labelled: the next search applies the moves
    /// recorded since the index was read (or reads the catalogue whole) before answering.
    pub fn invalidate(&self) {
        self.moved.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// How many times the catalogue was read whole, and how many times moves were applied to the
    /// index.
    pub fn refreshes(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.reads.load(Relaxed), self.updates.load(Relaxed))
    }

    /// Brings the index up to the store (call with `rebuilding` held): the moves recorded since it
    /// was read are applied to it when they follow on from it one by one and reach the counter;
    /// otherwise (an edition or a bulk load bumped the counter without a move, moves swept, too many
    /// moved since the last whole read) the catalogue is read whole.
    async fn catch_up(&self, store: &DynStore) -> StoreResult<Arc<Index>> {
        let Some(index) = self.current() else { return self.rebuild(store).await };
        let versions = store.public_versions().await?;
        let seen = self.seen.lock().map(|s| s.labels).unwrap_or_default();
        if versions.labels == seen {
            return Ok(index);
        }
        let moves = store.catalogue_moves_after(seen).await?;
        let follows = moves.iter().zip(seen + 1..).all(|(m, v)| m.0 == v);
        let last = moves.last().map_or(seen, |m| m.0);
        if !follows || last < versions.labels || index.moved() + moves.len() > DELTA_MAX {
            return self.rebuild(store).await;
        }
        let ids: Vec<i64> = moves.iter().map(|m| m.1).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let rows = store.catalogue_rows_of(&ids).await?;
        let next = Arc::new(index.apply(&ids, rows));
        self.records.forget(&ids);
        if let Ok(mut c) = self.current.write() {
            *c = Some(next.clone());
        }
        if let Ok(mut s) = self.seen.lock() {
            s.labels = last;
        }
        self.updates.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(next)
    }

    fn current(&self) -> Option<Arc<Index>> {
        self.current.read().ok()?.clone()
    }

    /// A booking changed an event's seats: the `places` filter sees it at once.
    pub fn set_seats(&self, event_id: i64, rows: Vec<si_store::SessionSeats>) {
        if let Ok(mut s) = self.seats.write() {
            let mut next = (**s).clone();
            next.remove(&event_id);
            next.extend(seats_map(rows));
            *s = Arc::new(next);
        }
    }

    fn seats(&self) -> Arc<Seats> {
        self.seats.read().map(|s| s.clone()).unwrap_or_default()
    }

    async fn rebuild(&self, store: &DynStore) -> StoreResult<Arc<Index>> {
        // The counters first: a change committed while the rows are read is seen again next time.
        let versions = store.public_versions().await?;
        let seats = seats_map(store.all_session_seats().await?);
        let editions: Vec<i32> = store.editions().await?.iter().map(|e| e.year).collect();
        let mut builder = IndexBuilder::default();
        let mut after = 0;
        loop {
            let slice = store.catalogue_rows_after(after, REBUILD_SLICE).await?;
            let Some(last) = slice.last().map(|r| r.id) else { break };
            after = last;
            builder.add(slice);
        }
        let index = Arc::new(builder.finish());
        self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.records.clear();
        if let Ok(mut e) = self.editions.write() {
            *e = Arc::new(editions);
        }
        if let Ok(mut s) = self.seats.write() {
            *s = Arc::new(seats);
        }
        if let Ok(mut c) = self.current.write() {
            *c = Some(index.clone());
        }
        if let Ok(mut seen) = self.seen.lock() {
            *seen = versions;
        }
        Ok(index)
    }

    /// One look at the store's change counters (run every [`FOLLOW_EVERY`] by `serve`): when another
    /// node labelled, changed or withdrew an event, or booked seats, this node's cached answers are
    /// dropped and its index brought up to date (the events that moved applied to it, the old one
    /// answering meanwhile) or its seats reloaded. Returns what was stale.
    pub async fn follow(&self, store: &DynStore, caches: &crate::cache::Caches) -> StoreResult<Stale> {
        let now = store.public_versions().await?;
        let seen = self.seen.lock().map(|s| *s).unwrap_or_default();
        if now.labels != seen.labels {
            if self.current().is_some() {
                let _guard = self.rebuilding.lock().await;
                self.catch_up(store).await?;
            } else if let Ok(mut s) = self.seen.lock() {
                // No index yet: the first search builds it from the rows as they are now.
                s.labels = now.labels;
            }
            caches.clear();
            return Ok(Stale::Labels);
        }
        if now.seats != seen.seats {
            let seats = seats_map(store.all_session_seats().await?);
            if let Ok(mut s) = self.seats.write() {
                *s = Arc::new(seats);
            }
            if let Ok(mut s) = self.seen.lock() {
                s.seats = now.seats;
            }
            caches.clear();
            return Ok(Stale::Seats);
        }
        Ok(Stale::Nothing)
    }

    /// The current index's age and number of events (monitoring), if one is built.
    pub fn facts(&self) -> Option<(Duration, usize)> {
        self.current().map(|i| (i.built.elapsed(), i.len()))
    }

    /// Whether an index has been built (readiness).
    pub fn is_built(&self) -> bool {
        self.current().is_some()
    }

    /// The index: built now when missing (first search); brought up to date first after a decision
    /// of this process, so that a labelled event is public at once; when merely old, the old one
    /// answers while a background task reads the catalogue whole again.
    pub async fn index(self: &Arc<Self>, store: &DynStore) -> StoreResult<Arc<Index>> {
        use std::sync::atomic::Ordering::Acquire;
        if self.moved.load(Acquire) > self.caught_up.load(Acquire) {
            let _guard = self.rebuilding.lock().await;
            // Read under the lock: a decision made while this catches up is caught up next time.
            let moved = self.moved.load(Acquire);
            if moved > self.caught_up.load(Acquire) {
                let index = self.catch_up(store).await?;
                self.caught_up.store(moved, std::sync::atomic::Ordering::Release);
                return Ok(index);
            }
            if let Some(i) = self.current() {
                return Ok(i);
            }
        }
        if let Some(i) = self.current() {
            if i.built.elapsed() >= MAX_AGE && !self.refreshing.swap(true, std::sync::atomic::Ordering::AcqRel) {
                let (me, store) = (self.clone(), store.clone());
                tokio::spawn(async move {
                    let _guard = me.rebuilding.lock().await;
                    if let Err(e) = me.rebuild(&store).await {
                        tracing::error!(error = %e, "catalogue index refresh failed");
                    }
                    me.refreshing.store(false, std::sync::atomic::Ordering::Release);
                });
            }
            return Ok(i);
        }
        let _guard = self.rebuilding.lock().await;
        if let Some(i) = self.current() {
            return Ok(i);
        }
        self.rebuild(store).await
    }

    /// The ids of every labelled event matching the filter (at most `max`), in the catalogue's order.
    pub async fn all_ids(self: &Arc<Self>, store: &DynStore, f: &EventFilter, max: usize) -> StoreResult<Vec<i64>> {
        Ok(self.index(store).await?.all(f, &self.seats(), max))
    }

    /// Matching events with a place counted by cells of the map (see [`Index::clusters`]).
    pub async fn clusters(
        self: &Arc<Self>,
        store: &DynStore,
        f: &EventFilter,
        zoom: u8,
        within: si_store::Bbox,
    ) -> StoreResult<(usize, Vec<Cluster>)> {
        Ok(self.index(store).await?.clusters(f, &self.seats(), zoom, within))
    }

    /// The map's markers (see [`Index::markers`]).
    pub async fn markers(
        self: &Arc<Self>,
        store: &DynStore,
        f: &EventFilter,
        within: Option<si_store::Bbox>,
        max: usize,
    ) -> StoreResult<Vec<(i64, f64, f64, String)>> {
        Ok(self.index(store).await?.markers(f, &self.seats(), within, max))
    }

    /// One page of labelled events matching the filter, and the total: the events from memory when
    /// searches showed them lately, the others read from the store in one query.
    pub async fn search(
        self: &Arc<Self>,
        store: &DynStore,
        f: &EventFilter,
    ) -> StoreResult<(u64, Vec<Arc<EventRecord>>)> {
        let index = self.index(store).await?;
        let (total, ids) = index.search(f, &self.seats());
        Ok((total, self.records_of(store, &ids).await?))
    }

    async fn records_of(&self, store: &DynStore, ids: &[i64]) -> StoreResult<Vec<Arc<EventRecord>>> {
        use std::sync::atomic::Ordering::Relaxed;
        let (generation, held) = self.records.get(ids);
        let missing: Vec<i64> = ids.iter().zip(&held).filter(|(_, r)| r.is_none()).map(|(id, _)| *id).collect();
        self.records_served.fetch_add((ids.len() - missing.len()) as u64, Relaxed);
        if missing.is_empty() {
            return Ok(held.into_iter().flatten().collect());
        }
        self.records_read.fetch_add(missing.len() as u64, Relaxed);
        let read: Vec<Arc<EventRecord>> = store.events_by_ids(&missing).await?.into_iter().map(Arc::new).collect();
        self.records.keep(generation, &read);
        let mut read: std::collections::HashMap<i64, Arc<EventRecord>> = read.into_iter().map(|r| (r.id, r)).collect();
        Ok(ids.iter().zip(held).filter_map(|(id, r)| r.or_else(|| read.remove(id))).collect())
    }

    /// The seats of these events' sessions that have had a booking, as the index knows them (this
    /// node's bookings at once, the other nodes' within [`FOLLOW_EVERY`]).
    pub fn seats_of(&self, ids: &[i64]) -> Vec<si_store::SessionSeats> {
        let seats = self.seats();
        ids.iter().filter_map(|id| seats.get(id)).flatten().copied().collect()
    }

    /// Whether the edition of this year exists (the editions are read with the catalogue).
    pub async fn has_edition(self: &Arc<Self>, store: &DynStore, year: i32) -> StoreResult<bool> {
        self.index(store).await?;
        Ok(self.editions.read().is_ok_and(|e| e.contains(&year)))
    }

    /// Events of search pages served from memory and read from the store since the start, and the
    /// records held now with their estimated bytes (monitoring).
    pub fn record_facts(&self) -> (u64, u64, usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let (held, bytes) = self.records.usage();
        (self.records_served.load(Relaxed), self.records_read.load(Relaxed), held, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: [&str; 8] = ["visite", "usine", "soudure", "robot", "atelier", "chantier", "forge", "moteur"];

    fn row(id: i64, k: usize) -> CatalogueRow {
        // Words drawn unevenly, so that terms have different frequencies (and weights).
        let words: Vec<&str> = (0..8).filter(|w| (k * 7 + w * 3).is_multiple_of(w + 2)).map(|w| WORDS[w]).collect();
        let title = format!("{} {id}", words.first().copied().unwrap_or("événement"));
        let day = NaiveDate::from_ymd_opt(2026, 11, 16 + (k % 5) as u32);
        CatalogueRow {
            id,
            edition: 2026,
            organisation_id: 1 + (k % 3) as i64,
            region: Some(["84", "93", "53"][k % 3].into()),
            department: Some(["69", "13", "29"][k % 3].into()),
            event_type: Some("visite_entreprise".into()),
            format: Some("presentiel".into()),
            accessible: Some(k.is_multiple_of(2)),
            first_day: day,
            last_day: day,
            lat: Some(45.0 + (k % 4) as f64),
            lon: Some(4.0 - (k % 3) as f64),
            search: si_domain::text::terms(&format!("{title} {}", words.join(" "))).join(" "),
            title,
            codes: vec![("audience".into(), ["scolaires", "jeunes"][k % 2].into())],
            seats_capacity: None,
            seats_max_group: None,
            session_count: 1,
        }
    }

    /// Scored hits, ids, clusters and markers.
    type Answers = (Vec<(f64, i64)>, Vec<i64>, Vec<Cluster>, Vec<(i64, f64, f64, String)>);

    fn answers(index: &Index, f: &EventFilter) -> Answers {
        let seats = Seats::new();
        let hits = index.select(f, &seats, true).iter().map(|h| (h.0, index.doc(h.1, h.2).id)).collect();
        let (_, clusters) = index.clusters(f, &seats, 5, si_store::Bbox::WORLD);
        (hits, index.ids().collect(), clusters, index.markers(f, &seats, None, 1_000))
    }

    #[test]
    fn sorted_lists_merge_without_repeats() {
        assert_eq!(union(&[1, 4, 9], &[2, 4, 10, 11]), [1, 2, 4, 9, 10, 11]);
        assert_eq!(union(&[], &[3]), [3]);
        assert_eq!(intersect(&[1, 4, 9, 11], &[2, 4, 11]), [4, 11]);
    }

    /// Moves applied to an index (events changed, gone, new) give exactly the answers, scores
    /// included, of an index read whole from the same rows.
    #[test]
    fn an_index_with_moves_applied_answers_as_one_read_whole() {
        let before: Vec<CatalogueRow> = (1..=40).map(|id| row(id, id as usize)).collect();
        let read = Index::build(before.clone());
        // Changed: 3, 8, 21 (other words); gone: 5, 30; new: 41, 42. Then 8 changes again and 41 goes.
        let changed = |id: i64| row(id, id as usize + 11);
        let once =
            read.apply(&[3, 8, 21, 5, 30, 41, 42], vec![changed(3), changed(8), changed(21), row(41, 41), row(42, 42)]);
        let twice = once.apply(&[8, 41], vec![row(8, 99)]);
        let mut after: Vec<CatalogueRow> = before.into_iter().filter(|r| ![3, 8, 21, 5, 30].contains(&r.id)).collect();
        after.extend([changed(3), row(8, 99), changed(21), row(42, 42)]);
        after.sort_by_key(|r| r.id);
        let whole = Index::build(after);
        assert_eq!((twice.len(), twice.moved()), (whole.len(), 6));
        let near = Some(si_store::Near { lat: 46.0, lon: 3.0, radius_km: 150.0 });
        for f in [
            EventFilter::default(),
            EventFilter { q: Some("visite".into()), ..Default::default() },
            EventFilter { q: Some("usine soudure".into()), ..Default::default() },
            EventFilter { q: Some("robot atelier".into()), ..Default::default() },
            EventFilter { q: Some("forge".into()), regions: vec!["84".into()], ..Default::default() },
            EventFilter { near, ..Default::default() },
            EventFilter { near, q: Some("moteur".into()), ..Default::default() },
            EventFilter { audiences: vec![Audience::Jeunes], ..Default::default() },
            EventFilter { departments: vec!["69".into(), "29".into()], ..Default::default() },
            EventFilter { departments: vec!["13".into()], q: Some("visite soudure".into()), ..Default::default() },
        ] {
            assert_eq!(answers(&twice, &f), answers(&whole, &f), "{f:?}");
            // A page (only its matches put in order) is the same slice of the whole order.
            let seats = Seats::new();
            let all: Vec<i64> = twice.select(&f, &seats, true).iter().map(|h| twice.doc(h.1, h.2).id).collect();
            for (page, per_page) in [(1, 3), (2, 3), (4, 7), (1, 100), (9, 10)] {
                let paged = EventFilter { page, per_page, ..f.clone() };
                let start = (page as usize - 1) * per_page as usize;
                let expected: Vec<i64> = all.iter().skip(start).take(per_page as usize).copied().collect();
                assert_eq!(twice.search(&paged, &seats), (all.len() as u64, expected), "{paged:?}");
            }
        }
    }

    fn record(id: i64, description: usize) -> Arc<EventRecord> {
        let at = chrono::Utc::now();
        Arc::new(EventRecord {
            id,
            edition: 2026,
            organisation_id: 1,
            organisation_name: "Usine".into(),
            organisation_kind: si_domain::OrganisationKind::Entreprise,
            data: si_domain::EventData {
                title: format!("Visite {id}"),
                description: "x".repeat(description),
                ..Default::default()
            },
            moderation: si_domain::Moderation::Labelled,
            public_status: si_domain::PublicStatus::Scheduled,
            label_number: None,
            region: None,
            department: None,
            submitted_at: None,
            decided_at: None,
            decision_reason: None,
            created_at: at,
            updated_at: at,
            pending: None,
            change_submitted_at: None,
            labelled_at: None,
            version: 1,
        })
    }

    #[test]
    fn records_read_while_events_moved_are_not_kept() {
        let records = Records::default();
        let (before, held) = records.get(&[1, 2]);
        assert!(held.iter().all(Option::is_none));
        // An event moves (the index applies it) while a search reads 1 and 2 from the store: what the
        // search read may be the event before its move, so none of it is kept.
        records.forget(&[2]);
        records.keep(before, &[record(1, 10), record(2, 10)]);
        assert!(records.get(&[1, 2]).1.iter().all(Option::is_none));
        // Read after the move: kept, and given back in the order asked.
        let (now, _) = records.get(&[1, 2]);
        records.keep(now, &[record(1, 10), record(2, 10)]);
        let held: Vec<i64> = records.get(&[2, 3, 1]).1.iter().map(|r| r.as_ref().map_or(0, |r| r.id)).collect();
        assert_eq!(held, [2, 0, 1]);
        // A move forgets its events only; a whole read forgets everything.
        records.forget(&[1]);
        assert!(records.get(&[1]).1[0].is_none() && records.get(&[2]).1[0].is_some());
        records.clear();
        assert_eq!(records.usage(), (0, 0));
    }

    #[test]
    fn records_stay_within_entries_and_bytes() {
        const MAX: usize = 500;
        let one = record_weight(&record(0, 100));
        // Small records beyond the count, kept by pages of 20, half of each page kept twice.
        let records = Records::new(MAX, 1_000 * one);
        for page in 0..(MAX as i64 / 5) {
            let (g, _) = records.get(&[]);
            let batch: Vec<_> = (0..20).map(|k| record(page * 10 + k, 100)).collect();
            records.keep(g, &batch);
            let (held, bytes) = records.usage();
            assert!(held <= MAX && bytes <= 1_000 * one, "{held} {bytes}");
        }
        assert_eq!(records.usage().0, MAX);
        let order = records.lock().order.len();
        assert!(order <= 2 * MAX, "pages kept twice leave stale bookkeeping, dropped in time: {order}");
        // The newest are those kept.
        assert!(records.get(&[MAX as i64 * 2 + 9]).1[0].is_some());
        assert!(records.get(&[0]).1[0].is_none());
        // Large records: the bytes bound holds, and the bookkeeping stays proportionate.
        let records = Records::default();
        for id in 0..2_000 {
            let (g, _) = records.get(&[]);
            records.keep(g, &[record(1_000_000 + id, 64 * 1024)]);
        }
        let (held, bytes) = records.usage();
        assert!(bytes <= RECORDS_MAX_BYTES && held < 400, "{held} {bytes}");
        let order = records.lock().order.len();
        assert!(order <= 2 * RECORDS_MAX, "{order}");
        for id in 0..1_000 {
            records.forget(&[id]);
        }
        let inner = records.lock();
        assert_eq!(inner.bytes, inner.map.values().map(|e| e.2).sum::<usize>());
    }
}
