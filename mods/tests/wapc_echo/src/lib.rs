//! A waPC guest: echoes, calls host operations and fails on purpose, for WasGo's tests.
//!
//! | operation | does |
//! |---|---|
//! | `echo` | answers the payload |
//! | `call` | payload `binding\0namespace\0operation\0bytes`: calls that host operation, answers its reply (a host error becomes the guest error) |
//! | `log` | writes the payload to the host's console, answers nothing |
//! | `big` | calls `game/scores/rank` with a 2 MiB payload (the host refuses it) |
//! | `trap` | traps (`unreachable`) |

use wapc_guest::{self as wapc, CallResult};

#[no_mangle]
pub fn wapc_init() {
    wapc::register_function("echo", echo);
    wapc::register_function("call", call);
    wapc::register_function("log", log);
    wapc::register_function("big", big);
    wapc::register_function("trap", trap);
}

fn echo(payload: &[u8]) -> CallResult {
    Ok(payload.to_vec())
}

fn call(payload: &[u8]) -> CallResult {
    let mut parts = payload.splitn(4, |b| *b == 0);
    let mut text = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (binding, namespace, operation) = (text(), text(), text());
    let rest = payload.splitn(4, |b| *b == 0).nth(3).unwrap_or_default();
    wapc::host_call(&binding, &namespace, &operation, rest)
}

fn log(payload: &[u8]) -> CallResult {
    wapc::console_log(&String::from_utf8_lossy(payload));
    Ok(Vec::new())
}

fn big(_payload: &[u8]) -> CallResult {
    wapc::host_call("game", "scores", "rank", &vec![7u8; 2 << 20])
}

fn trap(_payload: &[u8]) -> CallResult {
    core::arch::wasm32::unreachable()
}
