//! The name and path rules of a mod's sandbox, as typed reasons.
//!
//! A path a mod gives is relative, `/`-separated and made of names that every platform the game
//! ships on accepts: [`validate`] checks the whole path, [`check_name`] one name. Each refusal is
//! a [`PathRule`], so callers branch on the rule (WASI picks `ENAMETOOLONG` or `EINVAL` from it)
//! and never on a message's text.

/// The longest path a mod may give, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// The longest single name in a path, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// Which rule a refused path breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRule {
    /// The path is empty.
    Empty,
    /// The path is longer than [`MAX_PATH_BYTES`].
    PathTooLong,
    /// A name in the path is longer than [`MAX_NAME_BYTES`].
    NameTooLong,
    /// The path contains a NUL byte.
    NulByte,
    /// The path contains `\`.
    Backslash,
    /// The path starts with `/`.
    Absolute,
    /// The path contains `:` (a `res://`, `user://` or drive prefix).
    Colon,
    /// `//` or a trailing `/`.
    EmptySegment,
    /// A `.` or `..` segment.
    DotSegment,
    /// A control character or one of `* ? " < > |`.
    ForbiddenCharacter,
    /// An existing part of the path is a symlink.
    ThroughSymlink,
    /// A name Windows keeps for a device (`CON`, `NUL`, `COM1`, ... with or without an
    /// extension) or one ending in a space or a dot (Windows drops those: `a.` and `a` would be
    /// one file).
    ReservedName,
    /// A name WasGo keeps for the temporary files of `wasgo.file_write` (`.wasgo-tmp-...`).
    WasgoTemporary,
}

impl PathRule {
    /// Whether the rule is about length (WASI answers `ENAMETOOLONG` rather than `EINVAL`).
    pub fn is_length(self) -> bool {
        matches!(self, PathRule::PathTooLong | PathRule::NameTooLong)
    }
}

impl std::fmt::Display for PathRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathRule::Empty => "it is empty",
            PathRule::PathTooLong => "it is longer than 512 bytes",
            PathRule::NameTooLong => "a name in it is longer than 128 bytes",
            PathRule::NulByte => "it contains a NUL byte",
            PathRule::Backslash => "it contains a backslash; use `/`",
            PathRule::Absolute => "it is absolute; paths are relative to the mod's sandbox",
            PathRule::Colon => "it contains `:` (no `res://`, `user://` or drive prefixes)",
            PathRule::EmptySegment => "it has an empty segment (`//` or a trailing `/`)",
            PathRule::DotSegment => "it contains `.` or `..`",
            PathRule::ForbiddenCharacter => {
                "it contains a control character or one of * ? \" < > |"
            }
            PathRule::ThroughSymlink => "it goes through a symlink",
            PathRule::ReservedName => {
                "a name in it is one Windows keeps for a device (CON, PRN, AUX, NUL, COM1-9, LPT1-9, COM and LPT with a superscript 1-3) or ends in a space or a dot"
            }
            PathRule::WasgoTemporary => {
                "a name in it starts with `.wasgo-tmp-`, which WasGo keeps for the files it writes"
            }
        })
    }
}

/// Checks a mod-given path and returns its segments.
///
/// # Errors
/// The first [`PathRule`] the path breaks.
pub fn validate(path: &str) -> Result<Vec<&str>, PathRule> {
    if path.is_empty() {
        return Err(PathRule::Empty);
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(PathRule::PathTooLong);
    }
    if path.contains('\0') {
        return Err(PathRule::NulByte);
    }
    if path.contains('\\') {
        return Err(PathRule::Backslash);
    }
    if path.starts_with('/') {
        return Err(PathRule::Absolute);
    }
    if path.contains(':') {
        return Err(PathRule::Colon);
    }
    let segments: Vec<&str> = path.split('/').collect();
    for s in &segments {
        if s.is_empty() {
            return Err(PathRule::EmptySegment);
        }
        if *s == "." || *s == ".." {
            return Err(PathRule::DotSegment);
        }
        check_name(s)?;
    }
    Ok(segments)
}

/// The rules for one file or directory name (not `.` or `..`): at most [`MAX_NAME_BYTES`], no
/// NUL, `/`, `\`, `:`, control characters or `* ? " < > |`.
///
/// # Errors
/// The [`PathRule`] the name breaks.
pub fn check_name(name: &str) -> Result<(), PathRule> {
    if name.len() > MAX_NAME_BYTES {
        return Err(PathRule::NameTooLong);
    }
    if name.contains('\0') {
        return Err(PathRule::NulByte);
    }
    if name.contains('\\') {
        return Err(PathRule::Backslash);
    }
    if name.contains('/') {
        return Err(PathRule::EmptySegment);
    }
    if name.contains(':') {
        return Err(PathRule::Colon);
    }
    if name
        .chars()
        .any(|c| c.is_control() || "*?\"<>|".contains(c))
    {
        return Err(PathRule::ForbiddenCharacter);
    }
    if is_reserved_on_windows(name) {
        return Err(PathRule::ReservedName);
    }
    // A mod cannot make, rename to or open a name of WasGo's own temporary files.
    if name.starts_with(TEMP_PREFIX) {
        return Err(PathRule::WasgoTemporary);
    }
    Ok(())
}

/// The prefix of a `wasgo.file_write`'s temporary file: `.wasgo-tmp-<pid>-<n>-<random>`.
pub const TEMP_PREFIX: &str = ".wasgo-tmp-";

/// Whether Windows keeps `name` for a device or would change it (a sandbox's names work the same
/// on every platform a game ships to: `file_read("CON")` would read the console there).
fn is_reserved_on_windows(name: &str) -> bool {
    if name.ends_with(' ') || name.ends_with('.') {
        return true;
    }
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            // COM1–COM9 and LPT1–LPT9, and the superscript ¹ ² ³ forms Windows also keeps.
            let port = upper
                .strip_prefix("COM")
                .or_else(|| upper.strip_prefix("LPT"));
            matches!(
                port,
                Some(
                    "1" | "2"
                        | "3"
                        | "4"
                        | "5"
                        | "6"
                        | "7"
                        | "8"
                        | "9"
                        | "\u{b9}"
                        | "\u{b2}"
                        | "\u{b3}"
                )
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused_with_their_rule() {
        for (p, rule) in [
            ("", PathRule::Empty),
            ("/etc/passwd", PathRule::Absolute),
            ("../x", PathRule::DotSegment),
            ("a/../../x", PathRule::DotSegment),
            ("./x", PathRule::DotSegment),
            ("a//b", PathRule::EmptySegment),
            ("a/", PathRule::EmptySegment),
            ("res://x", PathRule::Colon),
            ("user://x", PathRule::Colon),
            ("C:x", PathRule::Colon),
            ("a\\b", PathRule::Backslash),
            ("a\0b", PathRule::NulByte),
            ("a|b", PathRule::ForbiddenCharacter),
            ("CON", PathRule::ReservedName),
            ("saves/nul.txt", PathRule::ReservedName),
            ("Com1", PathRule::ReservedName),
            ("lpt9.log", PathRule::ReservedName),
            ("COM\u{b9}", PathRule::ReservedName),
            ("com\u{b2}.txt", PathRule::ReservedName),
            ("saves/LPT\u{b3}", PathRule::ReservedName),
            (".wasgo-tmp-1-2", PathRule::WasgoTemporary),
            ("saves/.wasgo-tmp-", PathRule::WasgoTemporary),
            ("a.", PathRule::ReservedName),
            ("a ", PathRule::ReservedName),
        ] {
            assert_eq!(validate(p), Err(rule), "{p:?}");
        }
        assert_eq!(validate(&"a".repeat(129)), Err(PathRule::NameTooLong));
        assert_eq!(validate(&"a/".repeat(300)), Err(PathRule::PathTooLong));
        assert_eq!(
            validate("saves/slot1.json").unwrap(),
            vec!["saves", "slot1.json"]
        );
        for fine in [
            "console.txt",
            "com10",
            "com0",
            "lpt",
            "nul_saves",
            "a.b",
            "conf",
            "com\u{b9}\u{b9}",
            "lpt\u{2074}",
        ] {
            assert!(validate(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn only_length_rules_are_length_rules() {
        assert!(PathRule::NameTooLong.is_length());
        assert!(PathRule::PathTooLong.is_length());
        assert!(!PathRule::ForbiddenCharacter.is_length());
    }
}
