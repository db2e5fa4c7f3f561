//! Running host work on the game's main thread on behalf of a mod's worker thread.
//!
//! Godot objects may only be touched on the main thread. When `main` (on its worker thread) calls
//! a function that needs Godot, the work is posted here and `main` waits for the result; the
//! main thread runs posted jobs in order when the glue calls [`MainThreadBridge::run_pending`]
//! (every frame). A wait is interrupted at once when the instance is killed, so `kill()` never
//! waits on a frame and never deadlocks.
//!
//! # Full speed within the frame's budget
//!
//! A worker calling in a loop posts its next request microseconds after it gets a reply. So
//! once `run_pending` has a job, it keeps serving: after every job it takes the next one at once
//! when one waits, else polls for it for up to [`IDLE_GAP`], until the per-frame budget is spent
//! or the worker stops asking. Neither side sleeps while the main thread serves: a worker
//! waiting for its reply polls too, for as long as the main thread is serving (and at most
//! [`SERVING_SPIN`]), and sleeps on the channel only when it is not (or once [`SPIN`] is up and
//! [`MAX_SPINNERS`] other workers already poll). A round trip thus costs two cache-line
//! hand-overs instead of two thread wake-ups.
//!
//! Sleeping on either side would be far dearer than it looks: a futex wake-up takes 50–150 µs
//! on a loaded machine, longer than any short spin, so once one side has gone to sleep the
//! other's spin runs out before the reply comes, it sleeps too, and every later round trip pays
//! two wake-ups (measured: about 150 µs per `get_node`+`set`+`get`, 27 per frame at 60 fps).
//! Polling loops call `yield_now` between every two polls, never a bare spin: when the two
//! threads share a core (the scheduler often puts a woken worker on its waker's core, also on
//! an idle machine) a spinning poller holds the only core the other side needs, so each
//! hand-over waited out the spin. Measured on the idle 2-core machine (`bench_crossings.gd`,
//! release): with a 30 µs spin before yielding, 1,775 round trips/s at 60 fps, about 80 jobs per
//! 4 ms serving window; yielding from the first poll, 14,601/s, about 700 jobs per window. On
//! separate cores `yield_now` returns at once (nothing else to run), so it costs one system call
//! per poll. (Polling without yielding at all was 40 times slower on a loaded machine, for the
//! same reason.) An idle bridge costs nothing: `run_pending` returns at once when nothing waits.
//!
//! # Two cores when there are two
//!
//! Yielding makes a hand-over on a shared core a context switch, about 1.6 µs each way on the
//! 2-core machine (3.3 µs per round trip of two bare threads; 4–5 µs per bridge job in Godot),
//! which caps `main` at about 28,000 `get_node`+`set`+`get` per second at 60 fps. Two threads on
//! different cores that poll without yielding hand over in about 0.4 µs. So while the main
//! thread serves, a worker waiting for its reply that finds itself on the main thread's core
//! moves off it ([`cpus::move_off`]: its affinity becomes the cores it was allowed minus the main
//! thread's, when that leaves any), and both sides poll with a bare spin while they are on
//! different cores (yielding again as soon as they share one); a worker that goes to sleep on
//! its channel gets all its cores back ([`cpus::restore`]), so between rounds it competes for
//! them like any thread. A worker woken from its sleep by the first reply of a round may take
//! longer than [`IDLE_GAP`] to run again (a cross-core wake-up of an idle core, 50–200 µs), so
//! while a worker sleeps or has been woken and not run yet, the main thread waits up to
//! [`WAKE_GAP`] instead, else the round would end after one job and serve one call per frame.
//! Measured (`bench_crossings.gd`, release, idle 2-core machine, 2026-12-01): 83,000–90,000
//! round trips per second at 60 fps, against 34,000 with yielding only; a bare poll (one
//! `spin_loop` hint between polls) 72,000–79,000, 48 hints 58,000–62,000, 16 (the choice) the
//! figure above. An hour later the same machine gave 43,000–45,000 (BENCHMARKS.md, "Sixth
//! pass").
//!
//! Two threads running at once also meet in the allocator: what one allocates and the other
//! frees went through glibc's arena lock at every call, so a call allocates as little as it can
//! (one `ReplySlot` and the job; the worker's wake-up channel is made once per thread) and the
//! extension's allocator is mimalloc (`rust/wasgo/src/lib.rs`).
//!
//! # Queued calls
//!
//! Calls whose result the mod does not need (property sets, `release`) can be *posted*
//! ([`MainThreadBridge::post`]): the worker goes on at once and the job runs on the main thread
//! in order with every other job of the bridge (a queued set is always done before a later `get`
//! from the same worker is answered). A failure is kept in the worker's [`CallQueue`] (the first
//! one, and how many more followed); the caller decides where it surfaces (for the object
//! functions: at the next call that returns a value, see `object_calls.rs`). At most
//! [`QUEUE_LIMIT`] posted jobs, holding at most [`QUEUE_BYTES`] of the mod's data between them,
//! wait at a time per queue: past either, `post` first waits for the main thread to catch up, so
//! a worker setting properties in a loop (or setting huge values) cannot grow memory without
//! bound while the game runs at its frame rate.

use crate::kill::KillSwitch;
use crossbeam_channel::{select, Receiver, Sender, TryRecvError};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

/// How long a worker polls for its reply (yielding between polls) even when the main thread is
/// not serving, for the case where it is about to.
pub const SPIN: Duration = Duration::from_micros(30);
/// How long `run_pending` polls for a worker's next request before it ends the round; within
/// the frame's budget.
pub const IDLE_GAP: Duration = Duration::from_micros(200);
/// How long `run_pending` waits for a worker it has just woken (its reply sent while it slept)
/// to run again and post its next request; within the frame's budget.
pub const WAKE_GAP: Duration = Duration::from_millis(1);
/// Longest a worker polls for its reply while the main thread is serving before it sleeps on
/// the channel (a job that runs longer than this on the main thread is not worth a core).
pub const SERVING_SPIN: Duration = Duration::from_millis(2);
/// Most workers that poll for their replies at once; the others sleep on the channel. One per
/// core besides the main thread's would be the ideal; more only take cores from the game.
pub const MAX_SPINNERS: usize = 2;
/// Most posted (queued) jobs one [`CallQueue`] may have waiting.
pub const QUEUE_LIMIT: usize = 4096;
/// Most bytes of the mod's data (names, values; the `cost` given to `post`) the waiting jobs of
/// one [`CallQueue`] may hold. A single job over it is still posted, alone.
pub const QUEUE_BYTES: usize = 4 << 20;

/// A queued job's failure: one that must surface (a denied member: the mod traps) is kept ahead
/// of the ordinary failures before it, which are then only counted (a -4 queued first hid a
/// denied member queued after it: no trap, no `unexposed_call`).
pub trait QueuedFailure {
    /// Whether this failure ends the mod when it surfaces.
    fn must_surface(&self) -> bool;
}

impl QueuedFailure for String {
    fn must_surface(&self) -> bool {
        false
    }
}

impl QueuedFailure for &str {
    fn must_surface(&self) -> bool {
        false
    }
}

impl QueuedFailure for () {
    fn must_surface(&self) -> bool {
        false
    }
}

/// The queued calls of one worker: how many wait for the main thread, and the first failure
/// since the worker last looked.
pub struct CallQueue<E> {
    waiting: AtomicUsize,
    waiting_bytes: AtomicUsize,
    failure: Mutex<Option<(E, usize)>>,
}

impl<E> Default for CallQueue<E> {
    fn default() -> Self {
        CallQueue {
            waiting: AtomicUsize::new(0),
            waiting_bytes: AtomicUsize::new(0),
            failure: Mutex::new(None),
        }
    }
}

impl<E: QueuedFailure> CallQueue<E> {
    /// An empty queue.
    pub fn new() -> Arc<CallQueue<E>> {
        Arc::new(CallQueue::default())
    }

    /// Posted jobs that have not run yet.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Bytes of the mod's data the posted jobs that have not run yet hold.
    pub fn waiting_bytes(&self) -> usize {
        self.waiting_bytes.load(Ordering::Acquire)
    }

    /// The first failure of a queued job since the last take, with how many more failed after
    /// it (those are dropped); `None` when all ran fine. Only jobs that already ran count: call
    /// it after a round trip through the bridge, or from a job, to see every earlier one.
    pub fn take_failure(&self) -> Option<(E, usize)> {
        self.failure.lock().take()
    }

    fn record(&self, error: E) {
        let mut failure = self.failure.lock();
        match failure.as_mut() {
            Some((first, more)) => {
                *more += 1;
                if error.must_surface() && !first.must_surface() {
                    *first = error;
                }
            }
            None => *failure = Some((error, 0)),
        }
    }
}

/// The job queue between worker threads and the main thread.
pub struct MainThreadBridge {
    main_thread: ThreadId,
    tx: Sender<Job>,
    rx: Receiver<Job>,
    /// `run_pending` is serving jobs: a worker waiting for a reply polls instead of sleeping.
    serving: AtomicBool,
    /// Workers polling for a reply right now (at most [`MAX_SPINNERS`] past [`SPIN`]).
    spinners: AtomicUsize,
    /// Workers asleep on their reply channel, and those woken that have not run yet.
    sleepers: AtomicUsize,
    /// The core the main thread serves on (`-1`: unknown), published by `run_pending`.
    main_cpu: AtomicI32,
    /// The core of the worker that last polled for its reply (`-1`: unknown).
    worker_cpu: AtomicI32,
    /// Main-thread entries nested in one another (`budget`'s accounting of whose time is
    /// whose).
    pub(crate) nesting: EntryNesting,
}

/// How many main-thread entries run now (an entry made while one runs is nested in it), and
/// the main thread's total, in nanoseconds, of nested entries' own time, each counted once (an
/// entry adds its own time, what was nested in it taken out): an entry's clock moves forward by
/// what the total grew while it ran (`budget`). Written by the main thread only, so plain loads
/// and stores (no locked instruction per entry); one per runtime, as its main thread is.
#[derive(Debug, Default)]
pub(crate) struct EntryNesting {
    pub(crate) depth: AtomicU32,
    pub(crate) nested_ns: AtomicU64,
    /// When the outermost entry running now began (a [`Stamp`](crate::clock::Stamp)'s raw
    /// value): the hard stop of every entry nested in it counts from there, so a chain of
    /// nested calls is stopped once the outermost one has held the main thread past it (each
    /// level counted from its own start, ten levels held it ten times as long).
    pub(crate) outer_began: AtomicU64,
}

/// The wait for the main thread ended because the instance was killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl MainThreadBridge {
    /// A bridge whose main thread is the calling thread.
    pub fn new() -> MainThreadBridge {
        Self::with_main_thread(std::thread::current().id())
    }

    /// A bridge whose main thread is `main_thread`.
    pub fn with_main_thread(main_thread: ThreadId) -> MainThreadBridge {
        let (tx, rx) = crossbeam_channel::unbounded();
        MainThreadBridge {
            main_thread,
            tx,
            rx,
            serving: AtomicBool::new(false),
            spinners: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            main_cpu: AtomicI32::new(-1),
            worker_cpu: AtomicI32::new(-1),
            nesting: EntryNesting::default(),
        }
    }

    /// Jobs posted and not run yet (all workers together).
    pub fn pending(&self) -> usize {
        self.rx.len()
    }

    /// Whether the calling thread is the main thread.
    pub fn on_main_thread(&self) -> bool {
        thread_local! {
            static THIS_THREAD: ThreadId = std::thread::current().id();
        }
        THIS_THREAD.with(|id| *id == self.main_thread)
    }

    /// Runs `job` on the main thread and returns its result: directly when called there, else by
    /// posting it and waiting. Returns `Interrupted` if `kill` is thrown first (the job may still
    /// run later; its result is then dropped).
    pub fn run<R: Send + 'static>(
        &self,
        kill: &Arc<KillSwitch>,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Interrupted> {
        // A killed mod's job never runs, on the main thread too: the game may kill the mod
        // from code the mod's own call runs (a game function, a signal handler), and the mod's
        // next calls went on changing the game.
        if kill.is_killed() {
            return Err(Interrupted);
        }
        if self.on_main_thread() {
            return Ok(job());
        }
        let slot = Arc::new(ReplySlot::<R>::default());
        let reply = Reply {
            slot: slot.clone(),
            wake: WAKE.with(|(tx, _)| tx.clone()),
        };
        // Not run once the instance is killed (a game function a killed `main` was waiting in
        // ran at the next frame, after the game's `killed` handler had undone its effects).
        let killed = kill.clone();
        let posted: Job = Box::new(move || {
            if !killed.is_killed() {
                reply.send(job());
            }
        });
        if self.tx.send(posted).is_err() {
            return Err(Interrupted);
        }
        // No wasm runs while the worker waits: a `main` steps out of the epoch ticker meanwhile.
        crate::ticker::idle_while(|| {
            // The main thread is usually serving already: the reply comes within microseconds.
            if let Some(reply) = self.poll_reply(kill, &slot) {
                return reply;
            }
            // Asleep, the worker needs no core of its own: it may be woken anywhere, and the
            // main thread must not spin for it meanwhile.
            cpus::restore();
            self.worker_cpu.store(-1, Ordering::Release);
            self.sleepers.fetch_add(1, Ordering::AcqRel);
            slot.asleep.store(true, Ordering::SeqCst);
            let reply = WAKE.with(|(_, wake)| loop {
                if let Some(reply) = slot.take() {
                    break reply;
                }
                select! {
                    // A signal may be stale (a reply to an earlier, interrupted call): the slot
                    // says whether this call's reply is in.
                    recv(wake) -> _ => {}
                    recv(kill.wake()) -> _ => break Err(Interrupted),
                }
            });
            self.sleepers.fetch_sub(1, Ordering::AcqRel);
            reply
        })
    }

    /// Polls for a reply, yielding between polls: for [`SPIN`], then for as long as the main
    /// thread serves, at most [`SERVING_SPIN`] and only while fewer than [`MAX_SPINNERS`] other
    /// workers poll. `None` when the caller should sleep on the channel instead.
    fn poll_reply<R>(
        &self,
        kill: &KillSwitch,
        slot: &ReplySlot<R>,
    ) -> Option<Result<R, Interrupted>> {
        let start = Instant::now();
        let mut counted = false;
        let mut moved_from = -1;
        let outcome = loop {
            if let Some(reply) = slot.take() {
                break Some(reply);
            }
            if kill.is_killed() {
                break Some(Err(Interrupted));
            }
            let serving = self.serving.load(Ordering::Acquire);
            let spun = start.elapsed();
            if spun >= SPIN {
                if !serving || spun >= SERVING_SPIN {
                    break None;
                }
                if !counted {
                    if self.spinners.fetch_add(1, Ordering::AcqRel) >= MAX_SPINNERS {
                        self.spinners.fetch_sub(1, Ordering::AcqRel);
                        break None;
                    }
                    counted = true;
                }
            }
            let mut here = cpus::current();
            let main = self.main_cpu.load(Ordering::Acquire);
            // At most one move per core the main thread is found on (a move is a system call).
            if serving && here == main && here >= 0 && moved_from != main {
                moved_from = main;
                if cpus::move_off(main) {
                    here = cpus::current();
                }
            }
            publish(&self.worker_cpu, here);
            pause(serving && cpus::apart(here, main));
        };
        if counted {
            self.spinners.fetch_sub(1, Ordering::AcqRel);
        }
        outcome
    }

    /// Posts `job` to run on the main thread after every job posted before it, without waiting
    /// for it; an `Err` it returns is kept in `queue` (see [`CallQueue::take_failure`]). `cost`
    /// is the bytes of the mod's data the job holds. On the main thread it runs at once. When
    /// `queue` already has [`QUEUE_LIMIT`] jobs or, with this one, more than [`QUEUE_BYTES`]
    /// waiting, this first waits for the main thread to run them. `Interrupted` when `kill` is
    /// thrown (the job is then not posted).
    pub fn post<E: QueuedFailure + Send + 'static>(
        &self,
        kill: &Arc<KillSwitch>,
        queue: &Arc<CallQueue<E>>,
        cost: usize,
        job: impl FnOnce() -> Result<(), E> + Send + 'static,
    ) -> Result<(), Interrupted> {
        if self.on_main_thread() {
            if let Err(e) = job() {
                queue.record(e);
            }
            return Ok(());
        }
        if kill.is_killed() {
            return Err(Interrupted);
        }
        let bytes = queue.waiting_bytes.load(Ordering::Acquire);
        if queue.waiting() >= QUEUE_LIMIT || (bytes > 0 && bytes.saturating_add(cost) > QUEUE_BYTES)
        {
            self.flush(kill)?;
        }
        queue.waiting.fetch_add(1, Ordering::AcqRel);
        queue.waiting_bytes.fetch_add(cost, Ordering::AcqRel);
        let queue = queue.clone();
        let killed = kill.clone();
        let posted: Job = Box::new(move || {
            // The calls a killed instance queued are dropped, not run after its end.
            if killed.is_killed() {
                // (nothing to record: nobody looks any more)
            } else if let Err(e) = job() {
                queue.record(e);
            }
            queue.waiting_bytes.fetch_sub(cost, Ordering::AcqRel);
            queue.waiting.fetch_sub(1, Ordering::AcqRel);
        });
        self.tx.send(posted).map_err(|_| Interrupted)
    }

    /// Waits until every job posted before this call has run on the main thread.
    pub fn flush(&self, kill: &Arc<KillSwitch>) -> Result<(), Interrupted> {
        self.run(kill, || ())
    }

    /// Runs posted jobs on the main thread, in order, for at most `budget`; returns how many ran.
    /// Once a job ran, it keeps serving while requests keep coming (see the module's
    /// documentation), so a worker calling in a tight loop gets many calls served per frame.
    /// Returns at once when nothing waits.
    pub fn run_pending(&self, budget: Duration) -> usize {
        debug_assert!(
            self.on_main_thread(),
            "run_pending must be called on the main thread"
        );
        let Ok(mut job) = self.rx.try_recv() else {
            return 0;
        };
        let start = Instant::now();
        let mut ran = 0;
        self.main_cpu.store(cpus::current(), Ordering::Release);
        let _serving = Serving::start(&self.serving);
        loop {
            job();
            ran += 1;
            let Some(left) = budget.checked_sub(start.elapsed()).filter(|l| !l.is_zero()) else {
                break;
            };
            match self.next_job(left) {
                Some(next) => job = next,
                None => break,
            }
        }
        ran
    }

    /// The next job: at once when one waits, else after polling up to [`IDLE_GAP`] (up to
    /// [`WAKE_GAP`] while a worker woken by a reply has not run yet), never past `left`. Never
    /// sleeps on the channel: a wake-up costs more than the gap between a worker's calls (see
    /// the module's documentation). Spins while the last polling worker is on another core,
    /// yields while it shares this one.
    fn next_job(&self, left: Duration) -> Option<Job> {
        let start = Instant::now();
        loop {
            match self.rx.try_recv() {
                Ok(job) => return Some(job),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {}
            }
            // The main thread is not pinned: the scheduler moves it between cores, and a worker
            // spinning on the core it moved to would hold that core until preempted.
            let here = cpus::current();
            publish(&self.main_cpu, here);
            let gap = if self.sleepers.load(Ordering::Acquire) > 0 {
                WAKE_GAP
            } else {
                IDLE_GAP
            };
            if start.elapsed() >= gap.min(left) {
                return None;
            }
            pause(cpus::apart(here, self.worker_cpu.load(Ordering::Acquire)));
        }
    }
}

/// Records the core a side runs on, writing only when it changed: both sides poll in tight
/// loops, and a store, even of the same value, takes the cache line from the other core.
fn publish(cell: &AtomicI32, cpu: i32) {
    if cell.load(Ordering::Relaxed) != cpu {
        cell.store(cpu, Ordering::Release);
    }
}

/// One poll's pause: a bare spin when the other side runs on another core (it answers within a
/// cache-line transfer), else a yield so that the other side, sharing this core, can run.
fn pause(spin: bool) {
    if spin {
        for _ in 0..16 {
            std::hint::spin_loop();
        }
    } else {
        std::thread::yield_now();
    }
}

/// Which core a thread runs on, and moving a worker off the main thread's core.
pub mod cpus {
    /// The core the calling thread runs on now, `-1` where unknown.
    pub fn current() -> i32 {
        #[cfg(target_os = "linux")]
        // SAFETY: `sched_getcpu` takes no arguments and only reads the calling thread's CPU.
        unsafe {
            libc::sched_getcpu()
        }
        #[cfg(not(target_os = "linux"))]
        -1
    }

    /// Whether two known cores differ.
    pub fn apart(a: i32, b: i32) -> bool {
        a >= 0 && b >= 0 && a != b
    }

    #[cfg(target_os = "linux")]
    thread_local! {
        /// The cores the thread was allowed before its first move, and whether it is moved now.
        static ALLOWED: std::cell::Cell<Option<(libc::cpu_set_t, bool)>> =
            const { std::cell::Cell::new(None) };
    }

    /// Gives the calling thread back the cores it was allowed before [`move_off`] (nothing when
    /// it was not moved).
    pub fn restore() {
        #[cfg(target_os = "linux")]
        if let Some((set, true)) = ALLOWED.get() {
            ALLOWED.set(Some((set, false)));
            // SAFETY: `set` is a valid `cpu_set_t` read by `sched_getaffinity`; this changes only
            // the calling thread's affinity.
            unsafe {
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
            }
        }
    }

    /// Restricts the calling thread to the cores it was first allowed minus `cpu` (Linux), when
    /// that leaves at least one; true when it did. The first allowed set is remembered per
    /// thread, so a later move (the main thread moved to another core) never narrows it further;
    /// [`restore`] undoes it.
    pub fn move_off(cpu: i32) -> bool {
        #[cfg(target_os = "linux")]
        {
            let Ok(cpu) = usize::try_from(cpu) else {
                return false;
            };
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if cpu >= size * 8 {
                return false;
            }
            let allowed = match ALLOWED.get() {
                Some((set, _)) => set,
                None => {
                    // SAFETY: `cpu_set_t` is plain bits, valid when zeroed; `sched_getaffinity(0,
                    // ..)` writes at most `size` bytes into it, for the calling thread.
                    let (set, rc) = unsafe {
                        let mut set: libc::cpu_set_t = std::mem::zeroed();
                        let rc = libc::sched_getaffinity(0, size, &mut set);
                        (set, rc)
                    };
                    if rc != 0 {
                        return false;
                    }
                    set
                }
            };
            let mut set = allowed;
            // SAFETY: `cpu` is below the set's capacity (checked above) and the CPU_* helpers
            // only touch the set's bits; `set` is a valid `cpu_set_t` of `size` bytes, and
            // `sched_setaffinity(0, ..)` changes only the calling thread's affinity.
            let moved = unsafe {
                libc::CPU_CLR(cpu, &mut set);
                libc::CPU_COUNT(&set) > 0 && libc::sched_setaffinity(0, size, &set) == 0
            };
            ALLOWED.set(Some((allowed, moved)));
            moved
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = cpu;
            false
        }
    }
}

thread_local! {
    /// The calling worker's wake-up signal, made once per thread and shared by all its calls:
    /// a reply channel made per call was a cache-aligned allocation (`posix_memalign`, which
    /// always takes glibc's arena lock) made on the worker and freed on the main thread, and
    /// with both threads running on two cores the two contended for that lock at every call
    /// (measured: 16% of both threads' samples in `__lll_lock_wait`, round trips from `main`
    /// down to 7,000–14,000/s).
    static WAKE: (Sender<()>, Receiver<()>) = crossbeam_channel::bounded(1);
}

/// Where one call's result goes: filled once by the main thread, taken by the worker.
struct ReplySlot<R> {
    /// The reply is in (or the job was dropped without one).
    done: AtomicBool,
    /// The worker sleeps on its wake-up channel (or is about to): the reply must signal it.
    /// While it polls, no signal is sent (a send is a few atomic writes on a shared line).
    asleep: AtomicBool,
    value: Mutex<Option<R>>,
}

impl<R> Default for ReplySlot<R> {
    fn default() -> Self {
        ReplySlot {
            done: AtomicBool::new(false),
            asleep: AtomicBool::new(false),
            value: Mutex::new(None),
        }
    }
}

impl<R> ReplySlot<R> {
    /// The reply once it is in: `Err(Interrupted)` when the job ended without one (it panicked,
    /// or the bridge was dropped with it unrun).
    fn take(&self) -> Option<Result<R, Interrupted>> {
        if !self.done.load(Ordering::SeqCst) {
            return None;
        }
        Some(self.value.lock().take().ok_or(Interrupted))
    }
}

/// The main thread's side of a [`ReplySlot`]: sends the result, or, dropped unsent, says that
/// none will come; either way wakes the worker if it sleeps.
struct Reply<R> {
    slot: Arc<ReplySlot<R>>,
    wake: Sender<()>,
}

impl<R> Reply<R> {
    fn send(self, value: R) {
        *self.slot.value.lock() = Some(value);
        // `drop` marks it done and wakes the worker.
    }
}

impl<R> Drop for Reply<R> {
    fn drop(&mut self) {
        // SeqCst with the worker's `asleep` then `done` (see `MainThreadBridge::run`): either it
        // sees `done` before it sleeps, or this sees `asleep` and signals.
        self.slot.done.store(true, Ordering::SeqCst);
        if self.slot.asleep.load(Ordering::SeqCst) {
            // Full means a signal is already waiting: the worker looks at its slot either way.
            let _ = self.wake.try_send(());
        }
    }
}

/// Marks the bridge as serving until dropped (also when a job panics).
struct Serving<'a>(&'a AtomicBool);

impl<'a> Serving<'a> {
    fn start(flag: &'a AtomicBool) -> Serving<'a> {
        flag.store(true, Ordering::Release);
        Serving(flag)
    }
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Default for MainThreadBridge {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn worker_calls_run_on_the_main_thread_in_order() {
        let bridge = Arc::new(MainThreadBridge::new());
        let kill = KillSwitch::new();
        let main_id = std::thread::current().id();
        let worker = {
            let bridge = bridge.clone();
            let kill = kill.clone();
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| {
                        bridge
                            .run(&kill, move || (i, std::thread::current().id()))
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        };
        let mut ran = 0;
        while ran < 50 {
            ran += bridge.run_pending(Duration::from_millis(5));
        }
        let results = worker.join().unwrap();
        assert_eq!(
            results.iter().map(|r| r.0).collect::<Vec<_>>(),
            (0..50).collect::<Vec<_>>()
        );
        assert!(results.iter().all(|r| r.1 == main_id));
    }

    /// A worker thread making one call that returns `value` through a new bridge, and the kill
    /// switch it waits under.
    fn one_call(
        value: i32,
    ) -> (
        Arc<MainThreadBridge>,
        Arc<KillSwitch>,
        std::thread::JoinHandle<Result<i32, Interrupted>>,
    ) {
        let bridge = Arc::new(MainThreadBridge::new());
        let kill = KillSwitch::new();
        let worker = {
            let (b, kill) = (bridge.clone(), kill.clone());
            std::thread::spawn(move || b.run(&kill, move || value))
        };
        (bridge, kill, worker)
    }

    /// Runs `worker` on a thread while the calling (main) thread serves the bridge until it ends.
    fn serve_until_done<R: Send + 'static>(
        bridge: &Arc<MainThreadBridge>,
        worker: impl FnOnce() -> R + Send + 'static,
    ) -> R {
        let worker = std::thread::spawn(worker);
        while !worker.is_finished() {
            bridge.run_pending(Duration::from_millis(5));
            std::thread::yield_now();
        }
        // Whatever the worker posted last (run_pending stops at its budget).
        while bridge.run_pending(Duration::from_millis(5)) > 0 {}
        worker.join().unwrap()
    }

    #[test]
    fn posted_jobs_run_in_order_with_the_jobs_that_wait_for_a_reply() {
        let bridge = Arc::new(MainThreadBridge::with_main_thread(
            std::thread::current().id(),
        ));
        let log = Arc::new(Mutex::new(Vec::new()));
        let queue = CallQueue::<String>::new();
        let seen = {
            let (bridge, log, queue) = (bridge.clone(), log.clone(), queue.clone());
            serve_until_done(&bridge.clone(), move || {
                let kill = KillSwitch::new();
                let mut seen = Vec::new();
                for i in 0..200 {
                    let l = log.clone();
                    bridge
                        .post(&kill, &queue, 0, move || {
                            l.lock().push(i);
                            Ok(())
                        })
                        .unwrap();
                    if i % 10 == 9 {
                        // A value-returning call sees every set queued before it done.
                        let l = log.clone();
                        seen.push(bridge.run(&kill, move || l.lock().len()).unwrap());
                    }
                }
                seen
            })
        };
        assert_eq!(*log.lock(), (0..200).collect::<Vec<_>>());
        assert_eq!(seen, (1..=20).map(|k| k * 10).collect::<Vec<_>>());
        assert_eq!(queue.waiting(), 0);
        assert!(queue.take_failure().is_none());
    }

    /// A failure that must surface (the mod traps) and an ordinary one.
    #[derive(Debug, PartialEq)]
    enum Failure {
        Ordinary,
        Denied,
    }

    impl QueuedFailure for Failure {
        fn must_surface(&self) -> bool {
            *self == Failure::Denied
        }
    }

    #[test]
    fn a_failure_that_must_surface_is_kept_ahead_of_ordinary_ones() {
        let bridge = Arc::new(MainThreadBridge::with_main_thread(
            std::thread::current().id(),
        ));
        let queue = CallQueue::<Failure>::new();
        let (b, q) = (bridge.clone(), queue.clone());
        serve_until_done(&bridge, move || {
            let kill = KillSwitch::new();
            b.post(&kill, &q, 0, || Err(Failure::Ordinary)).unwrap();
            b.post(&kill, &q, 0, || Err(Failure::Denied)).unwrap();
            b.post(&kill, &q, 0, || Err(Failure::Ordinary)).unwrap();
            b.flush(&kill).unwrap();
        });
        assert_eq!(queue.take_failure(), Some((Failure::Denied, 2)));
    }

    #[test]
    fn jobs_of_a_killed_instance_do_not_run() {
        let bridge = Arc::new(MainThreadBridge::with_main_thread(
            std::thread::current().id(),
        ));
        let kill = KillSwitch::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let queue = CallQueue::<String>::new();
        let worker = {
            let (b, k, q, r) = (bridge.clone(), kill.clone(), queue.clone(), ran.clone());
            std::thread::spawn(move || {
                let r2 = r.clone();
                b.post(&k, &q, 0, move || {
                    r2.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .unwrap();
                // Waits in a call until the kill interrupts it.
                b.run(&k, move || r.fetch_add(1, Ordering::SeqCst))
            })
        };
        // Both jobs are posted; the game kills the instance before the next frame serves them.
        while bridge.rx.len() < 2 {
            std::thread::yield_now();
        }
        kill.kill("the game stopped the mod");
        assert_eq!(worker.join().unwrap(), Err(Interrupted));
        bridge.run_pending(Duration::from_millis(50));
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "a killed instance's jobs ran"
        );
        assert_eq!(queue.waiting(), 0);
    }

    #[test]
    fn a_queue_keeps_the_first_failure_and_counts_the_rest_until_taken() {
        let bridge = Arc::new(MainThreadBridge::with_main_thread(
            std::thread::current().id(),
        ));
        let queue = CallQueue::<String>::new();
        let first = {
            let (b, q) = (bridge.clone(), queue.clone());
            serve_until_done(&bridge, move || {
                let kill = KillSwitch::new();
                b.post(&kill, &q, 0, || Ok(())).unwrap();
                b.post(&kill, &q, 0, || Err("first".to_string())).unwrap();
                b.post(&kill, &q, 0, || Err("second".to_string())).unwrap();
                b.post(&kill, &q, 0, || Err("third".to_string())).unwrap();
                b.flush(&kill).unwrap();
                let first = q.take_failure();
                b.post(&kill, &q, 0, || Ok(())).unwrap();
                b.flush(&kill).unwrap();
                (first, q.take_failure())
            })
        };
        assert_eq!(first, (Some(("first".to_string(), 2)), None));
    }

    #[test]
    fn posting_past_the_queue_limit_waits_for_the_main_thread() {
        let bridge = Arc::new(MainThreadBridge::with_main_thread(
            std::thread::current().id(),
        ));
        let queue = CallQueue::<()>::new();
        let most = {
            let (b, q) = (bridge.clone(), queue.clone());
            serve_until_done(&bridge, move || {
                let kill = KillSwitch::new();
                let mut most = 0;
                for _ in 0..QUEUE_LIMIT * 3 {
                    b.post(&kill, &q, 0, || Ok(())).unwrap();
                    most = most.max(q.waiting());
                }
                most
            })
        };
        assert!(most <= QUEUE_LIMIT, "{most} jobs waited at once");
        assert_eq!(queue.waiting(), 0);
    }

    #[test]
    fn posting_past_the_byte_limit_waits_for_the_main_thread() {
        let bridge = Arc::new(MainThreadBridge::with_main_thread(
            std::thread::current().id(),
        ));
        let queue = CallQueue::<()>::new();
        let most = {
            let (b, q) = (bridge.clone(), queue.clone());
            serve_until_done(&bridge, move || {
                let kill = KillSwitch::new();
                let mut most = 0;
                for _ in 0..200 {
                    b.post(&kill, &q, QUEUE_BYTES / 8, || Ok(())).unwrap();
                    most = most.max(q.waiting_bytes());
                }
                // One job over the limit alone still goes.
                b.post(&kill, &q, QUEUE_BYTES * 2, || Ok(())).unwrap();
                most
            })
        };
        assert!(most <= QUEUE_BYTES, "{most} bytes waited at once");
        assert_eq!(queue.waiting_bytes(), 0);
    }

    #[test]
    fn posting_after_a_kill_is_refused_and_on_the_main_thread_runs_at_once() {
        let bridge = MainThreadBridge::new();
        let queue = CallQueue::<&'static str>::new();
        let kill = KillSwitch::new();
        bridge.post(&kill, &queue, 0, || Err("at once")).unwrap();
        assert_eq!(queue.take_failure(), Some(("at once", 0)));
        let worker_side =
            MainThreadBridge::with_main_thread(std::thread::spawn(|| ()).thread().id());
        kill.kill("test");
        assert_eq!(
            worker_side.post(&kill, &queue, 0, || Ok(())),
            Err(Interrupted)
        );
        assert_eq!(queue.waiting(), 0);
    }

    #[test]
    fn the_bridge_stops_serving_when_a_round_ends_even_by_a_panicking_job() {
        let bridge = Arc::new(MainThreadBridge::new());
        let kill = KillSwitch::new();
        let seen = Arc::new(AtomicBool::new(false));
        let worker = {
            let (b, seen) = (bridge.clone(), seen.clone());
            let kill = kill.clone();
            std::thread::spawn(move || {
                let inner = b.clone();
                let _ = b.run(&kill, move || {
                    seen.store(inner.serving.load(Ordering::Acquire), Ordering::Release);
                    panic!("a host bug")
                });
            })
        };
        while bridge.rx.is_empty() {
            std::thread::yield_now();
        }
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            bridge.run_pending(Duration::from_millis(5))
        }));
        assert!(served.is_err(), "the job's panic reaches the caller");
        assert!(
            seen.load(Ordering::Acquire),
            "jobs run while the bridge serves"
        );
        assert!(!bridge.serving.load(Ordering::Acquire));
        // The worker's reply sender was dropped by the panic: its wait ends.
        worker.join().unwrap();
        assert_eq!(bridge.spinners.load(Ordering::Acquire), 0);
    }

    #[test]
    fn a_round_waits_longer_for_a_worker_woken_by_its_reply() {
        let bridge = MainThreadBridge::new();
        // A worker asleep on its reply channel (its reply just sent, say): the round gives it
        // the wake-up gap, not the idle gap, before it ends.
        bridge.sleepers.store(1, Ordering::Release);
        let start = Instant::now();
        assert!(bridge.next_job(Duration::from_millis(50)).is_none());
        assert!(start.elapsed() >= WAKE_GAP, "waited {:?}", start.elapsed());
        // A job posted meanwhile is taken (how soon is timing, not asserted).
        bridge.tx.send(Box::new(|| ())).unwrap();
        assert!(bridge.next_job(Duration::from_millis(50)).is_some());
        bridge.sleepers.store(0, Ordering::Release);
    }

    #[test]
    fn a_worker_asleep_is_counted_and_uncounted_when_its_reply_comes() {
        let (bridge, _kill, worker) = one_call(7);
        // Nobody serves: past its short poll the worker sleeps on the channel.
        while bridge.sleepers.load(Ordering::Acquire) == 0 {
            std::thread::yield_now();
        }
        assert_eq!(bridge.worker_cpu.load(Ordering::Acquire), -1);
        assert_eq!(bridge.run_pending(Duration::from_millis(5)), 1);
        assert_eq!(worker.join().unwrap(), Ok(7));
        assert_eq!(bridge.sleepers.load(Ordering::Acquire), 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_moved_off_a_core_runs_elsewhere_until_restored() {
        fn allowed() -> Vec<usize> {
            // SAFETY: a zeroed `cpu_set_t` is valid; `sched_getaffinity` fills it for this thread.
            let set = unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                assert_eq!(
                    libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
                    0
                );
                set
            };
            // SAFETY: every index is below the set's capacity.
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
                .collect()
        }
        std::thread::spawn(|| {
            let before = allowed();
            let here = cpus::current();
            assert!(before.contains(&(here as usize)));
            let moved = cpus::move_off(here);
            if !moved && before.len() > 1 {
                // Only a sandbox that refuses affinity changes may keep the thread where it is.
                // SAFETY: a zeroed `cpu_set_t` with this thread's allowed cores set is valid;
                // setting the affinity it already has changes nothing.
                let refused = unsafe {
                    let mut set: libc::cpu_set_t = std::mem::zeroed();
                    for &c in &before {
                        libc::CPU_SET(c, &mut set);
                    }
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0
                };
                assert!(refused, "not moved off {here} with {before:?} allowed");
            }
            if before.len() == 1 {
                assert!(!moved, "moved off the only core allowed");
            }
            if moved {
                let after = allowed();
                assert!(
                    !after.contains(&(here as usize)),
                    "{after:?} still has {here}"
                );
                assert_eq!(after.len(), before.len() - 1);
                assert_ne!(cpus::current(), here);
                // A second move never narrows the first allowed set further.
                let now = cpus::current();
                assert!(cpus::move_off(now));
                assert_eq!(allowed().len(), before.len() - 1);
            }
            cpus::restore();
            assert_eq!(allowed(), before);
            // Nothing to restore a second time.
            cpus::restore();
            assert_eq!(allowed(), before);
            // Out-of-range or unknown cores move nothing.
            assert!(!cpus::move_off(-1));
            assert!(!cpus::move_off(1 << 20));
            assert_eq!(allowed(), before);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_late_reply_to_an_interrupted_call_is_not_taken_by_the_next_call() {
        let bridge = Arc::new(MainThreadBridge::new());
        let first = KillSwitch::new();
        let worker = {
            let (b, first) = (bridge.clone(), first.clone());
            std::thread::spawn(move || {
                let interrupted = b.run(&first, || 1);
                let second = KillSwitch::new();
                (interrupted, b.run(&second, || 2))
            })
        };
        while bridge.sleepers.load(Ordering::Acquire) == 0 {
            std::thread::yield_now();
        }
        first.kill("test");
        // Both calls' jobs wait: the interrupted one runs first, its reply and wake-up signal
        // come before the second call's.
        while bridge.rx.len() < 2 {
            std::thread::yield_now();
        }
        let mut ran = 0;
        while ran < 2 {
            ran += bridge.run_pending(Duration::from_millis(5));
        }
        assert_eq!(worker.join().unwrap(), (Err(Interrupted), Ok(2)));
    }

    #[test]
    fn a_job_dropped_unrun_ends_the_wait_of_its_caller() {
        let (bridge, _kill, worker) = one_call(3);
        while bridge.rx.is_empty() {
            std::thread::yield_now();
        }
        // The main thread drops the job without running it (as when the bridge goes away).
        drop(bridge.rx.try_recv().unwrap());
        assert_eq!(worker.join().unwrap(), Err(Interrupted));
    }

    #[test]
    fn run_pending_returns_at_once_when_nothing_waits() {
        let bridge = MainThreadBridge::new();
        assert_eq!(bridge.run_pending(Duration::from_millis(5)), 0);
    }

    #[test]
    fn kill_interrupts_a_wait_for_the_main_thread() {
        let (bridge, kill, worker) = one_call(1);
        std::thread::sleep(Duration::from_millis(20));
        // Nobody serves the bridge: only the kill can end the wait (how fast is measured by the
        // Godot suite's kill tests and the benchmark, not asserted here).
        kill.kill("test");
        assert_eq!(worker.join().unwrap(), Err(Interrupted));
        assert_eq!(bridge.sleepers.load(Ordering::Acquire), 0);
    }
}
