//! # iam-tests: the tests that cross crates
//!
//! - [`app`]: `spawn_app`, the real server on a random port over a fresh store.
//! - [`contract`]: one suite of tests written against the repository and figure-facts ports, run
//!   on every store (`tests/contract_postgres.rs`, `tests/contract_sqlite.rs`).
//! - [`stores`]: fresh, isolated stores for tests: a new PostgreSQL database per test on the server
//!   named by `IAM_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), or a new
//!   SQLite file in a temporary folder.

pub mod app;
pub mod contract;
pub mod stores;
