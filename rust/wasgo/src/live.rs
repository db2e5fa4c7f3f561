//! The scripts that have an instance, the frame driver that runs their `process` and
//! `physics_process`, and the frame budget shared by all mods. Main thread only.
//!
//! Frame callbacks do not come through gdext's `INode::process` virtuals (which hold a
//! `bind_mut()` of the node while the mod runs; see `script_core.rs`): one Callable connected to
//! the SceneTree's `process_frame` and one to its `physics_frame` call every live script, with
//! the node's own delta, when the node would process (`is_processing()`, `can_process()`, so
//! `set_process(false)` and pausing work as for any node). A script with a `process_group` then
//! runs its group pass (`process_node` for each node of the group, `script_group.rs`) under the
//! same checks, right after its own export.
//!
//! # The frame budget
//!
//! `wasgo/limits/frame_budget_ms` bounds the time all mods' main-thread callbacks (process,
//! physics_process, native_callback, http_response) take together in one frame. Once it is spent,
//! signal callbacks and HTTP answers wait for the next frame (in order; their queues are bounded),
//! and the `process` calls of the remaining mods are skipped this frame — not queued: they run
//! next frame, and the next frame starts with the mods skipped now (round robin). A mod whose own
//! callbacks take more than [`OVERRUN_FACTOR`] times the budget frame after frame is warned about after
//! [`OVERRUN_WARN_FRAMES`] such frames in a row and killed after [`OVERRUN_KILL_FRAMES`] (a frame
//! under it counts half a frame back, so a mod over it in more than a third of its frames is
//! caught too). Once the budget is spent, one script with deliveries waiting still gets one
//! delivery a frame, the scripts taking turns ([`BudgetRef::may_deliver`]): a mod taking the whole
//! budget in `process` cannot starve the mods that live on callbacks, and many mods' slow
//! callbacks cannot add up past the budget (a grace for every script made every frame as long
//! as all of their callbacks).
//!
//! The list is a slab: a script knows its slot, so adding and removing are O(1).

use crate::settings;
use crate::state::{self, Part};
use godot::classes::{Engine, Node, SceneTree};
use godot::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use wasgo_catalog::abi::export;
use wasgo_core::clock::{Span, Stamp};
use wasgo_core::frame_overrun::{Overrun, OverrunTally};
use wasgo_core::prefetch::HotAddresses;

/// A mod overruns in a frame when its callbacks take more than this many whole frame budgets
/// (a backlog of callbacks is delivered up to the budget plus one callback, which is not one).
pub const OVERRUN_FACTOR: u32 = 2;
/// Frames in a row a mod may take more than the whole frame budget before it is warned about.
pub const OVERRUN_WARN_FRAMES: u32 = OverrunTally::WARN_FRAMES;
/// Frames in a row a mod may take more than the whole frame budget before it is killed.
pub const OVERRUN_KILL_FRAMES: u32 = OverrunTally::KILL_FRAMES;

/// What the list needs of a script (implemented by `script_core::ScriptCore`, which sits above
/// this module).
pub trait LiveScript {
    /// Where the script sits in the list (`None` when it is not in it).
    fn live_slot(&self) -> &Cell<Option<usize>>;
    /// Whether the mod would run `export` now (alive, `main` not running, the export exists):
    /// checked before anything else, so a mod without `process` costs no engine call per frame.
    fn runs_frame_export(&self, export: &str) -> bool;
    /// Whether the script may run anything in a frame: its instance exports `process` or
    /// `physics_process`, or it has a `process_group`. A script that answers false is not
    /// visited by the frame driver at all (its list entry says so; see [`refresh`]); a stale
    /// true only costs a visit that [`LiveScript::runs_frame_export`] turns down.
    fn wants_frames(&self) -> bool;
    /// Whether the script must be delivered for every frame even when nothing was raised (a
    /// Go-js program, whose timers fall due with time).
    fn delivers_every_frame(&self) -> bool;
    /// The node, for its processing flags and delta (`None` once it is freed).
    fn frame_node(&self) -> Option<Gd<Node>>;
    /// The node's name, for messages.
    fn name(&self) -> String;
    /// Runs the mod's `process` or `physics_process` export with `delta`.
    fn run_frame(self: Rc<Self>, export: &str, delta: f64);
    /// Whether the script has a `process_group` (its pass runs after the export, if any).
    fn runs_group_pass(&self) -> bool;
    /// Runs the `process_group` pass (`script_group.rs`) after the frame export.
    fn run_group_pass(self: Rc<Self>, physics: bool, delta: f64);
    /// Delivers what the mod raised (events, callbacks, HTTP answers).
    fn deliver(self: Rc<Self>);
    /// Ends the mod as trapped with `message` (the frame budget's overrun) and delivers its
    /// `trapped`.
    fn end_trapped(self: Rc<Self>, message: &str);
    /// Kills the mod with `reason` for a stop the game asked for (`WasmEngine.kill_all()`):
    /// the mod stays stopped when its file changes.
    fn end_for_game(self: Rc<Self>, reason: &str);
    /// What entering the script's instance touches first (none without an instance): the frame
    /// driver prefetches it while the script before runs ([`prefetch_ahead`]).
    fn hot_addresses(&self) -> HotAddresses;
    /// The script's own main-thread time so far, all entries together (the mods the game
    /// called from inside its entries not counted: theirs is their own).
    fn own_time(&self) -> Span;
}

/// The time one frame's mod callbacks have taken.
pub struct FrameBudget {
    /// The frame's budget (`wasgo/limits/frame_budget_ms`). This and the other times here are
    /// spans, the clock's own units: an entry adds to them with integer work only.
    limit: Cell<Span>,
    /// What this frame's mod callbacks have taken so far.
    spent: Cell<Span>,
    /// Entries being measured (a nested entry, one mod calling another, is counted once).
    nesting: Cell<u32>,
    /// The time of nested entries so far, each counted once (its own nested entries taken
    /// out): what a measure subtracts from its own time, so each mod is charged its own.
    nested: Cell<Span>,
    /// The once-a-frame delivery round lets one script with something waiting make one delivery
    /// even when the budget is spent (see [`pump_all`]): set before a script's turn while no
    /// script took it this frame, taken by its first delivery.
    grace: Cell<bool>,
    /// A delivery this frame went through on the grace, with the budget spent: no other script
    /// gets one until the next frame.
    grace_taken: Cell<bool>,
    /// The last delivery allowed began with room in the budget (see `may_deliver`).
    last_had_room: Cell<bool>,
}

impl Default for FrameBudget {
    fn default() -> FrameBudget {
        FrameBudget {
            limit: Cell::new(Span::of(Duration::from_millis(
                settings::DEFAULT_FRAME_BUDGET_MS as u64,
            ))),
            spent: Cell::new(Span::ZERO),
            nesting: Cell::new(0),
            nested: Cell::new(Span::ZERO),
            grace: Cell::new(false),
            grace_taken: Cell::new(false),
            last_had_room: Cell::new(false),
        }
    }
}

impl FrameBudget {
    /// Whether this frame's mod callbacks may go on.
    pub fn has_room(&self) -> bool {
        self.spent.get() < self.limit.get()
    }

    fn spent(&self) -> Span {
        self.spent.get()
    }

    fn next_frame(&self, limit: Duration) {
        self.limit.set(Span::of(limit));
        self.spent.set(Span::ZERO);
        self.grace_taken.set(false);
        self.last_had_room.set(false);
    }
}

struct Entry {
    core: Weak<dyn LiveScript>,
    /// [`LiveScript::wants_frames`] when the script was added or last refreshed: the frame
    /// driver visits only these, so an idle script costs it nothing (not even a look at its
    /// core, which lives elsewhere in memory).
    frames: bool,
    /// [`LiveScript::delivers_every_frame`] when the script was added.
    every_frame: bool,
    /// How much of late this script took more than [`OVERRUN_FACTOR`] whole budgets.
    overruns: OverrunTally,
    /// Time this script's callbacks took this frame.
    spent: Span,
}

#[derive(Default)]
struct Live {
    slots: Vec<Option<Entry>>,
    /// The activity counts (`wasgo_core::events::activity`, the outbox's posts) when the last
    /// delivery round began.
    delivered_at: Option<(u64, u64)>,
    free: Vec<usize>,
    /// Where the next frame's `process` round starts (round robin under the budget).
    next_start: usize,
    /// Where the next `physics_process` round starts (its own round robin: with two physics
    /// ticks a frame, the first mod's took the budget every frame and the others never ran).
    next_physics_start: usize,
    /// The last `process` round found the budget spent before any mod's turn (the physics
    /// rounds had taken it): the next frame's physics rounds stand aside for it, so mods'
    /// `physics_process` cannot keep every `process` from running.
    process_starved: bool,
    /// The slot the next delivery round starts from: the one after the script that last had a
    /// delivery on the grace, so that the grace goes round the scripts in turn.
    grace_from: usize,
    hooked: bool,
}

/// The live scripts and the frame budget (`state.rs`'s `live` part; formerly the
/// thread-locals `LIVE` and `BUDGET`).
#[derive(Default)]
pub struct LiveState {
    live: RefCell<Live>,
    /// Shared with the cores that cache it ([`BudgetRef`]), so an entry finds it without a
    /// look into the state.
    budget: Rc<FrameBudget>,
}

impl Part for LiveState {}

fn with_live<R>(f: impl FnOnce(&RefCell<Live>) -> R) -> Option<R> {
    state::with_part(|s| &s.live, |l: &LiveState| f(&l.live))
}

/// The frame budget (main thread); a handle on none while WasGo is stopped or off the main
/// thread (no mod runs then), which measures without counting.
pub fn frame_budget() -> BudgetRef {
    BudgetRef(state::with_part(
        |s| &s.live,
        |l: &LiveState| l.budget.clone(),
    ))
}

/// A handle on the main thread's [`FrameBudget`]. A core keeps one (`ScriptCore::budget`) so
/// that its entries reach the budget without a look into the main-thread state.
#[derive(Clone)]
pub struct BudgetRef(Option<Rc<FrameBudget>>);

impl BudgetRef {
    /// Measures `f` (a nested measure is counted once in the frame's total) and returns its
    /// result with the time it took itself: the time of measures nested in it (the game calling
    /// another mod from inside this one's call) is the nested mods', not this one's. `f` gets
    /// the clock reading the measure starts from (an entry arms its callback budget from it
    /// instead of reading the clock again). The state is not lent while `f` runs.
    pub fn measure<R>(&self, f: impl FnOnce(Stamp) -> R) -> (R, Span) {
        let (outermost, nested_before) = match &self.0 {
            Some(b) => {
                let outer = b.nesting.get() == 0;
                b.nesting.set(b.nesting.get() + 1);
                (outer, b.nested.get())
            }
            None => (false, Span::ZERO),
        };
        let start = Stamp::now();
        let r = f(start);
        let took = Stamp::now().span_since(start);
        let Some(b) = &self.0 else {
            return (r, took);
        };
        b.nesting.set(b.nesting.get().saturating_sub(1));
        let own = took.saturating_sub(b.nested.get().saturating_sub(nested_before));
        if outermost {
            b.spent.set(b.spent.get().saturating_add(took));
            b.nested.set(Span::ZERO);
        } else {
            b.nested.set(b.nested.get().saturating_add(own));
        }
        (r, own)
    }

    /// Whether an entry being measured now is inside another's measure (the game called a mod
    /// from inside another mod's call).
    pub fn is_nested(&self) -> bool {
        self.0.as_deref().is_some_and(|b| b.nesting.get() > 0)
    }

    /// Whether this handle reaches the budget (made on the main thread while WasGo runs).
    pub fn is_connected(&self) -> bool {
        self.0.is_some()
    }

    pub fn has_room(&self) -> bool {
        self.0.as_deref().is_none_or(FrameBudget::has_room)
    }

    /// Whether one more delivery (a signal callback, an HTTP answer, a Go-js timer round) may
    /// run now: the budget has room, or this is the script's first delivery in the frame's
    /// delivery round and no other script had one on the grace this frame (see [`pump_all`]:
    /// else one mod whose `process` takes the whole budget every frame starved every mod living
    /// on callbacks, and with a grace for every script, N mods' slow callbacks made every frame
    /// N callbacks long).
    pub fn may_deliver(&self) -> bool {
        // The grace goes with the first delivery, whether the budget had room for it or not.
        self.0.as_deref().is_none_or(|b| {
            // The delivery before this one began with room and ran the budget out: it was the
            // frame's one delivery past the budget (in a script's own pump after its `process`
            // too, not only in the delivery round), so no grace follows it.
            if b.last_had_room.replace(false) && !b.has_room() {
                b.grace_taken.set(true);
            }
            let grace = b.grace.replace(false);
            if b.has_room() {
                b.last_had_room.set(true);
                return true;
            }
            if grace && !b.grace_taken.get() {
                b.grace_taken.set(true);
                return true;
            }
            false
        })
    }

    /// Gives the script whose turn comes next its one delivery (see [`Self::may_deliver`]),
    /// unless a script had one on the grace this frame.
    fn grant_grace(&self, on: bool) {
        if let Some(b) = self.0.as_deref() {
            b.grace.set(on && !b.grace_taken.get());
        }
    }

    /// Marks the frame's one delivery past the budget as made.
    fn take_grace(&self) {
        if let Some(b) = self.0.as_deref() {
            b.grace_taken.set(true);
        }
    }

    /// Whether a delivery this frame went through on the grace (the budget spent).
    fn grace_taken(&self) -> bool {
        self.0.as_deref().is_some_and(|b| b.grace_taken.get())
    }

    /// What is left of this frame's budget (zero once it is spent).
    pub fn remaining(&self) -> Duration {
        self.limit().saturating_sub(self.spent()).to_duration()
    }

    /// What this frame's mod callbacks have taken so far, in the clock's units (differences
    /// are taken per node).
    pub fn spent(&self) -> Span {
        self.0
            .as_deref()
            .map(FrameBudget::spent)
            .unwrap_or_default()
    }

    fn limit(&self) -> Span {
        self.0.as_ref().map_or_else(
            || {
                Span::of(Duration::from_millis(
                    settings::DEFAULT_FRAME_BUDGET_MS as u64,
                ))
            },
            |b| b.limit.get(),
        )
    }

    fn next_frame(&self) {
        // Read before the state is lent: reading a setting is a call into Godot.
        let ms = settings::positive(settings::FRAME_BUDGET_MS, settings::DEFAULT_FRAME_BUDGET_MS);
        let limit = Duration::from_millis(ms as u64);
        if let Some(b) = &self.0 {
            b.next_frame(limit);
        }
    }
}

/// Adds a script (O(1); a script already in the list stays where it is).
pub fn add(core: Rc<dyn LiveScript>) {
    hook_frames();
    if core.live_slot().get().is_some() {
        // Already listed (a new instance in the same node): its exports may differ.
        refresh(&*core);
        return;
    }
    let entry = Entry {
        core: Rc::downgrade(&core),
        frames: core.wants_frames(),
        every_frame: core.delivers_every_frame(),
        overruns: OverrunTally::default(),
        spent: Span::ZERO,
    };
    let index = with_live(|l| {
        let mut l = l.borrow_mut();
        match l.free.pop() {
            Some(i) => {
                l.slots[i] = Some(entry);
                i
            }
            None => {
                l.slots.push(Some(entry));
                l.slots.len() - 1
            }
        }
    });
    if let Some(index) = index {
        core.live_slot().set(Some(index));
    }
}

/// How many scripts the frame driver visits (each frame walks exactly these).
pub fn count() -> usize {
    with_live(|l| l.borrow().slots.len() - l.borrow().free.len()).unwrap_or(0)
}

/// Removes the script whose slot is `slot` (O(1)); nothing when it is not in the list.
pub fn remove(slot: &Cell<Option<usize>>) {
    let Some(index) = slot.take() else {
        return;
    };
    with_live(|l| {
        let mut l = l.borrow_mut();
        if l.slots.get(index).is_some_and(|s| s.is_some()) {
            l.slots[index] = None;
            l.free.push(index);
        }
    });
}

/// Asks the script again whether it wants frames ([`LiveScript::wants_frames`]); call it when
/// the answer may have changed while it is in the list (its `process_group` was set).
pub fn refresh(core: &dyn LiveScript) {
    let Some(index) = core.live_slot().get() else {
        return;
    };
    let frames = core.wants_frames();
    let every_frame = core.delivers_every_frame();
    with_live(|l| {
        if let Some(Some(entry)) = l.borrow_mut().slots.get_mut(index) {
            entry.frames = frames;
            entry.every_frame = every_frame;
        }
    });
}

fn snapshot() -> Vec<(usize, Rc<dyn LiveScript>)> {
    snapshot_where(|_| true)
}

/// The live scripts whose entry passes `keep`, with their slots.
fn snapshot_where(keep: impl Fn(&Entry) -> bool) -> Vec<(usize, Rc<dyn LiveScript>)> {
    with_live(|l| {
        l.borrow()
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let entry = s.as_ref().filter(|e| keep(e))?;
                Some((i, entry.core.upgrade()?))
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Process frames the frame driver has seen begin (0 until it is connected to the SceneTree).
static PROCESS_FRAMES: AtomicU64 = AtomicU64::new(0);

/// A process-frame counter that costs no call into Godot: Godot's `Engine.get_process_frames()`
/// when the driver was connected plus the frames it has seen begin since, or 0 while it is not
/// connected yet (no mod has run).
pub fn process_frames() -> u64 {
    PROCESS_FRAMES.load(Ordering::Relaxed)
}

/// Connects the frame driver to the SceneTree once.
fn hook_frames() {
    if with_live(|l| l.borrow().hooked).unwrap_or(true) {
        return;
    }
    let Some(tree) = Engine::singleton()
        .get_main_loop()
        .and_then(|m| m.try_cast::<SceneTree>().ok())
    else {
        return;
    };
    let mut tree = tree;
    let process = Callable::from_fn("wasgo_process_frame", |_args: &[&Variant]| {
        run_frame_callbacks(false);
    });
    let physics = Callable::from_fn("wasgo_physics_frame", |_args: &[&Variant]| {
        run_frame_callbacks(true);
    });
    tree.connect("process_frame", &process);
    tree.connect("physics_frame", &physics);
    // Every event the game's window gets, before its controls: the keys pressed while the
    // player types (`typing::note_window_input`).
    if let Some(mut root) = tree.get_root() {
        let watch = Callable::from_fn("wasgo_window_input", |args: &[&Variant]| {
            if let Some(event) = args
                .first()
                .and_then(|v| v.try_to::<Gd<godot::classes::InputEvent>>().ok())
            {
                crate::typing::note_window_input(&event);
            }
        });
        root.connect("window_input", &watch);
    }
    // Counts on from Godot's counter, so that `frame_time` (which read Godot's until now) sees
    // no jump when it switches to this one.
    PROCESS_FRAMES.store(Engine::singleton().get_process_frames(), Ordering::Relaxed);
    with_live(|l| l.borrow_mut().hooked = true);
}

/// Calls every live script's `process` (or `physics_process`) while the frame budget lasts,
/// starting where the last frame's round stopped.
fn run_frame_callbacks(physics: bool) {
    if !physics {
        PROCESS_FRAMES.fetch_add(1, Ordering::Relaxed);
        // The main thread's callbacks share one hold on the epoch ticker; let go of it once per
        // frame, so the ticker sleeps when mods stop running (it is taken again by the next).
        if let Some(rt) = crate::runtime::runtime() {
            rt.release_main_ticker_hold();
        }
        // A game may make another node the current scene (the default reach) without any
        // other change to the tree, which raises no signal: compared once per frame.
        crate::reach::notice_current_scene();
        crate::objects::sweep_tween_targets();
    }
    let scripts = snapshot_where(|e| e.frames);
    if scripts.is_empty() {
        return;
    }
    let (next, starved) = with_live(|l| {
        let l = l.borrow();
        let next = if physics {
            l.next_physics_start
        } else {
            l.next_start
        };
        (next, l.process_starved)
    })
    .unwrap_or_default();
    if physics && starved {
        return;
    }
    let start = next % scripts.len();
    let export = if physics {
        export::PHYSICS_PROCESS
    } else {
        export::PROCESS
    };
    // Looked up once: the budget lives as long as the main-thread state.
    let budget = frame_budget();
    let mut ran_any = false;
    for offset in 0..scripts.len() {
        let (slot, core) = &scripts[(start + offset) % scripts.len()];
        prefetch_ahead(&scripts, start + offset);
        let runs_export = core.runs_frame_export(export);
        if !runs_export && !core.runs_group_pass() {
            continue;
        }
        let Some(node) = core.frame_node() else {
            continue;
        };
        let runs = if physics {
            node.is_physics_processing()
        } else {
            node.is_processing()
        };
        // Outside the tree (a game may take a node out and keep it) Godot neither processes a
        // node nor lets `can_process` be asked (an error per call).
        if !runs || !node.is_inside_tree() || !node.can_process() {
            continue;
        }
        if !budget.has_room() {
            // This mod, which would have run, goes first next time.
            end_round(physics, start + offset, !ran_any);
            return;
        }
        let delta = if physics {
            node.get_physics_process_delta_time()
        } else {
            node.get_process_delta_time()
        };
        drop(node);
        let before = core.own_time();
        ran_any = true;
        if runs_export {
            core.clone().run_frame(export, delta);
        }
        core.clone().run_group_pass(physics, delta);
        charge(*slot, core, core.own_time().saturating_sub(before));
    }
    end_round(physics, start, false);
}

/// Records where the next round of its kind starts, and for a `process` round whether it found
/// the budget spent before any mod's turn (`Live::process_starved`).
fn end_round(physics: bool, next: usize, starved: bool) {
    with_live(|l| {
        let mut l = l.borrow_mut();
        if physics {
            l.next_physics_start = next;
        } else {
            l.next_start = next;
            l.process_starved = starved;
        }
    });
}

/// Cache lines of a script's own state the frame driver prefetches: the fields a frame visit
/// reads (its slot, frame exports, instance, depth, budget, frame time) are spread over its
/// first few hundred bytes.
const SCRIPT_LINES: usize = 8;

/// Before the script at `at` (an index into `scripts`, taken modulo its length) runs: asks the
/// processor for the next script's instance state (whose script state this asked for one
/// script ago) and for the script state of the one after it. A thousand mods' frame visits each
/// began with several cache misses, and the first touch of each mod's memory walked page
/// tables no other mod shares (`wasgo_core::prefetch`); fetched ahead, they overlap with the
/// current mod's work.
fn prefetch_ahead(scripts: &[(usize, Rc<dyn LiveScript>)], at: usize) {
    let n = scripts.len();
    if n < 2 {
        return;
    }
    let far = &scripts[(at + 2) % n].1;
    let lines = std::mem::size_of_val(&**far)
        .div_ceil(wasgo_core::prefetch::LINE)
        .min(SCRIPT_LINES);
    wasgo_core::prefetch::prefetch_lines(Rc::as_ptr(far) as *const () as usize, lines);
    scripts[(at + 1) % n].1.hot_addresses().prefetch();
}

/// Adds `time` to the frame time of `core`, at `slot` (nothing when the script there is another
/// by now: a mod that freed its node and a game that started another `WasmScript` in the same
/// call hands the slot on, and the newcomer must not pay for the freed one).
fn charge(slot: usize, core: &Rc<dyn LiveScript>, time: Span) {
    with_live(|l| {
        if let Some(Some(e)) = l.borrow_mut().slots.get_mut(slot) {
            if std::ptr::addr_eq(e.core.as_ptr(), Rc::as_ptr(core)) {
                e.spent = e.spent.saturating_add(time);
            }
        }
    });
}

/// Adds `time` to the frame time of `core` for an entry outside the frame driver's rounds (an
/// input event), so that a mod taking too much of every frame that way is warned and killed
/// like one taking it in `process`.
pub fn charge_entry(core: &Rc<dyn LiveScript>, time: Span) {
    if let Some(slot) = core.live_slot().get() {
        charge(slot, core, time);
    }
}

/// Delivers every script's pending events and queued callbacks (once per frame), then closes the
/// frame's budget: reports mods that keep taking more than all of it.
pub fn pump_all() {
    // Nothing was raised anywhere since the last round began (no event, HTTP answer or outbox
    // post): only the scripts that deliver with time are visited, not every live script.
    let now = (wasgo_core::events::activity(), crate::objects::posts());
    let sweep =
        with_live(|l| l.borrow_mut().delivered_at.replace(now) != Some(now)).unwrap_or(true);
    let mut scripts = if sweep {
        snapshot()
    } else {
        snapshot_where(|e| e.every_frame)
    };
    // In slot order, from the slot after the last one that had a delivery on the grace: once
    // the budget is spent, one script a frame gets one, each in turn.
    let grace_from = with_live(|l| l.borrow().grace_from).unwrap_or(0);
    let first = scripts.partition_point(|(slot, _)| *slot < grace_from);
    scripts.rotate_left(first);
    let budget = frame_budget();
    for (slot, core) in scripts {
        let before = core.own_time();
        let graced_before = budget.grace_taken();
        let had_room = budget.has_room();
        budget.grant_grace(true);
        core.clone().deliver();
        budget.grant_grace(false);
        // A delivery that began with room and ran past the budget is the frame's one over it:
        // no grace after it (a grace then let two slow callbacks past the budget).
        if had_room && !budget.has_room() {
            budget.take_grace();
        }
        if !graced_before && budget.grace_taken() {
            with_live(|l| l.borrow_mut().grace_from = slot + 1);
        }
        charge(slot, &core, core.own_time().saturating_sub(before));
    }
    end_frame();
}

fn end_frame() {
    let limit = frame_budget().limit().to_duration();
    let mut to_kill = Vec::new();
    with_live(|l| {
        for entry in l.borrow_mut().slots.iter_mut().flatten() {
            let spent = std::mem::take(&mut entry.spent).to_duration();
            let ms = spent.as_secs_f64() * 1000.0;
            match entry.overruns.frame(spent > limit * OVERRUN_FACTOR) {
                Overrun::Fine => {}
                Overrun::Warn => godot_warn!(
                    "WasGo: `{}`'s callbacks took {ms:.1} ms this frame, more than {OVERRUN_FACTOR} times the frame budget of {} ms (`{}`), in most of its last frames ({OVERRUN_WARN_FRAMES} such frames in a row, or more spread out); it traps if it goes on ({OVERRUN_KILL_FRAMES} in a row)",
                    entry.core.upgrade().map(|c| c.name()).unwrap_or_default(),
                    limit.as_millis(),
                    settings::FRAME_BUDGET_MS
                ),
                Overrun::Kill => to_kill.push(entry.core.clone()),
            }
        }
    });
    for core in to_kill.iter().filter_map(Weak::upgrade) {
        let message = format!(
            "`{}` trapped: its callbacks took more than {OVERRUN_FACTOR} times the frame budget ({} ms, `{}`) in most of its frames for too long ({OVERRUN_KILL_FRAMES} such frames in a row, or more spread out: each frame under it counts half a frame back); make its `process` and callbacks cheaper, or raise the budget",
            core.name(),
            limit.as_millis(),
            settings::FRAME_BUDGET_MS
        );
        core.end_trapped(&message);
    }
    frame_budget().next_frame();
}

/// Kills every script's instance.
/// Kills every live mod for the game (`WasmEngine.kill_all()`, shutdown): a change of a
/// mod's file does not bring it back.
pub fn kill_all(reason: &str) {
    for (_, core) in snapshot() {
        core.end_for_game(reason);
    }
}
