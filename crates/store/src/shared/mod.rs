//! The store's implementation, written once and compiled once per backend: `sqlite.rs` and
//! `postgres.rs` each include this folder as a module (`#[path]`) after naming what differs —
//! [`Backend`] (the store type, with a `pool` and a `write_tx`), [`Db`] and [`DbRow`] (the sqlx driver),
//! [`DIALECT`] (the SQL fragments that differ, see [`crate::sql::Dialect`]) and [`MIGRATIONS`].
//! Why not generics over `sqlx::Database`: the bounds sqlx needs for `Encode`/`Decode` of every bound
//! type on every query make each signature longer than its body; two compilations of ordinary code
//! cost less to read, and the compiler checks both.

mod accounts;
mod bookings;
mod catalogue;
mod editions;
mod events;
mod migrate;
mod outbox;
mod rows;

use async_trait::async_trait;

pub(crate) use super::{Backend, DIALECT, Db, DbRow, MIGRATIONS};
use crate::{StoreError, StoreResult};

#[async_trait]
impl crate::Store for Backend {
    async fn migrate(&self) -> StoreResult<()> {
        migrate::run(self).await
    }

    async fn backup(&self, path: &str) -> StoreResult<()> {
        let Some(sql) = DIALECT.backup() else {
            return Err(StoreError::Conflict(
                "PostgreSQL: use pg_dump (or base backups with WAL archiving), see docs/OPERATIONS.md".into(),
            ));
        };
        if std::path::Path::new(path).exists() {
            return Err(StoreError::Conflict(format!("{path} exists already: a backup never overwrites a file")));
        }
        sqlx::query(sql).bind(path).execute(&self.pool).await?;
        Ok(())
    }

    fn pool_use(&self) -> crate::PoolUse {
        crate::PoolUse { open: self.pool.size(), idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX) }
    }

    async fn activity_since(&self, since: chrono::DateTime<chrono::Utc>) -> StoreResult<Vec<(String, u64)>> {
        use sqlx::Row;
        let rows = sqlx::query("SELECT action, COUNT(*) AS n FROM audit WHERE at >= $1 GROUP BY action")
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("action")?, r.try_get::<i64, _>("n")? as u64))).collect()
    }

    async fn pending_migrations(&self) -> StoreResult<usize> {
        let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations").fetch_all(&self.pool).await?;
        Ok(MIGRATIONS.iter().filter(|m| !done.contains(&m.version)).count())
    }
}
