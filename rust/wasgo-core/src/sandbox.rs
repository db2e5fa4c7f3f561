//! A mod's private directory (`user://mods/<mod_id>/`) for the level-2 file functions.
//!
//! Paths a mod gives are relative, `/`-separated and checked before they touch the file system
//! ([`rules`]): absolute paths, `..`, `.`, empty segments, `res://`/`user://` prefixes,
//! backslashes, NUL bytes, characters other systems forbid and over-long names are refused, and
//! no existing part of the path may be a symlink. Writes are atomic (temp file, flush, rename),
//! so a mod killed in the middle of a write leaves the old file or the new one, never a torn one.
//!
//! A quota caps the bytes the directory may hold, and [`MAX_ENTRIES`] the files and directories
//! in it. Both are counted by [`usage::measure`], which walks any depth and fails closed: a tree
//! it cannot read refuses every write ([`SandboxError::Unmeasurable`]). At level 2 the same
//! directory is WASI's `/sandbox`, under the same accounting (see `wasi_sandbox.rs`): the file
//! functions and WASI share one per-process bound and lock per sandbox ([`Sandbox::hold`] for a
//! change made under the lock, [`Sandbox::check_growth`] for one made outside it).

pub mod rules;
pub mod usage;

use parking_lot::Mutex;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use wasgo_catalog::ErrorCode;

pub use rules::{check_name, validate, PathRule, MAX_NAME_BYTES, MAX_PATH_BYTES};
pub use usage::Usage;

/// The most files and directories one sandbox may hold.
pub const MAX_ENTRIES: u64 = 4096;

/// Why a sandbox operation failed. [`SandboxError::code`] maps it onto the ABI's negative codes;
/// WASI maps it onto an errno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxError {
    /// The path breaks a [`PathRule`] (-3).
    Path { path: String, rule: PathRule },
    /// The sandbox would hold `after` bytes, over `quota` (-3).
    Quota { after: u64, quota: u64 },
    /// The sandbox would hold more than [`MAX_ENTRIES`] files and directories (-3).
    Entries { path: Option<String> },
    /// The sandbox cannot be counted, so nothing may grow it (-3).
    Unmeasurable(String),
    /// The path names a directory where a file is needed (-3).
    IsDirectory { path: String },
    /// A file larger than the quota (only the game can have put it there) is not read (-3).
    TooLarge { path: String, len: u64, quota: u64 },
    /// No such file or directory (-1).
    NotFound { path: String },
    /// The file system failed (-5).
    Io { path: String, message: String },
}

impl SandboxError {
    /// The ABI code.
    pub fn code(&self) -> i32 {
        match self {
            SandboxError::NotFound { .. } => ErrorCode::NotFound.code(),
            SandboxError::Io { .. } => ErrorCode::CallFailed.code(),
            _ => ErrorCode::InvalidArgument.code(),
        }
    }

    /// Whether the error is about space (the quota, the entry cap or an uncountable sandbox):
    /// WASI answers `EDQUOT` for these.
    pub fn is_space(&self) -> bool {
        matches!(
            self,
            SandboxError::Quota { .. }
                | SandboxError::Entries { .. }
                | SandboxError::Unmeasurable(_)
        )
    }

    /// The message for `wasgo.last_error`.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SandboxError::Path { path, rule } => {
                write!(f, "path `{}` is refused: {rule}", path.escape_debug())
            }
            SandboxError::Quota { after, quota } => write!(
                f,
                "the write would put the mod's sandbox at {after} bytes, over its quota of {quota} bytes (delete files first, or the game raises `wasgo/limits/storage_mb`)"
            ),
            SandboxError::Entries { path: Some(path) } => write!(
                f,
                "writing `{path}` would put more than {MAX_ENTRIES} files and directories in the mod's sandbox; delete some first"
            ),
            SandboxError::Entries { path: None } => write!(
                f,
                "the mod's sandbox may hold at most {MAX_ENTRIES} files and directories; delete some first"
            ),
            SandboxError::Unmeasurable(why) => f.write_str(why),
            SandboxError::IsDirectory { path } => write!(f, "`{path}` is a directory"),
            SandboxError::TooLarge { path, len, quota } => write!(
                f,
                "`{path}` holds {len} bytes, more than the sandbox quota of {quota} bytes; it is not read"
            ),
            SandboxError::NotFound { path } => {
                write!(f, "`{path}` does not exist in the mod's sandbox")
            }
            SandboxError::Io { path, message } => write!(f, "`{path}`: {message}"),
        }
    }
}

impl std::error::Error for SandboxError {}

impl From<usage::Unmeasurable> for SandboxError {
    fn from(e: usage::Unmeasurable) -> SandboxError {
        SandboxError::Unmeasurable(e.0)
    }
}

/// Numbers the temp files of atomic writes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// What the process knows of one sandbox's bytes, shared by every instance that uses it (see
/// [`Sandbox::check_growth`]).
#[derive(Debug, Default)]
struct Bound {
    /// An upper bound of the bytes the sandbox holds and the writes granted hold once done
    /// (`None` until measured).
    known: Option<u64>,
    /// Bytes granted to writes that have not finished (`wasgo.file_write` writes and syncs its
    /// bytes outside the lock, after its grant): a fresh measurement misses what they have not
    /// written yet, so it counts them on top (two instances of one mod each got the whole quota
    /// when a measurement in between forgot the other's grant).
    in_flight: u64,
    /// Files and directories granted to creations that have not happened yet, likewise.
    entries_in_flight: u64,
    /// The temporary files of the `wasgo.file_write`s in flight, with the bytes each was
    /// granted: those bytes and entries are the writes' grants (above), so a count of the
    /// sandbox leaves them out (counted on disk and in flight, two instances saving at once were
    /// refused with half the quota free) — up to the grant only: another instance of the mod
    /// may find the file (WASI `fd_readdir`), open it and write past the grant, which counts.
    temps: Vec<(PathBuf, u64)>,
}

type UsageBound = Arc<Mutex<Bound>>;

/// Bytes granted to a write by [`Sandbox::check_growth`], or entries to a creation by
/// [`Sandbox::check_new_entries`]: they count as in flight until the grant drops (keep it until
/// the write or creation has finished or failed).
#[must_use = "the grant counts the write as in flight until it drops"]
#[derive(Debug)]
pub struct Grant {
    cell: Option<UsageBound>,
    bytes: u64,
    entries: u64,
}

impl Grant {
    fn none() -> Grant {
        Grant {
            cell: None,
            bytes: 0,
            entries: 0,
        }
    }

    /// Ends the grant under the lock the caller holds on its bound (`bound`), in the same hold
    /// as the change it granted: let go after the lock, another count in between saw the change
    /// on disk and its grant in flight, and refused a write that fit.
    fn settle(mut self, bound: &mut Bound) {
        if self.cell.take().is_some() {
            bound.in_flight = bound.in_flight.saturating_sub(self.bytes);
            bound.entries_in_flight = bound.entries_in_flight.saturating_sub(self.entries);
        }
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        if let Some(cell) = &self.cell {
            let mut bound = cell.lock();
            bound.in_flight = bound.in_flight.saturating_sub(self.bytes);
            bound.entries_in_flight = bound.entries_in_flight.saturating_sub(self.entries);
        }
    }
}

/// Each sandbox's bound, by root. Each sandbox has its own lock: a write's `fsync`, done under its
/// sandbox's lock, never holds up another mod's files (with one lock for all sandboxes, a mod's
/// WASI write on the main thread waited out another mod's `fsync`, 49 ms measured).
static USAGE_BOUNDS: LazyLock<Mutex<HashMap<PathBuf, UsageBound>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The bound of the sandbox at `root` (the map's lock is held only to find it). The first use
/// in the process also removes what writes of an earlier run left ([`sweep_stale_temps`]).
fn usage_bound(root: &Path) -> UsageBound {
    let fresh = {
        let mut bounds = USAGE_BOUNDS.lock();
        if let Some(bound) = bounds.get(root) {
            return bound.clone();
        }
        let bound = UsageBound::default();
        bounds.insert(root.to_path_buf(), bound.clone());
        bound
    };
    // Under the sandbox's own lock: nothing of this process writes there meanwhile.
    let held = fresh.lock();
    // A write of this process that reserved its temporary file between the bound's creation
    // and this lock is not a left-over.
    let in_flight: Vec<PathBuf> = held.temps.iter().map(|(path, _)| path.clone()).collect();
    sweep_stale_temps(root, &in_flight);
    drop(held);
    fresh
}

use rules::TEMP_PREFIX;

/// How old another process's temporary file must be to be taken for left over (a write in
/// flight takes milliseconds; a second game process sharing the folder keeps its own).
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// The most entries [`sweep_stale_temps`] looks at.
const MAX_SWEPT_ENTRIES: usize = 100_000;

/// Whether the process `pid` (a temporary file's writer) may still be writing: where the
/// system lists its processes (`/proc`), whether it runs; elsewhere, as far as we know, yes.
fn may_be_running(pid: &str) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid).exists()
}

/// Removes the temporary files of `wasgo.file_write`s that a run which ended in the middle of
/// one left in the sandbox at `root` (the game crashed or was killed between writing and
/// renaming). Hidden from `file_list` and unknown to the mod, they counted against its quota
/// for good. Runs at this process's first use of the sandbox, before it writes there, so a
/// temporary file named with this process's id is an earlier run's (a game in a PID namespace,
/// Flatpak's, gets the same id every run); one of a process that no longer runs is left over
/// at once; one of a running process (a second game sharing the folder) only once older than
/// [`STALE_TEMP_AGE`]. Links in the sandbox are removed (not followed); at most
/// [`usage::MAX_WALK_DEPTH`] directories deep.
fn sweep_stale_temps(root: &Path, in_flight: &[PathBuf]) {
    let own = std::process::id().to_string();
    let mut dirs = vec![(root.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_SWEPT_ENTRIES {
                return;
            }
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            // A link can only have come with a download (no mod can make one, and WasGo makes
            // none): every path a mod names is refused through one, but a link renamed into the
            // place of a name WasGo is about to create or of a directory took a write out of
            // the sandbox. The link itself goes, never what it points to.
            if meta.file_type().is_symlink() {
                let _ = std::fs::remove_file(entry.path());
                continue;
            }
            if meta.is_dir() {
                if depth < usage::MAX_WALK_DEPTH {
                    dirs.push((entry.path(), depth + 1));
                }
                continue;
            }
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(TEMP_PREFIX))
                .and_then(|rest| rest.split('-').next())
            else {
                continue;
            };
            let old = meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age >= STALE_TEMP_AGE);
            let dead = pid.parse::<u32>().is_ok() && !may_be_running(pid);
            let left_over = pid == own || dead || old;
            if meta.is_file() && left_over && !in_flight.contains(&entry.path()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// 64 bits no mod can predict (the standard library's per-process random hash keys, mixed with
/// a clock reading).
fn unguessable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// One mod's sandbox directory.
#[derive(Debug, Clone)]
pub struct Sandbox {
    root: PathBuf,
    quota_bytes: u64,
}

/// A sandbox's lock, held by a WASI call across the change it makes (see [`Sandbox::hold`]):
/// while it is held, no other instance of the mod measures the sandbox, counts or renames a
/// `wasgo.file_write` or opens a file through WASI.
pub struct Held {
    sandbox: Sandbox,
    bound: parking_lot::ArcMutexGuard<parking_lot::RawMutex, Bound>,
}

impl Held {
    /// Admits growing the sandbox's content by `growth` bytes, which the holder writes before
    /// it lets go of the lock: the quota check of [`Sandbox::check_growth`] (a fresh
    /// measurement when the bound has no room), with nothing left in flight.
    ///
    /// # Errors
    /// [`SandboxError::Quota`] naming the quota, [`SandboxError::Unmeasurable`].
    pub fn admit(&mut self, growth: u64) -> Result<(), SandboxError> {
        self.sandbox.fit(&mut self.bound, growth)
    }

    /// Whether the sandbox can still be counted whole (after the holder made a directory: one
    /// past [`usage::MAX_WALK_DEPTH`] levels makes every later count fail).
    ///
    /// # Errors
    /// [`SandboxError::Unmeasurable`].
    pub fn countable(&self) -> Result<(), SandboxError> {
        self.sandbox.measure().map(|_| ())
    }

    /// Admits `new` more files or directories, which the holder makes before it lets go of the
    /// lock: the entry limit of [`Sandbox::check_new_entries`] (a fresh count, with the creations
    /// granted to others), with nothing left in flight.
    ///
    /// # Errors
    /// [`SandboxError::Entries`], [`SandboxError::Unmeasurable`].
    pub fn admit_entries(&mut self, new: u64) -> Result<(), SandboxError> {
        self.sandbox.fit_entries(&self.bound, new)
    }
}

impl Sandbox {
    pub fn new(root: PathBuf, quota_bytes: u64) -> Sandbox {
        Sandbox { root, quota_bytes }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Refuses a sandbox folder that is a symbolic link (or a Windows junction): the file
    /// functions, WASI's `/sandbox` and the quota count would all follow it out of the mods
    /// folder (a mod download can hold a link named like its own sandbox folder). A missing
    /// folder is fine (it is made when needed).
    ///
    /// # Errors
    /// The message saying which folder and what to do.
    pub fn check_root(root: &Path) -> Result<(), String> {
        match std::fs::symlink_metadata(root) {
            Ok(meta) if meta.file_type().is_symlink() => Err(format!(
                "the mod's sandbox folder `{}` is a symbolic link; WasGo never writes through one (its files would go wherever it points): remove it",
                root.display()
            )),
            Ok(meta) if !meta.is_dir() => Err(format!(
                "the mod's sandbox folder `{}` is a file, not a folder; remove it",
                root.display()
            )),
            _ => Ok(()),
        }
    }

    /// Whether the sandbox folder itself is a link now: checked at every access (`check_root`
    /// ran at start, and a link put in its place since, by another program, would send every
    /// path wherever it points).
    fn root_is_link(&self) -> bool {
        std::fs::symlink_metadata(&self.root).is_ok_and(|m| m.file_type().is_symlink())
    }

    /// The host path of a mod path, refusing symlinks on the way.
    fn resolve(&self, path: &str) -> Result<PathBuf, SandboxError> {
        let refused = |rule| SandboxError::Path {
            path: path.to_string(),
            rule,
        };
        let segments = validate(path).map_err(refused)?;
        if self.root_is_link() {
            return Err(refused(PathRule::ThroughSymlink));
        }
        let mut full = self.root.clone();
        for s in segments {
            full.push(s);
            if let Ok(meta) = std::fs::symlink_metadata(&full) {
                if meta.file_type().is_symlink() {
                    return Err(refused(PathRule::ThroughSymlink));
                }
            }
        }
        Ok(full)
    }

    fn io(path: &str, e: std::io::Error) -> SandboxError {
        if e.kind() == std::io::ErrorKind::NotFound {
            SandboxError::NotFound {
                path: path.to_string(),
            }
        } else {
            SandboxError::Io {
                path: path.to_string(),
                message: e.to_string(),
            }
        }
    }

    /// The quota in bytes (`wasgo/limits/storage_mb`).
    pub fn quota_bytes(&self) -> u64 {
        self.quota_bytes
    }

    /// Bytes and entries the sandbox holds now (not following symlinks, at any depth), and the
    /// bytes of its files that were deleted or replaced while a descriptor of this process still
    /// holds them open (see [`usage::orphaned_bytes`]).
    ///
    /// # Errors
    /// [`SandboxError::Unmeasurable`] when part of the tree cannot be read.
    pub fn measure(&self) -> Result<Usage, SandboxError> {
        self.measure_around(None).map(|(usage, _)| usage)
    }

    /// [`Sandbox::measure`], and whether a descriptor holds the file `file` open (one look at
    /// the descriptors answers both: [`usage::open_files`]).
    fn measure_around(&self, file: Option<&Path>) -> Result<(Usage, bool), SandboxError> {
        let mut usage = usage::measure(&self.root)?;
        let open = usage::open_files(&self.root, file);
        usage.bytes = usage.bytes.saturating_add(open.orphaned);
        Ok((usage, open.holds_file))
    }

    /// [`Sandbox::measure_around`] under the lock, without the temporary files of the
    /// `wasgo.file_write`s in flight (their grants count them: `Bound::temps`).
    fn counted(&self, bound: &Bound, file: Option<&Path>) -> Result<(Usage, bool), SandboxError> {
        let (mut usage, held) = self.measure_around(file)?;
        for (temp, granted) in &bound.temps {
            if let Ok(meta) = std::fs::symlink_metadata(temp) {
                usage.bytes = usage.bytes.saturating_sub(meta.len().min(*granted));
                usage.entries = usage.entries.saturating_sub(1);
            }
        }
        Ok((usage, held))
    }

    /// Refuses growing the sandbox's content by `growth` bytes past the quota (WASI writes);
    /// the [`Grant`] counts the bytes as in flight until it drops.
    ///
    /// Walking the directory for every write would make each WASI write several times slower,
    /// so the process keeps an upper bound of each sandbox's usage: a check that fits under the
    /// bound's headroom only raises the bound; only a check that does not fit measures the
    /// directory again (which also catches deletions), adding the grants still in flight. The
    /// bound never under-counts what WasGo let mods write, so the quota holds exactly; a
    /// refusal is always based on a fresh measurement, and a measurement that fails refuses.
    ///
    /// # Errors
    /// [`SandboxError::Quota`] naming the quota, [`SandboxError::Unmeasurable`].
    pub fn check_growth(&self, growth: u64) -> Result<Grant, SandboxError> {
        if growth == 0 {
            return Ok(Grant::none());
        }
        let cell = usage_bound(&self.root);
        let mut bound = cell.lock();
        self.fit(&mut bound, growth)?;
        bound.in_flight += growth;
        drop(bound);
        Ok(Grant {
            cell: Some(cell),
            bytes: growth,
            entries: 0,
        })
    }

    /// Takes the sandbox's lock for a WASI call that changes a file's size: the call reads the
    /// file's size, [admits](Held::admit) its growth and makes the change while holding it, so
    /// no measurement of another instance falls between (a write checked once and moved in
    /// chunks regrew a file another instance had truncated meanwhile, uncounted: 2.9 MB in a
    /// 2 MiB quota), and no WASI `path_open` falls between a `wasgo.file_write`'s count and its
    /// rename.
    pub fn hold(&self) -> Held {
        Held {
            sandbox: self.clone(),
            bound: usage_bound(&self.root).lock_arc(),
        }
    }

    /// The quota rule of [`Sandbox::check_growth`] under the lock: raises the bound by
    /// `growth`, measuring the sandbox afresh (with the grants in flight) when the bound has no
    /// room for it.
    fn fit(&self, bound: &mut Bound, growth: u64) -> Result<(), SandboxError> {
        if growth == 0 {
            return Ok(());
        }
        let fits = bound
            .known
            .is_some_and(|known| known.saturating_add(growth) <= self.quota_bytes);
        if !fits {
            let usage = match self.counted(bound, None) {
                Ok((usage, _)) => usage.bytes.saturating_add(bound.in_flight),
                Err(e) => {
                    bound.known = None;
                    return Err(e);
                }
            };
            bound.known = Some(usage);
            let after = usage.saturating_add(growth);
            if after > self.quota_bytes {
                return Err(SandboxError::Quota {
                    after,
                    quota: self.quota_bytes,
                });
            }
        }
        bound.known = bound.known.map(|known| known + growth);
        Ok(())
    }

    /// The entry rule under the lock: `new` more files or directories fit beside what a fresh
    /// count finds and the creations granted to others.
    fn fit_entries(&self, bound: &Bound, new: u64) -> Result<(), SandboxError> {
        let entries = self.counted(bound, None)?.0.entries + bound.entries_in_flight;
        if entries.saturating_add(new) > MAX_ENTRIES {
            return Err(SandboxError::Entries { path: None });
        }
        Ok(())
    }

    /// Refuses creating `new` more files or directories past [`MAX_ENTRIES`], counting the
    /// creations other instances were granted and have not made yet; the [`Grant`] counts these
    /// `new` until it drops.
    ///
    /// # Errors
    /// [`SandboxError::Entries`], [`SandboxError::Unmeasurable`].
    pub fn check_new_entries(&self, new: u64) -> Result<Grant, SandboxError> {
        if new == 0 {
            return Ok(Grant::none());
        }
        let cell = usage_bound(&self.root);
        let mut bound = cell.lock();
        self.fit_entries(&bound, new)?;
        bound.entries_in_flight += new;
        drop(bound);
        Ok(Grant {
            cell: Some(cell),
            bytes: 0,
            entries: new,
        })
    }

    /// Writes `data` to `path` atomically, creating parent directories.
    ///
    /// The sandbox's lock is held to count and to rename, not while the bytes are written and
    /// synced (a WASI `path_open` or write of another instance of the mod waits for the lock: held
    /// across a 62 MB write and its `fsync`, it held the game's main thread 190 ms). In between,
    /// the new bytes count as in flight; the rename comes after a second full count (bytes and
    /// entries), since anything may have happened to the old file meanwhile.
    ///
    /// # Errors
    /// Any [`SandboxError`]; nothing is written on error.
    pub fn write(&self, path: &str, data: &[u8]) -> Result<(), SandboxError> {
        let full = self.resolve(path)?;
        if full.is_dir() {
            return Err(SandboxError::IsDirectory {
                path: path.to_string(),
            });
        }
        // Its directories within what a count of the sandbox reads (a write deeper made every
        // later count, and so every later write, fail).
        let dirs = full
            .strip_prefix(&self.root)
            .map_or(0, |rest| rest.components().count().saturating_sub(1));
        if dirs > usage::MAX_WALK_DEPTH {
            return Err(SandboxError::Unmeasurable(format!(
                "`{path}` lies {dirs} directories deep; WasGo counts a sandbox down to {} levels, so use a shallower path",
                usage::MAX_WALK_DEPTH
            )));
        }
        let new = data.len() as u64;
        let cell = usage_bound(&self.root);
        let parent = full.parent().expect("a sandbox path has a parent");
        // Unique in the process (two instances of one mod share its directory), and not to be
        // guessed: a link a download put in the sandbox, renamed to the name a write was about
        // to create, took the write out of the sandbox. The file is made new (never opened
        // through a link or over another file) besides.
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = parent.join(format!(
            "{TEMP_PREFIX}{}-{n}-{:016x}",
            std::process::id(),
            unguessable()
        ));
        let (grant, made) = {
            let mut bound = cell.lock();
            // The directories the write needs that are missing, outermost first.
            let mut made: Vec<PathBuf> = full
                .ancestors()
                .skip(1)
                .take_while(|p| *p != self.root && std::fs::symlink_metadata(p).is_err())
                .map(Path::to_path_buf)
                .collect();
            made.reverse();
            let (after, usage, freed) = self.after_replacing(&bound, &full, new)?;
            // The file (when missing) and the missing directories are new entries.
            let file_missing = u64::from(std::fs::symlink_metadata(&full).is_err());
            let missing = file_missing + made.len() as u64;
            if missing > 0 && usage.entries + bound.entries_in_flight + missing > MAX_ENTRIES {
                return Err(SandboxError::Entries {
                    path: Some(path.to_string()),
                });
            }
            // Made now, under the lock: on disk, they count as themselves, not in flight.
            std::fs::create_dir_all(parent).map_err(|e| Self::io(path, e))?;
            // The old file's bytes are taken off when the rename frees them, not before.
            bound.known = Some(after + freed);
            bound.in_flight += new;
            bound.entries_in_flight += file_missing;
            bound.temps.push((tmp.clone(), new));
            let grant = Grant {
                cell: Some(cell.clone()),
                bytes: new,
                entries: file_missing,
            };
            (grant, made)
        };
        let written = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(data)?;
            f.sync_all()
        })()
        .map_err(|e| Self::io(path, e));
        let mut bound = cell.lock();
        // Counted again: what lies at `full` now is not what the first count saw (another
        // instance may have moved the old file away, replaced it, or opened it; taken off
        // twice, the bound fell by bytes never freed, 20 MiB in a 4 MiB quota). The new
        // bytes are this write's grant; its temporary file is left out of the count.
        let outcome = written.and_then(|()| {
            let (after, usage, _) = self.after_replacing(&bound, &full, 0)?;
            // The file's entry is new unless one is there now.
            let adds = u64::from(std::fs::symlink_metadata(&full).is_err());
            let entries = (usage.entries + bound.entries_in_flight)
                .saturating_sub(grant.entries)
                .saturating_add(adds);
            if entries > MAX_ENTRIES {
                return Err(SandboxError::Entries {
                    path: Some(path.to_string()),
                });
            }
            std::fs::rename(&tmp, &full).map_err(|e| Self::io(path, e))?;
            bound.known = Some(after);
            Ok(())
        });
        if outcome.is_err() {
            let _ = std::fs::remove_file(&tmp);
            // The directories it made, if still empty (nothing is written on error).
            for dir in made.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
        }
        bound.temps.retain(|(t, _)| *t != tmp);
        grant.settle(&mut bound);
        outcome
    }

    /// What the sandbox would hold once the file `full` is replaced by `new` more bytes, with
    /// the writes in flight (their temporary files left out of the count), under the lock;
    /// refused past the quota. A file a descriptor holds open (a WASI `path_open`) keeps its bytes
    /// after the new file replaces it: they are not taken off (they were, and a 1 MiB file written
    /// over its open self took 2 MiB under a 1 MiB quota). The old size is read under the lock
    /// (read before it, another instance's delete in between let a write pass the quota by it).
    /// Also returns the count and the bytes taken off for the old file (0 when it is held open
    /// or missing).
    fn after_replacing(
        &self,
        bound: &Bound,
        full: &Path,
        new: u64,
    ) -> Result<(u64, Usage, u64), SandboxError> {
        let old = std::fs::symlink_metadata(full)
            .map(|m| if m.is_file() { m.len() } else { 0 })
            .unwrap_or(0);
        let (usage, held) = self.counted(bound, Some(full))?;
        let old = if held { 0 } else { old };
        let with_flight = usage.bytes.saturating_add(bound.in_flight);
        let after = with_flight - old.min(with_flight) + new;
        if after > self.quota_bytes {
            return Err(SandboxError::Quota {
                after,
                quota: self.quota_bytes,
            });
        }
        Ok((after, usage, old))
    }

    /// Reads the file at `path`. A file larger than the quota (which only the game can have put
    /// there) is refused rather than loaded.
    ///
    /// # Errors
    /// Any [`SandboxError`].
    pub fn read(&self, path: &str) -> Result<Vec<u8>, SandboxError> {
        let full = self.resolve(path)?;
        let len = std::fs::metadata(&full)
            .map_err(|e| Self::io(path, e))?
            .len();
        if len > self.quota_bytes {
            return Err(SandboxError::TooLarge {
                path: path.to_string(),
                len,
                quota: self.quota_bytes,
            });
        }
        // Not blocking on a pipe nor reading a device put in the sandbox (their length is 0).
        crate::atomic_file::read_plain(&full, self.quota_bytes).map_err(|e| Self::io(path, e))
    }

    /// Deletes the file (or empty directory) at `path`.
    ///
    /// # Errors
    /// Any [`SandboxError`].
    pub fn delete(&self, path: &str) -> Result<(), SandboxError> {
        let full = self.resolve(path)?;
        // Under the sandbox's lock, so a `write` of another instance never counts a file as
        // there that is gone by the time it measures.
        let cell = usage_bound(&self.root);
        let _bound = cell.lock();
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
    ///
    /// # Errors
    /// Any [`SandboxError`].
    pub fn list(&self, path: &str) -> Result<String, SandboxError> {
        let dir = if path.is_empty() || path == "." {
            if self.root_is_link() {
                return Err(SandboxError::Path {
                    path: path.to_string(),
                    rule: PathRule::ThroughSymlink,
                });
            }
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
                if name.starts_with(TEMP_PREFIX) {
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
mod tests;
