//! What each `wasgo/*` project setting means, in the words the editor shows.
//!
//! Godot documents project settings from its own class reference only: its doc generator skips
//! every setting that is not built into the engine, so an extension cannot put a description in
//! the Project Settings tooltip through the doc system. WasGo keeps one description per setting
//! here; `WasmEngine.get_setting_description` hands it out, the editor plugin shows it above the
//! setting in Project Settings (with the full text as its tooltip), and a test checks that every
//! registered `wasgo/*` setting has one.

use crate::settings::*;

/// Every WasGo project setting with its description (one or two sentences; the first is the
/// summary the editor shows on one line).
pub const DESCRIPTIONS: &[(&str, &str)] = &[
    (
        LEVEL,
        "The highest safety level any mod runs at. 1 Safe: the Godot API through the allowlist, no files, network or scripts. 2 Safe with wrappers: adds sandboxed files and URL-whitelisted HTTP, each behind a permission the player grants. 3 Unsafe: everything, for mods you trust like your own code. A node's safety_level can only lower it.",
    ),
    (
        URL_WHITELIST,
        "URL prefixes level-2 mods may reach with HTTP (scheme, host, port and path prefix are all checked, e.g. https://api.example.com/v1/). Empty: no network at all.",
    ),
    (
        AUTO_GRANT,
        "Permission kinds granted to every mod without asking the player (\"files\", \"network\"). Empty by default: the player is asked once per mod.",
    ),
    (
        ALLOWLIST_FILES,
        "Extra allowlist files (same syntax as addons/wasgo/allowlist.cfg) that add classes, methods, properties and signals level-1 and level-2 mods may use. They are exported with the game.",
    ),
    (
        DEFAULT_REACH,
        "The node level-1 and level-2 mods may reach (with everything under it) when a WasmScript's reach is empty: a NodePath, absolute or relative to the WasmScript. Empty: the current scene, or the WasmScript's parent when there is none.",
    ),
    (
        RESOURCE_FOLDERS,
        "res:// folders whose images, sounds, fonts, meshes, materials and sprite frames level-1 and level-2 mods may load read-only with wasgo.load_resource. Scenes and scripts are never loadable. Empty: none.",
    ),
    (
        INPUT_EVENTS,
        "Whether mods with an input(event_handle) export receive the game's unhandled input events. Off by default: a mod reads input only through the allowlisted Input methods.",
    ),
    (
        MEMORY_MB,
        "The most linear memory one mod instance may grow to, in MiB. A mod growing its memory past it traps with a message naming the limit (\"memory limit exceeded\"); it never gets more. A node's memory_limit_mb can change it per node.",
    ),
    (
        CALLBACK_BUDGET_MS,
        "The CPU time one main-thread entry into a mod (init, ready, process, signal callbacks, call_export) may take, in ms. Overruns are warnings until budget_strikes is reached, then the call traps and the game keeps its frame.",
    ),
    (
        MAIN_TIMEOUT_MS,
        "How long a mod's main may run on its worker thread, in ms. 0: no limit (main can still be killed with kill() or kill_all()).",
    ),
    (
        STORAGE_MB,
        "The most bytes one level-2 mod may keep in its sandbox folder user://mods/<mod_id>/, in MiB. A write that would pass it fails with an error; nothing is half-written.",
    ),
    (
        HTTP_RESPONSE_KB,
        "The largest HTTP response body a level-2 mod may receive, in KiB. A longer body is refused, not truncated.",
    ),
    (
        FRAME_BUDGET_MS,
        "The time all mods' main-thread callbacks may take together in one frame, in ms. What does not fit waits for the next frame, so mods cannot drop the game's frame rate below this budget.",
    ),
    (
        CALLBACK_WALL_BACKSTOP_FACTOR,
        "The wall-clock backstop of one main-thread callback, as a multiple of callback_budget_ms: a callback still running after budget x factor of wall time traps, however little CPU it used (a mod blocked in a game function, a descheduled thread).",
    ),
    (
        BUDGET_STRIKES,
        "Which overrun of the callback budget traps the mod: earlier overruns are warnings with their figures. 1 makes every overrun trap.",
    ),
    (
        MODULE_MB,
        "Modules larger than this many MiB are refused before compiling, with an error naming the file and the limit. It also bounds how many functions a module may define (one per 640 bytes of it: 104,857 at the default 64 MiB), since the compiler keeps about 5.5 KB per function however small.",
    ),
    (
        COMPILE_TIMEOUT_MS,
        "A compile that has not finished after this many ms is refused (the compile finishes in the background and is cached, so a later load is instant).",
    ),
    (
        MAX_OBJECTS_PER_MOD,
        "Objects (nodes and resources) one mod instance may own at once through wasgo.new and the *_from_bytes functions. Past it, creation fails with -7; owned objects are freed when the instance ends unless the game adopts them. A resource whose handle the mod released still counts until it is freed.",
    ),
    (
        ASSET_KB,
        "The largest encoded image, sound or font a mod may pass to the *_from_bytes functions, in KiB.",
    ),
    (
        TEXTURE_MAX_PX,
        "The widest and tallest image a mod may decode, in pixels; checked from the file's header before Godot decodes it, so decompression bombs are refused.",
    ),
    (
        SVG_DRAW_MPX,
        "How much drawing one SVG a mod passes to texture_from_bytes may ask for, in millions of pixels painted, estimated from its canvas, shapes, strokes, layers and <use> references before anything is drawn (the default, 512, is about a fifth of a second at worst). An SVG over it is refused with -3, so a small file cannot freeze the game.",
    ),
    (
        ASSETS_MB,
        "The memory one instance's live images, sounds and fonts may take together, in MiB (a decoded image counts width x height x 4 bytes).",
    ),
    (
        CACHE_DIR,
        "Where compiled modules are cached between runs, keyed by the module's content hash and the engine's configuration. Empty: no disk cache. Read when the extension starts (a change applies at the next start).",
    ),
    (
        PRECOMPILE_KEY,
        "The key (hex, at least 16 bytes) that authenticates the game's precompiled modules (.cwasm): WasmEngine.precompile signs with it and load_precompiled and the .cwasm beside a res:// .wasm are accepted only under it. Empty: the export plugin generates one when it precompiles. It stops tampered or swapped artifacts, not players reading it.",
    ),
    (
        MODE,
        "How mods' code runs: auto (the interpreter where native code cannot run, such as iOS and consoles; compiled elsewhere), compiled (Cranelift native code) or interpreter (wasmtime's Pulley interpreter: same limits and API, several times slower). Read when the extension starts; the user argument --wasgo-mode=NAME after -- overrides it for one run.",
    ),
    (
        MEMORY_RESERVATION_MB,
        "How much address space each mod instance's memory reserves to grow into, in MiB. 4096 (the maximum) is wasmtime's guard-page layout: no bounds checks in compiled code, but 4 GiB of address space per instance, so about 30,000 instances at most. Less reserves only the memory's size plus this much and checks every access (see BENCHMARKS.md for the cost); a memory growing past it is moved. Read when the extension starts.",
    ),
    (
        INSTANCE_POOL_SIZE,
        "Instance slots WasGo reserves when the extension starts, so that starting a mod maps no memory: 0 (the default) has no pool. With N, at most N mod instances live at once (a start() past it fails with an error naming this setting), every slot's memory is as large as wasgo/limits/memory_mb (a node whose memory_limit_mb is larger is refused), and a new instance of a module that used a slot before reuses its mapped data, with up to 64 KiB of the pages the last instance wrote reset in place and kept resident (no page faults; that memory stays held while the slot is free): for games that spawn and free many instances of the same mods. The address space of all slots is reserved up front (4 GiB each under the default memory_reservation_mb; the memory cap each below 4096); if it cannot be, WasGo warns and runs without the pool. Read when the extension starts; the user argument --wasgo-instance-pool=N after -- overrides it for one run.",
    ),
    (
        DEBUG_INFO,
        "Compile mods with DWARF debug info: trap backtraces show source file:line for mods built with debug info, and gdb or lldb can step through mod code. Read when the extension starts; slower compiles.",
    ),
    (
        HOT_RELOAD,
        "Whether a running WasmScript whose .wasm file changes on disk reloads it, keeping the node, emitting reloaded and carrying the mod's state through save_state/load_state. Default: on in debug builds (editor, debug exports), off in release exports.",
    ),
    (
        MODS_ENABLE_NEW,
        "Whether a mod WasmEngine.scan_mods finds for the first time is enabled (started by start_mods) before the game or the player enables it. Off by default: a mod a player drops into the mods folder waits until it is enabled.",
    ),
    (
        PRINT_OUTPUT,
        "Whether mods' output lines (log calls, WASI stdout/stderr) are also printed to Godot's output as [mod] text, at most 200 lines or 64 KiB a second per mod (then one notice). The output signal fires for every line either way.",
    ),
];

/// The description of the WasGo project setting `name` (e.g. `wasgo/safety/level`).
pub fn description(name: &str) -> Option<&'static str> {
    DESCRIPTIONS
        .iter()
        .find(|(setting, _)| *setting == name)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_description_is_for_a_wasgo_setting_and_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (name, text) in DESCRIPTIONS {
            assert!(name.starts_with("wasgo/"), "{name}");
            assert!(seen.insert(*name), "{name} is described twice");
            assert!(text.len() > 20, "{name} has no real description");
        }
    }

    #[test]
    fn unknown_settings_have_no_description() {
        assert_eq!(description("wasgo/nothing/here"), None);
        assert!(description(LEVEL).unwrap().contains("safety level"));
    }
}
