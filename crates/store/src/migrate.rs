//! A small migration runner over SQL files compiled into the binary: one folder per backend, applied
//! in order, each in its own transaction, recorded in `schema_migrations`. (sqlx's `migrate!` needs
//! its macros feature; this keeps a fresh clone building without it.)

/// One migration.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// The SHA-256 of its SQL, recorded when it is applied and compared at every start: an applied
    /// migration that was edited afterwards would leave databases with different schemas unseen.
    pub fn checksum(&self) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(self.sql.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }
}

macro_rules! migrations {
    ($dir:literal: $($version:literal => $name:literal),+ $(,)?) => {
        &[$(Migration { version: $version, name: $name, sql: include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")) },)+]
    };
}

/// The migrations after which every event's derived columns are recomputed in Rust (3: search and
/// coordinates; 5: the industry-signal flag of the queue; 10: the seats of the `places` filter).
pub(crate) const REINDEX_AFTER: &[i64] = &[3, 5, 10];

/// SQLite migrations.
pub(crate) const SQLITE: &[Migration] = migrations!("sqlite": 1 => "0001_initial", 2 => "0002_edition_2024", 3 => "0003_search_and_geo", 4 => "0004_catalogue_indexes", 5 => "0005_review", 6 => "0006_queue_indexes", 7 => "0007_trust", 8 => "0008_members", 9 => "0009_bookings", 10 => "0010_seat_columns", 11 => "0011_reports", 12 => "0012_public_changes", 13 => "0013_shared_throttle", 14 => "0014_moves", 15 => "0015_throttle_full");
/// PostgreSQL migrations (same versions, same meaning).
pub(crate) const POSTGRES: &[Migration] = migrations!("postgres": 1 => "0001_initial", 2 => "0002_edition_2024", 3 => "0003_search_and_geo", 4 => "0004_catalogue_indexes", 5 => "0005_review", 6 => "0006_queue_indexes", 7 => "0007_trust", 8 => "0008_members", 9 => "0009_bookings", 10 => "0010_seat_columns", 11 => "0011_reports", 12 => "0012_public_changes", 13 => "0013_shared_throttle", 14 => "0014_moves", 15 => "0015_throttle_full");
