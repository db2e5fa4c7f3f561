//! Time limits of wasm entries: the epoch callback every store runs at each tick, and the traps
//! it raises.
//!
//! - `main` runs under `main_timeout` (wall clock, optional).
//! - A main-thread entry runs under `callback_budget`, counted in the CPU time its thread
//!   actually spends, so a busy machine does not make a healthy mod overrun. The thread CPU clock
//!   is read only at epoch ticks: at the first tick of the entry (the time before it counts as
//!   CPU time, at most one tick unless a host call delays the first tick), and at each tick once
//!   the wall clock has passed the budget. An entry shorter than one tick never reads it. Reading
//!   the clock is a system call (measured at about 0.9 µs here, against 30 ns for
//!   `Instant::now`), too dear for every entry of a mod called thousands of times a frame. The
//!   wall clock of an entry is a [`Stamp`] (a third of `Instant::now()` where the processor's
//!   counter is trusted, see [`crate::clock`]).
//! - An entry whose CPU time passes the budget is an *overrun*. The first
//!   `budget_strikes - 1` overruns are let run up to the wall-clock backstop
//!   (`callback_budget * callback_wall_backstop_factor`) and reported afterwards as a
//!   `BudgetWarning` event with the figures; the next one traps at once. Any entry still running
//!   at the backstop traps, whatever its CPU time.
//! - An entry is charged only its own time: when the game calls another mod from inside a mod's
//!   call (a game function or a signal handler calling `call_export`), the nested entry's time,
//!   CPU and wall, is taken out of the outer entry's clock (the bridge's `EntryNesting`), so a mod that spins
//!   when the game calls it traps alone and the mod whose call led there goes on (a trap in one
//!   mod never stops another). The game's own code run from a mod's call stays the mod's time.

use crate::clock::Stamp;
use crate::error::{HostTrap, KilledTrap, TrapKind};
use crate::events::ModEvent;
use crate::state::{DeadlineKind, EntryClock, InstanceState};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use wasmtime::{Store, StoreContextMut, UpdateDeadline};

/// The nice value of WasGo's background threads (mods' `main`s, compiles): below the game's
/// threads, so that however many mods spin, the main thread (its frames, `kill()`) gets a core
/// when it needs one.
pub const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority to [`BACKGROUND_NICE`] (Linux; elsewhere
/// nothing). A failure only leaves the priority as it was.
pub fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: `gettid` has no preconditions and returns the calling thread's id;
    // `setpriority(PRIO_PROCESS, tid, ..)` then changes only that thread's nice value (raising it
    // needs no privilege), and its result is not relied on.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, BACKGROUND_NICE);
    }
}

/// CPU time the calling thread has used (wall time where the platform has no thread clock).
pub fn thread_cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `timespec` for the duration of the call, and
        // CLOCK_THREAD_CPUTIME_ID is supported on every Unix WasGo builds for (Linux, macOS).
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 {
            return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    thread_local! {
        static START: Instant = Instant::now();
    }
    START.with(|s| s.elapsed())
}

impl EntryClock {
    /// Moves the clock's start, backstop and CPU base forward by the time entries nested in this
    /// one took since it last looked (`total`: the main thread's total of nested time, see
    /// `EntryNesting`), so that only this entry's own time is charged.
    fn take_out_nested(&mut self, total: u64) {
        let grown = total.wrapping_sub(self.nested_seen);
        if grown == 0 {
            return;
        }
        self.nested_seen = total;
        let nested = Duration::from_nanos(grown);
        self.start = self.start.after(nested);
        self.backstop = self.backstop.after(nested);
        if let Some((cpu_at_tick, before_tick)) = self.cpu_base {
            self.cpu_base = Some((cpu_at_tick + nested, before_tick));
        }
    }
}

/// Arms the limits of one entry and the epoch deadline one tick ahead. `export` names the entry
/// for the budget warning; `now` is when the entry began (an owner that reads the clock for its
/// own accounting passes its reading, so an entry costs one clock read less); `ticks` is the
/// epoch ticker's count now ([`EpochTicker::ticks`](crate::ticker::EpochTicker::ticks)).
pub(crate) fn arm(
    store: &mut Store<InstanceState>,
    kind: DeadlineKind,
    export: &str,
    now: Stamp,
    ticks: u64,
) {
    let state = store.data_mut();
    state.on_main_thread = state.hosts.bridge.on_main_thread();
    // A result kept for a retry answers only the retry right after its call, in the same entry.
    if state.stash.is_some() {
        state.stash = None;
    }
    match kind {
        DeadlineKind::Callback => {
            let budget = state.limits.callback_budget;
            state.main_deadline = None;
            // Set in place, the name copied into the clock (`EntryName`): no allocation and no
            // copy of the clock per call. The deadline is the clock's (`InstanceState::deadline`).
            let backstop = now.after(state.limits.callback_backstop());
            let clock = &mut state.clock;
            clock.armed = true;
            clock.export.set(export);
            clock.start = now;
            clock.budget = budget;
            clock.backstop = backstop;
            clock.began = now;
            clock.cpu_base = None;
            clock.overran = false;
            clock.ticks_at_arm = ticks;
            clock.ticks_checked = crate::ticker::ANY_TICKS.load(Ordering::Relaxed);
            if state.on_main_thread {
                let nesting = &state.hosts.bridge.nesting;
                let depth = nesting.depth.load(Ordering::Relaxed);
                nesting
                    .depth
                    .store(depth.saturating_add(1), Ordering::Relaxed);
                clock.depth = depth;
                clock.nested_seen = nesting.nested_ns.load(Ordering::Relaxed);
                // The chain's hard stop counts from the outermost entry's start
                // (`refuse_past_chain_stop`).
                if depth == 0 {
                    nesting.outer_began.store(now.to_raw(), Ordering::Relaxed);
                }
            }
        }
        DeadlineKind::Main => {
            state.main_deadline = state.limits.main_timeout.map(|d| now.to_instant() + d);
            state.clock.armed = false;
        }
    }
    store.set_epoch_deadline(1);
}

/// Ends an entry's limits; reports an overrun that was let finish as a `BudgetWarning`.
///
/// The epoch checks run only while wasm runs, so an entry whose last act is a long host call
/// (60 MB of output lines, a huge random fill) met none after it: when ticks passed during the
/// entry (`ticks` is the ticker's count now), its time is checked here as an epoch tick would
/// have, and the trap that tick would have raised is returned for a completed entry (the caller
/// fails the entry with it). The trap comes boxed: every entry returns through here, almost
/// always with none, and one word returns in a register where the trap itself was copied
/// through the stack (BENCHMARKS.md, twenty-ninth pass).
#[must_use = "a trap returned here ends the instance"]
pub(crate) fn disarm(
    store: &mut Store<InstanceState>,
    completed: bool,
    ticks: u64,
) -> Option<Box<HostTrap>> {
    let state = store.data_mut();
    state.main_deadline = None;
    if !state.clock.armed {
        return None;
    }
    if state.on_main_thread {
        let nesting = &state.hosts.bridge.nesting;
        state
            .clock
            .take_out_nested(nesting.nested_ns.load(Ordering::Relaxed));
        let depth = nesting.depth.load(Ordering::Relaxed);
        nesting
            .depth
            .store(depth.saturating_sub(1), Ordering::Relaxed);
        if state.clock.depth > 0 {
            // This entry ran inside another: its own time (its start was moved past what was
            // nested in it) comes out of the outer entry's clock.
            let own = Stamp::now().duration_since(state.clock.start);
            let own = u64::try_from(own.as_nanos()).unwrap_or(u64::MAX);
            let total = nesting.nested_ns.load(Ordering::Relaxed);
            nesting
                .nested_ns
                .store(total.wrapping_add(own), Ordering::Relaxed);
        }
    }
    let mut trap = None;
    if completed && ticks.wrapping_sub(state.clock.ticks_at_arm) > 1 {
        trap = late_check(state).map(Box::new);
    }
    let clock = &mut state.clock;
    clock.armed = false;
    if clock.overran && completed && trap.is_none() {
        let wall = clock.start.elapsed();
        let warning = ModEvent::BudgetWarning {
            export: clock.export.as_str().to_string(),
            cpu_ms: cpu_used(clock, Stamp::now()).as_millis() as u64,
            wall_ms: wall.as_millis() as u64,
            budget_ms: clock.budget.as_millis() as u64,
            strikes: state.strikes,
        };
        state.emit(warning);
    }
    trap
}

/// What an epoch tick at the end of a completed entry finds: the backstop passed (a trap), or
/// the budget passed (a strike, a trap at the last).
fn late_check(state: &mut InstanceState) -> Option<HostTrap> {
    let now = Stamp::now();
    let clock = &mut state.clock;
    if now >= clock.backstop {
        return Some(backstop_trap(state, now));
    }
    if hard_stop_passed(clock, &state.limits, now) {
        return Some(hard_stop_trap(state, now));
    }
    if clock.overran || now < clock.start.after(clock.budget) {
        return None;
    }
    if clock.cpu_base.is_none() {
        // No tick was seen inside wasm: the whole entry counts as CPU time, as at a first tick.
        clock.cpu_base = Some((thread_cpu_time(), now.duration_since(clock.start)));
    }
    if cpu_used(clock, now) < clock.budget {
        return None;
    }
    state.strikes += 1;
    if state.strikes >= state.limits.budget_strikes {
        return Some(deadline_trap(state, DeadlineKind::Callback));
    }
    state.clock.overran = true;
    None
}

/// The entry's CPU time so far; only called once `cpu_base` is set.
fn cpu_used(clock: &EntryClock, now: Stamp) -> Duration {
    match clock.cpu_base {
        Some((cpu_at_tick, before_tick)) => {
            thread_cpu_time().saturating_sub(cpu_at_tick) + before_tick
        }
        None => now.duration_since(clock.start),
    }
}

/// The epoch callback of every store: stop on kill or when the entry's limit is passed, else
/// re-arm for the next tick.
pub(crate) fn on_epoch(
    mut ctx: StoreContextMut<'_, InstanceState>,
) -> wasmtime::Result<UpdateDeadline> {
    let state = ctx.data_mut();
    if state.kill.is_killed() {
        return Err(wasmtime::Error::new(KilledTrap));
    }
    check_time(state, Stamp::now()).map_err(HostTrap::into_error)?;
    Ok(UpdateDeadline::Continue(1))
}

/// After a host call into the game returns: the entry's time limits, as at an epoch check. A
/// function made of host calls and no loop meets no epoch check: its calls held the main thread
/// as long as they took, past the callback budget and its backstop (judged only once the
/// function returned), or ran `main` past its timeout. One clock read while the entry's wall
/// time is within its budget (its CPU time is then too).
pub(crate) fn after_host_call(state: &mut InstanceState) -> wasmtime::Result<()> {
    if state.clock.armed {
        let now = Stamp::now();
        if now < state.clock.start.after(state.clock.budget) {
            return Ok(());
        }
        return check_time(state, now).map_err(HostTrap::into_error);
    }
    if state.main_deadline.is_none() {
        return Ok(());
    }
    check_time(state, Stamp::now()).map_err(HostTrap::into_error)
}

/// [`after_host_call`] for the property calls that run on the main thread directly (`set`,
/// `get` and the typed fast paths): a setter may run game code (a slider's `value` emits
/// `value_changed` to the game's handler), yet these are too hot to read the clock at every call.
/// While no epoch tick has passed since the entry was armed or last checked here (under a
/// millisecond) the entry is within its limits: one relaxed load and a compare. So the clock is
/// read at most once a tick however many calls an entry makes (a loop of a million `set_vec2`
/// in one call read it at every call after its first millisecond), and still after every call
/// that took a tick or more (a setter whose game handler is slow).
#[inline]
pub(crate) fn after_direct_call(state: &mut InstanceState) -> wasmtime::Result<()> {
    let ticks = crate::ticker::ANY_TICKS.load(Ordering::Relaxed);
    if !tick_passed(&mut state.clock.ticks_checked, ticks) {
        return Ok(());
    }
    after_host_call(state)
}

/// Whether the tick count `now` differs from the one last `seen` (which becomes `now`): true
/// once per tick, however often it is asked.
#[inline]
fn tick_passed(seen: &mut u64, now: u64) -> bool {
    if *seen == now {
        return false;
    }
    *seen = now;
    true
}

/// The entry's time limits at `now`: the callback budget (a strike, then a trap), its
/// wall-clock backstop and the hard stop on the main thread, `main`'s timeout on the worker.
fn check_time(state: &mut InstanceState, now: Stamp) -> Result<(), HostTrap> {
    if state.clock.armed {
        let clock = &mut state.clock;
        if state.on_main_thread {
            clock.take_out_nested(state.hosts.bridge.nesting.nested_ns.load(Ordering::Relaxed));
        }
        if clock.cpu_base.is_none() {
            clock.cpu_base = Some((thread_cpu_time(), now.duration_since(clock.start)));
        }
        if now >= clock.backstop {
            return Err(backstop_trap(state, now));
        }
        if hard_stop_passed(clock, &state.limits, now) {
            return Err(hard_stop_trap(state, now));
        }
        if !clock.overran && now >= clock.start.after(clock.budget) {
            let cpu = cpu_used(clock, now);
            if cpu >= clock.budget {
                state.strikes += 1;
                if state.strikes >= state.limits.budget_strikes {
                    return Err(deadline_trap(state, DeadlineKind::Callback));
                }
                state.clock.overran = true;
            }
        }
    } else if let Some(deadline) = state.main_deadline {
        if Instant::now() >= deadline {
            return Err(deadline_trap(state, DeadlineKind::Main));
        }
    }
    Ok(())
}

/// The trap of an entry that ran into the wall-clock backstop.
fn backstop_trap(state: &InstanceState, now: Stamp) -> HostTrap {
    let clock = &state.clock;
    let (wall, cpu) = if clock.armed {
        (now.duration_since(clock.start), cpu_used(clock, now))
    } else {
        Default::default()
    };
    HostTrap::new(
        TrapKind::CallbackBudget,
        format!(
            "`{}` overran its callback budget of {} ms on the main thread: still running after {} ms of wall-clock time ({} ms of CPU time), {}x the budget (raise `wasgo/limits/callback_budget_ms`, or move long work into `main`)",
            state.name,
            state.limits.callback_budget.as_millis(),
            wall.as_millis(),
            cpu.as_millis(),
            state.limits.callback_wall_backstop_factor.max(1)
        ),
    )
}

/// How long an entry may hold the main thread, the mods the game called from inside it counted
/// ([`crate::state::EntryClock::began`]).
fn hard_limit(limits: &crate::limits::Limits) -> Duration {
    limits
        .callback_backstop()
        .checked_mul(crate::state::NESTED_BACKSTOP_FACTOR)
        .unwrap_or(Duration::MAX)
}

/// The refusal of an entry nested in others on the main thread once the outermost of them has
/// held it past [`hard_limit`] (`now` - the outermost's start): each level's own hard stop
/// counted from its own start, so a chain of calls, each returning just within it, held the
/// main thread for as many hard stops as it had levels. The mod asked for is not entered, so
/// the calls return to the outermost one, which is stopped at its next check.
pub(crate) fn refuse_past_chain_stop(
    state: &InstanceState,
    name: &str,
    depth: u32,
) -> Result<(), crate::error::WasgoError> {
    if depth == 0 {
        return Ok(());
    }
    let nesting = &state.hosts.bridge.nesting;
    let began = Stamp::from_raw(nesting.outer_began.load(Ordering::Relaxed));
    let held = Stamp::now().duration_since(began);
    let limit = hard_limit(&state.limits);
    if held < limit {
        return Ok(());
    }
    Err(crate::error::WasgoError::ChainTooLong {
        name: name.to_string(),
        held_ms: held.as_millis(),
        limit_ms: limit.as_millis(),
    })
}

/// Whether the entry has held the main thread past [`hard_limit`] (checked at epoch ticks).
fn hard_stop_passed(
    clock: &crate::state::EntryClock,
    limits: &crate::limits::Limits,
    now: Stamp,
) -> bool {
    now.duration_since(clock.began) >= hard_limit(limits)
}

/// The trap of an entry that, with the mods the game called from inside it, held the main thread
/// past [`hard_limit`].
fn hard_stop_trap(state: &InstanceState, now: Stamp) -> HostTrap {
    let clock = &state.clock;
    let limit = hard_limit(&state.limits);
    let own = now.duration_since(clock.start);
    HostTrap::new(
        TrapKind::CallbackBudget,
        format!(
            "`{}`'s call `{}` held the main thread past {} ms, counting the calls into other mods the game made from inside it ({} ms of its own): each stayed within its budget, but together they would freeze the game (call other mods fewer times per call, or move the work into `main`)",
            state.name,
            clock.export.as_str(),
            limit.as_millis(),
            own.as_millis()
        ),
    )
}

/// The trap raised when an entry overruns its time limit.
pub(crate) fn deadline_trap(state: &InstanceState, kind: DeadlineKind) -> HostTrap {
    match kind {
        DeadlineKind::Callback => HostTrap::new(
            TrapKind::CallbackBudget,
            format!(
                "`{}` overran its callback budget of {} ms on the main thread{} (raise `wasgo/limits/callback_budget_ms`, or move long work into `main`)",
                state.name,
                state.limits.callback_budget.as_millis(),
                if state.strikes > 1 {
                    format!(", for the {} time", ordinal(state.strikes))
                } else {
                    String::new()
                }
            ),
        ),
        DeadlineKind::Main => HostTrap::new(
            TrapKind::MainTimeout,
            format!(
                "`{}` ran `main` longer than its timeout of {} ms (raise `main_timeout_ms` on the node or `wasgo/limits/main_timeout_ms`; 0 means no limit)",
                state.name,
                state.limits.main_timeout.map(|d| d.as_millis()).unwrap_or(0)
            ),
        ),
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_grows_with_work_and_not_with_sleep() {
        let t0 = thread_cpu_time();
        std::thread::sleep(Duration::from_millis(30));
        let slept = thread_cpu_time() - t0;
        let t1 = thread_cpu_time();
        let mut x = 0u64;
        while thread_cpu_time() - t1 < Duration::from_millis(5) {
            x = x.wrapping_add(1);
        }
        assert!(x > 0);
        assert!(
            slept < Duration::from_millis(20),
            "sleeping used {slept:?} of CPU"
        );
    }

    #[test]
    fn a_direct_call_checks_the_time_once_a_tick() {
        // As an entry armed at tick 7 sees it: a million calls over three ticks check three
        // times (the gate compared with the tick of the arm checked at every call after it).
        let mut seen = 7;
        let mut checks = 0;
        for call in 0..1_000_000u64 {
            let now = 7 + call / 300_000;
            if super::tick_passed(&mut seen, now) {
                checks += 1;
            }
        }
        assert_eq!(checks, 3);
        // A slow call that took a tick or more is checked after it.
        assert!(super::tick_passed(&mut seen, 11));
        assert!(!super::tick_passed(&mut seen, 11));
    }

    #[test]
    fn ordinals_read_naturally() {
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(21), "21st");
    }
}
