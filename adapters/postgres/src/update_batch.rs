//! Updates of scalar fields, batched ([`crate::batch`]): the concurrent updates of one set of
//! columns for different users become one statement, one transaction and one commit.
//!
//! Each row keeps its own guard (`version = expected` when the update has one), so a batch
//! changes no outcome: a row whose guard fails is simply not updated, and its job learns why by
//! itself. Two updates of one user never share a batch (the statement could apply only one of
//! them); rows are locked in user id order, and updates run in one lane, so batches of this
//! process cannot deadlock each other. A batch that fails for a reason other than the database
//! being unavailable is split: each job runs alone, so one bad row fails only its own request.

use std::collections::HashMap;
use std::sync::Arc;

use iam_domain::stored::{self, Column};
use iam_domain::{Field, UserDetail, Version};
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use crate::batch::{BatchError, Lanes, Turn};
use crate::errors::is_unavailable;
use crate::pool::Pool;
use crate::read;

/// One update waiting for a batch: the new details, the changed scalar fields, the guard.
#[derive(Clone)]
pub(crate) struct ScalarUpdate {
    pub detail: Arc<UserDetail>,
    pub scalars: Arc<[Field]>,
    pub expected: Option<Version>,
}

/// What a batched update tells its job.
pub(crate) enum UpdateAnswer {
    /// The updated profile row, or `None` when the guard failed or the row is gone.
    Row(Option<Arc<PgRow>>),
    /// The batch failed as a whole: run alone.
    Alone,
    /// The database is unavailable.
    Failed(BatchError),
    /// The request's time ran out before its update started ([`iam_ports::gate`]): not run.
    Refused,
}

/// The lanes of scalar updates: one at a time, batches of one column set and distinct users.
pub(crate) type UpdateLanes = Lanes<ScalarUpdate, UpdateAnswer>;

pub(crate) fn update_lanes() -> UpdateLanes {
    Lanes::for_writes(1, |a, b| {
        a.scalars == b.scalars && a.detail.user_id != b.detail.user_id
    })
}

/// How an update went through the lanes.
pub(crate) enum Update<'a> {
    /// A batch ran it (this job's or another's leader), or refused it.
    Answered(UpdateAnswer),
    /// It leads a batch of one: the caller runs its single-row statement while holding the lane.
    Alone(Single<'a>),
}

/// Runs `update` in a batch, or hands back the lane for the caller's single-row statement when
/// nothing else waits.
pub(crate) async fn update<'a>(
    lanes: &'a UpdateLanes,
    pool: &Pool,
    update: ScalarUpdate,
) -> Update<'a> {
    match lanes.join(update).await {
        Turn::Answer(answer) => Update::Answered(answer),
        Turn::Refused => Update::Answered(UpdateAnswer::Refused),
        Turn::Lead(batch) if batch.jobs().len() == 1 => Update::Alone(Single(batch)),
        Turn::Lead(batch) => {
            let answers = match run(pool, batch.jobs()).await {
                Ok(rows) => batch
                    .jobs()
                    .iter()
                    .map(|job| UpdateAnswer::Row(rows.get(job.detail.user_id.as_str()).cloned()))
                    .collect(),
                Err(error) if is_unavailable(&error) => {
                    let error = BatchError(Arc::new(error));
                    (0..batch.jobs().len())
                        .map(|_| UpdateAnswer::Failed(error.clone()))
                        .collect()
                }
                Err(_) => (0..batch.jobs().len())
                    .map(|_| UpdateAnswer::Alone)
                    .collect(),
            };
            Update::Answered(batch.finish(answers))
        }
    }
}

/// A batch of one, held (with its lane) while the caller runs its single-row statement.
pub(crate) struct Single<'a>(
    #[allow(dead_code)] crate::batch::Batch<'a, ScalarUpdate, UpdateAnswer>,
);

/// The batch statement of `scalars`: `$1` user ids, `$2` expected versions, then one array per
/// field, all in user id order.
fn statement(scalars: &[(Field, Kind)]) -> String {
    let arrays: Vec<String> = scalars
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| format!("${}::{}[]", i + 3, kind.sql()))
        .collect();
    let names: Vec<String> = (0..scalars.len()).map(|i| format!("c{i}")).collect();
    let mut sets: Vec<String> = scalars
        .iter()
        .zip(&names)
        .map(|((f, _), c)| format!("{} = v.{c}", f.name()))
        .collect();
    sets.push("version = d.version + 1".into());
    sets.push("updated_at = now()".into());
    let mut columns = vec!["user_id".to_owned(), "expected".to_owned()];
    columns.extend(names);
    let update = format!(
        "WITH v AS (SELECT * FROM unnest($1::text[], $2::bigint[]{}{}) AS v({}) ORDER BY user_id), \
         u AS (UPDATE user_details d SET {} FROM v \
               WHERE d.user_id = v.user_id AND (v.expected IS NULL OR d.version = v.expected) \
               RETURNING d.*)",
        if arrays.is_empty() { "" } else { ", " },
        arrays.join(", "),
        columns.join(", "),
        sets.join(", "),
    );
    format!("{update} {}", *read::SELECT_PROFILES_OF_UPDATED)
}

/// Runs one batch: the updated rows by user.
async fn run(
    pool: &Pool,
    jobs: &[ScalarUpdate],
) -> Result<HashMap<String, Arc<PgRow>>, sqlx::Error> {
    let mut jobs: Vec<&ScalarUpdate> = jobs.iter().collect();
    jobs.sort_by(|a, b| a.detail.user_id.as_str().cmp(b.detail.user_id.as_str()));
    // Every job of a batch has the same scalar fields (the lanes' rule).
    let scalars: Vec<(Field, Kind)> = jobs[0]
        .scalars
        .iter()
        .filter_map(|f| Kind::of(*f).map(|kind| (*f, kind)))
        .collect();
    let sql = statement(&scalars);
    let users: Vec<&str> = jobs.iter().map(|j| j.detail.user_id.as_str()).collect();
    let expected: Vec<Option<i64>> = jobs.iter().map(|j| j.expected.map(Version::get)).collect();
    let mut query = sqlx::query(&sql).bind(users).bind(expected);
    for (field, kind) in &scalars {
        let values = jobs.iter().map(|j| j.detail.column(*field));
        query = match kind {
            Kind::Text => query.bind(
                values
                    .map(|c| match c {
                        Column::Text(v) => v,
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Json => query.bind(
                values
                    .map(|c| match c {
                        Column::Json(v) => v.map(Json),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Bool => query.bind(
                values
                    .map(|c| match c {
                        Column::Bool(v) => v,
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Date => query.bind(
                values
                    .map(|c| match c {
                        Column::Date(v) => v,
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
        };
    }
    let mut conn = pool.acquire().await?;
    let rows = query.fetch_all(&mut *conn).await?;
    conn.release();
    read::by_user(rows)
}

/// The kind of a scalar column, which picks the SQL array type of its batch parameter.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Json,
    Bool,
    Date,
}

impl Kind {
    /// The kind of a scalar field; `None` for a list, which lives in link tables.
    fn of(field: Field) -> Option<Self> {
        match field.kind() {
            stored::Kind::Text => Some(Kind::Text),
            stored::Kind::Json => Some(Kind::Json),
            stored::Kind::Bool => Some(Kind::Bool),
            stored::Kind::Date => Some(Kind::Date),
            stored::Kind::Names => None,
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Json => "jsonb",
            Kind::Bool => "boolean",
            Kind::Date => "date",
        }
    }
}
