//! Use cases: one function per thing a person does, between HTTP (site pages and API, which parse
//! and render) and the store. The site's pages and the API call the same functions, so they cannot
//! disagree. A use case takes [`Deps`] — the store, the clock, the letters and the public view it may
//! have to refresh — never the whole application state.

pub mod accounts;
pub mod bookings;
pub mod moderation;
pub mod queue;

use si_domain::Edition;
use si_store::{DynStore, StoreResult};

use crate::cache::Caches;
use crate::catalogue::Catalogue;
use crate::clock::Clock;
use crate::notify::Letters;

/// What the use cases may touch.
pub struct Deps<'a> {
    /// The store.
    pub store: &'a DynStore,
    /// The time rules are judged at.
    pub clock: &'a dyn Clock,
    /// Letters to the people concerned.
    pub letters: &'a Letters,
    /// Public answers kept in memory.
    pub caches: &'a Caches,
    /// The in-memory catalogue index.
    pub catalogue: &'a Catalogue,
    /// The public directories (SIRET, UAI).
    pub directories: &'a crate::directory::Directories,
}

impl Deps<'_> {
    /// What the public sees has changed (a label, a change accepted, a status, a revocation): drop
    /// the answers kept in memory and rebuild the catalogue index.
    pub fn public_changed(&self) {
        self.caches.clear();
        self.catalogue.invalidate();
    }
}

/// The edition the public looks at by default: the newest with labelled events, else the newest.
pub async fn public_edition(store: &DynStore) -> StoreResult<Option<Edition>> {
    let editions = store.editions().await?;
    let newest = store.newest_labelled_edition().await?;
    let with_labels = newest.and_then(|y| editions.iter().find(|e| e.year == y).cloned());
    Ok(with_labels.or_else(|| editions.into_iter().next()))
}

/// The edition open for submissions at `now`, if any (the newest one when several are).
pub async fn open_edition(store: &DynStore, now: chrono::DateTime<chrono::Utc>) -> StoreResult<Option<Edition>> {
    Ok(store.editions().await?.into_iter().find(|e| e.is_open_at(now)))
}

/// The message when no edition accepts submissions.
pub const NO_OPEN_EDITION: &str =
    "La labellisation n'est pas ouverte en ce moment : aucune édition n'accepte de dépôt.";
