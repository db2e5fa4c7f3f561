//! Sandbox path checks: a path the rules accept stays inside the sandbox root (only plain names,
//! no `.`, `..`, root or prefix components), and writing it really lands under the root.

use super::harness::{run, text_from};
use std::path::{Component, Path};
use wasgo_core::sandbox::{validate, Sandbox, MAX_PATH_BYTES};

const PIECES: &[&str] = &[
    "a",
    "b",
    "save",
    "/",
    "//",
    ".",
    "..",
    "...",
    "\\",
    ":",
    "res:",
    "user://",
    "C:",
    "\0",
    "*",
    "?",
    "|",
    "<",
    "\u{7f}",
    "\u{202e}",
    "é",
    "~",
    " ",
    "\n",
    ".hidden",
    "x.json",
    "/etc/passwd",
];

#[test]
fn sandbox_paths_stay_inside() {
    let root = std::env::temp_dir().join(format!("wasgo-fuzz-paths-{}", std::process::id()));
    let sandbox = Sandbox::new(root.clone(), 1 << 20);
    let mut writes = 0u32;
    run("sandbox_paths", 30_000, 128, |u| {
        let mut path = text_from(u, PIECES);
        if u.ratio(1, 16).unwrap_or(false) {
            path = "a/".repeat(u.int_in_range(100..=300).unwrap_or(200)) + "x";
        }
        let Ok(segments) = validate(&path) else {
            return;
        };
        assert!(path.len() <= MAX_PATH_BYTES);
        assert!(!segments.is_empty());
        let joined = root.join(&path);
        let rest = joined
            .strip_prefix(&root)
            .expect("a join stays under its base");
        assert!(
            rest.components().all(|c| matches!(c, Component::Normal(_))),
            "{path:?} has a component that is not a plain name"
        );
        assert!(!Path::new(&path).is_absolute());
        writes += 1;
        if writes.is_multiple_of(64) {
            let dirs = segments.len() - 1;
            let written = sandbox.write(&path, b"x");
            if dirs > wasgo_core::sandbox::usage::MAX_WALK_DEPTH {
                // Deeper than a count reads: refused, nothing made.
                let err = written.expect_err("a path deeper than the count reads is refused");
                assert!(err.to_string().contains("directories deep"), "{err}");
                assert!(!joined.exists());
                let _ = std::fs::remove_dir_all(&root);
                return;
            }
            written.expect("an accepted path can be written");
            let real = joined.canonicalize().expect("the written file exists");
            let base = root.canonicalize().unwrap();
            assert!(
                real.starts_with(&base),
                "{path:?} landed at {}",
                real.display()
            );
            let _ = std::fs::remove_dir_all(&root);
        }
    });
    let _ = std::fs::remove_dir_all(&root);
}
