//! The clock of main-thread entries: a [`Stamp`] is a monotonic reading that costs a third of
//! `Instant::now()` where the processor's time-stamp counter can be trusted.
//!
//! Every entry into a mod from the main thread (`process`, a signal callback, `call_export`, an
//! export's Callable) reads the clock twice: when it begins (the callback budget counts from
//! there) and when it returns (the frame budget and the node's frame time add what it took).
//! `Instant::now()` is a vDSO `clock_gettime`, measured at 25–27 ns per reading on the
//! benchmark machine (a VM): the two readings were a fifth of an empty entry (BENCHMARKS.md,
//! "Ninth pass"). Reading the time-stamp counter directly (`rdtsc`) takes about 10 ns there.
//!
//! # When the counter is used
//!
//! Only on x86-64, only when the processor says its counter is invariant (it ticks at one rate
//! whatever the core's frequency or sleep state: CPUID leaf `0x8000_0007`, EDX bit 8), and on
//! Linux only when the kernel itself times `CLOCK_MONOTONIC` with it (`current_clocksource` is
//! `tsc`: the kernel checked that every core's counter agrees). Everywhere else a stamp is the
//! nanoseconds since a process-wide `Instant`, which costs what `Instant::now()` costs.
//!
//! The counter's rate is measured once against `Instant` over [`CALIBRATION`] (when the engine
//! starts, [`calibrate`]; else at the first reading), with each end bracketed by two counter
//! reads so that a preemption in between is seen and retried: the rate is then known to a few
//! parts in a hundred thousand, far finer than any budget needs (budgets are milliseconds). A
//! rate out of any plausible range (under 100 MHz or over 20 GHz) falls back to `Instant`.
//!
//! Differences saturate at zero: a stamp read on one core and compared with one read on another
//! can never make a negative duration, whatever the hardware.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the counter's rate is measured against `Instant`.
pub const CALIBRATION: Duration = Duration::from_millis(2);

/// Fractional bits of the fixed-point rates.
const FRACTION: u32 = 32;

/// A monotonic clock reading; see the module docs. Only differences between stamps (and
/// [`Stamp::to_instant`]) mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(u64);

/// Where stamps come from, and how their units convert to nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Source {
    /// Stamps are time-stamp counter readings (else nanoseconds since `anchor`).
    counter: bool,
    /// `anchor` as a stamp.
    anchor_units: u64,
    anchor: Instant,
    /// Nanoseconds per unit, `FRACTION` bits of fraction.
    ns_per_unit: u64,
    /// Units per nanosecond, `FRACTION` bits of fraction.
    units_per_ns: u64,
}

impl Source {
    /// Stamps in nanoseconds since now (no counter).
    fn instant() -> Source {
        Source {
            counter: false,
            anchor_units: 0,
            anchor: Instant::now(),
            ns_per_unit: 1 << FRACTION,
            units_per_ns: 1 << FRACTION,
        }
    }

    /// Stamps from the time-stamp counter, its rate measured now; `None` where the counter is
    /// not trusted (see the module docs) or its measured rate is implausible.
    fn counter() -> Option<Source> {
        if !counter_trusted() {
            return None;
        }
        let (units0, at0) = bracketed_reading()?;
        std::thread::sleep(CALIBRATION);
        let (units1, at1) = bracketed_reading()?;
        let ns = at1.duration_since(at0).as_nanos();
        let units = u128::from(units1.checked_sub(units0)?);
        // 100 MHz ..= 20 GHz.
        if ns == 0 || units * 10 < ns || units > ns * 20 {
            return None;
        }
        Some(Source {
            counter: true,
            anchor_units: units0,
            anchor: at0,
            ns_per_unit: u64::try_from((ns << FRACTION) / units).ok()?,
            units_per_ns: u64::try_from((units << FRACTION) / ns).ok()?,
        })
    }

    #[inline]
    fn now(&self) -> Stamp {
        if self.counter {
            Stamp(read_counter())
        } else {
            Stamp(self.anchor.elapsed().as_nanos() as u64)
        }
    }

    fn duration_of(&self, units: u64) -> Duration {
        let ns = (u128::from(units) * u128::from(self.ns_per_unit)) >> FRACTION;
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    fn units_of(&self, d: Duration) -> u64 {
        let units =
            (d.as_nanos().min(u128::from(u64::MAX)) * u128::from(self.units_per_ns)) >> FRACTION;
        u64::try_from(units).unwrap_or(u64::MAX)
    }
}

static SOURCE: OnceLock<Source> = OnceLock::new();

#[inline]
fn source() -> &'static Source {
    SOURCE.get_or_init(|| Source::counter().unwrap_or_else(Source::instant))
}

/// Chooses the clock and measures the counter's rate now (about [`CALIBRATION`]), so that no
/// entry pays for it later. Called when the engine starts; later calls do nothing.
pub fn calibrate() {
    source();
}

impl Stamp {
    /// The clock now.
    #[inline]
    pub fn now() -> Stamp {
        source().now()
    }

    /// The stamp as a number (to keep in an atomic; [`Stamp::from_raw`] gives it back).
    #[inline]
    pub(crate) fn to_raw(self) -> u64 {
        self.0
    }

    /// The stamp [`Stamp::to_raw`] gave `raw` for.
    #[inline]
    pub(crate) fn from_raw(raw: u64) -> Stamp {
        Stamp(raw)
    }

    /// The time from `earlier` to this stamp; zero if `earlier` is later.
    #[inline]
    pub fn duration_since(self, earlier: Stamp) -> Duration {
        source().duration_of(self.0.saturating_sub(earlier.0))
    }

    /// The time from this stamp to now.
    #[inline]
    pub fn elapsed(self) -> Duration {
        Stamp::now().duration_since(self)
    }

    /// The span from `earlier` to this stamp, in the clock's own units; zero if `earlier` is
    /// later.
    #[inline]
    pub fn span_since(self, earlier: Stamp) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }

    /// This stamp moved `d` later (saturating).
    #[inline]
    pub fn after(self, d: Duration) -> Stamp {
        Stamp(self.0.saturating_add(source().units_of(d)))
    }

    /// The `Instant` this stamp was read at (within the rate's precision), for waits that take
    /// one.
    pub fn to_instant(self) -> Instant {
        let s = source();
        if self.0 >= s.anchor_units {
            s.anchor + s.duration_of(self.0 - s.anchor_units)
        } else {
            let before = s.duration_of(s.anchor_units - self.0);
            s.anchor.checked_sub(before).unwrap_or(s.anchor)
        }
    }
}

/// A length of time in the clock's own units (counter ticks, or nanoseconds where there is no
/// counter). Adding and comparing spans is plain integer work; turning one into a `Duration`
/// (a multiply, and a division by 10^9 inside `Duration`) is left to whoever reads it. The
/// frame budget and a node's frame time add one span per entry into a mod, and are read far
/// less often.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(u64);

impl Span {
    /// No time.
    pub const ZERO: Span = Span(0);

    /// `d` in the clock's units (saturating).
    pub fn of(d: Duration) -> Span {
        Span(source().units_of(d))
    }

    /// This span as a `Duration`.
    #[inline]
    pub fn to_duration(self) -> Duration {
        source().duration_of(self.0)
    }

    /// `self + other`, saturating.
    #[inline]
    #[must_use]
    pub fn saturating_add(self, other: Span) -> Span {
        Span(self.0.saturating_add(other.0))
    }

    /// `self - other`, zero when `other` is longer.
    #[inline]
    #[must_use]
    pub fn saturating_sub(self, other: Span) -> Span {
        Span(self.0.saturating_sub(other.0))
    }
}

/// Reads the counter and `Instant::now()` between two counter readings, retrying (a few times)
/// until the two are close, so that the pair belongs together; the counter's midpoint and the
/// `Instant`.
fn bracketed_reading() -> Option<(u64, Instant)> {
    let mut best: Option<(u64, u64, Instant)> = None;
    for _ in 0..16 {
        let before = read_counter();
        let at = Instant::now();
        let after = read_counter();
        let width = after.checked_sub(before)?;
        if best.is_none_or(|(w, _, _)| width < w) {
            best = Some((width, before + width / 2, at));
        }
    }
    best.map(|(_, units, at)| (units, at))
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn read_counter() -> u64 {
    // SAFETY: `rdtsc` exists on every x86-64 processor, reads a register and touches no memory.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn read_counter() -> u64 {
    0
}

/// Whether the time-stamp counter may be used (see the module docs).
fn counter_trusted() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let max_extended = core::arch::x86_64::__cpuid(0x8000_0000).eax;
        if max_extended < 0x8000_0007 {
            return false;
        }
        let invariant = core::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0;
        invariant && kernel_uses_counter()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// On Linux, whether the kernel's own clock is the counter; elsewhere the processor's word is
/// taken.
fn kernel_uses_counter() -> bool {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .is_ok_and(|s| s.trim() == "tsc")
    } else {
        true
    }
}

/// Polls `done` every `every` until it answers true (returns true) or `limit` has passed
/// (returns false): the bounded waits of shutdown (compiles, workers of killed `main`s).
pub fn wait_until(limit: Duration, every: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(every);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_wait_ends_when_done_or_at_its_limit() {
        let mut polls = 0;
        assert!(wait_until(
            Duration::from_secs(5),
            Duration::from_millis(1),
            || {
                polls += 1;
                polls == 3
            }
        ));
        assert_eq!(polls, 3);
        let begun = std::time::Instant::now();
        assert!(!wait_until(
            Duration::from_millis(20),
            Duration::from_millis(1),
            || false
        ));
        assert!(begun.elapsed() >= Duration::from_millis(20));
    }

    /// Both kinds of source measure a sleep like `Instant` does, bracketed by `Instant`
    /// readings (the stamps are read inside the bracket, so their difference lies within it,
    /// give or take the rate's precision).
    fn measures_like_instant(s: &Source) {
        for pause in [Duration::from_millis(3), Duration::from_millis(20)] {
            let outer = Instant::now();
            let a = s.now();
            let inner = Instant::now();
            std::thread::sleep(pause);
            let inner_took = inner.elapsed();
            let b = s.now();
            let outer_took = outer.elapsed();
            let took = s.duration_of(b.0.saturating_sub(a.0));
            let slack = outer_took / 1000 + Duration::from_micros(5);
            assert!(
                took + slack >= inner_took && took <= outer_took + slack,
                "a stamp measured {took:?}, Instant between {inner_took:?} and {outer_took:?}"
            );
        }
    }

    #[test]
    fn the_instant_source_measures_like_instant() {
        measures_like_instant(&Source::instant());
    }

    #[test]
    fn the_counter_source_measures_like_instant_where_it_is_trusted() {
        match Source::counter() {
            Some(s) => measures_like_instant(&s),
            None => eprintln!("no trusted time-stamp counter here: only the fallback is used"),
        }
    }

    #[test]
    fn units_and_durations_convert_both_ways() {
        let mut sources = vec![Source::instant()];
        sources.extend(Source::counter());
        for s in sources {
            for d in [
                Duration::ZERO,
                Duration::from_nanos(1_500),
                Duration::from_millis(4),
                Duration::from_secs(3600),
            ] {
                let back = s.duration_of(s.units_of(d));
                let err = back.abs_diff(d);
                assert!(
                    err <= d / 100_000 + Duration::from_nanos(2),
                    "{d:?} -> {back:?}"
                );
            }
            // Huge values saturate instead of wrapping round.
            assert!(s.units_of(Duration::MAX) >= s.units_of(Duration::from_secs(3600)));
            assert!(s.duration_of(u64::MAX) >= s.duration_of(u64::MAX / 2));
        }
    }

    #[test]
    fn differences_never_go_negative_and_after_moves_forward() {
        let a = Stamp::now();
        let b = Stamp::now();
        assert!(b >= a);
        assert_eq!(
            a.duration_since(b.after(Duration::from_secs(1))),
            Duration::ZERO
        );
        let later = a.after(Duration::from_millis(5));
        let d = later.duration_since(a);
        assert!(
            d.abs_diff(Duration::from_millis(5)) < Duration::from_micros(1),
            "{d:?}"
        );
        assert_eq!(
            Stamp(u64::MAX).after(Duration::from_secs(1)),
            Stamp(u64::MAX)
        );
    }

    #[test]
    fn spans_add_compare_and_convert_like_the_durations_they_stand_for() {
        let a = Stamp::now();
        let later = a.after(Duration::from_millis(5));
        let span = later.span_since(a);
        assert_eq!(a.span_since(later), Span::ZERO, "never negative");
        let d = span.to_duration();
        assert!(
            d.abs_diff(Duration::from_millis(5)) < Duration::from_micros(1),
            "{d:?}"
        );
        let three = Span::of(Duration::from_millis(3));
        assert!(three < span && span.saturating_sub(three) < span);
        let sum = span.saturating_add(three).to_duration();
        assert!(
            sum.abs_diff(Duration::from_millis(8)) < Duration::from_micros(1),
            "{sum:?}"
        );
        assert_eq!(three.saturating_sub(span), Span::ZERO);
        assert_eq!(Span(u64::MAX).saturating_add(three), Span(u64::MAX));
    }

    #[test]
    fn a_stamp_maps_back_to_the_instant_it_was_read_at() {
        let before = Instant::now();
        let stamp = Stamp::now();
        let after = Instant::now();
        let at = stamp.to_instant();
        let slack = Duration::from_micros(50);
        assert!(at + slack >= before && at <= after + slack);
        // A stamp from before the anchor maps before it.
        let early = Stamp(0).to_instant();
        assert!(early <= source().anchor);
    }
}
