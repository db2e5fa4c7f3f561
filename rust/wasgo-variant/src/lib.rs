//! # wasgo-variant — Godot Variants on the WasGo wire
//!
//! Godot Variants in Godot's binary serialization format (what `var_to_bytes` produces), with
//! objects as the mod's handles. The byte layout is documented in `docs/variant-encoding.md`.
//!
//! One codec for both sides of the mod boundary: the WasGo host (`wasgo-core`) decodes what mods
//! pass and encodes what they get back with it, and the Rust mod SDK (`wasgo-sdk`) re-exports it.
//! Decoding never trusts its input: counts are checked against the bytes that follow, nesting is
//! capped at [`MAX_DEPTH`], and Callables, Signals, RIDs and full objects are refused.

#![no_std]
extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

mod engine_safe;
pub use engine_safe::{EngineRefusal, MAX_DICTIONARY_WORK, MAX_ELEMENTS, MAX_TEXT_BYTES};

/// A 2D vector (`Vector2`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Vector2 {
    pub x: f32,
    pub y: f32,
}

impl Vector2 {
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }
}

/// A 3D vector (`Vector3`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Vector3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

impl Vector3 {
    pub const fn new(x: f32, y: f32, z: f32) -> Self {
        Self { x, y, z }
    }
}

/// An RGBA color (`Color`), components in 0..1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Color {
    pub r: f32,
    pub g: f32,
    pub b: f32,
    pub a: f32,
}

impl Color {
    pub const fn rgba(r: f32, g: f32, b: f32, a: f32) -> Self {
        Self { r, g, b, a }
    }
}

/// A Godot value as it crosses the mod boundary.
///
/// Math types without a struct of their own carry their `f32` (or `i32`) components in Godot's
/// order: `Rect2` = position x, y, size x, y; `Transform2D` = x axis, y axis, origin; `Plane` =
/// normal x, y, z, d; `Quaternion` = x, y, z, w; `AABB` = position, size; `Basis` = the three rows;
/// `Transform3D` = basis rows then origin; `Projection` = four columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Variant {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Vector2(Vector2),
    Vector2i([i32; 2]),
    Rect2([f32; 4]),
    Rect2i([i32; 4]),
    Vector3(Vector3),
    Vector3i([i32; 3]),
    Transform2D([f32; 6]),
    Vector4([f32; 4]),
    Vector4i([i32; 4]),
    Plane([f32; 4]),
    Quaternion([f32; 4]),
    Aabb([f32; 6]),
    Basis([f32; 9]),
    Transform3D([f32; 12]),
    Projection([f32; 16]),
    Color(Color),
    StringName(String),
    /// A node path in its text form (`"../Player/Sprite:position:x"`, `"/root/Main"`).
    NodePath(String),
    /// An object as the mod's handle (0 = null). In the Rust SDK, wrap it with
    /// `Object::from_handle` to own it (release it on drop).
    Object(i32),
    Dictionary(Vec<(Variant, Variant)>),
    Array(Vec<Variant>),
    PackedByteArray(Vec<u8>),
    PackedInt32Array(Vec<i32>),
    PackedInt64Array(Vec<i64>),
    PackedFloat32Array(Vec<f32>),
    PackedFloat64Array(Vec<f64>),
    PackedStringArray(Vec<String>),
    PackedVector2Array(Vec<Vector2>),
    PackedVector3Array(Vec<Vector3>),
    PackedColorArray(Vec<Color>),
    PackedVector4Array(Vec<[f32; 4]>),
}

/// Why bytes are not a Variant this SDK understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes end inside a value.
    Truncated,
    /// A type this SDK does not decode (RID, Callable, Signal) or an unknown type number.
    UnsupportedType(u32),
    /// Text that is not UTF-8.
    InvalidUtf8,
    /// Bytes left over after the value.
    TrailingBytes,
    /// Containers nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More than [`MAX_ELEMENTS`] Array elements and Dictionary entries in all.
    TooManyElements,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("the bytes end inside a value"),
            DecodeError::UnsupportedType(ty::RID) => f.write_str("an RID cannot cross the mod boundary: mods may not pass engine resources"),
            DecodeError::UnsupportedType(24) => f.write_str("a full object cannot cross the mod boundary; pass a handle (type 24 with flag 1<<16 and a u64 handle)"),
            DecodeError::UnsupportedType(ty::CALLABLE) => f.write_str("a Callable cannot cross the mod boundary: mods may not pass code"),
            DecodeError::UnsupportedType(ty::SIGNAL) => f.write_str("a Signal cannot cross the mod boundary"),
            DecodeError::UnsupportedType(t) => write!(f, "{t} is not a Variant type WasGo decodes (typed containers are sent untyped)"),
            DecodeError::InvalidUtf8 => f.write_str("text is not UTF-8"),
            DecodeError::TrailingBytes => f.write_str("bytes left over after the value"),
            DecodeError::TooDeep => f.write_str("containers nested too deep"),
            DecodeError::TooManyElements => write!(f, "more than {MAX_ELEMENTS} Array elements and Dictionary entries in all"),
        }
    }
}

/// Containers nested deeper than this are refused when decoding.
pub const MAX_DEPTH: usize = 64;

/// Godot's `Variant::Type` numbers, from the ABI catalog (the one table every SDK shares).
use wasgo_catalog::variant_type as ty;

/// Header flag: a 64-bit int or float (and, in double-precision Godot builds, f64 components).
const FLAG_64: u32 = 1 << 16;
/// Header flag on OBJECT: the payload is an id (here: the mod's handle), not a serialized object.
const FLAG_OBJECT_AS_ID: u32 = 1 << 16;
/// NodePath: the name count has this bit set (Godot's "new format").
const NODE_PATH_NEW_FORMAT: u32 = 0x8000_0000;

impl Variant {
    /// The Godot binary encoding of this value.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(16));
        w.variant(self);
        w.0
    }

    /// Decodes one value that fills `bytes` exactly.
    ///
    /// # Errors
    /// A [`DecodeError`] when the bytes are not exactly one value this SDK understands.
    pub fn decode(bytes: &[u8]) -> Result<Variant, DecodeError> {
        let mut r = Reader {
            bytes,
            pos: 0,
            elements: 0,
        };
        let v = r.variant(0)?;
        if r.pos != bytes.len() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(v)
    }

    /// The value as `bool` (ints and floats: non-zero is `true`).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Variant::Bool(b) => Some(*b),
            Variant::Int(i) => Some(*i != 0),
            Variant::Float(f) => Some(*f != 0.0),
            _ => None,
        }
    }

    /// The value as `i64` (floats are truncated).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Variant::Int(i) => Some(*i),
            Variant::Float(f) => Some(*f as i64),
            Variant::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    /// The value as `f64`.
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Variant::Float(f) => Some(*f),
            Variant::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The text of a String, StringName or NodePath. Inline: the typed fast paths ask it of a
    /// vector they just made, and the test folds away.
    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Variant::String(s) | Variant::StringName(s) | Variant::NodePath(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_vector2(&self) -> Option<Vector2> {
        match self {
            Variant::Vector2(v) => Some(*v),
            Variant::Vector2i([x, y]) => Some(Vector2::new(*x as f32, *y as f32)),
            _ => None,
        }
    }

    pub fn as_vector3(&self) -> Option<Vector3> {
        match self {
            Variant::Vector3(v) => Some(*v),
            Variant::Vector3i([x, y, z]) => Some(Vector3::new(*x as f32, *y as f32, *z as f32)),
            _ => None,
        }
    }

    /// The handle of an Object value (0 is null).
    pub fn as_object_handle(&self) -> Option<i32> {
        match self {
            Variant::Object(h) => Some(*h),
            _ => None,
        }
    }

    /// The elements of an Array.
    pub fn as_array(&self) -> Option<&[Variant]> {
        match self {
            Variant::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The value stored under `key` in a Dictionary whose keys are Strings or StringNames.
    pub fn get(&self, key: &str) -> Option<&Variant> {
        match self {
            Variant::Dictionary(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

macro_rules! from_impls {
    ($($t:ty => |$v:ident| $e:expr;)*) => {
        $(impl From<$t> for Variant {
            fn from($v: $t) -> Self { $e }
        })*
    };
}

from_impls! {
    () => |_v| Variant::Nil;
    bool => |v| Variant::Bool(v);
    i32 => |v| Variant::Int(v as i64);
    i64 => |v| Variant::Int(v);
    u32 => |v| Variant::Int(v as i64);
    f32 => |v| Variant::Float(v as f64);
    f64 => |v| Variant::Float(v);
    &str => |v| Variant::String(String::from(v));
    String => |v| Variant::String(v);
    Vector2 => |v| Variant::Vector2(v);
    Vector3 => |v| Variant::Vector3(v);
    Color => |v| Variant::Color(v);
    Vec<Variant> => |v| Variant::Array(v);
    Vec<u8> => |v| Variant::PackedByteArray(v);
}

struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn pad(&mut self) {
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }
    /// u32 byte length, the UTF-8 bytes, zero padding to 4.
    fn string(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
        self.pad();
    }
    fn floats(&mut self, v: &[f32]) {
        v.iter().for_each(|x| self.f32(*x));
    }
    fn ints(&mut self, v: &[i32]) {
        v.iter().for_each(|x| self.i32(*x));
    }
    fn typed(&mut self, ty: u32, components: &[f32]) {
        self.u32(ty);
        self.floats(components);
    }
    fn typed_ints(&mut self, ty: u32, components: &[i32]) {
        self.u32(ty);
        self.ints(components);
    }

    fn variant(&mut self, v: &Variant) {
        use Variant as V;
        match v {
            V::Nil => self.u32(ty::NIL),
            V::Bool(b) => {
                self.u32(ty::BOOL);
                self.u32(*b as u32);
            }
            V::Int(i) => match i32::try_from(*i) {
                Ok(small) => {
                    self.u32(ty::INT);
                    self.i32(small);
                }
                Err(_) => {
                    self.u32(ty::INT | FLAG_64);
                    self.0.extend_from_slice(&i.to_le_bytes());
                }
            },
            V::Float(f) => {
                // As Godot's `var_to_bytes`: f32 when the value converts to f32 and back exactly
                // (NaN never does: it goes as f64, its payload kept).
                if (*f as f32) as f64 == *f {
                    self.u32(ty::FLOAT);
                    self.f32(*f as f32);
                } else {
                    self.u32(ty::FLOAT | FLAG_64);
                    self.0.extend_from_slice(&f.to_le_bytes());
                }
            }
            V::String(s) => {
                self.u32(ty::STRING);
                self.string(s);
            }
            V::StringName(s) => {
                self.u32(ty::STRING_NAME);
                self.string(s);
            }
            V::Vector2(p) => self.typed(ty::VECTOR2, &[p.x, p.y]),
            V::Vector2i(c) => self.typed_ints(ty::VECTOR2I, c),
            V::Rect2(c) => self.typed(ty::RECT2, c),
            V::Rect2i(c) => self.typed_ints(ty::RECT2I, c),
            V::Vector3(p) => self.typed(ty::VECTOR3, &[p.x, p.y, p.z]),
            V::Vector3i(c) => self.typed_ints(ty::VECTOR3I, c),
            V::Transform2D(c) => self.typed(ty::TRANSFORM2D, c),
            V::Vector4(c) => self.typed(ty::VECTOR4, c),
            V::Vector4i(c) => self.typed_ints(ty::VECTOR4I, c),
            V::Plane(c) => self.typed(ty::PLANE, c),
            V::Quaternion(c) => self.typed(ty::QUATERNION, c),
            V::Aabb(c) => self.typed(ty::AABB, c),
            V::Basis(c) => self.typed(ty::BASIS, c),
            V::Transform3D(c) => self.typed(ty::TRANSFORM3D, c),
            V::Projection(c) => self.typed(ty::PROJECTION, c),
            V::Color(c) => self.typed(ty::COLOR, &[c.r, c.g, c.b, c.a]),
            V::NodePath(path) => {
                let (absolute, names, subnames) = split_node_path(path);
                self.u32(ty::NODE_PATH);
                self.u32(names.len() as u32 | NODE_PATH_NEW_FORMAT);
                self.u32(subnames.len() as u32);
                self.u32(absolute as u32);
                names
                    .iter()
                    .chain(subnames.iter())
                    .for_each(|s| self.string(s));
            }
            V::Object(handle) => {
                self.u32(ty::OBJECT | FLAG_OBJECT_AS_ID);
                self.0
                    .extend_from_slice(&(*handle as i64 as u64).to_le_bytes());
            }
            V::Dictionary(entries) => {
                self.u32(ty::DICTIONARY);
                self.u32(entries.len() as u32);
                for (k, v) in entries {
                    self.variant(k);
                    self.variant(v);
                }
            }
            V::Array(items) => {
                self.u32(ty::ARRAY);
                self.u32(items.len() as u32);
                items.iter().for_each(|v| self.variant(v));
            }
            V::PackedByteArray(b) => {
                self.u32(ty::PACKED_BYTE_ARRAY);
                self.u32(b.len() as u32);
                self.0.extend_from_slice(b);
                self.pad();
            }
            V::PackedInt32Array(v) => {
                self.u32(ty::PACKED_INT32_ARRAY);
                self.u32(v.len() as u32);
                self.ints(v);
            }
            V::PackedInt64Array(v) => {
                self.u32(ty::PACKED_INT64_ARRAY);
                self.u32(v.len() as u32);
                v.iter()
                    .for_each(|x| self.0.extend_from_slice(&x.to_le_bytes()));
            }
            V::PackedFloat32Array(v) => {
                self.u32(ty::PACKED_FLOAT32_ARRAY);
                self.u32(v.len() as u32);
                self.floats(v);
            }
            V::PackedFloat64Array(v) => {
                self.u32(ty::PACKED_FLOAT64_ARRAY);
                self.u32(v.len() as u32);
                v.iter()
                    .for_each(|x| self.0.extend_from_slice(&x.to_le_bytes()));
            }
            V::PackedStringArray(v) => {
                self.u32(ty::PACKED_STRING_ARRAY);
                self.u32(v.len() as u32);
                for s in v {
                    // Godot writes each string with its NUL terminator counted in the length.
                    self.u32(s.len() as u32 + 1);
                    self.0.extend_from_slice(s.as_bytes());
                    self.0.push(0);
                    self.pad();
                }
            }
            V::PackedVector2Array(v) => {
                self.u32(ty::PACKED_VECTOR2_ARRAY);
                self.u32(v.len() as u32);
                v.iter().for_each(|p| self.floats(&[p.x, p.y]));
            }
            V::PackedVector3Array(v) => {
                self.u32(ty::PACKED_VECTOR3_ARRAY);
                self.u32(v.len() as u32);
                v.iter().for_each(|p| self.floats(&[p.x, p.y, p.z]));
            }
            V::PackedColorArray(v) => {
                self.u32(ty::PACKED_COLOR_ARRAY);
                self.u32(v.len() as u32);
                v.iter().for_each(|c| self.floats(&[c.r, c.g, c.b, c.a]));
            }
            V::PackedVector4Array(v) => {
                self.u32(ty::PACKED_VECTOR4_ARRAY);
                self.u32(v.len() as u32);
                v.iter().for_each(|c| self.floats(c));
            }
        }
    }
}

/// `"/root/a/b:x:y"` → (absolute, ["root", "a", "b"], ["x", "y"]), as Godot's `NodePath(String)`.
fn split_node_path(path: &str) -> (bool, Vec<&str>, Vec<&str>) {
    let absolute = path.starts_with('/');
    let body = path.trim_start_matches('/');
    let (names_part, sub_part) = match body.find(':') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let names = names_part.split('/').filter(|s| !s.is_empty()).collect();
    let subnames = sub_part
        .map(|s| s.split(':').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    (absolute, names, subnames)
}

/// Elements a container's `Vec` is given room for before they are read: a declared count is
/// only bounded by the bytes left, and at 72 bytes a value, reserving it at every level of
/// nesting asked for 18 times the input per level.
const PREALLOCATED: usize = 1024;

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Array elements and Dictionary entries declared so far.
    elements: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(self.u32()? as i32)
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn f32(&mut self) -> Result<f32, DecodeError> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn skip_pad(&mut self) -> Result<(), DecodeError> {
        let pad = (4 - self.pos % 4) % 4;
        self.take(pad).map(drop)
    }
    /// A count that cannot be larger than the bytes left (each element takes at least `min` bytes).
    fn count(&mut self, min: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min) > self.bytes.len() - self.pos {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }
    /// A container's count (each element takes at least `min` bytes), counted against
    /// [`MAX_ELEMENTS`].
    fn elements(&mut self, min: usize) -> Result<usize, DecodeError> {
        let n = self.count(min)?;
        self.elements = self.elements.saturating_add(n);
        if self.elements > MAX_ELEMENTS {
            return Err(DecodeError::TooManyElements);
        }
        Ok(n)
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        let raw = self.take(n)?;
        self.skip_pad()?;
        String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::InvalidUtf8)
    }
    /// `N` real components: f32, or f64 in a double-precision build (`wide`).
    fn reals<const N: usize>(&mut self, wide: bool) -> Result<[f32; N], DecodeError> {
        let mut out = [0.0; N];
        for slot in &mut out {
            *slot = if wide {
                self.f64()? as f32
            } else {
                self.f32()?
            };
        }
        Ok(out)
    }
    fn ints<const N: usize>(&mut self) -> Result<[i32; N], DecodeError> {
        let mut out = [0; N];
        for slot in &mut out {
            *slot = self.i32()?;
        }
        Ok(out)
    }
    /// Skips the element type Godot 4.4+ writes after the header of a typed Array or Dictionary.
    fn skip_container_type(&mut self, kind: u32) -> Result<(), DecodeError> {
        match kind {
            0 => Ok(()),
            1 => self.u32().map(drop),        // a builtin type number
            2 | 3 => self.string().map(drop), // a class name or a script path
            _ => Err(DecodeError::UnsupportedType(ty::ARRAY)),
        }
    }

    fn variant(&mut self, depth: usize) -> Result<Variant, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        let header = self.u32()?;
        let (t, wide) = (header & 0xff, header & FLAG_64 != 0);
        Ok(match t {
            ty::NIL => Variant::Nil,
            ty::BOOL => Variant::Bool(self.u32()? != 0),
            ty::INT => Variant::Int(if wide {
                self.u64()? as i64
            } else {
                self.i32()? as i64
            }),
            ty::FLOAT => Variant::Float(if wide {
                self.f64()?
            } else {
                self.f32()? as f64
            }),
            ty::STRING => Variant::String(self.string()?),
            ty::STRING_NAME => Variant::StringName(self.string()?),
            ty::VECTOR2 => {
                let [x, y] = self.reals(wide)?;
                Variant::Vector2(Vector2::new(x, y))
            }
            ty::VECTOR2I => Variant::Vector2i(self.ints()?),
            ty::RECT2 => Variant::Rect2(self.reals(wide)?),
            ty::RECT2I => Variant::Rect2i(self.ints()?),
            ty::VECTOR3 => {
                let [x, y, z] = self.reals(wide)?;
                Variant::Vector3(Vector3::new(x, y, z))
            }
            ty::VECTOR3I => Variant::Vector3i(self.ints()?),
            ty::TRANSFORM2D => Variant::Transform2D(self.reals(wide)?),
            ty::VECTOR4 => Variant::Vector4(self.reals(wide)?),
            ty::VECTOR4I => Variant::Vector4i(self.ints()?),
            ty::PLANE => Variant::Plane(self.reals(wide)?),
            ty::QUATERNION => Variant::Quaternion(self.reals(wide)?),
            ty::AABB => Variant::Aabb(self.reals(wide)?),
            ty::BASIS => Variant::Basis(self.reals(wide)?),
            ty::TRANSFORM3D => Variant::Transform3D(self.reals(wide)?),
            ty::PROJECTION => Variant::Projection(self.reals(wide)?),
            // Colors are always f32.
            ty::COLOR => {
                let [r, g, b, a] = self.reals(false)?;
                Variant::Color(Color::rgba(r, g, b, a))
            }
            ty::NODE_PATH => Variant::NodePath(self.node_path()?),
            ty::OBJECT => {
                if header & FLAG_OBJECT_AS_ID != 0 {
                    Variant::Object(self.u64()? as i64 as i32)
                } else {
                    // A fully serialized object: only the null one (empty class name) is accepted.
                    let class = self.string()?;
                    if !class.is_empty() {
                        return Err(DecodeError::UnsupportedType(ty::OBJECT));
                    }
                    Variant::Object(0)
                }
            }
            ty::DICTIONARY => {
                self.skip_container_type((header >> 16) & 3)?;
                self.skip_container_type((header >> 18) & 3)?;
                let n = self.elements(8)?;
                let mut entries = Vec::with_capacity(n.min(PREALLOCATED));
                for _ in 0..n {
                    let k = self.variant(depth + 1)?;
                    let v = self.variant(depth + 1)?;
                    entries.push((k, v));
                }
                Variant::Dictionary(entries)
            }
            ty::ARRAY => {
                self.skip_container_type((header >> 16) & 3)?;
                let n = self.elements(4)?;
                let mut items = Vec::with_capacity(n.min(PREALLOCATED));
                for _ in 0..n {
                    items.push(self.variant(depth + 1)?);
                }
                Variant::Array(items)
            }
            ty::PACKED_BYTE_ARRAY => {
                let n = self.count(1)?;
                let bytes = self.take(n)?.to_vec();
                self.skip_pad()?;
                Variant::PackedByteArray(bytes)
            }
            ty::PACKED_INT32_ARRAY => {
                let n = self.count(4)?;
                Variant::PackedInt32Array((0..n).map(|_| self.i32()).collect::<Result<_, _>>()?)
            }
            ty::PACKED_INT64_ARRAY => {
                let n = self.count(8)?;
                Variant::PackedInt64Array(
                    (0..n)
                        .map(|_| self.u64().map(|x| x as i64))
                        .collect::<Result<_, _>>()?,
                )
            }
            ty::PACKED_FLOAT32_ARRAY => {
                let n = self.count(4)?;
                Variant::PackedFloat32Array((0..n).map(|_| self.f32()).collect::<Result<_, _>>()?)
            }
            ty::PACKED_FLOAT64_ARRAY => {
                let n = self.count(8)?;
                Variant::PackedFloat64Array((0..n).map(|_| self.f64()).collect::<Result<_, _>>()?)
            }
            ty::PACKED_STRING_ARRAY => {
                // Counted like a container's elements: each empty string is 4 bytes here and a
                // `String` of 24 on the host.
                let n = self.elements(4)?;
                let mut items = Vec::with_capacity(n.min(PREALLOCATED));
                for _ in 0..n {
                    let len = self.u32()? as usize;
                    let raw = self.take(len)?;
                    self.skip_pad()?;
                    // Godot counts the NUL terminator in the length.
                    let text = raw.strip_suffix(&[0]).unwrap_or(raw);
                    items.push(
                        String::from_utf8(text.to_vec()).map_err(|_| DecodeError::InvalidUtf8)?,
                    );
                }
                Variant::PackedStringArray(items)
            }
            ty::PACKED_VECTOR2_ARRAY => {
                let n = self.count(8)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let [x, y] = self.reals(wide)?;
                    items.push(Vector2::new(x, y));
                }
                Variant::PackedVector2Array(items)
            }
            ty::PACKED_VECTOR3_ARRAY => {
                let n = self.count(12)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let [x, y, z] = self.reals(wide)?;
                    items.push(Vector3::new(x, y, z));
                }
                Variant::PackedVector3Array(items)
            }
            ty::PACKED_COLOR_ARRAY => {
                let n = self.count(16)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let [r, g, b, a] = self.reals(false)?;
                    items.push(Color::rgba(r, g, b, a));
                }
                Variant::PackedColorArray(items)
            }
            ty::PACKED_VECTOR4_ARRAY => {
                let n = self.count(16)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.reals(wide)?);
                }
                Variant::PackedVector4Array(items)
            }
            other => return Err(DecodeError::UnsupportedType(other)),
        })
    }

    fn node_path(&mut self) -> Result<String, DecodeError> {
        let first = self.u32()?;
        if first & NODE_PATH_NEW_FORMAT == 0 {
            // Godot 2's format: never written by Godot 4.
            return Err(DecodeError::UnsupportedType(ty::NODE_PATH));
        }
        let names = (first & !NODE_PATH_NEW_FORMAT) as usize;
        let subnames = self.u32()? as usize;
        let flags = self.u32()?;
        if names.saturating_add(subnames).saturating_mul(4) > self.bytes.len() - self.pos {
            return Err(DecodeError::Truncated);
        }
        let mut path = String::new();
        if flags & 1 != 0 {
            path.push('/');
        }
        for i in 0..names {
            if i > 0 {
                path.push('/');
            }
            path.push_str(&self.string()?);
        }
        for _ in 0..subnames {
            path.push(':');
            path.push_str(&self.string()?);
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn round_trip(v: Variant) {
        let bytes = v.encode();
        assert_eq!(bytes.len() % 4, 0, "{v:?} is not padded to 4 bytes");
        assert_eq!(Variant::decode(&bytes), Ok(v));
    }

    // The expected bytes below are what Godot 4.6's `var_to_bytes` returns for the same value.

    #[test]
    fn scalars_match_godot() {
        assert_eq!(Variant::Nil.encode(), [0, 0, 0, 0]);
        assert_eq!(Variant::Bool(true).encode(), [1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(
            Variant::Int(-2).encode(),
            [2, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            Variant::Int(1 << 40).encode(),
            [2, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]
        );
        assert_eq!(Variant::Float(1.5).encode(), [3, 0, 0, 0, 0, 0, 0xc0, 0x3f]);
        let mut wide = vec![3, 0, 1, 0];
        wide.extend_from_slice(&0.1f64.to_le_bytes());
        assert_eq!(Variant::Float(0.1).encode(), wide);
        // NaN as Godot's `var_to_bytes` writes it: 64-bit (a NaN is never equal to itself once
        // narrowed), its payload kept.
        let nan = f64::from_bits(0x7ff8_0000_0000_1234);
        let encoded = Variant::Float(nan).encode();
        assert_eq!(encoded[..4], [3, 0, 1, 0]);
        match Variant::decode(&encoded) {
            Ok(Variant::Float(back)) => assert_eq!(back.to_bits(), nan.to_bits()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn strings_are_padded_and_packed_strings_count_their_nul() {
        assert_eq!(
            Variant::from("hey").encode(),
            [4, 0, 0, 0, 3, 0, 0, 0, b'h', b'e', b'y', 0]
        );
        assert_eq!(
            Variant::PackedStringArray(vec![String::from("ab")]).encode(),
            [34, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, b'a', b'b', 0, 0]
        );
    }

    #[test]
    fn objects_are_handles_with_the_as_id_flag() {
        assert_eq!(
            Variant::Object(7).encode(),
            [24, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0]
        );
        // A null object serialized in full (an empty class name) decodes as the null handle.
        assert_eq!(
            Variant::decode(&[24, 0, 0, 0, 0, 0, 0, 0]),
            Ok(Variant::Object(0))
        );
    }

    #[test]
    fn node_paths_split_like_godot() {
        let bytes = Variant::NodePath(String::from("/root/a:x")).encode();
        let mut want = vec![22, 0, 0, 0, 2, 0, 0, 0x80, 1, 0, 0, 0, 1, 0, 0, 0];
        for s in ["root", "a", "x"] {
            want.extend_from_slice(&(s.len() as u32).to_le_bytes());
            want.extend_from_slice(s.as_bytes());
            while want.len() % 4 != 0 {
                want.push(0);
            }
        }
        assert_eq!(bytes, want);
        round_trip(Variant::NodePath(String::from("../Players/Ada:position:x")));
    }

    #[test]
    fn every_type_round_trips() {
        let values = vec![
            Variant::Nil,
            Variant::Bool(false),
            Variant::Int(i64::MIN),
            Variant::Float(-3.25),
            Variant::Float(1e300),
            Variant::from("héllo"),
            Variant::Vector2(Vector2::new(1.0, -2.0)),
            Variant::Vector2i([3, -4]),
            Variant::Rect2([0.0, 1.0, 2.0, 3.0]),
            Variant::Rect2i([0, 1, 2, 3]),
            Variant::Vector3(Vector3::new(1.0, 2.0, 3.0)),
            Variant::Vector3i([1, 2, 3]),
            Variant::Transform2D([1.0, 0.0, 0.0, 1.0, 5.0, 6.0]),
            Variant::Vector4([1.0, 2.0, 3.0, 4.0]),
            Variant::Vector4i([1, 2, 3, 4]),
            Variant::Plane([0.0, 1.0, 0.0, 2.0]),
            Variant::Quaternion([0.0, 0.0, 0.0, 1.0]),
            Variant::Aabb([0.0, 0.0, 0.0, 1.0, 1.0, 1.0]),
            Variant::Basis([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
            Variant::Transform3D([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 4.0, 5.0, 6.0]),
            Variant::Projection([1.0; 16]),
            Variant::Color(Color::rgba(1.0, 0.5, 0.25, 1.0)),
            Variant::StringName(String::from("position")),
            Variant::Object(0),
            Variant::PackedByteArray(vec![1, 2, 3, 4, 5]),
            Variant::PackedInt32Array(vec![-1, 2]),
            Variant::PackedInt64Array(vec![1 << 40]),
            Variant::PackedFloat32Array(vec![0.5]),
            Variant::PackedFloat64Array(vec![0.1]),
            Variant::PackedStringArray(vec![String::from("a"), String::new(), String::from("xyz")]),
            Variant::PackedVector2Array(vec![Vector2::new(1.0, 2.0)]),
            Variant::PackedVector3Array(vec![Vector3::new(1.0, 2.0, 3.0)]),
            Variant::PackedColorArray(vec![Color::rgba(0.0, 0.0, 0.0, 1.0)]),
            Variant::PackedVector4Array(vec![[1.0, 2.0, 3.0, 4.0]]),
        ];
        let dict = Variant::Dictionary(vec![
            (Variant::from("score"), Variant::Int(3)),
            (Variant::Int(1), Variant::Array(values.clone())),
        ]);
        for v in values {
            round_trip(v);
        }
        round_trip(dict);
    }

    #[test]
    fn typed_arrays_from_godot_4_4_decode() {
        // `var_to_bytes([1] as Array[int])`: flag 1 << 16 (builtin element type), then TYPE_INT.
        let bytes = [28, 0, 1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(
            Variant::decode(&bytes),
            Ok(Variant::Array(vec![Variant::Int(1)]))
        );
    }

    #[test]
    fn hostile_bytes_are_refused_not_trusted() {
        assert_eq!(
            Variant::decode(&[4, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Variant::decode(&[28, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Variant::decode(&[25, 0, 0, 0]),
            Err(DecodeError::UnsupportedType(25))
        );
        assert_eq!(
            Variant::decode(&[0, 0, 0, 0, 0]),
            Err(DecodeError::TrailingBytes)
        );
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[28, 0, 0, 0, 1, 0, 0, 0]);
        }
        deep.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(Variant::decode(&deep), Err(DecodeError::TooDeep));
        // Elements are counted through every level while decoding: two Arrays of half the
        // limit each, plus one more.
        let half = MAX_ELEMENTS / 2;
        let mut wide = vec![28, 0, 0, 0, 2, 0, 0, 0];
        for extra in [0, 1] {
            wide.extend_from_slice(&[28, 0, 0, 0]);
            wide.extend_from_slice(&((half + extra) as u32).to_le_bytes());
            wide.extend(core::iter::repeat_n(0u8, (half + extra) * 4));
        }
        assert_eq!(Variant::decode(&wide), Err(DecodeError::TooManyElements));
        let fits = wide.len() - 12;
        wide.truncate(fits);
        let at = 8 + 4 + 4 + half * 4 + 4;
        wide[at..at + 4].copy_from_slice(&((half - 2) as u32).to_le_bytes());
        assert!(Variant::decode(&wide).is_ok());
    }

    #[test]
    fn dictionary_lookup_by_string_key() {
        let d = Variant::Dictionary(vec![(Variant::from("name"), Variant::from("Ada"))]);
        assert_eq!(d.get("name").and_then(Variant::as_str), Some("Ada"));
        assert_eq!(d.get("missing"), None);
    }
}
