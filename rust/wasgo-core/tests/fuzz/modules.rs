//! Random valid modules (`wasm-smith`, importing real `wasgo` and WASI functions) compiled,
//! linked and run at every safety level under the callback budget: whatever they do, the host
//! never panics (a panic caught in a host function becomes a trap saying "host bug", which
//! counts as a failure too).

use super::harness::run;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasgo_core::catalog::{self, Abi, Availability};
use wasgo_core::*;

/// WASI functions a random module may import, with their signatures.
const WASI: &[(&str, &str)] = &[
    ("fd_write", "(param i32 i32 i32 i32) (result i32)"),
    ("fd_read", "(param i32 i32 i32 i32) (result i32)"),
    ("fd_pwrite", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_pread", "(param i32 i32 i32 i64 i32) (result i32)"),
    ("fd_seek", "(param i32 i64 i32 i32) (result i32)"),
    ("fd_close", "(param i32) (result i32)"),
    ("fd_filestat_set_size", "(param i32 i64) (result i32)"),
    ("fd_prestat_get", "(param i32 i32) (result i32)"),
    (
        "path_open",
        "(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)",
    ),
    ("path_create_directory", "(param i32 i32 i32) (result i32)"),
    (
        "path_rename",
        "(param i32 i32 i32 i32 i32 i32) (result i32)",
    ),
    ("path_unlink_file", "(param i32 i32 i32) (result i32)"),
    ("poll_oneoff", "(param i32 i32 i32 i32) (result i32)"),
    ("random_get", "(param i32 i32) (result i32)"),
    ("clock_time_get", "(param i32 i64 i32) (result i32)"),
    ("proc_exit", "(param i32)"),
];

fn wat_types(types: &[Abi]) -> String {
    types.iter().map(|t| format!(" {}", t.name())).collect()
}

/// A module whose imports are what random modules may import.
fn available_imports() -> Vec<u8> {
    let mut wat = String::from("(module\n");
    for f in catalog::WASGO_FUNCTIONS
        .iter()
        .filter(|f| f.availability == Availability::Ready)
    {
        wat.push_str(&format!(
            "  (import \"wasgo\" \"{}\" (func (param{}) (result{})))\n",
            f.name,
            wat_types(&f.signature().params),
            wat_types(f.results)
        ));
    }
    for (name, sig) in WASI {
        wat.push_str(&format!(
            "  (import \"wasi_snapshot_preview1\" \"{name}\" (func {sig}))\n"
        ));
    }
    wat.push(')');
    wat::parse_str(&wat).expect("the import list is valid WAT")
}

fn config() -> wasm_smith::Config {
    static IMPORTS: OnceLock<Vec<u8>> = OnceLock::new();
    wasm_smith::Config {
        available_imports: Some(IMPORTS.get_or_init(available_imports).clone()),
        max_imports: 16,
        max_funcs: 10,
        max_instructions: 300,
        max_exports: 8,
        export_everything: true,
        allow_start_export: false,
        min_memories: 1,
        max_memories: 1,
        max_memory32_bytes: 4 << 20,
        memory64_enabled: false,
        max_tables: 2,
        max_table_elements: 1000,
        gc_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        custom_page_sizes_enabled: false,
        tail_call_enabled: false,
        wide_arithmetic_enabled: false,
        custom_descriptors_enabled: false,
        relaxed_simd_enabled: false,
        ..wasm_smith::Config::default()
    }
}

fn runtime() -> &'static Arc<Runtime> {
    static RT: OnceLock<Arc<Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        Runtime::new(RuntimeConfig::default(), wasgo_core::Hosts::detached()).unwrap()
    })
}

fn zero(t: &Abi) -> Val {
    match t {
        Abi::I32 => Val::I32(0),
        Abi::I64 => Val::I64(0),
        Abi::F32 => Val::F32(0),
        Abi::F64 => Val::F64(0),
    }
}

fn refuse_host_bugs(outcome: &Result<Vec<Val>, WasgoError>) {
    if let Err(WasgoError::Trap(info)) = outcome {
        assert!(!info.message.contains("host bug"), "{}", info.message);
    }
}

#[test]
fn random_modules_at_every_level() {
    let rt = runtime();
    let mut case = 0u64;
    run("wasm_smith_modules", 40, 4096, |u| {
        case += 1;
        let Ok(module) = wasm_smith::Module::new(config(), u) else {
            return;
        };
        let bytes = module.to_bytes();
        let Ok(compiled) = rt.compile(&bytes, "random") else {
            return;
        };
        let dir =
            std::env::temp_dir().join(format!("wasgo-fuzz-modules-{}-{case}", std::process::id()));
        for level in [SafetyLevel::Safe, SafetyLevel::Wrapped, SafetyLevel::Unsafe] {
            let cfg = InstanceConfig {
                name: "random".into(),
                level,
                limits: Limits {
                    memory_bytes: 16 << 20,
                    callback_budget: Duration::from_millis(20),
                    main_timeout: None,
                    storage_bytes: 64 << 10,
                    ..Limits::default()
                },
                args: vec![],
                dirs: WasiDirs {
                    sandbox: Some(dir.clone()),
                    ..WasiDirs::default()
                },
                permissions: Permissions::new(),
                key: 0,
                network: NetworkConfig::default(),
            };
            if u.arbitrary().unwrap_or(false) {
                cfg.permissions.grant(wasgo_core::Permission::Files);
            }
            let Ok(mut inst) = ModInstance::new(rt, &compiled, cfg) else {
                continue;
            };
            for export in compiled
                .exports()
                .iter()
                .filter(|e| e.kind == wasgo_core::ImportKind::Function)
            {
                let Some(sig) = inst.export_signature(&export.name) else {
                    continue;
                };
                let args: Vec<Val> = sig.params.iter().map(zero).collect();
                refuse_host_bugs(&inst.call(&export.name, &args));
            }
            inst.kill("done");
        }
        rt.trim_cache();
        let _ = std::fs::remove_dir_all(&dir);
    });
}
