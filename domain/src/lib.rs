//! # iam-domain: the rules of a user's profile details, with no I/O
//!
//! The user-details service of the AISquare Studio platform keeps, for each signed-in user, a
//! profile (bio, links, skills, interests, preferences) and shows read-only figures beside it
//! (followers, top-domain rating and rank, streaks, titles). This crate is everything that service
//! *knows* and nothing it *does*: it performs no I/O, spawns nothing and depends on no framework
//! (no actix, no sqlx, no tokio), so another service of the platform can validate a profile
//! patch, apply it, or compute the figures exactly as the service does.
//!
//! ## What it offers
//! - [`values`]: validated value types (URLs, phone, date of birth, catalogue names, JSON
//!   documents…). A value that exists is valid; each constructor returns a typed [`ValueError`]
//!   saying which rule was broken, for the caller to word as it likes.
//! - [`detail`]: the [`UserDetail`] aggregate, [`Field`] (its writable fields) and
//!   [`UserDetailPatch`], all generated from one table, [`writable_fields!`].
//! - [`patch`]: [`Patch`], the three states of a patched field: absent, `null`, a value.
//! - [`merge`]: applying a patch (PATCH, PUT, create) and RFC 7396 JSON Merge Patch; the result
//!   lists the fields that actually changed.
//! - [`figures`]: the read-only figures (rank, streaks, titles) as pure functions over plain facts.
//! - [`profile`]: [`UserProfile`], details with catalogue entries and figures, and
//!   [`StoredProfile`], the same with the facts the figures come from.
//! - [`social`]: following, the public view's private fields, and the checks of the facts the
//!   platform records (ratings, days, titles).
//! - [`stored`]: each field as a plain column value and back, for any store.
//! - [`errors`]: [`InvalidFields`], the fields a write could not take.
//!
//! ## An example
//! Validate what a user sent, apply it to their details, and compute their figures as of a day:
//!
//! ```
//! use chrono::NaiveDate;
//! use iam_domain::figures::{FigureInputs, Figures};
//! use iam_domain::values::{Bio, LinkUrl, UserType, ValueError};
//! use iam_domain::{Field, JsonMode, Patch, UserDetail, UserDetailPatch, UserId, Version};
//!
//! let user = UserId::parse("42").unwrap();
//! let developer = UserType::parse("developer").unwrap();
//! let details = UserDetail::new(user, Version::new(1), developer);
//!
//! // Each value is checked as it is made; a broken rule is a typed error.
//! assert_eq!(LinkUrl::parse("ftp://example.com"), Err(ValueError::Url));
//! let patch = UserDetailPatch {
//!     bio: Patch::Value(Bio::parse("  Builds data tools.  ").unwrap()),
//!     github_url: Patch::Value(LinkUrl::parse("https://github.com/someone").unwrap()),
//!     ..UserDetailPatch::default()
//! };
//! let applied = details.apply(&patch, JsonMode::Replace).unwrap();
//! assert_eq!(applied.changed, [Field::Bio, Field::GithubUrl]);
//! assert_eq!(applied.detail.bio.unwrap().as_str(), "Builds data tools.");
//!
//! // Three active days up to yesterday: the streak is 3 (today is still open).
//! let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
//! let facts = FigureInputs {
//!     activity_days: vec![day(26), day(27), day(28)],
//!     ..FigureInputs::default()
//! };
//! let figures = Figures::compute(&facts, day(29));
//! assert_eq!((figures.streak, figures.highest_streak), (3, 3));
//! ```
//!
//! `examples/validate_and_compute.rs` does the same from a JSON document, as another service
//! would (`cargo run -p iam-domain --example validate_and_compute`).

pub mod detail;
pub mod errors;
pub mod figures;
pub mod merge;
pub mod patch;
pub mod profile;
pub mod social;
pub mod stored;
pub mod values;

#[cfg(test)]
mod testing;

pub use detail::{Catalogue, Field, List, UserDetail, UserDetailPatch};
pub use errors::{InvalidField, InvalidFields};
pub use figures::{FigureInputs, Figures};
pub use merge::{Applied, JsonMode};
pub use patch::Patch;
pub use profile::{CatalogueEntry, StoredProfile, UserProfile};
pub use social::{FactError, Relation};
pub use values::{UserId, ValueError, Version};
