//! Noticing that a mod's `.wasm` file changed on disk, cheaply and without reading a file that is
//! still being written: the decision behind hot reload (the glue's `hot_reload.rs` asks it a few
//! times per second for each file a running mod came from).
//!
//! A file is known by its [`FileStamp`]: its modification time (to the nanosecond where the file
//! system keeps it) and its length, both from one `stat`. A [`FileWatch`] remembers the stamp of
//! the file the running instance was made from and answers, at each check, whether to reload:
//! only when the file now has another stamp **and had that same stamp at the previous check**. A
//! compiler or a copy that is still writing changes the stamp between two checks, so a half-written
//! file is never read; a file that is missing (deleted and not yet written again) is waited for.
//! A reload therefore comes one or two check intervals after the last write.

use std::path::Path;
use std::time::UNIX_EPOCH;

/// What identifies one version of a file: its modification time and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    /// Nanoseconds since the Unix epoch (0 when the file system gives no time).
    pub modified_ns: u128,
    pub len: u64,
}

impl FileStamp {
    /// The stamp of the file at `path` now (one `stat`); `None` when it does not exist or is not a
    /// regular file.
    pub fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() {
            return None;
        }
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Some(FileStamp {
            modified_ns,
            len: meta.len(),
        })
    }
}

/// One watched file: the stamp of the version running and the one seen at the last check.
#[derive(Debug, Clone, Default)]
pub struct FileWatch {
    running: Option<FileStamp>,
    seen: Option<FileStamp>,
}

impl FileWatch {
    /// Watches a file whose version `running` (its stamp when it was read) is in use.
    pub fn new(running: Option<FileStamp>) -> FileWatch {
        FileWatch {
            running,
            seen: None,
        }
    }

    /// One check, with the file's stamp `now`: true when it is time to reload (the file differs
    /// from the running version and held still since the previous check). The version reloaded
    /// becomes the running one, so the same version is answered once, whether its reload works
    /// or not; the next change is noticed again.
    pub fn observe(&mut self, now: Option<FileStamp>) -> bool {
        let Some(now) = now else {
            self.seen = None;
            return false;
        };
        if self.running == Some(now) {
            self.seen = None;
            return false;
        }
        if self.seen == Some(now) {
            self.running = Some(now);
            self.seen = None;
            return true;
        }
        self.seen = Some(now);
        false
    }

    /// The stamp of the running version.
    pub fn running(&self) -> Option<FileStamp> {
        self.running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(modified_ns: u128, len: u64) -> Option<FileStamp> {
        Some(FileStamp { modified_ns, len })
    }

    #[test]
    fn an_unchanged_file_never_reloads() {
        let mut watch = FileWatch::new(stamp(1, 10));
        for _ in 0..5 {
            assert!(!watch.observe(stamp(1, 10)));
        }
    }

    #[test]
    fn a_change_reloads_once_it_held_still_for_one_check() {
        let mut watch = FileWatch::new(stamp(1, 10));
        assert!(!watch.observe(stamp(2, 20)), "first sight of a change");
        assert!(
            watch.observe(stamp(2, 20)),
            "the same stamp at the next check"
        );
        assert_eq!(watch.running(), stamp(2, 20));
        assert!(
            !watch.observe(stamp(2, 20)),
            "the version reloaded is not reloaded again"
        );
    }

    #[test]
    fn a_file_still_being_written_is_not_reloaded() {
        let mut watch = FileWatch::new(stamp(1, 10));
        assert!(!watch.observe(stamp(2, 100)));
        assert!(
            !watch.observe(stamp(3, 200)),
            "it grew since the last check"
        );
        assert!(!watch.observe(stamp(4, 300)), "and grew again");
        assert!(watch.observe(stamp(4, 300)), "it held still");
    }

    #[test]
    fn a_missing_file_is_waited_for_and_a_same_length_rewrite_counts() {
        let mut watch = FileWatch::new(stamp(1, 10));
        assert!(!watch.observe(None), "deleted");
        assert!(!watch.observe(None), "still missing");
        assert!(
            !watch.observe(stamp(5, 10)),
            "written again, same length, newer time"
        );
        assert!(watch.observe(stamp(5, 10)));
    }

    #[test]
    fn a_file_put_back_as_it_was_is_not_reloaded() {
        let mut watch = FileWatch::new(stamp(1, 10));
        assert!(!watch.observe(stamp(2, 20)));
        assert!(!watch.observe(stamp(1, 10)), "back to the running version");
        assert!(!watch.observe(stamp(1, 10)));
    }

    #[test]
    fn stamps_come_from_the_file_system() {
        let dir = std::env::temp_dir().join(format!("wasgo-file-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mod.wasm");
        assert_eq!(FileStamp::of(&path), None, "no file yet");
        std::fs::write(&path, b"\0asm").unwrap();
        let first = FileStamp::of(&path).expect("a stamp for a file");
        assert_eq!(first.len, 4);
        std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
        let second = FileStamp::of(&path).expect("a stamp for the new file");
        assert_ne!(first, second, "a longer file has another stamp");
        assert_eq!(FileStamp::of(&dir), None, "a directory is not a file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
