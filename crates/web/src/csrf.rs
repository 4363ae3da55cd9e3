//! Cross-site request forgery defence: an unsafe method is accepted only from the site itself, as the
//! browser tells through `Sec-Fetch-Site` (or, failing that, `Origin`). Cookies are also `SameSite=Lax`.
//! A request without any cookie cannot act on anyone's behalf and is exempt (token-authenticated API
//! calls, public endpoints such as the eligibility check called from a partner's page) — unless it
//! is a form another site can make a browser send without asking (urlencoded, multipart or plain
//! text): a forged login would put the victim in the attacker's account (login CSRF).

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
    let simple_form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_none_or(|t| {
        let t = t.trim_start().to_ascii_lowercase();
        t.starts_with("application/x-www-form-urlencoded")
            || t.starts_with("multipart/form-data")
            || t.starts_with("text/plain")
    });
    if !headers.contains_key(header::COOKIE) && !simple_form {
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
