//! The routes of a signed-in user's dealings with other users: another user's public view, and
//! following and unfollowing. In the path, `me` names the caller, as in `/me/`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use iam_domain::UserId;

use crate::auth::authenticate;
use crate::dto::View;
use crate::error::ApiError;
use crate::routes::{deadline, mapper, represent, within, within_write};
use crate::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// Another user's public view.
pub const PUBLIC: &str = "/api/v1/iam/iamuserdetails/{user_id}/";
/// Following and unfollowing a user.
pub const FOLLOW: &str = "/api/v1/iam/iamuserdetails/{user_id}/follow/";

/// The methods of [`PUBLIC`].
pub const PUBLIC_METHODS: &str = "GET";
/// The methods of [`FOLLOW`].
pub const FOLLOW_METHODS: &str = "POST, DELETE";

/// The user the path names: `me` is the caller; `None` for an id no user can have.
fn named(caller: &UserId, segment: &str) -> Option<UserId> {
    if segment == "me" {
        return Some(caller.clone());
    }
    UserId::parse(segment).ok()
}

/// `GET {user_id}/`: the user's details without their private fields, with `is_following` and
/// `is_followed_back` from the caller's side. `If-None-Match` gives 304 as on `/me/`.
pub async fn get_public(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    let viewer = authenticate(&req, &state).await?;
    let viewed = named(&viewer, &path).ok_or(ApiError::DetailsNotFound)?;
    let profile = within(&state, deadline, async {
        let viewed = state.social.view(&viewer, &viewed).await;
        viewed.map_err(|e| mapper(&state).get(e))
    })
    .await?;
    Ok(represent(
        req.headers(),
        &profile,
        StatusCode::OK,
        true,
        View::Public,
    ))
}

/// `POST {user_id}/follow/`: 204, also when already following; 400 for oneself; 404 when the
/// user has no details.
pub async fn follow(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    let follower = authenticate(&req, &state).await?;
    let followee = named(&follower, &path).ok_or(ApiError::DetailsNotFound)?;
    within_write(&state, deadline, async {
        let followed = state.social.follow(&follower, &followee).await;
        followed.map_err(|e| mapper(&state).follow(e))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE {user_id}/follow/`: 204, also when not following (or when the user has no details);
/// 400 for oneself.
pub async fn unfollow(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    let deadline = deadline(&state);
    let follower = authenticate(&req, &state).await?;
    let Some(followee) = named(&follower, &path) else {
        // Nobody can follow a user with such an id.
        return Ok(HttpResponse::NoContent().finish());
    };
    within_write(&state, deadline, async {
        let unfollowed = state.social.unfollow(&follower, &followee).await;
        unfollowed.map_err(|e| mapper(&state).follow(e))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Another method on [`PUBLIC`]: authentication first, then 405.
pub async fn public_other_method(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    authenticate(&req, &state).await?;
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: PUBLIC_METHODS,
    })
}

/// Another method on [`FOLLOW`]: authentication first, then 405.
pub async fn follow_other_method(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse> {
    authenticate(&req, &state).await?;
    Err(ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        allow: FOLLOW_METHODS,
    })
}
