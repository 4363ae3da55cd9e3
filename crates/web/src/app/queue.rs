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

/// One row of the review queue before it is shown: the store's row, its due date and its possible
/// duplicates.
pub(crate) struct QueueEntry {
    pub item: QueueItem,
    pub due: DateTime<Utc>,
    pub duplicates: Vec<i64>,
}

/// The review queue of a scope, filtered and in its one order (earliest due first, then earliest
/// entered, then id; or most recent first), with the totals of the whole scope. The page, its CSV
/// export and the API all read this.
pub(crate) struct ReviewQueue {
    pub waiting: usize,
    pub overdue: usize,
    pub backlog: Vec<Backlog>,
    pub entries: Vec<QueueEntry>,
}

/// The national queue as last read: its rows (oldest submitted first), their due dates and possible
/// duplicates, and the store's queue counter read before them.
struct Snapshot {
    version: i64,
    items: Vec<QueueItem>,
    due: Vec<DateTime<Utc>>,
    duplicates: HashMap<i64, Vec<i64>>,
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
        Ok(Snapshot { version, items, due, duplicates })
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
        Ok(Some(Snapshot { version, items, due, duplicates }))
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
    let territory = si_domain::territory::territory();
    let mine: Vec<usize> =
        (0..snapshot.items.len()).filter(|&k| scope.covers(snapshot.items[k].region.as_deref())).collect();
    let overdue = mine.iter().filter(|&&k| snapshot.due[k] < now).count();

    let mut backlog: HashMap<String, Backlog> = HashMap::new();
    if scope.is_national() {
        for &k in &mine {
            let (i, d) = (&snapshot.items[k], snapshot.due[k]);
            let code = i.region.clone().unwrap_or_else(|| "national".into());
            let b = backlog.entry(code.clone()).or_insert_with(|| Backlog {
                region: match &i.region {
                    Some(r) => territory.region_name(r),
                    None => "National (en ligne)".into(),
                },
                code,
                waiting: 0,
                overdue: 0,
            });
            b.waiting += 1;
            if d < now {
                b.overdue += 1;
            }
        }
    }
    let mut backlog: Vec<Backlog> = backlog.into_values().collect();
    backlog.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(b.waiting.cmp(&a.waiting)).then(a.region.cmp(&b.region)));

    let waiting = mine.len();
    let no_duplicates = Vec::new();
    let mut entries: Vec<QueueEntry> = mine
        .into_iter()
        .filter(|&k| {
            let (i, due) = (&snapshot.items[k], snapshot.due[k]);
            let dups = snapshot.duplicates.get(&i.id).map_or(0, Vec::len);
            let weak = i.weak_signal;
            (f.region.is_empty()
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
        })
        .map(|k| {
            let item = &snapshot.items[k];
            QueueEntry {
                duplicates: snapshot.duplicates.get(&item.id).unwrap_or(&no_duplicates).clone(),
                item: item.clone(),
                due: snapshot.due[k],
            }
        })
        .collect();
    if f.recent_first {
        entries.sort_by(|a, b| b.item.submitted_at.cmp(&a.item.submitted_at).then(b.item.id.cmp(&a.item.id)));
    } else {
        entries.sort_by(|a, b| {
            a.due.cmp(&b.due).then(a.item.submitted_at.cmp(&b.item.submitted_at)).then(a.item.id.cmp(&b.item.id))
        });
    }
    Ok(ReviewQueue { waiting, overdue, backlog, entries })
}
