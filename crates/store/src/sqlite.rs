//! The embedded default backend: one SQLite file, WAL mode, writes serialised with `BEGIN IMMEDIATE`
//! (a deferred transaction that upgrades to a write fails at once with "database is locked").

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

/// SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (and creates if missing) the database of a `sqlite://PATH` URL.
    pub async fn connect(url: &str) -> Result<SqliteStore, sqlx::Error> {
        let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Each connection keeps its own page cache (2 MB by default, 16 MB for the pool), on top
            // of the operating system's file cache that serves the same pages. 512 KiB each kept the
            // search throughput at 100,000 events and lowered a node's peak by 15 MB (BENCHMARKS.md).
            .pragma("cache_size", "-512");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(crate::ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}

/// Puts the SQLite database `backup` (a file written by [`Store::backup`]) in place of the one of
/// `url`, which no process may have open (stop the service first). The copy is checked (a SQLite
/// database with this platform's migrations, intact), written beside the target and renamed over
/// it, so that a failure midway leaves the old database whole.
pub async fn restore_sqlite(url: &str, backup: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let target = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .context("restore takes a SQLite DATABASE_URL; for PostgreSQL use pg_restore (docs/OPERATIONS.md)")?;
    let target = std::path::Path::new(target.split('?').next().unwrap_or(target));
    if !backup.is_file() {
        anyhow::bail!("no backup file at {}", backup.display());
    }
    let staged = target.with_extension("restoring");
    std::fs::copy(backup, &staged).with_context(|| format!("cannot copy {} next to the database", backup.display()))?;
    let check = async {
        let copy = SqliteStore::connect(&format!("sqlite://{}", staged.display())).await?;
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&copy.pool).await?;
        if ok != "ok" {
            anyhow::bail!("the backup is damaged: {ok}");
        }
        let pending =
            crate::Store::pending_migrations(&copy).await.context("the file is not a database of this platform")?;
        copy.pool.close().await;
        Ok::<usize, anyhow::Error>(pending)
    };
    let pending = match check.await {
        Ok(p) => p,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
        let _ = std::fs::remove_file(format!("{}{suffix}", staged.display()));
    }
    std::fs::rename(&staged, target)
        .with_context(|| format!("cannot put the backup in place of {}", target.display()))?;
    if pending > 0 {
        tracing::info!(pending, "the restored database predates this binary: its migrations run at the next start");
    }
    Ok(())
}

pub(crate) type Backend = SqliteStore;
pub(crate) type Db = Sqlite;
pub(crate) type DbRow = SqliteRow;
pub(crate) const DIALECT: crate::sql::Dialect = crate::sql::Dialect::Sqlite;
pub(crate) const MIGRATIONS: &[crate::migrate::Migration] = crate::migrate::SQLITE;

/// The store's methods (`src/shared/`), compiled for this backend.
// Compiled once per backend on purpose (see `shared/mod.rs`).
#[allow(clippy::duplicate_mod)]
#[path = "shared/mod.rs"]
mod shared;
