//! Calling into a mod: checking an export's arguments, resolving and calling exports, and
//! running `main` with C-style `argv` (the entry point's shape is the module's,
//! [`MainKind`], found once per module).

use crate::error::WasgoError;
use crate::module::{EntryShape, PlannedExport};
use crate::state::InstanceState;
use wasmtime::{Func, Instance, Store, TypedFunc, Val, ValType};

pub use crate::module::MainKind;

pub(crate) fn check_args(
    name: &str,
    export: &str,
    func: &Func,
    store: &Store<InstanceState>,
    args: &[Val],
) -> Result<usize, WasgoError> {
    let ty = func.ty(store);
    let params: Vec<ValType> = ty.params().collect();
    if params.len() != args.len() {
        return Err(WasgoError::BadArguments(format!(
            "`{name}`.`{export}` takes {} arguments, {} were given",
            params.len(),
            args.len()
        )));
    }
    for (i, (p, a)) in params.iter().zip(args).enumerate() {
        if !a.ty(store).map(|t| t.matches(p)).unwrap_or(false) {
            return Err(WasgoError::BadArguments(format!(
                "argument {} of `{name}`.`{export}` must be {p}",
                i + 1
            )));
        }
    }
    let n_results = ty.results().len();
    Ok(n_results)
}

/// Runs the entry point `kind`; returns its exit code (0 for `_start`).
pub(crate) fn call_main(
    store: &mut Store<InstanceState>,
    instance: &Instance,
    kind: MainKind,
) -> wasmtime::Result<i32> {
    match kind {
        MainKind::Start => {
            instance
                .get_typed_func::<(), ()>(&mut *store, "_start")?
                .call(&mut *store, ())?;
            Ok(0)
        }
        MainKind::MainNoArgs => instance
            .get_typed_func::<(), i32>(&mut *store, "main")?
            .call(&mut *store, ()),
        MainKind::GoJs => crate::gojs::run_main(store).map(|()| 0),
        MainKind::MainArgs => {
            let (argc, argv) = write_argv(store, instance)?;
            instance
                .get_typed_func::<(i32, i32), i32>(&mut *store, "main")?
                .call(&mut *store, (argc, argv))
        }
    }
}

/// Lays out C-style `argv` (program name first) in the mod's memory through its `malloc(size,
/// align)` export. Without `malloc`, `main` gets `(0, 0)`: the arguments stay reachable through
/// WASI `args_get`.
fn write_argv(
    store: &mut Store<InstanceState>,
    instance: &Instance,
) -> wasmtime::Result<(i32, i32)> {
    let Ok(malloc) = instance.get_typed_func::<(i32, i32), i32>(&mut *store, "malloc") else {
        return Ok((0, 0));
    };
    let Some(memory) = instance.get_memory(&mut *store, "memory") else {
        return Ok((0, 0));
    };
    let mut argv = vec![store.data().name.clone()];
    argv.extend(store.data().wasi_args.iter().cloned());
    let mut pointers = Vec::with_capacity(argv.len());
    for arg in &argv {
        let mut bytes = arg.as_bytes().to_vec();
        bytes.push(0);
        let ptr = malloc.call(&mut *store, (bytes.len() as i32, 1))?;
        crate::guest::write_malloced(&memory, &mut *store, "main", "an argument", ptr, &bytes)?;
        pointers.extend_from_slice(&ptr.to_le_bytes());
    }
    pointers.extend_from_slice(&0i32.to_le_bytes());
    let table = malloc.call(&mut *store, (pointers.len() as i32, 4))?;
    crate::guest::write_malloced(&memory, &mut *store, "main", "`argv`", table, &pointers)?;
    Ok((argv.len() as i32, table))
}

/// Results an entry keeps on the stack while it runs (more go to the heap).
pub(crate) const MAX_INLINE_RESULTS: usize = 4;

/// One exported function of an instance, resolved once per instance; its name and signature
/// are the module's ([`PlannedExport`], same index).
pub(crate) struct ResolvedExport {
    pub func: Func,
    /// A typed handle for the signatures the frame and call paths use most.
    pub typed: TypedEntry,
}

/// A typed handle on an export: its call skips wasmtime's per-call check of the arguments
/// against the function's registered type (a type load, compare and drop each time) and needs
/// no result buffer.
pub(crate) enum TypedEntry {
    /// `() -> ()`: an empty `call_export`, `ready`, callbacks without arguments.
    Unit(TypedFunc<(), ()>),
    /// `(f64) -> ()`: `process(delta)`, `physics_process(delta)`.
    F64(TypedFunc<f64, ()>),
    /// Any other signature: called through [`Func::call`].
    Untyped,
}

impl TypedEntry {
    /// The handle for `func`, whose signature has `shape`. `typed` is asked only for a
    /// signature it accepts: a refusal builds an error with a captured backtrace, which made a
    /// third of an instantiation of a mod with a few other exports.
    fn of(store: &Store<InstanceState>, func: &Func, shape: EntryShape) -> TypedEntry {
        match shape {
            EntryShape::Unit => func
                .typed::<(), ()>(store)
                .map_or(TypedEntry::Untyped, TypedEntry::Unit),
            EntryShape::F64 => func
                .typed::<f64, ()>(store)
                .map_or(TypedEntry::Untyped, TypedEntry::F64),
            EntryShape::Other => TypedEntry::Untyped,
        }
    }
}

/// The instance's exported functions, in the order of the module's `plan`, each resolved at
/// its first call ([`resolve_export`]) and kept: a start resolves none (a mod with a dozen
/// exports paid a dozen lookups and typed handles per instance, most never called), an entry
/// after the first finds its `Func` without a name lookup in the instance or a type query.
pub(crate) type ResolvedExports = Box<[Option<ResolvedExport>]>;

/// A table of `plan`'s exports with none resolved yet.
pub(crate) fn unresolved_exports(plan: &[PlannedExport]) -> ResolvedExports {
    plan.iter().map(|_| None).collect()
}

/// The export `planned` of `instance`, resolved now.
///
/// # Errors
/// The export's name, when the instance does not have it (it was made from another module: a
/// bug).
pub(crate) fn resolve_export(
    store: &mut Store<InstanceState>,
    instance: &Instance,
    planned: &PlannedExport,
) -> Result<ResolvedExport, String> {
    let func = instance
        .get_module_export(&mut *store, &planned.index)
        .and_then(wasmtime::Extern::into_func)
        .ok_or_else(|| planned.name.to_string())?;
    let typed = TypedEntry::of(store, &func, planned.shape);
    Ok(ResolvedExport { func, typed })
}

/// Calls `export` with `args` into `results`: through its typed handle when `args` fit it,
/// else through [`Func::call`] (which checks the types).
pub(crate) fn call_resolved(
    store: &mut Store<InstanceState>,
    export: &ResolvedExport,
    args: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    match (&export.typed, args) {
        (TypedEntry::Unit(f), []) if results.is_empty() => f.call(store, ()),
        (TypedEntry::F64(f), [Val::F64(bits)]) if results.is_empty() => {
            f.call(store, f64::from_bits(*bits))
        }
        _ => export.func.call(store, args, results),
    }
}

/// Whether `args` are numbers of exactly the types `params` names.
pub(crate) fn numbers_match(params: &[wasgo_catalog::Abi], args: &[Val]) -> bool {
    use wasgo_catalog::Abi;
    params.len() == args.len()
        && params.iter().zip(args).all(|(p, a)| {
            matches!(
                (p, a),
                (Abi::I32, Val::I32(_))
                    | (Abi::I64, Val::I64(_))
                    | (Abi::F32, Val::F32(_))
                    | (Abi::F64, Val::F64(_))
            )
        })
}
