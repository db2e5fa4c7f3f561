//! The Go-js and waPC test mods of `mods/tests/`, built from the test harness when their
//! toolchain is there (the provisioned Go under `target/toolchains/go/`, `$GO`, or cargo for
//! `wasm32-unknown-unknown`), else taken from where `cargo xtask mods` puts them
//! (`godot_project/tests/mods/`). A test whose mod is in neither place is skipped with a message
//! saying to run `cargo xtask mods`.

#![allow(dead_code)]

use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

static BUILT: Mutex<Option<HashMap<String, Option<Vec<u8>>>>> = Mutex::new(None);

fn go_command(root: &Path) -> Option<Command> {
    if let Some(go) = std::env::var_os("GO").filter(|g| !g.is_empty()) {
        return Some(Command::new(go));
    }
    let provisioned = root.join("target/toolchains/go/root/usr/lib/go-1.24/bin/go");
    provisioned.is_file().then(|| Command::new(provisioned))
}

fn build_go(root: &Path, name: &str, out: &Path) -> bool {
    let Some(mut go) = go_command(root) else {
        return false;
    };
    let home = root.join("target/toolchains/go");
    go.current_dir(root.join("mods/tests").join(name))
        .env("GOOS", "js")
        .env("GOARCH", "wasm")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOCACHE", home.join("cache"))
        .env("GOPATH", home.join("path"))
        .args(["build", "-trimpath", "-o"])
        .arg(out)
        .arg(".");
    go.status().is_ok_and(|s| s.success())
}

fn build_rust(root: &Path, name: &str, out: &Path) -> bool {
    let dir = root.join("mods/tests").join(name);
    let target = root.join("mods/target/wapc");
    let ok = Command::new(env!("CARGO"))
        .current_dir(&dir)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "--target-dir",
        ])
        .arg(&target)
        .status()
        .is_ok_and(|s| s.success());
    let built = target
        .join("wasm32-unknown-unknown/release")
        .join(format!("{name}.wasm"));
    ok && std::fs::copy(built, out).is_ok()
}

/// The bytes of test mod `name` (`gojs_*` are Go, others Rust), or `None` (skip the test).
pub fn test_mod(name: &str) -> Option<Vec<u8>> {
    let mut built = BUILT.lock();
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(bytes) = built.get(name) {
        return bytes.clone();
    }
    let root = repo_root();
    let out_dir = root.join("target/test-mods");
    let _ = std::fs::create_dir_all(&out_dir);
    let out = out_dir.join(format!("{name}.wasm"));
    let fresh = if name.starts_with("gojs_") {
        build_go(&root, name, &out)
    } else {
        build_rust(&root, name, &out)
    };
    let installed = root
        .join("godot_project/tests/mods")
        .join(format!("{name}.wasm"));
    let bytes = if fresh {
        std::fs::read(&out).ok()
    } else {
        std::fs::read(&installed).ok()
    };
    if bytes.is_none() {
        eprintln!(
            "skipping: the test mod `{name}` is not built and its toolchain is missing; run `cargo xtask mods`"
        );
    }
    built.insert(name.to_string(), bytes.clone());
    bytes
}
