//! The authorisation matrix: every route of the application × every role → the expected answer. The
//! list of routes is read from the code itself (each `.route("…")` of `crates/web/src` and each path
//! of the OpenAPI document, which is generated from the handlers), so a new route without a rule
//! here fails the test.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::support::{TestApp, complete_event};

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Anonymous,
    Organiser,
    Coordinator,
    Admin,
}

const ROLES: [Role; 4] = [Role::Anonymous, Role::Organiser, Role::Coordinator, Role::Admin];

/// Who may use a route.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Everyone.
    Public,
    /// Anyone logged in.
    LoggedIn,
    /// Organisers only.
    Organiser,
    /// Coordinators and administrators.
    Reviewer,
    /// National administrators.
    Admin,
    /// A one-time link: an unknown secret opens nothing, for everyone.
    Secret,
}

/// The rule of each route, by method and path as written in the code.
const RULES: &[(&str, &str, Rule)] = &[
    ("GET", "/", Rule::Public),
    ("GET", "/evenements", Rule::Public),
    ("GET", "/evenements/{id}", Rule::Public),
    ("GET", "/evenements/{id}/apercu", Rule::Public),
    ("GET", "/robots.txt", Rule::Public),
    ("GET", "/sitemap.xml", Rule::Public),
    ("GET", "/sitemaps/{file}", Rule::Public),
    ("GET", "/evenements/{id}/label/attestation.pdf", Rule::Public),
    ("GET", "/evenements/{id}/label/badge.svg", Rule::Public),
    ("GET", "/evenements/{id}/calendrier.ics", Rule::Public),
    ("GET", "/carte", Rule::Public),
    ("GET", "/donnees", Rule::Public),
    ("GET", "/donnees/schema.json", Rule::Public),
    ("GET", "/statistiques", Rule::Public),
    ("GET", "/statistiques.csv", Rule::Public),
    ("GET", "/widget", Rule::Public),
    ("GET", "/accessibilite", Rule::Public),
    ("GET", "/mentions-legales", Rule::Public),
    ("GET", "/donnees-personnelles", Rule::Public),
    ("GET", "/plan-du-site", Rule::Public),
    ("GET", "/static/{*path}", Rule::Public),
    ("GET", "/favicon.ico", Rule::Public),
    ("GET", "/connexion", Rule::Public),
    ("POST", "/connexion", Rule::Public),
    ("GET", "/connexion/proconnect", Rule::Public),
    ("GET", "/connexion/proconnect/retour", Rule::Public),
    ("POST", "/deconnexion", Rule::Public),
    ("GET", "/inscription", Rule::Public),
    ("POST", "/inscription", Rule::Public),
    ("GET", "/mot-de-passe-oublie", Rule::Public),
    ("POST", "/mot-de-passe-oublie", Rule::Public),
    ("GET", "/mot-de-passe/{token}", Rule::Secret),
    ("POST", "/mot-de-passe/{token}", Rule::Secret),
    ("GET", "/verification/{token}", Rule::Secret),
    ("POST", "/verification/{token}", Rule::Secret),
    ("GET", "/healthz", Rule::Public),
    ("GET", "/readyz", Rule::Public),
    // Read by the monitoring with its token (or from the machine itself): nobody else, logged in or not.
    ("GET", "/metrics", Rule::Secret),
    ("GET", "/api/openapi.json", Rule::Public),
    ("GET", "/api/v1/editions", Rule::Public),
    ("POST", "/api/v1/eligibility", Rule::Public),
    ("GET", "/api/v1/events", Rule::Public),
    ("GET", "/api/v1/events/{id}", Rule::Public),
    ("GET", "/api/v1/events.csv", Rule::Public),
    ("GET", "/api/v1/events.ics", Rule::Public),
    ("GET", "/api/v1/events.json", Rule::Public),
    ("GET", "/api/v1/map", Rule::Public),
    ("GET", "/api/v1/map/clusters", Rule::Public),
    ("GET", "/api/v1/communes", Rule::Public),
    ("GET", "/evenements/{id}/reserver/{rank}", Rule::Public),
    ("POST", "/evenements/{id}/reserver/{rank}", Rule::Public),
    ("POST", "/api/v1/events/{id}/sessions/{session}/registrations", Rule::Public),
    ("GET", "/api/v1/schools/{uai}", Rule::Public),
    ("GET", "/reservations/{token}", Rule::Secret),
    ("POST", "/reservations/{token}", Rule::Secret),
    ("GET", "/api/v1/registrations/{token}", Rule::Secret),
    ("PATCH", "/api/v1/registrations/{token}", Rule::Secret),
    ("DELETE", "/api/v1/registrations/{token}", Rule::Secret),
    ("GET", "/espace/evenements/{id}/reservations", Rule::Organiser),
    ("GET", "/espace/evenements/{id}/reservations.csv", Rule::Organiser),
    ("POST", "/espace/evenements/{id}/reservations/{rank}/cloture", Rule::Organiser),
    ("POST", "/espace/evenements/{id}/reservations/message", Rule::Organiser),
    ("GET", "/espace/evenements/{id}/feuille", Rule::Organiser),
    ("GET", "/espace/evenements/{id}/bilan", Rule::Organiser),
    ("POST", "/espace/evenements/{id}/bilan", Rule::Organiser),
    ("GET", "/avis/{id}", Rule::Public),
    ("POST", "/avis/{id}", Rule::Public),
    ("GET", "/instruction/bilans", Rule::Reviewer),
    ("GET", "/espace", Rule::LoggedIn),
    ("GET", "/espace/jetons", Rule::LoggedIn),
    ("POST", "/espace/jetons", Rule::LoggedIn),
    ("POST", "/espace/jetons/{id}/revoquer", Rule::LoggedIn),
    ("POST", "/espace/verification", Rule::LoggedIn),
    ("GET", "/espace/compte", Rule::LoggedIn),
    ("POST", "/espace/compte/adresse", Rule::LoggedIn),
    ("POST", "/espace/compte/mot-de-passe", Rule::LoggedIn),
    ("GET", "/adresse/{token}", Rule::Secret),
    ("POST", "/adresse/{token}", Rule::Secret),
    ("GET", "/espace/membres", Rule::Organiser),
    ("POST", "/espace/membres", Rule::Organiser),
    ("POST", "/espace/membres/{id}", Rule::Organiser),
    ("GET", "/espace/evenements/nouveau", Rule::Organiser),
    ("POST", "/espace/evenements/nouveau", Rule::Organiser),
    ("GET", "/espace/evenements/{id}", Rule::Organiser),
    ("POST", "/espace/evenements/{id}", Rule::Organiser),
    ("POST", "/espace/evenements/{id}/statut", Rule::Organiser),
    ("POST", "/espace/evenements/{id}/supprimer", Rule::Organiser),
    ("POST", "/espace/evenements/{id}/reconduire", Rule::Organiser),
    ("GET", "/api/v1/me/events", Rule::Organiser),
    ("POST", "/api/v1/me/events", Rule::Organiser),
    ("GET", "/api/v1/me/events/{id}", Rule::Organiser),
    ("PUT", "/api/v1/me/events/{id}", Rule::Organiser),
    ("DELETE", "/api/v1/me/events/{id}", Rule::Organiser),
    ("POST", "/api/v1/me/events/{id}/submit", Rule::Organiser),
    ("GET", "/instruction", Rule::Reviewer),
    ("GET", "/instruction/export.csv", Rule::Reviewer),
    ("POST", "/instruction/labelliser", Rule::Reviewer),
    ("GET", "/instruction/evenements/{id}", Rule::Reviewer),
    ("POST", "/instruction/evenements/{id}/decision", Rule::Reviewer),
    ("POST", "/instruction/evenements/{id}/retrait-label", Rule::Reviewer),
    ("GET", "/api/v1/review/queue", Rule::Reviewer),
    ("POST", "/api/v1/review/events/{id}/decision", Rule::Reviewer),
    ("GET", "/admin", Rule::Admin),
    ("GET", "/admin/editions/nouvelle", Rule::Admin),
    ("POST", "/admin/editions/nouvelle", Rule::Admin),
    ("GET", "/admin/editions/{year}", Rule::Admin),
    ("POST", "/admin/editions/{year}", Rule::Admin),
    ("GET", "/admin/coordinateurs", Rule::Admin),
    ("POST", "/admin/coordinateurs", Rule::Admin),
    ("POST", "/admin/coordinateurs/{id}", Rule::Admin),
    ("GET", "/admin/motifs", Rule::Admin),
    ("POST", "/admin/motifs", Rule::Admin),
    // Last: it ends the sessions the rows above use.
    ("POST", "/espace/compte/sessions", Rule::LoggedIn),
];

/// Every `.route("path", get(…).post(…))` of the web crate's sources, as (method, path).
fn routes_in_code() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            let mut rest = source.as_str();
            while let Some(at) = rest.find(".route(") {
                rest = &rest[at + 7..];
                // The call runs to the matching parenthesis; its first argument is the path.
                let mut depth = 1;
                let end = rest
                    .char_indices()
                    .find(|(_, c)| {
                        match c {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map_or(rest.len(), |(i, _)| i);
                let call = &rest[..end];
                let Some(p) = call.trim_start().strip_prefix('"') else { continue };
                let route = &p[..p.find('"').unwrap()];
                if route == "/api/openapi.json" || call.contains("get(") {
                    found.insert(("GET".to_string(), route.to_string()));
                }
                if call.contains("post(") {
                    found.insert(("POST".to_string(), route.to_string()));
                }
            }
        }
    }
    found
}

/// What a role should get from a route, checked on the answer.
fn allowed(rule: Rule, role: Role) -> bool {
    match rule {
        Rule::Public | Rule::Secret => true,
        Rule::LoggedIn => role != Role::Anonymous,
        Rule::Organiser => role == Role::Organiser,
        Rule::Reviewer => matches!(role, Role::Coordinator | Role::Admin),
        Rule::Admin => role == Role::Admin,
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_its_rule_says() {
    let app = TestApp::new().await;
    let orga_token = app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let coord_token = app.person("ara@region.fr", "regional_coordinator", Some("84")).await;
    let admin_token = app.person("admin@dge.fr", "national_admin", None).await;
    let cookies = [
        None,
        Some(app.login("lyon@usine.fr").await),
        Some(app.login("ara@region.fr").await),
        Some(app.login("admin@dge.fr").await),
    ];
    let tokens = [None, Some(orga_token.clone()), Some(coord_token), Some(admin_token)];
    // One labelled event of the organiser in the coordinator's region, one submitted.
    let labelled = app.submitted(&orga_token, &complete_event(app.year, "69001")).await;
    let admin_id = app.store.user_by_email("admin@dge.fr").await.unwrap().unwrap().id;
    let v = app.version(labelled).await;
    app.store.decide(labelled, admin_id, si_store::Decision::Label, None, chrono::Utc::now(), v).await.unwrap();
    app.state.public_changed();

    // Every route in the code has a rule, and every rule a route.
    let mut in_code = routes_in_code();
    let (_, doc) = app.get_json("/api/openapi.json").await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            in_code.insert((method.to_uppercase(), path.clone()));
        }
    }
    for path in ["/mentions-legales", "/donnees-personnelles", "/plan-du-site"] {
        assert!(in_code.contains(&("GET".to_string(), path.to_string())), "{path} not found in the code");
    }
    let ruled: BTreeSet<(String, String)> = RULES.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    let missing: Vec<_> = in_code.difference(&ruled).collect();
    assert!(missing.is_empty(), "routes without an access rule in matrix.rs: {missing:?}");
    let stale: Vec<_> = ruled.difference(&in_code).collect();
    assert!(stale.is_empty(), "rules for routes that no longer exist: {stale:?}");

    let mut checked = 0;
    for (method, pattern, rule) in RULES {
        // Ids are the labelled event's, except a token's (revoking the organiser's own would end the
        // rows below): one that nobody holds.
        let id = if pattern.starts_with("/espace/jetons/") { "999999".to_string() } else { labelled.to_string() };
        let path = pattern
            .replace("{id}", &id)
            .replace("{year}", &app.year.to_string())
            .replace("{token}", "lien-inconnu")
            .replace("{rank}", "1")
            .replace("{uai}", "0750655E")
            .replace("{session}", "1")
            .replace("{*path}", "vendor/dsfr-1.15.3/dsfr.min.css");
        let api = path.starts_with("/api/v1/me") || path.starts_with("/api/v1/review");
        for (i, role) in ROLES.iter().enumerate() {
            let mut req = Request::builder().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(&path);
            if *method != "GET" {
                req = req.header("sec-fetch-site", "same-origin");
                req = if path.starts_with("/api/") {
                    req.header(header::CONTENT_TYPE, "application/json")
                } else {
                    req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                };
            }
            if api {
                if let Some(t) = &tokens[i] {
                    req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
                }
            } else if let Some(c) = cookies[i].as_ref().filter(|_| path != "/deconnexion") {
                // (Logging out is public; with the cookie it would end the session the rows below use.)
                req = req.header(header::COOKIE, c);
            }
            let body =
                if path.starts_with("/api/") && *method != "GET" { json!({}).to_string() } else { String::new() };
            let resp = app.send(req.body(Body::from(body)).unwrap()).await;
            let status = resp.status();
            let location = resp.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string());
            let what = format!("{method} {path} as {role:?}: {status} {location:?}");
            assert!(!status.is_server_error(), "{what}");
            if matches!(rule, Rule::Secret) {
                // An unknown link opens nothing (404; 422 when the form is refused before the link is read).
                assert!(status == StatusCode::NOT_FOUND || status == StatusCode::UNPROCESSABLE_ENTITY, "{what}");
            } else if allowed(*rule, *role) {
                assert!(status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN, "{what}");
                // (Sent to log in again: the login page with the way back; ending every session
                // legitimately lands on the plain login page.)
                assert!(!location.as_deref().unwrap_or("").starts_with("/connexion?suivant="), "{what}");
            } else if *role == Role::Anonymous {
                let to_login =
                    status == StatusCode::SEE_OTHER && location.as_deref().unwrap_or("").starts_with("/connexion");
                assert!(to_login || status == StatusCode::UNAUTHORIZED, "{what}");
            } else {
                // Not allowed: 403, or 404 so as not to reveal what exists.
                assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND, "{what}");
            }
            checked += 1;
        }
    }
    eprintln!("{checked} route × role checks");
    assert_eq!(checked, RULES.len() * ROLES.len());
}
