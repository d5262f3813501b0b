//! # iam-http: the actix-web front
//!
//! Everything the web app talks to, over the [`UserDetailsService`] use cases and the
//! [`TokenVerifier`] port:
//! - [`routes`]: the user routes (`/api/v1/iam/iamuserdetails/me/` and the create route), the schema
//!   and docs routes, health, readiness and metrics; every path with or without its trailing slash,
//!   405 with `Allow` for other methods. It registers the routes of the two modules below too.
//! - [`social`]: another user's public view, follow and unfollow.
//! - [`internal`]: the internal API of the platform's other services (ratings, activity and
//!   freeze days, titles, figures), behind its own service tokens.
//! - [`auth`]: the bearer header or cookie, verified; the two 401 bodies.
//! - [`drf`]: the wire format of writes, as Django REST framework reads and reports it: a JSON
//!   body becomes a typed patch (generated from the domain's table of fields), the domain's typed
//!   errors become DRF's messages.
//! - [`dto`]: the `IAMUserDetail` representation (serde and the OpenAPI schema live here, not in the
//!   domain).
//! - [`error`]: the one error type, mapped from port errors to the contract's statuses and bodies;
//!   5xx causes go to the log only.
//! - [`etag`]: the strong `ETag`, `If-Match` and `If-None-Match`.
//! - [`openapi`]: the service's OpenAPI 3.1 document and the offline Swagger UI.
//! - [`observe`]: `X-Request-Id`, one log line per request, Prometheus metrics.
//! - [`rejected`]: the contract's shape for what actix-http rejects before any route.

pub mod auth;
pub mod drf;
pub mod dto;
pub mod error;
pub mod etag;
pub mod internal;
pub mod observe;
pub mod openapi;
pub mod rejected;
pub mod routes;
pub mod social;

use std::sync::Arc;

use iam_ports::{Clock, FactsService, SocialService, TokenVerifier, UserDetailsService};

pub use internal::ServiceTokens;
pub use observe::Metrics;
pub use routes::configure;

/// Settings of the HTTP front.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The cookie that may carry the access token.
    pub auth_cookie: String,
    /// The largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Seconds a client is asked to wait after a 503.
    pub retry_after_secs: u32,
    /// The longest a request may take before it is answered with 503 (its body must arrive
    /// within it too, or the answer is 408).
    pub request_timeout: std::time::Duration,
    /// The longest silence while a client sends a request's body (408 after, connection closed);
    /// the server applies the same to the head.
    pub client_timeout: std::time::Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            auth_cookie: "access_token".into(),
            body_limit: 64 * 1024,
            retry_after_secs: 5,
            request_timeout: std::time::Duration::from_secs(30),
            client_timeout: std::time::Duration::from_secs(5),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The use cases of the caller's own details.
    pub service: Arc<dyn UserDetailsService>,
    /// The use cases of a user's dealings with other users.
    pub social: Arc<dyn SocialService>,
    /// The platform's use cases (the internal API).
    pub facts: Arc<dyn FactsService>,
    /// The service tokens of the internal API; without them it is not mounted.
    pub service_tokens: Option<Arc<ServiceTokens>>,
    /// The token verifier.
    pub verifier: Arc<dyn TokenVerifier>,
    /// The clock that says what "today" is when a body is read (the date-of-birth rule).
    pub clock: Arc<dyn Clock>,
    /// The HTTP settings.
    pub settings: HttpSettings,
    /// Request metrics and pool gauges.
    pub metrics: Arc<Metrics>,
}
