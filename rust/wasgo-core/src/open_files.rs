//! The WASI descriptors a level-2 instance opened with `path_open`, bounded per instance and
//! for all instances together (`wasi_sandbox` checks and records them). A leaf: it knows no
//! other module.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

const ERRNO_MFILE: i32 = 33;
const ERRNO_NFILE: i32 = 41;

/// Descriptors one level-2 instance may have open through `path_open` at once.
pub const MAX_OPEN_FILES: usize = 64;
/// Descriptors all level-2 instances together may have open through `path_open` at once (a
/// desktop's default limit for the whole process is often 1024).
pub const MAX_OPEN_FILES_ALL: usize = 256;
/// Descriptors open through `path_open` in every instance now.
static OPEN_FILES_ALL: AtomicUsize = AtomicUsize::new(0);

/// The descriptors one instance opened through `path_open` (and has not closed); their count
/// leaves the game-wide one when the instance goes.
#[derive(Debug, Default)]
pub(crate) struct OpenFiles {
    fds: HashSet<u32>,
}

impl OpenFiles {
    /// Takes a place for one more descriptor, or the errno and message refusing it.
    pub(crate) fn reserve(&self, function: &str) -> Result<(), (i32, String)> {
        if self.fds.len() >= MAX_OPEN_FILES {
            return Err((ERRNO_MFILE, format!("`{function}`: this mod already has {MAX_OPEN_FILES} files open, the most one mod may have; close one first")));
        }
        if OPEN_FILES_ALL.fetch_add(1, Ordering::AcqRel) >= MAX_OPEN_FILES_ALL {
            OPEN_FILES_ALL.fetch_sub(1, Ordering::AcqRel);
            return Err((ERRNO_NFILE, format!("`{function}`: mods have {MAX_OPEN_FILES_ALL} files open together, the most the game lets them have; close one first")));
        }
        Ok(())
    }

    /// The reserved place, now taken by `fd` (or given back: `None`, the open failed).
    pub(crate) fn settle(&mut self, fd: Option<u32>) {
        if !fd.is_some_and(|fd| self.fds.insert(fd)) {
            OPEN_FILES_ALL.fetch_sub(1, Ordering::AcqRel);
        }
    }

    pub(crate) fn closed(&mut self, fd: u32) {
        if self.fds.remove(&fd) {
            OPEN_FILES_ALL.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// `fd_renumber(from, to)` succeeded: `to` is now what `from` was, `from` is closed.
    pub(crate) fn renumbered(&mut self, from: u32, to: u32) {
        let counted = self.fds.contains(&from);
        self.closed(from);
        self.closed(to);
        if counted {
            self.fds.insert(to);
            OPEN_FILES_ALL.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl Drop for OpenFiles {
    fn drop(&mut self) {
        OPEN_FILES_ALL.fetch_sub(self.fds.len(), Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_holds_at_most_its_share_and_gives_everything_back() {
        let mut files = OpenFiles::default();
        for fd in 10..10 + MAX_OPEN_FILES as u32 {
            files.reserve("f").unwrap();
            files.settle(Some(fd));
        }
        let (errno, message) = files.reserve("f").unwrap_err();
        assert_eq!(errno, ERRNO_MFILE);
        assert!(message.contains("already has 64 files open"), "{message}");
        // A failed open gives its place back; a close frees one.
        files.closed(10);
        files.reserve("f").unwrap();
        files.settle(None);
        files.reserve("f").unwrap();
        files.settle(Some(500));
        // `to` becomes what `from` was; the file `to` had is closed.
        files.renumbered(500, 11);
        assert!(files.fds.contains(&11) && !files.fds.contains(&500));
        assert_eq!(files.fds.len(), MAX_OPEN_FILES - 1);
    }
}
