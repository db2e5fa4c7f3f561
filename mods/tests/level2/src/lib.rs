//! `level2`: exercises the level-2 functions with raw imports. A reactor (`cdylib`) the test
//! drives through `op(code)`; the arguments come from the game function `level2_test.arg(i)` and
//! results go back through `level2_test.report(text)`, so the test decides every path, URL and
//! body. See `godot_project/tests/test_level2_*.gd`.
//!
//! `op` codes: 1 `file_write(arg0, arg1)`, 2 `file_read(arg0)` (reports the text), 3
//! `file_list(arg0)` (reports the listing), 4 `file_delete(arg0)`, 5 `request_permission(arg0)`,
//! 6 `http_request(url = arg0, method = arg1, body = arg2)`, 7 `safety_level()`, 8 `file_write`
//! to `arg0` with a NUL byte and `.txt` appended, 9 `http_body(arg0 as a number)` (reports it),
//! 10 `request_permission(arg0)` a thousand times in a row (reports the last result); through
//! the Rust SDK's helpers: 11 `files::list(arg0)` (reports the names joined by `|`), 12
//! `http::request(arg0, arg1, arg2)`, 13 `read_string` of the game function `arg(1)` (reports
//! it).
//! A negative result is reported as `error <code>: <last_error>`. `http_response(id, status)`
//! reports `response <id> <status> <len> <hex body>` or `response <id> <status> error <code>:
//! <message>`.

#[link(wasm_import_module = "wasgo")]
extern "C" {
    fn last_error(out: *mut u8, cap: usize) -> i32;
    fn safety_level() -> i32;
    fn file_write(pp: *const u8, pl: usize, dp: *const u8, dl: usize) -> i32;
    fn file_read(pp: *const u8, pl: usize, out: *mut u8, cap: usize) -> i32;
    fn file_list(pp: *const u8, pl: usize, out: *mut u8, cap: usize) -> i32;
    fn file_delete(pp: *const u8, pl: usize) -> i32;
    fn request_permission(kp: *const u8, kl: usize) -> i32;
    fn http_request(up: *const u8, ul: usize, mp: *const u8, ml: usize, bp: *const u8, bl: usize) -> i32;
    fn http_body(id: i32, out: *mut u8, cap: usize) -> i32;
}

#[link(wasm_import_module = "level2_test")]
extern "C" {
    /// Game function `arg(i32) -> string`.
    fn arg(index: i32, out: *mut u8, cap: usize) -> i32;
    /// Game function `report(string)`.
    fn report(ptr: *const u8, len: usize);
}

// SAFETY (for every `unsafe` call below): each pointer/length pair is a live slice of this
// module's memory for the duration of the call, as the `wasgo` ABI requires.

/// Calls `f(buf)` with growing buffers until the result fits (the caller-buffer convention).
fn fetch(mut f: impl FnMut(*mut u8, usize) -> i32) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; 256];
    loop {
        let n = f(buf.as_mut_ptr(), buf.len());
        if n < 0 {
            return Err(n);
        }
        if n as usize <= buf.len() {
            buf.truncate(n as usize);
            return Ok(buf);
        }
        buf = vec![0u8; n as usize];
    }
}

fn say(text: &str) {
    unsafe { report(text.as_ptr(), text.len()) }
}

fn get_arg(i: i32) -> String {
    String::from_utf8(fetch(|p, c| unsafe { arg(i, p, c) }).unwrap_or_default()).unwrap_or_default()
}

fn error_text(code: i32) -> String {
    let message = fetch(|p, c| unsafe { last_error(p, c) }).unwrap_or_default();
    format!("error {code}: {}", String::from_utf8_lossy(&message))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reports the outcome of a call returning a code, and returns the code.
fn done(code: i32) -> i32 {
    if code < 0 {
        say(&error_text(code));
    } else {
        say(&format!("ok {code}"));
    }
    code
}

/// Reports fetched bytes as text (or the error), and returns the length or code.
fn done_bytes(result: Result<Vec<u8>, i32>) -> i32 {
    match result {
        Ok(bytes) => {
            say(&format!("ok {}", String::from_utf8_lossy(&bytes)));
            bytes.len() as i32
        }
        Err(code) => done(code),
    }
}

#[no_mangle]
pub extern "C" fn op(code: i32) -> i32 {
    let a0 = get_arg(0);
    match code {
        1 => {
            let data = get_arg(1);
            done(unsafe { file_write(a0.as_ptr(), a0.len(), data.as_ptr(), data.len()) })
        }
        2 => done_bytes(fetch(|p, c| unsafe { file_read(a0.as_ptr(), a0.len(), p, c) })),
        3 => done_bytes(fetch(|p, c| unsafe { file_list(a0.as_ptr(), a0.len(), p, c) })),
        4 => done(unsafe { file_delete(a0.as_ptr(), a0.len()) }),
        5 => done(unsafe { request_permission(a0.as_ptr(), a0.len()) }),
        6 => {
            let (method, body) = (get_arg(1), get_arg(2));
            done(unsafe { http_request(a0.as_ptr(), a0.len(), method.as_ptr(), method.len(), body.as_ptr(), body.len()) })
        }
        7 => done(unsafe { safety_level() }),
        8 => {
            let path = format!("{a0}\0.txt");
            done(unsafe { file_write(path.as_ptr(), path.len(), b"x".as_ptr(), 1) })
        }
        9 => {
            let id: i32 = a0.parse().unwrap_or(-1);
            match fetch(|p, c| unsafe { http_body(id, p, c) }) {
                Ok(bytes) => {
                    say(&format!("body {id} {} {}", bytes.len(), hex(&bytes)));
                    bytes.len() as i32
                }
                Err(code) => done(code),
            }
        }
        10 => {
            let mut last = 0;
            for _ in 0..1000 {
                last = unsafe { request_permission(a0.as_ptr(), a0.len()) };
            }
            done(last)
        }
        11 => match wasgo_sdk::files::list(&a0) {
            Ok(names) => {
                say(&format!("ok {}", names.join("|")));
                names.len() as i32
            }
            Err(e) => done(e.code()),
        },
        12 => {
            let (method, body) = (get_arg(1), get_arg(2));
            match wasgo_sdk::http::request(&a0, &method, body.as_bytes()) {
                Ok(id) => done(id),
                Err(e) => done(e.code()),
            }
        }
        13 => match wasgo_sdk::read_string(|p, c| unsafe { arg(1, p as *mut u8, c as usize) }) {
            Ok(text) => {
                say(&format!("ok {text}"));
                text.len() as i32
            }
            Err(e) => done(e.code()),
        },
        _ => done(-3),
    }
}

#[no_mangle]
pub extern "C" fn http_response(id: i32, status: i32) {
    match fetch(|p, c| unsafe { http_body(id, p, c) }) {
        Ok(bytes) => say(&format!("response {id} {status} {} {}", bytes.len(), hex(&bytes))),
        Err(code) => say(&format!("response {id} {status} {}", error_text(code))),
    }
}
