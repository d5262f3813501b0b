//! Property tests of the merge: absent fields never change, applying a patch twice equals applying
//! it once, and a patch that sets what is already there changes nothing.

use chrono::NaiveDate;
use iam_domain::merge::field_eq;
use iam_domain::{
    Field, JsonMode, ParseOptions, UserDetail, UserDetailPatch, UserId, Version, WriteMode,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

/// A valid value (or null, where allowed) for each writable field.
fn field_value(field: Field) -> BoxedStrategy<Value> {
    let text = "[a-zA-Z ]{0,12}".prop_map(Value::from);
    let url = prop_oneof![
        "[a-z]{1,8}".prop_map(|h| json!(format!("https://{h}.example.com/p"))),
        Just(Value::Null),
    ];
    let names = proptest::collection::vec(
        prop_oneof!["Rust", "rust", "Go", "Python", " AI ", "ml", "ML"].prop_map(Value::from),
        0..5,
    )
    .prop_map(Value::from);
    let boolean = prop_oneof![Just(json!(true)), Just(json!(false)), Just(Value::Null)];
    let doc = prop_oneof![
        Just(Value::Null),
        Just(json!({"a": 1})),
        Just(json!({"a": null, "b": {"c": 2}})),
        Just(json!({"b": {"c": null, "d": [1]}})),
        Just(json!([1, 2])),
        Just(json!("s")),
    ];
    match field {
        Field::Bio => prop_oneof![text.clone(), Just(Value::Null)].boxed(),
        Field::Country => text.boxed(),
        Field::UserType => prop_oneof!["developer", "investor"]
            .prop_map(Value::from)
            .boxed(),
        Field::Phone => prop_oneof![
            Just(json!("+1 555 0100")),
            Just(json!("0300-1234567")),
            Just(Value::Null)
        ]
        .boxed(),
        Field::Dob => prop_oneof![
            Just(json!("1990-05-01")),
            Just(json!("2001-12-31")),
            Just(Value::Null)
        ]
        .boxed(),
        Field::Skills | Field::InvestmentInterests => names.boxed(),
        Field::TechnicalInterests | Field::FocusArea => {
            prop_oneof![names, Just(Value::Null)].boxed()
        }
        Field::CommunicationPreferencesPhone
        | Field::CommunicationPreferencesEmail
        | Field::PlatformFeaturesEmails
        | Field::ActivityBasedEmails => boolean.boxed(),
        Field::Address | Field::CompanyInfo | Field::AdditionalData => doc.boxed(),
        _ => url.boxed(),
    }
}

/// A JSON body sending a random subset of the writable fields.
fn body() -> impl Strategy<Value = Map<String, Value>> {
    let per_field: Vec<BoxedStrategy<Option<(String, Value)>>> = Field::ALL
        .into_iter()
        .map(|f| {
            proptest::option::of(field_value(f).prop_map(move |v| (f.name().to_owned(), v))).boxed()
        })
        .collect();
    per_field.prop_map(|entries| entries.into_iter().flatten().collect())
}

fn parse(body: &Map<String, Value>) -> UserDetailPatch {
    let options = ParseOptions {
        today: today(),
        strict: false,
        mode: WriteMode::Partial,
    };
    UserDetailPatch::parse(body, options).expect("generated bodies are valid")
}

fn json_mode() -> impl Strategy<Value = JsonMode> {
    prop_oneof![Just(JsonMode::Replace), Just(JsonMode::MergePatch)]
}

/// Some details to start from: a fresh row with a random patch applied.
fn detail() -> impl Strategy<Value = UserDetail> {
    body().prop_map(|mut b| {
        b.insert("user_type".into(), json!("developer"));
        UserDetail::create(
            UserId::parse("u").unwrap(),
            Version::new(1),
            &parse(&b),
            JsonMode::Replace,
        )
        .unwrap()
    })
}

proptest! {
    #[test]
    fn fields_absent_from_a_patch_never_change(start in detail(), body in body(), mode in json_mode()) {
        let patch = parse(&body);
        let applied = start.apply(&patch, mode).unwrap();
        for field in Field::ALL {
            if !body.contains_key(field.name()) {
                prop_assert!(field_eq(&start, &applied.detail, field), "{field} changed");
                prop_assert!(!applied.changed.contains(&field));
            }
        }
    }

    #[test]
    fn changed_lists_exactly_the_fields_that_differ(start in detail(), body in body(), mode in json_mode()) {
        let applied = start.apply(&parse(&body), mode).unwrap();
        for field in Field::ALL {
            prop_assert_eq!(applied.changed.contains(&field), !field_eq(&start, &applied.detail, field));
        }
    }

    #[test]
    fn applying_a_patch_twice_equals_applying_it_once(start in detail(), body in body(), mode in json_mode()) {
        let patch = parse(&body);
        let once = start.apply(&patch, mode).unwrap();
        let twice = once.detail.apply(&patch, mode).unwrap();
        prop_assert_eq!(&twice.detail, &once.detail);
        prop_assert!(twice.is_unchanged());
    }

    #[test]
    fn a_patch_that_sets_what_is_there_changes_nothing(start in detail(), body in body()) {
        // Re-send the current value of every field the body names.
        let once = start.apply(&parse(&body), JsonMode::Replace).unwrap().detail;
        let same = once.apply(&parse(&body), JsonMode::Replace).unwrap();
        prop_assert!(same.is_unchanged(), "{:?}", same.changed);
    }
}
