//! What the drawings of one mod may hold together (Godot-free; the glue's `drawing.rs` records
//! and replays them).
//!
//! A mod's drawing calls on its CanvasItems are recorded and replayed by Godot at every redraw,
//! outside the mod's budget, and the recordings stay in memory: so the drawings of all of one
//! mod's items together make at most [`MAX_COMMANDS`] calls passing at most [`MAX_POINTS`]
//! points and [`MAX_TEXT`] characters of text. A bound per `draw` callback let a mod with a
//! thousand items replay a thousand bounded drawings at every redraw: 1.5 fps and half a
//! gigabyte. An item's new drawing replaces its own share; an item freed since its drawing is
//! let go of when the sum would refuse a call.
//!
//! The drawings also cover at most [`MAX_AREA`] pixels together (the GPU fills them at every
//! frame, outside every budget): each piece (a rectangle, a circle, a segment of a line or a
//! polyline times its width, a texture, a glyph) counts its area, at most [`MAX_PIECE_AREA`]
//! (the screen clips it). A polyline of 65,536 points, each segment 100,000 pixels wide, was
//! 65,535 full-screen quads blended at every frame.

use std::collections::HashMap;

/// The most drawing calls the drawings of one mod's items may hold together.
pub const MAX_COMMANDS: usize = 4096;
/// The most points (and colors) the `draw_polyline` calls of one mod's drawings may pass
/// together.
pub const MAX_POINTS: usize = 1 << 16;
/// The most characters the `draw_string` calls of one mod's drawings may pass together (20
/// calls of 60,000 characters took Godot 200 ms to 1.3 s at every redraw).
pub const MAX_TEXT: usize = 8192;
/// The most pixels one mod's drawings may cover together, counting overlaps (32 Mi, sixteen
/// full-HD screens).
pub const MAX_AREA: u64 = 32 << 20;
/// The most pixels one piece of a drawing counts for, however large: a 4K screen (the screen
/// clips it).
pub const MAX_PIECE_AREA: u64 = 3840 * 2160;

/// The pixels a piece of `area` (width times height, in pixels) counts for: at most
/// [`MAX_PIECE_AREA`], and that much for an area that is no number or infinite.
pub fn piece_area(area: f64) -> u64 {
    if area.is_nan() || area >= MAX_PIECE_AREA as f64 {
        MAX_PIECE_AREA
    } else if area <= 0.0 {
        0
    } else {
        area.ceil() as u64
    }
}

/// What a drawing (or one drawing call) holds: calls, points (and colors), characters of text,
/// and the pixels it covers.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct DrawSize {
    pub calls: usize,
    pub points: usize,
    pub text: usize,
    pub area: u64,
}

impl DrawSize {
    /// One drawing call passing `points` points and `text` characters, covering `area` pixels
    /// (its pieces' [`piece_area`]s added up).
    pub fn call(points: usize, text: usize, area: u64) -> DrawSize {
        DrawSize {
            calls: 1,
            points,
            text,
            area,
        }
    }

    /// Both together (a drawing and one more call).
    pub fn plus(self, o: DrawSize) -> DrawSize {
        DrawSize {
            calls: self.calls.saturating_add(o.calls),
            points: self.points.saturating_add(o.points),
            text: self.text.saturating_add(o.text),
            area: self.area.saturating_add(o.area),
        }
    }

    fn minus(self, o: DrawSize) -> DrawSize {
        DrawSize {
            calls: self.calls.saturating_sub(o.calls),
            points: self.points.saturating_sub(o.points),
            text: self.text.saturating_sub(o.text),
            area: self.area.saturating_sub(o.area),
        }
    }

    /// What is over the bounds, if anything: the refusal's words ("make at most ...").
    fn over(self) -> Option<String> {
        if self.calls > MAX_COMMANDS {
            Some(format!("make at most {MAX_COMMANDS} drawing calls"))
        } else if self.points > MAX_POINTS {
            Some(format!("pass at most {MAX_POINTS} points"))
        } else if self.text > MAX_TEXT {
            Some(format!("pass at most {MAX_TEXT} characters of text"))
        } else if self.area > MAX_AREA {
            Some(format!(
                "cover at most {} million pixels (each piece counting at most a 4K screen; widths and sizes count)",
                MAX_AREA >> 20
            ))
        } else {
            None
        }
    }
}

/// The committed drawings of one mod's items (by the item's id) and their sum.
#[derive(Default, Debug)]
pub struct DrawTotals {
    sizes: HashMap<i64, DrawSize>,
    total: DrawSize,
}

impl DrawTotals {
    /// Whether `item`'s drawing may hold `pending` (replacing its committed one): `Ok`, or the
    /// refusal's words. When the sum would refuse it, the items `alive` says are gone are let
    /// go of first (returned in `gone`, for the caller to drop their recordings).
    ///
    /// # Errors
    /// What would be over the bounds ("make at most 4096 drawing calls").
    pub fn admit(
        &mut self,
        item: i64,
        pending: DrawSize,
        alive: impl Fn(i64) -> bool,
        gone: &mut Vec<i64>,
    ) -> Result<(), String> {
        if self.with(item, pending).is_none() {
            return Ok(());
        }
        let dead: Vec<i64> = self
            .sizes
            .keys()
            .copied()
            .filter(|id| !alive(*id))
            .collect();
        for id in dead {
            let size = self.sizes.remove(&id).unwrap_or_default();
            self.total = self.total.minus(size);
            gone.push(id);
        }
        self.with(item, pending).map_or(Ok(()), Err)
    }

    /// What would be over the bounds if `item`'s drawing held `pending`.
    fn with(&self, item: i64, pending: DrawSize) -> Option<String> {
        let own = self.sizes.get(&item).copied().unwrap_or_default();
        self.total.minus(own).plus(pending).over()
    }

    /// `item`'s drawing now holds `size`.
    pub fn commit(&mut self, item: i64, size: DrawSize) {
        let before = self.sizes.insert(item, size).unwrap_or_default();
        self.total = self.total.minus(before).plus(size);
    }

    /// Forgets every drawing (the instance ended).
    pub fn clear(&mut self) {
        self.sizes.clear();
        self.total = DrawSize::default();
    }

    /// Forgets `item`'s drawing (the item is gone).
    pub fn forget(&mut self, item: i64) {
        if let Some(size) = self.sizes.remove(&item) {
            self.total = self.total.minus(size);
        }
    }
}

/// The items a mod watches for drawing (it connected their `draw`), by object id. An item
/// freed without drawing never reaches [`DrawTotals`]' sweep, and its replay stayed until the
/// instance ended: a mod connecting `draw` on a new node and freeing it, over and over, grew
/// the host's tables without bound. Whenever the set has doubled since the last sweep, the
/// items that are gone are let go (amortized constant work per item).
#[derive(Default)]
pub struct WatchedItems {
    ids: std::collections::HashSet<i64>,
    swept_at: usize,
}

impl WatchedItems {
    /// The fewest items before a sweep.
    const SWEEP_FLOOR: usize = 64;

    /// Adds `item` (if new; true then); when the set has doubled since the last sweep, first
    /// drops the items `alive` says are gone, pushing them to `gone` for the caller to let go
    /// of what it keeps for them.
    pub fn add(&mut self, item: i64, alive: impl Fn(i64) -> bool, gone: &mut Vec<i64>) -> bool {
        if self.ids.contains(&item) {
            return false;
        }
        if self.ids.len() >= (2 * self.swept_at).max(Self::SWEEP_FLOOR) {
            self.ids.retain(|&id| {
                let keep = alive(id);
                if !keep {
                    gone.push(id);
                }
                keep
            });
            self.swept_at = self.ids.len();
        }
        self.ids.insert(item)
    }

    /// How many items are watched.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no item is watched.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Stops watching `item` (its recording was let go of otherwise).
    pub fn remove(&mut self, item: i64) {
        self.ids.remove(&item);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pieces_count_their_area_up_to_a_screen_and_drawings_up_to_the_bound() {
        use super::*;
        assert_eq!(piece_area(10.0 * 10.0), 100);
        assert_eq!(piece_area(-5.0), 0);
        assert_eq!(piece_area(1e12), MAX_PIECE_AREA);
        assert_eq!(piece_area(f64::NAN), MAX_PIECE_AREA);
        assert_eq!(piece_area(f64::INFINITY), MAX_PIECE_AREA);
        let mut totals = DrawTotals::default();
        let mut gone = Vec::new();
        let screens = (MAX_AREA / MAX_PIECE_AREA) as usize;
        let full = DrawSize::call(0, 0, MAX_PIECE_AREA * screens as u64);
        assert!(totals.admit(1, full, |_| true, &mut gone).is_ok());
        totals.commit(1, full);
        let more = DrawSize::call(0, 0, MAX_AREA - MAX_PIECE_AREA * screens as u64 + 1);
        let err = totals.admit(2, more, |_| true, &mut gone).unwrap_err();
        assert!(err.contains("cover at most 32 million pixels"), "{err}");
    }

    #[test]
    fn watched_items_that_are_gone_are_let_go_as_the_set_grows() {
        let mut watched = super::WatchedItems::default();
        let mut gone = Vec::new();
        // Every item but the ten first is freed right after it is watched.
        for id in 0..100_000i64 {
            assert!(watched.add(id, |i| i < 10 || i == id, &mut gone));
        }
        assert!(
            watched.len() <= 2 * super::WatchedItems::SWEEP_FLOOR,
            "{}",
            watched.len()
        );
        assert!(gone.len() >= 99_000 - 2 * super::WatchedItems::SWEEP_FLOOR);
        assert!(!gone.iter().any(|&i| i < 10), "a live item was let go");
        // Live items are never let go, however many.
        let mut live = super::WatchedItems::default();
        let mut none = Vec::new();
        for id in 0..10_000i64 {
            live.add(id, |_| true, &mut none);
        }
        assert_eq!(live.len(), 10_000);
        assert!(none.is_empty());
        // Adding one already watched changes nothing.
        assert!(!live.add(5, |_| true, &mut none));
    }

    #[test]
    fn a_forgotten_drawing_leaves_the_total() {
        let mut totals = super::DrawTotals::default();
        totals.commit(1, super::DrawSize::call(10, 0, 0));
        totals.commit(2, super::DrawSize::call(5, 0, 0));
        totals.forget(1);
        let mut gone = Vec::new();
        // Item 3 may now hold what item 1 held.
        assert!(totals
            .admit(3, super::DrawSize::call(10, 0, 0), |_| true, &mut gone)
            .is_ok());
        assert_eq!(totals.total, super::DrawSize::call(5, 0, 0));
    }

    use super::*;

    fn calls(n: usize) -> DrawSize {
        DrawSize {
            calls: n,
            points: 0,
            text: 0,
            area: 0,
        }
    }

    #[test]
    fn the_bounds_are_on_all_items_together() {
        let mut totals = DrawTotals::default();
        let mut gone = Vec::new();
        assert!(totals.admit(1, calls(3000), |_| true, &mut gone).is_ok());
        totals.commit(1, calls(3000));
        assert!(totals.admit(2, calls(1096), |_| true, &mut gone).is_ok());
        let e = totals
            .admit(2, calls(1097), |_| true, &mut gone)
            .unwrap_err();
        assert_eq!(e, "make at most 4096 drawing calls");
        // An item's new drawing replaces its own share.
        assert!(totals.admit(1, calls(4096), |_| true, &mut gone).is_ok());
        assert!(gone.is_empty());
    }

    #[test]
    fn freed_items_are_let_go_of_when_the_sum_would_refuse() {
        let mut totals = DrawTotals::default();
        let mut gone = Vec::new();
        totals.commit(1, calls(3000));
        totals.commit(2, calls(1000));
        assert!(totals.admit(3, calls(500), |id| id != 1, &mut gone).is_ok());
        assert_eq!(gone, vec![1]);
        totals.commit(3, calls(500));
        assert!(totals.admit(4, calls(2597), |_| true, &mut gone).is_err());
        assert!(totals.admit(4, calls(2596), |_| true, &mut gone).is_ok());
    }

    #[test]
    fn points_and_text_have_their_own_bounds() {
        let mut totals = DrawTotals::default();
        let mut gone = Vec::new();
        totals.commit(1, DrawSize::call(MAX_POINTS, MAX_TEXT, 0));
        let e = totals
            .admit(2, DrawSize::call(1, 0, 0), |_| true, &mut gone)
            .unwrap_err();
        assert!(e.contains("points"), "{e}");
        let e = totals
            .admit(2, DrawSize::call(0, 1, 0), |_| true, &mut gone)
            .unwrap_err();
        assert!(e.contains("characters"), "{e}");
        totals.clear();
        assert!(totals
            .admit(2, DrawSize::call(1, 1, 0), |_| true, &mut gone)
            .is_ok());
    }
}
