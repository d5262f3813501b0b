//! The one HTTP error type. Every variant has an explicit public body; causes of 5xx answers are
//! logged with their whole chain and never sent.

use std::fmt::Write as _;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use iam_ports::{Cause, CreateError, DeleteError, FactsError, FollowError, GetError, UpdateError};
use serde_json::{json, Map, Value};

use crate::drf::{fact_message, FieldError, FieldErrors};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No token in the header or the cookie.
    #[error("authentication credentials were not provided")]
    NotAuthenticated,
    /// A token that does not verify.
    #[error("token not valid")]
    InvalidToken,
    /// The caller (or the user named in the path) has no details.
    #[error("user details not found")]
    DetailsNotFound,
    /// The caller named themselves to follow or unfollow.
    #[error("a user cannot follow themselves")]
    FollowSelf,
    /// No route has this path.
    #[error("no such route")]
    NoRoute,
    /// A route that exists, with another method.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The methods the route has.
        allow: &'static str,
    },
    /// The caller already has details.
    #[error("user details already exist")]
    AlreadyExists,
    /// Validation failures.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// The body is not JSON.
    #[error("JSON parse error - {0}")]
    Parse(String),
    /// A media type this route does not read.
    #[error("unsupported media type")]
    UnsupportedMediaType(Option<String>),
    /// A body over the limit.
    #[error("body too large")]
    TooLarge(usize),
    /// The client went silent (or too slow) while sending the body: 408, connection closed.
    #[error("request body not received in time")]
    BodyTimeout,
    /// `If-Match` names another version.
    #[error("precondition failed")]
    PreconditionFailed,
    /// Storage (or the key server) cannot be reached now.
    #[error("service unavailable")]
    Unavailable {
        /// Why, for the log.
        cause: Cause,
        /// Seconds for `Retry-After`.
        retry_after: u32,
    },
    /// Anything else.
    #[error("internal error")]
    Internal(Cause),
}

/// A cause and its sources, on one line. Many errors (sqlx's among them) repeat their source's
/// message in their own: a source whose message is already in the line is not written again.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            let _ = write!(out, ": {text}");
        }
        source = cause.source();
    }
    out
}

/// DRF's rendering of field errors.
pub fn field_errors_json(errors: &FieldErrors) -> Value {
    let mut map = Map::new();
    for (field, error) in errors.iter() {
        let value = match error {
            FieldError::Messages(messages) => json!(messages),
            FieldError::Items(items) => Value::Object(
                items
                    .iter()
                    .map(|(index, messages)| (index.to_string(), json!(messages)))
                    .collect(),
            ),
        };
        map.insert(field.to_owned(), value);
    }
    Value::Object(map)
}

fn detail(message: &str) -> Value {
    json!({ "detail": message })
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotAuthenticated | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::DetailsNotFound | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::AlreadyExists => StatusCode::CONFLICT,
            ApiError::Invalid(_) | ApiError::Parse(_) | ApiError::FollowSelf => {
                StatusCode::BAD_REQUEST
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        let body = match self {
            ApiError::NotAuthenticated => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"api\""));
                detail("Authentication credentials were not provided.")
            }
            ApiError::InvalidToken => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"api\""));
                json!({
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                })
            }
            ApiError::DetailsNotFound => detail("User details not found."),
            ApiError::FollowSelf => detail("You cannot follow yourself."),
            ApiError::NoRoute => detail("Not found."),
            ApiError::MethodNotAllowed { method, allow } => {
                response.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
                detail(&format!("Method \"{method}\" not allowed."))
            }
            ApiError::AlreadyExists => detail("User details already exist."),
            ApiError::Invalid(errors) => field_errors_json(errors),
            ApiError::Parse(message) => detail(&format!("JSON parse error - {message}")),
            ApiError::UnsupportedMediaType(Some(media)) => {
                detail(&format!("Unsupported media type \"{media}\" in request."))
            }
            ApiError::UnsupportedMediaType(None) => {
                detail("Unsupported media type \"\" in request.")
            }
            ApiError::TooLarge(limit) => {
                detail(&format!("Request body is larger than {limit} bytes."))
            }
            ApiError::BodyTimeout => {
                // The rest of the body may still come: the connection cannot be reused.
                response.force_close();
                detail("The request body was not received in time.")
            }
            ApiError::PreconditionFailed => {
                detail("Precondition failed: the details have changed since you read them.")
            }
            ApiError::Unavailable { cause, retry_after } => {
                tracing::warn!(cause = %error_chain(cause.as_ref()), "storage unavailable");
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
                detail("Service temporarily unavailable.")
            }
            ApiError::Internal(cause) => {
                tracing::error!(cause = %error_chain(cause.as_ref()), "request failed");
                detail("A server error occurred.")
            }
        };
        response.json(body)
    }
}

/// Maps use-case errors, with the `Retry-After` to send on a 503.
pub struct Mapper {
    /// Seconds for `Retry-After`.
    pub retry_after: u32,
}

impl Mapper {
    fn unavailable(&self, cause: Cause) -> ApiError {
        ApiError::Unavailable {
            cause,
            retry_after: self.retry_after,
        }
    }

    /// A read's error.
    pub fn get(&self, e: GetError) -> ApiError {
        match e {
            GetError::NotFound => ApiError::DetailsNotFound,
            GetError::Unavailable(c) => self.unavailable(c),
            GetError::Unexpected(c) => ApiError::Internal(c),
        }
    }

    /// A create's error.
    pub fn create(&self, e: CreateError) -> ApiError {
        match e {
            CreateError::Invalid(errors) => ApiError::Invalid(FieldErrors::from(&errors)),
            CreateError::AlreadyExists => ApiError::AlreadyExists,
            CreateError::Unavailable(c) => self.unavailable(c),
            CreateError::Unexpected(c) => ApiError::Internal(c),
        }
    }

    /// An update's error.
    pub fn update(&self, e: UpdateError) -> ApiError {
        match e {
            UpdateError::NotFound => ApiError::DetailsNotFound,
            UpdateError::Invalid(errors) => ApiError::Invalid(FieldErrors::from(&errors)),
            UpdateError::VersionMismatch => ApiError::PreconditionFailed,
            UpdateError::Unavailable(c) => self.unavailable(c),
            UpdateError::Unexpected(c) => ApiError::Internal(c),
        }
    }

    /// A follow's or an unfollow's error.
    pub fn follow(&self, e: FollowError) -> ApiError {
        match e {
            FollowError::Themselves => ApiError::FollowSelf,
            FollowError::NotFound => ApiError::DetailsNotFound,
            FollowError::Unavailable(c) => self.unavailable(c),
            FollowError::Unexpected(c) => ApiError::Internal(c),
        }
    }

    /// An internal-API error.
    pub fn facts(&self, e: FactsError) -> ApiError {
        match e {
            FactsError::Invalid { field, error } => {
                ApiError::Invalid(FieldErrors::single(field, fact_message(error)))
            }
            FactsError::Unavailable(c) => self.unavailable(c),
            FactsError::Unexpected(c) => ApiError::Internal(c),
        }
    }

    /// A delete's error.
    pub fn delete(&self, e: DeleteError) -> ApiError {
        match e {
            DeleteError::NotFound => ApiError::DetailsNotFound,
            DeleteError::VersionMismatch => ApiError::PreconditionFailed,
            DeleteError::Unavailable(c) => self.unavailable(c),
            DeleteError::Unexpected(c) => ApiError::Internal(c),
        }
    }
}

#[cfg(test)]
mod chain_tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("io failed: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("migrating")]
    struct Outer(#[source] Repeats);

    #[test]
    fn each_message_is_written_once() {
        let error = Outer(Repeats(std::io::Error::other("connection refused")));
        assert_eq!(
            error_chain(&error),
            "migrating: io failed: connection refused"
        );
    }
}
