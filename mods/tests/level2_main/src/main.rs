//! `level2_main`: level-2 work from `main` (on the worker thread). The first argument picks
//! the scenario:
//!
//! - `write-loop <kib>`: writes `big.bin` (`<kib>` KiB, every byte the same, a different byte
//!   each round) with `wasgo.file_write` in an endless loop, printing `wrote <round>`; the test
//!   kills it mid-loop and checks the file is whole.
//! - `wasi <quota_kib>`: uses WASI's file system and prints one `wasi <check>: <result>` line per
//!   check: write/read/list in `/sandbox`, escapes, a symlink, a write over the quota, whether
//!   `/res` and `/user` exist and whether the environment is passed.
//! - `http-poll <url>`: `wasgo.http_request` GET from `main`, then polls `wasgo.http_body` until
//!   the answer is there; prints `polled <len> <first bytes as hex>` or the error.

use std::io::Write;

#[link(wasm_import_module = "wasgo")]
extern "C" {
    fn last_error(out: *mut u8, cap: usize) -> i32;
    fn file_write(pp: *const u8, pl: usize, dp: *const u8, dl: usize) -> i32;
    fn http_request(up: *const u8, ul: usize, mp: *const u8, ml: usize, bp: *const u8, bl: usize) -> i32;
    fn http_body(id: i32, out: *mut u8, cap: usize) -> i32;
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn path_symlink(old: *const u8, old_len: usize, fd: i32, new: *const u8, new_len: usize) -> i32;
}

// SAFETY (for every `unsafe` call below): each pointer/length pair is a live slice of this
// module's memory for the duration of the call, as the `wasgo` ABI requires.

fn error_text(code: i32) -> String {
    let mut buf = vec![0u8; 1024];
    let n = unsafe { last_error(buf.as_mut_ptr(), buf.len()) };
    buf.truncate(n.clamp(0, 1024) as usize);
    format!("error {code}: {}", String::from_utf8_lossy(&buf))
}

fn write_loop(kib: usize) -> i32 {
    let mut round: u32 = 0;
    loop {
        let data = vec![(round % 250) as u8 + 1; kib * 1024];
        let n = unsafe { file_write(b"big.bin".as_ptr(), 7, data.as_ptr(), data.len()) };
        if n < 0 {
            println!("write failed: {}", error_text(n));
            return 1;
        }
        println!("wrote {round}");
        round += 1;
    }
}

fn check(name: &str, outcome: std::io::Result<String>) {
    match outcome {
        Ok(text) => println!("wasi {name}: ok {text}"),
        Err(e) => println!("wasi {name}: err {:?}", e.kind()),
    }
}

fn wasi(quota_kib: usize) -> i32 {
    use std::fs;
    check("write", fs::write("/sandbox/wasi.txt", b"from wasi").map(|_| String::new()));
    check("read", fs::read_to_string("/sandbox/wasi.txt"));
    check("list", fs::read_dir("/sandbox").map(|d| {
        let mut names: Vec<String> = d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names.join(",")
    }));
    check("escape_dotdot", fs::write("/sandbox/../wasgo_wasi_escape.txt", b"x").map(|_| String::new()));
    check("escape_absolute", fs::write("/wasgo_wasi_escape.txt", b"x").map(|_| String::new()));
    // fd 3 is the first preopened directory: `/sandbox` at levels 2 and 3.
    let errno = unsafe { path_symlink(b"/etc".as_ptr(), 4, 3, b"link".as_ptr(), 4) };
    println!("wasi symlink: {}", if errno == 0 { "ok".to_string() } else { format!("errno {errno}") });
    check("bad_name", fs::write("/sandbox/bad:name.txt", b"x").map(|_| String::new()));
    let big = vec![7u8; (quota_kib + 64) * 1024];
    check("over_quota", (|| {
        let mut f = fs::File::create("/sandbox/big.bin")?;
        f.write_all(&big)?;
        Ok(String::new())
    })());
    check("big_size", fs::metadata("/sandbox/big.bin").map(|m| (m.len() <= (quota_kib as u64) * 1024).to_string()));
    let _ = fs::remove_file("/sandbox/big.bin");
    check("res", fs::metadata("/res/project.godot").map(|m| m.is_file().to_string()));
    check("user", fs::metadata("/user").map(|m| m.is_dir().to_string()));
    println!("wasi env: {}", std::env::vars().count() > 0);
    0
}

fn http_poll(url: &str) -> i32 {
    let id = unsafe { http_request(url.as_ptr(), url.len(), b"GET".as_ptr(), 3, std::ptr::null(), 0) };
    if id < 0 {
        println!("request failed: {}", error_text(id));
        return 1;
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = unsafe { http_body(id, buf.as_mut_ptr(), buf.len()) };
        if n == wasgo_catalog::ErrorCode::Busy.code() {
            std::thread::sleep(std::time::Duration::from_millis(5));
            continue;
        }
        if n < 0 {
            println!("polled {}", error_text(n));
            return 1;
        }
        let shown: String = buf[..(n as usize).min(8)].iter().map(|b| format!("{b:02x}")).collect();
        println!("polled {n} {shown}");
        return 0;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let code = match arg(1).as_str() {
        "write-loop" => write_loop(arg(2).parse().unwrap_or(1024)),
        "wasi" => wasi(arg(2).parse().unwrap_or(1024)),
        "http-poll" => http_poll(&arg(2)),
        other => {
            println!("unknown scenario `{other}`");
            2
        }
    };
    std::process::exit(code);
}
