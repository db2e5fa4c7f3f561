//! Safe access to a mod's linear memory from host functions.
//!
//! Every pointer a mod passes is checked against its memory; a range outside it, or text that is
//! not UTF-8, traps the mod with a message naming the function. Nothing a mod passes reaches
//! host memory unchecked.

use crate::error::HostTrap;
use crate::error::TrapKind;
use crate::state::InstanceState;
use wasgo_catalog::export;
use wasmtime::{Caller, Extern, Memory};

/// The mod's exported `memory`, or a trap naming `function`.
///
/// Inlined: every host call that reads the mod's memory asks for it, and returned through the
/// stack the `Memory` was read back across two stores, a store-forwarding stall measured at
/// about 7 ns of a 63 ns `set_vec2` (BENCHMARKS.md, "Sixth pass").
#[inline]
pub(crate) fn memory(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
) -> wasmtime::Result<Memory> {
    match caller.data().memory {
        Some(memory) => Ok(memory),
        None => exported_memory(caller, function),
    }
}

/// [`memory`] before the instance has recorded its memory: the export by name.
#[cold]
#[inline(never)]
fn exported_memory(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
) -> wasmtime::Result<Memory> {
    match caller.get_export(export::MEMORY) {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(HostTrap::new(
            TrapKind::HostCall,
            format!("`{function}` needs the mod to export its linear memory as `memory`, and it does not"),
        )
        .into_error()),
    }
}

#[cold]
#[inline(never)]
pub(crate) fn out_of_range(function: &str, ptr: i32, len: i32, size: usize) -> wasmtime::Error {
    HostTrap::new(
        TrapKind::HostCall,
        format!(
            "`{function}` was given the memory range {}..{} (+{} bytes), which is outside the mod's memory of {size} bytes",
            ptr as u32,
            ptr as u32 as u64 + len as u32 as u64,
            len as u32
        ),
    )
    .into_error()
}

/// The checked byte range `ptr..ptr+len` (both read as unsigned 32-bit).
#[inline]
fn range(
    function: &str,
    ptr: i32,
    len: i32,
    size: usize,
) -> wasmtime::Result<std::ops::Range<usize>> {
    let start = ptr as u32 as usize;
    let end = start + len as u32 as usize;
    if end > size {
        return Err(out_of_range(function, ptr, len, size));
    }
    Ok(start..end)
}

/// Copies `len` bytes at `ptr` out of the mod's memory.
pub(crate) fn read_bytes(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Vec<u8>> {
    let memory = memory(caller, function)?;
    let data = memory.data(&*caller);
    let r = range(function, ptr, len, data.len())?;
    Ok(data[r].to_vec())
}

/// Borrows bytes at `ptr` in place (no copy), for calls that do not touch the store.
#[inline]
pub(crate) fn bytes_in<'a>(
    memory: &Memory,
    store: &'a impl wasmtime::AsContext<Data = InstanceState>,
    function: &str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<&'a [u8]> {
    let data = memory.data(store);
    let r = range(function, ptr, len, data.len())?;
    Ok(&data[r])
}

/// Reads UTF-8 text at `ptr`.
pub(crate) fn read_str(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<String> {
    let bytes = read_bytes(caller, function, ptr, len)?;
    String::from_utf8(bytes).map_err(|e| {
        HostTrap::new(
            TrapKind::HostCall,
            format!("`{function}` was given text that is not valid UTF-8 (at byte {} of the range at {})", e.utf8_error().valid_up_to(), ptr as u32),
        )
        .into_error()
    })
}

/// The caller-buffer convention: writes `bytes` to `out_ptr` when they fit in `out_cap` and
/// returns their full length either way (a mod that gets more than it offered retries with
/// more room). A buffer outside the mod's memory traps.
pub(crate) fn write_out(
    caller: &mut Caller<'_, InstanceState>,
    function: &str,
    out_ptr: i32,
    out_cap: i32,
    bytes: &[u8],
) -> wasmtime::Result<i32> {
    let len = i32::try_from(bytes.len()).map_err(|_| {
        HostTrap::new(
            TrapKind::HostCall,
            format!("`{function}` has a result over 2 GiB, more than a mod can receive"),
        )
        .into_error()
    })?;
    if out_cap < 0 {
        return Err(HostTrap::new(
            TrapKind::HostCall,
            format!("`{function}` was given a negative buffer capacity ({out_cap})"),
        )
        .into_error());
    }
    if bytes.len() > out_cap as usize {
        return Ok(len);
    }
    let memory = memory(caller, function)?;
    let data = memory.data_mut(&mut *caller);
    let r = range(function, out_ptr, len, data.len())?;
    data[r].copy_from_slice(bytes);
    Ok(len)
}

/// Writes raw bytes at `ptr` (used by the host's own argument passing, not the buffer convention).
pub(crate) fn write_bytes(
    memory: &Memory,
    store: impl wasmtime::AsContextMut,
    function: &str,
    ptr: i32,
    bytes: &[u8],
) -> wasmtime::Result<()> {
    let mut store = store;
    let data = memory.data_mut(&mut store);
    let r = range(function, ptr, bytes.len() as i32, data.len())?;
    data[r].copy_from_slice(bytes);
    Ok(())
}

/// Writes `bytes` to `ptr`, a buffer the mod's own `malloc` answered for what the host passes
/// to `function` (`what`: "an argument", "its state", ...). 0 (no memory) and a buffer that is
/// not inside the memory trap, naming `malloc`: the fault is the allocator's, not `function`'s.
pub(crate) fn write_malloced(
    memory: &Memory,
    store: impl wasmtime::AsContextMut,
    function: &str,
    what: &str,
    ptr: i32,
    bytes: &[u8],
) -> wasmtime::Result<()> {
    let mut store = store;
    let size = bytes.len();
    if ptr == 0 {
        return Err(HostTrap::new(
            TrapKind::HostCall,
            format!("the mod's `malloc` could not give `{function}` {size} bytes for {what} (it answered 0)"),
        )
        .into_error());
    }
    let memory_size = memory.data_size(&store);
    write_bytes(memory, &mut store, function, ptr, bytes).map_err(|_| {
        HostTrap::new(
            TrapKind::HostCall,
            format!(
                "the mod's `malloc` answered {} for {size} bytes of {what} of `{function}`, which is not inside its memory ({memory_size} bytes): its `malloc` is broken",
                ptr as u32
            ),
        )
        .into_error()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_as_unsigned() {
        assert_eq!(range("f", 0, 4, 4).unwrap(), 0..4);
        assert!(range("f", 1, 4, 4).is_err());
        assert!(range("f", -1, 1, 1 << 16).is_err());
        assert!(range("f", 0, -1, 1 << 16).is_err());
        let msg = range("wasgo.log", 65530, 10, 65536)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("`wasgo.log`") && msg.contains("outside the mod's memory"),
            "{msg}"
        );
    }
}
