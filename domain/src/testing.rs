//! Samples for tests: details and a patch that set every field.

use chrono::NaiveDate;
use serde_json::json;

use crate::detail::{UserDetail, UserDetailPatch};
use crate::patch::Patch;
use crate::values::{
    Bio, CatalogueName, Country, DateOfBirth, FileUrl, JsonDocument, LinkUrl, NameList, Phone,
    UserId, UserType, Version,
};

fn names(names: &[&str]) -> NameList {
    NameList::new(names.iter().map(|n| CatalogueName::parse(n).unwrap())).unwrap()
}

fn link(path: &str) -> LinkUrl {
    LinkUrl::parse(&format!("https://example.com/{path}")).unwrap()
}

/// A patch that sets every field to a value that no new row holds.
pub fn every_field_patched() -> UserDetailPatch {
    UserDetailPatch {
        profile_picture: Patch::Value(FileUrl::parse("https://files.example/p.png").unwrap()),
        bio: Patch::Value(Bio::parse("Builds things.").unwrap()),
        address: Patch::Value(JsonDocument::new(json!({"city": "Lahore", "n": 1.50})).unwrap()),
        country: Some(Country::parse("PK").unwrap()),
        phone: Patch::Value(Phone::parse("+92 300 1234567").unwrap()),
        dob: Patch::Value(
            DateOfBirth::restore(NaiveDate::from_ymd_opt(1990, 1, 2).unwrap()).unwrap(),
        ),
        user_type: Some(UserType::parse("investor").unwrap()),
        linkedin_url: Patch::Value(link("in")),
        github_url: Patch::Value(link("gh")),
        twitter_url: Patch::Value(link("tw")),
        facebook_url: Patch::Value(link("fb")),
        website_url: Patch::Value(link("web")),
        portfolio_url: Patch::Value(link("folio")),
        skills: Some(names(&["Rust", "Go"])),
        investment_interests: Some(names(&["Fintech"])),
        technical_interests: Patch::Value(names(&["Databases"])),
        focus_area: Patch::Value(names(&["AI", "Health"])),
        resume: Patch::Value(FileUrl::parse("https://files.example/cv.pdf").unwrap()),
        communication_preferences_phone: Patch::Value(true),
        communication_preferences_email: Patch::Value(true),
        platform_features_emails: Patch::Value(true),
        activity_based_emails: Patch::Value(true),
        company_info: Patch::Value(JsonDocument::new(json!(["a", {"b": null}])).unwrap()),
        additional_data: Patch::Value(JsonDocument::new(json!("text")).unwrap()),
    }
}

/// Details with every field set (by [`every_field_patched`]).
pub fn every_field_set() -> UserDetail {
    let patch = every_field_patched();
    let user = UserId::parse("sample").unwrap();
    UserDetail::create(user, Version::new(3), &patch, crate::JsonMode::Replace).unwrap()
}
