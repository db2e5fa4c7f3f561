//! The Zig SDK's `sys.zig`: the raw imports (`[*]const u8`/`[*]u8` pointers, `usize` lengths)
//! and the ABI's constants.

use super::*;

pub(super) const PATH: &str = "mods/sdk/zig/sys.zig";

const ZIG_KEYWORDS: &[&str] = &[
    "addrspace",
    "align",
    "allowzero",
    "and",
    "anyframe",
    "anytype",
    "asm",
    "async",
    "await",
    "break",
    "callconv",
    "catch",
    "comptime",
    "const",
    "continue",
    "defer",
    "else",
    "enum",
    "errdefer",
    "error",
    "export",
    "extern",
    "fn",
    "for",
    "if",
    "inline",
    "linksection",
    "noalias",
    "noinline",
    "nosuspend",
    "opaque",
    "or",
    "orelse",
    "packed",
    "pub",
    "resume",
    "return",
    "struct",
    "suspend",
    "switch",
    "test",
    "threadlocal",
    "try",
    "union",
    "unreachable",
    "usingnamespace",
    "var",
    "volatile",
    "while",
];

pub(super) fn zig_ident(name: &str) -> String {
    if ZIG_KEYWORDS.contains(&name) {
        format!("@\"{name}\"")
    } else {
        name.to_string()
    }
}

fn zig_param(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Value(t) => t.name(),
        ParamKind::Handle => "i32",
        ParamKind::In => "[*]const u8",
        ParamKind::Out => "[*]u8",
        ParamKind::Len | ParamKind::Cap => "usize",
    }
}

fn zig_constants() -> String {
    let mut out =
        String::from("\n/// The ABI's error codes: the negative returns of `wasgo` functions.\n");
    for e in ErrorCode::ALL {
        out.push_str(&format!(
            "/// {}.\npub const {}: i32 = {};\n",
            e.doc(),
            e.constant_name().to_lowercase(),
            e.code()
        ));
    }
    out.push_str("\n/// Godot's Variant type numbers (the low 8 bits (byte 0) of an encoded value's header).\npub const variant_type = struct {\n");
    for t in crossing_types() {
        out.push_str(&format!("    pub const {}: u32 = {};\n", t.name, t.tag));
    }
    out.push_str("};\n");
    out
}

pub(super) fn zig(functions: &[HostFunction]) -> String {
    let mut out = header_line("//");
    out.push_str(
        "//! The raw `wasgo` imports, one per catalog entry (pointers are `[*]const u8`/`[*]u8`, lengths\n\
         //! `usize`), and the ABI's constants. `wasgo.zig` re-exports them as `sys` and adds the helpers.\n",
    );
    out.push_str(&zig_constants());
    for f in functions {
        out.push('\n');
        for line in doc_lines(f) {
            out.push_str(&format!("/// {line}\n"));
        }
        let args: Vec<String> = params(f)
            .map(|(n, k)| format!("{}: {}", zig_ident(n), zig_param(k)))
            .collect();
        let ret = match f.results {
            [] => "void",
            [one] => one.name(),
            _ => {
                out.push_str(&several_results("//", "", f));
                continue;
            }
        };
        out.push_str(&format!(
            "pub extern \"wasgo\" fn {}({}) {ret};\n",
            zig_ident(f.name),
            args.join(", ")
        ));
    }
    out
}
