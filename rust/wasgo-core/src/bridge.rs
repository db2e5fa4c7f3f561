//! Running host work on the game's main thread on behalf of a mod's worker thread.
//!
//! Godot objects may only be touched on the main thread. When `main` (on its worker thread) calls
//! a function that needs Godot, the work is posted here and `main` waits for the result; the
//! main thread runs posted jobs in order when the glue calls [`MainThreadBridge::run_pending`]
//! (every frame). A wait is interrupted at once when the instance is killed, so `kill()` never
//! waits on a frame and never deadlocks.

use crate::kill::KillSwitch;
use crossbeam_channel::{select, Receiver, Sender};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

/// The job queue between worker threads and the main thread.
pub struct MainThreadBridge {
    main_thread: ThreadId,
    tx: Sender<Job>,
    rx: Receiver<Job>,
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
        }
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
        kill: &KillSwitch,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Interrupted> {
        if self.on_main_thread() {
            return Ok(job());
        }
        if kill.is_killed() {
            return Err(Interrupted);
        }
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        let posted: Job = Box::new(move || {
            let _ = reply_tx.send(job());
        });
        if self.tx.send(posted).is_err() {
            return Err(Interrupted);
        }
        select! {
            recv(reply_rx) -> reply => reply.map_err(|_| Interrupted),
            recv(kill.wake()) -> _ => Err(Interrupted),
        }
    }

    /// Runs posted jobs on the main thread, in order, for at most `budget`; returns how many ran.
    /// Jobs posted while it runs are taken too, so a worker calling in a tight loop gets many
    /// calls served per frame.
    pub fn run_pending(&self, budget: Duration) -> usize {
        debug_assert!(
            self.on_main_thread(),
            "run_pending must be called on the main thread"
        );
        let start = Instant::now();
        let mut ran = 0;
        while let Ok(job) = self.rx.try_recv() {
            job();
            ran += 1;
            if start.elapsed() >= budget {
                break;
            }
            // A worker usually posts its next call right after the reply; give it a moment.
            if self.rx.is_empty() {
                match self.rx.recv_timeout(Duration::from_micros(200)) {
                    Ok(job) => {
                        job();
                        ran += 1;
                    }
                    Err(_) => break,
                }
            }
        }
        ran
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

    #[test]
    fn kill_interrupts_a_wait_for_the_main_thread() {
        let bridge = Arc::new(MainThreadBridge::new());
        let kill = KillSwitch::new();
        let worker = {
            let bridge = bridge.clone();
            let kill = kill.clone();
            std::thread::spawn(move || bridge.run(&kill, || 1))
        };
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        kill.kill("test");
        assert_eq!(worker.join().unwrap(), Err(Interrupted));
        assert!(t.elapsed() < Duration::from_millis(10));
    }
}
