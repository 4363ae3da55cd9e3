//! National scale: what one node must hold whatever the public asks of it.

use axum::http::StatusCode;
use serde_json::Value;

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
