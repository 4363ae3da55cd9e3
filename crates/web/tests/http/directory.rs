//! SIRET and UAI checked against the public directories at sign-up, each served here by a local
//! HTTP server that answers in the documented formats (API Recherche d'entreprises; Annuaire de
//! l'éducation, Opendatasoft Explore v2.1), and the degraded mode when a directory fails.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::support::{TestApp, complete_event};

const OPEN: &str = "11002001300014";
const CLOSED: &str = "11002001300022";
const UNKNOWN: &str = "32567890000011";
const FAILING: &str = "44287654000018";
const SLOW: &str = "55123456000011";

/// A company directory and a school directory on a local port; returns its base URL.
async fn directories() -> String {
    async fn search(Query(q): Query<HashMap<String, String>>) -> (StatusCode, Json<Value>) {
        let siret = q.get("q").cloned().unwrap_or_default();
        let company = |state: &str| {
            json!({"results": [{"siren": &siret[..9], "nom_complet": "FORGES DE LYON",
                "siege": {"siret": "11002001399999", "etat_administratif": "A", "adresse": "SIEGE"},
                "matching_etablissements": [{"siret": siret, "etat_administratif": state,
                    "adresse": "12 RUE DES FORGES 69007 LYON", "code_postal": "69007", "libelle_commune": "LYON"}]}],
                "total_results": 1, "page": 1, "per_page": 1, "total_pages": 1})
        };
        match siret.as_str() {
            OPEN => (StatusCode::OK, Json(company("A"))),
            CLOSED => (StatusCode::OK, Json(company("F"))),
            FAILING => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"erreur": "indisponible"}))),
            SLOW => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                (StatusCode::OK, Json(company("A")))
            }
            _ => (StatusCode::OK, Json(json!({"results": [], "total_results": 0, "page": 1, "per_page": 1}))),
        }
    }
    async fn schools(Query(q): Query<HashMap<String, String>>) -> Json<Value> {
        let filter = q.get("where").cloned().unwrap_or_default();
        if filter == "identifiant_de_l_etablissement=\"0690001B\"" {
            Json(json!({"total_count": 1, "results": [{"identifiant_de_l_etablissement": "0690001B",
                "nom_etablissement": "Lycée professionnel des métiers de l'industrie", "adresse_1": "3 rue de l'Usine",
                "code_postal": "69001", "nom_commune": "Lyon", "etat": "OUVERT"}]}))
        } else {
            Json(json!({"total_count": 0, "results": []}))
        }
    }
    let app = axum::Router::new()
        .route("/search", get(search))
        .route("/api/explore/v2.1/catalog/datasets/fr-en-annuaire-education/records", get(schools));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn signup(email: &str, kind: &str, identifier: &str, organisation: &str) -> String {
    format!(
        "name=Camille&email={}&password=mot+de+passe+de+test&password_confirm=mot+de+passe+de+test\
         &organisation={organisation}&kind={kind}&department=69&identifier={identifier}",
        email.replace('@', "%40")
    )
}

#[tokio::test]
async fn numbers_are_checked_against_the_public_directories() {
    let base = directories().await;
    let app = TestApp::configured(|c| {
        c.siret_directory = base.clone();
        c.uai_directory = base.clone();
    })
    .await;

    // Open: the name left empty is the directory's, and the check is recorded.
    let (s, html, _) = app.post_form("/inscription", &signup("a@forges.fr", "entreprise", OPEN, ""), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let org = app.store.organisation_by_identifier(OPEN).await.unwrap().unwrap();
    assert_eq!((org.name.as_str(), org.identifier_check.as_deref()), ("FORGES DE LYON", Some("directory")));

    // Closed, or not listed: refused next to the field, with what was typed kept.
    let (s, html, _) =
        app.post_form("/inscription", &signup("b@forges.fr", "entreprise", CLOSED, "Forges+ferm%C3%A9es"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("est fermé") && html.contains("value=\"Forges fermées\""), "{html}");
    let (s, html, _) =
        app.post_form("/inscription", &signup("c@ailleurs.fr", "entreprise", UNKNOWN, "Inconnue"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("ne figure pas dans le répertoire des entreprises"), "{html}");
    assert!(app.store.user_by_email("c@ailleurs.fr").await.unwrap().is_none());

    // A school by its UAI.
    let (s, _, _) =
        app.post_form("/inscription", &signup("d@lycee.fr", "etablissement_scolaire", "0690001B", ""), None).await;
    assert_eq!(s, StatusCode::OK);
    let school = app.store.organisation_by_identifier("0690001B").await.unwrap().unwrap();
    assert_eq!(school.name, "Lycée professionnel des métiers de l'industrie");
    let (s, html, _) =
        app.post_form("/inscription", &signup("e@lycee.fr", "etablissement_scolaire", "0691234S", "X"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("ne figure pas dans l&#39;annuaire") || html.contains("ne figure pas dans l'annuaire"));
    // The booking form's look-up: open, unknown, malformed.
    let (s, v) = app.get_json("/api/v1/schools/0690001b").await;
    assert_eq!(
        (s, v["status"].as_str(), v["name"].as_str()),
        (StatusCode::OK, Some("open"), Some("Lycée professionnel des métiers de l'industrie")),
        "{v}"
    );
    let (s, v) = app.get_json("/api/v1/schools/0691234S").await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("unknown")), "{v}");
    let (s, v) = app.get_json("/api/v1/schools/123").await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("uai")), "{v}");

    // The directory fails (an error, then no answer in time): the sign-up goes on, checksum only.
    let (s, _, _) = app.post_form("/inscription", &signup("f@ailleurs.fr", "entreprise", FAILING, "Panne"), None).await;
    assert_eq!(s, StatusCode::OK);
    let started = Instant::now();
    let (s, _, _) = app.post_form("/inscription", &signup("g@ailleurs.fr", "entreprise", SLOW, "Lente"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(20), "the deadline bounds the wait");
    for id in [FAILING, SLOW] {
        let o = app.store.organisation_by_identifier(id).await.unwrap().unwrap();
        assert_eq!(o.identifier_check.as_deref(), Some("checksum"), "{id}");
    }

    // The reviewer sees which numbers the directory could not confirm.
    app.deliver().await;
    let user = app.store.user_by_email("f@ailleurs.fr").await.unwrap().unwrap();
    app.store.mark_email_verified(user.id, &[], chrono::Utc::now()).await.unwrap();
    let token = si_web::auth::create_api_token(&app.state, user.id, "Outil", 30).await.unwrap();
    let id = app.submitted(&token, &complete_event(app.year, "69001")).await;
    app.person("admin@dge.fr", "national_admin", None).await;
    let admin = app.login("admin@dge.fr").await;
    let (_, html) = app.get_html(&format!("/instruction/evenements/{id}"), Some(&admin)).await;
    assert!(html.contains("id=\"identifier-check\"") && html.contains("NON VÉRIFIÉ"), "{html}");
}

#[tokio::test]
async fn an_unreachable_directory_is_the_degraded_mode_not_an_error() {
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let app = TestApp::configured(|c| c.siret_directory = closed.clone()).await;
    let (s, _, _) = app.post_form("/inscription", &signup("a@forges.fr", "entreprise", OPEN, "Forges"), None).await;
    assert_eq!(s, StatusCode::OK);
    let org = app.store.organisation_by_identifier(OPEN).await.unwrap().unwrap();
    assert_eq!(org.identifier_check.as_deref(), Some("checksum"));
}
