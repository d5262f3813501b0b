//! Validated value types. Each is built through a constructor that checks its rule and returns a
//! [`ValueError`]; a value that exists is valid.
//!
//! "Characters" are Unicode scalar values. Every text type rejects the NUL character, which
//! PostgreSQL cannot store: that rule lives here so that no store ever has to refuse a value.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

/// Why a value was refused. Each rule has its own variant, so that a caller can tell them apart
/// and word them its own way (the HTTP adapter words them as Django REST framework does); the
/// `Display` text is plain English for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// A value was required and none was given.
    #[error("a value is required")]
    Required,
    /// `null` where a value is needed.
    #[error("may not be null")]
    Null,
    /// Empty, or only white space, where text is needed.
    #[error("may not be blank")]
    Blank,
    /// Longer than `max` characters.
    #[error("longer than {max} characters")]
    TooLong {
        /// The most characters allowed.
        max: usize,
    },
    /// Holds a NUL character.
    #[error("holds a NUL character")]
    Nul,
    /// Not an absolute `http` or `https` URL with a host.
    #[error("not an absolute http(s) URL with a host")]
    Url,
    /// Not a phone number.
    #[error("not a phone number")]
    Phone,
    /// Not a date written `YYYY-MM-DD`, or no such date.
    #[error("not a date written YYYY-MM-DD")]
    DateFormat,
    /// A date of birth after today.
    #[error("a date after today")]
    DateInFuture,
    /// A date of birth before `min_year`.
    #[error("a date before {min_year}")]
    DateTooEarly {
        /// The earliest year allowed.
        min_year: i32,
    },
    /// More than `max` distinct names in a list.
    #[error("more than {max} names")]
    TooManyNames {
        /// The most names allowed.
        max: usize,
    },
    /// A JSON document larger than `max_bytes` in its compact form.
    #[error("a JSON document larger than {max_bytes} bytes")]
    DocumentTooLarge {
        /// The largest size allowed.
        max_bytes: usize,
    },
    /// A JSON document nested deeper than `max_depth`.
    #[error("a JSON document nested deeper than {max_depth} levels")]
    DocumentTooDeep {
        /// The deepest nesting allowed.
        max_depth: usize,
    },
}

/// Checks a text against the rules every stored text shares: no NUL, at most `max` characters.
fn check_text(value: &str, max: usize) -> Result<(), ValueError> {
    if value.contains('\0') {
        return Err(ValueError::Nul);
    }
    if value.chars().count() > max {
        return Err(ValueError::TooLong { max });
    }
    Ok(())
}

macro_rules! text_accessors {
    ($t:ty) => {
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl $t {
            /// The text itself.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

/// The owner of a row: an opaque identifier from the token, 1 to 255 characters, no NUL. Integers
/// and UUIDs both occur; they are kept as their text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);
text_accessors!(UserId);

impl UserId {
    /// The longest accepted identifier, in characters.
    pub const MAX: usize = 255;

    /// Accepts a non-empty identifier of at most 255 characters without NUL.
    ///
    /// # Errors
    /// [`ValueError`] when the identifier is empty, too long or holds NUL.
    pub fn parse(value: impl Into<String>) -> Result<Self, ValueError> {
        let value = value.into();
        if value.is_empty() {
            return Err(ValueError::Blank);
        }
        check_text(&value, Self::MAX)?;
        Ok(Self(value))
    }
}

/// A row's version: it changes with every write, so it identifies one state of the row.
///
/// A new row starts at a version derived from the clock (microseconds since the epoch), so that a
/// row deleted and created again never repeats an earlier version; every update adds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(i64);

impl Version {
    /// Wraps a stored version.
    pub const fn new(value: i64) -> Self {
        Self(value)
    }

    /// The version of a row created at `micros` microseconds since the epoch (at least 1).
    pub fn initial(micros: i64) -> Self {
        Self(micros.max(1))
    }

    /// The version after one more write.
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }

    /// The number itself.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An absolute `http` or `https` URL of at most `MAX` characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpUrl<const MAX: usize>(String);

/// A profile link (`linkedin_url` … `portfolio_url`): at most 200 characters.
pub type LinkUrl = HttpUrl<200>;
/// A file reference (`profile_picture`, `resume`): at most 2048 characters.
pub type FileUrl = HttpUrl<2048>;

impl<const MAX: usize> HttpUrl<MAX> {
    /// Accepts an absolute http(s) URL with a host, of at most `MAX` characters. Surrounding white
    /// space is trimmed first, as DRF does.
    ///
    /// # Errors
    /// [`ValueError`] when the text is too long, holds NUL, or is not an http(s) URL with a host.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        check_text(value, MAX)?;
        if value.chars().any(char::is_whitespace) {
            return Err(ValueError::Url);
        }
        let parsed = url::Url::parse(value).map_err(|_| ValueError::Url)?;
        let scheme_ok = matches!(parsed.scheme(), "http" | "https");
        let host_ok = parsed.host_str().is_some_and(|h| !h.is_empty());
        if !scheme_ok || !host_ok {
            return Err(ValueError::Url);
        }
        Ok(Self(value.to_owned()))
    }

    /// The URL as the client gave it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> AsRef<str> for HttpUrl<MAX> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Display for HttpUrl<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text about the user: at most 5000 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bio(String);
text_accessors!(Bio);

impl Bio {
    /// The longest accepted bio, in characters.
    pub const MAX: usize = 5000;

    /// Accepts a text of at most 5000 characters after trimming.
    ///
    /// # Errors
    /// [`ValueError`] when the text is too long or holds NUL.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        check_text(value, Self::MAX)?;
        Ok(Self(value.to_owned()))
    }
}

/// The user's country: at most 100 characters, may be empty (the default).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Country(String);
text_accessors!(Country);

impl Country {
    /// The longest accepted country, in characters.
    pub const MAX: usize = 100;

    /// Accepts a text of at most 100 characters after trimming.
    ///
    /// # Errors
    /// [`ValueError`] when the text is too long or holds NUL.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        check_text(value, Self::MAX)?;
        Ok(Self(value.to_owned()))
    }
}

/// The kind of user (for example `developer` or `investor`): not blank, at most 50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserType(String);
text_accessors!(UserType);

impl UserType {
    /// The longest accepted user type, in characters.
    pub const MAX: usize = 50;

    /// Accepts a non-blank text of at most 50 characters after trimming.
    ///
    /// # Errors
    /// [`ValueError`] when the text is blank, too long or holds NUL.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(ValueError::Blank);
        }
        check_text(value, Self::MAX)?;
        Ok(Self(value.to_owned()))
    }

    /// The user type of details built only to carry the fields a patch sends
    /// ([`UserDetail::overwrite`](crate::UserDetail::overwrite)), which never writes it unless
    /// the patch sends one; not a valid user type, so it cannot pass for one.
    pub(crate) fn unsent() -> Self {
        Self(String::new())
    }
}

/// A phone number: at most 32 characters of digits, spaces and `+ - ( ) .`, with at least 4 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);
text_accessors!(Phone);

impl Phone {
    /// The longest accepted phone number, in characters.
    pub const MAX: usize = 32;
    /// The fewest digits a phone number has.
    pub const MIN_DIGITS: usize = 4;

    /// Accepts a phone number (trimmed first).
    ///
    /// # Errors
    /// [`ValueError`] when the text is blank (`null` clears a phone, `""` does not), too long,
    /// holds another character, or has under 4 digits.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(ValueError::Blank);
        }
        check_text(value, Self::MAX)?;
        let allowed =
            |c: char| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.');
        let digits = value.chars().filter(char::is_ascii_digit).count();
        if !value.chars().all(allowed) || digits < Self::MIN_DIGITS {
            return Err(ValueError::Phone);
        }
        Ok(Self(value.to_owned()))
    }
}

/// A date of birth: a calendar date in 1900 or later and not after "today" (the UTC date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateOfBirth(NaiveDate);

impl DateOfBirth {
    /// The earliest accepted year.
    pub const MIN_YEAR: i32 = 1900;

    /// Parses `YYYY-MM-DD` exactly and checks the date against `today`.
    ///
    /// # Errors
    /// [`ValueError`] for another format, an impossible date, a date after `today` or before 1900.
    pub fn parse(value: &str, today: NaiveDate) -> Result<Self, ValueError> {
        let value = value.trim();
        let shape_ok = value.len() == 10
            && value.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(ValueError::DateFormat);
        }
        let date =
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| ValueError::DateFormat)?;
        Self::new(date, today)
    }

    /// Checks a date against `today`.
    ///
    /// # Errors
    /// [`ValueError`] for a date after `today` or before 1900.
    pub fn new(date: NaiveDate, today: NaiveDate) -> Result<Self, ValueError> {
        if date > today {
            return Err(ValueError::DateInFuture);
        }
        Self::restore(date)
    }

    /// Accepts a date that was valid when it was stored: only the 1900 rule is checked, since a
    /// date that was not in the future then is not in the future now.
    ///
    /// # Errors
    /// [`ValueError`] for a date before 1900.
    pub fn restore(date: NaiveDate) -> Result<Self, ValueError> {
        if date.year() < Self::MIN_YEAR {
            return Err(ValueError::DateTooEarly {
                min_year: Self::MIN_YEAR,
            });
        }
        Ok(Self(date))
    }

    /// The date itself.
    pub fn date(self) -> NaiveDate {
        self.0
    }
}

impl fmt::Display for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `NaiveDate` shows itself as `%Y-%m-%d`, without parsing a format string each time.
        fmt::Display::fmt(&self.0, f)
    }
}

/// One name of a list (a skill, an interest, a tag): trimmed, 1 to 100 characters. Two names are
/// the same name when their [`key`](CatalogueName::key)s (Unicode lower case) are equal.
#[derive(Debug, Clone, Eq)]
pub struct CatalogueName {
    name: String,
    key: String,
}

impl CatalogueName {
    /// The longest accepted name, in characters.
    pub const MAX: usize = 100;

    /// Accepts a name of 1 to 100 characters after trimming.
    ///
    /// # Errors
    /// [`ValueError`] when the name is blank, too long or holds NUL.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let name = value.trim();
        if name.is_empty() {
            return Err(ValueError::Blank);
        }
        check_text(name, Self::MAX)?;
        Ok(Self {
            name: name.to_owned(),
            key: name.to_lowercase(),
        })
    }

    /// The name as spelled.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The case-insensitive key: the name in Unicode lower case. Catalogues are unique on it.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl PartialEq for CatalogueName {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl std::hash::Hash for CatalogueName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl fmt::Display for CatalogueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// An ordered list of names without case-insensitive duplicates, at most 50 long. Two lists are
/// equal when they hold the same keys in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NameList(Vec<CatalogueName>);

impl NameList {
    /// The most names a list holds (after duplicates collapse).
    pub const MAX: usize = 50;

    /// The empty list.
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// Builds a list from names, collapsing case-insensitive duplicates to their first occurrence
    /// and keeping the order.
    ///
    /// # Errors
    /// [`ValueError`] when more than 50 distinct names remain.
    pub fn new(names: impl IntoIterator<Item = CatalogueName>) -> Result<Self, ValueError> {
        let mut kept: Vec<CatalogueName> = Vec::new();
        for name in names {
            if !kept.iter().any(|k| k.key == name.key) {
                kept.push(name);
            }
        }
        if kept.len() > Self::MAX {
            return Err(ValueError::TooManyNames { max: Self::MAX });
        }
        Ok(Self(kept))
    }

    /// The names, in order.
    pub fn names(&self) -> &[CatalogueName] {
        &self.0
    }

    /// True when the list holds no name.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of names.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A free JSON document (`address`, `company_info`, `additional_data`): any JSON value but `null`
/// (which means "unset"), at most 16 KiB in its compact serialisation and 20 levels deep, with no
/// NUL character in any string or key.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonDocument(Value);

impl JsonDocument {
    /// The largest accepted document, in bytes of compact UTF-8 JSON.
    pub const MAX_BYTES: usize = 16 * 1024;
    /// The deepest accepted nesting; `[]` is 1 level, a scalar 0.
    pub const MAX_DEPTH: usize = 20;

    /// Accepts a document. `null` is not a document: callers treat it as "unset" before this.
    ///
    /// Numbers are kept exactly, in their plain decimal form: `1.50e1` becomes `15.0`, `1E+2`
    /// becomes `100`, `-0` becomes `0` (the text PostgreSQL's `numeric` gives back, so that every
    /// store reads a document back exactly as it was accepted). The size limit applies to that
    /// form.
    ///
    /// # Errors
    /// [`ValueError`] when the value is `null`, too large, too deep or holds NUL.
    pub fn new(mut value: Value) -> Result<Self, ValueError> {
        if value.is_null() {
            return Err(ValueError::Null);
        }
        if depth(&value) > Self::MAX_DEPTH {
            return Err(ValueError::DocumentTooDeep {
                max_depth: Self::MAX_DEPTH,
            });
        }
        if has_nul(&value) {
            return Err(ValueError::Nul);
        }
        let too_large = || ValueError::DocumentTooLarge {
            max_bytes: Self::MAX_BYTES,
        };
        if !plain_numbers(&mut value, Self::MAX_BYTES) || compact_len(&value) > Self::MAX_BYTES {
            return Err(too_large());
        }
        Ok(Self(value))
    }

    /// The document.
    pub fn value(&self) -> &Value {
        &self.0
    }

    /// The document, by value.
    pub fn into_value(self) -> Value {
        self.0
    }
}

/// Nesting depth: scalars 0, an array or object one more than its deepest member.
pub fn depth(value: &Value) -> usize {
    // Iterative, so that no input can exhaust the stack.
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(items) => {
                deepest = deepest.max(d + 1);
                stack.extend(items.iter().map(|i| (i, d + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(d + 1);
                stack.extend(map.values().map(|i| (i, d + 1)));
            }
            _ => deepest = deepest.max(d),
        }
    }
    deepest
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Rewrites every number of `value` in its plain decimal form ([`plain_decimal`]); false when one
/// of them would be longer than `max` characters.
fn plain_numbers(value: &mut Value, max: usize) -> bool {
    // Iterative, as `depth`, although the depth was checked first.
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Number(n) => {
                let Some(plain) = plain_decimal(n.as_str(), max) else {
                    return false;
                };
                // Stored documents are in plain form already: only a new form is parsed.
                if plain != n.as_str() {
                    match plain.parse() {
                        Ok(number) => *n = number,
                        Err(_) => return false,
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => stack.extend(map.values_mut()),
            _ => {}
        }
    }
    true
}

/// The exact plain decimal form of a JSON number (`-? int (. frac)? ([eE] [+-]? exp)?`), as
/// PostgreSQL's `numeric` prints it: no exponent, leading zeros dropped, as many fraction digits as
/// were written less the exponent (`1.50e1` is `15.0`, `1e-2` is `0.01`), zero without a sign.
/// `None` when the form would be longer than `max` characters (checked before it is built, so a
/// huge exponent costs nothing) or the text is not a JSON number.
pub fn plain_decimal(number: &str, max: usize) -> Option<String> {
    let (negative, rest) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, "0"),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = match mantissa.split_once('.') {
        Some((int, frac)) if all_digits(frac) => (int, frac),
        Some(_) => return None,
        None => (mantissa, ""),
    };
    let exp_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if !all_digits(int) || !all_digits(exp_digits) {
        return None;
    }
    // An exponent longer than any document is refused by length below; i64 holds the rest.
    let exp_digits = exp_digits.trim_start_matches('0');
    if exp_digits.len() > 12 {
        return None;
    }
    let exp: i64 = exp_digits.parse().unwrap_or(0);
    let exp = if exponent.starts_with('-') { -exp } else { exp };
    // value = digits x 10^shift; fraction digits shown = max(0, -shift).
    let digits = format!("{int}{frac}");
    let shift = exp - i64::try_from(frac.len()).ok()?;
    let significant = digits.trim_start_matches('0');
    let scale = usize::try_from((-shift).max(0)).ok()?;
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    if significant.is_empty() {
        // Zero: no sign, `scale` zeros after the point.
        if i64::try_from(scale).ok()? + 2 > max {
            return None;
        }
        return Some(if scale == 0 {
            "0".to_owned()
        } else {
            format!("0.{}", "0".repeat(scale))
        });
    }
    let sign = if negative { "-" } else { "" };
    let sig_len = i64::try_from(significant.len()).ok()?;
    if shift >= 0 {
        if i64::from(negative) + sig_len + shift > max {
            return None;
        }
        let zeros = usize::try_from(shift).ok()?;
        return Some(format!("{sign}{significant}{}", "0".repeat(zeros)));
    }
    let len = i64::from(negative) + sig_len.max(-shift + 1) + 1;
    if len > max {
        return None;
    }
    Some(if significant.len() > scale {
        let (whole, fraction) = significant.split_at(significant.len() - scale);
        format!("{sign}{whole}.{fraction}")
    } else {
        format!(
            "{sign}0.{}{significant}",
            "0".repeat(scale - significant.len())
        )
    })
}

/// The length of the compact UTF-8 serialisation.
fn compact_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a Value into an infallible sink cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn user_id_bounds() {
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse("a".repeat(255)).is_ok());
        assert!(UserId::parse("a".repeat(256)).is_err());
        assert!(UserId::parse("a\0b").is_err());
        assert_eq!(UserId::parse("42").unwrap().as_str(), "42");
    }

    #[test]
    fn link_urls_accept_http_and_https_up_to_200_characters() {
        let base = "https://example.com/";
        assert!(LinkUrl::parse(&format!("{base}{}", "a".repeat(200 - base.len()))).is_ok());
        let too_long = format!("{base}{}", "a".repeat(201 - base.len()));
        assert_eq!(
            LinkUrl::parse(&too_long).unwrap_err(),
            ValueError::TooLong { max: 200 }
        );
        assert!(LinkUrl::parse("http://example.com").is_ok());
        assert_eq!(
            LinkUrl::parse("  http://example.com  ").unwrap().as_str(),
            "http://example.com"
        );
    }

    #[test]
    fn urls_refuse_other_schemes_and_garbage() {
        for bad in [
            "ftp://example.com",
            "javascript:alert(1)",
            "example.com",
            "http://",
            "https://exa mple.com",
            "mailto:a@b.c",
            "",
        ] {
            assert_eq!(LinkUrl::parse(bad).unwrap_err(), ValueError::Url, "{bad}");
        }
    }

    #[test]
    fn file_urls_allow_2048_characters() {
        let base = "https://cdn.example.com/";
        assert!(FileUrl::parse(&format!("{base}{}", "a".repeat(2048 - base.len()))).is_ok());
        assert!(FileUrl::parse(&format!("{base}{}", "a".repeat(2049 - base.len()))).is_err());
    }

    #[test]
    fn length_counts_unicode_scalar_values() {
        assert!(Bio::parse(&"é".repeat(5000)).is_ok());
        assert!(Bio::parse(&"é".repeat(5001)).is_err());
        assert!(Country::parse(&"🇫".repeat(100)).is_ok());
        assert!(Country::parse(&"🇫".repeat(101)).is_err());
    }

    #[test]
    fn text_is_trimmed_and_nul_is_refused() {
        assert_eq!(Bio::parse("  hi \n").unwrap().as_str(), "hi");
        assert_eq!(Bio::parse("a\0").unwrap_err(), ValueError::Nul);
        assert_eq!(Country::parse("").unwrap().as_str(), "");
    }

    #[test]
    fn user_type_is_not_blank_and_at_most_50() {
        assert_eq!(UserType::parse("   ").unwrap_err(), ValueError::Blank);
        assert!(UserType::parse(&"x".repeat(50)).is_ok());
        assert!(UserType::parse(&"x".repeat(51)).is_err());
    }

    #[test]
    fn phone_rules() {
        assert!(Phone::parse("+1 (555) 010-0199").is_ok());
        assert!(Phone::parse("1234").is_ok());
        assert!(Phone::parse("123").is_err());
        assert_eq!(Phone::parse("  "), Err(ValueError::Blank));
        assert!(Phone::parse("12a34").is_err());
        assert!(Phone::parse(&"1".repeat(32)).is_ok());
        assert!(Phone::parse(&"1".repeat(33)).is_err());
        assert!(
            Phone::parse("٤٤٤٤").is_err(),
            "non-ASCII digits are not digits here"
        );
    }

    #[test]
    fn date_of_birth_rules() {
        let today = day(2026, 11, 29);
        assert_eq!(
            DateOfBirth::parse("2026-11-29", today).unwrap().date(),
            today
        );
        assert_eq!(
            DateOfBirth::parse("2026-11-30", today).unwrap_err(),
            ValueError::DateInFuture
        );
        assert!(DateOfBirth::parse("1900-01-01", today).is_ok());
        assert_eq!(
            DateOfBirth::parse("1899-12-31", today).unwrap_err(),
            ValueError::DateTooEarly { min_year: 1900 }
        );
        for bad in [
            "2020-1-01",
            "2020-01-1",
            "2020-001-1",
            "2020/01/01",
            "2020-02-30",
            "20200101",
            "01-01-2020",
            "2020-01-01T00:00",
        ] {
            assert_eq!(
                DateOfBirth::parse(bad, today).unwrap_err(),
                ValueError::DateFormat,
                "{bad}"
            );
        }
        assert_eq!(
            DateOfBirth::parse("2020-02-29", today).unwrap().to_string(),
            "2020-02-29"
        );
    }

    #[test]
    fn names_are_trimmed_and_compared_without_case() {
        let a = CatalogueName::parse("  Rust ").unwrap();
        let b = CatalogueName::parse("rUST").unwrap();
        assert_eq!(a.as_str(), "Rust");
        assert_eq!(a, b);
        assert_eq!(CatalogueName::parse(" ").unwrap_err(), ValueError::Blank);
        assert!(CatalogueName::parse(&"n".repeat(100)).is_ok());
        assert!(CatalogueName::parse(&"n".repeat(101)).is_err());
    }

    #[test]
    fn name_lists_collapse_duplicates_to_the_first_and_keep_order() {
        let names = ["Go", "rust", "GO", "Rust", "C"].map(|n| CatalogueName::parse(n).unwrap());
        let list = NameList::new(names).unwrap();
        let spelled: Vec<&str> = list.names().iter().map(CatalogueName::as_str).collect();
        assert_eq!(spelled, ["Go", "rust", "C"]);
    }

    #[test]
    fn the_fifty_name_limit_counts_after_collapsing() {
        let fifty = (0..50).map(|i| CatalogueName::parse(&format!("n{i}")).unwrap());
        let with_dupes = fifty
            .clone()
            .chain(std::iter::once(CatalogueName::parse("N0").unwrap()));
        assert_eq!(NameList::new(with_dupes).unwrap().len(), 50);
        let fifty_one = fifty.chain(std::iter::once(CatalogueName::parse("n50").unwrap()));
        assert!(NameList::new(fifty_one).is_err());
    }

    #[test]
    fn json_depth_counts_containers() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!([])), 1);
        assert_eq!(depth(&json!({"a": [1]})), 2);
        assert_eq!(depth(&json!({"a": {"b": {}}})), 3);
        assert_eq!(depth(&json!([[[]], 1])), 3);
    }

    #[test]
    fn json_documents_have_size_and_depth_limits() {
        let mut deep = json!(1);
        for _ in 0..20 {
            deep = json!([deep]);
        }
        assert!(JsonDocument::new(deep.clone()).is_ok());
        assert!(JsonDocument::new(json!([deep])).is_err());
        // {"a":"…"} is 8 bytes of syntax around the string.
        let fits = json!({"a": "x".repeat(16 * 1024 - 8)});
        assert!(JsonDocument::new(fits).is_ok());
        let over = json!({"a": "x".repeat(16 * 1024 - 7)});
        assert!(JsonDocument::new(over).is_err());
        assert!(JsonDocument::new(json!({"k\u{0}": 1})).is_err());
        assert_eq!(
            JsonDocument::new(json!({"k": ["a\u{0}"]})),
            Err(ValueError::Nul)
        );
        assert_eq!(JsonDocument::new(json!("a\u{0}")), Err(ValueError::Nul));
        assert_eq!(JsonDocument::new(Value::Null), Err(ValueError::Null));
        let kept = json!({"k": ["a", 1, null]});
        assert_eq!(JsonDocument::new(kept.clone()).unwrap().into_value(), kept);
    }

    #[test]
    fn plain_forms_fit_the_limit_exactly() {
        // A zero's plain form is "0." and its scale's zeros: the limit counts all of them.
        assert_eq!(plain_decimal("0.000", 5).as_deref(), Some("0.000"));
        assert_eq!(plain_decimal("0.000", 4), None);
        assert_eq!(plain_decimal("0.0", 3).as_deref(), Some("0.0"));
        assert_eq!(plain_decimal("0.0", 2), None);
        // A twelve-digit exponent still has a short form when the mantissa is zero.
        assert_eq!(plain_decimal("0e100000000000", 100).as_deref(), Some("0"));
        assert_eq!(plain_decimal("0e1000000000000", 100), None);
    }

    /// What PostgreSQL 15 printed for `SELECT '[…]'::jsonb` with each input.
    #[test]
    fn numbers_take_postgresql_numeric_plain_form() {
        let cases = [
            ("0.0100", "0.0100"),
            ("1.50e1", "15.0"),
            ("1E+2", "100"),
            ("-0", "0"),
            ("-0.00", "0.00"),
            ("12e-1", "1.2"),
            ("0.5e3", "500"),
            ("1e-2", "0.01"),
            ("1.0e-2", "0.010"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("0e5", "0"),
            ("0e-3", "0.000"),
            ("-1.5E-3", "-0.0015"),
            ("100e-2", "1.00"),
            ("1.23400", "1.23400"),
            ("2.5e+0", "2.5"),
            ("-7", "-7"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                plain_decimal(input, 100).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        let max = plain_decimal("1.7976931348623157e308", 400).unwrap();
        assert_eq!(max.len(), 309);
        assert!(max.starts_with("17976931348623157000"));
        let tiny = plain_decimal("5e-324", 400).unwrap();
        assert_eq!(tiny, format!("0.{}5", "0".repeat(323)));
    }

    #[test]
    fn numbers_longer_than_the_limit_in_plain_form_are_refused_before_they_are_built() {
        assert_eq!(plain_decimal("1e9", 10).as_deref(), Some("1000000000"));
        assert_eq!(plain_decimal("1e10", 10), None);
        assert_eq!(plain_decimal("-1e9", 10), None);
        assert_eq!(plain_decimal("1e-8", 10).as_deref(), Some("0.00000001"));
        assert_eq!(plain_decimal("1e-9", 10), None);
        assert_eq!(plain_decimal("1e999999999999999999999999", 1000), None);
        assert_eq!(plain_decimal("1e-999999999999999999999999", 1000), None);
        assert_eq!(plain_decimal("not a number", 10), None);
        assert_eq!(plain_decimal("1.", 10), None);
        assert_eq!(plain_decimal("1e", 10), None);
        // A document holding such a number is too large, whatever its text's length.
        let huge: Value = serde_json::from_str("[1e100000]").unwrap();
        assert!(JsonDocument::new(huge).is_err());
        let fits: Value = serde_json::from_str("[1e16000]").unwrap();
        assert_eq!(
            compact_len(JsonDocument::new(fits).unwrap().value()),
            16_003
        );
    }

    #[test]
    fn documents_keep_every_digit_of_their_numbers() {
        let body = r#"{"big": 123456789012345678901234567890, "precise": 0.1000000000000000055511151231257827,
            "max": 1.7976931348623157e308, "list": [1.50e1, -0, 18446744073709551616]}"#;
        let doc = JsonDocument::new(serde_json::from_str(body).unwrap()).unwrap();
        let text = serde_json::to_string(doc.value()).unwrap();
        assert!(
            text.contains(r#""big":123456789012345678901234567890"#),
            "{text}"
        );
        assert!(
            text.contains(r#""precise":0.1000000000000000055511151231257827"#),
            "{text}"
        );
        assert!(
            text.contains(r#""list":[15.0,0,18446744073709551616]"#),
            "{text}"
        );
        // Accepting a document twice changes nothing.
        let again = JsonDocument::new(doc.value().clone()).unwrap();
        assert_eq!(serde_json::to_string(again.value()).unwrap(), text);
    }

    proptest::proptest! {
        /// The plain form has the same value as the number written (read as a double) and is its
        /// own plain form.
        #[test]
        fn plain_forms_keep_the_value_and_are_stable(
            mantissa in -1_000_000_000i64..1_000_000_000,
            frac in proptest::option::of(0u32..1_000_000),
            exp in proptest::option::of(-40i32..40),
        ) {
            let mut text = mantissa.to_string();
            if let Some(frac) = frac {
                text.push_str(&format!(".{frac:06}"));
            }
            if let Some(exp) = exp {
                text.push_str(&format!("e{exp}"));
            }
            let plain = plain_decimal(&text, 1000).unwrap();
            let (a, b): (f64, f64) = (text.parse().unwrap(), plain.parse().unwrap());
            proptest::prop_assert_eq!(a, b);
            proptest::prop_assert!(!plain.contains(['e', 'E']));
            proptest::prop_assert_eq!(plain_decimal(&plain, 1000), Some(plain.clone()));
        }
    }

    #[test]
    fn versions_start_from_the_clock_and_grow() {
        assert_eq!(Version::initial(0).get(), 1);
        assert_eq!(Version::initial(10).next().get(), 11);
        assert_eq!(Version::new(i64::MAX).next().get(), i64::MAX);
        assert_eq!(Version::new(42).to_string(), "42");
    }

    #[test]
    fn values_show_their_text() {
        let url = LinkUrl::parse(" https://example.com/a ").unwrap();
        assert_eq!(url.as_str(), "https://example.com/a");
        assert_eq!(AsRef::<str>::as_ref(&url), "https://example.com/a");
        assert_eq!(url.to_string(), "https://example.com/a");
        let bio = Bio::parse("b").unwrap();
        assert_eq!(
            (AsRef::<str>::as_ref(&bio), bio.to_string()),
            ("b", "b".into())
        );
        let hash = |n: &str| {
            use std::hash::{BuildHasher, BuildHasherDefault};
            let name = CatalogueName::parse(n).unwrap();
            BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(&name)
        };
        assert_eq!(hash("Rust"), hash("rust"), "the hash follows the key");
        assert_ne!(hash("Rust"), hash("Go"));
        let name = CatalogueName::parse(" Rust ").unwrap();
        assert_eq!(
            (name.as_str(), name.key(), name.to_string()),
            ("Rust", "rust", "Rust".into())
        );
        let dob = DateOfBirth::restore(day(1990, 1, 2)).unwrap();
        assert_eq!(
            (dob.to_string(), dob.date()),
            ("1990-01-02".into(), day(1990, 1, 2))
        );
    }
}
