//! The public face as the tools that read it see it: compression and caching of what is sent,
//! what search engines read (description, canonical address, link previews, robots.txt, sitemap,
//! schema.org).

use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::support::{self, TestApp};

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> axum::http::Response<Body> {
    let mut b = Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    app.send(b.body(Body::empty()).unwrap()).await
}

async fn bytes(resp: axum::http::Response<Body>) -> Vec<u8> {
    resp.into_body().collect().await.unwrap().to_bytes().to_vec()
}

fn unbrotli(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(b, 4096).read_to_end(&mut out).unwrap();
    out
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).unwrap();
    out
}

async fn labelled(app: &TestApp, n: usize) -> Vec<i64> {
    let org = app.company("Verreries & Cie").await;
    let titles: Vec<String> = (0..n).map(|i| format!("Verrerie ouverte n° {i}")).collect();
    app.labelled_titles(org.id, app.year, "69003", &titles).await;
    app.store.catalogue_rows().await.unwrap().iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn what_is_sent_is_compressed_and_static_files_revalidate() {
    let app = TestApp::new().await;
    labelled(&app, 3).await;
    // Static assets: precompressed, brotli preferred, gzip otherwise, the same bytes once decoded.
    let css = "/static/vendor/dsfr-1.15.3/dsfr.min.css";
    let plain = fetch(&app, css, &[]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let etag = plain.headers().get(header::ETAG).expect("an ETag").to_str().unwrap().to_string();
    let original = bytes(plain).await;
    let br = fetch(&app, css, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(br.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(br.headers()[header::VARY], "Accept-Encoding");
    assert_eq!(br.headers()[header::ETAG].to_str().unwrap(), etag);
    let br = bytes(br).await;
    assert!(br.len() * 5 < original.len(), "{} of {}", br.len(), original.len());
    assert_eq!(unbrotli(&br), original);
    let gz = fetch(&app, css, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gunzip(&bytes(gz).await), original);
    let again = fetch(&app, css, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(bytes(again).await.is_empty());
    // Every static file carries an ETag (fonts and images too, not compressed).
    for path in ["/static/app.css", "/static/vendor/dsfr-1.15.3/fonts/Marianne-Regular.woff2", "/static/evenement.png"]
    {
        let r = fetch(&app, path, &[("accept-encoding", "br")]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers().contains_key(header::ETAG), "{path}");
    }
    let font =
        fetch(&app, "/static/vendor/dsfr-1.15.3/fonts/Marianne-Regular.woff2", &[("accept-encoding", "br")]).await;
    assert!(font.headers().get(header::CONTENT_ENCODING).is_none(), "woff2 is compressed already");
    // Pages, JSON, CSV and calendars: compressed on the way out.
    for path in ["/", "/evenements", "/api/v1/events", "/api/v1/events.csv", "/api/v1/events.ics", "/sitemap.xml"] {
        let r = fetch(&app, path, &[("accept-encoding", "br")]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()), Some("br"), "{path}");
        assert!(!unbrotli(&bytes(r).await).is_empty());
        let r = fetch(&app, path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(r.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()), Some("gzip"), "{path}");
    }
    // Private answers are not compressed: a secret beside reflected text would leak through the
    // compressed size (BREACH).
    app.organiser("orga@exemple.fr", "Orga").await;
    let cookie = app.login("orga@exemple.fr").await;
    let r = fetch(&app, "/espace", &[("accept-encoding", "br, gzip"), ("cookie", &cookie)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
    let r = fetch(&app, "/evenements", &[("accept-encoding", "br, gzip"), ("cookie", &cookie)]).await;
    assert!(r.headers().get(header::CONTENT_ENCODING).is_none(), "a logged-in person's page is private");
}

#[tokio::test]
async fn search_engines_find_every_labelled_event() {
    let app = TestApp::new().await;
    let ids = labelled(&app, 4).await;
    let r = fetch(&app, "/robots.txt", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let robots = String::from_utf8(bytes(r).await).unwrap();
    for line in [
        "Disallow: /espace",
        "Disallow: /reservations",
        "Disallow: /api/",
        "Sitemap: http://127.0.0.1:8080/sitemap.xml",
    ] {
        assert!(robots.contains(line), "{robots}");
    }
    let r = fetch(&app, "/sitemap.xml", &[]).await;
    assert_eq!(r.headers()[header::CONTENT_TYPE], "application/xml; charset=utf-8");
    let index = String::from_utf8(bytes(r).await).unwrap();
    assert!(index.contains("<loc>http://127.0.0.1:8080/sitemaps/evenements-1.xml</loc>"), "{index}");
    assert!(!index.contains("evenements-2.xml"));
    let file = String::from_utf8(bytes(fetch(&app, "/sitemaps/evenements-1.xml", &[]).await).await).unwrap();
    for id in &ids {
        assert!(file.contains(&format!("<loc>http://127.0.0.1:8080/evenements/{id}</loc>")), "{file}");
    }
    let pages = String::from_utf8(bytes(fetch(&app, "/sitemaps/pages.xml", &[]).await).await).unwrap();
    assert!(pages.contains("<loc>http://127.0.0.1:8080/evenements</loc>"));
    for missing in [
        "/sitemaps/evenements-2.xml",
        "/sitemaps/evenements-0.xml",
        "/sitemaps/x.xml",
        "/sitemaps/evenements-18446744073709551615.xml",
        "/sitemaps/evenements-461168601842739.xml",
        "/sitemaps/evenements-99999999999999999999.xml",
    ] {
        assert_eq!(fetch(&app, missing, &[]).await.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    // Anyone may ask again and again: the files are kept built and gzipped, revalidated by ETag…
    let r = fetch(&app, "/sitemaps/evenements-1.xml", &[("accept-encoding", "gzip")]).await;
    assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
    let etag = r.headers()[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(String::from_utf8(gunzip(&bytes(r).await)).unwrap(), file);
    let r = fetch(&app, "/sitemaps/evenements-1.xml", &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    // …until what is labelled changes: then the new event is listed at once.
    let org = app.company("Fonderie du Rhône").await;
    app.labelled_titles(org.id, app.year, "69003", &["Fonderie ouverte".to_string()]).await;
    app.state.public_changed();
    let r = fetch(&app, "/sitemaps/evenements-1.xml", &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), StatusCode::OK, "a changed file is not « not modified »");
    let file = String::from_utf8(bytes(r).await).unwrap();
    assert_eq!(file.matches("<url>").count(), ids.len() + 1, "{file}");
    // An event's page: description, canonical address, link previews, schema.org's recommended fields.
    let (_, html) = app.get_html(&format!("/evenements/{}", ids[0]), None).await;
    for needle in [
        "<meta name=\"description\" content=\"Découvrez nos ateliers de production.\">".to_string(),
        format!("<link rel=\"canonical\" href=\"http://127.0.0.1:8080/evenements/{}\">", ids[0]),
        "<meta property=\"og:title\" content=\"Verrerie ouverte n° 0\">".to_string(),
        "<meta property=\"og:image\" content=\"http://127.0.0.1:8080/static/evenement.png\">".to_string(),
        "<meta name=\"twitter:card\" content=\"summary_large_image\">".to_string(),
    ] {
        assert!(html.contains(&needle), "{needle}\n{html}");
    }
    let start = html.find("<script type=\"application/ld+json\">").unwrap() + 35;
    let ld: Value = serde_json::from_str(&html[start..start + html[start..].find("</script>").unwrap()]).unwrap();
    let ev = &ld[0];
    assert_eq!(ev["image"][0], "http://127.0.0.1:8080/static/evenement.png");
    assert!(ev["organizer"]["url"].as_str().unwrap().starts_with("http://127.0.0.1:8080/evenements?organisation="));
    assert!(ev["offers"]["validFrom"].is_string(), "{ev}");
    assert_eq!(ev["location"]["address"]["addressRegion"], "Auvergne-Rhône-Alpes");
    // The image is served.
    assert_eq!(fetch(&app, "/static/evenement.png", &[]).await.headers()[header::CONTENT_TYPE], "image/png");
    // Every page has a description; the home page and the unfiltered catalogue their canonical address.
    let (_, home) = app.get_html("/", None).await;
    assert!(home.contains("<meta name=\"description\" content=\"La Semaine de l&#39;industrie"), "{home}");
    assert!(home.contains("<link rel=\"canonical\" href=\"http://127.0.0.1:8080/\">"));
    let (_, filtered) = app.get_html("/evenements?q=verre", None).await;
    assert!(!filtered.contains("rel=\"canonical\""));
}

/// The map's tiles come from one other origin: the security policy allows its images (and nothing
/// else of it), and the map page opens its connection early (the first tiles are what a phone
/// paints last); pages without a map do not.
#[tokio::test]
async fn the_tile_server_is_allowed_and_reached_early_by_the_map_only() {
    let app = TestApp::configured(|c| c.tile_url = si_web::DEFAULT_TILE_URL.to_string()).await;
    labelled(&app, 2).await;
    let preconnect = "<link rel=\"preconnect\" href=\"https://data.geopf.fr\">";
    let r = fetch(&app, "/carte", &[]).await;
    let csp = r.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
    assert!(csp.contains("img-src 'self' data: https://data.geopf.fr;"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    let html = String::from_utf8(bytes(r).await).unwrap();
    assert!(html.contains(preconnect), "{html}");
    for path in ["/evenements", "/"] {
        let html = String::from_utf8(bytes(fetch(&app, path, &[]).await).await).unwrap();
        assert!(!html.contains("preconnect"), "{path}");
    }
    // Without tiles, nothing to allow or reach.
    let app = TestApp::new().await;
    let r = fetch(&app, "/carte", &[]).await;
    assert!(r.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("img-src 'self' data:;"));
    assert!(!String::from_utf8(bytes(r).await).unwrap().contains("preconnect"));
}

#[tokio::test]
async fn people_know_whom_to_write_to() {
    let app = TestApp::new().await;
    let contact = si_web::DEFAULT_CONTACT_EMAIL;
    for path in ["/mentions-legales", "/accessibilite", "/donnees-personnelles", "/"] {
        let (_, html) = app.get_html(path, None).await;
        assert!(html.contains(&format!("href=\"mailto:{contact}\"")), "{path}");
    }
    // The statement is dated by its assessment, not by the day it is read.
    let (_, html) = app.get_html("/accessibilite", None).await;
    assert!(html.contains("Déclaration établie le 6 décembre 2026"), "{html}");
    // Every email says where to write.
    let letter = si_web::mail::Letter {
        subject: "Essai".into(),
        paragraphs: vec!["Bonjour.".into()],
        items: vec![],
        links: vec![],
    }
    .to("x@exemple.fr");
    assert!(letter.text.contains(contact) && letter.html.contains(&format!("mailto:{contact}")));
}

async fn location(app: &TestApp, path: &str, body: &str, cookie: &str) -> (StatusCode, String) {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, cookie)
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.send(req).await;
    let to = resp.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (resp.status(), to)
}

async fn delete(app: &TestApp, path: &str, token: &str) -> StatusCode {
    let req =
        Request::delete(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    app.send(req).await.status()
}

/// A draft can be deleted before it is submitted (site and API), an empty form makes no untitled
/// draft, and each important action says what it did.
#[tokio::test]
async fn drafts_can_be_deleted_and_actions_are_confirmed() {
    let app = TestApp::new().await;
    let token = app.organiser("orga@exemple.fr", "Usine").await;
    let cookie = app.login("orga@exemple.fr").await;
    // API: a draft is deleted, a submitted event is not.
    let (s, draft) =
        app.post_json("/api/v1/me/events", &json!({"edition": app.year, "title": "Essai"}), Some(&token)).await;
    assert_eq!(s, StatusCode::CREATED, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    assert_eq!(delete(&app, &format!("/api/v1/me/events/{id}"), &token).await, StatusCode::NO_CONTENT);
    assert_eq!(app.get_json_auth(&format!("/api/v1/me/events/{id}"), &token).await.0, StatusCode::NOT_FOUND);
    assert_eq!(delete(&app, &format!("/api/v1/me/events/{id}"), &token).await, StatusCode::NOT_FOUND);
    let submitted = app.submitted(&token, &support::complete_event(app.year, "69003")).await;
    assert_eq!(delete(&app, &format!("/api/v1/me/events/{submitted}"), &token).await, StatusCode::CONFLICT);
    let other = app.organiser("autre@exemple.fr", "Autre").await;
    let (_, theirs) =
        app.post_json("/api/v1/me/events", &json!({"edition": app.year, "title": "À eux"}), Some(&other)).await;
    let theirs = theirs["id"].as_i64().unwrap();
    assert_eq!(delete(&app, &format!("/api/v1/me/events/{theirs}"), &token).await, StatusCode::NOT_FOUND);
    // An empty draft is refused, with the field named.
    let (s, body) = app.post_json("/api/v1/me/events", &json!({"edition": app.year}), Some(&token)).await;
    assert_eq!((s, body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("title")), "{body}");
    let (s, html, _) = app.post_form("/espace/evenements/nouveau", "title=&action=save", Some(&cookie)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Donnez au moins un titre pour enregistrer le brouillon."));
    // The site: a deletion is confirmed first.
    let (s, to) =
        location(&app, "/espace/evenements/nouveau", "title=Brouillon+%C3%A0+jeter&action=save", &cookie).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let id: i64 = to.trim_start_matches("/espace/evenements/").split('?').next().unwrap().parse().unwrap();
    let (_, html) = app.get_html(&format!("/espace/evenements/{id}"), Some(&cookie)).await;
    assert!(html.contains("Supprimer le brouillon"));
    let (_, to) = location(&app, &format!("/espace/evenements/{id}/supprimer"), "", &cookie).await;
    assert_eq!(to, format!("/espace/evenements/{id}?confirmer_suppression=1"));
    let (_, html) = app.get_html(&to, Some(&cookie)).await;
    assert!(html.contains("cochez la case de confirmation"));
    let (_, to) = location(&app, &format!("/espace/evenements/{id}/supprimer"), "confirmer=oui", &cookie).await;
    assert_eq!(to, "/espace?supprime=1");
    let (_, html) = app.get_html(&to, Some(&cookie)).await;
    assert!(html.contains("Le brouillon a été supprimé.") && !html.contains("Brouillon à jeter"));
    let (_, html) = app.get_html(&format!("/espace/evenements/{submitted}"), Some(&cookie)).await;
    assert!(!html.contains("Supprimer le brouillon"), "a submitted event offers no deletion");
    // Submitting says when the committee will have decided (the site's submit button lands here).
    let (_, html) = app.get_html(&format!("/espace/evenements/{submitted}?soumis=1"), Some(&cookie)).await;
    assert!(html.contains("Demande soumise au comité de labellisation : il se prononce au plus tard le"), "{html}");
    // A single decision says what it did, with the label number.
    app.person("admin@exemple.fr", "national_admin", None).await;
    let admin = app.login("admin@exemple.fr").await;
    let version = app.version(submitted).await;
    let (_, to) = location(
        &app,
        &format!("/instruction/evenements/{submitted}/decision"),
        &format!("decision=label&version={version}"),
        &admin,
    )
    .await;
    assert_eq!(to, format!("/instruction?decide={submitted}"));
    let (_, html) = app.get_html(&to, Some(&admin)).await;
    assert!(html.contains(&format!("est labellisé sous le numéro SI-{}-", app.year)), "{html}");
}

/// Days still to come are not drawn as days without submissions.
#[tokio::test]
async fn statistics_do_not_count_the_future_as_zero() {
    let app = TestApp::new().await;
    let token = app.organiser("orga@exemple.fr", "Usine").await;
    app.submitted(&token, &support::complete_event(app.year, "69003")).await;
    let (s, html) = app.get_html(&format!("/statistiques?edition={}", app.year), None).await;
    assert_eq!(s, StatusCode::OK);
    // The deadline is weeks away: its day and the days before it are to come.
    assert!(html.contains("<th scope=\"row\">J-0</th><td>à venir</td>"), "{html}");
    let csv = String::from_utf8(bytes(app.get(&format!("/statistiques.csv?edition={}", app.year), None).await).await)
        .unwrap();
    let this_year = format!("{};depots_par_jour;", app.year);
    let days: Vec<&str> = csv.lines().filter(|l| l.starts_with(&this_year)).collect();
    assert!(!days.is_empty() && !days.iter().any(|l| l.contains(";J-0;")), "{csv}");
    // Today's submission is counted on today's line.
    assert!(days.iter().any(|l| l.ends_with(";1")), "{csv}");
    assert!(csv.contains("\r\n"), "CRLF line ends");
}

/// What a demonstration edition produces says so: the letters to organisers, the attestation and
/// the badge (see `kit::tests` for the documents themselves).
#[tokio::test]
async fn a_demonstration_edition_says_so_in_its_letters() {
    let app = TestApp::new().await;
    let mut edition = support::open_edition();
    edition.demo = true;
    app.store.upsert_edition(&edition).await.unwrap();
    let token = app.organiser("orga@exemple.fr", "Usine").await;
    app.deliver().await;
    app.submitted(&token, &support::complete_event(app.year, "69003")).await;
    let sent = app.deliver().await;
    let received = sent.iter().find(|m| m.recipient == "orga@exemple.fr").expect("the receipt");
    assert!(received.subject.starts_with("[Démonstration] "), "{}", received.subject);
    assert!(received.text.contains("édition de démonstration"), "{}", received.text);

    // Its exports say so too: a CSV column, the calendar's summaries; a real edition's do not.
    let org = app.company("Forges de démonstration").await;
    app.labelled_titles(org.id, app.year, "69003", &["Forge de démonstration".to_string()]).await;
    app.labelled_titles(org.id, 2024, "69003", &["Forge réelle".to_string()]).await;
    let csv = support::body_text(app.get("/api/v1/events.csv", None).await).await;
    let header: Vec<&str> = csv.lines().next().unwrap().split(';').collect();
    assert_eq!(header.last(), Some(&"demonstration"));
    let row = |title: &str| csv.lines().find(|l| l.contains(title)).unwrap().to_string();
    assert!(row("Forge de démonstration").ends_with(";true") && row("Forge réelle").ends_with(";false"), "{csv}");
    let ics = support::body_text(app.get("/api/v1/events.ics", None).await).await;
    assert!(
        ics.contains("SUMMARY:[Démonstration] Forge de démonstration") && ics.contains("SUMMARY:Forge réelle"),
        "{ics}"
    );
    let (s, all) = app.get_json("/api/v1/events.json").await;
    assert_eq!(s, StatusCode::OK);
    let marks: Vec<(String, bool)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["title"].as_str().unwrap().to_string(), e["demonstration"].as_bool().unwrap()))
        .collect();
    assert!(marks.contains(&("Forge de démonstration".into(), true)), "{marks:?}");
    assert!(marks.contains(&("Forge réelle".into(), false)), "{marks:?}");
}

/// An organiser places the event's pin; the site form keeps it (it used to drop a pin set through
/// the API at every save) and refuses half a pin or nonsense, keeping what was typed.
#[tokio::test]
async fn the_pin_placed_by_the_organiser_is_kept() {
    let app = TestApp::new().await;
    let token = app.organiser("orga@exemple.fr", "Usine").await;
    let cookie = app.login("orga@exemple.fr").await;
    let mut e = support::complete_event(app.year, "69003");
    e["location"]["lat"] = json!(45.7601);
    e["location"]["lon"] = json!(4.8512);
    let (s, created) = app.post_json("/api/v1/me/events", &e, Some(&token)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (_, html) = app.get_html(&format!("/espace/evenements/{id}"), Some(&cookie)).await;
    assert!(html.contains("id=\"lat\" name=\"lat\" value=\"45.76010\""), "{html}");
    assert!(html.contains("id=\"pin-map\""));
    // Saved again through the site: the pin stays.
    let body = form_of(&html);
    let (s, _) = location(&app, &format!("/espace/evenements/{id}"), &body, &cookie).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let record = app.store.event(id).await.unwrap().unwrap();
    assert_eq!((record.data.location.lat, record.data.location.lon), (Some(45.7601), Some(4.8512)));
    // Moved by hand, with a French decimal comma.
    let moved = body.replace("lat=45.76010", "lat=45%2C75").replace("lon=4.85120", "lon=4.83");
    let (s, _) = location(&app, &format!("/espace/evenements/{id}"), &moved, &cookie).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let record = app.store.event(id).await.unwrap().unwrap();
    assert_eq!((record.data.location.lat, record.data.location.lon), (Some(45.75), Some(4.83)));
    // Half a pin, or a pin off the globe: refused, typed values kept, nothing lost.
    for (lat, lon) in [("45.75", ""), ("quarante", "4.8"), ("95", "4.8")] {
        let bad = body.replace("lat=45.76010", &format!("lat={lat}")).replace("lon=4.85120", &format!("lon={lon}"));
        let (s, html, _) = app.post_form(&format!("/espace/evenements/{id}"), &bad, Some(&cookie)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{lat} {lon}");
        assert!(html.contains("id=\"lat-error\""), "{lat} {lon}");
        assert!(html.contains(&format!("name=\"lat\" value=\"{lat}\"")), "{lat}: typed value kept");
    }
    let record = app.store.event(id).await.unwrap().unwrap();
    assert_eq!(record.data.location.lat, Some(45.75), "nothing lost");
}

/// The fields of the first form of a page (`<form id="event-form">`), as a browser would send them
/// with « Enregistrer ».
fn form_of(html: &str) -> String {
    let start = html.find("id=\"event-form\"").expect("the event form");
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    let unescape = |v: &str| {
        v.replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    };
    let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let mut pairs: Vec<String> = Vec::new();
    for tag in form.split('<').skip(1) {
        let attr = |name: &str| {
            let key = format!(" {name}=\"");
            tag.find(&key).map(|i| {
                let rest = &tag[i + key.len()..];
                unescape(&rest[..rest.find('"').unwrap()])
            })
        };
        let Some(name) = attr("name") else { continue };
        if tag.starts_with("input") {
            let kind = attr("type").unwrap_or_default();
            if (kind == "checkbox" || kind == "radio") && !tag.contains(" checked") {
                continue;
            }
            if kind == "submit" {
                continue;
            }
            pairs.push(format!("{}={}", enc(&name), enc(&attr("value").unwrap_or_default())));
        } else if tag.starts_with("textarea") {
            let text = &tag[tag.find('>').unwrap() + 1..];
            pairs.push(format!("{}={}", enc(&name), enc(&unescape(text))));
        } else if tag.starts_with("select") {
            let rest = &form[form.find(tag).unwrap()..];
            let select = &rest[..rest.find("</select>").unwrap()];
            if let Some(i) = select.find(" selected") {
                let before = &select[..i];
                let v = before.rsplit("value=\"").next().unwrap();
                pairs.push(format!("{}={}", enc(&name), enc(&unescape(&v[..v.find('"').unwrap()]))));
            }
        }
    }
    pairs.push("action=save".into());
    pairs.join("&")
}

/// A class booked on an event of a demonstration edition: the letter, its calendar entry and its
/// confirmation (PDF) say so.
#[tokio::test]
async fn a_demonstration_booking_says_so() {
    let app = TestApp::new().await;
    let mut edition = support::open_edition();
    edition.demo = true;
    app.store.upsert_edition(&edition).await.unwrap();
    let (id, _) = crate::bookings::bookable_event(&app, false).await;
    app.deliver().await;
    let (s, r) = app
        .post_json(
            &format!("/api/v1/events/{id}/sessions/{id}-1/registrations"),
            &crate::bookings::class("classe@ac-lyon.fr", 20, 2),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let sent = app.deliver().await;
    let letter = sent.iter().find(|m| m.recipient == "classe@ac-lyon.fr").expect("the confirmation");
    assert!(letter.subject.starts_with("[Démonstration] Réservation confirmée"), "{}", letter.subject);
    let ics = letter.attachments.iter().find(|a| a.content_type.starts_with("text/calendar")).expect("an .ics");
    assert!(String::from_utf8_lossy(&ics.bytes).contains("SUMMARY:[Démonstration] "));
    let pdf = letter.attachments.iter().find(|a| a.content_type == "application/pdf").expect("a .pdf");
    assert!(
        String::from_utf8_lossy(&pdf.bytes).contains(r"(D\311MONSTRATION \226 SANS VALEUR"),
        "the confirmation too"
    );
}

/// The reviewer's page shows what the decision needs side by side with the decision: the
/// organisation and its number (or its absence), the contact, the place, the sessions, the
/// audiences, the type, free or not, how people register; and no decision is chosen in advance.
#[tokio::test]
async fn the_reviewer_sees_what_the_decision_needs_at_once() {
    let app = TestApp::new().await;
    app.person("admin@dge.fr", "national_admin", None).await;
    let token = app.organiser("orga@exemple.fr", "Association des Forges").await;
    let mut event = support::complete_event(app.year, "69003");
    event["registration"] = json!({"mode": "platform", "capacity": 24});
    event["contact"]["phone"] = json!("04 72 00 00 00");
    let id = app.submitted(&token, &event).await;
    let cookie = app.login("admin@dge.fr").await;
    let (s, html) = app.get_html(&format!("/instruction/evenements/{id}"), Some(&cookie)).await;
    assert_eq!(s, StatusCode::OK);
    let start = html.find("id=\"fiche\"").expect("the facts block");
    let fiche = &html[start..start + html[start..].find("</dl>").unwrap()];
    for needle in [
        "Association des Forges (Association)",
        "Pas de numéro SIRET ou UAI.",
        "contact@usine.fr</a>, 04 72 00 00 00",
        "En présentiel – Usine, 1 rue de l&#39;Industrie, 69003 Lyon (Rhône (69), Auvergne-Rhône-Alpes)",
        "de 9 h 00 à 12 h 00",
        "Scolaires, Jeunes",
        "Visite d&#39;entreprise",
        "oui – accessible aux personnes à mobilité réduite",
        "Inscription sur la plateforme : 24 places par séance",
    ] {
        assert!(fiche.contains(needle), "« {needle} » missing from:\n{fiche}");
    }
    // No decision is preselected: « Décider » alone asks for one.
    assert!(!html.contains("name=\"decision\" value=\"label\" checked"), "no preselected decision");
}
