//! Godot Variants on the wire: the byte format mods read and write.
//!
//! Values cross the mod boundary in Godot's own binary serialization format — what GDScript's
//! `var_to_bytes` produces — so a mod can use any existing encoder. One difference: an Object is
//! never an engine object id. It is written as type 24 (OBJECT) with header flag `1 << 16`
//! ("object as id") followed by a little-endian u64 holding the mod's *handle* (an i32 from the
//! mod's own handle table; 0 is null). Callables, Signals and RIDs are refused in both directions:
//! they would let a mod reach code or engine resources past the safety level.
//!
//! Layout (all little-endian, every item padded to 4 bytes): a u32 header (type in the low 8
//! bits, flags above), then the payload: bool as u32; int as i32, or i64 with flag `1 << 16`; float
//! as f32, or f64 with flag `1 << 16` when f32 would lose precision; String and StringName as u32
//! byte length + UTF-8 + padding; vectors, Rect2, Transform2D, Plane, Quaternion, AABB, Basis,
//! Transform3D, Projection and Color as f32 components (the `i` variants as i32); NodePath as
//! `name_count | 0x8000_0000`, `subname_count`, flags (1 = absolute) and the names as strings;
//! Dictionary as u32 count then key, value, ...; Array as u32 count then elements; Packed arrays
//! as u32 count then elements (bytes padded; each string of a PackedStringArray has length + 1 and
//! a trailing NUL, as Godot writes it).

/// Nesting deeper than this is refused (a hostile mod could otherwise exhaust the host stack).
pub const MAX_DEPTH: usize = 64;

const FLAG_64: u32 = 1 << 16;
const FLAG_OBJECT_AS_ID: u32 = 1 << 16;

/// A Godot value as it crosses the wire, with objects as handles.
#[derive(Debug, Clone, PartialEq)]
pub enum WireVariant {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Vector2([f32; 2]),
    Vector2i([i32; 2]),
    Rect2([f32; 4]),
    Rect2i([i32; 4]),
    Vector3([f32; 3]),
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
    Color([f32; 4]),
    StringName(String),
    NodePath { names: Vec<String>, subnames: Vec<String>, absolute: bool },
    /// A handle from the mod's handle table; 0 is null.
    Object(i32),
    Dictionary(Vec<(WireVariant, WireVariant)>),
    Array(Vec<WireVariant>),
    PackedByteArray(Vec<u8>),
    PackedInt32Array(Vec<i32>),
    PackedInt64Array(Vec<i64>),
    PackedFloat32Array(Vec<f32>),
    PackedFloat64Array(Vec<f64>),
    PackedStringArray(Vec<String>),
    PackedVector2Array(Vec<[f32; 2]>),
    PackedVector3Array(Vec<[f32; 3]>),
    PackedColorArray(Vec<[f32; 4]>),
    PackedVector4Array(Vec<[f32; 4]>),
}

/// Godot's `Variant::Type` numbers.
mod ty {
    pub const NIL: u32 = 0;
    pub const BOOL: u32 = 1;
    pub const INT: u32 = 2;
    pub const FLOAT: u32 = 3;
    pub const STRING: u32 = 4;
    pub const VECTOR2: u32 = 5;
    pub const VECTOR2I: u32 = 6;
    pub const RECT2: u32 = 7;
    pub const RECT2I: u32 = 8;
    pub const VECTOR3: u32 = 9;
    pub const VECTOR3I: u32 = 10;
    pub const TRANSFORM2D: u32 = 11;
    pub const VECTOR4: u32 = 12;
    pub const VECTOR4I: u32 = 13;
    pub const PLANE: u32 = 14;
    pub const QUATERNION: u32 = 15;
    pub const AABB: u32 = 16;
    pub const BASIS: u32 = 17;
    pub const TRANSFORM3D: u32 = 18;
    pub const PROJECTION: u32 = 19;
    pub const COLOR: u32 = 20;
    pub const STRING_NAME: u32 = 21;
    pub const NODE_PATH: u32 = 22;
    pub const RID: u32 = 23;
    pub const OBJECT: u32 = 24;
    pub const CALLABLE: u32 = 25;
    pub const SIGNAL: u32 = 26;
    pub const DICTIONARY: u32 = 27;
    pub const ARRAY: u32 = 28;
    pub const PACKED_BYTE_ARRAY: u32 = 29;
    pub const PACKED_INT32_ARRAY: u32 = 30;
    pub const PACKED_INT64_ARRAY: u32 = 31;
    pub const PACKED_FLOAT32_ARRAY: u32 = 32;
    pub const PACKED_FLOAT64_ARRAY: u32 = 33;
    pub const PACKED_STRING_ARRAY: u32 = 34;
    pub const PACKED_VECTOR2_ARRAY: u32 = 35;
    pub const PACKED_VECTOR3_ARRAY: u32 = 36;
    pub const PACKED_COLOR_ARRAY: u32 = 37;
    pub const PACKED_VECTOR4_ARRAY: u32 = 38;
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
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
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
    }
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
}

impl WireVariant {
    /// Encodes the value as Godot's binary format (objects as handles).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(16));
        self.encode_into(&mut w);
        w.0
    }

    fn encode_into(&self, w: &mut Writer) {
        use WireVariant as V;
        match self {
            V::Nil => w.u32(ty::NIL),
            V::Bool(b) => {
                w.u32(ty::BOOL);
                w.u32(*b as u32);
            }
            V::Int(i) => {
                if let Ok(small) = i32::try_from(*i) {
                    w.u32(ty::INT);
                    w.i32(small);
                } else {
                    w.u32(ty::INT | FLAG_64);
                    w.0.extend_from_slice(&i.to_le_bytes());
                }
            }
            V::Float(f) => {
                if (*f as f32) as f64 == *f {
                    w.u32(ty::FLOAT);
                    w.f32(*f as f32);
                } else {
                    w.u32(ty::FLOAT | FLAG_64);
                    w.0.extend_from_slice(&f.to_le_bytes());
                }
            }
            V::String(s) => {
                w.u32(ty::STRING);
                w.string(s);
            }
            V::StringName(s) => {
                w.u32(ty::STRING_NAME);
                w.string(s);
            }
            V::Vector2(v) => {
                w.u32(ty::VECTOR2);
                w.floats(v);
            }
            V::Vector2i(v) => {
                w.u32(ty::VECTOR2I);
                w.ints(v);
            }
            V::Rect2(v) => {
                w.u32(ty::RECT2);
                w.floats(v);
            }
            V::Rect2i(v) => {
                w.u32(ty::RECT2I);
                w.ints(v);
            }
            V::Vector3(v) => {
                w.u32(ty::VECTOR3);
                w.floats(v);
            }
            V::Vector3i(v) => {
                w.u32(ty::VECTOR3I);
                w.ints(v);
            }
            V::Transform2D(v) => {
                w.u32(ty::TRANSFORM2D);
                w.floats(v);
            }
            V::Vector4(v) => {
                w.u32(ty::VECTOR4);
                w.floats(v);
            }
            V::Vector4i(v) => {
                w.u32(ty::VECTOR4I);
                w.ints(v);
            }
            V::Plane(v) => {
                w.u32(ty::PLANE);
                w.floats(v);
            }
            V::Quaternion(v) => {
                w.u32(ty::QUATERNION);
                w.floats(v);
            }
            V::Aabb(v) => {
                w.u32(ty::AABB);
                w.floats(v);
            }
            V::Basis(v) => {
                w.u32(ty::BASIS);
                w.floats(v);
            }
            V::Transform3D(v) => {
                w.u32(ty::TRANSFORM3D);
                w.floats(v);
            }
            V::Projection(v) => {
                w.u32(ty::PROJECTION);
                w.floats(v);
            }
            V::Color(v) => {
                w.u32(ty::COLOR);
                w.floats(v);
            }
            V::NodePath { names, subnames, absolute } => {
                w.u32(ty::NODE_PATH);
                w.u32(names.len() as u32 | 0x8000_0000);
                w.u32(subnames.len() as u32);
                w.u32(*absolute as u32);
                names.iter().chain(subnames).for_each(|s| w.string(s));
            }
            V::Object(handle) => {
                w.u32(ty::OBJECT | FLAG_OBJECT_AS_ID);
                w.0.extend_from_slice(&(*handle as i64 as u64).to_le_bytes());
            }
            V::Dictionary(entries) => {
                w.u32(ty::DICTIONARY);
                w.u32(entries.len() as u32);
                for (k, v) in entries {
                    k.encode_into(w);
                    v.encode_into(w);
                }
            }
            V::Array(items) => {
                w.u32(ty::ARRAY);
                w.u32(items.len() as u32);
                items.iter().for_each(|v| v.encode_into(w));
            }
            V::PackedByteArray(b) => {
                w.u32(ty::PACKED_BYTE_ARRAY);
                w.u32(b.len() as u32);
                w.0.extend_from_slice(b);
                w.pad();
            }
            V::PackedInt32Array(v) => {
                w.u32(ty::PACKED_INT32_ARRAY);
                w.u32(v.len() as u32);
                w.ints(v);
            }
            V::PackedInt64Array(v) => {
                w.u32(ty::PACKED_INT64_ARRAY);
                w.u32(v.len() as u32);
                v.iter().for_each(|x| w.0.extend_from_slice(&x.to_le_bytes()));
            }
            V::PackedFloat32Array(v) => {
                w.u32(ty::PACKED_FLOAT32_ARRAY);
                w.u32(v.len() as u32);
                w.floats(v);
            }
            V::PackedFloat64Array(v) => {
                w.u32(ty::PACKED_FLOAT64_ARRAY);
                w.u32(v.len() as u32);
                v.iter().for_each(|x| w.0.extend_from_slice(&x.to_le_bytes()));
            }
            V::PackedStringArray(v) => {
                w.u32(ty::PACKED_STRING_ARRAY);
                w.u32(v.len() as u32);
                for s in v {
                    w.u32(s.len() as u32 + 1);
                    w.0.extend_from_slice(s.as_bytes());
                    w.0.push(0);
                    w.pad();
                }
            }
            V::PackedVector2Array(v) => {
                w.u32(ty::PACKED_VECTOR2_ARRAY);
                w.u32(v.len() as u32);
                v.iter().for_each(|x| w.floats(x));
            }
            V::PackedVector3Array(v) => {
                w.u32(ty::PACKED_VECTOR3_ARRAY);
                w.u32(v.len() as u32);
                v.iter().for_each(|x| w.floats(x));
            }
            V::PackedColorArray(v) => {
                w.u32(ty::PACKED_COLOR_ARRAY);
                w.u32(v.len() as u32);
                v.iter().for_each(|x| w.floats(x));
            }
            V::PackedVector4Array(v) => {
                w.u32(ty::PACKED_VECTOR4_ARRAY);
                w.u32(v.len() as u32);
                v.iter().for_each(|x| w.floats(x));
            }
        }
    }

    /// Decodes one value that must fill `bytes` exactly.
    pub fn decode(bytes: &[u8]) -> Result<WireVariant, DecodeError> {
        let mut r = Reader { b: bytes, at: 0 };
        let v = r.variant(0)?;
        if r.at != bytes.len() {
            return Err(DecodeError(format!("{} bytes left over after the value", bytes.len() - r.at)));
        }
        Ok(v)
    }

    /// The value as a number, if it is one (int or float).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            WireVariant::Int(i) => Some(*i as f64),
            WireVariant::Float(f) => Some(*f),
            _ => None,
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len()).ok_or_else(|| DecodeError(format!("the bytes end early (at {} of {}, needed {n} more)", self.at, self.b.len())))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
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
        let pad = (4 - self.at % 4) % 4;
        self.take(pad).map(|_| ())
    }
    fn count(&mut self, elem: usize) -> Result<usize, DecodeError> {
        let n = (self.u32()? & 0x7FFF_FFFF) as usize;
        if n.saturating_mul(elem.max(1)) > self.b.len() - self.at {
            return Err(DecodeError(format!("a count of {n} is larger than the bytes that follow")));
        }
        Ok(n)
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.count(1)?;
        let raw = self.take(n)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        let s = std::str::from_utf8(raw).map_err(|_| DecodeError("a string is not valid UTF-8".into()))?.to_string();
        self.skip_pad()?;
        Ok(s)
    }
    fn floats<const N: usize>(&mut self, flag64: bool) -> Result<[f32; N], DecodeError> {
        let mut out = [0f32; N];
        for x in &mut out {
            *x = if flag64 { self.f64()? as f32 } else { self.f32()? };
        }
        Ok(out)
    }
    fn ints<const N: usize>(&mut self) -> Result<[i32; N], DecodeError> {
        let mut out = [0i32; N];
        for x in &mut out {
            *x = self.i32()?;
        }
        Ok(out)
    }

    fn variant(&mut self, depth: usize) -> Result<WireVariant, DecodeError> {
        use WireVariant as V;
        if depth > MAX_DEPTH {
            return Err(DecodeError(format!("values nest deeper than {MAX_DEPTH} levels")));
        }
        let header = self.u32()?;
        let t = header & 0xFF;
        let f64_flag = header & FLAG_64 != 0;
        Ok(match t {
            ty::NIL => V::Nil,
            ty::BOOL => V::Bool(self.u32()? != 0),
            ty::INT => V::Int(if f64_flag { self.u64()? as i64 } else { self.i32()? as i64 }),
            ty::FLOAT => V::Float(if f64_flag { self.f64()? } else { self.f32()? as f64 }),
            ty::STRING => V::String(self.string()?),
            ty::STRING_NAME => V::StringName(self.string()?),
            ty::VECTOR2 => V::Vector2(self.floats(f64_flag)?),
            ty::VECTOR2I => V::Vector2i(self.ints()?),
            ty::RECT2 => V::Rect2(self.floats(f64_flag)?),
            ty::RECT2I => V::Rect2i(self.ints()?),
            ty::VECTOR3 => V::Vector3(self.floats(f64_flag)?),
            ty::VECTOR3I => V::Vector3i(self.ints()?),
            ty::TRANSFORM2D => V::Transform2D(self.floats(f64_flag)?),
            ty::VECTOR4 => V::Vector4(self.floats(f64_flag)?),
            ty::VECTOR4I => V::Vector4i(self.ints()?),
            ty::PLANE => V::Plane(self.floats(f64_flag)?),
            ty::QUATERNION => V::Quaternion(self.floats(f64_flag)?),
            ty::AABB => V::Aabb(self.floats(f64_flag)?),
            ty::BASIS => V::Basis(self.floats(f64_flag)?),
            ty::TRANSFORM3D => V::Transform3D(self.floats(f64_flag)?),
            ty::PROJECTION => V::Projection(self.floats(f64_flag)?),
            ty::COLOR => V::Color(self.floats(false)?),
            ty::NODE_PATH => {
                let names = self.u32()?;
                if names & 0x8000_0000 == 0 {
                    return Err(DecodeError("NodePath in the old format is not supported".into()));
                }
                let names = (names & 0x7FFF_FFFF) as usize;
                let subnames = self.u32()? as usize;
                let flags = self.u32()?;
                if names.saturating_add(subnames).saturating_mul(4) > self.b.len() - self.at {
                    return Err(DecodeError("a NodePath count is larger than the bytes that follow".into()));
                }
                let mut all = Vec::with_capacity(names + subnames);
                for _ in 0..names + subnames {
                    all.push(self.string()?);
                }
                let subs = all.split_off(names);
                V::NodePath { names: all, subnames: subs, absolute: flags & 1 != 0 }
            }
            ty::OBJECT => {
                if header & FLAG_OBJECT_AS_ID == 0 {
                    return Err(DecodeError("a full object cannot cross into the game; pass a handle (type 24 with flag 1<<16 and a u64 handle)".into()));
                }
                let h = self.u64()? as i64;
                V::Object(i32::try_from(h).map_err(|_| DecodeError(format!("{h} is not a handle")))?)
            }
            ty::RID | ty::CALLABLE | ty::SIGNAL => {
                let what = match t {
                    ty::RID => "an RID",
                    ty::CALLABLE => "a Callable",
                    _ => "a Signal",
                };
                return Err(DecodeError(format!("{what} cannot cross into the game: mods may not pass engine resources or code")));
            }
            ty::DICTIONARY => {
                if header & (0b1111 << 16) != 0 {
                    return Err(DecodeError("typed Dictionaries are not supported; send an untyped one".into()));
                }
                let n = self.count(8)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.variant(depth + 1)?;
                    let v = self.variant(depth + 1)?;
                    entries.push((k, v));
                }
                V::Dictionary(entries)
            }
            ty::ARRAY => {
                if header & (0b11 << 16) != 0 {
                    return Err(DecodeError("typed Arrays are not supported; send an untyped one".into()));
                }
                let n = self.count(4)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.variant(depth + 1)?);
                }
                V::Array(items)
            }
            ty::PACKED_BYTE_ARRAY => {
                let n = self.count(1)?;
                let b = self.take(n)?.to_vec();
                self.skip_pad()?;
                V::PackedByteArray(b)
            }
            ty::PACKED_INT32_ARRAY => {
                let n = self.count(4)?;
                V::PackedInt32Array((0..n).map(|_| self.i32()).collect::<Result<_, _>>()?)
            }
            ty::PACKED_INT64_ARRAY => {
                let n = self.count(8)?;
                V::PackedInt64Array((0..n).map(|_| self.u64().map(|x| x as i64)).collect::<Result<_, _>>()?)
            }
            ty::PACKED_FLOAT32_ARRAY => {
                let n = self.count(4)?;
                V::PackedFloat32Array((0..n).map(|_| self.f32()).collect::<Result<_, _>>()?)
            }
            ty::PACKED_FLOAT64_ARRAY => {
                let n = self.count(8)?;
                V::PackedFloat64Array((0..n).map(|_| self.f64()).collect::<Result<_, _>>()?)
            }
            ty::PACKED_STRING_ARRAY => {
                let n = self.count(4)?;
                V::PackedStringArray((0..n).map(|_| self.string()).collect::<Result<_, _>>()?)
            }
            ty::PACKED_VECTOR2_ARRAY => {
                let n = self.count(8)?;
                V::PackedVector2Array((0..n).map(|_| self.floats(f64_flag)).collect::<Result<_, _>>()?)
            }
            ty::PACKED_VECTOR3_ARRAY => {
                let n = self.count(12)?;
                V::PackedVector3Array((0..n).map(|_| self.floats(f64_flag)).collect::<Result<_, _>>()?)
            }
            ty::PACKED_COLOR_ARRAY => {
                let n = self.count(16)?;
                V::PackedColorArray((0..n).map(|_| self.floats(false)).collect::<Result<_, _>>()?)
            }
            ty::PACKED_VECTOR4_ARRAY => {
                let n = self.count(16)?;
                V::PackedVector4Array((0..n).map(|_| self.floats(f64_flag)).collect::<Result<_, _>>()?)
            }
            other => return Err(DecodeError(format!("{other} is not a Godot Variant type"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use WireVariant as V;

    #[test]
    fn matches_godot_var_to_bytes_for_simple_values() {
        // Byte strings produced by Godot 4's var_to_bytes.
        assert_eq!(V::Int(5).encode(), [2, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(V::Int(1 << 40).encode(), [2, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(V::Float(0.5).encode(), [3, 0, 0, 0, 0, 0, 0, 63]);
        assert_eq!(V::String("hi".into()).encode(), [4, 0, 0, 0, 2, 0, 0, 0, b'h', b'i', 0, 0]);
        assert_eq!(V::Bool(true).encode(), [1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(V::Vector2([1.0, 2.0]).encode()[..4], [5, 0, 0, 0]);
        assert_eq!(V::Object(3).encode(), [24, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(V::PackedStringArray(vec!["ab".into()]).encode(), [34, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, b'a', b'b', 0, 0]);
    }

    #[test]
    fn everything_round_trips() {
        let v = V::Dictionary(vec![
            (V::String("pos".into()), V::Vector3([1.0, 2.5, -3.0])),
            (V::StringName("n".into()), V::Array(vec![V::Nil, V::Int(-7), V::Float(0.1), V::Object(0), V::Color([1.0, 0.0, 0.5, 1.0])])),
            (V::Int(2), V::NodePath { names: vec!["a".into(), "b".into()], subnames: vec!["x".into()], absolute: true }),
            (V::Bool(false), V::PackedByteArray(vec![1, 2, 3])),
            (V::Nil, V::PackedStringArray(vec!["".into(), "hello".into()])),
            (V::Float(2.0), V::PackedVector2Array(vec![[1.0, 2.0]])),
            (V::Int(i64::MIN), V::Transform3D([0.5; 12])),
        ]);
        assert_eq!(V::decode(&v.encode()).unwrap(), v);
    }

    #[test]
    fn hostile_bytes_are_refused_not_trusted() {
        assert!(V::decode(&[]).is_err());
        assert!(V::decode(&[28, 0, 0, 0, 255, 255, 255, 127]).is_err(), "huge array count");
        assert!(V::decode(&[25, 0, 0, 0]).unwrap_err().0.contains("Callable"));
        assert!(V::decode(&[24, 0, 0, 0, 0, 0, 0, 0]).is_err(), "full objects are refused");
        assert!(V::decode(&[4, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xfe, 0, 0]).is_err(), "bad UTF-8");
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[28, 0, 0, 0, 1, 0, 0, 0]);
        }
        deep.extend_from_slice(&[0, 0, 0, 0]);
        assert!(V::decode(&deep).unwrap_err().0.contains("nest"));
        assert!(V::decode(&[2, 0, 0, 0, 1, 0, 0, 0, 9]).is_err(), "trailing bytes");
    }
}
