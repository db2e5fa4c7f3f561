//! `traps`: `main` calls `traps::fault`, which reaches a wasm `unreachable` on the line marked
//! below. Built with debug info and its name section (`mods/Cargo.toml`), so a trap shows the
//! demangled name and, with `wasgo/runtime/debug_info` on, `src/main.rs:LINE`
//! (`rust/wasgo-core/tests/mod_author.rs` reads the line number from this file).

#[inline(never)]
#[rustfmt::skip]
fn fault(x: u32) -> u32 {
    if core::hint::black_box(x) == 7 { core::arch::wasm32::unreachable() } // the trap
    x
}

fn main() {
    fault(core::hint::black_box(7));
}
