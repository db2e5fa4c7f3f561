//! `cargo xtask fuzz [--seconds N]`: every fuzz target for N seconds (default 60) from a random
//! seed, then the figures.
//!
//! The targets are the `fuzz` integration test of `wasgo-core` (`rust/wasgo-core/tests/fuzz/`),
//! which `cargo test` runs in a short deterministic pass. Here they run in the dev profile (its
//! dependencies are optimised, and it shares the build with `cargo test`), one after another
//! (the machine's other core stays free), each under
//! `WASGO_FUZZ_SECONDS` and a fresh `WASGO_FUZZ_SEED`; each prints its executions and failures,
//! with the seed that replays a failing case.

use crate::command::cargo;
use crate::{Failure, Repo, Result};

/// The targets, as test names in `rust/wasgo-core/tests/fuzz/`.
pub const TARGETS: &[&str] = &[
    "variant_decode",
    "variant_round_trip",
    "urls_and_whitelist",
    "sandbox_paths_stay_inside",
    "wasi_quota_holds",
    "random_modules_at_every_level",
];

/// Runs every target for `seconds`; fails if any target found a failure.
pub fn fuzz(repo: &Repo, seconds: u64) -> Result<()> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut failed = Vec::new();
    for (i, target) in TARGETS.iter().enumerate() {
        println!("fuzz: {target} for {seconds} s");
        let mut cmd = cargo();
        cmd.current_dir(&repo.root).args([
            "test",
            "-p",
            "wasgo-core",
            "--test",
            "fuzz",
            "--",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ]);
        cmd.arg(target_path(target));
        cmd.env("WASGO_FUZZ_SECONDS", seconds.to_string());
        cmd.env("WASGO_FUZZ_SEED", seed.wrapping_add(i as u64).to_string());
        let status = cmd
            .status()
            .map_err(|e| Failure::new(format!("cannot run cargo: {e}"), ""))?;
        if !status.success() {
            failed.push(*target);
        }
    }
    if failed.is_empty() {
        println!("fuzz: no failures in {} targets", TARGETS.len());
        Ok(())
    } else {
        Err(Failure::new(
            format!("fuzz targets failed: {}", failed.join(", ")),
            "each failure printed the WASGO_FUZZ_CASE=<seed> that replays it; fix the panic and add a test",
        ))
    }
}

/// The test path of a target (its module in the `fuzz` test binary).
fn target_path(target: &str) -> String {
    let module = match target {
        "variant_decode" | "variant_round_trip" => "variant",
        "urls_and_whitelist" => "urls",
        "sandbox_paths_stay_inside" => "paths",
        "wasi_quota_holds" => "quota",
        _ => "modules",
    };
    format!("{module}::{target}")
}
