//! The Rust SDK's `sys.rs`: the raw imports (`*const u8`/`*mut u8` pointers, `usize` lengths)
//! and the ABI's constants.

use super::*;

pub(super) const PATH: &str = "mods/sdk/rust/src/sys.rs";

const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// A Rust identifier for `name`: keywords get a trailing underscore (`self` → `self_`).
pub(super) fn rust_ident(name: &str) -> String {
    if RUST_KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

fn rust_type(t: Abi) -> &'static str {
    t.name()
}

fn rust_param(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Value(t) => rust_type(t),
        ParamKind::Handle => "i32",
        ParamKind::In => "*const u8",
        ParamKind::Out => "*mut u8",
        ParamKind::Len | ParamKind::Cap => "usize",
    }
}

/// The constants every SDK gets: error codes, Variant type tags, export names.
fn rust_constants() -> String {
    let mut out = String::from(
        "/// The ABI's error codes: the negative returns of `wasgo` functions (`wasgo.last_error` gives the message).\npub mod error {\n",
    );
    for e in ErrorCode::ALL {
        out.push_str(&format!(
            "    /// {}.\n    pub const {}: i32 = {};\n",
            e.doc(),
            e.constant_name(),
            e.code()
        ));
    }
    out.push_str("}\n\n/// Godot's Variant type numbers (the low 8 bits (byte 0) of an encoded value's header).\npub mod variant_type {\n");
    for t in crossing_types() {
        out.push_str(&format!("    pub const {}: u32 = {};\n", t.name, t.tag));
    }
    out.push_str("}\n\n/// The names of the exports the host calls.\npub mod export {\n");
    for e in GUEST_EXPORTS {
        out.push_str(&format!(
            "    /// {}\n    pub const {}: &str = \"{}\";\n",
            e.doc,
            e.name.trim_start_matches('_').to_uppercase(),
            e.name
        ));
    }
    out.push_str("}\n\n");
    out.push_str(&format!(
        "/// The WasGo ABI these bindings were generated for (docs/abi.md, \"ABI versions\").\npub const ABI_VERSION: &str = \"{ABI_VERSION}\";\n\n/// What [`manifest!`](crate::manifest!) adds to a manifest: `\"abi\":\"{ABI_VERSION}\",`.\npub const ABI_MANIFEST_FIELD: &str = \"\\\"abi\\\":\\\"{ABI_VERSION}\\\",\";\n\n"
    ));
    out
}

pub(super) fn rust(functions: &[HostFunction]) -> String {
    let mut out = header_line("//");
    out.push_str(
        "//! The raw `wasgo` imports, one per catalog entry (pointers are `*const u8`/`*mut u8`, lengths\n\
         //! `usize`), and the ABI's constants. Prefer the safe wrappers of this crate; see docs/abi.md\n\
         //! for the conventions.\n\n",
    );
    out.push_str(&rust_constants());
    out.push_str("#[link(wasm_import_module = \"wasgo\")]\nextern \"C\" {\n");
    for (i, f) in functions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for line in doc_lines(f) {
            out.push_str(&format!("    /// {line}\n"));
        }
        let args: Vec<String> = params(f)
            .map(|(n, k)| format!("{}: {}", rust_ident(n), rust_param(k)))
            .collect();
        let ret = match f.results {
            [] => String::new(),
            [one] => format!(" -> {}", rust_type(*one)),
            many => format!(
                " -> ({})",
                many.iter()
                    .map(|t| rust_type(*t))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        out.push_str(&format!("    #[link_name = \"{}\"]\n", f.name));
        out.push_str(&format!(
            "    pub fn {}({}){ret};\n",
            rust_ident(f.name),
            args.join(", ")
        ));
    }
    out.push_str("}\n");
    out
}
