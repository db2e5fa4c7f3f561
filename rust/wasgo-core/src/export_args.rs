//! Calling an export with strings and bytes, on [`ModInstance`]: the contract's "`malloc` and
//! `free` are used by `call_export` to pass strings and bytes".
//!
//! An argument of text or bytes ([`ExportArg::Bytes`]) takes two of the export's parameters,
//! `(ptr: i32, len: i32)`, as strings take in every `wasgo` import: the host allocates a buffer
//! with the mod's `malloc(size, align)` (align 1; at least one byte, so an empty text still has
//! a valid pointer), copies the bytes in, calls the export, and gives the buffer back with the
//! mod's `free(ptr, size, align)` when the mod exports one. The bytes are the mod's for the
//! length of the call: copy what you keep. The whole call — allocations, the export, the frees
//! — is one main-thread entry under the callback budget.

use crate::carry_state::{memory_of, violation};
use crate::error::WasgoError;
use crate::instance::ModInstance;
use crate::state::InstanceState;
use wasgo_catalog::export;
use wasgo_catalog::Abi;
use wasmtime::{Instance, Store, Val};

/// One argument of [`ModInstance::call_with_bytes`].
#[derive(Debug, Clone)]
pub enum ExportArg {
    /// A number, passed as one parameter of the export's type.
    Number(Val),
    /// Text (UTF-8) or bytes, passed as two `i32` parameters, a pointer and a length.
    Bytes(Vec<u8>),
}

/// The most bytes one call may pass to a mod this way (64 MiB, the default memory limit).
pub const MAX_PASSED_BYTES: usize = 64 << 20;

/// Checks `args` against the parameters `params` of export `name`: every number in its place,
/// every text or bytes argument on two `i32` parameters.
///
/// # Errors
/// What does not fit, naming the argument (numbered from 1) and the export.
pub fn check_args(name: &str, params: &[Abi], args: &[ExportArg]) -> Result<(), String> {
    let mut at = 0;
    for (i, arg) in args.iter().enumerate() {
        match arg {
            ExportArg::Number(_) => at += 1,
            ExportArg::Bytes(_) => {
                if params.get(at..at + 2) != Some(&[Abi::I32, Abi::I32][..]) {
                    return Err(format!(
                        "argument {} of `{name}` is text or bytes, which takes two `i32` parameters (a pointer and a length), and `{name}` has no such pair there",
                        i + 1
                    ));
                }
                at += 2;
            }
        }
    }
    if at != params.len() {
        return Err(format!(
            "`{name}` takes {} parameters and the {} arguments given fill {at} (a text or bytes argument fills two: a pointer and a length)",
            params.len(),
            args.len()
        ));
    }
    let total: usize = args
        .iter()
        .map(|a| match a {
            ExportArg::Bytes(b) => b.len(),
            ExportArg::Number(_) => 0,
        })
        .sum();
    if total > MAX_PASSED_BYTES {
        return Err(format!(
            "the text and bytes passed to `{name}` take {total} bytes, over the {} MiB one call may pass",
            MAX_PASSED_BYTES >> 20
        ));
    }
    Ok(())
}

/// The body of the call (see the module essay).
fn call_in(
    store: &mut Store<InstanceState>,
    instance: Instance,
    name: &str,
    args: Vec<ExportArg>,
) -> wasmtime::Result<Vec<Val>> {
    let func = instance
        .get_func(&mut *store, name)
        .ok_or_else(|| violation(format!("`{name}` is not an exported function")))?;
    let memory = memory_of(store, &instance, name)?;
    let malloc = instance
        .get_typed_func::<(i32, i32), i32>(&mut *store, export::MALLOC)
        .map_err(|_| {
            violation(format!(
                "passing text or bytes to `{name}` needs the mod to export `malloc(size, align) -> ptr`, and it does not (the Rust SDK's `allocator` feature exports it)"
            ))
        })?;
    let mut params = Vec::with_capacity(args.len() * 2);
    let mut buffers = Vec::new();
    for arg in args {
        match arg {
            ExportArg::Number(v) => params.push(v),
            ExportArg::Bytes(bytes) => {
                let size = bytes.len().max(1);
                let ptr = malloc.call(&mut *store, (size as i32, 1))?;
                crate::guest::write_malloced(
                    &memory,
                    &mut *store,
                    name,
                    "an argument",
                    ptr,
                    &bytes,
                )?;
                buffers.push((ptr, size));
                params.push(Val::I32(ptr));
                params.push(Val::I32(bytes.len() as i32));
            }
        }
    }
    let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
    func.call(&mut *store, &params, &mut results)?;
    if let Ok(free) = instance.get_typed_func::<(i32, i32, i32), ()>(&mut *store, export::FREE) {
        for (ptr, size) in buffers {
            free.call(&mut *store, (ptr, size as i32, 1))?;
        }
    }
    Ok(results)
}

impl ModInstance {
    /// Calls export `name` with numbers and text or bytes (see the module essay), on the
    /// calling (main) thread under the callback budget.
    ///
    /// # Errors
    /// [`WasgoError::BadArguments`] when `args` do not fit the export's parameters
    /// ([`check_args`]) or the mod has no `malloc`; the errors of [`ModInstance::call`] ([`WasgoError::Busy`] while `main`
    /// runs); a mod without `malloc`, or a `malloc` answering 0 or outside memory, traps the
    /// instance ([`WasgoError::Trap`]).
    pub fn call_with_bytes(
        &self,
        name: &str,
        args: Vec<ExportArg>,
    ) -> Result<Vec<Val>, WasgoError> {
        let Some(sig) = self.export_signature(name) else {
            return Err(WasgoError::BadArguments(self.no_signature_message(name)));
        };
        check_args(name, &sig.params, &args).map_err(WasgoError::BadArguments)?;
        if !self.has_export(export::MALLOC) {
            return Err(WasgoError::BadArguments(format!(
                "passing text or bytes to `{name}` needs the mod to export `malloc(size, align) -> ptr`, and `{}` does not (the Rust SDK's `allocator` feature exports it)",
                self.name()
            )));
        }
        let owned = name.to_string();
        self.enter(name, move |store, instance| {
            call_in(store, instance, &owned, args)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_takes_a_pointer_and_a_length_and_numbers_one_parameter_each() {
        let bytes = || ExportArg::Bytes(b"hi".to_vec());
        let number = || ExportArg::Number(Val::I32(1));
        let greet = [Abi::I32, Abi::I32, Abi::F64];
        assert_eq!(
            check_args("greet", &greet, &[bytes(), ExportArg::Number(Val::F64(0))]),
            Ok(())
        );
        let e =
            check_args("greet", &greet, &[ExportArg::Number(Val::F64(0)), bytes()]).unwrap_err();
        assert!(e.contains("argument 2 of `greet` is text or bytes"), "{e}");
        let e = check_args("greet", &greet, &[bytes()]).unwrap_err();
        assert!(
            e.contains("takes 3 parameters") && e.contains("fill 2"),
            "{e}"
        );
        assert_eq!(check_args("two", &[Abi::I32, Abi::I32], &[bytes()]), Ok(()));
        assert!(check_args("two", &[Abi::I32, Abi::I32], &[number(), number()]).is_ok());
    }

    #[test]
    fn more_bytes_than_one_call_may_pass_are_refused() {
        let big = ExportArg::Bytes(vec![0; MAX_PASSED_BYTES + 1]);
        let e = check_args("eat", &[Abi::I32, Abi::I32], &[big]).unwrap_err();
        assert!(e.contains("64 MiB"), "{e}");
    }
}
