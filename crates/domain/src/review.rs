//! Rules of review: the committee's 4-working-day promise and possible duplicates.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::add_working_days;
use crate::dates::{PARIS, paris_instant};
use crate::text::terms;

/// The committee's promise: a decision within 4 working days of the submission.
pub const REVIEW_WORKING_DAYS: u32 = 4;

/// When a decision is due: the end (23:59:59, Paris) of the 4th working day after the day of
/// submission, skipping weekends and the public holidays of the event's department (Alsace-Moselle
/// has two more).
pub fn due_at(submitted: DateTime<Utc>, department: Option<&str>) -> DateTime<Utc> {
    let day = submitted.with_timezone(&PARIS).date_naive();
    let due = add_working_days(day, REVIEW_WORKING_DAYS, department);
    paris_instant(due.and_hms_opt(23, 59, 59).expect("valid time"))
}

/// Whether two titles say the same thing: their folded, stemmed words overlap for at least 75 % of
/// the union (Jaccard), or one title's words all appear in the other's. (At 60 %, a series such as
/// « Les métiers de la soudure », « … de la fonderie » was flagged: one word apart is another event.)
pub fn similar_titles(a: &str, b: &str) -> bool {
    similar_terms(&title_terms(a), &title_terms(b))
}

/// The folded, stemmed words of a title, computed once per title when comparing many.
pub fn title_terms(title: &str) -> BTreeSet<String> {
    terms(title).into_iter().collect()
}

/// [`similar_titles`] on precomputed [`title_terms`].
pub fn similar_terms(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let common = a.intersection(b).count();
    let union = a.union(b).count();
    common * 4 >= union * 3 || common == a.len().min(b.len())
}

/// Whether two date ranges overlap or start within two days of each other. Unknown dates do not
/// prevent a match (a draft without sessions can still repeat an event).
pub fn close_dates(a: (Option<NaiveDate>, Option<NaiveDate>), b: (Option<NaiveDate>, Option<NaiveDate>)) -> bool {
    match (a, b) {
        ((Some(a1), Some(a2)), (Some(b1), Some(b2))) => (a1 <= b2 && b1 <= a2) || (a1 - b1).num_days().abs() <= 2,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, day).unwrap()
    }

    #[test]
    fn due_dates_skip_weekends_and_holidays() {
        // Friday 8 November 2024 at 18:00 Paris; Monday 11 November is a holiday.
        let at = paris_instant(d(11, 8).and_hms_opt(18, 0, 0).unwrap());
        assert_eq!(due_at(at, Some("69")).to_rfc3339(), "2024-11-15T22:59:59+00:00");
        // 23:30 UTC on 10 November is already Monday 11 November in Paris (a holiday): Tue → Fri 15.
        let late = "2024-11-10T23:30:00Z".parse().unwrap();
        assert_eq!(due_at(late, None).to_rfc3339(), "2024-11-15T22:59:59+00:00");
        // Alsace-Moselle: Friday 20 December → Mon 23, Tue 24, (25 and 26 holidays) Fri 27, Mon 30.
        let xmas = paris_instant(d(12, 20).and_hms_opt(9, 0, 0).unwrap());
        assert_eq!(due_at(xmas, Some("67")).date_naive(), d(12, 30));
        assert_eq!(due_at(xmas, Some("75")).date_naive(), d(12, 27));
    }

    #[test]
    fn duplicates_are_similar_titles_on_close_dates() {
        assert!(similar_titles("Visite de l'usine Renault de Flins", "Visite usine Renault Flins"));
        assert!(similar_titles("Portes ouvertes de l'atelier", "Portes ouvertes atelier mécanique"));
        assert!(!similar_titles("Visite de l'usine", "Forum des métiers de la chimie"));
        assert!(!similar_titles(
            "Atelier découverte : les métiers de la soudure",
            "Atelier découverte : les métiers de la fonderie"
        ));
        assert!(!similar_titles("", "Visite"));
        assert!(close_dates((Some(d(11, 19)), Some(d(11, 19))), (Some(d(11, 19)), Some(d(11, 20)))));
        assert!(close_dates((Some(d(11, 19)), Some(d(11, 19))), (Some(d(11, 21)), Some(d(11, 21)))));
        assert!(!close_dates((Some(d(11, 5)), Some(d(11, 5))), (Some(d(11, 25)), Some(d(11, 25)))));
    }
}
