//! Reading a whole profile in one statement.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, NaiveDate, Utc};
use iam_domain::figures::{DomainRating, FigureInputs, TopRating, UnlockedTitle};
use iam_domain::stored::Kind;
use iam_domain::stored::{Restored, StoredValue};
use iam_domain::{
    Catalogue, CatalogueEntry, Field, List, StoredProfile, UserDetail, UserId, Version,
};
use iam_ports::{Cause, UnreadableRow};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{Column, Row};

use crate::pool::Pool;

/// The link table of a list and the catalogue table behind it.
pub(crate) fn list_tables(list: List) -> (&'static str, &'static str) {
    let link = match list {
        List::Skills => "user_skills",
        List::InvestmentInterests => "user_investment_interests",
        List::TechnicalInterests => "user_technical_interests",
        List::FocusArea => "user_focus_areas",
    };
    (link, catalogue_table(list.catalogue()))
}

/// The table of a catalogue.
pub(crate) fn catalogue_table(catalogue: Catalogue) -> &'static str {
    match catalogue {
        Catalogue::DeveloperSkills => "developer_skills",
        Catalogue::InvestmentInterests => "investment_interests",
        Catalogue::Tags => "tags",
    }
}

/// The figure inputs of the user of `d`, as select-list expressions over [`FIGURES_JOIN`]: the
/// cached figures row and the rank (see parts 3b and 3c of the schema).
///
/// The ratings above the user's inside their bucket are counted from the nearer end of the
/// bucket: from the top when the rating lies in the bucket's upper half (`rank_bucket(2 r)` is
/// then odd, for any width), otherwise as the bucket's `users` less those at or below it. Both
/// counts are exact, so the choice changes only how many index entries a read visits: a quarter
/// of the bucket on average instead of half, which is what grows with the number of users.
const FIGURE_COLUMNS: &str = "coalesce(f.followers, 0) AS followers, \
     coalesce(f.following, 0) AS following, \
     f.top_domain, f.top_rating, \
     coalesce(b.above, 0) + CASE \
       WHEN f.top_rating IS NULL THEN 0 \
       WHEN rank_bucket(2 * f.top_rating) > 2 * rank_bucket(f.top_rating) \
         THEN (SELECT count(*) FROM domain_ratings o WHERE o.domain = f.top_domain \
                 AND rank_bucket(o.rating) = rank_bucket(f.top_rating) \
                 AND o.rating > f.top_rating) \
       ELSE b.users - (SELECT count(*) FROM domain_ratings o WHERE o.domain = f.top_domain \
                 AND rank_bucket(o.rating) = rank_bucket(f.top_rating) \
                 AND o.rating <= f.top_rating) \
     END AS top_higher, \
     coalesce(f.activity_days, '{}') AS activity_days, \
     coalesce(f.freeze_days, '{}') AS freeze_days, \
     coalesce(f.titles, '{}') AS titles, \
     coalesce(f.title_times, '{}') AS title_times";

/// The joins giving the cached figures of the user of `d` and the rating bucket of their top
/// domain: `b.above` ratings lie in the domain's higher buckets, and the count in
/// [`FIGURE_COLUMNS`] adds the higher ratings inside the user's own bucket.
const FIGURES_JOIN: &str = "LEFT JOIN user_figures f ON f.user_id = d.user_id \
     LEFT JOIN domain_rating_buckets b \
       ON b.domain = f.top_domain AND b.bucket = rank_bucket(f.top_rating)";

/// `SELECT` of a whole profile from `source` (the table, or a CTE returning its rows) for the
/// users matching `filter` (on `d.user_id`): the row (with its cached list entries), the figure
/// inputs and the top domain.
fn profile_select(source: &str, filter: &str) -> String {
    let mut columns: Vec<String> = detail_columns().map(|c| format!("d.{c}")).collect();
    columns.push(FIGURE_COLUMNS.to_owned());
    format!(
        "SELECT {} FROM {source} d {FIGURES_JOIN} WHERE d.user_id {filter}",
        columns.join(", "),
    )
}

// The columns of a row are read by position, not by name: a lookup by name hashes the name, and
// a profile has some thirty columns (`docs/benchmarks.md`). Every statement here selects the
// details' columns in the order of [`detail_columns`], and a profile the figure columns after
// them ([`FIGURES_AFTER_DETAILS`]); the positions are taken from that one list. Debug builds also
// check each name against its position ([`column`]), so every test that reads a row holds the
// decoders to the statements.

/// The details' columns, in the order every statement here selects them: the user, the version
/// and the cached list entries ([`USER_ID`], [`VERSION`], [`LIST_ENTRIES`]), then the scalar
/// fields in declaration order.
fn detail_columns() -> impl Iterator<Item = &'static str> {
    ["user_id", "version", "list_entries"].into_iter().chain(
        Field::ALL
            .into_iter()
            .filter(|f| !f.is_list())
            .map(Field::name),
    )
}

const USER_ID: usize = 0;
const VERSION: usize = 1;
const LIST_ENTRIES: usize = 2;

/// The position of each scalar field's column in [`detail_columns`] (by `Field as usize`);
/// unused for the lists.
static SCALAR_COLUMNS: LazyLock<[usize; Field::COUNT]> = LazyLock::new(|| {
    let mut columns = [usize::MAX; Field::COUNT];
    for (i, name) in detail_columns().enumerate() {
        if let Some(field) = Field::from_name(name) {
            columns[field as usize] = i;
        }
    }
    columns
});

/// The position of the first figure column in a profile row: after the details' columns.
static FIGURES_AFTER_DETAILS: LazyLock<usize> = LazyLock::new(|| detail_columns().count());

/// The value of the column at `index`, which must be the one named `name` (checked in debug
/// builds).
fn column<'r, T>(row: &'r PgRow, index: usize, name: &str) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    debug_assert_eq!(
        row.columns().get(index).map(|c| c.name()),
        Some(name),
        "column {index} of the row"
    );
    row.try_get(index)
}

/// The statement that rebuilds a user's cached list entries from the link tables.
pub(crate) const REFRESH_LIST_ENTRIES: &str =
    "UPDATE user_details SET list_entries = user_list_entries($1) WHERE user_id = $1";

/// The cached list entries of a row: `[id, name, description]` triples per list.
#[derive(Debug, Default, serde::Deserialize)]
struct ListEntries {
    #[serde(default)]
    skills: Vec<(i64, String, Option<String>)>,
    #[serde(default)]
    investment_interests: Vec<(i64, String, Option<String>)>,
    #[serde(default)]
    technical_interests: Vec<(i64, String, Option<String>)>,
    #[serde(default)]
    focus_area: Vec<(i64, String, Option<String>)>,
}

fn entries(list: Vec<(i64, String, Option<String>)>) -> Vec<CatalogueEntry> {
    list.into_iter()
        .map(|(id, name, description)| CatalogueEntry {
            id,
            name,
            description,
        })
        .collect()
}

/// The profile of `$1` from the table.
pub(crate) static SELECT_PROFILE: LazyLock<String> =
    LazyLock::new(|| profile_select("user_details", "= $1"));

/// The profiles of the users in `$1` (an array), for [`iam_batch`].
pub(crate) static SELECT_PROFILES: LazyLock<String> =
    LazyLock::new(|| profile_select("user_details", "= ANY($1::text[])"));

/// The figure inputs of `$1`, whether or not the user has details.
pub(crate) static SELECT_FIGURES: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {FIGURE_COLUMNS} FROM (SELECT $1::text AS user_id) d {FIGURES_JOIN}")
});

/// The profiles after a batched update of the users in `$1` (an array), written as
/// `WITH u AS (UPDATE … RETURNING *)`.
pub(crate) static SELECT_PROFILES_OF_UPDATED: LazyLock<String> =
    LazyLock::new(|| profile_select("u", "= ANY($1::text[])"));

/// Decodes the figure inputs of a row holding [`FIGURE_COLUMNS`] from its column `first` on: 0
/// in [`SELECT_FIGURES`], [`FIGURES_AFTER_DETAILS`] in the profile statements.
pub(crate) fn figure_inputs(row: &PgRow, first: usize) -> Result<FigureInputs, sqlx::Error> {
    let top_domain: Option<String> = column(row, first + 2, "top_domain")?;
    let top = match top_domain {
        Some(domain) => Some(TopRating {
            rating: DomainRating {
                domain,
                rating: column(row, first + 3, "top_rating")?,
            },
            rated_higher: count(column(row, first + 4, "top_higher")?),
        }),
        None => None,
    };
    let titles: Vec<String> = column(row, first + 7, "titles")?;
    let times: Vec<DateTime<Utc>> = column(row, first + 8, "title_times")?;
    Ok(FigureInputs {
        followers: count(column(row, first, "followers")?),
        following: count(column(row, first + 1, "following")?),
        top,
        activity_days: column::<Vec<NaiveDate>>(row, first + 5, "activity_days")?,
        freeze_days: column::<Vec<NaiveDate>>(row, first + 6, "freeze_days")?,
        titles: titles
            .into_iter()
            .zip(times)
            .map(|(title, unlocked_at)| UnlockedTitle { title, unlocked_at })
            .collect(),
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Decodes a row of [`SELECT_PROFILE`] into a profile; a row with unreadable fields is an
/// [`UnreadableRow`] error.
pub(crate) fn profile(row: &PgRow) -> Result<StoredProfile, Cause> {
    let (restored, entries) = detail(row)?;
    if !restored.unreadable.is_empty() {
        return Err(Box::new(UnreadableRow(restored)));
    }
    let detail = restored.detail;
    let facts = figure_inputs(row, *FIGURES_AFTER_DETAILS)?;
    let mut entries = entries.into_iter();
    let mut next = || entries.next().unwrap_or_default();
    Ok(StoredProfile {
        detail,
        skills: next(),
        investment_interests: next(),
        technical_interests: next(),
        focus_area: next(),
        facts,
    })
}

/// The details alone of the users in `$1` (an array): the rows without figures, for writes to
/// merge into; read through [`iam_batch`].
pub(crate) static SELECT_DETAILS: LazyLock<String> =
    LazyLock::new(|| detail_select("= ANY($1::text[])"));

/// `SELECT` of the details alone of the users matching `filter` (on `user_id`).
fn detail_select(filter: &str) -> String {
    let columns: Vec<&str> = detail_columns().collect();
    format!(
        "SELECT {} FROM user_details WHERE user_id {filter}",
        columns.join(", ")
    )
}

/// Decodes the details of a row holding the `user_details` columns and `list_entries`, with the
/// lists' catalogue entries in list order; fields that cannot be read are named in
/// [`Restored::unreadable`].
pub(crate) fn detail(row: &PgRow) -> Result<(Restored, Vec<Vec<CatalogueEntry>>), Cause> {
    let user_id = UserId::parse(column::<String>(row, USER_ID, "user_id")?)?;
    let version = Version::new(column(row, VERSION, "version")?);
    let cached: Json<ListEntries> = column(row, LIST_ENTRIES, "list_entries")?;
    let cached = cached.0;
    let entries: Vec<Vec<CatalogueEntry>> = vec![
        self::entries(cached.skills),
        self::entries(cached.investment_interests),
        self::entries(cached.technical_interests),
        self::entries(cached.focus_area),
    ];
    let restored = UserDetail::restore(user_id, version, |field| -> Result<StoredValue, Cause> {
        let (i, name) = (SCALAR_COLUMNS[field as usize], field.name());
        Ok(match field.kind() {
            Kind::Text => StoredValue::Text(column(row, i, name)?),
            Kind::Json => StoredValue::Json(
                column::<Option<Json<serde_json::Value>>>(row, i, name)?.map(|j| j.0),
            ),
            Kind::Bool => StoredValue::Bool(column(row, i, name)?),
            Kind::Date => StoredValue::Date(column(row, i, name)?),
            Kind::Names => {
                let i = List::ALL.iter().position(|l| l.field() == field);
                let names = i.map(|i| &entries[i]).into_iter().flatten();
                StoredValue::Names(names.map(|e| e.name.clone()).collect())
            }
        })
    })?;
    Ok((restored, entries))
}

/// The lanes of one batched read by user id.
pub(crate) type ReadLanes = iam_batch::ReadLanes<PgRow, sqlx::Error>;

/// The row of `user` through `sql` (user ids as `$1::text[]`, rows with a `user_id` column), read
/// alone or with the reads queued beside it.
pub(crate) async fn fetch_row(
    lanes: &ReadLanes,
    pool: &Pool,
    sql: &str,
    user: &str,
) -> iam_batch::Found<PgRow, sqlx::Error> {
    iam_batch::read(lanes, user, |users| async move {
        rows_by_user(pool, sql, &users).await
    })
    .await
}

/// Runs one batched read; the rows by user id.
async fn rows_by_user(
    pool: &Pool,
    sql: &str,
    users: &[String],
) -> Result<HashMap<String, Arc<PgRow>>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query(sql).bind(users).fetch_all(&mut *conn).await?;
    conn.release();
    by_user(rows)
}

/// The rows of a batched statement by their `user_id` column, each shareable by every job that
/// asked for that user.
pub(crate) fn by_user(rows: Vec<PgRow>) -> Result<HashMap<String, Arc<PgRow>>, sqlx::Error> {
    rows.into_iter()
        .map(|row| Ok((column::<String>(&row, USER_ID, "user_id")?, Arc::new(row))))
        .collect()
}
