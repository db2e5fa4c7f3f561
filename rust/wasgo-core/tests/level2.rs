//! Level 2 without Godot: permissions asked once, HTTP checks and hand-over to a fake host (also
//! from `main` through the bridge), the WASI sandbox's quota, name and link rules, and the
//! same WASI module at levels 1 and 3.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasgo_core::urls::Whitelist;
use wasgo_core::*;

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("wasgo-level2-{tag}-{}-{nanos}", std::process::id()))
}

fn config(name: &str, level: SafetyLevel, storage_bytes: u64) -> InstanceConfig {
    InstanceConfig {
        name: name.into(),
        level,
        limits: Limits {
            memory_bytes: 16 << 20,
            callback_budget: Duration::from_millis(200),
            main_timeout: None,
            storage_bytes,
            ..Limits::default()
        },
        args: vec![],
        dirs: WasiDirs::default(),
        permissions: Permissions::new(),
        key: 0,
        network: NetworkConfig::default(),
    }
}

fn i32_of(vals: Vec<Val>) -> i32 {
    vals[0].unwrap_i32()
}

/// Records the calls it is asked to start.
#[derive(Default)]
struct FakeHttp {
    calls: Mutex<Vec<HttpCall>>,
}

impl HttpHost for FakeHttp {
    fn start(&self, call: HttpCall) -> Result<(), wasgo_core::http::HttpStartError> {
        self.calls.lock().push(call);
        Ok(())
    }
}

const NET: &str = r#"(module
  (import "wasgo" "http_request" (func $req (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasgo" "http_body" (func $body (param i32 i32 i32) (result i32)))
  (import "wasgo" "request_permission" (func $ask (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "http://127.0.0.1:9/api/x")
  (data (i32.const 64) "http://127.0.0.1:9/apix")
  (data (i32.const 128) "GET")
  (data (i32.const 132) "POST")
  (data (i32.const 140) "hello")
  (data (i32.const 160) "network")
  (func (export "get_ok") (result i32) (call $req (i32.const 0) (i32.const 24) (i32.const 128) (i32.const 3) (i32.const 0) (i32.const 0)))
  (func (export "get_outside") (result i32) (call $req (i32.const 64) (i32.const 23) (i32.const 128) (i32.const 3) (i32.const 0) (i32.const 0)))
  (func (export "post_ok") (result i32) (call $req (i32.const 0) (i32.const 24) (i32.const 132) (i32.const 4) (i32.const 140) (i32.const 5)))
  (func (export "get_with_body") (result i32) (call $req (i32.const 0) (i32.const 24) (i32.const 128) (i32.const 3) (i32.const 140) (i32.const 5)))
  (func (export "body") (param $id i32) (result i32) (call $body (local.get $id) (i32.const 1024) (i32.const 4096)))
  (func (export "body_byte") (param $i i32) (result i32) (i32.load8_u (i32.add (i32.const 1024) (local.get $i))))
  (func (export "ask") (result i32) (call $ask (i32.const 160) (i32.const 7)))
  (func (export "main") (result i32)
    (local $id i32) (local $n i32)
    (local.set $id (call $req (i32.const 0) (i32.const 24) (i32.const 128) (i32.const 3) (i32.const 0) (i32.const 0)))
    (if (i32.lt_s (local.get $id) (i32.const 0)) (then (return (local.get $id))))
    (loop $wait
      (local.set $n (call $body (local.get $id) (i32.const 1024) (i32.const 4096)))
      (br_if $wait (i32.eq (local.get $n) (i32.const -7))))
    (local.get $n)))"#;

fn net_instance(rt: &Arc<Runtime>, permissions: Arc<Permissions>) -> ModInstance {
    let module = rt.compile(NET.as_bytes(), "net").unwrap();
    let mut cfg = config("net", SafetyLevel::Wrapped, 1 << 20);
    cfg.permissions = permissions;
    cfg.network.whitelist = Arc::new(Whitelist::parse(["http://127.0.0.1:9/api"]).0);
    ModInstance::new(rt, &module, cfg).unwrap()
}

/// A host whose game-wide count of requests in flight is reached (or that cannot start one).
struct RefusingHttp(wasgo_core::http::HttpStartError);

impl HttpHost for RefusingHttp {
    fn start(&self, _call: HttpCall) -> Result<(), wasgo_core::http::HttpStartError> {
        Err(self.0.clone())
    }
}

#[test]
fn a_request_the_game_has_no_room_for_is_busy_and_one_it_cannot_start_failed() {
    use wasgo_core::http::HttpStartError;
    for (error, code) in [
        (
            HttpStartError::Busy("64 in flight; try again later".into()),
            -7,
        ),
        (HttpStartError::Failed("no network".into()), -5),
    ] {
        let hosts = Hosts {
            http: Arc::new(RefusingHttp(error.clone())),
            ..Hosts::detached()
        };
        let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
        let permissions = Permissions::new();
        permissions.grant(Permission::Network);
        let mut inst = net_instance(&rt, permissions);
        assert_eq!(i32_of(inst.call("get_ok", &[]).unwrap()), code, "{error:?}");
    }
}

#[test]
fn http_needs_the_network_permission_and_a_whitelisted_url() {
    let host = Arc::new(FakeHttp::default());
    let hosts = Hosts {
        http: host.clone(),
        ..Hosts::detached()
    };
    let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
    let permissions = Permissions::new();
    let mut inst = net_instance(&rt, permissions.clone());

    assert_eq!(i32_of(inst.call("get_ok", &[]).unwrap()), -6);
    assert_eq!(i32_of(inst.call("ask", &[]).unwrap()), 0);
    assert_eq!(i32_of(inst.call("ask", &[]).unwrap()), 0);
    let asked: Vec<_> = inst
        .drain_events()
        .into_iter()
        .filter(|e| matches!(e, ModEvent::PermissionRequested { .. }))
        .collect();
    assert_eq!(
        asked.len(),
        1,
        "one request per kind until it is delivered: {asked:?}"
    );
    permissions.grant(Permission::Network);
    assert_eq!(i32_of(inst.call("ask", &[]).unwrap()), 1);

    assert_eq!(i32_of(inst.call("get_outside", &[]).unwrap()), -3);
    assert_eq!(i32_of(inst.call("get_with_body", &[]).unwrap()), -3);
    assert!(
        host.calls.lock().is_empty(),
        "refused requests never reach the host"
    );

    let get = i32_of(inst.call("get_ok", &[]).unwrap());
    let post = i32_of(inst.call("post_ok", &[]).unwrap());
    assert_eq!((get, post), (1, 2));
    assert_eq!(
        i32_of(inst.call("body", &[Val::I32(get)]).unwrap()),
        -7,
        "still in flight"
    );
    {
        let calls = host.calls.lock();
        assert_eq!(calls[1].method, HttpMethod::Post);
        assert_eq!(calls[1].body, b"hello");
        assert_eq!(calls[0].url.to_string(), "http://127.0.0.1:9/api/x");
        calls[0].finish(HttpOutcome::Response {
            status: 200,
            body: b"pong".to_vec(),
        });
        calls[1].finish(HttpOutcome::Failed {
            code: -3,
            message: "redirect refused".into(),
        });
    }
    assert_eq!(inst.take_http_responses(), vec![(get, 200), (post, -3)]);
    assert_eq!(i32_of(inst.call("body", &[Val::I32(get)]).unwrap()), 4);
    assert_eq!(
        i32_of(inst.call("body_byte", &[Val::I32(0)]).unwrap()),
        b'p' as i32
    );
    assert_eq!(
        i32_of(inst.call("body", &[Val::I32(get)]).unwrap()),
        -1,
        "a body read whole is freed"
    );
    assert_eq!(i32_of(inst.call("body", &[Val::I32(post)]).unwrap()), -3);

    for _ in 0..http::MAX_IN_FLIGHT {
        assert!(i32_of(inst.call("get_ok", &[]).unwrap()) > 0);
    }
    assert_eq!(
        i32_of(inst.call("get_ok", &[]).unwrap()),
        -7,
        "in-flight requests are capped"
    );

    let pending: Vec<HttpCall> = host.calls.lock().drain(..).collect();
    assert!(pending.iter().all(|c| !c.is_abandoned()));
    inst.kill("test");
    assert!(
        pending.iter().all(|c| c.is_abandoned()),
        "requests of an ended instance are abandoned"
    );
}

#[test]
fn http_from_main_goes_through_the_main_thread_bridge() {
    let host = Arc::new(FakeHttp::default());
    let hosts = Hosts {
        http: host.clone(),
        ..Hosts::detached()
    };
    let rt = Runtime::new(RuntimeConfig::default(), hosts).unwrap();
    let permissions = Permissions::new();
    permissions.grant(Permission::Network);
    let mut inst = net_instance(&rt, permissions);
    assert!(inst.start_main().unwrap());
    let start = Instant::now();
    while host.calls.lock().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the request never reached the host"
        );
        rt.bridge().run_pending(Duration::from_millis(5));
    }
    host.calls.lock()[0].finish(HttpOutcome::Response {
        status: 201,
        body: vec![7; 300],
    });
    while inst.is_main_running() {
        assert!(start.elapsed() < Duration::from_secs(5), "main did not end");
        std::thread::sleep(Duration::from_millis(1));
    }
    inst.reap_worker();
    let events = inst.drain_events();
    assert!(
        events.contains(&ModEvent::Finished { exit_code: 300 }),
        "{events:?}"
    );
}

const WASI_FILES: &str = r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "data.bin")
  (data (i32.const 16) "link")
  (data (i32.const 32) "/etc")
  (data (i32.const 48) "bad:name")
  (data (i32.const 64) "../escape")
  (func $openf (param $p i32) (param $l i32) (result i32)
    (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (local.get $p) (local.get $l) (i32.const 1)
      (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 512)))
    (if (result i32) (local.get $e) (then (i32.sub (i32.const 0) (local.get $e))) (else (i32.load (i32.const 512)))))
  (func (export "write_at") (param $offset i64) (param $len i32) (result i32)
    (local $fd i32) (local $e i32)
    (local.set $fd (call $openf (i32.const 0) (i32.const 8)))
    (if (i32.lt_s (local.get $fd) (i32.const 0)) (then (return (local.get $fd))))
    (drop (call $seek (local.get $fd) (local.get $offset) (i32.const 0) (i32.const 520)))
    (i32.store (i32.const 256) (i32.const 4096))
    (i32.store (i32.const 260) (local.get $len))
    (local.set $e (call $write (local.get $fd) (i32.const 256) (i32.const 1) (i32.const 524)))
    (drop (call $close (local.get $fd)))
    (if (result i32) (local.get $e) (then (i32.sub (i32.const 0) (local.get $e))) (else (i32.load (i32.const 524)))))
  (func (export "symlink") (result i32) (i32.sub (i32.const 0) (call $symlink (i32.const 32) (i32.const 4) (i32.const 3) (i32.const 16) (i32.const 4))))
  (func (export "create_bad_name") (result i32) (call $openf (i32.const 48) (i32.const 8)))
  (func (export "escape") (result i32) (call $openf (i32.const 64) (i32.const 9)))
  (func (export "mkdir_bad_name") (result i32) (i32.sub (i32.const 0) (call $mkdir (i32.const 3) (i32.const 48) (i32.const 8))))
  (func (export "open_data") (result i32) (call $openf (i32.const 0) (i32.const 8)))
  (func (export "open_existing") (result i32)
    (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0)
      (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 512)))
    (if (result i32) (local.get $e) (then (i32.sub (i32.const 0) (local.get $e))) (else (i32.load (i32.const 512)))))
  (func (export "unlink_data") (result i32) (i32.sub (i32.const 0) (call $unlink (i32.const 3) (i32.const 0) (i32.const 8))))
  (func (export "close") (param $fd i32) (result i32) (i32.sub (i32.const 0) (call $close (local.get $fd))))
  (func (export "write_fd") (param $fd i32) (param $len i32) (result i32)
    (local $e i32)
    (i32.store (i32.const 256) (i32.const 4096))
    (i32.store (i32.const 260) (local.get $len))
    (local.set $e (call $write (local.get $fd) (i32.const 256) (i32.const 1) (i32.const 524)))
    (if (result i32) (local.get $e) (then (i32.sub (i32.const 0) (local.get $e))) (else (i32.load (i32.const 524))))))"#;

/// An instance of the WAT text `wat`, named `name`, with `sandbox` as its sandbox; at level 2 it
/// has the `files` grant unless `granted` is false.
fn sandboxed_instance(
    rt: &Arc<Runtime>,
    (wat, name): (&str, &str),
    level: SafetyLevel,
    sandbox: &Path,
    quota: u64,
    granted: bool,
) -> ModInstance {
    let module = rt.compile(wat.as_bytes(), name).unwrap();
    let mut cfg = config(name, level, quota);
    cfg.dirs.sandbox = Some(sandbox.to_path_buf());
    if granted {
        cfg.permissions.grant(Permission::Files);
    }
    ModInstance::new(rt, &module, cfg).unwrap()
}

/// A `WASI_FILES` instance (see [`sandboxed_instance`]).
fn wasi_instance_with(
    rt: &Arc<Runtime>,
    level: SafetyLevel,
    sandbox: &Path,
    quota: u64,
    granted: bool,
) -> ModInstance {
    let wat = (WASI_FILES, "wasi_files");
    sandboxed_instance(rt, wat, level, sandbox, quota, granted)
}

fn wasi_instance(rt: &Arc<Runtime>, level: SafetyLevel, sandbox: &Path, quota: u64) -> ModInstance {
    wasi_instance_with(rt, level, sandbox, quota, true)
}

fn write_at(inst: &mut ModInstance, offset: i64, len: i32) -> i32 {
    i32_of(
        inst.call("write_at", &[Val::I64(offset), Val::I32(len)])
            .unwrap(),
    )
}

const EACCES: i32 = 2;
const EBADF: i32 = 8;
const EDQUOT: i32 = 19;
const EINVAL: i32 = 28;
const EPERM: i32 = 63;

#[test]
fn wasi_at_level_two_keeps_the_sandbox_quota_and_rules() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let dir = temp_dir("quota");
    let mut inst = wasi_instance(&rt, SafetyLevel::Wrapped, &dir, 100_000);
    assert_eq!(write_at(&mut inst, 0, 60_000), 60_000);
    assert_eq!(
        write_at(&mut inst, 0, 60_000),
        60_000,
        "overwriting adds nothing"
    );
    assert_eq!(
        write_at(&mut inst, 30_000, 60_000),
        60_000,
        "grows the file by 30 000 only"
    );
    assert_eq!(
        std::fs::metadata(dir.join("data.bin")).unwrap().len(),
        90_000
    );
    assert_eq!(write_at(&mut inst, 60_000, 50_000), -EDQUOT);
    assert_eq!(write_at(&mut inst, 10_000_000, 1), -EDQUOT, "a hole counts");
    assert_eq!(
        write_at(&mut inst, 60_000, 40_000),
        40_000,
        "up to the quota exactly"
    );
    assert_eq!(
        std::fs::metadata(dir.join("data.bin")).unwrap().len(),
        100_000
    );
    assert_eq!(i32_of(inst.call("symlink", &[]).unwrap()), -EPERM);
    assert!(std::fs::symlink_metadata(dir.join("link")).is_err());
    assert_eq!(i32_of(inst.call("create_bad_name", &[]).unwrap()), -EINVAL);
    assert_eq!(i32_of(inst.call("mkdir_bad_name", &[]).unwrap()), -EINVAL);
    assert!(
        i32_of(inst.call("escape", &[]).unwrap()) < 0,
        "`..` out of the preopen is refused by wasmtime-wasi"
    );
    assert!(!dir.parent().unwrap().join("escape").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_deleted_while_open_cannot_take_the_mod_past_its_quota() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let dir = temp_dir("orphan");
    let mut inst = wasi_instance(&rt, SafetyLevel::Wrapped, &dir, 100_000);
    let mut call = |name: &str, args: &[Val]| i32_of(inst.call(name, args).unwrap());
    let fd = call("open_data", &[]);
    assert!(fd > 0, "{fd}");
    assert_eq!(call("write_fd", &[Val::I32(fd), Val::I32(60_000)]), 60_000);
    assert_eq!(call("unlink_data", &[]), 0);
    // The file is gone from the directory, still open: every later count missed it, so it
    // could grow without end.
    assert_eq!(
        call("write_fd", &[Val::I32(fd), Val::I32(60_000)]),
        -EDQUOT,
        "an unlinked file grew"
    );
    // Its 60 000 bytes still take space while it is open.
    if cfg!(target_os = "linux") {
        assert_eq!(call("write_at", &[Val::I64(0), Val::I32(60_000)]), -EDQUOT);
    }
    assert_eq!(call("close", &[Val::I32(fd)]), 0);
    assert_eq!(call("write_at", &[Val::I64(0), Val::I32(60_000)]), 60_000);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A WASI `path_open` waits for the sandbox's lock, which `wasgo.file_write` of another
/// instance of the mod holds from its look at the open files to its rename: a file opened in
/// between stayed open, replaced, uncounted (3 MiB in a 2 MiB quota).
#[test]
fn a_wasi_open_waits_for_the_sandboxs_lock() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let dir = temp_dir("open_lock");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("data.bin"), b"old").unwrap();
    let mut inst = wasi_instance(&rt, SafetyLevel::Wrapped, &dir, 100_000);
    let (taken_tx, taken_rx) = std::sync::mpsc::channel();
    let holder = {
        let sandbox = wasgo_core::sandbox::Sandbox::new(dir.clone(), 100_000);
        std::thread::spawn(move || {
            let held = sandbox.hold();
            taken_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(150));
            let released = Instant::now();
            drop(held);
            released
        })
    };
    taken_rx.recv().unwrap();
    // An existing file, without `O_CREAT` (which waited for the lock already, to count the
    // new entry).
    let fd = i32_of(inst.call("open_existing", &[]).unwrap());
    let opened = Instant::now();
    let released = holder.join().unwrap();
    assert!(fd > 0, "{fd}");
    assert!(
        opened >= released,
        "path_open returned while another holder had the sandbox's lock"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Creating through WASI past the sandbox's entry limit fails with `EDQUOT`, looked at under
/// the sandbox's lock (also for `path_create_directory`); an existing file opens as before.
#[test]
fn wasi_creations_keep_the_entry_limit() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let dir = temp_dir("entries");
    std::fs::create_dir_all(&dir).unwrap();
    let max = wasgo_core::sandbox::MAX_ENTRIES;
    for i in 0..max {
        std::fs::write(dir.join(format!("f{i}")), b"").unwrap();
    }
    let mut inst = wasi_instance(&rt, SafetyLevel::Wrapped, &dir, 1 << 20);
    assert_eq!(i32_of(inst.call("open_data", &[]).unwrap()), -EDQUOT);
    assert!(!dir.join("data.bin").exists());
    std::fs::remove_file(dir.join("f0")).unwrap();
    let fd = i32_of(inst.call("open_data", &[]).unwrap());
    assert!(fd > 0, "{fd}");
    assert_eq!(i32_of(inst.call("close", &[Val::I32(fd)]).unwrap()), 0);
    // Full again: the existing file still opens (it is no new entry).
    let fd = i32_of(inst.call("open_data", &[]).unwrap());
    assert!(fd > 0, "an existing file opens at the limit: {fd}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A WASI directory one level past what a count of the sandbox reads (64) is taken back with
/// `EDQUOT`: made, it made every later count, and so every later write, fail.
#[test]
fn a_wasi_directory_past_the_counted_depth_is_taken_back() {
    const DEEP: &str = r#"(module
      (import "wasi_snapshot_preview1" "path_create_directory" (func $mk (param i32 i32 i32) (result i32)))
      (import "wasgo" "file_write" (func $fw (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 2000) "top.txt")
      ;; Makes "d", "d/d", ... `levels` deep; returns the first level (1-based) refused, with its
      ;; errno times 1000, or 0.
      (func (export "mkdirs") (param $levels i32) (result i32)
        (local $k i32) (local $r i32)
        (loop $l
          (i32.store8 (i32.mul (local.get $k) (i32.const 2)) (i32.const 100))
          (i32.store8 (i32.add (i32.mul (local.get $k) (i32.const 2)) (i32.const 1)) (i32.const 47))
          (local.set $r (call $mk (i32.const 3) (i32.const 0) (i32.add (i32.mul (local.get $k) (i32.const 2)) (i32.const 1))))
          (if (local.get $r)
            (then (return (i32.add (i32.mul (local.get $r) (i32.const 1000)) (i32.add (local.get $k) (i32.const 1))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $k) (local.get $levels))))
        (i32.const 0))
      (func (export "write_top") (result i32)
        (call $fw (i32.const 2000) (i32.const 7) (i32.const 2000) (i32.const 7))))"#;
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let dir = temp_dir("deep_dirs");
    std::fs::create_dir_all(&dir).unwrap();
    let wat = (DEEP, "deep_dirs");
    let mut inst = sandboxed_instance(&rt, wat, SafetyLevel::Wrapped, &dir, 1 << 20, true);
    let max = wasgo_core::sandbox::usage::MAX_WALK_DEPTH as i32;
    assert_eq!(
        i32_of(inst.call("mkdirs", &[Val::I32(max + 2)]).unwrap()),
        EDQUOT * 1000 + max + 1,
        "the level past the counted depth is refused"
    );
    let mut deepest = dir.clone();
    for _ in 0..max {
        deepest.push("d");
    }
    assert!(deepest.is_dir());
    assert!(
        !deepest.join("d").exists(),
        "the refused level was taken back"
    );
    assert_eq!(
        i32_of(inst.call("write_top", &[]).unwrap()),
        0,
        "the sandbox can still be written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A WASI rename that moves a directory deeper than a count of the sandbox reads is moved back
/// with `EDQUOT`, as `path_create_directory` one level too deep is.
#[test]
fn a_wasi_rename_past_the_counted_depth_is_moved_back() {
    const RENAME: &str = r#"(module
      (import "wasi_snapshot_preview1" "path_rename" (func $mv (param i32 i32 i32 i32 i32 i32) (result i32)))
      (import "wasgo" "file_write" (func $fw (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "b")
      (data (i32.const 100) "DEEP_PATH")
      (data (i32.const 2000) "top.txt")
      (func (export "rename") (result i32)
        (call $mv (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 3) (i32.const 100) (i32.const DEEP_LEN)))
      (func (export "write_top") (result i32)
        (call $fw (i32.const 2000) (i32.const 7) (i32.const 2000) (i32.const 7))))"#;
    let wat = RENAME
        .replace("DEEP_PATH", "a/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/b")
        .replace("DEEP_LEN", &"a/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/b".len().to_string());
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let dir = temp_dir("deep_rename");
    // `a/d/.../d` 60 levels deep, and `b/d/.../d` 10 levels deep: moved under the first, `b`'s
    // deepest directory would be 71 levels down.
    let mut a = dir.join("a");
    for _ in 0..59 {
        a.push("d");
    }
    std::fs::create_dir_all(&a).unwrap();
    let mut b = dir.join("b");
    for _ in 0..10 {
        b.push("d");
    }
    std::fs::create_dir_all(&b).unwrap();
    let module = wat.leak();
    let mut inst = sandboxed_instance(
        &rt,
        (module, "deep_rename"),
        SafetyLevel::Wrapped,
        &dir,
        1 << 20,
        true,
    );
    assert_eq!(
        i32_of(inst.call("rename", &[]).unwrap()),
        EDQUOT,
        "the rename past the counted depth is refused"
    );
    assert!(dir.join("b").is_dir(), "the directory was moved back");
    assert!(!a.join("b").exists());
    assert_eq!(
        i32_of(inst.call("write_top", &[]).unwrap()),
        0,
        "the sandbox can still be written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_sandbox_folder_that_is_a_link_is_refused() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let outside = temp_dir("link_target");
    std::fs::create_dir_all(&outside).unwrap();
    let link = temp_dir("link_sandbox");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let module = rt.compile(WASI_FILES.as_bytes(), "wasi_files").unwrap();
    let mut cfg = config("wasi_files", SafetyLevel::Wrapped, 100_000);
    cfg.dirs.sandbox = Some(link.clone());
    match ModInstance::new(&rt, &module, cfg) {
        Err(WasgoError::Instantiate { reason, .. }) => {
            assert!(reason.contains("is a symbolic link"), "{reason}")
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a linked sandbox was used"),
    }
    let _ = std::fs::remove_file(&link);
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn wasi_sandbox_needs_the_files_grant_at_level_two_only() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let dir = temp_dir("grant");
    let mut ungranted = wasi_instance_with(&rt, SafetyLevel::Wrapped, &dir, 100_000, false);
    assert_eq!(write_at(&mut ungranted, 0, 10), -EACCES);
    assert!(!dir.join("data.bin").exists());
    let mut unsafe_ = wasi_instance_with(&rt, SafetyLevel::Unsafe, &dir, 100_000, false);
    assert_eq!(write_at(&mut unsafe_, 0, 10), 10, "level 3 needs no grant");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wasi_has_no_files_at_level_one_and_no_sandbox_quota_at_level_three() {
    let rt = Runtime::new(RuntimeConfig::default(), Hosts::detached()).unwrap();
    let dir = temp_dir("levels");
    let mut safe = wasi_instance(&rt, SafetyLevel::Safe, &dir, 100_000);
    assert_eq!(
        write_at(&mut safe, 0, 10),
        -EBADF,
        "no preopened directory at level 1"
    );
    assert!(!dir.join("data.bin").exists());
    let mut unsafe_ = wasi_instance(&rt, SafetyLevel::Unsafe, &dir, 100_000);
    assert_eq!(write_at(&mut unsafe_, 100_000, 50_000), 50_000);
    assert_eq!(
        std::fs::metadata(dir.join("data.bin")).unwrap().len(),
        150_000
    );
    let _ = std::fs::remove_dir_all(&dir);
}
