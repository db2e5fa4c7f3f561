//! No SDK types an ABI number by hand: a test scans `mods/sdk/**` (the generated files aside)
//! for an error code compared or defined by hand (`== -4`, `-7 =>`, `= -6,`, `case -1:`) and for
//! a Variant tag table (three or more `NAME = <tag>` lines naming Variant types), and checks that
//! every export the Rust SDK declares is one the host calls.

use super::*;
use std::path::Path;

/// Files under `mods/sdk` the scan reads: hand-written sources, not the generated ones.
fn hand_written_sdk_files(root: &Path) -> Vec<(String, String)> {
    let generated: Vec<&str> = generate(&[]).iter().map(|f| f.path).collect();
    let mut out = Vec::new();
    let mut dirs = vec![root.join("mods/sdk")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("node_modules") && !path.ends_with("target") {
                    dirs.push(path);
                }
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let source = ["rs", "h", "c", "zig", "ts", "go"]
                .iter()
                .any(|ext| rel.ends_with(&format!(".{ext}")));
            if source && !generated.contains(&rel.as_str()) {
                out.push((rel, fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out
}

/// Lines of `text` that use one of the ABI's error codes as a literal result.
pub(super) fn error_code_literals(text: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for e in ErrorCode::ALL {
            let n = e.code();
            let patterns = [
                format!("== {n}"),
                format!("!= {n}"),
                format!("{n} =>"),
                format!("= {n},"),
                format!("= {n};"),
                format!("case {n}:"),
            ];
            let defined = code.trim_end().ends_with(&format!("= {n}"));
            if defined || patterns.iter().any(|p| code.contains(p.as_str())) {
                hits.push(line.trim().to_string());
                break;
            }
        }
    }
    hits
}

/// Lines of `text` that assign a Variant type's tag by hand, when there are three or more (a
/// table, not a stray number).
pub(super) fn variant_tag_table(text: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for line in text.lines() {
        for t in VARIANT_TYPES {
            let wanted = [
                format!("{} = {},", t.name, t.tag),
                format!("{} = {};", t.name, t.tag),
                format!("{}: u32 = {}", t.name, t.tag),
                format!("{} uint32 = {}", camel(t.name), t.tag),
            ];
            if wanted.iter().any(|w| line.contains(w.as_str())) {
                hits.push(line.trim().to_string());
                break;
            }
        }
    }
    if hits.len() >= 3 {
        hits
    } else {
        Vec::new()
    }
}

/// The export names `text` declares with Rust's `#[export_name = "..."]` or `#[no_mangle]` on an
/// `extern "C" fn`, which the host calls by name.
pub(super) fn declared_exports(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut no_mangle = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#[export_name = \"") {
            names.extend(rest.split('"').next().map(String::from));
        }
        if line.starts_with("#[no_mangle]") || line.starts_with("#[unsafe(no_mangle)]") {
            no_mangle = true;
            continue;
        }
        if no_mangle {
            if let Some(rest) = line.split("extern \"C\" fn ").nth(1) {
                names.extend(rest.split('(').next().map(String::from));
            }
            no_mangle = false;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sdk_types_an_error_code_or_a_variant_tag_table_by_hand() {
        let root = Repo::locate().root;
        let files = hand_written_sdk_files(&root);
        assert!(
            files.iter().any(|(p, _)| p.ends_with("wasgo.h")),
            "scan found no SDK"
        );
        let mut found = Vec::new();
        for (path, text) in &files {
            for line in error_code_literals(text) {
                found.push(format!("{path}: error code by hand: {line}"));
            }
            for line in variant_tag_table(text) {
                found.push(format!("{path}: Variant tag by hand: {line}"));
            }
        }
        assert!(
            found.is_empty(),
            "use the generated constants:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn every_export_the_rust_sdk_declares_is_one_the_host_calls() {
        let root = Repo::locate().root;
        let mut declared = Vec::new();
        for (path, text) in hand_written_sdk_files(&root) {
            if path.ends_with(".rs") {
                declared.extend(declared_exports(&text));
            }
        }
        assert!(
            declared.contains(&"native_callback".to_string()),
            "{declared:?}"
        );
        for name in &declared {
            assert!(
                GUEST_EXPORTS.iter().any(|e| e.name == name),
                "the Rust SDK exports `{name}`, which the host never calls (not in GUEST_EXPORTS)"
            );
        }
    }

    #[test]
    fn the_scan_finds_hand_typed_codes_and_tables() {
        assert_eq!(error_code_literals("if (r == -4) return;").len(), 1);
        assert_eq!(
            error_code_literals("            -7 => Error::Busy,").len(),
            1
        );
        assert_eq!(error_code_literals("    ErrBusy Error = -7\n").len(), 1);
        assert!(error_code_literals("if (r == WASGO_BUSY) return;").is_empty());
        assert_eq!(error_code_literals("pub const busy: i32 = -7;").len(), 1);
        assert!(error_code_literals("let x = a - 1; // -4 => nothing").is_empty());
        let table = "WASGO_NIL = 0, WASGO_BOOL = 1,\nWASGO_INT = 2,\nWASGO_FLOAT = 3,\n";
        assert_eq!(variant_tag_table(table).len(), 3);
        assert!(variant_tag_table("WASGO_INT = 2,\n").is_empty());
    }
}
