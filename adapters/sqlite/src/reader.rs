//! Reads on the calling thread.
//!
//! sqlx runs every SQLite statement on a worker thread of its connection: a read is a hand-off to
//! that thread and back, and under load those thread switches were most of a read's cost (`perf`:
//! `finish_task_switch` the top symbol, `docs/benchmarks.md`). A read of one profile is a few
//! B-tree lookups in memory, shorter than the switch, so the reading connections here are
//! rusqlite's, and a read runs on the thread that asks for it, like any other short computation.
//!
//! What keeps that safe:
//! - In WAL mode a reader never waits for the writer. It waits for a lock only in rare moments
//!   (another process recovering the file after a crash or in exclusive locking mode, which the
//!   service never uses): SQLite retries on the calling thread then, up to the busy timeout, as
//!   its own WAL read does whatever the timeout (`docs/storage.md`, failure modes).
//! - Each read is one statement in autocommit mode, and a cached statement is reset when it is
//!   dropped, so a read sees every write committed before it started and holds no snapshot after
//!   it ended.
//! - Connections are opened when no idle one is left, so at most one per thread reading at that
//!   moment, and at most `keep` are kept idle.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::store::is_unavailable_code;

/// How long a connection, reading or writing, waits for a lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The reading connections of one SQLite file.
pub(crate) struct Readers {
    path: PathBuf,
    cache_size: &'static str,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
    /// Connections open (idle or reading).
    open: AtomicUsize,
    closed: AtomicBool,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("path", &self.path)
            .field("usage", &self.usage())
            .field("keep", &self.keep)
            .finish()
    }
}

/// A read's failure.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// SQLite's error.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The readers are closed.
    #[error("the reading connections are closed")]
    Closed,
}

impl ReadError {
    /// True when the database cannot be used now (a lock held past the busy timeout, the file
    /// cannot be opened, the store closed): the writing connection's rule.
    pub(crate) fn is_unavailable(&self) -> bool {
        match self {
            Self::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                is_unavailable_code(e.extended_code.into())
            }
            Self::Sqlite(_) => false,
            Self::Closed => true,
        }
    }
}

impl Readers {
    /// The readers of the file at `path`, keeping up to `keep` connections idle; one connection
    /// is opened now, so that a file that cannot be read fails here.
    pub(crate) fn open(
        path: PathBuf,
        cache_size: &'static str,
        keep: usize,
    ) -> Result<Self, rusqlite::Error> {
        let readers = Self {
            path,
            cache_size,
            idle: Mutex::new(Vec::new()),
            keep: keep.max(1),
            open: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        };
        let first = readers.connect()?;
        readers.put_back(first);
        Ok(readers)
    }

    fn connect(&self) -> Result<Connection, rusqlite::Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.pragma_update(None, "cache_size", self.cache_size)?;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(conn)
    }

    fn take(&self) -> Result<Connection, ReadError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(ReadError::Closed);
        }
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(conn) => Ok(conn),
            None => Ok(self.connect()?),
        }
    }

    fn put_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.keep && !self.closed.load(Ordering::Acquire) {
            idle.push(conn);
        } else {
            drop(idle);
            self.forget(conn);
        }
    }

    fn forget(&self, conn: Connection) {
        drop(conn);
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Connections open and idle.
    pub(crate) fn usage(&self) -> (u32, usize) {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).len();
        let open = self.open.load(Ordering::Relaxed);
        (u32::try_from(open).unwrap_or(u32::MAX), idle)
    }

    /// Closes the idle connections; reads asked from now on fail as [`ReadError::Closed`].
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        idle.into_iter().for_each(|conn| self.forget(conn));
    }

    /// Runs `read` on a reading connection, on this thread.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, ReadError> {
        let conn = self.take()?;
        let done = read(&conn);
        self.put_back(conn);
        Ok(done?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;
    use std::time::Instant;

    /// A WAL-mode file with one row in a table `t`.
    fn file(name: &str) -> Scratch {
        Scratch::wal(
            &format!("reader-{name}"),
            "CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (7);",
        )
        .0
    }

    fn count(conn: &Connection) -> Result<i64, rusqlite::Error> {
        conn.prepare_cached("SELECT sum(v) FROM t")?
            .query_row([], |row| row.get(0))
    }

    /// A read never waits for the writer and sees exactly what was committed before it began:
    /// not the writer's open transaction, and every commit before the next read, on the same
    /// (cached, reset) statement and connection.
    #[test]
    fn a_read_sees_the_last_commit_and_never_waits_for_the_writer() {
        let path = file("commit");
        let readers = Readers::open(path.to_path_buf(), "-512", 1).unwrap();
        let writer = Connection::open(&*path).unwrap();
        writer
            .execute_batch("BEGIN IMMEDIATE; UPDATE t SET v = 8;")
            .unwrap();
        let started = Instant::now();
        assert_eq!(readers.read(count).unwrap(), 7);
        assert!(started.elapsed() < BUSY_TIMEOUT, "the read did not wait");
        writer.execute_batch("COMMIT").unwrap();
        assert_eq!(readers.read(count).unwrap(), 8);
        writer.execute("UPDATE t SET v = 9", []).unwrap();
        assert_eq!(readers.read(count).unwrap(), 9);
        assert_eq!(readers.usage(), (1, 1), "one connection served every read");
    }

    /// Busy, locked and cannot-open failures (extended codes included) mean "not now", as on
    /// the writing connection; any other failure is unexpected.
    #[test]
    fn unavailable_is_the_writing_connections_rule() {
        let failure = |code| {
            ReadError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        for code in [5, 6, 14, 5 | (1 << 8), 6 | (1 << 8)] {
            assert!(failure(code).is_unavailable(), "{code}");
        }
        for code in [1, 10, 11, 19] {
            assert!(!failure(code).is_unavailable(), "{code}");
        }
        assert!(!ReadError::Sqlite(rusqlite::Error::QueryReturnedNoRows).is_unavailable());
        assert!(ReadError::Closed.is_unavailable());
    }

    /// At most `keep` connections stay open once reads are over, and closed readers refuse reads.
    #[test]
    fn idle_connections_are_bounded_and_close_ends_reads() {
        let path = file("keep");
        let readers = Readers::open(path.to_path_buf(), "-512", 1).unwrap();
        let first = readers.take().unwrap();
        let second = readers.take().unwrap();
        assert_eq!(readers.usage(), (2, 0));
        readers.put_back(first);
        readers.put_back(second);
        assert_eq!(readers.usage(), (1, 1));
        assert_eq!(readers.read(count).unwrap(), 7);
        readers.close();
        assert_eq!(readers.usage(), (0, 0));
        assert!(matches!(readers.read(count), Err(ReadError::Closed)));
    }
}
