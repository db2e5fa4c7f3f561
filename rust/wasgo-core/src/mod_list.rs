//! What WasGo keeps about a game's mod folder between runs, in `user://wasgo/` (a folder no mod's
//! sandbox reaches): the enabled list and load order (`mods.cfg`) and the names of the sandbox
//! folders it created (`sandboxes.cfg`).
//!
//! ```ini
//! ; WasGo: the game's mods, enabled and in load order (see the WasGo README)
//! [mods]
//! order=["mover", "greeter"]
//! enabled=["mover"]
//! disabled=["greeter"]
//! ```
//!
//! Both files hold mod ids only (`[A-Za-z0-9_-]`, checked on reading and writing), never paths,
//! so nothing in them can name a file outside the mods folder; anything else in a file is
//! ignored. Every change re-reads the file first (another process may have written it) and
//! writes it atomically (temp file, fsync, rename).
//!
//! **Sandboxes.** A level-2 mod writes into `user://mods/<sandbox>/`, inside the default scan
//! folder. Before a mod can write there, the glue records the sandbox folder's name with
//! [`SandboxRegistry::remember`]; the scanner never lists a remembered folder (nor anything in
//! it), so a file a mod writes can never become a mod.

use crate::grants::is_mod_id;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The longest sandbox folder name (a mod id and the `-files` suffix).
pub const MAX_SANDBOX_NAME: usize = crate::grants::MAX_MOD_ID_BYTES + SANDBOX_SUFFIX.len();

/// What a mod's sandbox folder name gets when the mod's own code lies in the folder its id
/// names (a folder mod `user://mods/a/a.wasm`): `user://mods/a-files/`, so a mod never writes
/// over its own code.
pub const SANDBOX_SUFFIX: &str = "-files";

/// The sandbox folder name (under `user://mods/`) of the mod with id `mod_id`: the id itself,
/// or the id and [`SANDBOX_SUFFIX`] when the mod's code lies inside `user://mods/<mod_id>/`.
pub fn sandbox_name(mod_id: &str, code_inside_id_folder: bool) -> String {
    if code_inside_id_folder {
        format!("{mod_id}{SANDBOX_SUFFIX}")
    } else {
        mod_id.to_string()
    }
}

/// `path` (an absolute path, or a `res://`/`user://` one) with `.` segments and repeated `/`
/// dropped and `..` segments taken back lexically (never above the first segment), so that two
/// spellings of one folder compare equal: `user://mods/./pack/pack.wasm` and
/// `user://mods//pack/pack.wasm` are in `user://mods/pack/` (before, they were not, and such a
/// mod got its own code folder as its sandbox); a `\` is a `/`, as Godot reads it.
pub fn normalized_path(path: &str) -> String {
    // Godot reads `\` as `/` in every path (`user://mods/pack\pack.wasm` is
    // `user://mods/pack/pack.wasm`): so does this.
    let path = path.replace('\\', "/");
    let path = path.as_str();
    let (prefix, rest) = match path.find("://") {
        Some(at) => path.split_at(at + 3),
        None if path.starts_with('/') => ("/", &path[1..]),
        None => ("", path),
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let mut out = format!("{prefix}{}", parts.join("/"));
    if rest.ends_with('/') && !parts.is_empty() {
        out.push('/');
    }
    out
}

fn is_sandbox_name(s: &str) -> bool {
    let id = s.strip_suffix(SANDBOX_SUFFIX).unwrap_or(s);
    is_mod_id(id)
}

/// Parses `["a", "b"]` into the valid ids it holds, in order, without repeats.
fn parse_list(value: &str, valid: fn(&str) -> bool) -> Vec<String> {
    let inner = value.trim().trim_start_matches('[').trim_end_matches(']');
    let mut out: Vec<String> = Vec::new();
    // Repeats found with a set: a file of tens of thousands of ids (which only someone with
    // access to the player's files can write) took seconds with a scan per id.
    let mut seen = std::collections::HashSet::new();
    for item in inner.split(',') {
        let id = item.trim().trim_matches('"');
        if valid(id) && seen.insert(id) {
            out.push(id.to_string());
        }
    }
    out
}

fn render_list(ids: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let quoted: Vec<String> = ids
        .into_iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect();
    format!("[{}]", quoted.join(", "))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    crate::atomic_file::write_atomic(path, text.as_bytes()).map_err(io)
}

fn read(path: &Path) -> Result<String, String> {
    let text = crate::atomic_file::read_plain(path, crate::atomic_file::MAX_STATE_FILE_BYTES)
        .and_then(|bytes| {
            String::from_utf8(bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        });
    match text {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
    }
}

/// The enabled list and load order of a game's mods (`user://wasgo/mods.cfg`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModList {
    /// Ids in load order (mods the game ordered; others come after, by id).
    pub order: Vec<String>,
    pub enabled: BTreeSet<String>,
    pub disabled: BTreeSet<String>,
}

impl ModList {
    /// Reads the list at `path` (a missing file is an empty list).
    ///
    /// # Errors
    /// The file exists but cannot be read.
    pub fn load(path: &Path) -> Result<ModList, String> {
        Ok(ModList::parse(&read(path)?))
    }

    /// The list in `text`; lines it does not understand and invalid ids are ignored.
    pub fn parse(text: &str) -> ModList {
        let mut list = ModList::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let ids = parse_list(value, is_mod_id);
            match key.trim() {
                "order" => list.order = ids,
                "enabled" => list.enabled = ids.into_iter().collect(),
                "disabled" => list.disabled = ids.into_iter().collect(),
                _ => {}
            }
        }
        // A mod both enabled and disabled (a hand edit) is disabled.
        list.enabled.retain(|id| !list.disabled.contains(id));
        list
    }

    /// The file content.
    pub fn render(&self) -> String {
        format!(
            "; WasGo: the game's mods, enabled and in load order (see the WasGo README)\n[mods]\norder={}\nenabled={}\ndisabled={}\n",
            render_list(&self.order),
            render_list(&self.enabled),
            render_list(&self.disabled)
        )
    }

    /// Whether the mod `id` is enabled; a mod never enabled or disabled follows `new_default`.
    pub fn is_enabled(&self, id: &str, new_default: bool) -> bool {
        if self.enabled.contains(id) {
            true
        } else if self.disabled.contains(id) {
            false
        } else {
            new_default
        }
    }

    /// Enables or disables `id` in the file at `path` (re-read first, written atomically).
    ///
    /// # Errors
    /// `id` is not a mod id, or the file cannot be read or written.
    pub fn set_enabled(path: &Path, id: &str, enabled: bool) -> Result<ModList, String> {
        if !is_mod_id(id) {
            return Err(format!(
                "`{id}` is not a mod id (letters, digits, `-` and `_`, as `scan_mods` lists them)"
            ));
        }
        let mut list = ModList::load(path)?;
        if enabled {
            list.disabled.remove(id);
            list.enabled.insert(id.to_string());
        } else {
            list.enabled.remove(id);
            list.disabled.insert(id.to_string());
        }
        write(path, &list.render())?;
        Ok(list)
    }

    /// Puts `ids` first in the load order, in that order; ids ordered before and not named keep
    /// their order after them.
    ///
    /// # Errors
    /// An entry is not a mod id (nothing is written), or the file cannot be read or written.
    pub fn set_order(path: &Path, ids: &[String]) -> Result<ModList, String> {
        if let Some(bad) = ids.iter().find(|id| !is_mod_id(id)) {
            return Err(format!("`{bad}` is not a mod id (letters, digits, `-` and `_`, as `scan_mods` lists them); the order was not changed"));
        }
        let mut list = ModList::load(path)?;
        let mut order: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for id in ids.iter().chain(list.order.iter()) {
            if seen.insert(id.as_str()) {
                order.push(id.clone());
            }
        }
        list.order = order;
        write(path, &list.render())?;
        Ok(list)
    }

    /// The load order as sort keys ([`OrderKeys::key`]), looked up by id.
    pub fn order_keys(&self) -> OrderKeys<'_> {
        let mut positions = std::collections::HashMap::new();
        for (i, id) in self.order.iter().enumerate() {
            positions.entry(id.as_str()).or_insert(i);
        }
        OrderKeys(positions)
    }
}

/// A [`ModList`]'s load order, by id.
pub struct OrderKeys<'a>(std::collections::HashMap<&'a str, usize>);

impl OrderKeys<'_> {
    /// The position of `id` in load order: ordered ids first, then the rest by id.
    pub fn key<'b>(&self, id: &'b str) -> (usize, &'b str) {
        match self.0.get(id) {
            Some(&i) => (i, ""),
            None => (usize::MAX, id),
        }
    }
}

/// The sandbox folders WasGo created under `user://mods/` (`user://wasgo/sandboxes.cfg`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxRegistry {
    pub names: BTreeSet<String>,
}

impl SandboxRegistry {
    /// Reads the registry at `path` (a missing file is empty).
    ///
    /// # Errors
    /// The file exists but cannot be read.
    pub fn load(path: &Path) -> Result<SandboxRegistry, String> {
        let text = read(path)?;
        let names = text
            .lines()
            .find_map(|l| l.strip_prefix("sandboxes="))
            .map(|v| parse_list(v, is_sandbox_name))
            .unwrap_or_default();
        Ok(SandboxRegistry {
            names: names.into_iter().collect(),
        })
    }

    /// Records the sandbox folder `name` (re-read first, written atomically when it is new).
    ///
    /// # Errors
    /// `name` is not a sandbox folder name, or the file cannot be read or written.
    pub fn remember(path: &Path, name: &str) -> Result<(), String> {
        if !is_sandbox_name(name) {
            return Err(format!("`{name}` is not a sandbox folder name"));
        }
        let mut registry = SandboxRegistry::load(path)?;
        if registry.names.insert(name.to_string()) {
            let text = format!(
                "; WasGo: the sandbox folders it made under user://mods/; scan_mods never lists them\n[sandboxes]\nsandboxes={}\n",
                render_list(&registry.names)
            );
            write(path, &text)?;
        }
        Ok(())
    }
}

/// `user://wasgo/` as a host path, given `user://` as one.
pub fn wasgo_dir(user_dir: &Path) -> PathBuf {
    user_dir.join("wasgo")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_path_normalize_to_one() {
        for (given, plain) in [
            ("user://mods/./pack/pack.wasm", "user://mods/pack/pack.wasm"),
            ("user://mods//pack/pack.wasm", "user://mods/pack/pack.wasm"),
            ("user://mods/x/../pack/", "user://mods/pack/"),
            ("/home/a/./b//c", "/home/a/b/c"),
            ("user://../../etc", "user://etc"),
            ("user://mods", "user://mods"),
            // Godot reads `\` as `/`.
            ("user://mods/pack\\pack.wasm", "user://mods/pack/pack.wasm"),
            ("user://mods\\x\\..\\pack\\", "user://mods/pack/"),
        ] {
            assert_eq!(normalized_path(given), plain, "{given}");
        }
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        std::env::temp_dir().join(format!(
            "wasgo-modlist-{tag}-{}-{nanos}",
            std::process::id()
        ))
    }

    #[test]
    fn enabled_list_and_order_survive_reopening() {
        let path = temp_dir("order").join("mods.cfg");
        ModList::set_enabled(&path, "b", true).unwrap();
        ModList::set_enabled(&path, "a", false).unwrap();
        ModList::set_order(&path, &["b".into(), "a".into()]).unwrap();
        ModList::set_order(&path, &["c".into()]).unwrap();
        let list = ModList::load(&path).unwrap();
        assert_eq!(list.order, ["c", "b", "a"]);
        assert!(list.is_enabled("b", false));
        assert!(!list.is_enabled("a", true));
        assert!(list.is_enabled("new", true) && !list.is_enabled("new", false));
        let keys = list.order_keys();
        assert!(keys.key("b") < keys.key("a"));
        assert!(keys.key("a") < keys.key("zzz"));
        assert!(keys.key("x") < keys.key("y"));
    }

    #[test]
    fn a_list_of_many_ids_is_read_without_repeats() {
        // (40,000 ids took 3.7 s with a scan per id for repeats; a set makes it linear.)
        let ids: Vec<String> = (0..200_000).map(|i| format!("\"m{i:07}\"")).collect();
        let text = format!("[{}, \"m0000001\"]", ids.join(", "));
        let parsed = parse_list(&text, is_mod_id);
        assert_eq!(parsed.len(), 200_000);
        let list = ModList {
            order: parsed,
            ..ModList::default()
        };
        let keys = list.order_keys();
        assert_eq!(keys.key("m0000001"), (1, ""));
    }

    #[test]
    fn ids_that_could_name_paths_are_refused_and_ignored() {
        let path = temp_dir("paths").join("mods.cfg");
        assert!(ModList::set_enabled(&path, "../evil", true).is_err());
        assert!(ModList::set_enabled(&path, "a/b", true).is_err());
        assert!(ModList::set_order(&path, &["ok".into(), "..".into()]).is_err());
        assert!(!path.exists(), "nothing written for a refused change");
        let list = ModList::parse("[mods]\norder=[\"../x\", \"ok\", \"/etc\", \"ok\"]\nenabled=[\"a b\", \"good\"]\ngarbage\n");
        assert_eq!(list.order, ["ok"]);
        assert_eq!(list.enabled.iter().collect::<Vec<_>>(), ["good"]);
    }

    #[test]
    fn sandboxes_are_remembered_once_and_bad_names_refused() {
        let path = temp_dir("sandboxes").join("sandboxes.cfg");
        SandboxRegistry::remember(&path, "mover").unwrap();
        SandboxRegistry::remember(&path, "pack-files").unwrap();
        SandboxRegistry::remember(&path, "mover").unwrap();
        assert!(SandboxRegistry::remember(&path, "../x").is_err());
        let names = SandboxRegistry::load(&path).unwrap().names;
        assert_eq!(names.iter().collect::<Vec<_>>(), ["mover", "pack-files"]);
    }

    #[test]
    fn a_mods_sandbox_is_never_its_own_code_folder() {
        assert_eq!(sandbox_name("a", false), "a");
        assert_eq!(sandbox_name("a", true), "a-files");
        let long = "x".repeat(crate::grants::MAX_MOD_ID_BYTES);
        assert_ne!(sandbox_name(&long, true), long);
    }
}
