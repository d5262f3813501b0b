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
