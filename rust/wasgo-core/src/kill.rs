//! The kill switch of one instance, shared by its owner, its store and every wait it may be in.
//!
//! Throwing it sets a flag that running wasm notices in its epoch callback (the instance's owner
//! advances the epoch when it throws it, so that comes at the next check), and drops the sender
//! of a zero-capacity channel, which wakes every `select!` or `recv_timeout` on its receiver at
//! once: a host call waiting for the main thread, a WASI sleep, an HTTP hand-over.

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Stops one instance from any thread: running wasm notices in its next epoch callback, a host call
/// waiting on the main thread wakes at once.
pub struct KillSwitch {
    killed: AtomicBool,
    /// The first reason given; its lock also orders [`KillSwitch::kill`] against the making of
    /// the wake channel.
    reason: Mutex<Option<String>>,
    /// Dropped on kill, which wakes every `select!` on `wake_rx`.
    wake_tx: Mutex<Option<Sender<()>>>,
    /// Made at the first wait that needs it (most instances never wait: a mod that lives on
    /// callbacks has no worker), already disconnected when the switch was thrown before.
    wake_rx: OnceLock<Receiver<()>>,
}

impl KillSwitch {
    pub fn new() -> Arc<KillSwitch> {
        Arc::new(KillSwitch {
            killed: AtomicBool::new(false),
            reason: Mutex::new(None),
            wake_tx: Mutex::new(None),
            wake_rx: OnceLock::new(),
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

    /// A receiver that becomes ready (disconnected) when the switch is thrown (at once when it
    /// was thrown already).
    pub fn wake(&self) -> &Receiver<()> {
        self.wake_rx.get_or_init(|| {
            let (tx, rx) = crossbeam_channel::bounded(0);
            // Under the reason's lock, as `kill` checks and throws: either the sender is kept
            // here before a kill takes it, or the switch was thrown and it is dropped now.
            let _order = self.reason.lock();
            if !self.killed.load(Ordering::Acquire) {
                *self.wake_tx.lock() = Some(tx);
            }
            rx
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Whether a wait on `switch` ends (disconnected) within a second.
    fn wakes(switch: &KillSwitch) -> bool {
        switch
            .wake()
            .recv_timeout(Duration::from_secs(1))
            .is_err_and(|e| e.is_disconnected())
    }

    #[test]
    fn a_wait_made_before_the_kill_wakes_when_it_comes() {
        let switch = KillSwitch::new();
        // Timed from before the thread starts: a thread that starts late on a loaded machine
        // still waits until the kill, which comes 50 ms after this.
        let began = Instant::now();
        let waiting = {
            let switch = switch.clone();
            std::thread::spawn(move || (wakes(&switch), began.elapsed()))
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(switch.kill("test"));
        let (woke, after) = waiting.join().unwrap();
        assert!(woke, "the wait ended by the kill");
        assert!(
            after >= Duration::from_millis(40),
            "it waited for the kill: {after:?}"
        );
    }

    #[test]
    fn a_wait_made_after_the_kill_ends_at_once() {
        let switch = KillSwitch::new();
        assert!(switch.kill("first"));
        assert!(!switch.kill("second"));
        assert_eq!(switch.reason().as_deref(), Some("first"));
        let began = Instant::now();
        assert!(wakes(&switch));
        assert!(began.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn without_a_kill_a_wait_times_out() {
        let switch = KillSwitch::new();
        let result = switch.wake().recv_timeout(Duration::from_millis(20));
        assert!(result.is_err_and(|e| e.is_timeout()));
    }

    #[test]
    fn a_kill_racing_the_first_wait_never_leaves_it_hanging() {
        for _ in 0..2000 {
            let switch = KillSwitch::new();
            let waiting = {
                let switch = switch.clone();
                std::thread::spawn(move || wakes(&switch))
            };
            switch.kill("race");
            assert!(
                waiting.join().unwrap(),
                "a wait raced with the kill and hung"
            );
        }
    }
}
