use super::*;

fn temp_sandbox(quota: u64) -> Sandbox {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("wasgo-sandbox-{}-{nanos}-{n}", std::process::id()));
    Sandbox::new(dir, quota)
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
    assert_eq!(
        err,
        SandboxError::Quota {
            after: 11,
            quota: 10
        }
    );
    assert_eq!(err.code(), -3);
    assert!(sb.check_growth(0).is_ok());
    assert_eq!(sb.check_growth(0).unwrap().bytes, 0);
    assert!(matches!(
        sb.check_growth(1),
        Err(SandboxError::Quota { .. })
    ));
    let _ = std::fs::remove_dir_all(sb.root());
}

#[test]
fn entries_are_capped() {
    let sb = temp_sandbox(1 << 20);
    sb.write("a/b/c", b"").unwrap();
    assert_eq!(
        sb.measure().unwrap(),
        Usage {
            bytes: 0,
            entries: 3
        }
    );
    assert!(sb.check_new_entries(MAX_ENTRIES - 3).is_ok());
    assert_eq!(
        sb.check_new_entries(MAX_ENTRIES - 2).unwrap_err(),
        SandboxError::Entries { path: None }
    );
    let _ = std::fs::remove_dir_all(sb.root());
}

#[test]
fn a_file_larger_than_the_quota_is_not_read() {
    let sb = temp_sandbox(4);
    std::fs::create_dir_all(sb.root()).unwrap();
    std::fs::write(sb.root().join("big"), b"12345").unwrap();
    assert!(matches!(
        sb.read("big"),
        Err(SandboxError::TooLarge { len: 5, .. })
    ));
    let _ = std::fs::remove_dir_all(sb.root());
}

#[test]
fn path_errors_carry_their_rule() {
    let sb = temp_sandbox(1 << 20);
    assert_eq!(
        sb.write("../x", b"x"),
        Err(SandboxError::Path {
            path: "../x".into(),
            rule: PathRule::DotSegment
        })
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed() {
    let sb = temp_sandbox(1 << 20);
    std::fs::create_dir_all(sb.root()).unwrap();
    let outside = sb.root().with_extension("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, sb.root().join("link")).unwrap();
    assert!(matches!(
        sb.write("link/evil", b"x"),
        Err(SandboxError::Path {
            rule: PathRule::ThroughSymlink,
            ..
        })
    ));
    assert!(!outside.join("evil").exists());
    let _ = std::fs::remove_dir_all(sb.root());
    let _ = std::fs::remove_dir_all(&outside);
}

/// A tree nested past `PATH_MAX` (built with relative `mkdir`s, as a WASI mod can) is counted,
/// bytes and entries, like any other.
#[cfg(unix)]
#[test]
fn directories_nested_past_path_max_are_counted() {
    let sb = temp_sandbox(1 << 20);
    std::fs::create_dir_all(sb.root()).unwrap();
    let name = "d".repeat(100);
    let depth = 60; // 60 × 101 bytes: past Linux's 4096-byte PATH_MAX
    let mut dir =
        cap_primitives::fs::open_ambient_dir(sb.root(), cap_primitives::ambient_authority())
            .unwrap();
    for _ in 0..depth {
        let options = cap_primitives::fs::DirOptions::new();
        cap_primitives::fs::create_dir(&dir, Path::new(&name), &options).unwrap();
        dir = cap_primitives::fs::open_dir_nofollow(&dir, Path::new(&name)).unwrap();
    }
    let mut opts = cap_primitives::fs::OpenOptions::new();
    opts.write(true).create(true);
    let mut f = cap_primitives::fs::open(&dir, Path::new("deep.bin"), &opts).unwrap();
    f.write_all(&[7u8; 3000]).unwrap();
    drop(f);
    assert_eq!(
        sb.measure().unwrap(),
        Usage {
            bytes: 3000,
            entries: depth + 1
        }
    );
    assert!(matches!(
        sb.check_growth((1 << 20) - 2999),
        Err(SandboxError::Quota { .. })
    ));
    // Clean up from the bottom with handles too (`remove_dir_all` by path fails this deep).
    let _ = std::process::Command::new("rm")
        .arg("-rf")
        .arg(sb.root())
        .status();
}

#[test]
fn a_write_in_one_sandbox_never_waits_for_another_sandboxs_lock() {
    let slow = temp_sandbox(1 << 20);
    let other = temp_sandbox(1 << 20);
    slow.write("a", b"x").unwrap();
    // Hold the first sandbox's lock, as its write's fsync does for as long as the disk takes.
    let held = usage_bound(slow.root());
    let guard = held.lock();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let root = other.root().to_path_buf();
    let worker = std::thread::spawn(move || {
        let other = Sandbox::new(root, 1 << 20);
        let result = other.write("b", b"y").and_then(|()| other.check_growth(10));
        let _ = done_tx.send(result.is_ok());
    });
    // Generous: the write takes milliseconds; with one lock for every sandbox it never ends
    // while the guard is held.
    let finished = done_rx.recv_timeout(std::time::Duration::from_secs(20));
    drop(guard);
    worker.join().unwrap();
    assert_eq!(
        finished,
        Ok(true),
        "the other sandbox's write waited for the held lock"
    );
    let _ = std::fs::remove_dir_all(slow.root());
    let _ = std::fs::remove_dir_all(other.root());
}

#[test]
fn grants_in_flight_count_when_the_sandbox_is_measured_again() {
    let sb = temp_sandbox(100);
    // Another instance of the same mod: same directory, same process-wide bound.
    let other = Sandbox::new(sb.root().to_path_buf(), 100);
    // A WASI write granted 60 bytes and has not written them yet.
    let grant = sb.check_growth(60).unwrap();
    // A file write measures the disk again, where the 60 bytes are not yet.
    other.write("small", b"1234").unwrap();
    assert_eq!(
        other.check_growth(60).unwrap_err(),
        SandboxError::Quota {
            after: 124,
            quota: 100
        },
        "the grant in flight was forgotten"
    );
    assert_eq!(
        other.write("big", &[0; 40]).unwrap_err(),
        SandboxError::Quota {
            after: 104,
            quota: 100
        }
    );
    // The write ended without writing: its bytes are free again.
    drop(grant);
    assert!(other.check_growth(60).is_ok());
    let _ = std::fs::remove_dir_all(sb.root());
}

#[test]
fn creations_in_flight_count_against_the_entry_cap() {
    let sb = temp_sandbox(1 << 20);
    let other = Sandbox::new(sb.root().to_path_buf(), 1 << 20);
    sb.write("a", b"").unwrap();
    // One instance was granted the rest and has not made them yet.
    let grant = sb.check_new_entries(MAX_ENTRIES - 1).unwrap();
    assert_eq!(
        other.check_new_entries(1).unwrap_err(),
        SandboxError::Entries { path: None },
        "two instances each got the last place"
    );
    assert!(matches!(
        other.write("b", b""),
        Err(SandboxError::Entries { .. })
    ));
    drop(grant);
    assert!(other.check_new_entries(1).is_ok());
    let _ = std::fs::remove_dir_all(sb.root());
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_held_open_keeps_its_bytes_when_written_over() {
    let sb = temp_sandbox(10);
    sb.write("a", b"12345678").unwrap();
    // A descriptor (the mod's WASI `path_open`) holds the old file: replaced, it still takes
    // its 8 bytes, so 8 more do not fit in 10.
    let held = std::fs::File::open(sb.root().join("a")).unwrap();
    let err = sb.write("a", b"87654321").unwrap_err();
    assert_eq!(
        err,
        SandboxError::Quota {
            after: 16,
            quota: 10
        }
    );
    drop(held);
    // Let go of, the old bytes are taken off again.
    sb.write("a", b"87654321").unwrap();
    let _ = std::fs::remove_dir_all(sb.root());
}

/// A `wasgo.file_write` in flight counts once: by its grant, not also by its temporary file on
/// disk (counted twice, two instances saving at once were refused with half the quota free).
#[test]
fn a_write_in_flight_counts_once_not_also_by_its_temporary_file() {
    let sb = temp_sandbox(4 << 20);
    let other = Sandbox::new(sb.root().to_path_buf(), 4 << 20);
    std::fs::create_dir_all(sb.root()).unwrap();
    // Another instance's write of 1.5 MiB: granted, its bytes written to its temporary file.
    let tmp = sb.root().join(".wasgo-tmp-other-1");
    std::fs::write(&tmp, vec![0u8; 3 << 19]).unwrap();
    let cell = usage_bound(sb.root());
    {
        let mut bound = cell.lock();
        bound.in_flight += 3 << 19;
        bound.entries_in_flight += 1;
        bound.temps.push((tmp.clone(), 3 << 19));
    }
    // 1.5 MiB in flight + 2.5 MiB = 4 MiB: fits (with the temporary file counted too, 5.5).
    other.write("mine", &vec![0u8; 5 << 19]).unwrap();
    assert!(matches!(
        other.write("more", b"x"),
        Err(SandboxError::Quota { .. })
    ));
    {
        let mut bound = cell.lock();
        bound.in_flight -= 3 << 19;
        bound.entries_in_flight -= 1;
        bound.temps.retain(|(t, _)| *t != tmp);
    }
    let _ = std::fs::remove_dir_all(sb.root());
}

/// A write's temporary file counts beyond its grant: another instance of the mod could open it
/// (its name shows in WASI's `fd_readdir`) and write into it while the write is in flight,
/// and every count left the whole file out, so those bytes counted nowhere.
#[test]
fn bytes_written_into_a_temporary_file_past_its_grant_count() {
    let sb = temp_sandbox(1000);
    std::fs::create_dir_all(sb.root()).unwrap();
    let tmp = sb.root().join(".wasgo-tmp-other-2");
    // Granted 100 bytes; 900 there now (800 written into it by someone else).
    std::fs::write(&tmp, vec![0u8; 900]).unwrap();
    let cell = usage_bound(sb.root());
    {
        let mut bound = cell.lock();
        bound.in_flight += 100;
        bound.entries_in_flight += 1;
        bound.temps.push((tmp.clone(), 100));
    }
    // 800 past the grant + 100 in flight + 200 = 1100: over the quota.
    assert!(matches!(
        sb.check_growth(200),
        Err(SandboxError::Quota { after: 1100, .. })
    ));
    assert!(sb.check_growth(100).is_ok());
    {
        let mut bound = cell.lock();
        bound.in_flight -= 100;
        bound.entries_in_flight -= 1;
        bound.temps.retain(|(t, _)| *t != tmp);
    }
    let _ = std::fs::remove_dir_all(sb.root());
}

/// A write refused leaves nothing behind, not even the directories it would have needed.
#[test]
fn a_refused_write_makes_no_directories() {
    let sb = temp_sandbox(10);
    assert!(matches!(
        sb.write("a/b/c", &[0; 11]),
        Err(SandboxError::Quota { .. })
    ));
    assert!(!sb.root().join("a").exists());
    let _ = std::fs::remove_dir_all(sb.root());
}

/// A pipe or a device put in the sandbox is refused at once by `read` (a pipe's length is 0,
/// so the size check passed, and the read waited for a writer for ever on the main thread).
#[cfg(unix)]
#[test]
fn a_pipe_or_a_device_in_the_sandbox_is_not_read() {
    let sb = temp_sandbox(1 << 20);
    sb.write("a.txt", b"x").unwrap();
    let pipe = sb.root().join("pipe.txt");
    let name = std::ffi::CString::new(pipe.to_string_lossy().as_bytes()).unwrap();
    // SAFETY: `name` is a valid NUL-terminated path that lives across the call.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    // (Before, this read waited for a writer for ever.)
    let err = sb.read("pipe.txt").unwrap_err();
    assert!(format!("{err}").contains("not a plain file"), "{err}");
    assert_eq!(sb.read("a.txt").unwrap(), b"x");
    let _ = std::fs::remove_dir_all(sb.root());
}

/// A link put in place of the sandbox folder after the mod started (by another program) is
/// not written through: the folder is checked at every access, not only at start.
#[cfg(unix)]
#[test]
fn a_sandbox_folder_replaced_by_a_link_is_not_followed() {
    let sb = temp_sandbox(1 << 20);
    sb.write("a.txt", b"x").unwrap();
    let outside = sb.root().with_extension("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let moved = sb.root().with_extension("moved");
    std::fs::rename(sb.root(), &moved).unwrap();
    std::os::unix::fs::symlink(&outside, sb.root()).unwrap();
    assert!(sb.write("b.txt", b"y").is_err());
    assert!(sb.read("a.txt").is_err());
    assert!(!outside.join("b.txt").exists(), "written through the link");
    // Listing the folder itself does not follow the link either.
    std::fs::write(outside.join("secret"), b"").unwrap();
    for root in ["", "."] {
        assert!(sb.list(root).is_err(), "listed through the link ({root:?})");
    }
    std::fs::remove_file(sb.root()).unwrap();
    let _ = std::fs::remove_dir_all(&moved);
    let _ = std::fs::remove_dir_all(&outside);
}

/// A `wasgo.file_write` cut off by the game's end (a crash, a forced quit) left its hidden
/// temporary file, which `file_list` does not show, the mod cannot name, and which counted
/// against the quota for good: the next run's first use of the sandbox removes it.
#[test]
fn a_temporary_file_an_earlier_run_left_is_removed_and_frees_the_quota() {
    let sb = temp_sandbox(1 << 20);
    std::fs::create_dir_all(sb.root().join("saves")).unwrap();
    let left = sb.root().join("saves/.wasgo-tmp-4194304-0");
    let file = std::fs::File::create(&left).unwrap();
    file.set_len(900 << 10).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    file.set_modified(old).unwrap();
    drop(file);
    // A running process's write in flight right now (the test's parent runs): fresh, kept.
    let fresh = sb.root().join(format!(
        ".wasgo-tmp-{}-0",
        std::os::unix::process::parent_id()
    ));
    std::fs::write(&fresh, b"x").unwrap();
    // Fresh, but of an earlier run: one with this process's id (a PID namespace gives a game
    // the same id every run), and one of a process that no longer runs.
    let same_pid = sb
        .root()
        .join(format!(".wasgo-tmp-{}-7", std::process::id()));
    std::fs::write(&same_pid, vec![0u8; 50 << 10]).unwrap();
    let dead = sb.root().join(".wasgo-tmp-4194305-0");
    std::fs::write(&dead, vec![0u8; 50 << 10]).unwrap();
    assert_eq!(sb.list("").unwrap(), "saves/");
    sb.write("save", &vec![0u8; 100 << 10]).unwrap();
    assert!(
        !left.exists(),
        "the left-over temporary file is still there"
    );
    assert!(
        !same_pid.exists(),
        "an earlier run's file with this process's id stayed"
    );
    assert!(
        !dead.exists(),
        "the file of a process that no longer runs stayed"
    );
    assert!(
        fresh.exists(),
        "a fresh temporary file of a running process was removed"
    );
    let _ = std::fs::remove_dir_all(sb.root());
}

/// The sweep takes a temporary file with this process's id for an earlier run's, unless a write
/// of this process reserved it (two instances of one mod making their first access at once).
#[test]
fn the_sweep_keeps_this_processs_writes_in_flight() {
    let sb = temp_sandbox(1 << 20);
    std::fs::create_dir_all(sb.root()).unwrap();
    let ours = sb
        .root()
        .join(format!(".wasgo-tmp-{}-1", std::process::id()));
    let left = sb
        .root()
        .join(format!(".wasgo-tmp-{}-2", std::process::id()));
    std::fs::write(&ours, b"in flight").unwrap();
    std::fs::write(&left, b"left over").unwrap();
    super::sweep_stale_temps(sb.root(), std::slice::from_ref(&ours));
    assert!(ours.exists(), "a write in flight lost its temporary file");
    assert!(!left.exists());
    let _ = std::fs::remove_dir_all(sb.root());
}

/// A download may hold links in the mod's folder. A link renamed to the name a write's
/// temporary file would get (`.wasgo-tmp-<pid>-<n>`, both guessable) took the write out of the
/// sandbox: the temporary file was opened through the link, and the mod's bytes landed where it
/// pointed (the game's cache key, a shell's start-up file). Here a link waits at every name the
/// next thousand writes would have used: the writes stay inside, and the target is untouched.
#[cfg(unix)]
#[test]
fn a_write_never_goes_through_a_link_at_its_temporary_name() {
    let sb = temp_sandbox(1 << 20);
    std::fs::create_dir_all(sb.root()).unwrap();
    let outside = sb.root().with_extension("outside");
    std::fs::write(&outside, b"the game's own").unwrap();
    // Links a download put there are removed at the sandbox's first use (below); these come
    // after it, as a second instance of the mod could move one into place.
    sb.write("first", b"1").unwrap();
    let next = TEMP_COUNTER.load(Ordering::Relaxed);
    for n in next..next + 1000 {
        let link = sb
            .root()
            .join(format!("{TEMP_PREFIX}{}-{n}", std::process::id()));
        std::os::unix::fs::symlink(&outside, link).unwrap();
    }
    for _ in 0..3 {
        sb.write("x", b"the mod's bytes").unwrap();
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"the game's own");
    assert_eq!(sb.read("x").unwrap(), b"the mod's bytes");
    // Nor can a mod name WasGo's temporary files (to make, rename to or open one).
    assert!(matches!(
        sb.write(".wasgo-tmp-1-2", b"y"),
        Err(SandboxError::Path {
            rule: rules::PathRule::WasgoTemporary,
            ..
        })
    ));
    let _ = std::fs::remove_dir_all(sb.root());
    let _ = std::fs::remove_file(outside);
}

/// Links a download put in the mod's folder are removed at the sandbox's first use (the links
/// themselves, never what they point to): no mod can make one, and one moved into the place of
/// a directory or of a name WasGo creates took a write out of the sandbox.
#[cfg(unix)]
#[test]
fn links_in_a_sandbox_are_removed_at_its_first_use() {
    let sb = temp_sandbox(1 << 20);
    std::fs::create_dir_all(sb.root().join("saves")).unwrap();
    let outside = sb.root().with_extension("target");
    std::fs::write(&outside, b"kept").unwrap();
    std::os::unix::fs::symlink(&outside, sb.root().join("l0")).unwrap();
    std::os::unix::fs::symlink(&outside, sb.root().join("saves/l1")).unwrap();
    std::os::unix::fs::symlink(
        sb.root().with_extension("nowhere"),
        sb.root().join("dangling"),
    )
    .unwrap();
    sb.write("saves/a", b"x").unwrap();
    for link in ["l0", "saves/l1", "dangling"] {
        assert!(
            sb.root().join(link).symlink_metadata().is_err(),
            "{link} is still there"
        );
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"kept");
    assert_eq!(sb.list("").unwrap(), "saves/");
    let _ = std::fs::remove_dir_all(sb.root());
    let _ = std::fs::remove_file(outside);
}
