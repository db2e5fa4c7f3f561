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

use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
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
    lock: Mutex<()>,
    wake: Condvar,
}

/// Owns the ticker thread; dropping it stops and joins the thread.
pub struct EpochTicker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts the ticker thread for `engine`.
    pub fn start(engine: wasmtime::Engine) -> std::io::Result<EpochTicker> {
        let shared = Arc::new(Shared {
            active: AtomicUsize::new(0),
            sleeping: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            ticks: AtomicU64::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("wasgo-epoch".into())
            .spawn(move || tick(&thread_shared, &engine))?;
        Ok(EpochTicker {
            shared,
            thread: Some(thread),
        })
    }

    /// Marks one wasm entry as under way until the guard drops.
    pub fn enter(&self) -> TickGuard<'_> {
        let shared = &*self.shared;
        shared.active.fetch_add(1, SeqCst);
        if shared.sleeping.load(SeqCst) {
            let _lock = shared.lock.lock();
            shared.wake.notify_one();
        }
        TickGuard { shared }
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
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, SeqCst);
        {
            let _lock = self.shared.lock.lock();
            self.shared.wake.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
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
    fn the_ticker_sleeps_when_idle_and_an_entry_wakes_it() {
        let ticker = EpochTicker::start(engine()).unwrap();
        until(|| ticker.is_sleeping());
        let guard = ticker.enter();
        until(|| !ticker.is_sleeping());
        drop(guard);
        until(|| ticker.is_sleeping());
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
}
