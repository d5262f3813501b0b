//! The use cases against mocked ports, every error path included.

use super::*;
use crate::outbound::{MockClock, MockUserDetailsRepository};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use iam_domain::values::UserType;
use iam_domain::{Field, FieldError, Figures};
use mockall::predicate::{always, eq};
use serde_json::json;

/// A repository error to return, and the check of the use case's error it must become.
type Case<R, E> = (fn() -> R, fn(&E) -> bool);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
}

fn today() -> NaiveDate {
    now().date_naive()
}

fn clock() -> Arc<MockClock> {
    let mut clock = MockClock::new();
    clock.expect_now().returning(now);
    clock.expect_today().returning(today);
    Arc::new(clock)
}

fn user() -> UserId {
    UserId::parse("42").unwrap()
}

fn profile(version: i64) -> UserProfile {
    UserProfile {
        detail: UserDetail::new(
            user(),
            Version::new(version),
            UserType::parse("developer").unwrap(),
        ),
        skills: vec![],
        investment_interests: vec![],
        technical_interests: vec![],
        focus_area: vec![],
        figures: Figures::default(),
    }
}

fn service(repo: MockUserDetailsRepository) -> Service {
    Service::new(Arc::new(repo), clock())
}

fn unavailable() -> Cause {
    "connection refused".into()
}

#[tokio::test]
async fn get_returns_the_stored_profile() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find()
        .with(eq(user()), eq(today()))
        .returning(|_, _| Ok(profile(3)));
    let got = service(repo).get(&user()).await.unwrap();
    assert_eq!(got.detail.version, Version::new(3));
}

#[tokio::test]
async fn get_maps_every_repository_error() {
    let cases: [Case<RepoFindError, GetError>; 3] = [
        (
            || RepoFindError::NotFound,
            |e| matches!(e, GetError::NotFound),
        ),
        (
            || RepoFindError::Unavailable(unavailable()),
            |e| matches!(e, GetError::Unavailable(_)),
        ),
        (
            || RepoFindError::Unexpected("boom".into()),
            |e| matches!(e, GetError::Unexpected(_)),
        ),
    ];
    for (make, check) in cases {
        let mut repo = MockUserDetailsRepository::new();
        repo.expect_find().returning(move |_, _| Err(make()));
        let err = service(repo).get(&user()).await.unwrap_err();
        assert!(check(&err), "{err:?}");
    }
}

#[tokio::test]
async fn create_validates_before_touching_storage() {
    let repo = MockUserDetailsRepository::new(); // no expectation: any call fails the test
    let err = service(repo)
        .create(
            &user(),
            WriteRequest::json(json!({"bio": "x", "dob": "2999-01-01"})),
        )
        .await
        .unwrap_err();
    let CreateError::Invalid(errors) = err else {
        panic!("{err:?}")
    };
    assert!(errors.get("user_type").is_some());
    assert!(errors.get("dob").is_some());
}

#[tokio::test]
async fn create_stores_the_details_with_a_clock_version() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_insert()
        .withf(|d, day| {
            d.user_type.as_str() == "investor"
                && d.bio.as_ref().map(|b| b.as_str()) == Some("hi")
                && d.version == Version::initial(now().timestamp_micros())
                && *day == today()
        })
        .returning(|d, _| {
            let mut p = profile(1);
            p.detail = d.clone();
            Ok(p)
        });
    let created = service(repo)
        .create(
            &user(),
            WriteRequest::json(json!({"user_type": "investor", "bio": "hi"})),
        )
        .await
        .unwrap();
    assert_eq!(created.detail.user_type.as_str(), "investor");
}

#[tokio::test]
async fn create_maps_every_repository_error() {
    let cases: [Case<RepoInsertError, CreateError>; 3] = [
        (
            || RepoInsertError::AlreadyExists,
            |e| matches!(e, CreateError::AlreadyExists),
        ),
        (
            || RepoInsertError::Unavailable(unavailable()),
            |e| matches!(e, CreateError::Unavailable(_)),
        ),
        (
            || RepoInsertError::Unexpected("x".into()),
            |e| matches!(e, CreateError::Unexpected(_)),
        ),
    ];
    for (make, check) in cases {
        let mut repo = MockUserDetailsRepository::new();
        repo.expect_insert().returning(move |_, _| Err(make()));
        let err = service(repo)
            .create(&user(), WriteRequest::json(json!({"user_type": "dev"})))
            .await
            .unwrap_err();
        assert!(check(&err), "{err:?}");
    }
}

#[tokio::test]
async fn a_patch_writes_only_the_fields_that_changed() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Ok(profile(5).detail));
    repo.expect_update()
        .withf(|d, changed, expected, _| {
            changed == [Field::Bio]
                && d.bio.as_ref().unwrap().as_str() == "new"
                && expected.is_none()
        })
        .times(1)
        .returning(|d, _, _, _| {
            let mut p = profile(6);
            p.detail = d.clone();
            Ok(p)
        });
    let body = json!({"bio": "new", "user_type": "developer", "country": ""});
    let updated = service(repo)
        .partial_update(&user(), WriteRequest::json(body), None)
        .await
        .unwrap();
    assert_eq!(updated.detail.bio.unwrap().as_str(), "new");
}

#[tokio::test]
async fn a_patch_that_changes_nothing_writes_nothing() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .times(1)
        .returning(|_| Ok(profile(5).detail));
    // Nothing to write: the whole profile is read to answer.
    repo.expect_find().times(1).returning(|_, _| Ok(profile(5)));
    let got = service(repo)
        .partial_update(
            &user(),
            WriteRequest::json(json!({"user_type": "developer"})),
            None,
        )
        .await
        .unwrap();
    assert_eq!(got.detail.version, Version::new(5));
}

/// A row whose `github_url` cannot be read.
fn unreadable_row() -> RepoFindError {
    RepoFindError::Unreadable(Box::new(UnreadableRow(iam_domain::stored::Restored {
        detail: profile(5).detail,
        unreadable: vec![iam_domain::stored::RestoreError {
            field: Field::GithubUrl,
            error: iam_domain::values::ValueError("not a url".into()),
        }],
    })))
}

#[tokio::test]
async fn a_put_replaces_unreadable_fields_even_those_it_does_not_send() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Err(unreadable_row()));
    repo.expect_update()
        .withf(|d, changed, _, _| changed == [Field::GithubUrl] && d.github_url.is_none())
        .times(1)
        .returning(|d, _, _, _| {
            let mut p = profile(6);
            p.detail = d.clone();
            Ok(p)
        });
    // The PUT changes nothing readable: the unreadable field is still written (unset).
    let put = WriteRequest::json(json!({"user_type": "developer"}));
    service(repo).update(&user(), put, None).await.unwrap();
}

#[tokio::test]
async fn a_patch_replaces_unreadable_fields_only_when_it_sends_them() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Err(unreadable_row()));
    repo.expect_update()
        .withf(|d, changed, _, _| {
            changed == [Field::GithubUrl]
                && d.github_url.as_ref().unwrap().as_str() == "https://github.com/x"
        })
        .times(1)
        .returning(|d, _, _, _| {
            let mut p = profile(6);
            p.detail = d.clone();
            Ok(p)
        });
    let service = service(repo);
    let elsewhere = WriteRequest::json(json!({"bio": "new"}));
    let refused = service.partial_update(&user(), elsewhere, None).await;
    match refused {
        Err(UpdateError::Unexpected(cause)) => {
            let text = cause.to_string();
            assert!(
                text.contains("user 42") && text.contains("github_url"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    let sends = WriteRequest::json(json!({"github_url": "https://github.com/x"}));
    service.partial_update(&user(), sends, None).await.unwrap();
}

#[tokio::test]
async fn not_found_comes_before_validation() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Err(RepoFindError::NotFound));
    let err = service(repo)
        .update(&user(), WriteRequest::json(json!({"bio": 3})), None)
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::NotFound), "{err:?}");
}

#[tokio::test]
async fn put_requires_user_type() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Ok(profile(5).detail));
    let err = service(repo)
        .update(&user(), WriteRequest::json(json!({"bio": "x"})), None)
        .await
        .unwrap_err();
    let UpdateError::Invalid(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        errors.get("user_type"),
        Some(&FieldError::Messages(
            vec!["This field is required.".into()]
        ))
    );
}

#[tokio::test]
async fn a_stale_if_match_is_refused_before_writing() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Ok(profile(5).detail));
    let err = service(repo)
        .partial_update(
            &user(),
            WriteRequest::json(json!({"bio": "x"})),
            Some(Version::new(4)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::VersionMismatch));
}

#[tokio::test]
async fn if_match_guards_the_write_and_a_lost_race_is_not_retried() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .times(1)
        .returning(|_| Ok(profile(5).detail));
    repo.expect_update()
        .with(always(), always(), eq(Some(Version::new(5))), always())
        .times(1)
        .returning(|_, _, _, _| Err(RepoUpdateError::VersionMismatch));
    let err = service(repo)
        .partial_update(
            &user(),
            WriteRequest::json(json!({"bio": "x"})),
            Some(Version::new(5)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::VersionMismatch));
}

#[tokio::test]
async fn a_merge_patch_is_guarded_by_the_version_read_and_retried_on_conflict() {
    let mut repo = MockUserDetailsRepository::new();
    let mut reads = 0;
    repo.expect_find_detail().times(2).returning(move |_| {
        reads += 1;
        Ok(profile(4 + reads).detail)
    });
    let mut seq = mockall::Sequence::new();
    repo.expect_update()
        .with(always(), always(), eq(Some(Version::new(5))), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _, _| Err(RepoUpdateError::VersionMismatch));
    repo.expect_update()
        .with(always(), always(), eq(Some(Version::new(6))), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|d, _, _, _| {
            let mut p = profile(7);
            p.detail = d.clone();
            Ok(p)
        });
    let request = WriteRequest {
        body: json!({"address": {"city": "Lahore"}}),
        strict: false,
        json_mode: JsonMode::MergePatch,
    };
    let updated = service(repo)
        .partial_update(&user(), request, None)
        .await
        .unwrap();
    assert_eq!(
        updated.detail.address.unwrap().value(),
        &json!({"city": "Lahore"})
    );
}

#[tokio::test]
async fn endless_conflicts_give_up_as_unavailable() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Ok(profile(5).detail));
    repo.expect_update()
        .times(MAX_ATTEMPTS as usize)
        .returning(|_, _, _, _| Err(RepoUpdateError::VersionMismatch));
    let request = WriteRequest {
        body: json!({"company_info": {"a": 1}}),
        strict: false,
        json_mode: JsonMode::MergePatch,
    };
    let err = service(repo)
        .partial_update(&user(), request, None)
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn update_maps_every_repository_error() {
    let cases: [Case<RepoUpdateError, UpdateError>; 3] = [
        (
            || RepoUpdateError::NotFound,
            |e| matches!(e, UpdateError::NotFound),
        ),
        (
            || RepoUpdateError::Unavailable(unavailable()),
            |e| matches!(e, UpdateError::Unavailable(_)),
        ),
        (
            || RepoUpdateError::Unexpected("x".into()),
            |e| matches!(e, UpdateError::Unexpected(_)),
        ),
    ];
    for (make, check) in cases {
        let mut repo = MockUserDetailsRepository::new();
        repo.expect_find_detail()
            .returning(|_| Ok(profile(5).detail));
        repo.expect_update()
            .returning(move |_, _, _, _| Err(make()));
        let err = service(repo)
            .partial_update(&user(), WriteRequest::json(json!({"bio": "b"})), None)
            .await
            .unwrap_err();
        assert!(check(&err), "{err:?}");
    }
    for (make, check) in [
        (
            RepoFindError::Unavailable as fn(Cause) -> RepoFindError,
            (|e: &UpdateError| matches!(e, UpdateError::Unavailable(_)))
                as fn(&UpdateError) -> bool,
        ),
        (RepoFindError::Unexpected, |e: &UpdateError| {
            matches!(e, UpdateError::Unexpected(_))
        }),
    ] {
        let mut repo = MockUserDetailsRepository::new();
        repo.expect_find_detail()
            .returning(move |_| Err(make("down".into())));
        let err = service(repo)
            .partial_update(&user(), WriteRequest::json(json!({"bio": "b"})), None)
            .await
            .unwrap_err();
        assert!(check(&err), "{err:?}");
    }
}

#[tokio::test]
async fn a_merged_document_over_the_limit_is_invalid() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail().returning(|_| {
        let mut d = profile(5).detail;
        d.additional_data =
            Some(iam_domain::values::JsonDocument::new(json!({"a": "x".repeat(9000)})).unwrap());
        Ok(d)
    });
    let request = WriteRequest {
        body: json!({"additional_data": {"b": "y".repeat(9000)}}),
        strict: false,
        json_mode: JsonMode::MergePatch,
    };
    let err = service(repo)
        .partial_update(&user(), request, None)
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn delete_passes_the_expected_version_and_maps_errors() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_delete()
        .with(eq(user()), eq(Some(Version::new(9))))
        .returning(|_, _| Ok(()));
    service(repo)
        .delete(&user(), Some(Version::new(9)))
        .await
        .unwrap();

    let cases: [Case<RepoDeleteError, DeleteError>; 4] = [
        (
            || RepoDeleteError::NotFound,
            |e| matches!(e, DeleteError::NotFound),
        ),
        (
            || RepoDeleteError::VersionMismatch,
            |e| matches!(e, DeleteError::VersionMismatch),
        ),
        (
            || RepoDeleteError::Unavailable(unavailable()),
            |e| matches!(e, DeleteError::Unavailable(_)),
        ),
        (
            || RepoDeleteError::Unexpected("x".into()),
            |e| matches!(e, DeleteError::Unexpected(_)),
        ),
    ];
    for (make, check) in cases {
        let mut repo = MockUserDetailsRepository::new();
        repo.expect_delete().returning(move |_, _| Err(make()));
        let err = service(repo).delete(&user(), None).await.unwrap_err();
        assert!(check(&err), "{err:?}");
    }
}

#[tokio::test]
async fn ready_asks_storage() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_ping().returning(|| Err(unavailable()));
    assert!(service(repo).ready().await.is_err());
}
