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
        let mut elements = 0usize;
        let mut dictionary_work = 0usize;
        let text = |t: &str| match t.len() {
            n if n > MAX_TEXT_BYTES => Err(EngineRefusal::TextTooLong(n)),
            _ => Ok(()),
        };
        // An explicit stack: the depth is capped by decoding, but a value built in code is not.
        let mut pending: alloc::vec::Vec<&Variant> = alloc::vec![self];
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
                Variant::String(t) | Variant::StringName(t) | Variant::NodePath(t) => text(t)?,
                Variant::PackedStringArray(items) => items.iter().try_for_each(|t| text(t))?,
                Variant::Dictionary(entries) => {
                    elements = elements.saturating_add(entries.len());
                    if elements > MAX_ELEMENTS {
                        return Err(EngineRefusal::TooManyElements);
                    }
                    let work = entries.len().saturating_mul(entries.len());
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
