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
