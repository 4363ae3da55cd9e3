//! Backups of the embedded database: `backup FILE` copies it while the platform is written to, and
//! `restore FILE` brings the copy back; every write acknowledged before the backup began is in it.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Node, bin, cli, http};

#[test]
fn a_backup_taken_under_writes_restores_every_write_acknowledged_before_it() {
    let dir = std::env::temp_dir().join(format!("si-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/platform.db", dir.display());
    cli(&url, &["migrate"], "");
    let orga = support::organiser(&url, "orga@forges.fr");
    let mut node = Node::start(&url, &dir, "a", true);
    let (year, day) = support::open_edition(node.port);

    // One writer saves drafts without pause; the backup is taken in the middle.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, orga, port) = (stop.clone(), orga.clone(), node.port);
        std::thread::spawn(move || {
            let mut acknowledged = Vec::new();
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                let body = support::event(year, day, &format!("Atelier sauvegardé {k}"));
                if let Ok((201, b)) = http(port, "POST", "/api/v1/me/events", Some(&orga), Some(&body)) {
                    acknowledged
                        .push((serde_json::from_str::<Value>(&b).unwrap()["id"].as_i64().unwrap(), Instant::now()));
                }
            }
            acknowledged
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let file = dir.join("sauvegarde.db");
    let began = Instant::now();
    let out = bin().args(["backup", file.to_str().unwrap()]).env("DATABASE_URL", &url).output().unwrap();
    let ended = Instant::now();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    let acknowledged = writer.join().unwrap();
    let before: Vec<i64> = acknowledged.iter().filter(|(_, at)| *at < began).map(|(id, _)| *id).collect();
    let after: Vec<i64> = acknowledged.iter().filter(|(_, at)| *at > ended).map(|(id, _)| *id).collect();
    assert!(
        !before.is_empty() && !after.is_empty(),
        "writes before ({}) and after ({}) the backup",
        before.len(),
        after.len()
    );

    // A backup never overwrites a file.
    let again = bin().args(["backup", file.to_str().unwrap()]).env("DATABASE_URL", &url).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // The service stops; a file that is not a backup is refused and leaves the database as it was.
    assert!(
        std::process::Command::new("kill").args(["-TERM", &node.child.id().to_string()]).status().unwrap().success()
    );
    assert!(node.child.wait().unwrap().success());
    let junk = dir.join("pas-une-base.db");
    std::fs::write(&junk, "pas une base de données").unwrap();
    let refused = bin().args(["restore", junk.to_str().unwrap()]).env("DATABASE_URL", &url).output().unwrap();
    assert!(!refused.status.success());
    let restored = bin().args(["restore", file.to_str().unwrap()]).env("DATABASE_URL", &url).output().unwrap();
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));

    // Every write acknowledged before the backup began is there; those after it are not.
    let node = Node::start(&url, &dir, "b", false);
    for id in &before {
        let (s, body) = http(node.port, "GET", &format!("/api/v1/me/events/{id}"), Some(&orga), None).unwrap();
        assert_eq!(s, 200, "event {id}, acknowledged before the backup, is missing: {body}");
    }
    for id in &after {
        let (s, _) = http(node.port, "GET", &format!("/api/v1/me/events/{id}"), Some(&orga), None).unwrap();
        assert_eq!(s, 404, "event {id} was written after the backup ended");
    }
    eprintln!("{} writes before the backup restored, {} after it absent", before.len(), after.len());
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}
