//! The Go SDK's `sys.go`: the raw imports (`unsafe.Pointer` pointers, `uint32` lengths) and the
//! ABI's constants.

use super::*;

pub(super) const PATH: &str = "mods/sdk/go/wasgo/sys.go";

fn go_type(t: Abi) -> &'static str {
    match t {
        Abi::I32 => "int32",
        Abi::I64 => "int64",
        Abi::F32 => "float32",
        Abi::F64 => "float64",
    }
}

/// `get_node` → `RawGetNode`: exported, and clear of the helpers' names in `wasgo.go`.
pub(super) fn go_name(name: &str) -> String {
    let mut out = String::from("Raw");
    for part in name.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

const GO_KEYWORDS: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

pub(super) fn go_param(name: &str) -> String {
    if GO_KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

fn go_param_type(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Value(t) => go_type(t),
        ParamKind::Handle => "int32",
        ParamKind::In | ParamKind::Out => "unsafe.Pointer",
        ParamKind::Len | ParamKind::Cap => "uint32",
    }
}

fn go_constants() -> String {
    let mut out = String::from(
        "\n// The ABI's error codes: the negative returns of wasgo functions.\nconst (\n",
    );
    for e in ErrorCode::ALL {
        out.push_str(&format!(
            "\t// Err{}: {}.\n\tErr{} Error = {}\n",
            camel(e.constant_name()),
            e.doc(),
            camel(e.constant_name()),
            e.code()
        ));
    }
    out.push_str(")\n\n// Godot's Variant type numbers (the low 8 bits (byte 0) of an encoded value's header).\nconst (\n");
    for t in crossing_types() {
        out.push_str(&format!("\tType{} uint32 = {}\n", camel(t.name), t.tag));
    }
    out.push_str(")\n");
    out
}

pub(super) fn go(functions: &[HostFunction]) -> String {
    let mut out = header_line("//");
    out.push_str(
        "\n//go:build wasip1\n\n\
         // The raw `wasgo` imports, one per catalog entry (pointers are unsafe.Pointer, lengths\n\
         // uint32), and the ABI's constants. wasgo.go adds the helpers.\n\n\
         package wasgo\n",
    );
    if functions
        .iter()
        .any(|f| params(f).any(|(_, k)| matches!(k, ParamKind::In | ParamKind::Out)))
    {
        out.push_str("\nimport \"unsafe\"\n");
    }
    out.push_str(&go_constants());
    for f in functions {
        out.push('\n');
        let name = go_name(f.name);
        let [doc, sig] = doc_lines(f);
        out.push_str(&format!("// {name}: {doc}\n// {sig}\n//\n"));
        let args: Vec<String> = params(f)
            .map(|(n, k)| format!("{} {}", go_param(n), go_param_type(k)))
            .collect();
        let ret = match f.results {
            [] => String::new(),
            [one] => format!(" {}", go_type(*one)),
            _ => {
                out.push_str(&several_results("//", "", f));
                continue;
            }
        };
        out.push_str(&format!("//go:wasmimport wasgo {}\n", f.name));
        out.push_str(&format!("func {name}({}){ret}\n", args.join(", ")));
    }
    out
}
