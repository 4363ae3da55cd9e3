//! Email through a real SMTP server process (aiosmtpd, installed by scripts/test.sh): letters arrive
//! with both parts; when the server is down they wait in the outbox and arrive exactly once after it
//! comes back. And the coordinators' daily digest.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use si_store::Transition;
use si_web::mail::{Letter, Transport, WorkerConfig};
use si_web::worker::run_worker;

use crate::support::{TestApp, complete_event};

fn smtp_server(port: u16, maildir: &Path) -> Child {
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd (scripts/test.sh installs it: pip install aiosmtpd)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the SMTP server did not start (is aiosmtpd installed?)");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

fn received(maildir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir(maildir.join("new")) {
        for f in dir.flatten() {
            out.push(std::fs::read_to_string(f.path()).unwrap_or_default());
        }
    }
    out
}

async fn wait_for(maildir: &Path, n: usize, secs: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = received(maildir);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn letter(subject: &str) -> Letter {
    Letter {
        subject: subject.into(),
        paragraphs: vec!["Bonjour, voici un message avec des accents : é, à, ç, « guillemets ».".into()],
        links: vec![("Voir".into(), "http://127.0.0.1:8080/espace".into())],
        ..Letter::default()
    }
}

#[tokio::test]
async fn emails_survive_an_smtp_outage_and_arrive_exactly_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let maildir: PathBuf = std::env::temp_dir().join(format!("si-maildir-{port}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&maildir);
    let mut server = smtp_server(port, &maildir);

    let app = TestApp::new().await;
    let transport = Transport::from_url(&format!("smtp://127.0.0.1:{port}")).unwrap();
    let cfg = WorkerConfig {
        backoff: Duration::from_millis(200),
        poll: Duration::from_millis(100),
        ..WorkerConfig::default()
    };
    let worker = tokio::spawn(run_worker(app.state.clone(), transport, cfg, std::future::pending()));

    // Through the real server, with a plain-text and an HTML part.
    app.state.mail.send(&app.store, vec![letter("Premier essai").to("orga@usine.fr")]).await;
    let got = wait_for(&maildir, 1, 20).await;
    assert_eq!(got.len(), 1, "the first email arrived");
    let m = &got[0];
    assert!(m.contains("Subject: Premier essai"), "{m}");
    // The headers every mail client expects (RFC 5322 §3.6): a date and an identifier.
    assert!(m.lines().any(|l| l.starts_with("Date: ") && l.ends_with(" +0000")), "{m}");
    assert!(m.lines().any(|l| l.starts_with("Message-ID: <si.") && l.ends_with(">") && l.contains('@')), "{m}");
    assert!(m.contains("To: orga@usine.fr") && m.contains("multipart/alternative"), "{m}");
    assert!(m.contains("text/plain") && m.contains("text/html"), "{m}");

    // The server stops: the email waits in the outbox, retried with back-off.
    server.kill().unwrap();
    server.wait().unwrap();
    app.state.mail.send(&app.store, vec![letter("Pendant la panne").to("orga@usine.fr")]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(received(&maildir).len(), 1, "nothing more arrived while the server was down");
    let stats = app.store.outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.sent), (1, 1));
    assert_eq!(stats.retrying, 1, "the failed attempt is recorded");

    // It comes back: the email arrives, once.
    let mut server = smtp_server(port, &maildir);
    let got = wait_for(&maildir, 2, 30).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_after = received(&maildir);
    worker.abort();
    server.kill().unwrap();
    let _ = server.wait();
    assert_eq!(got.len(), 2, "the waiting email arrived after the restart");
    assert_eq!(got_after.iter().filter(|m| m.contains("Subject: Pendant la panne")).count(), 1, "exactly once");
    assert_eq!(got_after.len(), 2);
    let stats = app.store.outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.sent), (0, 2));
    let _ = std::fs::remove_dir_all(&maildir);
}

#[tokio::test]
async fn the_daily_digest_reaches_each_coordinator_once_a_day() {
    let app = TestApp::new().await;
    app.person("ara@region.fr", "regional_coordinator", Some("84")).await;
    app.person("idf@region.fr", "regional_coordinator", Some("11")).await;
    let lyon = app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    app.submitted(&lyon, &complete_event(app.year, "69001")).await;
    let mut old = complete_event(app.year, "69003");
    old["title"] = "Visite de la fonderie".into();
    let (_, draft) = app.post_json("/api/v1/me/events", &old, Some(&lyon)).await;
    let actor = app.store.user_by_email("lyon@usine.fr").await.unwrap().unwrap().id;
    app.store
        .transition(&Transition::submit(draft["id"].as_i64().unwrap(), actor, Utc::now() - chrono::Duration::days(12)))
        .await
        .unwrap();
    app.deliver().await;

    let today = Utc::now().with_timezone(&si_domain::dates::PARIS).date_naive();
    let at = |day: chrono::NaiveDate, hour| {
        si_domain::dates::PARIS.from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
    };
    // Not before 7:00 (Paris); once after, and only once that day.
    assert!(!si_web::notify::daily_digest_if_due(&app.state.letters, at(today, 6)).await.unwrap());
    assert!(si_web::notify::daily_digest_if_due(&app.state.letters, at(today, 8)).await.unwrap());
    assert!(!si_web::notify::daily_digest_if_due(&app.state.letters, at(today, 9)).await.unwrap());
    let sent = app.deliver().await;
    assert_eq!(sent.len(), 1, "only the coordinator with something waiting: {sent:?}");
    let d = &sent[0];
    assert_eq!(d.recipient, "ara@region.fr");
    assert_eq!(d.subject, "Instruction Auvergne-Rhône-Alpes : 1 nouvelle(s), 1 en retard");
    assert!(
        d.text.contains("En retard : Visite de la fonderie")
            && d.text.contains("Nouveau : Visite de l'usine de moteurs"),
        "{}",
        d.text
    );
    assert!(d.html.contains("/instruction?retard=1"));
    // The next day, again.
    assert!(si_web::notify::daily_digest_if_due(&app.state.letters, at(today.succ_opt().unwrap(), 8)).await.unwrap());
}
