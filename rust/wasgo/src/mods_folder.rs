//! Mod discovery for `WasmEngine` (`scan_mods`, `start_mods`, the enabled list and load order)
//! and a manifest as a Dictionary. The decisions are the core's (`wasgo_core::discovery`,
//! `wasgo_core::mod_list`, `wasgo_core::manifest`); this file reads folders through Godot's
//! `DirAccess`/`FileAccess` (so `res://` inside an exported pack works), converts results to
//! Dictionaries and makes the nodes.
//!
//! Paths: the enabled list is `user://wasgo/mods.cfg`, the remembered sandboxes
//! `user://wasgo/sandboxes.cfg`; `user://wasgo/` lies outside every mod's sandbox
//! (`user://mods/<sandbox>/`).

use crate::runtime;
use crate::settings;
use godot::classes::file_access::ModeFlags;
use godot::classes::{DirAccess, FileAccess};
use godot::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use wasgo_core::discovery::{self, EntryKind, FolderEntry, ModFolder, ScanRules, ScannedMod};
use wasgo_core::mod_list::{ModList, SandboxRegistry};

use crate::sandboxes::{sandboxes_cfg, DEFAULT_DIR};

fn mods_cfg() -> PathBuf {
    PathBuf::from(settings::globalize("user://wasgo/mods.cfg"))
}

/// Godot's file system as the scanner reads it.
struct GodotFolder;

impl ModFolder for GodotFolder {
    fn list(&self, dir: &str, wasm_only: bool) -> Result<Vec<FolderEntry>, String> {
        let Some(mut d) = DirAccess::open(dir) else {
            return Err(format!(
                "cannot open the folder `{dir}`: {:?}",
                DirAccess::get_open_error()
            ));
        };
        d.set_include_hidden(true);
        d.set_include_navigational(false);
        let mut out = Vec::new();
        if d.list_dir_begin() != godot::global::Error::OK {
            return Err(format!("cannot list the folder `{dir}`"));
        }
        loop {
            let name = d.get_next().to_string();
            if name.is_empty() {
                break;
            }
            if wasm_only && wasgo_core::discovery::wasm_stem(&name).is_none() {
                continue; // not looked at: no link or folder check, no size
            }
            let path = wasgo_core::discovery::join(dir, &name);
            let kind = if d.is_link(name.as_str()) {
                EntryKind::Link
            } else if d.current_is_dir() {
                EntryKind::Folder
            } else {
                EntryKind::File
            };
            // Only a module's size is ever used: a folder mod's other files (its art, hundreds
            // or thousands of them) are not opened (30,000 of them took 0.66 s of a scan).
            let size =
                if kind == EntryKind::File && wasgo_core::discovery::wasm_stem(&name).is_some() {
                    FileAccess::open(&path, ModeFlags::READ)
                        .map(|f| f.get_length())
                        .unwrap_or(0)
                } else {
                    0
                };
            out.push(FolderEntry { name, kind, size });
        }
        d.list_dir_end();
        Ok(out)
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, String> {
        let Some(mut f) = FileAccess::open(path, ModeFlags::READ) else {
            return Err(format!("{:?}", FileAccess::get_open_error()));
        };
        let len = f.get_length().min(max.saturating_add(1));
        Ok(f.get_buffer(len as i64).to_vec())
    }
}

/// `scan_mods(dir)`: the mods in `dir` with their problems, in load order; `Err` when `dir`
/// cannot be scanned.
pub fn scan(dir: &str) -> Result<Vec<(ScannedMod, bool)>, String> {
    let dir = wasgo_core::discovery::folder_path(dir)?;
    // Compared as normalized paths: `user://mods/.` is the sandbox root too.
    let normalized = wasgo_core::mod_list::normalized_path;
    let root = normalized(&settings::globalize(DEFAULT_DIR));
    let global = normalized(&settings::globalize(dir));
    // Without regard to case, as Windows' and macOS' file systems find folders.
    let sandbox_root = global
        .trim_end_matches('/')
        .eq_ignore_ascii_case(root.trim_end_matches('/'));
    let registry = SandboxRegistry::load(&sandboxes_cfg())?;
    let root_prefix = format!("{}/", root.trim_end_matches('/'));
    let inside_root = global
        .get(..root_prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(&root_prefix));
    if let Some(rest) = inside_root.then(|| &global[root_prefix.len()..]) {
        let first = rest.split('/').next().unwrap_or_default();
        if registry
            .names
            .iter()
            .any(|name| name.eq_ignore_ascii_case(first))
        {
            return Err(format!("`{dir}` is inside the sandbox `{DEFAULT_DIR}/{first}/`, where a mod writes its files; scan `{DEFAULT_DIR}` or another folder"));
        }
    }
    let none = BTreeSet::new();
    let runtime = runtime::runtime_for_compile()
        .ok_or_else(|| "the WasGo runtime is not running".to_string())?;
    let (max_bytes, _) = settings::compile_limits();
    let rules = ScanRules {
        sandboxes: if sandbox_root { &registry.names } else { &none },
        level: settings::level_ceiling(),
        max_bytes: max_bytes as u64,
        sandbox_root,
    };
    let compile = |bytes: &[u8], name: &str, path: &str| {
        // A game's own mod shipped precompiled is checked from its artifact (as `wasm_file`
        // would load it): no compile, and in a library without the compiler it is startable.
        if let Some(kind) = shipped_kind(&runtime, bytes, name, path) {
            return Ok(kind);
        }
        runtime.inspect(bytes, name).map_err(|e| e.to_string())
    };
    let found = discovery::scan(&GodotFolder, dir, &rules, &compile)?;
    let list = ModList::load(&mods_cfg())?;
    let enable_new = settings::boolean(settings::MODS_ENABLE_NEW, false);
    let mut found: Vec<(ScannedMod, bool)> = found
        .into_iter()
        .map(|m| {
            let enabled = list.is_enabled(&m.id, enable_new);
            (m, enabled)
        })
        .collect();
    let keys = list.order_keys();
    found.sort_by(|(a, _), (b, _)| keys.key(&a.id).cmp(&keys.key(&b.id)));
    Ok(found)
}

/// The guest kind of the `res://` mod `bytes` at `path` from the precompiled artifact beside
/// it, when that artifact authenticates under the game's key and was made from these very
/// bytes (`None` otherwise: the bytes are inspected as any mod's).
fn shipped_kind(
    runtime: &wasgo_core::Runtime,
    bytes: &[u8],
    name: &str,
    path: &str,
) -> Option<wasgo_core::GuestKind> {
    let artifact = crate::shipped::read_artifact(&crate::shipped::artifact_path(path)?).ok()?;
    let key = crate::shipped::game_key(&[]).ok()?;
    runtime.kind_from_artifact(bytes, &artifact, name, &key)
}

/// One scanned mod as `scan_mods` returns it.
pub fn to_dictionary(m: &ScannedMod, enabled: bool) -> VarDictionary {
    let problems: PackedStringArray = m
        .problems
        .iter()
        .map(|p| GString::from(p.message.as_str()))
        .collect();
    let manifest = m
        .manifest
        .as_ref()
        .map(crate::convert::manifest_dictionary)
        .unwrap_or_default();
    vdict! {
        "id" => m.id.as_str(),
        "path" => m.path.as_str(),
        "folder" => m.folder,
        "sandbox" => format!("{DEFAULT_DIR}/{}/", m.sandbox),
        "size" => m.size as i64,
        "sha256" => m.sha256.as_str(),
        // The word for it; the same text.
        "hash" => m.sha256.as_str(),
        "guest_kind" => m.guest_kind.map(|k| k.as_str()).unwrap_or(""),
        "manifest" => &manifest,
        "level" => m.manifest.as_ref().and_then(|x| x.level).map(|l| l.number() as i64).unwrap_or(0),
        "problems" => &problems,
        "startable" => m.startable(),
        "enabled" => enabled,
    }
}

/// `set_mod_enabled(id, enabled)`.
pub fn set_enabled(id: &str, enabled: bool) -> Result<(), String> {
    ModList::set_enabled(&mods_cfg(), id, enabled).map(|_| ())
}

/// `set_mod_order(ids)`.
pub fn set_order(ids: &[String]) -> Result<(), String> {
    ModList::set_order(&mods_cfg(), ids).map(|_| ())
}

/// `get_mod_order()`.
pub fn order() -> Result<Vec<String>, String> {
    ModList::load(&mods_cfg()).map(|l| l.order)
}

/// A mod `start_mods` starts: its id (the node's name), its file and the level to run it at.
pub struct ModToStart {
    pub id: String,
    pub path: String,
    pub level: i64,
}

/// What `start_mods(parent, dir)` starts: every enabled, startable mod of `dir`, in load order,
/// at the project's level, or the lower one its manifest asks for.
/// Enabled mods that cannot start are skipped with a warning.
pub fn to_start(dir: &str) -> Result<Vec<ModToStart>, String> {
    let mut out = Vec::new();
    for (m, enabled) in scan(dir)? {
        if !enabled {
            continue;
        }
        if !m.startable() {
            let why: Vec<&str> = m.problems.iter().map(|p| p.message.as_str()).collect();
            godot_warn!(
                "WasGo: the enabled mod `{}` does not start: {}",
                m.id,
                why.join("; ")
            );
            continue;
        }
        // The level the game allows (`wasgo/safety/level`), as for any `WasmScript` left at
        // level 0, or less when the manifest asks for less.
        let ceiling = settings::level_ceiling().number() as i64;
        let level = m
            .manifest
            .as_ref()
            .and_then(|x| x.level)
            .map_or(ceiling, |l| (l.number() as i64).min(ceiling));
        out.push(ModToStart {
            id: m.id,
            path: m.path,
            level,
        });
    }
    Ok(out)
}
