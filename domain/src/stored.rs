//! The details as storage sees them: each field as a plain column value, and back.
//!
//! Every store binds a field through [`UserDetail::column`] and rebuilds details through
//! [`UserDetail::restore`], so the mapping from fields to columns is written once. Restoring
//! re-validates every value: a field whose stored value cannot be read or breaks a rule (written
//! around the service, say) is never a value that exists without being valid; it is named in
//! [`Restored::unreadable`] and takes its unset value, so that a write can replace it.

use chrono::NaiveDate;
use serde_json::Value;

use crate::detail::{Field, UserDetail};
use crate::values::{
    Bio, CatalogueName, Country, DateOfBirth, HttpUrl, JsonDocument, NameList, Phone, UserId,
    UserType, ValueError, Version,
};

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
    /// The details; each unreadable field holds its unset value.
    pub detail: UserDetail,
    /// The fields that could not be read, with why; empty for a sound row.
    pub unreadable: Vec<RestoreError>,
}

/// Why a stored field could not become part of the details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored field {field} is invalid: {error}")]
pub struct RestoreError {
    /// The field.
    pub field: Field,
    /// The rule it breaks (or the type it does not have).
    pub error: ValueError,
}

impl Field {
    /// True for the four lists kept in link tables rather than columns.
    pub const fn is_list(self) -> bool {
        matches!(
            self,
            Field::Skills
                | Field::InvestmentInterests
                | Field::TechnicalInterests
                | Field::FocusArea
        )
    }
}

impl UserDetail {
    /// The value of `field`, as a column holds it.
    pub fn column(&self, field: Field) -> Column<'_> {
        fn text<T: AsRef<str>>(v: &Option<T>) -> Column<'_> {
            Column::Text(v.as_ref().map(AsRef::as_ref))
        }
        fn json(v: &Option<JsonDocument>) -> Column<'_> {
            Column::Json(v.as_ref().map(JsonDocument::value))
        }
        match field {
            Field::ProfilePicture => text(&self.profile_picture),
            Field::Bio => text(&self.bio),
            Field::Address => json(&self.address),
            Field::Country => Column::Text(Some(self.country.as_str())),
            Field::Phone => text(&self.phone),
            Field::Dob => Column::Date(self.dob.map(DateOfBirth::date)),
            Field::UserType => Column::Text(Some(self.user_type.as_str())),
            Field::LinkedinUrl => text(&self.linkedin_url),
            Field::GithubUrl => text(&self.github_url),
            Field::TwitterUrl => text(&self.twitter_url),
            Field::FacebookUrl => text(&self.facebook_url),
            Field::WebsiteUrl => text(&self.website_url),
            Field::PortfolioUrl => text(&self.portfolio_url),
            Field::Skills => Column::Names(&self.skills),
            Field::InvestmentInterests => Column::Names(&self.investment_interests),
            Field::TechnicalInterests => Column::Names(&self.technical_interests),
            Field::FocusArea => Column::Names(&self.focus_area),
            Field::Resume => text(&self.resume),
            Field::CommunicationPreferencesPhone => {
                Column::Bool(self.communication_preferences_phone)
            }
            Field::CommunicationPreferencesEmail => {
                Column::Bool(self.communication_preferences_email)
            }
            Field::PlatformFeaturesEmails => Column::Bool(self.platform_features_emails),
            Field::ActivityBasedEmails => Column::Bool(self.activity_based_emails),
            Field::CompanyInfo => json(&self.company_info),
            Field::AdditionalData => json(&self.additional_data),
        }
    }

    /// Rebuilds details from stored values, re-validating each. `value(field)` reads the stored
    /// value of each writable field (once, in [`Field::ALL`] order) and may fail, as decoding a
    /// column can. A field that fails to read, breaks a rule or has the wrong kind of value takes
    /// its unset value and is named in [`Restored::unreadable`].
    ///
    /// # Errors
    /// [`RestoreError`] when `user_type`, which has no unset value, cannot be read.
    pub fn restore<E: std::fmt::Display>(
        user_id: UserId,
        version: Version,
        mut value: impl FnMut(Field) -> Result<StoredValue, E>,
    ) -> Result<Restored, RestoreError> {
        let mut unreadable = Vec::new();
        let mut values: Vec<StoredValue> = Field::ALL
            .into_iter()
            .map(|field| {
                value(field).unwrap_or_else(|e| {
                    unreadable.push(RestoreError {
                        field,
                        error: ValueError(e.to_string()),
                    });
                    unset(field)
                })
            })
            .collect();
        loop {
            match Self::from_values(user_id.clone(), version, &values) {
                Ok(detail) => return Ok(Restored { detail, unreadable }),
                Err(error) if error.field != Field::UserType => {
                    values[error.field as usize] = unset(error.field);
                    unreadable.push(error);
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn from_values(
        user_id: UserId,
        version: Version,
        values: &[StoredValue],
    ) -> Result<UserDetail, RestoreError> {
        let get = |field: Field| &values[field as usize];
        let wrong_kind = |field| RestoreError {
            field,
            error: ValueError("unexpected column type".into()),
        };
        let fail = |field| move |error| RestoreError { field, error };
        let text = |field: Field| match get(field) {
            StoredValue::Text(t) => Ok(t.as_deref()),
            _ => Err(wrong_kind(field)),
        };
        macro_rules! parsed {
            ($field:expr, $parse:expr) => {{
                let field = $field;
                text(field)?.map($parse).transpose().map_err(fail(field))?
            }};
        }
        let json = |field: Field| match get(field) {
            StoredValue::Json(v) => v
                .clone()
                .filter(|v| !v.is_null())
                .map(JsonDocument::new)
                .transpose()
                .map_err(fail(field)),
            _ => Err(wrong_kind(field)),
        };
        let boolean = |field: Field| match get(field) {
            StoredValue::Bool(b) => Ok(*b),
            _ => Err(wrong_kind(field)),
        };
        let names = |field: Field| match get(field) {
            StoredValue::Names(names) => names
                .iter()
                .map(|n| CatalogueName::parse(n))
                .collect::<Result<Vec<_>, _>>()
                .and_then(NameList::new)
                .map_err(fail(field)),
            _ => Err(wrong_kind(field)),
        };
        let dob = match get(Field::Dob) {
            StoredValue::Date(d) => d
                .map(DateOfBirth::restore)
                .transpose()
                .map_err(fail(Field::Dob))?,
            _ => return Err(wrong_kind(Field::Dob)),
        };
        Ok(UserDetail {
            user_id,
            version,
            profile_picture: parsed!(Field::ProfilePicture, HttpUrl::parse),
            bio: parsed!(Field::Bio, Bio::parse),
            address: json(Field::Address)?,
            country: parsed!(Field::Country, Country::parse).unwrap_or_default(),
            phone: parsed!(Field::Phone, Phone::parse),
            dob,
            user_type: parsed!(Field::UserType, UserType::parse)
                .ok_or_else(|| fail(Field::UserType)(ValueError("missing".into())))?,
            linkedin_url: parsed!(Field::LinkedinUrl, HttpUrl::parse),
            github_url: parsed!(Field::GithubUrl, HttpUrl::parse),
            twitter_url: parsed!(Field::TwitterUrl, HttpUrl::parse),
            facebook_url: parsed!(Field::FacebookUrl, HttpUrl::parse),
            website_url: parsed!(Field::WebsiteUrl, HttpUrl::parse),
            portfolio_url: parsed!(Field::PortfolioUrl, HttpUrl::parse),
            skills: names(Field::Skills)?,
            investment_interests: names(Field::InvestmentInterests)?,
            technical_interests: names(Field::TechnicalInterests)?,
            focus_area: names(Field::FocusArea)?,
            resume: parsed!(Field::Resume, HttpUrl::parse),
            communication_preferences_phone: boolean(Field::CommunicationPreferencesPhone)?,
            communication_preferences_email: boolean(Field::CommunicationPreferencesEmail)?,
            platform_features_emails: boolean(Field::PlatformFeaturesEmails)?,
            activity_based_emails: boolean(Field::ActivityBasedEmails)?,
            company_info: json(Field::CompanyInfo)?,
            additional_data: json(Field::AdditionalData)?,
        })
    }
}

/// The value a new row holds for `field` (only asked for a field that cannot be read, so a sound
/// row never builds it). `user_type` has none; any valid one stands in, since it is never taken.
fn unset(field: Field) -> StoredValue {
    match (UserId::parse("unset"), UserType::parse("unset")) {
        (Ok(user), Ok(user_type)) => UserDetail::new(user, Version::new(1), user_type)
            .column(field)
            .into(),
        // Both are valid constants; a text column's unset value is NULL either way.
        _ => StoredValue::Text(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::JsonMode;
    use crate::patch::{ParseOptions, UserDetailPatch, WriteMode};
    use serde_json::json;

    fn owned(column: Column<'_>) -> StoredValue {
        column.into()
    }

    #[test]
    fn every_field_round_trips_through_its_column() {
        let body = json!({
            "user_type": "developer", "bio": "b", "country": "PK", "phone": "+92 300 1234567",
            "dob": "1990-01-02", "profile_picture": "https://x.example/p.png",
            "linkedin_url": "https://linkedin.com/in/x", "github_url": "https://github.com/x",
            "skills": ["Rust", "Go"], "focus_area": ["AI"], "address": {"city": "Lahore"},
            "company_info": [1], "additional_data": "s", "platform_features_emails": null,
            "activity_based_emails": true,
        });
        let options = ParseOptions {
            today: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            strict: false,
            mode: WriteMode::Create,
        };
        let patch = UserDetailPatch::parse_value(&body, options).unwrap();
        let detail = UserDetail::create(
            UserId::parse("u").unwrap(),
            Version::new(3),
            &patch,
            JsonMode::Replace,
        )
        .unwrap();
        let restored = UserDetail::restore(detail.user_id.clone(), detail.version, |f| {
            Ok::<_, RestoreError>(owned(detail.column(f)))
        })
        .unwrap();
        assert_eq!(restored.detail, detail);
        assert!(restored.unreadable.is_empty());
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
        let mut named: Vec<Field> = restored.unreadable.iter().map(|e| e.field).collect();
        named.sort_by_key(|f| *f as usize);
        assert_eq!(
            named,
            [
                Field::GithubUrl,
                Field::Skills,
                Field::PlatformFeaturesEmails,
                Field::CompanyInfo
            ]
        );
        let why = &restored.unreadable[0];
        assert_eq!(why.field, Field::CompanyInfo);
        assert_eq!(why.error.0, "undecodable JSON");
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
