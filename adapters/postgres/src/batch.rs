//! Statements shared by the requests that arrive at once.
//!
//! Each statement costs PostgreSQL a fixed amount (bind, executor start, the result protocol, two
//! socket wake-ups, and for a write the commit's WAL flush) on top of its row work, and under load
//! that fixed part dominates. So the jobs of one kind (reads of a profile, reads of details,
//! updates of one set of columns) share a few *lanes*: a job that finds a lane free leads a batch
//! at once; while every lane is busy, jobs queue. A leader takes the queued jobs that fit its
//! batch, runs one statement for all of them, answers each, and passes the lane to the first job
//! still queued, which leads the next batch with the jobs behind it. A lone request therefore
//! waits for nothing, and a busy service makes batches grow by itself.
//!
//! Every job's statement starts after the job arrived, so it sees everything committed before its
//! request did. A leader whose request is cancelled passes its lane on as it is dropped; the jobs
//! of its unfinished batch queue again.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

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
}

struct State<P, A> {
    busy: usize,
    queue: VecDeque<Waiter<P, A>>,
}

/// The lanes of one kind of job `P`, answered with `A`.
pub struct Lanes<P, A> {
    lanes: usize,
    fits: fn(&P, &P) -> bool,
    state: Mutex<State<P, A>>,
}

/// What a job gets from [`Lanes::join`]: its answer, or a batch to run.
pub enum Turn<'a, P, A> {
    /// Another job's leader ran this job.
    Answer(A),
    /// This job leads: run [`Batch::jobs`] and give the answers to [`Batch::finish`].
    Lead(Batch<'a, P, A>),
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
    /// `lanes` batches at most run at once; two jobs share a batch only when `fits` holds for
    /// them (it is asked for each pair).
    pub fn new(lanes: usize, fits: fn(&P, &P) -> bool) -> Self {
        Lanes {
            lanes: lanes.max(1),
            fits,
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

    /// Takes from the queue the jobs that fit with `batch` (and each other), in queue order.
    fn take_fitting(&self, state: &mut State<P, A>, batch: &mut Vec<Waiter<P, A>>) {
        let mut i = 0;
        while i < state.queue.len() && batch.len() < MAX_BATCH {
            let job = &state.queue[i].job;
            if batch.iter().all(|w| (self.fits)(&w.job, job)) {
                if let Some(waiter) = state.queue.remove(i) {
                    batch.push(waiter);
                }
            } else {
                i += 1;
            }
        }
    }

    /// Queues `job`, or makes it lead at once when a lane is free.
    pub async fn join(&self, job: P) -> Turn<'_, P, A>
    where
        P: Clone,
    {
        loop {
            let (reply, answer) = oneshot::channel();
            let batch = {
                let mut state = self.state();
                let mut batch = vec![Waiter {
                    job: job.clone(),
                    reply,
                }];
                if state.busy < self.lanes {
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

/// A failed statement, shared by every job in its batch.
#[derive(Debug, Clone)]
pub struct BatchError(pub std::sync::Arc<sqlx::Error>);

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{Lanes, Turn};

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
        }
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    #[tokio::test]
    async fn a_lone_job_leads_a_batch_of_one_at_once() {
        let lanes = lanes(1);
        match lanes.join(7).await {
            Turn::Lead(batch) => {
                assert_eq!(batch.jobs(), &[7]);
                assert_eq!(batch.finish(vec![70]), 70);
            }
            Turn::Answer(_) => panic!("nobody else could have answered"),
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

    async fn futures_join(handles: Vec<tokio::task::JoinHandle<u32>>) -> Vec<u32> {
        let mut out = Vec::new();
        for handle in handles {
            out.push(handle.await.unwrap());
        }
        out
    }
}
