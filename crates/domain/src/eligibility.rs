//! The four conditions of labelling (and the procedural deadline), as pure functions of an edition,
//! an event's facts and the instant of submission. Every failed condition says what to change.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::Audience;
use crate::dates::Session;
use crate::dates::{fr_date, fr_instant};
use crate::edition::Edition;
use crate::text::{IndustrySignal, industry_signal};

/// The conditions, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionCode {
    /// Every session inside the eligible window.
    Dates,
    /// Open to at least one target public.
    Audiences,
    /// Declared aim of informing about industry.
    Industry,
    /// Free for every participant.
    Free,
    /// Submitted between the opening and the deadline.
    Deadline,
}

impl ConditionCode {
    /// Short French title of the condition.
    pub fn title(self) -> &'static str {
        match self {
            ConditionCode::Dates => "Dates",
            ConditionCode::Audiences => "Publics cibles",
            ConditionCode::Industry => "Thème de l'industrie",
            ConditionCode::Free => "Gratuité",
            ConditionCode::Deadline => "Date limite de dépôt",
        }
    }
}

/// One condition's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// Which condition.
    pub code: ConditionCode,
    /// Whether it holds.
    pub met: bool,
    /// What it means for the organiser, in French.
    pub message: String,
}

/// Facts the conditions look at.
#[derive(Debug, Clone)]
pub struct EligibilityInput<'a> {
    /// Sessions, already checked to end after they start.
    pub sessions: &'a [Session],
    /// Target publics.
    pub audiences: &'a [Audience],
    /// Free for everyone; `None` when not answered yet.
    pub free: Option<bool>,
    /// Declared industry objective; `None` when not answered yet.
    pub industry_objective: Option<bool>,
    /// Title, for the industry-theme signal.
    pub title: &'a str,
    /// Description, for the industry-theme signal.
    pub description: &'a str,
    /// The instant of submission (now, for a live check).
    pub at: DateTime<Utc>,
}

/// The verdict over all conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EligibilityReport {
    /// All conditions met.
    pub eligible: bool,
    /// Each condition, in order.
    pub conditions: Vec<Condition>,
    /// The industry-theme signal for the reviewer.
    pub industry_signal: IndustrySignal,
}

impl EligibilityReport {
    /// The conditions that failed.
    pub fn failed(&self) -> Vec<&Condition> {
        self.conditions.iter().filter(|c| !c.met).collect()
    }
}

/// Runs every condition.
pub fn check(edition: &Edition, input: &EligibilityInput<'_>) -> EligibilityReport {
    let signal = industry_signal(input.title, input.description);
    let conditions = vec![
        dates(edition, input.sessions),
        audiences(input.audiences),
        industry(input.industry_objective, &signal),
        free(input.free),
        deadline(edition, input.at),
    ];
    EligibilityReport { eligible: conditions.iter().all(|c| c.met), conditions, industry_signal: signal }
}

fn condition(code: ConditionCode, met: bool, message: String) -> Condition {
    Condition { code, met, message }
}

fn dates(edition: &Edition, sessions: &[Session]) -> Condition {
    let code = ConditionCode::Dates;
    if sessions.is_empty() {
        return condition(
            code,
            false,
            format!(
                "Ajoutez au moins une séance, avec sa date et son heure de début et de fin, entre le {} et le {}.",
                fr_date(edition.eligible_from),
                fr_date(edition.eligible_to)
            ),
        );
    }
    let inside = |d: NaiveDate| d >= edition.eligible_from && d <= edition.eligible_to;
    for (i, s) in sessions.iter().enumerate() {
        let which = if sessions.len() > 1 { format!("La séance n° {}", i + 1) } else { "La séance".to_string() };
        if !inside(s.start.date()) {
            return condition(
                code,
                false,
                format!(
                    "{which} commence le {}, en dehors de la période éligible ({}). Placez toutes les séances dans cette période.",
                    fr_date(s.start.date()),
                    edition.window_label()
                ),
            );
        }
        if !inside(s.end.date()) {
            return condition(
                code,
                false,
                format!(
                    "{which} se termine le {}, après la fin de la période éligible ({}). Placez toutes les séances dans cette période.",
                    fr_date(s.end.date()),
                    edition.window_label()
                ),
            );
        }
    }
    let in_week = |d: NaiveDate| d >= edition.week_start && d <= edition.week_end;
    if sessions.iter().all(|s| in_week(s.start.date()) && in_week(s.end.date())) {
        condition(
            code,
            true,
            format!("L'événement a lieu pendant la Semaine de l'industrie ({}).", edition.week_label()),
        )
    } else {
        condition(
            code,
            true,
            format!(
                "L'événement a lieu pendant la période de tolérance ({}), en dehors de la semaine elle-même ({}) : il reste éligible.",
                edition.window_label(),
                edition.week_label()
            ),
        )
    }
}

fn audiences(audiences: &[Audience]) -> Condition {
    if audiences.is_empty() {
        condition(
            ConditionCode::Audiences,
            false,
            "Choisissez au moins un public cible (scolaires, jeunes, étudiants, demandeurs d'emploi…) : un événement réservé au personnel de l'organisateur ne peut pas être labellisé.".into(),
        )
    } else {
        let names: Vec<&str> = audiences.iter().map(|a| a.label()).collect();
        condition(ConditionCode::Audiences, true, format!("Ouvert à : {}.", names.join(", ").to_lowercase()))
    }
}

fn industry(declared: Option<bool>, signal: &IndustrySignal) -> Condition {
    let code = ConditionCode::Industry;
    if declared != Some(true) {
        return condition(
            code,
            false,
            "Confirmez que l'événement a pour objectif d'informer et de communiquer sur l'industrie et ses métiers."
                .into(),
        );
    }
    if signal.weak {
        condition(
            code,
            true,
            "Objectif déclaré. Le titre et la description parlent peu d'industrie : précisez les métiers, les savoir-faire ou le site présentés, le comité y sera attentif.".into(),
        )
    } else {
        condition(code, true, "Objectif déclaré, et la description présente bien l'industrie et ses métiers.".into())
    }
}

fn free(free: Option<bool>) -> Condition {
    match free {
        Some(true) => condition(ConditionCode::Free, true, "Gratuit pour tous les participants.".into()),
        Some(false) => condition(
            ConditionCode::Free,
            false,
            "L'événement doit être gratuit pour tous les participants : supprimez toute participation financière."
                .into(),
        ),
        None => condition(
            ConditionCode::Free,
            false,
            "Indiquez si l'événement est gratuit pour tous les participants.".into(),
        ),
    }
}

fn deadline(edition: &Edition, at: DateTime<Utc>) -> Condition {
    let code = ConditionCode::Deadline;
    if at < edition.opens_at {
        condition(
            code,
            false,
            format!(
                "La labellisation de l'édition {} ouvre le {} : vous pourrez soumettre l'événement à partir de cette date.",
                edition.year,
                fr_instant(edition.opens_at)
            ),
        )
    } else if at > edition.deadline {
        condition(
            code,
            false,
            format!(
                "La date limite de dépôt de l'édition {} ({}, heure de Paris) est dépassée.",
                edition.year,
                fr_instant(edition.deadline)
            ),
        )
    } else {
        condition(code, true, format!("Dépôt possible jusqu'au {} (heure de Paris).", fr_instant(edition.deadline)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::parse_local_datetime;

    fn s(start: &str, end: &str) -> Session {
        Session::new(parse_local_datetime(start).unwrap(), parse_local_datetime(end).unwrap()).unwrap()
    }

    fn at(rfc: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc).unwrap().with_timezone(&Utc)
    }

    struct Case {
        name: &'static str,
        sessions: Vec<Session>,
        audiences: Vec<Audience>,
        free: Option<bool>,
        industry: Option<bool>,
        at: &'static str,
        failed: &'static [ConditionCode],
        message_contains: Option<(ConditionCode, &'static str)>,
    }

    fn ok_case(name: &'static str) -> Case {
        Case {
            name,
            sessions: vec![s("2024-11-19T09:00", "2024-11-19T12:00")],
            audiences: vec![Audience::Scolaires],
            free: Some(true),
            industry: Some(true),
            at: "2024-10-01T10:00:00+02:00",
            failed: &[],
            message_contains: None,
        }
    }

    #[test]
    fn the_rules_of_the_2024_edition() {
        use ConditionCode::*;
        let cases = vec![
            Case { message_contains: Some((Dates, "pendant la Semaine de l'industrie")), ..ok_case("inside the week") },
            Case {
                sessions: vec![s("2024-11-03T09:00", "2024-11-03T12:00")],
                message_contains: Some((Dates, "période de tolérance")),
                ..ok_case("first eligible day")
            },
            Case {
                sessions: vec![s("2024-12-09T14:00", "2024-12-09T23:59")],
                message_contains: Some((Dates, "période de tolérance")),
                ..ok_case("last eligible day")
            },
            Case {
                sessions: vec![s("2024-11-02T09:00", "2024-11-02T12:00")],
                failed: &[Dates],
                message_contains: Some((Dates, "commence le 2 novembre 2024")),
                ..ok_case("the day before the window")
            },
            Case {
                sessions: vec![s("2024-12-10T09:00", "2024-12-10T12:00")],
                failed: &[Dates],
                ..ok_case("the day after the window")
            },
            Case {
                sessions: vec![s("2024-12-09T20:00", "2024-12-10T02:00")],
                failed: &[Dates],
                message_contains: Some((Dates, "se termine le 10 décembre 2024")),
                ..ok_case("a session ending the day after the window closes")
            },
            Case {
                sessions: vec![s("2024-11-19T09:00", "2024-11-19T12:00"), s("2024-12-12T09:00", "2024-12-12T12:00")],
                failed: &[Dates],
                message_contains: Some((Dates, "séance n° 2")),
                ..ok_case("several sessions, one outside")
            },
            Case {
                sessions: vec![s("2024-11-18T09:00", "2024-11-18T12:00"), s("2024-11-25T09:00", "2024-11-25T12:00")],
                message_contains: Some((Dates, "tolérance")),
                ..ok_case("one session in the week, one in the tolerance")
            },
            Case { sessions: vec![], failed: &[Dates], ..ok_case("no session") },
            Case { audiences: vec![], failed: &[Audiences], ..ok_case("no audience") },
            Case { free: Some(false), failed: &[Free], ..ok_case("not free") },
            Case { free: None, failed: &[Free], ..ok_case("free not answered") },
            Case { industry: Some(false), failed: &[Industry], ..ok_case("no industry declaration") },
            Case { industry: None, failed: &[Industry], ..ok_case("industry not answered") },
            Case { at: "2024-11-12T23:59:59+01:00", ..ok_case("at the deadline") },
            Case {
                at: "2024-11-13T00:00:00+01:00",
                failed: &[Deadline],
                message_contains: Some((Deadline, "est dépassée")),
                ..ok_case("one second after the deadline")
            },
            Case { at: "2024-11-12T22:59:59Z", ..ok_case("the deadline given in UTC") },
            Case {
                at: "2024-11-12T23:30:00Z",
                failed: &[Deadline],
                ..ok_case("UTC instant already 13 November in Paris")
            },
            Case {
                at: "2024-09-19T23:59:59+02:00",
                failed: &[Deadline],
                message_contains: Some((Deadline, "ouvre le 20 septembre 2024")),
                ..ok_case("before labelling opens")
            },
            Case { at: "2024-09-20T00:00:00+02:00", ..ok_case("the moment labelling opens") },
            Case {
                sessions: vec![s("2024-12-20T09:00", "2024-12-20T12:00")],
                audiences: vec![],
                free: Some(false),
                industry: None,
                at: "2025-01-01T00:00:00+01:00",
                failed: &[Dates, Audiences, Industry, Free, Deadline],
                ..ok_case("everything wrong")
            },
        ];
        let edition = Edition::reference_2024();
        for c in cases {
            let input = EligibilityInput {
                sessions: &c.sessions,
                audiences: &c.audiences,
                free: c.free,
                industry_objective: c.industry,
                title: "Visite de l'usine",
                description: "Découverte des métiers de la production industrielle",
                at: at(c.at),
            };
            let report = check(&edition, &input);
            let failed: Vec<ConditionCode> = report.failed().iter().map(|c| c.code).collect();
            assert_eq!(failed, c.failed, "case « {} »: {:#?}", c.name, report.conditions);
            assert_eq!(report.eligible, c.failed.is_empty(), "case « {} »", c.name);
            assert_eq!(report.conditions.len(), 5);
            if let Some((code, needle)) = c.message_contains {
                let msg = &report.conditions.iter().find(|x| x.code == code).unwrap().message;
                assert!(msg.contains(needle), "case « {} »: « {msg} » lacks « {needle} »", c.name);
            }
        }
    }

    proptest::proptest! {
        /// A session on day d meets the dates condition exactly when d is inside the window.
        #[test]
        fn the_window_is_inclusive_at_both_ends(offset in -60i64..60, start_hour in 0u32..20, hours in 1u32..4) {
            let edition = Edition::reference_2024();
            let day = edition.eligible_from + chrono::Duration::days(offset);
            let start = day.and_hms_opt(start_hour, 0, 0).unwrap();
            let session = Session::new(start, start + chrono::Duration::hours(i64::from(hours))).unwrap();
            let inside = |d: NaiveDate| d >= edition.eligible_from && d <= edition.eligible_to;
            let report = check(&edition, &EligibilityInput {
                sessions: &[session],
                audiences: &[Audience::Jeunes],
                free: Some(true),
                industry_objective: Some(true),
                title: "",
                description: "",
                at: at("2024-10-01T10:00:00+02:00"),
            });
            proptest::prop_assert_eq!(report.conditions[0].met, inside(session.start.date()) && inside(session.end.date()));
        }
    }

    #[test]
    fn a_weak_industry_signal_flags_but_never_refuses() {
        let edition = Edition::reference_2024();
        let sessions = [s("2024-11-19T09:00", "2024-11-19T12:00")];
        let report = check(
            &edition,
            &EligibilityInput {
                sessions: &sessions,
                audiences: &[Audience::GrandPublic],
                free: Some(true),
                industry_objective: Some(true),
                title: "Goûter convivial",
                description: "Venez partager un moment.",
                at: at("2024-10-01T10:00:00+02:00"),
            },
        );
        assert!(report.eligible);
        assert!(report.industry_signal.weak);
        assert!(report.conditions[2].message.contains("parlent peu d'industrie"));
    }
}
