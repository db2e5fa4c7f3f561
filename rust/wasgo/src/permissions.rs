//! Grants kept between runs (`user://wasgo/permissions.cfg`) and the dialog WasGo shows when a
//! mod asks for a permission and the game handles no `permission_requested`. The dialog answers
//! through the closure it is given; this module knows nothing of `WasmScript`.

use crate::own_ui;
use crate::settings;
use crate::state::{self, Part};
use godot::classes::control::FocusMode;
use godot::classes::node::{InternalMode, ProcessMode};
use godot::classes::{ConfirmationDialog, DisplayServer, Engine, InputEvent, SceneTree};
use godot::prelude::*;
use std::cell::RefCell;
use wasgo_core::grants::GrantStore;

/// Where grants are saved.
pub const GRANTS_FILE: &str = "user://wasgo/permissions.cfg";

/// The grants read from [`GRANTS_FILE`], opened on first use (`state.rs`'s `grants` part).
#[derive(Default)]
pub struct Grants(RefCell<Option<GrantStore>>);

impl Part for Grants {}

/// Runs `f` on the grants store (main thread; `None` when WasGo is stopped). `f` only touches
/// the store and the grants file, never Godot code that could come back here.
fn with_store<R>(f: impl FnOnce(&mut GrantStore) -> R) -> Option<R> {
    state::with_part(
        |s| &s.grants,
        |g: &Grants| {
            let mut slot = g.0.borrow_mut();
            let store = slot.get_or_insert_with(|| {
                let (store, problem) = GrantStore::open(settings::globalize(GRANTS_FILE).into());
                if let Some(problem) = problem {
                    godot_warn!("WasGo: {problem}; starting with no saved grants");
                }
                store
            });
            f(store)
        },
    )
}

/// The kinds saved for `mod_id`.
pub fn saved(mod_id: &str) -> Vec<String> {
    with_store(|s| s.kinds(mod_id)).unwrap_or_default()
}

/// Saves a grant (warning when the file cannot be written; the grant holds for this run).
pub fn save(mod_id: &str, kind: &str) {
    if let Some(Err(e)) = with_store(|s| s.grant(mod_id, kind)) {
        godot_warn!("WasGo: {e}");
    }
}

/// Removes a saved grant.
pub fn forget(mod_id: &str, kind: &str) {
    if let Some(Err(e)) = with_store(|s| s.revoke(mod_id, kind)) {
        godot_warn!("WasGo: {e}");
    }
}

/// Drops the in-memory copy (extension shutdown); the next use reads the file again.
pub fn close() {
    state::with_part(|s| &s.grants, |g: &Grants| g.0.borrow_mut().take());
    // Dialogs waiting for their turn (and one about to be shown) are in no tree: nothing else
    // would free them.
    let waiting: Vec<InstanceId> = DIALOGS.with(|d| {
        let mut d = d.borrow_mut();
        let shown = d.0.take();
        shown.into_iter().chain(d.1.drain(..)).collect()
    });
    for id in waiting {
        close_dialog(id);
    }
    ASKS.with(|a| a.borrow_mut().clear());
}

/// Whether WasGo can show a window (false in `--headless` runs).
pub fn has_display() -> bool {
    DisplayServer::singleton().get_name() != "headless"
}

/// What a permission lets a mod do, for the dialog.
fn power(kind: &str, mod_id: &str) -> String {
    match kind {
        "files" => format!(
            "read and write files in a folder of its own under user://mods/ (named after \u{201c}{mod_id}\u{201d})"
        ),
        "network" => "send HTTP requests to the web addresses this game allows".into(),
        other => format!("use the `{other}` permission"),
    }
}

/// Asks the player whether mod `mod_id` may have `kind` with WasGo's own dialog; `answer` gets
/// the reply once (true for Allow) and the dialog frees itself. Returns the dialog's id, or `None`
/// when there is no scene tree to show it in.
///
/// The dialog is out of every mod's reach: an internal child of the root window (never under a
/// mod's node), marked as WasGo's own UI so the object table refuses handles to it and to its
/// buttons. The answer depends only on which of the dialog's own signals fired (`confirmed` or
/// `canceled`, connected here), never on a button's text or name.
///
/// A mod chooses when it asks, and it can watch the player's input: asked while the player
/// mashes the jump key or clicks the middle of the screen, a dialog whose Allow had the focus
/// would be answered by a press meant for the game. So Deny has the focus, and Allow takes no
/// press until [`ALLOW_DELAY_S`] after the dialog appeared.
pub fn ask(mod_id: &str, kind: &str, answer: impl Fn(bool) + 'static) -> Option<InstanceId> {
    let tree = Engine::singleton()
        .get_main_loop()
        .and_then(|m| m.try_cast::<SceneTree>().ok())?;
    let root = tree.get_root()?;
    let mut dialog = ConfirmationDialog::new_alloc();
    dialog.set_name("WasgoPermissionDialog");
    dialog.set_title("Mod permission");
    dialog.set_text(&format!(
        "The mod \u{201c}{mod_id}\u{201d} asks for permission to {}.\n\nAllow it?",
        power(kind, mod_id)
    ));
    dialog.set_ok_button_text("Allow");
    dialog.set_cancel_button_text("Deny");
    dialog.set_exclusive(false);
    // Answerable while the game is paused (a mod asking while a pause menu shows left a
    // dialog neither button could answer), and its text wrapped to the window's width (a long
    // mod id pushed Allow off the screen and cut off the request).
    dialog.set_process_mode(ProcessMode::ALWAYS);
    dialog.set_autowrap(true);
    let dialog_id = dialog.instance_id();
    let answer: Answer = std::rc::Rc::new(answer);
    ASKS.with(|a| {
        a.borrow_mut().insert(
            dialog_id,
            (mod_id.to_string(), kind.to_string(), answer.clone()),
        )
    });
    for (signal, allowed) in [("confirmed", true), ("canceled", false)] {
        let answer = answer.clone();
        let (mod_id, kind) = (mod_id.to_string(), kind.to_string());
        let on_answer =
            Callable::from_fn("wasgo_permission_answer", move |_args: &[&Variant]| {
                // Free first: the answer runs game code (signals), which must not find the dialog.
                close_dialog(dialog_id);
                if !allowed {
                    DENIED_THIS_RUN.with(|d| d.borrow_mut().insert((mod_id.clone(), kind.clone())));
                }
                answer(allowed);
                answer_the_same_asks(&mod_id, &kind, allowed);
            });
        dialog.connect(signal, &on_answer);
    }
    own_ui::mark(dialog_id);
    // Deferred: the root may be busy setting up its children (a mod asking from `ready`). The
    // dialog is looked up by id when the call runs: game code may free the mod's node (and with
    // it the dialog) before then, and a queued `add_child` would hand Godot the freed object.
    let mut root = root;
    root.run_deferred_gd(move |root| show_or_queue(root, dialog_id));
    Some(dialog_id)
}

thread_local! {
    /// The (mod id, kind) pairs the player denied in this run of the game: the mod's later
    /// requests for that kind, from any of its nodes, are denied without a dialog (Deny closed
    /// only the dialogs open then, and a mod on many nodes asking one at a time showed one
    /// dialog after another) until the game grants or revokes that kind for the mod.
    static DENIED_THIS_RUN: RefCell<std::collections::HashSet<(String, String)>> =
        RefCell::new(std::collections::HashSet::new());
}

/// Whether the player denied `kind` to mod `mod_id` in this run (see [`DENIED_THIS_RUN`]).
pub fn denied_this_run(mod_id: &str, kind: &str) -> bool {
    DENIED_THIS_RUN.with(|d| d.borrow().contains(&(mod_id.to_string(), kind.to_string())))
}

/// The game granted or revoked `kind` for mod `mod_id`: the player's denial in this run no
/// longer answers its requests.
pub fn forget_denial(mod_id: &str, kind: &str) {
    DENIED_THIS_RUN.with(|d| {
        d.borrow_mut()
            .remove(&(mod_id.to_string(), kind.to_string()))
    });
}

/// The answer a dialog gives its mod's node.
type Answer = std::rc::Rc<dyn Fn(bool)>;

/// What an open dialog asks: the mod's id, the kind, and the answer to give.
type Ask = (String, String, Answer);

thread_local! {
    /// What each open dialog asks.
    static ASKS: RefCell<std::collections::HashMap<InstanceId, Ask>> =
        RefCell::new(std::collections::HashMap::new());
}

/// The player answered a dialog of mod `mod_id` for `kind`: every other dialog open for the
/// same mod and kind (the same mod run on other nodes, each asking; they waited behind the
/// answered one) gets the same answer and closes unseen. The player answered N identical
/// dialogs one after another before: Deny did not stop the mod's other requests, and a mod the
/// game spawned many times could wear the player down until Allow.
fn answer_the_same_asks(mod_id: &str, kind: &str, allowed: bool) {
    let same: Vec<(InstanceId, Answer)> = ASKS.with(|a| {
        a.borrow()
            .iter()
            .filter(|(_, (m, k, _))| m == mod_id && k == kind)
            .map(|(id, (_, _, answer))| (*id, answer.clone()))
            .collect()
    });
    for (id, answer) in same {
        close_dialog(id);
        answer(allowed);
    }
}

thread_local! {
    /// WasGo's permission dialogs: the one shown, and those waiting for it to be answered, in
    /// the order they were asked.
    static DIALOGS: RefCell<(Option<InstanceId>, std::collections::VecDeque<InstanceId>)> =
        const { RefCell::new((None, std::collections::VecDeque::new())) };
}

/// Shows dialog `dialog_id`, or queues it while another of WasGo's dialogs is shown: one at a
/// time. Each dialog opened over the last, centred and as wide: a mod that saw another mod's
/// dialog appear (the node count jumps) asked at once, and its dialog covered the other one
/// pixel for pixel, so the player reading the trusted mod's request granted the other.
fn show_or_queue(root: Gd<godot::classes::Window>, dialog_id: InstanceId) {
    let shown = DIALOGS.with(|d| {
        let mut d = d.borrow_mut();
        let busy =
            d.0.is_some_and(|id| Gd::<ConfirmationDialog>::try_from_instance_id(id).is_ok());
        if busy {
            d.1.push_back(dialog_id);
            false
        } else {
            d.0 = Some(dialog_id);
            true
        }
    });
    if shown {
        show(root, dialog_id);
    }
}

/// Whether `id` is the dialog shown (or about to be).
fn is_shown(id: InstanceId) -> bool {
    DIALOGS.with(|d| d.borrow().0 == Some(id))
}

/// Shows the next waiting dialog (one still alive), if any; called once the shown one closed.
fn show_next() {
    let next = DIALOGS.with(|d| {
        let mut d = d.borrow_mut();
        d.0 = None;
        while let Some(id) = d.1.pop_front() {
            if Gd::<ConfirmationDialog>::try_from_instance_id(id).is_ok() {
                d.0 = Some(id);
                return Some(id);
            }
        }
        None
    });
    let Some(id) = next else {
        return;
    };
    // At the next frame: called from the answered dialog's own signal.
    crate::next_frame::at_next_frame("wasgo_next_permission_dialog", move || {
        // Closed meanwhile (its mod's node freed): the next one is on its way already.
        if !is_shown(id) {
            return;
        }
        let root = Engine::singleton()
            .get_main_loop()
            .and_then(|m| m.try_cast::<SceneTree>().ok())
            .and_then(|t| t.get_root());
        match root {
            Some(root) => show(root, id),
            None => close_dialog(id),
        }
    });
}

/// Adds dialog `dialog_id` to the root window and shows it (see [`ask`]).
fn show(mut root: Gd<godot::classes::Window>, dialog_id: InstanceId) {
    let Ok(mut dialog) = Gd::<ConfirmationDialog>::try_from_instance_id(dialog_id) else {
        if is_shown(dialog_id) {
            show_next();
        }
        return;
    };
    // Above every other embedded window: a popup or a tooltip the game (or a mod's
    // `tooltip_text`) opens later would draw over it.
    dialog.set_flag(godot::classes::window::Flags::ALWAYS_ON_TOP, true);
    root.add_child_ex(&dialog)
        .internal(InternalMode::FRONT)
        .done();
    // At most 560 pixels wide, and never wider than the window (the text wraps).
    let window = root.get_visible_rect().size.x;
    let width = (window * 0.9).clamp(160.0, 560.0) as i32;
    dialog
        .popup_centered_ex()
        .minsize(Vector2i::new(width, 0))
        .done();
    if let Some(mut allow) = dialog.get_ok_button() {
        allow.set_disabled(true);
        // No key ever lands on Allow: the focus could be moved to it (`ui_right`,
        // `ui_focus_next`, whether or not it is disabled) by a press meant for the game,
        // and the next `ui_accept` (jump) granted. Allow takes a click or a touch only.
        allow.set_focus_mode(FocusMode::NONE);
    }
    if let Some(mut deny) = dialog.get_cancel_button() {
        deny.grab_focus();
    }
    // Allow takes a press only once the dialog has had none for a second: every key,
    // button, click or touch the dialog gets while Allow waits starts the wait again (a
    // player clicking where Allow appears, or mashing a key, never answers it).
    let generation = std::rc::Rc::new(std::cell::Cell::new(0u64));
    arm_allow(dialog_id, generation.clone());
    let on_input = Callable::from_fn("wasgo_permission_input", move |args: &[&Variant]| {
        let pressed = args
            .first()
            .and_then(|v| v.try_to::<Gd<InputEvent>>().ok())
            .is_some_and(|e| e.is_pressed());
        let waiting = Gd::<ConfirmationDialog>::try_from_instance_id(dialog_id)
            .ok()
            .and_then(|d| d.get_ok_button())
            .is_some_and(|b| b.is_disabled());
        if pressed && waiting {
            generation.set(generation.get() + 1);
            arm_allow(dialog_id, generation.clone());
        }
    });
    dialog.connect("window_input", &on_input);
}

/// Enables the dialog's Allow button [`ALLOW_DELAY_S`] from now, unless `generation` has moved
/// on by then (a press restarted the wait). Real time, whatever `Engine.time_scale` is: at 4x
/// the wait was a quarter second (a key meant for the game could answer Allow), at 0 (a game's
/// pause) Allow never took a press.
fn arm_allow(dialog_id: InstanceId, generation: std::rc::Rc<std::cell::Cell<u64>>) {
    let Ok(dialog) = Gd::<ConfirmationDialog>::try_from_instance_id(dialog_id) else {
        return;
    };
    if !dialog.is_inside_tree() {
        return;
    }
    let Some(mut timer) = dialog
        .get_tree()
        .create_timer_ex(ALLOW_DELAY_S)
        .process_always(true)
        .ignore_time_scale(true)
        .done()
    else {
        return;
    };
    let armed = generation.get();
    let enable = Callable::from_fn("wasgo_permission_allow", move |_| {
        if generation.get() != armed {
            return;
        }
        if let Ok(dialog) = Gd::<ConfirmationDialog>::try_from_instance_id(dialog_id) {
            if let Some(mut allow) = dialog.get_ok_button() {
                allow.set_disabled(false);
            }
        }
    });
    timer.connect("timeout", &enable);
}

/// How long the permission dialog's Allow button takes no press after the dialog appears (and
/// after each press the dialog gets while it waits), in seconds (see [`ask`]).
pub const ALLOW_DELAY_S: f64 = 1.0;

/// Closes (frees) one of WasGo's dialogs if it still exists.
pub fn close_dialog(id: InstanceId) {
    own_ui::unmark(id);
    ASKS.with(|a| a.borrow_mut().remove(&id));
    let was_shown = DIALOGS.with(|d| {
        let mut d = d.borrow_mut();
        d.1.retain(|queued| *queued != id);
        d.0 == Some(id)
    });
    if let Ok(mut dialog) = Gd::<ConfirmationDialog>::try_from_instance_id(id) {
        if dialog.is_inside_tree() {
            dialog.queue_free();
        } else {
            dialog.free();
        }
    }
    if was_shown {
        show_next();
    }
}
