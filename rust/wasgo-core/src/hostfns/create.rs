//! Objects and assets a mod creates: `wasgo.new`, the `*_from_bytes` functions and
//! `load_resource`. Each reads the mod's memory, builds an [`ObjectOp`] for the
//! game's object host and returns the new object's handle or the failure's code. The game owns
//! the policy that needs Godot (which classes are instantiable, the per-mod cap, ownership, the
//! decoders); the core checks what it can without the engine: a class name that is not a
//! Godot identifier is refused here, before the game is asked.

use super::generated::CreateFunctions;
use super::{int_reply, Caller, Host};
use crate::guest;
use crate::object_calls as objects;
use crate::objects::{AssetKind, ObjectOp};
use wasgo_catalog::ErrorCode;

/// The longest class name `wasgo.new` accepts (Godot's class names are far shorter).
pub(crate) const MAX_CLASS_NAME: usize = 128;

impl CreateFunctions for Host {
    fn new(c: &mut Caller<'_>, class_ptr: i32, class_len: i32) -> wasmtime::Result<i32> {
        const F: &str = "wasgo.new";
        let class = guest::read_str(c, F, class_ptr, class_len)?;
        if let Err(why) = check_class_name(&class) {
            return Ok(c
                .data_mut()
                .fail(ErrorCode::InvalidArgument.code(), format!("`{F}`: {why}")));
        }
        int_reply(objects::run(c, ObjectOp::New { class })?)
    }

    fn texture_from_bytes(
        c: &mut Caller<'_>,
        data_ptr: i32,
        data_len: i32,
    ) -> wasmtime::Result<i32> {
        asset(c, AssetKind::Texture, data_ptr, data_len)
    }

    fn audio_from_bytes(c: &mut Caller<'_>, data_ptr: i32, data_len: i32) -> wasmtime::Result<i32> {
        asset(c, AssetKind::Audio, data_ptr, data_len)
    }

    fn font_from_bytes(c: &mut Caller<'_>, data_ptr: i32, data_len: i32) -> wasmtime::Result<i32> {
        asset(c, AssetKind::Font, data_ptr, data_len)
    }

    fn load_resource(c: &mut Caller<'_>, path_ptr: i32, path_len: i32) -> wasmtime::Result<i32> {
        let path = guest::read_str(c, "wasgo.load_resource", path_ptr, path_len)?;
        int_reply(objects::run(c, ObjectOp::LoadResource { path })?)
    }
}

/// A resource made from the mod's bytes (the game judges and decodes them).
fn asset(c: &mut Caller<'_>, kind: AssetKind, ptr: i32, len: i32) -> wasmtime::Result<i32> {
    let bytes = guest::read_bytes(c, kind.function(), ptr, len)?;
    int_reply(objects::run(c, ObjectOp::Asset { kind, bytes })?)
}

/// Whether `class` can be a Godot class name: 1 to [`MAX_CLASS_NAME`] ASCII letters, digits
/// and underscores, not starting with a digit.
///
/// # Errors
/// What is wrong with it, saying what to pass instead.
pub(crate) fn check_class_name(class: &str) -> Result<(), String> {
    let valid = !class.is_empty()
        && class.len() <= MAX_CLASS_NAME
        && !class.starts_with(|c: char| c.is_ascii_digit())
        && class.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        let shown: String = class.chars().take(40).collect();
        Err(format!(
            "`{shown}` is not a class name; pass a Godot class name such as `Sprite2D` (letters, digits and `_`, at most {MAX_CLASS_NAME} bytes)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_class_name;

    #[test]
    fn class_names_must_be_identifiers() {
        for ok in ["Sprite2D", "Node", "CPUParticles2D", "_Private"] {
            assert!(check_class_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "2D", "Sprite 2D", "res://x.gd", "Node\0", "Ünïcode"] {
            let e = check_class_name(bad).unwrap_err();
            assert!(e.contains("is not a class name"), "{bad}: {e}");
        }
        assert!(check_class_name(&"A".repeat(129)).is_err());
        assert!(check_class_name(&"A".repeat(128)).is_ok());
    }
}
