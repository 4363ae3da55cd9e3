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
            .foreign_keys(true);
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
