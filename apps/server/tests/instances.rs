//! Three `iam-server` processes on one database, on PostgreSQL and on SQLite, black-box over HTTP:
//! - concurrent PATCHes of different fields of the same users, spread across the processes (JSON
//!   Merge Patches of one document among them), lose no update;
//! - new catalogue names, sent at once by several users to two lists through several processes,
//!   each get one catalogue entry;
//! - read-modify-write loops with `If-Match` across the processes: every stale `If-Match` is a
//!   412, so a counter ends at exactly the number of increments answered 200;
//! - follows and unfollows of every pair of users, toggled through the three processes at once,
//!   then the same follow (and unfollow) sent by three clients at once: every count and every
//!   `is_following` is exactly what the last answered request of each pair left.

mod common;

use std::path::Path;
use std::process::Command;
use std::thread;

use common::{call, request, request_to, serve, setup, Server, BIN};
use serde_json::{json, Value};

const USERS: usize = 4;
const WRITES: u64 = 12;
const COUNTER_WORKERS: usize = 6;
const INCREMENTS: u64 = 5;

fn migrate(dir: &Path, url: &str) {
    let status = Command::new(BIN)
        .arg("migrate")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IAM_DATABASE_URL", url)
        .env("IAM_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success(), "iam-server migrate");
}

/// A PATCH that must be answered 200.
fn patch(server: &str, token: &str, body: &Value, merge: bool) {
    let media = if merge {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let answer = request(
        server,
        token,
        "PATCH",
        Some(body),
        &[("Content-Type", media)],
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{body}: {}", answer.body);
}

const TOGGLES: usize = 6;

/// A follow (`POST`) or unfollow (`DELETE`) of `followee` that must be answered 204.
fn follow(server: &str, token: &str, method: &str, followee: &str) {
    let path = format!("/api/v1/iam/iamuserdetails/{followee}/follow/");
    let answer = request_to(server, token, method, &path, None, &[]).unwrap();
    assert_eq!(answer.status, 204, "{method} {path}: {}", answer.body);
}

/// Every user's follower and following counts, and who they see themselves following, against
/// `follows[a][b]` (a follows b).
fn check_follows(addresses: &[String], ids: &[String], tokens: &[String], follows: &[Vec<bool>]) {
    let n = ids.len();
    for (u, token) in tokens.iter().enumerate() {
        let (status, d) = call(&addresses[u % 3], token, "GET", None).unwrap();
        assert_eq!(status, 200);
        let followers = (0..n).filter(|a| follows[*a][u]).count();
        let following = (0..n).filter(|b| follows[u][*b]).count();
        assert_eq!(d["followers_count"], followers, "user {u}");
        assert_eq!(d["following_count"], following, "user {u}");
        for (v, id) in ids.iter().enumerate().filter(|(v, _)| *v != u) {
            let path = format!("/api/v1/iam/iamuserdetails/{id}/");
            let seen = request_to(&addresses[v % 3], token, "GET", &path, None, &[]).unwrap();
            assert_eq!(seen.status, 200);
            assert_eq!(seen.body["is_following"], follows[u][v], "{u} -> {v}");
            assert_eq!(seen.body["is_followed_back"], follows[v][u], "{v} -> {u}");
        }
    }
}

/// Follows across the processes; see the module's docs. Returns the summary.
fn follows_across_instances(addresses: &[String], ids: &[String], tokens: &[String]) -> String {
    let n = ids.len();
    // Each ordered pair toggles through the processes in turn; its last request decides.
    let finals: Vec<Vec<bool>> = thread::scope(|scope| {
        let pairs: Vec<_> = (0..n)
            .flat_map(|a| (0..n).map(move |b| (a, b)))
            .filter(|(a, b)| a != b)
            .map(|(a, b)| {
                let (addresses, ids, tokens) = (addresses, ids, tokens);
                scope.spawn(move || {
                    let steps = TOGGLES - (a + b) % 2;
                    for k in 0..steps {
                        let method = if k % 2 == 0 { "POST" } else { "DELETE" };
                        follow(&addresses[(a + b + k) % 3], &tokens[a], method, &ids[b]);
                    }
                    ((a, b), steps % 2 == 1)
                })
            })
            .collect();
        let mut finals = vec![vec![false; n]; n];
        for pair in pairs {
            let ((a, b), following) = pair.join().unwrap();
            finals[a][b] = following;
        }
        finals
    });
    check_follows(addresses, ids, tokens, &finals);
    // The same follow, then the same unfollow, by three clients at once through each process.
    for (method, following) in [("POST", true), ("DELETE", false)] {
        thread::scope(|scope| {
            for (a, token) in tokens.iter().enumerate() {
                for id in ids
                    .iter()
                    .enumerate()
                    .filter(|(b, _)| *b != a)
                    .map(|(_, id)| id)
                {
                    for server in addresses {
                        scope.spawn(move || follow(server, token, method, id));
                    }
                }
            }
        });
        let all = vec![vec![following; n]; n];
        let all: Vec<Vec<bool>> = all
            .into_iter()
            .enumerate()
            .map(|(a, row)| {
                row.into_iter()
                    .enumerate()
                    .map(|(b, f)| f && a != b)
                    .collect()
            })
            .collect();
        check_follows(addresses, ids, tokens, &all);
    }
    format!(
        "{} follow toggles and {} duplicate follows and unfollows through 3 processes, counts exact",
        n * (n - 1) * TOGGLES - n * (n - 1) / 2,
        2 * 3 * n * (n - 1)
    )
}

fn three_instances(
    url: &str,
    dir: &Path,
    secret: &str,
    ids: &[String],
    tokens: &[String],
) -> String {
    migrate(dir, url);
    let env = [("IAM_MIGRATE_ON_START", "false"), ("IAM_POOL_SIZE", "6")];
    let servers: Vec<Server> = (0..3).map(|_| serve(dir, url, secret, &env)).collect();
    let addresses: Vec<String> = servers.iter().map(|s| s.address.clone()).collect();
    for (u, token) in tokens.iter().enumerate() {
        let (status, body) = call(
            &addresses[u % 3],
            token,
            "POST",
            Some(&json!({"user_type": "developer", "company_info": {}})),
        )
        .unwrap();
        assert_eq!(status, 201, "{body}");
    }

    // Different fields of each user, each written by its own client through its own process.
    type Write = fn(usize, u64) -> (Value, bool);
    let writers: [Write; 8] = [
        |_, k| (json!({"bio": format!("bio {k}")}), false),
        |_, k| (json!({"country": format!("C{k}")}), false),
        |u, k| {
            (
                json!({"github_url": format!("https://github.com/u{u}/{k}")}),
                false,
            )
        },
        |_, k| (json!({"skills": [format!("shared {k}"), "Rust"]}), false),
        |_, k| {
            (
                json!({"technical_interests": [format!("shared {k}")]}),
                false,
            )
        },
        |_, k| (json!({"company_info": {"s0": k}}), true),
        |_, k| (json!({"company_info": {"s1": k}}), true),
        |_, k| (json!({"company_info": {"s2": k}}), true),
    ];
    thread::scope(|scope| {
        for (u, token) in tokens.iter().enumerate() {
            for (w, write) in writers.iter().enumerate() {
                let server = &addresses[(u + w) % 3];
                scope.spawn(move || {
                    for k in 1..=WRITES {
                        let (body, merge) = write(u, k);
                        patch(server, token, &body, merge);
                    }
                });
            }
        }
    });
    let mut skill_ids = Vec::new();
    for (u, token) in tokens.iter().enumerate() {
        let (status, d) = call(&addresses[(u + 1) % 3], token, "GET", None).unwrap();
        assert_eq!(status, 200);
        let last = WRITES;
        assert_eq!(d["bio"], format!("bio {last}"), "user {u}");
        assert_eq!(d["country"], format!("C{last}"), "user {u}");
        assert_eq!(d["github_url"], format!("https://github.com/u{u}/{last}"));
        assert_eq!(d["skills"], json!([format!("shared {last}"), "Rust"]));
        assert_eq!(d["technical_interests"], json!([format!("shared {last}")]));
        assert_eq!(
            d["company_info"],
            json!({"s0": last, "s1": last, "s2": last}),
            "user {u}: every merge patch kept"
        );
        skill_ids.push(d["skills_data"][0]["id"].clone());
        skill_ids.push(d["technical_interests_data"][0]["id"].clone());
    }
    assert!(
        skill_ids.windows(2).all(|w| w[0] == w[1]),
        "one catalogue entry for a name, across users, lists and processes: {skill_ids:?}"
    );

    // Read-modify-write with If-Match: a counter in one user's document.
    let token = &tokens[0];
    let conflicts: u64 = thread::scope(|scope| {
        let workers: Vec<_> = (0..COUNTER_WORKERS)
            .map(|w| {
                let server = &addresses[w % 3];
                scope.spawn(move || {
                    let (mut done, mut stale) = (0, 0);
                    while done < INCREMENTS {
                        let read = request(server, token, "GET", None, &[]).unwrap();
                        assert_eq!(read.status, 200);
                        let count = read.body["additional_data"]["count"].as_u64().unwrap_or(0);
                        let etag = read.headers["etag"].clone();
                        let body = json!({"additional_data": {"count": count + 1}});
                        let write =
                            request(server, token, "PATCH", Some(&body), &[("If-Match", &etag)])
                                .unwrap();
                        match write.status {
                            200 => done += 1,
                            412 => stale += 1,
                            other => panic!("If-Match write: {other} {}", write.body),
                        }
                    }
                    stale
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let (_, d) = call(&addresses[2], token, "GET", None).unwrap();
    let total = COUNTER_WORKERS as u64 * INCREMENTS;
    assert_eq!(
        d["additional_data"]["count"], total,
        "every increment answered 200 counted once: no stale If-Match was applied"
    );
    let follows = follows_across_instances(&addresses, ids, tokens);
    format!(
        "{} writes of 8 fields by {} clients through 3 processes, 0 lost; {} names each one \
         catalogue entry; If-Match counter {total} = increments answered 200, {conflicts} stale \
         writes refused with 412; {follows}",
        USERS as u64 * 8 * WRITES,
        USERS * 8,
        WRITES
    )
}

/// The user ids [`setup`] made tokens for.
fn ids(prefix: &str) -> Vec<String> {
    (0..USERS).map(|u| format!("{prefix}-{u}")).collect()
}

#[test]
fn three_processes_on_one_sqlite_file_lose_no_update() {
    let (dir, secret, tokens) = setup("three-sqlite", USERS);
    let url = format!("sqlite://{}/iam.db", dir.display());
    let summary = three_instances(&url, &dir, &secret, &ids("three-sqlite"), &tokens);
    eprintln!("three instances, SQLite: {summary}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn three_processes_on_one_postgres_database_lose_no_update() {
    let admin = std::env::var("IAM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let database = format!("iam_three_{:016x}", rand::random::<u64>());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let admin_sql = |sql: String| {
        runtime.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        });
    };
    admin_sql(format!("CREATE DATABASE {database}"));
    let url = match admin.split_once('?') {
        Some((base, query)) => format!("{}/{database}?{query}", base.rsplit_once('/').unwrap().0),
        None => format!("{}/{database}", admin.rsplit_once('/').unwrap().0),
    };
    let (dir, secret, tokens) = setup("three-pg", USERS);
    let summary = three_instances(&url, &dir, &secret, &ids("three-pg"), &tokens);
    eprintln!("three instances, PostgreSQL: {summary}");
    admin_sql(format!("DROP DATABASE {database} WITH (FORCE)"));
    std::fs::remove_dir_all(dir).ok();
}
