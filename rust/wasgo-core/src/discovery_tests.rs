//! Tests of `discovery.rs` on real folders (a `std::fs` `ModFolder`), including the sandbox
//! attacks the module essay lists.

use super::*;
use std::path::{Path, PathBuf};

/// `std::fs` as the scanner's file system; links are reported, never followed.
struct Disk;

impl ModFolder for Disk {
    fn list(&self, dir: &str, wasm_only: bool) -> Result<Vec<FolderEntry>, String> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
            let e = e.map_err(|e| e.to_string())?;
            if wasm_only && wasm_stem(&e.file_name().to_string_lossy()).is_none() {
                continue;
            }
            let meta = std::fs::symlink_metadata(e.path()).map_err(|e| e.to_string())?;
            let kind = if meta.file_type().is_symlink() {
                EntryKind::Link
            } else if meta.is_dir() {
                EntryKind::Folder
            } else {
                EntryKind::File
            };
            out.push(FolderEntry {
                name: e.file_name().to_string_lossy().into_owned(),
                kind,
                size: meta.len(),
            });
        }
        Ok(out)
    }

    fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, String> {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("wasgo-scan-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A valid binary module, with a manifest section holding `json` when given.
fn module(json: Option<&str>) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    if let Some(json) = json {
        let name = wasgo_catalog::MANIFEST_SECTION;
        let mut payload = vec![name.len() as u8];
        payload.extend_from_slice(name.as_bytes());
        payload.extend_from_slice(json.as_bytes());
        assert!(payload.len() < 128);
        m.push(0);
        m.push(payload.len() as u8);
        m.extend_from_slice(&payload);
    }
    m
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Compiles as the runtime would only care about here: a `\0asm` header is "wasgo", else broken.
fn fake_compile(bytes: &[u8], _name: &str, _path: &str) -> Result<GuestKind, String> {
    if bytes.starts_with(b"\0asm") {
        Ok(GuestKind::Wasgo)
    } else {
        Err("not a WebAssembly module (no `\\0asm` header)".into())
    }
}

fn run(dir: &Path, sandboxes: &[&str], level: SafetyLevel, max: u64) -> Vec<ScannedMod> {
    let sandboxes: BTreeSet<String> = sandboxes.iter().map(|s| s.to_string()).collect();
    let rules = ScanRules {
        sandboxes: &sandboxes,
        level,
        max_bytes: max,
        sandbox_root: true,
    };
    scan(&Disk, dir.to_str().unwrap(), &rules, &fake_compile).unwrap()
}

fn ids(found: &[ScannedMod]) -> Vec<&str> {
    found.iter().map(|m| m.id.as_str()).collect()
}

#[test]
fn a_good_mod_a_broken_file_and_a_greedy_mod_are_each_described() {
    let dir = temp_dir("kinds");
    write(
        &dir.join("good.wasm"),
        &module(Some(r#"{"name":"Good","level":1}"#)),
    );
    write(&dir.join("broken.wasm"), b"this is text");
    write(&dir.join("greedy.wasm"), &module(Some(r#"{"level":3}"#)));
    write(&dir.join("notes.txt"), b"not a mod");
    let found = run(&dir, &[], SafetyLevel::Safe, 1 << 20);
    assert_eq!(ids(&found), ["broken", "good", "greedy"]);
    let [broken, good, greedy] = &found[..] else {
        unreachable!()
    };
    assert!(
        good.problems.is_empty() && good.startable(),
        "{:?}",
        good.problems
    );
    assert_eq!(
        good.manifest.as_ref().unwrap().name.as_deref(),
        Some("Good")
    );
    assert_eq!(good.sha256.len(), 64);
    assert_eq!(good.guest_kind, Some(GuestKind::Wasgo));
    assert_eq!(broken.problems[0].kind, ProblemKind::Broken);
    assert!(!broken.startable());
    assert_eq!(greedy.problems[0].kind, ProblemKind::AboveLevel);
    assert!(
        greedy.problems[0].message.contains("safety level 3"),
        "{}",
        greedy.problems[0].message
    );
    assert!(
        greedy.startable(),
        "a claim above the level is reported, the mod still starts"
    );
}

#[test]
fn a_file_name_with_hidden_characters_is_shown_escaped_in_problems() {
    let dir = temp_dir("names");
    write(&dir.join("b\nERROR: fake.wasm"), b"garbage");
    write(&dir.join("ok\u{202e}txt.wasm"), b"garbage");
    let found = run(&dir, &[], SafetyLevel::Safe, 1 << 20);
    assert_eq!(found.len(), 2);
    for m in &found {
        let message = &m.problems[0].message;
        assert!(!message.chars().any(crate::text::is_hidden), "{message:?}");
        assert!(message.contains("\\u{"), "{message}");
    }
}

#[test]
fn a_mod_for_a_newer_abi_is_refused_and_a_malformed_manifest_only_reported() {
    let dir = temp_dir("abi");
    write(
        &dir.join("future.wasm"),
        &module(Some(r#"{"abi":"1.999"}"#)),
    );
    write(
        &dir.join("sloppy.wasm"),
        &module(Some(r#"{"level":"high"}"#)),
    );
    let found = run(&dir, &[], SafetyLevel::Safe, 1 << 20);
    assert_eq!(found[0].problems[0].kind, ProblemKind::NewerAbi);
    assert!(
        found[0].problems[0].message.contains("ABI 1.999"),
        "{}",
        found[0].problems[0].message
    );
    assert!(!found[0].startable());
    assert_eq!(found[1].problems[0].kind, ProblemKind::BadManifest);
    assert!(found[1].startable());
}

#[test]
fn a_file_over_the_cap_is_reported_and_never_read() {
    let dir = temp_dir("huge");
    write(&dir.join("huge.wasm"), &vec![0u8; 4096]);
    let found = run(&dir, &[], SafetyLevel::Safe, 1024);
    assert_eq!(found[0].problems[0].kind, ProblemKind::TooLarge);
    assert!(found[0].sha256.is_empty(), "not read, so not hashed");
}

#[test]
fn what_a_single_file_mod_writes_into_its_sandbox_never_becomes_a_mod() {
    // `a.wasm`'s sandbox is `a/`: a level-2 mod writes `a/a.wasm` and `a/evil.wasm` there.
    let dir = temp_dir("single");
    write(&dir.join("a.wasm"), &module(None));
    write(&dir.join("a/a.wasm"), &module(None));
    write(&dir.join("a/evil.wasm"), &module(None));
    // Remembered (WasGo remembers a sandbox before a mod may write there): never listed.
    assert_eq!(
        ids(&run(&dir, &["a"], SafetyLevel::Wrapped, 1 << 20)),
        ["a"]
    );
    // Not remembered (a sandbox made before the registry existed): `a/a.wasm` is listed as the
    // folder mod `a`, and neither `a` starts (it could be a real folder mod a file dropped
    // beside it would take over).
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    assert_eq!(ids(&found), ["a", "a"]);
    assert!(found.iter().all(|m| !m.startable()), "{found:?}");
    // A remembered sandbox whose single-file mod was removed is still never a mod.
    std::fs::remove_file(dir.join("a.wasm")).unwrap();
    assert!(run(&dir, &["a"], SafetyLevel::Wrapped, 1 << 20).is_empty());
}

/// A file dropped beside a folder mod, named to map to its id, or a folder whose sandbox name
/// maps to another folder mod: listed with the mod they would replace, and none starts (the
/// folder mod was dropped as "that file's sandbox" and the newcomer took its grants, its files
/// and its code folder).
#[test]
fn a_mod_named_to_take_a_folder_mods_place_is_flagged_with_it() {
    let dir = temp_dir("takeover");
    write(&dir.join("notes/notes.wasm"), &module(None));
    write(&dir.join("notes.wasm"), &module(None));
    write(&dir.join("my_mod/my_mod.wasm"), &module(None));
    write(&dir.join("my mod/my mod.wasm"), &module(None));
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    assert_eq!(found.len(), 4, "{found:?}");
    for m in &found {
        assert!(!m.startable(), "{m:?}");
        assert_eq!(m.problems[0].kind, ProblemKind::Duplicate, "{m:?}");
    }
}

#[test]
fn a_folder_mods_sandbox_is_not_its_code_folder_and_what_it_writes_is_not_a_mod() {
    // `pack/pack.wasm` (id `pack`) gets the sandbox `pack-files/`, not its own code folder.
    let dir = temp_dir("folder");
    write(&dir.join("pack/pack.wasm"), &module(None));
    write(&dir.join("pack/readme.txt"), b"hello");
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    assert_eq!(ids(&found), ["pack"]);
    assert!(found[0].folder);
    assert_eq!(found[0].sandbox, "pack-files");
    assert!(found[0].path.ends_with("pack/pack.wasm"));
    // The mod writes a module into its sandbox `pack-files/`: never listed once remembered
    // (WasGo remembers a sandbox before a mod may write there).
    write(&dir.join("pack-files/pack-files.wasm"), &module(None));
    write(&dir.join("pack-files/x.wasm"), &module(None));
    assert_eq!(
        ids(&run(&dir, &["pack-files"], SafetyLevel::Wrapped, 1 << 20)),
        ["pack"]
    );
    // Not remembered: listed, and neither it nor `pack` (whose sandbox it is) starts.
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    assert_eq!(ids(&found), ["pack", "pack-files"]);
    assert!(found.iter().all(|m| !m.startable()), "{found:?}");
}

#[test]
fn a_single_file_mod_cannot_take_a_folder_mods_sandbox() {
    let dir = temp_dir("squat");
    write(&dir.join("pack/pack.wasm"), &module(None));
    write(&dir.join("pack-files.wasm"), &module(None));
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    let squatter = found.iter().find(|m| m.id == "pack-files").unwrap();
    let pack = found.iter().find(|m| m.id == "pack").unwrap();
    // Neither starts: the player sees both named and renames one.
    assert!(!pack.startable(), "{:?}", pack.problems);
    assert!(!squatter.startable(), "{:?}", squatter.problems);
    assert_eq!(squatter.problems[0].kind, ProblemKind::Duplicate);
    assert_eq!(pack.problems[0].kind, ProblemKind::Duplicate);
}

#[test]
fn mods_sharing_an_id_are_reported_and_neither_starts() {
    // `a b.wasm` sorts before `a_b.wasm`: a file added beside an enabled mod would take its
    // place, its saved permissions and its files, if the first could start.
    let dir = temp_dir("dup");
    write(&dir.join("a b.wasm"), &module(None));
    write(&dir.join("a_b.wasm"), &module(None));
    write(&dir.join("other.wasm"), &module(None));
    let found = run(&dir, &[], SafetyLevel::Safe, 1 << 20);
    assert_eq!(ids(&found), ["a_b", "a_b", "other"]);
    for m in &found[..2] {
        assert_eq!(m.problems[0].kind, ProblemKind::Duplicate, "{m:?}");
        assert!(m.problems[0].message.contains("neither starts"), "{m:?}");
    }
    assert!(found[2].startable());
}

#[test]
fn symlinks_are_reported_and_not_followed() {
    let dir = temp_dir("links");
    let outside = temp_dir("outside");
    write(&outside.join("secret.wasm"), &module(None));
    std::os::unix::fs::symlink(outside.join("secret.wasm"), dir.join("link.wasm")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("linked")).unwrap();
    write(&dir.join("inner/inner.wasm"), &module(None));
    std::fs::remove_file(dir.join("inner/inner.wasm")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.wasm"), dir.join("inner/inner.wasm")).unwrap();
    let found = run(&dir, &[], SafetyLevel::Safe, 1 << 20);
    assert_eq!(found.len(), 3, "{found:?}");
    for m in &found {
        assert_eq!(m.problems[0].kind, ProblemKind::Link, "{m:?}");
        assert!(m.sha256.is_empty(), "a link is never read: {m:?}");
    }
}

/// A folder whose one `.wasm` is named otherwise is not taken for the folder's mod: the node
/// would run it under the file's name (`x`), with mod `x`'s grants and sandbox, while the scan
/// listed it as the folder's.
#[test]
fn a_folder_whose_module_is_named_otherwise_is_reported_not_started() {
    let dir = temp_dir("one_in_folder");
    write(&dir.join("pack/notes.wasm"), &module(None));
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    assert_eq!(ids(&found), ["pack"]);
    assert!(!found[0].startable());
    assert_eq!(found[0].problems[0].kind, ProblemKind::Ambiguous);
    assert!(
        found[0].problems[0].message.contains("no `pack.wasm`"),
        "{}",
        found[0].problems[0].message
    );
}

#[test]
fn a_folder_with_several_modules_and_none_named_after_it_is_ambiguous() {
    let dir = temp_dir("ambiguous");
    write(&dir.join("kit/one.wasm"), &module(None));
    write(&dir.join("kit/two.wasm"), &module(None));
    write(&dir.join("solo/solo.wasm"), &module(None));
    write(&dir.join("solo/extra.wasm"), &module(None));
    write(&dir.join("data/readme.txt"), b"no module");
    write(&dir.join(".hidden.wasm"), &module(None));
    let found = run(&dir, &[], SafetyLevel::Safe, 1 << 20);
    assert_eq!(ids(&found), ["kit", "solo"]);
    assert_eq!(found[0].problems[0].kind, ProblemKind::Ambiguous);
    assert!(
        found[0].problems[0].message.contains("no `kit.wasm`"),
        "{}",
        found[0].problems[0].message
    );
    assert!(found[1].startable() && found[1].path.ends_with("solo/solo.wasm"));
}

#[test]
fn a_link_where_a_mods_sandbox_goes_keeps_the_mod_from_starting() {
    // A download holding `bar/bar.wasm` and a link `bar-files` -> anywhere: the mod's files
    // would be read and written wherever the link points. The link was dropped from the list
    // (it is bar's sandbox) and bar reported startable.
    let dir = temp_dir("sandbox_link");
    let outside = temp_dir("sandbox_outside");
    std::fs::create_dir_all(&outside).unwrap();
    write(&dir.join("bar/bar.wasm"), &module(None));
    std::os::unix::fs::symlink(&outside, dir.join("bar-files")).unwrap();
    write(&dir.join("solo.wasm"), &module(None));
    std::os::unix::fs::symlink(&outside, dir.join("solo")).unwrap();
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    for id in ["bar", "solo"] {
        let m = found.iter().find(|m| m.id == id).unwrap();
        assert!(!m.startable(), "{m:?}");
        assert!(
            m.problems
                .iter()
                .any(|p| p.kind == ProblemKind::Link && p.message.contains("is a symbolic link")),
            "{m:?}"
        );
    }
}

#[test]
fn mods_whose_ids_or_sandboxes_differ_only_in_case_are_duplicates() {
    // On Windows and macOS `Archivist/` and `archivist/` are one folder: the second mod's
    // sandbox would be the first one's code folder.
    let dir = temp_dir("case");
    write(&dir.join("Archivist/Archivist.wasm"), &module(None));
    write(&dir.join("archivist.wasm"), &module(None));
    write(&dir.join("Keeper/Keeper.wasm"), &module(None));
    write(&dir.join("keeper-files.wasm"), &module(None));
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    let startable: Vec<&str> = found
        .iter()
        .filter(|m| m.startable())
        .map(|m| m.id.as_str())
        .collect();
    // `Archivist/` holds a mod of the id `archivist.wasm` has (and would be its sandbox):
    // neither starts; `Keeper/`'s sandbox `Keeper-files` is `keeper-files.wasm`'s id: neither
    // of those two starts either.
    assert!(startable.is_empty(), "{found:?}");
    assert_eq!(found.len(), 4, "{found:?}");
    for m in found.iter().filter(|m| !m.startable()) {
        assert_eq!(m.problems[0].kind, ProblemKind::Duplicate, "{m:?}");
    }
    assert_eq!(wasm_stem("x.WASM"), Some("x"));
}

#[test]
fn a_file_name_with_a_hidden_character_and_its_escaped_spelling_are_duplicates() {
    // At run time both files' mods have the id `cool_u_200b_mod` (a module's name shows the
    // hidden character escaped): listed as two mods, they would share one sandbox and grants.
    let dir = temp_dir("hidden");
    write(&dir.join("cool\u{200b}mod.wasm"), &module(None));
    write(&dir.join("cool_u_200b_mod.wasm"), &module(None));
    let found = run(&dir, &[], SafetyLevel::Wrapped, 1 << 20);
    assert_eq!(found.len(), 2, "{found:?}");
    for m in &found {
        assert_eq!(m.id, "cool_u_200b_mod", "{m:?}");
        assert!(!m.startable(), "{m:?}");
        assert_eq!(m.problems[0].kind, ProblemKind::Duplicate, "{m:?}");
    }
}

#[test]
fn folder_paths_keep_a_root_whole_and_join_with_one_slash() {
    assert_eq!(folder_path("user://mods/"), Ok("user://mods"));
    assert_eq!(folder_path("user://mods"), Ok("user://mods"));
    // Trimming every slash made `res://` into `res:`, a folder that does not exist.
    assert_eq!(folder_path("res://"), Ok("res://"));
    assert_eq!(folder_path("user:///"), Ok("user://"));
    assert_eq!(folder_path("C:/"), Ok("C:/"));
    assert_eq!(folder_path("/"), Ok("/"));
    assert!(folder_path("").unwrap_err().contains("empty"));
    assert_eq!(join("res://", "a.wasm"), "res://a.wasm");
    assert_eq!(join("user://mods", "a.wasm"), "user://mods/a.wasm");
    assert_eq!(join("/", "a.wasm"), "/a.wasm");
}

/// Godot reads `\` in a path as `/`: `x\payload.wasm` was listed as mod `x_payload` but read from
/// `x/payload.wasm`, the sandbox of mod `x`, which `x` writes (so `x` chose another mod's code).
/// A name with a backslash is reported and never read.
#[test]
fn a_name_with_a_backslash_is_reported_and_never_read() {
    let dir = temp_dir("backslash");
    write(&dir.join("x.wasm"), &module(None));
    write(&dir.join("x/payload.wasm"), &module(None));
    write(&dir.join("x\\payload.wasm"), &module(None));
    write(&dir.join("y\\z/y\\z.wasm"), &module(None));
    let found = run(&dir, &[], SafetyLevel::Safe, 1 << 20);
    let by_path = |tail: &str| {
        found
            .iter()
            .find(|m| m.path.ends_with(tail))
            .unwrap_or_else(|| panic!("no `{tail}` in {found:?}"))
    };
    for tail in ["x\\payload.wasm", "y\\z"] {
        let m = by_path(tail);
        assert_eq!(m.problems.len(), 1, "{m:?}");
        assert_eq!(m.problems[0].kind, ProblemKind::Broken, "{m:?}");
        assert!(m.problems[0].message.contains("backslash"), "{m:?}");
        assert!(m.sha256.is_empty(), "never read: {m:?}");
    }
    assert!(by_path("/x.wasm").problems.is_empty(), "{found:?}");
    assert_eq!(found.len(), 3, "the sandbox `x/` is no mod: {found:?}");
}

/// A folder the game cannot list was skipped without a word: the player never learnt the mod
/// was there. It is listed with its problem.
#[test]
fn a_folder_that_cannot_be_listed_is_reported() {
    /// [`Disk`], except that a folder named `locked` cannot be listed (as one without read
    /// permission, which root, who runs CI, could list anyway).
    struct Locked;
    impl ModFolder for Locked {
        fn list(&self, dir: &str, wasm_only: bool) -> Result<Vec<FolderEntry>, String> {
            if dir.ends_with("/locked") {
                return Err("Permission denied (os error 13)".into());
            }
            Disk.list(dir, wasm_only)
        }
        fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, String> {
            Disk.read(path, max)
        }
    }
    let dir = temp_dir("locked");
    write(&dir.join("locked/locked.wasm"), &module(None));
    write(&dir.join("open/open.wasm"), &module(None));
    let rules = ScanRules {
        sandboxes: &BTreeSet::new(),
        level: SafetyLevel::Safe,
        max_bytes: 1 << 20,
        sandbox_root: true,
    };
    let found = scan(&Locked, dir.to_str().unwrap(), &rules, &fake_compile).unwrap();
    assert_eq!(ids(&found), ["locked", "open"], "{found:?}");
    assert_eq!(found[0].problems[0].kind, ProblemKind::Broken);
    assert!(
        found[0].problems[0]
            .message
            .contains("cannot list the folder"),
        "{found:?}"
    );
    assert!(found[1].problems.is_empty(), "{found:?}");
}
