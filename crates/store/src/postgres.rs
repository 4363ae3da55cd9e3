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
        let pool = PgPoolOptions::new().max_connections(16).connect(url).await?;
        Ok(PgStore { pool })
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

impl_store!(PgStore, PgRow, POSTGRES, " FOR UPDATE", crate::backend::Dialect::Postgres);
