//! The binary under faults, on the embedded store, black-box over HTTP:
//! - killed with SIGKILL in the middle of writes and started again on the same file, several
//!   rounds: after each kill the file passes SQLite's `integrity_check`, every write answered 200
//!   is there, and no write is there in part (each PATCH sets a user's bio and skills together,
//!   and both must come from the same request);
//! - stopped with SIGTERM or SIGINT under load: every request answered is a 200, a body half sent
//!   when the signal comes is still read and answered, the process exits 0 within the grace
//!   period, and every write answered 200 is there after a restart.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{call, Server};
use serde_json::{json, Value};

const USERS: usize = 4;
const ROUNDS: usize = 4;

/// Starts the server on the SQLite file in `dir`.
fn serve(dir: &std::path::Path, secret: &str) -> Server {
    serve_with(dir, secret, &[])
}

fn serve_with(dir: &std::path::Path, secret: &str, env: &[(&str, &str)]) -> Server {
    let url = format!("sqlite://{}/iam.db", dir.display());
    common::serve(dir, &url, secret, env)
}

fn setup(prefix: &str) -> (std::path::PathBuf, String, Vec<String>) {
    common::setup(prefix, USERS)
}

/// The PATCH of write `n` of user `u`: bio and skills from the same request.
fn write_n(u: usize, n: u64) -> Value {
    json!({"bio": format!("u{u} write {n}"), "skills": [format!("skill {n}"), "Rust"]})
}

/// The write number a stored representation holds, checking that bio and skills agree.
fn stored_n(u: usize, details: &Value) -> u64 {
    let bio = details["bio"].as_str().unwrap();
    let n: u64 = bio
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

fn integrity_check(dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}/iam.db", dir.display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let result: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        result
    })
}

/// Creates every user's details with write 0.
fn create_all(server: &Server, tokens: &[String]) {
    for (u, token) in tokens.iter().enumerate() {
        let mut first = write_n(u, 0);
        first["user_type"] = json!("developer");
        let (status, _) = call(&server.address, token, "POST", Some(&first)).unwrap();
        assert_eq!(status, 201);
    }
}

/// What one writer did until it was stopped or its server went away.
struct Writes {
    /// The last write answered 200.
    last_ok: Option<u64>,
    /// The last write sent (answered or not).
    last_sent: u64,
    /// Writes answered 200.
    answered: u64,
}

/// One writer thread per user, each sending `write_n` after `start[u]` until `stop` or until its
/// connection fails (the server is gone or its listener closed). Any answer but 200 panics.
fn spawn_writers(
    server: &Server,
    tokens: &[String],
    start: &[u64],
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Writes>> {
    tokens
        .iter()
        .enumerate()
        .map(|(u, token)| {
            let (address, token, stop) = (server.address.clone(), token.clone(), stop.clone());
            let mut writes = Writes {
                last_ok: None,
                last_sent: start[u],
                answered: 0,
            };
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = writes.last_sent + 1;
                    writes.last_sent = n;
                    match call(&address, &token, "PATCH", Some(&write_n(u, n))) {
                        Some((200, _)) => {
                            (writes.last_ok, writes.answered) = (Some(n), writes.answered + 1)
                        }
                        Some((status, body)) => panic!("user {u}, write {n}: {status} {body}"),
                        None => break,
                    }
                }
                writes
            })
        })
        .collect()
}

#[test]
fn sigkill_in_the_middle_of_writes_loses_no_acknowledged_write_and_leaves_the_file_whole() {
    let (dir, secret, tokens) = setup("crash");
    let mut server = serve(&dir, &secret);
    create_all(&server, &tokens);
    // Per user: the last write answered 200, and the last write sent.
    let mut acknowledged = [0u64; USERS];
    let mut sent = [0u64; USERS];
    let mut total_acknowledged = 0;
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let writers = spawn_writers(&server, &tokens, &sent, &stop);
        std::thread::sleep(Duration::from_millis(300 + 150 * round as u64));
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for (u, writer) in writers.into_iter().enumerate() {
            let writes = writer.join().unwrap();
            if let Some(n) = writes.last_ok {
                total_acknowledged += writes.answered;
                acknowledged[u] = n;
            }
            sent[u] = writes.last_sent;
        }
        assert_eq!(
            integrity_check(&dir),
            "ok",
            "round {round}: the file is whole"
        );

        server = serve(&dir, &secret); // the killed one's drop finds it reaped
        for (u, token) in tokens.iter().enumerate() {
            let (status, details) = call(&server.address, token, "GET", None).unwrap();
            assert_eq!(status, 200);
            let n = stored_n(u, &details);
            assert!(
                n >= acknowledged[u] && n <= sent[u],
                "round {round}, user {u}: stored write {n}, acknowledged {}, sent {}",
                acknowledged[u],
                sent[u]
            );
            // What is stored is what the next round builds on.
            acknowledged[u] = n;
            sent[u] = n;
        }
    }
    assert!(
        total_acknowledged > (ROUNDS * USERS) as u64,
        "the rounds wrote something: {total_acknowledged}"
    );
    eprintln!(
        "crash: {ROUNDS} SIGKILL rounds, {USERS} writers, {total_acknowledged} writes answered 200, \
         lost 0, half-applied 0, integrity_check ok"
    );
    drop(server);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn sigterm_and_sigint_under_load_answer_what_they_took_and_lose_nothing() {
    for signal in ["-TERM", "-INT"] {
        let (dir, secret, tokens) = setup("stop");
        let mut server = serve_with(&dir, &secret, &[("IAM_SHUTDOWN_GRACE", "20s")]);
        create_all(&server, &tokens);
        let stop = Arc::new(AtomicBool::new(false));
        let writers = spawn_writers(&server, &tokens, &[0; USERS], &stop);
        // A PATCH whose body is half sent when the signal comes.
        let body = write_n(0, 1_000_000).to_string();
        let (first, rest) = body.split_at(12);
        let mut slow = TcpStream::connect(&server.address).unwrap();
        write!(
            slow,
            "PATCH /api/v1/iam/iamuserdetails/me/ HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
            tokens[0],
            body.len()
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        let signalled = std::time::Instant::now();
        let sent = Command::new("kill")
            .args([signal, &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        let mut acknowledged = [0u64; USERS];
        let mut answered = 0;
        for (u, writer) in writers.into_iter().enumerate() {
            let writes = writer.join().unwrap();
            acknowledged[u] = writes.last_ok.unwrap_or(0);
            answered += writes.answered;
        }
        slow.write_all(rest.as_bytes()).unwrap();
        let mut answer = String::new();
        slow.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{signal}: {answer}");
        let exit = loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                signalled.elapsed() < Duration::from_secs(20),
                "{signal}: stopped within the grace period"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(exit.success(), "{signal}: exit 0, got {exit:?}");
        let drained = signalled.elapsed();

        server = serve(&dir, &secret);
        for (u, token) in tokens.iter().enumerate() {
            let (status, details) = call(&server.address, token, "GET", None).unwrap();
            assert_eq!(status, 200);
            let n = stored_n(u, &details);
            if u == 0 {
                assert_eq!(n, 1_000_000, "{signal}: the half-sent write landed last");
            } else {
                assert_eq!(
                    n, acknowledged[u],
                    "{signal}: user {u}'s last acknowledged write"
                );
            }
        }
        eprintln!(
            "stop {signal}: {answered} writes answered 200 under load, the half-sent one too, \
             exit 0 after {} ms, lost 0",
            drained.as_millis()
        );
        drop(server);
        std::fs::remove_dir_all(dir).ok();
    }
}
