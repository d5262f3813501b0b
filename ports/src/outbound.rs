//! The outbound ports: what the use cases need from storage, token verification and time.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::social::{Rating, RatingDomain, TitleName};
use iam_domain::stored::{RestoreError, Restored};

use crate::gate::TimedOut;
use iam_domain::{Field, Relation, StoredProfile, UserDetail, UserId, Version};

/// The cause of an unexpected failure, kept for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A stored row some of whose fields cannot be read (written around the service, or by an older
/// version): the details with those fields unset, and which they are. Its message names the user
/// and the fields, for the log.
#[derive(Debug, thiserror::Error)]
#[error("the stored details of user {} cannot be read: {}", .0.detail.user_id, describe(&.0.unreadable))]
pub struct UnreadableRow(pub Restored);

fn describe(unreadable: &[RestoreError]) -> String {
    unreadable
        .iter()
        .map(|e| format!("column {} ({})", e.field, e.cause))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why reading a user's details failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoFindError {
    /// The user has no details.
    #[error("user details not found")]
    NotFound,
    /// Some stored fields cannot be read ([`UserDetailsRepository::find_detail`] only; a whole
    /// profile that cannot be read is `Unexpected`).
    #[error(transparent)]
    Unreadable(Box<UnreadableRow>),
    /// Storage cannot be reached; retrying later may work.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected storage failure")]
    Unexpected(#[source] Cause),
}

/// Why creating a user's details failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoInsertError {
    /// The user already has details.
    #[error("user details already exist")]
    AlreadyExists,
    /// Storage cannot be reached.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected storage failure")]
    Unexpected(#[source] Cause),
}

/// Why updating a user's details failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoUpdateError {
    /// The user has no details.
    #[error("user details not found")]
    NotFound,
    /// The stored version is not the expected one.
    #[error("version mismatch")]
    VersionMismatch,
    /// The row would still hold fields that cannot be read after the write (fields it does not
    /// write): nothing was written.
    #[error(transparent)]
    Unreadable(Box<UnreadableRow>),
    /// Storage cannot be reached.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected storage failure")]
    Unexpected(#[source] Cause),
}

/// Why deleting a user's details failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoDeleteError {
    /// The user has no details.
    #[error("user details not found")]
    NotFound,
    /// The stored version is not the expected one.
    #[error("version mismatch")]
    VersionMismatch,
    /// Storage cannot be reached.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected storage failure")]
    Unexpected(#[source] Cause),
}

/// A write refused by its request's [`WriteGate`](crate::WriteGate) is storage's way of saying
/// the request ran out of time: `Unavailable` (503), with nothing written.
macro_rules! unavailable_from_timed_out {
    ($($error:ty),*) => {$(
        impl From<TimedOut> for $error {
            fn from(timed_out: TimedOut) -> Self {
                Self::Unavailable(Box::new(timed_out))
            }
        }
    )*};
}
unavailable_from_timed_out!(
    RepoInsertError,
    RepoUpdateError,
    RepoDeleteError,
    FigureFactsError
);

/// Where user details are kept. Every method reads or writes one user's row and its lists in one
/// transaction; reads return the whole [`StoredProfile`]: details, catalogue entries and the facts
/// the figures are computed from (the use cases compute them, with their clock).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserDetailsRepository: Send + Sync {
    /// Reads a user's whole profile.
    ///
    /// # Errors
    /// `NotFound` when the user has no details; `Unavailable` when storage cannot be reached.
    async fn find(&self, user: &UserId) -> Result<StoredProfile, RepoFindError>;

    /// Reads a user's details alone (no catalogue entries, no figures): what a write merges into.
    /// Cheaper than [`find`](Self::find).
    ///
    /// # Errors
    /// `NotFound` when the user has no details; `Unreadable` when some stored fields cannot be
    /// read (the rest of the details come with it, so that a write can replace those fields);
    /// `Unavailable` when storage cannot be reached.
    async fn find_detail(&self, user: &UserId) -> Result<UserDetail, RepoFindError>;

    /// Stores new details (their version is `detail.version`), adding new catalogue names, and
    /// returns the profile as stored.
    ///
    /// # Errors
    /// `AlreadyExists` when the user has details; `Unavailable` when storage cannot be reached.
    async fn insert(&self, detail: &UserDetail) -> Result<StoredProfile, RepoInsertError>;

    /// Writes only the `changed` fields of `detail` to the user's row, in one transaction, and adds
    /// one to the version if any of them changes: a JSON document written counts as changed, a
    /// list when its catalogue entries in order differ from the stored ones, any other field when
    /// its stored form differs from the one stored (so a caller may name fields it has not
    /// compared, as [`UserDetail::overwrite`] gives them). With `expected`,
    /// the write happens only if the stored version is that one. Returns the profile after the
    /// write.
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` (stored version differs from `expected`), `Unreadable` (the
    /// row would keep fields that cannot be read; nothing is written), `Unavailable`.
    async fn update(
        &self,
        detail: &UserDetail,
        changed: &[Field],
        expected: Option<Version>,
    ) -> Result<StoredProfile, RepoUpdateError>;

    /// Removes a user's details and list links (catalogue entries and figures stay).
    ///
    /// # Errors
    /// `NotFound`, `VersionMismatch` (stored version differs from `expected`), `Unavailable`.
    async fn delete(&self, user: &UserId, expected: Option<Version>)
        -> Result<(), RepoDeleteError>;

    /// Checks that storage answers, for readiness.
    ///
    /// # Errors
    /// The reason storage cannot be used now.
    async fn ping(&self) -> Result<(), Cause>;
}

/// Why recording or reading figure facts failed.
#[derive(Debug, thiserror::Error)]
pub enum FigureFactsError {
    /// The user to follow has no details ([`FigureFacts::follow`] only).
    #[error("user details not found")]
    NotFound,
    /// Storage cannot be reached.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else (for example a user following themselves, which storage refuses too).
    #[error("unexpected storage failure")]
    Unexpected(#[source] Cause),
}

/// The facts the read-only figures are computed from: the follow graph, domain ratings, activity
/// and freeze days, unlocked titles. Profiles read them inside
/// [`UserDetailsRepository::find`], in the same round trip; this port records and removes them.
/// Each call is one statement: recording is idempotent (the same fact twice is one fact; a new
/// rating in a domain replaces the old one; a title unlocked again keeps its first time), and
/// removing what is not there does nothing. Facts belong to a user id, with or without details:
/// deleting details leaves them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FigureFacts: Send + Sync {
    /// `follower` follows `followee`, who must have details.
    ///
    /// # Errors
    /// `NotFound` when `followee` has no details; `Unexpected` when a user would follow
    /// themselves.
    async fn follow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError>;
    /// `follower` no longer follows `followee`.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn unfollow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError>;
    /// How `viewer` and `viewed` follow each other.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn relation(
        &self,
        viewer: &UserId,
        viewed: &UserId,
    ) -> Result<Relation, FigureFactsError>;
    /// Sets `user`'s rating in `domain`.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn rate(
        &self,
        user: &UserId,
        domain: &RatingDomain,
        rating: Rating,
    ) -> Result<(), FigureFactsError>;
    /// Removes `user`'s rating in `domain`.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn remove_rating(
        &self,
        user: &UserId,
        domain: &RatingDomain,
    ) -> Result<(), FigureFactsError>;
    /// `user` was active on `day`.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn record_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError>;
    /// Removes `user`'s activity on `day`.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn remove_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError>;
    /// A streak freeze covered `day` for `user`.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn record_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError>;
    /// Removes the streak freeze of `user` on `day`.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn remove_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError>;
    /// `user` unlocked `title` at `at`.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn unlock_title(
        &self,
        user: &UserId,
        title: &TitleName,
        at: DateTime<Utc>,
    ) -> Result<(), FigureFactsError>;
    /// Removes `title` from `user`'s unlocked titles.
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn remove_title(&self, user: &UserId, title: &TitleName) -> Result<(), FigureFactsError>;
    /// The plain data `user`'s figures are computed from (all zero for a user without facts).
    ///
    /// # Errors
    /// `Unavailable` or `Unexpected`.
    async fn inputs(&self, user: &UserId) -> Result<iam_domain::FigureInputs, FigureFactsError>;
}

/// Why a token was refused. Every reason is a 401 to the client except
/// [`KeysUnavailable`](TokenRejection::KeysUnavailable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    /// Not a well-formed JWT, or an algorithm this service does not accept (`none` included).
    #[error("malformed token or unaccepted algorithm")]
    Malformed,
    /// The signature does not verify with the configured key.
    #[error("bad signature")]
    BadSignature,
    /// Past `exp` (or `exp` missing).
    #[error("token expired")]
    Expired,
    /// Before `nbf`.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not include the configured audience.
    #[error("wrong audience")]
    WrongAudience,
    /// `token_type` is present and not `access`.
    #[error("not an access token")]
    WrongTokenType,
    /// The user-id claim is missing, or not a non-empty string or an integer.
    #[error("no usable user id claim")]
    NoUserId,
    /// The token names a key the key set does not have.
    #[error("unknown signing key")]
    UnknownKey,
    /// The key set could not be fetched.
    #[error("signing keys unavailable")]
    KeysUnavailable,
}

/// Verifies an access token and says whose it is.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    /// The user the token was issued to.
    ///
    /// # Errors
    /// The [`TokenRejection`] saying why the token is refused.
    async fn verify(&self, token: &str) -> Result<UserId, TokenRejection>;
}

/// The time, so that the rules that depend on "today" can be tested.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;

    /// Today's UTC date.
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
