//! # wasgo-catalog — the mod ABI as data
//!
//! Every `wasgo` host function with its safety level, signature and documentation, and the safety
//! levels themselves. It has no dependencies so that everything generated from it — the linker
//! in `wasgo-core`, the error stubs, the ABI reference and every guest binding (`cargo xtask
//! bindings`) — reads the same table.

pub mod abi;
pub mod catalog;
pub mod level;

pub use abi::{ErrorCode, ExportThread, GuestExport, GUEST_EXPORTS};
pub use catalog::*;
pub use level::SafetyLevel;
