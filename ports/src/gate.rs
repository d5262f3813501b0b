//! The point of no return of a write.
//!
//! A request that runs out of time is answered 503, which tells the client that nothing was
//! applied. So a write must never start after that answer, and a write that has started must be
//! answered with its outcome, however long it takes. The driving adapter runs each write inside
//! the scope of a [`WriteGate`]; a store calls [`start_write`] just before the first statement that
//! can change data (a write that a batching leader runs for another request is started with that
//! request's gate); the adapter's timeout calls [`WriteGate::close`], which succeeds only while the
//! write has not started.
//!
//! | state     | `try_start` (the store)           | `close` (the timeout)                      |
//! | --------- | --------------------------------- | ------------------------------------------ |
//! | `Open`    | becomes `Started`, true           | becomes `Closed`, true: answer 503         |
//! | `Started` | true                              | false: wait for the outcome, answer it     |
//! | `Closed`  | false: the write must not start   | true                                       |
//!
//! Outside any gate (tests, the CLI) every write may start.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const OPEN: u8 = 0;
const STARTED: u8 = 1;
const CLOSED: u8 = 2;

tokio::task_local! {
    static GATE: Arc<WriteGate>;
}

/// Whether one request's write may still start; see the module's table.
#[derive(Debug)]
pub struct WriteGate(AtomicU8);

impl WriteGate {
    /// An open gate.
    pub fn new() -> Arc<Self> {
        Arc::new(Self(AtomicU8::new(OPEN)))
    }

    /// Marks the write started; false when the gate was closed first.
    pub fn try_start(&self) -> bool {
        match self
            .0
            .compare_exchange(OPEN, STARTED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(now) => now == STARTED,
        }
    }

    /// Closes the gate so that the write never starts; false when it has started already.
    pub fn close(&self) -> bool {
        match self
            .0
            .compare_exchange(OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(now) => now == CLOSED,
        }
    }

    /// Runs `work` with this gate as the current task's gate.
    pub async fn scope<F: Future>(self: Arc<Self>, work: F) -> F::Output {
        GATE.scope(self, work).await
    }

    /// The current task's gate, for a store that hands the write to another task.
    pub fn current() -> Option<Arc<Self>> {
        GATE.try_with(Arc::clone).ok()
    }
}

/// For a store, just before a write's first statement: marks the current task's gate started.
/// Outside any gate every write may start.
///
/// # Errors
/// [`TimedOut`] when the gate was closed first: the write must not start. Every repository write
/// error converts from it (as `Unavailable`), so a store writes `start_write()?`.
pub fn start_write() -> Result<(), TimedOut> {
    if GATE.try_with(|gate| gate.try_start()).unwrap_or(true) {
        Ok(())
    } else {
        Err(TimedOut)
    }
}

/// The error a store returns when [`start_write`] refused: the request's time is up and it has
/// been (or is being) answered 503, so nothing was written.
#[derive(Debug, thiserror::Error)]
#[error("the request ran out of time before its write started; nothing was written")]
pub struct TimedOut;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gate_closed_first_never_starts() {
        let gate = WriteGate::new();
        assert!(gate.close());
        assert!(!gate.try_start());
        assert!(gate.close(), "closing twice is still closed");
    }

    #[test]
    fn a_started_write_cannot_be_closed() {
        let gate = WriteGate::new();
        assert!(gate.try_start());
        assert!(!gate.close());
        assert!(gate.try_start(), "starting twice is still started");
    }

    #[tokio::test]
    async fn start_write_uses_the_current_tasks_gate() {
        assert!(
            start_write().is_ok(),
            "outside a gate every write may start"
        );
        let gate = WriteGate::new();
        assert!(gate.close());
        assert!(gate.clone().scope(async { start_write() }).await.is_err());
        let open = WriteGate::new();
        assert!(open.clone().scope(async { start_write() }).await.is_ok());
        assert!(!open.close(), "the scope's write started");
    }
}
