//! [`UserDetailPatch`]: what a client asked to change, validated.
//!
//! A patch is built from the untrusted JSON object of a request body. Every key is checked against
//! the validation table of the contract and **all** failures are reported at once. Each field of a
//! patch has three states ([`Patch`]): absent (leave it alone), `null` (clear it) and a value; fields
//! that may not be `null` are plain `Option`s (absent or a value).

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::detail::Field;
use crate::errors::FieldErrors;
use crate::values::messages as msg;
use crate::values::{
    Bio, CatalogueName, Country, DateOfBirth, FileUrl, JsonDocument, LinkUrl, NameList, Phone,
    UserType, ValueError,
};

/// One field of a patch: absent, explicitly `null`, or a value.
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

    /// The value to store given the current one: the current one when absent.
    pub fn resolve(&self, current: &Option<T>) -> Option<T>
    where
        T: Clone,
    {
        match self {
            Patch::Absent => current.clone(),
            Patch::Null => None,
            Patch::Value(v) => Some(v.clone()),
        }
    }
}

/// Which write a patch is for; it decides which keys are required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// `POST`: creates the row; `user_type` is required.
    Create,
    /// `PUT`: a full update; `user_type` is required.
    Replace,
    /// `PATCH`: a partial update; nothing is required.
    Partial,
}

/// What parsing needs besides the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Today's UTC date, for the date-of-birth rule.
    pub today: NaiveDate,
    /// `Prefer: handling=strict`: unknown and read-only keys are errors instead of being ignored.
    pub strict: bool,
    /// Which write this is.
    pub mode: WriteMode,
}

/// A validated request to change a user's details. Build it with [`UserDetailPatch::parse`].
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(missing_docs)] // each field is the wire field of the same name
pub struct UserDetailPatch {
    pub profile_picture: Patch<FileUrl>,
    pub bio: Patch<Bio>,
    pub address: Patch<JsonDocument>,
    pub country: Option<Country>,
    pub phone: Patch<Phone>,
    pub dob: Patch<DateOfBirth>,
    pub user_type: Option<UserType>,
    pub linkedin_url: Patch<LinkUrl>,
    pub github_url: Patch<LinkUrl>,
    pub twitter_url: Patch<LinkUrl>,
    pub facebook_url: Patch<LinkUrl>,
    pub website_url: Patch<LinkUrl>,
    pub portfolio_url: Patch<LinkUrl>,
    pub skills: Option<NameList>,
    pub investment_interests: Option<NameList>,
    /// `null` clears the list (it reads back as `[]`).
    pub technical_interests: Patch<NameList>,
    /// `null` clears the list (it reads back as `[]`).
    pub focus_area: Patch<NameList>,
    pub resume: Patch<FileUrl>,
    pub communication_preferences_phone: Patch<bool>,
    pub communication_preferences_email: Patch<bool>,
    pub platform_features_emails: Patch<bool>,
    pub activity_based_emails: Patch<bool>,
    pub company_info: Patch<JsonDocument>,
    pub additional_data: Patch<JsonDocument>,
}

/// The JSON type names DRF uses in its messages.
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

/// Why a field failed: a message still to record, or messages about list items already recorded.
enum Failure {
    Message(ValueError),
    ItemsRecorded,
}

impl From<ValueError> for Failure {
    fn from(error: ValueError) -> Self {
        Failure::Message(error)
    }
}

/// Reads the key `field` of the body with `parse`, recording its error under the field's name.
struct Reader<'a> {
    body: &'a Map<String, Value>,
    errors: FieldErrors,
    options: ParseOptions,
}

impl Reader<'_> {
    fn fail(&mut self, field: Field, failure: Failure) {
        if let Failure::Message(error) = failure {
            self.errors.add(field.name(), error.0);
        }
    }

    /// A nullable field.
    fn nullable<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&mut Self, &Value) -> Result<T, Failure>,
    ) -> Patch<T> {
        match self.body.get(field.name()) {
            None => Patch::Absent,
            Some(Value::Null) => Patch::Null,
            Some(value) => match parse(self, value) {
                Ok(v) => Patch::Value(v),
                Err(e) => {
                    self.fail(field, e);
                    Patch::Absent
                }
            },
        }
    }

    /// A field that may not be `null`.
    fn required<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&mut Self, &Value) -> Result<T, Failure>,
    ) -> Option<T> {
        match self.body.get(field.name()) {
            None => None,
            Some(Value::Null) => {
                self.fail(field, ValueError(msg::NOT_NULL.into()).into());
                None
            }
            Some(value) => match parse(self, value) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.fail(field, e);
                    None
                }
            },
        }
    }

    fn string(value: &Value) -> Result<&str, ValueError> {
        value
            .as_str()
            .ok_or_else(|| ValueError(msg::NOT_STRING.into()))
    }

    fn text<T>(
        &mut self,
        field: Field,
        parse: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Patch<T> {
        self.nullable(field, |_, v| Ok(Self::string(v).and_then(parse)?))
    }

    /// A URL field where `""` (after trimming) clears, as `null` does.
    fn url<const MAX: usize>(&mut self, field: Field) -> Patch<crate::values::HttpUrl<MAX>> {
        if let Some(Value::String(s)) = self.body.get(field.name()) {
            if s.trim().is_empty() {
                return Patch::Null;
            }
        }
        self.text(field, crate::values::HttpUrl::<MAX>::parse)
    }

    fn boolean(&mut self, field: Field) -> Patch<bool> {
        self.nullable(field, |_, v| {
            Ok(v.as_bool()
                .ok_or_else(|| ValueError(msg::NOT_BOOLEAN.into()))?)
        })
    }

    fn json(&mut self, field: Field) -> Patch<JsonDocument> {
        self.nullable(field, |_, v| Ok(JsonDocument::new(v.clone())?))
    }

    /// A list of names; item errors are recorded by index.
    fn names(&mut self, field: Field, value: &Value) -> Result<NameList, Failure> {
        let Value::Array(items) = value else {
            return Err(ValueError(msg::not_a_list(type_name(value))).into());
        };
        let mut names = Vec::with_capacity(items.len());
        let mut item_failed = false;
        for (index, item) in items.iter().enumerate() {
            match Self::string(item).and_then(CatalogueName::parse) {
                Ok(name) => names.push(name),
                Err(e) => {
                    item_failed = true;
                    self.errors.add_item(field.name(), index, e.0);
                }
            }
        }
        if item_failed {
            return Err(Failure::ItemsRecorded);
        }
        Ok(NameList::new(names)?)
    }

    fn list(&mut self, field: Field) -> Option<NameList> {
        self.required(field, |r, v| r.names(field, v))
    }

    fn nullable_list(&mut self, field: Field) -> Patch<NameList> {
        self.nullable(field, |r, v| r.names(field, v))
    }
}

impl UserDetailPatch {
    /// Validates a request body (a JSON object) into a patch.
    ///
    /// Keys that name no writable field are ignored (read-only ones too), unless
    /// `options.strict`, when each is an error: `Unknown field.` or `This field is read-only.`.
    /// Under [`WriteMode::Create`] and [`WriteMode::Replace`], `user_type` is required.
    ///
    /// # Errors
    /// [`FieldErrors`] naming every failing field at once.
    pub fn parse(body: &Map<String, Value>, options: ParseOptions) -> Result<Self, FieldErrors> {
        let mut r = Reader {
            body,
            errors: FieldErrors::new(),
            options,
        };
        let today = r.options.today;
        let patch = UserDetailPatch {
            profile_picture: r.url(Field::ProfilePicture),
            bio: r.text(Field::Bio, Bio::parse),
            address: r.json(Field::Address),
            country: r.required(Field::Country, |_, v| {
                Ok(Reader::string(v).and_then(Country::parse)?)
            }),
            phone: r.text(Field::Phone, Phone::parse),
            dob: r.text(Field::Dob, |s| DateOfBirth::parse(s, today)),
            user_type: r.required(Field::UserType, |_, v| {
                Ok(Reader::string(v).and_then(UserType::parse)?)
            }),
            linkedin_url: r.url(Field::LinkedinUrl),
            github_url: r.url(Field::GithubUrl),
            twitter_url: r.url(Field::TwitterUrl),
            facebook_url: r.url(Field::FacebookUrl),
            website_url: r.url(Field::WebsiteUrl),
            portfolio_url: r.url(Field::PortfolioUrl),
            skills: r.list(Field::Skills),
            investment_interests: r.list(Field::InvestmentInterests),
            technical_interests: r.nullable_list(Field::TechnicalInterests),
            focus_area: r.nullable_list(Field::FocusArea),
            resume: r.url(Field::Resume),
            communication_preferences_phone: r.boolean(Field::CommunicationPreferencesPhone),
            communication_preferences_email: r.boolean(Field::CommunicationPreferencesEmail),
            platform_features_emails: r.boolean(Field::PlatformFeaturesEmails),
            activity_based_emails: r.boolean(Field::ActivityBasedEmails),
            company_info: r.json(Field::CompanyInfo),
            additional_data: r.json(Field::AdditionalData),
        };
        let mut errors = r.errors;
        if matches!(options.mode, WriteMode::Create | WriteMode::Replace)
            && !body.contains_key(Field::UserType.name())
        {
            errors.add(Field::UserType.name(), msg::REQUIRED);
        }
        if options.strict {
            for key in body.keys() {
                if Field::READ_ONLY.contains(&key.as_str()) {
                    errors.add(key.clone(), msg::READ_ONLY);
                } else if Field::from_name(key).is_none() {
                    errors.add(key.clone(), msg::UNKNOWN);
                }
            }
        }
        errors.into_result(patch)
    }

    /// Parses any JSON value: a body that is not an object is refused as DRF refuses it.
    ///
    /// # Errors
    /// `non_field_errors` for a non-object, otherwise as [`UserDetailPatch::parse`].
    pub fn parse_value(body: &Value, options: ParseOptions) -> Result<Self, FieldErrors> {
        match body {
            Value::Object(map) => Self::parse(map, options),
            other => Err(FieldErrors::single(
                "non_field_errors",
                format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    type_name(other)
                ),
            )),
        }
    }

    /// The fields this patch sends (present as a value or as `null`).
    pub fn sent_fields(&self) -> Vec<Field> {
        let mut sent = Vec::new();
        let mut mark = |present: bool, field: Field| {
            if present {
                sent.push(field);
            }
        };
        mark(!self.profile_picture.is_absent(), Field::ProfilePicture);
        mark(!self.bio.is_absent(), Field::Bio);
        mark(!self.address.is_absent(), Field::Address);
        mark(self.country.is_some(), Field::Country);
        mark(!self.phone.is_absent(), Field::Phone);
        mark(!self.dob.is_absent(), Field::Dob);
        mark(self.user_type.is_some(), Field::UserType);
        mark(!self.linkedin_url.is_absent(), Field::LinkedinUrl);
        mark(!self.github_url.is_absent(), Field::GithubUrl);
        mark(!self.twitter_url.is_absent(), Field::TwitterUrl);
        mark(!self.facebook_url.is_absent(), Field::FacebookUrl);
        mark(!self.website_url.is_absent(), Field::WebsiteUrl);
        mark(!self.portfolio_url.is_absent(), Field::PortfolioUrl);
        mark(self.skills.is_some(), Field::Skills);
        mark(
            self.investment_interests.is_some(),
            Field::InvestmentInterests,
        );
        mark(
            !self.technical_interests.is_absent(),
            Field::TechnicalInterests,
        );
        mark(!self.focus_area.is_absent(), Field::FocusArea);
        mark(!self.resume.is_absent(), Field::Resume);
        mark(
            !self.communication_preferences_phone.is_absent(),
            Field::CommunicationPreferencesPhone,
        );
        mark(
            !self.communication_preferences_email.is_absent(),
            Field::CommunicationPreferencesEmail,
        );
        mark(
            !self.platform_features_emails.is_absent(),
            Field::PlatformFeaturesEmails,
        );
        mark(
            !self.activity_based_emails.is_absent(),
            Field::ActivityBasedEmails,
        );
        mark(!self.company_info.is_absent(), Field::CompanyInfo);
        mark(!self.additional_data.is_absent(), Field::AdditionalData);
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::FieldError;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn options(mode: WriteMode, strict: bool) -> ParseOptions {
        ParseOptions {
            today: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            strict,
            mode,
        }
    }

    fn partial(body: Value) -> Result<UserDetailPatch, FieldErrors> {
        UserDetailPatch::parse_value(&body, options(WriteMode::Partial, false))
    }

    fn messages(errors: &FieldErrors, field: &str) -> Vec<String> {
        match errors.get(field) {
            Some(FieldError::Messages(m)) => m.clone(),
            other => panic!("{field}: {other:?}"),
        }
    }

    #[test]
    fn an_empty_body_sends_nothing() {
        assert_eq!(partial(json!({})).unwrap(), UserDetailPatch::default());
    }

    #[test]
    fn absent_null_and_value_are_three_states() {
        let p = partial(json!({"bio": null, "phone": "+1 555 0100"})).unwrap();
        assert_eq!(p.bio, Patch::Null);
        assert!(matches!(p.phone, Patch::Value(_)));
        assert_eq!(p.dob, Patch::Absent);
        assert_eq!(p.sent_fields(), vec![Field::Bio, Field::Phone]);
    }

    #[test]
    fn every_failing_field_is_reported_at_once() {
        let errors = partial(json!({
            "linkedin_url": "ftp://x",
            "dob": "tomorrow",
            "user_type": null,
            "country": 3,
            "skills": ["ok", 5, " "],
            "activity_based_emails": "true",
            "bio": "fine",
        }))
        .unwrap_err();
        let names: Vec<&str> = errors.iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "activity_based_emails",
                "country",
                "dob",
                "linkedin_url",
                "skills",
                "user_type"
            ]
        );
        assert_eq!(messages(&errors, "user_type"), [msg::NOT_NULL]);
        assert_eq!(
            messages(&errors, "activity_based_emails"),
            [msg::NOT_BOOLEAN]
        );
        assert_eq!(
            errors.get("skills"),
            Some(&FieldError::Items(BTreeMap::from([
                (1, vec![msg::NOT_STRING.to_owned()]),
                (2, vec![msg::BLANK.to_owned()]),
            ])))
        );
    }

    #[test]
    fn booleans_are_only_true_false_or_null() {
        for bad in [json!("true"), json!(1), json!(0), json!([]), json!({})] {
            let e = partial(json!({"platform_features_emails": bad})).unwrap_err();
            assert_eq!(messages(&e, "platform_features_emails"), [msg::NOT_BOOLEAN]);
        }
        let p = partial(json!({"platform_features_emails": null})).unwrap();
        assert_eq!(p.platform_features_emails, Patch::Null);
    }

    #[test]
    fn skills_may_not_be_null_but_technical_interests_may() {
        let e = partial(json!({"skills": null, "investment_interests": null})).unwrap_err();
        assert_eq!(messages(&e, "skills"), [msg::NOT_NULL]);
        assert_eq!(messages(&e, "investment_interests"), [msg::NOT_NULL]);
        let p = partial(json!({"technical_interests": null, "focus_area": null})).unwrap();
        assert_eq!(p.technical_interests, Patch::Null);
        assert_eq!(p.focus_area, Patch::Null);
    }

    #[test]
    fn a_list_field_given_a_string_says_what_it_got() {
        let e = partial(json!({"skills": "rust"})).unwrap_err();
        assert_eq!(
            messages(&e, "skills"),
            ["Expected a list of items but got type \"str\"."]
        );
    }

    #[test]
    fn empty_urls_clear_like_null() {
        let p = partial(json!({"profile_picture": "", "resume": "  ", "github_url": ""})).unwrap();
        assert_eq!(p.profile_picture, Patch::Null);
        assert_eq!(p.resume, Patch::Null);
        assert_eq!(p.github_url, Patch::Null);
    }

    #[test]
    fn create_and_replace_require_user_type() {
        for mode in [WriteMode::Create, WriteMode::Replace] {
            let e = UserDetailPatch::parse_value(&json!({"bio": "x"}), options(mode, false))
                .unwrap_err();
            assert_eq!(messages(&e, "user_type"), [msg::REQUIRED]);
        }
        assert!(partial(json!({"bio": "x"})).is_ok());
    }

    #[test]
    fn unknown_and_read_only_keys_are_ignored_unless_strict() {
        let body = json!({"bio": "x", "nickname": "y", "streak": "9"});
        assert!(partial(body.clone()).is_ok());
        let e = UserDetailPatch::parse_value(&body, options(WriteMode::Partial, true)).unwrap_err();
        assert_eq!(messages(&e, "nickname"), [msg::UNKNOWN]);
        assert_eq!(messages(&e, "streak"), [msg::READ_ONLY]);
        assert!(e.get("bio").is_none());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused_whole() {
        let e = partial(json!([1])).unwrap_err();
        assert_eq!(
            messages(&e, "non_field_errors"),
            ["Invalid data. Expected a dictionary, but got list."]
        );
        let e = partial(json!("s")).unwrap_err();
        assert_eq!(
            messages(&e, "non_field_errors"),
            ["Invalid data. Expected a dictionary, but got str."]
        );
    }

    #[test]
    fn json_fields_take_any_json_and_null_clears() {
        let p = partial(
            json!({"address": {"city": "Lahore"}, "company_info": [1, 2], "additional_data": null}),
        )
        .unwrap();
        assert!(matches!(p.address, Patch::Value(_)));
        assert!(matches!(p.company_info, Patch::Value(_)));
        assert_eq!(p.additional_data, Patch::Null);
    }

    #[test]
    fn too_many_names_is_a_whole_field_error() {
        let names: Vec<String> = (0..51).map(|i| format!("s{i}")).collect();
        let e = partial(json!({"focus_area": names})).unwrap_err();
        assert_eq!(messages(&e, "focus_area"), [msg::max_items(50)]);
    }
}
