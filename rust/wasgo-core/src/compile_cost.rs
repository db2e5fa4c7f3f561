//! What compiling a module's functions may take in memory, checked before the compiler sees them.
//!
//! Cranelift turns a function's WebAssembly locals into SSA values block by block; when a local
//! is read, the value found is recorded in every block on the way back to its definition, in a
//! table per local as long as the function's block count. Memory and time grow with
//! **locals × blocks**: a 233 KB module of one function (20,000 locals read after 50,000 empty
//! `block`s) took 3.9 GB and 6 s to compile, and a 1.2 MB one would take about 60 GB, well inside
//! the module size limit and the validator's own limits (50,000 locals, 7.6 MB per function). A
//! hostile mod could bring down the game, or the editor importing it, before any of its code
//! ran; the compile timeout does not help, as the compiler thread cannot be stopped.
//!
//! Values left on the operand stack across branches cost the same way, in time: 400,000 values
//! carried across 400,000 `if`s (4.4 MB) took 42 s and 1 GB to compile.
//!
//! [`check`] validates and walks the code section (linear in its size, well under the
//! compile's own cost) and refuses a function whose locals read (`local.get`, `local.tee`; a
//! local never read costs nothing) times the blocks its operators make in the compiler
//! (`block`, `loop` and `if`, conditional and table branches, indirect calls), plus the
//! operand-stack values standing where each block is made, is over
//! [`MAX_LOCALS_TIMES_BLOCKS`], or a module whose [`PARALLEL`] largest such measures add up
//! to more than [`MAX_MODULE_LOCALS_TIMES_BLOCKS`] (functions compile in parallel, one per
//! core). The measure is the worst case, not what every such function takes; compilers do not
//! emit functions near it: the largest in WasGo's own test and demo mods (Rust, C, Zig,
//! AssemblyScript, Go programs of 2.7 MB) is 36,471, under 1/1,800 of the limit.
//!
//! The compiler also keeps about 5.5 KB per function until the module is done, however small
//! the function: a 4 MB module of a million empty functions (three bytes each) took 5.5 GB and
//! 20 s, where real code takes about 30 bytes per byte of module (a 2.3 MB Go program: 72 MB).
//! So a module may define at most [`function_limit`] functions: one per 640 bytes of the module
//! size limit (`wasgo/limits/module_mb`; 104,857 at the default 64 MiB, about 600 MB of
//! compiler memory at worst), and at least 1,024. Mods have a few thousand.

use std::fmt;

/// The most locals × block-starting operators one function may have: about 256 MiB of the
/// compiler's tables at four bytes an entry, at worst.
pub const MAX_LOCALS_TIMES_BLOCKS: u64 = 1 << 26;

/// The most for a module's [`PARALLEL`] largest functions together: what that many compile
/// threads, each on one of them, could hold at once (about 1 GiB at worst).
pub const MAX_MODULE_LOCALS_TIMES_BLOCKS: u64 = 1 << 28;

/// How many functions [`MAX_MODULE_LOCALS_TIMES_BLOCKS`] counts: a fixed number, so that a
/// module is accepted or refused the same on every machine.
pub const PARALLEL: usize = 8;

/// Bytes of module size limit per function a module may define (see [`function_limit`]).
const MODULE_BYTES_PER_FUNCTION: u64 = 640;

/// What the compiler keeps per function however small (measured: a million empty functions,
/// 5.5 GB).
const COMPILER_BYTES_PER_FUNCTION: u64 = 5632;

/// The most functions a module may define when modules may be `max_module_bytes` long.
pub fn function_limit(max_module_bytes: usize) -> u64 {
    (max_module_bytes as u64 / MODULE_BYTES_PER_FUNCTION).max(1024)
}

/// One function's measure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FunctionCost {
    /// The function's index in the module (imported functions first, as in the name section).
    pub index: u32,
    /// Its parameters and declared locals that it reads.
    pub locals: u64,
    /// The blocks its operators make in the compiler.
    pub blocks: u64,
    /// The values on its operand stack where each block is made, added up: values the compiler
    /// carries across blocks, like locals.
    pub stacked: u64,
}

impl FunctionCost {
    /// Locals × blocks, plus the values carried on the operand stack across blocks: the
    /// measure the limits apply to.
    pub fn product(&self) -> u64 {
        self.locals
            .saturating_mul(self.blocks)
            .saturating_add(self.stacked)
    }
}

/// What a module costs to compile, by [`measure`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModuleCost {
    /// The function with the largest product.
    pub largest: FunctionCost,
    /// The [`PARALLEL`] largest products added up.
    pub total: u64,
}

/// Why a module is refused before compiling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TooCostly {
    /// One function is over [`MAX_LOCALS_TIMES_BLOCKS`].
    Function(FunctionCost),
    /// The whole module is over [`MAX_MODULE_LOCALS_TIMES_BLOCKS`].
    Module(ModuleCost),
    /// The module defines more than [`function_limit`] functions.
    Functions { count: u64, limit: u64 },
    /// The module has more than [`MAX_MEMORIES`] memories (its own and imported).
    Memories { count: u64 },
    /// The module has more than [`MAX_IMPORTS`] imports or [`MAX_EXPORTS`] exports.
    Entries { imports: u64, exports: u64 },
    /// The module's own tables are more than [`MAX_TABLES`], or start with more than
    /// [`MAX_TABLE_ENTRIES`](crate::limits::MAX_TABLE_ENTRIES) entries together.
    Tables { count: u64, entries: u64 },
}

/// The most memories a module may have: as many as an instance may define
/// ([`GrowthTally::MAX_MEMORIES`](crate::limits::GrowthTally::MAX_MEMORIES); a module with more
/// compiled, and was refused at every start). Each may get a memory image of up to
/// [`MAX_SPARSE_IMAGE_BYTES`] from a few bytes of data, kept with the compiled code and in the
/// disk cache (multi-memory lets a module have thousands); compilers make one.
pub const MAX_MEMORIES: u64 = crate::limits::GrowthTally::MAX_MEMORIES as u64;
/// The most imports a module may have: each is linked (a stub at least) at every instance and
/// listed in the editor; compilers make hundreds (a million, ten bytes each, fit in the file
/// size limit).
pub const MAX_IMPORTS: u64 = 100_000;
/// The most exports a module may have (one function may be exported under a million names).
pub const MAX_EXPORTS: u64 = 100_000;

/// The most tables a module may define: as many as an instance may
/// ([`GrowthTally::MAX_TABLES`](crate::limits::GrowthTally::MAX_TABLES)).
pub const MAX_TABLES: u64 = crate::limits::GrowthTally::MAX_TABLES as u64;

/// The largest range a memory's data may span, however little of it the data fills, and still
/// get a memory image (`wasmtime::Config::memory_guaranteed_dense_image_size`, set by the
/// runtime's engine).
pub const MAX_SPARSE_IMAGE_BYTES: u64 = 1 << 20;

impl fmt::Display for TooCostly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TooCostly::Function(c) => {
                let carried = if c.stacked > 0 {
                    format!(
                        ", and carries {} operand-stack values across them",
                        c.stacked
                    )
                } else {
                    String::new()
                };
                write!(
                    f,
                    "function #{} has {} locals and {} blocks{carried}: compiling it could \
                     take {} MiB of memory or more, over WasGo's limit of {} MiB for one \
                     function (locals × blocks at most {}); a compiler does not make such \
                     functions: rebuild the mod with optimizations on, or split the function",
                    c.index,
                    c.locals,
                    c.blocks,
                    mib(c.product()),
                    mib(MAX_LOCALS_TIMES_BLOCKS),
                    MAX_LOCALS_TIMES_BLOCKS
                )
            }
            TooCostly::Module(m) => write!(
                f,
                "its {} largest functions' locals × blocks add up to {} (function #{} alone {}): \
                 compiling them at once could take {} MiB of memory or more, over WasGo's limit \
                 of {} MiB for one module; rebuild the mod with optimizations on, or split it \
                 into smaller mods",
                PARALLEL,
                m.total,
                m.largest.index,
                m.largest.product(),
                mib(m.total),
                mib(MAX_MODULE_LOCALS_TIMES_BLOCKS)
            ),
            TooCostly::Memories { count } => write!(
                f,
                "it has {count} memories, over WasGo's limit of {MAX_MEMORIES} (each may take \
                 up to {} MiB compiled, whatever its data); compilers make one: rebuild the mod \
                 without multiple memories",
                MAX_SPARSE_IMAGE_BYTES >> 20
            ),
            TooCostly::Entries { imports, exports } => write!(
                f,
                "it has {imports} imports and {exports} exports, over WasGo's limit of \
                 {MAX_IMPORTS} of each (each is linked at every start and listed in the \
                 editor); compilers make a few hundred: rebuild the mod"
            ),
            TooCostly::Tables { count, entries } if *count > MAX_TABLES => write!(
                f,
                "it defines {count} tables, over WasGo's limit of {MAX_TABLES} for an instance \
                 (it could never be started); compilers make one: rebuild the mod"
            ),
            TooCostly::Tables { entries, .. } => write!(
                f,
                "its tables start with {entries} entries together, over WasGo's limit of {} for \
                 all of an instance's tables (it could never be started, and the compiler \
                 builds each table's initial contents ahead: 4 bytes an entry, from a few bytes \
                 of the file); compilers make one small table: rebuild the mod",
                crate::limits::MAX_TABLE_ENTRIES
            ),
            TooCostly::Functions { count, limit } => write!(
                f,
                "it defines {count} functions, over the limit of {limit} (the compiler keeps \
                 about 5.5 KB per function however small: {} MiB at worst here); mods have a \
                 few thousand: rebuild the mod with optimizations on, or raise the project \
                 setting `wasgo/limits/module_mb` (the limit is one function per \
                 {MODULE_BYTES_PER_FUNCTION} bytes of it)",
                count.saturating_mul(COMPILER_BYTES_PER_FUNCTION) >> 20
            ),
        }
    }
}

/// Four bytes per locals × blocks entry, in MiB.
fn mib(product: u64) -> u64 {
    product.saturating_mul(4) >> 20
}

/// Measures a binary module's functions (validating them as it goes: the operand stack's height
/// is the validator's). `None` when the bytes do not parse or validate as far as the code
/// section's end: the compiler then reports what is wrong, with its own message.
pub fn measure(binary: &[u8]) -> Option<ModuleCost> {
    use wasmparser::{Operator, ValidPayload, Validator, WasmFeatures};
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut allocations = wasmparser::FuncValidatorAllocations::default();
    let mut cost = ModuleCost::default();
    // The PARALLEL largest products, smallest first.
    let mut top: Vec<u64> = Vec::with_capacity(PARALLEL + 1);
    // Which locals the current function reads, by index (reused across functions).
    let mut read: Vec<bool> = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(binary) {
        let payload = payload.ok()?;
        let ValidPayload::Func(to_validate, body) = validator.payload(&payload).ok()? else {
            continue;
        };
        let index = to_validate.index;
        let mut func = to_validate.into_validator(std::mem::take(&mut allocations));
        let mut reader = body.get_binary_reader();
        func.read_locals(&mut reader).ok()?;
        // At most 50,000, parameters included: the validator refused more above.
        let declared = func.len_locals() as usize;
        read.clear();
        read.resize(declared, false);
        let mut function = FunctionCost {
            index,
            ..FunctionCost::default()
        };
        let mut ops = body.get_operators_reader().ok()?;
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset().ok()?;
            let blocks = match &op {
                Operator::LocalGet { local_index } | Operator::LocalTee { local_index } => {
                    if let Some(seen) = read.get_mut(*local_index as usize) {
                        if !*seen {
                            *seen = true;
                            function.locals += 1;
                        }
                    }
                    0
                }
                // An `if` makes its then, else and following blocks; a `loop` its header, body
                // and the interruption check's blocks; an `else` none more.
                Operator::If { .. } | Operator::Loop { .. } => 3,
                Operator::Block { .. }
                | Operator::TryTable { .. }
                | Operator::BrIf { .. }
                | Operator::BrOnNull { .. }
                | Operator::BrOnNonNull { .. }
                | Operator::BrOnCast { .. }
                | Operator::BrOnCastFail { .. }
                | Operator::CallIndirect { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::CallRef { .. }
                | Operator::ReturnCallRef { .. } => 1,
                Operator::BrTable { targets } => u64::from(targets.len()).saturating_add(1),
                _ => 0,
            };
            if blocks > 0 {
                function.blocks = function.blocks.saturating_add(blocks);
                let height = u64::from(func.operand_stack_height());
                function.stacked = function
                    .stacked
                    .saturating_add(height.saturating_mul(blocks));
            }
            func.op(offset, &op).ok()?;
        }
        allocations = func.into_allocations();
        if function.product() > cost.largest.product() {
            cost.largest = function;
        }
        let at = top.partition_point(|&p| p < function.product());
        top.insert(at, function.product());
        if top.len() > PARALLEL {
            top.remove(0);
        }
    }
    cost.total = top.iter().fold(0u64, |sum, &p| sum.saturating_add(p));
    Some(cost)
}

/// Refuses a binary module whose compile could take too much memory (see the module docs), when
/// modules may be `max_module_bytes` long. Bytes that do not parse pass: the compiler refuses
/// them with its own message.
///
/// # Errors
/// [`TooCostly`], naming the function.
pub fn check(binary: &[u8], max_module_bytes: usize) -> Result<(), TooCostly> {
    // The function section's count, before any body is read: a module of a million functions
    // is refused without walking them.
    let declared = declared(binary);
    if declared.memories > MAX_MEMORIES {
        return Err(TooCostly::Memories {
            count: declared.memories,
        });
    }
    if declared.imports > MAX_IMPORTS || declared.exports > MAX_EXPORTS {
        return Err(TooCostly::Entries {
            imports: declared.imports,
            exports: declared.exports,
        });
    }
    if declared.tables > MAX_TABLES
        || declared.table_entries > crate::limits::MAX_TABLE_ENTRIES as u64
    {
        return Err(TooCostly::Tables {
            count: declared.tables,
            entries: declared.table_entries,
        });
    }
    if let Some(count) = declared.functions {
        let limit = function_limit(max_module_bytes);
        if count > limit {
            return Err(TooCostly::Functions { count, limit });
        }
    }
    let Some(cost) = measure(binary) else {
        return Ok(());
    };
    if cost.largest.product() > MAX_LOCALS_TIMES_BLOCKS {
        return Err(TooCostly::Function(cost.largest));
    }
    if cost.total > MAX_MODULE_LOCALS_TIMES_BLOCKS {
        return Err(TooCostly::Module(cost));
    }
    Ok(())
}

/// What a module's sections declare before its code: its functions and memories.
#[derive(Default)]
struct Declared {
    /// The function section's count, if the bytes get that far.
    functions: Option<u64>,
    /// The memories it defines and imports (as far as the bytes parse).
    memories: u64,
    /// The initial sizes of the tables it defines, added (an instance's tables together may
    /// hold at most [`MAX_TABLE_ENTRIES`](crate::limits::MAX_TABLE_ENTRIES) entries, and
    /// wasmtime builds a table's initial contents at compile time, up to its initial size).
    table_entries: u64,
    /// The tables it defines.
    tables: u64,
    /// Its imports and exports, as the sections declare them.
    imports: u64,
    exports: u64,
}

/// Reads the counts of [`Declared`], stopping at the code section.
fn declared(binary: &[u8]) -> Declared {
    let mut declared = Declared::default();
    for payload in wasmparser::Parser::new(0).parse_all(binary) {
        let Ok(payload) = payload else {
            break;
        };
        match payload {
            wasmparser::Payload::ImportSection(reader) => {
                declared.imports = u64::from(reader.count());
                for import in reader.into_imports().flatten() {
                    if matches!(import.ty, wasmparser::TypeRef::Memory(_)) {
                        declared.memories += 1;
                    }
                }
            }
            wasmparser::Payload::MemorySection(reader) => {
                declared.memories += u64::from(reader.count());
            }
            wasmparser::Payload::TableSection(reader) => {
                declared.tables += u64::from(reader.count());
                for table in reader.into_iter().flatten() {
                    declared.table_entries =
                        declared.table_entries.saturating_add(table.ty.initial);
                }
            }
            wasmparser::Payload::FunctionSection(reader) => {
                declared.functions = Some(u64::from(reader.count()));
            }
            wasmparser::Payload::ExportSection(reader) => {
                declared.exports = u64::from(reader.count());
            }
            wasmparser::Payload::CodeSectionStart { .. } | wasmparser::Payload::End(_) => break,
            _ => {}
        }
    }
    declared
}

/// A module of one function with `locals` i32 locals, `blocks` empty `block`s and then a read of
/// every local: what [`check`] is for (its tests and the core's; the Godot suite builds the same
/// in GDScript).
pub fn bomb(locals: u32, blocks: u32) -> Vec<u8> {
    let leb = crate::wasm_sections::push_uleb32;
    let mut body = vec![1];
    leb(&mut body, locals);
    body.push(0x7f);
    for _ in 0..blocks {
        body.extend_from_slice(&[0x02, 0x40, 0x0b]);
    }
    for i in 0..locals {
        body.push(0x20);
        leb(&mut body, i);
        body.push(0x1a);
    }
    body.push(0x0b);
    let mut code = vec![1];
    leb(&mut code, body.len() as u32);
    code.extend_from_slice(&body);
    let mut module = vec![0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
    module.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
    module.extend_from_slice(&[3, 2, 1, 0]);
    module.push(10);
    leb(&mut module, code.len() as u32);
    module.extend_from_slice(&code);
    module
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default module size limit (64 MiB).
    const LIMIT: usize = 64 << 20;

    #[test]
    fn a_function_of_many_locals_read_after_many_blocks_is_refused_naming_it() {
        let module = bomb(20_000, 50_000);
        let err = check(&module, LIMIT).expect_err("refused");
        let TooCostly::Function(f) = &err else {
            panic!("{err:?}")
        };
        assert_eq!((f.index, f.locals, f.blocks), (0, 20_000, 50_000));
        let text = err.to_string();
        assert!(
            text.contains("function #0 has 20000 locals and 50000 blocks"),
            "{text}"
        );
        assert!(text.contains("split the function"), "{text}");
    }

    /// Each memory may get a memory image whatever its data: a module of a few KB with a
    /// hundred memories compiled to gigabytes.
    #[test]
    fn a_module_of_more_memories_than_an_instance_may_have_is_refused() {
        let memories = |n: usize, imported: &str| {
            wat::parse_str(format!("(module {imported} {})", "(memory 1) ".repeat(n))).unwrap()
        };
        assert_eq!(MAX_MEMORIES, 4);
        assert_eq!(check(&memories(4, ""), LIMIT), Ok(()));
        let err = check(&memories(5, ""), LIMIT).unwrap_err();
        assert_eq!(err, TooCostly::Memories { count: 5 });
        assert!(err.to_string().contains("it has 5 memories"), "{err}");
        assert_eq!(
            check(&memories(4, r#"(import "env" "m" (memory 1))"#), LIMIT),
            Err(TooCostly::Memories { count: 5 })
        );
    }

    /// wasmtime builds a table's initial contents at compile time: four bytes an entry.
    #[test]
    fn tables_starting_past_an_instances_entries_are_refused() {
        let tables = |sizes: &[u64]| {
            let own: String = sizes
                .iter()
                .map(|n| format!("(table {n} funcref) "))
                .collect();
            wat::parse_str(format!("(module {own})")).unwrap()
        };
        let max = crate::limits::MAX_TABLE_ENTRIES as u64;
        assert_eq!(check(&tables(&[max]), LIMIT), Ok(()));
        assert_eq!(check(&tables(&[max / 2, max / 2, 0, 0]), LIMIT), Ok(()));
        let err = check(&tables(&[max / 2, max / 2 + 1]), LIMIT).unwrap_err();
        assert_eq!(
            err,
            TooCostly::Tables {
                count: 2,
                entries: max + 1
            }
        );
        assert!(
            err.to_string().contains("1000001 entries together"),
            "{err}"
        );
        // Initial sizes up to 2^32 each do not wrap the count.
        assert!(check(&tables(&[u32::MAX as u64; 4]), LIMIT).is_err());
        // As many tables as an instance may define, and not one more.
        assert_eq!(check(&tables(&[1; 16]), LIMIT), Ok(()));
        let err = check(&tables(&[0; 17]), LIMIT).unwrap_err();
        assert!(err.to_string().contains("it defines 17 tables"), "{err}");
    }

    /// A module of a million exports of one function (ten bytes each) is refused by its
    /// section's count; as many as the limit pass.
    #[test]
    fn too_many_imports_or_exports_are_refused() {
        let exports = |n: u64| {
            let names: String = (0..n)
                .map(|i| format!("(export \"e{i}\" (func 0))"))
                .collect();
            wat::parse_str(format!("(module (func) {names})")).unwrap()
        };
        assert_eq!(check(&exports(MAX_EXPORTS), LIMIT), Ok(()));
        let err = check(&exports(MAX_EXPORTS + 1), LIMIT).unwrap_err();
        assert_eq!(
            err,
            TooCostly::Entries {
                imports: 0,
                exports: MAX_EXPORTS + 1
            }
        );
        assert!(err.to_string().contains("100001 exports"), "{err}");
        let imports = |n: u64| {
            let list: String = (0..n)
                .map(|i| format!("(import \"wasgo\" \"f{i}\" (func))"))
                .collect();
            wat::parse_str(format!("(module {list})")).unwrap()
        };
        assert!(check(&imports(MAX_IMPORTS + 1), LIMIT).is_err());
    }

    #[test]
    fn the_limit_is_inclusive_and_one_more_block_passes_it() {
        // 2^13 locals × 2^13 blocks is exactly the limit.
        assert_eq!(check(&bomb(1 << 13, 1 << 13), LIMIT), Ok(()));
        assert!(check(&bomb(1 << 13, (1 << 13) + 1), LIMIT).is_err());
    }

    #[test]
    fn bytes_that_do_not_parse_are_left_to_the_compiler() {
        assert_eq!(measure(b"not wasm"), None);
        assert_eq!(check(b"not wasm", LIMIT), Ok(()));
        let mut cut = bomb(10, 10);
        cut.truncate(cut.len() - 3);
        assert_eq!(check(&cut, LIMIT), Ok(()));
    }

    #[test]
    fn parameters_count_as_locals_and_branch_tables_count_their_targets() {
        let wat = r#"(module
            (import "wasgo" "log" (func (param i32 i32)))
            (func (param i32 i64) (local f32 f32 f32)
              (block (block (block
                (br_table 0 1 2 (i32.add (local.get 0) (local.get 0)))))))
            (func))"#;
        let cost = measure(&wat::parse_str(wat).unwrap()).expect("parses");
        // Function #1 (one import before it): 2 params + 3 locals, of which it reads 1, twice;
        // 3 blocks + a br_table of two targets and its default, made with its index on the
        // operand stack.
        assert_eq!(
            cost.largest,
            FunctionCost {
                index: 1,
                locals: 1,
                blocks: 6,
                stacked: 3
            }
        );
        assert_eq!(cost.largest.product(), 6 + 3);
        assert_eq!(cost.total, 9);
    }

    #[test]
    fn a_module_of_many_functions_each_under_the_limit_is_refused_when_they_add_up() {
        // Five functions at the limit (2^26 each) are over 2^28 together; four are not.
        let module = |functions: usize| {
            let mut wat = String::from("(module");
            for _ in 0..functions {
                wat.push_str(" (func (local");
                wat.push_str(&" i32".repeat(8192));
                wat.push(')');
                wat.push_str(&" (block)".repeat(8192));
                for i in 0..8192 {
                    wat.push_str(&format!(" (drop (local.get {i}))"));
                }
                wat.push(')');
            }
            wat.push(')');
            wat::parse_str(&wat).unwrap()
        };
        assert_eq!(check(&module(4), LIMIT), Ok(()));
        let err = check(&module(5), LIMIT).expect_err("refused");
        assert!(matches!(err, TooCostly::Module(_)), "{err:?}");
        assert!(
            err.to_string().contains("split it into smaller mods"),
            "{err}"
        );
    }

    /// Values left on the operand stack across many branches cost the compiler like locals (in
    /// time: 400,000 values across 400,000 `if`s, 4.4 MB, took 42 s and 1 GB to compile).
    #[test]
    fn values_carried_on_the_operand_stack_across_blocks_count_like_locals() {
        let module = |values: usize, ifs: usize| {
            let mut wat = String::from("(module (func (param i32)");
            wat.push_str(&" (local.get 0)".repeat(values));
            wat.push_str(&" (if (local.get 0) (then))".repeat(ifs));
            wat.push_str(&" (drop)".repeat(values));
            wat.push_str("))");
            wat::parse_str(&wat).unwrap()
        };
        let cost = measure(&module(100, 10)).expect("parses");
        assert_eq!(
            (cost.largest.blocks, cost.largest.stacked),
            (30, 3 * 10 * 101)
        );
        assert_eq!(check(&module(100, 10), LIMIT), Ok(()));
        let err = check(&module(8192, 4096), LIMIT).expect_err("refused");
        assert!(
            err.to_string()
                .contains("carries 100675584 operand-stack values across them"),
            "{err}"
        );
    }

    #[test]
    fn locals_declared_but_never_read_cost_nothing() {
        let mut wat = String::from("(module (func (local");
        wat.push_str(&" i32".repeat(40_000));
        wat.push(')');
        wat.push_str(&" (block)".repeat(40_000));
        wat.push_str(" (drop (local.get 39999))))");
        let cost = measure(&wat::parse_str(&wat).unwrap()).expect("parses");
        assert_eq!((cost.largest.locals, cost.largest.blocks), (1, 40_000));
        assert_eq!(check(&wat::parse_str(&wat).unwrap(), LIMIT), Ok(()));
    }

    #[test]
    fn a_module_of_more_functions_than_its_size_limit_allows_is_refused_before_its_bodies_are_read()
    {
        let module = |functions: u32| {
            let mut wat = String::from("(module");
            for _ in 0..functions {
                wat.push_str(" (func)");
            }
            wat.push(')');
            wat::parse_str(&wat).unwrap()
        };
        // A 4 MiB limit allows 6,553 functions; 64 MiB 104,857.
        assert_eq!(function_limit(4 << 20), 6553);
        assert_eq!(function_limit(LIMIT), 104_857);
        assert_eq!(function_limit(0), 1024);
        assert_eq!(check(&module(6553), 4 << 20), Ok(()));
        let err = check(&module(6554), 4 << 20).expect_err("refused");
        assert_eq!(
            err,
            TooCostly::Functions {
                count: 6554,
                limit: 6553
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("defines 6554 functions")
                && text.contains("wasgo/limits/module_mb")
                && text.contains("one function per 640 bytes of it"),
            "{text}"
        );
        assert_eq!(check(&module(6554), LIMIT), Ok(()));
        assert_eq!(declared(&module(10)).functions, Some(10));
    }

    /// The mods WasGo ships and tests with (Rust, C, Zig, AssemblyScript and Go builds)
    /// stay far under both limits.
    #[test]
    fn the_projects_own_mods_are_far_under_the_limits() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../godot_project");
        let mut seen = 0;
        for dir in ["tests/mods", "demo/mods"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "wasm") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let cost = measure(&bytes).expect("our mods parse");
                let functions = declared(&bytes).functions.unwrap_or(0);
                assert!(
                    cost.largest.product() * 16 <= MAX_LOCALS_TIMES_BLOCKS
                        && cost.total * 4 <= MAX_MODULE_LOCALS_TIMES_BLOCKS
                        && functions * 16 <= function_limit(LIMIT),
                    "{}: {cost:?}, {functions} functions",
                    path.display()
                );
                seen += 1;
            }
        }
        // The fixtures are built by `cargo xtask test` before `cargo test` runs; a bare
        // `cargo test` on a fresh clone has none to look at.
        if seen == 0 {
            eprintln!("no built mods under {}: nothing measured", root.display());
        }
    }
}
