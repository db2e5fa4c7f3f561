//! Conversions between Godot Variants and wasm values.
//!
//! Nothing a mod sends may panic the host: [`from_wire`] first checks the whole value with
//! [`WireVariant::check_engine_safe`] (a pure function of `wasgo-variant`, tested there without
//! Godot) and answers -3 ([`ErrorCode::InvalidArgument`]) for a value the engine cannot hold, and
//! it builds every Godot type with constructors that never assert (a `Plane` is a struct literal:
//! gdext's `Plane::new` asserts a unit normal, which GDScript does not require).
//!
//! Objects travel as handles of the instance's table; what the conversions need of that table is
//! the [`Handles`] trait, implemented by `objects::InstanceObjects` (which sits above this
//! module and converts through it), so the two modules import one way only.

use godot::prelude::*;
use wasgo_core::catalog::Abi;
use wasgo_core::{GameType, GameValue, Val};

/// Names up to this many ASCII characters are read from a `GString` without an allocation.
const INLINE_NAME: usize = 64;

/// Runs `f` with `name` as a `&str`. A short ASCII name (every export and operation name a mod
/// is likely to have) is copied to the stack: gdext's `GString` to `String` conversion formats
/// the string one character at a time into a fresh allocation, a tenth of an empty
/// `call_export`. Other names go through that conversion.
pub fn with_str<R>(name: &GString, f: impl FnOnce(&str) -> R) -> R {
    let chars = name.chars();
    if chars.len() <= INLINE_NAME && chars.iter().all(char::is_ascii) {
        let mut buf = [0u8; INLINE_NAME];
        for (b, c) in buf.iter_mut().zip(chars) {
            *b = *c as u8;
        }
        // Every byte is an ASCII character, so the prefix is UTF-8.
        if let Ok(s) = std::str::from_utf8(&buf[..chars.len()]) {
            return f(s);
        }
    }
    f(&text(name))
}

thread_local! {
    /// The `StringName`s made by [`static_name`] on this thread, keyed by the address and length
    /// of their `&'static str` (no hashing of the text).
    /// `None` on every thread but the main one (decided once per thread).
    static STATIC_NAMES: Option<std::cell::RefCell<wasgo_core::fast_hash::FastMap<(usize, usize), StringName>>> =
        godot::init::is_main_thread().then(|| std::cell::RefCell::new(wasgo_core::fast_hash::FastMap::default()));
}

/// The `StringName` of `name`, made once per name on the main thread, for names the glue hands Godot
/// again and again (project settings, the node's signals): gdext makes a `StringName` from a
/// `&str` on every call, which hashes the text and looks it up in Godot's global table under
/// its lock. The key is the text's address and length: a `&'static str` never moves, and two
/// with the same address and length hold the same text. The map is borrowed only inside this
/// function (no game code runs while it is), and the caller gets its own reference.
pub fn static_name(name: &'static str) -> StringName {
    // Kept on the main thread only: another thread's (a game reading a module's config on a
    // worker) would hold its names past Godot's check for unclaimed names at exit.
    let key = (name.as_ptr() as usize, name.len());
    STATIC_NAMES
        .try_with(|names| {
            let mut names = names.as_ref()?.try_borrow_mut().ok()?;
            Some(
                names
                    .entry(key)
                    .or_insert_with(|| StringName::from(name))
                    .clone(),
            )
        })
        .ok()
        .flatten()
        // Another thread, or the thread is ending: made without the cache.
        .unwrap_or_else(|| StringName::from(name))
}

/// Emits `node`'s signal `signal` with `args`, under the signal's cached `StringName`. A
/// signal nobody is connected to is not emitted: Godot would call no one, and an emission
/// goes through Godot's variadic call (a pooled `start()` spent 3% of its time emitting
/// `started` to nobody).
pub fn emit(node: &mut Gd<Node>, signal: &'static str, args: &[Variant]) {
    let name = static_name(signal);
    if node.has_connections(&name) {
        node.emit_signal(&name, args);
    }
}

/// Drops this thread's [`static_name`] names while the engine still runs (extension deinit,
/// main thread): Godot's leak check must not find them; a later use makes them again.
pub fn forget_static_names() {
    let _ = STATIC_NAMES.try_with(|names| {
        names
            .as_ref()
            .map(|names| names.try_borrow_mut().map(|mut names| names.clear()))
    });
}

/// Whether a value of type `t` is a text to Godot (a String, StringName or NodePath, which it
/// converts into one another).
pub fn is_text_type(t: VariantType) -> bool {
    matches!(
        t,
        VariantType::STRING | VariantType::STRING_NAME | VariantType::NODE_PATH
    )
}

/// Whether `t` is an array, a packed array or a dictionary
/// (`wasgo_core::variant::is_container`).
pub fn is_container_type(t: VariantType) -> bool {
    t == VariantType::ARRAY
        || t == VariantType::DICTIONARY
        || (t.ord() >= VariantType::PACKED_BYTE_ARRAY.ord()
            && t.ord() <= VariantType::PACKED_VECTOR4_ARRAY.ord())
}

/// `s` as a `String`, in one allocation, from Godot's own characters (no copy made by Godot).
/// `to_string()` (gdext's `Display`) formats the string one character at a time into a growing
/// `String`: for a 30-character path about as costly as the rest of reading a node's
/// properties; `String::from` has Godot encode it twice (once to measure) into a zeroed buffer
/// that is then validated again.
pub fn text(s: &GString) -> String {
    let chars = s.chars();
    let mut out = String::with_capacity(chars.len());
    out.extend(chars);
    out
}

pub fn game_value_to_variant(v: &GameValue) -> Variant {
    match v {
        GameValue::I32(x) => (*x as i64).to_variant(),
        GameValue::I64(x) => x.to_variant(),
        GameValue::F32(x) => (*x as f64).to_variant(),
        GameValue::F64(x) => x.to_variant(),
        GameValue::String(s) => GString::from(s.as_str()).to_variant(),
    }
}

/// A number, int or bool Variant as a number (`None` for any other type).
pub(crate) fn number(v: &Variant) -> Option<f64> {
    v.try_to::<i64>()
        .map(|i| i as f64)
        .ok()
        .or_else(|| v.try_to::<f64>().ok())
        .or_else(|| v.try_to::<bool>().ok().map(|b| b as i64 as f64))
}

fn integer(v: &Variant) -> Option<i64> {
    v.try_to::<i64>()
        .ok()
        .or_else(|| v.try_to::<bool>().ok().map(|b| b as i64))
}

/// Converts a game function's return value to its declared type.
pub fn variant_to_game_value(v: &Variant, t: GameType) -> Result<GameValue, String> {
    let bad = || {
        format!(
            "it returned {v} ({:?}) where {t:?} was declared",
            v.get_type()
        )
    };
    Ok(match t {
        GameType::I32 => GameValue::I32(
            integer(v)
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(bad)?,
        ),
        GameType::I64 => GameValue::I64(integer(v).ok_or_else(bad)?),
        GameType::F32 => GameValue::F32(number(v).ok_or_else(bad)? as f32),
        GameType::F64 => GameValue::F64(number(v).ok_or_else(bad)?),
        GameType::String => GameValue::String(
            v.try_to::<GString>()
                .map(|s| s.to_string())
                .or_else(|_| v.try_to::<StringName>().map(|s| s.to_string()))
                .map_err(|_| bad())?,
        ),
    })
}

/// Converts a call argument to the wasm type the export expects.
pub fn variant_to_val(v: &Variant, t: Abi) -> Result<Val, String> {
    let bad = || format!("{v} ({:?}) cannot be passed as {}", v.get_type(), t.name());
    Ok(match t {
        Abi::I32 => Val::I32(
            integer(v)
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(bad)?,
        ),
        Abi::I64 => Val::I64(integer(v).ok_or_else(bad)?),
        Abi::F32 => Val::F32((number(v).ok_or_else(bad)? as f32).to_bits()),
        Abi::F64 => Val::F64(number(v).ok_or_else(bad)?.to_bits()),
    })
}

/// Converts a wasm result to a Variant (`int` or `float`).
pub fn val_to_variant(v: &Val) -> Variant {
    match v {
        Val::I32(x) => (*x as i64).to_variant(),
        Val::I64(x) => x.to_variant(),
        Val::F32(bits) => (f32::from_bits(*bits) as f64).to_variant(),
        Val::F64(bits) => f64::from_bits(*bits).to_variant(),
        _ => Variant::nil(),
    }
}

// ---- Variants on the wire (objects as the instance's handles) ----

use godot::builtin::{AnyArray, AnyDictionary};
use godot::classes::Object;
use wasgo_catalog::ErrorCode;
use wasgo_core::variant as wire;
use wasgo_core::{ObjectError, WireVariant};

/// What converting needs of an instance's handle table.
pub trait Handles {
    /// The handle for `obj`, reusing an existing one; 0 (null) for an object no mod may reach.
    fn handle_of(&mut self, obj: &Gd<Object>) -> i32;
    /// The object behind a handle; -4 if the handle is unknown or its object was freed.
    fn object(&self, handle: i32) -> Result<Gd<Object>, ObjectError>;
}

fn v2(v: Vector2) -> wire::Vector2 {
    wire::Vector2::new(v.x, v.y)
}
fn v3(v: Vector3) -> wire::Vector3 {
    wire::Vector3::new(v.x, v.y, v.z)
}
fn c4(c: Color) -> wire::Color {
    wire::Color::rgba(c.r, c.g, c.b, c.a)
}
fn a3(v: Vector3) -> [f32; 3] {
    [v.x, v.y, v.z]
}
fn v4(v: Vector4) -> [f32; 4] {
    [v.x, v.y, v.z, v.w]
}

/// Converts a game value for a mod, giving objects handles.
///
/// # Errors
/// -5 for a value of a type mods cannot hold, for one nested deeper than
/// [`MAX_DEPTH`](wire::MAX_DEPTH) (a game's Array or Dictionary that holds itself is one: it
/// was followed until the stack overflowed), and for one holding more than
/// [`MAX_ELEMENTS`](wire::MAX_ELEMENTS) Array elements and Dictionary entries in all, counted
/// each time a shared part appears (a game value holding one Array twice at every level is
/// 2^depth elements; a mod could not decode more anyway), and for one whose texts and packed
/// arrays pass [`MAX_CONVERTED_BYTES`], also counted at each reference.
pub fn to_wire<H: Handles + ?Sized>(
    v: &Variant,
    objects: &mut H,
) -> Result<WireVariant, ObjectError> {
    let mut left = Left {
        elements: wire::MAX_ELEMENTS,
        bytes: MAX_CONVERTED_BYTES,
    };
    to_wire_at(v, objects, 0, &mut left)
}

/// The most bytes of texts and packed arrays one game value converted for a mod may hold,
/// counted at each reference: Godot shares a String or packed array between the places that
/// hold it, and the conversion copies it at each (an Array of a thousand references to one
/// 1 MiB buffer, which a game signal any mod may connect to carried, was a gibibyte copied and
/// a gibibyte encoded at every call of the mod's, before its buffer was compared).
pub const MAX_CONVERTED_BYTES: usize = 128 << 20;

/// What a conversion may still hold ([`to_wire`]).
struct Left {
    elements: usize,
    bytes: usize,
}

impl Left {
    /// Takes `n` Array elements, Dictionary entries or PackedStringArray strings.
    fn elements(&mut self, n: usize) -> Result<(), ObjectError> {
        self.elements = self.elements.checked_sub(n).ok_or_else(|| {
            ObjectError::failed(
                ErrorCode::CallFailed.code(),
                format!(
                    "cannot convert the value for the mod: it holds more than {} Array elements, Dictionary entries and PackedStringArray strings in all",
                    wire::MAX_ELEMENTS
                ),
            )
        })?;
        Ok(())
    }

    /// Takes `n` bytes of texts and packed arrays.
    fn bytes(&mut self, n: usize) -> Result<(), ObjectError> {
        self.bytes = self.bytes.checked_sub(n).ok_or_else(|| {
            ObjectError::failed(
                ErrorCode::CallFailed.code(),
                format!(
                    "cannot convert the value for the mod: its texts and packed arrays hold more than {} MiB in all, counted at each place that holds them",
                    MAX_CONVERTED_BYTES >> 20
                ),
            )
        })?;
        Ok(())
    }

    /// The UTF-8 copy of a text Godot says is `chars` characters long: the characters are
    /// taken first, so a text past what is left is not copied, then the rest of its bytes
    /// (Godot's length is in characters, up to four bytes each).
    fn text(&mut self, chars: usize, copy: impl FnOnce() -> String) -> Result<String, ObjectError> {
        self.bytes(chars)?;
        let copy = copy();
        self.bytes(copy.len().saturating_sub(chars))?;
        Ok(copy)
    }

    /// A packed array's items, their bytes taken (before the caller copies them).
    fn packed<'a, T>(&mut self, items: &'a [T]) -> Result<&'a [T], ObjectError> {
        self.bytes(std::mem::size_of_val(items))?;
        Ok(items)
    }
}

fn to_wire_at<H: Handles + ?Sized>(
    v: &Variant,
    objects: &mut H,
    depth: usize,
    left: &mut Left,
) -> Result<WireVariant, ObjectError> {
    use WireVariant as W;
    let bad = || {
        ObjectError::failed(
            ErrorCode::CallFailed.code(),
            format!("cannot convert {v} for the mod"),
        )
    };
    if depth > wire::MAX_DEPTH {
        return Err(ObjectError::failed(
            ErrorCode::CallFailed.code(),
            format!(
                "cannot convert the value for the mod: its Arrays and Dictionaries nest deeper than {} (or one holds itself)",
                wire::MAX_DEPTH
            ),
        ));
    }
    Ok(match v.get_type() {
        VariantType::NIL => W::Nil,
        VariantType::BOOL => W::Bool(v.to()),
        VariantType::INT => W::Int(v.to()),
        VariantType::FLOAT => W::Float(v.to()),
        VariantType::STRING => {
            let text = v.to::<GString>();
            W::String(left.text(text.len(), || text.to_string())?)
        }
        VariantType::STRING_NAME => {
            let text = v.to::<StringName>();
            W::StringName(left.text(text.len(), || text.to_string())?)
        }
        VariantType::VECTOR2 => W::Vector2(v2(v.to())),
        VariantType::VECTOR2I => {
            let x: Vector2i = v.to();
            W::Vector2i([x.x, x.y])
        }
        VariantType::RECT2 => {
            let r: Rect2 = v.to();
            W::Rect2([r.position.x, r.position.y, r.size.x, r.size.y])
        }
        VariantType::RECT2I => {
            let r: Rect2i = v.to();
            W::Rect2i([r.position.x, r.position.y, r.size.x, r.size.y])
        }
        VariantType::VECTOR3 => W::Vector3(v3(v.to())),
        VariantType::VECTOR3I => {
            let x: Vector3i = v.to();
            W::Vector3i([x.x, x.y, x.z])
        }
        VariantType::TRANSFORM2D => {
            let t: Transform2D = v.to();
            W::Transform2D([t.a.x, t.a.y, t.b.x, t.b.y, t.origin.x, t.origin.y])
        }
        VariantType::VECTOR4 => W::Vector4(v4(v.to())),
        VariantType::VECTOR4I => {
            let x: Vector4i = v.to();
            W::Vector4i([x.x, x.y, x.z, x.w])
        }
        VariantType::PLANE => {
            let p: Plane = v.to();
            W::Plane([p.normal.x, p.normal.y, p.normal.z, p.d])
        }
        VariantType::QUATERNION => {
            let q: Quaternion = v.to();
            W::Quaternion([q.x, q.y, q.z, q.w])
        }
        VariantType::AABB => {
            let a: Aabb = v.to();
            W::Aabb([
                a.position.x,
                a.position.y,
                a.position.z,
                a.size.x,
                a.size.y,
                a.size.z,
            ])
        }
        VariantType::BASIS => {
            let b: Basis = v.to();
            let mut out = [0f32; 9];
            for (i, row) in b.rows.iter().enumerate() {
                out[i * 3..i * 3 + 3].copy_from_slice(&a3(*row));
            }
            W::Basis(out)
        }
        VariantType::TRANSFORM3D => {
            let t: Transform3D = v.to();
            let mut out = [0f32; 12];
            for (i, row) in t.basis.rows.iter().enumerate() {
                out[i * 3..i * 3 + 3].copy_from_slice(&a3(*row));
            }
            out[9..12].copy_from_slice(&a3(t.origin));
            W::Transform3D(out)
        }
        VariantType::PROJECTION => {
            let p: Projection = v.to();
            let mut out = [0f32; 16];
            for (i, col) in p.cols.iter().enumerate() {
                out[i * 4..i * 4 + 4].copy_from_slice(&v4(*col));
            }
            W::Projection(out)
        }
        VariantType::COLOR => W::Color(c4(v.to())),
        VariantType::NODE_PATH => {
            let text = v.to::<NodePath>().to_string();
            left.bytes(text.len())?;
            W::NodePath(text)
        }
        VariantType::OBJECT => match v.try_to::<Option<Gd<Object>>>() {
            Ok(Some(obj)) => W::Object(objects.handle_of(&obj)),
            _ => W::Object(0),
        },
        // A mod cannot use these; it gets nil rather than a key to engine internals.
        VariantType::CALLABLE | VariantType::SIGNAL | VariantType::RID => W::Nil,
        // Typed containers (`Array[Node]`, `Dictionary[String, int]`) arrive untyped on the wire.
        VariantType::DICTIONARY => {
            let d: AnyDictionary = v.try_to().map_err(|_| bad())?;
            left.elements(d.len())?;
            let mut entries = Vec::with_capacity(d.len());
            for (k, val) in d.iter_shared() {
                entries.push((
                    to_wire_at(&k, objects, depth + 1, left)?,
                    to_wire_at(&val, objects, depth + 1, left)?,
                ));
            }
            W::Dictionary(entries)
        }
        VariantType::ARRAY => {
            let a: AnyArray = v.try_to().map_err(|_| bad())?;
            left.elements(a.len())?;
            W::Array(
                a.iter_shared()
                    .map(|x| to_wire_at(&x, objects, depth + 1, left))
                    .collect::<Result<_, _>>()?,
            )
        }
        VariantType::PACKED_BYTE_ARRAY => {
            W::PackedByteArray(left.packed(v.to::<PackedByteArray>().as_slice())?.to_vec())
        }
        VariantType::PACKED_INT32_ARRAY => {
            W::PackedInt32Array(left.packed(v.to::<PackedInt32Array>().as_slice())?.to_vec())
        }
        VariantType::PACKED_INT64_ARRAY => {
            W::PackedInt64Array(left.packed(v.to::<PackedInt64Array>().as_slice())?.to_vec())
        }
        VariantType::PACKED_FLOAT32_ARRAY => W::PackedFloat32Array(
            left.packed(v.to::<PackedFloat32Array>().as_slice())?
                .to_vec(),
        ),
        VariantType::PACKED_FLOAT64_ARRAY => W::PackedFloat64Array(
            left.packed(v.to::<PackedFloat64Array>().as_slice())?
                .to_vec(),
        ),
        VariantType::PACKED_STRING_ARRAY => W::PackedStringArray({
            // Counted like a container's elements, as the mod's decoder counts them (it refused
            // what the host wrote past the limit).
            let strings = v.to::<PackedStringArray>();
            left.elements(strings.len())?;
            strings
                .as_slice()
                .iter()
                .map(|s| left.text(s.len(), || s.to_string()))
                .collect::<Result<_, _>>()?
        }),
        VariantType::PACKED_VECTOR2_ARRAY => {
            let a = v.to::<PackedVector2Array>();
            W::PackedVector2Array(left.packed(a.as_slice())?.iter().map(|x| v2(*x)).collect())
        }
        VariantType::PACKED_VECTOR3_ARRAY => {
            let a = v.to::<PackedVector3Array>();
            W::PackedVector3Array(left.packed(a.as_slice())?.iter().map(|x| v3(*x)).collect())
        }
        VariantType::PACKED_COLOR_ARRAY => {
            let a = v.to::<PackedColorArray>();
            W::PackedColorArray(left.packed(a.as_slice())?.iter().map(|x| c4(*x)).collect())
        }
        VariantType::PACKED_VECTOR4_ARRAY => {
            let a = v.to::<PackedVector4Array>();
            W::PackedVector4Array(left.packed(a.as_slice())?.iter().map(|x| v4(*x)).collect())
        }
        _ => return Err(bad()),
    })
}

/// Converts a mod's value for the game; handles must be live.
///
/// # Errors
/// -3 ([`ErrorCode::InvalidArgument`]) for a value the engine cannot hold (see
/// [`WireVariant::check_engine_safe`]), -4 for a handle that is not live.
pub fn from_wire<H: Handles + ?Sized>(
    w: &WireVariant,
    objects: &H,
) -> Result<Variant, ObjectError> {
    w.check_engine_safe().map_err(|why| {
        ObjectError::failed(
            ErrorCode::InvalidArgument as i32,
            format!("the value cannot be given to the engine: {why}"),
        )
    })?;
    build(w, objects)
}

/// Converts the values a mod gives one call (its arguments) for the game, checked together
/// ([`WireVariant::check_all_engine_safe`]: the bounds hold for all of them at once).
///
/// # Errors
/// As [`from_wire`].
pub fn args_from_wire<H: Handles + ?Sized>(
    args: &[WireVariant],
    objects: &H,
) -> Result<VarArray, ObjectError> {
    WireVariant::check_all_engine_safe(args).map_err(|why| {
        ObjectError::failed(
            ErrorCode::InvalidArgument as i32,
            format!("the arguments cannot be given to the engine: {why}"),
        )
    })?;
    args.iter().map(|a| build(a, objects)).collect()
}

/// A mod's text as a Godot string. Godot reads UTF-8 only up to a NUL, so a NUL becomes U+FFFD
/// (the replacement character): `"a\0b"` came as `"a"`, and two Dictionary keys that differ
/// after a NUL came as one, losing a value.
fn godot_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// [`from_wire`] after the check.
fn build<H: Handles + ?Sized>(w: &WireVariant, objects: &H) -> Result<Variant, ObjectError> {
    use WireVariant as W;
    let vec2 = |a: &wire::Vector2| Vector2::new(a.x, a.y);
    let wvec3 = |a: &wire::Vector3| Vector3::new(a.x, a.y, a.z);
    let color = |c: &wire::Color| Color::from_rgba(c.r, c.g, c.b, c.a);
    let vec3 = |a: &[f32]| Vector3::new(a[0], a[1], a[2]);
    let vec4 = |a: &[f32]| Vector4::new(a[0], a[1], a[2], a[3]);
    Ok(match w {
        W::Nil => Variant::nil(),
        W::Bool(b) => b.to_variant(),
        W::Int(i) => i.to_variant(),
        W::Float(f) => f.to_variant(),
        W::String(s) => GString::from(godot_text(s).as_ref()).to_variant(),
        W::StringName(s) => StringName::from(godot_text(s).as_ref()).to_variant(),
        W::Vector2(a) => vec2(a).to_variant(),
        W::Vector2i(a) => Vector2i::new(a[0], a[1]).to_variant(),
        W::Rect2(a) => Rect2::new(Vector2::new(a[0], a[1]), Vector2::new(a[2], a[3])).to_variant(),
        W::Rect2i(a) => {
            Rect2i::new(Vector2i::new(a[0], a[1]), Vector2i::new(a[2], a[3])).to_variant()
        }
        W::Vector3(a) => wvec3(a).to_variant(),
        W::Vector3i(a) => Vector3i::new(a[0], a[1], a[2]).to_variant(),
        W::Transform2D(a) => Transform2D::from_cols(
            Vector2::new(a[0], a[1]),
            Vector2::new(a[2], a[3]),
            Vector2::new(a[4], a[5]),
        )
        .to_variant(),
        W::Vector4(a) => vec4(a).to_variant(),
        W::Vector4i(a) => Vector4i::new(a[0], a[1], a[2], a[3]).to_variant(),
        // Not `Plane::new`, which asserts a unit normal.
        W::Plane(a) => Plane {
            normal: vec3(&a[..3]),
            d: a[3],
        }
        .to_variant(),
        W::Quaternion(a) => Quaternion::new(a[0], a[1], a[2], a[3]).to_variant(),
        W::Aabb(a) => Aabb::new(vec3(&a[..3]), vec3(&a[3..])).to_variant(),
        W::Basis(a) => Basis::from_rows(vec3(&a[..3]), vec3(&a[3..6]), vec3(&a[6..])).to_variant(),
        W::Transform3D(a) => Transform3D::new(
            Basis::from_rows(vec3(&a[..3]), vec3(&a[3..6]), vec3(&a[6..9])),
            vec3(&a[9..]),
        )
        .to_variant(),
        W::Projection(a) => Projection::from_cols(
            vec4(&a[..4]),
            vec4(&a[4..8]),
            vec4(&a[8..12]),
            vec4(&a[12..]),
        )
        .to_variant(),
        W::Color(c) => color(c).to_variant(),
        W::NodePath(text) => NodePath::from(godot_text(text).as_ref()).to_variant(),
        W::Object(0) => Variant::nil(),
        W::Object(h) => objects.object(*h)?.to_variant(),
        W::Dictionary(entries) => {
            let mut d = VarDictionary::new();
            for (k, v) in entries {
                d.set(&build(k, objects)?, &build(v, objects)?);
            }
            d.to_variant()
        }
        W::Array(items) => items
            .iter()
            .map(|x| build(x, objects))
            .collect::<Result<VarArray, _>>()?
            .to_variant(),
        W::PackedByteArray(b) => PackedByteArray::from(b.as_slice()).to_variant(),
        W::PackedInt32Array(v) => PackedInt32Array::from(v.as_slice()).to_variant(),
        W::PackedInt64Array(v) => PackedInt64Array::from(v.as_slice()).to_variant(),
        W::PackedFloat32Array(v) => PackedFloat32Array::from(v.as_slice()).to_variant(),
        W::PackedFloat64Array(v) => PackedFloat64Array::from(v.as_slice()).to_variant(),
        W::PackedStringArray(v) => v
            .iter()
            .map(|s| GString::from(godot_text(s).as_ref()))
            .collect::<PackedStringArray>()
            .to_variant(),
        W::PackedVector2Array(v) => v
            .iter()
            .map(vec2)
            .collect::<PackedVector2Array>()
            .to_variant(),
        W::PackedVector3Array(v) => v
            .iter()
            .map(wvec3)
            .collect::<PackedVector3Array>()
            .to_variant(),
        W::PackedColorArray(v) => v
            .iter()
            .map(color)
            .collect::<PackedColorArray>()
            .to_variant(),
        W::PackedVector4Array(v) => v
            .iter()
            .map(|a| vec4(a))
            .collect::<PackedVector4Array>()
            .to_variant(),
    })
}

/// A manifest as a Dictionary: each field present in the manifest, with its value (`level` an
/// int, `authors` and `permissions` PackedStringArrays, `abi` a "MAJOR.MINOR" String).
pub fn manifest_dictionary(m: &wasgo_core::manifest::Manifest) -> VarDictionary {
    let mut d = VarDictionary::new();
    let mut text = |key: &str, value: &Option<String>| {
        if let Some(v) = value {
            d.set(key, v.as_str());
        }
    };
    text("id", &m.id);
    text("name", &m.name);
    text("version", &m.version);
    text("description", &m.description);
    text("homepage", &m.homepage);
    if !m.authors.is_empty() {
        let a: PackedStringArray = m
            .authors
            .iter()
            .map(|s| GString::from(s.as_str()))
            .collect();
        d.set("authors", &a);
    }
    if let Some(level) = m.level {
        d.set("level", level.number() as i64);
    }
    if !m.permissions.is_empty() {
        let p: PackedStringArray = m
            .permissions
            .iter()
            .map(|p| GString::from(p.name()))
            .collect();
        d.set("permissions", &p);
    }
    if let Some(abi) = m.abi {
        d.set("abi", abi.to_string().as_str());
    }
    d
}

/// A mod's `config` answer (see `wasgo_core::mod_config`) as a Dictionary.
pub fn config_dictionary(pairs: &[(String, wasgo_core::mod_config::ConfigValue)]) -> VarDictionary {
    let mut d = VarDictionary::new();
    for (key, value) in pairs {
        d.set(key.as_str(), &config_variant(value));
    }
    d
}

/// One value of a mod's `config`: JSON's kinds, integers as `int`.
fn config_variant(value: &wasgo_core::mod_config::ConfigValue) -> Variant {
    use wasgo_core::mod_config::ConfigValue as V;
    match value {
        V::Null => Variant::nil(),
        V::Bool(b) => b.to_variant(),
        V::Int(i) => i.to_variant(),
        V::Float(f) => f.to_variant(),
        V::Text(t) => GString::from(t.as_str()).to_variant(),
        V::List(items) => {
            let mut a = VarArray::new();
            for item in items {
                a.push(&config_variant(item));
            }
            a.to_variant()
        }
        V::Map(pairs) => config_dictionary(pairs).to_variant(),
    }
}
