//! What every HTML page shares: the layout data, rendering, and error pages.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use si_domain::Role;
use si_store::User;

use crate::error::AppError;

/// Layout data of every page.
pub struct Page {
    /// `<title>` and main heading context.
    pub title: String,
    /// The person logged in.
    pub user: Option<User>,
    /// Breadcrumb trail before the current page: (href, label).
    pub breadcrumbs: Vec<(String, String)>,
    /// Main navigation entry to mark current.
    pub nav: &'static str,
    /// `<meta name="description">`: what a search engine shows under the title.
    pub description: Option<String>,
    /// The page's one address (absolute), for search engines and link previews.
    pub canonical: Option<String>,
}

/// The description of pages that give none.
const DEFAULT_DESCRIPTION: &str = "La Semaine de l'industrie : trouvez les visites d'entreprises, ateliers, forums des métiers et autres événements labellisés près de chez vous, et faites labelliser les vôtres.";

impl Page {
    /// A page titled `title` for `user`.
    pub fn new(title: impl Into<String>, user: Option<User>, nav: &'static str) -> Page {
        Page { title: title.into(), user, breadcrumbs: Vec::new(), nav, description: None, canonical: None }
    }

    /// Sets the description that search engines and link previews show (cut at 160 characters).
    pub fn describe(mut self, text: &str) -> Page {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let cut: String = text.chars().take(160).collect();
        self.description = Some(if cut.len() < text.len() { format!("{}…", cut.trim_end()) } else { cut });
        self
    }

    /// Sets the page's canonical address: `public_url` followed by `path`.
    pub fn canonical(mut self, public_url: &str, path: &str) -> Page {
        self.canonical = Some(format!("{}{path}", public_url.trim_end_matches('/')));
        self
    }

    /// The description, or the platform's.
    pub fn description(&self) -> &str {
        self.description.as_deref().unwrap_or(DEFAULT_DESCRIPTION)
    }

    /// Adds a breadcrumb level.
    pub fn crumb(mut self, href: &str, label: &str) -> Page {
        self.breadcrumbs.push((href.into(), label.into()));
        self
    }

    /// Whether the person reviews events.
    pub fn is_reviewer(&self) -> bool {
        self.user.as_ref().is_some_and(|u| matches!(u.role, Role::NationalAdmin | Role::RegionalCoordinator))
    }

    /// Whether the person is a national administrator.
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::NationalAdmin)
    }

    /// `aria-current="page"` for the current navigation entry.
    pub fn current(&self, entry: &str) -> &'static str {
        if self.nav == entry { "page" } else { "false" }
    }
}

/// Renders a template into a response (a 500 if the template fails, which tests would catch).
pub fn render<T: Template>(t: &T) -> Response {
    render_status(StatusCode::OK, t)
}

/// Renders with a status (422 for a form with errors).
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    status: u16,
    message: String,
}

/// An error shown as a page of the site.
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self.0 {
            tracing::error!(error = ?e, "internal error");
        }
        let status = self.0.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Page introuvable",
            StatusCode::FORBIDDEN => "Accès refusé",
            StatusCode::UNAUTHORIZED => "Connexion requise",
            StatusCode::TOO_MANY_REQUESTS => "Trop de tentatives",
            StatusCode::SERVICE_UNAVAILABLE => "Service momentanément indisponible",
            s if s.is_server_error() => "Erreur inattendue",
            _ => "Demande impossible",
        };
        let page = ErrorPage { page: Page::new(title, None, ""), status: status.as_u16(), message: self.0.message() };
        let mut resp = render_status(status, &page);
        if let Some(seconds) = self.0.retry_after() {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        resp
    }
}

/// Result of page handlers.
pub type PageResult = Result<Response, PageError>;

/// The 404 page (JSON under /api/).
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        AppError::NotFound.into_response()
    } else {
        PageError(AppError::NotFound).into_response()
    }
}
