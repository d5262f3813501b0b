//! RS256 and ES256 tokens through a JWKS served by the test, and the attacks on them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use iam_tests::app::{spawn_app_with, TestApp, ME};
use iam_tests::stores;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};

const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "studio";

struct Jwks {
    url: String,
    fetches: Arc<AtomicUsize>,
    handle: actix_web::dev::ServerHandle,
}

/// Serves `fixtures/jwks.json` on a random port, counting fetches.
async fn jwks_server() -> Jwks {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        App::new().route(
            "/jwks.json",
            web::get().to(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(include_str!("../fixtures/jwks.json"))
                }
            }),
        )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Jwks {
        url: format!("http://127.0.0.1:{port}/jwks.json"),
        fetches,
        handle,
    }
}

async fn app(jwks_url: &str) -> TestApp {
    spawn_app_with(
        stores::sqlite().await,
        &[
            ("IAM_JWT_SECRET", ""),
            ("IAM_JWT_JWKS_URL", jwks_url),
            ("IAM_JWT_USER_CLAIM", "sub"),
            ("IAM_JWT_ISSUER", ISSUER),
            ("IAM_JWT_AUDIENCE", AUDIENCE),
            ("IAM_JWKS_MIN_REFRESH", "60s"),
        ],
    )
    .await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(sub: &str) -> Value {
    json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600, "iat": now()})
}

fn rs256(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(include_bytes!("../fixtures/rsa-private.pem")).unwrap();
    encode(&header, claims, &key).unwrap()
}

fn es256(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_ec_pem(include_bytes!("../fixtures/ec-private.pem")).unwrap();
    encode(&header, claims, &key).unwrap()
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.request(Method::GET, ME)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn rs256_and_es256_tokens_from_the_jwks_are_accepted() {
    let jwks = jwks_server().await;
    let app = app(&jwks.url).await;
    assert_eq!(
        status(&app, &rs256("rsa-1", &claims("alice"))).await,
        404,
        "valid, no details yet"
    );
    let created = app
        .request(Method::POST, "/api/v1/iam/iamuserdetails/")
        .bearer_auth(es256("ec-1", &claims("alice")))
        .json(&json!({"user_type": "developer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(status(&app, &rs256("rsa-1", &claims("alice"))).await, 200);
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 1, "keys are cached");
    app.cleanup().await;
    jwks.handle.stop(false).await;
}

#[tokio::test]
async fn forged_and_invalid_tokens_are_401() {
    let jwks = jwks_server().await;
    let app = app(&jwks.url).await;
    let mut expired = claims("a");
    expired["exp"] = json!(now() - 3600);
    let mut early = claims("a");
    early["nbf"] = json!(now() + 3600);
    let mut wrong_iss = claims("a");
    wrong_iss["iss"] = json!("https://evil.test");
    let mut wrong_aud = claims("a");
    wrong_aud["aud"] = json!("other");
    let mut numeric_sub = claims("a");
    numeric_sub["sub"] = json!(true);

    // HS/RS confusion: an HMAC signed with the RSA public key, naming the RSA key.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let confused = encode(
        &header,
        &claims("a"),
        &EncodingKey::from_secret(include_bytes!("../fixtures/rsa-public.pem")),
    )
    .unwrap();
    let none = {
        use base64::Engine as _;
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            b64(json!({"alg": "none", "kid": "rsa-1"})),
            b64(claims("a"))
        )
    };
    let tokens = [
        rs256("rsa-1", &expired),
        rs256("rsa-1", &early),
        rs256("rsa-1", &wrong_iss),
        rs256("rsa-1", &wrong_aud),
        rs256("rsa-1", &numeric_sub),
        rs256("ec-1", &claims("a")),
        es256("rsa-1", &claims("a")),
        confused,
        none,
    ];
    for token in tokens {
        let response = app
            .request(Method::GET, ME)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{token}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"})
        );
    }
    app.cleanup().await;
    jwks.handle.stop(false).await;
}

#[tokio::test]
async fn a_flood_of_unknown_kids_does_not_hammer_the_key_server() {
    let jwks = jwks_server().await;
    let app = app(&jwks.url).await;
    assert_eq!(status(&app, &rs256("rsa-1", &claims("a"))).await, 404);
    for i in 0..30 {
        assert_eq!(
            status(&app, &rs256(&format!("unknown-{i}"), &claims("a"))).await,
            401
        );
    }
    assert!(
        jwks.fetches.load(Ordering::SeqCst) <= 2,
        "fetched {} times",
        jwks.fetches.load(Ordering::SeqCst)
    );
    app.cleanup().await;
    jwks.handle.stop(false).await;
}

#[tokio::test]
async fn an_unreachable_key_server_is_503_not_401() {
    let app = app("http://127.0.0.1:1/jwks.json").await;
    let response = app
        .request(Method::GET, ME)
        .bearer_auth(rs256("rsa-1", &claims("a")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    app.cleanup().await;
}
