//! Precompiled modules and the authenticated disk cache: an artifact runs without a compile, and
//! nothing that does not authenticate under the right key ever runs (artifacts the game loads,
//! files of the disk cache, artifacts passed where WebAssembly is expected).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasgo_core::*;

/// `main` returns 42.
const ANSWER: &str = r#"(module (func (export "main") (result i32) i32.const 42))"#;
/// `main` returns 7.
const SEVEN: &str = r#"(module (func (export "main") (result i32) i32.const 7))"#;

fn runtime() -> Arc<Runtime> {
    Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap()
}

fn key(byte: u8) -> ArtifactKey {
    ArtifactKey::new(&[byte; 32]).unwrap()
}

fn run_main(rt: &Arc<Runtime>, module: &CompiledModule) -> i32 {
    let cfg = InstanceConfig::new("m", SafetyLevel::Safe, rt.next_instance_key());
    let mut inst = ModInstance::new(rt, module, cfg).unwrap();
    inst.call("main", &[]).unwrap()[0].unwrap_i32()
}

fn precompiled_reason(err: WasgoError) -> String {
    match err {
        WasgoError::Precompiled { reason, .. } => reason,
        other => panic!("expected a precompiled-artifact refusal, got {other:?}"),
    }
}

#[test]
fn a_precompiled_artifact_runs_in_another_runtime_without_a_compile() {
    let maker = runtime();
    let artifact = maker
        .precompile(ANSWER.as_bytes(), "answer", &key(1))
        .unwrap();
    assert_eq!(
        (maker.stats().compiles, maker.stats().modules),
        (1, 0),
        "precompiling does not cache"
    );
    // Loaded right after in the same runtime: really loaded, not found in memory.
    let own = maker
        .load_precompiled(&artifact, "answer", &key(1))
        .unwrap();
    assert_eq!(
        (maker.stats().precompiled_loads, maker.stats().cache_hits),
        (1, 0)
    );
    assert_eq!(run_main(&maker, &own), 42);

    let rt = runtime();
    let module = rt.load_precompiled(&artifact, "answer", &key(1)).unwrap();
    let s = rt.stats();
    assert_eq!((s.compiles, s.precompiled_loads, s.cache_hits), (0, 1, 0));
    assert_eq!(run_main(&rt, &module), 42);
    // The module is cached under its source's hash: its WebAssembly is then a hit, not a compile.
    let again = rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    assert!(Arc::ptr_eq(&module, &again));
    assert_eq!((rt.stats().compiles, rt.stats().cache_hits), (0, 1));
    // And loading the artifact again is a hit too.
    let third = rt.load_precompiled(&artifact, "answer", &key(1)).unwrap();
    assert!(Arc::ptr_eq(&module, &third));
    assert_eq!(rt.stats().precompiled_loads, 1);
}

#[test]
fn an_artifact_with_any_byte_changed_is_refused_and_never_runs() {
    let rt = runtime();
    let artifact = rt.precompile(ANSWER.as_bytes(), "answer", &key(1)).unwrap();
    let fresh = runtime();
    // Every byte of the header and MAC, and a spread of the payload's.
    let step = (artifact.len() / 300).max(1);
    let positions =
        (0..artifact::HEADER_LEN).chain((artifact::HEADER_LEN..artifact.len()).step_by(step));
    for i in positions {
        let mut bad = artifact.clone();
        bad[i] ^= 0x20;
        let err = fresh.load_precompiled(&bad, "answer", &key(1)).unwrap_err();
        assert!(
            matches!(err, WasgoError::Precompiled { .. }),
            "byte {i}: {err:?}"
        );
    }
    let s = fresh.stats();
    assert_eq!((s.precompiled_loads, s.modules), (0, 0));
}

#[test]
fn another_key_truncation_and_another_engine_are_refused_with_clear_reasons() {
    let rt = runtime();
    let artifact = rt.precompile(ANSWER.as_bytes(), "answer", &key(1)).unwrap();
    let fresh = runtime();
    let reason = precompiled_reason(
        fresh
            .load_precompiled(&artifact, "answer", &key(2))
            .unwrap_err(),
    );
    assert!(reason.contains("not authenticated"), "{reason}");
    let reason = precompiled_reason(
        fresh
            .load_precompiled(&artifact[..artifact.len() - 1], "answer", &key(1))
            .unwrap_err(),
    );
    assert!(reason.contains("truncated"), "{reason}");
    // An engine with another configuration (debug info) gets an artifact it cannot run.
    let debug = Runtime::new(
        RuntimeConfig {
            debug_info: true,
            ..RuntimeConfig::default()
        },
        Hosts::detached(),
    )
    .unwrap();
    let reason = precompiled_reason(
        debug
            .load_precompiled(&artifact, "answer", &key(1))
            .unwrap_err(),
    );
    assert!(reason.contains("another engine"), "{reason}");
    assert_eq!(
        fresh.stats().precompiled_loads + debug.stats().precompiled_loads,
        0
    );
}

#[test]
fn compile_refuses_an_artifact_by_name_and_load_precompiled_refuses_webassembly() {
    let rt = runtime();
    let artifact = rt.precompile(ANSWER.as_bytes(), "answer", &key(1)).unwrap();
    let err = rt.compile(&artifact, "sneaky").unwrap_err();
    assert!(matches!(err, WasgoError::NotWasm { .. }), "{err:?}");
    assert!(
        err.to_string().contains("WasmEngine.load_precompiled"),
        "{err}"
    );
    // A bare wasmtime `.cwasm` (no WasGo frame) is named too, and never runs.
    let bare = rt
        .engine()
        .precompile_module(wat::parse_str(ANSWER).unwrap().as_slice())
        .unwrap();
    let err = rt.compile(&bare, "bare").unwrap_err();
    assert!(
        err.to_string().contains("bare wasmtime precompiled module"),
        "{err}"
    );
    let reason = precompiled_reason(rt.load_precompiled(&bare, "bare", &key(1)).unwrap_err());
    assert!(
        reason.contains("not a WasGo precompiled artifact"),
        "{reason}"
    );
    // WebAssembly (binary or text) passed as an artifact.
    let wasm = wat::parse_str(ANSWER).unwrap();
    for bytes in [wasm.as_slice(), ANSWER.as_bytes()] {
        let reason = precompiled_reason(rt.load_precompiled(bytes, "wasm", &key(1)).unwrap_err());
        assert!(reason.contains("compile_module"), "{reason}");
    }
    // Precompiling an artifact again is refused like compiling it.
    assert!(matches!(
        rt.precompile(&artifact, "again", &key(1)),
        Err(WasgoError::NotWasm { .. })
    ));
}

#[test]
fn an_artifact_over_four_times_the_module_limit_is_refused() {
    let rt = runtime();
    let artifact = rt.precompile(ANSWER.as_bytes(), "answer", &key(1)).unwrap();
    let limit = artifact.len() / ARTIFACT_SIZE_FACTOR - 1;
    rt.set_compile_limits(limit, std::time::Duration::from_secs(30));
    let err = rt
        .load_precompiled(&artifact, "answer", &key(1))
        .unwrap_err();
    assert!(matches!(err, WasgoError::ModuleTooLarge { .. }), "{err:?}");
}

#[test]
fn a_shipped_artifact_is_used_only_when_it_matches_its_webassembly() {
    let maker = runtime();
    let artifact = maker
        .precompile(ANSWER.as_bytes(), "answer", &key(1))
        .unwrap();
    let k = key(1);
    // Artifact and its own WebAssembly: loaded, not compiled.
    let rt = runtime();
    let load = rt.load_shipped(
        Shipped {
            wasm: Some(ANSWER.as_bytes()),
            artifact: Some(&artifact),
            key: Some(&k),
        },
        "answer",
    );
    assert!(load.artifact_refused.is_none());
    let module = load.ticket.wait().unwrap();
    assert_eq!((rt.stats().compiles, rt.stats().precompiled_loads), (0, 1));
    assert_eq!(run_main(&rt, &module), 42);
    // The WebAssembly changed since the export: the artifact is passed over, the new code runs.
    let rt = runtime();
    let load = rt.load_shipped(
        Shipped {
            wasm: Some(SEVEN.as_bytes()),
            artifact: Some(&artifact),
            key: Some(&k),
        },
        "answer",
    );
    assert!(load.artifact_refused.unwrap().contains("another version"));
    assert_eq!(run_main(&rt, &load.ticket.wait().unwrap()), 7);
    // A tampered artifact beside its WebAssembly: compiled from the WebAssembly instead.
    let mut bad = artifact.clone();
    *bad.last_mut().unwrap() ^= 1;
    let rt = runtime();
    let load = rt.load_shipped(
        Shipped {
            wasm: Some(ANSWER.as_bytes()),
            artifact: Some(&bad),
            key: Some(&k),
        },
        "answer",
    );
    assert!(load.artifact_refused.unwrap().contains("not authenticated"));
    assert_eq!(run_main(&rt, &load.ticket.wait().unwrap()), 42);
    assert_eq!((rt.stats().compiles, rt.stats().precompiled_loads), (1, 0));
    // An artifact alone that does not authenticate (no key, or tampered): an error, nothing runs.
    let rt = runtime();
    let err = rt
        .load_shipped(
            Shipped {
                wasm: None,
                artifact: Some(&bad),
                key: Some(&k),
            },
            "answer",
        )
        .ticket
        .wait()
        .unwrap_err();
    assert!(precompiled_reason(err).contains("not authenticated"));
    let err = rt
        .load_shipped(
            Shipped {
                wasm: None,
                artifact: Some(&artifact),
                key: None,
            },
            "answer",
        )
        .ticket
        .wait()
        .unwrap_err();
    assert!(precompiled_reason(err).contains("wasgo/runtime/precompile_key"));
    assert_eq!(rt.stats().modules, 0);
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasgo-precompiled-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cache_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    files.sort();
    files
}

fn disk_config(dir: &Path) -> RuntimeConfig {
    RuntimeConfig {
        cache_dir: Some(dir.join("cache")),
        cache_key_file: Some(dir.join("key").join("cache.key")),
        ..RuntimeConfig::default()
    }
}

#[test]
fn a_tampered_disk_cache_file_is_recompiled_and_rewritten_never_run() {
    let dir = temp_dir("tamper");
    let first = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    first.compile(ANSWER.as_bytes(), "answer").unwrap();
    drop(first);
    let files = cache_files(&dir.join("cache"));
    assert_eq!(files.len(), 1);
    let good = std::fs::read(&files[0]).unwrap();
    assert!(
        good.starts_with(artifact::MAGIC),
        "cache files are authenticated artifacts"
    );
    assert_eq!(std::fs::read(dir.join("key/cache.key")).unwrap().len(), 32);

    // A clean cache: loaded, not compiled.
    let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    let m = rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    assert_eq!(
        (
            rt.stats().compiles,
            rt.stats().cache_hits,
            rt.stats().cache_rejects
        ),
        (0, 1, 0)
    );
    assert_eq!(run_main(&rt, &m), 42);
    drop((m, rt));

    // Flip a byte in the header, the MAC and the native code: each time recompiled and rewritten.
    for at in [20, artifact::HEADER_LEN - 3, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&files[0], &bad).unwrap();
        let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
        let m = rt.compile(ANSWER.as_bytes(), "answer").unwrap();
        let s = rt.stats();
        assert_eq!(
            (s.compiles, s.cache_hits, s.cache_rejects),
            (1, 0, 1),
            "byte {at}"
        );
        assert_eq!(run_main(&rt, &m), 42);
        let rewritten = std::fs::read(&files[0]).unwrap();
        assert_ne!(rewritten, bad, "byte {at}: the bad file was replaced");
        assert!(rewritten.starts_with(artifact::MAGIC));
    }
    // A link to a device in the file's place (read without end before): refused, not read.
    std::fs::remove_file(&files[0]).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &files[0]).unwrap();
    let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    let m = rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    assert_eq!((rt.stats().compiles, rt.stats().cache_rejects), (1, 1));
    assert_eq!(run_main(&rt, &m), 42);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cache_file_under_another_install_key_is_recompiled() {
    let dir = temp_dir("rekey");
    let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    drop(rt);
    // Another install's key (the key file replaced): the old file does not authenticate.
    std::fs::write(dir.join("key/cache.key"), [9u8; 32]).unwrap();
    let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    assert_eq!((rt.stats().compiles, rt.stats().cache_rejects), (1, 1));
    drop(rt);
    // A pipe in the key file's place (waited on for ever when the runtime started, before):
    // replaced by a new key.
    std::fs::remove_file(dir.join("key/cache.key")).unwrap();
    let pipe =
        std::ffi::CString::new(dir.join("key/cache.key").to_string_lossy().as_bytes()).unwrap();
    // SAFETY: `pipe` is a valid NUL-terminated path that lives across the call.
    assert_eq!(unsafe { libc::mkfifo(pipe.as_ptr(), 0o600) }, 0);
    drop(Runtime::new(disk_config(&dir), Hosts::detached()).unwrap());
    assert_eq!(std::fs::read(dir.join("key/cache.key")).unwrap().len(), 32);
    // A damaged key file (wrong length) is replaced by a new random key, kept from then on.
    std::fs::write(dir.join("key/cache.key"), b"short").unwrap();
    let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    assert_eq!(rt.stats().cache_rejects, 1);
    let new_key = std::fs::read(dir.join("key/cache.key")).unwrap();
    assert_eq!(new_key.len(), 32);
    assert_ne!(new_key, [9u8; 32]);
    drop(rt);
    let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    assert_eq!((rt.stats().compiles, rt.stats().cache_hits), (0, 1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_game_artifact_dropped_into_the_disk_cache_is_not_loaded() {
    // Even a valid artifact under the game's key is not the install's: refused and recompiled.
    let dir = temp_dir("foreign");
    let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    let game_artifact = rt.precompile(ANSWER.as_bytes(), "answer", &key(1)).unwrap();
    drop(rt);
    let file = cache_files(&dir.join("cache")).remove(0);
    std::fs::write(&file, &game_artifact).unwrap();
    let rt = Runtime::new(disk_config(&dir), Hosts::detached()).unwrap();
    rt.compile(ANSWER.as_bytes(), "answer").unwrap();
    assert_eq!((rt.stats().compiles, rt.stats().cache_rejects), (1, 1));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `main` returns 42; its manifest names it and targets ABI `abi`.
fn with_manifest(abi: &str) -> String {
    format!(
        r#"(module (@custom "wasgo.manifest" "{{\"name\": \"Answer\", \"version\": \"1.2\", \"abi\": \"{abi}\"}}") (func (export "main") (result i32) i32.const 42))"#
    )
}

#[test]
fn an_artifact_carries_its_manifest_and_a_newer_abi_is_refused() {
    let module_text = with_manifest("1.0");
    let artifact = runtime()
        .precompile(module_text.as_bytes(), "answer", &key(1))
        .unwrap();
    // Loaded by a runtime that never saw the WebAssembly: the manifest came in the artifact.
    let rt = runtime();
    let module = rt.load_precompiled(&artifact, "answer", &key(1)).unwrap();
    let manifest = module.manifest().unwrap().expect("the artifact's manifest");
    assert_eq!(
        (manifest.name.as_deref(), manifest.version.as_deref()),
        (Some("Answer"), Some("1.2"))
    );
    assert_eq!(run_main(&rt, &module), 42);
    // A module without a manifest has none after the trip either.
    let plain = runtime()
        .precompile(SEVEN.as_bytes(), "seven", &key(1))
        .unwrap();
    let plain = rt.load_precompiled(&plain, "seven", &key(1)).unwrap();
    assert!(plain.manifest().unwrap().is_none());

    // A mod made for a newer WasGo is not precompiled, as it is not compiled to run.
    let newer = with_manifest("99.0");
    match runtime().precompile(newer.as_bytes(), "newer", &key(1)) {
        Err(WasgoError::NewerAbi { reason, .. }) => assert!(reason.contains("99.0"), "{reason}"),
        other => panic!("expected NewerAbi, got {:?}", other.map(|a| a.len())),
    }
    // Nor loaded from an artifact that carries such a manifest (made here by hand, as a newer
    // WasGo with the same engine and format could have made it).
    let maker = runtime();
    let compiled = wasmtime::Module::new(maker.engine(), SEVEN).unwrap();
    let facts = wasgo_core::precompiled::EngineFacts {
        pulley: false,
        debug_info: false,
        memory_layout: RuntimeConfig::default().memory_layout,
        compact_slot_bytes: None,
    };
    let sealed = wasgo_core::precompiled::seal_module(
        &compiled,
        facts,
        &key(1),
        &[9; 32],
        &wasgo_core::manifest::manifest_sections(newer.as_bytes()),
    )
    .unwrap();
    match runtime().load_precompiled(&sealed, "newer", &key(1)) {
        Err(WasgoError::NewerAbi { reason, .. }) => assert!(reason.contains("99.0"), "{reason}"),
        other => panic!(
            "expected NewerAbi, got {:?}",
            other.map(|m| m.sha256().to_string())
        ),
    }
}

/// The value after `flag`'s name in wasmtime's serialized flags (`[2, 0]` off, `[2, 1]` on),
/// `None` when the artifact does not name it.
fn isa_flag(artifact: &[u8], flag: &str) -> Option<[u8; 2]> {
    let name = flag.as_bytes();
    let at = artifact.windows(name.len()).position(|w| w == name)? + name.len();
    Some([artifact[at], artifact[at + 1]])
}

#[test]
fn artifacts_are_made_for_any_processor_godot_runs_on_not_this_one() {
    // f32.floor is lowered with SSE4.1's `roundss` when it is there, i64.popcnt with POPCNT.
    const KERNEL: &str = r#"(module
        (func (export "main") (result i32)
          (i32.add (i32.trunc_f32_s (f32.floor (f32.const 41.7)))
                   (i32.wrap_i64 (i64.popcnt (i64.const 1))))))"#;
    let rt = runtime();
    let artifact = rt.precompile(KERNEL.as_bytes(), "kernel", &key(1)).unwrap();
    if cfg!(target_arch = "x86_64") {
        for feature in [
            "has_avx",
            "has_avx2",
            "has_bmi1",
            "has_bmi2",
            "has_fma",
            "has_lzcnt",
            "has_avx512f",
        ] {
            assert_eq!(
                isa_flag(&artifact, feature),
                Some([2, 0]),
                "{feature}: an artifact must not need a feature of this processor"
            );
        }
        for feature in ["has_sse41", "has_sse42", "has_popcnt"] {
            assert_eq!(
                isa_flag(&artifact, feature),
                Some([2, 1]),
                "{feature} (x86-64-v2)"
            );
        }
    }
    // It loads and runs here all the same.
    let player = runtime();
    let module = player
        .load_precompiled(&artifact, "kernel", &key(1))
        .unwrap();
    assert_eq!(run_main(&player, &module), 42);
}
