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

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.rules.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        match &self.rules.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.rules.issuer {
            validation.set_issuer(&[iss]);
        }
        validation
    }

    fn user_id(&self, claims: &Map<String, Value>) -> Result<UserId, TokenRejection> {
        match claims.get("token_type") {
            None => {}
            Some(Value::String(t)) if t == "access" => {}
            Some(_) => return Err(TokenRejection::WrongTokenType),
        }
        let id = match claims.get(&self.rules.user_claim) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
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
