//! The repository port (and, for tests, the figure-facts port) on SQLite.

use async_trait::async_trait;
use iam_domain::figures::{top_domain, DomainRating, FigureInputs, TopRating, UnlockedTitle};
use iam_domain::stored::{Column, Kind, Restored, StoredValue};
use iam_domain::values::NameList;
use iam_domain::{
    Catalogue, CatalogueEntry, Field, List, StoredProfile, UserDetail, UserId, Version,
};
use iam_ports::{
    start_write, Cause, RepoDeleteError, RepoFindError, RepoInsertError, RepoUpdateError,
    UnreadableRow, UserDetailsRepository,
};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::types::Json;
use sqlx::{Connection, Row, Sqlite, SqliteConnection};

use crate::SqliteStore;

type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// The link table of a list and the catalogue table behind it.
fn list_tables(list: List) -> (&'static str, &'static str) {
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
        sqlx::Error::Database(db) => {
            // SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_CANTOPEN (14) and their extended codes.
            db.code()
                .and_then(|c| c.parse::<i64>().ok())
                .is_some_and(|c| matches!(c & 0xff, 5 | 6 | 14))
        }
        _ => false,
    }
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

/// Reads the figure inputs of `user`.
pub(crate) async fn figure_inputs(
    conn: &mut SqliteConnection,
    user: &str,
) -> Result<FigureInputs, sqlx::Error> {
    let counts = sqlx::query(
        "SELECT (SELECT count(*) FROM follows WHERE followee_id = ?1) AS followers, \
                (SELECT count(*) FROM follows WHERE follower_id = ?1) AS following",
    )
    .bind(user)
    .fetch_one(&mut *conn)
    .await?;
    // The user's ratings, and the domain's rule picks the top one; then the ratings above it.
    let ratings: Vec<DomainRating> =
        sqlx::query("SELECT domain, rating FROM domain_ratings WHERE user_id = ?1")
            .bind(user)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|row| -> Result<DomainRating, sqlx::Error> {
                Ok(DomainRating {
                    domain: row.try_get("domain")?,
                    rating: row.try_get("rating")?,
                })
            })
            .collect::<Result<_, _>>()?;
    let top = match top_domain(&ratings) {
        Some(top) => {
            let higher: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM domain_ratings WHERE domain = ?1 AND rating > ?2",
            )
            .bind(&top.domain)
            .bind(top.rating)
            .fetch_one(&mut *conn)
            .await?;
            Some(TopRating {
                rating: top.clone(),
                rated_higher: u64::try_from(higher).unwrap_or(0),
            })
        }
        None => None,
    };
    let activity_days = sqlx::query_scalar("SELECT day FROM activity_days WHERE user_id = ?1")
        .bind(user)
        .fetch_all(&mut *conn)
        .await?;
    let freeze_days = sqlx::query_scalar("SELECT day FROM streak_freeze_days WHERE user_id = ?1")
        .bind(user)
        .fetch_all(&mut *conn)
        .await?;
    let titles = sqlx::query("SELECT title, unlocked_at FROM unlocked_titles WHERE user_id = ?1 ORDER BY unlocked_at, title")
        .bind(user)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| -> Result<UnlockedTitle, sqlx::Error> {
            Ok(UnlockedTitle {
                title: row.try_get("title")?,
                unlocked_at: row.try_get("unlocked_at")?,
            })
        })
        .collect::<Result<_, _>>()?;
    let count = |name: &str| -> Result<u64, sqlx::Error> {
        Ok(u64::try_from(counts.try_get::<i64, _>(name)?).unwrap_or(0))
    };
    Ok(FigureInputs {
        followers: count("followers")?,
        following: count("following")?,
        top,
        activity_days,
        freeze_days,
        titles,
    })
}

/// The stored value of `field`: its column, or for a list the names of its entries.
fn stored(
    row: &SqliteRow,
    lists: &[Vec<CatalogueEntry>],
    field: Field,
) -> Result<StoredValue, sqlx::Error> {
    let column = field.name();
    Ok(match field.kind() {
        Kind::Text => StoredValue::Text(row.try_get(column)?),
        Kind::Json => StoredValue::Json(
            row.try_get::<Option<Json<serde_json::Value>>, _>(column)?
                .map(|j| j.0),
        ),
        Kind::Bool => StoredValue::Bool(row.try_get(column)?),
        Kind::Date => StoredValue::Date(row.try_get(column)?),
        Kind::Names => {
            let i = List::ALL.iter().position(|l| l.field() == field);
            let entries = i.and_then(|i| lists.get(i)).into_iter().flatten();
            StoredValue::Names(entries.map(|e| e.name.clone()).collect())
        }
    })
}

/// Reads a whole profile on one connection; `None` when the user has no details, an
/// [`UnreadableRow`] error when some of its fields cannot be read.
async fn read_profile(
    conn: &mut SqliteConnection,
    user: &UserId,
) -> Result<Option<StoredProfile>, Cause> {
    let Some((restored, lists)) = read_detail(conn, user).await? else {
        return Ok(None);
    };
    if !restored.unreadable.is_empty() {
        return Err(Box::new(UnreadableRow(restored)));
    }
    let detail = restored.detail;
    let facts = figure_inputs(conn, user.as_str()).await?;
    let mut lists = lists.into_iter();
    let mut next = || lists.next().unwrap_or_default();
    Ok(Some(StoredProfile {
        detail,
        skills: next(),
        investment_interests: next(),
        technical_interests: next(),
        focus_area: next(),
        facts,
    }))
}

/// Reads a user's details and the catalogue entries of the four lists; `None` without details.
/// Fields that cannot be read are named in [`Restored::unreadable`].
async fn read_detail(
    conn: &mut SqliteConnection,
    user: &UserId,
) -> Result<Option<(Restored, Vec<Vec<CatalogueEntry>>)>, Cause> {
    let Some(row) = sqlx::query("SELECT * FROM user_details WHERE user_id = ?1")
        .bind(user.as_str())
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut lists: Vec<Vec<CatalogueEntry>> = Vec::with_capacity(4);
    for list in List::ALL {
        let (link, catalogue) = list_tables(list);
        let sql = format!(
            "SELECT c.id, c.name, c.description FROM {link} l JOIN {catalogue} c ON c.id = l.entry_id \
             WHERE l.user_id = ?1 ORDER BY l.position"
        );
        let entries = sqlx::query(&sql)
            .bind(user.as_str())
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| -> Result<CatalogueEntry, sqlx::Error> {
                Ok(CatalogueEntry {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                })
            })
            .collect::<Result<_, _>>()?;
        lists.push(entries);
    }
    let version = Version::new(row.try_get("version")?);
    let restored = UserDetail::restore(user.clone(), version, |field| stored(&row, &lists, field))?;
    Ok(Some((restored, lists)))
}

/// Replaces a user's list, adding new catalogue names. Runs inside the write transaction, which
/// SQLite serialises, so a name is added once however many users add it at the same moment.
async fn replace_list(
    conn: &mut SqliteConnection,
    user: &UserId,
    list: List,
    names: &NameList,
) -> Result<(), sqlx::Error> {
    let (link, catalogue) = list_tables(list);
    sqlx::query(&format!("DELETE FROM {link} WHERE user_id = ?1"))
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    let insert_name = format!("INSERT INTO {catalogue} (name, name_key) VALUES (?1, ?2) ON CONFLICT (name_key) DO NOTHING");
    let select_id = format!("SELECT id FROM {catalogue} WHERE name_key = ?1");
    let insert_link =
        format!("INSERT INTO {link} (user_id, position, entry_id) VALUES (?1, ?2, ?3)");
    for (position, name) in names.names().iter().enumerate() {
        sqlx::query(&insert_name)
            .bind(name.as_str())
            .bind(name.key())
            .execute(&mut *conn)
            .await?;
        let id: i64 = sqlx::query_scalar(&select_id)
            .bind(name.key())
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query(&insert_link)
            .bind(user.as_str())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Why a write guarded by `expected` touched no row: the row is gone, or at another version.
/// Without an expected version the row was gone when the statement ran, so nothing is read.
async fn missed(
    conn: &mut SqliteConnection,
    user: &UserId,
    expected: Option<Version>,
) -> Result<RepoUpdateError, sqlx::Error> {
    if expected.is_none() {
        return Ok(RepoUpdateError::NotFound);
    }
    let exists = sqlx::query("SELECT 1 FROM user_details WHERE user_id = ?1")
        .bind(user.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    Ok(if exists {
        RepoUpdateError::VersionMismatch
    } else {
        RepoUpdateError::NotFound
    })
}

#[async_trait]
impl UserDetailsRepository for SqliteStore {
    #[tracing::instrument(skip(self), fields(user = %user), err(level = "debug"))]
    async fn find(&self, user: &UserId) -> Result<StoredProfile, RepoFindError> {
        let error = |e| classify(e, RepoFindError::Unavailable, RepoFindError::Unexpected);
        let mut tx = self.readers.begin().await.map_err(error)?;
        let profile = read_profile(&mut tx, user)
            .await
            .map_err(RepoFindError::Unexpected)?
            .ok_or(RepoFindError::NotFound)?;
        tx.commit().await.map_err(error)?;
        Ok(profile)
    }

    #[tracing::instrument(skip(self), fields(user = %user), err(level = "debug"))]
    async fn find_detail(&self, user: &UserId) -> Result<UserDetail, RepoFindError> {
        let error = |e| classify(e, RepoFindError::Unavailable, RepoFindError::Unexpected);
        let mut conn = self.readers.acquire().await.map_err(error)?;
        let (restored, _) = read_detail(&mut conn, user)
            .await
            .map_err(RepoFindError::Unexpected)?
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
        for list in List::ALL {
            replace_list(&mut tx, &detail.user_id, list, detail.names(list))
                .await
                .map_err(error)?;
        }
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
        let error = |e| classify(e, RepoUpdateError::Unavailable, RepoUpdateError::Unexpected);
        let scalars: Vec<Field> = changed.iter().copied().filter(|f| !f.is_list()).collect();
        let mut sets: Vec<String> = scalars
            .iter()
            .enumerate()
            .map(|(i, f)| format!("{} = ?{}", f.name(), i + 3))
            .collect();
        sets.push("version = version + 1".into());
        sets.push("updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')".into());
        let sql = format!(
            "UPDATE user_details SET {} WHERE user_id = ?1 AND (?2 IS NULL OR version = ?2)",
            sets.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(detail.user_id.as_str())
            .bind(expected.map(Version::get));
        for field in &scalars {
            query = bind(query, detail.column(*field));
        }
        let mut conn = self.writer.acquire().await.map_err(error)?;
        start_write()?;
        let mut tx = conn.begin().await.map_err(error)?;
        if query
            .execute(&mut *tx)
            .await
            .map_err(error)?
            .rows_affected()
            == 0
        {
            let why = missed(&mut tx, &detail.user_id, expected).await;
            return Err(why.map_err(error)?);
        }
        for list in changed.iter().copied().filter_map(Field::list) {
            replace_list(&mut tx, &detail.user_id, list, detail.names(list))
                .await
                .map_err(error)?;
        }
        let profile = read_profile(&mut tx, &detail.user_id)
            .await
            .map_err(RepoUpdateError::Unexpected)?
            .ok_or(RepoUpdateError::NotFound)?;
        tx.commit().await.map_err(error)?;
        Ok(profile)
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
        Err(
            match missed(&mut conn, user, expected).await.map_err(error)? {
                RepoUpdateError::VersionMismatch => RepoDeleteError::VersionMismatch,
                _ => RepoDeleteError::NotFound,
            },
        )
    }

    async fn ping(&self) -> Result<(), Cause> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }
}
