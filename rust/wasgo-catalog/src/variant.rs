//! Godot's Variant type numbers, as the wire format uses them (the low 8 bits, byte 0, of each value's
//! header, see `docs/variant-encoding.md`). The codec (`wasgo-variant`) and every SDK's
//! constants are built from this one table.

/// One Variant type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantType {
    /// `SCREAMING_SNAKE` name for the generated constants (`NIL`, `VECTOR2`, ...).
    pub name: &'static str,
    /// Godot's `Variant::Type` number.
    pub tag: u32,
    /// Whether a value of this type may cross the mod boundary (Callables, Signals and RIDs
    /// may not).
    pub crosses: bool,
}

macro_rules! variant_types {
    ($($name:ident = $tag:literal $(, $refused:ident)?;)*) => {
        /// The tags as constants, for code (`variant_type::VECTOR2`).
        pub mod variant_type {
            $(pub const $name: u32 = $tag;)*
        }

        /// Every Variant type, in tag order.
        pub static VARIANT_TYPES: &[VariantType] = &[
            $(VariantType { name: stringify!($name), tag: $tag, crosses: variant_types!(@crosses $($refused)?) },)*
        ];
    };
    (@crosses refused) => { false };
    (@crosses) => { true };
}

variant_types! {
    NIL = 0;
    BOOL = 1;
    INT = 2;
    FLOAT = 3;
    STRING = 4;
    VECTOR2 = 5;
    VECTOR2I = 6;
    RECT2 = 7;
    RECT2I = 8;
    VECTOR3 = 9;
    VECTOR3I = 10;
    TRANSFORM2D = 11;
    VECTOR4 = 12;
    VECTOR4I = 13;
    PLANE = 14;
    QUATERNION = 15;
    AABB = 16;
    BASIS = 17;
    TRANSFORM3D = 18;
    PROJECTION = 19;
    COLOR = 20;
    STRING_NAME = 21;
    NODE_PATH = 22;
    RID = 23, refused;
    OBJECT = 24;
    CALLABLE = 25, refused;
    SIGNAL = 26, refused;
    DICTIONARY = 27;
    ARRAY = 28;
    PACKED_BYTE_ARRAY = 29;
    PACKED_INT32_ARRAY = 30;
    PACKED_INT64_ARRAY = 31;
    PACKED_FLOAT32_ARRAY = 32;
    PACKED_FLOAT64_ARRAY = 33;
    PACKED_STRING_ARRAY = 34;
    PACKED_VECTOR2_ARRAY = 35;
    PACKED_VECTOR3_ARRAY = 36;
    PACKED_COLOR_ARRAY = 37;
    PACKED_VECTOR4_ARRAY = 38;
}

/// The Variant type with number `tag`.
pub fn find_variant_type(tag: u32) -> Option<&'static VariantType> {
    VARIANT_TYPES.iter().find(|t| t.tag == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_godots_numbers_in_order_without_gaps() {
        for (i, t) in VARIANT_TYPES.iter().enumerate() {
            assert_eq!(t.tag, i as u32, "{}", t.name);
        }
        assert_eq!(
            find_variant_type(variant_type::VECTOR2).unwrap().name,
            "VECTOR2"
        );
        assert_eq!(variant_type::PACKED_VECTOR4_ARRAY, 38);
    }

    #[test]
    fn code_and_signals_do_not_cross() {
        let refused: alloc::vec::Vec<_> = VARIANT_TYPES
            .iter()
            .filter(|t| !t.crosses)
            .map(|t| t.name)
            .collect();
        assert_eq!(refused, ["RID", "CALLABLE", "SIGNAL"]);
    }
}
