//! A mod's private directory (`user://mods/<mod_id>/`) for the level-2 file functions.
//!
//! Paths a mod gives are relative, `/`-separated and checked before they touch the file system:
//! absolute paths, `..`, `.`, empty segments, `res://`/`user://` prefixes, backslashes, NUL bytes,
//! characters other systems forbid and over-long names are refused, and no existing part of the
//! path may be a symlink. Writes are atomic (temp file, flush, rename), so a mod killed in the
//! middle of a write leaves the old file or the new one, never a torn one. A quota caps the bytes
//! the directory may hold, and [`MAX_ENTRIES`] the files and directories in it. At level 2 the
//! same directory is WASI's `/sandbox`, under the same quota and name rules
//! (see `wasi_sandbox.rs`).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

/// The longest path a mod may give, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// The longest single name in a path, in bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// The most files and directories one sandbox may hold.
pub const MAX_ENTRIES: u64 = 4096;

/// Why a sandbox operation failed; maps onto the ABI's negative codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxError {
    /// -3: the path is not allowed, or the quota would be exceeded.
    Invalid(String),
    /// -1: no such file or directory.
    NotFound(String),
    /// -5: the file system failed.
    Io(String),
}

impl SandboxError {
    /// The ABI code.
    pub fn code(&self) -> i32 {
        match self {
            SandboxError::NotFound(_) => -1,
            SandboxError::Invalid(_) => -3,
            SandboxError::Io(_) => -5,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            SandboxError::Invalid(m) | SandboxError::NotFound(m) | SandboxError::Io(m) => m,
        }
    }
}

/// Checks a mod-given path and returns its segments.
pub fn validate(path: &str) -> Result<Vec<&str>, SandboxError> {
    let bad = |why: &str| {
        Err(SandboxError::Invalid(format!(
            "path `{}` is refused: {why}",
            path.escape_debug()
        )))
    };
    if path.is_empty() {
        return bad("it is empty");
    }
    if path.len() > MAX_PATH_BYTES {
        return bad("it is longer than 512 bytes");
    }
    if path.contains('\0') {
        return bad("it contains a NUL byte");
    }
    if path.contains('\\') {
        return bad("it contains a backslash; use `/`");
    }
    if path.starts_with('/') {
        return bad("it is absolute; paths are relative to the mod's sandbox");
    }
    if path.contains(':') {
        return bad("it contains `:` (no `res://`, `user://` or drive prefixes)");
    }
    let segments: Vec<&str> = path.split('/').collect();
    for s in &segments {
        if s.is_empty() {
            return bad("it has an empty segment (`//` or a trailing `/`)");
        }
        if *s == "." || *s == ".." {
            return bad("it contains `.` or `..`");
        }
        if let Err(why) = check_name(s) {
            return bad(why);
        }
    }
    Ok(segments)
}

/// The rules for one file or directory name (not `.` or `..`): at most [`MAX_NAME_BYTES`], no
/// NUL, `/`, `\`, `:`, control characters or `* ? " < > |`.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.len() > MAX_NAME_BYTES {
        return Err("a name in it is longer than 128 bytes");
    }
    if name.contains(['\0', '/', '\\', ':']) {
        return Err("a name in it contains NUL, `/`, `\\` or `:`");
    }
    if name
        .chars()
        .any(|c| c.is_control() || "*?\"<>|".contains(c))
    {
        return Err("it contains a control character or one of * ? \" < > |");
    }
    Ok(())
}

/// What a sandbox holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Bytes of regular files (their apparent size, so sparse files count in full).
    pub bytes: u64,
    /// Files and directories (not counting the sandbox itself).
    pub entries: u64,
}

/// Numbers the temp files of atomic writes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// An upper bound of the bytes each sandbox (by root) holds, shared by every instance in the
/// process (see [`Sandbox::check_growth`]).
static USAGE_BOUNDS: LazyLock<Mutex<HashMap<PathBuf, u64>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// One mod's sandbox directory.
#[derive(Debug)]
pub struct Sandbox {
    root: PathBuf,
    quota_bytes: u64,
}

impl Sandbox {
    pub fn new(root: PathBuf, quota_bytes: u64) -> Sandbox {
        Sandbox { root, quota_bytes }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of a mod path, refusing symlinks on the way.
    fn resolve(&self, path: &str) -> Result<PathBuf, SandboxError> {
        let segments = validate(path)?;
        let mut full = self.root.clone();
        for s in segments {
            full.push(s);
            if let Ok(meta) = std::fs::symlink_metadata(&full) {
                if meta.file_type().is_symlink() {
                    return Err(SandboxError::Invalid(format!(
                        "path `{path}` is refused: it goes through a symlink"
                    )));
                }
            }
        }
        Ok(full)
    }

    fn io(path: &str, e: std::io::Error) -> SandboxError {
        if e.kind() == std::io::ErrorKind::NotFound {
            SandboxError::NotFound(format!("`{path}` does not exist in the mod's sandbox"))
        } else {
            SandboxError::Io(format!("`{path}`: {e}"))
        }
    }

    /// The quota in bytes (`wasgo/limits/storage_mb`).
    pub fn quota_bytes(&self) -> u64 {
        self.quota_bytes
    }

    /// Bytes the sandbox holds now (regular files, not following symlinks).
    pub fn usage(&self) -> u64 {
        self.measure().bytes
    }

    /// Bytes and entries the sandbox holds now (not following symlinks).
    pub fn measure(&self) -> Usage {
        fn walk(dir: &Path, usage: &mut Usage) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                usage.entries += 1;
                match e.file_type() {
                    Ok(t) if t.is_dir() => walk(&e.path(), usage),
                    Ok(t) if t.is_file() => {
                        usage.bytes += e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                    _ => {}
                }
            }
        }
        let mut usage = Usage::default();
        walk(&self.root, &mut usage);
        usage
    }

    /// Refuses growing the sandbox's content by `growth` bytes past the quota (WASI writes).
    ///
    /// Walking the directory for every write would make each WASI write several times slower,
    /// so the process keeps an upper bound of each sandbox's usage: a check that fits under the
    /// bound's headroom only raises the bound; only a check that does not fit measures the
    /// directory again (which also catches deletions). The bound never under-counts what
    /// WasGo let mods write, so the quota holds exactly; a refusal is always based on a fresh
    /// measurement.
    ///
    /// # Errors
    /// [`SandboxError::Invalid`] naming the quota.
    pub fn check_growth(&self, growth: u64) -> Result<(), SandboxError> {
        if growth == 0 {
            return Ok(());
        }
        let mut bounds = USAGE_BOUNDS.lock();
        if let Some(bound) = bounds.get(&self.root).copied() {
            if bound.saturating_add(growth) <= self.quota_bytes {
                bounds.insert(self.root.clone(), bound + growth);
                return Ok(());
            }
        }
        let usage = self.usage();
        let after = usage.saturating_add(growth);
        if after > self.quota_bytes {
            bounds.insert(self.root.clone(), usage);
            return Err(SandboxError::Invalid(format!(
                "the write would put the mod's sandbox at {after} bytes, over its quota of {} bytes (`wasgo/limits/storage_mb`)",
                self.quota_bytes
            )));
        }
        bounds.insert(self.root.clone(), after);
        Ok(())
    }

    /// Refuses creating `new` more files or directories past [`MAX_ENTRIES`].
    ///
    /// # Errors
    /// [`SandboxError::Invalid`] naming the limit.
    pub fn check_new_entries(&self, new: u64) -> Result<(), SandboxError> {
        if new > 0 && self.measure().entries + new > MAX_ENTRIES {
            return Err(SandboxError::Invalid(format!(
                "the mod's sandbox may hold at most {MAX_ENTRIES} files and directories"
            )));
        }
        Ok(())
    }

    /// Writes `data` to `path` atomically, creating parent directories.
    pub fn write(&self, path: &str, data: &[u8]) -> Result<(), SandboxError> {
        let full = self.resolve(path)?;
        let old = std::fs::metadata(&full)
            .map(|m| if m.is_file() { m.len() } else { 0 })
            .unwrap_or(0);
        let usage = self.measure();
        let after = usage.bytes - old.min(usage.bytes) + data.len() as u64;
        if after > self.quota_bytes {
            return Err(SandboxError::Invalid(format!(
                "writing `{path}` would put the mod's sandbox at {after} bytes, over its quota of {} bytes (`wasgo/limits/storage_mb`)",
                self.quota_bytes
            )));
        }
        if full.is_dir() {
            return Err(SandboxError::Invalid(format!("`{path}` is a directory")));
        }
        // The file and any missing parent directories are new entries.
        let missing = full
            .ancestors()
            .take_while(|p| *p != self.root && std::fs::symlink_metadata(p).is_err())
            .count() as u64;
        if missing > 0 && usage.entries + missing > MAX_ENTRIES {
            return Err(SandboxError::Invalid(format!("writing `{path}` would put more than {MAX_ENTRIES} files and directories in the mod's sandbox")));
        }
        let parent = full.parent().expect("a sandbox path has a parent");
        std::fs::create_dir_all(parent).map_err(|e| Self::io(path, e))?;
        // Unique in the process: two instances of one mod share its directory.
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = parent.join(format!(".wasgo-tmp-{}-{n}", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &full)
        })();
        // The next WASI growth check measures again.
        USAGE_BOUNDS.lock().remove(&self.root);
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(Self::io(path, e));
        }
        Ok(())
    }

    /// Reads the file at `path`. A file larger than the quota (which only the game can have put
    /// there) is refused rather than loaded.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, SandboxError> {
        let full = self.resolve(path)?;
        let len = std::fs::metadata(&full)
            .map_err(|e| Self::io(path, e))?
            .len();
        if len > self.quota_bytes {
            return Err(SandboxError::Invalid(format!("`{path}` holds {len} bytes, more than the sandbox quota of {} bytes; it is not read", self.quota_bytes)));
        }
        std::fs::read(&full).map_err(|e| Self::io(path, e))
    }

    /// Deletes the file (or empty directory) at `path`.
    pub fn delete(&self, path: &str) -> Result<(), SandboxError> {
        let full = self.resolve(path)?;
        let meta = std::fs::symlink_metadata(&full).map_err(|e| Self::io(path, e))?;
        if meta.is_dir() {
            std::fs::remove_dir(&full)
        } else {
            std::fs::remove_file(&full)
        }
        .map_err(|e| Self::io(path, e))
    }

    /// The names in directory `path` (`""` or `"."` for the sandbox root), sorted, one per line;
    /// directories end with `/`. Temp files of unfinished writes are not listed.
    pub fn list(&self, path: &str) -> Result<String, SandboxError> {
        let dir = if path.is_empty() || path == "." {
            self.root.clone()
        } else {
            self.resolve(path)?
        };
        if !dir.exists() && (path.is_empty() || path == ".") {
            return Ok(String::new());
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|e| Self::io(path, e))?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(".wasgo-tmp-") {
                    return None;
                }
                let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                Some(if is_dir { format!("{name}/") } else { name })
            })
            .collect();
        names.sort();
        Ok(names.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "./x",
            "a//b",
            "a/",
            "res://x",
            "user://x",
            "C:x",
            "a\\b",
            "a\0b",
            "a|b",
        ] {
            assert!(validate(p).is_err(), "{p:?} should be refused");
        }
        assert!(validate(&"a".repeat(129)).is_err());
        assert!(validate(&"a/".repeat(300)).is_err());
        assert_eq!(
            validate("saves/slot1.json").unwrap(),
            vec!["saves", "slot1.json"]
        );
    }

    fn temp_sandbox(quota: u64) -> Sandbox {
        let dir = std::env::temp_dir().join(format!(
            "wasgo-sandbox-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        Sandbox::new(dir, quota)
    }

    fn rand_suffix() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    }

    #[test]
    fn write_list_read_delete_round_trip() {
        let sb = temp_sandbox(1 << 20);
        sb.write("saves/a.txt", b"hello").unwrap();
        sb.write("top.bin", b"x").unwrap();
        assert_eq!(sb.list("").unwrap(), "saves/\ntop.bin");
        assert_eq!(sb.list("saves").unwrap(), "a.txt");
        assert_eq!(sb.read("saves/a.txt").unwrap(), b"hello");
        sb.delete("saves/a.txt").unwrap();
        assert_eq!(sb.read("saves/a.txt").unwrap_err().code(), -1);
        let _ = std::fs::remove_dir_all(sb.root());
    }

    #[test]
    fn quota_is_enforced_counting_replaced_files_once() {
        let sb = temp_sandbox(10);
        sb.write("a", b"12345678").unwrap();
        sb.write("a", b"1234567890").unwrap();
        let err = sb.write("b", b"1").unwrap_err();
        assert_eq!(err.code(), -3);
        assert!(err.message().contains("quota"));
        assert!(sb.check_growth(0).is_ok());
        assert!(sb.check_growth(1).is_err());
        let _ = std::fs::remove_dir_all(sb.root());
    }

    #[test]
    fn entries_are_capped() {
        let sb = temp_sandbox(1 << 20);
        sb.write("a/b/c", b"").unwrap();
        assert_eq!(
            sb.measure(),
            Usage {
                bytes: 0,
                entries: 3
            }
        );
        assert!(sb.check_new_entries(MAX_ENTRIES - 3).is_ok());
        assert_eq!(
            sb.check_new_entries(MAX_ENTRIES - 2).unwrap_err().code(),
            -3
        );
        let _ = std::fs::remove_dir_all(sb.root());
    }

    #[test]
    fn a_file_larger_than_the_quota_is_not_read() {
        let sb = temp_sandbox(4);
        std::fs::create_dir_all(sb.root()).unwrap();
        std::fs::write(sb.root().join("big"), b"12345").unwrap();
        assert_eq!(sb.read("big").unwrap_err().code(), -3);
        let _ = std::fs::remove_dir_all(sb.root());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed() {
        let sb = temp_sandbox(1 << 20);
        std::fs::create_dir_all(sb.root()).unwrap();
        let outside = std::env::temp_dir().join(format!("wasgo-outside-{}", rand_suffix()));
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, sb.root().join("link")).unwrap();
        assert_eq!(sb.write("link/evil", b"x").unwrap_err().code(), -3);
        assert!(!outside.join("evil").exists());
        let _ = std::fs::remove_dir_all(sb.root());
        let _ = std::fs::remove_dir_all(&outside);
    }
}
