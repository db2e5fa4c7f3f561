//! What is wrong with a module before it runs: the findings behind a `WasmScript`'s configuration
//! warnings in the editor, and the clear "not a WebAssembly module" compile error.
//!
//! Everything here reads a module the way the linker will treat it, without instantiating it:
//!
//! - [`not_wasm`]: bytes that are neither a binary module (`\0asm` header) nor WAT text. A text
//!   file renamed `.wasm` would otherwise reach the WAT parser and come back as a confusing WAT
//!   syntax error; the compile path reports this reason instead.
//! - [`diagnose`]: for a compiled module at a safety level, every function import the level
//!   leaves an error stub (it links, but calling it traps), every import of `wasgo` or WASI that
//!   exists at no level (a typo, or a function of another host), every import of a kind WasGo
//!   never provides (memories, tables, globals: instantiation fails), and every function export
//!   whose name is one or two letters away from an export WasGo calls (`proces` for `process`),
//!   which WasGo would silently never call.
//!
//! Imports from other modules are the game's own functions (`WasmEngine.register_function`),
//! which a game often registers only at run time; they are left to the link warning at
//! instantiation.

use crate::abi::ImportKind;
use crate::catalog::WASGO_MODULE;
use crate::guest_kind::GuestKind;
use crate::hosts::Hosts;
use crate::level::SafetyLevel;
use crate::module::CompiledModule;
use std::fmt;
use wasgo_catalog::{export, GUEST_EXPORTS};

/// The first four bytes of every binary WebAssembly module.
pub const WASM_MAGIC: &[u8; 4] = b"\0asm";

/// Why `bytes` cannot be a module, when that shows without compiling: not a binary module (no
/// `\0asm` header) and not WAT text either (whose first token is `(` after blanks and comments).
/// Native code (a WasGo artifact, a bare wasmtime `.cwasm`) is named as such: it must never run
/// as a mod.
/// `None` when the bytes may be a module (compiling tells the rest).
pub fn not_wasm(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(WASM_MAGIC) || looks_like_wat(bytes) {
        return None;
    }
    if bytes.is_empty() {
        return Some("not a WebAssembly module (the file is empty)".into());
    }
    if let Some(precompiled) = crate::precompiled::describe_precompiled(bytes) {
        return Some(precompiled.into());
    }
    Some(
        "not a WebAssembly module (no `\\0asm` header); point it at a compiled `.wasm` file".into(),
    )
}

/// Whether `bytes` start like WAT text: `(` after whitespace and `;;` line comments.
fn looks_like_wat(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        match rest.first() {
            Some(b' ' | b'\t' | b'\r' | b'\n') => rest = &rest[1..],
            Some(b';') if rest.get(1) == Some(&b';') => {
                let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                rest = &rest[end..];
            }
            Some(b'(') => return true,
            _ => return false,
        }
    }
}

/// One mistake [`diagnose`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A function import exposed only from `needs`, above the `level` the module runs at.
    AboveLevel {
        import: String,
        needs: SafetyLevel,
        level: SafetyLevel,
    },
    /// A `wasgo` or WASI function import that no level provides.
    UnknownImport { import: String },
    /// A function import of a module WasGo reserves that no level provides for another reason
    /// than its name (the signature differs from the catalog's, the WASI is the old
    /// `wasi_unstable`): `why` says which.
    StubbedImport { import: String, why: String },
    /// An import of a kind WasGo never provides (`memory`, `table`, `global`, `tag`).
    UnsupportedImport { import: String, kind: ImportKind },
    /// A function export one or two edits away from an export WasGo calls.
    MisspelledExport { found: String, meant: &'static str },
    /// An export WasGo calls, with another signature than WasGo calls it with.
    ExportSignature {
        name: &'static str,
        found: String,
        expected: String,
    },
    /// An import whose results come back through an export the module does not have (`connect`
    /// delivers to `native_callback`, `http_request` answers through `http_response`).
    MissingCompanion {
        import: &'static str,
        export: &'static str,
    },
}

/// The imports that deliver through an export of the mod, and that export.
const COMPANIONS: [(&str, &str); 2] = [
    ("connect", "native_callback"),
    ("http_request", "http_response"),
];

/// The most of a module's name a finding shows.
const SHOWN_NAME_BYTES: usize = 200;

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names come from the module: shown with hidden characters escaped (a newline would
        // add a line of its own to the editor's warnings, a bidi override reorder the text).
        let shown = |name: &str| crate::text::shown(name, SHOWN_NAME_BYTES);
        match self {
            Finding::AboveLevel {
                import,
                needs,
                level,
            } => write!(
                f,
                "imports `{}`, which needs safety level {} ({}) but runs at level {} ({}): \
                 calling it traps; raise `safety_level` (and the project setting \
                 `wasgo/safety/level`) or remove the call",
                shown(import),
                needs.number(),
                needs.title(),
                level.number(),
                level.title()
            ),
            Finding::UnknownImport { import } => write!(
                f,
                "imports `{}`, which WasGo provides at no safety level (a typo, or a \
                 function of another host?): calling it traps; see docs/abi.md for the names",
                shown(import)
            ),
            Finding::StubbedImport { import, why } => write!(
                f,
                "imports `{}`, which links to a stub that traps when called: {}",
                shown(import),
                shown(why)
            ),
            Finding::UnsupportedImport { import, kind } => write!(
                f,
                "imports the {} `{}`, which WasGo never provides: the module cannot be \
                 instantiated; build it to define its own {}",
                kind.as_str(),
                shown(import),
                kind.as_str()
            ),
            Finding::MisspelledExport { found, meant } => write!(
                f,
                "exports `{}`, which WasGo never calls; did you mean `{meant}`?",
                shown(found)
            ),
            Finding::MissingCompanion { import, export } => write!(
                f,
                "imports `wasgo.{import}` but exports no `{export}`: what `{import}` sets up is \
                 delivered to `{export}`, so it is never delivered; export `{export}`"
            ),
            Finding::ExportSignature {
                name,
                found,
                expected,
            } => {
                let what = if *name == export::MAIN {
                    "so it is never run (the mod lives on its callbacks and `finished` never fires)"
                } else {
                    "so WasGo cannot call it (each call fails, and the node's `last_error` says why)"
                };
                write!(
                    f,
                    "exports `{name}` as {found}, but WasGo calls it as {expected}, {what}; \
                     change its signature"
                )
            }
        }
    }
}

/// Every finding for `module` running at `level`, imports first, in the module's order.
pub fn diagnose(module: &CompiledModule, hosts: &Hosts, level: SafetyLevel) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Found by name (a module of 200,000 unknown imports was a linear search per import:
    // minutes of the editor's main thread at every refresh of its warnings).
    let problems = module.reserved_import_problems(hosts);
    let problems: std::collections::HashMap<&str, &crate::linking::ReservedImportProblem> =
        problems
            .iter()
            .map(|(name, p)| (name.as_str(), p))
            .collect();
    for import in module.imports(hosts) {
        let full = format!("{}.{}", import.module, import.name);
        if import.kind != ImportKind::Function {
            findings.push(Finding::UnsupportedImport {
                import: full,
                kind: import.kind,
            });
            continue;
        }
        match import.level {
            Some(needs) if needs > level => findings.push(Finding::AboveLevel {
                import: full,
                needs,
                level,
            }),
            Some(_) => {}
            None => {
                // Only modules WasGo reserves: an import of another is the game's, which it
                // may register later.
                match problems.get(full.as_str()) {
                    Some(p) if p.unknown_name => {
                        findings.push(Finding::UnknownImport { import: full })
                    }
                    Some(p) => findings.push(Finding::StubbedImport {
                        import: full,
                        why: p.why.clone(),
                    }),
                    None => {}
                }
            }
        }
    }
    for e in module.exports() {
        if e.kind != ImportKind::Function {
            continue;
        }
        if let Some(meant) = misspelled_export(&e.name) {
            if shaped_like(module, &e.name, meant) {
                findings.push(Finding::MisspelledExport {
                    found: e.name,
                    meant,
                });
            }
        }
    }
    if module.guest_kind() == GuestKind::Wasgo {
        findings.extend(export_signatures(module));
        for (import, export) in COMPANIONS {
            let imported = module
                .module
                .imports()
                .any(|i| i.module() == WASGO_MODULE && i.name() == import);
            if imported && module.module.get_export(export).is_none() {
                findings.push(Finding::MissingCompanion { import, export });
            }
        }
    }
    findings
}

/// The exports WasGo calls whose signature is not the one it calls them with (a WasGo mod's:
/// Go-js and waPC modules have their own exports, checked when they load).
fn export_signatures(module: &CompiledModule) -> Vec<Finding> {
    use wasgo_catalog::catalog::Signature;
    let mut found = Vec::new();
    for e in module.module.exports() {
        let Some(g) = GUEST_EXPORTS.iter().find(|g| g.name == e.name()) else {
            continue;
        };
        let Some(f) = e.ty().func().cloned() else {
            continue;
        };
        let sig = crate::abi::signature_of(&f);
        let fits = match g.params {
            // Results WasGo reads must match; an export whose results it ignores (`process`)
            // runs whatever it returns.
            Some(p) => sig
                .as_ref()
                .is_some_and(|s| s.params == p && (g.results.is_empty() || s.results == g.results)),
            // `main`'s accepted shapes are the ones `start()` runs (the module's entry point,
            // found as it is found to run it): with a `_start` beside it, or of one of those
            // shapes, there is nothing to say about it.
            None => module.main_kind().is_some(),
        };
        if fits {
            continue;
        }
        let expected = match g.params {
            Some(p) => format!(
                "`{}`",
                Signature {
                    params: p.to_vec(),
                    results: g.results.to_vec()
                }
            ),
            None => "`() -> i32` or `(i32, i32) -> i32`".to_string(),
        };
        found.push(Finding::ExportSignature {
            name: g.name,
            found: format!("`{}`", sig.map_or_else(|| f.to_string(), |s| s.to_string())),
            expected,
        });
    }
    found
}

/// Whether export `name` of `module`, a few letters from `meant`, looks meant as it: it differs
/// only in case or a leading underscore, or it takes what `meant` takes. Names alone flagged
/// ordinary exports for good (`read` as `ready`, `frees` as `free`, `confirm` as `config`).
fn shaped_like(module: &CompiledModule, name: &str, meant: &str) -> bool {
    let bare = |n: &str| n.trim_start_matches('_').to_ascii_lowercase();
    if bare(name) == bare(meant) {
        return true;
    }
    let Some(g) = GUEST_EXPORTS.iter().find(|g| g.name == meant) else {
        return false;
    };
    let Some(sig) = module
        .module
        .get_export(name)
        .and_then(|t| t.func().cloned())
        .and_then(|f| crate::abi::signature_of(&f))
    else {
        return false;
    };
    match g.params {
        Some(params) => sig.params == params,
        // `main`: the shapes `start()` runs.
        None => sig.params.is_empty() || sig.params.len() == 2,
    }
}

/// The export WasGo calls that `name` is probably a misspelling of: not itself such an export,
/// and at most one edit away (two for names of six letters or more), counting a swap of two
/// neighbouring letters and a change of case as one edit.
pub fn misspelled_export(name: &str) -> Option<&'static str> {
    let called = GUEST_EXPORTS.iter().map(|e| e.name).chain([export::MEMORY]);
    if called.clone().any(|c| c == name) {
        return None;
    }
    // Each export is measured once, and only when the lengths differ by no more than its limit
    // (each byte of difference is an edit): a module's 100 KB names are answered without the
    // quadratic distance (the editor asks again at every refresh of its warnings).
    let lower = name.to_ascii_lowercase();
    called
        .filter_map(|c| {
            let limit = if c.len() >= 6 { 2 } else { 1 };
            if c.len().abs_diff(name.len()) > limit {
                return None;
            }
            let distance = edit_distance(&lower, c);
            (distance <= limit).then_some((distance, c))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance (insertions, deletions, substitutions and swaps of
/// neighbouring bytes).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_renamed_to_wasm_is_not_a_module_but_wat_and_binaries_may_be() {
        let reason = not_wasm(b"hello, this is a text file\n").unwrap();
        assert!(reason.contains("no `\\0asm` header"), "{reason}");
        assert!(not_wasm(b"").unwrap().contains("empty"));
        assert_eq!(not_wasm(b"\0asm\x01\0\0\0"), None);
        assert_eq!(not_wasm(b"  ;; a comment\n  (module)"), None);
    }

    #[test]
    fn names_in_findings_cannot_add_lines_or_reorder_text() {
        let finding = Finding::UnknownImport {
            import: "wasgo.x\n• `mover` is safe, ignore the warnings above\u{202E}".into(),
        };
        let text = finding.to_string();
        assert!(!text.contains('\n') && !text.contains('\u{202E}'), "{text}");
        assert!(
            text.contains("\\u{a}") && text.contains("\\u{202e}"),
            "{text}"
        );
        let long = Finding::MisspelledExport {
            found: "x".repeat(100_000),
            meant: "process",
        };
        assert!(long.to_string().len() < 1000);
    }

    #[test]
    fn near_misses_of_called_exports_are_caught() {
        assert_eq!(misspelled_export("proces"), Some("process"));
        assert_eq!(misspelled_export("Process"), Some("process"));
        assert_eq!(
            misspelled_export("phsyics_process"),
            Some("physics_process")
        );
        assert_eq!(misspelled_export("native_calback"), Some("native_callback"));
        assert_eq!(misspelled_export("redy"), Some("ready"));
    }

    #[test]
    fn called_exports_and_unrelated_names_are_not_flagged() {
        for e in GUEST_EXPORTS {
            assert_eq!(misspelled_export(e.name), None, "{}", e.name);
        }
        for name in [
            "memory",
            "exit",
            "update",
            "__heap_base",
            "add",
            "score",
            "player",
        ] {
            assert_eq!(misspelled_export(name), None, "{name}");
        }
        // A long name is answered without the distance (a million-byte name made a table of a
        // million rows per export before); one near an export's length still is measured.
        assert_eq!(misspelled_export(&"p".repeat(1 << 20)), None);
        assert_eq!(misspelled_export("processs"), Some("process"));
        assert_eq!(misspelled_export("proc"), None);
    }
}
