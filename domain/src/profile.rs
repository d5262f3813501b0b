//! [`UserProfile`]: the read model behind the representation.

use chrono::NaiveDate;

use crate::detail::UserDetail;
use crate::figures::{FigureInputs, Figures};
use crate::social::Relation;

/// One entry of a catalogue (developer skills, investment interests, tags), as linked to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The catalogue's stable id.
    pub id: i64,
    /// The catalogue's spelling of the name.
    pub name: String,
    /// An optional description.
    pub description: Option<String>,
}

/// Everything the representation of one user shows: the details, the catalogue entries behind each
/// name list (same order as the names), and the read-only figures.
#[derive(Debug, Clone, PartialEq)]
pub struct UserProfile {
    /// The stored details.
    pub detail: UserDetail,
    /// Entries for `skills` (developer skills catalogue).
    pub skills: Vec<CatalogueEntry>,
    /// Entries for `investment_interests`.
    pub investment_interests: Vec<CatalogueEntry>,
    /// Entries for `technical_interests` (developer skills catalogue).
    pub technical_interests: Vec<CatalogueEntry>,
    /// Entries for `focus_area` (tags).
    pub focus_area: Vec<CatalogueEntry>,
    /// The read-only figures.
    pub figures: Figures,
}

/// A profile as storage holds it: the details, the catalogue entries, and the facts the figures
/// are computed from. [`StoredProfile::as_of`] computes the figures.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProfile {
    /// The stored details.
    pub detail: UserDetail,
    /// Entries for `skills`.
    pub skills: Vec<CatalogueEntry>,
    /// Entries for `investment_interests`.
    pub investment_interests: Vec<CatalogueEntry>,
    /// Entries for `technical_interests`.
    pub technical_interests: Vec<CatalogueEntry>,
    /// Entries for `focus_area`.
    pub focus_area: Vec<CatalogueEntry>,
    /// The facts behind the figures.
    pub facts: FigureInputs,
}

impl StoredProfile {
    /// The profile with its figures as of `today` (the UTC date), by [`Figures::compute`].
    pub fn as_of(self, today: NaiveDate) -> UserProfile {
        self.seen(today, Relation::default())
    }

    /// The profile as another user sees it (the figures with `relation`, by [`Figures::viewed`]);
    /// the representation leaves the private fields out.
    pub fn seen(self, today: NaiveDate, relation: Relation) -> UserProfile {
        UserProfile {
            figures: Figures::viewed(&self.facts, today, relation),
            detail: self.detail,
            skills: self.skills,
            investment_interests: self.investment_interests,
            technical_interests: self.technical_interests,
            focus_area: self.focus_area,
        }
    }
}
