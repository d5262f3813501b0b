//! The repository contract: every behaviour of the storage ports, written once against the ports
//! and run on every store with [`contract_suite!`](crate::contract_suite).

use std::sync::Arc;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use iam_domain::social::{Rating, RatingDomain, TitleName};
use iam_domain::{Field, JsonMode, UserDetail, UserId, UserProfile, Version};
use iam_http::drf::{parse_patch, ParseOptions, WriteMode};
use iam_ports::{
    FigureFactsError, RepoDeleteError, RepoFindError, RepoInsertError, RepoUpdateError, Service,
    SystemClock, UserDetailsService, WriteRequest,
};
use serde_json::{json, Value};

use crate::stores::TestStore;

/// Generates one `#[tokio::test]` per contract test, each on a fresh store from `$setup`.
#[macro_export]
macro_rules! contract_suite {
    ($setup:path) => {
        $crate::contract_suite!(@tests $setup;
            create_then_find_returns_what_was_stored,
            a_second_create_is_already_exists,
            find_of_an_unknown_user_is_not_found,
            find_detail_reads_the_details_alone,
            every_field_kind_round_trips,
            update_writes_only_the_changed_fields,
            lists_keep_order_and_share_catalogue_ids,
            catalogue_matches_ignore_case_and_keep_the_first_spelling,
            lists_shrink_grow_and_clear,
            every_write_changes_the_version,
            fields_sent_unread_move_the_version_only_when_they_change,
            a_write_that_keeps_an_unreadable_field_writes_nothing,
            a_stale_expected_version_is_refused,
            expected_version_on_a_missing_user_is_not_found,
            delete_removes_the_details_and_their_lists,
            delete_checks_the_expected_version,
            figures_are_computed_from_stored_facts,
            ranks_stay_exact_as_ratings_move,
            stored_facts_follow_the_domain_rules_on_random_facts,
            figure_facts_exist_without_details,
            follows_are_idempotent_and_relations_read_both_ways,
            many_relations_read_at_once_each_get_their_own,
            removed_facts_leave_the_figures,
            users_are_isolated,
            long_unicode_values_round_trip,
            concurrent_new_catalogue_names_get_one_id,
            concurrent_patches_of_different_fields_all_survive,
            concurrent_merge_patches_of_one_document_all_survive,
            many_users_read_and_written_at_once_each_get_their_own,
            concurrent_guarded_updates_of_one_version_let_one_win,
            ping_answers
        );
    };
    (@tests $setup:path; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = $setup().await;
                $crate::contract::$name(&store).await;
                store.cleanup().await;
            }
        )*
    };
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn rating_domain(name: &str) -> RatingDomain {
    RatingDomain::parse(name).unwrap()
}

fn rated(value: f64) -> Rating {
    Rating::new(value).unwrap()
}

fn title_name(name: &str) -> TitleName {
    TitleName::parse(name).unwrap()
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn options(mode: WriteMode) -> ParseOptions {
    ParseOptions {
        today: today(),
        strict: false,
        mode,
    }
}

/// The patch of a PATCH body.
fn partial(body: &Value) -> iam_domain::UserDetailPatch {
    parse_patch(body, options(WriteMode::Partial)).unwrap()
}

/// A PATCH of `body`.
fn write(body: &Value, json_mode: JsonMode) -> WriteRequest {
    WriteRequest {
        patch: partial(body),
        json_mode,
    }
}

/// New details for `id` from a request body.
fn new_detail(id: &str, body: Value) -> UserDetail {
    let patch = parse_patch(&body, options(WriteMode::Create)).unwrap();
    UserDetail::create(user(id), Version::new(100), &patch, JsonMode::Replace).unwrap()
}

/// Applies a PATCH body to `current`.
fn patched(current: &UserDetail, body: Value) -> (UserDetail, Vec<Field>) {
    let patch = parse_patch(&body, options(WriteMode::Partial)).unwrap();
    let applied = current.apply(&patch, JsonMode::Replace).unwrap();
    (applied.detail, applied.changed)
}

fn names(entries: &[iam_domain::CatalogueEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

/// Creates `id`'s details from a write body, through the port.
pub async fn create(store: &TestStore, id: &str, body: Value) -> UserProfile {
    store
        .repository
        .insert(&new_detail(id, body))
        .await
        .unwrap()
        .as_of(today())
}

async fn find(store: &TestStore, id: &str) -> UserProfile {
    store
        .repository
        .find(&user(id))
        .await
        .unwrap()
        .as_of(today())
}

async fn patch(store: &TestStore, id: &str, body: Value) -> UserProfile {
    let current = find(store, id).await;
    let (detail, changed) = patched(&current.detail, body);
    store
        .repository
        .update(&detail, &changed, None)
        .await
        .unwrap()
        .as_of(today())
}

/// What a create returns is what a find returns.
pub async fn create_then_find_returns_what_was_stored(store: &TestStore) {
    let created = create(
        store,
        "1",
        json!({"user_type": "developer", "bio": "hello", "skills": ["Rust"]}),
    )
    .await;
    assert_eq!(created.detail.version, Version::new(100));
    assert_eq!(created.detail.bio.as_ref().unwrap().as_str(), "hello");
    assert_eq!(names(&created.skills), ["Rust"]);
    assert_eq!(find(store, "1").await, created);
}

/// A user has one row.
pub async fn a_second_create_is_already_exists(store: &TestStore) {
    create(store, "1", json!({"user_type": "developer"})).await;
    let err = store
        .repository
        .insert(&new_detail("1", json!({"user_type": "investor"})))
        .await
        .unwrap_err();
    assert!(matches!(err, RepoInsertError::AlreadyExists), "{err:?}");
    assert_eq!(
        find(store, "1").await.detail.user_type.as_str(),
        "developer"
    );
}

/// No row, no profile.
pub async fn find_of_an_unknown_user_is_not_found(store: &TestStore) {
    let err = store.repository.find(&user("nobody")).await.unwrap_err();
    assert!(matches!(err, RepoFindError::NotFound), "{err:?}");
}

/// `find_detail` gives the same details as `find`, without the rest; not found without a row.
pub async fn find_detail_reads_the_details_alone(store: &TestStore) {
    let created = create(
        store,
        "u",
        json!({"user_type": "d", "bio": "b", "skills": ["Rust", "Go"], "focus_area": ["AI"], "address": {"a": 1}}),
    )
    .await;
    let detail = store.repository.find_detail(&user("u")).await.unwrap();
    assert_eq!(detail, created.detail);
    let err = store
        .repository
        .find_detail(&user("nobody"))
        .await
        .unwrap_err();
    assert!(matches!(err, RepoFindError::NotFound), "{err:?}");
}

/// Text, URL, date, boolean (null too), JSON and list fields are stored and read back.
pub async fn every_field_kind_round_trips(store: &TestStore) {
    create(store, "u", json!({"user_type": "developer"})).await;
    let body = json!({
        "profile_picture": "https://cdn.example.com/p.png", "bio": "b", "country": "Pakistan",
        "phone": "+92 300 1234567", "dob": "1990-02-28", "linkedin_url": "https://linkedin.com/in/u",
        "github_url": "https://github.com/u", "twitter_url": "https://x.com/u",
        "facebook_url": "https://facebook.com/u", "website_url": "http://u.example",
        "portfolio_url": "https://u.example/work", "resume": "https://cdn.example.com/cv.pdf",
        "skills": ["Rust"], "investment_interests": ["Fintech"], "technical_interests": ["ML"],
        "focus_area": ["AI"], "communication_preferences_phone": true,
        "communication_preferences_email": null, "platform_features_emails": false,
        "activity_based_emails": true, "address": {"city": "Lahore", "lines": ["a", 1, null]},
        "company_info": [1, 2.5, "x"], "additional_data": "just a string",
    });
    let updated = patch(store, "u", body.clone()).await;
    let expected = patched(&new_detail("u", json!({"user_type": "developer"})), body).0;
    let mut got = updated.detail.clone();
    got.version = expected.version;
    assert_eq!(got, expected);
    assert_eq!(find(store, "u").await, updated);
}

/// Fields not in `changed` are not written, even when the details passed differ there.
pub async fn update_writes_only_the_changed_fields(store: &TestStore) {
    let current = create(
        store,
        "u",
        json!({"user_type": "developer", "country": "PK"}),
    )
    .await;
    let (mut detail, changed) = patched(&current.detail, json!({"bio": "new"}));
    detail.country = iam_domain::values::Country::parse("written by someone else").unwrap();
    let updated = store
        .repository
        .update(&detail, &changed, None)
        .await
        .unwrap();
    assert_eq!(updated.detail.bio.unwrap().as_str(), "new");
    assert_eq!(updated.detail.country.as_str(), "PK");
}

/// Lists keep the user's order; skills and technical interests share the developer-skills
/// catalogue, so one name has one id in both.
pub async fn lists_keep_order_and_share_catalogue_ids(store: &TestStore) {
    let p = create(
        store,
        "u",
        json!({"user_type": "d", "skills": ["Zig", "Ada", "Rust"], "technical_interests": ["rust", "Wasm"],
               "investment_interests": ["Seed", "Series A"], "focus_area": ["AI", "Climate"]}),
    )
    .await;
    assert_eq!(names(&p.skills), ["Zig", "Ada", "Rust"]);
    assert_eq!(names(&p.technical_interests), ["Rust", "Wasm"]);
    assert_eq!(p.skills[2].id, p.technical_interests[0].id);
    assert_eq!(names(&p.investment_interests), ["Seed", "Series A"]);
    assert_eq!(names(&p.focus_area), ["AI", "Climate"]);
    assert!(p.skills.iter().all(|e| e.description.is_none()));
    let ids: Vec<i64> = p.skills.iter().map(|e| e.id).collect();
    let again = find(store, "u").await;
    assert_eq!(again.skills.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
}

/// A catalogue match ignores case and keeps the catalogue's first spelling.
pub async fn catalogue_matches_ignore_case_and_keep_the_first_spelling(store: &TestStore) {
    let a = create(
        store,
        "a",
        json!({"user_type": "d", "skills": ["PostgreSQL"]}),
    )
    .await;
    let b = create(
        store,
        "b",
        json!({"user_type": "d", "skills": ["postgresql", "ÉCOLE"]}),
    )
    .await;
    assert_eq!(a.skills[0].id, b.skills[0].id);
    assert_eq!(names(&b.skills), ["PostgreSQL", "ÉCOLE"]);
    let c = create(store, "c", json!({"user_type": "d", "skills": ["école"]})).await;
    assert_eq!(c.skills[0].id, b.skills[1].id, "Unicode case folds too");
}

/// Replacing a list can shrink, grow, reorder and clear it.
pub async fn lists_shrink_grow_and_clear(store: &TestStore) {
    create(
        store,
        "u",
        json!({"user_type": "d", "skills": ["a", "b", "c"], "focus_area": ["x"]}),
    )
    .await;
    let p = patch(store, "u", json!({"skills": ["c", "a"]})).await;
    assert_eq!(names(&p.skills), ["c", "a"]);
    let p = patch(store, "u", json!({"skills": ["c", "a", "d", "e"]})).await;
    assert_eq!(names(&p.skills), ["c", "a", "d", "e"]);
    let p = patch(store, "u", json!({"skills": [], "focus_area": null})).await;
    assert!(p.skills.is_empty() && p.focus_area.is_empty());
    assert!(p.detail.skills.is_empty() && p.detail.focus_area.is_empty());
    assert_eq!(find(store, "u").await, p);
}

/// Every write adds one to the version.
pub async fn every_write_changes_the_version(store: &TestStore) {
    create(store, "u", json!({"user_type": "d"})).await;
    let p1 = patch(store, "u", json!({"bio": "1"})).await;
    assert_eq!(p1.detail.version, Version::new(101));
    let p2 = patch(store, "u", json!({"skills": ["x"]})).await;
    assert_eq!(p2.detail.version, Version::new(102));
}

/// The write of a PATCH that sends no document, as [`UserDetail::overwrite`] gives it.
fn overwrite(id: &str, body: Value) -> (UserDetail, Vec<Field>) {
    UserDetail::overwrite(user(id), &partial(&body)).unwrap()
}

/// Fields written unread (a PATCH that sends no document) are compared by the store: the values
/// already stored keep the version; any other value of any kind moves the version once. Lists
/// compare as the domain compares them (by case-insensitive names, in order). A document written
/// always counts as a change (the domain compared, or merged, it before the write).
pub async fn fields_sent_unread_move_the_version_only_when_they_change(store: &TestStore) {
    let stored = json!({"user_type": "developer", "bio": "a", "country": "PK",
                        "dob": "1990-01-02", "platform_features_emails": true,
                        "github_url": "https://github.com/u"});
    let created = create(store, "u", stored.clone()).await;
    let mut same = stored;
    same["phone"] = Value::Null;
    let (detail, fields) = overwrite("u", same);
    let kept = store
        .repository
        .update(&detail, &fields, None)
        .await
        .unwrap();
    assert_eq!(
        kept.detail, created.detail,
        "nothing changed, nothing moved"
    );
    let changes = [
        json!({"bio": "b"}),
        json!({"bio": null}),
        json!({"country": "FR"}),
        json!({"dob": null}),
        json!({"dob": "1991-03-04"}),
        json!({"platform_features_emails": false}),
        json!({"activity_based_emails": true}),
        json!({"phone": "+1 555 0100"}),
        json!({"github_url": "https://github.com/v"}),
        json!({"user_type": "investor"}),
        json!({"skills": ["Rust", "Go"]}),
        json!({"skills": ["Go", "Rust"]}),
        json!({"skills": ["Go"]}),
        json!({"skills": ["Go", "Rust", "C"]}),
        json!({"skills": []}),
        json!({"focus_area": ["AI"], "bio": "b"}),
    ];
    let mut version = 100;
    for body in changes {
        let (detail, fields) = overwrite("u", body.clone());
        let written = store
            .repository
            .update(&detail, &fields, Some(Version::new(version)))
            .await
            .unwrap();
        version += 1;
        assert_eq!(written.detail.version, Version::new(version), "{body}");
        let again = store
            .repository
            .update(&detail, &fields, None)
            .await
            .unwrap();
        assert_eq!(again.detail, written.detail, "{body} again");
        assert_eq!(find(store, "u").await.detail, written.detail, "{body}");
    }
    let (detail, fields) = overwrite("u", json!({"bio": "b", "focus_area": ["ai"]}));
    let same_keys = store
        .repository
        .update(&detail, &fields, None)
        .await
        .unwrap();
    assert_eq!(
        same_keys.detail.version,
        Version::new(version),
        "same names"
    );
    assert_eq!(
        same_keys.focus_area[0].name, "AI",
        "the first spelling stays"
    );
    let current = find(store, "u").await.detail;
    let written = store
        .repository
        .update(&current, &[Field::Address], None)
        .await
        .unwrap();
    assert_eq!(
        written.detail.version,
        Version::new(version + 1),
        "a document"
    );
}

/// A write that does not replace a stored field that cannot be read (written around the
/// service) writes nothing, even batched with other users' writes, which all land; the store
/// names the field. A write that replaces it repairs the row.
pub async fn a_write_that_keeps_an_unreadable_field_writes_nothing(store: &TestStore) {
    let ids: Vec<String> = (0..12).map(|i| format!("n{i:02}")).collect();
    for id in ids.iter().chain([&"u".to_owned()]) {
        create(store, id, json!({"user_type": "d", "bio": "kept"})).await;
    }
    store
        .execute("UPDATE user_details SET github_url = 'not a url' WHERE user_id = 'u'")
        .await;
    let mut writes = Vec::new();
    for id in ids.iter().chain([&"u".to_owned()]) {
        let repository = store.repository.clone();
        let (detail, fields) = overwrite(id, json!({"bio": format!("new {id}")}));
        writes.push(tokio::spawn(async move {
            repository.update(&detail, &fields, None).await
        }));
    }
    let mine = writes.pop().unwrap().await.unwrap();
    match mine {
        Err(RepoUpdateError::Unreadable(row)) => {
            assert_eq!(row.0.unreadable.len(), 1, "{row}");
            assert_eq!(row.0.unreadable[0].field, Field::GithubUrl);
        }
        other => panic!("{other:?}"),
    }
    for (write, id) in writes.into_iter().zip(&ids) {
        let written = write.await.unwrap().unwrap();
        assert_eq!(written.detail.bio.unwrap().as_str(), format!("new {id}"));
    }
    match store.repository.find_detail(&user("u")).await {
        Err(RepoFindError::Unreadable(row)) => {
            assert_eq!(row.0.detail.bio.as_ref().unwrap().as_str(), "kept");
            assert_eq!(row.0.detail.version, Version::new(100));
        }
        other => panic!("{other:?}"),
    }
    let (detail, fields) = overwrite("u", json!({"github_url": null, "bio": "fixed"}));
    let fixed = store
        .repository
        .update(&detail, &fields, None)
        .await
        .unwrap();
    assert_eq!(fixed.detail.bio.unwrap().as_str(), "fixed");
    assert!(fixed.detail.github_url.is_none());
    assert_eq!(fixed.detail.version, Version::new(101));
}

/// With an expected version that is not the stored one, nothing is written: not even a new
/// catalogue name of a refused list.
pub async fn a_stale_expected_version_is_refused(store: &TestStore) {
    let current = create(store, "u", json!({"user_type": "d"})).await;
    for body in [json!({"bio": "x"}), json!({"skills": ["Refused Name"]})] {
        let (detail, changed) = patched(&current.detail, body);
        let err = store
            .repository
            .update(&detail, &changed, Some(Version::new(99)))
            .await
            .unwrap_err();
        assert!(matches!(err, RepoUpdateError::VersionMismatch), "{err:?}");
    }
    assert_eq!(find(store, "u").await, current);
    let (detail, changed) = patched(
        &current.detail,
        json!({"bio": "ok", "skills": ["refused name"]}),
    );
    let ok = store
        .repository
        .update(&detail, &changed, Some(Version::new(100)))
        .await
        .unwrap();
    assert_eq!(ok.detail.bio.unwrap().as_str(), "ok");
    // A catalogue keeps the first spelling it was given: this one, not the refused one.
    assert_eq!(names(&ok.skills), ["refused name"]);
}

/// Updating a user without details is not found, with or without an expected version.
pub async fn expected_version_on_a_missing_user_is_not_found(store: &TestStore) {
    for (body, expected) in [
        (json!({"bio": "x"}), None),
        (json!({"bio": "x"}), Some(Version::new(100))),
        (json!({"skills": ["x"]}), None),
        (
            json!({"skills": ["x"], "bio": "x"}),
            Some(Version::new(100)),
        ),
    ] {
        let (detail, changed) = patched(&new_detail("ghost", json!({"user_type": "d"})), body);
        let err = store
            .repository
            .update(&detail, &changed, expected)
            .await
            .unwrap_err();
        assert!(matches!(err, RepoUpdateError::NotFound), "{err:?}");
    }
}

/// Delete removes the row and its list links; the user can start again.
pub async fn delete_removes_the_details_and_their_lists(store: &TestStore) {
    create(store, "u", json!({"user_type": "d", "skills": ["Rust"]})).await;
    store.repository.delete(&user("u"), None).await.unwrap();
    assert!(matches!(
        store.repository.find(&user("u")).await,
        Err(RepoFindError::NotFound)
    ));
    let err = store.repository.delete(&user("u"), None).await.unwrap_err();
    assert!(matches!(err, RepoDeleteError::NotFound), "{err:?}");
    let again = create(store, "u", json!({"user_type": "d"})).await;
    assert!(again.skills.is_empty());
}

/// Delete with a stale expected version removes nothing.
pub async fn delete_checks_the_expected_version(store: &TestStore) {
    create(store, "u", json!({"user_type": "d"})).await;
    let err = store
        .repository
        .delete(&user("u"), Some(Version::new(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, RepoDeleteError::VersionMismatch), "{err:?}");
    store
        .repository
        .delete(&user("u"), Some(Version::new(100)))
        .await
        .unwrap();
}

/// Followers, rank (ties share a rank), streaks and titles come from the stored facts.
pub async fn figures_are_computed_from_stored_facts(store: &TestStore) {
    create(store, "me", json!({"user_type": "d"})).await;
    create(store, "a", json!({"user_type": "d"})).await;
    let f = &store.facts;
    for other in ["a", "b", "c"] {
        f.follow(&user(other), &user("me")).await.unwrap();
    }
    f.follow(&user("a"), &user("me")).await.unwrap(); // twice is once
    f.follow(&user("me"), &user("a")).await.unwrap();
    f.rate(&user("me"), &rating_domain("nlp"), rated(1500.0))
        .await
        .unwrap();
    f.rate(&user("me"), &rating_domain("vision"), rated(1800.0))
        .await
        .unwrap();
    f.rate(&user("me"), &rating_domain("audio"), rated(1800.0))
        .await
        .unwrap(); // tie: "audio" sorts first
    f.rate(&user("x"), &rating_domain("audio"), rated(1900.0))
        .await
        .unwrap();
    f.rate(&user("y"), &rating_domain("audio"), rated(1800.0))
        .await
        .unwrap(); // equal: not higher
    f.rate(&user("z"), &rating_domain("vision"), rated(2500.0))
        .await
        .unwrap();
    let day = |back: u64| today().checked_sub_days(Days::new(back)).unwrap();
    for back in [0, 1, 3, 4, 10, 11, 12, 13, 14] {
        f.record_activity(&user("me"), day(back)).await.unwrap();
    }
    f.record_freeze(&user("me"), day(2)).await.unwrap();
    let at = |h| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
    f.unlock_title(&user("me"), &title_name("Expert"), at(9))
        .await
        .unwrap();
    f.unlock_title(&user("me"), &title_name("Novice"), at(1))
        .await
        .unwrap();

    let figures = find(store, "me").await.figures;
    assert_eq!((figures.followers_count, figures.following_count), (3, 1));
    assert_eq!(
        (figures.is_following, figures.is_followed_back),
        (false, false)
    );
    assert_eq!(figures.top_domain_elo, 1800.0);
    assert_eq!(figures.top_domain_rank, 2);
    assert_eq!(
        (
            figures.streak,
            figures.highest_streak,
            figures.streak_freeze_days
        ),
        (4, 5, 1)
    );
    assert_eq!(figures.title, "Expert");
    assert_eq!(figures.unlocked_titles, ["Novice", "Expert"]);
}

/// Ranks equal a brute-force count after ratings are added and moved, across bucket boundaries
/// and within one bucket, with ties, negative and large ratings.
pub async fn ranks_stay_exact_as_ratings_move(store: &TestStore) {
    let f = &store.facts;
    let mut ratings: std::collections::BTreeMap<String, f64> = Default::default();
    let values = [
        1500.0,
        1499.999,
        1600.0,
        1550.0,
        1500.0,
        99.5,
        100.0,
        -250.0,
        2_000_000.0,
        1599.99,
        1500.01,
        0.0,
        1500.0,
        1700.0,
        1500.5,
        -0.5,
        1509.5,
    ];
    for (i, rating) in values.iter().enumerate() {
        let id = format!("r{i}");
        f.rate(&user(&id), &rating_domain("chess"), rated(*rating))
            .await
            .unwrap();
        ratings.insert(id, *rating);
    }
    // Move some ratings, within a bucket and across buckets, up and down.
    for (id, rating) in [
        ("r0", 1650.0),
        ("r3", 1551.0),
        ("r8", 10.0),
        ("r6", 1500.0),
        ("r0", 1499.0),
        ("r10", 1500.9),
        ("r15", -1.5),
    ] {
        f.rate(&user(id), &rating_domain("chess"), rated(rating))
            .await
            .unwrap();
        ratings.insert(id.to_owned(), rating);
    }
    // Another domain must not count.
    f.rate(&user("other"), &rating_domain("go"), rated(5000.0))
        .await
        .unwrap();
    for (id, rating) in &ratings {
        let expected = ratings.values().filter(|r| *r > rating).count() as u64;
        let top = store.facts.inputs(&user(id)).await.unwrap().top.unwrap();
        assert_eq!(top.rated_higher, expected, "{id} at {rating}");
    }
}

/// What a removal step removes: mostly one of the user's own facts (`own`), so that most
/// removals take effect, and sometimes `otherwise`, which may not exist.
fn existing_or<T: Copy>(
    rng: &mut rand::rngs::StdRng,
    own: &[T],
    otherwise: impl FnOnce(&mut rand::rngs::StdRng) -> T,
) -> T {
    use rand::Rng;
    match own.get(rng.gen_range(0..own.len().max(1))) {
        Some(fact) if rng.gen_bool(0.8) => *fact,
        _ => otherwise(rng),
    }
}

/// Random facts, recorded and removed in random order (ratings moved within and across the rank
/// buckets, follows and days recorded twice, facts removed that may or may not exist): what each
/// store returns as the facts of every user is what the domain's rules give from the facts
/// themselves ([`top_domain`] and a count of higher ratings for the rank), and so are the
/// figures. This holds each store's `user_figures` cache and rank buckets, kept by triggers, to
/// the domain's rules.
///
/// [`top_domain`]: iam_domain::figures::top_domain
pub async fn stored_facts_follow_the_domain_rules_on_random_facts(store: &TestStore) {
    use iam_domain::figures::{top_domain, DomainRating, FigureInputs, Figures, TopRating};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::{BTreeMap, BTreeSet};

    const USERS: usize = 10;
    const DOMAINS: [&str; 3] = ["audio", "nlp", "vision"];
    let ids: Vec<String> = (0..USERS).map(|i| format!("f{i}")).collect();
    for id in &ids {
        create(store, id, json!({"user_type": "d"})).await;
    }
    let seed = rand::random::<u64>();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut follows: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut ratings: BTreeMap<(usize, &str), f64> = BTreeMap::new();
    let mut active: BTreeMap<usize, BTreeSet<NaiveDate>> = BTreeMap::new();
    let mut frozen: BTreeMap<usize, BTreeSet<NaiveDate>> = BTreeMap::new();
    let mut titles: BTreeMap<usize, Vec<iam_domain::figures::UnlockedTitle>> = BTreeMap::new();
    let f = &store.facts;
    let day_back = |rng: &mut StdRng| today() - Days::new(rng.gen_range(0..20));
    for step in 0..400 {
        let who = rng.gen_range(0..USERS);
        let id = user(&ids[who]);
        match rng.gen_range(0..9) {
            0 => {
                let other = (who + rng.gen_range(1..USERS)) % USERS;
                f.follow(&id, &user(&ids[other])).await.unwrap();
                follows.insert((who, other));
            }
            1 => {
                let domain = DOMAINS[rng.gen_range(0..DOMAINS.len())];
                // 0 to 55 by 5: six buckets of 10, with many ties, bucket edges included.
                let rating = f64::from(rng.gen_range(0..12u32)) * 5.0;
                f.rate(&id, &rating_domain(domain), rated(rating))
                    .await
                    .unwrap();
                ratings.insert((who, domain), rating);
            }
            2 => {
                let day = day_back(&mut rng);
                f.record_activity(&id, day).await.unwrap();
                active.entry(who).or_default().insert(day);
            }
            3 => {
                let day = day_back(&mut rng);
                f.record_freeze(&id, day).await.unwrap();
                frozen.entry(who).or_default().insert(day);
            }
            // Removals (see `existing_or`).
            5 => {
                let own: Vec<usize> = follows
                    .iter()
                    .filter(|(a, _)| *a == who)
                    .map(|(_, b)| *b)
                    .collect();
                let other = existing_or(&mut rng, &own, |rng| {
                    (who + rng.gen_range(1..USERS)) % USERS
                });
                f.unfollow(&id, &user(&ids[other])).await.unwrap();
                follows.remove(&(who, other));
            }
            6 => {
                let own: Vec<&str> = ratings
                    .keys()
                    .filter(|(u, _)| *u == who)
                    .map(|(_, d)| *d)
                    .collect();
                let domain = existing_or(&mut rng, &own, |rng| {
                    DOMAINS[rng.gen_range(0..DOMAINS.len())]
                });
                f.remove_rating(&id, &rating_domain(domain)).await.unwrap();
                ratings.remove(&(who, domain));
            }
            7 => {
                let activity = rng.gen_bool(0.5);
                let days = if activity { &mut active } else { &mut frozen }
                    .entry(who)
                    .or_default();
                let own: Vec<NaiveDate> = days.iter().copied().collect();
                let day = existing_or(&mut rng, &own, day_back);
                if activity {
                    f.remove_activity(&id, day).await.unwrap();
                } else {
                    f.remove_freeze(&id, day).await.unwrap();
                }
                days.remove(&day);
            }
            8 => {
                let own = titles.entry(who).or_default();
                if !own.is_empty() {
                    let gone = own.remove(rng.gen_range(0..own.len()));
                    f.remove_title(&id, &title_name(&gone.title)).await.unwrap();
                }
            }
            _ => {
                let title = format!("T{step}");
                let at = Utc.timestamp_opt(1_700_000_000 + rng.gen_range(0..5) * 3600, 0);
                let at = at.unwrap();
                f.unlock_title(&id, &title_name(&title), at).await.unwrap();
                let unlocked = iam_domain::figures::UnlockedTitle {
                    title,
                    unlocked_at: at,
                };
                titles.entry(who).or_default().push(unlocked);
            }
        }
    }
    for (who, id) in ids.iter().enumerate() {
        let own: Vec<DomainRating> = ratings
            .iter()
            .filter(|((u, _), _)| *u == who)
            .map(|((_, domain), rating)| DomainRating {
                domain: (*domain).to_owned(),
                rating: *rating,
            })
            .collect();
        let top = top_domain(&own).map(|top| TopRating {
            rating: top.clone(),
            rated_higher: ratings
                .iter()
                .filter(|((_, d), r)| *d == top.domain && **r > top.rating)
                .count() as u64,
        });
        let expected = FigureInputs {
            followers: follows.iter().filter(|(_, b)| *b == who).count() as u64,
            following: follows.iter().filter(|(a, _)| *a == who).count() as u64,
            top,
            activity_days: active.get(&who).into_iter().flatten().copied().collect(),
            freeze_days: frozen.get(&who).into_iter().flatten().copied().collect(),
            titles: titles.get(&who).cloned().unwrap_or_default(),
        };
        let stored = store.repository.find(&user(id)).await.unwrap();
        let mut facts = stored.facts.clone();
        facts.activity_days.sort();
        facts.freeze_days.sort();
        let by_time_and_name =
            |t: &iam_domain::figures::UnlockedTitle| (t.unlocked_at, t.title.clone());
        facts.titles.sort_by_key(by_time_and_name);
        let mut expected_sorted = expected.clone();
        expected_sorted.titles.sort_by_key(by_time_and_name);
        assert_eq!(facts, expected_sorted, "user {id}, seed {seed}");
        assert_eq!(
            stored.as_of(today()).figures,
            Figures::compute(&expected, today()),
            "user {id}, seed {seed}"
        );
    }
}

/// Facts belong to a user id, with or without details: a user without details can be rated, and
/// deleting details leaves the facts. Only a follow needs the followee's details.
pub async fn figure_facts_exist_without_details(store: &TestStore) {
    create(store, "b", json!({"user_type": "d"})).await;
    store.facts.follow(&user("a"), &user("b")).await.unwrap();
    store.repository.delete(&user("b"), None).await.unwrap();
    store
        .facts
        .rate(&user("b"), &rating_domain("nlp"), rated(1200.5))
        .await
        .unwrap();
    let inputs = store.facts.inputs(&user("b")).await.unwrap();
    assert_eq!(inputs.followers, 1);
    assert_eq!(inputs.top.unwrap().rating.rating, 1200.5);
    let nobody = store.facts.inputs(&user("nobody")).await.unwrap();
    assert_eq!(nobody, Default::default());
    let err = store
        .facts
        .follow(&user("a"), &user("b"))
        .await
        .unwrap_err();
    assert!(matches!(err, FigureFactsError::NotFound), "{err:?}");
    create(store, "a", json!({"user_type": "d"})).await;
    assert!(
        store.facts.follow(&user("a"), &user("a")).await.is_err(),
        "no following oneself"
    );
}

/// Following twice is one follow, unfollowing twice (or a stranger) changes nothing, and the
/// relation reads each direction on its own.
pub async fn follows_are_idempotent_and_relations_read_both_ways(store: &TestStore) {
    use iam_domain::Relation;
    for id in ["a", "b", "c"] {
        create(store, id, json!({"user_type": "d"})).await;
    }
    let f = &store.facts;
    let relation = |viewer: &'static str, viewed: &'static str| async move {
        f.relation(&user(viewer), &user(viewed)).await.unwrap()
    };
    let both = |is_following, is_followed_back| Relation {
        is_following,
        is_followed_back,
    };
    assert_eq!(relation("a", "b").await, both(false, false));
    f.follow(&user("a"), &user("b")).await.unwrap();
    f.follow(&user("a"), &user("b")).await.unwrap();
    assert_eq!(relation("a", "b").await, both(true, false));
    assert_eq!(relation("b", "a").await, both(false, true));
    f.follow(&user("b"), &user("a")).await.unwrap();
    assert_eq!(relation("a", "b").await, both(true, true));
    assert_eq!(relation("a", "c").await, both(false, false));
    let counts = |id: &'static str| async move {
        let inputs = f.inputs(&user(id)).await.unwrap();
        (inputs.followers, inputs.following)
    };
    assert_eq!(counts("a").await, (1, 1));
    assert_eq!(counts("b").await, (1, 1));
    f.unfollow(&user("a"), &user("b")).await.unwrap();
    f.unfollow(&user("a"), &user("b")).await.unwrap();
    f.unfollow(&user("a"), &user("c")).await.unwrap(); // a stranger
    f.unfollow(&user("a"), &user("nobody")).await.unwrap(); // no details either
    assert_eq!(relation("a", "b").await, both(false, true));
    assert_eq!(counts("a").await, (1, 0));
    assert_eq!(counts("b").await, (0, 1));
    assert_eq!(counts("c").await, (0, 0));
    let err = f.follow(&user("a"), &user("nobody")).await.unwrap_err();
    assert!(matches!(err, FigureFactsError::NotFound), "{err:?}");
    assert_eq!(counts("a").await, (1, 0));
}

/// Relations read at once (batched by the stores) each answer their own pair, in both
/// directions, while follows change: a read sees every follow answered before it was sent.
pub async fn many_relations_read_at_once_each_get_their_own(store: &TestStore) {
    const USERS: usize = 9;
    let ids: Vec<String> = (0..USERS).map(|i| format!("r{i}")).collect();
    for id in &ids {
        create(store, id, json!({"user_type": "d"})).await;
    }
    // a follows b when 3 divides a * 7 + b, a != b: many pairs follow one way only.
    let follows = |a: usize, b: usize| a != b && (a * 7 + b).is_multiple_of(3);
    for (a, b) in (0..USERS).flat_map(|a| (0..USERS).map(move |b| (a, b))) {
        if follows(a, b) {
            store
                .facts
                .follow(&user(&ids[a]), &user(&ids[b]))
                .await
                .unwrap();
        }
    }
    for round in 0..3 {
        let mut tasks = Vec::new();
        for (a, b) in (0..USERS).flat_map(|a| (0..USERS).map(move |b| (a, b))) {
            if a == b {
                continue;
            }
            let facts = store.facts.clone();
            let (viewer, viewed) = (user(&ids[a]), user(&ids[b]));
            tasks.push(tokio::spawn(async move {
                let relation = facts.relation(&viewer, &viewed).await.unwrap();
                (a, b, relation)
            }));
        }
        for task in tasks {
            let (a, b, relation) = task.await.unwrap();
            // After round 0, every follow of r0 was undone (below).
            let undone = |x: usize| round > 0 && x == 0;
            let expected = iam_domain::Relation {
                is_following: follows(a, b) && !undone(a),
                is_followed_back: follows(b, a) && !undone(b),
            };
            assert_eq!(relation, expected, "round {round}: r{a} viewing r{b}");
        }
        for b in 1..USERS {
            store
                .facts
                .unfollow(&user(&ids[0]), &user(&ids[b]))
                .await
                .unwrap();
        }
    }
}

/// Each kind of fact can be removed (removing what is not there does nothing), and the figures
/// read back as the domain's rules give from what is left: the rank buckets and caches follow.
pub async fn removed_facts_leave_the_figures(store: &TestStore) {
    create(store, "me", json!({"user_type": "d"})).await;
    let f = &store.facts;
    let me = user("me");
    f.rate(&me, &rating_domain("nlp"), rated(1500.0))
        .await
        .unwrap();
    f.rate(&me, &rating_domain("vision"), rated(1700.0))
        .await
        .unwrap();
    f.rate(&user("x"), &rating_domain("nlp"), rated(1600.0))
        .await
        .unwrap();
    f.rate(&user("y"), &rating_domain("vision"), rated(1800.0))
        .await
        .unwrap();
    let day = |back: u64| today().checked_sub_days(Days::new(back)).unwrap();
    for back in 0..4 {
        f.record_activity(&me, day(back)).await.unwrap();
    }
    f.record_freeze(&me, day(4)).await.unwrap();
    f.record_activity(&me, day(5)).await.unwrap();
    let at = |h| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
    f.unlock_title(&me, &title_name("Novice"), at(1))
        .await
        .unwrap();
    f.unlock_title(&me, &title_name("Expert"), at(2))
        .await
        .unwrap();
    // Unlocked again later: the first time stays.
    f.unlock_title(&me, &title_name("Novice"), at(3))
        .await
        .unwrap();
    let figures = find(store, "me").await.figures;
    assert_eq!(
        (figures.top_domain_elo, figures.top_domain_rank),
        (1700.0, 2)
    );
    assert_eq!((figures.streak, figures.streak_freeze_days), (5, 1));
    assert_eq!(figures.unlocked_titles, ["Novice", "Expert"]);

    f.remove_rating(&me, &rating_domain("vision"))
        .await
        .unwrap();
    f.remove_rating(&me, &rating_domain("vision"))
        .await
        .unwrap();
    f.remove_activity(&me, day(2)).await.unwrap();
    f.remove_freeze(&me, day(4)).await.unwrap();
    f.remove_freeze(&me, day(9)).await.unwrap(); // never recorded
    f.remove_title(&me, &title_name("Expert")).await.unwrap();
    f.remove_title(&me, &title_name("Grandmaster"))
        .await
        .unwrap();
    let figures = find(store, "me").await.figures;
    assert_eq!(
        (figures.top_domain_elo, figures.top_domain_rank),
        (1500.0, 2)
    );
    assert_eq!(
        (
            figures.streak,
            figures.highest_streak,
            figures.streak_freeze_days
        ),
        (2, 2, 0)
    );
    assert_eq!(figures.title, "Novice");
    f.remove_rating(&me, &rating_domain("nlp")).await.unwrap();
    f.remove_rating(&user("x"), &rating_domain("nlp"))
        .await
        .unwrap();
    let figures = find(store, "me").await.figures;
    assert_eq!((figures.top_domain_elo, figures.top_domain_rank), (0.0, 0));
    // y's rank no longer counts me in vision.
    f.rate(&me, &rating_domain("vision"), rated(1900.0))
        .await
        .unwrap();
    let y = f.inputs(&user("y")).await.unwrap().top.unwrap();
    assert_eq!(y.rated_higher, 1);
    f.remove_rating(&me, &rating_domain("vision"))
        .await
        .unwrap();
    let y = f.inputs(&user("y")).await.unwrap().top.unwrap();
    assert_eq!(y.rated_higher, 0);
}

/// Writes to one user never show in another's details.
pub async fn users_are_isolated(store: &TestStore) {
    create(store, "1", json!({"user_type": "d", "skills": ["Rust"]})).await;
    create(store, "2", json!({"user_type": "d", "skills": ["Go"]})).await;
    patch(store, "1", json!({"bio": "one", "skills": ["C"]})).await;
    store.repository.delete(&user("1"), None).await.unwrap();
    let two = find(store, "2").await;
    assert!(two.detail.bio.is_none());
    assert_eq!(names(&two.skills), ["Go"]);
}

/// The longest values the domain accepts, in any script, are stored whole.
pub async fn long_unicode_values_round_trip(store: &TestStore) {
    let id = "9".repeat(255);
    let bio = "🦀ü".repeat(2500);
    let name = "名".repeat(100);
    let p = create(
        store,
        &id,
        json!({"user_type": "é".repeat(50), "bio": bio, "skills": [name]}),
    )
    .await;
    assert_eq!(p.detail.bio.as_ref().unwrap().as_str(), bio);
    assert_eq!(find(store, &id).await, p);
}

/// Many users adding the same new catalogue name at once get one id and no error.
pub async fn concurrent_new_catalogue_names_get_one_id(store: &TestStore) {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let repository = store.repository.clone();
        tasks.push(tokio::spawn(async move {
            // New names shared across two lists of one catalogue, swapped between writers (a
            // writer locking list by list would deadlock), and a second catalogue.
            let (first, second) = if i % 2 == 0 {
                ("Zeta New", "Alpha New")
            } else {
                ("Alpha New", "Zeta New")
            };
            let detail = new_detail(
                &format!("u{i}"),
                json!({"user_type": "d", "skills": ["Brand New", format!("own{i}"), first],
                       "technical_interests": [second, "brand new"],
                       "focus_area": ["New Tag", format!("tag{i}")]}),
            );
            repository.insert(&detail).await
        }));
    }
    let mut ids: std::collections::BTreeMap<String, std::collections::BTreeSet<i64>> =
        Default::default();
    for task in tasks {
        let profile = task.await.unwrap().expect("no writer fails");
        for entry in profile
            .skills
            .iter()
            .chain(&profile.technical_interests)
            .chain(&profile.focus_area)
        {
            ids.entry(entry.name.to_lowercase())
                .or_default()
                .insert(entry.id);
        }
    }
    for shared in ["brand new", "alpha new", "zeta new", "new tag"] {
        assert_eq!(ids[shared].len(), 1, "one id for {shared}: {ids:?}");
    }
}

fn service(store: &TestStore) -> Arc<Service> {
    Arc::new(Service::new(
        store.repository.clone(),
        Arc::new(SystemClock),
    ))
}

/// Clients patching different fields of one user at the same moment all keep their change.
pub async fn concurrent_patches_of_different_fields_all_survive(store: &TestStore) {
    create(store, "u", json!({"user_type": "d"})).await;
    let service = service(store);
    let bodies = [
        json!({"bio": "bio"}),
        json!({"country": "PK"}),
        json!({"phone": "+1 555 0100"}),
        json!({"github_url": "https://github.com/u"}),
        json!({"skills": ["Rust", "Go"]}),
        json!({"focus_area": ["AI"]}),
        json!({"platform_features_emails": true}),
        json!({"address": {"city": "Lahore"}}),
        json!({"website_url": "https://u.example"}),
        json!({"dob": "1990-01-01"}),
        json!({"investment_interests": ["Seed"]}),
        json!({"activity_based_emails": null}),
    ];
    for round in 0..3 {
        let mut tasks = Vec::new();
        for body in &bodies {
            let service = service.clone();
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                service
                    .partial_update(&user("u"), write(&body, JsonMode::Replace), None)
                    .await
            }));
        }
        for task in tasks {
            task.await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e:?}"));
        }
    }
    let p = find(store, "u").await;
    let d = &p.detail;
    assert_eq!(d.bio.as_ref().unwrap().as_str(), "bio");
    assert_eq!(d.country.as_str(), "PK");
    assert!(
        d.phone.is_some() && d.github_url.is_some() && d.website_url.is_some() && d.dob.is_some()
    );
    assert_eq!(names(&p.skills), ["Rust", "Go"]);
    assert_eq!(names(&p.focus_area), ["AI"]);
    assert_eq!(names(&p.investment_interests), ["Seed"]);
    assert_eq!(d.platform_features_emails, Some(true));
    assert_eq!(d.activity_based_emails, None);
    assert_eq!(
        d.address.as_ref().unwrap().value(),
        &json!({"city": "Lahore"})
    );
}

/// Merge patches of different keys of one JSON document, sent at once, all land.
pub async fn concurrent_merge_patches_of_one_document_all_survive(store: &TestStore) {
    create(store, "u", json!({"user_type": "d", "company_info": {}})).await;
    let service = service(store);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let service = service.clone();
        tasks.push(tokio::spawn(async move {
            let request = WriteRequest {
                patch: partial(&json!({"company_info": {format!("k{i}"): i}})),
                json_mode: JsonMode::MergePatch,
            };
            service.partial_update(&user("u"), request, None).await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("merge patch lands");
    }
    let doc = find(store, "u")
        .await
        .detail
        .company_info
        .unwrap()
        .into_value();
    for i in 0..12 {
        assert_eq!(doc[format!("k{i}")], json!(i), "{doc}");
    }
}

/// Many users reading and writing at the same moment (the PostgreSQL store shares statements
/// between such requests) each get their own profile back, with their own change, and every change
/// is stored; a user asked for twice in one moment gets the same answer twice.
pub async fn many_users_read_and_written_at_once_each_get_their_own(store: &TestStore) {
    let ids: Vec<String> = (0..40).map(|i| format!("user-{i:02}")).collect();
    for (i, id) in ids.iter().enumerate() {
        create(
            store,
            id,
            json!({"user_type": "d", "bio": format!("start {i}")}),
        )
        .await;
    }
    let service = service(store);
    let mut tasks = Vec::new();
    for round in 0..3 {
        for (i, id) in ids.iter().enumerate() {
            let service = service.clone();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                let user = user(&id);
                let read = service.get(&user).await.unwrap();
                assert_eq!(
                    read.detail.user_id, user,
                    "a read answered with another user"
                );
                // The id comes from the request; the bio shows whose row was read.
                let read_bio = read.detail.bio.as_ref().unwrap().as_str().to_owned();
                assert!(
                    read_bio == format!("start {i}") || read_bio.ends_with(&format!(" of {i}")),
                    "user {i} read another user's row: {read_bio}"
                );
                let bio = format!("round {round} of {i}");
                let body = json!({"bio": bio, "platform_features_emails": round % 2 == 0});
                let written = service
                    .partial_update(&user, write(&body, JsonMode::Replace), None)
                    .await
                    .unwrap();
                assert_eq!(
                    written.detail.user_id, user,
                    "a write answered with another user"
                );
                assert_eq!(written.detail.bio.as_ref().unwrap().as_str(), bio);
                (i, round, written.detail.version)
            }));
        }
    }
    let mut versions = std::collections::HashMap::new();
    for task in tasks {
        let (i, _round, version) = task.await.unwrap();
        assert!(
            versions
                .entry(i)
                .or_insert_with(Vec::new)
                .iter()
                .all(|v| *v != version),
            "two writes of user {i} answered with one version"
        );
        versions.get_mut(&i).unwrap().push(version);
    }
    for (i, id) in ids.iter().enumerate() {
        let stored = find(store, id).await;
        let bio = stored.detail.bio.unwrap();
        assert!(
            bio.as_str().ends_with(&format!(" of {i}")),
            "{id}: {}",
            bio.as_str()
        );
        assert_eq!(stored.detail.version.get(), 100 + 3, "{id}: three writes");
    }
}

/// Updates that all expect one version, sent at once: exactly one applies, the others are told
/// the version moved on, and the stored value is the winner's.
pub async fn concurrent_guarded_updates_of_one_version_let_one_win(store: &TestStore) {
    for id in ["a", "b", "c", "d"] {
        create(store, id, json!({"user_type": "d"})).await;
    }
    let mut tasks = Vec::new();
    for id in ["a", "b", "c", "d"] {
        let current = store.repository.find_detail(&user(id)).await.unwrap();
        for i in 0..8 {
            let repository = store.repository.clone();
            let (detail, changed) = patched(&current, json!({"bio": format!("{id} {i}")}));
            let expected = current.version;
            tasks.push(tokio::spawn(async move {
                let outcome = repository.update(&detail, &changed, Some(expected)).await;
                (detail.user_id.clone(), i, outcome)
            }));
        }
    }
    let mut winners = std::collections::HashMap::new();
    for task in tasks {
        let (id, i, outcome) = task.await.unwrap();
        match outcome {
            Ok(profile) => {
                assert_eq!(profile.detail.user_id, id);
                assert!(winners.insert(id, i).is_none(), "two winners");
            }
            Err(RepoUpdateError::VersionMismatch) => {}
            Err(other) => panic!("unexpected outcome: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 4, "one winner per user: {winners:?}");
    for (id, i) in winners {
        let stored = store.repository.find_detail(&id).await.unwrap();
        assert_eq!(stored.bio.unwrap().as_str(), format!("{} {i}", id.as_str()));
    }
}

/// The store answers a ping.
pub async fn ping_answers(store: &TestStore) {
    store.repository.ping().await.unwrap();
}

/// Updates of different fields of different users that share one batch (both stores write
/// scalars with a column mask, and the lists of the rows that write one): the users, created with
/// values in several fields of each kind and in every list (so a write that touched a field it did
/// not send would show), and one body each. Two rows add one new catalogue name, in two lists.
/// The first body sets `bio` to `first_bio`, which the caller makes slow so that the others queue
/// behind it and go as one batch.
pub async fn mixed_field_users(
    store: &TestStore,
    first_bio: &str,
) -> Vec<(UserDetail, Value, JsonMode)> {
    let bodies = [
        (json!({"bio": first_bio}), JsonMode::Replace),
        (json!({"bio": "new bio"}), JsonMode::Replace),
        (json!({"country": "new country"}), JsonMode::Replace),
        (json!({"github_url": null}), JsonMode::Replace),
        (
            json!({"communication_preferences_email": false}),
            JsonMode::Replace,
        ),
        (
            json!({"bio": "two", "country": "fields"}),
            JsonMode::Replace,
        ),
        (
            json!({"company_info": {"new": 2, "n": 1.50e1}}),
            JsonMode::Replace,
        ),
        (json!({"dob": "2001-03-04"}), JsonMode::Replace),
        (
            json!({"additional_data": {"more": 1}}),
            JsonMode::MergePatch,
        ),
        (
            json!({"skills": ["Rust", "Batch New Skill", "Old Skill"]}),
            JsonMode::Replace,
        ),
        (json!({"focus_area": []}), JsonMode::Replace),
        (
            json!({"bio": "and a list", "investment_interests": ["Fintech", "Batch Interest"]}),
            JsonMode::Replace,
        ),
        (
            json!({"technical_interests": ["Batch New Skill"]}),
            JsonMode::Replace,
        ),
    ];
    let mut users = Vec::new();
    for (i, (body, mode)) in bodies.into_iter().enumerate() {
        let detail = new_detail(
            &format!("m{i}"),
            json!({
                "user_type": "d", "bio": "old bio", "country": "old country",
                "github_url": "https://github.com/old", "communication_preferences_email": true,
                "dob": "1990-01-02", "company_info": {"old": 1}, "additional_data": {"keep": true},
                "skills": ["Old Skill", "Rust"], "investment_interests": ["Fintech"],
                "technical_interests": ["Go", "Rust"], "focus_area": ["Edge", "Audio"],
            }),
        );
        store.repository.insert(&detail).await.unwrap();
        users.push((detail, body, mode));
    }
    users
}

/// Sends the updates of [`mixed_field_users`] at once (the first alone, then the others while it
/// runs) and holds each row to its own update: stored and answered, each equals its details with
/// exactly its own patch applied.
pub async fn mixed_field_updates_write_each_row_only_its_own(
    store: &TestStore,
    users: Vec<(UserDetail, Value, JsonMode)>,
    release: impl std::future::Future<Output = ()>,
) {
    let mut tasks = Vec::new();
    for (i, (current, body, mode)) in users.into_iter().enumerate() {
        let applied = current.apply(&partial(&body), mode).unwrap();
        let repository = store.repository.clone();
        tasks.push(tokio::spawn(async move {
            let outcome = repository
                .update(&applied.detail, &applied.changed, None)
                .await;
            (applied.detail, outcome)
        }));
        if i == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    release.await;
    for task in tasks {
        let (mut expected, outcome) = task.await.unwrap();
        let stored = outcome.unwrap().detail;
        expected.version = stored.version;
        assert_eq!(stored, expected, "the answer of {}", expected.user_id);
        let read = store
            .repository
            .find_detail(&expected.user_id)
            .await
            .unwrap();
        assert_eq!(read, expected, "the stored row of {}", expected.user_id);
    }
}

/// Six users `u0` to `u5` with details and nothing else, for
/// [`one_failing_row_fails_only_its_own_update`].
pub async fn six_users(store: &TestStore) -> Vec<UserDetail> {
    let mut users = Vec::new();
    for i in 0..6 {
        let detail = new_detail(&format!("u{i}"), json!({"user_type": "d"}));
        store.repository.insert(&detail).await.unwrap();
        users.push(detail);
    }
    users
}

/// When a batch of updates fails on one row, each update runs alone: the others land and
/// only the failing one reports the failure, leaving its row as it was. Six users; the caller
/// makes a `bio` of `"refused"` fail (a trigger) and the first update slow (`first_bio`, or a lock
/// it lets go in `release`), so that the others queue into one batch behind it.
pub async fn one_failing_row_fails_only_its_own_update(
    store: &TestStore,
    users: Vec<UserDetail>,
    first_bio: &str,
    release: impl std::future::Future<Output = ()>,
) {
    let mut tasks = Vec::new();
    for (i, current) in users.into_iter().enumerate() {
        let bio = match i {
            0 => first_bio.to_owned(),
            3 => "refused".to_owned(),
            _ => format!("bio {i}"),
        };
        tasks.push((current, bio));
    }
    let mut running = Vec::new();
    for (i, (current, bio)) in tasks.into_iter().enumerate() {
        let applied = current
            .apply(&partial(&json!({"bio": bio})), JsonMode::Replace)
            .unwrap();
        let repository = store.repository.clone();
        running.push((
            bio,
            tokio::spawn(async move {
                repository
                    .update(&applied.detail, &applied.changed, None)
                    .await
            }),
        ));
        if i == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    release.await;
    for (i, (bio, task)) in running.into_iter().enumerate() {
        let outcome = task.await.unwrap();
        if i == 3 {
            assert!(
                matches!(outcome, Err(RepoUpdateError::Unexpected(_))),
                "the refused row: {outcome:?}"
            );
        } else {
            let profile = outcome.unwrap_or_else(|e| panic!("u{i}: {e:?}"));
            assert_eq!(profile.detail.bio.unwrap().as_str(), bio);
        }
    }
    let refused = store.repository.find_detail(&user("u3")).await.unwrap();
    assert_eq!(
        refused.bio, None,
        "the refused update left the row as it was"
    );
}
