//! Macros that export a mod's entry points with the exact names and signatures WasGo calls.
//!
//! ```ignore
//! fn ready() { wasgo_sdk::info!("ready") }
//! fn process(delta: f64) { /* every frame */ }
//! fn main() -> i32 { 0 }
//! wasgo_sdk::export_ready!(ready);
//! wasgo_sdk::export_process!(process);
//! wasgo_sdk::export_main!(main);
//! ```

/// Exports `init()`: runs right after instantiation, before `main`, on the main thread.
#[macro_export]
macro_rules! export_init {
    ($f:path) => {
        #[export_name = "init"]
        pub extern "C" fn __wasgo_init() {
            $f()
        }
    };
}

/// Exports `ready()`: runs once the node is ready, on the main thread.
#[macro_export]
macro_rules! export_ready {
    ($f:path) => {
        #[export_name = "ready"]
        pub extern "C" fn __wasgo_ready() {
            $f()
        }
    };
}

/// Exports `process(delta: f64)`: runs every frame while `main` is not running.
#[macro_export]
macro_rules! export_process {
    ($f:path) => {
        #[export_name = "process"]
        pub extern "C" fn __wasgo_process(delta: f64) {
            $f(delta)
        }
    };
}

/// Exports `input(event)`: receives the input events the game did not handle, when the game
/// turns `wasgo/safety/input_events` on (off by default). `$f` takes the event as an
/// [`Object`](crate::Object) (the mod's own copy: read `keycode`, `pressed`, `position`, ...,
/// or call `is_action_pressed`).
#[macro_export]
macro_rules! export_input {
    ($f:path) => {
        #[export_name = "input"]
        pub extern "C" fn __wasgo_input(event: i32) {
            if let Some(event) = $crate::Object::from_handle(event) {
                $f(event)
            }
        }
    };
}

/// Exports `physics_process(delta: f64)`: runs every physics tick while `main` is not running.
#[macro_export]
macro_rules! export_physics_process {
    ($f:path) => {
        #[export_name = "physics_process"]
        pub extern "C" fn __wasgo_physics_process(delta: f64) {
            $f(delta)
        }
    };
}

/// Exports `process_node(node, delta)` (ABI 1.2): when the game sets the `WasmScript`'s
/// `process_group`, it runs every frame (after `process`) once for each node of that group the
/// mod may reach, all in one call into the mod. `$f` takes the node as a borrowed
/// [`Object`](crate::Object) — its handle is the one `get_node` gives for that node and stays the
/// same every frame, so the macro never releases it — and the frame's delta.
///
/// ```ignore
/// fn process_node(node: &wasgo_sdk::Object, delta: f64) {
///     let x = node.get("position").ok().and_then(|p| p.as_vector2()).map_or(0.0, |p| p.x);
///     let _ = node.set_vec2("position", wasgo_sdk::Vector2::new(x + 60.0 * delta as f32, 0.0));
/// }
/// wasgo_sdk::export_process_node!(process_node);
/// ```
#[macro_export]
macro_rules! export_process_node {
    ($f:path) => {
        #[export_name = "process_node"]
        pub extern "C" fn __wasgo_process_node(node: i32, delta: f64) {
            // Borrowed: the group pass owns the handle, it is the same next frame.
            if let Some(node) = $crate::Object::pinned(node) {
                $f(&node, delta)
            }
        }
    };
}

/// Exports `physics_process_node(node, delta)` (ABI 1.2): as [`export_process_node!`], every
/// physics tick (after `physics_process`) with the physics delta.
#[macro_export]
macro_rules! export_physics_process_node {
    ($f:path) => {
        #[export_name = "physics_process_node"]
        pub extern "C" fn __wasgo_physics_process_node(node: i32, delta: f64) {
            // Borrowed, as in `export_process_node!`.
            if let Some(node) = $crate::Object::pinned(node) {
                $f(&node, delta)
            }
        }
    };
}

/// Exports `process_nodes(nodes_ptr, count, delta)` (ABI 1.3), the bulk form of
/// [`export_process_node!`]: the group's nodes arrive in batches (up to 256 per call) as a
/// [`Nodes`](crate::Nodes) view and the mod loops over them itself, which costs the host far
/// less per node. A mod that exports it is never called through `process_node`. It needs the
/// `malloc` export (the `allocator` feature, on by default) for the host's buffer.
///
/// ```ignore
/// fn process_nodes(nodes: wasgo_sdk::Nodes<'_>, delta: f64) {
///     for node in nodes.iter() {
///         let _ = node.set_vec2("position", wasgo_sdk::Vector2::new(60.0 * delta as f32, 0.0));
///     }
/// }
/// wasgo_sdk::export_process_nodes!(process_nodes);
/// ```
#[macro_export]
macro_rules! export_process_nodes {
    ($f:path) => {
        #[export_name = "process_nodes"]
        pub extern "C" fn __wasgo_process_nodes(nodes: i32, count: i32, delta: f64) {
            // SAFETY: the host wrote `count` handles at `nodes`, in a buffer it allocated with
            // this mod's `malloc` and frees only after this call returns.
            let nodes = unsafe { $crate::Nodes::from_raw(nodes, count) };
            $f(nodes, delta)
        }
    };
}

/// Exports `physics_process_nodes(nodes_ptr, count, delta)` (ABI 1.3): as
/// [`export_process_nodes!`], every physics tick with the physics delta.
#[macro_export]
macro_rules! export_physics_process_nodes {
    ($f:path) => {
        #[export_name = "physics_process_nodes"]
        pub extern "C" fn __wasgo_physics_process_nodes(nodes: i32, count: i32, delta: f64) {
            // SAFETY: as in `export_process_nodes!`.
            let nodes = unsafe { $crate::Nodes::from_raw(nodes, count) };
            $f(nodes, delta)
        }
    };
}

/// Exports `main() -> i32` (run on a worker thread by `start()`; the value is the exit code of
/// the node's `finished` signal). `$f` returns `i32` or `()` (exit code 0).
#[macro_export]
macro_rules! export_main {
    ($f:path) => {
        #[export_name = "main"]
        pub extern "C" fn __wasgo_main() -> i32 {
            $crate::__ExitCode::code($f())
        }
    };
}

/// What a `main` function may return.
#[doc(hidden)]
pub trait __ExitCode {
    fn code(self) -> i32;
}

impl __ExitCode for i32 {
    fn code(self) -> i32 {
        self
    }
}

impl __ExitCode for () {
    fn code(self) -> i32 {
        0
    }
}

/// Exports `save_state` and `load_state`, so the mod keeps its state when it is hot-reloaded
/// (its `.wasm` changed on disk while the game runs, `wasgo/runtime/hot_reload`). `$save` is a
/// `fn() -> Vec<u8>` the old instance runs before it ends; `$load` a `fn(&[u8])` the new one
/// runs right after `init`, before `ready` and `main`, with those bytes (also after a change of
/// the mod's code: decode defensively). At most 16 MiB; needs the `allocator` feature (the host
/// passes the bytes through the mod's `malloc`).
///
/// ```ignore
/// static SCORE: AtomicI32 = AtomicI32::new(0);
/// fn save() -> Vec<u8> { SCORE.load(Relaxed).to_le_bytes().to_vec() }
/// fn load(bytes: &[u8]) {
///     if let Ok(b) = <[u8; 4]>::try_from(bytes) { SCORE.store(i32::from_le_bytes(b), Relaxed) }
/// }
/// wasgo_sdk::export_state!(save, load);
/// ```
#[macro_export]
macro_rules! export_state {
    ($save:path, $load:path) => {
        #[export_name = "save_state"]
        pub extern "C" fn __wasgo_save_state(out_ptr: *mut u8, out_cap: usize) -> i32 {
            // SAFETY: only the host calls this export, with `(0, 0)` or a buffer of `out_cap`
            // bytes it allocated in the mod's memory with `malloc` (docs/abi.md).
            unsafe { $crate::__save_state(out_ptr, out_cap, $save) }
        }

        #[export_name = "load_state"]
        pub extern "C" fn __wasgo_load_state(ptr: *const u8, len: usize) {
            // SAFETY: only the host calls this export, with `len` bytes of state at `ptr` in a
            // buffer it allocated with `malloc` and frees after the call (docs/abi.md).
            unsafe { $crate::__load_state(ptr, len, $load) }
        }
    };
}

/// Exports `config(out_ptr, out_cap) -> len` answering the JSON object text `$make` (a
/// `fn() -> String`) returns: dynamic metadata the game reads with `WasmModule.get_config()` and
/// `WasmScript.get_mod_config()` (a Dictionary; integers stay integers). The host runs it before
/// the mod starts, in a throwaway instance in which every import traps (no Godot, WASI or game
/// functions: compute the text from the mod's own data), under a 50 ms CPU budget; at most
/// 64 KiB. Needs the `allocator` feature (the host passes the buffer through `malloc`).
///
/// ```ignore
/// fn config() -> String { format!(r#"{{"waves": {}, "boss": "ogre"}}"#, 2 + 1) }
/// wasgo_sdk::export_config!(config);
/// ```
#[macro_export]
macro_rules! export_config {
    ($make:path) => {
        #[export_name = "config"]
        pub extern "C" fn __wasgo_config(out_ptr: *mut u8, out_cap: usize) -> i32 {
            // SAFETY: only the host calls this export, with `(0, 0)` or a buffer of `out_cap`
            // bytes it allocated in the mod's memory with `malloc` (docs/abi.md).
            unsafe { $crate::__config(out_ptr, out_cap, $make) }
        }
    };
}
