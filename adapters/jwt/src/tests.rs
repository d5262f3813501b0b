//! HS256 verification; RS256/ES256 through a JWKS are covered end to end in `tests/`.

use super::*;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

const SECRET: &str = "a-test-secret-of-enough-length-000";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn sign(claims: Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn verifier(rules: ClaimRules) -> JwtVerifier {
    let key = StaticKey::secret(Algorithm::HS256, &SecretString::from(SECRET)).unwrap();
    JwtVerifier::new(Some(key), None, rules)
}

async fn verify(claims: Value) -> Result<UserId, TokenRejection> {
    verifier(ClaimRules::default()).verify(&sign(claims)).await
}

#[tokio::test]
async fn a_simplejwt_access_token_names_its_user() {
    let id =
        verify(json!({"token_type": "access", "exp": now() + 60, "jti": "x", "user_id": 42})).await;
    assert_eq!(id.unwrap().as_str(), "42");
    let id = verify(json!({"exp": now() + 60, "user_id": "6f1c-uuid"})).await;
    assert_eq!(id.unwrap().as_str(), "6f1c-uuid");
}

#[tokio::test]
async fn the_issued_token_verifies() {
    let secret = SecretString::from(SECRET);
    let user = UserId::parse("7").unwrap();
    let token = issue_hs256(&secret, &user, Duration::from_secs(60), None, None).unwrap();
    assert_eq!(
        verifier(ClaimRules::default())
            .verify(&token)
            .await
            .unwrap(),
        user
    );
}

#[tokio::test]
async fn time_claims_are_enforced() {
    assert_eq!(
        verify(json!({"exp": now() - 3600, "user_id": 1})).await,
        Err(TokenRejection::Expired)
    );
    assert_eq!(
        verify(json!({"user_id": 1})).await,
        Err(TokenRejection::Expired),
        "exp is required"
    );
    assert_eq!(
        verify(json!({"exp": now() + 7200, "nbf": now() + 3600, "user_id": 1})).await,
        Err(TokenRejection::NotYetValid)
    );
    assert!(
        verify(json!({"exp": now() - 5, "user_id": 1}))
            .await
            .is_ok(),
        "within the leeway"
    );
}

#[tokio::test]
async fn time_claims_that_are_not_numbers_are_refused() {
    let exp = now() + 60;
    for claims in [
        json!({"exp": exp.to_string(), "user_id": 1}),
        json!({"exp": exp, "nbf": (now() + 3600).to_string(), "user_id": 1}),
        json!({"exp": exp, "nbf": "0", "user_id": 1}),
        json!({"exp": exp, "iat": "yesterday", "user_id": 1}),
        json!({"exp": exp, "nbf": null, "user_id": 1}),
        json!({"exp": exp, "nbf": [1], "user_id": 1}),
        json!({"exp": {"t": exp}, "user_id": 1}),
        json!({"exp": true, "user_id": 1}),
    ] {
        assert!(verify(claims.clone()).await.is_err(), "{claims}");
    }
    // Numbers of every JSON shape are numbers.
    assert!(verify(
        json!({"exp": exp as f64 + 0.5, "iat": now(), "nbf": now() - 10, "user_id": 1})
    )
    .await
    .is_ok());
    let huge: Value = serde_json::from_str(r#"{"exp": 1e400, "user_id": 1}"#).unwrap();
    assert_eq!(verify(huge).await, Err(TokenRejection::Malformed));
    assert_eq!(
        verify(json!({"exp": exp, "iat": now() + 3600, "user_id": 1})).await,
        Err(TokenRejection::NotYetValid),
        "issued in the future"
    );
}

#[tokio::test]
async fn refresh_tokens_and_bad_user_claims_are_refused() {
    let base = |extra: Value| {
        let mut claims = json!({"exp": now() + 60, "user_id": 1});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        claims
    };
    assert_eq!(
        verify(base(json!({"token_type": "refresh"}))).await,
        Err(TokenRejection::WrongTokenType)
    );
    for bad in [
        json!(""),
        json!(true),
        json!(1.5),
        json!(null),
        json!([1]),
        json!("a\u{0}"),
    ] {
        assert_eq!(
            verify(base(json!({"user_id": bad}))).await,
            Err(TokenRejection::NoUserId)
        );
    }
    assert_eq!(
        verify(json!({"exp": now() + 60})).await,
        Err(TokenRejection::NoUserId)
    );
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let rules = ClaimRules {
        issuer: Some("https://issuer.example".into()),
        audience: Some("studio".into()),
        ..ClaimRules::default()
    };
    let v = verifier(rules);
    let ok = sign(
        json!({"exp": now() + 60, "user_id": 1, "iss": "https://issuer.example", "aud": "studio"}),
    );
    assert!(v.verify(&ok).await.is_ok());
    let wrong_iss = sign(
        json!({"exp": now() + 60, "user_id": 1, "iss": "https://evil.example", "aud": "studio"}),
    );
    assert_eq!(v.verify(&wrong_iss).await, Err(TokenRejection::WrongIssuer));
    let wrong_aud = sign(
        json!({"exp": now() + 60, "user_id": 1, "iss": "https://issuer.example", "aud": "other"}),
    );
    assert_eq!(
        v.verify(&wrong_aud).await,
        Err(TokenRejection::WrongAudience)
    );
}

#[tokio::test]
async fn a_token_with_another_secret_is_a_bad_signature() {
    let token = encode(
        &Header::new(Algorithm::HS256),
        &json!({"exp": now() + 60, "user_id": 1}),
        &EncodingKey::from_secret(b"another-secret"),
    )
    .unwrap();
    assert_eq!(
        verifier(ClaimRules::default()).verify(&token).await,
        Err(TokenRejection::BadSignature)
    );
}

#[tokio::test]
async fn alg_none_and_garbage_are_malformed() {
    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(json!({"exp": now() + 60, "user_id": 1}))
    );
    let v = verifier(ClaimRules::default());
    assert_eq!(v.verify(&none).await, Err(TokenRejection::Malformed));
    for garbage in ["", "abc", "a.b.c", "😀.😀.😀"] {
        assert_eq!(
            v.verify(garbage).await,
            Err(TokenRejection::Malformed),
            "{garbage}"
        );
    }
}

#[tokio::test]
async fn hs256_is_refused_without_a_secret() {
    let v = JwtVerifier::new(None, None, ClaimRules::default());
    let token = sign(json!({"exp": now() + 60, "user_id": 1}));
    assert_eq!(v.verify(&token).await, Err(TokenRejection::Malformed));
}

/// SimpleJWT's access-token claims for user 42, valid for a minute.
fn simplejwt_claims() -> Value {
    json!({"token_type": "access", "exp": now() + 60, "iat": now(), "jti": "0f1e", "user_id": 42})
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn verify_with(key: StaticKey, token: &str) -> Result<UserId, TokenRejection> {
    JwtVerifier::new(Some(key), None, ClaimRules::default())
        .verify(token)
        .await
}

#[tokio::test]
async fn every_algorithm_simplejwt_signs_with_verifies_with_its_key() {
    let secret = SecretString::from(SECRET);
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let token = encode(
            &Header::new(alg),
            &simplejwt_claims(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        let key = StaticKey::secret(alg, &secret).unwrap();
        assert_eq!(
            verify_with(key, &token).await.unwrap().as_str(),
            "42",
            "{alg:?}"
        );
    }
    let rsa = EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).unwrap();
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        let token = encode(&Header::new(alg), &simplejwt_claims(), &rsa).unwrap();
        let key = StaticKey::public_pem(alg, &fixture("rsa-public.pem")).unwrap();
        assert_eq!(
            verify_with(key, &token).await.unwrap().as_str(),
            "42",
            "{alg:?}"
        );
    }
    let ec = EncodingKey::from_ec_pem(&fixture("ec-private.pem")).unwrap();
    let token = encode(&Header::new(Algorithm::ES256), &simplejwt_claims(), &ec).unwrap();
    let key = StaticKey::public_pem(Algorithm::ES256, &fixture("ec-public.pem")).unwrap();
    assert_eq!(verify_with(key, &token).await.unwrap().as_str(), "42");
}

#[tokio::test]
async fn only_the_configured_algorithm_verifies() {
    let rsa = EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).unwrap();
    let rs256 = || StaticKey::public_pem(Algorithm::RS256, &fixture("rsa-public.pem")).unwrap();
    // Another RSA algorithm with the same key: refused, as SimpleJWT refuses it.
    let ps256 = encode(&Header::new(Algorithm::PS256), &simplejwt_claims(), &rsa).unwrap();
    assert!(verify_with(rs256(), &ps256).await.is_err());
    // Key confusion: an HMAC token whose secret is the public key's PEM text.
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &simplejwt_claims(),
        &EncodingKey::from_secret(&fixture("rsa-public.pem")),
    )
    .unwrap();
    assert!(verify_with(rs256(), &confused).await.is_err());
    // A tampered payload.
    let good = encode(&Header::new(Algorithm::RS256), &simplejwt_claims(), &rsa).unwrap();
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = base64::engine::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        serde_json::to_vec(&json!({"token_type": "access", "exp": now() + 60, "user_id": 1}))
            .unwrap(),
    );
    assert!(verify_with(rs256(), &parts.join(".")).await.is_err());
}

#[test]
fn keys_of_the_wrong_kind_are_configuration_errors() {
    let secret = SecretString::from(SECRET);
    assert!(StaticKey::secret(Algorithm::RS256, &secret).is_err());
    assert!(StaticKey::public_pem(Algorithm::HS256, &fixture("rsa-public.pem")).is_err());
    assert!(StaticKey::public_pem(Algorithm::ES256, &fixture("rsa-public.pem")).is_err());
    assert!(StaticKey::public_pem(Algorithm::RS256, b"not a pem").is_err());
    for bad in ["none", "EdDSA", "HS1", ""] {
        assert!(StaticKey::algorithm(bad).is_err(), "{bad}");
    }
    assert_eq!(StaticKey::algorithm("PS384").unwrap(), Algorithm::PS384);
}

#[tokio::test]
async fn the_token_type_claim_is_configurable() {
    let rules = ClaimRules {
        token_type_claim: "typ".into(),
        ..ClaimRules::default()
    };
    let v = verifier(rules);
    let refresh = sign(json!({"typ": "refresh", "exp": now() + 60, "user_id": 1}));
    assert_eq!(
        v.verify(&refresh).await,
        Err(TokenRejection::WrongTokenType)
    );
    let access = sign(json!({"typ": "access", "exp": now() + 60, "user_id": 1}));
    assert!(v.verify(&access).await.is_ok());
}

// The cache of verified tokens (`cache.rs`): each invariant it states has a test here.

fn at(v: &JwtVerifier, token: &str, now: i64) -> Result<UserId, TokenRejection> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(v.verify_at(token, now as f64))
}

#[test]
fn a_kept_token_has_its_times_checked_again_on_every_use() {
    let t = now();
    let v = verifier(ClaimRules::default());
    let token = sign(json!({"exp": t + 600, "iat": t, "nbf": t + 100, "user_id": 1}));
    assert_eq!(at(&v, &token, t), Err(TokenRejection::NotYetValid));
    assert_eq!(v.verified.len(), 0, "kept only once valid");
    assert_eq!(at(&v, &token, t + 120).unwrap().as_str(), "1");
    assert_eq!(v.verified.len(), 1);
    // From the cache now: the same answers a first verification gives at each time.
    assert_eq!(at(&v, &token, t + 120).unwrap().as_str(), "1");
    assert_eq!(at(&v, &token, t), Err(TokenRejection::NotYetValid));
    assert!(at(&v, &token, t + 100 - 30).is_ok(), "within the leeway");
    assert!(at(&v, &token, t + 600 + 29).is_ok(), "within the leeway");
    assert_eq!(at(&v, &token, t + 600 + 30), Err(TokenRejection::Expired));
    assert_eq!(at(&v, &token, t + 100_000), Err(TokenRejection::Expired));
    let issued_later = sign(json!({"exp": t + 600, "iat": t + 200, "user_id": 2}));
    assert!(at(&v, &issued_later, t + 200).is_ok());
    assert_eq!(at(&v, &issued_later, t), Err(TokenRejection::NotYetValid));
}

#[test]
fn only_the_exact_token_that_was_verified_hits() {
    use base64::Engine;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let t = now();
    let v = verifier(ClaimRules::default());
    let token = sign(json!({"exp": t + 60, "user_id": 1}));
    assert!(at(&v, &token, t).is_ok());
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let (header, _) = signed.split_once('.').unwrap();
    // Another user's claims under the kept token's signature.
    let borrowed = format!(
        "{header}.{}.{signature}",
        b64(json!({"exp": t + 60, "user_id": 2}))
    );
    assert_eq!(at(&v, &borrowed, t), Err(TokenRejection::BadSignature));
    // The kept token's claims under another token's signature.
    let other = sign(json!({"exp": t + 61, "user_id": 1}));
    let mixed = format!("{signed}.{}", other.rsplit_once('.').unwrap().1);
    assert_eq!(at(&v, &mixed, t), Err(TokenRejection::BadSignature));
    // The same claims signed with another secret.
    let foreign = encode(
        &Header::new(Algorithm::HS256),
        &json!({"exp": t + 60, "user_id": 1}),
        &EncodingKey::from_secret(b"another-secret"),
    )
    .unwrap();
    assert_eq!(at(&v, &foreign, t), Err(TokenRejection::BadSignature));
    assert_eq!(v.verified.len(), 1, "refusals are not kept");
}

#[test]
fn refused_tokens_are_not_kept() {
    let t = now();
    let v = verifier(ClaimRules::default());
    for claims in [
        json!({"exp": t - 3600, "user_id": 1}),
        json!({"exp": t + 60}),
        json!({"exp": t + 60, "user_id": 1, "token_type": "refresh"}),
        json!({"exp": (t + 60).to_string(), "user_id": 1}),
    ] {
        let token = sign(claims.clone());
        assert!(at(&v, &token, t).is_err(), "{claims}");
        assert!(at(&v, &token, t).is_err(), "{claims}, again");
    }
    assert!(at(&v, "not.a.token", t).is_err());
    assert_eq!(v.verified.len(), 0);
}

#[test]
fn the_cache_holds_at_most_its_capacity() {
    let kept = cache::VerifiedTokens::new(3);
    let verified = |user: &str| cache::Verified {
        user: UserId::parse(user).unwrap(),
        times: Times {
            expires: f64::MAX,
            not_before: None,
        },
    };
    for i in 0..3u8 {
        kept.insert([i; 32], verified("1"));
    }
    kept.insert([0; 32], verified("1"));
    assert_eq!(kept.len(), 3, "a kept token again does not empty it");
    kept.insert([9; 32], verified("9"));
    assert_eq!(
        kept.len(),
        1,
        "a new one into a full cache empties it first"
    );
    assert_eq!(
        kept.get(&[9; 32], 0.0, 0.0),
        Some(Ok(UserId::parse("9").unwrap()))
    );
    assert_eq!(kept.get(&[0; 32], 0.0, 0.0), None);
}

proptest::proptest! {
    /// Whatever a token's time claims and whenever it is presented, a verifier that keeps tokens
    /// answers as a fresh one does each time.
    #[test]
    fn a_kept_token_is_answered_as_a_fresh_verification_would(
        exp in proptest::option::of(-200i64..200),
        nbf in proptest::option::of(-200i64..200),
        iat in proptest::option::of(-200i64..200),
        user in proptest::option::of(0u8..3),
        times in proptest::collection::vec(-300i64..300, 1..8),
    ) {
        let t = now();
        let mut claims = Map::new();
        for (name, offset) in [("exp", exp), ("nbf", nbf), ("iat", iat)] {
            if let Some(offset) = offset {
                claims.insert(name.into(), (t + offset).into());
            }
        }
        if let Some(user) = user {
            claims.insert("user_id".into(), user.into());
        }
        let token = sign(Value::Object(claims));
        let kept = verifier(ClaimRules::default());
        for offset in times {
            let fresh = at(&verifier(ClaimRules::default()), &token, t + offset);
            proptest::prop_assert_eq!(at(&kept, &token, t + offset), fresh);
        }
    }
}
