//! The mod-versus-native rows of `cargo xtask bench`: the kernels of `mods/tests/bench_compute`
//! (one source, `src/kernels.rs`) run as a Rust mod through `bench/bench_compute.gd`, built twice
//! (its release profile, and the same with the README's loop-unrolling flags,
//! [`crate::mods::LOOP_UNROLL_FLAGS`]), and as a native program
//! (`mods/tests/bench_compute/native`, release, opt-level 3) in the same run, and are printed side
//! by side with the mod/native ratios. A kernel whose results differ fails the run (the
//! comparison would be meaningless).

use crate::command::{self, cargo};
use crate::godot_run::GodotRun;
use crate::{Failure, Repo, Result};

/// One `bench-mod` / `bench-native` line: `<prefix> <name> <ms> ms <result>`.
#[derive(Debug, PartialEq)]
pub struct Figure {
    pub name: String,
    pub ms: f64,
    pub result: String,
}

pub fn parse_line(prefix: &str, line: &str) -> Option<Figure> {
    let mut words = line.strip_prefix(prefix)?.split_whitespace();
    let figure = Figure {
        name: words.next()?.to_string(),
        ms: words.next()?.parse().ok()?,
        result: {
            (words.next()? == "ms").then_some(())?;
            words.next()?.to_string()
        },
    };
    words.next().is_none().then_some(figure)
}

/// Builds and runs the native kernels; their figures.
pub fn run_native(repo: &Repo) -> Result<Vec<Figure>> {
    let manifest = repo.root.join("mods/tests/bench_compute/native/Cargo.toml");
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(repo.root.join("mods/target/native"));
    println!("xtask: $ {}", command::describe(&cmd));
    let out = cmd.output().map_err(|e| {
        Failure::new(
            format!("could not run the native kernels: {e}"),
            "check that cargo is installed",
        )
    })?;
    if !out.status.success() {
        return Err(Failure::new(
            format!(
                "the native kernels failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
            "fix the build error above",
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    Ok(text
        .lines()
        .filter_map(|l| parse_line("bench-native ", l))
        .collect())
}

/// The figures of a `bench_compute.gd` run: the plain build's and the unrolled build's.
pub fn mod_figures(run: &GodotRun) -> (Vec<Figure>, Vec<Figure>) {
    let of = |prefix: &str| {
        run.lines
            .iter()
            .filter_map(|l| parse_line(prefix, l))
            .collect()
    };
    (of("bench-mod "), of("bench-mod-unrolled "))
}

/// Whether two printed results are the same number (GDScript and Rust print floats with
/// different digits).
fn same_result(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

/// Prints the table; fails when a figure is missing or a kernel's results differ.
pub fn print_table(mods: &[Figure], unrolled: &[Figure], native: &[Figure]) -> Result<()> {
    if mods.is_empty() || mods.len() != native.len() || unrolled.len() != native.len() {
        return Err(Failure::new(
            format!(
                "the compute benchmark printed {} mod, {} unrolled mod and {} native figures",
                mods.len(),
                unrolled.len(),
                native.len()
            ),
            "read the output above",
        ));
    }
    println!(
        "\ncompute kernels, Rust mod vs the same Rust native (release, best of 3; target <= 1.3x);"
    );
    println!("`unrolled`: the mod built with the README's loop-unrolling flags");
    println!(
        "{:<12} {:>10} {:>12} {:>10} {:>11} {:>15}",
        "kernel", "mod ms", "unrolled ms", "native ms", "mod/native", "unrolled/native"
    );
    for ((m, u), n) in mods.iter().zip(unrolled).zip(native) {
        for built in [m, u] {
            if built.name != n.name || !same_result(&built.result, &n.result) {
                return Err(Failure::new(
                    format!(
                        "mod `{}` gave {}, native `{}` gave {}",
                        built.name, built.result, n.name, n.result
                    ),
                    "the mod and the native program must run the same kernels on the same sizes",
                ));
            }
        }
        println!(
            "{:<12} {:>10.3} {:>12.3} {:>10.3} {:>10.2}x {:>14.2}x",
            m.name,
            m.ms,
            u.ms,
            n.ms,
            m.ms / n.ms,
            u.ms / n.ms
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_well_formed_figure_lines() {
        assert_eq!(
            parse_line("bench-mod ", "bench-mod fib 9.400 ms 832040"),
            Some(Figure {
                name: "fib".into(),
                ms: 9.4,
                result: "832040".into()
            })
        );
        assert_eq!(parse_line("bench-mod ", "bench-mod fib 9.4 us 1"), None);
        assert_eq!(parse_line("bench-mod ", "bench-mod fib x ms 1"), None);
        assert_eq!(parse_line("bench-mod ", "bench-mod fib 1 ms 1 more"), None);
        assert_eq!(parse_line("bench-mod ", "bench-native fib 1 ms 1"), None);
        assert_eq!(
            parse_line("bench-mod ", "bench-mod-unrolled fib 1 ms 1"),
            None
        );
    }

    #[test]
    fn float_results_compare_as_numbers() {
        assert!(same_result("249768.957879363", "249768.95787936272"));
        assert!(!same_result("1.5", "1.6"));
        assert!(same_result("832040", "832040"));
    }
}
