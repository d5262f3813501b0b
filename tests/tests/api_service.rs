//! End-to-end checks that concern the service rather than a store: the schema, the docs, storage
//! outages, dependent headers.

use iam_tests::app::{spawn_app, spawn_app_with, ME};
use iam_tests::stores;
use reqwest::Method;
use serde_json::{json, Value};

use iam_tests::seed::{document as seed, types};

#[tokio::test]
async fn the_served_schema_matches_the_seed() {
    let app = spawn_app(stores::sqlite().await).await;
    let served: Value = app.get_json("/api/schema/").await;
    assert_eq!(served["openapi"], "3.1.0");
    let seed = seed();
    for name in [
        "IAMUserDetail",
        "PatchedIAMUserDetail",
        "DeveloperSkill",
        "InvestmentInterest",
        "Tag",
    ] {
        let ours = &served["components"]["schemas"][name];
        let theirs = &seed["components"]["schemas"][name];
        let our_props = ours["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} served"));
        let their_props = theirs["properties"].as_object().unwrap();
        let ours_names: Vec<&String> = our_props.keys().collect();
        let theirs_names: Vec<&String> = their_props.keys().collect();
        assert_eq!(ours_names, theirs_names, "{name}: property names and order");
        for (prop, their_schema) in their_props {
            let our_schema = &our_props[prop];
            assert_eq!(
                types(our_schema),
                types(their_schema),
                "{name}.{prop}: {our_schema} vs {their_schema}"
            );
            if let Some(format) = their_schema.get("format") {
                if format != "double" {
                    assert_eq!(
                        our_schema.get("format"),
                        Some(format),
                        "{name}.{prop} format"
                    );
                }
            }
            let items = |s: &Value| {
                s.get("items")
                    .map(|i| i.get("$ref").cloned().unwrap_or_else(|| json!(types(i))))
            };
            assert_eq!(
                items(our_schema),
                items(their_schema),
                "{name}.{prop} items"
            );
        }
        let required = |s: &Value| {
            let mut r: Vec<String> = s["required"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            r.sort();
            r
        };
        assert_eq!(required(ours), required(theirs), "{name}: required");
    }
    for path in [
        "/api/v1/iam/iamuserdetails/me/",
        "/api/v1/iam/iamuserdetails/",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} documented");
    }
    for method in ["get", "put", "patch", "delete"] {
        assert!(
            served["paths"][ME].get(method).is_some(),
            "{method} documented"
        );
    }
    assert_eq!(
        served["paths"][ME]["patch"]["operationId"],
        "iamuserdetails-me-partial-update"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app(stores::sqlite().await).await;
    let page = app.request(Method::GET, "/api/docs/").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    // Without its slash, the path leads to the page (reqwest follows the redirect).
    let bare = app.request(Method::GET, "/api/docs").send().await.unwrap();
    assert_eq!(bare.status(), 200);
    assert!(bare.url().path().ends_with("/api/docs/"));
    assert!(bare.text().await.unwrap().contains("swagger-ui"));
    let bundle = app
        .request(Method::GET, "/api/docs/swagger-ui-bundle.js")
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    let spec: Value = app.get_json("/api/docs/openapi.json").await;
    assert_eq!(spec["openapi"], "3.1.0");
    app.cleanup().await;
}

#[tokio::test]
async fn storage_down_is_503_with_retry_after_and_never_500() {
    // A PostgreSQL URL where nothing listens: the pool cannot connect.
    let store = stores::sqlite().await;
    let app = spawn_app_with(
        store,
        &[
            ("IAM_DATABASE_URL", "postgres://postgres@127.0.0.1:1/none"),
            ("IAM_POOL_SIZE", "2"),
        ],
    )
    .await;
    let response = app.as_user("u", Method::GET, ME).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Service temporarily unavailable."})
    );
    let response = app
        .as_user("u", Method::PATCH, ME)
        .json(&json!({"bio": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let response = app.request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(response.status(), 503);
    let response = app.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(response.status(), 200, "alive while storage is down");
    app.cleanup().await;
}

#[tokio::test]
async fn the_service_recovers_when_storage_returns() {
    use sqlx::Connection;
    // Start on a database that does not exist yet, then create it: the pool connects by itself.
    let admin = stores::pg_admin_url();
    let name = format!("iam_test_late_{}", rand::random::<u32>());
    let url = stores::with_database(&admin, &name);
    let store = stores::sqlite().await;
    let app = spawn_app_with(store, &[("IAM_DATABASE_URL", &url)]).await;
    let response = app.as_user("u", Method::GET, ME).send().await.unwrap();
    assert_eq!(response.status(), 503, "database missing: unavailable");
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap();
    iam_postgres::PgStore::connect_lazy(&url, &Default::default())
        .unwrap()
        .migrate()
        .await
        .unwrap();
    let response = app.as_user("u", Method::GET, ME).send().await.unwrap();
    assert_eq!(response.status(), 404, "back without a restart");
    app.cleanup().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await;
}

/// SimpleJWT configured with `ALGORITHM = "RS256"` and a `VERIFYING_KEY`: the server verifies its
/// tokens with the PEM file, and refuses tokens of any other algorithm.
#[tokio::test]
async fn a_public_key_file_verifies_the_issuers_algorithm_only() {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let fixtures = format!("{}/fixtures", env!("CARGO_MANIFEST_DIR"));
    let key_file = format!("{fixtures}/rsa-public.pem");
    let app = spawn_app_with(
        stores::sqlite().await,
        &[
            ("IAM_JWT_ALGORITHM", "PS256"),
            ("IAM_JWT_PUBLIC_KEY_FILE", &key_file),
            ("IAM_JWT_SECRET", ""),
        ],
    )
    .await;
    let now = chrono::Utc::now().timestamp();
    let claims =
        json!({"token_type": "access", "exp": now + 60, "iat": now, "jti": "j", "user_id": 5});
    let private = std::fs::read(format!("{fixtures}/rsa-private.pem")).unwrap();
    let signed = |alg| {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_rsa_pem(&private).unwrap(),
        )
        .unwrap()
    };
    let status = |token: String| app.request(Method::GET, ME).bearer_auth(token).send();
    // Valid, and the user has no details yet.
    assert_eq!(
        status(signed(Algorithm::PS256)).await.unwrap().status(),
        404
    );
    assert_eq!(
        status(signed(Algorithm::RS256)).await.unwrap().status(),
        401
    );
    let hmac = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(iam_tests::app::SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(status(hmac).await.unwrap().status(), 401);
    app.cleanup().await;
}

/// What Swagger UI's "Try it out" sends works as shipped: read-only properties are marked so (and
/// left out of bodies), every write's example passes validation, and the error statuses name the
/// schemas of the bodies they have.
#[tokio::test]
async fn the_served_schema_is_usable_from_swagger_ui() {
    let app = spawn_app(stores::sqlite().await).await;
    let served: Value = app.get_json("/api/schema/").await;
    let properties = &served["components"]["schemas"]["IAMUserDetail"]["properties"];
    for name in iam_http::drf::READ_ONLY {
        assert_eq!(properties[name]["readOnly"], true, "{name}");
    }
    assert!(properties["bio"].get("readOnly").is_none());
    let example = |path: &str, method: &str| {
        served["paths"][path][method]["requestBody"]["content"]["application/json"]["example"]
            .clone()
    };
    let create = app
        .json(
            "try",
            Method::POST,
            iam_tests::app::CREATE,
            &example(iam_tests::app::CREATE, "post"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), 201);
    for (method, name) in [(Method::PATCH, "patch"), (Method::PUT, "put")] {
        let response = app
            .json("try", method, ME, &example(ME, name))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
    }
    let errors = &served["paths"][ME]["patch"]["responses"];
    assert_eq!(
        errors["404"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Detail"
    );
    assert!(errors["503"]["headers"].get("Retry-After").is_some());
    let ready = &served["paths"]["/readyz"]["get"]["responses"];
    assert!(ready.get("503").is_some());
    assert!(
        served["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
            .get("text/plain; version=0.0.4")
            .is_some()
    );
    app.cleanup().await;
}
