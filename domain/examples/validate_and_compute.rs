//! Another service of the platform using the domain rules with no I/O and no framework: it reads
//! a profile change of its own (here a small JSON document with a few fields), validates each
//! value with the domain's types, reports the broken rules in its own words, applies the change
//! to a user's details, and computes the figures shown beside them from plain facts.
//!
//! Run it with `cargo run -p iam-domain --example validate_and_compute`.

use chrono::{NaiveDate, TimeZone, Utc};
use iam_domain::figures::{DomainRating, FigureInputs, Figures, TopRating, UnlockedTitle};
use iam_domain::values::{
    Bio, CatalogueName, Country, DateOfBirth, LinkUrl, NameList, UserType, ValueError,
};
use iam_domain::{Field, JsonMode, Patch, UserDetail, UserDetailPatch, UserId, Version};
use serde_json::{json, Value};

/// This service's own wording of the domain's rules.
fn explain(error: ValueError) -> String {
    match error {
        ValueError::TooLong { max } => format!("at most {max} characters, please"),
        ValueError::Url => "that is not a web address".into(),
        ValueError::DateInFuture => "born in the future?".into(),
        ValueError::TooManyNames { max } => format!("no more than {max} names"),
        other => other.to_string(),
    }
}

/// Reads the fields this service lets its users change; every failure is collected.
fn read(change: &Value, today: NaiveDate) -> Result<UserDetailPatch, Vec<(Field, String)>> {
    let mut errors = Vec::new();
    let mut patch = UserDetailPatch::default();
    let text = |field: Field| change.get(field.name()).and_then(Value::as_str);
    let mut check = |field: Field, result: Result<(), ValueError>| {
        if let Err(e) = result {
            errors.push((field, explain(e)));
        }
    };
    if let Some(bio) = text(Field::Bio) {
        check(
            Field::Bio,
            Bio::parse(bio).map(|b| patch.bio = Patch::Value(b)),
        );
    }
    if let Some(country) = text(Field::Country) {
        check(
            Field::Country,
            Country::parse(country).map(|c| patch.country = Some(c)),
        );
    }
    if let Some(url) = text(Field::GithubUrl) {
        check(
            Field::GithubUrl,
            LinkUrl::parse(url).map(|u| patch.github_url = Patch::Value(u)),
        );
    }
    if let Some(dob) = text(Field::Dob) {
        check(
            Field::Dob,
            DateOfBirth::parse(dob, today).map(|d| patch.dob = Patch::Value(d)),
        );
    }
    if let Some(skills) = change.get(Field::Skills.name()).and_then(Value::as_array) {
        let names: Result<Vec<CatalogueName>, ValueError> = skills
            .iter()
            .map(|s| CatalogueName::parse(s.as_str().unwrap_or_default()))
            .collect();
        check(
            Field::Skills,
            names
                .and_then(NameList::new)
                .map(|n| patch.skills = Some(n)),
        );
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(errors)
    }
}

fn main() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
    let user = UserId::parse("42").expect("an id");
    let details = UserDetail::new(
        user,
        Version::new(1),
        UserType::parse("developer").expect("a user type"),
    );

    let refused = json!({"github_url": "github.com/someone", "dob": "2999-01-01"});
    match read(&refused, today) {
        Ok(_) => unreachable!("both values break a rule"),
        Err(errors) => {
            for (field, why) in errors {
                println!("refused {field}: {why}");
            }
        }
    }

    let change = json!({
        "bio": "Builds data tools.",
        "country": "PK",
        "skills": ["Rust", "rust", "SQL"],
        "github_url": "https://github.com/someone",
    });
    let patch = read(&change, today).expect("a valid change");
    let applied = details
        .apply(&patch, JsonMode::Replace)
        .expect("no JSON document to outgrow");
    println!("changed: {:?}", applied.changed);
    let skills: Vec<&str> = applied
        .detail
        .skills
        .names()
        .iter()
        .map(CatalogueName::as_str)
        .collect();
    println!("skills (duplicates collapse, first spelling kept): {skills:?}");

    let day = |back: u64| today - chrono::Days::new(back);
    let facts = FigureInputs {
        followers: 12,
        following: 3,
        top: Some(TopRating {
            rating: DomainRating {
                domain: "nlp".into(),
                rating: 1812.5,
            },
            rated_higher: 4,
        }),
        activity_days: vec![day(1), day(2), day(4), day(5), day(6)],
        freeze_days: vec![day(3)],
        titles: vec![UnlockedTitle {
            title: "Explorer".into(),
            unlocked_at: Utc
                .with_ymd_and_hms(2026, 10, 1, 9, 0, 0)
                .single()
                .expect("a time"),
        }],
    };
    let figures = Figures::compute(&facts, today);
    println!(
        "rank {} in nlp at {}; streak {} (a freeze bridged {} day), title {:?}",
        figures.top_domain_rank,
        figures.top_domain_elo,
        figures.streak,
        figures.streak_freeze_days,
        figures.title
    );
}
