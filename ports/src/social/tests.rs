//! The social use cases against mocked ports.

use super::*;
use crate::outbound::{MockClock, MockFigureFacts, MockUserDetailsRepository};
use chrono::TimeZone;
use iam_domain::figures::FigureInputs;
use iam_domain::values::UserType;
use iam_domain::{Relation, StoredProfile, UserDetail, Version};
use mockall::predicate::eq;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
}

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    clock.expect_today().returning(|| now().date_naive());
    Arc::new(clock)
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn stored(id: &str, facts: FigureInputs) -> StoredProfile {
    StoredProfile {
        detail: UserDetail::new(
            user(id),
            Version::new(1),
            UserType::parse("developer").unwrap(),
        ),
        skills: vec![],
        investment_interests: vec![],
        technical_interests: vec![],
        focus_area: vec![],
        facts,
    }
}

fn social(repo: MockUserDetailsRepository, facts: MockFigureFacts) -> Social {
    Social::new(Arc::new(repo), Arc::new(facts), clock())
}

fn unavailable() -> FigureFactsError {
    FigureFactsError::Unavailable("down".into())
}

#[tokio::test]
async fn a_view_shows_the_figures_with_the_relation_from_the_viewer_side() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find().with(eq(user("b"))).returning(|_| {
        Ok(stored(
            "b",
            FigureInputs {
                followers: 2,
                activity_days: vec![day(28), day(29)],
                ..FigureInputs::default()
            },
        ))
    });
    let mut facts = MockFigureFacts::new();
    facts
        .expect_relation()
        .with(eq(user("a")), eq(user("b")))
        .times(1)
        .returning(|_, _| {
            Ok(Relation {
                is_following: true,
                is_followed_back: false,
            })
        });
    let profile = social(repo, facts)
        .view(&user("a"), &user("b"))
        .await
        .unwrap();
    assert_eq!(profile.detail.user_id, user("b"));
    let f = &profile.figures;
    assert_eq!((f.is_following, f.is_followed_back), (true, false));
    assert_eq!((f.followers_count, f.streak), (2, 2));
}

#[tokio::test]
async fn viewing_oneself_asks_no_relation_and_shows_none() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find()
        .returning(|_| Ok(stored("a", FigureInputs::default())));
    let mut facts = MockFigureFacts::new();
    facts.expect_relation().never();
    let profile = social(repo, facts)
        .view(&user("a"), &user("a"))
        .await
        .unwrap();
    assert!(!profile.figures.is_following && !profile.figures.is_followed_back);
}

#[tokio::test]
async fn a_view_of_a_user_without_details_is_not_found_and_asks_no_relation() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find()
        .returning(|_| Err(RepoFindError::NotFound));
    let mut facts = MockFigureFacts::new();
    facts.expect_relation().never();
    let outcome = social(repo, facts).view(&user("a"), &user("b")).await;
    assert!(matches!(outcome, Err(GetError::NotFound)));
}

#[tokio::test]
async fn a_relation_that_cannot_be_read_fails_the_view() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find()
        .returning(|_| Ok(stored("b", FigureInputs::default())));
    let mut facts = MockFigureFacts::new();
    facts.expect_relation().returning(|_, _| Err(unavailable()));
    let outcome = social(repo, facts).view(&user("a"), &user("b")).await;
    assert!(matches!(outcome, Err(GetError::Unavailable(_))));
}

#[tokio::test]
async fn following_oneself_is_refused_before_storage() {
    let mut facts = MockFigureFacts::new();
    facts.expect_follow().never();
    facts.expect_unfollow().never();
    let s = social(MockUserDetailsRepository::new(), facts);
    assert!(matches!(
        s.follow(&user("a"), &user("a")).await,
        Err(FollowError::Themselves)
    ));
    assert!(matches!(
        s.unfollow(&user("a"), &user("a")).await,
        Err(FollowError::Themselves)
    ));
}

#[tokio::test]
async fn follows_reach_storage_and_its_errors_come_back() {
    let mut facts = MockFigureFacts::new();
    facts
        .expect_follow()
        .with(eq(user("a")), eq(user("b")))
        .times(1)
        .returning(|_, _| Ok(()));
    facts
        .expect_follow()
        .with(eq(user("a")), eq(user("ghost")))
        .returning(|_, _| Err(FigureFactsError::NotFound));
    facts
        .expect_follow()
        .with(eq(user("a")), eq(user("c")))
        .returning(|_, _| Err(unavailable()));
    facts
        .expect_unfollow()
        .with(eq(user("a")), eq(user("b")))
        .times(1)
        .returning(|_, _| Ok(()));
    let s = social(MockUserDetailsRepository::new(), facts);
    s.follow(&user("a"), &user("b")).await.unwrap();
    assert!(matches!(
        s.follow(&user("a"), &user("ghost")).await,
        Err(FollowError::NotFound)
    ));
    assert!(matches!(
        s.follow(&user("a"), &user("c")).await,
        Err(FollowError::Unavailable(_))
    ));
    s.unfollow(&user("a"), &user("b")).await.unwrap();
}

#[tokio::test]
async fn days_after_tomorrow_are_refused_before_storage() {
    let mut facts = MockFigureFacts::new();
    facts.expect_record_activity().never();
    facts.expect_record_freeze().never();
    let s = social(MockUserDetailsRepository::new(), facts);
    let later = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    for outcome in [
        s.record_activity(&user("a"), later).await,
        s.grant_freeze(&user("a"), later).await,
    ] {
        assert!(matches!(
            outcome,
            Err(FactsError::Invalid {
                field: "day",
                error: FactError::TooLate
            })
        ));
    }
}

#[tokio::test]
async fn facts_reach_storage_as_given() {
    let mut facts = MockFigureFacts::new();
    let nlp = RatingDomain::parse("nlp").unwrap();
    let title = TitleName::parse("Expert").unwrap();
    facts
        .expect_rate()
        .withf(|u, d, r| u.as_str() == "a" && d.as_str() == "nlp" && r.value() == 1500.0)
        .times(1)
        .returning(|_, _, _| Ok(()));
    facts
        .expect_remove_rating()
        .times(1)
        .returning(|_, _| Ok(()));
    facts
        .expect_record_activity()
        .with(eq(user("a")), eq(day(30)))
        .times(1)
        .returning(|_, _| Ok(()));
    facts
        .expect_remove_activity()
        .with(eq(user("a")), eq(day(3)))
        .times(1)
        .returning(|_, _| Ok(()));
    facts
        .expect_record_freeze()
        .with(eq(user("a")), eq(day(2)))
        .times(1)
        .returning(|_, _| Ok(()));
    facts
        .expect_remove_freeze()
        .times(1)
        .returning(|_, _| Ok(()));
    // Without a time, a title is unlocked now.
    facts
        .expect_unlock_title()
        .withf(|_, t, at| t.as_str() == "Expert" && *at == now())
        .times(1)
        .returning(|_, _, _| Ok(()));
    facts
        .expect_remove_title()
        .times(1)
        .returning(|_, _| Err(unavailable()));
    let s = social(MockUserDetailsRepository::new(), facts);
    let a = user("a");
    s.rate(&a, &nlp, Rating::new(1500.0).unwrap())
        .await
        .unwrap();
    s.remove_rating(&a, &nlp).await.unwrap();
    s.record_activity(&a, day(30)).await.unwrap();
    s.remove_activity(&a, day(3)).await.unwrap();
    s.grant_freeze(&a, day(2)).await.unwrap();
    s.remove_freeze(&a, day(2)).await.unwrap();
    s.unlock_title(&a, &title, None).await.unwrap();
    assert!(matches!(
        s.remove_title(&a, &title).await,
        Err(FactsError::Unavailable(_))
    ));
}

#[tokio::test]
async fn an_unlock_time_more_than_a_day_ahead_is_refused() {
    let mut facts = MockFigureFacts::new();
    facts.expect_unlock_title().never();
    let s = social(MockUserDetailsRepository::new(), facts);
    let title = TitleName::parse("Expert").unwrap();
    let outcome = s
        .unlock_title(
            &user("a"),
            &title,
            Some(now() + chrono::Duration::hours(25)),
        )
        .await;
    assert!(matches!(
        outcome,
        Err(FactsError::Invalid {
            field: "unlocked_at",
            error: FactError::TooLate
        })
    ));
}

#[tokio::test]
async fn figures_are_computed_by_the_domain_as_of_today() {
    let mut facts = MockFigureFacts::new();
    facts.expect_inputs().returning(|_| {
        Ok(FigureInputs {
            following: 4,
            activity_days: vec![day(27), day(28)],
            freeze_days: vec![day(29)],
            ..FigureInputs::default()
        })
    });
    let f = social(MockUserDetailsRepository::new(), facts)
        .figures(&user("a"))
        .await
        .unwrap();
    assert_eq!(f.following_count, 4);
    assert_eq!((f.streak, f.streak_freeze_days), (2, 1));
    assert!(!f.is_following);
}
