//! Who is asking: browser sessions (an opaque cookie whose SHA-256 alone is stored), API tokens
//! (same treatment), and Argon2id passwords hashed off the async runtime.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};
use si_domain::Role;
use si_domain::lifecycle::ReviewScope;
use si_store::User;

use crate::AppState;
use crate::error::AppError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "si_session";
/// How long a session lasts without logging in again.
const SESSION_HOURS: i64 = 12;

/// Hex SHA-256: what the store keeps of a session id or token.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes as hex.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new API token for a person, named, valid `days` days; returns the token (shown once), storing
/// only its hash.
pub async fn create_api_token(state: &AppState, user_id: i64, name: &str, days: i64) -> Result<String, AppError> {
    let token = format!("si_{}", random_secret());
    let expires = Utc::now() + Duration::days(days);
    state.store.create_api_token(&hash_secret(&token), user_id, name, expires).await?;
    Ok(token)
}

/// Argon2id hash, computed by the hashing threads (it takes tens of milliseconds on purpose).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    hashing::run(move || hashing::argon::hash(password.as_bytes())).await
}

/// Checks a password against a stored hash (`None`: an unknown person, checked against a dummy hash
/// so that timing does not tell), on the hashing threads; `Unavailable` when they are saturated (the
/// answer is then 503, not a wrong-password message).
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    hashing::run(move || {
        let ok = hashing::argon::verify(password.as_bytes(), hash.as_deref().unwrap_or(&DUMMY_HASH));
        ok && hash.is_some()
    })
    .await
}

/// Password hashing on a fixed set of threads with a bounded queue. Each Argon2id hash holds ~19 MB
/// while it runs; on tokio's blocking pool (up to 512 threads) a login flood ran hundreds at once and
/// every thread's allocator kept its memory (8.2 GB seen). Here at most `threads` hashes run at once,
/// at most `QUEUE` wait, and beyond that the request is refused at once.
pub mod hashing {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
    use std::sync::{Arc, LazyLock, Mutex};

    use crate::error::AppError;

    type Job = Box<dyn FnOnce() + Send>;

    /// Hashes waiting for a thread, at most; beyond, requests are refused (503).
    pub const QUEUE: usize = 64;

    struct Pool {
        jobs: SyncSender<Job>,
        threads: usize,
    }

    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);

    static POOL: LazyLock<Pool> = LazyLock::new(|| {
        // One thread per core, at most two: hashing must leave the machine able to answer the public.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 2);
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx: Arc<Mutex<Receiver<Job>>> = rx.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        };
                        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                        PEAK.fetch_max(now, Ordering::SeqCst);
                        job();
                        RUNNING.fetch_sub(1, Ordering::SeqCst);
                    }
                })
                .expect("a hashing thread starts");
        }
        Pool { jobs: tx, threads }
    });

    /// Runs `f` on a hashing thread; `Unavailable` when the queue is full.
    pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        POOL.jobs
            .try_send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .map_err(|_| AppError::Unavailable)?;
        rx.await.map_err(|_| AppError::Unavailable)
    }

    /// How many hashing threads there are.
    pub fn threads() -> usize {
        POOL.threads
    }

    /// The most hashes seen running at once since the process started.
    pub fn peak() -> usize {
        PEAK.load(Ordering::SeqCst)
    }

    /// Argon2id in PHC strings (the format `password-auth` writes and reads), computed in memory that
    /// each thread allocates once and reuses: freed 19 MB blocks were kept by the allocator, one more
    /// at each hash until a dozen (≈ 230 MB seen), whereas here the hashing threads hold 19 MB each.
    pub mod argon {
        use std::cell::RefCell;

        use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
        use argon2::{Algorithm, Argon2, Block, Params, Version};

        /// Most memory a stored hash may ask for (64 MiB): a hash is ours, but a bound costs nothing.
        const MAX_BLOCKS: usize = 64 * 1024;

        thread_local! {
            static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
        }

        fn compute(
            password: &[u8],
            algorithm: Algorithm,
            version: Version,
            params: &Params,
            salt: Salt<'_>,
        ) -> Option<Output> {
            if params.block_count() > MAX_BLOCKS {
                return None;
            }
            let mut salt_buf = [0u8; 64];
            let salt = salt.decode_b64(&mut salt_buf).ok()?;
            let argon = Argon2::new(algorithm, version, params.clone());
            let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
            MEMORY.with(|m| {
                let mut memory = m.borrow_mut();
                if memory.len() < params.block_count() {
                    memory.resize(params.block_count(), Block::default());
                }
                Output::init_with(len, |out| {
                    argon.hash_password_into_with_memory(password, salt, out, &mut memory[..]).map_err(Into::into)
                })
                .ok()
            })
        }

        /// A new hash with a random salt and the default (OWASP) parameters.
        pub fn hash(password: &[u8]) -> String {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).expect("the system random source is available");
            let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
            let params = Params::default();
            let output = compute(password, Algorithm::Argon2id, Version::V0x13, &params, salt.as_salt())
                .expect("default parameters hash");
            PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).expect("default parameters encode"),
                salt: Some(salt.as_salt()),
                hash: Some(output),
            }
            .to_string()
        }

        /// Whether `password` matches the PHC string (compared in constant time by `Output`).
        pub fn verify(password: &[u8], phc: &str) -> bool {
            let Ok(h) = PasswordHash::new(phc) else { return false };
            let (Some(salt), Some(expected)) = (h.salt, h.hash) else { return false };
            let Ok(algorithm) = Algorithm::try_from(h.algorithm) else { return false };
            let Ok(version) = h.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
            let Ok(params) = Params::try_from(&h) else { return false };
            compute(password, algorithm, version, &params, salt).is_some_and(|o| o == expected)
        }

        #[cfg(test)]
        mod tests {
            #[test]
            fn reads_and_writes_the_password_auth_format() {
                let ours = super::hash(b"une longue phrase");
                assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
                assert!(password_auth::verify_password("une longue phrase", &ours).is_ok());
                let theirs = password_auth::generate_hash("une longue phrase");
                assert!(super::verify(b"une longue phrase", &theirs));
                assert!(!super::verify(b"une autre phrase", &theirs));
                assert!(!super::verify(b"x", "pas un hash"));
                assert!(!super::verify(b"x", "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
            }
        }
    }
}

/// A hash verified when the email is unknown, so that timing does not tell which addresses have an
/// account.
pub static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hashing::argon::hash(random_secret().as_bytes()));

pub(crate) fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(
        |kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        },
    )
}

/// Opens a session for a person: a fresh id at every login (no fixation), returned as a cookie.
pub async fn open_session(state: &AppState, user_id: i64, previous: Option<&str>) -> Result<HeaderValue, AppError> {
    if let Some(old) = previous {
        state.store.delete_web_session(&hash_secret(old)).await?;
    }
    let id = random_secret();
    state.store.create_web_session(&hash_secret(&id), user_id, Utc::now() + Duration::hours(SESSION_HOURS)).await?;
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_HOURS * 3600
    ))
    .map_err(|e| AppError::Internal(e.into()))
}

/// The cookie that ends a session in the browser.
pub fn closed_session_cookie() -> HeaderValue {
    HeaderValue::from_static("si_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Where a request comes from, for the per-source limits: the peer address, or, behind the
/// deployment's reverse proxy (`--behind-proxy`), the address that proxy appended last to
/// `X-Forwarded-For` (the ones before it are whatever the client wrote).
pub struct Source(pub String);

impl FromRequestParts<AppState> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        Ok(Source(crate::throttle::source_key(state.config.proxies.client(peer, forwarded))))
    }
}

/// The reverse proxies whose `X-Forwarded-For` is believed (`--trusted-proxies`, `--behind-proxy`
/// for this machine's own): a client talking to the platform directly could write any address there
/// and escape its per-source limits, so the header counts only when the peer is one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyTrust(Vec<(std::net::IpAddr, u8)>);

impl ProxyTrust {
    /// A comma-separated list of addresses and networks (`127.0.0.1, 10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> Result<ProxyTrust, String> {
        let mut out = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let addr: std::net::IpAddr =
                addr.parse().map_err(|_| format!("{item:?} is not an IP address or network"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => {
                    b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| format!("{item:?}: bad prefix length"))?
                }
                None => max,
            };
            out.push((addr, bits));
        }
        Ok(ProxyTrust(out))
    }

    /// Trusts `other`'s proxies too.
    pub fn extend(&mut self, other: ProxyTrust) {
        self.0.extend(other.0);
    }

    /// This machine only (a proxy on the same host).
    pub fn loopback() -> ProxyTrust {
        ProxyTrust(vec![(std::net::Ipv4Addr::LOCALHOST.into(), 8), (std::net::Ipv6Addr::LOCALHOST.into(), 128)])
    }

    fn trusts(&self, ip: std::net::IpAddr) -> bool {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|(net, bits)| match (net, ip) {
            (std::net::IpAddr::V4(n), std::net::IpAddr::V4(a)) => {
                let mask = if *bits == 0 { 0 } else { u32::MAX << (32 - u32::from(*bits)) };
                u32::from(*n) & mask == u32::from(a) & mask
            }
            (std::net::IpAddr::V6(n), std::net::IpAddr::V6(a)) => {
                let mask = if *bits == 0 { 0 } else { u128::MAX << (128 - u32::from(*bits)) };
                u128::from(*n) & mask == u128::from(a) & mask
            }
            _ => false,
        })
    }

    /// The client's address: the peer, unless it is a trusted proxy; then the last address of
    /// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the one it saw).
    pub fn client<'a>(
        &self,
        peer: Option<std::net::IpAddr>,
        forwarded: impl Iterator<Item = &'a str>,
    ) -> Option<std::net::IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let chain: Vec<std::net::IpAddr> =
            forwarded.flat_map(|v| v.split(',')).filter_map(|a| a.trim().parse().ok()).collect();
        Some(chain.into_iter().rev().find(|ip| !self.trusts(*ip)).unwrap_or(peer))
    }
}

/// The person behind the browser session, if any.
#[derive(Clone, Debug)]
pub struct MaybeUser {
    /// The person.
    pub user: Option<User>,
    /// The raw session id, to end or renew it.
    pub session_id: Option<String>,
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(id) = cookie_value(parts, SESSION_COOKIE).filter(|v| !v.is_empty()).map(str::to_string) else {
            return Ok(MaybeUser { user: None, session_id: None });
        };
        let user = state.store.web_session_user(&hash_secret(&id), Utc::now()).await?;
        Ok(MaybeUser { user, session_id: Some(id) })
    }
}

/// The person behind an `Authorization: Bearer` API token; 401 otherwise.
#[derive(Clone, Debug)]
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AppError::Unauthorized)?;
        let user = state.store.api_token_user(&hash_secret(token)).await?.ok_or(AppError::Unauthorized)?;
        Ok(ApiUser(user))
    }
}

/// Sends people who are not logged in to the login page, coming back to `path` after.
pub fn login_redirect(path: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    axum::response::Redirect::to(&format!("/connexion?suivant={}", crate::forms::urlencode(path))).into_response()
}

/// The person a page requires: strangers go to the login page (coming back to `back` after), people
/// whom `allowed` refuses see its French message as a 403 page. Shared by the page extractors below.
async fn page_user(
    parts: &mut Parts,
    state: &AppState,
    back: &str,
    allowed: impl Fn(&User) -> Result<(), AppError>,
) -> Result<User, axum::response::Response> {
    use axum::response::IntoResponse;
    let user =
        MaybeUser::from_request_parts(parts, state).await.map_err(|e| crate::pages::PageError(e).into_response())?;
    let Some(u) = user.user else {
        return Err(login_redirect(back));
    };
    allowed(&u).map_err(|e| crate::pages::PageError(e).into_response())?;
    Ok(u)
}

/// An organiser with an organisation, for the pages of `/espace`.
pub struct OrganiserPage(pub User);

impl FromRequestParts<AppState> for OrganiserPage {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let back = parts.uri.path().to_string();
        page_user(parts, state, &back, |u| match u.role == Role::Organiser && u.organisation_id.is_some() {
            true => Ok(()),
            false => Err(AppError::Forbidden("Cet espace est réservé aux organisateurs d'événements.".into())),
        })
        .await
        .map(OrganiserPage)
    }
}

/// Any logged-in person, for the pages of their own account.
pub struct PersonPage(pub User);

impl FromRequestParts<AppState> for PersonPage {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let back = parts.uri.path().to_string();
        page_user(parts, state, &back, |_| Ok(())).await.map(PersonPage)
    }
}

/// A national administrator, for the pages of `/admin`.
pub struct AdminPage(pub User);

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let back = parts.uri.path().to_string();
        page_user(parts, state, &back, |u| match u.role == Role::NationalAdmin {
            true => Ok(()),
            false => Err(AppError::Forbidden("Cet espace est réservé aux administrateurs nationaux.".into())),
        })
        .await
        .map(AdminPage)
    }
}

/// A reviewer (national administrator or regional coordinator), for the pages of `/instruction`.
pub struct ReviewerPage(pub User);

impl FromRequestParts<AppState> for ReviewerPage {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // After login, come back to the page, not to the form's target.
        let back = parts.uri.path().trim_end_matches("/decision").to_string();
        page_user(parts, state, &back, |u| review_scope(u).map(|_| ())).await.map(ReviewerPage)
    }
}

/// Whether a person may read and decide an event of this region (`None`: online or unplaced).
pub fn may_review(user: &User, region: Option<&str>) -> bool {
    ReviewScope::of(user.role, user.region.as_deref()).is_some_and(|s| s.covers(region))
}

/// What a reviewer sees (`si_domain::lifecycle::ReviewScope`); 403 for anyone else.
pub fn review_scope(user: &User) -> Result<ReviewScope, AppError> {
    ReviewScope::of(user.role, user.region.as_deref())
        .ok_or_else(|| AppError::Forbidden("Cet espace est réservé aux instructeurs.".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_a_valid_phc_string() {
        assert!(DUMMY_HASH.starts_with("$argon2id$"));
        assert_eq!(hash_secret("abc").len(), 64);
        assert_ne!(random_secret(), random_secret());
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        use super::ProxyTrust;
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let trust = ProxyTrust::parse("127.0.0.1, 10.0.0.0/8, ::1").unwrap();
        // A client talking directly cannot choose its address.
        assert_eq!(trust.client(Some(ip("203.0.113.9")), ["1.2.3.4"].into_iter()), Some(ip("203.0.113.9")));
        // Through the proxy: the address it appended, past any the client wrote itself.
        assert_eq!(
            trust.client(Some(ip("127.0.0.1")), ["6.6.6.6, 198.51.100.7"].into_iter()),
            Some(ip("198.51.100.7"))
        );
        // Through two proxies of ours (10.x then this machine).
        assert_eq!(
            trust.client(Some(ip("127.0.0.1")), ["198.51.100.7, 10.1.2.3"].into_iter()),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(trust.client(Some(ip("::ffff:10.0.0.5")), std::iter::empty()), Some(ip("::ffff:10.0.0.5")));
        assert_eq!(trust.client(Some(ip("::1")), ["garbage"].into_iter()), Some(ip("::1")));
        assert!(ProxyTrust::parse("10.0.0.0/33").is_err() && ProxyTrust::parse("proxy.local").is_err());
        assert_eq!(ProxyTrust::default().client(Some(ip("127.0.0.1")), ["1.2.3.4"].into_iter()), Some(ip("127.0.0.1")));
    }
}
