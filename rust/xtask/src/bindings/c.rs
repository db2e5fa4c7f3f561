//! The C SDK's `wasgo_sys.h`: the raw imports (`const void *`/`void *` pointers, `size_t`
//! lengths) and the ABI's constants.

use super::*;

pub(super) const PATH: &str = "mods/sdk/c/wasgo_sys.h";

fn c_type(t: Abi) -> &'static str {
    match t {
        Abi::I32 => "int32_t",
        Abi::I64 => "int64_t",
        Abi::F32 => "float",
        Abi::F64 => "double",
    }
}

/// `const void *` and `void *` take any object pointer without a cast (`char *` text, `uint8_t *`
/// buffers, `double *` arguments).
fn c_param(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Value(t) => c_type(t),
        ParamKind::Handle => "int32_t",
        ParamKind::In => "const void *",
        ParamKind::Out => "void *",
        ParamKind::Len | ParamKind::Cap => "size_t",
    }
}

fn c_constants() -> String {
    let mut out = String::from(
        "/* The ABI's error codes: the negative returns of `wasgo` functions (`wasgo_last_error` gives\n\
         \x20* the message). */\nenum {\n",
    );
    for e in ErrorCode::ALL {
        out.push_str(&format!(
            "    WASGO_{} = {}, /* {} */\n",
            e.constant_name(),
            e.code(),
            e.doc()
        ));
    }
    out.push_str("};\n\n/* Godot's Variant type numbers (the low 8 bits (byte 0) of an encoded value's header). */\nenum {\n");
    for t in crossing_types() {
        out.push_str(&format!("    WASGO_{} = {},\n", t.name, t.tag));
    }
    out.push_str(&format!("}};\n\n/* The WasGo ABI these bindings were generated for (docs/abi.md, \"ABI versions\"). */\n#define WASGO_ABI_VERSION \"{ABI_VERSION}\"\n"));
    out.push_str(
        "\n/* The names of the exports the host calls: WASGO_EXPORT(WASGO_EXPORT_PROCESS). */\n",
    );
    for e in GUEST_EXPORTS {
        out.push_str(&format!(
            "#define WASGO_EXPORT_{} \"{}\"\n",
            e.name.trim_start_matches('_').to_uppercase(),
            e.name
        ));
    }
    out
}

pub(super) fn c(functions: &[HostFunction]) -> String {
    let mut out = header_line("/*").trim_end().to_string();
    out.push_str(" */\n");
    out.push_str(
        "/* The raw `wasgo` imports, one per catalog entry, named `wasgo_<name>` (pointers are\n\
         \x20* `const void *`/`void *`, lengths `size_t`), and the ABI's constants. `wasgo.h` includes this\n\
         \x20* file and adds the helpers; see docs/abi.md for the conventions. */\n\
         #ifndef WASGO_SYS_H\n#define WASGO_SYS_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n\
         #define WASGO_IMPORT(name) __attribute__((import_module(\"wasgo\"), import_name(name)))\n\n",
    );
    out.push_str(&c_constants());
    out.push_str("\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
    for f in functions {
        out.push('\n');
        let [doc, sig] = doc_lines(f);
        out.push_str(&format!("/* {doc}\n * {sig} */\n"));
        let ret = match f.results {
            [] => "void",
            [one] => c_type(*one),
            _ => {
                out.push_str(&several_results("/*", " */", f));
                continue;
            }
        };
        let args: Vec<String> = params(f)
            .map(|(n, k)| {
                let t = c_param(k);
                if t.ends_with('*') {
                    format!("{t}{n}")
                } else {
                    format!("{t} {n}")
                }
            })
            .collect();
        let args = if args.is_empty() {
            "void".to_string()
        } else {
            args.join(", ")
        };
        out.push_str(&format!(
            "WASGO_IMPORT(\"{}\") {ret} wasgo_{}({args});\n",
            f.name, f.name
        ));
    }
    out.push_str("\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* WASGO_SYS_H */\n");
    out
}
