//! The whole journey in real headless Chromium (through chromedriver): sign-up → draft → the live
//! conditions panel → submit → an administrator labels → the event is on the public pages, with an
//! axe accessibility check of every page visited and a 320 px phone-width check.
//!
//! Needs `chromedriver` and `chromium` (Debian packages) and axe-core's `axe.min.js`
//! (`scripts/test.sh` installs them). Set `SI_SKIP_BROWSER=1` to skip on purpose; otherwise a missing
//! tool fails the test rather than passing silently.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use si_domain::Role;
use si_store::NewUser;

use crate::support::{TestApp, test_week_start};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {bin} ({e}): install chromium and chromium-driver, or set SI_SKIP_BROWSER=1")
        });
    let driver = Driver(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = std::env::temp_dir().join(format!("si-chromium-{port}"));
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
    assert!(scroll <= inner, "{url} scrolls sideways on a phone: {scroll} px of content for {inner} px");
}

async fn wait_for_path(c: &Client, prefix: &str) -> String {
    wait_for(c, |p| p.starts_with(prefix), prefix).await
}

async fn wait_for(c: &Client, ok: impl Fn(&str) -> bool, what: &str) -> String {
    for _ in 0..100 {
        let url = c.current_url().await.unwrap();
        if ok(url.path()) {
            return url.path().to_string();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reached {what}: at {}", c.current_url().await.unwrap());
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
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    // A wrong SIRET: the page says so next to the field, and axe still passes on the error state.
    wait_text(&c, "#identifier-error", "14 chiffres").await;
    axe(&c, &axe_js).await;
    fill(&c, "password", "une longue phrase secrète").await;
    fill(&c, "password_confirm", "une longue phrase secrète").await;
    fill(&c, "identifier", "11002001300014").await;
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/espace").await;
    axe(&c, &axe_js).await;

    // A new event: the conditions panel starts with what is missing.
    c.find(Locator::LinkText("Nouvel événement")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/espace/evenements/nouveau").await;
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
    // Live: every condition met before anything is saved.
    wait_text(&c, "#conditions-summary", "Toutes les conditions sont remplies").await;
    c.find(Locator::Id("save-draft")).await.unwrap().click().await.unwrap();
    let path = wait_for(
        &c,
        |p| p.strip_prefix("/espace/evenements/").is_some_and(|id| id.parse::<i64>().is_ok()),
        "the saved draft",
    )
    .await;
    wait_text(&c, "main", "Brouillon enregistré").await;
    assert_eq!(
        c.find(Locator::Id("commune_code")).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("69290")
    );
    axe(&c, &axe_js).await;
    let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    c.find(Locator::Id("submit-event")).await.unwrap().click().await.unwrap();
    wait_text(&c, "main", "Soumis, en cours d'instruction").await;
    axe(&c, &axe_js).await;

    // Log out, log in as the administrator.
    c.find(Locator::Css("form[action='/deconnexion'] button")).await.unwrap().click().await.unwrap();
    wait_for(&c, |p| p == "/", "the home page").await;
    c.goto(&format!("{base}/connexion")).await.unwrap();
    axe(&c, &axe_js).await;
    fill(&c, "email", "admin@dge.fr").await;
    fill(&c, "password", "mot de passe administrateur").await;
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/instruction").await;
    axe(&c, &axe_js).await;
    c.find(Locator::LinkText("Visite de l'usine de moteurs")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, &format!("/instruction/evenements/{id}")).await;
    wait_text(&c, "main", "Signal « industrie »").await;
    axe(&c, &axe_js).await;
    // Refusing without a reason is refused, with the reason why.
    tick(&c, "decision-refuse").await;
    c.find(Locator::Id("decide")).await.unwrap().click().await.unwrap();
    wait_text(&c, "main", "Indiquez le motif").await;
    axe(&c, &axe_js).await;
    tick(&c, "decision-label").await;
    c.find(Locator::Id("decide")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/instruction").await;
    wait_text(&c, "main", "Aucune demande en attente").await;

    // The public: search from the home page (what and where), filter, the map, the event, the calendar.
    c.goto(&format!("{base}/")).await.unwrap();
    fill(&c, "accueil-q", "moteur").await;
    fill(&c, "accueil-near", "69003").await;
    c.find(Locator::Css("form[action='/evenements'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/evenements").await;
    // The default edition is the newest with labelled events: this one.
    wait_text(&c, "main", "Visite de l'usine de moteurs").await;
    wait_text(&c, "main", "à ").await;
    axe(&c, &axe_js).await;
    c.find(Locator::Id("f-region")).await.unwrap().select_by_value("84").await.unwrap();
    c.find(Locator::Css("form.si-filters button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_text(&c, "main", "1 événement labellisé").await;
    c.find(Locator::LinkText("Voir sur une carte")).await.unwrap().click().await.unwrap();
    wait_for_path(&c, "/carte").await;
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
    c.find(Locator::Css(".leaflet-popup-content a")).await.expect("a popup").click().await.unwrap();
    wait_for_path(&c, &format!("/evenements/{id}")).await;
    wait_text(&c, "main", &format!("SI-{}-00001", app.year)).await;
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
    c.close().await.unwrap();
}
