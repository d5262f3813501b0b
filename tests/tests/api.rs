//! The HTTP contract end to end: a real server on a random port, over SQLite and over PostgreSQL.
//! Every test runs once per store.

use iam_tests::app::{TestApp, CREATE, ME};
use iam_tests::both_stores;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(
    unauthenticated_requests_are_401_whatever_the_method,
    bad_tokens_are_token_not_valid,
    the_token_may_come_in_a_cookie,
    create_read_patch_delete,
    every_path_answers_with_or_without_its_trailing_slash,
    other_methods_are_405_with_allow,
    unknown_routes_are_404,
    the_representation_has_every_property_with_its_default,
    every_failing_field_is_reported_at_once,
    validation_boundaries,
    bodies_that_are_not_objects_or_not_json_are_400,
    media_types_other_than_json_are_415,
    bodies_over_64_kib_are_413,
    strict_mode_names_unknown_and_read_only_keys,
    put_requires_user_type_and_replaces_what_it_sends,
    merge_patch_merges_documents,
    etags_and_conditional_requests,
    lists_carry_catalogue_entries,
    figures_come_from_stored_facts,
    request_ids_are_kept_or_made,
    health_readiness_and_metrics,
    concurrent_patches_of_different_fields_all_survive,
    users_only_reach_their_own_details,
);

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
    let response = req.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, headers, body)
}

async fn patch(app: &TestApp, user: &str, body: Value) -> (StatusCode, HeaderMap, Value) {
    send(app.json(user, Method::PATCH, ME, &body)).await
}

fn not_provided() -> Value {
    json!({"detail": "Authentication credentials were not provided."})
}

fn not_valid() -> Value {
    json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"})
}

async fn unauthenticated_requests_are_401_whatever_the_method(app: &TestApp) {
    for method in ["GET", "PUT", "PATCH", "DELETE", "POST", "OPTIONS", "TRACE"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        for path in [ME, CREATE] {
            let (status, headers, body) = send(app.request(method.clone(), path)).await;
            assert_eq!(status, 401, "{method} {path}");
            assert_eq!(body, not_provided(), "{method} {path}");
            assert!(headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"));
        }
    }
}

async fn bad_tokens_are_token_not_valid(app: &TestApp) {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let now = chrono::Utc::now().timestamp();
    let sign = |claims: Value, secret: &[u8]| {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let secret = iam_tests::app::SECRET.as_bytes();
    let b64 = |v: Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let tokens = [
        "garbage".to_owned(),
        sign(json!({"user_id": 1, "exp": now - 3600}), secret),
        sign(
            json!({"user_id": 1, "exp": now + 3600, "nbf": now + 1800}),
            secret,
        ),
        sign(json!({"user_id": 1, "exp": now + 3600}), b"another secret"),
        sign(
            json!({"user_id": 1, "exp": now + 3600, "token_type": "refresh"}),
            secret,
        ),
        sign(json!({"user_id": true, "exp": now + 3600}), secret),
        sign(json!({"user_id": "", "exp": now + 3600}), secret),
        sign(json!({"exp": now + 3600}), secret),
        format!(
            "{}.{}.",
            b64(json!({"alg": "none"})),
            b64(json!({"user_id": 1, "exp": now + 3600}))
        ),
    ];
    for token in tokens {
        let (status, headers, body) = send(app.request(Method::GET, ME).bearer_auth(&token)).await;
        assert_eq!(status, 401, "{token}");
        assert_eq!(body, not_valid(), "{token}");
        assert!(headers.contains_key("www-authenticate"));
    }
    let (status, _, body) = send(
        app.request(Method::GET, ME)
            .header("Authorization", "Bearer"),
    )
    .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, not_valid()));
    let (status, _, body) = send(
        app.request(Method::GET, ME)
            .header("Authorization", "Basic dTpw"),
    )
    .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, not_provided()));
    // An integer user id works like a string one.
    let token = sign(
        json!({"user_id": 77, "exp": now + 3600, "token_type": "access"}),
        secret,
    );
    let (status, _, _) = send(app.request(Method::GET, ME).bearer_auth(&token)).await;
    assert_eq!(status, 404, "a valid token for a user without details");
}

async fn the_token_may_come_in_a_cookie(app: &TestApp) {
    app.create("c", json!({"user_type": "developer"})).await;
    let cookie = format!("theme=dark; access_token={}", app.token("c"));
    let (status, _, body) = send(app.request(Method::GET, ME).header("Cookie", cookie)).await;
    assert_eq!(status, 200);
    assert_eq!(body["user_type"], "developer");
}

async fn create_read_patch_delete(app: &TestApp) {
    let (status, headers, created) = send(app.json(
        "u",
        Method::POST,
        CREATE,
        &json!({"user_type": "developer", "bio": "hi"}),
    ))
    .await;
    assert_eq!(status, 201);
    assert_eq!(headers["location"], ME);
    assert!(headers.contains_key("etag"));
    assert_eq!(created["bio"], "hi");
    let (status, _, body) = send(app.json(
        "u",
        Method::POST,
        CREATE,
        &json!({"user_type": "developer"}),
    ))
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::CONFLICT,
            json!({"detail": "User details already exist."})
        )
    );
    let (status, _, read) = send(app.as_user("u", Method::GET, ME)).await;
    assert_eq!(status, 200);
    assert_eq!(read, created);
    let (status, _, patched) = patch(app, "u", json!({"country": "Pakistan"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        (patched["country"].clone(), patched["bio"].clone()),
        (json!("Pakistan"), json!("hi"))
    );
    let (status, _, unchanged) = patch(app, "u", json!({})).await;
    assert_eq!((status, unchanged), (StatusCode::OK, patched));
    let (status, headers, body) = send(app.as_user("u", Method::DELETE, ME)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert!(headers.get("content-type").is_none());
    let not_found = json!({"detail": "User details not found."});
    for method in [Method::GET, Method::DELETE] {
        let (status, _, body) = send(app.as_user("u", method, ME)).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found.clone()));
    }
    for method in [Method::PATCH, Method::PUT] {
        let (status, _, body) = send(app.json("u", method, ME, &json!({"user_type": "x"}))).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, not_found.clone()));
    }
    let (status, _, body) =
        send(app.json("u", Method::POST, CREATE, &json!({"bio": "no type"}))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"user_type": ["This field is required."]})
        )
    );
}

async fn every_path_answers_with_or_without_its_trailing_slash(app: &TestApp) {
    app.create("u", json!({"user_type": "d"})).await;
    for path in [ME, ME.trim_end_matches('/')] {
        let (status, _, _) = send(app.as_user("u", Method::GET, path)).await;
        assert_eq!(status, 200, "{path}");
    }
    let (status, _, _) = send(app.json(
        "v",
        Method::POST,
        CREATE.trim_end_matches('/'),
        &json!({"user_type": "d"}),
    ))
    .await;
    assert_eq!(status, 201);
    for path in [
        "/healthz",
        "/healthz/",
        "/readyz",
        "/readyz/",
        "/metrics",
        "/metrics/",
        "/api/schema",
        "/api/schema/",
    ] {
        let (status, _, _) = send(app.request(Method::GET, path)).await;
        assert_eq!(status, 200, "{path}");
    }
}

async fn other_methods_are_405_with_allow(app: &TestApp) {
    let (status, headers, body) = send(app.as_user("u", Method::POST, ME)).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET, PUT, PATCH, DELETE");
    assert_eq!(body, json!({"detail": "Method \"POST\" not allowed."}));
    let (status, headers, _) = send(app.as_user("u", Method::GET, CREATE)).await;
    assert_eq!(
        (status, headers["allow"].to_str().unwrap()),
        (StatusCode::METHOD_NOT_ALLOWED, "POST")
    );
    let (status, headers, _) = send(app.request(Method::DELETE, "/healthz")).await;
    assert_eq!(
        (status, headers["allow"].to_str().unwrap()),
        (StatusCode::METHOD_NOT_ALLOWED, "GET")
    );
}

async fn unknown_routes_are_404(app: &TestApp) {
    let (status, headers, body) =
        send(app.request(Method::GET, "/api/v1/iam/iamuserdetails/7/friends/")).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not found."}))
    );
    assert!(headers.contains_key("x-request-id"));
}

async fn the_representation_has_every_property_with_its_default(app: &TestApp) {
    let body = app.create("u", json!({"user_type": "developer"})).await;
    let properties = iam_tests::seed::properties();
    let object = body.as_object().unwrap();
    for name in properties.keys() {
        if name == "profile_picture" || name == "resume" {
            assert!(!object.contains_key(name), "{name} is omitted while unset");
        } else {
            assert!(object.contains_key(name), "{name} is always present");
        }
    }
    assert_eq!(
        object.len(),
        properties.len() - 2,
        "no property beyond the seed's"
    );
    let expected_defaults = json!({
        "bio": null, "address": null, "country": "", "phone": null, "dob": null, "user_type": "developer",
        "linkedin_url": null, "github_url": null, "twitter_url": null, "facebook_url": null,
        "website_url": null, "portfolio_url": null, "skills": [], "investment_interests": [],
        "technical_interests": [], "focus_area": [], "communication_preferences_phone": false,
        "communication_preferences_email": false, "platform_features_emails": false,
        "activity_based_emails": false, "company_info": null, "skills_data": [],
        "investment_interests_data": [], "technical_interests_data": [], "focus_area_data": [],
        "additional_data": null, "top_domain_elo": 0.0, "top_domain_rank": 0, "streak": "0",
        "highest_streak": "0", "streak_freeze_days": "0", "title": "", "unlocked_titles": "",
        "followers_count": 0, "following_count": 0, "is_following": false, "is_followed_back": false,
    });
    assert_eq!(body, expected_defaults);
    let (_, _, with_files) = patch(app, "u", json!({"profile_picture": "https://cdn.example.com/a.png", "resume": "https://cdn.example.com/cv.pdf"})).await;
    assert_eq!(
        with_files["profile_picture"],
        "https://cdn.example.com/a.png"
    );
    assert_eq!(with_files["resume"], "https://cdn.example.com/cv.pdf");
    let (_, _, cleared) = patch(app, "u", json!({"profile_picture": null, "resume": ""})).await;
    assert!(cleared.get("profile_picture").is_none() && cleared.get("resume").is_none());
}

async fn every_failing_field_is_reported_at_once(app: &TestApp) {
    app.create("u", json!({"user_type": "d", "bio": "kept"}))
        .await;
    let (status, _, body) = patch(app, "u", json!({
        "linkedin_url": "ftp://example.com", "dob": "31/12/1990", "user_type": "", "country": null,
        "phone": "call me", "bio": "x".repeat(5001), "skills": ["ok", 3], "focus_area": "AI",
        "communication_preferences_email": "yes", "additional_data": null,
    })).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({
            "bio": ["Ensure this field has no more than 5000 characters."],
            "communication_preferences_email": ["Must be a valid boolean."],
            "country": ["This field may not be null."],
            "dob": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "focus_area": ["Expected a list of items but got type \"str\"."],
            "linkedin_url": ["Enter a valid URL."],
            "phone": ["Enter a valid phone number."],
            "skills": {"1": ["Not a valid string."]},
            "user_type": ["This field may not be blank."],
        })
    );
    let (_, _, read) = send(app.as_user("u", Method::GET, ME)).await;
    assert_eq!(read["bio"], "kept", "a refused write changes nothing");
}

async fn validation_boundaries(app: &TestApp) {
    app.create("u", json!({"user_type": "d"})).await;
    let today = chrono::Utc::now().date_naive();
    let url = |n: usize| format!("https://e.co/{}", "a".repeat(n - 13));
    let ok = [
        json!({"github_url": url(200)}),
        json!({"profile_picture": url(2048)}),
        json!({"dob": today.to_string()}),
        json!({"dob": "1900-01-01"}),
        json!({"user_type": "t".repeat(50)}),
        json!({"country": "c".repeat(100)}),
        json!({"phone": "1".repeat(32)}),
        json!({"phone": "(+1) 2.3-4"}),
        json!({"bio": "🦀".repeat(5000)}),
        json!({"skills": (0..50).map(|i| format!("s{i}")).collect::<Vec<_>>()}),
        json!({"skills": ["n".repeat(100)]}),
        json!({"additional_data": {"a": "x".repeat(16 * 1024 - 8)}}),
        json!({"platform_features_emails": null}),
    ];
    for body in ok {
        let (status, _, response) = patch(app, "u", body.clone()).await;
        assert_eq!(status, 200, "{body} -> {response}");
    }
    let bad = [
        (json!({"github_url": url(201)}), "github_url"),
        (json!({"profile_picture": url(2049)}), "profile_picture"),
        (json!({"dob": today.succ_opt().unwrap().to_string()}), "dob"),
        (json!({"dob": "1899-12-31"}), "dob"),
        (json!({"user_type": "t".repeat(51)}), "user_type"),
        (json!({"country": "c".repeat(101)}), "country"),
        (json!({"phone": "1".repeat(33)}), "phone"),
        (json!({"phone": "123"}), "phone"),
        (json!({"phone": ""}), "phone"),
        (json!({"phone": "   "}), "phone"),
        (json!({"bio": "🦀".repeat(5001)}), "bio"),
        (
            json!({"skills": (0..51).map(|i| format!("s{i}")).collect::<Vec<_>>()}),
            "skills",
        ),
        (json!({"skills": ["n".repeat(101)]}), "skills"),
        (json!({"skills": null}), "skills"),
        (
            json!({"additional_data": {"a": "x".repeat(16 * 1024 - 7)}}),
            "additional_data",
        ),
        (json!({"company_info": nested(21)}), "company_info"),
        (json!({"bio": "nul\u{0}"}), "bio"),
        (json!({"resume": "javascript:alert(1)"}), "resume"),
    ];
    for (body, field) in bad {
        let (status, _, response) = patch(app, "u", body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert!(response.get(field).is_some(), "{field}: {response}");
    }
    let (_, _, response) = patch(app, "u", json!({"company_info": nested(20)})).await;
    assert_eq!(response["company_info"], nested(20));
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!(1), |inner, _| json!([inner]))
}

async fn bodies_that_are_not_objects_or_not_json_are_400(app: &TestApp) {
    app.create("u", json!({"user_type": "d"})).await;
    let (status, _, body) = patch(app, "u", json!([1, 2])).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        )
    );
    for raw in [
        "{\"bio\": ",
        "{bio: 1}",
        "\u{0}",
        &format!("{}1{}", "[".repeat(200), "]".repeat(200)),
        // Only white space is malformed too (an empty body is `{}`).
        " ",
        "\n",
        " \t\r\n ",
    ] {
        let req = app
            .as_user("u", Method::PATCH, ME)
            .header("Content-Type", "application/json")
            .body(raw.to_owned());
        let (status, _, body) = send(req).await;
        assert_eq!(status, 400, "{raw}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .starts_with("JSON parse error - "),
            "{body}"
        );
    }
    let req = app
        .as_user("u", Method::PATCH, ME)
        .header("Content-Type", "application/json")
        .body(vec![0xff, 0xfe]);
    assert_eq!(send(req).await.0, 400);
}

async fn media_types_other_than_json_are_415(app: &TestApp) {
    app.create("u", json!({"user_type": "d"})).await;
    let (status, _, body) = send(
        app.as_user("u", Method::PATCH, ME)
            .header("Content-Type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"detail": "Unsupported media type \"text/plain\" in request."})
        )
    );
    let (status, _, _) = send(app.as_user("u", Method::PATCH, ME).body("{}")).await;
    assert_eq!(status, 415, "no Content-Type");
    let (status, _, _) = send(
        app.as_user("u", Method::PATCH, ME)
            .header("Content-Type", "application/json; charset=utf-8")
            .body("{}"),
    )
    .await;
    assert_eq!(status, 200, "parameters are fine");
}

async fn bodies_over_64_kib_are_413(app: &TestApp) {
    app.create("u", json!({"user_type": "d"})).await;
    let big = json!({"bio": "x".repeat(70 * 1024)});
    let (status, _, body) = patch(app, "u", big).await;
    assert_eq!(status, 413);
    assert!(body["detail"].is_string());
    let just_fits = format!("{{\"bio\": \"b\"{}}}", " ".repeat(64 * 1024 - 12));
    assert_eq!(just_fits.len(), 64 * 1024);
    let (status, _, _) = send(
        app.as_user("u", Method::PATCH, ME)
            .header("Content-Type", "application/json")
            .body(just_fits),
    )
    .await;
    assert_eq!(status, 200);
}

async fn strict_mode_names_unknown_and_read_only_keys(app: &TestApp) {
    app.create("u", json!({"user_type": "d"})).await;
    let body = json!({"bio": "b", "nickname": "n", "followers_count": 1000});
    let (status, _, read) = patch(app, "u", body.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (read["bio"].clone(), read["followers_count"].clone()),
        (json!("b"), json!(0))
    );
    assert!(read.get("nickname").is_none());
    let req = app
        .json("u", Method::PATCH, ME, &body)
        .header("Prefer", "handling=strict");
    let (status, _, errors) = send(req).await;
    assert_eq!(status, 400);
    assert_eq!(
        errors,
        json!({"nickname": ["Unknown field."], "followers_count": ["This field is read-only."]})
    );
}

async fn put_requires_user_type_and_replaces_what_it_sends(app: &TestApp) {
    app.create(
        "u",
        json!({"user_type": "d", "bio": "kept", "country": "PK"}),
    )
    .await;
    let (status, _, body) = send(app.json("u", Method::PUT, ME, &json!({"country": "US"}))).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"user_type": ["This field is required."]})
        )
    );
    let (status, _, body) = send(app.json(
        "u",
        Method::PUT,
        ME,
        &json!({"user_type": "investor", "country": "US"}),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["user_type"].clone(),
            body["country"].clone(),
            body["bio"].clone()
        ),
        (json!("investor"), json!("US"), json!("kept"))
    );
}

async fn merge_patch_merges_documents(app: &TestApp) {
    app.create("u", json!({"user_type": "d", "address": {"city": "Lahore", "zip": "54000", "geo": {"lat": 31.5, "lng": 74.3}}})).await;
    let req = app
        .as_user("u", Method::PATCH, ME)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"address": {"zip": null, "geo": {"lat": 31.6}, "street": "Mall Rd"}, "bio": "b"}).to_string());
    let (status, _, body) = send(req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["address"],
        json!({"city": "Lahore", "geo": {"lat": 31.6, "lng": 74.3}, "street": "Mall Rd"})
    );
    assert_eq!(body["bio"], "b");
    let (_, _, body) = patch(app, "u", json!({"address": {"only": 1}})).await;
    assert_eq!(
        body["address"],
        json!({"only": 1}),
        "application/json replaces"
    );
}

async fn etags_and_conditional_requests(app: &TestApp) {
    app.create("u", json!({"user_type": "d"})).await;
    let (_, headers, _) = send(app.as_user("u", Method::GET, ME)).await;
    let tag = headers["etag"].to_str().unwrap().to_owned();
    assert!(tag.starts_with('"') && tag.ends_with('"'), "strong: {tag}");
    let (status, headers, body) = send(
        app.as_user("u", Method::GET, ME)
            .header("If-None-Match", &tag),
    )
    .await;
    assert_eq!((status, body), (StatusCode::NOT_MODIFIED, Value::Null));
    assert_eq!(headers["etag"], tag.as_str());
    let (status, _, _) = send(
        app.as_user("u", Method::GET, ME)
            .header("If-None-Match", "\"0-0\""),
    )
    .await;
    assert_eq!(status, 200);

    let (status, headers, _) = send(
        app.json("u", Method::PATCH, ME, &json!({"bio": "1"}))
            .header("If-Match", &tag),
    )
    .await;
    assert_eq!(status, 200);
    let newer = headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(newer, tag, "every write changes the tag");
    for method in [Method::PATCH, Method::PUT] {
        let (status, _, body) = send(
            app.json("u", method, ME, &json!({"user_type": "x", "bio": "2"}))
                .header("If-Match", &tag),
        )
        .await;
        assert_eq!(status, 412, "{body}");
    }
    let (status, _, _) = send(
        app.as_user("u", Method::DELETE, ME)
            .header("If-Match", &tag),
    )
    .await;
    assert_eq!(status, 412);
    let (status, _, _) = send(app.as_user("u", Method::GET, ME).header("If-Match", &tag)).await;
    assert_eq!(status, 412);
    let (_, _, body) = send(app.as_user("u", Method::GET, ME)).await;
    assert_eq!(body["bio"], "1", "refused writes changed nothing");
    let (status, _, _) = send(
        app.as_user("u", Method::DELETE, ME)
            .header("If-Match", &newer),
    )
    .await;
    assert_eq!(status, 204);
}

async fn lists_carry_catalogue_entries(app: &TestApp) {
    app.create("a", json!({"user_type": "d", "skills": ["Rust", "Go"]}))
        .await;
    let body = app
        .create("b", json!({"user_type": "d", "skills": [" go ", "GO", "Zig"], "technical_interests": ["rust"], "investment_interests": ["Seed"], "focus_area": ["AI", "ai"]}))
        .await;
    assert_eq!(body["skills"], json!(["Go", "Zig"]));
    assert_eq!(body["technical_interests"], json!(["Rust"]));
    assert_eq!(body["focus_area"], json!(["AI"]));
    assert_eq!(body["focus_area_data"], json!([{"name": "AI"}]));
    assert_eq!(body["investment_interests_data"][0]["name"], "Seed");
    assert!(body["investment_interests_data"][0]["id"].is_i64());
    let (_, _, a) = send(app.as_user("a", Method::GET, ME)).await;
    assert_eq!(
        a["skills_data"][1]["id"], body["skills_data"][0]["id"],
        "one id per name"
    );
    assert_eq!(a["skills_data"][0], body["technical_interests_data"][0]);
    assert_eq!(body["skills_data"][0]["description"], Value::Null);
    let (_, _, cleared) = patch(
        app,
        "b",
        json!({"technical_interests": null, "focus_area": null, "skills": []}),
    )
    .await;
    assert_eq!(
        (
            cleared["technical_interests"].clone(),
            cleared["focus_area_data"].clone(),
            cleared["skills"].clone()
        ),
        (json!([]), json!([]), json!([]))
    );
}

async fn figures_come_from_stored_facts(app: &TestApp) {
    use iam_domain::social::{Rating, RatingDomain, TitleName};
    use iam_domain::UserId;
    app.create("me", json!({"user_type": "d"})).await;
    app.create("a", json!({"user_type": "d"})).await;
    let id = |s: &str| UserId::parse(s).unwrap();
    let nlp = RatingDomain::parse("nlp").unwrap();
    let title = |s: &str| TitleName::parse(s).unwrap();
    let rating = |r: f64| Rating::new(r).unwrap();
    let facts = &app.store.facts;
    facts.follow(&id("a"), &id("me")).await.unwrap();
    facts.follow(&id("b"), &id("me")).await.unwrap();
    facts.follow(&id("me"), &id("a")).await.unwrap();
    facts.rate(&id("me"), &nlp, rating(1650.5)).await.unwrap();
    facts
        .rate(&id("rival"), &nlp, rating(1700.0))
        .await
        .unwrap();
    let today = chrono::Utc::now().date_naive();
    for back in 0..3 {
        facts
            .record_activity(&id("me"), today - chrono::Days::new(back))
            .await
            .unwrap();
    }
    facts
        .unlock_title(
            &id("me"),
            &title("Novice"),
            chrono::Utc::now() - chrono::Duration::days(2),
        )
        .await
        .unwrap();
    facts
        .unlock_title(&id("me"), &title("Expert"), chrono::Utc::now())
        .await
        .unwrap();
    let (_, _, body) = send(app.as_user("me", Method::GET, ME)).await;
    assert_eq!(body["followers_count"], 2);
    assert_eq!(body["following_count"], 1);
    assert_eq!(body["top_domain_elo"], 1650.5);
    assert_eq!(body["top_domain_rank"], 2);
    assert_eq!(body["streak"], "3");
    assert_eq!(body["highest_streak"], "3");
    assert_eq!(body["streak_freeze_days"], "0");
    assert_eq!(body["title"], "Expert");
    assert_eq!(body["unlocked_titles"], "Novice, Expert");
    assert_eq!(
        (
            body["is_following"].clone(),
            body["is_followed_back"].clone()
        ),
        (json!(false), json!(false))
    );
}

async fn request_ids_are_kept_or_made(app: &TestApp) {
    let (_, headers, _) = send(
        app.request(Method::GET, "/healthz")
            .header("X-Request-Id", "trace-abc-123"),
    )
    .await;
    assert_eq!(headers["x-request-id"], "trace-abc-123");
    let (_, headers, _) = send(app.request(Method::GET, ME)).await;
    assert_eq!(headers["x-request-id"].to_str().unwrap().len(), 32);
    let (_, headers, _) = send(
        app.request(Method::GET, "/healthz")
            .header("X-Request-Id", "bad id with spaces"),
    )
    .await;
    assert_ne!(headers["x-request-id"], "bad id with spaces");
}

async fn health_readiness_and_metrics(app: &TestApp) {
    let (status, _, body) = send(app.request(Method::GET, "/healthz")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, _, body) = send(app.request(Method::GET, "/readyz")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ready"})));
    send(app.as_user("nobody", Method::GET, ME)).await;
    let response = app.request(Method::GET, "/metrics").send().await.unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(text.contains("http_requests_total{route=\"/api/v1/iam/iamuserdetails/me\",method=\"GET\",status=\"404\"} 1"), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket{route=\"/readyz\""),
        "{text}"
    );
    assert!(text.contains("db_pool_connections{pool="), "{text}");
}

async fn concurrent_patches_of_different_fields_all_survive(app: &TestApp) {
    app.create("u", json!({"user_type": "d"})).await;
    let bodies = [
        json!({"bio": "bio"}),
        json!({"country": "PK"}),
        json!({"phone": "+1 555 0100"}),
        json!({"github_url": "https://github.com/u"}),
        json!({"linkedin_url": "https://linkedin.com/in/u"}),
        json!({"skills": ["Rust"]}),
        json!({"focus_area": ["AI"]}),
        json!({"investment_interests": ["Seed"]}),
        json!({"technical_interests": ["Wasm"]}),
        json!({"platform_features_emails": true}),
        json!({"dob": "1991-03-04"}),
        json!({"company_info": {"name": "AISquare"}}),
    ];
    for _round in 0..5 {
        let mut tasks = Vec::new();
        for body in &bodies {
            let req = app.json("u", Method::PATCH, ME, body);
            tasks.push(tokio::spawn(
                async move { req.send().await.map(|r| r.status()) },
            ));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 200);
        }
    }
    let (_, _, body) = send(app.as_user("u", Method::GET, ME)).await;
    for patch in &bodies {
        for (key, value) in patch.as_object().unwrap() {
            assert_eq!(&body[key], value, "{key} lost: {body}");
        }
    }
}

async fn users_only_reach_their_own_details(app: &TestApp) {
    app.create("alice", json!({"user_type": "d", "bio": "alice"}))
        .await;
    app.create("bob", json!({"user_type": "d", "bio": "bob"}))
        .await;
    let (_, _, body) = patch(app, "bob", json!({"bio": "changed", "user_id": "alice"})).await;
    assert_eq!(body["bio"], "changed");
    let (_, _, alice) = send(app.as_user("alice", Method::GET, ME)).await;
    assert_eq!(alice["bio"], "alice");
    send(app.as_user("bob", Method::DELETE, ME)).await;
    let (status, _, _) = send(app.as_user("alice", Method::GET, ME)).await;
    assert_eq!(status, 200);
}
