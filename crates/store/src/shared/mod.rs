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

    async fn analyze(&self) -> StoreResult<()> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
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

    async fn take_attempt(&self, key: &str, capacity: f64, per_second: f64, now: f64) -> StoreResult<Option<f64>> {
        // One statement: concurrent attempts on every node serialise on the row. The bucket is
        // refilled since `at` (never above capacity), then one attempt is taken; below 0 the attempt
        // is refused (and the bucket kept at -1 at most, so refusals do not pile up a debt).
        // Attempts racing on several threads or nodes read `now` in any order: time never runs
        // backwards for a bucket (no negative refill, `at` never moves back), or a late reader of an
        // earlier clock would find 0.99 tokens where one is whole.
        const REFILLED: &str = "CASE WHEN throttle.tokens + (CASE WHEN $3 > throttle.at THEN $3 - throttle.at ELSE 0.0 END) * $4 > $2 \
                                THEN $2 ELSE throttle.tokens + (CASE WHEN $3 > throttle.at THEN $3 - throttle.at ELSE 0.0 END) * $4 END";
        // The row also says when the bucket will be whole again, so that the sweep keeps only
        // buckets in use (`full_at`, the new tokens' deficit at the refill rate after the new `at`).
        let tokens = format!("CASE WHEN {REFILLED} - 1.0 < -1.0 THEN -1.0 ELSE {REFILLED} - 1.0 END");
        let at = "CASE WHEN $3 > throttle.at THEN $3 ELSE throttle.at END";
        let sql = format!(
            "INSERT INTO throttle (key, tokens, at, full_at) VALUES ($1, $2 - 1.0, $3, $3 + 1.0 / $4) \
             ON CONFLICT (key) DO UPDATE SET tokens = {tokens}, at = {at}, full_at = {at} + ($2 - ({tokens})) / $4 \
             RETURNING tokens"
        );
        let tokens: f64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .bind(capacity)
            .bind(now)
            .bind(per_second)
            .fetch_one(&self.pool)
            .await?;
        Ok((tokens < 0.0).then(|| (1.0 - tokens) / per_second))
    }

    async fn give_attempt(&self, key: &str, capacity: f64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE throttle SET tokens = CASE WHEN tokens + 1.0 > $2 THEN $2 ELSE tokens + 1.0 END WHERE key = $1",
        )
        .bind(key)
        .bind(capacity)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn forget_attempts(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM throttle WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    async fn sweep_attempts(&self, now: f64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM throttle WHERE full_at <= $1").bind(now).execute(&self.pool).await?.rows_affected())
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
