//! The epoch ticker: one thread that advances the engine's epoch every millisecond while any
//! wasm code runs, and sleeps otherwise.
//!
//! Every store arms an epoch deadline one tick ahead before it enters wasm; when the tick comes
//! its deadline callback checks the kill switch and the entry's time limit, then re-arms. So a
//! running mod notices `kill()` or an overrun within about one tick, without any cost in the wasm
//! code itself beyond wasmtime's epoch check at loop heads and function entries.

use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the epoch advances while wasm runs.
pub const TICK: Duration = Duration::from_millis(1);

struct TickerState {
    /// Number of wasm entries under way (main-thread callbacks and worker `main`s).
    active: usize,
    shutdown: bool,
}

struct Shared {
    state: Mutex<TickerState>,
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
            state: Mutex::new(TickerState {
                active: 0,
                shutdown: false,
            }),
            wake: Condvar::new(),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("wasgo-epoch".into())
            .spawn(move || {
                let shared = thread_shared;
                loop {
                    {
                        let mut state = shared.state.lock();
                        while state.active == 0 && !state.shutdown {
                            shared.wake.wait(&mut state);
                        }
                        if state.shutdown {
                            return;
                        }
                    }
                    std::thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(EpochTicker {
            shared,
            thread: Some(thread),
        })
    }

    /// Marks one wasm entry as under way until the guard drops.
    pub fn enter(&self) -> TickGuard {
        let mut state = self.shared.state.lock();
        state.active += 1;
        if state.active == 1 {
            self.shared.wake.notify_one();
        }
        TickGuard {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.shared.state.lock().shutdown = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Keeps the ticker running while wasm code runs; see [`EpochTicker::enter`].
pub struct TickGuard {
    shared: Arc<Shared>,
}

impl Drop for TickGuard {
    fn drop(&mut self) {
        self.shared.state.lock().active -= 1;
    }
}
