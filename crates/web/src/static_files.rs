//! Static assets (the DSFR, the platform's own CSS and JS) compiled into the binary, so that a
//! deployment is one file and no page depends on a CDN. Each text asset is compressed once (brotli
//! and gzip, at their best settings), in the background at start or by its first request, and kept:
//! the set of files is fixed at build time, so this memory is bounded. Every file carries a strong
//! `ETag`; a browser that has it gets a 304.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, LazyLock, OnceLock};

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

use crate::AppState;

static STATIC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static");

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/static/{*path}", axum::routing::get(serve)).route(
        "/favicon.ico",
        axum::routing::get(|h: HeaderMap| {
            serve(Path("vendor/dsfr-1.15.3/favicon/favicon.ico".to_string()), RawQuery(None), h)
        }),
    )
}

/// One asset as served: its tag and, for text, its compressed copies.
struct Prepared {
    etag: HeaderValue,
    brotli: Option<Vec<u8>>,
    gzip: Option<Vec<u8>>,
}

/// Prepared assets by path: one slot per file compiled in, filled once. A slot being filled makes
/// the other requests for that file wait for it, so a burst of first visits compresses each file
/// once, not once per request (brotli at quality 11 costs seconds of CPU on the DSFR's CSS).
static PREPARED: LazyLock<HashMap<&'static str, OnceLock<Arc<Prepared>>>> = LazyLock::new(|| {
    fn walk(dir: &'static Dir<'static>, out: &mut HashMap<&'static str, OnceLock<Arc<Prepared>>>) {
        for f in dir.files() {
            out.insert(f.path().to_str().unwrap_or(""), OnceLock::new());
        }
        for d in dir.dirs() {
            walk(d, out);
        }
    }
    let mut out = HashMap::new();
    walk(&STATIC, &mut out);
    out
});

/// The platform's own assets (the top folder; `vendor/` paths carry their version already) with the
/// start of their SHA-256. Pages link them as `/static/app.css?v=…` ([`asset`]): such an address may be
/// kept a year, since a build whose file differs links another one.
static VERSIONS: LazyLock<HashMap<&'static str, String>> =
    LazyLock::new(|| STATIC.files().map(|f| (f.path().to_str().unwrap_or(""), digest_hex(f.contents()))).collect());

/// The first 12 bytes of a content's SHA-256, in hexadecimal: its `ETag` and its version (the cached
/// documents' `ETag` too, `cache::Document`).
pub(crate) fn digest_hex(contents: &[u8]) -> String {
    Sha256::digest(contents)[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// The address of one of the platform's own assets, with its version (templates call it).
pub(crate) fn asset(path: &str) -> String {
    match VERSIONS.get(path) {
        Some(v) => format!("/static/{path}?v={v}"),
        None => format!("/static/{path}"),
    }
}

fn mime(path: &str) -> (&'static str, bool) {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => ("text/css; charset=utf-8", true),
        "js" | "mjs" => ("text/javascript; charset=utf-8", true),
        "svg" => ("image/svg+xml", true),
        "json" => ("application/json", true),
        "webmanifest" => ("application/manifest+json", true),
        "ico" => ("image/x-icon", true),
        "png" => ("image/png", false),
        "woff2" => ("font/woff2", false),
        "woff" => ("font/woff", false),
        _ => ("application/octet-stream", false),
    }
}

fn prepare(path: &'static str, contents: &'static [u8], text: bool) -> Arc<Prepared> {
    match PREPARED.get(path) {
        Some(slot) => slot.get_or_init(|| compress(contents, text)).clone(),
        None => compress(contents, text),
    }
}

fn compress(contents: &'static [u8], text: bool) -> Arc<Prepared> {
    let etag = format!("\"{}\"", digest_hex(contents));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    // Compressing pays only for text of some size; a copy no smaller than the original is dropped.
    let worth = |c: Vec<u8>| (c.len() < contents.len()).then_some(c);
    let (brotli, gzip) = if text && contents.len() > 512 {
        let mut br = Vec::new();
        let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
        let brotli = brotli::BrotliCompress(&mut &contents[..], &mut br, &params).ok().and_then(|_| worth(br));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let gzip = gz.write_all(contents).ok().and_then(|_| gz.finish().ok()).and_then(worth);
        (brotli, gzip)
    } else {
        (None, None)
    };
    Arc::new(Prepared { etag, brotli, gzip })
}

/// Compresses every text asset in the background, so that the first visitors do not wait for it.
pub fn warm() {
    tokio::task::spawn_blocking(|| {
        fn walk(dir: &'static Dir<'static>) {
            for f in dir.files() {
                let path = f.path().to_str().unwrap_or("");
                prepare(path, f.contents(), mime(path).1);
            }
            for d in dir.dirs() {
                walk(d);
            }
        }
        walk(&STATIC);
    });
}

/// Whether the client accepts a content coding (`br`, `gzip`), from `Accept-Encoding`, `q=0` meaning no.
pub(crate) fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |item| {
            let mut parts = item.split(';').map(str::trim);
            parts.next().is_some_and(|c| c.eq_ignore_ascii_case(coding))
                && !parts.any(|p| {
                    p.replace(' ', "").starts_with("q=0")
                        && p.trim_start_matches("q=0").trim_matches(['.', '0']).is_empty()
                })
        },
    )
}

async fn serve(Path(path): Path<String>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let Some(file) = STATIC.get_file(&path) else {
        return (StatusCode::NOT_FOUND, "Fichier introuvable").into_response();
    };
    let (mime, text) = mime(&path);
    let static_path: &'static str = file.path().to_str().unwrap_or("");
    let prepared = tokio::task::spawn_blocking(move || prepare(static_path, file.contents(), text)).await;
    let Ok(prepared) = prepared else {
        return (StatusCode::SERVICE_UNAVAILABLE, "Réessayez dans un instant").into_response();
    };
    // Vendored files live under versioned paths and never change; the platform's own do not either
    // at the address that names their current version. Any other address of them is kept 5 minutes.
    let versioned = query
        .as_deref()
        .and_then(|q| q.strip_prefix("v="))
        .is_some_and(|v| VERSIONS.get(path.as_str()).is_some_and(|current| current == v));
    let cache = if path.starts_with("vendor/") || versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::ETAG, prepared.etag.clone());
    if prepared.brotli.is_some() || prepared.gzip.is_some() {
        out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim() == prepared.etag.to_str().unwrap_or("") || t.trim() == "*"))
    }) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    let body: Vec<u8> = match (&prepared.brotli, &prepared.gzip) {
        (Some(br), _) if accepts(&headers, "br") => {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            br.clone()
        }
        (_, Some(gz)) if accepts(&headers, "gzip") => {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            gz.clone()
        }
        _ => return (out, file.contents()).into_response(),
    };
    (out, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(accepts(&h("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&h("gzip;q=1.0, br;q=0.5"), "br"));
        assert!(!accepts(&h("gzip, br;q=0"), "br"));
        assert!(!accepts(&h("gzip, br;q=0.0"), "br"));
        assert!(accepts(&h("gzip"), "gzip"));
        assert!(!accepts(&h("identity"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}
