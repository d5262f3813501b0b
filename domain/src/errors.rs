//! [`InvalidFields`]: the fields a write could not take, each with the rule it breaks.

use std::fmt;

use crate::detail::Field;
use crate::values::ValueError;

/// One field a write could not take, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidField {
    /// The field.
    pub field: Field,
    /// The rule it breaks.
    pub error: ValueError,
}

/// Every field a write could not take, in [`Field::ALL`] order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidFields(Vec<InvalidField>);

impl InvalidFields {
    /// One invalid field.
    pub fn one(field: Field, error: ValueError) -> Self {
        Self(vec![InvalidField { field, error }])
    }

    /// `Ok(value)` when `errors` is empty, the errors otherwise.
    ///
    /// # Errors
    /// [`InvalidFields`] holding `errors` when there is any.
    pub fn check<T>(mut errors: Vec<InvalidField>, value: T) -> Result<T, InvalidFields> {
        if errors.is_empty() {
            return Ok(value);
        }
        errors.sort_by_key(|e| e.field);
        Err(Self(errors))
    }

    /// The invalid fields, in [`Field::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = &InvalidField> {
        self.0.iter()
    }
}

impl fmt::Display for InvalidFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid fields: ")?;
        for (i, e) in self.0.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(f, "{separator}{} ({})", e.field, e.error)?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidFields {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_is_ok_only_without_errors_and_orders_by_field() {
        assert_eq!(InvalidFields::check(Vec::new(), 3), Ok(3));
        let errors = vec![
            InvalidField {
                field: Field::AdditionalData,
                error: ValueError::Null,
            },
            InvalidField {
                field: Field::Bio,
                error: ValueError::Nul,
            },
        ];
        let invalid = InvalidFields::check(errors, 3).unwrap_err();
        let fields: Vec<Field> = invalid.iter().map(|e| e.field).collect();
        assert_eq!(fields, [Field::Bio, Field::AdditionalData]);
        assert_eq!(
            invalid.to_string(),
            "invalid fields: bio (holds a NUL character), additional_data (may not be null)"
        );
        assert_eq!(
            InvalidFields::one(Field::Dob, ValueError::DateFormat)
                .iter()
                .count(),
            1
        );
    }
}
