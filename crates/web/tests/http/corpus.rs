//! The hostile-input corpus: every payload through every text field a person can fill (event fields,
//! sign-up, members, tokens, reasons), then every page, export, feed and email that shows them checked
//! inert. A field either refuses a payload with a 4xx and a French message, or keeps it and every
//! output escapes it for its format. Never a 5xx.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, body_text, complete_event};

/// What attackers type: markup that would run, comment and script-closing tricks, header and
/// calendar injections, NUL, bidirectional overrides, spreadsheet formulas, and a 1 MB string.
fn payloads() -> Vec<String> {
    let mut list: Vec<String> = [
        "<script>alert('xss')</script>",
        "</script><script>alert(2)</script>",
        "<!--<script>",
        "\"><img src=x onerror=alert(3)>",
        "' onmouseover='alert(4)",
        "Ligne\r\nX-Injected: 1",
        "seul\rCR",
        "nul\u{0}octet",
        "\u{202E}evil\u{202C} texte",
        "=HYPERLINK(\"http://evil.example\";\"clic\")",
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "{{ 7*7 }} ${7*7} %0d%0a",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    list.push("x".repeat(1 << 20));
    list
}

/// Markup of a payload that must never reach a page as markup.
const LIVE: &[&str] = &["<script>alert", "<img src=x", "<!--<script>", "</script><script>"];

fn inert_html(what: &str, html: &str) {
    // The JSON-LD block (event pages) is data, not markup: it can neither open nor close an element,
    // and must stay valid JSON; the rest of the page must hold no live markup of the corpus.
    let mut page = html.to_string();
    while let Some(at) = page.find("<script type=\"application/ld+json\">") {
        let start = at + 35;
        let end = start + page[start..].find("</script>").unwrap();
        let block = &page[start..end];
        assert!(!block.contains('<'), "{what}: '<' inside JSON-LD");
        serde_json::from_str::<Value>(block).unwrap_or_else(|e| panic!("{what}: JSON-LD unreadable: {e}"));
        page.replace_range(at..end + 9, "");
    }
    // No element of the page carries an event handler that came from the corpus (an attribute
    // broken out of by a quote).
    for tag in page.split('<').skip(1).map(|t| t.split('>').next().unwrap_or("")) {
        // The tag outside its quoted attribute values: its element name and attribute names.
        let (mut outside, mut quote) = (String::new(), None);
        for c in tag.chars() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, c) => outside.push(c),
                _ => {}
            }
        }
        assert!(!outside.contains("onmouseover=") && !outside.contains("onerror="), "{what}: a handler in <{tag}>");
    }
    for live in LIVE {
        if let Some(at) = page.find(live) {
            let from = page[..at].char_indices().rev().nth(200).map_or(0, |(i, _)| i);
            panic!("{what}: {live:?} reached the page unescaped: …{}…", &page[from..(at + 60).min(page.len())]);
        }
    }
}

/// No cell of a `;`-separated export starts with a formula character.
fn inert_csv(what: &str, csv: &str) {
    let mut reader =
        csv::ReaderBuilder::new().delimiter(b';').has_headers(false).flexible(true).from_reader(csv.as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{what}: a cell starts with a formula character: {cell:?}"
            );
        }
    }
}

fn set(event: &mut Value, path: &[&str], value: &str) {
    let mut at = event;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = json!(value);
}

#[tokio::test]
async fn a_hostile_corpus_through_every_text_field_stays_inert_everywhere() {
    let app = TestApp::new().await;
    let token = app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let orga = app.login("lyon@usine.fr").await;
    let admin_token = app.person("admin@dge.fr", "national_admin", None).await;
    let admin = app.login("admin@dge.fr").await;
    let payloads = payloads();
    let fields: &[&[&str]] = &[
        &["title"],
        &["summary"],
        &["description"],
        &["location", "venue"],
        &["location", "address"],
        &["contact", "phone"],
    ];

    // Event fields, through the API: refused, or kept.
    let (mut tried, mut kept) = (0, Vec::new());
    for p in &payloads {
        for f in fields {
            let mut e = complete_event(app.year, "69001");
            set(&mut e, f, p);
            let (s, r) = app.post_json("/api/v1/me/events", &e, Some(&token)).await;
            tried += 1;
            let what = format!("{f:?} = {:?}", p.chars().take(40).collect::<String>());
            assert!(
                s == StatusCode::CREATED || s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::PAYLOAD_TOO_LARGE,
                "{what}: {s} {r}"
            );
            if s == StatusCode::UNPROCESSABLE_ENTITY {
                assert!(r["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: a message");
            }
            if s == StatusCode::CREATED {
                kept.push(r["id"].as_i64().unwrap());
            }
        }
    }
    // The same fields through the site's form: never a 5xx, what was typed comes back escaped.
    for p in payloads.iter().filter(|p| p.len() < 10_000) {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let body =
            format!("edition={}&title={}&summary={}&description={}&venue={}", app.year, enc(p), enc(p), enc(p), enc(p));
        let (s, html, _) = app.post_form("/espace/evenements/nouveau", &body, Some(&orga)).await;
        tried += 4;
        assert!(!s.is_server_error(), "site form: {s}");
        inert_html("event form", &html);
    }
    assert!(kept.len() >= 20, "a fair share of the corpus is stored, so that outputs are tested: {}", kept.len());

    // Submitted: the reviewer's queue, page and export.
    for id in &kept {
        let (s, r) = app.post_json(&format!("/api/v1/me/events/{id}/submit"), &json!({}), Some(&token)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    let (_, html) = app.get_html("/instruction", Some(&admin)).await;
    inert_html("queue", &html);
    let r = app.get("/instruction/export.csv", Some(&admin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    inert_csv("queue export", &body_text(r).await);
    for id in &kept {
        let (_, html) = app.get_html(&format!("/instruction/evenements/{id}"), Some(&admin)).await;
        inert_html("review page", &html);
    }

    // Labelled through the API (the decision letters go out), then every public output.
    for id in &kept {
        let body = json!({"decision": "label", "version": app.version(*id).await});
        let (s, r) = app.post_json(&format!("/api/v1/review/events/{id}/decision"), &body, Some(&admin_token)).await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    app.state.public_changed();
    for path in [format!("/evenements?edition={}", app.year), "/espace".into(), "/carte".into(), "/widget".into()] {
        let cookie = if path == "/espace" { Some(orga.as_str()) } else { None };
        let (s, html) = app.get_html(&path, cookie).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        inert_html(&path, &html);
    }
    for id in &kept {
        for path in [format!("/evenements/{id}"), format!("/espace/evenements/{id}")] {
            let (s, html) = app.get_html(&path, Some(&orga)).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            inert_html(&path, &html);
        }
        let (s, html) = app.get_html(&format!("/evenements/{id}"), None).await;
        assert_eq!(s, StatusCode::OK);
        inert_html("public event page", &html);
        let r = app.get(&format!("/evenements/{id}/label/badge.svg"), None).await;
        let svg = body_text(r).await;
        inert_html("badge", &svg);
    }
    let r = app.get(&format!("/api/v1/events.csv?edition={}", app.year), None).await;
    inert_csv("public export", &body_text(r).await);
    let r = app.get(&format!("/api/v1/events.ics?edition={}", app.year), None).await;
    let ics = body_text(r).await;
    let cal: icalendar::Calendar = ics.parse().expect("a real parser reads the feed");
    assert_eq!(
        cal.components.iter().filter_map(|c| c.as_event()).count(),
        kept.len(),
        "one VEVENT each, none injected"
    );
    assert!(!ics.lines().any(|l| l.starts_with("X-Injected")), "no injected property");
    assert!(!ics.replace("\r\n", "").contains('\r'), "no bare CR");
    for path in [format!("/api/v1/events?edition={}&per_page=100", app.year), "/api/v1/map".into()] {
        let (s, v) = app.get_json(&path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
    }

    // Account and review forms.
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for (i, p) in payloads.iter().enumerate() {
        let forms = [
            (
                "/inscription".to_string(),
                format!(
                    "name={0}&email=h{i}%40exemple.fr&password=une+phrase+assez+longue&password_confirm=une+phrase+assez+longue\
                     &organisation={0}&kind=association&department=69",
                    enc(p)
                ),
                None,
            ),
            ("/espace/membres".into(), format!("name={}&email=m{i}%40usine.fr", enc(p)), Some(orga.as_str())),
            ("/espace/jetons".into(), format!("name={}&days=30", enc(p)), Some(orga.as_str())),
            ("/admin/motifs".into(), format!("title={0}&body={0}", enc(p)), Some(admin.as_str())),
            ("/espace/compte/adresse".into(), format!("new_email={}&password=x", enc(p)), Some(orga.as_str())),
            (
                "/admin/coordinateurs".into(),
                format!("name={}&email=c{i}%40region.fr&role=regional_coordinator&region=84", enc(p)),
                Some(admin.as_str()),
            ),
            (
                "/admin/editions/nouvelle".into(),
                format!(
                    "year={y}&number=80&theme={}&week_start={y}-11-19&week_end={y}-11-25&eligible_from={y}-11-04\
                     &eligible_to={y}-12-10&opens_at={y}-09-20T00%3A00&deadline={y}-11-13T23%3A59",
                    enc(p),
                    y = 2100 + i
                ),
                Some(admin.as_str()),
            ),
        ];
        for (path, body, cookie) in forms {
            let (s, html, _) = app.post_form(&path, &body, cookie).await;
            tried += 1;
            assert!(!s.is_server_error(), "{path} with {:?}: {s}", p.chars().take(40).collect::<String>());
            inert_html(&path, &html);
        }
    }
    // A decision reason and a revocation reason on a fresh submission.
    let id = app.submitted(&token, &complete_event(app.year, "69001")).await;
    for p in payloads.iter().filter(|p| p.len() < 10_000) {
        let (s, html, _) = app.decide_on_site(id, &format!("decision=request_changes&reason={}", enc(p)), &admin).await;
        tried += 1;
        assert!(!s.is_server_error(), "reason: {s}");
        inert_html("decision", &html);
        if s == StatusCode::SEE_OTHER {
            let (s, r) = app.post_json(&format!("/api/v1/me/events/{id}/submit"), &json!({}), Some(&token)).await;
            assert_eq!(s, StatusCode::OK, "{r}");
        }
    }
    for path in ["/espace/membres", "/espace/jetons", "/espace", "/admin/motifs", "/admin/coordinateurs", "/admin", "/"]
    {
        let cookie = if path.starts_with("/admin") { &admin } else { &orga };
        let (s, html) = app.get_html(path, Some(cookie)).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        inert_html(path, &html);
    }
    let (_, html) = app.get_html(&format!("/instruction/evenements/{id}"), Some(&admin)).await;
    inert_html("audit trail", &html);

    // Every email sent along the way: headers on one line, the HTML part escaped.
    let sent = app.deliver().await;
    assert!(sent.len() >= kept.len(), "decision letters among {} emails", sent.len());
    for m in &sent {
        assert!(!m.subject.contains(['\r', '\n']), "a subject on one line: {:?}", m.subject);
        inert_html(&format!("email « {} »", m.subject), &m.html);
    }
    eprintln!(
        "{} payloads × fields tried, {} events kept and labelled, {} emails checked",
        tried,
        kept.len(),
        sent.len()
    );
}
