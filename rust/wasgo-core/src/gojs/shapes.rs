//! Godot's value types that JavaScript has no counterpart for (`Color`, `Rect2`, `Transform2D`,
//! `Vector2i`, ...), as objects of named parts, and Godot's packed arrays as arrays.
//!
//! Each type is a [`Shape`]: an object of class [`Class::Typed`] whose properties are its parts
//! by the names GDScript gives them (`color.r`, `rect.position.x`, `transform.origin.y`,
//! `basis.x` is the first column). The program reads and changes the parts as numbers; the object
//! goes back to the game as the same type, read from its parts (a missing or non-numeric part is
//! 0; an integer type's part is rounded towards zero and clamped to 32 bits). So a value read with
//! `godot.get` and written back with `godot.set` is the value the game had, where before this
//! module it came as debug text and writing it back wiped the property.
//!
//! | Godot type | JavaScript object |
//! |---|---|
//! | `Vector2`, `Vector2i` | `{x, y}` |
//! | `Vector3`, `Vector3i` | `{x, y, z}` |
//! | `Vector4`, `Vector4i`, `Quaternion` | `{x, y, z, w}` |
//! | `Color` | `{r, g, b, a}` |
//! | `Plane` | `{normal: {x, y, z}, d}` |
//! | `Rect2`, `Rect2i` | `{position: {x, y}, size: {x, y}}` |
//! | `AABB` | `{position: {x, y, z}, size: {x, y, z}}` |
//! | `Transform2D` | `{x: {x, y}, y: {x, y}, origin: {x, y}}` (columns) |
//! | `Basis` | `{x: {x, y, z}, y: {...}, z: {...}}` (columns) |
//! | `Transform3D` | `{basis: Basis, origin: {x, y, z}}` |
//! | `Projection` | `{x: Vector4, y: ..., z: ..., w: ...}` (columns) |
//!
//! Packed arrays become arrays of numbers, strings, or the objects above (`PackedByteArray`
//! stays a `Uint8Array`); an array sent back is an `Array`, which Godot converts where a packed
//! array is expected (`Line2D.points`).

use super::value::{props_bytes, Class, JsObject, JsRef, JsValue, OBJECT_BYTES, VALUE_BYTES};
use crate::variant::{Color, Vector2, Vector3, WireVariant};

/// A Godot value type made of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Vector2,
    Vector2i,
    Vector3,
    Vector3i,
    Vector4,
    Vector4i,
    Quaternion,
    Color,
    Plane,
    Rect2,
    Rect2i,
    Aabb,
    Transform2D,
    Basis,
    Transform3D,
    Projection,
}

/// A typed object holds itself as one of its parts (or a part holds the part it sits in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfContaining;

/// One named part of a shape: a number at an index of the shape's numbers, or a nested shape
/// whose numbers start at an index.
enum Part {
    Num(&'static str, usize),
    Nested(&'static str, Shape, usize),
}

use Part::{Nested, Num};

const XY: &[Part] = &[Num("x", 0), Num("y", 1)];
const XYZ: &[Part] = &[Num("x", 0), Num("y", 1), Num("z", 2)];
const XYZW: &[Part] = &[Num("x", 0), Num("y", 1), Num("z", 2), Num("w", 3)];

impl Shape {
    fn parts(self) -> &'static [Part] {
        match self {
            Shape::Vector2 | Shape::Vector2i => XY,
            Shape::Vector3 | Shape::Vector3i => XYZ,
            Shape::Vector4 | Shape::Vector4i | Shape::Quaternion => XYZW,
            Shape::Color => &[Num("r", 0), Num("g", 1), Num("b", 2), Num("a", 3)],
            Shape::Plane => &[Nested("normal", Shape::Vector3, 0), Num("d", 3)],
            Shape::Rect2 => &[
                Nested("position", Shape::Vector2, 0),
                Nested("size", Shape::Vector2, 2),
            ],
            Shape::Rect2i => &[
                Nested("position", Shape::Vector2i, 0),
                Nested("size", Shape::Vector2i, 2),
            ],
            Shape::Aabb => &[
                Nested("position", Shape::Vector3, 0),
                Nested("size", Shape::Vector3, 3),
            ],
            Shape::Transform2D => &[
                Nested("x", Shape::Vector2, 0),
                Nested("y", Shape::Vector2, 2),
                Nested("origin", Shape::Vector2, 4),
            ],
            Shape::Basis => &[
                Nested("x", Shape::Vector3, 0),
                Nested("y", Shape::Vector3, 3),
                Nested("z", Shape::Vector3, 6),
            ],
            Shape::Transform3D => &[
                Nested("basis", Shape::Basis, 0),
                Nested("origin", Shape::Vector3, 9),
            ],
            Shape::Projection => &[
                Nested("x", Shape::Vector4, 0),
                Nested("y", Shape::Vector4, 4),
                Nested("z", Shape::Vector4, 8),
                Nested("w", Shape::Vector4, 12),
            ],
        }
    }

    /// How many numbers the shape is made of.
    pub fn count(self) -> usize {
        self.parts()
            .iter()
            .map(|p| match p {
                Num(_, i) => i + 1,
                Nested(_, s, at) => at + s.count(),
            })
            .max()
            .unwrap_or(0)
    }

    /// The host bytes an object of this shape takes, nested objects included.
    pub fn js_bytes(self) -> usize {
        let parts = self.parts();
        OBJECT_BYTES
            + props_bytes(parts.len())
            + parts
                .iter()
                .map(|p| match p {
                    Num(name, _) => name.len(),
                    Nested(name, s, _) => name.len() + s.js_bytes(),
                })
                .sum::<usize>()
    }

    /// A new object of this shape holding `numbers` (at least [`Shape::count`] of them).
    pub fn object(self, numbers: &[f64]) -> JsValue {
        let o = JsRef::new(Class::Typed(self));
        for part in self.parts() {
            match part {
                Num(name, i) => o.set(name, JsValue::Number(numbers[*i])),
                Nested(name, shape, at) => o.set(name, shape.object(&numbers[*at..])),
            }
        }
        JsValue::Object(o)
    }

    /// The shape's numbers read from the parts of `obj` (of any class: a plain `{x, y}` reads
    /// as well), the object at address `this` ([`JsRef::ptr`], locked by the caller); a missing
    /// part is 0.
    ///
    /// # Errors
    /// [`SelfContaining`] when a nested part is the object itself or one of the parts it sits
    /// in (its lock is held: taking it again froze the game).
    pub fn numbers(self, this: usize, obj: &JsObject) -> Result<Vec<f64>, SelfContaining> {
        let mut out = vec![0.0; self.count()];
        self.read_into(obj, &mut vec![this], &mut out)?;
        Ok(out)
    }

    fn read_into(
        self,
        obj: &JsObject,
        open: &mut Vec<usize>,
        out: &mut [f64],
    ) -> Result<(), SelfContaining> {
        for part in self.parts() {
            match part {
                Num(name, i) => out[*i] = obj.props.get(*name).map_or(0.0, number),
                Nested(name, shape, at) => {
                    if let Some(inner) = obj.props.get(*name).and_then(JsValue::as_object) {
                        if open.contains(&inner.ptr()) {
                            return Err(SelfContaining);
                        }
                        open.push(inner.ptr());
                        shape.read_into(&inner.0.lock(), open, &mut out[*at..])?;
                        open.pop();
                    }
                }
            }
        }
        Ok(())
    }

    /// The wire value of this shape made of `n` (in the shape's order, [`Shape::count`] numbers).
    pub fn to_wire(self, n: &[f64]) -> WireVariant {
        let f = |i: usize| n[i] as f32;
        let int = |i: usize| n[i].clamp(i32::MIN as f64, i32::MAX as f64) as i32;
        let fs = |count: usize| (0..count).map(f).collect::<Vec<f32>>();
        match self {
            Shape::Vector2 => WireVariant::Vector2(Vector2::new(f(0), f(1))),
            Shape::Vector3 => WireVariant::Vector3(Vector3::new(f(0), f(1), f(2))),
            Shape::Vector2i => WireVariant::Vector2i([int(0), int(1)]),
            Shape::Vector3i => WireVariant::Vector3i([int(0), int(1), int(2)]),
            Shape::Vector4 => WireVariant::Vector4([f(0), f(1), f(2), f(3)]),
            Shape::Vector4i => WireVariant::Vector4i([int(0), int(1), int(2), int(3)]),
            Shape::Quaternion => WireVariant::Quaternion([f(0), f(1), f(2), f(3)]),
            Shape::Color => WireVariant::Color(Color::rgba(f(0), f(1), f(2), f(3))),
            Shape::Plane => WireVariant::Plane([f(0), f(1), f(2), f(3)]),
            Shape::Rect2 => WireVariant::Rect2([f(0), f(1), f(2), f(3)]),
            Shape::Rect2i => WireVariant::Rect2i([int(0), int(1), int(2), int(3)]),
            Shape::Aabb => WireVariant::Aabb(fs(6).try_into().expect("6 numbers")),
            Shape::Transform2D => WireVariant::Transform2D(fs(6).try_into().expect("6 numbers")),
            // The wire's basis is by rows; the shape's by columns.
            Shape::Basis => WireVariant::Basis(transpose3(&fs(9))),
            Shape::Transform3D => {
                let rows = transpose3(&fs(9));
                let mut all = [0.0; 12];
                all[..9].copy_from_slice(&rows);
                all[9..].copy_from_slice(&[f(9), f(10), f(11)]);
                WireVariant::Transform3D(all)
            }
            Shape::Projection => WireVariant::Projection(fs(16).try_into().expect("16 numbers")),
        }
    }
}

fn number(v: &JsValue) -> f64 {
    match v {
        JsValue::Number(n) => *n,
        _ => 0.0,
    }
}

/// A 3x3 matrix of 9 numbers, rows for columns.
fn transpose3(m: &[f32]) -> [f32; 9] {
    let mut t = [0.0; 9];
    for r in 0..3 {
        for c in 0..3 {
            t[c * 3 + r] = m[r * 3 + c];
        }
    }
    t
}

fn wide(v: &[f32]) -> Vec<f64> {
    v.iter().map(|x| f64::from(*x)).collect()
}

fn wide_i(v: &[i32]) -> Vec<f64> {
    v.iter().map(|x| f64::from(*x)).collect()
}

/// A typed wire value as its shape and numbers; `None` for the other types.
fn shape_of(v: &WireVariant) -> Option<(Shape, Vec<f64>)> {
    use WireVariant as W;
    Some(match v {
        W::Vector2(p) => (Shape::Vector2, wide(&[p.x, p.y])),
        W::Vector3(p) => (Shape::Vector3, wide(&[p.x, p.y, p.z])),
        W::Vector2i(a) => (Shape::Vector2i, wide_i(a)),
        W::Vector3i(a) => (Shape::Vector3i, wide_i(a)),
        W::Vector4(a) => (Shape::Vector4, wide(a)),
        W::Vector4i(a) => (Shape::Vector4i, wide_i(a)),
        W::Quaternion(a) => (Shape::Quaternion, wide(a)),
        W::Color(c) => (Shape::Color, wide(&[c.r, c.g, c.b, c.a])),
        W::Plane(a) => (Shape::Plane, wide(a)),
        W::Rect2(a) => (Shape::Rect2, wide(a)),
        W::Rect2i(a) => (Shape::Rect2i, wide_i(a)),
        W::Aabb(a) => (Shape::Aabb, wide(a)),
        W::Transform2D(a) => (Shape::Transform2D, wide(a)),
        W::Basis(a) => (Shape::Basis, wide(&transpose3(a))),
        W::Transform3D(a) => {
            let mut n = wide(&transpose3(&a[..9]));
            n.extend(wide(&a[9..]));
            (Shape::Transform3D, n)
        }
        W::Projection(a) => (Shape::Projection, wide(a)),
        _ => return None,
    })
}

/// A typed or packed wire value as a JavaScript value (see the module docs); `None` for the
/// other types.
pub fn to_js(v: &WireVariant) -> Option<JsValue> {
    use WireVariant as W;
    if let Some((shape, numbers)) = shape_of(v) {
        return Some(shape.object(&numbers));
    }
    let numbers = |n: Vec<f64>| JsValue::array(n.into_iter().map(JsValue::Number).collect());
    Some(match v {
        W::PackedInt32Array(a) => numbers(a.iter().map(|x| f64::from(*x)).collect()),
        W::PackedInt64Array(a) => numbers(a.iter().map(|x| *x as f64).collect()),
        W::PackedFloat32Array(a) => numbers(wide(a)),
        W::PackedFloat64Array(a) => numbers(a.clone()),
        W::PackedStringArray(a) => JsValue::array(a.iter().map(|s| JsValue::str(s)).collect()),
        W::PackedVector2Array(a) => JsValue::array(
            a.iter()
                .map(|p| Shape::Vector2.object(&wide(&[p.x, p.y])))
                .collect(),
        ),
        W::PackedVector3Array(a) => JsValue::array(
            a.iter()
                .map(|p| Shape::Vector3.object(&wide(&[p.x, p.y, p.z])))
                .collect(),
        ),
        W::PackedColorArray(a) => JsValue::array(
            a.iter()
                .map(|c| Shape::Color.object(&wide(&[c.r, c.g, c.b, c.a])))
                .collect(),
        ),
        W::PackedVector4Array(a) => {
            JsValue::array(a.iter().map(|p| Shape::Vector4.object(&wide(p))).collect())
        }
        _ => return None,
    })
}

/// The host bytes [`to_js`] makes of a typed or packed value, about; `None` for the other types.
pub fn js_bytes(v: &WireVariant) -> Option<usize> {
    use WireVariant as W;
    if let Some((shape, _)) = shape_of(v) {
        return Some(shape.js_bytes());
    }
    let items = |count: usize, each: usize| OBJECT_BYTES + count.saturating_mul(each);
    Some(match v {
        W::PackedInt32Array(a) => items(a.len(), VALUE_BYTES),
        W::PackedInt64Array(a) => items(a.len(), VALUE_BYTES),
        W::PackedFloat32Array(a) => items(a.len(), VALUE_BYTES),
        W::PackedFloat64Array(a) => items(a.len(), VALUE_BYTES),
        W::PackedStringArray(a) => {
            OBJECT_BYTES + a.iter().map(|s| VALUE_BYTES + s.len()).sum::<usize>()
        }
        W::PackedVector2Array(a) => items(a.len(), VALUE_BYTES + Shape::Vector2.js_bytes()),
        W::PackedVector3Array(a) => items(a.len(), VALUE_BYTES + Shape::Vector3.js_bytes()),
        W::PackedColorArray(a) => items(a.len(), VALUE_BYTES + Shape::Color.js_bytes()),
        W::PackedVector4Array(a) => items(a.len(), VALUE_BYTES + Shape::Vector4.js_bytes()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: WireVariant) {
        let js = to_js(&v).expect("a typed value");
        let obj = js.as_object().expect("an object");
        let Class::Typed(shape) = obj.0.lock().class else {
            panic!("not typed: {v:?}");
        };
        let numbers = shape.numbers(obj.ptr(), &obj.0.lock()).unwrap();
        assert_eq!(shape.to_wire(&numbers), v);
    }

    #[test]
    fn every_typed_value_comes_back_as_itself() {
        use WireVariant as W;
        round_trip(W::Vector2(Vector2::new(1.5, -2.0)));
        round_trip(W::Vector3(Vector3::new(1.0, 2.0, 3.0)));
        round_trip(W::Vector2i([7, -8]));
        round_trip(W::Vector3i([i32::MAX, i32::MIN, 0]));
        round_trip(W::Vector4([1.0, 2.0, 3.0, 4.0]));
        round_trip(W::Vector4i([1, 2, 3, 4]));
        round_trip(W::Quaternion([0.0, 0.0, 0.0, 1.0]));
        round_trip(W::Color(Color::rgba(1.0, 0.5, 0.25, 0.75)));
        round_trip(W::Plane([0.0, 1.0, 0.0, 5.0]));
        round_trip(W::Rect2([1.0, 2.0, 3.0, 4.0]));
        round_trip(W::Rect2i([1, 2, 3, 4]));
        round_trip(W::Aabb([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        round_trip(W::Transform2D([0.0, 1.0, -1.0, 0.0, 1.0, 2.0]));
        round_trip(W::Basis([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]));
        round_trip(W::Transform3D([
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
        ]));
        round_trip(W::Projection(std::array::from_fn(|i| i as f32)));
    }

    #[test]
    fn parts_have_gdscript_names_and_a_basis_is_read_by_columns() {
        // Rows (1 2 3), (4 5 6), (7 8 9): the first column is (1, 4, 7).
        let basis = to_js(&WireVariant::Basis([
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0,
        ]))
        .unwrap();
        let x = basis.as_object().unwrap().get_own("x");
        let x = x.as_object().unwrap();
        assert_eq!(
            ["x", "y", "z"].map(|k| x.get_own(k).to_number()),
            [1.0, 4.0, 7.0]
        );
        let rect = to_js(&WireVariant::Rect2([1.0, 2.0, 3.0, 4.0])).unwrap();
        let size = rect.as_object().unwrap().get_own("size");
        assert_eq!(size.as_object().unwrap().get_own("y").to_number(), 4.0);
        let color = to_js(&WireVariant::Color(Color::rgba(0.1, 0.2, 0.3, 0.4))).unwrap();
        assert!((color.as_object().unwrap().get_own("b").to_number() - 0.3).abs() < 1e-6);
    }

    #[test]
    fn changed_missing_and_out_of_range_parts() {
        let js = to_js(&WireVariant::Vector2i([1, 2])).unwrap();
        let o = js.as_object().unwrap();
        o.set("x", JsValue::Number(1e12));
        o.set("y", JsValue::str("not a number"));
        let numbers = Shape::Vector2i.numbers(o.ptr(), &o.0.lock()).unwrap();
        assert_eq!(
            Shape::Vector2i.to_wire(&numbers),
            WireVariant::Vector2i([i32::MAX, 0])
        );
        // A nested part that is not an object reads as zeros.
        let t = to_js(&WireVariant::Transform2D([1.0; 6])).unwrap();
        let t = t.as_object().unwrap();
        t.set("origin", JsValue::Null);
        let numbers = Shape::Transform2D.numbers(t.ptr(), &t.0.lock()).unwrap();
        assert_eq!(
            Shape::Transform2D.to_wire(&numbers),
            WireVariant::Transform2D([1.0, 1.0, 1.0, 1.0, 0.0, 0.0])
        );
    }

    #[test]
    fn a_typed_object_holding_itself_is_refused_not_locked_twice() {
        let t = to_js(&WireVariant::Transform2D([1.0; 6])).unwrap();
        let t = t.as_object().unwrap();
        t.set("x", JsValue::Object(t.clone()));
        assert_eq!(
            Shape::Transform2D.numbers(t.ptr(), &t.0.lock()),
            Err(SelfContaining)
        );
        // Deeper: a basis column that is the basis itself.
        let t3 = to_js(&WireVariant::Transform3D([1.0; 12])).unwrap();
        let t3 = t3.as_object().unwrap();
        let basis = t3.get_own("basis");
        basis.as_object().unwrap().set("x", basis.clone());
        assert_eq!(
            Shape::Transform3D.numbers(t3.ptr(), &t3.0.lock()),
            Err(SelfContaining)
        );
        // The same part object used twice, side by side, is no cycle.
        let r = to_js(&WireVariant::Rect2([1.0, 2.0, 3.0, 4.0])).unwrap();
        let r = r.as_object().unwrap();
        r.set("size", r.get_own("position"));
        assert_eq!(
            Shape::Rect2.numbers(r.ptr(), &r.0.lock()),
            Ok(vec![1.0, 2.0, 1.0, 2.0])
        );
    }

    #[test]
    fn packed_arrays_become_arrays() {
        let js = to_js(&WireVariant::PackedInt32Array(vec![1, -2])).unwrap();
        let obj = js.as_object().unwrap();
        let Class::Array(items) = &obj.0.lock().class else {
            panic!("not an array");
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].to_number(), -2.0);
        assert!(to_js(&WireVariant::Int(1)).is_none());
        assert!(
            js_bytes(&WireVariant::PackedVector2Array(vec![
                Vector2::new(0.0, 0.0);
                10
            ]))
            .unwrap()
                > 10 * OBJECT_BYTES
        );
    }
}
