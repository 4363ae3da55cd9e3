//! The HTTP surface of the platform: French HTML pages built on the DSFR, the JSON API of SPEC.md §6
//! and its OpenAPI document. [`router`] builds everything from an [`AppState`], apart from serving,
//! so that tests drive it in memory.

pub mod api;
pub mod app;
pub mod auth;
pub(crate) mod cache;
pub mod catalogue;
mod charts;
pub mod clock;
mod csrf;
pub mod directory;
pub mod error;
pub mod exports;
mod forms;
#[doc(hidden)]
pub mod fuzzing;
pub mod kit;
pub mod mail;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod outbound;
mod pages;
pub mod server;
mod site;
mod static_files;
pub mod throttle;
pub mod views;
pub mod worker;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use si_store::DynStore;
use tower_http::set_header::SetResponseHeaderLayer;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public address of the site, used in absolute links (API `url`, feeds).
    pub public_url: String,
    /// Mark cookies `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// Map tiles URL template (`{z}`, `{x}`, `{y}`); empty for a map without tiles.
    pub tile_url: String,
    /// How long public answers (map, facets, searches, anonymous event pages) are kept in memory.
    pub cache_ttl: std::time::Duration,
    /// The reverse proxies whose `X-Forwarded-For` gives the client's address to the per-source
    /// limits (never believed from any other peer).
    pub proxies: auth::ProxyTrust,
    /// Base URL of the company directory (API Recherche d'entreprises); empty: SIRET check digits only.
    pub siret_directory: String,
    /// Base URL of the school directory (Annuaire de l'éducation); empty: UAI check characters only.
    pub uai_directory: String,
    /// ProConnect (OpenID Connect) for coordinators and administrators; `None`: passwords only.
    pub oidc: Option<oidc::OidcConfig>,
    /// Booking contacts are erased this many months after their edition's week.
    pub booking_retention_months: u32,
    /// Where people write to the team: shown on the legal pages, the accessibility statement, the
    /// footer and in every email.
    pub contact_email: String,
    /// The bearer token that `/metrics` asks for; without one, it answers only clients on this
    /// machine that came through no proxy.
    pub metrics_token: Option<String>,
}

/// The team's address when none is configured.
pub const DEFAULT_CONTACT_EMAIL: &str = "semaine-industrie@finances.gouv.fr";

/// The contact address that emails give, set once from the configuration when the router is built
/// (emails are written far from any request; the first configuration of the process wins).
pub(crate) static CONTACT_EMAIL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The map tiles of the configuration, for the pages that draw a map without a handler's help (the
/// event form's pin); set with the contact address.
pub(crate) static TILE_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The map tiles URL template ("" for a map without tiles).
pub(crate) fn tile_url() -> &'static str {
    TILE_URL.get().map(String::as_str).unwrap_or("")
}

/// The origin (scheme and host) of a tiles URL template: where a map's images come from, for the
/// security policy and the map page's early connection. `None` for a map without tiles.
pub(crate) fn tile_origin(tile_url: &str) -> Option<String> {
    let (scheme, rest) = tile_url.split_once("://")?;
    let host = rest.split(['/', '?']).next().unwrap_or("");
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// The contact address given in emails.
pub(crate) fn contact_email() -> &'static str {
    CONTACT_EMAIL.get().map(String::as_str).unwrap_or(DEFAULT_CONTACT_EMAIL)
}

/// The IGN Géoplateforme « Plan IGN » tiles (WMTS, Web Mercator).
pub const DEFAULT_TILE_URL: &str = "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}";

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_url: "http://127.0.0.1:8080".into(),
            contact_email: DEFAULT_CONTACT_EMAIL.into(),
            secure_cookies: false,
            tile_url: DEFAULT_TILE_URL.into(),
            cache_ttl: std::time::Duration::from_secs(60),
            proxies: auth::ProxyTrust::default(),
            siret_directory: directory::SIRET_DIRECTORY.into(),
            uai_directory: directory::UAI_DIRECTORY.into(),
            oidc: None,
            booking_retention_months: 6,
            metrics_token: None,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: DynStore,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// Documents served from memory at the peak.
    pub caches: Arc<cache::Caches>,
    /// The in-memory catalogue index behind public searches.
    pub catalogue: Arc<catalogue::Catalogue>,
    /// The national review queue kept in memory, checked against the store at every page.
    pub queue: Arc<app::queue::QueueCache>,
    /// The outbox's wake-up call.
    pub mail: Arc<mail::Mail>,
    /// Limits on logins, password links and sign-ups (per account, source and globally).
    pub throttle: Arc<throttle::Throttle>,
    /// The public directories that check SIRET and UAI numbers.
    pub directories: Arc<directory::Directories>,
    /// The ProConnect client, when configured.
    pub oidc: Option<Arc<oidc::Oidc>>,
    /// Where the time comes from (the system's; a fixed one in tests).
    pub clock: Arc<dyn clock::Clock>,
    /// What composing and queuing letters needs.
    pub letters: notify::Letters,
    /// Exports being written (see `api::feeds`): each reads the database and formats for seconds,
    /// so a node writes a few at once and tells the others to come back.
    pub exports: Arc<tokio::sync::Semaphore>,
    /// Review queues being streamed per account (each holds its snapshot until read out).
    pub queue_streams: Arc<throttle::PerAccount>,
    /// Requests counted for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Work finished after the answer (see [`AppState::after_answer`]).
    background: Arc<Background>,
}

/// Exports a node writes at once.
pub const EXPORTS_AT_ONCE: usize = 4;

/// Review queues a node streams at once to one account through the API.
pub const QUEUE_STREAMS_PER_ACCOUNT: usize = 4;

/// Counts the tasks started by [`AppState::after_answer`], so that tests can wait for them.
#[derive(Default)]
struct Background {
    running: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

impl AppState {
    /// What the public sees has changed (a label, a change accepted, a status, a revocation): drop the
    /// answers kept in memory and rebuild the catalogue index.
    pub fn public_changed(&self) {
        self.deps().public_changed();
    }

    /// What the use cases need, borrowed from the state (see [`app::Deps`]).
    pub fn deps(&self) -> app::Deps<'_> {
        app::Deps {
            store: &self.store,
            clock: self.clock.as_ref(),
            letters: &self.letters,
            caches: &self.caches,
            catalogue: &self.catalogue,
            directories: &self.directories,
        }
    }

    /// Builds the state.
    pub fn new(store: DynStore, config: WebConfig) -> AppState {
        let caches = Arc::new(cache::Caches::new(config.cache_ttl));
        let directories = Arc::new(directory::Directories::new(&config.siret_directory, &config.uai_directory));
        let oidc = config.oidc.clone().map(|c| Arc::new(oidc::Oidc::new(c)));
        let mail: Arc<mail::Mail> = Arc::default();
        let letters =
            notify::Letters { store: store.clone(), public_url: config.public_url.as_str().into(), mail: mail.clone() };
        AppState {
            directories,
            oidc,
            store,
            config: Arc::new(config),
            caches,
            catalogue: Arc::default(),
            queue: Arc::default(),
            mail,
            clock: Arc::new(clock::SystemClock),
            letters,
            throttle: Arc::default(),
            exports: Arc::new(tokio::sync::Semaphore::new(EXPORTS_AT_ONCE)),
            queue_streams: Arc::new(throttle::PerAccount::new(QUEUE_STREAMS_PER_ACCOUNT)),
            metrics: Arc::default(),
            background: Arc::default(),
        }
    }

    /// Runs `work` after the answer is sent: for work whose duration must not show in the answer's
    /// (whether an account exists).
    pub fn after_answer(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        use std::sync::atomic::Ordering;
        let bg = self.background.clone();
        bg.running.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            work.await;
            if bg.running.fetch_sub(1, Ordering::SeqCst) == 1 {
                bg.idle.notify_waiters();
            }
        });
    }

    /// Waits until the work started by [`AppState::after_answer`] is done.
    pub async fn settled(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let idle = self.background.idle.notified();
            if self.background.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// The headers every answer carries, computed once from the configuration.
#[derive(Clone)]
struct SecurityHeaders {
    /// Content-Security-Policy of the pages (only the site's own scripts; tiles from their host).
    csp: HeaderValue,
    /// The same for the widget, which partners frame.
    widget_csp: HeaderValue,
    /// `Strict-Transport-Security` when the public address is https.
    hsts: Option<HeaderValue>,
}

impl SecurityHeaders {
    fn new(config: &WebConfig) -> SecurityHeaders {
        // The tile server's origin (scheme and host), the only other place images come from.
        let tiles = tile_origin(&config.tile_url).map(|o| format!(" {o}")).unwrap_or_default();
        let policy = |ancestors: &str| {
            format!(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:{tiles}; \
                 font-src 'self'; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; \
                 form-action 'self'; frame-ancestors {ancestors}"
            )
        };
        SecurityHeaders {
            csp: HeaderValue::from_str(&policy("'none'")).unwrap_or(HeaderValue::from_static("default-src 'self'")),
            widget_csp: HeaderValue::from_str(&policy("*")).unwrap_or(HeaderValue::from_static("default-src 'self'")),
            hsts: config
                .public_url
                .starts_with("https://")
                .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        }
    }
}

/// Paths whose answers belong to one person or to reviewers: never kept by a browser or a proxy.
pub(crate) const PRIVATE_PREFIXES: &[&str] = &[
    "/espace",
    "/instruction",
    "/admin",
    "/api/v1/me",
    "/api/v1/review",
    "/mot-de-passe",
    "/connexion",
    "/inscription",
    "/reservations",
    "/api/v1/registrations",
];

/// Security headers: the content policy (pages may not be framed by other sites — clickjacking —
/// except the widget, made for partners' iframes), HSTS over https, and `Cache-Control: no-store` on
/// private answers and on every answer to a logged-in request.
async fn security_headers(
    axum::extract::State(h): axum::extract::State<SecurityHeaders>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let widget = path == "/widget";
    // Static files are the same for everyone: a logged-in browser keeps them like anyone's.
    let shared = path.starts_with("/static/") || path == "/favicon.ico";
    let private = !shared
        && (PRIVATE_PREFIXES.iter().any(|p| path.starts_with(p))
            || path.contains("/label/")
            || path.contains("/reserver/")
            || path.ends_with("/registrations")
            || req.headers().contains_key(header::AUTHORIZATION)
            || req
                .headers()
                .get_all(header::COOKIE)
                .iter()
                .any(|v| v.to_str().is_ok_and(|c| c.contains(auth::SESSION_COOKIE))));
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    if widget {
        headers.insert(header::CONTENT_SECURITY_POLICY, h.widget_csp);
    } else {
        headers.insert(header::CONTENT_SECURITY_POLICY, h.csp);
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if let Some(hsts) = h.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
    }
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let _ = CONTACT_EMAIL.set(state.config.contact_email.clone());
    let _ = TILE_URL.set(state.config.tile_url.clone());
    let (api, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(site::public::router())
        .merge(site::account::router())
        .merge(site::organiser::router())
        .merge(site::review::router())
        .merge(site::kit::router())
        .merge(site::admin::router())
        .merge(site::opendata::router())
        .merge(site::stats::router())
        .merge(site::tokens::router())
        .merge(site::members::router())
        .merge(site::proconnect::router())
        .merge(site::bookings::router())
        .merge(site::seo::router())
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(static_files::router())
        .route("/metrics", axum::routing::get(metrics::metrics))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::measure))
        .layer(axum::middleware::from_fn(csrf::check))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(axum::middleware::from_fn_with_state(SecurityHeaders::new(&state.config), security_headers))
        // Text answers compressed (brotli or gzip, as the client accepts), except private ones
        // (`no-store`): a page holding a secret beside text an attacker can reflect into it would
        // leak the secret through its compressed size (BREACH). Answers already compressed (static
        // assets, the map) pass as they are.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(tower_http::compression::predicate::Predicate::and(
                    tower_http::compression::predicate::DefaultPredicate::new(),
                    |_: axum::http::StatusCode,
                     _: axum::http::Version,
                     h: &axum::http::HeaderMap,
                     _: &axum::http::Extensions| {
                        !h.get(header::CACHE_CONTROL).is_some_and(|v| v.as_bytes().starts_with(b"no-store"))
                            && !h.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"font/"))
                    },
                )),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        // Every log line of a request carries its id, which the answer gives back (`X-Request-Id`):
        // a person reporting a problem can quote it, and the operator finds the lines.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.extensions().get::<RequestId>().map_or("-", |r| r.0.as_str()).to_string();
                    tracing::info_span!("request", id = %id, method = %req.method(), path = %loggable_path(req.uri().path()))
                })
                // One line per answer (status, latency), at info: the access log.
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Millis),
                ),
        )
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state)
}

/// Paths whose last segment is a secret (a one-time link, a booking's link): logs never keep it.
const SECRET_PATHS: &[&str] =
    &["/mot-de-passe/", "/verification/", "/adresse/", "/reservations/", "/api/v1/registrations/"];

/// A request path as it may be logged: the secret of a link replaced by `…`.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match SECRET_PATHS.iter().find(|p| path.starts_with(*p)) {
        Some(prefix) => format!("{prefix}…").into(),
        None => path.into(),
    }
}

/// The id of a request, in its extensions (see [`request_id`]).
#[derive(Clone)]
pub struct RequestId(pub String);

/// Gives each request an id: 8 random bytes in hex, unique enough to find a request's lines.
async fn request_id(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let mut bytes = [0u8; 8];
    let id = match getrandom::fill(&mut bytes) {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        Err(_) => "inconnu".to_string(),
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_in_paths_are_not_logged() {
        assert_eq!(super::loggable_path("/reservations/abc123"), "/reservations/…");
        assert_eq!(super::loggable_path("/api/v1/registrations/abc123"), "/api/v1/registrations/…");
        assert_eq!(super::loggable_path("/mot-de-passe/abc"), "/mot-de-passe/…");
        assert_eq!(super::loggable_path("/evenements/12"), "/evenements/12");
    }
}
