//! The figure-facts port: recording, removing and reading what the figures are computed from.
//! Each call is one statement; the triggers of the schema keep `user_figures` and the rank
//! buckets in step. Reads of how two users follow each other are batched like profile reads.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use iam_batch::RelationRow;
use iam_domain::figures::FigureInputs;
use iam_domain::social::{Rating, RatingDomain, TitleName};
use iam_domain::{Relation, UserId};
use iam_ports::{start_write, FigureFacts, FigureFactsError};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

use crate::errors::{classify, is_unavailable};
use crate::read::{figure_inputs, SELECT_FIGURES};
use crate::PgStore;

fn error(e: sqlx::Error) -> FigureFactsError {
    classify(
        e,
        FigureFactsError::Unavailable,
        FigureFactsError::Unexpected,
    )
}

/// The lanes of the batched read of how two users follow each other.
pub(crate) type RelationLanes = iam_batch::RelationLanes<sqlx::Error>;

/// How each (viewer, viewed) pair of `$1`, `$2` (arrays of one length) follow each other: two
/// primary-key probes of `follows` per pair, one row per pair.
const SELECT_RELATIONS: &str = "SELECT k.viewer, k.viewed, \
       EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = k.viewer AND f.followee_id = k.viewed), \
       EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = k.viewed AND f.followee_id = k.viewer) \
     FROM unnest($1::text[], $2::text[]) AS k(viewer, viewed)";

impl PgStore {
    /// Runs one recording statement, once the request's write gate lets it start.
    async fn record(
        &self,
        query: Query<'_, Postgres, PgArguments>,
    ) -> Result<(), FigureFactsError> {
        let mut conn = self.pool.acquire().await.map_err(error)?;
        start_write()?;
        query.execute(&mut *conn).await.map_err(error)?;
        conn.release();
        Ok(())
    }
}

#[async_trait]
impl FigureFacts for PgStore {
    async fn follow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError> {
        // One statement, so the look for the followee's details and the insert share a snapshot.
        let sql = "WITH target AS (SELECT EXISTS (SELECT 1 FROM user_details WHERE user_id = $2) \
                                  AS found), \
                        added AS (INSERT INTO follows (follower_id, followee_id) \
                                  SELECT $1, $2 FROM target WHERE found \
                                  ON CONFLICT DO NOTHING) \
                   SELECT found FROM target";
        let mut conn = self.pool.acquire().await.map_err(error)?;
        start_write()?;
        let found: bool = sqlx::query_scalar(sql)
            .bind(follower.as_str())
            .bind(followee.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(error)?;
        conn.release();
        if found {
            Ok(())
        } else {
            Err(FigureFactsError::NotFound)
        }
    }

    async fn unfollow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError> {
        let sql = "DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2";
        self.record(
            sqlx::query(sql)
                .bind(follower.as_str())
                .bind(followee.as_str()),
        )
        .await
    }

    async fn relation(
        &self,
        viewer: &UserId,
        viewed: &UserId,
    ) -> Result<Relation, FigureFactsError> {
        let lanes = &self.batching.relation_reads;
        let pool = &self.pool;
        let read = |pairs: Vec<(String, String)>| {
            let (viewers, vieweds): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
            async move {
                let mut conn = pool.acquire().await?;
                let rows: Vec<RelationRow> = sqlx::query_as(SELECT_RELATIONS)
                    .bind(&viewers)
                    .bind(&vieweds)
                    .fetch_all(&mut *conn)
                    .await?;
                conn.release();
                Ok(rows)
            }
        };
        iam_batch::read_relation(
            lanes,
            viewer.as_str(),
            viewed.as_str(),
            read,
            is_unavailable,
        )
        .await
    }

    async fn rate(
        &self,
        user: &UserId,
        domain: &RatingDomain,
        rating: Rating,
    ) -> Result<(), FigureFactsError> {
        let sql = "INSERT INTO domain_ratings (user_id, domain, rating) VALUES ($1, $2, $3) \
                   ON CONFLICT (user_id, domain) DO UPDATE SET rating = EXCLUDED.rating";
        self.record(
            sqlx::query(sql)
                .bind(user.as_str())
                .bind(domain.as_str())
                .bind(rating.value()),
        )
        .await
    }

    async fn remove_rating(
        &self,
        user: &UserId,
        domain: &RatingDomain,
    ) -> Result<(), FigureFactsError> {
        let sql = "DELETE FROM domain_ratings WHERE user_id = $1 AND domain = $2";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(domain.as_str()))
            .await
    }

    async fn record_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        let sql = "INSERT INTO activity_days (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(day))
            .await
    }

    async fn remove_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        let sql = "DELETE FROM activity_days WHERE user_id = $1 AND day = $2";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(day))
            .await
    }

    async fn record_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        let sql =
            "INSERT INTO streak_freeze_days (user_id, day) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(day))
            .await
    }

    async fn remove_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        let sql = "DELETE FROM streak_freeze_days WHERE user_id = $1 AND day = $2";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(day))
            .await
    }

    async fn unlock_title(
        &self,
        user: &UserId,
        title: &TitleName,
        at: DateTime<Utc>,
    ) -> Result<(), FigureFactsError> {
        let sql = "INSERT INTO unlocked_titles (user_id, title, unlocked_at) VALUES ($1, $2, $3) \
                   ON CONFLICT DO NOTHING";
        self.record(
            sqlx::query(sql)
                .bind(user.as_str())
                .bind(title.as_str())
                .bind(at),
        )
        .await
    }

    async fn remove_title(&self, user: &UserId, title: &TitleName) -> Result<(), FigureFactsError> {
        let sql = "DELETE FROM unlocked_titles WHERE user_id = $1 AND title = $2";
        self.record(sqlx::query(sql).bind(user.as_str()).bind(title.as_str()))
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
        figure_inputs(&row, 0).map_err(error)
    }
}
