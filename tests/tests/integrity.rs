//! What the service says is what the data is: every accepted document reads back exactly (from a
//! server that shares nothing with the one that wrote it), bad input is a 4xx that loses nothing,
//! and no client holds a connection past the time limits. On SQLite and on PostgreSQL.

use std::time::Duration;

use iam_domain::values::JsonDocument;
use iam_tests::app::{spawn_app_with, TestApp, ME};
use iam_tests::{both_stores, stores};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

both_stores!(
    accepted_documents_read_back_exactly_from_another_server,
    numbers_beyond_a_double_keep_every_digit,
    an_empty_body_changes_nothing,
    a_blank_phone_is_refused_and_null_clears_it,
    time_claims_that_are_not_numbers_are_401,
    a_row_with_unreadable_fields_never_locks_its_owner_out,
);

/// A JSON number as a client might write it: integers beyond 64 bits, decimals beyond a double's
/// precision, exponents of either sign, negative zero.
fn number(rng: &mut StdRng) -> String {
    let digits = |rng: &mut StdRng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.gen_range(0..10)))
            .collect()
    };
    let mut text = String::new();
    if rng.gen_bool(0.3) {
        text.push('-');
    }
    let int_len = rng.gen_range(1..40);
    let int = digits(rng, int_len);
    text.push_str(int.trim_start_matches('0'));
    if text.is_empty() || text == "-" {
        text.push('0');
    }
    if rng.gen_bool(0.5) {
        let frac_len = rng.gen_range(1..40);
        text.push('.');
        text.push_str(&digits(rng, frac_len));
    }
    if rng.gen_bool(0.4) {
        text.push_str(&format!("e{}", rng.gen_range(-330..330)));
    }
    text
}

/// A random document of depth at most `depth`, with odd strings and numbers.
fn document(rng: &mut StdRng, depth: usize) -> Value {
    let choice = if depth == 0 {
        rng.gen_range(0..4)
    } else {
        rng.gen_range(0..6)
    };
    match choice {
        0 => serde_json::from_str(&number(rng)).unwrap(),
        1 => Value::String(
            [
                "",
                "ünïcødé 🦀",
                "quote \" and \\ slash",
                "line\nbreak",
                "\u{7f}\u{1}",
            ][rng.gen_range(0..5)]
            .to_owned(),
        ),
        2 => Value::Bool(rng.gen()),
        3 => Value::Null,
        4 => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| document(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.gen_range(0..4))
                .map(|i| (format!("k{i}"), document(rng, depth - 1)))
                .collect::<Map<_, _>>(),
        ),
    }
}

async fn send(app: &TestApp, method: Method, body: &Value) -> (u16, String, Value) {
    let response = app.json("doc", method, ME, body).send().await.unwrap();
    let status = response.status().as_u16();
    let tag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, tag, response.json().await.unwrap_or(Value::Null))
}

/// Property: whatever PATCH or PUT accepts, the next GET from a server that shares nothing with
/// the writer answers the same representation (and tag), and each document is the domain's form
/// of what was sent.
async fn accepted_documents_read_back_exactly_from_another_server(app: &TestApp) {
    app.create("doc", json!({"user_type": "developer"})).await;
    let reader = app.another_server().await;
    let token = app.token("doc");
    let mut rng = StdRng::seed_from_u64(10);
    let mut accepted = 0;
    for case in 0..40 {
        let (field, sent) = match case % 3 {
            0 => ("additional_data", document(&mut rng, 3)),
            1 => ("company_info", document(&mut rng, 3)),
            _ => ("address", document(&mut rng, 2)),
        };
        let put = case % 4 == 3;
        let body = if put {
            json!({"user_type": "developer", field: sent})
        } else {
            json!({ field: sent })
        };
        let method = if put { Method::PUT } else { Method::PATCH };
        let (status, tag, written) = send(app, method, &body).await;
        if status != 200 {
            assert_eq!(status, 400, "case {case}: {body} -> {written}");
            assert!(written.get(field).is_some(), "case {case}: {written}");
            continue;
        }
        accepted += 1;
        let expected = if sent.is_null() {
            Value::Null
        } else {
            JsonDocument::new(sent.clone()).unwrap().into_value()
        };
        assert_eq!(written[field], expected, "case {case}: sent {sent}");
        let read = reqwest::Client::new()
            .get(format!("{}{ME}", reader.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "case {case}");
        let read_tag = read.headers()["etag"].to_str().unwrap().to_owned();
        let read: Value = read.json().await.unwrap();
        assert_eq!(
            read, written,
            "case {case}: the write's answer is what is stored"
        );
        assert_eq!(read_tag, tag, "case {case}");
    }
    assert!(accepted >= 30, "most random documents fit: {accepted}");
    reader.stop().await;
}

async fn numbers_beyond_a_double_keep_every_digit(app: &TestApp) {
    app.create("doc", json!({"user_type": "developer"})).await;
    let body = r#"{"additional_data": {"big": 123456789012345678901234567890,
        "max": 1.7976931348623157e308, "precise": 0.1000000000000000055511151231257827,
        "beyond": 18446744073709551616, "scaled": 1.50e1, "tiny": 5e-324},
        "company_info": [-0, 1E+2, 2.5e-3]}"#;
    let patched = app
        .as_user("doc", Method::PATCH, ME)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let written = patched.text().await.unwrap();
    for kept in [
        r#""big":123456789012345678901234567890"#,
        r#""precise":0.1000000000000000055511151231257827"#,
        r#""beyond":18446744073709551616"#,
        r#""scaled":15.0"#,
        r#""company_info":[0,100,0.0025]"#,
    ] {
        assert!(written.contains(kept), "{kept} in {written}");
    }
    assert!(written.contains(&format!(r#""max":17976931348623157{}"#, "0".repeat(292))));
    // The user is not locked out: every route still works.
    let read = app.as_user("doc", Method::GET, ME).send().await.unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(read.text().await.unwrap(), written);
    let put = app
        .json("doc", Method::PUT, ME, &json!({"user_type": "developer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    // A number whose exact form would not fit a document is refused, and nothing is written.
    let huge = app
        .as_user("doc", Method::PATCH, ME)
        .header("content-type", "application/json")
        .body(r#"{"additional_data": [1e100000], "bio": "not written"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 400);
    let errors: Value = huge.json().await.unwrap();
    assert!(errors.get("additional_data").is_some(), "{errors}");
    let after: Value = app.details("doc").await;
    assert_eq!(after["bio"], Value::Null);
    assert_eq!(
        app.as_user("doc", Method::DELETE, ME)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
}

/// An empty body is `{}`, as DRF reads it (white space alone is malformed: `api.rs`).
async fn an_empty_body_changes_nothing(app: &TestApp) {
    app.create("ws", json!({"user_type": "developer", "bio": "kept"}))
        .await;
    let empty = app
        .as_user("ws", Method::PATCH, ME)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 200);
    let body: Value = empty.json().await.unwrap();
    assert_eq!(body["bio"], "kept");
}

async fn a_blank_phone_is_refused_and_null_clears_it(app: &TestApp) {
    app.create(
        "ph",
        json!({"user_type": "developer", "phone": "+1 555 0100"}),
    )
    .await;
    for blank in ["", "   "] {
        let response = app
            .json("ph", Method::PATCH, ME, &json!({"phone": blank}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"phone": ["This field may not be blank."]}));
    }
    let kept: Value = app.details("ph").await;
    assert_eq!(kept["phone"], "+1 555 0100");
    let cleared: Value = app
        .json("ph", Method::PATCH, ME, &json!({"phone": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["phone"], Value::Null);
}

async fn time_claims_that_are_not_numbers_are_401(app: &TestApp) {
    use jsonwebtoken::{encode, EncodingKey, Header};
    let now = chrono::Utc::now().timestamp();
    for claims in [
        json!({"user_id": "t", "exp": now + 600, "nbf": (now + 3600).to_string()}),
        json!({"user_id": "t", "exp": (now + 600).to_string()}),
        json!({"user_id": "t", "exp": now + 600, "iat": "now"}),
    ] {
        let token = encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(iam_tests::app::SECRET.as_bytes()),
        )
        .unwrap();
        let response = app
            .request(Method::GET, ME)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{claims}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "token_not_valid");
    }
}

/// Runs `sql` on the app's database directly, as something other than the service would.
async fn run_sql(app: &TestApp, sql: &str) {
    app.store.execute(sql).await;
}

/// Stored values that break the rules (written around the service) make reads of that user 500
/// with the user and column in the log, but never lock them out: a PUT replaces what cannot be
/// read, a PATCH that sends those fields does, and DELETE works.
async fn a_row_with_unreadable_fields_never_locks_its_owner_out(app: &TestApp) {
    app.create(
        "broken",
        json!({"user_type": "developer", "bio": "kept", "country": "PK"}),
    )
    .await;
    let corrupt = "UPDATE user_details SET github_url = 'not a url', phone = 'call me' \
                   WHERE user_id = 'broken'";
    run_sql(app, corrupt).await;
    let status = |response: reqwest::Response| response.status().as_u16();
    let get = || app.as_user("broken", Method::GET, ME).send();
    assert_eq!(status(get().await.unwrap()), 500);
    // A PATCH that leaves an unreadable field alone would keep the row unreadable: refused,
    // and nothing of it is written (the bio below is still the one created).
    let patch = |body: Value| app.json("broken", Method::PATCH, ME, &body).send();
    assert_eq!(
        status(
            patch(json!({"github_url": null, "bio": "lost"}))
                .await
                .unwrap()
        ),
        500
    );
    // One that sends both replaces them and keeps the rest.
    let fixed = patch(json!({"github_url": "https://github.com/b", "phone": null}))
        .await
        .unwrap();
    assert_eq!(fixed.status(), 200);
    let fixed: Value = fixed.json().await.unwrap();
    assert_eq!(fixed["github_url"], "https://github.com/b");
    assert_eq!(fixed["bio"], "kept");
    assert_eq!(status(get().await.unwrap()), 200);
    // A PUT replaces them whatever it sends: what it does not send becomes unset.
    run_sql(app, corrupt).await;
    let put = app
        .json(
            "broken",
            Method::PUT,
            ME,
            &json!({"user_type": "developer", "country": "FR"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let put: Value = put.json().await.unwrap();
    assert_eq!(put["github_url"], Value::Null);
    assert_eq!(put["phone"], Value::Null);
    assert_eq!(
        (put["bio"].clone(), put["country"].clone()),
        (json!("kept"), json!("FR"))
    );
    let read: Value = app.details("broken").await;
    assert_eq!(read, put);
    // DELETE reads nothing.
    run_sql(app, corrupt).await;
    assert_eq!(
        status(
            app.as_user("broken", Method::DELETE, ME)
                .send()
                .await
                .unwrap()
        ),
        204
    );
    assert_eq!(status(get().await.unwrap()), 404);
}

/// Sends `head` (and `body`) on a raw connection, then waits for the answer and the close.
/// Returns the status line's code and the whole answer, or `None` if nothing came in `wait`.
async fn raw(address: &str, head: String, wait: Duration) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // Read until the close; a reset after the answer (the server closed with input unread)
    // still leaves the answer.
    let mut answer = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut chunk).await {
            answer.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(wait, read).await.ok()?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

fn patch_head(token: &str, length: usize) -> String {
    format!(
        "PATCH {ME} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// A client that stops sending its body, or sends it a byte at a time, gets 408 and its
/// connection closed once the client timeout (silence) or the request timeout (total) passes,
/// while others are served; nothing of the slow body is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_and_heads_get_408_and_are_closed_while_others_are_served() {
    for store in [stores::sqlite().await, stores::postgres().await] {
        let app = spawn_app_with(
            store,
            &[("IAM_CLIENT_TIMEOUT", "1s"), ("IAM_REQUEST_TIMEOUT", "3s")],
        )
        .await;
        app.create("slow", json!({"user_type": "developer", "bio": "before"}))
            .await;
        let token = app.token("slow");
        let address = app.address.clone();

        // Silent after the head and one byte: the silence limit answers.
        let stalled = tokio::spawn({
            let (address, head) = (address.clone(), patch_head(&token, 1000) + "{");
            async move { raw(&address, head, Duration::from_secs(20)).await }
        });
        // Dripping a byte every 400 ms: never silent for long, but the whole-request limit
        // answers.
        let dripping = tokio::spawn({
            let (address, head) = (address.clone(), patch_head(&token, 1000));
            async move {
                let mut stream = TcpStream::connect(address.trim_start_matches("http://"))
                    .await
                    .unwrap();
                stream.write_all(head.as_bytes()).await.unwrap();
                let started = std::time::Instant::now();
                let mut answer = Vec::new();
                for _ in 0..50 {
                    if stream.write_all(b" ").await.is_err() {
                        break;
                    }
                    let mut chunk = [0u8; 4096];
                    match tokio::time::timeout(Duration::from_millis(400), stream.read(&mut chunk))
                        .await
                    {
                        Ok(Ok(0)) | Ok(Err(_)) => break,
                        Ok(Ok(n)) => answer.extend_from_slice(&chunk[..n]),
                        Err(_) => {}
                    }
                }
                (
                    String::from_utf8_lossy(&answer).into_owned(),
                    started.elapsed(),
                )
            }
        });
        // A head that never ends: the server's head limit answers.
        let slow_head = tokio::spawn({
            let address = address.clone();
            async move {
                raw(
                    &address,
                    format!("GET {ME} HTTP/1.1\r\nHost: test\r\n"),
                    Duration::from_secs(20),
                )
                .await
            }
        });
        // Meanwhile the service answers others.
        for _ in 0..5 {
            let ok = app.as_user("slow", Method::GET, ME).send().await.unwrap();
            assert_eq!(ok.status(), 200);
        }

        let (status, answer) = stalled.await.unwrap().expect("an answer and a close");
        assert_eq!(status, 408, "{answer}");
        assert!(
            answer.contains(r#"{"detail":"The request body was not received in time."}"#),
            "{answer}"
        );
        let (answer, took) = dripping.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(
            took < Duration::from_secs(10),
            "answered by the deadline: {took:?}"
        );
        let (status, answer) = slow_head.await.unwrap().expect("an answer and a close");
        assert_eq!(status, 408);
        assert!(
            answer.to_ascii_lowercase().contains("\r\nx-request-id: "),
            "{answer}"
        );
        assert!(
            answer.ends_with(r#"{"detail":"The request head was not received in time."}"#),
            "{answer}"
        );

        let after: Value = app.details("slow").await;
        assert_eq!(after["bio"], "before");
        app.cleanup().await;
    }
}

/// Requests the HTTP layer rejects before any handler (a bad request line, a head too large)
/// get a 4xx in the contract's shape with an `X-Request-Id` and a closed connection, and the
/// service goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_rejected_by_the_http_layer_do_not_stop_the_service() {
    let app = iam_tests::app::spawn_app(stores::sqlite().await).await;
    let wait = Duration::from_secs(10);
    let (status, answer) = raw(&app.address, "NOT HTTP AT ALL\r\n\r\n".into(), wait)
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert!(
        answer.ends_with(r#"{"detail":"Malformed request."}"#),
        "{answer}"
    );
    assert!(answer.contains("\r\nx-request-id: "), "{answer}");
    assert!(
        answer.contains("\r\ncontent-type: application/json\r\n"),
        "{answer}"
    );
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "a".repeat(256 * 1024)
    );
    let (status, answer) = raw(&app.address, huge, wait).await.unwrap();
    assert_eq!(status, 431);
    assert!(
        answer.ends_with(r#"{"detail":"Request header fields too large."}"#),
        "{answer}"
    );
    let ok = app.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    app.cleanup().await;
}
