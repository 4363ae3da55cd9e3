//! Static assets (the DSFR, the platform's own CSS and JS) compiled into the binary, so that a
//! deployment is one file and no page depends on a CDN.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};

use crate::AppState;

static STATIC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/static");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/static/{*path}", axum::routing::get(serve))
        .route("/favicon.ico", axum::routing::get(|| serve(Path("vendor/dsfr-1.15.3/favicon/favicon.ico".to_string()))))
}

async fn serve(Path(path): Path<String>) -> Response {
    let Some(file) = STATIC.get_file(&path) else {
        return (StatusCode::NOT_FOUND, "Fichier introuvable").into_response();
    };
    let mime = match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "webmanifest" => "application/manifest+json",
        "json" => "application/json",
        _ => "application/octet-stream",
    };
    // Vendored files live under versioned paths and never change; the platform's own may.
    let cache = if path.starts_with("vendor/") { "public, max-age=31536000, immutable" } else { "public, max-age=300" };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        file.contents(),
    )
        .into_response()
}
