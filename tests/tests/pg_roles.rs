//! The role split of `docs/operations.md`: the schema's owner migrates; the service serves as a
//! role with only the privileges listed there, and every route works.

use iam_tests::app::{spawn_app_with, CREATE, ME};
use iam_tests::stores;
use reqwest::Method;
use serde_json::json;
use sqlx::{Connection, PgConnection};

/// `url` with `user:password@` as its credentials.
fn as_role(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let location = rest.rsplit_once('@').map_or(rest, |(_, l)| l);
    format!("{scheme}://{user}:{password}@{location}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_needs_only_the_documented_privileges() {
    let store = stores::postgres().await;
    let role = format!("iam_app_{}", std::process::id());
    let mut owner = PgConnection::connect(&store.url).await.unwrap();
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut owner)
        .await
        .unwrap();
    // What operations.md tells an operator to run, for tables that exist already.
    for statement in [
        format!("DROP ROLE IF EXISTS {role}"),
        format!("CREATE ROLE {role} LOGIN PASSWORD 'app-password'"),
        format!("GRANT CONNECT ON DATABASE \"{database}\" TO {role}"),
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
    ] {
        sqlx::query(&statement).execute(&mut owner).await.unwrap();
    }
    let app_url = as_role(&store.url, &role, "app-password");
    let app = spawn_app_with(store, &[("IAM_DATABASE_URL", app_url.as_str())]).await;

    let created = app
        .json(
            "r",
            Method::POST,
            CREATE,
            &json!({"user_type": "developer", "skills": ["Rust", "brand new skill"], "focus_area": ["AI"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    for body in [
        json!({"bio": "scalar"}),
        json!({"skills": ["Go"], "technical_interests": ["ML"]}),
        json!({"additional_data": {"a": 1}}),
    ] {
        let patched = app
            .json("r", Method::PATCH, ME, &body)
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 200, "{body}: {:?}", patched.text().await);
    }
    let read = app.as_user("r", Method::GET, ME).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let deleted = app.as_user("r", Method::DELETE, ME).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    owner.close().await.ok();
    app.cleanup().await;
    let mut admin = PgConnection::connect(&stores::pg_admin_url())
        .await
        .unwrap();
    sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
        .execute(&mut admin)
        .await
        .unwrap();
}
