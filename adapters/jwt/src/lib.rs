//! # iam-jwt: access-token verification
//!
//! [`JwtVerifier`] implements the [`TokenVerifier`](iam_ports::TokenVerifier) port:
//! - **HS256** with a shared secret, as SimpleJWT issues them: claim `user_id` (string or integer),
//!   `token_type` `access` when present, `exp` required;
//! - **RS256 / ES256** through a JWKS URL (OIDC providers; claim `sub` by configuration). Keys are
//!   cached by `kid`; an unknown `kid` refreshes the set, but never more often than
//!   [`JwksSettings::min_refresh_interval`], so a flood of forged tokens cannot hammer the key server.
//!
//! The algorithm in a token's header only chooses among the configured verifiers: `none`, an
//! algorithm with no configured key, or a key of the other kind (an RSA public key presented as an
//! HMAC secret) never verify. Issuer, audience, user-id claim and leeway are configuration.
//!
//! [`issue_hs256`] signs a token the way SimpleJWT does, for the server's `token` command and tests.

mod jwks;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use iam_domain::UserId;
use iam_ports::{TokenRejection, TokenVerifier};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

pub use jwks::{JwksCache, JwksSettings};

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone)]
pub struct ClaimRules {
    /// The claim holding the user id (`user_id` for SimpleJWT, `sub` for OIDC).
    pub user_claim: String,
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
            issuer: None,
            audience: None,
            leeway: Duration::from_secs(30),
        }
    }
}

/// Verifies access tokens with an HS256 secret, a JWKS, or both.
pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    jwks: Option<Arc<JwksCache>>,
    rules: ClaimRules,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("jwks", &self.jwks.is_some())
            .field("rules", &self.rules)
            .finish()
    }
}

impl JwtVerifier {
    /// A verifier with an optional HS256 secret and an optional JWKS.
    pub fn new(
        secret: Option<&SecretString>,
        jwks: Option<Arc<JwksCache>>,
        rules: ClaimRules,
    ) -> Self {
        Self {
            secret: secret.map(|s| DecodingKey::from_secret(s.expose_secret().as_bytes())),
            jwks,
            rules,
        }
    }

    /// The signature, issuer and audience checks; the time claims are checked by
    /// [`Self::times`], which also refuses them when they are not numbers.
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims::<&str>(&[]);
        match &self.rules.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.rules.issuer {
            validation.set_issuer(&[iss]);
        }
        validation
    }

    /// `exp` (required), `nbf` and `iat` (optional) must be JSON numbers, as PyJWT requires: a
    /// token whose time claim is a string or anything else is malformed, never unchecked. `exp`
    /// must not have passed and `nbf` and `iat` not be ahead, each with the leeway.
    fn times(&self, claims: &Map<String, Value>, now: f64) -> Result<(), TokenRejection> {
        let time = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(TokenRejection::Malformed),
            Some(_) => Err(TokenRejection::Malformed),
        };
        let leeway = self.rules.leeway.as_secs_f64();
        let exp = time("exp")?.ok_or(TokenRejection::Expired)?;
        if exp <= now - leeway {
            return Err(TokenRejection::Expired);
        }
        if time("nbf")?.is_some_and(|nbf| nbf > now + leeway) {
            return Err(TokenRejection::NotYetValid);
        }
        if time("iat")?.is_some_and(|iat| iat > now + leeway) {
            return Err(TokenRejection::NotYetValid);
        }
        Ok(())
    }

    fn user_id(&self, claims: &Map<String, Value>) -> Result<UserId, TokenRejection> {
        match claims.get("token_type") {
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
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        let key = match header.alg {
            Algorithm::HS256 => self.secret.clone().ok_or(TokenRejection::Malformed)?,
            Algorithm::RS256 | Algorithm::ES256 => {
                let jwks = self.jwks.as_ref().ok_or(TokenRejection::Malformed)?;
                let kid = header.kid.as_deref().ok_or(TokenRejection::UnknownKey)?;
                jwks.key(kid, header.alg).await?
            }
            _ => return Err(TokenRejection::Malformed),
        };
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &self.validation(header.alg))
                .map_err(|e| rejection(e.kind()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        self.times(&data.claims, now)?;
        self.user_id(&data.claims)
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
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose_secret().as_bytes()),
    )
}

#[cfg(test)]
mod tests;
