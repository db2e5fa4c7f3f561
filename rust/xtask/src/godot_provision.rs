//! The Godot that `tests/provision_godot.sh` unpacks into `target/godot/` (Debian sid's package
//! with its own loader and libraries), and how to tell whether that cached copy can be used as is.
//!
//! The script patches the binary's ELF interpreter and RPATH to absolute paths inside
//! `target/godot/root/`, so it starts directly like an installed Godot (the editor's Play and
//! `OS.execute(OS.get_executable_path())` relaunch it). A cache is stale when it holds the loader
//! wrapper script of earlier versions, or when its folder moved (the interpreter points
//! elsewhere): then the script runs again and re-patches without downloading.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{command, Repo, Result};

/// Where the provisioned Godot lives, relative to the repository root.
pub const DIR: &str = "target/godot";

/// `target/godot/godot`: a symlink to the patched binary.
pub fn cached_binary(repo: &Repo) -> PathBuf {
    repo.root.join(DIR).join("godot")
}

/// Whether `dir/godot` is an ELF binary whose interpreter lies inside `dir/root/` (what the
/// current script makes); `false` for the old wrapper script, a moved copy or nothing at all.
pub fn is_current(dir: &Path) -> bool {
    let Ok(root) = dir.join("root").canonicalize() else {
        return false;
    };
    match elf_interpreter(&dir.join("godot")) {
        Ok(Some(interpreter)) => Path::new(&interpreter)
            .canonicalize()
            .is_ok_and(|path| path.starts_with(&root)),
        _ => false,
    }
}

/// Runs `tests/provision_godot.sh target/godot` (downloads only when nothing is unpacked yet).
pub fn provision(repo: &Repo) -> Result<()> {
    command::run(
        Command::new("bash")
            .current_dir(&repo.root)
            .args(["tests/provision_godot.sh", DIR]),
        "install Godot 4.5+ yourself and set GODOT=/path/to/godot (the provisioning script needs a Debian-family machine with apt)",
    )
}

/// The program interpreter (`PT_INTERP`) of a 64-bit little-endian ELF file; `None` for another
/// kind of file (a script) or an ELF without one.
fn elf_interpreter(path: &Path) -> io::Result<Option<String>> {
    const PT_INTERP: u32 = 3;
    let mut file = File::open(path)?;
    let mut header = [0u8; 64];
    if file.read_exact(&mut header).is_err() || &header[..6] != b"\x7fELF\x02\x01" {
        return Ok(None);
    }
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let (phoff, phentsize, phnum) = (
        u64_at(&header, 0x20),
        u16_at(&header, 0x36) as usize,
        u16_at(&header, 0x38) as usize,
    );
    if phentsize < 56 {
        return Ok(None);
    }
    let mut table = vec![0u8; phentsize * phnum];
    file.seek(SeekFrom::Start(phoff))?;
    file.read_exact(&mut table)?;
    for entry in table.chunks_exact(phentsize) {
        if u32_at(entry, 0) != PT_INTERP {
            continue;
        }
        let (offset, size) = (u64_at(entry, 8), u64_at(entry, 32));
        let mut text = vec![0u8; size.min(4096) as usize];
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(&mut text)?;
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        return Ok(Some(String::from_utf8_lossy(&text[..end]).into_owned()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A minimal ELF64 file: a header, one program header, and the interpreter string.
    fn elf_with_interpreter(interpreter: &str) -> Vec<u8> {
        let mut bytes = vec![0u8; 64 + 56];
        bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
        bytes[0x20..0x28].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        bytes[0x36..0x38].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        bytes[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        let text = format!("{interpreter}\0");
        bytes[64..68].copy_from_slice(&3u32.to_le_bytes()); // PT_INTERP
        bytes[64 + 8..64 + 16].copy_from_slice(&120u64.to_le_bytes()); // p_offset
        bytes[64 + 32..64 + 40].copy_from_slice(&(text.len() as u64).to_le_bytes()); // p_filesz
        bytes.extend_from_slice(text.as_bytes());
        bytes
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("root/lib")).unwrap();
        fs::write(dir.join("root/lib/ld.so"), b"").unwrap();
        dir
    }

    #[test]
    fn reads_the_interpreter_of_an_elf_file() {
        let dir = scratch("elf-interp");
        let path = dir.join("bin");
        fs::write(&path, elf_with_interpreter("/opt/x/ld-linux-x86-64.so.2")).unwrap();
        assert_eq!(
            elf_interpreter(&path).unwrap().as_deref(),
            Some("/opt/x/ld-linux-x86-64.so.2")
        );
        fs::write(&path, b"#!/bin/sh\nexec ld.so godot \"$@\"\n").unwrap();
        assert_eq!(elf_interpreter(&path).unwrap(), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn reads_the_interpreter_of_a_real_executable() {
        let exe = std::env::current_exe().unwrap();
        let interpreter = elf_interpreter(&exe).unwrap().expect("an interpreter");
        assert!(interpreter.ends_with(".so.2"), "{interpreter}");
    }

    #[test]
    fn a_binary_patched_for_its_own_folder_is_current_and_the_old_wrapper_is_not() {
        let dir = scratch("provision-current");
        let loader = dir.join("root/lib/ld.so");
        fs::write(
            dir.join("godot"),
            elf_with_interpreter(&loader.to_string_lossy()),
        )
        .unwrap();
        assert!(is_current(&dir));
        fs::write(
            dir.join("godot"),
            elf_with_interpreter("/elsewhere/root/lib/ld.so"),
        )
        .unwrap();
        assert!(
            !is_current(&dir),
            "a copy whose folder moved must be patched again"
        );
        fs::write(dir.join("godot"), b"#!/bin/sh\nexec \"$0\"\n").unwrap();
        assert!(!is_current(&dir), "the old loader wrapper must be replaced");
        fs::remove_dir_all(&dir).unwrap();
    }
}
