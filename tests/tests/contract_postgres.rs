//! The repository contract on PostgreSQL: a fresh database per test.
iam_tests::contract_suite!(iam_tests::stores::postgres);

/// The cached list entries follow catalogue edits made outside the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_edits_reach_the_cached_list_entries() {
    use sqlx::Connection;
    let store = iam_tests::stores::postgres().await;
    let detail = {
        let options = iam_domain::ParseOptions {
            today: chrono::Utc::now().date_naive(),
            strict: false,
            mode: iam_domain::WriteMode::Create,
        };
        let body = serde_json::json!({"user_type": "d", "skills": ["Rust"], "technical_interests": ["rust"]});
        let patch = iam_domain::UserDetailPatch::parse_value(&body, options).unwrap();
        let id = iam_domain::UserId::parse("u").unwrap();
        iam_domain::UserDetail::create(
            id,
            iam_domain::Version::new(1),
            &patch,
            iam_domain::JsonMode::Replace,
        )
        .unwrap()
    };
    let today = chrono::Utc::now().date_naive();
    store.repository.insert(&detail, today).await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&store.url).await.unwrap();
    sqlx::query(
        "UPDATE developer_skills SET description = 'A systems language' WHERE name_key = 'rust'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let profile = store.repository.find(&detail.user_id, today).await.unwrap();
    assert_eq!(
        profile.skills[0].description.as_deref(),
        Some("A systems language")
    );
    assert_eq!(
        profile.technical_interests[0].description.as_deref(),
        Some("A systems language")
    );
    store.cleanup().await;
}
