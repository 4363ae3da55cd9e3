//! A small in-memory cache of documents keyed by normalised query string, for what the public asks
//! the most at the peak (map data, facet counts, searches, anonymous event pages). Anyone can make a
//! new key (a new search), so each cache is bounded in entries *and* in bytes: entries expire after a
//! fixed time (dropped as new ones arrive and by a periodic sweep, not only when the cache is full),
//! and beyond either bound the oldest entry makes room. Everything is dropped whenever a decision of
//! this process changes what is labelled.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What a cached value costs in memory, in bytes (its heap data; the key is counted apart).
pub trait Weigh {
    /// Approximate bytes held.
    fn weight(&self) -> usize;
}

impl Weigh for bytes::Bytes {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weigh for si_store::Facets {
    fn weight(&self) -> usize {
        self.0.iter().map(|(k, v)| k.len() + 48 + v.keys().map(|k| k.len() + 56).sum::<usize>()).sum()
    }
}

/// Bytes of bookkeeping per entry besides key and value (map slot, order queue, `Arc`).
const OVERHEAD: usize = 96;

struct Entry<V> {
    built: Instant,
    value: Arc<V>,
    weight: usize,
}

struct Inner<V> {
    entries: HashMap<String, Entry<V>>,
    /// Keys in insertion order with their insertion instant: oldest first, which with one lifetime
    /// for all is also the order of expiry.
    order: VecDeque<(Instant, String)>,
    bytes: usize,
}

/// Values of type `V` by key, each valid for `ttl`, at most `max_entries` and `max_bytes`.
pub struct TtlCache<V> {
    ttl: Duration,
    max_entries: usize,
    max_bytes: usize,
    inner: Mutex<Inner<V>>,
}

impl<V: Weigh> TtlCache<V> {
    /// A cache whose entries live `ttl`, holding at most `max_entries` entries and `max_bytes` bytes.
    pub fn new(ttl: Duration, max_entries: usize, max_bytes: usize) -> Self {
        TtlCache {
            ttl,
            max_entries,
            max_bytes,
            inner: Mutex::new(Inner { entries: HashMap::new(), order: VecDeque::new(), bytes: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A live entry.
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let inner = self.lock();
        let e = inner.entries.get(key)?;
        (e.built.elapsed() < self.ttl).then(|| e.value.clone())
    }

    /// Removes and returns a live entry (a one-time value: a second take finds nothing).
    pub fn take(&self, key: &str) -> Option<Arc<V>> {
        let mut inner = self.lock();
        let e = inner.entries.remove(key)?;
        inner.bytes -= e.weight;
        (e.built.elapsed() < self.ttl).then_some(e.value)
    }

    /// Drops the oldest entry; false when there is none.
    fn evict_oldest(inner: &mut Inner<V>) -> bool {
        let Some((built, key)) = inner.order.pop_front() else {
            return false;
        };
        // The key may have been stored again since: only the entry of that instant goes.
        if inner.entries.get(&key).is_some_and(|e| e.built == built)
            && let Some(e) = inner.entries.remove(&key)
        {
            inner.bytes -= e.weight;
        }
        true
    }

    fn drop_expired(&self, inner: &mut Inner<V>, now: Instant) {
        while inner.order.front().is_some_and(|(built, _)| now.duration_since(*built) >= self.ttl) {
            Self::evict_oldest(inner);
        }
    }

    /// Stores an entry (none when the lifetime is zero, or the value alone exceeds the byte bound).
    pub fn put(&self, key: String, value: Arc<V>) {
        let weight = key.len() * 2 + value.weight() + OVERHEAD;
        if self.ttl.is_zero() || weight > self.max_bytes {
            return;
        }
        let now = Instant::now();
        let mut inner = self.lock();
        self.drop_expired(&mut inner, now);
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= old.weight;
        }
        while inner.entries.len() >= self.max_entries || inner.bytes + weight > self.max_bytes {
            if !Self::evict_oldest(&mut inner) {
                break;
            }
        }
        inner.bytes += weight;
        inner.order.push_back((now, key.clone()));
        inner.entries.insert(key, Entry { built: now, value, weight });
        // Stale order slots (keys stored again) are dropped as they reach the front; keep the queue
        // from outgrowing the map when the same keys are stored over and over.
        if inner.order.len() > 2 * self.max_entries + 16 {
            let Inner { entries, order, .. } = &mut *inner;
            order.retain(|(built, k)| entries.get(k).is_some_and(|e| e.built == *built));
        }
    }

    /// Drops the expired entries (called periodically, so an idle cache gives its memory back).
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut inner = self.lock();
        self.drop_expired(&mut inner, now);
        if inner.entries.is_empty() {
            inner.order = VecDeque::new();
            inner.entries = HashMap::new();
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries = HashMap::new();
        inner.order = VecDeque::new();
        inner.bytes = 0;
    }

    /// Entries and bytes held now.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.bytes)
    }

    /// The byte bound.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }
}

/// A built document (the map's JSON, the sitemap's XML) kept with its type, ETag and a gzip copy, so
/// that repeated requests cost neither building, serialisation nor compression.
pub struct Document {
    content_type: &'static str,
    etag: HeaderValue,
    body: bytes::Bytes,
    gzip: bytes::Bytes,
}

impl Weigh for Document {
    fn weight(&self) -> usize {
        self.etag.len() + self.body.len() + self.gzip.len()
    }
}

impl Document {
    /// `body` of type `content_type`, compressed once, its ETag the start of its SHA-256.
    pub fn new(content_type: &'static str, body: Vec<u8>) -> std::io::Result<Document> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body)?;
        let gzip = gz.finish()?;
        let etag = format!("\"{}\"", crate::static_files::digest_hex(&body));
        Ok(Document {
            content_type,
            etag: HeaderValue::from_str(&etag).map_err(std::io::Error::other)?,
            body: body.into(),
            gzip: gzip.into(),
        })
    }

    /// The answer to a request with `headers`: 304 when its ETag is the client's, else the body,
    /// gzipped when the client takes gzip (the compression layer leaves an encoded body alone).
    pub fn answer(&self, headers: &HeaderMap, cache_control: &'static str) -> Response {
        let mut out = HeaderMap::new();
        out.insert(header::ETAG, self.etag.clone());
        out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
        out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == self.etag.as_bytes()) {
            return (StatusCode::NOT_MODIFIED, out).into_response();
        }
        out.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        let gzip_ok = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        let body = if gzip_ok {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            self.gzip.clone()
        } else {
            self.body.clone()
        };
        (out, axum::body::Body::from(body)).into_response()
    }
}

/// The document under `key` in `cache`, built by `build` when missing.
pub async fn cached_document<E, F>(cache: &TtlCache<Document>, key: String, build: F) -> Result<Arc<Document>, E>
where
    F: std::future::Future<Output = Result<Document, E>>,
{
    if let Some(d) = cache.get(&key) {
        return Ok(d);
    }
    let d = Arc::new(build.await?);
    cache.put(key, d.clone());
    Ok(d)
}

/// A query string with its pairs sorted, so that the same filters in any order share an entry.
pub fn normalised_query(q: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(q.unwrap_or("").as_bytes()).into_owned().collect();
    pairs.sort();
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

const MB: usize = 1024 * 1024;

/// The caches of the application: at most 128 MB together.
pub struct Caches {
    /// Map documents.
    pub map: TtlCache<Document>,
    /// Facet counts.
    pub facets: TtlCache<si_store::Facets>,
    /// Public search answers of the API (JSON bytes), by query.
    pub search: TtlCache<bytes::Bytes>,
    /// Public event pages (HTML bytes) as served to visitors who are not logged in, by event id.
    pub event_pages: TtlCache<bytes::Bytes>,
    /// The sitemap's index and files (up to 40,000 addresses, ~2.5 MB each): anyone may ask for
    /// them again and again, so they are built and compressed once per change of what is labelled.
    pub sitemaps: TtlCache<Document>,
}

impl Caches {
    /// Caches whose entries live `ttl` (zero: nothing is kept, every request reaches the store).
    pub fn new(ttl: Duration) -> Self {
        Caches {
            map: TtlCache::new(ttl, 256, 44 * MB),
            facets: TtlCache::new(ttl, 1024, 8 * MB),
            search: TtlCache::new(ttl, 4096, 32 * MB),
            event_pages: TtlCache::new(ttl, 20_000, 40 * MB),
            sitemaps: TtlCache::new(ttl, 16, 12 * MB),
        }
    }

    /// After a change of what is labelled.
    pub fn clear(&self) {
        self.map.clear();
        self.facets.clear();
        self.search.clear();
        self.event_pages.clear();
        self.sitemaps.clear();
    }

    /// Drops expired entries everywhere.
    pub fn sweep(&self) {
        self.map.sweep();
        self.facets.sweep();
        self.search.sweep();
        self.event_pages.sweep();
        self.sitemaps.sweep();
    }

    /// Bytes held by all the caches now.
    pub fn bytes(&self) -> usize {
        self.map.usage().1
            + self.facets.usage().1
            + self.search.usage().1
            + self.event_pages.usage().1
            + self.sitemaps.usage().1
    }

    /// The bound of all the caches together, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.map.max_bytes()
            + self.facets.max_bytes()
            + self.search.max_bytes()
            + self.event_pages.max_bytes()
            + self.sitemaps.max_bytes()
    }
}

/// Facet counts for a filter, from memory when the same query was counted in the last minute.
pub async fn cached_facets(
    caches: &Caches,
    store: &si_store::DynStore,
    filter: &si_store::EventFilter,
    key: &str,
) -> si_store::StoreResult<std::sync::Arc<si_store::Facets>> {
    if let Some(f) = caches.facets.get(key) {
        return Ok(f);
    }
    let f = std::sync::Arc::new(store.facets(filter).await?);
    caches.facets.put(key.to_string(), f.clone());
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: usize) -> Arc<bytes::Bytes> {
        Arc::new(bytes::Bytes::from(vec![b'x'; n]))
    }

    /// 100,000 distinct searches of 10 KB each (1 GB if kept): the cache holds at most its bounds.
    #[test]
    fn distinct_keys_stay_within_entries_and_bytes() {
        let c: TtlCache<bytes::Bytes> = TtlCache::new(Duration::from_secs(60), 4096, 32 * MB);
        let mut peak = 0;
        for i in 0..100_000 {
            c.put(format!("q=recherche+{i}&near=69001"), doc(10_000));
            peak = peak.max(c.usage().1);
        }
        let (entries, bytes) = c.usage();
        assert!(entries <= 4096 && bytes <= 32 * MB && peak <= 32 * MB, "{entries} entries, {bytes} bytes");
        assert!(c.get("q=recherche+99999&near=69001").is_some(), "the newest is kept");
        assert!(c.get("q=recherche+0&near=69001").is_none(), "the oldest made room");
        // Few large documents: the byte bound decides.
        let c: TtlCache<bytes::Bytes> = TtlCache::new(Duration::from_secs(60), 4096, MB);
        for i in 0..100 {
            c.put(format!("{i}"), doc(100_000));
        }
        assert!(c.usage().1 <= MB && c.usage().0 <= 10);
        c.put("huge".into(), doc(2 * MB));
        assert!(c.get("huge").is_none(), "larger than the whole cache: not kept");
    }

    #[test]
    fn entries_expire_without_the_cache_filling() {
        let c: TtlCache<bytes::Bytes> = TtlCache::new(Duration::from_millis(30), 100, MB);
        for i in 0..10 {
            c.put(format!("{i}"), doc(1_000));
        }
        assert_eq!(c.usage().0, 10);
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.get("1").is_none());
        c.sweep();
        assert_eq!(c.usage(), (0, 0), "an idle cache gives its memory back");
        c.put("a".into(), doc(10));
        c.put("a".into(), doc(20));
        assert_eq!(c.usage().0, 1, "storing a key again replaces it");
        for _ in 0..1_000 {
            c.put("a".into(), doc(20));
        }
        assert!(c.lock().order.len() <= 2 * 100 + 16);
    }
}
