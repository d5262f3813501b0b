//! Updates, batched ([`iam_batch`]): the concurrent updates of any fields of different users,
//! lists included, become one transaction on the one writing connection: when some row writes a
//! list, the rows whose guard holds ([`SELECT_WRITABLE`]) and three statements per list some row
//! writes ([`write_lists`]: new catalogue names, removed links, new links, telling whose links
//! changed); then one `UPDATE … FROM` with a mask of the scalar fields each row writes, one read
//! of the updated profiles, one commit. With sqlx each statement is a hand-off to the
//! connection's worker thread, and SQLite has one writer, so a batch pays its hand-offs once for
//! every update waiting instead of once each.
//!
//! Each row keeps its own guard (`version = expected` when the update has one), so a batch
//! changes no outcome: a row whose guard fails is simply not updated, and its job learns why by
//! itself. Two updates of one user never share a batch (the statement could apply only one of
//! them). The profiles are read inside the transaction, so each answer is exactly what its update
//! left, and the transaction commits only when each of them can be read whole. A row's version
//! moves only when the row changes ([`STATEMENT`]). A batch that fails for a reason other than
//! the database being unavailable is split: each job runs alone, so one bad row fails only its
//! own request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use iam_batch::{Update, Written};
use iam_domain::stored::{Column, Kind};
use iam_domain::{Field, List, StoredProfile, UserDetail, UserId};
use serde_json::Value;
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};

use crate::store::{is_unavailable, list_tables, profile_of, SELECT_PROFILES};

/// The lane of updates ([`iam_batch::update_lanes`]): one batch at a time (SQLite has one
/// writer).
pub(crate) type UpdateLanes = iam_batch::UpdateLanes<StoredProfile, sqlx::Error>;

/// Runs `job` in a batch ([`iam_batch::update`]) of [`run`] on the writing connection.
pub(crate) async fn update(
    lanes: &UpdateLanes,
    writer: &SqlitePool,
    job: Update,
) -> Written<StoredProfile, sqlx::Error> {
    iam_batch::update(
        lanes,
        job,
        |jobs| async move { run(writer, &jobs).await },
        is_unavailable,
    )
    .await
}

/// The scalar fields, in declaration order: bit `i` of a row's mask says that the `i`-th of them
/// is written.
static SCALARS: LazyLock<Vec<Field>> =
    LazyLock::new(|| Field::ALL.into_iter().filter(|f| !f.is_list()).collect());

// A row's mask is a JSON integer SQLite reads as a 64-bit one: every field has a bit below its
// sign bit.
const _: () = assert!(Field::COUNT < 63);

/// The one statement of every scalar update. A row's version and `updated_at` move only when it
/// changes: it writes a JSON document (which the domain compared, or merged, before), a field
/// whose stored form differs from the one sent ([`iam_domain::UserDetail::overwrite`] sends
/// fields unread), or a list whose links [`write_lists`] changed ([`LISTS_CHANGED`]). `?1` is a
/// JSON array with one array per row:
/// `[user_id, expected version or null, mask, value of each scalar field…]`; a field whose bit
/// is clear keeps its stored value. Text, dates and booleans are JSON strings and booleans (read
/// back with `->>` as SQLite stores them: text, `YYYY-MM-DD`, 0 or 1); a JSON document is sent as
/// the string of its text, so that the stored text is exactly the one a lone write stores.
/// The input is decoded once per row (`MATERIALIZED`): as a plain subquery SQLite folds it into
/// the update and decodes a row's JSON again for every mention of one of its columns, the mask
/// dozens of times (`perf`: SQLite's JSON functions ~8 % of the server's CPU under PATCH bio,
/// ~3 % once decoded once; `docs/benchmarks.md`).
static STATEMENT: LazyLock<String> = LazyLock::new(|| {
    let values: String = (0..SCALARS.len())
        .map(|i| format!(", j.value ->> '$[{}]' AS c{i}", i + 3))
        .collect();
    let sets: Vec<String> = SCALARS
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = f.name();
            format!(
                "{name} = CASE WHEN v.mask & {} <> 0 THEN v.c{i} ELSE d.{name} END",
                1_u64 << i
            )
        })
        .collect();
    let always = SCALARS
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind() == Kind::Json)
        .fold(LISTS_CHANGED, |bits, (i, _)| bits | 1 << i);
    let compared: Vec<String> = SCALARS
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind() != Kind::Json)
        .map(|(i, f)| {
            format!(
                "(v.mask & {} <> 0 AND v.c{i} IS NOT d.{})",
                1_u64 << i,
                f.name()
            )
        })
        .collect();
    let changed = format!("(v.mask & {always} <> 0 OR {})", compared.join(" OR "));
    format!(
        "WITH v AS MATERIALIZED \
           (SELECT j.value ->> '$[0]' AS user_id, j.value ->> '$[1]' AS expected, \
                   j.value ->> '$[2]' AS mask{values} FROM json_each(?1) AS j) \
         UPDATE user_details AS d SET {}, version = d.version + ({changed}), \
         updated_at = CASE WHEN {changed} THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                      ELSE d.updated_at END \
         FROM v \
         WHERE d.user_id = v.user_id AND (v.expected IS NULL OR d.version = v.expected) \
         RETURNING user_id",
        sets.join(", ")
    )
});

/// The bit of a row's mask that says the links of a list it writes changed ([`write_lists`]
/// writes them first), which makes the row change.
const LISTS_CHANGED: u64 = 1 << Field::COUNT;

/// A job as one row of [`STATEMENT`]'s input; `lists_changed` when [`write_lists`] changed a
/// link of it.
fn row(job: &Update, lists_changed: bool) -> Result<Value, serde_json::Error> {
    let mut row = vec![
        Value::from(job.detail.user_id.as_str()),
        job.expected.map_or(Value::Null, |v| Value::from(v.get())),
    ];
    let mut mask = 0_u64;
    let mut values = Vec::with_capacity(SCALARS.len());
    for (i, field) in SCALARS.iter().enumerate() {
        if !job.fields.contains(field) {
            values.push(Value::Null);
            continue;
        }
        mask |= 1 << i;
        values.push(match job.detail.column(*field) {
            Column::Text(v) => v.map_or(Value::Null, Value::from),
            Column::Json(v) => match v {
                Some(doc) => Value::from(serde_json::to_string(doc)?),
                None => Value::Null,
            },
            Column::Bool(v) => v.map_or(Value::Null, Value::from),
            Column::Date(v) => v.map_or(Value::Null, |d| Value::from(d.format("%F").to_string())),
            Column::Names(_) => {
                unreachable!("{field:?} is a list, not a scalar ({:?})", Kind::Names)
            }
        });
    }
    if lists_changed {
        mask |= LISTS_CHANGED;
    }
    row.push(Value::from(mask));
    row.extend(values);
    Ok(Value::Array(row))
}

/// Inside a write transaction, writes the lists of `rows`: each row's details and the fields it
/// writes (only its lists are read). Per list some row writes: its new names join the catalogue
/// (`ON CONFLICT DO NOTHING`; the one writer adds a name once), the links past each row's new
/// length are deleted, and each position is written only where its entry changed (an upsert), so
/// the link triggers rebuild a row's cached entries once per link that changed, not once per link
/// deleted and once per link inserted. Each statement takes one JSON array: the list's names,
/// `[user_id, position, name, name key]` each, or `[user_id, length]` per user that writes the
/// list. A batch passes its rows whose guard holds, a create its new row. Returns the users a
/// link of whom changed: a list written as it was stored changes none (its positions hold the
/// same entries: one per case-insensitive name).
pub(crate) async fn write_lists(
    tx: &mut SqliteConnection,
    rows: &[(&UserDetail, &[Field])],
) -> Result<HashSet<String>, sqlx::Error> {
    let mut changed = HashSet::new();
    for list in List::ALL {
        let writers: Vec<&UserDetail> = rows
            .iter()
            .filter(|(_, fields)| fields.contains(&list.field()))
            .map(|(detail, _)| *detail)
            .collect();
        if writers.is_empty() {
            continue;
        }
        let mut names = Vec::new();
        for detail in &writers {
            for (position, name) in detail.names(list).names().iter().enumerate() {
                names.push(serde_json::json!([
                    detail.user_id.as_str(),
                    position,
                    name.as_str(),
                    name.key()
                ]));
            }
        }
        let names = Value::Array(names).to_string();
        let lengths: Vec<Value> = writers
            .iter()
            .map(|d| serde_json::json!([d.user_id.as_str(), d.names(list).names().len()]))
            .collect();
        let lengths = Value::Array(lengths).to_string();
        let (link, catalogue) = list_tables(list);
        sqlx::query(&format!(
            "INSERT INTO {catalogue} (name, name_key) \
             SELECT n.value ->> '$[2]', n.value ->> '$[3]' FROM json_each(?1) AS n WHERE true \
             ON CONFLICT (name_key) DO NOTHING"
        ))
        .bind(&names)
        .execute(&mut *tx)
        .await?;
        let deleted: Vec<String> = sqlx::query_scalar(&format!(
            "DELETE FROM {link} WHERE (user_id, position) IN \
             (SELECT l.user_id, l.position FROM json_each(?1) AS u \
              JOIN {link} AS l ON l.user_id = u.value ->> '$[0]' \
              AND l.position >= u.value ->> '$[1]') RETURNING user_id"
        ))
        .bind(&lengths)
        .fetch_all(&mut *tx)
        .await?;
        let written: Vec<String> = sqlx::query_scalar(&format!(
            "INSERT INTO {link} (user_id, position, entry_id) \
             SELECT n.value ->> '$[0]', n.value ->> '$[1]', c.id FROM json_each(?1) AS n \
             JOIN {catalogue} AS c ON c.name_key = n.value ->> '$[3]' WHERE true \
             ON CONFLICT (user_id, position) DO UPDATE SET entry_id = excluded.entry_id \
             WHERE entry_id <> excluded.entry_id RETURNING user_id"
        ))
        .bind(&names)
        .fetch_all(&mut *tx)
        .await?;
        changed.extend(deleted);
        changed.extend(written);
    }
    Ok(changed)
}

/// The users of `?1` (rows of [`STATEMENT`]'s input) whose row exists and whose guard holds.
const SELECT_WRITABLE: &str = "SELECT d.user_id FROM json_each(?1) AS j \
     JOIN user_details AS d ON d.user_id = j.value ->> '$[0]' \
     WHERE j.value ->> '$[1]' IS NULL OR d.version = j.value ->> '$[1]'";

/// Runs the jobs (of distinct users) in one transaction: the updated profiles by user. The
/// transaction commits only when every profile it read back decodes whole: one that keeps a
/// field that cannot be read (a field its update did not write) rolls it back, as an
/// [`UnreadableRow`](iam_ports::UnreadableRow) in a `sqlx::Error::Decode`; the batch is then
/// split, and alone that job fails with the row named ([`unreadable`]).
pub(crate) async fn run(
    writer: &SqlitePool,
    jobs: &[Update],
) -> Result<HashMap<String, Arc<StoredProfile>>, sqlx::Error> {
    let encode = |e| sqlx::Error::Encode(Box::new(e));
    let input = |changed: &HashSet<String>| {
        let rows = jobs
            .iter()
            .map(|job| row(job, changed.contains(job.detail.user_id.as_str())))
            .collect::<Result<Vec<Value>, _>>()?;
        Ok(Value::Array(rows).to_string())
    };
    let mut conn = writer.acquire().await?;
    // `IMMEDIATE`: the write lock first (waiting up to the busy timeout), since the first
    // statement may be a read, and a read transaction that another process's commit has
    // overtaken cannot become a write one (`SQLITE_BUSY_SNAPSHOT`, at once).
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    // Lists first, for the rows whose guard holds (the write lock keeps that true until the
    // commit), so that the update knows whose links changed.
    let mut lists_changed = HashSet::new();
    if jobs.iter().any(|j| j.fields.iter().any(|f| f.is_list())) {
        let writable: Vec<String> = sqlx::query_scalar(SELECT_WRITABLE)
            .bind(input(&lists_changed).map_err(encode)?)
            .fetch_all(&mut *tx)
            .await?;
        let written: Vec<(&UserDetail, &[Field])> = jobs
            .iter()
            .filter(|j| writable.iter().any(|u| u == j.detail.user_id.as_str()))
            .map(|j| (&*j.detail, &*j.fields))
            .collect();
        lists_changed = write_lists(&mut tx, &written).await?;
    }
    let updated: Vec<String> = sqlx::query_scalar(&STATEMENT)
        .bind(input(&lists_changed).map_err(encode)?)
        .fetch_all(&mut *tx)
        .await?;
    let profiles = if updated.is_empty() {
        Vec::new()
    } else {
        let users = serde_json::to_string(&updated).map_err(encode)?;
        sqlx::query(&SELECT_PROFILES)
            .bind(users)
            .fetch_all(&mut *tx)
            .await?
    };
    let decoded = profiles
        .iter()
        .map(|row| {
            let user: String = row.try_get("user_id")?;
            let id = UserId::parse(&user).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            let profile = profile_of(row, &id).map_err(sqlx::Error::Decode)?;
            Ok((user, Arc::new(profile)))
        })
        .collect::<Result<HashMap<_, _>, sqlx::Error>>();
    if decoded.is_ok() {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    decoded
}

/// The row a failed [`run`] names as unreadable, if that is why it failed.
pub(crate) fn unreadable(error: sqlx::Error) -> Result<Box<iam_ports::UnreadableRow>, sqlx::Error> {
    match error {
        sqlx::Error::Decode(cause) => cause.downcast().map_err(sqlx::Error::Decode),
        other => Err(other),
    }
}
