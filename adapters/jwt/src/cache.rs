//! Tokens the configured key has verified, so that a token presented again skips the signature,
//! the two base64 decodings and the JSON of its header and claims (about a fifth of the server's
//! work per `GET /me/`, `docs/benchmarks.md`).
//!
//! Invariants, held by the tests in `tests.rs` except where said:
//! - **An answer from the cache is the answer a full verification would give now.** What a token
//!   proves about its signature, issuer, audience, token type and user depends only on its bytes
//!   and the configured key, which is fixed for the life of the process; only the time claims
//!   depend on when it is presented, and they are checked again on every use ([`Verified::at`]).
//! - **Only the exact token that was verified hits.** Entries are keyed by the SHA-256 of the
//!   whole token (header, claims and signature): finding another token with the same digest is a
//!   second preimage of SHA-256. A token with a changed claim or a borrowed signature misses and
//!   is verified in full.
//! - **Only tokens the configured key verified are kept**: refusals are not, nor tokens verified
//!   through a JWKS, whose keys can change while the process runs (the JWKS path passes no digest
//!   to keep; no test holds this one, as the unit tests have no key server).
//! - **Bounded**: at most `capacity` entries; an insert into a full cache first empties it. An
//!   entry is a digest, a user id and two times: no token is kept, and a digest cannot be
//!   presented as one.

use std::collections::HashMap;
use std::sync::Mutex;

use iam_domain::UserId;
use iam_ports::TokenRejection;
use sha2::{Digest as _, Sha256};

/// The most tokens the server keeps verified: about 1.5 MiB when full (16,384 hash buckets of
/// 80 bytes, a digest, a user id and the times, plus the ids' text; the peak RSS of the bench's
/// 100,000-user SQLite line was 1.7 MiB higher with it than in the run before). 14,336 is what
/// 16,384 buckets hold, so the table never grows past them. Active users beyond it are verified
/// in full more often; nothing else changes.
pub(crate) const CAPACITY: usize = 14_336;

/// The SHA-256 of a whole token.
pub(crate) type Digest = [u8; 32];

/// The digest a token is kept under.
pub(crate) fn digest(token: &str) -> Digest {
    Sha256::digest(token.as_bytes()).into()
}

/// What a verified token proves, apart from the time.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) user: UserId,
    pub(crate) times: Times,
}

/// A token's time claims, all numbers: `exp` (required), and the later of `nbf` and `iat` when
/// either is present.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Times {
    pub(crate) expires: f64,
    pub(crate) not_before: Option<f64>,
}

impl Times {
    /// Whether a token with these claims is valid at `now` (seconds since the epoch), allowing
    /// `leeway` seconds of clock skew each way.
    pub(crate) fn at(self, now: f64, leeway: f64) -> Result<(), TokenRejection> {
        if self.expires <= now - leeway {
            return Err(TokenRejection::Expired);
        }
        if self.not_before.is_some_and(|t| t > now + leeway) {
            return Err(TokenRejection::NotYetValid);
        }
        Ok(())
    }
}

impl Verified {
    /// The user, if the token is valid at `now`.
    pub(crate) fn at(&self, now: f64, leeway: f64) -> Result<UserId, TokenRejection> {
        self.times.at(now, leeway).map(|()| self.user.clone())
    }
}

/// The verified tokens, shared by every worker.
#[derive(Debug)]
pub(crate) struct VerifiedTokens {
    entries: Mutex<HashMap<Digest, Verified>>,
    capacity: usize,
}

impl VerifiedTokens {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, Verified>> {
        // A panic while the lock was held cannot leave an entry half written (entries are
        // inserted whole), so a poisoned map is still a correct one.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The answer for the token kept under `digest` at `now`, if it is kept.
    pub(crate) fn get(
        &self,
        digest: &Digest,
        now: f64,
        leeway: f64,
    ) -> Option<Result<UserId, TokenRejection>> {
        self.entries().get(digest).map(|v| v.at(now, leeway))
    }

    /// Keeps a token the configured key has verified.
    pub(crate) fn insert(&self, digest: Digest, verified: Verified) {
        let mut entries = self.entries();
        if entries.len() >= self.capacity && !entries.contains_key(&digest) {
            entries.clear();
        }
        entries.insert(digest, verified);
    }

    /// How many tokens are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries().len()
    }
}
