//! The threads that share one op's work. The calling thread publishes a job of numbered tasks,
//! wakes the helpers and starts on its own share; helpers that are awake take theirs, and
//! whoever finishes first takes what is left of the others'.
//! Helpers spin for a short while after each job before they sleep, so the next op of a
//! training step finds them awake. A caller never waits for a helper that has not started: it
//! waits only for tasks a helper has already claimed. (Handing the whole op to a sleeping pool
//! and sleeping until it is done costs two wake-ups per op, more than a 128x128 product takes.)
//!
//! Every other job walks each share from its end. Consecutive ops over the same data then
//! start where the previous one finished, on lines still in that core's L2: an elementwise op
//! on a few MiB (too big for L2, small enough for L3) reads about a quarter less from L3.
//!
//! One job runs at a time. A second thread that wants the team while it is busy (two Python
//! threads running inference with the GIL released), and any op started from inside a task,
//! runs on its own thread instead of waiting.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle helper keeps looking for the next job before it sleeps: long enough to
/// bridge the Python code between two ops, short enough not to hold a core when idle.
const SPIN: Duration = Duration::from_micros(100);

type Task = dyn Fn(usize) + Sync;

struct Job {
    /// The caller's closure, its lifetime erased: dereferenced only for a claimed task, and the
    /// caller does not return before every claimed task has finished.
    task: *const Task,
    /// Helpers with an index below this may join (the op's thread count minus the caller).
    helpers: usize,
    /// One cursor per participant (the caller first, then each helper) over its own share
    /// of the tasks: a contiguous block, so consecutive ops on the same data give each thread
    /// the same part (still in its L2). A participant that finishes its share takes tasks from
    /// the others' cursors, so a helper that starts late costs nothing.
    cursors: Vec<Cursor>,
    /// Walk each share from its last task to its first (see the module comment).
    backward: bool,
    done: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `task` points to a `Sync` closure that outlives every use (see `Job::task`); the other
// fields are thread-safe.
unsafe impl Send for Job {}
unsafe impl Sync for Job {}

/// Claims the tasks `start..end` one by one; the `k`-th claim is task `start + k`, or
/// `end - 1 - k` when the job walks backward.
struct Cursor {
    next: AtomicUsize,
    start: usize,
    end: usize,
}

impl Job {
    fn new(task: *const Task, n: usize, threads: usize, backward: bool) -> Job {
        let cursors = (0..threads)
            .map(|p| Cursor {
                next: AtomicUsize::new(p * n / threads),
                start: p * n / threads,
                end: (p + 1) * n / threads,
            })
            .collect();
        Job {
            task,
            helpers: threads - 1,
            cursors,
            backward,
            done: AtomicUsize::new(0),
            panic: Mutex::new(None),
        }
    }

    /// Runs participant `me`'s share, then whatever is left of the others' shares.
    fn work(&self, me: usize) {
        let k = self.cursors.len();
        for c in (0..k).map(|j| &self.cursors[(me + j) % k]) {
            loop {
                let i = c.next.fetch_add(1, Ordering::Relaxed);
                if i >= c.end {
                    break;
                }
                self.run(if self.backward {
                    c.start + c.end - 1 - i
                } else {
                    i
                });
            }
        }
    }

    fn run(&self, i: usize) {
        // SAFETY: task `i` is claimed and not yet done, so the caller is still waiting in
        // `run` and the closure is alive.
        let f = unsafe { &*self.task };
        if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| f(i))) {
            let mut slot = self.panic.lock().unwrap_or_else(|e| e.into_inner());
            slot.get_or_insert(p);
        }
        self.done.fetch_add(1, Ordering::Release);
    }
}

struct Slot {
    job: Option<Arc<Job>>,
    sleepers: usize,
}

struct Team {
    slot: Mutex<Slot>,
    wake: Condvar,
    /// Bumped for every job; helpers watch it while they spin.
    epoch: AtomicU64,
    /// Held by the thread whose job the team is running.
    dispatch: Mutex<()>,
}

static TEAM: OnceLock<Team> = OnceLock::new();

thread_local! {
    /// Set on helpers, and on a caller while its job runs: ops started inside a task run
    /// serially instead of waiting for the team they are part of.
    static IN_TEAM: Cell<bool> = const { Cell::new(false) };
}

fn team() -> &'static Team {
    TEAM.get_or_init(|| {
        let helpers = super::max_threads().saturating_sub(1);
        for index in 0..helpers {
            // A helper that cannot be started leaves its share to the others.
            let _ = std::thread::Builder::new()
                .name(format!("ferrograd-{index}"))
                .spawn(move || helper(index));
        }
        Team {
            slot: Mutex::new(Slot {
                job: None,
                sleepers: 0,
            }),
            wake: Condvar::new(),
            epoch: AtomicU64::new(0),
            dispatch: Mutex::new(()),
        }
    })
}

fn helper(index: usize) {
    IN_TEAM.set(true);
    // The team is being built by the thread that spawned us; wait for it.
    let team = loop {
        match TEAM.get() {
            Some(t) => break t,
            None => std::thread::yield_now(),
        }
    };
    let mut seen = 0;
    loop {
        let since = Instant::now();
        let mut spins = 0u32;
        while team.epoch.load(Ordering::Acquire) == seen {
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(64) || since.elapsed() < SPIN {
                std::hint::spin_loop();
                continue;
            }
            let mut slot = team.slot.lock().unwrap_or_else(|e| e.into_inner());
            slot.sleepers += 1;
            while team.epoch.load(Ordering::Acquire) == seen {
                slot = team.wake.wait(slot).unwrap_or_else(|e| e.into_inner());
            }
            slot.sleepers -= 1;
            break;
        }
        let job = {
            let slot = team.slot.lock().unwrap_or_else(|e| e.into_inner());
            seen = team.epoch.load(Ordering::Acquire);
            slot.job.clone()
        };
        if let Some(job) = job.filter(|j| index < j.helpers) {
            job.work(index + 1);
        }
    }
}

/// Runs `f(0..n)` on up to `threads` threads (the caller included) and returns when all tasks
/// are done. A panic in a task is re-raised here once every task has finished.
pub fn run(n: usize, threads: usize, f: &(dyn Fn(usize) + Sync)) {
    if threads <= 1 || n <= 1 || IN_TEAM.get() {
        return serial(n, f);
    }
    let team = team();
    let Ok(_running) = team.dispatch.try_lock() else {
        return serial(n, f);
    };
    // SAFETY: only the lifetime is erased; see `Job::task` for why the closure outlives its uses.
    let task: *const Task =
        unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const Task>(f) };
    // The epoch only moves under `dispatch`, which we hold: its parity alternates per job.
    let backward = team.epoch.load(Ordering::Relaxed) % 2 == 1;
    let job = Arc::new(Job::new(task, n, threads, backward));
    {
        let mut slot = team.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.job = Some(job.clone());
        team.epoch.fetch_add(1, Ordering::Release);
        if slot.sleepers > 0 {
            team.wake.notify_all();
        }
    }
    IN_TEAM.set(true);
    job.work(0);
    IN_TEAM.set(false);
    // Only tasks a helper has claimed remain; they are running, so this wait is short.
    let mut spins = 0u32;
    while job.done.load(Ordering::Acquire) < n {
        spins = spins.wrapping_add(1);
        if spins < 1 << 12 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    team.slot.lock().unwrap_or_else(|e| e.into_inner()).job = None;
    let payload = job.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(p) = payload {
        panic::resume_unwind(p);
    }
}

/// All tasks on the calling thread, with the same panic behaviour as a team job.
fn serial(n: usize, f: &(dyn Fn(usize) + Sync)) {
    let mut first = None;
    for i in 0..n {
        if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| f(i))) {
            first.get_or_insert(p);
        }
    }
    if let Some(p) = first {
        panic::resume_unwind(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate's other unit tests run kernels on the team too; these take turns with each
    /// other so a job here is not pushed onto the serial path by one of them.
    static TURN: Mutex<()> = Mutex::new(());

    fn turn() -> std::sync::MutexGuard<'static, ()> {
        TURN.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn runs_every_task_exactly_once() {
        let _t = turn();
        for n in [0usize, 1, 2, 3, 17, 1000] {
            let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            run(n, 4, &|i| {
                hits[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(
                hits.iter().all(|h| h.load(Ordering::Relaxed) == 1),
                "n = {n}"
            );
        }
    }

    #[test]
    fn a_backward_job_walks_each_share_from_its_end() {
        static ORDER: Mutex<Vec<usize>> = Mutex::new(Vec::new());
        let order = &ORDER;
        let f = |i: usize| ORDER.lock().unwrap().push(i);
        let task: *const Task = &f;
        for (backward, want) in [(false, vec![0, 1, 2, 3, 4]), (true, vec![4, 3, 2, 1, 0])] {
            order.lock().unwrap().clear();
            // One participant: its share is every task, and it runs them in claim order.
            Job::new(task, 5, 1, backward).work(0);
            assert_eq!(*order.lock().unwrap(), want);
        }
        // Two participants: the second share is taken over by the first, still backward.
        order.lock().unwrap().clear();
        Job::new(task, 6, 2, true).work(0);
        assert_eq!(*order.lock().unwrap(), vec![2, 1, 0, 5, 4, 3]);
    }

    #[test]
    fn nested_and_concurrent_jobs_complete() {
        let _t = turn();
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..200 {
                        run(8, 2, &|_| {
                            run(4, 2, &|_| {
                                total.fetch_add(1, Ordering::Relaxed);
                            })
                        });
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 4 * 200 * 8 * 4);
    }

    #[test]
    fn a_panicking_task_is_reraised_after_the_others_finish() {
        let _t = turn();
        let done = AtomicUsize::new(0);
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            run(64, 2, &|i| {
                if i == 5 {
                    panic!("task five");
                }
                done.fetch_add(1, Ordering::Relaxed);
            })
        }));
        assert!(r.is_err());
        assert_eq!(done.load(Ordering::Relaxed), 63);
        // The team still works afterwards.
        let after = AtomicUsize::new(0);
        run(10, 2, &|_| {
            after.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(after.load(Ordering::Relaxed), 10);
    }
}
