//! Applying a [`UserDetailPatch`] to a [`UserDetail`], and RFC 7396 JSON Merge Patch.
//!
//! The rules:
//! - a field absent from the patch keeps its value; `null` clears it; a value replaces it;
//! - the three JSON documents are replaced whole under [`JsonMode::Replace`] (`application/json`)
//!   and merged deeply under [`JsonMode::MergePatch`] (`application/merge-patch+json`), where a
//!   `null` member deletes that key; the merged document must still fit the size and depth limits;
//! - name lists replace the list; two lists are equal when their case-insensitive keys are;
//! - the result lists the fields whose value actually changed, so that storage writes only those and
//!   a patch that sets what is already there writes nothing.

use serde_json::{Map, Value};

use crate::detail::{Field, UserDetail};
use crate::errors::FieldErrors;
use crate::patch::{Patch, UserDetailPatch};
use crate::values::messages as msg;
use crate::values::{JsonDocument, UserId, Version};

/// How the three JSON documents are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JsonMode {
    /// `application/json`: a document sent replaces the stored one.
    #[default]
    Replace,
    /// `application/merge-patch+json`: a document sent is merged into the stored one (RFC 7396).
    MergePatch,
}

/// The outcome of applying a patch: the new details and the fields that changed, in
/// [`Field::ALL`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The details after the patch (the version is the caller's to set).
    pub detail: UserDetail,
    /// The fields whose value differs from before.
    pub changed: Vec<Field>,
}

impl Applied {
    /// True when the patch changed nothing.
    pub fn is_unchanged(&self) -> bool {
        self.changed.is_empty()
    }
}

/// RFC 7396: merges `patch` into `target` (`None` when there is no target).
///
/// A patch that is not an object replaces the target; an object patch is applied member by
/// member, `null` deleting the member and anything else merged recursively.
pub fn merge_patch(target: Option<&Value>, patch: &Value) -> Value {
    let Value::Object(members) = patch else {
        return patch.clone();
    };
    let mut merged = match target {
        Some(Value::Object(existing)) => existing.clone(),
        _ => Map::new(),
    };
    for (key, value) in members {
        if value.is_null() {
            merged.remove(key);
        } else {
            let next = merge_patch(merged.get(key), value);
            merged.insert(key.clone(), next);
        }
    }
    Value::Object(merged)
}

/// Compares one field of two details.
pub fn field_eq(a: &UserDetail, b: &UserDetail, field: Field) -> bool {
    macro_rules! eq {
        ($($variant:ident => $name:ident),* $(,)?) => {
            match field { $(Field::$variant => a.$name == b.$name,)* }
        };
    }
    eq!(
        ProfilePicture => profile_picture, Bio => bio, Address => address, Country => country,
        Phone => phone, Dob => dob, UserType => user_type, LinkedinUrl => linkedin_url,
        GithubUrl => github_url, TwitterUrl => twitter_url, FacebookUrl => facebook_url,
        WebsiteUrl => website_url, PortfolioUrl => portfolio_url, Skills => skills,
        InvestmentInterests => investment_interests, TechnicalInterests => technical_interests,
        FocusArea => focus_area, Resume => resume,
        CommunicationPreferencesPhone => communication_preferences_phone,
        CommunicationPreferencesEmail => communication_preferences_email,
        PlatformFeaturesEmails => platform_features_emails,
        ActivityBasedEmails => activity_based_emails, CompanyInfo => company_info,
        AdditionalData => additional_data,
    )
}

/// The patch's value when sent, the current one otherwise.
fn keep<T: Clone>(sent: &Option<T>, current: &T) -> T {
    sent.as_ref().unwrap_or(current).clone()
}

fn json_field(
    current: &Option<JsonDocument>,
    patch: &Patch<JsonDocument>,
    mode: JsonMode,
    field: Field,
    errors: &mut FieldErrors,
) -> Option<JsonDocument> {
    match (patch, mode) {
        (Patch::Value(doc), JsonMode::MergePatch) => {
            let merged = merge_patch(current.as_ref().map(JsonDocument::value), doc.value());
            match JsonDocument::new(merged) {
                Ok(doc) => Some(doc),
                Err(e) => {
                    errors.add(field.name(), e.0);
                    current.clone()
                }
            }
        }
        _ => patch.resolve(current),
    }
}

impl UserDetail {
    /// Applies `patch` to these details.
    ///
    /// # Errors
    /// [`FieldErrors`] when a merged JSON document breaks its size or depth limit.
    pub fn apply(&self, patch: &UserDetailPatch, mode: JsonMode) -> Result<Applied, FieldErrors> {
        let mut errors = FieldErrors::new();
        let next = UserDetail {
            user_id: self.user_id.clone(),
            version: self.version,
            profile_picture: patch.profile_picture.resolve(&self.profile_picture),
            bio: patch.bio.resolve(&self.bio),
            address: json_field(
                &self.address,
                &patch.address,
                mode,
                Field::Address,
                &mut errors,
            ),
            country: keep(&patch.country, &self.country),
            phone: patch.phone.resolve(&self.phone),
            dob: patch.dob.resolve(&self.dob),
            user_type: keep(&patch.user_type, &self.user_type),
            linkedin_url: patch.linkedin_url.resolve(&self.linkedin_url),
            github_url: patch.github_url.resolve(&self.github_url),
            twitter_url: patch.twitter_url.resolve(&self.twitter_url),
            facebook_url: patch.facebook_url.resolve(&self.facebook_url),
            website_url: patch.website_url.resolve(&self.website_url),
            portfolio_url: patch.portfolio_url.resolve(&self.portfolio_url),
            skills: keep(&patch.skills, &self.skills),
            investment_interests: keep(&patch.investment_interests, &self.investment_interests),
            technical_interests: patch
                .technical_interests
                .resolve(&Some(self.technical_interests.clone()))
                .unwrap_or_default(),
            focus_area: patch
                .focus_area
                .resolve(&Some(self.focus_area.clone()))
                .unwrap_or_default(),
            resume: patch.resume.resolve(&self.resume),
            communication_preferences_phone: patch
                .communication_preferences_phone
                .resolve(&self.communication_preferences_phone),
            communication_preferences_email: patch
                .communication_preferences_email
                .resolve(&self.communication_preferences_email),
            platform_features_emails: patch
                .platform_features_emails
                .resolve(&self.platform_features_emails),
            activity_based_emails: patch
                .activity_based_emails
                .resolve(&self.activity_based_emails),
            company_info: json_field(
                &self.company_info,
                &patch.company_info,
                mode,
                Field::CompanyInfo,
                &mut errors,
            ),
            additional_data: json_field(
                &self.additional_data,
                &patch.additional_data,
                mode,
                Field::AdditionalData,
                &mut errors,
            ),
        };
        let changed = Field::ALL
            .into_iter()
            .filter(|&f| !field_eq(self, &next, f))
            .collect();
        errors.into_result(Applied {
            detail: next,
            changed,
        })
    }

    /// Builds a new user's details from a create (or replace) patch: defaults, then the patch.
    ///
    /// # Errors
    /// [`FieldErrors`] when `user_type` is missing, or a merged document breaks its limits.
    pub fn create(
        user_id: UserId,
        version: Version,
        patch: &UserDetailPatch,
        mode: JsonMode,
    ) -> Result<UserDetail, FieldErrors> {
        let Some(user_type) = patch.user_type.clone() else {
            return Err(FieldErrors::single(Field::UserType.name(), msg::REQUIRED));
        };
        UserDetail::new(user_id, version, user_type)
            .apply(patch, mode)
            .map(|applied| applied.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::{ParseOptions, WriteMode};
    use crate::values::{CatalogueName, NameList, UserType};
    use chrono::NaiveDate;
    use serde_json::json;

    fn base() -> UserDetail {
        UserDetail::new(
            UserId::parse("u1").unwrap(),
            Version::new(7),
            UserType::parse("developer").unwrap(),
        )
    }

    fn patch(body: Value) -> UserDetailPatch {
        let options = ParseOptions {
            today: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            strict: false,
            mode: WriteMode::Partial,
        };
        UserDetailPatch::parse_value(&body, options).unwrap()
    }

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn rfc7396_appendix_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            assert_eq!(
                merge_patch(Some(&target), &patch),
                expected,
                "{target} + {patch}"
            );
        }
    }

    #[test]
    fn absent_fields_keep_their_values_and_changes_are_listed() {
        let mut d = base();
        d.bio = Some(crate::values::Bio::parse("old").unwrap());
        let applied = d
            .apply(&patch(json!({"country": "PK"})), JsonMode::Replace)
            .unwrap();
        assert_eq!(applied.changed, vec![Field::Country]);
        assert_eq!(applied.detail.bio, d.bio);
        assert_eq!(applied.detail.country.as_str(), "PK");
    }

    #[test]
    fn null_clears_and_lists_read_back_empty() {
        let mut d = base();
        d.focus_area = NameList::new([CatalogueName::parse("AI").unwrap()]).unwrap();
        d.platform_features_emails = Some(true);
        let applied = d
            .apply(
                &patch(json!({"focus_area": null, "platform_features_emails": null})),
                JsonMode::Replace,
            )
            .unwrap();
        assert!(applied.detail.focus_area.is_empty());
        assert_eq!(applied.detail.platform_features_emails, None);
        assert_eq!(
            applied.changed,
            vec![Field::FocusArea, Field::PlatformFeaturesEmails]
        );
    }

    #[test]
    fn setting_what_is_there_changes_nothing() {
        let mut d = base();
        d.skills = NameList::new([CatalogueName::parse("Rust").unwrap()]).unwrap();
        let applied = d
            .apply(
                &patch(json!({"skills": ["rust"], "user_type": "developer", "bio": null})),
                JsonMode::Replace,
            )
            .unwrap();
        assert!(applied.is_unchanged(), "{:?}", applied.changed);
    }

    #[test]
    fn json_documents_replace_or_merge() {
        let mut d = base();
        d.address = Some(JsonDocument::new(json!({"city": "Lahore", "zip": "54000"})).unwrap());
        let p = patch(json!({"address": {"zip": null, "street": "Mall Rd"}}));
        let replaced = d.apply(&p, JsonMode::Replace).unwrap();
        assert_eq!(
            replaced.detail.address.unwrap().value(),
            &json!({"zip": null, "street": "Mall Rd"})
        );
        let merged = d.apply(&p, JsonMode::MergePatch).unwrap();
        assert_eq!(
            merged.detail.address.unwrap().value(),
            &json!({"city": "Lahore", "street": "Mall Rd"})
        );
    }

    #[test]
    fn a_merge_that_outgrows_the_limit_is_a_field_error() {
        let mut d = base();
        d.company_info = Some(JsonDocument::new(json!({"a": "x".repeat(10_000)})).unwrap());
        let p = patch(json!({"company_info": {"b": "y".repeat(10_000)}}));
        let errors = d.apply(&p, JsonMode::MergePatch).unwrap_err();
        assert!(errors.get("company_info").is_some());
        assert!(d.apply(&p, JsonMode::Replace).is_ok());
    }

    #[test]
    fn create_needs_a_user_type() {
        let id = UserId::parse("u").unwrap();
        assert!(UserDetail::create(
            id.clone(),
            Version::new(1),
            &patch(json!({})),
            JsonMode::Replace
        )
        .is_err());
        let d = UserDetail::create(
            id,
            Version::new(1),
            &patch(json!({"user_type": "investor", "bio": "b"})),
            JsonMode::Replace,
        )
        .unwrap();
        assert_eq!(d.user_type.as_str(), "investor");
        assert_eq!(d.bio.unwrap().as_str(), "b");
    }
}
