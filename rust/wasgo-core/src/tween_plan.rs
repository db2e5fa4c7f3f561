//! What WasGo knows of a tween a mod made, to keep Godot from looping without end inside it.
//!
//! Godot steps a tween once per frame and, inside that step, runs as many of its loops as the
//! frame's time covers. A loop that takes no time (`tween_interval(0)`, a zero-length
//! `tween_property`, or a speed scale so large that a loop's time rounds to nothing) makes that
//! one step run every loop it has: `set_loops(2147483647)` froze the game for minutes, and
//! `set_loops()` (forever) freezes it for good in a release export (Godot's guard against it
//! exists only in debug builds). None of that runs inside a mod call, so no mod budget stops it.
//!
//! The rule at levels 1 and 2: **a tween that loops (`set_loops` other than 1) must take at
//! least [`MIN_LOOP_SECONDS`] of game time per loop**, reckoned as the duration of its longest
//! tweener *that always takes its time*, divided by its speed scale (a lower bound of a loop's
//! time however its tweeners are chained or run in parallel). A `tween_interval` always takes
//! its time; a `tween_property` does only while its target lives: Godot ends the tweener of a
//! freed object at once, with the frame's time untouched, so a tween that tweened a node for a
//! second a loop ran two million loops in one frame once the mod freed the node. So a
//! property tweener counts only when its target cannot go while the tween runs (a resource,
//! which the tweener keeps alive, or the node the tween is bound to, whose freeing kills the
//! tween): [`Tweener::Kept`]. [`TweenPlan`] follows the calls that change either side and
//! refuses the one that would break it, in whatever order the mod makes them (`set_loops` may
//! come before the first tweener). A tween with no tweener yet is not checked: Godot runs no
//! loop of it.

/// The least game time, in seconds, one loop of a looping tween may take: at most 1000 loops
/// per second of game time, about 17 per frame at 60 fps.
pub const MIN_LOOP_SECONDS: f64 = 0.001;

/// The most tweener steps per second of game time a mod's looping tweens may run together (see
/// [`TweenPlan::refused_with`]).
pub const MAX_STEPS_PER_SECOND: f64 = 20_000.0;

/// The tweener steps per second all mods' looping tweens together may make Godot run: one mod's
/// bound held per instance, so fifty nodes of one mod (or fifty mods) ran a million a second,
/// as many as froze the game.
pub const MAX_STEPS_PER_SECOND_ALL: f64 = 100_000.0;

/// One mod-made tween's loops, speed scale and longest tweener so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TweenPlan {
    /// `set_loops`' count: 1 by default (no looping), 0 for forever.
    loops: i64,
    speed: f64,
    /// The longest duration of a tweener that always takes its time ([`Tweener::Kept`]; `None`
    /// until the first tweener of any kind, 0 while every tweener may end at once).
    longest: Option<f64>,
    /// Whether a tweener that may end at once was left out of `longest`.
    uncounted: bool,
    /// Tweeners added so far (at most [`MAX_TWEENERS`]).
    tweeners: u32,
}

/// The most tweeners (`tween_property`, `tween_interval`) one tween of a mod may hold: each is
/// an object Godot keeps until the tween ends, and none counted against the mod's objects (two
/// million intervals on one tween held a gigabyte).
pub const MAX_TWEENERS: u32 = 64;

/// The most characters (of a text) or elements (of an array) a value a tween animates to or
/// from may have: Godot keeps it for the tweener's life, outside every range `set` checks.
pub const MAX_TWEENED_SIZE: usize = 256;

/// Why `value`, given to `method` as a value to animate to or from, is refused, if it is: a
/// text or array over [`MAX_TWEENED_SIZE`].
pub fn oversized_value(method: &str, value: &crate::WireVariant) -> Option<TweenRefusal> {
    match crate::variant::range_value(value) {
        crate::allowlist::RangeValue::Size(n) if n > MAX_TWEENED_SIZE => Some(TweenRefusal(format!(
            "`{method}` was given a value of {n} characters or elements: a value a tween animates may have at most {MAX_TWEENED_SIZE} (set a larger one with `set`)"
        ))),
        _ => None,
    }
}

/// Whether a tweener always takes its duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tweener {
    /// It does: an interval, or a property of an object that lives as long as the tween.
    Kept,
    /// It may end at once: a property of an object that can be freed while the tween runs.
    MayEndAtOnce,
}

impl Default for TweenPlan {
    fn default() -> TweenPlan {
        TweenPlan {
            loops: 1,
            speed: 1.0,
            longest: None,
            uncounted: false,
            tweeners: 0,
        }
    }
}

/// A call refused by the plan; its message names the call and says what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct TweenRefusal(pub String);

impl TweenPlan {
    /// `set_loops(loops)` (0 is forever).
    pub fn set_loops(&mut self, loops: i64) -> Result<(), TweenRefusal> {
        self.check(TweenPlan { loops, ..*self }, || {
            format!("`set_loops({loops})`")
        })
    }

    /// `set_speed_scale(speed)`.
    pub fn set_speed(&mut self, speed: f64) -> Result<(), TweenRefusal> {
        self.check(TweenPlan { speed, ..*self }, || {
            format!("`set_speed_scale({speed})`")
        })
    }

    /// A tweener of `duration` seconds (`tween_property`'s fourth argument, `tween_interval`'s
    /// only one), of the kind `tweener`. A duration that is not a finite number of seconds, or
    /// is negative, is refused here too (Godot would hand the time a negative length gives back
    /// to the next tweeners).
    pub fn add_tweener(
        &mut self,
        method: &str,
        duration: f64,
        tweener: Tweener,
    ) -> Result<(), TweenRefusal> {
        if !(duration.is_finite() && duration >= 0.0) {
            return Err(TweenRefusal(format!(
                "`{method}` was given a duration of {duration} seconds: a tweener's duration is a finite number of seconds, 0 or more"
            )));
        }
        if self.tweeners >= MAX_TWEENERS {
            return Err(TweenRefusal(format!(
                "`{method}` was refused: a mod's tween holds at most {MAX_TWEENERS} tweeners (make another tween for more)"
            )));
        }
        let counted = match tweener {
            Tweener::Kept => duration,
            Tweener::MayEndAtOnce => 0.0,
        };
        let longest = self.longest.map_or(counted, |l| l.max(counted));
        self.check(
            TweenPlan {
                longest: Some(longest),
                uncounted: self.uncounted || tweener == Tweener::MayEndAtOnce,
                tweeners: self.tweeners + 1,
                ..*self
            },
            || format!("`{method}` with a duration of {duration} seconds"),
        )
    }

    /// The tweeners added so far.
    pub fn tweeners(&self) -> u32 {
        self.tweeners
    }

    /// Whether the tween loops (any count but 1).
    pub fn loops(&self) -> bool {
        self.loops != 1
    }

    /// The tweener steps a looping tween makes Godot run per second of game time (its tweeners
    /// times its loops per second); 0 for a tween that does not loop or is stopped.
    pub fn steps_per_second(&self) -> f64 {
        let Some(longest) = self.longest.filter(|_| self.loops() && self.speed > 0.0) else {
            return 0.0;
        };
        f64::from(self.tweeners.max(1)) * self.speed / longest.max(MIN_LOOP_SECONDS)
    }

    /// The refusal of this plan (the tween's plan after `call`) when the mod's other looping
    /// tweens, which make `others` tweener steps per second, and this one would together make
    /// more than [`MAX_STEPS_PER_SECOND`]: each loop of each tween is work on the main thread
    /// at every frame, outside every budget of the mod's (a thousand tweens looping every
    /// millisecond froze the game, each slow frame making the next one slower).
    pub fn refused_with(&self, others: f64, call: impl FnOnce() -> String) -> Option<TweenRefusal> {
        self.refused_over(
            others,
            MAX_STEPS_PER_SECOND,
            "a mod's looping tweens",
            " (tweeners times loops per second)",
            call,
        )
    }

    /// The refusal of this plan when all mods' other looping tweens, which make `all_others`
    /// steps per second (this mod's included), and this one would together make more than
    /// [`MAX_STEPS_PER_SECOND_ALL`].
    pub fn refused_with_all(
        &self,
        all_others: f64,
        call: impl FnOnce() -> String,
    ) -> Option<TweenRefusal> {
        self.refused_over(
            all_others,
            MAX_STEPS_PER_SECOND_ALL,
            "all mods' looping tweens",
            "",
            call,
        )
    }

    /// The refusal of this plan when `others` steps per second and its own would together make
    /// more than `max`: `whose` tweens they are, and how the steps are counted (`counted`).
    fn refused_over(
        &self,
        others: f64,
        max: f64,
        whose: &str,
        counted: &str,
        call: impl FnOnce() -> String,
    ) -> Option<TweenRefusal> {
        let own = self.steps_per_second();
        (own > 0.0 && others + own > max).then(|| {
            TweenRefusal(format!(
                "{} was refused: {whose} may together run at most {max} tweener steps per second of game time{counted}, and this one would take them to {:.0}; loop fewer or longer tweens",
                call(),
                others + own
            ))
        })
    }

    /// Takes `next` if it keeps the rule; else refuses, naming the call.
    fn check(
        &mut self,
        next: TweenPlan,
        call: impl FnOnce() -> String,
    ) -> Result<(), TweenRefusal> {
        if !(next.speed.is_finite() && next.speed >= 0.0) {
            return Err(TweenRefusal(format!(
                "{} was refused: a tween's speed scale is a finite number, 0 or more",
                call()
            )));
        }
        if next.loops < 0 {
            return Err(TweenRefusal(format!(
                "{} was refused: a tween's loop count is 0 (forever) or more",
                call()
            )));
        }
        if next.loops() {
            if let Some(longest) = next.longest {
                // A speed of 0 stops the tween: no loop runs.
                let per_loop = if next.speed == 0.0 {
                    f64::INFINITY
                } else {
                    longest / next.speed
                };
                if per_loop < MIN_LOOP_SECONDS {
                    let loops = if next.loops == 0 {
                        "forever".to_string()
                    } else {
                        format!("{} times", next.loops)
                    };
                    let uncounted = if next.uncounted {
                        " (a `tween_property` of an object that can be freed while the tween runs counts no time: Godot ends its tweener at once when the object goes, whatever its duration; tween a node from a tween made on that node with `create_tween`, or give the tween a `tween_interval`)"
                    } else {
                        ""
                    };
                    return Err(TweenRefusal(format!(
                        "{} was refused: the tween would loop {loops} with {per_loop} seconds per loop (its longest tweener that always takes its time, {longest} s, at speed scale {}){uncounted}, and a looping tween must take at least {MIN_LOOP_SECONDS} s of game time per loop; give it a longer tweener or a smaller speed scale, or do not loop it",
                        call(),
                        next.speed
                    )));
                }
            }
        }
        *self = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mods_looping_tweens_are_bounded_together() {
        // One interval of 1 ms, looping forever: 1000 steps a second.
        let mut plan = TweenPlan::default();
        plan.set_loops(0).unwrap();
        plan.add_tweener("tween_interval", 0.001, Tweener::Kept)
            .unwrap();
        assert!((plan.steps_per_second() - 1000.0).abs() < 1e-6);
        // Nineteen such tweens leave room for a twentieth, not a twenty-first.
        assert!(plan.refused_with(19_000.0, || "x".into()).is_none());
        let refused = plan
            .refused_with(19_500.0, || "`set_loops(0)`".into())
            .unwrap();
        assert!(refused.0.contains("20000 tweener steps"), "{}", refused.0);
        // A tween that does not loop, or is stopped, makes none.
        let mut once = TweenPlan::default();
        once.add_tweener("tween_interval", 0.001, Tweener::Kept)
            .unwrap();
        assert_eq!(once.steps_per_second(), 0.0);
        assert!(once.refused_with(1e9, || "x".into()).is_none());
    }

    #[test]
    fn a_tween_holds_at_most_max_tweeners() {
        let mut plan = TweenPlan::default();
        for _ in 0..MAX_TWEENERS {
            plan.add_tweener("tween_interval", 1.0, Tweener::Kept)
                .unwrap();
        }
        let e = plan
            .add_tweener("tween_interval", 1.0, Tweener::Kept)
            .unwrap_err();
        assert!(e.0.contains("at most 64 tweeners"), "{}", e.0);
    }

    #[test]
    fn tweened_texts_and_arrays_are_bounded() {
        use crate::WireVariant;
        assert!(oversized_value("from", &WireVariant::String("a".repeat(256))).is_none());
        assert!(oversized_value("from", &WireVariant::Float(1e30)).is_none());
        let e = oversized_value("tween_property", &WireVariant::String("a".repeat(257))).unwrap();
        assert!(e.0.contains("257 characters or elements"), "{}", e.0);
        assert!(
            oversized_value("from", &WireVariant::Array(vec![WireVariant::Nil; 300])).is_some()
        );
    }

    #[test]
    fn a_tween_that_does_not_loop_may_take_no_time() {
        let mut plan = TweenPlan::default();
        plan.add_tweener("tween_interval", 0.0, Tweener::Kept)
            .unwrap();
        plan.add_tweener("tween_property", 0.0, Tweener::Kept)
            .unwrap();
        plan.set_speed(1000.0).unwrap();
        plan.set_loops(1).unwrap();
    }

    #[test]
    fn looping_forever_needs_time_per_loop_in_either_order() {
        // Loops first, then the tweener (the usual `create_tween().set_loops()` chain).
        let mut plan = TweenPlan::default();
        plan.set_loops(0).unwrap();
        let e = plan
            .add_tweener("tween_interval", 0.0, Tweener::Kept)
            .unwrap_err();
        assert!(
            e.0.contains("forever") && e.0.contains("`tween_interval`"),
            "{}",
            e.0
        );
        plan.add_tweener("tween_interval", 0.5, Tweener::Kept)
            .unwrap();
        // Tweener first, then loops.
        let mut plan = TweenPlan::default();
        plan.add_tweener("tween_property", 0.0, Tweener::Kept)
            .unwrap();
        let e = plan.set_loops(0).unwrap_err();
        assert!(e.0.contains("`set_loops(0)`"), "{}", e.0);
        assert!(!plan.loops(), "a refused call changes nothing");
        // The longest tweener counts: a zero-length one beside a long one is fine.
        plan.add_tweener("tween_property", 1.0, Tweener::Kept)
            .unwrap();
        plan.set_loops(0).unwrap();
        plan.add_tweener("tween_interval", 0.0, Tweener::Kept)
            .unwrap();
    }

    #[test]
    fn a_large_finite_loop_count_is_held_to_the_same_rule() {
        let mut plan = TweenPlan::default();
        plan.add_tweener("tween_interval", 0.0, Tweener::Kept)
            .unwrap();
        assert!(plan.set_loops(2_147_483_647).is_err());
        assert!(plan.set_loops(2).is_err(), "any count but 1 loops");
        plan.add_tweener("tween_interval", MIN_LOOP_SECONDS, Tweener::Kept)
            .unwrap();
        plan.set_loops(2_147_483_647).unwrap();
    }

    #[test]
    fn the_speed_scale_shortens_a_loop() {
        let mut plan = TweenPlan::default();
        plan.add_tweener("tween_property", 0.5, Tweener::Kept)
            .unwrap();
        plan.set_loops(0).unwrap();
        plan.set_speed(400.0).unwrap();
        let e = plan.set_speed(1e6).unwrap_err();
        assert!(e.0.contains("speed scale"), "{}", e.0);
        plan.set_speed(0.0).unwrap();
        for bad in [f64::INFINITY, f64::NAN, -1.0] {
            assert!(plan.set_speed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_and_counts_that_are_not_numbers_of_the_right_sign_are_refused() {
        let mut plan = TweenPlan::default();
        for bad in [-1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(
                plan.add_tweener("tween_interval", bad, Tweener::Kept)
                    .is_err(),
                "{bad}"
            );
        }
        assert!(plan.set_loops(-1).is_err());
        assert_eq!(plan, TweenPlan::default(), "nothing refused was kept");
    }

    #[test]
    fn a_tweener_that_may_end_at_once_gives_a_loop_no_time() {
        // A node that can be freed: its tweener may take no time, so it alone cannot make a
        // loop last.
        let mut plan = TweenPlan::default();
        plan.add_tweener("tween_property", 1.0, Tweener::MayEndAtOnce)
            .unwrap();
        let e = plan.set_loops(2_000_000).unwrap_err();
        assert!(
            e.0.contains("`set_loops(2000000)`") && e.0.contains("can be freed"),
            "{}",
            e.0
        );
        let mut plan = TweenPlan::default();
        plan.set_loops(0).unwrap();
        let e = plan
            .add_tweener("tween_property", 1.0, Tweener::MayEndAtOnce)
            .unwrap_err();
        assert!(
            e.0.contains("can be freed") && e.0.contains("create_tween"),
            "{}",
            e.0
        );
        // Beside one that keeps its time, it is fine.
        plan.add_tweener("tween_interval", 0.5, Tweener::Kept)
            .unwrap();
        plan.add_tweener("tween_property", 1.0, Tweener::MayEndAtOnce)
            .unwrap();
        // And a tween that does not loop may hold any.
        let mut plan = TweenPlan::default();
        plan.add_tweener("tween_property", 1.0, Tweener::MayEndAtOnce)
            .unwrap();
        plan.set_loops(1).unwrap();
    }
}
