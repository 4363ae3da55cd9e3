//! The moderation lifecycle of an event, in one place: which action each state allows, where it
//! leads, what it must carry and how the audit trail names it. The store applies these answers
//! under the event's row lock; the pages ask them which actions to offer.
//!
//! ```text
//!   draft ──submit──▶ submitted ──label──▶ labelled ──revoke──▶ refused
//!     ▲                 │  │  └──refuse──▶ refused      │ ▲
//!     │                 │  └──withdraw──▶ withdrawn     │ └─ edit (material: waits for review),
//!  changes_requested ◀──request changes                 │    decide change (accept / refuse),
//!     └──submit──▶ submitted                            └─── set public status
//! ```

use crate::{AuditAction, Format, Moderation, Role};

/// A reviewer's decision on a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Label it.
    Label,
    /// Refuse it (reason required).
    Refuse,
    /// Send it back to the organiser (message required).
    RequestChanges,
}

impl Decision {
    /// Every decision.
    pub const ALL: [Decision; 3] = [Decision::Label, Decision::Refuse, Decision::RequestChanges];

    /// The contract code.
    pub fn code(self) -> &'static str {
        self.audit().code()
    }

    /// Parses a contract code.
    pub fn parse(code: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|d| d.code() == code)
    }

    /// The state a submission reaches.
    pub fn outcome(self) -> Moderation {
        match self {
            Decision::Label => Moderation::Labelled,
            Decision::Refuse => Moderation::Refused,
            Decision::RequestChanges => Moderation::ChangesRequested,
        }
    }

    fn audit(self) -> AuditAction {
        match self {
            Decision::Label => AuditAction::Label,
            Decision::Refuse => AuditAction::Refuse,
            Decision::RequestChanges => AuditAction::RequestChanges,
        }
    }
}

/// What a person does to an existing event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The organiser saves new content (change control applies to a labelled event).
    Edit,
    /// The organiser submits for labelling.
    Submit,
    /// The organiser withdraws a submission.
    Withdraw,
    /// A reviewer decides a submission.
    Decide(Decision),
    /// A reviewer accepts or refuses the change waiting on a labelled event.
    DecideChange { accept: bool },
    /// A reviewer withdraws a label.
    Revoke,
    /// The organiser sets the public status (postponed, full, cancelled…).
    SetPublicStatus,
}

impl Action {
    /// Every action, for tables and tests.
    pub const ALL: [Action; 10] = [
        Action::Edit,
        Action::Submit,
        Action::Withdraw,
        Action::Decide(Decision::Label),
        Action::Decide(Decision::Refuse),
        Action::Decide(Decision::RequestChanges),
        Action::DecideChange { accept: true },
        Action::DecideChange { accept: false },
        Action::Revoke,
        Action::SetPublicStatus,
    ];

    /// Whether the person must say why (the organiser reads it).
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            Action::Decide(Decision::Refuse | Decision::RequestChanges)
                | Action::DecideChange { accept: false }
                | Action::Revoke
        )
    }

    /// Whether the four conditions are checked again when it is done (at the instant of the
    /// decision, which is the rule's instant).
    pub fn checks_eligibility(self) -> bool {
        matches!(self, Action::Decide(Decision::Label) | Action::DecideChange { accept: true })
    }

    /// How the audit trail names it; `material` tells an edit of a labelled event that goes to review.
    pub fn audit(self, material: bool) -> AuditAction {
        match self {
            Action::Edit if material => AuditAction::ChangeSubmit,
            Action::Edit => AuditAction::Update,
            Action::Submit => AuditAction::Submit,
            Action::Withdraw => AuditAction::Withdraw,
            Action::Decide(d) => d.audit(),
            Action::DecideChange { accept: true } => AuditAction::ChangeAccept,
            Action::DecideChange { accept: false } => AuditAction::ChangeRefuse,
            Action::Revoke => AuditAction::Revoke,
            Action::SetPublicStatus => AuditAction::Status,
        }
    }
}

/// Where an event is reviewed: its region, except an online-only event, which goes to the national
/// queue (`None`). The store's queue SQL writes the same rule (`REVIEW_REGION`); a contract test
/// checks on both backends that they agree.
pub fn review_region(format: Option<Format>, region: Option<&str>) -> Option<&str> {
    if format == Some(Format::EnLigne) { None } else { region }
}

/// Which events a person reviews: every region and the national queue, or the regions of a
/// coordinator (none when a coordinator has no region yet: they see nothing until given one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewScope {
    /// National administrators: every region, and online-only events (no review region).
    National,
    /// Regional coordinators: events whose review region is one of these.
    Regions(Vec<String>),
}

impl ReviewScope {
    /// The scope of a person of this role and region; `None` for organisers, who review nothing.
    pub fn of(role: Role, region: Option<&str>) -> Option<ReviewScope> {
        match role {
            Role::NationalAdmin => Some(ReviewScope::National),
            Role::RegionalCoordinator => Some(ReviewScope::Regions(region.into_iter().map(String::from).collect())),
            Role::Organiser => None,
        }
    }

    /// Whether an event reviewed in `review_region` (see [`review_region`]; `None`: the national
    /// queue) is within the scope.
    pub fn covers(&self, review_region: Option<&str>) -> bool {
        match self {
            ReviewScope::National => true,
            ReviewScope::Regions(regions) => review_region.is_some_and(|r| regions.iter().any(|x| x == r)),
        }
    }

    /// The regions as the store filters them: `None` for every region and the national queue.
    pub fn regions(&self) -> Option<&[String]> {
        match self {
            ReviewScope::National => None,
            ReviewScope::Regions(r) => Some(r),
        }
    }

    /// The national view (backlog per region, every region in the filters).
    pub fn is_national(&self) -> bool {
        matches!(self, ReviewScope::National)
    }
}

/// The instant at which an event's conditions are judged: its first submission once submitted (the
/// deadline concerns the first submission, not later changes, which are judged at that same instant),
/// now while it is a draft, sent back for changes, or withdrawn.
pub fn judged_at(
    state: Moderation,
    submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    match state {
        Moderation::Draft | Moderation::ChangesRequested | Moderation::Withdrawn => now,
        Moderation::Submitted | Moderation::Labelled | Moderation::Refused => submitted_at.unwrap_or(now),
    }
}

/// Where `action` leads from `state`, or, in French, why it cannot be done. `pending_change`: a
/// labelled event has a change waiting for review. The one function that decides.
pub fn next(state: Moderation, action: Action, pending_change: bool) -> Result<Moderation, String> {
    use Moderation::*;
    match (state, action) {
        (Draft | ChangesRequested | Labelled, Action::Edit) => Ok(state),
        (_, Action::Edit) => {
            Err("Cet événement ne peut pas être modifié pendant son instruction, ni après un refus ou un retrait."
                .into())
        }
        (Draft | ChangesRequested, Action::Submit) => Ok(Submitted),
        (Submitted, Action::Withdraw) => Ok(Withdrawn),
        (_, Action::Submit | Action::Withdraw) => {
            Err(format!("Cette action n'est pas possible dans l'état actuel de l'événement ({}).", state.label()))
        }
        (Submitted, Action::Decide(d)) => Ok(d.outcome()),
        (_, Action::Decide(_)) => Err(format!("Cet événement n'attend pas de décision (état : {}).", state.label())),
        (Labelled, Action::DecideChange { .. }) if pending_change => Ok(Labelled),
        (_, Action::DecideChange { .. }) => Err("Aucune modification n'attend de décision pour cet événement.".into()),
        (Labelled, Action::Revoke) => Ok(Refused),
        (_, Action::Revoke) => Err("Seul un événement labellisé peut perdre son label.".into()),
        (Labelled, Action::SetPublicStatus) => Ok(Labelled),
        (_, Action::SetPublicStatus) => Err("Le statut public ne concerne que les événements labellisés.".into()),
    }
}

/// Whether an event may be deleted: a draft never submitted (nothing to keep for the record: a
/// submitted event's history stays, even withdrawn or refused).
pub fn deletable(state: Moderation) -> Result<(), String> {
    match state {
        Moderation::Draft => Ok(()),
        other => Err(format!(
            "Seul un brouillon qui n'a jamais été soumis peut être supprimé (état : {}). Vous pouvez retirer une demande soumise.",
            other.label()
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_draft_can_be_deleted() {
        for m in super::Moderation::ALL {
            assert_eq!(super::deletable(*m).is_ok(), *m == super::Moderation::Draft, "{m:?}");
        }
    }

    #[test]
    fn review_scope_by_role_and_region() {
        use ReviewScope::*;
        // (role, the person's region, the event's review region, sees it; None: no scope at all)
        type Row = (Role, Option<&'static str>, Option<&'static str>, Option<bool>);
        let table: &[Row] = &[
            (Role::NationalAdmin, None, Some("84"), Some(true)),
            (Role::NationalAdmin, None, None, Some(true)),
            (Role::NationalAdmin, Some("84"), Some("11"), Some(true)),
            (Role::RegionalCoordinator, Some("84"), Some("84"), Some(true)),
            (Role::RegionalCoordinator, Some("84"), Some("11"), Some(false)),
            (Role::RegionalCoordinator, Some("84"), None, Some(false)),
            (Role::RegionalCoordinator, None, Some("84"), Some(false)),
            (Role::RegionalCoordinator, None, None, Some(false)),
            (Role::Organiser, None, Some("84"), None),
            (Role::Organiser, Some("84"), Some("84"), None),
        ];
        for &(role, region, event, sees) in table {
            let scope = ReviewScope::of(role, region);
            assert_eq!(scope.as_ref().map(|s| s.covers(event)), sees, "{role:?} {region:?} {event:?}");
        }
        assert_eq!(ReviewScope::of(Role::NationalAdmin, None).unwrap().regions(), None);
        assert_eq!(ReviewScope::of(Role::RegionalCoordinator, None), Some(Regions(vec![])));
        assert_eq!(
            ReviewScope::of(Role::RegionalCoordinator, Some("84")).unwrap().regions(),
            Some(&["84".to_string()][..])
        );
        assert!(National.is_national() && !Regions(vec!["84".into()]).is_national());
    }

    use super::*;
    use Moderation::*;

    /// Every (state, action) pair, with and without a pending change: the expected state, or `None`
    /// when refused. The table is the specification; `next` must agree with every row.
    #[test]
    fn every_state_and_action() {
        let label = Action::Decide(Decision::Label);
        let refuse = Action::Decide(Decision::Refuse);
        let changes = Action::Decide(Decision::RequestChanges);
        let accept = Action::DecideChange { accept: true };
        let reject = Action::DecideChange { accept: false };
        let table: &[(Moderation, Action, Option<Moderation>, Option<Moderation>)] = &[
            // state, action, without a pending change, with one
            (Draft, Action::Edit, Some(Draft), Some(Draft)),
            (Draft, Action::Submit, Some(Submitted), Some(Submitted)),
            (Draft, Action::Withdraw, None, None),
            (Draft, label, None, None),
            (Draft, refuse, None, None),
            (Draft, changes, None, None),
            (Draft, accept, None, None),
            (Draft, reject, None, None),
            (Draft, Action::Revoke, None, None),
            (Draft, Action::SetPublicStatus, None, None),
            (Submitted, Action::Edit, None, None),
            (Submitted, Action::Submit, None, None),
            (Submitted, Action::Withdraw, Some(Withdrawn), Some(Withdrawn)),
            (Submitted, label, Some(Labelled), Some(Labelled)),
            (Submitted, refuse, Some(Refused), Some(Refused)),
            (Submitted, changes, Some(ChangesRequested), Some(ChangesRequested)),
            (Submitted, accept, None, None),
            (Submitted, reject, None, None),
            (Submitted, Action::Revoke, None, None),
            (Submitted, Action::SetPublicStatus, None, None),
            (ChangesRequested, Action::Edit, Some(ChangesRequested), Some(ChangesRequested)),
            (ChangesRequested, Action::Submit, Some(Submitted), Some(Submitted)),
            (ChangesRequested, Action::Withdraw, None, None),
            (ChangesRequested, label, None, None),
            (ChangesRequested, refuse, None, None),
            (ChangesRequested, changes, None, None),
            (ChangesRequested, accept, None, None),
            (ChangesRequested, reject, None, None),
            (ChangesRequested, Action::Revoke, None, None),
            (ChangesRequested, Action::SetPublicStatus, None, None),
            (Labelled, Action::Edit, Some(Labelled), Some(Labelled)),
            (Labelled, Action::Submit, None, None),
            (Labelled, Action::Withdraw, None, None),
            (Labelled, label, None, None),
            (Labelled, refuse, None, None),
            (Labelled, changes, None, None),
            (Labelled, accept, None, Some(Labelled)),
            (Labelled, reject, None, Some(Labelled)),
            (Labelled, Action::Revoke, Some(Refused), Some(Refused)),
            (Labelled, Action::SetPublicStatus, Some(Labelled), Some(Labelled)),
        ];
        let mut covered = 0;
        for &(from, action, plain, pending) in table {
            assert_eq!(next(from, action, false).ok(), plain, "{from:?} × {action:?}");
            assert_eq!(next(from, action, true).ok(), pending, "{from:?} × {action:?} with a pending change");
            covered += 1;
        }
        // Refused and withdrawn are final: nothing is possible.
        for from in [Refused, Withdrawn] {
            for action in Action::ALL {
                for pending in [false, true] {
                    let refusal = next(from, action, pending).expect_err("a final state");
                    assert!(!refusal.is_empty());
                }
                covered += 1;
            }
        }
        assert_eq!(covered, Moderation::ALL.len() * Action::ALL.len(), "every pair is in the table");
    }

    #[test]
    fn conditions_are_judged_at_the_first_submission() {
        let submitted = chrono::DateTime::parse_from_rfc3339("2024-11-01T10:00:00Z").unwrap().to_utc();
        let now = chrono::DateTime::parse_from_rfc3339("2024-11-30T10:00:00Z").unwrap().to_utc();
        for state in [Submitted, Labelled, Refused] {
            assert_eq!(judged_at(state, Some(submitted), now), submitted, "{state:?}");
        }
        for state in [Draft, ChangesRequested, Withdrawn] {
            assert_eq!(judged_at(state, Some(submitted), now), now, "{state:?}");
        }
        assert_eq!(judged_at(Labelled, None, now), now, "never submitted (imported): now");
    }

    #[test]
    fn what_each_action_requires_and_records() {
        let with_reason: Vec<Action> = Action::ALL.into_iter().filter(|a| a.needs_reason()).collect();
        assert_eq!(
            with_reason,
            [
                Action::Decide(Decision::Refuse),
                Action::Decide(Decision::RequestChanges),
                Action::DecideChange { accept: false },
                Action::Revoke
            ]
        );
        let checked: Vec<Action> = Action::ALL.into_iter().filter(|a| a.checks_eligibility()).collect();
        assert_eq!(checked, [Action::Decide(Decision::Label), Action::DecideChange { accept: true }]);
        // Every action has its own name in the history, and every name is one of the list.
        let mut names: Vec<AuditAction> = Action::ALL.into_iter().map(|a| a.audit(false)).collect();
        names.push(Action::Edit.audit(true));
        names.push(AuditAction::Create);
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.code()), Some(d));
        }
        assert_eq!(Decision::parse("approve"), None);
    }
}
