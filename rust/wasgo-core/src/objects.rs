//! The `wasgo` functions that reach Godot objects: handles, properties, methods, signals, events.
//!
//! The core checks the mod's memory and decodes what it passes (names as UTF-8, values as
//! [`WireVariant`] bytes), then hands an [`ObjectOp`] to the game's [`ObjectHost`] — the Godot glue
//! — on the main thread (through the [`MainThreadBridge`](crate::bridge::MainThreadBridge) when
//! `main` calls from its worker). The host holds the per-instance handle table, checks the
//! allowlist and talks to Godot. A denied member traps the mod like an unexposed import.
//!
//! This file holds the service side (the operations, replies and the [`ObjectHost`] trait); the
//! host-function side that reads the mod's memory is [`object_calls`](crate::object_calls).

use crate::level::SafetyLevel;
use crate::variant::WireVariant;

pub use crate::ids::InstanceKey;

/// One request a mod makes of the game's objects.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectOp {
    /// Handle of the mod's own node.
    SelfNode,
    /// The node at `path` relative to handle `from` (0 = the mod's own node).
    GetNode {
        from: i32,
        path: String,
    },
    Singleton {
        name: String,
    },
    Release {
        handle: i32,
    },
    Get {
        handle: i32,
        name: String,
    },
    Set {
        handle: i32,
        name: String,
        value: WireVariant,
    },
    Call {
        handle: i32,
        method: String,
        args: Vec<WireVariant>,
    },
    Connect {
        handle: i32,
        signal: String,
        callback_id: i32,
    },
    /// The arguments of the signal whose `native_callback` runs now.
    CallbackArgs,
    /// The callback ids of the instance's signal connections that are still live (the object
    /// is there and the game did not disconnect them), as a `PackedInt32Array`: a host that
    /// keeps a slot per connection (Go-js) gives back the slots of the others.
    LiveCallbacks,
    /// `mod_event(name, payload)` on the mod's node.
    Emit {
        name: String,
        payload: WireVariant,
    },
    /// A new object of an instantiable class, owned by the instance (`wasgo.new`).
    New {
        class: String,
    },
    /// A resource made from the mod's bytes, owned by the instance (`wasgo.*_from_bytes`).
    Asset {
        kind: AssetKind,
        bytes: Vec<u8>,
    },
    /// A read-only `res://` resource from the folders the game lists (`wasgo.load_resource`).
    LoadResource {
        path: String,
    },
}

/// What kind of resource a mod makes from bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    /// PNG, JPEG, WebP or SVG, as an `ImageTexture`.
    Texture,
    /// Ogg Vorbis, WAV or MP3, as an `AudioStream`.
    Audio,
    /// TTF or OTF, as a `FontFile`.
    Font,
}

impl AssetKind {
    /// The `wasgo` function that makes this kind.
    pub fn function(self) -> &'static str {
        match self {
            AssetKind::Texture => "wasgo.texture_from_bytes",
            AssetKind::Audio => "wasgo.audio_from_bytes",
            AssetKind::Font => "wasgo.font_from_bytes",
        }
    }
}

/// What an [`ObjectOp`] gives back.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectReply {
    /// A handle, or 0 for "done".
    Int(i32),
    Value(WireVariant),
}

/// Why an [`ObjectOp`] failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectError {
    /// A negative ABI code (-1 not found, -3 invalid argument, -4 invalid handle, -5 the Godot
    /// call failed) with its message for `wasgo.last_error`.
    Failed { code: i32, message: String },
    /// The member is not reachable at this level: the mod traps like at an unexposed import.
    /// `member` reads like `Node.set_script` or `OS` (a singleton).
    Denied { member: String },
    /// The mod passed something malformed (e.g. a name that is not UTF-8): it traps with this
    /// message.
    Trap(String),
}

impl crate::bridge::QueuedFailure for ObjectError {
    fn must_surface(&self) -> bool {
        matches!(self, ObjectError::Denied { .. } | ObjectError::Trap(_))
    }
}

impl ObjectError {
    pub fn failed(code: i32, message: impl Into<String>) -> ObjectError {
        ObjectError::Failed {
            code,
            message: message.into(),
        }
    }

    /// -3 for a name or path of `len` bytes over [`MAX_NAME_BYTES`].
    pub fn name_too_long(function: &str, what: &str, len: usize) -> ObjectError {
        ObjectError::failed(
            wasgo_catalog::ErrorCode::InvalidArgument.code(),
            format!("`{function}`: the {what} is {len} bytes long, over WasGo's limit of {MAX_NAME_BYTES} bytes for names and paths; pass a shorter one"),
        )
    }
}

/// The longest class, member, signal, singleton or event name and node or resource path a mod
/// may pass (Godot parses and hashes each one on the main thread: an 8 MiB node path took 250
/// ms a call).
pub const MAX_NAME_BYTES: usize = 4096;

impl ObjectOp {
    /// The -3 for a name, path or text value in this call that holds a character WasGo does not
    /// pass Godot ([`hidden_text_refusal`]), if any. Checked below level 3.
    pub fn hidden_text(&self) -> Option<ObjectError> {
        let (function, what, name) = self.named()?;
        if let Some(refused) = hidden_text_refusal(name, true, || format!("`{function}`'s {what}"))
        {
            return Some(refused);
        }
        match self {
            ObjectOp::Set { value, name, .. } => {
                hidden_value_refusal(value, || format!("`wasgo.set`'s value for `{name}`"))
            }
            ObjectOp::Call { args, method, .. } => args.iter().enumerate().find_map(|(i, a)| {
                hidden_value_refusal(a, || {
                    format!("argument {} of `wasgo.call` `{method}`", i + 1)
                })
            }),
            _ => None,
        }
    }

    /// The -3 for a name or path in this call longer than [`MAX_NAME_BYTES`], if any.
    pub fn oversized(&self) -> Option<ObjectError> {
        let (function, what, text) = self.named()?;
        oversized_text(function, what, text).or_else(|| self.oversized_value())
    }

    /// The name or path this call passes, with the function and what the name is, for messages
    /// (`None` for the calls that pass none).
    fn named(&self) -> Option<(&'static str, &'static str, &str)> {
        Some(match self {
            ObjectOp::GetNode { path, .. } => ("wasgo.get_node", "path", path),
            ObjectOp::Singleton { name } => ("wasgo.singleton", "name", name),
            ObjectOp::Get { name, .. } => ("wasgo.get", "property name", name),
            ObjectOp::Set { name, .. } => ("wasgo.set", "property name", name),
            ObjectOp::Call { method, .. } => ("wasgo.call", "method name", method),
            ObjectOp::Connect { signal, .. } => ("wasgo.connect", "signal name", signal),
            ObjectOp::Emit { name, .. } => ("wasgo.emit", "event name", name),
            ObjectOp::New { class } => ("wasgo.new", "class name", class),
            ObjectOp::LoadResource { path } => ("wasgo.load_resource", "path", path),
            ObjectOp::SelfNode
            | ObjectOp::Release { .. }
            | ObjectOp::CallbackArgs
            | ObjectOp::LiveCallbacks
            | ObjectOp::Asset { .. } => return None,
        })
    }

    /// The -3 for a StringName or NodePath value (a property's value, a method's argument)
    /// longer than [`MAX_NAME_BYTES`]: Godot interns or parses it on the main thread and often
    /// echoes it into its log (`AnimatedSprite2D.animation` kept a 1 MiB name, 4 MiB in Godot,
    /// and logged it whole). Texts (`String`) are bounded by the allowlist's ranges instead.
    fn oversized_value(&self) -> Option<ObjectError> {
        let (function, values) = match self {
            ObjectOp::Set { value, .. } => ("wasgo.set", std::slice::from_ref(value)),
            ObjectOp::Call { args, .. } => ("wasgo.call", args.as_slice()),
            _ => return None,
        };
        values.iter().find_map(|v| match v {
            WireVariant::StringName(text) => oversized_text(function, "StringName value", text),
            WireVariant::NodePath(text) => oversized_text(function, "NodePath value", text),
            _ => None,
        })
    }
}

/// The -3 for a name or path (the `what` of a call to `function`) over [`MAX_NAME_BYTES`] or,
/// below level 3, holding a character names may not: the two checks [`ObjectOp::oversized`] and
/// [`ObjectOp::hidden_text`] make of an op's name, for a caller holding the name outside an
/// [`ObjectOp`].
pub fn name_refusal(
    function: &str,
    what: &str,
    text: &str,
    level: SafetyLevel,
) -> Option<ObjectError> {
    oversized_text(function, what, text).or_else(|| {
        (level != SafetyLevel::Unsafe)
            .then(|| hidden_text_refusal(text, true, || format!("`{function}`'s {what}")))?
    })
}

/// The -3 for a text a mod passes Godot with a character [`crate::text::refused_char`] refuses:
/// `what` names where it is (`wasgo.call`'s argument 2, `wasgo.get_node`'s path), made only
/// for a refusal. Below level 3 (the caller decides).
pub fn hidden_text_refusal(
    text: &str,
    name: bool,
    what: impl FnOnce() -> String,
) -> Option<ObjectError> {
    let c = crate::text::refused_char(text, name)?;
    let rule = if name {
        "names and paths a mod passes Godot take visible characters only"
    } else {
        "texts a mod passes Godot take no control character but tab and line breaks"
    };
    Some(ObjectError::failed(
        wasgo_catalog::ErrorCode::InvalidArgument.code(),
        format!(
            "{} refused: it holds the character U+{:04X}; {rule} (Godot copies them into its log as they are, where an escape sequence would reach the terminal or the log file)",
            what(),
            u32::from(c)
        ),
    ))
}

/// [`hidden_text_refusal`] for a value a mod sets or passes: a StringName or NodePath is a name,
/// a String a text; other values (numbers, vectors, arrays) are not looked into.
pub fn hidden_value_refusal(
    value: &WireVariant,
    what: impl FnOnce() -> String,
) -> Option<ObjectError> {
    match value {
        WireVariant::StringName(s) | WireVariant::NodePath(s) => hidden_text_refusal(s, true, what),
        WireVariant::String(s) => hidden_text_refusal(s, false, what),
        _ => None,
    }
}

/// The -3 for a text value (String, StringName, NodePath) of more than [`MAX_NAME_BYTES`]
/// characters set to a member the allowlist gives no `len` range (below level 3): Godot keeps
/// and may log the whole text (`AnimatedSprite2D.animation` kept a megabyte name per sprite and
/// logged it at every set). Members that take long texts (`Label.text`) have ranges. `what`
/// names the member (`AnimatedSprite2D.animation`), made only for a refusal.
pub fn unranged_text_refusal(
    value: &WireVariant,
    what: impl FnOnce() -> String,
) -> Option<ObjectError> {
    let (WireVariant::String(s) | WireVariant::StringName(s) | WireVariant::NodePath(s)) = value
    else {
        return None;
    };
    if s.len() <= MAX_NAME_BYTES {
        return None;
    }
    let chars = s.chars().count();
    (chars > MAX_NAME_BYTES).then(|| ObjectError::Failed {
        code: wasgo_catalog::ErrorCode::InvalidArgument.code(),
        message: format!(
            "`{}` refused: a text of {chars} characters, and a member without a `len` range in the allowlist takes at most {MAX_NAME_BYTES}: pass a shorter text, or have the game give the member a range in its allowlist file",
            what()
        ),
    })
}

/// The -3 for `text` (the `what` of a call to `function`) when it is longer than
/// [`MAX_NAME_BYTES`]: the check [`ObjectOp::oversized`] makes, for a caller holding the text
/// outside an [`ObjectOp`].
pub fn oversized_text(function: &str, what: &str, text: &str) -> Option<ObjectError> {
    (text.len() > MAX_NAME_BYTES).then(|| ObjectError::name_too_long(function, what, text.len()))
}

/// The game side of the object functions; implemented by the Godot glue. `run` is only ever
/// called on the main thread.
pub trait ObjectHost: Send + Sync {
    fn run(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        op: ObjectOp,
    ) -> Result<ObjectReply, ObjectError>;

    /// `ObjectOp::Set` without owned arguments: the hot path of `set` and the typed fast paths,
    /// used when the mod calls from the main thread. `name` is the mod's bytes, not yet checked
    /// to be UTF-8 (a host that caches names compares bytes and checks only new ones).
    ///
    /// The error is boxed so that the result is one pointer, returned in a register: a 32-byte
    /// `Result` went back through the stack, and reading its tag stalled the caller on every
    /// call (BENCHMARKS.md, "Seventh pass"). Errors are the rare path.
    fn set_property(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
        value: &WireVariant,
    ) -> Result<(), Box<ObjectError>> {
        let name = utf8_name(name)?;
        self.run(
            key,
            level,
            ObjectOp::Set {
                handle,
                name: name.into(),
                value: value.clone(),
            },
        )
        .map(|_| ())
        .map_err(Box::new)
    }

    /// `ObjectOp::Get` without owned arguments (see [`ObjectHost::set_property`]).
    fn get_property(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        handle: i32,
        name: &[u8],
    ) -> Result<WireVariant, ObjectError> {
        let name = utf8_name(name)?;
        match self.run(
            key,
            level,
            ObjectOp::Get {
                handle,
                name: name.into(),
            },
        )? {
            ObjectReply::Value(v) => Ok(v),
            ObjectReply::Int(i) => Ok(WireVariant::Int(i as i64)),
        }
    }

    /// A number that changes whenever a node path may name another node than before (the
    /// scene tree changed, a node was renamed, a mod's reach changed) or a handle of any
    /// instance may have been released; 0 when the host makes no such promise. Called from any
    /// thread (an atomic load, no Godot): the instance keeps `get_node` answers given under a
    /// stamp and answers the same question itself while the stamp stays the same
    /// ([`crate::found_nodes`]).
    fn lookup_stamp(&self) -> u64 {
        0
    }

    /// `ObjectOp::GetNode` with the [`ObjectHost::lookup_stamp`] its answer holds under (0:
    /// the answer may not be kept, e.g. for a node found below a node outside the scene tree,
    /// whose changes the stamp does not follow). Main thread, like [`ObjectHost::run`].
    fn get_node(
        &self,
        key: InstanceKey,
        level: SafetyLevel,
        from: i32,
        path: &str,
    ) -> Result<FoundNode, ObjectError> {
        let op = ObjectOp::GetNode {
            from,
            path: path.into(),
        };
        let handle = match self.run(key, level, op)? {
            ObjectReply::Int(handle) => handle,
            ObjectReply::Value(_) => 0,
        };
        Ok(FoundNode {
            handle,
            holds_under: 0,
        })
    }
}

/// What [`ObjectHost::get_node`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundNode {
    /// The node's handle.
    pub handle: i32,
    /// The lookup stamp the answer holds under; 0: it may not be kept.
    pub holds_under: u64,
}

/// Whether two member names are the same bytes, without a call to libc's `bcmp` (which a slice
/// `==` becomes): names are short, and the fast paths compare one per call (measured: the
/// `bcmp` call was about 5% of a `set_vec2`, BENCHMARKS.md "Sixth pass").
#[inline]
pub fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut a_words = a.chunks_exact(8);
    let mut b_words = b.chunks_exact(8);
    for (x, y) in (&mut a_words).zip(&mut b_words) {
        let x = u64::from_ne_bytes(x.try_into().expect("8 bytes"));
        let y = u64::from_ne_bytes(y.try_into().expect("8 bytes"));
        if x != y {
            return false;
        }
    }
    a_words
        .remainder()
        .iter()
        .zip(b_words.remainder())
        .all(|(x, y)| x == y)
}

/// A member name kept by a per-handle cache, compared with [`KeptName::is`] against the bytes a
/// mod passes on every call. A name of up to [`KeptName::INLINE`] bytes (all of Godot's
/// built-in property names but a handful) is kept inside the value itself, so the comparison
/// reads no other memory than the cache entry: with the name in its own heap allocation, the
/// load of its bytes was the slowest instruction of a batched pass over 1000 nodes (each node's
/// entry is cold by the time its turn comes; BENCHMARKS.md, "Thirtieth pass").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptName {
    /// `bytes[..len]` is the name.
    Inline {
        len: u8,
        bytes: [u8; KeptName::INLINE],
    },
    /// A longer name.
    Heap(Box<[u8]>),
}

impl KeptName {
    /// The longest name kept inline.
    pub const INLINE: usize = 30;

    /// Keeps `name`.
    pub fn new(name: &[u8]) -> KeptName {
        if name.len() <= Self::INLINE {
            let mut bytes = [0; Self::INLINE];
            bytes[..name.len()].copy_from_slice(name);
            KeptName::Inline {
                len: name.len() as u8,
                bytes,
            }
        } else {
            KeptName::Heap(name.into())
        }
    }

    /// The name's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            KeptName::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeptName::Heap(name) => name,
        }
    }

    /// Whether this is the name `name`.
    #[inline]
    pub fn is(&self, name: &[u8]) -> bool {
        same_name(self.as_bytes(), name)
    }
}

/// A member name as text, or the trap for one that is not UTF-8.
pub fn utf8_name(name: &[u8]) -> Result<&str, ObjectError> {
    std::str::from_utf8(name).map_err(|e| {
        ObjectError::Trap(format!(
            "a property name that is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::{same_name, KeptName, ObjectOp, MAX_NAME_BYTES};
    use crate::variant::WireVariant;

    #[test]
    fn a_long_text_for_a_member_without_a_range_is_refused() {
        let what = || "AnimatedSprite2D.animation".to_string();
        let long = "é".repeat(MAX_NAME_BYTES + 1);
        for v in [
            WireVariant::String(long.clone()),
            WireVariant::StringName(long.clone()),
            WireVariant::NodePath(long.clone()),
        ] {
            let e = super::unranged_text_refusal(&v, what).expect("refused");
            assert!(
                matches!(&e, super::ObjectError::Failed { code: -3, message } if message.contains("AnimatedSprite2D.animation") && message.contains("4097 characters")),
                "{e:?}"
            );
        }
        // Counted in characters: 4096 two-byte characters pass.
        let fits = WireVariant::String("é".repeat(MAX_NAME_BYTES));
        assert!(super::unranged_text_refusal(&fits, what).is_none());
        assert!(super::unranged_text_refusal(&WireVariant::Int(5), what).is_none());
    }

    #[test]
    fn a_name_or_text_with_a_character_godot_would_log_as_it_is_is_refused() {
        let esc = "x\u{1b}[2J".to_string();
        let call = |args| ObjectOp::Call {
            handle: 1,
            method: "is_action_pressed".into(),
            args,
        };
        for (refused, names) in [
            (
                call(vec![WireVariant::StringName(esc.clone())]),
                "argument 1 of `wasgo.call` `is_action_pressed`",
            ),
            (
                call(vec![WireVariant::Int(3), WireVariant::String(esc.clone())]),
                "argument 2",
            ),
            (
                call(vec![WireVariant::StringName("a\nb".into())]),
                "argument 1",
            ),
            (
                ObjectOp::Set {
                    handle: 1,
                    name: "animation".into(),
                    value: WireVariant::NodePath("a\u{202e}b".into()),
                },
                "`wasgo.set`'s value for `animation`",
            ),
            (
                ObjectOp::Call {
                    handle: 1,
                    method: "is_action\u{1b}".into(),
                    args: vec![],
                },
                "`wasgo.call`'s method name",
            ),
            (
                ObjectOp::GetNode {
                    from: 0,
                    path: "../\u{7}".into(),
                },
                "`wasgo.get_node`'s path",
            ),
            (
                ObjectOp::Emit {
                    name: "ev\rx".into(),
                    payload: WireVariant::Nil,
                },
                "`wasgo.emit`'s event name",
            ),
        ] {
            let e = refused.hidden_text().expect("refused");
            assert!(
                matches!(&e, super::ObjectError::Failed { code: -3, message } if message.contains(names) && message.contains(" refused: it holds the character U+")),
                "{e:?}"
            );
        }
        for allowed in [
            call(vec![WireVariant::StringName("ui_accept".into())]),
            // A text keeps its line breaks and tabs (a label's lines, a file's CRLF).
            ObjectOp::Set {
                handle: 1,
                name: "text".into(),
                value: WireVariant::String("two\r\nlines\tand a tab".into()),
            },
            call(vec![WireVariant::Array(vec![WireVariant::Int(1)])]),
            ObjectOp::SelfNode,
        ] {
            assert!(allowed.hidden_text().is_none());
        }
    }

    #[test]
    fn a_string_name_or_node_path_value_over_the_name_cap_is_refused() {
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        let ok = "a".repeat(MAX_NAME_BYTES);
        let set = |value| ObjectOp::Set {
            handle: 1,
            name: "animation".into(),
            value,
        };
        let call = |args| ObjectOp::Call {
            handle: 1,
            method: "tween_property".into(),
            args,
        };
        for refused in [
            set(WireVariant::StringName(long.clone())),
            set(WireVariant::NodePath(long.clone())),
            call(vec![
                WireVariant::Int(1),
                WireVariant::NodePath(long.clone()),
            ]),
        ] {
            let e = refused.oversized().expect("refused");
            assert!(
                matches!(&e, super::ObjectError::Failed { code: -3, message } if message.contains("value")),
                "{e:?}"
            );
        }
        for allowed in [
            set(WireVariant::StringName(ok.clone())),
            call(vec![WireVariant::NodePath(ok.clone())]),
            // A text is bounded by the allowlist's ranges, not here.
            set(WireVariant::String(long.clone())),
        ] {
            assert!(allowed.oversized().is_none());
        }
    }

    #[test]
    fn a_kept_name_is_itself_and_nothing_else_inline_or_not() {
        for n in [0, 1, 7, 8, 9, 16, 29, 30, 31, 64] {
            let name: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let kept = KeptName::new(&name);
            assert_eq!(
                matches!(kept, KeptName::Inline { .. }),
                n <= KeptName::INLINE,
                "length {n}"
            );
            assert_eq!(kept.as_bytes(), &name[..]);
            assert!(kept.is(&name), "length {n}");
            let mut longer = name.clone();
            longer.push(b'x');
            assert!(!kept.is(&longer), "length {n} against one byte more");
            assert!(
                !KeptName::new(&longer).is(&name),
                "length {} against one less",
                n + 1
            );
            for i in 0..n {
                let mut other = name.clone();
                other[i] ^= 1;
                assert!(!kept.is(&other), "length {n}, byte {i} differs");
            }
        }
        // Padding is not part of the name: a name is never its prefix padded with zeros.
        assert!(!KeptName::new(b"pos").is(b"pos\0"));
    }

    #[test]
    fn names_compare_by_every_byte_at_every_length() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            assert!(same_name(&a, &a.clone()), "length {n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 1;
                assert!(!same_name(&a, &b), "length {n}, byte {i} differs");
            }
            let mut longer = a.clone();
            longer.push(b'x');
            assert!(!same_name(&a, &longer));
            assert!(!same_name(&longer, &a));
        }
        assert!(same_name(b"position", b"position"));
        assert!(!same_name(b"position", b"rotation"));
    }
}
