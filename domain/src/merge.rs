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
use crate::errors::InvalidFields;
use crate::patch::{Patch, UserDetailPatch};
use crate::stored::Kind;
use crate::values::{
    Bio, DateOfBirth, HttpUrl, JsonDocument, NameList, Phone, UserId, UserType, ValueError, Version,
};

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

/// How a field of a patch applies to the value it changes.
pub trait ApplyTo<V> {
    /// The value after the patch, given the current one.
    ///
    /// # Errors
    /// [`ValueError`] when the result breaks the value's rule (a merged document too large).
    fn apply_to(&self, current: &V, mode: JsonMode) -> Result<V, ValueError>;
}

/// A value a `Patch<T>` sets: by default the value sent replaces the current one.
pub trait Patchable: Clone {
    /// The value after `sent`, given the current one.
    ///
    /// # Errors
    /// [`ValueError`] when the result breaks the value's rule.
    fn patched(current: Option<&Self>, sent: &Self, mode: JsonMode) -> Result<Self, ValueError> {
        let _ = (current, mode);
        Ok(sent.clone())
    }
}

impl<const MAX: usize> Patchable for HttpUrl<MAX> {}
impl Patchable for Bio {}
impl Patchable for Phone {}
impl Patchable for DateOfBirth {}
impl Patchable for bool {}

/// A document sent replaces the stored one, or under [`JsonMode::MergePatch`] is merged into it;
/// the merged document must still keep the limits.
impl Patchable for JsonDocument {
    fn patched(current: Option<&Self>, sent: &Self, mode: JsonMode) -> Result<Self, ValueError> {
        match mode {
            JsonMode::Replace => Ok(sent.clone()),
            JsonMode::MergePatch => {
                JsonDocument::new(merge_patch(current.map(JsonDocument::value), sent.value()))
            }
        }
    }
}

/// A nullable field: absent keeps, `null` clears, a value is [`Patchable::patched`] in.
impl<T: Patchable> ApplyTo<Option<T>> for Patch<T> {
    fn apply_to(&self, current: &Option<T>, mode: JsonMode) -> Result<Option<T>, ValueError> {
        match self {
            Patch::Absent => Ok(current.clone()),
            Patch::Null => Ok(None),
            Patch::Value(sent) => T::patched(current.as_ref(), sent, mode).map(Some),
        }
    }
}

/// A field that may not be `null`: absent keeps, a value replaces.
impl<T: Clone> ApplyTo<T> for Option<T> {
    fn apply_to(&self, current: &T, _: JsonMode) -> Result<T, ValueError> {
        Ok(self.as_ref().unwrap_or(current).clone())
    }
}

/// A list that `null` clears.
impl ApplyTo<NameList> for Patch<NameList> {
    fn apply_to(&self, current: &NameList, _: JsonMode) -> Result<NameList, ValueError> {
        Ok(match self {
            Patch::Absent => current.clone(),
            Patch::Null => NameList::empty(),
            Patch::Value(sent) => sent.clone(),
        })
    }
}

impl UserDetail {
    /// Applies `patch` to these details.
    ///
    /// # Errors
    /// [`InvalidFields`] when a merged JSON document breaks its size or depth limit.
    pub fn apply(&self, patch: &UserDetailPatch, mode: JsonMode) -> Result<Applied, InvalidFields> {
        let mut errors = Vec::new();
        let next = self.patched(patch, mode, &mut errors);
        let changed = Field::ALL
            .into_iter()
            .filter(|&f| !self.same(&next, f))
            .collect();
        InvalidFields::check(
            errors,
            Applied {
                detail: next,
                changed,
            },
        )
    }

    /// Builds a new user's details from a create (or replace) patch: defaults, then the patch.
    ///
    /// # Errors
    /// [`InvalidFields`] when `user_type` is missing ([`ValueError::Required`]), or a merged
    /// document breaks its limits.
    pub fn create(
        user_id: UserId,
        version: Version,
        patch: &UserDetailPatch,
        mode: JsonMode,
    ) -> Result<UserDetail, InvalidFields> {
        let Some(user_type) = patch.user_type.clone() else {
            return Err(InvalidFields::one(Field::UserType, ValueError::Required));
        };
        UserDetail::new(user_id, version, user_type)
            .apply(patch, mode)
            .map(|applied| applied.detail)
    }

    /// What `patch` writes when no stored value is needed to apply it or to tell what it
    /// changes: details holding the values it sends (every other field as on new details, with
    /// version 0; storage writes only the fields named) and the fields it sends, in
    /// [`Field::ALL`] order. Each of those fields is replaced by the value sent, and whether it
    /// changes is equality of the stored forms, which storage decides itself: for a list, its
    /// catalogue entries in order (one entry per case-insensitive name, so equal entries are
    /// equal lists).
    ///
    /// `None` when the patch sends nothing or a JSON document: a document may be merged into the
    /// stored one, and documents are equal as JSON values, which their stored forms do not
    /// decide (`1.0` and `1.00`); such a patch is applied to the stored details with
    /// [`UserDetail::apply`].
    pub fn overwrite(user_id: UserId, patch: &UserDetailPatch) -> Option<(UserDetail, Vec<Field>)> {
        let sent = patch.sent_fields();
        let replaces = |f: &Field| f.kind() != Kind::Json;
        if sent.is_empty() || !sent.iter().all(replaces) {
            return None;
        }
        let user_type = patch.user_type.clone().unwrap_or_else(UserType::unsent);
        let applied = UserDetail::new(user_id, Version::new(0), user_type)
            .apply(patch, JsonMode::Replace)
            .ok()?;
        Some((applied.detail, sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{CatalogueName, NameList};
    use crate::values::{Country, UserType};
    use serde_json::json;

    fn base() -> UserDetail {
        UserDetail::new(
            UserId::parse("u1").unwrap(),
            Version::new(7),
            UserType::parse("developer").unwrap(),
        )
    }

    fn doc(value: Value) -> JsonDocument {
        JsonDocument::new(value).unwrap()
    }

    fn names(names: &[&str]) -> NameList {
        NameList::new(names.iter().map(|n| CatalogueName::parse(n).unwrap())).unwrap()
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
        d.bio = Some(Bio::parse("old").unwrap());
        let p = UserDetailPatch {
            country: Some(Country::parse("PK").unwrap()),
            ..UserDetailPatch::default()
        };
        let applied = d.apply(&p, JsonMode::Replace).unwrap();
        assert_eq!(applied.changed, vec![Field::Country]);
        assert_eq!(applied.detail.bio, d.bio);
        assert_eq!(applied.detail.country.as_str(), "PK");
        assert_eq!(
            applied.detail.version, d.version,
            "the version is the caller's"
        );
        assert!(!applied.is_unchanged());
    }

    #[test]
    fn null_clears_and_lists_read_back_empty() {
        let mut d = base();
        d.focus_area = names(&["AI"]);
        d.technical_interests = names(&["Go"]);
        d.platform_features_emails = Some(true);
        d.phone = Some(Phone::parse("+1 555 0100").unwrap());
        let p = UserDetailPatch {
            focus_area: Patch::Null,
            platform_features_emails: Patch::Null,
            phone: Patch::Null,
            ..UserDetailPatch::default()
        };
        let applied = d.apply(&p, JsonMode::Replace).unwrap();
        assert!(applied.detail.focus_area.is_empty());
        assert_eq!(applied.detail.technical_interests, names(&["Go"]));
        assert_eq!(applied.detail.platform_features_emails, None);
        assert_eq!(applied.detail.phone, None);
        assert_eq!(
            applied.changed,
            vec![
                Field::Phone,
                Field::FocusArea,
                Field::PlatformFeaturesEmails
            ]
        );
    }

    #[test]
    fn values_replace() {
        let d = base();
        let p = UserDetailPatch {
            technical_interests: Patch::Value(names(&["Rust"])),
            skills: Some(names(&["Go"])),
            user_type: Some(UserType::parse("investor").unwrap()),
            dob: Patch::Value(
                DateOfBirth::restore(chrono::NaiveDate::from_ymd_opt(1990, 1, 2).unwrap()).unwrap(),
            ),
            ..UserDetailPatch::default()
        };
        let applied = d.apply(&p, JsonMode::MergePatch).unwrap();
        assert_eq!(applied.detail.technical_interests, names(&["Rust"]));
        assert_eq!(applied.detail.skills, names(&["Go"]));
        assert_eq!(applied.detail.user_type.as_str(), "investor");
        assert_eq!(
            applied.changed,
            [
                Field::Dob,
                Field::UserType,
                Field::Skills,
                Field::TechnicalInterests
            ]
        );
    }

    #[test]
    fn setting_what_is_there_changes_nothing() {
        let mut d = base();
        d.skills = names(&["Rust"]);
        let p = UserDetailPatch {
            skills: Some(names(&["rust"])),
            user_type: Some(UserType::parse("developer").unwrap()),
            bio: Patch::Null,
            ..UserDetailPatch::default()
        };
        let applied = d.apply(&p, JsonMode::Replace).unwrap();
        assert!(applied.is_unchanged(), "{:?}", applied.changed);
        let every = crate::testing::every_field_patched();
        let full = d.apply(&every, JsonMode::Replace).unwrap().detail;
        assert!(full
            .apply(&every, JsonMode::Replace)
            .unwrap()
            .is_unchanged());
    }

    #[test]
    fn every_field_applies() {
        let applied = base()
            .apply(&crate::testing::every_field_patched(), JsonMode::Replace)
            .unwrap();
        // The sample sets every field away from a new row's value.
        assert_eq!(applied.changed, Field::ALL);
    }

    #[test]
    fn json_documents_replace_or_merge() {
        let mut d = base();
        d.address = Some(doc(json!({"city": "Lahore", "zip": "54000"})));
        let p = UserDetailPatch {
            address: Patch::Value(doc(json!({"zip": null, "street": "Mall Rd"}))),
            ..UserDetailPatch::default()
        };
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
        let onto_nothing = base().apply(&p, JsonMode::MergePatch).unwrap();
        assert_eq!(
            onto_nothing.detail.address.unwrap().value(),
            &json!({"street": "Mall Rd"})
        );
    }

    #[test]
    fn a_merge_that_outgrows_the_limit_is_a_field_error() {
        let mut d = base();
        d.company_info = Some(doc(json!({"a": "x".repeat(10_000)})));
        let p = UserDetailPatch {
            company_info: Patch::Value(doc(json!({"b": "y".repeat(10_000)}))),
            bio: Patch::Value(Bio::parse("b").unwrap()),
            ..UserDetailPatch::default()
        };
        let errors = d.apply(&p, JsonMode::MergePatch).unwrap_err();
        let errors: Vec<_> = errors.iter().copied().collect();
        assert_eq!(
            errors,
            [crate::errors::InvalidField {
                field: Field::CompanyInfo,
                error: ValueError::DocumentTooLarge {
                    max_bytes: JsonDocument::MAX_BYTES
                }
            }]
        );
        assert!(d.apply(&p, JsonMode::Replace).is_ok());
    }

    #[test]
    fn create_needs_a_user_type() {
        let id = UserId::parse("u").unwrap();
        let err = UserDetail::create(
            id.clone(),
            Version::new(1),
            &UserDetailPatch::default(),
            JsonMode::Replace,
        )
        .unwrap_err();
        assert_eq!(
            err,
            InvalidFields::one(Field::UserType, ValueError::Required)
        );
        let p = UserDetailPatch {
            user_type: Some(UserType::parse("investor").unwrap()),
            bio: Patch::Value(Bio::parse("b").unwrap()),
            ..UserDetailPatch::default()
        };
        let d = UserDetail::create(id, Version::new(5), &p, JsonMode::Replace).unwrap();
        assert_eq!(d.user_type.as_str(), "investor");
        assert_eq!(d.bio.unwrap().as_str(), "b");
        assert_eq!(d.version, Version::new(5));
        assert_eq!(
            d.activity_based_emails,
            Some(false),
            "defaults where not sent"
        );
    }

    /// A patch without its documents.
    fn without_documents(mut p: UserDetailPatch) -> UserDetailPatch {
        p.address = Patch::Absent;
        p.company_info = Patch::Absent;
        p.additional_data = Patch::Absent;
        p
    }

    /// What `overwrite` hands storage (each sent field's stored form, compared with the stored
    /// one by equality) is what `apply` on any stored details writes and calls changed.
    #[test]
    fn overwrite_writes_what_apply_writes_and_storage_can_tell_the_changes() {
        let user = UserId::parse("sample").unwrap();
        let mut nulls = without_documents(crate::testing::every_field_patched());
        nulls.bio = Patch::Null;
        nulls.phone = Patch::Null;
        nulls.dob = Patch::Null;
        nulls.activity_based_emails = Patch::Value(false);
        nulls.user_type = None;
        nulls.focus_area = Patch::Null;
        nulls.skills = Some(names(&["rust", "GO"]));
        let patches = [
            without_documents(crate::testing::every_field_patched()),
            nulls,
        ];
        let stored = [crate::testing::every_field_set(), base()];
        for patch in &patches {
            let (written, fields) = UserDetail::overwrite(user.clone(), patch).unwrap();
            assert_eq!(fields, patch.sent_fields());
            for current in &stored {
                let applied = current.apply(patch, JsonMode::Replace).unwrap();
                for field in Field::ALL {
                    if fields.contains(&field) {
                        assert_eq!(
                            written.column(field),
                            applied.detail.column(field),
                            "{field}"
                        );
                        assert_eq!(
                            written.column(field) != current.column(field),
                            applied.changed.contains(&field),
                            "{field}"
                        );
                    } else {
                        assert!(!applied.changed.contains(&field), "{field}");
                    }
                }
            }
        }
    }

    /// A patch that sends nothing or a document needs the stored details; lists do not.
    #[test]
    fn overwrite_refuses_patches_that_need_the_stored_details() {
        let user = || UserId::parse("u").unwrap();
        let every = crate::testing::every_field_patched();
        assert!(UserDetail::overwrite(user(), &UserDetailPatch::default()).is_none());
        assert!(UserDetail::overwrite(user(), &every).is_none());
        let lists = UserDetailPatch {
            focus_area: Patch::Null,
            skills: Some(names(&["Rust"])),
            ..UserDetailPatch::default()
        };
        assert_eq!(
            UserDetail::overwrite(user(), &lists).map(|(_, f)| f),
            Some(vec![Field::Skills, Field::FocusArea])
        );
        let mut document = without_documents(every.clone());
        document.additional_data = Patch::Null;
        assert!(UserDetail::overwrite(user(), &document).is_none());
        let bio = UserDetailPatch {
            bio: Patch::Null,
            ..UserDetailPatch::default()
        };
        assert_eq!(
            UserDetail::overwrite(user(), &bio).map(|(_, f)| f),
            Some(vec![Field::Bio])
        );
    }
}
