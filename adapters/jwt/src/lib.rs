//! # iam-jwt: access-token verification
//!
//! [`JwtVerifier`] implements the [`TokenVerifier`] port for what
//! SimpleJWT can issue:
//! - a [`StaticKey`] for the one algorithm SimpleJWT is configured with (`ALGORITHM`):
//!   HS256/384/512 with the shared secret (`SIGNING_KEY`), or RS256/384/512, PS256/384/512,
//!   ES256/384 with a PEM public key (`VERIFYING_KEY`);
//! - and/or a JWKS URL (`JWK_URL`; OIDC providers), whose keys are cached by `kid`; an unknown
//!   `kid` refreshes the set, but never more often than [`JwksSettings::min_refresh_interval`], so a
//!   flood of forged tokens cannot hammer the key server.
//!
//! Claims as SimpleJWT writes them: the user id (`USER_ID_CLAIM`, `user_id` by default; string or
//! integer), the token type (`TOKEN_TYPE_CLAIM`) `access` when present, `exp` required; `nbf` and
//! `iat` checked when present; all three must be numbers.
//!
//! The algorithm in a token's header only chooses among the configured verifiers: `none`, an
//! algorithm other than the configured one, or a key of the other kind (an RSA public key presented
//! as an HMAC secret) never verify. Issuer, audience, claim names and leeway are configuration.
//!
//! A token the configured key has verified is kept (`cache.rs`), so that the same token presented
//! again has only its time claims checked; JWKS tokens are verified in full every time.
//!
//! [`issue_hs256`] signs a token the way SimpleJWT does, for the server's `token` command and tests.

mod cache;
mod jwks;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cache::{Times, Verified, VerifiedTokens};
use iam_domain::UserId;
use iam_ports::{TokenRejection, TokenVerifier};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

pub use jwks::{JwksCache, JwksSettings};

/// The configured algorithm and its key: SimpleJWT's `ALGORITHM` with `SIGNING_KEY` (HMAC) or
/// `VERIFYING_KEY` (a PEM public key).
pub struct StaticKey {
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Why a [`StaticKey`] could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The algorithm is not one SimpleJWT signs with.
    #[error("{0} is not an algorithm SimpleJWT signs with (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384)")]
    Unsupported(String),
    /// An HMAC algorithm needs the shared secret, not a public key (and the other way round).
    #[error("{0:?} needs {1}")]
    WrongKind(Algorithm, &'static str),
    /// The PEM file does not hold a public key of the algorithm's kind.
    #[error("the public key is not a PEM {1} key: {0}")]
    Pem(#[source] jsonwebtoken::errors::Error, &'static str),
}

impl StaticKey {
    /// Parses an algorithm name as SimpleJWT writes it (`HS256`, `RS512`, …).
    ///
    /// # Errors
    /// [`KeyError::Unsupported`] for `none`, `EdDSA` and anything else.
    pub fn algorithm(name: &str) -> Result<Algorithm, KeyError> {
        match name.parse::<Algorithm>() {
            Ok(Algorithm::EdDSA) | Err(_) => Err(KeyError::Unsupported(name.to_owned())),
            Ok(algorithm) => Ok(algorithm),
        }
    }

    /// An HMAC algorithm with the shared secret.
    ///
    /// # Errors
    /// [`KeyError::WrongKind`] when `algorithm` is not HS256/384/512.
    pub fn secret(algorithm: Algorithm, secret: &SecretString) -> Result<Self, KeyError> {
        if !is_hmac(algorithm) {
            return Err(KeyError::WrongKind(
                algorithm,
                "a public key, not a shared secret",
            ));
        }
        Ok(Self {
            algorithm,
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
        })
    }

    /// An RSA, RSA-PSS or ECDSA algorithm with a PEM public key (SPKI or PKCS#1).
    ///
    /// # Errors
    /// [`KeyError::WrongKind`] for an HMAC algorithm; [`KeyError::Pem`] when `pem` is not a public
    /// key of the algorithm's kind.
    pub fn public_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        let key = match algorithm {
            Algorithm::ES256 | Algorithm::ES384 => {
                DecodingKey::from_ec_pem(pem).map_err(|e| KeyError::Pem(e, "EC"))?
            }
            a if is_hmac(a) => return Err(KeyError::WrongKind(a, "the shared secret")),
            _ => DecodingKey::from_rsa_pem(pem).map_err(|e| KeyError::Pem(e, "RSA"))?,
        };
        Ok(Self { algorithm, key })
    }
}

/// True for the HMAC algorithms, whose key is a shared secret.
pub fn is_hmac(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    )
}

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone)]
pub struct ClaimRules {
    /// The claim holding the user id (`user_id` for SimpleJWT, `sub` for OIDC).
    pub user_claim: String,
    /// The claim holding the token type, which must be `access` when present (SimpleJWT's
    /// `TOKEN_TYPE_CLAIM`, `token_type` by default).
    pub token_type_claim: String,
    /// The required `iss`, if any.
    pub issuer: Option<String>,
    /// The required `aud`, if any; without it, tokens carrying an `aud` are accepted.
    pub audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
}

impl Default for ClaimRules {
    fn default() -> Self {
        Self {
            user_claim: "user_id".into(),
            token_type_claim: "token_type".into(),
            issuer: None,
            audience: None,
            leeway: Duration::from_secs(30),
        }
    }
}

/// Verifies access tokens with the configured algorithm's key, a JWKS, or both.
pub struct JwtVerifier {
    /// The configured key, with the checks of the tokens it signs (built once: they are the
    /// same for every token).
    key: Option<(StaticKey, Validation)>,
    /// The tokens the configured key has verified (`cache.rs`); JWKS tokens are not kept.
    verified: VerifiedTokens,
    jwks: Option<Arc<JwksCache>>,
    rules: ClaimRules,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithm", &self.key.as_ref().map(|(k, _)| k.algorithm))
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("jwks", &self.jwks.is_some())
            .field("rules", &self.rules)
            .finish()
    }
}

impl JwtVerifier {
    /// A verifier with an optional key for one algorithm and an optional JWKS.
    pub fn new(key: Option<StaticKey>, jwks: Option<Arc<JwksCache>>, rules: ClaimRules) -> Self {
        let key = key.map(|k| {
            let validation = validation(&rules, k.algorithm);
            (k, validation)
        });
        Self {
            key,
            verified: VerifiedTokens::new(cache::CAPACITY),
            jwks,
            rules,
        }
    }

    /// The time claims: `exp` (required), `nbf` and `iat` (optional) must be JSON numbers, as
    /// PyJWT requires. A token whose time claim is a string or anything else is malformed, never
    /// unchecked.
    fn times(claims: &Map<String, Value>) -> Result<Times, TokenRejection> {
        let time = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(TokenRejection::Malformed),
            Some(_) => Err(TokenRejection::Malformed),
        };
        let expires = time("exp")?.ok_or(TokenRejection::Expired)?;
        let not_before = match (time("nbf")?, time("iat")?) {
            (Some(nbf), Some(iat)) => Some(nbf.max(iat)),
            (nbf, iat) => nbf.or(iat),
        };
        Ok(Times {
            expires,
            not_before,
        })
    }

    fn user_id(&self, claims: &Map<String, Value>) -> Result<UserId, TokenRejection> {
        match claims.get(&self.rules.token_type_claim) {
            None => {}
            Some(Value::String(t)) if t == "access" => {}
            Some(_) => return Err(TokenRejection::WrongTokenType),
        }
        let id = match claims.get(&self.rules.user_claim) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            // As an integer, so that `-0` names user 0 as it does for Python.
            Some(Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
                (Some(id), _) => id.to_string(),
                (None, Some(id)) => id.to_string(),
                (None, None) => return Err(TokenRejection::NoUserId),
            },
            _ => return Err(TokenRejection::NoUserId),
        };
        UserId::parse(id).map_err(|_| TokenRejection::NoUserId)
    }

    /// Verifies `token` at `now` (seconds since the epoch).
    async fn verify_at(&self, token: &str, now: f64) -> Result<UserId, TokenRejection> {
        let leeway = self.rules.leeway.as_secs_f64();
        let digest = self.key.is_some().then(|| cache::digest(token));
        if let Some(answer) = digest.and_then(|d| self.verified.get(&d, now, leeway)) {
            return answer;
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        let fetched;
        let (key, validation, keep) = match (&self.key, &self.jwks) {
            (Some((own, checks)), _) if own.algorithm == header.alg => {
                (&own.key, Cow::Borrowed(checks), digest)
            }
            (_, Some(jwks)) if !is_hmac(header.alg) => {
                let kid = header.kid.as_deref().ok_or(TokenRejection::UnknownKey)?;
                fetched = jwks.key(kid, header.alg).await?;
                (
                    &fetched,
                    Cow::Owned(validation(&self.rules, header.alg)),
                    None,
                )
            }
            _ => return Err(TokenRejection::Malformed),
        };
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .map_err(|e| rejection(e.kind()))?;
        let times = Self::times(&data.claims)?;
        times.at(now, leeway)?;
        let user = self.user_id(&data.claims)?;
        if let Some(digest) = keep {
            let verified = Verified {
                user: user.clone(),
                times,
            };
            self.verified.insert(digest, verified);
        }
        Ok(user)
    }
}

/// The signature, issuer and audience checks of tokens signed with `algorithm`; the time claims
/// are read by [`JwtVerifier::times`], which refuses them when they are not numbers, and checked
/// on every use, kept or not (`cache::Times::at`).
fn validation(rules: &ClaimRules, algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims::<&str>(&[]);
    match &rules.audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    if let Some(iss) = &rules.issuer {
        validation.set_issuer(&[iss]);
    }
    validation
}

fn rejection(kind: &ErrorKind) -> TokenRejection {
    match kind {
        ErrorKind::ExpiredSignature => TokenRejection::Expired,
        ErrorKind::MissingRequiredClaim(_) => TokenRejection::Expired,
        ErrorKind::ImmatureSignature => TokenRejection::NotYetValid,
        ErrorKind::InvalidIssuer => TokenRejection::WrongIssuer,
        ErrorKind::InvalidAudience => TokenRejection::WrongAudience,
        ErrorKind::InvalidSignature => TokenRejection::BadSignature,
        _ => TokenRejection::Malformed,
    }
}

#[async_trait]
impl TokenVerifier for JwtVerifier {
    async fn verify(&self, token: &str) -> Result<UserId, TokenRejection> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        self.verify_at(token, now).await
    }
}

/// Signs an HS256 access token for `user` valid for `ttl`, with SimpleJWT's claims
/// (`token_type`, `exp`, `iat`, `jti`, `user_id`), plus `iss` and `aud` when given.
///
/// # Errors
/// When signing fails (it does not with an HMAC key).
pub fn issue_hs256(
    secret: &SecretString,
    user: &UserId,
    ttl: Duration,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    issue_hmac(secret, Algorithm::HS256, user, ttl, issuer, audience)
}

/// As [`issue_hs256`], with any HMAC `algorithm` (HS256, HS384, HS512).
///
/// # Errors
/// When `algorithm` is not an HMAC algorithm.
pub fn issue_hmac(
    secret: &SecretString,
    algorithm: Algorithm,
    user: &UserId,
    ttl: Duration,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    if !is_hmac(algorithm) {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut claims = Map::new();
    claims.insert("token_type".into(), "access".into());
    claims.insert("exp".into(), (now + ttl.as_secs()).into());
    claims.insert("iat".into(), now.into());
    claims.insert(
        "jti".into(),
        format!("{:032x}", rand::random::<u128>()).into(),
    );
    claims.insert("user_id".into(), user.as_str().into());
    if let Some(iss) = issuer {
        claims.insert("iss".into(), iss.into());
    }
    if let Some(aud) = audience {
        claims.insert("aud".into(), aud.into());
    }
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )
}

#[cfg(test)]
mod tests;
