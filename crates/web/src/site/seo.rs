//! What search engines read: `robots.txt` (the public catalogue may be crawled, the private spaces
//! and one-time links may not) and the sitemap of every labelled event's page, so that the public
//! catalogue is findable. The sitemap is an index of files of at most [`PER_FILE`] addresses (the
//! protocol allows 50,000 per file), built from the catalogue index in memory and kept, compressed, until
//! what is labelled changes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::cache::{Document, cached_document};
use crate::error::AppError;
use crate::pages::PageResult;

/// Addresses per sitemap file.
const PER_FILE: usize = 40_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/robots.txt", get(robots))
        .route("/sitemap.xml", get(sitemap_index))
        .route("/sitemaps/{file}", get(sitemap_file))
}

/// The public address, escaped for XML (a configured address could hold `&`).
fn base(state: &AppState) -> String {
    state.config.public_url.trim_end_matches('/').replace('&', "&amp;").replace('<', "&lt;")
}

async fn robots(State(state): State<AppState>) -> Response {
    let mut body = String::from("User-agent: *\n");
    // The sign-up and login pages are how organisers find their way in: crawlable, unlike the
    // spaces and one-time links behind them.
    for path in crate::PRIVATE_PREFIXES.iter().filter(|p| !matches!(**p, "/connexion" | "/inscription")) {
        body.push_str(&format!("Disallow: {path}\n"));
    }
    // The same events as the catalogue, in other formats: the pages are what people should land on.
    body.push_str("Disallow: /api/\nDisallow: /evenements/*/calendrier.ics\nAllow: /\n\n");
    body.push_str(&format!("Sitemap: {}/sitemap.xml\n", base(&state)));
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], body).into_response()
}

const SITEMAP_CACHE: &str = "public, max-age=3600";

fn xml(body: String) -> Result<Document, AppError> {
    Document::new("application/xml; charset=utf-8", body.into_bytes()).map_err(|e| AppError::Internal(e.into()))
}

/// The sitemap's index: one file of pages, then one per [`PER_FILE`] labelled events. Kept built
/// and compressed until what is labelled changes (`Caches::sitemaps`).
async fn sitemap_index(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let doc = cached_document(&state.caches.sitemaps, "sitemap.xml".into(), build_index(&state)).await?;
    Ok(doc.answer(&headers, SITEMAP_CACHE))
}

async fn build_index(state: &AppState) -> Result<Document, AppError> {
    let index = state.catalogue.index(&state.store).await?;
    let files = 1 + index.len().div_ceil(PER_FILE);
    let base = base(state);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    out.push_str(&format!("  <sitemap><loc>{base}/sitemaps/pages.xml</loc></sitemap>\n"));
    for n in 1..files {
        out.push_str(&format!("  <sitemap><loc>{base}/sitemaps/evenements-{n}.xml</loc></sitemap>\n"));
    }
    out.push_str("</sitemapindex>\n");
    xml(out)
}

async fn sitemap_file(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> PageResult {
    // Only the names the index gives reach the cache: anything else is refused before a key is made.
    let n = if file == "pages.xml" {
        0
    } else {
        file.strip_prefix("evenements-")
            .and_then(|f| f.strip_suffix(".xml"))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n >= 1)
            .ok_or(AppError::NotFound)?
    };
    let doc = cached_document(&state.caches.sitemaps, format!("sitemaps/{n}"), build_file(&state, n)).await?;
    Ok(doc.answer(&headers, SITEMAP_CACHE))
}

/// File `n` of the sitemap: 0 the site's pages, from 1 the labelled events' pages.
async fn build_file(state: &AppState, n: usize) -> Result<Document, AppError> {
    let base = base(state);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    if n == 0 {
        for path in ["/", "/evenements", "/carte", "/donnees", "/accessibilite", "/mentions-legales", "/plan-du-site"] {
            out.push_str(&format!("  <url><loc>{base}{path}</loc></url>\n"));
        }
    } else {
        let index = state.catalogue.index(&state.store).await?;
        // Checked: `n` is whatever the address says (a huge one overflowed, a panic).
        let start = (n - 1).checked_mul(PER_FILE).filter(|s| *s < index.len()).ok_or(AppError::NotFound)?;
        for id in index.ids().skip(start).take(PER_FILE) {
            out.push_str(&format!("  <url><loc>{base}/evenements/{id}</loc></url>\n"));
        }
    }
    out.push_str("</urlset>\n");
    xml(out)
}
