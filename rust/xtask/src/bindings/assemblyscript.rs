//! The AssemblyScript SDK's `sys.ts`: the raw imports (`usize` pointers and lengths) and the
//! ABI's constants.

use super::*;

pub(super) const PATH: &str = "mods/sdk/assemblyscript/sys.ts";

/// Names AssemblyScript (TypeScript) reserves or that clash with its standard library globals.
const TS_RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "let",
    "static",
    "yield",
    "abort",
];

pub(super) fn ts_ident(name: &str) -> String {
    if TS_RESERVED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

fn ts_param(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Value(t) => t.name(),
        ParamKind::Handle => "i32",
        ParamKind::In | ParamKind::Out | ParamKind::Len | ParamKind::Cap => "usize",
    }
}

fn ts_constants() -> String {
    let mut out = String::from(
        "\n/** The ABI's error codes: the negative returns of `wasgo` functions. */\n",
    );
    for e in ErrorCode::ALL {
        out.push_str(&format!(
            "/** {}. */\nexport const {}: i32 = {};\n",
            e.doc(),
            e.constant_name(),
            e.code()
        ));
    }
    out.push_str(
        "\n// Godot's Variant type numbers (the low 8 bits (byte 0) of an encoded value's header).\n",
    );
    for t in crossing_types() {
        out.push_str(&format!("export const TYPE_{}: u32 = {};\n", t.name, t.tag));
    }
    out
}

pub(super) fn assemblyscript(functions: &[HostFunction]) -> String {
    let mut out = header_line("//");
    out.push_str(
        "// The raw `wasgo` imports, one per catalog entry (pointers and lengths are `usize`: pass\n\
         // `changetype<usize>(x)`), and the ABI's constants. `wasgo.ts` adds the helpers.\n",
    );
    out.push_str(&ts_constants());
    for f in functions {
        out.push('\n');
        let [doc, sig] = doc_lines(f);
        out.push_str(&format!("/** {doc}\n *  {sig} */\n"));
        let args: Vec<String> = params(f)
            .map(|(n, k)| format!("{}: {}", ts_ident(n), ts_param(k)))
            .collect();
        let ret = match f.results {
            [] => "void",
            [one] => one.name(),
            _ => {
                out.push_str(&several_results("//", "", f));
                continue;
            }
        };
        out.push_str(&format!("@external(\"wasgo\", \"{}\")\n", f.name));
        out.push_str(&format!(
            "export declare function {}({}): {ret};\n",
            ts_ident(f.name),
            args.join(", ")
        ));
    }
    out
}
