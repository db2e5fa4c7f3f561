//! Where a mod's level-2 sandbox is, and the record of the sandboxes WasGo made (so
//! `WasmEngine.scan_mods` never lists what a mod writes). The rules are the core's
//! (`wasgo_core::mod_list`); this file gives them Godot's paths.

use crate::settings;
use godot::prelude::*;
use std::path::PathBuf;
use wasgo_core::mod_list::SandboxRegistry;

/// The folder `scan_mods` and `start_mods` read by default; also the root of every sandbox.
pub const DEFAULT_DIR: &str = "user://mods";

/// `user://wasgo/sandboxes.cfg` as a host path.
pub fn sandboxes_cfg() -> PathBuf {
    PathBuf::from(settings::globalize("user://wasgo/sandboxes.cfg"))
}

/// Remembers the sandbox folder `name` (under `user://mods/`) before a mod may write there, so
/// `scan_mods` never lists it. Failing to record it is reported (the scanner still skips the
/// sandboxes of the mods it lists).
pub fn remember_sandbox(name: &str) {
    if let Err(e) = SandboxRegistry::remember(&sandboxes_cfg(), name) {
        godot_error!("WasGo: cannot remember the sandbox `user://mods/{name}/`: {e}; `scan_mods` may list what a mod writes there");
    }
}

/// Whether a mod whose code is at `source` (a `res://`/`user://` path) lies inside the folder
/// `user://mods/<mod_id>/` (then its sandbox is `<mod_id>-files`, never its own code folder).
/// Compared without regard to case, as Windows' and macOS' file systems find folders
/// (`user://mods/Pack/pack.wasm` is inside `user://mods/pack/` there, and its sandbox was its
/// code folder); where case matters the answer only moves the sandbox to `<mod_id>-files`.
pub fn code_inside_id_folder(source: &str, mod_id: &str) -> bool {
    if source.is_empty() {
        return false;
    }
    let normalized = wasgo_core::mod_list::normalized_path;
    let folder = normalized(&settings::globalize(&format!("{DEFAULT_DIR}/{mod_id}")));
    let code = normalized(&settings::globalize(source));
    code.to_lowercase()
        .starts_with(&format!("{}/", folder.trim_end_matches('/').to_lowercase()))
}
