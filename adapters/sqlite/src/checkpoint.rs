//! Checkpoints off the writing connection's path.
//!
//! In WAL mode a commit appends the pages it changed to the `-wal` file. A checkpoint copies them
//! back into the database file and syncs both files; once every page is copied, the next write
//! starts the WAL over from its beginning. SQLite runs the checkpoint itself on the connection
//! that committed, when the WAL has passed 1,000 pages (`wal_autocheckpoint`), so here the one
//! writing connection did it, and every update queued behind that commit waited for the copy and
//! the two syncs.
//!
//! A [`Checkpointer`] does most of that copying on a thread and a connection of its own: after
//! each use of the writing connection it is nudged, and it runs a `PASSIVE` checkpoint; nudges
//! that come while one runs make one more after it. `PASSIVE` copies what no reader still needs
//! and never waits for a reader or the writer, nor makes either wait: the writer goes on appending
//! while it copies. Checkpoints back to back measured best: waiting 5, 20 or 100 ms between two,
//! to copy a page written several times once, was slower and let the WAL grow further
//! (`docs/benchmarks.md`). When writes are rare, each is followed by its own checkpoint, which
//! syncs both files, off the request's path.
//!
//! The writing connection keeps SQLite's automatic checkpoint: at a commit, once the WAL has
//! passed 1,000 pages, it copies what the background has left (little) and the next write starts
//! the WAL over. That is what keeps the WAL short under writes without pause, since a background
//! checkpoint copies only what was committed before it began, and the writer appends more
//! meanwhile. But the automatic checkpoint gives up at once when another one holds the lock, and
//! with background checkpoints back to back that could happen at every commit (on a disk slower
//! to sync than the writer's batches), so the WAL would grow for as long as the writes go on.
//! Hence the writer's turn: when a background checkpoint finds the WAL at [`RESTART_MARK`] pages
//! or more, the thread pauses, and when the writing connection next goes back to its pool it
//! checkpoints what is left with no other checkpoint of this process to meet
//! ([`Checkpointer::after_write`]); the write after it starts the WAL over (unless a reader still
//! reads pages of the old WAL: then the next turn tries again). Only then does the thread go on.
//! A turn at 1,000 pages, where SQLite's own checkpoint mostly succeeds, cost list writes 4-11 %;
//! at 2,000 or 4,000 pages nothing measurable.
//!
//! What is written does not change, nor does any row a reader sees, and no commit becomes durable
//! later than before: `synchronous = NORMAL` syncs the WAL at each checkpoint, which now comes
//! sooner after a commit.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
#[cfg(test)]
use std::time::{Duration, Instant};

use rusqlite::Connection;
use sqlx::SqliteConnection;

/// When a background checkpoint finds this many pages in the WAL or more (8 MiB of 4 KiB pages),
/// the writing connection takes its turn (the module's documentation).
pub(crate) const RESTART_MARK: i64 = 2000;

/// The thread that checkpoints one SQLite file.
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// [`RESTART_MARK`], but in tests.
    restart_mark: i64,
}

#[derive(Default)]
struct State {
    /// The writing connection was used since the last checkpoint began.
    pending: bool,
    /// The last background checkpoint found the WAL at [`RESTART_MARK`] pages or more: the
    /// writing connection checkpoints next, and the thread waits for it.
    writer_turn: bool,
    closed: bool,
    /// Checkpoints run, whatever their outcome.
    runs: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Checkpointer")
            .field("runs", &state.runs)
            .field("writer_turn", &state.writer_turn)
            .field("closed", &state.closed)
            .finish_non_exhaustive()
    }
}

impl Checkpointer {
    /// A checkpointer whose thread is not started yet: nudges wait for [`Checkpointer::start`].
    /// The writing connection takes its turn at `restart_mark` pages ([`RESTART_MARK`]).
    pub(crate) fn new(restart_mark: i64) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
                restart_mark,
            }),
            thread: Mutex::new(None),
        }
    }

    /// Starts the thread, which checkpoints on `conn` (a connection to the file, in WAL mode)
    /// after each [`Checkpointer::nudge`].
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub(crate) fn start(&self, conn: Connection) -> std::io::Result<()> {
        let thread = std::thread::Builder::new()
            .name("iam-sqlite-checkpoint".into())
            .spawn({
                let shared = Arc::clone(&self.shared);
                move || run(&conn, &shared)
            })?;
        *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(thread);
        Ok(())
    }

    /// Tells the thread that the writing connection was used: it checkpoints now, or after the
    /// checkpoint it is running. Nudges in between make one checkpoint.
    pub(crate) fn nudge(&self) {
        let mut state = self.shared.lock();
        if !state.pending {
            state.pending = true;
            self.shared.changed.notify_all();
        }
    }

    /// What the writing connection does each time it goes back to its pool. When the thread has
    /// given it its turn, it checkpoints on `conn` (no other checkpoint of this process runs
    /// meanwhile), lets the thread go on, and returns SQLite's answer: the pages in the WAL and
    /// the pages copied back. Otherwise it nudges the thread and returns `None`.
    pub(crate) async fn after_write(&self, conn: &mut SqliteConnection) -> Option<(i64, i64)> {
        if !self.shared.lock().writer_turn {
            self.nudge();
            return None;
        }
        let answer = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(conn)
            .await
            .map(|(_busy, wal, copied): (i64, i64, i64)| (wal, copied));
        let mut state = self.shared.lock();
        state.writer_turn = false;
        state.pending = true;
        self.shared.changed.notify_all();
        drop(state);
        answer
            .map_err(
                |e| tracing::warn!(error = %e, "the writing connection's SQLite checkpoint failed"),
            )
            .ok()
    }

    /// Stops the thread, waiting for the checkpoint it is running if any, and closes its
    /// connection.
    pub(crate) fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            if thread.join().is_err() {
                tracing::error!("the SQLite checkpoint thread panicked");
            }
        }
    }

    /// Waits until the thread has run `runs` checkpoints in all, or `timeout` has passed; true
    /// when it has.
    #[cfg(test)]
    pub(crate) fn wait_for_runs(&self, runs: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.runs < runs {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Checkpoints run so far.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> u64 {
        self.shared.lock().runs
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.close();
    }
}

fn run(conn: &Connection, shared: &Shared) {
    let mut failing = false;
    loop {
        {
            let mut state = shared.lock();
            while (!state.pending || state.writer_turn) && !state.closed {
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
            if state.closed {
                return;
            }
            state.pending = false;
        }
        let long = match checkpoint(conn) {
            Ok(wal) => {
                if failing {
                    failing = false;
                    tracing::info!("background SQLite checkpoints succeed again");
                }
                wal >= shared.restart_mark
            }
            Err(e) => {
                if !failing {
                    failing = true;
                    tracing::warn!(error = %e, "a background SQLite checkpoint failed; the \
                        writing connection's own checkpoints still bound the WAL");
                } else {
                    tracing::debug!(error = %e, "a background SQLite checkpoint failed again");
                }
                false
            }
        };
        let mut state = shared.lock();
        state.runs += 1;
        state.writer_turn = long;
        shared.changed.notify_all();
    }
}

/// One `PASSIVE` checkpoint: the pages in the WAL, by SQLite's answer (-1 when another
/// connection held the checkpoint lock: the writer's automatic checkpoint, another process's).
fn checkpoint(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;
    use std::path::Path;

    /// A WAL-mode file with a table `t`, and its writing connection, whose own automatic
    /// checkpoint is off: only the background thread checkpoints.
    fn file(name: &str) -> (Scratch, Connection) {
        Scratch::wal(
            &format!("checkpoint-{name}"),
            "PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (v BLOB NOT NULL);",
        )
    }

    /// `n` commits of one 4 KiB value each: at least one new page per commit.
    fn write(writer: &Connection, n: usize) {
        for _ in 0..n {
            writer
                .execute("INSERT INTO t VALUES (zeroblob(4096))", [])
                .unwrap();
        }
    }

    fn wal_len(path: &Path) -> u64 {
        std::fs::metadata(path.with_extension("db-wal"))
            .unwrap()
            .len()
    }

    /// Once the thread has copied the WAL back, the next commits start the WAL over from its
    /// beginning instead of growing it, and a reader sees every commit, before and after.
    #[test]
    fn a_background_checkpoint_lets_the_wal_start_over() {
        let (path, writer) = file("restart");
        let checkpoints = Checkpointer::new(1000);
        checkpoints
            .start(Connection::open(&*path).unwrap())
            .unwrap();
        write(&writer, 60);
        let grown = wal_len(&path);
        assert!(grown > 60 * 4096, "{grown}");
        checkpoints.nudge();
        assert!(checkpoints.wait_for_runs(1, Duration::from_secs(10)));
        write(&writer, 20);
        assert_eq!(wal_len(&path), grown, "the WAL started over");
        let reader = Connection::open(&*path).unwrap();
        let count: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 80);
        checkpoints.close();
    }

    /// Once a background checkpoint has found the WAL at the mark or more, the thread starts no
    /// checkpoint until the writing connection has had its turn; that turn copies every page
    /// left (here those written while the thread waited), and the next write starts the WAL
    /// over.
    #[tokio::test]
    async fn a_long_wal_is_the_writers_turn_and_then_starts_over() {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
        use sqlx::ConnectOptions;

        let (path, _setup) = file("turn");
        let mut writer = SqliteConnectOptions::new()
            .filename(&*path)
            .journal_mode(SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", "0")
            .connect()
            .await
            .unwrap();
        let insert = |n: usize| {
            format!("INSERT INTO t SELECT zeroblob(4096) FROM ({})", {
                vec!["SELECT 1"; n].join(" UNION ALL ")
            })
        };
        for _ in 0..100 {
            sqlx::query(&insert(10)).execute(&mut writer).await.unwrap();
        }
        let checkpoints = Checkpointer::new(1000);
        checkpoints.nudge();
        checkpoints
            .start(Connection::open(&*path).unwrap())
            .unwrap();
        assert!(checkpoints.wait_for_runs(1, Duration::from_secs(10)));
        assert!(checkpoints.shared.lock().writer_turn, "over 1,000 pages");

        sqlx::query(&insert(50)).execute(&mut writer).await.unwrap();
        checkpoints.nudge();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(checkpoints.runs(), 1, "the thread waits for the writer");

        let (wal, copied) = checkpoints.after_write(&mut writer).await.unwrap();
        assert!(wal > 50, "{wal}: the pages written while the thread waited");
        assert_eq!(copied, wal, "the writer's turn copied every page");
        assert!(checkpoints.wait_for_runs(2, Duration::from_secs(10)));
        sqlx::query(&insert(5)).execute(&mut writer).await.unwrap();
        let reader = Connection::open(&*path).unwrap();
        let now: i64 = reader
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get(1))
            .unwrap();
        assert!(now < wal, "{now}: the WAL started over");
        let count: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 1055);
        checkpoints.close();
    }

    /// Nudges that come before the thread can run make one checkpoint, not one each, and a
    /// nudge after it makes the next.
    #[test]
    fn nudges_in_between_make_one_checkpoint() {
        let (path, writer) = file("between");
        let checkpoints = Checkpointer::new(1000);
        for _ in 0..10 {
            write(&writer, 1);
            checkpoints.nudge();
        }
        checkpoints
            .start(Connection::open(&*path).unwrap())
            .unwrap();
        assert!(checkpoints.wait_for_runs(1, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(checkpoints.runs(), 1);
        checkpoints.nudge();
        assert!(checkpoints.wait_for_runs(2, Duration::from_secs(10)));
        checkpoints.close();
    }

    /// Closing ends the thread, and no nudge runs a checkpoint after it.
    #[test]
    fn close_ends_the_thread() {
        let (path, _writer) = file("close");
        let checkpoints = Checkpointer::new(1000);
        checkpoints
            .start(Connection::open(&*path).unwrap())
            .unwrap();
        checkpoints.nudge();
        assert!(checkpoints.wait_for_runs(1, Duration::from_secs(10)));
        checkpoints.close();
        assert!(checkpoints.thread.lock().unwrap().is_none());
        checkpoints.nudge();
        assert!(!checkpoints.wait_for_runs(2, Duration::from_millis(200)));
    }
}
