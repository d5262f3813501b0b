//! # iam-tests: the tests that cross crates
//!
//! - [`app`]: `spawn_app`, the real server on a random port over a fresh store.
//! - [`contract`]: one suite of tests written against the repository and figure-facts ports, run
//!   on every store (`tests/contract_postgres.rs`, `tests/contract_sqlite.rs`).
//! - [`seed`]: the seed's OpenAPI document and the types its properties allow.
//! - [`stores`]: fresh, isolated stores for tests: a new PostgreSQL database per test on the server
//!   named by `IAM_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), or a new
//!   SQLite file in a temporary folder.

pub mod app;
pub mod contract;
pub mod seed;
pub mod stores;

/// Runs each named `async fn(&TestApp)` of the calling module once per store, each on a fresh
/// store and server: `both_stores!(first_test, second_test);` makes modules `sqlite` and
/// `postgres` with one `#[tokio::test]` per name.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $crate::both_stores!(@suite $crate::stores::sqlite; $($name),*);
        }
        mod postgres {
            $crate::both_stores!(@suite $crate::stores::postgres; $($name),*);
        }
    };
    (@suite $store:path; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::app::spawn_app($store().await).await;
                super::$name(&app).await;
                app.cleanup().await;
            }
        )*
    };
}
