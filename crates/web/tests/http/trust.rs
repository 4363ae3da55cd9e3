//! The trust issue's holes, each as the attack that found it: every test here fails if the protection
//! it names is removed.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use si_domain::OrganisationKind;
use si_store::{NewOrganisation, Transition};
use tower::ServiceExt;

use crate::support::{TestApp, complete_event};

/// A login form posted from `source`, as a browser on the site would.
fn login_request(email: &str, password: &str, source: &str, next: Option<&str>) -> Request<Body> {
    let mut body = format!("email={}&password={}", email.replace('@', "%40"), password.replace(' ', "+"));
    if let Some(n) = next {
        body.push_str(&format!("&suivant={n}"));
    }
    let addr: SocketAddr = format!("{source}:40000").parse().unwrap();
    Request::post("/connexion")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .extension(ConnectInfo(addr))
        .body(Body::from(body))
        .unwrap()
}

async fn statuses(app: &TestApp, requests: Vec<Request<Body>>) -> Vec<StatusCode> {
    let mut set = tokio::task::JoinSet::new();
    for req in requests {
        let router = app.router.clone();
        set.spawn(async move { router.oneshot(req).await.unwrap().status() });
    }
    set.join_all().await
}

fn count(list: &[StatusCode], status: StatusCode) -> usize {
    list.iter().filter(|s| **s == status).count()
}

/// Holes 1 and 6: parallel guesses are counted before any password is checked, per account and
/// source, per source and per account from everywhere; the owner is never locked out by someone
/// else's failures from another place, and the password link gets them in when a distributed guess
/// exhausted the account's allowance. Hashing never runs more than its threads at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_limits_count_atomically_and_spare_the_owner() {
    let app = TestApp::new().await;
    app.organiser("lyon@usine.fr", "Usine de Lyon").await;

    // 100 wrong passwords at once from one place: exactly the 10 allowed reach the password check,
    // and the flood does not spend the allowance everyone shares (60 at once): see the owner below.
    let flood = (0..100).map(|_| login_request("lyon@usine.fr", "mauvais mot de passe", "203.0.113.1", None)).collect();
    let got = statuses(&app, flood).await;
    assert_eq!(
        (count(&got, StatusCode::UNPROCESSABLE_ENTITY), count(&got, StatusCode::TOO_MANY_REQUESTS)),
        (10, 90),
        "{got:?}"
    );
    assert!(
        si_web::auth::hashing::peak() <= si_web::auth::hashing::threads(),
        "{} hashes ran at once on {} threads",
        si_web::auth::hashing::peak(),
        si_web::auth::hashing::threads()
    );
    // The owner, elsewhere, is not locked out by those failures.
    let resp = app.send(login_request("lyon@usine.fr", "mot de passe de test", "198.51.100.7", None)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    // One guess on each of 50 accounts from one place: the source's allowance (30) stops it. (A
    // fresh application: the global allowance, 60 at once, was spent above.)
    let app = TestApp::new().await;
    let spray = (0..50)
        .map(|i| login_request(&format!("personne{i}@exemple.fr"), "password1234", "192.0.2.10", None))
        .collect();
    let got = statuses(&app, spray).await;
    assert_eq!(count(&got, StatusCode::UNPROCESSABLE_ENTITY), 30, "{got:?}");
    assert_eq!(count(&got, StatusCode::TOO_MANY_REQUESTS), 20, "{got:?}");

    // A distributed guess (5 places × 10) spends the account's allowance from everywhere …
    let app = TestApp::new().await;
    app.organiser("cible@usine.fr", "Usine cible").await;
    let distributed = (0..50)
        .map(|i| login_request("cible@usine.fr", "mauvais mot de passe", &format!("198.18.0.{}", i / 10), None))
        .collect();
    let got = statuses(&app, distributed).await;
    assert_eq!(count(&got, StatusCode::UNPROCESSABLE_ENTITY), 50, "{got:?}");
    let resp = app.send(login_request("cible@usine.fr", "mot de passe de test", "198.18.1.1", None)).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key(header::RETRY_AFTER));
    let html = crate::support::body_text(resp).await;
    assert!(html.contains("Mot de passe oublié"), "the page shows the owner the way through");
    // … and the owner's password link gets them back in, then logs in as usual.
    let (s, _, _) = app.post_form("/mot-de-passe-oublie", "email=cible%40usine.fr", None).await;
    assert_eq!(s, StatusCode::OK);
    let sent = app.deliver().await;
    let link = sent[0].text.split_whitespace().find(|w| w.contains("/mot-de-passe/")).unwrap();
    let path = &link[link.find("/mot-de-passe/").unwrap()..];
    let (s, _, _) = app
        .post_form(
            path,
            "password=une+nouvelle+phrase+secr%C3%A8te&confirmation=une+nouvelle+phrase+secr%C3%A8te",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let resp = app.send(login_request("cible@usine.fr", "une nouvelle phrase secrète", "198.18.1.1", None)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

/// Hole 5: after login the browser only goes to a path of this site; anything else (tabs and line
/// breaks that browsers drop, backslashes they read as slashes, other hosts) is ignored, never a 500.
#[tokio::test]
async fn login_never_redirects_off_site() {
    let app = TestApp::new().await;
    app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let hostile = [
        "%2F%09%2Fevil.example",
        "%2F%0D%0A%2Fevil.example",
        "%2F%0D%0ASet-Cookie%3A+x%3D1",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "%5C%5Cevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%E2%80%AE%2Fevil",
        "",
    ];
    for next in hostile {
        let (s, html) = app.get_html(&format!("/connexion?suivant={next}"), None).await;
        assert_eq!(s, StatusCode::OK, "{next}");
        assert!(html.contains("name=\"suivant\" value=\"/espace\""), "{next}: the form keeps only a safe path");
        let resp = app.send(login_request("lyon@usine.fr", "mot de passe de test", "203.0.113.5", Some(next))).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(resp.headers()[header::LOCATION], "/espace", "{next}");
    }
    let resp = app
        .send(login_request("lyon@usine.fr", "mot de passe de test", "203.0.113.5", Some("%2Finstruction%3Fpage%3D2")))
        .await;
    assert_eq!(resp.headers()[header::LOCATION], "/instruction?page=2", "a path of the site is followed");
}

/// Hole 4 and the small ones on text: control characters are refused where they are typed, and what
/// is already stored cannot forge a calendar entry or break out of the JSON-LD block.
#[tokio::test]
async fn hostile_text_is_refused_at_input_and_inert_on_output() {
    let app = TestApp::new().await;
    let token = app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let mut e = complete_event(app.year, "69001");
    for (field, value) in [
        ("title", "Visite\r\nBEGIN:VEVENT"),
        ("title", "Visite\rcachée"),
        ("title", "Visite\u{0}nulle"),
        ("title", "Visite \u{202E}etisiv"),
        ("summary", "Résumé\u{0}"),
        ("description", "Texte\u{1b}[31m"),
    ] {
        let mut bad = e.clone();
        bad[field] = json!(value);
        let (s, r) = app.post_json("/api/v1/me/events", &bad, Some(&token)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field} = {value:?}: {r}");
    }
    let mut venue = e.clone();
    venue["location"]["venue"] = json!("Usine\nX-INJECT:1");
    assert_eq!(app.post_json("/api/v1/me/events", &venue, Some(&token)).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // NUL in forms (PostgreSQL cannot store it): 422, never 500.
    for (path, body) in [
        ("/connexion", "email=a%00b%40exemple.fr&password=x"),
        ("/mot-de-passe-oublie", "email=a%00b%40exemple.fr"),
        ("/inscription", "name=Camille%00&email=c%40exemple.fr"),
    ] {
        let (s, _, _) = app.post_form(path, body, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body}");
    }
    // A sign-up in the name of an organisation with a line break in it: refused, with the field named.
    let (s, html, _) = app
        .post_form(
            "/inscription",
            "name=Eve&email=eve%40exemple.fr&password=une+longue+phrase+secr%C3%A8te&password_confirm=une+longue+phrase+secr%C3%A8te&organisation=Forges%0D%0AEND%3AVEVENT&kind=association&department=69",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("retour à la ligne"), "{html}");

    // Data stored before these checks (or by another way in): the outputs stay inert.
    let org = app
        .store
        .create_organisation(&NewOrganisation {
            name: "Forges\"\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Faux\r\nX-INJECTED:1".into(),
            kind: OrganisationKind::Association,
            department: "69".into(),
            identifier: None,
        })
        .await
        .unwrap();
    let admin = app.person("admin@dge.fr", "national_admin", None).await;
    let admin_id = app.store.user_by_email("admin@dge.fr").await.unwrap().unwrap().id;
    let mut data: si_domain::EventData = serde_json::from_value(e.take()).unwrap();
    data.title = "Portes ouvertes\rBEGIN:VEVENT".into();
    data.summary = "<!--<script>alert(1)</script>".into();
    data.description = "</script><script>alert(2)</script>".into();
    data.location.venue = "=HYPERLINK(\"http://evil.example\";\"x\")".into();
    data.normalise();
    let id = app.store.create_event(app.year, org.id, admin_id, &data).await.unwrap();
    let v = app.store.transition(&Transition::submit(id, admin_id, chrono::Utc::now())).await.unwrap().version;
    app.store.decide(id, admin_id, si_store::Decision::Label, None, chrono::Utc::now(), v).await.unwrap();
    app.state.public_changed();
    let _ = admin;

    let resp = app.get(&format!("/api/v1/events.ics?edition={}", app.year), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ics = crate::support::body_text(resp).await;
    assert!(!ics.contains("\nX-INJECTED") && !ics.contains("\nSUMMARY:Faux"), "{ics}");
    assert!(!ics.replace("\r\n", "").contains('\r'), "no bare CR survives: {ics:?}");
    let cal: icalendar::Calendar = ics.parse().expect("a real parser reads the feed");
    use icalendar::Component;
    let events: Vec<_> = cal.components.iter().filter_map(|c| c.as_event()).collect();
    assert_eq!(events.len(), data.sessions.len(), "one VEVENT per session, none injected");
    assert!(events[0].get_summary().unwrap().starts_with("Portes ouvertes"));
    assert!(events[0].property_value("X-INJECTED").is_none());

    // The spreadsheet export: no cell starts with a formula.
    let resp = app.get(&format!("/api/v1/events.csv?edition={}", app.year), None).await;
    let csv = crate::support::body_text(resp).await;
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(!csv.contains(";=HYPERLINK") && !csv.contains(";\"=HYPERLINK"), "{csv}");

    let (s, html) = app.get_html(&format!("/evenements/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("<script>alert"), "the page escapes what was stored");
    let start = html.find("<script type=\"application/ld+json\">").expect("JSON-LD") + 35;
    let block = &html[start..start + html[start..].find("</script>").unwrap()];
    assert!(!block.contains('<'), "nothing in the JSON-LD can open or close an element: {block}");
    let ld: serde_json::Value = serde_json::from_str(block).expect("still valid JSON");
    assert_eq!(ld[0]["description"], "<!--<script>alert(1)</script>");
}

/// Small holes: 413 for a large body, login CSRF, security headers, no caching of private answers,
/// drafts that reviewers cannot open.
#[tokio::test]
async fn bodies_headers_csrf_and_drafts() {
    let app = TestApp::new().await;
    let big = "x".repeat(10 * 1024 * 1024);
    let (s, r) = app.post_raw("/api/v1/eligibility", &big, None).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{r}");
    assert_eq!(r["error"]["code"], "too_large");
    let (s, _, _) = app.post_form("/connexion", &format!("email={big}"), None).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);

    // A cross-site form that would log the visitor into someone else's account.
    let token = app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let req = Request::post("/connexion")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from("email=lyon%40usine.fr&password=mot+de+passe+de+test"))
        .unwrap();
    let resp = app.send(req).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.headers().get(header::SET_COOKIE).is_none());

    // Headers: a content policy everywhere, no caching of what is private.
    let resp = app.get("/", None).await;
    let csp = resp.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(resp.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none(), "no HSTS over plain http");
    let cookie = app.login("lyon@usine.fr").await;
    for path in ["/espace", "/"] {
        let resp = app.get(path, Some(&cookie)).await;
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store", "{path} for a logged-in person");
    }
    let resp = app.get("/static/vendor/dsfr-1.15.3/dsfr.min.css", Some(&cookie)).await;
    assert!(resp.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"), "static files stay cached");
    let req = Request::get("/api/v1/me/events").header(header::AUTHORIZATION, format!("Bearer {token}"));
    let resp = app.send(req.body(Body::empty()).unwrap()).await;
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
    let https = si_web::router(si_web::AppState::new(
        app.store.clone(),
        si_web::WebConfig { public_url: "https://semaine-industrie.example".into(), ..Default::default() },
    ));
    let resp = https.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    assert!(resp.headers()[header::STRICT_TRANSPORT_SECURITY].to_str().unwrap().starts_with("max-age="));

    // A draft never submitted belongs to its organisation: reviewers get 404, page and decision.
    let (s, created) = app.post_json("/api/v1/me/events", &complete_event(app.year, "69001"), Some(&token)).await;
    assert_eq!(s, StatusCode::CREATED);
    let draft = created["id"].as_i64().unwrap();
    app.person("ara@region.fr", "regional_coordinator", Some("84")).await;
    app.person("admin@dge.fr", "national_admin", None).await;
    for who in ["ara@region.fr", "admin@dge.fr"] {
        let c = app.login(who).await;
        assert_eq!(app.get_html(&format!("/instruction/evenements/{draft}"), Some(&c)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get_html(&format!("/evenements/{draft}"), Some(&c)).await.0, StatusCode::NOT_FOUND);
        let body = format!("decision=label&version={}", app.version(draft).await);
        let (s, _, _) = app.post_form(&format!("/instruction/evenements/{draft}/decision"), &body, Some(&c)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        app.get_html(&format!("/evenements/{draft}"), Some(&cookie)).await.0,
        StatusCode::OK,
        "its organisation"
    );
}

/// Hole 8: with the database unreachable, requests that need it answer 503 with `Retry-After`
/// within the store's few seconds, not after 30 s, and never 500.
#[tokio::test]
async fn an_unreachable_database_answers_503_at_once() {
    // Nothing listens on port 1: every connection attempt fails, as when the database is down.
    let store: si_store::DynStore =
        std::sync::Arc::new(si_store::PgStore::connect_lazy("postgres://postgres@127.0.0.1:1/nulle").unwrap());
    let router = si_web::router(si_web::AppState::new(store, si_web::WebConfig::default()));
    let started = std::time::Instant::now();
    for path in ["/api/v1/editions", "/evenements/1"] {
        let resp = router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(resp.headers().contains_key(header::RETRY_AFTER), "{path}");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("indisponible"), "{path}");
    }
    // The node is alive (an orchestrator must not restart it for the database) but not ready.
    let alive = router.clone().oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(alive.status(), StatusCode::OK);
    let ready = router.clone().oneshot(Request::get("/readyz").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = ready.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("\"database\":\"unreachable\""), "{body:?}");
    // Three requests that read the database, each bounded by the acquire timeout (3 s), not sqlx's
    // default 30 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(3 * 3 + 5), "{:?}", started.elapsed());
}

/// Hole 7: organisers make, name, list and revoke their own API tokens; tokens expire, and a new
/// password (or a suspension) ends every one of them.
#[tokio::test]
async fn api_tokens_are_named_expire_and_can_be_revoked() {
    let app = TestApp::new().await;
    app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let cookie = app.login("lyon@usine.fr").await;
    let (s, html) = app.get_html("/espace/jetons", Some(&cookie)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Tests"), "the token made by the test set-up is listed by name: {html}");
    assert!(!html.contains("si_"), "no secret is ever shown again");
    let (s, html, _) = app.post_form("/espace/jetons", "name=&days=90", Some(&cookie)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Nommez ce jeton"));
    let (s, html, _) = app.post_form("/espace/jetons", "name=Int%C3%A9gration+SIRH&days=7", Some(&cookie)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "only the offered lifetimes");
    assert!(html.contains("value=\"Intégration SIRH\""), "what was typed is kept");
    let (s, html, _) = app.post_form("/espace/jetons", "name=Int%C3%A9gration+SIRH&days=30", Some(&cookie)).await;
    assert_eq!(s, StatusCode::OK);
    let start = html.find("value=\"si_").expect("the new token, shown once") + 7;
    let token = html[start..start + html[start..].find('"').unwrap()].to_string();
    assert_eq!(app.get_json_auth("/api/v1/me/events", &token).await.0, StatusCode::OK);
    let (_, html) = app.get_html("/espace/jetons", Some(&cookie)).await;
    assert!(html.contains("Intégration SIRH") && html.contains("dernière utilisation"));
    // Revoked: the API refuses it at once; another person cannot revoke it.
    let id = app
        .store
        .api_tokens(app.store.user_by_email("lyon@usine.fr").await.unwrap().unwrap().id)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "Intégration SIRH")
        .unwrap()
        .id;
    app.organiser("autre@usine.fr", "Autre usine").await;
    let other = app.login("autre@usine.fr").await;
    let (s, _, _) = app.post_form(&format!("/espace/jetons/{id}/revoquer"), "", Some(&other)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(app.get_json_auth("/api/v1/me/events", &token).await.0, StatusCode::OK);
    let (s, _, _) = app.post_form(&format!("/espace/jetons/{id}/revoquer"), "", Some(&cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(app.get_json_auth("/api/v1/me/events", &token).await.0, StatusCode::UNAUTHORIZED);
    // A new password ends every token (the one the set-up made included).
    let (_, html, _) = app.post_form("/espace/jetons", "name=Site+web&days=365", Some(&cookie)).await;
    let start = html.find("value=\"si_").unwrap() + 7;
    let token = html[start..start + html[start..].find('"').unwrap()].to_string();
    assert_eq!(app.get_json_auth("/api/v1/me/events", &token).await.0, StatusCode::OK);
    app.post_form("/mot-de-passe-oublie", "email=lyon%40usine.fr", None).await;
    let sent = app.deliver().await;
    let link = sent.iter().find_map(|m| m.text.split_whitespace().find(|w| w.contains("/mot-de-passe/"))).unwrap();
    let path = &link[link.find("/mot-de-passe/").unwrap()..];
    let (s, _, _) = app
        .post_form(path, "password=une+autre+phrase+secr%C3%A8te&confirmation=une+autre+phrase+secr%C3%A8te", None)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(app.get_json_auth("/api/v1/me/events", &token).await.0, StatusCode::UNAUTHORIZED);
    let user = app.store.user_by_email("lyon@usine.fr").await.unwrap().unwrap();
    assert!(app.store.api_tokens(user.id).await.unwrap().is_empty());
    // Strangers are sent to the login page.
    let resp = app.get("/espace/jetons", None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

/// Hole 9 (slow clients): a client that never finishes its headers is disconnected after the header
/// deadline, while a normal request on the same server is answered.
#[tokio::test]
async fn slow_header_clients_are_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = si_web::server::ServerLimits {
        header_timeout: std::time::Duration::from_secs(1),
        max_connections: 16,
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(si_web::server::serve(listener, app.router.clone(), limits, async {
        let _ = stopped.await;
    }));
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    ok.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The slow one: closed by the server (read returns the end, or an error), well before we give up.
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(20), slow.read(&mut buf)).await;
    match closed {
        Ok(Ok(n)) => assert!(n == 0 || String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"), "{n} bytes"),
        Ok(Err(_)) => {}
        Err(_) => panic!("a client that never finished its headers was still connected after 20 s"),
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
