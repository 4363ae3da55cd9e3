//! ProConnect (OpenID Connect) against a real provider run locally: node-oidc-provider from npm
//! (`tests/oidc/provider.mjs`, installed by scripts/test.sh). The browser's part is played here:
//! redirects followed, the provider's cookies kept, the code brought back with our state cookie.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::{TestApp, body_text};
use si_web::outbound;

const PUBLIC: &str = "http://si.test";

struct Provider {
    child: Child,
    base: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the provider on a free port; `None` when browser-like tools are skipped.
fn provider() -> Option<Provider> {
    if std::env::var_os("SI_SKIP_BROWSER").is_some() {
        eprintln!("SI_SKIP_BROWSER set: ProConnect test skipped");
        return None;
    }
    let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/test-tools");
    assert!(
        std::path::Path::new(tools).join("node_modules/oidc-provider").exists(),
        "oidc-provider not installed in target/test-tools: run scripts/test.sh"
    );
    // Node resolves `oidc-provider` from the script's folder: the script runs from target/test-tools.
    let script = format!("{tools}/oidc-provider.mjs");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/provider.mjs"), &script).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("node")
        .arg(&script)
        .env("PORT", port.to_string())
        .env("REDIRECT_URI", format!("{PUBLIC}/connexion/proconnect/retour"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node (the provider runs on Node.js)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "the provider did not start");
    Some(Provider { child, base: format!("http://127.0.0.1:{port}") })
}

fn app_for(discovery: &str) -> impl FnOnce(&mut si_web::WebConfig) + '_ {
    move |c| {
        c.public_url = PUBLIC.into();
        c.oidc = Some(si_web::oidc::OidcConfig {
            discovery_url: discovery.to_string(),
            client_id: "semaine-industrie".into(),
            client_secret: "secret-de-test-suffisamment-long".into(),
        });
    }
}

/// What came back from a login through the provider: our answer and the callback used.
struct Outcome {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    body: String,
    callback: String,
    state_cookie: String,
}

/// Goes to ProConnect from our login page, through the provider (as `email`), back to our callback.
/// `tamper` may change the authorisation URL; `before_callback` runs before the code is brought back.
async fn log_in(
    app: &TestApp,
    p: &Provider,
    email: &str,
    code_ttl: u32,
    tamper: impl Fn(String) -> String,
    wait: Duration,
) -> Outcome {
    outbound::get(&format!("{}/test/next?email={}&code_ttl={code_ttl}", p.base, email.replace('@', "%40")))
        .await
        .unwrap();
    let r = app.get("/connexion/proconnect?suivant=%2Finstruction", None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let state_cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let mut url = tamper(r.headers()[header::LOCATION].to_str().unwrap().to_string());
    assert!(url.starts_with(&p.base), "{url}");
    let mut jar: BTreeMap<String, String> = BTreeMap::new();
    let callback = loop {
        let cookie = jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let a = outbound::get_with(&url, &[("cookie", cookie)]).await.unwrap();
        for c in a.headers.get_all(header::SET_COOKIE) {
            let pair = c.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                jar.insert(k.to_string(), v.to_string());
            }
        }
        assert!(a.status == 302 || a.status == 303, "provider answered {} at {url}: {:?}", a.status, a.body);
        let next = a.headers[header::LOCATION].to_str().unwrap().to_string();
        if let Some(path) = next.strip_prefix(PUBLIC) {
            break path.to_string();
        }
        url = if next.starts_with('/') { format!("{}{next}", p.base) } else { next };
    };
    tokio::time::sleep(wait).await;
    back(app, &callback, &state_cookie).await
}

async fn back(app: &TestApp, callback: &str, state_cookie: &str) -> Outcome {
    let req = Request::get(callback).header(header::COOKIE, state_cookie).body(Body::empty()).unwrap();
    let r = app.send(req).await;
    let status = r.status();
    let location = r.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    let cookies = r.headers().get_all(header::SET_COOKIE).iter().map(|c| c.to_str().unwrap().to_string()).collect();
    Outcome {
        status,
        location,
        cookies,
        body: body_text(r).await,
        callback: callback.to_string(),
        state_cookie: state_cookie.to_string(),
    }
}

#[tokio::test]
async fn coordinators_log_in_with_proconnect_and_every_check_holds() {
    let Some(p) = provider() else { return };
    let discovery = format!("{}/.well-known/openid-configuration", p.base);
    let app = TestApp::configured(app_for(&discovery)).await;
    app.person("coord@region.fr", "regional_coordinator", Some("84")).await;
    app.organiser("orga@usine.fr", "Usine").await;
    let (_, html) = app.get_html("/connexion", None).await;
    assert!(html.contains("id=\"proconnect\""), "the login page offers ProConnect");

    // A coordinator: logged in, sent to the review queue.
    let ok = log_in(&app, &p, "coord@region.fr", 60, |u| u, Duration::ZERO).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location, "/instruction");
    let session =
        ok.cookies.iter().find(|c| c.starts_with("si_session=")).expect("a session").split(';').next().unwrap();
    assert_eq!(app.get_html("/instruction", Some(session)).await.0, StatusCode::OK);
    assert!(ok.cookies.iter().any(|c| c.starts_with("si_oidc=;")), "the state cookie is cleared");

    // The same answer again (a replayed state and code): refused.
    let again = back(&app, &ok.callback, &ok.state_cookie).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body.contains("déjà utilisée"), "{}", again.body);

    // Someone without a reviewer's account: refused, nothing opened.
    let orga = log_in(&app, &p, "orga@usine.fr", 60, |u| u, Duration::ZERO).await;
    assert_eq!(orga.status, StatusCode::FORBIDDEN);
    assert!(orga.body.contains("Aucun compte de coordination"), "{}", orga.body);
    assert!(!orga.cookies.iter().any(|c| c.starts_with("si_session=")));

    // A token minted for another login (the nonce changed on the way): refused.
    let wrong_nonce = log_in(
        &app,
        &p,
        "coord@region.fr",
        60,
        |u| {
            let start = u.find("nonce=").unwrap() + 6;
            let end = u[start..].find('&').map_or(u.len(), |e| start + e);
            format!("{}{}{}", &u[..start], "un-autre-nonce", &u[end..])
        },
        Duration::ZERO,
    )
    .await;
    assert_eq!(wrong_nonce.status, StatusCode::FORBIDDEN);
    assert!(wrong_nonce.body.contains("nonce différent"), "{}", wrong_nonce.body);

    // An expired code: the provider refuses it, and so do we.
    let expired = log_in(&app, &p, "coord@region.fr", 1, |u| u, Duration::from_millis(2500)).await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert!(expired.body.contains("code refusé"), "{}", expired.body);

    // The answer brought to another browser (no state cookie): refused.
    let forged = log_in(&app, &p, "coord@region.fr", 60, |u| u, Duration::ZERO).await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
    let other = log_in(&app, &p, "coord@region.fr", 60, |u| u, Duration::ZERO).await;
    let elsewhere = back(&app, &other.callback, "si_oidc=autre").await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    assert!(elsewhere.body.contains("navigateur différent"));

    // An answer saying the person cancelled.
    let cancelled = back(&app, "/connexion/proconnect/retour?error=access_denied&state=x", "si_oidc=x").await;
    assert_eq!(cancelled.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_unreachable_provider_is_a_clear_503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let discovery = format!("http://{closed}/.well-known/openid-configuration");
    let app = TestApp::configured(app_for(&discovery)).await;
    let r = app.get("/connexion/proconnect", None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    assert!(body_text(r).await.contains("ProConnect ne répond pas"));
    // Without ProConnect configured, there is no such page.
    let plain = TestApp::new().await;
    assert_eq!(plain.get("/connexion/proconnect", None).await.status(), StatusCode::NOT_FOUND);
    let (_, html) = plain.get_html("/connexion", None).await;
    assert!(!html.contains("id=\"proconnect\""));
}
