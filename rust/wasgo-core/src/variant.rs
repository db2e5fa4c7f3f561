//! Godot Variants on the wire: the byte format mods read and write.
//!
//! The codec is the `wasgo-variant` crate, shared with the Rust mod SDK so both sides of the mod
//! boundary read and write the same bytes from one implementation. Values cross in Godot's own
//! binary serialization format (what `var_to_bytes` produces) with one difference: an Object is
//! written as type 24 with header flag `1 << 16` followed by a u64 holding the mod's *handle*,
//! never an engine object id. Callables, Signals, RIDs and full objects are refused. The layout is
//! documented in `docs/variant-encoding.md`.

/// The host calls the shared `Variant` type `WireVariant`, to keep it apart from Godot's.
pub use wasgo_variant::Variant as WireVariant;
pub use wasgo_variant::{Color, DecodeError, Vector2, Vector3, MAX_DEPTH, MAX_ELEMENTS};

use crate::allowlist::RangeValue;

/// The value as a number, if it is one (int or float).
pub fn as_f64(v: &WireVariant) -> Option<f64> {
    match v {
        WireVariant::Int(i) => Some(*i as f64),
        WireVariant::Float(f) => Some(*f),
        _ => None,
    }
}

/// About how many bytes keeping `v` takes (each value's own size, plus the contents of its
/// strings and packed arrays and of what it holds): for bounds on values the game keeps for a
/// mod (its queued `mod_event` payloads).
pub fn held_bytes(v: &WireVariant) -> usize {
    use std::mem::size_of;
    let contents = match v {
        WireVariant::String(s) | WireVariant::StringName(s) | WireVariant::NodePath(s) => s.len(),
        WireVariant::Array(items) => items
            .iter()
            .fold(0usize, |n, item| n.saturating_add(held_bytes(item))),
        WireVariant::Dictionary(pairs) => pairs.iter().fold(0usize, |n, (k, v)| {
            n.saturating_add(held_bytes(k))
                .saturating_add(held_bytes(v))
        }),
        WireVariant::PackedByteArray(a) => a.len(),
        WireVariant::PackedInt32Array(a) => a.len() * 4,
        WireVariant::PackedInt64Array(a) => a.len() * 8,
        WireVariant::PackedFloat32Array(a) => a.len() * 4,
        WireVariant::PackedFloat64Array(a) => a.len() * 8,
        WireVariant::PackedStringArray(a) => a.iter().fold(0usize, |n, s| {
            n.saturating_add(s.len() + size_of::<String>())
        }),
        WireVariant::PackedVector2Array(a) => a.len() * size_of::<Vector2>(),
        WireVariant::PackedVector3Array(a) => a.len() * size_of::<Vector3>(),
        WireVariant::PackedColorArray(a) => a.len() * size_of::<Color>(),
        WireVariant::PackedVector4Array(a) => a.len() * 16,
        _ => 0,
    };
    size_of::<WireVariant>().saturating_add(contents)
}

/// Whether `v` is a text (a String, StringName or NodePath).
pub fn is_text(v: &WireVariant) -> bool {
    matches!(
        v,
        WireVariant::String(_) | WireVariant::StringName(_) | WireVariant::NodePath(_)
    )
}

/// Whether `v` is an array, a packed array or a dictionary: a value that Godot, asked for a text
/// (a release build converts an argument to its parameter's type without checking it), turns
/// into the text of all its elements, however few they are (`[[bytes of 60 MiB]]` is one
/// element and 180 million characters).
pub fn is_container(v: &WireVariant) -> bool {
    matches!(v, WireVariant::Dictionary(_))
        || (!is_text(v) && matches!(range_value(v), RangeValue::Size(_)))
}

/// A value as an allowlist range sees it (`allowlist::ValueRange::check`): an int, a float or
/// a bool is a number; a text's size is its length in characters, an array's (or packed
/// array's) its element count; anything else is neither.
pub fn range_value(v: &WireVariant) -> RangeValue {
    let len = match v {
        WireVariant::Int(i) => return RangeValue::Number(*i as f64),
        WireVariant::Float(f) => return RangeValue::Number(*f),
        WireVariant::Bool(b) => return RangeValue::Number(f64::from(u8::from(*b))),
        WireVariant::String(s) | WireVariant::StringName(s) | WireVariant::NodePath(s) => {
            s.chars().count()
        }
        WireVariant::Array(a) => a.len(),
        WireVariant::PackedByteArray(a) => a.len(),
        WireVariant::PackedInt32Array(a) => a.len(),
        WireVariant::PackedInt64Array(a) => a.len(),
        WireVariant::PackedFloat32Array(a) => a.len(),
        WireVariant::PackedFloat64Array(a) => a.len(),
        WireVariant::PackedStringArray(a) => a.len(),
        WireVariant::PackedVector2Array(a) => a.len(),
        WireVariant::PackedVector3Array(a) => a.len(),
        WireVariant::PackedColorArray(a) => a.len(),
        WireVariant::PackedVector4Array(a) => a.len(),
        _ => return RangeValue::Other,
    };
    RangeValue::Size(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use WireVariant as V;

    #[test]
    fn containers_are_arrays_packed_arrays_and_dictionaries() {
        for v in [
            V::Array(vec![]),
            V::Dictionary(vec![]),
            V::PackedByteArray(vec![1]),
            V::PackedStringArray(vec![]),
            V::PackedVector4Array(vec![]),
        ] {
            assert!(is_container(&v), "{v:?}");
        }
        for v in [
            V::Nil,
            V::Int(1),
            V::Float(1.0),
            V::String("x".into()),
            V::StringName("x".into()),
            V::NodePath("x".into()),
            V::Object(1),
            V::Vector2(Default::default()),
        ] {
            assert!(!is_container(&v), "{v:?}");
        }
    }

    #[test]
    fn held_bytes_count_contents_at_any_depth() {
        let base = std::mem::size_of::<WireVariant>();
        assert_eq!(held_bytes(&V::Int(7)), base);
        assert_eq!(held_bytes(&V::PackedByteArray(vec![0; 1000])), base + 1000);
        let nested = V::Array(vec![V::Dictionary(vec![(
            V::String("k".into()),
            V::PackedFloat64Array(vec![0.0; 10]),
        )])]);
        assert_eq!(held_bytes(&nested), 4 * base + 1 + 80);
    }

    #[test]
    fn a_range_sees_numbers_and_the_sizes_of_arrays_and_texts() {
        use crate::allowlist::RangeValue as R;
        assert_eq!(range_value(&V::Int(7)), R::Number(7.0));
        assert_eq!(range_value(&V::Float(-0.5)), R::Number(-0.5));
        assert_eq!(range_value(&V::Bool(true)), R::Number(1.0));
        assert_eq!(
            range_value(&V::String("2147483647".into())),
            R::Size(10),
            "a text is a size, never a number"
        );
        assert_eq!(range_value(&V::String("héllo".into())), R::Size(5));
        assert_eq!(
            range_value(&V::PackedVector2Array(vec![Vector2::new(0.0, 0.0); 3])),
            R::Size(3)
        );
        assert_eq!(range_value(&V::Array(vec![V::Nil; 2])), R::Size(2));
        assert_eq!(range_value(&V::Vector2(Vector2::new(1.0, 2.0))), R::Other);
        assert_eq!(range_value(&V::Nil), R::Other);
    }

    #[test]
    fn matches_godot_var_to_bytes_for_simple_values() {
        // Byte strings produced by Godot 4's var_to_bytes.
        assert_eq!(V::Int(5).encode(), [2, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(
            V::Int(1 << 40).encode(),
            [2, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]
        );
        assert_eq!(V::Float(0.5).encode(), [3, 0, 0, 0, 0, 0, 0, 63]);
        assert_eq!(
            V::String("hi".into()).encode(),
            [4, 0, 0, 0, 2, 0, 0, 0, b'h', b'i', 0, 0]
        );
        assert_eq!(V::Bool(true).encode(), [1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(
            V::Vector2(Vector2::new(1.0, 2.0)).encode()[..4],
            [5, 0, 0, 0]
        );
        assert_eq!(V::Object(3).encode(), [24, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            V::PackedStringArray(vec!["ab".into()]).encode(),
            [34, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, b'a', b'b', 0, 0]
        );
    }

    #[test]
    fn everything_round_trips() {
        let v = V::Dictionary(vec![
            (
                V::String("pos".into()),
                V::Vector3(Vector3::new(1.0, 2.5, -3.0)),
            ),
            (
                V::StringName("n".into()),
                V::Array(vec![
                    V::Nil,
                    V::Int(-7),
                    V::Float(0.1),
                    V::Object(0),
                    V::Color(Color::rgba(1.0, 0.0, 0.5, 1.0)),
                ]),
            ),
            (V::Int(2), V::NodePath("/a/b:x".into())),
            (V::Bool(false), V::PackedByteArray(vec![1, 2, 3])),
            (
                V::Nil,
                V::PackedStringArray(vec!["".into(), "hello".into()]),
            ),
            (
                V::Float(2.0),
                V::PackedVector2Array(vec![Vector2::new(1.0, 2.0)]),
            ),
            (V::Int(i64::MIN), V::Transform3D([0.5; 12])),
        ]);
        assert_eq!(V::decode(&v.encode()).unwrap(), v);
    }

    #[test]
    fn hostile_bytes_are_refused_not_trusted() {
        assert!(V::decode(&[]).is_err());
        assert!(
            V::decode(&[28, 0, 0, 0, 255, 255, 255, 127]).is_err(),
            "huge array count"
        );
        assert!(V::decode(&[25, 0, 0, 0])
            .unwrap_err()
            .to_string()
            .contains("Callable"));
        assert!(
            V::decode(&[24, 0, 0, 0, 4, 0, 0, 0, b'N', b'o', b'd', b'e']).is_err(),
            "full objects are refused"
        );
        assert_eq!(
            V::decode(&[24, 0, 0, 0, 0, 0, 0, 0]).unwrap(),
            V::Object(0),
            "a null object (empty class) is null"
        );
        assert!(
            V::decode(&[4, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xfe, 0, 0]).is_err(),
            "bad UTF-8"
        );
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(&[28, 0, 0, 0, 1, 0, 0, 0]);
        }
        deep.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(V::decode(&deep).unwrap_err(), DecodeError::TooDeep);
        assert!(
            V::decode(&[2, 0, 0, 0, 1, 0, 0, 0, 9]).is_err(),
            "trailing bytes"
        );
    }
}
