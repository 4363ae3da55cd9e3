//! Several nodes on one PostgreSQL database, as the national deployment runs them: two `serve`
//! processes of this binary behind no balancer, each with its own outbox worker. A decision through
//! one is public through the other within the stated delay; every email is sent once; `kill -9` of
//! one under a load of writes loses nothing it acknowledged while the other goes on answering;
//! SIGTERM stops a node cleanly.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Node, cli, get_json, http};

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
    cli(
        &url,
        &["user", "create", "--email", "admin@dge.fr", "--role", "national_admin"],
        "une phrase de passe assez longue\n",
    );
    let admin = cli(&url, &["token", "create", "--email", "admin@dge.fr"], "");
    let orga = support::organiser(&url, "orga@forges.fr");

    // Node A fills the demo data (an edition open now); node B starts on the same database.
    let mut a = Node::start(&url, &dir, "a", true);
    let mut b = Node::start(&url, &dir, "b", false);

    let (year, day) = support::open_edition(a.port);
    let event = |title: &str| support::event(year, day, title);

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
