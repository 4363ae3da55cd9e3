//! The store contract: the same story run on SQLite (always) and PostgreSQL (ignored unless asked for:
//! `TEST_DATABASE_URL` names a server and `--include-ignored` is passed; each run creates and drops
//! its own database).

use chrono::{Duration, Utc};
use si_domain::event::{Contact, Location, SessionInput};
use si_domain::{Audience, EventData, EventType, Format, Moderation, OrganisationKind, Role};
use si_store::{Decision, DynStore, EventFilter, NewOrganisation, NewUser, StoreError, Transition};

fn event(title: &str, postal_code: &str, day: &str) -> EventData {
    let mut e = EventData {
        title: title.into(),
        summary: "Découverte des métiers.".into(),
        description: "Visite des ateliers de soudure et d'usinage.".into(),
        event_type: Some(EventType::VisiteEntreprise),
        audiences: vec![Audience::Scolaires, Audience::Jeunes],
        format: Some(Format::Presentiel),
        location: Location { postal_code: postal_code.into(), ..Default::default() },
        sessions: vec![SessionInput { start: format!("{day}T09:00"), end: format!("{day}T12:00") }],
        free: Some(true),
        industry_objective: Some(true),
        accessible: Some(true),
        contact: Contact { email: "contact@exemple.fr".into(), phone: String::new() },
        ..Default::default()
    };
    e.normalise();
    e
}

async fn story(store: DynStore) {
    store.migrate().await.unwrap();
    // Migrating twice is harmless.
    store.migrate().await.unwrap();
    let editions = store.editions().await.unwrap();
    assert_eq!(editions[0].year, 2024);
    assert_eq!(editions[0], si_domain::Edition::reference_2024());

    let org = store
        .create_organisation(&NewOrganisation {
            name: "Forges de Test".into(),
            kind: OrganisationKind::Entreprise,
            department: "69".into(),
            identifier: Some("11002001300014".into()),
        })
        .await
        .unwrap();
    let dup = store
        .create_organisation(&NewOrganisation {
            name: "Autre".into(),
            kind: OrganisationKind::Entreprise,
            department: "69".into(),
            identifier: Some("11002001300014".into()),
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    assert_eq!(store.organisation_by_identifier("11002001300014").await.unwrap().unwrap().id, org.id);

    let user = store
        .create_user(&NewUser {
            email: "Orga@Exemple.fr".into(),
            name: "Orga".into(),
            password_hash: "x".into(),
            role: Role::Organiser,
            region: None,
            organisation_id: Some(org.id),
        })
        .await
        .unwrap();
    assert_eq!(user.email, "orga@exemple.fr");
    assert_eq!(store.user_by_email("ORGA@exemple.fr").await.unwrap().unwrap().id, user.id);
    let again = store
        .create_user(&NewUser {
            email: "orga@exemple.fr".into(),
            name: "x".into(),
            password_hash: "x".into(),
            role: Role::Organiser,
            region: None,
            organisation_id: None,
        })
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let admin = store
        .create_user(&NewUser {
            email: "admin@exemple.fr".into(),
            name: "Admin".into(),
            password_hash: "x".into(),
            role: Role::NationalAdmin,
            region: None,
            organisation_id: None,
        })
        .await
        .unwrap();

    // Joining an organisation: a request, settled once; removal ends sessions and tokens.
    let joiner = store
        .create_user(&NewUser {
            email: "nouveau@exemple.fr".into(),
            name: "Nouveau".into(),
            password_hash: "x".into(),
            role: Role::Organiser,
            region: None,
            organisation_id: None,
        })
        .await
        .unwrap();
    store.request_membership(joiner.id, org.id).await.unwrap();
    assert!(store.membership_requests(org.id).await.unwrap().is_empty(), "not before the address is confirmed");
    // A request that cannot be settled queues no letter.
    let told = si_store::NewEmail {
        recipient: "nouveau@exemple.fr".into(),
        subject: "Bienvenue".into(),
        text: "t".into(),
        html: "<p>h</p>".into(),
        attachments: Vec::new(),
    };
    let told = std::slice::from_ref(&told);
    assert!(!store.settle_membership(org.id, joiner.id, true, told, Utc::now()).await.unwrap(), "nor accepted before");
    store.mark_email_verified(joiner.id, &[], Utc::now()).await.unwrap();
    assert_eq!(store.membership_requests(org.id).await.unwrap()[0].id, joiner.id);
    assert!(
        !store.settle_membership(org.id + 1, joiner.id, true, &[], Utc::now()).await.unwrap(),
        "another organisation cannot"
    );
    assert!(store.settle_membership(org.id, joiner.id, true, &[], Utc::now()).await.unwrap());
    assert!(!store.settle_membership(org.id, joiner.id, true, told, Utc::now()).await.unwrap(), "once");
    assert_eq!(store.outbox_stats().await.unwrap().pending, 0, "no letter for a request not settled");
    let j = store.user(joiner.id).await.unwrap().unwrap();
    assert_eq!((j.organisation_id, j.requested_organisation_id), (Some(org.id), None));
    store.create_web_session("hj", joiner.id, Utc::now() + Duration::hours(1)).await.unwrap();
    assert!(!store.remove_member(org.id + 1, joiner.id).await.unwrap());
    assert!(store.remove_member(org.id, joiner.id).await.unwrap());
    assert!(store.web_session_user("hj", Utc::now()).await.unwrap().is_none(), "removal ends the sessions");
    assert_eq!(store.user(joiner.id).await.unwrap().unwrap().organisation_id, None);

    // A change of address: applied once, through its link, never onto an address that has an account.
    let soon = Utc::now() + Duration::hours(1);
    // (Their letters: see the one-time tokens below.)
    store.create_email_change("e1", joiner.id, "Neuve@Exemple.fr", soon, &[], Utc::now()).await.unwrap();
    store.create_email_change("e2", joiner.id, "orga@exemple.fr", soon, &[], Utc::now()).await.unwrap();
    assert_eq!(store.peek_email_change("e1", Utc::now()).await.unwrap().as_deref(), Some("neuve@exemple.fr"));
    let (before, new) = store.use_email_change("e1", Utc::now(), &|_, _| Vec::new()).await.unwrap().unwrap();
    assert_eq!((before.email.as_str(), new.as_str()), ("nouveau@exemple.fr", "neuve@exemple.fr"));
    assert!(store.use_email_change("e1", Utc::now(), &|_, _| Vec::new()).await.unwrap().is_none());
    assert!(matches!(store.use_email_change("e2", Utc::now(), &|_, _| Vec::new()).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.user(joiner.id).await.unwrap().unwrap().email, "neuve@exemple.fr");
    store.create_web_session("hk", joiner.id, soon).await.unwrap();
    store.create_web_session("hl", joiner.id, soon).await.unwrap();
    assert_eq!(store.end_sessions(joiner.id).await.unwrap(), 2);

    // Sessions and tokens.
    let now = Utc::now();
    store.create_web_session("h1", user.id, now + Duration::hours(1)).await.unwrap();
    store.create_web_session("h0", user.id, now - Duration::hours(1)).await.unwrap();
    assert_eq!(store.web_session_user("h1", now).await.unwrap().unwrap().id, user.id);
    assert!(store.web_session_user("h0", now).await.unwrap().is_none());
    store.delete_web_session("h1").await.unwrap();
    assert!(store.web_session_user("h1", now).await.unwrap().is_none());
    let t1 = store.create_api_token("t1", user.id, "Intégration", Utc::now() + Duration::days(30)).await.unwrap();
    assert_eq!(store.api_token_user("t1").await.unwrap().unwrap().id, user.id);
    // Tokens expire, are listed with their name and last use, and are revoked one by one.
    store.create_api_token("t-old", user.id, "Ancien", Utc::now() - Duration::seconds(1)).await.unwrap();
    assert!(store.api_token_user("t-old").await.unwrap().is_none(), "an expired token opens nothing");
    let t3 = store.create_api_token("t3", user.id, "Autre", Utc::now() + Duration::days(1)).await.unwrap();
    assert!(t3 != t1);
    let listed = store.api_tokens(user.id).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().any(|t| t.id == t1 && t.name == "Intégration" && t.last_used_at.is_some()));
    assert!(!store.revoke_api_token(user.id + 1000, t3).await.unwrap(), "only its owner revokes a token");
    assert!(store.revoke_api_token(user.id, t3).await.unwrap());
    assert!(store.api_token_user("t3").await.unwrap().is_none());
    assert!(store.api_token_user("t2").await.unwrap().is_none());

    // Draft → submitted → labelled, with derived region and an audit trail.
    let mut data = event("Visite de l'usine de Saint-Priest", "69800", "2024-11-19");
    data.normalise();
    let id = store.create_event(2024, org.id, user.id, &data).await.unwrap();
    let rec = store.event(id).await.unwrap().unwrap();
    assert_eq!(rec.moderation, Moderation::Draft);
    assert_eq!(rec.region.as_deref(), Some("84"));
    assert_eq!(rec.department.as_deref(), Some("69"));
    assert_eq!(rec.data, data);
    data.summary = "Résumé modifié.".into();
    store.update_event(id, user.id, &data).await.unwrap();
    let at = Utc::now();
    store.transition(&Transition::submit(id, user.id, at)).await.unwrap();
    assert!(matches!(store.update_event(id, user.id, &data).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.transition(&Transition::submit(id, user.id, at)).await, Err(StoreError::Conflict(_))));
    // Only the moves of a transition go through it.
    let decide = Transition { action: si_domain::lifecycle::Action::Revoke, ..Transition::submit(id, user.id, at) };
    assert!(matches!(store.transition(&decide).await, Err(StoreError::Conflict(_))));
    let queue = store.queue_items(None).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(store.queue_items(Some(&["84".to_string()])).await.unwrap().len(), 1);
    assert_eq!(store.queue_items(Some(&["11".to_string()])).await.unwrap().len(), 0);
    // Not public before labelling.
    let f = EventFilter { edition: Some(2024), page: 1, per_page: 20, ..Default::default() };
    assert_eq!(store.search_events(&f).await.unwrap().0, 0);
    // A decision names the version it was taken on: any other changes nothing.
    let seen = store.event(id).await.unwrap().unwrap().version;
    assert_eq!(queue[0].version, seen);
    assert!(matches!(
        store.decide(id, admin.id, Decision::Label, None, Utc::now(), seen - 1).await,
        Err(StoreError::Conflict(m)) if m == si_store::STALE_VERSION
    ));
    assert_eq!(store.event(id).await.unwrap().unwrap().moderation, Moderation::Submitted);
    let labelled = store.decide(id, admin.id, Decision::Label, None, Utc::now(), seen).await.unwrap();
    assert!(labelled.version > seen, "every write changes the version");
    assert_eq!(labelled.moderation, Moderation::Labelled);
    assert_eq!(labelled.label_number.as_deref(), Some("SI-2024-00001"));
    assert!(matches!(
        store.decide(id, admin.id, Decision::Refuse, Some("x"), Utc::now(), labelled.version).await,
        Err(StoreError::Conflict(_))
    ));

    // A second event refused with its reason.
    let id2 = store.create_event(2024, org.id, user.id, &event("Atelier", "75011", "2024-11-20")).await.unwrap();
    let t2 = Transition::submit(id2, user.id, at);
    let v2 = store.transition(&t2).await.unwrap().version;
    let refused =
        store.decide(id2, admin.id, Decision::Refuse, Some("Événement payant."), Utc::now(), v2).await.unwrap();
    assert_eq!(refused.decision_reason.as_deref(), Some("Événement payant."));
    assert_eq!(refused.label_number, None);

    // Bulk labelled events continue the numbering.
    let bulk: Vec<(i64, EventData, chrono::DateTime<Utc>)> = vec![
        (org.id, event("Soudure et métallurgie", "13001", "2024-11-21"), Utc::now()),
        (org.id, event("Forum des métiers", "59000", "2024-12-01"), Utc::now()),
    ];
    assert_eq!(store.insert_labelled(2024, &bulk).await.unwrap(), 2);
    assert_eq!(store.submission_times(2024).await.unwrap().len(), 4, "two submitted through the workflow, two in bulk");
    assert_eq!(store.count_labelled(2024).await.unwrap(), 3);
    assert_eq!(store.newest_labelled_edition().await.unwrap(), Some(2024));

    // Public search: filters and French text.
    let search = |f: EventFilter| {
        let store = store.clone();
        async move { store.search_events(&EventFilter { page: 1, per_page: 20, ..f }).await.unwrap() }
    };
    assert_eq!(search(EventFilter::default()).await.0, 3);
    assert_eq!(search(EventFilter { regions: vec!["93".into()], ..Default::default() }).await.0, 1);
    assert_eq!(search(EventFilter { regions: vec!["93".into(), "84".into()], ..Default::default() }).await.0, 2);
    assert_eq!(search(EventFilter { departments: vec!["59".into()], ..Default::default() }).await.0, 1);
    assert_eq!(search(EventFilter { audiences: vec![Audience::Scolaires], ..Default::default() }).await.0, 3);
    assert_eq!(search(EventFilter { audiences: vec![Audience::GrandPublic], ..Default::default() }).await.0, 0);
    assert_eq!(search(EventFilter { types: vec![EventType::VisiteEntreprise], ..Default::default() }).await.0, 3);
    assert_eq!(search(EventFilter { q: Some("METALLURGIE".into()), ..Default::default() }).await.0, 1);
    assert_eq!(search(EventFilter { q: Some("visites".into()), ..Default::default() }).await.0, 3);
    assert_eq!(search(EventFilter { q: Some("Forges".into()), ..Default::default() }).await.0, 3);
    let from = chrono::NaiveDate::from_ymd_opt(2024, 11, 25);
    assert_eq!(search(EventFilter { from, ..Default::default() }).await.0, 1);
    assert_eq!(search(EventFilter { accessible: Some(false), ..Default::default() }).await.0, 0);
    let (total, page2) =
        store.search_events(&EventFilter { page: 2, per_page: 2, ..Default::default() }).await.unwrap();
    assert_eq!((total, page2.len()), (3, 1));

    // Facets: each dimension counted without its own filter, with the others.
    let facets = store.facets(&EventFilter { regions: vec!["84".into()], ..Default::default() }).await.unwrap();
    assert_eq!(facets.count("region", "84"), 1);
    assert_eq!(facets.count("region", "93"), 1, "the region dimension ignores the region filter");
    assert_eq!(facets.count("audience", "scolaires"), 1, "other dimensions apply it");
    assert_eq!(facets.count("type", "visite_entreprise"), 1);
    assert_eq!(facets.count("department", "59"), 0);

    // Prefix matching: a word being typed already finds it.
    assert_eq!(search(EventFilter { q: Some("metall".into()), ..Default::default() }).await.0, 1);
    assert_eq!(search(EventFilter { q: Some("soudure lyon".into()), ..Default::default() }).await.0, 0);
    assert_eq!(
        search(EventFilter { q: Some("\"'*:&|!()".into()), ..Default::default() }).await.0,
        3,
        "query syntax is neutralised"
    );
    // Near Lyon (45.76, 4.84) within 30 km: Saint-Priest only; within 400 km, Marseille too, nearest first.
    let near = |radius_km| Some(si_store::Near { lat: 45.7578, lon: 4.8320, radius_km });
    let (n, items) = search(EventFilter { near: near(30.0), ..Default::default() }).await;
    assert_eq!(n, 1);
    assert_eq!(items[0].id, id);
    let (n, items) = search(EventFilter { near: near(400.0), ..Default::default() }).await;
    assert_eq!(n, 2);
    assert_eq!(items[0].id, id);
    assert_eq!(items[1].region.as_deref(), Some("93"));

    let trail = store.audit(id).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["create", "update", "submit", "label"]);
    assert_eq!(trail[3].actor.as_deref(), Some("admin@exemple.fr"));
    assert_eq!(store.organisation_events(org.id).await.unwrap().len(), 4);
    review_story(&store, org.id, user.id, id).await;
}

/// What review at scale keeps: changes to labelled events, the queue's rows, the outbox with leases
/// and retries, the daily digest claim, one-time password tokens, reason templates, regional dates.
async fn review_story(store: &DynStore, org: i64, organiser: i64, labelled: i64) {
    let now = Utc::now();
    // A non-material edit applies at once; a material one waits, the published version unchanged.
    let published = store.event(labelled).await.unwrap().unwrap();
    let mut edit = published.data.clone();
    edit.description = "Nouvelle description.".into();
    assert_eq!(store.update_event(labelled, organiser, &edit).await.unwrap(), si_store::ChangeOutcome::Applied);
    edit.title = "Un autre titre".into();
    assert_eq!(store.update_event(labelled, organiser, &edit).await.unwrap(), si_store::ChangeOutcome::SentToReview);
    let r = store.event(labelled).await.unwrap().unwrap();
    assert_eq!((r.moderation, r.data.title.as_str()), (Moderation::Labelled, published.data.title.as_str()));
    assert_eq!(r.pending.as_ref().unwrap().title, "Un autre titre");
    let queue = store.queue_items(None).await.unwrap();
    let item = queue.iter().find(|i| i.id == labelled).expect("the change is in the queue");
    assert!(item.change);
    assert!(item.audiences.contains(&"scolaires".to_string()));
    assert!(store.queue_items(Some(&["11".into()])).await.unwrap().iter().all(|i| i.region.as_deref() == Some("11")));
    let counts = store.moderation_counts(2024, None).await.unwrap();
    assert!(counts.contains(&("change_pending".into(), 1)), "{counts:?}");
    assert_eq!(item.version, r.version);
    // The organiser replaces the change after the reviewer read it: accepting what was read fails,
    // and the replacement is neither published nor lost.
    let mut paying = edit.clone();
    paying.title = "Un autre titre, payant".into();
    paying.free = Some(false);
    assert_eq!(store.update_event(labelled, organiser, &paying).await.unwrap(), si_store::ChangeOutcome::SentToReview);
    assert!(matches!(
        store.decide_change(labelled, organiser, true, None, now, r.version).await,
        Err(StoreError::Conflict(m)) if m == si_store::STALE_VERSION
    ));
    let r = store.event(labelled).await.unwrap().unwrap();
    assert_eq!(
        (r.data.title.as_str(), r.pending.as_ref().unwrap().title.as_str()),
        (published.data.title.as_str(), "Un autre titre, payant")
    );
    assert_eq!(store.update_event(labelled, organiser, &edit).await.unwrap(), si_store::ChangeOutcome::SentToReview);
    let r = store.event(labelled).await.unwrap().unwrap();
    let accepted = store.decide_change(labelled, organiser, true, None, now, r.version).await.unwrap();
    assert_eq!((accepted.data.title.as_str(), accepted.pending.is_none()), ("Un autre titre", true));
    assert!(matches!(
        store.decide_change(labelled, organiser, true, None, now, accepted.version).await,
        Err(StoreError::Conflict(_))
    ));
    let status = store.set_public_status(labelled, organiser, si_domain::PublicStatus::Full, now).await.unwrap();
    assert_eq!(status.public_status, si_domain::PublicStatus::Full);
    assert!(matches!(
        store.revoke_label(labelled, organiser, "Annulé sans prévenir", now, accepted.version).await,
        Err(StoreError::Conflict(_))
    ));
    let revoked = store.revoke_label(labelled, organiser, "Annulé sans prévenir", now, status.version).await.unwrap();
    assert_eq!(revoked.moderation, Moderation::Refused);
    assert!(revoked.label_number.is_some(), "the number stays on record");
    assert!(store.duplicate_pool(None).await.unwrap().iter().all(|b| b.organisation_id != org || b.id != labelled));

    // The outbox: a claimed email is leased; a failure postpones it; sent is final.
    let email = |s: &str| si_store::NewEmail {
        recipient: "a@exemple.fr".into(),
        subject: s.into(),
        text: "t".into(),
        html: "<p>h</p>".into(),
        attachments: Vec::new(),
    };
    store.enqueue_emails(&[email("un"), email("deux")], now).await.unwrap();
    let first = store.claim_email(now, now + Duration::minutes(2)).await.unwrap().unwrap();
    let second = store.claim_email(now, now + Duration::minutes(2)).await.unwrap().unwrap();
    assert_ne!(first.id, second.id, "a leased email is not claimed twice");
    assert!(store.claim_email(now, now + Duration::minutes(2)).await.unwrap().is_none());
    store.email_failed(first.id, "connexion refusée", now + Duration::seconds(30)).await.unwrap();
    store.email_sent(second.id, now).await.unwrap();
    assert!(store.claim_email(now + Duration::seconds(10), now + Duration::minutes(2)).await.unwrap().is_none());
    let again = store.claim_email(now + Duration::seconds(31), now + Duration::minutes(3)).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (first.id, 1));
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!((stats.pending, stats.retrying, stats.sent), (1, 1, 1));
    // The oldest waiting email's age (monitoring), to the microsecond PostgreSQL keeps.
    let oldest = stats.oldest_pending.expect("one email waits");
    assert!((oldest - now).num_milliseconds().abs() <= 1, "{oldest} vs {now}");
    let day = now.date_naive();
    assert!(!store.digest_day_claimed(day).await.unwrap());
    assert!(store.claim_digest_day(day, now, &[]).await.unwrap());
    assert!(store.digest_day_claimed(day).await.unwrap());
    assert!(!store.claim_digest_day(day, now, &[email("résumé en double")]).await.unwrap());
    assert_eq!(store.outbox_stats().await.unwrap().pending, 1, "a day claimed twice queues its letters once");

    // One-time password tokens, each with the letter that carries it: both or neither.
    let pending = || async { store.outbox_stats().await.unwrap().pending };
    let waiting = pending().await;
    store.create_password_token("hash", organiser, now + Duration::hours(1), &[email("lien")], now).await.unwrap();
    store.create_password_token("old", organiser, now - Duration::hours(1), &[email("ancien")], now).await.unwrap();
    assert_eq!(pending().await, waiting + 2);
    // A token that cannot be recorded (its hash taken) queues no letter.
    assert!(store.create_password_token("hash", organiser, now, &[email("orphelin")], now).await.is_err());
    assert_eq!(pending().await, waiting + 2, "no letter without its link");
    // The same for a change of address's link.
    let later = now + Duration::hours(1);
    store.create_email_change("e3", organiser, "autre@exemple.fr", later, &[email("adresse")], now).await.unwrap();
    assert!(
        store.create_email_change("e3", organiser, "x@exemple.fr", later, &[email("orphelin")], now).await.is_err()
    );
    assert_eq!(pending().await, waiting + 3);
    // Applying a change of address tells the old address in the same transaction; a change that
    // cannot apply (the address has meanwhile got an account) tells no one.
    let tell: &(dyn Fn(&si_store::User, &str) -> Vec<si_store::NewEmail> + Send + Sync) =
        &|old, new| vec![email(&format!("{} devient {new}", old.email))];
    store.create_email_change("e4", organiser, "change-e4@exemple.fr", later, &[], now).await.unwrap();
    store.create_email_change("e5", organiser, "admin@exemple.fr", later, &[], now).await.unwrap();
    assert!(store.use_email_change("e4", now, tell).await.unwrap().is_some());
    assert_eq!(pending().await, waiting + 4);
    assert!(matches!(store.use_email_change("e5", now, tell).await, Err(StoreError::Conflict(_))));
    assert_eq!(pending().await, waiting + 4, "no letter for a change not applied");
    // A new password, and the letter that tells its owner.
    store.set_password(organiser, "$argon2id$autre", &[email("mot de passe changé")], now).await.unwrap();
    assert_eq!(pending().await, waiting + 5);
    assert!(store.peek_password_token("old", now).await.unwrap().is_none());
    assert_eq!(store.peek_password_token("hash", now).await.unwrap().unwrap().id, organiser);
    assert_eq!(store.use_password_token("hash", now).await.unwrap().unwrap().id, organiser);
    assert!(store.use_password_token("hash", now).await.unwrap().is_none());

    // Reason templates (six come with the schema).
    assert_eq!(store.reason_templates().await.unwrap().len(), 6);
    store.save_reason_template(None, "Nouveau", "Texte").await.unwrap();
    let t = store.reason_templates().await.unwrap().into_iter().find(|t| t.title == "Nouveau").unwrap();
    store.save_reason_template(Some(t.id), "Renommé", "Texte").await.unwrap();
    assert!(matches!(store.save_reason_template(Some(-1), "x", "y").await, Err(StoreError::NotFound)));
    store.delete_reason_template(t.id).await.unwrap();
    assert_eq!(store.reason_templates().await.unwrap().len(), 6);

    // Regional dates round-trip with the edition.
    let mut e = store.edition(2024).await.unwrap().unwrap();
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2024, m, day).unwrap();
    e.regions = vec![si_domain::RegionDates {
        region: "04".into(),
        week_start: d(10, 14),
        week_end: d(10, 20),
        eligible_from: d(10, 1),
        eligible_to: d(10, 31),
    }];
    store.upsert_edition(&e).await.unwrap();
    assert_eq!(store.edition(2024).await.unwrap().unwrap().regions, e.regions);
    assert_eq!(store.editions().await.unwrap().iter().find(|x| x.year == 2024).unwrap().regions.len(), 1);

    // Revoked people lose their sessions and tokens.
    store.create_web_session("s", organiser, now + Duration::hours(1)).await.unwrap();
    store.revoke_user(organiser, now).await.unwrap();
    assert!(store.web_session_user("s", now).await.unwrap().is_none());
    assert!(store.user(organiser).await.unwrap().unwrap().revoked);
}

/// A reviewer accepts the change they read while its organiser replaces it with a paying one, both at
/// once, many times: the published content is always the change the reviewer read (or nothing changes
/// and the decision answers `Conflict`), never the replacement nobody reviewed.
async fn decisions_never_apply_what_the_reviewer_did_not_see(store: DynStore) {
    store.migrate().await.unwrap();
    let org = store
        .create_organisation(&NewOrganisation {
            name: "Course".into(),
            kind: OrganisationKind::Association,
            department: "69".into(),
            identifier: None,
        })
        .await
        .unwrap();
    let person = |email: &str, role: Role, org: Option<i64>| NewUser {
        email: email.into(),
        name: email.into(),
        password_hash: "x".into(),
        role,
        region: None,
        organisation_id: org,
    };
    let organiser = store.create_user(&person("o@course.fr", Role::Organiser, Some(org.id))).await.unwrap().id;
    let admin = store.create_user(&person("a@course.fr", Role::NationalAdmin, None)).await.unwrap().id;
    let (mut applied, mut refused) = (0, 0);
    for trial in 0..60 {
        let original = event(&format!("Visite {trial}"), "69001", "2024-11-19");
        let id = store.create_event(2024, org.id, organiser, &original).await.unwrap();
        let v = store.transition(&Transition::submit(id, organiser, Utc::now())).await.unwrap().version;
        store.decide(id, admin, Decision::Label, None, Utc::now(), v).await.unwrap();
        let mut read = original.clone();
        read.title = format!("Visite {trial}, nouvelle date");
        store.update_event(id, organiser, &read).await.unwrap();
        let seen = store.event(id).await.unwrap().unwrap().version;
        let mut paying = read.clone();
        paying.title = format!("Visite {trial}, payante");
        paying.free = Some(false);
        let (a, b) = (store.clone(), store.clone());
        let queued = store.outbox_stats().await.unwrap().pending;
        // The letter is composed from the event as the decision leaves it, and queued with it.
        let decision = tokio::spawn(async move {
            let announce = |r: &si_store::EventRecord| {
                vec![si_store::NewEmail {
                    recipient: "o@course.fr".into(),
                    subject: format!("Modification acceptée : {}", r.data.title),
                    text: String::new(),
                    html: String::new(),
                    attachments: Vec::new(),
                }]
            };
            a.decide_change_announced(id, admin, true, None, Utc::now(), seen, &announce).await
        });
        let replace = tokio::spawn(async move { b.update_event(id, organiser, &paying).await });
        let (decision, replace) = (decision.await.unwrap(), replace.await.unwrap());
        replace.expect("the organiser's change is always recorded");
        let after = store.event(id).await.unwrap().unwrap();
        assert_ne!(after.data.free, Some(false), "trial {trial}: an unreviewed paying change was published");
        let letters = store.outbox_stats().await.unwrap().pending - queued;
        match decision {
            Ok(decided) => {
                applied += 1;
                assert_eq!(after.data.title, read.title, "trial {trial}");
                assert_eq!(
                    (letters, decided.data.title),
                    (1, read.title.clone()),
                    "trial {trial}: one letter, of what was applied"
                );
            }
            Err(StoreError::Conflict(m)) => {
                refused += 1;
                assert_eq!(m, si_store::STALE_VERSION);
                assert_eq!(after.data.title, original.title, "trial {trial}: nothing applied");
                assert_eq!(letters, 0, "trial {trial}: no letter for a decision not taken");
            }
            Err(e) => panic!("trial {trial}: {e}"),
        }
        // The replacement is never lost: it waits for review (or was recorded after the acceptance).
        assert_eq!(after.pending.map(|p| p.title), Some(format!("Visite {trial}, payante")), "trial {trial}");
    }
    eprintln!("60 races: {applied} decisions applied the content read, {refused} refused as stale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_races_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("si-store-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = si_store::connect(&format!("sqlite://{}/test.db", dir.display())).await.unwrap();
    decisions_never_apply_what_the_reviewer_did_not_see(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn decision_races_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    decisions_never_apply_what_the_reviewer_did_not_see(si_store::connect(&url).await.unwrap()).await;
    drop_db.await;
}

#[tokio::test]
async fn contract_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("si-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("sqlite://{}/test.db", dir.display());
    let store = si_store::connect(&url).await.unwrap();
    story(store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn contract_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    let store = si_store::connect(&url).await.unwrap();
    story(store).await;
    drop_db.await;
}

/// An applied migration edited afterwards stops the start, with its name; a database migrated before
/// checksums were kept gets them recorded.
async fn edited_migrations_are_refused(store: DynStore, tamper: impl AsyncFn(&'static str)) {
    store.migrate().await.unwrap();
    tamper("UPDATE schema_migrations SET checksum = NULL").await;
    store.migrate().await.expect("checksums recorded for a database migrated before them");
    store.migrate().await.expect("and found equal at the next start");
    tamper("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 5").await;
    match store.migrate().await {
        Err(e @ StoreError::EditedMigration { .. }) => {
            let m = e.to_string();
            assert!(m.contains("0005_review") && m.contains("new migration"), "{m}");
        }
        other => panic!("an edited migration must stop the start: {other:?}"),
    }
}

#[tokio::test]
async fn edited_migrations_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("si-store-mig-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let url = format!("sqlite://{}/test.db", dir.display());
    let store = si_store::connect(&url).await.unwrap();
    let raw = sqlx::SqlitePool::connect(&url).await.unwrap();
    edited_migrations_are_refused(store, async |sql: &'static str| {
        sqlx::raw_sql(sql).execute(&raw).await.unwrap();
    })
    .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn edited_migrations_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    let raw = sqlx::PgPool::connect(&url).await.unwrap();
    edited_migrations_are_refused(si_store::connect(&url).await.unwrap(), async |sql: &'static str| {
        sqlx::raw_sql(sql).execute(&raw).await.unwrap();
    })
    .await;
    raw.close().await;
    drop_db.await;
}

/// Nodes starting together on an empty PostgreSQL database: the migrations run once (an advisory
/// lock), the others wait and find them applied; none fails.
#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn nodes_starting_together_migrate_once_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(si_store::connect(&url).await.unwrap());
    }
    let results = futures_util::future::join_all(nodes.iter().map(|s| s.migrate())).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let raw = sqlx::PgPool::connect(&url).await.unwrap();
    let (rows, versions): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations")
            .fetch_one(&raw)
            .await
            .unwrap();
    assert_eq!(rows, versions);
    assert_eq!(nodes[0].public_versions().await.unwrap(), si_store::PublicVersions::default());
    raw.close().await;
    drop_db.await;
}

/// The review region is one rule written twice, in Rust for opening an event and in SQL for the
/// queue: on every format they agree (an online-only event goes to the national queue).
async fn review_regions_agree(store: DynStore) {
    store.migrate().await.unwrap();
    let org = store
        .create_organisation(&NewOrganisation {
            name: "Régions".into(),
            kind: OrganisationKind::Association,
            department: "69".into(),
            identifier: None,
        })
        .await
        .unwrap();
    let user = store
        .create_user(&NewUser {
            email: "regions@exemple.fr".into(),
            name: "R".into(),
            password_hash: "x".into(),
            role: Role::Organiser,
            region: None,
            organisation_id: Some(org.id),
        })
        .await
        .unwrap();
    for (format, postal) in [(Format::Presentiel, "69001"), (Format::Hybride, "75011"), (Format::EnLigne, "13001")] {
        let mut e = event(&format!("Visite {format:?}"), postal, "2024-11-19");
        e.format = Some(format);
        if format != Format::Presentiel {
            e.online_url = "https://exemple.fr/direct".into();
        }
        e.normalise();
        let id = store.create_event(2024, org.id, user.id, &e).await.unwrap();
        store.transition(&Transition::submit(id, user.id, Utc::now())).await.unwrap();
    }
    let items = store.queue_items(None).await.unwrap();
    assert_eq!(items.len(), 3);
    for item in &items {
        let r = store.event(item.id).await.unwrap().unwrap();
        assert!(r.region.is_some(), "every one has a place");
        let rust = si_domain::lifecycle::review_region(r.data.format, r.region.as_deref());
        assert_eq!(item.region.as_deref(), rust, "{:?}", r.data.format);
    }
    let national = store.queue_items(Some(&[])).await.unwrap();
    assert!(national.is_empty());
    let ara = store.queue_items(Some(&["84".to_string()])).await.unwrap();
    assert_eq!(ara.len(), 1, "the online event of 13001 is not Provence's, and the 69001 one is Auvergne-Rhône-Alpes'");
}

#[tokio::test]
async fn review_regions_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("si-store-regions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    review_regions_agree(si_store::connect(&format!("sqlite://{}/test.db", dir.display())).await.unwrap()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn review_regions_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    review_regions_agree(si_store::connect(&url).await.unwrap()).await;
    drop_db.await;
}

/// No seat is ever sold twice: 500 concurrent bookings of mixed sizes (1 to 8 people) at a session of
/// 30 seats with a waiting list, then at one without; every request gets a definite answer, confirmed
/// seats never exceed the capacity, the waiting list is promoted in arrival order (checked against a
/// first-come-first-served simulation), and every booking's letter is in the outbox with it.
async fn no_seat_is_sold_twice(store: DynStore) {
    use si_domain::booking::{BookingInput, BookingRules};
    use si_domain::event::Registration;
    use si_domain::{BookingStatus, RegistrationMode};
    use si_store::{Booking, BookingNews, NewBooking};
    use std::sync::Arc;

    store.migrate().await.unwrap();
    let org = store
        .create_organisation(&NewOrganisation {
            name: "Usine à places".into(),
            kind: OrganisationKind::Entreprise,
            department: "69".into(),
            identifier: None,
        })
        .await
        .unwrap();
    let user = |email: &str, role: Role, org: Option<i64>| NewUser {
        email: email.into(),
        name: email.into(),
        password_hash: "x".into(),
        role,
        region: None,
        organisation_id: org,
    };
    let organiser = store.create_user(&user("o@places.fr", Role::Organiser, Some(org.id))).await.unwrap().id;
    let admin = store.create_user(&user("a@places.fr", Role::NationalAdmin, None)).await.unwrap().id;
    let labelled = |waitlist: bool| {
        let store = store.clone();
        async move {
            let mut data = event("Visite à places comptées", "69001", "2024-11-19");
            data.registration = Registration {
                mode: RegistrationMode::Platform,
                capacity: Some(30),
                waitlist,
                ..Registration::default()
            };
            let id = store.create_event(2024, org.id, organiser, &data).await.unwrap();
            let v = store.transition(&Transition::submit(id, organiser, Utc::now())).await.unwrap().version;
            store.decide(id, admin, Decision::Label, None, Utc::now(), v).await.unwrap();
            (id, BookingRules::of(&data.registration).unwrap())
        }
    };
    let letter = |b: &Booking, news: BookingNews| {
        vec![si_store::NewEmail {
            recipient: b.email.clone(),
            subject: format!("{news:?} {}", b.id),
            text: String::new(),
            html: String::new(),
            attachments: Vec::new(),
        }]
    };
    type Letters = Arc<dyn Fn(&Booking, BookingNews) -> Vec<si_store::NewEmail> + Send + Sync>;
    let letter: Letters = Arc::new(letter);
    let size = |i: u32| i * 7 % 8 + 1;
    let request = |i: u32| {
        BookingInput {
            kind: "personne".into(),
            name: format!("Personne {i}"),
            email: format!("p{i}@exemple.fr"),
            acknowledged: true,
            ..BookingInput::default()
        }
        .parse()
        .unwrap()
    };

    for waitlist in [true, false] {
        let (id, mut rules) = labelled(waitlist).await;
        rules.max_group = 8;
        let outbox_before = store.outbox_stats().await.unwrap().pending;
        let mut tasks = Vec::new();
        for i in 0..500u32 {
            let (store, letter) = (store.clone(), letter.clone());
            tasks.push(tokio::spawn(async move {
                // A request whose group is `size(i)`: a person's request with its seats set, the
                // store counts `seats()` (a class's pupils and adults are the same sum).
                let mut req = request(i);
                req.party = si_domain::booking::Party::Class {
                    uai: si_domain::identifiers::Uai::parse("0750655E").unwrap(),
                    school: "Collège".into(),
                    level: si_domain::ClassLevel::College,
                    pupils: size(i) - 1,
                    adults: 1,
                    phone: "0400000000".into(),
                };
                let token = format!("jeton-{id}-{i}");
                let nb = NewBooking { event_id: id, rank: 1, token_hash: &token, request: &req, rules, at: Utc::now() };
                // A client honours « try again » (the database busy past its deadline); any other
                // answer is final.
                loop {
                    match store.book(&nb, letter.as_ref()).await {
                        Err(e) if e.is_unavailable() => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                        other => return (i, other),
                    }
                }
            }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        let mut confirmed_seats = 0;
        let (mut confirmed, mut waiting, mut full) = (0, 0, 0);
        for (i, a) in &answers {
            match a {
                Ok(b) if b.status == BookingStatus::Confirmed => {
                    confirmed += 1;
                    confirmed_seats += b.seats;
                    assert_eq!(b.seats, size(*i));
                }
                Ok(b) if b.status == BookingStatus::Waitlisted => waiting += 1,
                Err(StoreError::Conflict(m)) if !waitlist && m.contains("complète") => full += 1,
                other => panic!("request {i}: not a definite answer: {other:?}"),
            }
        }
        assert!(confirmed_seats <= 30, "overbooked: {confirmed_seats} seats confirmed of 30");
        assert!(confirmed_seats >= 30 - 7, "seats left while groups that fit were turned away: {confirmed_seats}");
        let seats = store.session_seats(&[id]).await.unwrap();
        assert_eq!(seats[0].confirmed, confirmed_seats, "the counter is the sum of the confirmed bookings");
        assert_eq!(confirmed + waiting + full, 500);
        if waitlist {
            assert_eq!(full, 0);
        } else {
            assert_eq!(waiting, 0);
        }
        // One letter per booking, committed with it; none for a refusal.
        assert_eq!(store.outbox_stats().await.unwrap().pending - outbox_before, (confirmed + waiting) as u64);
        eprintln!(
            "waitlist {waitlist}: {confirmed} confirmed ({confirmed_seats} seats), {waiting} waiting, {full} refused"
        );

        if waitlist {
            // Cancel confirmed bookings one by one; the store's promotions must be exactly those of
            // a first-come-first-served pass over the waiting list, each group that fits.
            let all = store.event_bookings(id).await.unwrap();
            let mut queue: Vec<(i64, u32)> =
                all.iter().filter(|b| b.status == BookingStatus::Waitlisted).map(|b| (b.id, b.seats)).collect();
            assert!(queue.windows(2).all(|w| w[0].0 < w[1].0), "the waiting list is in arrival order");
            let mut free = 30 - confirmed_seats;
            let cancelled: Vec<Booking> =
                all.iter().filter(|b| b.status == BookingStatus::Confirmed).take(5).cloned().collect();
            for c in cancelled {
                let i: u32 = c.name.trim_start_matches("Personne ").parse().unwrap();
                let token = format!("jeton-{id}-{i}");
                let before: Vec<i64> = store
                    .event_bookings(id)
                    .await
                    .unwrap()
                    .iter()
                    .filter(|b| b.status == BookingStatus::Confirmed)
                    .map(|b| b.id)
                    .collect();
                store.cancel_booking(&token, false, Utc::now(), letter.as_ref()).await.unwrap();
                free += c.seats;
                let mut expected = Vec::new();
                queue.retain(|&(bid, s)| {
                    if s <= free {
                        free -= s;
                        expected.push(bid);
                        false
                    } else {
                        true
                    }
                });
                let after = store.event_bookings(id).await.unwrap();
                let mut promoted: Vec<i64> = after
                    .iter()
                    .filter(|b| b.status == BookingStatus::Confirmed && !before.contains(&b.id))
                    .map(|b| b.id)
                    .collect();
                promoted.sort_unstable();
                assert_eq!(promoted, expected, "promotions follow arrival order, each group that fits");
                let sum: u32 = after.iter().filter(|b| b.status == BookingStatus::Confirmed).map(|b| b.seats).sum();
                assert_eq!(store.session_seats(&[id]).await.unwrap()[0].confirmed, sum);
                assert!(sum <= 30);
            }
            // A larger group needs the seats: refused, unchanged.
            let live = store.event_bookings(id).await.unwrap();
            let b = live.iter().find(|b| b.status == BookingStatus::Confirmed).unwrap();
            let i: u32 = b.name.trim_start_matches("Personne ").parse().unwrap();
            let token = format!("jeton-{id}-{i}");
            let left = 30 - store.session_seats(&[id]).await.unwrap()[0].confirmed;
            let grown = b.seats + left + 1;
            let r = store.resize_booking(&token, grown - 1, 1, grown, Utc::now(), letter.as_ref()).await;
            assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
            assert_eq!(store.booking_by_token(&token).await.unwrap().unwrap().seats, b.seats);
            // Cancel and erase: the counts stay, the person is gone.
            let erased = store.cancel_booking(&token, true, Utc::now(), letter.as_ref()).await.unwrap();
            assert_eq!((erased.email.as_str(), erased.status), ("", BookingStatus::Cancelled));
            let again = store.cancel_booking(&token, false, Utc::now(), letter.as_ref()).await;
            assert!(matches!(again, Err(StoreError::Conflict(_))), "cancelled once only");
        }
    }
    // An event that is not labelled takes no booking.
    let draft = store.create_event(2024, org.id, organiser, &event("Brouillon", "69001", "2024-11-19")).await.unwrap();
    let req = request(9999);
    let rules = BookingRules::of(&Registration {
        mode: RegistrationMode::Platform,
        capacity: Some(30),
        ..Registration::default()
    })
    .unwrap();
    let nb = NewBooking { event_id: draft, rank: 1, token_hash: "brouillon", request: &req, rules, at: Utc::now() };
    assert!(matches!(store.book(&nb, letter.as_ref()).await, Err(StoreError::Conflict(_))));

    // What came of it: a report per event (corrected once), totals per region next to the seats
    // booked, anonymous answers in aggregate, work claimed once, contacts erased with counts kept.
    let (id, _) = labelled(true).await;
    let report = si_domain::booking::AttendanceInput {
        participants: "40".into(),
        girls: "17".into(),
        classes: "1".into(),
        schools: "1".into(),
        interviews: "0".into(),
        by_audience: vec![("scolaires".into(), "36".into())],
    }
    .parse()
    .unwrap();
    store.save_attendance(id, organiser, &report, Utc::now()).await.unwrap();
    let corrected = si_domain::booking::Attendance { participants: 38, girls: 18, ..report.clone() };
    store.save_attendance(id, organiser, &corrected, Utc::now()).await.unwrap();
    assert_eq!(store.attendance(id).await.unwrap(), Some(corrected.clone()));
    let regions = store.attendance_by_region(2024).await.unwrap();
    let ara = regions.iter().find(|r| r.region.as_deref() == Some("84")).unwrap();
    assert_eq!((ara.participants, ara.girls, ara.reported), (38, 18, 1));
    assert!(ara.booked >= 30, "the seats booked above: {ara:?}");
    assert_eq!(store.attendance_reports(2024, Some(&["84".to_string()])).await.unwrap().len(), 1);
    assert!(store.attendance_reports(2024, Some(&["11".to_string()])).await.unwrap().is_empty());
    for (b, a, c) in [("2", "4", "oui"), ("3", "5", "peut_etre"), ("1", "3", "non")] {
        let f = si_domain::booking::Feedback::parse(b, a, c).unwrap();
        store.add_feedback(id, &f, Utc::now().date_naive()).await.unwrap();
    }
    let s = store.feedback_of(id).await.unwrap();
    assert_eq!((s.answers, s.yes, s.maybe, s.no), (3, 1, 1, 1));
    assert!((s.before - 2.0).abs() < 1e-9 && (s.after - 4.0).abs() < 1e-9, "{s:?}");
    assert_eq!(store.feedback_by_region(2024).await.unwrap()[0].1.answers, 3);
    assert!(!store.claimed("rappel:1").await.unwrap());
    assert!(store.claim_once("rappel:1", Utc::now(), &[]).await.unwrap());
    assert!(store.claimed("rappel:1").await.unwrap());
    assert!(!store.claim_once("rappel:1", Utc::now(), &[]).await.unwrap(), "once only");
    // A claim queues its letters with it, once.
    let reminder = si_store::NewEmail {
        recipient: "prof@ecole.fr".into(),
        subject: "Rappel".into(),
        text: "t".into(),
        html: "<p>h</p>".into(),
        attachments: Vec::new(),
    };
    let before = store.outbox_stats().await.unwrap().pending;
    assert!(store.claim_once("rappel:2", Utc::now(), std::slice::from_ref(&reminder)).await.unwrap());
    assert!(!store.claim_once("rappel:2", Utc::now(), std::slice::from_ref(&reminder)).await.unwrap());
    assert_eq!(store.outbox_stats().await.unwrap().pending, before + 1);
    let req = request(77);
    let one_seat = BookingRules { max_group: 1, ..rules };
    let nb =
        NewBooking { event_id: id, rank: 1, token_hash: "a-effacer", request: &req, rules: one_seat, at: Utc::now() };
    store.book(&nb, letter.as_ref()).await.unwrap();
    // The same address again on that session: beyond one group's size, refused by the store itself.
    let again = NewBooking { token_hash: "encore", ..nb };
    assert!(matches!(store.book(&again, letter.as_ref()).await, Err(StoreError::Conflict(_))), "one group per address");
    let erased = store.erase_booking_contacts(2024, Utc::now()).await.unwrap();
    assert!(erased > 100, "every booking of the edition: {erased}");
    let all = store.event_bookings(id).await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(all.iter().all(|b| b.email.is_empty() && b.name.is_empty() && b.seats == 1), "counts kept");
    assert_eq!(store.erase_booking_contacts(2024, Utc::now()).await.unwrap(), 0, "erased once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("si-store-bookings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    no_seat_is_sold_twice(si_store::connect(&format!("sqlite://{}/test.db", dir.display())).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn bookings_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    no_seat_is_sold_twice(si_store::connect(&url).await.unwrap()).await;
    drop_db.await;
}

/// The shared token buckets of login and password-link limits: atomic under parallel attempts
/// (several nodes), refilled with time, never above capacity, forgotten on demand, swept when idle.
async fn shared_limits_count_every_attempt_once(store: DynStore) {
    store.migrate().await.unwrap();
    let now = 1_800_000_000.0;
    let attempts =
        futures_util::future::join_all((0..25).map(|_| store.take_attempt("login:pair", 10.0, 10.0 / 900.0, now)))
            .await;
    let taken = attempts.iter().filter(|a| matches!(a, Ok(None))).count();
    assert_eq!(taken, 10, "{attempts:?}");
    let wait = store.take_attempt("login:pair", 10.0, 10.0 / 900.0, now).await.unwrap().expect("refused");
    assert!(wait > 0.0 && wait <= 180.0, "{wait}");
    // 90 s refill one attempt, 15 minutes the whole bucket (not more).
    assert_eq!(store.take_attempt("login:pair", 10.0, 10.0 / 900.0, now + 180.0).await.unwrap(), None);
    for k in 0..10 {
        assert_eq!(store.take_attempt("login:pair", 10.0, 10.0 / 900.0, now + 10_000.0).await.unwrap(), None, "{k}");
    }
    assert!(store.take_attempt("login:pair", 10.0, 10.0 / 900.0, now + 10_000.0).await.unwrap().is_some());
    // Another key is another bucket; a forgotten one is whole again; idle ones are swept.
    assert_eq!(store.take_attempt("login:other", 1.0, 1.0, now).await.unwrap(), None);
    store.forget_attempts("login:pair").await.unwrap();
    assert_eq!(store.take_attempt("login:pair", 10.0, 10.0 / 900.0, now + 10_000.0).await.unwrap(), None);
    // An attempt given back (a successful login) is one more, never above capacity.
    for _ in 0..2 {
        assert_eq!(store.take_attempt("login:gift", 2.0, 0.001, now).await.unwrap(), None);
    }
    assert!(store.take_attempt("login:gift", 2.0, 0.001, now).await.unwrap().is_some());
    for _ in 0..5 {
        store.give_attempt("login:gift", 2.0).await.unwrap();
    }
    for _ in 0..2 {
        assert_eq!(store.take_attempt("login:gift", 2.0, 0.001, now).await.unwrap(), None);
    }
    assert!(store.take_attempt("login:gift", 2.0, 0.001, now).await.unwrap().is_some(), "capped at 2");
    // Swept once whole again, not before: login:other (1 of 1 taken at 1/s) a second after,
    // login:gift (left at -1 of 2 at 0.001/s) 3,000 s after, login:pair (forgotten, then 1 of 10
    // taken at now + 10,000, one back every 90 s) at now + 10,090.
    assert_eq!(store.sweep_attempts(now + 0.5).await.unwrap(), 0, "nothing is whole yet");
    assert_eq!(store.sweep_attempts(now + 1.0).await.unwrap(), 1, "login:other");
    assert_eq!(store.sweep_attempts(now + 2_999.0).await.unwrap(), 0);
    assert_eq!(store.sweep_attempts(now + 3_001.0).await.unwrap(), 1, "login:gift");
    assert_eq!(store.sweep_attempts(now + 10_089.0).await.unwrap(), 0);
    assert_eq!(store.sweep_attempts(now + 10_091.0).await.unwrap(), 1, "login:pair");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_limits_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("si-store-limits-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    shared_limits_count_every_attempt_once(
        si_store::connect(&format!("sqlite://{}/test.db", dir.display())).await.unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL and pass --include-ignored"]
async fn shared_limits_on_postgres() {
    let base = si_store::testing::postgres_url();
    let (url, drop_db) = si_store::testing::fresh_postgres_database(&base).await.unwrap();
    shared_limits_count_every_attempt_once(si_store::connect(&url).await.unwrap()).await;
    drop_db.await;
}
