//! `levels`: deterministic work whose results must be identical at safety levels 1, 2 and 3.
//! The result lines never mention the level; the level is printed on its own line so the test
//! can check which level the mod really ran at.

#[link(wasm_import_module = "wasgo")]
extern "C" {
    /// `wasgo.log(level, ptr, len)`: one log line, UTF-8.
    #[link_name = "log"]
    fn wasgo_log(level: i32, ptr: *const u8, len: usize);
    /// `wasgo.safety_level() -> i32`: the level this instance runs at.
    #[link_name = "safety_level"]
    fn wasgo_safety_level() -> i32;
    /// `wasgo.has_function(module_ptr, module_len, name_ptr, name_len) -> i32`: 1 if exposed.
    #[link_name = "has_function"]
    fn wasgo_has_function(module: *const u8, module_len: usize, name: *const u8, name_len: usize) -> i32;
}

fn log(text: &str) {
    // SAFETY: `text` is a live UTF-8 slice in this module's memory for the whole call.
    unsafe { wasgo_log(1, text.as_ptr(), text.len()) }
}

fn has_function(module: &str, name: &str) -> i32 {
    // SAFETY: both slices are live UTF-8 in this module's memory for the whole call.
    unsafe { wasgo_has_function(module.as_ptr(), module.len(), name.as_ptr(), name.len()) }
}

/// Sum of every prime below `limit` (sieve of Eratosthenes).
fn sum_of_primes_below(limit: usize) -> u64 {
    let mut composite = vec![false; limit];
    let mut sum = 0u64;
    for n in 2..limit {
        if !composite[n] {
            sum += n as u64;
            let mut multiple = n * n;
            while multiple < limit {
                composite[multiple] = true;
                multiple += n;
            }
        }
    }
    sum
}

/// 64-bit FNV-1a.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

fn main() {
    let primes = sum_of_primes_below(100_000);
    let hash = fnv1a64(b"WasGo runs the same mod at every safety level");
    let has_log = has_function("wasgo", "log");
    let result = format!("result: primes={primes} fnv={hash:016x} has_log={has_log}");
    println!("{result}");
    log(&format!("logged {result}"));
    // Kept out of the compared lines on purpose: it is the only thing that may differ.
    println!("level: {}", unsafe { wasgo_safety_level() });
}
