//! A connection pool that costs no extra round trip per request.
//!
//! sqlx's pool pings every connection when it returns to the pool (sqlx-core 0.8), which doubles
//! the round trips of a one-statement request. This pool trusts a connection that finished its
//! work instead, and never one that did not:
//! - a [`Lease`] goes back to the pool only through [`Lease::release`], called after its work
//!   succeeded; an error, a cancelled request or a panic drops the lease and closes the
//!   connection, so a broken or half-used connection is never handed out again;
//! - a connection idle for longer than [`IDLE_CHECK`] is pinged before it is handed out (a server
//!   restart breaks idle connections);
//! - at most `max_connections` are open; waiting for one is bounded by the acquire timeout, after
//!   which storage counts as unavailable. New connections open on demand, so the pool recovers by
//!   itself when the server comes back.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Idle connections older than this are pinged before use.
pub const IDLE_CHECK: Duration = Duration::from_secs(10);

struct Inner {
    options: PgConnectOptions,
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    permits: Arc<Semaphore>,
    open: AtomicU32,
    closed: AtomicBool,
    acquire_timeout: Duration,
}

/// The pool. Cloning shares it.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("open", &self.size())
            .field("idle", &self.num_idle())
            .finish()
    }
}

impl Pool {
    /// A pool of at most `max` connections opened with `options`; none is opened yet.
    pub fn new(options: PgConnectOptions, max: u32, acquire_timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(max.max(1) as usize)),
                open: AtomicU32::new(0),
                closed: AtomicBool::new(false),
                acquire_timeout,
            }),
        }
    }

    /// A connection for one unit of work.
    ///
    /// # Errors
    /// `PoolTimedOut` when none frees up or opens within the acquire timeout, `PoolClosed` after
    /// [`Pool::close`], or the error of opening a new connection.
    pub async fn acquire(&self) -> Result<Lease, sqlx::Error> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        let deadline = Instant::now() + inner.acquire_timeout;
        let permit =
            tokio::time::timeout(inner.acquire_timeout, inner.permits.clone().acquire_owned())
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)?
                .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let idle = inner
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some((mut conn, since)) = idle else { break };
            if since.elapsed() < IDLE_CHECK || conn.ping().await.is_ok() {
                return Ok(self.lease(conn, permit));
            }
            inner.open.fetch_sub(1, Ordering::AcqRel);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let conn = tokio::time::timeout(remaining, PgConnection::connect_with(&inner.options))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        inner.open.fetch_add(1, Ordering::AcqRel);
        Ok(self.lease(conn, permit))
    }

    fn lease(&self, conn: PgConnection, permit: OwnedSemaphorePermit) -> Lease {
        Lease {
            conn: Some(conn),
            pool: self.inner.clone(),
            _permit: permit,
            keep: false,
        }
    }

    /// Open connections.
    pub fn size(&self) -> u32 {
        self.inner.open.load(Ordering::Acquire)
    }

    /// Idle connections.
    pub fn num_idle(&self) -> usize {
        self.inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Refuses new work and closes the idle connections; leases still out close when dropped.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.permits.close();
        let idle: Vec<_> = std::mem::take(
            &mut *self
                .inner
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for (conn, _) in idle {
            self.inner.open.fetch_sub(1, Ordering::AcqRel);
            let _ = conn.close().await;
        }
    }
}

/// A connection lent for one unit of work. Dereferences to the connection.
pub struct Lease {
    conn: Option<PgConnection>,
    pool: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
    keep: bool,
}

impl Lease {
    /// Returns the connection to the pool: its work finished and it is ready for more.
    pub fn release(mut self) {
        self.keep = true;
    }
}

impl std::ops::Deref for Lease {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl std::ops::DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if self.keep && !self.pool.closed.load(Ordering::Acquire) {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((conn, Instant::now()));
            return;
        }
        self.pool.open.fetch_sub(1, Ordering::AcqRel);
        // Close politely when a runtime is there to do it; otherwise dropping closes the socket.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = conn.close().await;
            });
        }
    }
}
