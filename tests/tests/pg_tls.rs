//! TLS to PostgreSQL: `sslmode` in `IAM_DATABASE_URL` is honoured, and `verify-full` checks the
//! server's certificate against `sslrootcert`. Runs against the private cluster of the test
//! command, which serves TLS with a certificate made for the run (`IAM_TEST_PG_CA`); on a server
//! given through `IAM_TEST_DATABASE_URL` without that variable there is no certificate to check,
//! and the test says so and passes.

use iam_ports::UserDetailsRepository;
use iam_postgres::{PgStore, PoolSettings};
use sqlx::{Connection, PgConnection};

/// The admin URL with `host` and the query `params` instead of its own.
fn url(host: &str, params: &str) -> String {
    let admin = iam_tests::stores::pg_admin_url();
    let base = admin.split('?').next().unwrap_or(&admin);
    let (scheme, rest) = base.split_once("://").unwrap();
    let (credentials, location) = rest.rsplit_once('@').map_or(("", rest), |(c, l)| (c, l));
    let (_, port_and_path) = location.split_once(':').unwrap_or(("", location));
    let at = if credentials.is_empty() { "" } else { "@" };
    format!("{scheme}://{credentials}{at}{host}:{port_and_path}?{params}")
}

async fn uses_tls(url: &str) -> Result<bool, sqlx::Error> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
}

#[tokio::test]
async fn sslmode_is_honoured_and_verify_full_checks_the_certificate() {
    let Ok(ca) = std::env::var("IAM_TEST_PG_CA") else {
        eprintln!("no IAM_TEST_PG_CA: this server has no test certificate; nothing to check");
        return;
    };
    let verify = |host: &str, ca: &str| url(host, &format!("sslmode=verify-full&sslrootcert={ca}"));

    assert!(uses_tls(&verify("localhost", &ca)).await.unwrap());
    assert!(uses_tls(&url("127.0.0.1", "sslmode=require"))
        .await
        .unwrap());
    assert!(!uses_tls(&url("127.0.0.1", "sslmode=disable"))
        .await
        .unwrap());
    // The default, `prefer`, takes TLS when the server offers it.
    assert!(uses_tls(&url("127.0.0.1", "")).await.unwrap());

    // A certificate from another CA is refused.
    let other = std::env::temp_dir().join(format!("iam-other-ca-{}.crt", std::process::id()));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=another CA",
            "-keyout",
            "/dev/null",
        ])
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(made.status.success());
    let refused = uses_tls(&verify("localhost", other.to_str().unwrap())).await;
    assert!(refused.is_err(), "{refused:?}");
    std::fs::remove_file(&other).ok();

    // The store connects the same way the server does.
    let store = PgStore::connect_lazy(&verify("localhost", &ca), &PoolSettings::default()).unwrap();
    store.ping().await.unwrap();
}
