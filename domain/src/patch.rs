//! [`Patch`]: one field of a [`UserDetailPatch`], absent, `null` or a value.
//!
//! A patch is typed: each value in it is already valid (built through the value types'
//! constructors). Reading one from a wire format (JSON with Django REST framework's rules, say) is
//! the caller's business; the HTTP adapter does it in its `drf` module.

pub use crate::detail::UserDetailPatch;

/// One field of a patch: absent, explicitly `null`, or a value. Fields that may not be `null` are
/// plain `Option`s in a [`UserDetailPatch`] (absent or a value).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    /// The key was not sent: leave the field alone.
    #[default]
    Absent,
    /// The key was sent as `null`: clear the field.
    Null,
    /// The key was sent with this value.
    Value(T),
}

impl<T> Patch<T> {
    /// True when the key was not sent.
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// The value sent, if one was.
    pub fn value(&self) -> Option<&T> {
        match self {
            Patch::Value(v) => Some(v),
            Patch::Absent | Patch::Null => None,
        }
    }
}

/// Whether a field of a patch was sent (as a value, or as `null` where that is allowed).
pub trait Sent {
    /// True when the field was sent.
    fn is_sent(&self) -> bool;
}

impl<T> Sent for Patch<T> {
    fn is_sent(&self) -> bool {
        !self.is_absent()
    }
}

impl<T> Sent for Option<T> {
    fn is_sent(&self) -> bool {
        self.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Bio, Country};
    use crate::Field;

    #[test]
    fn an_empty_patch_sends_nothing() {
        assert!(UserDetailPatch::default().sent_fields().is_empty());
    }

    #[test]
    fn null_and_values_are_sent_absent_is_not() {
        let patch = UserDetailPatch {
            bio: Patch::Null,
            country: Some(Country::parse("PK").unwrap()),
            additional_data: Patch::Absent,
            ..UserDetailPatch::default()
        };
        assert_eq!(patch.sent_fields(), [Field::Bio, Field::Country]);
        assert_eq!(patch.bio.value(), None);
        let bio = Patch::Value(Bio::parse("b").unwrap());
        assert_eq!(bio.value().map(Bio::as_str), Some("b"));
        assert!(Patch::<Bio>::Absent.is_absent() && !bio.is_absent());
    }

    #[test]
    fn every_field_can_be_sent() {
        let sent = crate::testing::every_field_patched().sent_fields();
        assert_eq!(sent, Field::ALL);
    }
}
