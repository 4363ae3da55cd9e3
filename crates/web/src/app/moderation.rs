//! The moderation use cases, shared by the site's pages and the API, which only parse and render
//! around them: create a draft, save an event with change control, submit it, withdraw it, find an
//! organisation's own event, decide a submission (scope, state, version, reason and the four
//! conditions at that instant), decide a change, withdraw a label, set the public status, and
//! « Reconduire ». The lifecycle rules themselves are in `si_domain::lifecycle`; the store applies
//! them under lock.

use si_domain::input::REASON_MAX;
use si_domain::{Edition, EventData, FieldError, Moderation, PublicStatus};
use si_store::{ChangeOutcome, Decision, EventRecord, Transition, User};

use super::Deps;
use crate::auth::{may_review, review_scope};
use crate::error::AppError;
use crate::notify;
use crate::views::conditions_of;

/// The organisation a person acts for; refused for a person without one.
fn organisation_of(user: &User) -> Result<i64, AppError> {
    user.organisation_id.ok_or(AppError::Forbidden("Aucune organisation.".into()))
}

/// Creates a draft of `edition` for the person's organisation; the new record.
pub(crate) async fn create(
    deps: &Deps<'_>,
    user: &User,
    edition: &Edition,
    data: &EventData,
) -> Result<EventRecord, AppError> {
    let org = organisation_of(user)?;
    let id = deps.store.create_event(edition.year, org, user.id, data).await?;
    deps.store.event(id).await?.ok_or(AppError::NotFound)
}

/// The organiser takes a submission back (it becomes a draft again).
pub(crate) async fn withdraw(deps: &Deps<'_>, user: &User, record: &EventRecord) -> Result<EventRecord, AppError> {
    let t = Transition::withdraw(record.id, user.id, deps.clock.now());
    Ok(deps.store.transition(&t).await?)
}

/// Sets the public status of a labelled event (postponed, moved online, full, cancelled): no review,
/// public at once.
pub(crate) async fn set_public_status(
    deps: &Deps<'_>,
    user: &User,
    record: &EventRecord,
    status: PublicStatus,
) -> Result<EventRecord, AppError> {
    let r = deps.store.set_public_status(record.id, user.id, status, deps.clock.now()).await?;
    deps.public_changed();
    if status == PublicStatus::Cancelled {
        super::bookings::event_gone(deps, &r).await?;
    }
    Ok(r)
}

/// « Reconduire » : a draft for the edition open now, from an event of a past edition, dates
/// cleared; the new draft.
pub(crate) async fn renew(deps: &Deps<'_>, user: &User, record: &EventRecord) -> Result<EventRecord, AppError> {
    let edition = super::open_edition(deps.store, deps.clock.now())
        .await?
        .ok_or_else(|| AppError::Conflict(super::NO_OPEN_EDITION.into()))?;
    if record.edition >= edition.year {
        return Err(AppError::Conflict(
            "Seul un événement d'une édition passée peut être reconduit pour l'édition en cours.".into(),
        ));
    }
    let mut data = record.data.clone();
    data.sessions = vec![si_domain::event::SessionInput::default()];
    create(deps, user, &edition, &data).await
}

/// Withdraws the label of a labelled event seen at `version`: a reason is required, the organiser is
/// told, the public no longer sees it, the kit stops. `Conflict` (French) when refused by state or
/// version; `Invalid` for the reason.
pub(crate) async fn revoke(
    deps: &Deps<'_>,
    user: &User,
    id: i64,
    reason: &str,
    version: i64,
) -> Result<EventRecord, AppError> {
    let record = reviewer_event(deps, user, id).await?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_MAX {
        return Err(AppError::invalid(
            "revoke_reason",
            "Indiquez le motif du retrait du label (2 000 caractères au plus) : l'organisateur le recevra.",
        ));
    }
    let letters = deps.letters.clone();
    let announce =
        notify::announce(notify::audience(deps.letters, &record).await?, move |r| notify::revoked(&letters, r));
    let r = deps.store.revoke_label_announced(id, user.id, reason, deps.clock.now(), version, &announce).await?;
    deps.letters.mail.wake();
    deps.public_changed();
    super::bookings::event_gone(deps, &r).await?;
    Ok(r)
}

/// Saves an organiser's edit with change control: a labelled event's material change goes to review
/// (the public keeps the labelled version; the organiser is told once, when it enters the queue);
/// other edits of a labelled event are public at once.
pub(crate) async fn save_changes(
    deps: &Deps<'_>,
    user: &User,
    record: &EventRecord,
    data: &EventData,
) -> Result<ChangeOutcome, AppError> {
    if record.moderation == Moderation::Labelled
        && let Some(first) = data.validate(true).into_iter().next()
    {
        // A published event stays complete, whichever way the edit comes (site or API).
        return Err(AppError::Invalid { code: "incomplete", message: first.message, field: Some(first.field) });
    }
    // The acknowledgement of a change entering review is queued with it (once: not for a change
    // replacing one already waiting). Only a labelled event's edit can send one, so a draft's save
    // reads no recipients.
    let outcome = if record.moderation == Moderation::Labelled && record.pending.is_none() {
        let letters = deps.letters.clone();
        let announce = notify::announce(notify::audience(deps.letters, record).await?, move |r| {
            notify::submission_received(&letters, r)
        });
        deps.store.update_event_announced(record.id, user.id, data, &announce).await?
    } else {
        deps.store.update_event(record.id, user.id, data).await?
    };
    if record.moderation == Moderation::Labelled {
        match outcome {
            ChangeOutcome::SentToReview => deps.letters.mail.wake(),
            ChangeOutcome::Applied => deps.public_changed(),
        }
    }
    Ok(outcome)
}

/// Why a submission was refused.
pub(crate) enum SubmitRefusal {
    /// Fields to fill in or correct.
    Fields(Vec<FieldError>),
    /// Conditions not met.
    Conditions(Vec<si_domain::Condition>),
    /// Anything else (state, store).
    Other(AppError),
}

impl From<AppError> for SubmitRefusal {
    fn from(e: AppError) -> Self {
        SubmitRefusal::Other(e)
    }
}

impl From<SubmitRefusal> for AppError {
    fn from(r: SubmitRefusal) -> Self {
        match r {
            SubmitRefusal::Fields(f) => {
                let first = &f[0];
                AppError::Invalid {
                    code: "incomplete",
                    message: first.message.clone(),
                    field: Some(first.field.clone()),
                }
            }
            SubmitRefusal::Conditions(c) => AppError::ConditionsNotMet(c),
            SubmitRefusal::Other(e) => e,
        }
    }
}

/// Why an organiser whose address is not confirmed cannot submit.
pub(crate) const UNVERIFIED: &str = "Confirmez d'abord votre adresse électronique : cliquez sur le lien reçu par courriel après votre inscription, ou demandez-en un nouveau depuis « Mon espace ». Votre brouillon est enregistré.";

/// Submits an event for labelling: complete, every condition met, now.
pub(crate) async fn submit(deps: &Deps<'_>, user: &User, record: &EventRecord) -> Result<EventRecord, SubmitRefusal> {
    if !user.email_verified {
        // A label vouches for an organisation: its contact address must be real before anything is sent.
        return Err(SubmitRefusal::Other(AppError::Forbidden(UNVERIFIED.into())));
    }
    let errors = record.data.validate(true);
    if !errors.is_empty() {
        return Err(SubmitRefusal::Fields(errors));
    }
    let edition = deps.store.edition(record.edition).await.map_err(AppError::from)?.ok_or(AppError::NotFound)?;
    let now = deps.clock.now();
    let report = record.data.eligibility(&edition, now);
    if !report.eligible {
        return Err(SubmitRefusal::Conditions(report.conditions.into_iter().filter(|c| !c.met).collect()));
    }
    let t = Transition::submit(record.id, user.id, now);
    let letters = deps.letters.clone();
    let audience = notify::audience(deps.letters, record).await.map_err(AppError::from)?;
    let announce = notify::announce(audience, move |r| notify::submission_received(&letters, r));
    let submitted = deps.store.transition_announced(&t, &announce).await.map_err(AppError::from)?;
    deps.letters.mail.wake();
    Ok(submitted)
}

/// The event if this person's organisation owns it; 404 otherwise (its existence is not revealed).
pub(crate) async fn owned_event(deps: &Deps<'_>, user: &User, id: i64) -> Result<EventRecord, AppError> {
    let record = deps.store.event(id).await?.ok_or(AppError::NotFound)?;
    if user.organisation_id != Some(record.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(record)
}

/// Deletes one of the organisation's drafts (never submitted): the rule is `lifecycle::deletable`.
pub(crate) async fn delete_draft(deps: &Deps<'_>, user: &User, id: i64) -> Result<(), AppError> {
    let record = owned_event(deps, user, id).await?;
    si_domain::lifecycle::deletable(record.moderation).map_err(AppError::Conflict)?;
    deps.store.delete_draft(record.id).await?;
    Ok(())
}

/// Whether an event's label kit is available: labelled, and not cancelled.
pub(crate) fn has_kit(r: &EventRecord) -> bool {
    r.moderation == Moderation::Labelled && r.public_status != si_domain::PublicStatus::Cancelled
}

/// Parses a decision code of the contract.
pub(crate) fn parse_decision(code: &str) -> Option<Decision> {
    Decision::parse(code)
}

/// Where an event is reviewed (`si_domain::lifecycle::review_region`), read from the
/// stored (published) version, like the queue's SQL (`REVIEW_REGION`), so that the queue a reviewer
/// sees and the events they may open never disagree.
pub(crate) fn review_region(r: &EventRecord) -> Option<&str> {
    si_domain::lifecycle::review_region(r.data.format, r.region.as_deref())
}

/// Whether a reviewer may open an event: one of their scope that has been submitted at least once.
/// A draft never sent to the committee belongs to its organisation alone.
pub(crate) fn reviewable(user: &User, r: &EventRecord) -> bool {
    r.submitted_at.is_some() && may_review(user, review_region(r))
}

/// An event a reviewer may decide on: a reviewer's role, in their scope, submitted once; 404
/// otherwise (its existence is not revealed).
pub(crate) async fn reviewer_event(deps: &Deps<'_>, user: &User, id: i64) -> Result<EventRecord, AppError> {
    review_scope(user)?;
    let record = deps.store.event(id).await?.ok_or(AppError::NotFound)?;
    if !reviewable(user, &record) {
        return Err(AppError::NotFound);
    }
    Ok(record)
}

fn check_reason(decision: Decision, reason: &str) -> Result<(), AppError> {
    if decision != Decision::Label && reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "Indiquez le motif : l'organisateur le recevra pour comprendre la décision.",
        ));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(AppError::invalid("reason", "Le motif ne doit pas dépasser 2 000 caractères."));
    }
    Ok(())
}

/// Decides an event: only a reviewer of its region (or national), with a reason unless labelling,
/// and labelling only when every condition still holds. For a change to a labelled event, labelling
/// accepts the change (checked against the conditions at the original submission) and refusing keeps
/// the labelled version. The organiser is told by email.
pub(crate) async fn decide(
    deps: &Deps<'_>,
    user: &User,
    id: i64,
    decision: Decision,
    reason: &str,
    version: i64,
) -> Result<EventRecord, AppError> {
    let record = reviewer_event(deps, user, id).await?;
    // What is checked below and applied by the store is this version, the one the reviewer saw; the
    // store checks it again under its row lock, so nothing written in between can slip through.
    if record.version != version {
        return Err(AppError::Conflict(si_store::STALE_VERSION.into()));
    }
    let reason = reason.trim();
    check_reason(decision, reason)?;
    let now = deps.clock.now();
    let edition = deps.store.edition(record.edition).await?.ok_or(AppError::NotFound)?;
    if let (Moderation::Labelled, Some(pending)) = (record.moderation, &record.pending) {
        if decision == Decision::RequestChanges {
            return Err(AppError::invalid(
                "decision",
                "Pour la modification d'un événement labellisé, acceptez-la ou refusez-la en indiquant le motif.",
            ));
        }
        let accept = decision == Decision::Label;
        if accept {
            let report = crate::views::conditions_of_data(&record, pending, &edition);
            if !report.eligible {
                return Err(AppError::ConditionsNotMet(report.conditions.into_iter().filter(|c| !c.met).collect()));
            }
        }
        let reason = (!reason.is_empty()).then_some(reason);
        let letters = deps.letters.clone();
        let announce = notify::announce(notify::audience(deps.letters, &record).await?, move |r| {
            notify::change_decided(&letters, r, accept)
        });
        let decided = deps.store.decide_change_announced(id, user.id, accept, reason, now, version, &announce).await?;
        deps.letters.mail.wake();
        if accept {
            deps.public_changed();
        }
        return Ok(decided);
    }
    if record.moderation != Moderation::Submitted {
        return Err(AppError::Conflict(format!(
            "Cet événement n'attend pas de décision (état : {}).",
            record.moderation.label()
        )));
    }
    if decision == Decision::Label {
        let report = conditions_of(&record, &edition);
        if !report.eligible {
            return Err(AppError::ConditionsNotMet(report.conditions.into_iter().filter(|c| !c.met).collect()));
        }
    }
    let reason = (!reason.is_empty()).then_some(reason);
    let letters = deps.letters.clone();
    let announce = notify::announce(notify::audience(deps.letters, &record).await?, move |r| {
        notify::decision(&letters, r, decision)
    });
    let decided = deps.store.decide_announced(id, user.id, decision, reason, now, version, &announce).await?;
    deps.letters.mail.wake();
    if decision == Decision::Label {
        deps.public_changed();
    }
    Ok(decided)
}
