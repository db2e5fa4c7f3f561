//! Ahead-of-time compiled modules on the [`Runtime`]: [`Runtime::precompile`] makes an artifact
//! the game ships, [`Runtime::load_precompiled`] loads one without compiling. The format and its
//! authentication are [`artifact`](crate::artifact); turning it into a wasmtime module is
//! [`precompiled`](crate::precompiled). Top layer, beside the runtime; nothing imports it.
//!
//! Both take the [`ArtifactKey`] explicitly: the glue passes the game's key (the project setting
//! `wasgo/runtime/precompile_key`, or one the game gives). A module loaded from an artifact goes
//! into the module cache under its source's SHA-256, like a compiled one, and is counted in
//! `precompiled_loads`, not in `compiles`.

use crate::artifact::{ArtifactKey, MAGIC};
use crate::cache::{hex, CompileTicket};
use crate::diagnose::WASM_MAGIC;
use crate::error::WasgoError;
use crate::module::CompiledModule;
use crate::precompiled::{self, LoadError};
use crate::runtime::{refuse_newer_abi, Runtime};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A module as a game ships it: its WebAssembly, its precompiled artifact, or both (see
/// [`Runtime::load_shipped`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Shipped<'a> {
    /// The `.wasm` file's bytes, when it exists.
    pub wasm: Option<&'a [u8]>,
    /// The `.cwasm` artifact's bytes, when it exists.
    pub artifact: Option<&'a [u8]>,
    /// The game's key (`None` when the game has none).
    pub key: Option<&'a ArtifactKey>,
}

/// What [`Runtime::load_shipped`] did.
pub struct ShippedLoad {
    /// The module, or its compile under way.
    pub ticket: CompileTicket,
    /// Why an artifact that was there was passed over (the WebAssembly is compiled instead, or
    /// the load failed when there is none); `None` when it was used or there was none.
    pub artifact_refused: Option<String>,
}

/// An artifact may be this many times `max_module_bytes` (native code is larger than wasm).
pub const ARTIFACT_SIZE_FACTOR: usize = 4;

impl Runtime {
    /// The guest kind of the WebAssembly `wasm` read from its precompiled `artifact`, when the
    /// artifact authenticates under `key`, is compatible and was made from these very bytes
    /// (`None` otherwise); for a mods-folder scan of a game's shipped mods, which then needs
    /// no compile (and works in a library without the compiler).
    pub fn kind_from_artifact(
        &self,
        wasm: &[u8],
        artifact: &[u8],
        name: &str,
        key: &ArtifactKey,
    ) -> Option<crate::guest_kind::GuestKind> {
        let module = self.load_precompiled(artifact, name, key).ok()?;
        (hex(&Sha256::digest(wasm)) == module.sha256()).then(|| module.guest_kind())
    }

    /// Loads a module the game ships as WebAssembly, an artifact, or both: the artifact when it
    /// authenticates under `key`, is compatible and was made from this very WebAssembly (same
    /// SHA-256; an artifact alone is used as it is); else the WebAssembly, compiled in the
    /// background like [`Runtime::compile_in_background`], with the reason the artifact was
    /// passed over. Never runs an artifact that does not authenticate.
    pub fn load_shipped(&self, shipped: Shipped<'_>, name: &str) -> ShippedLoad {
        let mut refused = None;
        if let Some(artifact) = shipped.artifact {
            let loaded = match shipped.key {
                Some(key) => self.load_precompiled(artifact, name, key),
                None => Err(WasgoError::Precompiled {
                    name: name.into(),
                    reason: "the game has no precompile key (set the project setting \
                             `wasgo/runtime/precompile_key`, which the export plugin fills when \
                             it precompiles)"
                        .into(),
                }),
            };
            match loaded {
                Ok(module) => match shipped.wasm {
                    Some(wasm) if hex(&Sha256::digest(wasm)) != module.sha256() => {
                        refused = Some(format!(
                            "the precompiled artifact of `{name}` was made from another version \
                             of its WebAssembly; compiling the WebAssembly instead (export again \
                             to precompile it)"
                        ));
                    }
                    _ => {
                        return ShippedLoad {
                            ticket: CompileTicket::ready(name, Ok(module)),
                            artifact_refused: None,
                        }
                    }
                },
                Err(e) if shipped.wasm.is_none() => {
                    return ShippedLoad {
                        ticket: CompileTicket::ready(name, Err(e)),
                        artifact_refused: None,
                    }
                }
                Err(e) => refused = Some(format!("{e}; compiling its WebAssembly instead")),
            }
        }
        let ticket = match shipped.wasm {
            Some(wasm) => self.compile_in_background(wasm, name),
            None => CompileTicket::ready(
                name,
                Err(WasgoError::Host(format!(
                    "`{name}` has neither WebAssembly nor an artifact"
                ))),
            ),
        };
        ShippedLoad {
            ticket,
            artifact_refused: refused,
        }
    }

    /// Compiles `bytes` (a wasm binary or WAT text) on the calling thread and returns it as an
    /// artifact authenticated under `key`, for this engine's kind (see
    /// [`precompiled`](crate::precompiled): the same WasGo and wasmtime version, platform,
    /// execution mode and `debug_info`). The compile is counted in `compiles` but not cached, so
    /// loading the artifact afterwards really loads it. Meant for export time: the compile time
    /// limit does not apply, the size limit does.
    ///
    /// # Errors
    /// [`WasgoError::NotWasm`] (an artifact is refused by name), [`WasgoError::Compile`],
    /// [`WasgoError::ModuleTooLarge`], [`WasgoError::Precompiled`] for a module of mixed guest
    /// kinds or one wasmtime cannot serialize; [`WasgoError::NoCompiler`] in a build without
    /// the `compiler` feature.
    #[cfg(feature = "compiler")]
    pub fn precompile(
        &self,
        bytes: &[u8],
        name: &str,
        key: &ArtifactKey,
    ) -> Result<Vec<u8>, WasgoError> {
        let refused = |reason: String| WasgoError::Precompiled {
            name: name.into(),
            reason,
        };
        let (max_bytes, _) = self.compile_limits();
        // As when compiling it to run: a mod made for a newer WasGo is refused before it is
        // compiled (a module over the size limit is refused by the compile, unread).
        if bytes.len() <= max_bytes {
            refuse_newer_abi(bytes, name)?;
        }
        let engine = self.shipping_engine()?;
        let (module, sha) = self
            .cache()
            .compile_uncached(engine, bytes, name, max_bytes)?;
        crate::guest_kind::GuestKind::of_module(&module).map_err(|e| refused(e.to_string()))?;
        let source = crate::cache::unhex32(&sha)
            .ok_or_else(|| refused("the module has no source hash".into()))?;
        let manifest = crate::manifest::manifest_sections(bytes);
        precompiled::seal_module(&module, self.cache().facts(), key, &source, &manifest)
            .map_err(|e| refused(format!("cannot serialize the compiled code: {e}")))
    }

    /// Without the `compiler` feature nothing can be precompiled.
    ///
    /// # Errors
    /// Always [`WasgoError::NoCompiler`].
    #[cfg(not(feature = "compiler"))]
    pub fn precompile(
        &self,
        _bytes: &[u8],
        name: &str,
        _key: &ArtifactKey,
    ) -> Result<Vec<u8>, WasgoError> {
        Err(WasgoError::NoCompiler { name: name.into() })
    }

    /// Loads an artifact made by [`Runtime::precompile`] under the same `key`, without compiling.
    /// An artifact of a module the engine holds already (compiled, or loaded before) gives that
    /// module (a cache hit).
    ///
    /// # Errors
    /// [`WasgoError::ModuleTooLarge`] over [`ARTIFACT_SIZE_FACTOR`] × the module size limit;
    /// [`WasgoError::Precompiled`] for bytes that are not an artifact (WebAssembly is named as
    /// such), another format version, a truncated artifact, one that does not authenticate
    /// under `key`, one made for another engine, one wasmtime refuses, or a module of mixed guest
    /// kinds.
    pub fn load_precompiled(
        &self,
        bytes: &[u8],
        name: &str,
        key: &ArtifactKey,
    ) -> Result<Arc<CompiledModule>, WasgoError> {
        let refused = |reason: String| WasgoError::Precompiled {
            name: name.into(),
            reason,
        };
        let (max_module_bytes, _) = self.compile_limits();
        let limit = max_module_bytes.saturating_mul(ARTIFACT_SIZE_FACTOR);
        if bytes.len() > limit {
            return Err(WasgoError::ModuleTooLarge {
                name: name.into(),
                size: bytes.len(),
                limit,
            });
        }
        if bytes.is_empty() {
            return Err(refused("the artifact is empty".into()));
        }
        if !bytes.starts_with(MAGIC)
            && (bytes.starts_with(WASM_MAGIC) || crate::diagnose::not_wasm(bytes).is_none())
        {
            return Err(refused(
                "these bytes are a WebAssembly module, not a precompiled artifact; compile them with \
                 `WasmEngine.compile_module`, or make an artifact with `WasmEngine.precompile`"
                    .into(),
            ));
        }
        let facts = self.cache().facts();
        // Authenticated first (nothing else of the frame is believed before), then a held module
        // of the same source is a hit and nothing is deserialized.
        let opened = crate::artifact::open(key, &facts.compatibility_hash(), bytes)
            .map_err(|e| refused(e.to_string()))?;
        let sha = hex(&opened.source_sha256);
        if let Some(found) = self.cache().find(&sha) {
            return Ok(found);
        }
        let loaded = precompiled::load(self.engine(), facts, key, bytes)
            .map_err(|e: LoadError| refused(e.to_string()))?;
        // The artifact's manifest is read and its `abi` checked as the WebAssembly's would be.
        refuse_newer_abi(&loaded.manifest, name)?;
        let compiled = CompiledModule::new(loaded.module, sha.clone())
            .map_err(|e| refused(e.to_string()))?
            .with_manifest(crate::manifest::manifest_of_module(&loaded.manifest));
        Ok(self.cache().insert_precompiled(&sha, compiled))
    }
}
