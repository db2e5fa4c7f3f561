//! Conversions between the catalog's ABI types and wasmtime's, and the kinds of imports.

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

/// What an import or export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    Function,
    Memory,
    Table,
    Global,
    Tag,
}

impl ImportKind {
    /// The kind of a wasmtime extern type.
    pub fn of(ty: &wasmtime::ExternType) -> ImportKind {
        match ty {
            wasmtime::ExternType::Func(_) => ImportKind::Function,
            wasmtime::ExternType::Memory(_) => ImportKind::Memory,
            wasmtime::ExternType::Table(_) => ImportKind::Table,
            wasmtime::ExternType::Global(_) => ImportKind::Global,
            wasmtime::ExternType::Tag(_) => ImportKind::Tag,
        }
    }

    /// `function`, `memory`, `table`, `global` or `tag`, as `WasmModule.get_imports()` lists it.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Function => "function",
            ImportKind::Memory => "memory",
            ImportKind::Table => "table",
            ImportKind::Global => "global",
            ImportKind::Tag => "tag",
        }
    }
}

impl std::fmt::Display for ImportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
