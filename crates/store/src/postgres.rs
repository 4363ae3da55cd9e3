//! The PostgreSQL backend, for deployments that outgrow one file. Rows being decided are locked with
//! `FOR UPDATE`.

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Transaction};

/// PostgreSQL store.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to a `postgres://` URL.
    pub async fn connect(url: &str) -> Result<PgStore, sqlx::Error> {
        // A request waits at most a few seconds for a connection: when the database is down or
        // saturated it answers 503 at once instead of hanging (sqlx's default is 30 s).
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(crate::ACQUIRE_TIMEOUT).connect(url).await?;
        Ok(PgStore { pool })
    }

    /// A store whose connections are opened when first needed (tests of an unreachable database).
    pub fn connect_lazy(url: &str) -> Result<PgStore, sqlx::Error> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(crate::ACQUIRE_TIMEOUT).connect_lazy(url)?;
        Ok(PgStore { pool })
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

pub(crate) type Backend = PgStore;
pub(crate) type Db = Postgres;
pub(crate) type DbRow = PgRow;
pub(crate) const DIALECT: crate::sql::Dialect = crate::sql::Dialect::Postgres;
pub(crate) const MIGRATIONS: &[crate::migrate::Migration] = crate::migrate::POSTGRES;

/// The store's methods (`src/shared/`), compiled for this backend.
// Compiled once per backend on purpose (see `shared/mod.rs`).
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;
