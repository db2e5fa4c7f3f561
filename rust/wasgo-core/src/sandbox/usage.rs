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
//! overflows the stack nor opens every directory at once.

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
    // Each level: its open directory and the subdirectory names still to visit.
    let mut stack: Vec<(File, Vec<OsString>)> = Vec::new();
    let subdirs = scan(&top, &mut usage).map_err(|e| fail("reading a directory", e))?;
    stack.push((top, subdirs));
    while let Some((dir, pending)) = stack.last_mut() {
        let Some(name) = pending.pop() else {
            stack.pop();
            continue;
        };
        let child = cap_primitives::fs::open_dir_nofollow(dir, Path::new(&name))
            .map_err(|e| fail("opening a directory", e))?;
        let subdirs = scan(&child, &mut usage).map_err(|e| fail("reading a directory", e))?;
        stack.push((child, subdirs));
    }
    Ok(usage)
}

/// Adds the entries of one directory to `usage`; returns its subdirectories' names.
fn scan(dir: &File, usage: &mut Usage) -> io::Result<Vec<OsString>> {
    let mut subdirs = Vec::new();
    for entry in cap_primitives::fs::read_base_dir(dir)? {
        let entry = entry?;
        usage.entries += 1;
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
    fn a_missing_sandbox_holds_nothing() {
        assert_eq!(measure(&temp("missing")), Ok(Usage::default()));
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
