//! Free disk space, so a run that fills the disk says so before and while it does.
//!
//! A cold `cargo xtask test` writes about 10 GiB (the debug builds under `target/`, the mods
//! under `mods/target/`, Godot, the mod toolchains and the cross check): [`warn_if_short`] says
//! at the start of the run when the disk holding `target/` has less than [`COLD_RUN_BYTES`] free,
//! and the step-time table ([`crate::step_times`]) shows what was free after every step, so a step
//! that fails with "No space left on device" is read at a glance.

use std::path::Path;
use std::process::Command;

/// What a cold `cargo xtask test` writes at most, with a margin (measured on Linux x86_64: 10.2
/// GiB from a fresh clone, Godot, toolchains and the cross check included; the README says it
/// under "The two commands").
pub const COLD_RUN_BYTES: u64 = 12 * GIB;

const GIB: u64 = 1024 * 1024 * 1024;

/// The bytes free (for an unprivileged user) on the file system holding `dir`, or `None` when
/// `df` is missing or says something else than POSIX's format. The nearest existing ancestor of
/// `dir` is asked, so it works before `target/` exists.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let existing = dir.ancestors().find(|d| d.exists())?;
    let out = Command::new("df").arg("-Pk").arg(existing).output().ok()?;
    if !out.status.success() {
        return None;
    }
    parse_df_available(&String::from_utf8_lossy(&out.stdout))
}

/// The "Available" column of `df -Pk`'s one file-system line, in bytes.
fn parse_df_available(out: &str) -> Option<u64> {
    // POSIX: a header, then `Filesystem 1024-blocks Used Available Capacity Mounted-on`. Names
    // may hold spaces, so "Available" is found as the field before the first one ending in `%`
    // (the capacity).
    let line = out.lines().nth(1)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let capacity = fields.iter().position(|f| f.ends_with('%'))?;
    let available = fields.get(capacity.checked_sub(1)?)?;
    available.parse::<u64>().ok()?.checked_mul(1024)
}

/// `bytes` in GiB with one decimal (`12.3 GiB`).
pub fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / GIB as f64)
}

/// Prints what is free on the disk of `target_dir`, with a warning and what to do when it is less
/// than a cold run needs (the run goes on: a warm one needs far less).
pub fn warn_if_short(target_dir: &Path) {
    let Some(free) = free_bytes(target_dir) else {
        return;
    };
    if free < COLD_RUN_BYTES {
        println!(
            "xtask: warning: {} free on the disk of `{}`; a cold run writes up to about {}. \
             If a step fails with \"No space left on device\", free some space (`cargo clean` \
             empties `target/`, `rm -rf mods/target` the mods' builds) and run again",
            gib(free),
            target_dir.display(),
            gib(COLD_RUN_BYTES)
        );
    } else {
        println!(
            "xtask: {} free on the disk of `{}`",
            gib(free),
            target_dir.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_available_column_is_read_in_bytes() {
        let out = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                   /dev/vda         264108008 50331648  46137344      53% /\n";
        assert_eq!(parse_df_available(out), Some(46_137_344 * 1024));
    }

    #[test]
    fn names_with_spaces_do_not_shift_the_columns() {
        let out = "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
                   my disk 1000 400 600 40% /mnt/my games\n";
        assert_eq!(parse_df_available(out), Some(600 * 1024));
    }

    #[test]
    fn output_without_a_file_system_line_reads_as_unknown() {
        assert_eq!(parse_df_available("Filesystem 1024-blocks Used\n"), None);
        assert_eq!(parse_df_available(""), None);
    }

    #[test]
    fn this_machine_reports_some_space() {
        // `df` is part of every Linux the test command runs on.
        assert!(free_bytes(Path::new(env!("CARGO_MANIFEST_DIR"))).is_some());
    }

    #[test]
    fn gib_has_one_decimal() {
        assert_eq!(gib(12 * GIB + GIB / 2), "12.5 GiB");
    }
}
