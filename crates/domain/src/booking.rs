//! Bookings of a session on the platform (SPEC.md §5, registration mode `platform`): who may book
//! what, checked before anything is written. The one rule that needs the database — never more
//! confirmed seats than the capacity — is a single guarded statement in the store; everything else
//! (the party, the sizes, the closing time, the organiser's settings) is decided here.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::codes::{ClassLevel, RegistrationMode};
use crate::event::{FieldError, Registration, is_email, is_phone};
use crate::identifiers::Uai;
use crate::input::{EMAIL_MAX, name_problem, single_line};

/// The most pupils and adults a class booking may count (a coach).
pub const CLASS_MAX: u32 = 80;

/// The organiser's booking settings of an event, as the store and the pages apply them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingRules {
    /// Seats per session.
    pub capacity: u32,
    /// The most people one booking may bring.
    pub max_group: u32,
    /// Classes and other groups may book.
    pub groups: bool,
    /// Individuals may book.
    pub individuals: bool,
    /// A full session takes bookings on a waiting list.
    pub waitlist: bool,
    /// Booking closes this long before a session starts.
    pub closes_before: Duration,
}

impl BookingRules {
    /// The rules of an event whose registration is on the platform; `None` otherwise.
    pub fn of(r: &Registration) -> Option<BookingRules> {
        if r.mode != RegistrationMode::Platform {
            return None;
        }
        let capacity = r.capacity?;
        Some(BookingRules {
            capacity,
            max_group: r.max_group.unwrap_or(capacity).min(capacity),
            groups: r.groups,
            individuals: r.individuals,
            waitlist: r.waitlist,
            closes_before: Duration::hours(i64::from(r.closes_hours_before)),
        })
    }

    /// When booking a session starting at `start` (local time of the place, zone `tz`) closes.
    pub fn closes_at(&self, start: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
        let start =
            tz.from_local_datetime(&start).earliest().map_or_else(|| start.and_utc(), |d| d.with_timezone(&Utc));
        start - self.closes_before
    }
}

/// Who books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// A class (or another group), by its teacher.
    Class {
        /// The school's UAI, checked like an organiser's.
        uai: Uai,
        /// The school's name.
        school: String,
        /// The class level.
        level: ClassLevel,
        /// Pupils.
        pupils: u32,
        /// Accompanying adults.
        adults: u32,
        /// The teacher's phone, for the day.
        phone: String,
    },
    /// One person.
    Person,
}

/// A booking as the person typed it, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    /// Who books.
    pub party: Party,
    /// The contact's name.
    pub name: String,
    /// The contact's email (confirmation, secret link, reminders).
    pub email: String,
}

impl BookingRequest {
    /// Seats it takes.
    pub fn seats(&self) -> u32 {
        match &self.party {
            Party::Class { pupils, adults, .. } => pupils + adults,
            Party::Person => 1,
        }
    }

    /// Whether these rules accept this party and its size; the refusal names the field.
    pub fn fits(&self, rules: &BookingRules) -> Result<(), FieldError> {
        let field = |f: &str, m: String| FieldError { field: f.into(), message: m };
        match &self.party {
            Party::Class { .. } if !rules.groups => {
                return Err(field(
                    "kind",
                    "Cette visite n'accueille pas de groupes : réservez pour vous seul·e.".into(),
                ));
            }
            Party::Person if !rules.individuals => {
                return Err(field(
                    "kind",
                    "Cette visite accueille les groupes seulement (classes, associations).".into(),
                ));
            }
            _ => {}
        }
        let seats = self.seats();
        if seats > rules.max_group {
            return Err(field(
                "pupils",
                format!(
                    "Un groupe ne peut pas dépasser {} personne{} (élèves et accompagnateurs) pour cette visite.",
                    rules.max_group,
                    if rules.max_group > 1 { "s" } else { "" }
                ),
            ));
        }
        Ok(())
    }
}

/// The fields of a booking form or API body, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingInput {
    /// `classe` (a group) or `personne`.
    pub kind: String,
    pub uai: String,
    pub school: String,
    pub level: String,
    pub pupils: String,
    pub adults: String,
    pub phone: String,
    pub name: String,
    pub email: String,
    /// The safety prerequisites were read and are accepted.
    pub acknowledged: bool,
}

fn count(field: &str, typed: &str, what: &str, errors: &mut Vec<FieldError>) -> u32 {
    match typed.trim().parse::<u32>() {
        Ok(n) if n <= CLASS_MAX => n,
        _ => {
            errors.push(FieldError {
                field: field.into(),
                message: format!("Indiquez le nombre {what} (un nombre entier de 0 à {CLASS_MAX})."),
            });
            0
        }
    }
}

impl BookingInput {
    /// Checks everything typed; every problem is named by its field, in the form's order.
    pub fn parse(&self) -> Result<BookingRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut push = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
        let name = self.name.trim().to_string();
        if let Some(m) = name_problem(&name, "Indiquez votre nom, pour que l'organisateur sache qui vient.") {
            push("name", m);
        }
        let email = self.email.trim().to_string();
        if email.is_empty() || email.len() > EMAIL_MAX || !is_email(&email) {
            push("email", "Saisissez une adresse électronique valide : la confirmation y sera envoyée.".into());
        }
        if !self.acknowledged {
            push("acknowledged", "Confirmez avoir pris connaissance des consignes de sécurité de la visite.".into());
        }
        let party = match self.kind.as_str() {
            "classe" => {
                let uai = match Uai::parse(self.uai.trim()) {
                    Ok(u) => Some(u),
                    Err(m) => {
                        push("uai", m);
                        None
                    }
                };
                let school = self.school.trim().to_string();
                if let Some(m) = name_problem(&school, "Indiquez le nom de l'établissement.") {
                    push("school", m.replace("Le nom", "Le nom de l'établissement"));
                }
                let level = ClassLevel::parse(&self.level);
                if level.is_none() {
                    push("level", "Choisissez le niveau de la classe dans la liste.".into());
                }
                let phone = self.phone.trim().to_string();
                if !is_phone(&phone) || single_line("Le téléphone", &phone).is_err() {
                    push("phone", "Saisissez un numéro de téléphone joignable le jour de la visite.".into());
                }
                let mut counts = Vec::new();
                let pupils = count("pupils", &self.pupils, "d'élèves", &mut counts);
                let adults = count("adults", &self.adults, "d'accompagnateurs", &mut counts);
                if counts.is_empty() && pupils == 0 {
                    counts.push(FieldError { field: "pupils".into(), message: "Indiquez au moins un élève.".into() });
                }
                if counts.is_empty() && adults == 0 {
                    counts.push(FieldError {
                        field: "adults".into(),
                        message: "Une classe vient avec au moins un adulte accompagnateur.".into(),
                    });
                }
                errors.extend(counts);
                match (uai, level) {
                    (Some(uai), Some(level)) => Some(Party::Class { uai, school, level, pupils, adults, phone }),
                    _ => None,
                }
            }
            "personne" => Some(Party::Person),
            _ => {
                errors.push(FieldError {
                    field: "kind".into(),
                    message: "Indiquez si vous réservez pour une classe ou pour vous seul·e.".into(),
                });
                None
            }
        };
        match party {
            Some(party) if errors.is_empty() => Ok(BookingRequest { party, name, email }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class() -> BookingInput {
        BookingInput {
            kind: "classe".into(),
            uai: "0750655E".into(),
            school: "Collège Jean Moulin".into(),
            level: "college".into(),
            pupils: "28".into(),
            adults: "3".into(),
            phone: "04 72 00 00 00".into(),
            name: "Claire Martin".into(),
            email: "claire.martin@ac-lyon.fr".into(),
            acknowledged: true,
        }
    }

    fn rules(capacity: u32) -> BookingRules {
        BookingRules::of(&Registration {
            mode: RegistrationMode::Platform,
            capacity: Some(capacity),
            ..Registration::default()
        })
        .unwrap()
    }

    #[test]
    fn a_class_counts_its_pupils_and_adults() {
        let uai = Uai::parse("0750655E");
        let Ok(_) = uai else { panic!("the test's UAI must be valid: {uai:?}") };
        let r = class().parse().unwrap();
        assert_eq!(r.seats(), 31);
        assert!(r.fits(&rules(40)).is_ok());
        assert_eq!(r.fits(&rules(30)).unwrap_err().field, "pupils");
    }

    #[test]
    fn every_problem_is_named_and_nothing_is_guessed() {
        let mut bad = class();
        bad.uai = "123".into();
        bad.level = "maternelle".into();
        bad.pupils = "beaucoup".into();
        bad.adults = "0".into();
        bad.email = "pas une adresse".into();
        bad.acknowledged = false;
        let fields: Vec<String> = bad.parse().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "acknowledged", "uai", "level", "pupils"]);
        let mut no_adult = class();
        no_adult.adults = "0".into();
        assert_eq!(no_adult.parse().unwrap_err()[0].field, "adults");
        let mut too_many = class();
        too_many.pupils = "81".into();
        assert_eq!(too_many.parse().unwrap_err()[0].field, "pupils");
        let unknown = BookingInput { kind: "equipe".into(), ..class() };
        assert_eq!(unknown.parse().unwrap_err().last().unwrap().field, "kind");
    }

    #[test]
    fn a_person_takes_one_seat_where_individuals_may_book() {
        let p = BookingInput {
            kind: "personne".into(),
            name: "Inès".into(),
            email: "ines@example.fr".into(),
            acknowledged: true,
            ..BookingInput::default()
        };
        let r = p.parse().unwrap();
        assert_eq!(r.seats(), 1);
        let mut groups_only = rules(30);
        groups_only.individuals = false;
        assert_eq!(r.fits(&groups_only).unwrap_err().field, "kind");
        let mut persons_only = rules(30);
        persons_only.groups = false;
        assert_eq!(class().parse().unwrap().fits(&persons_only).unwrap_err().field, "kind");
    }

    #[test]
    fn rules_come_from_the_platform_mode_only_and_bound_the_group() {
        assert!(BookingRules::of(&Registration::default()).is_none());
        let r = BookingRules::of(&Registration {
            mode: RegistrationMode::Platform,
            capacity: Some(30),
            max_group: Some(50),
            closes_hours_before: 24,
            ..Registration::default()
        })
        .unwrap();
        assert_eq!(r.max_group, 30, "a group never exceeds the capacity");
        let start = crate::dates::parse_local_datetime("2026-11-19T09:00").unwrap();
        let closes = r.closes_at(start, chrono_tz::Europe::Paris);
        assert_eq!(closes.to_rfc3339(), "2026-11-18T08:00:00+00:00");
    }
}

/// What an organiser reports after the event: who came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attendance {
    /// People who came, all audiences.
    pub participants: u32,
    /// Of whom girls and women.
    pub girls: u32,
    /// Classes received.
    pub classes: u32,
    /// Distinct schools received.
    pub schools: u32,
    /// Interviews held (job datings).
    pub interviews: u32,
    /// People who came per audience (those reported).
    pub by_audience: Vec<(crate::codes::Audience, u32)>,
}

/// The most people one event may report (a large forum).
pub const ATTENDANCE_MAX: u32 = 1_000_000;

/// The fields of the report form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttendanceInput {
    pub participants: String,
    pub girls: String,
    pub classes: String,
    pub schools: String,
    pub interviews: String,
    /// (audience code, count typed).
    pub by_audience: Vec<(String, String)>,
}

impl AttendanceInput {
    /// The report, or every problem named by its field.
    pub fn parse(&self) -> Result<Attendance, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |field: &str, typed: &str, what: &str| -> u32 {
            match typed.trim() {
                "" => 0,
                v => match v.replace([' ', '\u{a0}', '\u{202f}'], "").parse::<u32>() {
                    Ok(n) if n <= ATTENDANCE_MAX => n,
                    _ => {
                        errors.push(FieldError {
                            field: field.into(),
                            message: format!("Indiquez {what} en chiffres (un nombre entier, 0 si aucun)."),
                        });
                        0
                    }
                },
            }
        };
        let participants = number("participants", &self.participants, "le nombre de participants");
        let missing_total = self.participants.trim().is_empty();
        let girls = number("girls", &self.girls, "le nombre de filles et de femmes");
        let classes = number("classes", &self.classes, "le nombre de classes");
        let schools = number("schools", &self.schools, "le nombre d'établissements");
        let interviews = number("interviews", &self.interviews, "le nombre d'entretiens");
        let mut by_audience = Vec::new();
        for (code, typed) in &self.by_audience {
            let Some(a) = crate::codes::Audience::parse(code) else { continue };
            let n = number(&format!("audience_{code}"), typed, &format!("le nombre de « {} »", a.label()));
            if n > 0 {
                by_audience.push((a, n));
            }
        }
        if missing_total {
            errors.insert(
                0,
                FieldError {
                    field: "participants".into(),
                    message: "Indiquez le nombre de personnes venues (0 si personne n'est venu).".into(),
                },
            );
        }
        if girls > participants {
            errors.push(FieldError {
                field: "girls".into(),
                message: "Le nombre de filles et de femmes ne peut pas dépasser celui des participants.".into(),
            });
        }
        if schools > classes && classes > 0 {
            errors.push(FieldError {
                field: "schools".into(),
                message: "Le nombre d'établissements ne peut pas dépasser celui des classes.".into(),
            });
        }
        let sum: u64 = by_audience.iter().map(|(_, n)| u64::from(*n)).sum();
        if sum > u64::from(participants) {
            errors.push(FieldError {
                field: "participants".into(),
                message: format!(
                    "Les participants par public ({sum}) dépassent le total déclaré ({participants}) : corrigez l'un ou l'autre."
                ),
            });
        }
        if errors.is_empty() {
            Ok(Attendance { participants, girls, classes, schools, interviews, by_audience })
        } else {
            Err(errors)
        }
    }
}

impl Attendance {
    /// The share of girls and women, in percent (none without participants).
    pub fn girls_share(&self) -> Option<f64> {
        (self.participants > 0).then(|| 100.0 * f64::from(self.girls) / f64::from(self.participants))
    }
}

/// One anonymous answer to the three questions: how industry seemed before and after (1, very
/// negative, to 5, very positive), and whether a job in industry is now considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feedback {
    pub before: u8,
    pub after: u8,
    /// `oui`, `peut_etre` or `non`.
    pub career: Career,
}

/// « Envisagez-vous un métier de l'industrie ? »
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Career {
    Yes,
    Maybe,
    No,
}

impl Career {
    pub fn code(self) -> &'static str {
        match self {
            Career::Yes => "oui",
            Career::Maybe => "peut_etre",
            Career::No => "non",
        }
    }
    pub fn parse(s: &str) -> Option<Career> {
        match s {
            "oui" => Some(Career::Yes),
            "peut_etre" => Some(Career::Maybe),
            "non" => Some(Career::No),
            _ => None,
        }
    }
}

/// Answers are shown only from this many, so that no one's answer can be told apart.
pub const FEEDBACK_MIN: u64 = 5;

impl Feedback {
    /// The three answers as typed; each missing or unknown one is named.
    pub fn parse(before: &str, after: &str, career: &str) -> Result<Feedback, Vec<FieldError>> {
        let mut errors = Vec::new();
        let scale = |field: &str, v: &str, errors: &mut Vec<FieldError>| match v.parse::<u8>() {
            Ok(n @ 1..=5) => n,
            _ => {
                errors
                    .push(FieldError {
                        field: field.into(), message: "Choisissez une réponse sur l'échelle.".into()
                    });
                0
            }
        };
        let before = scale("before", before, &mut errors);
        let after = scale("after", after, &mut errors);
        let career = Career::parse(career);
        if career.is_none() {
            errors.push(FieldError {
                field: "career".into(),
                message: "Choisissez « oui », « peut-être » ou « non ».".into(),
            });
        }
        match career {
            Some(career) if errors.is_empty() => Ok(Feedback { before, after, career }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod report_tests {
    use super::*;

    #[test]
    fn a_report_adds_up_and_counts_girls() {
        let input = AttendanceInput {
            participants: "62".into(),
            girls: "29".into(),
            classes: "2".into(),
            schools: "2".into(),
            interviews: "".into(),
            by_audience: vec![("scolaires".into(), "56".into()), ("communaute_educative".into(), "6".into())],
        };
        let a = input.parse().unwrap();
        assert_eq!((a.participants, a.girls, a.by_audience.len()), (62, 29, 2));
        assert!((a.girls_share().unwrap() - 46.774).abs() < 0.01);
        let bad = AttendanceInput { girls: "63".into(), participants: "62".into(), ..input.clone() };
        assert_eq!(bad.parse().unwrap_err()[0].field, "girls");
        let over = AttendanceInput { participants: "10".into(), girls: "1".into(), ..input.clone() };
        assert!(over.parse().unwrap_err().iter().any(|e| e.field == "participants"));
        let junk = AttendanceInput { classes: "deux".into(), ..input };
        assert_eq!(junk.parse().unwrap_err()[0].field, "classes");
        let empty = AttendanceInput::default();
        assert_eq!(empty.parse().unwrap_err()[0].field, "participants", "an empty form records nothing");
        assert_eq!(Attendance::default().girls_share(), None);
    }

    #[test]
    fn feedback_takes_the_scale_and_three_answers_only() {
        assert_eq!(
            Feedback::parse("2", "4", "peut_etre").unwrap(),
            Feedback { before: 2, after: 4, career: Career::Maybe }
        );
        let fields: Vec<String> = Feedback::parse("0", "9", "bof").unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["before", "after", "career"]);
    }
}
