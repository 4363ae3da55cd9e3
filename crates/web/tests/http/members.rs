//! The people of an organisation (requests to join, invitations, removal) and each person's own
//! account (address, password, every session ended).

use axum::http::StatusCode;

use crate::support::TestApp;

const PASSWORD: &str = "mot+de+passe+de+test";

/// A sign-up form for the organisation whose SIRET is 110 020 013 00014.
fn signup(name: &str, email: &str) -> String {
    format!(
        "name={name}&email={}&password={PASSWORD}&password_confirm={PASSWORD}\
         &organisation=Forges+de+Lyon&kind=entreprise&department=69&identifier=11002001300014",
        email.replace('@', "%40")
    )
}

/// The path of the first link of a letter that contains `marker`.
fn link(text: &str, marker: &str) -> String {
    let start = text.find(marker).unwrap_or_else(|| panic!("a link with {marker} in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

/// Signs up and follows the confirmation link; returns the session cookie.
async fn signed_up(app: &TestApp, name: &str, email: &str) -> String {
    let (s, html, _) = app.post_form("/inscription", &signup(name, email), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Vérifiez votre messagerie"), "the same answer whether or not the organisation exists");
    let sent = app.deliver().await;
    let letter = sent.iter().find(|m| m.recipient == email).expect("a confirmation letter");
    let path = link(&letter.text, "/verification/");
    let (s, _, cookie) = app.post_form(&path, "", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    cookie.unwrap().split(';').next().unwrap().to_string()
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.store.user_by_email(email).await.unwrap().unwrap().id
}

#[tokio::test]
async fn an_organisation_is_joined_by_request_or_invitation_never_silently() {
    let app = TestApp::new().await;
    let camille = signed_up(&app, "Camille", "camille@forges.fr").await;
    let org = app.store.organisation_by_identifier("11002001300014").await.unwrap().unwrap();

    // A second person with the same SIRET: an account without organisation, and a request.
    let dominique = signed_up(&app, "Dominique", "dominique@forges.fr").await;
    let d = app.store.user_by_email("dominique@forges.fr").await.unwrap().unwrap();
    assert_eq!((d.organisation_id, d.requested_organisation_id), (None, Some(org.id)), "no silent join");
    let (_, html) = app.get_html("/espace", Some(&dominique)).await;
    assert!(html.contains("id=\"membership-pending\"") && html.contains("Forges de Lyon"), "{html}");
    let (s, _) = app.get_html("/espace/evenements/nouveau", Some(&dominique)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no event before a member accepts");
    let sent = app.deliver().await;
    let asked: Vec<_> = sent.iter().map(|m| (m.recipient.as_str(), m.subject.as_str())).collect();
    assert_eq!(asked, [("camille@forges.fr", "Demande pour rejoindre Forges de Lyon")]);
    assert!(sent[0].text.contains("dominique@forges.fr"));

    // Another organisation's member can neither see nor answer the request.
    app.organiser("autre@atelier.fr", "Atelier voisin").await;
    let other = app.login("autre@atelier.fr").await;
    let (_, html) = app.get_html("/espace/membres", Some(&other)).await;
    assert!(!html.contains("dominique@forges.fr"));
    let accept = format!("/espace/membres/{}", d.id);
    assert_eq!(app.post_form(&accept, "action=accept", Some(&other)).await.0, StatusCode::NOT_FOUND);

    // A member accepts; the person is told and can now work for the organisation.
    let (_, html) = app.get_html("/espace/membres", Some(&camille)).await;
    assert!(html.contains("id=\"requests\"") && html.contains("dominique@forges.fr"));
    let (s, _, _) = app.post_form(&accept, "action=accept", Some(&camille)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(app.post_form(&accept, "action=accept", Some(&camille)).await.0, StatusCode::NOT_FOUND, "once");
    let sent = app.deliver().await;
    assert_eq!(
        (sent[0].recipient.as_str(), sent[0].subject.as_str()),
        ("dominique@forges.fr", "Bienvenue dans l'espace de Forges de Lyon")
    );
    let (s, _) = app.get_html("/espace/evenements/nouveau", Some(&dominique)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.store.organisation_members(org.id).await.unwrap().len(), 2);

    // A declined request leaves the person outside.
    let _eve = signed_up(&app, "Eve", "eve@ailleurs.fr").await;
    app.deliver().await;
    let eve = user_id(&app, "eve@ailleurs.fr").await;
    let (s, _, _) = app.post_form(&format!("/espace/membres/{eve}"), "action=decline", Some(&dominique)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let e = app.store.user(eve).await.unwrap().unwrap();
    assert_eq!((e.organisation_id, e.requested_organisation_id), (None, None));
    assert_eq!(app.deliver().await[0].subject, "Votre demande pour rejoindre Forges de Lyon");

    // An invitation: bad input kept and named; an address that has an account is not taken over.
    let (s, html, _) =
        app.post_form("/espace/membres", "name=Fr%C3%A9d%C3%A9ric&email=pas-une-adresse", Some(&camille)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"Frédéric\"") && html.contains("value=\"pas-une-adresse\""));
    let (s, html, _) = app.post_form("/espace/membres", "name=Autre&email=autre%40atelier.fr", Some(&camille)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("a déjà un compte"));
    let autre = app.store.user_by_email("autre@atelier.fr").await.unwrap().unwrap();
    assert!(
        autre.organisation_id.is_some() && autre.organisation_id != Some(org.id),
        "still in their own organisation"
    );
    let (s, html, _) =
        app.post_form("/espace/membres", "name=Fr%C3%A9d%C3%A9ric&email=frederic%40forges.fr", Some(&camille)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Invitation envoyée à frederic@forges.fr"));
    let sent = app.deliver().await;
    assert_eq!(sent[0].recipient, "frederic@forges.fr");
    assert!(sent[0].text.contains("Camille vous invite à rejoindre « Forges de Lyon »"), "{}", sent[0].text);
    let path = link(&sent[0].text, "/mot-de-passe/");
    let body = "password=une+phrase+pour+Fr%C3%A9d%C3%A9ric&confirmation=une+phrase+pour+Fr%C3%A9d%C3%A9ric";
    let (s, _, cookie) = app.post_form(&path, body, None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let frederic = cookie.unwrap().split(';').next().unwrap().to_string();
    let (s, _) = app.get_html("/espace/evenements/nouveau", Some(&frederic)).await;
    assert_eq!(s, StatusCode::OK, "the invited person works for the organisation at once");
    assert!(app.store.user_by_email("frederic@forges.fr").await.unwrap().unwrap().email_verified);

    // Removal: never oneself; a removed member is out at once (sessions and tokens ended).
    let me = user_id(&app, "camille@forges.fr").await;
    let (s, html, _) = app.post_form(&format!("/espace/membres/{me}"), "action=remove", Some(&camille)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Vous ne pouvez pas vous retirer vous-même"));
    let d_token = si_web::auth::create_api_token(&app.state, d.id, "Outil", 30).await.unwrap();
    let (s, _, _) = app.post_form(&accept, "action=remove", Some(&camille)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let r = app.get("/espace", Some(&dominique)).await;
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/connexion"), "the removed member's session ended");
    assert_eq!(app.get_json_auth("/api/v1/me/events", &d_token).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.post_form(&accept, "action=remove", Some(&camille)).await.0, StatusCode::NOT_FOUND);
    let (s, _, _) = app.post_form(&format!("/espace/membres/{me}"), "action=remove", Some(&other)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nobody removes the members of another organisation");
    let (s, _, _) = app.post_form(&accept, "action=autre", Some(&camille)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_person_changes_address_and_password_and_ends_every_session() {
    let app = TestApp::new().await;
    let token = app.organiser("lea@usine.fr", "Usine").await;
    let here = app.login("lea@usine.fr").await;
    let there = app.login("lea@usine.fr").await;
    let (s, html) = app.get_html("/espace/compte", Some(&here)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("lea@usine.fr"));

    // A new address: the current password is required, bad input is kept and named.
    let (s, html, _) =
        app.post_form("/espace/compte/adresse", "new_email=lea%40nouvelle.fr&password=faux", Some(&here)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("n&#39;est pas celui de votre compte") || html.contains("n'est pas celui de votre compte"));
    assert!(html.contains("value=\"lea@nouvelle.fr\""));
    let (s, html, _) = app.post_form("/espace/compte/adresse", "new_email=l%C3%A9a&password=", Some(&here)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("value=\"léa\""));
    let body = format!("new_email=lea%40nouvelle.fr&password={PASSWORD}");
    let (s, _, _) = app.post_form("/espace/compte/adresse", &body, Some(&here)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.user_by_email("lea@usine.fr").await.unwrap().unwrap().email,
        "lea@usine.fr",
        "not before the link"
    );
    let sent = app.deliver().await;
    assert_eq!(sent[0].recipient, "lea@nouvelle.fr");
    let path = link(&sent[0].text, "/adresse/");
    let (s, html) = app.get_html(&path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("lea@nouvelle.fr"), "the page shows what will be confirmed");
    let (s, _, _) = app.post_form(&path, "", Some(&here)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(app.post_form(&path, "", Some(&here)).await.0, StatusCode::NOT_FOUND, "a link serves once");
    let sent = app.deliver().await;
    assert_eq!(
        (sent[0].recipient.as_str(), sent[0].subject.as_str()),
        ("lea@usine.fr", "Modification de votre compte")
    );
    assert!(app.store.user_by_email("lea@usine.fr").await.unwrap().is_none());
    app.login("lea@nouvelle.fr").await;

    // A new password: the current one is required; the other sessions and the API tokens end.
    let (s, _, _) = app
        .post_form(
            "/espace/compte/mot-de-passe",
            "current_password=faux&new_password=une+phrase+assez+longue&confirmation=une+phrase+assez+longue",
            Some(&here),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let weak = format!("current_password={PASSWORD}&new_password=password1234&confirmation=password1234");
    assert_eq!(
        app.post_form("/espace/compte/mot-de-passe", &weak, Some(&here)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let good = format!(
        "current_password={PASSWORD}&new_password=une+phrase+assez+longue&confirmation=une+phrase+assez+longue"
    );
    let (s, _, cookie) = app.post_form("/espace/compte/mot-de-passe", &good, Some(&here)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let here = cookie.expect("this browser stays in").split(';').next().unwrap().to_string();
    assert_eq!(app.get_html("/espace/compte", Some(&here)).await.0, StatusCode::OK);
    let r = app.get("/espace", Some(&there)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the other session ended");
    assert_eq!(app.get_json_auth("/api/v1/me/events", &token).await.0, StatusCode::UNAUTHORIZED);
    let sent = app.deliver().await;
    assert!(sent[0].text.contains("mot de passe de votre compte"));
    let (s, _, _) = app.post_form("/connexion", "email=lea%40nouvelle.fr&password=une+phrase+assez+longue", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    // « Se déconnecter partout »: this session and every other one.
    let (_, _, c) = app.post_form("/connexion", "email=lea%40nouvelle.fr&password=une+phrase+assez+longue", None).await;
    let other = c.unwrap().split(';').next().unwrap().to_string();
    let (s, _, cookie) = app.post_form("/espace/compte/sessions", "", Some(&here)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(cookie.unwrap().contains("Max-Age=0"));
    for c in [&here, &other] {
        assert_eq!(app.get("/espace", Some(c)).await.status(), StatusCode::SEE_OTHER);
    }
    let (_, html) = app.get_html("/connexion?deconnecte=1", None).await;
    assert!(html.contains("Toutes vos sessions sont fermées"));
}
