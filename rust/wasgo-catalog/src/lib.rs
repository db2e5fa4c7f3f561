//! # wasgo-catalog — the mod ABI as data
//!
//! Every `wasgo` host function with its safety level, signature, parameter kinds and
//! documentation; the error codes they return; the exports the host calls; Godot's Variant type
//! tags; and the safety levels themselves. It has no dependencies (and needs only `alloc`, so the
//! guest-side Variant codec can use it too) so that everything generated from it — the host
//! interface in `wasgo-core`, the error stubs, the ABI reference and every guest binding (`cargo
//! xtask bindings`) — reads the same table.

#![no_std]
extern crate alloc;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod abi;
pub mod catalog;
pub mod level;
pub mod variant;

pub use abi::{
    export, AbiVersion, ErrorCode, ExportThread, GuestExport, ABI_VERSION, CONFIG_BUDGET_MS,
    GUEST_EXPORTS, MANIFEST_SECTION, MAX_CARRIED_STATE, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES,
};
pub use catalog::*;
pub use level::{LevelRequest, SafetyLevel};
pub use variant::{find_variant_type, variant_type, VariantType, VARIANT_TYPES};
