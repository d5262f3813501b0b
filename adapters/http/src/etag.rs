//! Entity tags. An `ETag` is `"<version>-<digest>"`: the version changes with every write, so
//! `If-Match` compares versions and guards writes; the digest is of the representation, which also
//! shows figures that change without a write, so `If-None-Match` compares whole tags.

use actix_web::http::header::HeaderValue;
use iam_domain::Version;

/// A fast, stable 64-bit digest of the representation (not a security measure): the bytes are
/// taken eight at a time, each word folded into the state by a rotation, an exclusive or and a
/// multiplication by an odd constant, then the state is mixed (MurmurHash3's finaliser). Every
/// step is a bijection of the state for the word it takes, so two bodies of the same length that
/// differ within one word always get different digests; the length is folded in first. Before,
/// FNV-1a took a byte at a time: four cycles per byte, 3–4 % of the server's CPU on GET
/// (`docs/benchmarks.md`).
fn digest(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let fold = |state: u64, word: u64| (state.rotate_left(23) ^ word).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    let mut state = fold(0xcbf2_9ce4_8422_2325, bytes.len() as u64);
    for word in &mut words {
        let mut w = [0; 8];
        w.copy_from_slice(word);
        state = fold(state, u64::from_le_bytes(w));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut w = [0; 8];
        w[..rest.len()].copy_from_slice(rest);
        state = fold(state, u64::from_le_bytes(w));
    }
    state ^= state >> 33;
    state = state.wrapping_mul(0xff51_afd7_ed55_8ccd);
    state ^= state >> 33;
    state = state.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    state ^ (state >> 33)
}

/// The strong entity tag of a representation.
pub fn etag(version: Version, body: &[u8]) -> String {
    format!("\"{}-{:016x}\"", version.get(), digest(body))
}

/// The tags listed in a conditional header; `None` for `*`.
fn tags(value: &str) -> Option<Vec<&str>> {
    let value = value.trim();
    if value == "*" {
        return None;
    }
    Some(
        value
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect(),
    )
}

/// What `If-Match` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// No header, or `*`: no condition on the version.
    Any,
    /// The write must find this version.
    Version(Version),
}

impl IfMatch {
    /// Reads `If-Match`. A weak tag, or one this service never issued, can match no version: it
    /// asks for version 0, which no row has, so the write answers 412.
    pub fn parse(header: Option<&HeaderValue>) -> IfMatch {
        let Some(header) = header else {
            return IfMatch::Any;
        };
        let Ok(value) = header.to_str() else {
            return IfMatch::Version(Version::new(0));
        };
        let Some(tags) = tags(value) else {
            return IfMatch::Any;
        };
        let version = tags
            .iter()
            .find_map(|tag| {
                let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
                let (version, _) = inner.split_once('-')?;
                version.parse::<i64>().ok()
            })
            .unwrap_or(0);
        IfMatch::Version(Version::new(version))
    }

    /// The expected version to hand the use case.
    pub fn expected(self) -> Option<Version> {
        match self {
            IfMatch::Any => None,
            IfMatch::Version(v) => Some(v),
        }
    }
}

/// True when `If-None-Match` matches `current` (weak comparison, as RFC 9110 asks for GET).
pub fn none_match_hits(header: Option<&HeaderValue>, current: &str) -> bool {
    let Some(value) = header.and_then(|h| h.to_str().ok()) else {
        return false;
    };
    match tags(value) {
        None => true,
        Some(tags) => tags.iter().any(|t| t.trim_start_matches("W/") == current),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED_EMPTY: u64 = 14_095_042_862_682_188_351;
    const PINNED_OBJECT: &str = "\"7-03fc1e5113df7307\"";

    fn hv(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn tags_change_with_version_and_body() {
        let a = etag(Version::new(1), b"{}");
        assert_ne!(a, etag(Version::new(2), b"{}"));
        assert_ne!(a, etag(Version::new(1), b"{ }"));
        assert!(a.starts_with("\"1-") && a.ends_with('"'));
    }

    #[test]
    fn every_change_of_one_byte_changes_the_digest() {
        // Every length around the word size, and every position and a spread of values.
        for len in 0..40 {
            let body: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let base = digest(&body);
            for at in 0..len {
                for value in [0u8, 1, b'"', b'z', 0x80, 0xff] {
                    if body[at] == value {
                        continue;
                    }
                    let mut changed = body.clone();
                    changed[at] = value;
                    assert_ne!(digest(&changed), base, "len {len}, byte {at} = {value}");
                }
            }
            // A body one byte longer, even with a zero byte (the padding of the last word).
            let mut longer = body.clone();
            longer.push(0);
            assert_ne!(digest(&longer), base, "len {len} + a zero byte");
        }
    }

    #[test]
    fn the_digest_is_stable() {
        // Tags outlive a process: clients send them back to another instance or a later build,
        // so the digest of a body must not change between builds.
        assert_eq!(digest(b""), PINNED_EMPTY);
        assert_eq!(etag(Version::new(7), b"{}"), PINNED_OBJECT);
    }

    #[test]
    fn if_match_reads_the_version() {
        let tag = etag(Version::new(41), b"x");
        assert_eq!(
            IfMatch::parse(Some(&hv(&tag))),
            IfMatch::Version(Version::new(41))
        );
        assert_eq!(IfMatch::parse(Some(&hv("*"))), IfMatch::Any);
        assert_eq!(IfMatch::parse(None), IfMatch::Any);
        assert_eq!(
            IfMatch::parse(Some(&hv("W/\"41-0\""))),
            IfMatch::Version(Version::new(0))
        );
        assert_eq!(
            IfMatch::parse(Some(&hv("garbage"))),
            IfMatch::Version(Version::new(0))
        );
        assert_eq!(
            IfMatch::parse(Some(&hv(&format!("\"x\", {tag}")))),
            IfMatch::Version(Version::new(41))
        );
    }

    #[test]
    fn if_none_match_compares_whole_tags_weakly() {
        let tag = etag(Version::new(3), b"x");
        assert!(none_match_hits(Some(&hv(&tag)), &tag));
        assert!(none_match_hits(Some(&hv(&format!("W/{tag}"))), &tag));
        assert!(none_match_hits(Some(&hv("*")), &tag));
        assert!(!none_match_hits(Some(&hv("\"3-0000000000000000\"")), &tag));
        assert!(!none_match_hits(None, &tag));
    }
}
