//! Bringing an instance's per-entry state into the cache before it is entered.
//!
//! A frame in which many mods each run `process` enters one instance after another, and each
//! entry's first touch of that instance's state is a cache miss: the shared status and store
//! lock, the store's data (the entry clock), the instance itself, and the mod's own linear
//! memory, which under the guard-page layout sits in its own 4 GiB reservation, so that touch
//! also walks page tables nothing else shares (measured: a quarter of a 1000-mod frame on one
//! instruction of the mod, its first load from its memory; `BENCHMARKS.md`, "Fifteenth pass").
//! The frame driver asks the processor to fetch the next instance's addresses while the current
//! one runs ([`HotAddresses::prefetch`]), so the misses overlap with work instead of adding up.
//!
//! The addresses are plain numbers: never read or written through, only given to the
//! processor's prefetch instruction, which loads nothing architecturally and never faults. A
//! stale address (the instance ended, its memory moved) costs one useless prefetch, nothing else.
//!
//! Which linear-memory addresses ([`MemoryHints`], read from the module's bytes when it is
//! compiled or loaded from the cache): the top of the shadow stack that LLVM-built mods (Rust,
//! C, Zig) keep in their first global, and the starts of the first and last data segments, where
//! their statics are. A page-table walk for one page also brings in the entries of its
//! neighbours (eight pages per cache line of page-table entries), so a mod's other nearby pages
//! get cheaper too. A module without such a global or data (or loaded precompiled, without its
//! bytes) gets no memory prefetch.

use crate::wasm_sections::{sections, sleb32, uleb32};

/// The bytes one prefetch brings in (a cache line on the processors WasGo runs on).
pub const LINE: usize = 64;

/// Up to [`HotAddresses::MAX`] addresses an entry into one instance touches first (0: none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HotAddresses {
    addrs: [usize; HotAddresses::MAX],
}

impl HotAddresses {
    /// How many addresses are kept.
    pub const MAX: usize = 8;

    /// No addresses: [`HotAddresses::prefetch`] does nothing.
    pub const NONE: HotAddresses = HotAddresses {
        addrs: [0; HotAddresses::MAX],
    };

    /// Adds `lines` cache lines from `addr` (0 is ignored; past [`HotAddresses::MAX`]
    /// addresses the rest is dropped), skipping a line already kept.
    pub fn add(&mut self, addr: usize, lines: usize) {
        if addr == 0 {
            return;
        }
        let first = addr & !(LINE - 1);
        for i in 0..lines {
            let line = first.wrapping_add(i * LINE);
            if self.addrs.contains(&line) {
                continue;
            }
            match self.addrs.iter_mut().find(|a| **a == 0) {
                Some(slot) => *slot = line,
                None => return,
            }
        }
    }

    /// The line-aligned addresses kept, in the order they were added.
    pub fn addresses(&self) -> impl Iterator<Item = usize> + '_ {
        self.addrs.iter().copied().filter(|a| *a != 0)
    }

    /// Asks the processor to bring every kept line into the cache.
    #[inline]
    pub fn prefetch(&self) {
        for addr in self.addresses() {
            prefetch_line(addr);
        }
    }
}

/// Offsets in a module's memory its code likely touches at every entry, read from the module's
/// bytes ([`MemoryHints::of_module`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryHints {
    /// The initial value of the module's first defined global when it is a mutable `i32`
    /// (LLVM's `__stack_pointer`: the shadow stack grows down from it).
    pub stack_top: Option<u32>,
    /// The offset of the first active data segment of memory 0 with a constant offset.
    pub first_data: Option<u32>,
    /// The offset of the last such segment (often the small statics, `.data` and `.bss`).
    pub last_data: Option<u32>,
}

impl MemoryHints {
    /// At most this many data segments are looked at (a module may declare 100,000).
    const MAX_SEGMENTS: u32 = 10_000;

    /// The hints of binary module `bytes`; none for anything else (text, a cut or malformed
    /// module: the walk stops at the first thing it does not expect).
    pub fn of_module(bytes: &[u8]) -> MemoryHints {
        let mut hints = MemoryHints::default();
        for section in sections(bytes) {
            let Ok((id, section)) = section else {
                return hints;
            };
            match id {
                6 => hints.stack_top = first_global_i32(section),
                11 => (hints.first_data, hints.last_data) = data_offsets(section),
                _ => {}
            }
        }
        hints
    }

    /// The offsets in the module's memory to prefetch: the line below the stack's top, the
    /// starts of the data segments.
    pub fn offsets(&self) -> impl Iterator<Item = u32> {
        [
            self.stack_top.and_then(|top| top.checked_sub(LINE as u32)),
            self.first_data,
            self.last_data,
        ]
        .into_iter()
        .flatten()
    }
}

/// The initial value of the first global of a global section when it is `(mut i32)` set by
/// `i32.const`.
fn first_global_i32(section: &[u8]) -> Option<u32> {
    let mut at = 0;
    let count = uleb32(section, &mut at)?;
    if count == 0 {
        return None;
    }
    // valtype i32 (0x7f), mutable (1), then the initial value's expression.
    if section.get(at..at + 2)? != [0x7f, 1] {
        return None;
    }
    at += 2;
    const_expr_i32(section, &mut at)
}

/// The offsets of the first and last active data segments of memory 0 whose offset is an
/// `i32.const`.
fn data_offsets(section: &[u8]) -> (Option<u32>, Option<u32>) {
    let (mut first, mut last) = (None, None);
    let mut at = 0;
    let Some(count) = uleb32(section, &mut at) else {
        return (None, None);
    };
    for _ in 0..count.min(MemoryHints::MAX_SEGMENTS) {
        let Some(flags) = uleb32(section, &mut at) else {
            break;
        };
        let offset = match flags {
            // Active, memory 0 (0), or active with an explicit memory index (2).
            0 | 2 => {
                if flags == 2 && uleb32(section, &mut at) != Some(0) {
                    // Another memory (multi-memory): its offset is not about memory 0, and the
                    // expression that follows is still walked below.
                    let _ = const_expr_i32(section, &mut at);
                    None
                } else {
                    const_expr_i32(section, &mut at)
                }
            }
            // Passive: no offset.
            1 => None,
            _ => break,
        };
        let Some(len) = uleb32(section, &mut at) else {
            break;
        };
        let Some(next) = at.checked_add(len as usize).filter(|&e| e <= section.len()) else {
            break;
        };
        at = next;
        if let Some(offset) = offset {
            first.get_or_insert(offset);
            last = Some(offset);
        }
    }
    (first, last)
}

/// An offset expression at `*at`: `i32.const N; end` gives N; `global.get G; end` is walked
/// over and gives `None`; for any other expression `*at` is moved to the end (the walk cannot
/// go on) and the answer is `None`.
fn const_expr_i32(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let value = match bytes.get(*at) {
        // `i32.const N`
        Some(0x41) => {
            *at += 1;
            sleb32(bytes, at).map(|v| v as u32)
        }
        // `global.get G` (a relocatable module's base): walked over, no offset.
        Some(0x23) => {
            *at += 1;
            uleb32(bytes, at).and(None)
        }
        _ => None,
    };
    if bytes.get(*at) != Some(&0x0b) {
        *at = bytes.len();
        return None;
    }
    *at += 1;
    value
}

/// Asks the processor to bring `lines` cache lines from `addr` into the cache.
#[inline]
pub fn prefetch_lines(addr: usize, lines: usize) {
    for i in 0..lines {
        prefetch_line(addr.wrapping_add(i * LINE));
    }
}

/// Asks the processor to bring the cache line of `addr` into the cache; a no-op where there is
/// no prefetch instruction WasGo uses.
#[inline]
pub fn prefetch_line(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `prefetcht0` is a hint (SSE, present on every x86-64 processor): it performs
        // no architectural load, cannot fault on any address, mapped or not, and has no effect
        // a program can observe other than timing. The pointer is never dereferenced.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(addr as *const i8) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_kept_line_aligned_without_repeats_and_zero_is_ignored() {
        let mut hot = HotAddresses::NONE;
        hot.add(0, 4);
        hot.add(0x1000 + 3, 2);
        hot.add(0x1040, 1);
        hot.add(0x2000, 1);
        assert_eq!(
            hot.addresses().collect::<Vec<_>>(),
            vec![0x1000, 0x1040, 0x2000]
        );
    }

    #[test]
    fn past_the_maximum_the_rest_is_dropped() {
        let mut hot = HotAddresses::NONE;
        hot.add(0x10_000, HotAddresses::MAX + 3);
        assert_eq!(hot.addresses().count(), HotAddresses::MAX);
        assert_eq!(
            hot.addresses().last(),
            Some(0x10_000 + (HotAddresses::MAX - 1) * LINE)
        );
    }

    fn module(wat: &str) -> Vec<u8> {
        wat::parse_str(wat).unwrap()
    }

    #[test]
    fn a_module_built_like_llvm_s_has_its_stack_top_and_data_starts_read() {
        let bytes = module(
            r#"(module
                (memory 17)
                (global $sp (mut i32) (i32.const 1048576))
                (global i32 (i32.const 5))
                (data (i32.const 1048576) "rodata")
                (data "passive")
                (data (i32.const 1054992) "bss"))"#,
        );
        let hints = MemoryHints::of_module(&bytes);
        assert_eq!(
            hints,
            MemoryHints {
                stack_top: Some(1_048_576),
                first_data: Some(1_048_576),
                last_data: Some(1_054_992),
            }
        );
        assert_eq!(
            hints.offsets().collect::<Vec<_>>(),
            vec![1_048_576 - LINE as u32, 1_048_576, 1_054_992]
        );
    }

    #[test]
    fn a_first_global_that_is_not_a_mutable_i32_constant_is_no_stack() {
        for globals in [
            "(global i32 (i32.const 1024))",
            "(global (mut i64) (i64.const 1024))",
            "(global (import \"m\" \"g\") i32) (global (mut i32) (global.get 0))",
        ] {
            let bytes = module(&format!("(module {globals} (memory 1))"));
            assert_eq!(MemoryHints::of_module(&bytes).stack_top, None, "{globals}");
        }
    }

    #[test]
    fn data_without_a_constant_offset_or_in_another_memory_is_skipped() {
        let bytes = module(
            r#"(module
                (import "m" "base" (global $base i32))
                (memory 1)
                (memory $other 1)
                (data (global.get $base) "relocatable")
                (data (memory $other) (i32.const 64) "elsewhere")
                (data (i32.const 128) "here"))"#,
        );
        let hints = MemoryHints::of_module(&bytes);
        assert_eq!(hints.first_data, Some(128));
        assert_eq!(hints.last_data, Some(128));
        assert_eq!(hints.stack_top, None);
    }

    #[test]
    fn anything_but_a_whole_binary_module_has_no_hints_and_never_panics() {
        assert_eq!(MemoryHints::of_module(b""), MemoryHints::default());
        assert_eq!(MemoryHints::of_module(b"(module)"), MemoryHints::default());
        let bytes = module(
            r#"(module (memory 1) (global (mut i32) (i32.const 4096))
                (data (i32.const 8) "a") (data (i32.const 4000) "b"))"#,
        );
        for cut in 0..bytes.len() {
            let _ = MemoryHints::of_module(&bytes[..cut]);
        }
        let mut flipped = bytes.clone();
        for i in 8..flipped.len() {
            flipped[i] ^= 0xff;
            let _ = MemoryHints::of_module(&flipped);
            flipped[i] ^= 0xff;
        }
        assert_eq!(MemoryHints::of_module(&bytes).last_data, Some(4000));
    }

    #[test]
    fn prefetching_any_address_is_harmless() {
        // Unmapped, kernel-half, near the top and null-adjacent addresses: a prefetch never
        // faults, so none of these may crash the test.
        let mut hot = HotAddresses::NONE;
        hot.add(8, 1);
        hot.add(usize::MAX - 10, 2);
        hot.add(0xffff_8000_0000_0000, 1);
        hot.prefetch();
        prefetch_lines(usize::MAX - 100, 4);
        HotAddresses::NONE.prefetch();
    }
}
