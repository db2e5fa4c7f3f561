//! The mod toolchains of the example languages, installed on demand on a fresh machine.
//!
//! Each one is looked for first and installed only when missing, reaching only the machine's own
//! package registries (never a host name written here):
//!
//! | toolchain | from | where |
//! |---|---|---|
//! | clang, wasm-ld, wasi-libc, compiler-rt for wasm32, wasm-opt | Debian packages (`apt-get install`, needs root) | the system |
//! | Zig | the PyPI package `ziglang` (`pip install --target`) | `target/toolchains/zig/` |
//! | AssemblyScript | the npm package `assemblyscript` (`npm install --prefix`) | `target/toolchains/assemblyscript/` |
//! | Go 1.24 | Debian 13 "trixie" `golang-1.24-go` + `-src`, fetched with a private apt list and unpacked with `dpkg -x` (the way `tests/provision_godot.sh` does Godot) | `target/toolchains/go/` |
//!
//! Versions are pinned so every machine builds the same mods.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command;
use crate::command::find_on_path;
use crate::{Failure, Repo, Result};

/// The Zig release (PyPI `ziglang`) the Zig example is written for.
pub const ZIG_VERSION: &str = "0.15.2";
/// The AssemblyScript release (npm `assemblyscript`) the AssemblyScript example is written for.
pub const ASSEMBLYSCRIPT_VERSION: &str = "0.28.20";
/// The Debian package of Go (1.24 is the first with `//go:wasmexport`).
const GO_PACKAGE: &str = "golang-1.24";
/// The Debian suite that packages it.
const GO_SUITE: &str = "trixie";
/// Debian 12 packages for C and for shrinking wasm files.
const APT_PACKAGES: &[&str] = &[
    "clang",
    "lld",
    "wasi-libc",
    "libclang-rt-14-dev-wasm32",
    "binaryen",
];

/// Installs every toolchain the example mods need (what `cargo xtask toolchains` does).
pub fn ensure_all(repo: &Repo) -> Result<()> {
    crate::cargo_steps::ensure_wasm_target()?;
    ensure_apt_packages()?;
    for (name, mut cmd) in [("zig", zig(repo)?), ("asc", asc(repo)?), ("go", go(repo)?)] {
        let flag = if name == "go" || name == "zig" {
            "version"
        } else {
            "--version"
        };
        command::run(
            cmd.arg(flag),
            "the toolchain was installed but does not run",
        )?;
    }
    Ok(())
}

/// Where the private toolchains live.
pub fn toolchains_dir(repo: &Repo) -> PathBuf {
    repo.root.join("target/toolchains")
}

/// Installs the Debian packages the C example and `wasm-opt` need, unless already installed
/// (see [`ensure_debian_packages`]).
pub fn ensure_apt_packages() -> Result<()> {
    ensure_debian_packages(
        APT_PACKAGES,
        "building the C example and test mods and running `wasm-opt`",
    )
}

/// Installs the Debian `packages` that are not installed yet (for `why`, said in the messages):
/// with `apt-get` as root, else through `sudo -n` when this user may use it without a password,
/// else fails naming the packages and the command to run.
pub fn ensure_debian_packages(packages: &[&str], why: &str) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    let fix = format!(
        "install them yourself (`sudo apt-get install {list}`), then run the command again"
    );
    if find_on_path("apt-get").is_none() {
        return Err(Failure::new(
            format!("{why} needs the Debian packages {list}, and this machine has no `apt-get`"),
            format!("install the equivalent packages of your system ({list})"),
        ));
    }
    if is_root() {
        return apt_install(&missing, &fix);
    }
    let sudo_works = Command::new("sudo")
        .args(["-n", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !sudo_works {
        return Err(Failure::new(
            format!("{why} needs the Debian packages {list}, and this user is not root and cannot use `sudo` without a password"),
            fix,
        ));
    }
    println!("xtask: installing {list} with sudo apt-get ({why})");
    command::run(
        Command::new("sudo").args(["-n", "apt-get", "update", "-q"]),
        &fix,
    )?;
    command::run(
        Command::new("sudo")
            .args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"])
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(&missing),
        &fix,
    )
}

/// `apt-get update` and `apt-get install` of `packages` (the caller checked that we are root).
/// `xvfb-run` for the tests that need a display: found on `PATH`, else installed with apt-get
/// (Debian packages `xvfb` and `xauth`) when running as root. `None` when it cannot be had.
pub fn ensure_xvfb_run() -> Option<PathBuf> {
    if let Some(found) = crate::command::find_on_path("xvfb-run") {
        return Some(found);
    }
    if !is_root() || crate::command::find_on_path("apt-get").is_none() {
        return None;
    }
    if let Err(e) = apt_install(
        &["xvfb", "xauth"],
        "install the Debian packages `xvfb` and `xauth` (for the display tests)",
    ) {
        println!("xtask: could not install xvfb-run: {e:#}");
        return None;
    }
    crate::command::find_on_path("xvfb-run")
}

fn apt_install(packages: &[&str], fix: &str) -> Result<()> {
    println!("xtask: installing {} with apt-get", packages.join(" "));
    // A machine that just booted may have apt's daily job holding the lock: wait for it.
    let lock_wait = "-oDPkg::Lock::Timeout=300";
    command::run(
        Command::new("apt-get").args(["update", "-q", lock_wait]),
        fix,
    )?;
    command::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "--no-install-recommends", lock_wait])
            .args(packages),
        fix,
    )
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stdout).contains("install ok installed")
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `wasm-opt` if it is installed (it is optional: mods are only smaller with it).
pub fn wasm_opt() -> Option<PathBuf> {
    find_on_path("wasm-opt")
}

/// A command that runs Zig: `python3 -m ziglang` with the private `ziglang` package on the path.
pub fn zig(repo: &Repo) -> Result<Command> {
    let dir = toolchains_dir(repo).join(format!("zig-{ZIG_VERSION}"));
    if !dir.join("ziglang").is_dir() {
        let python = python()?;
        ensure_pip(&python)?;
        command::run(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target"])
                .arg(&dir)
                .arg(format!("ziglang=={ZIG_VERSION}")),
            "install Python 3 with pip (`apt-get install python3-pip`), or check the connection to the package index",
        )?;
    }
    let mut cmd = Command::new(python()?);
    cmd.env("PYTHONPATH", &dir).args(["-m", "ziglang"]);
    Ok(cmd)
}

/// Debian's own Python comes without pip: install `python3-pip` when root, else say so.
fn ensure_pip(python: &Path) -> Result<()> {
    let has_pip = || {
        Command::new(python)
            .args(["-m", "pip", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_pip() {
        return Ok(());
    }
    let fix = "install pip for this Python: `apt-get install python3-pip`";
    if !is_root() {
        return Err(Failure::new(
            format!(
                "`{} -m pip` does not run (the Zig toolchain comes from PyPI)",
                python.display()
            ),
            fix,
        ));
    }
    apt_install(&["python3-pip"], fix)
}

fn python() -> Result<PathBuf> {
    find_on_path("python3")
        .or_else(|| find_on_path("python"))
        .ok_or_else(|| {
            Failure::new(
                "Python 3 is not on PATH (the Zig toolchain comes from PyPI)",
                "install it: `apt-get install python3 python3-pip`",
            )
        })
}

/// A command that runs the AssemblyScript compiler `asc` (installed with npm if missing).
pub fn asc(repo: &Repo) -> Result<Command> {
    let dir = toolchains_dir(repo).join(format!("assemblyscript-{ASSEMBLYSCRIPT_VERSION}"));
    let entry = dir.join("node_modules/assemblyscript/bin/asc.js");
    if !entry.is_file() {
        let npm = find_on_path("npm").ok_or_else(|| {
            Failure::new(
                "npm is not on PATH (the AssemblyScript compiler comes from npm)",
                "install Node.js 20 or newer with npm (AssemblyScript 0.28 needs 20; Debian 12's own `nodejs` is 18, Debian 13's or NodeSource's will do)",
            )
        })?;
        fs::create_dir_all(&dir)
            .map_err(|e| Failure::new(format!("cannot create `{}`: {e}", dir.display()), ""))?;
        command::run(
            Command::new(npm)
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    "--prefix",
                ])
                .arg(&dir)
                .arg(format!("assemblyscript@{ASSEMBLYSCRIPT_VERSION}")),
            "check that npm can reach its registry",
        )?;
    }
    let node = find_on_path("node")
        .ok_or_else(|| Failure::new("node is not on PATH", "install Node.js 20 or newer"))?;
    let mut cmd = Command::new(node);
    cmd.arg(entry);
    Ok(cmd)
}

/// A command that runs Go 1.24+: `$GO`, else `go` on PATH when it is 1.24 or newer, else the
/// private copy under `target/toolchains/go/` (fetched from Debian trixie if missing).
/// `go build -trimpath` for `GOOS=goos GOARCH=wasm` in `dir`, offline (never a downloaded
/// toolchain or module: SDKs are local `replace`s) with its caches in `target/toolchains/go`; the
/// caller adds its flags, `-o` and the package.
pub fn go_build(repo: &Repo, dir: &Path, goos: &str) -> Result<Command> {
    let go_home = toolchains_dir(repo).join("go");
    let mut cmd = go(repo)?;
    cmd.current_dir(dir)
        .env("GOOS", goos)
        .env("GOARCH", "wasm")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", go_home.join("cache"))
        .env("GOPATH", go_home.join("path"))
        .args(["build", "-trimpath"]);
    Ok(cmd)
}

pub fn go(repo: &Repo) -> Result<Command> {
    if let Some(go) = std::env::var_os("GO").filter(|g| !g.is_empty()) {
        return Ok(Command::new(go));
    }
    if let Some(go) = find_on_path("go").filter(|g| go_is_recent(g)) {
        return Ok(Command::new(go));
    }
    let root = toolchains_dir(repo).join("go");
    let bin = root.join(format!(
        "root/usr/lib/go-{}/bin/go",
        GO_PACKAGE.trim_start_matches("golang-")
    ));
    // The marker is written after both packages are unpacked: a run stopped half-way (the
    // binary there, the standard library not) provisions again instead of failing every build.
    if !root.join(GO_COMPLETE).is_file() || !bin.is_file() || !go_is_recent(&bin) {
        provision_go(&root)?;
    }
    Ok(Command::new(bin))
}

fn go_is_recent(go: &Path) -> bool {
    let Ok(out) = Command::new(go).arg("version").output() else {
        return false;
    };
    out.status.success()
        && go_version(&String::from_utf8_lossy(&out.stdout)).is_some_and(|v| v >= (1, 24))
}

/// `go version go1.24.4 linux/amd64` → `(1, 24)`.
fn go_version(text: &str) -> Option<(u32, u32)> {
    let version = text.split_whitespace().nth(2)?.strip_prefix("go")?;
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    // `go1.25rc1`: the minor number ends where the digits do.
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// Fetches Go from Debian trixie through the machine's own apt mirror and unpacks it into `dest/root`.
/// The file `provision_go` writes once the whole Go toolchain is unpacked.
const GO_COMPLETE: &str = "complete";

fn provision_go(dest: &Path) -> Result<()> {
    let fix = "install Go 1.24 or newer yourself and put it on PATH (or set GO=/path/to/go)";
    // Whatever an earlier, interrupted run left goes first.
    let _ = fs::remove_file(dest.join(GO_COMPLETE));
    let _ = fs::remove_dir_all(dest.join("root"));
    let uri = apt_mirror()
        .ok_or_else(|| Failure::new("no apt source found on this machine to fetch Go from", fix))?;
    let work = dest.join("apt");
    let archives = work.join("cache/archives");
    for dir in [
        work.join("lists/partial"),
        archives.join("partial"),
        dest.join("root"),
    ] {
        fs::create_dir_all(&dir)
            .map_err(|e| Failure::new(format!("cannot create `{}`: {e}", dir.display()), fix))?;
    }
    let write = |path: PathBuf, text: String| {
        fs::write(&path, text)
            .map_err(|e| Failure::new(format!("cannot write `{}`: {e}", path.display()), fix))
    };
    write(work.join("status"), String::new())?;
    let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    let signed = if Path::new(keyring).is_file() {
        format!("[signed-by={keyring}] ")
    } else {
        String::new()
    };
    write(
        work.join("sources.list"),
        format!("deb {signed}{uri} {GO_SUITE} main\n"),
    )?;
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.current_dir(&archives)
            .arg(format!(
                "-oDir::Etc::sourcelist={}",
                work.join("sources.list").display()
            ))
            .arg("-oDir::Etc::sourceparts=-")
            .arg(format!(
                "-oDir::State::Lists={}",
                work.join("lists").display()
            ))
            .arg(format!(
                "-oDir::State::status={}",
                work.join("status").display()
            ))
            .arg(format!("-oDir::Cache={}", work.join("cache").display()))
            .args(["-oDebug::NoLocking=1", "-oAPT::Sandbox::User=root", "-q"])
            .args(args);
        cmd
    };
    println!(
        "xtask: fetching {GO_PACKAGE} from Debian {GO_SUITE} into {}",
        dest.display()
    );
    command::run(&mut apt(&["update"]), fix)?;
    let (go_pkg, src_pkg) = (format!("{GO_PACKAGE}-go"), format!("{GO_PACKAGE}-src"));
    command::run(&mut apt(&["download", &go_pkg, &src_pkg]), fix)?;
    let debs: Vec<PathBuf> = fs::read_dir(&archives)
        .map_err(|e| Failure::new(format!("cannot list `{}`: {e}", archives.display()), fix))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    for deb in &debs {
        command::run(
            Command::new("dpkg")
                .arg("-x")
                .arg(deb)
                .arg(dest.join("root")),
            fix,
        )?;
        let _ = fs::remove_file(deb);
    }
    let _ = fs::remove_dir_all(work.join("lists"));
    write(dest.join(GO_COMPLETE), format!("{GO_PACKAGE}\n"))
}

/// The machine's apt mirror: the first `URIs:` of a deb822 source, else the first `deb` line's URI
/// (what `tests/provision_godot.sh` does for Godot).
fn apt_mirror() -> Option<String> {
    let mut sources: Vec<PathBuf> = fs::read_dir("/etc/apt/sources.list.d")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sources"))
        .collect();
    sources.sort();
    sources
        .iter()
        .find_map(|file| mirror_in_deb822(&fs::read_to_string(file).unwrap_or_default()))
        .or_else(|| {
            mirror_in_sources_list(&fs::read_to_string("/etc/apt/sources.list").unwrap_or_default())
        })
}

/// The first URI of a deb822 `.sources` file.
fn mirror_in_deb822(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("URIs:"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

/// The URI of the first `deb` line of a `sources.list` (skipping options like `[signed-by=...]`).
fn mirror_in_sources_list(text: &str) -> Option<String> {
    text.lines()
        .filter(|l| l.split_whitespace().next() == Some("deb"))
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.contains("://"))
                .map(str::to_string)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_versions_are_read_from_go_version_output() {
        assert_eq!(go_version("go version go1.24.4 linux/amd64"), Some((1, 24)));
        assert_eq!(
            go_version("go version go1.25rc1 linux/amd64"),
            Some((1, 25))
        );
        assert_eq!(go_version("go version devel"), None);
        assert!(!go_is_recent(Path::new("/nonexistent/go")));
    }

    #[test]
    fn the_mirror_comes_from_either_apt_source_format() {
        let deb822 =
            "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n";
        assert_eq!(
            mirror_in_deb822(deb822).as_deref(),
            Some("http://mirror.example/debian")
        );
        let list = "# comment\ndeb-src http://src.example/debian bookworm main\ndeb [signed-by=/k.gpg] http://mirror.example/debian bookworm main\n";
        assert_eq!(
            mirror_in_sources_list(list).as_deref(),
            Some("http://mirror.example/debian")
        );
        assert_eq!(mirror_in_sources_list(""), None);
    }
}
