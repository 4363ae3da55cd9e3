//! The PostgreSQL backend, for deployments that outgrow one file. Rows being decided are locked with
//! `FOR UPDATE`.

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Transaction};

use crate::backend::impl_store;
use crate::migrate::POSTGRES;

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

impl_store!(PgStore, PgRow, POSTGRES, " FOR UPDATE", crate::backend::Dialect::Postgres);
