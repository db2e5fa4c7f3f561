//! Whether a decoded Variant is safe to build in the engine.
//!
//! Decoding checks the bytes; this checks the values, before the host builds Godot objects from
//! them. Godot's math types accept almost anything, but a few values are not a value of the
//! type at all and make engine code assert or divide by zero: a Plane whose normal has no
//! length, and math structures (Plane, Quaternion, Rect2, AABB, Transform2D, Basis,
//! Transform3D, Projection) holding NaN or infinity. Those are refused, as are containers with
//! more than [`MAX_ELEMENTS`] elements in all, Dictionaries past [`MAX_DICTIONARY_WORK`] and
//! texts over [`MAX_TEXT_BYTES`]. Plain numbers, vectors, colors and packed arrays
//! may hold NaN and infinity, as in GDScript. A Plane whose normal is not of unit length is
//! accepted (GDScript allows it); the host builds it without the asserting constructor.

use crate::Variant;
use core::fmt;

/// The most Array elements, Dictionary entries and PackedStringArray strings one value may hold,
/// counted through every level of nesting (the other packed arrays are not counted: they are
/// flat and sized by their bytes).
pub const MAX_ELEMENTS: usize = 1 << 20;

/// Bounds the Dictionaries of one value: the squares of their entry counts add up to at most
/// this (one Dictionary of 2048 entries, 64 of 256, ...). Godot hashes keys without a secret,
/// so a mod can choose keys that all land in one bucket, and building a Dictionary of `n` such
/// keys takes time growing with `n`²: 40,000 int keys froze the main thread for 6.3 s.
pub const MAX_DICTIONARY_WORK: usize = 1 << 22;

/// The most interned names one value may hold: its StringName values and the names of its
/// NodePath values (each of a path's `/` and `:` parts is one), at any depth. Godot keeps every
/// name in one global table keyed by a hash without a secret (djb2): a mod can choose names
/// that all land in one chain, and making `n` of them walks the chain `n`²/2 times under the
/// table's global lock (131,072 names, 5.8 MB, would take minutes).
pub const MAX_NAMES: usize = 2048;

/// The most bytes of a StringName or NodePath inside an Array or Dictionary: the 4096 bytes of
/// the names and paths a mod passes as values themselves (WasGo's README, "Names and paths").
pub const MAX_NESTED_NAME_BYTES: usize = 4096;

/// The most bytes one String, StringName or NodePath (or an element of a PackedStringArray) may
/// hold: Godot keeps text at 4 bytes a character wherever it is set, on any object a mod can
/// reach.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Why a decoded value may not be built in the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineRefusal {
    /// A Plane whose normal is (0, 0, 0).
    ZeroPlaneNormal,
    /// A math structure with a NaN or infinite component; names the Variant type.
    NonFinite(&'static str),
    /// More than [`MAX_ELEMENTS`] container elements.
    TooManyElements,
    /// Dictionaries past [`MAX_DICTIONARY_WORK`]; the entries of the one that passed it.
    DictionaryTooLarge(usize),
    /// A text of this many bytes, over [`MAX_TEXT_BYTES`].
    TextTooLong(usize),
    /// More than [`MAX_NAMES`] names in all.
    TooManyNames,
    /// A StringName or NodePath of this many bytes inside a container, over
    /// [`MAX_NESTED_NAME_BYTES`].
    NestedNameTooLong(usize),
}

impl fmt::Display for EngineRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineRefusal::ZeroPlaneNormal => {
                f.write_str("a `Plane` needs a non-zero normal (give a unit normal)")
            }
            EngineRefusal::NonFinite(ty) => {
                write!(f, "a `{ty}` may not hold NaN or infinite components")
            }
            EngineRefusal::TooManyElements => write!(
                f,
                "the value holds more than {MAX_ELEMENTS} Array elements and Dictionary entries in all"
            ),
            EngineRefusal::DictionaryTooLarge(n) => write!(
                f,
                "the value's Dictionaries are too large (one of {n} entries passed the bound: one Dictionary may hold 2048 entries, and the squares of all their sizes add up to at most {MAX_DICTIONARY_WORK}); send an Array of pairs, or split it"
            ),
            EngineRefusal::TooManyNames => write!(
                f,
                "the value holds more than {MAX_NAMES} names (StringName values and NodePath parts) in all: Godot keeps every name in one table for the whole game; send Strings instead"
            ),
            EngineRefusal::NestedNameTooLong(n) => write!(
                f,
                "a StringName or NodePath of {n} bytes inside an Array or Dictionary is over the {MAX_NESTED_NAME_BYTES}-byte limit for names and paths"
            ),
            EngineRefusal::TextTooLong(n) => write!(
                f,
                "a text of {n} bytes is over the {MAX_TEXT_BYTES}-byte limit for one String, StringName or NodePath"
            ),
        }
    }
}

fn finite(ty: &'static str, components: &[f32]) -> Result<(), EngineRefusal> {
    if components.iter().all(|c| c.is_finite()) {
        Ok(())
    } else {
        Err(EngineRefusal::NonFinite(ty))
    }
}

impl Variant {
    /// Checks that the engine can hold this value without asserting (see the module docs).
    ///
    /// # Errors
    /// The first [`EngineRefusal`] found.
    pub fn check_engine_safe(&self) -> Result<(), EngineRefusal> {
        Variant::check_all_engine_safe(core::slice::from_ref(self))
    }

    /// [`Variant::check_engine_safe`] of several values given to the engine together (the
    /// arguments of one call): the bounds on elements, Dictionaries and names hold for all of
    /// them at once (each argument checked on its own had its own, and a call of 64 arguments
    /// made 64 times the names one value may hold).
    ///
    /// # Errors
    /// The first [`EngineRefusal`] found.
    pub fn check_all_engine_safe(values: &[Variant]) -> Result<(), EngineRefusal> {
        let mut elements = 0usize;
        let mut dictionary_work = 0usize;
        let mut names = 0usize;
        let text = |t: &str| match t.len() {
            n if n > MAX_TEXT_BYTES => Err(EngineRefusal::TextTooLong(n)),
            _ => Ok(()),
        };
        // An explicit stack: the depth is capped by decoding, but a value built in code is not.
        let mut pending: alloc::vec::Vec<&Variant> = values.iter().collect();
        let is_root = |v: &Variant| values.iter().any(|root| core::ptr::eq(v, root));
        while let Some(v) = pending.pop() {
            match v {
                Variant::Plane(p) => {
                    finite("Plane", p)?;
                    if p[0] == 0.0 && p[1] == 0.0 && p[2] == 0.0 {
                        return Err(EngineRefusal::ZeroPlaneNormal);
                    }
                }
                Variant::Quaternion(c) => finite("Quaternion", c)?,
                Variant::Rect2(c) => finite("Rect2", c)?,
                Variant::Aabb(c) => finite("AABB", c)?,
                Variant::Transform2D(c) => finite("Transform2D", c)?,
                Variant::Basis(c) => finite("Basis", c)?,
                Variant::Transform3D(c) => finite("Transform3D", c)?,
                Variant::Projection(c) => finite("Projection", c)?,
                Variant::Array(items) => {
                    elements = elements.saturating_add(items.len());
                    if elements > MAX_ELEMENTS {
                        return Err(EngineRefusal::TooManyElements);
                    }
                    pending.extend(items.iter());
                }
                Variant::String(t) => text(t)?,
                Variant::StringName(t) | Variant::NodePath(t) => {
                    text(t)?;
                    if t.len() > MAX_NESTED_NAME_BYTES && !is_root(v) {
                        return Err(EngineRefusal::NestedNameTooLong(t.len()));
                    }
                    let parts = match v {
                        Variant::NodePath(_) => 1 + t.matches(['/', ':']).count(),
                        _ => 1,
                    };
                    names = names.saturating_add(parts);
                    if names > MAX_NAMES {
                        return Err(EngineRefusal::TooManyNames);
                    }
                }
                Variant::PackedStringArray(items) => items.iter().try_for_each(|t| text(t))?,
                Variant::Dictionary(entries) => {
                    elements = elements.saturating_add(entries.len());
                    if elements > MAX_ELEMENTS {
                        return Err(EngineRefusal::TooManyElements);
                    }
                    // Keys whose hashes collide are compared whole: the work grows with
                    // the keys' sizes too (2048 keys of 16 KiB each, one hash, took
                    // 3.4e10 character compares).
                    let keys = entries
                        .iter()
                        .fold(0usize, |sum, (k, _)| sum.saturating_add(key_cost(k)));
                    let work = entries.len().saturating_mul(keys);
                    dictionary_work = dictionary_work.saturating_add(work);
                    if dictionary_work > MAX_DICTIONARY_WORK {
                        return Err(EngineRefusal::DictionaryTooLarge(entries.len()));
                    }
                    for (k, v) in entries {
                        pending.push(k);
                        pending.push(v);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// What comparing `key` with another Dictionary key of the same hash may cost, in units of one
/// int key's compare: 1, and 1 more per 64 bytes of text or packed data and per element, at any
/// depth (Godot compares containers element by element).
fn key_cost(key: &Variant) -> usize {
    let mut cost = 0usize;
    let mut pending: alloc::vec::Vec<&Variant> = alloc::vec![key];
    while let Some(v) = pending.pop() {
        let bytes = match v {
            Variant::String(t) | Variant::StringName(t) | Variant::NodePath(t) => t.len(),
            Variant::PackedStringArray(items) => items.iter().map(|t| t.len() + 64).sum(),
            Variant::PackedByteArray(b) => b.len(),
            Variant::PackedInt32Array(b) => b.len() * 4,
            Variant::PackedInt64Array(b) => b.len() * 8,
            Variant::PackedFloat32Array(b) => b.len() * 4,
            Variant::PackedFloat64Array(b) => b.len() * 8,
            Variant::PackedVector2Array(b) => b.len() * 8,
            Variant::PackedVector3Array(b) => b.len() * 12,
            Variant::PackedColorArray(b) => b.len() * 16,
            Variant::PackedVector4Array(b) => b.len() * 16,
            Variant::Array(items) => {
                pending.extend(items.iter());
                0
            }
            Variant::Dictionary(entries) => {
                for (k, v) in entries {
                    pending.push(k);
                    pending.push(v);
                }
                0
            }
            _ => 0,
        };
        cost = cost.saturating_add(1 + bytes / 64);
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn dictionaries_are_bounded_by_the_squares_of_their_sizes_and_texts_by_length() {
        let dict = |n: usize| {
            Variant::Dictionary(
                (0..n)
                    .map(|i| (Variant::Int(i as i64), Variant::Nil))
                    .collect(),
            )
        };
        assert_eq!(dict(2048).check_engine_safe(), Ok(()));
        assert_eq!(
            dict(2049).check_engine_safe(),
            Err(EngineRefusal::DictionaryTooLarge(2049))
        );
        assert_eq!(
            Variant::Array(vec![dict(256); 64]).check_engine_safe(),
            Ok(())
        );
        assert_eq!(
            Variant::Array(vec![dict(256); 65]).check_engine_safe(),
            Err(EngineRefusal::DictionaryTooLarge(256))
        );
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(
            Variant::String("x".repeat(MAX_TEXT_BYTES)).check_engine_safe(),
            Ok(())
        );
        for v in [
            Variant::String(long.clone()),
            Variant::StringName(long.clone()),
            Variant::PackedStringArray(vec![long.clone()]),
            Variant::Array(vec![Variant::NodePath(long.clone())]),
        ] {
            assert_eq!(
                v.check_engine_safe(),
                Err(EngineRefusal::TextTooLong(MAX_TEXT_BYTES + 1))
            );
        }
    }

    #[test]
    fn a_plane_without_a_normal_is_refused() {
        assert_eq!(
            Variant::Plane([0.0, 0.0, 0.0, 1.0]).check_engine_safe(),
            Err(EngineRefusal::ZeroPlaneNormal)
        );
        assert_eq!(
            Variant::Plane([0.0, 2.0, 0.0, 1.0]).check_engine_safe(),
            Ok(()),
            "a normal of any non-zero length is legal, as in GDScript"
        );
    }

    #[test]
    fn nan_in_math_structures_is_refused_even_when_nested() {
        let nan = Variant::Quaternion([0.0, f32::NAN, 0.0, 1.0]);
        let nested = Variant::Array(vec![Variant::Dictionary(vec![(Variant::Nil, nan)])]);
        assert_eq!(
            nested.check_engine_safe(),
            Err(EngineRefusal::NonFinite("Quaternion"))
        );
        assert_eq!(
            Variant::Basis([f32::INFINITY; 9]).check_engine_safe(),
            Err(EngineRefusal::NonFinite("Basis"))
        );
        assert_eq!(Variant::Float(f64::NAN).check_engine_safe(), Ok(()));
        assert_eq!(
            Variant::Vector2(crate::Vector2::new(f32::NAN, 0.0)).check_engine_safe(),
            Ok(())
        );
    }

    /// Names all land in Godot's one global table: 2^k names of k djb2-colliding blocks share
    /// one chain. Nested names keep the 4096-byte limit of names passed as values.
    #[test]
    fn names_are_bounded_in_number_and_nested_ones_in_length() {
        use alloc::string::String;
        let colliding = |n: usize| -> alloc::vec::Vec<String> {
            (0..n)
                .map(|i| {
                    (0..12)
                        .map(|b| if (i >> b) & 1 == 1 { "BA" } else { "Ab" })
                        .collect()
                })
                .collect()
        };
        let names =
            |n: usize| Variant::Array(colliding(n).into_iter().map(Variant::StringName).collect());
        assert_eq!(names(MAX_NAMES).check_engine_safe(), Ok(()));
        assert_eq!(
            names(MAX_NAMES + 1).check_engine_safe(),
            Err(EngineRefusal::TooManyNames)
        );
        // A path's parts count one each; Strings are not names.
        let paths = Variant::Array(vec![Variant::NodePath("a/b:c".into()); MAX_NAMES / 3 + 1]);
        assert_eq!(paths.check_engine_safe(), Err(EngineRefusal::TooManyNames));
        let texts = Variant::Array(colliding(4096).into_iter().map(Variant::String).collect());
        assert_eq!(texts.check_engine_safe(), Ok(()));
        // Length: the value itself may be a long name (its caller's rule), nested ones not.
        let long = "n".repeat(MAX_NESTED_NAME_BYTES + 1);
        assert_eq!(
            Variant::StringName(long.clone()).check_engine_safe(),
            Ok(())
        );
        assert_eq!(
            Variant::Array(vec![Variant::NodePath(long.clone())]).check_engine_safe(),
            Err(EngineRefusal::NestedNameTooLong(MAX_NESTED_NAME_BYTES + 1))
        );
        assert_eq!(
            Variant::Dictionary(vec![(Variant::Nil, Variant::StringName(long))])
                .check_engine_safe(),
            Err(EngineRefusal::NestedNameTooLong(MAX_NESTED_NAME_BYTES + 1))
        );
    }

    /// The values of one call are bounded together: 64 arguments of 2048 names each were 64
    /// times the names one value may hold.
    #[test]
    fn the_values_of_one_call_are_bounded_together() {
        use alloc::string::ToString;
        let names =
            |n: usize| Variant::Array((0..n).map(|i| Variant::StringName(i.to_string())).collect());
        assert_eq!(names(MAX_NAMES).check_engine_safe(), Ok(()));
        assert_eq!(
            Variant::check_all_engine_safe(&[names(MAX_NAMES), names(1)]),
            Err(EngineRefusal::TooManyNames)
        );
        let half = Variant::Array(vec![Variant::Nil; MAX_ELEMENTS / 2 + 1]);
        assert_eq!(half.check_engine_safe(), Ok(()));
        assert_eq!(
            Variant::check_all_engine_safe(&[half.clone(), half]),
            Err(EngineRefusal::TooManyElements)
        );
        // Each value itself may be a long name (its caller's rule), as one value may.
        let long = Variant::StringName("n".repeat(MAX_NESTED_NAME_BYTES + 1));
        assert_eq!(
            Variant::check_all_engine_safe(&[long.clone(), long]),
            Ok(())
        );
    }

    /// Keys of one hash are compared whole: long keys count by their length.
    #[test]
    fn dictionaries_of_long_keys_are_bounded_by_their_keys_sizes() {
        let keyed = |n: usize, len: usize| {
            Variant::Dictionary(
                (0..n)
                    .map(|i| {
                        (
                            Variant::String(alloc::format!("{}{i}", "p".repeat(len))),
                            Variant::Nil,
                        )
                    })
                    .collect(),
            )
        };
        assert_eq!(keyed(1024, 0).check_engine_safe(), Ok(()));
        assert_eq!(
            keyed(2048, 16 << 10).check_engine_safe(),
            Err(EngineRefusal::DictionaryTooLarge(2048))
        );
        assert_eq!(
            keyed(64, 16 << 10).check_engine_safe(),
            Ok(()),
            "64 keys of 16 KiB: 64 x 64 x 257"
        );
        let array_keys = Variant::Dictionary(
            (0..1024)
                .map(|i| (Variant::Array(vec![Variant::Int(i); 64]), Variant::Nil))
                .collect(),
        );
        assert_eq!(
            array_keys.check_engine_safe(),
            Err(EngineRefusal::DictionaryTooLarge(1024))
        );
    }

    #[test]
    fn too_many_elements_are_refused() {
        let wide = Variant::Array(vec![Variant::Array(vec![Variant::Nil; MAX_ELEMENTS])]);
        assert_eq!(
            wide.check_engine_safe(),
            Err(EngineRefusal::TooManyElements)
        );
        let fits = Variant::Array(vec![Variant::Nil; MAX_ELEMENTS]);
        assert_eq!(fits.check_engine_safe(), Ok(()));
    }
}
