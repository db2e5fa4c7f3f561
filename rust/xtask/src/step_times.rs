//! How long each step of `cargo xtask test` took, so a cold CI run shows where its time goes,
//! and what was left free on the disk after it, so a run that filled the disk shows which step did.
//!
//! [`StepTimes::time`] runs one step, prints `xtask: step <name> took N s` when it ends (failed or
//! not) and records it; [`StepTimes::summary`] is the table printed at the end of the run (just
//! before its `N passed, M failed` line), the steps in the order they ran, with the total.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::disk;

/// One step: its name, how long it took, the bytes free after it (when known).
struct Step {
    name: String,
    took: Duration,
    free_after: Option<u64>,
}

/// The steps run so far, in order, with their durations.
#[derive(Default)]
pub struct StepTimes {
    steps: Vec<Step>,
    summary_printed: bool,
    /// The directory whose disk's free space is noted after every step (none: not noted).
    disk_of: Option<PathBuf>,
}

impl StepTimes {
    /// Step times that also note the free space of the disk holding `dir` after every step.
    pub fn watching_disk_of(dir: PathBuf) -> Self {
        Self {
            disk_of: Some(dir),
            ..Self::default()
        }
    }

    /// Runs `step`, then prints and records how long it took under `name`.
    pub fn time<T>(&mut self, name: &str, step: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let outcome = step();
        let took = start.elapsed();
        let free_after = self.disk_of.as_deref().and_then(disk::free_bytes);
        self.record(name, took, free_after);
        outcome
    }

    fn record(&mut self, name: &str, took: Duration, free_after: Option<u64>) {
        println!("xtask: step {name} took {} s", whole_seconds(took));
        self.steps.push(Step {
            name: name.to_owned(),
            took,
            free_after,
        });
    }

    /// Prints [`Self::summary`], unless it was printed already.
    pub fn print_summary(&mut self) {
        if !self.summary_printed {
            println!("{}", self.summary());
            self.summary_printed = true;
        }
    }

    /// The table of every step and the total, one line each, names padded to one column.
    pub fn summary(&self) -> String {
        let width = self
            .steps
            .iter()
            .map(|step| step.name.len())
            .chain([5])
            .max()
            .unwrap_or(5);
        let mut out = String::from("xtask: time per step (and disk free after it)\n");
        for step in &self.steps {
            let free = match step.free_after {
                Some(bytes) => format!("  {:>10} free", disk::gib(bytes)),
                None => String::new(),
            };
            out.push_str(&format!(
                "  {:<width$}  {:>6} s{free}\n",
                step.name,
                whole_seconds(step.took)
            ));
        }
        let total: Duration = self.steps.iter().map(|step| step.took).sum();
        out.push_str(&format!(
            "  {:<width$}  {:>6} s",
            "total",
            whole_seconds(total)
        ));
        out
    }
}

/// Seconds, rounded to the nearest whole one.
fn whole_seconds(took: Duration) -> u64 {
    (took.as_millis() as u64 + 500) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_lists_steps_in_order_with_their_total() {
        let mut times = StepTimes::default();
        times.record("cargo test", Duration::from_millis(61_400), None);
        times.record(
            "godot suite",
            Duration::from_millis(2_600),
            Some(3 * 1024 * 1024 * 1024),
        );
        assert_eq!(
            times.summary(),
            "xtask: time per step (and disk free after it)\n  cargo test       61 s\n  godot suite       3 s     3.0 GiB free\n  total            64 s"
        );
    }

    #[test]
    fn time_returns_the_steps_outcome_and_records_it() {
        let mut times = StepTimes::default();
        let outcome: Result<u8, &str> = times.time("failing step", || Err("broken"));
        assert_eq!(outcome, Err("broken"));
        assert_eq!(times.steps.len(), 1);
        assert_eq!(times.steps[0].name, "failing step");
        assert_eq!(times.steps[0].free_after, None, "no disk watched");
    }
}
