//! `hello`: the smallest useful mod. Shows that both output paths reach the game's `output`
//! signal (WASI stdout and `wasgo.log`) and that `WasmScript.args` reach `main`.

#[link(wasm_import_module = "wasgo")]
extern "C" {
    /// `wasgo.log(level, ptr, len)`: one log line, UTF-8.
    #[link_name = "log"]
    fn wasgo_log(level: i32, ptr: *const u8, len: usize);
}

fn log(text: &str) {
    // SAFETY: `text` is a live UTF-8 slice in this module's memory for the whole call.
    unsafe { wasgo_log(1, text.as_ptr(), text.len()) }
}

fn main() {
    println!("hello from wasi");
    log("hello from wasgo.log");
    for arg in std::env::args() {
        println!("arg: {arg}");
    }
}
