//! Joining finished `main` worker threads off the caller's thread.
//!
//! A worker whose function has returned is not gone yet: its thread-local destructors run after
//! that (`JoinHandle::is_finished` is already true), and the allocator's (mimalloc handing memory
//! back to the system with `madvise`) took 16 to 22 ms at times. Joining it on the main thread
//! held `kill()` that long, past its 10 ms promise. Detaching it instead would leave threads
//! running this library's code while Godot unloads the library at exit. So a finished worker's
//! handle goes to one reaper thread, which joins the handles in turn; [`drain`] (extension
//! shutdown) waits, bounded, until every handed-over thread has exited and the reaper with them.
//! After it, a handed-over thread is detached (no new reaper is started at shutdown).

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

struct Reaper {
    handles: Sender<JoinHandle<()>>,
    /// Handed-over threads not joined yet.
    pending: Arc<AtomicUsize>,
    thread: JoinHandle<()>,
}

static REAPER: Mutex<Option<Reaper>> = Mutex::new(None);

/// Set by [`drain`]: the process is shutting down.
static CLOSED: AtomicBool = AtomicBool::new(false);

fn spawn() -> std::io::Result<Reaper> {
    let (handles, received): (Sender<JoinHandle<()>>, Receiver<JoinHandle<()>>) =
        crossbeam_channel::unbounded();
    let pending = Arc::new(AtomicUsize::new(0));
    let counted = pending.clone();
    let thread = std::thread::Builder::new()
        .name("wasgo-reaper".into())
        .spawn(move || {
            for handle in received {
                // A worker catches its own panics; a join error carries nothing to report.
                let _ = handle.join();
                counted.fetch_sub(1, Ordering::Release);
            }
        })?;
    Ok(Reaper {
        handles,
        pending,
        thread,
    })
}

/// Hands a worker's `handle` to the reaper (started at first use); never blocks on the thread.
/// If no reaper thread can be started, or after [`drain`], the thread is detached.
pub fn hand_over(handle: JoinHandle<()>) {
    let mut reaper = REAPER.lock();
    if CLOSED.load(Ordering::Acquire) {
        drop(handle);
        return;
    }
    if reaper.is_none() {
        *reaper = spawn().ok();
    }
    let Some(r) = reaper.as_ref() else {
        return;
    };
    r.pending.fetch_add(1, Ordering::AcqRel);
    if let Err(returned) = r.handles.send(handle) {
        // The reaper is gone (it cannot be, while its sender lives): detach.
        r.pending.fetch_sub(1, Ordering::AcqRel);
        drop(returned);
    }
}

/// Handed-over threads not joined yet.
pub fn pending() -> usize {
    REAPER
        .lock()
        .as_ref()
        .map_or(0, |r| r.pending.load(Ordering::Acquire))
}

/// Shutdown: waits up to `limit` for every handed-over thread to be joined, then joins the
/// reaper; later hand-overs detach their thread. Returns false if some thread was not joined in
/// time (the reaper then goes on joining, detached).
pub fn drain(limit: Duration) -> bool {
    let taken = {
        let mut reaper = REAPER.lock();
        CLOSED.store(true, Ordering::Release);
        reaper.take()
    };
    let Some(reaper) = taken else {
        return true;
    };
    let Reaper {
        handles,
        pending,
        thread,
    } = reaper;
    // With the sender gone the reaper ends once it has joined what it was handed.
    drop(handles);
    let joined = crate::clock::wait_until(limit, Duration::from_millis(1), || {
        pending.load(Ordering::Acquire) == 0
    });
    if joined {
        // Its loop has ended or is about to: the join waits only for its own exit.
        let _ = thread.join();
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test: the reaper is one per process, and `drain` closes it for good.
    #[test]
    fn handed_over_threads_are_joined_off_the_caller_and_drain_waits_for_them() {
        let (release, released) = crossbeam_channel::bounded::<()>(0);
        let ended = Arc::new(AtomicBool::new(false));
        let flag = ended.clone();
        let worker = std::thread::spawn(move || {
            let _ = released.recv();
            flag.store(true, Ordering::SeqCst);
        });
        // Returns while the thread still waits: it was not joined here.
        hand_over(worker);
        assert_eq!(
            pending(),
            1,
            "the handed-over thread is waiting to be joined"
        );
        assert!(!ended.load(Ordering::SeqCst));
        let (stuck_release, stuck_released) = crossbeam_channel::bounded::<()>(0);
        hand_over(std::thread::spawn(move || {
            let _ = stuck_released.recv();
        }));
        drop(release);
        assert!(crate::clock::wait_until(
            Duration::from_secs(30),
            Duration::from_millis(1),
            || ended.load(Ordering::SeqCst)
        ));
        // One thread does not end: drain gives up after its limit.
        assert!(
            !drain(Duration::from_millis(50)),
            "a stuck thread was reported joined"
        );
        drop(stuck_release);
        // After the drain a thread is detached, not handed to a new reaper.
        hand_over(std::thread::spawn(|| {}));
        assert_eq!(pending(), 0);
        assert!(drain(Duration::from_secs(1)));
    }
}
