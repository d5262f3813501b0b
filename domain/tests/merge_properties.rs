//! Property tests of the merge: absent fields never change, applying a patch twice equals applying
//! it once, and a patch that sets what is already there changes nothing.

use chrono::NaiveDate;
use iam_domain::values::{
    Bio, CatalogueName, Country, DateOfBirth, FileUrl, JsonDocument, LinkUrl, NameList, Phone,
    UserType,
};
use iam_domain::{Field, JsonMode, Patch, UserDetail, UserDetailPatch, UserId, Version};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use serde_json::{json, Value};

/// Absent, `null` or one of `values`.
fn tri<T: Clone + std::fmt::Debug + 'static>(
    values: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Patch<T>> {
    Union::new_weighted(vec![
        (2, Just(Patch::Absent).boxed()),
        (1, Just(Patch::Null).boxed()),
        (2, values.prop_map(Patch::Value).boxed()),
    ])
    .boxed()
}

fn opt<T: Clone + std::fmt::Debug + 'static>(
    values: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    proptest::option::of(values).boxed()
}

fn link() -> impl Strategy<Value = LinkUrl> {
    "[a-z]{1,8}".prop_map(|h| LinkUrl::parse(&format!("https://{h}.example.com/p")).unwrap())
}

fn file() -> impl Strategy<Value = FileUrl> {
    "[a-z]{1,8}".prop_map(|h| FileUrl::parse(&format!("https://{h}.example.com/f")).unwrap())
}

fn names() -> impl Strategy<Value = NameList> {
    proptest::collection::vec(
        select(vec!["Rust", "rust", "Go", "Python", " AI ", "ml", "ML"]),
        0..5,
    )
    .prop_map(|names| {
        NameList::new(names.into_iter().map(|n| CatalogueName::parse(n).unwrap())).unwrap()
    })
}

fn doc() -> impl Strategy<Value = JsonDocument> {
    select(vec![
        json!({"a": 1}),
        json!({"a": null, "b": {"c": 2}}),
        json!({"b": {"c": null, "d": [1]}}),
        json!([1, 2]),
        json!("s"),
    ])
    .prop_map(|v: Value| JsonDocument::new(v).unwrap())
}

fn date() -> impl Strategy<Value = DateOfBirth> {
    (1900i32..2026, 1u32..13, 1u32..29).prop_map(|(y, m, d)| {
        DateOfBirth::restore(NaiveDate::from_ymd_opt(y, m, d).unwrap()).unwrap()
    })
}

/// A patch sending a random subset of the fields with valid values (or `null`, where allowed).
fn patch() -> impl Strategy<Value = UserDetailPatch> {
    let first = (
        tri(file()),
        tri("[a-zA-Z ]{0,12}".prop_map(|s| Bio::parse(&s).unwrap())),
        tri(doc()),
        opt("[a-zA-Z ]{0,12}".prop_map(|s| Country::parse(&s).unwrap())),
        tri(select(vec!["+1 555 0100", "0300-1234567"]).prop_map(|s| Phone::parse(s).unwrap())),
        tri(date()),
        opt(select(vec!["developer", "investor"]).prop_map(|s| UserType::parse(s).unwrap())),
        tri(link()),
        tri(link()),
        tri(link()),
        tri(link()),
        tri(link()),
    );
    let second = (
        tri(link()),
        opt(names()),
        opt(names()),
        tri(names()),
        tri(names()),
        tri(file()),
        tri(any::<bool>()),
        tri(any::<bool>()),
        tri(any::<bool>()),
        tri(any::<bool>()),
        tri(doc()),
        tri(doc()),
    );
    (first, second).prop_map(|(a, b)| UserDetailPatch {
        profile_picture: a.0,
        bio: a.1,
        address: a.2,
        country: a.3,
        phone: a.4,
        dob: a.5,
        user_type: a.6,
        linkedin_url: a.7,
        github_url: a.8,
        twitter_url: a.9,
        facebook_url: a.10,
        website_url: a.11,
        portfolio_url: b.0,
        skills: b.1,
        investment_interests: b.2,
        technical_interests: b.3,
        focus_area: b.4,
        resume: b.5,
        communication_preferences_phone: b.6,
        communication_preferences_email: b.7,
        platform_features_emails: b.8,
        activity_based_emails: b.9,
        company_info: b.10,
        additional_data: b.11,
    })
}

fn json_mode() -> impl Strategy<Value = JsonMode> {
    prop_oneof![Just(JsonMode::Replace), Just(JsonMode::MergePatch)]
}

/// Some details to start from: a new row with a random patch applied.
fn detail() -> impl Strategy<Value = UserDetail> {
    patch().prop_map(|mut p| {
        p.user_type
            .get_or_insert(UserType::parse("developer").unwrap());
        UserDetail::create(
            UserId::parse("u").unwrap(),
            Version::new(1),
            &p,
            JsonMode::Replace,
        )
        .unwrap()
    })
}

proptest! {
    #[test]
    fn fields_absent_from_a_patch_never_change(start in detail(), patch in patch(), mode in json_mode()) {
        let applied = start.apply(&patch, mode).unwrap();
        let sent = patch.sent_fields();
        for field in Field::ALL {
            if !sent.contains(&field) {
                prop_assert!(start.same(&applied.detail, field), "{field} changed");
                prop_assert!(!applied.changed.contains(&field));
            }
        }
    }

    #[test]
    fn changed_lists_exactly_the_fields_that_differ(start in detail(), patch in patch(), mode in json_mode()) {
        let applied = start.apply(&patch, mode).unwrap();
        for field in Field::ALL {
            prop_assert_eq!(applied.changed.contains(&field), !start.same(&applied.detail, field));
        }
        prop_assert_eq!(applied.detail.version, start.version);
    }

    #[test]
    fn applying_a_patch_twice_equals_applying_it_once(start in detail(), patch in patch(), mode in json_mode()) {
        let once = start.apply(&patch, mode).unwrap();
        let twice = once.detail.apply(&patch, mode).unwrap();
        prop_assert_eq!(&twice.detail, &once.detail);
        prop_assert!(twice.is_unchanged());
    }

    #[test]
    fn replacing_sets_every_sent_value(start in detail(), patch in patch()) {
        let applied = start.apply(&patch, JsonMode::Replace).unwrap();
        if let Patch::Value(bio) = &patch.bio {
            prop_assert_eq!(applied.detail.bio.as_ref(), Some(bio));
        }
        if let Some(skills) = &patch.skills {
            prop_assert_eq!(&applied.detail.skills, skills);
        }
        if patch.focus_area == Patch::Null {
            prop_assert!(applied.detail.focus_area.is_empty());
        }
        if let Patch::Value(d) = &patch.address {
            prop_assert_eq!(applied.detail.address.as_ref(), Some(d));
        }
    }
}
