//! A PostgreSQL outage under load, black-box over HTTP: writers and readers run while the test's
//! own PostgreSQL cluster is stopped and started again. Only 200 and 503 (with `Retry-After`) are
//! answered, no request waits past the request timeout, the same process serves again within
//! seconds of the database's return, and afterwards every write answered 200 is there and none
//! is there in part (each PATCH sets bio and skills together; both must come from one request).
//!
//! The cluster is the test's own (`scripts/pg-private.sh`, in a temporary folder, stopped and
//! removed at the end), so the test never stops a server it was not given.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use iam_domain::UserId;
use iam_tests::app::{serve_url, SECRET};
use reqwest::{Client, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

const USERS: usize = 6;
const READERS: usize = 3;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// The test's own PostgreSQL cluster.
struct Cluster {
    url: String,
    ctl: String,
    options: String,
    dir: String,
}

impl Cluster {
    fn start() -> Cluster {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-private.sh");
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -e; source '{script}'; pg_private_start fast >&2; \
                 printf '%s\\n' \"$IAM_TEST_DATABASE_URL\" \"$PG_PRIVATE_CTL\" \"$PG_PRIVATE_OPTIONS\" \"$PG_PRIVATE_DIR\""
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "a private cluster: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines().map(str::to_owned);
        let mut next = || lines.next().unwrap();
        Cluster {
            url: next(),
            ctl: next(),
            options: next(),
            dir: next(),
        }
    }

    fn ctl(&self, args: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("{} {args} >/dev/null", self.ctl))
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {args}");
    }

    fn stop(&self) {
        self.ctl("-m fast -w stop");
    }

    fn start_again(&self) {
        self.ctl(&format!("-w -t 60 -o '{}' start", self.options));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("{} -m immediate stop >/dev/null 2>&1", self.ctl))
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn token(user: &str) -> String {
    let user = UserId::parse(user).unwrap();
    let secret = SecretString::from(SECRET.to_owned());
    iam_jwt::issue_hs256(&secret, &user, Duration::from_secs(3600), None, None).unwrap()
}

fn write_n(u: usize, n: u64) -> Value {
    json!({"bio": format!("u{u} write {n}"), "skills": [format!("skill {n}"), "Rust"]})
}

/// The write a representation holds; bio and skills must come from the same one.
fn stored_n(u: usize, details: &Value) -> u64 {
    let bio = details["bio"].as_str().unwrap();
    let n = bio
        .strip_prefix(&format!("u{u} write "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        details["skills"],
        json!([format!("skill {n}"), "Rust"]),
        "user {u}: bio and skills of one write"
    );
    n
}

/// What the load saw.
#[derive(Default)]
struct Seen {
    ok: AtomicU64,
    unavailable: AtomicU64,
    slowest_ms: AtomicU64,
}

impl Seen {
    /// Checks one answer: 200, or 503 with `Retry-After`, within the timeout.
    fn check(&self, status: StatusCode, retry_after: bool, took: Duration, what: &str) {
        match status.as_u16() {
            200 => self.ok.fetch_add(1, Ordering::Relaxed),
            503 => {
                assert!(retry_after, "{what}: 503 without Retry-After");
                self.unavailable.fetch_add(1, Ordering::Relaxed)
            }
            other => panic!("{what}: status {other}"),
        };
        let ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        self.slowest_ms.fetch_max(ms, Ordering::Relaxed);
        assert!(
            took < REQUEST_TIMEOUT + Duration::from_secs(2),
            "{what}: answered after {took:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_under_load_answers_503_recovers_and_loses_nothing() {
    let cluster = Cluster::start();
    let store = iam_postgres::PgStore::connect_lazy(&cluster.url, &Default::default()).unwrap();
    store.migrate().await.unwrap();
    let server = serve_url(
        &cluster.url,
        &[("IAM_REQUEST_TIMEOUT", "3s"), ("IAM_POOL_SIZE", "8")],
    )
    .await;
    let me = format!("{}/api/v1/iam/iamuserdetails/me/", server.address);
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let tokens: Vec<String> = (0..USERS).map(|u| token(&format!("outage-{u}"))).collect();
    for (u, token) in tokens.iter().enumerate() {
        let mut first = write_n(u, 0);
        first["user_type"] = json!("developer");
        let response = client
            .post(format!("{}/api/v1/iam/iamuserdetails/", server.address))
            .bearer_auth(token)
            .json(&first)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (u, token) in tokens.iter().enumerate() {
        let (client, me, token) = (client.clone(), me.clone(), token.clone());
        let (seen, stop) = (seen.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let (mut n, mut acknowledged) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let started = Instant::now();
                let response = client
                    .patch(&me)
                    .bearer_auth(&token)
                    .json(&write_n(u, n))
                    .send()
                    .await
                    .unwrap();
                let retry = response.headers().contains_key("retry-after");
                seen.check(response.status(), retry, started.elapsed(), "PATCH");
                if response.status() == StatusCode::OK {
                    acknowledged = n;
                } else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            (acknowledged, n)
        }));
    }
    let mut readers = Vec::new();
    for r in 0..READERS {
        let (client, me, token) = (client.clone(), me.clone(), tokens[r % USERS].clone());
        let (seen, stop) = (seen.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let response = client.get(&me).bearer_auth(&token).send().await.unwrap();
                let retry = response.headers().contains_key("retry-after");
                seen.check(response.status(), retry, started.elapsed(), "GET");
                if response.status() != StatusCode::OK {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    let ok_before = seen.ok.load(Ordering::Relaxed);
    // pg_ctl waits for the stop; the load keeps running on the runtime's other threads.
    tokio::task::block_in_place(|| cluster.stop());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let unavailable_during = seen.unavailable.load(Ordering::Relaxed);
    let ok_at_restart = seen.ok.load(Ordering::Relaxed);
    let restarted = Instant::now();
    tokio::task::block_in_place(|| cluster.start_again());
    // The same process serves again, by itself.
    let recovered = loop {
        if seen.ok.load(Ordering::Relaxed) > ok_at_restart {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(15),
            "serving again within seconds of the database's return"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut checked = 0;
    for (u, writer) in writers.into_iter().enumerate() {
        let (acknowledged, sent) = writer.await.unwrap();
        let details: Value = client
            .get(&me)
            .bearer_auth(&tokens[u])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let n = stored_n(u, &details);
        assert!(
            n >= acknowledged && n <= sent,
            "user {u}: stored write {n}, acknowledged {acknowledged}, sent {sent}"
        );
        checked += 1;
    }
    for reader in readers {
        reader.await.unwrap();
    }
    let ok = seen.ok.load(Ordering::Relaxed);
    let unavailable = seen.unavailable.load(Ordering::Relaxed);
    assert!(ok_before > 0, "served before the outage");
    assert!(unavailable_during > 0, "the outage was seen");
    eprintln!(
        "outage: {ok} answered 200 ({ok_before} before the stop), {unavailable} answered 503 with \
         Retry-After, 0 other; slowest answer {} ms (timeout {} ms); serving again {} ms after \
         the database started; {checked} users checked, lost 0, half-applied 0",
        seen.slowest_ms.load(Ordering::Relaxed),
        REQUEST_TIMEOUT.as_millis(),
        recovered.as_millis()
    );
    server.stop().await;
    store.pool().close().await;
    drop(cluster);
}
