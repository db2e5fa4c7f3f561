//! Holding back what Godot logs for a mod's calls once the mod made it log too much.
//!
//! A call Godot rejects logs an error (`get_child(99)` on a node with three children, an
//! absolute path from a node outside the tree, ...): a mod making such calls in a loop had
//! Godot write without end to the console and to the player's disk (`user://logs/godot.log` on
//! desktop). Each instance's object calls count the errors Godot logged during them (the
//! error watch, `error_watch.rs`, counts every error Godot logs) against its mod's allowance,
//! one for all the nodes that run the mod ([`allowance_of`]: per instance, a mod on a hundred
//! nodes made Godot log a hundred times as much); once a
//! mod caused [`LogBudget::LINES`] within a second, its further calls that second run with
//! Godot's error printing off (`Engine.print_error_messages`, restored after the call), and one
//! notice says so. The calls themselves fail as before. Errors another thread logs while such a
//! call runs are not printed either (the switch is Godot's, for the whole process).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use godot::classes::Engine;
use godot::prelude::*;
use wasgo_core::log_budget::LogBudget;

thread_local! {
    /// The allowance of each mod, by its id (main thread: object calls run there).
    static ALLOWANCES: std::cell::RefCell<std::collections::HashMap<String, Allowance>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// One mod's allowance of Godot errors, shared by the instances that run it.
pub type Allowance = std::rc::Rc<std::cell::RefCell<LogBudget>>;

/// The allowance of the mod `mod_id`, shared by every instance of it (as its console lines'
/// are, `script_delivery.rs`).
pub fn allowance_of(mod_id: &str) -> Allowance {
    ALLOWANCES.with(|all| {
        let mut all = all.borrow_mut();
        // Bounded: thousands of distinct mods is no game's; an allowance dropped here lives on
        // with the instances that hold it, and a new one starts for the next.
        if all.len() >= 4096 && !all.contains_key(mod_id) {
            all.clear();
        }
        all.entry(mod_id.to_string()).or_default().clone()
    })
}

/// Runs `f` (a call into Godot made for a mod) under the mod's `allowance`: Godot's error
/// printing off while it is spent, what Godot logged counted after, and the one notice naming
/// the node (`node`, asked only then) when that spends it.
pub fn within<R>(allowance: &Allowance, node: impl FnOnce() -> String, f: impl FnOnce() -> R) -> R {
    let before = logged();
    let result = {
        let _quiet = quiet_if_spent(&mut allowance.borrow_mut());
        f()
    };
    if count_since(&mut allowance.borrow_mut(), before) {
        notice(&node());
    }
    result
}

/// Errors and warnings Godot logged so far, on any thread (counted by the error watch). A
/// count, not a per-thread one: read twice around every object call, where a thread-local in a
/// shared library costs a function call each time. Another thread's error during a mod's call
/// counts for that mod.
static LOGGED: AtomicU64 = AtomicU64::new(0);

/// The bytes of their texts (as [`LOGGED`]).
static LOGGED_BYTES: AtomicU64 = AtomicU64::new(0);

/// From the error watch: Godot logged an error or warning of `bytes` bytes of text.
pub fn note_error(bytes: usize) {
    LOGGED.fetch_add(1, Ordering::Relaxed);
    LOGGED_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

/// What [`count_since`] compares with after a call: errors and their bytes logged so far.
pub fn logged() -> (u64, u64) {
    (
        LOGGED.load(Ordering::Relaxed),
        LOGGED_BYTES.load(Ordering::Relaxed),
    )
}

/// Before a call into Godot made for a mod whose allowance is `budget`: Godot's error printing
/// off for as long as the returned guard lives when the allowance is spent (the clock is read
/// only for a mod that already caused errors this second).
pub fn quiet_if_spent(budget: &mut LogBudget) -> Option<Quiet> {
    (budget.may_be_spent() && budget.is_spent(Instant::now())).then(Quiet::begin)
}

/// After the call: counts what Godot logged since `before` against `budget`; true when that
/// spends the allowance (the caller then prints [`notice`]).
pub fn count_since(budget: &mut LogBudget, before: (u64, u64)) -> bool {
    let (lines, bytes) = logged();
    let lines = lines.wrapping_sub(before.0);
    let bytes = bytes.wrapping_sub(before.1);
    lines > 0
        && budget.count(
            u32::try_from(lines).unwrap_or(u32::MAX),
            usize::try_from(bytes).unwrap_or(usize::MAX),
            Instant::now(),
        )
}

/// The one notice of a second in which the mod in the node named `node` spent its allowance.
pub fn notice(node: &str) {
    godot_warn!(
        "WasGo: the mod in `{node}` made Godot log {} errors (or {} KiB of them) within a second: \
         what its calls make Godot log is not printed for the rest of that second (the calls \
         fail as before; the mod's `last_error` says why)",
        LogBudget::LINES,
        LogBudget::BYTES / 1024
    );
}

/// Godot's error printing turned off for as long as this lives (restored also when the call
/// panics); a no-op when it was off already (an outer quiet call, or the game's choice).
pub struct Quiet {
    was_on: bool,
}

impl Quiet {
    fn begin() -> Quiet {
        let mut engine = Engine::singleton();
        let was_on = engine.is_printing_error_messages();
        if was_on {
            engine.set_print_error_messages(false);
        }
        Quiet { was_on }
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        if self.was_on {
            Engine::singleton().set_print_error_messages(true);
        }
    }
}
