//! The representation: `IAMUserDetail` as the seed's OpenAPI defines it, built from a
//! [`UserProfile`]. Field order follows the seed. The borrowed form avoids copying the profile.

use iam_domain::values::{FileUrl, JsonDocument, LinkUrl};
use iam_domain::{CatalogueEntry, Field, Figures, UserDetail, UserId, UserProfile};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// An entry of the developer-skills catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(title = "DeveloperSkill")]
pub struct DeveloperSkill<'a> {
    /// The catalogue id.
    pub id: i64,
    /// The catalogue's spelling of the name.
    pub name: &'a str,
    /// An optional description.
    pub description: Option<&'a str>,
}

/// An entry of the investment-interests catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[schema(title = "InvestmentInterest")]
pub struct InvestmentInterest<'a> {
    /// The catalogue id.
    pub id: i64,
    /// The catalogue's spelling of the name.
    pub name: &'a str,
    /// An optional description.
    pub description: Option<&'a str>,
}

/// A tag (focus area).
#[derive(Debug, Serialize, ToSchema)]
#[schema(title = "Tag")]
pub struct Tag<'a> {
    /// The tag's name.
    pub name: &'a str,
}

/// A user's details with the read-only figures, as every route returns them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(title = "IAMUserDetail")]
#[allow(missing_docs)] // the fields are the seed's
pub struct IamUserDetail<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = "uri", required = false)]
    pub profile_picture: Option<&'a str>,
    #[schema(required = false)]
    pub bio: Option<&'a str>,
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Value, required = false)]
    pub address: Private<Option<&'a Value>>,
    #[schema(required = false)]
    pub country: &'a str,
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<String>, required = false)]
    pub phone: Private<Option<&'a str>>,
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<String>, format = Date, required = false)]
    pub dob: Private<Option<String>>,
    pub user_type: &'a str,
    #[schema(format = "uri", required = false)]
    pub linkedin_url: Option<&'a str>,
    #[schema(format = "uri", required = false)]
    pub github_url: Option<&'a str>,
    #[schema(format = "uri", required = false)]
    pub twitter_url: Option<&'a str>,
    #[schema(format = "uri", required = false)]
    pub facebook_url: Option<&'a str>,
    #[schema(format = "uri", required = false)]
    pub website_url: Option<&'a str>,
    #[schema(format = "uri", required = false)]
    pub portfolio_url: Option<&'a str>,
    #[schema(required = false)]
    pub skills: Vec<&'a str>,
    #[schema(required = false)]
    pub investment_interests: Vec<&'a str>,
    #[schema(value_type = Option<Vec<String>>, required = false)]
    pub technical_interests: Vec<&'a str>,
    #[schema(value_type = Option<Vec<String>>, required = false)]
    pub focus_area: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = "uri", required = false)]
    pub resume: Option<&'a str>,
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<bool>, default = false, required = false)]
    pub communication_preferences_phone: Private<Option<bool>>,
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<bool>, default = false, required = false)]
    pub communication_preferences_email: Private<Option<bool>>,
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<bool>, default = false, required = false)]
    pub platform_features_emails: Private<Option<bool>>,
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<bool>, default = false, required = false)]
    pub activity_based_emails: Private<Option<bool>>,
    #[schema(value_type = Value, required = false)]
    pub company_info: Option<&'a Value>,
    pub skills_data: Vec<DeveloperSkill<'a>>,
    pub investment_interests_data: Vec<InvestmentInterest<'a>>,
    pub technical_interests_data: Vec<DeveloperSkill<'a>>,
    pub focus_area_data: Vec<Tag<'a>>,
    #[serde(skip_serializing_if = "Private::is_hidden")]
    #[schema(value_type = Option<Value>, required = false)]
    pub additional_data: Private<Option<&'a Value>>,
    pub top_domain_elo: f64,
    pub top_domain_rank: i64,
    pub streak: String,
    pub highest_streak: String,
    pub streak_freeze_days: String,
    pub title: &'a str,
    pub unlocked_titles: String,
    pub followers_count: i64,
    pub following_count: i64,
    pub is_following: bool,
    pub is_followed_back: bool,
}

fn names(entries: &[CatalogueEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

fn skills(entries: &[CatalogueEntry]) -> Vec<DeveloperSkill<'_>> {
    entries
        .iter()
        .map(|e| DeveloperSkill {
            id: e.id,
            name: &e.name,
            description: e.description.as_deref(),
        })
        .collect()
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A private field's value ([`Field::is_private`]): shown to its owner, left out of the public view.
#[derive(Debug)]
pub enum Private<T> {
    /// Shown (the owner's view).
    Shown(T),
    /// Left out (another user's view).
    Hidden,
}

impl<T> Private<T> {
    /// Whether the field is left out.
    pub fn is_hidden(&self) -> bool {
        matches!(self, Private::Hidden)
    }
}

impl<T: Serialize> Serialize for Private<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Private::Shown(value) => value.serialize(serializer),
            Private::Hidden => serializer.serialize_none(),
        }
    }
}

/// A field's value in `view`: the domain says which fields are private.
fn private<T>(view: View, field: Field, value: T) -> Private<T> {
    if view == View::Public && field.is_private() {
        Private::Hidden
    } else {
        Private::Shown(value)
    }
}

/// Whose view a representation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The owner's (`/me/`): every field.
    Owner,
    /// Another user's: without the private fields.
    Public,
}

impl<'a> From<&'a UserProfile> for IamUserDetail<'a> {
    fn from(p: &'a UserProfile) -> Self {
        IamUserDetail::new(p, View::Owner)
    }
}

impl<'a> IamUserDetail<'a> {
    /// The representation of `p` in `view`.
    pub fn new(p: &'a UserProfile, view: View) -> Self {
        // Destructured whole, so that a field added to the domain's table does not compile
        // here until the representation shows it.
        let UserDetail {
            user_id: _,
            version: _,
            profile_picture,
            bio,
            address,
            country,
            phone,
            dob,
            user_type,
            linkedin_url,
            github_url,
            twitter_url,
            facebook_url,
            website_url,
            portfolio_url,
            skills: _,
            investment_interests: _,
            technical_interests: _,
            focus_area: _,
            resume,
            communication_preferences_phone,
            communication_preferences_email,
            platform_features_emails,
            activity_based_emails,
            company_info,
            additional_data,
        } = &p.detail;
        let f = &p.figures;
        let link = |v: &'a Option<LinkUrl>| v.as_ref().map(LinkUrl::as_str);
        let file = |v: &'a Option<FileUrl>| v.as_ref().map(FileUrl::as_str);
        let document = |v: &'a Option<JsonDocument>| v.as_ref().map(JsonDocument::value);
        IamUserDetail {
            profile_picture: file(profile_picture),
            bio: bio.as_ref().map(|b| b.as_str()),
            address: private(view, Field::Address, document(address)),
            country: country.as_str(),
            phone: private(view, Field::Phone, phone.as_ref().map(|p| p.as_str())),
            dob: private(view, Field::Dob, dob.map(|dob| dob.to_string())),
            user_type: user_type.as_str(),
            linkedin_url: link(linkedin_url),
            github_url: link(github_url),
            twitter_url: link(twitter_url),
            facebook_url: link(facebook_url),
            website_url: link(website_url),
            portfolio_url: link(portfolio_url),
            // The lists show the catalogue's spelling, from the entries.
            skills: names(&p.skills),
            investment_interests: names(&p.investment_interests),
            technical_interests: names(&p.technical_interests),
            focus_area: names(&p.focus_area),
            resume: file(resume),
            communication_preferences_phone: private(
                view,
                Field::CommunicationPreferencesPhone,
                *communication_preferences_phone,
            ),
            communication_preferences_email: private(
                view,
                Field::CommunicationPreferencesEmail,
                *communication_preferences_email,
            ),
            platform_features_emails: private(
                view,
                Field::PlatformFeaturesEmails,
                *platform_features_emails,
            ),
            activity_based_emails: private(
                view,
                Field::ActivityBasedEmails,
                *activity_based_emails,
            ),
            company_info: document(company_info),
            skills_data: skills(&p.skills),
            investment_interests_data: p
                .investment_interests
                .iter()
                .map(|e| InvestmentInterest {
                    id: e.id,
                    name: &e.name,
                    description: e.description.as_deref(),
                })
                .collect(),
            technical_interests_data: skills(&p.technical_interests),
            focus_area_data: p.focus_area.iter().map(|e| Tag { name: &e.name }).collect(),
            additional_data: private(view, Field::AdditionalData, document(additional_data)),
            top_domain_elo: f.top_domain_elo,
            top_domain_rank: clamp(f.top_domain_rank),
            streak: f.streak.to_string(),
            highest_streak: f.highest_streak.to_string(),
            streak_freeze_days: f.streak_freeze_days.to_string(),
            title: &f.title,
            unlocked_titles: f.unlocked_titles_text(),
            followers_count: clamp(f.followers_count),
            following_count: clamp(f.following_count),
            is_following: f.is_following,
            is_followed_back: f.is_followed_back,
        }
    }
}

/// Serialises a profile's representation in `view`.
pub fn to_json(profile: &UserProfile, view: View) -> Vec<u8> {
    // A seeded profile is ~1.5 KiB: one allocation instead of growing from serde_json's 128 bytes
    // through four copies. Serialising plain data into a Vec cannot fail.
    let mut body = Vec::with_capacity(2048);
    match serde_json::to_writer(&mut body, &IamUserDetail::new(profile, view)) {
        Ok(()) => body,
        Err(_) => Vec::new(),
    }
}

/// A user's read-only figures, as the internal API shows them: the same names and types as in
/// `IAMUserDetail`, as the user sees them on `/me/`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(title = "UserFigures")]
#[allow(missing_docs)] // the fields are the representation's
pub struct UserFigures<'a> {
    pub user_id: &'a str,
    pub top_domain_elo: f64,
    pub top_domain_rank: i64,
    pub streak: String,
    pub highest_streak: String,
    pub streak_freeze_days: String,
    pub title: &'a str,
    pub unlocked_titles: String,
    pub followers_count: i64,
    pub following_count: i64,
}

impl<'a> UserFigures<'a> {
    /// The figures `f` of `user`.
    pub fn new(user: &'a UserId, f: &'a Figures) -> Self {
        UserFigures {
            user_id: user.as_str(),
            top_domain_elo: f.top_domain_elo,
            top_domain_rank: clamp(f.top_domain_rank),
            streak: f.streak.to_string(),
            highest_streak: f.highest_streak.to_string(),
            streak_freeze_days: f.streak_freeze_days.to_string(),
            title: &f.title,
            unlocked_titles: f.unlocked_titles_text(),
            followers_count: clamp(f.followers_count),
            following_count: clamp(f.following_count),
        }
    }
}
