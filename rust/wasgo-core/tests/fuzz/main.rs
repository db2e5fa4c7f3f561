//! Fuzz targets on stable Rust: a seeded PRNG feeds `arbitrary` input to each target, any panic
//! is a failure (the host must never panic on what a mod sends).
//!
//! `cargo test` runs a short, deterministic pass of every target (a fixed number of cases from a
//! fixed seed). `cargo xtask fuzz [--seconds N]` runs each target for N seconds from a random
//! seed and prints the figures (see [`harness`] for the environment variables it sets, and how
//! to replay one failing case).
//!
//! Targets: the Variant codec ([`variant`]), URL parsing and whitelist matching ([`urls`]),
//! sandbox path checks ([`paths`]), the level-2 WASI quota wrappers ([`quota`]) and random valid
//! modules from `wasm-smith` linked and run at every safety level ([`modules`]).

mod harness;
mod modules;
mod paths;
mod quota;
mod urls;
mod variant;
