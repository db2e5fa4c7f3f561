//! The Rust SDK's copy of the Variant codec: `mods/sdk/rust/src/variant/`, made from
//! `rust/wasgo-variant` (the one source, which the host uses) so that the SDK folder builds on
//! its own wherever it is copied (a template needs nothing outside `mods/sdk/rust`).
//!
//! The copy is the codec's text with three changes: the crate-level lines (`#![no_std]`,
//! `extern crate alloc;`) go (the SDK crate has its own), the Variant type numbers come from a
//! generated `ty` module instead of the catalog crate, and `crate::` paths point at
//! `crate::variant::`. The sources are compiled into xtask (`include_str!`), so generating needs
//! no file access and `--check` fails when the codec changes and the copy was not regenerated.

use super::*;

/// The codec's module file in the SDK.
pub(super) const MOD_PATH: &str = "mods/sdk/rust/src/variant/mod.rs";
/// The codec's engine-safety checks in the SDK.
pub(super) const ENGINE_SAFE_PATH: &str = "mods/sdk/rust/src/variant/engine_safe.rs";

const LIB_SOURCE: &str = include_str!("../../../wasgo-variant/src/lib.rs");
const ENGINE_SAFE_SOURCE: &str = include_str!("../../../wasgo-variant/src/engine_safe.rs");

/// The line of the codec that takes the Variant type numbers from the catalog crate.
const CATALOG_TAGS: &str = "use wasgo_catalog::variant_type as ty;";

/// The module standing in for the catalog's `variant_type`: every type, refused ones included
/// (the decoder names them in its errors).
fn tags_module() -> String {
    let mut out = String::from("#[allow(dead_code)] // the codec uses most, not all\nmod ty {\n");
    for t in VARIANT_TYPES {
        out.push_str(&format!("    pub const {}: u32 = {};\n", t.name, t.tag));
    }
    out.push('}');
    out
}

/// `source` as a module of the SDK (see the module essay).
fn as_sdk_module(source: &str) -> String {
    let mut out = header_line("//");
    out.push_str("// A copy of rust/wasgo-variant (the source the host uses), so mods/sdk/rust builds on its own.\n");
    for line in source.lines() {
        let trimmed = line.trim();
        if trimmed == "#![no_std]" || trimmed == "extern crate alloc;" {
            continue;
        }
        if trimmed == CATALOG_TAGS {
            out.push_str(&tags_module());
            out.push('\n');
            continue;
        }
        out.push_str(&line.replace("crate::", "crate::variant::"));
        out.push('\n');
    }
    out
}

/// The codec's module file for the SDK.
pub(super) fn variant_mod() -> String {
    as_sdk_module(LIB_SOURCE)
}

/// The codec's engine-safety checks for the SDK.
pub(super) fn variant_engine_safe() -> String {
    as_sdk_module(ENGINE_SAFE_SOURCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_needs_nothing_outside_the_sdk() {
        for text in [variant_mod(), variant_engine_safe()] {
            assert!(
                !text.contains("wasgo_catalog"),
                "the copy names the catalog crate"
            );
            assert!(
                !text.contains("#![no_std]"),
                "a crate attribute in a module"
            );
            assert!(
                !text.replace("crate::variant::", "").contains("crate::"),
                "a `crate::` path that does not point into the copy"
            );
        }
        assert!(
            LIB_SOURCE.contains(CATALOG_TAGS),
            "rust/wasgo-variant no longer has `{CATALOG_TAGS}`: teach vendored.rs its new form"
        );
        assert!(variant_mod().contains("    pub const CALLABLE: u32 = 25;\n"));
    }
}
