//! The figure-facts port on SQLite, for tests and the benchmark's seeding (`test-support`).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::figures::FigureInputs;
use iam_domain::UserId;
use iam_ports::{FigureFacts, FigureFactsError};
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;

use crate::store::{classify, figure_inputs, SELECT_FIGURES};
use crate::SqliteStore;

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

fn facts_error(e: sqlx::Error) -> FigureFactsError {
    classify(
        e,
        FigureFactsError::Unavailable,
        FigureFactsError::Unexpected,
    )
}

impl SqliteStore {
    async fn record(
        &self,
        sql: &str,
        user: &str,
        value: impl FnOnce(SqliteQuery<'_>) -> SqliteQuery<'_>,
    ) -> Result<(), FigureFactsError> {
        value(sqlx::query(sql).bind(user.to_owned()))
            .execute(&self.writer)
            .await
            .map_err(facts_error)?;
        Ok(())
    }
}

#[async_trait]
impl FigureFacts for SqliteStore {
    async fn follow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError> {
        let followee = followee.as_str().to_owned();
        self.record(
            "INSERT INTO follows (follower_id, followee_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            follower.as_str(),
            |q| q.bind(followee),
        )
        .await
    }

    async fn rate(&self, user: &UserId, domain: &str, rating: f64) -> Result<(), FigureFactsError> {
        let domain = domain.to_owned();
        self.record(
            "INSERT INTO domain_ratings (user_id, domain, rating) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id, domain) DO UPDATE SET rating = excluded.rating",
            user.as_str(),
            |q| q.bind(domain).bind(rating),
        )
        .await
    }

    async fn record_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        self.record(
            "INSERT INTO activity_days (user_id, day) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            user.as_str(),
            |q| q.bind(day),
        )
        .await
    }

    async fn record_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        self.record(
            "INSERT INTO streak_freeze_days (user_id, day) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            user.as_str(),
            |q| q.bind(day),
        )
        .await
    }

    async fn unlock_title(
        &self,
        user: &UserId,
        title: &str,
        at: DateTime<Utc>,
    ) -> Result<(), FigureFactsError> {
        let title = title.to_owned();
        self.record(
            "INSERT INTO unlocked_titles (user_id, title, unlocked_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            user.as_str(),
            |q| q.bind(title).bind(at),
        )
        .await
    }

    async fn inputs(&self, user: &UserId) -> Result<FigureInputs, FigureFactsError> {
        let row = sqlx::query(&SELECT_FIGURES)
            .bind(user.as_str())
            .fetch_one(&self.readers)
            .await
            .map_err(facts_error)?;
        figure_inputs(&row).map_err(facts_error)
    }
}
