//! Hostile input, end to end on both stores: token attacks, odd heads and bodies, and wrong types
//! in every writable property of the seed's schema. Each is answered with a 4xx in the contract's
//! shape (a JSON object), promptly, and a victim user's stored details stay byte for byte what
//! they were, ETag included.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use iam_tests::app::{TestApp, ME, SECRET};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

iam_tests::both_stores!(
    token_attacks_are_401_and_change_nothing,
    hostile_heads_and_bodies_are_4xx_and_change_nothing,
    wrong_types_in_every_seed_property_are_400_naming_it,
);

/// A change to a token's header.
type HeaderEdit = fn(&mut Header);
/// A change to a token's claims.
type ClaimsEdit = Box<dyn Fn(&mut Map<String, Value>)>;

const VICTIM: &str = "victim";
const ATTACKER: &str = "attacker";

/// The victim's representation as served: ETag and body bytes.
async fn snapshot(app: &TestApp) -> (String, Vec<u8>) {
    let response = app.as_user(VICTIM, Method::GET, ME).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (etag, response.bytes().await.unwrap().to_vec())
}

async fn victim_with_details(app: &TestApp) -> (String, Vec<u8>) {
    app.create(
        VICTIM,
        json!({"user_type": "developer", "bio": "mine", "skills": ["Rust"],
               "additional_data": {"n": 1.50}, "phone": "+1 555 0100"}),
    )
    .await;
    snapshot(app).await
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Claims of a SimpleJWT access token for `user`, lasting ten minutes.
fn claims(user: Value) -> Map<String, Value> {
    let now = now();
    let mut claims = Map::new();
    claims.insert("token_type".into(), json!("access"));
    claims.insert("exp".into(), json!(now + 600));
    claims.insert("iat".into(), json!(now));
    claims.insert("jti".into(), json!("j"));
    claims.insert("user_id".into(), user);
    claims
}

fn signed(header: &Header, claims: &Map<String, Value>, secret: &[u8]) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// Sends `request` with a deadline; the status and the JSON body (which must be an object).
async fn answered(request: reqwest::RequestBuilder, what: &str) -> (u16, Value) {
    let started = Instant::now();
    let response = request
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{what}: answered promptly"
    );
    assert!(body.is_object(), "{what}: a JSON object, got {body}");
    (status, body)
}

async fn token_attacks_are_401_and_change_nothing(app: &TestApp) {
    let before = victim_with_details(app).await;
    let victim = || claims(json!(VICTIM));
    let hs256 = Header::new(Algorithm::HS256);
    let mut tokens: Vec<(&str, String)> = Vec::new();
    // No signature at all.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        let body = b64(&Value::Object(victim()));
        tokens.push(("alg none", format!("{}.{body}.", b64(&header))));
    }
    // Signed with another key, with headers that point at that key.
    tokens.push((
        "another secret",
        signed(&hs256, &victim(), b"not the secret"),
    ));
    let edits: [(&str, HeaderEdit); 5] = [
        ("jku", |h: &mut Header| {
            h.jku = Some("http://127.0.0.1:9/jwks.json".into())
        }),
        ("x5u", |h: &mut Header| {
            h.x5u = Some("http://127.0.0.1:9/cert.pem".into())
        }),
        ("kid path", |h: &mut Header| {
            h.kid = Some("../../../../dev/null".into())
        }),
        ("kid sql", |h: &mut Header| {
            h.kid = Some("' OR '1'='1".into())
        }),
        ("jwk", |h: &mut Header| {
            h.jwk = serde_json::from_value(json!({"kty": "oct", "k": "YXR0YWNrZXI"})).ok()
        }),
    ];
    for (name, edit) in edits {
        let mut header = hs256.clone();
        edit(&mut header);
        tokens.push((name, signed(&header, &victim(), b"attacker")));
    }
    // The real secret, other algorithms (only the configured one verifies).
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        tokens.push((
            "other HMAC",
            signed(&Header::new(alg), &victim(), SECRET.as_bytes()),
        ));
    }
    let rs = URL_SAFE_NO_PAD.encode("sig");
    let rs_header = b64(&json!({"alg": "RS256", "typ": "JWT"}));
    tokens.push((
        "RS256 header",
        format!("{rs_header}.{}.{rs}", b64(&Value::Object(victim()))),
    ));
    // The attacker's own valid token with the victim put in its payload.
    let own = app.token(ATTACKER);
    let parts: Vec<&str> = own.split('.').collect();
    tokens.push((
        "tampered payload",
        format!(
            "{}.{}.{}",
            parts[0],
            b64(&Value::Object(victim())),
            parts[2]
        ),
    ));
    // Odd claims, signed with the real secret.
    let odd: Vec<(&str, ClaimsEdit)> = vec![
        (
            "user id object",
            Box::new(|c| {
                c.insert("user_id".into(), json!({"id": VICTIM}));
            }),
        ),
        (
            "user id array",
            Box::new(|c| {
                c.insert("user_id".into(), json!([VICTIM]));
            }),
        ),
        (
            "user id bool",
            Box::new(|c| {
                c.insert("user_id".into(), json!(true));
            }),
        ),
        (
            "user id float",
            Box::new(|c| {
                c.insert("user_id".into(), json!(1.5));
            }),
        ),
        (
            "user id empty",
            Box::new(|c| {
                c.insert("user_id".into(), json!(""));
            }),
        ),
        (
            "user id huge",
            Box::new(|c| {
                c.insert("user_id".into(), json!("v".repeat(300)));
            }),
        ),
        (
            "user id NUL",
            Box::new(|c| {
                c.insert("user_id".into(), json!("vic\u{0}tim"));
            }),
        ),
        (
            "no user id",
            Box::new(|c| {
                c.remove("user_id");
            }),
        ),
        (
            "exp string",
            Box::new(|c| {
                c.insert("exp".into(), json!((now() + 600).to_string()));
            }),
        ),
        (
            "no exp",
            Box::new(|c| {
                c.remove("exp");
            }),
        ),
        (
            "expired",
            Box::new(|c| {
                c.insert("exp".into(), json!(now() - 3600));
            }),
        ),
        (
            "nbf future",
            Box::new(|c| {
                c.insert("nbf".into(), json!(now() + 3600));
            }),
        ),
        (
            "nbf string",
            Box::new(|c| {
                c.insert("nbf".into(), json!("0"));
            }),
        ),
        (
            "iat future",
            Box::new(|c| {
                c.insert("iat".into(), json!(now() + 3600));
            }),
        ),
        (
            "refresh token",
            Box::new(|c| {
                c.insert("token_type".into(), json!("refresh"));
            }),
        ),
        (
            "token type number",
            Box::new(|c| {
                c.insert("token_type".into(), json!(1));
            }),
        ),
    ];
    for (name, edit) in &odd {
        let mut c = victim();
        edit(&mut c);
        tokens.push((name, signed(&hs256, &c, SECRET.as_bytes())));
    }
    // Not tokens.
    for garbage in ["", "a", "a.b", "a.b.c", "...", "e30.e30.", "Ω.Ω.Ω"] {
        tokens.push(("garbage", garbage.to_owned()));
    }
    let mut refused = 0;
    for (name, token) in &tokens {
        for method in [Method::GET, Method::PATCH, Method::PUT, Method::DELETE] {
            let request = app
                .request(method.clone(), ME)
                .header("Authorization", format!("Bearer {token}"))
                .json(&json!({"bio": "taken over", "user_type": "x"}));
            let (status, body) = answered(request, name).await;
            assert_eq!(status, 401, "{name} {method}: {body}");
            refused += 1;
        }
        let request = app
            .request(Method::PATCH, ME)
            .header("Cookie", format!("access_token={token}"))
            .json(&json!({"bio": "taken over"}));
        let (status, _) = answered(request, name).await;
        assert_eq!(status, 401, "{name} in the cookie");
    }
    // A huge token, signed with another key.
    let huge = signed(
        &hs256,
        &{
            let mut c = victim();
            c.insert("pad".into(), json!("p".repeat(64 * 1024)));
            c
        },
        b"attacker",
    );
    let request = app
        .request(Method::PATCH, ME)
        .header("Authorization", format!("Bearer {huge}"))
        .json(&json!({"bio": "taken over"}));
    let (status, _) = answered(request, "huge token").await;
    assert!(
        matches!(status, 400 | 401 | 413 | 431),
        "huge token: {status}"
    );
    assert_eq!(
        snapshot(app).await,
        before,
        "the victim's details are untouched"
    );
    eprintln!(
        "token attacks: {} kinds, {refused} requests refused with 401, victim unchanged",
        tokens.len()
    );
}

/// One raw HTTP/1.1 exchange: what the server answered (or `None` if it closed without one).
async fn raw(app: &TestApp, bytes: &[u8]) -> Option<(u16, String)> {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The server may answer before it has read everything (a head too large).
    let _ = stream.write_all(bytes).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer));
    let _ = read.await.expect("answered or closed promptly");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12)?.parse().ok()?;
    Some((status, text))
}

async fn hostile_heads_and_bodies_are_4xx_and_change_nothing(app: &TestApp) {
    let before = victim_with_details(app).await;
    app.create(ATTACKER, json!({"user_type": "developer"}))
        .await;
    let token = app.token(ATTACKER);
    let patch = |body: Vec<u8>, media: &str| {
        app.request(Method::PATCH, ME)
            .bearer_auth(&token)
            .header("Content-Type", media)
            .body(body)
    };
    let nested = |depth: usize| format!("{{\"bio\": {}1{}}}", "[".repeat(depth), "]".repeat(depth));
    let bodies: Vec<(&str, Vec<u8>, &str, &[u16])> = vec![
        (
            "over the size limit",
            vec![b' '; 70 * 1024],
            "application/json",
            &[413],
        ),
        (
            "nested past the parser",
            nested(30_000).into_bytes(),
            "application/json",
            &[400],
        ),
        (
            "a document nested too deep",
            format!("{{\"address\": {}1{}}}", "[".repeat(30), "]".repeat(30)).into_bytes(),
            "application/json",
            &[400],
        ),
        (
            "a number past any precision",
            br#"{"additional_data": 1e99999999999}"#.to_vec(),
            "application/json",
            &[400],
        ),
        (
            "a huge integer in a text field",
            br#"{"bio": 123456789012345678901234567890}"#.to_vec(),
            "application/json",
            &[400],
        ),
        (
            "invalid UTF-8",
            b"{\"bio\": \"\xff\xfe\"}".to_vec(),
            "application/json",
            &[400],
        ),
        (
            "a lone surrogate",
            br#"{"bio": "\ud800"}"#.to_vec(),
            "application/json",
            &[400],
        ),
        (
            "NUL in text",
            br#"{"bio": "a\u0000b"}"#.to_vec(),
            "application/json",
            &[400],
        ),
        (
            "NUL in a key",
            br#"{"address": {"k\u0000": 1}}"#.to_vec(),
            "application/json",
            &[400],
        ),
        (
            "a byte-order mark",
            b"\xef\xbb\xbf{\"bio\": \"x\"}".to_vec(),
            "application/json",
            &[400],
        ),
        (
            "truncated",
            br#"{"bio": "x""#.to_vec(),
            "application/json",
            &[400],
        ),
        (
            "trailing garbage",
            br#"{"bio": "x"} {}"#.to_vec(),
            "application/json",
            &[400],
        ),
        (
            "a list",
            br#"[{"bio": "x"}]"#.to_vec(),
            "application/json",
            &[400],
        ),
        ("a string", br#""bio""#.to_vec(), "application/json", &[400]),
        (
            "another media type",
            br#"{"bio": "x"}"#.to_vec(),
            "text/plain",
            &[415],
        ),
        (
            "form encoded",
            b"bio=x".to_vec(),
            "application/x-www-form-urlencoded",
            &[415],
        ),
        (
            "a bio too long",
            json!({"bio": "b".repeat(5001)}).to_string().into_bytes(),
            "application/json",
            &[400],
        ),
        (
            "too many names",
            json!({"skills": (0..51).map(|i| format!("s{i}")).collect::<Vec<_>>()})
                .to_string()
                .into_bytes(),
            "application/json",
            &[400],
        ),
        (
            "a merge patch too large",
            json!({"company_info": {"a": "x".repeat(17_000)}})
                .to_string()
                .into_bytes(),
            "application/merge-patch+json",
            &[400],
        ),
        (
            "odd URL",
            json!({"github_url": "javascript:alert(1)"})
                .to_string()
                .into_bytes(),
            "application/json",
            &[400],
        ),
        (
            "odd date",
            json!({"dob": "2020-02-30"}).to_string().into_bytes(),
            "application/json",
            &[400],
        ),
        (
            "RTL and zero-width in a URL",
            json!({"website_url": "https://exa\u{202e}mple.com"})
                .to_string()
                .into_bytes(),
            "application/json",
            &[400],
        ),
    ];
    for (name, body, media, expected) in bodies {
        let (status, payload) = answered(patch(body, media), name).await;
        assert!(expected.contains(&status), "{name}: {status} {payload}");
    }
    // Heads the server refuses before any route.
    let big_header = format!(
        "GET {ME} HTTP/1.1\r\nHost: t\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(128 * 1024)
    );
    let many_headers: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let heads: Vec<(&str, Vec<u8>)> = vec![
        ("a head over the limit", big_header.into_bytes()),
        ("too many headers", format!("GET {ME} HTTP/1.1\r\nHost: t\r\n{many_headers}\r\n").into_bytes()),
        ("not HTTP", b"HELLO\r\n\r\n".to_vec()),
        ("a bad request line", b"GET\r\n\r\n".to_vec()),
        ("NUL in the head", format!("GET {ME} HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n").into_bytes()),
        ("a bad content length", format!("PATCH {ME} HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n").into_bytes()),
        ("two content lengths", format!("PATCH {ME} HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").into_bytes()),
    ];
    for (name, bytes) in heads {
        if let Some((status, text)) = raw(app, &bytes).await {
            assert!((400..500).contains(&status), "{name}: {text}");
            let body = text
                .split_once("\r\n\r\n")
                .map(|(_, b)| b)
                .unwrap_or_default();
            assert!(
                body.is_empty() || serde_json::from_str::<Map<String, Value>>(body).is_ok(),
                "{name}: the contract's shape: {body}"
            );
        }
    }
    assert_eq!(
        snapshot(app).await,
        before,
        "the victim's details are untouched"
    );
}

/// Values of every JSON type; each property of the seed takes only some.
fn values_of_every_type() -> [(&'static str, Value); 6] {
    [
        ("string", json!("text")),
        ("number", json!(7)),
        ("boolean", json!(true)),
        ("object", json!({"k": "v"})),
        ("array", json!(["a"])),
        ("null", Value::Null),
    ]
}

async fn wrong_types_in_every_seed_property_are_400_naming_it(app: &TestApp) {
    let before = victim_with_details(app).await;
    app.create(ATTACKER, json!({"user_type": "developer"}))
        .await;
    let properties = iam_tests::seed::properties();
    let mut refused = 0;
    for (name, schema) in &properties {
        if iam_http::drf::READ_ONLY.contains(&name.as_str()) {
            continue; // ignored in a write, as DRF ignores read-only fields
        }
        // Any JSON at all (the three documents): nothing to refuse.
        let Some(mut allowed) = iam_tests::seed::types(schema) else {
            continue;
        };
        if schema["format"] == "uri" {
            // The contract: the two file URLs take `null` (and "") to clear.
            allowed.push("null".to_owned());
        }
        for (kind, value) in values_of_every_type() {
            let takes = |t: &str| allowed.iter().any(|a| a == t);
            if takes(kind) || (kind == "number" && takes("integer")) {
                continue;
            }
            let body = json!({ name.clone(): value });
            let request = app.json(ATTACKER, Method::PATCH, ME, &body);
            let (status, errors) = answered(request, name).await;
            assert_eq!(status, 400, "{name} as {kind}: {errors}");
            assert!(
                errors.get(name.as_str()).is_some(),
                "{name} as {kind}: {errors}"
            );
            refused += 1;
        }
    }
    assert!(refused > 50, "the seed's properties were tried: {refused}");
    assert_eq!(
        snapshot(app).await,
        before,
        "the victim's details are untouched"
    );
    eprintln!(
        "wrong types: {refused} bodies refused with 400 naming the property, victim unchanged"
    );
}
