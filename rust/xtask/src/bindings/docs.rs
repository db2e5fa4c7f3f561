//! `docs/abi.md`: the ABI reference, with every table (functions, error codes, guest exports,
//! Variant type tags) generated from the catalog.

use super::*;
use wasgo_catalog::{ExportThread, Param};

pub(super) const PATH: &str = "docs/abi.md";

fn kind_note(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Value(_) => "",
        ParamKind::Handle => " (handle)",
        ParamKind::In => " (in)",
        ParamKind::Len => " (len)",
        ParamKind::Out => " (out)",
        ParamKind::Cap => " (cap)",
    }
}

fn param_text(p: &Param) -> String {
    format!("{}: {}", p.name, p.kind.abi().name())
}

fn error_table() -> String {
    let mut out =
        String::from("### Error codes\n\n| return | constant | meaning |\n|---|---|---|\n");
    for e in ErrorCode::ALL {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            e.code(),
            e.constant_name(),
            e.doc()
        ));
    }
    out.push_str("\nAfter a negative return, `wasgo.last_error(out_ptr, out_cap)` gives the message. Every SDK has\nthese as generated constants (`sys::error::NOT_FOUND` in Rust, `WASGO_NOT_FOUND` in C, ...).\n");
    out
}

fn exports_table() -> String {
    let mut out = String::from("\n## Exports a mod may define (all optional)\n\n| export | signature | thread | when |\n|---|---|---|---|\n");
    for e in GUEST_EXPORTS {
        let sig = match e.params {
            Some(params) => {
                let p: Vec<&str> = params.iter().map(|t| t.name()).collect();
                let r: Vec<&str> = e.results.iter().map(|t| t.name()).collect();
                if r.is_empty() {
                    format!("`({})`", p.join(", "))
                } else {
                    format!("`({}) -> {}`", p.join(", "), r.join(", "))
                }
            }
            None => "several, see next column".to_string(),
        };
        let thread = match e.thread {
            ExportThread::Main => "main",
            ExportThread::Worker => "worker",
            ExportThread::Either => "either",
        };
        out.push_str(&format!(
            "| `{}` | {sig} | {thread} | {} |\n",
            e.name,
            e.doc.replace('|', "\\|")
        ));
    }
    out
}

fn manifest_and_versions() -> String {
    format!(
        "\n## ABI versions\n\nThis is WasGo ABI **{ABI_VERSION}** (`major.minor`). Additions (a new host function, export, error code,\nVariant tag or manifest field) bump the minor version; a change or removal of anything a mod already\nuses bumps the major one. A host runs a mod that targets its own major version and a minor version up\nto its own: a mod built for a newer ABI (its manifest's `abi`) is refused at load, before anything\nruns, with an error naming both versions. The Rust and C SDKs have the version as a generated\nconstant (`sys::ABI_VERSION`, `WASGO_ABI_VERSION`), and the Rust SDK's `manifest!` macro fills in\n`abi`; for the other languages, write `abi` in the `manifest.json` beside the source.\n\n\
## The manifest (`{section}` custom section)\n\nA mod may carry a custom section named `{section}` holding a UTF-8 JSON object of at most {max} bytes,\nread by the game (`WasmModule.get_manifest()`, `WasmEngine.scan_mods()`) without running any code. Every\nfield is optional; unknown fields are ignored; a field breaking its rule makes the manifest malformed\n(reported with the field's name, the module still loads, without a manifest). Only JSON is read (not\nGodot Variant bytes).\n\n| field | type | rule |\n|---|---|---|\n| `id` | string | 1-100 of `[A-Za-z0-9_-]`; informational: the sandbox and saved permissions use the id the game gives |\n| `name` | string | 1-100 characters, no control characters |\n| `version` | string | 1-32 characters, no spaces or control characters |\n| `authors` | array of strings | at most 16, each 1-100 characters |\n| `description` | string | at most 2000 characters |\n| `homepage` | string | an `http://` or `https://` URL, at most 500 characters |\n| `level` | integer | the safety level the mod asks for: 1, 2 or 3 (a claim: the game's level decides) |\n| `permissions` | array of strings | the permission kinds it asks for: `files`, `network` (level 2) |\n| `abi` | string | the ABI it targets, `\"MAJOR.MINOR\"` |\n\nEmbedding it: `wasgo_sdk::manifest!(r#\"{{...}}\"#)` in Rust (it adds `abi`); for the other languages a\n`manifest.json` beside the source that `cargo xtask mods` appends to the built module as the section\n(any tool that writes a custom section works: id 0, LEB128 size, the name, the bytes).\n",
        section = wasgo_catalog::MANIFEST_SECTION,
        max = wasgo_catalog::MAX_MANIFEST_BYTES,
    )
}

fn variant_table() -> String {
    let mut out = String::from("\n## Variant type tags\n\nGodot's `Variant::Type` numbers, the low 8 bits (byte 0) of each encoded value's header\n([variant-encoding.md](variant-encoding.md)). Every SDK has them as generated constants.\n\n| tag | type | crosses the mod boundary |\n|---|---|---|\n");
    for t in VARIANT_TYPES {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            t.tag,
            t.name,
            if t.crosses { "yes" } else { "no (refused)" }
        ));
    }
    out
}

pub(super) fn abi_reference(functions: &[HostFunction]) -> String {
    let mut out = header_line("<!--").trim_end().to_string();
    out.push_str(" -->\n");
    out.push_str(ABI_INTRO);
    out.push_str(&error_table());
    out.push_str(FUNCTIONS_INTRO);
    for level in SafetyLevel::ALL {
        let at_level: Vec<&HostFunction> = functions.iter().filter(|f| f.level == level).collect();
        out.push_str(&format!(
            "\n### Level {} — {}\n\n",
            level.number(),
            level.title()
        ));
        if at_level.is_empty() {
            out.push_str("No functions of its own: level 3 lifts the allowlist instead (all of ClassDB, every singleton, WASI with `res://` and `user://`).\n");
            continue;
        }
        out.push_str("| function | signature | status | what it does |\n|---|---|---|---|\n");
        for f in at_level {
            let args: Vec<String> = f.params.iter().map(param_text).collect();
            let ret = match f.results {
                [] => String::new(),
                [one] => format!(" -> {}", one.name()),
                many => format!(
                    " -> ({})",
                    many.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                ),
            };
            let status = match f.availability {
                Availability::Ready => "ready",
                Availability::Planned => "planned (calling it traps: not implemented yet)",
            };
            let kinds: Vec<String> = f
                .params
                .iter()
                .filter(|p| !kind_note(p.kind).is_empty())
                .map(|p| format!("{}{}", p.name, kind_note(p.kind)))
                .collect();
            let kinds = if kinds.is_empty() {
                String::new()
            } else {
                format!("<br>{}", kinds.join(", "))
            };
            out.push_str(&format!(
                "| `{}` | `({}){ret}`{kinds} | {status} | {} |\n",
                f.name,
                args.join(", "),
                f.doc.replace('|', "\\|")
            ));
        }
    }
    out.push_str(&exports_table());
    out.push_str(&manifest_and_versions());
    out.push_str(EXPORTS_OUTRO);
    out.push_str(&variant_table());
    out
}

const ABI_INTRO: &str = "\
# The WasGo mod ABI (v1)

This page is generated from the host-function catalog (`rust/wasgo-catalog`), the same table the
host interface, the error stubs and every guest binding are built from. The bindings per language are in
`mods/sdk/` (raw imports in `sys.rs`, `wasgo_sys.h`, `sys.zig`, `sys.ts`, `sys.go`; helpers beside
them). How Variants are encoded: [variant-encoding.md](variant-encoding.md).

## Imports

- `wasgo` — the engine functions listed below.
- `wasi_snapshot_preview1` — WASI preview 1, gated by level: stdout/stderr (to the node's `output`
  signal), clocks, random and args at level 1; the mod's own sandbox directory
  (`user://mods/<mod_id>/`) preopened at level 2; `res://`, `user://` and the environment at level 3.
- any module the game registers with `WasmEngine.register_function(module, name, callable, params,
  results, level)`; a `\"string\"` parameter is a `(ptr, len)` pair, a `\"string\"` result is an
  `(out_ptr, out_cap) -> len` pair like below.

Every import is resolved at instantiation. One that is not exposed at the instance's safety level,
that does not exist, or that is planned but not implemented yet, links to an **error stub**: the mod
instantiates, and only a call to the stub traps, with a message naming the function and the level
(``call to `wasgo.file_write`, which is not exposed at safety level 1``) and the node's
`unexposed_call` signal. `wasgo.has_function(module, name)` tells a mod beforehand.

## Conventions

- Pointers and lengths are `i32` offsets into the mod's exported memory. Strings are UTF-8 `(ptr, len)`.
  The tables mark each parameter's kind — `(in)` bytes the host reads, `(len)` their length, `(out)`
  a buffer the host writes, `(cap)` its capacity, `(handle)` an object handle — and each SDK's raw
  imports use the language's pointer and size types for them (`*const u8`/`usize` in Rust,
  `const void *`/`size_t` in C, `[*]const u8`/`usize` in Zig, `usize` in AssemblyScript,
  `unsafe.Pointer`/`uint32` in Go); the wasm signatures are the same.
- Results that are not scalars go into a caller buffer `(out_ptr, out_cap)`; the function returns the
  full length. If that is larger than `out_cap`, nothing is written: retry with a buffer that large.
- Objects cross as `i32` handles, per instance, 0 = null. A handle to a freed object gives -4, never
  a crash. Variants cross as bytes in Godot's binary serialization format (what `var_to_bytes`
  produces), objects inside them as handles.
- A pointer range outside the mod's memory, or bytes that are not UTF-8 where text is expected, trap
  the mod with a message naming the function. Nothing a mod passes can crash or freeze the game.
- Godot reads text only up to a NUL character: a NUL in a `String`, `StringName`, `NodePath` or
  `PackedStringArray` element a mod hands to Godot (a Variant's text, a Dictionary key) arrives as
  U+FFFD, the replacement character, so the text after it is kept and two keys stay two.
- Denied at run time (a Godot class, method, property or singleton not allowed at the level) is
  treated like an unexposed import: the mod traps with the name and the level.

";

const FUNCTIONS_INTRO: &str = "
## Functions by level

Each level includes everything below it, unchanged.
";

const EXPORTS_OUTRO: &str = "
Main-thread entries run under the callback budget (`wasgo/limits/callback_budget_ms`); overrunning it
traps that instance and the game goes on. A `wasgo` call from `main` that touches Godot objects runs
on the main thread, in order, while `main` waits.
";
