//! The epoch ticker: one thread that advances the engine's epoch every millisecond while any
//! wasm code runs, and sleeps otherwise.
//!
//! Every store arms an epoch deadline one tick ahead before it enters wasm; when the tick comes
//! its deadline callback checks the kill switch and the entry's time limit, then re-arms. So a
//! running mod notices `kill()` or an overrun within about one tick, without any cost in the wasm
//! code itself beyond wasmtime's epoch check at loop heads and function entries.
//!
//! # Cheap entries
//!
//! Entering wasm happens for every `process`, `call_export` and signal callback, so
//! [`EpochTicker::enter`] costs one atomic add and one atomic load (and leaving one atomic
//! subtract): no lock, no syscall. The thread keeps ticking for [`LINGER`] after the last entry
//! ended before it sleeps, so a game that enters mods every frame never has to wake it; only the
//! first entry after a pause takes the lock to wake it. The wake-up handshake is the classic
//! store-then-load on both sides (`active` and `sleeping`, sequentially consistent), so an entry
//! can never miss a ticker that is going to sleep.
//!
//! # The main thread holds its entry
//!
//! The main thread enters wasm far more often than any other (every `process`, signal callback
//! and `call_export`), and its entries come in bursts, frame after frame. Its entries therefore
//! share one hold ([`EpochTicker::enter_held`]): the first takes it (one atomic add) and the
//! following ones find it taken (plain loads and stores), until the owner lets it go
//! ([`EpochTicker::release_hold`], which the glue does once per frame). So a main-thread entry
//! costs no atomic read-modify-write on the ticker's shared counter, and the ticker ticks as long
//! as the hold is kept, at most one frame past the last entry (it lingers longer than that
//! anyway). The hold belongs to the thread the caller says is the main thread; other threads'
//! entries enter and leave as before.
//!
//! # A `main` that waits does not keep it ticking
//!
//! A worker's `main` holds its entry for as long as it runs, but much of that time it runs no
//! wasm: it sleeps in WASI `poll_oneoff` or waits for the main thread to answer a call. Those
//! waits are woken by the kill switch, not by epochs, so they step out of the ticker
//! ([`idle_while`]) and back in when they return. A game whose mods' `main`s mostly sleep thus
//! has no thread waking every millisecond for them. Only the thread of a `main` steps out, and
//! only of its own entry ([`EpochTicker::enter_main`] marks it), so an entry of another thread can
//! never be given up by mistake.

use parking_lot::{Condvar, Mutex};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the epoch advances while wasm runs.
pub const TICK: Duration = Duration::from_millis(1);
/// How long the ticker goes on ticking after the last entry ended before it sleeps.
pub const LINGER: Duration = Duration::from_millis(100);

struct Shared {
    /// Number of wasm entries under way (main-thread callbacks and worker `main`s).
    active: AtomicUsize,
    /// The ticker thread is asleep or about to be (set under `lock`).
    sleeping: AtomicBool,
    shutdown: AtomicBool,
    /// Ticks so far.
    ticks: AtomicU64,
    /// The main thread holds one entry in `active` ([`EpochTicker::enter_held`]). Read and
    /// written by that thread only (atomic because `Shared` is shared).
    held: AtomicBool,
    /// The main thread's held entries under way (nested ones included): the hold is not let
    /// go while one runs. Read and written by that thread only.
    held_depth: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

/// Every ticker's ticks together: a hint that time passed (one relaxed load), for checks too hot
/// to read the clock at every call ([`crate::budget::after_direct_call`]).
pub(crate) static ANY_TICKS: AtomicU64 = AtomicU64::new(0);

/// Owns the ticker thread; dropping it (or [`EpochTicker::stop`]) stops and joins the thread.
pub struct EpochTicker {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl EpochTicker {
    /// Starts the ticker thread for `engine`.
    pub fn start(engine: wasmtime::Engine) -> std::io::Result<EpochTicker> {
        let shared = Arc::new(Shared {
            active: AtomicUsize::new(0),
            sleeping: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            ticks: AtomicU64::new(0),
            held: AtomicBool::new(false),
            held_depth: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("wasgo-epoch".into())
            .spawn(move || tick(&thread_shared, &engine))?;
        Ok(EpochTicker {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Stops and joins the ticker thread now, even while the ticker is still shared (a game
    /// that leaked a started `WasmScript` keeps the runtime alive past the extension's
    /// shutdown, and the thread must not outlive the library whose code it runs). Entries made
    /// after this get no more ticks: a mod running then is no longer interrupted by its budget.
    /// Calling it again does nothing.
    pub fn stop(&self) {
        self.shared.shutdown.store(true, SeqCst);
        {
            let _lock = self.shared.lock.lock();
            self.shared.wake.notify_all();
        }
        let thread = self.thread.lock().take();
        if let Some(thread) = thread {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }

    /// Whether the ticker thread was stopped ([`EpochTicker::stop`]).
    pub fn is_stopped(&self) -> bool {
        self.thread.lock().is_none()
    }

    /// Marks one wasm entry as under way until the guard drops.
    pub fn enter(&self) -> TickGuard<'_> {
        enter_shared(&self.shared);
        TickGuard {
            shared: &self.shared,
        }
    }

    /// Keeps the ticker running for an entry of the main thread until the guard drops, and
    /// after: takes the main thread's hold if it is not taken yet, else costs plain loads and
    /// stores. The hold stays after the entry returns, until [`EpochTicker::release_hold`]. Call
    /// it only on the thread that calls `release_hold` (the main thread): the hold is that
    /// thread's alone.
    #[inline]
    pub(crate) fn enter_held(&self) -> HeldGuard<'_> {
        let shared = &*self.shared;
        if !shared.held.load(Relaxed) {
            enter_shared(shared);
            shared.held.store(true, Relaxed);
        }
        shared
            .held_depth
            .store(shared.held_depth.load(Relaxed) + 1, Relaxed);
        HeldGuard { shared }
    }

    /// [`EpochTicker::enter_held`] when `main_thread` says the caller is the thread that holds
    /// (the main thread), else [`EpochTicker::enter`].
    #[inline]
    pub(crate) fn enter_from(&self, main_thread: bool) -> EntryTick<'_> {
        if main_thread {
            EntryTick::Held {
                _guard: self.enter_held(),
            }
        } else {
            EntryTick::Own {
                _guard: self.enter(),
            }
        }
    }

    /// Lets go of the main thread's hold ([`EpochTicker::enter_held`]) if it is taken and none
    /// of its entries is under way (one that is, say a mod's host call that made the game run
    /// this, keeps it until the next call); the ticker then sleeps once no entry is under way
    /// for its linger time. Only on the thread that takes the hold.
    pub(crate) fn release_hold(&self) {
        let shared = &*self.shared;
        if shared.held.load(Relaxed) && shared.held_depth.load(Relaxed) == 0 {
            shared.held.store(false, Relaxed);
            shared.active.fetch_sub(1, SeqCst);
        }
    }

    /// [`EpochTicker::enter`] for a worker's `main`: the calling thread's waits inside it may
    /// step out of the ticker with [`idle_while`] until the guard drops.
    pub fn enter_main(&self) -> MainTickGuard<'_> {
        let guard = self.enter();
        MAIN_ENTRY.with(|m| *m.borrow_mut() = Some(self.shared.clone()));
        MainTickGuard { _guard: guard }
    }

    /// How many times the epoch advanced so far.
    pub fn ticks(&self) -> u64 {
        self.shared.ticks.load(SeqCst)
    }

    /// Whether the ticker thread is asleep (for tests).
    pub fn is_sleeping(&self) -> bool {
        self.shared.sleeping.load(SeqCst)
    }
}

fn enter_shared(shared: &Shared) {
    shared.active.fetch_add(1, SeqCst);
    if shared.sleeping.load(SeqCst) {
        let _lock = shared.lock.lock();
        shared.wake.notify_one();
    }
}

thread_local! {
    /// The ticker whose entry this thread's `main` holds ([`EpochTicker::enter_main`]).
    static MAIN_ENTRY: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
}

/// Runs `wait` (a wait that runs no wasm and is woken by the kill switch, not by epochs) with
/// the calling thread's `main` entry stepped out of the ticker, so the ticker may sleep; the
/// entry is back when `wait` returns (or unwinds). On any other thread it just runs `wait`.
pub fn idle_while<R>(wait: impl FnOnce() -> R) -> R {
    let shared = MAIN_ENTRY.with(|m| m.borrow_mut().take());
    let Some(shared) = shared else {
        return wait();
    };
    /// Steps back in (and gives the entry back to the thread) when dropped.
    struct StepBackIn(Option<Arc<Shared>>);
    impl Drop for StepBackIn {
        fn drop(&mut self) {
            if let Some(shared) = self.0.take() {
                enter_shared(&shared);
                MAIN_ENTRY.with(|m| *m.borrow_mut() = Some(shared));
            }
        }
    }
    shared.active.fetch_sub(1, SeqCst);
    let _back = StepBackIn(Some(shared));
    wait()
}

/// The ticker thread's body.
fn tick(shared: &Shared, engine: &wasmtime::Engine) {
    let linger_ticks = (LINGER.as_micros() / TICK.as_micros()).max(1);
    let mut idle_ticks = 0;
    loop {
        if shared.shutdown.load(SeqCst) {
            return;
        }
        if shared.active.load(SeqCst) > 0 {
            idle_ticks = 0;
        } else {
            idle_ticks += 1;
            if idle_ticks > linger_ticks {
                let mut lock = shared.lock.lock();
                shared.sleeping.store(true, SeqCst);
                while shared.active.load(SeqCst) == 0 && !shared.shutdown.load(SeqCst) {
                    shared.wake.wait(&mut lock);
                }
                shared.sleeping.store(false, SeqCst);
                idle_ticks = 0;
                continue;
            }
        }
        std::thread::sleep(TICK);
        engine.increment_epoch();
        shared.ticks.fetch_add(1, SeqCst);
        ANY_TICKS.fetch_add(1, Relaxed);
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Keeps the ticker running while wasm code runs; see [`EpochTicker::enter`].
pub struct TickGuard<'a> {
    shared: &'a Shared,
}

impl Drop for TickGuard<'_> {
    fn drop(&mut self) {
        self.shared.active.fetch_sub(1, SeqCst);
    }
}

/// An entry's hold on the ticker: the main thread's shared hold there, its own elsewhere
/// ([`EpochTicker::enter_from`]).
pub(crate) enum EntryTick<'a> {
    Held { _guard: HeldGuard<'a> },
    Own { _guard: TickGuard<'a> },
}

/// A main-thread entry under the main thread's hold; see [`EpochTicker::enter_held`]. Dropping
/// it ends the entry, not the hold.
pub(crate) struct HeldGuard<'a> {
    shared: &'a Shared,
}

impl Drop for HeldGuard<'_> {
    fn drop(&mut self) {
        let depth = &self.shared.held_depth;
        depth.store(depth.load(Relaxed).saturating_sub(1), Relaxed);
    }
}

/// A `main`'s entry; see [`EpochTicker::enter_main`]. Dropping it ends the entry and the
/// thread's right to step out of it.
pub struct MainTickGuard<'a> {
    _guard: TickGuard<'a>,
}

impl Drop for MainTickGuard<'_> {
    fn drop(&mut self) {
        MAIN_ENTRY.with(|m| m.borrow_mut().take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> wasmtime::Engine {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        wasmtime::Engine::new(&config).unwrap()
    }

    /// Waits (without a time limit on the assertion) until `f` holds.
    fn until(f: impl Fn() -> bool) {
        while !f() {
            std::thread::sleep(TICK);
        }
    }

    #[test]
    fn stop_ends_the_thread_while_the_ticker_is_still_held() {
        let ticker = Arc::new(EpochTicker::start(engine()).unwrap());
        let held = ticker.clone();
        let _entry = held.enter();
        assert!(!ticker.is_stopped());
        let thread_id = ticker.thread.lock().as_ref().unwrap().thread().id();
        ticker.stop();
        assert!(
            ticker.is_stopped(),
            "joined though another owner and an entry remain"
        );
        let ticks = ticker.ticks();
        std::thread::sleep(TICK * 5);
        assert_eq!(
            ticker.ticks(),
            ticks,
            "no tick after stop ({thread_id:?} ended)"
        );
        ticker.stop();
    }

    #[test]
    fn the_ticker_sleeps_when_idle_and_an_entry_wakes_it() {
        let ticker = EpochTicker::start(engine()).unwrap();
        until(|| ticker.is_sleeping());
        let guard = ticker.enter();
        until(|| !ticker.is_sleeping());
        drop(guard);
        until(|| ticker.is_sleeping());
    }

    #[test]
    fn a_main_that_waits_lets_the_ticker_sleep_and_ticks_again_after() {
        let ticker = EpochTicker::start(engine()).unwrap();
        let main = ticker.enter_main();
        until(|| !ticker.is_sleeping());
        idle_while(|| until(|| ticker.is_sleeping()));
        // Back in: the epoch advances again.
        let start = ticker.ticks();
        until(|| ticker.ticks() > start);
        drop(main);
        // No main entry any more: a wait on this thread steps nothing out.
        let guard = ticker.enter();
        idle_while(|| std::thread::sleep(LINGER * 2));
        assert!(
            !ticker.is_sleeping(),
            "an ordinary entry must keep the ticker awake"
        );
        drop(guard);
    }

    #[test]
    fn another_threads_wait_never_steps_out_of_a_main_entry() {
        let ticker = EpochTicker::start(engine()).unwrap();
        let _main = ticker.enter_main();
        std::thread::scope(|s| {
            s.spawn(|| idle_while(|| std::thread::sleep(LINGER * 2)));
        });
        assert!(!ticker.is_sleeping());
        assert_eq!(ticker.shared.active.load(SeqCst), 1);
    }

    #[test]
    fn every_entry_after_a_pause_wakes_the_sleeping_ticker() {
        let ticker = EpochTicker::start(engine()).unwrap();
        // After each entry the epoch must advance again (a missed wake-up would hang here).
        for _ in 0..20 {
            until(|| ticker.is_sleeping());
            let _guard = ticker.enter();
            let start = ticker.ticks();
            until(|| ticker.ticks() > start);
        }
    }

    #[test]
    fn the_main_threads_hold_outlives_its_entries_until_released() {
        let ticker = EpochTicker::start(engine()).unwrap();
        until(|| ticker.is_sleeping());
        drop(ticker.enter_held());
        // The entry ended, the hold did not: the ticker wakes and keeps ticking past its linger.
        until(|| !ticker.is_sleeping());
        std::thread::sleep(LINGER * 2);
        assert!(!ticker.is_sleeping(), "the hold was let go with its entry");
        // More entries share the one hold.
        drop(ticker.enter_held());
        drop(ticker.enter_held());
        assert_eq!(ticker.shared.active.load(SeqCst), 1);
        ticker.release_hold();
        assert_eq!(ticker.shared.active.load(SeqCst), 0);
        until(|| ticker.is_sleeping());
        // Released twice is released once.
        ticker.release_hold();
        assert_eq!(ticker.shared.active.load(SeqCst), 0);
    }

    #[test]
    fn the_hold_is_not_let_go_while_one_of_its_entries_runs() {
        let ticker = EpochTicker::start(engine()).unwrap();
        let outer = ticker.enter_held();
        {
            let _nested = ticker.enter_held();
            // As if the game ran the frame driver from inside a mod's host call.
            ticker.release_hold();
            assert_eq!(ticker.shared.active.load(SeqCst), 1);
        }
        ticker.release_hold();
        assert_eq!(
            ticker.shared.active.load(SeqCst),
            1,
            "released while the outer entry still runs"
        );
        std::thread::sleep(LINGER * 2);
        assert!(!ticker.is_sleeping());
        drop(outer);
        ticker.release_hold();
        assert_eq!(ticker.shared.active.load(SeqCst), 0);
        until(|| ticker.is_sleeping());
    }
}
