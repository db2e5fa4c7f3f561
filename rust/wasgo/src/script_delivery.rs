//! Delivering what a mod raised: the core's events as signals, signals that fired for the mod
//! (its `native_callback` export), its `mod_event`s and finished HTTP requests (its
//! `http_response` export).
//!
//! Every emit and every call into the mod here happens with no borrow held (see the invariant in
//! `script_core.rs`): each step takes what it delivers out of its queue first, and looks the node
//! up again afterwards, because a handler may have freed it. Only the outermost delivery loop of a
//! core delivers ([`ScriptCore::delivering`]); a handler that calls into the mod again raises its
//! events into the queues that loop drains, at most [`MAX_DELIVERY_ROUNDS`] rounds per pump —
//! the rest waits for the next frame, so a handler ping-pong never recurses and never spins.

use crate::live;
use crate::objects;
use crate::permissions;
use crate::script_core::ScriptCore;
use crate::settings;
use godot::prelude::*;
use std::rc::Rc;
use std::time::Instant;
use wasgo_catalog::abi::export;
use wasgo_core::log_budget::{Admit, LogBudget};
use wasgo_core::{MainKind, ModEvent, OutputSource, Val, WasgoError};

/// Rounds of one delivery loop (events, then `mod_event`s and callbacks) per pump.
pub const MAX_DELIVERY_ROUNDS: usize = 16;

/// Events (output lines, signals of the mod's state) a live mod's pump emits at most; the rest
/// wait, in order, for the next one (the next frame's at the latest).
pub const MAX_EVENTS_PER_PUMP: usize = 1000;

thread_local! {
    /// The console allowance of each mod, by its id (else its node's label): shared by every
    /// node that runs the mod, so a mod the game puts on a hundred nodes prints 200 lines a
    /// second in all, not a hundred times that.
    static ECHO_BUDGETS: std::cell::RefCell<std::collections::HashMap<String, LogBudget>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Whether mod `key`'s output line of `len` bytes is printed at `now` (see [`ECHO_BUDGETS`]).
fn echo_admit(key: String, len: usize, now: Instant) -> Admit {
    ECHO_BUDGETS.with(|budgets| {
        let mut budgets = budgets.borrow_mut();
        // Bounded: thousands of distinct mods printing is no game's; their windows restart.
        if budgets.len() >= 4096 && !budgets.contains_key(&key) {
            budgets.clear();
        }
        budgets.entry(key).or_default().admit(len, now)
    })
}

impl ScriptCore {
    /// Delivers the instance's pending events as signals, then what its outbox holds. A nested
    /// pump (from a handler of one of the node's signals) leaves everything to the outer one.
    pub fn pump(self: &Rc<Self>) {
        // Inside an entry, everything waits for it to return (`settle` and the caller's pump).
        if self.depth.get() > 0 || self.delivering.get() || self.nothing_to_deliver() {
            return;
        }
        self.delivering.set(true);
        // Read before draining: the core queues an instance's last events before it marks it
        // ended, so an instance seen ended here has all its events in the queue. Its key tells
        // it from an instance a handler starts meanwhile (`start()` from `killed`), which must
        // keep its frames and objects.
        let ended = self.instance().is_some_and(|i| !i.status().is_live());
        let ended_key = self.key.get();
        self.run_js_timers();
        // A live mod's events are delivered at most MAX_EVENTS_PER_PUMP a frame (the rest at
        // the next frame): a `main` printing in a loop had 10,000 `output` signals emitted
        // every frame, outside every budget. An ended one's all go out (its last ones).
        // One allowance for all of a frame's pumps: the drains after each signal callback and
        // HTTP answer below draw from it too (each had a fresh 1000), and so does a pump that
        // a game handler of another mod's events starts by calling this one (each had its own:
        // two mods relayed to each other multiplied their allowances within one frame).
        if ended {
            self.event_allowance.set(usize::MAX);
            self.mod_event_allowance.set(usize::MAX);
            // A new instance's first pump starts a fresh allowance, not this unbounded one.
            self.allowance_frame.set(u64::MAX);
        } else {
            let frame = crate::frame_time::process_frames();
            if self.allowance_frame.replace(frame) != frame {
                self.event_allowance.set(MAX_EVENTS_PER_PUMP);
                self.mod_event_allowance.set(MAX_EVENTS_PER_PUMP);
            }
        }
        for _ in 0..MAX_DELIVERY_ROUNDS {
            let (mut delivered, more) = self.emit_events(true);
            delivered |= self.deliver_outbox();
            delivered |= self.deliver_http_responses();
            if !delivered || more || self.is_gone() {
                break;
            }
        }
        // Ended during the deliveries (a callback trapped, a handler killed it): its last
        // events are queued (before it was marked ended) and go out now, and it leaves the
        // frame list and its objects are released at once, not at the next frame.
        let ended_now = !ended
            && !self.is_gone()
            && self.key.get() == ended_key
            && self.instance().is_some_and(|i| !i.status().is_live());
        if ended_now {
            self.event_allowance.set(usize::MAX);
            self.mod_event_allowance.set(usize::MAX);
            self.allowance_frame.set(u64::MAX);
            self.emit_events(true);
        }
        self.delivering.set(false);
        if self.is_gone() {
            return;
        }
        if (ended || ended_now) && self.key.get() == ended_key {
            live::remove(&self.live_slot);
            if let Some(key) = self.key.take() {
                objects::unregister(key);
            }
        }
    }

    /// Delivers what the instance left before it is dropped (`start()` of a new instance, a
    /// reload). Inside a delivery already in progress (game code in a handler of one of the
    /// node's signals: `kill()` then `start()`), the pump leaves everything to the outer loop,
    /// which would find the events gone with their instance: the `killed` the game's `kill()`
    /// queued was never emitted. Those events go out here instead, before the drop.
    pub(crate) fn deliver_before_drop(self: &Rc<Self>) {
        self.pump();
        if self.delivering.get() && self.depth.get() == 0 && !self.is_gone() {
            self.emit_events(false);
        }
    }

    /// Whether game code started the node again since its instance key was `before` (a handler
    /// of what [`ScriptCore::deliver_before_drop`] delivered): that start made the instance the
    /// node runs now, which is not the old one to drop.
    pub(crate) fn started_since(&self, before: Option<wasgo_core::InstanceKey>) -> bool {
        matches!(self.key.get(), Some(key) if Some(key) != before)
    }

    /// Whether the last entry left nothing behind: no event, HTTP answer or outbox post waits,
    /// the instance lives and is no Go-js program (whose timers are checked every pump). The
    /// usual case after a `call_export` or `process`, answered without allocating, copying a
    /// name or looking anything up by key.
    fn nothing_to_deliver(&self) -> bool {
        // Read first: whatever is raised after this moves the count, and the next check looks.
        let activity = wasgo_core::events::activity();
        let outbox_quiet = self.outbox_seen.get() == objects::posts();
        if outbox_quiet && self.quiet_at.get() == Some(activity) {
            return true;
        }
        let slot = self.instance.borrow();
        let Some(instance) = slot.as_ref() else {
            return false;
        };
        let quiet =
            instance.main_kind() != Some(MainKind::GoJs) && instance.is_quiet() && outbox_quiet;
        if quiet {
            self.quiet_at.set(Some(activity));
        }
        quiet
    }

    /// Resumes a Go-js mod for its timeouts that fell due (`time.Sleep`, `time.After` in
    /// goroutines once `main` waits for events), under the callback and frame budgets.
    fn run_js_timers(self: &Rc<Self>) {
        let due = self.instance().is_some_and(|i| {
            i.main_kind() == Some(MainKind::GoJs) && !i.is_main_running() && i.has_js_timers()
        });
        if !due || !live::frame_budget().may_deliver() {
            return;
        }
        // Never nested: `pump` returns at once inside an entry.
        let result = self.enter_with("timers", |i| i.run_js_timers());
        if let Some(Err(e)) = result {
            if !matches!(e, WasgoError::Trap(_)) {
                self.set_last_error(e.to_string());
            }
        }
    }

    /// Emits the core's events as signals; returns whether there were any.
    /// Emits the instance's events in order: with `capped`, at most what is left of the pump's
    /// allowance (`event_allowance`), the rest waiting for the next pump; returns whether any
    /// was emitted and whether more wait.
    fn emit_events(self: &Rc<Self>, capped: bool) -> (bool, bool) {
        let cap = if capped {
            self.event_allowance.get()
        } else {
            usize::MAX
        };
        let (key, kills) = (self.key.get(), self.live_kills.get());
        let (events, more, name) = {
            let mut slot = self.instance.borrow_mut();
            let Some(instance) = slot.as_mut() else {
                return (false, false);
            };
            if let Some(instance) = Rc::get_mut(instance) {
                instance.reap_worker();
            }
            // Nothing to do (the usual case after an entry): no name copied, no setting read.
            let (events, more) = instance.drain_events_at_most(cap);
            if capped {
                self.event_allowance.set(cap.saturating_sub(events.len()));
            }
            if events.is_empty() {
                return (false, more);
            }
            // The name prefixes console lines: a file name may hold anything.
            (
                events,
                more,
                wasgo_core::text::printable_line(instance.name()).into_owned(),
            )
        };
        self.emit_list(events, &name, (key, kills));
        (true, more)
    }

    /// What an instance whose `init` ended it raised before (`ModInstance::new_killable`'s
    /// leftover): its output, unexposed calls and warnings are emitted as for a live mod; its
    /// last event is not (the start that failed emits `trapped` or `killed` itself), nor are
    /// its permission requests (nobody is asked for a mod that has ended; the request is
    /// forgotten, so that the next instance's request is asked again).
    pub(crate) fn emit_leftover(self: &Rc<Self>, events: Vec<ModEvent>, name: &str) {
        let events: Vec<ModEvent> = events
            .into_iter()
            .filter(|event| match event {
                ModEvent::Trapped { .. } | ModEvent::Killed { .. } | ModEvent::Finished { .. } => {
                    false
                }
                ModEvent::PermissionRequested { kind, .. } => {
                    self.permissions.request_delivered(*kind);
                    false
                }
                _ => true,
            })
            .collect();
        if !events.is_empty() {
            let batch = (self.key.get(), self.live_kills.get());
            self.emit_list(events, &wasgo_core::text::printable_line(name), batch);
        }
    }

    /// Emits `events` as the node's signals (and console lines) in order. `batch` is the
    /// instance key and the count of the game's kills of a live instance when they were taken:
    /// once a handler killed the running mod or started another instance, the rest go with the old instance (a `trapped` of the
    /// old one emitted after a handler's restart marked the new one; lines and `finished`
    /// came after the game's `kill()`).
    fn emit_list(
        self: &Rc<Self>,
        events: Vec<ModEvent>,
        name: &str,
        batch: (Option<wasgo_core::InstanceKey>, u64),
    ) {
        let echo = settings::boolean(settings::PRINT_OUTPUT, true);
        let mut events = events.into_iter();
        while let Some(event) = events.next() {
            // (A node freed by a handler has no instance any more: the rest is still printed,
            // the trap that follows an `unexposed_call` whose handler freed the node included.)
            let restarted = self.key.get().is_some() && self.key.get() != batch.0;
            if restarted || self.live_kills.get() != batch.1 {
                // A permission request dropped here is forgotten, so that the next instance's
                // is asked again (as `emit_leftover` does).
                for event in std::iter::once(event).chain(events.by_ref()) {
                    if let ModEvent::PermissionRequested { kind, .. } = event {
                        self.permissions.request_delivered(kind);
                    }
                }
                break;
            }
            // A handler may have freed the node: look it up for every event. What goes to the
            // console is printed whether or not the node is still there (a handler of
            // `unexposed_call` that frees the node must not hide the trap that follows).
            let mut node = self.node();
            let text = |s: &str| GString::from(s).to_variant();
            match event {
                ModEvent::Output { source, text: line } => {
                    if echo {
                        let key = self.mod_id().unwrap_or_else(|| name.to_string());
                        let admit = echo_admit(key, line.len(), Instant::now());
                        match admit {
                            Admit::Print => {
                                // One console line per output line, whatever it holds.
                                let shown = wasgo_core::text::printable_line(&line);
                                match source {
                                    OutputSource::Log(3) => godot_error!("[{name}] {shown}"),
                                    OutputSource::Log(2) => godot_warn!("[{name}] {shown}"),
                                    _ => godot_print!("[{name}] {shown}"),
                                }
                            }
                            Admit::Notice => godot_warn!(
                                "[{name}] [wasgo: this mod printed more than {} lines or {} KiB \
                                 within a second: the rest of this second's output is not \
                                 printed; the node's `output` signal has every line]",
                                LogBudget::LINES,
                                LogBudget::BYTES / 1024
                            ),
                            Admit::HoldBack => {}
                        }
                    }
                    if let Some(node) = node.as_mut() {
                        crate::convert::emit(node, "output", &[text(&line)]);
                    }
                }
                ModEvent::UnexposedCall { function, level } => {
                    let level = (level.number() as i64).to_variant();
                    if let Some(node) = node.as_mut() {
                        crate::convert::emit(node, "unexposed_call", &[text(&function), level]);
                    }
                }
                ModEvent::Finished { exit_code } => {
                    if self.ready_owed.get() {
                        // `ready` runs at the next delivery round, which must visit this mod.
                        wasgo_core::events::note_activity();
                    }
                    if let Some(node) = node.as_mut() {
                        crate::convert::emit(node, "finished", &[(exit_code as i64).to_variant()]);
                    }
                }
                ModEvent::Trapped { message } => {
                    godot_error!("WasGo: {message}");
                    self.set_last_error(message.clone());
                    if let Some(node) = node.as_mut() {
                        crate::convert::emit(node, "trapped", &[text(&message)]);
                    }
                }
                ModEvent::Killed { reason } => {
                    if let Some(node) = node.as_mut() {
                        crate::convert::emit(node, "killed", &[text(&reason)]);
                    }
                }
                ModEvent::LinkWarning {
                    function: _,
                    message,
                } => {
                    // Counted against the mod's console allowance, all its nodes together: a
                    // game that spawned a mod of 64 stubbed imports a hundred times printed
                    // 6,500 of these.
                    let key = self.mod_id().unwrap_or_else(|| name.to_string());
                    match echo_admit(key, message.len(), Instant::now()) {
                        Admit::Print => godot_warn!("WasGo: `{name}`: {message}"),
                        Admit::Notice => godot_warn!(
                            "[{name}] [wasgo: this mod printed more than {} lines or {} KiB \
                             within a second: the rest of this second's output and link \
                             warnings are not printed]",
                            LogBudget::LINES,
                            LogBudget::BYTES / 1024
                        ),
                        Admit::HoldBack => {}
                    }
                }
                ModEvent::BudgetWarning {
                    export,
                    cpu_ms,
                    wall_ms,
                    budget_ms,
                    strikes,
                } => {
                    godot_warn!(
                        "WasGo: `{name}`.`{export}` overran its callback budget of {budget_ms} ms ({cpu_ms} ms of CPU time, {wall_ms} ms on the wall clock; overrun {strikes}); it was let finish, a later overrun traps"
                    );
                }
                ModEvent::PermissionRequested { kind, detail } => {
                    // Nobody to ask for a node that is gone.
                    let Some(node) = node.as_mut() else {
                        continue;
                    };
                    self.permissions.request_delivered(kind);
                    let handled = !node
                        .get_signal_connection_list("permission_requested")
                        .is_empty();
                    crate::convert::emit(
                        node,
                        "permission_requested",
                        &[text(kind.name()), text(&detail)],
                    );
                    if !handled && !self.permissions.has(kind) {
                        self.ask_player(name, kind.name());
                    }
                }
            }
        }
    }

    /// Delivers signals that fired for the mod (to its `native_callback` export) and its
    /// `mod_event`s. Callbacks wait while `main` holds the instance. Returns whether anything
    /// was delivered.
    fn deliver_outbox(self: &Rc<Self>) -> bool {
        let Some(key) = self.key.get() else {
            return false;
        };
        let mut delivered = false;
        self.outbox_seen.set(objects::posts());
        let (mut mod_events, mut callbacks) = objects::take_outbox(key);
        let kills = self.live_kills.get();
        if !mod_events.is_empty() {
            // Under an allowance of their own a pump (as many as of the mod's other signals): a
            // handler that calls the mod back, which emits ten more, went round the delivery
            // rounds 130,000 times in one pump. What is left waits, in order, for the next pump.
            while let Some((name, payload, cost)) = mod_events.pop_front() {
                // A handler started another instance (`kill()` then `start()`, `reload()`):
                // the old one's events are not the new one's; they go with the old instance.
                // So do those after a handler's `kill()`.
                if self.is_gone() || self.key.get() != Some(key) || self.live_kills.get() != kills {
                    return true;
                }
                let left = self.mod_event_allowance.get();
                if left == 0 {
                    mod_events.push_front((name, payload, cost));
                    objects::requeue_mod_events(key, mod_events, &self.label());
                    break;
                }
                self.mod_event_allowance.set(left - 1);
                let Some(mut node) = self.node() else {
                    return true;
                };
                delivered = true;
                crate::convert::emit(&mut node, "mod_event", &[name.to_variant(), payload]);
            }
            // Deliveries the handlers caused come after those taken above.
            callbacks.extend(objects::take_callbacks(key));
        }
        if callbacks.is_empty() {
            return delivered;
        }
        let Some(instance) = self.instance() else {
            return delivered;
        };
        let go_js = instance.main_kind() == Some(MainKind::GoJs);
        if !instance.status().is_live() || !(go_js || instance.has_export(export::NATIVE_CALLBACK))
        {
            return delivered;
        }
        if instance.is_main_running() {
            objects::requeue_callbacks(key, callbacks);
            return delivered;
        }
        drop(instance);
        // A handler may start another instance (`reload()`, `kill()` then `start()`): what the
        // old one's connections raised is not the new one's; it is dropped with the old table.
        while !self.is_gone()
            && self.key.get() == Some(key)
            && !callbacks.is_empty()
            && live::frame_budget().may_deliver()
        {
            let Some((id, args)) = callbacks.pop_front() else {
                break;
            };
            delivered = true;
            let result = if go_js {
                // A Go-js mod's `godot.connect` callback gets the signal's arguments directly.
                let wire = objects::values_for_mod(key, &args);
                objects::begin_callback(key, id, args);
                let result = self.enter_with("signal callback", |instance| {
                    instance.call_js_callback(id, wire).map(|_| Vec::new())
                });
                objects::end_callback(key);
                result
            } else {
                objects::begin_callback(key, id, args);
                let result = self.enter(export::NATIVE_CALLBACK, &[Val::I32(id)]);
                objects::end_callback(key);
                result
            };
            self.emit_events(true);
            match result {
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    self.set_last_error(e.to_string());
                    // An error that did not end the mod (a Go-js callback that threw) leaves
                    // the rest of the frame's deliveries to go on.
                    if !self.instance().is_some_and(|i| i.status().is_live()) {
                        return true;
                    }
                }
                None => return true,
            }
        }
        // What the frame had no room for waits, in order, for the next frame.
        if !callbacks.is_empty() && self.key.get() == Some(key) {
            objects::requeue_callbacks(key, callbacks);
        }
        delivered
    }

    /// Calls the mod's `http_response(id, status)` for each finished request (they wait while
    /// `main` holds the instance; without the export, the mod polls `http_body`).
    fn deliver_http_responses(self: &Rc<Self>) -> bool {
        let Some(instance) = self.instance() else {
            return false;
        };
        let mut pending = instance.take_http_responses();
        // A Go-js mod gets each answer at the callback it gave `godot.httpRequest`.
        let go_js = instance.main_kind() == Some(MainKind::GoJs);
        if pending.is_empty()
            || !instance.status().is_live()
            || !(go_js || instance.has_export(export::HTTP_RESPONSE))
        {
            return false;
        }
        if instance.is_main_running() {
            instance.requeue_http_responses(pending);
            return false;
        }
        // Not held across the entries: a `kill()` from game code the mod calls must find the
        // instance free to end it at once (as after any other entry).
        drop(instance);
        let key = self.key.get();
        let mut delivered = false;
        let mut rest = Vec::new();
        for (i, (id, status)) in pending.iter().copied().enumerate() {
            // A handler may have started another instance, whose requests these are not.
            if self.key.get() != key {
                return true;
            }
            if self.is_gone() || !live::frame_budget().may_deliver() {
                rest = pending.split_off(i);
                break;
            }
            delivered = true;
            let result = if go_js {
                self.enter_with("http response", |instance| {
                    instance.call_js_http(id, status).map(|_| Vec::new())
                })
            } else {
                self.enter(export::HTTP_RESPONSE, &[Val::I32(id), Val::I32(status)])
            };
            self.emit_events(true);
            match result {
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    self.set_last_error(e.to_string());
                    // An error that did not end the mod (a Go-js callback that threw) leaves
                    // the rest of the frame's deliveries to go on.
                    if !self.instance().is_some_and(|i| i.status().is_live()) {
                        return true;
                    }
                }
                None => return true,
            }
        }
        if !rest.is_empty() && self.key.get() == key {
            if let Some(instance) = self.instance() {
                instance.requeue_http_responses(rest);
            }
        }
        delivered
    }

    /// Nothing handles `permission_requested`: ask the player with WasGo's own dialog, or deny
    /// when there is no display.
    fn ask_player(self: &Rc<Self>, mod_name: &str, kind: &str) {
        // Dialogs the player answered (freed) are forgotten.
        self.dialogs
            .borrow_mut()
            .retain(|id| Gd::<Object>::try_from_instance_id(*id).is_ok());
        let busy = self.asking.borrow().iter().any(|k| k == kind)
            || self.denied.borrow().iter().any(|k| k == kind);
        if busy {
            return;
        }
        if !permissions::has_display() {
            godot_warn!(
                "WasGo: `{mod_name}` asks for the `{kind}` permission, but nothing is connected to `permission_requested` and this run has no display to ask the player on, so it is denied (grant it with grant_permission() or `{}`)",
                settings::AUTO_GRANT
            );
            self.denied.borrow_mut().push(kind.to_string());
            return;
        }
        // The mod running now, as it started (the node may name another by now).
        let saved_id = self.mod_id();
        let id = saved_id
            .clone()
            .unwrap_or_else(|| wasgo_core::grants::mod_id(mod_name));
        // The player denied this mod the kind earlier in this run, on this node or another:
        // the same answer, without another dialog.
        if permissions::denied_this_run(&id, kind) {
            self.answer_permission_dialog(kind, false, self.key.get(), saved_id.as_deref());
            return;
        }
        let weak = self.weak();
        let answer_kind = kind.to_string();
        // The answer is for this instance and the mod the dialog names, whatever the node runs
        // by the time the player answers.
        let asked_by = self.key.get();
        // Saved under the mod's id when it has one (a node running bytes has none: its grants
        // are kept for the node, as `grant_permission` keeps them).
        let asked_for = saved_id;
        let answer = move |allowed: bool| {
            if let Some(core) = weak.upgrade() {
                core.answer_permission_dialog(
                    &answer_kind,
                    allowed,
                    asked_by,
                    asked_for.as_deref(),
                );
            }
        };
        if let Some(dialog) = permissions::ask(&id, kind, answer) {
            self.asking.borrow_mut().push(kind.to_string());
            self.dialogs.borrow_mut().push(dialog);
        }
    }

    /// The player answered WasGo's permission dialog, which instance `asked_by` of the mod
    /// `asked_for` opened. A grant is saved under that mod's id and given to that instance only:
    /// when the node has been restarted or pointed at another mod meanwhile, the mod running now
    /// gets nothing from it (before, "Allow" granted and saved the permission for whatever mod
    /// the node ran by then).
    fn answer_permission_dialog(
        self: &Rc<Self>,
        kind: &str,
        allowed: bool,
        asked_by: Option<wasgo_core::InstanceKey>,
        asked_for: Option<&str>,
    ) {
        let same_instance = asked_by.is_some() && self.key.get() == asked_by;
        // Answered: the node's mod may ask about this kind again (one dialog per kind at a time,
        // whichever instance opened it).
        self.asking.borrow_mut().retain(|k| k != kind);
        if allowed {
            if same_instance {
                self.grant_as(kind, asked_for);
            } else if let Some(id) = asked_for {
                permissions::save(id, kind);
            }
        } else if same_instance && !self.denied.borrow().iter().any(|k| k == kind) {
            self.denied.borrow_mut().push(kind.to_string());
        }
    }
}
