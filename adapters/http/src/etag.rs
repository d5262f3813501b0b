//! Entity tags. An `ETag` is `"<version>-<digest>"`: the version changes with every write, so
//! `If-Match` compares versions and guards writes; the digest is of the representation, which also
//! shows figures that change without a write, so `If-None-Match` compares whole tags.

use actix_web::http::header::HeaderValue;
use iam_domain::Version;

/// FNV-1a, 64 bits: a fast, stable digest of the representation (not a security measure).
fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
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
