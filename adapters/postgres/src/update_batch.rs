//! Updates, batched ([`iam_batch`]): the concurrent updates of any fields of different users,
//! lists included, become one statement, one transaction and one commit. One statement shape
//! serves them all: each row carries a mask of the fields it writes ([`statement`]).
//!
//! A row's version moves only when it changes ([`changed`]): a value sent unread (a PATCH that
//! sends no document, [`iam_domain::UserDetail::overwrite`]) may be the one stored. The
//! statement runs in a transaction that commits only when every row it read back decodes whole:
//! a row that keeps a field that cannot be read (written around the service) is not left written
//! by a write that did not replace that field.
//!
//! Each row keeps its own guard (`version = expected` when the update has one), so a batch
//! changes no outcome: a row whose guard fails is simply not updated, and its job learns why by
//! itself. Two updates of one user never share a batch (the statement could apply only one of
//! them). Rows are locked in user id order before they are updated, so batches cannot deadlock
//! each other, in this process or across processes. A batch that fails for a reason other than the
//! database being unavailable (or that the database rolled back, a deadlock with some other
//! client's writes) is split: each job runs alone, so one bad row fails only its own request.
//!
//! A list is written in the same statement: new names join their catalogue, the links are
//! rewritten, and the row's cached entries (`list_entries`) are rebuilt for the lists written
//! only, from the entries the statement resolved (no read of the link tables). A name another
//! transaction added after the statement's snapshot cannot be resolved by it; the row of such a
//! job is left as it was (nothing of it is written but that name), and the repository runs the
//! job once more, alone, before it decides why no row came back: by then the name is visible.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use iam_domain::stored::{self, Column};
use iam_domain::{Catalogue, Field, List, StoredProfile, Version};
use sqlx::types::Json;
use sqlx::Connection;

use iam_batch::{Update, Written};

use crate::errors::{is_rolled_back, is_unavailable};
use crate::pool::Pool;
use crate::read;

/// The lane of updates ([`iam_batch::update_lanes`]): each job gets its profile as read back.
pub(crate) type UpdateLanes = iam_batch::UpdateLanes<StoredProfile, sqlx::Error>;

/// Runs `job` in a batch ([`iam_batch::update`]) of [`run`]. A batch the database rolled back (a
/// deadlock or serialization failure with another client) is split like one with a bad row.
pub(crate) async fn update(
    lanes: &UpdateLanes,
    pool: &Pool,
    job: Update,
) -> Written<StoredProfile, sqlx::Error> {
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
/// is written; the lists follow ([`list_bit`]).
static SCALARS: LazyLock<Vec<(Field, Kind)>> = LazyLock::new(|| {
    Field::ALL
        .iter()
        .filter_map(|f| Kind::of(*f).map(|kind| (*f, kind)))
        .collect()
});

// A row's mask is an `int4`: every field, scalar or list, has a bit below its sign bit.
const _: () = assert!(Field::COUNT < 32);

/// The mask bit of `list`: after the scalars', in [`List::ALL`] order.
fn list_bit(list: List) -> i32 {
    1 << (SCALARS.len() + list_number(list) as usize)
}

/// The number of `list` in the statement's entries (its index in [`List::ALL`]).
fn list_number(list: List) -> i16 {
    List::ALL.iter().position(|l| *l == list).unwrap_or(0) as i16
}

/// The statements of updates ([`statement`]), by the lists a batch writes: entry `i` writes the
/// lists whose bit ([`List::ALL`] order) is set in `i`. Entry 0, which writes scalars only, serves
/// every batch without a list, so scalar updates of any fields all share one shape; a batch that
/// writes lists carries only the parts of the lists it writes.
static STATEMENTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    (0..1_usize << List::ALL.len())
        .map(|set| {
            let lists: Vec<List> = List::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| set & 1 << i != 0)
                .map(|(_, list)| list)
                .collect();
            statement(&SCALARS, &lists)
        })
        .collect()
});

/// The index in [`STATEMENTS`] of the statement for `jobs`: the lists any of them writes.
fn statement_for(jobs: &[Update]) -> usize {
    jobs.iter()
        .flat_map(|job| job.fields.iter().filter_map(|f| f.list()))
        .fold(0, |set, list| set | 1 << list_number(list))
}

/// The column-mask update of any fields of any distinct users, writing `lists` too: `$1` user
/// ids, `$2` expected versions, `$3` masks, then one array per scalar field ([`SCALARS`]), in one
/// job order; then, when `lists` is not empty, the list entries, one element per name: user id,
/// list number ([`list_number`]), position, name, name key. A field whose bit is clear keeps its
/// stored value, so every update of scalars has one shape whatever it writes.
///
/// The rows are locked first, in user id order (`l`), and only then updated: an `UPDATE … FROM`
/// locks rows in the order its plan meets them (a hash join meets them in heap order, which moves
/// as rows are rewritten), so two batches from two processes could otherwise lock two users in
/// opposite orders and deadlock; every other writer holds at most one row.
///
/// Lists, for the rows whose guard holds (`ok`): new names are added to their catalogue in key
/// order (`a0`…, catalogue by catalogue in [`Catalogue::ALL`] order, as every writer adds them, so
/// concurrent writers take the key locks in one order); each name is resolved to its entry
/// (`e`); a row with a name left unresolved (`bad`: added by another transaction after this
/// statement's snapshot) is not updated; the updated rows get the entries of each list they write
/// in `list_entries` (the other lists' cached entries stay), and their links are rewritten:
/// positions `0..n` upserted, those past the new end deleted. The rows updated are exactly `ok`
/// without `bad` (their locks keep them at the version `ok` read), so the link writes select them
/// that way rather than joining the update's output. `j` holds every row's new entries as one
/// JSON object keyed by user, so that each row finds its own by key instead of by a join, which
/// the generic plan would run as a nested loop over the whole batch for each row.
fn statement(scalars: &[(Field, Kind)], lists: &[List]) -> String {
    let entries_at = scalars.len() + 4;
    let arrays: String = scalars
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| format!(", ${}::{}[]", i + 4, kind.sql()))
        .collect();
    let columns: String = (0..scalars.len()).map(|i| format!(", c{i}")).collect();
    let list_bits: i32 = lists.iter().map(|l| list_bit(*l)).fold(0, |m, b| m | b);
    let changed = changed(scalars, lists);
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
    let mut ctes = vec![
        format!(
            "v AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::int4[]{arrays}) \
                   AS v(user_id, expected, mask{columns}))"
        ),
        "l AS MATERIALIZED (SELECT user_id, version FROM user_details \
                            WHERE user_id = ANY($1::text[]) ORDER BY user_id FOR NO KEY UPDATE)"
            .to_owned(),
    ];
    sets.push(format!(
        "version = d.version + CASE WHEN {changed} THEN 1 ELSE 0 END"
    ));
    sets.push(format!(
        "updated_at = CASE WHEN {changed} THEN now() ELSE d.updated_at END"
    ));
    if lists.is_empty() {
        ctes.push(format!(
            "u AS (UPDATE user_details d SET {} FROM v JOIN l ON l.user_id = v.user_id \
                   WHERE d.user_id = v.user_id AND (v.expected IS NULL OR d.version = v.expected) \
                   RETURNING d.*)",
            sets.join(", "),
        ));
        return format!(
            "WITH {} {}",
            ctes.join(", "),
            *read::SELECT_PROFILES_OF_UPDATED
        );
    }
    let written_lists: Vec<String> = lists
        .iter()
        .map(|list| format!("({}, '{}')", list_bit(*list), list.field().name()))
        .collect();
    sets.push(format!(
        "list_entries = CASE WHEN v.mask & {list_bits} = 0 THEN d.list_entries \
         ELSE d.list_entries \
           || (SELECT jsonb_object_agg(w.name, '[]'::jsonb) FROM (VALUES {}) AS w(bit, name) \
               WHERE v.mask & w.bit <> 0) \
           || coalesce(j.m -> v.user_id, '{{}}') END",
        written_lists.join(", ")
    ));
    ctes.extend([
        "ok AS MATERIALIZED (SELECT v.* FROM v JOIN l ON l.user_id = v.user_id \
                             WHERE v.expected IS NULL OR l.version = v.expected)"
            .to_owned(),
        format!(
            "n AS MATERIALIZED (SELECT n.* FROM unnest(${}::text[], ${}::int2[], ${}::int2[], \
                                ${}::text[], ${}::text[]) AS n(user_id, list, position, name, name_key) \
                                WHERE n.user_id IN (SELECT user_id FROM ok))",
            entries_at,
            entries_at + 1,
            entries_at + 2,
            entries_at + 3,
            entries_at + 4
        ),
    ]);
    let mut resolved = Vec::new();
    for (i, catalogue) in Catalogue::ALL.into_iter().enumerate() {
        let table = read::catalogue_table(catalogue);
        let numbers: Vec<String> = lists
            .iter()
            .filter(|l| l.catalogue() == catalogue)
            .map(|l| list_number(*l).to_string())
            .collect();
        if numbers.is_empty() {
            continue;
        }
        let numbers = numbers.join(", ");
        ctes.push(format!(
            "a{i} AS (INSERT INTO {table} (name, name_key) \
                      SELECT DISTINCT ON (n.name_key) n.name, n.name_key FROM n WHERE n.list IN ({numbers}) \
                      ORDER BY n.name_key, n.user_id, n.list, n.position \
                      ON CONFLICT (name_key) DO NOTHING RETURNING id, name, name_key)"
        ));
        resolved.push(format!(
            "SELECT n.user_id, n.list, n.position, coalesce(a.id, c.id) AS id, \
                    coalesce(a.name, c.name) AS name, c.description \
             FROM n LEFT JOIN a{i} a ON a.name_key = n.name_key \
             LEFT JOIN {table} c ON c.name_key = n.name_key WHERE n.list IN ({numbers})"
        ));
    }
    ctes.push(format!(
        "e AS MATERIALIZED ({})",
        resolved.join(" UNION ALL ")
    ));
    let names: Vec<String> = lists
        .iter()
        .map(|l| format!("({}, '{}')", list_number(*l), l.field().name()))
        .collect();
    ctes.push(format!(
        "bad AS MATERIALIZED (SELECT DISTINCT user_id FROM e WHERE id IS NULL), \
         j AS MATERIALIZED (SELECT coalesce(jsonb_object_agg(user_id, lists), '{{}}') AS m \
               FROM (SELECT user_id, jsonb_object_agg(name, entries) AS lists \
                     FROM (SELECT e.user_id, w.name, \
                                  jsonb_agg(jsonb_build_array(e.id, e.name, e.description) \
                                            ORDER BY e.position) AS entries \
                           FROM e JOIN (VALUES {}) AS w(list, name) ON w.list = e.list \
                           GROUP BY e.user_id, w.name) AS per_list \
                     GROUP BY user_id) AS per_user)",
        names.join(", ")
    ));
    ctes.push(format!(
        "u AS (UPDATE user_details d SET {} FROM ok v CROSS JOIN j \
               WHERE d.user_id = v.user_id AND (v.expected IS NULL OR d.version = v.expected) \
                 AND NOT EXISTS (SELECT 1 FROM bad WHERE bad.user_id = v.user_id) \
               RETURNING d.*)",
        sets.join(", "),
    ));
    for list in lists.iter().copied() {
        let (link, _) = read::list_tables(list);
        let (number, bit, name) = (list_number(list), list_bit(list), list.field().name());
        ctes.push(format!(
            "t{number} AS (DELETE FROM {link} s \
                           WHERE s.user_id IN (SELECT v.user_id FROM ok v WHERE v.mask & {bit} <> 0 \
                                 AND NOT EXISTS (SELECT 1 FROM bad WHERE bad.user_id = v.user_id)) \
                             AND s.position >= coalesce(jsonb_array_length( \
                                 (SELECT m FROM j) -> s.user_id -> '{name}'), 0))"
        ));
        ctes.push(format!(
            "i{number} AS (INSERT INTO {link} (user_id, position, entry_id) \
                           SELECT e.user_id, e.position, e.id FROM e WHERE e.list = {number} \
                             AND NOT EXISTS (SELECT 1 FROM bad WHERE bad.user_id = e.user_id) \
                           ON CONFLICT (user_id, position) DO UPDATE SET entry_id = EXCLUDED.entry_id \
                           WHERE {link}.entry_id IS DISTINCT FROM EXCLUDED.entry_id)"
        ));
    }
    format!(
        "WITH {} {}",
        ctes.join(", "),
        *read::SELECT_PROFILES_OF_UPDATED
    )
}

/// Whether a row of the statement (`v`, over the stored row `d`) changes: it writes a JSON
/// document (which the domain compared, or merged, before), a field whose stored form differs
/// from the one sent, or a list (of `lists`, the statement's) whose entries as the statement
/// resolved them (`j`) differ from the row's cached ones: one entry per case-insensitive name, so
/// equal entries are the domain's equal lists. [`iam_domain::UserDetail::overwrite`] sends
/// fields and lists unread.
fn changed(scalars: &[(Field, Kind)], lists: &[List]) -> String {
    let always = scalars
        .iter()
        .enumerate()
        .filter(|(_, (_, kind))| matches!(kind, Kind::Json))
        .fold(0, |bits, (i, _)| bits | 1 << i);
    let compared: Vec<String> = scalars
        .iter()
        .enumerate()
        .filter(|(_, (_, kind))| !matches!(kind, Kind::Json))
        .map(|(i, (f, _))| {
            format!(
                "(v.mask & {} <> 0 AND v.c{i} IS DISTINCT FROM d.{})",
                1 << i,
                f.name()
            )
        })
        .chain(lists.iter().map(|list| {
            let name = list.field().name();
            format!(
                "(v.mask & {} <> 0 AND coalesce(d.list_entries -> '{name}', '[]') \
                 IS DISTINCT FROM coalesce(j.m -> v.user_id -> '{name}', '[]'))",
                list_bit(*list)
            )
        }))
        .collect();
    format!("(v.mask & {always} <> 0 OR {})", compared.join(" OR "))
}

/// The mask of the fields a job writes ([`SCALARS`], then [`list_bit`]).
fn mask(job: &Update) -> i32 {
    let scalars = SCALARS
        .iter()
        .enumerate()
        .filter(|(_, (f, _))| job.fields.contains(f))
        .fold(0, |mask, (i, _)| mask | 1 << i);
    job.fields
        .iter()
        .filter_map(|f| f.list())
        .fold(scalars, |mask, list| mask | list_bit(list))
}

/// The list entries of the jobs, as the statement's five parallel arrays.
#[derive(Default)]
struct Entries<'a> {
    users: Vec<&'a str>,
    lists: Vec<i16>,
    positions: Vec<i16>,
    names: Vec<&'a str>,
    keys: Vec<&'a str>,
}

impl<'a> Entries<'a> {
    fn of(jobs: &'a [Update]) -> Self {
        let mut entries = Entries::default();
        for job in jobs {
            for list in job.fields.iter().filter_map(|f| f.list()) {
                for (position, name) in job.detail.names(list).names().iter().enumerate() {
                    entries.users.push(job.detail.user_id.as_str());
                    entries.lists.push(list_number(list));
                    entries
                        .positions
                        .push(i16::try_from(position).unwrap_or(i16::MAX));
                    entries.names.push(name.as_str());
                    entries.keys.push(name.key());
                }
            }
        }
        entries
    }
}

/// Runs the jobs (of distinct users) in one statement and one transaction: the updated profiles
/// by user. When a row read back cannot be decoded whole (it keeps a field, one it does not
/// write, that cannot be read: an [`UnreadableRow`](iam_ports::UnreadableRow) in a
/// `sqlx::Error::Decode`), the transaction is rolled back and nothing is written; the batch is then
/// split, and alone that job fails with the row named ([`unreadable`]).
pub(crate) async fn run(
    pool: &Pool,
    jobs: &[Update],
) -> Result<HashMap<String, Arc<StoredProfile>>, sqlx::Error> {
    let users: Vec<&str> = jobs.iter().map(|j| j.detail.user_id.as_str()).collect();
    let expected: Vec<Option<i64>> = jobs.iter().map(|j| j.expected.map(Version::get)).collect();
    let masks: Vec<i32> = jobs.iter().map(mask).collect();
    let statement = statement_for(jobs);
    let mut query = sqlx::query(&STATEMENTS[statement])
        .bind(users)
        .bind(expected)
        .bind(masks);
    for (field, kind) in SCALARS.iter() {
        // A field a job does not write is bound as NULL, which its clear bit ignores.
        let values = jobs
            .iter()
            .map(|j| j.fields.contains(field).then(|| j.detail.column(*field)));
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
    if statement != 0 {
        let entries = Entries::of(jobs);
        query = query
            .bind(entries.users)
            .bind(entries.lists)
            .bind(entries.positions)
            .bind(entries.names)
            .bind(entries.keys);
    }
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let rows = query.fetch_all(&mut *tx).await?;
    let profiles = rows
        .iter()
        .map(|row| {
            let profile = read::profile(row).map_err(sqlx::Error::Decode)?;
            Ok((
                profile.detail.user_id.as_str().to_owned(),
                Arc::new(profile),
            ))
        })
        .collect::<Result<HashMap<_, _>, sqlx::Error>>();
    match profiles {
        Ok(profiles) => {
            tx.commit().await?;
            conn.release();
            Ok(profiles)
        }
        Err(e) => {
            tx.rollback().await?;
            conn.release();
            Err(e)
        }
    }
}

/// The row a failed [`run`] names as unreadable, if that is why it failed.
pub(crate) fn unreadable(error: sqlx::Error) -> Result<Box<iam_ports::UnreadableRow>, sqlx::Error> {
    match error {
        sqlx::Error::Decode(cause) => cause.downcast().map_err(sqlx::Error::Decode),
        other => Err(other),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch gets the statement of the lists its jobs write, and that statement writes those
    /// lists' link tables and no others; scalar-only batches share the one without lists.
    #[test]
    fn each_batch_gets_the_statement_of_the_lists_it_writes() {
        let job = |fields: &[Field]| Update {
            detail: Arc::new(iam_domain::UserDetail::new(
                iam_domain::UserId::parse("u").unwrap(),
                Version::new(1),
                iam_domain::values::UserType::parse("d").unwrap(),
            )),
            fields: fields.into(),
            expected: None,
        };
        let scalar = [job(&[Field::Bio]), job(&[Field::Country, Field::Dob])];
        assert_eq!(statement_for(&scalar), 0);
        let lists = [
            job(&[Field::Bio]),
            job(&[Field::Skills]),
            job(&[Field::FocusArea, Field::Skills]),
        ];
        let chosen = &STATEMENTS[statement_for(&lists)];
        for list in List::ALL {
            let (link, _) = read::list_tables(list);
            let writes = chosen.contains(&format!("INSERT INTO {link} "));
            let expected = matches!(list, List::Skills | List::FocusArea);
            assert_eq!(writes, expected, "{link}");
            assert!(!STATEMENTS[0].contains(link), "{link}");
        }
        assert!(!chosen.contains("investment_interests (name"), "{chosen}");
    }

    /// Every field a job writes has its own bit, lists included, and no two fields share one.
    #[test]
    fn masks_give_every_field_its_own_bit() {
        let mut seen = 0;
        for field in Field::ALL {
            let bit = match field.list() {
                Some(list) => list_bit(list),
                None => {
                    let i = SCALARS.iter().position(|(f, _)| *f == field).unwrap();
                    1 << i
                }
            };
            assert!(bit > 0, "{field:?} below the sign bit");
            assert_eq!(seen & bit, 0, "{field:?} shares a bit");
            seen |= bit;
        }
    }
}
