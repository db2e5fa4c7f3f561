//! The project settings a `start()` reads, read together and kept until one of them changes.
//!
//! A pooled `start()` read eight of WasGo's settings, a few hundred nanoseconds each with cold
//! caches (Godot keeps the settings in a tree), about a sixth of the whole start (issue 14
//! item 5, `BENCHMARKS.md`, "Nineteenth pass"). What is kept here is used only while Godot
//! says no `wasgo/` setting changed since:
//!
//! - `ProjectSettings.check_changed_settings_in_group("wasgo/")` (Godot 4.6+) answers at once
//!   after a `set_setting`, until the end of the frame: a game that sets a limit and then
//!   starts a mod gets the new value, as when every start read the settings itself;
//! - `settings_changed` (emitted at the end of that frame, when Godot forgets what changed)
//!   drops what was kept;
//! - a new frame drops it too: Godot 4.6's `ProjectSettings.clear()` reports no change, so a
//!   setting cleared applies from the next frame at the latest.
//!
//! Where Godot cannot say what changed (4.5, which lacks the check) nothing is kept and every
//! start reads the settings, as before.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use godot::classes::{ClassDb, ProjectSettings};
use godot::prelude::*;
use wasgo_core::{Limits, NetworkConfig, SafetyLevel};

use crate::settings;

/// What a `start()` reads of WasGo's settings (bad values already replaced by their defaults,
/// with the warnings printed when they were read).
pub struct StartSettings {
    /// `wasgo/safety/level`.
    pub ceiling: SafetyLevel,
    /// `wasgo/limits/memory_mb` (0 or less: the core's default).
    pub memory_mb: u64,
    /// `wasgo/limits/callback_budget_ms` (0 or less: the core's default).
    pub callback_budget_ms: u64,
    /// `wasgo/limits/main_timeout_ms` (0 or less: none).
    pub main_timeout_ms: u64,
    /// `wasgo/limits/callback_wall_backstop_factor` and `wasgo/limits/budget_strikes`.
    pub backstop_factor: u32,
    pub budget_strikes: u32,
    /// Level 2's settings, read at the first start that runs a mod at level 2 or above (a
    /// game whose mods all run at level 1 never reads them, nor hears of bad values in them).
    wrapped: OnceCell<Wrapped>,
    /// `wasgo/safety/auto_grant`.
    pub auto_grant: Vec<String>,
    /// `wasgo/runtime/hot_reload`.
    pub hot_reload: bool,
}

/// The settings only level 2 and above use.
struct Wrapped {
    /// `wasgo/limits/storage_mb` (0 or less: the core's default).
    storage_mb: u64,
    /// `wasgo/safety/url_whitelist` (parsed) and `wasgo/limits/http_response_kb`.
    network: NetworkConfig,
}

impl StartSettings {
    fn read() -> StartSettings {
        let budget = settings::budget_limits(Limits::default());
        StartSettings {
            ceiling: settings::level_ceiling(),
            memory_mb: settings::limit(settings::MEMORY_MB),
            callback_budget_ms: settings::limit(settings::CALLBACK_BUDGET_MS),
            main_timeout_ms: settings::limit(settings::MAIN_TIMEOUT_MS),
            backstop_factor: budget.callback_wall_backstop_factor,
            budget_strikes: budget.budget_strikes,
            wrapped: OnceCell::new(),
            auto_grant: settings::permission_kinds(settings::AUTO_GRANT),
            hot_reload: settings::hot_reload(),
        }
    }

    fn wrapped(&self) -> &Wrapped {
        self.wrapped.get_or_init(|| Wrapped {
            storage_mb: settings::limit(settings::STORAGE_MB),
            network: settings::network(),
        })
    }

    /// What level-2 HTTP may reach (read at the first call; see `wrapped`).
    pub fn network(&self) -> NetworkConfig {
        self.wrapped().network.clone()
    }

    /// The limits of an instance with these settings, where a node's own `memory_limit_mb` or
    /// `main_timeout_ms` (above 0) wins; `wrapped`: level 2 or above (the file quota is level
    /// 2's).
    pub fn limits(&self, memory_mb: u64, main_timeout_ms: u64, wrapped: bool) -> Limits {
        let mut limits = Limits::from_settings(
            if memory_mb > 0 {
                memory_mb
            } else {
                self.memory_mb
            },
            self.callback_budget_ms,
            if main_timeout_ms > 0 {
                main_timeout_ms
            } else {
                self.main_timeout_ms
            },
            if wrapped {
                self.wrapped().storage_mb
            } else {
                0
            },
        );
        limits.callback_wall_backstop_factor = self.backstop_factor;
        limits.budget_strikes = self.budget_strikes;
        limits
    }
}

thread_local! {
    /// What was read last, while it holds (main thread).
    static KEPT: RefCell<Option<Rc<StartSettings>>> = const { RefCell::new(None) };
    /// The `settings_changed` connection, while the extension runs (main thread).
    static WATCH: RefCell<Option<Callable>> = const { RefCell::new(None) };
    /// The method's name and the prefix asked about, made once.
    static ASK: RefCell<Option<(StringName, [Variant; 1])>> = const { RefCell::new(None) };
    /// Whether this Godot can say which settings changed (asked once, at `watch`).
    static CAN_ASK: Cell<bool> = const { Cell::new(false) };
}

const CHECK: &str = "check_changed_settings_in_group";

/// Starts watching `ProjectSettings.settings_changed` (extension init, main thread, after
/// [`settings::register`]); `also` runs at every report too, after what was kept is dropped.
pub fn watch(also: fn()) {
    let on_change = Callable::from_fn("wasgo_settings_changed", move |_args: &[&Variant]| {
        forget();
        also();
        Variant::nil()
    });
    ProjectSettings::singleton().connect("settings_changed", &on_change);
    WATCH.with(|w| *w.borrow_mut() = Some(on_change));
    let can_ask = ClassDb::singleton().class_has_method("ProjectSettings", CHECK);
    CAN_ASK.with(|c| c.set(can_ask));
    if !can_ask {
        return;
    }
    ASK.with(|a| {
        *a.borrow_mut() = Some((
            StringName::from(CHECK),
            [GString::from("wasgo/").to_variant()],
        ))
    });
}

/// Stops watching and drops what was kept (extension deinit, main thread).
pub fn unwatch() {
    forget();
    CAN_ASK.with(|c| c.set(false));
    ASK.with(|a| a.borrow_mut().take());
    if let Some(on_change) = WATCH.with(|w| w.borrow_mut().take()) {
        let mut ps = ProjectSettings::singleton();
        if ps.is_connected("settings_changed", &on_change) {
            ps.disconnect("settings_changed", &on_change);
        }
    }
}

/// Drops what was kept: the next start reads the settings again.
pub fn forget() {
    let _ = KEPT.try_with(|k| k.try_borrow_mut().map(|mut k| k.take()));
}

/// Whether Godot says no `wasgo/` setting changed since it last emitted `settings_changed`;
/// false where it cannot say.
fn unchanged() -> bool {
    if !CAN_ASK.with(Cell::get) {
        return false;
    }
    let answer = ASK.with(|a| {
        a.borrow()
            .as_ref()
            .map(|(method, args)| ProjectSettings::singleton().call(method, args))
    });
    let Some(answer) = answer else {
        return false;
    };
    // Anything but a plain `false` counts as a change: the settings are read again.
    matches!(answer.try_to::<bool>(), Ok(false))
}

/// The settings for a `start()` now: what was kept when nothing changed since, else read
/// (and kept when Godot can say when it changes).
pub fn for_start() -> Rc<StartSettings> {
    let unchanged = unchanged();
    if unchanged {
        if let Some(kept) = KEPT.with(|k| k.borrow().clone()) {
            return kept;
        }
    } else {
        forget();
    }
    let fresh = Rc::new(StartSettings::read());
    if unchanged {
        KEPT.with(|k| *k.borrow_mut() = Some(fresh.clone()));
    }
    fresh
}
