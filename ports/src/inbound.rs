//! The inbound port: the use cases, as the HTTP adapter calls them. The caller is always the user
//! whose details are read or written; the user id comes from the verified token.

use async_trait::async_trait;
use iam_domain::{InvalidFields, JsonMode, UserDetailPatch, UserId, UserProfile, Version};

use crate::outbound::Cause;

/// A write: the validated patch and how its JSON documents apply. Reading a body into a patch
/// (with the wire format's rules and messages) is the inbound adapter's work.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WriteRequest {
    /// What to change.
    pub patch: UserDetailPatch,
    /// [`JsonMode::MergePatch`] merges the JSON documents; [`JsonMode::Replace`] replaces them.
    pub json_mode: JsonMode,
}

impl WriteRequest {
    /// A write of `patch` that replaces the JSON documents it sends.
    pub fn replacing(patch: UserDetailPatch) -> Self {
        Self {
            patch,
            json_mode: JsonMode::Replace,
        }
    }
}

/// Why reading failed.
#[derive(Debug, thiserror::Error)]
pub enum GetError {
    /// The caller has no details.
    #[error("user details not found")]
    NotFound,
    /// Storage cannot be reached now.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected failure")]
    Unexpected(#[source] Cause),
}

/// Why creating failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The write breaks a rule (a merged document too large, a create without `user_type`).
    #[error("{0}")]
    Invalid(InvalidFields),
    /// The caller already has details.
    #[error("user details already exist")]
    AlreadyExists,
    /// Storage cannot be reached now.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected failure")]
    Unexpected(#[source] Cause),
}

/// Why an update (full or partial) failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The caller has no details.
    #[error("user details not found")]
    NotFound,
    /// The write breaks a rule (a merged document too large, a create without `user_type`).
    #[error("{0}")]
    Invalid(InvalidFields),
    /// The details are not at the version the caller expected (`If-Match`).
    #[error("version mismatch")]
    VersionMismatch,
    /// Storage cannot be reached now.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected failure")]
    Unexpected(#[source] Cause),
}

/// Why deleting failed.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// The caller has no details.
    #[error("user details not found")]
    NotFound,
    /// The details are not at the version the caller expected (`If-Match`).
    #[error("version mismatch")]
    VersionMismatch,
    /// Storage cannot be reached now.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected failure")]
    Unexpected(#[source] Cause),
}

/// The use cases of the service.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserDetailsService: Send + Sync {
    /// The caller's details with catalogue entries and figures.
    ///
    /// # Errors
    /// `NotFound` when the caller has none; `Unavailable`, `Unexpected`.
    async fn get(&self, user: &UserId) -> Result<UserProfile, GetError>;

    /// Creates the caller's details from a body that must hold `user_type`.
    ///
    /// # Errors
    /// `Invalid` with every failing field; `AlreadyExists`; `Unavailable`, `Unexpected`.
    async fn create(
        &self,
        user: &UserId,
        request: WriteRequest,
    ) -> Result<UserProfile, CreateError>;

    /// Full update (`PUT`): as [`partial_update`](Self::partial_update), but `user_type` is required.
    ///
    /// # Errors
    /// As [`partial_update`](Self::partial_update).
    async fn update(
        &self,
        user: &UserId,
        request: WriteRequest,
        expected: Option<Version>,
    ) -> Result<UserProfile, UpdateError>;

    /// Partial update (`PATCH`): writes the fields sent, leaves the others alone. With `expected`,
    /// only if the details are at that version. Without it, concurrent writers never lose each
    /// other's changes.
    ///
    /// # Errors
    /// `NotFound` (checked before the body), `Invalid`, `VersionMismatch`, `Unavailable`,
    /// `Unexpected`.
    async fn partial_update(
        &self,
        user: &UserId,
        request: WriteRequest,
        expected: Option<Version>,
    ) -> Result<UserProfile, UpdateError>;

    /// Checks that the caller could write their details at `expected`, without writing: the
    /// errors a write would meet before it looks at its patch. The driving adapter asks this
    /// when a body cannot become a patch, so that a missing row (404) and a stale `If-Match`
    /// (412) are reported before the body's faults (400), as for a valid body.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch`, `Unavailable`, `Unexpected`.
    async fn check_write(
        &self,
        user: &UserId,
        expected: Option<Version>,
    ) -> Result<(), UpdateError>;

    /// Removes the caller's details; with `expected`, only at that version.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch`, `Unavailable`, `Unexpected`.
    async fn delete(&self, user: &UserId, expected: Option<Version>) -> Result<(), DeleteError>;

    /// Whether storage answers now, for readiness.
    ///
    /// # Errors
    /// The reason storage cannot be used.
    async fn ready(&self) -> Result<(), Cause>;
}
