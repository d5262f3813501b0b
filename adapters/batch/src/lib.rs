//! # iam-batch: statements shared by the requests that arrive at once
//!
//! The lanes the stores batch their statements with: PostgreSQL's reads, and both stores'
//! updates of any fields (SQLite reads on the calling thread, without lanes). No database here:
//! a job is any value, a batch is run by its leader.
//!
//! Each statement costs a fixed amount on top of its row work (PostgreSQL: bind, executor start,
//! the result protocol, two socket wake-ups, and for a write the commit's WAL flush; SQLite under
//! sqlx: a hand-off to the connection's worker thread and back), and under load that fixed part
//! dominates. So the jobs of one kind (reads of a profile, reads of details, updates) share a
//! few *lanes*: a job that finds a lane free leads a batch
//! at once; while every lane is busy, jobs queue. A leader takes the queued jobs that fit its
//! batch, runs one statement for all of them, answers each, and passes the lane to the first job
//! still queued, which leads the next batch with the jobs behind it. A lone request therefore
//! waits for nothing, and a busy service makes batches grow by itself.
//!
//! Every job's statement starts after the job arrived, so it sees everything committed before its
//! request did. A leader whose request is cancelled passes its lane on as it is dropped; the jobs
//! of its unfinished batch queue again.
//!
//! A job is taken into a batch only while its requester still waits for it, and a write only
//! when its request's [`WriteGate`] lets it start (so a request already answered 503 for its
//! timeout is never written by another request's leader, and one whose write was taken is
//! answered with its outcome). A job taken once stays taken if it queues again.
//!
//! ## The protocol, one job's states
//!
//! | state | how it gets there | what happens next |
//! | --- | --- | --- |
//! | leads at once | [`Lanes::join`] finds a lane free (and, for a write, the gate starts) | takes the queued jobs that fit, runs one statement, [`Batch::finish`] answers them |
//! | queued | every lane busy | waits on its reply channel |
//! | taken | a leader's `take_fitting` or `pass_lane` claims it: requester still waiting, gate started | answered by that leader, or handed the lane (`Message::Lead`) and leads |
//! | dropped | claim fails: the requester went away, or its gate was closed by the timeout | never runs; a requester still waiting gets [`Turn::Refused`] |
//! | requeued | its leader was cancelled mid-batch (the [`Batch`] dropped) | queued again, still taken: its gate stays started |
//! | lane passed | a [`Batch`] finishes or is dropped | `pass_lane` gives the lane to the first claimable queued job with the jobs that fit it, or frees it |
//!
//! Invariants, each held by a test below: a lone job never waits; at most `lanes` statements run
//! at once; a job runs in at most one statement at a time; a dropped job never runs; a taken
//! write's gate is started, so its request is answered with the outcome.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use iam_domain::{Field, Relation, UserDetail, Version};
use iam_ports::{FigureFactsError, WriteGate};
use tokio::sync::oneshot;

/// The most jobs one statement serves.
pub const MAX_BATCH: usize = 64;

enum Message<P, A> {
    Answer(A),
    Lead(Vec<Waiter<P, A>>),
}

struct Waiter<P, A> {
    job: P,
    reply: oneshot::Sender<Message<P, A>>,
    /// The requester's gate, on lanes of writes.
    gate: Option<Arc<WriteGate>>,
}

struct State<P, A> {
    busy: usize,
    queue: VecDeque<Waiter<P, A>>,
}

/// The lanes of one kind of job `P`, answered with `A`.
pub struct Lanes<P, A> {
    lanes: usize,
    fits: fn(&P, &P) -> bool,
    /// Jobs are writes: each starts only through its request's gate.
    writes: bool,
    state: Mutex<State<P, A>>,
}

/// What a job gets from [`Lanes::join`]: its answer, or a batch to run.
pub enum Turn<'a, P, A> {
    /// Another job's leader ran this job.
    Answer(A),
    /// This job leads: run [`Batch::jobs`] and give the answers to [`Batch::finish`].
    Lead(Batch<'a, P, A>),
    /// A write whose request's gate was closed before it started: it must not run.
    Refused,
}

/// A batch held by its leader, with its lane.
pub struct Batch<'a, P, A> {
    lanes: &'a Lanes<P, A>,
    /// The leader's job, then the others'.
    jobs: Vec<P>,
    /// The others' replies, in the order of `jobs[1..]`.
    replies: Vec<oneshot::Sender<Message<P, A>>>,
}

impl<P, A> Lanes<P, A> {
    /// Lanes of reads: `lanes` batches at most run at once; two jobs share a batch only when
    /// `fits` holds for them (it is asked for each pair).
    pub fn new(lanes: usize, fits: fn(&P, &P) -> bool) -> Self {
        Self::build(lanes, fits, false)
    }

    /// Lanes of writes: as [`Lanes::new`], and each job starts only when the [`WriteGate`] of the
    /// task that joined lets it ([`WriteGate::try_start`]).
    pub fn for_writes(lanes: usize, fits: fn(&P, &P) -> bool) -> Self {
        Self::build(lanes, fits, true)
    }

    fn build(lanes: usize, fits: fn(&P, &P) -> bool, writes: bool) -> Self {
        Lanes {
            lanes: lanes.max(1),
            fits,
            writes,
            state: Mutex::new(State {
                busy: 0,
                queue: VecDeque::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<P, A>> {
        // Every unlock leaves the state whole, so a panic elsewhere cannot leave it torn.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a queued job for a batch: true while its requester waits and (for a write) its
    /// gate lets it start. A job refused here is dropped from the queue.
    fn claim(waiter: &Waiter<P, A>) -> bool {
        !waiter.reply.is_closed() && waiter.gate.as_ref().is_none_or(|gate| gate.try_start())
    }

    /// Takes from the queue the jobs that fit with `batch` (and each other), in queue order;
    /// drops the fitting ones that can no longer be claimed.
    fn take_fitting(&self, state: &mut State<P, A>, batch: &mut Vec<Waiter<P, A>>) {
        let mut i = 0;
        while i < state.queue.len() && batch.len() < MAX_BATCH {
            let job = &state.queue[i].job;
            if batch.iter().all(|w| (self.fits)(&w.job, job)) {
                if let Some(waiter) = state.queue.remove(i) {
                    if Self::claim(&waiter) {
                        batch.push(waiter);
                    }
                }
            } else {
                i += 1;
            }
        }
    }

    /// How many jobs wait in the queue, and how many lanes are busy.
    #[cfg(test)]
    fn queued(&self) -> (usize, usize) {
        let state = self.state();
        (state.queue.len(), state.busy)
    }

    /// Queues `job`, or makes it lead at once when a lane is free.
    pub async fn join(&self, job: P) -> Turn<'_, P, A>
    where
        P: Clone,
    {
        let gate = if self.writes {
            WriteGate::current()
        } else {
            None
        };
        loop {
            let (reply, answer) = oneshot::channel();
            let batch = {
                let mut state = self.state();
                let mut batch = vec![Waiter {
                    job: job.clone(),
                    reply,
                    gate: gate.clone(),
                }];
                if state.busy < self.lanes {
                    if !Self::claim(&batch[0]) {
                        return Turn::Refused;
                    }
                    state.busy += 1;
                    self.take_fitting(&mut state, &mut batch);
                    Some(batch)
                } else {
                    state.queue.extend(batch);
                    None
                }
            };
            let others = match batch {
                Some(mut batch) => batch.split_off(1),
                None => match answer.await {
                    Ok(Message::Answer(answer)) => return Turn::Answer(answer),
                    Ok(Message::Lead(others)) => others,
                    // Dropped from the queue: the gate closed before the job was taken.
                    Err(_) if gate.as_ref().is_some_and(|gate| !gate.try_start()) => {
                        return Turn::Refused
                    }
                    // The leader of this job's batch was cancelled: queue again.
                    Err(_) => continue,
                },
            };
            let mut jobs = Vec::with_capacity(1 + others.len());
            jobs.push(job);
            let replies = others
                .into_iter()
                .map(|w| {
                    jobs.push(w.job);
                    w.reply
                })
                .collect();
            return Turn::Lead(Batch {
                lanes: self,
                jobs,
                replies,
            });
        }
    }

    /// Gives a finished (or cancelled) lane to the first job still queued, with the jobs that fit
    /// it, or frees the lane.
    fn pass_lane(&self) {
        let mut state = self.state();
        while let Some(first) = state.queue.pop_front() {
            if !Self::claim(&first) {
                continue;
            }
            let mut batch = vec![first];
            self.take_fitting(&mut state, &mut batch);
            let first = batch.remove(0);
            match first.reply.send(Message::Lead(batch)) {
                Ok(()) => return,
                // That job went away: the others go back to the front of the queue.
                Err(Message::Lead(others)) => {
                    for waiter in others.into_iter().rev() {
                        state.queue.push_front(waiter);
                    }
                }
                Err(Message::Answer(_)) => unreachable!("a lead was sent"),
            }
        }
        state.busy -= 1;
    }
}

impl<P, A> Batch<'_, P, A> {
    /// The jobs, the leader's first.
    pub fn jobs(&self) -> &[P] {
        &self.jobs
    }

    /// Answers the jobs (`answers` in the order of [`Batch::jobs`]), passes the lane on, and
    /// returns the leader's answer.
    ///
    /// # Panics
    /// When `answers` is shorter than the jobs.
    pub fn finish(mut self, answers: Vec<A>) -> A {
        assert_eq!(answers.len(), self.jobs.len(), "one answer per job");
        let mut answers = answers.into_iter();
        let own = answers.next().expect("a batch holds its leader");
        for (reply, answer) in std::mem::take(&mut self.replies).into_iter().zip(answers) {
            // A job that went away meanwhile simply misses its answer.
            let _ = reply.send(Message::Answer(answer));
        }
        own
    }
}

impl<P, A> Drop for Batch<'_, P, A> {
    /// Passes the lane on, whether the batch finished or its leader was cancelled (then the
    /// unanswered jobs see their replies dropped and queue again).
    fn drop(&mut self) {
        self.replies.clear();
        self.lanes.pass_lane();
    }
}

/// The answer of a batched read by key: the key's row, if it has one.
pub type Found<R, E> = Result<Option<Arc<R>>, BatchError<E>>;

/// The lanes of one batched read by key.
pub type ReadLanes<R, E> = Lanes<String, Found<R, E>>;

/// New lanes for a batched read by key: any reads share a batch (a key asked for twice gets one
/// row).
pub fn read_lanes<R, E>(lanes: usize) -> ReadLanes<R, E> {
    Lanes::new(lanes, |_, _| true)
}

/// The key of a batched read about two users (how they follow each other): their ids joined by
/// a NUL character, which no user id holds (`UserId` refuses it), so two pairs never share a key.
pub fn pair_key(first: &str, second: &str) -> String {
    format!("{first}\0{second}")
}

/// The two ids of a [`pair_key`].
pub fn split_pair(key: &str) -> (&str, &str) {
    key.split_once('\0').unwrap_or((key, ""))
}

/// Reads the row of the pair (`first`, `second`), alone or with the reads queued beside it, keyed
/// by [`pair_key`]: the leader of a batch calls `run` with the batch's pairs, which answers a row
/// per pair it found, with the pair.
pub async fn read_pair<R, E, F, Fut>(
    lanes: &ReadLanes<R, E>,
    first: &str,
    second: &str,
    run: F,
) -> Found<R, E>
where
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: Future<Output = Result<Vec<(String, String, R)>, E>>,
{
    read(lanes, &pair_key(first, second), |keys| async move {
        let pairs = keys
            .iter()
            .map(|key| {
                let (a, b) = split_pair(key);
                (a.to_owned(), b.to_owned())
            })
            .collect();
        let rows = run(pairs).await?;
        Ok(rows
            .into_iter()
            .map(|(a, b, row)| (pair_key(&a, &b), Arc::new(row)))
            .collect())
    })
    .await
}

/// The lanes of reads of how two users follow each other, keyed by [`pair_key`] (viewer, viewed).
pub type RelationLanes<E> = ReadLanes<Relation, E>;

/// A row of a store's relation read: viewer, viewed, whether the viewer follows the viewed user,
/// whether the viewed user follows the viewer.
pub type RelationRow = (String, String, bool, bool);

/// How `viewer` and `viewed` follow each other ([`iam_ports::FigureFacts::relation`]), read with
/// the relation reads queued beside it ([`read_pair`]): `run` answers one [`RelationRow`] per
/// (viewer, viewed) pair of the batch, so a pair without a row is unexpected. A failed batch is
/// `Unavailable` when `unavailable` says so of its error.
pub async fn read_relation<E, F, Fut>(
    lanes: &RelationLanes<E>,
    viewer: &str,
    viewed: &str,
    run: F,
    unavailable: fn(&E) -> bool,
) -> Result<Relation, FigureFactsError>
where
    E: std::error::Error + Send + Sync + 'static,
    F: FnOnce(Vec<(String, String)>) -> Fut,
    Fut: Future<Output = Result<Vec<RelationRow>, E>>,
{
    let found = read_pair(lanes, viewer, viewed, |pairs| async move {
        let rows = run(pairs).await?;
        Ok(rows
            .into_iter()
            .map(|(viewer, viewed, is_following, is_followed_back)| {
                let relation = Relation {
                    is_following,
                    is_followed_back,
                };
                (viewer, viewed, relation)
            })
            .collect())
    })
    .await;
    match found {
        Ok(Some(relation)) => Ok(*relation),
        Ok(None) => Err(FigureFactsError::Unexpected(
            "the batched relation read answered no row for a pair".into(),
        )),
        Err(e) if unavailable(&e.0) => Err(FigureFactsError::Unavailable(Box::new(e))),
        Err(e) => Err(FigureFactsError::Unexpected(Box::new(e))),
    }
}

/// Reads the row of `key`, alone or with the reads queued beside it: the leader of a batch
/// calls `run` with the batch's keys, which answers the rows it found by key. Every job of a
/// failed batch gets the one error.
pub async fn read<R, E, F, Fut>(lanes: &ReadLanes<R, E>, key: &str, run: F) -> Found<R, E>
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, Arc<R>>, E>>,
{
    match lanes.join(key.to_owned()).await {
        Turn::Answer(answer) => answer,
        Turn::Refused => unreachable!("lanes of reads have no gate, so never refuse a job"),
        Turn::Lead(batch) => {
            let answers = match run(batch.jobs().to_vec()).await {
                Ok(rows) => batch
                    .jobs()
                    .iter()
                    .map(|key| Ok(rows.get(key).cloned()))
                    .collect(),
                Err(error) => {
                    let error = BatchError(Arc::new(error));
                    vec![Err(error); batch.jobs().len()]
                }
            };
            batch.finish(answers)
        }
    }
}

/// One update waiting for a batch: the new details, the changed fields (scalars and lists), the
/// guard (the version the row must have, when the update has one).
#[derive(Clone)]
pub struct Update {
    /// The details as they are to be stored.
    pub detail: Arc<UserDetail>,
    /// The fields the update writes (the others keep their stored values).
    pub fields: Arc<[Field]>,
    /// The guard.
    pub expected: Option<Version>,
}

/// What a batched update tells its job.
pub enum Written<R, E> {
    /// The updated row, or `None` when the guard failed or the row is gone.
    Row(Option<Arc<R>>),
    /// The batch failed as a whole, not for the database's sake: run alone.
    Alone,
    /// The database is unavailable.
    Failed(BatchError<E>),
    /// The request's time ran out before its update started ([`WriteGate`]): not run.
    Refused,
}

/// The lanes of updates: `lanes` batches at a time, each of distinct users (the statement could
/// apply only one of two updates of one row). Two batches running at once may hold updates of one
/// user; the store's row locks order them.
pub type UpdateLanes<R, E> = Lanes<Update, Written<R, E>>;

/// New lanes of updates, `lanes` batches at a time.
pub fn update_lanes<R, E>(lanes: usize) -> UpdateLanes<R, E> {
    Lanes::for_writes(lanes, |a, b| a.detail.user_id != b.detail.user_id)
}

/// Runs `update` in a batch with the updates of other users waiting for the lane (alone when
/// none waits): the leader calls `run` with the batch's jobs, which answers the updated rows by
/// user id. When `run` fails and `unavailable` says the database is (down, busy), every job
/// fails with that error; any other failure (one bad row) makes each job run alone, so that it
/// fails only its own request.
pub async fn update<R, E, F, Fut>(
    lanes: &UpdateLanes<R, E>,
    update: Update,
    run: F,
    unavailable: fn(&E) -> bool,
) -> Written<R, E>
where
    F: FnOnce(Vec<Update>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, Arc<R>>, E>>,
{
    match lanes.join(update).await {
        Turn::Answer(answer) => answer,
        Turn::Refused => Written::Refused,
        Turn::Lead(batch) => {
            let answers = match run(batch.jobs().to_vec()).await {
                Ok(rows) => batch
                    .jobs()
                    .iter()
                    .map(|job| Written::Row(rows.get(job.detail.user_id.as_str()).cloned()))
                    .collect(),
                Err(error) if unavailable(&error) => {
                    let error = BatchError(Arc::new(error));
                    (0..batch.jobs().len())
                        .map(|_| Written::Failed(error.clone()))
                        .collect()
                }
                Err(_) => (0..batch.jobs().len()).map(|_| Written::Alone).collect(),
            };
            batch.finish(answers)
        }
    }
}

/// A failed statement, shared by every job in its batch.
#[derive(Debug)]
pub struct BatchError<E>(pub Arc<E>);

impl<E> Clone for BatchError<E> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<E: std::fmt::Display> std::fmt::Display for BatchError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BatchError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{Lanes, Turn, WriteGate};

    /// Jobs are numbers; odd and even numbers never share a batch.
    fn lanes(n: usize) -> Arc<Lanes<u32, u32>> {
        Arc::new(Lanes::new(n, |a, b| a % 2 == b % 2))
    }

    /// Runs `job` through `lanes`: a leader answers each job of its batch with job * 10, after
    /// recording the batch.
    async fn run(
        lanes: Arc<Lanes<u32, u32>>,
        job: u32,
        log: Arc<std::sync::Mutex<Vec<Vec<u32>>>>,
    ) -> u32 {
        match lanes.join(job).await {
            Turn::Answer(answer) => answer,
            Turn::Lead(batch) => {
                log.lock().unwrap().push(batch.jobs().to_vec());
                tokio::time::sleep(Duration::from_millis(100)).await;
                let answers = batch.jobs().iter().map(|j| j * 10).collect();
                batch.finish(answers)
            }
            Turn::Refused => 0,
        }
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    /// A relation read answers its own pair's row as a `Relation`; a batch without the pair's row,
    /// or failing, is an error of the kind `unavailable` says.
    #[tokio::test]
    async fn a_relation_read_answers_its_pair_or_the_kind_of_failure() {
        use super::{read_lanes, read_relation, RelationLanes};
        use iam_domain::Relation;
        use iam_ports::FigureFactsError;
        use std::io;

        let lanes: RelationLanes<io::Error> = read_lanes(2);
        let found = read_relation(
            &lanes,
            "a",
            "b",
            |pairs| async move {
                assert_eq!(pairs, [("a".to_owned(), "b".to_owned())]);
                Ok(vec![
                    ("b".into(), "a".into(), false, true),
                    ("a".into(), "b".into(), true, false),
                ])
            },
            |_| false,
        )
        .await
        .unwrap();
        let expected = Relation {
            is_following: true,
            is_followed_back: false,
        };
        assert_eq!(found, expected);
        let reversed = read_relation(
            &lanes,
            "a",
            "b",
            |_| async { Ok(vec![("b".into(), "a".into(), true, true)]) },
            |_| false,
        )
        .await;
        assert!(matches!(reversed, Err(FigureFactsError::Unexpected(_))));
        for (down, is_unavailable) in [(true, true), (false, false)] {
            let failed = read_relation(
                &lanes,
                "a",
                "b",
                |_| async { Err(io::Error::other("the batch failed")) },
                if down { |_| true } else { |_| false },
            )
            .await;
            assert_eq!(
                matches!(failed, Err(FigureFactsError::Unavailable(_))),
                is_unavailable
            );
            assert!(failed.is_err());
        }
    }

    #[test]
    fn pair_keys_split_back_and_never_collide() {
        let key = super::pair_key("ada", "bob");
        assert_eq!(super::split_pair(&key), ("ada", "bob"));
        // Joined by a character no id holds: ("a-b", "c") and ("a", "b-c") stay apart whatever
        // the ids hold otherwise.
        assert_ne!(super::pair_key("a/b", "c"), super::pair_key("a", "b/c"));
        assert_ne!(super::pair_key("ab", "c"), super::pair_key("a", "bc"));
    }

    #[tokio::test]
    async fn a_lone_job_leads_a_batch_of_one_at_once() {
        let lanes = lanes(1);
        match lanes.join(7).await {
            Turn::Lead(batch) => {
                assert_eq!(batch.jobs(), &[7]);
                assert_eq!(batch.finish(vec![70]), 70);
            }
            Turn::Answer(_) | Turn::Refused => panic!("nobody else could have answered"),
        }
        // The lane is free again.
        assert!(matches!(lanes.join(8).await, Turn::Lead(_)));
    }

    #[tokio::test]
    async fn jobs_queued_behind_a_busy_lane_share_the_next_batch_that_fits() {
        let lanes = lanes(1);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let first = tokio::spawn(run(lanes.clone(), 2, log.clone()));
        settle().await;
        let mut queued = Vec::new();
        for job in [4, 5, 6, 7, 8] {
            queued.push(tokio::spawn(run(lanes.clone(), job, log.clone())));
            settle().await;
        }
        assert_eq!(first.await.unwrap(), 20);
        let answers: Vec<u32> = futures_join(queued).await;
        assert_eq!(answers, vec![40, 50, 60, 70, 80]);
        // The lane went to the first queued job (4), with the even ones behind it; then the odd.
        assert_eq!(
            *log.lock().unwrap(),
            vec![vec![2], vec![4, 6, 8], vec![5, 7]]
        );
    }

    #[tokio::test]
    async fn a_cancelled_leader_passes_its_lane_and_its_jobs_queue_again() {
        let lanes = lanes(1);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let first = tokio::spawn(run(lanes.clone(), 2, log.clone()));
        settle().await;
        let second = tokio::spawn(run(lanes.clone(), 4, log.clone()));
        settle().await;
        let third = tokio::spawn(run(lanes.clone(), 6, log.clone()));
        settle().await;
        // The first finishes and hands [4, 6] to 4; 4 is cancelled while it runs them.
        assert_eq!(first.await.unwrap(), 20);
        settle().await;
        second.abort();
        assert!(second.await.unwrap_err().is_cancelled());
        // 6 queued again, led its own batch, and got its answer.
        assert_eq!(third.await.unwrap(), 60);
        assert_eq!(*log.lock().unwrap(), vec![vec![2], vec![4, 6], vec![6]]);
        // And the lane is free.
        assert!(matches!(lanes.join(1).await, Turn::Lead(_)));
    }

    #[tokio::test]
    async fn a_queued_job_that_went_away_is_skipped() {
        let lanes = lanes(1);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let first = tokio::spawn(run(lanes.clone(), 1, log.clone()));
        settle().await;
        let gone = tokio::spawn(run(lanes.clone(), 2, log.clone()));
        settle().await;
        let last = tokio::spawn(run(lanes.clone(), 3, log.clone()));
        settle().await;
        gone.abort();
        let _ = gone.await;
        assert_eq!(first.await.unwrap(), 10);
        assert_eq!(last.await.unwrap(), 30);
        assert_eq!(*log.lock().unwrap(), vec![vec![1], vec![3]]);
    }

    #[tokio::test]
    async fn as_many_batches_run_at_once_as_there_are_lanes() {
        let lanes = lanes(2);
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let a = tokio::spawn(run(lanes.clone(), 1, log.clone()));
        let b = tokio::spawn(run(lanes.clone(), 3, log.clone()));
        settle().await;
        let c = tokio::spawn(run(lanes.clone(), 5, log.clone()));
        settle().await;
        assert_eq!(
            log.lock().unwrap().len(),
            2,
            "two lanes, two batches running"
        );
        assert_eq!(futures_join(vec![a, b, c]).await, vec![10, 30, 50]);
        assert_eq!(log.lock().unwrap().len(), 3);
    }

    /// Jobs of a write lane: a leader runs its batch when `go` fires, recording it in `log`.
    async fn write(
        lanes: Arc<Lanes<u32, u32>>,
        job: u32,
        log: Arc<std::sync::Mutex<Vec<Vec<u32>>>>,
        go: tokio::sync::oneshot::Receiver<()>,
    ) -> Option<u32> {
        match lanes.join(job).await {
            Turn::Answer(answer) => Some(answer),
            Turn::Lead(batch) => {
                let _ = go.await;
                log.lock().unwrap().push(batch.jobs().to_vec());
                let answers = batch.jobs().iter().map(|j| j * 10).collect();
                Some(batch.finish(answers))
            }
            Turn::Refused => None,
        }
    }

    /// Waits (without deciding anything by time) until the lane is busy and `n` jobs are queued.
    async fn until_queued(lanes: &Lanes<u32, u32>, n: usize) {
        while lanes.queued() != (n, 1) {
            tokio::task::yield_now().await;
        }
    }

    type Log = Arc<std::sync::Mutex<Vec<Vec<u32>>>>;

    /// A write lane whose leader (job 1) holds it until `go` fires.
    async fn busy_write_lane() -> (
        Arc<Lanes<u32, u32>>,
        Log,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Option<u32>>,
    ) {
        let lanes = Arc::new(Lanes::for_writes(1, |_, _| true));
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (go, wait) = tokio::sync::oneshot::channel();
        let leader = tokio::spawn(write(lanes.clone(), 1, log.clone(), wait));
        until_queued(&lanes, 0).await;
        (lanes, log, go, leader)
    }

    #[tokio::test]
    async fn a_queued_write_whose_gate_closed_is_never_run_by_another_leader() {
        let (lanes, log, go, leader) = busy_write_lane().await;
        // The timed-out request: queued behind the leader, inside its gate.
        let gate = WriteGate::new();
        let (ready, at_once) = tokio::sync::oneshot::channel();
        ready.send(()).unwrap();
        let late = tokio::spawn(
            gate.clone()
                .scope(write(lanes.clone(), 2, log.clone(), at_once)),
        );
        until_queued(&lanes, 1).await;
        // Its timeout closes the gate and answers 503; the task lives on until dropped.
        assert!(gate.close());
        // A third job queues behind it and must still be served.
        let (go3, wait3) = tokio::sync::oneshot::channel();
        let third = tokio::spawn(write(lanes.clone(), 3, log.clone(), wait3));
        until_queued(&lanes, 2).await;
        go3.send(()).unwrap();
        go.send(()).unwrap();
        assert_eq!(leader.await.unwrap(), Some(10));
        assert_eq!(
            late.await.unwrap(),
            None,
            "the closed job learns it was refused"
        );
        // 3 leads its own batch.
        assert_eq!(third.await.unwrap(), Some(30));
        assert_eq!(*log.lock().unwrap(), vec![vec![1], vec![3]]);
    }

    #[tokio::test]
    async fn a_write_taken_into_a_batch_cannot_be_timed_out() {
        let (lanes, log, go, leader) = busy_write_lane().await;
        let gate = WriteGate::new();
        let (go2, wait2) = tokio::sync::oneshot::channel();
        let queued = tokio::spawn(
            gate.clone()
                .scope(write(lanes.clone(), 2, log.clone(), wait2)),
        );
        until_queued(&lanes, 1).await;
        go2.send(()).unwrap();
        go.send(()).unwrap();
        assert_eq!(leader.await.unwrap(), Some(10));
        // The lane passed to 2, which leads (and so has started): its timeout must wait for it.
        assert_eq!(queued.await.unwrap(), Some(20));
        assert!(
            !gate.close(),
            "a started write is answered with its outcome"
        );
        assert_eq!(*log.lock().unwrap(), vec![vec![1], vec![2]]);
    }

    #[tokio::test]
    async fn a_queued_job_whose_requester_is_gone_is_dropped_from_the_queue() {
        let (lanes, log, go, leader) = busy_write_lane().await;
        let (_go2, wait2) = tokio::sync::oneshot::channel();
        let gone = tokio::spawn(write(lanes.clone(), 2, log.clone(), wait2));
        until_queued(&lanes, 1).await;
        gone.abort();
        assert!(gone.await.unwrap_err().is_cancelled());
        go.send(()).unwrap();
        assert_eq!(leader.await.unwrap(), Some(10));
        assert_eq!(lanes.queued(), (0, 0));
        assert_eq!(*log.lock().unwrap(), vec![vec![1]]);
    }

    async fn futures_join(handles: Vec<tokio::task::JoinHandle<u32>>) -> Vec<u32> {
        let mut out = Vec::new();
        for handle in handles {
            out.push(handle.await.unwrap());
        }
        out
    }
}
