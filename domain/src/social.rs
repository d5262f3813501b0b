//! The social rules: who may follow whom, what one user sees of another, and the facts the
//! platform's other services record (ratings, activity and freeze days, titles).
//!
//! ## Following
//! A user follows another user, never themselves ([`check_follow`]); following twice is one
//! follow. Seen by a viewer, `is_following` says the viewer follows the user and
//! `is_followed_back` that the user follows the viewer ([`Relation`]). On a user's own details
//! (`/me/`) both are `false`.
//!
//! ## The public view
//! Another user sees a profile without the fields its owner keeps private ([`Field::is_private`]):
//! the contact data (`phone`, `dob`, `address`), the four preference booleans and
//! `additional_data`.
//!
//! ## Facts
//! The figures follow from facts, each checked here before it is recorded:
//! - a rating in a domain ([`RatingDomain`], [`Rating`]): a user has at most one per domain, and
//!   recording another replaces it;
//! - an activity day and a freeze day ([`check_fact_day`]): any day up to tomorrow (a service in a
//!   time zone ahead of UTC may already live there); later days are refused, and days after today
//!   do not count until they come;
//! - an unlocked title ([`TitleName`]) and when it was unlocked: unlocking it again keeps the first
//!   time. A title holds no comma, since `unlocked_titles` joins the titles with `", "`.

use std::fmt;

use chrono::{DateTime, Days, NaiveDate, Utc};

use crate::detail::Field;
use crate::figures::{FigureInputs, Figures};
use crate::values::UserId;

/// How the viewer and the viewed user follow each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Relation {
    /// The viewer follows the viewed user.
    pub is_following: bool,
    /// The viewed user follows the viewer.
    pub is_followed_back: bool,
}

/// Following oneself, which is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a user cannot follow themselves")]
pub struct FollowSelf;

/// Checks that `follower` may follow `followee`: anyone but themselves.
///
/// # Errors
/// [`FollowSelf`] when both are the same user.
pub fn check_follow(follower: &UserId, followee: &UserId) -> Result<(), FollowSelf> {
    if follower == followee {
        Err(FollowSelf)
    } else {
        Ok(())
    }
}

impl Figures {
    /// The figures of a user as `relation`'s viewer sees them, as of `today`.
    pub fn viewed(inputs: &FigureInputs, today: NaiveDate, relation: Relation) -> Figures {
        Figures {
            is_following: relation.is_following,
            is_followed_back: relation.is_followed_back,
            ..Figures::compute(inputs, today)
        }
    }
}

impl Field {
    /// The fields the owner keeps private: left out of the public view another user sees.
    pub const PRIVATE: [Field; 8] = [
        Field::Address,
        Field::Phone,
        Field::Dob,
        Field::CommunicationPreferencesPhone,
        Field::CommunicationPreferencesEmail,
        Field::PlatformFeaturesEmails,
        Field::ActivityBasedEmails,
        Field::AdditionalData,
    ];

    /// Whether the field is private: shown to its owner only.
    pub fn is_private(self) -> bool {
        Self::PRIVATE.contains(&self)
    }
}

/// Why a fact cannot be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    /// Empty or only white space.
    #[error("may not be blank")]
    Blank,
    /// Longer than `max` characters.
    #[error("longer than {max} characters")]
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// Holds a control character (NUL, a line break…).
    #[error("holds a control character")]
    Control,
    /// A title holding a comma.
    #[error("holds a comma")]
    Comma,
    /// A rating that is not a finite number.
    #[error("not a finite number")]
    NotFinite,
    /// A day or time later than tomorrow (UTC).
    #[error("later than tomorrow")]
    TooLate,
}

fn check_name(value: &str, max: usize) -> Result<(), FactError> {
    if value.trim().is_empty() {
        return Err(FactError::Blank);
    }
    if value.chars().any(char::is_control) {
        return Err(FactError::Control);
    }
    if value.chars().count() > max {
        return Err(FactError::TooLong { max });
    }
    Ok(())
}

/// The domain of a rating (for example `nlp`): 1 to 64 characters, not blank, no control
/// characters. Kept as written: `nlp` and `NLP` are two domains.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RatingDomain(String);

impl RatingDomain {
    /// The longest domain name, in characters.
    pub const MAX: usize = 64;

    /// Accepts a domain name.
    ///
    /// # Errors
    /// [`FactError`] naming the broken rule.
    pub fn parse(value: impl Into<String>) -> Result<Self, FactError> {
        let value = value.into();
        check_name(&value, Self::MAX)?;
        Ok(Self(value))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RatingDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Elo-style rating: any finite number.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rating(f64);

impl Rating {
    /// Accepts a finite number.
    ///
    /// # Errors
    /// [`FactError::NotFinite`] for NaN and the infinities.
    pub fn new(value: f64) -> Result<Self, FactError> {
        if value.is_finite() {
            Ok(Self(value))
        } else {
            Err(FactError::NotFinite)
        }
    }

    /// The number.
    pub fn value(self) -> f64 {
        self.0
    }
}

/// A title a user can unlock (for example `Grandmaster`): 1 to 100 characters, not blank, no
/// control characters, no comma.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TitleName(String);

impl TitleName {
    /// The longest title, in characters.
    pub const MAX: usize = 100;

    /// Accepts a title.
    ///
    /// # Errors
    /// [`FactError`] naming the broken rule.
    pub fn parse(value: impl Into<String>) -> Result<Self, FactError> {
        let value = value.into();
        check_name(&value, Self::MAX)?;
        if value.contains(',') {
            return Err(FactError::Comma);
        }
        Ok(Self(value))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TitleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks an activity or freeze day against `today` (UTC): any day up to tomorrow.
///
/// # Errors
/// [`FactError::TooLate`] for a later day.
pub fn check_fact_day(day: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FactError> {
    match today.checked_add_days(Days::new(1)) {
        Some(tomorrow) if day > tomorrow => Err(FactError::TooLate),
        _ => Ok(day),
    }
}

/// Checks when a title was unlocked against `now`: any time up to a day ahead, as
/// [`check_fact_day`].
///
/// # Errors
/// [`FactError::TooLate`] for a later time.
pub fn check_unlock_time(
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FactError> {
    match now.checked_add_days(Days::new(1)) {
        Some(limit) if at > limit => Err(FactError::TooLate),
        _ => Ok(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn nobody_follows_themselves() {
        assert_eq!(check_follow(&user("7"), &user("7")), Err(FollowSelf));
        assert_eq!(check_follow(&user("7"), &user("8")), Ok(()));
    }

    #[test]
    fn the_viewer_sees_the_relation_and_the_same_figures() {
        let inputs = FigureInputs {
            followers: 3,
            following: 1,
            activity_days: vec![day(28), day(29)],
            ..FigureInputs::default()
        };
        let relation = Relation {
            is_following: true,
            is_followed_back: false,
        };
        let seen = Figures::viewed(&inputs, day(29), relation);
        let own = Figures::compute(&inputs, day(29));
        assert!(seen.is_following && !seen.is_followed_back);
        assert!(!own.is_following && !own.is_followed_back);
        assert_eq!(
            Figures {
                is_following: false,
                ..seen
            },
            own
        );
    }

    #[test]
    fn the_private_fields_are_the_contact_data_preferences_and_documents() {
        let private: Vec<&str> = Field::ALL
            .iter()
            .filter(|f| f.is_private())
            .map(|f| f.name())
            .collect();
        assert_eq!(
            private,
            [
                "address",
                "phone",
                "dob",
                "communication_preferences_phone",
                "communication_preferences_email",
                "platform_features_emails",
                "activity_based_emails",
                "additional_data",
            ]
        );
        assert!(!Field::Bio.is_private() && !Field::CompanyInfo.is_private());
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(RatingDomain::parse("nlp").unwrap().as_str(), "nlp");
        assert_eq!(RatingDomain::parse("  "), Err(FactError::Blank));
        assert_eq!(RatingDomain::parse("a\nb"), Err(FactError::Control));
        assert_eq!(
            RatingDomain::parse("d".repeat(65)),
            Err(FactError::TooLong { max: 64 })
        );
        assert!(
            RatingDomain::parse("é".repeat(64)).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(
            TitleName::parse("Grand Master").unwrap().as_str(),
            "Grand Master"
        );
        assert_eq!(TitleName::parse("a, b"), Err(FactError::Comma));
        assert_eq!(TitleName::parse(""), Err(FactError::Blank));
        assert_eq!(
            TitleName::parse("t".repeat(101)),
            Err(FactError::TooLong { max: 100 })
        );
    }

    #[test]
    fn ratings_are_finite() {
        assert_eq!(Rating::new(1512.5).unwrap().value(), 1512.5);
        assert!(Rating::new(-3.0).is_ok());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(Rating::new(bad), Err(FactError::NotFinite));
        }
    }

    #[test]
    fn days_up_to_tomorrow_are_accepted() {
        assert_eq!(check_fact_day(day(1), day(29)), Ok(day(1)));
        assert_eq!(check_fact_day(day(30), day(29)), Ok(day(30)));
        assert_eq!(
            check_fact_day(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), day(29)),
            Err(FactError::TooLate)
        );
        let now = day(29).and_hms_opt(12, 0, 0).unwrap().and_utc();
        let later = |h| now + chrono::Duration::hours(h);
        assert_eq!(check_unlock_time(later(24), now), Ok(later(24)));
        assert_eq!(check_unlock_time(later(25), now), Err(FactError::TooLate));
    }

    proptest! {
        #[test]
        fn a_title_is_accepted_exactly_when_each_rule_holds(text in "\\PC{0,3}[,\\n ]?\\PC{0,3}") {
            let rules_hold = !text.trim().is_empty()
                && !text.chars().any(char::is_control)
                && !text.contains(',')
                && text.chars().count() <= TitleName::MAX;
            prop_assert_eq!(TitleName::parse(text.clone()).is_ok(), rules_hold);
        }
    }
}
