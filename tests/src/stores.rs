//! Fresh stores for tests.

use std::path::PathBuf;
use std::sync::Arc;

use iam_ports::{FigureFacts, UserDetailsRepository};
use iam_postgres::{PgStore, PoolSettings};
use iam_sqlite::SqliteStore;
use rand::Rng;
use sqlx::{Connection, PgConnection};

/// The PostgreSQL server tests create their databases on.
pub fn pg_admin_url() -> String {
    std::env::var("IAM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{database}?{q}"),
        None => format!("{prefix}/{database}"),
    }
}

fn random_suffix() -> String {
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26)))
        .collect()
}

/// A store under test, with what it takes to clean it up.
pub struct TestStore {
    /// The repository port.
    pub repository: Arc<dyn UserDetailsRepository>,
    /// The figure-facts port (the same store).
    pub facts: Arc<dyn FigureFacts>,
    /// The database URL, for tests that start a server on it.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Postgres {
        pool: iam_postgres::pool::Pool,
        database: String,
    },
    Sqlite {
        store: SqliteStore,
        dir: PathBuf,
    },
}

impl TestStore {
    /// Runs one SQL statement on the store's database on a connection of its own: a row written
    /// around the service.
    ///
    /// # Panics
    /// When the statement fails.
    pub async fn execute(&self, sql: &str) {
        if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        } else {
            let mut conn = PgConnection::connect(&self.url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }

    /// Closes the store and removes its database.
    pub async fn cleanup(self) {
        drop(self.repository);
        drop(self.facts);
        match self.cleanup {
            Cleanup::Postgres { pool, database } => {
                pool.close().await;
                if let Ok(mut admin) = PgConnection::connect(&pg_admin_url()).await {
                    let _ = sqlx::query(&format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    ))
                    .execute(&mut admin)
                    .await;
                }
            }
            Cleanup::Sqlite { store, dir } => {
                store.close().await;
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// Creates an empty PostgreSQL database, migrated, and a store on it.
///
/// # Panics
/// When the server cannot be reached: the suite needs it.
pub async fn postgres() -> TestStore {
    let admin_url = pg_admin_url();
    let database = format!("iam_test_{}", random_suffix());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is needed for these tests: {e}"));
    sqlx::query(&format!("CREATE DATABASE \"{database}\""))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.ok();
    let url = with_database(&admin_url, &database);
    let settings = PoolSettings {
        max_connections: 8,
        ..PoolSettings::default()
    };
    let store = PgStore::connect_lazy(&url, &settings).expect("valid url");
    store.migrate().await.expect("migrations apply");
    let pool = store.pool().clone();
    let store = Arc::new(store);
    TestStore {
        repository: store.clone(),
        facts: store,
        url,
        cleanup: Cleanup::Postgres { pool, database },
    }
}

/// Creates an empty SQLite file in a new temporary folder, migrated, and a store on it.
///
/// # Panics
/// When the file cannot be created.
pub async fn sqlite() -> TestStore {
    let dir = std::env::temp_dir().join(format!("iam-test-{}", random_suffix()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let url = format!("sqlite://{}", dir.join("iam.db").display());
    let store = SqliteStore::open(&url, 4).await.expect("open sqlite");
    store.migrate().await.expect("migrations apply");
    let shared = Arc::new(store.clone());
    TestStore {
        repository: shared.clone(),
        facts: shared,
        url,
        cleanup: Cleanup::Sqlite { store, dir },
    }
}
