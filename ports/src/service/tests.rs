//! The use cases against mocked ports, every error path included.

use super::*;
use crate::outbound::{MockClock, MockUserDetailsRepository};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use iam_domain::figures::FigureInputs;
use iam_domain::values::{Bio, JsonDocument, LinkUrl, UserType, ValueError};
use iam_domain::{Field, InvalidFields};
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

fn profile(version: i64) -> StoredProfile {
    StoredProfile {
        detail: UserDetail::new(
            user(),
            Version::new(version),
            UserType::parse("developer").unwrap(),
        ),
        skills: vec![],
        investment_interests: vec![],
        technical_interests: vec![],
        focus_area: vec![],
        facts: FigureInputs::default(),
    }
}

/// A write of the patch `edit` makes, replacing documents.
fn write(edit: impl FnOnce(&mut UserDetailPatch)) -> WriteRequest {
    let mut patch = UserDetailPatch::default();
    edit(&mut patch);
    WriteRequest::replacing(patch)
}

/// A write of the patch `edit` makes, merging documents.
fn merging(edit: impl FnOnce(&mut UserDetailPatch)) -> WriteRequest {
    WriteRequest {
        json_mode: JsonMode::MergePatch,
        ..write(edit)
    }
}

/// Sends a document (`null`, as the stored details in these tests hold), which makes a patch
/// need the stored details ([`UserDetail::overwrite`] is `None`).
fn read_first(p: &mut UserDetailPatch) {
    p.address = Patch::Null;
}

fn bio(text: &str) -> Patch<Bio> {
    Patch::Value(Bio::parse(text).unwrap())
}

fn user_type(text: &str) -> Option<UserType> {
    Some(UserType::parse(text).unwrap())
}

fn doc(value: serde_json::Value) -> JsonDocument {
    JsonDocument::new(value).unwrap()
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
        .with(eq(user()))
        .returning(|_| Ok(profile(3)));
    let got = service(repo).get(&user()).await.unwrap();
    assert_eq!(got.detail.version, Version::new(3));
}

#[tokio::test]
async fn the_figures_are_computed_from_the_facts_as_of_the_clocks_today() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find().returning(|_| {
        let mut stored = profile(3);
        let yesterday = today().pred_opt().unwrap();
        stored.facts.activity_days = vec![yesterday.pred_opt().unwrap(), yesterday];
        stored.facts.followers = 2;
        Ok(stored)
    });
    let got = service(repo).get(&user()).await.unwrap();
    // Two days up to yesterday: today is still open, so the streak stands.
    assert_eq!((got.figures.streak, got.figures.followers_count), (2, 2));
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
        repo.expect_find().returning(move |_| Err(make()));
        let err = service(repo).get(&user()).await.unwrap_err();
        assert!(check(&err), "{err:?}");
    }
}

#[tokio::test]
async fn create_without_a_user_type_touches_no_storage() {
    let repo = MockUserDetailsRepository::new(); // no expectation: any call fails the test
    let err = service(repo)
        .create(&user(), write(|p| p.bio = bio("x")))
        .await
        .unwrap_err();
    let CreateError::Invalid(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        errors,
        InvalidFields::one(Field::UserType, ValueError::Required)
    );
}

#[tokio::test]
async fn create_stores_the_details_with_a_clock_version() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_insert()
        .withf(|d| {
            d.user_type.as_str() == "investor"
                && d.bio.as_ref().map(|b| b.as_str()) == Some("hi")
                && d.version == Version::initial(now().timestamp_micros())
        })
        .returning(|d| {
            let mut p = profile(1);
            p.detail = d.clone();
            Ok(p)
        });
    let created = service(repo)
        .create(
            &user(),
            write(|p| {
                p.user_type = user_type("investor");
                p.bio = bio("hi");
            }),
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
        repo.expect_insert().returning(move |_| Err(make()));
        let err = service(repo)
            .create(&user(), write(|p| p.user_type = user_type("dev")))
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
        .withf(|d, changed, expected| {
            changed == [Field::Bio]
                && d.bio.as_ref().unwrap().as_str() == "new"
                && expected.is_none()
        })
        .times(1)
        .returning(|d, _, _| {
            let mut p = profile(6);
            p.detail = d.clone();
            Ok(p)
        });
    let request = write(|p| {
        p.bio = bio("new");
        p.user_type = user_type("developer");
        p.country = Some(iam_domain::values::Country::default());
        read_first(p);
    });
    let updated = service(repo)
        .partial_update(&user(), request, None)
        .await
        .unwrap();
    assert_eq!(updated.detail.bio.unwrap().as_str(), "new");
}

/// A patch of fields it replaces is not read first: storage gets every field sent, compares
/// and writes them, with the client's guard, and its answer is the use case's.
#[tokio::test]
async fn a_patch_that_only_replaces_fields_goes_to_storage_without_a_read() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail().times(0);
    repo.expect_find().times(0);
    repo.expect_update()
        .withf(|d, fields, expected| {
            fields == [Field::Bio, Field::Country, Field::UserType]
                && d.bio.as_ref().unwrap().as_str() == "new"
                && d.user_type.as_str() == "developer"
                && *expected == Some(Version::new(5))
        })
        .times(1)
        .returning(|d, _, _| {
            let mut p = profile(6);
            p.detail.bio = d.bio.clone();
            Ok(p)
        });
    let request = write(|p| {
        p.bio = bio("new");
        p.user_type = user_type("developer");
        p.country = Some(iam_domain::values::Country::default());
    });
    let updated = service(repo)
        .partial_update(&user(), request, Some(Version::new(5)))
        .await
        .unwrap();
    assert_eq!(updated.detail.bio.unwrap().as_str(), "new");
    assert_eq!(updated.detail.version, Version::new(6));
}

/// Without a read, what storage finds is the answer: a stale `If-Match` is a mismatch, and
/// a row that would keep unreadable fields is refused naming them, as after a read.
#[tokio::test]
async fn a_patch_without_a_read_gets_storage_s_refusals() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail().times(0);
    let mut answers = vec![
        Err(RepoUpdateError::VersionMismatch),
        Err(RepoUpdateError::Unreadable(Box::new(UnreadableRow(
            iam_domain::stored::Restored {
                detail: profile(5).detail,
                unreadable: vec![iam_domain::stored::RestoreError {
                    field: Field::GithubUrl,
                    cause: iam_domain::stored::Unreadable::Invalid(ValueError::Url),
                }],
            },
        )))),
    ]
    .into_iter();
    repo.expect_update()
        .times(2)
        .returning(move |_, _, _| answers.next().unwrap());
    let service = service(repo);
    let stale = service
        .partial_update(&user(), write(|p| p.bio = bio("x")), Some(Version::new(4)))
        .await;
    assert!(
        matches!(stale, Err(UpdateError::VersionMismatch)),
        "{stale:?}"
    );
    names_the_unreadable_field(
        service
            .partial_update(&user(), write(|p| p.bio = bio("x")), None)
            .await,
    );
}

#[tokio::test]
async fn a_patch_that_changes_nothing_writes_nothing() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .times(1)
        .returning(|_| Ok(profile(5).detail));
    // Nothing to write: the whole profile is read to answer.
    repo.expect_find().times(1).returning(|_| Ok(profile(5)));
    let got = service(repo)
        .partial_update(
            &user(),
            write(|p| {
                p.user_type = user_type("developer");
                read_first(p);
            }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(got.detail.version, Version::new(5));
}

/// Checks that a write was refused as one that would keep user 42's unreadable `github_url`.
fn names_the_unreadable_field(refused: Result<UserProfile, UpdateError>) {
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
}

/// A row whose `github_url` cannot be read.
fn unreadable_row() -> RepoFindError {
    RepoFindError::Unreadable(Box::new(UnreadableRow(iam_domain::stored::Restored {
        detail: profile(5).detail,
        unreadable: vec![iam_domain::stored::RestoreError {
            field: Field::GithubUrl,
            cause: iam_domain::stored::Unreadable::Invalid(ValueError::Url),
        }],
    })))
}

#[tokio::test]
async fn a_put_replaces_unreadable_fields_even_those_it_does_not_send() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Err(unreadable_row()));
    repo.expect_update()
        .withf(|d, changed, _| changed == [Field::GithubUrl] && d.github_url.is_none())
        .times(1)
        .returning(|d, _, _| {
            let mut p = profile(6);
            p.detail = d.clone();
            Ok(p)
        });
    // The PUT changes nothing readable: the unreadable field is still written (unset).
    let put = write(|p| p.user_type = user_type("developer"));
    service(repo).update(&user(), put, None).await.unwrap();
}

#[tokio::test]
async fn a_patch_replaces_unreadable_fields_only_when_it_sends_them() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Err(unreadable_row()));
    repo.expect_update()
        .withf(|d, changed, _| {
            changed == [Field::GithubUrl]
                && d.github_url.as_ref().unwrap().as_str() == "https://github.com/x"
        })
        .times(1)
        .returning(|d, _, _| {
            let mut p = profile(6);
            p.detail = d.clone();
            Ok(p)
        });
    let service = service(repo);
    let elsewhere = write(|p| {
        p.bio = bio("new");
        read_first(p);
    });
    names_the_unreadable_field(service.partial_update(&user(), elsewhere, None).await);
    let sends = write(|p| {
        p.github_url = Patch::Value(LinkUrl::parse("https://github.com/x").unwrap());
        read_first(p);
    });
    service.partial_update(&user(), sends, None).await.unwrap();
}

#[tokio::test]
async fn check_write_reports_what_a_write_would_meet_first() {
    let mut repo = MockUserDetailsRepository::new();
    let mut answers = vec![
        Err(RepoFindError::NotFound),
        Ok(profile(5).detail),
        Ok(profile(5).detail),
        Err(unreadable_row()),
        Err(RepoFindError::Unavailable(unavailable())),
    ]
    .into_iter();
    repo.expect_find_detail()
        .times(5)
        .returning(move |_| answers.next().unwrap());
    let service = service(repo);
    let me = user();
    assert!(matches!(
        service.check_write(&me, None).await,
        Err(UpdateError::NotFound)
    ));
    assert!(matches!(
        service.check_write(&me, Some(Version::new(4))).await,
        Err(UpdateError::VersionMismatch)
    ));
    assert!(service
        .check_write(&me, Some(Version::new(5)))
        .await
        .is_ok());
    assert!(
        service
            .check_write(&me, Some(Version::new(5)))
            .await
            .is_ok(),
        "a write may replace unreadable fields"
    );
    assert!(matches!(
        service.check_write(&me, None).await,
        Err(UpdateError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_stale_if_match_is_refused_before_writing() {
    let mut repo = MockUserDetailsRepository::new();
    repo.expect_find_detail()
        .returning(|_| Ok(profile(5).detail));
    let request = write(|p| {
        p.bio = bio("x");
        read_first(p);
    });
    let err = service(repo)
        .partial_update(&user(), request, Some(Version::new(4)))
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
        .with(always(), always(), eq(Some(Version::new(5))))
        .times(1)
        .returning(|_, _, _| Err(RepoUpdateError::VersionMismatch));
    let request = write(|p| {
        p.bio = bio("x");
        read_first(p);
    });
    let err = service(repo)
        .partial_update(&user(), request, Some(Version::new(5)))
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
        .with(always(), always(), eq(Some(Version::new(5))))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Err(RepoUpdateError::VersionMismatch));
    repo.expect_update()
        .with(always(), always(), eq(Some(Version::new(6))))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|d, _, _| {
            let mut p = profile(7);
            p.detail = d.clone();
            Ok(p)
        });
    let request = merging(|p| p.address = Patch::Value(doc(json!({"city": "Lahore"}))));
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
        .returning(|_, _, _| Err(RepoUpdateError::VersionMismatch));
    let request = merging(|p| p.company_info = Patch::Value(doc(json!({"a": 1}))));
    let err = service(repo)
        .partial_update(&user(), request, None)
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn update_maps_every_repository_error() {
    let cases: [Case<RepoUpdateError, UpdateError>; 4] = [
        (
            || RepoUpdateError::NotFound,
            |e| matches!(e, UpdateError::NotFound),
        ),
        (
            || match unreadable_row() {
                RepoFindError::Unreadable(row) => RepoUpdateError::Unreadable(row),
                _ => unreachable!(),
            },
            |e| matches!(e, UpdateError::Unexpected(c) if c.to_string().contains("github_url")),
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
        repo.expect_update().returning(move |_, _, _| Err(make()));
        let request = write(|p| {
            p.bio = bio("b");
            read_first(p);
        });
        let err = service(repo)
            .partial_update(&user(), request, None)
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
        let request = write(|p| {
            p.bio = bio("b");
            read_first(p);
        });
        let err = service(repo)
            .partial_update(&user(), request, None)
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
        d.additional_data = Some(doc(json!({"a": "x".repeat(9000)})));
        Ok(d)
    });
    let request =
        merging(|p| p.additional_data = Patch::Value(doc(json!({"b": "y".repeat(9000)}))));
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
