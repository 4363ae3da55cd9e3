//! The in-memory catalogue index: every labelled event reduced to a few integers and its folded,
//! stemmed terms, with per-term posting lists. A public search intersects sorted lists and filters
//! compact records (microseconds), then reads the 20 events of the page from the store by id. It
//! answers exactly what `Store::search_events` answers (a test compares them), on either backend.
//!
//! Built from the store at the first search, rebuilt at once when a decision of this process labels an
//! event, and within [`FOLLOW_EVERY`] plus a rebuild when another process (another node, the `demo`
//! command) changed what the public sees: every such write bumps a counter in its own transaction
//! (`Store::public_versions`), which [`Catalogue::follow`] polls. A rebuild every ten minutes is the
//! safety net for writes made outside the platform (SQL by hand).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use si_domain::territory::territory;
use si_domain::{Audience, EventType, Format, Sector, Theme};
use si_store::{CatalogueRow, DynStore, EventFilter, StoreResult};

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
pub type Seats = std::collections::HashMap<i64, Vec<(u32, u32, bool)>>;

fn seats_map(rows: Vec<si_store::SessionSeats>) -> Seats {
    let mut m = Seats::new();
    for s in rows {
        m.entry(s.event_id).or_default().push((s.rank, s.confirmed, s.closed));
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
        || rows.is_some_and(|r| {
            r.iter().any(|&(_, confirmed, closed)| !closed && d.capacity.saturating_sub(confirmed) >= n)
        })
}

/// The index of one moment of the catalogue.
pub struct Index {
    docs: Vec<Doc>,
    /// Distinct terms, sorted, so that a prefix is a contiguous range.
    terms: Vec<String>,
    /// For each term, the positions of the docs that contain it, ascending.
    postings: Vec<Vec<u32>>,
    /// The same for the words of the titles only: a match there ranks first.
    title_terms: Vec<String>,
    title_postings: Vec<Vec<u32>>,
    /// Positions of the docs with a place, by latitude, so that a `near` search reads a band only.
    by_lat: Vec<(f64, u32)>,
    /// Every title one after the other, and where each doc's ends: the map's lone markers are named
    /// without reading the store (one allocation, ~5 MB at 100,000 events).
    titles: String,
    title_ends: Vec<u32>,
    built: Instant,
}

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

impl Index {
    /// Builds the index from the store's rows.
    pub fn build(rows: Vec<CatalogueRow>) -> Index {
        let mut b = IndexBuilder::default();
        b.add(rows);
        b.finish()
    }

    /// The ids of every labelled event, ascending (the sitemap).
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.docs.iter().map(|d| d.id)
    }

    /// How many labelled events the index holds.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether the index holds no event.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Positions of the docs containing a word starting with any of `prefixes`, ascending, in the
    /// whole document or (`title`) in the title only.
    fn prefix_docs(&self, prefixes: &[String], title: bool) -> Vec<u32> {
        let (terms, postings) =
            if title { (&self.title_terms, &self.title_postings) } else { (&self.terms, &self.postings) };
        let mut out: Vec<u32> = Vec::new();
        for prefix in prefixes {
            let start = terms.partition_point(|t| t.as_str() < prefix.as_str());
            for i in start..terms.len() {
                if !terms[i].starts_with(prefix.as_str()) {
                    break;
                }
                out.extend_from_slice(&postings[i]);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The ids of one page of matches, and how many match, in the order of `Store::search_events`:
    /// relevance for a text search, distance for a `near` search, else date.
    pub fn search(&self, f: &EventFilter, seats: &Seats) -> (u64, Vec<i64>) {
        let matches = self.ranked(f, seats);
        let per_page = f.per_page.clamp(1, 100) as usize;
        let start = (f.page.max(1) as usize - 1).saturating_mul(per_page);
        let ids = matches.iter().skip(start).take(per_page).map(|(_, i)| self.docs[*i as usize].id).collect();
        (matches.len() as u64, ids)
    }

    /// The ids of every match (at most `max`), in the same order as [`Index::search`]: what an
    /// export streams, a slice at a time.
    pub fn all(&self, f: &EventFilter, seats: &Seats, max: usize) -> Vec<i64> {
        self.ranked(f, seats).iter().take(max).map(|(_, i)| self.docs[*i as usize].id).collect()
    }

    /// Matching events with a place inside `within`, grouped by the cells of the map at `zoom`
    /// (cells in a fixed grid, so that panning keeps them), and how many matching events have a
    /// place anywhere. Cells in grid order.
    pub fn clusters(&self, f: &EventFilter, seats: &Seats, zoom: u8, within: si_store::Bbox) -> (usize, Vec<Cluster>) {
        let w = cell_degrees(zoom);
        let h = w * CELL_ASPECT;
        let mut cells: std::collections::BTreeMap<(i64, i64), (f64, f64, u32, u32)> = Default::default();
        let mut total = 0;
        for (_, i) in self.select(f, seats, false) {
            let d = &self.docs[i as usize];
            if !d.has_place {
                continue;
            }
            total += 1;
            if !within.contains(d.lat, d.lon) {
                continue;
            }
            let key = ((d.lat / h).floor() as i64, (d.lon / w).floor() as i64);
            let c = cells.entry(key).or_insert((0.0, 0.0, 0, i));
            c.0 += d.lat;
            c.1 += d.lon;
            c.2 += 1;
        }
        let clusters = cells
            .into_values()
            .map(|(lat, lon, count, first)| Cluster {
                lat: lat / f64::from(count),
                lon: lon / f64::from(count),
                count,
                alone: (count == 1).then(|| (self.docs[first as usize].id, self.title(first).to_string())),
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
        let mut positions: Vec<u32> = self
            .select(f, seats, false)
            .into_iter()
            .map(|(_, i)| i)
            .filter(|&i| {
                let d = &self.docs[i as usize];
                d.has_place && within.is_none_or(|b| b.contains(d.lat, d.lon))
            })
            .collect();
        // Docs are in id order: by position is by id.
        positions.sort_unstable();
        positions
            .into_iter()
            .take(max)
            .map(|i| {
                let d = &self.docs[i as usize];
                (d.id, d.lat, d.lon, self.title(i).to_string())
            })
            .collect()
    }

    fn title(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.title_ends[i - 1] as usize };
        &self.titles[start..self.title_ends[i] as usize]
    }

    /// Every match as (sort key, document), in the order of `Store::search_events`.
    fn ranked(&self, f: &EventFilter, seats: &Seats) -> Vec<(f64, u32)> {
        self.select(f, seats, true)
    }

    /// Every match as (sort key, document), in the order of `Store::search_events` when `order`,
    /// else in no particular order (what needs no order need not pay for the sort).
    fn select(&self, f: &EventFilter, seats: &Seats, order: bool) -> Vec<(f64, u32)> {
        let t = territory();
        let n = self.docs.len() as f64;
        // Text: each term (or one of its synonyms) must prefix-match a word; a rarer term weighs
        // more (inverse frequency), and three times more when it is in the title.
        let mut candidates: Option<Vec<u32>> = None;
        let mut weights: Vec<(Vec<u32>, Vec<u32>, f64)> = Vec::new();
        for alternatives in f.q.as_deref().map(si_domain::text::query_terms).unwrap_or_default() {
            let docs = self.prefix_docs(&alternatives, false);
            let in_title = self.prefix_docs(&alternatives, true);
            let idf = (n / (docs.len() as f64 + 1.0)).ln().max(0.0) + 1.0;
            candidates = Some(match candidates {
                None => docs.clone(),
                Some(c) => intersect(&c, &docs),
            });
            weights.push((docs, in_title, idf));
        }
        let regions: Vec<u8> =
            f.regions.iter().filter_map(|r| t.regions().iter().position(|x| x.code == *r)).map(|p| p as u8).collect();
        let departments: Vec<u16> = f
            .departments
            .iter()
            .filter_map(|d| t.departments().iter().position(|x| x.code.eq_ignore_ascii_case(d)))
            .map(|p| p as u16)
            .collect();
        let types: Vec<u8> =
            f.types.iter().filter_map(|x| position(EventType::ALL, Some(*x))).map(|p| p as u8).collect();
        let formats: Vec<u8> =
            f.formats.iter().filter_map(|x| position(Format::ALL, Some(*x))).map(|p| p as u8).collect();
        let audiences = bit(Audience::ALL, &f.audiences) as u8;
        let sectors = bit(Sector::ALL, &f.sectors);
        let themes = bit(Theme::ALL, &f.themes) as u8;
        let from = f.from.map(|d| d.num_days_from_ce());
        let to = f.to.map(|d| d.num_days_from_ce());
        // Same geometry as the SQL: a box, then an equirectangular radius around the centre.
        let near = f.near.map(|c| {
            let k = c.lat.to_radians().cos().max(0.01);
            let dlat = c.radius_km / 111.195;
            (c, k, dlat, dlat / k)
        });
        let keep = |d: &Doc| -> Option<f64> {
            if f.edition.is_some_and(|e| d.edition != e)
                || (!regions.is_empty() && !regions.contains(&d.region))
                || (!departments.is_empty() && !departments.contains(&d.department))
                || (!types.is_empty() && !types.contains(&d.event_type))
                || (!formats.is_empty() && !formats.contains(&d.format))
                || (audiences != 0 && d.audiences & audiences == 0)
                || (sectors != 0 && d.sectors & sectors == 0)
                || (themes != 0 && d.themes & themes == 0)
                || (!f.organisations.is_empty() && !f.organisations.contains(&d.organisation))
                || from.is_some_and(|x| d.last_day < x)
                || to.is_some_and(|x| d.first_day > x)
                || f.accessible.is_some_and(|a| d.accessible != Some(a))
                || f.places.is_some_and(|n| !has_places(d, seats, n))
            {
                return None;
            }
            match near {
                None => Some(0.0),
                Some((c, k, dlat, dlon)) => {
                    if !d.has_place || (d.lat - c.lat).abs() > dlat || (d.lon - c.lon).abs() > dlon {
                        return None;
                    }
                    let d2 = (d.lat - c.lat).powi(2) + ((d.lon - c.lon) * k).powi(2);
                    (d2 <= dlat * dlat).then_some(d2)
                }
            }
        };
        // Without text, a `near` search starts from the band of latitudes it covers.
        let band: Option<Vec<u32>> = match (&candidates, near) {
            (None, Some((c, _, dlat, _))) => {
                let lo = self.by_lat.partition_point(|(lat, _)| *lat < c.lat - dlat);
                let hi = self.by_lat.partition_point(|(lat, _)| *lat <= c.lat + dlat);
                Some(self.by_lat[lo..hi].iter().map(|(_, i)| *i).collect())
            }
            _ => None,
        };
        let mut matches: Vec<(f64, u32)> = match candidates.as_ref().or(band.as_ref()) {
            Some(c) => c.iter().filter_map(|&i| keep(&self.docs[i as usize]).map(|d2| (d2, i))).collect(),
            None => {
                (0..self.docs.len() as u32).filter_map(|i| keep(&self.docs[i as usize]).map(|d2| (d2, i))).collect()
            }
        };
        if !order {
            return matches;
        }
        let by_date = |a: &u32, b: &u32| {
            let (x, y) = (&self.docs[*a as usize], &self.docs[*b as usize]);
            x.first_day.cmp(&y.first_day).then(x.id.cmp(&y.id))
        };
        if near.is_some() {
            matches.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| by_date(&a.1, &b.1)));
        } else if !weights.is_empty() {
            let score = |i: u32| -> f64 {
                weights
                    .iter()
                    .filter(|(docs, _, _)| docs.binary_search(&i).is_ok())
                    .map(|(_, title, w)| if title.binary_search(&i).is_ok() { 3.0 * w } else { *w })
                    .sum()
            };
            let mut scored: Vec<(f64, u32)> = matches.iter().map(|&(_, i)| (score(i), i)).collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| by_date(&a.1, &b.1)));
            matches = scored;
        } else {
            matches.sort_by(|a, b| by_date(&a.1, &b.1));
        }
        matches
    }
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
        let IndexBuilder { by_term, by_title_term, mut docs, mut titles, mut title_ends } = self;
        docs.shrink_to_fit();
        titles.shrink_to_fit();
        title_ends.shrink_to_fit();
        let (terms, mut postings): (Vec<String>, Vec<Vec<u32>>) = by_term.into_iter().unzip();
        let (title_terms, mut title_postings): (Vec<String>, Vec<Vec<u32>>) = by_title_term.into_iter().unzip();
        postings.iter_mut().chain(title_postings.iter_mut()).for_each(|p| p.shrink_to_fit());
        let mut by_lat: Vec<(f64, u32)> =
            docs.iter().enumerate().filter(|(_, d)| d.has_place).map(|(i, d)| (d.lat, i as u32)).collect();
        by_lat.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Index { docs, terms, postings, title_terms, title_postings, by_lat, titles, title_ends, built: Instant::now() }
    }
}

/// What [`Catalogue::follow`] found stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// Nothing changed.
    Nothing,
    /// Labelled events changed: the index was rebuilt.
    Labels,
    /// Seats changed: they were reloaded.
    Seats,
}

/// The current index, rebuilt on demand.
#[derive(Default)]
pub struct Catalogue {
    current: RwLock<Option<Arc<Index>>>,
    /// The seats of the sessions booked so far, read with the index and updated by this process's
    /// bookings at once (other processes' within a rebuild).
    seats: RwLock<Arc<Seats>>,
    /// Serialises rebuilds so that a burst of searches builds once.
    rebuilding: tokio::sync::Mutex<()>,
    /// A background refresh is running.
    refreshing: std::sync::atomic::AtomicBool,
    /// The store's change counters as they were when the index and the seats were last read.
    seen: std::sync::Mutex<si_store::PublicVersions>,
}

/// How often a node polls the store's change counters ([`Catalogue::follow`]): a change made through
/// another node is public here within this, plus the time to rebuild the index.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

impl Catalogue {
    /// Drops the index (a decision changed what is labelled); the next search rebuilds it.
    pub fn invalidate(&self) {
        if let Ok(mut c) = self.current.write() {
            *c = None;
        }
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
        let mut builder = IndexBuilder::default();
        let mut after = 0;
        loop {
            let slice = store.catalogue_rows_after(after, REBUILD_SLICE).await?;
            let Some(last) = slice.last().map(|r| r.id) else { break };
            after = last;
            builder.add(slice);
        }
        let index = Arc::new(builder.finish());
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
    /// dropped and its index rebuilt (the old one answers meanwhile) or its seats reloaded. Returns
    /// what was stale.
    pub async fn follow(&self, store: &DynStore, caches: &crate::cache::Caches) -> StoreResult<Stale> {
        let now = store.public_versions().await?;
        let seen = self.seen.lock().map(|s| *s).unwrap_or_default();
        if now.labels != seen.labels {
            if self.current().is_some() {
                let _guard = self.rebuilding.lock().await;
                self.rebuild(store).await?;
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

    /// The index: built now when missing (first search, or after a decision, so that a labelled
    /// event is public at once); when merely old, the old one answers while a background task
    /// rebuilds it.
    pub async fn index(self: &Arc<Self>, store: &DynStore) -> StoreResult<Arc<Index>> {
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

    /// One page of labelled events matching the filter, and the total.
    pub async fn search(
        self: &Arc<Self>,
        store: &DynStore,
        f: &EventFilter,
    ) -> StoreResult<(u64, Vec<si_store::EventRecord>)> {
        let index = self.index(store).await?;
        let (total, ids) = index.search(f, &self.seats());
        Ok((total, store.events_by_ids(&ids).await?))
    }
}
