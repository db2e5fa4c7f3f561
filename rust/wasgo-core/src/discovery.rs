//! Mod discovery: what a folder of mods holds, decided without running any mod code.
//!
//! Players drop mods into a folder (`user://mods` by default); [`scan`] lists them. A mod is a
//! `.wasm` file directly in the folder (a *single-file mod*, id = the file name without `.wasm`
//! made a [`mod_id`]) or a subfolder holding `<folder>/<folder>.wasm` (a *folder mod*, id = the
//! folder's name made a mod id; other files in the folder are the mod's own, e.g. a README). A
//! folder holding other `.wasm` files but not that one is reported (rename the file).
//!
//! # What is never a mod
//!
//! A level-2 mod writes files into its sandbox, `user://mods/<sandbox>/`, which lies inside the
//! default scan folder. So that nothing a mod writes can become a mod, change another mod or its
//! own code:
//!
//! - a folder WasGo remembers as a sandbox it made ([`SandboxRegistry`](crate::mod_list::SandboxRegistry))
//!   is never listed, nor anything in it;
//! - the sandbox folder of every mod listed here is never listed either (the folder `a/` beside a
//!   single-file mod `a.wasm`; `a-files/` beside a folder mod `a/`), even before it exists (when
//!   the scanned folder is `user://mods`, the sandboxes' root);
//! - a folder mod's sandbox is never its code folder: a mod whose code lies in the folder its id
//!   names gets `<id>-files` ([`sandbox_name`]);
//! - two mods that would share an id (and so a sandbox and saved permissions) or a sandbox are
//!   reported, and only the first in name order may start;
//! - symbolic links are reported and never followed; hidden names (a leading `.`, such as the
//!   temporary files of atomic writes) are skipped; only the folder's direct children and a
//!   folder mod's direct children are looked at.
//!
//! # Bounded work
//!
//! A file over the module size cap is reported with its size and never read; anything else is
//! read once, hashed (SHA-256), its manifest parsed and its ABI checked, then checked through
//! the `compile` callback for its guest kind: in the glue, the runtime's `Runtime::inspect`
//! (wasmtime's validator, linear in the module's size, while the compile itself runs on a
//! background thread, so a module that takes Cranelift seconds never holds the scan and
//! starting the mod later finds it compiled). No mod code runs during a scan: a mod's `config`
//! export runs when it starts.

use crate::grants::mod_id;
use crate::guest_kind::GuestKind;
use crate::level::SafetyLevel;
use crate::manifest::{self, Manifest};
use crate::mod_list::sandbox_name;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// What a folder entry is, as [`ModFolder::list`] sees it (links are never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
    /// A symbolic link (to anything).
    Link,
}

/// One entry of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderEntry {
    pub name: String,
    pub kind: EntryKind,
    /// Bytes, for files.
    pub size: u64,
}

/// The file system as the scanner reads it (Godot's `DirAccess`/`FileAccess` in the glue, so
/// `res://` inside a pack works; `std::fs` in tests). Paths are the folder's path, `/`, a name.
pub trait ModFolder {
    /// The entries directly in `dir`, without `.` and `..`; with `wasm_only`, only those whose
    /// name ends in `.wasm` (a folder mod's inside: its other files, which may be hundreds of
    /// thousands, are passed over without looking at them).
    ///
    /// # Errors
    /// The folder cannot be opened.
    fn list(&self, dir: &str, wasm_only: bool) -> Result<Vec<FolderEntry>, String>;
    /// The file at `path`, at most `max + 1` bytes of it (so a file that grew past `max` since
    /// it was listed shows, without reading it whole).
    ///
    /// # Errors
    /// It cannot be read.
    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, String>;
}

/// Checks a module's bytes under a name and answers its guest kind, or why it does not load
/// (the runtime's `inspect` in the glue: validated at once, compiled in the background).
/// `(bytes, id, path)`: the file's bytes, the mod's id and the file's path (a game's shipped
/// mod may be checked from the precompiled artifact beside it, without compiling).
pub type Compile<'a> = &'a dyn Fn(&[u8], &str, &str) -> Result<GuestKind, String>;

/// What kind of problem a scanned mod has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Cannot be read, is not WebAssembly or does not compile.
    Broken,
    /// Over the module size cap (never read).
    TooLarge,
    /// A symbolic link (not followed).
    Link,
    /// A folder with several `.wasm` files and none named after it.
    Ambiguous,
    /// Shares its id or sandbox with a mod listed before it.
    Duplicate,
    /// Its manifest targets an ABI this host does not run.
    NewerAbi,
    /// Its manifest is malformed (the mod still starts, without a manifest).
    BadManifest,
    /// Its manifest asks for a level or permissions the game's level never gives (it still
    /// starts, at the game's level).
    AboveLevel,
}

impl ProblemKind {
    /// Whether a mod with this problem cannot start.
    pub fn blocks(self) -> bool {
        !matches!(self, ProblemKind::BadManifest | ProblemKind::AboveLevel)
    }
}

/// One problem found, with a message naming the thing and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
}

/// One mod of a scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedMod {
    /// The id the enabled list, the load order, grants and the sandbox use.
    pub id: String,
    /// The `.wasm` file (the scanned folder's path, `/`, ...).
    pub path: String,
    /// Whether it is a folder mod.
    pub folder: bool,
    /// The folder name (under `user://mods/`) its sandbox gets when it runs from there.
    pub sandbox: String,
    pub size: u64,
    /// Hex SHA-256 of the file (empty when it was not read).
    pub sha256: String,
    pub guest_kind: Option<GuestKind>,
    pub manifest: Option<Manifest>,
    pub problems: Vec<Problem>,
}

impl ScannedMod {
    /// Whether the mod may start (no problem blocks it).
    pub fn startable(&self) -> bool {
        self.problems.iter().all(|p| !p.kind.blocks())
    }

    /// Records a problem. Its message names files by the names the folder gave them, which
    /// anyone who put a file there chose: hidden characters (a line break, a bidi override) are
    /// escaped, so the warning a scan prints stays one line that reads as it is.
    fn problem(&mut self, kind: ProblemKind, message: String) {
        let message = crate::text::printable_line(&message).into_owned();
        self.problems.push(Problem { kind, message });
    }
}

/// How a scan is bounded and judged.
pub struct ScanRules<'a> {
    /// Sandbox folder names never listed (those WasGo made, when scanning `user://mods`).
    pub sandboxes: &'a BTreeSet<String>,
    /// The level the game runs mods at (claims above it are reported).
    pub level: SafetyLevel,
    /// Whether the scanned folder is `user://mods`, where sandboxes live: a folder mod whose
    /// folder is named like its id then gets the sandbox `<id>-files`.
    pub sandbox_root: bool,
    /// Files longer than this are reported and never read.
    pub max_bytes: u64,
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// `name` without its `.wasm` extension (in any case), if it has one: how a scan and a start
/// name a mod alike (`x.WASM` ran as `x_WASM` while the scan listed it as `x`).
pub fn wasm_stem(name: &str) -> Option<&str> {
    let n = name.len();
    (n > 5 && name.is_char_boundary(n - 5) && name[n - 5..].eq_ignore_ascii_case(".wasm"))
        .then(|| &name[..n - 5])
}

/// A folder path as a scan uses it: without trailing slashes, except a root (`res://`,
/// `user://`, `/`), which is kept whole (trimming made `res://` into `res:`).
///
/// # Errors
/// An empty path.
pub fn folder_path(dir: &str) -> Result<&str, String> {
    if dir.is_empty() {
        return Err("the mods folder path is empty; pass a folder such as `user://mods`".into());
    }
    let trimmed = dir.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok("/");
    }
    if trimmed.ends_with(':') {
        // `res://`, `user://` (and `C:/`): the root keeps its slashes, two at most.
        return Ok(&dir[..trimmed.len() + (dir.len() - trimmed.len()).min(2)]);
    }
    Ok(trimmed)
}

/// `dir`, `/`, `name` (one slash, also after a root that ends in one).
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Lists the mods in `dir` (see the module essay for every rule). `compile` compiles a module's
/// bytes under a name and answers its guest kind or why it does not compile.
///
/// # Errors
/// `dir` cannot be listed.
pub fn scan(
    folder: &dyn ModFolder,
    dir: &str,
    rules: &ScanRules<'_>,
    compile: Compile<'_>,
) -> Result<Vec<ScannedMod>, String> {
    let dir = folder_path(dir)?;
    let mut entries = folder.list(dir, false)?;
    entries.retain(|e| !is_hidden(&e.name));
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    // Ids and sandbox names are compared without regard to ASCII case: on Windows and macOS
    // `Archivist/` and `archivist/` are one folder.
    let single_ids: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.kind != EntryKind::Folder)
        .filter_map(|e| wasm_stem(&e.name).map(|s| mod_id(s).to_ascii_lowercase()))
        .collect();
    let link_problem = |path: &str| {
        format!("`{path}` is a symbolic link; WasGo does not follow links in a mods folder: copy the mod there instead")
    };
    let mut found: Vec<ScannedMod> = Vec::new();
    for e in &entries {
        let path = join(dir, &e.name);
        let blank = |id: String, folder: bool, path: String, size: u64| ScannedMod {
            sandbox: sandbox_name(&id, rules.sandbox_root && folder && e.name == id),
            id,
            path,
            folder,
            size,
            sha256: String::new(),
            guest_kind: None,
            manifest: None,
            problems: Vec::new(),
        };
        // Godot reads `\` in a path as `/` (on every platform), so `x\payload.wasm` would be read
        // from `x/payload.wasm`: a file in the sandbox of mod `x`, which `x` writes. Such a name
        // is never opened.
        if e.name.contains('\\') && (e.kind == EntryKind::Folder || wasm_stem(&e.name).is_some()) {
            let folder = e.kind == EntryKind::Folder;
            let stem = wasm_stem(&e.name).unwrap_or(&e.name);
            let mut m = blank(mod_id(stem), folder, path.clone(), 0);
            m.problem(ProblemKind::Broken, format!("the name of `{path}` holds a backslash, which Godot reads as a folder separator (it would read another file); it was not read: rename it"));
            found.push(m);
            continue;
        }
        match e.kind {
            EntryKind::File | EntryKind::Link if wasm_stem(&e.name).is_some() => {
                let id = mod_id(wasm_stem(&e.name).unwrap_or_default());
                let mut m = blank(id, false, path.clone(), e.size);
                if e.kind == EntryKind::Link {
                    m.problem(ProblemKind::Link, link_problem(&path));
                }
                found.push(m);
            }
            EntryKind::Folder => {
                let id = mod_id(&e.name);
                let remembered = rules
                    .sandboxes
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&e.name));
                if remembered {
                    continue; // a sandbox: never a mod, nothing in it is looked at
                }
                // Where the single-file mod of that id keeps its files: a mod only when it
                // holds `name/name.wasm` (then both are listed, share the id and neither
                // starts: skipped, a folder mod was silently replaced by a file dropped beside
                // it, which took its grants, its files and its code folder).
                let singles_sandbox = single_ids.contains(&id.to_ascii_lowercase());
                let mut inner = match folder.list(&path, true) {
                    Ok(inner) => inner,
                    Err(e) => {
                        // Listed with its problem: skipped, the player never learnt of the mod.
                        let mut m = blank(id, true, path.clone(), 0);
                        m.problem(ProblemKind::Broken, format!("cannot list the folder `{path}`: {e}; check that the game may read it"));
                        found.push(m);
                        continue;
                    }
                };
                inner.retain(|x| {
                    !is_hidden(&x.name)
                        && x.kind != EntryKind::Folder
                        && wasm_stem(&x.name).is_some()
                });
                inner.sort_by(|a, b| a.name.cmp(&b.name));
                if inner.is_empty() {
                    continue; // a folder without a mod in it (data, or a sandbox)
                }
                match inner
                    .iter()
                    .find(|x| wasm_stem(&x.name) == Some(e.name.as_str()))
                {
                    Some(x) => {
                        let file = format!("{path}/{}", x.name);
                        let mut m = blank(id, true, file.clone(), x.size);
                        if x.kind == EntryKind::Link {
                            m.problem(ProblemKind::Link, link_problem(&file));
                        }
                        found.push(m);
                    }
                    None if singles_sandbox => {}
                    None => {
                        let mut m = blank(id, true, path.clone(), 0);
                        let names: Vec<&str> = inner.iter().map(|x| x.name.as_str()).collect();
                        m.problem(ProblemKind::Ambiguous, format!("the folder `{path}` holds {} but no `{}.wasm`; a folder mod's code is the .wasm named after its folder: rename it", names.join(", "), e.name));
                        found.push(m);
                    }
                }
            }
            EntryKind::Link if wasm_stem(&e.name).is_none() => {
                let mut m = blank(mod_id(&e.name), true, path.clone(), 0);
                m.problem(ProblemKind::Link, link_problem(&path));
                found.push(m);
            }
            _ => {}
        }
    }
    // A link where another mod's sandbox folder goes (`a-files/` of the folder mod `a/`) is
    // nobody's mod, and its owner may not start (below). A real folder mod there stays listed:
    // it and the mod whose sandbox it would be share that name and neither starts
    // (`mark_duplicates`; dropped, a folder mod was replaced by a mod whose sandbox name maps
    // to it, `my mod/` beside `my_mod/`).
    let sandboxes: Vec<(String, String)> = found
        .iter()
        .map(|m| (m.sandbox.clone(), m.path.clone()))
        .collect();
    let mut linked_sandboxes: Vec<String> = Vec::new();
    found.retain(|m| {
        let name = m
            .path
            .strip_prefix(&join(dir, ""))
            .and_then(|p| p.split('/').next())
            .unwrap_or_default();
        let someones_sandbox = m.folder
            && sandboxes
                .iter()
                .any(|(s, p)| s.eq_ignore_ascii_case(name) && *p != m.path);
        let is_link = m.problems.iter().any(|p| p.kind == ProblemKind::Link);
        if someones_sandbox && is_link {
            linked_sandboxes.push(name.to_string());
        }
        !(someones_sandbox && is_link)
    });
    // A link where a mod's sandbox folder goes would send the mod's files wherever it points
    // (a download can hold one): the mod may not start until it is removed.
    for m in found.iter_mut() {
        if linked_sandboxes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&m.sandbox))
        {
            let message = format!("the sandbox folder `{}` of `{}` is a symbolic link; WasGo never writes through one (its files would go wherever it points): remove it", join(dir, &m.sandbox), m.path);
            m.problem(ProblemKind::Link, message);
        }
    }
    mark_duplicates(&mut found);
    for m in &mut found {
        if m.problems.is_empty() {
            assess(folder, m, rules, compile);
        }
    }
    Ok(found)
}

/// Flags every mod sharing an id or a sandbox with another (compared without regard to case):
/// none of them starts. Letting the first in file-name order start let a file added beside an
/// enabled mod, named to map to the same id (`Cool Mod.wasm` beside `Cool_Mod.wasm`: a space
/// sorts first), take its place, its saved permissions and its files.
fn mark_duplicates(found: &mut [ScannedMod]) {
    // Each name (an id, a sandbox folder) and the mods that use it.
    let mut users: std::collections::HashMap<String, Vec<usize>> = Default::default();
    for (i, m) in found.iter().enumerate() {
        let id = m.id.to_ascii_lowercase();
        let sandbox = m.sandbox.to_ascii_lowercase();
        users.entry(id.clone()).or_default().push(i);
        if sandbox != id {
            users.entry(sandbox).or_default().push(i);
        }
    }
    let clashes: Vec<Option<(&str, String, String)>> = found
        .iter()
        .enumerate()
        .map(|(i, m)| {
            [("id", &m.id), ("sandbox folder", &m.sandbox)]
                .into_iter()
                .find_map(|(what, name)| {
                    let other = users
                        .get(&name.to_ascii_lowercase())?
                        .iter()
                        .find(|&&j| j != i)?;
                    Some((what, name.clone(), found[*other].path.clone()))
                })
        })
        .collect();
    for (m, clash) in found.iter_mut().zip(clashes) {
        if let Some((what, name, other)) = clash {
            let message = format!("`{}` would share its {what} (`{name}`: its files and saved permissions) with `{other}`, so neither starts; rename one of them", m.path);
            m.problem(ProblemKind::Duplicate, message);
        }
    }
}

/// Reads, hashes and judges one mod.
fn assess(folder: &dyn ModFolder, m: &mut ScannedMod, rules: &ScanRules<'_>, compile: Compile<'_>) {
    if m.size > rules.max_bytes {
        let message = format!("`{}` is {} bytes, over the module size limit of {} (`wasgo/limits/module_mb`); it was not read", m.path, m.size, rules.max_bytes);
        m.problem(ProblemKind::TooLarge, message);
        return;
    }
    let bytes = match folder.read(&m.path, rules.max_bytes) {
        // The length may have changed since the listing: check again.
        Ok(b) if b.len() as u64 > rules.max_bytes => {
            let message = format!(
                "`{}` is over the module size limit of {} bytes (`wasgo/limits/module_mb`)",
                m.path, rules.max_bytes
            );
            m.problem(ProblemKind::TooLarge, message);
            return;
        }
        Ok(b) => b,
        Err(e) => {
            m.problem(
                ProblemKind::Broken,
                format!("cannot read `{}`: {e}", m.path),
            );
            return;
        }
    };
    m.size = bytes.len() as u64;
    m.sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match manifest::manifest_of_module(&bytes) {
        Ok(found) => m.manifest = found,
        Err(e) => m.problem(
            ProblemKind::BadManifest,
            format!("`{}`: {e}; the mod starts without a manifest", m.path),
        ),
    }
    // Also when the rest of the manifest is malformed (`abi_of_module` reads the `abi` alone).
    if let Err(e) = manifest::abi_of_module(&bytes) {
        m.problem(ProblemKind::NewerAbi, format!("`{}` {e}", m.path));
        return;
    }
    if let Some(manifest) = &m.manifest {
        for claim in manifest::claims_above(manifest, rules.level) {
            m.problem(ProblemKind::AboveLevel, format!("`{}`: {claim}", m.path));
        }
    }
    match compile(&bytes, &m.id, &m.path) {
        Ok(kind) => m.guest_kind = Some(kind),
        Err(e) => m.problem(
            ProblemKind::Broken,
            format!("`{}` does not load: {e}", m.path),
        ),
    }
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
