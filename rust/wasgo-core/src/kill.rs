//! The kill switch of one instance, shared by its owner, its store and every wait it may be in.
//!
//! Throwing it sets a flag that running wasm notices in its epoch callback (the instance's owner
//! advances the epoch when it throws it, so that comes at the next check), and drops the sender
//! of a zero-capacity channel, which wakes every `select!` or `recv_timeout` on its receiver at
//! once: a host call waiting for the main thread, a WASI sleep, an HTTP hand-over.

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Stops one instance from any thread: running wasm notices in its next epoch callback, a host call
/// waiting on the main thread wakes at once.
pub struct KillSwitch {
    killed: AtomicBool,
    reason: Mutex<Option<String>>,
    /// Dropped on kill, which wakes every `select!` on `wake_rx`.
    wake_tx: Mutex<Option<Sender<()>>>,
    wake_rx: Receiver<()>,
}

impl KillSwitch {
    pub fn new() -> Arc<KillSwitch> {
        let (tx, rx) = crossbeam_channel::bounded(0);
        Arc::new(KillSwitch {
            killed: AtomicBool::new(false),
            reason: Mutex::new(None),
            wake_tx: Mutex::new(Some(tx)),
            wake_rx: rx,
        })
    }

    /// Throws the switch; the first reason given is kept. Returns false if it was already thrown.
    pub fn kill(&self, reason: impl Into<String>) -> bool {
        let mut slot = self.reason.lock();
        if self.killed.swap(true, Ordering::AcqRel) {
            return false;
        }
        *slot = Some(reason.into());
        self.wake_tx.lock().take();
        true
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    pub fn reason(&self) -> Option<String> {
        self.reason.lock().clone()
    }

    /// A receiver that becomes ready (disconnected) when the switch is thrown.
    pub fn wake(&self) -> &Receiver<()> {
        &self.wake_rx
    }
}
