//! The wire format of writes, as Django REST framework reads and reports it: a JSON body becomes a
//! typed [`UserDetailPatch`], and every failure, the domain's typed [`ValueError`]s included, is
//! worded as DRF words it and shaped as `{"field": ["message"]}` (list items by index).
//!
//! The reading of each field is generated from the domain's table of fields
//! ([`iam_domain::writable_fields!`]); how a value type is read is [`FromWire`], how a patch slot
//! (`Patch<T>` or `Option<T>`) is read is [`Slot`]. A new value type is a compile error here until
//! it says how it is read, and a new [`ValueError`] until it has a message.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use iam_domain::social::FactError;
use iam_domain::values::{
    Bio, CatalogueName, Country, DateOfBirth, HttpUrl, JsonDocument, NameList, Phone, UserType,
    ValueError,
};
use iam_domain::{Field, InvalidFields, Patch, UserDetailPatch};
use serde_json::{Map, Value};

/// DRF's messages.
pub mod messages {
    /// A required key was absent.
    pub const REQUIRED: &str = "This field is required.";
    /// `null` where it is not allowed.
    pub const NOT_NULL: &str = "This field may not be null.";
    /// A blank string where it is not allowed.
    pub const BLANK: &str = "This field may not be blank.";
    /// A value that is not a string.
    pub const NOT_STRING: &str = "Not a valid string.";
    /// A value that is not `true`, `false` or `null`.
    pub const NOT_BOOLEAN: &str = "Must be a valid boolean.";
    /// A malformed URL.
    pub const URL: &str = "Enter a valid URL.";
    /// A NUL character in text.
    pub const NUL: &str = "Null characters are not allowed.";
    /// A malformed date and time.
    pub const DATETIME_FORMAT: &str =
        "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]]+HH:MM|-HH:MM|Z.";
    /// A malformed date.
    pub const DATE_FORMAT: &str =
        "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";
    /// A date of birth after today.
    pub const DOB_FUTURE: &str = "Date of birth cannot be in the future.";
    /// A malformed phone number.
    pub const PHONE: &str = "Enter a valid phone number.";
    /// Strict mode: a key that names no field.
    pub const UNKNOWN: &str = "Unknown field.";
    /// Strict mode: a read-only key.
    pub const READ_ONLY: &str = "This field is read-only.";

    /// A text longer than `max` characters.
    pub fn max_length(max: usize) -> String {
        format!("Ensure this field has no more than {max} characters.")
    }

    /// A list longer than `max` items.
    pub fn max_items(max: usize) -> String {
        format!("Ensure this field has no more than {max} elements.")
    }

    /// A body that is not a JSON object.
    pub fn not_an_object(body: &serde_json::Value) -> String {
        format!(
            "Invalid data. Expected a dictionary, but got {}.",
            super::type_name(body)
        )
    }

    /// A list field that got something else.
    pub fn not_a_list(got: &str) -> String {
        format!("Expected a list of items but got type \"{got}\".")
    }
}

use messages as msg;

/// The message a client sees for a rule a value breaks.
pub fn message(error: ValueError) -> String {
    match error {
        ValueError::Required => msg::REQUIRED.into(),
        ValueError::Null => msg::NOT_NULL.into(),
        ValueError::Blank => msg::BLANK.into(),
        ValueError::TooLong { max } => msg::max_length(max),
        ValueError::Nul => msg::NUL.into(),
        ValueError::Url => msg::URL.into(),
        ValueError::Phone => msg::PHONE.into(),
        ValueError::DateFormat => msg::DATE_FORMAT.into(),
        ValueError::DateInFuture => msg::DOB_FUTURE.into(),
        ValueError::DateTooEarly { min_year } => {
            format!("Date of birth must be in {min_year} or later.")
        }
        ValueError::TooManyNames { max } => msg::max_items(max),
        ValueError::DocumentTooLarge { max_bytes } => {
            format!("Ensure this JSON document is no larger than {max_bytes} bytes.")
        }
        ValueError::DocumentTooDeep { max_depth } => {
            format!("Ensure this JSON document is nested no deeper than {max_depth} levels.")
        }
    }
}

/// The message a client of the internal API sees for a rule a fact breaks.
pub fn fact_message(error: FactError) -> String {
    match error {
        FactError::Blank => msg::BLANK.into(),
        FactError::TooLong { max } => msg::max_length(max),
        FactError::Control => "Control characters are not allowed.".into(),
        FactError::Comma => "A title may not contain a comma.".into(),
        FactError::NotFinite => "A valid number is required.".into(),
        FactError::TooLate => "Must not be later than tomorrow (UTC).".into(),
    }
}

/// The read-only keys of the representation: accepted and ignored in a write, or refused under
/// `Prefer: handling=strict`.
pub const READ_ONLY: [&str; 15] = [
    "skills_data",
    "investment_interests_data",
    "technical_interests_data",
    "focus_area_data",
    "top_domain_elo",
    "top_domain_rank",
    "streak",
    "highest_streak",
    "streak_freeze_days",
    "title",
    "unlocked_titles",
    "followers_count",
    "following_count",
    "is_following",
    "is_followed_back",
];

/// The messages for one key: about the value as a whole, or about items of a list, addressed by
/// their index in the list the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// Messages about the whole value.
    Messages(Vec<String>),
    /// Messages about individual list items, by index.
    Items(BTreeMap<usize, Vec<String>>),
}

/// Every failing key of one request, in key order, as DRF reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    errors: BTreeMap<String, FieldError>,
}

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One error about a whole key.
    pub fn single(key: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(key, message);
        errors
    }

    /// Records a message about the whole key `key`. If item errors were recorded for it, the
    /// whole-value message replaces them: a client must first fix the value as a whole.
    pub fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        let entry = self
            .errors
            .entry(key.into())
            .or_insert_with(|| FieldError::Messages(Vec::new()));
        match entry {
            FieldError::Messages(messages) => messages.push(message.into()),
            FieldError::Items(_) => *entry = FieldError::Messages(vec![message.into()]),
        }
    }

    /// Records a message about item `index` of the list under `key`.
    pub fn add_item(&mut self, key: impl Into<String>, index: usize, message: impl Into<String>) {
        let entry = self
            .errors
            .entry(key.into())
            .or_insert_with(|| FieldError::Items(BTreeMap::new()));
        if let FieldError::Items(items) = entry {
            items.entry(index).or_default().push(message.into());
        }
    }

    /// True when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The error recorded for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&FieldError> {
        self.errors.get(key)
    }

    /// The failing keys and their errors, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldError)> {
        self.errors.iter().map(|(k, v)| (k.as_str(), v))
    }

    fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.errors.keys().map(String::as_str).collect();
        write!(f, "invalid fields: {}", keys.join(", "))
    }
}

impl std::error::Error for FieldErrors {}

impl From<&InvalidFields> for FieldErrors {
    fn from(invalid: &InvalidFields) -> Self {
        let mut errors = FieldErrors::new();
        for e in invalid.iter() {
            errors.add(e.field.name(), message(e.error));
        }
        errors
    }
}

/// Which write a body is for; it decides which keys are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// `POST`: creates the row; `user_type` is required.
    Create,
    /// `PUT`: a full update; `user_type` is required.
    Replace,
    /// `PATCH`: a partial update; nothing is required.
    Partial,
}

/// What reading a body needs besides the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Today's UTC date, for the date-of-birth rule.
    pub today: NaiveDate,
    /// `Prefer: handling=strict`: unknown and read-only keys are errors instead of being ignored.
    pub strict: bool,
    /// Which write this is.
    pub mode: WriteMode,
}

/// The JSON type names DRF uses in its messages (Python's).
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Why a value could not be read: a message still to record, or item messages already recorded.
pub enum Failure {
    /// One message about the whole value.
    Message(String),
    /// Messages about list items, recorded already.
    ItemsRecorded,
}

impl From<ValueError> for Failure {
    fn from(error: ValueError) -> Self {
        Failure::Message(message(error))
    }
}

fn text(value: &Value) -> Result<&str, Failure> {
    value
        .as_str()
        .ok_or_else(|| Failure::Message(msg::NOT_STRING.into()))
}

/// Reads the keys of one body, collecting every failure.
pub struct Reader<'a> {
    body: &'a Map<String, Value>,
    errors: FieldErrors,
    today: NaiveDate,
}

impl Reader<'_> {
    fn fail(&mut self, field: Field, failure: Failure) {
        if let Failure::Message(message) = failure {
            self.errors.add(field.name(), message);
        }
    }
}

/// A value type as the wire sends it.
pub trait FromWire: Sized {
    /// True when a blank string clears the field as `null` does (DRF's URL fields).
    const BLANK_CLEARS: bool = false;
    /// Reads a value that is not `null`.
    ///
    /// # Errors
    /// The [`Failure`] to report under `field`.
    fn from_wire(value: &Value, field: Field, reader: &mut Reader<'_>) -> Result<Self, Failure>;
}

macro_rules! from_text {
    ($($t:ty),*) => {$(
        impl FromWire for $t {
            fn from_wire(value: &Value, _: Field, _: &mut Reader<'_>) -> Result<Self, Failure> {
                Ok(<$t>::parse(text(value)?)?)
            }
        }
    )*};
}
from_text!(Bio, Country, Phone, UserType);

impl<const MAX: usize> FromWire for HttpUrl<MAX> {
    const BLANK_CLEARS: bool = true;
    fn from_wire(value: &Value, _: Field, _: &mut Reader<'_>) -> Result<Self, Failure> {
        Ok(HttpUrl::parse(text(value)?)?)
    }
}

impl FromWire for DateOfBirth {
    fn from_wire(value: &Value, _: Field, reader: &mut Reader<'_>) -> Result<Self, Failure> {
        Ok(DateOfBirth::parse(text(value)?, reader.today)?)
    }
}

impl FromWire for bool {
    fn from_wire(value: &Value, _: Field, _: &mut Reader<'_>) -> Result<Self, Failure> {
        value
            .as_bool()
            .ok_or_else(|| Failure::Message(msg::NOT_BOOLEAN.into()))
    }
}

impl FromWire for JsonDocument {
    fn from_wire(value: &Value, _: Field, _: &mut Reader<'_>) -> Result<Self, Failure> {
        Ok(JsonDocument::new(value.clone())?)
    }
}

/// A list of names; item failures are recorded by index.
impl FromWire for NameList {
    fn from_wire(value: &Value, field: Field, reader: &mut Reader<'_>) -> Result<Self, Failure> {
        let Value::Array(items) = value else {
            return Err(Failure::Message(msg::not_a_list(type_name(value))));
        };
        let mut names = Vec::with_capacity(items.len());
        let mut item_failed = false;
        for (index, item) in items.iter().enumerate() {
            let name = match item.as_str() {
                Some(s) => CatalogueName::parse(s).map_err(message),
                None => Err(msg::NOT_STRING.to_owned()),
            };
            match name {
                Ok(name) => names.push(name),
                Err(message) => {
                    item_failed = true;
                    reader.errors.add_item(field.name(), index, message);
                }
            }
        }
        if item_failed {
            return Err(Failure::ItemsRecorded);
        }
        Ok(NameList::new(names)?)
    }
}

/// A field of a patch as the wire sends it: absent, `null` or a value.
pub trait Slot: Sized {
    /// Reads the key of `field` from the reader's body.
    fn read(reader: &mut Reader<'_>, field: Field) -> Self;
}

/// A field that `null` clears.
impl<T: FromWire> Slot for Patch<T> {
    fn read(reader: &mut Reader<'_>, field: Field) -> Self {
        let body = reader.body;
        match body.get(field.name()) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(Value::String(s)) if T::BLANK_CLEARS && s.trim().is_empty() => Patch::Null,
            Some(value) => match T::from_wire(value, field, reader) {
                Ok(v) => Patch::Value(v),
                Err(failure) => {
                    reader.fail(field, failure);
                    Patch::Absent
                }
            },
        }
    }
}

/// A field that may not be `null`.
impl<T: FromWire> Slot for Option<T> {
    fn read(reader: &mut Reader<'_>, field: Field) -> Self {
        let body = reader.body;
        match body.get(field.name()) {
            None => None,
            Some(Value::Null) => {
                reader.fail(field, Failure::Message(msg::NOT_NULL.into()));
                None
            }
            Some(value) => match T::from_wire(value, field, reader) {
                Ok(v) => Some(v),
                Err(failure) => {
                    reader.fail(field, failure);
                    None
                }
            },
        }
    }
}

/// Reads every field of the table from `reader`.
macro_rules! read_fields {
    ($($(#[$doc:meta])* $variant:ident $name:ident: $value:ty, $patch:ty;)*) => {
        fn read_fields(reader: &mut Reader<'_>) -> UserDetailPatch {
            UserDetailPatch {
                $($name: <$patch as Slot>::read(reader, Field::$variant),)*
            }
        }
    };
}
iam_domain::writable_fields!(read_fields);

/// Reads a request body (any JSON) into a patch with DRF's rules.
///
/// A body that is not an object is refused whole (`non_field_errors`). Keys that name no writable
/// field are ignored (read-only ones too), unless `options.strict`, when each is an error:
/// `Unknown field.` or `This field is read-only.`. Under [`WriteMode::Create`] and
/// [`WriteMode::Replace`], `user_type` is required.
///
/// # Errors
/// [`FieldErrors`] naming every failing key at once.
pub fn parse_patch(body: &Value, options: ParseOptions) -> Result<UserDetailPatch, FieldErrors> {
    let Value::Object(body) = body else {
        return Err(FieldErrors::single(
            "non_field_errors",
            msg::not_an_object(body),
        ));
    };
    let mut reader = Reader {
        body,
        errors: FieldErrors::new(),
        today: options.today,
    };
    let patch = read_fields(&mut reader);
    let mut errors = reader.errors;
    if matches!(options.mode, WriteMode::Create | WriteMode::Replace)
        && !body.contains_key(Field::UserType.name())
    {
        errors.add(Field::UserType.name(), msg::REQUIRED);
    }
    if options.strict {
        for key in body.keys() {
            if READ_ONLY.contains(&key.as_str()) {
                errors.add(key.clone(), msg::READ_ONLY);
            } else if Field::from_name(key).is_none() {
                errors.add(key.clone(), msg::UNKNOWN);
            }
        }
    }
    errors.into_result(patch)
}

#[cfg(test)]
mod tests;
