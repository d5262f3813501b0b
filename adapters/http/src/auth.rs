//! Who is calling: the bearer token from the `Authorization` header, or else from the auth cookie,
//! verified by the [`TokenVerifier`](iam_ports::TokenVerifier) port.

use actix_web::http::header;
use actix_web::HttpRequest;
use iam_domain::UserId;
use iam_ports::TokenRejection;

use crate::error::ApiError;
use crate::AppState;

/// Where the token was found.
#[derive(Debug, PartialEq, Eq)]
enum Credentials<'a> {
    None,
    Token(&'a str),
    Malformed,
}

/// Reads the credentials: `Authorization: Bearer <token>` first (the scheme matched without case,
/// as SimpleJWT does), then the cookie. A header with another scheme is not a credential.
fn credentials<'a>(req: &'a HttpRequest, cookie: &str) -> Credentials<'a> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let Ok(value) = value.to_str() else {
            return Credentials::Malformed;
        };
        let mut parts = value.split_ascii_whitespace();
        if parts
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        {
            return match (parts.next(), parts.next()) {
                (Some(token), None) => Credentials::Token(token),
                _ => Credentials::Malformed,
            };
        }
    }
    for value in req.headers().get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((name, token)) = pair.trim().split_once('=') {
                if name == cookie && !token.is_empty() {
                    return Credentials::Token(token.trim_matches('"'));
                }
            }
        }
    }
    Credentials::None
}

/// The calling user, or the 401 (or, when the key server is down, 503) to answer with.
///
/// # Errors
/// `NotAuthenticated` without credentials, `InvalidToken` for a token that does not verify,
/// `Unavailable` when the signing keys cannot be fetched.
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<UserId, ApiError> {
    let token = match credentials(req, &state.settings.auth_cookie) {
        Credentials::None => return Err(ApiError::NotAuthenticated),
        Credentials::Malformed => return Err(ApiError::InvalidToken),
        Credentials::Token(token) => token,
    };
    state.verifier.verify(token).await.map_err(|rejection| {
        tracing::debug!(%rejection, "token refused");
        match rejection {
            TokenRejection::KeysUnavailable => ApiError::Unavailable {
                cause: Box::new(rejection),
                retry_after: state.settings.retry_after_secs,
            },
            _ => ApiError::InvalidToken,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn creds(req: &HttpRequest) -> Credentials<'_> {
        credentials(req, "access_token")
    }

    #[test]
    fn bearer_header_comes_first() {
        let req = TestRequest::default()
            .insert_header(("Authorization", "bearer abc"))
            .insert_header(("Cookie", "access_token=def"))
            .to_http_request();
        assert_eq!(creds(&req), Credentials::Token("abc"));
    }

    #[test]
    fn the_cookie_is_used_without_a_bearer_header() {
        let req = TestRequest::default()
            .insert_header(("Authorization", "Basic dTpw"))
            .insert_header(("Cookie", "theme=dark; access_token=def"))
            .to_http_request();
        assert_eq!(creds(&req), Credentials::Token("def"));
    }

    #[test]
    fn a_bearer_header_without_exactly_one_token_is_malformed() {
        for value in ["Bearer", "Bearer a b"] {
            let req = TestRequest::default()
                .insert_header(("Authorization", value))
                .to_http_request();
            assert_eq!(creds(&req), Credentials::Malformed, "{value}");
        }
    }

    #[test]
    fn nothing_is_no_credentials() {
        let req = TestRequest::default()
            .insert_header(("Cookie", "other=1"))
            .to_http_request();
        assert_eq!(creds(&req), Credentials::None);
    }
}
