//! The repository contract on SQLite: a fresh file per test.
iam_tests::contract_suite!(iam_tests::stores::sqlite);

/// How many rows' cached list entries (`list_entries`, kept by triggers) differ from what the
/// link tables and catalogues say, computed here without the cache.
async fn cache_misses(url: &str) -> i64 {
    use sqlx::Connection;
    let list = |link: &str, catalogue: &str| {
        format!(
            "json((SELECT json_group_array(json_array(l.position, c.id, c.name, c.description)) \
                   FROM {link} l JOIN {catalogue} c ON c.id = l.entry_id \
                   WHERE l.user_id = d.user_id))"
        )
    };
    let sql = format!(
        "SELECT count(*) FROM user_details d WHERE d.list_entries <> json_array({}, {}, {}, {})",
        list("user_skills", "developer_skills"),
        list("user_investment_interests", "investment_interests"),
        list("user_technical_interests", "developer_skills"),
        list("user_focus_areas", "tags"),
    );
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let count = sqlx::query_scalar(&sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    count
}

/// The cached list entries follow catalogue edits made outside the service, and list writes
/// of every kind (create, reorder, shrink, clear, delete of the details).
#[tokio::test]
async fn the_cached_list_entries_follow_the_links_and_catalogue_edits() {
    use serde_json::json;
    use sqlx::{Connection, Executor};

    let store = iam_tests::stores::sqlite().await;
    let body = json!({"user_type": "d", "skills": ["Rust", "Go", "SQL"], "technical_interests": ["rust"],
                      "investment_interests": ["AI"], "focus_area": ["web", "data"]});
    let created = iam_tests::contract::create(&store, "u", body.clone()).await;
    iam_tests::contract::create(&store, "v", body).await;
    let mut conn = sqlx::SqliteConnection::connect(&store.url).await.unwrap();
    conn.execute(
        "UPDATE developer_skills SET description = 'A systems language' WHERE name_key = 'rust'",
    )
    .await
    .unwrap();
    conn.execute("UPDATE tags SET name = 'Web' WHERE name_key = 'web'")
        .await
        .unwrap();
    // Around the service: a reorder, a removal, and one user's details deleted.
    conn.execute("UPDATE user_skills SET position = 5 WHERE user_id = 'v' AND position = 0")
        .await
        .unwrap();
    conn.execute("DELETE FROM user_focus_areas WHERE user_id = 'v' AND position = 1")
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert_eq!(
        cache_misses(&store.url).await,
        0,
        "list_entries = the links"
    );

    let profile = store
        .repository
        .find(&created.detail.user_id)
        .await
        .unwrap();
    let description = |entries: &[iam_domain::CatalogueEntry]| entries[0].description.clone();
    assert_eq!(
        description(&profile.skills).as_deref(),
        Some("A systems language")
    );
    assert_eq!(
        description(&profile.technical_interests).as_deref(),
        Some("A systems language")
    );
    assert_eq!(profile.focus_area[0].name, "Web");
    let other = iam_domain::UserId::parse("v").unwrap();
    let names = |entries: &[iam_domain::CatalogueEntry]| {
        entries.iter().map(|e| e.name.clone()).collect::<Vec<_>>()
    };
    let profile = store.repository.find(&other).await.unwrap();
    assert_eq!(names(&profile.skills), ["Go", "SQL", "Rust"]);
    assert_eq!(names(&profile.focus_area), ["Web"]);
    store.repository.delete(&other, None).await.unwrap();
    assert_eq!(cache_misses(&store.url).await, 0);
    store.cleanup().await;
}

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
    assert_eq!(
        cache_misses(&store.url).await,
        0,
        "list_entries = the links"
    );
    store.cleanup().await;
}

/// When a batch of updates fails on one row, each update runs alone: the others land and only
/// the failing one reports the failure. A trigger refuses one `bio`; another connection holds the
/// file's write lock, so the first update waits with the lane while the others queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_failing_row_fails_only_its_own_update() {
    use sqlx::{Connection, Executor};

    let store = iam_tests::stores::sqlite().await;
    let mut holder = sqlx::SqliteConnection::connect(&store.url).await.unwrap();
    holder
        .execute(
            "CREATE TRIGGER test_refused BEFORE UPDATE ON user_details \
             WHEN NEW.bio = 'refused' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
        .await
        .unwrap();
    let users = iam_tests::contract::six_users(&store).await;
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let release = async move {
        holder.execute("COMMIT").await.unwrap();
        holder.close().await.unwrap();
    };
    iam_tests::contract::one_failing_row_fails_only_its_own_update(&store, users, "first", release)
        .await;
    store.cleanup().await;
}
