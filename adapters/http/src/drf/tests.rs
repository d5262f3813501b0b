//! The DRF reading of bodies: every rule of the validation table and its message.

use super::*;
use iam_domain::values::DateOfBirth;
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
    parse_patch(&body, options(WriteMode::Partial, false))
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
        let e = parse_patch(&json!({"bio": "x"}), options(mode, false)).unwrap_err();
        assert_eq!(messages(&e, "user_type"), [msg::REQUIRED]);
    }
    assert!(partial(json!({"bio": "x"})).is_ok());
}

#[test]
fn unknown_and_read_only_keys_are_ignored_unless_strict() {
    let body = json!({"bio": "x", "nickname": "y", "streak": "9"});
    assert!(partial(body.clone()).is_ok());
    let e = parse_patch(&body, options(WriteMode::Partial, true)).unwrap_err();
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

#[test]
fn every_value_error_has_drf_wording() {
    let cases = [
        (ValueError::Required, "This field is required."),
        (ValueError::Null, "This field may not be null."),
        (ValueError::Blank, "This field may not be blank."),
        (
            ValueError::TooLong { max: 5 },
            "Ensure this field has no more than 5 characters.",
        ),
        (ValueError::Nul, "Null characters are not allowed."),
        (ValueError::Url, "Enter a valid URL."),
        (ValueError::Phone, "Enter a valid phone number."),
        (
            ValueError::DateFormat,
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
        ),
        (
            ValueError::DateInFuture,
            "Date of birth cannot be in the future.",
        ),
        (
            ValueError::DateTooEarly { min_year: 1900 },
            "Date of birth must be in 1900 or later.",
        ),
        (
            ValueError::TooManyNames { max: 50 },
            "Ensure this field has no more than 50 elements.",
        ),
        (
            ValueError::DocumentTooLarge { max_bytes: 16384 },
            "Ensure this JSON document is no larger than 16384 bytes.",
        ),
        (
            ValueError::DocumentTooDeep { max_depth: 20 },
            "Ensure this JSON document is nested no deeper than 20 levels.",
        ),
    ];
    for (error, wording) in cases {
        assert_eq!(message(error), wording);
    }
}

#[test]
fn every_field_is_read_from_its_key() {
    let body = json!({
        "profile_picture": "https://files.example/p.png", "bio": "Builds things.",
        "address": {"city": "Lahore", "n": 1.50}, "country": "PK", "phone": "+92 300 1234567",
        "dob": "1990-01-02", "user_type": "investor",
        "linkedin_url": "https://example.com/in", "github_url": "https://example.com/gh",
        "twitter_url": "https://example.com/tw", "facebook_url": "https://example.com/fb",
        "website_url": "https://example.com/web", "portfolio_url": "https://example.com/folio",
        "skills": ["Rust", "Go"], "investment_interests": ["Fintech"],
        "technical_interests": ["Databases"], "focus_area": ["AI", "Health"],
        "resume": "https://files.example/cv.pdf",
        "communication_preferences_phone": true, "communication_preferences_email": true,
        "platform_features_emails": true, "activity_based_emails": true,
        "company_info": ["a", {"b": null}], "additional_data": "text",
    });
    let p = parse_patch(&body, options(WriteMode::Create, true)).unwrap();
    assert_eq!(p.sent_fields(), Field::ALL);
    assert_eq!(p.bio.value().map(Bio::as_str), Some("Builds things."));
    assert_eq!(
        p.dob.value().copied(),
        Some(DateOfBirth::restore(NaiveDate::from_ymd_opt(1990, 1, 2).unwrap()).unwrap())
    );
    assert_eq!(p.focus_area.value().map(NameList::len), Some(2));
    assert_eq!(p.activity_based_emails, Patch::Value(true));
}

#[test]
fn a_date_of_birth_after_today_is_refused() {
    let e = partial(json!({"dob": "2026-11-30", "bio": 3})).unwrap_err();
    assert_eq!(messages(&e, "dob"), [msg::DOB_FUTURE]);
    assert_eq!(messages(&e, "bio"), [msg::NOT_STRING]);
    assert!(
        partial(json!({"dob": "2026-11-29"})).is_ok(),
        "today is valid"
    );
}

#[test]
fn invalid_fields_of_the_domain_are_worded_by_field() {
    let invalid = InvalidFields::one(Field::UserType, ValueError::Required);
    let errors = FieldErrors::from(&invalid);
    assert_eq!(messages(&errors, "user_type"), [msg::REQUIRED]);
}

#[test]
fn errors_collect_messages_and_items_per_key() {
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
    let keys: Vec<&str> = errors.iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["bio", "skills"]);
}

#[test]
fn a_whole_value_message_replaces_item_messages() {
    let mut errors = FieldErrors::new();
    errors.add_item("skills", 0, "x");
    errors.add("skills", "too many");
    assert_eq!(
        errors.get("skills"),
        Some(&FieldError::Messages(vec!["too many".into()]))
    );
}
