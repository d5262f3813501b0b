//! The routes and their handlers. Each handler authenticates, reads and checks the request, calls
//! one use case and renders the outcome; errors become [`ApiError`]s.

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use iam_domain::{JsonMode, UserProfile};
use iam_ports::{WriteGate, WriteRequest};
use serde_json::{json, Value};
use tokio::time::Instant;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::authenticate;
use crate::drf::{parse_patch, FieldErrors, ParseOptions, WriteMode};
use crate::dto::{self, View};
use crate::error::{ApiError, Mapper};
use crate::etag::{etag, none_match_hits, IfMatch};
use crate::openapi::{CREATE, ME, OPENAPI, OPENAPI_JSON};
use crate::{internal, social, AppState};

type Result<T> = std::result::Result<T, ApiError>;

const ME_METHODS: &str = "GET, PUT, PATCH, DELETE";

/// Both spellings of a path: without and with its trailing slash.
fn both(path: &str) -> [String; 2] {
    let bare = path.trim_end_matches('/');
    [bare.to_owned(), format!("{bare}/")]
}

/// Registers every route and the shared state on an actix app. Each spelling of a path is its own
/// resource: a resource with several patterns is matched with a regex set, a single static
/// pattern by plain comparison.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let mount_internal = state.service_tokens.is_some();
        cfg.app_data(web::Data::new(state));
        for path in both(ME) {
            cfg.service(
                web::resource(path)
                    .route(web::get().to(get_me))
                    .route(web::put().to(put_me))
                    .route(web::patch().to(patch_me))
                    .route(web::delete().to(delete_me))
                    .default_service(web::to(me_other_method)),
            );
        }
        for path in both(CREATE) {
            cfg.service(
                web::resource(path)
                    .route(web::post().to(create))
                    .default_service(web::to(create_other_method)),
            );
        }
        // After `/me/`, so that `me` is never taken for a user id here.
        for path in both(social::PUBLIC) {
            cfg.service(
                web::resource(path)
                    .route(web::get().to(social::get_public))
                    .default_service(web::to(social::public_other_method)),
            );
        }
        for path in both(social::FOLLOW) {
            cfg.service(
                web::resource(path)
                    .route(web::post().to(social::follow))
                    .route(web::delete().to(social::unfollow))
                    .default_service(web::to(social::follow_other_method)),
            );
        }
        if mount_internal {
            configure_internal(cfg);
        }
        for path in both("/api/schema") {
            cfg.service(
                web::resource(path)
                    .route(web::get().to(schema))
                    .default_service(web::to(get_only)),
            );
        }
        for path in both("/healthz") {
            cfg.service(
                web::resource(path)
                    .route(web::get().to(healthz))
                    .default_service(web::to(get_only)),
            );
        }
        for path in both("/readyz") {
            cfg.service(
                web::resource(path)
                    .route(web::get().to(readyz))
                    .default_service(web::to(get_only)),
            );
        }
        for path in both("/metrics") {
            cfg.service(
                web::resource(path)
                    .route(web::get().to(metrics))
                    .default_service(web::to(get_only)),
            );
        }
        // Swagger UI loads its files relative to its page, so the bare path redirects.
        cfg.service(
            web::resource("/api/docs")
                .route(web::get().to(docs_without_slash))
                .default_service(web::to(get_only)),
        );
        cfg.service(
            SwaggerUi::new("/api/docs/{_:.*}").url("/api/docs/openapi.json", OPENAPI.clone()),
        )
        .default_service(web::to(no_route));
    }
}

/// The internal API's routes ([`internal`]).
fn configure_internal(cfg: &mut web::ServiceConfig) {
    for path in both(internal::RATING) {
        cfg.service(
            web::resource(path)
                .route(web::put().to(internal::put_rating))
                .route(web::delete().to(internal::delete_rating))
                .default_service(web::to(internal::fact_other_method)),
        );
    }
    for (pattern, kind) in [
        (internal::ACTIVITY_DAY, internal::DayKind::Activity),
        (internal::FREEZE_DAY, internal::DayKind::Freeze),
    ] {
        for path in both(pattern) {
            let day = move |remove| {
                move |req, path, state| internal::day_fact(req, path, state, kind, remove)
            };
            cfg.service(
                web::resource(path)
                    .route(web::put().to(day(false)))
                    .route(web::delete().to(day(true)))
                    .default_service(web::to(internal::fact_other_method)),
            );
        }
    }
    for path in both(internal::TITLE) {
        cfg.service(
            web::resource(path)
                .route(web::put().to(internal::put_title))
                .route(web::delete().to(internal::delete_title))
                .default_service(web::to(internal::fact_other_method)),
        );
    }
    for path in both(internal::FIGURES) {
        cfg.service(
            web::resource(path)
                .route(web::get().to(internal::get_figures))
                .default_service(web::to(internal::figures_other_method)),
        );
    }
}

/// When a request must be answered: its arrival plus the request timeout.
pub(crate) fn deadline(state: &AppState) -> Instant {
    Instant::now() + state.settings.request_timeout
}

fn timed_out(state: &AppState) -> ApiError {
    ApiError::Unavailable {
        cause: format!(
            "the request took longer than {:?}",
            state.settings.request_timeout
        )
        .into(),
        retry_after: state.settings.retry_after_secs,
    }
}

/// Runs a read by `deadline`; past it, the answer is 503.
pub(crate) async fn within<T>(
    state: &AppState,
    deadline: Instant,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or_else(|_| Err(timed_out(state)))
}

/// Runs a write by `deadline` inside a [`WriteGate`]: past it, the answer is 503 only when the
/// write has not started, and then it never will; a started write is answered with its outcome,
/// however long that takes (its statements are bounded by the database's own timeouts).
pub(crate) async fn within_write<T>(
    state: &AppState,
    deadline: Instant,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let gate = WriteGate::new();
    let work = gate.clone().scope(work);
    tokio::pin!(work);
    tokio::select! {
        outcome = &mut work => outcome,
        () = tokio::time::sleep_until(deadline) => {
            if gate.close() {
                Err(timed_out(state))
            } else {
                work.await
            }
        }
    }
}

pub(crate) fn mapper(state: &AppState) -> Mapper {
    Mapper {
        retry_after: state.settings.retry_after_secs,
    }
}

/// Renders a representation with its `ETag`; a matching `If-None-Match` on a read gives 304.
pub(crate) fn represent(
    headers: &HeaderMap,
    profile: &UserProfile,
    status: StatusCode,
    read: bool,
    view: View,
) -> HttpResponse {
    let body = dto::to_json(profile, view);
    let tag = etag(profile.detail.version, &body);
    if read && none_match_hits(headers.get(header::IF_NONE_MATCH), &tag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish();
    }
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::ETAG, tag))
        .content_type("application/json");
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, ME));
    }
    response.body(body)
}

/// True for `Prefer: handling=strict` (among other preferences).
fn strict(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("handling=strict"))
}

/// A write's body, read as JSON.
pub(crate) struct Body {
    pub(crate) value: Value,
    json_mode: JsonMode,
    strict: bool,
}

impl Body {
    /// The write this body asks for, read with DRF's rules as of the clock's today.
    fn request(
        &self,
        state: &AppState,
        mode: WriteMode,
    ) -> std::result::Result<WriteRequest, FieldErrors> {
        let options = ParseOptions {
            today: state.clock.today(),
            strict: self.strict,
            mode,
        };
        Ok(WriteRequest {
            patch: parse_patch(&self.value, options)?,
            json_mode: self.json_mode,
        })
    }
}

/// Reads a write's body: checks the media type, the size limit and the JSON syntax. An empty
/// body is an empty object, as DRF reads it; a body of only white space is malformed JSON. The
/// body must arrive by `deadline`, with no silence longer than the client timeout (408 if not).
pub(crate) async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    state: &AppState,
    deadline: Instant,
) -> Result<Body> {
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .ok_or(ApiError::UnsupportedMediaType(None))?;
    let media = media
        .to_str()
        .map_err(|_| ApiError::UnsupportedMediaType(None))?;
    let essence = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let json_mode = match essence.as_str() {
        "application/json" => JsonMode::Replace,
        "application/merge-patch+json" => JsonMode::MergePatch,
        _ => return Err(ApiError::UnsupportedMediaType(Some(media.to_owned()))),
    };
    let limit = state.settings.body_limit;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge(limit));
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    let idle = state.settings.client_timeout;
    loop {
        let next = tokio::time::timeout_at(deadline.min(Instant::now() + idle), payload.next());
        let Some(chunk) = next.await.map_err(|_| ApiError::BodyTimeout)? else {
            break;
        };
        let chunk = chunk.map_err(|e| ApiError::Parse(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    let value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice::<Value>(&body).map_err(|e| ApiError::Parse(e.to_string()))?
    };
    Ok(Body {
        value,
        json_mode,
        strict: strict(req.headers()),
    })
}

async fn get_me(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    let user = authenticate(&req, &state).await?;
    let profile = within(&state, deadline, async {
        state
            .service
            .get(&user)
            .await
            .map_err(|e| mapper(&state).get(e))
    })
    .await?;
    if let Some(expected) = IfMatch::parse(req.headers().get(header::IF_MATCH)).expected() {
        if expected != profile.detail.version {
            return Err(ApiError::PreconditionFailed);
        }
    }
    Ok(represent(
        req.headers(),
        &profile,
        StatusCode::OK,
        true,
        View::Owner,
    ))
}

async fn write_me(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    full: bool,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    let user = authenticate(&req, &state).await?;
    let body = read_body(&req, payload, &state, deadline).await?;
    let expected = IfMatch::parse(req.headers().get(header::IF_MATCH)).expected();
    let mode = if full {
        WriteMode::Replace
    } else {
        WriteMode::Partial
    };
    let request = match body.request(&state, mode) {
        Ok(request) => request,
        Err(errors) => {
            // As in DRF, a missing row (404) and, here, a stale `If-Match` (412) come first.
            within(&state, deadline, async {
                let checked = state.service.check_write(&user, expected).await;
                checked.map_err(|e| mapper(&state).update(e))
            })
            .await?;
            return Err(ApiError::Invalid(errors));
        }
    };
    let profile = within_write(&state, deadline, async {
        let outcome = if full {
            state.service.update(&user, request, expected).await
        } else {
            state.service.partial_update(&user, request, expected).await
        };
        outcome.map_err(|e| mapper(&state).update(e))
    })
    .await?;
    Ok(represent(
        req.headers(),
        &profile,
        StatusCode::OK,
        false,
        View::Owner,
    ))
}

async fn put_me(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    write_me(req, payload, state, true).await
}

async fn patch_me(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    write_me(req, payload, state, false).await
}

async fn delete_me(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    let user = authenticate(&req, &state).await?;
    let expected = IfMatch::parse(req.headers().get(header::IF_MATCH)).expected();
    within_write(&state, deadline, async {
        state
            .service
            .delete(&user, expected)
            .await
            .map_err(|e| mapper(&state).delete(e))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    let user = authenticate(&req, &state).await?;
    let body = read_body(&req, payload, &state, deadline).await?;
    let request = body
        .request(&state, WriteMode::Create)
        .map_err(ApiError::Invalid)?;
    let profile = within_write(&state, deadline, async {
        state
            .service
            .create(&user, request)
            .await
            .map_err(|e| mapper(&state).create(e))
    })
    .await?;
    Ok(represent(
        req.headers(),
        &profile,
        StatusCode::CREATED,
        false,
        View::Owner,
    ))
}

/// Another method on a user route: authentication comes first, then 405.
async fn me_other_method(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    authenticate(&req, &state).await?;
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: ME_METHODS,
    })
}

async fn create_other_method(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse> {
    authenticate(&req, &state).await?;
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: "POST",
    })
}

async fn get_only(req: HttpRequest) -> Result<HttpResponse> {
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: "GET",
    })
}

async fn no_route() -> Result<HttpResponse> {
    Err(ApiError::NoRoute)
}

async fn docs_without_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/api/docs/"))
        .finish()
}

async fn schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI_JSON.as_str())
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse> {
    within(&state, deadline(&state), async {
        state
            .service
            .ready()
            .await
            .map_err(|cause| ApiError::Unavailable {
                cause,
                retry_after: state.settings.retry_after_secs,
            })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

#[cfg(test)]
mod tests;
