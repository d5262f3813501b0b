//! The social use cases: following, another user's public view, and the facts the platform's
//! other services record ([`Social`] over the repository, the [`FigureFacts`] port and the clock).
//!
//! Two inbound ports, for two kinds of caller: [`SocialService`] acts for a signed-in user (the
//! user id comes from their token); [`FactsService`] acts for the platform (an internal API with
//! its own credentials, and the operators' command line), on any user id.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::social::{
    check_fact_day, check_follow, check_unlock_time, FactError, Rating, RatingDomain, TitleName,
};
use iam_domain::{Figures, UserId, UserProfile};

use crate::inbound::GetError;
use crate::outbound::{
    Cause, Clock, FigureFacts, FigureFactsError, RepoFindError, UserDetailsRepository,
};

/// Why following or unfollowing failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The caller named themselves.
    #[error("a user cannot follow themselves")]
    Themselves,
    /// The user to follow has no details.
    #[error("user details not found")]
    NotFound,
    /// Storage cannot be reached now.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected failure")]
    Unexpected(#[source] Cause),
}

/// Why recording, removing or reading facts failed.
#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    /// A fact the domain refuses (a day after tomorrow); `field` names the value.
    #[error("{field}: {error}")]
    Invalid {
        /// The value's name (`day`, `unlocked_at`).
        field: &'static str,
        /// The rule it breaks.
        error: FactError,
    },
    /// Storage cannot be reached now.
    #[error("storage unavailable")]
    Unavailable(#[source] Cause),
    /// Anything else.
    #[error("unexpected failure")]
    Unexpected(#[source] Cause),
}

/// What a signed-in user does with other users.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SocialService: Send + Sync {
    /// `viewed`'s details as `viewer` sees them: the figures with `is_following` and
    /// `is_followed_back` from `viewer`'s side. (The driving adapter leaves the private fields
    /// out; [`iam_domain::Field::is_private`].)
    ///
    /// # Errors
    /// `NotFound` when `viewed` has no details; `Unavailable`, `Unexpected`.
    async fn view(&self, viewer: &UserId, viewed: &UserId) -> Result<UserProfile, GetError>;

    /// `follower` follows `followee`; following again changes nothing.
    ///
    /// # Errors
    /// `Themselves`; `NotFound` when `followee` has no details; `Unavailable`, `Unexpected`.
    async fn follow(&self, follower: &UserId, followee: &UserId) -> Result<(), FollowError>;

    /// `follower` stops following `followee`; unfollowing someone not followed (or without
    /// details) changes nothing.
    ///
    /// # Errors
    /// `Themselves`; `Unavailable`, `Unexpected`.
    async fn unfollow(&self, follower: &UserId, followee: &UserId) -> Result<(), FollowError>;
}

/// What the platform's other services (and operators) record about any user. Every call is
/// idempotent; see [`FigureFacts`].
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FactsService: Send + Sync {
    /// Sets `user`'s rating in `domain`, replacing any earlier one.
    ///
    /// # Errors
    /// `Unavailable`, `Unexpected`.
    async fn rate(
        &self,
        user: &UserId,
        domain: &RatingDomain,
        rating: Rating,
    ) -> Result<(), FactsError>;
    /// Removes `user`'s rating in `domain`.
    ///
    /// # Errors
    /// `Unavailable`, `Unexpected`.
    async fn remove_rating(&self, user: &UserId, domain: &RatingDomain) -> Result<(), FactsError>;
    /// Records that `user` was active on `day`.
    ///
    /// # Errors
    /// `Invalid` for a day after tomorrow; `Unavailable`, `Unexpected`.
    async fn record_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FactsError>;
    /// Removes `user`'s activity on `day`.
    ///
    /// # Errors
    /// `Unavailable`, `Unexpected`.
    async fn remove_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FactsError>;
    /// Grants `user` a streak freeze on `day`.
    ///
    /// # Errors
    /// `Invalid` for a day after tomorrow; `Unavailable`, `Unexpected`.
    async fn grant_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FactsError>;
    /// Removes `user`'s streak freeze on `day`.
    ///
    /// # Errors
    /// `Unavailable`, `Unexpected`.
    async fn remove_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FactsError>;
    /// Unlocks `title` for `user` at `at` (now, without it); unlocking again keeps the first time.
    ///
    /// # Errors
    /// `Invalid` for a time more than a day ahead; `Unavailable`, `Unexpected`.
    async fn unlock_title(
        &self,
        user: &UserId,
        title: &TitleName,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), FactsError>;
    /// Removes `title` from `user`'s unlocked titles.
    ///
    /// # Errors
    /// `Unavailable`, `Unexpected`.
    async fn remove_title(&self, user: &UserId, title: &TitleName) -> Result<(), FactsError>;
    /// `user`'s figures as the user sees them on `/me/`, as of the clock's today (zeros for a user
    /// without facts, with or without details).
    ///
    /// # Errors
    /// `Unavailable`, `Unexpected`.
    async fn figures(&self, user: &UserId) -> Result<Figures, FactsError>;
}

/// The social use cases over the outbound ports.
#[derive(Clone)]
pub struct Social {
    repository: Arc<dyn UserDetailsRepository>,
    facts: Arc<dyn FigureFacts>,
    clock: Arc<dyn Clock>,
}

impl Social {
    /// Builds the use cases over their ports.
    pub fn new(
        repository: Arc<dyn UserDetailsRepository>,
        facts: Arc<dyn FigureFacts>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repository,
            facts,
            clock,
        }
    }
}

fn follow_error(e: FigureFactsError) -> FollowError {
    match e {
        FigureFactsError::NotFound => FollowError::NotFound,
        FigureFactsError::Unavailable(c) => FollowError::Unavailable(c),
        FigureFactsError::Unexpected(c) => FollowError::Unexpected(c),
    }
}

fn facts_error(e: FigureFactsError) -> FactsError {
    match e {
        // Only a follow looks for details.
        FigureFactsError::NotFound => FactsError::Unexpected("user details not found".into()),
        FigureFactsError::Unavailable(c) => FactsError::Unavailable(c),
        FigureFactsError::Unexpected(c) => FactsError::Unexpected(c),
    }
}

fn invalid(field: &'static str) -> impl FnOnce(FactError) -> FactsError {
    move |error| FactsError::Invalid { field, error }
}

#[async_trait]
impl SocialService for Social {
    async fn view(&self, viewer: &UserId, viewed: &UserId) -> Result<UserProfile, GetError> {
        let stored = self.repository.find(viewed).await.map_err(|e| match e {
            RepoFindError::NotFound => GetError::NotFound,
            RepoFindError::Unreadable(row) => GetError::Unexpected(row),
            RepoFindError::Unavailable(c) => GetError::Unavailable(c),
            RepoFindError::Unexpected(c) => GetError::Unexpected(c),
        })?;
        let relation = if viewer == viewed {
            iam_domain::Relation::default()
        } else {
            self.facts
                .relation(viewer, viewed)
                .await
                .map_err(|e| match e {
                    FigureFactsError::Unavailable(c) => GetError::Unavailable(c),
                    other => GetError::Unexpected(Box::new(other)),
                })?
        };
        Ok(stored.seen(self.clock.today(), relation))
    }

    async fn follow(&self, follower: &UserId, followee: &UserId) -> Result<(), FollowError> {
        check_follow(follower, followee).map_err(|_| FollowError::Themselves)?;
        self.facts
            .follow(follower, followee)
            .await
            .map_err(follow_error)
    }

    async fn unfollow(&self, follower: &UserId, followee: &UserId) -> Result<(), FollowError> {
        check_follow(follower, followee).map_err(|_| FollowError::Themselves)?;
        self.facts
            .unfollow(follower, followee)
            .await
            .map_err(follow_error)
    }
}

#[async_trait]
impl FactsService for Social {
    async fn rate(
        &self,
        user: &UserId,
        domain: &RatingDomain,
        rating: Rating,
    ) -> Result<(), FactsError> {
        self.facts
            .rate(user, domain, rating)
            .await
            .map_err(facts_error)
    }

    async fn remove_rating(&self, user: &UserId, domain: &RatingDomain) -> Result<(), FactsError> {
        self.facts
            .remove_rating(user, domain)
            .await
            .map_err(facts_error)
    }

    async fn record_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FactsError> {
        let day = check_fact_day(day, self.clock.today()).map_err(invalid("day"))?;
        self.facts
            .record_activity(user, day)
            .await
            .map_err(facts_error)
    }

    async fn remove_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FactsError> {
        self.facts
            .remove_activity(user, day)
            .await
            .map_err(facts_error)
    }

    async fn grant_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FactsError> {
        let day = check_fact_day(day, self.clock.today()).map_err(invalid("day"))?;
        self.facts
            .record_freeze(user, day)
            .await
            .map_err(facts_error)
    }

    async fn remove_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FactsError> {
        self.facts
            .remove_freeze(user, day)
            .await
            .map_err(facts_error)
    }

    async fn unlock_title(
        &self,
        user: &UserId,
        title: &TitleName,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), FactsError> {
        let now = self.clock.now();
        let at = check_unlock_time(at.unwrap_or(now), now).map_err(invalid("unlocked_at"))?;
        self.facts
            .unlock_title(user, title, at)
            .await
            .map_err(facts_error)
    }

    async fn remove_title(&self, user: &UserId, title: &TitleName) -> Result<(), FactsError> {
        self.facts
            .remove_title(user, title)
            .await
            .map_err(facts_error)
    }

    async fn figures(&self, user: &UserId) -> Result<Figures, FactsError> {
        let inputs = self.facts.inputs(user).await.map_err(facts_error)?;
        Ok(Figures::compute(&inputs, self.clock.today()))
    }
}

#[cfg(test)]
mod tests;
