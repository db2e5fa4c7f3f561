//! Drawing by mods on the CanvasItems they own. Main thread only.
//!
//! Godot accepts `draw_*` calls only while a CanvasItem handles its `draw` notification, and a
//! mod's `native_callback` for the `draw` signal runs after that (signals are delivered after
//! the entry that fired them, never by re-entering the mod from inside the engine). So a mod's
//! drawing is recorded and replayed:
//!
//! - `wasgo.connect(item, "draw", id)` on a CanvasItem the mod owns ([`DrawLists::watch`]) also
//!   connects a replay callable of WasGo's to the item's `draw` signal;
//! - while the mod's `native_callback(id)` for that connection runs (between
//!   [`DrawLists::begin`] and [`DrawLists::end`]), its `draw_line`, `draw_rect`, `draw_circle`,
//!   `draw_polyline`, `draw_string` and `draw_texture` calls on that item are recorded
//!   ([`DrawLists::record`]); at any other time, or on another object, they are refused with
//!   -3. The drawings of all of a mod's items together are bounded
//!   ([`wasgo_core::draw_budget`]: Godot replays them at every redraw, outside the mod's
//!   budget, and holds them in memory);
//! - when the callback returns, the recording replaces the item's drawing, and the item is
//!   redrawn if it changed: the replay callable makes the recorded calls inside Godot's `draw`.
//!
//! A mod that animates calls `queue_redraw()` on its item (allowlisted); each redraw delivers
//! `draw` to it again. The replay callables are disconnected when the instance ends.

use godot::classes::{CanvasItem, Object};
use godot::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasgo_catalog::ErrorCode;
use wasgo_core::draw_budget::{DrawSize, DrawTotals, WatchedItems};
use wasgo_core::ObjectError;

/// The drawing methods a mod may call during its item's `draw` callback.
pub const DRAW_METHODS: [&str; 6] = [
    "draw_line",
    "draw_rect",
    "draw_circle",
    "draw_polyline",
    "draw_string",
    "draw_texture",
];

/// What a drawing method's parameter takes (the types Godot's call accepts for it).
#[derive(Clone, Copy)]
enum Param {
    Vector2,
    Rect2,
    Color,
    Float,
    Int,
    Bool,
    Text,
    Points,
    /// An object of this class.
    Object(&'static str),
}

/// Godot's `HORIZONTAL_ALIGNMENT_FILL`.
const HORIZONTAL_ALIGNMENT_FILL: f64 = 3.0;

/// Each drawing method's parameters and how many of the last may be left out, as Godot 4.6's
/// `CanvasItem` declares them. A call is checked when it is recorded: a bad one replayed at
/// every redraw had Godot print an error each time, outside the mod's budget and log limit.
const SIGNATURES: [(&str, &[Param], usize); 6] = {
    use Param::*;
    [
        ("draw_line", &[Vector2, Vector2, Color, Float, Bool], 2),
        ("draw_rect", &[Rect2, Color, Bool, Float, Bool], 3),
        (
            "draw_circle",
            &[Vector2, Float, Color, Bool, Float, Bool],
            3,
        ),
        ("draw_polyline", &[Points, Color, Float, Bool], 2),
        (
            "draw_string",
            &[
                Object("Font"),
                Vector2,
                Text,
                Int,
                Float,
                Int,
                Color,
                Int,
                Int,
                Int,
                Float,
            ],
            8,
        ),
        ("draw_texture", &[Object("Texture2D"), Vector2, Color], 1),
    ]
};

/// Whether `arg` is a value Godot passes for `param` without an error.
fn fits(param: Param, arg: &Variant) -> bool {
    use VariantType as T;
    let t = arg.get_type();
    match param {
        Param::Vector2 => matches!(t, T::VECTOR2 | T::VECTOR2I),
        Param::Rect2 => matches!(t, T::RECT2 | T::RECT2I),
        Param::Color => matches!(t, T::COLOR | T::STRING | T::INT),
        Param::Float | Param::Int | Param::Bool => matches!(t, T::FLOAT | T::INT | T::BOOL),
        Param::Text => crate::convert::is_text_type(t),
        Param::Points => matches!(t, T::PACKED_VECTOR2_ARRAY | T::ARRAY),
        Param::Object(class) => arg.try_to::<Gd<Object>>().is_ok_and(|o| o.is_class(class)),
    }
}

/// Why the arguments `args` do not fit drawing method `method`, if they do not.
fn misfit(method: &str, args: &VarArray) -> Option<String> {
    let (_, params, optional) = SIGNATURES.iter().find(|(m, _, _)| *m == method)?;
    let (least, most) = (params.len() - optional, params.len());
    if args.len() < least || args.len() > most {
        return Some(format!(
            "`{method}` takes {least} to {most} arguments, not {}",
            args.len()
        ));
    }
    args.iter_shared()
        .zip(params.iter())
        .position(|(arg, param)| !fits(*param, &arg))
        .map(|i| {
            let got = args.get(i).map_or(VariantType::NIL, |a| a.get_type());
            format!(
                "`{method}`: argument {} cannot be {got:?} (see CanvasItem.{method} in Godot's docs)",
                i + 1
            )
        })
}

/// Why the arguments `args`, of the right types for drawing method `method`, still make Godot
/// print a warning or an error when the call is made (at every redraw of a recorded call),
/// if they do.
fn refused_values(method: &str, args: &VarArray) -> Option<String> {
    let (_, params, _) = SIGNATURES.iter().find(|(m, _, _)| *m == method)?;
    let arg = |i: usize| args.get(i);
    // A number argument as Godot converts it (a bool, an int or a float all fit one).
    let number = crate::convert::number;
    let float = |i: usize, default: f64| arg(i).as_ref().and_then(number).unwrap_or(default);
    let flag = |i: usize, default: bool| {
        arg(i)
            .as_ref()
            .and_then(number)
            .map_or(default, |n| n != 0.0)
    };
    for (i, param) in params.iter().enumerate() {
        if let (Param::Color, Some(a)) = (param, arg(i)) {
            if crate::convert::is_text_type(a.get_type())
                && Color::from_string(&a.stringify()).is_none()
            {
                return Some(format!(
                    "`{method}`: argument {} is no colour name or HTML colour code; pass a Color",
                    i + 1
                ));
            }
        }
    }
    // (filled, width, antialiased) argument positions of the shapes.
    let shape = match method {
        "draw_rect" => Some((2, 3, 4)),
        "draw_circle" => Some((3, 4, 5)),
        _ => None,
    };
    if let Some((filled, width, antialiased)) = shape {
        let (filled, width, antialiased) = (
            flag(filled, true),
            float(width, -1.0),
            flag(antialiased, false),
        );
        if filled && width != -1.0 {
            return Some(format!(
                "`{method}`: a width has no effect on a filled shape; leave it out or pass -1"
            ));
        }
        if !filled && width < 0.0 && antialiased {
            return Some(format!(
                "`{method}`: an antialiased outline needs a width of 0 or more"
            ));
        }
    }
    // Justified to fill its width, Godot repeats a text's elongation glyphs (Arabic kashida)
    // up to 255 times each, at every redraw: 8,192 characters made a million glyphs.
    if method == "draw_string" && float(3, 0.0) == HORIZONTAL_ALIGNMENT_FILL {
        return Some(format!(
            "`{method}`: the fill alignment (3, HORIZONTAL_ALIGNMENT_FILL) is not drawn for mods: Godot would repeat glyphs up to 255 times each to fill the width; use left, center or right"
        ));
    }
    if method == "draw_polyline" {
        let points = arg(0).map_or(0, |a| match a.try_to::<PackedVector2Array>() {
            Ok(p) => p.len(),
            Err(_) => a.try_to::<VarArray>().map_or(0, |a| a.len()),
        });
        if points < 2 {
            return Some(format!(
                "`{method}`: a polyline needs at least 2 points, not {points}"
            ));
        }
        if float(2, -1.0) < 0.0 && flag(3, false) {
            return Some(format!(
                "`{method}`: an antialiased polyline needs a width of 0 or more"
            ));
        }
    }
    None
}

/// The pixels a drawing call of the right types covers, its pieces' areas added up (a line's
/// and each polyline segment's length times its width, a rectangle's or a circle's surface or
/// outline, a texture's size, each character's glyph box), each piece at most a 4K screen
/// (`wasgo_core::draw_budget::piece_area`): the GPU fills them at every frame.
fn covered_area(method: &str, args: &VarArray) -> u64 {
    use wasgo_core::draw_budget::piece_area;
    let number = |i: usize, default: f64| {
        args.get(i)
            .as_ref()
            .and_then(crate::convert::number)
            .unwrap_or(default)
    };
    let point = |v: &Variant| {
        v.try_to::<Vector2>()
            .ok()
            .or_else(|| v.try_to::<Vector2i>().ok().map(|p| p.to_vector2()))
    };
    let length = |a: Option<Vector2>, b: Option<Vector2>| match (a, b) {
        (Some(a), Some(b)) => f64::from(a.distance_to(b)),
        _ => f64::NAN,
    };
    // A width of -1 (or any below 1) is a thin line: one pixel.
    let thickness = |w: f64| {
        if w.is_nan() {
            f64::INFINITY
        } else {
            w.abs().max(1.0)
        }
    };
    match method {
        "draw_line" => {
            let t = thickness(number(3, -1.0));
            let len = length(
                args.get(0).as_ref().and_then(point),
                args.get(1).as_ref().and_then(point),
            );
            piece_area((len + t) * t)
        }
        "draw_rect" => {
            let rect = args.get(0).and_then(|r| {
                r.try_to::<Rect2>()
                    .ok()
                    .or_else(|| r.try_to::<Rect2i>().ok().map(|r| r.to_rect2()))
            });
            let (w, h) = rect.map_or((f64::NAN, f64::NAN), |r| {
                (f64::from(r.size.x.abs()), f64::from(r.size.y.abs()))
            });
            if number(2, 1.0) != 0.0 {
                piece_area(w * h)
            } else {
                let t = thickness(number(3, -1.0));
                piece_area((2.0 * (w + h) * t).min((w + t) * (h + t)))
            }
        }
        "draw_circle" => {
            let r = number(1, 0.0).abs();
            if number(3, 1.0) != 0.0 {
                piece_area(std::f64::consts::PI * r * r)
            } else {
                let t = thickness(number(4, -1.0));
                piece_area(2.0 * std::f64::consts::PI * (r + t) * t)
            }
        }
        "draw_polyline" => {
            let t = thickness(number(2, -1.0));
            let points: Vec<Option<Vector2>> = match args.get(0) {
                Some(a) => match a.try_to::<PackedVector2Array>() {
                    Ok(p) => p.as_slice().iter().copied().map(Some).collect(),
                    Err(_) => a
                        .try_to::<VarArray>()
                        .map(|list| list.iter_shared().map(|v| point(&v)).collect())
                        .unwrap_or_default(),
                },
                None => Vec::new(),
            };
            points
                .windows(2)
                .map(|pair| piece_area((length(pair[0], pair[1]) + t) * t))
                .fold(0u64, u64::saturating_add)
        }
        "draw_string" => {
            // Each glyph at most a square of the font size (16 when left out).
            let size = number(5, 16.0).abs();
            let chars = args.get(2).map_or(0, |t| t.to_string().chars().count()) as u64;
            piece_area(size * size).saturating_mul(chars)
        }
        "draw_texture" => args
            .get(0)
            .and_then(|t| t.try_to::<Gd<godot::classes::Texture2D>>().ok())
            .map_or(0, |t| {
                piece_area(f64::from(t.get_width()) * f64::from(t.get_height()))
            }),
        _ => 0,
    }
}

/// One recorded drawing call.
type Command = (StringName, VarArray);
/// An item's committed drawing, shared with its replay callable.
type Commands = Rc<RefCell<Vec<Command>>>;

/// One instance's drawing state.
#[derive(Default)]
pub struct DrawLists {
    /// Callback id → the item whose `draw` signal it is connected to.
    callbacks: HashMap<i32, InstanceId>,
    /// The item whose `draw` callback runs now.
    current: Option<InstanceId>,
    pending: Vec<Command>,
    /// What `pending` holds.
    pending_size: DrawSize,
    committed: HashMap<InstanceId, Commands>,
    /// What the items' committed drawings hold.
    totals: DrawTotals,
    replays: Vec<(InstanceId, Callable)>,
    /// The items in `committed`, let go of once freed (see [`WatchedItems`]).
    watched: WatchedItems,
}

impl DrawLists {
    /// After `wasgo.connect(item, "draw", callback_id)` on an owned CanvasItem: records the
    /// callback and connects the item's replay (once per item).
    pub fn watch(&mut self, item: &Gd<Object>, callback_id: i32) {
        let Ok(mut canvas) = item.clone().try_cast::<CanvasItem>() else {
            return;
        };
        let id = item.instance_id();
        if self.committed.contains_key(&id) {
            self.callbacks.insert(callback_id, id);
            return;
        }
        let mut gone = Vec::new();
        let alive = |id: i64| {
            InstanceId::try_from_i64(id)
                .is_some_and(|id| Gd::<Object>::try_from_instance_id(id).is_ok())
        };
        self.watched.add(id.to_i64(), alive, &mut gone);
        if !gone.is_empty() {
            for gone in gone.iter().filter_map(|&g| InstanceId::try_from_i64(g)) {
                self.committed.remove(&gone);
                self.totals.forget(gone.to_i64());
            }
            let committed = &self.committed;
            self.replays.retain(|(i, _)| committed.contains_key(i));
            self.callbacks.retain(|_, i| committed.contains_key(i));
        }
        self.callbacks.insert(callback_id, id);
        let commands: Commands = Rc::default();
        let replayed = commands.clone();
        let replay = Callable::from_fn("wasgo_draw_replay", move |_args: &[&Variant]| {
            let Ok(mut item) = Gd::<Object>::try_from_instance_id(id) else {
                return;
            };
            // The list is only read here and only replaced between callbacks.
            if let Ok(commands) = replayed.try_borrow() {
                for (method, args) in commands.iter() {
                    item.callv(method, args);
                }
            }
        });
        canvas.connect("draw", &replay);
        self.committed.insert(id, commands);
        self.replays.push((id, replay));
    }

    /// The mod's `native_callback(callback_id)` starts: drawing is open on its item if it is a
    /// `draw` callback.
    pub fn begin(&mut self, callback_id: i32) {
        self.current = self.callbacks.get(&callback_id).copied();
        self.pending.clear();
        self.pending_size = DrawSize::default();
    }

    /// The callback returned: its recording becomes the item's drawing (redrawn if changed).
    pub fn end(&mut self) {
        let Some(id) = self.current.take() else {
            return;
        };
        let recorded = std::mem::take(&mut self.pending);
        let size = std::mem::take(&mut self.pending_size);
        let Some(commands) = self.committed.get(&id) else {
            return;
        };
        let Ok(mut commands) = commands.try_borrow_mut() else {
            return;
        };
        if *commands == recorded {
            return;
        }
        *commands = recorded;
        self.totals.commit(id.to_i64(), size);
        if let Ok(mut item) = Gd::<CanvasItem>::try_from_instance_id(id) {
            item.queue_redraw();
        }
    }

    /// Records a drawing call on `item` made during its `draw` callback.
    ///
    /// # Errors
    /// -3 outside that callback or on another object; -7 past the bounds of
    /// [`wasgo_core::draw_budget`].
    pub fn record(
        &mut self,
        item: &Gd<Object>,
        method: &str,
        args: VarArray,
    ) -> Result<(), ObjectError> {
        if self.current != Some(item.instance_id()) {
            return Err(ObjectError::failed(
                ErrorCode::InvalidArgument.code(),
                format!("`{method}` is allowed only on a CanvasItem the mod created, during the `native_callback` of its `draw` signal (connect `draw` with `wasgo.connect`, then draw there)"),
            ));
        }
        if let Some(why) = misfit(method, &args).or_else(|| refused_values(method, &args)) {
            return Err(ObjectError::failed(ErrorCode::InvalidArgument.code(), why));
        }
        // Every list argument counts by its length, whatever its type: an untyped Array of
        // points (which Godot converts) counted none.
        let points: usize = args
            .iter_shared()
            .map(|a| match a.get_type() {
                VariantType::PACKED_VECTOR2_ARRAY => a.to::<PackedVector2Array>().len(),
                VariantType::PACKED_COLOR_ARRAY => a.to::<PackedColorArray>().len(),
                VariantType::ARRAY => a.to::<VarArray>().len(),
                _ => 0,
            })
            .sum();
        let text: usize = args
            .iter_shared()
            // A NodePath is text to a drawing method too (Godot converts it).
            .filter(|a| crate::convert::is_text_type(a.get_type()))
            .map(|a| a.to_string().chars().count())
            .sum();
        let area = covered_area(method, &args);
        let pending = self.pending_size.plus(DrawSize::call(points, text, area));
        let mut gone = Vec::new();
        let admitted = self.totals.admit(
            item.instance_id().to_i64(),
            pending,
            |id| {
                InstanceId::try_from_i64(id)
                    .is_some_and(|id| Gd::<Object>::try_from_instance_id(id).is_ok())
            },
            &mut gone,
        );
        for id in gone.into_iter().filter_map(InstanceId::try_from_i64) {
            self.committed.remove(&id);
            self.watched.remove(id.to_i64());
            self.replays.retain(|(i, _)| *i != id);
        }
        if let Err(what) = admitted {
            return Err(ObjectError::failed(
                ErrorCode::Busy.code(),
                format!("`{method}` refused: the drawings of one mod's items may together {what} (this item's new drawing replaces its old one; draw less, or on fewer items)"),
            ));
        }
        self.pending_size = pending;
        self.pending.push((StringName::from(method), args));
        Ok(())
    }

    /// Lets go of one item the game adopted: its drawing stops being replayed (the item is
    /// redrawn without it), its share of the bounds is given back, and the mod's drawing calls
    /// on it are -3 from now on, as on any game object.
    pub fn release_item(&mut self, id: InstanceId) {
        self.callbacks.retain(|_, item| *item != id);
        if self.current == Some(id) {
            self.current = None;
            self.pending.clear();
            self.pending_size = DrawSize::default();
        }
        if self.committed.remove(&id).is_none() {
            return;
        }
        self.watched.remove(id.to_i64());
        self.totals.forget(id.to_i64());
        if let Some(at) = self.replays.iter().position(|(item, _)| *item == id) {
            let (_, replay) = self.replays.swap_remove(at);
            if let Ok(mut item) = Gd::<Object>::try_from_instance_id(id) {
                if item.is_connected("draw", &replay) {
                    item.disconnect("draw", &replay);
                }
            }
        }
        if let Ok(mut item) = Gd::<CanvasItem>::try_from_instance_id(id) {
            item.queue_redraw();
        }
    }

    /// Disconnects the replays and drops the recordings (the instance ended).
    pub fn release_all(&mut self) {
        for (id, replay) in self.replays.drain(..) {
            if let Ok(mut item) = Gd::<Object>::try_from_instance_id(id) {
                if item.is_connected("draw", &replay) {
                    item.disconnect("draw", &replay);
                }
            }
        }
        self.committed.clear();
        self.watched = WatchedItems::default();
        self.totals.clear();
        self.callbacks.clear();
        self.pending.clear();
        self.current = None;
    }
}
