//! Prometheus metrics of one node (`GET /metrics`, text exposition format 0.0.4): requests by route
//! and status, latency histograms by route, the database pool, the outbox (depth and age of the
//! oldest email), submissions and decisions in the last hour, the catalogue index (age, events), the
//! caches and the exports in progress. Written by hand: a few counters behind one mutex cost less
//! than a metrics stack and its dependencies.
//!
//! Routes are the router's patterns (`/evenements/{id}`), never raw paths, so the number of series
//! is bounded by the code, whatever anonymous clients ask for. `/metrics` answers the holder of
//! `--metrics-token`, or, without one, only a client on this machine that came through no proxy.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    /// Per bucket (not cumulative), plus one for beyond the last bound.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
}

#[derive(Default)]
struct Counters {
    requests: HashMap<(String, String, u16), u64>,
    latency: HashMap<String, Histogram>,
}

/// The counters of this process.
#[derive(Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut c) = self.counters.lock() else { return };
        *c.requests.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        let h = c.latency.entry(route.to_string()).or_default();
        let slot = BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(BUCKETS.len());
        h.counts[slot] += 1;
        h.sum += seconds;
    }
}

/// Counts each request under its route pattern, with its status and the time to its answer's head.
pub(crate) async fn measure(
    State(metrics): State<std::sync::Arc<Metrics>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("(autre)", MatchedPath::as_str).to_string();
    // Any token is a method to HTTP: an unknown one is counted as « other », so that anonymous
    // clients cannot make new series.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "other",
    }
    .to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    metrics.record(&method, &route, resp.status().as_u16(), started.elapsed().as_secs_f64());
    resp
}

/// A label value, escaped as the exposition format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn allowed(state: &AppState, peer: Option<std::net::SocketAddr>, headers: &HeaderMap) -> bool {
    match &state.config.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                // Compared as digests: the time taken says nothing of how much of the token matched.
                use sha2::Digest;
                sha2::Sha256::digest(given.as_bytes()) == sha2::Sha256::digest(token.as_bytes())
            }),
        None => peer.is_some_and(|p| p.ip().is_loopback()) && !headers.contains_key("x-forwarded-for"),
    }
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let peer = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
    if !allowed(&state, peer, req.headers()) {
        return crate::pages::not_found(axum::http::Uri::from_static("/metrics")).await;
    }
    let mut out = String::with_capacity(16 * 1024);
    if let Ok(c) = state.metrics.counters.lock() {
        out.push_str("# HELP si_http_requests_total Requests answered, by method, route pattern and status.\n");
        out.push_str("# TYPE si_http_requests_total counter\n");
        let mut rows: Vec<_> = c.requests.iter().collect();
        rows.sort();
        for ((method, route, status), n) in rows {
            let _ = writeln!(
                out,
                "si_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(method),
                label(route)
            );
        }
        out.push_str("# HELP si_http_request_duration_seconds Time to the head of each answer, by route pattern.\n");
        out.push_str("# TYPE si_http_request_duration_seconds histogram\n");
        let mut routes: Vec<_> = c.latency.iter().collect();
        routes.sort_by(|a, b| a.0.cmp(b.0));
        for (route, h) in routes {
            let route = label(route);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += h.counts[i];
                let _ = writeln!(
                    out,
                    "si_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += h.counts[BUCKETS.len()];
            let _ =
                writeln!(out, "si_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}");
            let _ = writeln!(out, "si_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "si_http_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}");
        }
    }
    let gauge = |out: &mut String, name: &str, help: &str, value: String| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
    };
    let counter = |out: &mut String, name: &str, help: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
    };
    let pool = state.store.pool_use();
    out.push_str("# HELP si_db_pool_connections Connections of this node's database pool.\n# TYPE si_db_pool_connections gauge\n");
    let _ = writeln!(out, "si_db_pool_connections{{state=\"idle\"}} {}", pool.idle);
    let _ = writeln!(out, "si_db_pool_connections{{state=\"in_use\"}} {}", pool.open.saturating_sub(pool.idle));
    let now = chrono::Utc::now();
    let database_up = match state.store.outbox_stats().await {
        Ok(o) => {
            gauge(&mut out, "si_outbox_pending", "Emails waiting to be sent.", o.pending.to_string());
            gauge(
                &mut out,
                "si_outbox_retrying",
                "Among them, emails that failed at least once.",
                o.retrying.to_string(),
            );
            let age = o.oldest_pending.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
            gauge(
                &mut out,
                "si_outbox_oldest_pending_seconds",
                "Age of the oldest email waiting (0: none).",
                age.to_string(),
            );
            true
        }
        Err(_) => false,
    };
    if let Ok(activity) = state.store.activity_since(now - chrono::Duration::hours(1)).await {
        let count = |code: &str| activity.iter().filter(|(a, _)| a == code).map(|(_, n)| n).sum::<u64>();
        gauge(
            &mut out,
            "si_submissions_last_hour",
            "Submissions for labelling in the last hour.",
            count("submit").to_string(),
        );
        out.push_str("# HELP si_decisions_last_hour Label decisions in the last hour, by decision.\n# TYPE si_decisions_last_hour gauge\n");
        for code in ["label", "refuse", "request_changes", "change_accept", "change_refuse", "revoke"] {
            let _ = writeln!(out, "si_decisions_last_hour{{decision=\"{code}\"}} {}", count(code));
        }
    }
    gauge(&mut out, "si_database_up", "The database answered this scrape.", u8::from(database_up).to_string());
    match state.catalogue.facts() {
        Some((age, events)) => {
            gauge(
                &mut out,
                "si_catalogue_index_age_seconds",
                "Age of the catalogue index.",
                age.as_secs_f64().to_string(),
            );
            gauge(&mut out, "si_catalogue_index_events", "Labelled events in the catalogue index.", events.to_string());
        }
        None => gauge(
            &mut out,
            "si_catalogue_index_age_seconds",
            "Age of the catalogue index (-1: not built).",
            "-1".into(),
        ),
    }
    let (reads, updates) = state.catalogue.refreshes();
    counter(&mut out, "si_catalogue_index_reads_total", "Whole reads of the catalogue into the index.", reads);
    counter(&mut out, "si_catalogue_index_updates_total", "Moves applied to the catalogue index.", updates);
    let (served, read, held, bytes) = state.catalogue.record_facts();
    counter(&mut out, "si_search_records_served_total", "Events of search pages served from memory.", served);
    counter(&mut out, "si_search_records_read_total", "Events of search pages read from the database.", read);
    gauge(&mut out, "si_search_records", "Events kept in memory for search pages.", held.to_string());
    gauge(
        &mut out,
        "si_search_records_bytes",
        "Estimated bytes of the events kept for search pages.",
        bytes.to_string(),
    );
    let (reads, updates) = state.queue.refreshes();
    counter(&mut out, "si_review_queue_reads_total", "Whole reads of the review queue.", reads);
    counter(&mut out, "si_review_queue_updates_total", "Moves applied to the review queue.", updates);
    if let Some((rows, _)) = state.queue.facts() {
        gauge(
            &mut out,
            "si_review_queue_rows",
            "Submissions and changes in the review queue kept in memory.",
            rows.to_string(),
        );
    }
    gauge(&mut out, "si_cache_bytes", "Bytes held by the answer caches.", state.caches.bytes().to_string());
    gauge(
        &mut out,
        "si_exports_in_progress",
        "Exports being written.",
        (crate::EXPORTS_AT_ONCE - state.exports.available_permits()).to_string(),
    );
    let mut resp = (StatusCode::OK, out).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; version=0.0.4"));
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    resp
}
