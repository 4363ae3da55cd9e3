//! The review queue, computed once for the page, its CSV export and the API: a reviewer's scope,
//! filtered, with due dates, possible duplicates and the backlog per region, in one order.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use si_domain::review::{close_dates, due_at, similar_terms, title_terms};
use si_store::{EventBrief, QueueItem};

use crate::error::AppError;
use crate::forms::Pairs;

/// Possible duplicates of each queue item: another submitted, labelled or awaiting-changes event of the
/// same organisation and edition, with a similar title and close dates.
pub(crate) fn possible_duplicates(items: &[QueueItem], pool: &[EventBrief]) -> HashMap<i64, Vec<i64>> {
    let wanted: std::collections::HashSet<(i64, i32)> = items.iter().map(|i| (i.organisation_id, i.edition)).collect();
    let mut groups: HashMap<(i64, i32), Vec<&EventBrief>> = HashMap::new();
    for b in pool.iter().filter(|b| wanted.contains(&(b.organisation_id, b.edition))) {
        groups.entry((b.organisation_id, b.edition)).or_default().push(b);
    }
    // Title words are computed only for pairs on close dates, once per event: stemming every title of
    // a national queue is most of the cost otherwise.
    let mut terms: HashMap<i64, BTreeSet<String>> = HashMap::new();
    let mut out = HashMap::new();
    for item in items {
        let Some(group) = groups.get(&(item.organisation_id, item.edition)).filter(|g| g.len() > 1) else { continue };
        let Some(mine) = group.iter().find(|b| b.id == item.id) else { continue };
        let mut dups = Vec::new();
        for b in group {
            if b.id == item.id || !close_dates((item.first_day, item.last_day), (b.first_day, b.last_day)) {
                continue;
            }
            terms.entry(mine.id).or_insert_with(|| title_terms(&mine.title));
            terms.entry(b.id).or_insert_with(|| title_terms(&b.title));
            if similar_terms(&terms[&mine.id], &terms[&b.id]) {
                dups.push(b.id);
            }
        }
        if !dups.is_empty() {
            out.insert(item.id, dups);
        }
    }
    out
}

/// The queue's filters, from the query string (unknown values are ignored: the form only offers known ones).
#[derive(Default, Clone)]
pub(crate) struct QueueFilter {
    pub region: String,
    pub department: String,
    pub event_type: String,
    pub audience: String,
    pub overdue: bool,
    pub weak: bool,
    pub duplicate: bool,
    pub changes: bool,
    pub clean: bool,
    pub recent_first: bool,
    pub edition: Option<i32>,
    pub page: usize,
}

impl QueueFilter {
    pub(crate) fn parse(p: &Pairs) -> QueueFilter {
        let flag = |k: &str| p.get(k).is_some_and(|v| !v.is_empty() && v != "0");
        QueueFilter {
            region: p.get("region").unwrap_or("").to_string(),
            department: p.get("departement").unwrap_or("").to_string(),
            event_type: p.get("type").unwrap_or("").to_string(),
            audience: p.get("public").unwrap_or("").to_string(),
            overdue: flag("retard"),
            weak: flag("signal"),
            duplicate: flag("doublon"),
            changes: flag("modifications"),
            clean: flag("sans_alerte"),
            recent_first: p.get("tri") == Some("recent"),
            edition: p.get("edition").and_then(|e| e.parse().ok()),
            page: p.get("page").and_then(|v| v.parse().ok()).filter(|n| *n >= 1).unwrap_or(1),
        }
    }

    pub(crate) fn query(&self, page: usize) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("region", &self.region),
            ("departement", &self.department),
            ("type", &self.event_type),
            ("public", &self.audience),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        for (k, on) in [
            ("retard", self.overdue),
            ("signal", self.weak),
            ("doublon", self.duplicate),
            ("modifications", self.changes),
            ("sans_alerte", self.clean),
        ] {
            if on {
                s.append_pair(k, "1");
            }
        }
        if self.recent_first {
            s.append_pair("tri", "recent");
        }
        if let Some(e) = self.edition {
            s.append_pair("edition", &e.to_string());
        }
        if page > 1 {
            s.append_pair("page", &page.to_string());
        }
        s.finish()
    }
}

/// A region's share of the national queue.
pub(crate) struct Backlog {
    pub region: String,
    pub code: String,
    pub waiting: usize,
    pub overdue: usize,
}

/// One row of the review queue before it is shown: the snapshot's row, its due date and its possible
/// duplicates, borrowed (a page of 50 rows copies nothing of the 8,000 others).
pub(crate) struct QueueEntry<'a> {
    pub item: &'a QueueItem,
    pub due: DateTime<Utc>,
    pub duplicates: &'a [i64],
}

/// The review queue of a scope, filtered and in its one order (earliest due first, then earliest
/// entered, then id; or most recent first), with the totals of the whole scope. The page, its CSV
/// export and the API all read this. It holds the snapshot it was computed from and the positions of
/// the matching rows in order: many reviewers at once share one snapshot instead of a copy each.
pub(crate) struct ReviewQueue {
    pub waiting: usize,
    pub overdue: usize,
    pub backlog: Vec<Backlog>,
    snapshot: Arc<Snapshot>,
    order: Vec<usize>,
}

impl ReviewQueue {
    /// How many rows match the filter.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// The matching rows from `skip`, at most `take` of them, in the queue's order.
    pub(crate) fn entries(&self, skip: usize, take: usize) -> impl Iterator<Item = QueueEntry<'_>> {
        self.order.iter().skip(skip).take(take).map(|&k| {
            let item = &self.snapshot.items[k];
            QueueEntry {
                item,
                due: self.snapshot.due[k],
                duplicates: self.snapshot.duplicates.get(&item.id).map_or(&[][..], Vec::as_slice),
            }
        })
    }
}

/// The national queue as last read: its rows (oldest submitted first), their due dates and possible
/// duplicates, and the store's queue counter read before them.
struct Snapshot {
    version: i64,
    items: Vec<QueueItem>,
    due: Vec<DateTime<Utc>>,
    duplicates: HashMap<i64, Vec<i64>>,
    /// Positions in the default order (earliest due, then earliest entered, then id), sorted once per
    /// snapshot rather than at every page; the most recent first is `items` backwards.
    by_due: Vec<usize>,
}

impl Snapshot {
    /// `items` must be oldest submitted first (then id), `due` their due dates.
    fn new(version: i64, items: Vec<QueueItem>, due: Vec<DateTime<Utc>>, duplicates: HashMap<i64, Vec<i64>>) -> Self {
        let mut by_due: Vec<usize> = (0..items.len()).collect();
        // Stable, and items are already in (submitted, id) order: sorting by due alone keeps it.
        by_due.sort_by_key(|&k| due[k]);
        Snapshot { version, items, due, duplicates, by_due }
    }
}

/// The national review queue kept in memory (BENCHMARKS.md: reading and analysing 8,000 waiting
/// submissions takes 250–480 ms, filtering them in memory a few milliseconds). Every page reads the
/// store's queue counter, which every move out of draft bumps in its own transaction: the snapshot is
/// used only when nothing moved since it was read, so a reviewer never sees a queue older than their
/// request, whichever node made the change. When something moved, the moves recorded with the counter
/// (`Store::queue_moves_after`) say which events: their rows and their organisations' possible
/// duplicates are read again, not the whole queue. One refresh at a time; requests arriving
/// meanwhile wait for it and share it.
#[derive(Default)]
pub struct QueueCache {
    current: tokio::sync::Mutex<Option<Arc<Snapshot>>>,
    reads: std::sync::atomic::AtomicU64,
    updates: std::sync::atomic::AtomicU64,
}

/// Moves applied one by one to a snapshot at most; beyond, the whole queue is read again.
const MOVES_APPLIED_MAX: usize = 500;

impl QueueCache {
    async fn snapshot(&self, store: &si_store::DynStore) -> Result<Arc<Snapshot>, AppError> {
        let version = store.public_versions().await?.queue;
        let mut current = self.current.lock().await;
        // A snapshot read since this request began (by a request that held the lock) is as fresh.
        if let Some(s) = current.as_ref().filter(|s| s.version >= version) {
            return Ok(s.clone());
        }
        // Moves that stop short of the counter read above (a bulk load bumped it last, without a
        // move) would leave out what the request must see: the whole queue is read then.
        let updated = match current.as_ref() {
            Some(old) => Self::apply_moves(store, old).await?.filter(|s| s.version >= version),
            None => None,
        };
        let snapshot = match updated {
            Some(s) => {
                self.updates.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                s
            }
            None => {
                self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Self::read(store).await?
            }
        };
        let snapshot = Arc::new(snapshot);
        *current = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// The whole national queue, read from the store.
    async fn read(store: &si_store::DynStore) -> Result<Snapshot, AppError> {
        let t0 = std::time::Instant::now();
        // The counter first: a move committed while the rows are read is seen again next time.
        let version = store.public_versions().await?.queue;
        let items = store.queue_items(None).await?;
        let t1 = t0.elapsed();
        let pool = store.duplicate_pool(None).await?;
        let t2 = t0.elapsed();
        let duplicates = possible_duplicates(&items, &pool);
        let t3 = t0.elapsed();
        let due: Vec<DateTime<Utc>> = items.iter().map(|i| due_at(i.submitted_at, i.department.as_deref())).collect();
        // Where a read's time goes (BENCHMARKS.md quotes these): `RUST_LOG=si_web::app::queue=debug`.
        tracing::debug!(queue = ?t1, pool = ?t2, duplicates = ?t3, due = ?t0.elapsed(), items = items.len(), pool = pool.len(), "queue read");
        Ok(Snapshot::new(version, items, due, duplicates))
    }

    /// `old` with the moves made since applied: the moved events' rows read again, and the possible
    /// duplicates of their organisations' rows computed again. `None` when the moves do not follow
    /// on from `old` one by one (a bulk load bumps the counter without a move; old moves are swept)
    /// or are too many: the whole queue is read then.
    async fn apply_moves(store: &si_store::DynStore, old: &Snapshot) -> Result<Option<Snapshot>, AppError> {
        let moves = store.queue_moves_after(old.version).await?;
        let follows = moves.iter().zip(old.version + 1..).all(|(m, v)| m.version == v);
        if moves.is_empty() || !follows || moves.len() > MOVES_APPLIED_MAX {
            return Ok(None);
        }
        let moved: HashSet<i64> = moves.iter().map(|m| m.event_id).collect();
        let orgs: HashSet<i64> = moves.iter().map(|m| m.organisation_id).collect();
        let fresh = store.queue_items_of(&moved.iter().copied().collect::<Vec<_>>()).await?;
        let pool = store.duplicate_pool_of(&orgs.iter().copied().collect::<Vec<_>>()).await?;
        let due_of: HashMap<i64, DateTime<Utc>> = old.items.iter().map(|i| i.id).zip(old.due.iter().copied()).collect();
        let mut items: Vec<QueueItem> = old.items.iter().filter(|i| !moved.contains(&i.id)).cloned().collect();
        items.extend(fresh);
        items.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then(a.id.cmp(&b.id)));
        let due = items
            .iter()
            .map(|i| match due_of.get(&i.id) {
                Some(d) if !moved.contains(&i.id) => *d,
                _ => due_at(i.submitted_at, i.department.as_deref()),
            })
            .collect();
        let touched: Vec<QueueItem> = items.iter().filter(|i| orgs.contains(&i.organisation_id)).cloned().collect();
        let org_of: HashMap<i64, i64> = items.iter().map(|i| (i.id, i.organisation_id)).collect();
        let mut duplicates: HashMap<i64, Vec<i64>> = old
            .duplicates
            .iter()
            .filter(|(id, _)| org_of.get(id).is_some_and(|o| !orgs.contains(o)))
            .map(|(id, d)| (*id, d.clone()))
            .collect();
        duplicates.extend(possible_duplicates(&touched, &pool));
        let version = moves.last().map_or(old.version, |m| m.version);
        Ok(Some(Snapshot::new(version, items, due, duplicates)))
    }

    /// How many rows the snapshot holds and the counter it was read at (monitoring), if one is read.
    pub fn facts(&self) -> Option<(usize, i64)> {
        self.current.try_lock().ok()?.as_ref().map(|s| (s.items.len(), s.version))
    }

    /// How many times the whole queue was read, and how many times moves were applied to it.
    pub fn refreshes(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.reads.load(Relaxed), self.updates.load(Relaxed))
    }
}

pub(crate) async fn queue_of(
    store: &si_store::DynStore,
    cache: &QueueCache,
    scope: &si_domain::lifecycle::ReviewScope,
    f: &QueueFilter,
    now: DateTime<Utc>,
) -> Result<ReviewQueue, AppError> {
    let snapshot = cache.snapshot(store).await?;
    Ok(review_queue(snapshot, scope, f, now))
}

/// [`queue_of`] on a snapshot already read.
fn review_queue(
    snapshot: Arc<Snapshot>,
    scope: &si_domain::lifecycle::ReviewScope,
    f: &QueueFilter,
    now: DateTime<Utc>,
) -> ReviewQueue {
    let territory = si_domain::territory::territory();
    let s = &*snapshot;
    let in_scope = |k: usize| scope.covers(s.items[k].region.as_deref());

    // The scope's totals and, nationally, its share per region (counted by region code, named once).
    let (mut waiting, mut overdue) = (0, 0);
    let mut per_region: HashMap<Option<&str>, (usize, usize)> = HashMap::new();
    for k in (0..s.items.len()).filter(|&k| in_scope(k)) {
        let late = s.due[k] < now;
        waiting += 1;
        overdue += usize::from(late);
        if scope.is_national() {
            let b = per_region.entry(s.items[k].region.as_deref()).or_default();
            b.0 += 1;
            b.1 += usize::from(late);
        }
    }
    let mut backlog: Vec<Backlog> = per_region
        .into_iter()
        .map(|(code, (waiting, overdue))| Backlog {
            region: match code {
                Some(r) => territory.region_name(r),
                None => "National (en ligne)".into(),
            },
            code: code.unwrap_or("national").to_string(),
            waiting,
            overdue,
        })
        .collect();
    backlog.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(b.waiting.cmp(&a.waiting)).then(a.region.cmp(&b.region)));

    let matches = |k: usize| {
        let (i, due) = (&s.items[k], s.due[k]);
        let dups = s.duplicates.get(&i.id).map_or(0, Vec::len);
        let weak = i.weak_signal;
        in_scope(k)
            && (f.region.is_empty()
                || (f.region == "national" && i.region.is_none())
                || i.region.as_deref() == Some(f.region.as_str()))
            && (f.department.is_empty() || i.department.as_deref() == Some(f.department.as_str()))
            && (f.event_type.is_empty() || i.event_type.as_deref() == Some(f.event_type.as_str()))
            && (f.audience.is_empty() || i.audiences.contains(&f.audience))
            && (!f.overdue || due < now)
            && (!f.weak || weak)
            && (!f.duplicate || dups > 0)
            && (!f.changes || i.change)
            && (!f.clean || (!weak && dups == 0 && !i.change))
    };
    // Both orders are kept with the snapshot: a page filters positions, it sorts nothing.
    let order: Vec<usize> = if f.recent_first {
        (0..s.items.len()).rev().filter(|&k| matches(k)).collect()
    } else {
        s.by_due.iter().copied().filter(|&k| matches(k)).collect()
    };
    ReviewQueue { waiting, overdue, backlog, snapshot, order }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use si_domain::lifecycle::ReviewScope;

    fn item(id: i64, submitted_at: DateTime<Utc>, region: Option<&str>, department: &str) -> QueueItem {
        QueueItem {
            id,
            edition: 2026,
            organisation_id: id % 7,
            organisation_name: format!("Organisation {}", id % 7),
            title: format!("Visite {id}"),
            region: region.map(String::from),
            department: Some(department.into()),
            event_type: Some(if id % 2 == 0 { "visite" } else { "conference" }.into()),
            audiences: vec!["college".into()],
            submitted_at,
            change: id % 5 == 0,
            weak_signal: id % 3 == 0,
            first_day: None,
            last_day: None,
            version: 1,
        }
    }

    /// Positions kept in order with the snapshot give the order a sort of every page gave: earliest
    /// due (Alsace-Moselle's Good Friday makes an earlier submission due later than a later one
    /// elsewhere, and equal instants meet), then entered, then id; or most recent first.
    #[test]
    fn the_kept_orders_are_the_queue_order_for_every_filter() {
        let start = Utc.with_ymd_and_hms(2027, 3, 22, 8, 0, 0).unwrap();
        let places = [(Some("84"), "69"), (Some("44"), "67"), (Some("44"), "57"), (None, "75"), (Some("84"), "38")];
        let mut items: Vec<QueueItem> = (0..300)
            .map(|k| {
                let (region, department) = places[(k * 7 % 5) as usize];
                // Several rows share one instant: the id must decide between them.
                item(1000 - k, start + chrono::Duration::hours(k / 3), region, department)
            })
            .collect();
        items.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then(a.id.cmp(&b.id)));
        let due: Vec<DateTime<Utc>> = items.iter().map(|i| due_at(i.submitted_at, i.department.as_deref())).collect();
        let dups = possible_duplicates(&items, &[]);
        let snapshot = Arc::new(Snapshot::new(1, items.clone(), due, dups));
        let now = start + chrono::Duration::days(10);
        let filters = [
            QueueFilter::default(),
            QueueFilter { recent_first: true, ..Default::default() },
            QueueFilter { region: "44".into(), ..Default::default() },
            QueueFilter { region: "national".into(), recent_first: true, ..Default::default() },
            QueueFilter { department: "67".into(), overdue: true, ..Default::default() },
            QueueFilter { event_type: "visite".into(), weak: true, ..Default::default() },
            QueueFilter { changes: true, recent_first: true, ..Default::default() },
            QueueFilter { clean: true, ..Default::default() },
        ];
        let scopes = [ReviewScope::National, ReviewScope::Regions(vec!["84".into()])];
        let mut orders_differ = false;
        for scope in &scopes {
            for f in &filters {
                let q = review_queue(snapshot.clone(), scope, f, now);
                let got: Vec<i64> = q.entries(0, q.len()).map(|e| e.item.id).collect();
                let mut expected: Vec<(&QueueItem, DateTime<Utc>)> = items
                    .iter()
                    .map(|i| (i, due_at(i.submitted_at, i.department.as_deref())))
                    .filter(|(i, due)| {
                        scope.covers(i.region.as_deref())
                            && (f.region.is_empty()
                                || (f.region == "national" && i.region.is_none())
                                || i.region.as_deref() == Some(f.region.as_str()))
                            && (f.department.is_empty() || i.department.as_deref() == Some(f.department.as_str()))
                            && (f.event_type.is_empty() || i.event_type.as_deref() == Some(f.event_type.as_str()))
                            && (!f.overdue || *due < now)
                            && (!f.weak || i.weak_signal)
                            && (!f.changes || i.change)
                            && (!f.clean || (!i.weak_signal && !i.change))
                    })
                    .collect();
                if f.recent_first {
                    expected.sort_by(|(a, _), (b, _)| b.submitted_at.cmp(&a.submitted_at).then(b.id.cmp(&a.id)));
                } else {
                    expected.sort_by(|(a, ad), (b, bd)| {
                        ad.cmp(bd).then(a.submitted_at.cmp(&b.submitted_at)).then(a.id.cmp(&b.id))
                    });
                    let by_submission: Vec<i64> = expected.iter().map(|(i, _)| i.id).collect();
                    let mut plain = expected.clone();
                    plain.sort_by(|(a, _), (b, _)| a.submitted_at.cmp(&b.submitted_at).then(a.id.cmp(&b.id)));
                    orders_differ |= plain.iter().map(|(i, _)| i.id).collect::<Vec<_>>() != by_submission;
                }
                let expected: Vec<i64> = expected.iter().map(|(i, _)| i.id).collect();
                assert!(!expected.is_empty() || !scope.is_national(), "{:?}", f.query(1));
                assert_eq!(got, expected, "{:?}", f.query(1));
                assert_eq!(
                    q.entries(10, 5).map(|e| e.item.id).collect::<Vec<_>>(),
                    expected[10.min(expected.len())..15.min(expected.len())]
                );
            }
        }
        assert!(orders_differ, "the data must make the due order differ from the submission order");
        let national = review_queue(snapshot.clone(), &scopes[0], &filters[0], now);
        assert_eq!(national.waiting, 300);
        assert_eq!(national.backlog.iter().map(|b| b.waiting).sum::<usize>(), 300);
        assert_eq!(national.backlog.iter().map(|b| b.overdue).sum::<usize>(), national.overdue);
        assert!(national.backlog.iter().any(|b| b.code == "national" && b.region == "National (en ligne)"));
    }
}
