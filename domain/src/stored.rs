//! The details as storage sees them: each field as a plain column value, and back.
//!
//! Every store binds a field through [`UserDetail::column`] and rebuilds details through
//! [`UserDetail::restore`], so the mapping from fields to columns is written once, by the value
//! types ([`StoredField`]). Restoring re-validates every value: a field whose stored value cannot
//! be read or breaks a rule (written around the service, say) is never a value that exists without
//! being valid; it is named in [`Restored::unreadable`] and takes a new row's value, so that a
//! write can replace it.

use std::fmt;

use chrono::NaiveDate;
use serde_json::Value;

use crate::detail::{Field, UserDetail};
use crate::values::{
    Bio, CatalogueName, Country, DateOfBirth, HttpUrl, JsonDocument, NameList, Phone, UserId,
    UserType, ValueError, Version,
};

/// How a field is stored: the shape of its [`Column`] and [`StoredValue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A text column.
    Text,
    /// A JSON column.
    Json,
    /// A boolean column.
    Bool,
    /// A date column.
    Date,
    /// A list of catalogue names kept in a link table.
    Names,
}

/// One field's value, borrowed from the details, as a column holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Column<'a> {
    /// A text column (`NULL` when `None`).
    Text(Option<&'a str>),
    /// A JSON column (`NULL` when `None`).
    Json(Option<&'a Value>),
    /// A boolean column (`NULL` when `None`).
    Bool(Option<bool>),
    /// A date column (`NULL` when `None`).
    Date(Option<NaiveDate>),
    /// A list kept in a link table, in order.
    Names(&'a NameList),
}

impl Column<'_> {
    /// The kind of column this is.
    pub fn kind(&self) -> Kind {
        match self {
            Column::Text(_) => Kind::Text,
            Column::Json(_) => Kind::Json,
            Column::Bool(_) => Kind::Bool,
            Column::Date(_) => Kind::Date,
            Column::Names(_) => Kind::Names,
        }
    }
}

/// One field's value as read from storage, before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredValue {
    /// A text column.
    Text(Option<String>),
    /// A JSON column.
    Json(Option<Value>),
    /// A boolean column.
    Bool(Option<bool>),
    /// A date column.
    Date(Option<NaiveDate>),
    /// The names of a list, in order (the catalogue's spelling).
    Names(Vec<String>),
}

impl From<Column<'_>> for StoredValue {
    fn from(column: Column<'_>) -> Self {
        match column {
            Column::Text(t) => StoredValue::Text(t.map(str::to_owned)),
            Column::Json(v) => StoredValue::Json(v.cloned()),
            Column::Bool(b) => StoredValue::Bool(b),
            Column::Date(d) => StoredValue::Date(d),
            Column::Names(n) => {
                StoredValue::Names(n.names().iter().map(|n| n.as_str().to_owned()).collect())
            }
        }
    }
}

/// Details rebuilt from a stored row.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// The details; each unreadable field holds a new row's value.
    pub detail: UserDetail,
    /// The fields that could not be read, with why, in [`Field::ALL`] order; empty for a sound row.
    pub unreadable: Vec<RestoreError>,
}

/// Why a stored value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// The store could not decode the column (its message).
    Decode(String),
    /// The store gave a value of another kind than the field's.
    WrongKind {
        /// The field's kind.
        expected: Kind,
    },
    /// The value breaks the field's rule.
    Invalid(ValueError),
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::Decode(message) => f.write_str(message),
            Unreadable::WrongKind { expected } => write!(f, "not a {expected:?} value"),
            Unreadable::Invalid(error) => write!(f, "{error}"),
        }
    }
}

/// Why a stored field could not become part of the details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored field {field} is invalid: {cause}")]
pub struct RestoreError {
    /// The field.
    pub field: Field,
    /// What is wrong with it.
    pub cause: Unreadable,
}

/// A type a field of [`UserDetail`] holds: how it is stored, read back and first set.
pub trait StoredField: Sized {
    /// How the field is stored.
    const KIND: Kind;
    /// The value as a column holds it.
    fn to_column(&self) -> Column<'_>;
    /// The value from a stored one, checked against its rule.
    ///
    /// # Errors
    /// [`Unreadable`] when the stored value has another kind or breaks the rule.
    fn from_stored(value: StoredValue) -> Result<Self, Unreadable>;
    /// The value a new row holds; `user_type` is the new row's.
    fn fresh(user_type: &UserType) -> Self;
}

/// A value that may be unset: `Option<T>` of it is a field, `None` a `NULL` column.
pub trait NullableValue: Sized {
    /// How the field is stored.
    const KIND: Kind;
    /// The column holding `value` (`None` for `NULL`).
    fn to_column(value: Option<&Self>) -> Column<'_>;
    /// The value from a stored one (`None` for `NULL`).
    ///
    /// # Errors
    /// [`Unreadable`] when the stored value has another kind or breaks the rule.
    fn from_stored(value: StoredValue) -> Result<Option<Self>, Unreadable>;
    /// The value a new row holds.
    fn fresh() -> Option<Self> {
        None
    }
}

impl<T: NullableValue> StoredField for Option<T> {
    const KIND: Kind = T::KIND;
    fn to_column(&self) -> Column<'_> {
        T::to_column(self.as_ref())
    }
    fn from_stored(value: StoredValue) -> Result<Self, Unreadable> {
        T::from_stored(value)
    }
    fn fresh(_: &UserType) -> Self {
        T::fresh()
    }
}

fn wrong(expected: Kind) -> Unreadable {
    Unreadable::WrongKind { expected }
}

/// Text read back through `parse`: `NULL` is `None`.
fn text<T>(
    value: StoredValue,
    parse: impl FnOnce(&str) -> Result<T, ValueError>,
) -> Result<Option<T>, Unreadable> {
    match value {
        StoredValue::Text(t) => t
            .as_deref()
            .map(parse)
            .transpose()
            .map_err(Unreadable::Invalid),
        _ => Err(wrong(Kind::Text)),
    }
}

macro_rules! nullable_text {
    ($($t:ty),*) => {$(
        impl NullableValue for $t {
            const KIND: Kind = Kind::Text;
            fn to_column(value: Option<&Self>) -> Column<'_> {
                Column::Text(value.map(|v| v.as_ref()))
            }
            fn from_stored(value: StoredValue) -> Result<Option<Self>, Unreadable> {
                text(value, <$t>::parse)
            }
        }
    )*};
}
nullable_text!(Bio, Phone);

impl<const MAX: usize> NullableValue for HttpUrl<MAX> {
    const KIND: Kind = Kind::Text;
    fn to_column(value: Option<&Self>) -> Column<'_> {
        Column::Text(value.map(HttpUrl::as_str))
    }
    fn from_stored(value: StoredValue) -> Result<Option<Self>, Unreadable> {
        text(value, HttpUrl::parse)
    }
}

impl NullableValue for DateOfBirth {
    const KIND: Kind = Kind::Date;
    fn to_column(value: Option<&Self>) -> Column<'_> {
        Column::Date(value.map(|d| d.date()))
    }
    fn from_stored(value: StoredValue) -> Result<Option<Self>, Unreadable> {
        match value {
            StoredValue::Date(d) => d
                .map(DateOfBirth::restore)
                .transpose()
                .map_err(Unreadable::Invalid),
            _ => Err(wrong(Kind::Date)),
        }
    }
}

impl NullableValue for bool {
    const KIND: Kind = Kind::Bool;
    fn to_column(value: Option<&Self>) -> Column<'_> {
        Column::Bool(value.copied())
    }
    fn from_stored(value: StoredValue) -> Result<Option<Self>, Unreadable> {
        match value {
            StoredValue::Bool(b) => Ok(b),
            _ => Err(wrong(Kind::Bool)),
        }
    }
    /// The four preferences start `false`.
    fn fresh() -> Option<Self> {
        Some(false)
    }
}

impl NullableValue for JsonDocument {
    const KIND: Kind = Kind::Json;
    fn to_column(value: Option<&Self>) -> Column<'_> {
        Column::Json(value.map(JsonDocument::value))
    }
    fn from_stored(value: StoredValue) -> Result<Option<Self>, Unreadable> {
        match value {
            // A JSON `null` in the column is unset too.
            StoredValue::Json(v) => v
                .filter(|v| !v.is_null())
                .map(JsonDocument::new)
                .transpose()
                .map_err(Unreadable::Invalid),
            _ => Err(wrong(Kind::Json)),
        }
    }
}

impl StoredField for Country {
    const KIND: Kind = Kind::Text;
    fn to_column(&self) -> Column<'_> {
        Column::Text(Some(self.as_str()))
    }
    /// `NULL` reads as the empty country.
    fn from_stored(value: StoredValue) -> Result<Self, Unreadable> {
        text(value, Country::parse).map(Option::unwrap_or_default)
    }
    fn fresh(_: &UserType) -> Self {
        Country::default()
    }
}

impl StoredField for UserType {
    const KIND: Kind = Kind::Text;
    fn to_column(&self) -> Column<'_> {
        Column::Text(Some(self.as_str()))
    }
    fn from_stored(value: StoredValue) -> Result<Self, Unreadable> {
        text(value, UserType::parse)?.ok_or(Unreadable::Invalid(ValueError::Null))
    }
    fn fresh(user_type: &UserType) -> Self {
        user_type.clone()
    }
}

impl StoredField for NameList {
    const KIND: Kind = Kind::Names;
    fn to_column(&self) -> Column<'_> {
        Column::Names(self)
    }
    fn from_stored(value: StoredValue) -> Result<Self, Unreadable> {
        match value {
            StoredValue::Names(names) => names
                .iter()
                .map(|n| CatalogueName::parse(n))
                .collect::<Result<Vec<_>, _>>()
                .and_then(NameList::new)
                .map_err(Unreadable::Invalid),
            _ => Err(wrong(Kind::Names)),
        }
    }
    fn fresh(_: &UserType) -> Self {
        NameList::empty()
    }
}

/// The value of `field` from `values` (taken, so each is decoded once), or a new row's value with
/// the field named in `unreadable`.
pub(crate) fn decode_or_fresh<T: StoredField>(
    field: Field,
    values: &mut [Option<Result<StoredValue, Unreadable>>],
    user_type: &UserType,
    unreadable: &mut Vec<RestoreError>,
) -> T {
    let value = values[field as usize]
        .take()
        .unwrap_or(Err(Unreadable::Decode("read twice".into())));
    match value.and_then(T::from_stored) {
        Ok(value) => value,
        Err(cause) => {
            unreadable.push(RestoreError { field, cause });
            T::fresh(user_type)
        }
    }
}

impl UserDetail {
    /// Rebuilds details from stored values, re-validating each. `value(field)` reads the stored
    /// value of each writable field (once, in [`Field::ALL`] order) and may fail, as decoding a
    /// column can. A field that fails to read, breaks a rule or has the wrong kind of value takes
    /// a new row's value and is named in [`Restored::unreadable`].
    ///
    /// # Errors
    /// [`RestoreError`] when `user_type`, which a new row cannot make up, cannot be read.
    pub fn restore<E: fmt::Display>(
        user_id: UserId,
        version: Version,
        mut value: impl FnMut(Field) -> Result<StoredValue, E>,
    ) -> Result<Restored, RestoreError> {
        let mut values: Vec<Option<Result<StoredValue, Unreadable>>> = Field::ALL
            .into_iter()
            .map(|field| Some(value(field).map_err(|e| Unreadable::Decode(e.to_string()))))
            .collect();
        let user_type = values[Field::UserType as usize]
            .clone()
            .unwrap_or(Err(Unreadable::Decode("missing".into())))
            .and_then(UserType::from_stored)
            .map_err(|cause| RestoreError {
                field: Field::UserType,
                cause,
            })?;
        let mut unreadable = Vec::new();
        let detail =
            UserDetail::decoded(user_id, version, &user_type, &mut values, &mut unreadable);
        Ok(Restored { detail, unreadable })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{LinkUrl, UserType};

    fn owned(column: Column<'_>) -> StoredValue {
        column.into()
    }

    fn sample() -> UserDetail {
        crate::testing::every_field_set()
    }

    #[test]
    fn every_field_round_trips_through_its_column() {
        let detail = sample();
        for field in Field::ALL {
            assert_eq!(detail.column(field).kind(), field.kind(), "{field}");
        }
        let restored = UserDetail::restore(detail.user_id.clone(), detail.version, |f| {
            Ok::<_, RestoreError>(owned(detail.column(f)))
        })
        .unwrap();
        assert_eq!(restored.detail, detail);
        assert!(restored.unreadable.is_empty());
    }

    #[test]
    fn null_columns_read_as_a_new_rows_values_where_one_exists() {
        let restored = UserDetail::restore(UserId::parse("u").unwrap(), Version::new(2), |f| {
            Ok::<_, RestoreError>(match f.kind() {
                Kind::Text if f == Field::UserType => StoredValue::Text(Some("dev".into())),
                Kind::Text => StoredValue::Text(None),
                Kind::Json => StoredValue::Json(Some(Value::Null)),
                Kind::Bool => StoredValue::Bool(None),
                Kind::Date => StoredValue::Date(None),
                Kind::Names => StoredValue::Names(Vec::new()),
            })
        })
        .unwrap();
        assert!(restored.unreadable.is_empty());
        let d = restored.detail;
        assert_eq!(d.country.as_str(), "");
        assert_eq!((d.address, d.activity_based_emails), (None, None));
        assert_eq!(d.github_url, None::<LinkUrl>);
        assert_eq!(d.user_type, UserType::parse("dev").unwrap());
    }

    #[test]
    fn an_invalid_stored_value_is_an_error_naming_the_field() {
        let detail = UserDetail::new(
            UserId::parse("u").unwrap(),
            Version::new(1),
            UserType::parse("d").unwrap(),
        );
        let mut with_bio = detail.clone();
        with_bio.bio = Some(Bio::parse("kept").unwrap());
        let restored = UserDetail::restore(detail.user_id.clone(), detail.version, |f| match f {
            Field::GithubUrl => Ok(StoredValue::Text(Some("not a url".into()))),
            Field::Skills => Ok(StoredValue::Names(vec![String::new()])),
            Field::CompanyInfo => Err("undecodable JSON"),
            Field::PlatformFeaturesEmails => Ok(StoredValue::Text(Some("yes".into()))),
            f => Ok(owned(with_bio.column(f))),
        })
        .unwrap();
        // Every other field is read; the unreadable ones are unset and named, with why.
        assert_eq!(restored.detail, with_bio);
        let named: Vec<Field> = restored.unreadable.iter().map(|e| e.field).collect();
        assert_eq!(
            named,
            [
                Field::GithubUrl,
                Field::Skills,
                Field::PlatformFeaturesEmails,
                Field::CompanyInfo
            ]
        );
        let causes: Vec<&Unreadable> = restored.unreadable.iter().map(|e| &e.cause).collect();
        assert_eq!(
            causes,
            [
                &Unreadable::Invalid(ValueError::Url),
                &Unreadable::Invalid(ValueError::Blank),
                &Unreadable::WrongKind {
                    expected: Kind::Bool
                },
                &Unreadable::Decode("undecodable JSON".into()),
            ]
        );
    }

    #[test]
    fn causes_say_what_is_wrong() {
        assert_eq!(
            Unreadable::Decode("bad bytes".into()).to_string(),
            "bad bytes"
        );
        assert_eq!(
            Unreadable::WrongKind {
                expected: Kind::Date
            }
            .to_string(),
            "not a Date value"
        );
        let invalid = RestoreError {
            field: Field::Bio,
            cause: Unreadable::Invalid(ValueError::Nul),
        };
        assert_eq!(
            invalid.to_string(),
            "stored field bio is invalid: holds a NUL character"
        );
    }

    #[test]
    fn a_row_whose_user_type_cannot_be_read_is_an_error() {
        let detail = UserDetail::new(
            UserId::parse("u").unwrap(),
            Version::new(1),
            UserType::parse("d").unwrap(),
        );
        let err = UserDetail::restore(detail.user_id.clone(), detail.version, |f| match f {
            Field::UserType => Ok(StoredValue::Text(Some("   ".into()))),
            f => Ok::<_, RestoreError>(owned(detail.column(f))),
        })
        .unwrap_err();
        assert_eq!(err.field, Field::UserType);
    }
}
