//! Any bytes as a bearer token, and any JSON object as the claims of a token signed with the
//! service's own secret. Nothing may panic; a token the fuzzer made without the secret never
//! verifies; a signed one verifies only to a user id that is valid.

#![no_main]

use std::sync::LazyLock;

use iam_jwt::{ClaimRules, JwtVerifier, StaticKey};
use iam_ports::TokenVerifier;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

const SECRET: &str = "fuzz-secret-0123456789abcdef0123456789";

static VERIFIER: LazyLock<JwtVerifier> = LazyLock::new(|| {
    let secret = SecretString::from(SECRET);
    let key = StaticKey::secret(Algorithm::HS256, &secret).unwrap();
    JwtVerifier::new(Some(key), None, ClaimRules::default())
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
});

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        // Raw bytes: the fuzzer has no secret, so nothing it writes may verify.
        let Ok(token) = std::str::from_utf8(rest) else {
            return;
        };
        let outcome = RUNTIME.block_on(VERIFIER.verify(token));
        assert!(outcome.is_err(), "{token:?} verified without the secret");
    } else {
        // Claims signed with the secret: the claim rules decide.
        let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice(rest) else {
            return;
        };
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let Ok(token) = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key) else {
            return;
        };
        if let Ok(user) = RUNTIME.block_on(VERIFIER.verify(&token)) {
            assert!(!user.as_str().is_empty());
            assert_eq!(
                claims
                    .get("token_type")
                    .and_then(|t| t.as_str())
                    .unwrap_or("access"),
                "access"
            );
        }
    }
});
