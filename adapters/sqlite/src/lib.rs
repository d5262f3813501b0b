//! # iam-sqlite: the embedded default store
//!
//! [`SqliteStore`] implements the same ports as the PostgreSQL store (`UserDetailsRepository`
//! and `FigureFacts`) on a local SQLite file,
//! created and migrated on first start, so the service runs on a machine with no database server.
//! Same semantics, proved by the same contract suite (`tests/`).
//!
//! SQLite allows one writer at a time. Writes go through a pool of one connection, so they queue in
//! the process instead of failing with `SQLITE_BUSY`; reads use their own pool and, in WAL mode, never
//! wait for the writer. A read of a profile is one statement (the row, its lists and its figure
//! facts as JSON aggregates), so it sees one state and costs one trip to the connection's thread.

mod facts;
mod store;
mod update_batch;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// How many batched reads of one kind run at once.
const READ_LANES: usize = 2;

/// Each connection's page cache: 512 KiB (`PRAGMA cache_size`, negative is KiB; SQLite's default
/// is 2,000 KiB). SQLite allocates it with the C allocator, in an arena per connection thread that
/// keeps what it once held, so the default cost ~3 MiB of resident memory per connection at peak;
/// the operating system's file cache serves the pages a smaller cache misses. Measured: peak RSS
/// under the benchmark's lines 38-39 -> 29-30 MiB at the same speed (`docs/benchmarks.md`).
const PAGE_CACHE: &str = "-512";

/// The embedded migrations of the SQLite schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The user-details store on an SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    readers: SqlitePool,
    writer: SqlitePool,
    batching: Arc<Batching>,
}

/// The lanes of the statements concurrent requests share ([`iam_batch`]): reads of a whole profile
/// and of the details alone by user id, and updates of scalar fields. With sqlx, each statement is
/// a hand-off to the connection's worker thread and back; a batch pays it once for every request
/// waiting at that moment.
struct Batching {
    profile_reads: store::ReadLanes,
    detail_reads: store::ReadLanes,
    relation_reads: facts::RelationLanes,
    updates: update_batch::UpdateLanes,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("readers", &self.readers)
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` (`sqlite:path` or `sqlite://path`), with
    /// up to `readers` reading connections. The file's folder must exist.
    ///
    /// # Errors
    /// When the URL is invalid, its folder does not exist, or the file cannot be created or
    /// opened.
    pub async fn open(url: &str, readers: u32) -> Result<Self, sqlx::Error> {
        let lanes = usize::try_from(readers.max(1)).map_or(READ_LANES, |r| r.min(READ_LANES));
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("cache_size", PAGE_CACHE);
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() && !Path::new(dir).is_dir() {
                return Err(sqlx::Error::Configuration(
                    format!("the folder {} does not exist", dir.display()).into(),
                ));
            }
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        let batching = Arc::new(Batching {
            profile_reads: iam_batch::read_lanes(lanes),
            detail_reads: iam_batch::read_lanes(lanes),
            relation_reads: iam_batch::read_lanes(lanes),
            updates: iam_batch::update_lanes(),
        });
        Ok(Self {
            readers,
            writer,
            batching,
        })
    }

    /// Applies the pending migrations.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.writer).await
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.writer.close().await;
        self.readers.close().await;
    }

    /// Connections open and idle: (reading, writing).
    pub fn pool_usage(&self) -> [(u32, usize); 2] {
        [
            (self.readers.size(), self.readers.num_idle()),
            (self.writer.size(), self.writer.num_idle()),
        ]
    }
}
