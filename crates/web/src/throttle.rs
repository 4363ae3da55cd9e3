//! Attempts kept in memory per key (an email address), over a sliding window: login failures and
//! password-link requests. Keyed by account rather than by IP address because, behind the State's
//! reverse proxies, the peer address is the proxy's. In memory: one process forgets at restart,
//! which only resets the counters.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sliding-window counters.
#[derive(Default)]
pub struct Throttle {
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Beyond this many keys, stale ones are pruned at the next record.
const PRUNE_ABOVE: usize = 10_000;

impl Throttle {
    /// How many attempts `key` made within `window`.
    pub fn count(&self, key: &str, window: Duration) -> usize {
        let now = Instant::now();
        let map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).map_or(0, |v| v.iter().filter(|t| now.duration_since(**t) < window).count())
    }

    /// Records an attempt of `key` (older ones than `window` are forgotten).
    pub fn record(&self, key: &str, window: Duration) {
        let now = Instant::now();
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < window));
        }
        let v = map.entry(key.to_string()).or_default();
        v.retain(|t| now.duration_since(*t) < window);
        v.push(now);
    }

    /// Forgets `key` (a successful login).
    pub fn clear(&self, key: &str) {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_the_window_only() {
        let t = Throttle::default();
        let w = Duration::from_millis(50);
        t.record("a", w);
        t.record("a", w);
        t.record("b", w);
        assert_eq!((t.count("a", w), t.count("b", w), t.count("c", w)), (2, 1, 0));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(t.count("a", w), 0);
        t.record("a", w);
        t.clear("a");
        assert_eq!(t.count("a", w), 0);
    }
}
