//! A test application: the real router on a fresh SQLite database (or PostgreSQL when asked), with an
//! edition open today, and typed helpers to call it in memory.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use si_domain::{Edition, OrganisationKind, Role};
use si_store::{DynStore, NewOrganisation, NewUser};
use si_web::{AppState, WebConfig};
use tower::ServiceExt;

/// The year of the test edition (open for submissions today).
pub const TEST_YEAR: i32 = 2090;

/// The week of the test edition: the first Monday four weeks from today.
pub fn test_week_start() -> NaiveDate {
    let mut d = Utc::now().date_naive() + Duration::days(28);
    while d.weekday() != Weekday::Mon {
        d += Duration::days(1);
    }
    d
}

/// An edition open today.
pub fn open_edition() -> Edition {
    let week = test_week_start();
    let today = Utc::now().date_naive();
    Edition::from_week(TEST_YEAR, 79, "Édition de test", week, 15, today - Duration::days(10), week - Duration::days(6))
}

/// A complete, eligible event in the test edition, as the API takes it.
pub fn complete_event(year: i32, postal_code: &str) -> Value {
    let day = test_week_start() + Duration::days(1);
    json!({
        "edition": year,
        "title": "Visite de l'usine de moteurs",
        "summary": "Découvrez nos ateliers de production.",
        "description": "Visite guidée des ateliers d'usinage et de soudure, rencontre avec des techniciens.",
        "type": "visite_entreprise",
        "sectors": ["mecanique_metallurgie"],
        "audiences": ["scolaires", "jeunes"],
        "themes": [],
        "format": "presentiel",
        "location": {"venue": "Usine", "address": "1 rue de l'Industrie", "postal_code": postal_code, "commune_code": ""},
        "online_url": "",
        "sessions": [{"start": format!("{day}T09:00"), "end": format!("{day}T12:00")}],
        "free": true,
        "industry_objective": true,
        "accessible": true,
        "registration": {"mode": "none"},
        "contact": {"email": "contact@usine.fr", "phone": ""}
    })
}

pub struct TestApp {
    pub router: Router,
    pub store: DynStore,
    pub state: AppState,
    pub year: i32,
    /// Emails delivered by [`TestApp::deliver`] (memory transport).
    pub transport: si_web::mail::Transport,
    pub mailbox: Arc<std::sync::Mutex<Vec<si_web::mail::Sent>>>,
    _dir: Option<Arc<TempDir>>,
}

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::configured(|_| {}).await
    }

    /// A test application on a fresh SQLite database, with settings changed by `adjust`.
    pub async fn configured(adjust: impl FnOnce(&mut WebConfig)) -> TestApp {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let dir = std::env::temp_dir()
            .join(format!("si-web-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()));
        let store = si_store::connect(&format!("sqlite://{}/test.db", dir.display())).await.unwrap();
        Self::build(store, Some(Arc::new(TempDir(dir))), adjust).await
    }

    pub async fn with_store(store: DynStore, dir: Option<Arc<TempDir>>) -> TestApp {
        Self::build(store, dir, |_| {}).await
    }

    async fn build(store: DynStore, dir: Option<Arc<TempDir>>, adjust: impl FnOnce(&mut WebConfig)) -> TestApp {
        store.migrate().await.unwrap();
        store.upsert_edition(&open_edition()).await.unwrap();
        let mut config = WebConfig {
            // No map tiles: tests never depend on the network.
            tile_url: String::new(),
            // No test reaches the internet: the directories' own test runs a local one.
            siret_directory: String::new(),
            uai_directory: String::new(),
            ..WebConfig::default()
        };
        adjust(&mut config);
        let state = AppState::new(store.clone(), config);
        let (transport, mailbox) = si_web::mail::Transport::memory();
        TestApp { router: si_web::router(state.clone()), store, state, year: TEST_YEAR, transport, mailbox, _dir: dir }
    }

    /// The same application with its clock stopped at `at` (`si_web::clock::FixedClock`): every rule
    /// judged « now » is judged then.
    pub fn at(mut self, at: chrono::DateTime<Utc>) -> (TestApp, Arc<si_web::clock::FixedClock>) {
        let clock = Arc::new(si_web::clock::FixedClock::new(at));
        self.state.clock = clock.clone();
        self.router = si_web::router(self.state.clone());
        (self, clock)
    }

    /// Runs the outbox once and returns what it sent since the last call.
    pub async fn deliver(&self) -> Vec<si_web::mail::Sent> {
        self.state.settled().await;
        si_web::mail::deliver_due(&self.store, &self.transport, &si_web::mail::WorkerConfig::default()).await.unwrap();
        std::mem::take(&mut *self.mailbox.lock().unwrap())
    }

    /// Logs in on the site with the tests' password; returns the session cookie.
    pub async fn login(&self, email: &str) -> String {
        let body = format!("email={}&password=mot+de+passe+de+test", email.replace('@', "%40"));
        let (status, _, cookie) = self.post_form("/connexion", &body, None).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "login of {email}");
        cookie.expect("a session cookie").split(';').next().unwrap().to_string()
    }

    /// Creates and submits a complete event through the API; returns its id.
    pub async fn submitted(&self, token: &str, event: &Value) -> i64 {
        let (s, created) = self.post_json("/api/v1/me/events", event, Some(token)).await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let id = created["id"].as_i64().unwrap();
        let (s, v) = self.post_json(&format!("/api/v1/me/events/{id}/submit"), &json!({}), Some(token)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        id
    }

    /// The current version of an event, which a decision must name.
    pub async fn version(&self, id: i64) -> i64 {
        self.store.event(id).await.unwrap().expect("the event exists").version
    }

    /// Posts the decision form of the reviewer's page (`body`: decision, reason…) with the event's
    /// current version, as the page would; returns status and body.
    pub async fn decide_on_site(&self, id: i64, body: &str, cookie: &str) -> (StatusCode, String, Option<String>) {
        let body = format!("{body}&version={}", self.version(id).await);
        self.post_form(&format!("/instruction/evenements/{id}/decision"), &body, Some(cookie)).await
    }

    /// Creates a person and returns an API token for them.
    pub async fn person(&self, email: &str, role: &str, region: Option<&str>) -> String {
        let role = Role::parse(role).unwrap();
        let user = self
            .store
            .create_user(&NewUser {
                email: email.into(),
                name: email.into(),
                password_hash: password_auth::generate_hash("mot de passe de test"),
                role,
                region: region.map(String::from),
                organisation_id: None,
            })
            .await
            .unwrap();
        // The test people confirmed their address (sign-up tests do it through the link).
        self.store.mark_email_verified(user.id, &[], chrono::Utc::now()).await.unwrap();
        si_web::auth::create_api_token(&self.state, user.id, "Tests", 30).await.unwrap()
    }

    /// A company of the Rhône, made directly in the store.
    pub async fn company(&self, name: &str) -> si_store::Organisation {
        self.store
            .create_organisation(&NewOrganisation {
                name: name.into(),
                kind: OrganisationKind::Entreprise,
                department: "69".into(),
                identifier: None,
            })
            .await
            .unwrap()
    }

    /// Complete events of `organisation` in `year` at `postal_code`, one per title, labelled directly
    /// in the store (as the demo data is).
    pub async fn labelled_titles(&self, organisation: i64, year: i32, postal_code: &str, titles: &[String]) {
        let rows: Vec<_> = titles
            .iter()
            .map(|t| {
                let mut e = complete_event(year, postal_code);
                e["title"] = serde_json::json!(t);
                let mut data: si_domain::EventData = serde_json::from_value(e).unwrap();
                data.normalise();
                (organisation, data, chrono::Utc::now())
            })
            .collect();
        self.store.insert_labelled(year, &rows).await.unwrap();
    }

    /// Creates an organiser with their organisation and returns an API token.
    pub async fn organiser(&self, email: &str, organisation: &str) -> String {
        let org = self
            .store
            .create_organisation(&NewOrganisation {
                name: organisation.into(),
                kind: OrganisationKind::Association,
                department: "69".into(),
                identifier: None,
            })
            .await
            .unwrap();
        let user = self
            .store
            .create_user(&NewUser {
                email: email.into(),
                name: email.into(),
                password_hash: password_auth::generate_hash("mot de passe de test"),
                role: Role::Organiser,
                region: None,
                organisation_id: Some(org.id),
            })
            .await
            .unwrap();
        // The test people confirmed their address (sign-up tests do it through the link).
        self.store.mark_email_verified(user.id, &[], chrono::Utc::now()).await.unwrap();
        si_web::auth::create_api_token(&self.state, user.id, "Tests", 30).await.unwrap()
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.unwrap()
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut b = Request::get(path);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn json_of(resp: Response<Body>) -> (StatusCode, Value) {
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, v)
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        Self::json_of(self.get(path, None).await).await
    }

    pub async fn get_json_auth(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let req =
            Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
        Self::json_of(self.send(req).await).await
    }

    pub async fn post_raw(&self, path: &str, body: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut b = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        Self::json_of(self.send(b.body(Body::from(body.to_string())).unwrap()).await).await
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> (StatusCode, Value) {
        self.post_raw(path, &body.to_string(), token).await
    }

    pub async fn put_json(&self, path: &str, body: &Value, token: &str) -> (StatusCode, Value) {
        let req = Request::put(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        Self::json_of(self.send(req).await).await
    }

    pub async fn get_html(&self, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
        let resp = self.get(path, cookie).await;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// Posts a form as a same-origin browser would; returns status, body and any Set-Cookie.
    pub async fn post_form(
        &self,
        path: &str,
        body: &str,
        cookie: Option<&str>,
    ) -> (StatusCode, String, Option<String>) {
        let mut b = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        let resp = self.send(b.body(Body::from(body.to_string())).unwrap()).await;
        let status = resp.status();
        let cookie = resp.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_string());
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap(), cookie)
    }

    /// Posts a form as a same-origin browser would; returns status and the redirect's target.
    pub async fn post_form_to(&self, path: &str, body: &str) -> (StatusCode, Option<String>) {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = self.send(req).await;
        (resp.status(), resp.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string()))
    }

    /// A JSON request with any method (PATCH, DELETE), without authentication.
    pub async fn call_json(&self, method: &str, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(path).header("sec-fetch-site", "same-origin");
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let req = b.body(Body::from(body.map(|v| v.to_string()).unwrap_or_default())).unwrap();
        Self::json_of(self.send(req).await).await
    }

    pub async fn post_form_cross_site(&self, path: &str, body: &str, cookie: &str) -> (StatusCode, String) {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .header(header::COOKIE, cookie)
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = self.send(req).await;
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }
}

/// The body of a response as text.
pub async fn body_text(resp: Response<Body>) -> String {
    String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}
