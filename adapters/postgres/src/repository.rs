//! The repository port on PostgreSQL: reads of a profile or of the details alone (through the
//! read lanes), create, update (only the changed fields, through the update lane), delete.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use iam_domain::stored::Column;
use iam_domain::values::{CatalogueName, NameList};
use iam_domain::{Catalogue, Field, List, StoredProfile, UserDetail, UserId, Version};
use iam_ports::{
    start_write, Cause, RepoDeleteError, RepoFindError, RepoInsertError, RepoUpdateError, TimedOut,
    UnreadableRow, UserDetailsRepository,
};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{Connection, PgConnection, Postgres, Row};

use crate::errors::BatchError;
use crate::errors::{classify, constraint, is_unavailable};
use crate::read::{self, list_tables, SELECT_PROFILE};
use crate::update_batch;
use crate::PgStore;
use iam_batch::{Update, Written};

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// Binds one column value.
fn bind<'q>(query: PgQuery<'q>, column: Column<'q>) -> PgQuery<'q> {
    match column {
        Column::Text(v) => query.bind(v),
        Column::Json(v) => query.bind(v.map(Json)),
        Column::Bool(v) => query.bind(v),
        Column::Date(v) => query.bind(v),
        Column::Names(_) => unreachable!("lists live in link tables"),
    }
}

/// Resolves names to catalogue ids, adding the new ones; returns the ids by name key.
///
/// New names are inserted with `ON CONFLICT DO NOTHING` in key order, and callers resolve the
/// catalogues in one fixed order ([`CATALOGUES`]), so concurrent writers take the catalogues' key
/// locks in one global order and cannot deadlock. A name another transaction committed after this
/// statement's snapshot comes back without an id and is read again by a second statement, which
/// sees that commit.
async fn catalogue_ids(
    conn: &mut PgConnection,
    catalogue: &str,
    names: &[&CatalogueName],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let spelled: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    let keys: Vec<&str> = names.iter().map(|n| n.key()).collect();
    let sql = format!(
        "WITH input AS (SELECT * FROM unnest($1::text[], $2::text[]) AS i(name, name_key)), \
         added AS (INSERT INTO {catalogue} (name, name_key) \
                   SELECT name, name_key FROM input ORDER BY name_key \
                   ON CONFLICT (name_key) DO NOTHING RETURNING id, name_key) \
         SELECT input.name_key, coalesce(added.id, c.id) AS id FROM input \
         LEFT JOIN added ON added.name_key = input.name_key \
         LEFT JOIN {catalogue} c ON c.name_key = input.name_key"
    );
    let rows = sqlx::query(&sql)
        .bind(&spelled)
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
    let mut ids = HashMap::with_capacity(names.len());
    let mut missing = Vec::new();
    for row in rows {
        let key: String = row.try_get("name_key")?;
        match row.try_get::<Option<i64>, _>("id")? {
            Some(id) => {
                ids.insert(key, id);
            }
            None => missing.push(key),
        }
    }
    if !missing.is_empty() {
        let sql = format!("SELECT id, name_key FROM {catalogue} WHERE name_key = ANY($1)");
        for row in sqlx::query(&sql)
            .bind(&missing)
            .fetch_all(&mut *conn)
            .await?
        {
            ids.insert(row.try_get("name_key")?, row.try_get("id")?);
        }
    }
    Ok(ids)
}

/// Replaces the user's lists among `fields`: resolves every name first, catalogue by catalogue in
/// [`Catalogue::ALL`] order, then rewrites each list's links, then the row's cached list entries.
async fn replace_lists(
    conn: &mut PgConnection,
    detail: &UserDetail,
    fields: impl Iterator<Item = Field>,
) -> Result<(), sqlx::Error> {
    let lists: Vec<(List, &NameList)> = fields
        .filter_map(Field::list)
        .map(|list| (list, detail.names(list)))
        .collect();
    if lists.is_empty() {
        return Ok(());
    }
    let mut ids: HashMap<(&str, String), i64> = HashMap::new();
    for catalogue in Catalogue::ALL {
        let mut names: Vec<&CatalogueName> = Vec::new();
        for (list, names_of_list) in &lists {
            if list.catalogue() == catalogue {
                for name in names_of_list.names() {
                    if !names.iter().any(|n| n.key() == name.key()) {
                        names.push(name);
                    }
                }
            }
        }
        if !names.is_empty() {
            let table = read::catalogue_table(catalogue);
            for (key, id) in catalogue_ids(conn, table, &names).await? {
                ids.insert((table, key), id);
            }
        }
    }
    for (list, names) in lists {
        let (link, catalogue) = list_tables(list);
        let entry_ids = names
            .names()
            .iter()
            .map(|n| ids.get(&(catalogue, n.key().to_owned())).copied())
            .collect::<Option<Vec<i64>>>()
            .ok_or(sqlx::Error::RowNotFound)?;
        replace_links(conn, link, &detail.user_id, &entry_ids).await?;
    }
    sqlx::query(read::REFRESH_LIST_ENTRIES)
        .bind(detail.user_id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Inside a write transaction: replaces the lists among `fields`, then reads the whole profile as
/// the transaction sees it.
async fn lists_then_profile(
    conn: &mut PgConnection,
    detail: &UserDetail,
    fields: impl Iterator<Item = Field>,
) -> Result<sqlx::postgres::PgRow, sqlx::Error> {
    replace_lists(conn, detail, fields).await?;
    sqlx::query(&SELECT_PROFILE)
        .bind(detail.user_id.as_str())
        .fetch_one(&mut *conn)
        .await
}

/// Replaces a user's links in `link`: upserts positions `0..n` and deletes the ones past the new
/// end, in one statement.
async fn replace_links(
    conn: &mut PgConnection,
    link: &str,
    user: &UserId,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "WITH trimmed AS (DELETE FROM {link} WHERE user_id = $1 AND position >= cardinality($2::bigint[])) \
         INSERT INTO {link} (user_id, position, entry_id) \
         SELECT $1, (t.pos - 1)::smallint, t.id FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, pos) \
         ON CONFLICT (user_id, position) DO UPDATE SET entry_id = EXCLUDED.entry_id \
         WHERE {link}.entry_id IS DISTINCT FROM EXCLUDED.entry_id"
    );
    sqlx::query(&sql)
        .bind(user.as_str())
        .bind(ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Why a write guarded by `expected` touched no row: the row is gone, or at another version.
/// Without an expected version the row was gone when the statement ran, whatever a concurrent
/// create has made since (it is no version the caller named), so nothing is read.
async fn missed(
    conn: &mut PgConnection,
    user: &UserId,
    expected: Option<Version>,
) -> Result<RepoUpdateError, sqlx::Error> {
    if expected.is_none() {
        return Ok(RepoUpdateError::NotFound);
    }
    let exists = sqlx::query("SELECT 1 FROM user_details WHERE user_id = $1")
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

fn update_error(e: sqlx::Error) -> RepoUpdateError {
    classify(e, RepoUpdateError::Unavailable, RepoUpdateError::Unexpected)
}

/// How many times an update with lists runs alone before a missing row is taken as its outcome
/// (a failed guard or a deleted row). A run fails to resolve a name only when another transaction
/// added it after the run's snapshot, and the next run sees it, so a further run is needed only
/// if yet another new name of the list is added by someone else in that instant.
const LIST_RUNS: usize = 3;

impl PgStore {
    /// Why a guarded update of `user` touched no row (read on the error path only).
    async fn missed(&self, user: &UserId, expected: Option<Version>) -> RepoUpdateError {
        let outcome = async {
            let mut conn = self.pool.acquire().await?;
            let why = missed(&mut conn, user, expected).await?;
            conn.release();
            Ok(why)
        };
        outcome.await.unwrap_or_else(update_error)
    }

    /// An update, batched with the concurrent updates of other users ([`crate::update_batch`]).
    async fn update_batched(
        &self,
        detail: &UserDetail,
        changed: &[Field],
        expected: Option<Version>,
    ) -> Result<StoredProfile, RepoUpdateError> {
        let job = Update {
            detail: Arc::new(detail.clone()),
            fields: changed.into(),
            expected,
        };
        match update_batch::update(&self.batching.updates, &self.pool, job.clone()).await {
            Written::Row(Some(profile)) => Ok(Arc::unwrap_or_clone(profile)),
            Written::Row(None) if changed.iter().any(|f| f.is_list()) => self.alone(&job).await,
            Written::Row(None) => Err(self.missed(&detail.user_id, expected).await),
            Written::Alone => self.alone(&job).await,
            Written::Failed(error) => Err(RepoUpdateError::Unavailable(Box::new(error))),
            Written::Refused => Err(TimedOut.into()),
        }
    }

    /// Runs `job` in a statement of its own: after its batch failed as a whole, or after its
    /// batch left its row alone although it writes lists, which also happens when one of its
    /// names was added by another transaction after the batch's snapshot and so could not be
    /// resolved (now it can: each run has a new snapshot). An update with lists runs up to
    /// [`LIST_RUNS`] times. Without a row, why: [`missed`].
    async fn alone(&self, job: &Update) -> Result<StoredProfile, RepoUpdateError> {
        start_write()?;
        let runs = if job.fields.iter().any(|f| f.is_list()) {
            LIST_RUNS
        } else {
            1
        };
        for _ in 0..runs {
            let mut profiles = update_batch::run(&self.pool, std::slice::from_ref(job))
                .await
                .map_err(|e| match update_batch::unreadable(e) {
                    Ok(row) => RepoUpdateError::Unreadable(row),
                    Err(e) => update_error(e),
                })?;
            if let Some(profile) = profiles.remove(job.detail.user_id.as_str()) {
                return Ok(Arc::unwrap_or_clone(profile));
            }
        }
        Err(self.missed(&job.detail.user_id, job.expected).await)
    }
}

/// The failure of a batched read, as the failure of each read in it.
fn batch_error(error: BatchError) -> RepoFindError {
    if is_unavailable(&error.0) {
        RepoFindError::Unavailable(Box::new(error))
    } else {
        RepoFindError::Unexpected(Box::new(error))
    }
}

impl PgStore {
    /// The row of `user` through a batched read ([`read::fetch_row`]).
    async fn batched_row(
        &self,
        lanes: &read::ReadLanes,
        sql: &str,
        user: &UserId,
    ) -> Result<Arc<PgRow>, RepoFindError> {
        read::fetch_row(lanes, &self.pool, sql, user.as_str())
            .await
            .map_err(batch_error)?
            .ok_or(RepoFindError::NotFound)
    }
}

#[async_trait]
impl UserDetailsRepository for PgStore {
    #[tracing::instrument(skip(self), fields(user = %user), err(level = "debug"))]
    async fn find(&self, user: &UserId) -> Result<StoredProfile, RepoFindError> {
        let row = self
            .batched_row(&self.batching.profile_reads, &read::SELECT_PROFILES, user)
            .await?;
        read::profile(&row).map_err(RepoFindError::Unexpected)
    }

    #[tracing::instrument(skip(self), fields(user = %user), err(level = "debug"))]
    async fn find_detail(&self, user: &UserId) -> Result<UserDetail, RepoFindError> {
        let row = self
            .batched_row(&self.batching.detail_reads, &read::SELECT_DETAILS, user)
            .await?;
        let (restored, _) = read::detail(&row).map_err(RepoFindError::Unexpected)?;
        if restored.unreadable.is_empty() {
            Ok(restored.detail)
        } else {
            Err(RepoFindError::Unreadable(Box::new(UnreadableRow(restored))))
        }
    }

    #[tracing::instrument(skip_all, fields(user = %detail.user_id), err(level = "debug"))]
    async fn insert(&self, detail: &UserDetail) -> Result<StoredProfile, RepoInsertError> {
        let error = |e: sqlx::Error| {
            if constraint(&e) == Some("user_details_pkey") {
                RepoInsertError::AlreadyExists
            } else {
                classify(e, RepoInsertError::Unavailable, RepoInsertError::Unexpected)
            }
        };
        let scalars: Vec<Field> = Field::ALL.into_iter().filter(|f| !f.is_list()).collect();
        let names: Vec<&str> = scalars.iter().map(|f| f.name()).collect();
        let params: Vec<String> = (0..scalars.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "INSERT INTO user_details (user_id, version, {}) VALUES ($1, $2, {})",
            names.join(", "),
            params.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(detail.user_id.as_str())
            .bind(detail.version.get());
        for field in &scalars {
            query = bind(query, detail.column(*field));
        }
        let mut conn = self.pool.acquire().await.map_err(error)?;
        start_write()?;
        let mut tx = conn.begin().await.map_err(error)?;
        if let Err(e) = query.execute(&mut *tx).await {
            let outcome = error(e);
            // A business outcome leaves the connection sound once the transaction is rolled
            // back: keep it rather than pay a reconnect for every 409.
            if matches!(outcome, RepoInsertError::AlreadyExists) && tx.rollback().await.is_ok() {
                conn.release();
            }
            return Err(outcome);
        }
        let nonempty = List::ALL
            .into_iter()
            .filter(|l| !detail.names(*l).is_empty())
            .map(List::field);
        let row = lists_then_profile(&mut tx, detail, nonempty)
            .await
            .map_err(error)?;
        tx.commit().await.map_err(error)?;
        conn.release();
        read::profile(&row).map_err(RepoInsertError::Unexpected)
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
        let mut conn = self.pool.acquire().await.map_err(error)?;
        start_write()?;
        let deleted = sqlx::query(
            "DELETE FROM user_details WHERE user_id = $1 AND ($2::bigint IS NULL OR version = $2)",
        )
        .bind(user.as_str())
        .bind(expected.map(Version::get))
        .execute(&mut *conn)
        .await
        .map_err(error)?
        .rows_affected();
        if deleted == 1 {
            conn.release();
            return Ok(());
        }
        let missed = missed(&mut conn, user, expected).await.map_err(error)?;
        conn.release();
        match missed {
            RepoUpdateError::VersionMismatch => Err(RepoDeleteError::VersionMismatch),
            _ => Err(RepoDeleteError::NotFound),
        }
    }

    async fn ping(&self) -> Result<(), Cause> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        conn.release();
        Ok(())
    }
}
