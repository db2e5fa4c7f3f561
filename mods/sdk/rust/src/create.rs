//! Objects the mod creates: [`new_object`], resources from embedded bytes
//! ([`texture_from_bytes`], [`audio_from_bytes`], [`font_from_bytes`]), [`load_resource`], and
//! the tree helpers on [`Object`]
//! ([`Object::add_child`], [`Object::remove_child`], [`Object::queue_free`]).
//!
//! What a mod creates is owned by its instance: it counts against the game's
//! `wasgo/limits/max_objects_per_mod` ([`Error::Busy`] past it) and is freed when the instance
//! ends unless the game adopts it. Only owned nodes may be added, removed or freed, and only under
//! nodes the mod may reach (its own node, or what the game's `reach` lets it see).
//!
//! ```ignore
//! let me = wasgo_sdk::self_node()?;
//! let label = wasgo_sdk::new_object("Label")?;
//! label.set("text", "hello from a mod")?;
//! me.add_child(&label)?;
//! ```

#[allow(unused_imports)] // named by the docs
use crate::Error;
use crate::{len, ptr, sys, Color, Object, Result, Variant, Vector2};

/// Creates an object of a class the game's allowlist marks `instantiable` (`"Sprite2D"`,
/// `"Label"`, `"Timer"`, `"StandardMaterial3D"`, ...), owned by this instance.
///
/// # Errors
/// [`Error::NotFound`] for a class Godot does not have, [`Error::InvalidArgument`] for one the
/// mod may not create (the message, in [`crate::last_error`], says why), [`Error::Busy`] past the
/// game's per-mod object cap.
pub fn new_object(class: &str) -> Result<Object> {
    // SAFETY: the name is live for the call; the host only reads it.
    let code = unsafe { sys::new(ptr(class.as_bytes()), len(class.as_bytes())) };
    Object::from_code(code)
}

/// Makes an `ImageTexture` from PNG, JPEG, WebP or SVG bytes (embed them with
/// `include_bytes!`), owned by this instance.
///
/// # Errors
/// [`Error::InvalidArgument`] for data that is not one of those formats, is corrupt, or exceeds
/// the game's `wasgo/limits/asset_kb` or `wasgo/limits/texture_max_px`, or an SVG whose drawing
/// would exceed `wasgo/limits/svg_draw_mpx` ([`crate::last_error`] says which);
/// [`Error::Busy`] past the object cap.
pub fn texture_from_bytes(bytes: &[u8]) -> Result<Object> {
    // SAFETY: the bytes are live for the call; the host only reads them.
    Object::from_code(unsafe { sys::texture_from_bytes(ptr(bytes), len(bytes)) })
}

/// Makes an `AudioStream` from Ogg Vorbis, WAV or MP3 bytes, owned by this instance.
///
/// # Errors
/// As [`texture_from_bytes`] (the size cap is `wasgo/limits/asset_kb`).
pub fn audio_from_bytes(bytes: &[u8]) -> Result<Object> {
    // SAFETY: the bytes are live for the call; the host only reads them.
    Object::from_code(unsafe { sys::audio_from_bytes(ptr(bytes), len(bytes)) })
}

/// Makes a `FontFile` from TTF or OTF bytes, owned by this instance (use it with
/// `add_theme_font_override("font", ...)` on a Control).
///
/// # Errors
/// As [`texture_from_bytes`].
pub fn font_from_bytes(bytes: &[u8]) -> Result<Object> {
    // SAFETY: the bytes are live for the call; the host only reads them.
    Object::from_code(unsafe { sys::font_from_bytes(ptr(bytes), len(bytes)) })
}

/// Loads a `res://` texture, sound, font, sprite frames, mesh or material read-only, from a
/// folder the game lists in `wasgo/safety/resource_folders`.
///
/// # Errors
/// [`Error::NotFound`] outside those folders or for a missing file; [`Error::InvalidArgument`]
/// for another type or a resource that names a script.
pub fn load_resource(path: &str) -> Result<Object> {
    // SAFETY: the path is live for the call; the host only reads it.
    Object::from_code(unsafe { sys::load_resource(ptr(path.as_bytes()), len(path.as_bytes())) })
}

impl Object {
    /// Adds `child` (a node this mod created, without a parent yet) under this node.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `child` is not the mod's own or already has a parent;
    /// [`Error::NotFound`] when this node left the mod's reach.
    pub fn add_child(&self, child: &Object) -> Result<()> {
        self.call("add_child", &[Variant::from(child)]).map(|_| ())
    }

    /// Removes `child` (a node this mod created) from this node; it stays owned (free it with
    /// [`Object::queue_free`] or add it elsewhere).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `child` is not the mod's own or not a child of this node.
    pub fn remove_child(&self, child: &Object) -> Result<()> {
        self.call("remove_child", &[Variant::from(child)])
            .map(|_| ())
    }

    /// `draw_line(from, to, color, width)` on this CanvasItem (one the mod created), inside the
    /// `draw` callback the mod connected with [`Object::connect`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] outside that callback or on another object.
    pub fn draw_line(&self, from: Vector2, to: Vector2, color: Color, width: f32) -> Result<()> {
        let args = [
            Variant::Vector2(from),
            Variant::Vector2(to),
            Variant::Color(color),
            Variant::Float(width as f64),
        ];
        self.call("draw_line", &args).map(|_| ())
    }

    /// `draw_rect(rect, color, filled)` (`rect` = x, y, width, height), as [`Object::draw_line`].
    ///
    /// # Errors
    /// As [`Object::draw_line`].
    pub fn draw_rect(&self, rect: [f32; 4], color: Color, filled: bool) -> Result<()> {
        let args = [
            Variant::Rect2(rect),
            Variant::Color(color),
            Variant::Bool(filled),
        ];
        self.call("draw_rect", &args).map(|_| ())
    }

    /// `draw_circle(center, radius, color)`, as [`Object::draw_line`].
    ///
    /// # Errors
    /// As [`Object::draw_line`].
    pub fn draw_circle(&self, center: Vector2, radius: f32, color: Color) -> Result<()> {
        let args = [
            Variant::Vector2(center),
            Variant::Float(radius as f64),
            Variant::Color(color),
        ];
        self.call("draw_circle", &args).map(|_| ())
    }

    /// `draw_polyline(points, color, width)`: connected lines through `points` (at least two),
    /// as [`Object::draw_line`]. A negative `width` draws one-pixel lines.
    ///
    /// # Errors
    /// As [`Object::draw_line`]; also [`Error::InvalidArgument`] for fewer than two points, and
    /// [`Error::Busy`] when the mod's drawings together would pass the game's cap on points.
    pub fn draw_polyline(&self, points: &[Vector2], color: Color, width: f32) -> Result<()> {
        let args = [
            Variant::PackedVector2Array(points.to_vec()),
            Variant::Color(color),
            Variant::Float(width as f64),
        ];
        self.call("draw_polyline", &args).map(|_| ())
    }

    /// `draw_string(font, position, text, ...)`: `text` with its baseline's left end at
    /// `position`, in `font` (a handle from [`font_from_bytes`], or a font the mod reads from a
    /// node) at `font_size` pixels, left-aligned and unwrapped; as [`Object::draw_line`].
    ///
    /// # Errors
    /// As [`Object::draw_line`]; also [`Error::InvalidArgument`] when `font` is not a `Font`,
    /// and [`Error::Busy`] when the mod's drawings together would pass the game's cap on
    /// characters.
    pub fn draw_string(
        &self,
        font: &Object,
        position: Vector2,
        text: &str,
        font_size: i32,
        color: Color,
    ) -> Result<()> {
        let args = [
            Variant::from(font),
            Variant::Vector2(position),
            Variant::from(text),
            // HORIZONTAL_ALIGNMENT_LEFT, no width limit.
            Variant::Int(0),
            Variant::Float(-1.0),
            Variant::Int(i64::from(font_size)),
            Variant::Color(color),
        ];
        self.call("draw_string", &args).map(|_| ())
    }

    /// `draw_texture(texture, position)` with a texture the mod holds, as [`Object::draw_line`].
    ///
    /// # Errors
    /// As [`Object::draw_line`].
    pub fn draw_texture(&self, texture: &Object, position: Vector2) -> Result<()> {
        let args = [Variant::from(texture), Variant::Vector2(position)];
        self.call("draw_texture", &args).map(|_| ())
    }

    /// Frees this node (one the mod created) at the end of the frame.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a node the mod did not create.
    pub fn queue_free(&self) -> Result<()> {
        self.call("queue_free", &[]).map(|_| ())
    }
}
