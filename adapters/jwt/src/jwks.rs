//! A cache of JWKS keys, refreshed on an unknown `kid` at most once per interval.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use iam_ports::TokenRejection;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

/// Where and how often to fetch keys.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// The JWKS URL.
    pub url: String,
    /// The shortest time between two fetches.
    pub min_refresh_interval: Duration,
    /// How long one fetch may take.
    pub timeout: Duration,
}

#[derive(Clone)]
struct Key {
    family: Family,
    key: DecodingKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Rsa,
    Ec,
}

/// Keys by `kid`, fetched from the JWKS URL.
pub struct JwksCache {
    settings: JwksSettings,
    client: reqwest::Client,
    keys: RwLock<HashMap<String, Key>>,
    /// When the last fetch started; held while fetching so that one fetch runs at a time.
    last_fetch: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.settings.url)
            .finish()
    }
}

impl JwksCache {
    /// A cache that fetches from `settings.url` when first needed.
    pub fn new(settings: JwksSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .unwrap_or_default();
        Self {
            settings,
            client,
            keys: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        }
    }

    /// The key `kid` for `alg`, fetching the set again when the `kid` is unknown and the last
    /// fetch is older than the minimum interval.
    ///
    /// # Errors
    /// `UnknownKey` when the set has no such key (or one of another family), `KeysUnavailable`
    /// when the set could never be fetched.
    pub async fn key(&self, kid: &str, alg: Algorithm) -> Result<DecodingKey, TokenRejection> {
        if let Some(found) = self.lookup(kid, alg).await {
            return found;
        }
        {
            let mut last = self.last_fetch.lock().await;
            // Another request may have refreshed while this one waited for the lock.
            if let Some(found) = self.lookup(kid, alg).await {
                return found;
            }
            let due = last.is_none_or(|t| t.elapsed() >= self.settings.min_refresh_interval);
            if due {
                *last = Some(Instant::now());
                match self.fetch().await {
                    Ok(keys) => *self.keys.write().await = keys,
                    Err(error) => {
                        tracing::warn!(url = %self.settings.url, %error, "fetching the JWKS failed");
                        if self.keys.read().await.is_empty() {
                            return Err(TokenRejection::KeysUnavailable);
                        }
                    }
                }
            }
        }
        self.lookup(kid, alg)
            .await
            .unwrap_or(Err(TokenRejection::UnknownKey))
    }

    async fn lookup(
        &self,
        kid: &str,
        alg: Algorithm,
    ) -> Option<Result<DecodingKey, TokenRejection>> {
        let keys = self.keys.read().await;
        let key = keys.get(kid)?;
        let wanted = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => Family::Rsa,
            Algorithm::ES256 | Algorithm::ES384 => Family::Ec,
            // An HMAC or EdDSA token never matches a published key.
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 | Algorithm::EdDSA => {
                return Some(Err(TokenRejection::UnknownKey))
            }
        };
        Some(if key.family == wanted {
            Ok(key.key.clone())
        } else {
            Err(TokenRejection::UnknownKey)
        })
    }

    async fn fetch(&self) -> Result<HashMap<String, Key>, reqwest::Error> {
        let set: JwkSet = self
            .client
            .get(&self.settings.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let family = match jwk.algorithm {
                AlgorithmParameters::RSA(_) => Family::Rsa,
                AlgorithmParameters::EllipticCurve(_) => Family::Ec,
                _ => continue,
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid, Key { family, key });
            }
        }
        Ok(keys)
    }
}
