//! [`Service`]: the use cases over the outbound ports.
//!
//! A PATCH that sends no JSON document ([`UserDetail::overwrite`]) goes to storage as it is,
//! without a read: storage writes the values and lists sent, moves the version only if one of
//! them changed, and writes nothing if the row would keep fields that cannot be read. Every other
//! write reads the current details, merges with the domain's rules, and hands storage only the
//! fields that changed. A write that depends on the stored value (a JSON Merge Patch of a
//! document) is guarded by the version it read and retried on conflict, so concurrent writers never
//! lose each other's changes; a write that replaces values needs no guard, since storage writes only
//! its own fields. `If-Match` turns the guard into the client's own, and is never retried.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Timelike;
use iam_domain::{
    JsonMode, Patch, StoredProfile, UserDetail, UserDetailPatch, UserId, UserProfile, Version,
};

use crate::inbound::{
    CreateError, DeleteError, GetError, UpdateError, UserDetailsService, WriteRequest,
};
use crate::outbound::{
    Cause, Clock, RepoDeleteError, RepoFindError, RepoInsertError, RepoUpdateError, UnreadableRow,
    UserDetailsRepository,
};

/// How often a guarded write is tried. Each round of conflicting writers has one winner, so this
/// many writers merging into one user's document at the same moment all land.
const MAX_ATTEMPTS: u32 = 32;

/// A short pause before trying again, growing with the attempt and spread by the clock's
/// nanoseconds, so that writers that lost together do not retry in lockstep.
fn backoff(attempt: u32, nanos: u32) -> Duration {
    Duration::from_micros(u64::from(attempt.min(10)) * 200 + u64::from(nanos % 500))
}

/// The use cases, over a repository and a clock.
#[derive(Clone)]
pub struct Service {
    repository: Arc<dyn UserDetailsRepository>,
    clock: Arc<dyn Clock>,
}

impl Service {
    /// Builds the service over its ports.
    pub fn new(repository: Arc<dyn UserDetailsRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { repository, clock }
    }

    /// The profile of a stored one, with its figures computed by the domain's rules as of the
    /// clock's today.
    fn figured(&self, stored: StoredProfile) -> UserProfile {
        stored.as_of(self.clock.today())
    }

    async fn write(
        &self,
        user: &UserId,
        request: WriteRequest,
        expected: Option<Version>,
        mode: Write,
    ) -> Result<UserProfile, UpdateError> {
        let patch = &request.patch;
        if mode == Write::Partial {
            if let Some((detail, fields)) = UserDetail::overwrite(user.clone(), patch) {
                // Nothing to read first: storage writes the values sent and tells what changed.
                return match self.repository.update(&detail, &fields, expected).await {
                    Ok(stored) => Ok(self.figured(stored)),
                    Err(e) => Err(update_error(e)),
                };
            }
        }
        let needs_base = request.json_mode == JsonMode::MergePatch && merges_a_document(patch);
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt, self.clock.now().nanosecond())).await;
            }
            let (current, unreadable) = match self.repository.find_detail(user).await {
                Ok(detail) => (detail, Vec::new()),
                Err(RepoFindError::Unreadable(row)) => {
                    replaceable(&row, patch, mode)?;
                    let fields = row.0.unreadable.iter().map(|e| e.field).collect();
                    (row.0.detail, fields)
                }
                Err(e) => return Err(update_find_error(e)),
            };
            if expected.is_some_and(|v| v != current.version) {
                return Err(UpdateError::VersionMismatch);
            }
            let mut applied = current
                .apply(patch, request.json_mode)
                .map_err(UpdateError::Invalid)?;
            // Unreadable fields are written too (with what was sent, or unset by a PUT), so the
            // row reads back whole.
            for field in unreadable {
                if !applied.changed.contains(&field) {
                    applied.changed.push(field);
                }
            }
            if applied.is_unchanged() {
                // Nothing to write: answer with the whole profile as it stands.
                return self
                    .repository
                    .find(user)
                    .await
                    .map(|stored| self.figured(stored))
                    .map_err(update_find_error);
            }
            let guard = expected.or(needs_base.then_some(current.version));
            match self
                .repository
                .update(&applied.detail, &applied.changed, guard)
                .await
            {
                Ok(stored) => return Ok(self.figured(stored)),
                Err(RepoUpdateError::VersionMismatch) if expected.is_none() => continue,
                Err(e) => return Err(update_error(e)),
            }
        }
        // Contention, not a fault: the client may try again shortly.
        Err(UpdateError::Unavailable(
            format!("gave up after {MAX_ATTEMPTS} conflicting concurrent writes").into(),
        ))
    }
}

/// Whether a write may replace the unreadable fields of `row`: a PUT may (what it does not send
/// becomes unset, as it would be on a new row); a PATCH only when it sends every one of them, so
/// that no field is reset behind the client's back. Logged either way, naming user and fields.
/// Which update a write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// `PUT`: replaces unreadable stored fields even when it does not send them.
    Replace,
    /// `PATCH`.
    Partial,
}

fn replaceable(
    row: &UnreadableRow,
    patch: &UserDetailPatch,
    mode: Write,
) -> Result<(), UpdateError> {
    let sent = patch.sent_fields();
    let all_sent = row.0.unreadable.iter().all(|e| sent.contains(&e.field));
    if mode == Write::Replace || all_sent {
        tracing::warn!(cause = %row, "a write replaces the unreadable stored fields");
        Ok(())
    } else {
        Err(kept_unreadable(row))
    }
}

/// The refusal of a write that would leave unreadable stored fields as they are.
fn kept_unreadable(row: &UnreadableRow) -> UpdateError {
    UpdateError::Unexpected(
        format!("{row}; a PUT, or a PATCH that sends those fields, replaces them").into(),
    )
}

/// A failed update's outcome.
fn update_error(e: RepoUpdateError) -> UpdateError {
    match e {
        RepoUpdateError::VersionMismatch => UpdateError::VersionMismatch,
        RepoUpdateError::NotFound => UpdateError::NotFound,
        RepoUpdateError::Unreadable(row) => kept_unreadable(&row),
        RepoUpdateError::Unavailable(c) => UpdateError::Unavailable(c),
        RepoUpdateError::Unexpected(c) => UpdateError::Unexpected(c),
    }
}

/// A read's failure, during an update.
fn update_find_error(e: RepoFindError) -> UpdateError {
    match e {
        RepoFindError::NotFound => UpdateError::NotFound,
        RepoFindError::Unreadable(row) => UpdateError::Unexpected(row),
        RepoFindError::Unavailable(c) => UpdateError::Unavailable(c),
        RepoFindError::Unexpected(c) => UpdateError::Unexpected(c),
    }
}

/// True when the patch sends a JSON document, whose merge depends on the stored one.
fn merges_a_document(patch: &UserDetailPatch) -> bool {
    [&patch.address, &patch.company_info, &patch.additional_data]
        .into_iter()
        .any(|p| matches!(p, Patch::Value(_)))
}

#[async_trait]
impl UserDetailsService for Service {
    async fn get(&self, user: &UserId) -> Result<UserProfile, GetError> {
        self.repository
            .find(user)
            .await
            .map(|stored| self.figured(stored))
            .map_err(|e| match e {
                RepoFindError::NotFound => GetError::NotFound,
                RepoFindError::Unreadable(row) => GetError::Unexpected(row),
                RepoFindError::Unavailable(c) => GetError::Unavailable(c),
                RepoFindError::Unexpected(c) => GetError::Unexpected(c),
            })
    }

    async fn create(
        &self,
        user: &UserId,
        request: WriteRequest,
    ) -> Result<UserProfile, CreateError> {
        let version = Version::initial(self.clock.now().timestamp_micros());
        let detail = UserDetail::create(user.clone(), version, &request.patch, request.json_mode)
            .map_err(CreateError::Invalid)?;
        self.repository
            .insert(&detail)
            .await
            .map(|stored| self.figured(stored))
            .map_err(|e| match e {
                RepoInsertError::AlreadyExists => CreateError::AlreadyExists,
                RepoInsertError::Unavailable(c) => CreateError::Unavailable(c),
                RepoInsertError::Unexpected(c) => CreateError::Unexpected(c),
            })
    }

    async fn update(
        &self,
        user: &UserId,
        request: WriteRequest,
        expected: Option<Version>,
    ) -> Result<UserProfile, UpdateError> {
        self.write(user, request, expected, Write::Replace).await
    }

    async fn partial_update(
        &self,
        user: &UserId,
        request: WriteRequest,
        expected: Option<Version>,
    ) -> Result<UserProfile, UpdateError> {
        self.write(user, request, expected, Write::Partial).await
    }

    async fn check_write(
        &self,
        user: &UserId,
        expected: Option<Version>,
    ) -> Result<(), UpdateError> {
        let version = match self.repository.find_detail(user).await {
            Ok(detail) => detail.version,
            // A write may replace the unreadable fields.
            Err(RepoFindError::Unreadable(row)) => row.0.detail.version,
            Err(e) => return Err(update_find_error(e)),
        };
        if expected.is_some_and(|v| v != version) {
            return Err(UpdateError::VersionMismatch);
        }
        Ok(())
    }

    async fn delete(&self, user: &UserId, expected: Option<Version>) -> Result<(), DeleteError> {
        self.repository
            .delete(user, expected)
            .await
            .map_err(|e| match e {
                RepoDeleteError::NotFound => DeleteError::NotFound,
                RepoDeleteError::VersionMismatch => DeleteError::VersionMismatch,
                RepoDeleteError::Unavailable(c) => DeleteError::Unavailable(c),
                RepoDeleteError::Unexpected(c) => DeleteError::Unexpected(c),
            })
    }

    async fn ready(&self) -> Result<(), Cause> {
        self.repository.ping().await
    }
}

#[cfg(test)]
mod tests;
