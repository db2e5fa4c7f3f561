//! The loop every target runs in.
//!
//! Environment (all optional):
//! - `WASGO_FUZZ_SECONDS`: run each target this long instead of the short pass's fixed count;
//! - `WASGO_FUZZ_SEED`: the base seed (default: fixed per target, so the short pass is
//!   deterministic);
//! - `WASGO_FUZZ_CASE`: replay only the case with this seed (printed with each failure).

use arbitrary::Unstructured;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// SplitMix64: small, fast and good enough to make fuzz input.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len.div_ceil(8))
            .flat_map(|_| self.next_u64().to_le_bytes())
            .take(len)
            .collect()
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn fixed_seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Runs `case` on random input of up to `max_len` bytes: `short_cases` times from a fixed seed,
/// or for `WASGO_FUZZ_SECONDS`. Prints the figures; fails the test if any case panicked.
pub fn run(
    name: &str,
    short_cases: u64,
    max_len: usize,
    mut case: impl FnMut(&mut Unstructured<'_>),
) {
    let one = |case: &mut dyn FnMut(&mut Unstructured<'_>), seed: u64| {
        let mut rng = Rng::new(seed);
        let len = (rng.next_u64() % (max_len as u64 + 1)) as usize;
        let data = rng.bytes(len);
        catch_unwind(AssertUnwindSafe(|| case(&mut Unstructured::new(&data))))
    };
    if let Some(seed) = env_u64("WASGO_FUZZ_CASE") {
        if let Err(panic) = one(&mut case, seed) {
            std::panic::resume_unwind(panic);
        }
        return;
    }
    let seconds = env_u64("WASGO_FUZZ_SECONDS");
    let base = env_u64("WASGO_FUZZ_SEED").unwrap_or_else(|| fixed_seed(name));
    let mut seeds = Rng::new(base);
    let start = Instant::now();
    let deadline = seconds.map(|s| start + Duration::from_secs(s));
    let (mut executions, mut failures) = (0u64, Vec::new());
    loop {
        let done = match deadline {
            Some(deadline) => Instant::now() >= deadline,
            None => executions >= short_cases,
        };
        if done {
            break;
        }
        let seed = seeds.next_u64();
        if let Err(panic) = one(&mut case, seed) {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            failures.push((seed, what));
        }
        executions += 1;
    }
    println!(
        "fuzz {name}: {executions} executions in {:.1} s, {} failures (seed {base})",
        start.elapsed().as_secs_f64(),
        failures.len()
    );
    for (seed, what) in failures.iter().take(5) {
        println!("  case {seed}: {what}");
    }
    if let Some((seed, _)) = failures.first() {
        panic!(
            "fuzz target `{name}` failed {} times; replay one case with WASGO_FUZZ_CASE={seed} cargo test -p wasgo-core --test fuzz {name}",
            failures.len()
        );
    }
}

/// Text made of `pieces` chosen by `u` (structured input finds more than random bytes).
pub fn text_from(u: &mut Unstructured<'_>, pieces: &[&str]) -> String {
    let mut s = String::new();
    let n = u.int_in_range(0..=12).unwrap_or(0);
    for _ in 0..n {
        if u.ratio(1, 8).unwrap_or(false) {
            if let Ok(c) = u.arbitrary::<char>() {
                s.push(c);
            }
        } else if let Ok(p) = u.choose(pieces) {
            s.push_str(p);
        }
    }
    s
}
