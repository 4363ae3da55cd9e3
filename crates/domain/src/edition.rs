//! Editions are data: each year's dates, window and deadline come from the store, never from constants.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::dates::{fr_date, paris_instant};

/// One year's Semaine de l'industrie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edition {
    /// Calendar year, the edition's identifier.
    pub year: i32,
    /// Ordinal (13 for 2024).
    pub number: i32,
    /// The year's motto.
    pub theme: String,
    /// A demonstration edition, not a real one.
    pub demo: bool,
    /// First day of the week itself.
    pub week_start: NaiveDate,
    /// Last day of the week itself.
    pub week_end: NaiveDate,
    /// First eligible day (the week minus the tolerance).
    pub eligible_from: NaiveDate,
    /// Last eligible day (the week plus the tolerance).
    pub eligible_to: NaiveDate,
    /// When labelling opens.
    pub opens_at: DateTime<Utc>,
    /// The last instant a submission is accepted.
    pub deadline: DateTime<Utc>,
    /// Per-region dates for regions that run the week at another time (overseas: La Réunion ran on
    /// other dates in 2018). Opening and deadline stay national.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<RegionDates>,
}

/// The dates of an edition in one region, overriding the national ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionDates {
    /// Region INSEE code.
    pub region: String,
    /// First day of the week in this region.
    pub week_start: NaiveDate,
    /// Last day of the week in this region.
    pub week_end: NaiveDate,
    /// First eligible day in this region.
    pub eligible_from: NaiveDate,
    /// Last eligible day in this region.
    pub eligible_to: NaiveDate,
}

impl Edition {
    /// Builds an edition from its week and a tolerance in days, with the deadline at the end of
    /// `deadline_day` and the opening at the start of `opens_day`, both in Paris time.
    pub fn from_week(
        year: i32,
        number: i32,
        theme: &str,
        week_start: NaiveDate,
        tolerance_days: i64,
        opens_day: NaiveDate,
        deadline_day: NaiveDate,
    ) -> Edition {
        let week_end = week_start + Duration::days(6);
        Edition {
            year,
            number,
            theme: theme.to_string(),
            demo: false,
            week_start,
            week_end,
            eligible_from: week_start - Duration::days(tolerance_days),
            eligible_to: week_end + Duration::days(tolerance_days),
            opens_at: paris_instant(opens_day.and_hms_opt(0, 0, 0).expect("midnight exists")),
            deadline: paris_instant(deadline_day.and_hms_opt(23, 59, 59).expect("valid time")),
            regions: Vec::new(),
        }
    }

    /// The edition as it applies to an event in `region`: its override's dates when it has one.
    pub fn for_region(&self, region: Option<&str>) -> std::borrow::Cow<'_, Edition> {
        match region.and_then(|r| self.regions.iter().find(|o| o.region == r)) {
            None => std::borrow::Cow::Borrowed(self),
            Some(o) => std::borrow::Cow::Owned(Edition {
                week_start: o.week_start,
                week_end: o.week_end,
                eligible_from: o.eligible_from,
                eligible_to: o.eligible_to,
                regions: Vec::new(),
                ..self.clone()
            }),
        }
    }

    /// The reference edition of the seed: 13th edition, 18–24 November 2024.
    pub fn reference_2024() -> Edition {
        let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).expect("valid date");
        Edition::from_week(2024, 13, "Avec l'industrie, fabrique ton avenir !", d(11, 18), 15, d(9, 20), d(11, 12))
    }

    /// « du 18 au 24 novembre 2024 ».
    pub fn week_label(&self) -> String {
        fr_range(self.week_start, self.week_end)
    }

    /// « du 3 novembre au 9 décembre 2024 ».
    pub fn window_label(&self) -> String {
        fr_range(self.eligible_from, self.eligible_to)
    }

    /// Whether a submission at `at` falls between the opening and the deadline.
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        at >= self.opens_at && at <= self.deadline
    }

    /// Checks the consistency of an edition as an administrator configures it.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if self.week_end < self.week_start {
            errors.push(("week_end", "La fin de la semaine doit suivre son début.".to_string()));
        }
        if self.eligible_from > self.week_start || self.eligible_to < self.week_end {
            errors.push(("eligible_from", "La période éligible doit contenir la semaine elle-même.".to_string()));
        }
        if self.opens_at >= self.deadline {
            errors.push(("opens_at", "L'ouverture de la labellisation doit précéder la date limite.".to_string()));
        }
        let window_end = paris_instant(self.eligible_to.and_hms_opt(23, 59, 59).expect("valid time"));
        if self.deadline > window_end {
            errors.push(("deadline", "La date limite ne peut pas suivre la fin de la période éligible.".to_string()));
        }
        if self.theme.trim().is_empty() {
            errors.push(("theme", "Indiquez le thème de l'édition.".to_string()));
        }
        if self.number < 1 {
            errors.push(("number", "Le numéro de l'édition doit être un entier positif.".to_string()));
        }
        let mut seen = Vec::new();
        for o in &self.regions {
            let name = crate::territory::territory().region_name(&o.region);
            if crate::territory::territory().region(&o.region).is_none() {
                errors.push(("regions", format!("Région inconnue : « {} ».", o.region)));
            } else if seen.contains(&o.region.as_str()) {
                errors.push(("regions", format!("{name} a déjà des dates propres.")));
            } else if o.week_end < o.week_start {
                errors.push(("regions", format!("{name} : la fin de la semaine doit suivre son début.")));
            } else if o.eligible_from > o.week_start || o.eligible_to < o.week_end {
                errors.push(("regions", format!("{name} : la période éligible doit contenir la semaine.")));
            }
            seen.push(o.region.as_str());
        }
        errors
    }
}

/// « du 18 au 24 novembre 2024 », « du 3 novembre au 9 décembre 2024 ».
pub fn fr_range(from: NaiveDate, to: NaiveDate) -> String {
    use chrono::Datelike;
    if from.year() == to.year() && from.month() == to.month() {
        let day = if from.day() == 1 { "1er".to_string() } else { from.day().to_string() };
        format!("du {} au {}", day, fr_date(to))
    } else if from.year() == to.year() {
        let full = fr_date(from);
        let without_year = full.trim_end_matches(&format!(" {}", from.year())).to_string();
        format!("du {} au {}", without_year, fr_date(to))
    } else {
        format!("du {} au {}", fr_date(from), fr_date(to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_edition_matches_the_seed() {
        let e = Edition::reference_2024();
        assert_eq!(e.eligible_from, NaiveDate::from_ymd_opt(2024, 11, 3).unwrap());
        assert_eq!(e.eligible_to, NaiveDate::from_ymd_opt(2024, 12, 9).unwrap());
        assert_eq!(e.deadline.to_rfc3339(), "2024-11-12T22:59:59+00:00");
        assert_eq!(e.week_label(), "du 18 au 24 novembre 2024");
        assert_eq!(e.window_label(), "du 3 novembre au 9 décembre 2024");
        assert!(e.validate().is_empty());
    }

    #[test]
    fn validation_rejects_a_window_that_misses_the_week() {
        let mut e = Edition::reference_2024();
        e.eligible_to = NaiveDate::from_ymd_opt(2024, 11, 20).unwrap();
        let fields: Vec<_> = e.validate().into_iter().map(|(f, _)| f).collect();
        assert!(fields.contains(&"eligible_from"));
        assert!(
            fields.contains(&"deadline") || e.deadline <= paris_instant(e.eligible_to.and_hms_opt(23, 59, 59).unwrap())
        );
    }
}
