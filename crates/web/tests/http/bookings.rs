//! Class bookings through the site and the API: a teacher finds a visit with seats, books a class
//! (errors shown with what was typed kept), receives the confirmation with its `.ics` and PDF, a
//! second class fills the session, a third waits, a smaller group frees seats that promote it, a
//! larger one is refused unchanged, cancel-and-erase leaves only counts; the organiser lists, exports
//! and closes bookings, and no other organisation sees them.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, complete_event};

/// A labelled event booked on the platform: 40 seats per session, groups of at most 35, a waiting
/// list; its id and the organiser's API token.
pub(crate) async fn bookable_event(app: &TestApp, waitlist: bool) -> (i64, String) {
    let orga = app.organiser("visites@usine.fr", "Usine des Visites").await;
    let admin = app.person("admin-reservations@dge.fr", "national_admin", None).await;
    let mut e = complete_event(app.year, "69001");
    e["registration"] = json!({"mode": "platform", "capacity": 40, "max_group": 35, "waitlist": waitlist});
    e["safety"] = json!({"min_age": 12, "protective_equipment": true, "photos_forbidden": true});
    let id = app.submitted(&orga, &e).await;
    let version = app.version(id).await;
    let (s, r) = app
        .post_json(
            &format!("/api/v1/review/events/{id}/decision"),
            &json!({"decision": "label", "version": version}),
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    (id, orga)
}

pub(crate) fn class(email: &str, pupils: u32, adults: u32) -> Value {
    json!({"kind": "classe", "uai": "0750655E", "school": "Collège Jean Moulin", "level": "college",
           "pupils": pupils, "adults": adults, "phone": "04 72 00 00 00", "name": "Claire Martin",
           "email": email, "acknowledged": true})
}

#[tokio::test]
async fn a_teacher_books_a_class_and_the_waiting_list_moves_up() {
    let app = TestApp::new().await;
    let (id, orga) = bookable_event(&app, true).await;

    // The public sees the seats of each session, and where to book.
    let (s, e) = app.get_json(&format!("/api/v1/events/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (e["sessions"][0]["seats_left"].as_u64(), e["sessions"][0]["booking"].as_str()),
        (Some(40), Some("open"))
    );
    let (_, page) = app.get_html(&format!("/evenements/{id}"), None).await;
    assert!(page.contains("40 places restantes") && page.contains(&format!("/evenements/{id}/reserver/1")), "{page}");
    assert!(page.contains("Photos et vidéos interdites"));

    // The form: prerequisites shown; a refused form keeps what was typed.
    let (s, form) = app.get_html(&format!("/evenements/{id}/reserver/1"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("Âge minimum : 12 ans") && form.contains("Équipements de protection"));
    let bad = "kind=classe&uai=0750655F&school=Coll%C3%A8ge+%3Cb%3EJean%3C%2Fb%3E&level=college&pupils=28&adults=3&phone=0472000000&name=Claire&email=claire%40ac-lyon.fr";
    let (s, body, _) = app.post_form(&format!("/evenements/{id}/reserver/1"), bad, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"uai-error\"") && body.contains("id=\"acknowledged-error\""), "{body}");
    assert!(
        body.contains("value=\"Coll\u{e8}ge &#60;b&#62;Jean&#60;/b&#62;\"") || body.contains("Collège &lt;b&gt;Jean"),
        "typed text kept, escaped: {body}"
    );
    assert!(!body.contains("<b>Jean</b>"));
    assert!(app.store.event_bookings(id).await.unwrap().is_empty(), "nothing booked");

    // Booked: the secret page, then the letter with its .ics and PDF.
    let good = "kind=classe&uai=0750655E&school=Coll%C3%A8ge+Jean+Moulin&level=college&pupils=28&adults=3&phone=0472000000&name=Claire+Martin&email=claire%40ac-lyon.fr&acknowledged=oui";
    let (s, to) = app.post_form_to(&format!("/evenements/{id}/reserver/1"), good).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let manage = to.unwrap();
    assert!(manage.starts_with("/reservations/") && manage.ends_with("?nouvelle=1"), "{manage}");
    let token = manage.trim_start_matches("/reservations/").trim_end_matches("?nouvelle=1").to_string();
    let (s, mine) = app.get_html(&manage, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(mine.contains("Confirmée") && mine.contains("28 élève(s) et 3 accompagnateur(s)"), "{mine}");
    let sent = app.deliver().await;
    let letter = sent.iter().find(|m| m.recipient == "claire@ac-lyon.fr").expect("a confirmation");
    assert!(letter.subject.starts_with("Réservation confirmée"));
    assert!(letter.text.contains(&format!("/reservations/{token}")), "the secret link is in the letter");
    let ics = letter.attachments.iter().find(|a| a.name.ends_with(".ics")).expect("an .ics");
    let cal: icalendar::Calendar =
        String::from_utf8(ics.bytes.clone()).unwrap().parse().expect("a real parser reads it");
    assert_eq!(cal.components.len(), 1, "the booked session only");
    let pdf = letter.attachments.iter().find(|a| a.content_type == "application/pdf").expect("a PDF");
    assert!(pdf.bytes.starts_with(b"%PDF-1.4") && pdf.bytes.ends_with(b"%%EOF\n"));

    // The API: a second class fills the session (31 + 9 = 40), a third waits.
    let path = format!("/api/v1/events/{id}/sessions/{id}-1/registrations");
    let (s, second) = app.post_json(&path, &class("second@ac-lyon.fr", 8, 1), None).await;
    assert_eq!((s, second["status"].as_str()), (StatusCode::CREATED, Some("confirmed")), "{second}");
    let (s, third) = app.post_json(&path, &class("third@ac-lyon.fr", 4, 1), None).await;
    assert_eq!((s, third["status"].as_str()), (StatusCode::CREATED, Some("waitlisted")), "{third}");
    let third_url = third["manage_url"].as_str().unwrap().to_string();
    let (_, e) = app.get_json(&format!("/api/v1/events/{id}")).await;
    assert_eq!(
        (e["sessions"][0]["seats_left"].as_u64(), e["sessions"][0]["booking"].as_str()),
        (Some(0), Some("waitlist"))
    );
    // Bad input names the field; another event's session is not found.
    let mut no_mail = class("", 1, 1);
    no_mail["email"] = json!("pas-une-adresse");
    let (s, r) = app.post_json(&path, &no_mail, None).await;
    assert_eq!((s, r["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("email")), "{r}");
    let (s, _) = app
        .post_json(&format!("/api/v1/events/{id}/sessions/999999-1/registrations"), &class("x@ac-lyon.fr", 1, 1), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.deliver().await;

    // A larger group needs seats that are not there: refused, unchanged, the typed numbers kept.
    let (s, body, _) = app.post_form(&format!("/reservations/{token}"), "action=resize&pupils=32&adults=3", None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(body.contains("value=\"32\""), "typed kept");
    assert_eq!(app.store.booking_by_token(&si_web::auth::hash_secret(&token)).await.unwrap().unwrap().seats, 31);
    // A smaller group frees five seats: the waiting class (5) is promoted and told.
    let (s, r) = app
        .call_json("PATCH", &format!("/api/v1/registrations/{token}"), Some(&json!({"pupils": 23, "adults": 3})))
        .await;
    assert_eq!((s, r["seats"].as_u64()), (StatusCode::OK, Some(26)), "{r}");
    let third_token = third_url.rsplit('/').next().unwrap();
    let (_, t) = app.get_json(&format!("/api/v1/registrations/{third_token}")).await;
    assert_eq!(t["status"], "confirmed", "promoted: {t}");
    let sent = app.deliver().await;
    assert!(sent.iter().any(|m| m.recipient == "third@ac-lyon.fr"
        && m.subject.starts_with("Places libérées")
        && m.attachments.len() == 2));
    assert!(sent.iter().any(|m| m.recipient == "claire@ac-lyon.fr" && m.subject.starts_with("Réservation modifiée")));

    // The organiser's list and CSV; another organisation sees nothing.
    let cookie = app.login("visites@usine.fr").await;
    let (s, list) = app.get_html(&format!("/espace/evenements/{id}/reservations"), Some(&cookie)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains("Collège Jean Moulin") && list.contains("40 place(s) réservée(s) sur 40"), "{list}");
    let resp = app.get(&format!("/espace/evenements/{id}/reservations.csv"), Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csv = crate::support::body_text(resp).await;
    assert!(
        csv.starts_with("\u{feff}reference;seance;statut") && csv.contains("\r\n") && csv.contains("third@ac-lyon.fr")
    );
    // A message to every person booked: refused when empty (typed kept), then sent once per address.
    let (s, body, _) = app
        .post_form(&format!("/espace/evenements/{id}/reservations/message"), "message=+&session=", Some(&cookie))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"message-error\""));
    let (s, _, _) = app
        .post_form(
            &format!("/espace/evenements/{id}/reservations/message"),
            "message=Entr%C3%A9e+par+le+portail+B.&session=1",
            Some(&cookie),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let sent = app.deliver().await;
    let told: Vec<&str> = sent
        .iter()
        .filter(|m| m.subject.starts_with("Message de l'organisateur"))
        .map(|m| m.recipient.as_str())
        .collect();
    assert_eq!(told.len(), 3, "{told:?}");
    assert!(sent.iter().all(|m| !m.subject.starts_with("Message") || m.text.contains("Entrée par le portail B.")));
    app.organiser("autre@usine.fr", "Autre Usine").await;
    let other = app.login("autre@usine.fr").await;
    let (s, _) = app.get_html(&format!("/espace/evenements/{id}/reservations"), Some(&other)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let _ = orga;

    // Cancel and erase: the seats go back, the person is gone, the link opens a cancelled booking.
    let (s, r) = app.call_json("DELETE", &format!("/api/v1/registrations/{token}?erase=true"), None).await;
    assert_eq!((s, r["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{r}");
    let b = app.store.booking_by_token(&si_web::auth::hash_secret(&token)).await.unwrap().unwrap();
    assert_eq!((b.email.as_str(), b.name.as_str(), b.pupils), ("", "", 23));
    let (s, _) = app.call_json("DELETE", &format!("/api/v1/registrations/{token}"), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "cancelled once");
    let (_, e) = app.get_json(&format!("/api/v1/events/{id}")).await;
    assert_eq!(e["sessions"][0]["seats_left"].as_u64(), Some(26), "the 26 seats came back");

    // The organiser closes the session: the page says so, a booking is refused.
    let (s, _, _) =
        app.post_form(&format!("/espace/evenements/{id}/reservations/1/cloture"), "close=1", Some(&cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, r) = app.post_json(&path, &class("late@ac-lyon.fr", 2, 1), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");
    let (_, page) = app.get_html(&format!("/evenements/{id}"), None).await;
    assert!(page.contains("Réservations closes"));
}

#[tokio::test]
async fn a_full_session_without_waiting_list_says_so() {
    let app = TestApp::new().await;
    let (id, _) = bookable_event(&app, false).await;
    let path = format!("/api/v1/events/{id}/sessions/1/registrations");
    let (s, _) = app.post_json(&path, &class("a@ac-lyon.fr", 30, 5), None).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app.post_json(&path, &class("c@ac-lyon.fr", 4, 1), None).await;
    assert_eq!(s, StatusCode::CREATED, "the last five seats");
    let (s, r) = app.post_json(&path, &class("b@ac-lyon.fr", 5, 1), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("complète"), "{r}");
    // One address never holds more than one group's seats on a session.
    let (s, r) = app.post_json(&path, &class("a@ac-lyon.fr", 1, 1), None).await;
    assert!(s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::CONFLICT, "{s} {r}");
    // The site's form shows the same refusal above the form, with what was typed.
    let body = "kind=personne&name=In%C3%A8s&email=ines%40exemple.fr&acknowledged=oui";
    let (s, html, _) = app.post_form(&format!("/evenements/{id}/reserver/1"), body, None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("Réservation impossible") && html.contains("ines@exemple.fr"), "{html}");
}

/// Local time in Paris as an instant.
fn paris(day: chrono::NaiveDate, hour: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    si_domain::dates::PARIS
        .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Reminders two days before (once, to each booked contact and to the organiser with the list), the
/// report asked for the day after (once), the report with girls and women counted into the
/// statistics and the coordinators' page, the questionnaire's answers shown from five, and the
/// contacts erased when their retention ends.
#[tokio::test]
async fn after_booking_reminders_reports_statistics_feedback_and_retention() {
    let app = TestApp::new().await;
    let (id, _) = bookable_event(&app, true).await;
    let path = format!("/api/v1/events/{id}/sessions/1/registrations");
    let (s, _) = app.post_json(&path, &class("claire@ac-lyon.fr", 28, 3), None).await;
    assert_eq!(s, StatusCode::CREATED);
    let person = json!({"kind": "personne", "name": "Inès", "email": "ines@exemple.fr", "acknowledged": true});
    let (s, _) = app.post_json(&path, &person, None).await;
    assert_eq!(s, StatusCode::CREATED);
    app.deliver().await;
    let day = crate::support::test_week_start() + chrono::Duration::days(1);
    let (app, clock) = app.at(paris(day - chrono::Duration::days(3), 10));
    let work = || async { si_web::app::bookings::due_work(&app.state.deps(), 6).await };

    assert_eq!(work().await.unwrap().reminders, 0, "three days before: not yet");
    clock.set(paris(day - chrono::Duration::days(1), 10));
    assert_eq!(work().await.unwrap().reminders, 2);
    assert_eq!(work().await.unwrap().reminders, 0, "once");
    let sent = app.deliver().await;
    assert!(sent.iter().any(|m| m.recipient == "claire@ac-lyon.fr" && m.subject.starts_with("Rappel")));
    assert!(sent.iter().any(|m| m.recipient == "ines@exemple.fr" && m.subject.starts_with("Rappel")));
    let to_orga = sent.iter().find(|m| m.recipient == "visites@usine.fr").expect("the organiser's list");
    assert!(
        to_orga.text.contains("Collège Jean Moulin") && to_orga.text.contains("32 place(s) réservée(s)"),
        "{}",
        to_orga.text
    );

    // The questionnaire opens on the day: four answers are not shown, five are.
    clock.set(paris(day, 15));
    let (s, _) = app.get_html(&format!("/avis/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, body, _) = app.post_form(&format!("/avis/{id}"), "before=2&career=oui", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"after-error\"") && body.contains("value=\"2\" checked"), "the answer kept");
    for (b, a, c) in [("2", "4", "oui"), ("3", "4", "peut_etre"), ("1", "3", "non"), ("2", "5", "oui")] {
        let (s, body, _) =
            app.post_form(&format!("/avis/{id}"), &format!("before={b}&after={a}&career={c}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("Merci"));
    }
    let cookie = app.login("visites@usine.fr").await;
    let (_, report) = app.get_html(&format!("/espace/evenements/{id}/bilan"), Some(&cookie)).await;
    assert!(report.contains("à partir de 5"), "four answers are not shown");
    app.post_form(&format!("/avis/{id}"), "before=2&after=4&career=oui", None).await;
    let (_, report) = app.get_html(&format!("/espace/evenements/{id}/bilan"), Some(&cookie)).await;
    assert!(
        report.contains("5 réponses") && report.contains("2,0 sur 5 avant") && report.contains("4,0 sur 5 après"),
        "{report}"
    );
    // The attendance sheet lists who is expected, with the questionnaire's QR code.
    let (s, sheet) = app.get_html(&format!("/espace/evenements/{id}/feuille"), Some(&cookie)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(sheet.contains("Collège Jean Moulin") && sheet.contains("28 / 3") && sheet.contains("<svg"), "{sheet}");

    // The day after: the report is asked for, once.
    clock.set(paris(day + chrono::Duration::days(1), 9));
    assert_eq!(work().await.unwrap().report_requests, 1);
    assert_eq!(work().await.unwrap().report_requests, 0);
    let sent = app.deliver().await;
    assert!(
        sent.iter()
            .any(|m| m.recipient == "visites@usine.fr" && m.text.contains(&format!("/espace/evenements/{id}/bilan")))
    );

    // The report: refused when it does not add up (what was typed kept), then recorded.
    let bad = "participants=30&girls=31&classes=1&schools=1";
    let (s, body, _) = app.post_form(&format!("/espace/evenements/{id}/bilan"), bad, Some(&cookie)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"girls-error\"") && body.contains("value=\"31\""));
    let good = "participants=32&girls=15&classes=1&schools=1&interviews=0&audience_scolaires=28&audience_communaute_educative=4";
    let (s, _, _) = app.post_form(&format!("/espace/evenements/{id}/bilan"), good, Some(&cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, stats) = app.get_html(&format!("/statistiques?edition={}", app.year), None).await;
    assert!(stats.contains("Participation par région") && stats.contains("46,9 %"), "15 of 32: {stats}");
    let resp = app.get(&format!("/statistiques.csv?edition={}", app.year), None).await;
    let csv = crate::support::body_text(resp).await;
    assert!(csv.contains("participants_declares;84;") && csv.contains("dont_filles_femmes;national;"), "{csv}");
    // Coordinators read their region's reports; another region's coordinator does not.
    app.person("coord-ara@region.fr", "regional_coordinator", Some("84")).await;
    app.person("coord-idf@region.fr", "regional_coordinator", Some("11")).await;
    let ara = app.login("coord-ara@region.fr").await;
    let idf = app.login("coord-idf@region.fr").await;
    let (_, page) = app.get_html("/instruction/bilans", Some(&ara)).await;
    assert!(page.contains("Visite de l") && page.contains("15 (46,9 %)"), "{page}");
    let (_, page) = app.get_html("/instruction/bilans", Some(&idf)).await;
    assert!(page.contains("Aucun bilan reçu"), "{page}");

    // Retention: six months after the week, the contacts go, the counts stay.
    let week_end = crate::support::open_edition().week_end;
    clock.set(paris(week_end + chrono::Months::new(6), 12));
    assert_eq!(work().await.unwrap().erased, 0, "not before the end of the sixth month");
    clock.set(paris(week_end + chrono::Months::new(6) + chrono::Duration::days(1), 12));
    assert_eq!(work().await.unwrap().erased, 2);
    let all = app.store.event_bookings(id).await.unwrap();
    assert!(all.iter().all(|b| b.email.is_empty() && b.name.is_empty() && b.seats > 0));
}

/// An event that will not take place takes its bookings with it: each person booked is told, the
/// seats are freed, and nobody can book any more.
#[tokio::test]
async fn a_cancelled_event_tells_everyone_booked_and_frees_their_seats() {
    let app = TestApp::new().await;
    let (id, _) = bookable_event(&app, true).await;
    let path = format!("/api/v1/events/{id}/sessions/1/registrations");
    for (email, pupils) in [("a@ac-lyon.fr", 30), ("b@ac-lyon.fr", 8), ("c@ac-lyon.fr", 9)] {
        let (s, r) = app.post_json(&path, &class(email, pupils, 1), None).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    app.deliver().await;
    let cookie = app.login("visites@usine.fr").await;
    let (s, _, _) =
        app.post_form(&format!("/espace/evenements/{id}/statut"), "public_status=cancelled", Some(&cookie)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let all = app.store.event_bookings(id).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|b| b.status == si_domain::BookingStatus::Cancelled), "{all:?}");
    assert_eq!(app.store.session_seats(&[id]).await.unwrap()[0].confirmed, 0);
    let sent = app.deliver().await;
    for email in ["a@ac-lyon.fr", "b@ac-lyon.fr", "c@ac-lyon.fr"] {
        assert!(sent.iter().any(|m| m.recipient == email && m.subject.starts_with("Événement annulé")), "{email}");
    }
    let (s, _) = app.post_json(&path, &class("d@ac-lyon.fr", 2, 1), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
}
