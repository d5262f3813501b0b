//! # iam-ports: the use cases and the ports they need
//!
//! - [`inbound`]: [`UserDetailsService`], the use cases a driving adapter (HTTP) calls: get, create,
//!   update, partial update and delete the calling user's details, with an optional expected
//!   version (`If-Match`). One error enum per use case.
//! - [`outbound`]: what the use cases need from the world: the [`UserDetailsRepository`] (which
//!   returns stored facts; the use cases compute the figures with the domain's rules), the
//!   [`TokenVerifier`] and the [`Clock`]. One error enum per operation.
//! - [`service`]: [`Service`], the implementation of the use cases over the outbound ports.
//! - [`social`]: [`SocialService`] (follow, unfollow, another user's public view) for signed-in
//!   users and [`FactsService`] (ratings, activity and freeze days, titles) for the platform's
//!   other services, both implemented by [`Social`] over the repository and [`FigureFacts`].
//! - [`gate`]: [`WriteGate`], the point of no return of a write, shared by the driving adapter's
//!   timeout and the stores.
//!
//! With the `mocks` feature every port has a mockall mock (`MockUserDetailsRepository`, …), for
//! the tests of other crates.

pub mod gate;
pub mod inbound;
pub mod outbound;
pub mod service;
pub mod social;

pub use gate::{start_write, TimedOut, WriteGate};
pub use inbound::{
    CreateError, DeleteError, GetError, UpdateError, UserDetailsService, WriteRequest,
};
pub use outbound::{
    Cause, Clock, RepoDeleteError, RepoFindError, RepoInsertError, RepoUpdateError, SystemClock,
    TokenRejection, TokenVerifier, UnreadableRow, UserDetailsRepository,
};
pub use outbound::{FigureFacts, FigureFactsError};
pub use service::Service;
pub use social::{FactsError, FactsService, FollowError, Social, SocialService};

#[cfg(any(test, feature = "mocks"))]
pub use inbound::MockUserDetailsService;
#[cfg(any(test, feature = "mocks"))]
pub use outbound::{MockClock, MockFigureFacts, MockTokenVerifier, MockUserDetailsRepository};
#[cfg(any(test, feature = "mocks"))]
pub use social::{MockFactsService, MockSocialService};
