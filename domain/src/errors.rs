//! Validation failures, shaped so the HTTP layer can render them as Django REST framework does:
//! `{"field": ["message", ...]}`, and for list items `{"field": {"0": ["message"]}}`.

use std::collections::BTreeMap;
use std::fmt;

/// The messages for one field: either about the field as a whole, or about items of a list,
/// addressed by their index in the list the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// Messages about the whole field.
    Messages(Vec<String>),
    /// Messages about individual list items, by index.
    Items(BTreeMap<usize, Vec<String>>),
}

/// Every failing field of one request, in field-name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    errors: BTreeMap<String, FieldError>,
}

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One error about a whole field.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Records a message about the whole field `field`.
    ///
    /// If item errors were already recorded for the field, the whole-field message replaces them:
    /// a client must first fix the field as a whole.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let entry = self
            .errors
            .entry(field.into())
            .or_insert_with(|| FieldError::Messages(Vec::new()));
        match entry {
            FieldError::Messages(messages) => messages.push(message.into()),
            FieldError::Items(_) => *entry = FieldError::Messages(vec![message.into()]),
        }
    }

    /// Records a message about item `index` of the list field `field`.
    pub fn add_item(&mut self, field: impl Into<String>, index: usize, message: impl Into<String>) {
        let entry = self
            .errors
            .entry(field.into())
            .or_insert_with(|| FieldError::Items(BTreeMap::new()));
        if let FieldError::Items(items) = entry {
            items.entry(index).or_default().push(message.into());
        }
    }

    /// Moves every error of `other` into `self`.
    pub fn extend(&mut self, other: FieldErrors) {
        for (field, error) in other.errors {
            match error {
                FieldError::Messages(messages) => {
                    for message in messages {
                        self.add(field.clone(), message);
                    }
                }
                FieldError::Items(items) => {
                    for (index, messages) in items {
                        for message in messages {
                            self.add_item(field.clone(), index, message);
                        }
                    }
                }
            }
        }
    }

    /// True when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The error recorded for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.errors.get(field)
    }

    /// The failing fields and their errors, in field-name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldError)> {
        self.errors.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `Ok(value)` when nothing failed, the errors otherwise.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.errors.keys().map(String::as_str).collect();
        write!(f, "invalid fields: {}", names.join(", "))
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_messages_and_items_per_field() {
        let mut errors = FieldErrors::new();
        errors.add("bio", "too long");
        errors.add("bio", "bad");
        errors.add_item("skills", 2, "Not a valid string.");
        assert_eq!(
            errors.get("bio"),
            Some(&FieldError::Messages(vec!["too long".into(), "bad".into()]))
        );
        assert_eq!(
            errors.get("skills"),
            Some(&FieldError::Items(BTreeMap::from([(
                2,
                vec!["Not a valid string.".into()]
            )])))
        );
        assert!(!errors.is_empty());
    }

    #[test]
    fn a_whole_field_message_replaces_item_messages() {
        let mut errors = FieldErrors::new();
        errors.add_item("skills", 0, "x");
        errors.add("skills", "too many");
        assert_eq!(
            errors.get("skills"),
            Some(&FieldError::Messages(vec!["too many".into()]))
        );
    }

    #[test]
    fn into_result_is_ok_only_without_errors() {
        assert_eq!(FieldErrors::new().into_result(3), Ok(3));
        assert!(FieldErrors::single("a", "b").into_result(3).is_err());
    }
}
