//! The host side of the catalog: `rust/wasgo-core/src/hostfns/generated.rs`, one trait per
//! [`Area`] with one method per ready function (the catalog's wasm types, its parameter names),
//! and `link`, which registers every ready function at or below a level through those traits,
//! each inside `guarded`. A catalog entry without an implementation, or an implementation with
//! another signature, does not compile.

use super::*;
use wasgo_catalog::Area;

pub(super) const PATH: &str = "rust/wasgo-core/src/hostfns/generated.rs";

fn host_type(t: Abi) -> &'static str {
    t.name()
}

fn result_type(f: &HostFunction) -> String {
    match f.results {
        [] => "()".into(),
        [one] => host_type(*one).into(),
        many => format!(
            "({})",
            many.iter()
                .map(|t| host_type(*t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn level_path(level: SafetyLevel) -> &'static str {
    match level {
        SafetyLevel::Safe => "SafetyLevel::Safe",
        SafetyLevel::Wrapped => "SafetyLevel::Wrapped",
        SafetyLevel::Unsafe => "SafetyLevel::Unsafe",
    }
}

fn ready(functions: &[HostFunction]) -> impl Iterator<Item = &HostFunction> {
    functions
        .iter()
        .filter(|f| f.availability == Availability::Ready)
}

/// The text of `generated.rs`.
pub(super) fn host(functions: &[HostFunction]) -> String {
    let mut out = header_line("//");
    out.push_str(
        "//! The host interface of the `wasgo` functions, generated from the catalog: one trait per\n\
         //! area (implemented by `Host` in `hostfns/<area>.rs`), one method per ready function with the\n\
         //! catalog's wasm types, and [`link`], which registers every ready function at or below a level.\n\
         //! A catalog entry without an implementation, or one with another signature, does not compile.\n\n\
         #![allow(clippy::too_many_arguments)] // one parameter per wasm parameter\n\
         #![allow(clippy::new_ret_no_self)] // `wasgo.new` is a host function, not a constructor\n\n\
         use super::{guarded, stop_if_killed, Caller};\n\
         use crate::catalog::WASGO_MODULE;\n\
         use crate::level::SafetyLevel;\n\
         use crate::state::InstanceState;\n\
         use wasmtime::Linker;\n",
    );
    let areas: Vec<Area> = Area::ALL
        .into_iter()
        .filter(|a| ready(functions).any(|f| f.area == *a))
        .collect();
    for area in &areas {
        out.push_str(&format!(
            "\n/// The ready `wasgo` functions of `hostfns/{}.rs`.\npub(crate) trait {} {{\n",
            area.module(),
            area.trait_name()
        ));
        for f in ready(functions).filter(|f| f.area == *area) {
            out.push_str(&format!(
                "    /// `wasgo.{}`: `{}`, safety level {} and up.\n",
                f.name,
                f.signature(),
                f.level
            ));
            let mut args = vec!["c: &mut Caller<'_>".to_string()];
            args.extend(
                f.params
                    .iter()
                    .map(|p| format!("{}: {}", rust_ident(p.name), host_type(p.kind.abi()))),
            );
            out.push_str(&format!(
                "    fn {}({}) -> wasmtime::Result<{}>;\n",
                rust_ident(f.name),
                args.join(", "),
                result_type(f)
            ));
        }
        out.push_str("}\n");
    }
    let bounds: Vec<&str> = std::iter::once("'static")
        .chain(areas.iter().map(|a| a.trait_name()))
        .collect();
    let bounds = format!(": {}", bounds.join(" + "));
    out.push_str(&format!(
        "\n/// Registers every ready `wasgo` function exposed at `at` (its level or below) through `H`.\n\
         pub(crate) fn link<H{bounds}>(linker: &mut Linker<InstanceState>, at: SafetyLevel) -> wasmtime::Result<()> {{\n"
    ));
    for f in ready(functions) {
        let names: Vec<String> = f.params.iter().map(|p| rust_ident(p.name)).collect();
        let mut closure = vec!["mut c: Caller<'_>".to_string()];
        closure.extend(
            f.params
                .iter()
                .zip(&names)
                .map(|(p, n)| format!("{n}: {}", host_type(p.kind.abi()))),
        );
        let mut call = vec!["&mut c".to_string()];
        call.extend(names.iter().cloned());
        // A killed mod stops at its next host call: a run of calls with no loop between them
        // (no epoch check) went on after `kill()`, the fast paths included (one load each).
        let stop = "            stop_if_killed(&c)?;\n";
        out.push_str(&format!(
            "    if {} <= at {{\n        linker.func_wrap(WASGO_MODULE, \"{}\", |{}| {{\n{stop}            guarded(\"wasgo.{}\", || <H as {}>::{}({}))\n        }})?;\n    }}\n",
            level_path(f.level),
            f.name,
            closure.join(", "),
            f.name,
            f.area.trait_name(),
            rust_ident(f.name),
            call.join(", ")
        ));
    }
    out.push_str("    Ok(())\n}\n");
    out
}
