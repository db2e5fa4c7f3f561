//! Guest kind detection: each kind is recognised by its imports and exports, and a module that
//! mixes kinds or lacks an export of its kind is refused at load with a message naming it.

use wasgo_core::*;

fn runtime() -> std::sync::Arc<Runtime> {
    Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap()
}

/// The kind the compiled module gets; the kind read from the bytes without compiling
/// (`GuestKind::of_binary`, what a mods-folder scan's `Runtime::inspect` uses) must agree, and so
/// must `inspect` on a runtime that has not compiled the module.
fn kind_of(wat: &str) -> Result<GuestKind, String> {
    let compiled = runtime()
        .compile(wat.as_bytes(), "probe")
        .map(|m| m.guest_kind())
        .map_err(|e| e.to_string());
    let binary = wat::parse_str(wat).unwrap();
    let read = GuestKind::of_binary(&binary);
    assert_eq!(
        read.as_ref().ok(),
        compiled.as_ref().ok(),
        "of_binary: {read:?}"
    );
    if let (Err(read), Err(compiled)) = (&read, &compiled) {
        assert!(compiled.contains(read.as_str()), "{compiled} / {read}");
    }
    let inspected = runtime().inspect(wat.as_bytes(), "probe");
    assert_eq!(
        inspected.as_ref().ok(),
        compiled.as_ref().ok(),
        "inspect: {inspected:?}"
    );
    compiled
}

#[test]
fn inspect_refuses_what_does_not_validate_without_waiting_for_the_compiler() {
    // A type error: the validator's reason, named like a compile error.
    let err = runtime()
        .inspect(br#"(module (func (export "f") (result i32)))"#, "bad")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad") && err.contains("type mismatch"),
        "{err}"
    );
    // Neither binary nor WAT, and over the size limit: refused before anything else.
    let not_wasm = runtime().inspect(b"hello", "text").unwrap_err();
    assert!(matches!(not_wasm, WasgoError::NotWasm { .. }), "{not_wasm}");
    let config = RuntimeConfig {
        max_module_bytes: 8,
        ..RuntimeConfig::default()
    };
    let small = Runtime::new(config, Hosts::detached()).unwrap();
    let too_large = small.inspect(b"(module)    ", "big").unwrap_err();
    assert!(
        matches!(too_large, WasgoError::ModuleTooLarge { .. }),
        "{too_large}"
    );
    // WAT text whose named labels the text parser would resolve through thousands of open
    // blocks, thousands of times, is refused before the parser sees it, by a scan and by a
    // compile alike.
    let deep = format!(
        "(module (func block $o {} {} {}))",
        "block ".repeat(5000),
        "br $o ".repeat(30_000),
        "end ".repeat(5001)
    );
    for err in [
        runtime().inspect(deep.as_bytes(), "deep").unwrap_err(),
        runtime().compile(deep.as_bytes(), "deep").unwrap_err(),
    ] {
        assert!(err.to_string().contains("100000000 steps"), "{err}");
    }
}

const GOJS_EXPORTS: &str = r#"
  (memory (export "mem") 1)
  (func (export "run") (param i32 i32))
  (func (export "resume"))
  (func (export "getsp") (result i32) (i32.const 0))"#;

#[test]
fn wasgo_wasi_and_empty_modules_are_wasgo_mods() {
    assert_eq!(kind_of("(module)"), Ok(GuestKind::Wasgo));
    assert_eq!(
        kind_of(
            r#"(module (import "wasgo" "log" (func (param i32 i32 i32))) (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))))"#
        ),
        Ok(GuestKind::Wasgo)
    );
    assert_eq!(GuestKind::Wasgo.as_str(), "wasgo");
}

#[test]
fn a_module_importing_gojs_with_the_go_exports_is_gojs() {
    let wat =
        format!(r#"(module (import "gojs" "runtime.wasmExit" (func (param i32))) {GOJS_EXPORTS})"#);
    assert_eq!(kind_of(&wat), Ok(GuestKind::GoJs));
    assert_eq!(GuestKind::GoJs.as_str(), "gojs");
}

#[test]
fn a_module_exporting_guest_call_and_importing_wapc_is_wapc() {
    let wat = r#"(module
      (import "wapc" "__guest_request" (func (param i32 i32)))
      (memory (export "memory") 1)
      (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1)))"#;
    assert_eq!(kind_of(wat), Ok(GuestKind::Wapc));
    assert_eq!(GuestKind::Wapc.as_str(), "wapc");
}

#[test]
fn a_gojs_module_missing_go_exports_is_refused_naming_them() {
    let wat = r#"(module (import "gojs" "debug" (func (param i32))) (memory (export "mem") 1) (func (export "run") (param i32 i32)))"#;
    let err = kind_of(wat).unwrap_err();
    assert!(err.contains("does not export `resume`, `getsp`"), "{err}");
    assert!(err.contains("GOOS=js"), "{err}");
}

#[test]
fn a_wapc_module_without_guest_call_is_refused() {
    let err =
        kind_of(r#"(module (import "wapc" "__console_log" (func (param i32 i32))))"#).unwrap_err();
    assert!(err.contains("does not export `__guest_call`"), "{err}");
}

#[test]
fn modules_mixing_kinds_are_refused_naming_both() {
    let wat = format!(
        r#"(module (import "gojs" "debug" (func (param i32))) (import "wasgo" "log" (func (param i32 i32 i32))) {GOJS_EXPORTS})"#
    );
    let err = kind_of(&wat).unwrap_err();
    assert!(err.contains("imports both `gojs` and `wasgo`"), "{err}");
    let wat = format!(
        r#"(module (import "gojs" "debug" (func (param i32))) (import "wapc" "__console_log" (func (param i32 i32))) {GOJS_EXPORTS})"#
    );
    let err = kind_of(&wat).unwrap_err();
    assert!(err.contains("imports both `gojs` and `wapc`"), "{err}");
    // waPC is also told by its export: a `wasgo` module exporting `__guest_call` ran as waPC.
    let wat = r#"(module (import "wasgo" "log" (func (param i32 i32 i32))) (memory (export "memory") 1) (func (export "__guest_call") (param i32 i32) (result i32) i32.const 1))"#;
    let err = kind_of(wat).unwrap_err();
    assert!(err.contains("uses both `wapc`"), "{err}");
    assert!(err.contains("and `wasgo`"), "{err}");
}

#[test]
fn unknown_gojs_imports_link_to_stubs_with_a_warning() {
    let rt = runtime();
    let wat = format!(
        r#"(module (import "gojs" "runtime.noSuchThing" (func (param i32))) (import "gojs" "debug" (func (param i32))) {GOJS_EXPORTS})"#
    );
    let module = rt.compile(wat.as_bytes(), "stubbed").unwrap();
    let unexposed = module.unexposed_imports(rt.hosts(), SafetyLevel::Safe);
    assert_eq!(unexposed, vec!["gojs.runtime.noSuchThing".to_string()]);
    let config = InstanceConfig {
        name: "stubbed".into(),
        level: SafetyLevel::Safe,
        limits: Limits::default(),
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: rt.next_instance_key(),
        network: Default::default(),
    };
    let inst = ModInstance::new(&rt, &module, config).unwrap();
    assert!(inst.drain_events().iter().any(|e| matches!(
        e,
        ModEvent::LinkWarning { function, .. } if function == "gojs.runtime.noSuchThing"
    )));
}

/// Compiles beyond the machine's compile slots wait for one and all finish (none is lost or
/// stuck waiting).
#[test]
fn many_compiles_at_once_all_finish() {
    let rt = runtime();
    let tickets: Vec<_> = (0..12)
        .map(|i| {
            let wat = format!(r#"(module (func (export "f{i}") (result i32) (i32.const {i})))"#);
            rt.compile_in_background(wat.as_bytes(), &format!("m{i}"))
        })
        .collect();
    for ticket in tickets {
        assert!(ticket.wait().is_ok());
    }
    assert!(rt.wait_for_compiles(std::time::Duration::from_secs(30)));
}
