//! The figure-facts port on SQLite: each fact recorded or removed by one statement on the writing
//! connection; the rank-bucket triggers keep the buckets in step. Reads run on the reading
//! connections, on the calling thread ([`crate::reader`]).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::figures::FigureInputs;
use iam_domain::social::{Rating, RatingDomain, TitleName};
use iam_domain::{Relation, UserId};
use iam_ports::{start_write, FigureFacts, FigureFactsError};
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;

use crate::store::{classify, figure_inputs, read_failed, Named, SELECT_FIGURES};
use crate::SqliteStore;

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

fn facts_error(e: sqlx::Error) -> FigureFactsError {
    classify(
        e,
        FigureFactsError::Unavailable,
        FigureFactsError::Unexpected,
    )
}

/// How the viewer `?1` and the viewed user `?2` follow each other: two primary-key probes of
/// `follows`.
const SELECT_RELATION: &str = "SELECT \
       EXISTS (SELECT 1 FROM follows WHERE follower_id = ?1 AND followee_id = ?2), \
       EXISTS (SELECT 1 FROM follows WHERE follower_id = ?2 AND followee_id = ?1)";

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
        self.readers
            .read(|conn| {
                conn.prepare_cached(SELECT_RELATION)?.query_row(
                    [viewer.as_str(), viewed.as_str()],
                    |row| {
                        Ok(Relation {
                            is_following: row.get(0)?,
                            is_followed_back: row.get(1)?,
                        })
                    },
                )
            })
            .map_err(|e| {
                read_failed(
                    e,
                    FigureFactsError::Unavailable,
                    FigureFactsError::Unexpected,
                )
            })
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
        self.readers
            .read(|conn| {
                let mut statement = conn.prepare_cached(&SELECT_FIGURES)?;
                let mut rows = statement.query([user.as_str()])?;
                match rows.next()? {
                    Some(row) => Ok(figure_inputs(&Named::new(row))),
                    None => Err(rusqlite::Error::QueryReturnedNoRows),
                }
            })
            .map_err(|e| {
                read_failed(
                    e,
                    FigureFactsError::Unavailable,
                    FigureFactsError::Unexpected,
                )
            })?
            .map_err(FigureFactsError::Unexpected)
    }
}
