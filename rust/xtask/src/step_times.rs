//! How long each step of `cargo xtask test` took, so a cold CI run shows where its time goes.
//!
//! [`StepTimes::time`] runs one step, prints `xtask: step <name> took N s` when it ends (failed or
//! not) and records it; [`StepTimes::summary`] is the table printed at the end of the run (just
//! before its `N passed, M failed` line), the steps in the order they ran, with the total.

use std::time::{Duration, Instant};

/// The steps run so far, in order, with their durations.
#[derive(Default)]
pub struct StepTimes {
    steps: Vec<(String, Duration)>,
    summary_printed: bool,
}

impl StepTimes {
    /// Runs `step`, then prints and records how long it took under `name`.
    pub fn time<T>(&mut self, name: &str, step: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let outcome = step();
        self.record(name, start.elapsed());
        outcome
    }

    fn record(&mut self, name: &str, took: Duration) {
        println!("xtask: step {name} took {} s", whole_seconds(took));
        self.steps.push((name.to_owned(), took));
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
            .map(|(name, _)| name.len())
            .chain([5])
            .max()
            .unwrap_or(5);
        let mut out = String::from("xtask: time per step\n");
        for (name, took) in &self.steps {
            out.push_str(&format!(
                "  {name:<width$}  {:>6} s\n",
                whole_seconds(*took)
            ));
        }
        let total: Duration = self.steps.iter().map(|(_, took)| *took).sum();
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
        times.record("cargo test", Duration::from_millis(61_400));
        times.record("godot suite", Duration::from_millis(2_600));
        assert_eq!(
            times.summary(),
            "xtask: time per step\n  cargo test       61 s\n  godot suite       3 s\n  total            64 s"
        );
    }

    #[test]
    fn time_returns_the_steps_outcome_and_records_it() {
        let mut times = StepTimes::default();
        let outcome: Result<u8, &str> = times.time("failing step", || Err("broken"));
        assert_eq!(outcome, Err("broken"));
        assert_eq!(times.steps.len(), 1);
        assert_eq!(times.steps[0].0, "failing step");
    }
}
