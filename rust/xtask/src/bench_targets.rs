//! The summary at the end of `cargo xtask bench`: every speed target of issue 14's "done when"
//! with the figure this run measured and whether it is met, and how long the measuring took.
//!
//! Each benchmark script prints one machine-readable line per target beside its human-readable
//! figures: `bench-target <key> <= | >= <bound> <figure> <what ...>` (`bench_frame.gd` prints
//! `bench-target frame_fast <= 1.0 3.104 1000-node frame per node, fast path / GDScript`). The
//! compute kernels' rows are made here from the mod and native figures. A target whose line is
//! missing fails the run: the summary would otherwise pass over it in silence.

use crate::bench_compute::Figure;
use crate::{Failure, Result};
use std::time::Duration;

/// The keys the summary expects, in the order it prints them.
pub const EXPECTED: &[&str] = &[
    "callable",
    "frame_fast",
    "frame_generic",
    "batched_fast",
    "batched_generic",
    "bulk_fast",
    "bulk_generic",
    "main_round_trips",
    "compute_fib",
    "compute_mixed_loop",
    "compute_particles",
    "start_1000",
    "start_1000_pool",
    "position_fast",
    "position_generic",
    "cache_bench_mover",
    "cache_archivist",
    "kill_spinning",
    "kill_sleeping",
];

/// The mod/native ratio the compute kernels must stay within.
const COMPUTE_BOUND: f64 = 1.3;

/// Which side of the bound a figure must be on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    AtMost,
    AtLeast,
}

/// One target and this run's figure for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub key: String,
    pub cmp: Cmp,
    pub bound: f64,
    pub figure: f64,
    pub what: String,
}

impl Target {
    pub fn is_met(&self) -> bool {
        match self.cmp {
            Cmp::AtMost => self.figure <= self.bound,
            Cmp::AtLeast => self.figure >= self.bound,
        }
    }
}

/// Reads one `bench-target` line; `None` for any other line or a malformed one.
pub fn parse_line(line: &str) -> Option<Target> {
    let rest = line.trim().strip_prefix("bench-target ")?;
    let mut words = rest.split_whitespace();
    let key = words.next()?.to_string();
    let cmp = match words.next()? {
        "<=" => Cmp::AtMost,
        ">=" => Cmp::AtLeast,
        _ => return None,
    };
    let bound: f64 = words.next()?.parse().ok()?;
    let figure: f64 = words.next()?.parse().ok()?;
    let what = words.collect::<Vec<_>>().join(" ");
    (bound.is_finite() && figure.is_finite() && !what.is_empty()).then_some(Target {
        key,
        cmp,
        bound,
        figure,
        what,
    })
}

/// The compute kernels' targets: each kernel of the mod (its SDK release profile) against the
/// same kernel compiled natively.
pub fn compute_targets(mods: &[Figure], native: &[Figure]) -> Vec<Target> {
    mods.iter()
        .filter_map(|m| {
            let n = native.iter().find(|n| n.name == m.name)?;
            Some(Target {
                key: format!("compute_{}", m.name),
                cmp: Cmp::AtMost,
                bound: COMPUTE_BOUND,
                figure: m.ms / n.ms,
                what: format!("compute `{}`, Rust mod / the same Rust native", m.name),
            })
        })
        .collect()
}

/// The targets in [`EXPECTED`]'s order; fails naming the keys no line gave (a key given twice
/// keeps its last figure).
pub fn in_order(found: &[Target]) -> Result<Vec<Target>> {
    let mut ordered = Vec::with_capacity(EXPECTED.len());
    let mut missing = Vec::new();
    for key in EXPECTED {
        match found.iter().rev().find(|t| t.key == *key) {
            Some(t) => ordered.push(t.clone()),
            None => missing.push(*key),
        }
    }
    if !missing.is_empty() {
        return Err(Failure::new(
            format!(
                "the benchmark printed no figure for the target(s) {}",
                missing.join(", ")
            ),
            "a benchmark script stopped early or no longer prints its `bench-target` line: read the output above",
        ));
    }
    Ok(ordered)
}

/// Prints the summary: one row per target, then how many are met and how long measuring took.
pub fn print_summary(targets: &[Target], measuring: Duration) {
    println!("\nissue 14's speed targets, this run (release, headless):");
    println!("{:<64} {:>12} {:>12}  met", "figure", "measured", "target");
    for t in targets {
        let op = match t.cmp {
            Cmp::AtMost => "<=",
            Cmp::AtLeast => ">=",
        };
        println!(
            "{:<64} {:>12} {:>12}  {}",
            t.what,
            number(t.figure),
            format!("{op} {}", number(t.bound)),
            if t.is_met() { "yes" } else { "NO" }
        );
    }
    let met = targets.iter().filter(|t| t.is_met()).count();
    println!(
        "{met} of {} targets met; the benchmarks took {} min {:02} s (after the builds)",
        targets.len(),
        measuring.as_secs() / 60,
        measuring.as_secs() % 60
    );
}

/// A figure with the digits that mean something at its size.
fn number(x: f64) -> String {
    match x.abs() {
        a if a >= 1000.0 => format!("{x:.0}"),
        a if a >= 0.1 => format!("{x:.2}"),
        _ => format!("{x:.4}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(key: &str, cmp: Cmp, bound: f64, figure: f64) -> Target {
        Target {
            key: key.into(),
            cmp,
            bound,
            figure,
            what: key.into(),
        }
    }

    #[test]
    fn target_lines_parse_and_other_lines_do_not() {
        assert_eq!(
            parse_line("bench-target frame_fast <= 1.0 3.104 1000-node frame per node, fast path / GDScript"),
            Some(Target {
                key: "frame_fast".into(),
                cmp: Cmp::AtMost,
                bound: 1.0,
                figure: 3.104,
                what: "1000-node frame per node, fast path / GDScript".into(),
            })
        );
        let main = parse_line("bench-target main_round_trips >= 50000 56029 main round trips/s")
            .expect("a well-formed line");
        assert_eq!(main.cmp, Cmp::AtLeast);
        assert!(main.is_met());
        for bad in [
            "ratio mod fast path / GDScript : 3.10  (target <= 1.0)",
            "bench-target frame_fast < 1.0 3.1 what",
            "bench-target frame_fast <= one 3.1 what",
            "bench-target frame_fast <= 1.0 nan what",
            "bench-target frame_fast <= 1.0 3.1",
            "bench-target",
        ] {
            assert_eq!(parse_line(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_target_is_met_on_its_own_side_of_the_bound_and_at_it() {
        assert!(target("a", Cmp::AtMost, 1.0, 1.0).is_met());
        assert!(target("a", Cmp::AtMost, 1.0, 0.7).is_met());
        assert!(!target("a", Cmp::AtMost, 1.0, 1.01).is_met());
        assert!(target("a", Cmp::AtLeast, 50000.0, 50000.0).is_met());
        assert!(!target("a", Cmp::AtLeast, 50000.0, 49999.0).is_met());
    }

    #[test]
    fn compute_rows_pair_each_kernel_with_its_native_figure() {
        let fig = |name: &str, ms: f64| Figure {
            name: name.into(),
            ms,
            result: "1".into(),
        };
        let rows = compute_targets(
            &[fig("fib", 2.6), fig("particles", 3.0)],
            &[fig("particles", 2.0), fig("fib", 2.0)],
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key, "compute_fib");
        assert!((rows[0].figure - 1.3).abs() < 1e-9 && rows[0].is_met());
        assert_eq!(rows[1].key, "compute_particles");
        assert!(!rows[1].is_met());
    }

    #[test]
    fn a_missing_target_fails_and_the_rest_come_in_the_expected_order() {
        let all: Vec<Target> = EXPECTED
            .iter()
            .rev()
            .map(|k| target(k, Cmp::AtMost, 1.0, 0.5))
            .collect();
        let ordered = in_order(&all).expect("every key is there");
        let keys: Vec<&str> = ordered.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, EXPECTED);
        let without_kill = &all[1..];
        let err = in_order(without_kill).expect_err("a key is missing");
        assert!(err.to_string().contains(EXPECTED[EXPECTED.len() - 1]));
    }
}
