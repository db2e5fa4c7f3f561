//! WasGo's project settings: registered with defaults and hints, read where they are used.

use godot::classes::ProjectSettings;
use godot::prelude::*;
use godot::register::info::PropertyHint;
use wasgo_core::{Limits, RuntimeConfig, RuntimeMode, SafetyLevel};

pub const LEVEL: &str = "wasgo/safety/level";
pub const URL_WHITELIST: &str = "wasgo/safety/url_whitelist";
pub const AUTO_GRANT: &str = "wasgo/safety/auto_grant";
pub const ALLOWLIST_FILES: &str = "wasgo/safety/allowlist_files";
/// The node level-1 and level-2 mods may reach (with everything under it) when a `WasmScript`'s
/// `reach` is empty: a NodePath, absolute or relative to the `WasmScript`; empty (the default)
/// means the current scene, or the `WasmScript`'s parent when there is none (see `reach.rs`).
pub const DEFAULT_REACH: &str = "wasgo/safety/default_reach";
pub const MEMORY_MB: &str = "wasgo/limits/memory_mb";
/// Whether a mod `WasmEngine.scan_mods` finds that the game never enabled or disabled with
/// `set_mod_enabled` counts as enabled (default false: a mod a player drops into the folder does
/// not run until the game enables it).
pub const MODS_ENABLE_NEW: &str = "wasgo/mods/enable_new";
pub const CALLBACK_BUDGET_MS: &str = "wasgo/limits/callback_budget_ms";
pub const MAIN_TIMEOUT_MS: &str = "wasgo/limits/main_timeout_ms";
pub const STORAGE_MB: &str = "wasgo/limits/storage_mb";
/// The largest HTTP response body a level-2 mod may receive, in KiB (default 1024).
pub const HTTP_RESPONSE_KB: &str = "wasgo/limits/http_response_kb";
/// The time all mods' main-thread callbacks may take together in one frame, in ms (default
/// [`DEFAULT_FRAME_BUDGET_MS`]); what does not fit waits for the next frame (see `live.rs`).
pub const FRAME_BUDGET_MS: &str = "wasgo/limits/frame_budget_ms";
/// The default of [`FRAME_BUDGET_MS`].
pub const DEFAULT_FRAME_BUDGET_MS: i64 = 8;
/// The default of [`MEMORY_RESERVATION_MB`] (see `wasgo_core::memory_layout` and `BENCHMARKS.md`
/// for the choice).
pub const DEFAULT_MEMORY_RESERVATION_MB: i64 =
    wasgo_core::memory_layout::MemoryLayout::GUARD_PAGES_MB as i64;
/// The wall-clock backstop of one main-thread callback, as a multiple of its CPU-time budget
/// (default [`Limits::DEFAULT_CALLBACK_WALL_BACKSTOP_FACTOR`]): a callback still running after
/// `callback_budget_ms * factor` of wall time traps, however little CPU it used.
pub const CALLBACK_WALL_BACKSTOP_FACTOR: &str = "wasgo/limits/callback_wall_backstop_factor";
/// Which overrun of the callback budget traps (default [`Limits::DEFAULT_BUDGET_STRIKES`]):
/// earlier overruns are warnings with their figures; 1 makes every overrun trap.
pub const BUDGET_STRIKES: &str = "wasgo/limits/budget_strikes";
/// Modules larger than this many MiB are refused before compiling (default
/// [`RuntimeConfig::DEFAULT_MODULE_MB`]). Read at each compile.
pub const MODULE_MB: &str = "wasgo/limits/module_mb";
/// A compile that has not finished after this many ms is refused (default
/// [`RuntimeConfig::DEFAULT_COMPILE_TIMEOUT_MS`]). Read at each compile.
pub const COMPILE_TIMEOUT_MS: &str = "wasgo/limits/compile_timeout_ms";
pub const CACHE_DIR: &str = "wasgo/runtime/cache_dir";
pub const DEBUG_INFO: &str = "wasgo/runtime/debug_info";
/// The game's key for precompiled modules, as hex (at least 32 digits; the export plugin writes
/// 64 random ones when it precompiles and finds it empty). `WasmEngine.precompile` authenticates
/// artifacts under it and `WasmEngine.load_precompiled` (and a `.cwasm` beside a `res://` `.wasm`)
/// loads only artifacts it authenticates. Empty by default: no artifact loads. Read at each call.
pub const PRECOMPILE_KEY: &str = "wasgo/runtime/precompile_key";
/// How mods' code runs: `auto` (default: the interpreter where native code cannot run — iOS,
/// consoles, a CPU without a Cranelift backend — compiled elsewhere), `compiled` (native code)
/// or `interpreter` (wasmtime's Pulley interpreter). Read when the extension starts; the command
/// line user argument `--wasgo-mode=NAME` (after `--`) overrides it for one run.
pub const MODE: &str = "wasgo/runtime/mode";
/// How much address space each mod instance's memory reserves to grow into, in MiB (default
/// [`DEFAULT_MEMORY_RESERVATION_MB`]): 4096 or more is wasmtime's guard-page layout (no bounds
/// checks, about 30,000 live instances at most); less reserves only the memory's size plus this
/// much, with explicit bounds checks (see `wasgo_core::memory_layout`). Read when the extension
/// starts.
pub const MEMORY_RESERVATION_MB: &str = "wasgo/runtime/memory_reservation_mb";
/// Instance slots reserved when the extension starts (default 0: no pool, every instance maps
/// its own memory). With N, at most N instances live at once, every slot's memory is
/// [`MEMORY_MB`] large, and an instance of a module that used the slot before starts without
/// any kernel mapping (see `wasgo_core::instance_pool`). The command-line user argument
/// `--wasgo-instance-pool=N` (after `--`) overrides it for one run.
pub const INSTANCE_POOL_SIZE: &str = "wasgo/runtime/instance_pool_size";
/// Objects (nodes and resources) one instance may own at once through `wasgo.new` and the
/// `*_from_bytes` functions (default [`Limits::DEFAULT_MAX_OBJECTS_PER_MOD`]). Read at each
/// creation.
pub const MAX_OBJECTS_PER_MOD: &str = "wasgo/limits/max_objects_per_mod";
/// The largest encoded image, sound or font a mod may pass, in KiB (default
/// [`Limits::DEFAULT_ASSET_KB`]).
pub const ASSET_KB: &str = "wasgo/limits/asset_kb";
/// The widest and tallest image a mod may decode, in pixels (default
/// [`Limits::DEFAULT_TEXTURE_MAX_PX`]).
pub const TEXTURE_MAX_PX: &str = "wasgo/limits/texture_max_px";
/// How much drawing one SVG a mod passes may ask for, in millions of pixels painted as
/// `wasgo_core::svg_cost` estimates it (default [`Limits::DEFAULT_SVG_DRAW_MPX`]).
pub const SVG_DRAW_MPX: &str = "wasgo/limits/svg_draw_mpx";
/// The memory one instance's live images, sounds and fonts may take together, in MiB (default
/// [`Limits::DEFAULT_ASSETS_MB`]; a decoded image counts width x height x 4 bytes).
pub const ASSETS_MB: &str = "wasgo/limits/assets_mb";
/// `res://` folders whose images, sounds, fonts, meshes, materials and sprite frames level-1 and
/// level-2 mods may load read-only with `wasgo.load_resource` (empty by default: none).
pub const RESOURCE_FOLDERS: &str = "wasgo/safety/resource_folders";
/// Whether mods with an `input(event_handle)` export receive the game's unhandled input events
/// (default false).
pub const INPUT_EVENTS: &str = "wasgo/safety/input_events";
/// Whether a running `WasmScript` whose `.wasm` file changes on disk reloads it, keeping the
/// node and carrying the mod's state through `save_state`/`load_state` (default
/// [`hot_reload_default`]: on in debug builds — the editor, debug exports — off in release
/// exports; see `hot_reload.rs`).
pub const HOT_RELOAD: &str = "wasgo/runtime/hot_reload";

/// The default of [`HOT_RELOAD`]: whether this is a debug build of Godot (`OS.is_debug_build()`).
pub fn hot_reload_default() -> bool {
    // Read once: whether the running build is a debug build does not change, and every
    // `start()` asks (through [`crate::hot_reload::enabled`]).
    static DEBUG_BUILD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DEBUG_BUILD.get_or_init(|| godot::classes::Os::singleton().is_debug_build())
}

/// Whether `wasgo/runtime/hot_reload` is on now.
pub fn hot_reload() -> bool {
    boolean(HOT_RELOAD, hot_reload_default())
}

/// Whether mods with an `input` export receive unhandled input events now (default off).
pub fn input_events() -> bool {
    boolean(INPUT_EVENTS, false)
}

/// Whether mods' output lines are also printed to Godot's output as `[mod] text` (default true).
pub const PRINT_OUTPUT: &str = "wasgo/runtime/print_output";

fn add(
    name: &str,
    default: Variant,
    ty: VariantType,
    hint: PropertyHint,
    hint_string: &str,
    basic: bool,
) {
    let mut ps = ProjectSettings::singleton();
    if !ps.has_setting(name) {
        ps.set_setting(name, &default);
    }
    ps.set_initial_value(name, &default);
    let info: VarDictionary = vdict! {
        "name" => name,
        "type" => ty.ord(),
        "hint" => hint.ord(),
        "hint_string" => hint_string,
    };
    ps.add_property_info(&info);
    ps.set_as_basic(name, basic);
}

/// Registers the settings of what mods create (`created.rs`, `assets.rs`).
fn register_creation() {
    add(
        RESOURCE_FOLDERS,
        PackedStringArray::new().to_variant(),
        VariantType::PACKED_STRING_ARRAY,
        PropertyHint::NONE,
        "",
        false,
    );
    add(
        INPUT_EVENTS,
        false.to_variant(),
        VariantType::BOOL,
        PropertyHint::NONE,
        "",
        false,
    );
    add(
        MAX_OBJECTS_PER_MOD,
        (Limits::DEFAULT_MAX_OBJECTS_PER_MOD as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,100000,1,or_greater",
        true,
    );
    add(
        ASSET_KB,
        (Limits::DEFAULT_ASSET_KB as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,262144,1,or_greater,suffix:KiB",
        false,
    );
    add(
        ASSETS_MB,
        (Limits::DEFAULT_ASSETS_MB as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,65536,1,or_greater,suffix:MiB",
        false,
    );
    add(
        TEXTURE_MAX_PX,
        (Limits::DEFAULT_TEXTURE_MAX_PX as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,16384,1,suffix:px",
        false,
    );
    add(
        SVG_DRAW_MPX,
        (Limits::DEFAULT_SVG_DRAW_MPX as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,65536,1,or_greater,suffix:Mpx",
        false,
    );
}

/// Registers every setting (idempotent; values already in project.godot are kept).
pub fn register() {
    register_creation();
    add(
        MODS_ENABLE_NEW,
        false.to_variant(),
        VariantType::BOOL,
        PropertyHint::NONE,
        "",
        false,
    );
    add(
        LEVEL,
        1.to_variant(),
        VariantType::INT,
        PropertyHint::ENUM,
        "Safe:1,Safe with wrappers:2,Unsafe:3",
        true,
    );
    add(
        URL_WHITELIST,
        PackedStringArray::new().to_variant(),
        VariantType::PACKED_STRING_ARRAY,
        PropertyHint::NONE,
        "",
        true,
    );
    add(
        AUTO_GRANT,
        PackedStringArray::new().to_variant(),
        VariantType::PACKED_STRING_ARRAY,
        PropertyHint::NONE,
        "",
        true,
    );
    add(
        ALLOWLIST_FILES,
        PackedStringArray::new().to_variant(),
        VariantType::PACKED_STRING_ARRAY,
        PropertyHint::NONE,
        "",
        false,
    );
    add(
        DEFAULT_REACH,
        "".to_variant(),
        VariantType::STRING,
        PropertyHint::PLACEHOLDER_TEXT,
        "the current scene",
        true,
    );
    add(
        MEMORY_MB,
        (Limits::DEFAULT_MEMORY_MB as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,4096,1,suffix:MiB",
        true,
    );
    add(
        CALLBACK_BUDGET_MS,
        (Limits::DEFAULT_CALLBACK_BUDGET_MS as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,10000,1,suffix:ms",
        true,
    );
    add(
        MAIN_TIMEOUT_MS,
        (Limits::DEFAULT_MAIN_TIMEOUT_MS as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "0,3600000,1,or_greater,suffix:ms",
        true,
    );
    add(
        STORAGE_MB,
        (Limits::DEFAULT_STORAGE_MB as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,4096,1,suffix:MiB",
        true,
    );
    add(
        HTTP_RESPONSE_KB,
        (Limits::DEFAULT_HTTP_RESPONSE_KB as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,1048576,1,suffix:KiB",
        true,
    );
    add(
        FRAME_BUDGET_MS,
        DEFAULT_FRAME_BUDGET_MS.to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,1000,1,suffix:ms",
        true,
    );
    add(
        CALLBACK_WALL_BACKSTOP_FACTOR,
        (Limits::DEFAULT_CALLBACK_WALL_BACKSTOP_FACTOR as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,100,1,or_greater,suffix:x",
        false,
    );
    add(
        BUDGET_STRIKES,
        (Limits::DEFAULT_BUDGET_STRIKES as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,1000,1,or_greater",
        false,
    );
    add(
        MODULE_MB,
        (RuntimeConfig::DEFAULT_MODULE_MB as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,4096,1,or_greater,suffix:MiB",
        true,
    );
    add(
        COMPILE_TIMEOUT_MS,
        (RuntimeConfig::DEFAULT_COMPILE_TIMEOUT_MS as i64).to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "1,600000,1,or_greater,suffix:ms",
        true,
    );
    add(
        CACHE_DIR,
        "user://wasgo_cache".to_variant(),
        VariantType::STRING,
        PropertyHint::DIR,
        "",
        false,
    );
    add(
        MODE,
        RuntimeMode::Auto.name().to_variant(),
        VariantType::STRING,
        PropertyHint::ENUM,
        &RuntimeMode::NAMES.join(","),
        true,
    );
    add(
        MEMORY_RESERVATION_MB,
        DEFAULT_MEMORY_RESERVATION_MB.to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        "0,4096,1,suffix:MiB",
        true,
    );
    add(
        INSTANCE_POOL_SIZE,
        0i64.to_variant(),
        VariantType::INT,
        PropertyHint::RANGE,
        &format!("0,{},1,or_greater", wasgo_core::InstancePool::MAX_SLOTS),
        true,
    );
    add(
        DEBUG_INFO,
        false.to_variant(),
        VariantType::BOOL,
        PropertyHint::NONE,
        "",
        false,
    );
    // Read when the extension starts: the editor says a change needs a restart (changed and
    // exported without one, the precompiled mods were made for the engine as it started).
    let mut ps = ProjectSettings::singleton();
    for name in [
        CACHE_DIR,
        MODE,
        MEMORY_RESERVATION_MB,
        INSTANCE_POOL_SIZE,
        DEBUG_INFO,
    ] {
        ps.set_restart_if_changed(name, true);
    }
    add(
        PRECOMPILE_KEY,
        "".to_variant(),
        VariantType::STRING,
        PropertyHint::PASSWORD,
        "",
        false,
    );
    add(
        HOT_RELOAD,
        hot_reload_default().to_variant(),
        VariantType::BOOL,
        PropertyHint::NONE,
        "",
        false,
    );
    add(
        PRINT_OUTPUT,
        true.to_variant(),
        VariantType::BOOL,
        PropertyHint::NONE,
        "",
        false,
    );
}

/// The setting `name` now, Nil when it is not set. Asked as the singleton's property under the
/// name's cached `StringName` ([`crate::convert::static_name`]): `get_setting(name)` converted
/// the name to a `StringName` twice per read (a check, then the read), and `start()` reads
/// about ten settings. The property read is what `get_setting` does after its check, and a
/// missing setting gives Nil there too (no warning), so the answers are the same.
fn get(name: &'static str) -> Variant {
    ProjectSettings::singleton().get(&crate::convert::static_name(name))
}

/// An integer setting, or `default` when it is missing or not a number (with a warning).
pub fn int(name: &'static str, default: i64) -> i64 {
    int_or(name, default, &default.to_string())
}

/// [`int`], whose warning calls the default `fallback`.
fn int_or(name: &'static str, default: i64, fallback: &str) -> i64 {
    let v = get(name);
    match v.try_to::<i64>() {
        Ok(n) => n,
        Err(_) => {
            if !v.is_nil() {
                warn_wrong_type(name, &v, "a whole number", fallback);
            }
            default
        }
    }
}

/// A limit setting whose 0 (or a value that is not a number) means the core's default; a
/// negative value is one too, with a warning naming the setting.
pub fn limit(name: &'static str) -> u64 {
    non_negative_or(name, 0, "its default") as u64
}

/// A setting that is 0 or more (`default` when missing or not a number); a negative value is
/// `default`, with a warning naming the setting.
pub fn non_negative(name: &'static str, default: i64) -> i64 {
    non_negative_or(name, default, &default.to_string())
}

/// [`non_negative`], whose warnings call the default `fallback`.
fn non_negative_or(name: &'static str, default: i64, fallback: &str) -> i64 {
    let n = int_or(name, default, fallback);
    if n < 0 {
        warn_once(name, || {
            format!(
                "WasGo: project setting `{name}` is {n}; it must be 0 or more, using {fallback}"
            )
        });
        return default;
    }
    n
}

/// A string-list setting (bad values give an empty list, with a warning).
pub fn strings(name: &'static str) -> Vec<String> {
    let v = get(name);
    if let Ok(list) = v.try_to::<PackedStringArray>() {
        return list.as_slice().iter().map(|s| s.to_string()).collect();
    }
    if let Ok(list) = v.try_to::<VarArray>() {
        return list.iter_shared().map(|x| x.to_string()).collect();
    }
    if !v.is_nil() {
        warn_wrong_type(name, &v, "a list of strings", "none");
    }
    Vec::new()
}

/// `wasgo/safety/resource_folders`: the `res://` folders mods may load from. An entry that is
/// not a `res://` path never matches: it is left out with a warning naming it (once a run).
pub fn resource_folders() -> Vec<String> {
    let (folders, odd): (Vec<String>, Vec<String>) = strings(RESOURCE_FOLDERS)
        .into_iter()
        .partition(|f| f.starts_with("res://"));
    if !odd.is_empty() {
        warn_once(RESOURCE_FOLDERS, || {
            format!(
                "WasGo: project setting `{RESOURCE_FOLDERS}` lists {}, which {} no `res://` folder (write `res://{}`); left out",
                odd.iter()
                    .map(|f| format!("{f:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if odd.len() == 1 { "is" } else { "are" },
                odd[0].trim_start_matches('/')
            )
        });
    }
    folders
}

/// A list of permission kinds (`files`, `network`): an entry that names none is left out,
/// with a warning naming it and the kinds there are (it was dropped without a word: the player
/// was asked, and nothing said why the grant did not apply).
pub fn permission_kinds(name: &'static str) -> Vec<String> {
    let (kinds, unknown): (Vec<String>, Vec<String>) = strings(name)
        .into_iter()
        .partition(|k| wasgo_core::Permission::parse(k).is_some());
    if !unknown.is_empty() {
        warn_once(name, || {
            format!(
                "WasGo: project setting `{name}` lists {}, which {} no permission kind WasGo checks ({}); left out",
                unknown
                    .iter()
                    .map(|k| format!("{k:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if unknown.len() == 1 { "is" } else { "are" },
                wasgo_core::Permission::names()
            )
        });
    }
    kinds
}

/// Warns once per setting (per run) that it holds a value of the wrong type, which is then
/// read as `fallback` (a setting may be read at every start: one line, not thousands).
fn warn_wrong_type(name: &'static str, v: &Variant, expected: &str, fallback: &str) {
    warn_once(name, || {
        format!(
            "WasGo: project setting `{name}` should be {expected}, not {v} (a {:?}); using {fallback}",
            v.get_type()
        )
    });
}

/// Prints the warning `message` makes about setting `name` once per setting, message and run:
/// a setting read at every frame or start warns once, and a later, different problem with it
/// (the game set another bad value) is warned about too.
fn warn_once(name: &'static str, message: impl FnOnce() -> String) {
    thread_local! {
        static WARNED: std::cell::RefCell<std::collections::HashSet<(&'static str, String)>> =
            std::cell::RefCell::new(std::collections::HashSet::new());
    }
    let message = message();
    // Bounded: a game cycling through bad values warns about each, up to this many.
    let fresh = WARNED.with(|w| {
        let mut w = w.borrow_mut();
        w.len() < 1024 && w.insert((name, message.clone()))
    });
    if fresh {
        godot_warn!("{message}");
    }
}

/// A true/false setting; `default` when it is missing, with a warning when it is not a bool (the
/// text "false" is not false).
pub fn boolean(name: &'static str, default: bool) -> bool {
    let v = get(name);
    match v.try_to::<bool>() {
        Ok(b) => b,
        Err(_) => {
            if !v.is_nil() {
                warn_wrong_type(name, &v, "true or false", &default.to_string());
            }
            default
        }
    }
}

/// A text setting as Godot holds it: a String, or a StringName or NodePath (a path typed into
/// the setting as `^"..."`) as its text; empty when it is missing, with a warning when it is
/// something else.
pub fn text(name: &'static str) -> GString {
    let v = get(name);
    as_text(&v).unwrap_or_else(|| {
        if !v.is_nil() {
            warn_wrong_type(name, &v, "a text", "an empty text");
        }
        GString::new()
    })
}

/// A text setting, or `default` when it is missing or not a text (with a warning then).
pub fn string(name: &'static str, default: &str) -> String {
    let v = get(name);
    match as_text(&v) {
        Some(text) => text.to_string(),
        None => {
            if !v.is_nil() {
                warn_wrong_type(name, &v, "a text", &format!("{default:?}"));
            }
            default.to_string()
        }
    }
}

/// A String, StringName or NodePath value as its text (`None` for anything else).
fn as_text(v: &Variant) -> Option<GString> {
    match v.get_type() {
        VariantType::STRING => v.try_to::<GString>().ok(),
        VariantType::STRING_NAME => v.try_to::<StringName>().ok().map(|s| GString::from(&s)),
        VariantType::NODE_PATH => v.try_to::<NodePath>().ok().map(|p| GString::from(&p)),
        _ => None,
    }
}

/// The project's safety ceiling; a bad value falls back to level 1 (the safe default) with a warning.
pub fn level_ceiling() -> SafetyLevel {
    let n = int(LEVEL, 1);
    SafetyLevel::from_number(n).unwrap_or_else(|| {
        warn_once(LEVEL, || format!("WasGo: project setting `{LEVEL}` is {n}, which is not a safety level (1, 2 or 3); using 1 (Safe)"));
        SafetyLevel::Safe
    })
}

/// A positive limit setting; zero or negative values fall back to `default` with a warning.
pub fn positive(name: &'static str, default: i64) -> i64 {
    let n = int(name, default);
    if n <= 0 {
        warn_once(name, || {
            format!("WasGo: project setting `{name}` is {n}; it must be positive, using {default}")
        });
        return default;
    }
    n
}

/// What level-2 HTTP may reach: `wasgo/safety/url_whitelist` (entries that do not parse are
/// skipped with a warning) and `wasgo/limits/http_response_kb`.
pub fn network() -> wasgo_core::NetworkConfig {
    let (whitelist, problems) = wasgo_core::urls::Whitelist::parse(strings(URL_WHITELIST));
    if !problems.is_empty() {
        // Once per run: the setting is read again at level-2 starts.
        warn_once(URL_WHITELIST, || {
            problems
                .iter()
                .map(|problem| format!("WasGo: `{URL_WHITELIST}`: {problem}; the entry is ignored"))
                .collect::<Vec<_>>()
                .join("\n")
        });
    }
    wasgo_core::NetworkConfig {
        whitelist: std::sync::Arc::new(whitelist),
        max_response_bytes: (positive(HTTP_RESPONSE_KB, Limits::DEFAULT_HTTP_RESPONSE_KB as i64)
            as u64)
            .saturating_mul(1 << 10),
    }
}

/// The command line's user arguments (those after `--`).
fn user_args() -> Vec<String> {
    godot::classes::Os::singleton()
        .get_cmdline_user_args()
        .as_slice()
        .iter()
        .map(|a| a.to_string())
        .collect()
}

/// The runtime mode the game asks for: `--wasgo-mode=NAME` among the command line's user
/// arguments (`godot --path game -- --wasgo-mode=interpreter`), else `wasgo/runtime/mode`; a
/// value naming no mode is skipped with a warning.
pub fn runtime_mode() -> RuntimeMode {
    let (mode, warnings) =
        RuntimeMode::choose(&user_args(), &string(MODE, RuntimeMode::Auto.name()));
    for warning in warnings {
        godot_warn!("WasGo: {warning}");
    }
    mode
}

/// The instance pool the game asks for: `--wasgo-instance-pool=N` among the command line's
/// user arguments, else `wasgo/runtime/instance_pool_size`; every slot as large as
/// `wasgo/limits/memory_mb`. Values that were skipped or changed are warned about.
pub fn instance_pool() -> Option<wasgo_core::InstancePool> {
    let memory_mb = positive(MEMORY_MB, Limits::DEFAULT_MEMORY_MB as i64) as u64;
    let (pool, warnings) =
        wasgo_core::InstancePool::choose(&user_args(), int(INSTANCE_POOL_SIZE, 0), memory_mb);
    for warning in warnings {
        godot_warn!("WasGo: {warning}");
    }
    pool
}

/// Turns `res://` or `user://` paths into real file-system paths. The two roots are asked of
/// Godot once (they do not change while the game runs; a `start()` globalized several paths,
/// a fifth of its time in Godot's string calls); other paths are asked each time.
pub fn globalize(path: &str) -> String {
    static ROOTS: std::sync::OnceLock<[(&'static str, String); 2]> = std::sync::OnceLock::new();
    let roots = ROOTS.get_or_init(|| ["res://", "user://"].map(|root| (root, ask_globalize(root))));
    for (root, real) in roots {
        if let Some(rest) = path.strip_prefix(root) {
            // Godot replaces the root the same way (`res://` with the project folder and `/`).
            return format!("{real}{rest}");
        }
    }
    ask_globalize(path)
}

fn ask_globalize(path: &str) -> String {
    ProjectSettings::singleton()
        .globalize_path(path)
        .to_string()
}

/// The compile limits the project settings give now: (`wasgo/limits/module_mb` in bytes,
/// `wasgo/limits/compile_timeout_ms`); bad values fall back to the core's defaults.
pub fn compile_limits() -> (usize, std::time::Duration) {
    let mb = positive(MODULE_MB, RuntimeConfig::DEFAULT_MODULE_MB as i64) as usize;
    let ms = positive(
        COMPILE_TIMEOUT_MS,
        RuntimeConfig::DEFAULT_COMPILE_TIMEOUT_MS as i64,
    ) as u64;
    (
        mb.saturating_mul(1 << 20),
        std::time::Duration::from_millis(ms),
    )
}

/// The budget settings on top of `limits`: `wasgo/limits/callback_wall_backstop_factor` and
/// `wasgo/limits/budget_strikes` (bad values fall back to the core's defaults).
pub fn budget_limits(mut limits: Limits) -> Limits {
    limits.callback_wall_backstop_factor = positive(
        CALLBACK_WALL_BACKSTOP_FACTOR,
        Limits::DEFAULT_CALLBACK_WALL_BACKSTOP_FACTOR as i64,
    )
    .min(u32::MAX as i64) as u32;
    limits.budget_strikes =
        positive(BUDGET_STRIKES, Limits::DEFAULT_BUDGET_STRIKES as i64).min(u32::MAX as i64) as u32;
    limits
}
