//! What the black-box tests of the binary share: starting `iam-server` processes and talking to
//! them over plain HTTP/1.1, one connection per request.

#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iam_domain::UserId;
use secrecy::SecretString;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_iam-server");

/// A running server, killed when dropped (a failing assertion leaves no process behind). Its log
/// (standard output after the banner) is kept and printed when it is dropped by a failing test.
pub struct Server {
    pub child: Child,
    pub address: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!("--- log of the server at {} ---", self.address);
            for line in log.iter() {
                eprintln!("{line}");
            }
        }
    }
}

/// Starts `iam-server` in `dir` on the database at `url` with the HS256 `secret` and `env`, and
/// waits for its banner. The child is waited for by [`Server`]'s drop, or here when it prints no
/// banner.
#[allow(clippy::zombie_processes)] // the lint does not see the wait in `Server::drop`
pub fn serve(dir: &Path, url: &str, secret: &str, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(BIN)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IAM_DATABASE_URL", url)
        .env("IAM_JWT_SECRET", secret)
        .env("IAM_BIND", "127.0.0.1:0")
        .env("IAM_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("iam-user-details listening on http://") {
            let address = rest.split_whitespace().next().unwrap().to_owned();
            let log = Arc::new(Mutex::new(Vec::new()));
            let kept = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
            return Server {
                child,
                address,
                log,
            };
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server printed no address");
}

/// A fresh folder, a secret, and a token per user named `{prefix}-{i}`.
pub fn setup(prefix: &str, users: usize) -> (std::path::PathBuf, String, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("iam-{prefix}-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = format!("fault-test-secret-{:032x}", rand::random::<u128>());
    let tokens = (0..users)
        .map(|u| {
            let user = UserId::parse(format!("{prefix}-{u}")).unwrap();
            let key = SecretString::from(secret.clone());
            iam_jwt::issue_hs256(&key, &user, Duration::from_secs(3600), None, None).unwrap()
        })
        .collect();
    (dir, secret, tokens)
}

/// An answer: status, headers (names in lower case) and the JSON body (`Null` when none).
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

/// One request on its own connection, or `None` when the connection failed (the server is gone).
/// The path is the user route's: the create route for `POST`, `/me/` for the other methods.
pub fn request(
    address: &str,
    token: &str,
    method: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> Option<Answer> {
    let path = if method == "POST" {
        "/api/v1/iam/iamuserdetails/"
    } else {
        "/api/v1/iam/iamuserdetails/me/"
    };
    request_to(address, token, method, path, body, extra)
}

/// [`request`] to any path.
pub fn request_to(
    address: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> Option<Answer> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut headers: String = extra.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    if !extra
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push_str("Content-Type: application/json\r\n");
    }
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n{headers}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.get(9..12)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// [`request`] without extra headers: the status and body.
pub fn call(
    address: &str,
    token: &str,
    method: &str,
    body: Option<&Value>,
) -> Option<(u16, Value)> {
    request(address, token, method, body, &[]).map(|a| (a.status, a.body))
}
