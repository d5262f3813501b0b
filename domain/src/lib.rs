//! # iam-domain: the pure rules of the user-details service
//!
//! This crate owns everything the service *knows* and nothing it *does*: it performs no I/O, spawns
//! nothing and depends on no framework, so other services can reuse its rules as they are.
//!
//! - [`values`]: validated value types (URLs, phone, date of birth, names, JSON documents…). A value
//!   that exists is valid; every constructor returns a typed error.
//! - [`detail`]: the [`UserDetail`] aggregate (what is stored for one user) and [`Field`], the
//!   names of its writable fields.
//! - [`patch`]: [`UserDetailPatch`], what a client asked to change, built from untrusted JSON with
//!   every rule of the validation table checked and **all** failures reported at once as
//!   [`FieldErrors`].
//! - [`merge`]: applying a patch (PATCH, PUT, create) and RFC 7396 JSON Merge Patch; the result
//!   lists the fields that actually changed, so storage writes only those.
//! - [`figures`]: the read-only figures (rank, streaks, titles) as pure functions over plain data.
//! - [`profile`]: [`UserProfile`], the read model: details, catalogue entries and figures.
//! - [`stored`]: each field as a plain column value and back, shared by every store.
//! - [`errors`]: [`FieldErrors`], validation failures keyed by field (and by list index).

pub mod detail;
pub mod errors;
pub mod figures;
pub mod merge;
pub mod patch;
pub mod profile;
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
pub use values::{UserId, ValueError, Version};
