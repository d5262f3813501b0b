//! The [`UserDetail`] aggregate: everything a user wrote about themselves, one per user.

use std::fmt;

use crate::values::{
    Bio, Country, DateOfBirth, FileUrl, JsonDocument, LinkUrl, NameList, Phone, UserId, UserType,
    Version,
};

/// A user's details: every writable field of the seed's `IAMUserDetail`, as validated values, with
/// the owner and the version of the stored row.
///
/// `None` is "unset" and reads back as `null` (or, for the two file URLs, as an absent key).
/// The four preferences are `Option<bool>` because a client may set them to `null`, which reads back
/// as `null`; a new row holds `Some(false)`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDetail {
    /// The owner, from the verified token.
    pub user_id: UserId,
    /// Changes with every write; see [`Version`].
    pub version: Version,
    /// Link to the profile picture.
    pub profile_picture: Option<FileUrl>,
    /// Free text about the user.
    pub bio: Option<Bio>,
    /// Any JSON the client keeps as the address.
    pub address: Option<JsonDocument>,
    /// Country, `""` when unset.
    pub country: Country,
    /// Phone number.
    pub phone: Option<Phone>,
    /// Date of birth.
    pub dob: Option<DateOfBirth>,
    /// The kind of user; always set.
    pub user_type: UserType,
    /// LinkedIn profile.
    pub linkedin_url: Option<LinkUrl>,
    /// GitHub profile.
    pub github_url: Option<LinkUrl>,
    /// Twitter/X profile.
    pub twitter_url: Option<LinkUrl>,
    /// Facebook profile.
    pub facebook_url: Option<LinkUrl>,
    /// Personal website.
    pub website_url: Option<LinkUrl>,
    /// Portfolio.
    pub portfolio_url: Option<LinkUrl>,
    /// Developer skills, in the user's order (catalogue: developer skills).
    pub skills: NameList,
    /// Investment interests (catalogue: investment interests).
    pub investment_interests: NameList,
    /// Technical interests (catalogue: developer skills).
    pub technical_interests: NameList,
    /// Focus areas (catalogue: tags).
    pub focus_area: NameList,
    /// Link to the résumé.
    pub resume: Option<FileUrl>,
    /// Contact by phone.
    pub communication_preferences_phone: Option<bool>,
    /// Contact by e-mail.
    pub communication_preferences_email: Option<bool>,
    /// E-mails about platform features.
    pub platform_features_emails: Option<bool>,
    /// E-mails about the user's activity.
    pub activity_based_emails: Option<bool>,
    /// Any JSON the client keeps about the user's company.
    pub company_info: Option<JsonDocument>,
    /// Any further JSON the client keeps.
    pub additional_data: Option<JsonDocument>,
}

impl UserDetail {
    /// A new row with every field at its default and the given user type.
    pub fn new(user_id: UserId, version: Version, user_type: UserType) -> Self {
        Self {
            user_id,
            version,
            profile_picture: None,
            bio: None,
            address: None,
            country: Country::default(),
            phone: None,
            dob: None,
            user_type,
            linkedin_url: None,
            github_url: None,
            twitter_url: None,
            facebook_url: None,
            website_url: None,
            portfolio_url: None,
            skills: NameList::empty(),
            investment_interests: NameList::empty(),
            technical_interests: NameList::empty(),
            focus_area: NameList::empty(),
            resume: None,
            communication_preferences_phone: Some(false),
            communication_preferences_email: Some(false),
            platform_features_emails: Some(false),
            activity_based_emails: Some(false),
            company_info: None,
            additional_data: None,
        }
    }
}

/// The writable fields, by their wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // each variant is the field of the same name
pub enum Field {
    ProfilePicture,
    Bio,
    Address,
    Country,
    Phone,
    Dob,
    UserType,
    LinkedinUrl,
    GithubUrl,
    TwitterUrl,
    FacebookUrl,
    WebsiteUrl,
    PortfolioUrl,
    Skills,
    InvestmentInterests,
    TechnicalInterests,
    FocusArea,
    Resume,
    CommunicationPreferencesPhone,
    CommunicationPreferencesEmail,
    PlatformFeaturesEmails,
    ActivityBasedEmails,
    CompanyInfo,
    AdditionalData,
}

impl Field {
    /// Every writable field, in the seed's order.
    pub const ALL: [Field; 24] = [
        Field::ProfilePicture,
        Field::Bio,
        Field::Address,
        Field::Country,
        Field::Phone,
        Field::Dob,
        Field::UserType,
        Field::LinkedinUrl,
        Field::GithubUrl,
        Field::TwitterUrl,
        Field::FacebookUrl,
        Field::WebsiteUrl,
        Field::PortfolioUrl,
        Field::Skills,
        Field::InvestmentInterests,
        Field::TechnicalInterests,
        Field::FocusArea,
        Field::Resume,
        Field::CommunicationPreferencesPhone,
        Field::CommunicationPreferencesEmail,
        Field::PlatformFeaturesEmails,
        Field::ActivityBasedEmails,
        Field::CompanyInfo,
        Field::AdditionalData,
    ];

    /// The read-only keys of the representation: accepted and ignored in a write, or refused
    /// under `Prefer: handling=strict`.
    pub const READ_ONLY: [&'static str; 15] = [
        "skills_data",
        "investment_interests_data",
        "technical_interests_data",
        "focus_area_data",
        "top_domain_elo",
        "top_domain_rank",
        "streak",
        "highest_streak",
        "streak_freeze_days",
        "title",
        "unlocked_titles",
        "followers_count",
        "following_count",
        "is_following",
        "is_followed_back",
    ];

    /// The wire name (and column name).
    pub const fn name(self) -> &'static str {
        match self {
            Field::ProfilePicture => "profile_picture",
            Field::Bio => "bio",
            Field::Address => "address",
            Field::Country => "country",
            Field::Phone => "phone",
            Field::Dob => "dob",
            Field::UserType => "user_type",
            Field::LinkedinUrl => "linkedin_url",
            Field::GithubUrl => "github_url",
            Field::TwitterUrl => "twitter_url",
            Field::FacebookUrl => "facebook_url",
            Field::WebsiteUrl => "website_url",
            Field::PortfolioUrl => "portfolio_url",
            Field::Skills => "skills",
            Field::InvestmentInterests => "investment_interests",
            Field::TechnicalInterests => "technical_interests",
            Field::FocusArea => "focus_area",
            Field::Resume => "resume",
            Field::CommunicationPreferencesPhone => "communication_preferences_phone",
            Field::CommunicationPreferencesEmail => "communication_preferences_email",
            Field::PlatformFeaturesEmails => "platform_features_emails",
            Field::ActivityBasedEmails => "activity_based_emails",
            Field::CompanyInfo => "company_info",
            Field::AdditionalData => "additional_data",
        }
    }

    /// The field with wire name `name`.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_the_fields_in_declaration_order() {
        // `stored::restore` indexes by `field as usize`.
        for (i, field) in Field::ALL.into_iter().enumerate() {
            assert_eq!(field as usize, i);
        }
    }

    #[test]
    fn names_round_trip() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
        assert_eq!(Field::from_name("skills_data"), None);
    }

    #[test]
    fn a_new_row_holds_the_defaults() {
        let d = UserDetail::new(
            UserId::parse("1").unwrap(),
            Version::new(1),
            UserType::parse("developer").unwrap(),
        );
        assert_eq!(d.country.as_str(), "");
        assert_eq!(d.activity_based_emails, Some(false));
        assert!(d.skills.is_empty() && d.bio.is_none());
    }
}
