//! The whole journey in real headless Chromium (through chromedriver): sign-up → draft → the live
//! conditions panel → submit → an administrator labels → the event is on the public pages, with an
//! axe accessibility check of every page visited and a 320 px phone-width check.
//!
//! Needs `chromedriver` and `chromium` (Debian packages) and axe-core's `axe.min.js`
//! (`scripts/test.sh` installs them). Set `SI_SKIP_BROWSER=1` to skip on purpose; otherwise a missing
//! tool fails the test rather than passing silently.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use si_domain::Role;
use si_store::NewUser;

use crate::support::{TestApp, test_week_start};

/// chromedriver and the Chromium it starts, in a process group of their own, with Chromium's profile.
/// Dropped — at the end of a test, or when it panics before closing its session — it ends the whole
/// group: killing chromedriver alone left Chromium running, its pages' scripts using the processors
/// of every later test and measurement.
struct Driver {
    child: Child,
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/test-tools/node_modules/axe-core/axe.min.js").to_string()
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core not found at {path} ({e}): run scripts/test.sh, or set AXE_CORE_JS"))
}

async fn start_driver() -> (Driver, Client) {
    let port = free_port();
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {bin} ({e}): install chromium and chromium-driver, or set SI_SKIP_BROWSER=1")
        });
    let profile = std::env::temp_dir().join(format!("si-chromium-{port}"));
    let driver = Driver { child, profile: profile.clone() };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display()), "--window-size=1280,1000"]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver session");
    (driver, client)
}

/// Runs axe on the current page and fails with the list of violations.
async fn axe(c: &Client, source: &str) {
    c.execute(source, vec![]).await.expect("inject axe");
    let script = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
          .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' → ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(' | '))))
          .catch(e => done(['axe failed: ' + e]));
    "#;
    let out = c.execute_async(script, vec![]).await.expect("run axe");
    let url = c.current_url().await.unwrap();
    let violations: Vec<String> = serde_json::from_value(out).unwrap();
    assert!(violations.is_empty(), "axe violations on {url}:\n{}", violations.join("\n"));
}

/// Fails when the page scrolls sideways at the current width.
async fn fits_width(c: &Client) {
    let v = c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
    let (scroll, inner) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
    let url = c.current_url().await.unwrap();
    if scroll > inner {
        // Name the deepest elements that stick out, to say what to fix.
        let culprits = c
            .execute(
                "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 \
                 && ![...e.children].some(k => k.getBoundingClientRect().right > window.innerWidth + 1)).slice(0, 5) \
                 .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
                vec![],
            )
            .await
            .unwrap();
        panic!("{url} scrolls sideways on a phone: {scroll} px of content for {inner} px: {culprits}");
    }
}

/// Marks the document on screen, so that a wait after an action can tell the page that action loads
/// from the page it started on. A new document gets a new `window`, without the mark.
async fn mark_page(c: &Client) {
    c.execute("window.__siBefore = true;", vec![]).await.expect("mark the current page");
}

/// Waits for the document loaded since `mark_page` (never the one the action started on), fully
/// loaded, and returns its path.
async fn loaded_page(c: &Client) -> String {
    for _ in 0..150 {
        // While the browser swaps documents a script may fail: that is « not yet », not an error.
        if let Ok(v) = c.execute("return document.readyState === 'complete' && !window.__siBefore;", vec![]).await
            && v.as_bool() == Some(true)
        {
            return c.current_url().await.unwrap().path().to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the action never loaded a new page: still at {}", c.current_url().await.unwrap());
}

/// Clicks what `css` finds and waits for the page that the click loads; returns its path.
async fn click_to_page(c: &Client, css: &str) -> String {
    let e = c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("nothing matches {css}"));
    mark_page(c).await;
    e.click().await.unwrap();
    loaded_page(c).await
}

/// Like `click_to_page`, for a link found by its text.
async fn follow_link(c: &Client, text: &str) -> String {
    let e = c.find(Locator::LinkText(text)).await.unwrap_or_else(|_| panic!("no link « {text} »"));
    mark_page(c).await;
    e.click().await.unwrap();
    loaded_page(c).await
}

async fn wait_text(c: &Client, selector: &str, needle: &str) {
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Css(selector)).await
            && e.text().await.unwrap_or_default().contains(needle)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = c.find(Locator::Css(selector)).await.unwrap().text().await.unwrap();
    panic!("{selector} never said « {needle} »: « {text} »");
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|_| panic!("no #{id}"));
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// DSFR radios and checkboxes hide the native input: people (and we) click the label.
async fn tick(c: &Client, input_id: &str) {
    c.find(Locator::Css(&format!("label[for='{input_id}']"))).await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn the_whole_journey_in_chromium() {
    if std::env::var("SI_SKIP_BROWSER").is_ok() {
        eprintln!("SI_SKIP_BROWSER set: browser journey skipped");
        return;
    }
    let axe_js = axe_source();
    let app = TestApp::new().await;
    app.store
        .create_user(&NewUser {
            email: "admin@dge.fr".into(),
            name: "Administration".into(),
            password_hash: password_auth::generate_hash("mot de passe administrateur"),
            role: Role::NationalAdmin,
            region: None,
            organisation_id: None,
        })
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (_driver, c) = start_driver().await;

    // Home and catalogue, before anything is labelled.
    c.goto(&format!("{base}/")).await.unwrap();
    axe(&c, &axe_js).await;

    // Sign-up.
    c.goto(&format!("{base}/inscription")).await.unwrap();
    axe(&c, &axe_js).await;
    fill(&c, "name", "Camille Martin").await;
    fill(&c, "email", "camille@forges-lyon.fr").await;
    fill(&c, "password", "une longue phrase secrète").await;
    fill(&c, "password_confirm", "une longue phrase secrète").await;
    fill(&c, "organisation", "Forges de Lyon").await;
    c.find(Locator::Id("kind")).await.unwrap().select_by_value("entreprise").await.unwrap();
    c.find(Locator::Id("department")).await.unwrap().select_by_value("69").await.unwrap();
    fill(&c, "identifier", "1234").await;
    assert_eq!(click_to_page(&c, "form button[type=submit]").await, "/inscription");
    // A wrong SIRET: the page says so next to the field, and axe still passes on the error state.
    wait_text(&c, "#identifier-error", "14 chiffres").await;
    axe(&c, &axe_js).await;
    fill(&c, "password", "une longue phrase secrète").await;
    fill(&c, "password_confirm", "une longue phrase secrète").await;
    fill(&c, "identifier", "11002001300014").await;
    assert_eq!(click_to_page(&c, "form button[type=submit]").await, "/inscription");
    wait_text(&c, "main", "Vérifiez votre messagerie").await;
    axe(&c, &axe_js).await;
    // The confirmation link from the email: a page with one button, then the space.
    let sent = app.deliver().await;
    let link = sent[0].text.split_whitespace().find(|w| w.contains("/verification/")).expect("a link").to_string();
    c.goto(&format!("{base}{}", &link[link.find("/verification/").unwrap()..])).await.unwrap();
    axe(&c, &axe_js).await;
    assert_eq!(click_to_page(&c, "#confirm-email").await, "/espace");
    wait_text(&c, "main", "adresse électronique est confirmée").await;
    axe(&c, &axe_js).await;

    // A new event: the conditions panel starts with what is missing.
    assert_eq!(follow_link(&c, "Nouvel événement").await, "/espace/evenements/nouveau");
    axe(&c, &axe_js).await;
    wait_text(&c, "#conditions-list li[data-code='audiences']", "non remplie").await;
    fill(&c, "title", "Visite de l'usine de moteurs").await;
    fill(&c, "summary", "Découvrez nos ateliers de production.").await;
    fill(&c, "description", "Visite des ateliers d'usinage et de soudure avec nos techniciens.").await;
    c.find(Locator::Id("type")).await.unwrap().select_by_value("visite_entreprise").await.unwrap();
    tick(&c, "format-presentiel").await;
    let day = test_week_start() + chrono::Duration::days(1);
    c.execute(
        "document.getElementById('session-start-0').value = arguments[0]; document.getElementById('session-end-0').value = arguments[1];\
         document.getElementById('session-end-0').dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(format!("{day}T09:00")), json!(format!("{day}T12:00"))],
    )
    .await
    .unwrap();
    fill(&c, "postal_code", "69800").await;
    // The postal code fills the commune by itself.
    for _ in 0..50 {
        let v = c.find(Locator::Id("commune_code")).await.unwrap().prop("value").await.unwrap().unwrap_or_default();
        if v == "69290" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tick(&c, "audience-scolaires").await;
    wait_text(&c, "#conditions-list li[data-code='audiences']", "remplie. Ouvert à").await;
    tick(&c, "free-oui").await;
    tick(&c, "industry_objective").await;
    tick(&c, "accessible-oui").await;
    fill(&c, "contact_email", "visites@forges-lyon.fr").await;
    // Bookings on the platform: 30 seats per session, a waiting list.
    tick(&c, "registration-platform").await;
    fill(&c, "registration_capacity", "30").await;
    tick(&c, "registration_waitlist").await;
    // Live: every condition met before anything is saved.
    wait_text(&c, "#conditions-summary", "Toutes les conditions sont remplies").await;
    let path = click_to_page(&c, "#save-draft").await;
    assert!(path.strip_prefix("/espace/evenements/").is_some_and(|id| id.parse::<i64>().is_ok()), "{path}");
    wait_text(&c, "main", "Brouillon enregistré").await;
    assert_eq!(
        c.find(Locator::Id("commune_code")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("69290")
    );
    axe(&c, &axe_js).await;
    let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(click_to_page(&c, "#submit-event").await, path);
    wait_text(&c, "main", "Soumis, en cours d'instruction").await;
    wait_text(&c, "main", "Demande soumise au comité de labellisation : il se prononce au plus tard le").await;
    axe(&c, &axe_js).await;

    // Log out, log in as the administrator.
    log_out(&c).await;
    c.goto(&format!("{base}/connexion")).await.unwrap();
    axe(&c, &axe_js).await;
    fill(&c, "email", "admin@dge.fr").await;
    fill(&c, "password", "mot de passe administrateur").await;
    assert_eq!(click_to_page(&c, "form button[type=submit]").await, "/instruction");
    axe(&c, &axe_js).await;
    assert_eq!(follow_link(&c, "Visite de l'usine de moteurs").await, format!("/instruction/evenements/{id}"));
    wait_text(&c, "main", "Signal « industrie »").await;
    axe(&c, &axe_js).await;
    // Refusing without a reason is refused, with the reason why.
    tick(&c, "decision-refuse").await;
    click_to_page(&c, "#decide").await;
    wait_text(&c, "main", "Indiquez le motif").await;
    axe(&c, &axe_js).await;
    tick(&c, "decision-label").await;
    assert_eq!(click_to_page(&c, "#decide").await, "/instruction");
    wait_text(&c, "main", "Aucune demande en attente").await;

    // The public: search from the home page (what and where), filter, the map, the event, the calendar.
    c.goto(&format!("{base}/")).await.unwrap();
    fill(&c, "accueil-q", "moteur").await;
    fill(&c, "accueil-near", "69003").await;
    assert_eq!(click_to_page(&c, "form[action='/evenements'] button[type=submit]").await, "/evenements");
    // The default edition is the newest with labelled events: this one.
    wait_text(&c, "main", "Visite de l'usine de moteurs").await;
    wait_text(&c, "main", "à ").await;
    axe(&c, &axe_js).await;
    c.find(Locator::Id("f-region")).await.unwrap().select_by_value("84").await.unwrap();
    assert_eq!(click_to_page(&c, "form.si-filters button[type=submit]").await, "/evenements");
    assert!(c.current_url().await.unwrap().query().unwrap_or_default().contains("region=84"));
    wait_text(&c, "main", "1 événement labellisé").await;
    assert_eq!(follow_link(&c, "Voir sur une carte").await, "/carte");
    for _ in 0..100 {
        if !c.find_all(Locator::Css("#carte .leaflet-marker-icon")).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    axe(&c, &axe_js).await;
    let marker = c.find(Locator::Css("#carte .leaflet-marker-icon")).await.expect("a marker on the map");
    assert_eq!(marker.attr("title").await.unwrap().as_deref(), Some("Visite de l'usine de moteurs"));
    marker.click().await.unwrap();
    // The popup gives date, place and audiences once its preview has loaded.
    wait_text(&c, ".leaflet-popup-content .si-popup", "Scolaires").await;
    axe(&c, &axe_js).await;
    assert_eq!(click_to_page(&c, ".leaflet-popup-content .si-popup a").await, format!("/evenements/{id}"));
    wait_text(&c, "main", &format!("SI-{}-00001", app.year)).await;
    // (The badge is upper-cased by the DSFR's style: its text, not its rendering, is checked.)
    let text = c.execute("return document.querySelector('main').textContent;", vec![]).await.unwrap();
    assert!(text.as_str().unwrap().contains("30 places restantes"), "{text}");
    assert!(c.find(Locator::Css(&format!("a[href='/evenements/{id}/reserver/1']"))).await.is_ok(), "« Réserver »");
    axe(&c, &axe_js).await;
    let href = c.find(Locator::LinkText("Ajouter à mon agenda")).await.unwrap().attr("href").await.unwrap().unwrap();
    let ics = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
            vec![json!(href)],
        )
        .await
        .unwrap();
    assert!(ics.as_str().unwrap().starts_with("BEGIN:VCALENDAR"), "{ics}");

    c.goto(&format!("{base}/statistiques?edition={}", app.year)).await.unwrap();
    wait_text(&c, "main", "Par région").await;
    axe(&c, &axe_js).await;

    // Re-users: the open-data page with the widget configurator and its preview, and the widget.
    c.goto(&format!("{base}/donnees?widget=1&region=84")).await.unwrap();
    wait_text(&c, "main", "Code à copier").await;
    axe(&c, &axe_js).await;
    c.goto(&format!("{base}/widget?region=84&edition={}", app.year)).await.unwrap();
    wait_text(&c, "main", "Visite de l'usine de moteurs").await;
    axe(&c, &axe_js).await;

    // A 320 px phone: nothing scrolls sideways.
    c.set_window_size(320, 740).await.unwrap();
    for path in [
        "/".to_string(),
        format!("/evenements?edition={}", app.year),
        format!("/evenements/{id}"),
        "/inscription".into(),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        fits_width(&c).await;
    }
    // On a phone the catalogue's filters are folded behind « Filtrer »: the results come first.
    c.goto(&format!("{base}/evenements?edition={}&region=84", app.year)).await.unwrap();
    let button = c.find(Locator::Id("filtrer")).await.unwrap();
    assert_eq!(button.text().await.unwrap(), "Filtrer (1 actif)");
    assert!(!c.find(Locator::Id("f-q")).await.unwrap().is_displayed().await.unwrap(), "folded");
    // Folded by the style sheet from the first paint (static/early.js marks <html> in <head>), not by
    // a script run after it: nothing moves while the page loads (Lighthouse saw 0.48 of layout shift
    // when the filters folded after the first paint).
    let html_class = c.execute("return document.documentElement.className;", vec![]).await.unwrap();
    assert!(html_class.as_str().unwrap().contains("si-js"), "{html_class}");
    let shift = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; let total = 0; \
             new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) total += e.value; }) \
               .observe({type: 'layout-shift', buffered: true}); \
             setTimeout(() => done(total), 300);",
            vec![],
        )
        .await
        .unwrap();
    assert!(shift.as_f64().unwrap() < 0.05, "layout shift while loading: {shift}");
    let top = |css: &'static str| {
        let c = c.clone();
        async move {
            let v = c
                .execute(&format!("return document.querySelector('{css}').getBoundingClientRect().top;"), vec![])
                .await;
            v.unwrap().as_f64().unwrap()
        }
    };
    assert!(top(".si-results .fr-card").await < 740.0, "a result within the first screen");
    axe(&c, &axe_js).await;
    button.click().await.unwrap();
    assert!(c.find(Locator::Id("f-q")).await.unwrap().is_displayed().await.unwrap(), "unfolded");
    assert_eq!(button.attr("aria-expanded").await.unwrap().as_deref(), Some("true"));
    axe(&c, &axe_js).await;
    c.set_window_size(1280, 1000).await.unwrap();
    c.goto(&format!("{base}/evenements?edition={}", app.year)).await.unwrap();
    assert!(!c.find(Locator::Id("filtrer")).await.unwrap().is_displayed().await.unwrap(), "no button on a wide screen");
    assert!(c.find(Locator::Id("f-q")).await.unwrap().is_displayed().await.unwrap());
    c.close().await.unwrap();
}

async fn log_in(c: &Client, base: &str, email: &str, password: &str, landing: &str) {
    c.goto(&format!("{base}/connexion?suivant={landing}")).await.unwrap();
    fill(c, "email", email).await;
    fill(c, "password", password).await;
    assert_eq!(click_to_page(c, "form[action='/connexion'] button[type=submit]").await, landing);
}

async fn log_out(c: &Client) {
    assert_eq!(click_to_page(c, "form[action='/deconnexion'] button").await, "/");
}

/// A coordinator's day and the administrator's and organiser's pages of the review process, in
/// Chromium: ten clean submissions labelled from the queue in three actions (filter, select all,
/// label) with the keyboard, a change to a labelled event decided on its before/after view, the
/// administration pages, the organiser's label kit; axe on every page, 320 px on the busiest.
#[tokio::test]
async fn the_review_day_in_chromium() {
    if std::env::var("SI_SKIP_BROWSER").is_ok() {
        eprintln!("SI_SKIP_BROWSER set: browser review day skipped");
        return;
    }
    let axe_js = axe_source();
    let app = TestApp::new().await;
    app.person("admin@dge.fr", "national_admin", None).await;
    app.person("ara@region.fr", "regional_coordinator", Some("84")).await;
    let lyon = app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let trades = [
        "usinage",
        "soudure",
        "chaudronnerie",
        "maintenance",
        "robotique",
        "plasturgie",
        "fonderie",
        "électronique",
        "logistique",
        "contrôle qualité",
    ];
    let mut clean = Vec::new();
    for (i, trade) in trades.iter().enumerate() {
        let mut e = crate::support::complete_event(app.year, "69001");
        let day = test_week_start() + chrono::Duration::days((i % 5) as i64);
        e["title"] = json!(format!("Atelier découverte : les métiers de la {trade}"));
        e["sessions"] = json!([{"start": format!("{day}T{:02}:00", 8 + i), "end": format!("{day}T{:02}:30", 8 + i)}]);
        clean.push(app.submitted(&lyon, &e).await);
    }
    let mut weak = crate::support::complete_event(app.year, "38000");
    weak["title"] = json!("Après-midi jeux de société");
    weak["summary"] = json!("Un moment convivial.");
    weak["description"] = json!("Jeux de société et goûter pour les jeunes du quartier.");
    let weak_id = app.submitted(&lyon, &weak).await;
    // A labelled event whose organiser changed the title: waiting in the queue as a change.
    let changed = app.submitted(&lyon, &crate::support::complete_event(app.year, "69800")).await;
    let admin_id = app.store.user_by_email("admin@dge.fr").await.unwrap().unwrap().id;
    app.store.decide(changed, admin_id, si_store::Decision::Label, None, chrono::Utc::now(), 2).await.unwrap();
    let mut retitled = crate::support::complete_event(app.year, "69800");
    retitled["title"] = json!("Visite de l'usine de moteurs électriques");
    assert_eq!(
        app.put_json(&format!("/api/v1/me/events/{changed}"), &retitled, &lyon).await.0,
        axum::http::StatusCode::OK
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (_driver, c) = start_driver().await;

    // The coordinator's queue.
    log_in(&c, &base, "ara@region.fr", "mot de passe de test", "/instruction").await;
    wait_text(&c, "main", "12 demandes en attente").await;
    axe(&c, &axe_js).await;
    // Action 1: only the submissions without alerts.
    assert_eq!(click_to_page(&c, "#clean-only").await, "/instruction");
    wait_text(&c, "#list-title", "10 demandes correspondent").await;
    axe(&c, &axe_js).await;
    // Actions 2 and 3, with the keyboard: « select all » (space), then « Labelliser la sélection » (enter).
    let all = c.find(Locator::Id("select-all")).await.expect("the select-all box, shown when scripts run");
    c.execute("document.getElementById('select-all').focus();", vec![]).await.unwrap();
    all.send_keys(" ").await.unwrap();
    let ticked = c
        .execute("return [...document.querySelectorAll('input.si-select')].filter(b => b.checked).length;", vec![])
        .await
        .unwrap();
    assert_eq!(ticked.as_i64(), Some(10));
    let bulk = c.find(Locator::Id("bulk-label")).await.unwrap();
    mark_page(&c).await;
    bulk.send_keys("\u{E007}").await.unwrap();
    loaded_page(&c).await;
    wait_text(&c, "#bulk-outcome", "10 événements labellisés").await;
    axe(&c, &axe_js).await;
    for id in &clean {
        assert_eq!(app.store.event(*id).await.unwrap().unwrap().moderation, si_domain::Moderation::Labelled);
    }
    assert_eq!(app.store.event(weak_id).await.unwrap().unwrap().moderation, si_domain::Moderation::Submitted);
    // The change, on its before/after view.
    c.goto(&format!("{base}/instruction?modifications=1")).await.unwrap();
    let link = format!("a[href='/instruction/evenements/{changed}']");
    assert_eq!(click_to_page(&c, &link).await, format!("/instruction/evenements/{changed}"));
    wait_text(&c, "main", "Modification demandée : avant / après").await;
    axe(&c, &axe_js).await;
    // No decision is chosen for the reviewer: « Décider » alone asks for one, keeping the page.
    assert_eq!(click_to_page(&c, "#decide").await, format!("/instruction/evenements/{changed}/decision"));
    wait_text(&c, "main", "Choisissez une décision").await;
    axe(&c, &axe_js).await;
    tick(&c, "decision-label").await;
    // The decision is written before the queue comes back: wait for that page, not the one we are on.
    assert_eq!(click_to_page(&c, "#decide").await, "/instruction");
    wait_text(&c, "#decision-outcome", "labellisé sous le numéro").await;
    assert_eq!(app.store.event(changed).await.unwrap().unwrap().data.title, "Visite de l'usine de moteurs électriques");
    // The weak one: its detail page with the reason templates.
    c.goto(&format!("{base}/instruction/evenements/{weak_id}")).await.unwrap();
    wait_text(&c, "main", "Motif type").await;
    axe(&c, &axe_js).await;
    c.set_window_size(320, 740).await.unwrap();
    c.goto(&format!("{base}/instruction")).await.unwrap();
    fits_width(&c).await;
    // The queue as stacked cards, each value named by its column, nothing scrolling sideways in the table.
    let v = c
        .execute(
            "const t = document.querySelector('.si-stack table'); const d = t.querySelector('td[data-label]'); \
             return [getComputedStyle(d).display, getComputedStyle(d, '::before').content, t.scrollWidth <= t.clientWidth + 1];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(v[0], "block", "{v}");
    assert!(v[1].as_str().unwrap().contains(" : "), "{v}");
    assert_eq!(v[2], true, "the queue's table scrolls sideways: {v}");
    axe(&c, &axe_js).await;
    c.set_window_size(1280, 1000).await.unwrap();
    c.goto(&format!("{base}/instruction")).await.unwrap();
    log_out(&c).await;

    // The national administrator: the national queue and the administration pages.
    log_in(&c, &base, "admin@dge.fr", "mot de passe de test", "/instruction").await;
    wait_text(&c, "main", "Demandes en attente par région").await;
    axe(&c, &axe_js).await;
    for (path, text) in [
        ("/admin".to_string(), "Éditions"),
        (format!("/admin/editions/{}", app.year), "Dates propres à une région"),
        ("/admin/editions/nouvelle".to_string(), "Nouvelle édition"),
        ("/admin/coordinateurs".to_string(), "Inviter une personne"),
        ("/admin/motifs".to_string(), "Nouveau motif type"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_text(&c, "main", text).await;
        axe(&c, &axe_js).await;
    }
    // An edition with an error: the error state passes axe too.
    c.goto(&format!("{base}/admin/editions/{}", app.year)).await.unwrap();
    fill(&c, "eligible_from", "").await;
    click_to_page(&c, "#save-edition").await;
    wait_text(&c, "main", "L'édition n'est pas enregistrée").await;
    axe(&c, &axe_js).await;
    log_out(&c).await;

    // The organiser: the label kit and the public status.
    log_in(&c, &base, "lyon@usine.fr", "mot de passe de test", "/espace").await;
    wait_text(&c, "main", "Attestation").await;
    axe(&c, &axe_js).await;
    c.goto(&format!("{base}/espace/evenements/{}", clean[0])).await.unwrap();
    wait_text(&c, "#label-kit", "Votre kit de labellisation").await;
    wait_text(&c, "#history", "Labellisation").await;
    axe(&c, &axe_js).await;
    let pdf = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
            vec![json!(format!("/evenements/{}/label/attestation.pdf", clean[0]))],
        )
        .await
        .unwrap();
    assert!(pdf.as_str().unwrap().starts_with("%PDF-1.4"));
    // A new title on the site form: to the committee, the public keeps the labelled one.
    fill(&c, "title", "Atelier découverte : les métiers de l'usinage de précision").await;
    assert_eq!(click_to_page(&c, "#save-changes").await, format!("/espace/evenements/{}", clean[0]));
    wait_text(&c, "main", "Modification envoyée au comité").await;
    wait_text(&c, "#label-kit", "Une modification attend la décision du comité").await;
    axe(&c, &axe_js).await;
    let r = app.store.event(clean[0]).await.unwrap().unwrap();
    assert_eq!(r.pending.unwrap().title, "Atelier découverte : les métiers de l'usinage de précision");
    assert_eq!(r.data.title, "Atelier découverte : les métiers de la usinage");
    c.set_window_size(320, 740).await.unwrap();
    fits_width(&c).await;
    c.set_window_size(1280, 1000).await.unwrap();
    log_out(&c).await;
    c.goto(&format!("{base}/mot-de-passe-oublie")).await.unwrap();
    axe(&c, &axe_js).await;
    // API tokens: a new one shown once, with axe on the page and on its error state.
    log_in(&c, &base, "lyon@usine.fr", "mot de passe de test", "/espace").await;
    assert_eq!(follow_link(&c, "Jetons d'API").await, "/espace/jetons");
    wait_text(&c, "main", "Nouveau jeton").await;
    axe(&c, &axe_js).await;
    assert_eq!(click_to_page(&c, "#create-token").await, "/espace/jetons");
    wait_text(&c, "#name-error", "Nommez ce jeton").await;
    axe(&c, &axe_js).await;
    fill(&c, "name", "Intégration SIRH").await;
    click_to_page(&c, "#create-token").await;
    wait_text(&c, "main", "Jeton créé").await;
    axe(&c, &axe_js).await;
    // The organisation's members and the person's account: axe on each page and its error state,
    // and nothing scrolls sideways on a phone.
    c.goto(&format!("{base}/espace")).await.unwrap();
    assert_eq!(follow_link(&c, "Membres de l'organisation").await, "/espace/membres");
    axe(&c, &axe_js).await;
    assert_eq!(click_to_page(&c, "#invite").await, "/espace/membres");
    wait_text(&c, "#email-error", "adresse électronique valide").await;
    axe(&c, &axe_js).await;
    c.set_window_size(320, 740).await.unwrap();
    fits_width(&c).await;
    c.set_window_size(1280, 1000).await.unwrap();
    c.goto(&format!("{base}/espace")).await.unwrap();
    assert_eq!(follow_link(&c, "Mon compte").await, "/espace/compte");
    axe(&c, &axe_js).await;
    assert_eq!(click_to_page(&c, "#change-password").await, "/espace/compte/mot-de-passe");
    wait_text(&c, "#new_password-error", "12 caractères").await;
    axe(&c, &axe_js).await;
    c.set_window_size(320, 740).await.unwrap();
    fits_width(&c).await;
    c.close().await.unwrap();
}

/// The teacher's journey and the organiser's, in Chromium: find a visit with seats for 31 near a
/// postal code → its page → the booking form (refused, errors kept) → booked → the secret link's page
/// → a smaller group; then the organiser's bookings, attendance sheet and report, a participant's
/// questionnaire, a coordinator's reports and the statistics. axe on every page, 320 px on the
/// teacher's pages.
#[tokio::test]
async fn a_teacher_books_in_chromium() {
    if std::env::var("SI_SKIP_BROWSER").is_ok() {
        eprintln!("SI_SKIP_BROWSER set: browser journey skipped");
        return;
    }
    let axe_js = axe_source();
    let (app, clock) = TestApp::new().await.at(chrono::Utc::now());
    let (id, _) = crate::bookings::bookable_event(&app, true).await;
    app.person("coord-ara@region.fr", "regional_coordinator", Some("84")).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (_driver, c) = start_driver().await;

    // Finding a visit for a class of 31 near Lyon.
    c.goto(&format!("{base}/evenements?edition={}&near=69001&places=31", app.year)).await.unwrap();
    wait_text(&c, "main", "Réservation : 40 places restantes").await;
    axe(&c, &axe_js).await;
    assert_eq!(click_to_page(&c, &format!("a[href='/evenements/{id}']")).await, format!("/evenements/{id}"));
    axe(&c, &axe_js).await;
    assert_eq!(
        click_to_page(&c, &format!("a[href='/evenements/{id}/reserver/1']")).await,
        format!("/evenements/{id}/reserver/1")
    );
    axe(&c, &axe_js).await;
    // Refused: the acknowledgement is missing; what was typed stays.
    tick(&c, "kind-classe").await;
    fill(&c, "uai", "0750655E").await;
    fill(&c, "school", "Collège Jean Moulin").await;
    c.find(Locator::Id("level")).await.unwrap().select_by_value("college").await.unwrap();
    fill(&c, "pupils", "28").await;
    fill(&c, "adults", "3").await;
    fill(&c, "phone", "04 72 00 00 00").await;
    fill(&c, "name", "Claire Martin").await;
    fill(&c, "email", "claire@ac-lyon.fr").await;
    assert_eq!(click_to_page(&c, "#book").await, format!("/evenements/{id}/reserver/1"));
    wait_text(&c, "#acknowledged-error", "consignes de sécurité").await;
    let kept = c.find(Locator::Id("school")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Collège Jean Moulin"));
    axe(&c, &axe_js).await;
    tick(&c, "acknowledged").await;
    let page = click_to_page(&c, "#book").await;
    assert!(page.starts_with("/reservations/"), "{page}");
    wait_text(&c, "main", "Réservation enregistrée").await;
    axe(&c, &axe_js).await;
    let manage = c.current_url().await.unwrap();
    // A smaller group.
    fill(&c, "pupils", "24").await;
    assert!(click_to_page(&c, "#resize").await.starts_with("/reservations/"));
    wait_text(&c, "main", "Réservation modifiée : 27 places").await;
    axe(&c, &axe_js).await;
    // Two more classes fill the session; a third waits. The teacher cancels: the waiting class gets
    // the seats.
    let path = format!("/api/v1/events/{id}/sessions/1/registrations");
    let class = |email: &str, pupils: u32| {
        json!({"kind": "classe", "uai": "0750655E", "school": "Lycée", "level": "seconde", "pupils": pupils,
               "adults": 1, "phone": "0400000000", "name": "Enseignant", "email": email, "acknowledged": true})
    };
    let (_, second) = app.post_json(&path, &class("second@ac-lyon.fr", 12), None).await;
    assert_eq!(second["status"], "confirmed", "{second}");
    let (_, third) = app.post_json(&path, &class("third@ac-lyon.fr", 4), None).await;
    assert_eq!(third["status"], "waitlisted", "{third}");
    c.goto(manage.as_str()).await.unwrap();
    assert!(click_to_page(&c, "#cancel").await.starts_with("/reservations/"));
    wait_text(&c, "main", "Réservation annulée").await;
    axe(&c, &axe_js).await;
    let third_token = third["manage_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let (_, t) = app.get_json(&format!("/api/v1/registrations/{third_token}")).await;
    assert_eq!(t["status"], "confirmed", "the waiting class was promoted: {t}");
    // The teacher's pages on a phone.
    c.set_window_size(320, 740).await.unwrap();
    for url in [format!("{base}/evenements/{id}/reserver/1"), manage.to_string(), format!("{base}/evenements/{id}")] {
        c.goto(&url).await.unwrap();
        fits_width(&c).await;
    }
    c.set_window_size(1280, 1000).await.unwrap();

    // The organiser: bookings, attendance sheet, report.
    log_in(&c, &base, "visites@usine.fr", "mot de passe de test", &format!("/espace/evenements/{id}/reservations"))
        .await;
    wait_text(&c, "main", "Lycée").await;
    axe(&c, &axe_js).await;
    c.goto(&format!("{base}/espace/evenements/{id}/feuille")).await.unwrap();
    wait_text(&c, "main", "Feuille d'émargement").await;
    axe(&c, &axe_js).await;
    c.goto(&format!("{base}/espace/evenements/{id}/bilan")).await.unwrap();
    axe(&c, &axe_js).await;
    fill(&c, "participants", "27").await;
    fill(&c, "girls", "30").await;
    assert_eq!(click_to_page(&c, "#save-report").await, format!("/espace/evenements/{id}/bilan"));
    wait_text(&c, "#girls-error", "ne peut pas dépasser").await;
    axe(&c, &axe_js).await;
    fill(&c, "girls", "13").await;
    fill(&c, "classes", "1").await;
    fill(&c, "schools", "1").await;
    assert_eq!(click_to_page(&c, "#save-report").await, format!("/espace/evenements/{id}/bilan"));
    wait_text(&c, "main", "Bilan enregistré").await;
    log_out(&c).await;

    // A participant answers on the day of the visit.
    let day = test_week_start() + chrono::Duration::days(1);
    clock.set(day.and_hms_opt(14, 0, 0).unwrap().and_utc());
    c.goto(&format!("{base}/avis/{id}")).await.unwrap();
    axe(&c, &axe_js).await;
    tick(&c, "before-2").await;
    tick(&c, "after-4").await;
    tick(&c, "career-peut_etre").await;
    assert_eq!(click_to_page(&c, "#send-feedback").await, format!("/avis/{id}"));
    wait_text(&c, "main", "Merci").await;
    axe(&c, &axe_js).await;

    // The coordinator's reports and the statistics.
    log_in(&c, &base, "coord-ara@region.fr", "mot de passe de test", "/instruction/bilans").await;
    wait_text(&c, "main", "13 (48,1 %)").await;
    axe(&c, &axe_js).await;
    c.goto(&format!("{base}/statistiques?edition={}", app.year)).await.unwrap();
    wait_text(&c, "#participation + p + div", "48,1 %").await;
    axe(&c, &axe_js).await;
    c.close().await.unwrap();
}

/// The national map in Chromium: with more events than the map loads at once, it shows counts by
/// cells (not thousands of markers), a cell is reached with the keyboard and zooms in on Enter, and
/// once zoomed in the markers of the view are read (`bbox`). Axe on each state.
#[tokio::test]
async fn the_national_map_in_chromium() {
    if std::env::var("SI_SKIP_BROWSER").is_ok() {
        eprintln!("SI_SKIP_BROWSER set: browser map skipped");
        return;
    }
    let axe_js = axe_source();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Tiles as a deployment has them (with their attribution control), served here by the platform
    // itself: no test reaches the network.
    let tiles = format!("{base}/static/evenement.png?z={{z}}&x={{x}}&y={{y}}");
    let app = TestApp::configured(|c| c.tile_url = tiles).await;
    let org = app.company("Usines de France").await;
    let titles = |city: &str, n: usize| (0..n).map(|i| format!("Visite {city} {i}")).collect::<Vec<_>>();
    app.labelled_titles(org.id, app.year, "69001", &titles("Lyon", 1_500)).await;
    app.labelled_titles(org.id, app.year, "13001", &titles("Marseille", 600)).await;
    app.labelled_titles(org.id, app.year, "29200", &["Fonderie de Brest".to_string()]).await;
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (_driver, c) = start_driver().await;

    c.goto(&format!("{base}/carte?edition={}", app.year)).await.unwrap();
    let count = |css: &'static str| {
        let c = c.clone();
        async move { c.find_all(Locator::Css(css)).await.unwrap().len() }
    };
    for _ in 0..100 {
        if count("#carte .marker-cluster").await >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Three places: two cells with their counts, Brest's event as a marker of its own.
    assert_eq!(count("#carte .marker-cluster").await, 2);
    assert_eq!(count("#carte .leaflet-marker-icon").await, 3, "not 2,101 markers");
    let lyon = c.find(Locator::Css("#carte .marker-cluster[aria-label*='500 événements']")).await.expect("Lyon's cell");
    assert_eq!(lyon.attr("tabindex").await.unwrap().as_deref(), Some("0"));
    assert!(c.find(Locator::Css("#carte .leaflet-marker-icon[title='Fonderie de Brest']")).await.is_ok());
    assert!(c.find(Locator::Css("#carte .leaflet-tile")).await.is_ok(), "tiles drawn");
    assert!(c.find(Locator::Css("#carte .leaflet-control-attribution a")).await.is_ok(), "attribution shown");
    // Axe judges colours only on screen: the attribution's links, at the map's foot, in view.
    c.execute("document.querySelector('#carte .leaflet-control-attribution').scrollIntoView({block: 'end'});", vec![])
        .await
        .unwrap();
    // The attribution's links sit in a line of text: underlined, not told apart by colour alone
    // (RGAA 10.6; axe can only leave them « to review » because of Leaflet's flag image).
    let plain = c
        .execute(
            "return [...document.querySelectorAll('#carte .leaflet-control-attribution a')] \
             .filter(a => !getComputedStyle(a).textDecorationLine.includes('underline')).map(a => a.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(plain, serde_json::json!([]), "attribution links without underline");
    axe(&c, &axe_js).await;

    // Enter on a cell zooms in on it, until the markers of the view are read.
    let zoom = || {
        let c = c.clone();
        async move {
            c.execute("return window.performance.getEntriesByType('resource').map(e => e.name);", vec![]).await.unwrap()
        }
    };
    for _ in 0..4 {
        let Ok(cell) = c.find(Locator::Css("#carte .marker-cluster[aria-label*='500 événements']")).await else {
            break;
        };
        cell.send_keys("\u{E007}").await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let mut read = Vec::new();
    for _ in 0..50 {
        read = serde_json::from_value::<Vec<String>>(zoom().await).unwrap();
        if read.iter().any(|u| u.contains("/api/v1/map?") && u.contains("bbox=")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(read.iter().any(|u| u.contains("/api/v1/map/clusters?") && u.contains("zoom=7")), "{read:?}");
    assert!(read.iter().any(|u| u.contains("/api/v1/map?") && u.contains("bbox=")), "markers once zoomed in: {read:?}");
    assert!(!read.iter().any(|u| u.contains("/api/v1/map?") && !u.contains("bbox=")), "never every marker: {read:?}");
    axe(&c, &axe_js).await;
}
