//! Conversions between the catalog's ABI types and wasmtime's.

use wasgo_catalog::{Abi, Signature};

/// The ABI type of a wasmtime value type, if it has one.
pub fn abi_of(ty: &wasmtime::ValType) -> Option<Abi> {
    match ty {
        wasmtime::ValType::I32 => Some(Abi::I32),
        wasmtime::ValType::I64 => Some(Abi::I64),
        wasmtime::ValType::F32 => Some(Abi::F32),
        wasmtime::ValType::F64 => Some(Abi::F64),
        _ => None,
    }
}

/// The signature of a wasmtime function type; `None` if it uses reference or vector types.
pub fn signature_of(ty: &wasmtime::FuncType) -> Option<Signature> {
    Some(Signature {
        params: ty.params().map(|t| abi_of(&t)).collect::<Option<_>>()?,
        results: ty.results().map(|t| abi_of(&t)).collect::<Option<_>>()?,
    })
}
