//! Rate limits on the paths anyone can reach that cost something (a password hash, an email): token
//! buckets keyed per account, per source address, per account *and* source, and globally. Taking an
//! attempt is one atomic step (check and count under one lock), so parallel requests cannot all slip
//! through before any is counted. Every limiter holds at most a fixed number of keys, each a fixed
//! 16-byte digest whatever was typed, so an anonymous flood of distinct keys is bounded in memory.
//! The limits on logins, password links and sign-ups are also kept in the database
//! ([`Limiter::shared`], `Store::take_attempt`): the local bucket answers first (no database work
//! for a flood from one place), then the shared one, so N nodes behind a balancer allow what one
//! would. The global limits stay per node: they protect that node's processors.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// One token bucket.
#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key: `capacity` attempts at once, refilled at `capacity` per `period`.
pub struct Limiter {
    capacity: f64,
    per_second: f64,
    max_keys: usize,
    buckets: Mutex<Buckets>,
    /// The name of the bucket kept in the database too, when the limit holds across nodes.
    shared: Option<&'static str>,
}

struct Buckets {
    map: HashMap<[u8; 16], Bucket>,
    /// When a full map was last swept: at most once a second, so a flood cannot make every request
    /// walk the whole map.
    swept: Option<Instant>,
}

/// Bytes one key costs in a limiter's map (digest, bucket, and the hash table's own overhead).
pub const BYTES_PER_KEY: usize = 16 + std::mem::size_of::<Bucket>() + 16;

impl Limiter {
    /// `capacity` attempts, refilled over `period`; at most `max_keys` keys held.
    pub fn new(capacity: u32, period: Duration, max_keys: usize) -> Limiter {
        Limiter {
            capacity: f64::from(capacity),
            per_second: f64::from(capacity) / period.as_secs_f64(),
            max_keys,
            buckets: Mutex::new(Buckets { map: HashMap::new(), swept: None }),
            shared: None,
        }
    }

    /// The same limit held across nodes too, in the database under `name`.
    pub fn shared(mut self, name: &'static str) -> Limiter {
        self.shared = Some(name);
        self
    }

    fn shared_key(name: &str, key: &str) -> String {
        let d = Self::digest(key);
        format!("{name}:{}", d.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }

    /// Takes one attempt here, then, for a shared limit, in the database (every node's attempts
    /// counted once). When the database cannot be reached the local limit alone holds.
    pub async fn take_everywhere(&self, store: &si_store::DynStore, key: &str) -> Result<(), Duration> {
        self.take(key)?;
        let Some(name) = self.shared else { return Ok(()) };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        match store.take_attempt(&Self::shared_key(name, key), self.capacity, self.per_second, now).await {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(Duration::from_secs_f64(wait.clamp(0.0, 86_400.0))),
            Err(e) => {
                tracing::warn!(error = %e, limit = name, "shared limit not read: the node's own applies");
                Ok(())
            }
        }
    }

    /// Gives back one attempt here and in the database (it turned out legitimate).
    pub async fn give_back_everywhere(&self, store: &si_store::DynStore, key: &str) {
        self.give_back(key);
        if let Some(name) = self.shared
            && let Err(e) = store.give_attempt(&Self::shared_key(name, key), self.capacity).await
        {
            tracing::warn!(error = %e, limit = name, "shared limit not given back");
        }
    }

    /// Forgets `key` here and in the database.
    pub async fn reset_everywhere(&self, store: &si_store::DynStore, key: &str) {
        self.reset(key);
        if let Some(name) = self.shared
            && let Err(e) = store.forget_attempts(&Self::shared_key(name, key)).await
        {
            tracing::warn!(error = %e, limit = name, "shared limit not reset");
        }
    }

    fn digest(key: &str) -> [u8; 16] {
        let d = Sha256::digest(key.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        out
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.capacity);
        b.at = now;
    }

    /// Takes one attempt for `key`; `Err` with the wait until the next one when none is left.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let k = Self::digest(key);
        let mut guard = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Buckets { map, swept } = &mut *guard;
        if !map.contains_key(&k) && map.len() >= self.max_keys {
            // Buckets refilled to the brim say nothing a missing key would not: forget them.
            if swept.is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1)) {
                *swept = Some(now);
                map.retain(|_, b| {
                    let mut b = *b;
                    self.refill(&mut b, now);
                    b.tokens < self.capacity
                });
            }
            if map.len() >= self.max_keys {
                // Full of live keys: refuse rather than grow (the global limit keeps this rare).
                return Err(Duration::from_secs_f64(1.0 / self.per_second));
            }
        }
        let b = map.entry(k).or_insert(Bucket { tokens: self.capacity, at: now });
        self.refill(b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_second))
        }
    }

    /// Gives back one attempt (it turned out legitimate).
    pub fn give_back(&self, key: &str) {
        let k = Self::digest(key);
        let mut guard = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = guard.map.get_mut(&k) {
            b.tokens = (b.tokens + 1.0).min(self.capacity);
        }
    }

    /// Forgets `key`: its allowance is whole again.
    pub fn reset(&self, key: &str) {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).map.remove(&Self::digest(key));
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).map.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most memory this limiter's keys can take.
    pub fn max_bytes(&self) -> usize {
        self.max_keys * BYTES_PER_KEY
    }
}

/// Keys each limiter holds at most (≈ 4.8 MB each).
const MAX_KEYS: usize = 100_000;
const MINUTE: Duration = Duration::from_secs(60);
const QUARTER_HOUR: Duration = Duration::from_secs(15 * 60);
const HOUR: Duration = Duration::from_secs(3600);

/// The limits of the platform's anonymous paths.
pub struct Throttle {
    /// Every login attempt, whoever makes it: the hashing capacity of the machine, shared fairly.
    pub login_global: Limiter,
    /// Login attempts per source address (guessing many accounts from one place).
    pub login_source: Limiter,
    /// Login attempts per account from one source: what an attacker elsewhere cannot exhaust for
    /// the owner.
    pub login_account_source: Limiter,
    /// Login attempts per account from every source (a distributed guess); the owner's way through
    /// is the password link, which resets it.
    pub login_account: Limiter,
    /// Password links per address.
    pub reset_address: Limiter,
    /// Password-link requests per source.
    pub reset_source: Limiter,
    /// Password-link requests from everyone (each may send an email).
    pub reset_global: Limiter,
    /// Account creations per source.
    pub signup_source: Limiter,
    /// Bookings (and changes through a booking's link) per source: each may send an email.
    pub booking_source: Limiter,
    /// Bookings per contact address.
    pub booking_address: Limiter,
    /// School look-ups (each may reach the Annuaire de l'éducation) per source.
    pub school_lookups: Limiter,
    /// Organisers' messages to the people booked, per event.
    pub organiser_messages: Limiter,
    /// Questionnaire answers per source.
    pub feedback_source: Limiter,
    /// Questionnaire answers per event (anonymous answers cannot be told apart: this bounds what
    /// many sources together can add to one event).
    pub feedback_event: Limiter,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            login_global: Limiter::new(60, Duration::from_secs(3), 1),
            login_source: Limiter::new(30, QUARTER_HOUR, MAX_KEYS).shared("login_source"),
            login_account_source: Limiter::new(10, QUARTER_HOUR, MAX_KEYS).shared("login_account_source"),
            login_account: Limiter::new(50, HOUR, MAX_KEYS).shared("login_account"),
            reset_address: Limiter::new(3, HOUR, MAX_KEYS).shared("reset_address"),
            reset_source: Limiter::new(10, HOUR, MAX_KEYS).shared("reset_source"),
            reset_global: Limiter::new(120, MINUTE, 1),
            signup_source: Limiter::new(10, HOUR, MAX_KEYS).shared("signup_source"),
            // Half the keys of the login limiters: bookings and answers are rarer than logins, and
            // every limiter's bytes add up (48 MB for all of them, tested).
            booking_source: Limiter::new(30, HOUR, MAX_KEYS / 2),
            booking_address: Limiter::new(10, HOUR, MAX_KEYS / 2),
            organiser_messages: Limiter::new(5, HOUR, MAX_KEYS / 10),
            school_lookups: Limiter::new(60, HOUR, MAX_KEYS / 10),
            feedback_source: Limiter::new(30, HOUR, MAX_KEYS / 2),
            feedback_event: Limiter::new(600, HOUR, MAX_KEYS / 2),
        }
    }
}

impl Throttle {
    /// The most memory all the limiters can take together.
    pub fn max_bytes(&self) -> usize {
        [
            &self.login_global,
            &self.login_source,
            &self.login_account_source,
            &self.login_account,
            &self.reset_address,
            &self.reset_source,
            &self.reset_global,
            &self.signup_source,
            &self.booking_source,
            &self.booking_address,
            &self.organiser_messages,
            &self.school_lookups,
            &self.feedback_source,
            &self.feedback_event,
        ]
        .iter()
        .map(|l| l.max_bytes())
        .sum()
    }
}

/// The source address of a request as a limiter key.
pub fn source_key(ip: Option<IpAddr>) -> String {
    match ip {
        // A person behind IPv6 usually holds a whole /64: count the block, not each address.
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        Some(ip) => ip.to_string(),
        None => "unknown".into(),
    }
}

/// Answers being written at once per account, for the long ones that hold memory until they are read
/// out (the review queue's, which keeps the snapshot it started from): a token holder opening many
/// slow connections holds at most `max` of them. Entries exist only while an answer is being
/// written, so the map is bounded by the accounts writing at once.
pub struct PerAccount {
    max: usize,
    running: Mutex<HashMap<i64, usize>>,
}

/// One answer being written; dropping it (the answer read out, or the connection gone) frees its place.
pub struct Permit {
    owner: std::sync::Arc<PerAccount>,
    account: i64,
}

impl PerAccount {
    /// At most `max` answers at once for each account.
    pub fn new(max: usize) -> PerAccount {
        PerAccount { max, running: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, usize>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for one more answer to `account`, or `None` when it has `max` being written.
    pub fn try_start(self: &std::sync::Arc<Self>, account: i64) -> Option<Permit> {
        let mut running = self.lock();
        let n = running.entry(account).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Permit { owner: self.clone(), account })
    }

    /// Answers being written for `account`.
    pub fn running(&self, account: i64) -> usize {
        self.lock().get(&account).copied().unwrap_or(0)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut running = self.owner.lock();
        if let Some(n) = running.get_mut(&self.account) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_atomically_refills_and_gives_back() {
        let l = Limiter::new(3, Duration::from_millis(300), 10);
        assert!(l.take("a").is_ok() && l.take("a").is_ok() && l.take("a").is_ok());
        assert!(l.take("a").is_err(), "the fourth at once is refused");
        assert!(l.take("b").is_ok(), "other keys are not affected");
        l.give_back("a");
        assert!(l.take("a").is_ok());
        std::thread::sleep(Duration::from_millis(120));
        assert!(l.take("a").is_ok(), "refilled over time");
        l.reset("a");
        assert!(l.take("a").is_ok() && l.take("a").is_ok() && l.take("a").is_ok());
    }

    #[test]
    fn parallel_attempts_cannot_outrun_the_count() {
        let l = std::sync::Arc::new(Limiter::new(10, Duration::from_secs(900), 10));
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || l.take("victim@exemple.fr").is_ok())
            })
            .collect();
        let allowed = handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
        assert_eq!(allowed, 10);
    }

    /// 100,000 distinct keys then 100,000 more: the map never holds more than its bound, in keys and
    /// so in bytes, and live keys are never silently dropped to make room.
    #[test]
    fn a_flood_of_distinct_keys_stays_within_the_bound() {
        let l = Limiter::new(3, Duration::from_secs(3600), 50_000);
        let mut refused = 0;
        for i in 0..200_000 {
            if l.take(&format!("personne{i}@exemple.fr|203.0.113.{}", i % 256)).is_err() {
                refused += 1;
            }
        }
        assert_eq!(l.len(), 50_000);
        assert!(l.len() * BYTES_PER_KEY <= l.max_bytes());
        assert_eq!(refused, 150_000, "beyond the bound, new keys are refused, not let through");
        let t = Throttle::default();
        assert!(t.max_bytes() < 48 * 1024 * 1024, "{} bytes", t.max_bytes());
    }

    #[test]
    fn sources_are_keyed_by_address_or_ipv6_block() {
        assert_eq!(source_key(Some("203.0.113.7".parse().unwrap())), "203.0.113.7");
        assert_eq!(source_key(Some("2001:db8:1:2:3:4:5:6".parse().unwrap())), "2001:db8:1:2::/64");
        assert_eq!(source_key(Some("::ffff:192.0.2.1".parse().unwrap())), "192.0.2.1");
        assert_eq!(source_key(None), "unknown");
    }

    #[test]
    fn answers_per_account_are_bounded_and_freed() {
        let p = std::sync::Arc::new(PerAccount::new(2));
        let a = p.try_start(1).expect("first");
        let b = p.try_start(1).expect("second");
        assert!(p.try_start(1).is_none(), "a third at once is refused");
        let other = p.try_start(2).expect("another account is not held back");
        drop(a);
        let c = p.try_start(1).expect("a place freed is taken again");
        drop((b, c, other));
        assert_eq!((p.running(1), p.running(2)), (0, 0));
        assert!(p.lock().is_empty(), "nothing kept once every answer is written");
    }
}
