//! The figure-facts port: recording and reading what the figures are computed from.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::figures::FigureInputs;
use iam_domain::UserId;
use iam_ports::{FigureFacts, FigureFactsError};

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

#[async_trait]
impl FigureFacts for PgStore {
    async fn follow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError> {
        sqlx::query(
            "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(follower.as_str())
        .bind(followee.as_str())
        .execute(&self.pool)
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn rate(&self, user: &UserId, domain: &str, rating: f64) -> Result<(), FigureFactsError> {
        sqlx::query(
            "INSERT INTO domain_ratings (user_id, domain, rating) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, domain) DO UPDATE SET rating = EXCLUDED.rating",
        )
        .bind(user.as_str())
        .bind(domain)
        .bind(rating)
        .execute(&self.pool)
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn record_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        sqlx::query(
            "INSERT INTO activity_days (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user.as_str())
        .bind(day)
        .execute(&self.pool)
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn record_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        sqlx::query(
            "INSERT INTO streak_freeze_days (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user.as_str())
        .bind(day)
        .execute(&self.pool)
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn unlock_title(
        &self,
        user: &UserId,
        title: &str,
        at: DateTime<Utc>,
    ) -> Result<(), FigureFactsError> {
        sqlx::query(
            "INSERT INTO unlocked_titles (user_id, title, unlocked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(user.as_str())
        .bind(title)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(error)?;
        Ok(())
    }

    async fn inputs(&self, user: &UserId) -> Result<FigureInputs, FigureFactsError> {
        let row = sqlx::query(&SELECT_FIGURES)
            .bind(user.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(error)?;
        figure_inputs(&row).map_err(error)
    }
}
