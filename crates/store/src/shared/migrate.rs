//! The migration runner: applies this binary's migrations in order, each in its own transaction, and
//! stops the start when an applied one was edited afterwards (checksum).

use si_domain::EventData;
use sqlx::Row;

use super::rows::*;
use super::{Backend, DIALECT, MIGRATIONS};
use crate::{StoreError, StoreResult};

pub(super) async fn run(store: &Backend) -> StoreResult<()> {
    // Held on one connection of the pool for the whole run; the migrations use others.
    let mut lock = match DIALECT.migration_lock() {
        Some((take, _)) => {
            let mut conn = store.pool.acquire().await?;
            sqlx::query(take).execute(&mut *conn).await?;
            Some(conn)
        }
        None => None,
    };
    let result = apply(store).await;
    if let (Some(conn), Some((_, release))) = (lock.as_mut(), DIALECT.migration_lock()) {
        sqlx::query(release).execute(&mut **conn).await?;
    }
    result
}

async fn apply(store: &Backend) -> StoreResult<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT)",
    )
    .execute(&store.pool)
    .await?;
    // Databases migrated before checksums were kept: the column is added, and each
    // applied migration's checksum recorded as this binary has it (trusted once).
    if sqlx::query("SELECT checksum FROM schema_migrations LIMIT 1").fetch_optional(&store.pool).await.is_err() {
        sqlx::raw_sql("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT").execute(&store.pool).await?;
    }
    let rows = sqlx::query("SELECT version, name, checksum FROM schema_migrations").fetch_all(&store.pool).await?;
    let mut done: Vec<i64> = Vec::new();
    for r in &rows {
        let version: i64 = r.try_get("version")?;
        let recorded: Option<String> = r.try_get("checksum")?;
        done.push(version);
        let Some(m) = MIGRATIONS.iter().find(|m| m.version == version) else { continue };
        match recorded {
            None => {
                sqlx::query("UPDATE schema_migrations SET checksum = $1 WHERE version = $2")
                    .bind(m.checksum())
                    .bind(version)
                    .execute(&store.pool)
                    .await?;
            }
            Some(recorded) if recorded != m.checksum() => {
                return Err(StoreError::EditedMigration { name: m.name.to_string(), recorded, current: m.checksum() });
            }
            Some(_) => {}
        }
    }
    for m in MIGRATIONS {
        if done.contains(&m.version) {
            continue;
        }
        let mut tx = store.write_tx().await?;
        sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum())
            .execute(&mut *tx)
            .await?;
        if crate::migrate::REINDEX_AFTER.contains(&m.version) {
            let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM events").fetch_all(&mut *tx).await?;
            for id in ids {
                let data: String =
                    sqlx::query_scalar("SELECT data FROM events WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
                let data: EventData = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                write_index(&mut tx, id, &data).await?;
            }
        }
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "migration applied");
    }
    Ok(())
}
