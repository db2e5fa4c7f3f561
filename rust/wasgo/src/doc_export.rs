//! WasGo's class reference for `godot --doctool <dir> --gdextension-docs`.
//!
//! Godot's doctool builds extension class XML from ClassDB (names and signatures, no text) and
//! merges in the descriptions of the XML files already in `<dir>/doc_classes/`. The text of
//! WasGo's classes lives in its Rust doc comments, which gdext compiles into the library and
//! hands to the editor's help (F1) — but not to the doctool. So when the extension starts under
//! those two flags it writes its own class XML into `<dir>/doc_classes/` first (only the classes
//! it registers and shows; other files are left alone), and the doctool's merge keeps every
//! description. Without those flags this module does nothing.

use godot::obj::Singleton;
use std::path::{Path, PathBuf};

/// Classes registered but kept out of the class list (`#[class(internal)]`): the doctool skips
/// them, so their XML is not written.
const INTERNAL_CLASSES: &[&str] = &["WasgoBench", "WasgoErrorWatch", "WasmModuleLoader"];

/// The directory the doctool writes to, if `args` (Godot's command line) asks for extension
/// docs: the argument after `--doctool` (or the working directory when none follows), joined
/// with `doc_classes`. Godot reads a relative path against its working directory, which is the
/// project folder by then; so does this.
pub fn doctool_dir(args: &[String], cwd: &Path) -> Option<PathBuf> {
    if !args.iter().any(|a| a == "--gdextension-docs") {
        return None;
    }
    let at = args.iter().position(|a| a == "--doctool")?;
    let dir = match args.get(at + 1) {
        Some(next) if !next.starts_with('-') => cwd.join(next),
        _ => cwd.to_path_buf(),
    };
    Some(dir.join("doc_classes"))
}

/// The class name in one of gdext's class XML documents (`<class name="X" ...>`).
fn class_name(xml: &str) -> Option<&str> {
    let rest = &xml[xml.find("<class name=\"")? + "<class name=\"".len()..];
    Some(&rest[..rest.find('"')?])
}

/// Writes `docs` (class XML documents) into `dir` as `<Class>.xml`, skipping internal classes;
/// returns how many were written.
pub fn write_class_docs(dir: &Path, docs: impl Iterator<Item = String>) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut written = 0;
    for xml in docs {
        let Some(name) = class_name(&xml) else {
            continue;
        };
        if INTERNAL_CLASSES.contains(&name) || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        std::fs::write(dir.join(format!("{name}.xml")), xml.as_bytes())?;
        written += 1;
    }
    Ok(written)
}

/// Called when the editor stage starts: writes the class XML if the doctool asked for
/// extension docs; reports a failure without stopping anything.
pub fn export_if_doctool() {
    let args: Vec<String> = godot::classes::Os::singleton()
        .get_cmdline_args()
        .as_slice()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    let Some(dir) = doctool_dir(&args, &cwd) else {
        return;
    };
    if let Err(e) = write_class_docs(&dir, godot::docs::__gather_xml_docs()) {
        godot::global::godot_error!(
            "WasGo: cannot write its class reference into `{}` for the doctool: {e}; check that the folder is writable",
            dir.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_doctool_folder_follows_godots_rules() {
        let cwd = Path::new("/project");
        assert_eq!(
            doctool_dir(&args(&["--doctool", "docs", "--gdextension-docs"]), cwd),
            Some(PathBuf::from("/project/docs/doc_classes"))
        );
        assert_eq!(
            doctool_dir(&args(&["--doctool", "/abs", "--gdextension-docs"]), cwd),
            Some(PathBuf::from("/abs/doc_classes"))
        );
        assert_eq!(
            doctool_dir(&args(&["--gdextension-docs", "--doctool"]), cwd),
            Some(PathBuf::from("/project/doc_classes"))
        );
        assert_eq!(
            doctool_dir(&args(&["--doctool", "--gdextension-docs"]), cwd),
            Some(PathBuf::from("/project/doc_classes"))
        );
    }

    #[test]
    fn nothing_is_written_without_both_flags() {
        let cwd = Path::new("/project");
        assert_eq!(doctool_dir(&args(&["--doctool", "docs"]), cwd), None);
        assert_eq!(doctool_dir(&args(&["--gdextension-docs"]), cwd), None);
        assert_eq!(doctool_dir(&args(&["--headless"]), cwd), None);
    }

    #[test]
    fn class_files_are_named_after_their_class_and_internal_ones_skipped() {
        let dir = std::env::temp_dir().join(format!("wasgo-doc-export-{}", std::process::id()));
        let docs = vec![
            r#"<?xml version="1.0"?><class name="WasmScript" inherits="Node"></class>"#.to_string(),
            r#"<class name="WasgoBench" inherits="Object"></class>"#.to_string(),
            r#"<class name="../evil" inherits="Object"></class>"#.to_string(),
            "not xml".to_string(),
        ];
        let written = write_class_docs(&dir, docs.into_iter()).unwrap();
        assert_eq!(written, 1);
        assert!(dir.join("WasmScript.xml").is_file());
        assert!(!dir.join("WasgoBench.xml").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
