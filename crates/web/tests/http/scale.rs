//! National scale: what one node must hold whatever the public asks of it.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::support::{self, TestApp};

/// An export is written a slice of events at a time (500), so a whole edition never sits in memory:
/// every event is there once, in the catalogue's order, across several slices, in each format as
/// its reader parses it; a node writes a few exports at once and tells the next to come back.
#[tokio::test]
async fn exports_stream_every_event_across_slices_and_are_bounded() {
    let app = TestApp::new().await;
    let org = app.company("Forges réunies").await;
    let n = 1_203;
    let titles: Vec<String> = (0..n).map(|i| format!("Forge ouverte n° {i}")).collect();
    app.labelled_titles(org.id, app.year, "69003", &titles).await;

    let csv = support::body_text(app.get(&format!("/api/v1/events.csv?edition={}", app.year), None).await).await;
    assert!(csv.starts_with("\u{feff}id;numero_label;edition;titre"));
    assert_eq!(csv.matches("\r\n").count(), n + 1, "one line per session and the header, CRLF");
    assert_eq!(csv.matches("\u{feff}").count(), 1, "one BOM, not one per slice");

    let (s, json) = app.get_json(&format!("/api/v1/events.json?edition={}", app.year)).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<i64> = json.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (n, n), "each event once");
    let (_, first) = app.get_json(&format!("/api/v1/events?edition={}&per_page=100", app.year)).await;
    let page: Vec<i64> = first["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(&ids[..100], &page[..], "the catalogue's order");

    let ics = support::body_text(app.get(&format!("/api/v1/events.ics?edition={}", app.year), None).await).await;
    let cal: icalendar::Calendar = ics.parse().expect("a real parser reads the streamed calendar");
    assert_eq!(cal.components.iter().filter_map(|c| c.as_event()).count(), n);
    assert_eq!((ics.matches("BEGIN:VCALENDAR").count(), ics.matches("END:VCALENDAR").count()), (1, 1));

    // Exports being written hold their slot until their last byte is read (or the reader leaves).
    let path = format!("/api/v1/events.csv?edition={}", app.year);
    let mut held = Vec::new();
    for _ in 0..si_web::EXPORTS_AT_ONCE {
        let r = app.get(&path, None).await;
        assert_eq!(r.status(), StatusCode::OK);
        held.push(r);
    }
    let refused = app.get(&path, None).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = serde_json::from_str(&support::body_text(refused).await).unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("réessayez"), "{body}");
    held.pop();
    assert_eq!(app.get(&path, None).await.status(), StatusCode::OK, "a reader gone frees its slot");
}

/// Two nodes on one database (two application states over one store, as two processes would be):
/// what one decides or books reaches the other's index and cached answers at its next look at the
/// store's change counters, and only writes the public can see move them.
#[tokio::test]
async fn a_change_made_through_one_node_reaches_the_other() {
    use si_web::catalogue::Stale;
    let a = TestApp::new().await;
    let b = TestApp::with_store(a.store.clone(), None).await;
    let follow = || async { b.state.catalogue.follow(&b.store, &b.state.caches).await.unwrap() };
    let search = format!("/api/v1/events?edition={}&q=visite", a.year);
    let places = format!("/api/v1/events?edition={}&places=35", a.year);
    let total = |v: Value| v["total"].as_u64().unwrap();

    // Node B has built its index and answered (and cached) before anything is labelled.
    assert_eq!(total(b.get_json(&search).await.1), 0);
    assert_eq!(follow().await, Stale::Nothing);

    // A draft and a submission change nothing public: no rebuild anywhere.
    let other = a.organiser("brouillons@atelier.fr", "Atelier des Brouillons").await;
    a.submitted(&other, &support::complete_event(a.year, "69003")).await;
    assert_eq!(follow().await, Stale::Nothing);

    // The label decided through node A: B still answers from its index, until it looks.
    let (id, _) = crate::bookings::bookable_event(&a, false).await;
    assert_eq!(total(b.get_json(&search).await.1), 0, "B has not looked yet");
    assert_eq!(follow().await, Stale::Labels);
    assert_eq!(total(b.get_json(&search).await.1), 1, "B sees the label");
    assert_eq!(total(b.get_json(&places).await.1), 1, "40 seats free");
    assert_eq!(follow().await, Stale::Nothing, "once");

    // Seats booked through node A: B's `places` filter follows without rebuilding its index.
    let class = serde_json::json!({"kind": "classe", "uai": "0750655E", "school": "Collège Jean Moulin",
        "level": "college", "pupils": 28, "adults": 3, "phone": "04 72 00 00 00", "name": "Claire Martin",
        "email": "claire@ac-lyon.fr", "acknowledged": true});
    let (s, r) = a.post_json(&format!("/api/v1/events/{id}/sessions/{id}-1/registrations"), &class, None).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(follow().await, Stale::Seats);
    assert_eq!(total(b.get_json(&places).await.1), 0, "9 seats left: no group of 35");

    // A public status set through A (a move of a labelled event) reaches B too.
    let cookie = a.login("visites@usine.fr").await;
    let (s, _, _) =
        a.post_form(&format!("/espace/evenements/{id}/statut"), "public_status=cancelled", Some(&cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(follow().await, Stale::Labels);
    let (_, e) = b.get_json(&search).await;
    assert_eq!(e["items"][0]["public_status"], "cancelled");
}

/// The review queue each node keeps in memory is never older than the request: a submission, a
/// decision and a change to a labelled event made through node A show at once in node B's queue
/// (no polling involved), while a draft's saves leave B's queue as it was read.
#[tokio::test]
async fn the_review_queue_of_every_node_is_as_of_the_request() {
    let a = TestApp::new().await;
    let b = TestApp::with_store(a.store.clone(), None).await;
    let admin = a.person("admin@dge.fr", "national_admin", None).await;
    let orga = a.organiser("file@usine.fr", "Usine de la File").await;
    async fn listed(node: &TestApp, admin: &str) -> Vec<(i64, bool)> {
        let (s, q) = node.get_json_auth("/api/v1/review/queue", admin).await;
        assert_eq!(s, StatusCode::OK, "{q}");
        q["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["id"].as_i64().unwrap(), i["change"].as_bool().unwrap()))
            .collect()
    }
    let queue = |node| listed(node, &admin);
    assert_eq!(queue(&b).await, vec![]);

    let id = a.submitted(&orga, &support::complete_event(a.year, "69003")).await;
    assert_eq!(queue(&b).await, vec![(id, false)], "B sees a submission made through A");
    let read_at = b.state.queue.facts().expect("B keeps the queue it read").1;

    // Drafts are in no queue: their saves do not make B read the queue again.
    let (s, draft) = a.post_json("/api/v1/me/events", &json!({"title": "Brouillon"}), Some(&orga)).await;
    assert_eq!(s, StatusCode::CREATED, "{draft}");
    let (s, _) =
        a.put_json(&format!("/api/v1/me/events/{}", draft["id"]), &json!({"title": "Brouillon repris"}), &orga).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(queue(&b).await, vec![(id, false)]);
    assert_eq!(b.state.queue.facts().unwrap().1, read_at, "no rebuild for a draft");

    // Labelled through A: gone from B's queue at once.
    let url = format!("/api/v1/review/events/{id}/decision");
    let (s, r) = a.post_json(&url, &json!({"decision": "label", "version": a.version(id).await}), Some(&admin)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(queue(&b).await, vec![], "B no longer offers what A decided");

    // A material change to the labelled event, through A: back in B's queue as a change.
    let retitled = {
        let mut e = support::complete_event(a.year, "69003");
        e["title"] = json!("Un tout autre titre pour la visite");
        e
    };
    let (s, r) = a.put_json(&format!("/api/v1/me/events/{id}"), &retitled, &orga).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(queue(&b).await, vec![(id, true)], "B sees the change to review");
    assert!(b.state.queue.facts().unwrap().1 > read_at);
}

/// The API's queue is written a slice of rows at a time: across slices it is one valid document, every
/// row once, in the page's order (the page's first 50 rows are the API's first 50).
#[tokio::test]
async fn the_api_queue_is_whole_across_slices() {
    let a = TestApp::new().await;
    let admin = a.person("admin@dge.fr", "national_admin", None).await;
    let cookie = a.login("admin@dge.fr").await;
    let mut ids = Vec::new();
    for o in 0..6 {
        let orga = a.organiser(&format!("orga{o}@usine.fr"), &format!("Usine {o}")).await;
        for k in 0..50 {
            let mut e = support::complete_event(a.year, ["69003", "67000", "29200"][k % 3]);
            e["title"] = json!(format!("Visite numéro {k} de l'usine {o}"));
            ids.push(a.submitted(&orga, &e).await);
        }
    }
    let (s, q) = a.get_json_auth("/api/v1/review/queue", &admin).await;
    assert_eq!(s, StatusCode::OK);
    let listed: Vec<i64> = q["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(q["total"], 300);
    let mut sorted = listed.clone();
    sorted.sort();
    ids.sort();
    assert_eq!(sorted, ids, "every submission once");
    let (_, html) = a.get_html("/instruction", Some(&cookie)).await;
    let on_page: Vec<i64> = html
        .split("/instruction/evenements/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .fold(Vec::new(), |mut v, id| {
            if v.last() != Some(&id) {
                v.push(id);
            }
            v
        });
    assert_eq!(on_page, listed[..50], "the page's first rows are the API's");

    // Each answer holds the snapshot it started from until read out: a few at once per account.
    let ask = |token: &str| {
        Request::get("/api/v1/review/queue")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let mut held = Vec::new();
    for _ in 0..si_web::QUEUE_STREAMS_PER_ACCOUNT {
        let r = a.send(ask(&admin)).await;
        assert_eq!(r.status(), StatusCode::OK);
        held.push(r); // not read: still being written
    }
    let r = a.send(ask(&admin)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    let (_, body) = TestApp::json_of(r).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("attendez"), "{body}");
    let other = a.person("admin2@dge.fr", "national_admin", None).await;
    assert_eq!(
        a.get_json_auth("/api/v1/review/queue", &other).await.0,
        StatusCode::OK,
        "another account is not held back"
    );
    // One answer read out, one connection dropped: two places again.
    let whole = held.pop().unwrap().into_body().collect().await.unwrap().to_bytes();
    assert_eq!(serde_json::from_slice::<Value>(&whole).unwrap()["total"], 300);
    held.pop();
    for _ in 0..2 {
        let r = a.send(ask(&admin)).await;
        assert_eq!(r.status(), StatusCode::OK);
        held.push(r);
    }
    assert_eq!(a.send(ask(&admin)).await.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// A node follows the queue move by move: after each move made through node A (submissions, a
/// duplicate, decisions, a change to a labelled event, a withdrawn label), node B's queue, updated
/// from the recorded moves alone, is the queue that a fresh node reads whole. A bulk load (a bump
/// without a recorded move) makes B read the whole queue.
#[tokio::test]
async fn the_queue_followed_move_by_move_is_the_whole_queue() {
    queue_move_by_move(TestApp::new().await).await;
}

/// The same on PostgreSQL (`TEST_DATABASE_URL`; ignored unless asked for).
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn the_queue_followed_move_by_move_is_the_whole_queue_on_postgres() {
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&si_store::testing::postgres_url()).await.unwrap();
    queue_move_by_move(TestApp::with_store(si_store::connect(&url).await.unwrap(), None).await).await;
    drop_db.await;
}

async fn queue_move_by_move(a: TestApp) {
    let b = TestApp::with_store(a.store.clone(), None).await;
    let admin = a.person("admin@dge.fr", "national_admin", None).await;
    let cookie = a.login("admin@dge.fr").await;
    let lyon = a.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let brest = a.organiser("brest@chantier.fr", "Chantier de Brest").await;
    async fn listed(node: &TestApp, admin: &str) -> Value {
        let (s, q) = node.get_json_auth("/api/v1/review/queue", admin).await;
        assert_eq!(s, StatusCode::OK, "{q}");
        q
    }
    async fn same(a: &TestApp, b: &TestApp, admin: &str, after: &str) -> Value {
        let whole = listed(&TestApp::with_store(a.store.clone(), None).await, admin).await;
        assert_eq!(listed(b, admin).await, whole, "after {after}");
        whole
    }
    listed(&b, &admin).await;
    let decide = |id: i64, decision: &'static str| {
        let (a, admin) = (&a, &admin);
        async move {
            let body = json!({"decision": decision, "reason": "Motif précis pour l'organisateur.", "version": a.version(id).await});
            let (s, r) = a.post_json(&format!("/api/v1/review/events/{id}/decision"), &body, Some(admin)).await;
            assert_eq!(s, StatusCode::OK, "{r}");
        }
    };

    let first = a.submitted(&lyon, &support::complete_event(a.year, "69003")).await;
    same(&a, &b, &admin, "a submission").await;
    let twin = a.submitted(&lyon, &support::complete_event(a.year, "69003")).await;
    let q = same(&a, &b, &admin, "its duplicate").await;
    assert_eq!(q["items"][0]["possible_duplicates"], json!([twin]), "{q}");
    let far = a.submitted(&brest, &support::complete_event(a.year, "29200")).await;
    same(&a, &b, &admin, "another organisation's").await;
    decide(twin, "request_changes").await;
    same(&a, &b, &admin, "changes requested").await;
    decide(first, "label").await;
    same(&a, &b, &admin, "a label").await;
    decide(far, "refuse").await;
    same(&a, &b, &admin, "a refusal").await;
    let mut retitled = support::complete_event(a.year, "69003");
    retitled["title"] = json!("Portes ouvertes de l'atelier de bobinage");
    let (s, r) = a.put_json(&format!("/api/v1/me/events/{first}"), &retitled, &lyon).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let q = same(&a, &b, &admin, "a change to a labelled event").await;
    assert_eq!(q["items"][0]["change"], true, "{q}");
    let body = format!("revoke_reason=Annul%C3%A9+par+l%27organisateur&version={}", a.version(first).await);
    let (s, _, _) = a.post_form(&format!("/instruction/evenements/{first}/retrait-label"), &body, Some(&cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    same(&a, &b, &admin, "a withdrawn label").await;
    assert_eq!(b.state.queue.refreshes(), (1, 8), "one whole read, then eight moves applied");

    // The bulk load bumps the counter without recording moves: B reads the whole queue.
    let org = a.company("Forges en masse").await;
    a.labelled_titles(org.id, a.year, "69003", &["Forge".to_string()]).await;
    same(&a, &b, &admin, "a bulk load").await;
    assert_eq!(b.state.queue.refreshes(), (2, 8));

    // A move, then a bulk load of a labelled twin of the moved event: the moves stop short of the
    // counter, so B reads the whole queue and sees the twin as a possible duplicate.
    let again = a.submitted(&lyon, &support::complete_event(a.year, "69003")).await;
    let lyon_org = a.store.user_by_email("lyon@usine.fr").await.unwrap().unwrap().organisation_id.unwrap();
    a.labelled_titles(lyon_org, a.year, "69003", &["Visite de l'usine de moteurs".to_string()]).await;
    let q = same(&a, &b, &admin, "a move then a bulk load").await;
    let listed_again = q["items"].as_array().unwrap().iter().find(|i| i["id"] == again).unwrap().clone();
    assert_eq!(listed_again["possible_duplicates"].as_array().unwrap().len(), 2, "{listed_again}");
    assert_eq!(b.state.queue.refreshes().0, 3);
}

/// The catalogue index follows labels move by move: after labels, a public status, an accepted
/// change and a withdrawn label made through node A, node B's index, updated from the recorded moves
/// (never read whole), answers every search, the map and the sitemap exactly as an index read whole
/// does; a decision through B itself is applied the same way before B's next answer; an edition
/// saved (a bump without a move) makes B read the catalogue whole.
#[tokio::test]
async fn the_catalogue_followed_move_by_move_answers_as_a_whole_read() {
    let a = TestApp::new().await;
    let b = TestApp::with_store(a.store.clone(), None).await;
    let y = a.year;
    let org = a.company("Usines de France").await;
    for (postal, titles) in [
        ("69003", ["Visite de l'usine de moteurs", "Atelier soudure"]),
        ("13001", ["Forum des métiers", "Visite du chantier naval"]),
        ("29200", ["Portes ouvertes", "Visite de la fonderie"]),
    ] {
        a.labelled_titles(org.id, y, postal, &titles.map(String::from)).await;
    }
    a.person("admin@dge.fr", "national_admin", None).await;
    let admin_cookie = a.login("admin@dge.fr").await;
    let orga = a.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let orga_cookie = a.login("lyon@usine.fr").await;
    let paths = [
        format!("/api/v1/events?edition={y}&per_page=100"),
        format!("/api/v1/events?edition={y}&q=visite&per_page=100"),
        format!("/api/v1/events?edition={y}&q=usine+moteurs&per_page=100"),
        format!("/api/v1/events?edition={y}&near=69003&radius_km=30&per_page=100"),
        format!("/api/v1/events?edition={y}&region=84&audience=scolaires&per_page=100"),
        format!("/api/v1/events?edition={y}&per_page=2&page=2"),
        format!("/api/v1/map/clusters?edition={y}&zoom=5"),
        format!("/api/v1/map?edition={y}"),
        "/sitemaps/evenements-1.xml".to_string(),
    ];
    async fn answers(node: &TestApp, paths: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for p in paths {
            let resp = node.get(p, None).await;
            assert_eq!(resp.status(), StatusCode::OK, "{p}");
            out.push(support::body_text(resp).await);
        }
        out
    }
    // Nodes that will read the catalogue whole at their first answer, one per comparison (made now:
    // setting up a node saves the test edition, which may bump the counter without a move).
    let mut fresh = Vec::new();
    for _ in 0..6 {
        fresh.push(TestApp::with_store(a.store.clone(), None).await);
    }
    let fresh = std::cell::RefCell::new(fresh.into_iter());
    let same = |after: &'static str| {
        let (b, paths, fresh) = (&b, &paths, &fresh);
        async move {
            assert_eq!(
                b.state.catalogue.follow(&b.store, &b.state.caches).await.unwrap(),
                si_web::catalogue::Stale::Labels,
                "{after}"
            );
            let node = fresh.borrow_mut().next().expect("a fresh node");
            let whole = answers(&node, paths).await;
            let followed = answers(b, paths).await;
            for (k, p) in paths.iter().enumerate() {
                assert_eq!(followed[k], whole[k], "{p} after {after}");
            }
        }
    };
    let label = |id: i64| {
        let (a, admin_cookie) = (&a, &admin_cookie);
        async move {
            let (s, _, _) = a.decide_on_site(id, "decision=label", admin_cookie).await;
            assert_eq!(s, StatusCode::SEE_OTHER);
        }
    };
    // Labelled before B reads the catalogue: in B's base, so its moves hide it there.
    let early = a.submitted(&orga, &support::complete_event(y, "69003")).await;
    label(early).await;
    answers(&b, &paths).await;
    assert_eq!(b.state.catalogue.refreshes(), (1, 0));

    let first = a.submitted(&orga, &support::complete_event(y, "13001")).await;
    label(first).await;
    same("a label").await;
    let (s, _, _) =
        a.post_form(&format!("/espace/evenements/{early}/statut"), "public_status=cancelled", Some(&orga_cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    same("a public status").await;
    let mut retitled = support::complete_event(y, "69003");
    retitled["title"] = json!("Démonstration de robotique collaborative");
    retitled["audiences"] = json!(["grand_public"]);
    let (s, r) = a.put_json(&format!("/api/v1/me/events/{early}"), &retitled, &orga).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    label(early).await;
    same("an accepted change").await;
    let second = a.submitted(&orga, &support::complete_event(y, "13001")).await;
    label(second).await;
    let body = format!("revoke_reason=Annul%C3%A9+par+l%27organisateur&version={}", a.version(early).await);
    let (s, _, _) =
        a.post_form(&format!("/instruction/evenements/{early}/retrait-label"), &body, Some(&admin_cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    same("a label and a withdrawal").await;
    assert_eq!(b.state.catalogue.refreshes(), (1, 4), "four catch-ups, no whole read");

    // A label decided through B itself: applied before B's next answer, without reading whole.
    let third = b.submitted(&orga, &support::complete_event(y, "29200")).await;
    let b_cookie = b.login("admin@dge.fr").await;
    let (s, _, _) = b.decide_on_site(third, "decision=label", &b_cookie).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, found) = b.get_json(&format!("/api/v1/events?edition={y}&near=29200&radius_km=5")).await;
    assert!(found["items"].as_array().unwrap().iter().any(|e| e["id"] == third), "{found}");
    assert_eq!(b.state.catalogue.refreshes(), (1, 5));

    // An edition saved as it is changes nothing; changed, it bumps the counter without a move: B
    // reads the catalogue whole.
    let mut edition = a.store.edition(y).await.unwrap().unwrap();
    a.store.upsert_edition(&edition).await.unwrap();
    assert_eq!(b.state.catalogue.follow(&b.store, &b.state.caches).await.unwrap(), si_web::catalogue::Stale::Nothing);
    edition.theme = "L'industrie, une aventure collective".into();
    a.store.upsert_edition(&edition).await.unwrap();
    same("an edition").await;
    assert_eq!(b.state.catalogue.refreshes().0, 2);
}

/// The national map: at national and regional zoom, events counted by cells of the map (a few
/// rows, whatever the number of events), an event alone in its cell named; zoomed in, the markers of
/// the part in view only. Both bounded, both refusing junk in French.
#[tokio::test]
async fn the_national_map_reads_clusters_then_markers() {
    let app = TestApp::new().await;
    let org = app.company("Usines de France").await;
    let titles = |city: &str, n: usize| (0..n).map(|i| format!("Visite {city} {i}")).collect::<Vec<_>>();
    app.labelled_titles(org.id, app.year, "69001", &titles("Lyon", 30)).await;
    app.labelled_titles(org.id, app.year, "13001", &titles("Marseille", 20)).await;
    app.labelled_titles(org.id, app.year, "29200", &["Fonderie de Brest".to_string()]).await;
    let y = app.year;
    let rows = |v: &Value| v["rows"].as_array().unwrap().clone();
    let counted = |v: &Value| rows(v).iter().map(|r| r[2].as_u64().unwrap()).sum::<u64>();

    // National zoom: three cells, one per city; Brest's event alone, named.
    let (s, national) = app.get_json(&format!("/api/v1/map/clusters?edition={y}&zoom=5")).await;
    assert_eq!(s, StatusCode::OK, "{national}");
    assert_eq!(national["fields"], json!(["lat", "lon", "count", "id", "title"]));
    assert_eq!((national["total"].as_u64(), counted(&national), rows(&national).len()), (Some(51), 51, 3));
    let alone: Vec<Value> = rows(&national).into_iter().filter(|r| r[2] == 1).collect();
    assert_eq!(alone.len(), 1);
    assert_eq!(alone[0][4], "Fonderie de Brest");
    assert!(alone[0][3].as_i64().is_some());
    assert!(rows(&national).iter().all(|r| r[2] == 1 || (r[3].is_null() && r[4].is_null())));
    // Filters apply, as everywhere in the catalogue.
    let (_, south) = app.get_json(&format!("/api/v1/map/clusters?edition={y}&zoom=5&region=93")).await;
    assert_eq!((south["total"].as_u64(), counted(&south)), (Some(20), 20));

    // A regional view: only what is in it, the total still the whole search's.
    let lyon = "45.5,4.6,46.0,5.2";
    let (_, around) = app.get_json(&format!("/api/v1/map/clusters?edition={y}&zoom=8&bbox={lyon}")).await;
    assert_eq!((around["total"].as_u64(), counted(&around)), (Some(51), 30));
    // Zoomed in: the markers of the view only.
    let (s, markers) = app.get_json(&format!("/api/v1/map?edition={y}&bbox={lyon}")).await;
    assert_eq!(s, StatusCode::OK, "{markers}");
    assert_eq!(markers["total"], 30);
    assert!(rows(&markers).iter().all(|r| r[3].as_str().unwrap().starts_with("Visite Lyon")));
    assert_eq!(app.get_json(&format!("/api/v1/map?edition={y}")).await.1["total"], 51);

    // Junk is refused, the field named, in French.
    for (url, field) in [
        (format!("/api/v1/map/clusters?edition={y}"), "zoom"),
        ("/api/v1/map/clusters?zoom=19".to_string(), "zoom"),
        ("/api/v1/map/clusters?zoom=cinq".to_string(), "zoom"),
        ("/api/v1/map/clusters?zoom=5&bbox=1,2,3".to_string(), "bbox"),
        ("/api/v1/map/clusters?zoom=5&bbox=46,4,45,5".to_string(), "bbox"),
        ("/api/v1/map/clusters?zoom=5&bbox=45,4,46,NaN".to_string(), "bbox"),
        ("/api/v1/map?bbox=45,4,46,500".to_string(), "bbox"),
        ("/api/v1/map?zoom=5".to_string(), "zoom"),
        ("/api/v1/map/clusters?zoom=5&pays=fr".to_string(), "pays"),
        ("/api/v1/map/clusters?zoom=5&region=99".to_string(), "region"),
    ] {
        let (s, e) = app.get_json(&url).await;
        assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{url}: {e}");
    }
    let (_, e) = app.get_json("/api/v1/map/clusters?zoom=5&bbox=1,2,3").await;
    assert!(e["error"]["message"].as_str().unwrap().starts_with("Zone invalide"), "{e}");

    // Nearby views share one answer (the area is widened to whole cells), revalidated by ETag.
    let first = app.get(&format!("/api/v1/map/clusters?edition={y}&zoom=8&bbox=45.51,4.61,45.99,5.19"), None).await;
    let second = app.get(&format!("/api/v1/map/clusters?edition={y}&zoom=8&bbox=45.52,4.62,45.98,5.18"), None).await;
    assert_eq!(first.headers()["etag"], second.headers()["etag"]);
}

/// Stopping a node (SIGTERM in production): it stops accepting, a request in flight is answered
/// whole, idle connections are closed, and `serve` returns once the last answer is sent.
#[tokio::test]
async fn a_stopping_node_answers_what_is_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let slow = axum::Router::new().route(
        "/lent",
        axum::routing::get(|| async {
            tokio::time::sleep(std::time::Duration::from_millis(800)).await;
            "réponse entière"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(si_web::server::serve(listener, slow, Default::default(), async {
        let _ = stopped.await;
    }));
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut busy = tokio::net::TcpStream::connect(addr).await.unwrap();
    busy.write_all(b"GET /lent HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = stop.send(());
    let mut answer = String::new();
    busy.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("réponse entière"), "{answer}");
    let mut buf = [0u8; 16];
    assert_eq!(idle.read(&mut buf).await.unwrap_or(0), 0, "an idle connection is closed");
    tokio::time::timeout(std::time::Duration::from_secs(10), server).await.expect("serve returns").unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "nothing listens any more");
}

/// `/metrics`: requests counted under their route pattern (never the raw path, so anonymous clients
/// cannot make new series), latency histograms, the outbox, the index; only for the token's holder.
#[tokio::test]
async fn metrics_count_by_route_and_answer_only_their_reader() {
    let app = TestApp::configured(|c| c.metrics_token = Some("jeton-de-supervision".into())).await;
    for path in ["/evenements/999991", "/evenements/999992", "/api/v1/events", "/page-inconnue-1", "/page-inconnue-2"] {
        app.get(path, None).await;
    }
    for method in ["BREW", "XYZZY"] {
        let req =
            axum::http::Request::builder().method(method).uri("/evenements").body(axum::body::Body::empty()).unwrap();
        app.send(req).await;
    }
    let read = |token: Option<&'static str>| {
        let mut b = axum::http::Request::get("/metrics");
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let req = b.body(axum::body::Body::empty()).unwrap();
        async { app.send(req).await }
    };
    assert_eq!(read(None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(read(Some("mauvais")).await.status(), StatusCode::NOT_FOUND);
    let resp = read(Some("jeton-de-supervision")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = support::body_text(resp).await;
    assert!(text.contains(r#"si_http_requests_total{method="GET",route="/evenements/{id}",status="404"} 2"#), "{text}");
    assert!(text.contains(r#"si_http_requests_total{method="GET",route="(autre)",status="404"} 2"#));
    assert!(!text.contains("999991") && !text.contains("page-inconnue"), "raw paths never become series");
    assert!(!text.contains("BREW") && text.contains(r#"method="other",route="/evenements""#), "nor unknown methods");
    assert!(text.contains(r#"si_http_request_duration_seconds_count{route="/api/v1/events"} 1"#));
    assert!(text.contains(r#"si_http_request_duration_seconds_bucket{route="/api/v1/events",le="+Inf"} 1"#));
    for name in [
        "si_outbox_pending 0",
        "si_database_up 1",
        "si_catalogue_index_events 0",
        "si_submissions_last_hour 0",
        "si_catalogue_index_reads_total 1",
        "si_catalogue_index_updates_total 0",
        "si_review_queue_reads_total 0",
    ] {
        assert!(text.contains(name), "{name}: {text}");
    }
}

/// Login limits hold across nodes: the ten guesses one place may make at one account are ten in
/// all, whichever node receives them; the owner's password link gives the account back everywhere.
#[tokio::test]
async fn login_limits_hold_across_nodes() {
    let a = TestApp::new().await;
    let b = TestApp::with_store(a.store.clone(), None).await;
    a.organiser("cible@usine.fr", "Usine Visée").await;
    let guess = "email=cible%40usine.fr&password=une+mauvaise+phrase+de+passe";
    for k in 0..10 {
        let node = if k % 2 == 0 { &a } else { &b };
        let (s, _, _) = node.post_form("/connexion", guess, None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "guess {k}: refused as wrong, not limited");
    }
    // Node B has seen five guesses only, but the limit is the platform's.
    let (s, page, _) = b.post_form("/connexion", guess, None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert!(page.contains("Trop de tentatives de connexion pour cette adresse"));
    let (s, _, _) = a.post_form("/connexion", guess, None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}
