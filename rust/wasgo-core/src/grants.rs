//! Permissions granted to mods, kept between runs of the game.
//!
//! The game grants a mod a permission kind (`files`, `network`) with
//! `WasmScript.grant_permission`; the grant is saved under the mod's id in a small text file
//! (`user://wasgo/permissions.cfg`, in Godot's `ConfigFile` syntax) and applies again the next
//! time the game starts that mod; `revoke_permission` removes it. Only the kinds WasGo checks
//! ([`Permission`](crate::permissions::Permission)) are saved.
//!
//! ```ini
//! ; WasGo: permissions granted to mods, by mod id (see the WasGo README)
//! [archivist]
//! files=true
//! ```
//!
//! A mod's id comes from the name the game gives its module (the `.wasm` file's name, or the
//! name passed to `WasmEngine.compile_module`), never from anything inside the module, so a mod
//! cannot pick another mod's id. See [`mod_id`].
//!
//! Every change re-reads the file before writing it back (so two game processes do not undo
//! each other's grants) and writes it atomically (temp file, fsync, rename).

use crate::permissions::Permission;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest mod id, in bytes (longer names are cut).
pub const MAX_MOD_ID_BYTES: usize = 100;

/// A mod's id: the module's name with every character outside `[A-Za-z0-9_-]` replaced by `_`,
/// at most [`MAX_MOD_ID_BYTES`] long; `mod` for an empty name. The id names the mod's sandbox
/// directory (`user://mods/<mod_id>/`) and its saved permissions.
///
/// A hidden character (a zero-width space, a bidi override, a line break) counts as the
/// `\u{..}` escape a module's name shows it as ([`crate::text::printable_line`]), so a file's
/// raw name and the name of the module loaded from it give the same id: `cool<U+200B>mod`
/// and `cool_u_200b_mod` are one mod, as at run time, and the mod folder's scan calls them
/// duplicates instead of listing two mods that share a sandbox and grants.
pub fn mod_id(name: &str) -> String {
    // Most names are ids already (every `start()` asks): one copy.
    if is_mod_id(name) {
        return name.to_string();
    }
    let shown = crate::text::printable_line(name);
    let id: String = shown
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_MOD_ID_BYTES)
        .collect();
    if id.is_empty() {
        "mod".into()
    } else {
        id
    }
}

/// Whether `s` is a mod id as [`mod_id`] makes them: 1 to [`MAX_MOD_ID_BYTES`] of `[A-Za-z0-9_-]`.
pub fn is_mod_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_MOD_ID_BYTES
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

type GrantMap = BTreeMap<String, BTreeSet<String>>;

/// The saved grants of every mod, backed by a file (or only in memory).
#[derive(Debug, Default)]
pub struct GrantStore {
    path: Option<PathBuf>,
    grants: GrantMap,
}

impl GrantStore {
    /// A store that saves nothing (used when there is no `user://`).
    pub fn in_memory() -> GrantStore {
        GrantStore::default()
    }

    /// Opens the store at `path`. A missing file is an empty store; an unreadable one too, with
    /// the reason as the second value.
    pub fn open(path: PathBuf) -> (GrantStore, Option<String>) {
        let (grants, problem) = match read(&path) {
            Ok(g) => (g, None),
            Err(e) => (GrantMap::new(), Some(e)),
        };
        (
            GrantStore {
                path: Some(path),
                grants,
            },
            problem,
        )
    }

    /// Where the store is saved, if anywhere.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The kinds saved for `mod_id`, sorted.
    pub fn kinds(&self, mod_id: &str) -> Vec<String> {
        self.grants
            .get(mod_id)
            .map(|k| k.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Saves a grant. Kinds WasGo does not check are not saved (returns `Ok(false)`).
    ///
    /// # Errors
    /// The file could not be written; the grant still holds for this run.
    pub fn grant(&mut self, mod_id: &str, kind: &str) -> Result<bool, String> {
        if Permission::parse(kind).is_none() || !is_mod_id(mod_id) {
            return Ok(false);
        }
        self.change(|g| {
            g.entry(mod_id.to_string())
                .or_default()
                .insert(kind.to_string());
        })?;
        Ok(true)
    }

    /// Removes a saved grant (nothing happens if there was none).
    ///
    /// # Errors
    /// The file could not be written; the grant is still gone for this run.
    pub fn revoke(&mut self, mod_id: &str, kind: &str) -> Result<(), String> {
        self.change(|g| {
            if let Some(kinds) = g.get_mut(mod_id) {
                kinds.remove(kind);
                if kinds.is_empty() {
                    g.remove(mod_id);
                }
            }
        })
    }

    /// Applies `edit` to the file's current content and writes the result. When the file is
    /// there but cannot be read, the edit holds for this run and the file is left alone:
    /// written from memory, it lost every grant it held that this run had not read.
    fn change(&mut self, edit: impl Fn(&mut GrantMap)) -> Result<(), String> {
        let mut unreadable = None;
        if let Some(path) = &self.path {
            match read(path) {
                Ok(current) => self.grants = current,
                Err(e) => unreadable = Some(e),
            }
        }
        edit(&mut self.grants);
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(e) = unreadable {
            return Err(format!(
                "{e}; the change holds for this run but is not saved (saving would drop the grants the file holds)"
            ));
        }
        write_atomically(path, render(&self.grants).as_bytes()).map_err(|e| {
            format!(
                "cannot save the mod permissions to `{}`: {e}",
                path.display()
            )
        })
    }
}

/// Reads a grants file; a missing file is empty. Bytes that are not UTF-8 (a player's note
/// saved in another encoding) are read around, as Godot's `ConfigFile` does: one such byte
/// made the whole file unreadable.
fn read(path: &Path) -> Result<GrantMap, String> {
    match crate::atomic_file::read_plain(path, crate::atomic_file::MAX_STATE_FILE_BYTES) {
        Ok(bytes) => Ok(parse(&String::from_utf8_lossy(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(GrantMap::new()),
        Err(e) => Err(format!(
            "cannot read the mod permissions in `{}`: {e}",
            path.display()
        )),
    }
}

/// Parses the `ConfigFile` subset WasGo writes: `[mod_id]` sections with `kind=true` lines.
/// Anything else (comments, unknown kinds, `false`, malformed lines) is ignored.
pub fn parse(text: &str) -> GrantMap {
    let mut grants = GrantMap::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = is_mod_id(name).then(|| name.to_string());
            continue;
        }
        let (Some(id), Some((key, value))) = (&section, line.split_once('=')) else {
            continue;
        };
        let key = key.trim();
        if Permission::parse(key).is_some() && value.trim() == "true" {
            grants
                .entry(id.clone())
                .or_default()
                .insert(key.to_string());
        }
    }
    grants
}

/// The file content for `grants`.
pub fn render(grants: &GrantMap) -> String {
    let mut out =
        String::from("; WasGo: permissions granted to mods, by mod id (see the WasGo README).\n");
    for (id, kinds) in grants {
        out.push_str(&format!("\n[{id}]\n"));
        for kind in kinds {
            out.push_str(&format!("{kind}=true\n"));
        }
    }
    out
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    crate::atomic_file::write_atomic(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path() -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        std::env::temp_dir()
            .join(format!("wasgo-grants-{}-{nanos}", std::process::id()))
            .join("permissions.cfg")
    }

    #[test]
    fn a_name_with_hidden_characters_has_the_id_of_its_escaped_form() {
        let raw = "cool\u{200b}mod";
        let shown = crate::text::printable_line(raw);
        assert_eq!(shown, "cool\\u{200b}mod");
        assert_eq!(mod_id(raw), mod_id(&shown));
        assert_eq!(mod_id(raw), "cool_u_200b_mod");
        assert_eq!(mod_id("a\nb"), mod_id(&crate::text::printable_line("a\nb")));
    }

    #[test]
    fn mod_ids_are_sanitised_file_names() {
        assert_eq!(mod_id("archivist"), "archivist");
        assert_eq!(mod_id("my mod.v2"), "my_mod_v2");
        assert_eq!(mod_id("../../etc"), "______etc");
        assert_eq!(mod_id(""), "mod");
        assert_eq!(mod_id(&"x".repeat(300)).len(), MAX_MOD_ID_BYTES);
        assert_eq!(
            mod_id(&"y".repeat(MAX_MOD_ID_BYTES)),
            "y".repeat(MAX_MOD_ID_BYTES)
        );
        assert_eq!(mod_id("héllo-wörld_2"), "h_llo-w_rld_2");
        // An id is its own id, and every id made passes `is_mod_id`.
        for name in [
            "archivist",
            "my mod.v2",
            "",
            "héllo",
            "a-b_c",
            "ü",
            &"z".repeat(101),
        ] {
            let id = mod_id(name);
            assert!(is_mod_id(&id), "{id:?}");
            assert_eq!(mod_id(&id), id);
        }
    }

    #[test]
    fn grants_survive_reopening_and_revoke_removes_them() {
        let path = temp_path();
        let (mut store, problem) = GrantStore::open(path.clone());
        assert!(problem.is_none());
        assert!(store.grant("alpha", "files").unwrap());
        assert!(store.grant("alpha", "network").unwrap());
        assert!(store.grant("beta", "files").unwrap());
        assert!(
            !store.grant("beta", "rocket_launch").unwrap(),
            "unknown kinds are not saved"
        );
        let (mut again, _) = GrantStore::open(path.clone());
        assert_eq!(again.kinds("alpha"), vec!["files", "network"]);
        assert_eq!(again.kinds("beta"), vec!["files"]);
        again.revoke("alpha", "files").unwrap();
        again.revoke("beta", "files").unwrap();
        let (third, _) = GrantStore::open(path.clone());
        assert_eq!(third.kinds("alpha"), vec!["network"]);
        assert!(third.kinds("beta").is_empty());
        assert!(!std::fs::read_to_string(&path).unwrap().contains("[beta]"));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_byte_that_is_not_utf8_loses_no_grant() {
        // A player's note saved in Latin-1 (one `é` byte): the file read around it, and a new
        // grant keeps the other mod's (every grant was dropped and the file rewritten without).
        let path = temp_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            b"; player notes: caf\xE9\n\n[other]\nfiles=true\nnetwork=true\n",
        )
        .unwrap();
        let (mut store, problem) = GrantStore::open(path.clone());
        assert!(problem.is_none(), "{problem:?}");
        assert_eq!(store.kinds("other"), vec!["files", "network"]);
        store.grant("new", "files").unwrap();
        let (again, _) = GrantStore::open(path.clone());
        assert_eq!(again.kinds("other"), vec!["files", "network"]);
        assert_eq!(again.kinds("new"), vec!["files"]);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn a_file_that_cannot_be_read_is_not_written_over() {
        let path = temp_path();
        // A directory where the file should be: it cannot be read, nor replaced by a file.
        std::fs::create_dir_all(&path).unwrap();
        let (mut store, _) = GrantStore::open(path.clone());
        let err = store.grant("m", "files").unwrap_err();
        assert!(err.contains("not saved"), "{err}");
        assert_eq!(
            store.kinds("m"),
            vec!["files"],
            "the grant holds for this run"
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn changes_merge_with_what_another_process_wrote() {
        let path = temp_path();
        let (mut a, _) = GrantStore::open(path.clone());
        let (mut b, _) = GrantStore::open(path.clone());
        a.grant("one", "files").unwrap();
        b.grant("two", "network").unwrap();
        let (c, _) = GrantStore::open(path.clone());
        assert_eq!(
            (c.kinds("one"), c.kinds("two")),
            (vec!["files".to_string()], vec!["network".to_string()])
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn parsing_ignores_anything_unexpected() {
        let g = parse("[ok]\nfiles=true\nnetwork=false\nroot=true\n[../bad]\nfiles=true\nnoise\n[ok2]\n network = true \n");
        assert_eq!(g.len(), 2);
        assert_eq!(g["ok"].iter().collect::<Vec<_>>(), vec!["files"]);
        assert_eq!(g["ok2"].iter().collect::<Vec<_>>(), vec!["network"]);
        assert_eq!(parse(&render(&g)), g);
    }
}
