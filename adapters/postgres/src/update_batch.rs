//! Updates of scalar fields, batched ([`iam_batch`]): the concurrent updates of any scalar
//! fields of different users become one statement, one transaction and one commit. One statement
//! shape serves them all: each row carries a mask of the fields it writes ([`statement`]).
//!
//! Each row keeps its own guard (`version = expected` when the update has one), so a batch
//! changes no outcome: a row whose guard fails is simply not updated, and its job learns why by
//! itself. Two updates of one user never share a batch (the statement could apply only one of
//! them). Rows are locked in user id order before they are updated, so batches cannot deadlock
//! each other, in this process or across processes. A batch that fails for a reason other than the
//! database being unavailable (or that the database rolled back, a deadlock with some other
//! client's writes) is split: each job runs alone, so one bad row fails only its own request.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use iam_domain::stored::{self, Column};
use iam_domain::{Field, Version};
use sqlx::postgres::PgRow;
use sqlx::types::Json;

use iam_batch::{ScalarUpdate, Written};

use crate::errors::{is_rolled_back, is_unavailable};
use crate::pool::Pool;
use crate::read;

/// The lane of scalar updates ([`iam_batch::update_lanes`]).
pub(crate) type UpdateLanes = iam_batch::UpdateLanes<PgRow, sqlx::Error>;

/// Runs `job` in a batch ([`iam_batch::update`]) of [`run`]. A batch the database rolled back (a
/// deadlock or serialization failure with another client) is split like one with a bad row.
pub(crate) async fn update(
    lanes: &UpdateLanes,
    pool: &Pool,
    job: ScalarUpdate,
) -> Written<PgRow, sqlx::Error> {
    let unavailable = |e: &sqlx::Error| is_unavailable(e) && !is_rolled_back(e);
    iam_batch::update(
        lanes,
        job,
        |jobs| async move { run(pool, &jobs).await },
        unavailable,
    )
    .await
}

/// The scalar fields, in declaration order: bit `i` of a row's mask says that the `i`-th of them
/// is written.
static SCALARS: LazyLock<Vec<(Field, Kind)>> = LazyLock::new(|| {
    Field::ALL
        .iter()
        .filter_map(|f| Kind::of(*f).map(|kind| (*f, kind)))
        .collect()
});

// A row's mask is an `int4`: every field has a bit below its sign bit.
const _: () = assert!(Field::COUNT < 32);

/// The one statement of every scalar update ([`statement`]).
static STATEMENT: LazyLock<String> = LazyLock::new(|| statement(&SCALARS));

/// The column-mask update of any scalar fields of any distinct users: `$1` user ids, `$2` expected
/// versions, `$3` masks, then one array per scalar field ([`SCALARS`]), in one job order. A field
/// whose bit is clear keeps its stored value, so every update has this one shape whatever it
/// writes.
///
/// The rows are locked first, in user id order (`l`), and only then updated: an `UPDATE … FROM`
/// locks rows in the order its plan meets them (a hash join meets them in heap order, which moves
/// as rows are rewritten), so two batches from two processes could otherwise lock two users in
/// opposite orders and deadlock; every other writer holds at most one row.
fn statement(scalars: &[(Field, Kind)]) -> String {
    let arrays: String = scalars
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| format!(", ${}::{}[]", i + 4, kind.sql()))
        .collect();
    let columns: String = (0..scalars.len()).map(|i| format!(", c{i}")).collect();
    let mut sets: Vec<String> = scalars
        .iter()
        .enumerate()
        .map(|(i, (f, _))| {
            let name = f.name();
            format!(
                "{name} = CASE WHEN v.mask & {} <> 0 THEN v.c{i} ELSE d.{name} END",
                1 << i
            )
        })
        .collect();
    sets.push("version = d.version + 1".into());
    sets.push("updated_at = now()".into());
    let update = format!(
        "WITH v AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::int4[]{arrays}) \
                    AS v(user_id, expected, mask{columns})), \
         l AS MATERIALIZED (SELECT user_id FROM user_details WHERE user_id = ANY($1::text[]) \
                            ORDER BY user_id FOR NO KEY UPDATE), \
         u AS (UPDATE user_details d SET {} FROM v JOIN l ON l.user_id = v.user_id \
               WHERE d.user_id = v.user_id AND (v.expected IS NULL OR d.version = v.expected) \
               RETURNING d.*)",
        sets.join(", "),
    );
    format!("{update} {}", *read::SELECT_PROFILES_OF_UPDATED)
}

/// The mask of the fields a job writes ([`SCALARS`]).
fn mask(job: &ScalarUpdate) -> i32 {
    SCALARS
        .iter()
        .enumerate()
        .filter(|(_, (f, _))| job.scalars.contains(f))
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

/// Runs the jobs (of distinct users) in one statement: the updated rows by user.
pub(crate) async fn run(
    pool: &Pool,
    jobs: &[ScalarUpdate],
) -> Result<HashMap<String, Arc<PgRow>>, sqlx::Error> {
    let users: Vec<&str> = jobs.iter().map(|j| j.detail.user_id.as_str()).collect();
    let expected: Vec<Option<i64>> = jobs.iter().map(|j| j.expected.map(Version::get)).collect();
    let masks: Vec<i32> = jobs.iter().map(mask).collect();
    let mut query = sqlx::query(&STATEMENT)
        .bind(users)
        .bind(expected)
        .bind(masks);
    for (field, kind) in SCALARS.iter() {
        // A field a job does not write is bound as NULL, which its clear bit ignores.
        let values = jobs
            .iter()
            .map(|j| j.scalars.contains(field).then(|| j.detail.column(*field)));
        query = match kind {
            Kind::Text => query.bind(
                values
                    .map(|c| match c {
                        Some(Column::Text(v)) => v,
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Json => query.bind(
                values
                    .map(|c| match c {
                        Some(Column::Json(v)) => v.map(Json),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Bool => query.bind(
                values
                    .map(|c| match c {
                        Some(Column::Bool(v)) => v,
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Date => query.bind(
                values
                    .map(|c| match c {
                        Some(Column::Date(v)) => v,
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
