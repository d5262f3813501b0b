//! The PostgreSQL adapter's pool: released connections are reused, anything else is closed, the
//! size is bounded, and a connection the server killed is never handed out twice.

use std::time::Duration;

use iam_postgres::pool::Pool;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

fn options() -> PgConnectOptions {
    iam_tests::stores::pg_admin_url().parse().unwrap()
}

async fn backend_pid(conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await
}

#[tokio::test]
async fn released_connections_are_reused_and_dropped_ones_closed() {
    let pool = Pool::new(options(), 2, Duration::from_secs(3));
    let mut lease = pool.acquire().await.unwrap();
    let first = backend_pid(&mut lease).await.unwrap();
    lease.release();
    assert_eq!((pool.size(), pool.num_idle()), (1, 1));

    let mut lease = pool.acquire().await.unwrap();
    assert_eq!(
        backend_pid(&mut lease).await.unwrap(),
        first,
        "the released connection is reused"
    );
    drop(lease); // not released: its work did not finish
    assert_eq!((pool.size(), pool.num_idle()), (0, 0));

    let mut lease = pool.acquire().await.unwrap();
    assert_ne!(
        backend_pid(&mut lease).await.unwrap(),
        first,
        "a dropped connection is never reused"
    );
    lease.release();
    pool.close().await;
    assert!(matches!(pool.acquire().await, Err(sqlx::Error::PoolClosed)));
}

#[tokio::test]
async fn waiting_for_a_connection_is_bounded() {
    let pool = Pool::new(options(), 1, Duration::from_millis(200));
    let held = pool.acquire().await.unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(
        pool.acquire().await,
        Err(sqlx::Error::PoolTimedOut)
    ));
    assert!(started.elapsed() < Duration::from_secs(2));
    held.release();
    pool.acquire().await.unwrap().release();
}

#[tokio::test]
async fn a_connection_the_server_killed_fails_once_then_the_pool_reconnects() {
    let pool = Pool::new(options(), 2, Duration::from_secs(3));
    let mut lease = pool.acquire().await.unwrap();
    let pid = backend_pid(&mut lease).await.unwrap();
    lease.release();
    let mut admin = PgConnection::connect(&iam_tests::stores::pg_admin_url())
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut lease = pool.acquire().await.unwrap();
    assert!(
        backend_pid(&mut lease).await.is_err(),
        "the killed connection fails"
    );
    drop(lease);
    let mut lease = pool.acquire().await.unwrap();
    let fresh = backend_pid(&mut lease).await.unwrap();
    assert_ne!(fresh, pid);
    lease.release();
    assert_eq!(pool.size(), 1);
}
