//! # iam-sqlite: the embedded default store
//!
//! [`SqliteStore`] implements the same ports as the PostgreSQL store (`UserDetailsRepository`
//! and `FigureFacts`) on a local SQLite file,
//! created and migrated on first start, so the service runs on a machine with no database server.
//! Same semantics, proved by the same contract suite (`tests/`).
//!
//! SQLite allows one writer at a time. Writes go through sqlx's pool of one connection, so they
//! queue in the process instead of failing with `SQLITE_BUSY`, and concurrent updates share its
//! statements ([`iam_batch`]). Reads use their own connections ([`reader`]: rusqlite's, run on
//! the calling thread) and, in WAL mode, never wait for the writer. A thread of its own copies the
//! WAL back into the file ([`checkpoint`]), so the writer seldom does. A read of a profile is one
//! statement (the row with its cached list entries, and its cached figure facts with the rank
//! count), so it sees one state. The caches are kept by triggers (the migrations).

mod checkpoint;
mod facts;
mod reader;
#[cfg(test)]
mod scratch;
mod store;
mod update_batch;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::checkpoint::Checkpointer;
use crate::reader::Readers;

/// Each connection's page cache: 512 KiB (`PRAGMA cache_size`, negative is KiB; SQLite's default
/// is 2,000 KiB). SQLite allocates it with the C allocator, in an arena per thread that keeps
/// what it once held, so the default cost ~3 MiB of resident memory per connection at peak; the
/// operating system's file cache serves the pages a smaller cache misses. Measured: peak RSS
/// under the benchmark's lines 38-39 -> 29-30 MiB at the same speed, and again with the readers
/// on the HTTP workers' threads: 2,000 KiB no faster, +6.5 MiB (`docs/benchmarks.md`).
const PAGE_CACHE: &str = "-512";

/// The embedded migrations of the SQLite schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The user-details store on an SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    readers: Arc<Readers>,
    writer: SqlitePool,
    /// Nudged each time the writing connection goes back to its pool.
    checkpoints: Arc<Checkpointer>,
    /// The lane of updates ([`iam_batch`]): with sqlx, each statement is a hand-off to the
    /// connection's worker thread and back, and a batch pays it once for every update waiting at
    /// that moment.
    updates: Arc<update_batch::UpdateLanes>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("readers", &self.readers)
            .field("writer", &self.writer)
            .field("checkpoints", &self.checkpoints)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` (`sqlite:path` or `sqlite://path`),
    /// keeping up to `readers` reading connections idle. The file's folder must exist.
    ///
    /// # Errors
    /// When the URL is invalid or names an in-memory database (the reading and writing
    /// connections must share one file), its folder does not exist, or the file cannot be
    /// created or opened.
    pub async fn open(url: &str, readers: u32) -> Result<Self, sqlx::Error> {
        if is_in_memory(url) {
            return Err(sqlx::Error::Configuration(
                "an in-memory SQLite database cannot be shared by the reading and writing \
                 connections: name a file"
                    .into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(reader::BUSY_TIMEOUT)
            .pragma("cache_size", PAGE_CACHE)
            // A statement that changes several rows inside a batch's transaction keeps the pages
            // it changes in a statement journal, to undo it alone; past 64 KiB SQLite spills that
            // journal to a temporary file (in `TMPDIR`, else `/var/tmp`), created, written and
            // deleted per statement. In memory it costs no file and no system call: writes
            // +2-13 %, peak RSS +0.6-2.3 MiB (`docs/benchmarks.md`). Only the writer uses these
            // options; the readers set their own pragmas.
            .pragma("temp_store", "memory");
        if let Some(dir) = options.get_filename().parent() {
            if !dir.as_os_str().is_empty() && !Path::new(dir).is_dir() {
                return Err(sqlx::Error::Configuration(
                    format!("the folder {} does not exist", dir.display()).into(),
                ));
            }
        }
        let checkpoints = Arc::new(Checkpointer::new(checkpoint::RESTART_MARK));
        let nudge = Arc::downgrade(&checkpoints);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .after_release(move |conn, _| {
                let checkpoints = nudge.upgrade();
                Box::pin(async move {
                    if let Some(checkpoints) = checkpoints {
                        checkpoints.after_write(conn).await;
                    }
                    Ok(true)
                })
            })
            .connect_with(options.clone())
            .await?;
        let keep = usize::try_from(readers).unwrap_or(usize::MAX);
        let path = options.get_filename().to_path_buf();
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(configuration)?;
        checkpoints.start(conn).map_err(configuration)?;
        let readers = Readers::open(path, PAGE_CACHE, keep).map_err(configuration)?;
        Ok(Self {
            readers: Arc::new(readers),
            writer,
            checkpoints,
            updates: Arc::new(iam_batch::update_lanes(1)),
        })
    }

    /// Applies the pending migrations.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.writer).await
    }

    /// Closes the writing connection, the checkpoint thread and the idle reading connections.
    pub async fn close(&self) {
        self.writer.close().await;
        self.checkpoints.close();
        self.readers.close();
    }

    /// Connections open and idle: (reading, writing).
    pub fn pool_usage(&self) -> [(u32, usize); 2] {
        [
            self.readers.usage(),
            (self.writer.size(), self.writer.num_idle()),
        ]
    }
}

/// A failure to open the store's own connections or thread, as sqlx's error.
fn configuration(e: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Configuration(Box::new(e))
}

/// True when `url` names an in-memory database (`sqlite::memory:`, or `mode=memory`).
fn is_in_memory(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (database, query) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || query.split('&').any(|p| p == "mode=memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    #[test]
    fn in_memory_urls_are_told_apart_from_files() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite:x.db?mode=memory",
        ] {
            assert!(is_in_memory(url), "{url}");
        }
        for url in [
            "sqlite:x.db",
            "sqlite://data/iam.db?mode=rwc",
            "sqlite:memory.db",
        ] {
            assert!(!is_in_memory(url), "{url}");
        }
    }

    /// A store on a new file, which goes with its folder when the first is dropped.
    async fn store(name: &str) -> (Scratch, SqliteStore) {
        let (file, _) = Scratch::wal(name, "");
        let url = format!("sqlite://{}", file.display());
        let store = SqliteStore::open(&url, 1).await.unwrap();
        (file, store)
    }

    /// The writing connection keeps its statement journals in memory (the reason in
    /// [`SqliteStore::open`]), and the page cache of every connection.
    #[tokio::test]
    async fn the_writer_keeps_temporary_data_in_memory() {
        let (_file, store) = store("pragmas").await;
        let mut conn = store.writer.acquire().await.unwrap();
        let temp_store: i64 = sqlx::query_scalar("PRAGMA temp_store")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let cache_size: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        store.close().await;
        assert_eq!(temp_store, 2, "2 is MEMORY");
        assert_eq!(cache_size.to_string(), PAGE_CACHE);
    }

    /// Each use of the writing connection nudges the checkpoint thread, which then runs; the
    /// writer keeps SQLite's automatic checkpoint as the backstop ([`checkpoint`]).
    #[tokio::test]
    async fn the_writer_nudges_the_checkpoint_thread_and_keeps_its_backstop() {
        let (_file, store) = store("nudge").await;
        store.migrate().await.unwrap();
        // The pool nudges in a task of its own when a connection comes back: wait without
        // holding this (single) runtime thread.
        let runs_reach = |n| {
            let checkpoints = Arc::clone(&store.checkpoints);
            async move {
                for _ in 0..1000 {
                    if checkpoints.runs() >= n {
                        return true;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                false
            }
        };
        let ran = runs_reach(1).await;
        let before = store.checkpoints.runs();
        let mut conn = store.writer.acquire().await.unwrap();
        let backstop: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        let ran_again = runs_reach(before + 1).await;
        store.close().await;
        assert!(ran, "the migration's writes were checkpointed");
        assert!(ran_again, "a later use of the writer was too");
        assert_eq!(backstop, 1000);
    }

    /// The reading connections open the file by name, so an in-memory database (one per
    /// connection) would read nothing the writer wrote: refused with the reason.
    #[tokio::test]
    async fn an_in_memory_database_is_refused() {
        let refused = SqliteStore::open("sqlite::memory:", 2).await;
        let error = refused.unwrap_err().to_string();
        assert!(error.contains("name a file"), "{error}");
    }
}
