//! HTTP tests through the router, in memory: the public contract of SPEC.md §6, the organiser's and
//! the reviewer's journeys on the site, authorisation and bad input. One binary for the crate.

mod admin;
mod bookings;
mod browser;
mod corpus;
mod directory;
mod face;
mod mail;
mod matrix;
mod members;
mod proconnect;
mod review;
mod scale;
mod support;
mod trust;

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::{TestApp, complete_event};

#[tokio::test]
async fn health_editions_and_openapi() {
    let app = TestApp::new().await;
    let (s, body) = app.get_json("/healthz").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    // Ready once the catalogue index is built (the first search, or `serve` at start).
    let (s, body) = app.get_json("/readyz").await;
    assert_eq!((s, body["index_built"].as_bool()), (StatusCode::SERVICE_UNAVAILABLE, Some(false)), "{body}");
    app.get_json("/api/v1/events").await;
    let (s, body) = app.get_json("/readyz").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!((body["status"].as_str(), body["pending_migrations"].as_u64()), (Some("ready"), Some(0)));
    let (_, eds) = app.get_json("/api/v1/editions").await;
    let e2024 = eds.as_array().unwrap().iter().find(|e| e["year"] == 2024).unwrap();
    assert_eq!(e2024["number"], 13);
    assert_eq!(e2024["eligible_from"], "2024-11-03");
    assert_eq!(e2024["eligible_to"], "2024-12-09");
    assert_eq!(e2024["deadline"], "2024-11-12T23:59:59+01:00");
    assert_eq!(e2024["demo"], false);
    let (s, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/editions",
        "/api/v1/eligibility",
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/me/events",
        "/api/v1/me/events/{id}",
        "/api/v1/me/events/{id}/submit",
        "/api/v1/review/queue",
        "/api/v1/review/events/{id}/decision",
        "/api/v1/events.ics",
        "/api/v1/events.csv",
        "/api/v1/events.json",
        "/api/v1/map",
        "/api/v1/map/clusters",
        "/api/v1/communes",
        "/evenements/{id}/calendrier.ics",
        "/donnees/schema.json",
        "/statistiques.csv",
    ] {
        assert!(doc["paths"].get(path).is_some(), "OpenAPI lacks {path}");
    }
    let params: Vec<&str> = doc["paths"]["/api/v1/events"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "edition",
        "q",
        "region",
        "department",
        "audience",
        "type",
        "sector",
        "theme",
        "format",
        "from",
        "to",
        "near",
        "radius_km",
        "accessible",
        "organisation",
        "page",
        "per_page",
        "facets",
    ] {
        assert!(params.contains(&name), "OpenAPI lacks the parameter {name} of /api/v1/events: {params:?}");
    }
}

#[tokio::test]
async fn eligibility_endpoint_answers_and_refuses_bad_input() {
    let app = TestApp::new().await;
    let body = json!({"edition": 2024, "at": "2024-11-12T23:59:59+01:00",
        "sessions": [{"start": "2024-11-19T09:00", "end": "2024-11-19T12:00"}],
        "audiences": ["scolaires"], "free": true, "industry_objective": true,
        "title": "Visite de l'usine", "description": "Métiers de la soudure"});
    let (s, r) = app.post_json("/api/v1/eligibility", &body, None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["eligible"], true);
    let codes: Vec<&str> = r["conditions"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["dates", "audiences", "industry", "free", "deadline"]);

    let mut late = body.clone();
    late["at"] = json!("2024-11-13T00:00:00+01:00");
    let (_, r) = app.post_json("/api/v1/eligibility", &late, None).await;
    assert_eq!(r["eligible"], false);
    assert_eq!(r["conditions"][4]["met"], false);

    let cases = [
        (json!({"edition": 1999}), "edition"),
        (json!({"edition": 2024, "audiences": ["martiens"]}), "audiences"),
        (
            json!({"edition": 2024, "sessions": [{"start": "2024-11-19T12:00", "end": "2024-11-19T09:00"}]}),
            "sessions[0].end",
        ),
        (json!({"edition": 2024, "sessions": [{"start": "demain", "end": "2024-11-19T09:00"}]}), "sessions[0].start"),
        (json!({"edition": 2024, "at": "hier"}), "at"),
    ];
    for (b, field) in cases {
        let (s, r) = app.post_json("/api/v1/eligibility", &b, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {r}");
        assert_eq!(r["error"]["field"], field, "{b}: {r}");
        assert!(!r["error"]["message"].as_str().unwrap().is_empty());
    }
    let (s, r) = app.post_raw("/api/v1/eligibility", "{\"edition\": 20", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(r["error"]["code"], "invalid_json");
    let (s, _) = app.post_raw("/api/v1/eligibility", "{\"edition\": \"deux mille\"}", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn organiser_and_reviewer_journey_through_the_api() {
    journey(TestApp::new().await).await;
}

/// The same journey on PostgreSQL (`TEST_DATABASE_URL`; ignored unless asked for).
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn organiser_and_reviewer_journey_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    let store = si_store::connect(&url).await.unwrap();
    journey(TestApp::with_store(store, None).await).await;
    drop_db.await;
}

async fn journey(app: TestApp) {
    let orga = app.organiser("orga@usine.fr", "Forges de Test").await;
    let other = app.organiser("autre@usine.fr", "Autre Usine").await;
    let admin = app.person("admin@dge.fr", "national_admin", None).await;
    let coord_ara = app.person("ara@region.fr", "regional_coordinator", Some("84")).await;
    let coord_idf = app.person("idf@region.fr", "regional_coordinator", Some("11")).await;

    // No token, bad token.
    assert_eq!(app.get_json("/api/v1/me/events").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_json_auth("/api/v1/me/events", "si_faux").await.0, StatusCode::UNAUTHORIZED);
    // Reviewers are not organisers, organisers not reviewers.
    assert_eq!(app.get_json_auth("/api/v1/me/events", &admin).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.get_json_auth("/api/v1/review/queue", &orga).await.0, StatusCode::FORBIDDEN);

    // A draft, incomplete: saved, but cannot be submitted.
    let (s, draft) =
        app.post_json("/api/v1/me/events", &json!({"edition": app.year, "title": "Brouillon"}), Some(&orga)).await;
    assert_eq!(s, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["moderation"], "draft");
    let id = draft["id"].as_i64().unwrap();
    let (s, r) = app.post_json(&format!("/api/v1/me/events/{id}/submit"), &json!({}), Some(&orga)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");

    // Bad values are refused with the field named, and nothing changes.
    let mut bad = complete_event(app.year, "69800");
    bad["audiences"] = json!(["scolaires", "martiens"]);
    let (s, r) = app.put_json(&format!("/api/v1/me/events/{id}"), &bad, &orga).await;
    assert_eq!((s, r["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("audiences")), "{r}");
    let mut bad = complete_event(app.year, "69800");
    bad["title"] = json!("x".repeat(141));
    let (s, r) = app.put_json(&format!("/api/v1/me/events/{id}"), &bad, &orga).await;
    assert_eq!((s, r["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("title")), "{r}");

    // A complete event not free: the failed condition comes back.
    let mut paying = complete_event(app.year, "69800");
    paying["free"] = json!(false);
    let (s, r) = app.put_json(&format!("/api/v1/me/events/{id}"), &paying, &orga).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["department"], "69");
    assert_eq!(r["region"], "84");
    let (s, r) = app.post_json(&format!("/api/v1/me/events/{id}/submit"), &json!({}), Some(&orga)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["error"]["code"], "conditions_not_met");
    assert_eq!(r["conditions"][0]["code"], "free");

    // Another organisation sees nothing of it.
    assert_eq!(app.get_json_auth(&format!("/api/v1/me/events/{id}"), &other).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put_json(&format!("/api/v1/me/events/{id}"), &complete_event(app.year, "69800"), &other).await.0,
        StatusCode::NOT_FOUND
    );

    // Complete and free: submitted.
    let (s, _) = app.put_json(&format!("/api/v1/me/events/{id}"), &complete_event(app.year, "69800"), &orga).await;
    assert_eq!(s, StatusCode::OK);
    let (s, r) = app.post_json(&format!("/api/v1/me/events/{id}/submit"), &json!({}), Some(&orga)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["moderation"], "submitted");
    // No longer editable.
    assert_eq!(
        app.put_json(&format!("/api/v1/me/events/{id}"), &complete_event(app.year, "69800"), &orga).await.0,
        StatusCode::CONFLICT
    );
    // Not public yet.
    assert_eq!(app.get_json(&format!("/api/v1/events/{id}")).await.0, StatusCode::NOT_FOUND);

    // Queues: national sees it, the region's coordinator too, another region's does not.
    let (_, q) = app.get_json_auth("/api/v1/review/queue", &admin).await;
    assert_eq!(q["total"], 1);
    assert!(
        q["items"][0]["due_at"].as_str().unwrap().ends_with("T23:59:59+01:00")
            || q["items"][0]["due_at"].as_str().unwrap().ends_with("T23:59:59+02:00")
    );
    assert_eq!(app.get_json_auth("/api/v1/review/queue", &coord_ara).await.1["total"], 1);
    assert_eq!(app.get_json_auth("/api/v1/review/queue", &coord_idf).await.1["total"], 0);
    // A decision names the version it was taken on, as the queue lists it.
    let version = q["items"][0]["version"].as_i64().expect("queue items carry their version");
    let decision = |d: &str, reason: &str| json!({"decision": d, "reason": reason, "version": version});
    let url = format!("/api/v1/review/events/{id}/decision");
    let (s, r) = app.post_json(&url, &json!({"decision": "label"}), Some(&admin)).await;
    assert_eq!((s, r["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("version")));
    let (s, r) = app.post_json(&url, &json!({"decision": "label", "version": version - 1}), Some(&admin)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("modifié depuis que vous l'avez ouvert"));
    assert_eq!(app.post_json(&url, &decision("label", ""), Some(&coord_idf)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.post_json(&url, &decision("label", ""), Some(&orga)).await.0, StatusCode::FORBIDDEN);
    let (s, r) = app.post_json(&url, &decision("refuse", "  "), Some(&admin)).await;
    assert_eq!((s, r["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (s, r) = app.post_json(&url, &decision("approve", ""), Some(&admin)).await;
    assert_eq!((s, r["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("decision")));

    // The map document is built once and kept: empty before the decision…
    let map_url = format!("/api/v1/map?edition={}", app.year);
    assert_eq!(app.get_json(&map_url).await.1["total"], 0);
    // (the search answer is kept a minute too, and dropped by the decision below)
    let search_url = format!("/api/v1/events?edition={}&region=84&audience=scolaires", app.year);
    assert_eq!(app.get_json(&search_url).await.1["total"], 0);

    // Labelled: a label number, and public.
    let (s, r) = app.post_json(&url, &decision("label", ""), Some(&admin)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["moderation"], "labelled");
    assert_eq!(r["label_number"], format!("SI-{}-00001", app.year));
    assert_eq!(app.post_json(&url, &decision("label", ""), Some(&admin)).await.0, StatusCode::CONFLICT);
    // …and rebuilt after it, then revalidated with its ETag, and gzipped for clients that accept it.
    let resp = app.get(&map_url, None).await;
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let map: Value = serde_json::from_str(&support::body_text(resp).await).unwrap();
    assert_eq!(map["total"], 1);
    assert_eq!(map["fields"], json!(["id", "lat", "lon", "title"]));
    assert_eq!(map["rows"][0][0], id);
    let req =
        axum::http::Request::get(&map_url).header("if-none-match", &etag).body(axum::body::Body::empty()).unwrap();
    assert_eq!(app.send(req).await.status(), StatusCode::NOT_MODIFIED);
    let req = axum::http::Request::get(&map_url)
        .header("accept-encoding", "gzip, br")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.headers()["content-encoding"], "gzip");
    assert_eq!(app.get_json("/api/v1/map?region=99").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, e) = app.get_json(&format!("/api/v1/events/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(e["location"]["commune_code"], "69290");
    assert_eq!(e["location"]["region"], "84");
    assert_eq!(e["sessions"][0]["timezone"], "Europe/Paris");
    assert_eq!(e["organisation"]["name"], "Forges de Test");
    let (_, list) = app.get_json(&format!("/api/v1/events?edition={}&region=84&audience=scolaires", app.year)).await;
    assert_eq!(list["total"], 1);
    let (_, list) = app.get_json(&format!("/api/v1/events?edition={}&region=11", app.year)).await;
    assert_eq!(list["total"], 0);

    // Near Lyon's postal code 69003, within 20 km: found, with its distance; near Paris: not.
    let (_, list) = app.get_json(&format!("/api/v1/events?edition={}&near=69003&radius_km=20", app.year)).await;
    assert_eq!(list["total"], 1, "{list}");
    let d = list["items"][0]["distance_km"].as_f64().unwrap();
    assert!(d > 3.0 && d < 20.0, "{d}");
    let (_, list) = app.get_json(&format!("/api/v1/events?edition={}&near=75056", app.year)).await;
    assert_eq!(list["total"], 0);
    // French full text: accents and inflections do not matter.
    let (_, list) = app.get_json(&format!("/api/v1/events?edition={}&q=MOTEUR+usines", app.year)).await;
    assert_eq!(list["total"], 1, "{list}");

    // Facets on request, themes as filters, and a search that finds nothing says what to remove.
    let (_, list) = app.get_json(&format!("/api/v1/events?edition={}&region=11&facets=true", app.year)).await;
    assert_eq!(list["total"], 0);
    assert_eq!(list["facets"]["region"]["84"], 1, "{list}");
    assert_eq!(list["facets"]["audience"].as_object().map(|o| o.len()), Some(0));
    assert!(app.get_json(&format!("/api/v1/events?edition={}", app.year)).await.1.get("facets").is_none());
    let (s, list) = app.get_json(&format!("/api/v1/events?edition={}&theme=mixite", app.year)).await;
    assert_eq!((s, list["total"].as_u64()), (StatusCode::OK, Some(0)));
    let (_, html) = app.get_html(&format!("/evenements?edition={}&region=11&q=moteur", app.year), None).await;
    assert!(html.contains("Aucun événement ne correspond"));
    assert!(html.contains("Retirer « Région : Île-de-France »"), "{html}");
    let unescaped = html.replace("&#38;", "&");
    assert!(
        unescaped.contains(&format!("href=\"/evenements?edition={}&q=moteur\"", app.year)),
        "a link without the region"
    );
    assert!(html.contains("Auvergne-Rhône-Alpes (1)"), "live counts per value");

    // The widget partners frame: only this region's events (or this organisation's), framable.
    let resp = app.get(&format!("/widget?edition={}&region=84", app.year), None).await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.ends_with("frame-ancestors *") && csp.contains("script-src 'self';"), "{csp}");
    assert!(resp.headers().get("x-frame-options").is_none());
    let html = support::body_text(resp).await;
    assert!(html.contains("Visite de l'usine de moteurs") || html.contains("Visite de l&#39;usine de moteurs"));
    assert!(html.contains("Auvergne-Rhône-Alpes"));
    let (_, html) = app.get_html(&format!("/widget?edition={}&region=11", app.year), None).await;
    assert!(html.contains("0 événement"));
    let org_id = app.store.event(id).await.unwrap().unwrap().organisation_id;
    let (_, html) = app.get_html(&format!("/widget?edition={}&organisation={org_id}", app.year), None).await;
    assert!(html.contains("1 événement"), "{html}");
    assert_eq!(app.get("/evenements", None).await.headers()["x-frame-options"], "DENY");
    let (_, html) = app.get_html("/donnees?widget=1&region=84", None).await;
    assert!(html.contains("iframe src=") && html.contains("/widget?region=84"), "the snippet to copy");

    // Statistics: the breakdowns as a page with charts and tables, and as CSV.
    let (s, html) = app.get_html(&format!("/statistiques?edition={}", app.year), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<strong>1</strong> événements labellisés"));
    assert!(html.contains("role=\"img\"") && html.contains("<caption>Événements labellisés, par région</caption>"));
    let stats = support::body_text(app.get(&format!("/statistiques.csv?edition={}", app.year), None).await).await;
    assert!(stats.contains(&format!("{};region;84;Auvergne-Rhône-Alpes;1", app.year)), "{stats}");
    assert!(stats.contains(&format!("{};depots_par_jour;", app.year)));
    assert_eq!(app.get_html("/statistiques?edition=abc", None).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // Feeds: iCalendar parsed by a real parser, CSV for French spreadsheets, JSON-LD on the page.
    let resp = app.get(&format!("/api/v1/events.ics?edition={}&region=84", app.year), None).await;
    assert_eq!(resp.headers()["content-type"], "text/calendar; charset=utf-8");
    let ics = support::body_text(resp).await;
    assert!(ics.contains("\r\n") && ics.lines().all(|l| l.len() <= 76), "CRLF and folded lines");
    let cal: icalendar::Calendar = ics.parse().expect("a real parser reads the feed");
    let events: Vec<_> = cal.components.iter().filter_map(|c| c.as_event()).collect();
    assert_eq!(events.len(), 1);
    use icalendar::Component;
    assert_eq!(events[0].get_summary(), Some("Visite de l'usine de moteurs"));
    assert_eq!(events[0].get_uid(), Some(format!("{id}-1@semaine-industrie.gouv.fr").as_str()));
    assert!(events[0].property_value("SEQUENCE").is_some() && events[0].property_value("DTSTAMP").is_some());
    assert_eq!(events[0].property_value("STATUS"), Some("CONFIRMED"));
    let single = support::body_text(app.get(&format!("/evenements/{id}/calendrier.ics"), None).await).await;
    assert!(single.parse::<icalendar::Calendar>().is_ok());
    let csv = support::body_text(app.get(&format!("/api/v1/events.csv?edition={}", app.year), None).await).await;
    assert!(csv.starts_with("\u{feff}id;numero_label;edition;titre"), "{csv}");
    assert_eq!(csv.lines().count(), 2);
    let (s, json) = app.get_json(&format!("/api/v1/events.json?edition={}", app.year)).await;
    assert_eq!((s, json.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    assert_eq!(app.get_json("/api/v1/events.csv?region=99").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = app.get_html(&format!("/evenements/{id}"), None).await;
    let start = page.find("application/ld+json\">").unwrap() + "application/ld+json\">".len();
    let ld: Value = serde_json::from_str(&page[start..start + page[start..].find("</script>").unwrap()]).unwrap();
    assert_eq!(ld[0]["@type"], "Event");
    assert_eq!(ld[0]["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(ld[0]["offers"]["price"], 0);
    assert_eq!(ld[0]["location"]["address"]["postalCode"], "69800");
    assert!(
        ld[0]["startDate"].as_str().unwrap().ends_with("+01:00")
            || ld[0]["startDate"].as_str().unwrap().ends_with("+02:00")
    );
    assert_eq!(ld[0]["superEvent"]["name"], format!("Semaine de l'industrie {}", app.year));

    // A refusal with its reason reaches the organiser.
    let (_, d2) = app.post_json("/api/v1/me/events", &complete_event(app.year, "75011"), Some(&orga)).await;
    let id2 = d2["id"].as_i64().unwrap();
    app.post_json(&format!("/api/v1/me/events/{id2}/submit"), &json!({}), Some(&orga)).await;
    let (s, _) = app
        .post_json(
            &format!("/api/v1/review/events/{id2}/decision"),
            &json!({"decision": "refuse", "reason": "Événement réservé aux salariés.", "version": app.version(id2).await}),
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, mine) = app.get_json_auth(&format!("/api/v1/me/events/{id2}"), &orga).await;
    assert_eq!(mine["moderation"], "refused");
    assert_eq!(mine["decision_reason"], "Événement réservé aux salariés.");
}

#[tokio::test]
async fn catalogue_filters_refuse_unknown_values() {
    let app = TestApp::new().await;
    for (q, field) in [
        ("region=99", "region"),
        ("department=100", "department"),
        ("audience=martiens", "audience"),
        ("type=pique_nique", "type"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("per_page=101", "per_page"),
        ("from=18/11/2024", "from"),
        ("edition=1999", "edition"),
        ("edition=deux", "edition"),
        ("couleur=rouge", "couleur"),
        ("accessible=peut-etre", "accessible"),
        ("near=99999", "near"),
        ("near=Atlantide", "near"),
        ("near=69800&radius_km=500", "radius_km"),
        ("near=69800&radius_km=-3", "radius_km"),
        ("radius_km=10", "near"),
        ("theme=vert", "theme"),
    ] {
        let (s, r) = app.get_json(&format!("/api/v1/events?{q}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {r}");
        assert_eq!(r["error"]["field"], field, "{q}");
        assert!(r["error"]["message"].as_str().unwrap().len() > 10);
    }
    let (s, r) = app.get_json("/api/v1/events?region=84&region=11&per_page=5").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["per_page"], 5);
    // The site shows the same refusal as a page, in French.
    let (s, html) = app.get_html("/evenements?region=99", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Région inconnue"));
    assert_eq!(app.get_json("/api/v1/events/abc").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get_json("/api/v1/nope").await.1["error"]["code"], "not_found");
}

#[tokio::test]
async fn signup_login_and_the_site_journey() {
    let app = TestApp::new().await;
    // Bad input keeps what was typed and says what is wrong, next to the field.
    let form = "name=Camille+Martin&email=camille%40forges.fr&password=une+phrase+longue&password_confirm=une+phrase+longue\
                &organisation=Forges+de+Lyon&kind=entreprise&department=69&identifier=12345678901234";
    let (s, html, _) = app.post_form("/inscription", form, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Ce numéro SIRET n&#39;existe pas") || html.contains("Ce numéro SIRET n'existe pas"),
        "{html}"
    );
    assert!(html.contains("value=\"Forges de Lyon\""));
    assert!(html.contains("fr-input-group--error"));
    assert!(!html.contains("une phrase longue"), "passwords are never echoed");

    let form = form.replace("12345678901234", "11002001300014");
    let (s, created, cookie) = app.post_form("/inscription", &form, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(cookie.is_none(), "no session before the address is confirmed");
    assert!(created.contains("Vérifiez votre messagerie"));
    // The confirmation link: a page with a button (mail scanners do not use it up), then the space.
    let sent = app.deliver().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].recipient, "camille@forges.fr");
    let link = sent[0].text.split_whitespace().find(|w| w.contains("/verification/")).expect("a link").to_string();
    let path = &link[link.find("/verification/").unwrap()..];
    let (s, html) = app.get_html(path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Confirmer mon adresse"));
    let (s, _, cookie) = app.post_form(path, "", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let set = cookie.expect("session cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let session = set.split(';').next().unwrap().to_string();
    let (s, html) = app.get_html("/espace?verifie=1", Some(&session)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Forges de Lyon") && html.contains("adresse électronique est confirmée"));
    assert!(!html.contains("id=\"unverified\""));
    assert_eq!(app.post_form(path, "", None).await.0, StatusCode::NOT_FOUND, "a link serves once");

    // Signing up again with an address that has an account: the same answer (nothing revealed),
    // and the owner is told by email.
    let again = form.replace("11002001300014", "").replace("kind=entreprise", "kind=association");
    let (s, html, _) = app.post_form("/inscription", &again, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Vérifiez votre messagerie"));
    let sent = app.deliver().await;
    assert_eq!((sent.len(), sent[0].subject.as_str()), (1, "Votre compte existe déjà"));
    for _ in 0..4 {
        assert_eq!(app.post_form("/inscription", &again, None).await.0, StatusCode::OK);
    }
    assert_eq!(app.deliver().await.len(), 2, "three such letters an hour per address, no more");

    // A second sign-up with the same SIRET does not duplicate the organisation: it asks to join
    // (members.rs follows the request).
    let dup = form.replace("camille%40forges.fr", "autre%40forges.fr");
    let (s, html, _) = app.post_form("/inscription", &dup, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Vérifiez votre messagerie"));
    let autre = app.store.user_by_email("autre@forges.fr").await.unwrap().unwrap();
    assert_eq!(autre.organisation_id, None);
    assert!(autre.requested_organisation_id.is_some());
    app.deliver().await;

    // An organiser whose address is not confirmed drafts but cannot submit, site or API.
    let other = "name=Eve&email=eve%40exemple.fr&password=mot+de+passe+de+test&password_confirm=mot+de+passe+de+test\
                 &organisation=Atelier+Eve&kind=association&department=69";
    assert_eq!(app.post_form("/inscription", other, None).await.0, StatusCode::OK);
    app.deliver().await;
    let eve = app.login("eve@exemple.fr").await;
    let (_, html) = app.get_html("/espace", Some(&eve)).await;
    assert!(html.contains("id=\"unverified\""), "the space says what is missing");
    let eve_id = app.store.user_by_email("eve@exemple.fr").await.unwrap().unwrap().id;
    let eve_token = si_web::auth::create_api_token(&app.state, eve_id, "Essai", 30).await.unwrap();
    let (s, d) = app.post_json("/api/v1/me/events", &complete_event(app.year, "69001"), Some(&eve_token)).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, r) = app.post_json(&format!("/api/v1/me/events/{}/submit", d["id"]), &json!({}), Some(&eve_token)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("Confirmez d'abord votre adresse"));
    let (s, _, _) = app.post_form("/espace/verification", "", Some(&eve)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let sent = app.deliver().await;
    assert_eq!(sent[0].subject, "Confirmez votre adresse électronique");

    // Cross-site form posts are refused.
    let (s, _) = app.post_form_cross_site("/espace/evenements/nouveau", "title=x", &session).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Draft through the form: an unreadable age keeps everything typed.
    let (s, html, _) = app
        .post_form("/espace/evenements/nouveau", "title=Visite+de+l%27usine&min_age=douze&action=save", Some(&session))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"Visite de l&#39;usine\"") || html.contains("value=\"Visite de l'usine\""), "{html}");
    assert!(html.contains("value=\"douze\""));

    let (s, _, _) =
        app.post_form("/espace/evenements/nouveau", "title=Visite+de+l%27usine&action=save", Some(&session)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/espace", Some(&session)).await;
    assert!(html.contains("Visite de l"));
    assert!(html.contains("Brouillon"));

    // Wrong password: a clear message, no session.
    let (s, html, cookie) = app.post_form("/connexion", "email=camille%40forges.fr&password=mauvais", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("incorrect"));
    assert!(cookie.is_none());
    let (s, _, cookie) = app
        .post_form(
            "/connexion",
            "email=camille%40forges.fr&password=une+phrase+longue&suivant=%2F%2Fevil.example",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(cookie.is_some());
    // Logged out, the space sends to the login page.
    let (s, _, _) = app.post_form("/deconnexion", "", Some(&session)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let resp = app.get("/espace", Some(&session)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_public_page_is_french_and_answers() {
    let app = TestApp::new().await;
    for path in [
        "/",
        "/evenements",
        "/connexion",
        "/inscription",
        "/accessibilite",
        "/mentions-legales",
        "/donnees-personnelles",
        "/plan-du-site",
    ] {
        let (s, html) = app.get_html(path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(html.contains("<html lang=\"fr\""), "{path}");
        assert!(html.contains("/static/vendor/dsfr-1.15.3/dsfr.min.css"), "{path}");
    }
    let (s, html) = app.get_html("/nulle-part", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("Page introuvable"));
    let resp = app.get("/static/vendor/dsfr-1.15.3/dsfr.min.css", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    // The platform's own files are linked with their version, which may be kept a year; any other
    // address of them only 5 minutes (a new build changes the version, never what an address holds).
    let (_, html) = app.get_html("/", None).await;
    let link =
        html.split("href=\"").map(|s| s.split('"').next().unwrap()).find(|h| h.starts_with("/static/app.css")).unwrap();
    let version = link.strip_prefix("/static/app.css?v=").expect("a versioned link");
    assert!(version.len() == 24 && version.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");
    for (path, expected) in [
        (link.to_string(), "public, max-age=31536000, immutable"),
        ("/static/app.css".to_string(), "public, max-age=300"),
        ("/static/app.css?v=000000000000000000000000".to_string(), "public, max-age=300"),
    ] {
        let resp = app.get(&path, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["cache-control"], expected, "{path}");
    }
    let etag = app.get(link, None).await.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{version}\""), "the version is the content's tag");
}

#[tokio::test]
async fn api_json_is_the_error_contract_even_for_unknown_routes() {
    let app = TestApp::new().await;
    let (s, v): (StatusCode, Value) = app.get_json("/api/v1/inconnu").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["error"]["message"].as_str().unwrap().contains("n'existe pas"));
}

#[tokio::test]
async fn spaces_send_strangers_to_login_and_refuse_the_wrong_role() {
    let app = TestApp::new().await;
    let resp = app.get("/instruction/evenements/1", None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/connexion?suivant=%2Finstruction%2Fevenements%2F1");
    let resp = app.get("/espace/evenements/nouveau", None).await;
    assert_eq!(resp.headers()["location"], "/connexion?suivant=%2Fespace%2Fevenements%2Fnouveau");

    // An organiser may not review; a reviewer may not organise.
    let form = "name=Orga&email=orga%40usine.fr&password=mot+de+passe+de+test&password_confirm=mot+de+passe+de+test\
                &organisation=Usine&kind=association&department=69";
    assert_eq!(app.post_form("/inscription", form, None).await.0, StatusCode::OK);
    let organiser = app.login("orga@usine.fr").await;
    assert_eq!(app.get_html("/instruction", Some(&organiser)).await.0, StatusCode::FORBIDDEN);
    app.person("admin@dge.fr", "national_admin", None).await;
    let (_, _, cookie) = app.post_form("/connexion", "email=admin%40dge.fr&password=mot+de+passe+de+test", None).await;
    let admin = cookie.expect("admin logged in").split(';').next().unwrap().to_string();
    let (s, html) = app.get_html("/espace/evenements/nouveau", Some(&admin)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("réservé aux organisateurs"));
    assert_eq!(app.get_html("/instruction", Some(&admin)).await.0, StatusCode::OK);
}

/// The in-memory catalogue index answers exactly what the store's SQL answers, for every filter.
#[tokio::test]
async fn catalogue_index_answers_like_the_store() {
    let app = TestApp::new().await;
    let org = app
        .store
        .create_organisation(&si_store::NewOrganisation {
            name: "Forges de Parité".into(),
            kind: si_domain::OrganisationKind::Entreprise,
            department: "69".into(),
            identifier: None,
        })
        .await
        .unwrap();
    let places = ["69800", "69003", "75011", "13001", "59000", "97400", "29200", "67000"];
    let titles = ["Visite de l'usine", "Soudure et métallurgie", "Forum des métiers", "Atelier robotique"];
    let types = ["visite_entreprise", "atelier", "forum_metiers", "conference"];
    let audiences = [
        json!(["scolaires"]),
        json!(["jeunes", "etudiants"]),
        json!(["grand_public"]),
        json!(["demandeurs_emploi", "scolaires"]),
    ];
    let mut rows = Vec::new();
    for i in 0..40usize {
        let mut e = support::complete_event(app.year, places[i % places.len()]);
        e["title"] = json!(format!("{} n° {i}", titles[i % titles.len()]));
        e["type"] = json!(types[(i / 2) % types.len()]);
        e["audiences"] = audiences[(i / 3) % audiences.len()].clone();
        e["themes"] = if i % 5 == 0 { json!(["mixite"]) } else { json!([]) };
        e["accessible"] = json!(i % 3 != 0);
        if i % 7 == 0 {
            e["format"] = json!("en_ligne");
            e["online_url"] = json!("https://visio.exemple.fr/x");
        }
        let day = support::test_week_start() + chrono::Duration::days((i % 6) as i64);
        e["sessions"] = json!([{"start": format!("{day}T09:00"), "end": format!("{day}T12:00")}]);
        if i % 4 == 1 {
            // Booked on the platform: different capacities and group sizes, some with two sessions.
            e["registration"] =
                json!({"mode": "platform", "capacity": 10 + (i % 3) * 10, "max_group": 8 + (i % 3) * 10});
            if i % 8 == 5 {
                e["sessions"] = json!([{"start": format!("{day}T09:00"), "end": format!("{day}T12:00")},
                                       {"start": format!("{day}T14:00"), "end": format!("{day}T16:00")}]);
            }
        }
        let mut data: si_domain::EventData = serde_json::from_value(e).unwrap();
        data.normalise();
        rows.push((org.id, data, chrono::Utc::now()));
    }
    app.store.insert_labelled(app.year, &rows).await.unwrap();
    // Bookings fill some sessions more than others; one session is closed.
    let booked: Vec<i64> =
        app.store.catalogue_rows().await.unwrap().iter().filter(|r| r.seats_capacity.is_some()).map(|r| r.id).collect();
    assert!(booked.len() >= 8, "{booked:?}");
    let no_letters = |_: &si_store::Booking, _: si_store::BookingNews| Vec::new();
    for (k, id) in booked.iter().enumerate() {
        let record = app.store.event(*id).await.unwrap().unwrap();
        let rules = si_domain::booking::BookingRules::of(&record.data.registration).unwrap();
        for n in 0..(k % 4) {
            let req = si_domain::booking::BookingInput {
                kind: "personne".into(),
                name: "P".into(),
                email: format!("p{k}-{n}@exemple.fr"),
                acknowledged: true,
                ..Default::default()
            }
            .parse()
            .unwrap();
            let mut req = req;
            req.party = si_domain::booking::Party::Class {
                uai: si_domain::identifiers::Uai::parse("0750655E").unwrap(),
                school: "C".into(),
                level: si_domain::ClassLevel::College,
                pupils: (rules.max_group - 1).min(3 + k as u32),
                adults: 1,
                phone: "0400000000".into(),
            };
            let token = format!("t-{id}-{n}");
            let nb = si_store::NewBooking {
                event_id: *id,
                rank: 1,
                token_hash: &token,
                request: &req,
                rules,
                at: chrono::Utc::now(),
            };
            let _ = app.store.book(&nb, &no_letters).await;
        }
        if k == 2 {
            app.store.close_session(*id, 1, rules.capacity, true).await.unwrap();
        }
    }
    let day = |d: i64| Some(support::test_week_start() + chrono::Duration::days(d));
    let near = |lat, lon, radius_km| Some(si_store::Near { lat, lon, radius_km });
    let filters = [
        si_store::EventFilter::default(),
        si_store::EventFilter { edition: Some(app.year), ..Default::default() },
        si_store::EventFilter { regions: vec!["84".into()], ..Default::default() },
        si_store::EventFilter {
            regions: vec!["84".into(), "11".into()],
            departments: vec!["69".into(), "75".into()],
            ..Default::default()
        },
        si_store::EventFilter { audiences: vec![si_domain::Audience::Scolaires], ..Default::default() },
        si_store::EventFilter {
            types: vec![si_domain::EventType::Atelier],
            formats: vec![si_domain::Format::Presentiel],
            ..Default::default()
        },
        si_store::EventFilter { themes: vec![si_domain::Theme::Mixite], ..Default::default() },
        si_store::EventFilter { accessible: Some(true), from: day(2), to: day(4), ..Default::default() },
        si_store::EventFilter { organisations: vec![org.id], ..Default::default() },
        si_store::EventFilter { near: near(45.7578, 4.8320, 30.0), ..Default::default() },
        si_store::EventFilter {
            near: near(45.7578, 4.8320, 200.0),
            audiences: vec![si_domain::Audience::Jeunes],
            ..Default::default()
        },
        si_store::EventFilter { q: Some("metall".into()), ..Default::default() },
        si_store::EventFilter { q: Some("Visites usines".into()), regions: vec!["84".into()], ..Default::default() },
        si_store::EventFilter { q: Some("forges".into()), page: 2, per_page: 7, ..Default::default() },
        si_store::EventFilter { q: Some("introuvable".into()), ..Default::default() },
        si_store::EventFilter { q: Some("soudage robotique".into()), ..Default::default() },
        si_store::EventFilter { q: Some("fraiseurs".into()), ..Default::default() },
        si_store::EventFilter { places: Some(1), ..Default::default() },
        si_store::EventFilter { places: Some(5), ..Default::default() },
        si_store::EventFilter { places: Some(9), ..Default::default() },
        si_store::EventFilter { places: Some(15), ..Default::default() },
        si_store::EventFilter { places: Some(25), ..Default::default() },
        si_store::EventFilter { places: Some(29), ..Default::default() },
        si_store::EventFilter { places: Some(12), near: near(45.7578, 4.8320, 200.0), ..Default::default() },
    ];
    for f in filters {
        let f = si_store::EventFilter {
            page: f.page.max(1),
            per_page: if f.per_page == 0 { 100 } else { f.per_page },
            ..f
        };
        let (sql_total, sql_page) = app.store.search_events(&f).await.unwrap();
        let (idx_total, idx_page) = app.state.catalogue.search(&app.store, &f).await.unwrap();
        assert_eq!(idx_total, sql_total, "{f:?}");
        // The map's markers (from the index) are the matching events with a place, by id.
        let mut placed: Vec<(i64, f64, f64, String)> = app
            .store
            .search_all(&f, 1_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.data.format != Some(si_domain::Format::EnLigne))
            .filter_map(|r| r.data.place().map(|p| (r.id, p.lat, p.lon, r.data.title.clone())))
            .collect();
        placed.sort_by_key(|p| p.0);
        let markers = app.state.catalogue.markers(&app.store, &f, None, 1_000).await.unwrap();
        assert_eq!(markers, placed, "markers for {f:?}");
        // The `places` rows discriminate: the closed session drops out; fewer have 25 left, as
        // filled and closed sessions drop out.
        match f.places {
            Some(1) => {
                assert!(sql_total > 0 && (sql_total as usize) < booked.len(), "the closed one drops: {sql_total}")
            }
            Some(25) => assert!(sql_total > 0 && (sql_total as usize) < booked.len() / 2, "{sql_total}"),
            _ => {}
        }
        let mut a: Vec<i64> = sql_page.iter().map(|r| r.id).collect();
        let mut b: Vec<i64> = idx_page.iter().map(|r| r.id).collect();
        if f.q.is_some() && f.per_page >= sql_total as u32 {
            // Relevance is computed differently (bm25, ts_rank, the index's weights): same events.
            a.sort_unstable();
            b.sort_unstable();
        }
        if f.q.is_none() {
            assert_eq!(b, a, "same order for {f:?}");
        } else if f.per_page >= sql_total as u32 {
            assert_eq!(b, a, "same events for {f:?}");
        } else {
            assert_eq!(b.len(), a.len(), "{f:?}");
        }
    }
}

/// « soudage » finds « soudure » (the domain's synonyms, on both backends and in the index), and an
/// event whose title says it comes before those that say it in their description only.
#[tokio::test]
async fn a_search_finds_synonyms_and_ranks_titles_first() {
    let app = TestApp::new().await;
    let org = app.company("Ateliers du Rhône").await;
    // Every description says « soudure »; every third title does.
    let titles: Vec<String> = (0..12)
        .map(|i| if i % 3 == 2 { format!("Soudure à l'arc n° {i}") } else { format!("Portes ouvertes n° {i}") })
        .collect();
    app.labelled_titles(org.id, app.year, "69003", &titles).await;
    for q in ["soudure", "soudage", "SOUDEURS", "souder"] {
        let f = si_store::EventFilter { q: Some(q.into()), page: 1, per_page: 20, ..Default::default() };
        let (sql_total, _) = app.store.search_events(&f).await.unwrap();
        let (total, page) = app.state.catalogue.search(&app.store, &f).await.unwrap();
        assert_eq!((total, sql_total), (12, 12), "{q}");
        let titles: Vec<&str> = page.iter().map(|r| r.data.title.as_str()).collect();
        assert!(titles[..4].iter().all(|t| t.starts_with("Soudure")), "{q}: {titles:?}");
        assert!(titles[4..].iter().all(|t| t.starts_with("Portes")), "{q}: {titles:?}");
    }
    // Through the public page too.
    let (s, html) = app.get_html("/evenements?q=soudage", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Soudure à l&#39;arc n° 2"), "{html}");
    let f = si_store::EventFilter { q: Some("usinage robotique".into()), page: 1, per_page: 20, ..Default::default() };
    assert_eq!(app.state.catalogue.search(&app.store, &f).await.unwrap().0, 0, "every term must still match");
}

/// `Où ?` takes a commune's name as people type it, and suggests communes as one types.
#[tokio::test]
async fn a_place_is_found_by_its_name_and_suggested() {
    let app = TestApp::new().await;
    let (s, list) = app.get_json("/api/v1/communes?q=besan").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list[0]["name"], "Besançon", "{list}");
    assert_eq!(list[0]["postal_codes"][0], "25000", "{list}");
    let (_, list) = app.get_json("/api/v1/communes?q=saint%20etienne").await;
    assert_eq!(list[0]["code"], "42218", "{list}");
    assert!(list.as_array().unwrap().len() <= 10);
    for bad in ["/api/v1/communes?q=a", "/api/v1/communes", "/api/v1/communes?postal_code=6980"] {
        let (s, body) = app.get_json(bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (s, body) = app.get_json(&format!("/api/v1/communes?q={}", "x".repeat(81))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // The catalogue page and the API read a name like a postal code.
    for near in ["Lyon", "lyon", "69001", "Lyon%20(69)", "saint%20etienne", "Besancon"] {
        let (s, html) = app.get_html(&format!("/evenements?near={near}"), None).await;
        assert_eq!(s, StatusCode::OK, "{near}");
        assert!(html.contains("list=\"f-near-lieux\""), "{near}");
        let (s, body) = app.get_json(&format!("/api/v1/events?near={near}")).await;
        assert_eq!(s, StatusCode::OK, "{near}: {body}");
    }
    let (s, html) = app.get_html("/evenements?near=Atlantide", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Lieu inconnu : « Atlantide »") && html.contains("value=\"Atlantide\""), "{html}");
}

/// A search never dead-ends on an edition still being labelled: the last edition's matches are
/// offered. An event that does not take place as planned says so on every card that shows it.
#[tokio::test]
async fn searches_fall_back_on_the_last_edition_and_cards_say_cancelled() {
    let app = TestApp::new().await;
    let org = app.company("Fonderies de Givors").await;
    let actor = app
        .store
        .create_user(&si_store::NewUser {
            email: "admin@exemple.fr".into(),
            name: "Admin".into(),
            password_hash: "x".into(),
            role: si_domain::Role::NationalAdmin,
            region: None,
            organisation_id: None,
        })
        .await
        .unwrap();
    let titles = |n: usize, title: &str| (0..n).map(|i| format!("{title} n° {i}")).collect::<Vec<_>>();
    app.labelled_titles(org.id, app.year, "69700", &titles(3, "Fonderie ouverte")).await;
    app.labelled_titles(org.id, 2024, "69700", &titles(8, "Fonderie d'antan")).await;
    let ids: Vec<i64> = app.store.catalogue_rows().await.unwrap().iter().map(|r| r.id).collect();
    let (cancelled, postponed) = (ids[0], ids[1]);
    let now = chrono::Utc::now();
    app.store.set_public_status(cancelled, actor.id, si_domain::PublicStatus::Cancelled, now).await.unwrap();
    app.store.set_public_status(postponed, actor.id, si_domain::PublicStatus::Postponed, now).await.unwrap();

    let (s, html) = app.get_html("/evenements?q=fonderie", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<strong>3</strong> événements labellisés"), "{html}");
    assert!(html.contains("compte encore peu d'événements labellisés"), "{html}");
    assert!(html.contains("Voir les 8 résultats de l'édition 2024"), "{html}");
    assert!(html.contains("href=\"/evenements?q=fonderie&#38;edition=2024\""), "{html}");
    assert_eq!(html.matches("Fonderie d&#39;antan").count(), 5, "the first five of the last edition");
    assert!(html.contains(">Annulé</p>") && html.contains(">Reporté</p>"), "{html}");
    // Chosen explicitly, an edition is shown alone; nothing matching anywhere, nothing offered.
    let (_, html) = app.get_html(&format!("/evenements?q=fonderie&edition={}", app.year), None).await;
    assert!(!html.contains("Fonderie d&#39;antan") && !html.contains("compte encore peu"));
    let (_, html) = app.get_html("/evenements?q=introuvable", None).await;
    assert!(!html.contains("compte encore peu") && html.contains("Aucun événement ne correspond"));
    // The map popup, the widget and the event page.
    let (s, html) = app.get_html(&format!("/evenements/{cancelled}/apercu"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(">Annulé</p>") && html.contains("Givors") && html.contains("Scolaires"), "{html}");
    let (s, _) = app.get_html("/evenements/999999/apercu", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, html) = app.get_html(&format!("/widget?edition={}", app.year), None).await;
    assert!(html.contains(">Annulé</p>") && html.contains(">Reporté</p>"), "{html}");
    let (_, html) = app.get_html(&format!("/evenements/{cancelled}"), None).await;
    assert!(!html.contains("Ajouter à mon agenda"), "no calendar entry for a cancelled event");
    // The API keeps the contract's codes and gives the site's words beside them.
    let (_, e) = app.get_json(&format!("/api/v1/events/{cancelled}")).await;
    assert_eq!((e["public_status"].as_str(), e["public_status_label"].as_str()), (Some("cancelled"), Some("Annulé")));
    let (_, e) = app.get_json(&format!("/api/v1/events/{postponed}")).await;
    assert_eq!((e["public_status"].as_str(), e["public_status_label"].as_str()), (Some("postponed"), Some("Reporté")));
    let (_, html) = app.get_html(&format!("/evenements/{postponed}"), None).await;
    assert!(html.contains("Ajouter à mon agenda"));
    // The open-data CSV speaks French in every coded column, the status too.
    let csv = support::body_text(app.get(&format!("/api/v1/events.csv?edition={}", app.year), None).await).await;
    let status_of = |id: i64| {
        let line = csv.lines().find(|l| l.starts_with(&format!("{id};"))).expect("the event's row");
        let cells: Vec<&str> = line.split(';').collect();
        (cells[26].to_string(), cells[27].to_string())
    };
    assert_eq!(status_of(cancelled), ("annule".to_string(), "Annulé".to_string()));
    assert_eq!(status_of(postponed), ("reporte".to_string(), "Reporté".to_string()));
    for english in [";scheduled;", ";cancelled;", ";postponed;"] {
        assert!(!csv.contains(english), "{english} in the CSV");
    }
}

/// The public contract as a reviewed file: a change to the API shows in `docs/openapi.json` in the
/// same commit (`UPDATE_SNAPSHOTS=1 cargo test … openapi` rewrites it).
#[tokio::test]
async fn the_openapi_document_is_the_reviewed_snapshot() {
    let app = TestApp::new().await;
    let (s, doc) = app.get_json("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    let now = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &now).unwrap();
    }
    let kept = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        kept == now,
        "the OpenAPI document changed: review the difference, then run UPDATE_SNAPSHOTS=1 cargo test -p si-web --test http openapi and commit docs/openapi.json"
    );
}

/// The documented bounds of a class's numbers are the ones the booking rules apply.
#[tokio::test]
async fn the_documented_class_bounds_are_the_rules() {
    let app = TestApp::new().await;
    let (_, doc) = app.get_json("/api/openapi.json").await;
    for schema in ["RegistrationRequest", "RegistrationChange"] {
        for field in ["pupils", "adults"] {
            let f = &doc["components"]["schemas"][schema]["properties"][field];
            assert_eq!(f["maximum"], si_domain::booking::CLASS_MAX, "{schema}.{field}");
        }
    }
}

/// Each answer names its request, so that a report can be matched with the server's log lines.
#[tokio::test]
async fn every_answer_carries_its_request_id() {
    let app = TestApp::new().await;
    let a = app.get("/healthz", None).await;
    let b = app.get("/page-inconnue", None).await;
    let id = |r: &axum::http::Response<axum::body::Body>| r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id(&a).len(), 16);
    assert_ne!(id(&a), id(&b), "one id per request, errors included");
}

/// A path id that is not a number is « not found », as a page on the site and as JSON in the API.
#[tokio::test]
async fn ids_that_are_not_numbers_are_not_found() {
    let app = TestApp::new().await;
    for path in ["/evenements/abc", "/evenements/1e3/calendrier.ics", "/instruction/evenements/%00"] {
        let r = app.get(path, None).await;
        assert!(r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::SEE_OTHER, "{path}: {}", r.status());
    }
    let r = app.get("/evenements/abc", None).await;
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let (s, body) = app.get_json("/api/v1/events/abc").await;
    assert_eq!((s, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

/// Every rule judged « now » reads the platform's clock (`si_web::clock`): with the clock stopped
/// one second after the edition's deadline, a complete event is refused on the deadline alone; moved
/// back one hour before it, the same event is submitted.
#[tokio::test]
async fn submissions_are_judged_at_the_platforms_clock() {
    let deadline = support::open_edition().deadline;
    let (app, clock) = TestApp::new().await.at(deadline + chrono::Duration::seconds(1));
    let orga = app.organiser("horloge@usine.fr", "Forges de l'Horloge").await;
    let (s, draft) = app.post_json("/api/v1/me/events", &complete_event(app.year, "69800"), Some(&orga)).await;
    assert_eq!(s, StatusCode::CREATED, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    let (s, r) = app.post_json(&format!("/api/v1/me/events/{id}/submit"), &json!({}), Some(&orga)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    let failed: Vec<&str> = r["conditions"].as_array().unwrap().iter().filter_map(|c| c["code"].as_str()).collect();
    assert_eq!(failed, ["deadline"], "{r}");

    clock.set(deadline - chrono::Duration::hours(1));
    let (s, r) = app.post_json(&format!("/api/v1/me/events/{id}/submit"), &json!({}), Some(&orga)).await;
    assert_eq!((s, r["moderation"].as_str()), (StatusCode::OK, Some("submitted")), "{r}");
    // The submission is dated by the same clock.
    let record = app.store.event(id).await.unwrap().unwrap();
    assert_eq!(record.submitted_at, Some(deadline - chrono::Duration::hours(1)));
}
