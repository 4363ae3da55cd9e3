//! Cross-site request forgery defence: an unsafe method is accepted only from the site itself, as the
//! browser tells through `Sec-Fetch-Site` (or, failing that, `Origin`). Cookies are also `SameSite=Lax`.
//! A request without any cookie cannot act on anyone's behalf and is exempt (token-authenticated API
//! calls, public endpoints such as the eligibility check called from a partner's page).

use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

pub(crate) async fn check(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    if !headers.contains_key(header::COOKIE) {
        return next.run(req).await;
    }
    let allowed = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) => {
                let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
                origin.split_once("://").map(|(_, h)| h) == Some(host)
            }
            // Neither header: not a browser (browsers send at least one on a cross-site POST).
            None => true,
        },
    };
    if allowed {
        next.run(req).await
    } else {
        AppError::Forbidden("Requête refusée : elle ne provient pas de ce site.".into()).into_response()
    }
}
