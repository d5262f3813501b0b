//! Handler tests against a mocked use-case service and token verifier: every error mapping, and
//! what the handlers hand the use cases.

use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{test, App};
use iam_domain::values::{UserType, ValueError};
use iam_domain::{
    Field, Figures, InvalidFields, JsonMode, UserDetail, UserId, UserProfile, Version,
};
use iam_ports::{
    CreateError, DeleteError, GetError, MockTokenVerifier, MockUserDetailsService, TokenRejection,
    UpdateError,
};
use mockall::predicate::eq;
use serde_json::{json, Value};

use super::configure;
use crate::openapi::{CREATE, ME};
use crate::{AppState, HttpSettings, Metrics};

/// Builds the error a mocked use case returns.
type MakeError = Box<dyn Fn() -> UpdateError + Send + Sync>;

fn user() -> UserId {
    UserId::parse("42").unwrap()
}

fn profile() -> UserProfile {
    UserProfile {
        detail: UserDetail::new(
            user(),
            Version::new(9),
            UserType::parse("developer").unwrap(),
        ),
        skills: vec![],
        investment_interests: vec![],
        technical_interests: vec![],
        focus_area: vec![],
        figures: Figures::default(),
    }
}

fn verifier() -> MockTokenVerifier {
    let mut verifier = MockTokenVerifier::new();
    verifier.expect_verify().returning(|token| match token {
        "good" => Ok(user()),
        "keys-down" => Err(TokenRejection::KeysUnavailable),
        _ => Err(TokenRejection::BadSignature),
    });
    verifier
}

/// The state of a test: the given use cases, the others refusing every call.
fn state_of(
    service: MockUserDetailsService,
    social: iam_ports::MockSocialService,
    facts: iam_ports::MockFactsService,
    service_tokens: Option<Arc<crate::ServiceTokens>>,
) -> AppState {
    AppState {
        service: Arc::new(service),
        social: Arc::new(social),
        facts: Arc::new(facts),
        service_tokens,
        verifier: Arc::new(verifier()),
        clock: Arc::new(iam_ports::SystemClock),
        settings: HttpSettings::default(),
        metrics: Arc::new(Metrics::new()),
    }
}

async fn call(
    service: MockUserDetailsService,
    req: test::TestRequest,
) -> (u16, Vec<(String, String)>, Value) {
    let state = state_of(
        service,
        iam_ports::MockSocialService::new(),
        iam_ports::MockFactsService::new(),
        None,
    );
    call_with(state, req).await
}

async fn call_with(state: AppState, req: test::TestRequest) -> (u16, Vec<(String, String)>, Value) {
    let app = test::init_service(
        App::new()
            .wrap(from_fn(crate::observe::observe))
            .configure(configure(state)),
    )
    .await;
    let response = test::call_service(&app, req.to_request()).await;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let bytes = test::read_body(response).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn get() -> test::TestRequest {
    test::TestRequest::get()
        .uri(ME)
        .insert_header(("Authorization", "Bearer good"))
}

fn patch(body: Value) -> test::TestRequest {
    test::TestRequest::patch()
        .uri(ME)
        .insert_header(("Authorization", "Bearer good"))
        .set_json(body)
}

#[actix_web::test]
async fn get_errors_map_to_404_503_and_500() {
    let mut s = MockUserDetailsService::new();
    s.expect_get().returning(|_| Err(GetError::NotFound));
    assert_eq!(
        call(s, get()).await.2,
        json!({"detail": "User details not found."})
    );

    let mut s = MockUserDetailsService::new();
    s.expect_get()
        .returning(|_| Err(GetError::Unavailable("pool timed out".into())));
    let (status, headers, body) = call(s, get()).await;
    assert_eq!(
        (status, body),
        (503, json!({"detail": "Service temporarily unavailable."}))
    );
    assert_eq!(header(&headers, "retry-after"), Some("5"));

    let mut s = MockUserDetailsService::new();
    s.expect_get()
        .returning(|_| Err(GetError::Unexpected("secret table xyz exploded".into())));
    let (status, _, body) = call(s, get()).await;
    assert_eq!(
        (status, body),
        (500, json!({"detail": "A server error occurred."}))
    );
}

#[actix_web::test]
async fn a_representation_carries_an_etag_and_request_id() {
    let mut s = MockUserDetailsService::new();
    s.expect_get().with(eq(user())).returning(|_| Ok(profile()));
    let (status, headers, body) = call(s, get()).await;
    assert_eq!(status, 200);
    assert!(header(&headers, "etag").unwrap().starts_with("\"9-"));
    assert!(header(&headers, "x-request-id").is_some());
    assert_eq!(body["user_type"], "developer");
}

#[actix_web::test]
async fn token_rejections_are_401_except_unavailable_keys() {
    let s = MockUserDetailsService::new();
    let req = test::TestRequest::get()
        .uri(ME)
        .insert_header(("Authorization", "Bearer forged"));
    let (status, headers, body) = call(s, req).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "token_not_valid");
    assert!(header(&headers, "www-authenticate").is_some());

    let s = MockUserDetailsService::new();
    let req = test::TestRequest::get()
        .uri(ME)
        .insert_header(("Authorization", "Bearer keys-down"));
    assert_eq!(call(s, req).await.0, 503);
}

#[actix_web::test]
async fn create_errors_map_to_400_409_503_500() {
    let cases: [(fn() -> CreateError, u16); 4] = [
        (
            || CreateError::Invalid(InvalidFields::one(Field::UserType, ValueError::Required)),
            400,
        ),
        (|| CreateError::AlreadyExists, 409),
        (|| CreateError::Unavailable("down".into()), 503),
        (|| CreateError::Unexpected("bug".into()), 500),
    ];
    for (make, expected) in cases {
        let mut s = MockUserDetailsService::new();
        s.expect_create().returning(move |_, _| Err(make()));
        let req = test::TestRequest::post()
            .uri(CREATE)
            .insert_header(("Authorization", "Bearer good"))
            .set_json(json!({"user_type": "developer"}));
        assert_eq!(call(s, req).await.0, expected);
    }
    let mut s = MockUserDetailsService::new();
    s.expect_create().returning(|_, _| Ok(profile()));
    let req = test::TestRequest::post()
        .uri(CREATE)
        .insert_header(("Authorization", "Bearer good"))
        .set_json(json!({"user_type": "developer"}));
    let (status, headers, _) = call(s, req).await;
    assert_eq!(status, 201);
    assert_eq!(header(&headers, "location"), Some(ME));
}

#[actix_web::test]
async fn update_errors_map_to_404_400_412_503_500() {
    let too_large = ValueError::DocumentTooLarge { max_bytes: 16384 };
    let cases: Vec<(MakeError, u16, Option<Value>)> = vec![
        (Box::new(|| UpdateError::NotFound), 404, None),
        (
            Box::new(move || {
                UpdateError::Invalid(InvalidFields::one(Field::AdditionalData, too_large))
            }),
            400,
            Some(
                json!({"additional_data": ["Ensure this JSON document is no larger than 16384 bytes."]}),
            ),
        ),
        (Box::new(|| UpdateError::VersionMismatch), 412, None),
        (
            Box::new(|| UpdateError::Unavailable("down".into())),
            503,
            None,
        ),
        (
            Box::new(|| UpdateError::Unexpected("bug".into())),
            500,
            None,
        ),
    ];
    for (make, expected, body) in cases {
        let mut s = MockUserDetailsService::new();
        s.expect_partial_update()
            .returning(move |_, _, _| Err(make()));
        let (status, _, got) = call(s, patch(json!({"bio": "x"}))).await;
        assert_eq!(status, expected);
        if let Some(body) = body {
            assert_eq!(got, body);
        }
    }
}

#[actix_web::test]
async fn an_invalid_body_reports_a_missing_row_or_a_stale_version_first() {
    let cases: Vec<(MakeError, u16)> = vec![
        (Box::new(|| UpdateError::NotFound), 404),
        (Box::new(|| UpdateError::VersionMismatch), 412),
        (Box::new(|| UpdateError::Unavailable("down".into())), 503),
    ];
    for (make, expected) in cases {
        let mut s = MockUserDetailsService::new();
        s.expect_check_write()
            .times(1)
            .returning(move |_, _| Err(make()));
        let (status, _, _) = call(s, patch(json!({"bio": 3}))).await;
        assert_eq!(status, expected);
    }
    let mut s = MockUserDetailsService::new();
    s.expect_check_write()
        .with(eq(user()), eq(Some(Version::new(9))))
        .times(1)
        .returning(|_, _| Ok(()));
    let req = test::TestRequest::put()
        .uri(ME)
        .insert_header(("Authorization", "Bearer good"))
        .insert_header(("If-Match", "\"9-00000000000000ab\""))
        .set_json(json!({"bio": 3}));
    let (status, _, body) = call(s, req).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"bio": ["Not a valid string."], "user_type": ["This field is required."]})
    );
    // A valid body goes to the write alone.
    let mut s = MockUserDetailsService::new();
    s.expect_partial_update()
        .times(1)
        .returning(|_, _, _| Ok(profile()));
    assert_eq!(call(s, patch(json!({"bio": "x"}))).await.0, 200);
}

#[actix_web::test]
async fn delete_errors_map_to_404_412_503_500() {
    let cases: [(fn() -> DeleteError, u16); 4] = [
        (|| DeleteError::NotFound, 404),
        (|| DeleteError::VersionMismatch, 412),
        (|| DeleteError::Unavailable("down".into()), 503),
        (|| DeleteError::Unexpected("bug".into()), 500),
    ];
    for (make, expected) in cases {
        let mut s = MockUserDetailsService::new();
        s.expect_delete().returning(move |_, _| Err(make()));
        let req = test::TestRequest::delete()
            .uri(ME)
            .insert_header(("Authorization", "Bearer good"));
        assert_eq!(call(s, req).await.0, expected);
    }
}

#[actix_web::test]
async fn writes_hand_the_use_case_the_patch_mode_and_if_match() {
    let mut s = MockUserDetailsService::new();
    s.expect_partial_update()
        .withf(|u, request, expected| {
            *u == user()
                && request.patch.sent_fields() == [Field::Bio]
                && request.patch.bio.value().map(|b| b.as_str()) == Some("x")
                && request.json_mode == JsonMode::MergePatch
                && *expected == Some(Version::new(9))
        })
        .times(1)
        .returning(|_, _, _| Ok(profile()));
    let req = test::TestRequest::patch()
        .uri(ME)
        .insert_header(("Authorization", "Bearer good"))
        .insert_header(("Content-Type", "application/merge-patch+json"))
        .insert_header(("Prefer", "return=minimal, handling=strict"))
        .insert_header(("If-Match", "\"9-00000000000000ab\""))
        .set_payload(r#"{"bio": "x"}"#);
    assert_eq!(call(s, req).await.0, 200);

    // Strict: a read-only key is refused before any use case.
    let mut s = MockUserDetailsService::new();
    s.expect_check_write().returning(|_, _| Ok(()));
    let req = test::TestRequest::patch()
        .uri(ME)
        .insert_header(("Authorization", "Bearer good"))
        .insert_header(("Prefer", "handling=strict"))
        .set_json(json!({"bio": "x", "streak": "3"}));
    let (status, _, body) = call(s, req).await;
    assert_eq!(
        (status, body),
        (400, json!({"streak": ["This field is read-only."]}))
    );

    let mut s = MockUserDetailsService::new();
    s.expect_update()
        .withf(|_, request, expected| {
            request.patch.sent_fields() == [Field::UserType]
                && request.json_mode == JsonMode::Replace
                && expected.is_none()
        })
        .times(1)
        .returning(|_, _, _| Ok(profile()));
    let req = test::TestRequest::put()
        .uri(ME)
        .insert_header(("Authorization", "Bearer good"))
        .set_json(json!({"user_type": "d"}));
    assert_eq!(call(s, req).await.0, 200);
}

#[actix_web::test]
async fn readiness_maps_a_storage_failure_to_503() {
    let mut s = MockUserDetailsService::new();
    s.expect_ready()
        .returning(|| Err("no route to host".into()));
    let (status, headers, _) = call(s, test::TestRequest::get().uri("/readyz")).await;
    assert_eq!(status, 503);
    assert!(header(&headers, "retry-after").is_some());
}

mod timeouts {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use tokio::time::Instant;

    use super::super::within_write;
    use super::*;
    use crate::error::ApiError;

    fn state() -> AppState {
        state_of(
            MockUserDetailsService::new(),
            iam_ports::MockSocialService::new(),
            iam_ports::MockFactsService::new(),
            None,
        )
    }

    #[tokio::test]
    async fn a_write_that_started_before_the_deadline_is_answered_with_its_outcome() {
        let deadline = Instant::now() + Duration::from_millis(50);
        let outcome = within_write(&state(), deadline, async {
            assert!(iam_ports::start_write().is_ok());
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(7)
        })
        .await;
        assert_eq!(outcome.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_write_not_started_by_the_deadline_is_503_and_never_starts() {
        let wrote = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + Duration::from_millis(50);
        let outcome = within_write(&state(), deadline, {
            let wrote = wrote.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if iam_ports::start_write().is_ok() {
                    wrote.store(true, Ordering::SeqCst);
                }
                Ok(7)
            }
        })
        .await;
        assert!(matches!(outcome, Err(ApiError::Unavailable { .. })));
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!wrote.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_write_handed_to_another_task_with_its_gate_cannot_start_after_a_503() {
        // As a batching leader does: the gate travels with the job, not with the task.
        let (send, receive) = tokio::sync::oneshot::channel();
        let deadline = Instant::now() + Duration::from_millis(50);
        let outcome = within_write(&state(), deadline, async move {
            send.send(iam_ports::WriteGate::current().unwrap()).unwrap();
            std::future::pending::<std::result::Result<(), ApiError>>().await
        })
        .await;
        assert!(matches!(outcome, Err(ApiError::Unavailable { .. })));
        let gate = receive.await.unwrap();
        assert!(!gate.try_start());
    }
}

/// The routes of other users and of the platform, against mocked social and facts use cases.
mod social_routes {
    use super::*;
    use iam_domain::social::FactError;
    use iam_domain::values::Phone;
    use iam_ports::{FactsError, FollowError, MockFactsService, MockSocialService};

    const SERVICE_TOKEN: &str = "service-token-of-the-ratings-service-0123";

    fn with_social(social: MockSocialService) -> AppState {
        state_of(
            MockUserDetailsService::new(),
            social,
            MockFactsService::new(),
            None,
        )
    }

    fn with_facts(facts: MockFactsService) -> AppState {
        let tokens = crate::ServiceTokens::new([SERVICE_TOKEN]).unwrap();
        state_of(
            MockUserDetailsService::new(),
            MockSocialService::new(),
            facts,
            Some(Arc::new(tokens)),
        )
    }

    fn as_user(req: test::TestRequest) -> test::TestRequest {
        req.insert_header(("Authorization", "Bearer good"))
    }

    fn as_service(req: test::TestRequest) -> test::TestRequest {
        req.insert_header(("Authorization", format!("Bearer {SERVICE_TOKEN}")))
    }

    #[actix_web::test]
    async fn the_public_view_leaves_out_the_private_fields_and_shows_the_relation() {
        let mut social = MockSocialService::new();
        social
            .expect_view()
            .with(eq(user()), eq(UserId::parse("7").unwrap()))
            .returning(|_, _| {
                let mut p = profile();
                p.detail.phone = Some(Phone::parse("+92 300 1234567").unwrap());
                p.detail.activity_based_emails = Some(true);
                p.figures.is_following = true;
                Ok(p)
            });
        let req = as_user(test::TestRequest::get().uri("/api/v1/iam/iamuserdetails/7/"));
        let (status, headers, body) = call_with(with_social(social), req).await;
        assert_eq!(status, 200);
        assert!(headers.iter().any(|(k, _)| k == "etag"));
        for field in Field::PRIVATE {
            assert!(body.get(field.name()).is_none(), "{} shown", field.name());
        }
        assert_eq!(body["user_type"], "developer");
        assert_eq!(
            (
                body["is_following"].clone(),
                body["is_followed_back"].clone()
            ),
            (json!(true), json!(false))
        );
    }

    #[actix_web::test]
    async fn a_public_view_of_a_user_without_details_is_404() {
        let mut social = MockSocialService::new();
        social
            .expect_view()
            .returning(|_, _| Err(GetError::NotFound));
        let req = as_user(test::TestRequest::get().uri("/api/v1/iam/iamuserdetails/7"));
        let (status, _, body) = call_with(with_social(social), req).await;
        assert_eq!(
            (status, body),
            (404, json!({"detail": "User details not found."}))
        );
    }

    #[actix_web::test]
    async fn user_routes_of_others_need_a_user_token_then_their_methods() {
        let state = || with_social(MockSocialService::new());
        let req = test::TestRequest::get().uri("/api/v1/iam/iamuserdetails/7/");
        assert_eq!(call_with(state(), req).await.0, 401);
        let req = test::TestRequest::post()
            .uri("/api/v1/iam/iamuserdetails/7/follow/")
            .insert_header(("Authorization", format!("Bearer {SERVICE_TOKEN}")));
        assert_eq!(
            call_with(state(), req).await.0,
            401,
            "a service token is no user"
        );
        let req = as_user(test::TestRequest::put().uri("/api/v1/iam/iamuserdetails/7/"));
        let (status, headers, _) = call_with(state(), req).await;
        assert_eq!(status, 405);
        assert!(headers.contains(&("allow".into(), "GET".into())));
        let req = as_user(test::TestRequest::get().uri("/api/v1/iam/iamuserdetails/7/follow/"));
        let (status, headers, _) = call_with(state(), req).await;
        assert_eq!(status, 405);
        assert!(headers.contains(&("allow".into(), "POST, DELETE".into())));
    }

    #[actix_web::test]
    async fn follow_and_unfollow_answer_204_and_map_each_refusal() {
        let mut social = MockSocialService::new();
        let seven = UserId::parse("7").unwrap();
        social
            .expect_follow()
            .with(eq(user()), eq(seven.clone()))
            .times(1)
            .returning(|_, _| Ok(()));
        social
            .expect_unfollow()
            .with(eq(user()), eq(seven))
            .times(1)
            .returning(|_, _| Ok(()));
        social
            .expect_follow()
            .with(eq(user()), eq(UserId::parse("ghost").unwrap()))
            .returning(|_, _| Err(FollowError::NotFound));
        social
            .expect_follow()
            .with(eq(user()), eq(user()))
            .returning(|_, _| Err(FollowError::Themselves));
        let state = with_social(social);
        let app = test::init_service(App::new().configure(configure(state))).await;
        let send = async |req: test::TestRequest| {
            let response = test::call_service(&app, as_user(req).to_request()).await;
            let status = response.status().as_u16();
            let bytes = test::read_body(response).await;
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        };
        let uri = "/api/v1/iam/iamuserdetails/7/follow/";
        assert_eq!(send(test::TestRequest::post().uri(uri)).await.0, 204);
        assert_eq!(send(test::TestRequest::delete().uri(uri)).await.0, 204);
        let (status, body) =
            send(test::TestRequest::post().uri("/api/v1/iam/iamuserdetails/ghost/follow")).await;
        assert_eq!(
            (status, body),
            (404, json!({"detail": "User details not found."}))
        );
        // `me` is the caller, and so is the caller's own id.
        for path in ["me", "42"] {
            let uri = format!("/api/v1/iam/iamuserdetails/{path}/follow/");
            let (status, body) = send(test::TestRequest::post().uri(&uri)).await;
            assert_eq!(
                (status, body),
                (400, json!({"detail": "You cannot follow yourself."}))
            );
        }
    }

    #[actix_web::test]
    async fn the_internal_api_is_absent_without_service_tokens() {
        let state = with_social(MockSocialService::new());
        let req = as_service(test::TestRequest::get().uri("/internal/v1/iam/users/7/figures/"));
        assert_eq!(call_with(state, req).await.0, 404);
    }

    #[actix_web::test]
    async fn the_internal_api_takes_only_a_service_token() {
        let mut facts = MockFactsService::new();
        facts.expect_figures().never();
        let uri = "/internal/v1/iam/users/7/figures/";
        let req = test::TestRequest::get().uri(uri);
        assert_eq!(
            call_with(with_facts(MockFactsService::new()), req).await.0,
            401
        );
        // A user's token (valid on the user routes) is refused here.
        let req = as_user(test::TestRequest::get().uri(uri));
        assert_eq!(call_with(with_facts(facts), req).await.0, 401);
        // The cookie carries user tokens only.
        let req = test::TestRequest::get()
            .uri(uri)
            .insert_header(("Cookie", format!("access_token={SERVICE_TOKEN}")));
        assert_eq!(
            call_with(with_facts(MockFactsService::new()), req).await.0,
            401
        );
    }

    #[actix_web::test]
    async fn facts_are_recorded_with_their_values_and_answer_204() {
        let mut facts = MockFactsService::new();
        facts
            .expect_rate()
            .withf(|u, d, r| {
                u.as_str() == "7" && d.as_str() == "computer vision" && r.value() == 1512.5
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        facts
            .expect_record_activity()
            .withf(|u, d| u.as_str() == "7" && d.to_string() == "2026-11-29")
            .times(1)
            .returning(|_, _| Ok(()));
        facts
            .expect_unlock_title()
            .withf(|_, t, at| {
                t.as_str() == "Grand Master"
                    && at.map(|at| at.to_rfc3339()) == Some("2026-11-30T10:00:00+00:00".into())
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        facts
            .expect_unlock_title()
            .withf(|_, t, at| t.as_str() == "Novice" && at.is_none())
            .times(1)
            .returning(|_, _, _| Ok(()));
        facts.expect_grant_freeze().returning(|_, _| {
            Err(FactsError::Invalid {
                field: "day",
                error: FactError::TooLate,
            })
        });
        let state = with_facts(facts);
        let app = test::init_service(App::new().configure(configure(state))).await;
        let send = async |req: test::TestRequest| {
            let response = test::call_service(&app, as_service(req).to_request()).await;
            let status = response.status().as_u16();
            let bytes = test::read_body(response).await;
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        };
        let base = "/internal/v1/iam/users/7";
        let put = |path: &str| test::TestRequest::put().uri(&format!("{base}/{path}"));
        let json_put = |path: &str, body: Value| put(path).set_json(body);
        assert_eq!(
            send(json_put(
                "ratings/computer%20vision/",
                json!({"rating": 1512.5})
            ))
            .await
            .0,
            204
        );
        assert_eq!(send(put("activity-days/2026-11-29/")).await.0, 204);
        assert_eq!(
            send(json_put(
                "titles/Grand%20Master/",
                json!({"unlocked_at": "2026-11-30T12:00:00+02:00"})
            ))
            .await
            .0,
            204
        );
        assert_eq!(send(put("titles/Novice")).await.0, 204);
        // What the values are refused with.
        let cases = [
            (
                json_put("ratings/nlp/", json!({})),
                json!({"rating": ["This field is required."]}),
            ),
            (
                json_put("ratings/nlp/", json!({"rating": "high"})),
                json!({"rating": ["A valid number is required."]}),
            ),
            (
                json_put("ratings/nlp/", json!([1])),
                json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
            ),
            (
                json_put("ratings/%20/", json!({"rating": 1})),
                json!({"domain": ["This field may not be blank."]}),
            ),
            (
                put("activity-days/2026-13-01/"),
                json!({"day": [crate::drf::messages::DATE_FORMAT]}),
            ),
            (
                put("titles/a,b/"),
                json!({"title": ["A title may not contain a comma."]}),
            ),
            (
                json_put("titles/x/", json!({"unlocked_at": "yesterday"})),
                json!({"unlocked_at": [crate::drf::messages::DATETIME_FORMAT]}),
            ),
            (
                put("freeze-days/2099-01-01/"),
                json!({"day": ["Must not be later than tomorrow (UTC)."]}),
            ),
        ];
        for (req, expected) in cases {
            assert_eq!(send(req).await, (400, expected));
        }
        let (status, _) =
            send(test::TestRequest::patch().uri(&format!("{base}/ratings/nlp/"))).await;
        assert_eq!(status, 405);
    }
}
