//! Review at national scale, through the router: regional scope, the queue (due dates, overdue,
//! filters, backlog, duplicates), bulk labelling checked one by one, requests for changes and
//! resubmission, change control after labelling, public status, label withdrawal, the label kit,
//! « reconduire », and the letters each step sends.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use si_domain::Moderation;
use si_store::Transition;

use crate::support::{TestApp, complete_event, test_week_start};

fn with(mut e: Value, changes: &[(&str, Value)]) -> Value {
    for (k, v) in changes {
        e[*k] = v.clone();
    }
    e
}

/// A letter to `to` whose subject starts with `subject`, from what the outbox sent.
fn letter<'a>(sent: &'a [si_web::mail::Sent], to: &str, subject: &str) -> &'a si_web::mail::Sent {
    sent.iter().find(|m| m.recipient == to && m.subject.starts_with(subject)).unwrap_or_else(|| {
        panic!("no « {subject} » to {to} in {:?}", sent.iter().map(|m| (&m.recipient, &m.subject)).collect::<Vec<_>>())
    })
}

#[tokio::test]
async fn review_at_national_scale() {
    review_journey(TestApp::new().await).await;
}

/// The same on PostgreSQL (`TEST_DATABASE_URL`; ignored unless asked for).
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn review_at_national_scale_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    let store = si_store::connect(&url).await.unwrap();
    review_journey(TestApp::with_store(store, None).await).await;
    drop_db.await;
}

async fn review_journey(app: TestApp) {
    let year = app.year;
    let _admin = app.person("admin@dge.fr", "national_admin", None).await;
    let ara_token = app.person("ara@region.fr", "regional_coordinator", Some("84")).await;
    let lyon = app.organiser("lyon@usine.fr", "Usine de Lyon").await;
    let paris = app.organiser("paris@atelier.fr", "Atelier de Paris").await;
    let day2 = test_week_start() + Duration::days(2);

    // Submissions: three in Auvergne-Rhône-Alpes (one with a weak industry signal), one in Île-de-France,
    // one online-only (national queue whatever its address).
    let a1 = app.submitted(&lyon, &complete_event(year, "69001")).await;
    let a2 = app
        .submitted(
            &lyon,
            &with(
                complete_event(year, "69800"),
                &[
                    ("title", json!("Portes ouvertes du centre de formation en chaudronnerie")),
                    ("sessions", json!([{"start": format!("{day2}T14:00"), "end": format!("{day2}T17:00")}])),
                ],
            ),
        )
        .await;
    let a3 = app
        .submitted(
            &lyon,
            &with(
                complete_event(year, "38000"),
                &[
                    ("title", json!("Après-midi jeux de société")),
                    ("summary", json!("Un moment convivial.")),
                    ("description", json!("Jeux de société et goûter pour les jeunes du quartier.")),
                ],
            ),
        )
        .await;
    let p1 = app.submitted(&paris, &complete_event(year, "75011")).await;
    let o1 = app
        .submitted(
            &paris,
            &with(
                complete_event(year, "69001"),
                &[
                    ("format", json!("en_ligne")),
                    ("online_url", json!("https://visio.example.fr/usine")),
                    ("title", json!("Webinaire des métiers de l'usine")),
                ],
            ),
        )
        .await;
    // One received nine days ago (labelling opened ten days ago): overdue.
    let (_, late) = app
        .post_json(
            "/api/v1/me/events",
            &with(complete_event(year, "69003"), &[("title", json!("Visite de l'atelier de soudure laser"))]),
            Some(&lyon),
        )
        .await;
    let late = late["id"].as_i64().unwrap();
    let lyon_user = app.store.user_by_email("lyon@usine.fr").await.unwrap().unwrap();
    app.store.transition(&Transition::submit(late, lyon_user.id, Utc::now() - Duration::days(9))).await.unwrap();
    // The same event twice: a possible duplicate.
    let dup = app.submitted(&lyon, &complete_event(year, "69001")).await;

    // Each submission was acknowledged to its organisation with the due date.
    let sent = app.deliver().await;
    let ack = letter(&sent, "lyon@usine.fr", "Demande de labellisation reçue");
    assert!(ack.text.contains("4 jours ouvrés, soit au plus tard le"), "{}", ack.text);
    assert!(ack.html.contains("<html lang=\"fr\">") && ack.html.contains("au plus tard le"));
    assert_eq!(sent.iter().filter(|m| m.recipient == "paris@atelier.fr").count(), 2);

    // The regional coordinator sees their region only — pages and API alike.
    let ara = app.login("ara@region.fr").await;
    let (s, html) = app.get_html("/instruction", Some(&ara)).await;
    assert_eq!(s, StatusCode::OK);
    for id in [a1, a2, a3, late, dup] {
        assert!(html.contains(&format!("/instruction/evenements/{id}\"")), "{id} in the ARA queue");
    }
    for id in [p1, o1] {
        assert!(!html.contains(&format!("/instruction/evenements/{id}\"")), "{id} not in the ARA queue");
    }
    assert!(html.contains("Échéance") && html.contains("Événements par état"));
    assert!(!html.contains("Demandes en attente par région"), "no national backlog for a coordinator");
    let (s, _) = app.get_html(&format!("/instruction/evenements/{p1}"), Some(&ara)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = app.decide_on_site(p1, "decision=label", &ara).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, q) = app.get_json_auth("/api/v1/review/queue", &ara_token).await;
    assert_eq!(s, StatusCode::OK);
    let mut ids: Vec<i64> = q["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    ids.sort();
    let mut expected = vec![a1, a2, a3, late, dup];
    expected.sort();
    assert_eq!(ids, expected);
    // Earliest due first; the late one is overdue and flagged; the duplicates point at each other.
    assert_eq!(q["items"][0]["id"], late);
    assert_eq!(q["items"][0]["overdue"], true);
    let item = |id: i64| q["items"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(item(a1)["overdue"], false);
    assert_eq!(item(a1)["possible_duplicates"], json!([dup]));
    assert_eq!(item(dup)["possible_duplicates"], json!([a1]));
    assert_eq!(item(a3)["industry_signal_weak"], true);
    assert_eq!(item(a1)["industry_signal_weak"], false);
    let (s, _) = app
        .post_json(
            &format!("/api/v1/review/events/{p1}/decision"),
            &json!({"decision": "label", "version": app.version(p1).await}),
            Some(&ara_token),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Filters.
    let only = |html: &str, yes: &[i64], no: &[i64]| {
        for id in yes {
            assert!(html.contains(&format!("/instruction/evenements/{id}\"")), "{id} expected");
        }
        for id in no {
            assert!(!html.contains(&format!("/instruction/evenements/{id}\"")), "{id} not expected");
        }
    };
    let (_, html) = app.get_html("/instruction?retard=1", Some(&ara)).await;
    only(&html, &[late], &[a1, a2, a3, dup]);
    assert!(html.contains("En retard"));
    let (_, html) = app.get_html("/instruction?signal=1", Some(&ara)).await;
    only(&html, &[a3], &[a1, a2, late]);
    let (_, html) = app.get_html("/instruction?doublon=1", Some(&ara)).await;
    only(&html, &[a1, dup], &[a2, a3, late]);
    let (_, html) = app.get_html("/instruction?departement=38", Some(&ara)).await;
    only(&html, &[a3], &[a1, a2]);
    let (_, html) = app.get_html("/instruction?sans_alerte=1", Some(&ara)).await;
    only(&html, &[a2, late], &[a1, a3, dup]);
    // The export holds the same rows as the page, within the same scope.
    let r = app.get("/instruction/export.csv?retard=1", Some(&ara)).await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = crate::support::body_text(r).await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("Visite de l'atelier de soudure laser") && csv.contains(";oui;"));
    let csv = crate::support::body_text(app.get("/instruction/export.csv", Some(&ara)).await).await;
    assert_eq!(csv.lines().count(), 6, "five rows of ARA, none of Île-de-France or online: {csv}");
    assert!(!csv.contains("Atelier de Paris"));
    let (_, html) = app.get_html(&format!("/instruction/evenements/{dup}"), Some(&ara)).await;
    assert!(html.contains("Doublon possible") && html.contains(&format!("/instruction/evenements/{a1}\"")));

    // An organiser withdraws a submission before the decision: out of the queue, once.
    let day4 = test_week_start() + Duration::days(4);
    let w = app
        .submitted(
            &lyon,
            &with(
                complete_event(year, "69002"),
                &[
                    ("title", json!("Conférence sur l'hydrogène industriel")),
                    ("sessions", json!([{"start": format!("{day4}T10:00"), "end": format!("{day4}T11:00")}])),
                ],
            ),
        )
        .await;
    let lyon_site = app.login("lyon@usine.fr").await;
    let (s, _, _) = app.post_form(&format!("/espace/evenements/{w}"), "action=withdraw", Some(&lyon_site)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(app.store.event(w).await.unwrap().unwrap().moderation, Moderation::Withdrawn);
    let (_, html) = app.get_html("/instruction", Some(&ara)).await;
    assert!(!html.contains(&format!("/instruction/evenements/{w}\"")));
    let (s, _, _) = app.post_form(&format!("/espace/evenements/{w}"), "action=withdraw", Some(&lyon_site)).await;
    assert_eq!(s, StatusCode::CONFLICT, "a withdrawn event cannot be withdrawn again");
    let (s, _, _) = app.decide_on_site(w, "decision=label", &ara).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "nor decided");
    app.deliver().await;

    // The national view: everything, and the backlog per region with the national queue.
    let admin = app.login("admin@dge.fr").await;
    let (_, html) = app.get_html("/instruction", Some(&admin)).await;
    only(&html, &[a1, p1, o1], &[]);
    assert!(html.contains("Demandes en attente par région"));
    assert!(
        html.contains("National (en ligne)") && html.contains("Île-de-France") && html.contains("Auvergne-Rhône-Alpes")
    );
    let (_, html) = app.get_html("/instruction?region=national", Some(&admin)).await;
    only(&html, &[o1], &[a1, p1]);

    // Bulk labelling from the queue: each checked at the moment of the decision. The coordinator's
    // selection includes an event of another region: refused, untouched.
    let body = format!(
        "id={a2}:{}&id={late}:{}&id={p1}:{}&filtres=sans_alerte%3D1",
        app.version(a2).await,
        app.version(late).await,
        app.version(p1).await
    );
    let (s, html, _) = app.post_form("/instruction/labelliser", &body, Some(&ara)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("2 événements labellisés"), "{html}");
    assert!(html.contains(&format!("n° {p1}")));
    assert_eq!(app.store.event(p1).await.unwrap().unwrap().moderation, Moderation::Submitted);
    // Île-de-France now runs the week at other dates (per-region dates): its event no longer meets
    // the dates condition at decision time, while the online event (no regional override) does.
    let mut edition = app.store.edition(year).await.unwrap().unwrap();
    let later = edition.week_start + Duration::days(70);
    edition.regions.push(si_domain::RegionDates {
        region: "11".into(),
        week_start: later,
        week_end: later + Duration::days(6),
        eligible_from: later,
        eligible_to: later + Duration::days(6),
    });
    app.store.upsert_edition(&edition).await.unwrap();
    let (s, html, _) = app
        .post_form(
            "/instruction/labelliser",
            &format!("id={p1}:{}&id={o1}:{}", app.version(p1).await, app.version(o1).await),
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("1 événement labellisé"), "{html}");
    assert!(html.contains("Atelier") || html.contains("Visite de l'usine de moteurs"));
    assert!(html.contains("conditions non remplies – Dates :"), "the failed condition is named: {html}");
    assert_eq!(app.store.event(p1).await.unwrap().unwrap().moderation, Moderation::Submitted);
    assert_eq!(app.store.event(o1).await.unwrap().unwrap().moderation, Moderation::Labelled);

    // Labelled: the organiser gets the kit links; the public sees the event.
    let sent = app.deliver().await;
    let labelled = letter(&sent, "lyon@usine.fr", "Événement labellisé");
    assert!(labelled.text.contains(&format!("/evenements/{a2}/label/attestation.pdf")), "{}", labelled.text);
    assert!(labelled.text.contains(&format!("/evenements/{a2}/label/badge.svg")));
    assert_eq!(app.get_html(&format!("/evenements/{a2}"), None).await.0, StatusCode::OK);

    // The label kit.
    let r = app.get(&format!("/evenements/{a2}/label/attestation.pdf"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = crate::support::body_text(r).await;
    let label = app.store.event(a2).await.unwrap().unwrap().label_number.unwrap();
    assert!(
        pdf.starts_with("%PDF-1.4")
            && pdf.contains(&format!("({label})"))
            && pdf.contains("(organis\\351 par Usine de Lyon)")
    );
    assert!(pdf.contains(&format!("Semaine de l'industrie {year}")));
    let r = app.get(&format!("/evenements/{a2}/label/badge.svg"), None).await;
    assert_eq!(r.headers()["content-type"], "image/svg+xml; charset=utf-8");
    let svg = crate::support::body_text(r).await;
    assert!(svg.contains(&format!("Événement labellisé Semaine de l'industrie {year}")) && svg.contains(&label));
    assert!(svg.contains(&format!("/evenements/{a2}")) && svg.matches("h1v1h-1z").count() > 100);
    // No kit for what is not labelled.
    assert_eq!(app.get(&format!("/evenements/{a3}/label/attestation.pdf"), None).await.status(), StatusCode::NOT_FOUND);

    // Requests for changes, with a reason template and the reviewer's words; the organiser reads
    // them, edits, resubmits: back in the same queue.
    let template =
        app.store.reason_templates().await.unwrap().into_iter().find(|t| t.title.contains("industriel")).unwrap();
    let (s, html, _) = app.decide_on_site(a3, "decision=request_changes&reason=", &ara).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Indiquez le motif"));
    let body = format!("decision=request_changes&template={}&reason=Pr%C3%A9cisez+le+programme.", template.id);
    let (s, _, _) = app.decide_on_site(a3, &body, &ara).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let sent = app.deliver().await;
    let asked = letter(&sent, "lyon@usine.fr", "Modifications demandées");
    assert!(asked.text.contains(&template.body) && asked.text.contains("Précisez le programme."), "{}", asked.text);
    let (_, html) = app.get_html(&format!("/espace/evenements/{a3}"), Some(&lyon_site)).await;
    assert!(
        html.contains("Historique des décisions")
            && html.contains("Demande de modifications")
            && html.contains("Précisez le programme.")
    );
    let (_, html) = app.get_html("/instruction", Some(&ara)).await;
    assert!(!html.contains(&format!("/instruction/evenements/{a3}\"")), "out of the queue while with the organiser");
    let resubmitted = with(
        complete_event(year, "38000"),
        &[
            ("title", json!("Atelier découverte des métiers de la mécanique")),
            ("description", json!("Démonstration d'usinage et rencontre avec des techniciens de maintenance.")),
        ],
    );
    let (s, v) = app.put_json(&format!("/api/v1/me/events/{a3}"), &resubmitted, &lyon).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app.post_json(&format!("/api/v1/me/events/{a3}/submit"), &json!({}), Some(&lyon)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, html) = app.get_html("/instruction", Some(&ara)).await;
    assert!(html.contains(&format!("/instruction/evenements/{a3}\"")), "back in the same queue");
    // Refusal with a template alone is enough reason.
    let body = format!("decision=refuse&template={}&reason=", template.id);
    let (s, _, _) = app.decide_on_site(dup, &body, &ara).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let sent = app.deliver().await;
    assert!(
        letter(&sent, "lyon@usine.fr", "Demande de labellisation refusée")
            .text
            .contains(&format!("Motif : {}", template.body))
    );

    // Change control after labelling. Label a1 first.
    let (s, _, _) = app.decide_on_site(a1, "decision=label", &ara).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // A published event stays complete, through the API as on the site.
    let emptied = with(complete_event(year, "69001"), &[("summary", json!(""))]);
    let (s, v) = app.put_json(&format!("/api/v1/me/events/{a1}"), &emptied, &lyon).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("summary")), "{v}");
    // A non-material edit is public at once.
    let edited = with(
        complete_event(year, "69001"),
        &[("description", json!("Visite guidée des ateliers, nouvelle ligne de montage."))],
    );
    let (s, v) = app.put_json(&format!("/api/v1/me/events/{a1}"), &edited, &lyon).await;
    assert_eq!((s, v["moderation"].as_str()), (StatusCode::OK, Some("labelled")), "{v}");
    let (_, page) = app.get_html(&format!("/evenements/{a1}"), None).await;
    assert!(page.contains("nouvelle ligne de montage"));
    // A new title is material: to review, while the public keeps the labelled version.
    let retitled = with(edited.clone(), &[("title", json!("Visite de l'usine de moteurs électriques"))]);
    let (s, v) = app.put_json(&format!("/api/v1/me/events/{a1}"), &retitled, &lyon).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The organiser reads back their change, flagged as pending.
    assert_eq!(
        (v["title"].as_str(), v["change_pending"].as_bool()),
        (Some("Visite de l'usine de moteurs électriques"), Some(true)),
        "{v}"
    );
    let (_, page) = app.get_html(&format!("/evenements/{a1}"), None).await;
    assert!(!page.contains("moteurs électriques"));
    let (_, public) = app.get_json(&format!("/api/v1/events/{a1}")).await;
    assert_eq!(public["title"], "Visite de l'usine de moteurs");
    let sent = app.deliver().await;
    assert!(letter(&sent, "lyon@usine.fr", "Modification reçue").text.contains("version labellisée"));
    let (_, html) = app.get_html("/instruction?modifications=1", Some(&ara)).await;
    only(&html, &[a1], &[a3]);
    let (_, html) = app.get_html(&format!("/instruction/evenements/{a1}"), Some(&ara)).await;
    assert!(
        html.contains("<del>Visite de l&#39;usine de moteurs</del>")
            || html.contains("<del>Visite de l'usine de moteurs</del>"),
        "{html}"
    );
    assert!(html.contains("moteurs électriques</ins>"));
    assert!(html.contains("Accepter la modification"));
    let (s, _, _) = app.decide_on_site(a1, "decision=label", &ara).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&format!("/evenements/{a1}"), None).await;
    assert!(page.contains("moteurs électriques"), "accepted: public now");
    assert!(letter(&app.deliver().await, "lyon@usine.fr", "Modification acceptée").text.contains("nouvelle version"));
    // A date change refused: the labelled dates stay public.
    let day3 = test_week_start() + Duration::days(3);
    let moved = with(
        retitled.clone(),
        &[("sessions", json!([{"start": format!("{day3}T09:00"), "end": format!("{day3}T12:00")}]))],
    );
    let (s, _) = app.put_json(&format!("/api/v1/me/events/{a1}"), &moved, &lyon).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app.decide_on_site(a1, "decision=refuse&reason=Le+lieu+n%27est+pas+disponible.", &ara).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, public) = app.get_json(&format!("/api/v1/events/{a1}")).await;
    let first_day = (test_week_start() + Duration::days(1)).to_string();
    assert!(public["sessions"][0]["start"].as_str().unwrap().starts_with(&first_day), "{public}");
    assert!(
        letter(&app.deliver().await, "lyon@usine.fr", "Modification refusée")
            .text
            .contains("Le lieu n'est pas disponible.")
    );
    let audit: Vec<String> = app.store.audit(a1).await.unwrap().into_iter().map(|a| a.action).collect();
    assert!(
        audit.ends_with(&[
            "label".into(),
            "update".into(),
            "change_submit".into(),
            "change_accept".into(),
            "change_submit".into(),
            "change_refuse".into()
        ]),
        "{audit:?}"
    );

    // Public status without review; a cancelled event has no kit.
    let (s, _, _) =
        app.post_form(&format!("/espace/evenements/{a2}/statut"), "public_status=cancelled", Some(&lyon_site)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&format!("/evenements/{a2}"), None).await;
    assert!(page.contains("Statut : Annulé"));
    assert_eq!(app.get(&format!("/evenements/{a2}/label/badge.svg"), None).await.status(), StatusCode::NOT_FOUND);
    let (s, _, _) =
        app.post_form(&format!("/espace/evenements/{a2}/statut"), "public_status=martien", Some(&lyon_site)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Withdrawing a label: a reason is required; the event leaves the catalogue and the kit stops.
    let (s, _, _) =
        app.post_form(&format!("/instruction/evenements/{late}/retrait-label"), "revoke_reason=", Some(&ara)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let long = "x".repeat(2001);
    let (s, html, _) = app
        .post_form(
            &format!("/instruction/evenements/{late}/retrait-label"),
            &format!("revoke_reason={long}"),
            Some(&ara),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&long), "what was typed is kept");
    let (s, _, _) = app
        .post_form(
            &format!("/instruction/evenements/{late}/retrait-label"),
            &format!("revoke_reason=Visite+annul%C3%A9e+sans+pr%C3%A9venir.&version={}", app.version(late).await),
            Some(&ara),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(app.get_html(&format!("/evenements/{late}"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/evenements/{late}/label/attestation.pdf"), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(
        letter(&app.deliver().await, "lyon@usine.fr", "Label retiré").text.contains("Visite annulée sans prévenir.")
    );

    // Counts per state for the edition.
    let (_, html) = app.get_html("/instruction", Some(&admin)).await;
    assert!(html.contains("Labellisé") && html.contains("Refusé"));

    // « Reconduire »: a past edition's event becomes a draft of the open edition, dates cleared.
    let mut past = crate::support::open_edition();
    past.year = year - 1;
    past.demo = false;
    past.opens_at -= Duration::days(365);
    past.deadline -= Duration::days(365);
    for d in [&mut past.week_start, &mut past.week_end, &mut past.eligible_from, &mut past.eligible_to] {
        *d -= Duration::days(364);
    }
    app.store.upsert_edition(&past).await.unwrap();
    let old = app.store.event(a2).await.unwrap().unwrap();
    app.store
        .insert_labelled(past.year, &[(old.organisation_id, old.data.clone(), Utc::now() - Duration::days(365))])
        .await
        .unwrap();
    let old_id = app
        .store
        .organisation_events(old.organisation_id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.edition == past.year)
        .unwrap()
        .id;
    let (_, space) = app.get_html("/espace", Some(&lyon_site)).await;
    assert!(space.contains(&format!("/espace/evenements/{old_id}/reconduire")));
    let (s, _, _) = app.post_form(&format!("/espace/evenements/{old_id}/reconduire"), "", Some(&lyon_site)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let renewed = app.store.organisation_events(old.organisation_id).await.unwrap().into_iter().next().unwrap();
    assert_eq!((renewed.edition, renewed.moderation), (year, Moderation::Draft));
    assert_eq!(renewed.data.title, old.data.title);
    assert!(renewed.data.sessions.iter().all(|s| s.start.is_empty() && s.end.is_empty()));
    let (s, _, _) = app.post_form(&format!("/espace/evenements/{a2}/reconduire"), "", Some(&lyon_site)).await;
    assert_eq!(s, StatusCode::CONFLICT);
}
