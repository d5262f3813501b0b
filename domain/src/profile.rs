//! [`UserProfile`]: the read model behind the representation.

use crate::detail::UserDetail;
use crate::figures::Figures;

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
