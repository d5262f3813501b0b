//! The read-only figures shown beside a user's details, as pure rules over plain data. Storage
//! gathers the [`FigureInputs`]; [`Figures::compute`] turns them into what a client sees. Other
//! services reuse these rules, so they are written down here:
//!
//! ## Followers
//! `followers_count` is the number of users following this user, `following_count` the number this
//! user follows. `is_following` and `is_followed_back` are relative to the viewer; when users view
//! themselves (`/me/`) both are `false`.
//!
//! ## Top domain rating and rank
//! A user has at most one rating per domain. The *top domain* is the domain of the user's highest
//! rating; ties go to the domain whose name sorts first. `top_domain_elo` is that rating (`0.0` when
//! the user has none). `top_domain_rank` is `1 +` the number of users rated *strictly* higher in that
//! domain, so equal ratings share a rank (`0` when unrated). See [`top_domain`] and [`rank`].
//!
//! ## Streaks
//! A day is *kept* when the user was active that day or a streak freeze covered it. A run is a
//! maximal sequence of consecutive kept days; its length counts the *active* days only, so a freeze
//! keeps a streak alive without growing it.
//! - `streak` (current): the length of the run that reaches today, or yesterday (today is still
//!   open); `0` otherwise.
//! - `highest_streak`: the longest run ever (never less than `streak`).
//! - `streak_freeze_days`: the freeze days inside the current run.
//!
//! Days after today are ignored. "Today" is the UTC date.
//!
//! ## Titles
//! Titles are unlocked over time. `unlocked_titles` lists them in unlock order (ties by name),
//! joined by `", "`; `title` is the latest one, `""` when none.

use chrono::{DateTime, Days, NaiveDate, Utc};

/// One rating of a user in one domain.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainRating {
    /// The domain (for example `nlp`).
    pub domain: String,
    /// The Elo-style rating.
    pub rating: f64,
}

/// A user's top domain with the number of users rated strictly higher in it.
#[derive(Debug, Clone, PartialEq)]
pub struct TopRating {
    /// The top domain and its rating.
    pub rating: DomainRating,
    /// Users rated strictly higher in that domain.
    pub rated_higher: u64,
}

/// A title and when it was unlocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlockedTitle {
    /// The title (for example `Grandmaster`).
    pub title: String,
    /// When it was unlocked.
    pub unlocked_at: DateTime<Utc>,
}

/// The plain data the figures are computed from, as storage reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FigureInputs {
    /// Users following this user.
    pub followers: u64,
    /// Users this user follows.
    pub following: u64,
    /// The top domain, if the user is rated; see [`top_domain`].
    pub top: Option<TopRating>,
    /// Days the user was active, any order, duplicates allowed.
    pub activity_days: Vec<NaiveDate>,
    /// Days a streak freeze covered, any order, duplicates allowed.
    pub freeze_days: Vec<NaiveDate>,
    /// Unlocked titles, any order.
    pub titles: Vec<UnlockedTitle>,
}

/// The read-only figures of one user, as the representation shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Users following this user.
    pub followers_count: u64,
    /// Users this user follows.
    pub following_count: u64,
    /// Whether the viewer follows this user (`false` on `/me/`).
    pub is_following: bool,
    /// Whether this user follows the viewer back (`false` on `/me/`).
    pub is_followed_back: bool,
    /// The highest rating over the user's domains, `0.0` when unrated.
    pub top_domain_elo: f64,
    /// The rank in the top domain, `0` when unrated.
    pub top_domain_rank: u64,
    /// The current streak, in active days.
    pub streak: u32,
    /// The longest streak ever, in active days.
    pub highest_streak: u32,
    /// Freeze days inside the current streak.
    pub streak_freeze_days: u32,
    /// The latest unlocked title, `""` when none.
    pub title: String,
    /// All unlocked titles, in unlock order.
    pub unlocked_titles: Vec<String>,
}

impl Default for Figures {
    fn default() -> Self {
        Figures::compute(&FigureInputs::default(), NaiveDate::MIN)
    }
}

/// The top domain among a user's ratings: the highest rating, ties to the first domain name (in
/// byte order). Both stores pick it in SQL as they cache it (`ORDER BY rating DESC, domain`), and
/// the contract test `stored_facts_follow_the_domain_rules_on_random_facts` holds them to this.
pub fn top_domain(ratings: &[DomainRating]) -> Option<&DomainRating> {
    ratings.iter().min_by(|a, b| {
        b.rating
            .total_cmp(&a.rating)
            .then_with(|| a.domain.cmp(&b.domain))
    })
}

/// The rank of a user with `rated_higher` users strictly above them: equal ratings share a rank.
pub fn rank(rated_higher: u64) -> u64 {
    rated_higher.saturating_add(1)
}

/// The three streak figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Streaks {
    /// Active days in the run reaching today or yesterday.
    pub current: u32,
    /// Active days in the longest run.
    pub highest: u32,
    /// Freeze days in the current run.
    pub current_freezes: u32,
}

/// Computes the streaks from activity and freeze days, as of `today`; see the module docs.
pub fn streaks(activity: &[NaiveDate], freezes: &[NaiveDate], today: NaiveDate) -> Streaks {
    // The days up to today, each once, in order; a day both active and frozen is active. One
    // sorted vector instead of three ordered sets: this runs on every read of a profile.
    let mut kept: Vec<(NaiveDate, bool)> = activity
        .iter()
        .map(|d| (*d, true))
        .chain(freezes.iter().map(|d| (*d, false)))
        .filter(|(d, _)| *d <= today)
        .collect();
    kept.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    kept.dedup_by_key(|(d, _)| *d);

    let mut result = Streaks::default();
    // (last day, active days, freeze days) of the run being walked.
    let mut run: Option<(NaiveDate, u32, u32)> = None;
    let close = |run: (NaiveDate, u32, u32), result: &mut Streaks| {
        result.highest = result.highest.max(run.1);
        let yesterday = today.checked_sub_days(Days::new(1));
        if run.0 == today || Some(run.0) == yesterday {
            result.current = run.1;
            result.current_freezes = run.2;
        }
    };
    for (day, active) in kept {
        let is_active = u32::from(active);
        run = match run {
            Some((last, a, f)) if last.checked_add_days(Days::new(1)) == Some(day) => {
                Some((day, a + is_active, f + (1 - is_active)))
            }
            previous => {
                if let Some(previous) = previous {
                    close(previous, &mut result);
                }
                Some((day, is_active, 1 - is_active))
            }
        };
    }
    if let Some(last) = run {
        close(last, &mut result);
    }
    result
}

impl Figures {
    /// Computes the figures a user views on their own details (`/me/`) as of `today`.
    pub fn compute(inputs: &FigureInputs, today: NaiveDate) -> Figures {
        let streaks = streaks(&inputs.activity_days, &inputs.freeze_days, today);
        let mut titles = inputs.titles.clone();
        titles.sort_by(|a, b| {
            a.unlocked_at
                .cmp(&b.unlocked_at)
                .then_with(|| a.title.cmp(&b.title))
        });
        let unlocked_titles: Vec<String> = titles.into_iter().map(|t| t.title).collect();
        Figures {
            followers_count: inputs.followers,
            following_count: inputs.following,
            is_following: false,
            is_followed_back: false,
            top_domain_elo: inputs.top.as_ref().map_or(0.0, |t| t.rating.rating),
            top_domain_rank: inputs.top.as_ref().map_or(0, |t| rank(t.rated_higher)),
            streak: streaks.current,
            highest_streak: streaks.highest,
            streak_freeze_days: streaks.current_freezes,
            title: unlocked_titles.last().cloned().unwrap_or_default(),
            unlocked_titles,
        }
    }

    /// `unlocked_titles` as the representation shows it: comma-separated, in unlock order.
    pub fn unlocked_titles_text(&self) -> String {
        self.unlocked_titles.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// The streaks walked one calendar day at a time from the first known day to `today`: the
    /// model [`streaks`] is held to.
    fn walked(active: &[NaiveDate], frozen: &[NaiveDate], today: NaiveDate) -> Streaks {
        let first = active
            .iter()
            .chain(frozen)
            .copied()
            .filter(|d| *d <= today)
            .min();
        let Some(mut day) = first else {
            return Streaks::default();
        };
        let mut result = Streaks::default();
        // The run so far (active, frozen days), and the run as it stood yesterday.
        let (mut run, mut yesterday) = ((0, 0), (0, 0));
        loop {
            let kept = if active.contains(&day) {
                run.0 += 1;
                true
            } else if frozen.contains(&day) {
                run.1 += 1;
                true
            } else {
                run = (0, 0);
                false
            };
            result.highest = result.highest.max(run.0);
            if day == today {
                (result.current, result.current_freezes) = if kept { run } else { yesterday };
                return result;
            }
            yesterday = run;
            day = day.succ_opt().unwrap();
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn rating(domain: &str, rating: f64) -> DomainRating {
        DomainRating {
            domain: domain.into(),
            rating,
        }
    }

    #[test]
    fn top_domain_is_the_highest_rating_ties_to_the_first_name() {
        let ratings = [
            rating("vision", 1500.0),
            rating("nlp", 1700.0),
            rating("audio", 1700.0),
        ];
        assert_eq!(top_domain(&ratings).unwrap().domain, "audio");
        assert_eq!(top_domain(&[]), None);
    }

    #[test]
    fn rank_is_one_plus_strictly_higher() {
        assert_eq!(rank(0), 1);
        assert_eq!(rank(41), 42);
    }

    #[test]
    fn unrated_users_have_zero_elo_and_rank() {
        let f = Figures::compute(&FigureInputs::default(), day(29));
        assert_eq!((f.top_domain_elo, f.top_domain_rank), (0.0, 0));
        assert_eq!(f.title, "");
        assert_eq!(f.unlocked_titles_text(), "");
    }

    #[test]
    fn rated_users_show_their_top_domain() {
        let inputs = FigureInputs {
            top: Some(TopRating {
                rating: rating("nlp", 1812.5),
                rated_higher: 2,
            }),
            ..FigureInputs::default()
        };
        let f = Figures::compute(&inputs, day(29));
        assert_eq!((f.top_domain_elo, f.top_domain_rank), (1812.5, 3));
    }

    #[test]
    fn no_activity_no_streak() {
        assert_eq!(streaks(&[], &[], day(29)), Streaks::default());
    }

    #[test]
    fn a_streak_reaching_today_or_yesterday_is_current() {
        let days = [day(25), day(26), day(27), day(28)];
        assert_eq!(streaks(&days, &[], day(28)).current, 4);
        assert_eq!(
            streaks(&days, &[], day(29)).current,
            4,
            "today is still open"
        );
        let s = streaks(&days, &[], day(30));
        assert_eq!((s.current, s.highest), (0, 4), "a missed day breaks it");
    }

    #[test]
    fn freezes_bridge_gaps_without_counting() {
        let active = [day(20), day(21), day(23), day(24)];
        let s = streaks(&active, &[day(22)], day(24));
        assert_eq!(
            s,
            Streaks {
                current: 4,
                highest: 4,
                current_freezes: 1
            }
        );
        let unbridged = streaks(&active, &[], day(24));
        assert_eq!(
            unbridged,
            Streaks {
                current: 2,
                highest: 2,
                current_freezes: 0
            }
        );
    }

    #[test]
    fn the_highest_streak_remembers_older_runs() {
        let active = [day(1), day(2), day(3), day(4), day(10), day(11)];
        let s = streaks(&active, &[], day(11));
        assert_eq!((s.current, s.highest), (2, 4));
    }

    #[test]
    fn future_days_and_duplicates_are_ignored() {
        let s = streaks(&[day(28), day(28), day(29), day(30)], &[day(30)], day(29));
        assert_eq!(
            s,
            Streaks {
                current: 2,
                highest: 2,
                current_freezes: 0
            }
        );
    }

    #[test]
    fn a_freeze_on_an_active_day_is_not_counted() {
        let s = streaks(&[day(28), day(29)], &[day(29)], day(29));
        assert_eq!(s.current_freezes, 0);
    }

    #[test]
    fn titles_in_unlock_order_latest_is_the_title() {
        let at = |h| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
        let inputs = FigureInputs {
            titles: vec![
                UnlockedTitle {
                    title: "Expert".into(),
                    unlocked_at: at(5),
                },
                UnlockedTitle {
                    title: "Novice".into(),
                    unlocked_at: at(1),
                },
                UnlockedTitle {
                    title: "Apprentice".into(),
                    unlocked_at: at(1),
                },
            ],
            ..FigureInputs::default()
        };
        let f = Figures::compute(&inputs, day(29));
        assert_eq!(f.unlocked_titles_text(), "Apprentice, Novice, Expert");
        assert_eq!(f.title, "Expert");
    }

    proptest! {
        #[test]
        fn highest_is_never_below_current(
            active in proptest::collection::vec(0u64..60, 0..40),
            frozen in proptest::collection::vec(0u64..60, 0..10),
        ) {
            let start = day(1);
            let to_days = |v: &[u64]| -> Vec<NaiveDate> {
                v.iter().map(|d| start.checked_add_days(Days::new(*d)).unwrap()).collect()
            };
            let today = start.checked_add_days(Days::new(59)).unwrap();
            let s = streaks(&to_days(&active), &to_days(&frozen), today);
            prop_assert!(s.highest >= s.current);
            let distinct: BTreeSet<u64> = active.iter().copied().collect();
            prop_assert!(s.highest as usize <= distinct.len());
        }

        #[test]
        fn streaks_match_a_walk_day_by_day(
            active in proptest::collection::vec(0u64..40, 0..30),
            frozen in proptest::collection::vec(0u64..40, 0..12),
            today in 0u64..45,
        ) {
            let start = day(1);
            let to_days = |v: &[u64]| -> Vec<NaiveDate> {
                v.iter().map(|d| start.checked_add_days(Days::new(*d)).unwrap()).collect()
            };
            let (active, frozen) = (to_days(&active), to_days(&frozen));
            let today = start.checked_add_days(Days::new(today)).unwrap();
            prop_assert_eq!(streaks(&active, &frozen, today), walked(&active, &frozen, today));
        }
    }
}
