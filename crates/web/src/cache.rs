//! A small in-memory cache of documents keyed by normalised query string, for what the public asks
//! the most at the peak (map data, facet counts). Entries expire after a fixed time and are dropped
//! whenever a decision of this process changes what is labelled.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Values of type `V` by key, each valid for `ttl`.
pub struct TtlCache<V> {
    ttl: Duration,
    max_entries: usize,
    entries: RwLock<HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> TtlCache<V> {
    /// A cache whose entries live `ttl`, holding at most `max_entries` (then it starts afresh).
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        TtlCache { ttl, max_entries, entries: RwLock::new(HashMap::new()) }
    }

    /// A live entry.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let guard = self.entries.read().ok()?;
        let (built, v) = guard.get(key)?;
        (built.elapsed() < self.ttl).then(|| v.clone())
    }

    /// Stores an entry.
    pub fn put(&self, key: String, value: Arc<V>) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut e) = self.entries.write() {
            if e.len() >= self.max_entries {
                e.clear();
            }
            e.insert(key, (Instant::now(), value));
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut e) = self.entries.write() {
            e.clear();
        }
    }
}

/// A query string with its pairs sorted, so that the same filters in any order share an entry.
pub fn normalised_query(q: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(q.unwrap_or("").as_bytes()).into_owned().collect();
    pairs.sort();
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// The caches of the application.
pub struct Caches {
    /// Map documents.
    pub map: TtlCache<crate::routes::map::MapEntry>,
    /// Facet counts.
    pub facets: TtlCache<si_store::Facets>,
    /// Public search answers of the API (JSON bytes), by query.
    pub search: TtlCache<bytes::Bytes>,
    /// Public event pages (HTML bytes) as served to visitors who are not logged in, by event id.
    pub event_pages: TtlCache<bytes::Bytes>,
}

impl Caches {
    /// Caches whose entries live `ttl` (zero: nothing is kept, every request reaches the store).
    pub fn new(ttl: Duration) -> Self {
        Caches {
            map: TtlCache::new(ttl, 256),
            facets: TtlCache::new(ttl, 1024),
            search: TtlCache::new(ttl, 4096),
            event_pages: TtlCache::new(ttl, 20_000),
        }
    }
}

impl Caches {
    /// After a change of what is labelled.
    pub fn clear(&self) {
        self.map.clear();
        self.facets.clear();
        self.search.clear();
        self.event_pages.clear();
    }
}
