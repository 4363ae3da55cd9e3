//! Working days in France: weekends and public holidays (movable feasts from Easter), with the two
//! extra holidays of Alsace-Moselle (Good Friday, 26 December) in departments 57, 67 and 68.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Easter Sunday of a year (anonymous Gregorian algorithm).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a valid date")
}

/// Whether a day is a public holiday in the given department.
pub fn is_public_holiday(d: NaiveDate, department: Option<&str>) -> bool {
    let fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)];
    if fixed.contains(&(d.month(), d.day())) {
        return true;
    }
    let e = easter(d.year());
    let movable = [e + Duration::days(1), e + Duration::days(39), e + Duration::days(50)];
    if movable.contains(&d) {
        return true;
    }
    let alsace_moselle = matches!(department, Some("57" | "67" | "68"));
    alsace_moselle && (d == e - Duration::days(2) || (d.month() == 12 && d.day() == 26))
}

/// Whether a day is worked.
pub fn is_working_day(d: NaiveDate, department: Option<&str>) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_public_holiday(d, department)
}

/// The day `n` working days after `from` (the day of submission itself does not count).
pub fn add_working_days(from: NaiveDate, n: u32, department: Option<&str>) -> NaiveDate {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        d += Duration::days(1);
        if is_working_day(d, department) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_dates() {
        assert_eq!(easter(2024), d(2024, 3, 31));
        assert_eq!(easter(2025), d(2025, 4, 20));
        assert_eq!(easter(2026), d(2026, 4, 5));
    }

    #[test]
    fn four_working_days() {
        // Friday 8 November 2024: Monday 11 November is a holiday → Tue 12, Wed 13, Thu 14, Fri 15.
        assert_eq!(add_working_days(d(2024, 11, 8), 4, Some("69")), d(2024, 11, 15));
        // Monday 18 November 2024 → Friday 22.
        assert_eq!(add_working_days(d(2024, 11, 18), 4, None), d(2024, 11, 22));
        // Alsace: 26 December counts as a holiday.
        assert_eq!(add_working_days(d(2024, 12, 23), 2, Some("67")), d(2024, 12, 27));
        assert_eq!(add_working_days(d(2024, 12, 23), 2, Some("75")), d(2024, 12, 26));
        assert!(is_public_holiday(d(2024, 5, 9), None)); // Ascension 2024
    }
}
