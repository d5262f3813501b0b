//! # iam-ports: the use cases and the ports they need
//!
//! - [`inbound`]: [`UserDetailsService`], the use cases a driving adapter (HTTP) calls: get, create,
//!   update, partial update and delete the calling user's details, with an optional expected
//!   version (`If-Match`). One error enum per use case.
//! - [`outbound`]: what the use cases need from the world: the [`UserDetailsRepository`] (which
//!   returns stored facts; the use cases compute the figures with the domain's rules), the
//!   [`TokenVerifier`] and the [`Clock`]. One error enum per operation.
//! - [`service`]: [`Service`], the implementation of the use cases over the outbound ports.
//! - [`gate`]: [`WriteGate`], the point of no return of a write, shared by the driving adapter's
//!   timeout and the stores.
//!
//! With the `mocks` feature every port has a mockall mock (`MockUserDetailsRepository`, …), for
//! the tests of other crates. The `test-support` feature adds `FigureFacts`, the port that records
//! the facts behind the figures, which only tests and the benchmark's seeding use until a use case
//! records them.

pub mod gate;
pub mod inbound;
pub mod outbound;
pub mod service;

pub use gate::{start_write, TimedOut, WriteGate};
pub use inbound::{
    CreateError, DeleteError, GetError, UpdateError, UserDetailsService, WriteRequest,
};
pub use outbound::{
    Cause, Clock, RepoDeleteError, RepoFindError, RepoInsertError, RepoUpdateError, SystemClock,
    TokenRejection, TokenVerifier, UnreadableRow, UserDetailsRepository,
};
#[cfg(any(test, feature = "test-support"))]
pub use outbound::{FigureFacts, FigureFactsError};
pub use service::Service;

#[cfg(any(test, feature = "mocks"))]
pub use inbound::MockUserDetailsService;
#[cfg(any(test, feature = "mocks"))]
pub use outbound::{MockClock, MockTokenVerifier, MockUserDetailsRepository};
