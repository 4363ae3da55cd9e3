//! National administration: access, editions with validation and per-region dates, coordinators
//! (invitation, region, revocation), reason templates, and password links.

use axum::http::StatusCode;

use crate::support::TestApp;

/// The one-time link of a letter.
fn link_in(text: &str) -> String {
    let start = text.find("/mot-de-passe/").expect("a password link");
    text[start..].split_whitespace().next().unwrap().to_string()
}

const BAD_EDITION: &str = "year=2091&number=80&theme=Th%C3%A8me+de+test&week_start=2091-11-19&week_end=2091-11-25\
&eligible_from=2091-11-20&eligible_to=2091-12-10&opens_at=2091-09-20T00%3A00&deadline=2091-12-31T23%3A59\
&o_region=04&o_week_start=2091-12-01&o_week_end=2091-12-07&o_eligible_from=2091-12-02&o_eligible_to=2091-12-20\
&o_region=&o_week_start=&o_week_end=&o_eligible_from=&o_eligible_to=";

const GOOD_EDITION: &str = "year=2091&number=80&theme=Th%C3%A8me+de+test&week_start=2091-11-19&week_end=2091-11-25\
&eligible_from=2091-11-04&eligible_to=2091-12-10&opens_at=2091-09-20T00%3A00&deadline=2091-11-13T23%3A59\
&o_region=04&o_week_start=2091-12-01&o_week_end=2091-12-07&o_eligible_from=2091-11-25&o_eligible_to=2091-12-20\
&o_region=&o_week_start=&o_week_end=&o_eligible_from=&o_eligible_to=";

#[tokio::test]
async fn administration_editions_coordinators_reasons_and_passwords() {
    let app = TestApp::new().await;
    app.person("admin@dge.fr", "national_admin", None).await;
    app.person("ara@region.fr", "regional_coordinator", Some("84")).await;
    app.organiser("lyon@usine.fr", "Usine de Lyon").await;

    // National administrators only.
    let r = app.get("/admin", None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/connexion?suivant=%2Fadmin");
    let ara = app.login("ara@region.fr").await;
    assert_eq!(app.get_html("/admin", Some(&ara)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.post_form("/admin/motifs", "title=x&body=y", Some(&ara)).await.0, StatusCode::FORBIDDEN);
    let admin = app.login("admin@dge.fr").await;
    let (s, html) = app.get_html("/admin", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Labellisation ouverte") && html.contains(&format!("/admin/editions/{}", app.year)));

    // Editions: every inconsistency named, what was typed kept.
    let (s, html, _) = app.post_form("/admin/editions/nouvelle", BAD_EDITION, Some(&admin)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("La période éligible doit contenir la semaine elle-même."), "{html}");
    assert!(html.contains("La date limite ne peut pas suivre la fin de la période éligible."));
    assert!(html.contains("La Réunion : la période éligible doit contenir la semaine."));
    assert!(html.contains("value=\"Thème de test\"") && html.contains("value=\"2091-11-20\""));
    assert!(app.store.edition(2091).await.unwrap().is_none());
    let (s, _, _) = app.post_form("/admin/editions/nouvelle", GOOD_EDITION, Some(&admin)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let e = app.store.edition(2091).await.unwrap().unwrap();
    assert_eq!(e.regions.len(), 1);
    assert_eq!((e.regions[0].region.as_str(), e.regions[0].week_start.to_string()), ("04", "2091-12-01".to_string()));
    assert_eq!(e.deadline.to_rfc3339(), "2091-11-13T22:59:00+00:00");
    // La Réunion's event on its own week is eligible; the same dates in Lyon are not.
    let reunion = e.for_region(Some("04"));
    assert_eq!(reunion.eligible_to.to_string(), "2091-12-20");
    assert_eq!(e.for_region(Some("84")).eligible_to.to_string(), "2091-12-10");
    let (s, html, _) = app.post_form("/admin/editions/nouvelle", GOOD_EDITION, Some(&admin)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("existe déjà"));
    let (s, html) = app.get_html("/admin/editions/2091", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("value=\"2091-11-04\"") && html.contains("value=\"2091-11-13T23:59\""));
    let (s, html, _) =
        app.post_form("/admin/editions/2091", &GOOD_EDITION.replace("2091-11-04", "hier"), Some(&admin)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("au format AAAA-MM-JJ") && html.contains("value=\"hier\""));
    let (s, _, _) =
        app.post_form("/admin/editions/2091", &GOOD_EDITION.replace("number=80", "number=81"), Some(&admin)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(app.store.edition(2091).await.unwrap().unwrap().number, 81);

    // Coordinators: invitation, first password, region, revocation.
    let (s, html, _) = app
        .post_form(
            "/admin/coordinateurs",
            "name=Coordination+Bretagne&email=bzh%40region.fr&role=regional_coordinator&region=",
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Choisissez la région") && html.contains("value=\"bzh@region.fr\""));
    let (s, html, _) = app
        .post_form(
            "/admin/coordinateurs",
            "name=Coordination+Bretagne&email=bzh%40region.fr&role=regional_coordinator&region=53",
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Invitation envoyée à bzh@region.fr"));
    let sent = app.deliver().await;
    let invitation = sent.iter().find(|m| m.recipient == "bzh@region.fr").expect("an invitation");
    assert!(invitation.subject.starts_with("Invitation"));
    let link = link_in(&invitation.text);
    assert_eq!(app.get_html(&link, None).await.0, StatusCode::OK);
    let (s, html, _) = app.post_form(&link, "password=court&confirmation=court", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("au moins 12 caractères"));
    let (s, _, _) =
        app.post_form(&link, "password=une+longue+phrase+secr%C3%A8te&confirmation=autre+chose+encore", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, cookie) = app
        .post_form(&link, "password=une+longue+phrase+secr%C3%A8te&confirmation=une+longue+phrase+secr%C3%A8te", None)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let bzh = cookie.unwrap().split(';').next().unwrap().to_string();
    let (s, html) = app.get_html("/instruction", Some(&bzh)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Périmètre : Bretagne"));
    let (s, html) = app.get_html(&link, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a link serves once");
    assert!(html.contains("n'est plus valable"));
    let id = app.store.user_by_email("bzh@region.fr").await.unwrap().unwrap().id;
    let (s, html, _) =
        app.post_form(&format!("/admin/coordinateurs/{id}"), "action=region&region=52", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("coordonne désormais Pays de la Loire"));
    assert!(app.get_html("/instruction", Some(&bzh)).await.1.contains("Périmètre : Pays de la Loire"));
    let (s, _, _) = app.post_form(&format!("/admin/coordinateurs/{id}"), "action=revoke", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.get("/instruction", Some(&bzh)).await.status(), StatusCode::SEE_OTHER, "session closed");
    let (s, _, _) =
        app.post_form("/connexion", "email=bzh%40region.fr&password=une+longue+phrase+secr%C3%A8te", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "no login after revocation");
    let me = app.store.user_by_email("admin@dge.fr").await.unwrap().unwrap().id;
    let (s, _, _) = app.post_form(&format!("/admin/coordinateurs/{me}"), "action=revoke", Some(&admin)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not one's own access");

    // Reason templates.
    let (s, html, _) =
        app.post_form("/admin/motifs", "action=save&title=&body=Un+texte+gard%C3%A9", Some(&admin)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Un texte gardé"));
    let (s, _, _) = app
        .post_form(
            "/admin/motifs",
            "action=save&title=Lieu+inaccessible&body=Le+lieu+doit+%C3%AAtre+pr%C3%A9cis%C3%A9.",
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let t = app.store.reason_templates().await.unwrap().into_iter().find(|t| t.title == "Lieu inaccessible").unwrap();
    let (s, _, _) = app
        .post_form(
            "/admin/motifs",
            &format!("id={}&action=save&title=Lieu+%C3%A0+pr%C3%A9ciser&body=Pr%C3%A9cisez+le+lieu.", t.id),
            Some(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(app.store.reason_templates().await.unwrap().iter().any(|x| x.id == t.id && x.title == "Lieu à préciser"));
    let (s, html, _) = app
        .post_form("/admin/motifs", &format!("id={}&action=save&title=&body=Texte+modifi%C3%A9", t.id), Some(&admin))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Texte modifié"), "an edit with errors keeps what was typed");
    assert!(app.store.reason_templates().await.unwrap().iter().any(|x| x.id == t.id && x.body == "Précisez le lieu."));
    let (s, _, _) = app.post_form("/admin/motifs", &format!("id={}&action=delete", t.id), Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!app.store.reason_templates().await.unwrap().iter().any(|x| x.id == t.id));

    // Forgotten password: the same answer whoever asks; the owner of the address gets a link.
    let (s, unknown, _) = app.post_form("/mot-de-passe-oublie", "email=personne%40nulle-part.fr", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, known, _) = app.post_form("/mot-de-passe-oublie", "email=lyon%40usine.fr", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(unknown.replace("personne@nulle-part.fr", "X"), known.replace("lyon@usine.fr", "X"));
    let sent = app.deliver().await;
    assert_eq!(sent.len(), 1);
    let link = link_in(&sent[0].text);
    let (s, _, _) =
        app.post_form(&link, "password=nouvelle+phrase+de+passe&confirmation=nouvelle+phrase+de+passe", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, _) = app.post_form("/connexion", "email=lyon%40usine.fr&password=nouvelle+phrase+de+passe", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, _) = app.post_form("/connexion", "email=lyon%40usine.fr&password=mot+de+passe+de+test", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "the old password no longer works");

    // Throttling: three links an hour per address (the page answers the same), ten failed logins per
    // quarter of an hour per account — then even the right password waits.
    for _ in 0..4 {
        let (s, _, _) = app.post_form("/mot-de-passe-oublie", "email=ara%40region.fr", None).await;
        assert_eq!(s, StatusCode::OK);
    }
    assert_eq!(app.deliver().await.len(), 3);
    // One failure above (the old password), eight more: nine.
    for _ in 0..8 {
        let (s, _, _) = app.post_form("/connexion", "email=lyon%40usine.fr&password=mauvais", None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (s, _, _) = app.post_form("/connexion", "email=lyon%40usine.fr&password=nouvelle+phrase+de+passe", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "nine failures, the tenth attempt right: in, and the counter cleared");
    for _ in 0..10 {
        app.post_form("/connexion", "email=lyon%40usine.fr&password=mauvais", None).await;
    }
    let (s, html, _) =
        app.post_form("/connexion", "email=lyon%40usine.fr&password=nouvelle+phrase+de+passe", None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("Trop de tentatives de connexion"));
    let (s, _, _) = app.post_form("/connexion", "email=ara%40region.fr&password=mot+de+passe+de+test", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "other accounts are not affected");
}
