//! The repository contract on SQLite: a fresh file per test.
iam_tests::contract_suite!(iam_tests::stores::sqlite);

/// The link tables with their catalogues, in the order of `list_entries` (`List::ALL`).
const LINK_TABLES: [(&str, &str); 4] = [
    ("user_skills", "developer_skills"),
    ("user_investment_interests", "investment_interests"),
    ("user_technical_interests", "developer_skills"),
    ("user_focus_areas", "tags"),
];

/// How many rows' cached list entries (`list_entries`, kept by triggers) differ from what the
/// link tables and catalogues say, computed here without the cache.
async fn cache_misses(url: &str) -> i64 {
    use sqlx::Connection;
    let lists: Vec<String> = LINK_TABLES
        .iter()
        .map(|(link, catalogue)| {
            format!(
                "json((SELECT json_group_array(\
                                json_array(l.position, c.id, c.name, c.description)) \
                       FROM {link} l JOIN {catalogue} c ON c.id = l.entry_id \
                       WHERE l.user_id = d.user_id))"
            )
        })
        .collect();
    let sql = format!(
        "SELECT count(*) FROM user_details d WHERE d.list_entries <> json_array({})",
        lists.join(", ")
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

/// How many users' `user_figures` rows (kept by triggers, the fourth migration) differ from what
/// the fact tables say, computed here without the cache: a user with facts and no row, or a row
/// whose counts, top rating or days and titles (compared as sorted sets) are not the facts'.
async fn figure_misses(conn: &mut sqlx::SqliteConnection) -> i64 {
    let sorted = |values: &str| format!("(SELECT group_concat(v, '|') FROM ({values} ORDER BY v))");
    let top = |column: &str| {
        format!(
            "(SELECT r.{column} FROM domain_ratings r WHERE r.user_id = ids.id \
              ORDER BY r.rating DESC, r.domain LIMIT 1)"
        )
    };
    let sql = format!(
        "WITH ids AS (SELECT followee_id AS id FROM follows UNION SELECT follower_id FROM follows \
                      UNION SELECT user_id FROM domain_ratings UNION SELECT user_id FROM activity_days \
                      UNION SELECT user_id FROM streak_freeze_days \
                      UNION SELECT user_id FROM unlocked_titles UNION SELECT user_id FROM user_figures) \
         SELECT count(*) FROM ids LEFT JOIN user_figures f ON f.user_id = ids.id \
         WHERE f.user_id IS NULL \
            OR f.followers <> (SELECT count(*) FROM follows WHERE followee_id = ids.id) \
            OR f.following <> (SELECT count(*) FROM follows WHERE follower_id = ids.id) \
            OR f.top_domain IS NOT {} OR f.top_rating IS NOT {} OR f.top_bucket IS NOT {} \
            OR {} IS NOT {} OR {} IS NOT {} OR {} IS NOT {}",
        top("domain"),
        top("rating"),
        top("bucket"),
        sorted("SELECT value AS v FROM json_each(f.activity_days)"),
        sorted("SELECT day AS v FROM activity_days WHERE user_id = ids.id"),
        sorted("SELECT value AS v FROM json_each(f.freeze_days)"),
        sorted("SELECT day AS v FROM streak_freeze_days WHERE user_id = ids.id"),
        sorted("SELECT value AS v FROM json_each(f.titles)"),
        sorted("SELECT json_array(title, unlocked_at) AS v FROM unlocked_titles WHERE user_id = ids.id"),
    );
    sqlx::query_scalar(&sql).fetch_one(conn).await.unwrap()
}

/// Facts for users `a`, `b` and `c`, written as raw rows.
const RAW_FACTS: &str = "\
    INSERT INTO follows (follower_id, followee_id) VALUES ('a', 'b'), ('c', 'b'), ('b', 'a');
    INSERT INTO domain_ratings (user_id, domain, rating) VALUES
        ('a', 'go', 1500), ('a', 'chess', 1500), ('a', 'nlp', 900), ('b', 'go', 1700), ('c', 'go', 1499.5);
    INSERT INTO activity_days (user_id, day) VALUES ('a', '2026-01-02'), ('a', '2026-01-01'), ('b', '2026-01-01');
    INSERT INTO streak_freeze_days (user_id, day) VALUES ('a', '2026-01-03');
    INSERT INTO unlocked_titles (user_id, title, unlocked_at) VALUES
        ('a', 'Novice', '2026-01-01T00:00:00Z'), ('b', 'Expert', '2026-01-02T00:00:00Z');";

/// The figure rows follow fact rows written around the service too: rows moved to another user,
/// ratings changed in place, facts deleted, follows reversed. The service reads what the facts say.
#[tokio::test]
async fn the_figure_rows_follow_fact_edits_made_around_the_service() {
    use sqlx::{Connection, Executor};

    let store = iam_tests::stores::sqlite().await;
    let mut conn = sqlx::SqliteConnection::connect(&store.url).await.unwrap();
    conn.execute(RAW_FACTS).await.unwrap();
    assert_eq!(figure_misses(&mut conn).await, 0, "after inserts");
    for edit in [
        "UPDATE follows SET follower_id = 'd' WHERE follower_id = 'c'",
        "UPDATE follows SET follower_id = followee_id, followee_id = follower_id WHERE follower_id = 'd'",
        "UPDATE domain_ratings SET rating = 2000 WHERE user_id = 'a' AND domain = 'nlp'",
        "UPDATE domain_ratings SET user_id = 'd' WHERE user_id = 'b'",
        "UPDATE domain_ratings SET domain = 'aa' WHERE user_id = 'c'",
        "UPDATE activity_days SET user_id = 'c' WHERE day = '2026-01-02'",
        "UPDATE activity_days SET day = '2026-02-01' WHERE user_id = 'b'",
        "UPDATE streak_freeze_days SET user_id = 'b'",
        "UPDATE unlocked_titles SET user_id = 'a', title = 'Master' WHERE user_id = 'b'",
        "DELETE FROM domain_ratings WHERE user_id = 'a' AND domain = 'nlp'",
        "DELETE FROM follows WHERE followee_id = 'a'",
        "DELETE FROM activity_days",
        "DELETE FROM unlocked_titles WHERE title = 'Novice'",
    ] {
        conn.execute(edit).await.unwrap();
        assert_eq!(figure_misses(&mut conn).await, 0, "after {edit}");
    }
    conn.close().await.unwrap();

    // What the service reads of `a`: chess and go tie at 1500 and chess sorts first, with no
    // other chess rating above it; `a` follows `b` and nobody follows `a` any more; its days are
    // gone and its one title is the one moved from `b`.
    let a = iam_domain::UserId::parse("a").unwrap();
    let facts = store.facts.inputs(&a).await.unwrap();
    let top = facts.top.expect("a has ratings");
    assert_eq!(
        (
            top.rating.domain.as_str(),
            top.rating.rating,
            top.rated_higher
        ),
        ("chess", 1500.0, 0)
    );
    assert_eq!((facts.followers, facts.following), (0, 1));
    assert!(facts.activity_days.is_empty());
    let titles: Vec<_> = facts.titles.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Master"]);
    store.cleanup().await;
}

/// A scratch file with the migrations before the one whose description contains `name` applied:
/// its connection, its URL, and that migration. [`remove_scratch`] deletes it.
async fn migrated_up_to(
    name: &str,
) -> (
    sqlx::SqliteConnection,
    String,
    &'static sqlx::migrate::Migration,
) {
    use sqlx::{Connection, Executor};

    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name_of_file = format!("iam-migration-{}-{nanos}.db", std::process::id());
    let path = std::env::temp_dir().join(name_of_file);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let migrations: Vec<_> = iam_sqlite::MIGRATOR.iter().collect();
    let next = migrations
        .iter()
        .position(|m| m.description.contains(name))
        .unwrap_or_else(|| panic!("no migration named {name}"));
    for m in &migrations[..next] {
        conn.execute(&*m.sql).await.unwrap();
    }
    (conn, url, migrations[next])
}

/// Closes `conn` and deletes the scratch file at `url` ([`migrated_up_to`]) with its WAL files.
async fn remove_scratch(conn: sqlx::SqliteConnection, url: &str) {
    use sqlx::Connection;

    conn.close().await.unwrap();
    let path = url
        .trim_start_matches("sqlite://")
        .trim_end_matches("?mode=rwc");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}

/// The fourth migration fills `user_figures` from the facts already stored when it runs.
#[tokio::test]
async fn the_figures_migration_fills_the_rows_from_stored_facts() {
    use sqlx::Executor;

    let (mut conn, url, figures) = migrated_up_to("user figures").await;
    conn.execute(RAW_FACTS).await.unwrap();
    conn.execute(&*figures.sql).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM user_figures")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 3, "one row per user with facts");
    assert_eq!(figure_misses(&mut conn).await, 0);
    remove_scratch(conn, &url).await;
}

/// Two users' details, catalogue entries and links in each of the four link tables, as raw rows.
const RAW_LINKS: &str = "\
    INSERT INTO user_details (user_id, version, user_type) VALUES ('a', 1, 'd'), ('b', 1, 'd');
    INSERT INTO developer_skills (name, name_key) VALUES ('Rust', 'rust'), ('Go', 'go');
    INSERT INTO investment_interests (name, name_key) VALUES ('AI', 'ai');
    INSERT INTO tags (name, name_key) VALUES ('web', 'web');
    INSERT INTO user_skills (user_id, position, entry_id)
        VALUES ('a', 0, 1), ('a', 1, 2), ('b', 0, 2);
    INSERT INTO user_technical_interests (user_id, position, entry_id) VALUES ('b', 0, 1);
    INSERT INTO user_investment_interests (user_id, position, entry_id) VALUES ('a', 0, 1);
    INSERT INTO user_focus_areas (user_id, position, entry_id) VALUES ('a', 0, 1), ('b', 0, 1);";

/// The sixth migration rebuilds the link tables as `WITHOUT ROWID` tables and keeps what they
/// hold: the links stored before it and the cached entries; and the triggers it creates again
/// still keep the cache when links are written and catalogue entries renamed after it.
#[tokio::test]
async fn the_link_tables_migration_keeps_the_links_and_the_cache_triggers() {
    use sqlx::Executor;

    async fn links(conn: &mut sqlx::SqliteConnection) -> Vec<String> {
        let mut all = Vec::new();
        for (table, _) in LINK_TABLES {
            let sql = format!(
                "SELECT json_group_array(json_array(user_id, position, entry_id)) \
                 FROM (SELECT * FROM {table} ORDER BY user_id, position)"
            );
            all.push(
                sqlx::query_scalar(&sql)
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap(),
            );
        }
        all
    }
    async fn cached(conn: &mut sqlx::SqliteConnection) -> Vec<String> {
        sqlx::query_scalar("SELECT list_entries FROM user_details ORDER BY user_id")
            .fetch_all(conn)
            .await
            .unwrap()
    }

    let (mut conn, url, rebuild) = migrated_up_to("without rowid").await;
    conn.execute(RAW_LINKS).await.unwrap();
    assert_eq!(cache_misses(&url).await, 0, "before the migration");
    let (links_before, cached_before) = (links(&mut conn).await, cached(&mut conn).await);
    assert!(cached_before[0].contains("\"Go\""), "{cached_before:?}");

    conn.execute(&*rebuild.sql).await.unwrap();
    assert_eq!(links(&mut conn).await, links_before);
    assert_eq!(cached(&mut conn).await, cached_before);
    for (table, _) in LINK_TABLES {
        let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = ?1")
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(sql.ends_with("WITHOUT ROWID"), "{sql}");
    }

    for edit in [
        "UPDATE developer_skills SET name = 'RUST' WHERE name_key = 'rust'",
        "UPDATE tags SET description = 'The web' WHERE name_key = 'web'",
        "INSERT INTO user_skills (user_id, position, entry_id) VALUES ('b', 1, 1)",
        "UPDATE user_skills SET entry_id = 1 WHERE user_id = 'a' AND position = 1",
        "DELETE FROM user_focus_areas WHERE user_id = 'b'",
        "DELETE FROM user_details WHERE user_id = 'a'",
    ] {
        conn.execute(edit).await.unwrap();
        assert_eq!(cache_misses(&url).await, 0, "after {edit}");
    }
    assert_eq!(
        cached(&mut conn).await,
        [r#"[[[0,2,"Go",null],[1,1,"RUST",null]],[],[[0,1,"RUST",null]],[]]"#]
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM user_skills WHERE user_id = 'a'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "the links of deleted details cascade");
    remove_scratch(conn, &url).await;
}
