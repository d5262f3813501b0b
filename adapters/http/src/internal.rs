//! The internal API: how the platform's other services record the facts behind the read-only
//! figures, on any user id, under [`PREFIX`]. It is mounted only when service tokens are
//! configured, and it takes only a service token (`Authorization: Bearer …`, never the cookie);
//! user routes never take a service token, and these routes never take a user's token.
//!
//! | route (under `PREFIX/{user_id}`) | methods | body of `PUT` |
//! | --- | --- | --- |
//! | `ratings/{domain}/` | `PUT`, `DELETE` | `{"rating": 1512.5}` |
//! | `activity-days/{YYYY-MM-DD}/` | `PUT`, `DELETE` | none |
//! | `freeze-days/{YYYY-MM-DD}/` | `PUT`, `DELETE` | none |
//! | `titles/{title}/` | `PUT`, `DELETE` | none, or `{"unlocked_at": "2026-11-30T12:00:00Z"}` |
//! | `figures/` | `GET` | |
//!
//! Writes answer 204 and are idempotent; removing what is not there is 204 too.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::social::{Rating, RatingDomain, TitleName};
use iam_domain::UserId;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::drf::{fact_message, message, messages as msg, FieldErrors};
use crate::dto::UserFigures;
use crate::error::ApiError;
use crate::routes::{deadline, mapper, read_body, within, within_write};
use crate::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// Where the internal API lives.
pub const PREFIX: &str = "/internal/v1/iam/users";
/// A rating in a domain.
pub const RATING: &str = "/internal/v1/iam/users/{user_id}/ratings/{domain}/";
/// An activity day.
pub const ACTIVITY_DAY: &str = "/internal/v1/iam/users/{user_id}/activity-days/{day}/";
/// A freeze day.
pub const FREEZE_DAY: &str = "/internal/v1/iam/users/{user_id}/freeze-days/{day}/";
/// An unlocked title.
pub const TITLE: &str = "/internal/v1/iam/users/{user_id}/titles/{title}/";
/// A user's figures.
pub const FIGURES: &str = "/internal/v1/iam/users/{user_id}/figures/";

/// The shortest service token accepted, in bytes: a token is a random secret, not a password.
pub const MIN_TOKEN_LEN: usize = 32;

/// The service tokens the internal API accepts (several, so that one can be rotated while the
/// other is still in use). Only their SHA-256 digests are kept, and a presented token is compared
/// with every digest in full, so neither memory nor timing gives a token away.
pub struct ServiceTokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServiceTokens({} configured)", self.digests.len())
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl ServiceTokens {
    /// The accepted tokens.
    ///
    /// # Errors
    /// When there is none, or one is shorter than [`MIN_TOKEN_LEN`] bytes.
    pub fn new<'a>(tokens: impl IntoIterator<Item = &'a str>) -> std::result::Result<Self, String> {
        let mut digests = Vec::new();
        for token in tokens {
            if token.len() < MIN_TOKEN_LEN {
                return Err(format!(
                    "a service token must be at least {MIN_TOKEN_LEN} bytes long"
                ));
            }
            digests.push(digest(token));
        }
        if digests.is_empty() {
            return Err("no service token given".into());
        }
        Ok(Self { digests })
    }

    /// Whether `token` is one of them.
    pub fn accepts(&self, token: &str) -> bool {
        let presented = digest(token);
        self.digests.iter().fold(false, |found, known| {
            let differs = known
                .iter()
                .zip(presented.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            found | (differs == 0)
        })
    }
}

/// Checks the service token: the bearer header only.
fn authenticate_service(req: &HttpRequest, state: &AppState) -> Result<()> {
    let Some(tokens) = &state.service_tokens else {
        return Err(ApiError::NoRoute);
    };
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::NotAuthenticated);
    };
    let mut parts = value.to_str().unwrap_or_default().split_ascii_whitespace();
    let token = match (parts.next(), parts.next(), parts.next()) {
        (Some(scheme), Some(token), None) if scheme.eq_ignore_ascii_case("bearer") => token,
        _ => return Err(ApiError::InvalidToken),
    };
    if tokens.accepts(token) {
        Ok(())
    } else {
        tracing::debug!("service token refused");
        Err(ApiError::InvalidToken)
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Invalid(FieldErrors::single(field, message))
}

fn user_id(segment: &str) -> Result<UserId> {
    UserId::parse(segment).map_err(|e| invalid("user_id", message(e)))
}

fn day(segment: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(segment, "%Y-%m-%d").map_err(|_| invalid("day", msg::DATE_FORMAT))
}

/// A JSON body, or `{}` when the request has neither a body nor a `Content-Type`.
async fn optional_body(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    deadline: Instant,
) -> Result<Value> {
    let empty = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_none_or(|v| v.as_bytes() == b"0");
    if empty && req.headers().get(header::CONTENT_TYPE).is_none() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    Ok(read_body(req, payload, state, deadline).await?.value)
}

/// Runs a write of the internal API by the request's `deadline` and answers 204.
async fn write(
    state: &AppState,
    deadline: Instant,
    work: impl std::future::Future<Output = std::result::Result<(), iam_ports::FactsError>>,
) -> Result<HttpResponse> {
    within_write(state, deadline, async {
        work.await.map_err(|e| mapper(state).facts(e))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT ratings/{domain}/` with `{"rating": number}`.
pub async fn put_rating(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    authenticate_service(&req, &state)?;
    let user = user_id(&path.0)?;
    let domain =
        RatingDomain::parse(path.1.as_str()).map_err(|e| invalid("domain", fact_message(e)))?;
    let body = read_body(&req, payload, &state, deadline).await?.value;
    let Some(object) = body.as_object() else {
        return Err(invalid("non_field_errors", msg::not_an_object(&body)));
    };
    let rating = match object.get("rating") {
        None => return Err(invalid("rating", msg::REQUIRED)),
        Some(value) => value
            .as_f64()
            .ok_or_else(|| invalid("rating", fact_message(iam_domain::FactError::NotFinite)))
            .and_then(|n| Rating::new(n).map_err(|e| invalid("rating", fact_message(e))))?,
    };
    write(&state, deadline, state.facts.rate(&user, &domain, rating)).await
}

/// `DELETE ratings/{domain}/`.
pub async fn delete_rating(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    authenticate_service(&req, &state)?;
    let user = user_id(&path.0)?;
    let domain =
        RatingDomain::parse(path.1.as_str()).map_err(|e| invalid("domain", fact_message(e)))?;
    write(&state, deadline, state.facts.remove_rating(&user, &domain)).await
}

/// The two kinds of day a user has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// `activity-days/{day}/`: the user was active.
    Activity,
    /// `freeze-days/{day}/`: a streak freeze covered the day.
    Freeze,
}

/// `PUT` (or, with `remove`, `DELETE`) of `activity-days/{day}/` or `freeze-days/{day}/`.
pub async fn day_fact(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    kind: DayKind,
    remove: bool,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    authenticate_service(&req, &state)?;
    let (user, day) = (user_id(&path.0)?, day(&path.1)?);
    let facts = &state.facts;
    let work = match (kind, remove) {
        (DayKind::Activity, false) => facts.record_activity(&user, day),
        (DayKind::Activity, true) => facts.remove_activity(&user, day),
        (DayKind::Freeze, false) => facts.grant_freeze(&user, day),
        (DayKind::Freeze, true) => facts.remove_freeze(&user, day),
    };
    write(&state, deadline, work).await
}

/// `PUT titles/{title}/`, optionally with `{"unlocked_at": RFC 3339}` (now without it).
pub async fn put_title(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    authenticate_service(&req, &state)?;
    let user = user_id(&path.0)?;
    let title = TitleName::parse(path.1.as_str()).map_err(|e| invalid("title", fact_message(e)))?;
    let body = optional_body(&req, payload, &state, deadline).await?;
    let Some(object) = body.as_object() else {
        return Err(invalid("non_field_errors", msg::not_an_object(&body)));
    };
    let at = match object.get("unlocked_at") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_str()
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|at| at.with_timezone(&Utc))
                .ok_or_else(|| invalid("unlocked_at", msg::DATETIME_FORMAT))?,
        ),
    };
    write(
        &state,
        deadline,
        state.facts.unlock_title(&user, &title, at),
    )
    .await
}

/// `DELETE titles/{title}/`.
pub async fn delete_title(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    authenticate_service(&req, &state)?;
    let user = user_id(&path.0)?;
    let title = TitleName::parse(path.1.as_str()).map_err(|e| invalid("title", fact_message(e)))?;
    write(&state, deadline, state.facts.remove_title(&user, &title)).await
}

/// `GET figures/`: the user's figures as they see them on `/me/` (zeros without facts).
pub async fn get_figures(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    authenticate_service(&req, &state)?;
    let user = user_id(&path)?;
    let figures = within(&state, deadline, async {
        state
            .facts
            .figures(&user)
            .await
            .map_err(|e| mapper(&state).facts(e))
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserFigures::new(&user, &figures)))
}

/// Another method on a fact route: authentication first, then 405.
pub async fn fact_other_method(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    authenticate_service(&req, &state)?;
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: "PUT, DELETE",
    })
}

/// Another method on the figures route: authentication first, then 405.
pub async fn figures_other_method(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    authenticate_service(&req, &state)?;
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: "GET",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_tokens_are_accepted() {
        let a = "a".repeat(MIN_TOKEN_LEN);
        let b = "b".repeat(MIN_TOKEN_LEN + 8);
        let tokens = ServiceTokens::new([a.as_str(), b.as_str()]).unwrap();
        assert!(tokens.accepts(&a) && tokens.accepts(&b));
        assert!(!tokens.accepts(&"a".repeat(MIN_TOKEN_LEN + 1)));
        assert!(!tokens.accepts(""));
        assert!(!format!("{tokens:?}").contains(&a), "no token in Debug");
    }

    #[test]
    fn short_tokens_and_none_are_refused() {
        assert!(ServiceTokens::new(["short"]).is_err());
        assert!(ServiceTokens::new(std::iter::empty()).is_err());
    }
}
