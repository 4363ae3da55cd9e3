//! Who is told what, and when: the letters of the review process, composed from events and queued
//! through [`crate::mail`]. The letters of a moderation move (submission, decision, change decided,
//! label withdrawn) are composed inside the move's transaction ([`announce`]) and queued with it;
//! the others are queued after the change they report was committed.
//! They take [`Letters`] (the store, the public address, the outbox's wake-up call), never the whole
//! application state, so that use cases can be called with exactly what they need.

use chrono::{DateTime, Duration, Utc};
use si_domain::dates::{PARIS, fr_instant};
use si_domain::review::due_at;
use si_store::{Decision, EventRecord, NewEmail, User};

use crate::mail::{Letter, Mail};
use si_store::DynStore;
use std::sync::Arc;

/// What composing and queuing a letter needs.
#[derive(Clone)]
pub struct Letters {
    /// Where letters are queued (the outbox) and recipients read.
    pub store: DynStore,
    /// The site's public address, for absolute links.
    pub public_url: Arc<str>,
    /// The outbox worker's wake-up call.
    pub mail: Arc<Mail>,
}

fn event_url(letters: &Letters, r: &EventRecord) -> String {
    format!("{}/espace/evenements/{}", letters.public_url, r.id)
}

/// The label kit's two documents, as absolute links.
pub(crate) fn kit_links(letters: &Letters, r: &EventRecord) -> Vec<(String, String)> {
    let base = format!("{}/evenements/{}/label", letters.public_url, r.id);
    vec![
        ("Télécharger l'attestation de labellisation (PDF)".into(), format!("{base}/attestation.pdf")),
        ("Télécharger le badge « Événement labellisé » (SVG)".into(), format!("{base}/badge.svg")),
    ]
}

/// A letter about an event to every member of its organisation.
async fn to_organisation(letters: &Letters, r: &EventRecord, letter: Letter) -> si_store::StoreResult<Vec<NewEmail>> {
    let letter = mark_demo(letters, r.edition, letter).await;
    let members = letters.store.organisation_members(r.organisation_id).await?;
    Ok(members.iter().map(|u| letter.to(&u.email)).collect())
}

/// A letter about an event of a demonstration edition says so, in its subject and first, so that
/// nobody takes a demonstration label for a real one.
pub(crate) async fn mark_demo(letters: &Letters, edition: i32, letter: Letter) -> Letter {
    let demo = matches!(letters.store.edition(edition).await, Ok(Some(e)) if e.demo);
    demo_marked(demo.then_some(edition), letter)
}

/// The demonstration mark of [`mark_demo`], given whether the edition (`demo`: its year) is one.
fn demo_marked(demo: Option<i32>, mut letter: Letter) -> Letter {
    if let Some(year) = demo {
        letter.subject = format!("[Démonstration] {}", letter.subject);
        letter.paragraphs.insert(
            0,
            format!(
                "L'édition {year} est une édition de démonstration : ce message et ce qu'il annonce n'ont aucune valeur officielle."
            ),
        );
    }
    letter
}

/// Who receives the letters about an organisation's event, read before the change so that its
/// letters are composed and queued inside the change's own transaction (`si_store::Announce`).
pub(crate) struct Audience {
    emails: Vec<String>,
    demo: Option<i32>,
}

/// The members of the organisation of `r` and whether its edition is a demonstration.
pub(crate) async fn audience(letters: &Letters, r: &EventRecord) -> si_store::StoreResult<Audience> {
    let emails = letters.store.organisation_members(r.organisation_id).await?.into_iter().map(|u| u.email).collect();
    let demo = letters.store.edition(r.edition).await?.filter(|e| e.demo).map(|e| e.year);
    Ok(Audience { emails, demo })
}

/// The `si_store::Announce` of a move: `compose` writes the letter from the event as the move
/// leaves it; every member of the organisation receives it.
pub(crate) fn announce(
    audience: Audience,
    compose: impl Fn(&EventRecord) -> Letter + Send + Sync,
) -> impl Fn(&EventRecord) -> Vec<si_store::NewEmail> + Send + Sync {
    move |r| {
        let letter = demo_marked(audience.demo, compose(r));
        audience.emails.iter().map(|e| letter.to(e)).collect()
    }
}

/// « Demande reçue », with the date by which the committee decides.
pub(crate) fn submission_received(letters: &Letters, r: &EventRecord) -> Letter {
    let at = r.change_submitted_at.or(r.submitted_at).unwrap_or_else(Utc::now);
    let due = fr_instant(due_at(at, r.department.as_deref()));
    let change = r.change_submitted_at.is_some();
    let title = &r.working_data().title;
    Letter {
        subject: if change {
            format!("Modification reçue : {title}")
        } else {
            format!("Demande de labellisation reçue : {title}")
        },
        paragraphs: vec![
            "Bonjour,".into(),
            if change {
                format!(
                    "La modification de votre événement labellisé « {title} » a bien été reçue. Jusqu'à la décision, le public continue de voir la version labellisée."
                )
            } else {
                format!("Votre demande de labellisation pour « {title} » a bien été reçue.")
            },
            format!("Le comité s'engage à décider dans un délai de 4 jours ouvrés, soit au plus tard le {due}."),
        ],
        links: vec![("Suivre ma demande".into(), event_url(letters, r))],
        ..Letter::default()
    }
}

/// The decision on a submission: labelled (with the kit), refused (with the reason), changes requested.
pub(crate) fn decision(letters: &Letters, r: &EventRecord, decision: Decision) -> Letter {
    let title = &r.data.title;
    let reason = r.decision_reason.clone().unwrap_or_default();
    match decision {
        Decision::Label => Letter {
            subject: format!("Événement labellisé : {title}"),
            paragraphs: vec![
                "Bonjour,".into(),
                format!(
                    "Bonne nouvelle : « {title} » est labellisé Semaine de l'industrie {} sous le numéro {}. Il est désormais publié sur la carte et dans le catalogue.",
                    r.edition,
                    r.label_number.clone().unwrap_or_default()
                ),
                "Votre kit de labellisation est prêt : l'attestation et le badge à afficher sur vos supports, avec un code QR vers la page publique de l'événement.".into(),
            ],
            links: [kit_links(letters, r), vec![("Voir la page publique".into(), format!("{}/evenements/{}", letters.public_url, r.id))]].concat(),
            ..Letter::default()
        },
        Decision::Refuse => Letter {
            subject: format!("Demande de labellisation refusée : {title}"),
            paragraphs: vec![
                "Bonjour,".into(),
                format!("Le comité n'a pas pu labelliser « {title} »."),
                format!("Motif : {reason}"),
            ],
            links: vec![("Voir ma demande".into(), event_url(letters, r))],
            ..Letter::default()
        },
        Decision::RequestChanges => Letter {
            subject: format!("Modifications demandées : {title}"),
            paragraphs: vec![
                "Bonjour,".into(),
                format!("Le comité vous demande de modifier « {title} » avant de pouvoir le labelliser :"),
                reason,
                "Une fois l'événement modifié, soumettez-le à nouveau : il reviendra au même comité.".into(),
            ],
            links: vec![("Modifier mon événement".into(), event_url(letters, r))],
            ..Letter::default()
        },
    }
}

/// The decision on a change to a labelled event.
pub(crate) fn change_decided(letters: &Letters, r: &EventRecord, accepted: bool) -> Letter {
    let title = &r.data.title;
    if accepted {
        Letter {
            subject: format!("Modification acceptée : {title}"),
            paragraphs: vec![
                "Bonjour,".into(),
                format!(
                    "La modification de « {title} » est acceptée : la page publique montre désormais la nouvelle version."
                ),
            ],
            links: vec![("Voir la page publique".into(), format!("{}/evenements/{}", letters.public_url, r.id))],
            ..Letter::default()
        }
    } else {
        Letter {
            subject: format!("Modification refusée : {title}"),
            paragraphs: vec![
                "Bonjour,".into(),
                format!("La modification de « {title} » n'est pas acceptée ; la version labellisée reste publiée."),
                format!("Motif : {}", r.decision_reason.clone().unwrap_or_default()),
            ],
            links: vec![("Voir mon événement".into(), event_url(letters, r))],
            ..Letter::default()
        }
    }
}

/// A link to choose a password: an invitation (new coordinator) or a reset.
pub(crate) fn password_link(letters: &Letters, user: &User, token: &str, invitation: bool) -> NewEmail {
    let url = format!("{}/mot-de-passe/{token}", letters.public_url);
    let letter = if invitation {
        Letter {
            subject: "Invitation : instruction des événements de la Semaine de l'industrie".into(),
            paragraphs: vec![
                format!("Bonjour {},", user.name),
                "Un administrateur national vous a ouvert un compte de coordination sur la plateforme de la Semaine de l'industrie. Choisissez votre mot de passe pour accéder à la file d'instruction.".into(),
                "Ce lien est valable 7 jours et ne sert qu'une fois.".into(),
            ],
            links: vec![("Choisir mon mot de passe".into(), url)],
            ..Letter::default()
        }
    } else {
        Letter {
            subject: "Réinitialisation de votre mot de passe".into(),
            paragraphs: vec![
                "Bonjour,".into(),
                "Une réinitialisation du mot de passe de votre compte a été demandée. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.".into(),
                "Ce lien est valable 1 heure et ne sert qu'une fois.".into(),
            ],
            links: vec![("Choisir un nouveau mot de passe".into(), url)],
            ..Letter::default()
        }
    };
    letter.to(&user.email)
}

/// The link that confirms a new organiser's address (and opens their space).
pub(crate) fn verification_link(letters: &Letters, user: &User, token: &str) -> NewEmail {
    let letter = Letter {
        subject: "Confirmez votre adresse électronique".into(),
        paragraphs: vec![
            format!("Bonjour {},", user.name),
            "Votre compte organisateur sur la plateforme de la Semaine de l'industrie est créé. Confirmez votre adresse électronique pour pouvoir soumettre vos événements à la labellisation.".into(),
            "Ce lien est valable 24 heures et ne sert qu'une fois. Si vous n'avez pas demandé ce compte, ignorez ce message.".into(),
        ],
        links: vec![("Confirmer mon adresse".into(), format!("{}/verification/{token}", letters.public_url))],
        ..Letter::default()
    };
    letter.to(&user.email)
}

/// Someone tried to open an account with an address that already has one: its owner is told, and
/// the sign-up page answered as for a new account (it does not reveal who has an account).
pub(crate) async fn signup_on_existing_account(letters: &Letters, user: &User) {
    let letter = Letter {
        subject: "Votre compte existe déjà".into(),
        paragraphs: vec![
            "Bonjour,".into(),
            "Une création de compte a été demandée avec votre adresse électronique, qui a déjà un compte sur la plateforme de la Semaine de l'industrie. Si c'est vous, connectez-vous ; si vous avez oublié votre mot de passe, choisissez-en un nouveau.".into(),
            "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre compte n'a pas changé.".into(),
        ],
        links: vec![
            ("Se connecter".into(), format!("{}/connexion", letters.public_url)),
            ("Mot de passe oublié".into(), format!("{}/mot-de-passe-oublie", letters.public_url)),
        ],
        ..Letter::default()
    };
    letters.mail.send(&letters.store, vec![letter.to(&user.email)]).await;
}

/// The name of an organisation, for a letter (empty when it cannot be read).
pub(crate) async fn organisation_name(letters: &Letters, id: i64) -> String {
    letters.store.organisation(id).await.ok().flatten().map(|o| o.name).unwrap_or_default()
}

/// A person (address confirmed) asks to join the organisation: its members are asked to answer.
pub(crate) async fn membership_requested(
    letters: &Letters,
    organisation_id: i64,
    person: &User,
) -> si_store::StoreResult<Vec<NewEmail>> {
    let org = organisation_name(letters, organisation_id).await;
    let letter = Letter {
        subject: format!("Demande pour rejoindre {org}"),
        paragraphs: vec![
            "Bonjour,".into(),
            format!(
                "{} ({}) a créé un compte sur la plateforme de la Semaine de l'industrie avec le numéro de votre organisation « {org} » et demande à la rejoindre.",
                person.name, person.email
            ),
            "Si vous connaissez cette personne, acceptez sa demande : elle pourra alors déposer et modifier les événements de votre organisation. Sinon, refusez-la.".into(),
        ],
        links: vec![("Répondre à la demande".into(), format!("{}/espace/membres", letters.public_url))],
        ..Letter::default()
    };
    let members = letters.store.organisation_members(organisation_id).await?;
    Ok(members.iter().map(|u| letter.to(&u.email)).collect())
}

/// A member answered a person's request to join.
pub(crate) async fn membership_settled(
    letters: &Letters,
    person: &User,
    organisation_id: i64,
    accepted: bool,
) -> NewEmail {
    let org = organisation_name(letters, organisation_id).await;
    let letter = if accepted {
        Letter {
            subject: format!("Bienvenue dans l'espace de {org}"),
            paragraphs: vec![
                format!("Bonjour {},", person.name),
                format!("Votre demande est acceptée : vous êtes membre de « {org} » et pouvez déposer ses événements."),
            ],
            links: vec![("Ouvrir mon espace".into(), format!("{}/espace", letters.public_url))],
            ..Letter::default()
        }
    } else {
        Letter {
            subject: format!("Votre demande pour rejoindre {org}"),
            paragraphs: vec![
                format!("Bonjour {},", person.name),
                format!(
                    "Un membre de « {org} » n'a pas accepté votre demande. Si c'est une erreur, prenez contact avec votre organisation."
                ),
            ],
            ..Letter::default()
        }
    };
    letter.to(&person.email)
}

/// A member invited a colleague: an account is open, the link chooses its password.
pub(crate) fn member_invitation(letters: &Letters, invitee: &User, inviter: &User, org: &str, token: &str) -> NewEmail {
    let letter = Letter {
        subject: format!("Invitation à rejoindre {org} sur la plateforme de la Semaine de l'industrie"),
        paragraphs: vec![
            format!("Bonjour {},", invitee.name),
            format!(
                "{} vous invite à rejoindre « {org} » sur la plateforme de la Semaine de l'industrie, pour déposer et suivre les événements de votre organisation.",
                inviter.name
            ),
            "Choisissez votre mot de passe pour accéder à votre espace. Ce lien est valable 7 jours et ne sert qu'une fois ; si vous ne connaissez pas cette organisation, ignorez ce message.".into(),
        ],
        links: vec![("Choisir mon mot de passe".into(), format!("{}/mot-de-passe/{token}", letters.public_url))],
        ..Letter::default()
    };
    letter.to(&invitee.email)
}

/// The link that confirms a new address, sent to that new address.
pub(crate) fn email_change_link(letters: &Letters, user: &User, new_email: &str, token: &str) -> NewEmail {
    let letter = Letter {
        subject: "Confirmez votre nouvelle adresse électronique".into(),
        paragraphs: vec![
            format!("Bonjour {},", user.name),
            "Vous avez demandé que cette adresse remplace celle de votre compte sur la plateforme de la Semaine de l'industrie. Confirmez-le avec le lien ci-dessous ; jusque-là, l'ancienne adresse reste celle du compte.".into(),
            "Ce lien est valable 24 heures et ne sert qu'une fois. Si vous n'avez rien demandé, ignorez ce message.".into(),
        ],
        links: vec![("Confirmer ma nouvelle adresse".into(), format!("{}/adresse/{token}", letters.public_url))],
        ..Letter::default()
    };
    letter.to(new_email)
}

/// A change to the account's sign-in (address or password), told to the address that had it, so that
/// its owner learns of a change they did not make.
pub(crate) fn sign_in_changed(letters: &Letters, old_email: &str, what: &str) -> NewEmail {
    let letter = Letter {
        subject: "Modification de votre compte".into(),
        paragraphs: vec![
            "Bonjour,".into(),
            what.to_string(),
            "Si vous n'êtes pas à l'origine de ce changement, choisissez sans attendre un nouveau mot de passe et prévenez l'équipe de la Semaine de l'industrie.".into(),
        ],
        links: vec![("Mot de passe oublié".into(), format!("{}/mot-de-passe-oublie", letters.public_url))],
        ..Letter::default()
    };
    letter.to(old_email)
}

/// The hour (Paris) after which the day's digest goes out.
const DIGEST_HOUR: u32 = 7;

/// Queues the coordinators' digest once a day after 7:00 (Paris), whichever process gets there first.
pub async fn daily_digest_if_due(letters: &Letters, now: DateTime<Utc>) -> anyhow::Result<bool> {
    use chrono::Timelike;
    let local = now.with_timezone(&PARIS);
    if local.hour() < DIGEST_HOUR {
        return Ok(false);
    }
    let day = local.date_naive();
    // Composed only when the day is not yet claimed, then queued with the claim: a crash loses
    // neither the claim nor the letters alone, and two processes never both send.
    if letters.store.digest_day_claimed(day).await? {
        return Ok(false);
    }
    let emails = daily_digest(letters, now).await?;
    let claimed = letters.store.claim_digest_day(day, now, &emails).await?;
    if claimed {
        letters.mail.wake();
    }
    Ok(claimed)
}

/// Writes to each regional coordinator what is new (last 24 hours) and overdue in their region;
/// coordinators with nothing waiting get nothing.
pub async fn daily_digest(letters: &Letters, now: DateTime<Utc>) -> anyhow::Result<Vec<NewEmail>> {
    let coordinators: Vec<User> = letters
        .store
        .reviewers()
        .await?
        .into_iter()
        .filter(|u| !u.revoked && u.role == si_domain::Role::RegionalCoordinator && u.region.is_some())
        .collect();
    let mut emails = Vec::new();
    for c in &coordinators {
        let region = c.region.clone().unwrap_or_default();
        let items = letters.store.queue_items(Some(std::slice::from_ref(&region))).await?;
        if items.is_empty() {
            continue;
        }
        let new: Vec<_> = items.iter().filter(|i| i.submitted_at > now - Duration::hours(24)).collect();
        let overdue: Vec<_> = items.iter().filter(|i| due_at(i.submitted_at, i.department.as_deref()) < now).collect();
        let name = si_domain::territory::territory().region_name(&region);
        let mut list: Vec<String> = overdue
            .iter()
            .take(20)
            .map(|i| {
                format!(
                    "En retard : {} ({}), échéance dépassée le {}",
                    i.title,
                    i.organisation_name,
                    fr_instant(due_at(i.submitted_at, i.department.as_deref()))
                )
            })
            .collect();
        list.extend(new.iter().take(20).map(|i| format!("Nouveau : {} ({})", i.title, i.organisation_name)));
        let letter = Letter {
            subject: format!("Instruction {name} : {} nouvelle(s), {} en retard", new.len(), overdue.len()),
            paragraphs: vec![
                format!("Bonjour {},", c.name),
                format!(
                    "{} demande(s) attendent une décision en {name}, dont {} reçue(s) depuis 24 heures et {} dont l'échéance de 4 jours ouvrés est dépassée.",
                    items.len(),
                    new.len(),
                    overdue.len()
                ),
            ],
            items: list,
            links: vec![
                ("Ouvrir la file d'instruction".into(), format!("{}/instruction", letters.public_url)),
                ("Voir les demandes en retard".into(), format!("{}/instruction?retard=1", letters.public_url)),
            ],
        };
        emails.push(letter.to(&c.email));
    }
    Ok(emails)
}

/// The label was withdrawn: the kit no longer works and the event left the public catalogue.
pub(crate) fn revoked(letters: &Letters, r: &EventRecord) -> Letter {
    let title = &r.data.title;
    Letter {
        subject: format!("Label retiré : {title}"),
        paragraphs: vec![
            "Bonjour,".into(),
            format!(
                "Le label {} de « {title} » a été retiré ; l'événement n'est plus publié et le kit de labellisation n'est plus valable.",
                r.label_number.clone().unwrap_or_default()
            ),
            format!("Motif : {}", r.decision_reason.clone().unwrap_or_default()),
        ],
        links: vec![("Voir mon événement".into(), event_url(letters, r))],
        ..Letter::default()
    }
}

/// The letters of a booking's news (see `si_store::Compose`): composed inside the store's
/// transaction, so each is queued with the change it reports. A booking confirmed (at once or from
/// the waiting list) carries the session's `.ics` and a PDF confirmation for the school's outing file;
/// the first letter carries the secret link (`token`), which is never stored.
pub(crate) async fn booking_letters(
    letters: &Letters,
    record: &EventRecord,
    token: Option<&str>,
) -> impl Fn(&si_store::Booking, si_store::BookingNews) -> Vec<si_store::NewEmail> + Send + Sync + use<> {
    use si_store::BookingNews;
    // A booking of a demonstration edition's event says so (subject, first line, calendar entry).
    let demo = matches!(letters.store.edition(record.edition).await, Ok(Some(e)) if e.demo).then_some(record.edition);
    let public_url = letters.public_url.to_string();
    let record = record.clone();
    let manage = token.map(|t| format!("{public_url}/reservations/{t}"));
    let sessions: Vec<String> =
        record.data.parsed_sessions().iter().map(|s| si_domain::dates::fr_session(s.start, s.end)).collect();
    let place = place_line(&record);
    let safety = crate::views::safety_lines(&record.data.safety);
    move |b: &si_store::Booking, news: BookingNews| {
        if b.email.is_empty() {
            // Erased at its contact's request: nobody to write to.
            return Vec::new();
        }
        let title = &record.data.title;
        let when = b.rank.checked_sub(1).and_then(|i| sessions.get(i as usize)).cloned().unwrap_or_default();
        let seats = match b.seats {
            1 => "1 place".to_string(),
            n => format!("{n} places"),
        };
        let who = party_lines(b);
        let (subject, lead, files) = match news {
            BookingNews::Confirmed => (
                format!("Réservation confirmée : {title}"),
                format!("Votre réservation de {seats} pour « {title} » est confirmée."),
                true,
            ),
            BookingNews::Waitlisted => (
                format!("Inscription sur liste d'attente : {title}"),
                format!(
                    "La séance est complète : votre demande de {seats} pour « {title} » est sur la liste d'attente. Si des places se libèrent, elles sont attribuées dans l'ordre d'arrivée et vous recevez aussitôt un courriel de confirmation."
                ),
                false,
            ),
            BookingNews::Promoted => (
                format!("Places libérées, réservation confirmée : {title}"),
                format!("Des places se sont libérées : votre réservation de {seats} pour « {title} » est confirmée."),
                true,
            ),
            BookingNews::Resized => (
                format!("Réservation modifiée : {title}"),
                format!("Votre réservation pour « {title} » compte désormais {seats}."),
                false,
            ),
            BookingNews::Cancelled => (
                format!("Réservation annulée : {title}"),
                format!("Votre réservation de {seats} pour « {title} » est annulée. Merci d'avoir libéré ces places."),
                false,
            ),
            BookingNews::EventCancelled => (
                format!("Événement annulé : {title}"),
                format!(
                    "Nous sommes désolés : « {title} » n'aura pas lieu, et votre réservation de {seats} est annulée. D'autres visites près de chez vous sont sur le site de la Semaine de l'industrie."
                ),
                false,
            ),
        };
        let mut paragraphs =
            vec![format!("Bonjour {},", b.name), lead, format!("Séance : {when}."), format!("Lieu : {place}.")];
        paragraphs.extend(who.iter().map(|w| format!("Participants : {w}.")));
        let cancelled = matches!(news, BookingNews::Cancelled | BookingNews::EventCancelled);
        if !safety.is_empty() && !cancelled {
            paragraphs.push(format!("Consignes de sécurité : {}", safety.join(" ")));
        }
        if files {
            paragraphs.push(
                "Vous trouverez en pièces jointes la séance pour votre agenda (.ics) et une confirmation à joindre au dossier de sortie (PDF)."
                    .into(),
            );
        }
        let mut links = Vec::new();
        match (&manage, news) {
            (Some(url), _) => {
                paragraphs.push(
                    "Gardez ce courriel : son lien personnel permet de modifier le nombre de participants ou d'annuler la réservation. Ne le transférez pas."
                        .into(),
                );
                links.push(("Modifier ou annuler ma réservation".to_string(), url.clone()));
            }
            (None, BookingNews::Cancelled | BookingNews::EventCancelled) => {}
            (None, _) => paragraphs.push(
                "Pour modifier ou annuler, utilisez le lien personnel reçu dans le courriel de votre réservation."
                    .into(),
            ),
        }
        links.push(("Voir la page de l'événement".into(), format!("{public_url}/evenements/{}", record.id)));
        let letter = demo_marked(demo, Letter { subject, paragraphs, items: Vec::new(), links });
        let mut email = letter.to(&b.email);
        if files {
            email.attachments = booking_files(&record, &public_url, b, (&when, &place), &who, &safety, demo.is_some());
        }
        vec![email]
    }
}

/// Where an event takes place, in one line.
fn place_line(r: &EventRecord) -> String {
    let l = &r.data.location;
    let commune = r.data.place().map(|p| p.commune).unwrap_or_default();
    let parts: Vec<String> =
        [l.venue.clone(), l.address.clone(), format!("{} {commune}", l.postal_code).trim().to_string()]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect();
    if parts.is_empty() { "en ligne".into() } else { parts.join(", ") }
}

/// Who comes with a booking, in French.
fn party_lines(b: &si_store::Booking) -> Vec<String> {
    if b.kind == "classe" {
        vec![
            format!(
                "{} ({}), {}",
                b.school.as_deref().unwrap_or(""),
                b.uai.as_deref().unwrap_or(""),
                b.level.map(|l| l.label()).unwrap_or("")
            ),
            format!(
                "{} élève{} et {} accompagnateur{}",
                b.pupils,
                if b.pupils > 1 { "s" } else { "" },
                b.adults,
                if b.adults > 1 { "s" } else { "" }
            ),
        ]
    } else {
        vec![format!("{} (1 personne)", b.name)]
    }
}

/// The `.ics` of the booked session and the PDF confirmation.
fn booking_files(
    record: &EventRecord,
    public_url: &str,
    b: &si_store::Booking,
    (when, place): (&str, &str),
    who: &[String],
    safety: &[String],
    demo: bool,
) -> Vec<si_store::Attachment> {
    let mut view = crate::views::event_view(record, public_url);
    let id = format!("{}-{}", record.id, b.rank);
    view.sessions.retain(|s| s.id == id);
    let ics = crate::exports::ical(
        &record.data.title,
        &[crate::exports::CalendarItem { event: &view, updated_at: record.updated_at, demo }],
    );
    let mut party = who.to_vec();
    party.push(format!(
        "Contact : {} – {}{}",
        b.name,
        b.email,
        if b.phone.is_empty() { String::new() } else { format!(" – {}", b.phone) }
    ));
    let pdf = crate::kit::booking_pdf(&crate::kit::BookingFacts {
        year: record.edition,
        title: record.data.title.clone(),
        organisation: record.organisation_name.clone(),
        session: when.to_string(),
        place: place.to_string(),
        reference: format!("R-{}", b.id),
        party,
        status: b.status.label().to_string(),
        safety: safety.to_vec(),
        url: format!("{public_url}/evenements/{}", record.id),
        demo,
    });
    vec![
        si_store::Attachment {
            name: "seance.ics".into(),
            content_type: "text/calendar; charset=utf-8".into(),
            bytes: ics.into_bytes(),
        },
        si_store::Attachment {
            name: format!("reservation-R-{}.pdf", b.id),
            content_type: "application/pdf".into(),
            bytes: pdf,
        },
    ]
}

/// Two days before a session: a reminder to each booked contact, and to the organisation the list of
/// who is expected.
pub(crate) async fn session_reminders(
    letters: &Letters,
    r: &EventRecord,
    session: (chrono::NaiveDateTime, chrono::NaiveDateTime),
    booked: &[si_store::Booking],
) -> si_store::StoreResult<Vec<NewEmail>> {
    let when = si_domain::dates::fr_session(session.0, session.1);
    let place = place_line(r);
    let safety = crate::views::safety_lines(&r.data.safety);
    let title = &r.data.title;
    let mut emails = Vec::new();
    for b in booked {
        let mut paragraphs = vec![
            format!("Bonjour {},", b.name),
            format!("Rappel : vous êtes attendu·e pour « {title} », {when}, avec {} place(s) réservée(s).", b.seats),
            format!("Lieu : {place}."),
        ];
        if !safety.is_empty() {
            paragraphs.push(format!("Consignes de sécurité : {}", safety.join(" ")));
        }
        paragraphs.push(
            "Un empêchement ? Annulez avec le lien personnel de votre courriel de réservation : vos places iront à une autre classe."
                .into(),
        );
        let letter = Letter {
            subject: format!("Rappel : {title}, {when}"),
            paragraphs,
            items: Vec::new(),
            links: vec![("Voir la page de l'événement".into(), format!("{}/evenements/{}", letters.public_url, r.id))],
        };
        emails.push(letter.to(&b.email));
    }
    let seats: u32 = booked.iter().map(|b| b.seats).sum();
    let letter = Letter {
        subject: format!("Séance dans deux jours : {title}"),
        paragraphs: vec![
            "Bonjour,".into(),
            format!("La séance {when} de « {title} » compte {seats} place(s) réservée(s) :"),
        ],
        items: booked.iter().flat_map(party_lines).collect(),
        links: vec![
            ("Feuille d'émargement".into(), format!("{}/espace/evenements/{}/feuille", letters.public_url, r.id)),
            ("Réservations".into(), format!("{}/espace/evenements/{}/reservations", letters.public_url, r.id)),
        ],
    };
    emails.extend(to_organisation(letters, r, letter).await?);
    Ok(emails)
}

/// The day after the last session: the organisation is asked who came.
pub(crate) async fn report_request(letters: &Letters, r: &EventRecord) -> si_store::StoreResult<Vec<NewEmail>> {
    let title = &r.data.title;
    let letter = Letter {
        subject: format!("Qui est venu ? Bilan de « {title} »"),
        paragraphs: vec![
            "Bonjour,".into(),
            format!(
                "« {title} » a eu lieu : merci ! En deux minutes, dites combien de personnes sont venues, dont combien de filles et de femmes, et combien de classes. Ces nombres, sans aucun nom, mesurent ce que change la Semaine de l'industrie."
            ),
        ],
        items: Vec::new(),
        links: vec![("Remplir le bilan".into(), format!("{}/espace/evenements/{}/bilan", letters.public_url, r.id))],
    };
    to_organisation(letters, r, letter).await
}

/// An organiser's message to the people booked (each address once); how many were written to.
pub(crate) async fn organiser_message(
    letters: &Letters,
    r: &EventRecord,
    booked: &[si_store::Booking],
    text: &str,
) -> usize {
    let mut to: Vec<&str> = booked.iter().map(|b| b.email.as_str()).collect();
    to.sort_unstable();
    to.dedup();
    let title = &r.data.title;
    let mut paragraphs =
        vec![format!("Bonjour, voici un message de {} au sujet de « {title} » :", r.organisation_name)];
    paragraphs.extend(text.split("\n\n").map(|p| p.trim().to_string()).filter(|p| !p.is_empty()));
    paragraphs.push(
        "Vous recevez ce message parce que vous avez réservé sur la plateforme de la Semaine de l'industrie.".into(),
    );
    let letter = Letter {
        subject: format!("Message de l'organisateur : {title}"),
        paragraphs,
        items: Vec::new(),
        links: vec![("Voir la page de l'événement".into(), format!("{}/evenements/{}", letters.public_url, r.id))],
    };
    let emails: Vec<_> = to.iter().map(|e| letter.to(e)).collect();
    let n = emails.len();
    letters.mail.send(&letters.store, emails).await;
    n
}
