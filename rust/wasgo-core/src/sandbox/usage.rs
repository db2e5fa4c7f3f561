//! Counting what a sandbox holds, at any depth, failing closed.
//!
//! The count walks the tree with directory handles (`openat`-style, through `cap-primitives`),
//! never with whole host paths: a tree nested past the platform's `PATH_MAX` is counted like any
//! other. Anything the walk cannot read (a directory it cannot open, an entry it cannot stat, too
//! many open handles) makes the whole count fail with [`Unmeasurable`], and every caller refuses
//! the write or creation it was about to allow: what cannot be counted is never assumed empty.
//!
//! The walk keeps one open handle per level of the directory it is in (plus the names still to
//! visit), never one per directory in the tree, and no recursion, so a deep chain neither
//! overflows the stack nor opens every directory at once; a tree deeper than [`MAX_WALK_DEPTH`]
//! is not walked further (that many handles at once would crowd the game's own files) and
//! counts as unmeasurable.
//!
//! [`orphaned_bytes`] adds what the walk cannot see: files deleted or replaced while the process
//! still holds them open (a mod could write to such a file for ever, each new measurement
//! missing it).

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::Path;

/// What a sandbox holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Bytes of regular files (their apparent size, so sparse files count in full).
    pub bytes: u64,
    /// Files and directories (not counting the sandbox itself).
    pub entries: u64,
}

/// The sandbox's content could not be counted; writes are refused until it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmeasurable(pub String);

/// Levels of directories the walk follows below the sandbox.
pub const MAX_WALK_DEPTH: usize = 64;

/// The most files and directories the walk counts: twice what a sandbox may hold
/// ([`crate::sandbox::MAX_ENTRIES`]), so a sandbox within its bounds is always counted whole.
/// Past it the walk stops (300,000 files put in a sandbox held the main thread 0.65 s at every
/// check, each of which would refuse the write anyway).
pub const MAX_COUNTED_ENTRIES: u64 = 2 * crate::sandbox::MAX_ENTRIES;

/// Counts the bytes and entries under `root` (a missing `root` holds nothing).
///
/// # Errors
/// [`Unmeasurable`] when any part of the tree cannot be read.
pub fn measure(root: &Path) -> Result<Usage, Unmeasurable> {
    let fail = |what: &str, e: io::Error| {
        Unmeasurable(format!(
            "the mod's sandbox `{}` could not be counted ({what}: {e}); writes are refused until it can be (a game or an administrator should inspect the directory)",
            root.display()
        ))
    };
    let top = match cap_primitives::fs::open_ambient_dir(root, cap_primitives::ambient_authority())
    {
        Ok(dir) => dir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Usage::default()),
        Err(e) => return Err(fail("opening the sandbox", e)),
    };
    let mut usage = Usage::default();
    let too_many = || {
        Unmeasurable(format!(
            "the mod's sandbox `{}` holds more than {MAX_COUNTED_ENTRIES} files and directories, more than WasGo counts; writes are refused until some are removed",
            root.display()
        ))
    };
    // Each level: its open directory and the subdirectory names still to visit.
    let mut stack: Vec<(File, Vec<OsString>)> = Vec::new();
    let subdirs = scan(&top, &mut usage).map_err(|e| fail("reading a directory", e))?;
    if usage.entries > MAX_COUNTED_ENTRIES {
        return Err(too_many());
    }
    stack.push((top, subdirs));
    loop {
        let depth = stack.len();
        let Some((dir, pending)) = stack.last_mut() else {
            break;
        };
        let Some(name) = pending.pop() else {
            stack.pop();
            continue;
        };
        if depth > MAX_WALK_DEPTH {
            return Err(Unmeasurable(format!(
                "the mod's sandbox `{}` nests directories deeper than {MAX_WALK_DEPTH} levels, more than WasGo counts; writes are refused until the mod removes the deepest ones",
                root.display()
            )));
        }
        let child = cap_primitives::fs::open_dir_nofollow(dir, Path::new(&name))
            .map_err(|e| fail("opening a directory", e))?;
        let subdirs = scan(&child, &mut usage).map_err(|e| fail("reading a directory", e))?;
        if usage.entries > MAX_COUNTED_ENTRIES {
            return Err(too_many());
        }
        stack.push((child, subdirs));
    }
    Ok(usage)
}

/// What this process's open descriptors hold of a sandbox (see [`open_files`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenFiles {
    /// The bytes of files under the root that were deleted or replaced (renamed over) while a
    /// descriptor still holds them open: they take disk space no walk finds.
    pub orphaned: u64,
    /// Whether a descriptor holds the regular file asked about open: replaced (a write renames
    /// a new file over it) or deleted, its bytes stay taken until the descriptor closes.
    pub holds_file: bool,
}

/// One look at this process's descriptors (`/proc/self/fd` on Linux) for the sandbox at `root`
/// and, when given, the file `file` in it. Elsewhere nothing is found (there WASI refuses to
/// grow a file deleted while open, so it keeps at most what it held when it was unlinked). When
/// the descriptors cannot be listed, `file` counts as held (its bytes then stay counted, so the
/// quota holds).
pub fn open_files(root: &Path, file: Option<&Path>) -> OpenFiles {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::MetadataExt;
        let file_id = file
            .and_then(|f| std::fs::symlink_metadata(f).ok())
            .filter(|m| m.is_file())
            .map(|m| (m.dev(), m.ino()));
        let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
            return OpenFiles {
                orphaned: 0,
                holds_file: file_id.is_some(),
            };
        };
        let root = std::fs::canonicalize(root).ok();
        let mut found = OpenFiles::default();
        for fd in fds.flatten() {
            // `metadata` follows the link to the open file itself.
            if let Some(id) = file_id {
                if !found.holds_file {
                    found.holds_file =
                        std::fs::metadata(fd.path()).is_ok_and(|m| (m.dev(), m.ino()) == id);
                }
            }
            let Some(root) = &root else {
                continue;
            };
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(path) = target.as_os_str().as_bytes().strip_suffix(b" (deleted)") else {
                continue;
            };
            if !Path::new(std::ffi::OsStr::from_bytes(path)).starts_with(root) {
                continue;
            }
            if let Ok(meta) = std::fs::metadata(fd.path()) {
                if meta.is_file() && meta.nlink() == 0 {
                    found.orphaned = found.orphaned.saturating_add(meta.len());
                }
            }
        }
        found
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (root, file);
        OpenFiles::default()
    }
}

/// [`OpenFiles::orphaned`] of the sandbox at `root`.
pub fn orphaned_bytes(root: &Path) -> u64 {
    open_files(root, None).orphaned
}

/// Adds the entries of one directory to `usage`; returns its subdirectories' names.
fn scan(dir: &File, usage: &mut Usage) -> io::Result<Vec<OsString>> {
    let mut subdirs = Vec::new();
    for entry in cap_primitives::fs::read_base_dir(dir)? {
        let entry = entry?;
        usage.entries += 1;
        if usage.entries > MAX_COUNTED_ENTRIES {
            break; // the caller refuses
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            subdirs.push(entry.file_name());
        } else if kind.is_file() {
            usage.bytes = usage.bytes.saturating_add(entry.metadata()?.len());
        }
    }
    Ok(subdirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> std::path::PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        std::env::temp_dir().join(format!("wasgo-usage-{tag}-{}-{nanos}", std::process::id()))
    }

    #[test]
    fn a_tree_of_more_entries_than_are_counted_is_unmeasurable() {
        let root = temp("many");
        std::fs::create_dir_all(root.join("d")).unwrap();
        // `d` and its files: exactly as many entries as are counted.
        for i in 1..MAX_COUNTED_ENTRIES {
            std::fs::File::create(root.join("d").join(i.to_string())).unwrap();
        }
        assert_eq!(measure(&root).unwrap().entries, MAX_COUNTED_ENTRIES);
        std::fs::File::create(root.join("d").join("one more")).unwrap();
        let e = measure(&root).unwrap_err();
        assert!(e.0.contains("more than 8192 files"), "{}", e.0);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_sandbox_holds_nothing() {
        assert_eq!(measure(&temp("missing")), Ok(Usage::default()));
    }

    #[test]
    fn a_tree_deeper_than_the_walk_goes_is_unmeasurable() {
        let root = temp("deep");
        let mut path = root.clone();
        for _ in 0..MAX_WALK_DEPTH {
            path.push("d");
        }
        std::fs::create_dir_all(&path).unwrap();
        assert!(
            measure(&root).is_ok(),
            "{MAX_WALK_DEPTH} levels are counted"
        );
        std::fs::create_dir(path.join("d")).unwrap();
        let err = measure(&root).unwrap_err();
        assert!(err.0.contains("deeper than 64 levels"), "{}", err.0);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_deleted_while_open_counts_until_it_is_closed() {
        use std::io::Write;
        let root = temp("orphan");
        std::fs::create_dir_all(&root).unwrap();
        let mut held = std::fs::File::create(root.join("gone")).unwrap();
        held.write_all(&[1; 5000]).unwrap();
        assert_eq!(orphaned_bytes(&root), 0, "a linked file is the walk's");
        std::fs::remove_file(root.join("gone")).unwrap();
        assert_eq!(orphaned_bytes(&root), 5000);
        assert_eq!(measure(&root).unwrap().bytes, 0, "the walk cannot see it");
        drop(held);
        assert_eq!(orphaned_bytes(&root), 0);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn files_and_directories_are_counted_at_every_level() {
        let root = temp("levels");
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        std::fs::write(root.join("a/one"), b"12345").unwrap();
        std::fs::write(root.join("a/b/c/two"), b"123").unwrap();
        assert_eq!(
            measure(&root),
            Ok(Usage {
                bytes: 8,
                entries: 5
            })
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
