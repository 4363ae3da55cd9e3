//! Calendar dates and instants as French people read them, in Europe/Paris time unless told otherwise.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The legal time of metropolitan France, in which deadlines are expressed.
pub const PARIS: Tz = chrono_tz::Europe::Paris;

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const WEEKDAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];

/// « 3 novembre 2024 » (« 1er » for the first of the month).
pub fn fr_date(d: NaiveDate) -> String {
    let day = if d.day() == 1 { "1er".to_string() } else { d.day().to_string() };
    format!("{} {} {}", day, MONTHS[d.month0() as usize], d.year())
}

/// « mardi 19 novembre 2024 ».
pub fn fr_weekday_date(d: NaiveDate) -> String {
    format!("{} {}", WEEKDAYS[d.weekday().num_days_from_monday() as usize], fr_date(d))
}

/// « 9 h 00 ».
pub fn fr_time(t: NaiveDateTime) -> String {
    format!("{} h {:02}", t.hour(), t.minute())
}

/// « mardi 19 novembre 2024, de 9 h 00 à 12 h 00 » or across days.
pub fn fr_session(start: NaiveDateTime, end: NaiveDateTime) -> String {
    if start.date() == end.date() {
        format!("{}, de {} à {}", fr_weekday_date(start.date()), fr_time(start), fr_time(end))
    } else {
        format!(
            "du {} à {} au {} à {}",
            fr_weekday_date(start.date()),
            fr_time(start),
            fr_weekday_date(end.date()),
            fr_time(end)
        )
    }
}

/// « 12 novembre 2024 à 23 h 59 » in Paris time.
pub fn fr_instant(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&PARIS).naive_local();
    format!("{} à {}", fr_date(local.date()), fr_time(local))
}

/// The instant of a Paris wall-clock time; in the autumn overlap, the earlier one.
pub fn paris_instant(local: NaiveDateTime) -> DateTime<Utc> {
    match PARIS.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        // A time skipped by the spring change does not exist: take the same wall time an hour later.
        chrono::LocalResult::None => PARIS
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local)),
    }
}

/// RFC 3339 with the Paris offset, as the API shows instants.
pub fn rfc3339_paris(at: DateTime<Utc>) -> String {
    at.with_timezone(&PARIS).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The IANA zone of a region's legal time (overseas regions differ from Paris).
pub fn region_timezone(region: &str) -> Tz {
    match region {
        "01" => chrono_tz::America::Guadeloupe,
        "02" => chrono_tz::America::Martinique,
        "03" => chrono_tz::America::Cayenne,
        "04" => chrono_tz::Indian::Reunion,
        "06" => chrono_tz::Indian::Mayotte,
        _ => PARIS,
    }
}

/// Parses a local date-time as typed in forms or JSON: `2024-11-19T09:00` (seconds optional).
pub fn parse_local_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()
}

/// A session: start and end as local date-times of the event's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Local start.
    pub start: NaiveDateTime,
    /// Local end.
    pub end: NaiveDateTime,
}

impl Session {
    /// A session whose end follows its start.
    pub fn new(start: NaiveDateTime, end: NaiveDateTime) -> Result<Session, String> {
        if end <= start {
            Err("La fin de la séance doit suivre son début.".into())
        } else {
            Ok(Session { start, end })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_formats() {
        let d = NaiveDate::from_ymd_opt(2024, 11, 1).unwrap();
        assert_eq!(fr_date(d), "1er novembre 2024");
        assert_eq!(fr_weekday_date(NaiveDate::from_ymd_opt(2024, 11, 18).unwrap()), "lundi 18 novembre 2024");
        let deadline = DateTime::parse_from_rfc3339("2024-11-12T23:59:59+01:00").unwrap().with_timezone(&Utc);
        assert_eq!(fr_instant(deadline), "12 novembre 2024 à 23 h 59");
        assert_eq!(rfc3339_paris(deadline), "2024-11-12T23:59:59+01:00");
    }

    #[test]
    fn paris_instants_follow_daylight_saving() {
        let summer = parse_local_datetime("2024-09-20T00:00").unwrap();
        assert_eq!(paris_instant(summer).to_rfc3339(), "2024-09-19T22:00:00+00:00");
        let winter = parse_local_datetime("2024-11-12T23:59:59").unwrap();
        assert_eq!(paris_instant(winter).to_rfc3339(), "2024-11-12T22:59:59+00:00");
        assert!(parse_local_datetime("19/11/2024").is_none());
    }
}
