//! The binary as an operator meets it: configuration errors, `--help`, `token`, `migrate`, and a
//! graceful stop on SIGTERM and SIGINT.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_iam-server");

/// A fresh folder under the temporary directory, removed with what it holds when dropped.
struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

fn temp_dir() -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "iam-cli-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "IAM_DATABASE_URL",
            format!("sqlite://{}/iam.db", dir.display()),
        );
    cmd
}

#[test]
fn a_bad_setting_stops_the_start_naming_it() {
    let dir = temp_dir();
    let out = command(&dir)
        .env("IAM_BIND", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("IAM_BIND: an address such as 127.0.0.1:8000"),
        "{stderr}"
    );
}

#[test]
fn help_shows_no_secret() {
    let dir = temp_dir();
    let out = command(&dir)
        .env("IAM_JWT_SECRET", "top-secret-value")
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("migrate") && text.contains("token"), "{text}");
    assert!(!text.contains("top-secret-value"));
}

#[test]
fn token_signs_with_the_secret_the_server_made_and_never_makes_one() {
    let dir = temp_dir();
    // Before any server made a secret beside this database, `token` refuses and says where it
    // looked, instead of signing with a secret the server will not have.
    let out = command(&dir)
        .args(["token", "--user", "demo"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no development secret at"), "{stderr}");
    assert!(!dir.join("dev-jwt-secret").exists());

    let (mut child, address, _) = serve_dev(&dir);
    assert!(
        dir.join("dev-jwt-secret").exists(),
        "kept beside the database"
    );
    // From another working directory, with the same (absolute) database URL.
    let elsewhere = temp_dir();
    let out = command(&dir)
        .current_dir(&*elsewhere)
        .args(["token", "--user", "demo", "--ttl", "15m"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let answer = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("http://{address}/api/v1/iam/iamuserdetails/me/"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&answer.stdout), "200");
    child.kill().ok();
    child.wait().ok();

    let out = command(&dir).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = command(&dir)
        .args(["token", "--user", ""])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn a_sqlite_url_whose_folder_is_missing_is_an_error_naming_the_setting() {
    let dir = temp_dir();
    let out = command(&dir)
        .env(
            "IAM_DATABASE_URL",
            format!("sqlite://{}/no/such/folder/iam.db", dir.display()),
        )
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("IAM_DATABASE_URL") && stderr.contains("does not exist"),
        "{stderr}"
    );
    assert!(!dir.join("no").exists());
}

#[test]
fn an_algorithm_and_a_key_of_another_kind_stop_the_start() {
    let dir = temp_dir();
    let key = format!(
        "{}/../../tests/fixtures/rsa-public.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    for (algorithm, extra, says) in [
        (
            "HS256",
            ("IAM_JWT_PUBLIC_KEY_FILE", key.as_str()),
            "IAM_JWT_PUBLIC_KEY_FILE is for",
        ),
        (
            "RS256",
            ("IAM_JWT_SECRET", "s3cret"),
            "IAM_JWT_SECRET is for",
        ),
        (
            "ES256",
            ("IAM_JWT_PUBLIC_KEY_FILE", key.as_str()),
            "IAM_JWT_PUBLIC_KEY_FILE",
        ),
        ("none", ("IAM_JWT_SECRET", "s3cret"), "IAM_JWT_ALGORITHM"),
    ] {
        let out = command(&dir)
            .env("IAM_JWT_ALGORITHM", algorithm)
            .env(extra.0, extra.1)
            .args(["token", "--user", "1"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{algorithm}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{algorithm}: {stderr}");
    }
}

#[test]
fn postgres_without_verification_refuses_to_start() {
    let dir = temp_dir();
    let out = command(&dir)
        .env(
            "IAM_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        )
        .env("IAM_MIGRATE_ON_START", "false")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to start on PostgreSQL"));
}

#[test]
fn serve_prints_a_working_curl_line_and_stops_gracefully_on_sigterm() {
    let dir = temp_dir();
    let mut child = command(&dir)
        .env("IAM_BIND", "127.0.0.1:0")
        .env("IAM_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut curl = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.trim_start().starts_with("curl ") {
            curl = Some(line);
            break;
        }
    }
    let curl = curl.expect("a curl line is printed");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{curl} -w ' %{{http_code}}'"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with(" 200"), "{text}");
    assert!(text.contains("\"user_type\":\"developer\""), "{text}");

    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit: {status:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "stopped within the grace period"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `serve` in development mode; returns the child (which the caller waits for), its
/// address and the demo token.
#[allow(clippy::zombie_processes)]
fn serve_dev(dir: &std::path::Path) -> (std::process::Child, String, String) {
    let mut child = command(dir)
        .env("IAM_BIND", "127.0.0.1:0")
        .env("IAM_LOG", "warn")
        .env("IAM_SHUTDOWN_GRACE", "20s")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line
            .trim_start()
            .strip_prefix("curl -s -H 'Authorization: Bearer ")
        {
            let (token, url) = rest.split_once("' ").unwrap();
            let address = url
                .trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap()
                .to_owned();
            return (child, address, token.to_owned());
        }
    }
    panic!("no curl line printed");
}

#[test]
fn sigint_and_sigterm_let_requests_in_flight_finish_then_exit_cleanly() {
    use std::io::{Read, Write};
    for signal in ["-INT", "-TERM"] {
        let dir = temp_dir();
        let (mut child, address, token) = serve_dev(&dir);
        // A PATCH whose body is half sent when the signal comes.
        let body = r#"{"bio": "written during the stop"}"#;
        let (first, rest) = body.split_at(10);
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "PATCH /api/v1/iam/iamuserdetails/me/ HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
            body.len()
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{signal}: still draining"
        );
        stream.write_all(rest.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{signal}: {answer}");
        assert!(
            answer.contains("written during the stop"),
            "{signal}: {answer}"
        );
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "{signal}: clean exit: {status:?}");
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{signal}: stopped within the grace period"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `facts` records and removes what the internal API does, on the configured store, and prints
/// the figures the domain's rules give; a refused value names its option and records nothing.
#[test]
fn facts_commands_record_remove_and_show_the_figures() {
    let dir = temp_dir();
    let facts = |args: &[&str]| {
        let out = command(&dir).arg("facts").args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stdout, stderr)
    };
    let figures = |stdout: &str| serde_json::from_str::<serde_json::Value>(stdout).unwrap();
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let (ok, out, err) = facts(&[
        "rating", "--user", "7", "--domain", "nlp", "--set", "1512.5",
    ]);
    assert!(ok, "{err}");
    assert_eq!(figures(&out)["top_domain_elo"], 1512.5);
    facts(&["rating", "--user", "8", "--domain", "nlp", "--set", "1600"]);
    for day in [today, yesterday] {
        let day = day.to_string();
        assert!(facts(&["activity", "--user", "7", "--day", &day]).0);
    }
    let at = "2026-01-01T00:00:00Z";
    assert!(
        facts(&[
            "title",
            "--user",
            "7",
            "--title",
            "Grand Master",
            "--at",
            at
        ])
        .0
    );
    let (ok, out, _) = facts(&["show", "--user", "7"]);
    assert!(ok);
    let shown = figures(&out);
    assert_eq!(shown["top_domain_rank"], 2);
    assert_eq!(
        (&shown["streak"], &shown["title"]),
        (&"2".into(), &"Grand Master".into())
    );

    let (ok, _, err) = facts(&["title", "--user", "7", "--title", "a,b"]);
    assert!(!ok && err.contains("--title: holds a comma"), "{err}");
    let (ok, _, err) = facts(&["freeze", "--user", "7", "--day", "2099-01-01"]);
    assert!(!ok && err.contains("--day: later than tomorrow"), "{err}");

    let day = yesterday.to_string();
    assert!(facts(&["activity", "--user", "7", "--day", &day, "--remove"]).0);
    let (ok, out, _) = facts(&["rating", "--user", "8", "--domain", "nlp", "--remove"]);
    assert!(ok);
    assert_eq!(figures(&out)["top_domain_elo"], 0.0);
    let shown = figures(&facts(&["show", "--user", "7"]).1);
    assert_eq!(
        (&shown["streak"], &shown["top_domain_rank"]),
        (&"1".into(), &1.into())
    );
    assert_eq!(shown["unlocked_titles"], "Grand Master");
}
