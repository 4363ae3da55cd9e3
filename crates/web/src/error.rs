//! One error type for the whole web layer. People's mistakes become 4xx answers with a French
//! sentence (JSON `{"error": {"code", "message", "field"}}` for the API, a DSFR page for the site);
//! internal failures become a generic 500, logged with the details that the answer never shows.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use si_domain::Condition;
use si_store::StoreError;

/// An error answered to a request.
#[derive(Debug)]
pub enum AppError {
    /// Unreadable request (malformed JSON): 400.
    BadRequest { code: &'static str, message: String },
    /// Readable but invalid input: 422, naming the field.
    Invalid { code: &'static str, message: String, field: Option<String> },
    /// The event does not meet every condition: 422 with the failed conditions.
    ConditionsNotMet(Vec<Condition>),
    /// No or bad credentials: 401.
    Unauthorized,
    /// Authenticated but not allowed: 403.
    Forbidden(String),
    /// Nothing here (or nothing this person may see): 404.
    NotFound,
    /// The state forbids it: 409.
    Conflict(String),
    /// The body is larger than the router accepts: 413.
    TooLarge,
    /// Too many attempts: 429, with the seconds after which to try again.
    TooMany { message: String, retry_after: u64 },
    /// The database cannot be reached, or the service is saturated: 503, try again shortly.
    Unavailable,
    /// A service the platform relies on (the login provider) does not answer: 503, with its message.
    Upstream(String),
    /// Our fault: 500.
    Internal(anyhow::Error),
}

impl AppError {
    /// A 429 saying `message`, to try again after `wait` (at least a second).
    pub fn too_many(message: impl Into<String>, wait: std::time::Duration) -> AppError {
        AppError::TooMany { message: message.into(), retry_after: wait.as_secs().max(1) }
    }

    /// A 422 on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid { code: "invalid_value", message: message.into(), field: Some(field.into()) }
    }

    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Invalid { .. } | AppError::ConditionsNotMet(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::Upstream(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The French sentence shown to people.
    pub fn message(&self) -> String {
        match self {
            AppError::BadRequest { message, .. } | AppError::Invalid { message, .. } => message.clone(),
            AppError::ConditionsNotMet(_) => {
                "L'événement ne remplit pas toutes les conditions de labellisation : voyez ce qu'il faut changer."
                    .into()
            }
            AppError::Unauthorized => {
                "Authentification requise : connectez-vous ou fournissez un jeton d'API valide.".into()
            }
            AppError::Forbidden(m)
            | AppError::Conflict(m)
            | AppError::Upstream(m)
            | AppError::TooMany { message: m, .. } => m.clone(),
            AppError::TooLarge => "Le contenu envoyé est trop volumineux.".into(),
            AppError::Unavailable => {
                "Le service est momentanément indisponible ou très sollicité : réessayez dans quelques instants.".into()
            }
            AppError::NotFound => "Cette page ou cette ressource n'existe pas, ou vous n'y avez pas accès.".into(),
            AppError::Internal(_) => "Une erreur interne est survenue. Réessayez dans quelques instants.".into(),
        }
    }

    /// Seconds after which a 429 or 503 may be tried again (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooMany { retry_after, .. } => Some(*retry_after),
            AppError::Unavailable => Some(5),
            AppError::Upstream(_) => Some(60),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } | AppError::Invalid { code, .. } => code,
            AppError::ConditionsNotMet(_) => "conditions_not_met",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge => "too_large",
            AppError::TooMany { .. } => "too_many_requests",
            AppError::Unavailable => "unavailable",
            AppError::Upstream(_) => "upstream_unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            // The database is down or every connection is busy: say so at once rather than hang.
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                AppError::Unavailable
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

/// The JSON error body of the contract.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
    /// Failed conditions, when submission was refused for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<crate::views::ConditionView>>,
}

/// Details of an error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code (`invalid_value`, `not_found`, …).
    pub code: String,
    /// French sentence for people.
    pub message: String,
    /// The offending field, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let status = self.status();
        let field = match &self {
            AppError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        let conditions = match &self {
            AppError::ConditionsNotMet(c) => Some(c.iter().map(crate::views::ConditionView::from).collect()),
            _ => None,
        };
        let body =
            ErrorBody { error: ErrorDetail { code: self.code().into(), message: self.message(), field }, conditions };
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after() {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        resp
    }
}

/// Result of API handlers.
pub type ApiResult<T> = Result<T, AppError>;
