//! wasmtime modules in and out of authenticated artifacts ([`artifact`](crate::artifact)): the
//! one place WasGo turns bytes into native code without compiling them.
//!
//! # The compatibility hash
//!
//! An artifact records what made it, and only an engine of the same kind loads it:
//! [`EngineFacts::compatibility_hash`] is SHA-256 over the artifact format version, the wasmtime
//! version WasGo is built with ([`WASMTIME_VERSION`], pinned in the workspace `Cargo.toml`), the
//! platform (CPU architecture, OS, pointer width), the execution mode (native code, or wasmtime's
//! Pulley interpreter) and the engine settings that change the code (`debug_info` and the memory
//! layout, see [`memory_layout`](crate::memory_layout); epoch
//! interruption and the optimisation level are fixed by WasGo and covered by the format version).
//! It does not depend on whether the build has Cranelift: a library built without it (see the
//! `compiler` feature) loads what a library with it precompiled. wasmtime's
//! `Engine::precompile_compatibility_hash` cannot serve here, as it exists only with a compiler;
//! wasmtime's own check in `Module::deserialize` (its version, the target, every compiler flag
//! and the CPU features the code needs, against this engine and this CPU) still runs after ours.
//!
//! # Why `deserialize` is sound here
//!
//! `Module::deserialize` trusts its bytes to be wasmtime's own output: given anything else, the
//! native code may do anything. [`load`] calls it only on the payload of a frame whose HMAC was
//! verified under the caller's key: bytes made by [`seal_module`] of this crate, holding
//! `Module::serialize` output, unchanged since. Whoever holds the key is trusted to the same
//! degree as the game's own code (the game's key) or the WasGo install (the cache key).

use crate::artifact::{self, ArtifactError, ArtifactKey, Digest32};
use sha2::{Digest, Sha256};

/// The wasmtime version the workspace pins (`=48.0.8` in `Cargo.toml`; a test keeps them equal).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// What about an engine decides whether it can run an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineFacts {
    /// Whether the engine runs wasmtime's Pulley interpreter instead of native code.
    pub pulley: bool,
    /// `wasgo/runtime/debug_info`.
    pub debug_info: bool,
    /// `wasgo/runtime/memory_reservation_mb`: compiled code checks bounds or relies on guard
    /// pages accordingly, and wasmtime refuses code made for another layout.
    pub memory_layout: crate::memory_layout::MemoryLayout,
    /// What each memory reserves when an instance pool changes it (the compact layout under
    /// `wasgo/runtime/instance_pool_size`; see
    /// [`InstancePool::compact_slot_bytes`](crate::instance_pool::InstancePool::compact_slot_bytes)).
    pub compact_slot_bytes: Option<usize>,
}

impl EngineFacts {
    /// The compatibility hash (see the module essay).
    pub fn compatibility_hash(&self) -> Digest32 {
        let mut h = Sha256::new();
        h.update(b"wasgo-artifact\0");
        h.update(artifact::FORMAT_VERSION.to_le_bytes());
        for part in [
            WASMTIME_VERSION,
            std::env::consts::ARCH,
            std::env::consts::OS,
            if cfg!(target_pointer_width = "64") {
                "64"
            } else {
                "32"
            },
            if self.pulley { "pulley" } else { "native" },
            if self.debug_info {
                "debug_info"
            } else {
                "no_debug_info"
            },
        ] {
            h.update((part.len() as u32).to_le_bytes());
            h.update(part.as_bytes());
        }
        // wasmtime's own layout adds nothing, so artifacts made before the setting existed
        // still load.
        if self.memory_layout != crate::memory_layout::MemoryLayout::GuardPages {
            let layout = self.memory_layout.describe();
            h.update((layout.len() as u32).to_le_bytes());
            h.update(layout.as_bytes());
        }
        if let Some(bytes) = self.compact_slot_bytes {
            h.update(b"pool-slot\0");
            h.update((bytes as u64).to_le_bytes());
        }
        h.finalize().into()
    }
}

/// Why an artifact did not become a module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The frame was refused.
    #[error("{0}")]
    Frame(#[from] ArtifactError),
    /// Authentic and compatible, but wasmtime refused the payload (e.g. this CPU lacks a feature
    /// the code was compiled for).
    #[error("the engine refused the artifact: {0}; precompile the module again on (or for) this machine")]
    Engine(String),
}

/// Serializes `module` (compiled from WebAssembly with SHA-256 `source_sha256`) into an artifact
/// under `key`, with `manifest`: the module's `wasgo.manifest` sections as
/// [`manifest_sections`](crate::manifest::manifest_sections) gives them (empty for none).
///
/// The payload is the manifest's length (4 bytes, little-endian), the manifest, then wasmtime's
/// serialized module.
///
/// # Errors
/// wasmtime's serialization failure, as text; a manifest over 4 GiB.
#[cfg(feature = "compiler")]
pub fn seal_module(
    module: &wasmtime::Module,
    facts: EngineFacts,
    key: &ArtifactKey,
    source_sha256: &Digest32,
    manifest: &[u8],
) -> Result<Vec<u8>, String> {
    let serialized = module.serialize().map_err(|e| format!("{e:#}"))?;
    let manifest_len =
        u32::try_from(manifest.len()).map_err(|_| "the manifest is over 4 GiB".to_string())?;
    let mut payload = Vec::with_capacity(4 + manifest.len() + serialized.len());
    payload.extend_from_slice(&manifest_len.to_le_bytes());
    payload.extend_from_slice(manifest);
    payload.extend_from_slice(&serialized);
    Ok(artifact::seal(
        key,
        &facts.compatibility_hash(),
        source_sha256,
        &payload,
    ))
}

/// What an artifact holds.
pub struct Loaded {
    pub module: wasmtime::Module,
    /// The SHA-256 of the WebAssembly it was compiled from.
    pub source_sha256: Digest32,
    /// The module's `wasgo.manifest` sections as a module of their own (see [`seal_module`]).
    pub manifest: Vec<u8>,
}

/// The module an authenticated, compatible artifact holds, with the SHA-256 of its source and
/// its manifest sections.
///
/// # Errors
/// [`LoadError::Frame`] when the frame is refused (not an artifact, another version, truncated,
/// not authenticated, another engine), [`LoadError::Engine`] when wasmtime refuses the payload
/// (or its manifest length runs past it, which only a holder of the key could have made).
pub fn load(
    engine: &wasmtime::Engine,
    facts: EngineFacts,
    key: &ArtifactKey,
    bytes: &[u8],
) -> Result<Loaded, LoadError> {
    let opened = artifact::open(key, &facts.compatibility_hash(), bytes)?;
    let payload = opened.payload;
    let manifest_end = payload
        .get(..4)
        .map(|len| u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize)
        .and_then(|len| len.checked_add(4))
        .filter(|&end| end <= payload.len())
        .ok_or_else(|| LoadError::Engine("its manifest runs past its end".into()))?;
    let manifest = payload[4..manifest_end].to_vec();
    let serialized = &payload[manifest_end..];
    // SAFETY: `Module::deserialize` requires bytes produced by wasmtime's `Module::serialize`
    // (or `Engine::precompile_module`), unaltered. `artifact::open` returned this payload only
    // after verifying its HMAC-SHA256, in constant time, under `key`: the frame was made by
    // `seal_module` (which puts `Module::serialize` output after the manifest) by a holder of
    // `key`, and not one byte of it changed since; `serialized` is what follows the manifest,
    // the length of which is part of the authenticated bytes. Holders of the key are the game
    // (its own exported artifacts) or this WasGo install (its disk cache); mods never hold it.
    // wasmtime still checks the payload's version, target, flags and CPU features against this
    // engine.
    let module = unsafe { wasmtime::Module::deserialize(engine, serialized) }
        .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
    Ok(Loaded {
        module,
        source_sha256: opened.source_sha256,
        manifest,
    })
}

/// What bytes that are not WebAssembly are, when they are a precompiled form of it: a WasGo
/// artifact, or a bare wasmtime `.cwasm`. `None` for anything else.
pub fn describe_precompiled(bytes: &[u8]) -> Option<&'static str> {
    if artifact::is_artifact(bytes) {
        return Some(
            "a precompiled artifact (native code), not a WebAssembly module; load it with \
             `WasmEngine.load_precompiled`, never as a mod",
        );
    }
    wasmtime::Engine::detect_precompiled(bytes).map(|_| {
        "a bare wasmtime precompiled module (native code), not a WebAssembly module; WasGo never \
         loads those: ship the `.wasm`, or an artifact made with `WasmEngine.precompile`"
    })
}

/// The artifact WasGo looks for beside a `.wasm` file: `res://dir/x.wasm` → `res://dir/x.cwasm`.
/// Only inside `res://` (the game's own files): a `.wasm` anywhere else (a mod in `user://`)
/// never has one, since whoever can write beside it is not the game. Case of `.wasm` ignored.
pub fn artifact_beside(path: &str) -> Option<String> {
    if !path.starts_with("res://") {
        return None;
    }
    crate::discovery::wasm_stem(path).map(|stem| format!("{stem}.cwasm"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_game_files_have_an_artifact_beside_them() {
        assert_eq!(
            artifact_beside("res://mods/a.wasm").as_deref(),
            Some("res://mods/a.cwasm")
        );
        assert_eq!(
            artifact_beside("res://A.WASM").as_deref(),
            Some("res://A.cwasm")
        );
        assert_eq!(artifact_beside("user://mods/a.wasm"), None);
        assert_eq!(artifact_beside("/tmp/a.wasm"), None);
        assert_eq!(artifact_beside("res://a.wat"), None);
        assert_eq!(artifact_beside("res://a.cwasm"), None);
        // A path ending in a character of several bytes cut at a byte 5 from the end panicked.
        assert_eq!(artifact_beside("res://mods/se\u{f1}ores"), None);
        assert_eq!(artifact_beside("res://\u{65e5}\u{672c}\u{8a9e}"), None);
        assert_eq!(
            artifact_beside("res://\u{65e5}\u{672c}.wasm").as_deref(),
            Some("res://\u{65e5}\u{672c}.cwasm")
        );
    }

    use super::*;

    #[test]
    fn the_wasmtime_version_is_the_one_the_workspace_pins() {
        let manifest =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
                .unwrap();
        let pin = format!("wasmtime = {{ version = \"={WASMTIME_VERSION}\"");
        assert!(
            manifest.contains(&pin),
            "Cargo.toml does not pin wasmtime {WASMTIME_VERSION}; update `WASMTIME_VERSION`"
        );
    }

    #[test]
    fn every_fact_changes_the_compatibility_hash() {
        let base = EngineFacts {
            pulley: false,
            debug_info: false,
            memory_layout: crate::memory_layout::MemoryLayout::GuardPages,
            compact_slot_bytes: None,
        };
        let compact = EngineFacts {
            memory_layout: crate::memory_layout::MemoryLayout::from_mb(0),
            ..base
        };
        let hashes = [
            base,
            EngineFacts {
                pulley: true,
                ..base
            },
            EngineFacts {
                debug_info: true,
                ..base
            },
            compact,
            EngineFacts {
                compact_slot_bytes: Some(64 << 20),
                ..compact
            },
            EngineFacts {
                compact_slot_bytes: Some(128 << 20),
                ..compact
            },
        ]
        .map(|f| f.compatibility_hash());
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(base.compatibility_hash(), hashes[0]);
    }

    #[test]
    fn precompiled_forms_are_named_and_webassembly_is_not() {
        let key = ArtifactKey::new(&[1; 32]).unwrap();
        let sealed = artifact::seal(&key, &[0; 32], &[0; 32], b"x");
        assert!(describe_precompiled(&sealed)
            .unwrap()
            .contains("WasmEngine.load_precompiled"));
        assert_eq!(describe_precompiled(b"\0asm\x01\0\0\0"), None);
        assert_eq!(describe_precompiled(b"(module)"), None);
        assert_eq!(describe_precompiled(b"hello"), None);
    }
}
