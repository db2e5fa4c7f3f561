//! Writing a file so that readers see either the old content or the new, never a torn mix: the
//! one routine the disk cache, the level-2 sandbox and the grants file use; and reading one of
//! those files back only when it is a plain file of a bounded size ([`read_plain`]).

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically and durably: a temporary file in the same directory,
/// `fsync`, rename over `path`, then `fsync` of the directory (where the platform allows it).
/// The directory must exist. On failure the temporary file is removed and `path` is untouched.
///
/// # Errors
/// The I/O error of the step that failed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Read back by `temp_file_of`.
    let tmp = dir.join(format!(".{name}.{}.{unique}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            // Not every platform can sync a directory; the rename already happened.
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The name of the file whose write left the temporary file `name` (`.<file>.<pid>.<n>.tmp`, as
/// [`write_atomic`] names it), if `name` is one.
pub fn temp_file_of(name: &str) -> Option<&str> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = inner.rsplitn(3, '.');
    let (n, pid, file) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(n) && digits(pid)).then_some(file)
}

/// The most bytes WasGo reads of one of its own state files (the enabled list and load order,
/// the sandboxes' owners, the saved permissions): far above any real one, and a file put in
/// its place cannot make it read without end.
pub const MAX_STATE_FILE_BYTES: u64 = 4 << 20;

/// Opens `path` for reading when it is a plain file (not a pipe, a device, a directory, nor a
/// link to one), with its metadata: opened without blocking and checked on the open handle, so
/// a pipe put in its place is never waited on.
///
/// # Errors
/// `InvalidData` when it is not a plain file, else the I/O error.
pub fn open_plain(path: &Path) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a pipe for reading waits for a writer; without blocking it returns at once.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "`{}` is not a plain file (a pipe, a device or a directory); remove it",
                path.display()
            ),
        ));
    }
    Ok((file, meta))
}

/// Reads `path` when it is a plain file (not a pipe, a device, a directory, nor a link to one)
/// of at most `max` bytes. The file is opened without blocking and checked on the open handle,
/// so a pipe put in its place is never waited on and a link to `/dev/zero` is never read.
///
/// # Errors
/// `InvalidData` naming what the file is instead (or its size), else the I/O error.
pub fn read_plain(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let (file, meta) = open_plain(path)?;
    let refused = |what: String| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("`{}` {what}", path.display()),
        )
    };
    if meta.len() > max {
        return Err(refused(format!(
            "is {} bytes, over the {max} it may have; remove it",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // At most `max + 1`: a file that grew since the check is refused, not read on.
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(refused(format!(
            "grew over the {max} bytes it may have; remove it"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_file_names_the_file_it_was_for() {
        let name = format!(".f.txt.{}.7.tmp", std::process::id());
        assert_eq!(temp_file_of(&name), Some("f.txt"));
        for other in [
            "f.txt",
            ".f.txt.tmp",
            ".f.txt.x.7.tmp",
            "f.txt.1.2.tmp",
            ".f.txt.1..tmp",
        ] {
            assert_eq!(temp_file_of(other), None, "{other}");
        }
    }

    #[test]
    fn replaces_content_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("wasgo-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_directory_fails_without_creating_anything() {
        let path = std::env::temp_dir().join("wasgo-atomic-missing-dir/x/f.txt");
        assert!(write_atomic(&path, b"x").is_err());
        assert!(!path.exists());
    }

    #[test]
    fn only_plain_files_of_a_bounded_size_are_read() {
        let dir = std::env::temp_dir().join(format!("wasgo_read_plain_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, b"hello").unwrap();
        assert_eq!(read_plain(&file, 5).unwrap(), b"hello");
        let e = read_plain(&file, 4).unwrap_err();
        assert!(e.to_string().contains("over the 4"), "{e}");
        let e = read_plain(&dir, 100).unwrap_err();
        assert!(e.to_string().contains("not a plain file"), "{e}");
        #[cfg(unix)]
        {
            let e = read_plain(Path::new("/dev/zero"), 100).unwrap_err();
            assert!(e.to_string().contains("not a plain file"), "{e}");
            let fifo = dir.join("pipe");
            let name = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
            // SAFETY: `name` is a valid NUL-terminated path that lives across the call.
            assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
            // (Opened blocking, this waited for a writer for ever.)
            let e = read_plain(&fifo, 100).unwrap_err();
            assert!(e.to_string().contains("not a plain file"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
