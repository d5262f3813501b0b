//! The figure-facts port on SQLite: each fact recorded or removed by one statement on the writing
//! connection; the rank-bucket triggers keep the buckets in step. Reads of how two users follow
//! each other are batched like profile reads.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use iam_batch::RelationRow;
use iam_domain::figures::FigureInputs;
use iam_domain::social::{Rating, RatingDomain, TitleName};
use iam_domain::{Relation, UserId};
use iam_ports::{start_write, FigureFacts, FigureFactsError};
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;

use crate::store::{classify, figure_inputs, is_unavailable, SELECT_FIGURES};
use crate::SqliteStore;

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

fn facts_error(e: sqlx::Error) -> FigureFactsError {
    classify(
        e,
        FigureFactsError::Unavailable,
        FigureFactsError::Unexpected,
    )
}

/// The lanes of the batched read of how two users follow each other.
pub(crate) type RelationLanes = iam_batch::RelationLanes<sqlx::Error>;

/// How each `[viewer, viewed]` pair of the JSON array `?1` follow each other: two primary-key
/// probes of `follows` per pair, one row per pair.
const SELECT_RELATIONS: &str = "SELECT k.viewer, k.viewed, \
       EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = k.viewer AND f.followee_id = k.viewed), \
       EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = k.viewed AND f.followee_id = k.viewer) \
     FROM (SELECT json_extract(value, '$[0]') AS viewer, json_extract(value, '$[1]') AS viewed \
           FROM json_each(?1)) AS k";

impl SqliteStore {
    /// Runs one recording statement on the writing connection, once the request's write gate
    /// lets it start.
    async fn record(
        &self,
        sql: &str,
        user: &str,
        value: impl FnOnce(SqliteQuery<'_>) -> SqliteQuery<'_>,
    ) -> Result<(), FigureFactsError> {
        let mut conn = self.writer.acquire().await.map_err(facts_error)?;
        start_write()?;
        value(sqlx::query(sql).bind(user.to_owned()))
            .execute(&mut *conn)
            .await
            .map_err(facts_error)?;
        Ok(())
    }
}

#[async_trait]
impl FigureFacts for SqliteStore {
    async fn follow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError> {
        // Both statements on the one writing connection: no write comes between them.
        let mut conn = self.writer.acquire().await.map_err(facts_error)?;
        start_write()?;
        let added = sqlx::query(
            "INSERT INTO follows (follower_id, followee_id) SELECT ?1, ?2 \
             WHERE EXISTS (SELECT 1 FROM user_details WHERE user_id = ?2) ON CONFLICT DO NOTHING",
        )
        .bind(follower.as_str())
        .bind(followee.as_str())
        .execute(&mut *conn)
        .await
        .map_err(facts_error)?;
        if added.rows_affected() > 0 {
            return Ok(());
        }
        let found: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM user_details WHERE user_id = ?1)")
                .bind(followee.as_str())
                .fetch_one(&mut *conn)
                .await
                .map_err(facts_error)?;
        if found {
            Ok(())
        } else {
            Err(FigureFactsError::NotFound)
        }
    }

    async fn unfollow(&self, follower: &UserId, followee: &UserId) -> Result<(), FigureFactsError> {
        let followee = followee.as_str().to_owned();
        self.record(
            "DELETE FROM follows WHERE follower_id = ?1 AND followee_id = ?2",
            follower.as_str(),
            |q| q.bind(followee),
        )
        .await
    }

    async fn relation(
        &self,
        viewer: &UserId,
        viewed: &UserId,
    ) -> Result<Relation, FigureFactsError> {
        let lanes = &self.batching.relation_reads;
        let readers = &self.readers;
        let read = |pairs: Vec<(String, String)>| async move {
            let pairs =
                serde_json::to_string(&pairs).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            let rows: Vec<RelationRow> = sqlx::query_as(SELECT_RELATIONS)
                .bind(pairs)
                .fetch_all(readers)
                .await?;
            Ok(rows)
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
        let domain = domain.as_str().to_owned();
        self.record(
            "INSERT INTO domain_ratings (user_id, domain, rating) VALUES (?1, ?2, ?3) \
             ON CONFLICT (user_id, domain) DO UPDATE SET rating = excluded.rating",
            user.as_str(),
            |q| q.bind(domain).bind(rating.value()),
        )
        .await
    }

    async fn remove_rating(
        &self,
        user: &UserId,
        domain: &RatingDomain,
    ) -> Result<(), FigureFactsError> {
        let domain = domain.as_str().to_owned();
        self.record(
            "DELETE FROM domain_ratings WHERE user_id = ?1 AND domain = ?2",
            user.as_str(),
            |q| q.bind(domain),
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

    async fn remove_activity(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        self.record(
            "DELETE FROM activity_days WHERE user_id = ?1 AND day = ?2",
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

    async fn remove_freeze(&self, user: &UserId, day: NaiveDate) -> Result<(), FigureFactsError> {
        self.record(
            "DELETE FROM streak_freeze_days WHERE user_id = ?1 AND day = ?2",
            user.as_str(),
            |q| q.bind(day),
        )
        .await
    }

    async fn unlock_title(
        &self,
        user: &UserId,
        title: &TitleName,
        at: DateTime<Utc>,
    ) -> Result<(), FigureFactsError> {
        let title = title.as_str().to_owned();
        self.record(
            "INSERT INTO unlocked_titles (user_id, title, unlocked_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            user.as_str(),
            |q| q.bind(title).bind(at),
        )
        .await
    }

    async fn remove_title(&self, user: &UserId, title: &TitleName) -> Result<(), FigureFactsError> {
        let title = title.as_str().to_owned();
        self.record(
            "DELETE FROM unlocked_titles WHERE user_id = ?1 AND title = ?2",
            user.as_str(),
            |q| q.bind(title),
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
