//! The time every rule is judged at. Routes and use cases read [`Clock::now`] instead of calling
//! `Utc::now()`, so that a test can put the whole platform at a chosen instant (a submission on the
//! last day, a due date passed) without waiting for it.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Where the time comes from.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock, in production.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stays where it is set (tests).
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_shows_what_it_was_set_to() {
        let at = DateTime::parse_from_rfc3339("2026-11-12T22:59:59Z").unwrap().with_timezone(&Utc);
        let clock = FixedClock::new(at);
        assert_eq!(clock.now(), at);
        let later = at + chrono::Duration::days(2);
        clock.set(later);
        assert_eq!(clock.now(), later);
    }
}
