//! The repository contract on PostgreSQL: a fresh database per test.
iam_tests::contract_suite!(iam_tests::stores::postgres);

use iam_http::drf::{parse_patch, ParseOptions, WriteMode};

/// The cached list entries follow catalogue edits made outside the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_edits_reach_the_cached_list_entries() {
    use sqlx::Connection;
    let store = iam_tests::stores::postgres().await;
    let detail = {
        let body = serde_json::json!({"user_type": "d", "skills": ["Rust"], "technical_interests": ["rust"]});
        let patch = parsed(body, WriteMode::Create);
        let id = iam_domain::UserId::parse("u").unwrap();
        iam_domain::UserDetail::create(
            id,
            iam_domain::Version::new(1),
            &patch,
            iam_domain::JsonMode::Replace,
        )
        .unwrap()
    };
    store.repository.insert(&detail).await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&store.url).await.unwrap();
    sqlx::query(
        "UPDATE developer_skills SET description = 'A systems language' WHERE name_key = 'rust'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let profile = store.repository.find(&detail.user_id).await.unwrap();
    assert_eq!(
        profile.skills[0].description.as_deref(),
        Some("A systems language")
    );
    assert_eq!(
        profile.technical_interests[0].description.as_deref(),
        Some("A systems language")
    );
    store.cleanup().await;
}

/// The figures as the fact tables say, computed without the `user_figures` cache or the rank
/// buckets: what the cache must always equal.
async fn figures_from_facts(
    conn: &mut sqlx::PgConnection,
    user: &str,
) -> iam_domain::figures::FigureInputs {
    use iam_domain::figures::{DomainRating, FigureInputs, TopRating, UnlockedTitle};
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM follows WHERE followee_id = $1) AS followers, \
                (SELECT count(*) FROM follows WHERE follower_id = $1) AS following, \
                top.domain, top.rating, \
                (SELECT count(*) FROM domain_ratings o \
                 WHERE o.domain = top.domain AND o.rating > top.rating) AS higher, \
                ARRAY(SELECT day FROM activity_days WHERE user_id = $1) AS days, \
                ARRAY(SELECT day FROM streak_freeze_days WHERE user_id = $1) AS freezes, \
                ARRAY(SELECT title FROM unlocked_titles WHERE user_id = $1) AS titles, \
                ARRAY(SELECT unlocked_at FROM unlocked_titles WHERE user_id = $1) AS times \
         FROM (SELECT 1) one LEFT JOIN LATERAL \
              (SELECT domain, rating FROM domain_ratings WHERE user_id = $1 \
               ORDER BY rating DESC, domain COLLATE \"C\" LIMIT 1) top ON true",
    )
    .bind(user)
    .fetch_one(conn)
    .await
    .unwrap();
    let domain: Option<String> = row.get("domain");
    let titles: Vec<String> = row.get("titles");
    let times: Vec<chrono::DateTime<chrono::Utc>> = row.get("times");
    FigureInputs {
        followers: row.get::<i64, _>("followers") as u64,
        following: row.get::<i64, _>("following") as u64,
        top: domain.map(|domain| TopRating {
            rating: DomainRating {
                domain,
                rating: row.get("rating"),
            },
            rated_higher: row.get::<i64, _>("higher") as u64,
        }),
        activity_days: row.get("days"),
        freeze_days: row.get("freezes"),
        titles: titles
            .into_iter()
            .zip(times)
            .map(|(title, unlocked_at)| UnlockedTitle { title, unlocked_at })
            .collect(),
    }
}

/// Inputs in one order, so that two sets of the same facts compare equal.
fn normalized(mut inputs: iam_domain::figures::FigureInputs) -> iam_domain::figures::FigureInputs {
    inputs.activity_days.sort();
    inputs.freeze_days.sort();
    inputs
        .titles
        .sort_by(|a, b| (a.unlocked_at, &a.title).cmp(&(b.unlocked_at, &b.title)));
    inputs
}

/// The cached figures and rank buckets (fourth migration) equal a recomputation from the facts
/// after concurrent recording through the port and after inserts, updates, deletes and truncates
/// made directly in the fact tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cached_figures_follow_every_fact_write() {
    use chrono::{Duration, NaiveDate, TimeZone, Utc};
    use iam_domain::social::{Rating, RatingDomain, TitleName};
    use iam_domain::UserId;
    use sqlx::Connection;
    use std::sync::Arc;

    let store = iam_tests::stores::postgres().await;
    let users: Vec<UserId> = (0..12)
        .map(|i| UserId::parse(format!("user-{i}")).unwrap())
        .collect();
    for user in &users {
        iam_tests::contract::create(&store, user.as_str(), serde_json::json!({"user_type": "d"}))
            .await;
    }
    let users = Arc::new(users);
    let day0 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();

    // Eight writers at once: follows both ways, ratings that cross buckets, days and titles.
    let mut tasks = Vec::new();
    for w in 0..8u64 {
        let facts = store.facts.clone();
        let users = users.clone();
        tasks.push(tokio::spawn(async move {
            let mut seed = w * 7919 + 13;
            let mut next = |n: u64| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 33) % n
            };
            for step in 0..40u64 {
                let a = &users[next(12) as usize];
                let b = &users[next(12) as usize];
                if a != b {
                    facts.follow(a, b).await.unwrap();
                }
                let domain = ["ml", "nlp", "vision"][next(3) as usize];
                let rating = 1000.0 + next(400) as f64 + (step as f64) / 7.0;
                let (domain, rating) = (RatingDomain::parse(domain), Rating::new(rating));
                facts
                    .rate(a, &domain.unwrap(), rating.unwrap())
                    .await
                    .unwrap();
                let day = day0 + Duration::days(next(30) as i64);
                facts.record_activity(b, day).await.unwrap();
                if step % 5 == 0 {
                    facts.record_freeze(a, day).await.unwrap();
                    let at = Utc
                        .timestamp_opt(1_700_000_000 + next(1000) as i64, 0)
                        .unwrap();
                    facts
                        .unlock_title(
                            b,
                            &TitleName::parse(format!("Title {}", next(4))).unwrap(),
                            at,
                        )
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let mut conn = sqlx::PgConnection::connect(&store.url).await.unwrap();
    let check = |stage: &'static str| {
        let store = &store;
        let users = users.clone();
        let url = store.url.clone();
        async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            for user in users.iter() {
                let cached = normalized(store.facts.inputs(user).await.unwrap());
                let truth = normalized(figures_from_facts(&mut conn, user.as_str()).await);
                assert_eq!(cached, truth, "{stage}: figures of {user:?}");
            }
            let wrong_buckets: i64 = sqlx::query_scalar(
                "WITH truth AS (SELECT domain, bucket, users, coalesce(sum(users) OVER \
                     (PARTITION BY domain ORDER BY bucket DESC \
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS above \
                   FROM (SELECT domain, floor(rating / 10) AS bucket, count(*) AS users \
                         FROM domain_ratings GROUP BY 1, 2) b) \
                 SELECT count(*) FROM truth t FULL JOIN domain_rating_buckets b \
                   USING (domain, bucket) \
                 WHERE t.users IS DISTINCT FROM b.users OR t.above IS DISTINCT FROM b.above",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            assert_eq!(wrong_buckets, 0, "{stage}: rank buckets");
            conn.close().await.unwrap();
        }
    };
    check("after concurrent recording").await;

    for statement in [
        "DELETE FROM follows WHERE follower_id IN ('user-1', 'user-2')",
        "UPDATE follows SET followee_id = 'user-11' WHERE followee_id = 'user-3' \
         AND follower_id <> 'user-11' \
         AND NOT EXISTS (SELECT 1 FROM follows g WHERE g.follower_id = follows.follower_id \
                         AND g.followee_id = 'user-11')",
        "UPDATE domain_ratings SET rating = rating + 55 WHERE user_id IN ('user-4', 'user-5')",
        "UPDATE domain_ratings SET rating = rating - 3 WHERE domain = 'ml'",
        "UPDATE domain_ratings SET domain = 'robotics' WHERE user_id = 'user-6' AND domain = 'nlp'",
        "DELETE FROM domain_ratings WHERE user_id = 'user-7'",
        "DELETE FROM activity_days WHERE day < '2026-01-10'",
        "UPDATE activity_days SET user_id = 'user-0' WHERE user_id = 'user-8' \
         AND day NOT IN (SELECT day FROM activity_days WHERE user_id = 'user-0')",
        "DELETE FROM streak_freeze_days WHERE user_id = 'user-9'",
        "UPDATE unlocked_titles SET unlocked_at = unlocked_at - interval '1 day' \
         WHERE user_id = 'user-10'",
    ] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    check("after direct edits").await;

    sqlx::query(
        "TRUNCATE follows, domain_ratings, activity_days, streak_freeze_days, unlocked_titles",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    check("after truncation").await;
    let buckets: i64 = sqlx::query_scalar("SELECT count(*) FROM domain_rating_buckets")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(buckets, 0);
    conn.close().await.unwrap();
    store.cleanup().await;
}

/// A request body parsed as `mode` does.
fn parsed(body: serde_json::Value, mode: WriteMode) -> iam_domain::UserDetailPatch {
    let options = ParseOptions {
        today: chrono::Utc::now().date_naive(),
        strict: false,
        mode,
    };
    parse_patch(&body, options).unwrap()
}

/// The test's rules on `bio`: `slow` takes 0.3 s to write (so that the updates sent after it
/// queue into one batch), `refused` fails.
async fn bio_rules(url: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(
        "CREATE FUNCTION test_bio_rules() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
             IF NEW.bio = 'slow' THEN PERFORM pg_sleep(0.3); END IF; \
             IF NEW.bio = 'refused' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
             RETURN NEW; \
         END $$",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER test_bio_rules BEFORE UPDATE ON user_details \
         FOR EACH ROW EXECUTE FUNCTION test_bio_rules()",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
}

/// When a batch of updates fails on one row, each update runs alone: the others land and only
/// the failing one reports the failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_failing_row_fails_only_its_own_update() {
    let store = iam_tests::stores::postgres().await;
    let users = iam_tests::contract::six_users(&store).await;
    bio_rules(&store.url).await;
    iam_tests::contract::one_failing_row_fails_only_its_own_update(&store, users, "slow", async {})
        .await;
    store.cleanup().await;
}

/// A create that meets existing details (409) keeps its connection: the pool reuses it instead
/// of opening another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_create_keeps_its_connection() {
    use iam_ports::{RepoInsertError, UserDetailsRepository};
    let test_store = iam_tests::stores::postgres().await;
    let settings = iam_postgres::PoolSettings {
        max_connections: 4,
        ..iam_postgres::PoolSettings::default()
    };
    let store = iam_postgres::PgStore::connect_lazy(&test_store.url, &settings).unwrap();
    let detail = iam_domain::UserDetail::new(
        iam_domain::UserId::parse("dup").unwrap(),
        iam_domain::Version::new(1),
        iam_domain::values::UserType::parse("d").unwrap(),
    );
    store.insert(&detail).await.unwrap();
    assert_eq!((store.pool().size(), store.pool().num_idle()), (1, 1));
    for _ in 0..3 {
        let again = store.insert(&detail).await;
        assert!(
            matches!(again, Err(RepoInsertError::AlreadyExists)),
            "{again:?}"
        );
        assert_eq!((store.pool().size(), store.pool().num_idle()), (1, 1));
    }
    // The kept connection is sound: its next transaction works.
    store.delete(&detail.user_id, None).await.unwrap();
    store.insert(&detail).await.unwrap();
    test_store.cleanup().await;
}

/// Updates of different fields of different users share one batch statement (a column mask):
/// each row gets exactly the fields its own update wrote, and every other field keeps its stored
/// value, whatever the other rows of the batch wrote. A trigger makes the first update slow, so
/// that the others queue into one batch behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_of_different_fields_writes_each_row_only_its_own() {
    use iam_tests::contract::{mixed_field_updates_write_each_row_only_its_own, mixed_field_users};

    let store = iam_tests::stores::postgres().await;
    let users = mixed_field_users(&store, "slow").await;
    bio_rules(&store.url).await;
    mixed_field_updates_write_each_row_only_its_own(&store, users, async {}).await;
    assert_eq!(
        cache_misses(&store.url).await,
        0,
        "list_entries = the links"
    );
    store.cleanup().await;
}

/// How many rows' cached list entries differ from what their link tables say (the batch writes
/// both from the same resolved entries; this holds the two to each other).
async fn cache_misses(url: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM user_details WHERE list_entries <> user_list_entries(user_id)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    count
}

/// An update whose new catalogue name another transaction adds after the update's statement took
/// its snapshot (the statement waits for that transaction, then cannot see its row): the update
/// runs once more and lands with that entry, in the row's links and in its cached entries alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_name_added_meanwhile_by_another_transaction_is_resolved() {
    use iam_domain::JsonMode;
    use sqlx::{Connection, Executor};
    use std::time::Duration;

    let store = iam_tests::stores::postgres().await;
    let create = parsed(
        serde_json::json!({"user_type": "d", "skills": ["Rust"]}),
        WriteMode::Create,
    );
    let id = iam_domain::UserId::parse("u").unwrap();
    let current =
        iam_domain::UserDetail::create(id, iam_domain::Version::new(1), &create, JsonMode::Replace)
            .unwrap();
    store.repository.insert(&current).await.unwrap();
    let mut other = sqlx::PgConnection::connect(&store.url).await.unwrap();
    other.execute("BEGIN").await.unwrap();
    let added: i64 = sqlx::query_scalar(
        "INSERT INTO developer_skills (name, name_key) VALUES ('Meanwhile', 'meanwhile') RETURNING id",
    )
    .fetch_one(&mut other)
    .await
    .unwrap();
    let patch = parsed(
        serde_json::json!({"skills": ["Rust", "meanwhile"]}),
        WriteMode::Partial,
    );
    let applied = current.apply(&patch, JsonMode::Replace).unwrap();
    let repository = store.repository.clone();
    let update = tokio::spawn(async move {
        repository
            .update(&applied.detail, &applied.changed, Some(current.version))
            .await
    });
    // The update's statement now waits on the uncommitted name; commit it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    other.execute("COMMIT").await.unwrap();
    other.close().await.unwrap();
    let profile = update.await.unwrap().expect("the update lands");
    let skills: Vec<(i64, &str)> = profile
        .skills
        .iter()
        .map(|e| (e.id, e.name.as_str()))
        .collect();
    assert_eq!(skills[1], (added, "Meanwhile"), "{skills:?}");
    assert_eq!(profile.detail.version.get(), 2);
    assert_eq!(
        cache_misses(&store.url).await,
        0,
        "list_entries = the links"
    );
    store.cleanup().await;
}

/// A batch locks its rows in user id order before it updates them, so two batches (of two
/// processes) can never lock two users in opposite orders and deadlock. Here the batch of `a`
/// and `b` (in that id order, though `b` was stored first) waits for `b`, held by another
/// transaction: `a` must already be locked by then. `c` and `d`, held too, keep both update
/// lanes busy while `a` and `b` queue into one batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_locks_its_rows_in_user_id_order() {
    use iam_domain::JsonMode;
    use sqlx::{Connection, Executor};
    use std::time::Duration;

    let store = iam_tests::stores::postgres().await;
    let mut currents = Vec::new();
    for user in ["b", "a", "d", "c"] {
        let patch = parsed(serde_json::json!({"user_type": "d"}), WriteMode::Create);
        let id = iam_domain::UserId::parse(user).unwrap();
        let detail = iam_domain::UserDetail::create(
            id,
            iam_domain::Version::new(1),
            &patch,
            JsonMode::Replace,
        )
        .unwrap();
        store.repository.insert(&detail).await.unwrap();
        currents.push(detail);
    }
    let lock = |user: &'static str| {
        let url = store.url.clone();
        async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            conn.execute("BEGIN").await.unwrap();
            sqlx::query("SELECT 1 FROM user_details WHERE user_id = $1 FOR UPDATE")
                .bind(user)
                .execute(&mut conn)
                .await
                .unwrap();
            conn
        }
    };
    let mut holds_c = lock("c").await;
    let mut holds_d = lock("d").await;
    let mut holds_b = lock("b").await;
    let mut tasks = Vec::new();
    for current in currents.into_iter().rev() {
        let patch = parsed(serde_json::json!({"bio": "locked"}), WriteMode::Partial);
        let applied = current.apply(&patch, JsonMode::Replace).unwrap();
        let repository = store.repository.clone();
        tasks.push(tokio::spawn(async move {
            repository
                .update(&applied.detail, &applied.changed, None)
                .await
        }));
        // `c` and `d` first: each holds a lane, waiting for its lock, while `a` and `b` queue
        // behind them.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    holds_c.execute("COMMIT").await.unwrap();
    let mut probe = sqlx::PgConnection::connect(&store.url).await.unwrap();
    // Wait until the batch of `a` and `b` waits for `b`'s lock, beside the batch of `d`.
    let mut waiting = false;
    for _ in 0..100 {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
        .fetch_one(&mut probe)
        .await
        .unwrap();
        if count > 1 {
            waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(waiting, "the batch of a and b waits for b");
    let a_free = probe
        .execute("SELECT 1 FROM user_details WHERE user_id = 'a' FOR UPDATE NOWAIT")
        .await;
    holds_b.execute("COMMIT").await.unwrap();
    holds_d.execute("COMMIT").await.unwrap();
    assert!(
        a_free.is_err(),
        "the batch locked a (the lower id) before it waited for b"
    );
    for task in tasks {
        let profile = task.await.unwrap().unwrap();
        assert_eq!(profile.detail.bio.unwrap().as_str(), "locked");
    }
    store.cleanup().await;
}
