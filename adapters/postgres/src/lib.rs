//! # iam-postgres: the production store
//!
//! [`PgStore`] implements the [`UserDetailsRepository`](iam_ports::UserDetailsRepository) and
//! [`FigureFacts`](iam_ports::FigureFacts) ports on PostgreSQL with sqlx. The schema lives
//! in `migrations/` (one file, embedded as [`MIGRATOR`]) and is described in `docs/storage.md`.
//!
//! - Reading one user's whole stored profile (details, the four lists with their catalogue
//!   entries, and the facts the figures are computed from) is one statement, so one round trip
//!   ([`mod@read`]). The store computes no figure: the use case does, with the domain's rules.
//! - An update is one statement that writes only the changed fields, lists included, and reads
//!   the profile back (`UPDATE … RETURNING` feeding the same read, [`mod@update_batch`]); a create
//!   is one transaction (`repository.rs`, which implements the port: its reads and its writes).
//! - Concurrent reads by user id, and concurrent updates of any fields of different users, share
//!   statements ([`iam_batch`]: the lanes and their protocol; `Batching` holds them).
//! - Catalogue names are added race-free: `INSERT … ON CONFLICT DO NOTHING`, then a fresh read for
//!   the names another transaction added meanwhile (a create), or the update once more (an
//!   update).
//! - Connection failures map to the ports' `Unavailable`; the pool opens new connections by itself
//!   once the server is back ([`mod@errors`]).

mod errors;
mod facts;
pub mod pool;
mod read;
mod repository;
mod update_batch;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;

use crate::pool::Pool;

pub use errors::is_unavailable;

/// The embedded migrations of the PostgreSQL schema.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How to open the pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// How long a request waits for a connection before storage counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// How many batched reads of one kind run at once. Few lanes make large batches: on the 2-core
/// benchmark machine, 1–2 lanes served 18–20k GET/s where 4 served 14–17k and 8 served 11k
/// (`docs/benchmarks.md`); two keep one slow statement from stalling every read.
const READ_LANES: usize = 2;

/// How many update batches run at once. Each batch is a transaction that commits only after its
/// rows were read back whole ([`update_batch::run`]), so a batch waits for two more round trips
/// than one statement would; a second lane runs the next batch meanwhile. Measured on the 2-core
/// machine: PATCH bio 6,400–8,000 req/s with one lane, 8,000–9,700 with two (`docs/benchmarks.md`).
/// Batches on two lanes cannot deadlock each other: each locks its rows in user id order.
const UPDATE_LANES: usize = 2;

/// The user-details store on PostgreSQL.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    batching: Arc<Batching>,
}

/// The lanes of the statements concurrent requests share ([`iam_batch`]): reads of a whole
/// profile and of the details alone by user id, reads of how two users follow each other, and
/// updates.
struct Batching {
    profile_reads: read::ReadLanes,
    detail_reads: read::ReadLanes,
    relation_reads: facts::RelationLanes,
    updates: update_batch::UpdateLanes,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Opens a pool on `url` without connecting yet: the service starts even while the database is
    /// down, and connects when it comes back.
    ///
    /// # Errors
    /// When `url` is not a valid PostgreSQL URL.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.parse()?;
        let options = options.application_name("iam-user-details");
        let pool = Pool::new(options, settings.max_connections, settings.acquire_timeout);
        let batching = Arc::new(Batching {
            profile_reads: iam_batch::read_lanes(READ_LANES),
            detail_reads: iam_batch::read_lanes(READ_LANES),
            relation_reads: iam_batch::read_lanes(READ_LANES),
            updates: iam_batch::update_lanes(UPDATE_LANES),
        });
        Ok(Self { pool, batching })
    }

    /// Applies the pending migrations.
    ///
    /// # Errors
    /// When the database cannot be reached or a migration fails.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        let mut lease = self.pool.acquire().await?;
        MIGRATOR.run(&mut *lease).await?;
        lease.release();
        Ok(())
    }

    /// The pool, for metrics and shutdown.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}
