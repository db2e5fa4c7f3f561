//! The Variant codec: decoding arbitrary bytes never panics and stays within the input's size;
//! every decoded value and every generated value round-trips through encode and decode.

use super::harness::run;
use arbitrary::{Result, Unstructured};
use wasgo_core::variant::{Color, Vector2, Vector3};
use wasgo_core::WireVariant as V;

/// Values a decoded value holds (each consumed at least one byte of input).
fn size(v: &V) -> usize {
    1 + match v {
        V::Array(items) => items.iter().map(size).sum(),
        V::Dictionary(entries) => entries.iter().map(|(k, v)| size(k) + size(v)).sum(),
        V::PackedByteArray(b) => b.len(),
        V::PackedInt32Array(b) => b.len(),
        V::PackedInt64Array(b) => b.len(),
        V::PackedFloat32Array(b) => b.len(),
        V::PackedFloat64Array(b) => b.len(),
        V::PackedStringArray(b) => b.len(),
        V::PackedVector2Array(b) => b.len(),
        V::PackedVector3Array(b) => b.len(),
        V::PackedColorArray(b) => b.len(),
        V::PackedVector4Array(b) => b.len(),
        _ => 0,
    }
}

/// `decode(encode(v))` is `v` (bit for bit, through a second encoding when NaNs are involved).
fn assert_round_trips(v: &V) {
    let bytes = v.encode();
    let back = V::decode(&bytes).unwrap_or_else(|e| panic!("{v:?} does not decode back: {e}"));
    assert_eq!(back.encode(), bytes, "re-encoding {v:?}");
    #[allow(clippy::eq_op)]
    let has_nan = v != v;
    if !has_nan {
        assert_eq!(&back, v);
    }
    let _ = back.check_engine_safe();
}

#[test]
fn variant_decode() {
    run("variant_decode", 20_000, 512, |u| {
        // Half the cases start with a plausible header, so decoding gets past the first byte.
        let mut bytes = Vec::new();
        if u.arbitrary::<bool>().unwrap_or(false) {
            let ty = u.int_in_range(0u32..=40).unwrap_or(0);
            let flags = *u
                .choose(&[0u32, 1 << 16, 2 << 16, 3 << 16, 1 << 18])
                .unwrap_or(&0);
            bytes.extend_from_slice(&(ty | flags).to_le_bytes());
        }
        let rest = u.len();
        bytes.extend_from_slice(u.bytes(rest).unwrap_or(&[]));
        if let Ok(v) = V::decode(&bytes) {
            assert!(
                size(&v) <= bytes.len(),
                "{} bytes decoded to {} values",
                bytes.len(),
                size(&v)
            );
            assert_round_trips(&v);
        }
    });
}

fn f32s<const N: usize>(u: &mut Unstructured<'_>) -> Result<[f32; N]> {
    let mut out = [0.0; N];
    for slot in &mut out {
        *slot = u.arbitrary()?;
    }
    Ok(out)
}

fn node_path(u: &mut Unstructured<'_>) -> Result<String> {
    let name = |u: &mut Unstructured<'_>| -> Result<String> {
        let n = u.int_in_range(1..=6)?;
        (0..n)
            .map(|_| u.choose(b"abcXYZ019_.-").map(|c| *c as char))
            .collect()
    };
    let mut path = String::new();
    if u.arbitrary()? {
        path.push('/');
    }
    let names = u.int_in_range(0..=3)?;
    for i in 0..names {
        if i > 0 {
            path.push('/');
        }
        path.push_str(&name(u)?);
    }
    for _ in 0..u.int_in_range(0..=2)? {
        path.push(':');
        path.push_str(&name(u)?);
    }
    Ok(path)
}

fn value(u: &mut Unstructured<'_>, depth: u32) -> Result<V> {
    let kinds = if depth >= 4 { 36 } else { 38 };
    Ok(match u.int_in_range(0..=kinds)? {
        0 => V::Nil,
        1 => V::Bool(u.arbitrary()?),
        2 => V::Int(u.arbitrary()?),
        3 => V::Float(u.arbitrary()?),
        4 => V::String(u.arbitrary()?),
        5 => V::Vector2(Vector2::new(u.arbitrary()?, u.arbitrary()?)),
        6 => V::Vector2i(u.arbitrary()?),
        7 => V::Rect2(f32s(u)?),
        8 => V::Rect2i(u.arbitrary()?),
        9 => V::Vector3(Vector3::new(u.arbitrary()?, u.arbitrary()?, u.arbitrary()?)),
        10 => V::Vector3i(u.arbitrary()?),
        11 => V::Transform2D(f32s(u)?),
        12 => V::Vector4(f32s(u)?),
        13 => V::Vector4i(u.arbitrary()?),
        14 => V::Plane(f32s(u)?),
        15 => V::Quaternion(f32s(u)?),
        16 => V::Aabb(f32s(u)?),
        17 => V::Basis(f32s(u)?),
        18 => V::Transform3D(f32s(u)?),
        19 => V::Projection(f32s(u)?),
        20 => V::Color(Color::rgba(
            u.arbitrary()?,
            u.arbitrary()?,
            u.arbitrary()?,
            u.arbitrary()?,
        )),
        21 => V::StringName(u.arbitrary()?),
        22 => V::NodePath(node_path(u)?),
        23 => V::Object(u.arbitrary()?),
        24 => V::PackedByteArray(u.arbitrary()?),
        25 => V::PackedInt32Array(u.arbitrary()?),
        26 => V::PackedInt64Array(u.arbitrary()?),
        27 => V::PackedFloat32Array(u.arbitrary()?),
        28 => V::PackedFloat64Array(u.arbitrary()?),
        29 => V::PackedStringArray(u.arbitrary()?),
        30 => {
            let n = u.int_in_range(0..=4)?;
            V::PackedVector2Array(
                (0..n)
                    .map(|_| Ok(Vector2::new(u.arbitrary()?, u.arbitrary()?)))
                    .collect::<Result<_>>()?,
            )
        }
        31 => {
            let n = u.int_in_range(0..=4)?;
            V::PackedVector3Array(
                (0..n)
                    .map(|_| Ok(Vector3::new(u.arbitrary()?, u.arbitrary()?, u.arbitrary()?)))
                    .collect::<Result<_>>()?,
            )
        }
        32 => {
            let n = u.int_in_range(0..=4)?;
            V::PackedColorArray(
                (0..n)
                    .map(|_| {
                        Ok(Color::rgba(
                            u.arbitrary()?,
                            u.arbitrary()?,
                            u.arbitrary()?,
                            u.arbitrary()?,
                        ))
                    })
                    .collect::<Result<_>>()?,
            )
        }
        33 | 34 => V::PackedVector4Array(
            (0..u.int_in_range(0..=3)?)
                .map(|_| f32s(u))
                .collect::<Result<_>>()?,
        ),
        35 | 36 => V::Float(f32::from_bits(u.arbitrary()?) as f64),
        37 => V::Array(
            (0..u.int_in_range(0..=4)?)
                .map(|_| value(u, depth + 1))
                .collect::<Result<_>>()?,
        ),
        _ => V::Dictionary(
            (0..u.int_in_range(0..=3)?)
                .map(|_| Ok((value(u, depth + 1)?, value(u, depth + 1)?)))
                .collect::<Result<_>>()?,
        ),
    })
}

#[test]
fn variant_round_trip() {
    run("variant_round_trip", 20_000, 1024, |u| {
        if let Ok(v) = value(u, 0) {
            assert_round_trips(&v);
        }
    });
}
