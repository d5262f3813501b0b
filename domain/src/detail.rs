//! The [`UserDetail`] aggregate: everything a user wrote about themselves, one per user; [`Field`],
//! the names of its writable fields; and [`UserDetailPatch`], what a client asked to change.
//!
//! All three, and every `match` over the fields, are generated from one table,
//! [`writable_fields!`](crate::writable_fields). A field's types decide the rest: how it is stored
//! ([`StoredField`](crate::stored::StoredField)), how a patch applies to it
//! ([`ApplyTo`](crate::merge::ApplyTo)), how a patch says it was sent ([`Sent`](crate::patch::Sent)).

use std::fmt;

use crate::values::{UserId, UserType, Version};

/// The table of the writable fields, in the seed's order: for each, its [`Field`] variant, its
/// name (the wire key, the struct field and the column), the type [`UserDetail`] holds and the type
/// a [`UserDetailPatch`] holds (`Patch<T>` when `null` is allowed, `Option<T>` when it is not).
///
/// It calls `$callback!` with the table, so that a crate that needs code per field (the HTTP
/// adapter reading a body, say) generates it from the same table instead of keeping a list:
///
/// ```
/// macro_rules! names {
///     ($($(#[$doc:meta])* $variant:ident $name:ident: $value:ty, $patch:ty;)*) => {
///         [$(stringify!($name)),*]
///     };
/// }
/// let names = iam_domain::writable_fields!(names);
/// assert_eq!(names.len(), iam_domain::Field::ALL.len());
/// assert_eq!(names[1], iam_domain::Field::Bio.name());
/// ```
#[macro_export]
macro_rules! writable_fields {
    ($callback:ident) => {
        $callback! {
            /// Link to the profile picture.
            ProfilePicture profile_picture:
                Option<$crate::values::FileUrl>, $crate::patch::Patch<$crate::values::FileUrl>;
            /// Free text about the user.
            Bio bio: Option<$crate::values::Bio>, $crate::patch::Patch<$crate::values::Bio>;
            /// Any JSON the client keeps as the address.
            Address address:
                Option<$crate::values::JsonDocument>,
                $crate::patch::Patch<$crate::values::JsonDocument>;
            /// Country, `""` when unset; may not be `null`.
            Country country: $crate::values::Country, Option<$crate::values::Country>;
            /// Phone number.
            Phone phone: Option<$crate::values::Phone>, $crate::patch::Patch<$crate::values::Phone>;
            /// Date of birth.
            Dob dob:
                Option<$crate::values::DateOfBirth>,
                $crate::patch::Patch<$crate::values::DateOfBirth>;
            /// The kind of user; always set, may not be `null`.
            UserType user_type: $crate::values::UserType, Option<$crate::values::UserType>;
            /// LinkedIn profile.
            LinkedinUrl linkedin_url:
                Option<$crate::values::LinkUrl>, $crate::patch::Patch<$crate::values::LinkUrl>;
            /// GitHub profile.
            GithubUrl github_url:
                Option<$crate::values::LinkUrl>, $crate::patch::Patch<$crate::values::LinkUrl>;
            /// Twitter/X profile.
            TwitterUrl twitter_url:
                Option<$crate::values::LinkUrl>, $crate::patch::Patch<$crate::values::LinkUrl>;
            /// Facebook profile.
            FacebookUrl facebook_url:
                Option<$crate::values::LinkUrl>, $crate::patch::Patch<$crate::values::LinkUrl>;
            /// Personal website.
            WebsiteUrl website_url:
                Option<$crate::values::LinkUrl>, $crate::patch::Patch<$crate::values::LinkUrl>;
            /// Portfolio.
            PortfolioUrl portfolio_url:
                Option<$crate::values::LinkUrl>, $crate::patch::Patch<$crate::values::LinkUrl>;
            /// Developer skills, in the user's order; may not be `null`.
            Skills skills: $crate::values::NameList, Option<$crate::values::NameList>;
            /// Investment interests; may not be `null`.
            InvestmentInterests investment_interests:
                $crate::values::NameList, Option<$crate::values::NameList>;
            /// Technical interests; `null` clears the list.
            TechnicalInterests technical_interests:
                $crate::values::NameList, $crate::patch::Patch<$crate::values::NameList>;
            /// Focus areas; `null` clears the list.
            FocusArea focus_area:
                $crate::values::NameList, $crate::patch::Patch<$crate::values::NameList>;
            /// Link to the résumé.
            Resume resume:
                Option<$crate::values::FileUrl>, $crate::patch::Patch<$crate::values::FileUrl>;
            /// Contact by phone (`false` on a new row).
            CommunicationPreferencesPhone communication_preferences_phone:
                Option<bool>, $crate::patch::Patch<bool>;
            /// Contact by e-mail (`false` on a new row).
            CommunicationPreferencesEmail communication_preferences_email:
                Option<bool>, $crate::patch::Patch<bool>;
            /// E-mails about platform features (`false` on a new row).
            PlatformFeaturesEmails platform_features_emails:
                Option<bool>, $crate::patch::Patch<bool>;
            /// E-mails about the user's activity (`false` on a new row).
            ActivityBasedEmails activity_based_emails: Option<bool>, $crate::patch::Patch<bool>;
            /// Any JSON the client keeps about the user's company.
            CompanyInfo company_info:
                Option<$crate::values::JsonDocument>,
                $crate::patch::Patch<$crate::values::JsonDocument>;
            /// Any further JSON the client keeps.
            AdditionalData additional_data:
                Option<$crate::values::JsonDocument>,
                $crate::patch::Patch<$crate::values::JsonDocument>;
        }
    };
}

macro_rules! one {
    ($x:ident) => {
        1
    };
}

/// Generates the aggregate, the patch, the field enum and every per-field `match` from the table.
macro_rules! declare {
    ($($(#[$doc:meta])* $variant:ident $name:ident: $value:ty, $patch:ty;)*) => {
        /// A user's details: every writable field of the seed's `IAMUserDetail`, as validated
        /// values, with the owner and the version of the stored row.
        ///
        /// `None` is "unset" and reads back as `null` (or, for the two file URLs, as an absent
        /// key). The four preferences are `Option<bool>` because a client may set them to `null`,
        /// which reads back as `null`; a new row holds `Some(false)`.
        #[derive(Debug, Clone, PartialEq)]
        pub struct UserDetail {
            /// The owner, from the verified token.
            pub user_id: UserId,
            /// Changes with every write; see [`Version`].
            pub version: Version,
            $($(#[$doc])* pub $name: $value,)*
        }

        /// A validated request to change a user's details: for each field, absent (leave it),
        /// `null` (clear it, where allowed) or a value. See [`Patch`](crate::patch::Patch).
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct UserDetailPatch {
            $($(#[$doc])* pub $name: $patch,)*
        }

        /// The writable fields, by their wire name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $($(#[$doc])* $variant,)*
        }

        impl Field {
            /// How many writable fields there are.
            pub const COUNT: usize = 0 $(+ one!($variant))*;

            /// Every writable field, in the seed's order.
            pub const ALL: [Field; Field::COUNT] = [$(Field::$variant),*];

            /// The wire name (and column name).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Field::$variant => stringify!($name),)*
                }
            }

            /// How the field is stored.
            pub const fn kind(self) -> crate::stored::Kind {
                match self {
                    $(Field::$variant => <$value as crate::stored::StoredField>::KIND,)*
                }
            }
        }

        impl UserDetail {
            /// A new row with every field at its default and the given user type.
            pub fn new(user_id: UserId, version: Version, user_type: UserType) -> Self {
                UserDetail {
                    user_id,
                    version,
                    $($name: <$value as crate::stored::StoredField>::fresh(&user_type),)*
                }
            }

            /// The value of `field`, as a column holds it.
            pub fn column(&self, field: Field) -> crate::stored::Column<'_> {
                match field {
                    $(Field::$variant =>
                        crate::stored::StoredField::to_column(&self.$name),)*
                }
            }

            /// True when `field` holds the same value in both details.
            pub fn same(&self, other: &UserDetail, field: Field) -> bool {
                match field {
                    $(Field::$variant => self.$name == other.$name,)*
                }
            }

            /// Each field after `patch`; a field the patch cannot apply to keeps its value and is
            /// named in `errors`.
            pub(crate) fn patched(
                &self,
                patch: &UserDetailPatch,
                mode: crate::merge::JsonMode,
                errors: &mut Vec<crate::errors::InvalidField>,
            ) -> UserDetail {
                UserDetail {
                    user_id: self.user_id.clone(),
                    version: self.version,
                    $($name: crate::merge::ApplyTo::apply_to(&patch.$name, &self.$name, mode)
                        .unwrap_or_else(|error| {
                            errors.push(crate::errors::InvalidField {
                                field: Field::$variant,
                                error,
                            });
                            self.$name.clone()
                        }),)*
                }
            }

            /// Details from stored values (indexed by field), each unreadable one replaced by a
            /// new row's value and named in `unreadable`; see [`UserDetail::restore`].
            pub(crate) fn decoded(
                user_id: UserId,
                version: Version,
                user_type: &UserType,
                values: &mut [Option<Result<crate::stored::StoredValue, crate::stored::Unreadable>>],
                unreadable: &mut Vec<crate::stored::RestoreError>,
            ) -> UserDetail {
                UserDetail {
                    user_id,
                    version,
                    $($name: crate::stored::decode_or_fresh::<$value>(
                        Field::$variant,
                        values,
                        user_type,
                        unreadable,
                    ),)*
                }
            }
        }

        impl UserDetailPatch {
            /// The fields this patch sends (present as a value or as `null`), in
            /// [`Field::ALL`] order.
            pub fn sent_fields(&self) -> Vec<Field> {
                let mut sent = Vec::new();
                $(if crate::patch::Sent::is_sent(&self.$name) {
                    sent.push(Field::$variant);
                })*
                sent
            }
        }
    };
}

crate::writable_fields!(declare);

/// The four list fields, kept in link tables to a catalogue rather than in columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    /// `skills` (catalogue: developer skills).
    Skills,
    /// `investment_interests` (catalogue: investment interests).
    InvestmentInterests,
    /// `technical_interests` (catalogue: developer skills).
    TechnicalInterests,
    /// `focus_area` (catalogue: tags).
    FocusArea,
}

/// The catalogues the lists name entries of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Catalogue {
    /// Developer skills (behind `skills` and `technical_interests`).
    DeveloperSkills,
    /// Investment interests.
    InvestmentInterests,
    /// Tags (behind `focus_area`).
    Tags,
}

impl Catalogue {
    /// Every catalogue, in the order writers resolve names (so that concurrent writers lock
    /// catalogue rows in one order).
    pub const ALL: [Catalogue; 3] = [
        Catalogue::DeveloperSkills,
        Catalogue::InvestmentInterests,
        Catalogue::Tags,
    ];
}

impl UserDetail {
    /// The names of `list`.
    pub fn names(&self, list: List) -> &crate::values::NameList {
        match list {
            List::Skills => &self.skills,
            List::InvestmentInterests => &self.investment_interests,
            List::TechnicalInterests => &self.technical_interests,
            List::FocusArea => &self.focus_area,
        }
    }
}

impl List {
    /// Every list, in [`Field::ALL`] order.
    pub const ALL: [List; 4] = [
        List::Skills,
        List::InvestmentInterests,
        List::TechnicalInterests,
        List::FocusArea,
    ];

    /// The field of this list.
    pub const fn field(self) -> Field {
        match self {
            List::Skills => Field::Skills,
            List::InvestmentInterests => Field::InvestmentInterests,
            List::TechnicalInterests => Field::TechnicalInterests,
            List::FocusArea => Field::FocusArea,
        }
    }

    /// The catalogue the list's names are entries of.
    pub const fn catalogue(self) -> Catalogue {
        match self {
            List::Skills | List::TechnicalInterests => Catalogue::DeveloperSkills,
            List::InvestmentInterests => Catalogue::InvestmentInterests,
            List::FocusArea => Catalogue::Tags,
        }
    }
}

impl Field {
    /// The field with wire name `name`.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The list this field is, if it is one.
    pub fn list(self) -> Option<List> {
        List::ALL.into_iter().find(|l| l.field() == self)
    }

    /// True for the four lists kept in link tables rather than columns.
    pub fn is_list(self) -> bool {
        self.kind() == crate::stored::Kind::Names
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
    use crate::stored::Kind;

    #[test]
    fn all_lists_the_fields_in_declaration_order() {
        // `stored::restore` indexes by `field as usize`.
        for (i, field) in Field::ALL.into_iter().enumerate() {
            assert_eq!(field as usize, i);
        }
        assert_eq!(Field::COUNT, 24);
    }

    #[test]
    fn names_round_trip_and_are_distinct() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
        assert_eq!(Field::from_name("skills_data"), None);
        assert_eq!(Field::Bio.to_string(), "bio");
    }

    #[test]
    fn the_lists_are_the_fields_stored_as_names() {
        let lists: Vec<Field> = Field::ALL.into_iter().filter(|f| f.is_list()).collect();
        assert_eq!(lists, List::ALL.map(List::field));
        for field in Field::ALL {
            assert_eq!(
                field.list().is_some(),
                field.kind() == Kind::Names,
                "{field}"
            );
        }
        assert_eq!(Field::Skills.list(), Some(List::Skills));
        assert_eq!(Field::Bio.list(), None);
        assert_eq!(
            List::ALL.map(List::catalogue),
            [
                Catalogue::DeveloperSkills,
                Catalogue::InvestmentInterests,
                Catalogue::DeveloperSkills,
                Catalogue::Tags
            ]
        );
    }

    #[test]
    fn names_reads_the_list_of_its_field() {
        let d = crate::testing::every_field_set();
        for list in List::ALL {
            let column = d.column(list.field());
            assert_eq!(
                column,
                crate::stored::Column::Names(d.names(list)),
                "{list:?}"
            );
            assert!(!d.names(list).is_empty());
        }
        let names: Vec<_> = List::ALL.iter().map(|l| d.names(*l).clone()).collect();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                assert_ne!(a, b, "each list reads its own field");
            }
        }
    }

    #[test]
    fn kinds_follow_the_value_types() {
        assert_eq!(Field::Bio.kind(), Kind::Text);
        assert_eq!(Field::Country.kind(), Kind::Text);
        assert_eq!(Field::Dob.kind(), Kind::Date);
        assert_eq!(Field::Address.kind(), Kind::Json);
        assert_eq!(Field::ActivityBasedEmails.kind(), Kind::Bool);
        assert_eq!(Field::FocusArea.kind(), Kind::Names);
    }

    #[test]
    fn a_new_row_holds_the_defaults() {
        let d = UserDetail::new(
            UserId::parse("1").unwrap(),
            Version::new(1),
            UserType::parse("developer").unwrap(),
        );
        assert_eq!(d.country.as_str(), "");
        assert_eq!(d.user_type.as_str(), "developer");
        assert_eq!(d.communication_preferences_phone, Some(false));
        assert_eq!(d.communication_preferences_email, Some(false));
        assert_eq!(d.platform_features_emails, Some(false));
        assert_eq!(d.activity_based_emails, Some(false));
        assert!(d.skills.is_empty() && d.focus_area.is_empty());
        assert!(d.bio.is_none() && d.dob.is_none() && d.address.is_none());
    }

    #[test]
    fn same_compares_one_field() {
        let a = UserDetail::new(
            UserId::parse("1").unwrap(),
            Version::new(1),
            UserType::parse("developer").unwrap(),
        );
        let mut b = a.clone();
        b.bio = Some(crate::values::Bio::parse("x").unwrap());
        b.version = Version::new(9);
        for field in Field::ALL {
            assert_eq!(a.same(&b, field), field != Field::Bio, "{field}");
        }
    }
}
