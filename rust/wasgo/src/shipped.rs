//! Precompiled modules on the Godot side: the game's key (the project setting
//! `wasgo/runtime/precompile_key`, or a key the game passes) and reading a module the game ships
//! from a path, as its `.wasm`, the `.cwasm` artifact beside it, or both. The decisions (which of
//! the two runs, what authenticates) are the core's (`wasgo_core::aot`, `wasgo_core::precompiled`);
//! this file reads settings and files. No class here.

use crate::runtime;
use crate::settings;
use godot::classes::FileAccess;
use godot::prelude::*;
use wasgo_core::precompiled::artifact_beside;
use wasgo_core::{ArtifactKey, Shipped, ShippedLoad};

/// The key artifacts are made and checked with: `explicit` when the game passed one (at least
/// 16 bytes), else the project setting `wasgo/runtime/precompile_key` (hex), read now.
///
/// # Errors
/// A message naming the setting (or the argument) and what to put there.
pub fn game_key(explicit: &[u8]) -> Result<ArtifactKey, String> {
    if !explicit.is_empty() {
        return ArtifactKey::new(explicit).map_err(|e| format!("the `key` argument: {e}"));
    }
    let text = settings::string(settings::PRECOMPILE_KEY, "");
    if text.trim().is_empty() {
        return Err(format!(
            "no precompile key: set the project setting `{}` to 64 hex digits (the export \
             plugin fills it when it precompiles), or pass `key`",
            settings::PRECOMPILE_KEY
        ));
    }
    ArtifactKey::from_hex(&text)
        .map_err(|e| format!("the project setting `{}`: {e}", settings::PRECOMPILE_KEY))
}

/// The precompiled artifact a `res://` `.wasm` at `path` has beside it, if the file is there,
/// and never in the editor: there `res://` is the project folder, where a developer copies
/// third-party mods to try them, and an artifact is native code under a key every player of
/// the game can read (`wasgo/runtime/precompile_key` ships in the pack): the editor compiles
/// the `.wasm` instead (the inspector, the configuration warnings and a scan describe what the
/// `.wasm` is, and no artifact is deserialized inside the editor). A run of the game (an
/// exported one, or one the editor launches) loads it.
pub fn artifact_path(path: &str) -> Option<String> {
    if godot::classes::Engine::singleton().is_editor_hint() {
        return None;
    }
    artifact_beside(path).filter(|p| FileAccess::file_exists(p))
}

/// The bytes of the artifact at `path`, read up to the size an artifact may have.
///
/// # Errors
/// Why the file cannot be read.
pub fn read_artifact(path: &str) -> Result<Vec<u8>, String> {
    let (max_module, _) = settings::compile_limits();
    runtime::read_file(
        path,
        max_module.saturating_mul(wasgo_core::aot::ARTIFACT_SIZE_FACTOR),
    )
}

/// Reads the module at `path` and starts loading it: the `.cwasm` beside a `res://` `.wasm`
/// when it authenticates under the project's key and matches the `.wasm` (loaded at once),
/// else the `.wasm` compiled in the background. An artifact passed over is warned about.
///
/// # Errors
/// Neither file can be read (the `.wasm`'s read error, and the artifact's when there is one),
/// or the runtime is not running.
pub fn load_path(path: &str) -> Result<ShippedLoad, String> {
    let artifact_path = artifact_path(path);
    let (max_module, _) = settings::compile_limits();
    let (wasm, wasm_error) = match (runtime::read_file(path, max_module), &artifact_path) {
        (Ok(bytes), _) => (Some(bytes), None),
        (Err(e), Some(_)) => (None, Some(e)),
        (Err(e), None) => return Err(e),
    };
    let artifact = match &artifact_path {
        Some(p) => match read_artifact(p) {
            Ok(bytes) => Some(bytes),
            // An artifact that cannot be used is passed over like one that does not
            // authenticate: the `.wasm` is compiled (when it cannot be read either, both say why).
            Err(e) if wasm.is_some() => {
                godot_warn!("WasGo: `{p}` is passed over and `{path}` compiled instead: {e}");
                None
            }
            Err(e) => return Err(format!("{}; and {e}", wasm_error.unwrap_or_default())),
        },
        None => None,
    };
    let key = artifact.as_ref().and_then(|_| game_key(&[]).ok());
    let runtime = runtime::runtime_for_compile()
        .ok_or_else(|| "the WasGo runtime is not running".to_string())?;
    let shipped = Shipped {
        wasm: wasm.as_deref(),
        artifact: artifact.as_deref(),
        key: key.as_ref(),
    };
    let load = runtime.load_shipped(shipped, &runtime::name_from_path(path));
    if let Some(reason) = &load.artifact_refused {
        godot_warn!("WasGo: `{}`: {reason}", artifact_path.unwrap_or_default());
    }
    Ok(load)
}
