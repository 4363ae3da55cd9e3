//! Several nodes on one PostgreSQL database, as the national deployment runs them: two `serve`
//! processes of this binary behind no balancer, each with its own outbox worker. A decision through
//! one is public through the other within the stated delay; every email is sent once; `kill -9` of
//! one under a load of writes loses nothing it acknowledged while the other goes on answering;
//! SIGTERM stops a node cleanly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_semaine-industrie"))
}

/// One HTTP/1.1 exchange (`Connection: close`); the status and the body (chunks joined).
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) =
        text.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other(format!("no head: {text:?}")))?;
    let status: u16 =
        head.split(' ').nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| std::io::Error::other("status"))?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let (mut out, mut rest) = (String::new(), rest);
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&after[..n]);
            rest = &after[n + 2..];
        }
        out
    } else {
        rest.to_string()
    };
    Ok((status, body))
}

fn get_json(port: u16, path: &str, token: Option<&str>) -> Value {
    let (s, b) = http(port, "GET", path, token, None).unwrap();
    assert_eq!(s, 200, "GET {path}: {b}");
    serde_json::from_str(&b).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Node {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Node {
    fn start(url: &str, dir: &Path, name: &str, demo: bool) -> Node {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let mut cmd = bin();
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("MAIL_URL", format!("file://{}", dir.join(format!("mail-{name}")).display()))
            .env("TILE_URL", "")
            .env("SIRET_DIRECTORY_URL", "")
            .env("UAI_DIRECTORY_URL", "")
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if demo {
            cmd.arg("--demo");
        }
        let node = Node { child: cmd.spawn().unwrap(), port, log };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(180) {
            if matches!(http(port, "GET", "/readyz", None, None), Ok((200, _))) {
                return node;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("node {name} not ready: {}", std::fs::read_to_string(&node.log).unwrap_or_default());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli(url: &str, args: &[&str], stdin: &str) -> String {
    let mut child = bin()
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `.eml` files written by the nodes' workers, by outbox id (the file's name).
fn sent_ids(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for node in ["mail-a", "mail-b"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(node)) {
            out.extend(entries.flatten().map(|e| e.file_name().to_string_lossy().to_string()));
        }
    }
    out
}

#[test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
fn two_nodes_on_one_postgresql_database_act_as_one() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = rt.block_on(si_store::testing::fresh_postgres_database(&base)).unwrap();
    let dir = std::env::temp_dir().join(format!("si-nodes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    cli(&url, &["migrate"], "");
    let password = "une phrase de passe assez longue\n";
    cli(&url, &["user", "create", "--email", "admin@dge.fr", "--role", "national_admin"], password);
    cli(
        &url,
        &[
            "user",
            "create",
            "--email",
            "orga@forges.fr",
            "--role",
            "organiser",
            "--organisation",
            "Forges du Rhône",
            "--department",
            "69",
            "--kind",
            "entreprise",
        ],
        password,
    );
    let admin = cli(&url, &["token", "create", "--email", "admin@dge.fr"], "");
    let orga = cli(&url, &["token", "create", "--email", "orga@forges.fr"], "");

    // Node A fills the demo data (an edition open now); node B starts on the same database.
    let mut a = Node::start(&url, &dir, "a", true);
    let mut b = Node::start(&url, &dir, "b", false);

    let editions = get_json(a.port, "/api/v1/editions", None);
    let now = chrono::Utc::now();
    let open = editions
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            let t = |k: &str| chrono::DateTime::parse_from_rfc3339(e[k].as_str().unwrap()).unwrap();
            t("opens_at") <= now && now <= t("deadline")
        })
        .expect("the demo has an edition open now")
        .clone();
    let year = open["year"].as_i64().unwrap();
    let day = chrono::NaiveDate::parse_from_str(open["week_start"].as_str().unwrap(), "%Y-%m-%d").unwrap()
        + chrono::Duration::days(1);
    let event = |title: &str| {
        json!({
            "edition": year, "title": title,
            "summary": "Découvrez nos ateliers de forge.",
            "description": "Visite guidée des ateliers de forge et de soudure, rencontre avec des techniciens.",
            "type": "visite_entreprise", "sectors": ["mecanique_metallurgie"], "audiences": ["scolaires"],
            "themes": [], "format": "presentiel",
            "location": {"venue": "Forge", "address": "1 rue de l'Enclume", "postal_code": "69003", "commune_code": ""},
            "online_url": "", "sessions": [{"start": format!("{day}T09:00"), "end": format!("{day}T12:00")}],
            "free": true, "industry_objective": true, "accessible": true,
            "registration": {"mode": "none"}, "contact": {"email": "contact@forges.fr", "phone": ""}
        })
    };

    // A submission through A, labelled through B: public through A within the stated delay.
    let (s, created) =
        http(a.port, "POST", "/api/v1/me/events", Some(&orga), Some(&event("Forge zéphyrine ouverte"))).unwrap();
    assert_eq!(s, 201, "{created}");
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"].as_i64().unwrap();
    let (s, r) =
        http(a.port, "POST", &format!("/api/v1/me/events/{id}/submit"), Some(&orga), Some(&json!({}))).unwrap();
    assert_eq!(s, 200, "{r}");
    let search = format!("/api/v1/events?edition={year}&q=zephyrine");
    assert_eq!(get_json(a.port, &search, None)["total"], 0);
    let version = get_json(a.port, &format!("/api/v1/me/events/{id}"), Some(&orga))["version"].as_i64().unwrap();
    let (s, r) = http(
        b.port,
        "POST",
        &format!("/api/v1/review/events/{id}/decision"),
        Some(&admin),
        Some(&json!({"decision": "label", "version": version})),
    )
    .unwrap();
    assert_eq!(s, 200, "{r}");
    let decided = Instant::now();
    assert_eq!(get_json(b.port, &search, None)["total"], 1, "at once on the deciding node");
    while get_json(a.port, &search, None)["total"] != 1 {
        // docs/OPERATIONS.md states 1 s plus a rebuild of the index (2 s at 100,000 events); a
        // shared CI machine gets ten times that before this fails.
        assert!(decided.elapsed() < Duration::from_secs(30), "node A never saw the label");
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("label visible through the other node after {:?}", decided.elapsed());

    // kill -9 of node A under a load of writes through both: every acknowledged write is there.
    let stop_at = Instant::now() + Duration::from_secs(4);
    let ports = [a.port, b.port];
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (orga, event) = (orga.clone(), event(&format!("Atelier de charge {w}")));
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut k = 0;
                while Instant::now() < stop_at {
                    let port = ports[(w + k) % 2];
                    k += 1;
                    if let Ok((201, body)) = http(port, "POST", "/api/v1/me/events", Some(&orga), Some(&event)) {
                        let id = serde_json::from_str::<Value>(&body).unwrap()["id"].as_i64().unwrap();
                        acknowledged.push((port, id, Instant::now()));
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    a.child.kill().unwrap(); // SIGKILL: no shutdown, no drain
    let killed_at = Instant::now();
    let acknowledged: Vec<(u16, i64, Instant)> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    let through_a = acknowledged.iter().filter(|(p, _, _)| *p == a.port).count();
    let through_b = acknowledged.iter().filter(|(p, _, _)| *p == b.port).count();
    assert!(through_a > 0 && through_b > 0, "load through both nodes: {through_a} / {through_b}");
    let after_kill = acknowledged.iter().filter(|(p, _, at)| *p == b.port && *at > killed_at).count();
    assert!(after_kill > 0, "node B went on acknowledging writes after A was killed");
    for (_, id, _) in &acknowledged {
        let (s, body) = http(b.port, "GET", &format!("/api/v1/me/events/{id}"), Some(&orga), None).unwrap();
        assert_eq!(s, 200, "acknowledged event {id} lost: {body}");
    }
    eprintln!("{} writes acknowledged ({through_a} through the killed node), none lost", acknowledged.len());

    // Every email queued is sent once, by one node or the other (B's worker takes over A's).
    let store = rt.block_on(si_store::connect(&url)).unwrap();
    let waited = Instant::now();
    loop {
        let stats = rt.block_on(store.outbox_stats()).unwrap();
        if stats.pending == 0 && stats.sent > 0 {
            let ids = sent_ids(&dir);
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(ids.len(), unique.len(), "an email sent twice: {ids:?}");
            assert_eq!(ids.len() as u64, stats.sent, "every sent email is one file");
            break;
        }
        // A's lease, if it died holding one, expires (two minutes by default): pending mail is
        // what B's worker will take; what matters here is that nothing is sent twice.
        if waited.elapsed() > Duration::from_secs(20) {
            let ids = sent_ids(&dir);
            let mut unique = ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(ids.len(), unique.len(), "an email sent twice: {ids:?}");
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    // SIGTERM: node B stops cleanly (exit status 0) and says so.
    let pid = b.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = b.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(&b.log).unwrap();
    assert!(log.contains("requests in flight answered") && log.contains("stopped"), "{log}");

    drop(a);
    drop(b);
    rt.block_on(drop_db);
    let _ = std::fs::remove_dir_all(&dir);
}
