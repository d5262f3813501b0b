//! The repository port (and, for tests, the figure-facts port) on SQLite.

use async_trait::async_trait;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::figures::{DomainRating, FigureInputs, TopRating, UnlockedTitle};
use iam_domain::stored::{Column, Kind, Restored, StoredValue};
use iam_domain::{
    Catalogue, CatalogueEntry, Field, List, StoredProfile, UserDetail, UserId, Version,
};
use iam_ports::{
    start_write, Cause, RepoDeleteError, RepoFindError, RepoInsertError, RepoUpdateError, TimedOut,
    UnreadableRow, UserDetailsRepository,
};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::types::Json;
use sqlx::{Connection, Row, Sqlite, SqliteConnection};

use crate::reader::ReadError;
use crate::update_batch;
use crate::SqliteStore;
use iam_batch::{Update, Written};

type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// The link table of a list and the catalogue table behind it.
pub(crate) fn list_tables(list: List) -> (&'static str, &'static str) {
    let link = match list {
        List::Skills => "user_skills",
        List::InvestmentInterests => "user_investment_interests",
        List::TechnicalInterests => "user_technical_interests",
        List::FocusArea => "user_focus_areas",
    };
    let catalogue = match list.catalogue() {
        Catalogue::DeveloperSkills => "developer_skills",
        Catalogue::InvestmentInterests => "investment_interests",
        Catalogue::Tags => "tags",
    };
    (link, catalogue)
}

/// True when the error means the database cannot be used now: I/O, a closed or exhausted pool, or
/// a lock held past the busy timeout.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(is_unavailable_code),
        _ => false,
    }
}

/// True for SQLite's result codes that mean the database cannot be used now, whichever driver
/// reports them: `SQLITE_BUSY` (5), `SQLITE_LOCKED` (6), `SQLITE_CANTOPEN` (14) and their
/// extended codes.
pub(crate) fn is_unavailable_code(code: i64) -> bool {
    matches!(code & 0xff, 5 | 6 | 14)
}

pub(crate) fn classify<E>(
    error: sqlx::Error,
    unavailable: impl FnOnce(Cause) -> E,
    unexpected: impl FnOnce(Cause) -> E,
) -> E {
    if is_unavailable(&error) {
        unavailable(Box::new(error))
    } else {
        unexpected(Box::new(error))
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn bind<'q>(query: SqliteQuery<'q>, column: Column<'q>) -> SqliteQuery<'q> {
    match column {
        Column::Text(v) => query.bind(v),
        Column::Json(v) => query.bind(v.map(Json)),
        Column::Bool(v) => query.bind(v),
        Column::Date(v) => query.bind(v),
        Column::Names(_) => unreachable!("lists live in link tables"),
    }
}

fn scalar_fields() -> impl Iterator<Item = Field> {
    Field::ALL.into_iter().filter(|f| !f.is_list())
}

/// The figure facts of the user `d.user_id`, as columns of one statement over [`FIGURES_JOIN`]:
/// the follow counts, the top rating with the count of ratings above it in its domain (its
/// bucket's `above` plus a count inside its bucket, the second migration), the days and the titles
/// as JSON arrays. All but the count come from the `user_figures` row the fourth migration's
/// triggers keep; a user without facts has no row and gets the empty values.
///
/// The count inside the bucket starts from the bucket's nearer end: from its top when the rating
/// lies in the upper half (the `10` is the migration's bucket width), otherwise as the bucket's
/// `users` less the ratings at or below it. Both are exact, so the choice changes only how many
/// index entries a read visits (a quarter of the bucket on average instead of half).
const FIGURE_COLUMNS: &str = "\
    coalesce(f.followers, 0) AS followers, \
    coalesce(f.following, 0) AS following, \
    f.top_domain AS top_domain, \
    f.top_rating AS top_rating, \
    CASE \
      WHEN f.top_rating IS NULL THEN 0 \
      WHEN f.top_rating - f.top_bucket * 10 >= 5 \
        THEN coalesce((SELECT b.above FROM domain_rating_buckets b \
                       WHERE b.domain = f.top_domain AND b.bucket = f.top_bucket), 0) \
             + (SELECT count(*) FROM domain_ratings o WHERE o.domain = f.top_domain \
                AND o.bucket = f.top_bucket AND o.rating > f.top_rating) \
      ELSE (SELECT b.above + b.users FROM domain_rating_buckets b \
            WHERE b.domain = f.top_domain AND b.bucket = f.top_bucket) \
           - (SELECT count(*) FROM domain_ratings o WHERE o.domain = f.top_domain \
              AND o.bucket = f.top_bucket AND o.rating <= f.top_rating) \
    END AS rated_higher, \
    coalesce(f.activity_days, '[]') AS activity_days, \
    coalesce(f.freeze_days, '[]') AS freeze_days, \
    coalesce(f.titles, '[]') AS titles";

/// The join that brings the figure facts of `d.user_id` to [`FIGURE_COLUMNS`].
const FIGURES_JOIN: &str = "LEFT JOIN user_figures f ON f.user_id = d.user_id";

/// A user's whole stored profile (details with their cached list entries, figure facts): one
/// statement, so one snapshot.
static SELECT_PROFILE: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT d.*, {FIGURE_COLUMNS} FROM user_details d {FIGURES_JOIN} WHERE d.user_id = ?1")
});

/// The details of the user `?1`, with their cached list entries.
const SELECT_DETAILS: &str = "SELECT d.* FROM user_details d WHERE d.user_id = ?1";

/// The whole stored profiles of the users in `?1` (a JSON array of ids).
pub(crate) static SELECT_PROFILES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT d.*, {FIGURE_COLUMNS} FROM user_details d {FIGURES_JOIN} \
         WHERE d.user_id IN (SELECT value FROM json_each(?1))"
    )
});

/// The error of a failed read, as `unavailable` or `unexpected`.
pub(crate) fn read_failed<E>(
    error: ReadError,
    unavailable: impl FnOnce(Cause) -> E,
    unexpected: impl FnOnce(Cause) -> E,
) -> E {
    if error.is_unavailable() {
        unavailable(Box::new(error))
    } else {
        unexpected(Box::new(error))
    }
}

/// The row of `user` through `sql` (one `?1`, the user id) on a reading connection, decoded by
/// `decode`; `None` when there is no row.
fn read_row<T>(
    store: &SqliteStore,
    sql: &str,
    user: &UserId,
    decode: fn(&Named<'_, '_>, &UserId) -> Result<T, Cause>,
) -> Result<Option<T>, RepoFindError> {
    let found = store
        .readers
        .read(|conn| {
            let mut statement = conn.prepare_cached(sql)?;
            let mut rows = statement.query([user.as_str()])?;
            Ok(rows.next()?.map(|row| decode(&Named::new(row), user)))
        })
        .map_err(|e| read_failed(e, RepoFindError::Unavailable, RepoFindError::Unexpected))?;
    found.transpose().map_err(RepoFindError::Unexpected)
}

/// The figure facts of `?1`, whether or not the user has details.
pub(crate) static SELECT_FIGURES: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {FIGURE_COLUMNS} FROM (SELECT ?1 AS user_id) d {FIGURES_JOIN}")
});

/// A row's columns by name, whichever driver read it: sqlx on the writing connection (the
/// profiles a write reads back), rusqlite on the reading ones ([`crate::reader`]). Each getter
/// refuses a value of another storage class, so both decode a row alike.
pub(crate) trait Columns {
    /// A `TEXT` column.
    fn text(&self, column: &str) -> Result<Option<String>, Cause>;
    /// An `INTEGER` column.
    fn integer(&self, column: &str) -> Result<Option<i64>, Cause>;
    /// A `REAL` column.
    fn real(&self, column: &str) -> Result<Option<f64>, Cause>;
}

impl Columns for SqliteRow {
    fn text(&self, column: &str) -> Result<Option<String>, Cause> {
        Ok(self.try_get(column)?)
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, Cause> {
        Ok(self.try_get(column)?)
    }

    fn real(&self, column: &str) -> Result<Option<f64>, Cause> {
        Ok(self.try_get(column)?)
    }
}

/// A row of a reading connection ([`crate::reader`]) with its column names taken once.
/// rusqlite's `Row::get` by name asks SQLite for the name of every column before the one wanted
/// and compares each without regard to case: some 600 calls for a profile's ~40 lookups, 6–7 % of
/// the server's CPU on an SQLite GET (`docs/benchmarks.md`). Here the names are read once per row
/// and matched exactly, as the statements and the schema spell them.
pub(crate) struct Named<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    names: Vec<&'r str>,
}

impl<'r, 's> Named<'r, 's> {
    pub(crate) fn new(row: &'r rusqlite::Row<'s>) -> Self {
        let names = row.as_ref().column_names();
        Named { row, names }
    }

    /// The value of `column`; a name the statement does not have is an error, as with `Row::get`.
    fn get<T: rusqlite::types::FromSql>(&self, column: &str) -> Result<T, Cause> {
        let index = self
            .names
            .iter()
            .position(|name| *name == column)
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(column.to_owned()))?;
        Ok(self.row.get(index)?)
    }
}

impl Columns for Named<'_, '_> {
    fn text(&self, column: &str) -> Result<Option<String>, Cause> {
        self.get(column)
    }

    fn integer(&self, column: &str) -> Result<Option<i64>, Cause> {
        self.get(column)
    }

    fn real(&self, column: &str) -> Result<Option<f64>, Cause> {
        self.get(column)
    }
}

/// A stored day, `%Y-%m-%d`. The days the service writes have exactly that form, read here
/// without chrono's format-string parser (2 % of the server's CPU on an SQLite GET, which reads a
/// user's activity and freeze days); anything else is read by that parser, so what is accepted,
/// and every error, stays chrono's.
fn stored_day(text: &str) -> Result<NaiveDate, chrono::ParseError> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) {
            // y < 10,000, so the cast cannot wrap.
            if let Some(day) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return Ok(day);
            }
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
}

/// Why a column's value could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("column {column}: {source}")]
struct Undecodable {
    column: String,
    source: Cause,
}

fn decode_error(column: &str, e: impl Into<Cause>) -> Cause {
    Box::new(Undecodable {
        column: column.to_owned(),
        source: e.into(),
    })
}

/// A JSON array column (`None` when the aggregate saw no rows: SQLite answers `[]` then, but a
/// `NULL` is read the same way).
fn json_column<T: serde::de::DeserializeOwned>(
    row: &impl Columns,
    column: &str,
) -> Result<Vec<T>, Cause> {
    match row.text(column)? {
        Some(text) => serde_json::from_str(&text).map_err(|e| decode_error(column, e)),
        None => Ok(Vec::new()),
    }
}

/// A column that must hold an integer.
fn required_integer(row: &impl Columns, column: &str) -> Result<i64, Cause> {
    row.integer(column)?
        .ok_or_else(|| decode_error(column, "unexpected null"))
}

/// Decodes the figure facts of a row holding [`FIGURE_COLUMNS`].
pub(crate) fn figure_inputs(row: &impl Columns) -> Result<FigureInputs, Cause> {
    let count = |name: &str| -> Result<u64, Cause> {
        Ok(u64::try_from(required_integer(row, name)?).unwrap_or(0))
    };
    let top = match row.text("top_domain")? {
        Some(domain) => Some(TopRating {
            rating: DomainRating {
                domain,
                rating: row
                    .real("top_rating")?
                    .ok_or_else(|| decode_error("top_rating", "unexpected null"))?,
            },
            rated_higher: count("rated_higher")?,
        }),
        None => None,
    };
    let days = |column: &str| -> Result<Vec<NaiveDate>, Cause> {
        json_column::<String>(row, column)?
            .iter()
            .map(|day| stored_day(day))
            .collect::<Result<_, _>>()
            .map_err(|e| decode_error(column, e))
    };
    let titles = json_column::<(String, String)>(row, "titles")?
        .into_iter()
        .map(|(title, at)| {
            let unlocked_at = DateTime::parse_from_rfc3339(&at)
                .map_err(|e| decode_error("titles", e))?
                .with_timezone(&Utc);
            Ok(UnlockedTitle { title, unlocked_at })
        })
        .collect::<Result<_, Cause>>()?;
    Ok(FigureInputs {
        followers: count("followers")?,
        following: count("following")?,
        top,
        activity_days: days("activity_days")?,
        freeze_days: days("freeze_days")?,
        titles,
    })
}

/// The stored value of `field`: its column, or for a list the names of its entries.
fn stored(
    row: &impl Columns,
    lists: &[Vec<CatalogueEntry>],
    field: Field,
) -> Result<StoredValue, Cause> {
    let column = field.name();
    Ok(match field.kind() {
        Kind::Text => StoredValue::Text(row.text(column)?),
        Kind::Json => StoredValue::Json(
            row.text(column)?
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(|e| decode_error(column, e))?,
        ),
        Kind::Bool => StoredValue::Bool(row.integer(column)?.map(|v| v != 0)),
        Kind::Date => StoredValue::Date(
            row.text(column)?
                .map(|text| stored_day(&text))
                .transpose()
                .map_err(|e| decode_error(column, e))?,
        ),
        Kind::Names => {
            let i = List::ALL.iter().position(|l| l.field() == field);
            let entries = i.and_then(|i| lists.get(i)).into_iter().flatten();
            StoredValue::Names(entries.map(|e| e.name.clone()).collect())
        }
    })
}

/// Reads a whole profile in one statement ([`SELECT_PROFILE`]), inside a write transaction;
/// `None` when the user has no details, an [`UnreadableRow`] error when some of its fields cannot
/// be read.
async fn read_profile(
    conn: &mut SqliteConnection,
    user: &UserId,
) -> Result<Option<StoredProfile>, Cause> {
    let row = sqlx::query(&SELECT_PROFILE)
        .bind(user.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| profile_of(&row, user)).transpose()
}

/// The profile of a row holding the details, the list columns and the figure columns.
pub(crate) fn profile_of(row: &impl Columns, user: &UserId) -> Result<StoredProfile, Cause> {
    let (restored, lists) = restored(row, user)?;
    if !restored.unreadable.is_empty() {
        return Err(Box::new(UnreadableRow(restored)));
    }
    let facts = figure_inputs(row)?;
    let mut lists = lists.into_iter();
    let mut next = || lists.next().unwrap_or_default();
    Ok(StoredProfile {
        detail: restored.detail,
        skills: next(),
        investment_interests: next(),
        technical_interests: next(),
        focus_area: next(),
        facts,
    })
}

/// An entry of a cached list: position, catalogue id, name, description.
type CachedEntry = (i64, i64, String, Option<String>);

/// The details of a row of `user_details`, with the lists' entries from its `list_entries` (the
/// third migration: one JSON array per list, in [`List::ALL`] order, of `[position, id, name,
/// description]`, which this puts in position order). Fields that cannot be read are named in
/// [`Restored::unreadable`].
fn restored(
    row: &impl Columns,
    user: &UserId,
) -> Result<(Restored, Vec<Vec<CatalogueEntry>>), Cause> {
    let cached: Vec<Vec<CachedEntry>> = json_column(row, "list_entries")?;
    if cached.len() != List::ALL.len() {
        return Err(decode_error(
            "list_entries",
            format!(
                "{} lists where {} were expected",
                cached.len(),
                List::ALL.len()
            ),
        ));
    }
    let lists: Vec<Vec<CatalogueEntry>> = cached
        .into_iter()
        .map(|mut entries| {
            entries.sort_unstable_by_key(|entry| entry.0);
            entries
                .into_iter()
                .map(|(_, id, name, description)| CatalogueEntry {
                    id,
                    name,
                    description,
                })
                .collect()
        })
        .collect();
    let version = Version::new(required_integer(row, "version")?);
    let restored = UserDetail::restore(user.clone(), version, |field| stored(row, &lists, field))?;
    Ok((restored, lists))
}

/// Whether the user has details.
const SELECT_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM user_details WHERE user_id = ?1)";

/// Why a write guarded by `expected` touched no row, given whether the row `exists` now: it is
/// gone, or at another version. Without an expected version the row was gone when the statement
/// ran, and `exists` is not asked.
async fn missed<E>(
    expected: Option<Version>,
    exists: impl std::future::Future<Output = Result<bool, E>>,
) -> Result<RepoUpdateError, E> {
    if expected.is_none() {
        return Ok(RepoUpdateError::NotFound);
    }
    Ok(if exists.await? {
        RepoUpdateError::VersionMismatch
    } else {
        RepoUpdateError::NotFound
    })
}

#[async_trait]
impl UserDetailsRepository for SqliteStore {
    #[tracing::instrument(skip(self), fields(user = %user), err(level = "debug"))]
    async fn find(&self, user: &UserId) -> Result<StoredProfile, RepoFindError> {
        read_row(self, &SELECT_PROFILE, user, |row, user| {
            profile_of(row, user)
        })?
        .ok_or(RepoFindError::NotFound)
    }

    #[tracing::instrument(skip(self), fields(user = %user), err(level = "debug"))]
    async fn find_detail(&self, user: &UserId) -> Result<UserDetail, RepoFindError> {
        let (restored, _) = read_row(self, SELECT_DETAILS, user, |row, user| restored(row, user))?
            .ok_or(RepoFindError::NotFound)?;
        if restored.unreadable.is_empty() {
            Ok(restored.detail)
        } else {
            Err(RepoFindError::Unreadable(Box::new(UnreadableRow(restored))))
        }
    }

    #[tracing::instrument(skip_all, fields(user = %detail.user_id), err(level = "debug"))]
    async fn insert(&self, detail: &UserDetail) -> Result<StoredProfile, RepoInsertError> {
        let error = |e: sqlx::Error| {
            if is_unique_violation(&e) {
                RepoInsertError::AlreadyExists
            } else {
                classify(e, RepoInsertError::Unavailable, RepoInsertError::Unexpected)
            }
        };
        let names: Vec<&str> = scalar_fields().map(Field::name).collect();
        let params: Vec<String> = (0..names.len()).map(|i| format!("?{}", i + 3)).collect();
        let sql = format!(
            "INSERT INTO user_details (user_id, version, {}) VALUES (?1, ?2, {})",
            names.join(", "),
            params.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(detail.user_id.as_str())
            .bind(detail.version.get());
        for field in scalar_fields() {
            query = bind(query, detail.column(field));
        }
        let mut conn = self.writer.acquire().await.map_err(error)?;
        start_write()?;
        let mut tx = conn.begin().await.map_err(error)?;
        query.execute(&mut *tx).await.map_err(error)?;
        let lists: Vec<Field> = List::ALL
            .into_iter()
            .filter(|l| !detail.names(*l).is_empty())
            .map(List::field)
            .collect();
        update_batch::write_lists(&mut tx, &[(detail, &lists)])
            .await
            .map_err(error)?;
        let profile = read_profile(&mut tx, &detail.user_id)
            .await
            .map_err(RepoInsertError::Unexpected)?
            .ok_or_else(|| RepoInsertError::Unexpected("inserted row vanished".into()))?;
        tx.commit().await.map_err(error)?;
        Ok(profile)
    }

    #[tracing::instrument(skip_all, fields(user = %detail.user_id, ?changed), err(level = "debug"))]
    async fn update(
        &self,
        detail: &UserDetail,
        changed: &[Field],
        expected: Option<Version>,
    ) -> Result<StoredProfile, RepoUpdateError> {
        self.update_batched(detail, changed, expected).await
    }

    #[tracing::instrument(skip(self), fields(user = %user), err(level = "debug"))]
    async fn delete(
        &self,
        user: &UserId,
        expected: Option<Version>,
    ) -> Result<(), RepoDeleteError> {
        let error = |e| classify(e, RepoDeleteError::Unavailable, RepoDeleteError::Unexpected);
        let mut conn = self.writer.acquire().await.map_err(error)?;
        start_write()?;
        let deleted = sqlx::query(
            "DELETE FROM user_details WHERE user_id = ?1 AND (?2 IS NULL OR version = ?2)",
        )
        .bind(user.as_str())
        .bind(expected.map(Version::get))
        .execute(&mut *conn)
        .await
        .map_err(error)?
        .rows_affected();
        if deleted == 1 {
            return Ok(());
        }
        let exists = sqlx::query_scalar(SELECT_EXISTS)
            .bind(user.as_str())
            .fetch_one(&mut *conn);
        Err(match missed(expected, exists).await.map_err(error)? {
            RepoUpdateError::VersionMismatch => RepoDeleteError::VersionMismatch,
            _ => RepoDeleteError::NotFound,
        })
    }

    async fn ping(&self) -> Result<(), Cause> {
        Ok(self
            .readers
            .read(|conn| conn.query_row("SELECT 1", [], |_| Ok(())))?)
    }
}

impl SqliteStore {
    /// An update, batched with the concurrent updates of other users ([`crate::update_batch`]).
    async fn update_batched(
        &self,
        detail: &UserDetail,
        changed: &[Field],
        expected: Option<Version>,
    ) -> Result<StoredProfile, RepoUpdateError> {
        let error = |e| classify(e, RepoUpdateError::Unavailable, RepoUpdateError::Unexpected);
        let job = Update {
            detail: Arc::new(detail.clone()),
            fields: changed.into(),
            expected,
        };
        let lanes = &self.updates;
        match update_batch::update(lanes, &self.writer, job.clone()).await {
            Written::Row(profile) => self.updated(profile, &job).await,
            Written::Alone => {
                // The batch this update was in failed as a whole: alone, it fails only if it is
                // the cause. (Its gate was started when the batch took it.)
                let mut profiles = update_batch::run(&self.writer, std::slice::from_ref(&job))
                    .await
                    .map_err(|e| match update_batch::unreadable(e) {
                        Ok(row) => RepoUpdateError::Unreadable(row),
                        Err(e) => error(e),
                    })?;
                self.updated(profiles.remove(detail.user_id.as_str()), &job)
                    .await
            }
            Written::Failed(e) => Err(RepoUpdateError::Unavailable(Box::new(e))),
            Written::Refused => Err(TimedOut.into()),
        }
    }

    /// The outcome of an update: its profile, or why it touched no row.
    async fn updated(
        &self,
        profile: Option<Arc<StoredProfile>>,
        job: &Update,
    ) -> Result<StoredProfile, RepoUpdateError> {
        match profile {
            Some(profile) => Ok(Arc::unwrap_or_clone(profile)),
            None => {
                let user = job.detail.user_id.as_str();
                let exists = async {
                    self.readers.read(|conn| {
                        conn.prepare_cached(SELECT_EXISTS)?
                            .query_row([user], |row| row.get(0))
                    })
                };
                Err(missed(job.expected, exists).await.map_err(|e| {
                    read_failed(e, RepoUpdateError::Unavailable, RepoUpdateError::Unexpected)
                })?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A row of named text and integer columns; any other column is `NULL` (no real ones).
    #[derive(Default)]
    struct Row(HashMap<&'static str, String>, HashMap<&'static str, i64>);

    impl Columns for Row {
        fn text(&self, column: &str) -> Result<Option<String>, Cause> {
            Ok(self.0.get(column).cloned())
        }

        fn integer(&self, column: &str) -> Result<Option<i64>, Cause> {
            Ok(self.1.get(column).copied())
        }

        fn real(&self, _: &str) -> Result<Option<f64>, Cause> {
            Ok(None)
        }
    }

    /// The fast path for stored days reads exactly what chrono's `%Y-%m-%d` reads, and refuses
    /// exactly what it refuses.
    fn same_as_chrono(text: &str) {
        let chrono = NaiveDate::parse_from_str(text, "%Y-%m-%d");
        match (stored_day(text), chrono) {
            (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{text:?}"),
            (Err(_), Err(_)) => {}
            (ours, theirs) => panic!("{text:?}: {ours:?} against chrono's {theirs:?}"),
        }
    }

    #[test]
    fn stored_days_read_as_chrono_reads_them() {
        for text in [
            "2024-02-29",
            "2023-02-29",
            "2023-02-28",
            "0000-01-01",
            "9999-12-31",
            "2024-00-10",
            "2024-13-01",
            "2024-01-00",
            "2024-01-32",
            " 2024-01-01",
            "2024-01-01 ",
            "2024-1-01",
            "+2024-01-01",
            "-2024-01-01",
            "2024-01-1",
            "2024/01/01",
            "20240101xx",
            "2024-01-0a",
            "２０２４-01-01",
            "",
            "1-1-1",
            "12345-01-01",
            "2024-01-01T00:00:00",
            "2024-01/01",
            "2024/01-01",
            "2024-0101-",
            "-2024-0101",
        ] {
            same_as_chrono(text);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_short_text_reads_as_chrono_reads_it(text in "[0-9 +/-]{8,12}") {
            same_as_chrono(&text);
        }

        #[test]
        fn a_day_with_one_character_changed_reads_as_chrono_reads_it(
            days in 0i32..3_652_059,
            at in 0usize..10,
            c in proptest::prop_oneof![proptest::char::range('+', '9'), proptest::char::any()],
        ) {
            let day = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let mut text: Vec<char> = day.format("%Y-%m-%d").to_string().chars().collect();
            text[at] = c;
            same_as_chrono(&text.into_iter().collect::<String>());
        }

        #[test]
        fn every_day_reads_back(days in -800_000i32..3_000_000) {
            let day = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            let text = day.format("%Y-%m-%d").to_string();
            proptest::prop_assert_eq!(stored_day(&text).ok(), Some(day));
            same_as_chrono(&text);
        }
    }

    /// The cached list entries come back in position order whatever order they are stored in.
    #[test]
    fn list_entries_are_put_in_position_order() {
        let mut row = Row::default();
        row.0.insert("user_type", "developer".into());
        row.0.insert(
            "list_entries",
            r#"[[[2,30,"Go",null],[0,10,"Rust","systems"],[1,20,"SQL",null]],[],[],[]]"#.into(),
        );
        row.1.insert("version", 3);
        let user = UserId::parse("1").unwrap();
        let (restored, lists) = restored(&row, &user).unwrap();
        let names: Vec<&str> = lists[0].iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Rust", "SQL", "Go"]);
        assert_eq!(lists[0][0].id, 10);
        assert_eq!(lists[0][0].description.as_deref(), Some("systems"));
        assert!(lists[1..].iter().all(Vec::is_empty));
        assert_eq!(
            restored
                .detail
                .names(List::Skills)
                .names()
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>(),
            ["Rust", "SQL", "Go"]
        );
        assert_eq!(restored.detail.version.get(), 3);
    }

    /// A cache of another shape than one array per list is an error, not lists lost.
    #[test]
    fn list_entries_of_another_shape_are_refused() {
        let mut row = Row::default();
        row.0.insert("user_type", "developer".into());
        row.0.insert("list_entries", "[[],[],[]]".into());
        row.1.insert("version", 3);
        let error = restored(&row, &UserId::parse("1").unwrap()).unwrap_err();
        assert!(error.to_string().contains("list_entries"), "{error}");
    }
}
