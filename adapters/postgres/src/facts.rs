//! The figure-facts port: recording and reading what the figures are computed from.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::figures::FigureInputs;
use iam_domain::UserId;
use iam_ports::{FigureFacts, FigureFactsError};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

use crate::errors::classify;
use crate::read::{figure_inputs, SELECT_FIGURES};
use crate::PgStore;

fn error(e: sqlx::Error) -> FigureFactsError {
    classify(
        e,
        FigureFactsError::Unavailable,
        FigureFactsError::Unexpected,
    )
}

impl PgStore {
    /// Runs one recording statement.
    async fn record(
        &self,
        query: Query<'_, Postgres, PgArguments>,
    ) -> Result<(), FigureFactsError> {
        let mut conn = self.pool.acquire().await.map_err(error)?;
        query.execute(&mut *conn).await.map_err(error)?;
        conn.release();
        Ok(())
    }
}

#[async_trait]
impl FigureFacts for PgStore {
    async fn follow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError> {
        let sql =
            "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        self.record(
            sqlx::query(sql)
                .bind(follower.as_str())
                .bind(followee.as_str()),
        )
        .await
    }

    async fn rate(&self, user: &UserId, domain: &str, rating: f64) -> Result<(), FigureFactsError> {
        let sql = "INSERT INTO domain_ratings (user_id, domain, rating) VALUES ($1, $2, $3) \
                   ON CONFLICT (user_id, domain) DO UPDATE SET rating = EXCLUDED.rating";
        self.record(
            sqlx::query(sql)
                .bind(user.as_str())
                .bind(domain)
                .bind(rating),
        )
        .await
    }

    async fn record_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        let sql = "INSERT INTO activity_days (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(day))
            .await
    }

    async fn record_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        let sql =
            "INSERT INTO streak_freeze_days (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(day))
            .await
    }

    async fn unlock_title(
        &self,
        user: &UserId,
        title: &str,
        at: DateTime<Utc>,
    ) -> Result<(), FigureFactsError> {
        let sql = "INSERT INTO unlocked_titles (user_id, title, unlocked_at) VALUES ($1, $2, $3) \
                   ON CONFLICT DO NOTHING";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(title).bind(at))
            .await
    }

    async fn inputs(&self, user: &UserId) -> Result<FigureInputs, FigureFactsError> {
        let mut conn = self.pool.acquire().await.map_err(error)?;
        let row = sqlx::query(&SELECT_FIGURES)
            .bind(user.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(error)?;
        conn.release();
        figure_inputs(&row).map_err(error)
    }
}
