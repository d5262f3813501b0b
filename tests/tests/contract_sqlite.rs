//! The repository contract on SQLite: a fresh file per test.
iam_tests::contract_suite!(iam_tests::stores::sqlite);

/// Updates of different fields of different users share one batch statement (a column mask):
/// each row gets exactly the fields its own update wrote, and every other field keeps its stored
/// value, whatever the other rows of the batch wrote. Another connection holds the file's write
/// lock, so the first update waits (holding the lane) while the others queue into one batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_of_different_fields_writes_each_row_only_its_own() {
    use iam_tests::contract::{mixed_field_updates_write_each_row_only_its_own, mixed_field_users};
    use sqlx::{Connection, Executor};

    let store = iam_tests::stores::sqlite().await;
    let users = mixed_field_users(&store, "first").await;
    let mut holder = sqlx::SqliteConnection::connect(&store.url).await.unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let release = async move {
        holder.execute("COMMIT").await.unwrap();
        holder.close().await.unwrap();
    };
    mixed_field_updates_write_each_row_only_its_own(&store, users, release).await;
    store.cleanup().await;
}

/// When a batch of updates fails on one row, each update runs alone: the others land and only
/// the failing one reports the failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_failing_row_fails_only_its_own_update() {
    use iam_domain::{JsonMode, UserDetail, UserId, Version};
    use iam_http::drf::{parse_patch, ParseOptions, WriteMode};
    use iam_ports::RepoUpdateError;
    use sqlx::{Connection, Executor};

    let parsed = |body: serde_json::Value, mode: WriteMode| {
        let options = ParseOptions {
            today: chrono::Utc::now().date_naive(),
            strict: false,
            mode,
        };
        parse_patch(&body, options).unwrap()
    };
    let store = iam_tests::stores::sqlite().await;
    let mut currents = Vec::new();
    for i in 0..6 {
        let patch = parsed(serde_json::json!({"user_type": "d"}), WriteMode::Create);
        let id = UserId::parse(format!("u{i}")).unwrap();
        let detail = UserDetail::create(id, Version::new(1), &patch, JsonMode::Replace).unwrap();
        store.repository.insert(&detail).await.unwrap();
        currents.push(detail);
    }
    let mut holder = sqlx::SqliteConnection::connect(&store.url).await.unwrap();
    holder
        .execute(
            "CREATE TRIGGER test_refused BEFORE UPDATE ON user_details \
             WHEN NEW.bio = 'refused' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
        .await
        .unwrap();
    // The file's write lock held elsewhere: the first update waits with the lane, the others
    // queue into one batch behind it.
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let mut tasks = Vec::new();
    for (i, current) in currents.into_iter().enumerate() {
        let bio = if i == 3 {
            "refused".to_owned()
        } else {
            format!("bio {i}")
        };
        let patch = parsed(serde_json::json!({"bio": bio}), WriteMode::Partial);
        let applied = current.apply(&patch, JsonMode::Replace).unwrap();
        let repository = store.repository.clone();
        tasks.push(tokio::spawn(async move {
            repository
                .update(&applied.detail, &applied.changed, None)
                .await
        }));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    holder.execute("COMMIT").await.unwrap();
    for (i, task) in tasks.into_iter().enumerate() {
        let outcome = task.await.unwrap();
        if i == 3 {
            assert!(
                matches!(outcome, Err(RepoUpdateError::Unexpected(_))),
                "the refused row: {outcome:?}"
            );
        } else {
            let profile = outcome.unwrap_or_else(|e| panic!("u{i}: {e:?}"));
            assert_eq!(profile.detail.bio.unwrap().as_str(), format!("bio {i}"));
        }
    }
    let refused = store
        .repository
        .find_detail(&UserId::parse("u3").unwrap())
        .await
        .unwrap();
    assert_eq!(
        refused.bio, None,
        "the refused update left the row as it was"
    );
    holder.close().await.unwrap();
    store.cleanup().await;
}
